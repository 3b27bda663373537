//! What rustpush's codec needs from the rest of rustpush, written here (ours): its error
//! type, the two reader helpers it uses (as rustpush's util.rs `BinaryReadExt` defines
//! them: read one byte, read n bytes), a stand-in for the StatusKit `Channel` protobuf
//! (only named by `APSMessage`), and the observer the two added lines call.

use std::cell::RefCell;
use std::io::{self, Read};

#[derive(Debug)]
#[allow(dead_code)]
pub enum PushError {
    Io(io::Error),
}

impl From<io::Error> for PushError {
    fn from(e: io::Error) -> Self {
        PushError::Io(e)
    }
}

impl std::fmt::Display for PushError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

pub trait BinaryReadExt: Read {
    fn read_u8_exact(&mut self) -> io::Result<u8> {
        let mut buf = [0u8; 1];
        self.read_exact(&mut buf)?;
        Ok(buf[0])
    }
    fn read_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.read_exact(&mut buf)?;
        Ok(buf)
    }
}

impl<R: Read + ?Sized> BinaryReadExt for R {}

// The StatusKit messages rustpush's src/statuskit.proto declares (package statuskitp), as
// prost types with the same field numbers: what APSMessage names (Channel) and what the
// client's 0x1D carries (SubscribeToChannel), encoded and decoded by prost.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Channel {
    #[prost(bytes = "vec", tag = "1")]
    pub id: Vec<u8>,
    #[prost(uint64, tag = "2")]
    pub last_msg_ns: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SubscribedTopic {
    #[prost(string, tag = "1")]
    pub topic: String,
    #[prost(message, repeated, tag = "2")]
    pub channels: Vec<Channel>,
    #[prost(message, repeated, tag = "3")]
    pub unsub_channels: Vec<Channel>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SubscribeToChannel {
    #[prost(uint32, tag = "1")]
    pub unk1: u32,
    #[prost(message, repeated, tag = "2")]
    pub topics: Vec<SubscribedTopic>,
    #[prost(bool, optional, tag = "3")]
    pub replace: Option<bool>,
}

/// What rustpush's `read_attr` read, in order: an attribute's tag byte, a value index.
#[derive(Debug, Clone, Copy)]
pub enum Seen {
    Tag(u8),
    Index(u64),
}

thread_local! {
    pub static SEEN: RefCell<Vec<Seen>> = const { RefCell::new(Vec::new()) };
}

pub fn oracle_saw_tag(t: u8) {
    SEEN.with(|s| s.borrow_mut().push(Seen::Tag(t)));
}

pub fn oracle_saw_index(i: u64) {
    SEEN.with(|s| s.borrow_mut().push(Seen::Index(i)));
}

pub fn take_seen() -> Vec<Seen> {
    SEEN.with(|s| std::mem::take(&mut *s.borrow_mut()))
}

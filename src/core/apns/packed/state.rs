//! Per-connection packed state: the two directions' caches, updated in capture order on the
//! first pass, and per message the record of what each cache lookup resolved to, so that
//! any later pass (or a GUI click on any frame, in any order) decodes the message exactly
//! as the first pass did.
//!
//! Memory: a record holds one [`Res`] (≤ 32 bytes) per cache lookup or insertion of its
//! message, and the entries its lookups found (shared with the caches, never copied); at
//! most [`MAX_RECORDED`] of them per connection, after which later messages are decoded on
//! the first pass but not recorded ([`Conn::capped`]; later passes report it).

use std::collections::HashMap;

use super::cache::{KeyCache, ValueCache, ValueLookup, DEFAULT_VALUE_CACHE_SIZE, MAX_VALUE_CACHE_SIZE};
use crate::core::apns::tls::PackSizes;
use super::decode::{self, KeyRes, Message, NewValue, Resolver, ValueRes};
use crate::core::apns::session::{Dir, Pos};

/// Cache lookups and insertions recorded per connection, at most.
pub const MAX_RECORDED: usize = 1 << 21;

crate::value_enum! {
    /// Where a connection's value cache sizes come from.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum SizeSource: u8 {
        /// No ALPN seen for the connection: rustpush's default (0x1000) assumed.
        Assumed = 0 => "assumed (no ALPN seen; rustpush's default)";
        /// ALPN `apns-pack-v1`: the default sizes.
        Alpn = 1 => "ALPN apns-pack-v1 (default sizes)";
        /// ALPN `apns-pack-v1:<enc>:<dec>`.
        AlpnSizes = 2 => "ALPN apns-pack-v1:<enc>:<dec>";
    }
}

/// The value cache sizes of a connection: device→server (the client's encoder, `<enc>`)
/// and server→device (`<dec>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub to_server: usize,
    pub to_device: usize,
    pub source: SizeSource,
}

impl Sizes {
    /// The sizes an `apns-pack-v1` ALPN name gives (sizes beyond [`MAX_VALUE_CACHE_SIZE`]
    /// are capped by the cache itself).
    pub fn from_alpn(p: PackSizes) -> Sizes {
        match p {
            PackSizes::Given { enc, dec } => Sizes {
                to_server: usize::try_from(enc).unwrap_or(usize::MAX),
                to_device: usize::try_from(dec).unwrap_or(usize::MAX),
                source: SizeSource::AlpnSizes,
            },
            PackSizes::Default | PackSizes::Malformed => Sizes { source: SizeSource::Alpn, ..Sizes::ASSUMED },
        }
    }
    /// Whether a size was capped at [`MAX_VALUE_CACHE_SIZE`].
    pub fn capped(&self) -> bool {
        self.to_server > MAX_VALUE_CACHE_SIZE || self.to_device > MAX_VALUE_CACHE_SIZE
    }
    pub const ASSUMED: Sizes = Sizes { to_server: DEFAULT_VALUE_CACHE_SIZE, to_device: DEFAULT_VALUE_CACHE_SIZE, source: SizeSource::Assumed };
    pub fn of(&self, dir: Dir) -> usize {
        match dir {
            Dir::ToServer => self.to_server,
            Dir::ToDevice => self.to_device,
        }
    }
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes::ASSUMED
    }
}

/// One cache interaction of a message, in decoding order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Res {
    Key(KeyRes),
    NewKey(u32),
    Value(ValueRes),
    NewValue(NewValue),
}

/// The caches of one direction.
#[derive(Debug, Clone)]
pub struct DirCache {
    pub keys: KeyCache,
    pub values: ValueCache,
}

impl DirCache {
    pub fn new(value_cache_size: usize) -> DirCache {
        DirCache { keys: KeyCache::default(), values: ValueCache::new(value_cache_size) }
    }
}

/// The live caches, logging every interaction.
pub struct Live<'c> {
    pub cache: &'c mut DirCache,
    pub frame: u32,
    pub log: Vec<Res>,
}

impl Resolver for Live<'_> {
    fn key(&mut self, index: u8) -> KeyRes {
        let r = match self.cache.keys.get(usize::from(index)) {
            Some(e) => KeyRes::Hit(e.clone()),
            None => KeyRes::Miss { cached: u8::try_from(self.cache.keys.len()).unwrap_or(u8::MAX) },
        };
        self.log.push(Res::Key(r.clone()));
        r
    }
    fn new_key(&mut self, bytes: &[u8]) -> Option<u32> {
        let (e, _) = self.cache.keys.add(bytes, self.frame);
        self.log.push(Res::NewKey(e.seq));
        Some(e.seq)
    }
    fn value(&mut self, index: u64) -> ValueRes {
        let r = match self.cache.values.get(index) {
            ValueLookup::Live(e) => ValueRes::Hit(e),
            ValueLookup::Evicted(entry) => ValueRes::Evicted { entry, cached: u32::try_from(self.cache.values.len()).unwrap_or(u32::MAX) },
            ValueLookup::Missing { cached } => ValueRes::Miss { cached },
        };
        self.log.push(Res::Value(r.clone()));
        r
    }
    fn new_value(&mut self, bytes: &[u8]) -> Option<NewValue> {
        let size = self.cache.values.size();
        let a = self.cache.values.add(bytes, self.frame);
        let nv = NewValue {
            seq: a.entry.seq,
            evicted: a.evicted,
            oversize: a.oversize.then(|| u32::try_from(size).unwrap_or(u32::MAX)),
            accounting: a.accounting,
            bounded: a.bounded,
        };
        self.log.push(Res::NewValue(nv));
        Some(nv)
    }
}

/// A recorded message, replayed.
pub struct Replay<'r> {
    pub log: &'r [Res],
    pub at: usize,
}

impl Replay<'_> {
    fn next(&mut self) -> Option<&Res> {
        let r = self.log.get(self.at);
        self.at += 1;
        r
    }
}

impl Resolver for Replay<'_> {
    fn key(&mut self, _: u8) -> KeyRes {
        match self.next() {
            Some(Res::Key(k)) => k.clone(),
            _ => KeyRes::NotRecorded,
        }
    }
    fn new_key(&mut self, _: &[u8]) -> Option<u32> {
        match self.next() {
            Some(Res::NewKey(s)) => Some(*s),
            _ => None,
        }
    }
    fn value(&mut self, _: u64) -> ValueRes {
        match self.next() {
            Some(Res::Value(v)) => v.clone(),
            _ => ValueRes::NotRecorded,
        }
    }
    fn new_value(&mut self, _: &[u8]) -> Option<NewValue> {
        match self.next() {
            Some(Res::NewValue(v)) => Some(*v),
            _ => None,
        }
    }
}

/// The packed state of one courier connection.
#[derive(Debug, Clone)]
pub struct Conn {
    sizes: Sizes,
    dirs: [DirCache; 2],
    records: HashMap<Pos, Box<[Res]>>,
    recorded: usize,
    last: Option<Pos>,
    /// [`MAX_RECORDED`] was reached: some messages were not recorded.
    pub capped: bool,
}

impl Conn {
    pub fn new(sizes: Sizes) -> Conn {
        Conn {
            sizes,
            dirs: [DirCache::new(sizes.to_server), DirCache::new(sizes.to_device)],
            records: HashMap::new(),
            recorded: 0,
            last: None,
            capped: false,
        }
    }
    pub fn sizes(&self) -> Sizes {
        self.sizes
    }
    /// The live caches of a direction (as of the last message fed).
    pub fn caches(&self, dir: Dir) -> &DirCache {
        &self.dirs[usize::from(dir.code())]
    }
    /// Cache interactions recorded so far.
    pub fn recorded(&self) -> usize {
        self.recorded
    }

    /// Decodes the message at `pos` travelling `dir`. On the first pass (`first_pass` and
    /// `pos` after every position fed so far) against the live caches, which it updates,
    /// recording what it resolved; otherwise from that record.
    pub fn decode<'a>(&mut self, pos: Pos, dir: Dir, buf: &'a [u8], first_pass: bool) -> Message<'a> {
        if first_pass && self.last.is_none_or(|l| pos > l) {
            self.last = Some(pos);
            // Sized for a typical message (a dozen look-ups); stored below as an exact-size box.
            let mut live = Live { cache: &mut self.dirs[usize::from(dir.code())], frame: pos.frame, log: Vec::with_capacity(16) };
            let mut m = decode::decode(buf, &mut live);
            let log = live.log;
            if !log.is_empty() {
                if self.recorded + log.len() <= MAX_RECORDED {
                    self.recorded += log.len();
                    self.records.insert(pos, log.into_boxed_slice());
                } else {
                    // Said on the first pass too, so that every pass reports it.
                    self.capped = true;
                    m.anomalies.push(decode::Anomaly { kind: decode::AnomalyKind::NotRecorded, at: crate::core::span::Span::new(0, m.header_len.min(buf.len())) });
                }
            }
            return m;
        }
        let log = self.records.get(&pos).map_or(&[][..], |b| &b[..]);
        decode::decode(buf, &mut Replay { log, at: 0 })
    }
}

//! Decoding one packed message against a direction's caches (live on the first pass, a
//! frame's record afterwards: [`super::state`]).
//!
//! Zero-copy: every byte range is a [`Loc`] into the packet or into a cache entry the
//! message holds (`Arc`), read back with [`Message::bytes`]. Nothing is allocated or looped
//! by a length or count read from the data before that length is checked against the bytes
//! there; nesting, cache dereferences and total work per message are bounded
//! ([`MAX_DEPTH`], [`MAX_NODES`], [`MAX_REPARSE`], [`MAX_ADDED_FROM_CACHE`]).

use super::cache::EntryRef;
use super::wire::{self, NumError};
use crate::core::apns::items::Command;
use crate::core::span::Span;

/// Containers and cache dereferences nested deeper than this end the message.
pub const MAX_DEPTH: usize = 32;
/// Attributes and values decoded per message, at most.
pub const MAX_NODES: usize = 1 << 16;
/// Bytes of cache entries decoded again per message (a value from the cache is decoded
/// from the entry's bytes each time), at most.
pub const MAX_REPARSE: usize = 1 << 20;
/// Bytes a message may add to the caches from inside values that came from the cache.
pub const MAX_ADDED_FROM_CACHE: usize = 16 * 1024;

/// Where a byte range lives: `src` 0 is the packet (the message's buffer), `n` the
/// message's `n`-th cache entry ([`Message::entry`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub src: u32,
    pub span: Span,
}

impl Loc {
    pub const fn packet(span: Span) -> Loc {
        Loc { src: 0, span }
    }
    pub const fn in_packet(&self) -> bool {
        self.src == 0
    }
}

/// Where an attribute's key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// The one-byte key `tag & 0x0f`, in the tag itself.
    Inline(u8),
    /// A key in the data (`loc`), cached as entry `seq` of this direction's keys (`None`:
    /// the frame's record does not say).
    New { loc: Loc, seq: Option<u32> },
    /// Key-cache entry `index` (0 = newest): the message's `entry`-th cache entry.
    Cached { index: u8, entry: u32 },
    /// Key-cache index past the end (`cached` keys in the cache).
    Missing { index: u8, cached: u8 },
    /// The frame's record does not hold this resolution (state cap).
    NotRecorded { index: u8 },
}

crate::value_enum! {
    /// Where a key came from, as a code for display filters (`apns.packed.key_from`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum KeyFrom: u8 {
        Inline = 0 => "inline (one byte, in the tag)";
        New = 1 => "new (in the data, now cached)";
        Cache = 2 => "key cache";
        Missing = 3 => "key cache, index past the end";
        NotRecorded = 4 => "key cache, not recorded";
    }
}

crate::value_enum! {
    /// Where a value came from, as a code for display filters (`apns.packed.value_from`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ValueSource: u8 {
        Inline = 0 => "inline (not cached)";
        New = 1 => "new (in the data, now cached)";
        Cache = 2 => "value cache";
        Missing = 3 => "value cache, index past the end";
        NotRecorded = 4 => "value cache, not recorded";
    }
}

crate::value_enum! {
    /// A value's type (`apns.packed.type`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ValueType: u8 {
        Data = 0 => "data";
        String = 1 => "string";
        Int = 2 => "integer";
        Dict = 3 => "dictionary";
        Array = 4 => "array";
        Bool = 5 => "boolean";
    }
}

impl Key {
    pub const fn source(&self) -> KeyFrom {
        match self {
            Key::Inline(_) => KeyFrom::Inline,
            Key::New { .. } => KeyFrom::New,
            Key::Cached { .. } => KeyFrom::Cache,
            Key::Missing { .. } => KeyFrom::Missing,
            Key::NotRecorded { .. } => KeyFrom::NotRecorded,
        }
    }
}

impl ValueFrom {
    pub const fn source(&self) -> ValueSource {
        match self {
            ValueFrom::Inline => ValueSource::Inline,
            ValueFrom::NewCached { .. } => ValueSource::New,
            ValueFrom::Cached { .. } => ValueSource::Cache,
            ValueFrom::Missing { .. } => ValueSource::Missing,
            ValueFrom::NotRecorded { .. } => ValueSource::NotRecorded,
        }
    }
}

/// Where an attribute's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueFrom {
    /// In the data, not cached.
    Inline,
    /// In the data, and cached as value entry `seq` (pushing out `evicted` entries; `None`:
    /// the frame's record does not say).
    NewCached { seq: Option<u32>, evicted: u32 },
    /// Value-cache entry `index` (0 = newest), the message's `entry`-th cache entry; the
    /// index number sits at `index_loc`. `evicted`: the cache had already pushed it out
    /// (past its end), it comes from the remembered evicted entries.
    Cached { index: u64, index_loc: Loc, entry: u32, evicted: bool },
    /// Value-cache index past the end.
    Missing { index: u64, index_loc: Loc, cached: u32 },
    /// The frame's record does not hold this resolution.
    NotRecorded { index: u64, index_loc: Loc },
}

/// A value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Type 0: bytes.
    Data(Loc),
    /// Type 1: text (`utf8` false: not UTF-8, reported).
    String { loc: Loc, utf8: bool },
    /// Type 2: an integer: sign and magnitude. `long`: the form with a length (tag bit 0x20),
    /// else the magnitude is in the tag (0–31).
    Int { negative: bool, magnitude: u64, long: bool },
    /// Type 3 with bit 0x20.
    Bool(bool),
    /// Type 3: attributes.
    Dict(Vec<Attr>),
    /// Type 3 with bit 0x10: values.
    Array(Vec<Item>),
}

impl Node {
    /// The integer as rustpush reads it (`i64`, negated when the sign bit is set), when the
    /// magnitude fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Node::Int { negative, magnitude, .. } => {
                let m = i64::try_from(magnitude).ok()?;
                Some(if negative { -m } else { m })
            }
            _ => None,
        }
    }
    /// A non-negative integer.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Node::Int { negative: false, magnitude, .. } => Some(magnitude),
            Node::Int { negative: true, magnitude: 0, .. } => Some(0),
            _ => None,
        }
    }
    pub const fn value_type(&self) -> ValueType {
        match self {
            Node::Data(_) => ValueType::Data,
            Node::String { .. } => ValueType::String,
            Node::Int { .. } => ValueType::Int,
            Node::Bool(_) => ValueType::Bool,
            Node::Dict(_) => ValueType::Dict,
            Node::Array(_) => ValueType::Array,
        }
    }
}

/// One value with where it is: `loc` its bytes (tag to end), `at` where it shows in the
/// packet (its own bytes, or the cache reference that brought it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub tag: u8,
    pub loc: Loc,
    pub at: Span,
    pub node: Node,
}

/// One attribute (a top-level item of the message, or a dictionary member).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub tag: u8,
    /// The attribute's bytes in its source (tag, key, value or index).
    pub loc: Loc,
    pub at: Span,
    pub key: Key,
    pub value_from: ValueFrom,
    /// `None` when the value could not be read (an anomaly says why).
    pub value: Option<Item>,
}

/// What a tagged number counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Num {
    MessageLength,
    KeyLength,
    DataLength,
    StringLength,
    IntBytes,
    Count,
    CacheIndex,
    Tag,
}

impl Num {
    pub const fn name(self) -> &'static str {
        match self {
            Num::MessageLength => "message length",
            Num::KeyLength => "key length",
            Num::DataLength => "data length",
            Num::StringLength => "string length",
            Num::IntBytes => "integer bytes",
            Num::Count => "element count",
            Num::CacheIndex => "value cache index",
            Num::Tag => "tag",
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// The command byte is not a known command.
    UnknownCommand(u8),
    /// Fewer bytes than the header says (`available` body bytes).
    Truncated { declared: u64, available: usize },
    /// A tagged number longer than ten bytes, or beyond 64 bits.
    BadNumber { what: Num, err: NumError },
    /// A length or count runs past the end of the data (the message, or the cache entry
    /// being decoded): `len` wanted, `available` there.
    PastEnd { what: Num, len: u64, available: usize },
    /// Key-cache index past the end.
    KeyCacheMiss { index: u8, cached: u8 },
    /// Value-cache index past the end.
    ValueCacheMiss { index: u64, cached: u32 },
    /// Value-cache index past the end of a cache of the size in use, resolved from an entry
    /// that cache evicted.
    ValueCacheEvicted { index: u64, cached: u32 },
    /// A cached value longer than the whole value cache (kept uncounted, as rustpush does).
    ValueLargerThanCache { len: usize, size: usize },
    /// rustpush's size count of the value cache would go below zero here.
    CacheAccounting,
    /// The value cache dropped entries to stay within memory bounds.
    CacheMemoryBound,
    /// A string (or a dictionary key) that is not UTF-8.
    NotUtf8 { key: bool },
    /// An integer magnitude beyond `i64` (rustpush overflows).
    IntOutOfRange,
    /// Tag bits with no known meaning are set.
    ReservedBits { tag: u8, bits: u8 },
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More work than [`MAX_NODES`], [`MAX_REPARSE`] or [`MAX_ADDED_FROM_CACHE`] allow.
    TooMuchWork,
    /// The connection's state cap was reached: this frame's cache resolutions were not kept.
    NotRecorded,
}

impl AnomalyKind {
    /// Malformed or impossible (as opposed to unknown-but-possible).
    pub const fn is_error(&self) -> bool {
        !matches!(self, AnomalyKind::UnknownCommand(_) | AnomalyKind::ReservedBits { .. } | AnomalyKind::ValueCacheEvicted { .. })
    }
}

/// An anomaly and where it shows in the packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub at: Span,
}

/// One decoded message.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    pub command: Command,
    /// Declared body length.
    pub length: u64,
    /// Header bytes (command, length byte, its varint).
    pub header_len: usize,
    /// Bytes of the buffer that belong to the message (fewer than declared when cut).
    pub consumed: usize,
    pub attrs: Vec<Attr>,
    pub anomalies: Vec<Anomaly>,
    packet: &'a [u8],
    entries: Vec<EntryRef>,
}

static INLINE_KEYS: [[u8; 1]; 16] = [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9], [10], [11], [12], [13], [14], [15]];

impl<'a> Message<'a> {
    /// The bytes at `loc`.
    pub fn bytes(&self, loc: Loc) -> &[u8] {
        let src: &[u8] = if loc.src == 0 { self.packet } else { self.entry(loc.src).map_or(&[], |e| &e.bytes) };
        src.get(loc.span.offset..loc.span.end()).unwrap_or(&[])
    }
    /// Bytes of the buffer the message was decoded from (its own and any after it).
    pub fn buffer_len(&self) -> usize {
        self.packet.len()
    }
    /// A packet range, with the packet's lifetime.
    pub fn packet_bytes(&self, span: Span) -> &'a [u8] {
        self.packet.get(span.offset..span.end()).unwrap_or(&[])
    }
    /// The message's `n`-th cache entry (1-based, as in [`Loc::src`]).
    pub fn entry(&self, n: u32) -> Option<&EntryRef> {
        self.entries.get(usize::try_from(n).ok()?.checked_sub(1)?)
    }
    /// An attribute's key bytes, when known.
    pub fn key_bytes(&self, k: &Key) -> Option<&[u8]> {
        match *k {
            Key::Inline(id) => INLINE_KEYS.get(usize::from(id)).map(|b| &b[..]),
            Key::New { loc, .. } => Some(self.bytes(loc)),
            Key::Cached { entry, .. } => self.entry(entry).map(|e| &e.bytes[..]),
            _ => None,
        }
    }
    /// The key as a one-byte item id (top-level attributes), when it is one byte.
    pub fn key_id(&self, k: &Key) -> Option<u8> {
        match self.key_bytes(k)? {
            [id] => Some(*id),
            _ => None,
        }
    }
    /// A string value's text (lossy for non-UTF-8).
    pub fn text(&self, loc: Loc) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.bytes(loc))
    }
    /// The first top-level attribute with one-byte key `id`.
    pub fn attr(&self, id: u8) -> Option<&Attr> {
        self.attrs.iter().find(|a| self.key_id(&a.key) == Some(id))
    }
    /// Whether the whole message was present and decoded without a malformation.
    pub fn is_clean(&self) -> bool {
        self.anomalies.iter().all(|a| !a.kind.is_error())
    }
}

// ---------------------------------------------------------------------------------------
// The caches as the decoder sees them.

/// A key-cache lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRes {
    Hit(EntryRef),
    Miss { cached: u8 },
    NotRecorded,
}

/// A value-cache lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueRes {
    Hit(EntryRef),
    Evicted { entry: EntryRef, cached: u32 },
    Miss { cached: u32 },
    NotRecorded,
}

/// What adding a value did (the parts the decoder reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NewValue {
    pub seq: u32,
    pub evicted: u32,
    /// The cache's size when the entry was larger than it.
    pub oversize: Option<u32>,
    pub accounting: bool,
    pub bounded: bool,
}

/// The caches of the direction a message travels, live or replayed.
pub trait Resolver {
    fn key(&mut self, index: u8) -> KeyRes;
    /// Adds a key; returns its sequence number.
    fn new_key(&mut self, bytes: &[u8]) -> Option<u32>;
    fn value(&mut self, index: u64) -> ValueRes;
    fn new_value(&mut self, bytes: &[u8]) -> Option<NewValue>;
}

// ---------------------------------------------------------------------------------------
// The walker.

struct Src {
    /// 0: the packet; n: entries[n - 1].
    id: u32,
    entry: Option<EntryRef>,
    /// Where everything in this source shows in the packet (`None`: in the packet itself).
    at: Option<Span>,
}

enum Flow {
    Go(usize),
    Stop,
}

struct Walker<'a, 'r, R: Resolver> {
    packet: &'a [u8],
    entries: Vec<EntryRef>,
    /// Each entry's number in `entries`, by address.
    entry_ids: std::collections::HashMap<*const super::cache::Entry, u32>,
    res: &'r mut R,
    anomalies: Vec<Anomaly>,
    nodes: usize,
    reparsed: usize,
    added_from_cache: usize,
}

/// The bytes of a source: the packet's, or its cache entry's (borrowed from the source,
/// not from the walker, so the walker stays free to change).
fn bytes_of<'s>(packet: &'s [u8], src: &'s Src) -> &'s [u8] {
    match &src.entry {
        Some(e) => &e.bytes,
        None => packet,
    }
}

impl<'a, R: Resolver> Walker<'a, '_, R> {
    fn data<'s>(&'s self, src: &'s Src) -> &'s [u8] {
        bytes_of(self.packet, src)
    }
    fn at(src: &Src, span: Span) -> Span {
        src.at.unwrap_or(span)
    }
    fn loc(src: &Src, start: usize, end: usize) -> Loc {
        Loc { src: src.id, span: Span::new(start, end.saturating_sub(start)) }
    }
    fn anomaly(&mut self, kind: AnomalyKind, at: Span) {
        // One of each per place is enough (a cache entry decoded twice says it once).
        let a = Anomaly { kind, at };
        if self.anomalies.len() < 256 && !self.anomalies.contains(&a) {
            self.anomalies.push(a);
        }
    }
    fn entry_id(&mut self, e: &EntryRef) -> u32 {
        // A few entries: a scan; many (hostile input): by address.
        const SCAN: usize = 32;
        if self.entries.len() <= SCAN {
            if let Some(i) = self.entries.iter().position(|x| std::sync::Arc::ptr_eq(x, e)) {
                return (i + 1) as u32;
            }
        } else {
            if self.entry_ids.is_empty() {
                for (i, x) in self.entries.iter().enumerate() {
                    self.entry_ids.insert(std::sync::Arc::as_ptr(x), (i + 1) as u32);
                }
            }
            if let Some(&id) = self.entry_ids.get(&std::sync::Arc::as_ptr(e)) {
                return id;
            }
        }
        self.entries.push(e.clone());
        // At most MAX_NODES entries per message: fits.
        let id = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        if !self.entry_ids.is_empty() {
            self.entry_ids.insert(std::sync::Arc::as_ptr(e), id);
        }
        id
    }
    fn budget(&mut self, src: &Src, at: usize) -> bool {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            self.anomaly(AnomalyKind::TooMuchWork, Self::at(src, Span::new(at, 1)));
            return false;
        }
        true
    }

    /// A tagged number after the tag at `pos` (the tag byte itself is `tag`).
    fn number(&mut self, src: &Src, bits: u32, tag: u8, pos: usize, end: usize, what: Num) -> Option<(u64, usize)> {
        let rest = self.data(src).get(pos + 1..end).unwrap_or(&[]);
        match wire::tagged(bits, tag, rest) {
            Ok((v, used)) => Some((v, pos + 1 + used)),
            Err(NumError::Truncated { have }) => {
                let at = Self::at(src, Span::new(pos, 1 + have));
                self.anomaly(AnomalyKind::PastEnd { what, len: (have + 1) as u64, available: have }, at);
                None
            }
            Err(err) => {
                let at = Self::at(src, Span::new(pos, (1 + err.span_len()).min(end.saturating_sub(pos))));
                self.anomaly(AnomalyKind::BadNumber { what, err }, at);
                None
            }
        }
    }

    /// `len` bytes from `pos`, if they are there before `end`.
    fn take(&mut self, src: &Src, start: usize, pos: usize, len: u64, end: usize, what: Num) -> Option<usize> {
        let available = end.saturating_sub(pos);
        match usize::try_from(len) {
            Ok(l) if l <= available => Some(pos + l),
            _ => {
                let at = Self::at(src, Span::new(start, end.saturating_sub(start)));
                self.anomaly(AnomalyKind::PastEnd { what, len, available }, at);
                None
            }
        }
    }

    fn value(&mut self, src: &Src, pos: usize, end: usize, depth: usize) -> (Option<Item>, Flow) {
        if !self.budget(src, pos) {
            return (None, Flow::Stop);
        }
        let Some(&tag) = self.data(src).get(pos).filter(|_| pos < end) else {
            let at = Self::at(src, Span::new(pos.min(end), 0));
            self.anomaly(AnomalyKind::PastEnd { what: Num::Tag, len: 1, available: 0 }, at);
            return (None, Flow::Stop);
        };
        let item = |node: Node, next: usize| {
            let loc = Self::loc(src, pos, next);
            (Some(Item { tag, loc, at: Self::at(src, loc.span), node }), Flow::Go(next))
        };
        match tag >> 6 {
            0 | 1 => {
                let (bits, what) = if tag >> 6 == 0 { (6, Num::DataLength) } else { (5, Num::StringLength) };
                let Some((len, body)) = self.number(src, bits, tag, pos, end, what) else { return (None, Flow::Stop) };
                let Some(next) = self.take(src, pos, body, len, end, what) else { return (None, Flow::Stop) };
                let loc = Self::loc(src, body, next);
                if tag >> 6 == 0 {
                    item(Node::Data(loc), next)
                } else {
                    if tag & 0x20 != 0 {
                        self.anomaly(AnomalyKind::ReservedBits { tag, bits: 0x20 }, Self::at(src, Span::new(pos, 1)));
                    }
                    let utf8 = std::str::from_utf8(self.data(src).get(body..next).unwrap_or(&[])).is_ok();
                    if !utf8 {
                        self.anomaly(AnomalyKind::NotUtf8 { key: false }, Self::at(src, loc.span));
                    }
                    item(Node::String { loc, utf8 }, next)
                }
            }
            2 => {
                if tag & 0x20 == 0 {
                    return item(Node::Int { negative: false, magnitude: u64::from(tag & 0x1f), long: false }, pos + 1);
                }
                if tag & 0x10 != 0 {
                    self.anomaly(AnomalyKind::ReservedBits { tag, bits: 0x10 }, Self::at(src, Span::new(pos, 1)));
                }
                let n = u64::from(tag & 0x07) + 1;
                let Some(next) = self.take(src, pos, pos + 1, n, end, Num::IntBytes) else { return (None, Flow::Stop) };
                let magnitude = self.data(src).get(pos + 1..next).unwrap_or(&[]).iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
                if magnitude > i64::MAX as u64 {
                    self.anomaly(AnomalyKind::IntOutOfRange, Self::at(src, Span::new(pos, next - pos)));
                }
                item(Node::Int { negative: tag & 0x08 != 0, magnitude, long: true }, next)
            }
            _ => {
                let Some((count, body)) = self.number(src, 4, tag, pos, end, Num::Count) else { return (None, Flow::Stop) };
                if tag & 0x20 != 0 {
                    if tag & 0x10 != 0 {
                        self.anomaly(AnomalyKind::ReservedBits { tag, bits: 0x10 }, Self::at(src, Span::new(pos, 1)));
                    }
                    return item(Node::Bool(count != 0), body);
                }
                if depth >= MAX_DEPTH {
                    self.anomaly(AnomalyKind::TooDeep, Self::at(src, Span::new(pos, 1)));
                    return (None, Flow::Stop);
                }
                // Every element takes at least one byte: more than the bytes left cannot be.
                let available = end.saturating_sub(body);
                let fits = count <= available as u64;
                if !fits {
                    let at = Self::at(src, Span::new(pos, end.saturating_sub(pos)));
                    self.anomaly(AnomalyKind::PastEnd { what: Num::Count, len: count, available }, at);
                }
                let n = usize::try_from(count).unwrap_or(usize::MAX).min(available);
                let mut p = body;
                let mut flow_stop = !fits;
                let node = if tag & 0x10 != 0 {
                    let mut v = Vec::with_capacity(n.min(16));
                    for _ in 0..n {
                        let (it, flow) = self.value(src, p, end, depth + 1);
                        v.extend(it);
                        match flow {
                            Flow::Go(q) => p = q,
                            Flow::Stop => {
                                flow_stop = true;
                                break;
                            }
                        }
                    }
                    Node::Array(v)
                } else {
                    let mut v = Vec::with_capacity(n.min(16));
                    for _ in 0..n {
                        let (a, flow) = self.attr(src, p, end, depth + 1);
                        v.extend(a);
                        match flow {
                            Flow::Go(q) => p = q,
                            Flow::Stop => {
                                flow_stop = true;
                                break;
                            }
                        }
                    }
                    Node::Dict(v)
                };
                let (it, _) = item(node, p);
                (it, if flow_stop { Flow::Stop } else { Flow::Go(p) })
            }
        }
    }

    fn attr(&mut self, src: &Src, pos: usize, end: usize, depth: usize) -> (Option<Attr>, Flow) {
        if !self.budget(src, pos) {
            return (None, Flow::Stop);
        }
        let Some(&tag) = self.data(src).get(pos).filter(|_| pos < end) else {
            let at = Self::at(src, Span::new(pos.min(end), 0));
            self.anomaly(AnomalyKind::PastEnd { what: Num::Tag, len: 1, available: 0 }, at);
            return (None, Flow::Stop);
        };
        let from_cache = src.entry.is_some();
        // The key.
        let (key, mut p) = if tag & wire::TAG_KEY_FROM_CACHE != 0 {
            let index = tag & wire::KEY_INDEX_MASK;
            let key = match self.res.key(index) {
                KeyRes::Hit(e) => Key::Cached { index, entry: self.entry_id(&e) },
                KeyRes::Miss { cached } => {
                    self.anomaly(AnomalyKind::KeyCacheMiss { index, cached }, Self::at(src, Span::new(pos, 1)));
                    Key::Missing { index, cached }
                }
                KeyRes::NotRecorded => {
                    self.anomaly(AnomalyKind::NotRecorded, Self::at(src, Span::new(pos, 1)));
                    Key::NotRecorded { index }
                }
            };
            (key, pos + 1)
        } else if tag & wire::TAG_KEY_NEW != 0 {
            let Some((n, kstart)) = self.number(src, 4, tag, pos, end, Num::KeyLength) else { return (None, Flow::Stop) };
            let Some(kend) = self.take(src, pos, kstart, n.saturating_add(1), end, Num::KeyLength) else { return (None, Flow::Stop) };
            if from_cache {
                self.added_from_cache += kend - kstart;
                if self.added_from_cache > MAX_ADDED_FROM_CACHE {
                    self.anomaly(AnomalyKind::TooMuchWork, Self::at(src, Span::new(pos, 1)));
                    return (None, Flow::Stop);
                }
            }
            let seq = self.res.new_key(bytes_of(self.packet, src).get(kstart..kend).unwrap_or(&[]));
            if seq.is_none() {
                self.anomaly(AnomalyKind::NotRecorded, Self::at(src, Span::new(pos, 1)));
            }
            let key = Key::New { loc: Self::loc(src, kstart, kend), seq };
            (key, kend)
        } else {
            (Key::Inline(tag & wire::KEY_INLINE_MASK), pos + 1)
        };
        let finish = |key: Key, value_from: ValueFrom, value: Option<Item>, next: usize| {
            let loc = Self::loc(src, pos, next);
            Attr { tag, loc, at: Self::at(src, loc.span), key, value_from, value }
        };
        // The value.
        if tag & wire::TAG_VALUE_FROM_CACHE != 0 {
            let Some(&itag) = self.data(src).get(p).filter(|_| p < end) else {
                let at = Self::at(src, Span::new(pos, p - pos));
                self.anomaly(AnomalyKind::PastEnd { what: Num::CacheIndex, len: 1, available: 0 }, at);
                return (Some(finish(key, ValueFrom::Inline, None, p)), Flow::Stop);
            };
            let Some((index, next)) = self.number(src, 8, itag, p, end, Num::CacheIndex) else {
                return (Some(finish(key, ValueFrom::Inline, None, p)), Flow::Stop);
            };
            let index_loc = Self::loc(src, p, next);
            let index_at = Self::at(src, index_loc.span);
            let (entry, evicted) = match self.res.value(index) {
                ValueRes::Hit(e) => (e, false),
                ValueRes::Evicted { entry, cached } => {
                    self.anomaly(AnomalyKind::ValueCacheEvicted { index, cached }, index_at);
                    (entry, true)
                }
                ValueRes::Miss { cached } => {
                    self.anomaly(AnomalyKind::ValueCacheMiss { index, cached }, index_at);
                    return (Some(finish(key, ValueFrom::Missing { index, index_loc, cached }, None, next)), Flow::Go(next));
                }
                ValueRes::NotRecorded => {
                    self.anomaly(AnomalyKind::NotRecorded, index_at);
                    return (Some(finish(key, ValueFrom::NotRecorded { index, index_loc }, None, next)), Flow::Go(next));
                }
            };
            let id = self.entry_id(&entry);
            let from = ValueFrom::Cached { index, index_loc, entry: id, evicted };
            self.reparsed += entry.bytes.len();
            if self.reparsed > MAX_REPARSE || depth >= MAX_DEPTH {
                let kind = if depth >= MAX_DEPTH { AnomalyKind::TooDeep } else { AnomalyKind::TooMuchWork };
                self.anomaly(kind, index_at);
                return (Some(finish(key, from, None, next)), Flow::Stop);
            }
            let inner = Src { id, at: Some(src.at.unwrap_or(index_at)), entry: Some(entry.clone()) };
            let (value, flow) = self.value(&inner, 0, entry.bytes.len(), depth + 1);
            // A cached entry is one whole value: what fails inside it fails this message
            // (rustpush returns the error), what it leaves over is ignored as rustpush does.
            let flow = match flow {
                Flow::Go(_) => Flow::Go(next),
                Flow::Stop => Flow::Stop,
            };
            return (Some(finish(key, from, value, next)), flow);
        }
        let cache_it = tag & wire::TAG_VALUE_NEW_CACHED != 0;
        let (value, flow) = self.value(src, p, end, depth);
        let Flow::Go(next) = flow else {
            return (Some(finish(key, ValueFrom::Inline, value, p)), Flow::Stop);
        };
        let mut from = ValueFrom::Inline;
        if cache_it {
            if from_cache {
                self.added_from_cache += next - p;
                if self.added_from_cache > MAX_ADDED_FROM_CACHE {
                    self.anomaly(AnomalyKind::TooMuchWork, Self::at(src, Span::new(pos, 1)));
                    return (Some(finish(key, from, value, next)), Flow::Stop);
                }
            }
            let vb = bytes_of(self.packet, src).get(p..next).unwrap_or(&[]);
            let at = Self::at(src, Span::new(p, next - p));
            match self.res.new_value(vb) {
                Some(nv) => {
                    if let Some(size) = nv.oversize {
                        self.anomaly(AnomalyKind::ValueLargerThanCache { len: next - p, size: size as usize }, at);
                    }
                    if nv.accounting {
                        self.anomaly(AnomalyKind::CacheAccounting, at);
                    }
                    if nv.bounded {
                        self.anomaly(AnomalyKind::CacheMemoryBound, at);
                    }
                    from = ValueFrom::NewCached { seq: Some(nv.seq), evicted: nv.evicted };
                }
                None => {
                    self.anomaly(AnomalyKind::NotRecorded, at);
                    from = ValueFrom::NewCached { seq: None, evicted: 0 };
                }
            }
        }
        p = next;
        (Some(finish(key, from, value, p)), Flow::Go(p))
    }
}

/// Decodes the message at the start of `buf` against `res`. Extra bytes after it are left
/// alone (see [`Message::consumed`]); a message cut short is decoded as far as it goes.
pub fn decode<'a, R: Resolver>(buf: &'a [u8], res: &mut R) -> Message<'a> {
    let command = Command::from_u8(buf.first().copied().unwrap_or(0));
    let mut w = Walker { packet: buf, entries: Vec::with_capacity(8), entry_ids: std::collections::HashMap::new(), res, anomalies: Vec::new(), nodes: 0, reparsed: 0, added_from_cache: 0 };
    let h = match wire::header(buf) {
        Ok(h) => h,
        Err(wire::HeaderError::NeedMore(_)) => {
            w.anomaly(AnomalyKind::Truncated { declared: 0, available: 0 }, Span::new(0, buf.len()));
            return finish(command, buf, 0, buf.len(), buf.len(), vec![], w);
        }
        Err(wire::HeaderError::BadLength(err)) => {
            w.anomaly(AnomalyKind::BadNumber { what: Num::MessageLength, err }, Span::new(1, buf.len().saturating_sub(1).min(11)));
            return finish(command, buf, 0, 2, buf.len(), vec![], w);
        }
    };
    if !command.is_known() {
        w.anomaly(AnomalyKind::UnknownCommand(h.command), Span::new(0, 1));
    }
    let have = buf.len() - h.header_len;
    let end = match usize::try_from(h.length) {
        Ok(l) if l <= have => h.header_len + l,
        _ => {
            w.anomaly(AnomalyKind::Truncated { declared: h.length, available: have }, Span::new(0, buf.len()));
            buf.len()
        }
    };
    let src = Src { id: 0, entry: None, at: None };
    let mut attrs = Vec::with_capacity(((end - h.header_len) / 2).min(32));
    let mut p = h.header_len;
    while p < end {
        let (a, flow) = w.attr(&src, p, end, 0);
        attrs.extend(a);
        match flow {
            Flow::Go(q) => p = q,
            Flow::Stop => break,
        }
    }
    finish(command, buf, h.length, h.header_len, end, attrs, w)
}

fn finish<'a, R: Resolver>(
    command: Command,
    packet: &'a [u8],
    length: u64,
    header_len: usize,
    consumed: usize,
    attrs: Vec<Attr>,
    w: Walker<'a, '_, R>,
) -> Message<'a> {
    Message { command, length, header_len, consumed, attrs, anomalies: w.anomalies, packet, entries: w.entries }
}

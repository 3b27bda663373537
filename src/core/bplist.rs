//! Apple binary property lists ("bplist00"), as carried inside APNs / iMessage payloads.
//!
//! File layout (CoreFoundation `CFBinaryPList.c`; all integers big-endian):
//!
//! ```text
//! "bplist00" | objects ... | offset table | trailer (32 bytes)
//!
//! trailer: unused (5) | sort version (1) | offset int size (1) | object ref size (1)
//!        | number of objects (8) | top object (8) | offset table offset (8)
//! offset table: one `offset int size`-byte file offset per object number
//! ```
//!
//! Each object starts with a marker byte, high nibble = type, low nibble = size/count;
//! a count nibble of 0xF means "the count follows as an int object":
//!
//! ```text
//! 0x00 null   0x08 false   0x09 true   0x0F fill
//! 0x1n int, 2^n bytes (1, 2, 4: unsigned; 8: signed; 16: signed, as CoreFoundation writes
//!      values >= 2^63)
//! 0x22 real f32   0x23 real f64   0x33 date (f64 seconds since 2001-01-01T00:00:00Z)
//! 0x4n data, n bytes          0x5n ASCII string, n bytes     0x6n UTF-16BE, n code units
//! 0x8n UID, n+1 bytes
//! 0xAn array, n refs          0xCn set, n refs               0xDn dict, n key refs then n value refs
//! ```
//!
//! The decoder is zero-copy where it can be (data and ASCII strings borrow the buffer;
//! UTF-16 strings are decoded into a `String` no longer than the bytes present), never
//! panics, and checks every offset, reference, count and length against the bytes really
//! there before using it. It yields a tree of [`Node`]s, each with the [`Span`] of the
//! object's own bytes, plus a flat list of [`Anomaly`]s. Only a file whose header,
//! trailer or offset table is unusable fails ([`Error`]); a bad object becomes a
//! [`Value::Error`] node and the rest of the tree is still decoded.
//!
//! Bounds: a reference to an object already on the current path is a cycle and is not
//! followed; nesting depth, the number of nodes produced (counting repeated references to
//! a shared object each time) and the total bytes of data/string payloads are limited
//! by [`Limits`].
//!
//! Magic: like CoreFoundation, any "bplist0?" is accepted ("bplist00" is what Apple
//! writes); another version byte is reported as [`Anomaly::UnusualVersion`]. "bplist1x"
//! (a different, trailer-less format) is rejected as [`Error::BadMagic`].

use crate::core::span::{Span, Spanned};
use nom::bytes::complete::{tag, take};
use nom::number::complete::{be_u64, be_u8};
use nom::IResult;
use std::fmt;
use std::fmt::Write as _;

/// What every binary plist starts with (plus one version byte, normally `'0'`).
pub const MAGIC_PREFIX: &[u8; 7] = b"bplist0";
/// Magic and version.
pub const HEADER_LEN: usize = 8;
/// The trailer at the very end of the file.
pub const TRAILER_LEN: usize = 32;
/// Header, one object byte, trailer: nothing shorter can be a binary plist.
pub const MIN_LEN: usize = HEADER_LEN + 1 + TRAILER_LEN;
/// Seconds between the Unix epoch and the plist (Core Data) epoch, 2001-01-01T00:00:00Z.
pub const DATE_EPOCH_UNIX: f64 = 978_307_200.0;
/// `Limits::max_depth` is clamped to this, because decoding recurses once per level.
pub const HARD_MAX_DEPTH: usize = 256;

/// Resource bounds for one [`parse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest container nesting followed; the root is depth 0. A node deeper than this
    /// becomes [`Anomaly::TooDeep`]. Clamped to [`HARD_MAX_DEPTH`].
    pub max_depth: usize,
    /// Most nodes produced (every reference counts, also repeated ones to a shared
    /// object, and error nodes). Containers stop filling once it is reached.
    pub max_objects: usize,
    /// Most payload bytes (data, ASCII and UTF-16 strings, counted per reference).
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 32,
            max_objects: 10_000,
            max_bytes: 4 << 20,
        }
    }
}

/// The 32-byte trailer, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trailer {
    pub sort_version: u8,
    /// Bytes per offset-table entry (1..=8).
    pub offset_int_size: u8,
    /// Bytes per object reference inside containers (1..=8).
    pub object_ref_size: u8,
    pub num_objects: u64,
    pub top_object: u64,
    pub offset_table_offset: u64,
}

/// Why a buffer cannot be decoded at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Shorter than [`MIN_LEN`].
    TooShort(usize),
    /// Does not start with "bplist0".
    BadMagic,
    /// The trailer's fields are unusable.
    BadTrailer(TrailerFault),
    /// The offset table does not lie between the header and the trailer.
    BadOffsetTable {
        offset: u64,
        num_objects: u64,
        entry_size: u8,
    },
}

/// Which trailer field is unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrailerFault {
    /// Offset int size not in 1..=8.
    OffsetIntSize(u8),
    /// Object ref size not in 1..=8.
    ObjectRefSize(u8),
    /// Zero objects.
    NoObjects,
    /// Top object number not below the number of objects.
    TopObject { top: u64, num_objects: u64 },
}

/// Something wrong or unusual inside a file that still decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anomaly {
    /// The byte after "bplist0" is not `'0'`.
    UnusualVersion(u8),
    /// Bytes between the end of the offset table and the trailer (CoreFoundation rejects).
    GapBeforeTrailer(usize),
    /// An object reference not below the number of objects.
    RefOutOfRange { obj: u64 },
    /// An offset-table entry pointing outside the object area.
    OffsetOutOfRange { obj: u64, offset: u64 },
    /// A reference to an object that is already on the current path (not followed).
    Cycle { obj: u64 },
    /// Nested deeper than [`Limits::max_depth`] (not followed).
    TooDeep { limit: usize },
    /// [`Limits::max_objects`] reached; the container at this span lost its remaining items.
    TooManyObjects { limit: usize },
    /// [`Limits::max_bytes`] reached.
    TooManyBytes { limit: usize },
    /// The object needs more bytes than the object area holds.
    Truncated { needed: u64, available: usize },
    /// A marker byte of no known type.
    UnknownMarker(u8),
    /// An int, real or date marker with a size nibble of no known width.
    BadWidth(u8),
    /// An extended count (nibble 0xF) not followed by a 1/2/4/8-byte int marker.
    BadCount(u8),
    /// An ASCII string with bytes above 0x7F.
    BadAscii,
    /// A UTF-16 string with unpaired surrogates (replaced by U+FFFD in the value).
    BadUtf16,
    /// A dictionary key that is not a string.
    NonStringKey,
}

/// One decoded object.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    /// The object number (index into the offset table).
    pub obj: u64,
    /// The object's own bytes: marker, extended count, payload (for containers: their
    /// references, not the children). For a [`Value::Error`] node: the object's bytes
    /// as far as they are known, or where the bad reference was found (the parent's
    /// reference bytes, or the offset-table entry).
    pub span: Span,
    /// Where the parent container holds the reference to this object (`None`: the root).
    pub ref_span: Option<Span>,
    pub value: Value<'a>,
}

/// A dictionary entry, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    pub key: Node<'a>,
    pub value: Node<'a>,
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    /// Fill byte (0x0F), padding with no value.
    Fill,
    /// Any int width (1, 2, 4 bytes unsigned; 8, 16 bytes signed).
    Int(i128),
    /// 4- or 8-byte IEEE float (4-byte ones widened).
    Real(f64),
    /// Seconds since 2001-01-01T00:00:00Z (see [`date_to_unix`]).
    Date(f64),
    Data(&'a [u8]),
    Ascii(&'a str),
    Utf16(String),
    /// Keyed-archiver UID, 1..=16 bytes.
    Uid(u128),
    Array(Vec<Node<'a>>),
    Set(Vec<Node<'a>>),
    Dict(Vec<Entry<'a>>),
    /// An object that could not be decoded (or was not followed).
    Error(Anomaly),
}

/// A decoded file.
#[derive(Debug, Clone, PartialEq)]
pub struct Plist<'a> {
    /// The byte after "bplist0" (normally `b'0'`).
    pub version: u8,
    pub trailer: Trailer,
    pub trailer_span: Span,
    pub offset_table_span: Span,
    pub root: Node<'a>,
    /// Every anomaly found, with where it is, in the order found — including those that
    /// also appear in the tree as [`Value::Error`] nodes.
    pub anomalies: Vec<Spanned<Anomaly>>,
    /// Nodes produced (what [`Limits::max_objects`] bounds).
    pub nodes: usize,
}

/// Cheap test: long enough and starts like a binary plist.
pub fn looks_like(buf: &[u8]) -> bool {
    buf.len() >= MIN_LEN && buf.starts_with(MAGIC_PREFIX)
}

/// Converts a plist date (seconds since 2001-01-01 UTC) to Unix time (seconds since 1970).
pub fn date_to_unix(secs_since_2001: f64) -> f64 {
    secs_since_2001 + DATE_EPOCH_UNIX
}

/// [`parse`] with [`Limits::default`].
pub fn parse_default(buf: &[u8]) -> Result<Plist<'_>, Error> {
    parse(buf, Limits::default())
}

fn header(i: &[u8]) -> IResult<&[u8], u8> {
    let (i, _) = tag(&MAGIC_PREFIX[..])(i)?;
    be_u8(i)
}

fn trailer(i: &[u8]) -> IResult<&[u8], Trailer> {
    let (i, _unused) = take(5usize)(i)?;
    let (i, sort_version) = be_u8(i)?;
    let (i, offset_int_size) = be_u8(i)?;
    let (i, object_ref_size) = be_u8(i)?;
    let (i, num_objects) = be_u64(i)?;
    let (i, top_object) = be_u64(i)?;
    let (i, offset_table_offset) = be_u64(i)?;
    Ok((
        i,
        Trailer {
            sort_version,
            offset_int_size,
            object_ref_size,
            num_objects,
            top_object,
            offset_table_offset,
        },
    ))
}

/// The big-endian unsigned int made of all of `b` (callers pass exactly the 1..=8
/// bytes the field has; hot path: offsets, references, counts).
#[inline]
fn be_u64_of(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// [`be_u64_of`] for 1..=16 bytes.
#[inline]
fn be_u128_of(b: &[u8]) -> u128 {
    b.iter().fold(0u128, |acc, &x| (acc << 8) | u128::from(x))
}

/// Decodes a binary plist. Fails only when the header, trailer or offset table is
/// unusable; everything else is reported in [`Plist::anomalies`] and, where a value
/// could not be produced, as [`Value::Error`] nodes.
pub fn parse(buf: &[u8], limits: Limits) -> Result<Plist<'_>, Error> {
    if buf.len() < MIN_LEN {
        return Err(Error::TooShort(buf.len()));
    }
    let (_, version) = header(buf).map_err(|_| Error::BadMagic)?;
    let trailer_at = buf.len() - TRAILER_LEN;
    let (_, t) = trailer(buf.get(trailer_at..).unwrap_or_default())
        .map_err(|_| Error::TooShort(buf.len()))?;
    if !(1..=8).contains(&t.offset_int_size) {
        return Err(Error::BadTrailer(TrailerFault::OffsetIntSize(
            t.offset_int_size,
        )));
    }
    if !(1..=8).contains(&t.object_ref_size) {
        return Err(Error::BadTrailer(TrailerFault::ObjectRefSize(
            t.object_ref_size,
        )));
    }
    if t.num_objects == 0 {
        return Err(Error::BadTrailer(TrailerFault::NoObjects));
    }
    if t.top_object >= t.num_objects {
        return Err(Error::BadTrailer(TrailerFault::TopObject {
            top: t.top_object,
            num_objects: t.num_objects,
        }));
    }
    let bad_table = Error::BadOffsetTable {
        offset: t.offset_table_offset,
        num_objects: t.num_objects,
        entry_size: t.offset_int_size,
    };
    // The table must start after at least one object byte and end before the trailer.
    let table = usize::try_from(t.offset_table_offset).map_err(|_| bad_table)?;
    let table_len = usize::try_from(t.num_objects)
        .ok()
        .and_then(|n| n.checked_mul(usize::from(t.offset_int_size)))
        .ok_or(bad_table)?;
    let table_end = table.checked_add(table_len).ok_or(bad_table)?;
    if table < HEADER_LEN + 1 || table_end > trailer_at {
        return Err(bad_table);
    }

    let mut d = Decoder {
        buf,
        objects_end: table,
        table,
        offset_size: usize::from(t.offset_int_size),
        ref_size: usize::from(t.object_ref_size),
        num_objects: t.num_objects,
        max_depth: limits.max_depth.min(HARD_MAX_DEPTH),
        limits,
        path: Vec::new(),
        nodes: 0,
        reserved: 0,
        bytes: 0,
        anomalies: Vec::new(),
    };
    if version != b'0' {
        d.anomaly(Anomaly::UnusualVersion(version), Span::new(7, 1));
    }
    if table_end < trailer_at {
        d.anomaly(
            Anomaly::GapBeforeTrailer(trailer_at - table_end),
            Span::new(table_end, trailer_at - table_end),
        );
    }
    let root = d.node(t.top_object, None, 0);
    Ok(Plist {
        version,
        trailer: t,
        trailer_span: Span::new(trailer_at, TRAILER_LEN),
        offset_table_span: Span::new(table, table_len),
        root,
        nodes: d.nodes,
        anomalies: d.anomalies,
    })
}

struct Decoder<'a> {
    buf: &'a [u8],
    /// Objects live in `buf[HEADER_LEN..objects_end]`.
    objects_end: usize,
    table: usize,
    offset_size: usize,
    ref_size: usize,
    num_objects: u64,
    max_depth: usize,
    limits: Limits,
    /// Object numbers of the containers being decoded, outermost first.
    path: Vec<u64>,
    nodes: usize,
    /// Nodes held back for dictionary values whose key is being decoded.
    reserved: usize,
    bytes: usize,
    anomalies: Vec<Spanned<Anomaly>>,
}

/// A failed object: what went wrong and how many of its bytes are known.
type Fail = (Anomaly, usize);

impl<'a> Decoder<'a> {
    fn anomaly(&mut self, a: Anomaly, span: Span) {
        self.anomalies.push(Spanned { value: a, span });
    }

    fn error_node(&mut self, obj: u64, a: Anomaly, span: Span, ref_span: Option<Span>) -> Node<'a> {
        self.anomaly(a, span);
        Node {
            obj,
            span,
            ref_span,
            value: Value::Error(a),
        }
    }

    /// The offset-table entry of `obj` (< num_objects) and where it is.
    fn entry(&self, obj: u64) -> Option<(u64, Span)> {
        let at = usize::try_from(obj)
            .ok()?
            .checked_mul(self.offset_size)?
            .checked_add(self.table)?;
        let bytes = self.buf.get(at..at.checked_add(self.offset_size)?)?;
        let off = be_u64_of(bytes);
        Some((off, Span::new(at, self.offset_size)))
    }

    fn node(&mut self, obj: u64, ref_span: Option<Span>, depth: usize) -> Node<'a> {
        self.nodes = self.nodes.saturating_add(1);
        let entry = if obj < self.num_objects {
            self.entry(obj)
        } else {
            None
        };
        let (off, entry_span) = match entry {
            Some(e) => e,
            None => {
                let at = ref_span.unwrap_or_default();
                return self.error_node(obj, Anomaly::RefOutOfRange { obj }, at, ref_span);
            }
        };
        let at = ref_span.unwrap_or(entry_span);
        if depth > self.max_depth {
            let a = Anomaly::TooDeep {
                limit: self.max_depth,
            };
            return self.error_node(obj, a, at, ref_span);
        }
        if self.path.contains(&obj) {
            return self.error_node(obj, Anomaly::Cycle { obj }, at, ref_span);
        }
        let start = match usize::try_from(off) {
            Ok(s) if s >= HEADER_LEN && s < self.objects_end => s,
            _ => {
                let a = Anomaly::OffsetOutOfRange { obj, offset: off };
                return self.error_node(obj, a, entry_span, ref_span);
            }
        };
        match self.object(obj, start, depth) {
            Ok((value, len)) => Node {
                obj,
                span: Span::new(start, len),
                ref_span,
                value,
            },
            Err((a, len)) => self.error_node(obj, a, Span::new(start, len.max(1)), ref_span),
        }
    }

    /// The object area from `start` (< objects_end) on.
    fn area(&self, start: usize) -> &'a [u8] {
        let buf: &'a [u8] = self.buf;
        buf.get(start..self.objects_end).unwrap_or_default()
    }

    /// `n` bytes at `at` of the object area, or `Truncated` (with the object's known length).
    fn bytes_at(&self, area: &'a [u8], at: usize, n: u64) -> Result<&'a [u8], Fail> {
        let needed = (at as u64).saturating_add(n);
        let trunc = (
            Anomaly::Truncated {
                needed,
                available: area.len(),
            },
            area.len(),
        );
        let n = usize::try_from(n).map_err(|_| trunc)?;
        let end = at.checked_add(n).ok_or(trunc)?;
        area.get(at..end).ok_or(trunc)
    }

    /// Counts `len` payload bytes against `max_bytes`.
    fn spend_bytes(&mut self, len: usize, known: usize) -> Result<(), Fail> {
        let total = self.bytes.saturating_add(len);
        if total > self.limits.max_bytes {
            return Err((
                Anomaly::TooManyBytes {
                    limit: self.limits.max_bytes,
                },
                known,
            ));
        }
        self.bytes = total;
        Ok(())
    }

    /// The count of a data/string/container object: (count, header length).
    fn count(&self, area: &'a [u8], marker: u8) -> Result<(u64, usize), Fail> {
        let nibble = marker & 0x0F;
        if nibble != 0x0F {
            return Ok((u64::from(nibble), 1));
        }
        let int_marker = *self.bytes_at(area, 1, 1)?.first().unwrap_or(&0);
        if !(0x10..=0x13).contains(&int_marker) {
            return Err((Anomaly::BadCount(int_marker), 2));
        }
        let width = 1usize << (int_marker & 0x0F);
        let raw = self.bytes_at(area, 2, width as u64)?;
        let n = be_u64_of(raw);
        Ok((n, 2 + width))
    }

    /// Decodes the object at `start`: (value, length of its own bytes).
    fn object(&mut self, obj: u64, start: usize, depth: usize) -> Result<(Value<'a>, usize), Fail> {
        let area = self.area(start);
        let marker = *area.first().ok_or((
            Anomaly::Truncated {
                needed: 1,
                available: 0,
            },
            0,
        ))?;
        let nibble = marker & 0x0F;
        match marker >> 4 {
            0x0 => match nibble {
                0x0 => Ok((Value::Null, 1)),
                0x8 => Ok((Value::Bool(false), 1)),
                0x9 => Ok((Value::Bool(true), 1)),
                0xF => Ok((Value::Fill, 1)),
                _ => Err((Anomaly::UnknownMarker(marker), 1)),
            },
            0x1 => {
                let width = match nibble {
                    0..=4 => 1usize << nibble,
                    _ => return Err((Anomaly::BadWidth(marker), 1)),
                };
                let raw = self.bytes_at(area, 1, width as u64)?;
                let u = be_u128_of(raw);
                let v = match width {
                    // Two's complement at 8 and 16 bytes; the narrower ones are unsigned.
                    8 => i128::from(u as u64 as i64),
                    16 => u as i128,
                    _ => u as i128,
                };
                Ok((Value::Int(v), 1 + width))
            }
            0x2 | 0x3 => {
                let is_date = marker >> 4 == 0x3;
                let width = match (is_date, nibble) {
                    (false, 2) => 4,
                    (_, 3) => 8,
                    _ if is_date => return Err((Anomaly::UnknownMarker(marker), 1)),
                    _ => return Err((Anomaly::BadWidth(marker), 1)),
                };
                let raw = self.bytes_at(area, 1, width)?;
                let bits = be_u64_of(raw);
                let f = if width == 4 {
                    f64::from(f32::from_bits(bits as u32))
                } else {
                    f64::from_bits(bits)
                };
                let v = if is_date {
                    Value::Date(f)
                } else {
                    Value::Real(f)
                };
                Ok((v, 1 + width as usize))
            }
            0x4..=0x6 => {
                let (n, hdr) = self.count(area, marker)?;
                let unit = if marker >> 4 == 0x6 { 2 } else { 1 };
                let raw = self.bytes_at(area, hdr, n.saturating_mul(unit))?;
                let len = hdr + raw.len();
                self.spend_bytes(raw.len(), len)?;
                match marker >> 4 {
                    0x4 => Ok((Value::Data(raw), len)),
                    // Keys and short strings dominate: an inline ASCII test, not a call.
                    0x5 => match raw.iter().all(u8::is_ascii).then(|| std::str::from_utf8(raw)) {
                        Some(Ok(s)) => Ok((Value::Ascii(s), len)),
                        _ => Err((Anomaly::BadAscii, len)),
                    },
                    _ => {
                        let units = raw
                            .chunks_exact(2)
                            .map(|c| u16::from_be_bytes([c[0], c[1]]));
                        let mut s = String::with_capacity(raw.len());
                        let mut lossy = false;
                        for c in char::decode_utf16(units) {
                            s.push(c.unwrap_or_else(|_| {
                                lossy = true;
                                char::REPLACEMENT_CHARACTER
                            }));
                        }
                        if lossy {
                            self.anomaly(Anomaly::BadUtf16, Span::new(start, len));
                        }
                        Ok((Value::Utf16(s), len))
                    }
                }
            }
            0x8 => {
                let width = usize::from(nibble) + 1;
                let raw = self.bytes_at(area, 1, width as u64)?;
                let u = be_u128_of(raw);
                Ok((Value::Uid(u), 1 + width))
            }
            0xA | 0xC | 0xD => self.container(obj, start, area, marker, depth),
            _ => Err((Anomaly::UnknownMarker(marker), 1)),
        }
    }

    fn container(
        &mut self,
        obj: u64,
        start: usize,
        area: &'a [u8],
        marker: u8,
        depth: usize,
    ) -> Result<(Value<'a>, usize), Fail> {
        let (n, hdr) = self.count(area, marker)?;
        let is_dict = marker >> 4 == 0xD;
        let per_item = (self.ref_size as u64) * if is_dict { 2 } else { 1 };
        let refs = self.bytes_at(area, hdr, n.saturating_mul(per_item))?;
        let len = hdr + refs.len();
        let span = Span::new(start, len);
        // `n` is now known to be at most the bytes present; still, reserve no more than
        // the node budget allows.
        let n = refs.len() / per_item as usize;
        let room = self.limits.max_objects.saturating_sub(self.nodes.saturating_add(self.reserved));
        let rs = self.ref_size;
        let read_ref = |i: usize| -> (u64, Span) {
            let at = i * rs;
            let r = refs.get(at..at + rs).map_or(u64::MAX, be_u64_of);
            (r, Span::new(start + hdr + at, rs))
        };

        self.path.push(obj);
        let value = if is_dict {
            let mut entries = Vec::with_capacity(n.min(room / 2));
            for i in 0..n {
                if self.nodes.saturating_add(self.reserved).saturating_add(2) > self.limits.max_objects {
                    self.anomaly(
                        Anomaly::TooManyObjects {
                            limit: self.limits.max_objects,
                        },
                        span,
                    );
                    break;
                }
                let (k, kspan) = read_ref(i);
                let (v, vspan) = read_ref(n + i);
                // The key is decoded with one node held back for its value: a container key
                // could otherwise use up the budget and leave the value one node over
                // `max_objects` (per level of such nesting; found by fuzzing).
                self.reserved += 1;
                let key = self.node(k, Some(kspan), depth + 1);
                self.reserved -= 1;
                if !matches!(
                    key.value,
                    Value::Ascii(_) | Value::Utf16(_) | Value::Error(_)
                ) {
                    self.anomaly(Anomaly::NonStringKey, key.span);
                }
                let value = self.node(v, Some(vspan), depth + 1);
                entries.push(Entry { key, value });
            }
            Value::Dict(entries)
        } else {
            let mut items = Vec::with_capacity(n.min(room));
            for i in 0..n {
                if self.nodes.saturating_add(self.reserved) >= self.limits.max_objects {
                    self.anomaly(
                        Anomaly::TooManyObjects {
                            limit: self.limits.max_objects,
                        },
                        span,
                    );
                    break;
                }
                let (r, rspan) = read_ref(i);
                items.push(self.node(r, Some(rspan), depth + 1));
            }
            if marker >> 4 == 0xA {
                Value::Array(items)
            } else {
                Value::Set(items)
            }
        };
        self.path.pop();
        Ok((value, len))
    }
}

// ------------------------------------------------------------------------------------
// Accessors and rendering.

impl<'a> Value<'a> {
    /// A short name of the type, for labels ("dict", "int", …).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Fill => "fill",
            Value::Int(_) => "int",
            Value::Real(_) => "real",
            Value::Date(_) => "date",
            Value::Data(_) => "data",
            Value::Ascii(_) => "string",
            Value::Utf16(_) => "string (UTF-16)",
            Value::Uid(_) => "uid",
            Value::Array(_) => "array",
            Value::Set(_) => "set",
            Value::Dict(_) => "dict",
            Value::Error(_) => "error",
        }
    }
    pub fn is_container(&self) -> bool {
        matches!(self, Value::Array(_) | Value::Set(_) | Value::Dict(_))
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
    /// The int, if it fits an `i64`.
    pub fn as_int(&self) -> Option<i64> {
        self.as_i128().and_then(|v| i64::try_from(v).ok())
    }
    /// The int, if it fits a `u64` (covers CoreFoundation's 16-byte unsigned values).
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|v| u64::try_from(v).ok())
    }
    pub fn as_i128(&self) -> Option<i128> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
    pub fn as_real(&self) -> Option<f64> {
        match self {
            Value::Real(v) => Some(*v),
            _ => None,
        }
    }
    /// A date, as seconds since 2001-01-01 UTC.
    pub fn as_date(&self) -> Option<f64> {
        match self {
            Value::Date(v) => Some(*v),
            _ => None,
        }
    }
    /// A date, as Unix time.
    pub fn as_unix_time(&self) -> Option<f64> {
        self.as_date().map(date_to_unix)
    }
    /// An ASCII or UTF-16 string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Ascii(s) => Some(s),
            Value::Utf16(s) => Some(s),
            _ => None,
        }
    }
    /// Data, borrowed from the parsed buffer.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Data(b) => Some(b),
            _ => None,
        }
    }
    pub fn as_uid(&self) -> Option<u128> {
        match self {
            Value::Uid(v) => Some(*v),
            _ => None,
        }
    }
    /// The items of an array or a set.
    pub fn as_array(&self) -> Option<&[Node<'a>]> {
        match self {
            Value::Array(v) | Value::Set(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_dict(&self) -> Option<&[Entry<'a>]> {
        match self {
            Value::Dict(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_error(&self) -> Option<Anomaly> {
        match self {
            Value::Error(a) => Some(*a),
            _ => None,
        }
    }
    /// The value of the first entry whose key is the string `key` (dicts only).
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.as_dict()?
            .iter()
            .find(|e| e.key.value.as_str() == Some(key))
            .map(|e| &e.value)
    }
    /// A compact one-line rendering for tree labels: scalars in full (strings quoted and
    /// cut at 64 characters, data as up to 16 bytes of hex), containers as their size.
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl<'a> Node<'a> {
    /// Dict lookup, see [`Value::get`].
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.value.get(key)
    }
}

impl<'a> Plist<'a> {
    /// Dict lookup on the root.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        self.root.get(key)
    }
}

const LABEL_MAX_CHARS: usize = 64;
const LABEL_MAX_BYTES: usize = 16;

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for (i, c) in s.chars().enumerate() {
        if i == LABEL_MAX_CHARS {
            return f.write_str("\"…");
        }
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Fill => f.write_str("fill"),
            Value::Int(v) => write!(f, "{v}"),
            // Debug: shortest round-trip form, exponent for huge/tiny ("1e300", "1.5").
            Value::Real(v) => write!(f, "{v:?}"),
            Value::Date(v) => f.write_str(&format_date(*v)),
            Value::Data(b) => {
                f.write_char('<')?;
                for x in b.iter().take(LABEL_MAX_BYTES) {
                    write!(f, "{x:02x}")?;
                }
                if b.len() > LABEL_MAX_BYTES {
                    f.write_char('…')?;
                }
                write!(
                    f,
                    "> ({} byte{})",
                    b.len(),
                    if b.len() == 1 { "" } else { "s" }
                )
            }
            Value::Ascii(s) => write_quoted(f, s),
            Value::Utf16(s) => write_quoted(f, s),
            Value::Uid(v) => write!(f, "UID({v})"),
            Value::Array(v) => write!(f, "array ({} item{})", v.len(), plural(v.len())),
            Value::Set(v) => write!(f, "set ({} item{})", v.len(), plural(v.len())),
            Value::Dict(v) => write!(
                f,
                "dict ({} entr{})",
                v.len(),
                if v.len() == 1 { "y" } else { "ies" }
            ),
            Value::Error(a) => write!(f, "error: {a}"),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Renders a plist date as "YYYY-MM-DD hh:mm:ss[.mmm] UTC"; out-of-range or non-finite
/// values as the raw number of seconds since 2001.
pub fn format_date(secs_since_2001: f64) -> String {
    let unix = date_to_unix(secs_since_2001);
    // ±1e14 s is about ±3 million years: far inside i64 milliseconds.
    if !unix.is_finite() || unix.abs() > 1e14 {
        return format!("{secs_since_2001:?} s since 2001-01-01 UTC");
    }
    let ms = (unix * 1000.0).round() as i64;
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (hh, mm, ss, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    if milli == 0 {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} UTC")
    } else {
        format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02}.{milli:03} UTC")
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Anomaly::UnusualVersion(v) => write!(f, "unusual bplist version byte 0x{v:02x}"),
            Anomaly::GapBeforeTrailer(n) => write!(f, "{n} bytes between offset table and trailer"),
            Anomaly::RefOutOfRange { obj } => {
                write!(f, "reference to object {obj}, past the last object")
            }
            Anomaly::OffsetOutOfRange { obj, offset } => {
                write!(
                    f,
                    "object {obj} at offset {offset}, outside the object area"
                )
            }
            Anomaly::Cycle { obj } => write!(f, "cyclic reference to object {obj} (not followed)"),
            Anomaly::TooDeep { limit } => {
                write!(f, "nested deeper than {limit} levels (not followed)")
            }
            Anomaly::TooManyObjects { limit } => {
                write!(f, "more than {limit} objects (rest not decoded)")
            }
            Anomaly::TooManyBytes { limit } => {
                write!(f, "more than {limit} payload bytes (not decoded)")
            }
            Anomaly::Truncated { needed, available } => {
                write!(f, "object needs {needed} bytes, only {available} present")
            }
            Anomaly::UnknownMarker(m) => write!(f, "unknown object marker 0x{m:02x}"),
            Anomaly::BadWidth(m) => write!(f, "unsupported size in marker 0x{m:02x}"),
            Anomaly::BadCount(m) => write!(f, "extended count with marker 0x{m:02x}, not an int"),
            Anomaly::BadAscii => f.write_str("non-ASCII bytes in an ASCII string"),
            Anomaly::BadUtf16 => f.write_str("invalid UTF-16 (unpaired surrogate)"),
            Anomaly::NonStringKey => f.write_str("dictionary key is not a string"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::TooShort(n) => write!(f, "{n} bytes, too short for a binary plist"),
            Error::BadMagic => f.write_str("not a binary plist (no \"bplist0\" magic)"),
            Error::BadTrailer(TrailerFault::OffsetIntSize(n)) => {
                write!(f, "bad trailer: offset size {n}")
            }
            Error::BadTrailer(TrailerFault::ObjectRefSize(n)) => {
                write!(f, "bad trailer: object ref size {n}")
            }
            Error::BadTrailer(TrailerFault::NoObjects) => f.write_str("bad trailer: no objects"),
            Error::BadTrailer(TrailerFault::TopObject { top, num_objects }) => {
                write!(f, "bad trailer: top object {top} of {num_objects}")
            }
            Error::BadOffsetTable {
                offset,
                num_objects,
                entry_size,
            } => write!(
                f,
                "offset table at {offset} ({num_objects} × {entry_size} bytes) outside the file"
            ),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    // -- Independent vectors (tests/data/bplist/gen.py, CPython plistlib) -------------

    macro_rules! sample {
        ($name:literal) => {
            (
                $name,
                include_bytes!(concat!("../../tests/data/bplist/", $name, ".bplist")) as &[u8],
                include_str!(concat!("../../tests/data/bplist/", $name, ".expected")),
            )
        };
    }

    const SAMPLES: &[(&str, &[u8], &str)] = &[
        sample!("scalars"),
        sample!("nested"),
        sample!("imessage"),
        sample!("unicode"),
        sample!("dates"),
        sample!("wide_refs"),
        sample!("big_offsets"),
        sample!("handmade"),
    ];

    fn sample_bytes(name: &str) -> &'static [u8] {
        SAMPLES.iter().find(|s| s.0 == name).map(|s| s.1).unwrap()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// The canonical rendering of gen.py's `canon`.
    fn canon(v: &Value<'_>, out: &mut String) {
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Fill => out.push_str("fill"),
            Value::Int(i) => out.push_str(&format!("i:{i}")),
            Value::Real(r) => out.push_str(&format!("r:{:016x}", r.to_bits())),
            Value::Date(r) => out.push_str(&format!("d:{:016x}", r.to_bits())),
            Value::Data(b) if b.len() > 256 => out.push_str(&format!(
                "b:{}:{}..{}",
                b.len(),
                hex(&b[..16]),
                hex(&b[b.len() - 16..])
            )),
            Value::Data(b) => out.push_str(&format!("b:{}", hex(b))),
            Value::Ascii(s) => out.push_str(&format!("a:{}", hex(s.as_bytes()))),
            Value::Utf16(s) => out.push_str(&format!("u:{}", hex(s.as_bytes()))),
            Value::Uid(u) => out.push_str(&format!("uid:{u}")),
            Value::Array(items) | Value::Set(items) => {
                if matches!(v, Value::Set(_)) {
                    out.push_str("set");
                }
                out.push('[');
                for (i, n) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canon(&n.value, out);
                }
                out.push(']');
            }
            Value::Dict(entries) => {
                out.push('{');
                for (i, e) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canon(&e.key.value, out);
                    out.push('=');
                    canon(&e.value.value, out);
                }
                out.push('}');
            }
            Value::Error(a) => out.push_str(&format!("ERR({a:?})")),
        }
    }

    /// Visits every node, depth first, with its depth.
    fn walk<'a, 'n>(n: &'n Node<'a>, depth: usize, f: &mut dyn FnMut(&'n Node<'a>, usize)) {
        f(n, depth);
        match &n.value {
            Value::Array(items) | Value::Set(items) => {
                items.iter().for_each(|c| walk(c, depth + 1, f))
            }
            Value::Dict(entries) => entries.iter().for_each(|e| {
                walk(&e.key, depth + 1, f);
                walk(&e.value, depth + 1, f);
            }),
            _ => {}
        }
    }

    /// Invariants that hold for any decoded buffer: every span is inside it, labels render.
    fn check_invariants(buf: &[u8], p: &Plist<'_>) {
        let inside = |s: Span| s.offset <= buf.len() && s.end() <= buf.len();
        assert!(inside(p.trailer_span) && inside(p.offset_table_span));
        for a in &p.anomalies {
            assert!(inside(a.span), "{a:?}");
            let _ = a.value.to_string();
        }
        let mut count = 0;
        walk(&p.root, 0, &mut |n, _| {
            count += 1;
            assert!(inside(n.span), "{n:?}");
            assert!(n.ref_span.into_iter().all(inside));
            let _ = n.value.label();
        });
        assert_eq!(count, p.nodes);
    }

    /// Checks that each well-formed node's span covers what its value says.
    fn check_spans(buf: &[u8], p: &Plist<'_>) {
        walk(&p.root, 0, &mut |n, _| {
            let bytes = &buf[n.span.offset..n.span.end()];
            let hi = bytes[0] >> 4;
            match &n.value {
                Value::Null | Value::Bool(_) | Value::Fill => assert_eq!(bytes.len(), 1),
                Value::Int(_) => assert_eq!(hi, 0x1),
                Value::Real(_) => assert_eq!(hi, 0x2),
                Value::Date(_) => assert_eq!(
                    bytes,
                    &[&[0x33][..], &buf[n.span.offset + 1..][..8]].concat()[..]
                ),
                Value::Data(d) => {
                    assert_eq!(hi, 0x4);
                    assert!(bytes.ends_with(d));
                }
                Value::Ascii(s) => {
                    assert_eq!(hi, 0x5);
                    assert!(bytes.ends_with(s.as_bytes()));
                }
                Value::Utf16(s) => {
                    assert_eq!(hi, 0x6);
                    let be: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect();
                    assert!(bytes.ends_with(&be));
                }
                Value::Uid(_) => assert_eq!(hi, 0x8),
                Value::Array(items) | Value::Set(items) => {
                    assert!(hi == 0xA || hi == 0xC);
                    for c in items {
                        let r = c.ref_span.unwrap();
                        assert!(r.offset >= n.span.offset && r.end() <= n.span.end());
                        let got = buf[r.offset..r.end()]
                            .iter()
                            .fold(0u64, |a, &x| a << 8 | x as u64);
                        assert_eq!(got, c.obj);
                    }
                }
                Value::Dict(entries) => {
                    assert_eq!(hi, 0xD);
                    assert_eq!(
                        bytes.len() % 2,
                        (bytes.len() - entries.len() * 2 * p.trailer.object_ref_size as usize) % 2
                    );
                    for e in entries {
                        for c in [&e.key, &e.value] {
                            let r = c.ref_span.unwrap();
                            assert!(r.offset >= n.span.offset && r.end() <= n.span.end());
                        }
                    }
                }
                Value::Error(_) => {}
            }
        });
    }

    #[test]
    fn plistlib_vectors_decode_exactly() {
        for &(name, buf, expected) in SAMPLES {
            let p = parse(buf, Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(p.anomalies.is_empty(), "{name}: {:?}", p.anomalies);
            assert_eq!(p.version, b'0');
            let mut got = String::new();
            canon(&p.root.value, &mut got);
            assert_eq!(got, expected.trim_end(), "{name}");
            check_invariants(buf, &p);
            check_spans(buf, &p);
        }
    }

    #[test]
    fn trailer_fields_and_widths() {
        let p = parse_default(sample_bytes("wide_refs")).unwrap();
        assert_eq!(
            (p.trailer.offset_int_size, p.trailer.object_ref_size),
            (2, 2)
        );
        assert_eq!(p.trailer.num_objects, 301);
        assert_eq!(p.root.value.as_array().unwrap().len(), 300);
        let p = parse_default(sample_bytes("big_offsets")).unwrap();
        assert_eq!(p.trailer.offset_int_size, 4);
        let items = p.root.value.as_array().unwrap();
        assert_eq!(items[0].value.as_bytes().unwrap().len(), 66000);
        assert_eq!(items[0].span.len, 1 + 1 + 4 + 66000); // 0x4F 0x12 <u32> data
        assert_eq!(items[2].value.as_int(), Some(42));
        let p = parse_default(sample_bytes("handmade")).unwrap();
        assert_eq!(p.trailer.offset_int_size, 3);
    }

    #[test]
    fn imessage_envelope() {
        let buf = sample_bytes("imessage");
        let p = parse_default(buf).unwrap();
        assert_eq!(p.get("c").unwrap().value.as_int(), Some(100));
        assert_eq!(p.get("E").unwrap().value.as_str(), Some("pair"));
        assert_eq!(
            p.get("ua").unwrap().value.as_str(),
            Some("[macOS,13.4.1,22F82,MacBookPro18,3]")
        );
        assert_eq!(p.get("v").unwrap().value.as_int(), Some(8));
        assert_eq!(p.get("i").unwrap().value.as_int(), Some(0x6C3A1F09));
        assert_eq!(
            p.get("U").unwrap().value.as_bytes().map(<[u8]>::len),
            Some(16)
        );
        assert_eq!(
            p.get("sP").unwrap().value.as_str(),
            Some("mailto:alice@example.com")
        );
        assert_eq!(
            p.get("tP").unwrap().value.as_str(),
            Some("tel:+15555550123")
        );
        assert_eq!(
            p.get("t").unwrap().value.as_bytes().map(<[u8]>::len),
            Some(32)
        );
        assert_eq!(
            p.get("P").unwrap().value.as_bytes().map(<[u8]>::len),
            Some(140)
        );
        assert_eq!(p.get("D").unwrap().value.as_bool(), Some(true));
        assert_eq!(
            p.get("e").unwrap().value.as_int(),
            Some(1686320096123456789)
        );
        assert!(p.get("missing").is_none());
        let dtl = p.get("dtl").unwrap().value.as_array().unwrap();
        assert_eq!(dtl.len(), 1);
        assert_eq!(
            dtl[0].get("tP").unwrap().value.as_str(),
            Some("mailto:bob@example.com")
        );
        assert_eq!(dtl[0].get("D").unwrap().value.as_bool(), Some(true));
        assert_eq!(
            dtl[0].get("sT").unwrap().value.as_bytes().map(<[u8]>::len),
            Some(32)
        );
        // Keys keep file order and their own spans.
        let keys: Vec<&str> = p
            .root
            .value
            .as_dict()
            .unwrap()
            .iter()
            .map(|e| e.key.value.as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            ["c", "E", "ua", "v", "i", "U", "sP", "tP", "t", "P", "sT", "D", "dtl", "e"]
        );
        let e = &p.root.value.as_dict().unwrap()[1];
        assert_eq!(&buf[e.key.span.offset..e.key.span.end()], b"\x51E");
        assert_eq!(&buf[e.value.span.offset..e.value.span.end()], b"\x54pair");
        // Zero-copy: data and ASCII strings point into the buffer.
        let u = p.get("U").unwrap();
        assert!(std::ptr::eq(
            u.value.as_bytes().unwrap().as_ptr(),
            buf[u.span.end() - 16..].as_ptr()
        ));
        // Labels.
        assert_eq!(p.root.value.label(), "dict (14 entries)");
        assert_eq!(p.get("E").unwrap().value.label(), "\"pair\"");
        assert_eq!(p.get("c").unwrap().value.label(), "100");
        assert_eq!(p.get("D").unwrap().value.label(), "true");
        assert_eq!(p.get("dtl").unwrap().value.label(), "array (1 item)");
        let t = p.get("t").unwrap().value.label();
        assert!(t.starts_with('<') && t.ends_with("…> (32 bytes)"), "{t}");
        assert_eq!(t.find('…'), Some(1 + 32));
    }

    #[test]
    fn scalar_helpers_and_labels() {
        let p = parse_default(sample_bytes("scalars")).unwrap();
        let v: Vec<&Value<'_>> = p
            .root
            .value
            .as_array()
            .unwrap()
            .iter()
            .map(|n| &n.value)
            .collect();
        assert_eq!(v[0], &Value::Null);
        assert_eq!(v[2].as_bool(), Some(true));
        assert_eq!(v[13].as_int(), Some(i64::MAX));
        assert_eq!(v[17].as_int(), Some(i64::MIN));
        assert_eq!(v[18].as_u64(), Some(1 << 63));
        assert_eq!(v[18].as_int(), None);
        assert_eq!(v[19].as_u64(), Some(u64::MAX));
        assert_eq!(v[19].label(), "18446744073709551615");
        assert_eq!(v[20].as_real(), Some(0.0));
        assert_eq!(v[21].label(), "1.5");
        assert!(v[27].as_real().unwrap().is_nan());
        assert_eq!(v[28].label(), "2001-01-01 00:00:00 UTC");
        assert_eq!(v[29].label(), "2023-06-01 12:34:56.789 UTC");
        assert_eq!(v[30].as_unix_time(), Some(0.0));
        assert_eq!(v[31].label(), "1999-12-31 23:59:59.500 UTC");
        assert_eq!(v[32].label(), "<> (0 bytes)");
        assert_eq!(v[33].label(), "<00> (1 byte)");
        assert_eq!(v[37].label(), "\"\"");
        assert_eq!(v[45].as_uid(), Some(256));
        assert_eq!(v[45].label(), "UID(256)");
        assert_eq!(v[48].as_uid(), Some(u64::MAX as u128));
        assert_eq!(date_to_unix(0.0), 978_307_200.0);
        assert_eq!(format_date(f64::NAN), "NaN s since 2001-01-01 UTC");
        assert_eq!(
            format_date(-978_307_200.0 - 86_400.0),
            "1969-12-31 00:00:00 UTC"
        );
        assert_eq!(format_date(1e300), "1e300 s since 2001-01-01 UTC");
        let p = parse_default(sample_bytes("dates")).unwrap();
        let l: Vec<String> = p
            .root
            .value
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.value.label())
            .collect();
        assert_eq!(
            l,
            [
                "2001-01-01 00:00:01 UTC",
                "2000-12-31 23:59:59 UTC",
                "1904-01-01 00:00:00 UTC",
                "2038-01-19 03:14:08 UTC",
                "2024-02-29 23:59:59.999 UTC",
                "9999-12-31 23:59:59 UTC"
            ]
        );
        let p = parse_default(sample_bytes("unicode")).unwrap();
        assert_eq!(
            p.get("h\u{e9}llo").unwrap().value.as_str(),
            Some("caf\u{e9}")
        );
        assert_eq!(
            p.get("emoji").unwrap().value.as_str(),
            Some("\u{1F600} grin \u{1F680}")
        );
        assert_eq!(p.get("ascii").unwrap().value, Value::Ascii("plain"));
        let long = p.get("long").unwrap().value.label();
        assert_eq!(long.chars().count(), 40 + 2);
        let x100 = "x".repeat(100);
        assert_eq!(Value::Ascii(&x100).label().chars().count(), 64 + 3); // quotes, ellipsis
        assert_eq!(Value::Ascii("a\"b\n").label(), "\"a\\\"b\\n\"");
    }

    // -- Hand-made files ----------------------------------------------------------------

    fn be(n: u64, size: usize) -> Vec<u8> {
        n.to_be_bytes()[8 - size..].to_vec()
    }

    /// Container object: marker with count, then refs (for a dict: keys, then values).
    fn cont(marker: u8, refs: &[u64], rs: usize) -> Vec<u8> {
        let n = if marker == 0xD0 {
            refs.len() / 2
        } else {
            refs.len()
        };
        let mut o = if n < 15 {
            vec![marker | n as u8]
        } else {
            let mut v = vec![marker | 0xF, 0x13];
            v.extend(be(n as u64, 8));
            v
        };
        for &r in refs {
            o.extend(be(r, rs));
        }
        o
    }

    /// Assembles a file; `dict` refs are given as keys then values.
    fn build(objs: &[Vec<u8>], top: u64, rs: u8, os: u8) -> Vec<u8> {
        let mut f = b"bplist00".to_vec();
        let mut offs = Vec::new();
        for o in objs {
            offs.push(f.len() as u64);
            f.extend(o);
        }
        let table = f.len() as u64;
        for off in offs {
            f.extend(be(off, os as usize));
        }
        f.extend([0, 0, 0, 0, 0, 0, os, rs]);
        f.extend(be(objs.len() as u64, 8));
        f.extend(be(top, 8));
        f.extend(be(table, 8));
        f
    }

    fn anomalies(p: &Plist<'_>) -> Vec<Anomaly> {
        p.anomalies.iter().map(|a| a.value).collect()
    }

    #[test]
    fn direct_and_indirect_cycles_are_reported_not_followed() {
        let f = build(&[cont(0xA0, &[0], 1)], 0, 1, 1);
        let p = parse_default(&f).unwrap();
        let items = p.root.value.as_array().unwrap();
        assert_eq!(items[0].value, Value::Error(Anomaly::Cycle { obj: 0 }));
        assert_eq!(items[0].span, Span::new(9, 1)); // the reference byte
        assert_eq!(anomalies(&p), [Anomaly::Cycle { obj: 0 }]);
        check_invariants(&f, &p);

        // dict 0 {"k": array 2 [dict 0]}
        let f = build(
            &[
                cont(0xD0, &[1, 2], 1),
                b"\x51k".to_vec(),
                cont(0xA0, &[0], 1),
            ],
            0,
            1,
            1,
        );
        let p = parse_default(&f).unwrap();
        let inner = p.get("k").unwrap().value.as_array().unwrap();
        assert_eq!(inner[0].value, Value::Error(Anomaly::Cycle { obj: 0 }));

        // Sharing without a cycle is fine: [s, s, [s]]
        let f = build(
            &[
                cont(0xA0, &[1, 1, 2], 1),
                b"\x51s".to_vec(),
                cont(0xA0, &[1], 1),
            ],
            0,
            1,
            1,
        );
        let p = parse_default(&f).unwrap();
        assert!(p.anomalies.is_empty());
        assert_eq!(p.nodes, 5);
    }

    fn chain(levels: usize) -> Vec<u8> {
        let rs = 2;
        let mut objs: Vec<Vec<u8>> = (0..levels - 1)
            .map(|i| cont(0xA0, &[i as u64 + 1], rs))
            .collect();
        objs.push(vec![0xA0]);
        build(&objs, 0, rs as u8, 3)
    }

    fn tree_depth(p: &Plist<'_>) -> usize {
        let mut max = 0;
        walk(&p.root, 0, &mut |_, d| max = max.max(d));
        max
    }

    #[test]
    fn deep_nesting_stops_at_the_limit_fast() {
        let f = chain(10_000);
        let t = Instant::now();
        let p = parse_default(&f).unwrap();
        assert!(t.elapsed() < Duration::from_secs(1));
        assert_eq!(tree_depth(&p), 33);
        assert_eq!(anomalies(&p), [Anomaly::TooDeep { limit: 32 }]);
        check_invariants(&f, &p);
        // A huge configured depth is clamped (no stack overflow).
        let lim = Limits {
            max_depth: usize::MAX,
            ..Limits::default()
        };
        let p = parse(&f, lim).unwrap();
        assert_eq!(tree_depth(&p), HARD_MAX_DEPTH + 1);
        assert_eq!(
            anomalies(&p),
            [Anomaly::TooDeep {
                limit: HARD_MAX_DEPTH
            }]
        );
        // Exactly at the limit: no anomaly.
        let f = chain(33);
        let p = parse_default(&f).unwrap();
        assert!(p.anomalies.is_empty());
        assert_eq!(tree_depth(&p), 32);
    }

    /// Found by `cargo fuzz run bplist` (fuzz/regressions/bplist/): a dict whose key is a
    /// container that used up the node budget still decoded its value, one node over
    /// `max_objects` per level of such nesting.
    #[test]
    fn container_keys_do_not_overshoot_the_object_limit() {
        // Object i = {i+1: i+1}, 30 levels, then an int.
        let n = 30;
        let mut objs: Vec<Vec<u8>> = (0..n - 1)
            .map(|i| cont(0xD0, &[i as u64 + 1, i as u64 + 1], 1))
            .collect();
        objs.push(b"\x10\x07".to_vec());
        let f = build(&objs, 0, 1, 1);
        let lim = Limits {
            max_depth: 100,
            max_objects: 10,
            ..Limits::default()
        };
        let p = parse(&f, lim).unwrap();
        assert!(p.nodes <= 10, "{} nodes", p.nodes);
        fn count(n: &Node<'_>) -> usize {
            1 + match &n.value {
                Value::Array(v) | Value::Set(v) => v.iter().map(count).sum(),
                Value::Dict(v) => v.iter().map(|e| count(&e.key) + count(&e.value)).sum(),
                _ => 0,
            }
        }
        assert!(count(&p.root) <= 10, "{} nodes in the tree", count(&p.root));
        assert!(anomalies(&p).contains(&Anomaly::TooManyObjects { limit: 10 }));
        check_invariants(&f, &p);
    }

    /// Found by the tshark mutation run (mutant 3650: every offset-table entry pointing at
    /// one 14-entry dict): an earlier fix of the test above that dropped an over-budget key
    /// and gave its nodes back let every level spend the budget again: exponential time and
    /// 24 GB of memory. Dicts whose keys and values are all dicts, 14 wide, 32 deep.
    #[test]
    fn dicts_of_dicts_stay_within_the_node_budget() {
        let n = 29u64;
        let refs: Vec<u64> = (1..n).collect();
        let objs: Vec<Vec<u8>> = (0..n).map(|_| cont(0xD0, &refs, 1)).collect();
        let f = build(&objs, 0, 1, 1);
        let t = Instant::now();
        let p = parse(&f, Limits::default()).unwrap();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(p.nodes <= 10_000, "{}", p.nodes);
        check_invariants(&f, &p);
        let real = include_bytes!("../../fuzz/regressions/bplist/oom-shared-dict-tshark-mutant-3650");
        let t = Instant::now();
        let p = parse(real, Limits::default()).unwrap();
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert!(p.nodes <= 10_000, "{}", p.nodes);
        check_invariants(real, &p);
    }

    #[test]
    fn shared_subtrees_are_bounded_by_the_object_limit() {
        // Object i = [i+1, i+1]: 2^61 paths through 60 levels.
        let n = 60;
        let mut objs: Vec<Vec<u8>> = (0..n - 1)
            .map(|i| cont(0xA0, &[i as u64 + 1, i as u64 + 1], 1))
            .collect();
        objs.push(b"\x10\x07".to_vec());
        let f = build(&objs, 0, 1, 1);
        let lim = Limits {
            max_depth: 100,
            ..Limits::default()
        };
        let t = Instant::now();
        let p = parse(&f, lim).unwrap();
        assert!(t.elapsed() < Duration::from_secs(1));
        assert_eq!(p.nodes, 10_000);
        assert!(anomalies(&p)
            .iter()
            .all(|a| *a == Anomaly::TooManyObjects { limit: 10_000 }));
        check_invariants(&f, &p);
        // Same with a dict of 2 × 1000 entries all pointing at one key/value.
        let big = cont(0xD0, &[[1u64; 5000], [2u64; 5000]].concat(), 1);
        let f = build(&[big, b"\x51k".to_vec(), b"\x09".to_vec()], 0, 1, 1);
        let p = parse(
            &f,
            Limits {
                max_objects: 101,
                ..Limits::default()
            },
        )
        .unwrap();
        assert_eq!(p.root.value.as_dict().unwrap().len(), 50);
        assert_eq!(p.nodes, 101);
    }

    #[test]
    fn payload_bytes_are_bounded() {
        let mut data = vec![0x4F, 0x10, 100];
        data.extend([0xAB; 100]);
        let f = build(&[cont(0xA0, &[1, 1, 1], 1), data], 0, 1, 1);
        let p = parse(
            &f,
            Limits {
                max_bytes: 250,
                ..Limits::default()
            },
        )
        .unwrap();
        let items = p.root.value.as_array().unwrap();
        assert_eq!(items[1].value.as_bytes().map(<[u8]>::len), Some(100));
        assert_eq!(
            items[2].value,
            Value::Error(Anomaly::TooManyBytes { limit: 250 })
        );
        assert_eq!(items[2].span.len, 103);
    }

    #[test]
    fn structural_failures() {
        let good = build(&[b"\x09".to_vec()], 0, 1, 1);
        assert_eq!(parse_default(&good).unwrap().root.value, Value::Bool(true));
        assert_eq!(parse_default(&good[..40]), Err(Error::TooShort(40)));
        assert_eq!(parse_default(b""), Err(Error::TooShort(0)));
        let mut bad = good.clone();
        bad[0] = b'B';
        assert_eq!(parse_default(&bad), Err(Error::BadMagic));
        let mut v15 = good.clone();
        v15[6] = b'1';
        assert_eq!(parse_default(&v15), Err(Error::BadMagic));
        let mut v01 = good.clone();
        v01[7] = b'1';
        let p = parse_default(&v01).unwrap();
        assert_eq!(anomalies(&p), [Anomaly::UnusualVersion(b'1')]);

        let t = good.len() - TRAILER_LEN;
        let patch = |at: usize, bytes: &[u8]| {
            let mut f = good.clone();
            f[t + at..t + at + bytes.len()].copy_from_slice(bytes);
            parse_default(&f).map(|_| ())
        };
        for rs in [0u8, 9, 255] {
            assert_eq!(
                patch(7, &[rs]),
                Err(Error::BadTrailer(TrailerFault::ObjectRefSize(rs)))
            );
            assert_eq!(
                patch(6, &[rs]),
                Err(Error::BadTrailer(TrailerFault::OffsetIntSize(rs)))
            );
        }
        assert_eq!(
            patch(8, &be(0, 8)),
            Err(Error::BadTrailer(TrailerFault::NoObjects))
        );
        assert_eq!(
            patch(16, &be(1, 8)),
            Err(Error::BadTrailer(TrailerFault::TopObject {
                top: 1,
                num_objects: 1
            }))
        );
        for table in [0, 8, 10, (good.len() + 100) as u64, u64::MAX] {
            assert!(
                matches!(patch(24, &be(table, 8)), Err(Error::BadOffsetTable { .. })),
                "{table}"
            );
        }
        for n in [2, 1 << 60, u64::MAX] {
            assert!(
                matches!(patch(8, &be(n, 8)), Err(Error::BadOffsetTable { .. })),
                "{n}"
            );
        }
        let mut wide = good.clone();
        wide[t + 6] = 8; // 8-byte offset entries no longer fit
        assert!(matches!(
            parse_default(&wide),
            Err(Error::BadOffsetTable { .. })
        ));
    }

    #[test]
    fn bad_objects_become_error_nodes() {
        // [ref 9 (out of range), obj 2 (offset past the area), "ok"]
        let mut f = build(
            &[
                cont(0xA0, &[9, 2, 3], 1),
                b"\x09".to_vec(),
                b"\x09".to_vec(),
                b"\x52ok".to_vec(),
            ],
            0,
            1,
            1,
        );
        let t = f.len() - TRAILER_LEN;
        let table = t - 4;
        f[table + 2] = 0xF0; // object 2's offset
        let p = parse_default(&f).unwrap();
        let items = p.root.value.as_array().unwrap();
        assert_eq!(
            items[0].value,
            Value::Error(Anomaly::RefOutOfRange { obj: 9 })
        );
        assert_eq!(items[0].span, Span::new(9, 1));
        assert_eq!(
            items[1].value,
            Value::Error(Anomaly::OffsetOutOfRange {
                obj: 2,
                offset: 0xF0
            })
        );
        assert_eq!(items[1].span, Span::new(table + 2, 1));
        assert_eq!(items[2].value.as_str(), Some("ok"));
        check_invariants(&f, &p);

        // Offsets into the header or the offset table are outside the object area.
        for off in [0u8, 7] {
            let mut g = build(&[b"\x09".to_vec()], 0, 1, 1);
            let at = g.len() - TRAILER_LEN - 1;
            g[at] = off;
            let p = parse_default(&g).unwrap();
            assert_eq!(
                p.root.value,
                Value::Error(Anomaly::OffsetOutOfRange {
                    obj: 0,
                    offset: off as u64
                })
            );
        }

        let cases: &[(&[u8], Anomaly)] = &[
            (
                &[0x13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xF0, 0xA0],
                Anomaly::Truncated {
                    needed: 0,
                    available: 0,
                },
            ),
            (b"\x70", Anomaly::UnknownMarker(0x70)),
            (b"\xE0", Anomaly::UnknownMarker(0xE0)),
            (b"\x01", Anomaly::UnknownMarker(0x01)),
            (b"\x34", Anomaly::UnknownMarker(0x34)),
            (b"\x15", Anomaly::BadWidth(0x15)),
            (b"\x24", Anomaly::BadWidth(0x24)),
            (b"\x5F\x20abc", Anomaly::BadCount(0x20)),
            (b"\x5F\x14abc", Anomaly::BadCount(0x14)),
            (b"\x53a\xFFc", Anomaly::BadAscii),
            (
                b"\x13\x01",
                Anomaly::Truncated {
                    needed: 9,
                    available: 2,
                },
            ),
            (
                b"\x53ab",
                Anomaly::Truncated {
                    needed: 4,
                    available: 3,
                },
            ),
            (
                b"\x4F\x13\x10\x00\x00\x00\x00\x00\x00\x00",
                Anomaly::Truncated {
                    needed: 10 + (1 << 60),
                    available: 10,
                },
            ),
            (
                b"\x6F\x13\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF",
                Anomaly::Truncated {
                    needed: u64::MAX,
                    available: 10,
                },
            ),
            (
                b"\xAF\x13\x10\x00\x00\x00\x00\x00\x00\x00",
                Anomaly::Truncated {
                    needed: 10 + (1 << 60),
                    available: 10,
                },
            ),
            (
                b"\xDF\x13\x40\x00\x00\x00\x00\x00\x00\x00",
                Anomaly::Truncated {
                    needed: (1 << 63) + 10,
                    available: 10,
                },
            ),
            (
                b"\xDF\x13\x80\x00\x00\x00\x00\x00\x00\x00",
                Anomaly::Truncated {
                    needed: u64::MAX,
                    available: 10,
                },
            ),
            (
                b"\xCF\x12\xFF\xFF\xFF\xFF",
                Anomaly::Truncated {
                    needed: 6 + 0xFFFF_FFFF,
                    available: 6,
                },
            ),
            (
                b"\x4F\x10",
                Anomaly::Truncated {
                    needed: 3,
                    available: 2,
                },
            ),
        ];
        for (i, (obj, want)) in cases.iter().enumerate() {
            let f = build(&[obj.to_vec()], 0, 1, 1);
            let t = Instant::now();
            let p = parse_default(&f).unwrap();
            assert!(t.elapsed() < Duration::from_millis(100));
            if i == 0 {
                // A fine int: -16 as i64 (the trailing 0xA0 is just more object area).
                assert_eq!(p.root.value.as_int(), Some(-16));
                continue;
            }
            assert_eq!(p.root.value, Value::Error(*want), "case {i}");
            assert_eq!(anomalies(&p), [*want], "case {i}");
            assert!(p.root.span.offset == 8 && p.root.span.len >= 1);
        }
    }

    #[test]
    fn lenient_anomalies_keep_the_value() {
        // Lone high surrogate; non-string key; a gap before the trailer.
        let utf16 = vec![0x62, 0xD8, 0x00, 0x00, 0x41];
        let mut f = build(
            &[
                cont(0xD0, &[1, 2, 3, 4], 1),
                utf16,
                b"\x10\x05".to_vec(),
                b"\x51x".to_vec(),
                b"\x08".to_vec(),
            ],
            0,
            1,
            1,
        );
        let t = f.len() - TRAILER_LEN;
        f.splice(t..t, [0u8; 3]);
        let p = parse_default(&f).unwrap();
        let e = p.root.value.as_dict().unwrap();
        assert_eq!(e[0].key.value.as_str(), Some("\u{FFFD}A"));
        assert_eq!(e[1].key.value.as_int(), Some(5));
        assert_eq!(p.get("\u{FFFD}A").unwrap().value.as_str(), Some("x"));
        assert_eq!(
            anomalies(&p),
            [
                Anomaly::GapBeforeTrailer(3),
                Anomaly::BadUtf16,
                Anomaly::NonStringKey
            ]
        );
        assert_eq!(p.anomalies[2].span, e[1].key.span);
        check_invariants(&f, &p);
    }

    #[test]
    fn truncation_at_every_byte_never_panics() {
        for &(name, buf, _) in SAMPLES {
            if buf.len() > 4096 {
                continue;
            }
            for n in 0..buf.len() {
                if let Ok(p) = parse_default(&buf[..n]) {
                    check_invariants(&buf[..n], &p);
                }
                // Also keep the trailer but cut the object area short.
                let mut cut = buf[..n.min(buf.len() - TRAILER_LEN)].to_vec();
                cut.extend_from_slice(&buf[buf.len() - TRAILER_LEN..]);
                if let Ok(p) = parse_default(&cut) {
                    check_invariants(&cut, &p);
                }
            }
            let _ = name;
        }
    }

    struct XorShift(u64);
    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn random_byte_flips_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut decoded = 0;
        let extra = [
            chain(50),
            build(&[cont(0xA0, &[0, 1], 1), b"\x09".to_vec()], 0, 1, 1),
        ];
        let mut inputs: Vec<&[u8]> = SAMPLES
            .iter()
            .map(|s| s.1)
            .filter(|b| b.len() < 4096)
            .collect();
        inputs.extend(extra.iter().map(Vec::as_slice));
        let t = Instant::now();
        for buf in inputs {
            for _ in 0..3000 {
                let mut f = buf.to_vec();
                for _ in 0..1 + rng.below(4) {
                    // Half the flips hit the offset table and trailer, which steer everything.
                    let at = if rng.next() & 1 == 0 {
                        rng.below(f.len())
                    } else {
                        f.len() - 1 - rng.below(f.len().min(TRAILER_LEN + 24))
                    };
                    f[at] = match rng.below(3) {
                        0 => rng.next() as u8,
                        1 => f[at] ^ (1 << rng.below(8)),
                        _ => [0x00, 0xFF, 0x0F, 0xAF, 0xDF, 0x13, 0x80][rng.below(7)],
                    };
                }
                let lim = Limits {
                    max_objects: 2_000,
                    ..Limits::default()
                };
                if let Ok(p) = parse(&f, lim) {
                    decoded += 1;
                    check_invariants(&f, &p);
                    assert!(p.nodes <= 2_000);
                }
            }
        }
        assert!(decoded > 1000, "{decoded}");
        assert!(t.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn looks_like_and_display() {
        assert!(looks_like(sample_bytes("imessage")));
        assert!(!looks_like(b"bplist00"));
        assert!(!looks_like(&[0u8; 64]));
        assert_eq!(
            Error::BadMagic.to_string(),
            "not a binary plist (no \"bplist0\" magic)"
        );
        assert_eq!(
            Value::Error(Anomaly::Cycle { obj: 3 }).label(),
            "error: cyclic reference to object 3 (not followed)"
        );
        assert_eq!(Value::Set(vec![]).label(), "set (0 items)");
        assert_eq!(Value::Uid(7).type_name(), "uid");
    }
}

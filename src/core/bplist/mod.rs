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
//!
//! Layout (after der-parser's `ber/`): this file holds the model ([`Plist`], [`Node`],
//! [`Value`], [`Anomaly`], [`Error`], [`Limits`]) and the public API; `decode` the
//! decoder ([`parse`]); `display` the one-line renderings (`Display` of [`Value`],
//! [`Anomaly`] and [`Error`], [`format_date`]); `tests` the unit tests.

mod decode;
mod display;

pub use decode::parse;
pub use display::format_date;

use crate::core::span::{Span, Spanned};

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
    /// Sort version byte (unused by CoreFoundation).
    pub sort_version: u8,
    /// Bytes per offset-table entry (1..=8).
    pub offset_int_size: u8,
    /// Bytes per object reference inside containers (1..=8).
    pub object_ref_size: u8,
    /// Number of objects (entries in the offset table).
    pub num_objects: u64,
    /// Object number of the root.
    pub top_object: u64,
    /// File offset of the offset table.
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
    /// The decoded value.
    pub value: Value<'a>,
}

/// A dictionary entry, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// The key (normally a string).
    pub key: Node<'a>,
    /// The value.
    pub value: Node<'a>,
}

/// A decoded value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// 0x00.
    Null,
    /// 0x08 false, 0x09 true.
    Bool(bool),
    /// Fill byte (0x0F), padding with no value.
    Fill,
    /// Any int width (1, 2, 4 bytes unsigned; 8, 16 bytes signed).
    Int(i128),
    /// 4- or 8-byte IEEE float (4-byte ones widened).
    Real(f64),
    /// Seconds since 2001-01-01T00:00:00Z (see [`date_to_unix`]).
    Date(f64),
    /// Raw data, borrowed from the buffer.
    Data(&'a [u8]),
    /// ASCII string, borrowed from the buffer.
    Ascii(&'a str),
    /// UTF-16BE string, decoded.
    Utf16(String),
    /// Keyed-archiver UID, 1..=16 bytes.
    Uid(u128),
    /// Array of references.
    Array(Vec<Node<'a>>),
    /// Set of references.
    Set(Vec<Node<'a>>),
    /// Dictionary: keys and values, in file order.
    Dict(Vec<Entry<'a>>),
    /// An object that could not be decoded (or was not followed).
    Error(Anomaly),
}

/// A decoded file.
#[derive(Debug, Clone, PartialEq)]
pub struct Plist<'a> {
    /// The byte after "bplist0" (normally `b'0'`).
    pub version: u8,
    /// The trailer's fields.
    pub trailer: Trailer,
    /// Where the trailer is.
    pub trailer_span: Span,
    /// Where the offset table is.
    pub offset_table_span: Span,
    /// The top object.
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
    /// Array, set or dict.
    pub fn is_container(&self) -> bool {
        matches!(self, Value::Array(_) | Value::Set(_) | Value::Dict(_))
    }
    /// A boolean.
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
    /// The int, at full width.
    pub fn as_i128(&self) -> Option<i128> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
    /// A real (4-byte ones widened).
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
    /// A keyed-archiver UID.
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
    /// The entries of a dict.
    pub fn as_dict(&self) -> Option<&[Entry<'a>]> {
        match self {
            Value::Dict(v) => Some(v),
            _ => None,
        }
    }
    /// What went wrong, for a [`Value::Error`].
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

#[cfg(test)]
mod tests;

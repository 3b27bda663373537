//! A small zero-copy reader of the protobuf wire format (the encoding only: no schema).
//!
//! ```text
//! field : key (varint: number << 3 | wire type) | value
//! value : varint (type 0) | 8 bytes (1) | varint length + bytes (2) | 4 bytes (5)
//! ```
//!
//! Wire types 3 and 4 (the deprecated groups) are reported, not followed. Every length is
//! checked against the bytes there before it is used; a varint longer than ten bytes, or
//! beyond 64 bits, is an error. The reader never recurses: a caller that decodes a nested
//! message runs another reader over the field's bytes, with its own depth bound.
//!
//! No dependency: the few lines below do all a dissector needs (spans for every part, typed
//! errors, no allocation), which the protobuf crates (prost, quick-protobuf) do not give
//! without a schema compiler or an owned copy.

use crate::core::span::Span;

/// At most this many fields are read from one message (the rest are counted as an error).
pub const MAX_FIELDS: usize = 4096;

crate::value_enum! {
    /// The wire type in the low three bits of a field's key.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum WireType: u8, open Unknown => "unknown wire type" {
        Varint = 0 => "varint";
        I64 = 1 => "64-bit";
        Len = 2 => "length-delimited";
        StartGroup = 3 => "start group";
        EndGroup = 4 => "end group";
        I32 = 5 => "32-bit";
    }
}

/// A field's value, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    /// Little-endian 8 bytes.
    I64(u64),
    Len(&'a [u8]),
    /// Little-endian 4 bytes.
    I32(u32),
}

/// One field, with where it is (spans relative to the reader's buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub number: u64,
    pub wire: WireType,
    pub value: Value<'a>,
    /// The whole field: key and value.
    pub span: Span,
    /// The value's bytes (for a length-delimited field: the bytes after the length).
    pub value_span: Span,
}

/// What was wrong, and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// A varint longer than ten bytes, or beyond 64 bits.
    BadVarint,
    /// The data ends inside a varint.
    TruncatedVarint,
    /// A length or fixed width runs past the end (`len` wanted, `available` there).
    PastEnd { len: u64, available: usize },
    /// Field number 0, which no message has.
    FieldZero,
    /// Wire type 3 or 4 (groups), or 6, 7: the rest cannot be framed.
    WireType(u8),
    /// More than [`MAX_FIELDS`] fields.
    TooManyFields,
}

impl Error {
    pub fn text(&self) -> String {
        match *self {
            Error::BadVarint => "varint longer than ten bytes or beyond 64 bits".into(),
            Error::TruncatedVarint => "data ends inside a varint".into(),
            Error::PastEnd { len, available } => format!("length {len} runs past the end ({available} bytes left)"),
            Error::FieldZero => "field number 0".into(),
            Error::WireType(t) => format!("wire type {t} cannot be read (groups, or undefined)"),
            Error::TooManyFields => format!("more than {MAX_FIELDS} fields"),
        }
    }
}

/// An error with the bytes it concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anomaly {
    pub error: Error,
    pub span: Span,
}

/// Reads a varint at the start of `b`: (value, bytes used).
pub fn varint(b: &[u8]) -> Result<(u64, usize), Error> {
    let mut v: u64 = 0;
    for (i, &byte) in b.iter().enumerate() {
        if i == 10 {
            return Err(Error::BadVarint);
        }
        let bits = u64::from(byte & 0x7f);
        if i == 9 && bits > 1 {
            return Err(Error::BadVarint);
        }
        v |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    if b.len() >= 10 {
        Err(Error::BadVarint)
    } else {
        Err(Error::TruncatedVarint)
    }
}

/// The fields of one message, in order. Stops at the first error, which
/// [`Reader::error`] then gives.
pub struct Reader<'a> {
    buf: &'a [u8],
    off: usize,
    count: usize,
    error: Option<Anomaly>,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, off: 0, count: 0, error: None }
    }
    /// The error that ended the reading, if any.
    pub fn error(&self) -> Option<Anomaly> {
        self.error
    }

    fn fail(&mut self, error: Error, start: usize) -> Option<Field<'a>> {
        self.error = Some(Anomaly { error, span: Span::new(start, self.buf.len() - start) });
        self.off = self.buf.len();
        None
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Field<'a>;
    fn next(&mut self) -> Option<Field<'a>> {
        let start = self.off;
        let rest = self.buf.get(start..)?;
        if rest.is_empty() {
            return None;
        }
        if self.count >= MAX_FIELDS {
            return self.fail(Error::TooManyFields, start);
        }
        let (key, kl) = match varint(rest) {
            Ok(k) => k,
            Err(e) => return self.fail(e, start),
        };
        let number = key >> 3;
        let wire = WireType::from_code((key & 7) as u8);
        if number == 0 {
            return self.fail(Error::FieldZero, start);
        }
        let after = &rest[kl..];
        let (value, vstart, vlen) = match wire {
            WireType::Varint => match varint(after) {
                Ok((v, n)) => (Value::Varint(v), kl, n),
                Err(e) => return self.fail(e, start),
            },
            WireType::I64 => match after.get(..8) {
                Some(b) => (Value::I64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8]))), kl, 8),
                None => return self.fail(Error::PastEnd { len: 8, available: after.len() }, start),
            },
            WireType::I32 => match after.get(..4) {
                Some(b) => (Value::I32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4]))), kl, 4),
                None => return self.fail(Error::PastEnd { len: 4, available: after.len() }, start),
            },
            WireType::Len => {
                let (len, ll) = match varint(after) {
                    Ok(x) => x,
                    Err(e) => return self.fail(e, start),
                };
                let body = &after[ll..];
                match usize::try_from(len).ok().and_then(|l| body.get(..l)) {
                    Some(b) => (Value::Len(b), kl + ll, b.len()),
                    None => return self.fail(Error::PastEnd { len, available: body.len() }, start),
                }
            }
            WireType::StartGroup | WireType::EndGroup | WireType::Unknown(_) => {
                return self.fail(Error::WireType(wire.code()), start)
            }
        };
        let total = vstart + vlen;
        self.off = start + total;
        self.count += 1;
        Some(Field {
            number,
            wire,
            value,
            span: Span::new(start, total),
            value_span: Span::new(start + vstart, vlen),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        // The protobuf encoding guide's examples: 1 = 01, 150 = 96 01.
        assert_eq!(varint(&[0x01]), Ok((1, 1)));
        assert_eq!(varint(&[0x96, 0x01]), Ok((150, 2)));
        // u64::MAX: nine 0xff then 0x01.
        let mut max = [0xffu8; 10];
        max[9] = 0x01;
        assert_eq!(varint(&max), Ok((u64::MAX, 10)));
        max[9] = 0x02;
        assert_eq!(varint(&max), Err(Error::BadVarint));
        assert_eq!(varint(&[0x80; 11]), Err(Error::BadVarint));
        assert_eq!(varint(&[0x80, 0x80]), Err(Error::TruncatedVarint));
        assert_eq!(varint(&[]), Err(Error::TruncatedVarint));
    }

    #[test]
    fn fields_and_spans() {
        // The guide's "testing" example: field 2, string "testing" = 12 07 74 65 73 74 69 6e 67,
        // then field 1 = 150 (08 96 01), a fixed32 (field 3: 1d) and a fixed64 (field 4: 21).
        let b = [
            0x12, 0x07, b't', b'e', b's', b't', b'i', b'n', b'g', 0x08, 0x96, 0x01, 0x1d, 1, 0, 0, 0, 0x21, 2, 0, 0, 0, 0,
            0, 0, 0,
        ];
        let mut r = Reader::new(&b);
        let f: Vec<Field<'_>> = r.by_ref().collect();
        assert_eq!(r.error(), None);
        assert_eq!(f.len(), 4);
        assert_eq!((f[0].number, f[0].wire, f[0].value), (2, WireType::Len, Value::Len(b"testing")));
        assert_eq!((f[0].span, f[0].value_span), (Span::new(0, 9), Span::new(2, 7)));
        assert_eq!((f[1].number, f[1].value, f[1].span), (1, Value::Varint(150), Span::new(9, 3)));
        assert_eq!((f[2].number, f[2].value), (3, Value::I32(1)));
        assert_eq!((f[3].number, f[3].value, f[3].value_span), (4, Value::I64(2), Span::new(18, 8)));
    }

    #[test]
    fn errors_stop_the_reader() {
        // Length 5 with 2 bytes there.
        let mut r = Reader::new(&[0x08, 0x01, 0x12, 0x05, 1, 2]);
        assert_eq!(r.by_ref().count(), 1);
        assert_eq!(r.error(), Some(Anomaly { error: Error::PastEnd { len: 5, available: 2 }, span: Span::new(2, 4) }));
        // A group (wire type 3), field 0, a truncated fixed64, a huge length.
        for (b, e) in [
            (&[0x0b, 0x00][..], Error::WireType(3)),
            (&[0x00, 0x00][..], Error::FieldZero),
            (&[0x09, 1, 2][..], Error::PastEnd { len: 8, available: 2 }),
            (&[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f][..], Error::PastEnd { len: 0xffff_ffff, available: 0 }),
            (&[0x08][..], Error::TruncatedVarint),
        ] {
            let mut r = Reader::new(b);
            assert_eq!(r.by_ref().count(), 0, "{b:02x?}");
            assert_eq!(r.error().map(|a| a.error), Some(e), "{b:02x?}");
        }
    }

    #[test]
    fn field_count_is_bounded() {
        let b: Vec<u8> = (0..MAX_FIELDS + 3).flat_map(|_| [0x08, 0x00]).collect();
        let mut r = Reader::new(&b);
        assert_eq!(r.by_ref().count(), MAX_FIELDS);
        assert_eq!(r.error().map(|a| a.error), Some(Error::TooManyFields));
    }
}

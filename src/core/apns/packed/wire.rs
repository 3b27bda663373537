//! The packed wire format's numbers and message framing (docs/apns.md, "Packed framing").
//!
//! ```text
//! message   : command (1) | length: tagged(8) | attribute*            (length bytes)
//! attribute : tag (1) | [key] | value-or-index
//! tagged(n) : the low n bits of a tag byte, or, when they are all ones, that mask plus a
//!             little-endian base-128 varint (7 bits a byte, high bit = more) that follows
//! ```
//!
//! Every reader here is given the bytes that follow the tag and returns how many of them it
//! used; none allocates, none loops longer than [`MAX_VARINT_LEN`] bytes.

use super::super::framing::{PduLen, MAX_PDU_LEN};

/// Attribute tag: the value is an index into the value cache (a tagged(8) number follows).
pub const TAG_VALUE_FROM_CACHE: u8 = 0x80;
/// Attribute tag: the value follows and its encoded bytes go into the value cache.
pub const TAG_VALUE_NEW_CACHED: u8 = 0x40;
/// Attribute tag: the key is key-cache entry `tag & 0x1f`.
pub const TAG_KEY_FROM_CACHE: u8 = 0x20;
/// Attribute tag: a key of tagged(4) + 1 bytes follows and goes into the key cache.
pub const TAG_KEY_NEW: u8 = 0x10;
/// Index bits of a key-cache reference.
pub const KEY_INDEX_MASK: u8 = 0x1f;
/// Bits of an inline one-byte key (0–15).
pub const KEY_INLINE_MASK: u8 = 0x0f;

/// Longest varint read: ten bytes carry 64 bits (the tenth only its lowest bit).
pub const MAX_VARINT_LEN: usize = 10;

/// Why a tagged number could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumError {
    /// The bytes end inside the varint (`have` bytes of it present).
    Truncated { have: usize },
    /// Ten bytes and the continuation bit still set: longer than any 64-bit number.
    TooLong,
    /// The number does not fit 64 bits (tenth byte above 1, or mask + varint overflows).
    Overflow,
}

impl NumError {
    /// How many bytes after the tag the failed number covers.
    pub fn span_len(self) -> usize {
        match self {
            NumError::Truncated { have } => have,
            NumError::TooLong | NumError::Overflow => MAX_VARINT_LEN,
        }
    }
}

/// A little-endian base-128 varint at the start of `b`: (value, bytes used).
pub fn varint(b: &[u8]) -> Result<(u64, usize), NumError> {
    let mut v = 0u64;
    for i in 0..MAX_VARINT_LEN {
        let Some(&byte) = b.get(i) else {
            return Err(NumError::Truncated { have: i });
        };
        let bits = u64::from(byte & 0x7f);
        if i == MAX_VARINT_LEN - 1 {
            if byte & 0x80 != 0 {
                return Err(NumError::TooLong);
            }
            if bits > 1 {
                return Err(NumError::Overflow);
            }
        }
        v |= bits << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    Err(NumError::TooLong)
}

/// The tagged number whose low `bits` bits are in `tag`, continued in `rest` when those bits
/// are all ones: (value, bytes of `rest` used).
pub fn tagged(bits: u32, tag: u8, rest: &[u8]) -> Result<(u64, usize), NumError> {
    let mask = ((1u32 << bits) - 1) as u8;
    if tag & mask != mask {
        return Ok((u64::from(tag & mask), 0));
    }
    let (v, used) = varint(rest)?;
    v.checked_add(u64::from(mask)).map(|n| (n, used)).ok_or(NumError::Overflow)
}

/// Bytes a tagged(`bits`) number takes after its tag byte (for encoders and tests).
pub fn tagged_len(bits: u32, value: u64) -> usize {
    let mask = (1u64 << bits) - 1;
    if value < mask {
        return 0;
    }
    let mut rest = value - mask;
    let mut n = 1;
    while rest >= 0x80 {
        rest >>= 7;
        n += 1;
    }
    n
}

/// The header of a packed message: command, declared body length, header bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command: u8,
    /// Body length in bytes (the attributes).
    pub length: u64,
    /// Bytes of the header: the command, the length byte and its varint.
    pub header_len: usize,
}

/// Why there is no header at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderError {
    /// Fewer bytes than the header needs (`need` at least).
    NeedMore(usize),
    /// The length's varint is longer than ten bytes or overflows.
    BadLength(NumError),
}

/// The header at the start of `buf`.
pub fn header(buf: &[u8]) -> Result<Header, HeaderError> {
    let (&command, rest) = buf.split_first().ok_or(HeaderError::NeedMore(2))?;
    let (&tag, rest) = rest.split_first().ok_or(HeaderError::NeedMore(2))?;
    match tagged(8, tag, rest) {
        Ok((length, used)) => Ok(Header { command, length, header_len: 2 + used }),
        Err(NumError::Truncated { have }) => Err(HeaderError::NeedMore(2 + have + 1)),
        Err(e) => Err(HeaderError::BadLength(e)),
    }
}

/// Length of the packed message at the start of `buf` (header included), from its header
/// only, for TCP reassembly. A body longer than `max` (or than Wireshark's 32-bit PDU
/// lengths allow), or a length varint that is not a number, is [`PduLen::TooLarge`].
pub fn pdu_len(buf: &[u8], max: u32) -> PduLen {
    match header(buf) {
        Err(HeaderError::NeedMore(n)) => PduLen::NeedMore(n),
        Err(HeaderError::BadLength(_)) => PduLen::TooLarge(u32::MAX),
        Ok(h) => {
            let too_large = PduLen::TooLarge(u32::try_from(h.length).unwrap_or(u32::MAX));
            if h.length > u64::from(max) {
                return too_large;
            }
            match usize::try_from(h.length).ok().and_then(|l| l.checked_add(h.header_len)) {
                Some(total) if total <= MAX_PDU_LEN => PduLen::Len(total),
                _ => too_large,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tagged_small_and_escaped() {
        // 8 bits: 0..=254 in the byte itself, 255 escapes.
        assert_eq!(tagged(8, 0, &[]), Ok((0, 0)));
        assert_eq!(tagged(8, 254, &[0x99]), Ok((254, 0)));
        assert_eq!(tagged(8, 0xff, &[0x00]), Ok((255, 1)));
        assert_eq!(tagged(8, 0xff, &[0x01]), Ok((256, 1)));
        // 300 = 255 + 45
        assert_eq!(tagged(8, 0xff, &[45]), Ok((300, 1)));
        // 4 bits inside a tag with other bits set: 0x1f → escape, 0x1e → 14.
        assert_eq!(tagged(4, 0x1e, &[]), Ok((14, 0)));
        assert_eq!(tagged(4, 0x1f, &[0x80, 0x01]), Ok((15 + 128, 2)));
        // 6 and 5 bits (data and string lengths)
        assert_eq!(tagged(6, 0x3e, &[]), Ok((62, 0)));
        assert_eq!(tagged(6, 0x3f, &[1]), Ok((64, 1)));
        assert_eq!(tagged(5, 0x5f, &[0]), Ok((31, 1)));
        assert_eq!(tagged(5, 0x5e, &[]), Ok((30, 0)));
    }

    #[test]
    fn varint_limits() {
        // The largest 64-bit number in ten bytes.
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&max), Ok((u64::MAX, 10)));
        // Tenth byte with more than its lowest bit: does not fit.
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(varint(&over), Err(NumError::Overflow));
        // Eleven bytes (ten with the continuation bit): too long, whatever follows.
        let long = [0x80u8; 11];
        assert_eq!(varint(&long), Err(NumError::TooLong));
        assert_eq!(varint(&[0x80; 10]), Err(NumError::TooLong));
        // Ends inside.
        assert_eq!(varint(&[0x80, 0x80]), Err(NumError::Truncated { have: 2 }));
        assert_eq!(varint(&[]), Err(NumError::Truncated { have: 0 }));
        // mask + varint overflows u64.
        assert_eq!(tagged(8, 0xff, &max), Err(NumError::Overflow));
        // Non-minimal zero padding is still read (as rustpush reads it).
        assert_eq!(varint(&[0x85, 0x80, 0x00]), Ok((5, 3)));
    }

    #[test]
    fn tagged_len_matches_reader() {
        for bits in [4u32, 5, 6, 8] {
            for v in [0u64, 1, 14, 15, 30, 31, 62, 63, 64, 254, 255, 256, 300, 1 << 20, u64::MAX - 255] {
                let mask = (1u64 << bits) - 1;
                let n = tagged_len(bits, v);
                if v < mask {
                    assert_eq!(n, 0);
                    assert_eq!(tagged(bits, v as u8, &[]), Ok((v, 0)));
                } else {
                    let mut rest = v - mask;
                    let mut b = vec![];
                    loop {
                        let byte = (rest & 0x7f) as u8;
                        rest >>= 7;
                        if rest == 0 {
                            b.push(byte);
                            break;
                        }
                        b.push(byte | 0x80);
                    }
                    assert_eq!(b.len(), n, "{bits} {v}");
                    assert_eq!(tagged(bits, mask as u8, &b), Ok((v, n)), "{bits} {v}");
                }
            }
        }
    }

    #[test]
    fn framing() {
        assert_eq!(pdu_len(&[], 100), PduLen::NeedMore(2));
        assert_eq!(pdu_len(&[0x0c], 100), PduLen::NeedMore(2));
        assert_eq!(pdu_len(&[0x0c, 0x00], 100), PduLen::Len(2));
        assert_eq!(pdu_len(&[0x0a, 0x10, 1, 2], 100), PduLen::Len(18));
        assert_eq!(pdu_len(&[0x0a, 0xfe], 1000), PduLen::Len(256));
        assert_eq!(pdu_len(&[0x0a, 0xfe], 100), PduLen::TooLarge(254));
        assert_eq!(pdu_len(&[0x07, 0xff], 10_000), PduLen::NeedMore(3));
        assert_eq!(pdu_len(&[0x07, 0xff, 0x80], 10_000), PduLen::NeedMore(4));
        // 255 + 0x81 0x01 (129) = 384 bytes of body, 4 of header.
        assert_eq!(pdu_len(&[0x07, 0xff, 0x81, 0x01], 10_000), PduLen::Len(388));
        assert_eq!(header(&[0x07, 0xff, 0x81, 0x01]), Ok(Header { command: 7, length: 384, header_len: 4 }));
        // Length varint longer than ten bytes: not a length.
        let mut b = vec![0x07, 0xff];
        b.extend([0x80; 11]);
        assert_eq!(pdu_len(&b, u32::MAX), PduLen::TooLarge(u32::MAX));
        assert_eq!(header(&b), Err(HeaderError::BadLength(NumError::TooLong)));
        // A length that fits u64 but not a 32-bit PDU.
        let b = [0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f];
        assert!(matches!(pdu_len(&b, u32::MAX), PduLen::TooLarge(_)));
    }
}

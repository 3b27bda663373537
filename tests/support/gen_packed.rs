//! OUR encoder of the packed framing (apns-pack-v1), written from the facts in docs/apns.md
//! ("Packed framing"), independent of `core::apns::packed`: for the cases rustpush's codec
//! (the oracle, tests/data/apns-packed) cannot make — malformed and hostile messages. Only
//! byte builders: every cache decision is the caller's (the caller says which key or value
//! index it refers to), so a test states the expected resolution itself.

/// A tag byte whose low `bits` hold `v` (with the `high` bits set), or the escape and a
/// base-128 varint of `v - mask`.
pub fn tagged(bits: u32, v: u64, high: u8) -> Vec<u8> {
    let mask = (1u64 << bits) - 1;
    if v < mask {
        return vec![high | v as u8];
    }
    let mut out = vec![high | mask as u8];
    let mut rest = v - mask;
    loop {
        let b = (rest & 0x7f) as u8;
        rest >>= 7;
        if rest == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

pub fn data(b: &[u8]) -> Vec<u8> {
    [tagged(6, b.len() as u64, 0x00), b.to_vec()].concat()
}

pub fn string(s: &str) -> Vec<u8> {
    [tagged(5, s.len() as u64, 0x40), s.as_bytes().to_vec()].concat()
}

pub fn int(v: i64) -> Vec<u8> {
    if (0..32).contains(&v) {
        return vec![0x80 | v as u8];
    }
    let m = v.unsigned_abs().to_be_bytes();
    let skip = m.iter().take_while(|&&b| b == 0).count().min(7);
    let mut out = vec![0xa0 | ((7 - skip) as u8) | if v < 0 { 0x08 } else { 0 }];
    out.extend_from_slice(&m[skip..]);
    out
}

pub fn dict(n: u64) -> Vec<u8> {
    tagged(4, n, 0xc0)
}

pub fn array(n: u64) -> Vec<u8> {
    tagged(4, n, 0xd0)
}

pub fn boolean(b: bool) -> Vec<u8> {
    vec![0xe0 | u8::from(b)]
}

/// Attribute tag flag: the value follows and is cached.
pub const NEW_VALUE: u8 = 0x40;
/// Attribute tag flag: a value-cache index follows instead of the value.
pub const FROM_CACHE: u8 = 0x80;

/// Tag of an attribute with the one-byte key `id` (0–15).
pub fn key_inline(id: u8, flags: u8) -> Vec<u8> {
    assert!(id < 16);
    vec![id | flags]
}

/// Tag and key bytes of an attribute whose key is in the data (and gets cached).
pub fn key_new(k: &[u8], flags: u8) -> Vec<u8> {
    [tagged(4, k.len() as u64 - 1, 0x10 | flags), k.to_vec()].concat()
}

/// Tag of an attribute whose key is key-cache entry `i` (0 = newest).
pub fn key_ref(i: u8, flags: u8) -> Vec<u8> {
    assert!(i < 32);
    vec![0x20 | i | flags]
}

/// A value-cache index (after a tag with [`FROM_CACHE`]).
pub fn vref(i: u64) -> Vec<u8> {
    tagged(8, i, 0)
}

/// A whole message: command, tagged(8) body length, body.
pub fn msg(cmd: u8, body: &[Vec<u8>]) -> Vec<u8> {
    let b = body.concat();
    [vec![cmd], tagged(8, b.len() as u64, 0), b].concat()
}

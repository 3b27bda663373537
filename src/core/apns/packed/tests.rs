//! Unit tests of the packed decoder. Inputs are written byte by byte from the layout in
//! docs/apns.md (helpers below only put tag bits and tagged numbers together).

use super::decode::*;
use super::state::*;
use super::*;
use super::probe::accepts;
use crate::core::apns::session::{Dir, Pos};
use crate::core::apns::items::Command;
use crate::core::span::Span;

/// A tag byte with its low `bits` holding `v`, or the escape and a varint.
fn tagged(bits: u32, v: u64, high: u8) -> Vec<u8> {
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
fn data(b: &[u8]) -> Vec<u8> {
    [tagged(6, b.len() as u64, 0x00), b.to_vec()].concat()
}
fn string(s: &str) -> Vec<u8> {
    [tagged(5, s.len() as u64, 0x40), s.as_bytes().to_vec()].concat()
}
fn int(v: i64) -> Vec<u8> {
    if (0..32).contains(&v) {
        return vec![0x80 | v as u8];
    }
    let m = v.unsigned_abs().to_be_bytes();
    let skip = m.iter().take_while(|&&b| b == 0).count().min(7);
    let mut out = vec![0xa0 | ((7 - skip) as u8) | if v < 0 { 0x08 } else { 0 }];
    out.extend_from_slice(&m[skip..]);
    out
}
fn dict(n: u64) -> Vec<u8> {
    tagged(4, n, 0xc0)
}
fn array(n: u64) -> Vec<u8> {
    tagged(4, n, 0xd0)
}
fn boolean(b: bool) -> Vec<u8> {
    vec![0xe0 | u8::from(b)]
}
/// Attribute flags.
const NEW_VALUE: u8 = 0x40;
const FROM_CACHE: u8 = 0x80;
fn key_inline(id: u8, flags: u8) -> Vec<u8> {
    vec![id | flags]
}
fn key_new(k: &[u8], flags: u8) -> Vec<u8> {
    [tagged(4, k.len() as u64 - 1, 0x10 | flags), k.to_vec()].concat()
}
fn key_ref(i: u8, flags: u8) -> Vec<u8> {
    vec![0x20 | i | flags]
}
fn vref(i: u64) -> Vec<u8> {
    tagged(8, i, 0)
}
fn msg(cmd: u8, body: &[Vec<u8>]) -> Vec<u8> {
    let b = body.concat();
    [vec![cmd], tagged(8, b.len() as u64, 0), b].concat()
}

fn conn() -> Conn {
    Conn::new(Sizes::ASSUMED)
}
fn kinds(m: &Message<'_>) -> Vec<AnomalyKind> {
    m.anomalies.iter().map(|a| a.kind).collect()
}

#[test]
fn every_value_type() {
    let payload = [
        dict(6),
        key_new(b"s", 0),
        string("hé"),
        key_new(b"d", 0),
        data(&[1, 2, 3]),
        key_new(b"i", 0),
        int(-300),
        key_new(b"b", 0),
        boolean(true),
        key_new(b"a", 0),
        array(3),
        int(7),
        int(1 << 40),
        boolean(false),
        key_new(b"n", 0),
        dict(0),
    ]
    .concat();
    let buf = msg(0x0a, &[key_inline(3, 0), payload.clone(), key_inline(4, 0), int(42)]);
    let mut c = conn();
    let m = c.decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    assert_eq!(m.command, Command::Message);
    assert_eq!(m.length, (buf.len() - 2) as u64);
    assert_eq!(m.consumed, buf.len());
    assert_eq!(m.attrs.len(), 2);
    let a = &m.attrs[0];
    assert_eq!(a.key, Key::Inline(3));
    assert_eq!(a.value_from, ValueFrom::Inline);
    let v = a.value.as_ref().unwrap();
    assert_eq!(v.loc, Loc::packet(Span::new(3, payload.len())));
    let Node::Dict(members) = &v.node else { panic!("{:?}", v.node) };
    let keys: Vec<&[u8]> = members.iter().map(|a| m.key_bytes(&a.key).unwrap()).collect();
    assert_eq!(keys, [&b"s"[..], b"d", b"i", b"b", b"a", b"n"]);
    let node = |i: usize| &members[i].value.as_ref().unwrap().node;
    let Node::String { loc, utf8: true } = *node(0) else { panic!() };
    assert_eq!(m.text(loc), "hé");
    let Node::Data(loc) = *node(1) else { panic!() };
    assert_eq!(m.bytes(loc), [1, 2, 3]);
    assert_eq!(node(2).as_i64(), Some(-300));
    assert_eq!(*node(3), Node::Bool(true));
    let Node::Array(items) = node(4) else { panic!() };
    let ints: Vec<Option<i64>> = items.iter().map(|i| i.node.as_i64()).collect();
    assert_eq!(ints, [Some(7), Some(1 << 40), None]);
    assert_eq!(items[2].node, Node::Bool(false));
    assert_eq!(*node(5), Node::Dict(vec![]));
    assert_eq!(m.attrs[1].value.as_ref().unwrap().node.as_u64(), Some(42));
    // Every new key went into the key cache, in order.
    assert_eq!(c.caches(Dir::ToDevice).keys.len(), 6);
    assert!(c.caches(Dir::ToServer).keys.is_empty());
}

#[test]
fn int_forms() {
    for (bytes, want, long) in [
        (vec![0x80], 0i64, false),
        (vec![0x9f], 31, false),
        (vec![0xa0, 0x20], 32, true),
        (vec![0xa8, 0x01], -1, true),
        (vec![0xa1, 0x01, 0x00], 256, true),
        (vec![0xa7, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], i64::MAX, true),
        (vec![0xaf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], -i64::MAX, true),
    ] {
        let buf = msg(0x14, &[key_inline(1, 0), bytes.clone()]);
        let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &buf, true);
        assert!(m.anomalies.is_empty(), "{bytes:02x?}: {:?}", m.anomalies);
        let n = &m.attrs[0].value.as_ref().unwrap().node;
        assert_eq!(n.as_i64(), Some(want), "{bytes:02x?}");
        assert!(matches!(n, Node::Int { long: l, .. } if *l == long));
    }
    // Our encoder's forms agree with the reader.
    for v in [0i64, 5, 31, 32, 255, 256, -1, -31, 1 << 33, i64::MIN + 1] {
        let buf = msg(0x14, &[key_inline(1, 0), int(v)]);
        let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &buf, true);
        assert_eq!(m.attrs[0].value.as_ref().unwrap().node.as_i64(), Some(v));
    }
    // Eight bytes with the top bit set: beyond i64 (rustpush overflows).
    let buf = msg(0x14, &[key_inline(1, 0), vec![0xa7, 0x80, 0, 0, 0, 0, 0, 0, 0]]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::IntOutOfRange]);
    assert_eq!(m.attrs[0].value.as_ref().unwrap().node.as_i64(), None);
    // Bit 0x10 of the long form has no known meaning.
    let buf = msg(0x14, &[key_inline(1, 0), vec![0xb0, 0x05]]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::ReservedBits { tag: 0xb0, bits: 0x10 }]);
}

#[test]
fn long_lengths_use_varints() {
    // A 300-byte string, a 100-byte data, a 20-element array, a 17-byte key.
    let s = "x".repeat(300);
    let key = b"seventeen-bytes!!";
    let elems: Vec<u8> = (0..20).flat_map(int).collect();
    let buf = msg(0x0a, &[key_new(key, 0), string(&s), key_inline(5, 0), data(&[7; 100]), key_inline(6, 0), array(20), elems]);
    assert_eq!(buf[1], 0xff); // message length itself escaped
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    assert_eq!(m.key_bytes(&m.attrs[0].key).unwrap(), key);
    let Node::String { loc, .. } = m.attrs[0].value.as_ref().unwrap().node else { panic!() };
    assert_eq!(m.text(loc).len(), 300);
    let Node::Data(loc) = m.attrs[1].value.as_ref().unwrap().node else { panic!() };
    assert_eq!(loc.span.len, 100);
    let Node::Array(v) = &m.attrs[2].value.as_ref().unwrap().node else { panic!() };
    assert_eq!(v.len(), 20);
}

#[test]
fn key_and_value_caches_resolve_and_replay() {
    let token = [0xab; 32];
    let topic = [0x11; 20];
    let mut c = conn();
    // Message 1: token and topic new-cached (values), keys inline; payload with new keys.
    let m1 = msg(0x0a, &[
        key_inline(1, NEW_VALUE), data(&token),
        key_inline(2, NEW_VALUE), data(&topic),
        key_inline(3, 0), dict(2), key_new(b"sP", NEW_VALUE), string("tel:+1555"), key_new(b"c", 0), int(100),
        key_inline(4, 0), int(1),
    ]);
    // Message 2: the same from the caches: token is value #2 (newest is the sP string),
    // topic #1; payload keys from the key cache: "c" is #0, "sP" #1; sP's value #0.
    let m2 = msg(0x0a, &[
        key_inline(1, FROM_CACHE), vref(2),
        key_inline(2, FROM_CACHE), vref(1),
        key_inline(3, 0), dict(2), key_ref(1, FROM_CACHE), vref(0), key_ref(0, 0), int(101),
        key_inline(4, 0), int(2),
    ]);
    let first = c.decode(Pos::new(10, 0), Dir::ToDevice, &m1, true);
    assert!(first.anomalies.is_empty(), "{:?}", first.anomalies);
    assert_eq!(first.attrs[0].value_from, ValueFrom::NewCached { seq: Some(0), evicted: 0 });
    assert_eq!(first.attrs[1].value_from, ValueFrom::NewCached { seq: Some(1), evicted: 0 });
    let Node::Dict(p) = &first.attrs[2].value.as_ref().unwrap().node else { panic!() };
    assert!(matches!(p[0].key, Key::New { seq: Some(0), .. }));
    assert_eq!(p[0].value_from, ValueFrom::NewCached { seq: Some(2), evicted: 0 });
    assert!(matches!(p[1].key, Key::New { seq: Some(1), .. }));
    let check = |m: &Message<'_>| {
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
        let a = &m.attrs[0];
        let ValueFrom::Cached { index: 2, entry, evicted: false, .. } = a.value_from else { panic!("{:?}", a.value_from) };
        assert_eq!(m.entry(entry).unwrap().seq, 0);
        assert_eq!(m.entry(entry).unwrap().frame, 10);
        let Node::Data(loc) = a.value.as_ref().unwrap().node else { panic!() };
        assert!(!loc.in_packet());
        assert_eq!(m.bytes(loc), token);
        // Shown at the index byte in the packet.
        assert_eq!(a.value.as_ref().unwrap().at, Span::new(3, 1));
        let Node::Data(loc) = m.attrs[1].value.as_ref().unwrap().node else { panic!() };
        assert_eq!(m.bytes(loc), topic);
        let Node::Dict(p) = &m.attrs[2].value.as_ref().unwrap().node else { panic!() };
        assert_eq!(m.key_bytes(&p[0].key).unwrap(), b"sP");
        assert!(matches!(p[0].key, Key::Cached { index: 1, .. }));
        let Node::String { loc, .. } = p[0].value.as_ref().unwrap().node else { panic!() };
        assert_eq!(m.text(loc), "tel:+1555");
        assert_eq!(m.key_bytes(&p[1].key).unwrap(), b"c");
        assert_eq!(p[1].value.as_ref().unwrap().node.as_i64(), Some(101));
    };
    let second = c.decode(Pos::new(11, 0), Dir::ToDevice, &m2, true);
    check(&second);
    // Later passes, in any order, from the records: the same.
    for _ in 0..2 {
        check(&c.decode(Pos::new(11, 0), Dir::ToDevice, &m2, false));
        let again = c.decode(Pos::new(10, 0), Dir::ToDevice, &m1, false);
        assert_eq!(again.attrs, first.attrs);
        assert!(again.anomalies.is_empty());
    }
    // The other direction's caches are separate: the same bytes there miss.
    let other = c.decode(Pos::new(12, 0), Dir::ToServer, &m2, true);
    assert!(kinds(&other).contains(&AnomalyKind::ValueCacheMiss { index: 2, cached: 0 }));
    assert!(kinds(&other).contains(&AnomalyKind::KeyCacheMiss { index: 1, cached: 0 }));
}

#[test]
fn cache_index_past_the_end() {
    let mut c = conn();
    let buf = msg(0x0b, &[key_ref(3, 0), int(1), key_inline(4, FROM_CACHE), vref(7), key_inline(8, 0), int(0)]);
    let m = c.decode(Pos::new(1, 0), Dir::ToServer, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::KeyCacheMiss { index: 3, cached: 0 }, AnomalyKind::ValueCacheMiss { index: 7, cached: 0 }]);
    assert_eq!(m.anomalies[0].at, Span::new(2, 1));
    assert_eq!(m.anomalies[1].at, Span::new(5, 1));
    assert_eq!(m.attrs[0].key, Key::Missing { index: 3, cached: 0 });
    assert!(matches!(m.attrs[1].value_from, ValueFrom::Missing { index: 7, cached: 0, .. }));
    // The message goes on after a miss (the index's length is known).
    assert_eq!(m.attrs.len(), 3);
    assert_eq!(m.attrs[2].value.as_ref().unwrap().node.as_i64(), Some(0));
    // A huge index (varint).
    let buf = msg(0x0b, &[key_inline(4, FROM_CACHE), vref(u64::MAX)]);
    let m = c.decode(Pos::new(2, 0), Dir::ToServer, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::ValueCacheMiss { index: u64::MAX, cached: 0 }]);
    // Replayed the same.
    let b_ = msg(0x0b, &[key_ref(3, 0), int(1), key_inline(4, FROM_CACHE), vref(7), key_inline(8, 0), int(0)]);
    let again = c.decode(Pos::new(1, 0), Dir::ToServer, &b_, false);
    assert_eq!(kinds(&again), [AnomalyKind::KeyCacheMiss { index: 3, cached: 0 }, AnomalyKind::ValueCacheMiss { index: 7, cached: 0 }]);
}

#[test]
fn value_cache_over_its_size_and_evicted_references() {
    // Cache of 100 bytes; a 90-byte value does not fit (90 + 32 > 100).
    let mut c = Conn::new(Sizes { to_server: 100, to_device: 100, source: SizeSource::AlpnSizes });
    let big = msg(0x0a, &[key_inline(3, NEW_VALUE), data(&[5; 90])]);
    let m = c.decode(Pos::new(1, 0), Dir::ToServer, &big, true);
    assert_eq!(kinds(&m), [AnomalyKind::ValueLargerThanCache { len: 92, size: 100 }]);
    assert_eq!(c.caches(Dir::ToServer).values.len(), 1);
    // The other direction: entries of 1 + 8 bytes cost 41; two fit, a third pushes out
    // the oldest.
    let small = |b: u8| msg(0x0a, &[key_inline(5, NEW_VALUE), data(&[b; 8])]);
    for (i, b) in [1u8, 2, 3].iter().enumerate() {
        let b_ = small(*b);
        let m = c.decode(Pos::new(2 + i as u32, 0), Dir::ToDevice, &b_, true);
        assert!(m.anomalies.is_empty(), "{i}: {:?}", m.anomalies);
    }
    let caches = c.caches(Dir::ToDevice);
    assert_eq!(caches.values.len(), 2);
    // Index 2 is past the end of this cache: the evicted entry is shown, reported.
    let r = msg(0x0a, &[key_inline(5, FROM_CACHE), vref(2)]);
    let m = c.decode(Pos::new(9, 0), Dir::ToDevice, &r, true);
    assert_eq!(kinds(&m), [AnomalyKind::ValueCacheEvicted { index: 2, cached: 2 }]);
    let ValueFrom::Cached { evicted: true, .. } = m.attrs[0].value_from else { panic!() };
    let Node::Data(loc) = m.attrs[0].value.as_ref().unwrap().node else { panic!() };
    assert_eq!(m.bytes(loc), [1; 8]);
}

#[test]
fn lengths_past_the_data() {
    // Data length 10 with 3 bytes there.
    let buf = [vec![0x0a, 5], key_inline(3, 0), vec![0x0a, 1, 2, 3]].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::PastEnd { what: Num::DataLength, len: 10, available: 3 }]);
    assert_eq!(m.attrs.len(), 1);
    assert!(m.attrs[0].value.is_none());
    // String and int bytes.
    let buf = [vec![0x0a, 3], key_inline(3, 0), vec![0x45, b'a']].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::PastEnd { what: Num::StringLength, len: 5, available: 1 }]);
    let buf = [vec![0x14, 3], key_inline(1, 0), vec![0xa3, 1]].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::PastEnd { what: Num::IntBytes, len: 4, available: 1 }]);
    // A dictionary that says 14 members with 2 bytes left: reported before looping.
    let buf = [vec![0x0a, 4], key_inline(3, 0), vec![0xce, 0x01, 0x80]].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m)[0], AnomalyKind::PastEnd { what: Num::Count, len: 14, available: 2 });
    // A count of 2^60 (varint) costs nothing.
    let huge = [vec![0xcf], vec![0xff; 8], vec![0x0f]].concat();
    let buf = msg(0x0a, &[key_inline(3, 0), huge]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert!(matches!(kinds(&m)[0], AnomalyKind::PastEnd { what: Num::Count, .. }), "{:?}", m.anomalies);
    // The body is shorter than the header says (cut capture).
    let buf = [vec![0x0a, 50], key_inline(4, 0), int(1)].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::Truncated { declared: 50, available: 2 }]);
    assert_eq!(m.attrs.len(), 1);
    // An attribute whose value tag is missing.
    let buf = [vec![0x0a, 1], key_inline(4, 0)].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::PastEnd { what: Num::Tag, len: 1, available: 0 }]);
}

#[test]
fn key_longer_than_the_message() {
    // New key of 16 bytes (nibble 15 → varint 0 → 15 + 0 + 1) with 3 bytes left.
    let buf = [vec![0x0a, 5], vec![0x1f, 0x00, b'a', b'b', b'c']].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::PastEnd { what: Num::KeyLength, len: 16, available: 3 }]);
    assert!(m.attrs.is_empty());
    // A key length of 2^63 (rustpush allocates it): only reported.
    let buf = [vec![0x0a, 11], vec![0x1f], vec![0xff; 8], vec![0x7f], vec![0x80]].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert!(matches!(kinds(&m)[..], [AnomalyKind::PastEnd { what: Num::KeyLength, .. }]), "{:?}", m.anomalies);
    // Nothing was cached.
    let mut c = conn();
    c.decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert!(c.caches(Dir::ToDevice).keys.is_empty());
}

#[test]
fn varints_longer_than_ten_bytes() {
    use super::wire::NumError;
    // A data length escaped with eleven continuation bytes.
    let body = [key_inline(3, 0), vec![0x3f], vec![0x80; 11], vec![0x01]].concat();
    let buf = msg(0x0a, &[body]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::BadNumber { what: Num::DataLength, err: NumError::TooLong }]);
    // The message length itself.
    let buf = [vec![0x0a, 0xff], vec![0xff; 12]].concat();
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::BadNumber { what: Num::MessageLength, err: NumError::TooLong }]);
    assert_eq!(super::wire::pdu_len(&buf, u32::MAX), crate::core::apns::framing::PduLen::TooLarge(u32::MAX));
    // A cache index beyond 64 bits.
    let body = [key_inline(4, FROM_CACHE), vec![0xff], vec![0xff; 9], vec![0x01]].concat();
    let b_ = msg(0x0a, &[body]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &b_, true);
    assert_eq!(kinds(&m), [AnomalyKind::BadNumber { what: Num::CacheIndex, err: NumError::Overflow }]);
    // Ten bytes exactly is the longest accepted.
    let body = [key_inline(4, FROM_CACHE), vec![0xff], vec![0x80; 9], vec![0x01]].concat();
    let b_ = msg(0x0a, &[body]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &b_, true);
    assert!(matches!(kinds(&m)[..], [AnomalyKind::ValueCacheMiss { index, .. }] if index == (1u64 << 63) + 255), "{:?}", m.anomalies);
}

#[test]
fn key_cache_roll_over_in_messages() {
    let mut c = conn();
    // 40 messages, each with one new key k0..k39; then references #0 and #31.
    for i in 0..40u32 {
        let k = format!("k{i}");
        let buf = msg(0x0a, &[key_inline(3, 0), dict(1), key_new(k.as_bytes(), 0), int(1)]);
        let m = c.decode(Pos::new(i + 1, 0), Dir::ToDevice, &buf, true);
        assert!(m.anomalies.is_empty());
    }
    let buf = msg(0x0a, &[key_inline(3, 0), dict(2), key_ref(0, 0), int(1), key_ref(31, 0), int(2)]);
    let check = |m: &Message<'_>| {
        let Node::Dict(p) = &m.attrs[0].value.as_ref().unwrap().node else { panic!() };
        assert_eq!(m.key_bytes(&p[0].key).unwrap(), b"k39");
        assert_eq!(m.key_bytes(&p[1].key).unwrap(), b"k8");
        let Key::Cached { entry, .. } = p[1].key else { panic!() };
        assert_eq!(m.entry(entry).unwrap().seq, 8);
        assert_eq!(m.entry(entry).unwrap().frame, 9);
    };
    check(&c.decode(Pos::new(100, 0), Dir::ToDevice, &buf, true));
    check(&c.decode(Pos::new(100, 0), Dir::ToDevice, &buf, false));
}

#[test]
fn value_cache_roll_over_in_messages() {
    // Default size 4096: 100 values of 1 + 30 bytes (cost 63): 65 fit.
    let mut c = conn();
    let mut evicted = 0;
    for i in 0..100u32 {
        let v = [i as u8; 30];
        let buf = msg(0x0a, &[key_inline(5, NEW_VALUE), data(&v)]);
        let m = c.decode(Pos::new(i + 1, 0), Dir::ToDevice, &buf, true);
        let ValueFrom::NewCached { seq: Some(s), evicted: e } = m.attrs[0].value_from else { panic!() };
        assert_eq!(s, i);
        evicted += e;
    }
    assert_eq!(c.caches(Dir::ToDevice).values.len(), 65);
    assert_eq!(evicted, 35);
    // #64 is the oldest still there (value 35), #65 evicted (34).
    let buf = msg(0x0a, &[key_inline(5, FROM_CACHE), vref(64), key_inline(6, FROM_CACHE), vref(65)]);
    let m = c.decode(Pos::new(200, 0), Dir::ToDevice, &buf, true);
    let Node::Data(loc) = m.attrs[0].value.as_ref().unwrap().node else { panic!() };
    assert_eq!(m.bytes(loc)[0], 35);
    let Node::Data(loc) = m.attrs[1].value.as_ref().unwrap().node else { panic!() };
    assert_eq!(m.bytes(loc)[0], 34);
    assert_eq!(kinds(&m), [AnomalyKind::ValueCacheEvicted { index: 65, cached: 65 }]);
}

#[test]
fn cached_dictionaries_replay_their_keys() {
    // A dict value cached (0x40); decoding it from the cache runs its attributes again
    // (rustpush's read_value on the entry), so its new keys are cached again.
    let inner = [dict(1), key_new(b"zz", 0), int(3)].concat();
    let mut c = conn();
    c.decode(Pos::new(1, 0), Dir::ToDevice, &msg(0x0a, &[key_inline(3, NEW_VALUE), inner]), true);
    assert_eq!(c.caches(Dir::ToDevice).keys.len(), 1);
    let b_ = msg(0x0a, &[key_inline(3, FROM_CACHE), vref(0)]);
    let m = c.decode(Pos::new(2, 0), Dir::ToDevice, &b_, true);
    assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    assert_eq!(c.caches(Dir::ToDevice).keys.len(), 2);
    let Node::Dict(p) = &m.attrs[0].value.as_ref().unwrap().node else { panic!() };
    assert_eq!(m.key_bytes(&p[0].key).unwrap(), b"zz");
    assert_ne!(p[0].at.len, 0);
    // A cached dict referring to the newest value (itself, once cached): bounded.
    let selfref = [dict(1), key_inline(1, FROM_CACHE), vref(0)].concat();
    let mut c = conn();
    c.decode(Pos::new(1, 0), Dir::ToDevice, &msg(0x0a, &[key_inline(3, NEW_VALUE), data(b"x")]), true);
    c.decode(Pos::new(2, 0), Dir::ToDevice, &msg(0x0a, &[key_inline(3, NEW_VALUE), selfref]), true);
    let b_ = msg(0x0a, &[key_inline(3, FROM_CACHE), vref(0)]);
    let m = c.decode(Pos::new(3, 0), Dir::ToDevice, &b_, true);
    assert!(kinds(&m).contains(&AnomalyKind::TooDeep), "{:?}", m.anomalies);
}

#[test]
fn deep_nesting_is_bounded() {
    let mut body = key_inline(3, 0);
    for _ in 0..100 {
        body.extend(array(1));
    }
    body.push(0x80);
    let b_ = msg(0x0a, &[body]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &b_, true);
    assert_eq!(kinds(&m), [AnomalyKind::TooDeep]);
}

#[test]
fn strings_and_reserved_bits() {
    let buf = msg(0x0a, &[key_inline(3, 0), vec![0x42, 0xff, 0xfe]]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::NotUtf8 { key: false }]);
    let buf = msg(0x0a, &[key_inline(3, 0), vec![0x61, b'a']]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::ReservedBits { tag: 0x61, bits: 0x20 }]);
    let buf = msg(0x0a, &[key_inline(3, 0), vec![0xf1]]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(kinds(&m), [AnomalyKind::ReservedBits { tag: 0xf1, bits: 0x10 }]);
    assert_eq!(m.attrs[0].value.as_ref().unwrap().node, Node::Bool(true));
}

#[test]
fn unknown_command_and_empty_message() {
    let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &[0x0c, 0x00], true);
    assert!(m.anomalies.is_empty());
    assert_eq!(m.command, Command::KeepAlive);
    assert!(m.attrs.is_empty());
    assert_eq!(m.consumed, 2);
    let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &[0x33, 0x00], true);
    assert_eq!(kinds(&m), [AnomalyKind::UnknownCommand(0x33)]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &[0x0c], true);
    assert_eq!(kinds(&m), [AnomalyKind::Truncated { declared: 0, available: 0 }]);
}

#[test]
fn not_recorded_beyond_the_cap_is_reported_on_replay() {
    let mut c = conn();
    let buf = msg(0x0a, &[key_inline(1, NEW_VALUE), data(&[1; 32])]);
    c.decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    // A frame never fed on the first pass: no record.
    let r = msg(0x0a, &[key_inline(1, FROM_CACHE), vref(0)]);
    let m = c.decode(Pos::new(5, 0), Dir::ToDevice, &r, false);
    assert_eq!(kinds(&m), [AnomalyKind::NotRecorded]);
    assert!(matches!(m.attrs[0].value_from, ValueFrom::NotRecorded { index: 0, .. }));
    // Feeding an earlier position again does not touch the caches.
    let before = c.caches(Dir::ToDevice).values.len();
    c.decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    assert_eq!(c.caches(Dir::ToDevice).values.len(), before);
}

#[test]
fn classic_view_maps_items() {
    let token = [0xab; 32];
    let madrid = crate::core::apns::topic_hash("com.apple.madrid");
    let buf = msg(0x0a, &[
        key_inline(1, NEW_VALUE), data(&token),
        key_inline(2, NEW_VALUE), data(&madrid),
        key_inline(3, 0), dict(1), key_new(b"c", 0), int(100),
        key_inline(4, 0), int(0x1234_5678),
    ]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToDevice, &buf, true);
    let cm = classic_view(&m);
    let keys: Vec<&str> = cm.items.iter().map(|i| i.key()).collect();
    assert_eq!(keys, ["push_token", "topic_hash", "payload", "message_id"]);
    assert_eq!(cm.message_id(), Some(0x1234_5678));
    assert_eq!(cm.topic_hash(), Some(&madrid));
    assert_eq!(cm.token(), Some(&token[..]));
    // Connect with its ints.
    let buf = msg(0x07, &[key_inline(2, 0), int(1), key_inline(5, 0), int(65), key_new(&[0x10], 0), int(9)]);
    let m = conn().decode(Pos::new(1, 0), Dir::ToServer, &buf, true);
    let cm = classic_view(&m);
    let keys: Vec<&str> = cm.items.iter().map(|i| i.key()).collect();
    assert_eq!(keys, ["state", "flags", "protocol_version"]);
    assert_eq!(cm.item(5).unwrap().value, crate::core::apns::Value::U32(65));
}

#[test]
fn probes() {
    let token = [0xab; 32];
    let cert = [0x30u8; 700];
    let connect = msg(0x07, &[
        key_inline(1, NEW_VALUE), data(&token),
        key_inline(2, 0), int(1),
        key_inline(5, 0), int(65),
        key_inline(12, 0), data(&cert),
        key_inline(13, 0), data(&[0; 17]),
        key_inline(14, 0), data(&[1; 130]),
        key_new(&[0x10], 0), int(9),
    ]);
    assert!(heuristic_accepts(&connect));
    assert_eq!(looks_packed(&connect), Some(true));
    // Cut anywhere after two whole attributes.
    let two = 2 + 2 + 1 + 32 + 2; // header (0x07 0xff + 2-byte varint), token attr, state
    for cut in 0..connect.len() {
        assert_eq!(heuristic_accepts(&connect[..cut]), cut >= two + 2, "cut {cut}");
    }
    // Classic messages are not packed.
    let classic = [0x07, 0, 0, 0, 4, 2, 0, 1, 1];
    assert_eq!(looks_packed(&classic), Some(false));
    assert!(!heuristic_accepts(&classic));
    assert_eq!(looks_packed(&[0x07]), None);
    // Wrong types for known items.
    let bad = msg(0x0b, &[key_inline(4, 0), string("x"), key_inline(8, 0), int(0)]);
    assert!(!heuristic_accepts(&bad));
    let ack = msg(0x0b, &[key_inline(4, 0), int(7), key_inline(8, 0), int(0)]);
    assert!(heuristic_accepts(&ack));
}

/// The heuristic's cheap first test (the first attribute's tag) rejects nothing the full
/// decode would accept: real first messages, every cut of them, and mutants of them (one to
/// four bytes changed, the tag byte among them half the time), with and without the test.
#[test]
fn first_key_test_rejects_nothing_the_decode_accepts() {
    let mut rng = crate::core::test_rng::Rng(0x5EED_0A9E_5EED_0009);
    let token = [0xab; 32];
    let starts = [
        msg(0x07, &[key_inline(1, NEW_VALUE), data(&token), key_inline(2, 0), int(1), key_inline(5, 0), int(65), key_new(&[0x10], 0), int(9)]),
        msg(0x07, &[key_new(&[0x02], 0), int(1), key_inline(1, 0), data(&token), key_inline(12, 0), data(&[0x30; 300])]),
        msg(0x0b, &[key_inline(4, 0), int(7), key_inline(8, 0), int(0)]),
        msg(0x0a, &[key_inline(1, NEW_VALUE), data(&token), key_inline(3, 0), data(b"{\"aps\":{}}"), key_inline(4, 0), int(42)]),
    ];
    let (mut accepted, mut mutants) = (0usize, 0usize);
    for start in &starts {
        for cut in 0..=start.len() {
            assert_eq!(accepts(&start[..cut], true), accepts(&start[..cut], false), "cut {cut}");
            accepted += usize::from(accepts(&start[..cut], false));
        }
        for i in 0..20_000u32 {
            let mut b = start.clone();
            let hl = super::wire::header(&b).unwrap().header_len;
            if i % 2 == 0 {
                b[hl] = rng.next() as u8;
            }
            for _ in 0..=(rng.next() % 4) {
                let at = (rng.next() as usize) % b.len();
                b[at] = rng.next() as u8;
            }
            let full = accepts(&b, false);
            assert!(!full || accepts(&b, true), "mutant {b:02x?}");
            mutants += usize::from(full);
        }
    }
    // Both kinds of input reach the full decode's acceptance often (the test tests something).
    assert!(accepted > 100 && mutants > 1000, "{accepted} {mutants}");
}

#[test]
fn heuristic_rejects_random_segments() {
    let mut rng = crate::core::test_rng::Rng(0x5EED_0A9E_5EED_0003);
    let mut seg = [0u8; 1460];
    let mut accepted = 0;
    let mut framed = 0;
    for i in 0..1_000_000u32 {
        rng.fill(&mut seg);
        if i % 2 == 0 {
            // Condition on a known command (the hard half).
            seg[0] = [0x07u8, 0x0a, 0x0b, 0x14][(i as usize / 2) % 4];
        }
        accepted += usize::from(heuristic_accepts(&seg));
        framed += usize::from(looks_packed(&seg) == Some(true));
    }
    assert_eq!(accepted, 0);
    // The lenient decision (used only where the stream is known to be APNs) takes many.
    assert!(framed > 1000, "{framed}");
}

#[test]
fn random_input_never_panics_and_replays_identically() {
    let mut rng = crate::core::test_rng::Rng(0x9E37_79B9_7F4A_7C15);
    let seed = msg(0x0a, &[
        key_inline(1, NEW_VALUE), data(&[0xab; 32]),
        key_inline(3, 0), dict(2), key_new(b"sP", NEW_VALUE), string("tel:+1"), key_ref(0, FROM_CACHE), vref(1),
        key_inline(4, 0), int(42),
    ]);
    let mut c = conn();
    let mut kept = Vec::new();
    for n in 0..30_000u32 {
        let mut buf = if n % 3 == 0 {
            (0..(rng.next() % 80) as usize).map(|_| rng.next() as u8).collect::<Vec<u8>>()
        } else {
            let mut b = seed.clone();
            for _ in 0..1 + rng.next() % 4 {
                let i = (rng.next() as usize) % b.len();
                b[i] = rng.next() as u8;
            }
            b
        };
        buf.truncate((rng.next() as usize) % (buf.len() + 1));
        let dir = if n % 2 == 0 { Dir::ToDevice } else { Dir::ToServer };
        let pos = Pos::new(n + 1, 0);
        let m = c.decode(pos, dir, &buf, true);
        assert!(m.consumed <= buf.len());
        for a in &m.anomalies {
            assert!(a.at.end() <= buf.len(), "{a:?} {buf:02x?}");
        }
        let shown = format!("{:?}{:?}", m.attrs, m.anomalies);
        let _ = classic_view(&m);
        drop(m);
        if n % 97 == 0 {
            kept.push((pos, dir, buf, shown));
        }
    }
    for (pos, dir, buf, shown) in kept.iter().rev() {
        let m = c.decode(*pos, *dir, buf, false);
        assert_eq!(&format!("{:?}{:?}", m.attrs, m.anomalies), shown);
    }
}

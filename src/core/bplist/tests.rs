//! Unit tests: independent vectors (CPython plistlib, tests/data/bplist), an iMessage
//! envelope, hand-built adversarial files (cycles, depth, node and byte budgets, broken
//! trailers and objects) and random truncations and byte flips.

use super::*;
use std::time::{Duration, Instant};

// -- Independent vectors (tests/data/bplist/gen.py, CPython plistlib) -------------

macro_rules! sample {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../tests/data/bplist/", $name, ".bplist")) as &[u8],
            include_str!(concat!("../../../tests/data/bplist/", $name, ".expected")),
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
    let real = include_bytes!("../../../fuzz/regressions/bplist/oom-shared-dict-tshark-mutant-3650");
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

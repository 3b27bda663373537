//! Throughput of the core parsers on well-formed input (criterion, `Throughput::Bytes`):
//! what one parser call consumes per byte of its input. Inputs are built with
//! benches/tshark/wire.rs (the same layouts the tshark benchmark's captures carry) and the
//! bplist samples of tests/data. Run: `cargo bench --bench parsers` (benches/run.sh runs it
//! with short warm-up and measurement times).

#[path = "tshark/wire.rs"]
mod wire;

use std::hint::black_box;
use std::net::Ipv4Addr;

use appleshark::core::apns::message::{messages, parse_message};
use appleshark::core::apns::packed::{classic_view, Conn, Sizes};
use appleshark::core::apns::{Dir, Pos};
use appleshark::core::facetime::classify::classify;
use appleshark::core::facetime::rtp::{parse_rtcp, parse_rtp};
use appleshark::core::facetime::sdp::parse_sdp;
use appleshark::core::facetime::sip::parse_sip;
use appleshark::core::mptcp::options::parse_options;
use appleshark::core::{bplist, snatmap};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wire::*;

/// 4096 SNATMAP messages, requests and responses alternating (64 KiB), parsed one by one.
fn snatmap_bench(c: &mut Criterion) {
    let mut buf = Vec::new();
    for i in 0..4096u32 {
        let ip = Ipv4Addr::from(0x0a00_0000 | i);
        let m = if i % 2 == 0 { snatmap::encode_request(i, ip, 16402) } else { snatmap::encode_response(i, ip, 61000) };
        buf.extend_from_slice(&m);
    }
    let mut g = c.benchmark_group("snatmap");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.bench_function("parse", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for m in black_box(&buf).chunks_exact(snatmap::LEN) {
                if let Ok(msg) = snatmap::parse(m) {
                    n = n.wrapping_add(msg.nonce());
                }
            }
            n
        })
    });
    g.finish();
}

/// A courier stream: Connect, Filter Topics, then 0x0A messages (token, topic hash, payload of
/// 100–4000 bytes, id, expiry, timestamp, priority) each followed by its 0x0B ack.
fn apns_stream() -> Vec<u8> {
    let token = [0xAB; 32];
    let mut s = msg(7, &[item(1, &token), item(2, &[1]), item(6, &[1]), item(8, b"WiFi"), item(9, b"17.0"), item(10, b"21A329"), item(11, b"iPhone15,2")]);
    s.extend(msg(9, &[item(1, &token), item(2, &[0x11; 20]), item(2, &[0x22; 20]), item(3, &[0x33; 20])]));
    for i in 0..200u32 {
        let payload = vec![(i & 0xff) as u8; 100 + (i as usize * 97) % 3900];
        s.extend(msg(0x0A, &[item(1, &token), item(2, &[0x44; 20]), item(3, &payload), item(4, &i.to_be_bytes()), item(5, &[0x6b, 0, 0, 0]), item(6, &(1u64 << 60).to_be_bytes()), item(13, &[10])]));
        s.extend(msg(0x0B, &[item(1, &token), item(4, &i.to_be_bytes()), item(8, &[0])]));
    }
    s
}

fn apns_bench(c: &mut Criterion) {
    let stream = apns_stream();
    let small: Vec<u8> = (0..400u32).flat_map(|i| msg(0x0B, &[item(1, &[0xAB; 32]), item(4, &i.to_be_bytes()), item(8, &[0])])).collect();
    let mut g = c.benchmark_group("apns");
    for (name, buf) in [("messages+items, mixed stream", &stream), ("messages+items, acks only", &small)] {
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_function(name, |b| b.iter(|| messages(black_box(buf), 1 << 20).map(|(_, m)| m.items.len()).sum::<usize>()));
    }
    let one = msg(0x0A, &[item(1, &[0xAB; 32]), item(2, &[0x44; 20]), item(3, &[7; 2000]), item(4, &[0, 0, 0, 1]), item(13, &[10])]);
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("parse_message, 2 KB push", |b| b.iter(|| parse_message(black_box(&one)).map(|m| m.items.len())));
    g.finish();
}

/// The packed framing's messages of the oracle's plain session (rustpush's encoder,
/// tests/data/apns-packed/packed-plain.*.jsonl): every message each side received, in order,
/// with its direction.
fn packed_session() -> Vec<(Dir, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/apns-packed");
    let mut out = Vec::new();
    for (side, d) in [("server", Dir::ToServer), ("client", Dir::ToDevice)] {
        let text = std::fs::read_to_string(dir.join(format!("packed-plain.{side}.jsonl"))).expect("oracle record");
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["event"] == "received" {
                let h = v["raw"].as_str().unwrap();
                let b = (0..h.len() / 2).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
                out.push((d, b));
            }
        }
    }
    out
}

/// Per message: the packed framing (first pass against live caches, later pass from the
/// records, each with the classic view the dissector builds) next to the classic framing's
/// parse of the mixed stream above.
fn packed_bench(c: &mut Criterion) {
    let msgs = packed_session();
    let bytes: u64 = msgs.iter().map(|(_, m)| m.len() as u64).sum();
    let mut g = c.benchmark_group("apns per message");
    g.throughput(Throughput::Elements(msgs.len() as u64));
    g.bench_function(format!("packed, first pass ({} msgs, {} B)", msgs.len(), bytes), |b| {
        b.iter(|| {
            let mut conn = Conn::new(Sizes::ASSUMED);
            let mut n = 0;
            for (i, (d, m)) in msgs.iter().enumerate() {
                let p = conn.decode(Pos::new(i as u32 + 1, 0), *d, black_box(m), true);
                n += classic_view(&p).items.len();
            }
            n
        })
    });
    let mut fed = Conn::new(Sizes::ASSUMED);
    for (i, (d, m)) in msgs.iter().enumerate() {
        fed.decode(Pos::new(i as u32 + 1, 0), *d, m, true);
    }
    g.bench_function("packed, later pass (records)", |b| {
        b.iter(|| {
            let mut n = 0;
            for (i, (d, m)) in msgs.iter().enumerate() {
                let p = fed.decode(Pos::new(i as u32 + 1, 0), *d, black_box(m), false);
                n += classic_view(&p).items.len();
            }
            n
        })
    });
    let stream = apns_stream();
    let count = messages(&stream, 1 << 20).count();
    g.throughput(Throughput::Elements(count as u64));
    g.bench_function(format!("classic, messages+items ({count} msgs, {} B)", stream.len()), |b| {
        b.iter(|| messages(black_box(&stream), 1 << 20).map(|(_, m)| m.items.len()).sum::<usize>())
    });
    g.finish();
}

fn bplist_bench(c: &mut Criterion) {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bplist/");
    let mut g = c.benchmark_group("bplist");
    for f in ["imessage", "nested", "wide_refs", "big_offsets"] {
        let buf = std::fs::read(format!("{data}{f}.bplist")).unwrap();
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_function(f, |b| b.iter(|| bplist::parse_default(black_box(&buf)).map(|p| p.nodes)));
    }
    let p = vec![0x5a; 3000];
    let env = bplist_dict(&[("c", PV::Int(100)), ("i", PV::Int(7)), ("sP", PV::Str("mailto:a@example.com")), ("tP", PV::Str("tel:+15551230002")), ("P", PV::Data(&p))]);
    g.throughput(Throughput::Bytes(env.len() as u64));
    g.bench_function("iMessage envelope, 3 KB P", |b| b.iter(|| bplist::parse_default(black_box(&env)).map(|p| p.nodes)));
    g.finish();
}

fn call() -> Sip<'static> {
    Sip { a: "10.0.0.2", b: "203.0.113.9", call_id: "0001-ft@10.0.0.2".into(), from_tag: "a1".into(), to_tag: "b2".into() }
}

fn facetime_bench(c: &mut Criterion) {
    let sip = call();
    let offer = sdp("10.0.0.2", 1);
    let invite = sip.request("INVITE", 1, Some(("application/sdp", &offer)), true);
    let ok = sip.response("200 OK", 1, "INVITE", Some(&offer), false);
    let bye = sip.request("BYE", 3, None, true);
    let rtp_v = rtp(123, 1, 960, 0x1234, false, &[0x55; 900]);
    let rtp_a = rtp(104, 2, 960, 0x1235, false, &[0x55; 120]);
    let rtcp = rtcp_sr(0x1234, 960, 10, 5000);
    let stun = stun_binding(&[9; 12], true);
    let snat = snatmap::encode_request(1, Ipv4Addr::new(10, 0, 0, 2), 16402).to_vec();
    // The mux sees mostly media: 40 video, 40 audio, 4 RTCP, 1 each of the rest.
    let mut mux: Vec<&[u8]> = vec![&invite, &ok, &bye, &stun, &snat];
    mux.extend(std::iter::repeat(rtp_v.as_slice()).take(40));
    mux.extend(std::iter::repeat(rtp_a.as_slice()).take(40));
    mux.extend(std::iter::repeat(rtcp.as_slice()).take(4));
    let total: usize = mux.iter().map(|p| p.len()).sum();
    let mut g = c.benchmark_group("facetime");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("classify (mux mix)", |b| b.iter(|| mux.iter().map(|p| classify(black_box(p)) as usize).sum::<usize>()));
    let sips: Vec<&[u8]> = vec![&invite, &ok, &bye];
    g.throughput(Throughput::Bytes(sips.iter().map(|p| p.len() as u64).sum()));
    g.bench_function("parse_sip + parse_sdp", |b| {
        b.iter(|| {
            sips.iter()
                .map(|p| match parse_sip(black_box(p)) {
                    Ok(m) => m.body.map(|b| parse_sdp(b.value, b.span.offset).media.len()).unwrap_or(0),
                    Err(_) => 0,
                })
                .sum::<usize>()
        })
    });
    let media: Vec<&[u8]> = vec![&rtp_v, &rtp_a];
    g.throughput(Throughput::Bytes(media.iter().map(|p| p.len() as u64).sum()));
    g.bench_function("parse_rtp", |b| b.iter(|| media.iter().map(|p| parse_rtp(black_box(p)).map(|h| h.header_len()).unwrap_or(0)).sum::<usize>()));
    g.throughput(Throughput::Bytes(rtcp.len() as u64));
    g.bench_function("parse_rtcp", |b| b.iter(|| parse_rtcp(black_box(&rtcp)).map(|c| c.packets.len())));
    g.finish();
}

fn mptcp_bench(c: &mut Criterion) {
    // Option areas as segments carry them: DSS with mapping (+ NOP padding), DSS ack only,
    // MP_CAPABLE with both keys, timestamps + DSS.
    let pad = |mut o: Vec<u8>| {
        while o.len() % 4 != 0 {
            o.push(1);
        }
        o
    };
    let areas: Vec<Vec<u8>> = vec![
        pad(dss(0x1111_2222, Some((0x3333_4444, 1, 1428)))),
        pad(dss(0x1111_2222, None)),
        [&[30u8, 20, 0x00, 0x01][..], &7u64.to_be_bytes(), &9u64.to_be_bytes()].concat(),
        pad([&[1u8, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2][..], &dss(0x1111_2222, Some((0x3333_4444, 1, 1428)))].concat()),
    ];
    let total: usize = areas.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("mptcp");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("parse_options", |b| b.iter(|| areas.iter().map(|a| parse_options(black_box(a), None).mptcp.len()).sum::<usize>()));
    g.finish();
}

criterion_group!(benches, snatmap_bench, apns_bench, packed_bench, bplist_bench, facetime_bench, mptcp_bench);
criterion_main!(benches);

//! Throughput of the core parsers on well-formed input (criterion, `Throughput::Bytes`):
//! what one parser call consumes per byte of its input. Inputs: benches/inputs.rs (shared
//! with benches/instructions.rs, which counts instructions per call instead). Run: `cargo
//! bench --bench parsers` (benches/run.sh runs it with short warm-up and measurement times).

#[path = "tshark/wire.rs"]
mod wire;
#[path = "inputs.rs"]
mod inputs;

use std::hint::black_box;

use appleshark::core::apns::message::{messages, parse_message};
use appleshark::core::apns::packed::{classic_view, Conn, Sizes};
use appleshark::core::apns::Pos;
use appleshark::core::facetime::classify::classify;
use appleshark::core::facetime::rtp::{parse_rtcp, parse_rtp};
use appleshark::core::facetime::sdp::parse_sdp;
use appleshark::core::facetime::sip::parse_sip;
use appleshark::core::mptcp::options::parse_options;
use appleshark::core::{bplist, snatmap};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// 4096 SNATMAP messages, requests and responses alternating (64 KiB), parsed one by one.
fn snatmap_bench(c: &mut Criterion) {
    let buf = inputs::snatmap_stream();
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

fn apns_bench(c: &mut Criterion) {
    let stream = inputs::apns_stream();
    let small = inputs::apns_acks();
    let mut g = c.benchmark_group("apns");
    for (name, buf) in [("messages+items, mixed stream", &stream), ("messages+items, acks only", &small)] {
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_function(name, |b| b.iter(|| messages(black_box(buf), 1 << 20).map(|(_, m)| m.items.len()).sum::<usize>()));
    }
    let one = inputs::apns_push();
    g.throughput(Throughput::Bytes(one.len() as u64));
    g.bench_function("parse_message, 2 KB push", |b| b.iter(|| parse_message(black_box(&one)).map(|m| m.items.len())));
    g.finish();
}

/// Per message: the packed framing (first pass against live caches, later pass from the
/// records, each with the classic view the dissector builds) next to the classic framing's
/// parse of the mixed stream above.
fn packed_bench(c: &mut Criterion) {
    let msgs = inputs::packed_session();
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
    let stream = inputs::apns_stream();
    let count = messages(&stream, 1 << 20).count();
    g.throughput(Throughput::Elements(count as u64));
    g.bench_function(format!("classic, messages+items ({count} msgs, {} B)", stream.len()), |b| {
        b.iter(|| messages(black_box(&stream), 1 << 20).map(|(_, m)| m.items.len()).sum::<usize>())
    });
    g.finish();
}

fn bplist_bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("bplist");
    for (name, buf) in inputs::bplists() {
        g.throughput(Throughput::Bytes(buf.len() as u64));
        g.bench_function(name, |b| b.iter(|| bplist::parse_default(black_box(&buf)).map(|p| p.nodes)));
    }
    g.finish();
}

fn facetime_bench(c: &mut Criterion) {
    let ft = inputs::facetime();
    let mux = ft.mux();
    let total: usize = mux.iter().map(|p| p.len()).sum();
    let mut g = c.benchmark_group("facetime");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("classify (mux mix)", |b| b.iter(|| mux.iter().map(|p| classify(black_box(p)) as usize).sum::<usize>()));
    let sips = ft.sips();
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
    let media: Vec<&[u8]> = vec![&ft.rtp_video, &ft.rtp_audio];
    g.throughput(Throughput::Bytes(media.iter().map(|p| p.len() as u64).sum()));
    g.bench_function("parse_rtp", |b| b.iter(|| media.iter().map(|p| parse_rtp(black_box(p)).map(|h| h.header_len()).unwrap_or(0)).sum::<usize>()));
    g.throughput(Throughput::Bytes(ft.rtcp.len() as u64));
    g.bench_function("parse_rtcp", |b| b.iter(|| parse_rtcp(black_box(&ft.rtcp)).map(|c| c.packets.len())));
    g.finish();
}

fn mptcp_bench(c: &mut Criterion) {
    let areas = inputs::mptcp_areas();
    let total: usize = areas.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("mptcp");
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("parse_options", |b| b.iter(|| areas.iter().map(|a| parse_options(black_box(a), None).mptcp.len()).sum::<usize>()));
    g.finish();
}

criterion_group!(benches, snatmap_bench, apns_bench, packed_bench, bplist_bench, facetime_bench, mptcp_bench);
criterion_main!(benches);

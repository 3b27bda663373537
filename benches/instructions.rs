//! Instructions per call of the core parsers, counted by valgrind's callgrind: unlike
//! criterion's times (benches/parsers.rs) they do not depend on the machine's load, so a
//! before/after pair on a shared machine means something. Run by benches/instructions.sh,
//! which runs this binary under callgrind and divides each case's instructions by its
//! calls and bytes; run alone it only prints the cases (name, calls and bytes per round).
//! Inputs: benches/inputs.rs, the same as criterion's.

#[path = "tshark/wire.rs"]
mod wire;
#[path = "inputs.rs"]
mod inputs;

use std::hint::black_box;

use appleshark::core::apns::message::messages;
use appleshark::core::apns::packed::{classic_view, Conn, Sizes};
use appleshark::core::apns::{Dir, Pos};
use appleshark::core::facetime::classify::classify;
use appleshark::core::facetime::rtp::{parse_rtcp, parse_rtp};
use appleshark::core::facetime::sdp::parse_sdp;
use appleshark::core::facetime::sip::parse_sip;
use appleshark::core::mptcp::options::parse_options;
use appleshark::core::{bplist, snatmap};

/// Rounds per case: enough that the per-round cost dwarfs the call of the case itself.
const ROUNDS: usize = 2000;

// One function per case, never inlined, so that callgrind reports each one's inclusive
// instructions under its own name (`instructions::case_<name>`). Cases of one parser differ
// in a constant so that the linker does not fold them into one function.

#[inline(never)]
fn case_snatmap(buf: &[u8]) -> u32 {
    let mut n = 0u32;
    for _ in 0..ROUNDS {
        for m in black_box(buf).chunks_exact(snatmap::LEN) {
            if let Ok(msg) = snatmap::parse(m) {
                n = n.wrapping_add(msg.nonce());
            }
        }
    }
    n
}

#[inline(never)]
fn case_apns_acks(buf: &[u8]) -> usize {
    (0..ROUNDS).map(|_| messages(black_box(buf), 1 << 20).map(|(_, m)| m.items.len()).sum::<usize>()).sum()
}

#[inline(never)]
fn case_apns_stream(buf: &[u8]) -> usize {
    (0..ROUNDS).map(|_| messages(black_box(buf), 1 << 21).map(|(_, m)| m.items.len()).sum::<usize>()).sum()
}

/// The packed framing, first pass: live caches, and the classic view the dissector builds.
#[inline(never)]
fn case_apns_packed(msgs: &[(Dir, Vec<u8>)]) -> usize {
    let mut n = 0;
    for _ in 0..ROUNDS / 10 {
        let mut conn = Conn::new(Sizes::ASSUMED);
        for (i, (d, m)) in msgs.iter().enumerate() {
            let p = conn.decode(Pos::new(i as u32 + 1, 0), *d, black_box(m), true);
            n += classic_view(&p).items.len();
        }
    }
    n
}

#[inline(never)]
fn case_bplist_imessage(buf: &[u8]) -> usize {
    (0..ROUNDS).map(|_| bplist::parse_default(black_box(buf)).map_or(0, |p| p.nodes)).sum()
}

#[inline(never)]
fn case_bplist_nested(buf: &[u8]) -> usize {
    (0..ROUNDS).map(|_| bplist::parse_default(black_box(buf)).map_or(1, |p| p.nodes)).sum()
}

#[inline(never)]
fn case_sip_sdp(sips: &[&[u8]]) -> usize {
    (0..ROUNDS)
        .map(|_| {
            sips.iter()
                .map(|p| match parse_sip(black_box(p)) {
                    Ok(m) => m.body.map_or(0, |b| parse_sdp(b.value, b.span.offset).media.len()),
                    Err(_) => 0,
                })
                .sum::<usize>()
        })
        .sum()
}

#[inline(never)]
fn case_rtcp(p: &[u8]) -> usize {
    (0..ROUNDS).map(|_| parse_rtcp(black_box(p)).map_or(0, |c| c.packets.len())).sum()
}

#[inline(never)]
fn case_rtp(media: &[&[u8]]) -> usize {
    (0..ROUNDS).map(|_| media.iter().map(|p| parse_rtp(black_box(p)).map_or(0, |h| h.header_len())).sum::<usize>()).sum()
}

#[inline(never)]
fn case_classify(mux: &[&[u8]]) -> usize {
    (0..ROUNDS).map(|_| mux.iter().map(|p| classify(black_box(p)) as usize).sum::<usize>()).sum()
}

#[inline(never)]
fn case_mptcp_options(areas: &[Vec<u8>]) -> usize {
    (0..ROUNDS).map(|_| areas.iter().map(|a| parse_options(black_box(a), None).mptcp.len()).sum::<usize>()).sum()
}

fn main() {
    let snat = inputs::snatmap_stream();
    let acks = inputs::apns_acks();
    let stream = inputs::apns_stream();
    let bpl = inputs::bplists();
    let ft = inputs::facetime();
    let sips = ft.sips();
    let media: Vec<&[u8]> = vec![&ft.rtp_video, &ft.rtp_audio];
    let mux = ft.mux();
    let areas = inputs::mptcp_areas();
    let packed = inputs::packed_session();
    let imessage = &bpl.iter().find(|(n, _)| n == "imessage").unwrap().1;
    let nested = &bpl.iter().find(|(n, _)| n == "nested").unwrap().1;
    let total = |v: &[&[u8]]| v.iter().map(|p| p.len()).sum::<usize>();
    // name, unit, units per round, bytes per round, rounds
    let r = ROUNDS;
    let cases: Vec<(&str, &str, usize, usize, usize)> = vec![
        ("snatmap", "message", snat.len() / snatmap::LEN, snat.len(), r),
        ("apns_acks", "message", messages(&acks, 1 << 20).count(), acks.len(), r),
        ("apns_stream", "message", messages(&stream, 1 << 20).count(), stream.len(), r),
        ("apns_packed", "message", packed.len(), packed.iter().map(|(_, m)| m.len()).sum(), r / 10),
        ("bplist_imessage", "plist", 1, imessage.len(), r),
        ("bplist_nested", "plist", 1, nested.len(), r),
        ("sip_sdp", "message", sips.len(), total(&sips), r),
        ("rtcp", "compound", 1, ft.rtcp.len(), r),
        ("rtp", "packet", media.len(), total(&media), r),
        ("classify", "datagram", mux.len(), total(&mux), r),
        ("mptcp_options", "area", areas.len(), areas.iter().map(Vec::len).sum(), r),
    ];
    let mut sink = 0usize;
    sink = sink.wrapping_add(case_snatmap(&snat) as usize);
    sink = sink.wrapping_add(case_apns_acks(&acks));
    sink = sink.wrapping_add(case_apns_stream(&stream));
    sink = sink.wrapping_add(case_apns_packed(&packed));
    sink = sink.wrapping_add(case_bplist_imessage(imessage));
    sink = sink.wrapping_add(case_bplist_nested(nested));
    sink = sink.wrapping_add(case_sip_sdp(&sips));
    sink = sink.wrapping_add(case_rtcp(&ft.rtcp));
    sink = sink.wrapping_add(case_rtp(&media));
    sink = sink.wrapping_add(case_classify(&mux));
    sink = sink.wrapping_add(case_mptcp_options(&areas));
    black_box(sink);
    for (name, unit, units, bytes, rounds) in cases {
        println!("case {name} {unit} {} {}", units * rounds, bytes * rounds);
    }
}

//! The per-packet core parsers allocate nothing on their common inputs (issue 17, item 3):
//! MPTCP option areas, RTCP compounds, SIP with its SDP, APNs messages and their items. A
//! counting global allocator (this test binary's only `unsafe`: the `GlobalAlloc` contract,
//! forwarding to the system allocator) counts the allocations of the calling thread while
//! each parse runs; the inputs are the layouts of the benchmark (benches/tshark/wire.rs) and
//! of a FaceTime call's real signalling.
//!
//! Where a parser does allocate by design (more entries than its inline capacity, bplist
//! trees), the test says so with the count it measured, so a change is seen.

#[path = "../benches/tshark/wire.rs"]
mod wire;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use appleshark::core::apns::message::{messages, parse_message, INLINE_ITEMS};
use appleshark::core::facetime::rtp::{parse_rtcp, parse_rtp};
use appleshark::core::facetime::sdp::parse_sdp;
use appleshark::core::facetime::sip::parse_sip;
use appleshark::core::mptcp::options::parse_options;
use wire::*;

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call forwards to `System` with the caller's arguments; the counter is a
// const-initialised thread-local `Cell` (no allocation, no re-entry).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Allocations made by `f` on this thread, and its result.
fn allocs<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCS.with(Cell::get);
    let r = f();
    (ALLOCS.with(Cell::get) - before, r)
}

#[test]
fn mptcp_option_areas() {
    let pad = |mut o: Vec<u8>| {
        while o.len() % 4 != 0 {
            o.push(1);
        }
        o
    };
    let ts = [8u8, 10, 0, 0, 0, 1, 0, 0, 0, 2];
    let areas: Vec<Vec<u8>> = vec![
        pad(dss(0x1111_2222, Some((0x3333_4444, 1, 1428)))),
        pad(dss(0x1111_2222, None)),
        [&[1u8, 1][..], &ts, &pad(dss(7, Some((9, 1, 100))))].concat(),
        // MP_CAPABLE with both keys (v0, third ACK).
        [&[30u8, 20, 0x00, 0x01][..], &7u64.to_be_bytes(), &9u64.to_be_bytes()].concat(),
        // MP_JOIN SYN (token, nonce).
        [&[30u8, 12, 0x10, 0x01][..], &0xdead_beefu32.to_be_bytes(), &0x0102_0304u32.to_be_bytes()].concat(),
        // No MPTCP option at all: MSS, SACK permitted, timestamps, window scale.
        vec![2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7],
        // A cut option (an anomaly, kept inline too).
        vec![1, 1, 30, 12, 0x20],
    ];
    for a in &areas {
        let (n, p) = allocs(|| parse_options(a, None));
        assert_eq!(n, 0, "{a:02x?}: {p:?}");
    }
    // The walk really parsed them (a parser returning nothing would allocate nothing too).
    let (_, p) = allocs(|| parse_options(&areas[0], None));
    assert_eq!((p.mptcp.len(), p.anomalies.len()), (1, 0));
    let (_, p) = allocs(|| parse_options(&areas[6], None));
    assert_eq!((p.mptcp.len(), p.anomalies.len()), (0, 1));
    // Two MPTCP options in one area (DSS + MP_PRIO) spill to the heap: one allocation.
    let two = [&pad(dss(7, None))[..], &[30u8, 3, 0x51, 1]].concat();
    let (n, p) = allocs(|| parse_options(&two, None));
    assert_eq!((n, p.mptcp.len()), (1, 2));
}

#[test]
fn rtp_and_rtcp() {
    let rtcp = rtcp_sr(0x1234, 960, 10, 5000);
    let (n, c) = allocs(|| parse_rtcp(&rtcp).unwrap());
    assert_eq!(n, 0);
    assert_eq!((c.packets.len(), c.sdes.len(), c.anomalies.len()), (2, 1, 0));
    let media = rtp(123, 1, 960, 0x1234, false, &[0x55; 900]);
    let (n, h) = allocs(|| parse_rtp(&media).unwrap().header_len());
    assert_eq!((n, h), (0, 20));
}

#[test]
fn sip_with_sdp() {
    let sip = Sip { a: "10.0.0.2", b: "203.0.113.9", call_id: "0001-ft@10.0.0.2".into(), from_tag: "a1".into(), to_tag: "b2".into() };
    let offer = sdp("10.0.0.2", 1);
    let msgs = [
        sip.request("INVITE", 1, Some(("application/sdp", &offer)), true),
        sip.response("100 Trying", 1, "INVITE", None, false),
        sip.response("200 OK", 1, "INVITE", Some(&offer), false),
        sip.request("ACK", 1, None, true),
        sip.request("BYE", 3, None, true),
    ];
    for m in &msgs {
        let (n, media) = allocs(|| {
            let s = parse_sip(m).unwrap();
            assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
            s.body.filter(|b| !b.value.is_empty()).map(|b| {
                let d = parse_sdp(b.value, b.span.offset);
                assert!(d.anomalies.is_empty(), "{:?}", d.anomalies);
                (d.media.len(), d.media.iter().map(|m| (m.formats.len(), m.rtpmaps.len())).collect::<Vec<_>>())
            })
        });
        // The collect above is the test's own: one allocation when there is a body.
        let expected_media = if m.ends_with(b"\r\n\r\n") { None } else { Some((2, vec![(2, 2), (2, 2)])) };
        assert_eq!(media, expected_media);
        assert_eq!(n, usize::from(expected_media.is_some()), "{}", String::from_utf8_lossy(m));
    }
}

#[test]
fn apns_messages() {
    let token = [0xAB; 32];
    let mut stream = msg(7, &[item(1, &token), item(2, &[1]), item(6, &[1]), item(8, b"WiFi"), item(9, b"17.0"), item(10, b"21A329"), item(11, b"iPhone15,2")]);
    stream.extend(msg(9, &[item(1, &token), item(2, &[0x11; 20]), item(2, &[0x22; 20]), item(3, &[0x33; 20])]));
    for i in 0..50u32 {
        stream.extend(msg(0x0A, &[item(1, &token), item(2, &[0x44; 20]), item(3, &[7; 300]), item(4, &i.to_be_bytes()), item(5, &[0x6b, 0, 0, 0]), item(6, &(1u64 << 60).to_be_bytes()), item(13, &[10])]));
        stream.extend(msg(0x0B, &[item(1, &token), item(4, &i.to_be_bytes()), item(8, &[0])]));
        stream.extend(msg(0x0C, &[]));
    }
    let (n, (count, items)) = allocs(|| messages(&stream, 1 << 20).fold((0, 0), |(c, i), (_, m)| (c + 1, i + m.items.len())));
    assert_eq!(n, 0);
    assert_eq!((count, items), (2 + 50 * 3, 7 + 4 + 50 * (7 + 3)));
    // More items than the inline capacity spill to the heap: one allocation.
    let many: Vec<Vec<u8>> = (0..INLINE_ITEMS as u8 + 1).map(|i| item(2, &[i; 20])).collect();
    let filter = msg(9, &many);
    let (n, m) = allocs(|| parse_message(&filter).unwrap());
    assert_eq!((n, m.items.len()), (1, INLINE_ITEMS + 1));
}

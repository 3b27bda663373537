//! Unit tests: a FaceTime call flow fed frame by frame, revisits, streams, rejected /
//! cancelled / mid-call dialogs, and the caps.

use super::*;
use crate::core::facetime::rtp::parse_rtp;
use crate::core::facetime::sip::{parse_sip, tests::INVITE};
use std::net::Ipv4Addr;

const MS: u64 = 1_000_000;

fn ep(a: [u8; 4], port: u16) -> Endpoint {
    Endpoint::new(IpAddr::V4(Ipv4Addr::from(a)), port)
}

// The remote caller (Apple's 888-FaceTime in seed 001) and the iPhone.
fn caller() -> Endpoint {
    ep([17, 155, 5, 14], 16402)
}
fn phone() -> Endpoint {
    ep([10, 0, 1, 5], 16402)
}

const CID: &str = "7b1f1c6a-9c2e-11df-9d42-0023dfd8c2e4@17.155.5.14";

fn resp(code: &str, cseq: &str, sdp: &str) -> Vec<u8> {
    let ct = if sdp.is_empty() {
        String::new()
    } else {
        "Content-Type: application/sdp\r\n".into()
    };
    format!(
        "SIP/2.0 {code}\r\nVia: SIP/2.0/UDP 17.155.5.14:16402;branch=z9hG4bK1d5a2f9c\r\n\
To: <sip:+14085550123@10.0.1.5:16402>;tag=2041855412\r\n\
From: \"+18883223846\" <sip:+18883223846@17.155.5.14:16402>;tag=1894703416\r\n\
Call-ID: {CID}\r\nCSeq: {cseq}\r\n{ct}Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

fn req(method: &str, cseq: u32, from_callee: bool) -> Vec<u8> {
    let (f, t) = if from_callee {
        (
            "<sip:+14085550123@10.0.1.5:16402>;tag=2041855412",
            "<sip:+18883223846@17.155.5.14:16402>;tag=1894703416",
        )
    } else {
        (
            "<sip:+18883223846@17.155.5.14:16402>;tag=1894703416",
            "<sip:+14085550123@10.0.1.5:16402>;tag=2041855412",
        )
    };
    format!(
        "{method} sip:x@10.0.1.5:16402 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{cseq}{method}\r\n\
From: {f}\r\nTo: {t}\r\nCall-ID: {CID}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

const ANSWER: &str = "v=0\r\no=- 0 0 IN IP4 10.0.1.5\r\ns=\r\nc=IN IP4 10.0.1.5\r\nt=0 0\r\n\
m=audio 16402 RTP/AVP 104\r\na=rtcp-mux\r\na=rtpmap:104 iLBC/8000\r\n\
m=video 16402 RTP/AVP 126\r\na=rtcp-mux\r\na=rtpmap:126 H264/90000\r\n";

/// The seed 003 call flow: INVITE, 100, 180, 200 (SDP), ACK, MESSAGE ×2 (+200s), BYE, 200.
fn run(t: &mut CallTracker) -> Vec<Option<FrameInfo>> {
    let frames: Vec<(u32, u64, Endpoint, Endpoint, Vec<u8>)> = vec![
        (10, 10_577 * MS, caller(), phone(), INVITE.to_vec()),
        (
            11,
            10_580 * MS,
            phone(),
            caller(),
            resp("100 Trying", "1 INVITE", ""),
        ),
        (
            12,
            10_603 * MS,
            phone(),
            caller(),
            resp("180 Ringing", "1 INVITE", ""),
        ),
        (
            13,
            10_622 * MS,
            phone(),
            caller(),
            resp("200 OK", "1 INVITE", ANSWER),
        ),
        (14, 10_723 * MS, caller(), phone(), req("ACK", 1, false)),
        (15, 11_000 * MS, caller(), phone(), req("MESSAGE", 2, false)),
        (16, 11_001 * MS, caller(), phone(), req("MESSAGE", 2, false)), // retransmission
        (
            17,
            11_010 * MS,
            phone(),
            caller(),
            resp("200 OK", "2 MESSAGE", ""),
        ),
        (18, 12_000 * MS, phone(), caller(), req("MESSAGE", 1, true)),
        (19, 70_723 * MS, phone(), caller(), req("BYE", 2, true)),
        (
            20,
            70_730 * MS,
            caller(),
            phone(),
            resp("200 OK", "2 BYE", ""),
        ),
    ];
    frames
        .iter()
        .map(|(f, ts, s, d, b)| {
            let m = parse_sip(b).expect("test SIP parses");
            t.feed_sip(*f, *ts, Some(*s), Some(*d), &m)
        })
        .collect()
}

#[test]
fn facetime_call_flow() {
    let mut t = CallTracker::new();
    let r = run(&mut t);
    assert!(r.iter().all(|x| x.is_some()));
    let c = t.call(0).unwrap();
    assert_eq!(c.call_id, CID);
    assert_eq!(
        c.caller.as_deref(),
        Some("sip:+18883223846@17.155.5.14:16402")
    );
    assert_eq!(c.callee.as_deref(), Some("sip:+14085550123@10.0.1.5:16402"));
    assert_eq!(c.callee_tag.as_deref(), Some("2041855412"));
    assert_eq!(c.final_status, Some(200));
    assert_eq!(c.setup_time_ns(), Some(146 * MS));
    assert_eq!(c.duration_ns(), Some(60_146 * MS));
    assert_eq!(c.talk_time_ns(), Some(60_000 * MS));
    assert_eq!(c.message_count, 2);
    assert_eq!(c.ringing_frame, Some(12));
    assert_eq!(c.bye_from_caller, Some(false));
    assert_eq!(c.state, CallState::Ended);
    assert_eq!(c.sip_frames, 11);
    let roles: Vec<Role> = r.iter().map(|x| x.unwrap().role).collect();
    assert_eq!(
        roles,
        vec![
            Role::Invite,
            Role::Provisional(100),
            Role::Provisional(180),
            Role::FinalResponse(200),
            Role::Ack,
            Role::Message,
            Role::Message,
            Role::OtherResponse(200),
            Role::Message,
            Role::Bye,
            Role::OtherResponse(200),
        ]
    );
    assert!(r[6].unwrap().retransmission);
    assert!(!r[8].unwrap().retransmission); // same CSeq 1 but from the callee
    assert_eq!(r[0].unwrap().from_caller, Some(true));
    assert_eq!(r[3].unwrap().from_caller, Some(false));
    assert_eq!(r[9].unwrap().from_caller, Some(false));
    assert_eq!(r[0].unwrap().state, CallState::Calling);
    assert_eq!(r[2].unwrap().state, CallState::Ringing);
    assert_eq!(r[3].unwrap().state, CallState::Answered);
    assert_eq!(r[4].unwrap().state, CallState::InCall);
    // Media: offer (2 sections from the INVITE) + answer (2 from the 200 OK).
    assert_eq!(r[0].unwrap().media_added, 2);
    assert_eq!(r[3].unwrap().media_added, 2);
    assert_eq!(c.media.len(), 4);
    let (mc, m) = t.media_at(phone()).unwrap();
    assert_eq!(mc.index, 0);
    assert_eq!(m.frame, 13);
    assert_eq!(m.from_caller, Some(false));
    assert_eq!(m.kind, "video"); // latest section for the shared port wins
    assert_eq!(c.encoding(Some(phone()), 104), Some(("iLBC", Some(8000))));
    assert_eq!(
        c.encoding(Some(caller()), 110),
        Some(("AAC-ELD", Some(16000)))
    );
    assert_eq!(c.encoding(None, 126), Some(("H264", Some(90000))));
    assert!(!t.limits().any());
}

#[test]
fn revisits_are_idempotent() {
    let mut t = CallTracker::new();
    let first = run(&mut t);
    let snapshot = t.call(0).unwrap().clone();
    let second = run(&mut t); // Wireshark's later passes
    assert_eq!(first, second);
    assert_eq!(t.call(0).unwrap(), &snapshot);
    assert_eq!(t.calls().len(), 1);
    assert_eq!(t.frame(14).unwrap().role, Role::Ack);
    assert_eq!(t.frame(99), None);
}

#[test]
fn streams() {
    let mut t = CallTracker::new();
    run(&mut t);
    // media after the call setup, frames 21..
    let rtp = |ssrc: u32, seq: u16| {
        let mut b = [0x80, 104, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xEE];
        b[2..4].copy_from_slice(&seq.to_be_bytes());
        b[8..12].copy_from_slice(&ssrc.to_be_bytes());
        b
    };
    let mut f = 21;
    for seq in 0..10u16 {
        let a = rtp(0xAAAA, seq);
        t.feed_rtp(f, 0, caller(), phone(), &parse_rtp(&a).unwrap());
        f += 1;
        let b = rtp(0xBBBB, 100 + seq * 2); // every other one lost
        t.feed_rtp(f, 0, phone(), caller(), &parse_rtp(&b).unwrap());
        f += 1;
    }
    t.feed_rtcp(f, 0, phone(), caller(), 0xBBBB);
    // a revisit does not count again
    let a = rtp(0xAAAA, 0);
    assert_eq!(
        t.feed_rtp(21, 0, caller(), phone(), &parse_rtp(&a).unwrap()),
        Some(0)
    );
    let counts: Vec<_> = t.stream_counts(0).collect();
    assert_eq!(
        counts,
        vec![
            (StreamDir::FromCaller, 0xAAAA, 10),
            (StreamDir::FromCallee, 0xBBBB, 10)
        ]
    );
    assert_eq!(t.stream(1).unwrap().seq_jumps, 9);
    assert_eq!(t.stream(0).unwrap().seq_jumps, 0);
    assert_eq!(t.stream(2).unwrap().key.kind, StreamKind::Rtcp);
    // unknown endpoints
    let (c, d) = t.match_media(ep([1, 1, 1, 1], 1), ep([2, 2, 2, 2], 2));
    assert_eq!((c, d), (None, StreamDir::Unknown));
}

#[test]
fn rejected_cancelled_and_midcall() {
    let mut t = CallTracker::new();
    let inv = parse_sip(INVITE).unwrap();
    t.feed_sip(1, 0, None, None, &inv);
    let busy = resp("486 Busy Here", "1 INVITE", "");
    t.feed_sip(2, 5, None, None, &parse_sip(&busy).unwrap());
    let c = t.call(0).unwrap();
    assert_eq!(c.state, CallState::Rejected(486));
    assert_eq!(c.setup_time_ns(), None);
    assert_eq!(c.duration_ns(), None);

    let mut t = CallTracker::new();
    t.feed_sip(1, 0, None, None, &inv);
    t.feed_sip(
        2,
        1,
        None,
        None,
        &parse_sip(&req("CANCEL", 1, false)).unwrap(),
    );
    assert_eq!(t.call(0).unwrap().state, CallState::Cancelled);
    t.feed_sip(
        3,
        2,
        None,
        None,
        &parse_sip(&resp("487 Request Terminated", "1 INVITE", "")).unwrap(),
    );
    assert_eq!(t.call(0).unwrap().state, CallState::Cancelled);

    // capture starting mid-call: BYE only
    let mut t = CallTracker::new();
    let i = t
        .feed_sip(
            5,
            100,
            None,
            None,
            &parse_sip(&req("BYE", 3, true)).unwrap(),
        )
        .unwrap();
    assert_eq!(i.role, Role::Bye);
    let c = t.call(0).unwrap();
    assert_eq!(c.state, CallState::Ended);
    assert_eq!(c.duration_ns(), None);
    assert_eq!(c.caller, None);
    // no Call-ID: ignored
    let m = parse_sip(b"OPTIONS sip:a SIP/2.0\r\n\r\n").unwrap();
    assert_eq!(t.feed_sip(6, 0, None, None, &m), None);
    // time going backwards does not underflow
    let mut t = CallTracker::new();
    t.feed_sip(1, 1000, None, None, &inv);
    t.feed_sip(
        2,
        10,
        None,
        None,
        &parse_sip(&resp("200 OK", "1 INVITE", "")).unwrap(),
    );
    t.feed_sip(3, 5, None, None, &parse_sip(&req("ACK", 1, false)).unwrap());
    assert_eq!(t.call(0).unwrap().setup_time_ns(), None);
}

#[test]
fn caps() {
    let mut t = CallTracker::new();
    let mut buf = Vec::new();
    for i in 0..(MAX_CALLS as u32 + 5) {
        buf.clear();
        buf.extend_from_slice(
            format!("MESSAGE sip:a SIP/2.0\r\nCall-ID: c{i}\r\nCSeq: 1 MESSAGE\r\n\r\n")
                .as_bytes(),
        );
        let m = parse_sip(&buf).unwrap();
        t.feed_sip(i + 1, 0, None, None, &m);
    }
    assert_eq!(t.calls().len(), MAX_CALLS);
    assert!(t.limits().calls);
    // a very long Call-ID is cut, flagged
    let long = format!(
        "MESSAGE sip:a SIP/2.0\r\nCall-ID: {}\r\n\r\n",
        "x".repeat(5000)
    );
    let mut t = CallTracker::new();
    t.feed_sip(1, 0, None, None, &parse_sip(long.as_bytes()).unwrap());
    assert_eq!(t.call(0).unwrap().call_id.len(), MAX_TEXT);
    assert!(t.limits().text);
}

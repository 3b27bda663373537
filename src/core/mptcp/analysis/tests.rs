//! Unit tests of the analyser: hand-built segments (seed traces, handshakes missing,
//! 4-byte wrap, joins, reinjections, handovers, fallbacks, caps) and random input.

use super::model::{first_in, widen};
use super::*;
use crate::core::mptcp::options::RstReason;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// Found by `cargo fuzz run mptcp_state` (fuzz/regressions/mptcp_state/crash-range-wrap-min):
/// DSS mappings whose relative DSN ranges wrap past u64::MAX made `BTreeMap::range`
/// panic ("range start is greater than range end").
#[test]
fn wrapping_dsn_ranges_do_not_panic() {
    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
    }
    let a: IpAddr = "10.0.0.1".parse().unwrap();
    let b: IpAddr = "10.0.0.2".parse().unwrap();
    // (flags, forward?, seq, ack, payload length, ms since previous, options)
    let segs = [
        (0x02, true, 0x26ef6728u32, 0xe25520f7u32, 16u32, 790u64, "0101080a7b5b4d0f37f2f9201e1a200fa896f3fe7a8dc03eee83a66c1e0c2003ee83a616c38765d5"),
        (0x18, false, 0xe25520f7, 0x26ef6738, 16, 0, "0101080a37f2fc407b664d0f1e1a200fee83a616c38765e5a896f3fe7a8dc03e000000210010013e"),
        (0x18, false, 0xe2552107, 0x26ef6738, 16, 200, "0101080a37f2fd107b664d111e1a200fee83a616c38765e5a896f3fe7a8dc03e00000030001065e5"),
        (0x18, false, 0xe2552117, 0x26ef6748, 16, 0, "01011e1a200fee83a616c38765f5a896f0fe7a8dc04e000000410029"),
    ];
    let mut an = Analyser::new(Config::default());
    let mut t = 0i128;
    for (i, (flags, fwd, seq, ack, len, dt, opts)) in segs.iter().enumerate() {
        t += i128::from(*dt) * 1_000_000;
        let opts = unhex(opts);
        let (src, dst, sport, dport) = if *fwd { (a, b, 40000, 443) } else { (b, a, 443, 40000) };
        let seg = Segment {
            frame: i as u32 + 1,
            time_ns: t,
            src,
            dst,
            sport,
            dport,
            flags: TcpFlags(*flags),
            seq: *seq,
            ack: *ack,
            payload_len: *len,
            options: &opts,
        };
        an.feed(&seg);
    }
    an.finish();
    // All four segments belong to the one connection the SYN opened.
    for f in 1..=4 {
        assert_eq!(an.annotation(f).and_then(|x| x.connection), Some(0), "frame {f}");
    }
}

#[test]
fn first_in_wraps() {
    let m: BTreeMap<u64, u8> = [(1, 1), (50, 2), (u64::MAX - 1, 3)].into_iter().collect();
    assert_eq!(first_in(&m, 10, 60).map(|(k, _)| *k), Some(50));
    assert_eq!(first_in(&m, 60, 10).map(|(k, _)| *k), Some(u64::MAX - 1));
    assert_eq!(first_in(&m, u64::MAX, 10).map(|(k, _)| *k), Some(1));
    assert_eq!(first_in(&m, u64::MAX, 1), None);
    assert_eq!(first_in(&m, 5, 5), None);
}

const C: ([u8; 4], u16) = ([192, 168, 1, 10], 49152);
const S: ([u8; 4], u16) = ([17, 1, 2, 3], 443);
const C2: ([u8; 4], u16) = ([10, 0, 0, 10], 49153);
const CK: u64 = 0x96e576198c475350;
const SK: u64 = 0xd7b705e4d86c1a66;
const SYN: u8 = TcpFlags::SYN;
const ACK: u8 = TcpFlags::ACK;

struct P {
    frame: u32,
    t_us: i128,
    from: ([u8; 4], u16),
    to: ([u8; 4], u16),
    flags: u8,
    seq: u32,
    len: u32,
    opts: Vec<u8>,
    /// TCP acknowledgement number (0: none that means anything).
    ack: u32,
}

#[allow(clippy::too_many_arguments)]
fn p(
    frame: u32,
    t_us: i128,
    from: ([u8; 4], u16),
    to: ([u8; 4], u16),
    flags: u8,
    seq: u32,
    len: u32,
    opts: Vec<u8>,
) -> P {
    P {
        frame,
        t_us,
        from,
        to,
        flags,
        seq,
        len,
        opts,
        ack: 0,
    }
}

fn feed(a: &mut Analyser, x: &P) -> Option<Annotation> {
    a.feed(&Segment {
        frame: x.frame,
        time_ns: x.t_us * 1000,
        src: IpAddr::from(x.from.0),
        dst: IpAddr::from(x.to.0),
        sport: x.from.1,
        dport: x.to.1,
        flags: TcpFlags(x.flags),
        seq: x.seq,
        ack: x.ack,
        payload_len: x.len,
        options: &x.opts,
    })
}

fn cap_v0(keys: &[u64]) -> Vec<u8> {
    let mut o = vec![30, 4 + 8 * keys.len() as u8, 0x00, 0x01];
    for k in keys {
        o.extend_from_slice(&k.to_be_bytes());
    }
    o
}

/// DSS with 4-byte fields; `map` = (dsn, ssn, len).
fn dss4(ack: Option<u32>, map: Option<(u32, u32, u16)>) -> Vec<u8> {
    let mut o = vec![30, 4, 0x20, 0];
    if let Some(a) = ack {
        o[3] |= 1;
        o.extend_from_slice(&a.to_be_bytes());
    }
    if let Some((d, s, l)) = map {
        o[3] |= 4;
        o.extend_from_slice(&d.to_be_bytes());
        o.extend_from_slice(&s.to_be_bytes());
        o.extend_from_slice(&l.to_be_bytes());
    }
    o[1] = o.len() as u8;
    o
}

const CISN: u32 = 2739181685;
const SISN: u32 = 1880401460;

/// The seed 004 trace (Siri, v0): handshake, two data segments, two data acks.
fn seed() -> Vec<P> {
    vec![
        p(1, 0, C, S, SYN, CISN, 0, cap_v0(&[CK])),
        p(2, 31175, S, C, SYN | ACK, SISN, 0, cap_v0(&[SK])),
        p(3, 34387, C, S, ACK, CISN + 1, 0, cap_v0(&[CK, SK])),
        p(
            4,
            46325,
            C,
            S,
            ACK,
            CISN + 1,
            144,
            dss4(Some(2248627404), Some((3845908739, 1, 144))),
        ),
        p(
            5,
            46369,
            C,
            S,
            ACK,
            CISN + 145,
            40,
            dss4(Some(2248627404), Some((3845908883, 145, 40))),
        ),
        p(
            6,
            73971,
            S,
            C,
            ACK,
            SISN + 1,
            0,
            dss4(Some(3845908883), None),
        ),
        p(
            7,
            78399,
            S,
            C,
            ACK,
            SISN + 1,
            0,
            dss4(Some(3845908923), None),
        ),
    ]
}

#[test]
fn seed_trace() {
    let mut a = Analyser::new(Config::default());
    for x in &seed() {
        assert!(feed(&mut a, x).is_some());
    }
    let c = a.connection(0).unwrap();
    assert_eq!(c.tokens, [Some(0xa421f0da), Some(0x4c4d4173)]);
    assert_eq!(c.third_ack_echoed_keys, Some(true));
    assert_eq!(c.checksum_negotiated, Some(false));
    assert_eq!(c.mappings_without_checksum, 2);
    let f4 = a.annotation(4).unwrap();
    assert_eq!(
        (f4.rel_dsn, f4.dsn_base, f4.idsn_check),
        (Some(1), Some(RelBase::Idsn), Some(IdsnCheck::Ok))
    );
    assert_eq!((f4.rel_dack, f4.dack_base), (Some(1), Some(RelBase::Idsn)));
    assert_eq!(
        (f4.connection, f4.subflow, f4.direction),
        (Some(0), Some(0), Some(Direction::Forward))
    );
    let f5 = a.annotation(5).unwrap();
    assert_eq!(
        (f5.rel_dsn, f5.idsn_check, f5.in_flight),
        (Some(145), None, Some(184))
    );
    let f6 = a.annotation(6).unwrap();
    assert_eq!(
        (f6.rel_dack, f6.direction),
        (Some(145), Some(Direction::Reverse))
    );
    assert_eq!(
        f6.data_rtt,
        Some(DataRtt {
            ns: (73971 - 46325) * 1000,
            acked_frame: 4
        })
    );
    let f7 = a.annotation(7).unwrap();
    assert_eq!(
        f7.data_rtt,
        Some(DataRtt {
            ns: (78399 - 46369) * 1000,
            acked_frame: 5
        })
    );
    assert_eq!(c.rtt_stats().unwrap().samples, 2);
    assert_eq!(a.connection(0).unwrap().spaces[0].in_flight(), Some(0));
}

#[test]
fn idempotent_refeed() {
    let mut a = Analyser::new(Config::default());
    let s = seed();
    for x in &s {
        feed(&mut a, x);
    }
    let before = a.clone();
    for x in s.iter().rev() {
        feed(&mut a, x);
    }
    assert_eq!(before.connections(), a.connections());
    assert_eq!(before.store, a.store);
}

#[test]
fn summary_frames_where_facts_change() {
    let mut a = Analyser::new(Config::default());
    for x in &seed() {
        feed(&mut a, x);
    }
    let c = a.connection(0).unwrap();
    // SYN (client key, version), SYN/ACK (server key), third ACK (keys echoed); the data
    // segments and data acks change only counts.
    assert_eq!(c.summary_frames, [1, 2, 3]);
    assert_eq!(c.last_frame, 7);
    assert!(c.summary_at(3, false) && !c.summary_at(5, false));
    assert!(!c.summary_at(7, false), "the last frame only once the capture is over");
    assert!(c.summary_at(7, true) && !c.summary_at(6, true));
    // A joined subflow is new facts: its SYN (new subflow, client address id) and SYN/ACK
    // (server address id).
    let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
    feed(&mut a, &p(8, 100_000, C2, S, SYN, 5000, 0, join));
    let mut ja = vec![30, 16, 0x10, 0];
    ja.extend_from_slice(&[0; 12]);
    feed(&mut a, &p(9, 110_000, S, C2, SYN | ACK, 9000, 0, ja));
    feed(&mut a, &p(10, 120_000, C2, S, ACK, 5001, 0, dss4(Some(2248627404), None)));
    let c = a.connection(0).unwrap();
    assert_eq!(c.summary_frames, [1, 2, 3, 8, 9]);
    assert_eq!(c.last_frame, 10);
}

#[test]
fn summary_frames_are_bounded() {
    let mut a = Analyser::new(Config::default());
    for x in &seed() {
        feed(&mut a, x);
    }
    // Each MP_PRIO flips the client's backup flag on subflow 0: a change every time.
    for i in 0..(SUMMARY_FRAMES as u32 + 20) {
        let prio = vec![30, 3, 0x50 | (i as u8 & 1 ^ 1)];
        feed(&mut a, &p(8 + i, 100_000 + i128::from(i), C, S, ACK, CISN + 185, 0, prio));
    }
    let c = a.connection(0).unwrap();
    assert_eq!(c.summary_frames.len(), SUMMARY_FRAMES);
    assert!(c.summary_frames.windows(2).all(|w| w[0] < w[1]));
    assert!(c.summary_at(c.last_frame, true));
}

#[test]
fn missing_handshake_uses_first_seen() {
    let mut a = Analyser::new(Config::default());
    for x in seed().into_iter().skip(3) {
        feed(&mut a, &x);
    }
    let f4 = a.annotation(4).unwrap();
    assert_eq!(
        (f4.rel_dsn, f4.dsn_base, f4.idsn_check),
        (Some(1), Some(RelBase::FirstSeen), None)
    );
    assert_eq!(a.annotation(5).unwrap().rel_dsn, Some(145));
    assert_eq!(a.annotation(7).unwrap().rel_dack, Some(185));
    assert_eq!(a.connection(0).unwrap().tokens, [None, None]);
    // A plain TCP segment is not MPTCP.
    let mut a = Analyser::new(Config::default());
    assert!(feed(
        &mut a,
        &p(
            1,
            0,
            C,
            S,
            ACK,
            1,
            10,
            vec![1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0]
        )
    )
    .is_none());
}

#[test]
fn widening_4_byte_across_wrap() {
    assert_eq!(widen(5, 4, Some(0x1_ffff_fff0)), 0x2_0000_0005);
    assert_eq!(widen(0xffff_fff0, 4, Some(0x2_0000_0005)), 0x1_ffff_fff0);
    assert_eq!(widen(7, 8, Some(1)), 7);
    let mut a = Analyser::new(Config::default());
    feed(
        &mut a,
        &p(
            1,
            0,
            C,
            S,
            ACK,
            100,
            16,
            dss4(None, Some((0xffff_fff8, 1, 16))),
        ),
    );
    let x = feed(
        &mut a,
        &p(
            2,
            1,
            C,
            S,
            ACK,
            116,
            16,
            dss4(None, Some((0x0000_0008, 17, 16))),
        ),
    )
    .unwrap();
    assert_eq!(x.rel_dsn, Some(17));
    assert_eq!(x.reinjection_of, None);
}

#[test]
fn join_reinjection_and_handover() {
    let mut a = Analyser::new(Config {
        silence_ns: 1_000_000_000,
        ..Config::default()
    });
    let mut s = seed();
    s.truncate(5);
    // Server token 0x4c4d4173: MP_JOIN SYN from the client's second address.
    let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
    s.push(p(6, 100_000, C2, S, SYN, 5000, 0, join));
    let mut ja = vec![30, 16, 0x10, 0];
    ja.extend_from_slice(&[0; 12]);
    s.push(p(7, 110_000, S, C2, SYN | ACK, 9000, 0, ja));
    // The first subflow goes quiet; 2 s later its data (rel 145..185) is sent on subflow 1.
    s.push(p(
        8,
        2_200_000,
        C2,
        S,
        ACK,
        5001,
        40,
        dss4(None, Some((3845908883, 1, 40))),
    ));
    // Then a plain TCP retransmission of it on subflow 1.
    s.push(p(
        9,
        2_400_000,
        C2,
        S,
        ACK,
        5001,
        40,
        dss4(None, Some((3845908883, 1, 40))),
    ));
    for x in &s {
        feed(&mut a, x);
    }
    let c = a.connection(0).unwrap();
    assert_eq!(c.subflows.len(), 2);
    assert_eq!(c.subflows[1].addr_ids, [Some(2), Some(0)]);
    assert!(c.subflows[1].joined);
    let f8 = a.annotation(8).unwrap();
    assert_eq!(
        (f8.connection, f8.subflow, f8.rel_dsn),
        (Some(0), Some(1), Some(145))
    );
    assert_eq!(
        f8.reinjection_of,
        Some(Reinjection {
            frame: 5,
            subflow: 0,
            kind: ReinjectionKind::OtherSubflow
        })
    );
    assert!(matches!(
        f8.events[..],
        [Event::Handover {
            from_subflow: 0,
            to_subflow: 1,
            reason: HandoverReason::Silence { .. },
            // Subflow 0's last data: frame 5 at 46.369 ms; the first on subflow 1: 2.2 s.
            latency_ns: Some(2_153_631_000),
        }]
    ));
    let f9 = a.annotation(9).unwrap();
    assert_eq!(
        f9.reinjection_of.unwrap().kind,
        ReinjectionKind::OtherSubflow
    );
    assert_eq!(c.reinjections, 2);
    // An unknown token becomes its own connection.
    let unk = vec![30, 12, 0x10, 2, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4];
    let x = feed(
        &mut a,
        &p(20, 3_000_000, ([1, 1, 1, 1], 1), S, SYN, 1, 0, unk),
    )
    .unwrap();
    assert_eq!(x.connection, Some(1));
    assert!(x
        .events
        .contains(&Event::JoinUnknownToken { token: 0xdeadbeef }));
}

#[test]
fn deferred_handover_idle_resume_and_data_fin_repeat() {
    let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
    let mut ja = vec![30, 16, 0x10, 0];
    ja.extend_from_slice(&[0; 12]);
    let base = |a: &mut Analyser| {
        let mut s = seed();
        s.truncate(5);
        s.push(p(6, 100_000, C2, S, SYN, 5000, 0, join.clone()));
        s.push(p(7, 110_000, S, C2, SYN | ACK, 9000, 0, ja.clone()));
        for x in &s {
            feed(a, x);
        }
    };
    // Busy: data moves to subflow 1 at once (no reinjection, short gap); subflow 0 is
    // never seen again while subflow 1 carries on for over 1 s: after `finish`, a
    // handover on the frame where the data moved.
    let mut a = Analyser::new(Config::default());
    base(&mut a);
    let mut dsn = 3845908923u32;
    let mut ssn = 1u32;
    for (i, t) in [150_000i128, 350_000, 550_000, 750_000, 950_000, 1_150_000, 1_350_000].iter().enumerate() {
        let f = 8 + i as u32;
        feed(&mut a, &p(f, *t, C2, S, ACK, 5000 + ssn, 100, dss4(None, Some((dsn, ssn, 100)))));
        dsn += 100;
        ssn += 100;
    }
    let ho_frames = |a: &Analyser| -> Vec<u32> {
        (8..15)
            .filter(|f| {
                a.annotation(*f).unwrap().events.iter().any(|x| {
                    matches!(x, Event::Handover { from_subflow: 0, to_subflow: 1, reason: HandoverReason::Silence { .. }, latency_ns: Some(_) })
                })
            })
            .collect()
    };
    assert!(ho_frames(&a).is_empty());
    a.finish();
    a.finish();
    assert_eq!(ho_frames(&a), vec![8]);
    assert_eq!(a.connection(0).unwrap().handovers.len(), 1);
    // Last data on subflow 0: frame 5 at 46.369 ms; first on subflow 1: frame 8 at 150 ms.
    assert_eq!(a.connection(0).unwrap().handovers[0].latency_ns, Some((150_000 - 46_369) * 1000));
    // DATA_FIN on subflow 0, then repeated on subflow 1: not a reinjection.
    let mut fin = vec![30, 4, 0x20, 0x14];
    fin.extend_from_slice(&dsn.to_be_bytes());
    fin.extend_from_slice(&0u32.to_be_bytes());
    fin.extend_from_slice(&1u16.to_be_bytes());
    fin[1] = fin.len() as u8;
    let before = a.connection(0).unwrap().reinjections;
    feed(&mut a, &p(20, 1_400_000, C, S, ACK, CISN + 185, 0, fin.clone()));
    let r = feed(&mut a, &p(21, 1_400_100, C2, S, ACK, 5000 + ssn, 0, fin)).unwrap();
    assert_eq!((r.reinjection_of, r.data_len), (None, 1));
    // The server's first mapping is a bare DATA_FIN at IDSN + 6: no IDSN verdict; its
    // first data mapping (IDSN + 1, 5 bytes) gets it.
    let sfin = |dsn: u32, ssn: u32, len: u16| {
        let mut o = vec![30, 4, 0x20, 0x14];
        o.extend_from_slice(&dsn.to_be_bytes());
        o.extend_from_slice(&ssn.to_be_bytes());
        o.extend_from_slice(&len.to_be_bytes());
        o[1] = o.len() as u8;
        o
    };
    let f = feed(&mut a, &p(22, 1_500_000, S, C, ACK, SISN + 1, 0, sfin(2248627409, 0, 1))).unwrap();
    assert_eq!(f.idsn_check, None);
    let f = feed(&mut a, &p(23, 1_600_000, S, C, ACK, SISN + 1, 5, sfin(2248627404, 1, 6))).unwrap();
    assert_eq!(f.idsn_check, Some(IdsnCheck::Ok));
    assert_eq!(a.connection(0).unwrap().reinjections, before);

    // Idle: the connection is quiet for 3 s, then resumes on subflow 1: no handover.
    let mut a = Analyser::new(Config::default());
    base(&mut a);
    let mut dsn = 3845908923u32;
    let mut ssn = 1u32;
    for (i, t) in [3_000_000i128, 3_500_000, 4_000_000, 4_600_000, 5_200_000].iter().enumerate() {
        feed(&mut a, &p(8 + i as u32, *t, C2, S, ACK, 5000 + ssn, 100, dss4(None, Some((dsn, ssn, 100)))));
        dsn += 100;
        ssn += 100;
    }
    a.finish();
    assert!(a.connection(0).unwrap().handovers.is_empty());
}

#[test]
fn same_subflow_kinds() {
    let mut a = Analyser::new(Config::default());
    let s = seed();
    for x in &s[..5] {
        feed(&mut a, x);
    }
    // Exact TCP retransmission of frame 5.
    let x = feed(
        &mut a,
        &p(
            6,
            50000,
            C,
            S,
            ACK,
            CISN + 145,
            40,
            dss4(None, Some((3845908883, 145, 40))),
        ),
    )
    .unwrap();
    assert_eq!(
        x.reinjection_of,
        Some(Reinjection {
            frame: 5,
            subflow: 0,
            kind: ReinjectionKind::SubflowRetransmission
        })
    );
    // Same DSNs with new subflow sequence numbers.
    let x = feed(
        &mut a,
        &p(
            7,
            60000,
            C,
            S,
            ACK,
            CISN + 185,
            40,
            dss4(None, Some((3845908883, 185, 40))),
        ),
    )
    .unwrap();
    assert_eq!(x.reinjection_of.unwrap().kind, ReinjectionKind::SameSubflow);
    let c = a.connection(0).unwrap();
    assert_eq!((c.reinjections, c.subflow_retransmissions), (1, 1));
}

#[test]
fn fallbacks_and_events() {
    // SYN/ACK without MP_CAPABLE.
    let mut a = Analyser::new(Config::default());
    feed(&mut a, &p(1, 0, C, S, SYN, CISN, 0, cap_v0(&[CK])));
    let x = feed(&mut a, &p(2, 1, S, C, SYN | ACK, SISN, 0, vec![])).unwrap();
    assert_eq!(
        x.events,
        vec![Event::FallbackToTcp(FallbackReason::SynAckWithoutMpCapable)]
    );
    // Data without DSS after negotiation.
    let mut a = Analyser::new(Config::default());
    let s = seed();
    for x in &s[..3] {
        feed(&mut a, x);
    }
    let x = feed(&mut a, &p(4, 9, C, S, ACK, CISN + 1, 10, vec![1, 1])).unwrap();
    assert_eq!(
        x.events,
        vec![Event::FallbackToTcp(FallbackReason::DataWithoutDss)]
    );
    let x = feed(&mut a, &p(5, 10, C, S, ACK, CISN + 11, 10, vec![])).unwrap();
    assert!(x.events.is_empty(), "reported once");
    // Infinite mapping.
    let mut a = Analyser::new(Config::default());
    for x in &s[..3] {
        feed(&mut a, x);
    }
    let x = feed(
        &mut a,
        &p(
            4,
            9,
            C,
            S,
            ACK,
            CISN + 1,
            10,
            dss4(None, Some((3845908739, 0, 0))),
        ),
    )
    .unwrap();
    assert_eq!(
        x.events,
        vec![
            Event::InfiniteMapping,
            Event::FallbackToTcp(FallbackReason::InfiniteMapping)
        ]
    );
    // MP_FAIL, MP_FASTCLOSE, MP_TCPRST, RST.
    let mut fail = vec![30, 12, 0x60, 0];
    fail.extend_from_slice(&(18410027899488261323u64 + 11).to_be_bytes());
    let x = feed(&mut a, &p(5, 10, C, S, ACK, CISN + 11, 0, fail)).unwrap();
    assert_eq!(
        x.events,
        vec![
            Event::MpFail { rel_dsn: Some(11) },
            Event::SubflowClosed {
                subflow: 0,
                reason: CloseReason::MpFail
            }
        ]
    );
    let mut fc = vec![30, 12, 0x70, 0];
    fc.extend_from_slice(&SK.to_be_bytes());
    let x = feed(&mut a, &p(6, 11, C, S, ACK, CISN + 11, 0, fc)).unwrap();
    assert_eq!(x.events, vec![Event::FastClose]);
    let x = feed(
        &mut a,
        &p(
            7,
            12,
            S,
            C,
            TcpFlags::RST | ACK,
            SISN + 1,
            0,
            vec![30, 4, 0x81, 2],
        ),
    )
    .unwrap();
    assert_eq!(
        x.events,
        vec![Event::MpRst {
            reason: RstReason::LackOfResources,
            transient: true
        }]
    );
}

#[test]
fn keys_not_echoed_and_remove_addr() {
    let mut a = Analyser::new(Config::default());
    let s = seed();
    for x in &s[..2] {
        feed(&mut a, x);
    }
    let x = feed(
        &mut a,
        &p(3, 5, C, S, ACK, CISN + 1, 0, cap_v0(&[CK, SK ^ 1])),
    )
    .unwrap();
    assert_eq!(x.events, vec![Event::KeysNotEchoed]);
    assert_eq!(a.connection(0).unwrap().third_ack_echoed_keys, Some(false));
    // Client announces address 7 = 10.9.9.9 then removes it: nothing uses it, no close.
    let x = feed(
        &mut a,
        &p(
            4,
            6,
            C,
            S,
            ACK,
            CISN + 1,
            0,
            vec![30, 8, 0x34, 7, 10, 9, 9, 9],
        ),
    )
    .unwrap();
    assert!(x.events.is_empty());
    let x = feed(
        &mut a,
        &p(5, 7, C, S, ACK, CISN + 1, 0, vec![30, 4, 0x40, 7]),
    )
    .unwrap();
    assert!(x.events.is_empty());
    let x = feed(
        &mut a,
        &p(6, 8, C, S, ACK, CISN + 1, 0, vec![30, 4, 0x40, 0]),
    )
    .unwrap();
    assert_eq!(
        x.events,
        vec![Event::SubflowClosed {
            subflow: 0,
            reason: CloseReason::RemoveAddr
        }]
    );
}

#[test]
fn caps() {
    let cfg = Config {
        max_connections: 1,
        max_subflows: 1,
        max_ranges: 2,
        max_rtt_samples: 1,
        max_annotations: 100,
        ..Config::default()
    };
    let mut a = Analyser::new(cfg);
    let s = seed();
    for x in &s[..3] {
        feed(&mut a, x);
    }
    let x = feed(&mut a, &p(4, 9, C2, S, ACK, 1, 0, dss4(Some(1), None))).unwrap();
    assert_eq!(
        (x.connection, x.events.clone()),
        (None, vec![Event::CapReached(CapKind::Connections)])
    );
    assert!(a.global_cap_hit());
    let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
    let x = feed(&mut a, &p(5, 10, C2, S, SYN, 5, 0, join)).unwrap();
    assert_eq!((x.connection, x.subflow), (Some(0), None));
    assert_eq!(x.events, vec![Event::CapReached(CapKind::Subflows)]);
    for i in 0..5u32 {
        let x = feed(
            &mut a,
            &p(
                10 + i,
                20,
                C,
                S,
                ACK,
                CISN + 1 + 10 * i,
                10,
                dss4(None, Some((3845908739 + 10 * i, 1 + 10 * i, 10))),
            ),
        )
        .unwrap();
        assert_eq!(x.rel_dsn, Some(1 + 10 * i as u64));
        if i == 2 {
            assert_eq!(x.events, vec![Event::CapReached(CapKind::Ranges)]);
        }
    }
    assert!(a.connection(0).unwrap().spaces[0].sent.len() <= 2);
    let x = feed(
        &mut a,
        &p(30, 30, S, C, ACK, SISN + 1, 0, dss4(Some(3845908789), None)),
    )
    .unwrap();
    assert_eq!(x.rel_dack, Some(51));
    assert!(x.data_rtt.is_some());
    // Later segments of the untracked connection: nothing to show, nothing stored.
    let stored = a.store.len();
    assert!(feed(&mut a, &p(31, 31, C2, S, ACK, 1, 0, dss4(Some(1), None))).is_none());
    assert_eq!(a.store.len(), stored);
}

/// Random segments with random option bytes never panic, and refeeding changes nothing.
#[test]
fn random_segments_never_panic() {
    let mut state: u64 = 0x1234_5678_9abc_def0;
    let mut rnd = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let cfg = Config {
        max_connections: 8,
        max_subflows: 3,
        max_ranges: 16,
        max_rtt_samples: 8,
        max_addresses: 2,
        max_handovers: 2,
        max_annotations: 3000,
        silence_ns: 1000,
        max_reorder_ranges: 3,
        max_pending_reinjections: 2,
    };
    let mut a = Analyser::new(cfg);
    let ends = [C, S, C2, ([1, 1, 1, 1], 1)];
    let mut segs = Vec::new();
    for f in 1..4000u32 {
        let r = rnd();
        let from = ends[(r & 3) as usize];
        let to = ends[((r >> 2) & 3) as usize];
        let nopt = (r >> 8) as usize % 41;
        let mut opts: Vec<u8> = (0..nopt).map(|_| rnd() as u8).collect();
        if r & 0x10 != 0 && opts.len() > 3 {
            opts[0] = 30;
            opts[1] = (opts.len() as u8).min(opts[1] % 32);
            opts[2] &= 0x8f;
        }
        let x = p(
            f,
            (rnd() % 1_000_000) as i128 - 500_000,
            from,
            to,
            (r >> 32) as u8,
            rnd() as u32,
            (rnd() % 3000) as u32,
            opts,
        );
        feed(&mut a, &x);
        segs.push(x);
    }
    let before = a.clone();
    for x in &segs {
        feed(&mut a, x);
    }
    assert_eq!(before.store, a.store);
    assert!(a.store.len() <= 3000);
    assert!(a.connections().len() <= 8);
}

// ---------------------------------------------------------------- order step

/// The client's data: relative DSN `rel` = 4-byte DSN − 3845908738 (seed: DSN 3845908739 is
/// relative 1). Subflow 0 from C (subflow sequence = relative DSN: the seed's data starts at
/// both 1), subflow 1 from C2 (ISN 5000, its first byte subflow sequence 1).
const CD: u32 = 3845908738;
/// The server's 4-byte data ACK of client relative DSN `rel`.
fn sack_opt(rel: u32) -> Vec<u8> {
    dss4(Some(CD.wrapping_add(rel)), None)
}

/// Seed handshake and data (client data 1..185, acked), then subflow 1 joins (frames 8, 9).
fn two_subflows(cfg: Config) -> Analyser {
    let mut a = Analyser::new(cfg);
    for x in &seed() {
        feed(&mut a, x);
    }
    let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
    feed(&mut a, &p(8, 100_000, C2, S, SYN, 5000, 0, join));
    let mut ja = vec![30, 16, 0x10, 0];
    ja.extend_from_slice(&[0; 12]);
    // 95 ms beyond the capture point on the server's side, 5 ms (to the first data) on the
    // client's: the capture is the client's (the sender's of the data below).
    feed(&mut a, &p(9, 195_000, S, C2, SYN | ACK, 9000, 0, ja));
    a
}

/// Client data on subflow `sf` (0 or 1): relative DSN `rel`, subflow sequence `ssn`.
fn cdata(frame: u32, t_us: i128, sf: usize, rel: u32, ssn: u32, len: u16) -> P {
    let (from, isn) = if sf == 0 { (C, CISN) } else { (C2, 5000) };
    p(frame, t_us, from, S, ACK, isn + ssn, u32::from(len), dss4(None, Some((CD + rel, ssn, len))))
}

/// A pure ACK from the server on subflow `sf` with data ACK `rel`.
fn sack(frame: u32, t_us: i128, sf: usize, rel: u32) -> P {
    let (to, isn) = if sf == 0 { (C, SISN) } else { (C2, 9000) };
    p(frame, t_us, S, to, ACK, isn + 1, 0, sack_opt(rel))
}

/// Out-of-order data, the hole before it, and the segment that fills the hole: which frames
/// it releases, how many bytes, and how long they waited. Expected values: the DSNs and
/// times written here.
#[test]
fn out_of_order_hole_and_release() {
    let mut a = two_subflows(Config::default());
    // 185..285 in order on subflow 0.
    let x = feed(&mut a, &cdata(10, 200_000, 0, 185, 185, 100)).unwrap();
    assert_eq!((x.ofo, x.release), (None, None));
    // 385..485 on subflow 1 before 285..385: out of order, 100 bytes missing before it.
    let x = feed(&mut a, &cdata(11, 210_000, 1, 385, 1, 100)).unwrap();
    assert_eq!(x.ofo, Some(Ofo { hole: 100 }));
    // 485..585 on subflow 1: still beyond the same hole (385..485 is held, not missing).
    let x = feed(&mut a, &cdata(12, 220_000, 1, 485, 101, 100)).unwrap();
    assert_eq!(x.ofo, Some(Ofo { hole: 100 }));
    // A copy of held data (frame 12's) on subflow 0 again: not new, not out of order.
    let x = feed(&mut a, &cdata(13, 225_000, 0, 485, 285, 100)).unwrap();
    assert_eq!(x.ofo, None);
    assert_eq!(x.reinjection_of.map(|r| r.frame), Some(12));
    // 785..885: a second hole (585..785) beyond the first: 100 + 200 bytes missing.
    let x = feed(&mut a, &cdata(14, 230_000, 1, 785, 201, 100)).unwrap();
    assert_eq!(x.ofo, Some(Ofo { hole: 300 }));
    // 285..385 fills the first hole: releases 385..585 (frames 11 and 12, 200 bytes), the
    // longest wait being frame 11's (210 ms → 260 ms).
    let x = feed(&mut a, &cdata(15, 260_000, 0, 285, 385, 100)).unwrap();
    assert_eq!(x.ofo, None);
    assert_eq!(x.release, Some(Release { wait_ns: 50_000_000, frames: 2, bytes: 200, oldest_frame: 11 }));
    // 585..785 fills the second: releases frame 14's 100 bytes, held since 230 ms.
    let x = feed(&mut a, &cdata(16, 300_000, 0, 585, 485, 200)).unwrap();
    assert_eq!(x.release, Some(Release { wait_ns: 70_000_000, frames: 1, bytes: 100, oldest_frame: 14 }));
    // In order after that.
    let x = feed(&mut a, &cdata(17, 310_000, 0, 885, 685, 100)).unwrap();
    assert_eq!((x.ofo, x.release), (None, None));
    let c = a.connection(0).unwrap();
    assert_eq!((c.ofo_segments, c.reorder_releases, c.max_reorder_wait_ns), (3, 2, Some(70_000_000)));
    assert_eq!((c.subflows[0].ofo_segments, c.subflows[1].ofo_segments), (0, 3));
    assert_eq!(c.subflows[1].data_segments, [3, 0]);
    assert_eq!(c.subflows[0].data_segments, [7, 0], "2 of the seed (frames 4, 5), 5 here (10, 13, 15, 16, 17)");
}

/// Only one subflow captured: the hole before its data is never seen, but the receiver's
/// data ACK says it has the data: the in-order point moves with the ACK, and the next
/// segment is in order.
#[test]
fn data_ack_moves_the_in_order_point_past_unseen_data() {
    let mut a = two_subflows(Config::default());
    let x = feed(&mut a, &cdata(10, 200_000, 1, 285, 1, 100)).unwrap();
    assert_eq!(x.ofo, Some(Ofo { hole: 100 }));
    feed(&mut a, &sack(11, 240_000, 1, 385));
    let x = feed(&mut a, &cdata(12, 250_000, 1, 385, 101, 100)).unwrap();
    assert_eq!((x.ofo, x.release), (None, None));
    assert_eq!(a.connection(0).unwrap().reorder_releases, 0, "released by an ACK, not by a segment");
}

/// Duplicate data ACKs: pure ACKs repeating the server's previous data ACK while client data
/// is outstanding, counted 1, 2, …; a new data ACK starts over; a repeat with nothing
/// outstanding, or one that carries data, is not one.
#[test]
fn duplicate_data_acks() {
    let mut a = two_subflows(Config::default());
    feed(&mut a, &cdata(10, 200_000, 0, 185, 185, 100));
    let x = feed(&mut a, &sack(11, 230_000, 0, 285)).unwrap();
    assert_eq!(x.dup_dack, None, "new data ACK");
    feed(&mut a, &cdata(12, 240_000, 1, 385, 1, 100));
    let x = feed(&mut a, &sack(13, 270_000, 1, 285)).unwrap();
    assert_eq!(x.dup_dack, Some(DupDack { count: 1, of_frame: 11 }));
    feed(&mut a, &cdata(14, 280_000, 1, 485, 101, 100));
    let x = feed(&mut a, &sack(15, 310_000, 1, 285)).unwrap();
    assert_eq!(x.dup_dack, Some(DupDack { count: 2, of_frame: 11 }));
    // The same data ACK on server data: not a pure ACK.
    let mut d = sack_opt(285);
    d[3] |= 4;
    d.extend_from_slice(&2248627404u32.to_be_bytes());
    d.extend_from_slice(&1u32.to_be_bytes());
    d.extend_from_slice(&10u16.to_be_bytes());
    d[1] = d.len() as u8;
    let x = feed(&mut a, &p(16, 320_000, S, C, ACK, SISN + 1, 10, d)).unwrap();
    assert_eq!(x.dup_dack, None);
    feed(&mut a, &cdata(17, 330_000, 0, 285, 285, 100));
    let x = feed(&mut a, &sack(18, 360_000, 0, 585)).unwrap();
    assert_eq!(x.dup_dack, None, "new data ACK");
    // Everything sent is acked: a repeat is no duplicate.
    let x = feed(&mut a, &sack(19, 370_000, 1, 585)).unwrap();
    assert_eq!(x.dup_dack, None);
    let c = a.connection(0).unwrap();
    assert_eq!(c.dup_dacks, 2);
    assert_eq!((c.subflows[0].dup_dacks, c.subflows[1].dup_dacks), (0, 2));
}

/// A pure ACK from the server on subflow `sf` with data ACK `rel` and TCP ACK of the
/// client's subflow bytes up to `ssn` (relative).
fn sack_tcp(frame: u32, t_us: i128, sf: usize, rel: u32, ssn: u32) -> P {
    let mut x = sack(frame, t_us, sf, rel);
    x.ack = if sf == 0 { CISN } else { 5000 }.wrapping_add(ssn);
    x
}

/// Reinjection outcomes: spurious at once (data-acked before, or its original's subflow had
/// acknowledged it), spurious later (the original's subflow acknowledges it before the data
/// ACK covers it), needed (the data ACK covers it first); decided later means written back.
#[test]
fn reinjection_outcomes() {
    let mut a = two_subflows(Config::default());
    // Spurious at once: 185..285 data-acked in frame 11, then sent again on subflow 1.
    feed(&mut a, &cdata(10, 200_000, 0, 185, 185, 100));
    feed(&mut a, &sack(11, 240_000, 0, 285));
    let x = feed(&mut a, &cdata(12, 250_000, 1, 185, 1, 100)).unwrap();
    assert_eq!(x.reinjection_of.map(|r| r.kind), Some(ReinjectionKind::OtherSubflow));
    assert_eq!(x.reinjection_outcome, Some(Outcome { outcome: ReinjectionOutcome::Spurious, decided_in: 11 }));
    // Needed: 285..385 on subflow 0 (its bytes 285..385), sent again on subflow 1; the data
    // ACK covers it while subflow 0 never acknowledged those bytes.
    feed(&mut a, &cdata(13, 300_000, 0, 285, 285, 100));
    let x = feed(&mut a, &cdata(14, 600_000, 1, 285, 101, 100)).unwrap();
    assert_eq!(x.reinjection_outcome, None, "not decided yet");
    feed(&mut a, &sack(15, 650_000, 1, 385));
    assert_eq!(
        a.annotation(14).unwrap().reinjection_outcome,
        Some(Outcome { outcome: ReinjectionOutcome::Needed, decided_in: 15 })
    );
    // Spurious later: 385..485 on subflow 0, again on subflow 1; subflow 0's TCP ACK covers
    // the original (frame 18) before any data ACK covers the range.
    feed(&mut a, &cdata(16, 700_000, 0, 385, 385, 100));
    feed(&mut a, &cdata(17, 800_000, 1, 385, 201, 100));
    feed(&mut a, &sack_tcp(18, 801_000, 0, 385, 485));
    feed(&mut a, &sack(19, 900_000, 1, 485));
    assert_eq!(
        a.annotation(17).unwrap().reinjection_outcome,
        Some(Outcome { outcome: ReinjectionOutcome::Spurious, decided_in: 18 })
    );
    // Spurious at once by the subflow: 485..585 on subflow 0 acknowledged there (frame 21,
    // data ACK still behind), then sent again on subflow 1.
    feed(&mut a, &cdata(20, 1_000_000, 0, 485, 485, 100));
    feed(&mut a, &sack_tcp(21, 1_010_000, 0, 485, 585));
    let x = feed(&mut a, &cdata(22, 1_100_000, 1, 485, 301, 100)).unwrap();
    assert_eq!(x.reinjection_outcome, Some(Outcome { outcome: ReinjectionOutcome::Spurious, decided_in: 21 }));
    let c = a.connection(0).unwrap();
    assert_eq!((c.reinjections, c.reinjections_needed, c.reinjections_spurious), (4, 1, 3));
    assert_eq!((c.subflows[1].reinjections_needed, c.subflows[1].reinjections_spurious), (1, 3));
    assert!(c.pending.is_empty());
}

/// Where the capture point is, from each subflow's handshake.
#[test]
fn capture_point_from_the_handshake() {
    let mut a = two_subflows(Config::default());
    feed(&mut a, &cdata(10, 200_000, 1, 185, 1, 100));
    let c = a.connection(0).unwrap();
    // Seed: SYN → SYN/ACK 31.2 ms, SYN/ACK → ACK 3.2 ms: nearer the client; the join: 95 ms
    // and 5 ms (its first client segment: frame 10).
    assert_eq!((c.subflows[0].capture_near, c.subflows[1].capture_near), (Some(0), Some(0)));
    // A join whose SYN/ACK comes at once and whose ACK 80 ms later: nearer the server.
    let mut a = Analyser::new(Config::default());
    for x in &seed() {
        feed(&mut a, x);
    }
    let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
    feed(&mut a, &p(8, 100_000, C2, S, SYN, 5000, 0, join));
    let mut ja = vec![30, 16, 0x10, 0];
    ja.extend_from_slice(&[0; 12]);
    feed(&mut a, &p(9, 100_100, S, C2, SYN | ACK, 9000, 0, ja));
    feed(&mut a, &p(10, 180_000, C2, S, ACK, 5001, 0, dss4(Some(2248627404), None)));
    assert_eq!(a.connection(0).unwrap().subflows[1].capture_near, Some(1));
}

/// A subflow delivers its data in its own order: a segment beyond a hole in the subflow
/// sequence reaches the data level only when the hole fills, and its verdict then goes on
/// its own frame.
#[test]
fn subflow_holds_data_behind_its_own_hole() {
    let mut a = two_subflows(Config::default());
    // Subflow 1: its bytes 101..201 (DSN 285..385) before its bytes 1..101 (DSN 185..285).
    let x = feed(&mut a, &cdata(10, 200_000, 1, 285, 101, 100)).unwrap();
    assert_eq!((x.ofo, x.release), (None, None), "held by the subflow, not at the data level yet");
    // Subflow 0 brings DSN 385..485: out of order (185..385 missing at the data level).
    let x = feed(&mut a, &cdata(11, 210_000, 0, 385, 185, 100)).unwrap();
    assert_eq!(x.ofo, Some(Ofo { hole: 200 }));
    // Subflow 1's hole fills (DSN 185..285): next at the data level; the segment it held
    // follows, in order too, and releases frame 11's data: that verdict is frame 10's.
    let x = feed(&mut a, &cdata(12, 230_000, 1, 185, 1, 100)).unwrap();
    assert_eq!((x.ofo, x.release), (None, None));
    let held = a.annotation(10).unwrap();
    assert_eq!(held.ofo, None);
    assert_eq!(held.release, Some(Release { wait_ns: 20_000_000, frames: 1, bytes: 100, oldest_frame: 11 }));
    // A plain TCP retransmission of data the subflow delivered: nothing at the data level.
    let x = feed(&mut a, &cdata(13, 240_000, 1, 185, 1, 100)).unwrap();
    assert_eq!((x.ofo, x.release), (None, None));
    let c = a.connection(0).unwrap();
    assert_eq!((c.ofo_segments, c.linux_ofo_queue, c.duplicate_data), (1, 1, 0));
}

/// The order step's bounds: held ranges and pending reinjections, each cap raised once.
#[test]
fn order_caps() {
    let mut a = two_subflows(Config { max_reorder_ranges: 2, max_pending_reinjections: 1, ..Config::default() });
    // Three disjoint ranges beyond holes: the third is one too many.
    let mut caps = 0;
    for (i, rel) in [385u32, 585, 785, 985].iter().enumerate() {
        let x = feed(&mut a, &cdata(10 + i as u32, 200_000 + i as i128, 1, *rel, 1 + 100 * i as u32, 100)).unwrap();
        assert!(x.ofo.is_some());
        caps += x.events.iter().filter(|e| **e == Event::CapReached(CapKind::ReorderRanges)).count();
    }
    assert_eq!(caps, 1);
    assert!(a.connection(0).unwrap().spaces[0].seen.held.len() <= 2);
    // Two reinjections waiting for an ACK: the first is dropped (never decided).
    feed(&mut a, &cdata(20, 300_000, 0, 385, 185, 100));
    let x = feed(&mut a, &cdata(21, 400_000, 0, 585, 285, 100)).unwrap();
    assert_eq!(x.events, vec![Event::CapReached(CapKind::PendingReinjections)]);
    assert_eq!(a.connection(0).unwrap().pending.len(), 1);
}


/// Memory of the per-frame store and of the sent ranges for a capture named by
/// `APPLESHARK_MPTCP_PCAP` (classic pcap, Ethernet, ns or µs): bytes per MPTCP frame. Run by
/// hand (`cargo test --release --lib store_bytes_per_frame -- --ignored --nocapture`).
#[test]
#[ignore]
fn store_bytes_per_frame() {
    let Ok(path) = std::env::var("APPLESHARK_MPTCP_PCAP") else { return };
    let data = std::fs::read(path).unwrap();
    let le = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    let nanos = le(0) == 0xa1b23c4d;
    let (mut off, mut frame, mut a) = (24, 0u32, Analyser::new(Config::default()));
    while off + 16 <= data.len() {
        let (sec, frac, incl) = (le(off) as i128, le(off + 4) as i128, le(off + 8) as usize);
        let rec = &data[off + 16..off + 16 + incl];
        off += 16 + incl;
        frame += 1;
        let Some(v) = crate::core::frame::tcp_segment(crate::core::frame::Link::Ethernet, rec) else { continue };
        a.feed(&Segment {
            frame,
            time_ns: sec * 1_000_000_000 + if nanos { frac } else { frac * 1000 },
            src: v.src,
            dst: v.dst,
            sport: v.sport,
            dport: v.dport,
            flags: TcpFlags(v.flags),
            seq: v.seq,
            ack: v.ack,
            payload_len: v.payload_len,
            options: v.options,
        });
    }
    a.finish();
    let n = a.store.len().max(1);
    let sent: usize = a.conns.iter().map(|c| c.spaces.iter().map(|s| s.sent.len()).sum::<usize>()).sum();
    let sent_bytes = sent * (std::mem::size_of::<(u64, super::model::Sent)>() + 8);
    eprintln!(
        "{frame} frames, {n} MPTCP frames in {} connections: store {} bytes ({} per frame), sent ranges {sent} (≈{} bytes, {} per frame)",
        a.conns.len(),
        a.store.bytes(),
        a.store.bytes() / n,
        sent_bytes,
        sent_bytes / n
    );
}

/// Once every subflow saw a TCP FIN from each end, the data-acked ranges are forgotten
/// (memory of closed connections stops growing with the capture); the unacked ones stay and
/// still link data sent again to its first carrier; a subflow that joins later makes the
/// connection open again. Expected counts: the ranges fed here.
#[test]
fn closed_connection_forgets_acked_ranges() {
    const FIN: u8 = TcpFlags::FIN;
    let mut a = two_subflows(Config::default());
    feed(&mut a, &cdata(10, 200_000, 0, 185, 185, 100));
    feed(&mut a, &sack(11, 240_000, 0, 285));
    feed(&mut a, &cdata(12, 250_000, 0, 285, 285, 100));
    let ranges = |a: &Analyser| a.connection(0).unwrap().spaces[0].sent.len();
    let acked = |a: &Analyser| a.connection(0).unwrap().spaces[0].sent.values().filter(|r| r.acked).count();
    let before = ranges(&a);
    assert!(acked(&a) >= 2, "the seed's data and 185..285 are data-acked");
    // Subflow 0 closes both ways, subflow 1 only from the client: not over.
    feed(&mut a, &p(13, 260_000, C, S, ACK | FIN, CISN + 385, 0, vec![]));
    feed(&mut a, &p(14, 261_000, S, C, ACK | FIN, SISN + 1, 0, vec![]));
    feed(&mut a, &p(15, 262_000, C2, S, ACK | FIN, 5001, 0, vec![]));
    assert_eq!(ranges(&a), before);
    // The last FIN: only 285..385 (frame 12, never data-acked) is left.
    feed(&mut a, &p(16, 263_000, S, C2, ACK | FIN, 9001, 0, vec![]));
    assert_eq!((ranges(&a), acked(&a)), (1, 0));
    let x = feed(&mut a, &cdata(17, 300_000, 1, 285, 1, 100)).unwrap();
    assert_eq!(x.reinjection_of.map(|r| r.frame), Some(12));
    // A subflow joining after the close: open again, its acked ranges kept.
    let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 5];
    feed(&mut a, &p(18, 400_000, ([10, 0, 0, 11], 49154), S, SYN, 7000, 0, join));
    assert_eq!(a.connection(0).unwrap().subflows.len(), 3);
    assert!(!a.connection(0).unwrap().over);
    feed(&mut a, &sack(19, 410_000, 1, 385));
    assert_eq!(acked(&a), 1, "285..385, data-acked after the join, is kept");
}

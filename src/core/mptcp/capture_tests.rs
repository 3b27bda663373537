//! Checks against real captures (tcpdump test suite, with tcpdump's decoded `.out`
//! beside each): option values parsed here must equal what tcpdump printed, and the
//! analyser's results must follow from them. Skipped (with a message) if absent.

use super::analysis::{
    Analyser, CloseReason, Config, Direction, Event, HandoverReason, IdsnCheck, ReinjectionKind,
    RelBase, Segment, TcpFlags,
};
use super::options::{parse_options, MpJoin, MptcpBody, Version};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

/// `$CARGO_MANIFEST_DIR/../shared/captures`, else `/work/shared/captures`.
fn shared_captures() -> Option<PathBuf> {
    let mut cands = Vec::new();
    if let Some(m) = option_env!("CARGO_MANIFEST_DIR") {
        cands.push(PathBuf::from(m).join("../shared/captures"));
    }
    cands.push(PathBuf::from("/work/shared/captures"));
    cands
        .into_iter()
        .find(|p| p.join("mptcp-v0.pcap").is_file())
}

/// One TCP segment of a capture, owning its options bytes.
struct Pkt {
    frame: u32,
    time_ns: i128,
    src: IpAddr,
    dst: IpAddr,
    sport: u16,
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload_len: u32,
    options: Vec<u8>,
}

impl Pkt {
    fn seg(&self) -> Segment<'_> {
        Segment {
            frame: self.frame,
            time_ns: self.time_ns,
            src: self.src,
            dst: self.dst,
            sport: self.sport,
            dport: self.dport,
            flags: TcpFlags(self.flags),
            seq: self.seq,
            ack: self.ack,
            payload_len: self.payload_len,
            options: &self.options,
        }
    }
}

fn be16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(o..o + 2)?.try_into().ok()?))
}
fn be32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(o..o + 4)?.try_into().ok()?))
}
fn le32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o + 4)?.try_into().ok()?))
}

/// Minimal classic-pcap reader (little-endian, µs): Ethernet, Linux SLL, IPv4/IPv6, TCP.
fn read_pcap(name: &str) -> Option<Vec<Pkt>> {
    let Some(dir) = shared_captures() else {
        eprintln!("skipping: shared captures directory not found");
        return None;
    };
    let data = std::fs::read(dir.join(name)).ok()?;
    assert_eq!(
        le32(&data, 0)?,
        0xa1b2c3d4,
        "only LE microsecond pcap supported"
    );
    let linktype = le32(&data, 20)?;
    let mut off = 24;
    let mut out = Vec::new();
    let mut frame = 0u32;
    while let (Some(sec), Some(usec), Some(incl)) =
        (le32(&data, off), le32(&data, off + 4), le32(&data, off + 8))
    {
        frame += 1;
        let rec = data.get(off + 16..off + 16 + incl as usize)?;
        off += 16 + incl as usize;
        let (mut ethertype, mut l3) = match linktype {
            1 => (be16(rec, 12)?, 14),
            113 => (be16(rec, 14)?, 16),
            other => panic!("linktype {other}"),
        };
        while ethertype == 0x8100 {
            ethertype = be16(rec, l3 + 2)?;
            l3 += 4;
        }
        let (src, dst, proto, l4, l4_end) = match ethertype {
            0x0800 => {
                let ihl = (rec.get(l3)? & 0x0f) as usize * 4;
                let tot = be16(rec, l3 + 2)? as usize;
                let s: [u8; 4] = rec.get(l3 + 12..l3 + 16)?.try_into().ok()?;
                let d: [u8; 4] = rec.get(l3 + 16..l3 + 20)?.try_into().ok()?;
                (
                    IpAddr::V4(Ipv4Addr::from(s)),
                    IpAddr::V4(Ipv4Addr::from(d)),
                    *rec.get(l3 + 9)?,
                    l3 + ihl,
                    l3 + tot,
                )
            }
            0x86dd => {
                let plen = be16(rec, l3 + 4)? as usize;
                let s: [u8; 16] = rec.get(l3 + 8..l3 + 24)?.try_into().ok()?;
                let d: [u8; 16] = rec.get(l3 + 24..l3 + 40)?.try_into().ok()?;
                (
                    IpAddr::V6(Ipv6Addr::from(s)),
                    IpAddr::V6(Ipv6Addr::from(d)),
                    *rec.get(l3 + 6)?,
                    l3 + 40,
                    l3 + 40 + plen,
                )
            }
            _ => continue,
        };
        if proto != 6 {
            continue;
        }
        let doff = (rec.get(l4 + 12)? >> 4) as usize * 4;
        out.push(Pkt {
            frame,
            time_ns: sec as i128 * 1_000_000_000 + usec as i128 * 1000,
            src,
            dst,
            sport: be16(rec, l4)?,
            dport: be16(rec, l4 + 2)?,
            flags: *rec.get(l4 + 13)?,
            seq: be32(rec, l4 + 4)?,
            ack: be32(rec, l4 + 8)?,
            payload_len: l4_end.saturating_sub(l4 + doff) as u32,
            options: rec.get(l4 + 20..l4 + doff)?.to_vec(),
        });
    }
    Some(out)
}

fn pkt(pkts: &[Pkt], frame: u32) -> &Pkt {
    pkts.iter()
        .find(|p| p.frame == frame)
        .expect("frame present")
}

fn run(pkts: &[Pkt]) -> Analyser {
    let mut a = Analyser::new(Config::default());
    for p in pkts {
        a.feed(&p.seg());
    }
    a
}

#[test]
fn v0_options_match_tcpdump() {
    let Some(pkts) = read_pcap("mptcp-v0.pcap") else {
        return;
    };
    assert_eq!(pkts.len(), 264);
    // 1: mptcp 12 capable v0 flags [AH] csum {0x9c9eabd1e46a33b2}
    let p = parse_options(&pkt(&pkts, 1).options, None);
    let c = p.mp_capable().unwrap();
    assert_eq!(c.version(), Version::V0);
    assert_eq!(c.flags.value, 0x81);
    assert_eq!(c.sender_key.unwrap().value, 0x9c9eabd1e46a33b2);
    // 3: {0x9c9eabd1e46a33b2,0x967d2770b6960552}
    let p = parse_options(&pkt(&pkts, 3).options, None);
    let c = p.mp_capable().unwrap();
    assert_eq!(
        (c.sender_key.unwrap().value, c.receiver_key.unwrap().value),
        (0x9c9eabd1e46a33b2, 0x967d2770b6960552)
    );
    // 4: add-addr v0-ip4 id 1 10.1.2.2, dss ack 3576348362 seq 3518592144 subseq 1 len 41 csum 0x82f
    let p = parse_options(&pkt(&pkts, 4).options, None);
    assert!(p.anomalies.is_empty());
    let MptcpBody::AddAddr(aa) = p.mptcp[0].body else {
        panic!()
    };
    assert_eq!(
        (aa.addr_id.value, aa.addr.value),
        (1, IpAddr::V4(Ipv4Addr::new(10, 1, 2, 2)))
    );
    let d = p.dss().unwrap();
    assert_eq!(d.data_ack.unwrap().0.value, 3576348362);
    let m = d.mapping.unwrap();
    assert_eq!(
        (m.dsn.value, m.subflow_seq.value, m.data_len.value),
        (3518592144, 1, 41)
    );
    assert_eq!(m.checksum.unwrap().value, 0x082f);
    // 8: join id 0 token 0xe47f0142 nonce 0x1b665a18
    let p = parse_options(&pkt(&pkts, 8).options, None);
    let MptcpBody::MpJoin(MpJoin::Syn {
        addr_id,
        token,
        nonce,
        ..
    }) = p.mptcp[0].body
    else {
        panic!()
    };
    assert_eq!(
        (addr_id.value, token.value, nonce.value),
        (0, 0xe47f0142, 0x1b665a18)
    );
    // 9: join id 1 hmac 0x5ab680c7884af03d nonce 0x33abe9d5
    let p = parse_options(&pkt(&pkts, 9).options, None);
    let MptcpBody::MpJoin(MpJoin::SynAck {
        addr_id,
        hmac,
        nonce,
        ..
    }) = p.mptcp[0].body
    else {
        panic!()
    };
    assert_eq!(
        (addr_id.value, hmac.value, nonce.value),
        (1, 0x5ab680c7884af03d, 0x33abe9d5)
    );
    // 10: join hmac 0xcb7b87f5e5f0502f43b535fb70ef6607df2e6c7a
    let p = parse_options(&pkt(&pkts, 10).options, None);
    let MptcpBody::MpJoin(MpJoin::Ack { hmac }) = p.mptcp[0].body else {
        panic!()
    };
    assert_eq!(hmac.value[..4], [0xcb, 0x7b, 0x87, 0xf5]);
    assert_eq!(hmac.value[16..], [0xdf, 0x2e, 0x6c, 0x7a]);
    // 210: rem-addr id 0, dss ack 3576352763
    let p = parse_options(&pkt(&pkts, 210).options, None);
    let MptcpBody::RemoveAddr(r) = p.mptcp[0].body else {
        panic!()
    };
    assert_eq!(r.addr_ids.value, &[0]);
    assert_eq!(p.dss().unwrap().data_ack.unwrap().0.value, 3576352763);
    // 259: dss fin ack 3518600705 seq 3576353483 subseq 0 len 1 csum 0xa51
    let p = parse_options(&pkt(&pkts, 259).options, None);
    let d = p.dss().unwrap();
    assert!(d.data_fin());
    let m = d.mapping.unwrap();
    assert_eq!(
        (
            m.dsn.value,
            m.subflow_seq.value,
            m.data_len.value,
            m.checksum.unwrap().value
        ),
        (3576353483, 0, 1, 0xa51)
    );
    // Nothing in the whole capture is anomalous.
    for p in &pkts {
        assert!(
            parse_options(&p.options, None).anomalies.is_empty(),
            "frame {}",
            p.frame
        );
    }
}

#[test]
fn v0_analysis() {
    let Some(pkts) = read_pcap("mptcp-v0.pcap") else {
        return;
    };
    let a = run(&pkts);
    assert_eq!(a.connections().len(), 1);
    let c = a.connection(0).unwrap();
    assert_eq!(c.version, Some(Version::V0));
    assert_eq!(c.keys, [Some(0x9c9eabd1e46a33b2), Some(0x967d2770b6960552)]);
    assert_eq!(c.tokens, [Some(0xaf9706eb), Some(0xe47f0142)]);
    assert_eq!(c.checksum_negotiated, Some(true));
    assert_eq!(c.mappings_without_checksum, 0);
    assert!(c.mappings_with_checksum > 100);
    assert_eq!(c.third_ack_echoed_keys, Some(true));
    assert!(c.dsn_widths[0].four() && !c.dsn_widths[0].eight());
    assert!(c.dack_widths[1].four() && !c.dack_widths[1].eight());
    assert_eq!(c.subflows.len(), 2);
    assert_eq!(c.subflows[1].addr_ids, [Some(0), Some(1)]);
    assert!(c.subflows[1].joined);
    assert_eq!(c.fallback, None);
    assert_eq!(c.data_segments, c.data_segments_with_dss);
    assert_eq!(c.max_dss_per_segment, 1);
    assert_eq!(
        c.announced[1],
        vec![(1, IpAddr::V4(Ipv4Addr::new(10, 1, 2, 2)))]
    );
    // First data each way: relative DSN 1, IDSN check ok.
    let f4 = a.annotation(4).unwrap();
    assert_eq!(
        (f4.direction, f4.rel_dsn, f4.rel_dack, f4.idsn_check),
        (
            Some(Direction::Reverse),
            Some(1),
            Some(1),
            Some(IdsnCheck::Ok)
        )
    );
    assert_eq!(f4.dsn_base, Some(RelBase::Idsn));
    let f6 = a.annotation(6).unwrap();
    assert_eq!(
        (f6.rel_dsn, f6.rel_dack, f6.idsn_check),
        (Some(1), Some(42), Some(IdsnCheck::Ok))
    );
    // Frame 5 acks frame 4's 41 bytes.
    let f5 = a.annotation(5).unwrap();
    assert_eq!(f5.rel_dack, Some(42));
    assert_eq!(f5.data_rtt.unwrap().acked_frame, 4);
    assert_eq!(f5.data_rtt.unwrap().ns, 166_000);
    // The join lands in the same connection, subflow 1.
    let f8 = a.annotation(8).unwrap();
    assert_eq!(
        (f8.connection, f8.subflow, f8.direction),
        (Some(0), Some(1), Some(Direction::Forward))
    );
    // REMOVE_ADDR id 0 closes subflow 0; data then moves to subflow 1 both ways.
    assert!(a
        .annotation(210)
        .unwrap()
        .events
        .contains(&Event::SubflowClosed {
            subflow: 0,
            reason: CloseReason::RemoveAddr
        }));
    let ho = |f: u32| {
        a.annotation(f).unwrap().events.iter().any(|e| {
            matches!(e, Event::Handover { from_subflow: 0, to_subflow: 1, reason: HandoverReason::Closed(CloseReason::RemoveAddr), latency_ns: Some(l) } if *l > 0)
        })
    };
    assert!(ho(212) && ho(214));
    assert_eq!(c.handovers.len(), 2, "{:?}", c.handovers);
    // Subflow 1 goes quiet at times but always comes back: no further handover at the end.
    let mut fin = a.clone();
    fin.finish();
    assert_eq!(fin.connection(0).unwrap().handovers, c.handovers);
    // Bare DATA_FIN (subseq 0 len 1) takes one DSN and is acked by 260.
    let f259 = a.annotation(259).unwrap();
    assert_eq!(f259.data_len, 1);
    assert_eq!(
        f259.rel_dsn,
        Some(3576353483u32.wrapping_sub(3576348362) as u64 + 1)
    );
    let rtt = c.rtt_stats().unwrap();
    assert!(rtt.samples > 50 && rtt.min <= rtt.median && rtt.median <= rtt.max);
    // Second pass: nothing changes.
    let mut b = a.clone();
    for p in &pkts {
        b.feed(&p.seg());
    }
    assert_eq!(b.connections(), a.connections());
    for p in &pkts {
        assert_eq!(a.annotation(p.frame), b.annotation(p.frame));
    }
}

#[test]
fn v1_options_and_analysis() {
    let Some(pkts) = read_pcap("mptcp-v1.pcap") else {
        return;
    };
    // 1: mptcp 4 capable v1 flags [H]
    let p = parse_options(&pkt(&pkts, 1).options, None);
    let c = p.mp_capable().unwrap();
    assert_eq!(
        (c.version(), c.flags.value, c.sender_key),
        (Version::V1, 1, None)
    );
    // 2: {0x29a6c86981ad933c}
    let p = parse_options(&pkt(&pkts, 2).options, None);
    assert_eq!(
        p.mp_capable().unwrap().sender_key.unwrap().value,
        0x29a6c86981ad933c
    );
    // 4: {0x1fdb5df328bc3def,0x29a6c86981ad933c,data_len=8192}
    let p = parse_options(&pkt(&pkts, 4).options, None);
    let c = p.mp_capable().unwrap();
    assert_eq!(
        (
            c.sender_key.unwrap().value,
            c.receiver_key.unwrap().value,
            c.data_len.unwrap().value
        ),
        (0x1fdb5df328bc3def, 0x29a6c86981ad933c, 8192)
    );
    // 7: dss ack 14413541604287230030 seq 11713449205243392242 subseq 1 len 8192
    let p = parse_options(&pkt(&pkts, 7).options, None);
    let d = p.dss().unwrap();
    assert_eq!(d.data_ack.unwrap(), (d.data_ack.unwrap().0, 8));
    assert_eq!(d.data_ack.unwrap().0.value, 14413541604287230030);
    let m = d.mapping.unwrap();
    assert_eq!(
        (
            m.dsn.value,
            m.dsn_len,
            m.subflow_seq.value,
            m.data_len.value,
            m.checksum
        ),
        (11713449205243392242, 8, 1, 8192, None)
    );
    // 16: dss fin ack 11713449205243400434 seq 14413541604287240298 subseq 0 len 1
    let d = *parse_options(&pkt(&pkts, 16).options, None).dss().unwrap();
    assert!(d.data_fin());
    assert_eq!(d.mapping.unwrap().dsn.value, 14413541604287240298);

    let a = run(&pkts);
    assert_eq!(a.connections().len(), 1);
    let c = a.connection(0).unwrap();
    assert_eq!(c.version, Some(Version::V1));
    assert_eq!(c.tokens, [Some(0x239fbdb0), Some(0xa35d6d82)]);
    assert_eq!(c.checksum_negotiated, Some(false));
    assert!(c.dsn_widths[1].eight() && c.dack_widths[0].eight() && c.dack_widths[1].eight());
    // Data on the third ACK: implicit mapping at IDSN+1.
    let f4 = a.annotation(4).unwrap();
    assert_eq!(
        (f4.rel_dsn, f4.idsn_check, f4.data_len),
        (Some(1), Some(IdsnCheck::Ok), 7100)
    );
    // Frame 6 has no mapping of its own: it continues the 8192-byte one.
    assert_eq!(a.annotation(6).unwrap().rel_dsn, Some(7101));
    assert_eq!(a.annotation(9).unwrap().rel_dsn, Some(8193));
    assert_eq!(a.annotation(13).unwrap().rel_dsn, Some(9613));
    let f7 = a.annotation(7).unwrap();
    assert_eq!(
        (f7.rel_dsn, f7.rel_dack, f7.idsn_check),
        (Some(1), Some(1), Some(IdsnCheck::Ok))
    );
    // 17 carries server DSNs 8193..10269 and acks client 8193.
    let f17 = a.annotation(17).unwrap();
    assert_eq!((f17.rel_dsn, f17.rel_dack), (Some(8193), Some(8193)));
    // 16: client DATA_FIN at 10269. This (2020) Linux never data-acks a DATA_FIN:
    // frame 19 acks 10269, not 10270, so one DSN stays in flight each way.
    assert_eq!(a.annotation(16).unwrap().rel_dsn, Some(10269));
    assert_eq!(a.annotation(16).unwrap().data_len, 1);
    assert_eq!(a.annotation(19).unwrap().rel_dack, Some(10269));
    assert_eq!(a.annotation(20).unwrap().in_flight, Some(1));
    assert_eq!(c.fallback, None);
}

#[test]
fn aa_v1_add_addr_and_reinjection() {
    let Some(pkts) = read_pcap("mptcp-aa-v1.pcap") else {
        return;
    };
    // 13: add-addr v1 id 1 192.168.136.225 hmac 0x669928744366716c, dss ack 17186763219675866581
    let p = parse_options(&pkt(&pkts, 13).options, None);
    let MptcpBody::AddAddr(aa) = p.mptcp[0].body else {
        panic!()
    };
    assert_eq!(aa.version, Version::V1);
    assert_eq!(aa.addr.value, IpAddr::V4(Ipv4Addr::new(192, 168, 136, 225)));
    assert_eq!(
        (aa.addr_id.value, aa.hmac.unwrap().value, aa.echo.value),
        (1, 0x669928744366716c, false)
    );
    assert_eq!(
        p.dss().unwrap().data_ack.unwrap().0.value,
        17186763219675866581
    );
    // Same with the connection's version as hint.
    assert_eq!(
        parse_options(&pkt(&pkts, 13).options, Some(Version::V1)).mptcp[0],
        p.mptcp[0]
    );

    let a = run(&pkts);
    assert!(a.annotation(1).is_none(), "DNS is not MPTCP");
    let c = a.connection(0).unwrap();
    assert_eq!(c.keys, [Some(0x8f0c7c64a6a32ac1), Some(0x73bb150358a0aecb)]);
    // The server sends DSN ...526 twice on the one subflow with new subflow sequence
    // numbers (frames 8 and 10): a data-level retransmission, not a TCP one.
    let r = a.annotation(10).unwrap().reinjection_of.unwrap();
    assert_eq!((r.frame, r.kind), (8, ReinjectionKind::SameSubflow));
    let r = a.annotation(16).unwrap().reinjection_of.unwrap();
    assert_eq!((r.frame, r.kind), (14, ReinjectionKind::SameSubflow));
    assert_eq!(a.annotation(12).unwrap().reinjection_of, None);
    assert_eq!(a.annotation(6).unwrap().rel_dsn, Some(1));
    assert_eq!(a.annotation(12).unwrap().rel_dsn, Some(17));
    assert!(c.reinjections >= 2);
    assert_eq!(
        c.announced[1],
        vec![(1, IpAddr::V4(Ipv4Addr::new(192, 168, 136, 225)))]
    );
}

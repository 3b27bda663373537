//! Unit tests: every subtype and length, the walker's anomalies, and adversarial
//! truncations and lengths.

use super::*;
use std::net::Ipv6Addr;

fn one(bytes: &[u8]) -> (MptcpBody<'_>, Vec<OptionAnomaly>) {
    let p = parse_options(bytes, None);
    assert_eq!(p.mptcp.len(), 1, "{:?}", p);
    (p.mptcp[0].body, p.anomalies.to_vec())
}

// Seed SYN options: mss 1460,nop,wscale 3,mp capable flags:H sndkey,nop,nop,TS,sackOK,eol
const SEED_SYN: &[u8] = &[
    2, 4, 0x05, 0xb4, 1, 3, 3, 3, 30, 12, 0x00, 0x01, 0x96, 0xe5, 0x76, 0x19, 0x8c, 0x47, 0x53,
    0x50, 1, 1, 8, 10, 0x51, 0x46, 0x2c, 0xe5, 0, 0, 0, 0, 4, 2, 0, 0,
];

#[test]
fn seed_syn_mp_capable() {
    let p = parse_options(SEED_SYN, None);
    assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
    assert_eq!(p.mptcp.len(), 1);
    let o = &p.mptcp[0];
    assert_eq!(o.span, Span::new(8, 12));
    let c = p.mp_capable().unwrap();
    assert_eq!(c.version(), Version::V0);
    assert_eq!(c.flags.value, MpCapable::FLAG_H);
    assert!(!c.checksum_required());
    assert_eq!(c.sender_key.unwrap().value, 0x96e576198c475350);
    assert_eq!(c.sender_key.unwrap().span, Span::new(12, 8));
    assert!(c.receiver_key.is_none());
}

#[test]
fn mp_capable_all_lengths() {
    let mut v = vec![30u8, 24, 0x01, 0x81];
    v.extend_from_slice(&1u64.to_be_bytes());
    v.extend_from_slice(&2u64.to_be_bytes());
    v.extend_from_slice(&0x2000u16.to_be_bytes());
    v.extend_from_slice(&0xabcdu16.to_be_bytes());
    for l in [4usize, 12, 20, 22, 24] {
        let mut o = v[..l].to_vec();
        o[1] = l as u8;
        let (b, an) = one(&o);
        assert!(an.is_empty());
        let MptcpBody::MpCapable(c) = b else { panic!() };
        assert_eq!(c.version(), Version::V1);
        assert!(c.checksum_required());
        assert_eq!(c.sender_key.map(|k| k.value), (l >= 12).then_some(1));
        assert_eq!(c.receiver_key.map(|k| k.value), (l >= 20).then_some(2));
        assert_eq!(c.data_len.map(|k| k.value), (l >= 22).then_some(0x2000));
        assert_eq!(c.checksum.map(|k| k.value), (l >= 24).then_some(0xabcd));
    }
    // v0 with a v1-only length is parsed but flagged.
    let mut o = v[..22].to_vec();
    o[1] = 22;
    o[2] = 0x00;
    let (_, an) = one(&o);
    assert!(matches!(an[0], OptionAnomaly::MptcpVersionMismatch { .. }));
}

#[test]
fn mp_join_forms() {
    // From mptcp-v0 frames 8, 9, 10.
    let syn = [
        30, 12, 0x10, 0x00, 0xe4, 0x7f, 0x01, 0x42, 0x1b, 0x66, 0x5a, 0x18,
    ];
    let (b, _) = one(&syn);
    assert_eq!(
        b,
        MptcpBody::MpJoin(MpJoin::Syn {
            backup: Spanned::new(false, 2, 1),
            addr_id: Spanned::new(0, 3, 1),
            token: Spanned::new(0xe47f0142, 4, 4),
            nonce: Spanned::new(0x1b665a18, 8, 4),
        })
    );
    let synack = [
        30, 16, 0x11, 0x01, 0x5a, 0xb6, 0x80, 0xc7, 0x88, 0x4a, 0xf0, 0x3d, 0x33, 0xab, 0xe9,
        0xd5,
    ];
    let (b, _) = one(&synack);
    let MptcpBody::MpJoin(MpJoin::SynAck {
        backup,
        addr_id,
        hmac,
        nonce,
    }) = b
    else {
        panic!()
    };
    assert!(backup.value);
    assert_eq!(
        (addr_id.value, hmac.value, nonce.value),
        (1, 0x5ab680c7884af03d, 0x33abe9d5)
    );
    let mut ack = vec![30, 24, 0x10, 0x00];
    ack.extend((0..20).map(|i| i as u8));
    let (b, _) = one(&ack);
    let MptcpBody::MpJoin(MpJoin::Ack { hmac }) = b else {
        panic!()
    };
    assert_eq!(hmac.span, Span::new(4, 20));
    assert_eq!(hmac.value[19], 19);
}

#[test]
fn dss_variants() {
    // seed: flags MA, dack 2248627404, dsn 3845908739, sfsn 1, dlen 144 (no csum) = 18
    let mut o = vec![30, 18, 0x20, 0x05];
    o.extend_from_slice(&2248627404u32.to_be_bytes());
    o.extend_from_slice(&3845908739u32.to_be_bytes());
    o.extend_from_slice(&1u32.to_be_bytes());
    o.extend_from_slice(&144u16.to_be_bytes());
    let (b, an) = one(&o);
    assert!(an.is_empty());
    let MptcpBody::Dss(d) = b else { panic!() };
    assert_eq!(d.data_ack.unwrap().0.value, 2248627404);
    assert_eq!(d.data_ack.unwrap().1, 4);
    let m = d.mapping.unwrap();
    assert_eq!(
        (
            m.dsn.value,
            m.dsn_len,
            m.subflow_seq.value,
            m.data_len.value
        ),
        (3845908739, 4, 1, 144)
    );
    assert_eq!(m.checksum, None);
    assert_eq!(m.data_len.span, Span::new(16, 2));
    // with checksum: 20
    o.extend_from_slice(&0x082fu16.to_be_bytes());
    o[1] = 20;
    let (b, _) = one(&o);
    let MptcpBody::Dss(d) = b else { panic!() };
    assert_eq!(d.mapping.unwrap().checksum.unwrap().value, 0x082f);
    // 8-byte ack and DSN (Linux v1): 26 = 4 + 8 + 8 + 4 + 2
    let mut o = vec![30, 26, 0x20, 0x0f];
    o.extend_from_slice(&14413541604287230030u64.to_be_bytes());
    o.extend_from_slice(&11713449205243392242u64.to_be_bytes());
    o.extend_from_slice(&1u32.to_be_bytes());
    o.extend_from_slice(&8192u16.to_be_bytes());
    let (b, _) = one(&o);
    let MptcpBody::Dss(d) = b else { panic!() };
    assert_eq!(
        d.data_ack.unwrap(),
        (Spanned::new(14413541604287230030, 4, 8), 8)
    );
    assert_eq!(d.mapping.unwrap().dsn.value, 11713449205243392242);
    // ack only, 8 bytes: 12
    let (b, _) = one(&[30, 12, 0x20, 0x03, 0, 0, 0, 0, 0, 0, 1, 2]);
    let MptcpBody::Dss(d) = b else { panic!() };
    assert_eq!(d.data_ack.unwrap().0.value, 0x102);
    assert!(d.mapping.is_none());
    // DATA_FIN flag, no ack, no map: 4
    let (b, _) = one(&[30, 4, 0x20, 0x10]);
    let MptcpBody::Dss(d) = b else { panic!() };
    assert!(d.data_fin());
    // lying length: ack-only flags with 10 bytes
    let (b, an) = one(&[30, 10, 0x20, 0x01, 0, 0, 0, 0, 0, 0]);
    assert!(matches!(b, MptcpBody::Malformed { subtype: 2, .. }));
    assert!(matches!(an[0], OptionAnomaly::MptcpBadLength { .. }));
}

#[test]
fn add_addr_v0_v1() {
    // mptcp-v0 frame 4: add-addr v0-ip4 id 1 10.1.2.2
    let (b, _) = one(&[30, 8, 0x34, 0x01, 10, 1, 2, 2]);
    let MptcpBody::AddAddr(a) = b else { panic!() };
    assert_eq!(a.version, Version::V0);
    assert_eq!(a.addr.value, "10.1.2.2".parse::<IpAddr>().unwrap());
    assert_eq!(a.addr_id.value, 1);
    // v1 with hmac (mptcp-aa-v1 frame 13)
    let o = [
        30, 16, 0x30, 0x01, 192, 168, 136, 225, 0x66, 0x99, 0x28, 0x74, 0x43, 0x66, 0x71, 0x6c,
    ];
    let (b, _) = one(&o);
    let MptcpBody::AddAddr(a) = b else { panic!() };
    assert_eq!(a.version, Version::V1);
    assert_eq!(a.hmac.unwrap().value, 0x669928744366716c);
    assert!(!a.echo.value);
    // v1 echo, IPv6 with port: 22
    let mut o = vec![30, 22, 0x31, 7];
    o.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    o.extend_from_slice(&443u16.to_be_bytes());
    let (b, _) = one(&o);
    let MptcpBody::AddAddr(a) = b else { panic!() };
    assert!(a.echo.value);
    assert_eq!(a.port.unwrap().value, 443);
    assert_eq!(a.port.unwrap().span, Span::new(20, 2));
    assert!(a.hmac.is_none());
    // hint overrides inference
    let p = parse_options(&[30, 8, 0x31, 1, 10, 0, 0, 1], Some(Version::V0));
    assert!(matches!(
        p.anomalies[0],
        OptionAnomaly::AddAddrBadIpVersion { ipver: 1, .. }
    ));
}

#[test]
fn other_subtypes() {
    let (b, _) = one(&[30, 6, 0x40, 0, 1, 2]);
    let MptcpBody::RemoveAddr(r) = b else {
        panic!()
    };
    assert_eq!(r.addr_ids.value, &[0, 1, 2]);
    assert_eq!(r.addr_ids.span, Span::new(3, 3));
    let (b, _) = one(&[30, 4, 0x51, 3]);
    assert_eq!(
        b,
        MptcpBody::MpPrio(MpPrio {
            backup: Spanned::new(true, 2, 1),
            addr_id: Some(Spanned::new(3, 3, 1))
        })
    );
    let (b, _) = one(&[30, 3, 0x50]);
    assert!(matches!(b, MptcpBody::MpPrio(MpPrio { addr_id: None, .. })));
    let (b, _) = one(&[30, 12, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
    assert!(
        matches!(b, MptcpBody::MpFail { dsn } if dsn.value == 9 && dsn.span == Span::new(4, 8))
    );
    let (b, _) = one(&[30, 12, 0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(
        matches!(b, MptcpBody::MpFastclose { receiver_key } if receiver_key.value == 0x0102030405060708)
    );
    let (b, _) = one(&[30, 4, 0x81, 6]);
    assert!(
        matches!(b, MptcpBody::MpTcpRst(MpTcpRst { flags, reason }) if flags.value == 1 && reason.value == 6)
    );
    let (b, _) = one(&[30, 5, 0xf3, 9, 9]);
    assert_eq!(
        b,
        MptcpBody::Unknown {
            subtype: 15,
            bytes: &[0xf3, 9, 9]
        }
    );
    let (b, _) = one(&[30, 5, 0x93, 9, 9]);
    assert!(matches!(b, MptcpBody::Unknown { subtype: 9, .. }));
}

#[test]
fn walker_anomalies() {
    let p = parse_options(&[1, 1, 30], None);
    assert_eq!(
        p.anomalies.as_slice(),
        [OptionAnomaly::MissingLength {
            offset: 2,
            kind: 30
        }]
    );
    let p = parse_options(&[1, 8, 1, 30, 12, 0], None);
    assert_eq!(
        p.anomalies.as_slice(),
        [OptionAnomaly::BadLength {
            offset: 1,
            kind: 8,
            len: 1
        }]
    );
    let p = parse_options(&[30, 12, 0x00, 0x01], None);
    assert!(matches!(
        p.anomalies[0],
        OptionAnomaly::Overrun { available: 4, .. }
    ));
    let p = parse_options(&[30, 2], None);
    assert!(matches!(
        p.anomalies[0],
        OptionAnomaly::MptcpTooShort { .. }
    ));
    let p = parse_options(&[0, 0, 5], None);
    assert!(matches!(
        p.anomalies[0],
        OptionAnomaly::DataAfterEol { offset: 1 }
    ));
    assert!(parse_options(&[], None).mptcp.is_empty());
}

/// Every truncation and every lying length byte of every valid option parses without
/// panicking; truncations never yield a well-formed option claiming bytes it lacks.
#[test]
fn adversarial_truncations_and_lengths() {
    let mut samples: Vec<Vec<u8>> = vec![
        SEED_SYN[8..20].to_vec(),
        vec![
            30, 16, 0x11, 0x01, 0x5a, 0xb6, 0x80, 0xc7, 0x88, 0x4a, 0xf0, 0x3d, 0x33, 0xab,
            0xe9, 0xd5,
        ],
        vec![30, 8, 0x34, 0x01, 10, 1, 2, 2],
        vec![30, 12, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 9],
        vec![30, 4, 0x81, 6],
        vec![30, 6, 0x40, 0, 1, 2],
    ];
    let mut big = vec![30, 30, 0x20, 0x0f];
    big.extend_from_slice(&[0xff; 26]);
    samples.push(big);
    let mut aa = vec![30, 30, 0x30, 0x00];
    aa.extend_from_slice(&[0x11; 26]);
    samples.push(aa);
    for s in &samples {
        for cut in 0..=s.len() {
            let p = parse_options(&s[..cut], None);
            for o in &p.mptcp {
                assert!(o.span.end() <= cut);
            }
        }
        for l in 0..=255u8 {
            let mut t = s.clone();
            t[1] = l;
            t.resize(t.len().max(64), 0xaa);
            let p = parse_options(&t, Some(Version::V1));
            for o in &p.mptcp {
                assert!(o.span.end() <= t.len());
            }
            let _ = parse_options(&t, Some(Version::V0));
            let _ = parse_options(&t, None);
        }
        for b2 in 0..=255u8 {
            for b3 in [0u8, 0x01, 0x05, 0x0f, 0x1f, 0xff] {
                let mut t = s.clone();
                t[2] = b2;
                let last = t.len() - 1;
                t[3.min(last)] = b3;
                let _ = parse_options(&t, None);
            }
        }
    }
}

/// `has_mptcp_option` is the analyser's shortcut for segments of untracked connections:
/// whenever `parse_options` returns an MPTCP option it must say so (it may also say so for
/// a kind-30 option the parser rejects, e.g. one too short for its subtype: the analyser
/// then parses as before). Random areas biased towards kind 30, NOP and small lengths.
#[test]
fn has_mptcp_option_agrees_with_the_parser() {
    let mut rng = crate::core::test_rng::Rng(0x5eed_0f07_u64);
    let mut seen = [0usize; 2];
    for _ in 0..200_000 {
        let n = (rng.next() % 41) as usize;
        let mut a = vec![0u8; n];
        rng.fill(&mut a);
        for b in a.iter_mut() {
            match rng.next() % 6 {
                0 => *b = 30,
                1 => *b = 1,
                2 => *b = (*b % 12) + 2,
                _ => {}
            }
        }
        let parsed = !parse_options(&a, None).mptcp.is_empty();
        let has = has_mptcp_option(&a);
        assert!(has || !parsed, "parser found MPTCP, shortcut did not: {a:02x?}");
        seen[parsed as usize] += 1;
    }
    assert!(seen[0] > 1000 && seen[1] > 1000, "both outcomes exercised: {seen:?}");
}

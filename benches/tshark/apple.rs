//! The traffic appleshark dissects, generated for the benchmark only (the golden tests have
//! their own, checked generators; these just need to be well-formed and plentiful):
//! FaceTime calls on one UDP port, SNATMAP exchanges, cleartext APNs courier connections and
//! Siri-like MPTCP v0 connections. Layouts from the protocol notes; SNATMAP messages and
//! MPTCP IDSNs come from the cores' own encoders.

use std::net::Ipv4Addr;

use super::gen::{no_opts, tcp_send, Ctx, Session};
use super::ordinary::{client_hello, server_flight};
use super::wire::{bplist_dict, dss, item, msg, rtcp_sr, rtp, sdp, stun_binding, tls_record, Sip, FACETIME_PORT, PV};
use crate::support::{opt, Dir, Flow, TcpFlow, ACK, SYN};
use appleshark::core::apns::topics::topic_hash;
use appleshark::core::mptcp::keys::derive;
use appleshark::core::mptcp::options::Version;
use appleshark::core::snatmap::{encode_request, encode_response};

/// The cleartext courier port: no dissector claims it, APNs' heuristic finds the streams.
pub const APNS_PORT: u16 = 15223;

fn sa(ip: &str, port: u16) -> std::net::SocketAddr {
    format!("{ip}:{port}").parse().unwrap()
}

// ------------------------------------------------------------------ SNATMAP

/// A request from one of the client's ports to the SNATMAP server and its response, a
/// retransmitted request one time in ten.
pub fn snatmap(ctx: &mut Ctx) -> Session {
    let c = ctx.client_ip();
    let port = [5060, FACETIME_PORT, 16393, 16384][ctx.rng.below(4) as usize];
    let mut f = Flow::udp(sa(&c, port), sa("17.173.254.222", 5678));
    let nonce = ctx.rng.next_u32() >> 1;
    let req = encode_request(nonce, c.parse().unwrap(), port);
    let mut frames = vec![f.packet(&req)];
    if ctx.rng.below(10) == 0 {
        frames.push(f.packet(&req));
    }
    let wan = Ipv4Addr::from(0xcb00_7100 | ctx.rng.below(256) as u32);
    frames.push(f.reply(&encode_response(nonce, wan, ctx.range(1024, 65535) as u16)));
    let n = frames.len() as u64;
    Session { kind: "snatmap", frames, record: vec![("snatmap", n)] }
}

// ------------------------------------------------------------------ FaceTime

/// One FaceTime call between two peers, everything on UDP 16402 at both ends: SNATMAP to
/// Apple, STUN between the peers, SIP INVITE/100/180/200/ACK with SDP, audio (pt 104) and
/// video (pt 123) RTP with the 0x4400 extension both ways, RTCP every 50 packets, a SIP
/// MESSAGE in the middle, BYE/200 at the end. `media` RTP packets in all.
pub fn facetime_call_len(ctx: &mut Ctx, media: u64) -> Session {
    let a = ctx.client_ip();
    let b = format!("203.0.{}.{}", ctx.range(0, 255), ctx.range(1, 254));
    let mut f = Flow::udp(sa(&a, FACETIME_PORT), sa(&b, FACETIME_PORT));
    let mut sn = Flow::udp(sa(&a, FACETIME_PORT), sa("17.173.254.223", 5678));
    let nonce = ctx.rng.next_u32() >> 1;
    let mut frames = vec![
        sn.packet(&encode_request(nonce, a.parse().unwrap(), FACETIME_PORT)),
        sn.reply(&encode_response(nonce, Ipv4Addr::new(203, 0, 113, 5), FACETIME_PORT)),
    ];
    let tid: [u8; 12] = ctx.random(12).try_into().unwrap();
    frames.push(f.packet(&stun_binding(&tid, false)));
    frames.push(f.reply(&stun_binding(&tid, true)));
    let n = ctx.next();
    let sip = Sip { a: &a, b: &b, call_id: format!("{n:08x}-ft@{a}"), from_tag: format!("{:x}", ctx.rng.next_u32()), to_tag: format!("{:x}", ctx.rng.next_u32()) };
    let offer = sdp(&a, n);
    let answer = sdp(&b, n + 1);
    frames.push(f.packet(&sip.request("INVITE", 1, Some(("application/sdp", &offer)), true)));
    frames.push(f.reply(&sip.response("100 Trying", 1, "INVITE", None, false)));
    frames.push(f.reply(&sip.response("180 Ringing", 1, "INVITE", None, false)));
    frames.push(f.reply(&sip.response("200 OK", 1, "INVITE", Some(&answer), false)));
    frames.push(f.packet(&sip.request("ACK", 1, None, true)));
    let mut sip_n = 5u64;
    let (ssrc_a, ssrc_b) = (ctx.rng.next_u32(), ctx.rng.next_u32());
    let mut seqs = [0u16; 4];
    let mut rtcp_n = 0u64;
    for i in 0..media {
        let to_b = ctx.rng.below(2) == 0;
        let video = ctx.rng.below(3) != 0;
        let k = usize::from(to_b) * 2 + usize::from(video);
        seqs[k] = seqs[k].wrapping_add(1);
        let (pt, len) = if video { (123, ctx.range(300, 1100)) } else { (104, ctx.range(60, 180)) };
        let ssrc = if to_b { ssrc_a } else { ssrc_b } ^ u32::from(video);
        let p = rtp(pt, seqs[k], (i as u32) * 960, ssrc, false, &ctx.random(len as usize));
        frames.push(if to_b { f.packet(&p) } else { f.reply(&p) });
        if i % 50 == 49 {
            let r = rtcp_sr(ssrc, i as u32 * 960, i as u32, i as u32 * 500);
            frames.push(if to_b { f.packet(&r) } else { f.reply(&r) });
            rtcp_n += 1;
        }
        if i == media / 2 {
            frames.push(f.packet(&sip.request("MESSAGE", 2, Some(("application/x-apple-facetime", "ping")), true)));
            frames.push(f.reply(&sip.response("200 OK", 2, "MESSAGE", None, false)));
            sip_n += 2;
        }
    }
    frames.push(f.packet(&sip.request("BYE", 3, None, true)));
    frames.push(f.reply(&sip.response("200 OK", 3, "BYE", None, false)));
    sip_n += 2;
    let record = vec![("facetime", frames.len() as u64 - 2), ("facetime.sip", sip_n), ("facetime.rtp", media), ("facetime.rtcp", rtcp_n), ("facetime.stun", 2), ("snatmap", 2)];
    Session { kind: "facetime", frames, record }
}

/// A FaceTime call of 200–1000 media packets.
pub fn facetime_call(ctx: &mut Ctx) -> Session {
    let media = ctx.range(200, 1000);
    facetime_call_len(ctx, media)
}

// ------------------------------------------------------------------ APNs

const TOKEN: [u8; 32] = [0xAB; 32];

/// A courier connection in clear on [`APNS_PORT`]: Connect/Connect Response/Filter Topics,
/// `messages` push messages (0x0A: token, topic hash, payload, id, expiry, timestamp,
/// priority) each acknowledged (0x0B), a keep-alive and its ack. `payload(ctx, i)` makes the
/// i-th payload.
pub fn apns_conn(ctx: &mut Ctx, messages: u64, payload: &mut dyn FnMut(&mut Ctx, u64) -> (Vec<u8>, &'static str)) -> Session {
    let c = ctx.client_ip();
    let p = ctx.eph_port();
    let mut t = TcpFlow::new(sa(&c, p), sa(&format!("17.57.146.{}", ctx.range(1, 254)), APNS_PORT));
    let mut out = t.handshake(&[], &[], &[]);
    let down = |t: &mut TcpFlow, out: &mut Vec<Vec<u8>>, dir: Dir, b: &[u8]| tcp_send(t, dir, b, 1448, 2, out, &mut no_opts);
    let connect = msg(7, &[item(1, &TOKEN), item(2, &[1]), item(5, &[0, 0, 0, 0x41]), item(6, &[1]), item(8, b"WiFi"), item(9, b"17.0"), item(10, b"21A329"), item(11, b"iPhone15,2"), item(16, &[0, 11])]);
    down(&mut t, &mut out, Dir::ToServer, &connect);
    down(&mut t, &mut out, Dir::ToClient, &msg(8, &[item(1, &[0]), item(3, &TOKEN), item(4, &[0x40, 0])]));
    let topics = ["com.apple.madrid", "com.apple.ess", "com.apple.private.alloy.sms", "com.apple.gamed"];
    let hashes: Vec<[u8; 20]> = topics.iter().map(|n| topic_hash(n)).collect();
    let mut f = vec![item(1, &TOKEN)];
    f.extend(hashes.iter().map(|h| item(2, h)));
    down(&mut t, &mut out, Dir::ToServer, &msg(9, &f));
    let base = ctx.rng.next_u32() >> 4;
    for i in 0..messages {
        let (pl, topic) = payload(ctx, i);
        let id = (base + i as u32).to_be_bytes();
        let m = msg(
            0x0A,
            &[item(1, &TOKEN), item(2, &topic_hash(topic)), item(3, &pl), item(4, &id), item(5, &1_800_000_000u32.to_be_bytes()), item(6, &(1_700_000_000_000_000_000u64 + i).to_be_bytes()), item(13, &[10])],
        );
        down(&mut t, &mut out, Dir::ToClient, &m);
        let ack = msg(0x0B, &[item(1, &TOKEN), item(4, &id), item(8, &[0])]);
        out.push(t.send(Dir::ToServer, &ack, &[]));
    }
    out.push(t.send(Dir::ToServer, &msg(0x0C, &[item(1, b"WiFi"), item(2, b"17.0"), item(3, b"21A329"), item(4, b"iPhone15,2"), item(5, &[0, 29])]), &[]));
    out.push(t.send(Dir::ToClient, &msg(0x0D, &[]), &[]));
    out.push(t.ack(Dir::ToServer, &[]));
    out.extend(t.close());
    let record = vec![("apns.command", 2 * messages + 5), ("apns.message", messages)];
    Session { kind: "apns", frames: out, record }
}

/// An iMessage-like envelope with an "encrypted" payload of `p_len` bytes.
pub fn imessage(ctx: &mut Ctx, i: u64, p_len: usize) -> Vec<u8> {
    let (u, p) = (ctx.random(16), ctx.random(p_len));
    bplist_dict(&[
        ("c", PV::Int(100)),
        ("i", PV::Int(i)),
        ("U", PV::Data(&u)),
        ("sP", PV::Str("mailto:sender@example.com")),
        ("tP", PV::Str("tel:+15551230002")),
        ("e", PV::Int(1_700_000_000_000_000_000 + i)),
        ("P", PV::Data(&p)),
    ])
}

/// The mixed-traffic APNs connection: 5–40 messages, iMessage envelopes or small JSON.
pub fn apns(ctx: &mut Ctx) -> Session {
    let n = ctx.range(5, 40);
    apns_conn(ctx, n, &mut |ctx, i| {
        if ctx.rng.below(2) == 0 {
            let l = ctx.range(200, 1500) as usize;
            (imessage(ctx, i, l), "com.apple.madrid")
        } else {
            (format!("{{\"aps\":{{\"alert\":\"Game invite {i}\",\"badge\":1}}}}").into_bytes(), "com.apple.gamed")
        }
    })
}

/// The APNs-only benchmark's connection: `messages` iMessage pushes of 1.5–4 KiB each.
pub fn apns_large(ctx: &mut Ctx, messages: u64) -> Session {
    apns_conn(ctx, messages, &mut |ctx, i| {
        let l = ctx.range(1500, 4000) as usize;
        (imessage(ctx, i, l), "com.apple.madrid")
    })
}

// ------------------------------------------------------------------ MPTCP

/// A Siri-like MPTCP v0 connection to 443: MP_CAPABLE handshake with keys, TLS inside,
/// a DSS (mapping + data ACK) on every segment, the client sending most of the data.
pub fn mptcp(ctx: &mut Ctx) -> Session {
    let (c, p) = (ctx.client_ip(), ctx.eph_port());
    let mut t = TcpFlow::new(sa(&c, p), sa(&format!("17.{}.{}.{}", ctx.range(0, 255), ctx.range(0, 255), ctx.range(1, 254)), 443));
    let (kc, ks) = (ctx.rng.next_u64(), ctx.rng.next_u64());
    let (mc, ms) = (derive(Version::V0, kc).unwrap(), derive(Version::V0, ks).unwrap());
    let cap = |keys: &[u64]| {
        let mut d = vec![0x00, 0x01];
        for k in keys {
            d.extend_from_slice(&k.to_be_bytes());
        }
        opt::raw(30, &d)
    };
    let mut out = vec![
        t.segment(Dir::ToServer, SYN, b"", &cap(&[kc])),
        t.segment(Dir::ToClient, SYN | ACK, b"", &cap(&[ks])),
        t.segment(Dir::ToServer, ACK, b"", &cap(&[kc, ks])),
    ];
    // Bytes sent so far at the data level, per direction.
    let mut sent = [0u64; 2];
    let idsn = [mc.idsn, ms.idsn];
    let send = |t: &mut TcpFlow, out: &mut Vec<Vec<u8>>, dir: Dir, data: &[u8], sent: &mut [u64; 2]| {
        let d = dir as usize;
        let base = sent[d];
        let ssn_base = t.seq(dir).wrapping_sub(if d == 0 { TcpFlow::CLIENT_ISN } else { TcpFlow::SERVER_ISN });
        let mut opts = |_: &TcpFlow, sdir: Dir, off: usize, len: usize, is_ack: bool| {
            let s = sdir as usize;
            let peer = 1 - s;
            let peer_sent = if is_ack { base + off as u64 } else { sent[peer] };
            let ack = (idsn[peer].wrapping_add(1).wrapping_add(peer_sent)) as u32;
            if is_ack {
                dss(ack, None)
            } else {
                let dsn = idsn[s].wrapping_add(1).wrapping_add(base + off as u64) as u32;
                dss(ack, Some((dsn, ssn_base.wrapping_add(off as u32), len as u16)))
            }
        };
        tcp_send(t, dir, data, 1428, 2, out, &mut opts);
        sent[d] += data.len() as u64;
    };
    send(&mut t, &mut out, Dir::ToServer, &client_hello(ctx, "guzzoni.apple.com", "http/1.1"), &mut sent);
    let sf = server_flight(ctx);
    send(&mut t, &mut out, Dir::ToClient, &sf, &mut sent);
    for _ in 0..ctx.range(3, 20) {
        let up = tls_record(23, &ctx.random_in(2000, 12000));
        send(&mut t, &mut out, Dir::ToServer, &up, &mut sent);
        let down = tls_record(23, &ctx.random_in(100, 600));
        send(&mut t, &mut out, Dir::ToClient, &down, &mut sent);
    }
    out.extend(t.close());
    let n = out.len() as u64;
    Session { kind: "mptcp", frames: out, record: vec![("mptcp", n)] }
}

/// The Apple share of capture (b) (shares of its packets, summing to 0.10).
pub const MIX: [(f64, &str, super::gen::Gen); 4] = [(0.04, "facetime", facetime_call), (0.01, "snatmap", snatmap), (0.03, "apns", apns), (0.02, "mptcp", mptcp)];

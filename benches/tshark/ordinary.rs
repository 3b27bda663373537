//! Everyday traffic, none of it appleshark's: DNS, HTTP/1.1, TLS 1.3-looking HTTPS,
//! QUIC-looking UDP (on 443 and on high ports, where UDP heuristics run) and bulk TCP on a
//! port no dissector claims (where TCP heuristics run on every segment).

use super::gen::{no_opts, tcp_send, Ctx, Session};
use super::wire::tls_record;
use crate::support::{Dir, Flow, TcpFlow};

fn sa(ip: &str, port: u16) -> std::net::SocketAddr {
    format!("{ip}:{port}").parse().unwrap()
}

fn server_ip(ctx: &mut Ctx, first: u8) -> String {
    format!("{first}.{}.{}.{}", ctx.range(0, 255), ctx.range(0, 255), ctx.range(1, 254))
}

fn session(kind: &'static str, frames: Vec<Vec<u8>>) -> Session {
    Session { kind, frames, record: Vec::new() }
}

fn dns_name(name: &str) -> Vec<u8> {
    let mut o = Vec::new();
    for l in name.split('.') {
        o.push(l.len() as u8);
        o.extend_from_slice(l.as_bytes());
    }
    o.push(0);
    o
}

/// A query for an A record and its one-answer response.
pub fn dns(ctx: &mut Ctx) -> Session {
    let host = String::from_utf8(ctx.text_in(4, 12)).unwrap() + ".example.com";
    let id = ctx.rng.next_u32() as u16;
    let q = [&id.to_be_bytes()[..], &[1, 0, 0, 1, 0, 0, 0, 0, 0, 0], &dns_name(&host), &[0, 1, 0, 1]].concat();
    let mut r = q.clone();
    r[2..8].copy_from_slice(&[0x81, 0x80, 0, 1, 0, 1]);
    r.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4]);
    r.extend_from_slice(&ctx.rng.next_u32().to_be_bytes());
    let c = ctx.client_ip();
    let p = ctx.eph_port();
    let mut f = Flow::udp(sa(&c, p), sa("10.255.0.53", 53));
    session("dns", vec![f.packet(&q), f.reply(&r)])
}

/// One HTTP/1.1 GET and a text response of 1–40 KiB on its own connection.
pub fn http(ctx: &mut Ctx) -> Session {
    let (c, s, p) = (ctx.client_ip(), server_ip(ctx, 93), ctx.eph_port());
    let mut t = TcpFlow::new(sa(&c, p), sa(&s, 80));
    let mut out = t.handshake(&[], &[], &[]);
    let path = String::from_utf8(ctx.text(10)).unwrap();
    let req = format!("GET /{path}.html HTTP/1.1\r\nHost: www.example.org\r\nUser-Agent: Mozilla/5.0\r\nAccept: */*\r\nAccept-Encoding: identity\r\n\r\n");
    out.push(t.send(Dir::ToServer, req.as_bytes(), &[]));
    let body = ctx.text_in(1024, 40 * 1024);
    let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nServer: nginx\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    resp.extend(body);
    tcp_send(&mut t, Dir::ToClient, &resp, 1448, 2, &mut out, &mut no_opts);
    out.extend(t.close());
    session("http", out)
}

fn handshake_msg(ty: u8, body: &[u8]) -> Vec<u8> {
    [&[ty][..], &(body.len() as u32).to_be_bytes()[1..], body].concat()
}

fn ext(ty: u16, data: &[u8]) -> Vec<u8> {
    [&ty.to_be_bytes()[..], &(data.len() as u16).to_be_bytes(), data].concat()
}

/// A TLS 1.3 ClientHello with SNI, ALPN and supported_versions.
pub fn client_hello(ctx: &mut Ctx, sni: &str, alpn: &str) -> Vec<u8> {
    let name = [&[0u8][..], &(sni.len() as u16).to_be_bytes(), sni.as_bytes()].concat();
    let sni_ext = ext(0, &[&(name.len() as u16).to_be_bytes()[..], &name].concat());
    let proto = [&[alpn.len() as u8][..], alpn.as_bytes()].concat();
    let alpn_ext = ext(16, &[&(proto.len() as u16).to_be_bytes()[..], &proto].concat());
    let exts = [sni_ext, alpn_ext, ext(43, &[2, 3, 4]), ext(10, &[0, 2, 0, 0x1d])].concat();
    let body = [
        &[3u8, 3][..],
        &ctx.random(32),
        &[32],
        &ctx.random(32),
        &[0, 6, 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 1, 0],
        &(exts.len() as u16).to_be_bytes(),
        &exts,
    ]
    .concat();
    tls_record(22, &handshake_msg(1, &body))
}

/// ServerHello + ChangeCipherSpec + the encrypted rest of the server's flight.
pub fn server_flight(ctx: &mut Ctx) -> Vec<u8> {
    let exts = ext(43, &[3, 4]);
    let body = [&[3u8, 3][..], &ctx.random(32), &[32], &ctx.random(32), &[0x13, 0x01, 0], &(exts.len() as u16).to_be_bytes(), &exts].concat();
    [tls_record(22, &handshake_msg(2, &body)), tls_record(20, &[1]), tls_record(23, &ctx.random_in(2000, 4000))].concat()
}

/// HTTPS: handshake, then 2–30 application-data exchanges (request small, response up to 16 KiB).
pub fn tls(ctx: &mut Ctx) -> Session {
    let (c, s, p) = (ctx.client_ip(), server_ip(ctx, 151), ctx.eph_port());
    let mut t = TcpFlow::new(sa(&c, p), sa(&s, 443));
    let mut out = t.handshake(&[], &[], &[]);
    let ch = client_hello(ctx, "www.example.net", "h2");
    out.push(t.send(Dir::ToServer, &ch, &[]));
    let sf = server_flight(ctx);
    tcp_send(&mut t, Dir::ToClient, &sf, 1448, 2, &mut out, &mut no_opts);
    out.push(t.send(Dir::ToServer, &[tls_record(20, &[1]), tls_record(23, &ctx.random(53))].concat(), &[]));
    for _ in 0..ctx.range(2, 30) {
        let rq = tls_record(23, &ctx.random_in(40, 600));
        out.push(t.send(Dir::ToServer, &rq, &[]));
        let rs = tls_record(23, &ctx.random_in(100, 16000));
        tcp_send(&mut t, Dir::ToClient, &rs, 1448, 2, &mut out, &mut no_opts);
    }
    out.extend(t.close());
    session("tls", out)
}

/// QUIC-looking UDP: a 1200-byte Initial (long header, version 1) each way, then short-header
/// packets. Half on 443 (Wireshark's QUIC), half on a high port (UDP heuristics are tried).
pub fn quic(ctx: &mut Ctx) -> Session {
    let (c, s, p) = (ctx.client_ip(), server_ip(ctx, 142), ctx.eph_port());
    let sport = if ctx.rng.below(2) == 0 { 443 } else { ctx.range(20000, 30000) as u16 };
    let mut f = Flow::udp(sa(&c, p), sa(&s, sport));
    let (dcid, scid) = (ctx.random(8), ctx.random(8));
    let initial = |ctx: &mut Ctx, d: &[u8], s: &[u8]| -> Vec<u8> {
        let mut h = [&[0xc3u8, 0, 0, 0, 1, 8][..], d, &[8], s, &[0]].concat();
        let plen = 1200 - h.len() - 2;
        h.extend_from_slice(&(0x4000 | plen as u16).to_be_bytes());
        h.extend(ctx.random(plen));
        h
    };
    let mut out = vec![f.packet(&initial(ctx, &dcid, &scid)), f.reply(&initial(ctx, &scid, &dcid))];
    for _ in 0..ctx.range(20, 120) {
        let down = ctx.rng.below(4) != 0;
        let cid = if down { &dcid } else { &scid };
        let n = if down { ctx.range(200, 1350) } else { ctx.range(30, 200) } as usize;
        let pkt = [&[0x40 | (ctx.rng.next_u32() as u8 & 0x3f)][..], cid, &ctx.random(n)].concat();
        out.push(if down { f.reply(&pkt) } else { f.packet(&pkt) });
    }
    session("quic", out)
}

/// A bulk transfer of 0.2–1.5 MB on a port no dissector claims (1448-byte segments, an ACK
/// every second segment).
pub fn bulk(ctx: &mut Ctx) -> Session {
    let (c, s, p) = (ctx.client_ip(), server_ip(ctx, 198), ctx.eph_port());
    let mut t = TcpFlow::new(sa(&c, p), sa(&s, ctx.range(40000, 41000) as u16));
    let mut out = t.handshake(&[], &[], &[]);
    let data = ctx.random_in(200_000, 1_500_000);
    tcp_send(&mut t, Dir::ToServer, &data, 1448, 2, &mut out, &mut no_opts);
    out.extend(t.close());
    session("bulk-tcp", out)
}

/// The ordinary mix (shares of packets).
pub const MIX: [(f64, &str, super::gen::Gen); 5] =
    [(0.10, "dns", dns), (0.15, "http", http), (0.25, "tls", tls), (0.20, "quic", quic), (0.30, "bulk-tcp", bulk)];

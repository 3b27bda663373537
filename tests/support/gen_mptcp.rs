//! The MPTCP segment generator: option layouts of RFC 6824 / RFC 8684 written out here (not
//! taken from the core), a segment writer, a TLS ClientHello, and the seed's Siri trace. Used
//! by the golden tests (`tests/mptcp_annot.rs`) and the bundled sample
//! (`samples/mptcp-demo.pcap`).

use super::packet::{ethernet_ip, ip_packet, tcp, IpParams, PROTO_TCP};
use super::{opt, Capture, TcpHeader, ACK, PSH, SYN};
use sha1::{Digest, Sha1};
use sha2::Sha256;
use std::net::SocketAddr;
use std::time::Duration;

/// Token and IDSN of a key: SHA-1 (v0) or SHA-256 (v1) of the big-endian key; token = the
/// digest's first 32 bits, IDSN = its last 64 bits (RFC 6824 §3.1, RFC 8684 §3.1).
pub fn key_material(version: u8, key: u64) -> (u32, u64) {
    let d: Vec<u8> = if version == 0 {
        Sha1::digest(key.to_be_bytes()).to_vec()
    } else {
        Sha256::digest(key.to_be_bytes()).to_vec()
    };
    let token = u32::from_be_bytes(d[..4].try_into().unwrap());
    let idsn = u64::from_be_bytes(d[d.len() - 8..].try_into().unwrap());
    (token, idsn)
}

/// Options helpers (RFC 6824 / RFC 8684 layouts written out here, not taken from the core).
pub mod mp {
    pub fn capable(version: u8, flags: u8, keys: &[u64]) -> Vec<u8> {
        let mut o = vec![30, 4 + 8 * keys.len() as u8, version, flags];
        for k in keys {
            o.extend_from_slice(&k.to_be_bytes());
        }
        o
    }
    /// DSS: data ack (4 or 8 bytes), mapping (dsn width 4/8, subseq, len, checksum?), DATA_FIN.
    pub fn dss(ack: Option<(u64, bool)>, map: Option<(u64, bool, u32, u16, Option<u16>)>, fin: bool) -> Vec<u8> {
        let mut flags = 0u8;
        let mut body = Vec::new();
        if let Some((a, wide)) = ack {
            flags |= 0x01 | if wide { 0x02 } else { 0 };
            if wide {
                body.extend_from_slice(&a.to_be_bytes());
            } else {
                body.extend_from_slice(&(a as u32).to_be_bytes());
            }
        }
        if let Some((d, wide, ssn, len, csum)) = map {
            flags |= 0x04 | if wide { 0x08 } else { 0 };
            if wide {
                body.extend_from_slice(&d.to_be_bytes());
            } else {
                body.extend_from_slice(&(d as u32).to_be_bytes());
            }
            body.extend_from_slice(&ssn.to_be_bytes());
            body.extend_from_slice(&len.to_be_bytes());
            if let Some(c) = csum {
                body.extend_from_slice(&c.to_be_bytes());
            }
        }
        if fin {
            flags |= 0x10;
        }
        let mut o = vec![30, 4 + body.len() as u8, 0x20, flags];
        o.extend_from_slice(&body);
        o
    }
    pub fn join_syn(backup: bool, addr_id: u8, token: u32, nonce: u32) -> Vec<u8> {
        let mut o = vec![30, 12, 0x10 | backup as u8, addr_id];
        o.extend_from_slice(&token.to_be_bytes());
        o.extend_from_slice(&nonce.to_be_bytes());
        o
    }
    pub fn join_synack(backup: bool, addr_id: u8, hmac: u64, nonce: u32) -> Vec<u8> {
        let mut o = vec![30, 16, 0x10 | backup as u8, addr_id];
        o.extend_from_slice(&hmac.to_be_bytes());
        o.extend_from_slice(&nonce.to_be_bytes());
        o
    }
    pub fn join_ack(hmac: [u8; 20]) -> Vec<u8> {
        let mut o = vec![30, 24, 0x10, 0];
        o.extend_from_slice(&hmac);
        o
    }
    pub fn mp_fail(dsn: u64) -> Vec<u8> {
        let mut o = vec![30, 12, 0x60, 0];
        o.extend_from_slice(&dsn.to_be_bytes());
        o
    }
    pub fn fastclose(key: u64) -> Vec<u8> {
        let mut o = vec![30, 12, 0x70, 0];
        o.extend_from_slice(&key.to_be_bytes());
        o
    }
}

/// A tiny segment writer with explicit everything.
pub struct W {
    pub cap: Capture,
}

impl W {
    pub fn new(start: Duration) -> W {
        W { cap: Capture::new().clock(start, Duration::from_millis(1)) }
    }
    #[allow(clippy::too_many_arguments)]
    pub fn seg(&mut self, at: Duration, src: &str, dst: &str, flags: u16, seq: u32, ack: u32, opts: &[u8], payload: &[u8], ttl: u8, id: u16) {
        let (s, d): (SocketAddr, SocketAddr) = (src.parse().unwrap(), dst.parse().unwrap());
        let h = TcpHeader { seq, ack, flags, window: 8192, urgent: 0, options: opts.to_vec() };
        let seg = tcp(s, d, &h, payload);
        let ip = ip_packet(s.ip(), d.ip(), PROTO_TCP, &IpParams { ttl, id, ..IpParams::default() }, &seg);
        self.cap.clock = at;
        self.cap.push(ethernet_ip(s.ip(), d.ip(), &ip));
    }
}

pub use super::tls::client_hello;

pub fn hms(h: u64, m: u64, s: u64, us: u64) -> Duration {
    // 2014-03-01 (the seed gives no date) plus the printed time of day.
    Duration::from_secs(1_393_632_000 + h * 3600 + m * 60 + s) + Duration::from_micros(us)
}


/// The seed's Siri trace (see [`siri_seed`]): the iPad's Wi-Fi end, the server, both keys and
/// initial sequence numbers as tcpdump printed them.
pub const SIRI_IPAD: &str = "192.168.1.10:49163";
pub const SIRI_SERVER: &str = "17.172.100.4:443";
pub const SIRI_CLIENT_KEY: u64 = 0x96e576198c475350;
pub const SIRI_SERVER_KEY: u64 = 0xd7b705e4d86c1a66;
pub const SIRI_CLIENT_ISN: u32 = 2739181685;
pub const SIRI_SERVER_ISN: u32 = 1880401460;

/// The seed (004_*.txt): Siri's handshake and first data segments, rebuilt from the numbers
/// tcpdump printed there (7 segments). Addresses are anonymised in the seed ("siri.4"): an
/// iPad on a private Wi-Fi address and an Apple (17/8) server stand in; the ClientHello bytes
/// are not in the seed, so the generator writes one of the printed length (144) naming the
/// Siri host of that era, guzzoni.apple.com, and the next 40 bytes as a TLS application-data
/// record.
pub fn siri_seed() -> W {
    const IPAD: &str = SIRI_IPAD;
    const SIRI: &str = SIRI_SERVER;
    const CKEY: u64 = SIRI_CLIENT_KEY;
    const SKEY: u64 = SIRI_SERVER_KEY;
    const CISN: u32 = SIRI_CLIENT_ISN;
    const SISN: u32 = SIRI_SERVER_ISN;
    let mut w = W::new(hms(12, 43, 31, 0));
    // 12:43:31.311061 [S] seq 2739181685, options [mss 1460,nop,wscale 3,mp capable flags:H sndkey,nop,nop,TS val 1363555813 ecr 0,sackOK,eol]
    let syn = [opt::mss(1460), opt::nop(), opt::wscale(3), mp::capable(0, 0x01, &[CKEY]), opt::nop(), opt::nop(), opt::timestamps(1363555813, 0), opt::sack_perm(), vec![0]].concat();
    w.seg(hms(12, 43, 31, 311061), IPAD, SIRI, SYN, CISN, 0, &syn, b"", 64, 54778);
    let synack = [opt::mss(1460), opt::nop(), opt::wscale(4), opt::nop(), opt::nop(), opt::sack_perm(), mp::capable(0, 0x01, &[SKEY])].concat();
    w.seg(hms(12, 43, 31, 342236), SIRI, IPAD, SYN | ACK, SISN, CISN + 1, &synack, b"", 244, 52382);
    w.seg(hms(12, 43, 31, 345448), IPAD, SIRI, ACK, CISN + 1, SISN + 1, &mp::capable(0, 0x01, &[CKEY, SKEY]), b"", 64, 47496);
    let hello = client_hello("guzzoni.apple.com", 144);
    let d1 = [mp::dss(Some((2248627404, false)), Some((3845908739, false, 1, 144, None)), false), vec![0]].concat();
    w.seg(hms(12, 43, 31, 357386), IPAD, SIRI, PSH | ACK, CISN + 1, SISN + 1, &d1, &hello, 64, 53779);
    let d2 = [mp::dss(Some((2248627404, false)), Some((3845908883, false, 145, 40, None)), false), vec![0]].concat();
    w.seg(hms(12, 43, 31, 357430), IPAD, SIRI, PSH | ACK, CISN + 145, SISN + 1, &d2, &tls_app_data(40), 64, 23748);
    w.seg(hms(12, 43, 31, 385032), SIRI, IPAD, ACK, SISN + 1, CISN + 145, &mp::dss(Some((3845908883, false)), None, false), b"", 244, 30705);
    w.seg(hms(12, 43, 31, 389460), SIRI, IPAD, ACK, SISN + 1, CISN + 185, &mp::dss(Some((3845908923, false)), None, false), b"", 244, 31058);
    w
}

/// HMAC-SHA1 (RFC 2104): the MP_JOIN authentication of MPTCP v0 (RFC 6824 §3.2).
pub fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    k[..key.len()].copy_from_slice(key);
    let pad = |b: u8| k.iter().map(|x| x ^ b).collect::<Vec<u8>>();
    let inner = Sha1::digest([pad(0x36), msg.to_vec()].concat());
    Sha1::digest([pad(0x5c), inner.to_vec()].concat()).into()
}

/// A TLS 1.2 application-data record of `total` bytes (header included), opaque content.
pub fn tls_app_data(total: usize) -> Vec<u8> {
    let mut r = vec![0x17, 3, 3];
    r.extend_from_slice(&((total - 5) as u16).to_be_bytes());
    r.extend((0..total - 5).map(|i| (i * 31 + 7) as u8));
    r
}

/// One segment of [`siri_two_subflows`] as the generator wrote it.
#[derive(Clone, Debug)]
pub struct DemoSeg {
    pub frame: u32,
    /// 0: the Wi-Fi subflow (the seed's), 1: the cellular one (MP_JOIN).
    pub subflow: u32,
    pub to_server: bool,
    /// Data-level sequence number of the first payload byte, relative to the sender's IDSN.
    pub rel_dsn: Option<u32>,
    /// Data ACK, relative to the peer's IDSN.
    pub rel_dack: Option<u32>,
    pub len: u32,
}

/// The iPad's cellular end of the second subflow.
pub const SIRI_IPAD_CELL: &str = "10.64.12.7:51002";

/// The seed's Siri trace continued with a second subflow: the iPad joins from its cellular
/// address (MP_JOIN with the server's token and correct HMACs, address id 1), sends the
/// rest of the request over it, and the server answers on both subflows. Returns the writer
/// and the generator's record of every segment (the seed's 7 included).
pub fn siri_two_subflows() -> (W, Vec<DemoSeg>) {
    let mut w = siri_seed();
    let (_, cidsn) = key_material(0, SIRI_CLIENT_KEY);
    let (stok, sidsn) = key_material(0, SIRI_SERVER_KEY);
    let (ci, si) = (cidsn as u32, sidsn as u32);
    let seg = |frame, subflow, to_server, rel_dsn, rel_dack, len| DemoSeg { frame, subflow, to_server, rel_dsn, rel_dack, len };
    // The seed, as its numbers say (relative = printed - IDSN).
    let mut rec = vec![
        seg(1, 0, true, None, None, 0),
        seg(2, 0, false, None, None, 0),
        seg(3, 0, true, None, None, 0),
        seg(4, 0, true, Some(3845908739u32.wrapping_sub(ci)), Some(2248627404u32.wrapping_sub(si)), 144),
        seg(5, 0, true, Some(3845908883u32.wrapping_sub(ci)), Some(2248627404u32.wrapping_sub(si)), 40),
        seg(6, 0, false, None, Some(3845908883u32.wrapping_sub(ci)), 0),
        seg(7, 0, false, None, Some(3845908923u32.wrapping_sub(ci)), 0),
    ];
    let (wifi, cell, srv) = (SIRI_IPAD, SIRI_IPAD_CELL, SIRI_SERVER);
    let mut at = hms(12, 43, 31, 389460);
    let mut tick = |ms: u64| {
        at += Duration::from_micros(ms * 1000 + 137);
        at
    };
    // Subflow sequence numbers (next to send) per subflow and direction.
    let (wifi_c, mut wifi_s) = (SIRI_CLIENT_ISN + 185, SIRI_SERVER_ISN + 1);
    let (cell_isn_c, cell_isn_s) = (3_000_000_000u32, 400_000_000u32);
    let (mut cell_c, cell_s) = (cell_isn_c + 1, cell_isn_s + 1);
    // MP_JOIN (v0): HMAC-SHA1 over the nonces, keyed with both keys (RFC 6824 §3.2).
    let (nonce_c, nonce_s) = (0x5eed_0001u32, 0x5eed_0002u32);
    let (kc, ks) = (SIRI_CLIENT_KEY.to_be_bytes(), SIRI_SERVER_KEY.to_be_bytes());
    let (nc, ns) = (nonce_c.to_be_bytes(), nonce_s.to_be_bytes());
    let server_mac = hmac_sha1(&[ks, kc].concat(), &[ns, nc].concat());
    let client_mac = hmac_sha1(&[kc, ks].concat(), &[nc, ns].concat());
    let server_mac64 = u64::from_be_bytes(server_mac[..8].try_into().unwrap());
    let mut frame = 7u32;
    let mut push = |_: &mut W, rec: &mut Vec<DemoSeg>, s: DemoSeg| {
        frame += 1;
        rec.push(DemoSeg { frame, ..s });
    };
    let syn_opts = |join: Vec<u8>| [opt::mss(1400), opt::nop(), opt::wscale(3), opt::sack_perm(), join].concat();
    w.seg(tick(20), cell, srv, SYN, cell_isn_c, 0, &syn_opts(mp::join_syn(false, 1, stok, nonce_c)), b"", 64, 100);
    push(&mut w, &mut rec, seg(0, 1, true, None, None, 0));
    w.seg(tick(30), srv, cell, SYN | ACK, cell_isn_s, cell_c, &syn_opts(mp::join_synack(false, 0, server_mac64, nonce_s)), b"", 244, 200);
    push(&mut w, &mut rec, seg(0, 1, false, None, None, 0));
    w.seg(tick(1), cell, srv, ACK, cell_c, cell_s, &mp::join_ack(client_mac), b"", 64, 101);
    push(&mut w, &mut rec, seg(0, 1, true, None, None, 0));
    // Client → server over cellular: 600 bytes of the request (one TLS record) at DSN 185.
    let data = |dsn: u32, dack: u32, ssn: u32, len: u16| mp::dss(Some((dack as u64, false)), Some((dsn as u64, false, ssn, len, None)), false);
    w.seg(tick(2), cell, srv, PSH | ACK, cell_c, cell_s, &data(ci.wrapping_add(185), si.wrapping_add(1), 1, 600), &tls_app_data(600), 64, 102);
    push(&mut w, &mut rec, seg(0, 1, true, Some(185), Some(1), 600));
    cell_c += 600;
    // Server → client over Wi-Fi: 800 bytes of the answer, acking the request (785).
    w.seg(tick(40), srv, wifi, PSH | ACK, wifi_s, wifi_c, &data(si.wrapping_add(1), ci.wrapping_add(785), 1, 800), &tls_app_data(800), 244, 31100);
    push(&mut w, &mut rec, seg(0, 0, false, Some(1), Some(785), 800));
    wifi_s += 800;
    // Server → client over cellular: 300 more bytes at DSN 801.
    w.seg(tick(1), srv, cell, PSH | ACK, cell_s, cell_c, &data(si.wrapping_add(801), ci.wrapping_add(785), 1, 300), &tls_app_data(300), 244, 202);
    push(&mut w, &mut rec, seg(0, 1, false, Some(801), Some(785), 300));
    // The iPad acks everything at the data level, on each subflow.
    w.seg(tick(25), wifi, srv, ACK, wifi_c, wifi_s, &mp::dss(Some((si.wrapping_add(801) as u64, false)), None, false), b"", 64, 23800);
    push(&mut w, &mut rec, seg(0, 0, true, None, Some(801), 0));
    w.seg(tick(1), cell, srv, ACK, cell_c, cell_s + 300, &mp::dss(Some((si.wrapping_add(1101) as u64, false)), None, false), b"", 64, 103);
    push(&mut w, &mut rec, seg(0, 1, true, None, Some(1101), 0));
    (w, rec)
}

//! How a fuzz input becomes frames for one entry point of the plugin: pure Rust, no epan,
//! shared by the fuzz targets (through `epanfuzz_run`) and by the replay test
//! (tests/epan_fuzz_replay.rs, which writes the same frames to a pcap file for tshark).
//!
//! An input is a sequence of records `ctl: u8, len: u16 (big-endian), len bytes` (the last
//! record takes what is left when fewer than `len` bytes remain; at most [`MAX_RECORDS`]).
//! Each record becomes one frame; the bits of `ctl` choose its direction and, per target,
//! ports, flags or the subflow. Sequence and acknowledgement numbers are kept consistent by
//! the builder, so the fuzzer's mutations go into the payloads and options, not into
//! breaking TCP.

use std::net::Ipv4Addr;

/// Records per input.
pub const MAX_RECORDS: usize = 64;

/// `LINKTYPE_RAW` (pcap): a bare IPv4 packet.
pub const LINK_RAW: u32 = 101;
/// `LINKTYPE_WIRESHARK_UPPER_PDU` (pcap): Wireshark's exported-PDU tags, then the PDU.
pub const LINK_UPPER_PDU: u32 = 252;

/// The client (a phone on a home network) and Apple's server.
pub const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 20);
pub const SERVER: Ipv4Addr = Ipv4Addr::new(17, 57, 144, 10);
/// The second client address of MPTCP subflows 2 and 3 (a phone's cellular interface).
pub const CLIENT_CELL: Ipv4Addr = Ipv4Addr::new(10, 64, 12, 7);

/// One entry point of the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// UDP to/from port 5678 (SNATMAP).
    Udp5678,
    /// UDP to/from port 16402 (FaceTime's shared port: SIP, STUN, RTP, RTCP).
    Udp16402,
    /// One cleartext TCP connection to port 5223 (APNs courier, heuristics, reassembly).
    Tcp5223,
    /// The APNs dissector called by name (`apns`, or `apns_pack`), as TLS calls it with the
    /// decrypted courier stream: exported-PDU frames with the connection's addresses.
    ApnsByName,
    /// TCP segments whose options area comes from the input: MPTCP through Wireshark's TCP
    /// and the plugin's MPTCP post-dissector, four subflows.
    MptcpTcp,
}

impl Target {
    pub const ALL: [Target; 5] = [Target::Udp5678, Target::Udp16402, Target::Tcp5223, Target::ApnsByName, Target::MptcpTcp];

    /// The name of the fuzz target (fuzz-epan/fuzz_targets/<name>.rs, corpus/<name>/).
    pub fn name(self) -> &'static str {
        match self {
            Target::Udp5678 => "udp_5678",
            Target::Udp16402 => "udp_16402",
            Target::Tcp5223 => "tcp_5223",
            Target::ApnsByName => "apns_by_name",
            Target::MptcpTcp => "mptcp_tcp",
        }
    }

    /// The pcap link type of every frame of this target.
    pub fn linktype(self) -> u32 {
        match self {
            Target::ApnsByName => LINK_UPPER_PDU,
            _ => LINK_RAW,
        }
    }
}

/// The records of an input.
pub fn records(mut data: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    while data.len() >= 3 && out.len() < MAX_RECORDS {
        let ctl = data[0];
        let len = usize::from(u16::from_be_bytes([data[1], data[2]]));
        let rest = &data[3..];
        let take = len.min(rest.len());
        out.push((ctl, &rest[..take]));
        data = &rest[take..];
    }
    out
}

/// The inverse of [`records`], for the seed script's tests and the replay test.
pub fn encode_records(recs: &[(u8, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (ctl, b) in recs {
        let b = &b[..b.len().min(0xFFFF)];
        out.push(*ctl);
        out.extend_from_slice(&(b.len() as u16).to_be_bytes());
        out.extend_from_slice(b);
    }
    out
}

/// The client addresses of one input: [`CLIENT`] and [`CLIENT_CELL`] plus `conv`. The fuzzer
/// keeps one epan session for many inputs (as Wireshark's fuzzshark does) and gives each
/// input of a session its own `conv`, so inputs do not share conversations unless their
/// frames do (the ports are the input's); a file replayed alone has `conv` 0.
#[derive(Clone, Copy)]
struct Hosts {
    client: Ipv4Addr,
    cell: Ipv4Addr,
}

impl Hosts {
    fn new(conv: u16) -> Hosts {
        let add = |a: Ipv4Addr| Ipv4Addr::from(u32::from(a).wrapping_add(u32::from(conv)));
        Hosts { client: add(CLIENT), cell: add(CLIENT_CELL) }
    }
}

/// The frames (bytes, all of [`Target::linktype`]) of one input; `conv` as in [`Hosts`]
/// (0 for an input replayed alone).
pub fn build(target: Target, data: &[u8], conv: u16) -> Vec<Vec<u8>> {
    let recs = records(data);
    let h = Hosts::new(conv);
    match target {
        Target::Udp5678 => udp_frames(h, &recs, 5678),
        Target::Udp16402 => udp_frames(h, &recs, 16402),
        Target::Tcp5223 => tcp_5223_frames(h, &recs),
        Target::ApnsByName => apns_frames(h, &recs),
        Target::MptcpTcp => mptcp_frames(h, &recs),
    }
}

// ---------------------------------------------------------------------------------------
// IPv4, UDP, TCP.

fn ones_complement(sum: &mut u32, bytes: &[u8]) {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        *sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = chunks.remainder() {
        *sum += u32::from(*b) << 8;
    }
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet (no options, DF, TTL 64, header checksum right).
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()).min(0xFFFF) as u16;
    let mut h = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let mut sum = 0;
    ones_complement(&mut sum, &h);
    let c = fold(sum);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn transport_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, seg: &[u8]) -> u16 {
    let mut sum = 0;
    ones_complement(&mut sum, &src.octets());
    ones_complement(&mut sum, &dst.octets());
    ones_complement(&mut sum, &[0, proto]);
    ones_complement(&mut sum, &(seg.len() as u16).to_be_bytes());
    ones_complement(&mut sum, seg);
    fold(sum)
}

/// A UDP datagram in IPv4, with its checksum.
pub fn udp(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), id: u16, payload: &[u8]) -> Vec<u8> {
    let payload = &payload[..payload.len().min(0xFFFF - 28)];
    let mut seg = Vec::with_capacity(8 + payload.len());
    seg.extend_from_slice(&src.1.to_be_bytes());
    seg.extend_from_slice(&dst.1.to_be_bytes());
    seg.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend_from_slice(payload);
    let c = match transport_checksum(src.0, dst.0, 17, &seg) {
        0 => 0xFFFF,
        c => c,
    };
    seg[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4(src.0, dst.0, 17, id, &seg)
}

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;

/// A TCP segment in IPv4. `options` is padded with EOL (zero) bytes to a multiple of 4 and
/// cut at 40 bytes.
#[allow(clippy::too_many_arguments)]
pub fn tcp(src: (Ipv4Addr, u16), dst: (Ipv4Addr, u16), id: u16, seq: u32, ack: u32, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut opts = options[..options.len().min(40)].to_vec();
    opts.resize(opts.len().div_ceil(4) * 4, 0);
    let payload = &payload[..payload.len().min(0xFFFF - 20 - 20 - opts.len())];
    let mut seg = Vec::with_capacity(20 + opts.len() + payload.len());
    seg.extend_from_slice(&src.1.to_be_bytes());
    seg.extend_from_slice(&dst.1.to_be_bytes());
    seg.extend_from_slice(&seq.to_be_bytes());
    seg.extend_from_slice(&ack.to_be_bytes());
    seg.push((((20 + opts.len()) / 4) as u8) << 4);
    seg.push(flags);
    seg.extend_from_slice(&65535u16.to_be_bytes());
    seg.extend_from_slice(&[0, 0, 0, 0]);
    seg.extend_from_slice(&opts);
    seg.extend_from_slice(payload);
    let c = transport_checksum(src.0, dst.0, 6, &seg);
    seg[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(src.0, dst.0, 6, id, &seg)
}

// ---------------------------------------------------------------------------------------
// The targets.

/// UDP: `ctl` bit 0 = from the server; bit 1 = the client also uses the service port
/// (FaceTime relays and SNATMAP's 5678 → 5678), else port 50123.
fn udp_frames(h: Hosts, recs: &[(u8, &[u8])], port: u16) -> Vec<Vec<u8>> {
    recs.iter()
        .enumerate()
        .map(|(i, (ctl, b))| {
            let cport = if ctl & 2 != 0 { port } else { 50123 };
            let (c, s) = ((h.client, cport), (SERVER, port));
            let (src, dst) = if ctl & 1 != 0 { (s, c) } else { (c, s) };
            udp(src, dst, i as u16, b)
        })
        .collect()
}

/// Sequence state of one direction of a TCP connection.
#[derive(Clone, Copy)]
struct Side {
    next: u32,
}

/// One TCP connection client:51000 → server:5223, opened by a generated handshake; each record
/// is one segment of payload: `ctl` bit 0 = from the server; bit 1 = FIN after it; bit 6 = a
/// segment lost before it (the sequence number jumps by the record's length); bit 7 = a
/// retransmission (the sequence number of the previous segment of that direction).
fn tcp_5223_frames(h: Hosts, recs: &[(u8, &[u8])]) -> Vec<Vec<u8>> {
    let c = (h.client, 51000);
    let s = (SERVER, 5223);
    let mut side = [Side { next: 1_000_000 }, Side { next: 2_000_000 }];
    let mut last = [side[0].next + 1, side[1].next + 1];
    let mut out = Vec::new();
    let mut id = 0u16;
    let mss = [2, 4, 0x05, 0xb4];
    out.push(tcp(c, s, id, side[0].next, 0, SYN, &mss, &[]));
    out.push(tcp(s, c, id + 1, side[1].next, side[0].next + 1, SYN | ACK, &mss, &[]));
    side[0].next += 1;
    side[1].next += 1;
    out.push(tcp(c, s, id + 2, side[0].next, side[1].next, ACK, &[], &[]));
    id += 3;
    for (ctl, b) in recs {
        let d = usize::from(ctl & 1);
        let (src, dst) = if d == 1 { (s, c) } else { (c, s) };
        if ctl & 0x40 != 0 {
            side[d].next = side[d].next.wrapping_add(b.len() as u32);
        }
        let seq = if ctl & 0x80 != 0 { last[d] } else { side[d].next };
        let fin = ctl & 2 != 0;
        let flags = ACK | if b.is_empty() { 0 } else { PSH } | if fin { FIN } else { 0 };
        out.push(tcp(src, dst, id, seq, side[1 - d].next, flags, &[], b));
        id = id.wrapping_add(1);
        last[d] = seq;
        let end = seq.wrapping_add(b.len() as u32).wrapping_add(u32::from(fin));
        if end.wrapping_sub(side[d].next) as i32 > 0 {
            side[d].next = end;
        }
    }
    out
}

/// Exported-PDU frames for the APNs dissector called by name: `ctl` bit 0 = from the server,
/// bit 1 = `apns_pack` (the packed framing's handle) instead of `apns`. The tags give the
/// connection's addresses and TCP ports (client 51000, server 5223), as TLS would have them.
fn apns_frames(h: Hosts, recs: &[(u8, &[u8])]) -> Vec<Vec<u8>> {
    recs.iter()
        .map(|(ctl, b)| {
            let name: &[u8] = if ctl & 2 != 0 { b"apns_pack" } else { b"apns" };
            let (c, s) = ((h.client, 51000u32), (SERVER, 5223u32));
            let (src, dst) = if ctl & 1 != 0 { (s, c) } else { (c, s) };
            let mut f = Vec::with_capacity(64 + b.len());
            let mut tag = |t: u16, v: &[u8]| {
                f.extend_from_slice(&t.to_be_bytes());
                f.extend_from_slice(&(v.len() as u16).to_be_bytes());
                f.extend_from_slice(v);
            };
            tag(12, name); // EXP_PDU_TAG_DISSECTOR_NAME
            tag(20, &src.0.octets()); // EXP_PDU_TAG_IPV4_SRC
            tag(21, &dst.0.octets()); // EXP_PDU_TAG_IPV4_DST
            tag(24, &2u32.to_be_bytes()); // EXP_PDU_TAG_PORT_TYPE: EXP_PDU_PT_TCP
            tag(25, &src.1.to_be_bytes()); // EXP_PDU_TAG_SRC_PORT
            tag(26, &dst.1.to_be_bytes()); // EXP_PDU_TAG_DST_PORT
            tag(0, &[]); // EXP_PDU_TAG_END_OF_OPT
            f.extend_from_slice(b);
            f
        })
        .collect()
}

/// MPTCP: every record is one segment of one of four subflows (client addresses
/// [`CLIENT`] for 0 and 1, [`CLIENT_CELL`] for 2 and 3 (plus `conv`); ports 40000 + n → server 443).
/// `ctl` bit 0 = from the server; bits 1–2 = subflow; bit 3 = SYN (SYN/ACK from the server),
/// bit 4 = FIN, bit 5 = RST. The record's first byte is the options length (at most 40),
/// then the options, then the payload.
fn mptcp_frames(h: Hosts, recs: &[(u8, &[u8])]) -> Vec<Vec<u8>> {
    let mut next = [[0u32; 2]; 4];
    for (n, sides) in next.iter_mut().enumerate() {
        sides[0] = 0x1000_0000u32.wrapping_mul(n as u32 + 1);
        sides[1] = 0x8000_0000u32.wrapping_add(0x0100_0000 * n as u32);
    }
    let mut out = Vec::new();
    for (i, (ctl, b)) in recs.iter().enumerate() {
        let d = usize::from(ctl & 1);
        let sf = usize::from((ctl >> 1) & 3);
        let c = (if sf < 2 { h.client } else { h.cell }, 40000 + sf as u16);
        let s = (SERVER, 443);
        let (src, dst) = if d == 1 { (s, c) } else { (c, s) };
        let olen = b.first().map_or(0, |&l| usize::from(l).min(40)).min(b.len().saturating_sub(1));
        let (options, payload) = if b.is_empty() { (&b[..], &b[..]) } else { b[1..].split_at(olen) };
        let syn = ctl & 8 != 0;
        let fin = ctl & 0x10 != 0;
        let rst = ctl & 0x20 != 0;
        let mut flags = 0;
        if syn {
            flags |= SYN;
        }
        if fin {
            flags |= FIN;
        }
        if rst {
            flags |= RST;
        }
        // Every segment but the client's SYN acknowledges the other side.
        if !(syn && d == 0) {
            flags |= ACK;
        }
        if !payload.is_empty() {
            flags |= PSH;
        }
        let seq = next[sf][d];
        let ack = if flags & ACK != 0 { next[sf][1 - d] } else { 0 };
        out.push(tcp(src, dst, i as u16, seq, ack, flags, options, payload));
        next[sf][d] = seq.wrapping_add(payload.len() as u32).wrapping_add(u32::from(syn) + u32::from(fin));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let recs: Vec<(u8, &[u8])> = vec![(1, b"abc"), (0, b""), (0x82, &[0u8; 300])];
        assert_eq!(records(&encode_records(&recs)), recs);
        // A short last record takes the rest; fewer than 3 bytes left make no record.
        assert_eq!(records(&[5, 0, 10, 1, 2]), vec![(5, &[1u8, 2][..])]);
        assert!(records(&[5, 0]).is_empty());
    }

    #[test]
    fn ipv4_checksum_verifies() {
        let p = udp((CLIENT, 1), (SERVER, 2), 7, b"hello");
        let mut sum = 0;
        ones_complement(&mut sum, &p[..20]);
        assert_eq!(fold(sum), 0);
    }
}

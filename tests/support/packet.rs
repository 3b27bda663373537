//! Packet builders with correct checksums (Ethernet II, IPv4, IPv6, UDP, TCP)
//! and two conversation helpers: [`Flow`] (UDP) and [`TcpFlow`] (TCP with
//! sequence tracking for both directions).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

/// TCP flag bits (low 9 bits of the 16-bit offset/flags word).
pub const FIN: u16 = 0x01;
pub const SYN: u16 = 0x02;
pub const RST: u16 = 0x04;
pub const PSH: u16 = 0x08;
pub const ACK: u16 = 0x10;
pub const URG: u16 = 0x20;
pub const ECE: u16 = 0x40;
pub const CWR: u16 = 0x80;

/// RFC 1071 Internet checksum over the concatenation of `parts`.
pub fn checksum(parts: &[&[u8]]) -> u16 {
    let (mut sum, mut hi) = (0u64, None::<u8>);
    for &b in parts.iter().flat_map(|p| p.iter()) {
        match hi.take() {
            None => hi = Some(b),
            Some(h) => sum += u64::from(u16::from_be_bytes([h, b])),
        }
    }
    if let Some(h) = hi {
        sum += u64::from(h) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Pseudo-header for the UDP/TCP checksum (RFC 768/793 for v4, RFC 8200 §8.1 for v6).
fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut p = [s.octets(), d.octets()].concat();
            p.extend_from_slice(&[0, proto]);
            p.extend_from_slice(&(len as u16).to_be_bytes());
            p
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut p = [s.octets(), d.octets()].concat();
            p.extend_from_slice(&(len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, proto]);
            p
        }
        _ => panic!("mixed address families: {src} -> {dst}"),
    }
}

/// Deterministic, locally administered unicast MAC for an IP address:
/// `02:00:a:b:c:d` for IPv4, `02:06:` + FNV-1a-32 of the address for IPv6.
pub fn mac_for(ip: IpAddr) -> [u8; 6] {
    let (tag, tail) = match ip {
        IpAddr::V4(a) => (0x00, a.octets()),
        IpAddr::V6(a) => {
            let h = a.octets().iter().fold(0x811c_9dc5u32, |h, &b| {
                (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
            });
            (0x06, h.to_be_bytes())
        }
    };
    [0x02, tag, tail[0], tail[1], tail[2], tail[3]]
}

/// Ethernet II frame (no FCS, no padding to 60 bytes).
pub fn ethernet(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    [&dst[..], &src[..], &ethertype.to_be_bytes()[..], payload].concat()
}

/// Ethernet frame carrying the IP packet `ip` from `src` to `dst`, with MACs from [`mac_for`].
pub fn ethernet_ip(src: IpAddr, dst: IpAddr, ip: &[u8]) -> Vec<u8> {
    let ethertype = if src.is_ipv4() {
        ETHERTYPE_IPV4
    } else {
        ETHERTYPE_IPV6
    };
    ethernet(mac_for(dst), mac_for(src), ethertype, ip)
}

/// IP header fields that are not addresses/protocol. `ttl` is the IPv6 hop limit
/// and `tos` the IPv6 traffic class; `id`/`df` are IPv4 only, `flow_label` IPv6 only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpParams {
    pub ttl: u8,
    pub id: u16,
    pub df: bool,
    pub tos: u8,
    pub flow_label: u32,
}

impl Default for IpParams {
    fn default() -> Self {
        IpParams {
            ttl: 64,
            id: 1,
            df: true,
            tos: 0,
            flow_label: 0,
        }
    }
}

/// IPv4 packet with a 20-byte header and a correct header checksum.
pub fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, p: &IpParams, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).expect("IPv4 packet too long");
    let mut h = vec![0x45, p.tos];
    h.extend_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&p.id.to_be_bytes());
    h.extend_from_slice(&(if p.df { 0x4000u16 } else { 0 }).to_be_bytes());
    h.extend_from_slice(&[p.ttl, proto, 0, 0]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    let c = checksum(&[&h]);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

/// IPv6 packet (fixed header only, no extension headers).
pub fn ipv6(src: Ipv6Addr, dst: Ipv6Addr, next: u8, p: &IpParams, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(payload.len()).expect("IPv6 payload too long");
    let vtf = 6u32 << 28 | u32::from(p.tos) << 20 | (p.flow_label & 0xf_ffff);
    let mut h = vtf.to_be_bytes().to_vec();
    h.extend_from_slice(&len.to_be_bytes());
    h.extend_from_slice(&[next, p.ttl]);
    h.extend_from_slice(&src.octets());
    h.extend_from_slice(&dst.octets());
    h.extend_from_slice(payload);
    h
}

/// IPv4 or IPv6 packet, by the family of the addresses (which must match).
pub fn ip_packet(src: IpAddr, dst: IpAddr, proto: u8, p: &IpParams, payload: &[u8]) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => ipv4(s, d, proto, p, payload),
        (IpAddr::V6(s), IpAddr::V6(d)) => ipv6(s, d, proto, p, payload),
        _ => panic!("mixed address families: {src} -> {dst}"),
    }
}

/// UDP datagram (header + payload). With `with_checksum == false` the checksum
/// field is 0 ("none", legal for IPv4 only); a computed 0 is sent as 0xffff.
pub fn udp(src: SocketAddr, dst: SocketAddr, payload: &[u8], with_checksum: bool) -> Vec<u8> {
    let len = u16::try_from(8 + payload.len()).expect("UDP datagram too long");
    let mut d = [
        src.port().to_be_bytes(),
        dst.port().to_be_bytes(),
        len.to_be_bytes(),
        [0, 0],
    ]
    .concat();
    d.extend_from_slice(payload);
    if with_checksum {
        let c = match checksum(&[&pseudo_header(src.ip(), dst.ip(), PROTO_UDP, d.len()), &d]) {
            0 => 0xffff,
            c => c,
        };
        d[6..8].copy_from_slice(&c.to_be_bytes());
    }
    d
}

/// Pads TCP options with EOL/zero bytes to a multiple of 4 (RFC 9293 §3.1).
pub fn pad_options(opts: &[u8]) -> Vec<u8> {
    let mut o = opts.to_vec();
    o.resize(opts.len().div_ceil(4) * 4, 0);
    o
}

/// TCP options as bytes: concatenate with `[opt::mss(1460), opt::sack_perm()].concat()`.
pub mod opt {
    pub const EOL: u8 = 0;
    pub const NOP: u8 = 1;
    /// Any option: `kind`, `len = 2 + data.len()`, `data` (e.g. MPTCP is kind 30).
    pub fn raw(kind: u8, data: &[u8]) -> Vec<u8> {
        [&[kind, 2 + data.len() as u8][..], data].concat()
    }
    pub fn nop() -> Vec<u8> {
        vec![NOP]
    }
    pub fn mss(mss: u16) -> Vec<u8> {
        raw(2, &mss.to_be_bytes())
    }
    pub fn wscale(shift: u8) -> Vec<u8> {
        raw(3, &[shift])
    }
    pub fn sack_perm() -> Vec<u8> {
        raw(4, &[])
    }
    pub fn sack(blocks: &[(u32, u32)]) -> Vec<u8> {
        let d: Vec<u8> = blocks
            .iter()
            .flat_map(|&(l, r)| [l.to_be_bytes(), r.to_be_bytes()].concat())
            .collect();
        raw(5, &d)
    }
    pub fn timestamps(val: u32, ecr: u32) -> Vec<u8> {
        raw(8, &[val.to_be_bytes(), ecr.to_be_bytes()].concat())
    }
}

/// TCP header fields; `options` are padded by [`tcp`] with [`pad_options`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TcpHeader {
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub window: u16,
    pub urgent: u16,
    pub options: Vec<u8>,
}

/// TCP segment (header + payload) with a correct pseudo-header checksum.
pub fn tcp(src: SocketAddr, dst: SocketAddr, h: &TcpHeader, payload: &[u8]) -> Vec<u8> {
    let opts = pad_options(&h.options);
    assert!(opts.len() <= 40, "TCP options longer than 40 bytes");
    let off_flags = ((20 + opts.len() as u16) / 4) << 12 | (h.flags & 0x1ff);
    let mut s = [src.port().to_be_bytes(), dst.port().to_be_bytes()].concat();
    s.extend_from_slice(&h.seq.to_be_bytes());
    s.extend_from_slice(&h.ack.to_be_bytes());
    s.extend_from_slice(&off_flags.to_be_bytes());
    s.extend_from_slice(&h.window.to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(&h.urgent.to_be_bytes());
    s.extend_from_slice(&opts);
    s.extend_from_slice(payload);
    let c = checksum(&[&pseudo_header(src.ip(), dst.ip(), PROTO_TCP, s.len()), &s]);
    s[16..18].copy_from_slice(&c.to_be_bytes());
    s
}

/// Direction of a packet within a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    ToServer,
    ToClient,
}

impl Dir {
    fn idx(self) -> usize {
        self as usize
    }
    pub fn rev(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }
}

/// A client/server address pair that wraps transport segments into frames.
/// IPv4 ids count up per direction from `ip.id`.
#[derive(Clone, Debug)]
pub struct Flow {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub ip: IpParams,
    /// `false`: frames are bare IP packets (for `Capture::raw()`).
    pub ethernet: bool,
    /// `false`: UDP checksum field 0 (IPv4 only).
    pub udp_checksum: bool,
    ids: [u16; 2],
}

impl Flow {
    /// A UDP conversation; frames are Ethernet with checksummed UDP.
    pub fn udp(client: SocketAddr, server: SocketAddr) -> Flow {
        assert_eq!(client.is_ipv4(), server.is_ipv4(), "mixed address families");
        Flow {
            client,
            server,
            ip: IpParams::default(),
            ethernet: true,
            udp_checksum: true,
            ids: [0; 2],
        }
    }
    /// Emit bare IP packets instead of Ethernet frames.
    pub fn raw_ip(mut self) -> Self {
        self.ethernet = false;
        self
    }
    /// Send UDP with a zero checksum.
    pub fn without_checksum(mut self) -> Self {
        self.udp_checksum = false;
        self
    }
    /// `(source, destination)` for a direction.
    pub fn endpoints(&self, dir: Dir) -> (SocketAddr, SocketAddr) {
        match dir {
            Dir::ToServer => (self.client, self.server),
            Dir::ToClient => (self.server, self.client),
        }
    }
    /// Wraps an already built transport segment in IP (+ Ethernet).
    pub fn wrap(&mut self, dir: Dir, proto: u8, segment: &[u8]) -> Vec<u8> {
        let (s, d) = self.endpoints(dir);
        let params = IpParams {
            id: self.ip.id.wrapping_add(self.ids[dir.idx()]),
            ..self.ip.clone()
        };
        self.ids[dir.idx()] = self.ids[dir.idx()].wrapping_add(1);
        let ip = ip_packet(s.ip(), d.ip(), proto, &params, segment);
        if self.ethernet {
            ethernet_ip(s.ip(), d.ip(), &ip)
        } else {
            ip
        }
    }
    /// A UDP datagram in direction `dir`.
    pub fn send(&mut self, dir: Dir, payload: &[u8]) -> Vec<u8> {
        let (s, d) = self.endpoints(dir);
        let seg = udp(s, d, payload, self.udp_checksum);
        self.wrap(dir, PROTO_UDP, &seg)
    }
    /// Client -> server datagram.
    pub fn packet(&mut self, payload: &[u8]) -> Vec<u8> {
        self.send(Dir::ToServer, payload)
    }
    /// Server -> client datagram.
    pub fn reply(&mut self, payload: &[u8]) -> Vec<u8> {
        self.send(Dir::ToClient, payload)
    }
}

/// A TCP connection that tracks the next sequence number of each direction;
/// every segment with ACK acknowledges all the peer has sent so far.
#[derive(Clone, Debug)]
pub struct TcpFlow {
    pub flow: Flow,
    /// Next sequence number, indexed by `Dir` (ToServer = client's).
    pub next: [u32; 2],
    pub window: u16,
}

impl TcpFlow {
    pub const CLIENT_ISN: u32 = 0x1000_0000;
    pub const SERVER_ISN: u32 = 0x2000_0000;

    pub fn new(client: SocketAddr, server: SocketAddr) -> TcpFlow {
        TcpFlow {
            flow: Flow::udp(client, server),
            next: [Self::CLIENT_ISN, Self::SERVER_ISN],
            window: 65535,
        }
    }
    /// Sets the initial sequence numbers (before the handshake).
    pub fn isn(mut self, client: u32, server: u32) -> Self {
        self.next = [client, server];
        self
    }
    /// Emit bare IP packets instead of Ethernet frames.
    pub fn raw_ip(mut self) -> Self {
        self.flow.ethernet = false;
        self
    }
    /// Next sequence number the sender in `dir` will use.
    pub fn seq(&self, dir: Dir) -> u32 {
        self.next[dir.idx()]
    }
    /// Builds a segment with explicit header fields; no state changes
    /// (for retransmissions, out-of-order and bogus segments).
    pub fn segment_with(&mut self, dir: Dir, h: &TcpHeader, payload: &[u8]) -> Vec<u8> {
        let (s, d) = self.flow.endpoints(dir);
        let seg = tcp(s, d, h, payload);
        self.flow.wrap(dir, PROTO_TCP, &seg)
    }
    /// Next segment in `dir`; advances that direction by payload + SYN + FIN.
    pub fn segment(&mut self, dir: Dir, flags: u16, payload: &[u8], opts: &[u8]) -> Vec<u8> {
        let seq = self.next[dir.idx()];
        let ack = if flags & ACK != 0 {
            self.next[dir.rev().idx()]
        } else {
            0
        };
        let h = TcpHeader {
            seq,
            ack,
            flags,
            window: self.window,
            urgent: 0,
            options: opts.to_vec(),
        };
        let used = payload.len() as u32 + u32::from(flags & SYN != 0) + u32::from(flags & FIN != 0);
        self.next[dir.idx()] = seq.wrapping_add(used);
        self.segment_with(dir, &h, payload)
    }
    /// SYN, SYN/ACK, ACK with the given options on each.
    pub fn handshake(
        &mut self,
        syn_opts: &[u8],
        synack_opts: &[u8],
        ack_opts: &[u8],
    ) -> Vec<Vec<u8>> {
        vec![
            self.segment(Dir::ToServer, SYN, b"", syn_opts),
            self.segment(Dir::ToClient, SYN | ACK, b"", synack_opts),
            self.segment(Dir::ToServer, ACK, b"", ack_opts),
        ]
    }
    /// PSH/ACK data segment.
    pub fn send(&mut self, dir: Dir, payload: &[u8], opts: &[u8]) -> Vec<u8> {
        self.segment(dir, PSH | ACK, payload, opts)
    }
    /// Pure ACK.
    pub fn ack(&mut self, dir: Dir, opts: &[u8]) -> Vec<u8> {
        self.segment(dir, ACK, b"", opts)
    }
    /// FIN/ACK.
    pub fn fin(&mut self, dir: Dir) -> Vec<u8> {
        self.segment(dir, FIN | ACK, b"", &[])
    }
    /// RST/ACK.
    pub fn rst(&mut self, dir: Dir) -> Vec<u8> {
        self.segment(dir, RST | ACK, b"", &[])
    }
    /// Orderly close started by the client: FIN/ACK, FIN/ACK, ACK.
    pub fn close(&mut self) -> Vec<Vec<u8>> {
        vec![
            self.fin(Dir::ToServer),
            self.fin(Dir::ToClient),
            self.ack(Dir::ToServer, &[]),
        ]
    }
}

//! Finding the TCP segment in a whole captured frame, without Wireshark's dissectors.
//!
//! The post-dissectors (MPTCP annotations, APNs courier by server name) read the frame's
//! own bytes, so they work whatever Wireshark's TCP/MPTCP/TLS preferences say. [`tcp_segment`] walks the link layer
//! given by the capture's encapsulation, then IPv4 or IPv6 (with extension headers) and the
//! TCP header, checking every length against the captured bytes.
//!
//! Not handled (the frame is skipped): IP fragments, IP-in-IP and other tunnels, link
//! layers other than those of [`Link`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Link layers understood (Wireshark's `WTAP_ENCAP_*` mapped by the epan layer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Ethernet II, with any number of 802.1Q / 802.1ad tags.
    Ethernet,
    /// Bare IPv4 or IPv6 (version from the first nibble).
    RawIp,
    RawIp4,
    RawIp6,
    /// Linux cooked capture v1 (16-byte header) and v2 (20-byte header).
    Sll,
    Sll2,
    /// BSD loopback: a 4-byte address family in host order (NULL) or network order (LOOP).
    Null,
    Loop,
}

/// The parts of a TCP segment the MPTCP analysis needs, with offsets into the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpView<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    /// The low 8 flag bits (FIN 0x01 … CWR 0x80).
    pub flags: u8,
    pub seq: u32,
    pub ack: u32,
    /// Offset of the TCP header in the frame.
    pub tcp_offset: usize,
    /// TCP header length (data offset × 4).
    pub header_len: usize,
    /// The options area (header bytes after the fixed 20).
    pub options: &'a [u8],
    /// Payload length on the wire, from the IP length (may exceed what was captured).
    pub payload_len: u32,
    /// The captured part of the payload.
    pub payload: &'a [u8],
}

fn be16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(o..o.checked_add(2)?)?.try_into().ok()?))
}
fn be32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(o..o.checked_add(4)?)?.try_into().ok()?))
}

const ETH_IPV4: u16 = 0x0800;
const ETH_IPV6: u16 = 0x86dd;

/// The TCP segment in `frame` (captured bytes of a whole frame of link type `link`), or
/// None when the frame is not an unfragmented TCP segment over IPv4/IPv6.
pub fn tcp_segment(link: Link, frame: &[u8]) -> Option<TcpView<'_>> {
    let (ethertype, l3) = match link {
        Link::Ethernet => {
            let mut t = be16(frame, 12)?;
            let mut off = 14;
            let mut tags = 0;
            while (t == 0x8100 || t == 0x88a8 || t == 0x9100) && tags < 4 {
                t = be16(frame, off + 2)?;
                off += 4;
                tags += 1;
            }
            (t, off)
        }
        Link::RawIp => match frame.first()? >> 4 {
            4 => (ETH_IPV4, 0),
            6 => (ETH_IPV6, 0),
            _ => return None,
        },
        Link::RawIp4 => (ETH_IPV4, 0),
        Link::RawIp6 => (ETH_IPV6, 0),
        Link::Sll => (be16(frame, 14)?, 16),
        Link::Sll2 => (be16(frame, 0)?, 20),
        Link::Null | Link::Loop => {
            let b: [u8; 4] = frame.get(..4)?.try_into().ok()?;
            let af = if link == Link::Loop {
                u32::from_be_bytes(b)
            } else {
                // Host order of the capturing machine: take whichever reading is small.
                let le = u32::from_le_bytes(b);
                if le < 0x100 {
                    le
                } else {
                    u32::from_be_bytes(b)
                }
            };
            match af {
                2 => (ETH_IPV4, 4),
                24 | 28 | 30 => (ETH_IPV6, 4),
                _ => return None,
            }
        }
    };
    let ip = frame.get(l3..)?;
    let (src, dst, l4, l4_len) = match ethertype {
        ETH_IPV4 => {
            let vihl = *ip.first()?;
            if vihl >> 4 != 4 {
                return None;
            }
            let ihl = (vihl & 0x0f) as usize * 4;
            let total = be16(ip, 2)? as usize;
            let frag = be16(ip, 6)?;
            if ihl < 20 || total < ihl || frag & 0x3fff != 0 || *ip.get(9)? != 6 {
                return None;
            }
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (
                IpAddr::V4(Ipv4Addr::from(s)),
                IpAddr::V4(Ipv4Addr::from(d)),
                ihl,
                total - ihl,
            )
        }
        ETH_IPV6 => {
            if *ip.first()? >> 4 != 6 {
                return None;
            }
            let plen = be16(ip, 4)? as usize;
            let mut next = *ip.get(6)?;
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let mut off = 40;
            let mut hops = 0;
            // Hop-by-hop, routing, destination options; a fragment header ends the walk.
            while matches!(next, 0 | 43 | 60) && hops < 8 {
                let n = *ip.get(off)?;
                let len = (*ip.get(off + 1)? as usize + 1) * 8;
                next = n;
                off += len;
                hops += 1;
            }
            if next != 6 || off - 40 > plen {
                return None;
            }
            (
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(d)),
                off,
                plen - (off - 40),
            )
        }
        _ => return None,
    };
    let tcp = ip.get(l4..)?;
    let doff = (*tcp.get(12)? >> 4) as usize * 4;
    if doff < 20 || doff > l4_len {
        return None;
    }
    let options = tcp.get(20..doff)?;
    let payload_len = (l4_len - doff) as u32;
    let cap_end = tcp.len().min(l4_len);
    let payload = tcp.get(doff..cap_end.max(doff)).unwrap_or(&[]);
    Some(TcpView {
        src,
        dst,
        sport: be16(tcp, 0)?,
        dport: be16(tcp, 2)?,
        flags: *tcp.get(13)?,
        seq: be32(tcp, 4)?,
        ack: be32(tcp, 8)?,
        tcp_offset: l3 + l4,
        header_len: doff,
        options,
        payload_len,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp_hdr(opts: &[u8], flags: u8) -> Vec<u8> {
        let doff = (20 + opts.len()) / 4;
        let mut t = vec![0x30, 0x39, 0x01, 0xbb, 0, 0, 0, 7, 0, 0, 0, 9, (doff as u8) << 4, flags, 0xff, 0xff, 0, 0, 0, 0];
        t.extend_from_slice(opts);
        t
    }

    fn ipv4(payload: &[u8]) -> Vec<u8> {
        let total = (20 + payload.len()) as u16;
        let mut h = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        h[2..4].copy_from_slice(&total.to_be_bytes());
        h.extend_from_slice(payload);
        h
    }

    #[test]
    fn ethernet_vlan_ipv4() {
        let mut seg = tcp_hdr(&[30, 4, 0x20, 0x01], 0x18);
        seg.extend_from_slice(b"hello");
        let ip = ipv4(&seg);
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x81, 0x00, 0, 5, 0x08, 0x00]);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&[0; 6]); // Ethernet padding is not payload
        let v = tcp_segment(Link::Ethernet, &f).unwrap();
        assert_eq!((v.sport, v.dport, v.seq, v.ack, v.flags), (12345, 443, 7, 9, 0x18));
        assert_eq!(v.options, &[30, 4, 0x20, 0x01]);
        assert_eq!((v.payload_len, v.payload), (5, &b"hello"[..]));
        assert_eq!(v.tcp_offset, 18 + 20);
        assert_eq!(v.src, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)));
    }

    #[test]
    fn truncated_payload_keeps_wire_length() {
        let mut seg = tcp_hdr(&[], 0x10);
        seg.extend_from_slice(&[7; 100]);
        let ip = ipv4(&seg);
        let v = tcp_segment(Link::RawIp, &ip[..50]).unwrap();
        assert_eq!(v.payload_len, 100);
        assert_eq!(v.payload.len(), 10);
    }

    #[test]
    fn ipv6_with_ext_header_and_cooked() {
        let seg = tcp_hdr(&[1, 1, 1, 1], 0x02);
        let mut ip = vec![0x60, 0, 0, 0];
        ip.extend_from_slice(&((8 + seg.len()) as u16).to_be_bytes());
        ip.extend_from_slice(&[60, 64]); // destination options next
        ip.extend_from_slice(&[0; 15]);
        ip.push(1);
        ip.extend_from_slice(&[0; 15]);
        ip.push(2);
        ip.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]);
        ip.extend_from_slice(&seg);
        let mut sll2 = vec![0x86, 0xdd];
        sll2.extend_from_slice(&[0; 18]);
        sll2.extend_from_slice(&ip);
        let v = tcp_segment(Link::Sll2, &sll2).unwrap();
        assert_eq!(v.src, "::1".parse::<IpAddr>().unwrap());
        assert_eq!((v.flags, v.payload_len, v.options.len()), (2, 0, 4));
        let mut null = 24u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip);
        assert!(tcp_segment(Link::Null, &null).is_some());
        let mut lo = 24u32.to_be_bytes().to_vec();
        lo.extend_from_slice(&ip);
        assert!(tcp_segment(Link::Loop, &lo).is_some());
    }

    #[test]
    fn rejects_non_tcp_fragments_and_bad_lengths() {
        let seg = tcp_hdr(&[], 0x10);
        let mut ip = ipv4(&seg);
        ip[9] = 17;
        assert!(tcp_segment(Link::RawIp4, &ip).is_none());
        let mut ip = ipv4(&seg);
        ip[6] = 0x20; // MF
        assert!(tcp_segment(Link::RawIp4, &ip).is_none());
        let mut ip = ipv4(&seg);
        ip[20 + 12] = 0xf0; // data offset 60 > segment
        assert!(tcp_segment(Link::RawIp4, &ip).is_none());
        for n in 0..ip.len() {
            let _ = tcp_segment(Link::Ethernet, &ip[..n]);
            let _ = tcp_segment(Link::RawIp, &ip[..n]);
        }
    }
}

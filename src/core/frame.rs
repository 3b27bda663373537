//! Finding the TCP segment in a whole captured frame, without Wireshark's dissectors.
//!
//! The post-dissectors (MPTCP annotations, APNs courier by server name) read the frame's
//! own bytes, so they work whatever Wireshark's TCP/MPTCP/TLS preferences say. [`tcp_segment`] walks the link layer
//! given by the capture's encapsulation, then IPv4 or IPv6 (with extension headers) and the
//! TCP header, checking every length against the captured bytes.
//!
//! Wi-Fi: an 802.11 data frame in clear (plain, or behind a radiotap or PPI header) is read
//! through its LLC/SNAP header; an encrypted one (Protected bit) is not, but the bytes
//! Wireshark decrypted with the user's keys are, through [`tcp_segment_llc`] (the epan layer
//! hands it the frame's other data sources). Apple's PKTAP (macOS `tcpdump -i pktap`,
//! `rvictl` devices) is read through its header to the link layer it names.
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
    /// IEEE 802.11 frames from the 802.11 header on (also Wireshark's "802.11 plus radio
    /// information", whose radio information is not in the bytes).
    Ieee80211,
    /// 802.11 behind a radiotap header (its length at bytes 2–3, little-endian).
    Radiotap,
    /// 802.11 behind a PPI header (its length at bytes 2–3, little-endian).
    Ppi,
    /// Other 802.11 encapsulations (Prism, AVS, NetMon radio headers): not read, but their
    /// decrypted payload is ([`Link::may_decrypt`]).
    Wifi,
    /// Apple PKTAP: a header (its length at bytes 0–3, record type at 4–7, the inner DLT at
    /// 8–11, in the capturing machine's order: little-endian on every Mac) before the inner
    /// link layer.
    Pktap,
}

impl Link {
    /// Whether Wireshark may have decrypted this link layer's payload into a data source of
    /// its own (802.11 with WEP/WPA keys).
    pub fn may_decrypt(self) -> bool {
        matches!(self, Link::Ieee80211 | Link::Radiotap | Link::Ppi | Link::Wifi)
    }
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

fn le16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(o..o.checked_add(2)?)?.try_into().ok()?))
}
fn le32(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(o..o.checked_add(4)?)?.try_into().ok()?))
}

impl TcpView<'_> {
    /// The same view with its offsets `by` bytes further into a larger buffer.
    fn shifted(mut self, by: usize) -> Self {
        self.tcp_offset += by;
        self
    }
}

/// An 802.11 data frame in clear starting at `at`: (ethertype, offset of the layer-3
/// header) through its LLC/SNAP header. None for management/control frames, null data,
/// fragments after the first, A-MSDUs and encrypted (Protected) frames.
fn ieee80211(frame: &[u8], at: usize) -> Option<(u16, usize)> {
    let fc0 = *frame.get(at)?;
    let flags = *frame.get(at + 1)?;
    let (ftype, subtype) = ((fc0 >> 2) & 3, fc0 >> 4);
    // Data frames only; subtypes with bit 2 set carry no data (null, QoS null, CF-ack/poll).
    if ftype != 2 || subtype & 0x4 != 0 || flags & 0x40 != 0 {
        return None;
    }
    let to_from_ds = flags & 0x03;
    let qos = subtype & 0x8 != 0;
    let mut len = 24 + if to_from_ds == 3 { 6 } else { 0 };
    if qos {
        // A-MSDU present (QoS control bit 7): several subframes, not read.
        if *frame.get(at + len)? & 0x80 != 0 {
            return None;
        }
        len += 2;
        // +HTC (Order bit on a QoS data frame): a 4-byte HT control field.
        if flags & 0x80 != 0 {
            len += 4;
        }
    }
    // A fragment other than the first carries no LLC header.
    let seq_ctl = le16(frame, at + 22)?;
    if seq_ctl & 0x000f != 0 {
        return None;
    }
    llc(frame, at + len)
}

/// LLC/SNAP (AA AA 03, OUI 00-00-00 or 00-00-F8) at `at`: (ethertype, offset after it).
fn llc(b: &[u8], at: usize) -> Option<(u16, usize)> {
    let h = b.get(at..at + 6)?;
    if h[..3] != [0xaa, 0xaa, 0x03] || !(h[3..6] == [0, 0, 0] || h[3..6] == [0, 0, 0xf8]) {
        return None;
    }
    Some((be16(b, at + 6)?, at + 8))
}

/// The TCP segment in bytes that start with an LLC/SNAP header: an 802.11 payload as
/// Wireshark decrypted it (its "Decrypted CCMP/TKIP/WEP data" data source).
pub fn tcp_segment_llc(data: &[u8]) -> Option<TcpView<'_>> {
    let (ethertype, l3) = llc(data, 0)?;
    layer3(data, ethertype, l3)
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
        Link::Ieee80211 => ieee80211(frame, 0)?,
        Link::Wifi => return None,
        Link::Radiotap | Link::Ppi => ieee80211(frame, le16(frame, 2)? as usize)?,
        Link::Pktap => {
            // struct pktap_header: pth_length, pth_type_next (1: a packet), pth_dlt, …
            let hdr = le32(frame, 0)? as usize;
            if le32(frame, 4)? != 1 {
                return None;
            }
            let inner = match le32(frame, 8)? {
                1 => Link::Ethernet,
                0 => Link::Null,
                108 => Link::Loop,
                // DLT_RAW is 12 on macOS (14 on OpenBSD), LINKTYPE_RAW 101.
                12 | 14 | 101 => Link::RawIp,
                105 => Link::Ieee80211,
                127 => Link::Radiotap,
                _ => return None,
            };
            if hdr < 12 {
                return None;
            }
            let v = tcp_segment(inner, frame.get(hdr..)?)?;
            return Some(v.shifted(hdr));
        }
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
    layer3(frame, ethertype, l3)
}

/// The TCP segment of the IPv4/IPv6 packet at `l3` (ethertype `ethertype`) in `frame`.
fn layer3(frame: &[u8], ethertype: u16, l3: usize) -> Option<TcpView<'_>> {
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

    /// An 802.11 data frame (`fc0` 0x08 data / 0x88 QoS data, `flags`) around `ip`.
    fn wifi(fc0: u8, flags: u8, ip: &[u8]) -> Vec<u8> {
        let mut f = vec![fc0, flags, 0, 0];
        f.extend_from_slice(&[0x11; 18]); // addresses 1–3
        f.extend_from_slice(&[0x10, 0x00]); // sequence 1, fragment 0
        if flags & 3 == 3 {
            f.extend_from_slice(&[0x22; 6]);
        }
        if fc0 & 0x80 != 0 {
            f.extend_from_slice(&[0x05, 0x00]);
            if flags & 0x80 != 0 {
                f.extend_from_slice(&[0; 4]);
            }
        }
        f.extend_from_slice(&[0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
        f.extend_from_slice(ip);
        f
    }

    #[test]
    fn wifi_radiotap_ppi_and_decrypted() {
        let mut seg = tcp_hdr(&[30, 4, 0x20, 0x01], 0x18);
        seg.extend_from_slice(b"hi");
        let ip = ipv4(&seg);
        for (fc0, flags, hdr) in [(0x08, 0x01, 24), (0x08, 0x02, 24), (0x88, 0x01, 26), (0x88, 0x81, 30), (0x08, 0x03, 30)] {
            let f = wifi(fc0, flags, &ip);
            let v = tcp_segment(Link::Ieee80211, &f).unwrap_or_else(|| panic!("{fc0:#x} {flags:#x}"));
            assert_eq!((v.tcp_offset, v.payload), (hdr + 8 + 20, &b"hi"[..]));
            let mut rt = vec![0, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            rt.extend_from_slice(&f);
            assert_eq!(tcp_segment(Link::Radiotap, &rt).unwrap().tcp_offset, 12 + hdr + 8 + 20);
            assert_eq!(tcp_segment(Link::Ppi, &rt).unwrap().tcp_offset, 12 + hdr + 8 + 20);
        }
        // Protected, null data, management frames, A-MSDU, later fragments: not read.
        assert!(tcp_segment(Link::Ieee80211, &wifi(0x08, 0x41, &ip)).is_none());
        assert!(tcp_segment(Link::Ieee80211, &wifi(0x48, 0x01, &ip)).is_none());
        assert!(tcp_segment(Link::Ieee80211, &wifi(0x80, 0x00, &ip)).is_none());
        let mut amsdu = wifi(0x88, 0x01, &ip);
        amsdu[24] = 0x85;
        assert!(tcp_segment(Link::Ieee80211, &amsdu).is_none());
        let mut frag = wifi(0x08, 0x01, &ip);
        frag[22] = 0x11;
        assert!(tcp_segment(Link::Ieee80211, &frag).is_none());
        assert!(tcp_segment(Link::Wifi, &wifi(0x08, 0x01, &ip)).is_none());
        // Decrypted payload: LLC/SNAP then IP.
        let mut dec = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
        dec.extend_from_slice(&ip);
        let v = tcp_segment_llc(&dec).unwrap();
        assert_eq!((v.tcp_offset, v.sport, v.options.len()), (28, 12345, 4));
        assert!(tcp_segment_llc(&ip).is_none());
        for n in 0..dec.len() {
            let _ = tcp_segment_llc(&dec[..n]);
        }
        let f = wifi(0x88, 0x81, &ip);
        for n in 0..f.len() {
            let _ = tcp_segment(Link::Ieee80211, &f[..n]);
            let _ = tcp_segment(Link::Radiotap, &f[..n]);
        }
    }

    #[test]
    fn pktap_to_its_inner_link_layer() {
        let seg = tcp_hdr(&[], 0x10);
        let ip = ipv4(&seg);
        let pktap = |dlt: u32, inner: &[u8]| {
            let mut h = vec![0u8; 108];
            h[0..4].copy_from_slice(&108u32.to_le_bytes());
            h[4..8].copy_from_slice(&1u32.to_le_bytes());
            h[8..12].copy_from_slice(&dlt.to_le_bytes());
            h.extend_from_slice(inner);
            h
        };
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x08, 0x00]);
        eth.extend_from_slice(&ip);
        assert_eq!(tcp_segment(Link::Pktap, &pktap(1, &eth)).unwrap().tcp_offset, 108 + 14 + 20);
        assert_eq!(tcp_segment(Link::Pktap, &pktap(12, &ip)).unwrap().tcp_offset, 108 + 20);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip);
        assert_eq!(tcp_segment(Link::Pktap, &pktap(0, &null)).unwrap().tcp_offset, 108 + 4 + 20);
        // Not a packet record, an unknown DLT, a header length too short or past the end.
        let mut rec = pktap(1, &eth);
        rec[4] = 0;
        assert!(tcp_segment(Link::Pktap, &rec).is_none());
        assert!(tcp_segment(Link::Pktap, &pktap(147, &eth)).is_none());
        let mut short = pktap(1, &eth);
        short[0] = 4;
        assert!(tcp_segment(Link::Pktap, &short).is_none());
        let mut long = pktap(1, &eth);
        long[0..4].copy_from_slice(&100_000u32.to_le_bytes());
        assert!(tcp_segment(Link::Pktap, &long).is_none());
        let p = pktap(1, &eth);
        for n in 0..p.len() {
            let _ = tcp_segment(Link::Pktap, &p[..n]);
        }
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

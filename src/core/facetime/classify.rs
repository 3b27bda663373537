//! Demultiplexing FaceTime's shared UDP port (RFC 7983 style, protocol notes §3).
//!
//! ```text
//! first byte   0..=3     STUN (≥ 20 bytes, header checks below)
//!                        or SNATMAP (exactly 16 bytes, type word 1 or 2)
//!              128..=191 RTP/RTCP: RTCP when the second byte is 192..=223 (RFC 5761 §4)
//!              'A'..='Z', 'a'..='z'  SIP (request line or status line)
//!              anything else         Unknown
//! ```
//!
//! Precedence: the classes are disjoint by construction, so the order of the tests never
//! changes an answer. SNATMAP's type word (1 or 2, big-endian) makes its first byte 0, so
//! it can never be RTP/RTCP (first byte 128–191) or SIP (a letter). It shares the STUN
//! first-byte range, but a STUN header is 20 bytes and SNATMAP is exactly 16, so no payload
//! passes both. A 16-byte RTP packet (12-byte header + 4 payload bytes) is therefore RTP,
//! and a 16-byte packet starting 0x00 that is not a valid SNATMAP message (type 1 without
//! the 0xAAAA trailer, any other type) is Unknown.
//!
//! Cost: `classify` reads a fixed number of header bytes, except for the SIP start line
//! (a scan for the first LF, at most `sip::MAX_START_LINE` bytes) and the RTCP compound walk
//! (one 4-byte header per packet, at most `len / 4` steps). No allocation.

use super::{rtp, sip};
use crate::core::snatmap;

/// What a packet on the shared port is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Sip,
    Stun,
    Snatmap,
    Rtp,
    Rtcp,
    Unknown,
}

impl Class {
    pub fn name(&self) -> &'static str {
        match self {
            Class::Sip => "SIP",
            Class::Stun => "STUN",
            Class::Snatmap => "SNATMAP",
            Class::Rtp => "RTP",
            Class::Rtcp => "RTCP",
            Class::Unknown => "Unknown",
        }
    }
}

/// RFC 5389 magic cookie.
pub const STUN_MAGIC_COOKIE: u32 = 0x2112_A442;
pub const STUN_HEADER_LEN: usize = 20;
/// RFC 3489 message types (no cookie): Binding Request/Response/Error Response,
/// Shared Secret Request/Response/Error Response.
pub const CLASSIC_STUN_TYPES: [u16; 6] = [0x0001, 0x0101, 0x0111, 0x0002, 0x0102, 0x0112];

/// Which STUN generation a header belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StunKind {
    /// RFC 5389/8489: magic cookie present.
    Rfc5389,
    /// RFC 3489 "classic" STUN: no cookie, one of [`CLASSIC_STUN_TYPES`].
    Classic,
}

/// The STUN header test: first byte 0–3, at least 20 bytes, message length equal to the
/// bytes after the header and a multiple of 4; then either the magic cookie, or (classic)
/// a known RFC 3489 message type.
pub fn stun_kind(p: &[u8]) -> Option<StunKind> {
    let h = p.get(..STUN_HEADER_LEN)?;
    if h[0] > 3 {
        return None;
    }
    let msg_type = u16::from_be_bytes([h[0], h[1]]);
    let msg_len = u16::from_be_bytes([h[2], h[3]]) as usize;
    if msg_len != p.len() - STUN_HEADER_LEN || msg_len & 3 != 0 {
        return None;
    }
    if u32::from_be_bytes([h[4], h[5], h[6], h[7]]) == STUN_MAGIC_COOKIE {
        Some(StunKind::Rfc5389)
    } else if CLASSIC_STUN_TYPES.contains(&msg_type) {
        Some(StunKind::Classic)
    } else {
        None
    }
}

/// Walks the STUN attributes (type, length, value padded to 4 bytes). Returns the number
/// of attributes when they cover the message exactly. Bounded by the message length.
pub fn stun_attributes(p: &[u8]) -> Option<usize> {
    let body = p.get(STUN_HEADER_LEN..)?;
    let mut pos = 0usize;
    let mut n = 0usize;
    while pos < body.len() {
        let h = body.get(pos..pos + 4)?;
        let len = u16::from_be_bytes([h[2], h[3]]) as usize;
        let padded = (len + 3) & !3;
        pos = pos.checked_add(4 + padded)?;
        n += 1;
    }
    (pos == body.len()).then_some(n)
}

/// RTP/RTCP split for a first byte in 128–191.
fn rtp_or_rtcp(p: &[u8]) -> Class {
    match p.get(1) {
        Some(192..=223) => {
            let Some(w) = rtp::walk_rtcp(p) else {
                return Class::Unknown;
            };
            let trailing = p.len() - w.covered;
            // Exact walk, or an SRTCP-shaped tail (E|index word + an authentication tag of
            // at most 16 bytes) behind a compound that starts with SR/RR.
            if trailing == 0 || ((4..=20).contains(&trailing) && matches!(w.first_type, 200 | 201))
            {
                Class::Rtcp
            } else {
                Class::Unknown
            }
        }
        Some(_) if rtp::parse_rtp(p).is_ok() => Class::Rtp,
        _ => Class::Unknown,
    }
}

/// Classifies one UDP payload on the FaceTime port. Cheap and allocation-free.
pub fn classify(p: &[u8]) -> Class {
    let Some(&b0) = p.first() else {
        return Class::Unknown;
    };
    match b0 {
        0..=3 => {
            if stun_kind(p).is_some() {
                Class::Stun
            } else if snatmap::looks_like(p) {
                Class::Snatmap
            } else {
                Class::Unknown
            }
        }
        128..=191 => rtp_or_rtcp(p),
        b'A'..=b'Z' | b'a'..=b'z' => {
            if sip::parse_start_line(p).is_ok() {
                Class::Sip
            } else {
                Class::Unknown
            }
        }
        _ => Class::Unknown,
    }
}

/// The class of a payload that the capture's snap length cut short (`wire_len`, the length
/// on the wire, exceeds the bytes present): [`classify`] first; when that finds nothing, what
/// the bytes that are there say as far as they go, so that the packet is handed to its
/// protocol's own dissector and that dissector's truncation handling applies
/// ("[Packet size limited during capture]"), as in stock Wireshark:
/// - SIP: a status line's `SIP/2.0 ` or a known method and a space, at the start;
/// - STUN: a header whose message length is the bytes after it on the wire (a multiple of 4),
///   with the magic cookie or, classic STUN, a known RFC 3489 type;
/// - RTP/RTCP (first byte 128–191): the 12-byte fixed header is there.
pub fn classify_cut(p: &[u8], wire_len: usize) -> Class {
    let c = classify(p);
    if c != Class::Unknown || p.len() >= wire_len {
        return c;
    }
    match p.first() {
        Some(b'A'..=b'Z' | b'a'..=b'z') if sip_start_prefix(p) => Class::Sip,
        Some(0..=3) if stun_header_cut(p, wire_len) => Class::Stun,
        // RTP's fixed header is there, its CSRCs, extension or padding run past the cut; or
        // an RTCP compound whose walk runs past it.
        Some(128..=191) if p.len() >= rtp::RTP_FIXED_LEN => match p[1] {
            192..=223 => Class::Rtcp,
            _ => Class::Rtp,
        },
        _ => Class::Unknown,
    }
}

fn sip_start_prefix(p: &[u8]) -> bool {
    let v = sip::VERSION.len();
    if p.len() > v && p[..v].eq_ignore_ascii_case(sip::VERSION) && p[v] == b' ' {
        return true;
    }
    p.iter().take(17).position(|&b| b == b' ').is_some_and(|sp| sip::Method::known(&p[..sp]).is_some())
}

fn stun_header_cut(p: &[u8], wire_len: usize) -> bool {
    let Some(h) = p.get(..8) else { return false };
    let msg_type = u16::from_be_bytes([h[0], h[1]]);
    let msg_len = u16::from_be_bytes([h[2], h[3]]) as usize;
    if wire_len < STUN_HEADER_LEN || msg_len != wire_len - STUN_HEADER_LEN || msg_len & 3 != 0 {
        return false;
    }
    u32::from_be_bytes([h[4], h[5], h[6], h[7]]) == STUN_MAGIC_COOKIE || CLASSIC_STUN_TYPES.contains(&msg_type)
}

/// How much a payload alone says about its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    /// Enough to adopt a flow from content alone.
    Strong,
    /// Plausible, but random or other protocols' bytes pass too often.
    Weak,
    /// Not one of ours.
    None,
}

/// Classification plus how strong the evidence is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub class: Class,
    pub strength: Strength,
}

/// The heuristic's view of a payload:
/// - SIP is Strong when the whole message parses with Call-ID, CSeq, From and To, the
///   headers end with an empty line and Content-Length (if present) fits; a bare start line
///   is Weak.
/// - STUN with the magic cookie is Strong when its attributes walk exactly; classic STUN is
///   Strong only with at least one attribute walking exactly (a bare 20-byte Binding Request
///   is Weak: any 20 bytes starting 00 01 00 00 pass).
/// - SNATMAP requests (type 1 and the 0xAAAA trailer: 64 fixed bits) are Strong; responses
///   (32 fixed bits and a length) are Weak — the request has already adopted the flow.
/// - RTP is always Weak: two version bits and lengths that fit pass for about a quarter of
///   random datagrams. RTCP is Weak too (an exact compound walk is good evidence, but
///   Wireshark's own RTCP heuristic already covers RTCP-only flows).
pub fn probe(p: &[u8]) -> Probe {
    let class = classify(p);
    let strength = match class {
        Class::Unknown => Strength::None,
        Class::Sip => match sip::parse_sip(p) {
            Ok(m)
                if m.has_required_headers()
                    && m.body.is_some()
                    && !m.anomalies.contains(&sip::SipAnomaly::BodyTruncated) =>
            {
                Strength::Strong
            }
            _ => Strength::Weak,
        },
        Class::Stun => match (stun_kind(p), stun_attributes(p)) {
            (Some(StunKind::Rfc5389), Some(_)) => Strength::Strong,
            (Some(StunKind::Classic), Some(n)) if n > 0 => Strength::Strong,
            _ => Strength::Weak,
        },
        Class::Snatmap => match snatmap::parse(p) {
            Ok(snatmap::Message::Request(_)) => Strength::Strong,
            _ => Strength::Weak,
        },
        Class::Rtp | Class::Rtcp => Strength::Weak,
    };
    Probe { class, strength }
}

/// True when the payload alone is enough for a UDP heuristic to adopt the flow as FaceTime
/// (see [`probe`] for what counts as strong).
pub fn flow_probe(p: &[u8]) -> bool {
    probe(p).strength == Strength::Strong
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facetime::sip::tests::INVITE;

    // RFC 5389 Binding Request: type 0x0001, length 8, cookie, txid, SOFTWARE? no:
    // one attribute PRIORITY-like (0x0024, len 4).
    const STUN_REQ: [u8; 28] = [
        0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42, // type, len, cookie
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, // transaction id
        0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, // PRIORITY
    ];
    // RFC 5389 Binding Success Response with XOR-MAPPED-ADDRESS 192.0.2.1:32853
    // (RFC 5769 §2.2 style): port 0x8055 ^ 0x2112 = 0xa147, addr c0000201 ^ 2112a442 = e112a643.
    const STUN_RESP: [u8; 32] = [
        0x01, 0x01, 0x00, 0x0C, 0x21, 0x12, 0xA4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xA1, 0x47, 0xE1, 0x12, 0xA6, 0x43,
    ];
    // RFC 3489 Binding Response: MAPPED-ADDRESS (0x0001) 10.0.0.1:16402, no cookie.
    const CLASSIC_RESP: [u8; 32] = [
        0x01, 0x01, 0x00, 0x0C, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x40, 0x12, 10, 0, 0, 1,
    ];
    const CLASSIC_REQ: [u8; 20] = [
        0x00, 0x01, 0x00, 0x00, 9, 9, 9, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    ];
    const SNAT_REQ: [u8; 16] = [
        0, 0, 0, 1, 0x1a, 0x2b, 0x3c, 0x4d, 192, 168, 1, 5, 0x40, 0x12, 0xaa, 0xaa,
    ];
    const SNAT_RESP: [u8; 16] = [
        0, 0, 0, 2, 0x1a, 0x2b, 0x3c, 0x4d, 0x34, 0xff, 0x8e, 0xf8, 0x10, 0xcd, 0, 0,
    ];
    // 16-byte RTP: V2, PT 0 (PCMU), seq 1, ts 160, SSRC 0x01020304, 4 payload bytes.
    const RTP16: [u8; 16] = [
        0x80, 0x00, 0, 1, 0, 0, 0, 160, 1, 2, 3, 4, 0xff, 0xfe, 0xfd, 0xfc,
    ];

    #[test]
    fn stun() {
        assert_eq!(stun_kind(&STUN_REQ), Some(StunKind::Rfc5389));
        assert_eq!(classify(&STUN_REQ), Class::Stun);
        assert_eq!(classify(&STUN_RESP), Class::Stun);
        assert_eq!(stun_attributes(&STUN_RESP), Some(1));
        assert!(flow_probe(&STUN_REQ) && flow_probe(&STUN_RESP));
        assert_eq!(stun_kind(&CLASSIC_RESP), Some(StunKind::Classic));
        assert_eq!(classify(&CLASSIC_REQ), Class::Stun);
        assert!(flow_probe(&CLASSIC_RESP));
        assert_eq!(probe(&CLASSIC_REQ).strength, Strength::Weak);
        // lying length, non-multiple of 4, unknown classic type, truncation
        let mut l = STUN_REQ;
        l[3] = 0x0C;
        assert_eq!(classify(&l), Class::Unknown);
        assert_eq!(classify(&STUN_REQ[..27]), Class::Unknown);
        let mut c = CLASSIC_RESP;
        c[1] = 0x03;
        assert_eq!(classify(&c), Class::Unknown);
        // attribute that overruns: still STUN by header, but only weak
        let mut a = STUN_REQ;
        a[23] = 0x08;
        assert_eq!(classify(&a), Class::Stun);
        assert!(!flow_probe(&a));
    }

    #[test]
    fn snatmap_vs_others() {
        assert_eq!(classify(&SNAT_REQ), Class::Snatmap);
        assert_eq!(classify(&SNAT_RESP), Class::Snatmap);
        assert!(flow_probe(&SNAT_REQ));
        assert_eq!(probe(&SNAT_RESP).strength, Strength::Weak);
        assert_eq!(classify(&RTP16), Class::Rtp);
        let mut bad = SNAT_REQ;
        bad[15] = 0;
        assert_eq!(classify(&bad), Class::Unknown);
        assert_eq!(classify(&SNAT_REQ[..15]), Class::Unknown);
        // 16 bytes can never be STUN (header alone is 20)
        let mut s = [0u8; 16];
        s[1] = 1;
        assert_eq!(classify(&s), Class::Unknown);
    }

    #[test]
    fn rtp_rtcp() {
        let apple = [
            0x90, 0xE8, 0x12, 0x34, 0, 1, 2, 3, 0xde, 0xad, 0xbe, 0xef, 0x44, 0x00, 0x00, 0x01, 1,
            2, 3, 4, 0xAA,
        ];
        assert_eq!(classify(&apple), Class::Rtp);
        assert!(!flow_probe(&apple));
        let rtcp = crate::core::facetime::rtp::tests::RTCP_SR_SDES;
        assert_eq!(classify(&rtcp), Class::Rtcp);
        // SRTCP-like trailer: E|index + 10-byte tag
        let mut s = rtcp.to_vec();
        s.extend_from_slice(&[0x80, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        assert_eq!(classify(&s), Class::Rtcp);
        // junk tail of 3 bytes, lying first length
        let mut j = rtcp.to_vec();
        j.extend_from_slice(&[1, 2, 3]);
        assert_eq!(classify(&j), Class::Unknown);
        let mut l = rtcp;
        l[3] = 0x40;
        assert_eq!(classify(&l), Class::Unknown);
        // second byte 192–223 that does not walk is not RTP either (RFC 5761 reserves it)
        let mut m = RTP16;
        m[1] = 0xC8;
        assert_eq!(classify(&m), Class::Unknown);
        // RTP lying about CSRCs / extension
        let mut c = RTP16;
        c[0] = 0x85;
        assert_eq!(classify(&c), Class::Unknown);
        let mut x = RTP16;
        x[0] = 0x90;
        assert_eq!(classify(&x), Class::Unknown);
    }

    #[test]
    fn misclassification_table() {
        let table: &[(&[u8], Class)] = &[
            (
                b"MESSAGE sip:+14085550123@10.0.1.5:16402 SIP/2.0\r\nCall-ID: a\r\n\r\n",
                Class::Sip,
            ),
            (
                b"M\x80\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01",
                Class::Unknown,
            ), // 'M' = 0x4D: never RTP
            (&RTP16, Class::Rtp), // PT 0, first byte 0x80: not SIP
            (b"\x80\x00INVITE sip:a SIP/2.0\r\n", Class::Rtp),
            (b"SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n", Class::Sip),
            (b"BYE sip:a@b SIP/2.0\r\n", Class::Sip),
            (b"GET / HTTP/1.1\r\n", Class::Unknown),
            (b"SIP/2.0 200 OK", Class::Unknown),
            (b"\x00\x00\x00\x01", Class::Unknown),
            (b"\x40\x00\x00\x04abcd", Class::Unknown), // TURN ChannelData range: not ours
            (b"\x16\x03\x01\x00\x05hello", Class::Unknown), // TLS/DTLS range
            (b"", Class::Unknown),
            (b"\x80", Class::Unknown),
        ];
        for (i, (p, want)) in table.iter().enumerate() {
            assert_eq!(classify(p), *want, "row {i}");
        }
        assert_eq!(classify(INVITE), Class::Sip);
        assert!(flow_probe(INVITE));
        // A bare start line is SIP but weak.
        assert_eq!(probe(b"BYE sip:a@b SIP/2.0\r\n").strength, Strength::Weak);
    }

    #[test]
    fn truncations_never_panic() {
        let all: [&[u8]; 7] = [
            &STUN_REQ,
            &STUN_RESP,
            &CLASSIC_RESP,
            &SNAT_REQ,
            &RTP16,
            INVITE,
            &crate::core::facetime::rtp::tests::RTCP_SR_SDES,
        ];
        for p in all {
            for n in 0..=p.len() {
                let _ = probe(&p[..n]);
                let _ = probe(&p[n..]);
            }
        }
    }

    #[test]
    fn cut_payloads_are_classified_from_the_bytes_there() {
        // An 18-byte cut (a 60-byte snap length over Ethernet/IPv4/UDP) of real messages.
        let full = INVITE;
        assert_eq!(classify(&full[..18]), Class::Unknown);
        assert_eq!(classify_cut(&full[..18], full.len()), Class::Sip);
        let trying = b"SIP/2.0 100 Trying\r\nVia: SIP/2.0/UDP 10.0.1.5:16402\r\n\r\n";
        assert_eq!(classify_cut(&trying[..18], trying.len()), Class::Sip);
        assert_eq!(classify_cut(&STUN_RESP[..18], STUN_RESP.len()), Class::Stun);
        assert_eq!(classify_cut(&CLASSIC_RESP[..18], CLASSIC_RESP.len()), Class::Stun);
        // Not cut: no second chance.
        assert_eq!(classify_cut(&full[..18], 18), Class::Unknown);
        // Cut, but not what it would need to be.
        assert_eq!(classify_cut(b"HELLO world, this is not SIP", 100), Class::Unknown);
        assert_eq!(classify_cut(b"INVITED sip:x", 100), Class::Unknown);
        let mut bad_len = STUN_RESP;
        bad_len[3] = 0x10;
        assert_eq!(classify_cut(&bad_len[..18], STUN_RESP.len()), Class::Unknown);
        assert_eq!(classify_cut(&[0, 1, 0, 8], 28), Class::Unknown, "fewer than 8 bytes of STUN header");
        // RTP with Apple's header extension cut after 18 bytes: V=2, X=1, PT 126.
        let rtp_ext = [0x90, 126, 0x03, 0xe8, 0, 0, 0x13, 0x88, 0x11, 0x11, 0, 2, 0x44, 0x00, 0, 3, 1, 2];
        assert_eq!(classify(&rtp_ext), Class::Unknown);
        assert_eq!(classify_cut(&rtp_ext, 60), Class::Rtp);
        assert_eq!(classify_cut(&rtp_ext[..11], 60), Class::Unknown);
    }
}

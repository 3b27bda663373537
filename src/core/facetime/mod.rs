//! FaceTime (2010-era) on its shared UDP port (16402; Apple's range 16393–16472): SIP,
//! SDP, RTP, RTCP, STUN and SNATMAP multiplexed on one port (protocol notes §2–3).
//!
//! - [`classify`]: per-packet demultiplexing (RFC 7983 style) and the flow heuristic.
//! - [`sip`]: SIP start line, the headers call tracking needs, header/body split.
//! - [`sdp`]: SDP media (addresses, ports, payload types, rtpmap, rtcp-mux).
//! - [`rtp`]: RTP header (Apple's 0x4400 extension profile, RFC 8285) and RTCP compounds.
//! - [`adopt`]: which flows on the FaceTime range are FaceTime at all.
//! - [`call`]: the call tracker fed in capture order (setup time, duration, media, streams).
//!
//! Everything here is pure Rust: no `unsafe`, no epan types, zero-copy over the payload.

pub mod adopt;
pub mod call;
pub mod classify;
pub mod rtp;
pub mod sdp;
pub mod sip;

pub use classify::{classify, classify_cut, flow_probe, probe, Class, Probe, Strength};

/// Apple's FaceTime UDP port range.
pub const PORT_MIN: u16 = 16393;
pub const PORT_MAX: u16 = 16472;
/// The port seen in the 2010 seed captures.
pub const PORT_DEFAULT: u16 = 16402;

/// True when `port` is in Apple's FaceTime UDP range.
pub fn is_facetime_port(port: u16) -> bool {
    (PORT_MIN..=PORT_MAX).contains(&port)
}

#[cfg(test)]
mod fuzz_tests {
    use super::*;

    use crate::core::test_rng::Rng;

    fn exercise(p: &[u8]) {
        let _ = classify(p);
        let _ = probe(p);
        if let Ok(m) = sip::parse_sip(p) {
            if let Some(b) = m.body {
                let s = sdp::parse_sdp(b.value, b.span.offset);
                for (i, _) in s.media.iter().enumerate() {
                    let _ = s.media_ip(i);
                }
            }
        }
        let _ = sdp::parse_sdp(p, 0);
        if let Ok(h) = rtp::parse_rtp(p) {
            let _ = h.csrcs().count();
            if let Some(e) = h.ext {
                let _ = e.elements().count();
            }
        }
        let _ = rtp::parse_rtcp(p);
        let _ = rtp::walk_rtcp(p);
        let _ = classify::stun_attributes(p);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        let mut buf = vec![0u8; 1500];
        for round in 0..20_000 {
            let len = (r.next() % 200) as usize + if round % 50 == 0 { 1300 } else { 0 };
            for b in buf[..len].iter_mut() {
                *b = r.next() as u8;
            }
            // Bias the first bytes towards each class's range so the deep paths run.
            match round % 6 {
                0 if len > 0 => buf[0] = 0x80 | (buf[0] & 0x3F),
                1 if len > 1 => {
                    buf[0] = 0x80 | (buf[0] & 0x1F);
                    buf[1] = 192 + (buf[1] % 32);
                }
                2 if len > 3 => {
                    buf[..4].copy_from_slice(&[0, 1, 0, (len.saturating_sub(20) & 0xFC) as u8])
                }
                _ => {}
            }
            exercise(&buf[..len]);
        }
    }

    #[test]
    fn random_text_never_panics() {
        // SIP/SDP-shaped noise: tokens, separators and line ends in random order.
        const PIECES: [&[u8]; 24] = [
            b"INVITE ",
            b"SIP/2.0",
            b" ",
            b"\r\n",
            b"\n",
            b":",
            b";tag=",
            b"<",
            b">",
            b"\"",
            b"Call-ID",
            b"CSeq: 1 INVITE",
            b"l: ",
            b"99",
            b"m=audio ",
            b"a=rtpmap:",
            b"/",
            b"c=IN IP4 ",
            b"1.2.3.4",
            b"\r\n\r\n",
            b"v=0",
            b"f: ",
            b"sip:a@b",
            b"\xff",
        ];
        let mut r = Rng(42);
        let mut buf = Vec::new();
        for _ in 0..20_000 {
            buf.clear();
            buf.extend_from_slice(b"INVITE sip:a@b SIP/2.0\r\n");
            for _ in 0..(r.next() % 40) {
                buf.extend_from_slice(PIECES[(r.next() % PIECES.len() as u64) as usize]);
            }
            exercise(&buf);
        }
    }

    #[test]
    fn ports() {
        assert!(is_facetime_port(PORT_DEFAULT));
        assert!(is_facetime_port(16393) && is_facetime_port(16472));
        assert!(!is_facetime_port(16392) && !is_facetime_port(16473));
    }
}

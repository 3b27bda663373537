//! Which flows on Apple's FaceTime port range are FaceTime at all.
//!
//! The range 16393–16472 is not Apple's alone: Gnutella, games and ephemeral ports of any
//! protocol land there too. A flow (both directions of one address/port pair) is adopted as
//! FaceTime from its first packet of a class FaceTime carries (SIP, STUN, SNATMAP, RTP,
//! RTCP: [`classify`]), or from where the caller saw other evidence ([`FlowAdoption::adopt`]:
//! the UDP heuristic's content test). Its packets from then on are FaceTime's, including
//! payloads of no known class; before that, and on flows never adopted, payloads of no known
//! class are left to the rest of Wireshark exactly as without the plugin.
//!
//! The first pass decides, in capture order; later passes (`adopted`) only read the decision,
//! so one and two passes read every frame the same way. At most [`MAX_FLOWS`] flows are
//! remembered; past that, each packet is judged by its own class.

use super::call::Endpoint;
use super::classify::{classify, Class};
use std::collections::HashMap;

/// Flows remembered per capture.
pub const MAX_FLOWS: usize = 65_536;

/// Both directions of one flow share a key.
pub type FlowKey = (Endpoint, Endpoint);

fn key(a: Endpoint, b: Endpoint) -> FlowKey {
    if (a.addr, a.port) <= (b.addr, b.port) {
        (a, b)
    } else {
        (b, a)
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Flow {
    /// The first frame taken as FaceTime.
    from: Option<u32>,
}

/// The adoption decisions of one capture.
#[derive(Debug, Default)]
pub struct FlowAdoption {
    flows: HashMap<FlowKey, Flow>,
    /// Flows past [`MAX_FLOWS`] were not remembered.
    pub capped: bool,
}

impl FlowAdoption {
    /// First pass, in capture order: is this packet FaceTime's? Records the decision.
    pub fn observe(&mut self, frame: u32, src: Endpoint, dst: Endpoint, payload: &[u8]) -> bool {
        let k = key(src, dst);
        if let Some(f) = self.flows.get(&k) {
            if f.from.is_some_and(|from| frame >= from) {
                return true;
            }
        }
        let known = classify(payload) != Class::Unknown;
        if !known {
            return false;
        }
        if !self.flows.contains_key(&k) && self.flows.len() >= MAX_FLOWS {
            self.capped = true;
            return true;
        }
        self.flows.entry(k).or_default().from = Some(frame);
        true
    }

    /// First pass: adopt the flow from `frame` on, on the caller's own evidence.
    pub fn adopt(&mut self, frame: u32, src: Endpoint, dst: Endpoint) {
        let k = key(src, dst);
        if !self.flows.contains_key(&k) && self.flows.len() >= MAX_FLOWS {
            self.capped = true;
            return;
        }
        let f = self.flows.entry(k).or_default();
        if f.from.is_none_or(|from| frame < from) {
            f.from = Some(frame);
        }
    }

    /// Later passes: what the first pass decided for `frame`. Past the flow cap, a packet was
    /// taken by its own class, which is told from the payload again.
    pub fn adopted(&self, frame: u32, src: Endpoint, dst: Endpoint, payload: &[u8]) -> bool {
        match self.flows.get(&key(src, dst)) {
            Some(f) => f.from.is_some_and(|from| frame >= from),
            None => self.capped && classify(payload) != Class::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facetime::sip::tests::INVITE;

    fn ep(s: &str) -> Endpoint {
        let a: std::net::SocketAddr = s.parse().unwrap();
        Endpoint::new(a.ip(), a.port())
    }

    /// An RTP packet laid out by hand (RFC 3550 §5.1): V=2, PT, seq, timestamp, SSRC.
    fn rtp(pt: u8, seq: u16, ssrc: u32) -> Vec<u8> {
        let mut p = vec![0x80, pt];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&1000u32.to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.extend_from_slice(&[0u8; 20]);
        p
    }

    #[test]
    fn unknown_payloads_never_adopt_a_flow() {
        let mut a = FlowAdoption::default();
        let (s, d) = (ep("10.0.0.1:16401"), ep("10.0.0.2:6346"));
        for i in 0..10 {
            assert!(!a.observe(i, s, d, b"GND\x02 gnutella-ish payload"));
            assert!(!a.observe(i, d, s, &[0x11; 23]));
        }
        assert!(!a.adopted(5, s, d, b"GND"));
    }

    #[test]
    fn a_strong_packet_adopts_both_directions_from_its_frame_on() {
        let mut a = FlowAdoption::default();
        let (s, d) = (ep("10.0.0.1:16402"), ep("10.0.0.2:16402"));
        assert!(!a.observe(1, s, d, &[0x11; 30]));
        assert!(a.observe(2, s, d, INVITE));
        assert!(a.observe(3, d, s, &[0x11; 30]), "later unknown packets of an adopted flow are FaceTime's");
        assert!(!a.adopted(1, s, d, &[0x11; 30]));
        assert!(a.adopted(2, s, d, INVITE));
        assert!(a.adopted(3, d, s, &[0x11; 30]));
    }

    #[test]
    fn the_first_packet_of_a_known_class_adopts_the_flow() {
        let mut a = FlowAdoption::default();
        let (s, d) = (ep("10.0.0.1:16402"), ep("10.0.0.2:16402"));
        assert!(!a.observe(1, s, d, &[0x11; 30]));
        assert!(a.observe(2, s, d, &rtp(96, 10, 0xabcd)));
        assert!(a.observe(3, d, s, &[0x11; 30]));
        assert!(!a.adopted(1, s, d, &[0x11; 30]));
        assert!(a.adopted(2, s, d, &[]));
    }

    #[test]
    fn adopt_takes_the_earliest_frame() {
        let mut a = FlowAdoption::default();
        let (s, d) = (ep("10.0.0.1:5060"), ep("10.0.0.2:5060"));
        a.adopt(9, s, d);
        a.adopt(4, d, s);
        assert!(a.adopted(4, s, d, &[]));
        assert!(!a.adopted(3, s, d, &[]));
    }

    #[test]
    fn past_the_cap_each_packet_is_judged_by_its_class() {
        let mut a = FlowAdoption::default();
        for i in 0..MAX_FLOWS as u32 {
            let s = Endpoint::new(std::net::IpAddr::from((0x0a00_0000 + i).to_be_bytes()), 16402);
            assert!(a.observe(i, s, ep("10.255.0.1:16402"), &rtp(96, 1, i)));
        }
        assert!(!a.capped);
        assert_eq!(a.flows.len(), MAX_FLOWS);
        let (s, d) = (ep("192.168.0.1:16402"), ep("192.168.0.2:16402"));
        assert!(!a.observe(1_000_000, s, d, &[0x11; 8]));
        assert!(a.observe(1_000_001, s, d, INVITE));
        assert!(a.capped);
        assert!(a.adopted(1_000_001, s, d, INVITE));
        assert!(!a.adopted(1_000_002, s, d, &[0x11; 8]), "past the cap an unknown payload is judged alone");
        assert_eq!(a.flows.len(), MAX_FLOWS);
    }
}

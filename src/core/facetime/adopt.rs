//! Which flows on Apple's FaceTime port range are FaceTime at all.
//!
//! The range 16393–16472 is not Apple's alone: Gnutella, games and ephemeral ports of any
//! protocol land there too. A flow (both directions of one address/port pair) is adopted as
//! FaceTime from its first packet that is evidence ([`FlowAdoption::observe`]), or from where
//! the caller saw other evidence ([`FlowAdoption::adopt`]: the UDP heuristic's content test).
//! Its packets from then on are FaceTime's, including payloads of no known class; before
//! that, and on flows never adopted, packets are left to the rest of Wireshark exactly as
//! without the plugin. Evidence is a packet of a class FaceTime carries ([`classify`]) —
//! except RTP, which about a quarter of random datagrams resemble: an RTP-shaped packet counts
//! only when it continues an RTP-shaped packet seen before on the flow (same SSRC and payload
//! type, sequence number 1–[`MAX_SEQ_STEP`] ahead). So the first packet of each stream of a
//! capture that starts mid-call reads as stock reads it (UDP data), and random traffic is left
//! alone.
//!
//! The first pass decides, in capture order; later passes (`adopted`) only read the decision,
//! so one and two passes read every frame the same way. At most [`MAX_FLOWS`] flows are
//! remembered; past that, each packet is judged by its own class.

use super::call::Endpoint;
use super::classify::Class;
#[cfg(doc)]
use super::classify::classify;
use rustc_hash::FxHashMap as HashMap;

/// Flows remembered per capture.
pub const MAX_FLOWS: usize = 65_536;
/// Largest sequence-number step between two RTP packets of one stream that still counts as
/// the stream continuing (losses and reordering in between).
pub const MAX_SEQ_STEP: u16 = 100;
/// RTP streams remembered per flow before it is adopted (audio and video, both ways).
const RTP_SLOTS: usize = 4;

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
    /// RTP-shaped packets seen before adoption, (SSRC, payload type, sequence number), the
    /// oldest replaced first.
    rtp: [Option<(u32, u8, u16)>; RTP_SLOTS],
    next_slot: u8,
}

impl Flow {
    /// Records an RTP-shaped packet; true when it continues one recorded before.
    fn rtp_continues(&mut self, (ssrc, pt, seq): (u32, u8, u16)) -> bool {
        for slot in self.rtp.iter_mut().flatten() {
            if slot.0 == ssrc && slot.1 == pt {
                let step = seq.wrapping_sub(slot.2);
                *slot = (ssrc, pt, seq);
                return (1..=MAX_SEQ_STEP).contains(&step);
            }
        }
        self.rtp[usize::from(self.next_slot) % RTP_SLOTS] = Some((ssrc, pt, seq));
        self.next_slot = self.next_slot.wrapping_add(1);
        false
    }
}

/// The adoption decisions of one capture.
#[derive(Debug, Default)]
pub struct FlowAdoption {
    flows: HashMap<FlowKey, Flow>,
    /// Flows past [`MAX_FLOWS`] were not remembered.
    pub capped: bool,
}

impl FlowAdoption {
    /// First pass, in capture order: is this packet FaceTime's? `class` is its class
    /// ([`classify`], or `classify_cut` for a payload the capture cut short); `rtp` its
    /// (SSRC, payload type, sequence number) when it is RTP-shaped. Records the decision.
    pub fn observe(&mut self, frame: u32, src: Endpoint, dst: Endpoint, class: Class, rtp: Option<(u32, u8, u16)>) -> bool {
        let k = key(src, dst);
        if let Some(f) = self.flows.get(&k) {
            if f.from.is_some_and(|from| frame >= from) {
                return true;
            }
        }
        if class == Class::Unknown || (class == Class::Rtp && rtp.is_none()) {
            return false;
        }
        if !self.flows.contains_key(&k) && self.flows.len() >= MAX_FLOWS {
            self.capped = true;
            return class != Class::Rtp;
        }
        let f = self.flows.entry(k).or_default();
        let evidence = match (class, rtp) {
            (Class::Rtp, Some(r)) => f.rtp_continues(r),
            _ => true,
        };
        if evidence {
            f.from = Some(frame);
        }
        evidence
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
    /// taken by its own class (never for RTP alone), which `class` tells again (called only
    /// then).
    pub fn adopted(&self, frame: u32, src: Endpoint, dst: Endpoint, class: impl FnOnce() -> Class) -> bool {
        match self.flows.get(&key(src, dst)) {
            Some(f) => f.from.is_some_and(|from| frame >= from),
            None => self.capped && !matches!(class(), Class::Unknown | Class::Rtp),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facetime::classify::classify;
    use crate::core::facetime::rtp::parse_rtp;
    use crate::core::facetime::sip::tests::INVITE;

    fn ep(s: &str) -> Endpoint {
        let a: std::net::SocketAddr = s.parse().unwrap();
        Endpoint::new(a.ip(), a.port())
    }

    /// What the dissector passes: the class and, for RTP, (SSRC, PT, seq).
    fn obs(a: &mut FlowAdoption, frame: u32, s: Endpoint, d: Endpoint, p: &[u8]) -> bool {
        let c = classify(p);
        let r = if c == Class::Rtp { parse_rtp(p).ok().map(|h| (h.ssrc.value, h.payload_type, h.seq.value)) } else { None };
        a.observe(frame, s, d, c, r)
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
            assert!(!obs(&mut a, i, s, d, b"GND\x02 gnutella-ish payload"));
            assert!(!obs(&mut a, i, d, s, &[0x11; 23]));
        }
        assert!(!a.adopted(5, s, d, || Class::Unknown));
    }

    #[test]
    fn a_strong_packet_adopts_both_directions_from_its_frame_on() {
        let mut a = FlowAdoption::default();
        let (s, d) = (ep("10.0.0.1:16402"), ep("10.0.0.2:16402"));
        assert!(!obs(&mut a, 1, s, d, &[0x11; 30]));
        assert!(obs(&mut a, 2, s, d, INVITE));
        assert!(obs(&mut a, 3, d, s, &[0x11; 30]), "later unknown packets of an adopted flow are FaceTime's");
        assert!(!a.adopted(1, s, d, || Class::Unknown));
        assert!(a.adopted(2, s, d, || Class::Sip));
        assert!(a.adopted(3, d, s, || Class::Unknown));
    }

    #[test]
    fn rtp_adopts_only_when_it_continues_a_stream() {
        let mut a = FlowAdoption::default();
        let (s, d) = (ep("10.0.0.1:16402"), ep("10.0.0.2:16402"));
        assert!(!obs(&mut a, 1, s, d, &rtp(96, 10, 0xabcd)));
        // Another SSRC, the same one jumping far, or another payload type: lookalikes.
        assert!(!obs(&mut a, 2, s, d, &rtp(96, 11, 0x1234)));
        assert!(!obs(&mut a, 3, s, d, &rtp(96, 5000, 0x1234)));
        assert!(!obs(&mut a, 4, s, d, &rtp(97, 5001, 0x1234)));
        // Interleaved streams (audio and video both ways) each continue.
        assert!(obs(&mut a, 5, d, s, &rtp(96, 12, 0xabcd)));
        assert!(!a.adopted(4, s, d, || Class::Rtp));
        assert!(a.adopted(5, s, d, || Class::Rtp));
        // Wrapping sequence numbers continue too.
        let (s2, d2) = (ep("10.0.0.3:16402"), ep("10.0.0.4:16402"));
        assert!(!obs(&mut a, 6, s2, d2, &rtp(0, 65535, 7)));
        assert!(obs(&mut a, 7, s2, d2, &rtp(0, 0, 7)));
    }

    #[test]
    fn adopt_takes_the_earliest_frame() {
        let mut a = FlowAdoption::default();
        let (s, d) = (ep("10.0.0.1:5060"), ep("10.0.0.2:5060"));
        a.adopt(9, s, d);
        a.adopt(4, d, s);
        assert!(a.adopted(4, s, d, || Class::Unknown));
        assert!(!a.adopted(3, s, d, || Class::Unknown));
    }

    #[test]
    fn past_the_cap_each_packet_is_judged_by_its_class() {
        let mut a = FlowAdoption::default();
        for i in 0..MAX_FLOWS as u32 {
            let s = Endpoint::new(std::net::IpAddr::from((0x0a00_0000 + i).to_be_bytes()), 16402);
            assert!(a.observe(i, s, ep("10.255.0.1:16402"), Class::Stun, None));
        }
        assert!(!a.capped);
        assert_eq!(a.flows.len(), MAX_FLOWS);
        let (s, d) = (ep("192.168.0.1:16402"), ep("192.168.0.2:16402"));
        assert!(!obs(&mut a, 1_000_000, s, d, &[0x11; 8]));
        assert!(!obs(&mut a, 1_000_001, s, d, &rtp(96, 1, 1)), "RTP alone never");
        assert!(obs(&mut a, 1_000_002, s, d, INVITE));
        assert!(a.capped);
        assert!(a.adopted(1_000_002, s, d, || Class::Sip));
        assert!(!a.adopted(1_000_003, s, d, || Class::Rtp));
        assert_eq!(a.flows.len(), MAX_FLOWS);
    }
}

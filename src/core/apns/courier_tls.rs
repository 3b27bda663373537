//! Courier connections recognised without TLS keys, by the server name (SNI) the client
//! asks for in its ClientHello (`courier.push.apple.com`, `N-courier.push.apple.com`, and
//! the sandbox names; see [`super::tls::courier_sni`]).
//!
//! [`SniTracker`] is fed every TCP segment once, in capture order (the first pass). A
//! ClientHello larger than one segment (common since TLS 1.3 clients send post-quantum key
//! shares) is reassembled from in-order segments of the same direction, up to
//! [`MAX_HELLO`] bytes. A connection is a courier connection from the frame that completed
//! its ClientHello on; [`SniTracker::lookup`] answers for any frame afterwards, in any
//! order (two-pass runs, the GUI).
//!
//! Bounded: at most `max_connections` courier connections and [`MAX_PENDING`] ClientHellos
//! being reassembled at once; beyond that new ones are not tracked and
//! [`Observed::CapReached`] is reported once.
//!
//! Not handled: a ClientHello split over several TLS records, whose first segment holds
//! fewer than 6 bytes, or whose first segment is lost or arrives out of order (the connection is then simply not labelled).

use super::tls::{courier_sni, CourierEnv};
use crate::core::tls_hello::{client_hello_record_len, tls_sni};
use std::collections::HashMap;
use std::net::IpAddr;

/// An address and port.
pub type Endpoint = (IpAddr, u16);

/// Largest ClientHello record reassembled: a full TLS record (2^14 bytes) plus its header.
pub const MAX_HELLO: usize = 5 + (1 << 14);
/// Most ClientHellos being reassembled at the same time.
pub const MAX_PENDING: usize = 256;
/// Default cap on tracked courier connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 65_536;

/// What the connection is known as from its ClientHello on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Courier {
    /// The server name as the client sent it.
    pub sni: String,
    pub env: CourierEnv,
    /// The frame whose segment completed the ClientHello.
    pub hello_frame: u32,
}

/// The result of [`SniTracker::observe`] for one segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observed {
    Nothing,
    /// This segment completed a ClientHello naming a courier host.
    Courier(Courier),
    /// A courier ClientHello (or a partial ClientHello) could not be tracked: the cap is
    /// reached. Reported for the first such segment only.
    CapReached,
}

struct Pending {
    next_seq: u32,
    need: usize,
    buf: Vec<u8>,
}

type ConnKey = (Endpoint, Endpoint);

fn canonical(a: Endpoint, b: Endpoint) -> ConnKey {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// First-pass tracker of courier connections in one capture.
pub struct SniTracker {
    max_connections: usize,
    /// Client → server direction of ClientHellos being reassembled.
    pending: HashMap<ConnKey, Pending>,
    /// Per connection (either direction order): ClientHellos seen, in frame order; `None`
    /// marks a later non-courier ClientHello on the same addresses and ports (port reuse).
    conns: HashMap<ConnKey, Vec<(u32, Option<Courier>)>>,
    cap_reported: bool,
}

impl Default for SniTracker {
    fn default() -> Self {
        SniTracker::new(DEFAULT_MAX_CONNECTIONS)
    }
}

impl SniTracker {
    pub fn new(max_connections: usize) -> SniTracker {
        SniTracker { max_connections, pending: HashMap::new(), conns: HashMap::new(), cap_reported: false }
    }

    /// Courier connections tracked so far.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// True while nothing is tracked or pending: a caller may skip [`Self::lookup`] and
    /// segments that cannot start a ClientHello.
    pub fn is_idle(&self) -> bool {
        self.conns.is_empty() && self.pending.is_empty()
    }

    /// Feeds one TCP segment from `src` to `dst` (first pass, capture order). `payload` is
    /// the captured payload, `wire_len` its length on the wire.
    pub fn observe(&mut self, frame: u32, src: Endpoint, dst: Endpoint, seq: u32, payload: &[u8], wire_len: u32) -> Observed {
        if payload.is_empty() {
            return Observed::Nothing;
        }
        let dir = (src, dst);
        if let Some(p) = self.pending.get_mut(&dir) {
            if seq != p.next_seq {
                // A retransmission of what we have, or a gap: give up on a gap.
                if seq.wrapping_sub(p.next_seq) < 1 << 31 {
                    self.pending.remove(&dir);
                }
                return Observed::Nothing;
            }
            let take = (p.need - p.buf.len()).min(payload.len());
            p.buf.extend_from_slice(&payload[..take]);
            p.next_seq = p.next_seq.wrapping_add(take as u32);
            if p.buf.len() < p.need {
                if (payload.len() as u32) < wire_len {
                    self.pending.remove(&dir); // snapped: the rest is not in the capture
                }
                return Observed::Nothing;
            }
            let p = self.pending.remove(&dir).expect("present");
            return self.hello(frame, src, dst, &p.buf);
        }
        let Some(need) = client_hello_record_len(payload) else { return Observed::Nothing };
        if payload.len() >= need {
            return self.hello(frame, src, dst, &payload[..need]);
        }
        if (payload.len() as u32) < wire_len || need > MAX_HELLO {
            return Observed::Nothing;
        }
        if self.pending.len() >= MAX_PENDING {
            return self.cap();
        }
        let mut buf = Vec::with_capacity(need);
        buf.extend_from_slice(payload);
        self.pending.insert(dir, Pending { next_seq: seq.wrapping_add(payload.len() as u32), need, buf });
        Observed::Nothing
    }

    fn cap(&mut self) -> Observed {
        if self.cap_reported {
            Observed::Nothing
        } else {
            self.cap_reported = true;
            Observed::CapReached
        }
    }

    fn hello(&mut self, frame: u32, src: Endpoint, dst: Endpoint, record: &[u8]) -> Observed {
        let key = canonical(src, dst);
        let courier = tls_sni(record).and_then(|sni| courier_sni(&sni).map(|env| Courier { sni, env, hello_frame: frame }));
        match (courier, self.conns.get_mut(&key)) {
            (Some(c), Some(v)) => {
                v.push((frame, Some(c.clone())));
                Observed::Courier(c)
            }
            (Some(c), None) => {
                if self.conns.len() >= self.max_connections {
                    return self.cap();
                }
                self.conns.insert(key, vec![(frame, Some(c.clone()))]);
                Observed::Courier(c)
            }
            (None, Some(v)) => {
                if v.last().is_some_and(|(_, c)| c.is_some()) {
                    v.push((frame, None));
                }
                Observed::Nothing
            }
            (None, None) => Observed::Nothing,
        }
    }

    /// The courier connection `frame` (between `a` and `b`, either order) belongs to, if its
    /// ClientHello was completed at or before `frame`.
    pub fn lookup(&self, frame: u32, a: Endpoint, b: Endpoint) -> Option<&Courier> {
        let v = self.conns.get(&canonical(a, b))?;
        let i = v.partition_point(|(f, _)| *f <= frame);
        v.get(i.checked_sub(1)?)?.1.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::tls_hello::tests::client_hello;

    fn ep(s: &str) -> Endpoint {
        let a: std::net::SocketAddr = s.parse().unwrap();
        (a.ip(), a.port())
    }

    /// A ClientHello padded (extension 21) to exactly `total` bytes.
    fn padded_hello(sni: &str, total: usize) -> Vec<u8> {
        let base = client_hello(sni);
        let pad = total - base.len() - 4;
        let mut hs_body = base[9..].to_vec();
        // Extensions length sits right after the fixed part; append a padding extension.
        let ext_len_at = 2 + 32 + 1 + 4 + 2;
        let el = u16::from_be_bytes([hs_body[ext_len_at], hs_body[ext_len_at + 1]]) as usize + 4 + pad;
        hs_body[ext_len_at..ext_len_at + 2].copy_from_slice(&(el as u16).to_be_bytes());
        hs_body.extend_from_slice(&[0, 21]);
        hs_body.extend_from_slice(&(pad as u16).to_be_bytes());
        hs_body.extend(std::iter::repeat(0).take(pad));
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(hs_body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&hs_body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        assert_eq!(rec.len(), total);
        rec
    }

    #[test]
    fn whole_hello_marks_both_directions_from_its_frame() {
        let (c, s) = (ep("10.0.0.2:50000"), ep("17.57.146.20:5223"));
        let mut t = SniTracker::default();
        assert!(t.is_idle());
        let ch = client_hello("12-courier.push.apple.com");
        assert_eq!(t.observe(3, c, s, 1, &[], 0), Observed::Nothing);
        let got = t.observe(4, c, s, 1, &ch, ch.len() as u32);
        let want = Courier { sni: "12-courier.push.apple.com".into(), env: CourierEnv::Production, hello_frame: 4 };
        assert_eq!(got, Observed::Courier(want.clone()));
        assert_eq!(t.lookup(3, c, s), None);
        assert_eq!(t.lookup(4, c, s), Some(&want));
        assert_eq!(t.lookup(99, s, c), Some(&want));
        assert_eq!(t.lookup(99, c, ep("17.57.146.20:443")), None);
    }

    #[test]
    fn other_names_are_not_couriers_and_end_a_reused_connection() {
        let (c, s) = (ep("10.0.0.2:50000"), ep("17.57.146.20:443"));
        let mut t = SniTracker::default();
        let www = client_hello("www.apple.com");
        assert_eq!(t.observe(1, c, s, 1, &www, www.len() as u32), Observed::Nothing);
        assert!(t.is_idle());
        let ch = client_hello("courier.sandbox.push.apple.com");
        assert!(matches!(t.observe(10, c, s, 1, &ch, ch.len() as u32), Observed::Courier(Courier { env: CourierEnv::Sandbox, .. })));
        assert_eq!(t.observe(20, c, s, 1, &www, www.len() as u32), Observed::Nothing);
        assert!(t.lookup(15, s, c).is_some());
        assert_eq!(t.lookup(20, s, c), None);
    }

    #[test]
    fn hello_over_three_segments_with_a_retransmission() {
        let (c, s) = (ep("[2001:db8::2]:50001"), ep("[2620:149::1]:5223"));
        let ch = padded_hello("7-courier.push.apple.com", 3000);
        let mut t = SniTracker::default();
        let (a, b, d) = (&ch[..1400], &ch[1400..2800], &ch[2800..]);
        assert_eq!(t.observe(5, c, s, 100, a, 1400), Observed::Nothing);
        assert_eq!(t.observe(6, s, c, 7, b"ack", 3), Observed::Nothing);
        assert_eq!(t.observe(7, c, s, 100, a, 1400), Observed::Nothing); // retransmitted
        assert_eq!(t.observe(8, c, s, 1500, b, 1400), Observed::Nothing);
        let mut tail = d.to_vec();
        tail.extend_from_slice(b"early data after the hello");
        assert!(matches!(t.observe(9, c, s, 2900, &tail, tail.len() as u32), Observed::Courier(Courier { hello_frame: 9, .. })));
        assert_eq!(t.lookup(8, c, s), None);
        assert!(t.lookup(9, c, s).is_some());
        assert_eq!(t.pending.len(), 0);
    }

    #[test]
    fn gaps_snaplen_and_oversize_are_dropped() {
        let (c, s) = (ep("10.0.0.2:50000"), ep("17.57.146.20:5223"));
        let ch = padded_hello("courier.push.apple.com", 3000);
        let mut t = SniTracker::default();
        t.observe(1, c, s, 0, &ch[..1000], 1000);
        t.observe(2, c, s, 2000, &ch[2000..], 1000); // gap
        assert!(t.is_idle());
        t.observe(3, c, s, 0, &ch[..1000], 1400); // snapped first segment
        assert!(t.is_idle());
        let mut huge = ch[..1000].to_vec();
        huge[3..5].copy_from_slice(&0xffffu16.to_be_bytes());
        t.observe(4, c, s, 0, &huge, 1000);
        assert!(t.is_idle());
        // Every split point once the first segment shows a ClientHello (6 bytes: record
        // header + handshake type): marked when the second segment completes it.
        for cut in 6..ch.len() {
            let mut t = SniTracker::default();
            t.observe(1, c, s, 0, &ch[..cut], cut as u32);
            let r = t.observe(2, c, s, cut as u32, &ch[cut..], (ch.len() - cut) as u32);
            assert!(matches!(r, Observed::Courier(_)), "{cut}");
        }
    }

    #[test]
    fn caps_are_reported_once() {
        let s = ep("17.57.146.20:5223");
        let ch = client_hello("courier.push.apple.com");
        let mut t = SniTracker::new(3);
        let mut caps = 0;
        for port in 1..=10u16 {
            match t.observe(port as u32, ep(&format!("10.0.0.2:{port}")), s, 1, &ch, ch.len() as u32) {
                Observed::CapReached => caps += 1,
                Observed::Courier(_) => {}
                Observed::Nothing => {}
            }
        }
        assert_eq!((t.connections(), caps), (3, 1));
        let big = padded_hello("courier.push.apple.com", 3000);
        let mut t = SniTracker::default();
        for port in 0..(MAX_PENDING as u16 + 5) {
            t.observe(1, ep(&format!("10.0.0.3:{}", 1000 + port)), s, 1, &big[..1000], 1000);
        }
        assert_eq!(t.pending.len(), MAX_PENDING);
        assert!(t.cap_reported);
    }
}

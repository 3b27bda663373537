//! Post-dissectors: called on every frame after all other dissectors, with the whole frame.
//!
//! A post-dissector is an ordinary [`Dissector`] (its `dissect` sees the frame's bytes from
//! the link layer on, and the top-level tree); [`register_postdissector`] hooks it in.
//! [`Packet::encapsulation`] tells which link layer the frame's bytes start with.

use super::entry::{self, Dissector};
use super::packet::Packet;
use super::sys;

/// Registers `D` as a post-dissector. Call in the handoff phase.
pub fn register_postdissector<D: Dissector>() {
    assert!(D::protocol().get() >= 0, "protocol used before registration");
    // SAFETY: handoff phase; the protocol is registered; the entry is 'static.
    unsafe { sys::appleshark_register_postdissector(Some(entry::dissector::<D>), D::protocol().get()) }
}

/// The link layer of a frame (Wireshark's `WTAP_ENCAP_*`, the common ones by name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encap {
    Ethernet,
    /// Bare IP, version in the first nibble.
    RawIp,
    RawIp4,
    RawIp6,
    /// Linux cooked capture v1 / v2.
    Sll,
    Sll2,
    /// BSD loopback, address family in host order (NULL) or network order (LOOP).
    Null,
    Loop,
    /// Any other `WTAP_ENCAP_*` value (or -2: not a packet record).
    Other(i32),
}

impl Encap {
    fn from_wtap(v: i32) -> Encap {
        match v as _ {
            sys::WTAP_ENCAP_ETHERNET => Encap::Ethernet,
            sys::WTAP_ENCAP_RAW_IP => Encap::RawIp,
            sys::WTAP_ENCAP_RAW_IP4 => Encap::RawIp4,
            sys::WTAP_ENCAP_RAW_IP6 => Encap::RawIp6,
            sys::WTAP_ENCAP_SLL => Encap::Sll,
            sys::WTAP_ENCAP_SLL2 => Encap::Sll2,
            sys::WTAP_ENCAP_NULL => Encap::Null,
            sys::WTAP_ENCAP_LOOP => Encap::Loop,
            _ => Encap::Other(v),
        }
    }
}

impl<'p> Packet<'p> {
    /// The link-layer encapsulation of this frame's record (meaningful for the frame's own
    /// bytes, i.e. in a post-dissector).
    pub fn encapsulation(&self) -> Encap {
        // SAFETY: pinfo is valid for the call; the shim only reads the record header.
        Encap::from_wtap(unsafe { sys::appleshark_pinfo_encap(self.pinfo) })
    }
}

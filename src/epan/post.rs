//! Post-dissectors: called on every frame after all other dissectors, with the whole frame.
//!
//! A post-dissector is an ordinary [`Dissector`] (its `dissect` sees the frame's bytes from
//! the link layer on, and the top-level tree); [`register_postdissector`] hooks it in.
//! [`Packet::encapsulation`] tells which link layer the frame's bytes start with.

use super::entry::{self, Dissector};
use super::packet::Packet;
use super::sys;
use crate::core::frame::Link;
use std::ffi::CStr;

/// Registers `D` as a post-dissector. Call in the handoff phase.
pub fn register_postdissector<D: Dissector>() {
    assert!(D::protocol().get() >= 0, "protocol used before registration");
    // SAFETY: handoff phase; the protocol is registered; the entry is 'static.
    unsafe { sys::appleshark_register_postdissector(Some(entry::dissector::<D>), D::protocol().get()) }
}

/// Wireshark's `WTAP_ENCAP_*` value mapped to the link layers the core frame parser reads
/// (`core::frame::Link`); None for any other encapsulation (or -2: not a packet).
fn link_from_wtap(v: i32) -> Option<Link> {
    Some(match v as _ {
        sys::WTAP_ENCAP_ETHERNET => Link::Ethernet,
        sys::WTAP_ENCAP_RAW_IP => Link::RawIp,
        sys::WTAP_ENCAP_RAW_IP4 => Link::RawIp4,
        sys::WTAP_ENCAP_RAW_IP6 => Link::RawIp6,
        sys::WTAP_ENCAP_SLL => Link::Sll,
        sys::WTAP_ENCAP_SLL2 => Link::Sll2,
        sys::WTAP_ENCAP_NULL => Link::Null,
        sys::WTAP_ENCAP_LOOP => Link::Loop,
        _ => return None,
    })
}

impl<'p> Packet<'p> {
    /// Whether a dissector of protocol `filter_name` (e.g. `c"apns"`) has run on this frame
    /// (Wireshark's per-frame layer list; meaningful in a post-dissector).
    pub fn has_layer(&self, filter_name: &CStr) -> bool {
        // SAFETY: pinfo is valid for the call; layers is a list Wireshark owns (may be NULL,
        // which proto_is_frame_protocol accepts).
        #[allow(clippy::unnecessary_cast)] // gboolean (int) in 4.0, bool from 4.4
        unsafe { sys::proto_is_frame_protocol((*self.pinfo).layers, filter_name.as_ptr()) as i32 != 0 }
    }

    /// Puts `text` in front of the Info column, even where a dissector left the column
    /// read-only (post-dissectors run last).
    pub fn prepend_info(&mut self, text: &str) {
        let c = super::packet::cstring(text);
        // SAFETY: pinfo is valid for the call; the shim copies the string.
        unsafe { sys::appleshark_col_prepend_info(self.pinfo, c.as_ptr()) }
    }

    /// The link-layer encapsulation of this frame's record (meaningful for the frame's own
    /// bytes, i.e. in a post-dissector).
    pub fn link_layer(&self) -> Option<Link> {
        // SAFETY: pinfo is valid for the call; the shim only reads the record header.
        link_from_wtap(unsafe { sys::appleshark_pinfo_encap(self.pinfo) })
    }
}

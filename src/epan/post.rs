//! Post-dissectors: called on every frame after all other dissectors, with the whole frame
//! (`wireshark-headers/shim_post.c`).
//!
//! A post-dissector is an ordinary [`Dissector`] (its `dissect` sees the frame's bytes from
//! the link layer on, and the top-level tree); [`register_postdissector`] hooks it in.
//! [`Packet::link_layer`] tells which link layer the frame's bytes start with.
//!
//! [`TcpPostDissector`] is the common kind: one that reads the TCP segment in the frame's own
//! bytes (`core::frame`), whatever Wireshark's TCP preferences and dissectors made of it.

use super::entry::{self, Dissector};
use super::packet::Packet;
use super::registry::Protocol;
use super::sys;
use crate::core::frame::{self, Link, TcpView};
use std::ffi::CStr;
use std::marker::PhantomData;

/// Registers `D` as a post-dissector. Call in the handoff phase.
pub fn register_postdissector<D: Dissector>() {
    assert!(D::protocol().get() >= 0, "protocol used before registration");
    // SAFETY: handoff phase; the protocol is registered; the entry is 'static.
    unsafe { sys::appleshark_register_postdissector(Some(entry::dissector::<D>), D::protocol().get()) }
}

/// A post-dissector of the TCP segment each frame carries: called for the frames whose own
/// bytes hold one (link layers `core::frame` reads; not for other frames).
pub trait TcpPostDissector: 'static {
    fn protocol() -> &'static Protocol;
    /// One frame's segment (its spans are offsets into `pkt.bytes()`, the whole frame).
    fn segment(pkt: &mut Packet<'_>, seg: TcpView<'_>);
}

/// The [`Dissector`] that finds the segment and hands it to `P`.
struct TcpPost<P>(PhantomData<fn() -> P>);

impl<P: TcpPostDissector> Dissector for TcpPost<P> {
    fn protocol() -> &'static Protocol {
        P::protocol()
    }
    fn dissect(pkt: &mut Packet<'_>) -> usize {
        let Some(link) = pkt.link_layer() else { return 0 };
        let Some(seg) = frame::tcp_segment(link, pkt.bytes()) else { return 0 };
        P::segment(pkt, seg);
        0
    }
}

/// Registers `P` as a post-dissector. Call in the handoff phase.
pub fn register_tcp_postdissector<P: TcpPostDissector>() {
    register_postdissector::<TcpPost<P>>();
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

    /// The link-layer encapsulation of this frame's record (meaningful for the frame's own
    /// bytes, i.e. in a post-dissector).
    pub fn link_layer(&self) -> Option<Link> {
        // SAFETY: pinfo is valid for the call; the shim only reads the record header.
        link_from_wtap(unsafe { sys::appleshark_pinfo_encap(self.pinfo) })
    }
}

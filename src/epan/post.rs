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
        let link = pkt.link_layer();
        if let Some(seg) = link.and_then(|l| frame::tcp_segment(l, pkt.bytes())) {
            P::segment(pkt, seg);
        } else if let Some(seg) = frame::tcp_segment(Link::Pktap, pkt.bytes()).filter(|_| pkt.has_layer(c"pktap")) {
            // Wireshark's PKTAP dissector rewrites the record's encapsulation to the inner
            // link layer's before handing the frame on, so a PKTAP frame reads as, e.g.,
            // Ethernet here while its bytes still start with the PKTAP header. The bytes are
            // tried first (most frames fail at the header's type word) and the layer list,
            // a walk with a string compare per layer, only for the few that read as PKTAP.
            P::segment(pkt, seg);
        } else if link.is_some_and(Link::may_decrypt) {
            // Encrypted Wi-Fi: the segment is in the bytes Wireshark decrypted (a data source
            // of the frame's own), if it had the keys; the tree then highlights there.
            for idx in 1..MAX_SOURCES {
                let Some(mut src) = pkt.data_source(idx) else { break };
                if let Some(seg) = frame::tcp_segment_llc(src.bytes()) {
                    P::segment(&mut src, seg);
                    break;
                }
            }
        }
        0
    }
}

/// Data sources looked at for a decrypted segment (the frame itself is number 0).
const MAX_SOURCES: u32 = 4;

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
        sys::WTAP_ENCAP_IEEE_802_11 | sys::WTAP_ENCAP_IEEE_802_11_WITH_RADIO => Link::Ieee80211,
        sys::WTAP_ENCAP_IEEE_802_11_RADIOTAP => Link::Radiotap,
        sys::WTAP_ENCAP_PPI => Link::Ppi,
        sys::WTAP_ENCAP_IEEE_802_11_PRISM | sys::WTAP_ENCAP_IEEE_802_11_AVS | sys::WTAP_ENCAP_IEEE_802_11_NETMON => Link::Wifi,
        sys::WTAP_ENCAP_PKTAP => Link::Pktap,
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

    /// The frame's data source number `idx` (0 is the frame itself; later ones are bytes a
    /// dissector made, such as decrypted 802.11 payload) as a packet over those bytes, with
    /// this packet's tree: items added to it highlight in that data source.
    pub fn data_source(&self, idx: u32) -> Option<Packet<'p>> {
        // SAFETY: pinfo is valid for the call; the shim walks Wireshark's list and returns a
        // tvb that lives as long as the frame's dissection (NULL past the end).
        let tvb = unsafe { sys::appleshark_data_source_tvb(self.pinfo, idx) };
        if tvb.is_null() {
            return None;
        }
        // SAFETY: a live tvb of this frame, with this packet's pinfo and tree.
        Some(unsafe { Packet::from_raw(tvb, self.pinfo, self.tree, std::ptr::null_mut()) })
    }

    /// The link-layer encapsulation of this frame's record (meaningful for the frame's own
    /// bytes, i.e. in a post-dissector).
    pub fn link_layer(&self) -> Option<Link> {
        // SAFETY: pinfo is valid for the call; the shim only reads the record header.
        link_from_wtap(unsafe { sys::appleshark_pinfo_encap(self.pinfo) })
    }
}

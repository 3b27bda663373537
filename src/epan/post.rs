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
use std::sync::{Mutex, OnceLock};

/// Registers `D` as a post-dissector. Call in the handoff phase.
pub fn register_postdissector<D: Dissector>() {
    assert!(D::protocol().get() >= 0, "protocol used before registration");
    // SAFETY: handoff phase; the protocol is registered; the entry is 'static.
    unsafe { sys::appleshark_register_postdissector(Some(entry::dissector::<D>), D::protocol().get()) }
}

/// A post-dissector of the TCP segment each frame carries: called for the frames whose own
/// bytes hold one (link layers `core::frame` reads; not for other frames), when its protocol
/// is enabled.
pub trait TcpPostDissector: 'static {
    fn protocol() -> &'static Protocol;
    /// Whether [`segment`](Self::segment) could do anything with this segment: a cheap test
    /// (no state, no Wireshark call) that lets the hook skip the protocol-enabled check, the
    /// panic guard and the call for the segments of other traffic. It must be true wherever
    /// `segment` would do something.
    fn wants(_seg: &TcpView<'_>) -> bool {
        true
    }
    /// One frame's segment (its spans are offsets into `pkt.bytes()`, the whole frame).
    fn segment(pkt: &mut Packet<'_>, seg: TcpView<'_>);
}

/// The protocol of the TCP hook: one Wireshark post-dissector that finds each frame's TCP
/// segment once and hands it to every [`TcpPostDissector`] registered. One hook instead of
/// one post-dissector each: Wireshark's per-post-dissector cost (protocol layer list, call)
/// is paid on every frame of every capture, Apple's or not. A helper "in name only" of TCP:
/// enabled with TCP; each consumer is still switched by its own protocol.
static TCP_HOOK: Protocol = Protocol::new(c"Apple TCP post-dissection", c"Apple-TCP", c"apple_tcp");

/// A registered consumer: its protocol and its segment function.
#[derive(Clone, Copy)]
struct Consumer {
    proto: &'static Protocol,
    wants: fn(&TcpView<'_>) -> bool,
    segment: fn(&mut Packet<'_>, TcpView<'_>),
}

/// Consumers as registered (handoff phase), then frozen into [`HOOKED`] at the first frame.
static REGISTERED: Mutex<Vec<Consumer>> = Mutex::new(Vec::new());
static HOOKED: OnceLock<Vec<Consumer>> = OnceLock::new();

/// Registers the hook's protocol. Call in the register phase (TCP is registered by then).
pub fn register_tcp_hook() {
    // SAFETY: register phase, single-threaded; the strings are 'static.
    let id = unsafe {
        sys::appleshark_register_tcp_helper_protocol(TCP_HOOK.name.as_ptr(), TCP_HOOK.short_name.as_ptr(), TCP_HOOK.filter_name.as_ptr())
    };
    TCP_HOOK.id.set(id);
}

/// Registers `P` with the TCP hook. Call in the handoff phase.
pub fn register_tcp_postdissector<P: TcpPostDissector>() {
    let mut r = REGISTERED.lock().unwrap_or_else(|e| e.into_inner());
    if r.is_empty() && TCP_HOOK.get() >= 0 {
        register_postdissector::<Hook>();
    }
    r.push(Consumer { proto: P::protocol(), wants: P::wants, segment: P::segment });
}

/// The hook's [`Dissector`]: finds the segment once, runs each enabled consumer on it.
struct Hook;

impl Dissector for Hook {
    fn protocol() -> &'static Protocol {
        &TCP_HOOK
    }
    fn dissect(pkt: &mut Packet<'_>) -> usize {
        let consumers = HOOKED.get_or_init(|| REGISTERED.lock().unwrap_or_else(|e| e.into_inner()).clone());
        let link = pkt.link_layer();
        let run = |pkt: &mut Packet<'_>, seg: TcpView<'_>| {
            for c in consumers {
                // SAFETY: a registered protocol id (or -1, which the shim answers with 0).
                if (c.wants)(&seg) && unsafe { sys::appleshark_proto_enabled(c.proto.get()) } != 0 {
                    // As Wireshark does around each dissector it calls: expert infos (and
                    // their -z expert / dialog rows) name pinfo's current protocol.
                    let saved = pkt.set_current_proto(c.proto.short_name);
                    entry::run_guarded(pkt, c.proto, |p| (c.segment)(p, seg));
                    pkt.restore_current_proto(saved);
                }
            }
        };
        if let Some(seg) = link.and_then(|l| frame::tcp_segment(l, pkt.bytes())) {
            run(pkt, seg);
        } else if let Some(seg) = frame::tcp_segment(Link::Pktap, pkt.bytes()).filter(|_| pkt.has_layer(c"pktap")) {
            // Wireshark's PKTAP dissector rewrites the record's encapsulation to the inner
            // link layer's before handing the frame on, so a PKTAP frame reads as, e.g.,
            // Ethernet here while its bytes still start with the PKTAP header. The bytes are
            // tried first (most frames fail at the header's type word) and the layer list,
            // a walk with a string compare per layer, only for the few that read as PKTAP.
            run(pkt, seg);
        } else if link.is_some_and(Link::may_decrypt) {
            // Encrypted Wi-Fi: the segment is in the bytes Wireshark decrypted (a data source
            // of the frame's own), if it had the keys; the tree then highlights there.
            for idx in 1..MAX_SOURCES {
                let Some(mut src) = pkt.data_source(idx) else { break };
                if let Some(seg) = frame::tcp_segment_llc(src.bytes()) {
                    run(&mut src, seg);
                    break;
                }
            }
        }
        0
    }
}

/// Data sources looked at for a decrypted segment (the frame itself is number 0).
const MAX_SOURCES: u32 = 4;

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

impl Packet<'_> {
    /// Makes `name` pinfo's current protocol; returns the previous one for
    /// [`Packet::restore_current_proto`].
    fn set_current_proto(&mut self, name: &'static std::ffi::CStr) -> *const std::ffi::c_char {
        // SAFETY: pinfo is valid for the call; the name is 'static.
        unsafe {
            let saved = (*self.pinfo).current_proto;
            (*self.pinfo).current_proto = name.as_ptr();
            saved
        }
    }
    fn restore_current_proto(&mut self, saved: *const std::ffi::c_char) {
        // SAFETY: pinfo is valid for the call; `saved` is the value Wireshark had set.
        unsafe { (*self.pinfo).current_proto = saved };
    }
}

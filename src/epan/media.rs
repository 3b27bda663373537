//! Sharing one UDP port between signalling and media (FaceTime): conversation ownership and
//! RTP stream set-up.
//!
//! How Wireshark 4.0 routes a UDP payload (`decode_udp_ports`): first the conversation
//! dissector — the *exact* conversation (both addresses and ports) before any wildcard one —
//! then the port tables, then the heuristics. SDP's `rtp_add_address` creates the wildcard
//! conversation `addr:port <-> any` and gives it to RTP, which is how a later SIP BYE on the
//! same port ends up in the RTP dissector. A demultiplexer therefore
//! - claims the packet's exact conversation ([`Packet::claim_flow`]): it is tried first;
//! - takes back the wildcard conversations SDP handed to RTP on its ports
//!   ([`Packet::reclaim_media`]), for media on another port pair than the signalling;
//! - sets RTP up itself with the payload types it learned ([`Packet::rtp_setup`]), so that
//!   packets it hands to the `rtp` dissector carry the call's set-up (RTP streams, VoIP calls).
//!
//! All of this only on the first pass; the calls check `visited()` themselves.

use super::handoff::Handle;
use super::packet::Packet;
use super::sys;
use std::ffi::{c_char, c_int, CString};
use std::net::IpAddr;

/// `RTP_MEDIA_*` bits of packet-rtp.h.
pub const RTP_MEDIA_AUDIO: u32 = 1;
pub const RTP_MEDIA_VIDEO: u32 = 2;
pub const RTP_MEDIA_OTHER: u32 = 4;

/// One payload type and its encoding (from an SDP `rtpmap`).
pub struct PayloadType<'a> {
    pub pt: u8,
    pub encoding: &'a str,
    pub clock_rate: u32,
}

fn addr_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

impl<'p> Packet<'p> {
    /// Sends this packet's exact UDP conversation to `handle` from now on (first pass only).
    /// Returns true when the conversation's dissector changed.
    pub fn claim_flow(&self, handle: &Handle) -> bool {
        if self.visited() || !handle.is_set() {
            return false;
        }
        // SAFETY: live pinfo; the shim only looks up / creates conversations (no throw).
        unsafe { sys::appleshark_media_claim_flow(self.pinfo, handle.get()) != 0 }
    }

    /// Hands the wildcard conversation `addr:port <-> any` (if any exists at this frame) to
    /// `handle` (first pass only). Returns true when one was changed.
    pub fn reclaim_media(&self, addr: IpAddr, port: u16, handle: &Handle) -> bool {
        if self.visited() || !handle.is_set() {
            return false;
        }
        let a = addr_bytes(addr);
        // SAFETY: `a` holds 4 or 16 bytes and outlives the call (the shim copies nothing it
        // keeps: find_conversation only reads the address).
        unsafe { sys::appleshark_media_reclaim(self.pinfo, a.as_ptr(), a.len() as c_int, port as _, handle.get()) != 0 }
    }

    /// `rtp_add_address(addr:port)` with these payload types, set up by `method` (at most 11
    /// characters, shown as "Stream setup by …") in `setup_frame`. First pass only. Note that
    /// it gives the wildcard conversation to RTP: reclaim it afterwards.
    pub fn rtp_setup(&self, addr: IpAddr, port: u16, method: &str, setup_frame: u32, media_types: u32, pts: &[PayloadType<'_>]) -> bool {
        if self.visited() {
            return false;
        }
        let a = addr_bytes(addr);
        let method: String = method.chars().filter(|c| *c != '\0').take(11).collect();
        let method = CString::new(method).unwrap_or_default();
        let names: Vec<CString> = pts.iter().map(|p| CString::new(p.encoding.replace('\0', "")).unwrap_or_default()).collect();
        let name_ptrs: Vec<*const c_char> = names.iter().map(|n| n.as_ptr()).collect();
        let codes: Vec<u8> = pts.iter().map(|p| p.pt).collect();
        let rates: Vec<c_int> = pts.iter().map(|p| p.clock_rate.min(i32::MAX as u32) as c_int).collect();
        // SAFETY: all arrays have pts.len() entries and live across the call; rtp_add_address
        // copies the encoding names into file scope. The shim catches exceptions.
        unsafe {
            sys::appleshark_media_rtp_setup(
                self.pinfo,
                a.as_ptr(),
                a.len() as c_int,
                port as _,
                method.as_ptr(),
                setup_frame as _,
                media_types as _,
                pts.len() as c_int,
                codes.as_ptr(),
                name_ptrs.as_ptr(),
                rates.as_ptr(),
            ) == 0
        }
    }
}

//! Helpers for protocols with several PDUs per frame and for conversation-level hand-off.
//!
//! - [`Packet::pdu_index`]: the how-manieth call of a protocol's PDU dissector this is in
//!   the current dissection of the frame (0, 1, …). The same on every pass, because a
//!   frame's PDUs are always dissected in the same order; so `(frame, index)` names a PDU
//!   across passes (also when the GUI dissects one frame twice in a row), and index 0 says
//!   "first PDU of the frame: replace the Info column, don't append".
//! - [`Packet::set_conversation_dissector`]: after a strong heuristic match, the rest of the
//!   conversation goes straight to a handle.

use super::handoff::Handle;
use super::packet::Packet;
use super::registry::Protocol;
use super::sys;
use std::ffi::c_void;

/// proto-data key of the counter (packet scope; per protocol).
const PDU_COUNTER_KEY: u32 = 0x5044_5531; // "PDU1"

impl<'p> Packet<'p> {
    /// Returns 0 on the first call for `proto` in this dissection of the frame, then 1, 2, …
    pub fn pdu_index(&self, proto: &Protocol) -> u32 {
        assert!(proto.get() >= 0, "protocol used before registration");
        // SAFETY: pinfo is live for the call; the counter lives in pinfo->pool (freed after
        // this dissection of the frame, together with pinfo->proto_data that points to it).
        // p_add/p_get_proto_data with pinfo->pool never throw.
        unsafe {
            let pool = (*self.pinfo).pool;
            let mut p = sys::p_get_proto_data(pool, self.pinfo, proto.get(), PDU_COUNTER_KEY) as *mut u32;
            if p.is_null() {
                p = sys::wmem_alloc0(pool, std::mem::size_of::<u32>()) as *mut u32;
                if p.is_null() {
                    return 0;
                }
                sys::p_add_proto_data(pool, self.pinfo, proto.get(), PDU_COUNTER_KEY, p as *mut c_void);
            }
            let n = *p;
            *p = n.saturating_add(1);
            n
        }
    }

    /// Hands the rest of this packet's conversation to `handle` (conversation_set_dissector).
    pub fn set_conversation_dissector(&self, handle: &Handle) {
        if !handle.is_set() {
            return;
        }
        // SAFETY: pinfo is live; find_or_create_conversation and conversation_set_dissector
        // never throw.
        // From this frame on only: a later pass then reads the frames before it exactly as the
        // first pass did (through the heuristics), so one and two passes agree.
        unsafe {
            let conv = sys::find_or_create_conversation(self.pinfo);
            sys::conversation_set_dissector_from_frame_number(conv, (*self.pinfo).num, handle.get());
        }
    }
}

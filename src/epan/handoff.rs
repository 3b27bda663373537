//! Hooking dissectors into Wireshark: names, heuristic lists, port tables, and calling other
//! dissectors by name.

use super::entry::{self, Dissector, Heuristic, TcpPdus};
use super::packet::Packet;
use super::sys;
use crate::core::span::Span;
use std::ffi::{c_int, CStr};
use std::sync::atomic::{AtomicPtr, Ordering};

/// A dissector handle (ours or another protocol's), stored in a `static`.
pub struct Handle(AtomicPtr<sys::dissector_handle>);

impl Handle {
    pub const fn new() -> Self {
        Handle(AtomicPtr::new(std::ptr::null_mut()))
    }
    pub(crate) fn get(&self) -> sys::dissector_handle_t {
        self.0.load(Ordering::Relaxed)
    }
    fn set(&self, h: sys::dissector_handle_t) -> &Self {
        self.0.store(h, Ordering::Relaxed);
        self
    }
    pub fn is_set(&self) -> bool {
        !self.get().is_null()
    }

    /// Registers `D` under `name` (so others can `find_dissector(name)`), keeping the handle.
    pub fn register<D: Dissector>(&self, name: &'static CStr) -> &Self {
        // SAFETY: registration phase; the protocol is registered; name is 'static.
        self.set(unsafe { sys::register_dissector(name.as_ptr(), Some(entry::dissector::<D>), D::protocol().get()) })
    }

    /// Registers the TCP PDU protocol `T` under `name`.
    pub fn register_tcp_pdus<T: TcpPdus>(&self, name: &'static CStr) -> &Self {
        // SAFETY: as above.
        self.set(unsafe { sys::register_dissector(name.as_ptr(), Some(entry::tcp_pdus::<T>), T::protocol().get()) })
    }

    /// Looks up another protocol's dissector by name (call in the handoff phase). Returns
    /// false when that protocol does not exist in this Wireshark.
    pub fn find(&self, name: &'static CStr) -> bool {
        // SAFETY: find_dissector only reads the registry.
        self.set(unsafe { sys::find_dissector(name.as_ptr()) }).is_set()
    }

    /// Adds this handle to a uint table (e.g. "udp.port") for `port`, with the preference
    /// Wireshark creates for it (`<proto>.udp.port`).
    pub fn add_uint_with_preference(&self, table: &'static CStr, port: u32) {
        assert!(self.is_set());
        // SAFETY: handoff phase; table name is 'static.
        unsafe { sys::dissector_add_uint_with_preference(table.as_ptr(), port, self.get()) }
    }

    /// Adds this handle to a uint table for a range ("16393-16472"), with its preference.
    pub fn add_uint_range_with_preference(&self, table: &'static CStr, range: &'static CStr) {
        assert!(self.is_set());
        // SAFETY: as above.
        unsafe { sys::dissector_add_uint_range_with_preference(table.as_ptr(), range.as_ptr(), self.get()) }
    }

    /// Adds this handle to a uint table without a preference (e.g. "rtp.hdr_ext" for one
    /// header-extension profile).
    pub fn add_uint(&self, table: &'static CStr, value: u32) {
        assert!(self.is_set());
        // SAFETY: handoff phase; table name is 'static.
        unsafe { sys::dissector_add_uint(table.as_ptr(), value, self.get()) }
    }

    /// Adds this handle to a string table (e.g. "tls.alpn").
    pub fn add_string(&self, table: &'static CStr, value: &'static CStr) {
        assert!(self.is_set());
        // SAFETY: as above.
        unsafe { sys::dissector_add_string(table.as_ptr(), value.as_ptr(), self.get()) }
    }

    /// Offers this handle in "Decode As" for a table.
    pub fn add_for_decode_as(&self, table: &'static CStr) {
        assert!(self.is_set());
        // SAFETY: as above.
        unsafe { sys::dissector_add_for_decode_as(table.as_ptr(), self.get()) }
    }
}

impl Default for Handle {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers heuristic `H` on list `list` ("udp", "tcp", "tls"…); `short_name` is what
/// `--disable-heuristic` / `--enable-heuristic` take.
pub fn add_heuristic<H: Heuristic>(list: &'static CStr, display_name: &'static CStr, short_name: &'static CStr, enabled: bool) {
    let enable = if enabled { sys::HEURISTIC_ENABLE } else { sys::HEURISTIC_DISABLE };
    // SAFETY: handoff phase; strings are 'static.
    unsafe {
        sys::heur_dissector_add(list.as_ptr(), Some(entry::heuristic::<H>), display_name.as_ptr(), short_name.as_ptr(), H::protocol().get(), enable as _)
    }
}

impl<'p> Packet<'p> {
    /// Calls `handle` on `span` of this packet (clamped to the captured bytes). Returns what it
    /// took, or None when the handle is unset or the called dissector threw (Wireshark has
    /// then already marked the packet, e.g. malformed).
    pub fn call(&mut self, handle: &Handle, span: Span) -> Option<usize> {
        if !handle.is_set() {
            return None;
        }
        let len = self.bytes().len();
        let start = span.offset.min(len);
        let n = span.len.min(len - start);
        // SAFETY: live pointers for this call; the C shim catches the callee's exceptions.
        let r = unsafe {
            sys::appleshark_call_dissector(handle.get(), self.tvb, start as c_int, n as c_int, self.pinfo, self.tree, std::ptr::null_mut())
        };
        (r >= 0).then_some(r as usize)
    }
}

//! The packet being dissected: its captured bytes, its metadata, its columns and its tree.
//!
//! Nothing here can make Wireshark throw: bytes are read once, for the captured length only,
//! into a slice; every tree item's range is clamped to that length; values are added with
//! explicit-value calls (`proto_tree_add_uint` …) whose value type the field's typed handle
//! fixes when compiling.

use super::cbuf::CBuf;
use super::registry::{AbsTime, EttId, ExpertId, FrameNum, Hf, Protocol, RelTime, Subtree};
use super::sys;
use crate::core::span::Span;
use std::ffi::{c_int, c_void, CStr, CString};
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A point in time or a duration, as Wireshark's `nstime_t`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time {
    pub secs: i64,
    pub nanos: i32,
}

impl Time {
    pub fn from_nanos(ns: i128) -> Time {
        Time { secs: ns.div_euclid(1_000_000_000) as i64, nanos: ns.rem_euclid(1_000_000_000) as i32 }
    }
    pub fn as_nanos(&self) -> i128 {
        self.secs as i128 * 1_000_000_000 + self.nanos as i128
    }
    /// `self - earlier`.
    pub fn since(&self, earlier: Time) -> Time {
        Time::from_nanos(self.as_nanos() - earlier.as_nanos())
    }
    fn to_nstime(self) -> sys::nstime_t {
        sys::nstime_t { secs: self.secs as _, nsecs: self.nanos as _ }
    }
}

/// The packet handed to a dissector entry point. Lives for one call.
pub struct Packet<'p> {
    pub(crate) tvb: *mut sys::tvbuff_t,
    pub(crate) pinfo: *mut sys::packet_info,
    pub(crate) tree: *mut sys::proto_tree,
    #[allow(dead_code)] // the `data` argument some callers pass (e.g. TLS); unused so far
    pub(crate) data_arg: *mut c_void,
    bytes: &'p [u8],
    _life: PhantomData<&'p mut ()>,
}

impl<'p> Packet<'p> {
    /// # Safety
    /// The pointers are those Wireshark passed to a dissector entry point, valid for `'p`.
    pub(crate) unsafe fn from_raw(
        tvb: *mut sys::tvbuff_t,
        pinfo: *mut sys::packet_info,
        tree: *mut sys::proto_tree,
        data_arg: *mut c_void,
    ) -> Packet<'p> {
        let len = sys::tvb_captured_length(tvb) as usize;
        let bytes = if len == 0 {
            &[][..]
        } else {
            // Offset 0 and exactly the captured length: tvb_get_ptr cannot throw here.
            let p = sys::tvb_get_ptr(tvb, 0, len as c_int);
            if p.is_null() {
                &[][..]
            } else {
                std::slice::from_raw_parts(p, len)
            }
        };
        Packet { tvb, pinfo, tree, data_arg, bytes, _life: PhantomData }
    }

    /// The captured bytes of this packet (or of the sub-range handed to this dissector).
    pub fn bytes(&self) -> &'p [u8] {
        self.bytes
    }

    /// The length the packet had on the wire (may exceed the captured bytes).
    pub fn reported_len(&self) -> usize {
        // SAFETY: tvb is valid for the call; this accessor never throws.
        unsafe { sys::tvb_reported_length(self.tvb) as usize }
    }

    /// True when the capture's snap length cut this packet (or the part handed to this
    /// dissector) short: fewer bytes are there than the packet had on the wire.
    pub fn is_cut(&self) -> bool {
        self.bytes.len() < self.reported_len()
    }

    /// Says that the bytes missing were cut off by the capture, the way stock Wireshark does
    /// ("[Packet size limited during capture]", no expert info): for a message that runs past
    /// the captured bytes only because of the snap length. Call at most once per packet.
    pub fn mark_cut(&mut self) {
        // SAFETY: live pointers; show_exception with BoundsError only adds a column text and a
        // zero-length protocol item (it throws nothing).
        unsafe { sys::appleshark_show_cut(self.tvb, self.pinfo, self.tree) }
    }

    /// The frame number (1-based).
    pub fn frame(&self) -> u32 {
        // SAFETY: pinfo is valid for the call.
        unsafe { (*self.pinfo).num }
    }

    /// True on a second pass over the frame (tshark -2, the GUI): conversation state must only
    /// be changed when this is false.
    pub fn visited(&self) -> bool {
        // SAFETY: pinfo is valid for the call.
        unsafe { sys::appleshark_pinfo_visited(self.pinfo) != 0 }
    }

    /// The frame's absolute capture time.
    pub fn time(&self) -> Time {
        // SAFETY: pinfo is valid for the call.
        let t = unsafe { (*self.pinfo).abs_ts };
        Time { secs: t.secs as i64, nanos: t.nsecs as i32 }
    }

    fn addr(a: &sys::address) -> Option<IpAddr> {
        if a.data.is_null() {
            return None;
        }
        // SAFETY: for AT_IPv4/AT_IPv6 Wireshark's address data holds 4/16 bytes.
        unsafe {
            if a.type_ == sys::AT_IPv4 as c_int && a.len == 4 {
                let b = std::slice::from_raw_parts(a.data as *const u8, 4);
                Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])))
            } else if a.type_ == sys::AT_IPv6 as c_int && a.len == 16 {
                let mut o = [0u8; 16];
                o.copy_from_slice(std::slice::from_raw_parts(a.data as *const u8, 16));
                Some(IpAddr::V6(Ipv6Addr::from(o)))
            } else {
                None
            }
        }
    }

    /// Network-layer source address, when it is IPv4 or IPv6.
    pub fn src(&self) -> Option<IpAddr> {
        // SAFETY: pinfo is valid for the call.
        Self::addr(unsafe { &(*self.pinfo).src })
    }
    pub fn dst(&self) -> Option<IpAddr> {
        // SAFETY: pinfo is valid for the call.
        Self::addr(unsafe { &(*self.pinfo).dst })
    }
    pub fn src_port(&self) -> u16 {
        // SAFETY: pinfo is valid for the call.
        unsafe { (*self.pinfo).srcport as u16 }
    }
    pub fn dst_port(&self) -> u16 {
        // SAFETY: pinfo is valid for the call.
        unsafe { (*self.pinfo).destport as u16 }
    }

    /// Sets the Protocol column.
    pub fn set_protocol_column(&mut self, name: &'static CStr) {
        // SAFETY: cinfo may be NULL (col_* accept that); the string is 'static as col_set_str needs.
        unsafe { sys::col_set_str((*self.pinfo).cinfo, sys::COL_PROTOCOL as c_int, name.as_ptr()) }
    }

    /// Replaces the Info column.
    pub fn set_info(&mut self, text: &str) {
        if !self.wants_columns() {
            return;
        }
        let mut c = CBuf::from_str(text);
        // SAFETY: col_add_str copies the string.
        unsafe {
            sys::col_clear((*self.pinfo).cinfo, sys::COL_INFO as c_int);
            sys::col_add_str((*self.pinfo).cinfo, sys::COL_INFO as c_int, c.as_ptr());
        }
    }

    /// Appends to the Info column.
    pub fn append_info(&mut self, text: &str) {
        if !self.wants_columns() {
            return;
        }
        let mut c = CBuf::from_str(text);
        // SAFETY: col_append_str copies the string.
        unsafe { sys::col_append_str((*self.pinfo).cinfo, sys::COL_INFO as c_int, c.as_ptr()) }
    }

    /// Appends text built in a [`CBuf`] to the Info column (no allocation for the usual
    /// short text; build it only when [`Packet::wants_columns`]).
    pub fn append_info_buf(&mut self, text: &mut CBuf) {
        if !self.wants_columns() || text.is_empty() {
            return;
        }
        // SAFETY: col_append_str copies the string.
        unsafe { sys::col_append_str((*self.pinfo).cinfo, sys::COL_INFO as c_int, text.as_ptr()) }
    }

    /// Whether Wireshark keeps columns for this frame (column text written otherwise is
    /// thrown away by the column calls themselves, after we paid for formatting it).
    pub fn wants_columns(&self) -> bool {
        // SAFETY: pinfo is valid for the call.
        unsafe { !(*self.pinfo).cinfo.is_null() }
    }

    /// Stops lower layers' later column writes from replacing ours (col_set_fence).
    pub fn fence_info(&mut self) {
        // SAFETY: as above.
        unsafe { sys::col_set_fence((*self.pinfo).cinfo, sys::COL_INFO as c_int) }
    }

    /// The tree to add this packet's items to (a no-op tree when Wireshark builds none).
    pub fn tree(&self) -> Tree<'p> {
        Tree { tree: self.tree, tvb: self.tvb, pinfo: self.pinfo, len: self.bytes.len(), _life: PhantomData }
    }

    /// Adds an expert info under the tree, covering `span`.
    pub fn expert(&self, ei: &ExpertId, span: Span, text: Option<&str>) -> Item<'p> {
        self.tree().expert(ei, span, text)
    }

    pub(crate) fn report_internal_error(&self, proto: &Protocol, msg: &str) {
        if proto.internal_error.registered() {
            let span = Span::new(0, self.bytes.len());
            self.tree().expert(&proto.internal_error, span, Some(&format!("appleshark internal error: {msg}")));
        }
    }
}

pub(crate) fn cstring(s: &str) -> CString {
    // One allocation in the usual case (no NUL inside); NULs are shown as "\0".
    CString::new(s).unwrap_or_else(|_| CString::new(s.replace('\0', "\\0")).unwrap_or_default())
}

/// A protocol tree (or subtree) being built. All methods accept a NULL tree (first pass of
/// tshark without -V, or a tree Wireshark chose not to build) and then do nothing.
#[derive(Clone, Copy)]
pub struct Tree<'p> {
    tree: *mut sys::proto_tree,
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    len: usize,
    _life: PhantomData<&'p ()>,
}

/// An item in the tree, to decorate or to hang a subtree on.
#[derive(Clone, Copy)]
pub struct Item<'p> {
    item: *mut sys::proto_item,
    tvb: *mut sys::tvbuff_t,
    pinfo: *mut sys::packet_info,
    len: usize,
    _life: PhantomData<&'p ()>,
}

/// A value that can be added to a field of kind `K` (`Hf<K>`): the pairing is checked when
/// compiling. Integers widen losslessly (a `u8` to a `u32` field); a frame number is a `u32`;
/// both time kinds take a [`Time`].
pub trait FieldValue<K: ?Sized> {
    #[doc(hidden)]
    /// # Safety
    /// Called only with a live tree/tvb and a registered field of kind `K`.
    unsafe fn add(&self, tree: *mut sys::proto_tree, hf: c_int, tvb: *mut sys::tvbuff_t, start: c_int, len: c_int) -> *mut sys::proto_item;
}

macro_rules! field_value {
    ($($v:ty => [$($k:ty),*] |$x:ident| $call:ident($conv:expr);)*) => {$($(
        impl FieldValue<$k> for $v {
            unsafe fn add(&self, tree: *mut sys::proto_tree, hf: c_int, tvb: *mut sys::tvbuff_t, start: c_int, len: c_int) -> *mut sys::proto_item {
                let $x = self;
                sys::$call(tree, hf, tvb, start, len, $conv)
            }
        }
    )*)*};
}

field_value! {
    u8 => [u8, u16, u32] |x| proto_tree_add_uint(u32::from(*x));
    u16 => [u16, u32] |x| proto_tree_add_uint(u32::from(*x));
    u32 => [u32, FrameNum] |x| proto_tree_add_uint(*x);
    u64 => [u64] |x| proto_tree_add_uint64(*x);
    i32 => [i32] |x| proto_tree_add_int(*x);
    i64 => [i64] |x| proto_tree_add_int64(*x);
    f64 => [f64] |x| proto_tree_add_double(*x);
    // The value parameter is guint32 in 4.0 and uint64_t later: `as _` follows the binding.
    bool => [bool] |x| proto_tree_add_boolean(*x as u32 as _);
    // ws_in4_addr is the address in network byte order, as it lies in memory.
    Ipv4Addr => [Ipv4Addr] |x| proto_tree_add_ipv4(u32::from_ne_bytes(x.octets()));
    Ipv6Addr => [Ipv6Addr] |x| proto_tree_add_ipv6(&sys::ws_in6_addr { bytes: x.octets() });
    Time => [RelTime, AbsTime] |x| proto_tree_add_time(&x.to_nstime());
}

impl FieldValue<[u8]> for &[u8] {
    unsafe fn add(&self, tree: *mut sys::proto_tree, hf: c_int, tvb: *mut sys::tvbuff_t, start: c_int, len: c_int) -> *mut sys::proto_item {
        // proto_tree_add_bytes_with_length copies `self.len()` bytes from our pointer (not the
        // tvb), so the value may be longer or shorter than the highlighted range.
        sys::proto_tree_add_bytes_with_length(tree, hf, tvb, start, len, self.as_ptr(), self.len() as c_int)
    }
}

impl FieldValue<str> for &str {
    unsafe fn add(&self, tree: *mut sys::proto_tree, hf: c_int, tvb: *mut sys::tvbuff_t, start: c_int, len: c_int) -> *mut sys::proto_item {
        let mut c = CBuf::from_str(self);
        sys::proto_tree_add_string(tree, hf, tvb, start, len, c.as_ptr())
    }
}

impl<'p> Tree<'p> {
    /// The range clamped to the captured bytes, so no tree call can throw.
    fn clamp(&self, span: Span) -> (c_int, c_int) {
        let start = span.offset.min(self.len);
        let len = span.len.min(self.len - start);
        (start as c_int, len as c_int)
    }

    fn item(&self, item: *mut sys::proto_item) -> Item<'p> {
        Item { item, tvb: self.tvb, pinfo: self.pinfo, len: self.len, _life: PhantomData }
    }

    pub fn is_null(&self) -> bool {
        self.tree.is_null()
    }

    /// Adds `value` to field `hf` over `span`; the value's type is checked against the
    /// field's kind when compiling. Panics (reported as an expert item by the entry point) when
    /// the field is unregistered: a programming error.
    pub fn add<K: ?Sized, V: FieldValue<K>>(&self, hf: &Hf<K>, span: Span, value: V) -> Item<'p> {
        let id = hf.get();
        assert!(id >= 0, "field used before registration");
        if self.tree.is_null() {
            // Nothing to add to (tshark without a tree): skip the value's conversion.
            return self.item(std::ptr::null_mut());
        }
        let (start, len) = self.clamp(span);
        // SAFETY: live tree/tvb for 'p; the field is registered with the kind this value is
        // for (`FieldValue<K>`), and the range lies inside the captured bytes, so nothing can
        // throw.
        self.item(unsafe { value.add(self.tree, id, self.tvb, start, len) })
    }

    /// Adds a value computed rather than read (no bytes highlighted), marked generated.
    pub fn add_generated<K: ?Sized, V: FieldValue<K>>(&self, hf: &Hf<K>, value: V) -> Item<'p> {
        self.add(hf, Span::new(0, 0), value).generated()
    }

    /// Adds a protocol's root item over `span`.
    pub fn add_protocol(&self, proto: &Protocol, span: Span) -> Item<'p> {
        if self.tree.is_null() {
            return self.item(std::ptr::null_mut());
        }
        let (start, len) = self.clamp(span);
        // SAFETY: FT_PROTOCOL with ENC_NA reads nothing; the range is inside the captured bytes.
        self.item(unsafe { sys::proto_tree_add_item(self.tree, proto.get(), self.tvb, start, len, sys::ENC_NA) })
    }

    /// Adds a subtree's header (its FT_NONE field, labelled `text`) and returns the subtree.
    pub fn add_subtree(&self, sub: &Subtree, span: Span, text: &str) -> (Item<'p>, Tree<'p>) {
        let id = sub.hf();
        assert!(id >= 0, "subtree used before registration");
        if self.tree.is_null() {
            return (self.item(std::ptr::null_mut()), *self);
        }
        let (start, len) = self.clamp(span);
        let mut c = CBuf::from_str(text);
        // SAFETY: a registered FT_NONE field, "%s" with one C string argument; range inside
        // the captured bytes, so nothing can throw. The subtree call is NULL-safe.
        let (item, tree) = unsafe {
            let item = sys::proto_tree_add_none_format(self.tree, id, self.tvb, start, len, c"%s".as_ptr(), c.as_ptr());
            (item, sys::proto_item_add_subtree(item, sub.ett.get()))
        };
        (self.item(item), Tree { tree, ..*self })
    }

    /// Adds an expert info item over `span`; `text` replaces the registered summary. The
    /// item is the expert's own field (its abbreviation, e.g. `apns.truncated`), so that
    /// `-T json` keys and filters name it rather than its text, and the expert info is
    /// raised on it (also without a tree: the Expert Information dialog and `-z expert`
    /// count it either way).
    pub fn expert(&self, ei: &ExpertId, span: Span, text: Option<&str>) -> Item<'p> {
        assert!(ei.registered(), "expert info used before registration");
        let (start, len) = self.clamp(span);
        let hf = ei.hf();
        let mut c = text.map(CBuf::from_str);
        // SAFETY: live pointers; the expert's registered FT_NONE field; "%s" with one C string;
        // range inside the captured bytes. Both calls accept a NULL tree / item.
        // (The expert's field is named by its summary, so without a text the item reads as
        // the summary.)
        let item = unsafe {
            match &mut c {
                Some(c) => {
                    let t = c.as_ptr();
                    let item = sys::proto_tree_add_none_format(self.tree, hf, self.tvb, start, len, c"%s".as_ptr(), t);
                    sys::expert_add_info_format(self.pinfo, item, ei.as_ptr(), c"%s".as_ptr(), t);
                    item
                }
                None => {
                    let item = sys::proto_tree_add_item(self.tree, hf, self.tvb, start, len, sys::ENC_NA);
                    sys::expert_add_info(self.pinfo, item, ei.as_ptr());
                    item
                }
            }
        };
        self.item(item)
    }
}

impl<'p> Item<'p> {
    /// Marks the item as generated (shown in brackets: computed, not read from the packet).
    pub fn generated(self) -> Self {
        if self.item.is_null() {
            return self;
        }
        // SAFETY: NULL-safe setter on an item of this packet's tree.
        unsafe { sys::appleshark_item_set_generated(self.item) };
        self
    }
    /// Hides the item in the tree (still filterable).
    pub fn hidden(self) -> Self {
        if self.item.is_null() {
            return self;
        }
        // SAFETY: NULL-safe setter.
        unsafe { sys::appleshark_item_set_hidden(self.item) };
        self
    }
    /// Appends text to the item's label. Takes anything printable, so that
    /// `append_text(format_args!(…))` formats nothing when no tree is built.
    pub fn append_text(self, text: impl std::fmt::Display) -> Self {
        if self.item.is_null() {
            return self;
        }
        let mut c = CBuf::new();
        let _ = std::fmt::Write::write_fmt(&mut c, format_args!("{text}"));
        // SAFETY: "%s" with one C string.
        unsafe { sys::proto_item_append_text(self.item, c"%s".as_ptr(), c.as_ptr()) };
        self
    }
    /// Sets the item's length (e.g. a protocol item once the message length is known).
    pub fn set_len(self, len: usize) -> Self {
        // proto_item_set_len only records the number; clamp anyway so the highlight is valid.
        // SAFETY: NULL-safe setter.
        unsafe { sys::proto_item_set_len(self.item, len.min(self.len) as c_int) };
        self
    }
    /// A subtree under this item.
    pub fn subtree(&self, ett: &EttId) -> Tree<'p> {
        if self.item.is_null() {
            return Tree { tree: std::ptr::null_mut(), tvb: self.tvb, pinfo: self.pinfo, len: self.len, _life: PhantomData };
        }
        // SAFETY: NULL-safe; returns NULL when the item is NULL.
        let tree = unsafe { sys::proto_item_add_subtree(self.item, ett.get()) };
        Tree { tree, tvb: self.tvb, pinfo: self.pinfo, len: self.len, _life: PhantomData }
    }
    /// Attaches an expert info to this item.
    pub fn expert(self, ei: &ExpertId, text: Option<&str>) -> Self {
        assert!(ei.registered(), "expert info used before registration");
        // SAFETY: live pinfo; registered expert field; "%s" with one C string.
        unsafe {
            match text {
                Some(t) => {
                    let mut c = CBuf::from_str(t);
                    sys::expert_add_info_format(self.pinfo, self.item, ei.as_ptr(), c"%s".as_ptr(), c.as_ptr());
                }
                None => {
                    sys::expert_add_info(self.pinfo, self.item, ei.as_ptr());
                }
            }
        }
        self
    }
}

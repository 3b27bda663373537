//! Statistics: taps that carry a byte record, and stats trees (`tshark -z <abbr>,tree`, and
//! the Statistics menu) built by a Rust callback with named nodes and counters.
//!
//! A dissector registers a [`Tap`] and a tree on it ([`register_tree`]); per message it
//! queues a record (any bytes it likes) with [`Tap::queue`], naming the handler that turns
//! records into counts. The handler gets a [`StatsTree`] with `tick` (count one, creating the
//! node under its parent) and `avg` (count one and add a value to the node's average).

use super::packet::{cstring, Packet};
use super::sys;
use std::ffi::{c_int, c_uint, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, Ordering};

/// Turns one queued record into counts.
pub type Handler = fn(&StatsTree<'_>, &[u8]);

/// A node of a stats tree; [`StatsTree::ROOT`] is the tree itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeId(c_int);

/// The tree being filled (valid during one handler call).
pub struct StatsTree<'a> {
    st: *mut sys::_stats_tree,
    _life: std::marker::PhantomData<&'a ()>,
}

impl StatsTree<'_> {
    pub const ROOT: NodeId = NodeId(0);

    /// Counts one under `parent`, creating the node `name` if needed.
    pub fn tick(&self, name: &str, parent: NodeId) -> NodeId {
        let c = cstring(name);
        // SAFETY: st is live during the handler; the name is copied by stats_tree.
        NodeId(unsafe { sys::appleshark_st_tick(self.st, c.as_ptr(), parent.0) })
    }
    /// Counts one under `parent` and adds `value` to the node's average/min/max.
    pub fn avg(&self, name: &str, parent: NodeId, value: i32) -> NodeId {
        let c = cstring(name);
        // SAFETY: as above.
        NodeId(unsafe { sys::appleshark_st_avg(self.st, c.as_ptr(), parent.0, value) })
    }
}

unsafe extern "C" fn dispatch(st: *mut sys::_stats_tree, handler: *const c_void, data: *const u8, len: c_uint) {
    if handler.is_null() {
        return;
    }
    // SAFETY: `handler` was made from a `Handler` by Tap::queue; data/len describe the copy
    // the shim made in pinfo->pool, alive during tap processing.
    let h: Handler = std::mem::transmute::<*const c_void, Handler>(handler);
    let bytes = if data.is_null() || len == 0 { &[][..] } else { std::slice::from_raw_parts(data, len as usize) };
    let tree = StatsTree { st, _life: std::marker::PhantomData };
    let _ = catch_unwind(AssertUnwindSafe(|| h(&tree, bytes)));
}

/// A tap (`register_tap`), -1 until registered.
pub struct Tap(AtomicI32);

impl Tap {
    pub const fn new() -> Self {
        Tap(AtomicI32::new(-1))
    }
    /// Registers the tap `name`. Register phase.
    pub fn register(&self, name: &'static CStr) {
        // SAFETY: registration phase; the name is 'static.
        self.0.store(unsafe { sys::register_tap(name.as_ptr()) }, Ordering::Relaxed);
    }
    /// Queues `record` for `handler` (nothing happens when no one listens).
    pub fn queue(&self, pkt: &Packet<'_>, record: &[u8], handler: Handler) {
        let id = self.0.load(Ordering::Relaxed);
        if id < 0 {
            return;
        }
        // SAFETY: live pinfo; the shim copies the record into pinfo->pool before queueing.
        unsafe {
            sys::appleshark_tap_queue_record(id, pkt.pinfo, handler as *const c_void, record.as_ptr(), record.len() as c_uint)
        }
    }
}

impl Default for Tap {
    fn default() -> Self {
        Self::new()
    }
}

/// Registers a stats tree `abbr` (`tshark -z <abbr>,tree`) titled `name` on tap `tap`.
pub fn register_tree(tap: &'static CStr, abbr: &'static CStr, name: &'static CStr) {
    // SAFETY: registration phase; strings are 'static.
    unsafe { sys::appleshark_stats_tree_register(tap.as_ptr(), abbr.as_ptr(), name.as_ptr(), Some(dispatch)) }
}

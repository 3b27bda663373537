//! The FaceTime tap and its statistics tree: `tshark -q -z facetime_calls,tree` (and
//! Statistics → FaceTime Calls in the GUI).
//!
//! The `facetime` dissector queues one [`TapRecord`] per packet; the stats tree shows
//!
//! ```text
//! FaceTime packets by class        count per class (sip, stun, snatmap, rtp, rtcp, unknown)
//! Calls
//!   Call 1: <caller> → <callee>    count = SIP messages of the call
//!     Call-ID: <id>
//!     start: frame <n> at <t> s    (the INVITE; t relative to the capture's first frame)
//!     setup time: <s> s            (INVITE → ACK)
//!     duration: <s> s              (INVITE → BYE)
//!     ended by BYE in frame <n>
//!     streams
//!       RTP <src> → <dst> SSRC 0x… (<encoding>)    count = packets
//! Streams without a call           media seen before (or without) the SIP describing it
//! ```
//!
//! Self-contained: the C side (wireshark-headers/shim_ftstats.c) adapts Wireshark's callback
//! types and ties each record's lifetime to the packet's pool.

use super::packet::Packet;
use super::sys;
use std::ffi::{c_int, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicI32, Ordering};

/// The tap's name (`-z …` listeners, Lua taps).
pub const TAP_NAME: &std::ffi::CStr = c"facetime";

static TAP: AtomicI32 = AtomicI32::new(-1);

/// A SIP message's place in its call.
#[derive(Debug, Clone, Default)]
pub struct CallRecord {
    /// Call number, from 1.
    pub number: u32,
    pub call_id: String,
    pub caller: String,
    pub callee: String,
    /// This frame is the call's INVITE.
    pub is_invite: bool,
    /// Known set-up time (INVITE → ACK), given on the ACK.
    pub setup_ns: Option<u64>,
    /// Call duration (INVITE → BYE), given on the BYE.
    pub duration_ns: Option<u64>,
    /// This frame is the BYE ending the call.
    pub is_bye: bool,
}

impl CallRecord {
    fn node_name(number: u32, caller: &str, callee: &str) -> String {
        format!("Call {number}: {caller} → {callee}")
    }
}

/// An RTP/RTCP packet's stream.
#[derive(Debug, Clone, Default)]
pub struct MediaRecord {
    /// (number, caller, callee) of the call the stream belongs to, when known.
    pub call: Option<(u32, String, String)>,
    /// "RTP 10.0.1.5:16402 → 198.51.100.7:16402 SSRC 0x22220001 (AAC-ELD)".
    pub label: String,
}

/// What the dissector tells the stats tree about one packet.
#[derive(Debug, Clone, Default)]
pub struct TapRecord {
    pub class: &'static str,
    pub call: Option<CallRecord>,
    pub media: Option<MediaRecord>,
    frame: u32,
    rel_ns: i64,
}

impl TapRecord {
    pub fn new(class: &'static str) -> Self {
        TapRecord { class, ..Default::default() }
    }
}

/// Registers the tap (protocol registration phase).
pub fn register() {
    // SAFETY: registration phase; the name is 'static.
    let id = unsafe { sys::appleshark_ftstats_register_tap(TAP_NAME.as_ptr()) };
    TAP.store(id, Ordering::Relaxed);
}

/// Registers the stats tree (hand-off phase, before tshark parses `-z`).
pub fn handoff() {
    // SAFETY: strings are 'static; the callbacks are plain extern "C" fns that catch panics.
    unsafe {
        sys::appleshark_ftstats_register_tree(TAP_NAME.as_ptr(), c"facetime_calls".as_ptr(), c"FaceTime Calls".as_ptr(), Some(packet_cb), Some(init_cb))
    }
}

unsafe extern "C" fn drop_record(p: *mut c_void) {
    // SAFETY: `p` came from Box::into_raw(Box<TapRecord>) in `queue`; freed once, here.
    drop(Box::from_raw(p as *mut TapRecord));
}

impl<'p> Packet<'p> {
    /// True when a listener wants FaceTime tap records (build them only then).
    pub fn facetime_tap_wanted(&self) -> bool {
        let tap = TAP.load(Ordering::Relaxed);
        // SAFETY: have_tap_listener only reads the tap registry.
        tap >= 0 && unsafe { sys::appleshark_ftstats_listening(tap) != 0 }
    }

    /// Queues `rec` for this packet's tap listeners.
    pub fn facetime_tap(&self, mut rec: TapRecord) {
        let tap = TAP.load(Ordering::Relaxed);
        if tap < 0 {
            return;
        }
        rec.frame = self.frame();
        // SAFETY: live pinfo.
        rec.rel_ns = unsafe { sys::appleshark_ftstats_rel_ns(self.pinfo) } as i64;
        let p = Box::into_raw(Box::new(rec));
        // SAFETY: the record lives until the packet's pool is freed (after the taps ran),
        // when `drop_record` frees it.
        unsafe { sys::appleshark_ftstats_queue(tap, self.pinfo, p as *mut c_void, Some(drop_record)) }
    }
}

const ROOT_CLASSES: &str = "FaceTime packets by class";
const ROOT_CALLS: &str = "Calls";
const ROOT_LOOSE: &str = "Streams without a call";

struct Node(*mut c_void);

impl Node {
    fn op(&self, mode: c_int, name: &str, parent: c_int, children: bool, value: c_int) -> c_int {
        let c = CString::new(name.replace('\0', "")).unwrap_or_default();
        // SAFETY: `self.0` is the stats tree Wireshark handed to the callback; the name is
        // copied by the stats tree.
        unsafe { sys::appleshark_ftstats_node(self.0, mode, c.as_ptr(), parent, children as c_int, value) }
    }
    fn tick(&self, name: &str, parent: c_int, children: bool) -> c_int {
        self.op(0, name, parent, children, 1)
    }
    /// The node (created when missing) without changing its count.
    fn find(&self, name: &str, parent: c_int, children: bool) -> c_int {
        self.op(0, name, parent, children, 0)
    }
    fn set(&self, name: &str, parent: c_int, children: bool, value: c_int) -> c_int {
        self.op(1, name, parent, children, value)
    }
}

fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

unsafe extern "C" fn init_cb(st: *mut c_void) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let n = Node(st);
        n.find(ROOT_CLASSES, 0, true);
        n.find(ROOT_CALLS, 0, true);
    }));
}

unsafe extern "C" fn packet_cb(st: *mut c_void, record: *const c_void) {
    // SAFETY: the only records queued on this tap are TapRecords (see `facetime_tap`), alive
    // until the packet's pool is freed, after the taps.
    let rec = &*(record as *const TapRecord);
    let _ = catch_unwind(AssertUnwindSafe(|| tally(&Node(st), rec)));
}

fn tally(n: &Node, rec: &TapRecord) {
    let classes = n.find(ROOT_CLASSES, 0, true);
    n.tick(rec.class, classes, false);
    let calls = n.find(ROOT_CALLS, 0, true);
    if let Some(c) = &rec.call {
        let call = n.tick(&CallRecord::node_name(c.number, &c.caller, &c.callee), calls, true);
        n.set(&format!("Call-ID: {}", c.call_id), call, false, 1);
        if c.is_invite {
            let rel = rec.rel_ns.max(0) as u64;
            n.set(&format!("start: frame {} at {} s", rec.frame, secs(rel)), call, false, 1);
        }
        if let Some(s) = c.setup_ns {
            n.set(&format!("setup time: {} s", secs(s)), call, false, 1);
        }
        if let Some(d) = c.duration_ns {
            n.set(&format!("duration: {} s", secs(d)), call, false, 1);
        }
        if c.is_bye {
            n.set(&format!("ended by BYE in frame {}", rec.frame), call, false, 1);
        }
    }
    if let Some(m) = &rec.media {
        match &m.call {
            Some((num, caller, callee)) => {
                let call = n.find(&CallRecord::node_name(*num, caller, callee), calls, true);
                let streams = n.find("streams", call, true);
                n.tick(&m.label, streams, false);
            }
            None => {
                let loose = n.find(ROOT_LOOSE, 0, true);
                n.tick(&m.label, loose, false);
            }
        }
    }
}

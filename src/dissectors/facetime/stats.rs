//! The FaceTime tap and its statistics tree: `tshark -q -z facetime_calls,tree` (and
//! Statistics → FaceTime Calls in the GUI).
//!
//! The `facetime` dissector queues one [`TapRecord`] per packet on the `facetime` tap; the
//! stats tree shows
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

use crate::epan::tap::{NodeId, Nodes, StatsTree, Tap};
use crate::epan::Packet;

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

/// The tap (`-z …` listeners, Lua taps).
static TAP: Tap<TapRecord> = Tap::new(c"facetime");
static TREE: StatsTree<TapRecord> = StatsTree::new(&TAP, c"facetime_calls", c"FaceTime Calls", init, tally);

/// Registers the tap (protocol registration phase).
pub fn register() {
    TAP.register();
}

/// Registers the stats tree (hand-off phase, before tshark parses `-z`).
pub fn handoff() {
    TREE.register();
}

/// True when a listener wants FaceTime tap records (build them only then).
pub fn listening() -> bool {
    TAP.listening()
}

/// Queues `rec` for this packet's tap listeners.
pub fn queue(pkt: &Packet<'_>, mut rec: TapRecord) {
    rec.frame = pkt.frame();
    rec.rel_ns = pkt.relative_time().as_nanos() as i64;
    TAP.queue(pkt, rec);
}

const ROOT_CLASSES: &str = "FaceTime packets by class";
const ROOT_CALLS: &str = "Calls";
const ROOT_LOOSE: &str = "Streams without a call";

/// The tree's nodes under the names this tree gives them (NULs dropped).
struct Node<'a>(&'a Nodes<'a>);

impl Node<'_> {
    fn tick(&self, name: &str, parent: NodeId, children: bool) -> NodeId {
        self.0.tick(&name.replace('\0', ""), parent, children)
    }
    /// The node (created when missing) without changing its count.
    fn find(&self, name: &str, parent: NodeId, children: bool) -> NodeId {
        self.0.add(&name.replace('\0', ""), parent, children, 0)
    }
    fn set(&self, name: &str, parent: NodeId, children: bool, value: i32) -> NodeId {
        self.0.set(&name.replace('\0', ""), parent, children, value)
    }
}

fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

fn init(st: &Nodes<'_>) {
    let n = Node(st);
    n.find(ROOT_CLASSES, Nodes::ROOT, true);
    n.find(ROOT_CALLS, Nodes::ROOT, true);
}

fn tally(st: &Nodes<'_>, rec: &TapRecord) {
    let n = Node(st);
    let classes = n.find(ROOT_CLASSES, Nodes::ROOT, true);
    n.tick(rec.class, classes, false);
    let calls = n.find(ROOT_CALLS, Nodes::ROOT, true);
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
                let loose = n.find(ROOT_LOOSE, Nodes::ROOT, true);
                n.tick(&m.label, loose, false);
            }
        }
    }
}

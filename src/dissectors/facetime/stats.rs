//! The FaceTime taps and their statistics: the calls table `tshark -q -z facetime,calls[,filter]`
//! (Telephony → FaceTime Calls in the GUI, with VoIP Calls and SIP Flows) and the packet
//! tree `tshark -q -z facetime_calls,tree` (Statistics → FaceTime Packets: Wireshark's GUI
//! lists a plugin's stats trees in the Statistics menu only, see `epan::tap`).
//!
//! The `facetime` dissector queues one [`TapRecord`] per packet on the `facetime` tap (the
//! tree's, and Lua taps') and, when someone listens to the table, a copy on the table's own tap
//! `facetime_calls`.
//!
//! The calls table has one row per call, in the order the listener first saw each call (the
//! records its filter passes): [`CALL_COLS`]. Set-up time, duration and state come from the
//! call's ACK and BYE as the listener saw them.
//!
//! The stats tree shows (every parent counts what its children count; labels are ASCII so tshark
//! aligns them; IPv6 endpoints are written `[addr]:port`)
//!
//! ```text
//! FaceTime packets by class            every packet, by class (sip, stun, snatmap, rtp, rtcp, unknown)
//! Calls                                the packets of all calls (SIP and media)
//!   Call 1: <caller> -> <callee>       the call's packets
//!     SIP messages (Call-ID: <id>)     its SIP messages
//!       INVITE in frame <n> at <t> s   (t relative to the capture's first frame)
//!       BYE in frame <n>
//!     streams                          its media packets
//!       RTP <src> -> <dst> SSRC 0x... (<encoding>)    packets of the stream
//! Call set-up time (ms)                INVITE -> ACK of every call: count, average, min, max
//!   Call 1                             the call's set-up time (Average = Min = Max)
//! Call duration (ms)                   INVITE -> BYE, likewise
//!   Call 1
//! Streams without a call               media seen before (or without) the SIP describing it
//!   <src> -> <dst>                     by flow: its packets
//!     RTP SSRC 0x... (PT <n>)          by SSRC (the first 16 of a flow; then "other SSRCs")
//! ```

use crate::epan::tap::{Cell, ColType, Column, Menu, NodeId, Nodes, StatTable, StatsTree, Tap};
use crate::epan::Packet;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

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
    /// Known set-up time (INVITE -> ACK), given on the ACK.
    pub setup_ns: Option<u64>,
    /// Call duration (INVITE -> BYE), given on the BYE.
    pub duration_ns: Option<u64>,
    /// This frame is the BYE ending the call.
    pub is_bye: bool,
}

impl CallRecord {
    fn node_name(number: u32, caller: &str, callee: &str) -> String {
        format!("Call {number}: {caller} -> {callee}")
    }
}

/// An RTP/RTCP packet's stream.
#[derive(Debug, Clone)]
pub struct MediaRecord {
    /// (number, caller, callee) of the call the stream belongs to, when known.
    pub call: Option<(u32, String, String)>,
    /// "RTP" or "RTCP".
    pub kind: &'static str,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ssrc: u32,
    /// The payload's encoding ("AAC-ELD", or "PT 100" when the SDP did not name it); RTP only.
    pub encoding: Option<String>,
}

impl MediaRecord {
    /// "RTP 10.0.1.5:16402 -> [2001:db8::7]:16402 SSRC 0x22220001 (AAC-ELD)".
    fn stream_name(&self) -> String {
        format!("{} {} -> {} {}", self.kind, self.src, self.dst, self.ssrc_name())
    }
    /// "SSRC 0x22220001 (AAC-ELD)".
    fn ssrc_name(&self) -> String {
        match &self.encoding {
            Some(e) => format!("SSRC 0x{:08X} ({e})", self.ssrc),
            None => format!("SSRC 0x{:08X}", self.ssrc),
        }
    }
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

/// The tap (the stats tree, Lua taps).
static TAP: Tap<TapRecord> = Tap::new(c"facetime");
static TREE: StatsTree<TapRecord> = StatsTree::new(&TAP, c"facetime_calls", c"FaceTime Packets", init, tally);
/// The calls table, on its own tap `facetime_calls`.
static CALLS: StatTable<TapRecord, CallsAcc> = StatTable::new(c"facetime_calls", c"FaceTime Calls", c"facetime,calls", Menu::Telephony, &CALL_COLS, calls_fold);

/// The calls table's columns.
static CALL_COLS: [Column; 11] = [
    Column { name: c"Call", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Caller", ty: ColType::Str, format: c"%s" },
    Column { name: c"Callee", ty: ColType::Str, format: c"%s" },
    Column { name: c"Call-ID", ty: ColType::Str, format: c"%s" },
    // Text, so that a call whose INVITE the listener did not see shows "-" (Cell::number_text
    // sorts as numbers), likewise set-up time and duration.
    Column { name: c"Start (s)", ty: ColType::Str, format: c"%s" },
    Column { name: c"Set-up (ms)", ty: ColType::Str, format: c"%s" },
    Column { name: c"Duration (s)", ty: ColType::Str, format: c"%s" },
    Column { name: c"State", ty: ColType::Str, format: c"%s" },
    Column { name: c"SIP messages", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Streams", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Media packets", ty: ColType::Uint, format: c"%u" },
];

/// Registers the taps and the calls table (protocol registration phase).
pub fn register() {
    TAP.register();
    CALLS.register();
}

/// Registers the stats tree (hand-off phase, before tshark parses `-z`).
pub fn handoff() {
    TREE.register();
}

/// True when a listener wants FaceTime tap records (build them only then).
pub fn listening() -> bool {
    TAP.listening() || CALLS.listening()
}

/// Queues `rec` for this packet's tap listeners (the calls table gets a copy).
pub fn queue(pkt: &Packet<'_>, mut rec: TapRecord) {
    rec.frame = pkt.frame();
    rec.rel_ns = pkt.relative_time().as_nanos() as i64;
    if CALLS.listening() {
        CALLS.queue(pkt, rec.clone());
    }
    TAP.queue(pkt, rec);
}

/// A listener's calls: rows in the order it first saw each call.
#[derive(Default)]
pub struct CallsAcc {
    rows: HashMap<u32, CallRow>,
}

#[derive(Default)]
struct CallRow {
    row: u32,
    caller: Option<String>,
    callee: Option<String>,
    call_id: Option<String>,
    start_ns: Option<i64>,
    setup_ns: Option<u64>,
    duration_ns: Option<u64>,
    ended: bool,
    sip: u32,
    streams: HashSet<(&'static str, SocketAddr, SocketAddr, u32)>,
    media: u32,
}

fn calls_fold(acc: &mut CallsAcc, rec: &TapRecord) -> Option<(u32, Vec<Cell>)> {
    let number = rec.call.as_ref().map(|c| c.number).or_else(|| rec.media.as_ref().and_then(|m| m.call.as_ref()).map(|c| c.0))?;
    let next = acc.rows.len() as u32;
    let row = acc.rows.entry(number).or_insert_with(|| CallRow { row: next, ..Default::default() });
    if let Some(c) = &rec.call {
        row.sip += 1;
        row.caller = Some(c.caller.clone());
        row.callee = Some(c.callee.clone());
        row.call_id = Some(c.call_id.clone());
        if c.is_invite && row.start_ns.is_none() {
            row.start_ns = Some(rec.rel_ns);
        }
        row.setup_ns = c.setup_ns.or(row.setup_ns);
        row.duration_ns = c.duration_ns.or(row.duration_ns);
        row.ended |= c.is_bye;
    }
    if let Some(m) = &rec.media {
        if let Some((_, caller, callee)) = &m.call {
            row.caller.get_or_insert_with(|| caller.clone());
            row.callee.get_or_insert_with(|| callee.clone());
        }
        row.media += 1;
        row.streams.insert((m.kind, m.src, m.dst, m.ssrc));
    }
    let text = |s: &Option<String>| s.clone().map_or(Cell::Empty, |s| Cell::Str(s.replace('\0', "")));
    let state = if row.ended {
        "Completed"
    } else if row.setup_ns.is_some() {
        "In call"
    } else {
        "Call set-up"
    };
    Some((
        row.row,
        vec![
            Cell::Uint(number),
            text(&row.caller),
            text(&row.callee),
            text(&row.call_id),
            Cell::number_text(row.start_ns.map(|n| n as f64 / 1e9), 6),
            Cell::number_text(row.setup_ns.map(|n| ms(n) as f64), 0),
            Cell::number_text(row.duration_ns.map(|n| n as f64 / 1e9), 3),
            Cell::Str(state.into()),
            Cell::Uint(row.sip),
            Cell::Uint(row.streams.len() as u32),
            Cell::Uint(row.media),
        ],
    ))
}

const ROOT_CLASSES: &str = "FaceTime packets by class";
const ROOT_CALLS: &str = "Calls";
const ROOT_SETUP: &str = "Call set-up time (ms)";
const ROOT_DURATION: &str = "Call duration (ms)";
const ROOT_LOOSE: &str = "Streams without a call";
/// SSRC rows shown per flow of "Streams without a call"; packets of further SSRCs count in
/// one "other SSRCs" row (media FaceTime encrypts whole looks like RTP with a new SSRC on
/// every packet).
const LOOSE_SSRC_ROWS: usize = 16;
const OTHER_SSRCS: &str = "other SSRCs";

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
    fn avg(&self, name: &str, parent: NodeId, children: bool, value: i32) -> NodeId {
        self.0.avg(&name.replace('\0', ""), parent, children, value)
    }
}

fn secs(ns: u64) -> String {
    format!("{}.{:06}", ns / 1_000_000_000, (ns % 1_000_000_000) / 1000)
}

/// Whole milliseconds, saturating.
fn ms(ns: u64) -> i32 {
    (ns / 1_000_000).min(i32::MAX as u64) as i32
}

fn init(st: &Nodes<'_>) {
    let n = Node(st);
    n.find(ROOT_CLASSES, Nodes::ROOT, true);
    n.find(ROOT_CALLS, Nodes::ROOT, true);
}

fn tally(st: &Nodes<'_>, rec: &TapRecord) {
    let n = Node(st);
    let classes = n.tick(ROOT_CLASSES, Nodes::ROOT, true);
    n.tick(rec.class, classes, false);
    if let Some(c) = &rec.call {
        let calls = n.tick(ROOT_CALLS, Nodes::ROOT, true);
        let call = n.tick(&CallRecord::node_name(c.number, &c.caller, &c.callee), calls, true);
        let sip = n.tick(&format!("SIP messages (Call-ID: {})", c.call_id), call, true);
        if c.is_invite {
            let rel = rec.rel_ns.max(0) as u64;
            n.tick(&format!("INVITE in frame {} at {} s", rec.frame, secs(rel)), sip, false);
        }
        if c.is_bye {
            n.tick(&format!("BYE in frame {}", rec.frame), sip, false);
        }
        let short = format!("Call {}", c.number);
        if let Some(s) = c.setup_ns {
            let root = n.avg(ROOT_SETUP, Nodes::ROOT, true, ms(s));
            n.avg(&short, root, false, ms(s));
        }
        if let Some(d) = c.duration_ns {
            let root = n.avg(ROOT_DURATION, Nodes::ROOT, true, ms(d));
            n.avg(&short, root, false, ms(d));
        }
    }
    if let Some(m) = &rec.media {
        match &m.call {
            Some((num, caller, callee)) => {
                let calls = n.tick(ROOT_CALLS, Nodes::ROOT, true);
                let call = n.tick(&CallRecord::node_name(*num, caller, callee), calls, true);
                let streams = n.tick("streams", call, true);
                n.tick(&m.stream_name(), streams, false);
            }
            None => {
                let loose = n.tick(ROOT_LOOSE, Nodes::ROOT, true);
                let flow = n.tick(&format!("{} -> {}", m.src, m.dst), loose, true);
                let name = format!("{} {}", m.kind, m.ssrc_name()).replace('\0', "");
                if st.has_child(&name, flow) || st.child_count(flow) < LOOSE_SSRC_ROWS {
                    n.tick(&name, flow, false);
                } else {
                    n.tick(OTHER_SSRCS, flow, false);
                }
            }
        }
    }
}

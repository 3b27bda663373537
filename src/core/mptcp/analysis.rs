//! First-pass MPTCP connection analyser.
//!
//! Feed every TCP segment once, in capture order, with [`Analyser::feed`]; read the
//! per-frame result back at any time with [`Analyser::annotation`] (Wireshark re-dissects
//! frames in later passes). Feeding a frame number already seen (or lower than the highest
//! seen) changes nothing and returns the stored result.
//!
//! Conventions:
//! * **Hosts and directions.** Index 0 is the connection's client (the sender of the
//!   MP_CAPABLE SYN; if the handshake is missing, the sender of the first segment seen,
//!   or the receiver of a SYN/ACK); index 1 the server. [`Direction::Forward`] is
//!   client→server. A DSN space is named by its sender: space 0 holds the client's DSNs,
//!   which the server data-acks.
//! * **Relative numbers** follow Wireshark's `mptcp.dsn`: relative = DSN − IDSN, so the
//!   first data byte is 1 and an initial data ack is 1. Without keys, the first DSN or data
//!   ack seen in a space stands in for IDSN + 1 ([`RelBase::FirstSeen`]).
//! * **4-byte DSNs / data acks** are widened to 64 bits against the last value seen in
//!   the same space (initially IDSN + 1), taking the nearest candidate.
//! * **Data RTT** is taken on the data-ack frame: time since the first transmission of
//!   the highest DSN range that this ack newly covers entirely.
//!
//! All state is bounded by [`Config`]; every time a bound drops information an
//! [`Event::CapReached`] is recorded (once per connection and kind) for an expert note.

use super::keys::derive;
use super::options::{parse_options, MpJoin, MptcpBody, ParsedOptions, Version};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Bounds on the analyser's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Connections tracked in total.
    pub max_connections: usize,
    /// Subflows per connection.
    pub max_subflows: usize,
    /// DSN ranges remembered per direction (for reinjection and RTT).
    pub max_ranges: usize,
    /// Data-RTT samples kept per connection.
    pub max_rtt_samples: usize,
    /// Announced addresses remembered per host.
    pub max_addresses: usize,
    /// Handovers remembered per connection.
    pub max_handovers: usize,
    /// Frames whose annotation is stored.
    pub max_annotations: usize,
    /// A subflow silent this long (ns) when another one takes over the data is a handover.
    pub silence_ns: i128,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_connections: 4096,
            max_subflows: 32,
            max_ranges: 4096,
            max_rtt_samples: 4096,
            max_addresses: 16,
            max_handovers: 64,
            max_annotations: 4_000_000,
            silence_ns: 1_000_000_000,
        }
    }
}

/// TCP header flags (only the bits the analyser reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const ACK: u8 = 0x10;
    fn has(self, b: u8) -> bool {
        self.0 & b != 0
    }
}

/// One TCP segment as the analyser needs it.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub frame: u32,
    /// Capture time in nanoseconds (any epoch).
    pub time_ns: i128,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub sport: u16,
    pub dport: u16,
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    /// TCP payload length.
    pub payload_len: u32,
    /// The TCP options area (bytes after the fixed 20-byte header).
    pub options: &'a [u8],
}

crate::value_enum! {
    /// Direction of a segment within its connection.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Direction: u8 {
        /// Client → server.
        Forward = 0 => "client to server";
        /// Server → client.
        Reverse = 1 => "server to client";
    }
}

impl Direction {
    /// 0 for Forward, 1 for Reverse (the index of the sending host).
    pub fn index(self) -> usize {
        usize::from(self.code())
    }
    fn from_idx(i: usize) -> Self {
        if i == 0 {
            Direction::Forward
        } else {
            Direction::Reverse
        }
    }
}

crate::value_enum! {
    /// What relative DSNs / data acks are relative to.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RelBase: u8 {
        /// The key-derived IDSN.
        Idsn = 1 => "key-derived IDSN";
        /// The first DSN or data ack seen in that space, taken as IDSN + 1.
        FirstSeen = 2 => "first DSN seen (no handshake)";
    }
}

/// Result of comparing a space's first mapping with its key-derived IDSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdsnCheck {
    /// First mapping DSN == IDSN + 1 (low 32 bits when the DSN is 4 bytes).
    Ok,
    Mismatch {
        expected: u64,
        got: u64,
    },
}

crate::value_enum! {
    /// How a DSN range carried again relates to its first carrier.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ReinjectionKind: u8 {
        /// Sent again on another subflow.
        OtherSubflow = 1 => "reinjected on another subflow";
        /// Same subflow, new subflow sequence numbers (data-level retransmission).
        SameSubflow = 2 => "sent again on the same subflow (data level)";
        /// Same subflow, same subflow sequence numbers (ordinary TCP retransmission).
        SubflowRetransmission = 3 => "TCP retransmission on the same subflow";
    }
}

/// A segment re-carrying DSNs already sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reinjection {
    /// Frame that first carried (the start of) this DSN range.
    pub frame: u32,
    /// Subflow of that frame.
    pub subflow: usize,
    pub kind: ReinjectionKind,
}

/// Data-level round trip measured on a data-ack frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRtt {
    pub ns: i128,
    /// Frame that first sent the acknowledged range.
    pub acked_frame: u32,
}

crate::value_enum! {
    /// Why a subflow stopped being usable (name: the field value; phrase: "subflow N …").
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CloseReason: u8 {
        RemoveAddr = 1 => "REMOVE_ADDR", "removed by REMOVE_ADDR";
        Reset = 2 => "TCP reset", "reset";
        MpFail = 3 => "MP_FAIL", "closed after MP_FAIL";
        FastClose = 4 => "MP_FASTCLOSE", "closed by MP_FASTCLOSE";
    }
}

/// Why data moved to another subflow.
///
/// `Silence`: the previous subflow carried nothing for more than `Config::silence_ns`
/// while the connection stayed busy (no idle gap that long on any subflow), or its data
/// is being reinjected on the new one. A connection that idles and then resumes on
/// another subflow is not a handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandoverReason {
    Closed(CloseReason),
    /// The previous subflow was silent this long.
    Silence {
        gap_ns: i128,
    },
}

crate::value_enum! {
    /// Why the connection fell back to plain TCP (name: the field value; phrase: "Fallback to
    /// plain TCP: …").
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum FallbackReason: u8 {
        /// SYN had MP_CAPABLE, SYN/ACK did not.
        SynAckWithoutMpCapable = 1 => "SYN/ACK without MP_CAPABLE", "the SYN/ACK did not carry MP_CAPABLE";
        /// Payload without any DSS after MPTCP was negotiated.
        DataWithoutDss = 2 => "data without DSS", "data arrived without any DSS option";
        /// A DSS mapping with data-level length 0.
        InfiniteMapping = 3 => "infinite mapping", "an infinite mapping was sent";
    }
}

/// Which bound was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapKind {
    Connections,
    Subflows,
    Ranges,
    RttSamples,
    Addresses,
    Handovers,
    Annotations,
}

/// Something worth an expert note on this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Data moved from one subflow to another after the first closed or went silent.
    Handover {
        from_subflow: usize,
        to_subflow: usize,
        reason: HandoverReason,
    },
    /// A subflow was closed by REMOVE_ADDR, RST, MP_FAIL or MP_FASTCLOSE.
    SubflowClosed {
        subflow: usize,
        reason: CloseReason,
    },
    /// MP_FAIL; its DSN (which names data the MP_FAIL sender received) made relative to
    /// the peer's space, if that space has a base.
    MpFail {
        rel_dsn: Option<u64>,
    },
    FallbackToTcp(FallbackReason),
    InfiniteMapping,
    FastClose,
    /// MP_TCPRST: reason code and transient (T) flag.
    MpRst {
        reason: u8,
        transient: bool,
    },
    /// An MP_JOIN SYN whose token names no known connection (grouped on its own).
    JoinUnknownToken {
        token: u32,
    },
    /// The third ACK's keys differ from those of the SYN / SYN/ACK.
    KeysNotEchoed,
    /// More than one DSS option in a segment.
    MultipleDss {
        count: u8,
    },
    CapReached(CapKind),
}

/// Analysis of one frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Annotation {
    /// Connection index (0-based, order of appearance); None if not tracked (cap).
    pub connection: Option<usize>,
    /// Subflow index within the connection (0 = first seen, normally the initial one).
    pub subflow: Option<usize>,
    pub direction: Option<Direction>,
    /// Relative DSN of this segment's first data byte (or of its DATA_FIN).
    pub rel_dsn: Option<u64>,
    /// Data-level length of this segment (payload plus 1 for a DATA_FIN).
    pub data_len: u32,
    /// Relative data ack (against the opposite direction's space).
    pub rel_dack: Option<u64>,
    pub dsn_base: Option<RelBase>,
    pub dack_base: Option<RelBase>,
    /// Set on the frame with the first mapping of a space whose key is known.
    pub idsn_check: Option<IdsnCheck>,
    pub data_rtt: Option<DataRtt>,
    pub reinjection_of: Option<Reinjection>,
    /// Data-level bytes sent but not yet data-acked in this segment's direction.
    pub in_flight: Option<u64>,
    pub events: Vec<Event>,
}

/// Summary of one subflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subflow {
    /// Endpoint (address, port) of the client host \[0\] and the server host \[1\].
    pub ends: [(IpAddr, u16); 2],
    /// Address id of each host on this subflow (0 on the initial subflow).
    pub addr_ids: [Option<u8>; 2],
    /// Backup flag as last set by each host (MP_JOIN or MP_PRIO).
    pub backup: [bool; 2],
    /// Payload bytes client→server \[0\] and server→client \[1\].
    pub bytes: [u64; 2],
    /// True if this subflow started with MP_JOIN.
    pub joined: bool,
    pub first_frame: u32,
    pub closed: Option<CloseReason>,
    isn: [Option<u32>; 2],
    high_seq: [Option<u32>; 2],
    maps: [Vec<Mapping>; 2],
    last_seen_ns: i128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mapping {
    dsn: u64,
    ssn: u32,
    len: u32,
}

/// Data moving from one subflow to another (a handover candidate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Switch {
    frame: u32,
    time_ns: i128,
    direction: usize,
    from: usize,
    to: usize,
}

/// A recorded handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handover {
    pub frame: u32,
    pub direction: Direction,
    pub from_subflow: usize,
    pub to_subflow: usize,
    pub reason: HandoverReason,
}

/// Min / median / max of the data-RTT samples, in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttStats {
    pub samples: usize,
    pub min: i128,
    pub median: i128,
    pub max: i128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Sent {
    end: u64,
    frame: u32,
    subflow: usize,
    time_ns: i128,
    acked: bool,
}

/// One direction's data sequence space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Space {
    idsn: Option<u64>,
    base: Option<(u64, RelBase)>,
    reference: Option<u64>,
    first_mapping_seen: bool,
    sent: BTreeMap<u64, Sent>,
    high_sent: Option<u64>,
    high_acked: Option<u64>,
}

/// Widths (bit 4 = 4-byte, bit 8 = 8-byte) seen for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Widths(pub u8);

impl Widths {
    fn add(&mut self, w: u8) {
        self.0 |= w & 0x0c;
    }
    /// 4-byte values seen.
    pub fn four(self) -> bool {
        self.0 & 4 != 0
    }
    /// 8-byte values seen.
    pub fn eight(self) -> bool {
        self.0 & 8 != 0
    }
}

/// Per-connection state and summary; fields indexed by host (0 client, 1 server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub version: Option<Version>,
    pub keys: [Option<u64>; 2],
    pub tokens: [Option<u32>; 2],
    pub idsns: [Option<u64>; 2],
    /// MP_CAPABLE flags byte sent by each host (SYN, SYN/ACK).
    pub capable_flags: [Option<u8>; 2],
    /// Either host set the A flag (checksum required).
    pub checksum_negotiated: Option<bool>,
    /// DSS mappings with and without a checksum.
    pub mappings_with_checksum: u64,
    pub mappings_without_checksum: u64,
    /// DSN widths used by each host.
    pub dsn_widths: [Widths; 2],
    /// Data-ack widths used by each host.
    pub dack_widths: [Widths; 2],
    /// Segments with payload, and how many of them carried a DSS option.
    pub data_segments: u64,
    pub data_segments_with_dss: u64,
    /// Largest number of DSS options seen in one segment.
    pub max_dss_per_segment: u8,
    /// Whether the third ACK repeated both keys as sent (None: not seen or not comparable).
    pub third_ack_echoed_keys: Option<bool>,
    pub subflows: Vec<Subflow>,
    /// Data-level retransmissions on another or the same subflow.
    pub reinjections: u64,
    /// Plain subflow-level retransmissions.
    pub subflow_retransmissions: u64,
    pub handovers: Vec<Handover>,
    pub fallback: Option<FallbackReason>,
    /// Announced (ADD_ADDR) addresses per host: (address id, address).
    pub announced: [Vec<(u8, IpAddr)>; 2],
    pub caps_hit: Vec<CapKind>,
    pub first_frame: u32,
    rtt_samples: Vec<i128>,
    spaces: [Space; 2],
    syn_had_capable: bool,
    negotiated: bool,
    last_data_subflow: [Option<usize>; 2],
    /// Data moved to another subflow while the connection was busy, with no sign yet that
    /// the old subflow failed (checked by [`Analyser::finish`]).
    switches: Vec<Switch>,
    last_seen_ns: i128,
    last_data_ns: Option<i128>,
    busy_since: i128,
}

impl Connection {
    /// Min, median and max of the data-RTT samples kept.
    pub fn rtt_stats(&self) -> Option<RttStats> {
        let mut v = self.rtt_samples.clone();
        v.sort_unstable();
        Some(RttStats {
            samples: v.len(),
            min: *v.first()?,
            median: *v.get(v.len() / 2)?,
            max: *v.last()?,
        })
    }

    fn new(frame: u32) -> Self {
        Connection {
            version: None,
            keys: [None; 2],
            tokens: [None; 2],
            idsns: [None; 2],
            capable_flags: [None; 2],
            checksum_negotiated: None,
            mappings_with_checksum: 0,
            mappings_without_checksum: 0,
            dsn_widths: Default::default(),
            dack_widths: Default::default(),
            data_segments: 0,
            data_segments_with_dss: 0,
            max_dss_per_segment: 0,
            third_ack_echoed_keys: None,
            subflows: Vec::new(),
            reinjections: 0,
            subflow_retransmissions: 0,
            handovers: Vec::new(),
            fallback: None,
            announced: Default::default(),
            caps_hit: Vec::new(),
            first_frame: frame,
            rtt_samples: Vec::new(),
            spaces: Default::default(),
            syn_had_capable: false,
            negotiated: false,
            last_data_subflow: [None; 2],
            switches: Vec::new(),
            last_seen_ns: 0,
            last_data_ns: None,
            busy_since: 0,
        }
    }

    fn cap(&mut self, kind: CapKind, events: &mut Vec<Event>) {
        if !self.caps_hit.contains(&kind) {
            self.caps_hit.push(kind);
            events.push(Event::CapReached(kind));
        }
    }

    fn set_fallback(&mut self, r: FallbackReason, events: &mut Vec<Event>) {
        if self.fallback.is_none() {
            self.fallback = Some(r);
            events.push(Event::FallbackToTcp(r));
        }
    }

    /// Derive tokens / IDSNs for whatever keys are known.
    fn derive_keys(&mut self) {
        let Some(v) = self.version else { return };
        for h in 0..2 {
            if let (Some(k), None) = (self.keys[h], self.tokens[h]) {
                if let Some(m) = derive(v, k) {
                    self.tokens[h] = Some(m.token);
                    self.idsns[h] = Some(m.idsn);
                    if self.spaces[h].base.is_none() {
                        self.spaces[h].idsn = Some(m.idsn);
                        self.spaces[h].base = Some((m.idsn, RelBase::Idsn));
                        self.spaces[h].reference = Some(m.idsn.wrapping_add(1));
                    }
                }
            }
        }
    }
}

/// Widen a 4-byte value to 64 bits next to `reference`.
fn widen(value: u64, width: u8, reference: Option<u64>) -> u64 {
    match (width, reference) {
        (8, _) | (_, None) => value,
        (_, Some(r)) => {
            let d = (value as u32).wrapping_sub(r as u32) as i32;
            r.wrapping_add(d as i64 as u64)
        }
    }
}

impl Space {
    /// Widen, set the base on first use, and return (absolute, relative, base kind).
    fn observe(&mut self, value: u64, width: u8) -> (u64, u64, RelBase) {
        let abs = widen(value, width, self.reference);
        self.reference = Some(abs);
        let (base, kind) = *self
            .base
            .get_or_insert((abs.wrapping_sub(1), RelBase::FirstSeen));
        (abs, abs.wrapping_sub(base), kind)
    }
    fn in_flight(&self) -> Option<u64> {
        let s = self.high_sent?;
        let a = self.high_acked.unwrap_or(1);
        let d = s.wrapping_sub(a) as i64;
        Some(if d > 0 { d as u64 } else { 0 })
    }
}

/// The first entry whose key lies in `[from, to)` of the wrapping 64-bit DSN space (the
/// interval goes through u64::MAX → 0 when `to < from`). `BTreeMap::range(from..to)` panics
/// when `from > to`, which wrapping relative DSNs produce.
fn first_in<V>(map: &BTreeMap<u64, V>, from: u64, to: u64) -> Option<(&u64, &V)> {
    if from <= to {
        map.range(from..to).next()
    } else {
        map.range(from..).next().or_else(|| map.range(..to).next())
    }
}

fn newer(a: u64, than: u64) -> bool {
    (a.wrapping_sub(than) as i64) > 0
}

type Endpoint = (IpAddr, u16);
type FourTuple = (Endpoint, Endpoint);

fn canon(a: Endpoint, b: Endpoint) -> FourTuple {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// The first-pass analyser; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Analyser {
    config: Config,
    conns: Vec<Connection>,
    by_tuple: HashMap<FourTuple, (usize, usize)>,
    by_token: HashMap<u32, usize>,
    annotations: HashMap<u32, Annotation>,
    max_frame: Option<u32>,
    connection_cap_hit: bool,
    annotation_cap_hit: bool,
    finished: bool,
}

impl Analyser {
    /// A new analyser with the given bounds.
    pub fn new(config: Config) -> Self {
        Analyser {
            config,
            ..Default::default()
        }
    }

    /// The stored analysis of `frame`, if it was MPTCP.
    pub fn annotation(&self, frame: u32) -> Option<&Annotation> {
        self.annotations.get(&frame)
    }

    /// Connection by index.
    pub fn connection(&self, idx: usize) -> Option<&Connection> {
        self.conns.get(idx)
    }

    /// All connections in order of appearance.
    pub fn connections(&self) -> &[Connection] {
        &self.conns
    }

    /// Call once the whole capture has been fed (Wireshark: on the first frame of the second
    /// pass). Data that moved at once to another subflow, while the connection was busy, is
    /// a handover if the old subflow was never seen again and the connection carried on for
    /// longer than `Config::silence_ns` after the old subflow's last segment (a path that
    /// died: the kernel moves traffic before any gap shows). The event is added to the
    /// annotation of the frame where the data moved. Idempotent; feeding later frames is
    /// still possible but their switches are not judged again.
    pub fn finish(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        let silence = self.config.silence_ns;
        let max = self.config.max_handovers;
        for conn in &mut self.conns {
            let switches = std::mem::take(&mut conn.switches);
            for sw in switches {
                let Some(old) = conn.subflows.get(sw.from) else { continue };
                let quiet = conn.last_seen_ns.saturating_sub(old.last_seen_ns);
                if old.last_seen_ns > sw.time_ns || quiet <= silence || old.closed.is_some() {
                    continue;
                }
                if conn.handovers.iter().any(|h| h.from_subflow == sw.from && h.to_subflow == sw.to && h.direction.index() == sw.direction) {
                    continue;
                }
                let reason = HandoverReason::Silence { gap_ns: quiet };
                if conn.handovers.len() >= max {
                    let mut ev = Vec::new();
                    conn.cap(CapKind::Handovers, &mut ev);
                    continue;
                }
                conn.handovers.push(Handover {
                    frame: sw.frame,
                    direction: Direction::from_idx(sw.direction),
                    from_subflow: sw.from,
                    to_subflow: sw.to,
                    reason,
                });
                if let Some(a) = self.annotations.get_mut(&sw.frame) {
                    a.events.push(Event::Handover { from_subflow: sw.from, to_subflow: sw.to, reason });
                }
            }
            conn.handovers.sort_by_key(|h| h.frame);
        }
    }

    /// True once [`Analyser::finish`] has run.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// True once the connection or annotation cap dropped something outside any connection.
    pub fn global_cap_hit(&self) -> bool {
        self.connection_cap_hit || self.annotation_cap_hit
    }

    /// Analyse one segment (first pass, capture order). Returns the frame's annotation,
    /// or None if the segment is not MPTCP. Frames at or below the highest frame number
    /// already fed are not analysed again; their stored annotation is returned.
    pub fn feed(&mut self, seg: &Segment<'_>) -> Option<&Annotation> {
        if self.max_frame.is_some_and(|m| seg.frame <= m) {
            return self.annotations.get(&seg.frame);
        }
        self.max_frame = Some(seg.frame);
        let ann = self.analyse(seg)?;
        if ann.connection.is_none() && ann.events.is_empty() {
            // A segment of a connection not tracked (past the connection cap) carries
            // nothing to show; storing it would make memory grow with every untracked
            // connection after all.
            return None;
        }
        if self.annotations.len() >= self.config.max_annotations {
            self.annotation_cap_hit = true;
            if let Some(c) = ann.connection.and_then(|c| self.conns.get_mut(c)) {
                let mut ev = Vec::new();
                c.cap(CapKind::Annotations, &mut ev);
            }
            return None;
        }
        self.annotations.insert(seg.frame, ann);
        self.annotations.get(&seg.frame)
    }

    fn new_connection(&mut self, frame: u32, events: &mut Vec<Event>) -> Option<usize> {
        if self.conns.len() >= self.config.max_connections {
            if !self.connection_cap_hit {
                self.connection_cap_hit = true;
                events.push(Event::CapReached(CapKind::Connections));
            }
            return None;
        }
        self.conns.push(Connection::new(frame));
        Some(self.conns.len() - 1)
    }

    fn add_subflow(
        &mut self,
        c: usize,
        ends: [Endpoint; 2],
        joined: bool,
        seg: &Segment<'_>,
        events: &mut Vec<Event>,
    ) -> Option<usize> {
        let max = self.config.max_subflows;
        let conn = self.conns.get_mut(c)?;
        if conn.subflows.len() >= max {
            conn.cap(CapKind::Subflows, events);
            return None;
        }
        conn.subflows.push(Subflow {
            ends,
            addr_ids: if joined { [None; 2] } else { [Some(0); 2] },
            backup: [false; 2],
            bytes: [0; 2],
            joined,
            first_frame: seg.frame,
            closed: None,
            isn: [None; 2],
            high_seq: [None; 2],
            maps: Default::default(),
            last_seen_ns: seg.time_ns,
        });
        let s = conn.subflows.len() - 1;
        self.by_tuple.insert(canon(ends[0], ends[1]), (c, s));
        Some(s)
    }

    /// Find or create the (connection, subflow) of a segment.
    fn locate(
        &mut self,
        seg: &Segment<'_>,
        opts: &ParsedOptions<'_>,
        events: &mut Vec<Event>,
    ) -> Option<(Option<usize>, Option<usize>)> {
        let src = (seg.src, seg.sport);
        let dst = (seg.dst, seg.dport);
        let syn_only = seg.flags.has(TcpFlags::SYN) && !seg.flags.has(TcpFlags::ACK);
        let synack = seg.flags.has(TcpFlags::SYN) && seg.flags.has(TcpFlags::ACK);
        if let Some(&(c, s)) = self.by_tuple.get(&canon(src, dst)) {
            // A new MP_CAPABLE SYN with another ISN on a known 4-tuple: port reuse.
            let reuse = syn_only
                && opts.mp_capable().is_some()
                && self
                    .conns
                    .get(c)
                    .and_then(|k| k.subflows.get(s))
                    .is_some_and(|sf| {
                        let d = if sf.ends[0] == src { 0 } else { 1 };
                        sf.isn[d].is_some_and(|i| i != seg.seq)
                    });
            if !reuse {
                return Some((Some(c), Some(s)));
            }
        }
        if opts.mptcp.is_empty() {
            return None;
        }
        let join_token = opts.mptcp.iter().find_map(|o| match o.body {
            MptcpBody::MpJoin(MpJoin::Syn { token, .. }) if syn_only => Some(token.value),
            _ => None,
        });
        if let Some(token) = join_token {
            if let Some(&c) = self.by_token.get(&token) {
                // The token names the receiver's key: host 1 (server) means a client join.
                let recv_host = if self.conns.get(c).and_then(|k| k.tokens[1]) == Some(token) {
                    1
                } else {
                    0
                };
                let ends = if recv_host == 1 {
                    [src, dst]
                } else {
                    [dst, src]
                };
                let s = self.add_subflow(c, ends, true, seg, events);
                return Some((Some(c), s));
            }
            events.push(Event::JoinUnknownToken { token });
        }
        let Some(c) = self.new_connection(seg.frame, events) else {
            return Some((None, None));
        };
        // Initiator: the SYN sender, or the receiver of a SYN/ACK, else the first sender.
        let ends = if synack { [dst, src] } else { [src, dst] };
        let s = self.add_subflow(c, ends, join_token.is_some(), seg, events);
        Some((Some(c), s))
    }

    fn analyse(&mut self, seg: &Segment<'_>) -> Option<Annotation> {
        let hint = self
            .by_tuple
            .get(&canon((seg.src, seg.sport), (seg.dst, seg.dport)))
            .and_then(|&(c, _)| self.conns.get(c))
            .and_then(|c| c.version);
        let opts = parse_options(seg.options, hint);
        let mut ann = Annotation::default();
        let (c, s) = self.locate(seg, &opts, &mut ann.events)?;
        ann.connection = c;
        ann.subflow = s;
        let (Some(c), Some(s)) = (c, s) else {
            return Some(ann);
        };
        let cfg = self.config;
        let conn = self.conns.get_mut(c)?;
        let d = {
            let sf = conn.subflows.get(s)?;
            if sf.ends[0] == (seg.src, seg.sport) {
                0
            } else {
                1
            }
        };
        let o = 1 - d;
        ann.direction = Some(Direction::from_idx(d));
        let mut new_tokens: Vec<u32> = Vec::new();
        let syn = seg.flags.has(TcpFlags::SYN);
        let ackf = seg.flags.has(TcpFlags::ACK);
        let mut events = std::mem::take(&mut ann.events);

        // ---- handshake: MP_CAPABLE, MP_JOIN ----
        let mut implicit_map: Option<(u32, u32)> = None; // (ssn, len) for v1 data on MP_CAPABLE
        if let Some(cap) = opts.mp_capable() {
            if conn.version.is_none() {
                conn.version = Some(cap.version());
            }
            if syn {
                conn.capable_flags[d] = Some(cap.flags.value);
                if !ackf && conn.subflows.get(s).is_some_and(|x| !x.joined) {
                    conn.syn_had_capable = true;
                }
                if ackf {
                    conn.negotiated = true;
                }
                if let Some(k) = cap.sender_key {
                    conn.keys[d].get_or_insert(k.value);
                }
            } else if let (Some(sk), Some(rk)) = (cap.sender_key, cap.receiver_key) {
                conn.negotiated = true;
                if conn.third_ack_echoed_keys.is_none()
                    && (conn.keys[d].is_some() || conn.keys[o].is_some())
                {
                    let ok = conn.keys[d].map_or(true, |k| k == sk.value)
                        && conn.keys[o].map_or(true, |k| k == rk.value);
                    conn.third_ack_echoed_keys = Some(ok);
                    if !ok {
                        events.push(Event::KeysNotEchoed);
                    }
                }
                conn.keys[d].get_or_insert(sk.value);
                conn.keys[o].get_or_insert(rk.value);
                if let Some(dl) = cap.data_len {
                    implicit_map = Some((1, dl.value as u32));
                }
            }
            let checks: Vec<bool> = conn
                .capable_flags
                .iter()
                .flatten()
                .map(|f| f & 0x80 != 0)
                .collect();
            if !checks.is_empty() {
                conn.checksum_negotiated = Some(checks.iter().any(|&b| b));
            }
            let before = conn.tokens;
            conn.derive_keys();
            for (was, now) in before.iter().zip(conn.tokens) {
                if let (None, Some(t)) = (was, now) {
                    new_tokens.push(t);
                }
            }
        } else if syn
            && ackf
            && conn.syn_had_capable
            && conn.subflows.get(s).is_some_and(|x| !x.joined)
        {
            conn.set_fallback(FallbackReason::SynAckWithoutMpCapable, &mut events);
        }
        for opt in &opts.mptcp {
            if let MptcpBody::MpJoin(j) = opt.body {
                let sf = conn.subflows.get_mut(s)?;
                match j {
                    MpJoin::Syn {
                        backup, addr_id, ..
                    }
                    | MpJoin::SynAck {
                        backup, addr_id, ..
                    } => {
                        sf.addr_ids[d] = Some(addr_id.value);
                        sf.backup[d] = backup.value;
                        if syn && ackf {
                            conn.negotiated = true;
                        }
                    }
                    MpJoin::Ack { .. } => {}
                }
            }
        }
        {
            let sf = conn.subflows.get_mut(s)?;
            if syn {
                sf.isn[d] = Some(seg.seq);
            }
        }

        // ---- other options ----
        let mut dss_count: u8 = 0;
        let mut mapping_here: Option<(u64, u8, u32, u32, bool)> = None; // dsn, width, ssn, len, fin
        for opt in &opts.mptcp {
            match opt.body {
                MptcpBody::AddAddr(a) if !a.echo.value => {
                    let list = &mut conn.announced[d];
                    if let Some(e) = list.iter_mut().find(|e| e.0 == a.addr_id.value) {
                        e.1 = a.addr.value;
                    } else if list.len() < cfg.max_addresses {
                        list.push((a.addr_id.value, a.addr.value));
                    } else {
                        conn.cap(CapKind::Addresses, &mut events);
                    }
                }
                MptcpBody::RemoveAddr(r) => {
                    for &id in r.addr_ids.value {
                        let ip = conn.announced[d].iter().find(|e| e.0 == id).map(|e| e.1);
                        for (i, sf) in conn.subflows.iter_mut().enumerate() {
                            if sf.closed.is_none()
                                && (sf.addr_ids[d] == Some(id) || Some(sf.ends[d].0) == ip)
                            {
                                sf.closed = Some(CloseReason::RemoveAddr);
                                events.push(Event::SubflowClosed {
                                    subflow: i,
                                    reason: CloseReason::RemoveAddr,
                                });
                            }
                        }
                    }
                }
                MptcpBody::MpPrio(p) => {
                    if let Some(sf) = conn.subflows.get_mut(s) {
                        sf.backup[d] = p.backup.value;
                    }
                }
                MptcpBody::MpFail { dsn } => {
                    // Sent by the receiver of the failed data: the DSN is in the peer's space.
                    let sp = &conn.spaces[o];
                    let rel = sp
                        .base
                        .map(|(b, _)| widen(dsn.value, 8, sp.reference).wrapping_sub(b));
                    events.push(Event::MpFail { rel_dsn: rel });
                    close(conn, s, CloseReason::MpFail, &mut events);
                }
                MptcpBody::MpFastclose { .. } => {
                    events.push(Event::FastClose);
                    close(conn, s, CloseReason::FastClose, &mut events);
                }
                MptcpBody::MpTcpRst(r) => {
                    events.push(Event::MpRst {
                        reason: r.reason.value,
                        transient: r.flags.value & 1 != 0,
                    });
                }
                MptcpBody::Dss(dss) => {
                    dss_count = dss_count.saturating_add(1);
                    if dss_count > 1 {
                        continue;
                    }
                    if let Some((ack, w)) = dss.data_ack {
                        conn.dack_widths[d].add(w);
                        let sp = &mut conn.spaces[o];
                        let (_, rel, kind) = sp.observe(ack.value, w);
                        ann.rel_dack = Some(rel);
                        ann.dack_base = Some(kind);
                        if sp.high_acked.map_or(true, |h| newer(rel, h)) {
                            sp.high_acked = Some(rel);
                            if let Some(rtt) = take_rtt(sp, rel, seg.time_ns) {
                                ann.data_rtt = Some(rtt);
                                if conn.rtt_samples.len() < cfg.max_rtt_samples {
                                    conn.rtt_samples.push(rtt.ns);
                                } else {
                                    conn.cap(CapKind::RttSamples, &mut events);
                                }
                            }
                        }
                    }
                    if let Some(m) = dss.mapping {
                        conn.dsn_widths[d].add(m.dsn_len);
                        if m.checksum.is_some() {
                            conn.mappings_with_checksum += 1;
                        } else {
                            conn.mappings_without_checksum += 1;
                        }
                        if m.is_infinite() {
                            events.push(Event::InfiniteMapping);
                            conn.set_fallback(FallbackReason::InfiniteMapping, &mut events);
                        }
                        mapping_here = Some((
                            m.dsn.value,
                            m.dsn_len,
                            m.subflow_seq.value,
                            m.data_len.value as u32,
                            dss.data_fin(),
                        ));
                    }
                }
                _ => {}
            }
        }
        if dss_count > 1 {
            events.push(Event::MultipleDss { count: dss_count });
        }
        conn.max_dss_per_segment = conn.max_dss_per_segment.max(dss_count);
        if seg.flags.has(TcpFlags::RST) {
            close(conn, s, CloseReason::Reset, &mut events);
        }

        // ---- data-level sequence of this segment ----
        if let Some((ssn, len)) = implicit_map {
            if let Some(idsn) = conn.idsns[d] {
                mapping_here = Some((idsn.wrapping_add(1), 8, ssn, len, false));
            }
        }
        // The IDSN check looks at the first mapping that carries data: a bare DATA_FIN
        // (e.g. sent before data that is reinjected later) says nothing about the IDSN.
        let bare_fin = mapping_here.is_some_and(|m| m.4 && m.3 == 1 && seg.payload_len == 0);
        let first_map_check =
            mapping_here.is_some() && !bare_fin && !conn.spaces[d].first_mapping_seen;
        let mut seg_dsn: Option<(u64, u32)> = None; // (rel start, data-level len)
        if let Some((dsn, w, ssn, len, fin)) = mapping_here {
            let sp = &mut conn.spaces[d];
            let (abs, rel, kind) = sp.observe(dsn, w);
            ann.dsn_base = Some(kind);
            if first_map_check && len > 0 {
                sp.first_mapping_seen = true;
                if let Some(idsn) = sp.idsn {
                    let expected = idsn.wrapping_add(1);
                    let ok = if w == 8 {
                        dsn == expected
                    } else {
                        dsn as u32 == expected as u32
                    };
                    ann.idsn_check = Some(if ok {
                        IdsnCheck::Ok
                    } else {
                        IdsnCheck::Mismatch { expected, got: dsn }
                    });
                }
            }
            let sf = conn.subflows.get_mut(s)?;
            if ssn == 0 && len == 1 && fin && seg.payload_len == 0 {
                // DATA_FIN alone (RFC 8684 §3.3.3: subflow sequence 0, length 1).
                seg_dsn = Some((rel, 1));
            } else if len > 0 {
                if sf.isn[d].is_none() {
                    sf.isn[d] = Some(seg.seq.wrapping_sub(ssn));
                }
                let maps = &mut sf.maps[d];
                if maps.len() >= 8 {
                    maps.remove(0);
                }
                maps.push(Mapping { dsn: abs, ssn, len });
            }
        }
        if seg.payload_len > 0 {
            conn.data_segments += 1;
            if dss_count > 0 {
                conn.data_segments_with_dss += 1;
            } else if conn.negotiated && implicit_map.is_none() {
                conn.set_fallback(FallbackReason::DataWithoutDss, &mut events);
            }
            let sf = conn.subflows.get_mut(s)?;
            sf.bytes[d] = sf.bytes[d].saturating_add(seg.payload_len as u64);
            if let Some(isn) = sf.isn[d] {
                let rseq = seg.seq.wrapping_sub(isn);
                let hit = sf.maps[d].iter().rev().find(|m| {
                    let off = rseq.wrapping_sub(m.ssn);
                    off < m.len
                });
                if let Some(m) = hit.copied() {
                    let abs = m.dsn.wrapping_add(rseq.wrapping_sub(m.ssn) as u64);
                    let sp = &mut conn.spaces[d];
                    let (_, rel, kind) = sp.observe(abs, 8);
                    ann.dsn_base = Some(kind);
                    let fin = mapping_here.is_some_and(|x| x.4) && {
                        rseq.wrapping_add(seg.payload_len)
                            == m.ssn.wrapping_add(m.len).wrapping_sub(1)
                    };
                    seg_dsn = Some((rel, seg.payload_len.saturating_add(fin as u32)));
                }
                // Subflow-level retransmission?
                let end = rseq.wrapping_add(seg.payload_len);
                // Any overlap with subflow bytes already sent (a TCP retransmission may be
                // re-segmented and run past the old high mark).
                let retrans = sf.high_seq[d].is_some_and(|h| (h.wrapping_sub(rseq) as i32) > 0);
                if sf.high_seq[d].map_or(true, |h| (end.wrapping_sub(h) as i32) > 0) {
                    sf.high_seq[d] = Some(end);
                }
                if let Some((rel, len)) = seg_dsn {
                    track_sent(
                        conn,
                        d,
                        s,
                        rel,
                        len,
                        retrans,
                        seg,
                        cfg,
                        &mut ann,
                        &mut events,
                    );
                }
            }
            // Connection-level busy period (idle gaps longer than silence_ns split them).
            if conn
                .last_data_ns
                .map_or(true, |t| seg.time_ns.saturating_sub(t) > cfg.silence_ns)
            {
                conn.busy_since = seg.time_ns;
            }
            conn.last_data_ns = Some(seg.time_ns);
            // Handover: data moves to this subflow from one that closed, or that went
            // silent while the connection stayed busy (or whose data is reinjected here).
            let mut fired: Option<(usize, HandoverReason)> = None;
            if let Some(prev) = conn.last_data_subflow[d] {
                if prev != s {
                    let reason = conn.subflows.get(prev).and_then(|p| match p.closed {
                        Some(r) => Some(HandoverReason::Closed(r)),
                        None => {
                            let gap = seg.time_ns.saturating_sub(p.last_seen_ns);
                            let busy = seg
                                .time_ns
                                .saturating_sub(conn.busy_since.max(p.last_seen_ns));
                            let reinjected_from_prev =
                                ann.reinjection_of.is_some_and(|r| r.subflow == prev);
                            (gap > cfg.silence_ns
                                && (busy > cfg.silence_ns || reinjected_from_prev))
                                .then_some(HandoverReason::Silence { gap_ns: gap })
                        }
                    });
                    match reason {
                        Some(r) => fired = Some((prev, r)),
                        None => {
                            // Moved while the connection was busy: if `prev` is never seen
                            // again while this subflow carries on, [`Analyser::finish`]
                            // calls it a handover.
                            let busy_at_switch = conn
                                .subflows
                                .get(prev)
                                .is_some_and(|p| conn.busy_since <= p.last_seen_ns);
                            if busy_at_switch && conn.switches.len() < 4 * cfg.max_handovers {
                                conn.switches.push(Switch {
                                    frame: seg.frame,
                                    time_ns: seg.time_ns,
                                    direction: d,
                                    from: prev,
                                    to: s,
                                });
                            }
                        }
                    }
                }
            }
            if let Some((from, reason)) = fired {
                events.push(Event::Handover {
                    from_subflow: from,
                    to_subflow: s,
                    reason,
                });
                if conn.handovers.len() < cfg.max_handovers {
                    conn.handovers.push(Handover {
                        frame: seg.frame,
                        direction: Direction::from_idx(d),
                        from_subflow: from,
                        to_subflow: s,
                        reason,
                    });
                } else {
                    conn.cap(CapKind::Handovers, &mut events);
                }
            }
            conn.last_data_subflow[d] = Some(s);
        } else if let Some((rel, len)) = seg_dsn {
            // Bare DATA_FIN. Linux repeats it on every subflow: a repeat is not a reinjection.
            let repeat = conn.spaces[d]
                .high_sent
                .is_some_and(|h| !newer(rel.wrapping_add(len as u64), h));
            if !repeat {
                track_sent(conn, d, s, rel, len, false, seg, cfg, &mut ann, &mut events);
            }
        }
        if let Some((rel, len)) = seg_dsn {
            ann.rel_dsn = Some(rel);
            ann.data_len = len;
        }
        ann.in_flight = conn.spaces[d].in_flight();
        if let Some(sf) = conn.subflows.get_mut(s) {
            sf.last_seen_ns = seg.time_ns;
        }
        conn.last_seen_ns = seg.time_ns;
        for t in new_tokens {
            self.by_token.entry(t).or_insert(c);
        }
        ann.events = events;
        Some(ann)
    }
}

fn close(conn: &mut Connection, s: usize, reason: CloseReason, events: &mut Vec<Event>) {
    if let Some(sf) = conn.subflows.get_mut(s) {
        if sf.closed.is_none() {
            sf.closed = Some(reason);
            events.push(Event::SubflowClosed { subflow: s, reason });
        }
    }
}

/// Mark ranges newly covered by data ack `ack` (relative) and return the RTT sample.
fn take_rtt(sp: &mut Space, ack: u64, now: i128) -> Option<DataRtt> {
    let mut best: Option<DataRtt> = None;
    for (_, r) in sp.sent.range_mut(..ack).rev() {
        if r.acked {
            break;
        }
        if newer(r.end, ack) {
            continue; // partly covered
        }
        r.acked = true;
        if best.is_none() {
            best = Some(DataRtt {
                ns: now.saturating_sub(r.time_ns),
                acked_frame: r.frame,
            });
        }
    }
    best
}

#[allow(clippy::too_many_arguments)]
fn track_sent(
    conn: &mut Connection,
    d: usize,
    s: usize,
    rel: u64,
    len: u32,
    subflow_retrans: bool,
    seg: &Segment<'_>,
    cfg: Config,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    if len == 0 {
        return;
    }
    let end = rel.wrapping_add(len as u64);
    let sp = &mut conn.spaces[d];
    // A bare DATA_FIN sent ahead of data that only now appears (the data went out on a
    // path the capture does not see, or was lost before it): the data is new, not a
    // reinjection. Forget the lone DATA_FIN and track this range from its start.
    if let Some(h) = sp.high_sent {
        let top = h.wrapping_sub(1);
        let lone_fin = newer(top, rel)
            && !newer(end, h)
            && sp.sent.get(&top).is_some_and(|r| r.end == h)
            && first_in(&sp.sent, rel, top).is_none()
            && sp.sent.range(..rel).next_back().map_or(true, |(_, r)| !newer(r.end, rel));
        if lone_fin {
            sp.sent.remove(&top);
            sp.high_sent = Some(rel);
        }
    }
    let fresh_from = match sp.high_sent {
        Some(h) if !newer(rel, h) && rel != h => {
            // Some of this range was sent before: find its first carrier.
            let orig = sp
                .sent
                .range(..=rel)
                .next_back()
                .filter(|(_, r)| newer(r.end, rel))
                .or_else(|| first_in(&sp.sent, rel, end))
                .map(|(_, r)| (r.frame, r.subflow));
            if let Some((frame, first_sf)) = orig {
                let kind = if first_sf != s {
                    ReinjectionKind::OtherSubflow
                } else if subflow_retrans {
                    ReinjectionKind::SubflowRetransmission
                } else {
                    ReinjectionKind::SameSubflow
                };
                if kind == ReinjectionKind::SubflowRetransmission {
                    conn.subflow_retransmissions += 1;
                } else {
                    conn.reinjections += 1;
                }
                ann.reinjection_of = Some(Reinjection {
                    frame,
                    subflow: first_sf,
                    kind,
                });
            }
            if newer(end, h) {
                h
            } else {
                return;
            }
        }
        _ => rel,
    };
    let sp = &mut conn.spaces[d];
    sp.sent.insert(
        fresh_from,
        Sent {
            end,
            frame: seg.frame,
            subflow: s,
            time_ns: seg.time_ns,
            acked: false,
        },
    );
    sp.high_sent = Some(end);
    if sp.sent.len() > cfg.max_ranges {
        if let Some((_, r)) = sp.sent.pop_first() {
            if !r.acked {
                conn.cap(CapKind::Ranges, events);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `cargo fuzz run mptcp_state` (fuzz/regressions/mptcp_state/crash-range-wrap-min):
    /// DSS mappings whose relative DSN ranges wrap past u64::MAX made `BTreeMap::range`
    /// panic ("range start is greater than range end").
    #[test]
    fn wrapping_dsn_ranges_do_not_panic() {
        fn unhex(s: &str) -> Vec<u8> {
            (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
        }
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        // (flags, forward?, seq, ack, payload length, ms since previous, options)
        let segs = [
            (0x02, true, 0x26ef6728u32, 0xe25520f7u32, 16u32, 790u64, "0101080a7b5b4d0f37f2f9201e1a200fa896f3fe7a8dc03eee83a66c1e0c2003ee83a616c38765d5"),
            (0x18, false, 0xe25520f7, 0x26ef6738, 16, 0, "0101080a37f2fc407b664d0f1e1a200fee83a616c38765e5a896f3fe7a8dc03e000000210010013e"),
            (0x18, false, 0xe2552107, 0x26ef6738, 16, 200, "0101080a37f2fd107b664d111e1a200fee83a616c38765e5a896f3fe7a8dc03e00000030001065e5"),
            (0x18, false, 0xe2552117, 0x26ef6748, 16, 0, "01011e1a200fee83a616c38765f5a896f0fe7a8dc04e000000410029"),
        ];
        let mut an = Analyser::new(Config::default());
        let mut t = 0i128;
        for (i, (flags, fwd, seq, ack, len, dt, opts)) in segs.iter().enumerate() {
            t += i128::from(*dt) * 1_000_000;
            let opts = unhex(opts);
            let (src, dst, sport, dport) = if *fwd { (a, b, 40000, 443) } else { (b, a, 443, 40000) };
            let seg = Segment {
                frame: i as u32 + 1,
                time_ns: t,
                src,
                dst,
                sport,
                dport,
                flags: TcpFlags(*flags),
                seq: *seq,
                ack: *ack,
                payload_len: *len,
                options: &opts,
            };
            an.feed(&seg);
        }
        an.finish();
        // All four segments belong to the one connection the SYN opened.
        for f in 1..=4 {
            assert_eq!(an.annotation(f).and_then(|x| x.connection), Some(0), "frame {f}");
        }
    }

    #[test]
    fn first_in_wraps() {
        let m: BTreeMap<u64, u8> = [(1, 1), (50, 2), (u64::MAX - 1, 3)].into_iter().collect();
        assert_eq!(first_in(&m, 10, 60).map(|(k, _)| *k), Some(50));
        assert_eq!(first_in(&m, 60, 10).map(|(k, _)| *k), Some(u64::MAX - 1));
        assert_eq!(first_in(&m, u64::MAX, 10).map(|(k, _)| *k), Some(1));
        assert_eq!(first_in(&m, u64::MAX, 1), None);
        assert_eq!(first_in(&m, 5, 5), None);
    }

    const C: ([u8; 4], u16) = ([192, 168, 1, 10], 49152);
    const S: ([u8; 4], u16) = ([17, 1, 2, 3], 443);
    const C2: ([u8; 4], u16) = ([10, 0, 0, 10], 49153);
    const CK: u64 = 0x96e576198c475350;
    const SK: u64 = 0xd7b705e4d86c1a66;
    const SYN: u8 = TcpFlags::SYN;
    const ACK: u8 = TcpFlags::ACK;

    struct P {
        frame: u32,
        t_us: i128,
        from: ([u8; 4], u16),
        to: ([u8; 4], u16),
        flags: u8,
        seq: u32,
        len: u32,
        opts: Vec<u8>,
    }

    #[allow(clippy::too_many_arguments)]
    fn p(
        frame: u32,
        t_us: i128,
        from: ([u8; 4], u16),
        to: ([u8; 4], u16),
        flags: u8,
        seq: u32,
        len: u32,
        opts: Vec<u8>,
    ) -> P {
        P {
            frame,
            t_us,
            from,
            to,
            flags,
            seq,
            len,
            opts,
        }
    }

    fn feed<'a>(a: &'a mut Analyser, x: &P) -> Option<&'a Annotation> {
        a.feed(&Segment {
            frame: x.frame,
            time_ns: x.t_us * 1000,
            src: IpAddr::from(x.from.0),
            dst: IpAddr::from(x.to.0),
            sport: x.from.1,
            dport: x.to.1,
            flags: TcpFlags(x.flags),
            seq: x.seq,
            ack: 0,
            payload_len: x.len,
            options: &x.opts,
        })
    }

    fn cap_v0(keys: &[u64]) -> Vec<u8> {
        let mut o = vec![30, 4 + 8 * keys.len() as u8, 0x00, 0x01];
        for k in keys {
            o.extend_from_slice(&k.to_be_bytes());
        }
        o
    }

    /// DSS with 4-byte fields; `map` = (dsn, ssn, len).
    fn dss4(ack: Option<u32>, map: Option<(u32, u32, u16)>) -> Vec<u8> {
        let mut o = vec![30, 4, 0x20, 0];
        if let Some(a) = ack {
            o[3] |= 1;
            o.extend_from_slice(&a.to_be_bytes());
        }
        if let Some((d, s, l)) = map {
            o[3] |= 4;
            o.extend_from_slice(&d.to_be_bytes());
            o.extend_from_slice(&s.to_be_bytes());
            o.extend_from_slice(&l.to_be_bytes());
        }
        o[1] = o.len() as u8;
        o
    }

    const CISN: u32 = 2739181685;
    const SISN: u32 = 1880401460;

    /// The seed 004 trace (Siri, v0): handshake, two data segments, two data acks.
    fn seed() -> Vec<P> {
        vec![
            p(1, 0, C, S, SYN, CISN, 0, cap_v0(&[CK])),
            p(2, 31175, S, C, SYN | ACK, SISN, 0, cap_v0(&[SK])),
            p(3, 34387, C, S, ACK, CISN + 1, 0, cap_v0(&[CK, SK])),
            p(
                4,
                46325,
                C,
                S,
                ACK,
                CISN + 1,
                144,
                dss4(Some(2248627404), Some((3845908739, 1, 144))),
            ),
            p(
                5,
                46369,
                C,
                S,
                ACK,
                CISN + 145,
                40,
                dss4(Some(2248627404), Some((3845908883, 145, 40))),
            ),
            p(
                6,
                73971,
                S,
                C,
                ACK,
                SISN + 1,
                0,
                dss4(Some(3845908883), None),
            ),
            p(
                7,
                78399,
                S,
                C,
                ACK,
                SISN + 1,
                0,
                dss4(Some(3845908923), None),
            ),
        ]
    }

    #[test]
    fn seed_trace() {
        let mut a = Analyser::new(Config::default());
        for x in &seed() {
            assert!(feed(&mut a, x).is_some());
        }
        let c = a.connection(0).unwrap();
        assert_eq!(c.tokens, [Some(0xa421f0da), Some(0x4c4d4173)]);
        assert_eq!(c.third_ack_echoed_keys, Some(true));
        assert_eq!(c.checksum_negotiated, Some(false));
        assert_eq!(c.mappings_without_checksum, 2);
        let f4 = a.annotation(4).unwrap();
        assert_eq!(
            (f4.rel_dsn, f4.dsn_base, f4.idsn_check),
            (Some(1), Some(RelBase::Idsn), Some(IdsnCheck::Ok))
        );
        assert_eq!((f4.rel_dack, f4.dack_base), (Some(1), Some(RelBase::Idsn)));
        assert_eq!(
            (f4.connection, f4.subflow, f4.direction),
            (Some(0), Some(0), Some(Direction::Forward))
        );
        let f5 = a.annotation(5).unwrap();
        assert_eq!(
            (f5.rel_dsn, f5.idsn_check, f5.in_flight),
            (Some(145), None, Some(184))
        );
        let f6 = a.annotation(6).unwrap();
        assert_eq!(
            (f6.rel_dack, f6.direction),
            (Some(145), Some(Direction::Reverse))
        );
        assert_eq!(
            f6.data_rtt,
            Some(DataRtt {
                ns: (73971 - 46325) * 1000,
                acked_frame: 4
            })
        );
        let f7 = a.annotation(7).unwrap();
        assert_eq!(
            f7.data_rtt,
            Some(DataRtt {
                ns: (78399 - 46369) * 1000,
                acked_frame: 5
            })
        );
        assert_eq!(c.rtt_stats().unwrap().samples, 2);
        assert_eq!(a.connection(0).unwrap().spaces[0].in_flight(), Some(0));
    }

    #[test]
    fn idempotent_refeed() {
        let mut a = Analyser::new(Config::default());
        let s = seed();
        for x in &s {
            feed(&mut a, x);
        }
        let before = a.clone();
        for x in s.iter().rev() {
            feed(&mut a, x);
        }
        assert_eq!(before.connections(), a.connections());
        assert_eq!(before.annotations, a.annotations);
    }

    #[test]
    fn missing_handshake_uses_first_seen() {
        let mut a = Analyser::new(Config::default());
        for x in seed().into_iter().skip(3) {
            feed(&mut a, &x);
        }
        let f4 = a.annotation(4).unwrap();
        assert_eq!(
            (f4.rel_dsn, f4.dsn_base, f4.idsn_check),
            (Some(1), Some(RelBase::FirstSeen), None)
        );
        assert_eq!(a.annotation(5).unwrap().rel_dsn, Some(145));
        assert_eq!(a.annotation(7).unwrap().rel_dack, Some(185));
        assert_eq!(a.connection(0).unwrap().tokens, [None, None]);
        // A plain TCP segment is not MPTCP.
        let mut a = Analyser::new(Config::default());
        assert!(feed(
            &mut a,
            &p(
                1,
                0,
                C,
                S,
                ACK,
                1,
                10,
                vec![1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0]
            )
        )
        .is_none());
    }

    #[test]
    fn widening_4_byte_across_wrap() {
        assert_eq!(widen(5, 4, Some(0x1_ffff_fff0)), 0x2_0000_0005);
        assert_eq!(widen(0xffff_fff0, 4, Some(0x2_0000_0005)), 0x1_ffff_fff0);
        assert_eq!(widen(7, 8, Some(1)), 7);
        let mut a = Analyser::new(Config::default());
        feed(
            &mut a,
            &p(
                1,
                0,
                C,
                S,
                ACK,
                100,
                16,
                dss4(None, Some((0xffff_fff8, 1, 16))),
            ),
        );
        let x = feed(
            &mut a,
            &p(
                2,
                1,
                C,
                S,
                ACK,
                116,
                16,
                dss4(None, Some((0x0000_0008, 17, 16))),
            ),
        )
        .unwrap();
        assert_eq!(x.rel_dsn, Some(17));
        assert_eq!(x.reinjection_of, None);
    }

    #[test]
    fn join_reinjection_and_handover() {
        let mut a = Analyser::new(Config {
            silence_ns: 1_000_000_000,
            ..Config::default()
        });
        let mut s = seed();
        s.truncate(5);
        // Server token 0x4c4d4173: MP_JOIN SYN from the client's second address.
        let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
        s.push(p(6, 100_000, C2, S, SYN, 5000, 0, join));
        let mut ja = vec![30, 16, 0x10, 0];
        ja.extend_from_slice(&[0; 12]);
        s.push(p(7, 110_000, S, C2, SYN | ACK, 9000, 0, ja));
        // The first subflow goes quiet; 2 s later its data (rel 145..185) is sent on subflow 1.
        s.push(p(
            8,
            2_200_000,
            C2,
            S,
            ACK,
            5001,
            40,
            dss4(None, Some((3845908883, 1, 40))),
        ));
        // Then a plain TCP retransmission of it on subflow 1.
        s.push(p(
            9,
            2_400_000,
            C2,
            S,
            ACK,
            5001,
            40,
            dss4(None, Some((3845908883, 1, 40))),
        ));
        for x in &s {
            feed(&mut a, x);
        }
        let c = a.connection(0).unwrap();
        assert_eq!(c.subflows.len(), 2);
        assert_eq!(c.subflows[1].addr_ids, [Some(2), Some(0)]);
        assert!(c.subflows[1].joined);
        let f8 = a.annotation(8).unwrap();
        assert_eq!(
            (f8.connection, f8.subflow, f8.rel_dsn),
            (Some(0), Some(1), Some(145))
        );
        assert_eq!(
            f8.reinjection_of,
            Some(Reinjection {
                frame: 5,
                subflow: 0,
                kind: ReinjectionKind::OtherSubflow
            })
        );
        assert!(matches!(
            f8.events[..],
            [Event::Handover {
                from_subflow: 0,
                to_subflow: 1,
                reason: HandoverReason::Silence { .. }
            }]
        ));
        let f9 = a.annotation(9).unwrap();
        assert_eq!(
            f9.reinjection_of.unwrap().kind,
            ReinjectionKind::OtherSubflow
        );
        assert_eq!(c.reinjections, 2);
        // An unknown token becomes its own connection.
        let unk = vec![30, 12, 0x10, 2, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4];
        let x = feed(
            &mut a,
            &p(20, 3_000_000, ([1, 1, 1, 1], 1), S, SYN, 1, 0, unk),
        )
        .unwrap();
        assert_eq!(x.connection, Some(1));
        assert!(x
            .events
            .contains(&Event::JoinUnknownToken { token: 0xdeadbeef }));
    }

    #[test]
    fn deferred_handover_idle_resume_and_data_fin_repeat() {
        let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
        let mut ja = vec![30, 16, 0x10, 0];
        ja.extend_from_slice(&[0; 12]);
        let base = |a: &mut Analyser| {
            let mut s = seed();
            s.truncate(5);
            s.push(p(6, 100_000, C2, S, SYN, 5000, 0, join.clone()));
            s.push(p(7, 110_000, S, C2, SYN | ACK, 9000, 0, ja.clone()));
            for x in &s {
                feed(a, x);
            }
        };
        // Busy: data moves to subflow 1 at once (no reinjection, short gap); subflow 0 is
        // never seen again while subflow 1 carries on for over 1 s: after `finish`, a
        // handover on the frame where the data moved.
        let mut a = Analyser::new(Config::default());
        base(&mut a);
        let mut dsn = 3845908923u32;
        let mut ssn = 1u32;
        for (i, t) in [150_000i128, 350_000, 550_000, 750_000, 950_000, 1_150_000, 1_350_000].iter().enumerate() {
            let f = 8 + i as u32;
            feed(&mut a, &p(f, *t, C2, S, ACK, 5000 + ssn, 100, dss4(None, Some((dsn, ssn, 100)))));
            dsn += 100;
            ssn += 100;
        }
        let ho_frames = |a: &Analyser| -> Vec<u32> {
            (8..15)
                .filter(|f| {
                    a.annotation(*f).unwrap().events.iter().any(|x| {
                        matches!(x, Event::Handover { from_subflow: 0, to_subflow: 1, reason: HandoverReason::Silence { .. } })
                    })
                })
                .collect()
        };
        assert!(ho_frames(&a).is_empty());
        a.finish();
        a.finish();
        assert_eq!(ho_frames(&a), vec![8]);
        assert_eq!(a.connection(0).unwrap().handovers.len(), 1);
        // DATA_FIN on subflow 0, then repeated on subflow 1: not a reinjection.
        let mut fin = vec![30, 4, 0x20, 0x14];
        fin.extend_from_slice(&dsn.to_be_bytes());
        fin.extend_from_slice(&0u32.to_be_bytes());
        fin.extend_from_slice(&1u16.to_be_bytes());
        fin[1] = fin.len() as u8;
        let before = a.connection(0).unwrap().reinjections;
        feed(&mut a, &p(20, 1_400_000, C, S, ACK, CISN + 185, 0, fin.clone()));
        let r = feed(&mut a, &p(21, 1_400_100, C2, S, ACK, 5000 + ssn, 0, fin)).unwrap();
        assert_eq!((r.reinjection_of, r.data_len), (None, 1));
        // The server's first mapping is a bare DATA_FIN at IDSN + 6: no IDSN verdict; its
        // first data mapping (IDSN + 1, 5 bytes) gets it.
        let sfin = |dsn: u32, ssn: u32, len: u16| {
            let mut o = vec![30, 4, 0x20, 0x14];
            o.extend_from_slice(&dsn.to_be_bytes());
            o.extend_from_slice(&ssn.to_be_bytes());
            o.extend_from_slice(&len.to_be_bytes());
            o[1] = o.len() as u8;
            o
        };
        let f = feed(&mut a, &p(22, 1_500_000, S, C, ACK, SISN + 1, 0, sfin(2248627409, 0, 1))).unwrap();
        assert_eq!(f.idsn_check, None);
        let f = feed(&mut a, &p(23, 1_600_000, S, C, ACK, SISN + 1, 5, sfin(2248627404, 1, 6))).unwrap();
        assert_eq!(f.idsn_check, Some(IdsnCheck::Ok));
        assert_eq!(a.connection(0).unwrap().reinjections, before);

        // Idle: the connection is quiet for 3 s, then resumes on subflow 1: no handover.
        let mut a = Analyser::new(Config::default());
        base(&mut a);
        let mut dsn = 3845908923u32;
        let mut ssn = 1u32;
        for (i, t) in [3_000_000i128, 3_500_000, 4_000_000, 4_600_000, 5_200_000].iter().enumerate() {
            feed(&mut a, &p(8 + i as u32, *t, C2, S, ACK, 5000 + ssn, 100, dss4(None, Some((dsn, ssn, 100)))));
            dsn += 100;
            ssn += 100;
        }
        a.finish();
        assert!(a.connection(0).unwrap().handovers.is_empty());
    }

    #[test]
    fn same_subflow_kinds() {
        let mut a = Analyser::new(Config::default());
        let s = seed();
        for x in &s[..5] {
            feed(&mut a, x);
        }
        // Exact TCP retransmission of frame 5.
        let x = feed(
            &mut a,
            &p(
                6,
                50000,
                C,
                S,
                ACK,
                CISN + 145,
                40,
                dss4(None, Some((3845908883, 145, 40))),
            ),
        )
        .unwrap();
        assert_eq!(
            x.reinjection_of,
            Some(Reinjection {
                frame: 5,
                subflow: 0,
                kind: ReinjectionKind::SubflowRetransmission
            })
        );
        // Same DSNs with new subflow sequence numbers.
        let x = feed(
            &mut a,
            &p(
                7,
                60000,
                C,
                S,
                ACK,
                CISN + 185,
                40,
                dss4(None, Some((3845908883, 185, 40))),
            ),
        )
        .unwrap();
        assert_eq!(x.reinjection_of.unwrap().kind, ReinjectionKind::SameSubflow);
        let c = a.connection(0).unwrap();
        assert_eq!((c.reinjections, c.subflow_retransmissions), (1, 1));
    }

    #[test]
    fn fallbacks_and_events() {
        // SYN/ACK without MP_CAPABLE.
        let mut a = Analyser::new(Config::default());
        feed(&mut a, &p(1, 0, C, S, SYN, CISN, 0, cap_v0(&[CK])));
        let x = feed(&mut a, &p(2, 1, S, C, SYN | ACK, SISN, 0, vec![])).unwrap();
        assert_eq!(
            x.events,
            vec![Event::FallbackToTcp(FallbackReason::SynAckWithoutMpCapable)]
        );
        // Data without DSS after negotiation.
        let mut a = Analyser::new(Config::default());
        let s = seed();
        for x in &s[..3] {
            feed(&mut a, x);
        }
        let x = feed(&mut a, &p(4, 9, C, S, ACK, CISN + 1, 10, vec![1, 1])).unwrap();
        assert_eq!(
            x.events,
            vec![Event::FallbackToTcp(FallbackReason::DataWithoutDss)]
        );
        let x = feed(&mut a, &p(5, 10, C, S, ACK, CISN + 11, 10, vec![])).unwrap();
        assert!(x.events.is_empty(), "reported once");
        // Infinite mapping.
        let mut a = Analyser::new(Config::default());
        for x in &s[..3] {
            feed(&mut a, x);
        }
        let x = feed(
            &mut a,
            &p(
                4,
                9,
                C,
                S,
                ACK,
                CISN + 1,
                10,
                dss4(None, Some((3845908739, 0, 0))),
            ),
        )
        .unwrap();
        assert_eq!(
            x.events,
            vec![
                Event::InfiniteMapping,
                Event::FallbackToTcp(FallbackReason::InfiniteMapping)
            ]
        );
        // MP_FAIL, MP_FASTCLOSE, MP_TCPRST, RST.
        let mut fail = vec![30, 12, 0x60, 0];
        fail.extend_from_slice(&(18410027899488261323u64 + 11).to_be_bytes());
        let x = feed(&mut a, &p(5, 10, C, S, ACK, CISN + 11, 0, fail)).unwrap();
        assert_eq!(
            x.events,
            vec![
                Event::MpFail { rel_dsn: Some(11) },
                Event::SubflowClosed {
                    subflow: 0,
                    reason: CloseReason::MpFail
                }
            ]
        );
        let mut fc = vec![30, 12, 0x70, 0];
        fc.extend_from_slice(&SK.to_be_bytes());
        let x = feed(&mut a, &p(6, 11, C, S, ACK, CISN + 11, 0, fc)).unwrap();
        assert_eq!(x.events, vec![Event::FastClose]);
        let x = feed(
            &mut a,
            &p(
                7,
                12,
                S,
                C,
                TcpFlags::RST | ACK,
                SISN + 1,
                0,
                vec![30, 4, 0x81, 2],
            ),
        )
        .unwrap();
        assert_eq!(
            x.events,
            vec![Event::MpRst {
                reason: 2,
                transient: true
            }]
        );
    }

    #[test]
    fn keys_not_echoed_and_remove_addr() {
        let mut a = Analyser::new(Config::default());
        let s = seed();
        for x in &s[..2] {
            feed(&mut a, x);
        }
        let x = feed(
            &mut a,
            &p(3, 5, C, S, ACK, CISN + 1, 0, cap_v0(&[CK, SK ^ 1])),
        )
        .unwrap();
        assert_eq!(x.events, vec![Event::KeysNotEchoed]);
        assert_eq!(a.connection(0).unwrap().third_ack_echoed_keys, Some(false));
        // Client announces address 7 = 10.9.9.9 then removes it: nothing uses it, no close.
        let x = feed(
            &mut a,
            &p(
                4,
                6,
                C,
                S,
                ACK,
                CISN + 1,
                0,
                vec![30, 8, 0x34, 7, 10, 9, 9, 9],
            ),
        )
        .unwrap();
        assert!(x.events.is_empty());
        let x = feed(
            &mut a,
            &p(5, 7, C, S, ACK, CISN + 1, 0, vec![30, 4, 0x40, 7]),
        )
        .unwrap();
        assert!(x.events.is_empty());
        let x = feed(
            &mut a,
            &p(6, 8, C, S, ACK, CISN + 1, 0, vec![30, 4, 0x40, 0]),
        )
        .unwrap();
        assert_eq!(
            x.events,
            vec![Event::SubflowClosed {
                subflow: 0,
                reason: CloseReason::RemoveAddr
            }]
        );
    }

    #[test]
    fn caps() {
        let cfg = Config {
            max_connections: 1,
            max_subflows: 1,
            max_ranges: 2,
            max_rtt_samples: 1,
            max_annotations: 100,
            ..Config::default()
        };
        let mut a = Analyser::new(cfg);
        let s = seed();
        for x in &s[..3] {
            feed(&mut a, x);
        }
        let x = feed(&mut a, &p(4, 9, C2, S, ACK, 1, 0, dss4(Some(1), None))).unwrap();
        assert_eq!(
            (x.connection, x.events.clone()),
            (None, vec![Event::CapReached(CapKind::Connections)])
        );
        assert!(a.global_cap_hit());
        let join = vec![30, 12, 0x10, 2, 0x4c, 0x4d, 0x41, 0x73, 1, 2, 3, 4];
        let x = feed(&mut a, &p(5, 10, C2, S, SYN, 5, 0, join)).unwrap();
        assert_eq!((x.connection, x.subflow), (Some(0), None));
        assert_eq!(x.events, vec![Event::CapReached(CapKind::Subflows)]);
        for i in 0..5u32 {
            let x = feed(
                &mut a,
                &p(
                    10 + i,
                    20,
                    C,
                    S,
                    ACK,
                    CISN + 1 + 10 * i,
                    10,
                    dss4(None, Some((3845908739 + 10 * i, 1 + 10 * i, 10))),
                ),
            )
            .unwrap();
            assert_eq!(x.rel_dsn, Some(1 + 10 * i as u64));
            if i == 2 {
                assert_eq!(x.events, vec![Event::CapReached(CapKind::Ranges)]);
            }
        }
        assert!(a.connection(0).unwrap().spaces[0].sent.len() <= 2);
        let x = feed(
            &mut a,
            &p(30, 30, S, C, ACK, SISN + 1, 0, dss4(Some(3845908789), None)),
        )
        .unwrap();
        assert_eq!(x.rel_dack, Some(51));
        assert!(x.data_rtt.is_some());
        // Later segments of the untracked connection: nothing to show, nothing stored.
        let stored = a.annotations.len();
        assert!(feed(&mut a, &p(31, 31, C2, S, ACK, 1, 0, dss4(Some(1), None))).is_none());
        assert_eq!(a.annotations.len(), stored);
    }

    /// Random segments with random option bytes never panic, and refeeding changes nothing.
    #[test]
    fn random_segments_never_panic() {
        let mut state: u64 = 0x1234_5678_9abc_def0;
        let mut rnd = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let cfg = Config {
            max_connections: 8,
            max_subflows: 3,
            max_ranges: 16,
            max_rtt_samples: 8,
            max_addresses: 2,
            max_handovers: 2,
            max_annotations: 3000,
            silence_ns: 1000,
        };
        let mut a = Analyser::new(cfg);
        let ends = [C, S, C2, ([1, 1, 1, 1], 1)];
        let mut segs = Vec::new();
        for f in 1..4000u32 {
            let r = rnd();
            let from = ends[(r & 3) as usize];
            let to = ends[((r >> 2) & 3) as usize];
            let nopt = (r >> 8) as usize % 41;
            let mut opts: Vec<u8> = (0..nopt).map(|_| rnd() as u8).collect();
            if r & 0x10 != 0 && opts.len() > 3 {
                opts[0] = 30;
                opts[1] = (opts.len() as u8).min(opts[1] % 32);
                opts[2] &= 0x8f;
            }
            let x = p(
                f,
                (rnd() % 1_000_000) as i128 - 500_000,
                from,
                to,
                (r >> 32) as u8,
                rnd() as u32,
                (rnd() % 3000) as u32,
                opts,
            );
            feed(&mut a, &x);
            segs.push(x);
        }
        let before = a.clone();
        for x in &segs {
            feed(&mut a, x);
        }
        assert_eq!(before.annotations, a.annotations);
        assert!(a.annotations.len() <= 3000);
        assert!(a.connections().len() <= 8);
    }
}

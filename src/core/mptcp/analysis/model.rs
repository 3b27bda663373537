//! The analyser's data model: its bounds ([`Config`]), its input ([`Segment`]), its
//! per-frame output ([`Annotation`], [`Event`]) and the per-connection state and summary
//! ([`Connection`], [`Subflow`], the two DSN spaces), with the small arithmetic on wrapping
//! sequence numbers that every analysis step shares.
//!
//! Fields marked `pub(super)` are analysis state, not summary: the steps in the sibling
//! files read and write them, nothing outside [`super`] sees them.

use crate::core::mptcp::keys::derive;
use crate::core::mptcp::options::{RstReason, Version};
use std::collections::BTreeMap;
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
    /// Out-of-order data ranges held per direction by the reorder tracker (data seen at
    /// the capture point beyond a hole; contiguous data merges into one range).
    pub max_reorder_ranges: usize,
    /// Reinjections per connection whose outcome waits for a data ACK.
    pub max_pending_reinjections: usize,
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
            max_reorder_ranges: 1024,
            max_pending_reinjections: 1024,
        }
    }
}

/// TCP header flags (only the bits the analyser reads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// FIN: the sender has no more data on this subflow.
    pub const FIN: u8 = 0x01;
    /// SYN: opens a subflow.
    pub const SYN: u8 = 0x02;
    /// RST: resets (closes) the subflow.
    pub const RST: u8 = 0x04;
    /// ACK: the acknowledgement number is valid.
    pub const ACK: u8 = 0x10;
    pub(super) fn has(self, b: u8) -> bool {
        self.0 & b != 0
    }
}

/// One TCP segment as the analyser needs it.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    /// Frame number (Wireshark's, 1-based, increasing in capture order).
    pub frame: u32,
    /// Capture time in nanoseconds (any epoch).
    pub time_ns: i128,
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Source port.
    pub sport: u16,
    /// Destination port.
    pub dport: u16,
    /// TCP flags.
    pub flags: TcpFlags,
    /// TCP sequence number (absolute).
    pub seq: u32,
    /// TCP acknowledgement number (absolute).
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
    pub(super) fn from_idx(i: usize) -> Self {
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
    /// The first mapping's DSN is not IDSN + 1.
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
    /// How the two carriers relate.
    pub kind: ReinjectionKind,
}

/// A segment whose data arrived at the data level before data preceding it (as seen at
/// the capture point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ofo {
    /// Data bytes before this segment's first byte not yet seen at the capture point (the
    /// hole or holes between the in-order point and this segment).
    pub hole: u64,
}

/// On the segment that fills a hole: the out-of-order data it releases (makes contiguous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Release {
    /// How long the longest-waiting released data had waited (its arrival → this frame), ns.
    pub wait_ns: i128,
    /// Segments that had carried the released data (at least one).
    pub frames: u32,
    /// The released data's bytes (beyond this segment's own).
    pub bytes: u64,
    /// The frame of the longest-waiting released data.
    pub oldest_frame: u32,
}

/// A pure ACK repeating the previous data ACK of the same host while data is outstanding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DupDack {
    /// 1 for the first repeat, 2 for the second, …
    pub count: u32,
    /// The frame whose data ACK this one repeats.
    pub of_frame: u32,
}

crate::value_enum! {
    /// Whether a reinjection was needed (name: the field value; phrase: "… reinjection").
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ReinjectionOutcome: u8 {
        /// The data was not known to have reached the receiver when it was sent again.
        Needed = 1 => "needed", "a needed reinjection";
        /// The receiver already had the data: data-acked before the reinjection, acked too
        /// soon after it to answer it, or held beyond a hole when it came again.
        Spurious = 2 => "spurious", "a spurious reinjection";
    }
}

/// The outcome of a data-level reinjection and the frame that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Needed or spurious.
    pub outcome: ReinjectionOutcome,
    /// The data ACK frame that decided it (before or after the reinjection).
    pub decided_in: u32,
}

/// Data-level round trip measured on a data-ack frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataRtt {
    /// Time from the first transmission to this data ack, in ns.
    pub ns: i128,
    /// Frame that first sent the acknowledged range.
    pub acked_frame: u32,
}

crate::value_enum! {
    /// Why a subflow stopped being usable (name: the field value; phrase: "subflow N …").
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum CloseReason: u8 {
        /// REMOVE_ADDR named one of its addresses.
        RemoveAddr = 1 => "REMOVE_ADDR", "removed by REMOVE_ADDR";
        /// A TCP RST.
        Reset = 2 => "TCP reset", "reset";
        /// MP_FAIL.
        MpFail = 3 => "MP_FAIL", "closed after MP_FAIL";
        /// MP_FASTCLOSE (the whole connection).
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
    /// The previous subflow had been closed.
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
    /// [`Config::max_connections`].
    Connections,
    /// [`Config::max_subflows`].
    Subflows,
    /// [`Config::max_ranges`].
    Ranges,
    /// [`Config::max_rtt_samples`].
    RttSamples,
    /// [`Config::max_addresses`].
    Addresses,
    /// [`Config::max_handovers`].
    Handovers,
    /// [`Config::max_annotations`].
    Annotations,
    /// [`Config::max_reorder_ranges`].
    ReorderRanges,
    /// [`Config::max_pending_reinjections`].
    PendingReinjections,
}

/// Something worth an expert note on this frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Data moved from one subflow to another after the first closed or went silent.
    Handover {
        from_subflow: usize,
        to_subflow: usize,
        reason: HandoverReason,
        /// Time from the last data the old subflow carried in this direction to this frame
        /// (the first data on the new one), in ns; None if the old one carried none.
        latency_ns: Option<i128>,
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
    /// The connection fell back to plain TCP.
    FallbackToTcp(FallbackReason),
    /// A DSS mapping with data-level length 0.
    InfiniteMapping,
    /// MP_FASTCLOSE.
    FastClose,
    /// MP_TCPRST: reason code and transient (T) flag.
    MpRst {
        reason: RstReason,
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
    /// A bound of [`Config`] dropped information (once per connection and kind).
    CapReached(CapKind),
}

/// Analysis of one frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Annotation {
    /// Connection index (0-based, order of appearance); None if not tracked (cap).
    pub connection: Option<usize>,
    /// Subflow index within the connection (0 = first seen, normally the initial one).
    pub subflow: Option<usize>,
    /// Direction of the segment within its connection.
    pub direction: Option<Direction>,
    /// Relative DSN of this segment's first data byte (or of its DATA_FIN).
    pub rel_dsn: Option<u64>,
    /// Data-level length of this segment (payload plus 1 for a DATA_FIN).
    pub data_len: u32,
    /// Relative data ack (against the opposite direction's space).
    pub rel_dack: Option<u64>,
    /// What `rel_dsn` is relative to.
    pub dsn_base: Option<RelBase>,
    /// What `rel_dack` is relative to.
    pub dack_base: Option<RelBase>,
    /// Set on the frame with the first mapping of a space whose key is known.
    pub idsn_check: Option<IdsnCheck>,
    /// Data RTT, on a data ack that newly covers a whole range sent.
    pub data_rtt: Option<DataRtt>,
    /// Set when this segment carries DSNs already sent.
    pub reinjection_of: Option<Reinjection>,
    /// Data-level bytes sent but not yet data-acked in this segment's direction.
    pub in_flight: Option<u64>,
    /// Set when this segment's data arrived before data preceding it.
    pub ofo: Option<Ofo>,
    /// Set when this segment fills a hole and releases out-of-order data.
    pub release: Option<Release>,
    /// Set on a pure ACK that repeats the previous data ACK while data is outstanding.
    pub dup_dack: Option<DupDack>,
    /// On a data-level reinjection: needed or spurious, once a data ACK decided it.
    pub reinjection_outcome: Option<Outcome>,
    /// Expert-worthy events of this frame, in the order they were found.
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
    /// Frame that opened the subflow.
    pub first_frame: u32,
    /// Why the subflow stopped being usable, if it did.
    pub closed: Option<CloseReason>,
    /// Segments with payload, client→server \[0\] and server→client \[1\].
    pub data_segments: [u64; 2],
    /// Segments on this subflow whose data arrived out of order at the data level.
    pub ofo_segments: u64,
    /// Duplicate data ACKs sent on this subflow.
    pub dup_dacks: u64,
    /// The host the capture point is nearer to on this subflow (0 client, 1 server), from
    /// the handshake: the SYN → SYN/ACK time is the round trip beyond the capture point on
    /// the server's side, SYN/ACK → ACK the one on the client's side.
    pub capture_near: Option<usize>,
    /// Data-level reinjections carried on this subflow, judged needed / spurious.
    pub reinjections_needed: u64,
    /// See `reinjections_needed`.
    pub reinjections_spurious: u64,
    pub(super) last_data_ns: [Option<i128>; 2],
    /// Last payload that was not a TCP retransmission, per direction.
    pub(super) last_new_data_ns: [Option<i128>; 2],
    /// Per direction: the ISN came from a SYN seen here (subflow data then starts at 1).
    pub(super) syn_seen: [bool; 2],
    /// Per direction: the highest TCP ACK (relative subflow sequence) the peer sent for this
    /// direction's data, and its frame.
    pub(super) tcp_acked: [Option<(u32, u32)>; 2],
    /// Times of the SYN \[0\] and the SYN/ACK \[1\].
    pub(super) syn_ns: [Option<i128>; 2],
    pub(super) sub_order: [SubOrder; 2],
    pub(super) isn: [Option<u32>; 2],
    pub(super) high_seq: [Option<u32>; 2],
    pub(super) maps: [Vec<Mapping>; 2],
    pub(super) last_seen_ns: i128,
    /// A TCP FIN was seen from each end.
    pub(super) fin_seen: [bool; 2],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Mapping {
    pub(super) dsn: u64,
    pub(super) ssn: u32,
    pub(super) len: u32,
}

/// Data moving from one subflow to another (a handover candidate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Switch {
    pub(super) frame: u32,
    pub(super) time_ns: i128,
    pub(super) direction: usize,
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) latency_ns: Option<i128>,
}

/// A recorded handover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handover {
    /// Frame where the data moved.
    pub frame: u32,
    /// Direction of the data that moved.
    pub direction: Direction,
    /// Subflow the data left.
    pub from_subflow: usize,
    /// Subflow the data moved to.
    pub to_subflow: usize,
    /// Why this is a handover.
    pub reason: HandoverReason,
    /// Last data on the old subflow (this direction) → this frame, in ns.
    pub latency_ns: Option<i128>,
}

/// Min / median / max of the data-RTT samples, in ns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RttStats {
    /// Number of samples.
    pub samples: usize,
    /// Smallest sample.
    pub min: i128,
    /// Median sample.
    pub median: i128,
    /// Largest sample.
    pub max: i128,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Sent {
    pub(super) end: u64,
    pub(super) frame: u32,
    pub(super) subflow: u16,
    /// Capture time, ns (64 bits: 292 years from the epoch the times count from).
    pub(super) time_ns: i64,
    pub(super) acked: bool,
    /// The data ACK frame that first covered the whole range (once `acked`).
    pub(super) acked_frame: u32,
    /// End of the range in its carrier's subflow sequence (relative), if known.
    pub(super) ssn_end: Option<u32>,
}

/// One direction's data sequence space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Space {
    pub(super) idsn: Option<u64>,
    pub(super) base: Option<(u64, RelBase)>,
    pub(super) reference: Option<u64>,
    pub(super) first_mapping_seen: bool,
    pub(super) sent: BTreeMap<u64, Sent>,
    pub(super) high_sent: Option<u64>,
    pub(super) high_acked: Option<u64>,
    /// The frame whose data ACK set `high_acked`.
    pub(super) high_acked_frame: u32,
    /// The data seen at the capture point, for out-of-order analysis.
    pub(super) seen: Reorder,
}

/// What a direction's data looks like at the capture point: everything before `next` has
/// been seen; `held` are the ranges seen beyond it (disjoint, not touching), by start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Reorder {
    pub(super) next: Option<u64>,
    /// The end of the highest payload seen (DATA_FINs aside).
    pub(super) high: Option<u64>,
    pub(super) held: BTreeMap<u64, Held>,
}

/// One range of data seen beyond a hole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Held {
    pub(super) end: u64,
    /// Arrival of the earliest data of the range, and its frame.
    pub(super) since_ns: i128,
    pub(super) since_frame: u32,
    /// Segments that brought data into the range.
    pub(super) frames: u32,
}

/// A verdict on an earlier frame, reached later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Late {
    Outcome(Outcome),
    Ofo(Ofo),
    Release(Release),
}

/// A subflow's in-order delivery in one direction, as the receiving TCP does it: data
/// beyond a hole in the subflow sequence waits (`held`) until the hole fills; only then
/// does it reach the data level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct SubOrder {
    /// Relative subflow sequence number of the next byte to deliver.
    pub(super) next: Option<u32>,
    pub(super) held: Vec<HeldSeg>,
}

/// A segment a subflow holds beyond a hole in its sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HeldSeg {
    pub(super) ssn: u32,
    pub(super) len: u32,
    pub(super) rel: u64,
    pub(super) frame: u32,
}

/// A data-level reinjection whose outcome waits for the data ACK that covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pending {
    pub(super) frame: u32,
    pub(super) time_ns: i128,
    /// The DSN space (sending host) and the end of the data sent again.
    pub(super) space: usize,
    pub(super) end: u64,
    pub(super) subflow: usize,
    /// The first carrier of the data's last byte: its subflow and the end of its subflow
    /// bytes (relative); its subflow's TCP ACK covering them says the original arrived.
    pub(super) orig: Option<(usize, u32)>,
}

/// The last data ACK a host sent (for duplicate data ACKs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct LastDack {
    pub(super) value: u64,
    pub(super) frame: u32,
    pub(super) repeats: u32,
}

/// Widths (bit 4 = 4-byte, bit 8 = 8-byte) seen for a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Widths(pub u8);

impl Widths {
    pub(super) fn add(&mut self, w: u8) {
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

/// Most frames per connection recorded in [`Connection::summary_frames`].
pub const SUMMARY_FRAMES: usize = 64;

/// What [`Connection::facts`] compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Facts {
    version: Option<u8>,
    keys: [bool; 2],
    checksum_negotiated: Option<bool>,
    keys_echoed: Option<bool>,
    subflows: usize,
    subflow_state: u64,
    addr_ids: usize,
    handovers: usize,
    fallback: Option<FallbackReason>,
}

/// Per-connection state and summary; fields indexed by host (0 client, 1 server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// MPTCP version, from the first MP_CAPABLE seen.
    pub version: Option<Version>,
    /// 64-bit key of each host.
    pub keys: [Option<u64>; 2],
    /// Token of each host (derived from its key).
    pub tokens: [Option<u32>; 2],
    /// Initial data sequence number of each host (derived from its key).
    pub idsns: [Option<u64>; 2],
    /// MP_CAPABLE flags byte sent by each host (SYN, SYN/ACK).
    pub capable_flags: [Option<u8>; 2],
    /// Either host set the A flag (checksum required).
    pub checksum_negotiated: Option<bool>,
    /// DSS mappings with a checksum.
    pub mappings_with_checksum: u64,
    /// DSS mappings without a checksum.
    pub mappings_without_checksum: u64,
    /// DSN widths used by each host.
    pub dsn_widths: [Widths; 2],
    /// Data-ack widths used by each host.
    pub dack_widths: [Widths; 2],
    /// Segments with payload.
    pub data_segments: u64,
    /// Segments with payload that carried a DSS option.
    pub data_segments_with_dss: u64,
    /// Largest number of DSS options seen in one segment.
    pub max_dss_per_segment: u8,
    /// Whether the third ACK repeated both keys as sent (None: not seen or not comparable).
    pub third_ack_echoed_keys: Option<bool>,
    /// Subflows in order of appearance (index 0 normally the initial one).
    pub subflows: Vec<Subflow>,
    /// Data-level retransmissions on another or the same subflow.
    pub reinjections: u64,
    /// Plain subflow-level retransmissions.
    pub subflow_retransmissions: u64,
    /// Data-level reinjections judged needed (see [`ReinjectionOutcome`]).
    pub reinjections_needed: u64,
    /// Data-level reinjections judged spurious.
    pub reinjections_spurious: u64,
    /// Segments whose data arrived before data preceding it (both directions).
    pub ofo_segments: u64,
    /// Segments that filled a hole and released out-of-order data.
    pub reorder_releases: u64,
    /// Longest reorder wait of a release, in ns.
    pub max_reorder_wait_ns: Option<i128>,
    /// Duplicate data ACKs (both hosts).
    pub dup_dacks: u64,
    /// Segments the Linux receiver would put into its MPTCP out-of-order queue
    /// (MPTcpExtOFOQueue), at a receiver's capture point: as `ofo_segments`, but a
    /// subflow's batch (a segment that fills the subflow's hole and those it releases) is
    /// judged against the in-order point before the out-of-order queue is drained.
    pub linux_ofo_queue: u64,
    /// Segments whose data (some or all of it) had reached the data level before, as
    /// delivered by their subflow (both directions): the receiver's duplicate data.
    pub duplicate_data: u64,
    /// Handovers, in frame order once [`super::Analyser::finish`] has run.
    pub handovers: Vec<Handover>,
    /// Why the connection fell back to plain TCP, if it did.
    pub fallback: Option<FallbackReason>,
    /// Announced (ADD_ADDR) addresses per host: (address id, address).
    pub announced: [Vec<(u8, IpAddr)>; 2],
    /// Bounds hit by this connection, in the order they were hit.
    pub caps_hit: Vec<CapKind>,
    /// Frame that opened the connection.
    pub first_frame: u32,
    /// Last frame of the connection fed so far (the connection's last frame once the whole
    /// capture has been fed).
    pub last_frame: u32,
    /// Frames at which the connection's facts (see [`Connection::facts`]) changed, in frame
    /// order: the first frame, then each frame that learnt a key, added or closed a subflow,
    /// changed a backup flag, fell back, … — where a per-connection summary is worth showing.
    /// At most [`SUMMARY_FRAMES`]; later changes show on the last frame.
    pub summary_frames: Vec<u32>,
    pub(super) last_facts: Option<Facts>,
    pub(super) rtt_samples: Vec<i64>,
    /// Reinjections waiting for a data ACK to decide their outcome.
    pub(super) pending: Vec<Pending>,
    /// Verdicts reached on the current frame for earlier frames (reinjection outcomes, the
    /// order of data a subflow held back), taken by the driver into those frames'
    /// annotations.
    pub(super) late: Vec<(u32, Late)>,
    /// The last data ACK each host sent.
    pub(super) last_dack: [Option<LastDack>; 2],
    pub(super) spaces: [Space; 2],
    pub(super) syn_had_capable: bool,
    pub(super) negotiated: bool,
    pub(super) last_data_subflow: [Option<usize>; 2],
    /// Data moved to another subflow while the connection was busy, with no sign yet that
    /// the old subflow failed (checked by [`Analyser::finish`]).
    pub(super) switches: Vec<Switch>,
    pub(super) last_seen_ns: i128,
    pub(super) last_data_ns: Option<i128>,
    pub(super) busy_since: i128,
    /// Every subflow was closed gracefully (a TCP FIN from each end): the data-acked ranges
    /// of `spaces` are no longer kept ([`Connection::after_segment`]).
    pub(super) over: bool,
}

impl Connection {
    /// Min, median and max of the data-RTT samples kept.
    pub fn rtt_stats(&self) -> Option<RttStats> {
        let mut v = self.rtt_samples.clone();
        v.sort_unstable();
        Some(RttStats {
            samples: v.len(),
            min: i128::from(*v.first()?),
            median: i128::from(*v.get(v.len() / 2)?),
            max: i128::from(*v.last()?),
        })
    }

    pub(super) fn new(frame: u32) -> Self {
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
            reinjections_needed: 0,
            reinjections_spurious: 0,
            ofo_segments: 0,
            reorder_releases: 0,
            max_reorder_wait_ns: None,
            dup_dacks: 0,
            duplicate_data: 0,
            linux_ofo_queue: 0,
            handovers: Vec::new(),
            fallback: None,
            announced: Default::default(),
            caps_hit: Vec::new(),
            first_frame: frame,
            rtt_samples: Vec::new(),
            pending: Vec::new(),
            late: Vec::new(),
            last_dack: [None; 2],
            spaces: Default::default(),
            syn_had_capable: false,
            negotiated: false,
            last_data_subflow: [None; 2],
            switches: Vec::new(),
            last_seen_ns: 0,
            last_data_ns: None,
            busy_since: 0,
            over: false,
            last_frame: frame,
            summary_frames: Vec::new(),
            last_facts: None,
        }
    }

    /// After a segment of this connection: once every subflow has seen a TCP FIN from each
    /// end, the ranges already data-acked are forgotten (what remains of a closed
    /// connection is its counts; its per-range memory is what made the analyser's memory
    /// grow with the capture rather than with the connections open at once). A range is
    /// kept while unacked: data sent again later (on a subflow that joins after all) is
    /// still linked to its first carrier; data-acked data sent again after a graceful close
    /// of every path is not (its sender had the data ACKs).
    pub(super) fn after_segment(&mut self, s: usize, d: usize, fin: bool) {
        if fin {
            if let Some(sf) = self.subflows.get_mut(s) {
                sf.fin_seen[d] = true;
            }
            let was = self.over;
            self.over = self.subflows.iter().all(|sf| sf.fin_seen == [true; 2]);
            if self.over && !was {
                // What a closed connection keeps, without a growing vector's spare room.
                self.rtt_samples.shrink_to_fit();
                self.summary_frames.shrink_to_fit();
            }
        }
        if self.over {
            for sp in &mut self.spaces {
                if sp.sent.values().all(|r| r.acked) {
                    // Emptied by `retain`, a map would keep its root node.
                    sp.sent = BTreeMap::new();
                } else if sp.sent.values().any(|r| r.acked) {
                    sp.sent.retain(|_, r| !r.acked);
                }
            }
        }
    }

    /// The facts a per-connection summary shows that do not grow with every segment (unlike
    /// byte and segment counts): version, keys, negotiation, subflows and their state,
    /// handovers, fallback.
    pub(super) fn facts(&self) -> Facts {
        let mut sf = 0u64;
        for (i, s) in self.subflows.iter().enumerate().take(16) {
            let bits = u64::from(s.closed.is_some()) | u64::from(s.backup[0]) << 1 | u64::from(s.backup[1]) << 2;
            sf |= bits << (3 * i);
        }
        Facts {
            version: self.version.map(|v| v.raw()),
            keys: [self.keys[0].is_some(), self.keys[1].is_some()],
            checksum_negotiated: self.checksum_negotiated,
            keys_echoed: self.third_ack_echoed_keys,
            subflows: self.subflows.len(),
            subflow_state: sf,
            addr_ids: self.subflows.iter().filter(|s| s.addr_ids[0].is_some() && s.addr_ids[1].is_some()).count(),
            handovers: self.handovers.len(),
            fallback: self.fallback,
        }
    }

    /// Records `frame` as a summary frame if the connection's facts changed with it.
    pub(super) fn note_facts(&mut self, frame: u32) {
        self.last_frame = frame;
        let f = self.facts();
        if self.last_facts.as_ref() != Some(&f) {
            self.last_facts = Some(f);
            if self.summary_frames.len() < SUMMARY_FRAMES && self.summary_frames.last() != Some(&frame) {
                self.summary_frames.push(frame);
            }
        }
    }

    /// Whether a per-connection summary belongs on `frame`: a frame where the facts changed,
    /// or the last frame once the capture is over (`finished`), which shows the final counts.
    pub fn summary_at(&self, frame: u32, finished: bool) -> bool {
        (finished && frame == self.last_frame) || self.summary_frames.binary_search(&frame).is_ok()
    }

    pub(super) fn cap(&mut self, kind: CapKind, events: &mut Vec<Event>) {
        if !self.caps_hit.contains(&kind) {
            self.caps_hit.push(kind);
            events.push(Event::CapReached(kind));
        }
    }

    pub(super) fn set_fallback(&mut self, r: FallbackReason, events: &mut Vec<Event>) {
        if self.fallback.is_none() {
            self.fallback = Some(r);
            events.push(Event::FallbackToTcp(r));
        }
    }

    /// Derive tokens / IDSNs for whatever keys are known.
    pub(super) fn derive_keys(&mut self) {
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
pub(super) fn widen(value: u64, width: u8, reference: Option<u64>) -> u64 {
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
    pub(super) fn observe(&mut self, value: u64, width: u8) -> (u64, u64, RelBase) {
        let abs = widen(value, width, self.reference);
        self.reference = Some(abs);
        let (base, kind) = *self
            .base
            .get_or_insert((abs.wrapping_sub(1), RelBase::FirstSeen));
        (abs, abs.wrapping_sub(base), kind)
    }
    pub(super) fn in_flight(&self) -> Option<u64> {
        let s = self.high_sent?;
        let a = self.high_acked.unwrap_or(1);
        let d = s.wrapping_sub(a) as i64;
        Some(if d > 0 { d as u64 } else { 0 })
    }
}

/// The first entry whose key lies in `[from, to)` of the wrapping 64-bit DSN space (the
/// interval goes through u64::MAX → 0 when `to < from`). `BTreeMap::range(from..to)` panics
/// when `from > to`, which wrapping relative DSNs produce.
pub(super) fn first_in<V>(map: &BTreeMap<u64, V>, from: u64, to: u64) -> Option<(&u64, &V)> {
    if from <= to {
        map.range(from..to).next()
    } else {
        map.range(from..).next().or_else(|| map.range(..to).next())
    }
}

pub(super) fn newer(a: u64, than: u64) -> bool {
    (a.wrapping_sub(than) as i64) > 0
}

pub(super) type Endpoint = (IpAddr, u16);
pub(super) type FourTuple = (Endpoint, Endpoint);

pub(super) fn canon(a: Endpoint, b: Endpoint) -> FourTuple {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}


/// The analyser's small maps (4-tuples, tokens, frame numbers), whose keys come from one
/// capture and whose sizes are bounded by [`Config`]: FxHash (`rustc-hash`), a fraction of
/// SipHash's cost per lookup.
pub type FxMap<K, V> = rustc_hash::FxHashMap<K, V>;

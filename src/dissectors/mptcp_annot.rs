//! MPTCP annotations (`mptcp_annot.*`): glue from `core::mptcp` to Wireshark.
//!
//! A post-dissector: for every frame it finds the TCP segment in the frame's own bytes
//! (`core::frame`), so it works whatever Wireshark's TCP and MPTCP preferences
//! say, and feeds the segment, once, in capture order, to one `core::mptcp::Analyser` per
//! capture file (`epan::filestate`). Later passes read the stored per-frame annotation.
//! Frames that are not MPTCP get nothing; non-TCP frames cost one header walk.
//!
//! Per-connection fields (`mptcp_annot.conn.*`) describe the connection as analysed so far:
//! in a two-pass run (the GUI, `tshark -2`) that is the whole capture. Handovers to a path
//! that died without a gap (the kernel moved the data at once) are only known once the
//! whole capture has been seen, so they appear in two-pass runs only. The summary
//! (`mptcp_annot.conn`) is shown where it says something new: on the connection's first
//! frame, on frames where its facts change (`Connection::summary_at`), on handovers and, in
//! two-pass runs, on its last frame (with the final counts); the preference
//! `mptcp_annot.summary_on_every_frame` shows it on every segment.

use crate::core::mptcp::analysis::{FxMap, 
    CloseReason, FallbackReason, HandoverReason, IdsnCheck, ReinjectionKind, ReinjectionOutcome, RelBase, Subflow, Widths,
};
use crate::core::{frame, tls_hello};
use crate::core::mptcp::options::has_mptcp_option;
use crate::core::mptcp::{Analyser, Annotation, Config, Connection, Direction, Event, Segment, TcpFlags, Version};
use crate::core::span::Span;
use crate::epan::filestate::FileState;
use crate::epan::post::{register_tcp_postdissector, TcpPostDissector};
use crate::epan::tap::{Cell, ColType, Column, Menu, StatTable};
use crate::epan::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub static PROTO: Protocol = Protocol::new(c"Multipath TCP annotations", c"MPTCP-annot", c"mptcp_annot");

static HOSTS: [(u32, &CStr); 2] = [(0, c"client"), (1, c"server")];
static WIDTHS: [(u32, &CStr); 3] = [(4, c"4 bytes"), (8, c"8 bytes"), (12, c"4 and 8 bytes")];

fields! {
    pub(crate) FIELDS;
    HF_CONNECTION: u32 = c"Connection", c"mptcp_annot.connection",
        blurb(c"Computed: index of the MPTCP connection in this capture (all its subflows share it)");
    HF_SUBFLOW: u32 = c"Subflow", c"mptcp_annot.subflow",
        blurb(c"Computed: index of this segment's subflow within its connection (0: the initial subflow)");
    HF_DIRECTION: u8 = c"Direction", c"mptcp_annot.direction", vals(Direction::VALS),
        blurb(c"Computed: whether the segment goes from the connection's client (the host that opened it) to its server, or back");
    HF_REL_DSN: u64 = c"Relative data sequence number", c"mptcp_annot.rel_dsn",
        blurb(c"Computed: data sequence number of this segment's first data byte, relative (first byte = 1), from its DSS mapping");
    HF_DATA_LEN: u32 = c"Data-level length", c"mptcp_annot.data_len", unit(Unit::Bytes),
        blurb(c"Computed: data-level bytes in this segment (payload, plus 1 for a DATA_FIN)");
    HF_REL_DSN_NEXT: u64 = c"Next relative data sequence number", c"mptcp_annot.rel_dsn_next",
        blurb(c"Computed: relative DSN after this segment's data (relative DSN + data-level length)");
    HF_DSN_BASE: u8 = c"DSN relative to", c"mptcp_annot.rel_dsn_base", vals(RelBase::VALS),
        blurb(c"Computed: what the relative DSN counts from: the IDSN derived from the sender's key, or the first DSN seen when the handshake was not captured");
    HF_REL_DACK: u64 = c"Relative data ACK", c"mptcp_annot.rel_dack",
        blurb(c"Computed: the DSS data ACK, relative to the peer's IDSN (the next data byte the sender expects)");
    HF_DACK_BASE: u8 = c"Data ACK relative to", c"mptcp_annot.rel_dack_base", vals(RelBase::VALS),
        blurb(c"Computed: what the relative data ACK counts from (as for the DSN)");
    HF_IDSN_CHECK: bool = c"First DSN agrees with key-derived IDSN", c"mptcp_annot.idsn_check",
        blurb(c"Computed, on a direction's first mapping: DSN == IDSN + 1, IDSN derived from the sender's key");
    HF_IDSN_EXPECTED: u64 = c"Expected first DSN", c"mptcp_annot.idsn_expected",
        blurb(c"Computed: IDSN + 1 from the sender's key (SHA-1 for v0, SHA-256 for v1), shown when the first DSN differs");
    HF_DATA_RTT: RelTime = c"Data-level RTT", c"mptcp_annot.data_rtt",
        blurb(c"Computed: time from the first transmission of the data this data ACK newly covers to this ACK");
    HF_DATA_RTT_FRAME: FrameNum = c"Data ACK of frame", c"mptcp_annot.data_rtt_frame", link(FrameLink::Ack),
        blurb(c"Computed: the frame that first sent the data whose data ACK gave the RTT");
    HF_REINJ_OF: FrameNum = c"Reinjection of", c"mptcp_annot.reinjection_of", link(FrameLink::RetransPrev),
        blurb(c"Computed: the frame that first carried (the start of) this data");
    HF_REINJ_KIND: u8 = c"Reinjection kind", c"mptcp_annot.reinjection_kind", vals(ReinjectionKind::VALS),
        blurb(c"Computed: how this segment carries data already sent: on another subflow, again on the same subflow with new subflow sequence numbers, or as a plain TCP retransmission");
    HF_REINJ_SUBFLOW: u32 = c"First sent on subflow", c"mptcp_annot.reinjection_subflow",
        blurb(c"Computed: the subflow of the frame that first carried this data");
    HF_IN_FLIGHT: u64 = c"Data-level bytes in flight", c"mptcp_annot.in_flight", unit(Unit::Bytes),
        blurb(c"Computed: bytes sent in this direction and not yet data-acknowledged (over all subflows)");
    HF_HANDOVER_FROM: u32 = c"Handover from subflow", c"mptcp_annot.handover_from",
        blurb(c"Computed, on a handover: the subflow the connection's data moved away from");
    HF_HANDOVER_TO: u32 = c"Handover to subflow", c"mptcp_annot.handover_to",
        blurb(c"Computed, on a handover: the subflow that carries the data from this frame on");
    HF_HANDOVER_LATENCY: RelTime = c"Handover latency", c"mptcp_annot.handover_latency",
        blurb(c"Computed, on a handover: time from the last data the old subflow carried in this direction to this frame, the first data on the new one (as seen at the capture point)");
    HF_OFO: bool = c"Out of order at the data level", c"mptcp_annot.ofo",
        blurb(c"Computed: this segment's data arrived (at the capture point) before data preceding it in the data sequence, on any subflow");
    HF_OFO_HOLE: u64 = c"Missing before it", c"mptcp_annot.ofo_hole", unit(Unit::Bytes),
        blurb(c"Computed, on out-of-order data: data bytes before this segment's first byte not yet seen at the capture point");
    HF_REORDER_WAIT: RelTime = c"Reorder wait", c"mptcp_annot.reorder_wait",
        blurb(c"Computed, on the segment that fills a hole: how long the out-of-order data it makes contiguous had waited (the longest-waiting data's arrival to this frame, at the capture point)");
    HF_RELEASED_FRAMES: u32 = c"Released segments", c"mptcp_annot.released_frames",
        blurb(c"Computed, on the segment that fills a hole: how many earlier out-of-order segments carried the data it releases");
    HF_RELEASED_BYTES: u64 = c"Released data", c"mptcp_annot.released_bytes", unit(Unit::Bytes),
        blurb(c"Computed, on the segment that fills a hole: the out-of-order data it releases, beyond its own");
    HF_RELEASED_OLDEST: FrameNum = c"Longest waiting since", c"mptcp_annot.released_oldest",
        blurb(c"Computed, on the segment that fills a hole: the frame of the released data that had waited longest");
    HF_DUP_DACK: u32 = c"Duplicate data ACK", c"mptcp_annot.dup_dack",
        blurb(c"Computed: this pure ACK repeats the previous data ACK of the same host while the peer has data outstanding; 1 for the first repeat, 2 for the second, ...");
    HF_DUP_DACK_OF: FrameNum = c"Duplicate of data ACK in", c"mptcp_annot.dup_dack_of", link(FrameLink::Dup),
        blurb(c"Computed, on a duplicate data ACK: the frame whose data ACK it repeats");
    HF_REINJ_OUTCOME: u8 = c"Reinjection outcome", c"mptcp_annot.reinjection_outcome", vals(ReinjectionOutcome::VALS),
        blurb(c"Computed, on a data-level reinjection: spurious if the receiver already had the data (data-acked before it, acked sooner after it than the shortest data RTT, or held beyond a hole at the capture point), needed otherwise; decided by the data ACK that covers it (two passes show the ones decided later)");
    HF_REINJ_DECIDED: FrameNum = c"Reinjection outcome decided in", c"mptcp_annot.reinjection_decided_in", link(FrameLink::Ack),
        blurb(c"Computed, on a data-level reinjection: the frame of the data ACK that decided its outcome (before or after the reinjection)");
    // Connection.
    HF_C_VERSION: u8 = c"MPTCP version", c"mptcp_annot.conn.version",
        blurb(c"From MP_CAPABLE: the Multipath TCP version of the connection (0: RFC 6824, 1: RFC 8684)");
    HF_C_PROFILE: str = c"Profile", c"mptcp_annot.conn.profile",
        blurb(c"Computed: version, checksums, DSN/ACK widths, DSS per segment, key echo, in one line");
    HF_C_CLIENT_KEY: u64 = c"Client key", c"mptcp_annot.conn.client_key", hex,
        blurb(c"From MP_CAPABLE: the 64-bit key the client sent in its SYN (or third ACK)");
    HF_C_SERVER_KEY: u64 = c"Server key", c"mptcp_annot.conn.server_key", hex,
        blurb(c"From MP_CAPABLE: the 64-bit key the server sent in its SYN/ACK (or the client echoed)");
    HF_C_CLIENT_TOKEN: u32 = c"Client token", c"mptcp_annot.conn.client_token", hex,
        blurb(c"Computed: token derived from the client's key (names the connection at the client)");
    HF_C_SERVER_TOKEN: u32 = c"Server token", c"mptcp_annot.conn.server_token", hex,
        blurb(c"Computed: token derived from the server's key (MP_JOIN SYNs to the server carry it)");
    HF_C_CLIENT_IDSN: u64 = c"Client IDSN", c"mptcp_annot.conn.client_idsn",
        blurb(c"Computed: initial data sequence number of the client's direction, from its key (SHA-1 for v0, SHA-256 for v1)");
    HF_C_SERVER_IDSN: u64 = c"Server IDSN", c"mptcp_annot.conn.server_idsn",
        blurb(c"Computed: initial data sequence number of the server's direction, from its key");
    HF_C_CSUM_NEG: bool = c"Checksums negotiated", c"mptcp_annot.conn.checksum_negotiated",
        blurb(c"From MP_CAPABLE: a host set the A (checksum required) flag");
    HF_C_CSUM_PRESENT: bool = c"DSS checksums present", c"mptcp_annot.conn.checksum_present",
        blurb(c"Computed: DSS mappings actually carried a checksum");
    HF_C_MAP_CSUM: u64 = c"Mappings with checksum", c"mptcp_annot.conn.mappings_with_checksum",
        blurb(c"Computed: DSS mappings of the connection so far that carried a checksum");
    HF_C_MAP_NOCSUM: u64 = c"Mappings without checksum", c"mptcp_annot.conn.mappings_without_checksum",
        blurb(c"Computed: DSS mappings of the connection so far without a checksum");
    HF_C_CLIENT_DSN_W: u8 = c"Client DSN width", c"mptcp_annot.conn.client_dsn_width", vals(&WIDTHS),
        blurb(c"Computed: the DSN sizes the client's DSS options used (4 bytes, 8 bytes, or both)");
    HF_C_SERVER_DSN_W: u8 = c"Server DSN width", c"mptcp_annot.conn.server_dsn_width", vals(&WIDTHS),
        blurb(c"Computed: the DSN sizes the server's DSS options used");
    HF_C_CLIENT_DACK_W: u8 = c"Client data ACK width", c"mptcp_annot.conn.client_dack_width", vals(&WIDTHS),
        blurb(c"Computed: the data ACK sizes the client's DSS options used");
    HF_C_SERVER_DACK_W: u8 = c"Server data ACK width", c"mptcp_annot.conn.server_dack_width", vals(&WIDTHS),
        blurb(c"Computed: the data ACK sizes the server's DSS options used");
    HF_C_DATA_SEGS: u64 = c"Data segments", c"mptcp_annot.conn.data_segments",
        blurb(c"Computed: segments of the connection so far that carried payload");
    HF_C_DATA_SEGS_DSS: u64 = c"Data segments with DSS", c"mptcp_annot.conn.data_segments_with_dss",
        blurb(c"Computed: payload segments so far that carried a DSS option");
    HF_C_DSS_PER_SEG: f64 = c"DSS options per data segment", c"mptcp_annot.conn.dss_per_segment",
        blurb(c"Computed: share of data segments that carried a DSS option (1.0: one in every segment)");
    HF_C_MAX_DSS: u8 = c"Most DSS options in one segment", c"mptcp_annot.conn.max_dss_per_segment",
        blurb(c"Computed: the largest number of DSS options one segment of the connection carried");
    HF_C_KEYS_ECHOED: bool = c"Third ACK echoed both keys", c"mptcp_annot.conn.keys_echoed",
        blurb(c"Computed: the client repeated both keys in the third ACK (lets the server stay stateless)");
    HF_C_SERVICE: str = c"Service", c"mptcp_annot.conn.service",
        blurb(c"TLS server name (SNI) of the first subflow's ClientHello");
    HF_C_SUBFLOWS: u32 = c"Subflows", c"mptcp_annot.conn.subflows",
        blurb(c"Computed: number of subflows of the connection so far, the initial one included");
    HF_C_REINJ: u64 = c"Reinjections", c"mptcp_annot.conn.reinjections",
        blurb(c"Computed: data sent again at the data level (on another subflow or with new subflow sequence numbers)");
    HF_C_SF_RETRANS: u64 = c"Subflow retransmissions", c"mptcp_annot.conn.subflow_retransmissions",
        blurb(c"Computed: plain TCP retransmissions on the connection's subflows (same subflow sequence numbers)");
    HF_C_REINJ_NEEDED: u64 = c"Reinjections needed", c"mptcp_annot.conn.reinjections_needed",
        blurb(c"Computed: data-level reinjections judged needed (see mptcp_annot.reinjection_outcome)");
    HF_C_REINJ_SPURIOUS: u64 = c"Reinjections spurious", c"mptcp_annot.conn.reinjections_spurious",
        blurb(c"Computed: data-level reinjections judged spurious: the receiver already had the data");
    HF_C_OFO: u64 = c"Out-of-order segments", c"mptcp_annot.conn.ofo_segments",
        blurb(c"Computed: segments of the connection so far whose data arrived before data preceding it (both directions, at the capture point)");
    HF_C_RELEASES: u64 = c"Holes filled", c"mptcp_annot.conn.reorder_releases",
        blurb(c"Computed: segments that filled a hole and released out-of-order data (see mptcp_annot.reorder_wait)");
    HF_C_MAX_WAIT: RelTime = c"Longest reorder wait", c"mptcp_annot.conn.max_reorder_wait",
        blurb(c"Computed: the longest reorder wait of the connection so far");
    HF_C_LINUX_OFO: u64 = c"Out-of-order queue inserts (Linux order)", c"mptcp_annot.conn.linux_ofo_queue",
        blurb(c"Computed: segments a Linux receiver puts into its MPTCP out-of-order queue (its MPTcpExtOFOQueue counter, at a receiver's capture point): as out-of-order segments, but a subflow's batch (the segment filling its hole and those it releases) is judged before that queue is drained");
    HF_C_DUP_DATA: u64 = c"Duplicate data segments", c"mptcp_annot.conn.duplicate_data",
        blurb(c"Computed: segments whose data, some or all of it, had reached the data level before (after its subflow delivered it in order): data the receiver gets twice");
    HF_C_DUP_DACKS: u64 = c"Duplicate data ACKs", c"mptcp_annot.conn.dup_dacks",
        blurb(c"Computed: duplicate data ACKs of the connection so far (both hosts)");
    HF_C_HANDOVER_LATENCY: RelTime = c"Longest handover latency", c"mptcp_annot.conn.max_handover_latency",
        blurb(c"Computed: the longest handover latency of the connection's handovers");
    HF_C_HANDOVERS: u32 = c"Handovers", c"mptcp_annot.conn.handovers",
        blurb(c"Computed: times the connection's data moved to another subflow (see mptcp_annot.handover)");
    HF_C_FALLBACK: u8 = c"Fallback to TCP", c"mptcp_annot.conn.fallback", vals(FallbackReason::VALS),
        blurb(c"Computed: why the connection fell back to plain TCP, when it did");
    HF_C_RTT_SAMPLES: u32 = c"Data RTT samples", c"mptcp_annot.conn.rtt_samples",
        blurb(c"Computed: number of data-level RTTs measured on the connection so far");
    HF_C_RTT_MIN: RelTime = c"Data RTT min", c"mptcp_annot.conn.rtt_min",
        blurb(c"Computed: smallest data-level RTT of the connection so far");
    HF_C_RTT_MEDIAN: RelTime = c"Data RTT median", c"mptcp_annot.conn.rtt_median",
        blurb(c"Computed: median data-level RTT of the connection so far");
    HF_C_RTT_MAX: RelTime = c"Data RTT max", c"mptcp_annot.conn.rtt_max",
        blurb(c"Computed: largest data-level RTT of the connection so far");
    HF_C_FIRST_FRAME: FrameNum = c"First frame", c"mptcp_annot.conn.first_frame",
        blurb(c"Computed: the connection's first frame in the capture");
    // Subflow.
    HF_S_INDEX: u32 = c"Subflow", c"mptcp_annot.sf.index",
        blurb(c"Computed: index of the subflow within its connection (0: the initial subflow)");
    HF_S_CLIENT_IPV4: Ipv4Addr = c"Client address", c"mptcp_annot.sf.client.ipv4",
        blurb(c"Computed: the IPv4 address of the subflow's client end (the host that opened the connection)");
    HF_S_CLIENT_IPV6: Ipv6Addr = c"Client address", c"mptcp_annot.sf.client.ipv6",
        blurb(c"Computed: the IPv6 address of the subflow's client end (the host that opened the connection)");
    HF_S_CLIENT_PORT: u16 = c"Client port", c"mptcp_annot.sf.client.port",
        blurb(c"Computed: the client's TCP port on this subflow");
    HF_S_SERVER_IPV4: Ipv4Addr = c"Server address", c"mptcp_annot.sf.server.ipv4",
        blurb(c"Computed: the IPv4 address of the subflow's server end");
    HF_S_SERVER_IPV6: Ipv6Addr = c"Server address", c"mptcp_annot.sf.server.ipv6",
        blurb(c"Computed: the IPv6 address of the subflow's server end");
    HF_S_SERVER_PORT: u16 = c"Server port", c"mptcp_annot.sf.server.port",
        blurb(c"Computed: the server's TCP port on this subflow");
    HF_S_CLIENT_ID: u8 = c"Client address id", c"mptcp_annot.sf.client_addr_id",
        blurb(c"The address id the client gave this subflow's address (MP_JOIN; 0 on the initial subflow)");
    HF_S_SERVER_ID: u8 = c"Server address id", c"mptcp_annot.sf.server_addr_id",
        blurb(c"The address id the server gave this subflow's address (MP_JOIN; 0 on the initial subflow)");
    HF_S_CLIENT_BACKUP: bool = c"Client backup flag", c"mptcp_annot.sf.client_backup",
        blurb(c"Computed: the client asked for this subflow to be used as a backup (B flag of MP_JOIN or MP_PRIO)");
    HF_S_SERVER_BACKUP: bool = c"Server backup flag", c"mptcp_annot.sf.server_backup",
        blurb(c"Computed: the server asked for this subflow to be used as a backup (B flag of MP_JOIN or MP_PRIO)");
    HF_S_BYTES_C2S: u64 = c"Bytes client to server", c"mptcp_annot.sf.bytes_to_server", unit(Unit::Bytes),
        blurb(c"Computed: payload the client sent on this subflow so far");
    HF_S_BYTES_S2C: u64 = c"Bytes server to client", c"mptcp_annot.sf.bytes_to_client", unit(Unit::Bytes),
        blurb(c"Computed: payload the server sent on this subflow so far");
    HF_S_NEAR: u8 = c"Capture point nearer to", c"mptcp_annot.sf.capture_near", vals(&HOSTS),
        blurb(c"Computed from the subflow's handshake: the host the capture was taken nearer to (SYN to SYN/ACK is the round trip on the server's side of the capture point, SYN/ACK to ACK the one on the client's side); decides how reinjections are judged");
    HF_S_SHARE: f64 = c"Share of the connection's bytes", c"mptcp_annot.sf.share",
        blurb(c"Computed: this subflow's payload bytes (both directions) as a percentage of all the connection's subflows' so far");
    HF_S_DATA_SEGS: u64 = c"Data segments", c"mptcp_annot.sf.data_segments",
        blurb(c"Computed: segments with payload on this subflow so far (both directions)");
    HF_S_OFO: u64 = c"Out-of-order segments", c"mptcp_annot.sf.ofo_segments",
        blurb(c"Computed: segments on this subflow whose data arrived out of order at the data level");
    HF_S_DUP_DACKS: u64 = c"Duplicate data ACKs", c"mptcp_annot.sf.dup_dacks",
        blurb(c"Computed: duplicate data ACKs sent on this subflow");
    HF_S_REINJ_NEEDED: u64 = c"Reinjections needed", c"mptcp_annot.sf.reinjections_needed",
        blurb(c"Computed: data-level reinjections this subflow carried that were judged needed");
    HF_S_REINJ_SPURIOUS: u64 = c"Reinjections spurious", c"mptcp_annot.sf.reinjections_spurious",
        blurb(c"Computed: data-level reinjections this subflow carried that were judged spurious");
    HF_S_JOINED: bool = c"Joined (MP_JOIN)", c"mptcp_annot.sf.joined",
        blurb(c"Computed: the subflow was added to the connection with MP_JOIN (not its initial subflow)");
    HF_S_FIRST_FRAME: FrameNum = c"First frame", c"mptcp_annot.sf.first_frame",
        blurb(c"Computed: the subflow's first frame in the capture");
    HF_S_CLOSED: u8 = c"Closed by", c"mptcp_annot.sf.closed", vals(CloseReason::VALS),
        blurb(c"Computed: what ended the subflow: REMOVE_ADDR, a TCP reset, MP_FAIL or MP_FASTCLOSE");
}

subtrees! {
    pub(crate) ETTS;
    ETT;
    ETT_CONN = c"Connection", c"mptcp_annot.conn", c"Computed: the MPTCP connection of this segment as analysed (keys, tokens, profile, counts, data RTT, subflows)";
    ETT_SF = c"Subflow", c"mptcp_annot.sf", c"Computed: one subflow (TCP connection) of the MPTCP connection: its ends, address ids, flags and bytes";
}

experts! {
    EXPERTS;
    EI_IDSN = c"mptcp_annot.idsn_mismatch", Sequence, Warn, c"First DSN does not agree with the key-derived IDSN";
    EI_HANDOVER = c"mptcp_annot.handover", Sequence, Note, c"Handover: data moved to another subflow";
    EI_CLOSED = c"mptcp_annot.subflow_closed", Sequence, Note, c"Subflow closed";
    EI_MP_FAIL = c"mptcp_annot.mp_fail", Checksum, Warn, c"MP_FAIL: a DSS checksum failed";
    EI_FALLBACK = c"mptcp_annot.fallback", Protocol, Warn, c"Fallback to plain TCP";
    EI_INFINITE = c"mptcp_annot.infinite_mapping", Protocol, Warn, c"Infinite mapping (DSS data-level length 0)";
    EI_FASTCLOSE = c"mptcp_annot.fastclose", Sequence, Note, c"MP_FASTCLOSE: connection closed abruptly";
    EI_MP_RST = c"mptcp_annot.mp_rst", Sequence, Note, c"MP_TCPRST: subflow reset with a reason";
    EI_UNKNOWN_TOKEN = c"mptcp_annot.join_unknown_token", Sequence, Note, c"MP_JOIN token names no connection seen in this capture";
    EI_KEYS = c"mptcp_annot.keys_not_echoed", Protocol, Warn, c"Third ACK keys differ from those of the SYN and SYN/ACK";
    EI_MULTI_DSS = c"mptcp_annot.multiple_dss", Protocol, Note, c"More than one DSS option in a segment";
    EI_REINJ = c"mptcp_annot.reinjection", Sequence, Note, c"Data sent again at the data level";
    EI_SPURIOUS = c"mptcp_annot.spurious_reinjection", Sequence, Note, c"Spurious reinjection: the receiver already had the data";
    EI_OFO = c"mptcp_annot.out_of_order", Sequence, Note, c"Data arrived out of order at the data level";
    EI_DUP_DACK = c"mptcp_annot.duplicate_data_ack", Sequence, Note, c"Duplicate data ACK";
    EI_CAP = c"mptcp_annot.state_cap", Protocol, Warn, c"MPTCP analysis limit reached; some state was dropped";
    EI_FIRST_SEEN = c"mptcp_annot.no_handshake", Assumption, Chat, c"Handshake not captured: relative numbers start at the first DSN seen";
}

static PREF_INFO: PrefBool = PrefBool::new(true);
static PREF_SILENCE_MS: PrefUint = PrefUint::new(1000);
static PREF_SUMMARY_EVERY: PrefBool = PrefBool::new(false);

/// `tshark -z mptcp_annot,conn[,filter]` (Statistics -> MPTCP Connections): one row per
/// connection, on the `mptcp_annot` tap. Bytes, reinjections and data RTTs count only the
/// segments the listener's filter passes; the connection's own facts (version, endpoints,
/// service, profile, subflows, handovers, fallback) are as the analyser knows them then.
pub static STATS: StatTable<StatRecord, StatAcc> =
    StatTable::new(c"mptcp_annot", c"MPTCP Connections", c"mptcp_annot,conn", Menu::Statistics, &STAT_COLS, stat_fold);
static STAT_COLS: [Column; 22] = [
    Column { name: c"Conn", ty: ColType::Uint, format: c"%4u" },
    Column { name: c"Ver", ty: ColType::Str, format: c"%-3s" },
    Column { name: c"Client", ty: ColType::Str, format: c"%s" },
    Column { name: c"Server", ty: ColType::Str, format: c"%s" },
    Column { name: c"Service", ty: ColType::Str, format: c"%s" },
    Column { name: c"Profile", ty: ColType::Str, format: c"%s" },
    Column { name: c"Subflows", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Bytes to server", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Bytes to client", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Reinjections", ty: ColType::Uint, format: c"%u" },
    Column { name: c"RTT samples", ty: ColType::Uint, format: c"%u" },
    // Text, so that a connection without samples shows "-" (Cell::number_text sorts as numbers).
    Column { name: c"Data RTT min (ms)", ty: ColType::Str, format: c"%s" },
    Column { name: c"median (ms)", ty: ColType::Str, format: c"%s" },
    Column { name: c"max (ms)", ty: ColType::Str, format: c"%s" },
    Column { name: c"Handovers", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Fallback", ty: ColType::Str, format: c"%s" },
    Column { name: c"Out of order", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Holes filled", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Reorder wait max (ms)", ty: ColType::Str, format: c"%s" },
    Column { name: c"Dup DACKs", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Reinj. needed", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Reinj. spurious", ty: ColType::Uint, format: c"%u" },
];

/// One segment of a connection, for the statistics table.
pub struct StatRecord {
    conn: u32,
    /// Version, client, server, service, profile, subflows, handovers, fallback: the
    /// connection's facts as known at this segment.
    facts: ConnFacts,
    /// Payload bytes of this segment and their direction (0 to server, 1 to client).
    bytes: Option<(usize, u64)>,
    /// The segment reinjects data (another subflow's, or its own not as a plain retransmission).
    reinjection: bool,
    /// Data RTT measured on this segment, in ns.
    rtt_ns: Option<i128>,
    /// The order step's verdicts on this segment.
    order: OrderFlags,
}

/// What the order step found on one segment, for the statistics tables.
#[derive(Clone, Copy, Default)]
struct OrderFlags {
    ofo: bool,
    /// Reorder wait (ns) when the segment filled a hole.
    release_wait_ns: Option<i128>,
    dup_dack: bool,
    outcome: Option<ReinjectionOutcome>,
}

impl OrderFlags {
    fn of(a: &Annotation) -> Self {
        OrderFlags {
            ofo: a.ofo.is_some(),
            release_wait_ns: a.release.map(|r| r.wait_ns),
            dup_dack: a.dup_dack.is_some(),
            outcome: a.reinjection_outcome.map(|o| o.outcome),
        }
    }
}

/// Order counts of a listener's records.
#[derive(Default, Clone, Copy)]
struct OrderSums {
    ofo: u64,
    releases: u64,
    max_wait_ns: Option<i128>,
    dup_dacks: u64,
    needed: u64,
    spurious: u64,
}

impl OrderSums {
    fn add(&mut self, f: &OrderFlags) {
        self.ofo += f.ofo as u64;
        if let Some(w) = f.release_wait_ns {
            self.releases += 1;
            self.max_wait_ns = Some(self.max_wait_ns.map_or(w, |m| m.max(w)));
        }
        self.dup_dacks += f.dup_dack as u64;
        self.needed += (f.outcome == Some(ReinjectionOutcome::Needed)) as u64;
        self.spurious += (f.outcome == Some(ReinjectionOutcome::Spurious)) as u64;
    }
}

#[derive(Clone)]
struct ConnFacts {
    version: String,
    client: Option<String>,
    server: Option<String>,
    service: Option<String>,
    profile: String,
    subflows: u32,
    handovers: u32,
    fallback: String,
}

/// A listener's sums per connection.
#[derive(Default)]
pub struct StatAcc {
    conns: HashMap<u32, ConnSums>,
}

#[derive(Default)]
struct ConnSums {
    bytes: [u64; 2],
    reinjections: u64,
    rtt_ns: Vec<i128>,
    order: OrderSums,
}

/// RTT samples kept per connection and listener (as the analyser's own cap).
const STAT_RTT_SAMPLES: usize = 4096;

fn stat_fold(acc: &mut StatAcc, r: &StatRecord) -> Option<(u32, Vec<Cell>)> {
    let c = acc.conns.entry(r.conn).or_default();
    if let Some((d, n)) = r.bytes {
        c.bytes[d] = c.bytes[d].saturating_add(n);
    }
    c.reinjections += r.reinjection as u64;
    c.order.add(&r.order);
    if let Some(ns) = r.rtt_ns {
        if c.rtt_ns.len() < STAT_RTT_SAMPLES {
            c.rtt_ns.push(ns);
        }
    }
    let mut v = c.rtt_ns.clone();
    v.sort_unstable();
    let stat = |x: Option<&i128>| Cell::number_text(x.map(|n| ms(*n)), 3);
    let f = &r.facts;
    let text = |s: &Option<String>| s.clone().map_or(Cell::Empty, Cell::Str);
    let sat = |n: u64| n.min(u32::MAX as u64) as u32;
    Some((
        r.conn,
        vec![
            Cell::Uint(r.conn),
            Cell::Str(f.version.clone()),
            text(&f.client),
            text(&f.server),
            text(&f.service),
            Cell::Str(f.profile.clone()),
            Cell::Uint(f.subflows),
            Cell::Uint(sat(c.bytes[0])),
            Cell::Uint(sat(c.bytes[1])),
            Cell::Uint(sat(c.reinjections)),
            Cell::Uint(v.len() as u32),
            stat(v.first()),
            stat(v.get(v.len() / 2)),
            stat(v.last()),
            Cell::Uint(f.handovers),
            Cell::Str(f.fallback.clone()),
            Cell::Uint(sat(c.order.ofo)),
            Cell::Uint(sat(c.order.releases)),
            Cell::number_text(c.order.max_wait_ns.map(ms), 3),
            Cell::Uint(sat(c.order.dup_dacks)),
            Cell::Uint(sat(c.order.needed)),
            Cell::Uint(sat(c.order.spurious)),
        ],
    ))
}

/// `tshark -z mptcp_annot,subflows[,filter]` (Statistics -> MPTCP subflows): one row per
/// subflow of every MPTCP connection, on its own tap (`mptcp_annot_sf`). Segments, bytes and
/// the order counts are those of the segments the listener's filter passes; the ends, flags
/// and the share of the connection's bytes are the analyser's (use -2 for the whole capture).
pub static SF_STATS: StatTable<SfRecord, SfAcc> =
    StatTable::new(c"mptcp_annot_sf", c"MPTCP Subflows", c"mptcp_annot,subflows", Menu::Statistics, &SF_COLS, sf_fold);
static SF_COLS: [Column; 16] = [
    Column { name: c"Conn", ty: ColType::Uint, format: c"%4u" },
    Column { name: c"Subflow", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Client", ty: ColType::Str, format: c"%s" },
    Column { name: c"Server", ty: ColType::Str, format: c"%s" },
    Column { name: c"Joined", ty: ColType::Str, format: c"%s" },
    Column { name: c"Backup", ty: ColType::Str, format: c"%s" },
    Column { name: c"Data segments", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Bytes to server", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Bytes to client", ty: ColType::Uint, format: c"%u" },
    // Text, so that a connection without bytes yet shows "-".
    Column { name: c"Share (%)", ty: ColType::Str, format: c"%s" },
    Column { name: c"Out of order", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Dup DACKs", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Reinj. needed", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Reinj. spurious", ty: ColType::Uint, format: c"%u" },
    Column { name: c"First frame", ty: ColType::Uint, format: c"%u" },
    Column { name: c"Closed", ty: ColType::Str, format: c"%s" },
];

/// One segment of a subflow, for the subflow table.
pub struct SfRecord {
    conn: u32,
    subflow: u32,
    client: String,
    server: String,
    joined: bool,
    backup: [bool; 2],
    first_frame: u32,
    closed: Option<CloseReason>,
    /// The subflow's share of the connection's payload bytes (analyser), percent.
    share: Option<f64>,
    bytes: Option<(usize, u64)>,
    order: OrderFlags,
}

/// A listener's sums per subflow.
#[derive(Default)]
pub struct SfAcc {
    rows: HashMap<(u32, u32), (u32, SfSums)>,
}

#[derive(Default)]
struct SfSums {
    segments: u64,
    bytes: [u64; 2],
    order: OrderSums,
}

fn sf_fold(acc: &mut SfAcc, r: &SfRecord) -> Option<(u32, Vec<Cell>)> {
    let n = acc.rows.len() as u32;
    let (row, s) = acc.rows.entry((r.conn, r.subflow)).or_insert_with(|| (n, SfSums::default()));
    if let Some((d, b)) = r.bytes {
        s.bytes[d] = s.bytes[d].saturating_add(b);
        s.segments += 1;
    }
    s.order.add(&r.order);
    let sat = |n: u64| n.min(u32::MAX as u64) as u32;
    let yes = |b: bool| Cell::Str(if b { "yes" } else { "no" }.into());
    let backup = match r.backup {
        [false, false] => "no",
        [true, false] => "client",
        [false, true] => "server",
        [true, true] => "both",
    };
    Some((
        *row,
        vec![
            Cell::Uint(r.conn),
            Cell::Uint(r.subflow),
            Cell::Str(r.client.clone()),
            Cell::Str(r.server.clone()),
            yes(r.joined),
            Cell::Str(backup.into()),
            Cell::Uint(sat(s.segments)),
            Cell::Uint(sat(s.bytes[0])),
            Cell::Uint(sat(s.bytes[1])),
            Cell::number_text(r.share, 1),
            Cell::Uint(sat(s.order.ofo)),
            Cell::Uint(sat(s.order.dup_dacks)),
            Cell::Uint(sat(s.order.needed)),
            Cell::Uint(sat(s.order.spurious)),
            Cell::Uint(r.first_frame),
            Cell::Str(r.closed.map_or("no", |c| c.name()).into()),
        ],
    ))
}

/// The subflow-table record of one segment of connection `idx`.
fn sf_record(idx: usize, c: &Connection, ann: &Annotation, payload_len: u32) -> Option<SfRecord> {
    let si = ann.subflow?;
    let s = c.subflows.get(si)?;
    let d = ann.direction.map(|d| d.index());
    Some(SfRecord {
        conn: idx as u32,
        subflow: si as u32,
        client: ep(s.ends[0]),
        server: ep(s.ends[1]),
        joined: s.joined,
        backup: s.backup,
        first_frame: s.first_frame,
        closed: s.closed,
        share: share(c, s),
        bytes: d.filter(|_| payload_len > 0).map(|d| (d, u64::from(payload_len))),
        order: OrderFlags::of(ann),
    })
}

pub fn register() {
    PROTO.register(FIELDS, ETTS, EXPERTS);
    PROTO
        .prefs()
        .bool(
            c"info_column",
            c"Summarise in the Info column",
            c"Append connection/subflow, relative DSN and data ACK to the Info column of MPTCP segments",
            &PREF_INFO,
        )
        .uint(
            c"handover_silence_ms",
            c"Silence that makes a handover (ms)",
            c"A subflow silent this long while the connection stays busy on another one counts as a handover",
            &PREF_SILENCE_MS,
        )
        .bool(
            c"summary_on_every_frame",
            c"Connection summary on every frame",
            c"Show the connection summary (mptcp_annot.conn) on every segment. Off: on the connection's first frame, where its facts change (keys, subflows, flags, handovers, fallback) and, once the capture has been read (two passes, the GUI), on its last frame",
            &PREF_SUMMARY_EVERY,
        );
    STATS.register();
    SF_STATS.register();
}

pub fn handoff() {
    register_tcp_postdissector::<Post>();
}

/// Most ClientHello attempts looked at per connection for the service name.
const SNI_TRIES: u8 = 4;
/// Connections whose service name is remembered.
const MAX_SERVICES: usize = 4096;

struct State {
    analyser: Option<Analyser>,
    // Keyed by connection index: a cheap integer hash (looked up on every segment).
    service: FxMap<usize, String>,
    sni_tries: FxMap<usize, u8>,
}

impl Default for State {
    fn default() -> Self {
        // A new capture file (or a re-dissection): nothing of it is tracked yet.
        ANALYSING.store(false, Ordering::Relaxed);
        known::forget_all();
        State { analyser: None, service: FxMap::default(), sni_tries: FxMap::default() }
    }
}

static STATE: FileState<State> = FileState::new();

/// Whether this file's analyser has returned an annotation yet (any MPTCP seen). Until then
/// a segment without an MPTCP option can have none (`core::mptcp` returns None for it
/// without parsing), so it skips the file state entirely: ordinary TCP costs one walk over
/// its option kinds. Cleared when a file's state is created; set by the first annotation.
static ANALYSING: AtomicBool = AtomicBool::new(false);

/// The 4-tuples this file's analyser tracks, as hashes, so that once MPTCP was seen a
/// segment without an MPTCP option of a connection the analyser does not track (the ordinary
/// TCP of a mixed capture) is told apart in [`Post::wants`], before the file state, the panic
/// guard and the analyser: the analyser tracks a 4-tuple only from a segment of it with an
/// MPTCP option, and the glue notes that segment's 4-tuple whenever
/// [`Analyser::tuples`] grows. A hash collision only costs the look-up the analyser then
/// answers. Past [`known::MAX`] 4-tuples the set gives up and every segment is offered, as
/// before it existed. One dissection thread, as the file state.
mod known {
    use crate::core::frame::TcpView;
    use rustc_hash::{FxHashSet, FxHasher};
    use std::cell::RefCell;
    use std::hash::{Hash, Hasher};

    /// More 4-tuples than the analyser's connection cap allows subflows for.
    pub const MAX: usize = 1 << 16;

    thread_local! {
        static SET: RefCell<Option<FxHashSet<u64>>> = RefCell::new(Some(FxHashSet::default()));
    }

    fn key(v: &TcpView<'_>) -> u64 {
        let (a, b) = ((v.src, v.sport), (v.dst, v.dport));
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let mut h = FxHasher::default();
        lo.hash(&mut h);
        hi.hash(&mut h);
        h.finish()
    }

    /// Whether `v`'s 4-tuple may be tracked (true once the set gave up).
    pub fn may_track(v: &TcpView<'_>) -> bool {
        SET.with(|s| s.borrow().as_ref().is_none_or(|set| set.contains(&key(v))))
    }

    pub fn note(v: &TcpView<'_>) {
        SET.with(|s| {
            let mut s = s.borrow_mut();
            match s.as_mut() {
                Some(set) if set.len() < MAX => {
                    set.insert(key(v));
                }
                _ => *s = None,
            }
        })
    }

    /// The analyser's count moved by other than one new 4-tuple for one segment (it does
    /// not): give up.
    pub fn give_up() {
        SET.with(|s| *s.borrow_mut() = None)
    }

    pub fn forget_all() {
        SET.with(|s| *s.borrow_mut() = Some(FxHashSet::default()))
    }
}

/// The post-dissector.
pub struct Post;
impl TcpPostDissector for Post {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn wants(view: &frame::TcpView<'_>) -> bool {
        // Nothing to do for a segment without an MPTCP option before the file's first one,
        // nor after it for one of a 4-tuple the analyser does not track.
        has_mptcp_option(view.options) || (ANALYSING.load(Ordering::Relaxed) && known::may_track(view))
    }
    fn segment(pkt: &mut Packet<'_>, view: frame::TcpView<'_>) {
        let visited = pkt.visited();
        let frame_no = pkt.frame();
        let time_ns = pkt.time().as_nanos();
        let tree = pkt.tree();
        let want_stats = STATS.listening();
        let want_sf = SF_STATS.listening();
        let want_info = PREF_INFO.get() && pkt.wants_columns();
        let mut row = None;
        let mut sf_row = None;
        let pkt_ref: &Packet<'_> = pkt;
        let info = STATE.with(pkt_ref, |st| {
            let an = st.analyser.get_or_insert_with(|| {
                Analyser::new(Config { silence_ns: PREF_SILENCE_MS.get() as i128 * 1_000_000, ..Config::default() })
            });
            let ann = if visited {
                // The first pass is over: judge the subflow switches that only the whole
                // capture can tell (a path that died while another carried on).
                if !an.finished() {
                    an.finish();
                }
                an.annotation(frame_no)
            } else {
                let seg = Segment {
                    frame: frame_no,
                    time_ns,
                    src: view.src,
                    dst: view.dst,
                    sport: view.sport,
                    dport: view.dport,
                    flags: TcpFlags(view.flags),
                    seq: view.seq,
                    ack: view.ack,
                    payload_len: view.payload_len,
                    options: view.options,
                };
                let tracked = an.tuples();
                let ann = an.feed(&seg);
                match an.tuples().checked_sub(tracked) {
                    Some(0) => {}
                    Some(1) => known::note(&view),
                    _ => known::give_up(),
                }
                if let Some(a) = &ann {
                    learn_service(st, a, view.payload);
                }
                ann
            };
            let ann = ann?;
            ANALYSING.store(true, Ordering::Relaxed);
            let an = st.analyser.as_ref().expect("created above");
            let conn = ann.connection.and_then(|c| an.connection(c).map(|k| (c, k)));
            let summary = conn.is_some_and(|(_, k)| {
                PREF_SUMMARY_EVERY.get()
                    || k.summary_at(frame_no, an.finished())
                    || ann.events.iter().any(|e| matches!(e, Event::Handover { .. }))
            });
            let service = ann.connection.and_then(|c| st.service.get(&c)).map(String::as_str);
            // Also without a tree: the expert infos are raised either way (tshark -z expert,
            // the Expert Information dialog); without a tree only they cost anything.
            show(&tree, &view, &ann, conn.filter(|_| summary), service);
            if want_stats {
                if let Some((c, k)) = conn {
                    row = Some(stat_record(c, k, service, &ann, view.payload_len));
                }
            }
            if want_sf {
                if let Some((c, k)) = conn {
                    sf_row = sf_record(c, k, &ann, view.payload_len);
                }
            }
            want_info.then(|| {
                let mut t = CBuf::new();
                info_text(&ann, &mut t);
                t
            })
        });
        if let Some(r) = row {
            STATS.queue(pkt, r);
        }
        if let Some(r) = sf_row {
            SF_STATS.queue(pkt, r);
        }
        if let Some(mut t) = info {
            pkt.append_info_buf(&mut t);
        }
    }
}

fn learn_service(st: &mut State, a: &Annotation, payload: &[u8]) {
    let (Some(c), Some(0), Some(Direction::Forward)) = (a.connection, a.subflow, a.direction) else { return };
    if payload.is_empty() || st.service.contains_key(&c) || st.service.len() >= MAX_SERVICES {
        return;
    }
    let tries = st.sni_tries.entry(c).or_insert(0);
    if *tries >= SNI_TRIES {
        return;
    }
    *tries += 1;
    if let Some(name) = tls_hello::tls_sni(payload) {
        st.service.insert(c, name);
        st.sni_tries.remove(&c);
    }
}

fn width_code(w: Widths) -> u8 {
    w.0 & 0x0c
}

fn version_num(v: Option<Version>) -> Option<u8> {
    v.map(|v| v.raw())
}

fn width_text(w: Widths) -> &'static str {
    match (w.four(), w.eight()) {
        (true, true) => "4+8",
        (true, false) => "4",
        (false, true) => "8",
        _ => "-",
    }
}

/// One-line profile of a connection, e.g. "v0, no csum, DSN 4/4, DACK 4/4, DSS/seg 1.00, keys echoed".
pub fn profile(c: &Connection) -> String {
    let mut p = match c.version {
        Some(v) => format!("v{}", v.raw()),
        None => "v?".into(),
    };
    let csum = match (c.checksum_negotiated, c.mappings_with_checksum > 0) {
        (Some(true), true) => "csum",
        (Some(true), false) => "csum negotiated, none sent",
        (_, true) => "csum (not negotiated)",
        _ => "no csum",
    };
    p.push_str(&format!(", {csum}"));
    p.push_str(&format!(
        ", DSN {}/{}, DACK {}/{}",
        width_text(c.dsn_widths[0]),
        width_text(c.dsn_widths[1]),
        width_text(c.dack_widths[0]),
        width_text(c.dack_widths[1])
    ));
    if c.data_segments > 0 {
        p.push_str(&format!(", DSS/seg {:.2}", c.data_segments_with_dss as f64 / c.data_segments as f64));
    }
    match c.third_ack_echoed_keys {
        Some(true) => p.push_str(", keys echoed"),
        Some(false) => p.push_str(", keys NOT echoed"),
        None => {}
    }
    p
}

fn ep(e: (IpAddr, u16)) -> String {
    match e.0 {
        IpAddr::V4(a) => format!("{a}:{}", e.1),
        IpAddr::V6(a) => format!("[{a}]:{}", e.1),
    }
}

/// The Info column's "[MPTCP c/s DSN=… DLen=… DACK=…]" (nothing for segments of no
/// connection): built for every frame, so without the formatting machinery.
fn info_text(a: &Annotation, t: &mut CBuf) {
    let (Some(c), Some(s)) = (a.connection, a.subflow) else { return };
    t.push_str(" [MPTCP ").push_num(c as u64).push_str("/").push_num(s as u64);
    if let Some(d) = a.rel_dsn {
        t.push_str(" DSN=").push_num(d);
        if a.data_len > 0 {
            t.push_str(" DLen=").push_num(u64::from(a.data_len));
        }
    }
    if let Some(d) = a.rel_dack {
        t.push_str(" DACK=").push_num(d);
    }
    if let Some(r) = a.reinjection_of {
        if r.kind != ReinjectionKind::SubflowRetransmission {
            t.push_str(" reinjection of #").push_num(u64::from(r.frame));
        }
    }
    for e in &a.events {
        match e {
            Event::Handover { from_subflow, to_subflow, .. } => {
                t.push_str(" handover ").push_num(*from_subflow as u64).push_str("->").push_num(*to_subflow as u64);
            }
            Event::MpFail { .. } => {
                t.push_str(" MP_FAIL");
            }
            Event::FastClose => {
                t.push_str(" MP_FASTCLOSE");
            }
            Event::FallbackToTcp(_) => {
                t.push_str(" fallback");
            }
            _ => {}
        }
    }
    t.push_str("]");
}

/// `conn`: the connection, when its summary belongs on this frame.
fn show(tree: &Tree<'_>, view: &frame::TcpView<'_>, a: &Annotation, conn: Option<(usize, &Connection)>, service: Option<&str>) {
    let hdr = Span::new(view.tcp_offset, view.header_len);
    let opts = Span::new(view.tcp_offset + 20, view.options.len());
    let root = tree.add_protocol(&PROTO, hdr).generated();
    let t = root.subtree(&ETT);
    if let Some(c) = a.connection {
        t.add_generated(&HF_CONNECTION, c as u32);
        root.append_text(format_args!(", Connection {c}"));
    }
    if let Some(s) = a.subflow {
        t.add_generated(&HF_SUBFLOW, s as u32);
        root.append_text(format_args!(", Subflow {s}"));
    }
    if let Some(d) = a.direction {
        t.add_generated(&HF_DIRECTION, d.code());
    }
    if let Some(d) = a.rel_dsn {
        t.add_generated(&HF_REL_DSN, d);
        t.add_generated(&HF_DATA_LEN, a.data_len);
        t.add_generated(&HF_REL_DSN_NEXT, d.wrapping_add(a.data_len as u64));
        root.append_text(format_args!(", DSN {d}"));
    }
    if let Some(b) = a.dsn_base {
        let it = t.add_generated(&HF_DSN_BASE, b.code());
        if b == RelBase::FirstSeen && a.rel_dsn == Some(1) {
            it.expert(&EI_FIRST_SEEN, None);
        }
    }
    if let Some(d) = a.rel_dack {
        t.add_generated(&HF_REL_DACK, d);
        root.append_text(format_args!(", DACK {d}"));
    }
    if let Some(b) = a.dack_base {
        t.add_generated(&HF_DACK_BASE, b.code());
    }
    match a.idsn_check {
        Some(IdsnCheck::Ok) => {
            t.add_generated(&HF_IDSN_CHECK, true);
        }
        Some(IdsnCheck::Mismatch { expected, got }) => {
            t.add_generated(&HF_IDSN_CHECK, false).expert(
                &EI_IDSN,
                Some(&format!("First DSN {got} does not agree with the key-derived IDSN + 1 = {expected}")),
            );
            t.add_generated(&HF_IDSN_EXPECTED, expected);
        }
        None => {}
    }
    if let Some(r) = a.data_rtt {
        t.add_generated(&HF_DATA_RTT, Time::from_nanos(r.ns));
        t.add_generated(&HF_DATA_RTT_FRAME, r.acked_frame);
    }
    if let Some(r) = a.reinjection_of {
        let it = t.add_generated(&HF_REINJ_OF, r.frame);
        t.add_generated(&HF_REINJ_KIND, r.kind.code());
        t.add_generated(&HF_REINJ_SUBFLOW, r.subflow as u32);
        if r.kind != ReinjectionKind::SubflowRetransmission {
            let how = match r.kind {
                ReinjectionKind::OtherSubflow => format!("reinjected from subflow {}", r.subflow),
                _ => "sent again on the same subflow".into(),
            };
            it.expert(&EI_REINJ, Some(&format!("Data of frame {} {how}", r.frame)));
        }
    }
    if let Some(o) = a.reinjection_outcome {
        let it = t.add_generated(&HF_REINJ_OUTCOME, o.outcome.code());
        t.add_generated(&HF_REINJ_DECIDED, o.decided_in);
        if o.outcome == ReinjectionOutcome::Spurious {
            it.expert(&EI_SPURIOUS, Some(&format!("Spurious reinjection: the receiver already had this data (decided by the data ACK in frame {})", o.decided_in)));
        }
    }
    if let Some(f) = a.in_flight {
        t.add_generated(&HF_IN_FLIGHT, f);
    }
    if let Some(o) = a.ofo {
        t.add_generated(&HF_OFO, true)
            .expert(&EI_OFO, Some(&format!("Out of order at the data level: {} bytes before it not seen yet", o.hole)));
        t.add_generated(&HF_OFO_HOLE, o.hole);
    }
    if let Some(r) = a.release {
        t.add_generated(&HF_REORDER_WAIT, Time::from_nanos(r.wait_ns));
        t.add_generated(&HF_RELEASED_FRAMES, r.frames);
        t.add_generated(&HF_RELEASED_BYTES, r.bytes);
        t.add_generated(&HF_RELEASED_OLDEST, r.oldest_frame);
    }
    if let Some(d) = a.dup_dack {
        t.add_generated(&HF_DUP_DACK, d.count)
            .expert(&EI_DUP_DACK, Some(&format!("Duplicate data ACK #{} (of frame {})", d.count, d.of_frame)));
        t.add_generated(&HF_DUP_DACK_OF, d.of_frame);
    }
    for e in &a.events {
        show_event(&t, opts, e);
    }
    if let Some((idx, c)) = conn {
        if !t.is_null() {
            show_connection(&t, idx, c, service);
        }
    }
}

fn show_event(t: &Tree<'_>, opts: Span, e: &Event) {
    match *e {
        Event::Handover { from_subflow, to_subflow, reason, latency_ns } => {
            t.add_generated(&HF_HANDOVER_FROM, from_subflow as u32);
            if let Some(l) = latency_ns {
                t.add_generated(&HF_HANDOVER_LATENCY, Time::from_nanos(l));
            }
            let why = match reason {
                HandoverReason::Closed(r) => format!("subflow {from_subflow} {}", r.phrase()),
                HandoverReason::Silence { gap_ns } => {
                    format!("subflow {from_subflow} silent for {:.3} s", gap_ns as f64 / 1e9)
                }
            };
            t.add_generated(&HF_HANDOVER_TO, to_subflow as u32).expert(
                &EI_HANDOVER,
                Some(&format!("Handover: data moved from subflow {from_subflow} to subflow {to_subflow} ({why})")),
            );
        }
        Event::SubflowClosed { subflow, reason } => {
            t.expert(&EI_CLOSED, opts, Some(&format!("Subflow {subflow} {}", reason.phrase())));
        }
        Event::MpFail { rel_dsn } => {
            let at = rel_dsn.map(|d| format!(" at relative DSN {d}")).unwrap_or_default();
            t.expert(&EI_MP_FAIL, opts, Some(&format!("MP_FAIL: the peer reports a DSS checksum failure{at}")));
        }
        Event::FallbackToTcp(r) => {
            t.add_generated(&HF_C_FALLBACK, r.code())
                .expert(&EI_FALLBACK, Some(&format!("Fallback to plain TCP: {}", r.phrase())));
        }
        Event::InfiniteMapping => {
            t.expert(&EI_INFINITE, opts, None);
        }
        Event::FastClose => {
            t.expert(&EI_FASTCLOSE, opts, None);
        }
        Event::MpRst { reason, transient } => {
            let tr = if transient { ", transient" } else { "" };
            t.expert(&EI_MP_RST, opts, Some(&format!("MP_TCPRST: subflow reset, reason {} ({}){tr}", reason.code(), reason.name())));
        }
        Event::JoinUnknownToken { token } => {
            t.expert(&EI_UNKNOWN_TOKEN, opts, Some(&format!("MP_JOIN token 0x{token:08x} names no connection seen in this capture")));
        }
        Event::KeysNotEchoed => {
            t.expert(&EI_KEYS, opts, None);
        }
        Event::MultipleDss { count } => {
            t.expert(&EI_MULTI_DSS, opts, Some(&format!("{count} DSS options in one segment (only the first is used)")));
        }
        Event::CapReached(kind) => {
            t.expert(&EI_CAP, opts, Some(&format!("MPTCP analysis limit reached ({kind:?}); some state was dropped")));
        }
    }
}

fn show_connection(t: &Tree<'_>, idx: usize, c: &Connection, service: Option<&str>) {
    let ends = c.subflows.first().map(|s| format!(": {} → {}", ep(s.ends[0]), ep(s.ends[1]))).unwrap_or_default();
    let (ci, ct) = t.add_subtree(&ETT_CONN, Span::new(0, 0), &format!("Connection {idx}{ends}"));
    ci.generated();
    if let Some(v) = version_num(c.version) {
        ct.add_generated(&HF_C_VERSION, v);
    }
    ct.add_generated(&HF_C_PROFILE, profile(c).as_str());
    if let Some(s) = service {
        ct.add_generated(&HF_C_SERVICE, s);
    }
    ct.add_generated(&HF_C_FIRST_FRAME, c.first_frame);
    for (hf, v) in [(&HF_C_CLIENT_KEY, c.keys[0]), (&HF_C_SERVER_KEY, c.keys[1])] {
        if let Some(k) = v {
            ct.add_generated(hf, k);
        }
    }
    for (hf, v) in [(&HF_C_CLIENT_TOKEN, c.tokens[0]), (&HF_C_SERVER_TOKEN, c.tokens[1])] {
        if let Some(k) = v {
            ct.add_generated(hf, k);
        }
    }
    for (hf, v) in [(&HF_C_CLIENT_IDSN, c.idsns[0]), (&HF_C_SERVER_IDSN, c.idsns[1])] {
        if let Some(k) = v {
            ct.add_generated(hf, k);
        }
    }
    if let Some(n) = c.checksum_negotiated {
        ct.add_generated(&HF_C_CSUM_NEG, n);
    }
    ct.add_generated(&HF_C_CSUM_PRESENT, c.mappings_with_checksum > 0);
    ct.add_generated(&HF_C_MAP_CSUM, c.mappings_with_checksum);
    ct.add_generated(&HF_C_MAP_NOCSUM, c.mappings_without_checksum);
    for (hf, w) in [
        (&HF_C_CLIENT_DSN_W, c.dsn_widths[0]),
        (&HF_C_SERVER_DSN_W, c.dsn_widths[1]),
        (&HF_C_CLIENT_DACK_W, c.dack_widths[0]),
        (&HF_C_SERVER_DACK_W, c.dack_widths[1]),
    ] {
        if width_code(w) != 0 {
            ct.add_generated(hf, width_code(w));
        }
    }
    ct.add_generated(&HF_C_DATA_SEGS, c.data_segments);
    ct.add_generated(&HF_C_DATA_SEGS_DSS, c.data_segments_with_dss);
    if c.data_segments > 0 {
        ct.add_generated(&HF_C_DSS_PER_SEG, c.data_segments_with_dss as f64 / c.data_segments as f64);
    }
    ct.add_generated(&HF_C_MAX_DSS, c.max_dss_per_segment);
    if let Some(e) = c.third_ack_echoed_keys {
        ct.add_generated(&HF_C_KEYS_ECHOED, e);
    }
    ct.add_generated(&HF_C_SUBFLOWS, c.subflows.len() as u32);
    ct.add_generated(&HF_C_REINJ, c.reinjections);
    ct.add_generated(&HF_C_SF_RETRANS, c.subflow_retransmissions);
    ct.add_generated(&HF_C_REINJ_NEEDED, c.reinjections_needed);
    ct.add_generated(&HF_C_REINJ_SPURIOUS, c.reinjections_spurious);
    ct.add_generated(&HF_C_OFO, c.ofo_segments);
    ct.add_generated(&HF_C_RELEASES, c.reorder_releases);
    if let Some(w) = c.max_reorder_wait_ns {
        ct.add_generated(&HF_C_MAX_WAIT, Time::from_nanos(w));
    }
    ct.add_generated(&HF_C_LINUX_OFO, c.linux_ofo_queue);
    ct.add_generated(&HF_C_DUP_DATA, c.duplicate_data);
    ct.add_generated(&HF_C_DUP_DACKS, c.dup_dacks);
    ct.add_generated(&HF_C_HANDOVERS, c.handovers.len() as u32);
    if let Some(l) = c.handovers.iter().filter_map(|h| h.latency_ns).max() {
        ct.add_generated(&HF_C_HANDOVER_LATENCY, Time::from_nanos(l));
    }
    if let Some(f) = c.fallback {
        ct.add_generated(&HF_C_FALLBACK, f.code());
    }
    if let Some(r) = c.rtt_stats() {
        ct.add_generated(&HF_C_RTT_SAMPLES, r.samples as u32);
        ct.add_generated(&HF_C_RTT_MIN, Time::from_nanos(r.min));
        ct.add_generated(&HF_C_RTT_MEDIAN, Time::from_nanos(r.median));
        ct.add_generated(&HF_C_RTT_MAX, Time::from_nanos(r.max));
    }
    for (i, s) in c.subflows.iter().enumerate() {
        let (si, st) = ct.add_subtree(
            &ETT_SF,
            Span::new(0, 0),
            &format!("Subflow {i}: {} → {}, {} / {} bytes", ep(s.ends[0]), ep(s.ends[1]), s.bytes[0], s.bytes[1]),
        );
        si.generated();
        st.add_generated(&HF_S_INDEX, i as u32);
        for (end, (v4, v6, port)) in s.ends.iter().zip([
            (&HF_S_CLIENT_IPV4, &HF_S_CLIENT_IPV6, &HF_S_CLIENT_PORT),
            (&HF_S_SERVER_IPV4, &HF_S_SERVER_IPV6, &HF_S_SERVER_PORT),
        ]) {
            match end.0 {
                IpAddr::V4(a) => st.add_generated(v4, a),
                IpAddr::V6(a) => st.add_generated(v6, a),
            };
            st.add_generated(port, end.1);
        }
        if let Some(id) = s.addr_ids[0] {
            st.add_generated(&HF_S_CLIENT_ID, id);
        }
        if let Some(id) = s.addr_ids[1] {
            st.add_generated(&HF_S_SERVER_ID, id);
        }
        st.add_generated(&HF_S_CLIENT_BACKUP, s.backup[0]);
        st.add_generated(&HF_S_SERVER_BACKUP, s.backup[1]);
        st.add_generated(&HF_S_BYTES_C2S, s.bytes[0]);
        st.add_generated(&HF_S_BYTES_S2C, s.bytes[1]);
        if let Some(p) = share(c, s) {
            st.add_generated(&HF_S_SHARE, p);
        }
        if let Some(h) = s.capture_near {
            st.add_generated(&HF_S_NEAR, h as u8);
        }
        st.add_generated(&HF_S_DATA_SEGS, s.data_segments[0] + s.data_segments[1]);
        st.add_generated(&HF_S_OFO, s.ofo_segments);
        st.add_generated(&HF_S_DUP_DACKS, s.dup_dacks);
        st.add_generated(&HF_S_REINJ_NEEDED, s.reinjections_needed);
        st.add_generated(&HF_S_REINJ_SPURIOUS, s.reinjections_spurious);
        st.add_generated(&HF_S_JOINED, s.joined);
        st.add_generated(&HF_S_FIRST_FRAME, s.first_frame);
        if let Some(r) = s.closed {
            st.add_generated(&HF_S_CLOSED, r.code());
        }
    }
}

/// Subflow `s`'s payload bytes (both directions) as a percentage of the connection's.
fn share(c: &Connection, s: &Subflow) -> Option<f64> {
    let all: u64 = c.subflows.iter().map(|x| x.bytes[0].saturating_add(x.bytes[1])).fold(0, u64::saturating_add);
    (all > 0).then(|| s.bytes[0].saturating_add(s.bytes[1]) as f64 * 100.0 / all as f64)
}

fn ms(ns: i128) -> f64 {
    ns as f64 / 1e6
}

/// The statistics record of one segment of connection `idx`.
fn stat_record(idx: usize, c: &Connection, service: Option<&str>, ann: &Annotation, payload_len: u32) -> StatRecord {
    let first = c.subflows.first();
    let facts = ConnFacts {
        version: c.version.map_or("?".into(), |v| format!("v{}", v.raw())),
        client: first.map(|s| ep(s.ends[0])),
        server: first.map(|s| ep(s.ends[1])),
        service: service.map(str::to_string),
        profile: profile(c),
        subflows: c.subflows.len() as u32,
        handovers: c.handovers.len() as u32,
        fallback: c.fallback.map_or("no".into(), |r| r.phrase().into()),
    };
    let d = match ann.direction {
        Some(Direction::Forward) => Some(0),
        Some(Direction::Reverse) => Some(1),
        None => None,
    };
    StatRecord {
        conn: idx as u32,
        facts,
        bytes: d.filter(|_| ann.subflow.is_some() && payload_len > 0).map(|d| (d, u64::from(payload_len))),
        reinjection: ann.reinjection_of.is_some_and(|r| r.kind != ReinjectionKind::SubflowRetransmission),
        rtt_ns: ann.data_rtt.map(|r| r.ns),
        order: OrderFlags::of(ann),
    }
}

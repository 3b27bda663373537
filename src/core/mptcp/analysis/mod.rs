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
//!
//! Layout: [`model`] holds the types (configuration, input, output, per-connection state);
//! this file the [`Analyser`] and its driver, `analyse()`, which runs one segment through
//! the steps in order: `locate` (find or create its connection and subflow), `handshake`
//! (MP_CAPABLE, MP_JOIN), `control` (the other options: addresses, priority, failure,
//! resets, and DSS), `data` (the segment's place in the data sequence, reinjections, data
//! RTT), `order` (out-of-order data, reorder waits, duplicate data ACKs, reinjection
//! outcomes, as seen at the capture point) and `handover` (data moving between subflows).

mod control;
mod data;
mod handover;
mod handshake;
mod locate;
mod model;
mod order;
mod store;

pub use model::{
    Annotation, CapKind, CloseReason, Config, Connection, DataRtt, Direction, DupDack, Event,
    FallbackReason, Handover, HandoverReason, IdsnCheck, Ofo, Outcome, Reinjection,
    ReinjectionKind, ReinjectionOutcome, RelBase, Release, RttStats, Segment, Subflow, TcpFlags,
    Widths, FxMap, SUMMARY_FRAMES,
};

use super::options::{has_mptcp_option, parse_options};
use model::{canon, FourTuple, Late};

/// The first-pass analyser; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct Analyser {
    config: Config,
    conns: Vec<Connection>,
    by_tuple: FxMap<FourTuple, (usize, usize)>,
    by_token: FxMap<u32, usize>,
    store: store::Store,
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
    pub fn annotation(&self, frame: u32) -> Option<Annotation> {
        self.store.get(frame)
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
        self.store.shrink();
        for conn in &mut self.conns {
            handover::judge_switches(conn, self.config, &mut self.store);
        }
    }

    /// How many 4-tuples (subflows) are tracked. The analyser starts tracking a 4-tuple only
    /// on a segment of it with an MPTCP option, and only that segment's own: a caller can
    /// mirror the tracked set by noting the segment's 4-tuple whenever this grows.
    pub fn tuples(&self) -> usize {
        self.by_tuple.len()
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
    pub fn feed(&mut self, seg: &Segment<'_>) -> Option<Annotation> {
        if self.max_frame.is_some_and(|m| seg.frame <= m) {
            return self.store.get(seg.frame);
        }
        self.max_frame = Some(seg.frame);
        let ann = self.analyse(seg)?;
        if let Some(c) = ann.connection.and_then(|c| self.conns.get_mut(c)) {
            // Verdicts on earlier frames reached on this one (a reinjection's outcome, the
            // order of data its subflow held back): they go on those frames.
            for (f, v) in c.late.drain(..) {
                self.store.update(f, |a| match v {
                    Late::Outcome(o) => a.reinjection_outcome = Some(o),
                    Late::Ofo(o) => a.ofo = Some(o),
                    Late::Release(r) => a.release = Some(r),
                });
            }
        }
        if ann.connection.is_none() && ann.events.is_empty() {
            // A segment of a connection not tracked (past the connection cap) carries
            // nothing to show; storing it would make memory grow with every untracked
            // connection after all.
            return None;
        }
        if self.store.len() >= self.config.max_annotations {
            self.annotation_cap_hit = true;
            if let Some(c) = ann.connection.and_then(|c| self.conns.get_mut(c)) {
                let mut ev = Vec::new();
                c.cap(CapKind::Annotations, &mut ev);
            }
            return None;
        }
        self.store.push(seg.frame, &ann);
        Some(ann)
    }

    /// One segment through the steps, in order; None if it is not MPTCP (nor of a tracked
    /// connection). Events are recorded in the order the steps raise them.
    fn analyse(&mut self, seg: &Segment<'_>) -> Option<Annotation> {
        // The segment's subflow if its 4-tuple is known: looked up once, for the options'
        // version hint and for `locate`.
        let known = self.by_tuple.get(&canon((seg.src, seg.sport), (seg.dst, seg.dport))).copied();
        if known.is_none() && !has_mptcp_option(seg.options) {
            // Neither a tracked subflow nor an MPTCP option: what `locate` would tell after
            // parsing, for the cost of one walk over the option kinds (most TCP segments of
            // a mixed capture).
            return None;
        }
        let version = known.and_then(|(c, _)| self.conns.get(c)).and_then(|c| c.version);
        let opts = parse_options(seg.options, version);
        let mut ann = Annotation::default();
        let (c, s) = self.locate(seg, known, &opts, &mut ann.events)?;
        ann.connection = c;
        ann.subflow = s;
        let (Some(c), Some(s)) = (c, s) else {
            return Some(ann);
        };
        let conn = self.conns.get_mut(c)?;
        let here = Here::new(conn, seg, s, self.config)?;
        ann.direction = Some(Direction::from_idx(here.d));
        let mut events = std::mem::take(&mut ann.events);

        let hs = handshake::handshake(conn, &here, &opts, &mut events)?;
        // The TCP ACK before the data ACK: when one segment carries both, the subflow's word
        // that an original arrived comes first.
        order::subflow_ack(conn, &here, &mut events);
        let mut dss = control::options(conn, &here, &opts, &mut ann, &mut events);
        if let Some(m) = data::implicit_mapping(conn, &here, hs.implicit_map) {
            dss.mapping = Some(m);
        }
        let mut seg_dsn = match dss.mapping {
            Some(m) => data::record_mapping(conn, &here, m, &mut ann)?,
            None => None,
        };
        let has_mapping = dss.mapping.is_some();
        if seg.payload_len > 0 {
            data::payload(conn, &here, &hs, &dss, &mut seg_dsn, &mut ann, &mut events)?;
            if let Some((rel, _)) = seg_dsn {
                order::on_segment(conn, &here, rel, seg.payload_len, &mut ann, &mut events);
            }
            handover::on_data(conn, &here, &ann, &mut events);
        } else if let Some(range) = seg_dsn {
            data::bare_data_fin(conn, &here, range, &mut ann, &mut events);
        }
        order::dup_dack(conn, &here, has_mapping, &mut ann);
        if let Some((rel, len)) = seg_dsn {
            ann.rel_dsn = Some(rel);
            ann.data_len = len;
        }
        ann.in_flight = conn.spaces[here.d].in_flight();
        if let Some(sf) = conn.subflows.get_mut(s) {
            sf.last_seen_ns = seg.time_ns;
        }
        conn.last_seen_ns = seg.time_ns;
        conn.after_segment(s, here.d, seg.flags.has(TcpFlags::FIN));
        conn.note_facts(seg.frame);
        for t in hs.new_tokens {
            self.by_token.entry(t).or_insert(c);
        }
        ann.events = events;
        Some(ann)
    }
}

/// Where one segment sits in its connection: what every step after `locate` needs.
#[derive(Debug, Clone, Copy)]
struct Here<'s, 'b> {
    seg: &'s Segment<'b>,
    cfg: Config,
    /// The segment's subflow.
    s: usize,
    /// The sending host (0 client, 1 server): the DSN space of its data.
    d: usize,
    /// The other host: the space its data acks refer to.
    o: usize,
    /// The SYN and ACK flags.
    syn: bool,
    ack: bool,
}

impl<'s, 'b> Here<'s, 'b> {
    fn new(conn: &Connection, seg: &'s Segment<'b>, s: usize, cfg: Config) -> Option<Self> {
        let sf = conn.subflows.get(s)?;
        let d = if sf.ends[0] == (seg.src, seg.sport) { 0 } else { 1 };
        Some(Here {
            seg,
            cfg,
            s,
            d,
            o: 1 - d,
            syn: seg.flags.has(TcpFlags::SYN),
            ack: seg.flags.has(TcpFlags::ACK),
        })
    }
}

#[cfg(test)]
mod tests;

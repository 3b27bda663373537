//! Grouping: find or create the connection and subflow a segment belongs to (by 4-tuple,
//! by the token of an MP_JOIN SYN, or as a new connection), within the connection and
//! subflow bounds.

use super::model::{canon, Connection, Endpoint, Subflow};
use super::{Analyser, CapKind, Event, Segment, TcpFlags};
use crate::core::mptcp::options::{MpJoin, MptcpBody, ParsedOptions};

impl Analyser {
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
        // A new path: the connection is not over (see `Connection::after_segment`).
        conn.over = false;
        // One at a time: most connections have one or two subflows, and a subflow is
        // large (a growing vector would reserve four).
        conn.subflows.reserve_exact(1);
        conn.subflows.push(Subflow {
            ends,
            addr_ids: if joined { [None; 2] } else { [Some(0); 2] },
            backup: [false; 2],
            bytes: [0; 2],
            joined,
            first_frame: seg.frame,
            closed: None,
            data_segments: [0; 2],
            ofo_segments: 0,
            dup_dacks: 0,
            reinjections_needed: 0,
            reinjections_spurious: 0,
            last_data_ns: [None; 2],
            last_new_data_ns: [None; 2],
            syn_seen: [false; 2],
            syn_ns: [None; 2],
            tcp_acked: [None; 2],
            capture_near: None,
            sub_order: Default::default(),
            isn: [None; 2],
            high_seq: [None; 2],
            maps: Default::default(),
            last_seen_ns: seg.time_ns,
            fin_seen: [false; 2],
        });
        let s = conn.subflows.len() - 1;
        self.by_tuple.insert(canon(ends[0], ends[1]), (c, s));
        Some(s)
    }

    /// Find or create the (connection, subflow) of a segment.
    pub(super) fn locate(
        &mut self,
        seg: &Segment<'_>,
        known: Option<(usize, usize)>,
        opts: &ParsedOptions<'_>,
        events: &mut Vec<Event>,
    ) -> Option<(Option<usize>, Option<usize>)> {
        let src = (seg.src, seg.sport);
        let dst = (seg.dst, seg.dport);
        let syn_only = seg.flags.has(TcpFlags::SYN) && !seg.flags.has(TcpFlags::ACK);
        let synack = seg.flags.has(TcpFlags::SYN) && seg.flags.has(TcpFlags::ACK);
        if let Some((c, s)) = known {
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
}

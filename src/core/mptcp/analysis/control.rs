//! The control step: every MPTCP option of a segment other than the handshake's, in wire
//! order. Path management (ADD_ADDR, REMOVE_ADDR, MP_PRIO), failure and closing (MP_FAIL,
//! MP_FASTCLOSE, MP_TCPRST, a TCP RST), and the first DSS, whose data ack and mapping go
//! to [`super::data`].

use super::data::{self, SegMapping};
use super::model::{widen, Connection};
use super::{Annotation, CapKind, CloseReason, Event, Here, TcpFlags};
use crate::core::mptcp::options::{MptcpBody, ParsedOptions, RstReason};

/// What the control step saw of DSS options.
pub(super) struct DssSeen {
    /// DSS options in the segment (only the first is used).
    pub(super) count: u8,
    /// The segment's mapping: the first DSS's, or (set by the driver) the implicit one of
    /// v1 data sent with MP_CAPABLE.
    pub(super) mapping: Option<SegMapping>,
}

/// Walk the non-handshake options, then note several DSS and a TCP RST.
pub(super) fn options(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    opts: &ParsedOptions<'_>,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) -> DssSeen {
    let (s, d, o) = (here.s, here.d, here.o);
    let mut dss = DssSeen {
        count: 0,
        mapping: None,
    };
    for opt in &opts.mptcp {
        match opt.body {
            MptcpBody::AddAddr(a) if !a.echo.value => {
                let list = &mut conn.announced[d];
                if let Some(e) = list.iter_mut().find(|e| e.0 == a.addr_id.value) {
                    e.1 = a.addr.value;
                } else if list.len() < here.cfg.max_addresses {
                    list.push((a.addr_id.value, a.addr.value));
                } else {
                    conn.cap(CapKind::Addresses, events);
                }
            }
            MptcpBody::RemoveAddr(r) => {
                for &id in r.addr_ids.value {
                    remove_addr(conn, d, id, events);
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
                close(conn, s, CloseReason::MpFail, events);
            }
            MptcpBody::MpFastclose { .. } => {
                events.push(Event::FastClose);
                close(conn, s, CloseReason::FastClose, events);
            }
            MptcpBody::MpTcpRst(r) => {
                events.push(Event::MpRst {
                    reason: RstReason::from_code(r.reason.value),
                    transient: r.flags.value & 1 != 0,
                });
            }
            MptcpBody::Dss(x) => {
                dss.count = dss.count.saturating_add(1);
                if dss.count > 1 {
                    continue;
                }
                if let Some((ack, w)) = x.data_ack {
                    data::data_ack(conn, here, ack.value, w, ann, events);
                }
                if let Some(m) = x.mapping {
                    dss.mapping = Some(data::dss_mapping(conn, d, &m, x.data_fin(), events));
                }
            }
            _ => {}
        }
    }
    if dss.count > 1 {
        events.push(Event::MultipleDss { count: dss.count });
    }
    conn.max_dss_per_segment = conn.max_dss_per_segment.max(dss.count);
    if here.seg.flags.has(TcpFlags::RST) {
        close(conn, s, CloseReason::Reset, events);
    }
    dss
}

/// REMOVE_ADDR from host `d`: close every open subflow on that address id (or on the
/// address it announced under that id).
fn remove_addr(conn: &mut Connection, d: usize, id: u8, events: &mut Vec<Event>) {
    let ip = conn.announced[d].iter().find(|e| e.0 == id).map(|e| e.1);
    for (i, sf) in conn.subflows.iter_mut().enumerate() {
        if sf.closed.is_none() && (sf.addr_ids[d] == Some(id) || Some(sf.ends[d].0) == ip) {
            sf.closed = Some(CloseReason::RemoveAddr);
            events.push(Event::SubflowClosed {
                subflow: i,
                reason: CloseReason::RemoveAddr,
            });
        }
    }
}

/// Mark subflow `s` closed (the first reason stays) and say so.
fn close(conn: &mut Connection, s: usize, reason: CloseReason, events: &mut Vec<Event>) {
    if let Some(sf) = conn.subflows.get_mut(s) {
        if sf.closed.is_none() {
            sf.closed = Some(reason);
            events.push(Event::SubflowClosed { subflow: s, reason });
        }
    }
}

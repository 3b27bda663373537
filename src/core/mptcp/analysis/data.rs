//! The data-level step: data acks (relative numbering, data RTT), DSS mappings (widths,
//! checksums, infinite mappings, the IDSN check), each segment's place in the data
//! sequence, and which DSN ranges were sent before (reinjections and subflow
//! retransmissions) or are still in flight.

use super::control::DssSeen;
use super::handshake::Handshake;
use super::order;
use super::model::{first_in, newer, Connection, Mapping, Sent, Space};
use super::{
    Annotation, CapKind, DataRtt, Event, FallbackReason, Here, IdsnCheck, Reinjection,
    ReinjectionKind,
};
use crate::core::mptcp::options::DssMapping;

/// A range of the data sequence: (relative DSN of its start, data-level length).
pub(super) type DsnRange = (u64, u32);

/// The mapping a segment carries, as sent (4-byte DSNs not yet widened).
#[derive(Debug, Clone, Copy)]
pub(super) struct SegMapping {
    pub(super) dsn: u64,
    /// Width of `dsn` on the wire: 4 or 8.
    pub(super) width: u8,
    /// Relative subflow sequence number.
    pub(super) ssn: u32,
    /// Data-level length.
    pub(super) len: u32,
    /// The DSS had DATA_FIN.
    pub(super) fin: bool,
}

/// A DSS data ack (`width` 4 or 8) from host `here.d`, acking the other host's space.
pub(super) fn data_ack(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    ack: u64,
    width: u8,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    conn.dack_widths[here.d].add(width);
    let sp = &mut conn.spaces[here.o];
    let (_, rel, kind) = sp.observe(ack, width);
    ann.rel_dack = Some(rel);
    ann.dack_base = Some(kind);
    if sp.high_acked.map_or(true, |h| newer(rel, h)) {
        sp.high_acked = Some(rel);
        sp.high_acked_frame = here.seg.frame;
        if let Some(rtt) = take_rtt(sp, rel, here.seg.time_ns, here.seg.frame) {
            ann.data_rtt = Some(rtt);
            if conn.rtt_samples.len() < here.cfg.max_rtt_samples {
                // 64 bits of nanoseconds: ±292 years.
                conn.rtt_samples.push(i64::try_from(rtt.ns).unwrap_or(if rtt.ns < 0 { i64::MIN } else { i64::MAX }));
            } else {
                conn.cap(CapKind::RttSamples, events);
            }
        }
        order::on_data_ack(conn, here, rel);
    }
}

/// A DSS mapping from host `d`: count its width and checksum, fall back on an infinite
/// mapping, and keep it for [`record_mapping`].
pub(super) fn dss_mapping(
    conn: &mut Connection,
    d: usize,
    m: &DssMapping,
    fin: bool,
    events: &mut Vec<Event>,
) -> SegMapping {
    conn.dsn_widths[d].add(m.dsn_len);
    if m.checksum.is_some() {
        conn.mappings_with_checksum += 1;
    } else {
        conn.mappings_without_checksum += 1;
    }
    if m.is_infinite() {
        events.push(Event::InfiniteMapping);
        conn.set_fallback(FallbackReason::InfiniteMapping, events);
    }
    SegMapping {
        dsn: m.dsn.value,
        width: m.dsn_len,
        ssn: m.subflow_seq.value,
        len: m.data_len.value as u32,
        fin,
    }
}

/// The implicit mapping of v1 data sent with MP_CAPABLE (`(ssn, len)` from the handshake
/// step): it starts at IDSN + 1, once the sender's IDSN is known.
pub(super) fn implicit_mapping(
    conn: &Connection,
    here: &Here<'_, '_>,
    implicit: Option<(u32, u32)>,
) -> Option<SegMapping> {
    let (ssn, len) = implicit?;
    let idsn = conn.idsns[here.d]?;
    Some(SegMapping {
        dsn: idsn.wrapping_add(1),
        width: 8,
        ssn,
        len,
        fin: false,
    })
}

/// Record the segment's mapping in its space and subflow: widen and number its DSN, check
/// the space's first data mapping against the IDSN, remember it for the segments it maps.
/// Returns the data range of a bare DATA_FIN (None for any other mapping); None outside
/// only if the subflow is unknown.
pub(super) fn record_mapping(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    m: SegMapping,
    ann: &mut Annotation,
) -> Option<Option<DsnRange>> {
    let (d, seg) = (here.d, here.seg);
    // The IDSN check looks at the first mapping that carries data: a bare DATA_FIN
    // (e.g. sent before data that is reinjected later) says nothing about the IDSN.
    let bare_fin = m.fin && m.len == 1 && seg.payload_len == 0;
    let first_map_check = !bare_fin && !conn.spaces[d].first_mapping_seen;
    let mut seg_dsn: Option<DsnRange> = None;
    let sp = &mut conn.spaces[d];
    let (abs, rel, kind) = sp.observe(m.dsn, m.width);
    ann.dsn_base = Some(kind);
    if first_map_check && m.len > 0 {
        sp.first_mapping_seen = true;
        if let Some(idsn) = sp.idsn {
            let expected = idsn.wrapping_add(1);
            let ok = if m.width == 8 {
                m.dsn == expected
            } else {
                m.dsn as u32 == expected as u32
            };
            ann.idsn_check = Some(if ok {
                IdsnCheck::Ok
            } else {
                IdsnCheck::Mismatch {
                    expected,
                    got: m.dsn,
                }
            });
        }
    }
    let sf = conn.subflows.get_mut(here.s)?;
    if m.ssn == 0 && m.len == 1 && m.fin && seg.payload_len == 0 {
        // DATA_FIN alone (RFC 8684 §3.3.3: subflow sequence 0, length 1).
        seg_dsn = Some((rel, 1));
    } else if m.len > 0 {
        if sf.isn[d].is_none() {
            sf.isn[d] = Some(seg.seq.wrapping_sub(m.ssn));
        }
        let maps = &mut sf.maps[d];
        if maps.len() >= 8 {
            maps.remove(0);
        }
        maps.push(Mapping {
            dsn: abs,
            ssn: m.ssn,
            len: m.len,
        });
    }
    Some(seg_dsn)
}

/// A segment with payload: count it (fall back if MPTCP data comes without DSS), find its
/// data range through the subflow's mappings into `seg_dsn`, tell a subflow-level
/// retransmission, and track the range as sent. None only if the subflow is unknown.
pub(super) fn payload(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    hs: &Handshake,
    dss: &DssSeen,
    seg_dsn: &mut Option<DsnRange>,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) -> Option<()> {
    let (d, seg) = (here.d, here.seg);
    conn.data_segments += 1;
    if dss.count > 0 {
        conn.data_segments_with_dss += 1;
    } else if conn.negotiated && hs.implicit_map.is_none() {
        conn.set_fallback(FallbackReason::DataWithoutDss, events);
    }
    let sf = conn.subflows.get_mut(here.s)?;
    sf.bytes[d] = sf.bytes[d].saturating_add(seg.payload_len as u64);
    sf.data_segments[d] += 1;
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
            let fin = dss.mapping.is_some_and(|x| x.fin) && {
                rseq.wrapping_add(seg.payload_len) == m.ssn.wrapping_add(m.len).wrapping_sub(1)
            };
            *seg_dsn = Some((rel, seg.payload_len.saturating_add(fin as u32)));
        }
        // Subflow-level retransmission?
        let end = rseq.wrapping_add(seg.payload_len);
        // Any overlap with subflow bytes already sent (a TCP retransmission may be
        // re-segmented and run past the old high mark).
        let retrans = sf.high_seq[d].is_some_and(|h| (h.wrapping_sub(rseq) as i32) > 0);
        if sf.high_seq[d].map_or(true, |h| (end.wrapping_sub(h) as i32) > 0) {
            sf.high_seq[d] = Some(end);
        }
        if !retrans {
            sf.last_new_data_ns[d] = Some(seg.time_ns);
        }
        if let Some((rel, len)) = *seg_dsn {
            track_sent(conn, here, rel, len, retrans, Some(end), ann, events);
        }
    }
    Some(())
}

/// A bare DATA_FIN. Linux repeats it on every subflow: a repeat is not a reinjection.
pub(super) fn bare_data_fin(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    (rel, len): DsnRange,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    let repeat = conn.spaces[here.d]
        .high_sent
        .is_some_and(|h| !newer(rel.wrapping_add(len as u64), h));
    if !repeat {
        track_sent(conn, here, rel, len, false, None, ann, events);
    }
}

/// Mark ranges newly covered by data ack `ack` (relative) and return the RTT sample.
fn take_rtt(sp: &mut Space, ack: u64, now: i128, frame: u32) -> Option<DataRtt> {
    let mut best: Option<DataRtt> = None;
    for (_, r) in sp.sent.range_mut(..ack).rev() {
        if r.acked {
            break;
        }
        if newer(r.end, ack) {
            continue; // partly covered
        }
        r.acked = true;
        r.acked_frame = frame;
        if best.is_none() {
            best = Some(DataRtt {
                ns: now.saturating_sub(i128::from(r.time_ns)),
                acked_frame: r.frame,
            });
        }
    }
    best
}

/// Track data range `rel..rel+len` of host `here.d` as sent on this segment: a range
/// (partly) sent before is a reinjection or a subflow retransmission of its first carrier;
/// only the part beyond the highest DSN sent is remembered, within `Config::max_ranges`.
#[allow(clippy::too_many_arguments)]
fn track_sent(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    rel: u64,
    len: u32,
    subflow_retrans: bool,
    ssn_end: Option<u32>,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    if len == 0 {
        return;
    }
    let end = rel.wrapping_add(len as u64);
    let sp = &mut conn.spaces[here.d];
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
                .map(|(_, r)| (r.frame, usize::from(r.subflow)));
            if let Some((frame, first_sf)) = orig {
                let kind = if first_sf != here.s {
                    ReinjectionKind::OtherSubflow
                } else if subflow_retrans {
                    ReinjectionKind::SubflowRetransmission
                } else {
                    ReinjectionKind::SameSubflow
                };
                ann.reinjection_of = Some(Reinjection {
                    frame,
                    subflow: first_sf,
                    kind,
                });
                if kind == ReinjectionKind::SubflowRetransmission {
                    conn.subflow_retransmissions += 1;
                } else {
                    conn.reinjections += 1;
                    // Its outcome is judged once, on the segment that sent the data again at
                    // the data level (not on TCP's retransmissions of that segment).
                    if !subflow_retrans {
                        let resent_end = if newer(end, h) { h } else { end };
                        order::on_reinjection(conn, here, rel, resent_end, ann, events);
                    }
                }
            }
            if newer(end, h) {
                h
            } else {
                return;
            }
        }
        _ => rel,
    };
    let sp = &mut conn.spaces[here.d];
    sp.sent.insert(
        fresh_from,
        Sent {
            end,
            frame: here.seg.frame,
            subflow: u16::try_from(here.s).unwrap_or(u16::MAX),
            time_ns: i64::try_from(here.seg.time_ns).unwrap_or(i64::MAX),
            acked: false,
            acked_frame: 0,
            ssn_end,
        },
    );
    sp.high_sent = Some(end);
    if sp.sent.len() > here.cfg.max_ranges {
        if let Some((_, r)) = sp.sent.pop_first() {
            if !r.acked {
                conn.cap(CapKind::Ranges, events);
            }
        }
    }
}

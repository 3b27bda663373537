//! The handover step: data moving from one subflow to another. Judged at once when the
//! old subflow closed or went silent while the connection stayed busy; otherwise the move
//! is remembered as a switch and judged by [`judge_switches`] once the capture is over
//! ([`super::Analyser::finish`]).

use super::model::{Connection, Switch};
use super::{Annotation, CapKind, Config, Direction, Event, Handover, HandoverReason, Here};
use super::store::Store;

/// After a segment with payload: update the connection's busy period, judge a move of
/// the data from the subflow that carried this direction last, and make this subflow the
/// last carrier.
pub(super) fn on_data(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    ann: &Annotation,
    events: &mut Vec<Event>,
) {
    let (seg, cfg, s, d) = (here.seg, here.cfg, here.s, here.d);
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
    let mut latency_ns = None;
    if let Some(prev) = conn.last_data_subflow[d] {
        if prev != s {
            latency_ns = conn
                .subflows
                .get(prev)
                .and_then(|p| p.last_data_ns[d])
                .map(|t| seg.time_ns.saturating_sub(t));
            let reason = conn.subflows.get(prev).and_then(|p| match p.closed {
                Some(r) => Some(HandoverReason::Closed(r)),
                None => {
                    let gap = seg.time_ns.saturating_sub(p.last_seen_ns);
                    let busy = seg
                        .time_ns
                        .saturating_sub(conn.busy_since.max(p.last_seen_ns));
                    let reinjected_from_prev =
                        ann.reinjection_of.is_some_and(|r| r.subflow == prev);
                    (gap > cfg.silence_ns && (busy > cfg.silence_ns || reinjected_from_prev))
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
                    // Only the latest move from `prev` to `s` can be the last time `prev`
                    // carried data: it replaces the earlier ones (subflows taking turns
                    // would otherwise fill the list before the path dies).
                    let sw = Switch {
                        frame: seg.frame,
                        time_ns: seg.time_ns,
                        direction: d,
                        from: prev,
                        to: s,
                        latency_ns,
                    };
                    if busy_at_switch {
                        if let Some(old) = conn.switches.iter_mut().find(|x| (x.direction, x.from, x.to) == (d, prev, s)) {
                            *old = sw;
                        } else if conn.switches.len() < 4 * cfg.max_handovers {
                            conn.switches.push(sw);
                        } else {
                            conn.cap(CapKind::Handovers, events);
                        }
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
            latency_ns,
        });
        if conn.handovers.len() < cfg.max_handovers {
            conn.handovers.push(Handover {
                frame: seg.frame,
                direction: Direction::from_idx(d),
                from_subflow: from,
                to_subflow: s,
                reason,
                latency_ns,
            });
        } else {
            conn.cap(CapKind::Handovers, events);
        }
    }
    conn.last_data_subflow[d] = Some(s);
    if let Some(sf) = conn.subflows.get_mut(s) {
        sf.last_data_ns[d] = Some(seg.time_ns);
    }
}

/// At the end of the capture: each switch whose old subflow never carried new data in that
/// direction again (TCP may go on retransmitting into a dead path; the receiver may go on
/// acknowledging on it), while the connection carried on with new data that way for longer
/// than `Config::silence_ns`, is a handover; its event goes on the annotation of the frame where
/// the data moved.
pub(super) fn judge_switches(
    conn: &mut Connection,
    cfg: Config,
    store: &mut Store,
) {
    let switches = std::mem::take(&mut conn.switches);
    for sw in switches {
        let Some(old) = conn.subflows.get(sw.from) else { continue };
        let last = old.last_new_data_ns[sw.direction].unwrap_or(old.last_seen_ns);
        // How long the connection went on carrying new data this way without the old one.
        let end = conn.subflows.iter().filter_map(|x| x.last_new_data_ns[sw.direction]).max().unwrap_or(last);
        let quiet = end.saturating_sub(last);
        if last > sw.time_ns || quiet <= cfg.silence_ns || old.closed.is_some() {
            continue;
        }
        if conn.handovers.iter().any(|h| h.from_subflow == sw.from && h.to_subflow == sw.to && h.direction.index() == sw.direction) {
            continue;
        }
        let reason = HandoverReason::Silence { gap_ns: quiet };
        if conn.handovers.len() >= cfg.max_handovers {
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
            latency_ns: sw.latency_ns,
        });
        store.update(sw.frame, |a| {
            a.events.push(Event::Handover { from_subflow: sw.from, to_subflow: sw.to, reason, latency_ns: sw.latency_ns });
        });
    }
    conn.handovers.sort_by_key(|h| h.frame);
}

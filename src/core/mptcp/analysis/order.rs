//! The order step: what the data sequence looks like at the capture point. Out-of-order
//! data (a segment whose data arrives before data preceding it) and the hole before it;
//! the segment that fills a hole and the out-of-order data it releases, with how long that
//! data had waited; duplicate data ACKs; and whether a data-level reinjection was needed or
//! spurious, decided by the data ACK that covers it (often frames later: the outcome is then
//! written back into the reinjection's annotation by the driver).
//!
//! Everything is measured where the capture was taken. At the receiver, "arrived" is what
//! the receiving host got, in the order it got it; at the sender it is the order the data
//! left (then out-of-order data only shows where the capture saw the subflows' packets in
//! another order than the scheduler sent them). See docs/mptcp.md.
//!
//! Bounds: per direction at most [`Config::max_reorder_ranges`] ranges held beyond a hole
//! (contiguous data merges into one range, so two subflows need a few); per connection at
//! most [`Config::max_pending_reinjections`] reinjections waiting for their data ACK. Past
//! either bound the newest range / oldest pending reinjection is dropped and
//! [`Event::CapReached`] is raised once per connection and kind.
//!
//! [`Config::max_reorder_ranges`]: super::Config::max_reorder_ranges
//! [`Config::max_pending_reinjections`]: super::Config::max_pending_reinjections

use super::model::{newer, Connection, Held, LastDack, Pending, Reorder};
use super::{
    Annotation, CapKind, DupDack, Event, Here, Ofo, Outcome, RelBase, Release,
    ReinjectionOutcome, TcpFlags,
};

/// Signed distance from `b` to `a` in the wrapping DSN space.
fn ahead(a: u64, b: u64) -> i64 {
    a.wrapping_sub(b) as i64
}

impl Reorder {
    /// Bytes of held data in `[from, to)`.
    fn held_in(&self, from: u64, to: u64) -> u64 {
        let mut n = 0u64;
        for (&k, h) in &self.held {
            if ahead(k, to) >= 0 {
                break;
            }
            let s = if ahead(k, from) > 0 { k } else { from };
            let e = if ahead(h.end, to) > 0 { to } else { h.end };
            if ahead(e, s) > 0 {
                n = n.saturating_add(e.wrapping_sub(s));
            }
        }
        n
    }

    /// The bytes held (all ranges).
    fn held_total(&self) -> u64 {
        self.held.iter().fold(0u64, |n, (&k, h)| n.saturating_add(h.end.wrapping_sub(k)))
    }

    /// Adds `[start, end)` seen at `now` in `frame`, merging with the ranges it touches.
    fn hold(&mut self, start: u64, end: u64, now: i128, frame: u32) {
        let mut r = Held { end, since_ns: now, since_frame: frame, frames: 1 };
        let mut start = start;
        // A range that starts at or before `start` and reaches it.
        let prev = self.held.range(..=start).next_back().map(|(&k, &h)| (k, h));
        if let Some((k, h)) = prev {
            if ahead(h.end, start) >= 0 {
                self.held.remove(&k);
                start = k;
                r = merge(h, r);
            }
        }
        // Ranges that start inside or right after the new one.
        while let Some((&k, &h)) = self.held.range(start..).next() {
            if ahead(k, r.end) > 0 {
                break;
            }
            self.held.remove(&k);
            r = merge(h, r);
        }
        self.held.insert(start, r);
    }
}

/// Two touching ranges as one: the earlier arrival and the frames of both.
fn merge(a: Held, b: Held) -> Held {
    let end = if ahead(b.end, a.end) > 0 { b.end } else { a.end };
    let (since_ns, since_frame) = if b.since_ns < a.since_ns { (b.since_ns, b.since_frame) } else { (a.since_ns, a.since_frame) };
    Held { end, since_ns, since_frame, frames: a.frames.saturating_add(b.frames) }
}

/// A segment with payload at relative DSN `rel` (`len` payload bytes) from host `here.d`:
/// out of order (beyond a hole), in order (and maybe releasing held data), or old.
pub(super) fn on_data(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    rel: u64,
    len: u32,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    if len == 0 {
        return;
    }
    let (now, frame) = (here.seg.time_ns, here.seg.frame);
    let from_one = matches!(conn.spaces[here.d].base, Some((_, RelBase::Idsn)));
    let seen = &mut conn.spaces[here.d].seen;
    let end = rel.wrapping_add(u64::from(len));
    // The in-order point starts at the first data byte (relative DSN 1) when the handshake
    // told the IDSN, else at the first data seen.
    let next = *seen.next.get_or_insert(if from_one && ahead(rel, 1) >= 0 { 1 } else { rel });
    if seen.high.is_none_or(|h| ahead(end, h) > 0) {
        seen.high = Some(end);
    }
    if ahead(end, next) <= 0 {
        return; // all seen before
    }
    if ahead(rel, next) > 0 {
        // Beyond the in-order point: out of order if it brings data not seen yet.
        let tail = seen.held.iter().next_back().is_none_or(|(_, h)| ahead(rel, h.end) >= 0);
        let before = if tail { seen.held_total() } else { seen.held_in(next, rel) };
        let known = if tail { 0 } else { seen.held_in(rel, end) };
        if known >= u64::from(len) {
            return; // a copy of data held already
        }
        let hole = (rel.wrapping_sub(next)).saturating_sub(before);
        seen.hold(rel, end, now, frame);
        let over = seen.held.len() > here.cfg.max_reorder_ranges;
        if over {
            seen.held.pop_last();
        }
        ann.ofo = Some(Ofo { hole });
        conn.ofo_segments += 1;
        if let Some(sf) = conn.subflows.get_mut(here.s) {
            sf.ofo_segments += 1;
        }
        if over {
            conn.cap(CapKind::ReorderRanges, events);
        }
        return;
    }
    // At the in-order point: advance it over this segment and whatever it makes contiguous.
    if let Some(r) = advance(seen, end, now) {
        ann.release = Some(r);
        conn.reorder_releases += 1;
        conn.max_reorder_wait_ns = Some(conn.max_reorder_wait_ns.map_or(r.wait_ns, |m| m.max(r.wait_ns)));
    }
}

/// Moves the in-order point to `to` (at least) and over every held range that then touches
/// it; returns what was released, if anything was held.
fn advance(seen: &mut Reorder, to: u64, now: i128) -> Option<Release> {
    let mut next = to;
    let mut rel: Option<Release> = None;
    while let Some((&k, &h)) = seen.held.iter().next() {
        if ahead(k, next) > 0 {
            break;
        }
        seen.held.remove(&k);
        let bytes = if ahead(h.end, next) > 0 {
            let b = h.end.wrapping_sub(next);
            next = h.end;
            b
        } else {
            0
        };
        let r = rel.get_or_insert(Release { wait_ns: 0, frames: 0, bytes: 0, oldest_frame: h.since_frame });
        let wait = now.saturating_sub(h.since_ns);
        if wait >= r.wait_ns {
            r.wait_ns = wait;
            r.oldest_frame = h.since_frame;
        }
        r.frames = r.frames.saturating_add(h.frames);
        r.bytes = r.bytes.saturating_add(bytes);
    }
    seen.next = Some(next);
    rel
}

/// A data-level reinjection by host `here.d` of `[rel, end)` (the part sent before).
/// Spurious at once if that data was data-acked already; otherwise it waits for the data
/// ACK that covers it ([`on_data_ack`]).
pub(super) fn on_reinjection(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    rel: u64,
    end: u64,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    let sp = &conn.spaces[here.d];
    if sp.high_acked.is_some_and(|a| !newer(end, a)) {
        // The ACK that first covered the whole range holding the last byte, else the one
        // that moved the highest data ACK there.
        let by = sp
            .sent
            .range(..end)
            .next_back()
            .filter(|(_, r)| r.acked)
            .map_or(sp.high_acked_frame, |(_, r)| r.acked_frame);
        let o = Outcome { outcome: ReinjectionOutcome::Spurious, decided_in: by };
        ann.reinjection_outcome = Some(o);
        count(conn, here.s, o.outcome);
        return;
    }
    // All of it seen and held beyond a hole: the receiver has it (at a receiver's capture
    // point), whenever the ACK comes.
    let seen = &sp.seen;
    let held = seen.next.is_some_and(|n| ahead(rel, n) > 0) && seen.held_in(rel, end) >= end.wrapping_sub(rel);
    if conn.pending.len() >= here.cfg.max_pending_reinjections {
        conn.pending.remove(0);
        conn.cap(CapKind::PendingReinjections, events);
    }
    conn.pending.push(Pending {
        frame: here.seg.frame,
        time_ns: here.seg.time_ns,
        space: here.d,
        end,
        subflow: here.s,
        held,
    });
}

fn count(conn: &mut Connection, s: usize, o: ReinjectionOutcome) {
    let sf = conn.subflows.get_mut(s);
    match o {
        ReinjectionOutcome::Needed => {
            conn.reinjections_needed += 1;
            if let Some(sf) = sf {
                sf.reinjections_needed += 1;
            }
        }
        ReinjectionOutcome::Spurious => {
            conn.reinjections_spurious += 1;
            if let Some(sf) = sf {
                sf.reinjections_spurious += 1;
            }
        }
    }
}

/// Host `here.d`'s data ACK moved the highest data ACK of space `here.o` to `ack`: decide
/// the reinjections it covers, and move that space's in-order point if the receiver has
/// data the capture did not see.
///
/// A covered reinjection is spurious if its data was held beyond a hole when it came again,
/// or if this ACK came sooner after it than the connection's shortest data RTT (it cannot
/// answer the reinjection, so it answers the original); needed otherwise.
pub(super) fn on_data_ack(conn: &mut Connection, here: &Here<'_, '_>, ack: u64) {
    let o = here.o;
    if conn.spaces[o].seen.next.is_some_and(|n| ahead(ack, n) > 0) {
        advance(&mut conn.spaces[o].seen, ack, here.seg.time_ns);
    }
    if conn.pending.is_empty() {
        return;
    }
    let (now, frame, floor) = (here.seg.time_ns, here.seg.frame, conn.rtt_min);
    let pending = std::mem::take(&mut conn.pending);
    let mut keep = Vec::with_capacity(pending.len());
    for p in pending {
        if p.space != o || newer(p.end, ack) {
            keep.push(p);
            continue;
        }
        let too_soon = floor.is_some_and(|m| now.saturating_sub(p.time_ns) < m);
        let outcome = if p.held || too_soon { ReinjectionOutcome::Spurious } else { ReinjectionOutcome::Needed };
        count(conn, p.subflow, outcome);
        conn.decided.push((p.frame, Outcome { outcome, decided_in: frame }));
    }
    conn.pending = keep;
}

/// After the segment's other steps: a pure ACK (no payload, no mapping, no SYN/FIN/RST)
/// whose data ACK repeats the previous data ACK of the same host while the peer has data
/// outstanding (payload seen beyond it) is a duplicate data ACK.
pub(super) fn dup_dack(conn: &mut Connection, here: &Here<'_, '_>, has_mapping: bool, ann: &mut Annotation) {
    let Some(v) = ann.rel_dack else { return };
    let frame = here.seg.frame;
    let pure = here.seg.payload_len == 0
        && !has_mapping
        && !here.seg.flags.has(TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST);
    // Payload sent beyond it (a DATA_FIN alone is not data waiting for an ACK).
    let outstanding = conn.spaces[here.o].seen.high.is_some_and(|h| newer(h, v));
    match conn.last_dack[here.d] {
        Some(mut l) if l.value == v => {
            if pure && outstanding {
                l.repeats = l.repeats.saturating_add(1);
                ann.dup_dack = Some(DupDack { count: l.repeats, of_frame: l.frame });
                conn.dup_dacks += 1;
                if let Some(sf) = conn.subflows.get_mut(here.s) {
                    sf.dup_dacks += 1;
                }
                conn.last_dack[here.d] = Some(l);
            }
        }
        Some(l) if !newer(v, l.value) => {}
        _ => conn.last_dack[here.d] = Some(LastDack { value: v, frame, repeats: 0 }),
    }
}

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

use super::model::{newer, Connection, Held, HeldSeg, Late, LastDack, Pending, Reorder, SubOrder};
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

/// What the data level made of data a subflow delivered.
#[derive(Debug, Clone, Copy, Default)]
struct Verdict {
    ofo: Option<Ofo>,
    release: Option<Release>,
}

/// Signed distance in the 32-bit subflow sequence space.
fn sahead(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// A segment with payload from host `here.d` on subflow `here.s`: `len` bytes at relative
/// DSN `rel`. Its subflow delivers it to the data level as the receiving TCP would: at once
/// if it is next in the subflow's sequence (then also the segments that waited behind it),
/// later if it lies beyond a hole in the subflow sequence, never again if the subflow had
/// delivered it already (a TCP retransmission). The verdicts on data delivered later go on
/// the frames that carried it.
pub(super) fn on_segment(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    rel: u64,
    len: u32,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    let (d, frame) = (here.d, here.seg.frame);
    let Some(sf) = conn.subflows.get_mut(here.s) else { return };
    let Some(isn) = sf.isn[d] else { return };
    if len == 0 {
        return;
    }
    let seen = &mut conn.spaces[d].seen;
    let top = rel.wrapping_add(u64::from(len));
    if seen.high.is_none_or(|h| ahead(top, h) > 0) {
        seen.high = Some(top);
    }
    let Some(sf) = conn.subflows.get_mut(here.s) else { return };
    let ssn = here.seg.seq.wrapping_sub(isn);
    let from_one = sf.syn_seen[d] && sahead(ssn, 1) >= 0;
    let so = &mut sf.sub_order[d];
    let next = *so.next.get_or_insert(if from_one { 1 } else { ssn });
    let end = ssn.wrapping_add(len);
    if sahead(end, next) <= 0 {
        return; // the subflow delivered all of it before: TCP drops the copy
    }
    if sahead(ssn, next) > 0 {
        // Beyond a hole in the subflow's own sequence: TCP holds it back.
        if so.held.len() >= here.cfg.max_reorder_ranges {
            conn.cap(CapKind::ReorderRanges, events);
        } else {
            so.held.push(HeldSeg { ssn, len, rel, frame });
        }
        return;
    }
    let skip = next.wrapping_sub(ssn);
    let mut out = vec![(frame, rel.wrapping_add(u64::from(skip)), len - skip)];
    so.next = Some(end);
    release_subflow(so, &mut out);
    deliver_all(conn, here, out, Some(ann), events);
}

/// Takes the held segments that the subflow's next byte now reaches, in order, into `out`
/// as (frame, relative DSN, length) of their new data, and moves the next byte past them.
fn release_subflow(so: &mut SubOrder, out: &mut Vec<(u32, u64, u32)>) {
    let Some(mut n) = so.next else { return };
    while let Some(i) = so.held.iter().position(|h| sahead(h.ssn, n) <= 0) {
        let h = so.held.swap_remove(i);
        let end = h.ssn.wrapping_add(h.len);
        if sahead(end, n) > 0 {
            let skip = n.wrapping_sub(h.ssn);
            out.push((h.frame, h.rel.wrapping_add(u64::from(skip)), h.len - skip));
            n = end;
        }
    }
    so.next = Some(n);
}

/// Data delivered to the data level now, in this order: the verdict of this frame's own
/// data goes into `ann`, those of earlier frames onto `conn.late`.
fn deliver_all(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    out: Vec<(u32, u64, u32)>,
    mut ann: Option<&mut Annotation>,
    events: &mut Vec<Event>,
) {
    linux_ofo_queue(conn, here.d, &out);
    for (f, r, l) in out {
        let v = deliver(conn, here, r, l, f, events);
        match ann.as_deref_mut() {
            Some(a) if f == here.seg.frame => {
                a.ofo = v.ofo;
                a.release = v.release;
            }
            _ => {
                if let Some(o) = v.ofo {
                    conn.late.push((f, Late::Ofo(o)));
                }
                if let Some(r) = v.release {
                    conn.late.push((f, Late::Release(r)));
                }
            }
        }
    }
}

/// Counts the pieces of one delivery (`out`: what a subflow hands over at once) that the
/// Linux receiver puts into its MPTCP out-of-order queue (MPTcpExtOFOQueue): it moves a
/// subflow's whole batch first and takes what became contiguous out of that queue only
/// afterwards, so within a batch the in-order point moves only over the batch's own
/// in-sequence data.
fn linux_ofo_queue(conn: &mut Connection, d: usize, out: &[(u32, u64, u32)]) {
    let sp = &conn.spaces[d];
    let from_one = matches!(sp.base, Some((_, RelBase::Idsn)));
    let mut k = sp.seen.next;
    let mut n = 0u64;
    for &(_, r, l) in out {
        let e = r.wrapping_add(u64::from(l));
        let at = *k.get_or_insert(if from_one && ahead(r, 1) >= 0 { 1 } else { r });
        if ahead(r, at) > 0 {
            n += 1;
        } else if ahead(e, at) > 0 {
            k = Some(e);
        }
    }
    conn.linux_ofo_queue += n;
}

/// `len` bytes at relative DSN `rel` of host `here.d`'s data, first carried in `frame`,
/// reach the data level now (at the capture point): out of order (beyond a hole), in order
/// (and maybe releasing held data), or old (duplicate data).
fn deliver(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    rel: u64,
    len: u32,
    frame: u32,
    events: &mut Vec<Event>,
) -> Verdict {
    let mut v = Verdict::default();
    if len == 0 {
        return v;
    }
    let now = here.seg.time_ns;
    let from_one = matches!(conn.spaces[here.d].base, Some((_, RelBase::Idsn)));
    let seen = &mut conn.spaces[here.d].seen;
    let end = rel.wrapping_add(u64::from(len));
    // The in-order point starts at the first data byte (relative DSN 1) when the handshake
    // told the IDSN, else at the first data seen.
    let next = *seen.next.get_or_insert(if from_one && ahead(rel, 1) >= 0 { 1 } else { rel });
    if ahead(end, next) <= 0 {
        conn.duplicate_data += 1; // all of it reached the data level before
        return v;
    }
    if ahead(rel, next) > 0 {
        // Beyond the in-order point: out of order if it brings data not seen yet.
        let tail = seen.held.iter().next_back().is_none_or(|(_, h)| ahead(rel, h.end) >= 0);
        let before = if tail { seen.held_total() } else { seen.held_in(next, rel) };
        let known = if tail { 0 } else { seen.held_in(rel, end) };
        if known > 0 {
            conn.duplicate_data += 1;
        }
        if known >= u64::from(len) {
            return v; // a copy of data held already
        }
        let hole = (rel.wrapping_sub(next)).saturating_sub(before);
        seen.hold(rel, end, now, frame);
        let over = seen.held.len() > here.cfg.max_reorder_ranges;
        if over {
            seen.held.pop_last();
        }
        v.ofo = Some(Ofo { hole });
        conn.ofo_segments += 1;
        if let Some(sf) = conn.subflows.get_mut(here.s) {
            sf.ofo_segments += 1;
        }
        if over {
            conn.cap(CapKind::ReorderRanges, events);
        }
        return v;
    }
    if ahead(rel, next) < 0 {
        conn.duplicate_data += 1; // partly old
    }
    // At the in-order point: advance it over this data and whatever it makes contiguous.
    if let Some(r) = advance(seen, end, now) {
        v.release = Some(r);
        conn.reorder_releases += 1;
        conn.max_reorder_wait_ns = Some(conn.max_reorder_wait_ns.map_or(r.wait_ns, |m| m.max(r.wait_ns)));
    }
    v
}

/// A TCP ACK from host `here.d` on its subflow: data of the other host that the receiver
/// acknowledges there has been delivered by the subflow, seen here or not; what was held
/// behind it goes on to the data level; reinjections of data it acknowledges were spurious.
pub(super) fn subflow_ack(conn: &mut Connection, here: &Here<'_, '_>, events: &mut Vec<Event>) {
    if !here.ack {
        return;
    }
    let o = here.o;
    let Some(sf) = conn.subflows.get_mut(here.s) else { return };
    let Some(isn) = sf.isn[o] else { return };
    let acked = here.seg.ack.wrapping_sub(isn);
    // The highest TCP ACK for the other host's data here (within a window of the last one:
    // a garbled ACK moves nothing).
    let moved = match sf.tcp_acked[o] {
        None => (1..1 << 30).contains(&sahead(acked, 0)),
        Some((a, _)) => (1..1 << 30).contains(&sahead(acked, a)),
    };
    if moved {
        sf.tcp_acked[o] = Some((acked, here.seg.frame));
        // Originals this subflow now acknowledges: their reinjections were spurious.
        let s = here.s;
        decide(conn, here.seg.frame, ReinjectionOutcome::Spurious, |p| {
            p.space == o && p.orig.is_some_and(|(os, need)| os == s && sahead(acked, need) >= 0)
        });
    }
    let Some(sf) = conn.subflows.get_mut(here.s) else { return };
    let so = &mut sf.sub_order[o];
    let Some(next) = so.next else { return };
    // Only forward, and not past a window's worth (a stray or garbled ACK).
    let gap = sahead(acked, next);
    if gap <= 0 || gap > 1 << 30 {
        return;
    }
    so.next = Some(acked);
    let mut out = Vec::new();
    release_subflow(so, &mut out);
    if out.is_empty() {
        return;
    }
    // The data is the other host's: judge it in its own direction.
    let there = Here { d: o, o: here.d, ..*here };
    deliver_all(conn, &there, out, None, events);
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
///
/// Spurious if the receiver had the data already: at once if, when it was sent again, the
/// data was data-acked, or the subflow that first carried its last byte had acknowledged
/// those subflow bytes (TCP ACK); later if that subflow's TCP ACK comes before the data ACK
/// that covers the range. Needed if the data ACK covering it comes first: the receiver got
/// the data from the reinjection. Either ACK names the deciding frame ([`subflow_ack`],
/// [`on_data_ack`]).
pub(super) fn on_reinjection(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    _rel: u64,
    end: u64,
    ann: &mut Annotation,
    events: &mut Vec<Event>,
) {
    let sp = &conn.spaces[here.d];
    // The first carrier of the last byte, and how far its subflow must have acknowledged.
    let orig = sp.sent.range(..end).next_back().and_then(|(_, r)| {
        let back = r.end.wrapping_sub(end);
        let need = r.ssn_end?.wrapping_sub(u32::try_from(back).ok()?);
        Some((usize::from(r.subflow), need))
    });
    let by_data = sp.high_acked.is_some_and(|a| !newer(end, a)).then(|| {
        // The ACK that first covered the whole range holding the last byte, else the one
        // that moved the highest data ACK there.
        sp.sent.range(..end).next_back().filter(|(_, r)| r.acked).map_or(sp.high_acked_frame, |(_, r)| r.acked_frame)
    });
    let by_subflow = orig.and_then(|(s, need)| {
        let (acked, frame) = conn.subflows.get(s)?.tcp_acked[here.d]?;
        (sahead(acked, need) >= 0).then_some(frame)
    });
    if let Some(by) = by_data.or(by_subflow) {
        let o = Outcome { outcome: ReinjectionOutcome::Spurious, decided_in: by };
        ann.reinjection_outcome = Some(o);
        count(conn, here.s, o.outcome);
        return;
    }
    if conn.pending.len() >= here.cfg.max_pending_reinjections {
        conn.pending.remove(0);
        conn.cap(CapKind::PendingReinjections, events);
    }
    conn.pending.push(Pending { frame: here.seg.frame, time_ns: here.seg.time_ns, space: here.d, end, subflow: here.s, orig });
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

/// Host `here.d`'s data ACK moved the highest data ACK of space `here.o` to `ack`: the
/// reinjections it covers whose originals were not acknowledged on their subflow first were
/// needed; and the space's in-order point moves if the receiver has data the capture did
/// not see.
pub(super) fn on_data_ack(conn: &mut Connection, here: &Here<'_, '_>, ack: u64) {
    let o = here.o;
    if conn.spaces[o].seen.next.is_some_and(|n| ahead(ack, n) > 0) {
        advance(&mut conn.spaces[o].seen, ack, here.seg.time_ns);
    }
    decide(conn, here.seg.frame, ReinjectionOutcome::Needed, |p| p.space == o && !newer(p.end, ack));
}

/// Decides the pending reinjections `hit` selects as `outcome`, by `frame`.
fn decide(conn: &mut Connection, frame: u32, outcome: ReinjectionOutcome, hit: impl Fn(&Pending) -> bool) {
    if conn.pending.is_empty() {
        return;
    }
    let pending = std::mem::take(&mut conn.pending);
    let mut keep = Vec::with_capacity(pending.len());
    for p in pending {
        if !hit(&p) {
            keep.push(p);
            continue;
        }
        count(conn, p.subflow, outcome);
        conn.late.push((p.frame, Late::Outcome(Outcome { outcome, decided_in: frame })));
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

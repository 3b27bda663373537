//! The per-frame results, compact: one fixed-size record per MPTCP frame (what almost
//! every segment has: connection, subflow, direction, relative DSN and data ACK, lengths,
//! data RTT, the hole before out-of-order data, a duplicate data ACK) and, out of line, the
//! rarer rest (IDSN check, reinjection and its outcome, release, events, values too wide
//! for the record). Records sit in fixed-size chunks in frame order (frames are fed in
//! increasing order), found by binary search: no hashing, no reallocation of what is
//! stored, at most one chunk of slack.
//!
//! [`Store::get`] rebuilds the [`Annotation`] exactly as it was put.

use super::model::{Annotation, DataRtt, Direction, DupDack, FxMap, Ofo, RelBase};
use super::{Event, IdsnCheck, Outcome, Reinjection, Release};

/// Records per chunk.
const CHUNK: usize = 4096;

const DIR_FWD: u16 = 1 << 0;
const DIR_REV: u16 = 1 << 1;
const HAS_DSN: u16 = 1 << 2;
const HAS_DACK: u16 = 1 << 3;
const HAS_RTT: u16 = 1 << 4;
const HAS_OFO: u16 = 1 << 5;
const HAS_DUP: u16 = 1 << 6;
const HAS_IN_FLIGHT: u16 = 1 << 7;
const HAS_EXTRA: u16 = 1 << 8;
const HAS_CONN: u16 = 1 << 9;
const HAS_SUBFLOW: u16 = 1 << 10;

/// One frame's common results, its frame number included (48 bytes: packed to 4-byte
/// alignment, so the two 64-bit values cost no padding). What does not fit its field goes
/// out of line: a data RTT over 4.29 s (or negative), acknowledging a frame more than 65,535
/// frames back, a connection index past 65,535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C, packed(4))]
struct Rec {
    rel_dsn: u64,
    rel_dack: u64,
    frame: u32,
    data_len: u32,
    in_flight: u32,
    ofo_hole: u32,
    rtt_ns: u32,
    conn: u16,
    /// This frame minus the frame the data RTT's range was first sent in.
    rtt_back: u16,
    /// This frame minus the frame a duplicate data ACK repeats.
    dup_back: u16,
    dup_count: u16,
    flags: u16,
    subflow: u8,
    /// DSN base (bits 0-1) and data-ACK base (bits 2-3): 0 none, else the code.
    bases: u8,
}

/// The rarer results of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Extra {
    idsn_check: Option<IdsnCheck>,
    reinjection_of: Option<Reinjection>,
    reinjection_outcome: Option<Outcome>,
    release: Option<Release>,
    events: Vec<Event>,
    /// Values too wide for the record.
    wide_in_flight: Option<u64>,
    wide_ofo: Option<Ofo>,
    wide_dup: Option<DupDack>,
    wide_rtt: Option<DataRtt>,
    wide_subflow: Option<usize>,
    wide_conn: Option<usize>,
}

/// The per-frame results of a capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Store {
    chunks: Vec<Vec<Rec>>,
    extras: FxMap<u32, Extra>,
    len: usize,
}

fn base_code(b: Option<RelBase>) -> u8 {
    b.map_or(0, |b| b.code())
}

fn base_of(c: u8) -> Option<RelBase> {
    RelBase::from_code(c)
}

fn encode(frame: u32, a: &Annotation) -> (Rec, Option<Extra>) {
    let mut r = Rec { frame, ..Rec::default() };
    let mut x = Extra {
        idsn_check: a.idsn_check,
        reinjection_of: a.reinjection_of,
        reinjection_outcome: a.reinjection_outcome,
        release: a.release,
        events: a.events.clone(),
        ..Extra::default()
    };
    match a.connection.map(u16::try_from) {
        Some(Ok(c)) => {
            r.conn = c;
            r.flags |= HAS_CONN;
        }
        Some(Err(_)) => x.wide_conn = a.connection,
        None => {}
    }
    match a.subflow.map(u8::try_from) {
        Some(Ok(s)) => {
            r.subflow = s;
            r.flags |= HAS_SUBFLOW;
        }
        Some(Err(_)) => x.wide_subflow = a.subflow,
        None => {}
    }
    r.flags |= match a.direction {
        Some(Direction::Forward) => DIR_FWD,
        Some(Direction::Reverse) => DIR_REV,
        None => 0,
    };
    if let Some(d) = a.rel_dsn {
        r.rel_dsn = d;
        r.flags |= HAS_DSN;
    }
    if let Some(d) = a.rel_dack {
        r.rel_dack = d;
        r.flags |= HAS_DACK;
    }
    r.data_len = a.data_len;
    r.bases = base_code(a.dsn_base) | base_code(a.dack_base) << 2;
    match a.in_flight.map(u32::try_from) {
        Some(Ok(f)) => {
            r.in_flight = f;
            r.flags |= HAS_IN_FLIGHT;
        }
        Some(Err(_)) => x.wide_in_flight = a.in_flight,
        None => {}
    }
    if let Some(t) = a.data_rtt {
        match (u32::try_from(t.ns), frame.checked_sub(t.acked_frame).map(u16::try_from)) {
            (Ok(ns), Some(Ok(back))) => {
                r.rtt_ns = ns;
                r.rtt_back = back;
                r.flags |= HAS_RTT;
            }
            _ => x.wide_rtt = Some(t),
        }
    }
    if let Some(o) = a.ofo {
        match u32::try_from(o.hole) {
            Ok(h) => {
                r.ofo_hole = h;
                r.flags |= HAS_OFO;
            }
            Err(_) => x.wide_ofo = Some(o),
        }
    }
    if let Some(d) = a.dup_dack {
        match (u16::try_from(d.count), frame.checked_sub(d.of_frame).map(u16::try_from)) {
            (Ok(n), Some(Ok(back))) => {
                r.dup_count = n;
                r.dup_back = back;
                r.flags |= HAS_DUP;
            }
            _ => x.wide_dup = Some(d),
        }
    }
    let extra = (x != Extra::default()).then_some(x);
    if extra.is_some() {
        r.flags |= HAS_EXTRA;
    }
    (r, extra)
}

fn decode(r: &Rec, x: Option<&Extra>) -> Annotation {
    let has = |f: u16| r.flags & f != 0;
    let mut a = Annotation {
        connection: has(HAS_CONN).then_some(r.conn as usize),
        subflow: has(HAS_SUBFLOW).then_some(r.subflow as usize),
        direction: if has(DIR_FWD) {
            Some(Direction::Forward)
        } else if has(DIR_REV) {
            Some(Direction::Reverse)
        } else {
            None
        },
        rel_dsn: has(HAS_DSN).then_some(r.rel_dsn),
        data_len: r.data_len,
        rel_dack: has(HAS_DACK).then_some(r.rel_dack),
        dsn_base: base_of(r.bases & 3),
        dack_base: base_of(r.bases >> 2 & 3),
        in_flight: has(HAS_IN_FLIGHT).then_some(u64::from(r.in_flight)),
        data_rtt: has(HAS_RTT).then_some(DataRtt { ns: i128::from(r.rtt_ns), acked_frame: r.frame - u32::from(r.rtt_back) }),
        ofo: has(HAS_OFO).then_some(Ofo { hole: u64::from(r.ofo_hole) }),
        dup_dack: has(HAS_DUP).then_some(DupDack { count: u32::from(r.dup_count), of_frame: r.frame - u32::from(r.dup_back) }),
        ..Annotation::default()
    };
    if let Some(x) = x {
        a.idsn_check = x.idsn_check;
        a.reinjection_of = x.reinjection_of;
        a.reinjection_outcome = x.reinjection_outcome;
        a.release = x.release;
        a.events = x.events.clone();
        a.connection = a.connection.or(x.wide_conn);
        a.subflow = a.subflow.or(x.wide_subflow);
        a.in_flight = a.in_flight.or(x.wide_in_flight);
        a.data_rtt = a.data_rtt.or(x.wide_rtt);
        a.ofo = a.ofo.or(x.wide_ofo);
        a.dup_dack = a.dup_dack.or(x.wide_dup);
    }
    a
}

impl Store {
    /// Gives back the unused room of the last chunk (once the capture has been read).
    pub(super) fn shrink(&mut self) {
        if let Some(c) = self.chunks.last_mut() {
            c.shrink_to_fit();
        }
        self.extras.shrink_to_fit();
    }

    /// Frames stored.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Stores `a` for `frame`, which must be higher than every frame stored.
    pub(super) fn push(&mut self, frame: u32, a: &Annotation) {
        let (r, x) = encode(frame, a);
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            self.chunks.push(Vec::with_capacity(CHUNK));
        }
        if let Some(c) = self.chunks.last_mut() {
            c.push(r);
        }
        if let Some(x) = x {
            self.extras.insert(frame, x);
        }
        self.len += 1;
    }

    fn find(&self, frame: u32) -> Option<(usize, usize)> {
        let ci = self.chunks.partition_point(|c| c.first().is_some_and(|f| f.frame <= frame)).checked_sub(1)?;
        let c = &self.chunks[ci];
        let i = c.binary_search_by_key(&frame, |e| e.frame).ok()?;
        Some((ci, i))
    }

    /// The annotation of `frame`, as stored.
    pub(super) fn get(&self, frame: u32) -> Option<Annotation> {
        let (ci, i) = self.find(frame)?;
        let r = &self.chunks[ci][i];
        Some(decode(r, (r.flags & HAS_EXTRA != 0).then(|| self.extras.get(&frame)).flatten()))
    }

    /// Changes the stored annotation of `frame` (a verdict reached later); false if the
    /// frame is not stored.
    pub(super) fn update(&mut self, frame: u32, f: impl FnOnce(&mut Annotation)) -> bool {
        let Some(mut a) = self.get(frame) else { return false };
        f(&mut a);
        let (r, x) = encode(frame, &a);
        let Some((ci, i)) = self.find(frame) else { return false };
        self.chunks[ci][i] = r;
        match x {
            Some(x) => {
                self.extras.insert(frame, x);
            }
            None => {
                self.extras.remove(&frame);
            }
        }
        true
    }

    /// Bytes the store takes (records, their chunks, the out-of-line part), roughly.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> usize {
        let recs = self.chunks.iter().map(|c| c.capacity()).sum::<usize>() * std::mem::size_of::<Rec>();
        let extra = self.extras.capacity() * (std::mem::size_of::<(u32, Extra)>() + 1)
            + self.extras.values().map(|x| x.events.capacity() * std::mem::size_of::<Event>()).sum::<usize>();
        recs + extra
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::mptcp::analysis::{HandoverReason, ReinjectionKind, ReinjectionOutcome};

    #[test]
    fn record_is_small() {
        assert_eq!(std::mem::size_of::<Rec>(), 48);
    }

    /// Whatever goes in comes out, wide values included; lookups by frame across chunks.
    #[test]
    fn round_trip() {
        let full = Annotation {
            connection: Some(3),
            subflow: Some(1),
            direction: Some(Direction::Reverse),
            rel_dsn: Some(u64::MAX - 5),
            data_len: 1448,
            rel_dack: Some(77),
            dsn_base: Some(RelBase::Idsn),
            dack_base: Some(RelBase::FirstSeen),
            idsn_check: Some(IdsnCheck::Mismatch { expected: 9, got: 8 }),
            data_rtt: Some(DataRtt { ns: -5, acked_frame: 2 }),
            reinjection_of: Some(Reinjection { frame: 1, subflow: 0, kind: ReinjectionKind::OtherSubflow }),
            in_flight: Some(1 << 40),
            ofo: Some(Ofo { hole: 1 << 33 }),
            release: Some(Release { wait_ns: 7, frames: 2, bytes: 3, oldest_frame: 1 }),
            dup_dack: Some(DupDack { count: 70_000, of_frame: 4 }),
            reinjection_outcome: Some(Outcome { outcome: ReinjectionOutcome::Spurious, decided_in: 9 }),
            events: vec![Event::Handover { from_subflow: 0, to_subflow: 1, reason: HandoverReason::Silence { gap_ns: 1 }, latency_ns: Some(2) }],
        };
        let wide = Annotation { connection: Some(1 << 40), subflow: Some(300), data_rtt: Some(DataRtt { ns: i128::MAX, acked_frame: 1 }), ..Annotation::default() };
        let plain = Annotation { connection: Some(0), subflow: Some(0), direction: Some(Direction::Forward), rel_dsn: Some(1), data_len: 10, in_flight: Some(10), ofo: Some(Ofo { hole: 0 }), ..Annotation::default() };
        // A duplicate data ACK of the frame before (inline) and of frame 1 (far back: out of line).
        let dup = |f: u32| Annotation { dup_dack: Some(DupDack { count: 2, of_frame: f }), ..plain.clone() };
        let mut s = Store::default();
        for f in 1..10_000u32 {
            let a = match f % 3 {
                0 => &full,
                1 => &wide,
                _ => &plain,
            };
            s.push(f * 2, a);
        }
        assert_eq!(s.len(), 9_999);
        for f in 1..10_000u32 {
            let want = match f % 3 {
                0 => &full,
                1 => &wide,
                _ => &plain,
            };
            assert_eq!(s.get(f * 2).as_ref(), Some(want), "frame {}", f * 2);
            assert_eq!(s.get(f * 2 + 1), None);
        }
        assert_eq!(s.get(0), None);
        let mut d = Store::default();
        d.push(100, &dup(99));
        d.push(100_000, &dup(1));
        assert_eq!(d.get(100), Some(dup(99)));
        assert_eq!(d.get(100_000), Some(dup(1)));
        assert_eq!(d.extras.len(), 1);
        // A data RTT inline (under 4.29 s, its range sent at most 65,535 frames back), and
        // out of line: too long, negative, too far back; a connection index past u16.
        let rtt = |ns: i128, acked_frame: u32| Annotation { data_rtt: Some(DataRtt { ns, acked_frame }), ..plain.clone() };
        let cases = [
            (200_000, rtt(4_000_000_000, 200_000 - 65_535), false),
            (300_000, rtt(4_294_967_296, 299_999), true),
            (300_001, rtt(-1, 299_999), true),
            (400_000, rtt(1, 400_000 - 65_536), true),
            (400_001, Annotation { connection: Some(65_536), ..plain.clone() }, true),
            (400_002, Annotation { connection: Some(65_535), ..plain.clone() }, false),
        ];
        for (f, a, _) in &cases {
            d.push(*f, a);
        }
        for (f, a, wide) in &cases {
            assert_eq!(d.get(*f).as_ref(), Some(a), "frame {f}");
            assert_eq!(d.extras.contains_key(f), *wide, "frame {f}");
        }
        // Plain records carry nothing out of line.
        assert_eq!(s.extras.len(), 6_666);
        assert!(s.update(4, |a| a.release = full.release));
        assert_eq!(s.get(4).unwrap().release, full.release);
        assert!(s.update(4, |a| a.release = None));
        assert!(!s.extras.contains_key(&4));
        assert!(!s.update(5, |_| {}));
    }
}

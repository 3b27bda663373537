//! Streaming capture generation for the benchmark: interleaved sessions written one frame at a
//! time with tests/support's `PcapWriter`, `Flow` and `TcpFlow` (never the whole capture in
//! memory). The session generators are in `ordinary.rs` (everyday traffic) and `apple.rs`
//! (the protocols appleshark dissects).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Duration;

use crate::support::{Dir, LinkType, PcapWriter, Rng, TcpFlow};

/// One conversation's frames, emitted interleaved with other sessions'.
pub struct Session {
    pub kind: &'static str,
    pub frames: Vec<Vec<u8>>,
    /// What the generator put in it, for checking tshark's counts (e.g. "apns.message" → 3).
    pub record: Vec<(&'static str, u64)>,
}

/// Everything a session generator needs: randomness, a pool of random bytes, counters for
/// unique addresses and ports.
pub struct Ctx {
    pub rng: Rng,
    pool: Vec<u8>,
    pub seq: u32,
}

impl Ctx {
    pub fn new(seed: u64) -> Ctx {
        let mut rng = Rng::new(seed);
        let pool = rng.bytes(1 << 20);
        Ctx { rng, pool, seq: 0 }
    }
    /// `n` random bytes (slices of the pool at random offsets, 64 KiB at most each).
    pub fn random(&mut self, n: usize) -> Vec<u8> {
        let mut o = Vec::with_capacity(n);
        while o.len() < n {
            let k = (n - o.len()).min(1 << 16);
            let off = self.rng.below((self.pool.len() - k) as u64) as usize;
            o.extend_from_slice(&self.pool[off..off + k]);
        }
        o
    }
    /// Random bytes, `lo..=hi` of them.
    pub fn random_in(&mut self, lo: u64, hi: u64) -> Vec<u8> {
        let n = self.range(lo, hi) as usize;
        self.random(n)
    }
    /// Random lowercase letters, `lo..=hi` of them.
    pub fn text_in(&mut self, lo: u64, hi: u64) -> Vec<u8> {
        let n = self.range(lo, hi) as usize;
        self.text(n)
    }
    /// Random printable ASCII (HTTP bodies, names).
    pub fn text(&mut self, n: usize) -> Vec<u8> {
        self.random(n).iter().map(|b| b'a' + b % 26).collect()
    }
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.rng.below(hi - lo + 1)
    }
    /// A fresh number for unique addresses/ports.
    pub fn next(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }
    /// A client address in 10.0.0.0/8 that differs per call.
    pub fn client_ip(&mut self) -> String {
        let n = self.next();
        format!("10.{}.{}.{}", (n >> 16) & 0xff, (n >> 8) & 0xff, 1 + (n & 0x7f))
    }
    pub fn eph_port(&mut self) -> u16 {
        self.range(32768, 60999) as u16
    }
}

/// Sends `data` in `dir` as MSS-sized segments, with a pure ACK from the peer after every
/// `ack_every` segments (and after the last). `opts(flow, dir, offset, len, is_ack)` gives
/// each segment's TCP options (MPTCP's DSS); `offset` is the position in `data`.
pub fn tcp_send(
    t: &mut TcpFlow,
    dir: Dir,
    data: &[u8],
    mss: usize,
    ack_every: usize,
    out: &mut Vec<Vec<u8>>,
    opts: &mut dyn FnMut(&TcpFlow, Dir, usize, usize, bool) -> Vec<u8>,
) {
    let chunks: Vec<(usize, &[u8])> = data.chunks(mss).enumerate().map(|(i, c)| (i * mss, c)).collect();
    let n = chunks.len();
    for (i, (off, c)) in chunks.into_iter().enumerate() {
        let o = opts(t, dir, off, c.len(), false);
        out.push(t.send(dir, c, &o));
        if (i + 1) % ack_every == 0 || i + 1 == n {
            let o = opts(t, dir.rev(), off + c.len(), 0, true);
            out.push(t.ack(dir.rev(), &o));
        }
    }
}

/// No TCP options.
pub fn no_opts(_: &TcpFlow, _: Dir, _: usize, _: usize, _: bool) -> Vec<u8> {
    Vec::new()
}

/// How long a generated capture is.
#[derive(Clone, Copy)]
pub enum Stop {
    /// This many frames (the last sessions are cut off).
    Packets(u64),
    /// This many sessions, each emitted completely.
    Sessions(u64),
}

/// A weighted mix of session kinds: `(share of packets, generator)`.
pub type Gen = fn(&mut Ctx) -> Session;

/// What was written.
#[derive(Default)]
pub struct Written {
    pub packets: u64,
    pub bytes: u64,
    /// Packets per session kind.
    pub per_kind: BTreeMap<&'static str, u64>,
    /// Sum of the sessions' records (complete sessions only).
    pub record: BTreeMap<&'static str, u64>,
}

/// Writes a capture of `concurrent` interleaved sessions drawn from `mix` so that each kind
/// gets its share of the packets (largest deficit first).
pub fn write_capture(path: &Path, seed: u64, mix: &[(f64, &'static str, Gen)], stop: Stop, concurrent: usize) -> Written {
    let file = BufWriter::with_capacity(1 << 20, File::create(path).expect("create capture"));
    let mut w = PcapWriter::new(file, LinkType::Ethernet).expect("pcap header");
    let mut ctx = Ctx::new(seed);
    let mut clock = Duration::from_secs(1_700_000_000);
    let step = Duration::from_micros(20);
    let mut assigned = vec![0u64; mix.len()];
    let mut created = 0u64;
    let mut written = Written::default();
    let mut active: Vec<(Session, usize)> = Vec::new();
    let new_session = |ctx: &mut Ctx, assigned: &mut Vec<u64>, created: &mut u64| -> Option<Session> {
        if let Stop::Sessions(n) = stop {
            if *created >= n {
                return None;
            }
        }
        let total: u64 = assigned.iter().sum::<u64>() + 1;
        let k = (0..mix.len())
            .max_by(|&a, &b| {
                let da = mix[a].0 * total as f64 - assigned[a] as f64;
                let db = mix[b].0 * total as f64 - assigned[b] as f64;
                da.partial_cmp(&db).unwrap()
            })
            .unwrap();
        let s = (mix[k].2)(ctx);
        assigned[k] += s.frames.len() as u64;
        *created += 1;
        Some(s)
    };
    for _ in 0..concurrent {
        if let Some(s) = new_session(&mut ctx, &mut assigned, &mut created) {
            active.push((s, 0));
        }
    }
    while !active.is_empty() {
        if let Stop::Packets(n) = stop {
            if written.packets >= n {
                break;
            }
        }
        let i = ctx.rng.below(active.len() as u64) as usize;
        let (s, next) = &mut active[i];
        let f = &s.frames[*next];
        w.write_packet(clock, f).expect("write frame");
        clock += step;
        written.packets += 1;
        written.bytes += f.len() as u64 + 16;
        *written.per_kind.entry(s.kind).or_default() += 1;
        *next += 1;
        if *next == s.frames.len() {
            let (done, _) = active.swap_remove(i);
            for (k, v) in done.record {
                *written.record.entry(k).or_default() += v;
            }
            if let Some(s) = new_session(&mut ctx, &mut assigned, &mut created) {
                active.push((s, 0));
            }
        }
    }
    w.into_inner().expect("flush capture");
    written
}

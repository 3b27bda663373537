//! Shared test support: capture fixtures are generated here, never checked in.
//!
//! * [`pcap`]: classic pcap writer (ns timestamps) and the [`Capture`] collector.
//! * [`packet`]: Ethernet/IPv4/IPv6/UDP/TCP builders with correct checksums,
//!   plus [`Flow`] (UDP) and [`TcpFlow`] (TCP with sequence tracking).
//!
//! Use from an integration test with `mod support;`.
#![allow(dead_code, unused_imports)]

pub mod gen_apns;
pub mod gen_facetime;
pub mod gen_ids;
pub mod gen_mptcp;
pub mod gen_packed;
pub mod packet;
pub mod pcap;
pub mod samples;
pub mod tls;
pub mod tshark;

pub use packet::{opt, Dir, Flow, IpParams, TcpFlow, TcpHeader, ACK, FIN, PSH, RST, SYN};
pub use pcap::{Capture, LinkType, PcapWriter};
pub use tshark::Tshark;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh path `<tmp>/appleshark-<stem>-<pid>-<n>.pcap`, unique within
/// this process and across concurrently running test binaries.
pub fn temp_pcap_path(stem: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("appleshark-{stem}-{}-{n}.pcap", std::process::id()))
}

/// A small deterministic PRNG (xorshift64*) so generated fixtures are the same on every run.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    /// A value in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

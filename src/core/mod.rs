//! Parsing and analysis cores: pure Rust, no `unsafe`, no epan types.
//!
//! Every parser works zero-copy over the captured bytes (`&[u8]`) and checks every length
//! read from the packet against what is really there before using it. Each core returns a
//! span-annotated model (see [`span`]) plus the anomalies it found; the dissectors in
//! `crate::dissectors` turn those into Wireshark trees and expert items.
#![forbid(unsafe_code)]

pub mod apns;
pub mod apple;
pub mod bplist;
pub mod enums;
pub mod facetime;
pub mod frame;
pub mod mptcp;
pub mod snatmap;
pub mod span;
pub mod tls_hello;
#[cfg(test)]
pub(crate) mod test_rng;
#[doc(hidden)]
pub mod fuzz_bodies;

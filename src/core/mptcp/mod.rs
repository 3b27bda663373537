//! Multipath TCP (RFC 6824 v0, RFC 8684 v1): option parsing, key derivation and a
//! first-pass connection analyser whose per-frame results can be read back later.
//!
//! * [`options`]: walk a TCP options area, parse every kind-30 option with spans.
//! * [`keys`]: token and IDSN from a 64-bit key (SHA-1 for v0, SHA-256 for v1).
//! * frames: [`crate::core::frame`]; ClientHello server names: [`crate::core::tls_hello`].
//! * [`analysis`]: group subflows into connections, relative DSNs, data RTT,
//!   reinjections, in-flight bytes, handovers and fallbacks; all state bounded.
//!
//! Relative numbering follows Wireshark's `mptcp.dsn` convention: relative DSN =
//! DSN − IDSN, so the first data byte of each direction is 1.

pub mod analysis;
pub mod keys;
pub mod options;

pub use keys::{derive, KeyMaterial};
pub use options::{parse_options, MptcpBody, MptcpOption, OptionAnomaly, ParsedOptions, Version};
pub use analysis::{Analyser, Annotation, Config, Connection, Direction, Event, Segment, TcpFlags};

#[cfg(test)]
mod capture_tests;

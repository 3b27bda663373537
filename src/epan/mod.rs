//! The only `unsafe` code of appleshark: bindings to epan and a small, typed, safe layer over
//! them, so that dissectors (`crate::dissectors`) are written without `unsafe`.
//!
//! - [`registry`]: declarative tables of protocols, fields, subtrees and expert infos;
//! - [`packet`]: the packet (bytes, metadata, columns) and tree building;
//! - [`conversation`]: per-conversation Rust state with file-scope lifetime;
//! - [`prefs`]: preferences (uint, bool, range);
//! - [`handoff`]: heuristics, port tables, handles, calling another dissector by name;
//! - [`media`]: a shared signalling/media UDP port: conversation ownership, RTP set-up;
//! - [`ft_stats`]: the FaceTime tap and its stats tree (`-z facetime_calls,tree`);
//! - [`filestate`]: per-capture-file Rust state;
//! - [`entry`]: the `extern "C"` entry points, each catching panics;
//! - [`pdu`], [`uat`], [`stats_tree`]: TCP PDU helpers, UAT
//!   tables, stats trees (APNs);
//! - [`post`]: post-dissectors and the frame's link-layer encapsulation;
//! - [`mptcp_stats`]: one-row-per-key statistics tables (tshark -z, Statistics menu);
//! - [`version`]: every difference between Wireshark versions, in one place;
//! - `plugin`: the symbols Wireshark's plugin loader looks for.

pub mod conversation;
pub mod entry;
pub mod filestate;
pub mod ft_stats;
pub mod handoff;
pub mod media;
pub mod packet;
pub mod pdu;
pub mod mptcp_stats;
pub mod post;
pub mod prefs;
pub mod registry;
pub mod stats_tree;
pub mod sys;
pub mod uat;
pub mod version;
#[cfg(not(test))]
mod plugin;

pub use entry::{Dissector, Heuristic, TcpPdus};
pub use handoff::{add_heuristic, Handle};
pub use packet::{FieldValue, Item, Packet, Time, Tree};
pub use prefs::{PrefBool, PrefRange, PrefUint};
pub use registry::{
    AbsTime, Base, EttId, Expert, ExpertId, Field, FieldKind, FieldType, FrameLink, FrameNum, Group, Hf, HfId, Protocol, RelTime,
    Severity,
};
pub(crate) use registry::{experts, fields, subtrees};

//! The only `unsafe` code of appleshark: bindings to epan and a small, typed, safe layer over
//! them, so that dissectors (`crate::dissectors`) are written without `unsafe`.
//!
//! - [`registry`]: declarative tables of protocols, fields, subtrees and expert infos;
//! - [`packet`]: the packet (bytes, metadata, columns) and tree building;
//! - [`conversation`]: per-conversation Rust state with file-scope lifetime;
//! - [`prefs`]: preferences (uint, bool, range);
//! - [`handoff`]: heuristics, port tables, handles, calling another dissector by name;
//! - [`media`]: a shared signalling/media UDP port: conversation ownership, RTP set-up;
//! - [`filestate`]: per-capture-file Rust state;
//! - [`entry`]: the `extern "C"` entry points, each catching panics;
//! - [`pdu`], [`uat`]: TCP PDU helpers, UAT tables;
//! - [`column`]: prepending to a read-only Info column;
//! - [`post`]: post-dissectors (those reading the frame's own TCP segment, and any other) and
//!   the frame's link-layer encapsulation;
//! - [`tap`]: taps with typed records, stats trees and one-row-per-key statistics tables
//!   (tshark -z, Statistics menu);
//! - [`version`]: every difference between Wireshark versions, in one place;
//! - [`plugin`]: version checks and registration for the plugin's entry points (`crate::plugin`).
//!
//! Each C shim `wireshark-headers/shim_<name>.c` serves the module of the same name
//! (`shim.c`: the calls several modules share: exceptions caught, macros made functions).

pub mod cbuf;
pub mod column;
pub mod conversation;
pub mod entry;
pub mod filestate;
pub mod handoff;
pub mod media;
pub mod packet;
pub mod pdu;
pub mod plugin;
pub mod post;
pub mod prefs;
pub mod registry;
pub mod sys;
pub mod tap;
pub mod uat;
pub mod version;

pub use cbuf::CBuf;
pub use entry::{Dissector, Heuristic, TcpPdus};
pub use handoff::{add_heuristic, Handle};
pub use packet::{FieldValue, Item, Packet, Time, Tree};
pub use prefs::{PrefBool, PrefRange, PrefUint};
pub use registry::{
    AbsTime, Base, Ett, EttId, Expert, ExpertId, Field, FieldKind, FieldType, FrameLink, FrameNum, Group, Hf, HfId, Protocol, RelTime,
    Severity, Subtree, Unit,
};
pub(crate) use registry::{experts, fields, subtrees};

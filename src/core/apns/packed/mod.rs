//! The packed courier framing `apns-pack-v1` (docs/apns.md, "Packed framing"; facts from
//! OpenBubbles' rustpush, `src/aps.rs`: `APSPackedEncoder`, `APSPackedDecoder`,
//! `APSItemCache`, `open_socket`).
//!
//! - [`wire`]: tagged numbers (a few bits of a tag byte, else a varint) and the message
//!   header, for TCP reassembly ([`wire::pdu_len`]).
//! - [`cache`]: a direction's key cache (32 entries) and value cache (size-bounded).
//! - [`decode`]: one message against a direction's caches, zero-copy, with typed
//!   [`decode::Anomaly`]s, every resolution said ([`decode::Key`], [`decode::ValueFrom`]).
//! - [`state`]: per connection, both directions' caches updated in capture order on the
//!   first pass and a record per message of what its lookups resolved to, replayed on
//!   later passes ([`state::Conn`]).
//! - [`classic`]: a packed message as the classic framing's message (items by id), for the
//!   links, the device summary and the statistics the two framings share.
//! - [`probe`]: packed or classic, from a connection's first bytes.

pub mod cache;
pub mod classic;
pub mod decode;
pub mod probe;
pub mod state;
pub mod wire;

pub use cache::{DEFAULT_VALUE_CACHE_SIZE, KEY_CACHE_LEN};
pub use classic::classic_view;
pub use decode::{Anomaly, AnomalyKind, Attr, Item, Key, KeyFrom, Loc, Message, Node, Num, ValueFrom, ValueSource, ValueType};
pub use probe::{heuristic_accepts, looks_packed};
pub use state::{Conn, SizeSource, Sizes};
pub use wire::pdu_len;

#[cfg(test)]
mod tests;

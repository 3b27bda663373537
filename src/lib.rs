//! appleshark: a Wireshark plugin for Apple's real-time protocols.
//!
//! Three layers, each a module:
//! - [`core`]: pure-Rust parsers and analysers (`#![forbid(unsafe_code)]`, no epan types);
//! - [`epan`]: bindings to Wireshark's epan and the safe layer over them (the only `unsafe`);
//! - [`dissectors`]: thin glue from a core's results to Wireshark's tree, one file per protocol;
//!
//! and `plugin`, the symbols Wireshark's plugin loader looks for, which registers the
//! dissectors through epan (so epan never reaches up to `dissectors`).
//!
//! SPDX-License-Identifier: GPL-2.0-or-later

pub mod core;
pub mod dissectors;
pub mod epan;
#[cfg(not(test))]
mod plugin;

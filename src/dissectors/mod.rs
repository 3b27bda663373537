//! Thin glue from each core's results to Wireshark's tree: one file per protocol, no `unsafe`.
//!
//! To add a protocol: write its core in `src/core`, a file here with its `static` field,
//! subtree and expert tables plus `register()`/`handoff()`, and list it below.
#![forbid(unsafe_code)]

pub mod apns;
pub mod apns_tls;
pub mod facetime;
pub mod mptcp_annot;
pub mod snatmap;

/// Wireshark's register_protoinfo phase: protocols, fields, preferences.
pub fn register_all() {
    snatmap::register();
    apns::register();
    apns_tls::register();
    facetime::register();
    mptcp_annot::register();
}

/// Wireshark's handoff phase: ports, heuristics, handles of other dissectors.
pub fn handoff_all() {
    snatmap::handoff();
    apns::handoff();
    apns_tls::handoff();
    facetime::handoff();
    mptcp_annot::handoff();
}

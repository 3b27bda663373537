//! Thin glue from each core's results to Wireshark's tree: one file per protocol, no `unsafe`.
//!
//! To add a protocol: write its core in `src/core`, a file here that declares its fields,
//! subtrees and expert infos once each (`epan::fields!`, `subtrees!`, `experts!`) plus
//! `register()`/`handoff()`, and list it below. A new field is one line of its protocol's
//! `fields!` block (kind, name, abbreviation, display options, description), used with
//! `Tree::add(&HF_…, span, value)`.
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

/// The fields each protocol declares in its `fields!` block (APNs's per-command item fields,
/// built from the core's item tables at registration, are not among them), by protocol filter
/// name: for tests of what `tshark -G fields` cannot show, such as a frame link's arrow.
pub fn declared_fields() -> [(&'static str, &'static [crate::epan::Field]); 5] {
    [
        ("snatmap", snatmap::FIELDS),
        ("apns", apns::fields::FIELDS),
        ("apns.tls", apns_tls::FIELDS),
        ("facetime", facetime::FIELDS),
        ("mptcp_annot", mptcp_annot::FIELDS),
    ]
}

/// Every protocol's subtree table (`subtrees!`), for the test that walks all fields.
pub fn declared_subtrees() -> [(&'static str, &'static [crate::epan::Ett]); 5] {
    [
        ("snatmap", snatmap::ETTS),
        ("apns", apns::fields::ETTS),
        ("apns.tls", apns_tls::ETTS),
        ("facetime", facetime::ETTS),
        ("mptcp_annot", mptcp_annot::ETTS),
    ]
}

//! Every difference between Wireshark versions that Rust code has to know about, in one place.
//!
//! build.rs reads `ws_version.h` of the headers it builds against and sets the cfgs
//! `ws_ge_4_4` / `ws_ge_4_6`; bindgen regenerates the raw types per version. Most signature
//! changes (gboolean → bool in return types, guint32 → uint64_t boolean values) are absorbed
//! with `as _` casts at the call sites in this module's neighbours; what cannot be inferred
//! from a signature is spelled out here. The per-version notes are in
//! `wireshark-headers/VERSIONS.md`.

use super::sys;

include!(concat!(env!("OUT_DIR"), "/ws_version.rs"));

/// What a heuristic dissector returns: `gboolean` in 4.0, `bool` from 4.4 on (taken from the
/// function-pointer type in wrapper.h, so bindgen resolves it).
pub type HeurRet = sys::appleshark_heur_ret_t;

/// Storage behind a boolean preference: `gboolean` in 4.0, `bool` from 4.4 on.
#[cfg(ws_ge_4_4)]
pub type PrefBoolRepr = bool;
#[cfg(not(ws_ge_4_4))]
pub type PrefBoolRepr = sys::gboolean;

#[cfg(ws_ge_4_4)]
pub const fn pref_bool(b: bool) -> PrefBoolRepr {
    b
}
#[cfg(not(ws_ge_4_4))]
pub const fn pref_bool(b: bool) -> PrefBoolRepr {
    b as sys::gboolean
}

/// Converts a boolean preference's storage back to `bool`.
#[allow(clippy::unnecessary_cast)]
pub fn pref_bool_get(v: PrefBoolRepr) -> bool {
    (v as i32) != 0
}

/// The `major.minor` this plugin was built for, as shown in messages.
pub fn ws_version() -> String {
    format!("{WS_MAJOR}.{WS_MINOR}")
}

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

/// Point releases that changed the epan ABI inside a stable branch. Wireshark's loader
/// checks only major.minor (`plugin_want_major`/`plugin_want_minor`), so a plugin built on one
/// side of such a release loads on the other side and crashes. Each entry `(major, minor,
/// micro)` is the first release of the new ABI. Sources and the rule:
/// `wireshark-headers/VERSIONS.md`, "Point releases that break plugins".
pub const ABI_BREAKS: &[(i32, i32, i32)] = &[
    // Wireshark issue 18908: the 4.0.5 release changed the ABI that 4.0.0–4.0.4 plugins
    // were built for (and back).
    (4, 0, 5),
];

/// Why a plugin built against Wireshark `built` must not register in a running libwireshark
/// `running` (both `(major, minor, micro)`), or `None` when it may. Incompatible: another
/// major.minor (Wireshark refuses that itself; checked again in case it is loaded some other
/// way), or a release of [`ABI_BREAKS`] between the two versions. Any other difference in
/// micro — older or newer — is accepted, as Wireshark does.
pub fn load_refusal(built: (i32, i32, i32), running: (i32, i32, i32)) -> Option<String> {
    let v = |(a, b, c): (i32, i32, i32)| format!("{a}.{b}.{c}");
    if (built.0, built.1) != (running.0, running.1) {
        return Some(format!(
            "built for Wireshark {}, running in {}: a plugin only works in the major.minor it was built for",
            v(built),
            v(running)
        ));
    }
    let (lo, hi) = if built <= running { (built, running) } else { (running, built) };
    ABI_BREAKS.iter().find(|&&b| lo < b && b <= hi).map(|&b| {
        format!(
            "built for Wireshark {}, running in {}: Wireshark {} changed the plugin ABI within {}.{} \
             (Wireshark issue 18908); install the appleshark build for this Wireshark or rebuild it \
             against this Wireshark's headers",
            v(built),
            v(running),
            v(b),
            b.0,
            b.1,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::load_refusal;

    #[test]
    fn same_version_and_other_micros_of_one_abi_load() {
        assert_eq!(load_refusal((4, 0, 17), (4, 0, 17)), None);
        assert_eq!(load_refusal((4, 0, 17), (4, 0, 5)), None);
        assert_eq!(load_refusal((4, 0, 5), (4, 0, 18)), None);
        assert_eq!(load_refusal((4, 0, 0), (4, 0, 4)), None);
        assert_eq!(load_refusal((4, 4, 18), (4, 4, 0)), None);
        assert_eq!(load_refusal((4, 6, 9), (4, 6, 12)), None);
    }

    #[test]
    fn a_known_abi_break_between_built_and_running_refuses() {
        let newer = load_refusal((4, 0, 4), (4, 0, 17)).expect("4.0.4 build in 4.0.17 refused");
        assert!(newer.contains("built for Wireshark 4.0.4, running in 4.0.17"), "{newer}");
        assert!(newer.contains("4.0.5 changed the plugin ABI"), "{newer}");
        assert!(load_refusal((4, 0, 4), (4, 0, 5)).is_some());
        let older = load_refusal((4, 0, 17), (4, 0, 3)).expect("4.0.17 build in 4.0.3 refused");
        assert!(older.contains("running in 4.0.3"), "{older}");
    }

    #[test]
    fn another_minor_refuses() {
        let m = load_refusal((4, 4, 18), (4, 6, 9)).expect("4.4 build in 4.6 refused");
        assert!(m.contains("major.minor"), "{m}");
        assert!(load_refusal((4, 0, 17), (3, 6, 0)).is_some());
    }
}

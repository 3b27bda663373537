//! What the plugin's entry points (`crate::plugin`, the symbols Wireshark's loader looks for)
//! need from epan: the Wireshark version this build is for, and [`register`], which checks
//! the running libwireshark and hands the two registration phases to Wireshark. epan knows
//! no protocol: the top of the crate says which functions run in each phase.

use super::entry::install_panic_hook;
use super::sys;
use super::version::{load_refusal, WS_MAJOR, WS_MICRO, WS_MINOR};
use std::ffi::c_int;
use std::sync::OnceLock;

/// The Wireshark major.minor this build is for (`plugin_want_major`/`_minor`); Wireshark
/// refuses any other.
pub const WANT_MAJOR: c_int = WS_MAJOR;
pub const WANT_MINOR: c_int = WS_MINOR;

/// `WS_PLUGIN_DESC_DISSECTOR` (`plugin_describe`: read from 4.2 on, ignored by 4.0).
pub const DESCRIBE_DISSECTOR: u32 = 1;

/// The functions of the two phases, given once by [`register`].
static PHASES: OnceLock<(fn(), fn())> = OnceLock::new();

unsafe extern "C" fn register_protoinfo() {
    // A panic here would abort Wireshark: registration code is plain table-walking and is
    // exercised by every test run, but catch anyway and report on stderr.
    if let Some((register, _)) = PHASES.get() {
        // The TCP hook's own protocol first: the dissectors' TCP consumers hang off it.
        super::post::register_tcp_hook();
        if std::panic::catch_unwind(*register).is_err() {
            eprintln!("appleshark: registration failed; the plugin's protocols may be missing");
        }
    }
}

unsafe extern "C" fn register_handoff() {
    if let Some((_, handoff)) = PHASES.get() {
        if std::panic::catch_unwind(*handoff).is_err() {
            eprintln!("appleshark: hand-off failed; the plugin's dissectors may not be called");
        }
    }
}

static PLUGIN: sys::proto_plugin =
    sys::proto_plugin { register_protoinfo: Some(register_protoinfo), register_handoff: Some(register_handoff) };

unsafe extern "C" {
    /// `void epan_get_version_number(int *major, int *minor, int *micro)` (epan/epan.h, the
    /// same in 4.0, 4.4 and 4.6): the version of the libwireshark that loaded us.
    fn epan_get_version_number(major: *mut c_int, minor: *mut c_int, micro: *mut c_int);
}

/// For `plugin_register`, called once by Wireshark's plugin loader: `register` will run in
/// Wireshark's register_protoinfo phase (protocols, fields, preferences, taps), `handoff` in
/// its handoff phase (ports, heuristics, other dissectors' handles), each with panics caught.
/// Registers nothing (one line on stderr instead) when the running libwireshark is known to
/// be ABI-incompatible with the headers of this build (`version::load_refusal`).
pub fn register(register: fn(), handoff: fn()) {
    install_panic_hook();
    let (mut major, mut minor, mut micro) = (0, 0, 0);
    // SAFETY: three valid out-pointers; the function only writes them.
    unsafe { epan_get_version_number(&mut major, &mut minor, &mut micro) };
    if let Some(why) = load_refusal((WS_MAJOR, WS_MINOR, WS_MICRO), (major, minor, micro)) {
        eprintln!("appleshark: not loading: {why}");
        return;
    }
    if PHASES.set((register, handoff)).is_err() {
        return; // called twice: Wireshark already has the plugin
    }
    // SAFETY: PLUGIN is 'static, as proto_register_plugin keeps the pointer.
    unsafe { sys::proto_register_plugin(&PLUGIN) }
}

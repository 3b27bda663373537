//! The symbols Wireshark's plugin loader looks for. They must be defined in Rust: symbols
//! defined in the C shim are hidden by rustc's version script for a cdylib.

use super::entry::install_panic_hook;
use super::sys;
use super::version::{load_refusal, WS_MAJOR, WS_MICRO, WS_MINOR};
use std::ffi::c_int;

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

const fn version_bytes<const N: usize>() -> [u8; N] {
    let src = VERSION.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = src[i];
        i += 1;
    }
    out
}

/// The plugin's version, shown by `tshark -G plugins` and in About → Plugins.
#[unsafe(no_mangle)]
#[used]
pub static plugin_version: [u8; VERSION.len()] = version_bytes::<{ VERSION.len() }>();

/// The Wireshark major.minor this build is for; Wireshark refuses any other.
#[unsafe(no_mangle)]
#[used]
pub static plugin_want_major: c_int = WS_MAJOR;
#[unsafe(no_mangle)]
#[used]
pub static plugin_want_minor: c_int = WS_MINOR;

/// WS_PLUGIN_DESC_DISSECTOR: read from 4.2 on, ignored by 4.0.
#[unsafe(no_mangle)]
pub extern "C" fn plugin_describe() -> u32 {
    1
}

unsafe extern "C" fn register_protoinfo() {
    // A panic here would abort Wireshark: registration code is plain table-walking and is
    // exercised by every test run, but catch anyway and report on stderr.
    if std::panic::catch_unwind(crate::dissectors::register_all).is_err() {
        eprintln!("appleshark: registration failed; the plugin's protocols may be missing");
    }
}

unsafe extern "C" fn register_handoff() {
    if std::panic::catch_unwind(crate::dissectors::handoff_all).is_err() {
        eprintln!("appleshark: hand-off failed; the plugin's dissectors may not be called");
    }
}

static PLUGIN: sys::proto_plugin =
    sys::proto_plugin { register_protoinfo: Some(register_protoinfo), register_handoff: Some(register_handoff) };

unsafe extern "C" {
    /// `void epan_get_version_number(int *major, int *minor, int *micro)` (epan/epan.h, the
    /// same in 4.0, 4.4 and 4.6): the version of the libwireshark that loaded us.
    fn epan_get_version_number(major: *mut c_int, minor: *mut c_int, micro: *mut c_int);
}

/// Called once by Wireshark's plugin loader. Registers nothing (one line on stderr instead)
/// when the running libwireshark is known to be ABI-incompatible with the headers of this
/// build (`version::load_refusal`).
#[unsafe(no_mangle)]
pub extern "C" fn plugin_register() {
    install_panic_hook();
    let (mut major, mut minor, mut micro) = (0, 0, 0);
    // SAFETY: three valid out-pointers; the function only writes them.
    unsafe { epan_get_version_number(&mut major, &mut minor, &mut micro) };
    if let Some(why) = load_refusal((WS_MAJOR, WS_MINOR, WS_MICRO), (major, minor, micro)) {
        eprintln!("appleshark: not loading: {why}");
        return;
    }
    // SAFETY: PLUGIN is 'static, as proto_register_plugin keeps the pointer.
    unsafe { sys::proto_register_plugin(&PLUGIN) }
}

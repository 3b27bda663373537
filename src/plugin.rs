//! The symbols Wireshark's plugin loader looks for (`plugin_version`, `plugin_want_major`,
//! `plugin_want_minor`, `plugin_describe`, `plugin_register`). They must be defined in Rust:
//! symbols defined in the C shim are hidden by rustc's version script for a cdylib. The work
//! is epan's (`epan::plugin`); this file only says what the plugin registers
//! (`crate::dissectors`). Its `#[unsafe(no_mangle)]` attributes are the one `unsafe` word
//! outside `src/epan`: exporting a symbol by name cannot be written otherwise.

use crate::dissectors;
use crate::epan::plugin;
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
pub static plugin_want_major: c_int = plugin::WANT_MAJOR;
#[unsafe(no_mangle)]
#[used]
pub static plugin_want_minor: c_int = plugin::WANT_MINOR;

/// A dissector plugin (read from 4.2 on, ignored by 4.0).
#[unsafe(no_mangle)]
pub extern "C" fn plugin_describe() -> u32 {
    plugin::DESCRIBE_DISSECTOR
}

/// Called once by Wireshark's plugin loader.
#[unsafe(no_mangle)]
pub extern "C" fn plugin_register() {
    plugin::register(dissectors::register_all, dissectors::handoff_all);
}

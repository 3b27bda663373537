//! The in-epan fuzz targets' common part: epan initialised once with the plugin registered,
//! each input turned into frames of one entry point ([`frames`]) and dissected by
//! libwireshark (harness/epanfuzz.c). docs/robustness.md, section 4.

pub mod frames;

pub use frames::Target;

use std::ffi::{c_char, c_int, CString};
use std::sync::Once;

// The plugin, linked in as an rlib: its `plugin_register` is what Wireshark's plugin loader
// would call; here it runs before epan_init, so epan registers it like a built-in plugin.
extern crate appleshark;

extern "C" {
    fn plugin_register();
    fn epanfuzz_init(argv0: *const c_char) -> c_int;
    fn epanfuzz_set_pref(pref: *const c_char) -> c_int;
    fn epanfuzz_has_protocol(filter_name: *const c_char) -> c_int;
    fn epanfuzz_reset();
    fn epanfuzz_run(n: usize, linktypes: *const u32, bufs: *const *const u8, lens: *const usize);
}

static INIT: Once = Once::new();

/// Inputs per epan session (`EPANFUZZ_RESET_EVERY`, default [`DEFAULT_RESET_EVERY`]): a new
/// session costs about 0.1 s (every protocol's init routines), so state is dropped every
/// that many inputs; in between each input has its own client addresses (`frames::build`).
pub const DEFAULT_RESET_EVERY: u32 = 2000;

thread_local! {
    static STATE: std::cell::Cell<(u32, u32)> = const { std::cell::Cell::new((0, DEFAULT_RESET_EVERY)) };
}

/// The plugin's protocols, each of which must be registered and enabled after init.
pub const PROTOCOLS: [&str; 5] = ["snatmap", "apns", "apns.tls", "facetime", "mptcp_annot"];

/// Registers the plugin, initialises wiretap and epan, checks that the plugin's protocols
/// are there; then a panic anywhere aborts (the plugin's entry points catch panics and turn
/// them into expert items, which a fuzzer would not see). Idempotent.
pub fn init() {
    INIT.call_once(|| {
        let argv0 = CString::new(std::env::args().next().unwrap_or_else(|| "epanfuzz".into())).unwrap();
        // SAFETY: called once, before any dissection, from one thread; the strings outlive
        // the calls.
        unsafe {
            plugin_register();
            assert_eq!(epanfuzz_init(argv0.as_ptr()), 0, "epan did not initialise");
            for p in PROTOCOLS {
                let c = CString::new(p).unwrap();
                assert_eq!(epanfuzz_has_protocol(c.as_ptr()), 1, "protocol {p} not registered: the plugin did not load");
            }
            // Preferences to set, `module.name:value` separated by commas (as tshark -o takes them).
            if let Ok(prefs) = std::env::var("EPANFUZZ_PREFS") {
                for p in prefs.split(',').filter(|p| !p.is_empty()) {
                    let c = CString::new(p).unwrap();
                    epanfuzz_set_pref(c.as_ptr());
                }
            }
        }
        // The plugin installed its hook (panics inside a dissector become an expert item);
        // replace it: a panic is a finding. Print it, then abort so libFuzzer keeps the input.
        std::panic::set_hook(Box::new(|info| {
            eprintln!("epanfuzz: panic: {info}");
            std::process::abort();
        }));
    });
}

/// Dissects one input as frames of `target`.
pub fn run(target: Target, data: &[u8]) {
    init();
    let (mut n, mut every) = STATE.get();
    if n == 0 {
        every = std::env::var("EPANFUZZ_RESET_EVERY").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_RESET_EVERY).clamp(1, 65535);
    } else if n % every == 0 {
        // SAFETY: no dissection is running (one thread; between two inputs).
        unsafe { epanfuzz_reset() };
    }
    STATE.set((n.wrapping_add(1), every));
    n %= every;
    let frames = frames::build(target, data, n as u16);
    let links = vec![target.linktype(); frames.len()];
    let ptrs: Vec<*const u8> = frames.iter().map(|f| f.as_ptr()).collect();
    let lens: Vec<usize> = frames.iter().map(Vec::len).collect();
    // SAFETY: three arrays of frames.len() elements, each pointer valid for its length for
    // the duration of the call; epan copies nothing it keeps past it (tvbs are freed with
    // the session at the end of the call).
    unsafe { epanfuzz_run(frames.len(), links.as_ptr(), ptrs.as_ptr(), lens.as_ptr()) }
}

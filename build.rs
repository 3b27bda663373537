//! Build script: finds Wireshark's headers, reads the version they belong to, generates the
//! epan bindings with bindgen and compiles the C shim.
//!
//! Where the headers come from, first match wins:
//! - `APPLESHARK_WS_INCLUDE`: a directory holding `ws_version.h` (e.g. the cache filled by
//!   `wireshark-headers/fetch-headers.sh trixie`), for building against another version;
//! - `pkg-config wireshark` (Debian's `libwireshark-dev`).
//!
//! glib's include directories come from `pkg-config glib-2.0` (the host's glib serves for every
//! Wireshark version). Wireshark's libraries are deliberately *not* linked: the plugin leaves
//! the epan symbols undefined and the tshark/Wireshark that loads it resolves them.
//!
//! The version is exposed to the code in one place: a cfg `ws_ge_4_<m>` for every supported
//! minor m up to the headers' own (`ws_ge_4_0`, `ws_ge_4_4`, `ws_ge_4_6`) and the constants in
//! `$OUT_DIR/ws_version.rs`, used only by `src/epan/version.rs`.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Wireshark minor versions (major 4) this tree supports, oldest first.
/// (4.2 is not tested here, so it is refused rather than half-supported.)
const SUPPORTED_MINORS: &[u32] = &[0, 4, 6];

fn pkg_config(args: &[&str]) -> Option<String> {
    let out = Command::new("pkg-config").args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn include_dirs_of(pkg: &str) -> Vec<PathBuf> {
    pkg_config(&["--cflags-only-I", pkg])
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|f| f.strip_prefix("-I"))
        .map(PathBuf::from)
        .collect()
}

fn read_version(ws_include: &Path) -> (u32, u32, u32) {
    let path = ws_include.join("ws_version.h");
    let text = fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "appleshark: cannot read {}: {e}\n  Install Wireshark's development headers \
             (Debian: apt-get install libwireshark-dev) or point APPLESHARK_WS_INCLUDE at a \
             directory holding ws_version.h (wireshark-headers/fetch-headers.sh fills one).",
            path.display()
        )
    });
    let grab = |name: &str| -> u32 {
        text.lines()
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some("#define") && w.next() == Some(name))
                    .then(|| w.next().and_then(|v| v.parse().ok()))
                    .flatten()
            })
            .unwrap_or_else(|| panic!("appleshark: {name} not found in {}", path.display()))
    };
    (
        grab("WIRESHARK_VERSION_MAJOR"),
        grab("WIRESHARK_VERSION_MINOR"),
        grab("WIRESHARK_VERSION_MICRO"),
    )
}

/// The C shims `wireshark-headers/shim*.c`, sorted.
fn shim_sources() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir("wireshark-headers")
        .expect("wireshark-headers/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("shim") && n.ends_with(".c")))
        .collect();
    v.sort();
    v
}

fn main() {
    println!("cargo:rerun-if-env-changed=APPLESHARK_WS_INCLUDE");
    println!("cargo:rerun-if-changed=wireshark-headers/wrapper.h");
    println!("cargo:rerun-if-changed=wireshark-headers/shim.h");
    println!("cargo:rerun-if-changed=wireshark-headers/shim.c");
    println!("cargo:rerun-if-changed=wireshark-headers");
    for m in SUPPORTED_MINORS {
        println!("cargo::rustc-check-cfg=cfg(ws_ge_4_{m})");
    }

    let ws_include = match env::var_os("APPLESHARK_WS_INCLUDE") {
        Some(dir) => PathBuf::from(dir),
        None => include_dirs_of("wireshark")
            .into_iter()
            .find(|d| d.join("ws_version.h").exists())
            .unwrap_or_else(|| {
                panic!(
                    "appleshark: Wireshark's headers were not found.\n  `pkg-config wireshark` \
                     gave no include directory with ws_version.h. Install libwireshark-dev (Debian) \
                     or set APPLESHARK_WS_INCLUDE."
                )
            }),
    };
    let (major, minor, micro) = read_version(&ws_include);
    if major != 4 || !SUPPORTED_MINORS.contains(&minor) {
        panic!(
            "appleshark: Wireshark {major}.{minor}.{micro} is not supported (supported: 4.{:?}); \
             headers at {}",
            SUPPORTED_MINORS,
            ws_include.display()
        );
    }
    for m in SUPPORTED_MINORS.iter().filter(|m| **m <= minor) {
        println!("cargo:rustc-cfg=ws_ge_4_{m}");
    }
    println!("cargo:rerun-if-changed={}", ws_include.join("ws_version.h").display());

    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    fs::write(
        out.join("ws_version.rs"),
        format!(
            "/// Wireshark version of the headers this plugin was built against.\n\
             pub const WS_MAJOR: i32 = {major};\npub const WS_MINOR: i32 = {minor};\n\
             pub const WS_MICRO: i32 = {micro};\n"
        ),
    )
    .unwrap();

    let mut includes = vec![ws_include.clone()];
    includes.extend(include_dirs_of("glib-2.0"));
    if includes.len() == 1 {
        panic!("appleshark: glib's headers not found (pkg-config glib-2.0); apt-get install libglib2.0-dev");
    }
    includes.push(PathBuf::from("wireshark-headers"));

    let mut builder = bindgen::Builder::default()
        .header("wireshark-headers/wrapper.h")
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .prepend_enum_name(false)
        .default_enum_style(bindgen::EnumVariation::Consts)
        .layout_tests(false)
        .derive_default(true)
        .derive_debug(false)
        .generate_comments(false)
        // Types Rust never looks inside. Keeping them opaque keeps the bindings small and
        // avoids a bindgen layout failure on a wiretap union in the 4.4 headers.
        .opaque_type("wtap_pseudo_header")
        .opaque_type("_?frame_data")
        .opaque_type("_?fvalue_t")
        .opaque_type("epan_session");
    for dir in &includes {
        builder = builder.clang_arg(format!("-I{}", dir.display()));
    }
    // The allow-lists: only what src/epan uses (plus the types those pull in).
    for f in [
        "proto_.*",
        "tvb_captured_length.*",
        "tvb_reported_length.*",
        "tvb_get_ptr",
        "heur_dissector_add",
        "col_.*",
        "expert_.*",
        "prefs_register_.*",
        "value_is_in_range",
        "range_.*",
        "find_or_create_conversation",
        "conversation_.*",
        "find_conversation.*",
        "p_add_proto_data",
        "p_get_proto_data",
        "wmem_epan_scope",
        "wmem_alloc0",
        "dissector_add_uint.*",
        "dissector_add_for_decode_as.*",
        "dissector_add_string",
        "register_dissector",
        "find_dissector.*",
        "appleshark_.*",
    ] {
        builder = builder.allowlist_function(f);
    }
    for t in [
        "appleshark_.*",
        "proto_plugin",
        "hf_register_info",
        "ei_register_info",
        "value_string",
        "unit_name_string",
        "address_type",
        "field_display_e",
        "ft_framenum_type",
        "ftenum",
        "hf_ref_type",
    ] {
        builder = builder.allowlist_type(t);
    }
    for v in [
        "COL_.*",
        "FT_.*",
        "BASE_.*",
        "ABSOLUTE_TIME_.*",
        "PI_.*",
        "ENC_.*",
        "HEURISTIC_.*",
        "AT_.*",
        "WIRESHARK_VERSION_.*",
        "WTAP_ENCAP_.*",
        "APPLESHARK_.*",
        // Wireshark's unit strings (epan/unit_strings.h), for BASE_UNIT_STRING fields.
        "units_milliseconds",
        "units_minutes",
        "units_byte_bytes",
        "units_word_words",
    ] {
        builder = builder.allowlist_var(v);
    }
    let bindings = builder.generate().expect("appleshark: bindgen failed on wireshark-headers/wrapper.h");
    bindings.write_to_file(out.join("bindings.rs")).unwrap();

    let mut cc = cc::Build::new();
    for c in shim_sources() {
        cc.file(c);
    }
    cc.warnings(true).flag_if_supported("-Wno-unused-parameter");
    for dir in &includes {
        cc.include(dir);
    }
    // `APPLESHARK_SHIM_SANITIZE=address` (fuzz-epan/run.sh): the shims built by clang with
    // that sanitizer, for the in-epan fuzzer, whose Rust code cargo fuzz builds with the same
    // one (docs/robustness.md, section 4). Unset (every other build): nothing changes.
    println!("cargo:rerun-if-env-changed=APPLESHARK_SHIM_SANITIZE");
    if let Some(s) = env::var_os("APPLESHARK_SHIM_SANITIZE").filter(|s| !s.is_empty()) {
        cc.compiler("clang").flag(format!("-fsanitize={}", s.to_string_lossy())).flag("-fno-omit-frame-pointer");
    }
    cc.compile("appleshark_shim");
}

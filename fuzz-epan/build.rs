//! Compiles the C harness (harness/epanfuzz.c) against Wireshark's headers and links
//! libwireshark, libwiretap and libwsutil (pkg-config `wireshark`; wiretap has no .pc file
//! of its own on Debian 12, it sits next to libwireshark). With `APPLESHARK_SHIM_SANITIZE`
//! set (fuzz-epan/run.sh sets `address`), the harness is built with that sanitizer too, by
//! clang, as the plugin's C shims are (../build.rs).

use std::process::Command;

fn pkg_config(args: &[&str]) -> Vec<String> {
    let out = Command::new("pkg-config").args(args).output().expect("pkg-config runs");
    assert!(out.status.success(), "pkg-config {args:?} failed (apt-get install libwireshark-dev libglib2.0-dev)");
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(String::from).collect()
}

fn main() {
    println!("cargo:rerun-if-changed=harness/epanfuzz.c");
    println!("cargo:rerun-if-env-changed=APPLESHARK_SHIM_SANITIZE");
    let mut cc = cc::Build::new();
    cc.file("harness/epanfuzz.c").warnings(true).flag_if_supported("-Wno-unused-parameter");
    for f in pkg_config(&["--cflags-only-I", "wireshark", "glib-2.0"]) {
        cc.include(f.trim_start_matches("-I"));
    }
    if let Ok(s) = std::env::var("APPLESHARK_SHIM_SANITIZE") {
        if !s.is_empty() {
            cc.compiler("clang").flag(format!("-fsanitize={s}")).flag("-fno-omit-frame-pointer");
        }
    }
    cc.compile("epanfuzz_harness");
    for f in pkg_config(&["--libs-only-L", "wireshark", "glib-2.0"]) {
        println!("cargo:rustc-link-search=native={}", f.trim_start_matches("-L"));
    }
    for lib in ["wireshark", "wiretap", "wsutil", "glib-2.0"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
}

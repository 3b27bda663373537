//! Replays the in-epan fuzz targets' committed inputs (fuzz-epan/, docs/robustness.md
//! section 4) through the real tshark with the plugin, on stable Rust, without libFuzzer: the
//! seeds `fuzz-epan/corpus/<target>/` and the reproducers of findings
//! `fuzz-epan/regressions/<target>/`. `APPLESHARK_EPAN_FUZZ_EXTRA=<dir>` adds
//! `<dir>/<target>/*` (e.g. fuzz-epan/corpus-out after a long run).
//!
//! Each input becomes the frames the fuzz target dissects (fuzz-epan/src/frames.rs, the same
//! code), written to a pcap file by tests/support's writer, and read by `tshark -2 -V`: the
//! first pass without a tree, the second with one, as the fuzzer's harness does. The seeds
//! of one target go into one capture with the fuzzer's per-input client addresses (input k
//! of a session has `conv` k), a reproducer into a capture of its own (`conv` 0, as a
//! crashing input is replayed by libFuzzer alone).
//!
//! A failure is what the fuzzer treats as one, as tshark shows it: tshark not exiting
//! cleanly, a panic caught at an entry point ("appleshark internal error"), a dissector bug
//! in one of the plugin's protocols, a GLib/Wireshark critical or error message.

mod support;

#[path = "../fuzz-epan/src/frames.rs"]
#[allow(dead_code)]
mod frames;

use frames::Target;
use std::path::{Path, PathBuf};
use std::time::Duration;
use support::{LinkType, PcapWriter, Tshark};

/// The fuzz harness's clock (fuzz-epan/harness/epanfuzz.c, `frame_time`): 2024-01-01 plus one
/// millisecond per frame number.
const BASE_SECS: u64 = 1_704_067_200;

fn frame_time(num: u32) -> Duration {
    Duration::from_secs(BASE_SECS) + Duration::from_millis(u64::from(num))
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.is_file()).collect();
    v.sort();
    v
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-epan")
}

/// A pcap of `inputs` (each with its `conv`), frames numbered from 1 as in a fresh session;
/// returns it and the first frame number of each input.
fn capture(target: Target, inputs: &[(Vec<u8>, u16)]) -> (Vec<u8>, Vec<u32>) {
    let mut w = PcapWriter::new(Vec::new(), LinkType::Raw).unwrap();
    let mut num = 0u32;
    let mut starts = Vec::new();
    for (data, conv) in inputs {
        starts.push(num + 1);
        for f in frames::build(target, data, *conv) {
            num += 1;
            w.write_packet(frame_time(num), &f).unwrap();
        }
    }
    let mut pcap = w.into_inner().unwrap();
    // tests/support writes LINKTYPE_RAW; the exported-PDU frames need their own link type
    // (the last field of the 24-byte file header).
    pcap[20..24].copy_from_slice(&target.linktype().to_le_bytes());
    (pcap, starts)
}

/// The plugin's protocols' short names, as Wireshark names them in "Dissector bug, protocol X".
const OUR_SHORT_NAMES: [&str; 5] = ["SNATMAP", "APNs", "APNs-TLS", "FaceTime", "MPTCP-annot"];

/// What marks a failure in tshark's output (stdout and stderr), if anything.
fn failure(text: &str) -> Option<String> {
    for l in text.lines() {
        let bug = OUR_SHORT_NAMES.iter().any(|p| l.contains(&format!("Dissector bug, protocol {p}:")));
        if bug || l.contains("appleshark internal error") || l.contains("panicked at") || l.contains("CRITICAL") || l.contains("** ERROR") || l.contains("AddressSanitizer") {
            return Some(l.trim().to_string());
        }
    }
    None
}

/// The tree name of the protocol each target is meant to reach.
fn expected_protocol(t: Target) -> &'static str {
    match t {
        Target::Udp5678 => "Apple NAT mapping",
        Target::Udp16402 => "Apple FaceTime",
        Target::Tcp5223 | Target::ApnsByName => "Apple Push Notification service courier",
        Target::MptcpTcp => "Multipath TCP annotations",
    }
}

/// Runs `tshark -2 -V` on the capture; panics on a failure (`Tshark::run` panics when tshark
/// does not exit with 0); returns stdout.
fn dissect(ts: &Tshark, name: &str, pcap: &[u8], what: &str) -> String {
    let file = ts.capture(name, pcap);
    eprintln!("{what}: tshark -2 -V -r {file}");
    let out = ts.run(&["-2", "-V", "-r", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if let Some(l) = failure(&stdout).or_else(|| failure(&stderr)) {
        panic!("{what}: {l}");
    }
    stdout
}

/// For each input (by its first frame number), whether any of its frames shows `proto`.
fn inputs_showing(stdout: &str, starts: &[u32], proto: &str) -> Vec<bool> {
    let mut shown = vec![false; starts.len()];
    let mut current: Option<usize> = None;
    for l in stdout.lines() {
        if let Some(rest) = l.strip_prefix("Frame ") {
            if let Some(n) = rest.split(':').next().and_then(|n| n.parse::<u32>().ok()) {
                current = starts.iter().rposition(|&s| s <= n);
            }
        }
        if let Some(i) = current {
            // A protocol line; the MPTCP annotations' is a generated item ("[Multipath …]").
            shown[i] |= l.starts_with(proto) || l.strip_prefix('[').is_some_and(|r| r.starts_with(proto));
        }
    }
    shown
}

#[test]
fn seeds_and_reproducers_replay_clean_through_tshark() {
    let ts = Tshark::get();
    for t in Target::ALL {
        let mut seeds: Vec<PathBuf> = files(&root().join("corpus").join(t.name()));
        if let Ok(extra) = std::env::var("APPLESHARK_EPAN_FUZZ_EXTRA") {
            seeds.extend(files(&Path::new(&extra).join(t.name())));
        }
        assert!(seeds.len() >= 5, "{}: only {} seeds (run fuzz-epan/make_seeds.py)", t.name(), seeds.len());
        // One session of the fuzzer holds up to 2,000 inputs (DEFAULT_RESET_EVERY).
        for (chunk_no, chunk) in seeds.chunks(2000).enumerate() {
            let inputs: Vec<(Vec<u8>, u16)> = chunk.iter().enumerate().map(|(k, p)| (std::fs::read(p).unwrap(), k as u16)).collect();
            let (pcap, starts) = capture(t, &inputs);
            let out = dissect(ts, &format!("epanfuzz-{}-{chunk_no}.pcap", t.name()), &pcap, &format!("{} seeds", t.name()));
            let shown = inputs_showing(&out, &starts, expected_protocol(t));
            let n = shown.iter().filter(|s| **s).count();
            eprintln!("{}: {} inputs replayed, {n} reach {}", t.name(), inputs.len(), expected_protocol(t));
            if chunk_no == 0 {
                // The seeds include the fixtures' negative cases (garbage and look-alikes on
                // the same ports), so not every seed reaches the protocol; none reaching it
                // would mean the frames do not go where the fuzz target means.
                assert!(n > 0, "{}: none of {} seeds reaches {}", t.name(), inputs.len(), expected_protocol(t));
            }
        }
        for r in files(&root().join("regressions").join(t.name())) {
            let data = std::fs::read(&r).unwrap();
            let (pcap, _) = capture(t, &[(data, 0)]);
            let name = format!("epanfuzz-{}-{}.pcap", t.name(), r.file_name().unwrap().to_string_lossy());
            dissect(ts, &name, &pcap, &r.display().to_string());
            eprintln!("{}: reproducer {} replayed", t.name(), r.display());
        }
    }
}

#[test]
fn fuzz_targets_match_the_frame_builders() {
    // Every Target has a cargo-fuzz target of its name that runs it, and vice versa.
    let dir = root().join("fuzz_targets");
    let mut on_disk: Vec<String> = files(&dir).iter().map(|p| p.file_stem().unwrap().to_string_lossy().into_owned()).collect();
    on_disk.sort();
    let mut names: Vec<String> = Target::ALL.iter().map(|t| t.name().to_string()).collect();
    names.sort();
    assert_eq!(on_disk, names);
    for t in Target::ALL {
        let src = std::fs::read_to_string(dir.join(format!("{}.rs", t.name()))).unwrap();
        assert!(src.contains(&format!("Target::{t:?}, data")), "{}.rs does not run Target::{t:?}", t.name());
    }
}

#[test]
fn frames_are_what_the_targets_say() {
    // The layouts, read back independently of the builder: IPv4 header fields and ports.
    let recs = frames::encode_records(&[(0, b"req"), (1, b"resp"), (2, b"same-port")]);
    let f = frames::build(Target::Udp5678, &recs, 0);
    assert_eq!(f.len(), 3);
    let ports = |p: &[u8]| (u16::from_be_bytes([p[20], p[21]]), u16::from_be_bytes([p[22], p[23]]));
    assert_eq!(f[0][9], 17);
    assert_eq!(&f[0][12..16], &[192, 168, 1, 20]);
    assert_eq!(&f[0][16..20], &[17, 57, 144, 10]);
    assert_eq!(ports(&f[0]), (50123, 5678));
    assert_eq!(ports(&f[1]), (5678, 50123));
    assert_eq!(ports(&f[2]), (5678, 5678));
    assert_eq!(&f[0][28..], b"req");
    // conv moves the client address, nothing else.
    let g = frames::build(Target::Udp5678, &recs, 300);
    assert_eq!(&g[0][12..16], &[192, 168, 2, 64]);
    assert_eq!(ports(&g[0]), (50123, 5678));
    // TCP 5223: a handshake, then the payload with the client's next sequence number.
    let t = frames::build(Target::Tcp5223, &frames::encode_records(&[(0, b"hello")]), 0);
    assert_eq!(t.len(), 4);
    assert_eq!(t[0][33], 0x02); // SYN
    assert_eq!(t[1][33], 0x12); // SYN/ACK
    assert_eq!(ports(&t[3]), (51000, 5223));
    assert_eq!(u32::from_be_bytes(t[3][24..28].try_into().unwrap()), 1_000_001);
    assert_eq!(&t[3][40..], b"hello");
    // MPTCP: options length byte, options, payload; subflow 2 from the second address.
    let mp = [4u8, 30, 4, 0x10, 0x01, b'x'];
    let m = frames::build(Target::MptcpTcp, &frames::encode_records(&[(2 << 1 | 8, &mp)]), 0);
    assert_eq!(&m[0][12..16], &[10, 64, 12, 7]);
    assert_eq!(ports(&m[0]), (40002, 443));
    assert_eq!(m[0][32] >> 4, 6); // data offset: 20 + 4 bytes of options
    assert_eq!(&m[0][40..44], &[30, 4, 0x10, 0x01]);
    assert_eq!(&m[0][44..], b"x");
    // APNs by name: the exported-PDU tags, then the bytes.
    let a = frames::build(Target::ApnsByName, &frames::encode_records(&[(2, b"\x08\x00")]), 0);
    assert_eq!(&a[0][..4], &[0, 12, 0, 9]);
    assert_eq!(&a[0][4..13], b"apns_pack");
    assert!(a[0].ends_with(&[0, 0, 0, 0, 8, 0]));
}

#[test]
fn failures_are_told_from_stock_bugs() {
    // The plugin's own: a caught panic, a dissector bug in one of its protocols, criticals.
    assert!(failure("    [Expert Info (Error/Malformed): appleshark internal error: test panic for nonce 0x1]").is_some());
    assert!(failure("[Dissector bug, protocol MPTCP-annot: ./epan/proto.c:1: failed assertion]").is_some());
    assert!(failure("** (tshark:1) 10:00:00.000000 [Epan CRITICAL] -- x").is_some());
    // Stock Wireshark's own bugs (docs/robustness.md lists them) are not the plugin's.
    assert!(failure("[Dissector bug, protocol MPTCP: ./epan/dissectors/packet-tcp.c:5551: failed assertion \"DISSECTOR_ASSERT_NOT_REACHED\"]").is_none());
    assert!(failure("[Dissector bug, protocol TLS: ./epan/dissectors/packet-tls.c:2513: failed assertion]").is_none());
    assert!(failure("Frame 1: 60 bytes on wire").is_none());
}

#[test]
fn a_panic_in_a_dissector_fails_the_replay() {
    // The plugin built with its test hooks panics on a chosen SNATMAP nonce (tests/snatmap.rs);
    // the fuzz target aborts on it (docs/robustness.md, section 4), and the replay must see it
    // in tshark's output too: a SNATMAP request (type 1, nonce, address, port, 0xAAAA) as the
    // one record of a udp_5678 input.
    let mut req = Vec::new();
    req.extend_from_slice(&1u32.to_be_bytes());
    req.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    req.extend_from_slice(&[192, 168, 1, 20]);
    req.extend_from_slice(&50123u16.to_be_bytes());
    req.extend_from_slice(&[0xaa, 0xaa]);
    let (pcap, _) = capture(Target::Udp5678, &[(frames::encode_records(&[(0, &req)]), 0)]);
    let ts = Tshark::with_test_hooks();
    let file = ts.capture("epanfuzz-provoked-panic.pcap", &pcap);
    let out = ts.run_env(&["APPLESHARK_TEST_PANIC_NONCE=12345678"], &["-2", "-V", "-r", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(failure(&stdout).is_some_and(|l| l.contains("appleshark internal error")), "{stdout}");
    // Without the nonce the same frame is a clean SNATMAP request.
    let out = ts.run(&["-2", "-V", "-r", &file]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(failure(&stdout), None);
    assert!(stdout.lines().any(|l| l.starts_with("Apple NAT mapping")), "{stdout}");
}

//! Adversarial captures (docs/robustness.md, "Bounds"): each completes in tshark, the state
//! cap involved is reported by its expert item at the frames the generator predicts, and
//! tshark's peak memory with the plugin stays within a documented budget of stock tshark's
//! on the same file (`/usr/bin/time -f %M`, two passes).
//!
//! - APNs message lengths of 4 GiB (0xFFFFFFFF), with the default `apns.max_message_size`
//!   and with the preference at its maximum;
//! - binary plists with cyclic references, 10,000 levels of nesting and an exponential
//!   fan-out (64 arrays each referencing the next one twice);
//! - 100,000 MPTCP connections (a SYN with MP_CAPABLE each, distinct 4-tuples);
//! - 100,000 SNATMAP requests with no responses in one conversation.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;
use support::{Capture, Dir, Flow, TcpFlow, Tshark, SYN};

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Peak RSS (MiB) and wall time of `tshark args` with the plugin (`plugin`) or without.
fn measured(file: &str, plugin: bool, args: &[&str]) -> (f64, f64) {
    // The harness's HOME is the grandparent of the capture's path (<home>/files/<name>).
    let home = Path::new(file).parent().and_then(|p| p.parent()).unwrap().display().to_string();
    let mut argv: Vec<String> = vec!["/usr/bin/time".into(), "-f".into(), "APPLESHARK_MAXRSS_KB=%M".into()];
    if let Ok(p) = std::env::var("APPLESHARK_TSHARK_PREFIX") {
        argv.extend(p.split_whitespace().map(String::from));
    }
    let root = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0").unwrap_or(false);
    if root {
        argv.extend(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"].map(String::from));
    }
    argv.push("env".into());
    argv.push(format!("HOME={}", if plugin { home.clone() } else { format!("{home}/no-such-home") }));
    argv.push(format!("WIRESHARK_PLUGIN_DIR={home}/no-global-plugins"));
    argv.push(std::env::var("TSHARK").unwrap_or_else(|_| "tshark".into()));
    argv.extend(["-r", file].map(String::from));
    argv.extend(args.iter().map(|s| s.to_string()));
    let t0 = Instant::now();
    // stdout (up to the -V text of 100,000 frames) is not kept.
    let out = Command::new(&argv[0])
        .args(&argv[1..])
        .current_dir("/")
        .stdout(Stdio::null())
        .output()
        .expect("/usr/bin/time runs");
    let secs = t0.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{argv:?}: {}\n{err}", out.status);
    let kb: f64 = err
        .lines()
        .find_map(|l| l.strip_prefix("APPLESHARK_MAXRSS_KB="))
        .expect("time -f %M output")
        .trim()
        .parse()
        .unwrap();
    (kb / 1024.0, secs)
}

/// Peak memory with the plugin vs. stock tshark on the same two-pass runs; asserts the
/// plugin adds at most `budget_mib`. Two runs each: a display filter (every frame
/// dissected, no tree kept: `-q` alone would skip dissection) and the full tree printed
/// (`-V`, to /dev/null). Prints the measurements for docs/robustness.md.
fn memory_within(case: &str, file: &str, budget_mib: f64, with_tree: bool) {
    let runs: &[(&str, &[&str])] = &[("filter", &["-n", "-2", "-q", "-Y", "frame.number == 0"]), ("-V", &["-n", "-2", "-V"])];
    for (what, args) in &runs[..if with_tree { 2 } else { 1 }] {
        let (stock, stock_s) = measured(file, false, args);
        let (ours, ours_s) = measured(file, true, args);
        eprintln!(
            "BOUNDS {case} [{what}]: max RSS stock {stock:.1} MiB ({stock_s:.1} s), with plugin {ours:.1} MiB ({ours_s:.1} s), +{:.1} MiB (budget {budget_mib} MiB)",
            ours - stock
        );
        assert!(ours - stock <= budget_mib, "{case} [{what}]: plugin adds {:.1} MiB > {budget_mib} MiB", ours - stock);
    }
}

fn frames(rows: &[Vec<String>]) -> Vec<usize> {
    rows.iter().map(|r| r[0].parse().unwrap()).collect()
}

// ---------------------------------------------------------------------------- APNs

fn item(id: u8, v: &[u8]) -> Vec<u8> {
    let mut o = vec![id];
    o.extend_from_slice(&(v.len() as u16).to_be_bytes());
    o.extend_from_slice(v);
    o
}

fn msg(cmd: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = items.concat();
    let mut o = vec![cmd];
    o.extend_from_slice(&(body.len() as u32).to_be_bytes());
    o.extend(body);
    o
}

/// A courier connection on a port only the heuristic claims, pinned by a first KeepAlive.
fn courier() -> (Capture, TcpFlow) {
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa("10.0.0.2:50123"), sa("17.57.146.20:15223"));
    cap.extend(tcp.handshake(&[], &[], &[]));
    cap.push(tcp.send(Dir::ToServer, &msg(0x0C, &[item(1, b"WiFi")]), &[]));
    (cap, tcp)
}

/// Sends `bytes` in segments of at most 1400 bytes; returns the frame number of the last.
fn send_segmented(cap: &mut Capture, tcp: &mut TcpFlow, dir: Dir, bytes: &[u8]) -> usize {
    for chunk in bytes.chunks(1400) {
        cap.push(tcp.send(dir, chunk, &[]));
    }
    cap.len()
}

#[test]
fn apns_length_of_4_gib() {
    let t = Tshark::get();
    let (mut cap, mut tcp) = courier();
    // A Message header declaring 0xFFFFFFFF payload bytes, then 2,000 segments of 0xFF:
    // each starts with command 0xFF and length 0xFFFFFFFF again.
    let mut first = vec![0x0A, 0xFF, 0xFF, 0xFF, 0xFF];
    first.extend(item(4, &[0, 0, 0, 1]));
    first.resize(1400, 0);
    cap.push(tcp.send(Dir::ToClient, &first, &[]));
    let mut expected = vec![cap.len()];
    for _ in 0..2000 {
        cap.push(tcp.send(Dir::ToClient, &[0xFF; 1400], &[]));
        expected.push(cap.len());
    }
    let file = t.capture("bounds-apns-4gib.pcap", &cap.to_bytes());
    // Default maximum (1 MiB), and the preference at its largest value: a 4 GiB message is
    // never believed (lengths past 2^31 - 1 cannot be a Wireshark PDU either).
    for prefs in [vec![], vec!["-o", "apns.max_message_size:4294967295"]] {
        let got = t.fields(&file, Some("apns.too_large"), &["frame.number", "apns.length"], &prefs);
        assert_eq!(frames(&got), expected, "{prefs:?}");
        assert!(got.iter().all(|r| r[1] == "4294967295"), "{prefs:?}");
    }
    memory_within("apns 4 GiB lengths", &file, 64.0, true);
}

// ---------------------------------------------------------------------------- bplist

/// A binary plist from raw objects (each already encoded with `ref_size`-byte refs).
fn bplist(objects: &[Vec<u8>], ref_size: u8, top: u64) -> Vec<u8> {
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for o in objects {
        offsets.push(out.len() as u64);
        out.extend_from_slice(o);
    }
    let table = out.len() as u64;
    let osize: u8 = if table < 256 { 1 } else if table < 65536 { 2 } else { 4 };
    for off in offsets {
        out.extend_from_slice(&off.to_be_bytes()[8 - osize as usize..]);
    }
    out.extend_from_slice(&[0; 6]);
    out.push(osize);
    out.push(ref_size);
    out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
    out.extend_from_slice(&top.to_be_bytes());
    out.extend_from_slice(&table.to_be_bytes());
    out
}

#[test]
fn bplist_cycles_depth_and_fan_out() {
    let t = Tshark::get();
    let (mut cap, mut tcp) = courier();
    // 1. Cycles: 0 = {"a": 1}, 1 = [0, 1], 2 = "a".
    let cyclic = bplist(&[vec![0xD1, 2, 1], vec![0xA2, 0, 1], vec![0x51, b'a']], 1, 0);
    // 2. 10,000 nested one-element arrays (2-byte refs), the last one empty.
    const DEPTH: usize = 10_000;
    let mut objs: Vec<Vec<u8>> = (0..DEPTH - 1).map(|i| [vec![0xA1], ((i + 1) as u16).to_be_bytes().to_vec()].concat()).collect();
    objs.push(vec![0xA0]);
    let deep = bplist(&objs, 2, 0);
    // 3. Fan-out: 64 arrays, each [next, next]: 2^64 paths from the top.
    let mut objs: Vec<Vec<u8>> = (0..63u8).map(|i| vec![0xA2, i + 1, i + 1]).collect();
    objs.push(vec![0x09]);
    let laughs = bplist(&objs, 1, 0);
    let mut at = Vec::new();
    for (i, p) in [&cyclic, &deep, &laughs].iter().enumerate() {
        assert!(p.len() < 65536, "fits an item");
        let m = msg(0x0A, &[item(4, &(i as u32 + 1).to_be_bytes()), item(3, p)]);
        at.push(send_segmented(&mut cap, &mut tcp, Dir::ToClient, &m));
    }
    let file = t.capture("bounds-bplist.pcap", &cap.to_bytes());
    let got = t.fields(&file, Some("apns.plist.anomaly"), &["frame.number", "_ws.expert.message"], &[]);
    assert_eq!(frames(&got), at, "{got:?}");
    let expect = [
        "Binary property list: cyclic reference to object 0 (not followed)",
        "Binary property list: nested deeper than 32 levels (not followed)",
        "Binary property list: more than 10000 objects (rest not decoded)",
    ];
    for (row, e) in got.iter().zip(expect) {
        assert!(row[1].contains(e), "frame {}: {:?} lacks {e:?}", row[0], row[1]);
    }
    // The whole tree is built too (-V), in bounded time.
    let t0 = Instant::now();
    let v = t.stdout(&["-r", &file, "-n", "-2", "-V"]);
    assert!(v.contains("more than 10000 objects"));
    eprintln!("BOUNDS bplist: -2 -V in {:.1} s, {} lines", t0.elapsed().as_secs_f64(), v.lines().count());
    memory_within("bplist cycles/depth/fan-out", &file, 64.0, true);
}

// ---------------------------------------------------------------------------- MPTCP

/// Default `core::mptcp::Config::max_connections` (documented in docs/robustness.md).
const MPTCP_MAX_CONNECTIONS: usize = 4096;

#[test]
fn mptcp_100k_connections() {
    let t = Tshark::get();
    const N: u32 = 100_000;
    let mut cap = Capture::new();
    for i in 0..N {
        let client = SocketAddr::from((Ipv4Addr::from(0x0A00_0000 + i), 40000 + (i % 1000) as u16));
        let mut tcp = TcpFlow::new(client, sa("17.0.0.1:443"));
        // MP_CAPABLE v0 with the sender's key.
        let mut opt = vec![30, 12, 0x00, 0x81];
        opt.extend_from_slice(&(0x1234_0000_0000_0000u64 + u64::from(i)).to_be_bytes());
        cap.push(tcp.segment(Dir::ToServer, SYN, b"", &opt));
    }
    let file = t.capture("bounds-mptcp-100k.pcap", &cap.to_bytes());
    // The first connection past the cap carries the note, once.
    let got = t.fields(&file, Some("mptcp_annot.state_cap"), &["frame.number", "_ws.expert.message"], &[]);
    assert_eq!(frames(&got), vec![MPTCP_MAX_CONNECTIONS + 1]);
    assert!(got[0][1].contains("MPTCP analysis limit reached (Connections)"), "{got:?}");
    // Connections 0..cap-1 are tracked, on frames 1..=cap; none after.
    let got = t.fields(&file, Some("mptcp_annot.connection"), &["frame.number", "mptcp_annot.connection"], &[]);
    assert_eq!(got.len(), MPTCP_MAX_CONNECTIONS);
    assert_eq!(got.last().unwrap(), &vec![MPTCP_MAX_CONNECTIONS.to_string(), (MPTCP_MAX_CONNECTIONS - 1).to_string()]);
    memory_within("mptcp 100,000 connections", &file, 64.0, false);
}

// ---------------------------------------------------------------------------- SNATMAP

/// Default of the `snatmap.max_requests` preference.
const SNATMAP_MAX_REQUESTS: usize = 65_536;

#[test]
fn snatmap_100k_unanswered_requests() {
    let t = Tshark::get();
    const N: u32 = 100_000;
    let mut cap = Capture::new();
    let mut flow = Flow::udp(sa("192.168.1.5:16402"), sa("17.173.254.222:5678"));
    for i in 0..N {
        // Distinct nonces whose byte 4 is never zero: on UDP 5678 stock's MNDP is tried first
        // and takes datagrams whose bytes 4 and 6 are zero (see tests/snatmap.rs).
        let nonce = 0x0101_0101 + i;
        let req = [&1u32.to_be_bytes()[..], &nonce.to_be_bytes(), &[192, 168, 1, 5], &16402u16.to_be_bytes(), &[0xAA, 0xAA]].concat();
        cap.push(flow.packet(&req));
    }
    let file = t.capture("bounds-snatmap-100k.pcap", &cap.to_bytes());
    let got = frames(&t.fields(&file, Some("snatmap.state_cap"), &["frame.number"], &[]));
    let expected: Vec<usize> = (SNATMAP_MAX_REQUESTS + 1..=N as usize).collect();
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);
    // A smaller cap through the preference moves the note.
    let got = frames(&t.fields(&file, Some("snatmap.state_cap"), &["frame.number"], &["-o", "snatmap.max_requests:1000"]));
    assert_eq!(got.first(), Some(&1001));
    assert_eq!(got.len(), N as usize - 1000);
    memory_within("snatmap 100,000 unanswered requests", &file, 64.0, false);
}

//! Other protocols' traffic reads exactly as in stock Wireshark with the plugin loaded
//! (issue 12 §2: "Do not take traffic that is not Apple's").
//!
//! For every capture in `tests/data/other/` (real loopback traffic of MNDP, XMPP, TLS, DNS,
//! SIP, STUN, … on the plugin's ports and elsewhere; provenance in that folder's README.md),
//! the same tshark reads the file twice, once in a HOME with the plugin installed and once in a
//! HOME without it ([`Tshark::stock`], the oracle), and the two readings must be identical
//! frame by frame:
//!
//! - `-T fields`: `frame.protocols` and every expert item (message, severity, group), with a
//!   protocol tree;
//! - `-T tabs` with `gui.column.format`: the Protocol and Info columns as the GUI shows them
//!   (after post-dissectors; see `Tshark::info_column`), without a tree;
//! - each in one pass and in two passes (`-2`).
//!
//! Nothing is excused: a post-dissector of the plugin (`mptcp_annot`, `apns.tls`) that shows up
//! in `frame.protocols` of non-Apple traffic is a difference too. Every expected value comes
//! from stock tshark. So that the oracle itself cannot be silently broken (say, a stock run that
//! loads the plugin after all, or a capture that lost its content), each file also states the
//! protocol stock must find in it, from what the generator sent.
//!
//! Both instances run as the same user with the harness's empty global plugin folder, so the
//! only difference between them is appleshark. Works with the multi-version chroots
//! (`tests/multiversion/run.sh`): both use the same `APPLESHARK_TSHARK_PREFIX` (checked on
//! 4.0.17, 4.4.19 and 4.6.9: the same frames differ on all three).

mod support;

use std::path::Path;
use support::Tshark;

const FIELDS: &[&str] = &["frame.number", "frame.protocols", "_ws.expert.message", "_ws.expert.severity", "_ws.expert.group"];
const COLUMNS: &[(&str, &str)] = &[("No.", "%m"), ("Protocol", "%p"), ("Info", "%i")];
const PLUGIN_PROTOCOLS: &[&str] = &["snatmap", "apns", "facetime", "mptcp_annot"];

/// One frame as tshark reads it: (label, value) pairs in a fixed order.
#[derive(PartialEq, Eq, Clone, Debug)]
struct Frame {
    number: String,
    cells: Vec<(&'static str, String)>,
}

/// Expert severity and group as names (`-T fields` prints the numeric values).
fn expert_name(value: &str, names: &[(u32, &str)]) -> String {
    match value.parse::<u32>() {
        Ok(v) => names.iter().find(|(n, _)| *n == v).map(|(_, s)| s.to_string()).unwrap_or_else(|| format!("0x{v:08x}")),
        Err(_) => value.to_string(),
    }
}

const SEVERITIES: &[(u32, &str)] = &[(0x0010_0000, "Comment"), (0x0020_0000, "Chat"), (0x0040_0000, "Note"), (0x0060_0000, "Warning"), (0x0080_0000, "Error")];
const GROUPS: &[(u32, &str)] = &[
    (0x0100_0000, "Checksum"),
    (0x0200_0000, "Sequence"),
    (0x0300_0000, "Response"),
    (0x0400_0000, "Request"),
    (0x0500_0000, "Undecoded"),
    (0x0600_0000, "Reassemble"),
    (0x0700_0000, "Malformed"),
    (0x0800_0000, "Debug"),
    (0x0900_0000, "Protocol"),
    (0x0a00_0000, "Security"),
    (0x0b00_0000, "Comment"),
    (0x0c00_0000, "Decryption"),
    (0x0d00_0000, "Assumption"),
    (0x0e00_0000, "Deprecated"),
];

/// Expert items of one frame as `Severity/Group: message`, joined by ` | `. The three fields
/// have one occurrence per item, in the same order (messages may contain ',', so the message
/// list is split only as many times as there are severities).
fn experts(messages: &str, severities: &str, groups: &str) -> String {
    if severities.is_empty() {
        return messages.to_string();
    }
    let sev: Vec<&str> = severities.split(',').collect();
    let grp: Vec<&str> = groups.split(',').collect();
    let msg: Vec<&str> = if sev.len() == 1 { vec![messages] } else { messages.splitn(sev.len(), ',').collect() };
    (0..sev.len())
        .map(|i| {
            format!(
                "{}/{}: {}",
                expert_name(sev[i], SEVERITIES),
                grp.get(i).map(|g| expert_name(g, GROUPS)).unwrap_or_default(),
                msg.get(i).copied().unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(" | ")
}

/// The reading of `file` by `t`, in one pass or two.
fn reading(t: &Tshark, file: &str, two_pass: bool) -> Vec<Frame> {
    let extra: &[&str] = if two_pass { &["-2"] } else { &[] };
    let fields = t.fields(file, None, FIELDS, extra);
    let cols = t.columns(file, COLUMNS, extra);
    assert_eq!(fields.len(), cols.len(), "{file}: -T fields and -T tabs disagree on the frame count");
    fields
        .into_iter()
        .zip(cols)
        .map(|(f, c)| {
            assert_eq!(f.len(), FIELDS.len(), "{file}: row {f:?}");
            assert_eq!(c.len(), COLUMNS.len(), "{file}: summary row {c:?}");
            assert_eq!(f[0], c[0], "{file}: frame numbers of the two runs");
            Frame {
                number: f[0].clone(),
                cells: vec![
                    ("frame.protocols", f[1].clone()),
                    ("Protocol", c[1].clone()),
                    ("Info", c[2].clone()),
                    ("experts", experts(&f[2], &f[3], &f[4])),
                ],
            }
        })
        .collect()
}

/// How many differing frames are shown in full (all with APPLESHARK_SHOW_ALL=1).
fn shown() -> usize {
    if std::env::var_os("APPLESHARK_SHOW_ALL").is_some() {
        usize::MAX
    } else {
        8
    }
}

/// A readable account of where `plugin` differs from `stock` (empty when they are the same).
fn differences(stock: &[Frame], plugin: &[Frame]) -> Vec<String> {
    let mut out = Vec::new();
    if stock.len() != plugin.len() {
        out.push(format!("stock reads {} frames, with the plugin {}", stock.len(), plugin.len()));
    }
    let differing: Vec<(&Frame, &Frame)> = stock.iter().zip(plugin).filter(|(s, p)| s != p).collect();
    if differing.is_empty() {
        return out;
    }
    let numbers: Vec<&str> = differing.iter().map(|(s, _)| s.number.as_str()).collect();
    out.push(format!("{} of {} frames differ: {}", differing.len(), stock.len(), numbers.join(" ")));
    for (s, p) in differing.iter().take(shown()) {
        out.push(format!("  frame {}:", s.number));
        for ((label, sv), (_, pv)) in s.cells.iter().zip(&p.cells) {
            if sv != pv {
                out.push(format!("    {label:<15} stock : {sv}\n    {:<15} plugin: {pv}", ""));
            }
        }
    }
    if differing.len() > shown() {
        out.push(format!("  … and {} more frames (APPLESHARK_SHOW_ALL=1 shows all)", differing.len() - shown()));
    }
    out
}

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/other")
}

/// Compares stock's and the plugin's reading of `tests/data/other/<name>.pcap`; `expect` is a
/// protocol (a `frame.protocols` element) stock must find in at least `min` frames.
fn compare(name: &str, expect: &str, min: usize) {
    let bytes = std::fs::read(data_dir().join(format!("{name}.pcap"))).unwrap_or_else(|e| panic!("{name}.pcap: {e}"));
    let (stock, plugin) = (Tshark::stock(), Tshark::get());
    let (sf, pf) = (stock.capture(&format!("{name}.pcap"), &bytes), plugin.capture(&format!("{name}.pcap"), &bytes));

    let mut report = Vec::new();
    let mut first: Option<Vec<String>> = None;
    for (two_pass, mode) in [(false, "one pass"), (true, "two passes (-2)")] {
        let s = reading(stock, &sf, two_pass);
        let p = reading(plugin, &pf, two_pass);
        // The oracle is sound: stock read frames, found the protocol the file was made of,
        // and knows nothing of the plugin.
        assert!(!s.is_empty(), "{name}: stock read no frames");
        let found = s.iter().filter(|f| f.cells[0].1.split(':').any(|p| p == expect)).count();
        assert!(found >= min, "{name} ({mode}): stock finds {expect} in {found} frames, expected at least {min}");
        for f in &s {
            assert!(
                !f.cells[0].1.split(':').any(|p| PLUGIN_PROTOCOLS.contains(&p) || p == "apns.tls"),
                "{name}: the stock run knows the plugin's protocols (frame {}: {})",
                f.number,
                f.cells[0].1
            );
        }
        let d = differences(&s, &p);
        if d.is_empty() {
            report.push(format!("{mode}: no difference"));
        } else if first.as_ref() == Some(&d) {
            report.push(format!("{mode}: the same differences as in one pass"));
        } else {
            report.push(format!("{mode}:"));
            report.extend(d.iter().cloned());
        }
        first.get_or_insert(d);
    }
    let failed = report.iter().any(|l| !l.ends_with("no difference"));
    assert!(!failed, "{name}.pcap: the plugin changes stock's reading\n{}", report.join("\n"));
}

/// The two instances really differ by the plugin alone.
#[test]
fn stock_instance_has_no_plugin_and_the_other_has_it() {
    let listed = |t: &Tshark| t.stdout(&["-G", "protocols"]).lines().any(|l| l.split('\t').nth(2) == Some("snatmap"));
    assert!(listed(Tshark::get()), "the plugin instance lacks snatmap");
    assert!(!listed(Tshark::stock()), "the stock instance has snatmap");
    assert_eq!(Tshark::get().version, Tshark::stock().version);
}

/// Each capture of the folder has its test below (a new file needs one).
#[test]
fn every_capture_in_the_corpus_is_compared() {
    let mut files: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".pcap").map(String::from))
        .collect();
    files.sort();
    let mut tested: Vec<String> = CORPUS.iter().chain(FACETIME_CLASSES).map(|(n, _, _)| n.to_string()).collect();
    tested.sort();
    assert_eq!(files, tested);
}

macro_rules! corpus {
    ($($test:ident: $file:literal, $proto:literal, $min:literal;)*) => {
        /// (file stem, protocol stock finds, in at least this many frames)
        const CORPUS: &[(&str, &str, usize)] = &[$(($file, $proto, $min)),*];
        $(
            #[test]
            fn $test() {
                compare($file, $proto, $min);
            }
        )*
    };
}

corpus! {
    // UDP 5678: MikroTik neighbour discovery (probe + 7 announcements; 4.6's MNDP no longer
    // takes the 16-byte one, frame 6, which stock 4.6 reads as data).
    mndp_on_udp_5678: "mndp-5678", "mndp", 6;
    // 16-byte datagrams beginning 00 00 00 02 / 00 00 00 01, no SNATMAP request before them.
    probe16_on_udp_6000_and_9999: "probe16-udp", "data", 34;
    // TCP 5223 that is not TLS, and TLS on 5223 that is not Apple's.
    xmpp_on_tcp_5223: "tcp5223-xmpp", "tcp", 22;
    binary_protocol_on_tcp_5223: "tcp5223-binary", "tcp", 25;
    random_bytes_on_tcp_5223: "tcp5223-random", "tcp", 22;
    tls_example_org_on_tcp_5223: "tcp5223-tls", "tls", 9;
    // UDP in FaceTime's range 16393-16472 that is not FaceTime.
    gnutella_random_dns_in_facetime_range: "udp-facetime-range-other", "dns", 8;
    // Ordinary traffic elsewhere.
    dns_on_udp_53: "dns-53", "dns", 6;
    http_on_tcp_8000: "http-8000", "http", 4;
    tls_on_tcp_443: "tls-443", "tls", 8;
    sip_on_udp_5060: "sip-5060", "sip", 6;
    stun_on_udp_3478: "stun-3478", "stun", 4;
    plain_tcp_on_9000: "tcp-plain-9000", "tcp", 16;
}

/// FaceTime's own classes on FaceTime's own ports (a SIP call, STUN, an RTP stream in
/// 16393-16472) cannot be told from FaceTime by their bytes, and taking them is the plugin's
/// job: there the plugin adds its `facetime` layer on top of stock's reading and must keep
/// that reading — stock's protocols in the same order, stock's Info. Stock's `data` for the
/// RTP stream is the exception the plugin exists for: from the packet that continues a stream
/// (same SSRC, the next sequence number) it is RTP; the first packet, which proves nothing,
/// stays exactly stock's.
const FACETIME_CLASSES: &[(&str, &str, usize)] =
    &[("udp-facetime-range-sip", "sip", 6), ("udp-facetime-range-stun", "stun", 4), ("udp-facetime-range-rtp", "udp", 10)];

fn compare_facetime_class(name: &str) {
    let bytes = std::fs::read(data_dir().join(format!("{name}.pcap"))).unwrap();
    let (stock, plugin) = (Tshark::stock(), Tshark::get());
    let (sf, pf) = (stock.capture(&format!("{name}.pcap"), &bytes), plugin.capture(&format!("{name}.pcap"), &bytes));
    for two_pass in [false, true] {
        let s = reading(stock, &sf, two_pass);
        let p = reading(plugin, &pf, two_pass);
        assert_eq!(s.len(), p.len());
        let (_, expect, min) = FACETIME_CLASSES.iter().find(|(n, _, _)| *n == name).unwrap();
        assert!(s.iter().filter(|f| f.cells[0].1.split(':').any(|x| x == *expect)).count() >= *min, "{name}: stock lost {expect}");
        for (i, (sf, pf)) in s.iter().zip(&p).enumerate() {
            let (sp, pp) = (&sf.cells[0].1, &pf.cells[0].1);
            if name == "udp-facetime-range-rtp" {
                if i == 0 {
                    assert_eq!(sf, pf, "{name} frame 1 (two passes: {two_pass})");
                } else {
                    assert!(pp.ends_with(":udp:facetime:rtp") || pp.contains(":udp:facetime:rtp:"), "{name} frame {}: {pp}", i + 1);
                }
                continue;
            }
            assert_eq!(pp.replacen(":facetime", "", 1), *sp, "{name} frame {} (two passes: {two_pass})", i + 1);
            assert_eq!(sf.cells[2], pf.cells[2], "{name} frame {}: Info (two passes: {two_pass})", i + 1);
        }
    }
}

#[test]
fn sip_call_in_facetime_range_keeps_stocks_reading() {
    compare_facetime_class("udp-facetime-range-sip");
}

#[test]
fn stun_in_facetime_range_keeps_stocks_reading() {
    compare_facetime_class("udp-facetime-range-stun");
}

#[test]
fn rtp_stream_in_facetime_range_is_rtp_from_its_second_packet() {
    compare_facetime_class("udp-facetime-range-rtp");
}

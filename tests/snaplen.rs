//! Captures cut by a snap length are not malformed (issue 12 §3 "One pass vs two" and §4).
//!
//! Every bundled sample (`samples/*.pcap`) is cut with `editcap -s 60`, `-s 96` and `-s 128`
//! (as `tcpdump -s 96` or an rvictl capture would have cut it; the SNATMAP sample's 58-byte
//! datagrams with `-s 46`, `-s 50` and `-s 60`, since longer snap lengths leave them whole)
//! into the harness's temporary
//! folder, and each cut copy is read in one pass and in two (`-2`), with the plugin and with
//! stock tshark (the same tshark in a HOME without the plugin, [`Tshark::stock`]). Asserted:
//!
//! 1. **No Malformed, no Error from the plugin.** No expert item of severity Error raised by
//!    the plugin (an expert whose abbreviation is `snatmap.*`, `apns.*`, `facetime.*` or
//!    `mptcp_annot.*`, or that sits in one of those protocols' trees); no Malformed item in
//!    a plugin protocol's tree; and no exception `[Malformed Packet: X]` in a frame where stock
//!    tshark reads the same cut frame without one (a stock dissector the plugin calls must not
//!    throw because the plugin handed it the packet differently from how stock would have).
//! 2. **One pass = two passes.** Per frame: `frame.protocols`, the Protocol and Info columns,
//!    every field of the plugin's protocols (abbreviation and value) and every plugin expert.
//!    Excluded are only the fields the documentation says need two passes: `snatmap.response_in`
//!    and the second-pass `snatmap.unanswered` (README), `apns.ack_in` (the forward link),
//!    `facetime.answer_in`/`ack_in`/`bye_in` (forward links within a call),
//!    `facetime.setup_time` and `facetime.duration` ("all frames with `-2`", docs/facetime.md),
//!    and `mptcp_annot.conn` / `.conn.*`, `mptcp_annot.sf` / `.sf.*` and `mptcp_annot.handover`
//!    ("per-connection values for the whole capture", "judged when the whole capture has been
//!    seen", docs/mptcp.md; the summary also on the last frame in two passes, docs/json.md). A frame whose `frame.protocols`, Protocol or Info differs between
//!    one and two passes in stock tshark too (stock TLS on a cut ClientHello) is not counted
//!    for that column.
//! 3. **What stock reads in a cut packet is still read.** The oracle is stock tshark on the
//!    *same cut file*, with no Decode As: its heuristics see exactly the bytes that are there,
//!    as they would without the plugin (e.g. SIP's heuristic reads "Status: 100 Trying" in a
//!    FaceTime frame cut to 60 bytes, while the INVITE cut to 60 bytes is only Data to it). A
//!    forced `-d udp.port==16402,sip` would not be an oracle: it sends RTP and STUN to SIP
//!    too. Per frame, with `data` (stock's "nothing recognised") left out of stock's list:
//!    - a frame the plugin claims as one of its own messages (`snatmap`, `apns` in
//!      `frame.protocols`): stock's layers up to the transport (`udp`/`tcp`) are the plugin's
//!      first layers — above that the plugin may replace what stock guessed (stock's RTPS and
//!      MNDP heuristics take cut courier segments and SNATMAP datagrams);
//!    - any other frame (FaceTime hands packets on to SIP/SDP/STUN; the MPTCP and TLS
//!      post-dissectors only annotate): every protocol stock lists appears in the plugin's
//!      `frame.protocols` in the same order, and when stock found a protocol above the
//!      transport the Info column begins with stock's Info (`mptcp_annot` appends its
//!      `[MPTCP …]` note; nothing else may change).
//!
//! Expected values come from stock tshark and from the cut (`editcap`); none from the plugin.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use support::Tshark;

const PLUGIN_PREFIXES: &[&str] = &["snatmap.", "apns.", "facetime.", "mptcp_annot."];
const PLUGIN_PROTOCOLS: &[&str] = &["snatmap", "apns", "apns.tls", "facetime", "mptcp_annot"];
/// Fields documented to need two passes (see the module comment); a name ending in '.' is a prefix.
const TWO_PASS_ONLY: &[&str] = &[
    "snatmap.response_in",
    "snatmap.unanswered",
    "apns.ack_in",
    "facetime.answer_in",
    "facetime.ack_in",
    "facetime.bye_in",
    "facetime.setup_time",
    "facetime.duration",
    "mptcp_annot.conn",
    "mptcp_annot.conn.",
    "mptcp_annot.sf",
    "mptcp_annot.sf.",
    "mptcp_annot.handover",
];
const SEVERITY_ERROR: &str = "8388608";

fn is_plugin_field(name: &str) -> bool {
    PLUGIN_PREFIXES.iter().any(|p| name.starts_with(p)) || PLUGIN_PROTOCOLS.contains(&name)
}

fn two_pass_only(name: &str) -> bool {
    TWO_PASS_ONLY.iter().any(|t| if t.ends_with('.') { name.starts_with(t) } else { name == *t })
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Expert {
    /// The innermost protocol whose tree holds the item.
    proto: String,
    /// The expert's own abbreviation (`apns.truncated`, `_ws.malformed.expert`, …).
    abbrev: String,
    message: String,
    severity: String,
}

impl Expert {
    fn from_plugin(&self) -> bool {
        is_plugin_field(&self.abbrev) || PLUGIN_PROTOCOLS.contains(&self.proto.as_str())
    }
}

#[derive(Clone, Debug, Default)]
struct Packet {
    protocols: String,
    /// `_ws.malformed` items: (show name, innermost enclosing protocol or "" at top level).
    /// An exception makes a top-level `[Malformed Packet: X]`; a dissector that reports a
    /// malformation itself adds a hidden `Malformed Packet` inside its own tree.
    malformed: Vec<(String, String)>,
    experts: Vec<Expert>,
    /// The plugin's fields in tree order: (abbreviation, shown value).
    plugin_fields: Vec<(String, String)>,
    protocol_col: String,
    info_col: String,
}

fn attr(line: &str, key: &str) -> Option<String> {
    let pat = format!(" {key}=\"");
    let start = line.find(&pat)? + pat.len();
    let end = start + line[start..].find('"')?;
    Some(unescape(&line[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// Reads tshark's PDML (one element per line): per packet, frame.protocols, the Malformed
/// items, every expert item with the protocol it sits in, and the plugin's fields.
fn parse_pdml(xml: &str) -> Vec<Packet> {
    let mut packets = Vec::new();
    let mut cur: Option<Packet> = None;
    // Open elements: (is_proto, name); the expert being read.
    let mut stack: Vec<(bool, String)> = Vec::new();
    let mut expert: Option<(usize, Expert)> = None;
    for raw in xml.lines() {
        let line = raw.trim();
        if line == "<packet>" {
            cur = Some(Packet::default());
            stack.clear();
            continue;
        }
        if line == "</packet>" {
            packets.push(cur.take().expect("packet open"));
            continue;
        }
        let Some(p) = cur.as_mut() else { continue };
        if line.starts_with("</proto>") || line.starts_with("</field>") {
            stack.pop();
            if let Some((depth, _)) = &expert {
                if stack.len() < *depth {
                    p.experts.push(expert.take().unwrap().1);
                }
            }
            continue;
        }
        let is_proto = line.starts_with("<proto ");
        if !is_proto && !line.starts_with("<field ") {
            continue;
        }
        let name = attr(line, "name").unwrap_or_default();
        let show = attr(line, "show");
        if name == "frame.protocols" {
            p.protocols = show.clone().unwrap_or_default();
        }
        if is_proto && name == "_ws.malformed" {
            let within = stack.iter().rev().find(|(is_p, _)| *is_p).map(|(_, n)| n.clone()).unwrap_or_default();
            p.malformed.push((attr(line, "showname").unwrap_or_default(), within));
        }
        if let Some((_, e)) = expert.as_mut() {
            match name.as_str() {
                "_ws.expert.message" => e.message = show.clone().unwrap_or_default(),
                "_ws.expert.severity" => e.severity = show.clone().unwrap_or_default(),
                "_ws.expert.group" => {}
                n if e.abbrev.is_empty() => e.abbrev = n.to_string(),
                _ => {}
            }
        } else if name == "_ws.expert" {
            let proto = stack.iter().rev().find(|(is_p, _)| *is_p).map(|(_, n)| n.clone()).unwrap_or_default();
            expert = Some((stack.len() + 1, Expert { proto, abbrev: String::new(), message: String::new(), severity: String::new() }));
        } else if is_plugin_field(&name) {
            p.plugin_fields.push((name.clone(), show.clone().unwrap_or_else(|| attr(line, "showname").unwrap_or_default())));
        }
        if !line.ends_with("/>") {
            stack.push((is_proto, name));
        } else if let Some((depth, _)) = &expert {
            // A self-closing _ws.expert (never seen, but keep the stack consistent).
            if stack.len() + 1 == *depth && name == "_ws.expert" {
                p.experts.push(expert.take().unwrap().1);
            }
        }
    }
    packets
}

/// One reading of a cut file: PDML (tree) and the summary columns (no tree).
fn reading(t: &Tshark, file: &str, two_pass: bool) -> Vec<Packet> {
    let mut args = vec!["-r", file, "-n", "-T", "pdml"];
    if two_pass {
        args.push("-2");
    }
    let mut packets = parse_pdml(&t.stdout(&args));
    let cols = t.columns(file, &[("No.", "%m"), ("Protocol", "%p"), ("Info", "%i")], if two_pass { &["-2"] } else { &[] });
    assert_eq!(packets.len(), cols.len(), "{file}: PDML and summary disagree on the frame count");
    for (i, (p, c)) in packets.iter_mut().zip(cols).enumerate() {
        assert_eq!(c[0], (i + 1).to_string(), "{file}: summary row {c:?}");
        p.protocol_col = c[1].clone();
        p.info_col = c[2].clone();
    }
    packets
}

/// `editcap -F nsecpcap -s snaplen` of `samples/<name>` (the samples' own format; editcap
/// would write pcapng by default), readable by `t`; returns its host path and its
/// name as tshark sees it.
fn cut(t: &Tshark, name: &str, snaplen: u32) -> (std::path::PathBuf, String) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name);
    let (host, seen) = t.temp_file(&format!("{}-s{snaplen}.pcap", name.trim_end_matches(".pcap")));
    let editcap = std::env::var("EDITCAP").unwrap_or_else(|_| "editcap".into());
    let out = std::process::Command::new(&editcap).args(["-F", "nsecpcap", "-s"]).arg(snaplen.to_string()).arg(&src).arg(&host).output().expect("editcap runs");
    assert!(out.status.success(), "editcap -s {snaplen} {}: {}", src.display(), String::from_utf8_lossy(&out.stderr));
    let _ = std::process::Command::new("chmod").arg("a+r").arg(&host).status();
    (host, seen)
}

fn layers(protocols: &str) -> Vec<&str> {
    protocols.split(':').filter(|p| !p.is_empty()).collect()
}

fn is_subsequence(needle: &[&str], hay: &[&str]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|n| it.any(|h| h == n))
}

/// The plugin's per-frame reading that must not depend on the number of passes.
fn pass_view(p: &Packet) -> Vec<(String, String)> {
    let mut v = vec![
        ("frame.protocols".to_string(), p.protocols.clone()),
        ("Protocol".to_string(), p.protocol_col.clone()),
        ("Info".to_string(), p.info_col.clone()),
    ];
    v.extend(p.plugin_fields.iter().filter(|(n, _)| !two_pass_only(n)).cloned());
    v.extend(p.experts.iter().filter(|e| e.from_plugin() && !two_pass_only(&e.abbrev)).map(|e| (format!("expert {}", e.abbrev), e.message.clone())));
    v
}

fn check(name: &str, snaplen: u32) {
    let (t, stock) = (Tshark::get(), Tshark::stock());
    let (pf, sf) = (cut(t, name, snaplen).1, cut(stock, name, snaplen).1);
    let mut problems: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut readings = Vec::new();
    for (two_pass, mode) in [(false, "1 pass"), (true, "2 passes")] {
        let plugin = reading(t, &pf, two_pass);
        let oracle = reading(stock, &sf, two_pass);
        assert_eq!(plugin.len(), oracle.len(), "{name} -s {snaplen} ({mode}): frame counts");
        assert!(!plugin.is_empty());
        assert!(
            oracle.iter().all(|p| layers(&p.protocols).iter().all(|l| !PLUGIN_PROTOCOLS.contains(l))),
            "{name}: the stock run knows the plugin's protocols"
        );
        for (i, (p, s)) in plugin.iter().zip(&oracle).enumerate() {
            let n = i + 1;
            // 1. Errors and Malformed.
            for e in p.experts.iter().filter(|e| e.from_plugin() && e.severity == SEVERITY_ERROR) {
                problems.entry("1. Error expert from the plugin").or_default().push(format!(
                    "{mode} frame {n}: {} in {}: {}",
                    e.abbrev, e.proto, e.message
                ));
            }
            // Malformed: an exception (top-level `[Malformed Packet: X]`) where stock's reading
            // of the same cut frame has none, or a malformation inside a plugin protocol.
            let top = |q: &Packet| q.malformed.iter().filter(|(_, w)| w.is_empty()).count();
            let in_plugin: Vec<&(String, String)> = p.malformed.iter().filter(|(_, w)| PLUGIN_PROTOCOLS.contains(&w.as_str())).collect();
            if (top(p) > 0 && top(s) == 0) || !in_plugin.is_empty() {
                let shown: Vec<String> =
                    p.malformed.iter().map(|(m, w)| if w.is_empty() { m.clone() } else { format!("{m} in {w}") }).collect();
                problems.entry("1. Malformed where stock is not").or_default().push(format!(
                    "{mode} frame {n}: {} (stock: {} | {})",
                    shown.join(", "),
                    s.protocols,
                    s.info_col
                ));
            }
            // 3. Stock's reading of the cut bytes is kept.
            let sl: Vec<&str> = layers(&s.protocols).into_iter().filter(|l| *l != "data").collect();
            let pl = layers(&p.protocols);
            let transport = sl.iter().position(|l| *l == "udp" || *l == "tcp");
            let own = pl.iter().any(|l| *l == "snatmap" || *l == "apns");
            let bad = if own {
                let below = transport.map(|i| &sl[..=i]).unwrap_or(&sl[..]);
                !pl.starts_with(below)
            } else {
                let pl_stock: Vec<&str> = pl.iter().copied().filter(|l| !PLUGIN_PROTOCOLS.contains(l)).collect();
                let above = transport.is_some_and(|i| i + 1 < sl.len());
                !is_subsequence(&sl, &pl_stock) || (above && !p.info_col.starts_with(&s.info_col))
            };
            if bad {
                problems.entry("3. Stock's reading of the cut packet lost").or_default().push(format!(
                    "{mode} frame {n}:\n      stock : {} | {}\n      plugin: {} | {}",
                    s.protocols, s.info_col, p.protocols, p.info_col
                ));
            }
        }
        readings.push((plugin, oracle));
    }
    // 2. One pass = two passes.
    let ((p1, s1), (p2, s2)) = (&readings[0], &readings[1]);
    for (i, (one, two)) in p1.iter().zip(p2).enumerate() {
        let stock_varies = |k: &str| {
            let col = |p: &Packet| match k {
                "frame.protocols" => p.protocols.clone(),
                "Protocol" => p.protocol_col.clone(),
                _ => p.info_col.clone(),
            };
            col(&s1[i]) != col(&s2[i])
        };
        let keep = |v: Vec<(String, String)>| -> Vec<(String, String)> {
            v.into_iter().filter(|(k, _)| !(["frame.protocols", "Protocol", "Info"].contains(&k.as_str()) && stock_varies(k))).collect()
        };
        let (a, b) = (keep(pass_view(one)), keep(pass_view(two)));
        if a != b {
            let mut lines = Vec::new();
            let keys: Vec<&String> = a.iter().chain(&b).map(|(k, _)| k).collect();
            let mut seen = Vec::new();
            for k in keys {
                if seen.contains(&k) {
                    continue;
                }
                seen.push(k);
                let va: Vec<&str> = a.iter().filter(|(x, _)| x == k).map(|(_, v)| v.as_str()).collect();
                let vb: Vec<&str> = b.iter().filter(|(x, _)| x == k).map(|(_, v)| v.as_str()).collect();
                if va != vb {
                    lines.push(format!("      {k}: 1 pass {va:?} / 2 passes {vb:?}"));
                }
            }
            problems.entry("2. One pass differs from two").or_default().push(format!("frame {}:\n{}", i + 1, lines.join("\n")));
        }
    }
    if !problems.is_empty() {
        let mut report = format!("{name} cut to {snaplen} bytes:");
        // APPLESHARK_SHOW_ALL=1 lists every item instead of the first 10 of each kind.
        let shown = if std::env::var_os("APPLESHARK_SHOW_ALL").is_some() { usize::MAX } else { 10 };
        for (kind, items) in &problems {
            report.push_str(&format!("\n  {kind} ({} items):", items.len()));
            for it in items.iter().take(shown) {
                report.push_str(&format!("\n    {it}"));
            }
            if items.len() > shown {
                report.push_str(&format!("\n    … and {} more (APPLESHARK_SHOW_ALL=1 shows all)", items.len() - shown));
            }
        }
        panic!("{report}");
    }
}

/// (captured, original) length of every record of a classic pcap file.
fn record_lengths(pcap: &[u8]) -> Vec<(u32, u32)> {
    let le = match pcap[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => true,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => false,
        _ => panic!("not a classic pcap file"),
    };
    let u32_at = |o: usize| {
        let b: [u8; 4] = pcap[o..o + 4].try_into().unwrap();
        if le { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) }
    };
    let (mut off, mut out) = (24, Vec::new());
    while off + 16 <= pcap.len() {
        let (incl, orig) = (u32_at(off + 8), u32_at(off + 12));
        out.push((incl, orig));
        off += 16 + incl as usize;
    }
    assert_eq!(off, pcap.len(), "trailing bytes");
    out
}

/// The cut copies really are cut (the SNATMAP sample's datagrams are 58 bytes, so only its 46-
/// and 50-byte cuts reach into the payload), and PDML parsing finds the frames and experts
/// stock reports (so the checks above see something).
#[test]
fn cuts_are_real_and_the_reading_is_parsed() {
    let stock = Tshark::stock();
    for name in SAMPLES {
        let mut cut_something = false;
        for &(_, s) in CUTS.iter().filter(|(n, _)| n == name) {
            let (host, _) = cut(stock, name, s);
            let lens = record_lengths(&std::fs::read(&host).unwrap());
            let orig = record_lengths(&std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name)).unwrap());
            assert_eq!(lens.len(), orig.len(), "{name} -s {s}: frame count");
            for ((ci, co), (oi, oo)) in lens.iter().zip(&orig) {
                assert_eq!((*ci, *co), ((*oi).min(s), *oo), "{name} -s {s}");
            }
            cut_something |= lens.iter().any(|(i, o)| i < o);
        }
        assert!(cut_something, "{name}: no cut shortened any frame");
    }
    // PDML parsing: TCP's SYN chat expert is found, in the tcp tree, with frame.protocols.
    let r = reading(stock, &cut(stock, "apns-demo.pcap", 60).1, false);
    assert_eq!(r.len(), record_lengths(&std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/apns-demo.pcap")).unwrap()).len());
    assert_eq!(r[0].protocols, "eth:ethertype:ip:tcp");
    assert!(r[0].experts.iter().any(|e| e.abbrev == "tcp.connection.syn" && e.proto == "tcp" && e.severity == "2097152"), "{:?}", r[0]);
}

/// Every sample in samples/ is covered.
#[test]
fn every_sample_is_cut() {
    let mut files: Vec<String> = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("samples"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".pcap"))
        .collect();
    files.sort();
    let mut ours: Vec<String> = SAMPLES.iter().map(|s| s.to_string()).collect();
    ours.sort();
    assert_eq!(files, ours);
}

const SAMPLES: &[&str] = &["snatmap-demo.pcap", "apns-demo.pcap", "facetime-demo.pcap", "mptcp-demo.pcap"];

macro_rules! cut_tests {
    ($($test:ident: $file:literal, $snap:literal;)*) => {
        /// Every (sample, snap length) tested.
        const CUTS: &[(&str, u32)] = &[$(($file, $snap)),*];
        $(
            #[test]
            fn $test() {
                check($file, $snap);
            }
        )*
    };
}

cut_tests! {
    snatmap_demo_cut_46: "snatmap-demo.pcap", 46;
    snatmap_demo_cut_50: "snatmap-demo.pcap", 50;
    snatmap_demo_cut_60: "snatmap-demo.pcap", 60;
    apns_demo_cut_60: "apns-demo.pcap", 60;
    apns_demo_cut_96: "apns-demo.pcap", 96;
    apns_demo_cut_128: "apns-demo.pcap", 128;
    facetime_demo_cut_60: "facetime-demo.pcap", 60;
    facetime_demo_cut_96: "facetime-demo.pcap", 96;
    facetime_demo_cut_128: "facetime-demo.pcap", 128;
    mptcp_demo_cut_60: "mptcp-demo.pcap", 60;
    mptcp_demo_cut_96: "mptcp-demo.pcap", 96;
    mptcp_demo_cut_128: "mptcp-demo.pcap", 128;
}

//! The plugin's names as Wireshark shows them (issue 15, item 4): protocol names (`-G
//! protocols`, the packet details pane, Enabled Protocols), the statistics' titles (the GUI's
//! menu entries and dialog titles; tshark prints the same title above its `-z` output), the
//! FaceTime calls table that the GUI lists under Telephony, and the Protocol column the
//! dissectors write.
//!
//! One pattern for the names:
//! - a protocol's full name says what it is, in words: "Apple …" for Apple's own protocols,
//!   no parenthesised qualifier and no tool name; its short name is what the Protocol column
//!   and filters' documentation show;
//! - a statistics entry is "<protocol's short name> <what one row or top item is>", in
//!   Wireshark's title case ("VoIP Calls", "SIP Flows", "UDP Multicast Streams").
//!
//! Which menu an entry is in is not visible to tshark: the GUI test (tests/gui/gui-test.sh)
//! opens each one through its menu (FaceTime Calls through Telephony).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;
use support::gen_facetime::{media_burst, request, response, sa, sdp, streams, Gen, Parties};
use support::{samples, Tshark};

/// (full name, short name, filter name) of the plugin's five protocols.
const PROTOCOLS: [(&str, &str, &str); 6] = [
    ("Apple NAT mapping", "SNATMAP", "snatmap"),
    ("Apple Push Notification service courier", "APNs", "apns"),
    ("Apple Push Notification service courier over TLS", "APNs-TLS", "apns.tls"),
    ("Apple FaceTime", "FaceTime", "facetime"),
    ("Multipath TCP annotations", "MPTCP-annot", "mptcp_annot"),
    // The TCP hook that runs apns.tls and mptcp_annot (one post-dissector for both): a
    // helper "in name only" of TCP, never in a tree, not switched on its own.
    ("Apple TCP post-dissection", "Apple-TCP", "apple_tcp"),
];

/// The plugin's statistics: `-z` argument → title. Trees for tshark's `<abbr>,tree`, tables
/// for `<cli>[,filter]`.
const STATISTICS: [(&str, &str); 5] = [
    ("apns,tree", "APNs Connections"),
    ("facetime_calls,tree", "FaceTime Packets"),
    ("facetime,calls", "FaceTime Calls"),
    ("mptcp_annot,conn", "MPTCP Connections"),
    ("mptcp_annot,subflows", "MPTCP Subflows"),
];

/// `-G protocols` lines as (full, short, filter) (4.0 prints three columns; 4.4 and later add
/// enabled flags).
fn protocols(t: &Tshark) -> BTreeSet<(String, String, String)> {
    t.stdout(&["-G", "protocols"])
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.len() >= 3).then(|| (c[0].to_string(), c[1].to_string(), c[2].to_string()))
        })
        .collect()
}

/// The plugin registers exactly these six protocols (what `-G protocols` lists with the
/// plugin and not without), named by the pattern, and no name of theirs is, in any letter
/// case, a name stock Wireshark uses (stock's "mptcp" is "Multipath Transmission Control
/// Protocol", short name "MPTCP").
#[test]
fn protocol_names() {
    let (t, stock) = (Tshark::get(), Tshark::stock());
    let (with, without) = (protocols(t), protocols(stock));
    let ours: BTreeSet<(String, String, String)> = with.difference(&without).cloned().collect();
    let want: BTreeSet<(String, String, String)> = PROTOCOLS.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(ours, want);
    let taken: BTreeSet<String> = without.iter().flat_map(|(a, b, c)| [a, b, c]).map(|s| s.to_lowercase()).collect();
    for (full, short, filter) in PROTOCOLS {
        for n in [full, short, filter] {
            assert!(!taken.contains(&n.to_lowercase()), "{n:?} is (in some letter case) a name of a stock protocol");
        }
        assert!(!full.contains('(') && !full.to_lowercase().contains("appleshark"), "{full:?}");
        assert!(full.starts_with("Apple ") || filter == "mptcp_annot", "{full:?}: Apple's protocols are named Apple …");
        assert!(short.len() <= 11, "{short:?}");
    }
}

/// The `-z` arguments the plugin adds (tshark -z help, with and without it) are the four
/// statistics, and each prints its title: "<short name> <Things>".
#[test]
fn statistics_titles() {
    let (t, stock) = (Tshark::get(), Tshark::stock());
    let zlist = |t: &Tshark| -> BTreeSet<String> {
        // tshark -z help lists one argument per indented line, on stderr (4.0), and exits 0.
        let o = t.run(&["-z", "help"]);
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        out.lines().filter(|l| l.starts_with(' ')).map(|l| l.trim().to_string()).collect()
    };
    let ours: BTreeSet<String> = zlist(t).difference(&zlist(stock)).cloned().collect();
    assert_eq!(ours, STATISTICS.iter().map(|(z, _)| z.to_string()).collect::<BTreeSet<_>>());
    let file = t.capture("menus-snatmap.pcap", &samples::snatmap_demo());
    let shorts = ["APNs", "FaceTime", "MPTCP"];
    for (z, title) in STATISTICS {
        let out = t.stdout(&["-r", &file, "-n", "-q", "-z", z]);
        // The title follows the first rule of '=' (trees and tables alike).
        let got = out.lines().skip_while(|l| !l.starts_with("===")).nth(1).unwrap_or_default();
        assert_eq!(got, format!("{title}:"), "-z {z}:\n{out}");
        let (p, what) = title.split_once(' ').unwrap();
        assert!(shorts.contains(&p), "{title}");
        assert!(what.starts_with(|c: char| c.is_ascii_uppercase()) && what.ends_with('s') && !what.contains(' '), "{title}");
    }
}

// ---- the FaceTime calls table (Telephony → FaceTime Calls) -----------------------------------

struct Call {
    p: Parties,
    invite: u32,
    ack: Option<u32>,
    bye: Option<u32>,
    sip: u32,
    streams: u32,
    media: u32,
}

fn party(n: u8, call_id: &'static str, caller_uri: &'static str, callee_uri: &'static str) -> Parties {
    Parties {
        caller: sa(&format!("198.51.100.{n}:16402")),
        callee: sa(&format!("10.0.1.{n}:16402")),
        caller_uri,
        callee_uri,
        call_id,
    }
}

/// Three calls on the FaceTime port: one from INVITE to BYE with RTCP, one answered and still
/// going at the end of the capture, one that never got past its INVITE.
fn three_calls() -> (Gen, Vec<Call>) {
    let mut g = Gen::new(15);
    let mut calls = Vec::new();
    let ps = [
        party(7, "call-a-0001", "sip:+18883223846@198.51.100.7:16402", "sip:+15555550123@10.0.1.7:16402"),
        party(8, "call-b-0002", "sip:+18883220000@198.51.100.8:16402", "sip:+15555550188@10.0.1.8:16402"),
        party(9, "call-c-0003", "sip:+18883229999@198.51.100.9:16402", "sip:+15555550199@10.0.1.9:16402"),
    ];
    let [a, b, c] = ps;
    let offer = |p: &Parties| sdp("caller", p.caller.ip(), p.caller.port());
    let answer = |p: &Parties| sdp("callee", p.callee.ip(), p.callee.port());

    // Call 1: complete.
    let invite = g.sip(a.caller, a.callee, &request("INVITE", &a, true, 1, None, Some("application/sdp"), &offer(&a)));
    g.sip(a.callee, a.caller, &response(100, "Trying", &a, true, 1, "INVITE", None, ""));
    g.sip(a.callee, a.caller, &response(180, "Ringing", &a, true, 1, "INVITE", None, ""));
    g.sip(a.callee, a.caller, &response(200, "OK", &a, true, 1, "INVITE", Some("application/sdp"), &answer(&a)));
    let ack = g.sip(a.caller, a.callee, &request("ACK", &a, true, 1, Some("callee-tag-9"), None, ""));
    let mut sa_ = streams(&a);
    media_burst(&mut g, &mut sa_, 10, true);
    // Call 2 starts while call 1 goes on.
    let invite_b = g.sip(b.caller, b.callee, &request("INVITE", &b, true, 1, None, Some("application/sdp"), &offer(&b)));
    g.sip(b.callee, b.caller, &response(200, "OK", &b, true, 1, "INVITE", Some("application/sdp"), &answer(&b)));
    let ack_b = g.sip(b.caller, b.callee, &request("ACK", &b, true, 1, Some("callee-tag-9"), None, ""));
    let mut sb = streams(&b);
    media_burst(&mut g, &mut sb, 5, false);
    let bye = g.sip(a.callee, a.caller, &request("BYE", &a, false, 1, Some("callee-tag-9"), None, ""));
    g.sip(a.caller, a.callee, &response(200, "OK", &a, false, 1, "BYE", None, ""));
    // Call 3: an INVITE nobody answers but "Trying".
    let invite_c = g.sip(c.caller, c.callee, &request("INVITE", &c, true, 1, None, Some("application/sdp"), &offer(&c)));
    g.sip(c.callee, c.caller, &response(100, "Trying", &c, true, 1, "INVITE", None, ""));

    calls.push(Call { p: a, invite, ack: Some(ack), bye: Some(bye), sip: 7, streams: 6, media: 44 });
    calls.push(Call { p: b, invite: invite_b, ack: Some(ack_b), bye: None, sip: 3, streams: 4, media: 20 });
    calls.push(Call { p: c, invite: invite_c, ack: None, bye: None, sip: 2, streams: 0, media: 0 });
    // The counts above, from the generator's own record.
    let media_of = |s: &[support::gen_facetime::Stream]| s.iter().map(|x| x.sent).sum::<u32>();
    assert_eq!(media_of(&sa_) + 4, 44);
    assert_eq!(media_of(&sb), 20);
    assert_eq!(g.rec.sip.len(), 12);
    (g, calls)
}

/// `tshark -z facetime,calls[,filter]` rows, cells split on " |" and trimmed.
fn calls_rows(t: &Tshark, file: &str, filter: Option<&str>) -> (String, Vec<Vec<String>>) {
    let z = match filter {
        Some(f) => format!("facetime,calls,{f}"),
        None => "facetime,calls".to_string(),
    };
    let out = t.stdout(&["-r", file, "-n", "-q", "-z", &z]);
    let rows = out
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.trim_end_matches(" |").split(" |").map(|s| s.trim().to_string()).collect())
        .collect();
    (out, rows)
}

/// One row per call, in order: parties and Call-ID from the SIP the generator wrote, start
/// (the INVITE's time from the first frame), set-up time (INVITE → ACK), duration (INVITE →
/// BYE), state, and the call's SIP messages, media streams and media packets.
#[test]
fn facetime_calls_table_lists_each_call() {
    let t = Tshark::get();
    let (g, calls) = three_calls();
    let file = t.capture("menus-three-calls.pcap", &g.cap.to_bytes());
    let (out, rows) = calls_rows(t, &file, None);
    let header = out.lines().find(|l| l.starts_with("Call |")).unwrap_or_else(|| panic!("{out}"));
    assert_eq!(
        header.trim_end_matches(" |").split(" |").collect::<Vec<_>>(),
        ["Call", "Caller", "Callee", "Call-ID", "Start (s)", "Set-up (ms)", "Duration (s)", "State", "SIP messages", "Streams", "Media packets"]
    );
    let at = |f: u32| g.rec.times[&f];
    let want: Vec<Vec<String>> = calls
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let setup = c.ack.map(|a| (at(a) - at(c.invite)).as_millis().to_string()).unwrap_or("-".into());
            let dur = c.bye.map(|b| format!("{:.3}", (at(b) - at(c.invite)).as_secs_f64())).unwrap_or("-".into());
            let state = if c.bye.is_some() { "Completed" } else if c.ack.is_some() { "In call" } else { "Call set-up" };
            vec![
                (i + 1).to_string(),
                c.p.caller_uri.to_string(),
                c.p.callee_uri.to_string(),
                c.p.call_id.to_string(),
                format!("{:.6}", at(c.invite).as_secs_f64()),
                setup,
                dur,
                state.to_string(),
                c.sip.to_string(),
                c.streams.to_string(),
                c.media.to_string(),
            ]
        })
        .collect();
    assert_eq!(rows, want, "{out}");
    assert_eq!(at(calls[0].invite), Duration::ZERO, "the capture starts with call 1's INVITE");
}

/// The table's filter decides which packets count: with `rtp || rtcp` only the calls with media
/// have a row, known from their media (no Call-ID, no INVITE seen: "-"), SIP counted 0; with
/// `sip` the media columns are 0 and the SIP facts are whole.
#[test]
fn facetime_calls_table_follows_its_filter() {
    let t = Tshark::get();
    let (g, calls) = three_calls();
    let file = t.capture("menus-three-calls-f.pcap", &g.cap.to_bytes());
    let (out, rows) = calls_rows(t, &file, Some("rtp || rtcp"));
    assert_eq!(rows.len(), 2, "{out}");
    for (r, c) in rows.iter().zip(&calls) {
        assert_eq!(r[1..4], [c.p.caller_uri.to_string(), c.p.callee_uri.to_string(), "-".to_string()], "{out}");
        assert_eq!(r[4], "-", "{out}");
        assert_eq!(r[8..], [0.to_string(), c.streams.to_string(), c.media.to_string()], "{out}");
    }
    let (out, rows) = calls_rows(t, &file, Some("sip"));
    assert_eq!(rows.len(), 3, "{out}");
    for (r, c) in rows.iter().zip(&calls) {
        assert_eq!(r[3], c.p.call_id, "{out}");
        assert_eq!(r[8..], [c.sip.to_string(), "0".into(), "0".into()], "{out}");
    }
}

// ---- the Protocol column ----------------------------------------------------------------------

/// Every capture the tests read from disk or generate as samples: name → bytes.
fn captures() -> BTreeMap<String, Vec<u8>> {
    let mut all: BTreeMap<String, Vec<u8>> = samples::all().into_iter().map(|(n, b)| (n.to_string(), b)).collect();
    let other = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/other");
    for e in std::fs::read_dir(&other).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "pcap") {
            all.insert(p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap());
        }
    }
    all
}

/// (frame.protocols, Protocol column) of every frame, in one pass (as tshark prints by default)
/// or two.
fn protocol_column(t: &Tshark, file: &str, two_pass: bool) -> Vec<(String, String)> {
    let extra: &[&str] = if two_pass { &["-2"] } else { &[] };
    let layers = t.fields(file, None, &["frame.protocols"], extra);
    let cols = t.columns(file, &[("Protocol", "%p")], extra);
    assert_eq!(layers.len(), cols.len());
    layers.into_iter().zip(cols).map(|(l, c)| (l[0].clone(), c[0].clone())).collect()
}

/// The Protocol column fits Wireshark's default column (as wide as "Protocol": 4.0
/// `epan/column.c`, `get_column_longest_string`, used by `ui/qt/packet_list.cpp` for a column
/// with no remembered width): where the plugin writes it, or the last dissector on the frame is
/// the plugin's, it is at most 8 characters — the APNs JSON payload no longer makes it
/// "APNs/JSON", cut to "APNs/J…". On the samples the values (one pass) are exactly these.
#[test]
fn protocol_column_fits() {
    let t = Tshark::get();
    let shorts = ["SNATMAP", "APNs", "FaceTime", "MPTCP-annot", "APNs-TLS"];
    let filters: Vec<&str> = PROTOCOLS.iter().map(|p| p.2).collect();
    let mut json_frames = 0;
    for (name, bytes) in captures() {
        let file = t.capture(&name, &bytes);
        let (one, two) = (protocol_column(t, &file, false), protocol_column(t, &file, true));
        for (i, (layers, col)) in one.iter().chain(&two).enumerate() {
            let i = i % one.len();
            let last = layers.rsplit(':').next().unwrap_or_default();
            let ours = filters.contains(&last) || shorts.iter().any(|s| col.starts_with(s));
            if ours {
                assert!(col.chars().count() <= 8, "{name} frame {}: Protocol column {col:?} ({layers})", i + 1);
            }
            if layers.contains(":apns:") && layers.ends_with(":json") {
                json_frames += 1;
                assert_eq!(col, "APNs", "{name} frame {}: ({layers})", i + 1);
            }
        }
    }
    assert!(json_frames > 0, "no sample has an APNs message with a JSON payload");
    let want: [(&str, &[&str]); 4] = [
        ("snatmap-demo.pcap", &["SNATMAP"]),
        ("apns-demo.pcap", &["APNs", "TCP"]),
        ("facetime-demo.pcap", &["RTCP", "RTP", "SIP", "SIP/SDP", "SNATMAP", "STUN"]),
        ("mptcp-demo.pcap", &["MPTCP", "TLSv1", "TLSv1.2"]),
    ];
    for (name, values) in want {
        let file = t.capture(name, &captures()[name]);
        let got: BTreeSet<String> = protocol_column(t, &file, false).into_iter().map(|(_, c)| c).collect();
        assert_eq!(got, values.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(), "{name}");
    }
}

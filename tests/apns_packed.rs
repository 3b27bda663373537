//! Golden tests of the packed framing (apns-pack-v1).
//!
//! Ground truth from an implementation nobody here wrote: rustpush's codec, run as a courier
//! client and server (tests/data/apns-packed: make.sh, README.md), captured over TLS (with
//! the client's key log) and plain TCP. Each side wrote a JSON line for every message it
//! sent and received; for a received one what rustpush's decoder read: the attributes, for
//! each its key, where the key came from (inline, new, key-cache index), where the value came
//! from (inline, new and cached, value-cache index) and the value (dictionaries and arrays
//! nested). The tests assert, message by message, that the plugin decodes the capture to
//! exactly that, in one pass and in two, and that the fields shared with the classic
//! framing (command, token, topic, message id, status, iMessage envelope, ack links,
//! `-z apns,tree`) agree with it.
//!
//! The malformed cases rustpush's encoder cannot make come from tests/support/gen_packed.rs
//! (our encoder, from the facts in docs/apns.md); their expected anomalies are stated by
//! the test that builds them.

mod support;

use serde_json::Value as J;
use std::collections::HashMap;
use std::path::PathBuf;
use support::gen_packed::*;
use support::{Capture, Dir, TcpFlow, Tshark};

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/apns-packed")
}

/// A file of tests/data/apns-packed where tshark can read it.
fn stage(t: &Tshark, name: &str) -> String {
    let bytes = std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    t.capture(name, &bytes)
}

fn jsonl(name: &str) -> Vec<J> {
    std::fs::read_to_string(data_dir().join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// One oracle session.
struct Oracle {
    name: &'static str,
    tls: bool,
    /// What `apns.packed.cache_sizes` must say: "1" by the ALPN `apns-pack-v1`, "0"
    /// assumed (no ALPN the plugin can see).
    sizes: &'static str,
    /// What the server received (device to server), then what the client received.
    c2s: Vec<J>,
    s2c: Vec<J>,
    sent_c2s: Vec<J>,
    sent_s2c: Vec<J>,
}

fn oracle(name: &'static str, tls: bool) -> Oracle {
    let sizes = if name == "packed-tls" { "1" } else { "0" };
    let client = jsonl(&format!("{name}.client.jsonl"));
    let server = jsonl(&format!("{name}.server.jsonl"));
    let of = |v: &[J], ev: &str| v.iter().filter(|m| m["event"] == ev).cloned().collect::<Vec<J>>();
    let o = Oracle { name, tls, sizes, c2s: of(&server, "received"), s2c: of(&client, "received"), sent_c2s: of(&client, "sent"), sent_s2c: of(&server, "sent") };
    // The record is sound: every message sent was received, byte for byte.
    assert_eq!(o.c2s.len(), o.sent_c2s.len());
    assert_eq!(o.s2c.len(), o.sent_s2c.len());
    for (a, b) in o.c2s.iter().zip(&o.sent_c2s).chain(o.s2c.iter().zip(&o.sent_s2c)) {
        assert_eq!(a["raw"], b["raw"]);
    }
    o
}

/// Every message the plugin shows, in capture order: (frame, its `apns` object).
fn decoded(t: &Tshark, o: &Oracle, two_pass: bool) -> Vec<(u64, J)> {
    let pcap = stage(t, &format!("{}.pcapng", o.name));
    let mut args = vec!["-r", pcap.as_str(), "-n", "-Y", "apns", "-T", "json", "--no-duplicate-keys", "-J", "frame apns"];
    let kl;
    if o.tls {
        kl = format!("tls.keylog_file:{}", stage(t, &format!("{}.keys", o.name)));
        args.extend(["-o", kl.as_str()]);
    }
    if two_pass {
        args.push("-2");
    }
    let out = t.run(&args);
    let v: J = serde_json::from_slice(&out.stdout).expect("tshark -T json");
    let mut msgs = vec![];
    for p in v.as_array().unwrap() {
        let layers = &p["_source"]["layers"];
        let frame: u64 = layers["frame"]["frame.number"].as_str().unwrap().parse().unwrap();
        for m in list(&layers["apns"]) {
            msgs.push((frame, m.clone()));
        }
    }
    msgs
}

/// A JSON value that is one object or an array of them (tshark merges repeated keys).
fn list(v: &J) -> Vec<&J> {
    match v {
        J::Array(a) => a.iter().collect(),
        J::Null => vec![],
        o => vec![o],
    }
}

fn s<'a>(v: &'a J, k: &str) -> &'a str {
    v.get(k).and_then(J::as_str).unwrap_or_else(|| panic!("{k} missing in {v}"))
}

fn opt<'a>(v: &'a J, k: &str) -> Option<&'a str> {
    v.get(k).and_then(J::as_str)
}

fn bytes(v: &str) -> String {
    v.replace(':', "")
}

fn code(src: &str) -> &'static str {
    match src {
        "inline" => "0",
        "new" => "1",
        "cache" => "2",
        x => panic!("source {x}"),
    }
}

/// The plugin's attribute `got` is the oracle's `want`; `path` names it in messages.
/// Returns the number of attributes compared (nested ones included) and of cache hits.
fn same_attr(got: &J, want: &J, path: &str, n: &mut Counts) {
    n.attrs += 1;
    assert_eq!(bytes(s(got, "apns.packed.key")), s(want, "key"), "{path}: key");
    assert_eq!(s(got, "apns.packed.key_from"), code(s(want, "key_from")), "{path}: key from");
    if want["key_from"] == "cache" {
        n.key_hits += 1;
        assert_eq!(s(got, "apns.packed.key_index"), want["key_index"].to_string(), "{path}: key index");
    }
    assert_eq!(s(got, "apns.packed.value_from"), code(s(want, "value_from")), "{path}: value from");
    if want["value_from"] == "cache" {
        n.value_hits += 1;
        assert_eq!(s(got, "apns.packed.value_index"), want["value_index"].to_string(), "{path}: value index");
    }
    same_value(&got["apns.packed.value"], &want["value"], path, n);
}

#[derive(Default, Debug)]
struct Counts {
    msgs: usize,
    attrs: usize,
    key_hits: usize,
    value_hits: usize,
}

fn same_value(got: &J, want: &J, path: &str, n: &mut Counts) {
    let ty = s(want, "type");
    let code = match ty {
        "data" => "0",
        "string" => "1",
        "int" => "2",
        "dict" => "3",
        "array" => "4",
        "bool" => "5",
        x => panic!("type {x}"),
    };
    assert_eq!(s(got, "apns.packed.type"), code, "{path}: type");
    match ty {
        "data" => assert_eq!(bytes(opt(got, "apns.packed.data").unwrap_or("")), s(want, "hex"), "{path}: data"),
        "string" => assert_eq!(s(got, "apns.packed.string"), s(want, "text"), "{path}: string"),
        "int" => assert_eq!(s(got, "apns.packed.int"), want["value"].to_string(), "{path}: int"),
        "bool" => assert_eq!(s(got, "apns.packed.bool"), if want["value"] == true { "1" } else { "0" }, "{path}: bool"),
        "dict" => {
            let g = list(&got["apns.packed.attr"]);
            let w = want["attrs"].as_array().unwrap();
            assert_eq!(g.len(), w.len(), "{path}: members");
            assert_eq!(s(got, "apns.packed.count"), w.len().to_string(), "{path}: count");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                same_attr(g, w, &format!("{path}.{}", w["key"].as_str().map(unhex_text).unwrap_or_else(|| i.to_string())), n);
            }
        }
        "array" => {
            let g = list(&got["apns.packed.value"]);
            let w = want["items"].as_array().unwrap();
            assert_eq!(g.len(), w.len(), "{path}: elements");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                same_value(g, w, &format!("{path}[{i}]"), n);
            }
        }
        _ => unreachable!(),
    }
}

fn unhex_text(h: &str) -> String {
    let b: Vec<u8> = (0..h.len() / 2).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
    String::from_utf8(b).unwrap_or_else(|_| h.to_string())
}

/// The oracle's top-level attribute with one-byte key `id`.
fn attr(m: &J, id: u8) -> Option<&J> {
    m["attributes"].as_array().unwrap().iter().find(|a| a["key"] == format!("{id:02x}"))
}

fn sha1_hex(name: &str) -> String {
    support::gen_apns::hex(&support::gen_apns::sha1(name))
}

/// Frame by frame: every message the oracle received is shown, in order per direction,
/// with the same command, attributes, keys, sources, cache indexes and values; the shared
/// fields agree. Returns the frame of every message, per direction.
fn check_session(o: &Oracle, two_pass: bool) -> (Counts, Vec<u64>, Vec<u64>) {
    let t = Tshark::get();
    let got = decoded(t, o, two_pass);
    let mut n = Counts::default();
    let (mut frames_c2s, mut frames_s2c) = (vec![], vec![]);
    let (mut c2s, mut s2c) = (o.c2s.iter(), o.s2c.iter());
    let madrid = sha1_hex("com.apple.madrid");
    for (frame, g) in &got {
        let dir = s(g, "apns.direction");
        let w = if dir == "0" { c2s.next() } else { s2c.next() }.unwrap_or_else(|| panic!("frame {frame}: more messages than the oracle received"));
        if dir == "0" { &mut frames_c2s } else { &mut frames_s2c }.push(*frame);
        let path = format!("{} frame {frame} {} seq {}", o.name, w["dir"].as_str().unwrap(), w["seq"]);
        n.msgs += 1;
        assert_eq!(s(g, "apns.framing"), "2", "{path}: framing");
        assert_eq!(s(&g["apns.packed.caches"], "apns.packed.cache_sizes"), o.sizes, "{path}: where the cache sizes come from");
        assert_eq!(u8::from_str_radix(s(g, "apns.command").trim_start_matches("0x"), 16).unwrap() as u64, w["command"].as_u64().unwrap(), "{path}: command");
        let ga = list(&g["apns.packed.attr"]);
        let wa = w["attributes"].as_array().unwrap();
        assert_eq!(ga.len(), wa.len(), "{path}: attributes");
        for (i, (ga, wa)) in ga.iter().zip(wa).enumerate() {
            same_attr(ga, wa, &format!("{path} attr {i}"), &mut n);
        }
        // The classic framing's fields, from the same attributes.
        let cmd = w["command"].as_u64().unwrap();
        let int_of = |id| attr(w, id).map(|a| a["value"]["value"].to_string());
        let data_of = |id| attr(w, id).map(|a| a["value"]["hex"].as_str().unwrap().to_string());
        let field = |k: &str| -> Vec<String> {
            ga.iter().filter_map(|a| opt(a, k)).map(bytes).collect()
        };
        if cmd == 0x0a || cmd == 0x0b {
            assert_eq!(field("apns.message_id"), int_of(4).into_iter().collect::<Vec<_>>(), "{path}: message id");
        }
        if cmd == 0x0a {
            // Items 1 and 2 are the token and the topic, in the direction's order.
            let (tok, top) = if dir == "0" { (2, 1) } else { (1, 2) };
            assert_eq!(field("apns.token"), data_of(tok).into_iter().collect::<Vec<_>>(), "{path}: token");
            let th = data_of(top).unwrap();
            assert_eq!(field("apns.topic_hash"), vec![th.clone()], "{path}: topic hash");
            let names = HashMap::from([(sha1_hex("com.apple.madrid"), "com.apple.madrid"), (sha1_hex("com.apple.gamed"), "com.apple.gamed")]);
            assert_eq!(field("apns.topic"), vec![names[&th].to_string()], "{path}: topic");
            if th == madrid {
                // The iMessage envelope, as the oracle's payload has it.
                let p = &attr(w, 3).unwrap()["value"]["attrs"];
                let member = |k: &str| p.as_array().unwrap().iter().find(|a| a["key"] == support::gen_apns::hex(k.as_bytes())).map(|a| &a["value"]);
                let payload = ga.iter().find(|a| opt(a, "apns.packed.key") == Some("03")).unwrap();
                let members = list(&payload["apns.packed.value"]["apns.packed.attr"]);
                let im = |f: &str| members.iter().filter_map(|a| opt(&a["apns.packed.value"], f)).map(String::from).collect::<Vec<_>>();
                assert_eq!(im("apns.imessage.sender"), vec![member("sP").unwrap()["text"].as_str().unwrap().to_string()], "{path}: sender");
                assert_eq!(im("apns.imessage.target"), vec![member("tP").unwrap()["text"].as_str().unwrap().to_string()], "{path}: target");
                assert_eq!(im("apns.imessage.command"), vec![member("c").unwrap()["value"].to_string()], "{path}: command");
                assert_eq!(im("apns.imessage.id"), vec![member("i").unwrap()["value"].to_string()], "{path}: id");
                assert_eq!(im("apns.imessage.encryption"), vec![member("E").unwrap()["text"].as_str().unwrap().to_string()], "{path}: encryption");
            }
        }
        if cmd == 0x0b || (cmd == 0x08) {
            let st = if cmd == 0x0b { 8 } else { 1 };
            assert_eq!(field("apns.status"), int_of(st).into_iter().collect::<Vec<_>>(), "{path}: status");
        }
    }
    assert!(c2s.next().is_none() && s2c.next().is_none(), "{}: fewer messages shown than the oracle received", o.name);
    (n, frames_c2s, frames_s2c)
}

/// Message ↔ ack links: each Ack (0x0B) answers the Message (0x0A) travelling the other way
/// whose id it carries (the ids from the oracle's records; the frames from the order).
fn check_links(o: &Oracle, frames_c2s: &[u64], frames_s2c: &[u64]) {
    let t = Tshark::get();
    let pcap = stage(t, &format!("{}.pcapng", o.name));
    let mut args = vec!["-2", "-o", "tcp.desegment_tcp_streams:TRUE"];
    let kl;
    if o.tls {
        kl = format!("tls.keylog_file:{}", stage(t, &format!("{}.keys", o.name)));
        args.extend(["-o", kl.as_str()]);
    }
    let rows = t.fields(&pcap, Some("apns.command == 0x0b"), &["frame.number", "apns.command", "apns.ack_to"], &args);
    let mut want: HashMap<u64, Vec<String>> = HashMap::new();
    let id = |m: &J| m["attributes"].as_array().unwrap().iter().find(|a| a["key"] == "04").map(|a| a["value"]["value"].as_i64().unwrap());
    for (acks, ack_frames, msgs, msg_frames) in [(&o.c2s, frames_c2s, &o.s2c, frames_s2c), (&o.s2c, frames_s2c, &o.c2s, frames_c2s)] {
        for (a, f) in acks.iter().zip(ack_frames) {
            if a["command"] != 0x0b {
                continue;
            }
            let i = msgs.iter().position(|m| m["command"] == 0x0a && id(m) == id(a)).expect("the acked message");
            want.entry(*f).or_default().push(msg_frames[i].to_string());
        }
    }
    assert!(!want.is_empty());
    for r in &rows {
        let f: u64 = r[0].parse().unwrap();
        let cmds: Vec<&str> = r[1].split(',').collect();
        let got: Vec<String> = r[2].split(',').filter(|x| !x.is_empty()).map(String::from).collect();
        let w = want.remove(&f).unwrap_or_default();
        assert_eq!(got.len(), cmds.iter().filter(|c| **c == "0x0b").count(), "{} frame {f}: every ack linked", o.name);
        assert_eq!(got, w, "{} frame {f}: ack_to", o.name);
    }
    assert!(want.is_empty(), "{}: acks not shown: {want:?}", o.name);
}

/// `-z apns,tree` counts every command of the oracle's session.
fn check_stats(o: &Oracle) {
    let t = Tshark::get();
    let pcap = stage(t, &format!("{}.pcapng", o.name));
    let mut args = vec!["-r", pcap.as_str(), "-n", "-q", "-z", "apns,tree"];
    let kl;
    if o.tls {
        kl = format!("tls.keylog_file:{}", stage(t, &format!("{}.keys", o.name)));
        args.extend(["-o", kl.as_str()]);
    }
    let out = String::from_utf8_lossy(&t.run(&args).stdout).to_string();
    let count = |label: &str| -> u64 {
        let l = out.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label} in\n{out}"));
        l.trim_start()[label.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    let all: Vec<&J> = o.c2s.iter().chain(&o.s2c).collect();
    let n = |c: u64| all.iter().filter(|m| m["command"] == c).count() as u64;
    assert_eq!(count("Connect Response"), n(0x08), "{out}");
    assert_eq!(count("Message Ack"), n(0x0b), "{out}");
    assert_eq!(count("Keep-Alive Ack"), n(0x0d), "{out}");
    assert_eq!(count("Set Active State"), n(0x14), "{out}");
    assert_eq!(count("Channel Subscription"), n(0x1d), "{out}");
    assert_eq!(count("Messages to server"), o.c2s.iter().filter(|m| m["command"] == 0x0a).count() as u64, "{out}");
    assert_eq!(count("Messages to device"), o.s2c.iter().filter(|m| m["command"] == 0x0a).count() as u64, "{out}");
}

fn run(name: &'static str, tls: bool) -> Counts {
    let o = oracle(name, tls);
    let (n1, fc, fs) = check_session(&o, false);
    let (n2, fc2, fs2) = check_session(&o, true);
    assert_eq!((fc.clone(), fs.clone()), (fc2, fs2));
    assert_eq!((n1.msgs, n1.attrs), (n2.msgs, n2.attrs));
    check_links(&o, &fc, &fs);
    check_stats(&o);
    eprintln!("{name}: {n1:?}");
    n1
}

/// ALPN `apns-pack-v1` (Wireshark's tls.alpn table → the packed dissector, default sizes).
#[test]
fn oracle_tls_session() {
    let n = run("packed-tls", true);
    assert!(n.msgs >= 300 && n.key_hits > 1000 && n.value_hits > 500, "{n:?}");
}

/// ALPN `apns-pack-v1:1024:2048`: no table entry; by port 5223 and the first message.
/// Smaller caches than assumed: every index still resolves.
#[test]
fn oracle_tls_session_with_cache_sizes_in_the_alpn() {
    for side in ["client", "server"] {
        let first = jsonl(&format!("packed-tls-sizes.{side}.jsonl"));
        assert_eq!(first[0]["details"]["alpn"], "apns-pack-v1:1024:2048");
    }
    // Stock's TLS dissector sees the server's choice but finds no dissector for it.
    let t = Tshark::get();
    let pcap = stage(t, "packed-tls-sizes.pcapng");
    let kl = format!("tls.keylog_file:{}", stage(t, "packed-tls-sizes.keys"));
    let rows = t.fields(&pcap, Some("tls.handshake.type == 8"), &["tls.handshake.extensions_alpn_str"], &["-o", &kl]);
    assert_eq!(rows, [vec!["apns-pack-v1:1024:2048".to_string()]]);
    run("packed-tls-sizes", true);
}

/// Cleartext, found by the heuristic.
#[test]
fn oracle_plain_session() {
    run("packed-plain", false);
}

/// Cleartext with 16 KiB caches (no ALPN to say so): indexes past the assumed 4 KiB cache
/// resolve from the entries it evicted, and say so.
#[test]
fn oracle_plain_session_with_larger_caches() {
    let o = oracle("packed-plain-large", false);
    // The session does refer past what a 4096-byte cache holds.
    let beyond = o.c2s.iter().chain(&o.s2c).any(|m| m.to_string().contains("\"value_index\":7"));
    assert!(beyond);
    run("packed-plain-large", false);
    let t = Tshark::get();
    let pcap = stage(t, "packed-plain-large.pcapng");
    let rows = t.fields(&pcap, Some("apns.packed.value_cache_larger"), &["frame.number"], &[]);
    assert!(!rows.is_empty());
    let rows = t.fields(&pcap, Some("apns.packed.value_cache_miss || apns.packed.value_cache_evicted || apns.packed.key_cache_miss"), &["frame.number"], &[]);
    assert!(rows.is_empty(), "{rows:?}");
}

/// The sessions roll both caches over: more than 32 keys, value entries evicted.
#[test]
fn oracle_sessions_roll_both_caches_over() {
    for name in ["packed-tls", "packed-plain"] {
        let o = oracle(name, false);
        let mut keys_new = 0;
        fn walk(a: &J, new: &mut usize) {
            if a["key_from"] == "new" {
                *new += 1;
            }
            if let Some(m) = a["value"]["attrs"].as_array() {
                m.iter().for_each(|x| walk(x, new));
            }
        }
        for m in &o.s2c {
            m["attributes"].as_array().unwrap().iter().for_each(|a| walk(a, &mut keys_new));
        }
        assert!(keys_new > 64, "{name}: {keys_new} keys cached");
        // The plugin says entries were evicted, and shows the value-cache index 60+ resolved.
        let t = Tshark::get();
        let pcap = stage(t, &format!("{name}.pcapng"));
        let kl;
        let mut extra = vec![];
        if name == "packed-tls" {
            kl = format!("tls.keylog_file:{}", stage(t, "packed-tls.keys"));
            extra = vec!["-o", kl.as_str()];
        }
        let rows = t.fields(&pcap, Some("apns.packed.evicted"), &["apns.packed.evicted"], &extra);
        assert!(rows.len() > 20, "{name}: {rows:?}");
        let keys = t.fields(&pcap, Some("apns.packed.key_entry > 40"), &["frame.number"], &extra);
        assert!(!keys.is_empty());
    }
}

// --- malformed input (our generator) --------------------------------------------------

const CLIENT: &str = "10.0.0.2:50123";
const SERVER: &str = "17.57.146.20:15223";

/// A cleartext packed connection (found by the heuristic from its first message, a
/// well-formed Message Ack), then `msgs` from the server, one per segment. Returns the file
/// and the frame of each.
fn packed_capture(name: &str, msgs: &[Vec<u8>]) -> (String, Vec<u32>) {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(CLIENT.parse().unwrap(), SERVER.parse().unwrap());
    cap.extend(tcp.handshake(&[], &[], &[]));
    cap.push(tcp.send(Dir::ToServer, &msg(0x0b, &[key_inline(4, 0), int(7), key_inline(8, 0), int(0)]), &[]));
    let mut frames = vec![];
    for m in msgs {
        cap.push(tcp.send(Dir::ToClient, m, &[]));
        frames.push(cap.len() as u32);
    }
    (t.capture(name, &cap.to_bytes()), frames)
}

/// The APNs expert infos, as abbreviations.
const EXPERTS: &[&str] = &[
    "apns.packed.bad_number",
    "apns.packed.past_end",
    "apns.packed.key_past_end",
    "apns.packed.key_cache_miss",
    "apns.packed.value_cache_miss",
    "apns.packed.value_cache_evicted",
    "apns.packed.value_cache_larger",
    "apns.packed.value_larger_than_cache",
    "apns.packed.cache_accounting",
    "apns.packed.cache_memory_bound",
    "apns.packed.not_utf8",
    "apns.packed.int_out_of_range",
    "apns.packed.reserved_bits",
    "apns.packed.too_deep",
    "apns.packed.too_much_work",
    "apns.packed.not_recorded",
    "apns.packed.sizes_capped",
    "apns.truncated",
    "apns.too_large",
    "apns.unknown_command",
];

fn expert_keys(v: &J, out: &mut Vec<String>) {
    match v {
        J::Object(o) => {
            for (k, x) in o {
                if EXPERTS.contains(&k.as_str()) {
                    out.push(k.clone());
                }
                expert_keys(x, out);
            }
        }
        J::Array(a) => a.iter().for_each(|x| expert_keys(x, out)),
        _ => {}
    }
}

/// The `-z expert` rows of APNs (severity, count, group, summary).
fn apns_expert_rows(out: &str) -> Vec<String> {
    let mut sev = String::new();
    let mut rows = vec![];
    for l in out.lines() {
        if let Some(s) = ["Errors", "Warns", "Notes", "Chats", "Comments"].iter().find(|s| l.starts_with(&format!("{s} ("))) {
            sev = s.to_string();
            continue;
        }
        let cols: Vec<&str> = l.split_whitespace().collect();
        if cols.len() >= 4 && cols[0].parse::<u64>().is_ok() && cols[2] == "APNs" {
            rows.push(format!("{sev} {}", cols.join(" ")));
        }
    }
    rows.sort();
    rows
}

/// Expert infos per frame (abbreviations), the same in one and two passes; and without a
/// tree (`-q -z expert`) the same expert infos as with one (`-V -z expert`).
fn experts_by_frame(file: &str) -> HashMap<u32, Vec<String>> {
    let t = Tshark::get();
    let mut seen: Option<HashMap<u32, Vec<String>>> = None;
    for pass in [vec![], vec!["-2"]] {
        let mut args = vec!["-r", file, "-n", "-Y", "apns", "-T", "json", "--no-duplicate-keys", "-J", "frame apns"];
        args.extend(pass.iter().copied());
        let v: J = serde_json::from_slice(&t.run(&args).stdout).unwrap();
        let mut with = HashMap::new();
        for p in v.as_array().unwrap() {
            let layers = &p["_source"]["layers"];
            let frame: u32 = layers["frame"]["frame.number"].as_str().unwrap().parse().unwrap();
            let mut e = vec![];
            expert_keys(&layers["apns"], &mut e);
            e.sort();
            e.dedup();
            with.insert(frame, e);
        }
        match &seen {
            None => seen = Some(with),
            Some(s) => assert_eq!(s, &with, "one and two passes"),
        }
        let mut quiet = vec!["-r", file, "-n", "-q", "-z", "expert"];
        quiet.extend(pass.iter().copied());
        let mut full = vec!["-r", file, "-n", "-V", "-z", "expert"];
        full.extend(pass.iter().copied());
        let without = apns_expert_rows(&t.stdout(&quiet));
        assert!(!without.is_empty());
        assert_eq!(without, apns_expert_rows(&t.stdout(&full)), "experts without a tree differ from those with one ({pass:?})");
    }
    seen.unwrap()
}

#[test]
fn malformed_messages_are_expert_items() {
    let long_varint = [key_inline(3, 0), vec![0x3f], vec![0x80; 11], vec![0x01]].concat();
    let msgs = vec![
        // 0: key cache index past the end (nothing cached by the server yet), value index too.
        msg(0x0b, &[key_ref(3, 0), int(1), key_inline(4, FROM_CACHE), vref(9)]),
        // 1: a data length past the data.
        [vec![0x0a, 5], key_inline(3, 0), vec![0x0a, 1, 2, 3]].concat(),
        // 2: a key longer than the message.
        [vec![0x0a, 5], vec![0x1f, 0x00, b'a', b'b', b'c']].concat(),
        // 3: a varint of more than ten bytes.
        msg(0x0a, &[long_varint]),
        // 4: a string that is not UTF-8, and a reserved bit.
        msg(0x0a, &[key_inline(3, 0), vec![0x42, 0xff, 0xfe], key_inline(5, 0), vec![0xf1]]),
        // 5: a cached value larger than the whole (assumed 4096-byte) value cache.
        msg(0x0a, &[key_inline(3, NEW_VALUE), data(&[7; 5000])]),
        // 6: nesting deeper than 32.
        msg(0x0a, &[key_inline(3, 0), array(1).repeat(40), int(1)]),
        // 7: a dictionary claiming more members than bytes.
        msg(0x0a, &[key_inline(3, 0), dict(14), key_new(b"k", 0), int(1)]),
    ];
    let (file, frames) = packed_capture("packed-malformed.pcap", &msgs);
    let ex = experts_by_frame(&file);
    let want: [&[&str]; 8] = [
        &["apns.packed.key_cache_miss", "apns.packed.value_cache_miss"],
        &["apns.packed.past_end"],
        &["apns.packed.key_past_end"],
        &["apns.packed.bad_number"],
        &["apns.packed.not_utf8", "apns.packed.reserved_bits"],
        &["apns.packed.value_larger_than_cache"],
        &["apns.packed.too_deep"],
        &["apns.packed.past_end"],
    ];
    for (i, (f, w)) in frames.iter().zip(want).enumerate() {
        let got: Vec<String> = ex.get(f).cloned().unwrap_or_default();
        let mut w: Vec<String> = w.iter().map(|s| s.to_string()).collect();
        w.sort();
        assert_eq!(got, w, "message {i} (frame {f})");
    }
}

/// Hostile lengths cost nothing: a count of 2^60 and a key of 2^63 bytes, and a 4 GiB
/// message length, in a capture of a few frames; tshark finishes and reports each.
#[test]
fn hostile_lengths_are_reported_not_followed() {
    let huge_count = msg(0x0a, &[key_inline(3, 0), [vec![0xcf], vec![0xff; 8], vec![0x0f]].concat()]);
    let huge_key = [vec![0x0a, 11], vec![0x1f], vec![0xff; 8], vec![0x7f], vec![0x80]].concat();
    let huge_msg = [vec![0x0a, 0xff], vec![0xff, 0xff, 0xff, 0xff, 0x0f], vec![0; 100]].concat();
    let (file, frames) = packed_capture("packed-hostile.pcap", &[huge_count, huge_key, huge_msg]);
    let ex = experts_by_frame(&file);
    assert!(ex[&frames[0]].iter().any(|e| e == "apns.packed.past_end"), "{ex:?}");
    assert!(ex[&frames[1]].iter().any(|e| e == "apns.packed.key_past_end"), "{ex:?}");
    assert!(ex[&frames[2]].iter().any(|e| e == "apns.too_large"), "{ex:?}");
}

/// A classic stream stays classic and a packed one packed, by their first messages, also
/// by Decode As on a port nothing else claims.
#[test]
fn framing_is_decided_per_connection() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let mut packed = TcpFlow::new(CLIENT.parse().unwrap(), "127.0.0.1:40001".parse().unwrap());
    let mut classic = TcpFlow::new("10.0.0.3:50124".parse().unwrap(), "127.0.0.1:40002".parse().unwrap());
    cap.extend(packed.handshake(&[], &[], &[]));
    cap.extend(classic.handshake(&[], &[], &[]));
    // Packed Ping (empty body) would be ambiguous; a Set Active State is not.
    cap.push(packed.send(Dir::ToServer, &msg(0x14, &[key_inline(1, 0), int(1), key_inline(2, 0), int(0x7fff_ffff)]), &[]));
    cap.push(classic.send(Dir::ToServer, &support::gen_apns::msg(0x14, &[support::gen_apns::item(1, &[1]), support::gen_apns::item(2, &[0x7f, 0xff, 0xff, 0xff])]), &[]));
    cap.push(packed.send(Dir::ToServer, &[0x0c, 0x00], &[]));
    let file = t.capture("packed-decode-as.pcap", &cap.to_bytes());
    let rows = t.fields(&file, Some("apns"), &["frame.number", "apns.command", "apns.framing", "apns.connect.state", "apns.set_active_state.state"], &["-d", "tcp.port==40001,apns", "-d", "tcp.port==40002,apns"]);
    let got: Vec<(String, String)> = rows.iter().map(|r| (r[1].clone(), r[2].clone())).collect();
    assert_eq!(got, [("0x14".to_string(), "2".to_string()), ("0x14".to_string(), String::new()), ("0x0c".to_string(), "2".to_string())], "{rows:?}");
    assert_eq!(rows[0][4], "1");
    assert_eq!(rows[1][4], "1");
}

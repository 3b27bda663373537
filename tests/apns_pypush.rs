//! Golden tests against a real APNs client: pypush 2.0.2 (PyPI) talking to the courier test
//! server in tests/pypush/ over TLS 1.3 on loopback, captured with dumpcap, decrypted with the
//! client's TLS key log. Expected values come from the two peers' own logs (truth.tsv, written
//! by tests/pypush/run_session.py after checking both sides logged the same bytes), never
//! from the plugin.
//!
//! The same session is also recorded in clear (`run_session.py --plain`): pypush speaks TLS
//! to a TLS-terminating relay on loopback, which forwards the bytes unchanged (checked
//! against both peers' logs) over plain TCP to the server on 5223; only that hop is captured.
//! The plugin must read it as APNs by itself (no Decode As, no key log).
//!
//! Needs: root (or capture rights) for dumpcap on lo; a Python with pypush, taken from
//! `APPLESHARK_PYPUSH_PYTHON`, else tests/pypush/.venv (created by tests/pypush/setup.sh,
//! which this test runs when that venv is missing).

mod support;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use support::Tshark;

const PORT: u16 = 5223;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Dir {
    C2S,
    S2C,
}

/// One message as both peers logged it (a row of truth.tsv).
#[derive(Debug)]
struct Msg {
    seq: usize,
    dir: Dir,
    command: u8,
    name: String,
    item_ids: Vec<u8>,
    /// The first 32-byte token-like item (ids 1–3), hex.
    token: String,
    /// Topic names of the 20-byte hashes, in item order ("" where the server's table lacks it).
    topics: Vec<String>,
    topic_hashes: Vec<String>,
    message_id: String,
    status: String,
    payload_format: String,
    payload_keys: Vec<String>,
    /// For 0x0A the seq of the 0x0B that acks it; for 0x0B the seq of the 0x0A it acks.
    link_seq: Option<usize>,
    /// Connect's nonce (item 13), hex.
    nonce: String,
    /// Message payload (item 3), hex.
    payload: String,
    /// iMessage envelope keys i, sP, tP, U (hex) from the bplist payload.
    im_id: String,
    im_sender: String,
    im_target: String,
    im_uuid: String,
    raw: Vec<u8>,
}

struct Session {
    /// Capture, key log as tshark sees them (no key log for the plain session).
    pcap: String,
    keys: Option<String>,
    msgs: Vec<Msg>,
}

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> PathBuf {
    if let Ok(p) = std::env::var("APPLESHARK_PYPUSH_PYTHON") {
        return PathBuf::from(p);
    }
    let dir = manifest().join("tests/pypush");
    let py = dir.join(".venv/bin/python");
    if !py.exists() {
        let st = Command::new("sh").arg(dir.join("setup.sh")).status().expect("sh runs");
        assert!(st.success(), "tests/pypush/setup.sh failed ({st})");
    }
    py
}

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex {s}");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn list(s: &str) -> Vec<String> {
    if s.is_empty() {
        vec![]
    } else {
        s.split(',').map(String::from).collect()
    }
}

fn read_truth(path: &Path) -> Vec<Msg> {
    let text = std::fs::read_to_string(path).expect("truth.tsv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("column {name}"));
    let (c_nonce, c_payload, c_im_id, c_im_sp, c_im_tp, c_im_u) =
        (col("nonce"), col("payload"), col("im_id"), col("im_sender"), col("im_target"), col("im_uuid"));
    let (c_seq, c_dir, c_cmd, c_name, c_ids, c_tok, c_top, c_hash, c_mid, c_st, c_pf, c_pk, c_link, c_raw) = (
        col("seq"),
        col("dir"),
        col("command"),
        col("name"),
        col("item_ids"),
        col("token"),
        col("topics"),
        col("topic_hashes"),
        col("message_id"),
        col("status"),
        col("payload_format"),
        col("payload_keys"),
        col("link_seq"),
        col("raw"),
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), header.len(), "truth row {l}");
            Msg {
                seq: f[c_seq].parse().unwrap(),
                dir: if f[c_dir] == "c2s" { Dir::C2S } else { Dir::S2C },
                command: f[c_cmd].parse().unwrap(),
                name: f[c_name].to_string(),
                item_ids: list(f[c_ids]).iter().map(|s| s.parse().unwrap()).collect(),
                token: f[c_tok].to_string(),
                topics: list(f[c_top]),
                topic_hashes: list(f[c_hash]),
                message_id: f[c_mid].to_string(),
                status: f[c_st].to_string(),
                payload_format: f[c_pf].to_string(),
                payload_keys: list(f[c_pk]),
                link_seq: f[c_link].parse().ok(),
                nonce: f[c_nonce].to_string(),
                payload: f[c_payload].to_string(),
                im_id: f[c_im_id].to_string(),
                im_sender: f[c_im_sp].to_string(),
                im_target: f[c_im_tp].to_string(),
                im_uuid: f[c_im_u].to_string(),
                raw: hex(f[c_raw]),
            }
        })
        .collect()
}

/// Runs the TLS session once per test binary.
fn session() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| record("pypush-session", &[]))
}

/// Runs the plain session (`run_session.py --plain`) once per test binary.
fn plain_session() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| record("pypush-plain-session", &["--plain"]))
}

/// `program` in a network namespace of its own with just a loopback interface, when we are
/// root and have `unshare` and `ip`: the capture on `lo`, port 5223, then holds this session
/// and nothing else that runs on the machine at the same time (another test run, another
/// courier); otherwise the program as it is.
fn isolated(program: &std::path::Path) -> Command {
    let have = |tool: &str| Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success());
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root && have("unshare") && have("ip") {
        let mut c = Command::new("unshare");
        c.args(["--net", "--", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// Records a session into a fresh folder; one at a time (both listen on and capture PORT).
fn record(name: &str, mode: &[&str]) -> Session {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    {
        let t = Tshark::get();
        let (dir, _) = t.temp_file(name);
        std::fs::create_dir_all(&dir).unwrap();
        let out = isolated(&python())
            .arg(manifest().join("tests/pypush/run_session.py"))
            .arg(&dir)
            .args(["--port", &PORT.to_string()])
            .args(mode)
            .output()
            .expect("run_session.py runs");
        assert!(
            out.status.success(),
            "run_session.py failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = Command::new("chmod").args(["-R", "a+rX"]).arg(&dir).status();
        let msgs = read_truth(&dir.join("truth.tsv"));
        let keys = dir.join("keys.log");
        let keys = keys.exists().then(|| t.inside(&keys));
        Session { pcap: t.inside(&dir.join("session.pcapng")), keys, msgs }
    }
}

fn keylog_arg(s: &Session) -> String {
    format!("tls.keylog_file:{}", s.keys.as_deref().expect("the TLS session has a key log"))
}

/// The session itself is what the issue describes (guards against a silently shorter run).
#[test]
fn session_covers_the_commands() {
    let s = session();
    let cmds: Vec<u8> = s.msgs.iter().map(|m| m.command).collect();
    assert_eq!(cmds, [0x07, 0x08, 0x09, 0x14, 0x0A, 0x0B, 0x0A, 0x0B, 0x0A, 0x0B, 0x11, 0x12, 0x0C, 0x0D, 0x09]);
    let names: Vec<&str> = s.msgs.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names[..3], ["Connect", "ConnectResponse", "FilterTopics"]);
    // The iMessage-like payloads carry the envelope keys of protocol notes §1.
    for m in s.msgs.iter().filter(|m| m.payload_format == "bplist") {
        for k in ["c", "E", "ua", "v", "i", "U", "sP", "tP", "t", "P", "sT", "D"] {
            assert!(m.payload_keys.iter().any(|x| x == k), "seq {}: key {k} missing", m.seq);
        }
    }
    // Framing of every logged message is self-consistent.
    for m in &s.msgs {
        assert_eq!(m.raw[0], m.command, "{m:?}");
        assert_eq!(u32::from_be_bytes(m.raw[1..5].try_into().unwrap()) as usize, m.raw.len() - 5, "{m:?}");
    }
}

/// Stock Wireshark (the APNs dissector switched off) decrypts the session with the key log,
/// and the decrypted bytes are exactly the courier messages both peers logged, per direction.
#[test]
fn stock_tls_decrypts_to_the_logged_courier_bytes() {
    let t = Tshark::get();
    let s = session();
    let kl = keylog_arg(s);
    let rows = t.fields(&s.pcap, None, &["tcp.srcport", "tls.handshake.extensions_alpn_str", "tls.handshake.extensions_server_name", "data.data"], &[
        "-o",
        &kl,
        "--disable-protocol",
        "apns",
    ]);
    let mut alpn = vec![];
    let mut sni = vec![];
    for r in &rows {
        if !r[1].is_empty() {
            alpn.push((dir_of(&r[0]), r[1].clone()));
        }
        if !r[2].is_empty() {
            sni.push(r[2].clone());
        }
    }
    assert_eq!(alpn, [(Dir::C2S, "apns-security-v3".to_string()), (Dir::S2C, "apns-security-v3".to_string())]);
    assert_eq!(sni, ["courier.push.apple.com"]);
    assert_bytes_are_the_logged_messages(s, &rows, 3, "decrypted");
}

/// The direction of a frame from its `tcp.srcport`.
fn dir_of(srcport: &str) -> Dir {
    if srcport == PORT.to_string() {
        Dir::S2C
    } else {
        Dir::C2S
    }
}

/// Column 0 of `rows` is `tcp.srcport`, column `col` hex bytes (occurrences joined by ','):
/// concatenated per direction they are exactly the messages both peers logged.
fn assert_bytes_are_the_logged_messages(s: &Session, rows: &[Vec<String>], col: usize, what: &str) {
    let mut got: HashMap<Dir, Vec<u8>> = HashMap::new();
    for r in rows {
        for chunk in list(&r[col]) {
            got.entry(dir_of(&r[0])).or_default().extend(hex(&chunk));
        }
    }
    for dir in [Dir::C2S, Dir::S2C] {
        let want: Vec<u8> = s.msgs.iter().filter(|m| m.dir == dir).flat_map(|m| m.raw.clone()).collect();
        let have = got.get(&dir).cloned().unwrap_or_default();
        assert!(!want.is_empty());
        assert_eq!(have.len(), want.len(), "{dir:?}: {what} byte count");
        assert!(have == want, "{dir:?}: {what} bytes differ from the logged messages");
    }
}

// --- with the APNs dissector ------------------------------------------------------------

/// Topic names appleshark knows (its shipped table), to tell which logged names it can
/// resolve; the names themselves come from the peers' logs.
fn known_topics() -> Vec<String> {
    std::fs::read_to_string(manifest().join("src/core/apns/topics.txt"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

fn parse_cmd(s: &str) -> u8 {
    match s.strip_prefix("0x") {
        Some(h) => u8::from_str_radix(h, 16).unwrap(),
        None => s.parse().unwrap(),
    }
}

/// Splits tshark rows (one per frame) into the logged messages each frame carries, by the
/// number of apns.command occurrences in the frame (column `cmd_col`).
fn frames_to_msgs<'a>(rows: &[Vec<String>], cmd_col: usize, msgs: &'a [Msg]) -> Vec<(usize, Vec<&'a Msg>)> {
    let mut it = msgs.iter();
    let mut out = vec![];
    for r in rows {
        let cmds = list(&r[cmd_col]);
        let frame_msgs: Vec<&Msg> = cmds.iter().map(|_| it.next().expect("tshark shows more messages than were logged")).collect();
        let got: Vec<u8> = cmds.iter().map(|c| parse_cmd(c)).collect();
        let want: Vec<u8> = frame_msgs.iter().map(|m| m.command).collect();
        assert_eq!(got, want, "frame {} commands", r[0]);
        out.push((r[0].parse().unwrap(), frame_msgs));
    }
    assert!(it.next().is_none(), "tshark shows fewer messages than were logged");
    out
}

/// The issue's own command: `-Y apns -T fields -e apns.command -e apns.topic` prints the
/// session's commands in order, with com.apple.madrid resolved.
#[test]
fn readme_command_lists_the_commands_in_order_with_topics() {
    let s = session();
    check_commands_and_topics(s, &["-o", &keylog_arg(s)]);
}

/// `-Y apns -T fields -e frame.number -e apns.command -e apns.topic` (with `extra`): every
/// logged message, in order, with the topics of appleshark's table named; returns the rows.
fn check_commands_and_topics(s: &Session, extra: &[&str]) -> Vec<Vec<String>> {
    let t = Tshark::get();
    let rows = t.fields(&s.pcap, Some("apns"), &["frame.number", "apns.command", "apns.topic"], extra);
    let known = known_topics();
    let frames = frames_to_msgs(&rows, 1, &s.msgs);
    let mut madrid = 0;
    for ((frame, ms), r) in frames.iter().zip(&rows) {
        let want: Vec<String> =
            ms.iter().flat_map(|m| m.topics.iter().filter(|n| known.contains(n)).cloned()).collect();
        assert_eq!(list(&r[2]), want, "frame {frame} topics");
        madrid += want.iter().filter(|n| *n == "com.apple.madrid").count();
    }
    // Filter x2, the sent message and the received one.
    assert_eq!(madrid, 4);
    assert!(s.msgs.iter().any(|m| m.topics.iter().any(|n| !n.is_empty() && !known.contains(n))),
        "the session also carries a topic outside the table (left unresolved)");
    rows
}

/// Every decoded value against the peers' logs (two passes, so forward links are filled).
#[test]
fn decrypted_fields_match_both_peers_logs() {
    let s = session();
    check_fields(s, &["-2", "-o", &keylog_arg(s)]);
}

/// Every decoded value of every message against the peers' logs, tshark run with `extra`.
/// The links forward in the capture (`apns.ack_in`: a message to its later ack) are checked
/// only with `-2`: a single pass has not seen the answer yet when it prints the message.
fn check_fields(s: &Session, extra: &[&str]) {
    let t = Tshark::get();
    let two_pass = extra.contains(&"-2");
    let fields = [
        "frame.number",
        "apns.command",
        "apns.direction",
        "apns.length",
        "apns.item.id",
        "apns.token",
        "apns.topic_hash",
        "apns.message_id",
        "apns.status",
        "apns.nonce",
        "apns.payload",
        "apns.imessage.id",
        "apns.imessage.sender",
        "apns.imessage.target",
        "apns.imessage.uuid",
        "apns.ack_in",
        "apns.ack_to",
    ];
    let rows = t.fields(&s.pcap, Some("apns"), &fields, extra);
    let col = |n: &str| fields.iter().position(|f| *f == n).unwrap();
    let frames = frames_to_msgs(&rows, col("apns.command"), &s.msgs);
    let frame_of: HashMap<usize, usize> = frames.iter().flat_map(|(f, ms)| ms.iter().map(move |m| (m.seq, *f))).collect();
    let opt = |v: &str| if v.is_empty() { vec![] } else { vec![v.to_string()] };
    for ((frame, ms), r) in frames.iter().zip(&rows) {
        let cat = |f: &dyn Fn(&Msg) -> Vec<String>| ms.iter().flat_map(|m| f(m)).collect::<Vec<String>>();
        let check = |name: &str, want: Vec<String>| assert_eq!(list(&r[col(name)]), want, "frame {frame}: {name}");
        check("apns.direction", cat(&|m| vec![if m.dir == Dir::C2S { "0" } else { "1" }.into()]));
        check("apns.length", cat(&|m| vec![(m.raw.len() - 5).to_string()]));
        check("apns.item.id", cat(&|m| m.item_ids.iter().map(|i| i.to_string()).collect()));
        check("apns.token", cat(&|m| opt(&m.token)));
        check("apns.topic_hash", cat(&|m| m.topic_hashes.clone()));
        check(
            "apns.message_id",
            cat(&|m| opt(&m.message_id).iter().map(|h| u32::from_str_radix(h, 16).unwrap().to_string()).collect()),
        );
        check("apns.status", cat(&|m| opt(&m.status)));
        check("apns.nonce", cat(&|m| opt(&m.nonce)));
        check("apns.payload", cat(&|m| opt(&m.payload)));
        check("apns.imessage.id", cat(&|m| opt(&m.im_id)));
        check("apns.imessage.sender", cat(&|m| opt(&m.im_sender)));
        check("apns.imessage.target", cat(&|m| opt(&m.im_target)));
        let uuids: Vec<String> = list(&r[col("apns.imessage.uuid")]).iter().map(|u| u.replace('-', "").to_lowercase()).collect();
        assert_eq!(uuids, cat(&|m| opt(&m.im_uuid)), "frame {frame}: apns.imessage.uuid");
        // Links: a message/request shows the frame of its ack/response, and the other way.
        let is_answer = |m: &Msg| matches!(m.command, 0x08 | 0x0B | 0x0D | 0x12);
        if two_pass {
            check("apns.ack_in", cat(&|m| if is_answer(m) { vec![] } else { m.link_seq.map(|l| frame_of[&l].to_string()).into_iter().collect() }));
        }
        check("apns.ack_to", cat(&|m| if is_answer(m) { m.link_seq.map(|l| frame_of[&l].to_string()).into_iter().collect() } else { vec![] }));
    }
    // The session has what the checks are about.
    assert_eq!(s.msgs.iter().filter(|m| m.link_seq.is_some()).count(), 12);
    assert_eq!(s.msgs.iter().filter(|m| !m.im_id.is_empty()).count(), 2);
    assert_eq!(s.msgs.iter().filter(|m| m.payload_format == "json").count(), 1);
}

/// A well-formed session from a real client raises no APNs anomaly.
#[test]
fn real_session_has_no_apns_anomalies() {
    let s = session();
    check_no_anomalies(s, &["-o", &keylog_arg(s)]);
}

/// No malformed or APNs expert item with `-2` and `keys` (the key-log option, if any), and
/// every logged message dissected.
fn check_no_anomalies(s: &Session, keys: &[&str]) {
    let t = Tshark::get();
    let bad = "_ws.malformed || apns.unknown_command || apns.unknown_item || apns.truncated || apns.item_overrun \
               || apns.trailing_bytes || apns.item_bad_length || apns.too_large || apns.unframeable || apns.plist.error \
               || apns.plist.anomaly || apns.short";
    let rows = t.fields(&s.pcap, Some(bad), &["frame.number"], &[&["-2"], keys].concat());
    assert!(rows.is_empty(), "frames with anomalies: {rows:?}");
    // Not vacuous: tshark rejects a filter naming an unknown field (t.fields would panic), and
    // every logged message was dissected.
    let rows = t.fields(&s.pcap, Some("apns"), &["frame.number", "apns.command"], keys);
    assert_eq!(frames_to_msgs(&rows, 1, &s.msgs).iter().map(|(_, m)| m.len()).sum::<usize>(), s.msgs.len());
}

// --- without keys ------------------------------------------------------------------------

/// Without the key log the courier connection is still named: from the frame of its
/// ClientHello (found by stock TLS) on, every frame of that TCP connection carries the
/// server name stock TLS read from the ClientHello (run_session.py checked it is the name
/// the server received), and frames with TLS data say "Apple Push: " in the Info column.
/// With the key log, frames the APNs dissector decoded are not labelled again.
#[test]
fn without_keys_the_courier_connection_is_labelled_by_server_name() {
    let t = Tshark::get();
    let s = session();
    let f = ["frame.number", "tcp.stream", "tls.handshake.extensions_server_name", "apns.tls.sni", "apns.tls.client_hello_in", "tcp.len"];
    let rows = t.fields(&s.pcap, None, &f, &[]);
    let info = t.info_column(&s.pcap, &[]);
    assert_eq!(info.len(), rows.len());
    // Per TCP stream, the ClientHello that stock TLS read a server name from (pypush may
    // reconnect: every connection is checked).
    let mut hellos: HashMap<String, (u32, String)> = HashMap::new();
    for r in rows.iter().filter(|r| !r[2].is_empty()) {
        hellos.entry(r[1].clone()).or_insert((r[0].parse().unwrap(), r[2].clone()));
    }
    assert!(!hellos.is_empty(), "a ClientHello with a server name");
    for (_, sni) in hellos.values() {
        assert_eq!(sni, "courier.push.apple.com");
    }
    let mut labelled = 0;
    for (r, info) in rows.iter().zip(&info) {
        let n: u32 = r[0].parse().unwrap();
        match hellos.get(&r[1]).filter(|(h, _)| n >= *h) {
            Some((h, sni)) => {
                labelled += 1;
                assert_eq!(r[3..5], [sni.clone(), h.to_string()], "frame {n}");
                if r[5] != "0" {
                    assert!(info.starts_with("Apple Push: "), "frame {n}: {info}");
                }
            }
            None => {
                assert_eq!(r[3..5], ["", ""], "frame {n}");
                assert!(!info.starts_with("Apple Push"), "frame {n}: {info}");
            }
        }
    }
    assert!(labelled > s.msgs.len(), "{labelled} frames labelled for {} messages", s.msgs.len());

    let kl = keylog_arg(s);
    let rows = t.fields(&s.pcap, None, &["frame.number", "tcp.stream", "apns.command", "apns.tls.sni"], &["-o", &kl]);
    let (mut decoded, mut handshake) = (0, 0);
    for r in &rows {
        let Some((h, sni)) = hellos.get(&r[1]) else { continue };
        if r[0].parse::<u32>().unwrap() < *h {
            continue;
        }
        if r[2].is_empty() {
            handshake += 1;
            assert_eq!(&r[3], sni, "frame {}", r[0]);
        } else {
            decoded += 1;
            assert_eq!(r[3], "", "frame {}: decoded as APNs, not labelled again", r[0]);
        }
    }
    assert!(decoded > 0 && handshake > 0, "{decoded} decoded, {handshake} others");
}

// --- the plain session: the same courier bytes in clear on TCP 5223 ---------------------

/// The plain capture is what a proxy would see: the cleartext hop only, every frame on the
/// courier port, and the TCP payloads, per direction, exactly the messages both peers
/// logged (so no TLS record anywhere; read with the APNs dissector off, from TCP alone).
#[test]
fn plain_capture_holds_the_logged_courier_bytes_in_clear() {
    let t = Tshark::get();
    let s = plain_session();
    let rows = t.fields(&s.pcap, None, &["tcp.srcport", "tcp.dstport", "tcp.payload"], &["--disable-protocol", "apns"]);
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(r[0] == PORT.to_string() || r[1] == PORT.to_string(), "a frame off port {PORT}: {r:?}");
    }
    assert_bytes_are_the_logged_messages(s, &rows, 2, "TCP payload");
}

/// Issue 12: the plain pypush session on 5223 is dissected as APNs by the plugin alone (no
/// Decode As, no key log): the README command lists every logged message with its topics,
/// in one pass and with `-2`, the same frames both ways; every decoded value matches the
/// logs; no anomaly.
#[test]
fn plain_session_on_5223_reads_as_apns_without_decode_as() {
    let s = plain_session();
    // The same session as over TLS (a shorter run would make the checks below weaker).
    let shape = |s: &Session| s.msgs.iter().map(|m| (m.dir, m.command, m.topics.clone())).collect::<Vec<_>>();
    assert_eq!(shape(s), shape(session()), "the plain session is the TLS one's");
    let one = check_commands_and_topics(s, &[]);
    let two = check_commands_and_topics(s, &["-2"]);
    assert_eq!(one, two, "one pass and two passes differ");
    check_fields(s, &[]);
    check_fields(s, &["-2"]);
    check_no_anomalies(s, &[]);
    // Nothing on 5223 is taken for TLS (the capture has none: see the test above), and every
    // frame with TCP payload is APNs.
    for r in Tshark::get().fields(&s.pcap, None, &["frame.number", "tcp.len", "frame.protocols"], &[]) {
        let protos: Vec<&str> = r[2].split(':').collect();
        assert!(!protos.contains(&"tls"), "frame {} read as TLS: {}", r[0], r[2]);
        assert_eq!(protos.contains(&"apns"), r[1] != "0", "frame {}: {}", r[0], r[2]);
    }
}

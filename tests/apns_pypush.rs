//! Golden tests against a real APNs client: pypush 2.0.2 (PyPI) talking to the courier test
//! server in tests/pypush/ over TLS 1.3 on loopback, captured with dumpcap, decrypted with the
//! client's TLS key log. Expected values come from the two peers' own logs (truth.tsv, written
//! by tests/pypush/run_session.py after checking both sides logged the same bytes), never
//! from the plugin.
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
    raw: Vec<u8>,
}

struct Session {
    /// Capture, key log as tshark sees them.
    pcap: String,
    keys: String,
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
                raw: hex(f[c_raw]),
            }
        })
        .collect()
}

/// Runs the session once per test binary.
fn session() -> &'static Session {
    static S: OnceLock<Session> = OnceLock::new();
    S.get_or_init(|| {
        let t = Tshark::get();
        let (dir, _) = t.temp_file("pypush-session");
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new(python())
            .arg(manifest().join("tests/pypush/run_session.py"))
            .arg(&dir)
            .args(["--port", &PORT.to_string()])
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
        Session { pcap: t.inside(&dir.join("session.pcapng")), keys: t.inside(&dir.join("keys.log")), msgs }
    })
}

fn keylog_arg(s: &Session) -> String {
    format!("tls.keylog_file:{}", s.keys)
}

/// The session itself is what the issue describes (guards against a silently shorter run).
#[test]
fn session_covers_the_commands() {
    let s = session();
    let cmds: Vec<u8> = s.msgs.iter().map(|m| m.command).collect();
    assert_eq!(cmds, [0x07, 0x08, 0x09, 0x14, 0x0A, 0x0B, 0x0A, 0x0B, 0x0A, 0x0B, 0x11, 0x12, 0x0C, 0x0D, 0x09]);
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
    let mut got: HashMap<Dir, Vec<u8>> = HashMap::new();
    let mut alpn = vec![];
    let mut sni = vec![];
    for r in &rows {
        let dir = if r[0] == PORT.to_string() { Dir::S2C } else { Dir::C2S };
        if !r[1].is_empty() {
            alpn.push((dir, r[1].clone()));
        }
        if !r[2].is_empty() {
            sni.push(r[2].clone());
        }
        for chunk in list(&r[3]) {
            got.entry(dir).or_default().extend(hex(&chunk));
        }
    }
    assert_eq!(alpn, [(Dir::C2S, "apns-security-v3".to_string()), (Dir::S2C, "apns-security-v3".to_string())]);
    assert_eq!(sni, ["courier.push.apple.com"]);
    for dir in [Dir::C2S, Dir::S2C] {
        let want: Vec<u8> = s.msgs.iter().filter(|m| m.dir == dir).flat_map(|m| m.raw.clone()).collect();
        let have = got.get(&dir).cloned().unwrap_or_default();
        assert!(!want.is_empty());
        assert_eq!(have.len(), want.len(), "{dir:?}: decrypted byte count");
        assert!(have == want, "{dir:?}: decrypted bytes differ from the logged messages");
    }
}

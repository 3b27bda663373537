//! The Linux kernel's MPTCP (v1) between two network namespaces made here, captured with
//! dumpcap and read by tshark with the plugin.
//!
//! Topology (only this test's own namespaces and 10.200.x.x addresses inside them):
//!
//! ```text
//!   client ns                         server ns
//!   10.200.1.1 (c0) ── veth path 0 ── (s0) 10.200.1.2   listener 0.0.0.0:5001
//!   10.200.2.1 (c1) ── veth path 1 ── (s1) 10.200.2.2   "signal" endpoint: ADD_ADDR
//! ```
//!
//! Captured on the server namespace's "any" device (Linux cooked framing).
//! Three connections, one after the other: a Siri-like request/response (TLS ClientHello
//! naming guzzoni.apple.com, checksums on), a 4 MB bulk upload over both subflows (both
//! paths rate-limited with tbf so the scheduler uses both), and a paced upload whose first
//! path is taken down mid-transfer so the data moves to the second.
//!
//! Ground truth comes from the test's own client and server: what each sent and received
//! (byte counts, SHA-256), and what each one's kernel reported on its own socket through
//! `getsockopt(SOL_MPTCP, MPTCP_INFO)`: the local token, the next DSN to write (IDSN plus
//! one plus the bytes written), whether checksums are on, subflows opened, bytes
//! retransmitted at data level; and, for the path-down run, the wall-clock time the client
//! took the path down.
//!
//! Needs root and a kernel with MPTCP; otherwise the test prints why and passes vacuously.

mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::Tshark;

const SERVER_PY: &str = r#"
import socket, sys, json, struct, hashlib
IPPROTO_MPTCP = 262; SOL_MPTCP = 284; MPTCP_INFO = 1
def info(s):
    b = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
    d = {"token": struct.unpack_from("<I", b, 12)[0], "write_seq": struct.unpack_from("<Q", b, 16)[0],
         "csum": b[42], "len": len(b)}
    if len(b) >= 81:
        d["bytes_retrans"] = struct.unpack_from("<Q", b, 48)[0]
        d["subflows_total"] = b[80]
    return d
replies = [int(x) for x in sys.argv[2].split(",")]
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1]))); ls.listen(4)
print(json.dumps({"ready": True}), flush=True)
ls.settimeout(60)
for n in replies:
    c, peer = ls.accept()
    c.settimeout(30)
    h = hashlib.sha256(); got = 0
    while True:
        b = c.recv(65536)
        if not b: break
        h.update(b); got += len(b)
    c.sendall(bytes((i * 7) & 0xff for i in range(n)))
    i_after = info(c)
    c.shutdown(socket.SHUT_WR)
    try:
        while c.recv(65536): pass
    except Exception: pass
    print(json.dumps({"peer_port": peer[1], "received": got, "sha256": h.hexdigest(), "sent": n, "info": i_after}), flush=True)
    c.close()
"#;

const CLIENT_PY: &str = r#"
import socket, sys, json, struct, hashlib, time, subprocess
IPPROTO_MPTCP = 262; SOL_MPTCP = 284; MPTCP_INFO = 1
def info(s):
    b = s.getsockopt(SOL_MPTCP, MPTCP_INFO, 256)
    d = {"token": struct.unpack_from("<I", b, 12)[0], "write_seq": struct.unpack_from("<Q", b, 16)[0],
         "csum": b[42], "len": len(b)}
    if len(b) >= 81:
        d["bytes_retrans"] = struct.unpack_from("<Q", b, 48)[0]
        d["subflows_total"] = b[80]
    return d
def client_hello(sni):
    name = sni.encode()
    lst = b"\x00" + struct.pack(">H", len(name)) + name
    ext = struct.pack(">HHH", 0, len(lst) + 2, len(lst)) + lst
    body = b"\x03\x03" + bytes(range(32)) + b"\x00" + b"\x00\x02\x13\x01" + b"\x01\x00" + struct.pack(">H", len(ext)) + ext
    hs = b"\x01\x00" + struct.pack(">H", len(body)) + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs
mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_MPTCP)
s.settimeout(30)
s.connect((addr, port))
local = s.getsockname()
h = hashlib.sha256(); sent = 0; down_at = None; sent_before_down = None
def send(b):
    global sent
    s.sendall(b); h.update(b); sent += len(b)
if mode == "siri":
    send(client_hello("guzzoni.apple.com")); time.sleep(0.05)
    send(b"\x17\x03\x03" + bytes(700)); time.sleep(0.05)
    send(b"\x17\x03\x03" + bytes(300))
elif mode == "bulk":
    time.sleep(0.3)
    chunk = bytes((i * 13) & 0xff for i in range(65536))
    for _ in range(64): send(chunk)
elif mode == "down":
    time.sleep(0.3)
    chunk = bytes((i * 5) & 0xff for i in range(16384))
    for k in range(100):
        send(chunk); time.sleep(0.02)
        if k == 15:
            sent_before_down = sent
            down_at = time.time()
            subprocess.run(["ip", "link", "set", sys.argv[4], "down"], check=True)
time.sleep(0.2)
i_before = info(s)
s.shutdown(socket.SHUT_WR)
got = 0
while True:
    b = s.recv(65536)
    if not b: break
    got += len(b)
s.close()
print(json.dumps({"mode": mode, "port": local[1], "sent": sent, "sha256": h.hexdigest(), "received": got,
                  "info": i_before, "down_at": down_at, "sent_before_down": sent_before_down}))
"#;

fn sh(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0]).args(&args[1..]).output().map_err(|e| format!("{args:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Why this machine cannot run the test, if it cannot.
fn unavailable() -> Option<String> {
    match sh(&["id", "-u"]) {
        Ok(u) if u.trim() == "0" => {}
        _ => return Some("not root (network namespaces need root)".into()),
    }
    for tool in ["ip", "dumpcap", "python3"] {
        if sh(&["sh", "-c", &format!("command -v {tool}")]).is_err() {
            return Some(format!("{tool} not installed"));
        }
    }
    match std::fs::read_to_string("/proc/sys/net/mptcp/enabled") {
        Ok(v) if v.trim() == "1" => None,
        Ok(v) => Some(format!("net.mptcp.enabled = {}", v.trim())),
        Err(e) => Some(format!("kernel without MPTCP (/proc/sys/net/mptcp/enabled: {e})")),
    }
}

/// This test's namespaces and processes; removed on drop, whatever happened.
struct Lab {
    c: String,
    s: String,
    children: Vec<Child>,
}

impl Lab {
    fn ns(&self, ns: &str, args: &[&str]) -> Result<String, String> {
        let mut v = vec!["ip", "netns", "exec", ns];
        v.extend_from_slice(args);
        sh(&v)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            // Only our own children, by pid.
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
        let _ = sh(&["ip", "netns", "del", &self.c]);
        let _ = sh(&["ip", "netns", "del", &self.s]);
    }
}

fn json_num(j: &str, key: &str) -> Option<f64> {
    let i = j.find(&format!("\"{key}\": "))? + key.len() + 4;
    let rest = &j[i..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn json_u64(j: &str, key: &str) -> u64 {
    // u64 values (DSNs) exceed f64 precision: parse the digits directly.
    let i = j.find(&format!("\"{key}\": ")).unwrap_or_else(|| panic!("{key} in {j}")) + key.len() + 4;
    j[i..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap()
}

fn json_str<'a>(j: &'a str, key: &str) -> &'a str {
    let i = j.find(&format!("\"{key}\": \"")).unwrap() + key.len() + 5;
    &j[i..i + j[i..].find('"').unwrap()]
}

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn kernel_mptcp_between_namespaces() {
    if let Some(why) = unavailable() {
        println!("skipping the kernel MPTCP test: {why}");
        return;
    }
    let t = Tshark::get();
    let id = std::process::id() % 100_000;
    let lab = &mut Lab { c: format!("asmp{id}c"), s: format!("asmp{id}s"), children: Vec::new() };
    let (c, s) = (lab.c.clone(), lab.s.clone());
    let (c0, c1, s0, s1) = (format!("a{id}c0"), format!("a{id}c1"), format!("a{id}s0"), format!("a{id}s1"));
    let setup = || -> Result<(), String> {
        sh(&["ip", "netns", "add", &c])?;
        sh(&["ip", "netns", "add", &s])?;
        sh(&["ip", "link", "add", &c0, "netns", &c, "type", "veth", "peer", "name", &s0, "netns", &s])?;
        sh(&["ip", "link", "add", &c1, "netns", &c, "type", "veth", "peer", "name", &s1, "netns", &s])?;
        for (ns, dev, a) in [(&c, &c0, "10.200.1.1/24"), (&s, &s0, "10.200.1.2/24"), (&c, &c1, "10.200.2.1/24"), (&s, &s1, "10.200.2.2/24")] {
            sh(&["ip", "-n", ns, "addr", "add", a, "dev", dev])?;
            sh(&["ip", "-n", ns, "link", "set", dev, "up"])?;
        }
        for ns in [&c, &s] {
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"])?;
            sh(&["ip", "-n", ns, "mptcp", "limits", "set", "subflows", "2", "add_addr_accepted", "2"])?;
        }
        sh(&["ip", "-n", &s, "mptcp", "endpoint", "add", "10.200.2.2", "dev", &s1, "signal"])?;
        Ok(())
    };
    if let Err(e) = setup() {
        println!("skipping the kernel MPTCP test: namespace setup failed: {e}");
        return;
    }
    let csum = |on: bool| {
        for ns in [&c, &s] {
            sh(&["ip", "netns", "exec", ns, "sysctl", "-q", &format!("net.mptcp.checksum_enabled={}", on as u8)]).expect("checksum sysctl");
        }
    };

    let (host_pcap, seen_pcap) = t.temp_file("kernel-mptcp.pcapng");
    let _ = std::fs::remove_file(&host_pcap);
    let dumpcap = Command::new("ip")
        // One capture of the namespace's "any" device: one time-ordered stream in Linux
        // cooked framing (two per-interface captures can be written out of time order).
        .args(["netns", "exec", &s, "dumpcap", "-q", "-s", "200", "-i", "any", "-f", "tcp port 5001", "-w"])
        .arg(&host_pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("dumpcap starts");
    lab.children.push(dumpcap);
    for _ in 0..50 {
        if host_pcap.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));

    let dir = host_pcap.parent().unwrap();
    std::fs::write(dir.join("server.py"), SERVER_PY).unwrap();
    std::fs::write(dir.join("client.py"), CLIENT_PY).unwrap();
    let server = Command::new("ip")
        .args(["netns", "exec", &s, "python3"])
        .arg(dir.join("server.py"))
        .args(["5001", "300,1000,100"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    lab.children.push(server);
    std::thread::sleep(Duration::from_millis(500));
    let client = |mode: &str| -> String {
        let py = dir.join("client.py");
        let mut v = vec!["ip", "netns", "exec", &c, "python3", py.to_str().unwrap(), mode, "10.200.1.2", "5001"];
        if mode == "down" {
            v.push(&c0);
        }
        sh(&v).unwrap_or_else(|e| panic!("client {mode}: {e}"))
    };
    csum(true);
    let siri = client("siri");
    csum(false);
    let tbf = ["40mbit", "64kb", "50ms"];
    let shaped = [&c0, &c1].iter().all(|d| {
        lab.ns(&c, &["tc", "qdisc", "add", "dev", d, "root", "tbf", "rate", tbf[0], "burst", tbf[1], "latency", tbf[2]]).is_ok()
    });
    let bulk = client("bulk");
    for d in [&c0, &c1] {
        let _ = lab.ns(&c, &["tc", "qdisc", "del", "dev", d, "root"]);
    }
    let down = client("down");
    // The server's log, then stop the capture (our own children only).
    let mut server = lab.children.pop().unwrap();
    let mut srv_out = String::new();
    std::io::Read::read_to_string(server.stdout.as_mut().unwrap(), &mut srv_out).unwrap();
    let _ = server.wait();
    std::thread::sleep(Duration::from_millis(500));
    for mut ch in lab.children.drain(..) {
        let _ = Command::new("kill").arg("-TERM").arg(ch.id().to_string()).status();
        let _ = ch.wait();
    }
    let _ = sh(&["chmod", "a+r", host_pcap.to_str().unwrap()]);
    let srv: Vec<&str> = srv_out.lines().filter(|l| l.contains("peer_port")).collect();
    let clients = [siri.trim(), bulk.trim(), down.trim()];
    assert_eq!(srv.len(), 3, "server log: {srv_out}");
    for (cl, sv) in clients.iter().zip(&srv) {
        // The transfers themselves worked: what one sent, the other received, byte for byte.
        assert_eq!(json_num(cl, "sent"), json_num(sv, "received"));
        assert_eq!(json_str(cl, "sha256"), json_str(sv, "sha256"));
        assert_eq!(json_num(cl, "received"), json_num(sv, "sent"));
        assert_eq!(json_num(cl, "port"), json_num(sv, "peer_port"));
    }
    analyse(t, &seen_pcap, &host_pcap, &clients, &srv, shaped);
}

fn analyse(t: &Tshark, file: &str, host: &Path, clients: &[&str; 3], srv: &[&str], shaped: bool) {
    assert!(host.exists());
    let f = |filter: Option<&str>, fields: &[&str], extra: &[&str]| t.fields(file, filter, fields, extra);
    // Per connection summary, read on each connection's first frame (two passes: whole capture).
    let conns = f(
        Some("mptcp_annot.conn.first_frame == frame.number"),
        &[
            "mptcp_annot.connection",
            "mptcp_annot.conn.version",
            "mptcp_annot.conn.client_token",
            "mptcp_annot.conn.server_token",
            "mptcp_annot.conn.client_idsn",
            "mptcp_annot.conn.server_idsn",
            "mptcp_annot.conn.checksum_negotiated",
            "mptcp_annot.conn.checksum_present",
            "mptcp_annot.conn.subflows",
            "mptcp_annot.sf.client.ipv4",
            "mptcp_annot.sf.bytes_to_server",
            "mptcp_annot.sf.bytes_to_client",
            "mptcp_annot.conn.service",
            "mptcp_annot.conn.rtt_samples",
            "mptcp_annot.conn.handovers",
            "mptcp_annot.conn.keys_echoed",
            "mptcp_annot.sf.client.port",
        ],
        &["-2"],
    );
    assert_eq!(conns.len(), 3, "{conns:?}");
    // Data frames: direction, DSN range, reinjections, handovers, IDSN checks.
    let frames = f(
        Some("mptcp_annot"),
        &[
            "frame.number",
            "frame.time_epoch",
            "mptcp_annot.connection",
            "mptcp_annot.subflow",
            "mptcp_annot.direction",
            "mptcp_annot.rel_dsn",
            "mptcp_annot.data_len",
            "tcp.len",
            "mptcp_annot.reinjection_kind",
            "mptcp_annot.handover_from",
            "mptcp_annot.handover_to",
            "mptcp_annot.idsn_check",
        ],
        &["-2"],
    );
    for (i, (cl, sv)) in clients.iter().zip(srv).enumerate() {
        let r = &conns[i];
        let mode = json_str(cl, "mode");
        assert_eq!(r[0], i.to_string());
        assert_eq!(r[1], "1", "{mode}: MPTCP v1");
        // Tokens: each kernel's own local token.
        assert_eq!(hex(&r[2]), json_u64(cl, "token"), "{mode}: client token");
        assert_eq!(hex(&r[3]), json_u64(sv, "token"), "{mode}: server token");
        // IDSN from the keys: the kernel's next DSN to write is IDSN + 1 + bytes written.
        let (cidsn, sidsn): (u64, u64) = (r[4].parse().unwrap(), r[5].parse().unwrap());
        let csent = json_num(cl, "sent").unwrap() as u64;
        let ssent = json_num(sv, "sent").unwrap() as u64;
        assert_eq!(json_u64(cl, "write_seq").wrapping_sub(cidsn), csent + 1, "{mode}: client IDSN");
        assert_eq!(json_u64(sv, "write_seq").wrapping_sub(sidsn), ssent + 1, "{mode}: server IDSN");
        // Checksums as the kernel says.
        let csum = json_num(cl, "csum") == Some(1.0);
        assert_eq!(r[6], if csum { "1" } else { "0" }, "{mode}: checksum negotiated");
        assert_eq!(r[7], if csum { "1" } else { "0" }, "{mode}: checksums present");
        assert_eq!(csum, mode == "siri");
        // Subflows: the kernel's count of subflows it opened.
        if let Some(n) = json_num(cl, "subflows_total") {
            assert_eq!(r[8], (n as u64).to_string(), "{mode}: subflows");
        }
        // The initial subflow's client end: the client's address and the port its socket had.
        assert!(r[9].starts_with("10.200.1.1,"), "{mode}: {}", r[9]);
        assert!(r[16].starts_with(&format!("{},", json_u64(cl, "port"))), "{mode}: {}", r[16]);
        assert_eq!(r[15], "1", "{mode}: the Linux client echoes both keys");
        assert!(r[13].parse::<u32>().unwrap() > 0, "{mode}: data RTT samples");
        // Relative DSNs end where the applications' byte counts say.
        let mine: Vec<&Vec<String>> = frames.iter().filter(|x| x[2] == i.to_string()).collect();
        for (dir, sent) in [("0", csent), ("1", ssent)] {
            let end = mine
                .iter()
                .filter(|x| x[4] == dir && x[7] != "0" && !x[5].is_empty())
                .map(|x| x[5].parse::<u64>().unwrap() + x[7].parse::<u64>().unwrap())
                .max()
                .unwrap();
            assert_eq!(end, sent + 1, "{mode} dir {dir}: last data byte");
        }
        assert_eq!(mine.iter().filter(|x| x[11] == "1").count(), 2, "{mode}: IDSN checks ok both ways");
        assert!(mine.iter().all(|x| x[11] != "0"), "{mode}: no IDSN mismatch");
        // Reinjections the capture shows from the client never exceed what its kernel resent.
        let reinjected: u64 = mine
            .iter()
            .filter(|x| x[4] == "0" && (x[8] == "1" || x[8] == "2") && x[7] != "0")
            .map(|x| x[7].parse::<u64>().unwrap())
            .sum();
        let kernel = json_num(cl, "bytes_retrans").unwrap_or(f64::MAX) as u64;
        if reinjected > kernel {
            let t = Tshark::get();
            let dump = t.fields(file, Some(&format!("mptcp_annot.connection == {i} && mptcp_annot.reinjection_of")), &["frame.number", "mptcp_annot.subflow", "mptcp_annot.rel_dsn", "tcp.len", "mptcp_annot.reinjection_of", "mptcp_annot.reinjection_kind", "tcp.seq", "tcp.options.mptcp.rawdataseqno", "tcp.options.mptcp.subflowseqno", "tcp.options.mptcp.datalvllen"], &["-2"]);
            for d in dump { println!("{d:?}"); }
            let _ = std::fs::copy(host, "/tmp/mptcp-kernel-failed.pcapng");
        }
        assert!(reinjected <= kernel, "{mode}: {reinjected} reinjected bytes seen, kernel resent {kernel}");
        let sum = |s: &str| s.split(',').map(|v| v.parse::<u64>().unwrap()).collect::<Vec<_>>();
        let to_server = sum(&r[10]);
        assert!(to_server.iter().sum::<u64>() >= csent, "{mode}: bytes to server {to_server:?}");
        match mode {
            "siri" => {
                assert_eq!(r[12], "guzzoni.apple.com");
                assert_eq!(r[14], "0", "siri: no handover");
            }
            "bulk" => {
                println!("bulk: bytes per subflow to the server {to_server:?} (tbf shaping: {shaped})");
                if shaped {
                    assert!(to_server.len() == 2 && to_server.iter().all(|b| *b > 0), "bulk over two subflows: {to_server:?}");
                }
                assert_eq!(r[14], "0", "bulk: both paths stay up: no handover");
            }
            "down" => {
                // The path went down: data moves from subflow 0 to 1, after the moment the
                // client took it down, and it is a handover.
                let down_at = json_num(cl, "down_at").unwrap();
                let before = json_num(cl, "sent_before_down").unwrap() as u64;
                assert!(to_server[0] <= before, "down: subflow 0 carried {} of {before} bytes sent before", to_server[0]);
                let ho: Vec<_> = mine.iter().filter(|x| !x[9].is_empty()).collect();
                assert_eq!(ho.len(), 1, "down: one handover: {ho:?}");
                assert_eq!((ho[0][9].as_str(), ho[0][10].as_str(), ho[0][3].as_str()), ("0", "1", "1"));
                let at: f64 = ho[0][1].parse().unwrap();
                assert!(at >= down_at - 0.005, "handover at {at}, path down at {down_at}");
                assert_eq!(r[14], "1");
            }
            _ => unreachable!(),
        }
    }
    // The statistics table: one row per connection, subflow counts as above.
    let out = t.stdout(&["-r", file, "-n", "-2", "-q", "-z", "mptcp_annot,conn"]);
    let rows: BTreeMap<String, Vec<String>> = out
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| {
            let v: Vec<String> = l.split(" |").map(|s| s.trim().to_string()).collect();
            (v[0].clone(), v)
        })
        .collect();
    assert_eq!(rows.len(), 3, "{out}");
    for (i, r) in conns.iter().enumerate() {
        let row = &rows[&i.to_string()];
        assert_eq!(row[6], r[8], "subflows in the table");
        assert_eq!(row[14], r[14], "handovers in the table");
    }
    println!("{out}");
}

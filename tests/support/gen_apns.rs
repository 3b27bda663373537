//! The APNs courier generator: messages laid out by hand from protocol-notes §1, independent
//! of `core::apns`. Used by the golden tests (`tests/apns.rs`) and the bundled sample
//! (`samples/apns-demo.pcap`).

use super::{Capture, Dir, TcpFlow};
use std::net::SocketAddr;

pub fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub fn item(id: u8, v: &[u8]) -> Vec<u8> {
    let mut o = vec![id];
    o.extend_from_slice(&(v.len() as u16).to_be_bytes());
    o.extend_from_slice(v);
    o
}

pub fn msg(cmd: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = items.concat();
    let mut o = vec![cmd];
    o.extend_from_slice(&(body.len() as u32).to_be_bytes());
    o.extend(body);
    o
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap()).collect()
}

/// SHA-1 computed by the system's `sha1sum`, independent of the plugin's hashing.
pub fn sha1(name: &str) -> Vec<u8> {
    use std::io::Write;
    let mut c = std::process::Command::new("sha1sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha1sum");
    c.stdin.take().unwrap().write_all(name.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    unhex(String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap())
}

pub const TOKEN: [u8; 32] = [0xAB; 32];
pub const CLIENT: &str = "10.0.0.2:50123";
/// A port no other dissector claims, so only the heuristic can find the stream.
pub const SERVER: &str = "17.57.146.20:15223";

/// One message of the scripted session, with what the generator put in it.
pub struct Sent {
    pub dir: Dir,
    pub bytes: Vec<u8>,
    pub cmd: u8,
    pub topic: &'static str,
    pub msg_id: Option<u32>,
}

pub fn imessage_plist() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bplist/imessage.bplist")).unwrap()
}

/// The generator's record of the iMessage sample (tests/data/bplist/gen.py / .expected).
pub fn imessage_expected() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bplist/imessage.expected")).unwrap()
}

/// Value of a top-level key of the canonical rendering (`a:<hex key>=<v>`), as text.
pub fn canon_value(canon: &str, key: &str) -> String {
    let pat = format!("a:{}=", hex(key.as_bytes()));
    let at = canon.find(&pat).unwrap() + pat.len();
    canon[at..].split([',', '}']).next().unwrap().to_string()
}

/// A well-behaved session: Connect and its response, a topic filter with com.apple.madrid,
/// an iMessage push (binary plist) and its ack, a JSON push the other way and its ack,
/// keep-alive and its ack, and the rarer commands (no-storage, flush, …).
pub fn courier_session() -> Vec<Sent> {
    let madrid = sha1("com.apple.madrid");
    let ess = sha1("com.apple.ess");
    let private = sha1("dev.example.private-topic");
    let nonce = [&[0u8][..], &1_700_000_000_123u64.to_be_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8]].concat();
    let s = |dir, bytes, cmd, topic, msg_id| Sent { dir, bytes, cmd, topic, msg_id };
    vec![
        s(
            Dir::ToServer,
            msg(
                0x07,
                &[
                    item(1, &TOKEN),
                    item(2, &[1]),
                    item(5, &[0, 0, 0, 0x41]),
                    item(6, &[1]),
                    item(8, b"WiFi"),
                    item(9, b"17.0"),
                    item(10, b"21A329"),
                    item(11, b"iPhone15,2"),
                    item(12, &[0x30; 40]),
                    item(13, &nonce),
                    item(14, &[[1u8, 1].as_slice(), &[0x5A; 16]].concat()),
                    item(16, &[0, 11]),
                    item(22, &1_700_000_000_456u64.to_be_bytes()),
                ],
            ),
            0x07,
            "",
            None,
        ),
        s(
            Dir::ToClient,
            msg(0x08, &[item(1, &[0]), item(3, &TOKEN), item(4, &[0x10, 0]), item(10, &1_700_000_001_000u64.to_be_bytes())]),
            0x08,
            "",
            None,
        ),
        s(
            Dir::ToServer,
            msg(0x09, &[item(1, &TOKEN), item(2, &madrid), item(2, &ess), item(3, &private)]),
            0x09,
            "com.apple.madrid,com.apple.ess",
            None,
        ),
        // Server → device: token in item 1, topic in item 2, bplist payload.
        s(
            Dir::ToClient,
            msg(
                0x0A,
                &[
                    item(1, &TOKEN),
                    item(2, &madrid),
                    item(3, &imessage_plist()),
                    item(4, &0x6C3A_1F09u32.to_be_bytes()),
                    item(5, &1_700_003_600u32.to_be_bytes()),
                    item(6, &1_700_000_002_000_000_123u64.to_be_bytes()),
                ],
            ),
            0x0A,
            "com.apple.madrid",
            Some(0x6C3A_1F09),
        ),
        s(Dir::ToServer, msg(0x0B, &[item(1, &TOKEN), item(4, &0x6C3A_1F09u32.to_be_bytes()), item(8, &[0])]), 0x0B, "", Some(0x6C3A_1F09)),
        // Device → server (pypush order): payload, id, topic in item 1, token in item 2.
        s(
            Dir::ToServer,
            msg(0x0A, &[item(3, br#"{"aps":{"alert":"hi"}}"#), item(4, &7u32.to_be_bytes()), item(1, &ess), item(2, &TOKEN)]),
            0x0A,
            "com.apple.ess",
            Some(7),
        ),
        s(Dir::ToClient, msg(0x0B, &[item(4, &7u32.to_be_bytes()), item(8, &[0])]), 0x0B, "", Some(7)),
        s(
            Dir::ToServer,
            msg(0x0C, &[item(1, b"310260"), item(2, b"17.1"), item(3, b"21B74"), item(4, b"iPhone15,2"), item(5, &[0, 20])]),
            0x0C,
            "",
            None,
        ),
        s(Dir::ToClient, msg(0x0D, &[]), 0x0D, "", None),
        s(Dir::ToClient, msg(0x0E, &[item(1, &TOKEN)]), 0x0E, "", None),
        s(Dir::ToClient, msg(0x0F, &[item(1, &[0, 64]), item(2, &[0; 64])]), 0x0F, "", None),
        s(Dir::ToClient, msg(0x10, &[]), 0x10, "", None),
        s(Dir::ToServer, msg(0x11, &[item(1, &TOKEN), item(2, &madrid), item(3, b"com.example.app")]), 0x11, "com.apple.madrid", None),
        s(Dir::ToClient, msg(0x12, &[item(1, &[0]), item(2, &[0x77; 40]), item(3, &madrid)]), 0x12, "com.apple.madrid", None),
        s(Dir::ToServer, msg(0x14, &[item(1, &[1]), item(2, &[0x7f, 0xff, 0xff, 0xff])]), 0x14, "", None),
    ]
}

/// [`courier_session`], then an unknown command and an unknown item id (shown, not dropped).
pub fn session() -> Vec<Sent> {
    let s = |dir, bytes, cmd, topic, msg_id| Sent { dir, bytes, cmd, topic, msg_id };
    let mut v = courier_session();
    v.push(s(Dir::ToClient, msg(0x20, &[item(1, &[9])]), 0x20, "", None));
    v.push(s(Dir::ToServer, msg(0x0C, &[item(0x63, &[1, 2]), item(1, b"WiFi")]), 0x0C, "", None));
    v
}

/// One message per segment after the handshake; returns (capture, frame number of each).
pub fn one_per_segment(script: &[Sent]) -> (Capture, Vec<u32>) {
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa(CLIENT), sa(SERVER));
    cap.extend(tcp.handshake(&[], &[], &[]));
    let mut frames = Vec::new();
    for m in script {
        cap.push(tcp.send(m.dir, &m.bytes, &[]));
        frames.push(cap.len() as u32);
    }
    (cap, frames)
}


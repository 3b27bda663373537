//! Golden tests: channel subscriptions (0x1D), the unknown pub/sub commands 0x1E and 0x20,
//! and IDS / FaceTime / quick relay payloads, in both framings, dissected by the real tshark
//! with the built plugin. The messages come from this file's generator (tests/support:
//! `gen_apns` for the classic framing, `gen_packed` for the packed one, `gen_ids` for the
//! payloads: Python's plistlib writes the property lists, protobufs are laid out by hand
//! from rustpush's statuskit.proto); every expected value is the generator's own.

mod support;

use support::gen_apns::{hex, item, msg, sa, sha1, CLIENT, SERVER, TOKEN};
use support::gen_ids::{bplist, channel, pb_len, subscribe_to_channel, subscribed_topic};
use support::gen_packed as pk;
use support::{Capture, Dir, TcpFlow, Tshark};

const ALICE: &str = "mailto:alice@example.com";
const BOB: &str = "tel:+15555550123";
const GROUP: &str = "5B1E0F1C-8A4D-4E8B-9C39-0A1B2C3D4E5F";
const MSG_UUID: [u8; 16] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01];
const RELAY_IP: [u8; 4] = [17, 188, 137, 10];
const RELAY_PORT: u16 = 3478;

fn group_bytes() -> Vec<u8> {
    support::gen_apns::unhex(&GROUP.replace('-', ""))
}

fn uuid(b: &[u8]) -> String {
    let h = hex(b).to_uppercase();
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

fn py_bytes(b: &[u8]) -> String {
    format!("bytes.fromhex('{}')", hex(b))
}

/// rustpush's relay request (identity_manager.rs `SendMessage` with the relay keys).
fn relay_request() -> Vec<u8> {
    bplist(&format!(
        "{{'c': 200, 'ua': '[macOS,15.5,24F74,iMac19,2]', 'i': 4242, 'U': {u}, 'sP': '{ALICE}', \
          'dtl': [{{'tP': '{BOB}', 'D': False, 'sT': {st}, 't': {t}}}], \
          'qr': 0, 'qids': {g}, 'qgid': '{GROUP}', 'qgmc': 2, 'qai': 'com.apple.private.alloy.facetime.multi', 'qat': 3, 'qv': 25}}",
        u = py_bytes(&MSG_UUID),
        st = py_bytes(&[0x5a; 24]),
        t = py_bytes(&[0xcd; 32]),
        g = py_bytes(&group_bytes()),
    ))
}

/// rustpush's `QuickRelayAllocationsResponse` (link.rs), with a server response's c and s.
fn relay_response() -> Vec<u8> {
    bplist(&format!(
        "{{'c': 255, 's': 0, 'U': {u}, 'qal': [{{'qri': 11, 'tP': '{ALICE}', 't': {ta}}}, {{'qri': 12, 'tP': '{BOB}', 't': {tb}}}], \
          'qrip': {ip}, 'qrp': {RELAY_PORT}, 'qrst': {st}, 'qrsk': {sk}, 'qids': {g}, 'qrsi': {si}, 'qri': 11}}",
        u = py_bytes(&MSG_UUID),
        ta = py_bytes(&TOKEN),
        tb = py_bytes(&[0xcd; 32]),
        ip = py_bytes(&RELAY_IP),
        st = py_bytes(&[0x77; 16]),
        sk = py_bytes(&[0x66; 20]),
        g = py_bytes(&group_bytes()),
        si = py_bytes(&[0x55; 8]),
    ))
}

/// A FaceTime conversation message (facetime.rs `send_for_message`: command 242, encrypted).
fn facetime_message() -> Vec<u8> {
    bplist(&format!(
        "{{'c': 242, 'E': 'pair-ec', 'P': {p}, 'sP': '{ALICE}', 'U': {u}, 'i': 7, 'v': 8, 'tP': '{BOB}'}}",
        p = py_bytes(&[0xee; 40]),
        u = py_bytes(&[0x42; 16]),
    ))
}

/// The server's answer with an IDS status (5032: beeper's IDSStatusBadSignature).
fn status_response() -> Vec<u8> {
    bplist(&format!("{{'c': 255, 's': 5032, 'U': {u}, 't': {t}, 'tP': '{BOB}'}}", u = py_bytes(&[0x42; 16]), t = py_bytes(&[0xcd; 32])))
}

/// A malformed relay response: a 3-byte address, a port past 65535, an allocation without t.
fn bad_relay_response() -> Vec<u8> {
    bplist(&format!(
        "{{'c': 255, 'U': {u}, 'qal': [{{'qri': 3, 'tP': '{BOB}'}}], 'qrip': {ip}, 'qrp': 70000}}",
        u = py_bytes(&MSG_UUID),
        ip = py_bytes(&[1, 2, 3]),
    ))
}

const CH_TOPIC: &str = "com.apple.icloud.presence.mode.status";
const CH_ID: [u8; 5] = [0xc1, 0xc2, 0xc3, 0xc4, 0xc5];
const CH_GONE: [u8; 3] = [0xd1, 0xd2, 0xd3];
const CH_LAST_NS: u64 = 1_700_000_123_000_000_000;

fn channel_list() -> Vec<u8> {
    subscribe_to_channel(&[subscribed_topic(CH_TOPIC, &[channel(&CH_ID, CH_LAST_NS)], &[channel(&CH_GONE, 0)])], true)
}

fn push(topic: &str, payload: &[u8], id: u32) -> Vec<u8> {
    // Server → device: 1 token, 2 topic hash.
    msg(0x0A, &[item(1, &TOKEN), item(2, &sha1(topic)), item(3, payload), item(4, &id.to_be_bytes())])
}

fn send(topic: &str, payload: &[u8], id: u32) -> Vec<u8> {
    // Device → server: 1 topic hash, 2 token.
    msg(0x0A, &[item(1, &sha1(topic)), item(2, &TOKEN), item(3, payload), item(4, &id.to_be_bytes())])
}

const DECODE: [&str; 2] = ["-d", "tcp.port==15223,apns"];

fn classic_capture(t: &Tshark) -> (String, Vec<u32>) {
    let script: Vec<(Dir, Vec<u8>)> = vec![
        (Dir::ToServer, send("com.apple.private.alloy.quickrelay", &relay_request(), 1)),
        (Dir::ToClient, push("com.apple.private.alloy.quickrelay", &relay_response(), 2)),
        (Dir::ToServer, send("com.apple.private.alloy.facetime.multi", &facetime_message(), 3)),
        (Dir::ToClient, push("com.apple.private.alloy.facetime.multi", &status_response(), 4)),
        (Dir::ToClient, push("com.apple.private.alloy.quickrelay", &bad_relay_response(), 5)),
        // Channel subscription (rustpush to_raw: 1 index u32, 2 protobuf, 3 token) and the
        // confirmation (1 index, 3 token, 4 status).
        (Dir::ToServer, msg(0x1D, &[item(1, &1u32.to_be_bytes()), item(2, &channel_list()), item(3, &TOKEN)])),
        (Dir::ToClient, msg(0x1D, &[item(1, &1u32.to_be_bytes()), item(3, &TOKEN), item(4, &[0])])),
        // A StatusKit push: item 29 is the channel.
        (Dir::ToClient, msg(0x0A, &[item(1, &TOKEN), item(2, &sha1(CH_TOPIC)), item(3, b"{}"), item(4, &6u32.to_be_bytes()), item(29, &channel(&CH_ID, CH_LAST_NS))])),
        (Dir::ToClient, msg(0x1E, &[item(1, &[1, 2])])),
        (Dir::ToClient, msg(0x20, &[item(2, &[3])])),
        // Not a protobuf: a length past the end.
        (Dir::ToServer, msg(0x1D, &[item(1, &2u32.to_be_bytes()), item(2, &pb_len(2, &[0x0a, 0x30, b'x'])), item(3, &TOKEN)])),
    ];
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa(CLIENT), sa(SERVER));
    cap.extend(tcp.handshake(&[], &[], &[]));
    let mut frames = Vec::new();
    for (d, b) in &script {
        cap.push(tcp.send(*d, b, &[]));
        frames.push(cap.len() as u32);
    }
    (t.capture("apns-ids.pcap", &cap.to_bytes()), frames)
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

fn two_pass(extra: &[&'static str]) -> [Vec<&'static str>; 2] {
    let one = extra.to_vec();
    let mut two = extra.to_vec();
    two.push("-2");
    [one, two]
}

#[test]
fn quick_relay_and_facetime_classic() {
    let t = Tshark::get();
    let (file, f) = classic_capture(t);
    for extra in two_pass(&DECODE) {
        let got = t.fields(
            &file,
            Some("apns.ids.relay.group_id"),
            &["frame.number", "apns.ids.command", "apns.ids.sender", "apns.ids.target", "apns.ids.uuid", "apns.ids.session_id", "apns.ids.relay.reason", "apns.ids.relay.member_count", "apns.ids.relay.topic", "apns.ids.relay.request_type", "apns.ids.relay.version"],
            &extra,
        );
        assert_eq!(
            got,
            vec![row(&[&f[0].to_string(), "200", ALICE, BOB, &uuid(&MSG_UUID), GROUP, "0", "2", "com.apple.private.alloy.facetime.multi", "3", "25"])],
            "{extra:?}"
        );
        let got = t.fields(
            &file,
            Some("apns.ids.relay.address"),
            &["frame.number", "apns.ids.command", "apns.ids.status", "apns.ids.uuid", "apns.ids.relay.participant_id", "apns.ids.relay.participant", "apns.ids.relay.participant_token", "apns.ids.relay.address", "apns.ids.relay.port", "apns.ids.relay.own_participant_id", "apns.ids.session_id", "apns.ids.relay.session_key"],
            &extra,
        );
        let ip = RELAY_IP.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(".");
        assert_eq!(
            got,
            vec![row(&[
                &f[1].to_string(),
                "255",
                "0",
                &uuid(&MSG_UUID),
                "11,12",
                &format!("{ALICE},{BOB}"),
                &format!("{},{}", hex(&TOKEN), hex(&[0xcd; 32])),
                &ip,
                &RELAY_PORT.to_string(),
                "11",
                GROUP,
                &hex(&[0x66; 20]),
            ])],
            "{extra:?}"
        );
        // The relay server in one generated field, on the response only.
        let got = t.fields(&file, Some("apns.ids.relay.server"), &["frame.number", "apns.ids.relay.server"], &extra);
        assert_eq!(got, vec![row(&[&f[1].to_string(), &format!("{ip}:{RELAY_PORT}")])], "{extra:?}");
        // FaceTime: command 242 with pair-ec, then the server's status 5032.
        let got = t.fields(&file, Some("apns.ids.command == 242 || apns.ids.status == 5032"), &["frame.number", "apns.ids.command", "apns.ids.encryption", "apns.ids.status", "apns.ids.token"], &extra);
        assert_eq!(
            got,
            vec![row(&[&f[2].to_string(), "242", "pair-ec", "", ""]), row(&[&f[3].to_string(), "255", "", "5032", &hex(&[0xcd; 32])])],
            "{extra:?}"
        );
        // The Info column follows the call: command names, the relay server.
        let info = t.fields(&file, Some("apns.ids.command"), &["_ws.col.Info"], &extra);
        let info: Vec<String> = info.into_iter().map(|r| r[0].clone()).collect();
        assert!(info[0].contains("IDS Quick relay allocation request (200), relay request"), "{info:?}");
        assert!(info[1].contains(&format!("IDS Server response (255), status Success (0), relay {ip}:{RELAY_PORT}")), "{info:?}");
        assert!(info[2].contains("IDS FaceTime conversation message (242)"), "{info:?}");
        assert!(info[3].contains("status Bad signature (5032)"), "{info:?}");
        // The malformed response: one expert per fault, on its frame only.
        let got = t.fields(&file, Some("apns.ids.relay.malformed"), &["frame.number", "_ws.expert.message"], &extra);
        assert_eq!(
            got,
            vec![row(&[
                &f[4].to_string(),
                "Relay allocation without a well-typed t,Relay address (qrip) is 3 bytes; 4 (IPv4) or 16 (IPv6) expected,Relay port (qrp) is not an integer 0-65535"
            ])],
            "{extra:?}"
        );
    }
    // The envelope keys are named in the tree, E with its meaning.
    let v = t.stdout(&["-r", &file, "-n", "-V", "-d", "tcp.port==15223,apns", "-Y", &format!("frame.number == {}", f[2])]);
    assert!(v.contains("E: \"pair-ec\" [encryption] (pairwise, elliptic-curve keys)"), "{v}");
    assert!(v.contains("c: 242 [command] (FaceTime conversation message)"), "{v}");
}

#[test]
fn channel_subscription_classic() {
    let t = Tshark::get();
    let (file, f) = classic_capture(t);
    let f6 = f[6].to_string();
    for extra in two_pass(&DECODE) {
        let got = t.fields(
            &file,
            Some("apns.command == 0x1d"),
            &["frame.number", "apns.subscribe.index", "apns.channel.unk1", "apns.channel.topic", "apns.channel.id", "apns.channel.subscribe", "apns.channel.replace", "apns.status", "apns.ack_in", "apns.ack_to"],
            &extra,
        );
        assert_eq!(
            got,
            vec![
                // The link to the confirmation is known from the second pass on.
                row(&[&f[5].to_string(), "1", "1", CH_TOPIC, &format!("{},{}", hex(&CH_ID), hex(&CH_GONE)), "1,0", "1", "", if extra.contains(&"-2") { &f6 } else { "" }, ""]),
                row(&[&f[6].to_string(), "1", "", "", "", "", "", "0", "", &f[5].to_string()]),
                row(&[&f[10].to_string(), "2", "", "", "", "", "", "", "", ""]),
            ],
            "{extra:?}"
        );
        // The StatusKit push's channel (0x0A item 29), with its time (ns since 1970).
        let got = t.fields(&file, Some("apns.message.unknown29"), &["frame.number", "apns.channel.id", "apns.channel.last_message"], &DECODE);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0][..2], row(&[&f[7].to_string(), &hex(&CH_ID)]));
        let secs = CH_LAST_NS / 1_000_000_000;
        let date = std::process::Command::new("date").args(["-u", "-d", &format!("@{secs}"), "+%b %e, %Y %H:%M:%S"]).output().unwrap();
        assert_eq!(got[0][2], format!("{}.{:09} UTC", String::from_utf8_lossy(&date.stdout).trim(), CH_LAST_NS % 1_000_000_000));
        // 0x1E and 0x20: unknown, named as the pub/sub commands they are.
        let info = t.fields(&file, Some("apns.command == 0x1e || apns.command == 0x20"), &["_ws.col.Info", "_ws.expert.message"], &extra);
        assert_eq!(info, vec![row(&["Unknown pub/sub command 0x1e", "Unknown command 0x1e"]), row(&["Unknown pub/sub command 0x20", "Unknown command 0x20"])]);
        // The malformed protobuf: an expert on its frame.
        let got = t.fields(&file, Some("apns.protobuf.malformed"), &["frame.number", "_ws.expert.message"], &extra);
        assert_eq!(got, vec![row(&[&f[10].to_string(), "Malformed protobuf: length 48 runs past the end (1 bytes left)"])], "{extra:?}");
    }
}

/// `-z apns,tree` counts the IDS commands and the relay servers; the experts are the same
/// without a tree (`-q`) as with one (`-V`).
#[test]
fn statistics_and_experts_without_a_tree() {
    let t = Tshark::get();
    let (file, _) = classic_capture(t);
    let out = t.stdout(&["-r", &file, "-n", "-q", "-d", "tcp.port==15223,apns", "-z", "apns,tree"]);
    let count = |label: &str| -> u64 {
        let l = out.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label} in\n{out}"));
        l.trim_start()[label.len()..].split_whitespace().next().unwrap().parse().unwrap()
    };
    assert_eq!(count("IDS commands"), 5, "{out}");
    assert_eq!(count("Server response (255)"), 3, "{out}");
    assert_eq!(count("Quick relay allocation request (200)"), 1, "{out}");
    assert_eq!(count("FaceTime conversation message (242)"), 1, "{out}");
    assert_eq!(count("Relay servers"), 1, "{out}");
    assert_eq!(count(&format!("17.188.137.10:{RELAY_PORT}")), 1, "{out}");
    assert_eq!(count("Channel Subscription"), 3, "{out}");
    let experts = |tree: &str| -> Vec<String> {
        let out = t.stdout(&["-r", &file, "-n", tree, "-d", "tcp.port==15223,apns", "-z", "expert"]);
        // The rows of the expert table: count, group, protocol, summary.
        let mut v: Vec<String> = out
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|l| l.split(' ').next().is_some_and(|c| c.parse::<u32>().is_ok()) && l.contains(" APNs "))
            .collect();
        v.sort();
        v
    };
    let quiet = experts("-q");
    assert!(quiet.iter().any(|l| l.contains("Relay port (qrp) is not an integer")), "{quiet:?}");
    assert!(quiet.iter().any(|l| l.contains("Malformed protobuf")), "{quiet:?}");
    assert_eq!(quiet, experts("-V"));
}

/// The same in the packed framing: the relay response as a packed dictionary, the channel
/// subscription with its protobuf; experts also without a tree.
#[test]
fn packed_framing() {
    let t = Tshark::get();
    use pk::{array, data, dict, int, key_inline, key_new, string};
    let member = |k: &str, v: Vec<u8>| [key_new(k.as_bytes(), 0), v].concat();
    let alloc = |id: i64, who: &str, tok: &[u8]| [dict(3), member("qri", int(id)), member("tP", string(who)), member("t", data(tok))].concat();
    let payload = [
        dict(6),
        member("c", int(255)),
        member("U", data(&MSG_UUID)),
        member("qal", [array(2), alloc(11, ALICE, &TOKEN), alloc(12, BOB, &[0xcd; 32])].concat()),
        member("qrip", data(&RELAY_IP)),
        member("qrp", int(i64::from(RELAY_PORT))),
        member("qrsk", data(&[1, 2])),
    ]
    .concat();
    let relay = pk::msg(0x0A, &[[key_inline(1, 0), data(&TOKEN)].concat(), [key_inline(2, 0), data(&sha1("com.apple.private.alloy.quickrelay"))].concat(), [key_inline(3, 0), payload].concat(), [key_inline(4, 0), int(9)].concat()]);
    let bad = [dict(2), member("qrip", data(&[9; 5])), member("qrp", int(1))].concat();
    let bad_relay = pk::msg(0x0A, &[[key_inline(1, 0), data(&TOKEN)].concat(), [key_inline(2, 0), data(&sha1("com.apple.private.alloy.quickrelay"))].concat(), [key_inline(3, 0), bad].concat(), [key_inline(4, 0), int(10)].concat()]);
    let sub = pk::msg(0x1D, &[[key_inline(1, 0), int(1)].concat(), [key_inline(2, 0), data(&channel_list())].concat(), [key_inline(3, 0), data(&TOKEN)].concat()]);
    let confirm = pk::msg(0x1D, &[[key_inline(1, 0), int(1)].concat(), [key_inline(3, 0), data(&TOKEN)].concat(), [key_inline(4, 0), int(0)].concat()]);
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa(CLIENT), sa(SERVER));
    cap.extend(tcp.handshake(&[], &[], &[]));
    let mut f = Vec::new();
    for (d, b) in [(Dir::ToServer, &sub), (Dir::ToClient, &confirm), (Dir::ToClient, &relay), (Dir::ToClient, &bad_relay)] {
        cap.push(tcp.send(d, b, &[]));
        f.push(cap.len() as u32);
    }
    let file = t.capture("apns-ids-packed.pcap", &cap.to_bytes());
    let ip = RELAY_IP.iter().map(|b| b.to_string()).collect::<Vec<_>>().join(".");
    for extra in two_pass(&DECODE) {
        let got = t.fields(&file, Some("apns.ids.relay.address"), &["frame.number", "apns.ids.command", "apns.ids.uuid", "apns.ids.relay.participant_id", "apns.ids.relay.participant", "apns.ids.relay.address", "apns.ids.relay.port"], &extra);
        assert_eq!(got, vec![row(&[&f[2].to_string(), "255", &uuid(&MSG_UUID), "11,12", &format!("{ALICE},{BOB}"), &ip, &RELAY_PORT.to_string()])], "{extra:?}");
        let got = t.fields(&file, Some("apns.ids.relay.server"), &["frame.number", "apns.ids.relay.server"], &extra);
        assert_eq!(got, vec![row(&[&f[2].to_string(), &format!("{ip}:{RELAY_PORT}")])], "{extra:?}");
        let got = t.fields(&file, Some("apns.command == 0x1d"), &["frame.number", "apns.framing", "apns.subscribe.index", "apns.channel.topic", "apns.channel.id", "apns.status", "apns.ack_to"], &extra);
        assert_eq!(
            got,
            vec![
                row(&[&f[0].to_string(), "2", "1", CH_TOPIC, &format!("{},{}", hex(&CH_ID), hex(&CH_GONE)), "", ""]),
                row(&[&f[1].to_string(), "2", "1", "", "", "0", &f[0].to_string()]),
            ],
            "{extra:?}"
        );
        let got = t.fields(&file, Some("apns.ids.relay.malformed"), &["frame.number", "_ws.expert.message"], &extra);
        assert_eq!(got, vec![row(&[&f[3].to_string(), "Relay address (qrip) is 5 bytes; 4 (IPv4) or 16 (IPv6) expected"])], "{extra:?}");
    }
    let quiet = t.stdout(&["-r", &file, "-n", "-q", "-d", "tcp.port==15223,apns", "-z", "expert"]);
    assert!(quiet.contains("Relay address (qrip) is 5 bytes"), "{quiet}");
    let out = t.stdout(&["-r", &file, "-n", "-q", "-d", "tcp.port==15223,apns", "-z", "apns,tree"]);
    assert!(out.lines().any(|l| l.trim_start().starts_with(&format!("{ip}:{RELAY_PORT}"))), "{out}");
}

/// The rustpush oracle's sessions (tests/data/apns-packed): the client's 0x1D carries a
/// StatusKit subscription prost encoded, the server's Game Center push a StatusKit channel
/// as item 0x1D (rustpush's `from_packed` decoded it: the record's `aps_message`); the
/// decoded fields equal what the oracle's records say they hold, in one and two passes.
#[test]
fn oracle_statuskit_protobufs() {
    let t = Tshark::get();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/apns-packed");
    let lines = |name: &str| -> Vec<serde_json::Value> {
        std::fs::read_to_string(dir.join(name)).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let time = |ns: u64| {
        let out = std::process::Command::new("date").args(["-u", "-d", &format!("@{}", ns / 1_000_000_000), "+%b %e, %Y %H:%M:%S"]).output().unwrap();
        format!("{}.{:09} UTC", String::from_utf8_lossy(&out.stdout).trim(), ns % 1_000_000_000)
    };
    for (name, tls) in [("packed-tls", true), ("packed-tls-sizes", true), ("packed-plain", false), ("packed-plain-large", false)] {
        let client = lines(&format!("{name}.client.jsonl"));
        let server = lines(&format!("{name}.server.jsonl"));
        let sub = client.iter().find(|m| m["event"] == "sent" && m.get("subscription").is_some()).expect("a subscription")["subscription"].clone();
        let ch = server.iter().find(|m| m["event"] == "sent" && m.get("channel").is_some()).expect("a channel")["channel"].clone();
        // rustpush read the same channel out of the push.
        let got_by_rustpush = client.iter().filter_map(|m| m["aps_message"].as_str()).find(|a| a.contains("channel: Some(Channel")).expect("rustpush decoded the channel");
        assert!(got_by_rustpush.contains(&format!("last_msg_ns: {} }}", ch["last_msg_ns"])), "{got_by_rustpush}");
        let pcap = t.capture(&format!("{name}.pcapng"), &std::fs::read(dir.join(format!("{name}.pcapng"))).unwrap());
        let mut extra: Vec<String> = Vec::new();
        if tls {
            let keys = t.capture(&format!("{name}.keys"), &std::fs::read(dir.join(format!("{name}.keys"))).unwrap());
            extra.extend(["-o".to_string(), format!("tls.keylog_file:{keys}")]);
        }
        for pass in [false, true] {
            let mut e: Vec<&str> = extra.iter().map(String::as_str).collect();
            if pass {
                e.push("-2");
            }
            let topic = &sub["topics"][0];
            let got = t.fields(&pcap, Some("apns.command == 0x1d && apns.channel.topic"), &["apns.channel.unk1", "apns.channel.topic", "apns.channel.id", "apns.channel.last_message", "apns.channel.subscribe", "apns.channel.replace", "apns.protobuf.malformed"], &e);
            let ids = format!("{},{}", topic["channels"][0]["id"].as_str().unwrap(), topic["unsub_channels"][0]["id"].as_str().unwrap());
            // prost leaves out the unsubscribed channel's zero time (proto3 default).
            assert_eq!(
                got,
                vec![row(&["1", topic["topic"].as_str().unwrap(), &ids, &time(topic["channels"][0]["last_msg_ns"].as_u64().unwrap()), "1,0", "1", ""])],
                "{name} pass {pass}"
            );
            let got = t.fields(&pcap, Some("apns.message.unknown29"), &["apns.channel.id", "apns.channel.last_message"], &e);
            assert_eq!(got, vec![row(&[ch["id"].as_str().unwrap(), &time(ch["last_msg_ns"].as_u64().unwrap())])], "{name} pass {pass}");
        }
    }
}

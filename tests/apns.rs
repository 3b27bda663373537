//! Golden tests: APNs courier streams written by this file's generator (laid out by hand
//! from protocol-notes §1, independent of `core::apns`), dissected by the real tshark with
//! the built plugin. Expected values come from the generator's record of what it wrote.

mod support;

use support::gen_apns::{canon_value, hex, imessage_expected, item, msg, one_per_segment, sa, session, sha1, unhex, CLIENT, SERVER, TOKEN};
use support::{Capture, Dir, TcpFlow, Tshark};

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

/// `tshark -T fields` renders FT_ABSOLUTE_TIME (UTC) like this in 4.0.
fn utc(secs: i64, nanos: u32) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{secs}"), "+%b %e, %Y %H:%M:%S"])
        .output()
        .unwrap();
    format!("{}.{nanos:09} UTC", String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn registered_fields_and_heuristic() {
    let t = Tshark::get();
    let protocols = t.stdout(&["-G", "protocols"]);
    // 4.0 prints three columns; 4.4 and later add enabled flags.
    assert!(protocols.lines().any(|l| l.split('\t').take(3).eq(["Apple Push Notification service courier", "APNs", "apns"])), "{protocols}");
    let heur = t.stdout(&["-G", "heuristic-decodes"]);
    // 4.0: list, protocol, enabled; 4.4 and later add the short name and display name.
    assert!(heur.lines().any(|l| l.split('\t').take(3).eq(["tcp", "apns", "T"])), "{heur}");
    let ours = t.registered_fields("apns");
    for f in [
        "apns.command",
        "apns.length",
        "apns.item.id",
        "apns.item.length",
        "apns.token",
        "apns.topic_hash",
        "apns.topic",
        "apns.message_id",
        "apns.payload",
        "apns.status",
        "apns.timestamp",
        "apns.expiry",
        "apns.nonce",
        "apns.os_version",
        "apns.os_build",
        "apns.hardware",
        "apns.carrier",
        "apns.interface",
        "apns.keepalive_interval",
        "apns.ack_in",
        "apns.ack_to",
        "apns.ack_time",
        "apns.imessage.command",
        "apns.imessage.sender",
        "apns.imessage.target",
        "apns.imessage.uuid",
        "apns.connect.state",
        "apns.connect.certificate",
        "apns.connect.signature",
        "apns.connect_response.max_message_size",
        "apns.flush.padding",
        "apns.set_active_state.state",
    ] {
        assert!(ours.iter().any(|o| o == f), "{f} not registered");
    }
    // Reached from TLS: the port and the ALPN.
    let decodes = t.stdout(&["-G", "decodes"]);
    assert!(decodes.lines().any(|l| l == "tls.port\t5223\tapns"), "tls.port 5223 not ours");
    // TCP 5223 itself is not taken: stock's TLS heuristic finds TLS there, and anything else
    // on the port stays what stock makes of it (see cleartext_courier_and_other_traffic_on_5223).
    assert!(!decodes.lines().any(|l| l.starts_with("tcp.port\t5223\t")), "tcp.port 5223 taken");
}

/// On the courier's own port: a cleartext courier session (a proxy's view) is found by the
/// `apns_tcp` heuristic without Decode As, while an XMPP-like stream on the same port reads
/// as in stock (plain TCP payload).
#[test]
fn cleartext_courier_and_other_traffic_on_5223() {
    let t = Tshark::get();
    let script = session();
    let mut cap = Capture::new();
    let mut courier = TcpFlow::new(sa("10.0.0.2:50124"), sa("17.57.146.20:5223"));
    cap.extend(courier.handshake(&[], &[], &[]));
    let mut frames = Vec::new();
    for m in &script {
        cap.push(courier.send(m.dir, &m.bytes, &[]));
        frames.push(cap.len().to_string());
    }
    let mut xmpp = TcpFlow::new(sa("10.0.0.3:50200"), sa("10.0.0.9:5223"));
    cap.extend(xmpp.handshake(&[], &[], &[]));
    cap.push(xmpp.send(Dir::ToServer, b"<?xml version='1.0'?><stream:stream to='example.org' xmlns='jabber:client'>", &[]));
    let xmpp_frame = cap.len().to_string();
    let file = t.capture("apns-5223.pcap", &cap.to_bytes());
    for extra in [&[][..], &["-2"]] {
        let got: Vec<String> = t.fields(&file, Some("apns"), &["frame.number"], extra).into_iter().map(|r| r[0].clone()).collect();
        assert_eq!(got, frames, "{extra:?}");
        let x = t.fields(&file, Some(&format!("frame.number == {xmpp_frame}")), &["frame.protocols"], extra);
        assert_eq!(x, vec![vec!["eth:ethertype:ip:tcp:data".to_string()]], "{extra:?}");
    }
}

#[test]
fn every_command_in_order_with_topics_and_links() {
    let t = Tshark::get();
    let script = session();
    let (cap, frames) = one_per_segment(&script);
    let file = t.capture("apns-session.pcap", &cap.to_bytes());
    let got = t.fields(&file, Some("apns"), &["frame.number", "apns.command", "apns.topic", "apns.message_id"], &[]);
    let expect: Vec<Vec<String>> = script
        .iter()
        .zip(&frames)
        .map(|(m, f)| {
            row(&[&f.to_string(), &format!("0x{:02x}", m.cmd), m.topic, &m.msg_id.map(|x| x.to_string()).unwrap_or_default()])
        })
        .collect();
    assert_eq!(got, expect);

    // Message ↔ ack both ways, Connect ↔ response, Keep-alive ↔ ack (two passes).
    let links = t.fields(&file, Some("apns.ack_in || apns.ack_to"), &["frame.number", "apns.ack_in", "apns.ack_to", "apns.ack_time"], &["-2"]);
    let f = |i: usize| frames[i].to_string();
    let step = "0.001000000";
    assert_eq!(
        links,
        vec![
            row(&[&f(0), &f(1), "", ""]),
            row(&[&f(1), "", &f(0), step]),
            row(&[&f(3), &f(4), "", ""]),
            row(&[&f(4), "", &f(3), step]),
            row(&[&f(5), &f(6), "", ""]),
            row(&[&f(6), "", &f(5), step]),
            row(&[&f(7), &f(8), "", ""]),
            row(&[&f(8), "", &f(7), step]),
            row(&[&f(12), &f(13), "", ""]),
            row(&[&f(13), "", &f(12), step]),
        ]
    );
}

#[test]
fn connect_and_keepalive_items() {
    let t = Tshark::get();
    let (cap, frames) = one_per_segment(&session());
    let file = t.capture("apns-connect.pcap", &cap.to_bytes());
    let fields = [
        "apns.token",
        "apns.interface",
        "apns.carrier",
        "apns.os_version",
        "apns.os_build",
        "apns.hardware",
        "apns.nonce.time",
        "apns.timestamp",
        "apns.connect.state",
        "apns.connect.protocol_version",
        "apns.keepalive_interval",
    ];
    let got = t.fields(&file, Some("apns.command == 0x07 || apns.command == 0x0c"), &fields, &[]);
    assert_eq!(
        got,
        vec![
            row(&[&hex(&TOKEN), "1", "WiFi", "17.0", "21A329", "iPhone15,2", &utc(1_700_000_000, 123_000_000), &utc(1_700_000_000, 456_000_000), "1", "11", ""]),
            row(&["", "", "310260", "17.1", "21B74", "iPhone15,2", "", "", "", "", "20"]),
            row(&["", "", "WiFi", "", "", "", "", "", "", "", ""]),
        ]
    );
    // Message timestamps: ns (0x0A item 6), expiry in seconds, server time in ms.
    let got = t.fields(&file, Some("apns.command == 0x0a && apns.expiry"), &["apns.timestamp", "apns.expiry"], &[]);
    assert_eq!(got, vec![row(&[&utc(1_700_000_002, 123), &utc(1_700_003_600, 0)])]);
    let got = t.fields(&file, Some("apns.command == 0x08"), &["apns.status", "apns.timestamp", "apns.connect_response.max_message_size"], &[]);
    assert_eq!(got, vec![row(&["0", &utc(1_700_000_001, 0), "4096"])]);
    // Later packets carry what the connection learned about the device (generated).
    let last = frames.last().unwrap().to_string();
    let got = t.fields(&file, Some(&format!("frame.number == {last}")), &["apns.session.token", "apns.session.os_version", "apns.session.hardware", "apns.session.carrier"], &[]);
    assert_eq!(got, vec![row(&[&hex(&TOKEN), "17.1", "iPhone15,2", "WiFi"])]);
    // Unknown command and unknown item: named as such, with an expert note.
    let got = t.fields(&file, Some("apns.unknown_command || apns.unknown_item"), &["apns.command", "apns.item.id", "_ws.expert.message"], &[]);
    assert_eq!(
        got,
        vec![
            row(&["0x20", "1", "Unknown command 0x20"]),
            row(&["0x0c", "99,1", "Unknown item id 99 for command Keep-Alive"]),
        ]
    );
}

#[test]
fn payloads_json_and_imessage_envelope() {
    let t = Tshark::get();
    let (cap, _) = one_per_segment(&session());
    let file = t.capture("apns-payloads.pcap", &cap.to_bytes());
    let canon = imessage_expected();
    let uuid_hex = canon_value(&canon, "U").trim_start_matches("b:").to_uppercase();
    let uuid = format!("{}-{}-{}-{}-{}", &uuid_hex[0..8], &uuid_hex[8..12], &uuid_hex[12..16], &uuid_hex[16..20], &uuid_hex[20..32]);
    let text = |k: &str| String::from_utf8(unhex(canon_value(&canon, k).trim_start_matches("a:"))).unwrap();
    let c = canon_value(&canon, "c").trim_start_matches("i:").to_string();
    let i = canon_value(&canon, "i").trim_start_matches("i:").to_string();
    // tP occurs at the top and inside the delivery list.
    let dtl_tp = {
        let pat = format!("a:{}=a:", hex(b"tP"));
        let second = canon.rfind(&pat).unwrap() + pat.len();
        String::from_utf8(unhex(canon[second..].split([',', '}']).next().unwrap())).unwrap()
    };
    let got = t.fields(
        &file,
        Some("apns.imessage.command"),
        &["apns.imessage.command", "apns.imessage.sender", "apns.imessage.target", "apns.imessage.uuid", "apns.imessage.id", "apns.imessage.user_agent"],
        &[],
    );
    assert_eq!(got, vec![row(&[&c, &text("sP"), &format!("{},{dtl_tp}", text("tP")), &uuid, &i, &text("ua")])]);
    // The JSON payload went to Wireshark's JSON dissector.
    let got = t.fields(&file, Some("json"), &["apns.topic", "json.value.string"], &[]);
    assert_eq!(got, vec![row(&["com.apple.ess", "hi"])]);
}

/// One Connect spread over many segments (the header itself split), then many messages in
/// one segment, each way.
#[test]
fn reassembly_one_over_many_and_many_in_one() {
    let t = Tshark::get();
    let cert: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
    let connect = msg(0x07, &[item(1, &TOKEN), item(12, &cert), item(9, b"16.4")]);
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa(CLIENT), sa(SERVER));
    cap.extend(tcp.handshake(&[], &[], &[]));
    // 3 bytes (inside the 5-byte header), then 100-byte pieces.
    let mut pieces = vec![&connect[..3]];
    pieces.extend(connect[3..].chunks(100));
    for p in &pieces {
        cap.push(tcp.send(Dir::ToServer, p, &[]));
    }
    let connect_frame = cap.len() as u32;
    // Five messages in one server segment, five acks in one device segment.
    let ids = [11u32, 12, 13, 14, 15];
    let madrid = sha1("com.apple.madrid");
    let burst: Vec<u8> = ids.iter().flat_map(|id| msg(0x0A, &[item(1, &TOKEN), item(2, &madrid), item(3, b"{}"), item(4, &id.to_be_bytes())])).collect();
    cap.push(tcp.send(Dir::ToClient, &burst, &[]));
    let burst_frame = cap.len() as u32;
    let acks: Vec<u8> = ids.iter().flat_map(|id| msg(0x0B, &[item(4, &id.to_be_bytes()), item(8, &[0])])).collect();
    cap.push(tcp.send(Dir::ToServer, &acks, &[]));
    let acks_frame = cap.len() as u32;
    // A message whose end and the next message's start share a segment.
    let a = msg(0x0C, &[item(1, b"WiFi"), item(2, b"16.4")]);
    let b = msg(0x0C, &[item(1, b"310260")]);
    let joined = [a.clone(), b.clone()].concat();
    cap.push(tcp.send(Dir::ToServer, &joined[..7], &[]));
    cap.push(tcp.send(Dir::ToServer, &joined[7..a.len() + 4], &[]));
    cap.push(tcp.send(Dir::ToServer, &joined[a.len() + 4..], &[]));
    let (ka_a, ka_b) = (cap.len() as u32 - 1, cap.len() as u32);
    let file = t.capture("apns-reassembly.pcap", &cap.to_bytes());
    // A 3-byte first segment is too little for the heuristic: Decode As pins the port.
    let decode = ["-d", "tcp.port==15223,apns"];

    let got = t.fields(&file, Some("apns"), &["frame.number", "apns.command", "apns.length", "apns.message_id", "apns.carrier"], &decode);
    let n = |v: &[u8]| (v.len() - 5).to_string();
    let join = |v: &[String]| v.join(",");
    let id_s: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    let burst_len = vec![n(&msg(0x0A, &[item(1, &TOKEN), item(2, &madrid), item(3, b"{}"), item(4, &[0; 4])])); 5];
    let ack_len = vec![n(&msg(0x0B, &[item(4, &[0; 4]), item(8, &[0])])); 5];
    assert_eq!(
        got,
        vec![
            row(&[&connect_frame.to_string(), "0x07", &n(&connect), "", ""]),
            row(&[&burst_frame.to_string(), &["0x0a"; 5].join(","), &join(&burst_len), &join(&id_s), ""]),
            row(&[&acks_frame.to_string(), &["0x0b"; 5].join(","), &join(&ack_len), &join(&id_s), ""]),
            row(&[&ka_a.to_string(), "0x0c", &n(&a), "", "WiFi"]),
            row(&[&ka_b.to_string(), "0x0c", &n(&b), "", "310260"]),
        ]
    );
    // The reassembled certificate is the generator's, byte for byte.
    let got = t.fields(&file, Some("apns.command == 0x07"), &["apns.connect.certificate", "apns.os_version"], &decode);
    assert_eq!(got, vec![row(&[&hex(&cert), "16.4"])]);
    // Every ack of the burst points back at the burst's frame, and the other way.
    let got = t.fields(&file, Some(&format!("frame.number == {burst_frame} || frame.number == {acks_frame}")), &["apns.ack_in", "apns.ack_to"], &[&decode[..], &["-2"]].concat());
    assert_eq!(
        got,
        vec![
            row(&[&vec![acks_frame.to_string(); 5].join(","), ""]),
            row(&["", &vec![burst_frame.to_string(); 5].join(",")]),
        ]
    );
}

/// iOS 4 framing (commands 0x00–0x06), detected from the first byte of the stream, found
/// with Decode As; the app-id list is split over segments at an awkward place.
#[test]
fn legacy_ios4_framing() {
    let t = Tshark::get();
    let madrid = sha1("com.apple.madrid");
    let ess = sha1("com.apple.ess");
    let be = |x: u32| x.to_be_bytes().to_vec();
    let hello = [vec![0x00], be(32), vec![0x42; 32]].concat();
    let server_hello = [vec![0x01], be(0), vec![0x20], TOKEN.to_vec()].concat();
    let app_ids = [vec![0x02], be(2), be(20), madrid.clone(), ess.clone(), be(0), be(20)].concat();
    let json = br#"{"aps":{"badge":3}}"#;
    let notification = [vec![0x03], be(20), madrid.clone(), be(json.len() as u32), json.to_vec()].concat();
    let confirmation = vec![0x04, 0, 0, 0];
    let ka_text = b"WiFi 4.3.3 8J2 iPhone2,1 17";
    let keepalive = [vec![0x05], be(ka_text.len() as u32), ka_text.to_vec()].concat();
    let ka_ack = vec![0x06];

    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa("10.0.0.3:49200"), sa("17.149.36.1:15224"));
    cap.extend(tcp.handshake(&[], &[], &[]));
    let mut frames = Vec::new();
    let send = |cap: &mut Capture, tcp: &mut TcpFlow, d: Dir, b: &[u8]| {
        cap.push(tcp.send(d, b, &[]));
        cap.len() as u32
    };
    frames.push(send(&mut cap, &mut tcp, Dir::ToServer, &hello));
    frames.push(send(&mut cap, &mut tcp, Dir::ToClient, &server_hello));
    // Split inside the first list, then just before the second list's count.
    send(&mut cap, &mut tcp, Dir::ToServer, &app_ids[..20]);
    send(&mut cap, &mut tcp, Dir::ToServer, &app_ids[20..49]);
    frames.push(send(&mut cap, &mut tcp, Dir::ToServer, &app_ids[49..]));
    frames.push(send(&mut cap, &mut tcp, Dir::ToClient, &notification));
    frames.push(send(&mut cap, &mut tcp, Dir::ToServer, &confirmation));
    frames.push(send(&mut cap, &mut tcp, Dir::ToServer, &keepalive));
    frames.push(send(&mut cap, &mut tcp, Dir::ToClient, &ka_ack));
    let file = t.capture("apns-legacy.pcap", &cap.to_bytes());
    let decode = ["-d", "tcp.port==15224,apns"];

    let got = t.fields(&file, Some("apns"), &["frame.number", "apns.command", "apns.topic", "apns.token"], &decode);
    let f: Vec<String> = frames.iter().map(|x| x.to_string()).collect();
    assert_eq!(
        got,
        vec![
            row(&[&f[0], "0x00", "", ""]),
            row(&[&f[1], "0x01", "", &hex(&TOKEN)]),
            row(&[&f[2], "0x02", "com.apple.madrid,com.apple.ess", ""]),
            row(&[&f[3], "0x03", "com.apple.madrid", ""]),
            row(&[&f[4], "0x04", "", ""]),
            row(&[&f[5], "0x05", "", ""]),
            row(&[&f[6], "0x06", "", ""]),
        ]
    );
    let got = t.fields(
        &file,
        Some("apns.command == 0x05 || apns.command == 0x06"),
        &["apns.carrier", "apns.os_version", "apns.os_build", "apns.hardware", "apns.keepalive_interval", "apns.ack_in", "apns.ack_to"],
        &[&decode[..], &["-2"]].concat(),
    );
    assert_eq!(got, vec![row(&["WiFi", "4.3.3", "8J2", "iPhone2,1", "17", &f[6], ""]), row(&["", "", "", "", "", "", &f[5]])]);
    let got = t.fields(&file, Some("json"), &["json.value.number"], &decode);
    assert_eq!(got, vec![row(&["3"])]);
}

/// Lengths that cannot be believed or do not add up: reported, never buffered, and the
/// stream carries on.
#[test]
fn malformed_lengths() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa(CLIENT), sa(SERVER));
    cap.extend(tcp.handshake(&[], &[], &[]));
    let mut frames = Vec::new();
    // A valid first message so the heuristic pins the conversation.
    cap.push(tcp.send(Dir::ToServer, &msg(0x0C, &[item(1, b"WiFi")]), &[]));
    // Declared 5000 bytes with the maximum set to 100: not reassembled.
    let mut big = vec![0x0A];
    big.extend_from_slice(&5000u32.to_be_bytes());
    big.extend(item(4, &[0, 0, 0, 1]));
    cap.push(tcp.send(Dir::ToClient, &big, &[]));
    frames.push(cap.len());
    // The next segment starts a message again and is dissected on its own.
    cap.push(tcp.send(Dir::ToClient, &msg(0x0D, &[]), &[]));
    frames.push(cap.len());
    // Item 4 claims 10 bytes, the message holds 4 of them.
    let mut overrun = vec![0x0B, 0, 0, 0, 7, 4, 0, 10, 0, 0, 0, 1];
    overrun.truncate(12);
    cap.push(tcp.send(Dir::ToServer, &overrun, &[]));
    frames.push(cap.len());
    // Two trailing bytes after the last item.
    let mut trailing = msg(0x0B, &[item(8, &[0])]);
    trailing[4] += 2;
    trailing.extend_from_slice(&[0xEE, 0xEE]);
    cap.push(tcp.send(Dir::ToServer, &trailing, &[]));
    frames.push(cap.len());
    // A 3-byte message id, and an OS version that is not UTF-8.
    cap.push(tcp.send(Dir::ToServer, &msg(0x0B, &[item(4, &[0, 0, 1])]), &[]));
    frames.push(cap.len());
    cap.push(tcp.send(Dir::ToServer, &msg(0x0C, &[item(2, &[0xff, 0xfe])]), &[]));
    frames.push(cap.len());
    let file = t.capture("apns-malformed.pcap", &cap.to_bytes());
    let got = t.fields(&file, Some("apns && frame.number > 4"), &["frame.number", "apns.command", "_ws.expert.message"], &["-o", "apns.max_message_size:100"]);
    let f: Vec<String> = frames.iter().map(|x| x.to_string()).collect();
    assert_eq!(
        got,
        vec![
            row(&[
                &f[0],
                "0x0a",
                "Length 5000 exceeds the maximum message size (100 bytes, preference apns.max_message_size),Message truncated: length says 5000 bytes, 7 present"
            ]),
            row(&[&f[1], "0x0d", ""]),
            row(&[&f[2], "0x0b", "Item 4 says 10 bytes, only 4 left in the message"]),
            row(&[&f[3], "0x0b", "2 trailing byte(s) after the last item"]),
            row(&[&f[4], "0x0b", "Item 4 is 3 bytes long; 4 expected"]),
            row(&[&f[5], "0x0c", "Item 2 is not valid UTF-8"]),
        ]
    );
}

/// Random bytes in a pinned courier conversation: tshark survives, no internal error.
#[test]
fn garbage_after_a_valid_start() {
    let t = Tshark::get();
    let mut rng = support::Rng::new(0xA9A5);
    let mut cap = Capture::new();
    let mut tcp = TcpFlow::new(sa(CLIENT), sa(SERVER));
    cap.extend(tcp.handshake(&[], &[], &[]));
    cap.push(tcp.send(Dir::ToServer, &msg(0x0C, &[item(1, b"WiFi")]), &[]));
    for i in 0..200 {
        let n = 1 + rng.below(300) as usize;
        let mut b = rng.bytes(n);
        if i % 3 == 0 {
            // A plausible header with a hostile length.
            b[0] = 0x07 + (rng.below(14) as u8);
        }
        let d = if i % 2 == 0 { Dir::ToServer } else { Dir::ToClient };
        cap.push(tcp.send(d, &b, &[]));
    }
    let file = t.capture("apns-garbage.pcap", &cap.to_bytes());
    // Garbage is reported as malformed by our expert items; what must not happen is a
    // Rust panic (internal error) or a Wireshark exception (`_ws.malformed.dissector_bug`
    // exists only in 4.0, so it is left out to keep one filter for every version).
    let got = t.fields(&file, Some("apns.internal_error || _ws.malformed.expert || _ws.malformed.reassembly"), &["frame.number"], &["-2"]);
    assert_eq!(got, Vec::<Vec<String>>::new());
    let n = t.fields(&file, Some("apns"), &["frame.number"], &[]).len();
    assert!(n > 0);
}

/// A topic the built-in list does not know is resolved once the user adds its name to the
/// `apns_topics` table.
#[test]
fn user_topic_names_table() {
    let t = Tshark::get();
    let (cap, frames) = one_per_segment(&session());
    let file = t.capture("apns-uat.pcap", &cap.to_bytes());
    let filter = format!("frame.number == {}", frames[2]);
    let private = hex(&sha1("dev.example.private-topic"));
    let without = t.fields(&file, Some(&filter), &["apns.topic", "apns.topic_hash"], &[]);
    let hashes = format!("{},{},{private}", hex(&sha1("com.apple.madrid")), hex(&sha1("com.apple.ess")));
    assert_eq!(without, vec![row(&["com.apple.madrid,com.apple.ess", &hashes])]);
    let with = t.fields(&file, Some(&filter), &["apns.topic"], &["-o", "uat:apns_topics:\"dev.example.private-topic\""]);
    assert_eq!(with, vec![row(&["com.apple.madrid,com.apple.ess,dev.example.private-topic"])]);
}

/// `tshark -z apns,tree`: per connection, commands by type, topics subscribed, messages
/// each way and answer times — counts from the generator's script.
#[test]
fn statistics_tree() {
    let t = Tshark::get();
    let script = session();
    let (cap, _) = one_per_segment(&script);
    let file = t.capture("apns-stats.pcap", &cap.to_bytes());
    let out = t.stdout(&["-r", &file, "-q", "-z", "apns,tree"]);
    let count_of = |label: &str| -> String {
        let line = out.lines().find(|l| l.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label} missing:\n{out}"));
        line[label.len() + line.find(label).unwrap()..].split_whitespace().next().unwrap().to_string()
    };
    assert!(out.contains(&format!("Device {CLIENT} - server {SERVER}")), "{out}");
    assert_eq!(count_of(&format!("Device {CLIENT} - server {SERVER}")), script.len().to_string());
    assert_eq!(count_of("Commands"), script.len().to_string());
    let n = |c: u8| script.iter().filter(|m| m.cmd == c).count().to_string();
    assert_eq!(count_of("Message Ack"), n(0x0B));
    assert_eq!(count_of("Keep-Alive Ack"), n(0x0D));
    assert_eq!(count_of("Unknown 0x20"), n(0x20));
    let each_way = |d: Dir| script.iter().filter(|m| m.cmd == 0x0A && m.dir == d).count().to_string();
    assert_eq!(count_of("Messages to device"), each_way(Dir::ToClient));
    assert_eq!(count_of("Messages to server"), each_way(Dir::ToServer));
    assert_eq!(count_of("Topics subscribed"), "2");
    assert_eq!(count_of("com.apple.madrid"), "1");
    assert_eq!(count_of("com.apple.ess"), "1");
    // Answers seen by the first pass: Connect, two acks, keep-alive ack, scoped token (5).
    assert_eq!(count_of("Answer time (ms)"), "5");
}

/// Ordinary bulk TCP traffic (random payloads, random ports, both directions) is never taken
/// for a courier stream by the `apns_tcp` heuristic, including streams that open with a
/// plausible header: the benchmark's 0x0E of 139254 bytes, and a Connect and a Message whose
/// first item runs past the segment.
#[test]
fn random_bulk_streams_are_not_apns() {
    let t = Tshark::get();
    let mut rng = support::Rng::new(0xB01C_5EED);
    let mut cap = Capture::new();
    let mut segments = 0usize;
    let openers: [&[u8]; 3] = [
        &[0x0E, 0x00, 0x02, 0x1F, 0xF6],
        &[0x07, 0x00, 0x00, 0x9C, 0x40, 0x0C, 0x07, 0xD0],
        &[0x0A, 0x00, 0x00, 0x0B, 0xB8, 0x03, 0x0B, 0x00],
    ];
    for s in 0..300u32 {
        let port = |rng: &mut support::Rng| 1024 + rng.below(64_000) as u16;
        let client = format!("10.1.{}.{}:{}", s / 250, 1 + s % 250, port(&mut rng));
        let server = format!("192.0.2.{}:{}", 1 + rng.below(250), port(&mut rng));
        let mut tcp = TcpFlow::new(sa(&client), sa(&server));
        cap.extend(tcp.handshake(&[], &[], &[]));
        for i in 0..20 {
            let mut p = rng.bytes(1460);
            if i == 0 {
                if let Some(o) = openers.get(s as usize) {
                    p[..o.len()].copy_from_slice(o);
                }
            }
            let d = if rng.below(4) == 0 { Dir::ToClient } else { Dir::ToServer };
            cap.push(tcp.send(d, &p, &[]));
            segments += 1;
        }
    }
    let file = t.capture("apns-random-bulk.pcap", &cap.to_bytes());
    let data = t.fields(&file, Some("tcp.len == 1460"), &["frame.number"], &[]);
    assert_eq!(data.len(), segments);
    let got = t.fields(&file, Some("apns"), &["frame.number", "tcp.srcport", "apns.command"], &[]);
    assert_eq!(got, Vec::<Vec<String>>::new());
}

//! Golden tests: SNATMAP captures written by this file's generator, dissected by the real
//! tshark with the built plugin. Expected values come from the generator's own record of what
//! it wrote (addresses, nonces, times), never from the plugin.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use support::{Capture, Dir, Flow, Rng, Tshark};

/// A request laid out by hand from protocol-notes §2 (independent of `core::snatmap`).
///
/// Nonces on UDP 5678 are drawn like Apple's client draws them (31 random bits): stock
/// Wireshark's MNDP owns that port and takes any datagram whose bytes 4 and 6 are zero, which
/// small nonces such as 0x11 are (a random nonce is, one time in 32,768).
fn request(nonce: u32, ip: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&nonce.to_be_bytes());
    b.extend_from_slice(&ip.octets());
    b.extend_from_slice(&port.to_be_bytes());
    b.extend_from_slice(&[0xaa, 0xaa]);
    b
}

/// A response carrying `ip:port` inverted bit by bit, as the notes describe.
fn response(nonce: u32, ip: Ipv4Addr, port: u16) -> Vec<u8> {
    let mut b = Vec::with_capacity(16);
    b.extend_from_slice(&2u32.to_be_bytes());
    b.extend_from_slice(&nonce.to_be_bytes());
    b.extend(ip.octets().iter().map(|o| !o));
    b.extend(port.to_be_bytes().iter().map(|o| !o));
    b.extend_from_slice(&[0, 0]);
    b
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn secs(d: Duration) -> String {
    format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
}

const F: &[&str] = &[
    "frame.number",
    "snatmap.type",
    "snatmap.nonce",
    "snatmap.local_ip",
    "snatmap.local_port",
    "snatmap.mapped_ip",
    "snatmap.mapped_port",
    "snatmap.response_in",
    "snatmap.response_to",
    "snatmap.time",
    "snatmap.nat",
    "snatmap.port_preserved",
    "_ws.col.Info",
];

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|s| s.to_string()).collect()
}

#[test]
fn plugin_is_listed_with_protocol_fields_and_heuristic() {
    let t = Tshark::get();
    let plugins = t.stdout(&["-G", "plugins"]);
    let line = plugins.lines().find(|l| l.starts_with("appleshark.so")).expect("appleshark in -G plugins");
    assert!(line.contains(env!("CARGO_PKG_VERSION")), "{line}");
    assert!(line.contains("dissector"), "{line}");

    let protocols = t.stdout(&["-G", "protocols"]);
    // 4.0 prints three columns; 4.4 and later add enabled flags.
    assert!(protocols.lines().any(|l| l.split('\t').take(3).eq(["Apple NAT mapping", "SNATMAP", "snatmap"])), "{protocols}");

    let heur = t.stdout(&["-G", "heuristic-decodes"]);
    // 4.0: list, protocol, enabled; 4.4 and later add the short name and display name.
    let line: Vec<&str> = heur.lines().find(|l| l.starts_with("udp\tsnatmap\t")).expect("snatmap heuristic listed").split('\t').collect();
    assert_eq!(line[2], "T", "{line:?}");
    if line.len() > 3 {
        assert_eq!(line[4..], ["snatmap_udp", "SNATMAP over UDP"], "{line:?}");
    }

    // Every field is registered once, under the protocol's prefix.
    let ours = t.registered_fields("snatmap");
    for f in F.iter().filter(|f| f.starts_with("snatmap.")) {
        assert!(ours.iter().any(|o| o == f), "{f} not registered: {ours:?}");
    }
}

/// Matched pairs with and without NAT, on the SNATMAP server port and by heuristic.
#[test]
fn matched_pairs_with_and_without_nat() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let step = cap.step;
    // 1-2: behind NAT, port changed (server port 5678).
    let mut a = Flow::udp(sa("192.168.1.5:16402"), sa("17.0.0.10:5678"));
    cap.push(a.packet(&request(0x1a2b3c4d, Ipv4Addr::new(192, 168, 1, 5), 16402)));
    cap.push(a.reply(&response(0x1a2b3c4d, Ipv4Addr::new(203, 0, 113, 7), 61234)));
    // 3-4: public address, no NAT, on a port only the heuristic finds.
    let mut b = Flow::udp(sa("198.51.100.20:16384"), sa("17.0.0.11:16500"));
    cap.push(b.packet(&request(0x00000042, Ipv4Addr::new(198, 51, 100, 20), 16384)));
    cap.push(b.reply(&response(0x00000042, Ipv4Addr::new(198, 51, 100, 20), 16384)));
    // 5-6: NAT that keeps the port.
    let mut c = Flow::udp(sa("10.1.2.3:5060"), sa("17.0.0.12:5678"));
    cap.push(c.packet(&request(0x7fffffff, Ipv4Addr::new(10, 1, 2, 3), 5060)));
    cap.push(c.reply(&response(0x7fffffff, Ipv4Addr::new(192, 0, 2, 99), 5060)));
    let file = t.capture("pairs.pcap", &cap.to_bytes());

    let got = t.fields(&file, None, F, &["-2"]);
    let rtt = secs(step);
    let expect = vec![
        row(&["1", "1", "0x1a2b3c4d", "192.168.1.5", "16402", "", "", "2", "", "", "", "", "Request nonce 0x1a2b3c4d local 192.168.1.5:16402"]),
        row(&["2", "2", "0x1a2b3c4d", "", "", "203.0.113.7", "61234", "", "1", &rtt, "1", "0", "Response mapped 203.0.113.7:61234 (behind NAT, port changed)"]),
        row(&["3", "1", "0x00000042", "198.51.100.20", "16384", "", "", "4", "", "", "", "", "Request nonce 0x00000042 local 198.51.100.20:16384"]),
        row(&["4", "2", "0x00000042", "", "", "198.51.100.20", "16384", "", "3", &rtt, "0", "1", "Response mapped 198.51.100.20:16384 (no NAT)"]),
        row(&["5", "1", "0x7fffffff", "10.1.2.3", "5060", "", "", "6", "", "", "", "", "Request nonce 0x7fffffff local 10.1.2.3:5060"]),
        row(&["6", "2", "0x7fffffff", "", "", "192.0.2.99", "5060", "", "5", &rtt, "1", "1", "Response mapped 192.0.2.99:5060 (behind NAT, port preserved)"]),
    ];
    assert_eq!(got, expect);

    // The raw inverted words are shown too: the one's complement of what the generator mapped.
    let raw = t.fields(&file, Some("snatmap.type == 2"), &["snatmap.mapped_ip_raw", "snatmap.mapped_port_raw"], &[]);
    let inv = |ip: Ipv4Addr, port: u16| row(&[&format!("0x{:08x}", !u32::from(ip)), &format!("0x{:04x}", !port)]);
    assert_eq!(
        raw,
        vec![inv(Ipv4Addr::new(203, 0, 113, 7), 61234), inv(Ipv4Addr::new(198, 51, 100, 20), 16384), inv(Ipv4Addr::new(192, 0, 2, 99), 5060)]
    );

    // The NAT verdict is also an expert (chat) item, and filters work on the bools.
    let nat = t.fields(&file, Some("snatmap.nat == 1"), &["frame.number"], &["-2"]);
    assert_eq!(nat, vec![row(&["2"]), row(&["6"])]);
}

/// Single pass: a request cannot know its response yet, but the response knows its request.
#[test]
fn single_pass_links_response_to_request() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let mut a = Flow::udp(sa("192.168.7.7:16393"), sa("17.1.1.1:5678"));
    cap.push(a.packet(&request(0x3a11_5c07, Ipv4Addr::new(192, 168, 7, 7), 16393)));
    cap.advance(Duration::from_millis(249));
    cap.push(a.reply(&response(0x3a11_5c07, Ipv4Addr::new(203, 0, 113, 200), 2000)));
    let file = t.capture("single.pcap", &cap.to_bytes());
    let got = t.fields(&file, None, &["snatmap.response_in", "snatmap.response_to", "snatmap.time"], &[]);
    assert_eq!(got, vec![row(&["", "", ""]), row(&["", "1", "0.250000000"])]);
}

fn expert_messages(t: &Tshark, file: &str) -> Vec<Vec<String>> {
    t.fields(file, None, &["frame.number", "_ws.expert.message"], &["-2"])
}

/// Unmatched responses, nonce mismatches, retransmissions, duplicates, unanswered requests.
#[test]
fn sequence_anomalies_are_expert_infos() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let lan = Ipv4Addr::new(192, 168, 1, 5);
    let wan = Ipv4Addr::new(203, 0, 113, 7);
    // Conversation 1: a response with no request at all (frame 1).
    let mut a = Flow::udp(sa("192.168.1.5:16402"), sa("17.0.0.10:5678"));
    cap.push(a.reply(&response(0x100, wan, 1000)));
    // Conversation 2: a request, then a response whose nonce matches nothing (frames 2-3).
    let mut b = Flow::udp(sa("192.168.1.5:16403"), sa("17.0.0.10:5678"));
    cap.push(b.packet(&request(0x200, lan, 16403)));
    cap.push(b.reply(&response(0x201, wan, 1001)));
    // Conversation 3: request, retransmission, response, duplicate response (frames 4-7).
    let mut c = Flow::udp(sa("192.168.1.5:16404"), sa("17.0.0.10:5678"));
    cap.push(c.packet(&request(0x300, lan, 16404)));
    cap.push(c.packet(&request(0x300, lan, 16404)));
    cap.push(c.reply(&response(0x300, wan, 1002)));
    cap.push(c.reply(&response(0x300, wan, 1002)));
    let file = t.capture("anomalies.pcap", &cap.to_bytes());

    let got = t.fields(&file, None, &["frame.number", "snatmap.retransmission_of", "snatmap.response_to", "snatmap.response_in"], &["-2"]);
    assert_eq!(
        got,
        vec![
            row(&["1", "", "", ""]),
            row(&["2", "", "", ""]),
            row(&["3", "", "", ""]),
            row(&["4", "", "", "6"]),
            row(&["5", "4", "", "6"]),
            row(&["6", "", "4", ""]),
            row(&["7", "", "4", ""]),
        ]
    );

    let experts = expert_messages(t, &file);
    let msg = |n: usize| experts[n - 1][1].clone();
    assert_eq!(msg(1), "Response without any request in this conversation");
    assert_eq!(msg(2), "Request never answered in this capture");
    assert_eq!(msg(3), "Response nonce 0x00000201 matches no request of this conversation");
    // Frame 4 is the request: no expert of its own.
    assert_eq!(msg(4), "");
    assert_eq!(msg(5), "Retransmitted request (first sent in frame 4)");
    assert_eq!(msg(6), "Client is behind a NAT: local 192.168.1.5:16404 mapped to 203.0.113.7:1002");
    assert_eq!(msg(7), "Client is behind a NAT: local 192.168.1.5:16404 mapped to 203.0.113.7:1002,Duplicate response (first in frame 6)");

    // Expert infos are filterable by name.
    let by_name = t.fields(&file, Some("snatmap.retransmission || snatmap.unmatched_response || snatmap.nonce_mismatch"), &["frame.number"], &["-2"]);
    assert_eq!(by_name, vec![row(&["1"]), row(&["3"]), row(&["5"])]);
}

/// SNATMAP among other UDP on FaceTime's port: only the 16-byte SNATMAP messages are claimed.
#[test]
fn mixed_into_other_udp_on_16402() {
    let t = Tshark::get();
    let mut rng = Rng::new(16402);
    let mut cap = Capture::new();
    let mut f = Flow::udp(sa("192.168.1.5:16402"), sa("203.0.113.50:16402"));
    let mut expected = Vec::new();
    for i in 0..60u32 {
        let frame = match i % 6 {
            0 => {
                expected.push(cap.len() + 1);
                f.packet(&request(0x5000 + i, Ipv4Addr::new(192, 168, 1, 5), 16402))
            }
            1 => {
                expected.push(cap.len() + 1);
                f.reply(&response(0x5000 + i - 1, Ipv4Addr::new(198, 51, 100, 1), 40000))
            }
            // RTP-like media: version 2, PT 104, random payload of 16 and of 172 bytes.
            2 | 3 => {
                let len = if i % 6 == 2 { 16 } else { 172 };
                let mut p = rng.bytes(len);
                p[0] = 0x80;
                p[1] = 104;
                f.packet(&p)
            }
            // SIP-ish text.
            4 => f.reply(b"MESSAGE sip:user@192.168.1.5:16402 SIP/2.0\r\nContent-Length: 0\r\n\r\n"),
            // 16 bytes of STUN-like header with a zero-length body.
            _ => f.packet(&[0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12][..16]),
        };
        cap.push(frame);
    }
    let file = t.capture("mixed.pcap", &cap.to_bytes());
    let got: Vec<usize> = t.fields(&file, Some("snatmap"), &["frame.number"], &[]).iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(got, expected);
}

/// SNATMAP carried over IPv6 UDP (the payload still holds IPv4 addresses).
#[test]
fn over_ipv6_transport() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let mut f = Flow::udp(sa("[2001:db8::5]:16402"), sa("[2001:db8:ffff::1]:5678"));
    cap.push(f.send(Dir::ToServer, &request(0xabcdef, Ipv4Addr::new(192, 168, 1, 5), 16402)));
    cap.push(f.send(Dir::ToClient, &response(0xabcdef, Ipv4Addr::new(203, 0, 113, 9), 16402)));
    let file = t.capture("ipv6.pcap", &cap.to_bytes());
    let got = t.fields(&file, Some("snatmap"), &["ipv6.src", "snatmap.nonce", "snatmap.mapped_ip", "snatmap.response_to", "snatmap.port_preserved"], &["-2"]);
    assert_eq!(
        got,
        vec![row(&["2001:db8::5", "0x00abcdef", "", "", ""]), row(&["2001:db8:ffff::1", "0x00abcdef", "203.0.113.9", "1", "1"])]
    );
}

/// The heuristic claims none of a few thousand 16-byte payloads that are not SNATMAP, nor
/// 15- or 17-byte lookalikes, while it does claim the real ones mixed among them.
#[test]
fn heuristic_rejects_lookalikes() {
    let t = Tshark::get();
    let mut rng = Rng::new(0x5eed);
    let mut cap = Capture::new().clock(Duration::from_secs(1_700_000_000), Duration::from_micros(10));
    let mut real = Vec::new();
    for i in 0..3000u32 {
        // Unregistered high ports so that UDP tries the heuristics.
        let sport = 20000 + (rng.below(20000) as u16);
        let dport = 40000 + (rng.below(20000) as u16);
        let mut f = Flow::udp(SocketAddr::new([10, 9, 8, 7].into(), sport), SocketAddr::new([10, 9, 8, 6].into(), dport));
        let payload: Vec<u8> = match i % 10 {
            // A 16-byte DNS-like message: 12-byte header + root name + type A (class cut).
            0 => {
                let mut p = vec![(i >> 8) as u8, i as u8, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];
                p[0] |= 0x10; // ids whose first word is never 1 or 2
                p
            }
            // Random bytes whose first word is not 1 or 2.
            1..=5 => {
                let mut p = rng.bytes(16);
                if matches!(u32::from_be_bytes([p[0], p[1], p[2], p[3]]), 1 | 2) {
                    p[0] = 0xff;
                }
                p
            }
            // Type 1 with a wrong trailer.
            6 => {
                let mut p = request(rng.next_u32() >> 1, Ipv4Addr::new(10, 0, 0, 1), 1234);
                p[15] ^= 1 + (rng.below(255) as u8);
                p
            }
            // Right content, wrong length.
            7 => request(1, Ipv4Addr::new(10, 0, 0, 1), 1)[..15].to_vec(),
            8 => {
                let mut p = response(7, Ipv4Addr::new(10, 0, 0, 1), 1);
                p.push(0);
                p
            }
            // The real thing, every tenth packet.
            _ => {
                real.push(cap.len() + 1);
                request(rng.next_u32() >> 1, Ipv4Addr::new(10, 9, 8, 7), sport)
            }
        };
        cap.push(f.packet(&payload));
    }
    let file = t.capture("lookalikes.pcap", &cap.to_bytes());
    let got: Vec<usize> = t.fields(&file, Some("snatmap"), &["frame.number"], &[]).iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(got.len(), 300);
    assert_eq!(got, real);
}

/// SNATMAP is found by its heuristic, not by owning a port: `--disable-heuristic snatmap_udp`
/// switches it off everywhere, Decode As still forces it, and the server-port preference
/// `snatmap.udp.port` says where a lone response (no request seen) is believed.
#[test]
fn heuristic_switch_decode_as_and_server_port_preference() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    // Source ports outside FaceTime's 16393-16472 (owned by the facetime demultiplexer, which
    // hands SNATMAP on it to this dissector whatever the heuristic's switch).
    let mut on_5678 = Flow::udp(sa("192.168.1.5:40402"), sa("17.0.0.10:5678"));
    let mut on_6000 = Flow::udp(sa("192.168.1.5:40403"), sa("17.0.0.10:6000"));
    // A lone response from a non-Apple server on port 6000: believed only when 6000 is named a
    // SNATMAP server port.
    let mut lone = Flow::udp(sa("198.51.100.9:6000"), sa("192.168.1.5:40404"));
    cap.push(on_5678.packet(&request(0x2b0c_4d11, Ipv4Addr::new(192, 168, 1, 5), 40402)));
    cap.push(on_6000.packet(&request(0x2b0c_4d12, Ipv4Addr::new(192, 168, 1, 5), 40403)));
    cap.push(lone.packet(&response(0x2b0c_4d13, Ipv4Addr::new(203, 0, 113, 7), 40404)));
    let file = t.capture("switch.pcap", &cap.to_bytes());
    let frames = |extra: &[&str]| -> Vec<String> { t.fields(&file, Some("snatmap"), &["frame.number"], extra).into_iter().map(|r| r[0].clone()).collect() };
    assert_eq!(frames(&[]), vec!["1", "2"]);
    assert_eq!(frames(&["-2"]), vec!["1", "2"]);
    assert_eq!(frames(&["-o", "snatmap.udp.port:6000"]), vec!["1", "2", "3"]);
    assert_eq!(frames(&["-2", "-o", "snatmap.udp.port:5678,6000"]), vec!["1", "2", "3"]);
    assert_eq!(frames(&["--disable-heuristic", "snatmap_udp"]), Vec::<String>::new());
    assert_eq!(frames(&["--disable-heuristic", "snatmap_udp", "-d", "udp.port==6000,snatmap"]), vec!["2", "3"]);
    assert_eq!(frames(&["--disable-protocol", "snatmap"]), Vec::<String>::new());
}

/// MNDP, a 16-byte request on MikroTik's MNDP port (stock Wireshark's dissector for UDP 5678).
/// Laid out from MikroTik's documentation: 2 bytes header, 2 bytes sequence number, then TLVs
/// (type 1 MAC address, type 5 identity), each type and length 2 bytes big-endian.
fn mndp(seq: u16, identity: &str) -> Vec<u8> {
    let mut b = vec![0, 0];
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&[0, 1, 0, 6, 0x4c, 0x5e, 0x0c, 0x11, 0x22, 0x33]);
    b.extend_from_slice(&5u16.to_be_bytes());
    b.extend_from_slice(&(identity.len() as u16).to_be_bytes());
    b.extend_from_slice(identity.as_bytes());
    b
}

/// UDP 5678 is shared with MNDP: MNDP keeps its datagrams (with SNATMAP on, off, or its
/// heuristic off), SNATMAP takes its own; lone 16-byte "responses" between hosts that are not
/// Apple's and not from a server port stay what stock makes of them.
#[test]
fn port_5678_is_shared_with_mndp() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let mut mk = Flow::udp(sa("192.168.88.1:5678"), sa("255.255.255.255:5678"));
    let mut sm = Flow::udp(sa("192.168.1.5:40402"), sa("17.0.0.10:5678"));
    // A network probe's 16-byte datagrams on port 6000, both ways, first word 2.
    let mut probe = Flow::udp(sa("10.20.30.40:6000"), sa("10.20.30.41:6000"));
    cap.push(mk.packet(&mndp(1, "router-a")));
    cap.push(sm.packet(&request(0x41d2_0e77, Ipv4Addr::new(192, 168, 1, 5), 40402)));
    cap.push(sm.reply(&response(0x41d2_0e77, Ipv4Addr::new(203, 0, 113, 7), 40402)));
    cap.push(mk.packet(&mndp(2, "router-b")));
    cap.push(probe.packet(&response(5, Ipv4Addr::new(10, 1, 1, 1), 65535)));
    cap.push(probe.reply(&response(6, Ipv4Addr::new(10, 1, 1, 2), 1)));
    let file = t.capture("mndp.pcap", &cap.to_bytes());
    for extra in [&[][..], &["-2"], &["--disable-protocol", "snatmap"], &["--disable-heuristic", "snatmap_udp"]] {
        let rows = t.fields(&file, None, &["frame.number", "frame.protocols"], extra);
        let protos: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        assert!(protos[0].ends_with(":udp:mndp"), "{extra:?}: {protos:?}");
        assert!(protos[3].ends_with(":udp:mndp"), "{extra:?}: {protos:?}");
        assert!(protos[4].ends_with(":udp:data") && protos[5].ends_with(":udp:data"), "{extra:?}: {protos:?}");
        let snat = extra.is_empty() || extra == ["-2"];
        assert_eq!(protos[1].ends_with(":udp:snatmap"), snat, "{extra:?}: {protos:?}");
        assert_eq!(protos[2].ends_with(":udp:snatmap"), snat, "{extra:?}: {protos:?}");
    }
}

/// Random, truncated and lying payloads never hurt tshark: it exits cleanly, with no internal
/// error from the plugin, in one and two passes, with the full tree built.
#[test]
fn bad_input_never_hurts_tshark() {
    let t = Tshark::get();
    let mut rng = Rng::new(0xbad);
    let mut cap = Capture::new();
    for i in 0..2000u32 {
        let dport = if i % 2 == 0 { 5678 } else { 16402 + (i % 70) as u16 };
        let mut f = Flow::udp(SocketAddr::new([192, 168, 0, (i % 200) as u8].into(), 16402), SocketAddr::new([17, 0, 0, 1].into(), dport));
        let len = rng.below(40) as usize;
        let mut p = rng.bytes(len);
        if i % 3 == 0 && len >= 16 {
            // Make it look like SNATMAP up front, then cut or pad it.
            p[..4].copy_from_slice(&(1 + (i % 2)).to_be_bytes());
        }
        let frame = f.packet(&p);
        let caplen = if i % 7 == 0 { rng.below(frame.len() as u64 + 1) as usize } else { frame.len() };
        cap.push_truncated(frame, caplen);
    }
    let file = t.capture("bad.pcap", &cap.to_bytes());
    for extra in [&["-V"][..], &["-2", "-V"][..]] {
        let mut args = vec!["-r", file.as_str(), "-n"];
        args.extend_from_slice(extra);
        let out = t.run(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("appleshark internal error"), "internal error in output");
        assert!(text.matches("Frame ").count() >= 2000);
    }
}

/// A panic inside the dissector (provoked through the test-only environment variable of a
/// plugin built with the `test-hooks` feature) becomes an expert item, and tshark carries on
/// with the next packet.
#[test]
fn panics_become_expert_items() {
    let t = Tshark::with_test_hooks();
    let mut cap = Capture::new();
    let mut f = Flow::udp(sa("192.168.1.5:16402"), sa("17.0.0.10:5678"));
    cap.push(f.packet(&request(0x0dead, Ipv4Addr::new(192, 168, 1, 5), 16402)));
    cap.push(f.packet(&request(0x0beef, Ipv4Addr::new(192, 168, 1, 5), 16402)));
    let file = t.capture("panic.pcap", &cap.to_bytes());
    let got = t.fields_env(&["APPLESHARK_TEST_PANIC_NONCE=0000dead"], &file, None, &["frame.number", "snatmap.internal_error", "_ws.expert.message", "snatmap.nonce"], &[]);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0][0], "1");
    assert!(got[0][2].starts_with("appleshark internal error: panicked at src/dissectors/snatmap.rs"), "{:?}", got[0]);
    assert!(got[0][2].contains("test panic for nonce 0x0000dead"), "{:?}", got[0]);
    assert_eq!(got[1], row(&["2", "", "", "0x0000beef"]));
}

/// The per-conversation cap is a preference; requests past it are shown, flagged, not matched.
#[test]
fn request_cap_preference_bounds_state() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    let mut f = Flow::udp(sa("192.168.1.5:16402"), sa("17.0.0.10:5678"));
    for nonce in 0x6000_1001..=0x6000_1003u32 {
        cap.push(f.packet(&request(nonce, Ipv4Addr::new(192, 168, 1, 5), 16402)));
    }
    cap.push(f.reply(&response(0x6000_1003, Ipv4Addr::new(203, 0, 113, 7), 1)));
    let file = t.capture("cap.pcap", &cap.to_bytes());
    let got = t.fields(&file, None, &["frame.number", "_ws.expert.message", "snatmap.response_to"], &["-o", "snatmap.max_requests:2"]);
    // Frame 3 (third request) is over the cap of 2, so the response (frame 4) finds no request.
    assert_eq!(got[2], row(&["3", "More requests in this conversation than snatmap.max_requests; this one is not matched", ""]));
    assert_eq!(got[3][0], "4");
    assert_eq!(got[3][2], "");
    let capped = t.fields(&file, Some("snatmap.state_cap"), &["frame.number"], &["-o", "snatmap.max_requests:2"]);
    assert_eq!(capped, vec![row(&["3"])]);
    // Default cap: everything matched.
    let got = t.fields(&file, None, &["snatmap.response_to"], &[]);
    assert_eq!(got[3], row(&["3"]));
}

//! Golden tests: courier connections recognised without TLS keys, by the ClientHello's
//! server name (`apns.tls.*`). Expected values come from the generator's own record of
//! which connection each frame belongs to and what its ClientHello named; Info texts are
//! compared with stock Wireshark's (the post-dissector switched off).

mod support;

use std::collections::BTreeMap;
use support::tls::{app_data, client_hello, server_hello};
use support::{Capture, Dir, TcpFlow, Tshark};

/// What the generator knows about each frame.
#[derive(Debug, Clone, Default)]
struct Expect {
    /// (server name, environment, frame of the completed ClientHello) once labelled.
    courier: Option<(String, &'static str, u32)>,
    has_payload: bool,
}

struct Fixture {
    pcap: Vec<u8>,
    frames: BTreeMap<u32, Expect>,
}

/// Three connections: (A) 12-courier.push.apple.com on 5223 with a one-segment ClientHello;
/// (B) www.apple.com on 443 (not a courier); (C) courier.sandbox.push.apple.com over IPv6 on
/// 443 with a 1,800-byte ClientHello in two segments.
fn fixture() -> Fixture {
    let mut cap = Capture::new();
    let mut frames = BTreeMap::new();
    let push = |cap: &mut Capture, frames: &mut BTreeMap<u32, Expect>, frame: Vec<u8>, courier: Option<(String, &'static str, u32)>, has_payload: bool| {
        cap.push(frame);
        let n = frames.len() as u32 + 1;
        frames.insert(n, Expect { courier, has_payload });
    };
    let conns: [(&str, &str, &str, &'static str, usize, Option<usize>); 3] = [
        ("10.0.0.2:50001", "17.57.146.68:5223", "12-courier.push.apple.com", "production", 517, None),
        ("10.0.0.2:50002", "17.253.144.10:443", "www.apple.com", "", 517, None),
        ("[2001:db8::2]:50003", "[2620:149:a44::5]:443", "courier.sandbox.push.apple.com", "sandbox", 1800, Some(1400)),
    ];
    for (client, server, sni, env, hello_len, split) in conns {
        let is_courier = !env.is_empty();
        let mut f = TcpFlow::new(client.parse().unwrap(), server.parse().unwrap());
        for syn in f.handshake(&[], &[], &[]) {
            push(&mut cap, &mut frames, syn, None, false);
        }
        let hello = client_hello(sni, hello_len);
        let hello_frame;
        match split {
            None => {
                let fr = f.send(Dir::ToServer, &hello, &[]);
                hello_frame = frames.len() as u32 + 1;
                let label = is_courier.then(|| (sni.to_string(), env, hello_frame));
                push(&mut cap, &mut frames, fr, label, true);
            }
            Some(at) => {
                let fr = f.send(Dir::ToServer, &hello[..at], &[]);
                push(&mut cap, &mut frames, fr, None, true);
                let fr = f.send(Dir::ToServer, &hello[at..], &[]);
                hello_frame = frames.len() as u32 + 1;
                let label = is_courier.then(|| (sni.to_string(), env, hello_frame));
                push(&mut cap, &mut frames, fr, label, true);
            }
        }
        let label = is_courier.then(|| (sni.to_string(), env, hello_frame));
        let fr = f.ack(Dir::ToClient, &[]);
        push(&mut cap, &mut frames, fr, label.clone(), false);
        let fr = f.send(Dir::ToClient, &[server_hello(90), app_data(40, 0x33)].concat(), &[]);
        push(&mut cap, &mut frames, fr, label.clone(), true);
        for i in 0..3u8 {
            let fr = f.send(Dir::ToServer, &app_data(60 + i as usize, 0x40 + i), &[]);
            push(&mut cap, &mut frames, fr, label.clone(), true);
            let fr = f.send(Dir::ToClient, &app_data(200, 0x50 + i), &[]);
            push(&mut cap, &mut frames, fr, label.clone(), true);
        }
        for fr in f.close() {
            push(&mut cap, &mut frames, fr, label.clone(), false);
        }
    }
    Fixture { pcap: cap.to_bytes(), frames }
}

const FIELDS: [&str; 4] = ["frame.number", "apns.tls.sni", "apns.tls.environment", "apns.tls.client_hello_in"];

fn check(passes: &[&str]) {
    let t = Tshark::get();
    let fx = fixture();
    let file = t.capture("apns-sni", &fx.pcap);
    let mut stock_args = passes.to_vec();
    stock_args.extend(["--disable-protocol", "apns.tls"]);
    let stock = t.fields(&file, None, &FIELDS, &stock_args);
    let ours = t.fields(&file, None, &FIELDS, passes);
    let stock_info = t.info_column(&file, &stock_args);
    let our_info = t.info_column(&file, passes);
    for v in [ours.len(), stock.len(), stock_info.len(), our_info.len()] {
        assert_eq!(v, fx.frames.len());
    }
    let mut labelled = 0;
    for (i, (n, e)) in fx.frames.iter().enumerate() {
        let (o, s, oi, si) = (&ours[i], &stock[i], &our_info[i], &stock_info[i]);
        assert_eq!(o[0], n.to_string());
        assert_eq!(s[1..4], ["", "", ""], "frame {n}: switched off, no apns.tls fields");
        match &e.courier {
            Some((sni, env, hello)) => {
                labelled += 1;
                assert_eq!(o[1..4], [sni.clone(), env.to_string(), hello.to_string()], "frame {n}");
                let want = if e.has_payload { format!("Apple Push: {si}") } else { si.clone() };
                assert_eq!(*oi, want, "frame {n}: Info");
            }
            None => {
                assert_eq!(o[1..4], ["", "", ""], "frame {n}");
                assert_eq!(oi, si, "frame {n}: Info unchanged");
            }
        }
    }
    assert_eq!(labelled, fx.frames.values().filter(|e| e.courier.is_some()).count());
    assert!(labelled >= 20);
}

#[test]
fn courier_connections_labelled_by_server_name_one_pass() {
    check(&[]);
}

#[test]
fn courier_connections_labelled_by_server_name_two_passes() {
    check(&["-2"]);
}

/// `-Y apns.tls` selects exactly the labelled frames; `apns` (the decrypted protocol) none,
/// since there are no keys; the verbose tree shows the item.
#[test]
fn filters_and_tree() {
    let t = Tshark::get();
    let fx = fixture();
    let file = t.capture("apns-sni-filter", &fx.pcap);
    let want: Vec<String> = fx.frames.iter().filter(|(_, e)| e.courier.is_some()).map(|(n, _)| n.to_string()).collect();
    let rows = t.fields(&file, Some("apns.tls"), &["frame.number"], &[]);
    assert_eq!(rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(), want);
    assert!(t.fields(&file, Some("apns"), &["frame.number"], &[]).is_empty());
    let sandbox = t.fields(&file, Some("apns.tls.environment == \"sandbox\""), &["ipv6.dst"], &[]);
    assert!(!sandbox.is_empty());
    let (n, _) = fx.frames.iter().find(|(_, e)| e.courier.is_some()).unwrap();
    let v = t.stdout(&["-r", &file, "-n", "-V", "-Y", &format!("frame.number == {n}")]);
    assert!(v.contains("Apple Push Notification service courier over TLS, 12-courier.push.apple.com"), "{v}");
    assert!(v.contains("Courier server name: 12-courier.push.apple.com"), "{v}");
}

/// A capture that starts after the courier connections were opened (the usual iPhone
/// capture): no ClientHello. TLS records between an Apple address and port 5223 are labelled
/// by address and port (IPv4 17.0.0.0/8 and Apple's IPv6 2620:149::/32), the same records
/// from a non-Apple server on 5223 or from an Apple server on 443 are not, and the preference
/// `apns.tls.by_address` switches it off. Info is stock's with the prefix on labelled frames.
#[test]
fn mid_connection_courier_labelled_by_address_and_port() {
    let t = Tshark::get();
    let mut cap = Capture::new();
    // (client, server, labelled?)
    let conns = [
        ("10.0.0.2:50010", "17.57.146.68:5223", true),
        ("[2001:db8::2]:50011", "[2620:149:a44::5]:5223", true),
        ("10.0.0.2:50012", "198.51.100.7:5223", false),
        ("10.0.0.2:50013", "17.253.144.10:443", false),
    ];
    let mut want = Vec::new();
    for (client, server, labelled) in conns {
        let mut f = TcpFlow::new(client.parse().unwrap(), server.parse().unwrap());
        // Mid-connection: no handshake in the capture, TLS application data both ways.
        for i in 0..3u8 {
            cap.push(f.send(Dir::ToServer, &app_data(60 + i as usize, 0x40 + i), &[]));
            want.push(labelled);
            cap.push(f.send(Dir::ToClient, &app_data(200, 0x50 + i), &[]));
            want.push(labelled);
        }
    }
    let file = t.capture("apns-midstream", &cap.to_bytes());
    for passes in [&[][..], &["-2"]] {
        let ours = t.fields(&file, None, &["frame.number", "apns.tls.recognised_by", "tls.record.content_type", "apns.tls.sni"], passes);
        let mut off = passes.to_vec();
        off.extend(["--disable-protocol", "apns.tls"]);
        let stock_info = t.info_column(&file, &off);
        let our_info = t.info_column(&file, passes);
        assert_eq!(ours.len(), want.len());
        for (i, w) in want.iter().enumerate() {
            // Stock's TLS heuristic reads every one of these as application data (23).
            assert_eq!(ours[i][2], "23", "frame {}: not read as TLS", i + 1);
            assert_eq!(ours[i][3], "", "frame {}: no server name to show", i + 1);
            if *w {
                assert_eq!(ours[i][1], "2", "frame {} {passes:?}", i + 1);
                assert_eq!(our_info[i], format!("Apple Push: {}", stock_info[i]), "frame {}", i + 1);
            } else {
                assert_eq!(ours[i][1], "", "frame {} {passes:?}", i + 1);
                assert_eq!(our_info[i], stock_info[i], "frame {}", i + 1);
            }
        }
        let off = t.fields(&file, Some("apns.tls"), &["frame.number"], &[passes, &["-o", "apns.tls.by_address:FALSE"]].concat());
        assert!(off.is_empty(), "{off:?}");
    }
}

/// apns.tls and mptcp_annot run from one Wireshark post-dissector (the TCP hook, protocol
/// "apple_tcp", a helper of TCP): each is still switched by its own protocol alone. On the
/// courier fixture and on the bundled MPTCP sample, the frames each labels are the same
/// with the other disabled, and none with itself disabled. Expected counts: the fixture's
/// own record of courier frames, and the MPTCP sample's frames that carry an MPTCP option
/// (stock's `tcp.options.mptcp.subtype`, read with the plugin disabled).
#[test]
fn each_tcp_consumer_switched_by_its_own_protocol() {
    let t = Tshark::get();
    let fx = fixture();
    let courier = t.capture("apns-sni-switch", &fx.pcap);
    let mptcp = t.capture("mptcp-switch.pcap", &support::samples::mptcp_demo());
    let want_courier = fx.frames.values().filter(|e| e.courier.is_some()).count();
    assert!(want_courier > 0);
    let want_mptcp = t.fields(&mptcp, Some("tcp.options.mptcp.subtype"), &["frame.number"], &["--disable-protocol", "mptcp_annot"]).len();
    assert!(want_mptcp > 0);
    let count = |file: &str, filter: &str, extra: &[&str]| t.fields(file, Some(filter), &["frame.number"], extra).len();
    for pass in [&[][..], &["-2"]] {
        let with = |d: &[&'static str]| -> Vec<&'static str> { [pass, d].concat() };
        assert_eq!(count(&courier, "apns.tls.sni", &with(&[])), want_courier);
        assert_eq!(count(&courier, "apns.tls.sni", &with(&["--disable-protocol", "mptcp_annot"])), want_courier);
        assert_eq!(count(&courier, "apns.tls", &with(&["--disable-protocol", "apns.tls"])), 0);
        assert_eq!(count(&mptcp, "mptcp_annot.connection", &with(&[])), want_mptcp);
        assert_eq!(count(&mptcp, "mptcp_annot.connection", &with(&["--disable-protocol", "apns.tls"])), want_mptcp);
        assert_eq!(count(&mptcp, "mptcp_annot", &with(&["--disable-protocol", "mptcp_annot"])), 0);
    }
}

//! The bundled samples are exactly what the generator writes, and the plugin reads them.

mod support;

use support::{samples as samples_gen, Tshark};

#[test]
fn committed_samples_match_the_generator() {
    for (name, bytes) in samples_gen::all() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples").join(name);
        let committed = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (run `cargo run --example make_samples`)", path.display()));
        assert!(committed == bytes, "samples/{name} differs from the generator: run `cargo run --example make_samples`");
    }
}

#[test]
fn snatmap_demo_reads_as_the_generator_wrote_it() {
    let t = Tshark::get();
    let file = t.capture("snatmap-demo.pcap", &samples_gen::snatmap_demo());
    let got = t.fields(&file, Some("snatmap"), &["frame.number", "snatmap.type", "snatmap.nat", "snatmap.port_preserved", "snatmap.retransmission_of"], &["-2"]);
    let rows: Vec<String> = got.iter().map(|r| r.join(" ")).collect();
    assert_eq!(rows, ["1 1   ", "2 2 1 1 ", "3 1   ", "4 1   3", "5 2 1 0 ", "6 2   "]);
}

/// The APNs sample opens with no option at all (the heuristic finds the cleartext courier
/// stream on its unregistered port): every message's command, topic and id as the script
/// wrote them, the acks linked, and the iMessage envelope of the push decoded.
#[test]
fn apns_demo_reads_as_the_generator_wrote_it() {
    use support::gen_apns::{canon_value, hex, imessage_expected, unhex};
    let t = Tshark::get();
    let (cap, script, frames) = samples_gen::apns_demo_with_record();
    let file = t.capture("apns-demo.pcap", &cap.to_bytes());
    let got = t.fields(&file, Some("apns"), &["frame.number", "apns.command", "apns.topic", "apns.message_id"], &[]);
    assert_eq!(got.len(), script.len(), "{got:?}");
    for ((r, m), f) in got.iter().zip(&script).zip(&frames) {
        let id = m.msg_id.map(|x| x.to_string()).unwrap_or_default();
        assert_eq!(r, &[f.to_string(), format!("0x{:02x}", m.cmd), m.topic.to_string(), id], "frame {f}");
    }
    // Every message with an id is answered by the next message, an ack (0x0B) with that id.
    let links = t.fields(&file, Some("apns.command == 0x0a"), &["frame.number", "apns.ack_in"], &["-2"]);
    let want: Vec<Vec<String>> = script
        .iter()
        .zip(&frames)
        .enumerate()
        .filter(|(_, (m, _))| m.cmd == 0x0A)
        .map(|(i, (m, f))| {
            assert_eq!((script[i + 1].cmd, script[i + 1].msg_id), (0x0B, m.msg_id));
            vec![f.to_string(), frames[i + 1].to_string()]
        })
        .collect();
    assert_eq!(links, want);
    // The iMessage push: topic com.apple.madrid, sender and user agent from the plist's record.
    let canon = imessage_expected();
    let text = |k: &str| String::from_utf8(unhex(canon_value(&canon, k).trim_start_matches("a:"))).unwrap();
    let push = script.iter().position(|m| m.topic == "com.apple.madrid" && m.cmd == 0x0A).expect("an iMessage push");
    let got = t.fields(&file, Some("apns.imessage.sender"), &["frame.number", "apns.topic", "apns.imessage.sender", "apns.imessage.user_agent"], &[]);
    assert_eq!(got, vec![vec![frames[push].to_string(), "com.apple.madrid".into(), text("sP"), text("ua")]]);
    // The device's token, from the Connect.
    let got = t.fields(&file, Some("apns.command == 0x07"), &["apns.token"], &[]);
    assert_eq!(got, vec![vec![hex(&support::gen_apns::TOKEN)]]);
}

/// The FaceTime sample: every frame in the class the generator sent, the SIP dialog tied to
/// one call, and the RTP streams with their packet counts.
#[test]
fn facetime_demo_reads_as_the_generator_wrote_it() {
    let t = Tshark::get();
    let (g, p, ss) = samples_gen::facetime_demo_with_record();
    let file = t.capture("facetime-demo.pcap", &g.cap.to_bytes());
    let got = t.fields(&file, Some("facetime"), &["frame.number", "facetime.class", "udp.srcport", "udp.dstport"], &[]);
    let want: Vec<Vec<String>> =
        g.rec.classes.iter().enumerate().map(|(i, c)| vec![(i + 1).to_string(), c.name().into(), "16402".into(), "16402".into()]).collect();
    assert_eq!(got, want);
    let got = t.fields(&file, Some("sip"), &["frame.number", "sip.CSeq.method", "facetime.call_id", "facetime.caller"], &["-2"]);
    assert_eq!(got.len(), g.rec.sip.len());
    for (r, (f, _)) in got.iter().zip(&g.rec.sip) {
        assert_eq!((&r[0], &r[2], &r[3]), (&f.to_string(), &p.call_id.to_string(), &p.caller_uri.to_string()));
    }
    let bye = *g.rec.sip.iter().find(|(_, m)| *m == "BYE").unwrap().0;
    assert_eq!(t.fields(&file, Some("sip.Method == \"BYE\""), &["frame.number"], &[]), vec![vec![bye.to_string()]]);
    let ssrcs = t.fields(&file, Some("rtp"), &["rtp.ssrc"], &[]);
    for s in &ss {
        let n = ssrcs.iter().filter(|r| r[0] == format!("0x{:08x}", s.ssrc)).count();
        assert_eq!(n, s.sent as usize, "RTP packets of SSRC 0x{:08x}", s.ssrc);
    }
}

/// The MPTCP sample: one connection over two subflows; per segment the subflow, relative
/// DSN and data ACK the generator wrote; per subflow its client end and byte counts.
#[test]
fn mptcp_demo_reads_as_the_generator_wrote_it() {
    use support::gen_mptcp::{siri_two_subflows, SIRI_IPAD, SIRI_IPAD_CELL};
    let t = Tshark::get();
    let (w, rec) = siri_two_subflows();
    let file = t.capture("mptcp-demo.pcap", &w.cap.to_bytes());
    let fields = ["frame.number", "mptcp_annot.connection", "mptcp_annot.subflow", "mptcp_annot.rel_dsn", "mptcp_annot.rel_dack", "mptcp_annot.data_len"];
    let got = t.fields(&file, None, &fields, &["-2"]);
    let opt = |v: Option<u32>| v.map(|x| x.to_string()).unwrap_or_default();
    let want: Vec<Vec<String>> = rec
        .iter()
        .map(|s| {
            let len = if s.rel_dsn.is_some() { s.len.to_string() } else { String::new() };
            vec![s.frame.to_string(), "0".into(), s.subflow.to_string(), opt(s.rel_dsn), opt(s.rel_dack), len]
        })
        .collect();
    assert_eq!(got, want);
    let bytes = |sf: u32, to_server: bool| rec.iter().filter(|s| s.subflow == sf && s.to_server == to_server).map(|s| s.len).sum::<u32>();
    let last = rec.last().unwrap().frame;
    let got = t.fields(
        &file,
        Some(&format!("frame.number == {last}")),
        &[
            "mptcp_annot.conn.subflows",
            "mptcp_annot.sf.client.ipv4",
            "mptcp_annot.sf.client.port",
            "mptcp_annot.sf.joined",
            "mptcp_annot.sf.bytes_to_server",
            "mptcp_annot.sf.bytes_to_client",
            "mptcp_annot.conn.service",
        ],
        &["-2"],
    );
    // The subflows' client ends as stock Wireshark reads their SYNs, in order; which are the
    // generator's two iPad ends.
    let syns = Tshark::stock().fields(&file, Some("tcp.flags.syn == 1 && tcp.flags.ack == 0"), &["ip.src", "tcp.srcport"], &[]);
    assert_eq!(syns.iter().map(|r| r.join(":")).collect::<Vec<_>>(), [SIRI_IPAD, SIRI_IPAD_CELL]);
    let col = |i: usize| syns.iter().map(|r| r[i].clone()).collect::<Vec<_>>().join(",");
    assert_eq!(
        got,
        vec![vec![
            "2".to_string(),
            col(0),
            col(1),
            "0,1".into(),
            format!("{},{}", bytes(0, true), bytes(1, true)),
            format!("{},{}", bytes(0, false), bytes(1, false)),
            "guzzoni.apple.com".into(),
        ]]
    );
}

/// Every protocol of the plugin is listed, and its fields are registered once each, under its
/// own filter prefix (the same check the per-protocol tests make, for all five, including
/// `facetime` and `apns.tls`).
#[test]
fn every_protocol_registers_its_fields_once_under_its_prefix() {
    let t = Tshark::get();
    let protocols = t.stdout(&["-G", "protocols"]);
    for proto in ["snatmap", "apns", "apns.tls", "facetime", "mptcp_annot"] {
        assert!(protocols.lines().any(|l| l.split('\t').nth(2) == Some(proto)), "{proto} not listed");
        let fields = t.registered_fields(proto);
        assert!(!fields.is_empty(), "{proto} registers no field");
    }
    // The two prefixes that nest: apns.tls.* belongs to apns.tls, never to apns.
    assert!(t.registered_fields("apns").iter().all(|f| !f.starts_with("apns.tls.")), "apns registers apns.tls.* fields");
}

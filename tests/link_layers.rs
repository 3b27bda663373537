//! The TCP post-dissectors (MPTCP annotations, the courier's TLS label) on the link layers an
//! iPhone capture comes in: 802.11 in clear (plain and behind radiotap), WPA2-encrypted Wi-Fi
//! that Wireshark decrypts with the user's key, and Apple's PKTAP (macOS `pktap`, `rvictl`).
//! The captures in tests/data/wifi/ are the bundled MPTCP sample re-encapsulated by
//! tests/data/wifi/make.py (IP packets unchanged); what the plugin reads from each must equal
//! what it reads from the Ethernet original, frame by frame, in one and two passes — and stock
//! tshark must see TCP in exactly those frames (the independent check that the frames are what
//! the script says).

mod support;

use std::path::Path;
use support::Tshark;

fn read(name: &str) -> Vec<u8> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let p = if name == "mptcp-demo.pcap" { root.join("samples").join(name) } else { root.join("tests/data/wifi").join(name) };
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The WPA2 capture's key, as Wireshark's 802.11 decryption keys table takes it.
fn wpa_key() -> String {
    let pmk = String::from_utf8(read("mptcp-demo-wpa2.pmk")).unwrap();
    format!("uat:80211_keys:\"wpa-psk\",\"{}\"", pmk.trim())
}

/// Every field of the two TCP post-dissectors, per frame, with the frame number shifted by
/// `skip` (frames the re-encapsulation put in front: the WPA2 handshake).
fn annotations(t: &Tshark, file: &str, skip: usize, extra: &[&str]) -> Vec<Vec<String>> {
    let mut fields: Vec<String> = t.registered_fields("mptcp_annot");
    fields.extend(t.registered_fields("apns.tls"));
    let mut f: Vec<&str> = vec!["frame.number"];
    f.extend(fields.iter().map(String::as_str));
    // Frame-number fields (links, first frames) and frame.number itself move with the frames.
    let framenum: Vec<String> = t
        .stdout(&["-G", "fields"])
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.first() == Some(&"F") && c.get(3) == Some(&"FT_FRAMENUM")).then(|| c[2].to_string())
        })
        .collect();
    let shift: Vec<bool> = f.iter().map(|a| *a == "frame.number" || framenum.iter().any(|x| x == a)).collect();
    let rows = t.fields(file, None, &f, extra);
    rows.into_iter()
        .skip(skip)
        .map(|r| {
            r.iter()
                .zip(&shift)
                .map(|(v, s)| {
                    if !*s || v.is_empty() {
                        return v.clone();
                    }
                    v.split(',').map(|n| (n.parse::<usize>().unwrap() - skip).to_string()).collect::<Vec<_>>().join(",")
                })
                .collect()
        })
        .collect()
}

fn frames(t: &Tshark, file: &str, filter: &str, extra: &[&str]) -> Vec<String> {
    t.fields(file, Some(filter), &["frame.number"], extra).into_iter().map(|r| r[0].clone()).collect()
}

#[test]
fn wifi_and_pktap_read_like_ethernet() {
    let t = Tshark::get();
    let eth = t.capture("ll-eth.pcap", &read("mptcp-demo.pcap"));
    let key = wpa_key();
    for passes in [&[][..], &["-2"][..]] {
        let reference = annotations(t, &eth, 0, passes);
        let annotated = reference.iter().filter(|r| !r[1].is_empty()).count();
        assert_eq!(annotated, reference.len(), "every frame of the sample is MPTCP");
        for (name, skip, keyed) in [
            ("mptcp-demo-80211.pcap", 0, false),
            ("mptcp-demo-radiotap.pcap", 0, false),
            ("mptcp-demo-pktap.pcap", 0, false),
            ("mptcp-demo-wpa2.pcap", 2, true),
        ] {
            let file = t.capture(&format!("ll-{name}"), &read(name));
            let mut extra: Vec<&str> = passes.to_vec();
            if keyed {
                extra.extend(["-o", key.as_str()]);
            }
            // Stock sees TCP in every frame but the handshake's.
            let tcp = frames(t, &file, "tcp", &[&extra[..], &["--disable-protocol", "mptcp_annot"]].concat());
            let expected: Vec<String> = (skip + 1..=skip + reference.len()).map(|n| n.to_string()).collect();
            assert_eq!(tcp, expected, "{name}: stock's TCP frames");
            assert_eq!(annotations(t, &file, skip, &extra), reference, "{name} {passes:?}");
        }
    }
}

/// Without the key nothing is read from the encrypted frames (and nothing is guessed).
#[test]
fn wpa2_without_key_is_left_alone() {
    let t = Tshark::get();
    let file = t.capture("ll-nokey.pcap", &read("mptcp-demo-wpa2.pcap"));
    assert!(frames(t, &file, "tcp", &["-2"]).is_empty());
    assert!(frames(t, &file, "mptcp_annot || apns.tls", &["-2"]).is_empty());
    // With it, the annotations of the decrypted frames are in the tree and filterable.
    let key = wpa_key();
    assert_eq!(frames(t, &file, "mptcp_annot.conn", &["-2", "-o", &key]).len(), 6);
}

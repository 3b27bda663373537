//! Expert infos are raised whether or not a tree is built: `tshark -q -z expert` (no tree)
//! lists exactly the plugin's expert infos that the same run with `-V` (a full tree) lists, in
//! one pass and two, on every bundled sample and every capture in `../shared/captures`. The
//! oracle is tshark's own full-tree dissection of the same file; the MPTCP captures must also
//! show the handover and REMOVE_ADDR notes the tree path raises (so the comparison is not
//! between two empty lists). Those notes come from a generated capture (the Siri sample's two
//! subflows, then Wi-Fi removed and closed while the answer goes on over cellular), so the
//! test means the same on a machine without `../shared/captures`.

mod support;

use std::path::PathBuf;
use std::time::Duration;
use support::gen_mptcp::{hms, mp, key_material, siri_two_subflows, SIRI_CLIENT_ISN, SIRI_CLIENT_KEY, SIRI_IPAD, SIRI_IPAD_CELL, SIRI_SERVER, SIRI_SERVER_ISN, SIRI_SERVER_KEY};
use support::{ACK, PSH, RST};
use support::Tshark;

/// The plugin's protocols as the expert summary names them (their short names).
const OURS: [&str; 5] = ["SNATMAP", "APNs", "APNs-TLS", "FaceTime", "MPTCP-annot"];

/// The rows of `-z expert`'s tables that belong to the plugin, sorted, with their severity.
fn plugin_rows(out: &str) -> Vec<String> {
    let mut sev = String::new();
    let mut rows = Vec::new();
    for l in out.lines() {
        if let Some(s) = ["Errors", "Warns", "Notes", "Chats", "Comments"].iter().find(|s| l.starts_with(&format!("{s} ("))) {
            sev = s.to_string();
            continue;
        }
        let cols: Vec<&str> = l.split_whitespace().collect();
        // "   Frequency      Group           Protocol  Summary"
        if cols.len() >= 4 && cols[0].parse::<u64>().is_ok() && OURS.contains(&cols[2]) {
            rows.push(format!("{sev} {}", cols.join(" ")));
        }
    }
    rows.sort();
    rows
}

fn files() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<PathBuf> = ["snatmap", "apns", "facetime", "mptcp"].iter().map(|p| root.join(format!("samples/{p}-demo.pcap"))).collect();
    for dir in [root.join("../shared/captures"), PathBuf::from("/work/shared/captures")] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            let mut caps: Vec<PathBuf> = rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "pcap")).collect();
            caps.sort();
            v.extend(caps);
            break;
        }
    }
    v
}

/// The Siri sample's connection (`siri_two_subflows`: Wi-Fi subflow, then a cellular join),
/// continued: the iPad announces on cellular that its Wi-Fi address (id 0) is gone
/// (REMOVE_ADDR, RFC 6824 §3.4.2: kind 30, length 4, subtype 4, address id), Wi-Fi is reset,
/// and the server goes on sending over cellular — a handover after a closed subflow.
fn wifi_removed_capture() -> Vec<u8> {
    let (mut w, _) = siri_two_subflows();
    let (_, cidsn) = key_material(0, SIRI_CLIENT_KEY);
    let (_, sidsn) = key_material(0, SIRI_SERVER_KEY);
    let (ci, si) = (cidsn as u32, sidsn as u32);
    // Where siri_two_subflows leaves each subflow's sequence numbers (see its comments).
    let (wifi_c, wifi_s) = (SIRI_CLIENT_ISN + 185, SIRI_SERVER_ISN + 1 + 800);
    let (cell_c, cell_s) = (3_000_000_001u32 + 600, 400_000_001u32 + 300);
    let dss = |map: Option<(u32, u32, u16)>, dack: u32| mp::dss(Some((dack as u64, false)), map.map(|(dsn, ssn, len)| (dsn as u64, false, ssn, len, None)), false);
    let remove_addr = [30u8, 4, 0x40, 0];
    let at = hms(12, 43, 32, 0);
    let ms = |n: u64| at + Duration::from_millis(n);
    let (wifi, cell, srv) = (SIRI_IPAD, SIRI_IPAD_CELL, SIRI_SERVER);
    w.seg(ms(0), cell, srv, ACK, cell_c, cell_s, &[dss(None, si.wrapping_add(1101)), remove_addr.to_vec()].concat(), b"", 64, 104);
    w.seg(ms(1), wifi, srv, RST | ACK, wifi_c, wifi_s, &[], b"", 64, 23801);
    for (i, dsn) in [1101u32, 1401].into_iter().enumerate() {
        let ssn = 301 + 300 * i as u32;
        w.seg(ms(20 + i as u64), srv, cell, PSH | ACK, cell_s + 300 * i as u32, cell_c, &dss(Some((si.wrapping_add(dsn), ssn, 300)), ci.wrapping_add(785)), &[0x17u8; 300], 244, 203 + i as u16);
    }
    w.cap.to_bytes()
}

#[test]
fn expert_infos_without_a_tree_equal_those_with_one() {
    let t = Tshark::get();
    let mut mptcp_notes = 0;
    let mut inputs: Vec<(String, Vec<u8>)> =
        files().into_iter().map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap())).collect();
    inputs.push(("mptcp-wifi-removed.pcap".into(), wifi_removed_capture()));
    for (name, bytes) in inputs {
        let path = PathBuf::from(&name);
        let file = t.capture(&name, &bytes);
        for pass in [&[][..], &["-2"]] {
            let mut quiet = vec!["-r", file.as_str(), "-n", "-q", "-z", "expert"];
            quiet.extend_from_slice(pass);
            let mut full = vec!["-r", file.as_str(), "-n", "-V", "-z", "expert"];
            full.extend_from_slice(pass);
            let without = plugin_rows(&t.stdout(&quiet));
            let with = plugin_rows(&t.stdout(&full));
            assert_eq!(without, with, "{} {pass:?}: experts without a tree differ from those with one", path.display());
            mptcp_notes += with.iter().filter(|r| r.contains("MPTCP-annot") && (r.contains("Handover") || r.contains("REMOVE_ADDR"))).count();
        }
    }
    assert!(mptcp_notes > 0, "no MPTCP handover/REMOVE_ADDR expert in any capture: the comparison compared nothing");
}

//! Expert infos are raised whether or not a tree is built: `tshark -q -z expert` (no tree)
//! lists exactly the plugin's expert infos that the same run with `-V` (a full tree) lists, in
//! one pass and two, on every bundled sample and every capture in `../shared/captures`. The
//! oracle is tshark's own full-tree dissection of the same file; the MPTCP captures must also
//! show the handover and REMOVE_ADDR notes the tree path raises (so the comparison is not
//! between two empty lists).

mod support;

use std::path::PathBuf;
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

#[test]
fn expert_infos_without_a_tree_equal_those_with_one() {
    let t = Tshark::get();
    let mut mptcp_notes = 0;
    for path in files() {
        let file = t.capture(&path.file_name().unwrap().to_string_lossy(), &std::fs::read(&path).unwrap());
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

//! `-T json` / `-T ek` keys are field abbreviations, never display labels: every subtree
//! header and every expert item the plugin adds is a registered field, so jq and
//! Elasticsearch can address them (`apns.item`, `mptcp_annot.conn`, `facetime.rtp`, …).
//! Checked on every bundled sample (and the shared captures, when present), one and two
//! passes, against the abbreviations `tshark -G fields` lists.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use support::Tshark;

const PLUGIN: [&str; 5] = ["apns", "apns.tls", "snatmap", "facetime", "mptcp_annot"];

fn captures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut v = Vec::new();
    for dir in [root.join("samples"), root.join("../shared/captures")] {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        let mut names: Vec<PathBuf> = rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng")).collect();
        names.sort();
        v.extend(names);
    }
    v
}

/// Every field abbreviation and protocol filter name tshark knows (with the plugin).
fn known(t: &Tshark) -> BTreeSet<String> {
    t.stdout(&["-G", "fields"])
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            match c.first() {
                Some(&"F") => c.get(2).map(|s| s.to_string()),
                Some(&"P") => c.get(2).map(|s| s.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// Walks a layer's JSON: every key inside one of the plugin's layers, with how often it occurs.
fn keys_in(v: &Value, inside: bool, out: &mut BTreeMap<String, usize>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let plugin = inside || PLUGIN.contains(&k.as_str());
                if plugin {
                    *out.entry(k.clone()).or_default() += match x {
                        Value::Array(a) => a.len(),
                        _ => 1,
                    };
                }
                keys_in(x, plugin, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| keys_in(x, inside, out)),
        _ => {}
    }
}

fn json(t: &Tshark, file: &str, extra: &[&str]) -> Value {
    let out = t.stdout(&[&["-n", "-r", file, "-T", "json", "--no-duplicate-keys"][..], extra].concat());
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{file}: -T json is not JSON: {e}"))
}

#[test]
fn every_key_is_a_field() {
    let t = Tshark::get();
    let known = known(t);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for path in captures() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let file = t.capture(&name, &std::fs::read(&path).unwrap());
        for passes in [&[][..], &["-2"][..]] {
            let mut keys = BTreeMap::new();
            keys_in(&json(t, &file, passes), false, &mut keys);
            for k in keys.keys() {
                // A field with a value and children is written as "abbrev" and "abbrev_tree".
                let base = k.strip_suffix("_tree").unwrap_or(k);
                assert!(known.contains(base), "{name} {passes:?}: JSON key {k:?} is not a field abbreviation");
            }
            for (k, n) in keys {
                *seen.entry(k).or_default() += n;
            }
        }
    }
    // Not a vacuous walk: the headers that used to be labels occur as keys.
    for k in ["apns.item", "apns.plist", "apns.plist.member", "apns.session", "mptcp_annot.conn", "mptcp_annot.sf", "facetime.call_info", "facetime.rtp", "facetime.rtcp"] {
        assert!(seen.get(k).copied().unwrap_or(0) > 0, "{k} never seen as a JSON key");
    }
    // An expert item is its expert's field.
    assert!(seen.get("facetime.call_ended").copied().unwrap_or(0) > 0, "facetime.call_ended not a JSON key");
}

/// The layout of two frames, key by key: an APNs Connect message (its items, each an
/// `apns.item` object) and an MPTCP segment with the connection summary (its subflows).
#[test]
fn golden_layouts() {
    let t = Tshark::get();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    // APNs: the first message of the sample is the client's Connect (command 7); its items
    // are counted from the bytes below, independently of the plugin.
    let file = t.capture("json-apns.pcap", &std::fs::read(root.join("apns-demo.pcap")).unwrap());
    let first = t.fields(&file, Some("tcp.len > 0"), &["frame.number", "tcp.payload"], &["-o", "tcp.desegment_tcp_streams:FALSE", "--disable-protocol", "apns"]);
    let (frame, hex) = (&first[0][0], first[0][1].replace(':', ""));
    let bytes: Vec<u8> = (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect();
    assert_eq!(bytes[0], 7, "the sample's first message is a Connect");
    let len = u32::from_be_bytes(bytes[1..5].try_into().unwrap()) as usize;
    let (mut at, mut ids) = (5, Vec::new());
    while at + 3 <= 5 + len {
        ids.push(bytes[at].to_string());
        at += 3 + u16::from_be_bytes([bytes[at + 1], bytes[at + 2]]) as usize;
    }
    assert!(ids.len() >= 5, "{ids:?}");
    let v = json(t, &file, &["-Y", &format!("frame.number == {frame}")]);
    let apns = &v[0]["_source"]["layers"]["apns"];
    let items = apns["apns.item"].as_array().unwrap_or_else(|| panic!("apns.item not an array: {apns}"));
    let got: Vec<String> = items.iter().map(|i| i["apns.item.id"].as_str().unwrap().to_string()).collect();
    assert_eq!(got, ids);
    assert_eq!(apns["apns.command"], format!("0x{:02x}", bytes[0]).as_str());

    // MPTCP: the MP_JOIN SYN/ACK of the sample (second connection-level change after the
    // handshake) carries the summary with both subflows; stock counts the subflows as TCP
    // streams.
    let file = t.capture("json-mptcp.pcap", &std::fs::read(root.join("mptcp-demo.pcap")).unwrap());
    let joins = t.fields(&file, Some("tcp.options.mptcp.subtype == 1 && tcp.flags.syn == 1 && tcp.flags.ack == 1"), &["frame.number"], &[]);
    let streams: BTreeSet<String> = t.fields(&file, Some("tcp"), &["tcp.stream"], &[]).into_iter().map(|r| r[0].clone()).collect();
    let v = json(t, &file, &["-2", "-Y", &format!("frame.number == {}", joins[0][0])]);
    let m = &v[0]["_source"]["layers"]["mptcp_annot"];
    // (serde_json's map keeps keys sorted.)
    let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["mptcp_annot.conn", "mptcp_annot.connection", "mptcp_annot.direction", "mptcp_annot.subflow"]);
    let sf = m["mptcp_annot.conn"]["mptcp_annot.sf"].as_array().expect("subflows as an array");
    assert_eq!(sf.len(), streams.len());
    for (i, s) in sf.iter().enumerate() {
        assert_eq!(s["mptcp_annot.sf.index"], i.to_string());
    }
}

/// `-T ek` (Elasticsearch bulk format) names the same fields (written
/// `<protocol>_<abbrev with '.' as '_'>` by tshark 4.0).
#[test]
fn ek_keys_are_fields() {
    let t = Tshark::get();
    let known = known(t);
    let ek_names: BTreeSet<String> = known.iter().flat_map(|a| [a.clone(), format!("apns_{}", a.replace('.', "_"))]).collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let file = t.capture("ek-apns.pcap", &std::fs::read(root.join("apns-demo.pcap")).unwrap());
    let out = t.stdout(&["-n", "-r", &file, "-T", "ek"]);
    let mut n = 0;
    for line in out.lines().filter(|l| l.contains("\"layers\"")) {
        let v: Value = serde_json::from_str(line).unwrap();
        let Some(apns) = v["layers"]["apns"].as_object() else { continue };
        for k in apns.keys() {
            assert!(ek_names.contains(k), "ek key {k:?} names no field");
        }
        n += usize::from(apns.contains_key("apns_apns_item") || apns.contains_key("apns.item"));
    }
    assert!(n > 0, "no apns.item key in -T ek");
}

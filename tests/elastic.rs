//! `tshark -G elastic-mapping --elastic-mapping-filter apns,snatmap,facetime,mptcp_annot`: the
//! Elasticsearch/OpenSearch mapping for `tshark -T ek` output (how tshark's packets reach an
//! index when one machine is not enough). Every field `-G fields` lists for the plugin's
//! protocols is in it, under the key `-T ek` writes, with the type Wireshark's own rule gives
//! its FT_ type — or absent, where that rule gives none (strings, FT_NONE, …) — and nothing
//! else is; no key appears twice (Elasticsearch refuses a document or mapping with duplicate
//! keys).
//!
//! The expected type comes from the field's FT_ type alone, by the table [`elastic_type`]
//! (where each version's table comes from is written there), never from the mapping under test;
//! the table itself is checked against the same tshark's stock protocols
//! ([`the_type_table_is_what_this_wireshark_does_for_stock_fields`]).

mod support;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use support::{samples, Tshark};

/// The plugin's protocols (filter names). `apns.tls` is a protocol of its own: the mapping
/// filter names protocols exactly (4.0 `epan/proto.c`, `proto_registrar_dump_elastic`:
/// `g_strcmp0` of each comma-separated name with the field's parent protocol).
const PROTOCOLS: [&str; 5] = ["snatmap", "apns", "apns.tls", "facetime", "mptcp_annot"];

/// The mapping type Wireshark gives a field of FT_ type `ft` in tshark `version` (major.minor),
/// None when it leaves the field out.
///
/// - 4.0: `ws_type_to_elastic` in `epan/proto.c` of Wireshark 4.0.17 (Debian's source package
///   wireshark_4.0.17-0+deb12u3, line 11082): the switch below, `NULL` (left out) for every
///   other type; `proto_registrar_dump_elastic` skips a field whose type maps to `NULL`.
/// - 4.4: the source package (4.4.19) is not on this machine's mirror; the table was measured
///   on Wireshark 4.4.19's own registry (`-G fields` with `-G elastic-mapping`: every stock
///   field whose key no other field shares, grouped by FT_ type, gives one type per FT_ type)
///   and is 4.0's.
/// - 4.6: measured the same way on 4.6.9: signed types one size smaller than 4.0's names
///   (FT_INT8 byte, FT_INT16 short), FT_INT40/56 long, FT_UINT64 "unsigned long" (with a space:
///   not a type Elasticsearch or OpenSearch knows, whose name is `unsigned_long`; Wireshark's,
///   and it makes a 4.6 mapping with any FT_UINT64 field fail to load), FT_DOUBLE and
///   FT_RELATIVE_TIME double, FT_ABSOLUTE_TIME date_nanos, bytes left out.
///
/// [`the_type_table_is_what_this_wireshark_does_for_stock_fields`] checks the table against the
/// tshark under test.
fn elastic_type(version: &str, ft: &str) -> Option<&'static str> {
    match version {
        "4.0" | "4.4" => match ft {
            "FT_UINT16" | "FT_INT16" | "FT_INT32" | "FT_UINT24" | "FT_INT24" => Some("integer"),
            "FT_INT8" | "FT_UINT8" => Some("short"),
            "FT_FRAMENUM" | "FT_UINT32" | "FT_UINT40" | "FT_UINT48" | "FT_UINT56" | "FT_UINT64" | "FT_INT48" | "FT_INT64" => Some("long"),
            "FT_FLOAT" | "FT_DOUBLE" => Some("float"),
            "FT_IPv6" | "FT_IPv4" => Some("ip"),
            "FT_ABSOLUTE_TIME" | "FT_RELATIVE_TIME" => Some("date"),
            "FT_BYTES" | "FT_UINT_BYTES" => Some("byte"),
            "FT_BOOLEAN" => Some("boolean"),
            _ => None,
        },
        "4.6" => match ft {
            "FT_INT8" => Some("byte"),
            "FT_UINT8" | "FT_INT16" => Some("short"),
            "FT_UINT16" | "FT_UINT24" | "FT_INT24" | "FT_INT32" => Some("integer"),
            "FT_FRAMENUM" | "FT_UINT32" | "FT_UINT40" | "FT_UINT48" | "FT_UINT56" | "FT_INT40" | "FT_INT48" | "FT_INT56" | "FT_INT64" => Some("long"),
            "FT_UINT64" => Some("unsigned long"),
            "FT_FLOAT" => Some("float"),
            "FT_DOUBLE" | "FT_RELATIVE_TIME" => Some("double"),
            "FT_IPv6" | "FT_IPv4" => Some("ip"),
            "FT_ABSOLUTE_TIME" => Some("date_nanos"),
            "FT_BOOLEAN" => Some("boolean"),
            _ => None,
        },
        v => panic!("no Elasticsearch type table for Wireshark {v} (add one to tests/elastic.rs, from that version's epan/proto.c)"),
    }
}

/// The key `-T ek` and the mapping give a field: `<protocol>_<abbrev>`, dots made underscores
/// (4.0 `epan/proto.c`: `ws_strdup_printf("%s_%s", prev_proto, hfinfo->abbrev)`, then
/// `dot_to_underscore`).
fn ek_key(protocol: &str, abbrev: &str) -> String {
    format!("{protocol}_{abbrev}").replace('.', "_")
}

/// A JSON value with every object member in its order, duplicates kept (serde_json's own
/// `Value` keeps the last of two equal keys, which would hide the duplicate this test looks for).
#[derive(Debug)]
#[allow(dead_code)] // scalars are only shown (Debug), in failure messages
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Json;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Json, E> {
                Ok(Json::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Json, E> {
                Ok(Json::Num(n as f64))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Json, E> {
                Ok(Json::Num(n as f64))
            }
            fn visit_f64<E>(self, n: f64) -> Result<Json, E> {
                Ok(Json::Num(n))
            }
            fn visit_str<E>(self, s: &str) -> Result<Json, E> {
                Ok(Json::Str(s.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Json::Arr(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Json, A::Error> {
                let mut v = Vec::new();
                while let Some((k, x)) = a.next_entry::<String, Json>()? {
                    v.push((k, x));
                }
                Ok(Json::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl Json {
    fn parse(text: &str) -> Json {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", &text[..text.len().min(2000)]))
    }
    fn members(&self) -> &[(String, Json)] {
        match self {
            Json::Obj(m) => m,
            other => panic!("not an object: {other:?}"),
        }
    }
    /// The member `key`, if there is one (panics when it is given twice).
    fn find(&self, key: &str) -> Option<&Json> {
        let found: Vec<&Json> = self.members().iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
        assert!(found.len() < 2, "member {key:?} appears {} times", found.len());
        found.first().copied()
    }
    /// The one member `key` (panics when missing or given twice).
    fn get(&self, key: &str) -> &Json {
        let found: Vec<&Json> = self.members().iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
        assert_eq!(found.len(), 1, "member {key:?} appears {} times", found.len());
        found[0]
    }
    fn str(&self) -> &str {
        match self {
            Json::Str(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }
    /// Every object member name that appears more than once, with its path.
    fn duplicates(&self, path: &str, out: &mut Vec<String>) {
        match self {
            Json::Obj(m) => {
                let mut seen = BTreeSet::new();
                for (k, v) in m {
                    if !seen.insert(k.as_str()) {
                        out.push(format!("{path}/{k}"));
                    }
                    v.duplicates(&format!("{path}/{k}"), out);
                }
            }
            Json::Arr(a) => a.iter().for_each(|v| v.duplicates(path, out)),
            _ => {}
        }
    }
}

/// One `F` line of `tshark -G fields`: (abbrev, FT_ type, parent protocol).
struct Field {
    abbrev: String,
    ftype: String,
    protocol: String,
}

fn fields(t: &Tshark) -> Vec<Field> {
    t.stdout(&["-G", "fields"])
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.first() == Some(&"F") && c.len() >= 5).then(|| Field { abbrev: c[2].into(), ftype: c[3].into(), protocol: c[4].into() })
        })
        .collect()
}

/// The type [`layers_of`] gives a key the mapping has more than once.
const SEVERAL: &str = "(several)";

/// `-G elastic-mapping` (with `--elastic-mapping-filter` when `filter` is given), parsed.
fn mapping(t: &Tshark, filter: Option<&str>) -> Json {
    let mut args = vec!["-G", "elastic-mapping"];
    if let Some(f) = filter {
        args.extend(["--elastic-mapping-filter", f]);
    }
    Json::parse(&t.stdout(&args))
}

/// The mapping's protocol objects: protocol → (key → type). Panics on a protocol object given
/// twice, a key given twice, or a field without a type.
fn layers(m: &Json) -> BTreeMap<String, BTreeMap<String, String>> {
    layers_of(m, true)
}

/// [`layers`]; with `strict` false a protocol's objects given more than once are merged and a
/// key given more than once gets the type [`SEVERAL`] (both happen with stock protocols: `tcp`'s
/// object twice; fields registered twice under one name, which `-G fields` lists once, such as
/// `tls.handshake.session_id_length`: the stock check skips those keys).
fn layers_of(m: &Json, strict: bool) -> BTreeMap<String, BTreeMap<String, String>> {
    let layers = m.get("mappings").get("properties").get("layers").get("properties");
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (proto, obj) in layers.members() {
        assert!(!strict || !out.contains_key(proto), "protocol object {proto} twice");
        let keys = out.entry(proto.clone()).or_default();
        for (k, v) in obj.get("properties").members() {
            let again = keys.insert(k.clone(), v.get("type").str().to_string()).is_some();
            assert!(!strict || !again, "{proto}: key {k} twice");
            if again {
                keys.insert(k.clone(), SEVERAL.into());
            }
        }
    }
    out
}

/// Every field of `protocols` (per `-G fields`) with its expected type: key → (protocol,
/// abbrev, FT_, type or None). Panics when two fields give the same key (they would share one
/// mapping entry and one document member).
fn expected(t: &Tshark, protocols: &[&str]) -> BTreeMap<String, (String, String, String, Option<&'static str>)> {
    let mut want = BTreeMap::new();
    for f in fields(t).into_iter().filter(|f| protocols.contains(&f.protocol.as_str())) {
        let key = ek_key(&f.protocol, &f.abbrev);
        let ty = elastic_type(&t.version, &f.ftype);
        if let Some((_, other, _, _)) = want.insert(key.clone(), (f.protocol.clone(), f.abbrev.clone(), f.ftype.clone(), ty)) {
            panic!("{} and {other} both give the key {key}", f.abbrev);
        }
    }
    want
}

/// Checks `got` (the mapping's protocol objects) against the fields of `protocols`: every field
/// with a type is in its protocol's object with that type, no other key is there. Returns how
/// many fields were checked with a type.
fn check(t: &Tshark, protocols: &[&str], got: &BTreeMap<String, BTreeMap<String, String>>) -> usize {
    let want = expected(t, protocols);
    let mut problems = Vec::new();
    let mut typed = 0;
    for (key, (proto, abbrev, ft, ty)) in &want {
        let found = got.get(proto).and_then(|keys| keys.get(key));
        match (ty, found) {
            (Some(w), Some(g)) if *w == g.as_str() => typed += 1,
            (Some(w), Some(g)) => problems.push(format!("{abbrev} ({ft}): {g}, Wireshark's rule gives {w}")),
            (Some(w), None) => problems.push(format!("{abbrev} ({ft}): not in {proto}'s object (should be {w})")),
            (None, Some(g)) => problems.push(format!("{abbrev} ({ft}): {g}, Wireshark's rule leaves it out")),
            (None, None) => {}
        }
    }
    for (proto, keys) in got {
        assert!(protocols.contains(&proto.as_str()), "the mapping has protocol {proto}, not asked for");
        for k in keys.keys() {
            if want.get(k).map(|w| &w.0) != Some(proto) {
                problems.push(format!("{proto}: key {k} is no field of {proto} in -G fields"));
            }
        }
    }
    assert!(problems.is_empty(), "Wireshark {}:\n{}", t.version, problems.join("\n"));
    typed
}

/// The filter the issue gives (apns.tls not in it): the four protocols, nothing missing,
/// nothing else, no duplicate key anywhere in the document.
#[test]
fn mapping_has_every_plugin_field_with_its_type() {
    let t = Tshark::get();
    let filter = "apns,snatmap,facetime,mptcp_annot";
    let m = mapping(t, Some(filter));
    let mut dup = Vec::new();
    m.duplicates("", &mut dup);
    assert!(dup.is_empty(), "duplicate keys: {dup:?}");
    // Wireshark's document: a date "timestamp" next to the layers (all versions).
    assert_eq!(m.get("mappings").get("properties").get("timestamp").get("type").str(), "date");
    let got = layers(&m);
    let protos: Vec<&str> = filter.split(',').collect();
    assert_eq!(got.keys().map(String::as_str).collect::<BTreeSet<_>>(), protos.iter().copied().collect::<BTreeSet<_>>());
    let typed = check(t, &protos, &got);
    // (A floor so that a tshark listing no field at all cannot pass: the plugin has well over
    // a hundred typed fields.)
    assert!(typed > 100, "only {typed} typed fields");
    eprintln!("Wireshark {}: {typed} typed fields of {filter} checked", t.version);
}

/// With `apns.tls` in the filter too: its fields under `apns.tls` (keys `apns_tls_apns_tls_…`).
#[test]
fn mapping_with_apns_tls() {
    let t = Tshark::get();
    let got = layers(&mapping(t, Some(&PROTOCOLS.join(","))));
    assert!(got.contains_key("apns.tls"), "{:?}", got.keys());
    check(t, &PROTOCOLS, &got);
    // The filter names protocols, not prefixes: "apns" alone does not bring apns.tls.
    let apns_only = layers(&mapping(t, Some("apns")));
    assert_eq!(apns_only.keys().collect::<Vec<_>>(), ["apns"]);
}

/// The table [`elastic_type`] is what this Wireshark does: every field of some stock protocols
/// (thousands of fields, most FT_ types) whose key no other field shares gets the table's type,
/// or is left out where the table leaves it out.
#[test]
fn the_type_table_is_what_this_wireshark_does_for_stock_fields() {
    let t = Tshark::get();
    let stock = ["frame", "eth", "ip", "ipv6", "udp", "tcp", "tls", "sip", "sdp", "rtp", "rtcp", "stun", "dns", "http", "mptcp", "json"];
    let got = layers_of(&mapping(t, Some(&stock.join(","))), false);
    let all = fields(t);
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for f in &all {
        *count.entry(ek_key(&f.protocol, &f.abbrev)).or_default() += 1;
    }
    let mut problems = Vec::new();
    let mut types = BTreeSet::new();
    for f in all.iter().filter(|f| stock.contains(&f.protocol.as_str())) {
        let key = ek_key(&f.protocol, &f.abbrev);
        let found = got.get(&f.protocol).and_then(|k| k.get(&key)).map(String::as_str);
        if count[&key] > 1 || found == Some(SEVERAL) {
            continue;
        }
        let want = elastic_type(&t.version, &f.ftype);
        if found != want {
            problems.push(format!("{} ({}): {found:?}, table {want:?}", f.abbrev, f.ftype));
        }
        types.insert(f.ftype.clone());
    }
    assert!(problems.is_empty(), "Wireshark {}: {} of the stock fields differ from the table:\n{}", t.version, problems.len(), problems.join("\n"));
    assert!(types.len() >= 15, "the stock protocols cover only {types:?}");
}

/// The mapping's keys are the ones `-T ek` writes: every member of the plugin's layers in the
/// `-T ek` documents of the samples is the key of one of that protocol's fields (so each typed
/// value lands on its mapping), besides Wireshark's own members: the expert-info object
/// `_ws_expert` and, from 4.6 on, `text` for text-only tree items.
#[test]
fn ek_documents_use_the_mappings_keys() {
    let t = Tshark::get();
    let want = expected(t, &PROTOCOLS);
    let mut seen = BTreeSet::new();
    for (name, bytes) in samples::all() {
        let file = t.capture(name, &bytes);
        let out = t.stdout(&["-r", &file, "-n", "-T", "ek"]);
        for line in out.lines().filter(|l| l.starts_with('{')) {
            let doc = Json::parse(line);
            let Some(layers) = doc.find("layers") else { continue };
            for (proto, obj) in layers.members() {
                if !PROTOCOLS.contains(&proto.as_str()) {
                    continue;
                }
                for (k, _) in obj.members() {
                    if k == "_ws_expert" || k == "text" {
                        continue;
                    }
                    assert_eq!(want.get(k).map(|w| w.0.as_str()), Some(proto.as_str()), "{name}: -T ek writes {proto}: {k}, which is no key of {proto}'s fields");
                    seen.insert(proto.clone());
                }
            }
        }
    }
    // Every protocol but apns.tls (no sample has TLS to a courier) shows up in the samples.
    for p in ["snatmap", "apns", "facetime", "mptcp_annot"] {
        assert!(seen.contains(p), "no -T ek document of the samples has {p}: {seen:?}");
    }
}

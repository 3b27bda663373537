//! Every field the plugin registers, walked once for all five protocols (`tshark -G fields`
//! and `-G values`, one helper each, [`registered`] and [`value_info`]): abbreviations unique
//! and under their protocol's prefix; a description on every field that says more than the
//! name; no unit in a display name, and Wireshark's unit strings on exactly the fields that
//! count in a unit; value names on every integer field that is a code (state, status, type
//! …); frame links with a request/response arrow named "Request in" / "Response in"; and
//! computed fields marked generated in the tree (read from the samples' PDML and -V output).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use support::Tshark;

/// The plugin's protocols (filter names).
const PROTOCOLS: [&str; 5] = ["snatmap", "apns", "apns.tls", "facetime", "mptcp_annot"];

/// One `F` line of `tshark -G fields`.
#[derive(Debug, Clone)]
struct Registered {
    name: String,
    abbrev: String,
    ftype: String,
    protocol: String,
    blurb: String,
    /// A subtree's header field (declared in a `subtrees!` block; FT_NONE like an expert).
    header: bool,
}

impl Registered {
    /// Expert infos are listed as FT_NONE fields; the only other FT_NONE fields are the
    /// subtree headers.
    fn is_expert(&self) -> bool {
        self.ftype == "FT_NONE" && !self.header
    }
}

/// The abbreviations of the subtree headers the dissectors declare.
fn headers() -> BTreeSet<String> {
    appleshark::dissectors::declared_subtrees()
        .iter()
        .flat_map(|(_, t)| t.iter())
        .filter_map(|e| match e {
            appleshark::epan::Ett::Header(s) => Some(s.abbrev.to_string_lossy().to_string()),
            appleshark::epan::Ett::Bare(_) => None,
        })
        .collect()
}

/// Every field (and expert info) the plugin's five protocols register, in registration order.
fn registered(t: &Tshark) -> Vec<Registered> {
    let headers = headers();
    t.stdout(&["-G", "fields"])
        .lines()
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            (c.first() == Some(&"F") && c.len() >= 8 && PROTOCOLS.contains(&c[4])).then(|| Registered {
                name: c[1].to_string(),
                abbrev: c[2].to_string(),
                ftype: c[3].to_string(),
                protocol: c[4].to_string(),
                blurb: c[7].to_string(),
                header: headers.contains(c[2]),
            })
        })
        .collect()
}

#[test]
fn abbreviations_are_unique_and_under_their_protocol() {
    let fields = registered(Tshark::get());
    for p in PROTOCOLS {
        assert!(fields.iter().any(|f| f.protocol == p && !f.is_expert()), "{p} registers no field");
    }
    let mut seen = BTreeSet::new();
    for f in &fields {
        assert!(seen.insert(f.abbrev.as_str()), "{} registered twice", f.abbrev);
        assert!(f.abbrev.starts_with(&format!("{}.", f.protocol)), "{} is not under {}.*", f.abbrev, f.protocol);
        // apns.tls.* belongs to apns.tls, never to apns (the two prefixes nest).
        assert!(!(f.protocol == "apns" && f.abbrev.starts_with("apns.tls.")), "apns registers {}", f.abbrev);
        assert!(!f.name.is_empty(), "{} has no name", f.abbrev);
    }
}

#[test]
fn every_field_has_a_description_that_says_more_than_the_name() {
    let fields = registered(Tshark::get());
    let mut described = 0;
    for f in fields.iter().filter(|f| !f.is_expert()) {
        let (name, blurb) = (f.name.trim().to_lowercase(), f.blurb.trim().to_lowercase());
        assert!(!blurb.is_empty(), "{} ({}): no description", f.abbrev, f.name);
        assert_eq!(f.blurb.trim(), f.blurb, "{}: description with leading or trailing blanks", f.abbrev);
        // Not the name again, nor the name with a word or two around it.
        let words = |s: &str| s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).count();
        assert!(blurb != name && words(&blurb) >= words(&name) + 3, "{}: the description \"{}\" hardly says more than the name", f.abbrev, f.blurb);
        described += 1;
    }
    assert!(described >= 200, "only {described} fields walked");
}

/// `tshark -G values` for the plugin's fields: abbrev → the kinds of line it has (`V`/`V64`
/// value names, `R` ranges, `T` true/false strings, `U` a unit: singular and plural).
#[derive(Default, Debug)]
struct ValueInfo {
    names: usize,
    unit: Option<(String, String)>,
}

fn value_info(t: &Tshark) -> BTreeMap<String, ValueInfo> {
    let mut out: BTreeMap<String, ValueInfo> = BTreeMap::new();
    for l in t.stdout(&["-G", "values"]).lines() {
        let c: Vec<&str> = l.split('\t').collect();
        let Some(abbrev) = c.get(1) else { continue };
        if !PROTOCOLS.iter().any(|p| abbrev.starts_with(&format!("{p}."))) {
            continue;
        }
        let e = out.entry(abbrev.to_string()).or_default();
        match c[0] {
            "V" | "V64" | "R" => e.names += 1,
            "U" if c.len() >= 4 => e.unit = Some((c[2].to_string(), c[3].to_string())),
            _ => {}
        }
    }
    out
}

/// Unit words a display name must not carry (the unit belongs in a unit string).
const UNIT_WORDS: [&str; 20] = [
    "ms", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "us", "µs", "ns", "byte", "bytes",
    "octets", "bits", "packets", "words", "%",
];

#[test]
fn no_display_name_carries_a_unit() {
    let fields = registered(Tshark::get());
    for f in fields.iter().filter(|f| !f.is_expert()) {
        let name = f.name.to_lowercase();
        // "(ms)", "(bytes)" …
        for part in name.split('(').skip(1) {
            let inside = part.split(')').next().unwrap_or("").trim();
            assert!(!UNIT_WORDS.contains(&inside), "{}: unit \"({inside})\" in the display name \"{}\"", f.abbrev, f.name);
        }
        // "… in ms", "… in bytes".
        let words: Vec<&str> = name.split_whitespace().collect();
        if let [.., "in", last] = words.as_slice() {
            assert!(!UNIT_WORDS.contains(last), "{}: unit \"in {last}\" in the display name \"{}\"", f.abbrev, f.name);
        }
    }
}

/// The fields that count in a unit, with the unit (Wireshark's string, as `-G values` prints
/// it: singular, plural). From the protocols: lengths and sizes are in bytes, the APNs
/// Connect timings in milliseconds (apsd, docs/apns.md), the keep-alive interval in minutes,
/// the RTP extension length in 32-bit words (RFC 3550 §5.3.1). Durations are FT_RELATIVE_TIME
/// and need none.
const UNITS: [(&str, &str); 19] = [
    ("apns.length", "bytes"),
    ("apns.item.length", "bytes"),
    ("apns.keepalive_interval", "min"),
    ("apns.legacy.token_length", "bytes"),
    ("apns.legacy.item_size", "bytes"),
    ("apns.legacy.topic_length", "bytes"),
    ("apns.legacy.payload_length", "bytes"),
    ("apns.connect.dns_resolve_time", "ms"),
    ("apns.connect.tls_handshake_time", "ms"),
    ("apns.connect_response.max_message_size", "bytes"),
    ("apns.connect_response.large_message_size", "bytes"),
    ("apns.flush.padding_length", "bytes"),
    ("facetime.rtp.ext.length", "words"),
    ("mptcp_annot.data_len", "bytes"),
    ("mptcp_annot.in_flight", "bytes"),
    ("mptcp_annot.ofo_hole", "bytes"),
    ("mptcp_annot.released_bytes", "bytes"),
    ("mptcp_annot.sf.bytes_to_server", "bytes"),
    ("mptcp_annot.sf.bytes_to_client", "bytes"),
];

#[test]
fn fields_with_a_unit_use_wireshark_unit_strings() {
    let t = Tshark::get();
    let fields = registered(t);
    let info = value_info(t);
    let want: BTreeMap<&str, &str> = UNITS.into_iter().collect();
    for (abbrev, unit) in &want {
        assert!(fields.iter().any(|f| f.abbrev == *abbrev), "{abbrev} is not registered");
        let got = info.get(*abbrev).and_then(|i| i.unit.clone());
        // Stock's strings: `units_byte_bytes` and `units_word_words` have a plural,
        // `units_milliseconds` and `units_minutes` none.
        let expect = match *unit {
            "bytes" => (" byte", " bytes"),
            "words" => (" word", " words"),
            "ms" => ("ms", "(no plural)"),
            "min" => ("min", "(no plural)"),
            u => panic!("unit {u} not in this table"),
        };
        assert_eq!(got, Some((expect.0.to_string(), expect.1.to_string())), "{abbrev}: not Wireshark's {unit} unit string");
    }
    // And no other field has one (a new unit field is added to the table above).
    for (abbrev, i) in &info {
        assert!(i.unit.is_none() || want.contains_key(abbrev.as_str()), "{abbrev} has a unit string the table does not list");
    }
    // The unit shows after the value in the tree ("Length: 186 bytes").
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let file = t.capture("apns-demo.pcap", &std::fs::read(dir.join("apns-demo.pcap")).unwrap());
    let text = t.stdout(&["-n", "-r", &file, "-V", "-Y", "apns.command == 0x07"]);
    let length = t.fields(&file, Some("apns.command == 0x07"), &["apns.length"], &[]);
    let first = length.first().and_then(|r| r.first()).expect("the sample has a Connect").clone();
    assert!(text.contains(&format!("Length: {first} bytes")), "no \"Length: {first} bytes\" in:\n{text}");
}

/// Integer fields that are codes but whose codes have no public names: (abbrev, why). Each
/// must still lack value names (so this list cannot outlive the gap it records).
const CODES_WITHOUT_PUBLIC_NAMES: [(&str, &str); 1] = [(
    "apns.message.push_type",
    "apsd reads Message item 28 as a 2-byte push type; no public source names its values",
)];

/// Words that make an integer field a code whose values need names (in its display name or
/// the last part of its abbreviation).
const CODE_WORDS: [&str; 8] = ["state", "status", "type", "reason", "priority", "kind", "class", "code"];

#[test]
fn every_integer_code_has_value_names() {
    let t = Tshark::get();
    let fields = registered(t);
    let info = value_info(t);
    // What the field is called says it is a code: its display name, or the last part of its
    // abbreviation (the description mentions such words in passing: "the active state is
    // to last" is not a state).
    let is_code = |f: &Registered| {
        let last = f.abbrev.rsplit('.').next().unwrap_or("");
        format!("{} {last}", f.name).to_lowercase().split(|c: char| !c.is_alphanumeric()).any(|w| CODE_WORDS.contains(&w))
    };
    let exempt: BTreeMap<&str, &str> = CODES_WITHOUT_PUBLIC_NAMES.into_iter().collect();
    let mut codes = 0;
    for f in fields.iter().filter(|f| f.ftype.starts_with("FT_UINT") && is_code(f)) {
        let named = info.get(&f.abbrev).is_some_and(|i| i.names > 0);
        match exempt.get(f.abbrev.as_str()) {
            Some(why) => assert!(!named, "{} now has value names: drop it from the list ({why})", f.abbrev),
            None => assert!(named, "{} ({}) is a code without value names: \"{}\"", f.abbrev, f.name, f.blurb),
        }
        codes += 1;
    }
    for abbrev in exempt.keys() {
        assert!(fields.iter().any(|f| f.abbrev == *abbrev && is_code(f)), "{abbrev}: exempt but no longer a code field");
    }
    // The ones the issue named, and MP_TCPRST's stock names.
    for abbrev in ["apns.status", "apns.connect.state", "apns.message.priority", "apns.set_active_state.state"] {
        assert!(info.get(abbrev).is_some_and(|i| i.names >= 2), "{abbrev} has no value names");
    }
    assert!(codes >= 8, "only {codes} code fields walked");
}

#[test]
fn request_and_response_links_are_named_one_way() {
    use appleshark::epan::{FieldType, FrameLink};
    let fields = registered(Tshark::get());
    let mut links = 0;
    for (protocol, table) in appleshark::dissectors::declared_fields() {
        for f in table {
            let FieldType::FrameNum(link) = f.ty else { continue };
            let (name, abbrev) = (f.name.to_str().unwrap(), f.abbrev.to_str().unwrap());
            let r = fields.iter().find(|r| r.abbrev == abbrev).unwrap_or_else(|| panic!("{abbrev} not registered"));
            assert_eq!((r.ftype.as_str(), r.protocol.as_str(), r.name.as_str()), ("FT_FRAMENUM", protocol, name));
            match link {
                FrameLink::Request => assert_eq!(name, "Request in", "{abbrev}: a request arrow"),
                FrameLink::Response => assert_eq!(name, "Response in", "{abbrev}: a response arrow"),
                _ => assert!(!["Request in", "Response in"].contains(&name), "{abbrev}: named {name} without that arrow"),
            }
            links += 1;
        }
    }
    // Every FT_FRAMENUM field registered is one of the declared ones (the walk is complete).
    let framenums = fields.iter().filter(|f| f.ftype == "FT_FRAMENUM").count();
    assert_eq!(links, framenums, "FT_FRAMENUM fields outside the declared tables");
    // No other word for the same link: "Answered in", "Response to", "Answer to".
    for f in fields.iter().filter(|f| f.ftype == "FT_FRAMENUM") {
        let n = f.name.to_lowercase();
        assert!(!n.starts_with("answer") && n != "response to", "{}: named {}", f.abbrev, f.name);
    }
}

/// XML attribute text as tshark writes it in PDML.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&apos;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn attr<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = line.find(&key)? + key.len();
    Some(&line[start..start + line[start..].find('"')?])
}

/// How each of the plugin's fields showed in the samples' trees: abbrev → {generated?}.
/// A PDML field (its label) is matched with the -V line showing the same label, bracketed
/// when generated; labels that show both ways in one capture are skipped.
fn markings(t: &Tshark) -> BTreeMap<String, BTreeSet<bool>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    let mut out: BTreeMap<String, BTreeSet<bool>> = BTreeMap::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()).map(|e| e.path()).collect();
    names.sort();
    for path in names.iter().filter(|p| p.extension().is_some_and(|x| x == "pcap")) {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let file = t.capture(&name, &std::fs::read(path).unwrap());
        let text = t.stdout(&["-n", "-r", &file, "-V"]);
        let lines: BTreeSet<&str> = text.lines().map(str::trim).collect();
        let pdml = t.stdout(&["-n", "-r", &file, "-T", "pdml"]);
        for l in pdml.lines().map(str::trim).filter(|l| l.starts_with("<field ")) {
            let (Some(abbrev), Some(label)) = (attr(l, "name"), attr(l, "showname")) else { continue };
            if attr(l, "hide") == Some("yes") || !PROTOCOLS.iter().any(|p| abbrev.starts_with(&format!("{p}."))) {
                continue;
            }
            let label = unescape(label);
            let generated = lines.contains(format!("[{label}]").as_str());
            let plain = lines.contains(label.as_str());
            if generated != plain {
                out.entry(abbrev.to_string()).or_default().insert(generated);
            }
        }
    }
    out
}

#[test]
fn computed_fields_are_marked_generated() {
    let t = Tshark::get();
    let fields = registered(t);
    let seen = markings(t);
    let (mut links, mut post) = (0, 0);
    for f in fields.iter().filter(|f| !f.is_expert()) {
        let Some(m) = seen.get(&f.abbrev) else { continue };
        // Links to other frames and times between frames are computed, never read.
        if matches!(f.ftype.as_str(), "FT_FRAMENUM" | "FT_RELATIVE_TIME") {
            links += 1;
            assert_eq!(m, &BTreeSet::from([true]), "{} ({}) not always marked generated", f.abbrev, f.ftype);
        }
        // The two post-dissectors read no bytes of their own: all they add is computed.
        if matches!(f.protocol.as_str(), "mptcp_annot" | "apns.tls") {
            post += 1;
            assert_eq!(m, &BTreeSet::from([true]), "{}: a post-dissector's field not marked generated", f.abbrev);
        }
    }
    // Not a vacuous walk: the samples show links, times and post-dissector fields.
    eprintln!("{} fields seen in the samples' trees, {links} links/times, {post} post-dissector fields", seen.len());
    assert!(links >= 10 && post >= 30, "too few fields seen in the samples ({links} links/times, {post} post-dissector)");
    // Each field shows one way throughout (the same field is not sometimes read, sometimes
    // computed), except the topic: read when sent as text, computed when resolved from a hash.
    for (abbrev, m) in &seen {
        if abbrev != "apns.topic" {
            assert_eq!(m.len(), 1, "{abbrev} is shown both generated and not");
        }
    }
}

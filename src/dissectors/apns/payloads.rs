//! Payloads: JSON to Wireshark's JSON dissector, binary plists decoded here (with the
//! iMessage envelope's keys named).

use super::fields::*;
use super::modern::time_from_ns;
use super::JSON;
use crate::core::apns::ids;
use crate::core::bplist;
use crate::core::span::Span;
use crate::epan::*;

pub(super) fn show_payload(pkt: &mut Packet<'_>, tree: &Tree<'_>, span: Span, p: &[u8], madrid: Ids) -> Option<ids::Brief> {
    if bplist::looks_like(p) {
        return show_plist(tree, span, p, madrid);
    } else if matches!(p.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{') | Some(b'[')) {
        pkt.call(&JSON, span);
        // Wireshark's JSON dissector appends "/JSON" to the Protocol column ("APNs/JSON"), which
        // the packet list's default Protocol column (as wide as "Protocol") cuts to "APNs/J…".
        // The payload shows in the tree as JSON; the column stays the protocol's short name.
        pkt.set_protocol_column(c"APNs");
    }
    None
}

fn show_plist(tree: &Tree<'_>, span: Span, p: &[u8], madrid: Ids) -> Option<ids::Brief> {
    match bplist::parse_default(p) {
        Ok(pl) => {
            let title = if madrid.madrid {
                "iMessage envelope (binary property list)"
            } else if madrid.ids {
                "IDS message (binary property list)"
            } else {
                "Binary property list"
            };
            let (_, t) = tree.add_subtree(&ETT_PLIST, span, title);
            render_node(&t, span.offset, &pl.root, None, None, madrid);
            for a in &pl.anomalies {
                t.expert(&EI_PLIST_ANOMALY, a.span.shift(span.offset), Some(&format!("Binary property list: {}", a.value)));
            }
            if madrid.ids {
                let root = ids::from_plist(&pl.root, span.offset, 0, &mut ids::Budget::new());
                return ids::Envelope::read(&root).map(|e| e.brief());
            }
            None
        }
        Err(e) => {
            tree.expert(&EI_PLIST_ERROR, span, Some(&format!("Binary property list cannot be decoded: {e}")));
            None
        }
    }
}

/// The experts of an IDS envelope (with or without a tree), and for a quick relay response
/// the relay server it names, in one generated line.
pub(super) fn envelope_experts(tree: &Tree<'_>, e: &ids::Brief) {
    for a in &e.anomalies {
        tree.expert(&EI_IDS_RELAY, a.span, Some(&a.kind.text()));
    }
    if let (true, Some((addr, port))) = (e.relay_response, e.server) {
        let server = match addr {
            std::net::IpAddr::V6(a) => format!("[{a}]:{port}"),
            a => format!("{a}:{port}"),
        };
        let n = e.allocations;
        let (i, t) = tree.add_subtree(&ETT_IDS_RELAY, Span::new(0, 0), &format!("Quick relay: server {server}, {n} allocation{}", if n == 1 { "" } else { "s" }));
        i.generated();
        t.add_generated(&HF_IDS_RELAY_SERVER, server.as_str());
    }
}

/// A value of the iMessage envelope as the annotation needs it, from either framing's
/// payload (binary property list, or the packed framing's dictionary).
#[derive(Clone, Copy)]
pub(super) enum Scalar<'a> {
    Str(&'a str),
    Int(i128),
    Bytes(&'a [u8]),
    Other,
}

impl<'a> Scalar<'a> {
    fn of_plist(v: &'a bplist::Value<'_>) -> Scalar<'a> {
        if let Some(s) = v.as_str() {
            return Scalar::Str(s);
        }
        if let bplist::Value::Int(i) = v {
            return Scalar::Int(*i);
        }
        v.as_bytes().map_or(Scalar::Other, Scalar::Bytes)
    }
    fn as_u64(self) -> Option<u64> {
        match self {
            Scalar::Int(i) => u64::try_from(i).ok(),
            _ => None,
        }
    }
    fn as_int(self) -> Option<i64> {
        match self {
            Scalar::Int(i) => i64::try_from(i).ok(),
            _ => None,
        }
    }
    fn as_str(self) -> Option<&'a str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
    fn as_bytes(self) -> Option<&'a [u8]> {
        match self {
            Scalar::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// Which annotations a payload gets: the iMessage envelope's (`apns.imessage.*`, topic
/// com.apple.madrid) and the IDS one's (`apns.ids.*`, every IDS topic, madrid included).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Ids {
    pub(super) madrid: bool,
    pub(super) ids: bool,
}

impl Ids {
    /// The annotations of a message on topic `name`.
    pub(super) fn of_topic(name: Option<&str>) -> Ids {
        let madrid = name == Some("com.apple.madrid");
        Ids { madrid, ids: madrid || name.is_some_and(ids::is_ids_topic) }
    }
}

/// What the label of envelope member `k` (in the member `scope`) gets appended: its
/// meaning, and the name of a command, status, encryption or relay request type
/// (`" [command] (Message)"`).
pub(super) fn madrid_annotation(k: &str, scope: Option<&str>, v: Scalar<'_>) -> String {
    let mut out = String::new();
    if let Some(m) = ids::key_meaning(k, scope) {
        out.push_str(&format!(" [{m}]"));
    }
    let name = match (k, v) {
        ("c" | "oC", _) => v.as_u64().and_then(ids::command_name).map(str::to_string),
        ("s", _) => v.as_int().and_then(ids::status_name).map(str::to_string),
        ("E", Scalar::Str(e)) => ids::encryption_name(e).map(str::to_string),
        ("qat", _) => v.as_u64().and_then(|x| ids::RELAY_REQUEST_TYPES.iter().find(|(c, _)| u64::from(*c) == x)).map(|(_, n)| n.to_string_lossy().into_owned()),
        _ => None,
    };
    if let Some(n) = name {
        out.push_str(&format!(" ({n})"));
    }
    out
}

fn uuid(b: &[u8]) -> Option<String> {
    ids::uuid_text(b)
}

fn render_node(tree: &Tree<'_>, base: usize, node: &bplist::Node<'_>, key: Option<(&bplist::Node<'_>, &str)>, scope: Option<&str>, madrid: Ids) {
    use bplist::Value as V;
    let span = node.span.shift(base);
    let mut label = match key {
        Some((_, k)) => format!("{k}: {}", node.value.label()),
        None => node.value.label(),
    };
    if let (true, Some((_, k))) = (madrid.ids, key) {
        label.push_str(&madrid_annotation(k, scope, Scalar::of_plist(&node.value)));
    }
    // The member key the children are in.
    let inner = key.map(|(_, k)| k).or(scope);
    let ett = if key.is_some() { &ETT_PLIST_MEMBER } else { &ETT_PLIST_ELEMENT };
    let (_, t) = tree.add_subtree(ett, span, &label);
    if let Some((kn, k)) = key {
        t.add(&HF_PLIST_KEY, kn.span.shift(base), k);
    }
    match &node.value {
        V::Dict(entries) => {
            for e in entries {
                let k = e.key.value.as_str().map(str::to_string).unwrap_or_else(|| e.key.value.label());
                render_node(&t, base, &e.value, Some((&e.key, &k)), inner, madrid);
            }
        }
        V::Array(items) | V::Set(items) => {
            for n in items {
                render_node(&t, base, n, None, inner, madrid);
            }
        }
        V::Ascii(_) | V::Utf16(_) => {
            t.add(&HF_PLIST_STRING, span, node.value.as_str().unwrap_or_default());
        }
        V::Int(v) => match i64::try_from(*v) {
            Ok(x) => {
                t.add(&HF_PLIST_INTEGER, span, x);
            }
            Err(_) => {}
        },
        V::Real(x) => {
            t.add(&HF_PLIST_REAL, span, *x);
        }
        V::Bool(b) => {
            t.add(&HF_PLIST_BOOL, span, *b);
        }
        V::Date(d) => {
            let unix = bplist::date_to_unix(*d);
            if unix.is_finite() && unix.abs() < 1e12 {
                t.add(&HF_PLIST_DATE, span, time_from_ns((unix * 1e9) as i128));
            }
        }
        V::Data(b) => {
            t.add(&HF_PLIST_DATA, span, *b);
        }
        V::Uid(u) => {
            t.add(&HF_PLIST_UID, span, u64::try_from(*u).unwrap_or(u64::MAX));
        }
        V::Null | V::Fill | V::Error(_) => {}
    }
    if let Some((_, k)) = key {
        if madrid.madrid {
            madrid_field(&t, span, k, Scalar::of_plist(&node.value));
        }
        if madrid.ids {
            ids_field(&t, span, k, scope, Scalar::of_plist(&node.value));
        }
    }
}

/// The `apns.imessage.*` field of envelope member `k`, if it has one.
pub(super) fn madrid_field(t: &Tree<'_>, span: Span, k: &str, v: Scalar<'_>) {
    match k {
        "c" => {
            if let Some(c) = v.as_u64() {
                t.add(&HF_IM_COMMAND, span, u32::try_from(c).unwrap_or(u32::MAX));
            }
        }
        "sP" => {
            if let Some(s) = v.as_str() {
                t.add(&HF_IM_SENDER, span, s);
            }
        }
        "tP" => {
            if let Some(s) = v.as_str() {
                t.add(&HF_IM_TARGET, span, s);
            }
        }
        "U" => {
            if let Some(u) = v.as_bytes().and_then(uuid) {
                t.add(&HF_IM_UUID, span, u.as_str());
            }
        }
        "i" => {
            if let Some(x) = v.as_int() {
                t.add(&HF_IM_ID, span, x);
            }
        }
        "ua" => {
            if let Some(s) = v.as_str() {
                t.add(&HF_IM_UA, span, s);
            }
        }
        "E" => {
            if let Some(s) = v.as_str() {
                t.add(&HF_IM_ENCRYPTION, span, s);
            }
        }
        "v" => {
            if let Some(x) = v.as_int() {
                t.add(&HF_IM_VERSION, span, x);
            }
        }
        _ => {}
    }
}

/// The `apns.ids.*` field of member `k` (in the member `scope`) of an IDS message, if it has one.
pub(super) fn ids_field(t: &Tree<'_>, span: Span, k: &str, scope: Option<&str>, v: Scalar<'_>) {
    let in_qal = scope == Some("qal");
    let u32_of = |v: Scalar<'_>| v.as_u64().and_then(|x| u32::try_from(x).ok());
    match k {
        "c" => {
            if let Some(c) = u32_of(v) {
                t.add(&HF_IDS_COMMAND, span, c);
            }
        }
        "sP" => {
            if let Some(s) = v.as_str() {
                t.add(&HF_IDS_SENDER, span, s);
            }
        }
        "tP" => {
            if let Some(s) = v.as_str() {
                t.add(if in_qal { &HF_IDS_RELAY_PART } else { &HF_IDS_TARGET }, span, s);
            }
        }
        "t" => {
            if let Some(b) = v.as_bytes() {
                t.add(if in_qal { &HF_IDS_RELAY_PTOKEN } else { &HF_IDS_TOKEN }, span, b);
            }
        }
        "sT" => {
            if let Some(b) = v.as_bytes() {
                t.add(&HF_IDS_SESSION_TOKEN, span, b);
            }
        }
        "U" => {
            if let Some(u) = v.as_bytes().and_then(uuid) {
                t.add(&HF_IDS_UUID, span, u.as_str());
            }
        }
        "i" => {
            if let Some(x) = v.as_int() {
                t.add(&HF_IDS_ID, span, x);
            }
        }
        "s" => {
            if let Some(x) = u32_of(v) {
                t.add(&HF_IDS_STATUS, span, x);
            }
        }
        "E" => {
            if let Some(s) = v.as_str() {
                t.add(&HF_IDS_ENCRYPTION, span, s);
            }
        }
        "e" => {
            if let Some(ns) = v.as_int() {
                t.add(&HF_IDS_TIME, span, time_from_ns(i128::from(ns)));
            }
        }
        "qids" => {
            if let Some(u) = v.as_bytes().and_then(uuid) {
                t.add(&HF_IDS_SESSION_ID, span, u.as_str());
            }
        }
        "qr" | "qgmc" | "qat" | "qv" => {
            if let Some(x) = u32_of(v) {
                let hf = match k {
                    "qr" => &HF_IDS_RELAY_REASON,
                    "qgmc" => &HF_IDS_RELAY_MEMBERS,
                    "qat" => &HF_IDS_RELAY_TYPE,
                    _ => &HF_IDS_RELAY_VERSION,
                };
                t.add(hf, span, x);
            }
        }
        "qgid" | "qai" => {
            if let Some(s) = v.as_str() {
                t.add(if k == "qgid" { &HF_IDS_RELAY_GROUP } else { &HF_IDS_RELAY_TOPIC }, span, s);
            }
        }
        "qri" => {
            if let Some(x) = v.as_int() {
                t.add(if in_qal { &HF_IDS_RELAY_PID } else { &HF_IDS_RELAY_OWN }, span, x);
            }
        }
        "qrip" => match v.as_bytes() {
            Some(b) if b.len() == 4 => {
                t.add(&HF_IDS_RELAY_ADDR, span, std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]));
            }
            Some(b) if b.len() == 16 => {
                if let Ok(o) = <[u8; 16]>::try_from(b) {
                    t.add(&HF_IDS_RELAY_ADDR6, span, std::net::Ipv6Addr::from(o));
                }
            }
            _ => {}
        },
        "qrp" => {
            if let Some(p) = v.as_u64().and_then(|x| u16::try_from(x).ok()) {
                t.add(&HF_IDS_RELAY_PORT, span, p);
            }
        }
        "qrst" | "qrsk" | "qrsi" => {
            if let Some(b) = v.as_bytes() {
                let hf = match k {
                    "qrst" => &HF_IDS_RELAY_STOKEN,
                    "qrsk" => &HF_IDS_RELAY_SKEY,
                    _ => &HF_IDS_RELAY_ID,
                };
                t.add(hf, span, b);
            }
        }
        _ => {}
    }
}

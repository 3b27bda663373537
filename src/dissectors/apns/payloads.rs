//! Payloads: JSON to Wireshark's JSON dissector, binary plists decoded here (with the
//! iMessage envelope's keys named).

use super::fields::*;
use super::modern::time_from_ns;
use super::JSON;
use crate::core::bplist;
use crate::core::span::Span;
use crate::epan::*;

pub(super) fn show_payload(pkt: &mut Packet<'_>, tree: &Tree<'_>, span: Span, p: &[u8], madrid: bool) {
    if bplist::looks_like(p) {
        show_plist(tree, span, p, madrid);
    } else if matches!(p.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{') | Some(b'[')) {
        pkt.call(&JSON, span);
        // Wireshark's JSON dissector appends "/JSON" to the Protocol column ("APNs/JSON"), which
        // the packet list's default Protocol column (as wide as "Protocol") cuts to "APNs/J…".
        // The payload shows in the tree as JSON; the column stays the protocol's short name.
        pkt.set_protocol_column(c"APNs");
    }
}

fn show_plist(tree: &Tree<'_>, span: Span, p: &[u8], madrid: bool) {
    match bplist::parse_default(p) {
        Ok(pl) => {
            let title = if madrid { "iMessage envelope (binary property list)" } else { "Binary property list" };
            let (_, t) = tree.add_subtree(&ETT_PLIST, span, title);
            render_node(&t, span.offset, &pl.root, None, madrid);
            for a in &pl.anomalies {
                t.expert(&EI_PLIST_ANOMALY, a.span.shift(span.offset), Some(&format!("Binary property list: {}", a.value)));
            }
        }
        Err(e) => {
            tree.expert(&EI_PLIST_ERROR, span, Some(&format!("Binary property list cannot be decoded: {e}")));
        }
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

/// What the label of envelope member `k` gets appended: its meaning, and for the command
/// `c` the command's name (`" [command] (Message)"`).
pub(super) fn madrid_annotation(k: &str, v: Scalar<'_>) -> String {
    let mut out = String::new();
    if let Some(m) = madrid_key(k) {
        out.push_str(&format!(" [{m}]"));
    }
    if k == "c" {
        if let Some(n) = v.as_u64().and_then(|c| IM_COMMANDS.iter().find(|(v, _)| u64::from(*v) == c)) {
            out.push_str(&format!(" ({})", n.1.to_string_lossy()));
        }
    }
    out
}

/// The meaning of an iMessage envelope key (protocol notes §1).
fn madrid_key(k: &str) -> Option<&'static str> {
    Some(match k {
        "c" => "command",
        "E" => "encryption",
        "ua" => "user agent",
        "v" => "version",
        "i" => "message id",
        "U" => "message UUID",
        "sP" => "sender",
        "tP" => "target",
        "t" => "push token",
        "P" => "encrypted payload",
        "sT" => "session token",
        "D" => "D flag",
        "dtl" => "delivery list",
        "e" => "timestamp",
        "fcn" => "fcn",
        _ => return None,
    })
}

fn uuid(b: &[u8]) -> Option<String> {
    if b.len() != 16 {
        return None;
    }
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    Some(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

fn render_node(tree: &Tree<'_>, base: usize, node: &bplist::Node<'_>, key: Option<(&bplist::Node<'_>, &str)>, madrid: bool) {
    use bplist::Value as V;
    let span = node.span.shift(base);
    let mut label = match key {
        Some((_, k)) => format!("{k}: {}", node.value.label()),
        None => node.value.label(),
    };
    if let (true, Some((_, k))) = (madrid, key) {
        label.push_str(&madrid_annotation(k, Scalar::of_plist(&node.value)));
    }
    let ett = if key.is_some() { &ETT_PLIST_MEMBER } else { &ETT_PLIST_ELEMENT };
    let (_, t) = tree.add_subtree(ett, span, &label);
    if let Some((kn, k)) = key {
        t.add(&HF_PLIST_KEY, kn.span.shift(base), k);
    }
    match &node.value {
        V::Dict(entries) => {
            for e in entries {
                let k = e.key.value.as_str().map(str::to_string).unwrap_or_else(|| e.key.value.label());
                render_node(&t, base, &e.value, Some((&e.key, &k)), madrid);
            }
        }
        V::Array(items) | V::Set(items) => {
            for n in items {
                render_node(&t, base, n, None, madrid);
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
    if madrid {
        if let Some((_, k)) = key {
            madrid_field(&t, span, k, Scalar::of_plist(&node.value));
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

//! Telling the packed framing from the classic one by a connection's first bytes: for
//! streams reached by port or Decode As ([`looks_packed`]) and for the cleartext TCP
//! heuristic ([`heuristic_accepts`], strict: it runs on every unclaimed TCP stream).
//!
//! The classic header's second byte is the top byte of a 32-bit length, 0 for every
//! message under 16 MiB; the packed header's second byte is the body length itself (or
//! 0xFF and a varint), 0 only for an empty body. So a second byte other than 0 is packed.

use super::decode::{decode, AnomalyKind, Attr, Message, Node};
use super::state::{DirCache, Live};
use super::wire;
use crate::core::apns::items::{item_def, Command, Kind};
use crate::core::apns::framing::{PROBE_MAX_INCOMPLETE, PROBE_MAX_PAYLOAD, PROBE_MIN_ITEMS};

/// Decodes `buf` as a connection's first message, with fresh caches.
fn first_message(buf: &[u8]) -> Message<'_> {
    let mut cache = DirCache::new(super::cache::DEFAULT_VALUE_CACHE_SIZE);
    decode(buf, &mut Live { cache: &mut cache, frame: 0, log: Vec::new() })
}

/// Whether a stream whose first message starts with `head` is packed (`None`: more bytes
/// needed to tell). Lenient: a second byte other than 0, a header that is one, and a first
/// attribute that decodes. An empty first message (second byte 0) counts as classic.
pub fn looks_packed(head: &[u8]) -> Option<bool> {
    let (&cmd, &len) = match head {
        [c, l, ..] => (c, l),
        _ => return None,
    };
    if len == 0 || !(0x07..=0x3f).contains(&cmd) {
        return Some(false);
    }
    let h = match wire::header(head) {
        Ok(h) => h,
        Err(wire::HeaderError::NeedMore(_)) => return None,
        Err(wire::HeaderError::BadLength(_)) => return Some(false),
    };
    if head.len() <= h.header_len {
        return None;
    }
    let m = first_message(head);
    Some(m.attrs.first().is_some_and(|a| a.value.is_some()))
}

/// Whether a top-level attribute has the type its item id's kind needs.
fn plausible(m: &Message<'_>, a: &Attr) -> bool {
    let (Some(id), Some(v)) = (m.key_id(&a.key), &a.value) else { return false };
    let len = match v.node {
        Node::Data(loc) | Node::String { loc, .. } => loc.span.len,
        _ => 0,
    };
    let Some(def) = item_def(m.command, id, len) else { return false };
    match (&v.node, def.kind) {
        (Node::Dict(_), Kind::Payload) | (Node::Data(_), Kind::Payload) => true,
        (Node::String { utf8: true, .. }, Kind::Text | Kind::MaybeText | Kind::TopicHashOrText) => true,
        (n @ Node::Int { .. }, k) => super::classic::classic_value(m, k, n).is_some(),
        (n @ Node::Data(_), k) => {
            !matches!(k, Kind::U8 | Kind::U16 | Kind::U32 | Kind::U64 | Kind::UInt | Kind::TimeMs | Kind::TimeNs | Kind::UnixSecs | Kind::Interface | Kind::Text)
                && super::classic::classic_value(m, k, n).is_some()
        }
        _ => false,
    }
}

/// The first attribute read from its tag alone, before anything is decoded (the heuristic's
/// cheap test, which rejects almost every unclaimed stream): in a connection's first message
/// both caches are empty, so a key or value from a cache is a cache miss; and the key must be
/// one byte (inline, or new with a one-byte length) naming an item of the command. Every
/// stream it rejects the full test below rejects too (a necessary condition of it).
fn first_key_plausible(buf: &[u8], h: &wire::Header, command: Command) -> bool {
    let Some(&tag) = buf.get(h.header_len) else { return false };
    if tag & (wire::TAG_VALUE_FROM_CACHE | wire::TAG_KEY_FROM_CACHE) != 0 {
        return false;
    }
    let id = if tag & wire::TAG_KEY_NEW != 0 {
        // tagged(4) + 1 bytes of key: one byte only when the low four bits are 0.
        if tag & wire::KEY_INLINE_MASK != 0 {
            return false;
        }
        match buf.get(h.header_len + 1) {
            Some(&id) => id,
            None => return false,
        }
    } else {
        tag & wire::KEY_INLINE_MASK
    };
    item_def(command, id, 0).is_some()
}

/// The cleartext heuristic's decision on the first bytes of an unclaimed TCP stream: a
/// known command; a complete first message (body at most [`PROBE_MAX_PAYLOAD`]) that
/// decodes with no anomaly at all, or the start of a Connect or Message (body at most
/// [`PROBE_MAX_INCOMPLETE`]) cut only by the end of `buf`; at least [`PROBE_MIN_ITEMS`]
/// whole attributes, every one with a one-byte key that is an item id of the command and a
/// value of the type that item has. Allocates only what the decoder does for the bytes
/// present.
pub fn heuristic_accepts(buf: &[u8]) -> bool {
    accepts(buf, true)
}

/// [`heuristic_accepts`], with or without the cheap first test (without: for the test that
/// shows it rejects nothing the rest accepts).
pub(super) fn accepts(buf: &[u8], first_key_test: bool) -> bool {
    let Ok(h) = wire::header(buf) else { return false };
    let command = Command::from_u8(h.command);
    if !command.is_known() || h.length < 4 || h.length > u64::from(PROBE_MAX_PAYLOAD) {
        return false;
    }
    let complete = (buf.len() - h.header_len) as u64 >= h.length;
    if !complete && (h.length > u64::from(PROBE_MAX_INCOMPLETE) || !matches!(command, Command::Connect | Command::Message)) {
        return false;
    }
    if first_key_test && !first_key_plausible(buf, &h, command) {
        return false;
    }
    let m = first_message(buf);
    let cut_only = m.anomalies.iter().all(|a| matches!(a.kind, AnomalyKind::Truncated { .. } | AnomalyKind::PastEnd { .. }));
    if complete && !m.anomalies.is_empty() || !complete && !cut_only {
        return false;
    }
    // Attributes decoded whole (a cut one at the end has no value, or ends at the cut).
    let whole: Vec<&Attr> = m.attrs.iter().filter(|a| a.value.is_some() && (complete || a.loc.span.end() < buf.len())).collect();
    if complete && whole.len() != m.attrs.len() {
        return false;
    }
    whole.len() >= PROBE_MIN_ITEMS && whole.iter().all(|a| plausible(&m, a))
}

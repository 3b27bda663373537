//! A packed message seen as the classic framing's message: the top-level attributes whose
//! key is one byte become items with that id and a typed value of the item's kind, so that
//! what does not depend on the framing (message ↔ ack links, the device summary, the
//! statistics) is shared with the classic framing (`core::apns::session`, the `apns` tap).

use super::decode::{Attr, Message, Node};
use crate::core::apns::items::{decode as decode_value, item_def, Interface, Kind, Value};
use crate::core::apns::message::{Item as ClassicItem, Message as ClassicMessage};

/// The classic view of `m` (no anomalies: the packed ones are reported by the packed
/// decoder). Attributes whose key is not one byte, or whose value is missing, are left out.
pub fn classic_view<'m>(m: &'m Message<'_>) -> ClassicMessage<'m> {
    let items = m.attrs.iter().filter_map(|a| classic_item(m, a)).collect();
    ClassicMessage {
        command: m.command,
        length: u32::try_from(m.length).unwrap_or(u32::MAX),
        items,
        anomalies: Default::default(),
        consumed: m.consumed,
    }
}

/// The typed value a packed value has as an item of `kind` (`None`: it has no such value:
/// wrong type, or out of range), and the value's bytes.
pub fn classic_value<'m>(m: &'m Message<'_>, kind: Kind, node: &Node) -> Option<Value<'m>> {
    Some(match *node {
        Node::Data(loc) => {
            let (v, err) = decode_value(kind, m.bytes(loc));
            if err.is_some() {
                return None;
            }
            v
        }
        Node::String { loc, utf8: true } => match kind {
            Kind::Text | Kind::MaybeText | Kind::TopicHashOrText => Value::Text(std::str::from_utf8(m.bytes(loc)).ok()?),
            _ => return None,
        },
        ref n @ Node::Int { .. } => {
            let x = n.as_u64()?;
            match kind {
                Kind::U8 => Value::U8(u8::try_from(x).ok()?),
                Kind::U16 => Value::U16(u16::try_from(x).ok()?),
                Kind::U32 => Value::U32(u32::try_from(x).ok()?),
                Kind::U64 | Kind::UInt => Value::U64(x),
                Kind::TimeMs => Value::TimeMs(x),
                Kind::TimeNs => Value::TimeNs(x),
                Kind::UnixSecs => Value::UnixSecs(u32::try_from(x).ok()?),
                Kind::Interface => Value::Interface(Interface::from_code(u8::try_from(x).ok()?)),
                _ => return None,
            }
        }
        _ => return None,
    })
}

fn classic_item<'m>(m: &'m Message<'_>, a: &Attr) -> Option<ClassicItem<'m>> {
    let id = m.key_id(&a.key)?;
    let v = a.value.as_ref()?;
    let raw = m.bytes(v.loc);
    let len_hint = match v.node {
        Node::Data(loc) | Node::String { loc, .. } => loc.span.len,
        _ => raw.len(),
    };
    let def = item_def(m.command, id, len_hint);
    let value = match (def, &v.node) {
        (Some(d), Node::Dict(_)) if d.kind == Kind::Payload => Value::Payload(raw),
        (Some(d), n) => classic_value(m, d.kind, n).unwrap_or(Value::Bytes(raw)),
        (None, _) => Value::Bytes(raw),
    };
    Some(ClassicItem {
        id,
        length: u16::try_from(raw.len()).unwrap_or(u16::MAX),
        span: a.at,
        value_span: v.at,
        raw,
        def,
        value,
        truncated: false,
    })
}

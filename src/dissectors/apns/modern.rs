//! iOS 5+ messages (TLV items): the header, each item, the links between messages and the
//! device as the connection described it.

use super::fields::*;
use super::channels::{self as ch, Place};
use super::payloads::{envelope_experts, show_payload, Ids};
use super::{direction, info, stats, topic_name, Conv, PREF_MAX, PROTO};
use crate::core::apns::ids::Brief;
use crate::core::apns::items::{nonce_at, sub, unknown_note, Command, Field as CoreField, Kind, Status};
use crate::core::apns::message::{at, AnomalyKind, Item as CoreItem};
use crate::core::apns::{self as core_apns, framing, Pos, Session, Value};
use crate::core::span::Span;
use crate::epan::*;

pub(super) fn time_from_ns(ns: i128) -> Time {
    Time::from_nanos(ns)
}

pub(super) fn show_modern(pkt: &mut Packet<'_>, idx: u32) {
    let bytes = pkt.bytes();
    pkt.set_protocol_column(c"APNs");
    let m = match core_apns::parse_message(bytes) {
        Ok(m) => m,
        Err(_) => {
            let root = pkt.tree().add_protocol(&PROTO, Span::new(0, bytes.len()));
            root.expert(&EI_NO_HEADER, None);
            info(pkt, idx, "APNs fragment (too short for a header)");
            return;
        }
    };
    let pos = Pos::new(pkt.frame(), u16::try_from(idx).unwrap_or(u16::MAX));
    let conv_cell = pkt.conversation::<Conv>(&PROTO);
    let dir = {
        let mut conv = conv_cell.borrow_mut();
        let dir = direction(pkt, &mut conv, m.command.direction());
        if !pkt.visited() {
            let t = pkt.time().as_nanos();
            conv.session.feed(pos, i64::try_from(t).unwrap_or(i64::MAX), dir, &m);
        }
        dir
    };
    let conv = conv_cell.borrow();

    let root = pkt.tree().add_protocol(&PROTO, Span::new(0, m.consumed));
    let name = command_text(m.command);
    root.append_text(&format!(", {name}"));
    let tree = root.subtree(&ETT);
    let cmd_item = tree.add(&HF_COMMAND, at::COMMAND, m.command.code());
    let len_item = tree.add(&HF_LENGTH, at::LENGTH, m.length);
    tree.add_generated(&HF_DIRECTION, dir.code());
    if m.length > PREF_MAX.get() {
        len_item.expert(
            &EI_TOO_LARGE,
            Some(&format!("Length {} exceeds the maximum message size ({} bytes, preference apns.max_message_size)", m.length, PREF_MAX.get())),
        );
    } else if usize::try_from(m.length).map_or(true, |l| l > framing::MAX_PDU_LEN - framing::HEADER_LEN) {
        // The preference allows it, Wireshark's 32-bit PDU lengths do not.
        len_item.expert(
            &EI_TOO_LARGE,
            Some(&format!("Length {} exceeds the largest message that can be reassembled ({} bytes)", m.length, framing::MAX_PDU_LEN - framing::HEADER_LEN)),
        );
    }

    let madrid = Ids::of_topic(m.topic_hash().and_then(|h| topic_name(h)).as_deref());
    let mut topics_named = Vec::new();
    let mut brief = None;
    for item in &m.items {
        if let Some(n) = show_item(pkt, &tree, m.command, item, madrid, &mut brief) {
            topics_named.push(n);
        }
    }
    if let Some(b) = &brief {
        envelope_experts(&tree, b);
    }
    // Bytes missing because the capture's snap length cut the message are not the message's
    // fault: said as stock says it, once, instead of truncation anomalies.
    let cut = pkt.is_cut();
    for a in &m.anomalies {
        let Some(ei) = anomaly_expert(&a.kind) else { continue };
        let text = match a.kind {
            AnomalyKind::UnknownCommand(c) => {
                cmd_item.expert(ei, Some(&format!("Unknown command 0x{c:02x}")));
                if let Some(note) = unknown_note(c) {
                    cmd_item.append_text(format_args!(" [{note}]"));
                }
                continue;
            }
            AnomalyKind::UnknownItem { .. } => continue, // reported on the item itself
            AnomalyKind::Truncated { .. } | AnomalyKind::ItemOverrun { .. } if cut => continue,
            AnomalyKind::Truncated { declared, available } => {
                format!("Message truncated: length says {declared} bytes, {available} present")
            }
            AnomalyKind::ItemOverrun { id, declared, available } => {
                format!("Item {id} says {declared} bytes, only {available} left in the message")
            }
            AnomalyKind::TrailingBytes { len } => format!("{len} trailing byte(s) after the last item"),
            AnomalyKind::ItemBadLength { id, expected, got } => {
                if expected == 0 {
                    format!("Item {id} is {got} bytes long; 1, 2, 4 or 8 expected")
                } else {
                    format!("Item {id} is {got} bytes long; {expected} expected")
                }
            }
            AnomalyKind::ItemNotUtf8 { id } => format!("Item {id} is not valid UTF-8"),
            AnomalyKind::TooManyItems { dropped } => format!("{dropped} further items not shown"),
        };
        tree.expert(ei, a.span, Some(&text));
    }

    show_links(&tree, &conv.session, pos);
    drop(conv);
    let mut text = info_text(name, &m, topics_named);
    if let Some(t) = brief.as_ref().and_then(|b| b.text.as_ref()) {
        text.push_str(&format!(": {t}"));
    }
    info(pkt, idx, &text);
    if cut {
        pkt.mark_cut();
    }
    let ack_ns = pkt.conversation::<Conv>(&PROTO).borrow().session.link(pos).and_then(|l| l.ack_time_ns);
    stats::tap(pkt, &m, dir, ack_ns, brief.as_ref());
}

/// A command's name as the tree and the Info column give it (the unknown pub/sub commands
/// 0x1E and 0x20 said as such).
pub(super) fn command_text(c: Command) -> String {
    if c.is_known() {
        c.name().to_string()
    } else if unknown_note(c.code()).is_some() {
        format!("Unknown pub/sub command 0x{:02x}", c.code())
    } else {
        format!("Unknown command 0x{:02x}", c.code())
    }
}

/// The device as this connection had described it by `pos` (in every pass the same: not
/// what it said only later).
/// Links to the answer / the request, the note that a state cap was hit, and the device as
/// this connection had described it by `pos` (both framings).
pub(super) fn show_links(tree: &Tree<'_>, session: &Session, pos: Pos) {
    if let Some(l) = session.link(pos) {
        if let Some(f) = l.ack_in {
            tree.add_generated(&HF_ACK_IN, f);
        }
        if let Some(f) = l.ack_to {
            tree.add_generated(&HF_ACK_TO, f);
        }
        if let Some(ns) = l.ack_time_ns {
            tree.add_generated(&HF_ACK_TIME, time_from_ns(i128::from(ns)));
        }
    }
    let caps = session.caps;
    if caps.links || caps.pending || caps.queue || caps.topics {
        tree.expert(&EI_STATE_CAP, Span::new(0, 0), None);
    }
    show_session(tree, session, pos);
}

/// The Info column text of a message (both framings: the packed one through its classic view):
/// the command's name, then its id, topics and status.
pub(super) fn info_text(name: String, m: &core_apns::message::Message<'_>, topics_named: Vec<String>) -> String {
    let mut text = name;
    let mut details = Vec::new();
    if let Some(id) = m.message_id() {
        details.push(format!("id {id}"));
    }
    match m.command {
        Command::FilterTopics => {
            let n = m.items.iter().filter(|i| matches!(i.value, Value::TopicHash(_))).count();
            details.push(format!("{n} topic{}", if n == 1 { "" } else { "s" }));
        }
        _ => details.extend(topics_named.into_iter().take(2)),
    }
    if let Some(s) = m.items.iter().find(|i| i.def.and_then(|d| d.field) == Some(CoreField::Status)) {
        if let Value::U8(x) = s.value {
            details.push(format!("status {x}"));
        }
    }
    if !details.is_empty() {
        text.push_str(&format!(" ({})", details.join(", ")));
    }
    text
}

pub(super) fn show_session(tree: &Tree<'_>, s: &Session, pos: Pos) {
    let Some(d) = s.device_at(pos) else { return };
    let (si, st) = tree.add_subtree(&ETT_SESSION, Span::new(0, 0), "Device (from this connection)");
    si.generated();
    if let Some(t) = &d.token {
        st.add_generated(&HF_S_TOKEN, &t[..]);
    }
    if let Some(v) = &d.os_version {
        st.add_generated(&HF_S_OS_VERSION, v.as_str());
    }
    if let Some(v) = &d.os_build {
        st.add_generated(&HF_S_OS_BUILD, v.as_str());
    }
    if let Some(v) = &d.hardware {
        st.add_generated(&HF_S_HARDWARE, v.as_str());
    }
    if let Some(v) = &d.carrier {
        st.add_generated(&HF_S_CARRIER, v.as_str());
    }
}

/// Shows one item; returns the topic name it resolved, if any.
fn show_item(pkt: &mut Packet<'_>, tree: &Tree<'_>, cmd: Command, item: &CoreItem<'_>, madrid: Ids, brief: &mut Option<Brief>) -> Option<String> {
    let label = item.label();
    let title = format!("{label} (item {}), {} byte{}", item.id, item.length, if item.length == 1 { "" } else { "s" });
    let (it_item, it) = tree.add_subtree(&ETT_ITEM, item.span, &title);
    it.add(&HF_ITEM_ID, Span::new(item.span.offset, 1), item.id);
    it.add(&HF_ITEM_LENGTH, Span::new(item.span.offset + 1, 2), item.length);
    if item.def.is_none() && cmd.is_known() {
        it_item.expert(&EI_UNKNOWN_ITEM, Some(&format!("Unknown item id {} for command {}", item.id, cmd.name())));
    }
    let vs = item.value_span;
    let mut topic = None;
    let common = item.def.and_then(|d| d.field);
    let summary: Option<String> = match (common, item.value) {
        (_, Value::TopicHash(h)) => {
            it.add(&HF_TOPIC_HASH, vs, &h[..]);
            match topic_name(h) {
                Some(n) => {
                    it.add(&HF_TOPIC, vs, n.as_str()).generated();
                    topic = Some(n.clone());
                    Some(n)
                }
                None => Some(hex(&h[..4]) + "…"),
            }
        }
        (Some(CoreField::Token), Value::Token(t)) => {
            it.add(&HF_TOKEN, vs, t);
            Some(hex(&t[..t.len().min(4)]) + "…")
        }
        (Some(CoreField::Payload), Value::Payload(p)) => {
            it.add(&HF_PAYLOAD, vs, p);
            *brief = show_payload(pkt, &it, vs, p, madrid);
            None
        }
        (Some(CoreField::MessageId), Value::U32(x)) => {
            it.add(&HF_MESSAGE_ID, vs, x);
            Some(x.to_string())
        }
        (Some(CoreField::Status), Value::U8(x)) => {
            it.add(&HF_STATUS, vs, x);
            Some(match Status::from_code(x) {
                Status::Unknown(_) => x.to_string(),
                s => format!("{} ({x})", s.name()),
            })
        }
        (Some(CoreField::Timestamp), v @ (Value::TimeMs(_) | Value::TimeNs(_))) => {
            it.add(&HF_TIMESTAMP, vs, value_time(&v)?);
            None
        }
        (Some(CoreField::Expiry), v @ Value::UnixSecs(_)) => {
            it.add(&HF_EXPIRY, vs, value_time(&v)?);
            None
        }
        (Some(CoreField::Nonce), Value::Nonce { version, time_ms, random }) => {
            let n = it.add(&HF_NONCE, vs, item.raw);
            let nt = n.subtree(&ETT_NONCE);
            nt.add(&HF_NONCE_VERSION, sub(vs, nonce_at::VERSION), version);
            nt.add(&HF_NONCE_TIME, sub(vs, nonce_at::TIME_MS), time_from_ns(i128::from(time_ms) * 1_000_000));
            nt.add(&HF_NONCE_RANDOM, sub(vs, nonce_at::RANDOM), &random[..]);
            None
        }
        (Some(f @ (CoreField::OsVersion | CoreField::OsBuild | CoreField::Hardware | CoreField::Carrier)), Value::Text(s)) => {
            let hf = match f {
                CoreField::OsVersion => &HF_OS_VERSION,
                CoreField::OsBuild => &HF_OS_BUILD,
                CoreField::Hardware => &HF_HARDWARE,
                _ => &HF_CARRIER,
            };
            it.add(hf, vs, s);
            Some(format!("\"{s}\""))
        }
        (Some(CoreField::Interface), Value::Interface(i)) => {
            it.add(&HF_INTERFACE, vs, i.code());
            Some(i.name().to_string())
        }
        (Some(CoreField::KeepaliveInterval), v) => match v.as_uint() {
            Some(x) => {
                it.add(&HF_KEEPALIVE_INTERVAL, vs, u32::try_from(x).unwrap_or(u32::MAX));
                Some(format!("{x} min"))
            }
            None => {
                it.add(&HF_ITEM_VALUE, vs, item.raw);
                None
            }
        },
        (None, Value::Text(s)) if item.def.is_some_and(|d| d.kind == Kind::TopicHashOrText) => {
            it.add(&HF_TOPIC, vs, s);
            topic = Some(s.to_string());
            Some(s.to_string())
        }
        (None, v) if item.def.is_some() && !item.truncated => {
            let s = show_item_field(&it, cmd, item, v);
            match (item.def.map(|d| d.kind), v) {
                (Some(k @ (Kind::ChannelList | Kind::Channel)), Value::Bytes(b)) => ch::show(&it, k, b, Place::At(vs.offset)).or(s),
                _ => s,
            }
        }
        _ => {
            it.add(&HF_ITEM_VALUE, vs, item.raw);
            None
        }
    };
    if let Some(s) = summary {
        it_item.append_text(&format!(": {s}"));
    }
    topic
}

/// An item with a per-command field (`apns.connect.state` …).
pub(super) fn show_item_field(it: &Tree<'_>, cmd: Command, item: &CoreItem<'_>, v: Value<'_>) -> Option<String> {
    let vs = item.value_span;
    let Some(hf) = item_field(cmd, item.id) else {
        it.add(&HF_ITEM_VALUE, vs, item.raw);
        return None;
    };
    let number = |x: u64| item.def.map_or_else(|| x.to_string(), |d| d.number_text(x));
    match (hf, v) {
        (ItemHf::U8(hf), Value::U8(x)) => {
            it.add(hf, vs, x);
            Some(number(x.into()))
        }
        (ItemHf::U16(hf), Value::U16(x)) => {
            it.add(hf, vs, x);
            Some(number(x.into()))
        }
        (ItemHf::U32(hf), Value::U32(x)) => {
            it.add(hf, vs, x);
            Some(format!("0x{x:08x}"))
        }
        (ItemHf::U64(hf), ref v) if v.as_uint().is_some() => {
            let x = v.as_uint()?;
            it.add(hf, vs, x);
            Some(number(x))
        }
        (ItemHf::Time(hf), ref v) if value_time(v).is_some() => {
            it.add(hf, vs, value_time(v)?);
            None
        }
        (ItemHf::Text(hf), Value::Text(s)) => {
            it.add(hf, vs, s);
            Some(format!("\"{s}\""))
        }
        (ItemHf::Bytes(hf), Value::Signature { scheme, body }) => {
            it.add(&HF_SIG_SCHEME, Span::new(vs.offset, 2), u16::from_be_bytes(scheme));
            it.add(hf, vs, item.raw);
            Some(format!("{} bytes", body.len()))
        }
        (ItemHf::Bytes(hf), _) => {
            it.add(hf, vs, item.raw);
            None
        }
        _ => {
            it.add(&HF_ITEM_VALUE, vs, item.raw);
            None
        }
    }
}


pub(super) fn value_time(v: &Value<'_>) -> Option<Time> {
    Some(match *v {
        Value::TimeMs(ms) => time_from_ns(i128::from(ms) * 1_000_000),
        Value::TimeNs(ns) => time_from_ns(i128::from(ns)),
        Value::UnixSecs(s) => Time { secs: i64::from(s), nanos: 0 },
        _ => return None,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

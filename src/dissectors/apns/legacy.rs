//! iOS 4 messages (commands 0x00–0x06): their bodies, and keep-alive ↔ ack links.

use super::fields::*;
use super::payloads::show_payload;
use super::{direction, info, topic_name, Conv, PREF_MAX, PROTO};
use crate::core::apns::items;
use crate::core::apns::legacy::{self, LegacyBody, LegacyCommand, LegacyMessage};
use crate::core::apns::PduLen;
use crate::core::span::Span;
use crate::epan::*;

pub(super) fn show_legacy(pkt: &mut Packet<'_>, idx: u32) {
    let bytes = pkt.bytes();
    pkt.set_protocol_column(c"APNs");
    let max = PREF_MAX.get();
    let m = match legacy::parse(bytes, max) {
        Ok(m) => m,
        Err(e) => {
            let root = pkt.tree().add_protocol(&PROTO, Span::new(0, bytes.len()));
            root.append_text(", iOS 4 framing");
            let t = root.subtree(&ETT);
            if let Some(&c) = bytes.first() {
                t.add(&HF_COMMAND, Span::new(0, 1), c);
            }
            let text = match e {
                PduLen::TooLarge(n) => {
                    t.expert(&EI_TOO_LARGE, Span::new(0, bytes.len()), Some(&format!("Declared length {n} exceeds the maximum message size ({max} bytes)")));
                    "iOS 4 message too large"
                }
                PduLen::Unframeable(c) => {
                    t.expert(&EI_UNFRAMEABLE, Span::new(0, 1), Some(&format!("Command 0x{c:02x} has no known iOS 4 layout; the stream cannot be framed further")));
                    "iOS 4 unknown command"
                }
                _ => {
                    t.expert(&EI_TRUNCATED, Span::new(0, bytes.len()), None);
                    "iOS 4 message truncated"
                }
            };
            info(pkt, idx, text);
            return;
        }
    };
    // Keep-alive ↔ ack, in order (first pass).
    let conv_cell = pkt.conversation::<Conv>(&PROTO);
    {
        let mut conv = conv_cell.borrow_mut();
        let _ = direction(pkt, &mut conv, match m.command {
            LegacyCommand::DeviceHello | LegacyCommand::AppIds | LegacyCommand::KeepAlive | LegacyCommand::Confirmation => items::Direction::ToServer,
            _ => items::Direction::ToDevice,
        });
        if !pkt.visited() {
            let (f, now) = (pkt.frame(), pkt.time());
            match m.command {
                LegacyCommand::KeepAlive if conv.legacy_ka.len() < 256 => conv.legacy_ka.push_back((f, now)),
                LegacyCommand::KeepAliveAck => {
                    if let Some((rf, rt)) = conv.legacy_ka.pop_front() {
                        if conv.legacy_links.len() < (1 << 16) {
                            conv.legacy_links.insert(rf, (Some(f), None, None));
                            conv.legacy_links.insert(f, (None, Some(rf), Some(now.since(rt))));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let root = pkt.tree().add_protocol(&PROTO, Span::new(0, m.len));
    root.append_text(&format!(", {} (iOS 4)", m.command.name()));
    let t = root.subtree(&ETT);
    t.add(&HF_COMMAND, Span::new(0, 1), m.command.code());
    t.add_generated(&HF_FRAMING, 1u8);
    let text = show_legacy_body(pkt, &t, &m);
    for a in &m.anomalies {
        let what = match a.kind {
            legacy::LegacyAnomalyKind::UnusualSize { expected, got } => format!("Unusual size {got} ({expected} always seen)"),
            legacy::LegacyAnomalyKind::NonZeroReserved => "Bytes always zero are not".to_string(),
            legacy::LegacyAnomalyKind::TooManyIds { dropped } => format!("{dropped} further ids not shown"),
            legacy::LegacyAnomalyKind::OddKeepAliveText => "Keep-alive text is not five space-separated fields".to_string(),
        };
        t.expert(&EI_LEGACY, a.span, Some(&what));
    }
    if let Some(&(ack_in, ack_to, time)) = conv_cell.borrow().legacy_links.get(&pkt.frame()) {
        if let Some(f) = ack_in {
            t.add_generated(&HF_ACK_IN, f);
        }
        if let Some(f) = ack_to {
            t.add_generated(&HF_ACK_TO, f);
        }
        if let Some(x) = time {
            t.add_generated(&HF_ACK_TIME, x);
        }
    }
    info(pkt, idx, &text);
}

fn show_topic(t: &Tree<'_>, span: Span, id: &[u8]) -> Option<String> {
    t.add(&HF_TOPIC_HASH, span, id);
    let n = topic_name(id)?;
    t.add(&HF_TOPIC, span, n.as_str()).generated();
    Some(n)
}

fn show_legacy_body(pkt: &mut Packet<'_>, t: &Tree<'_>, m: &LegacyMessage<'_>) -> String {
    let name = format!("{} (iOS 4)", m.command.name());
    match &m.body {
        LegacyBody::DeviceHello { length, data } => {
            t.add(&HF_LENGTH, length.span, length.value);
            t.add(&HF_LEGACY_HELLO, data.span, data.value);
            name
        }
        LegacyBody::ServerHello { reserved, token_len, token } => {
            t.add(&HF_LEGACY_RESERVED, reserved.span, reserved.value);
            t.add(&HF_LEGACY_TOKEN_LEN, token_len.span, token_len.value);
            if let Some(tok) = token {
                t.add(&HF_TOKEN, tok.span, tok.value);
            }
            name
        }
        LegacyBody::AppIds { lists } => {
            let mut n = 0;
            for (i, l) in lists.iter().enumerate() {
                let (_, lt) = t.add_subtree(&ETT_LEGACY, Span::new(l.count.span.offset, 8 + l.ids.iter().map(|x| x.span.len).sum::<usize>()), &format!("List {} ({} ids)", i + 1, l.count.value));
                lt.add(&HF_LEGACY_COUNT, l.count.span, l.count.value);
                lt.add(&HF_LEGACY_ITEM_SIZE, l.item_size.span, l.item_size.value);
                for id in &l.ids {
                    show_topic(&lt, id.span, id.value);
                    n += 1;
                }
            }
            format!("{name} ({n} topics)")
        }
        LegacyBody::Notification { topic_len, topic, payload_len, payload } => {
            t.add(&HF_LEGACY_TOPIC_LEN, topic_len.span, topic_len.value);
            let tn = show_topic(t, topic.span, topic.value);
            t.add(&HF_LEGACY_PAYLOAD_LEN, payload_len.span, payload_len.value);
            t.add(&HF_PAYLOAD, payload.span, payload.value);
            show_payload(pkt, t, payload.span, payload.value, super::payloads::Ids::default());
            match tn {
                Some(n) => format!("{name} ({n})"),
                None => name,
            }
        }
        LegacyBody::Confirmation { data } => {
            t.add(&HF_LEGACY_CONFIRMATION, data.span, data.value);
            name
        }
        LegacyBody::KeepAlive { length, text, fields } => {
            t.add(&HF_LENGTH, length.span, length.value);
            let s = String::from_utf8_lossy(text.value);
            t.add(&HF_LEGACY_KA_TEXT, text.span, s.as_ref());
            if let Some(f) = fields {
                // The fields are words of the text: place each at its offset.
                let mut off = text.span.offset;
                for (hf, w) in [(&HF_CARRIER, f.carrier), (&HF_OS_VERSION, f.os_version), (&HF_OS_BUILD, f.os_build), (&HF_HARDWARE, f.hardware)] {
                    t.add(hf, Span::new(off, w.len()), w);
                    off += w.len() + 1;
                }
                if let Ok(x) = f.interval.parse::<u32>() {
                    t.add(&HF_KEEPALIVE_INTERVAL, Span::new(off, f.interval.len()), x);
                }
            }
            format!("{name} (\"{s}\")")
        }
        LegacyBody::KeepAliveAck => name,
    }
}

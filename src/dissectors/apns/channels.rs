//! The StatusKit channel protobufs (0x1D item 2, 0x0A item 29) in the tree, from
//! `core::apns::channels`, for both framings.

use super::fields::*;
use super::modern::time_from_ns;
use crate::core::apns::channels::{self, AnomalyKind, At, Channel};
use crate::core::apns::items::Kind;
use crate::core::apns::protobuf::{self, Field};
use crate::core::span::Span;
use crate::epan::*;

/// Where the protobuf's bytes are: in the packet at an offset, or elsewhere (a packed value
/// cache entry), shown over the bytes that referred to them.
#[derive(Clone, Copy)]
pub(super) enum Place {
    At(usize),
    Generated(Span),
}

impl Place {
    fn span(self, rel: Span) -> Span {
        match self {
            Place::At(o) => rel.shift(o),
            Place::Generated(s) => s,
        }
    }
    fn put<'p, K: ?Sized, V: FieldValue<K>>(self, t: &Tree<'p>, hf: &Hf<K>, rel: Span, v: V) -> crate::epan::Item<'p> {
        let it = t.add(hf, self.span(rel), v);
        match self {
            Place::At(_) => it,
            Place::Generated(_) => it.generated(),
        }
    }
}

/// Shows the protobuf of an item of kind `kind` (ChannelList or Channel) and raises its
/// experts (also without a tree). Returns a summary for the item's label.
pub(super) fn show(tree: &Tree<'_>, kind: Kind, b: &[u8], place: Place) -> Option<String> {
    match kind {
        Kind::ChannelList => {
            let s = channels::subscription(b);
            let (_, t) = tree.add_subtree(&ETT_CH_LIST, place.span(Span::new(0, b.len())), "Channel subscription (StatusKit protobuf)");
            if let Some(u) = s.unk1 {
                place.put(&t, &HF_CH_UNK1, u.span, u.value);
            }
            let mut n = 0;
            for tp in &s.topics {
                let name = tp.topic.map(|a| String::from_utf8_lossy(a.value).into_owned());
                let title = format!(
                    "Topic {}: {} subscribed, {} unsubscribed",
                    name.as_deref().unwrap_or("?"),
                    tp.channels.len(),
                    tp.unsubscribed.len()
                );
                let (_, tt) = t.add_subtree(&ETT_CH_TOPIC, place.span(tp.span), &title);
                if let (Some(a), Some(nm)) = (tp.topic, &name) {
                    place.put(&tt, &HF_CH_TOPIC, a.span, nm.as_str());
                }
                for c in &tp.channels {
                    show_channel(&tt, c, true, place);
                }
                for c in &tp.unsubscribed {
                    show_channel(&tt, c, false, place);
                }
                unknown_fields(&tt, &tp.unknown, place);
                n += tp.channels.len() + tp.unsubscribed.len();
            }
            if let Some(r) = s.replace {
                place.put(&t, &HF_CH_REPLACE, r.span, r.value);
            }
            unknown_fields(&t, &s.unknown, place);
            experts(&t, &s.anomalies, place);
            Some(format!(
                "{} topic{}, {n} channel{}",
                s.topics.len(),
                if s.topics.len() == 1 { "" } else { "s" },
                if n == 1 { "" } else { "s" }
            ))
        }
        Kind::Channel => {
            let (c, anomalies) = channels::channel(b);
            show_channel(tree, &c, true, place);
            experts(tree, &anomalies, place);
            None
        }
        _ => None,
    }
}

fn show_channel(t: &Tree<'_>, c: &Channel<'_>, subscribe: bool, place: Place) {
    let id = c.id.map(|a: At<&[u8]>| a.value.iter().map(|x| format!("{x:02x}")).collect::<String>());
    let title = format!("{} {}", if subscribe { "Channel" } else { "Unsubscribe channel" }, id.as_deref().unwrap_or("?"));
    let (_, ct) = t.add_subtree(&ETT_CH, place.span(c.span), &title);
    if let Some(a) = c.id {
        place.put(&ct, &HF_CH_ID, a.span, a.value);
    }
    if let Some(a) = c.last_msg_ns {
        place.put(&ct, &HF_CH_LAST, a.span, time_from_ns(i128::from(a.value)));
    }
    ct.add_generated(&HF_CH_SUBSCRIBE, subscribe);
    unknown_fields(&ct, &c.unknown, place);
}

fn unknown_fields(t: &Tree<'_>, fields: &[Field<'_>], place: Place) {
    for f in fields {
        let (_, ft) = t.add_subtree(&ETT_PB_FIELD, place.span(f.span), &format!("Field {} ({})", f.number, f.wire.name()));
        place.put(&ft, &HF_PB_NUMBER, f.span, f.number);
        place.put(&ft, &HF_PB_WIRE, f.span, f.wire.code());
        match f.value {
            protobuf::Value::Varint(x) => {
                place.put(&ft, &HF_PB_VARINT, f.value_span, x);
            }
            protobuf::Value::I64(x) => {
                place.put(&ft, &HF_PB_FIXED, f.value_span, x);
            }
            protobuf::Value::I32(x) => {
                place.put(&ft, &HF_PB_FIXED, f.value_span, u64::from(x));
            }
            protobuf::Value::Len(b) => {
                place.put(&ft, &HF_PB_BYTES, f.value_span, b);
            }
        }
    }
}

fn experts(t: &Tree<'_>, anomalies: &[channels::Anomaly], place: Place) {
    for a in anomalies {
        let ei = match a.kind {
            AnomalyKind::Wire(_) => &EI_PB_MALFORMED,
            AnomalyKind::WireType { .. } => &EI_PB_WIRE_TYPE,
            AnomalyKind::NotUtf8 => &EI_CH_NOT_UTF8,
            AnomalyKind::TooMany => &EI_CH_TOO_MANY,
        };
        t.expert(ei, place.span(a.span), Some(&a.kind.text()));
    }
}

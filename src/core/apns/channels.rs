//! The StatusKit channel protobufs of the pub/sub commands (0x1D item 2, 0x0A item 29).
//!
//! Field numbers and meanings from rustpush (GitHub `OpenBubbles/rustpush`,
//! `src/statuskit.proto`, package `statuskitp`; read for facts):
//!
//! ```text
//! message Channel            { bytes id = 1; uint64 lastMsgNs = 2; }
//! message SubscribedTopic    { string topic = 1; repeated Channel channels = 2;
//!                              repeated Channel unsubChannels = 3; }
//! message SubscribeToChannel { uint32 unk1 = 1 /* always 1 */; repeated SubscribedTopic topics = 2;
//!                              optional bool replace = 3; }
//! ```
//!
//! rustpush's `APSConnection::subscribe_channels` (`src/aps.rs`) sends a
//! `SubscribeToChannel` as item 2 of command 0x1D; `APSMessage::from_packed`/`from_raw` read
//! item 0x1D of a Message (0x0A) as a `Channel`. Any other field is kept as an
//! [`protobuf::Field`] and shown generically. Spans are relative to the bytes decoded.

use super::protobuf::{self, Field, Reader, Value, WireType};
use crate::core::span::Span;

/// Most topics, channels and unknown fields kept per message (the rest are counted).
pub const MAX_ENTRIES: usize = 1024;

/// A value with where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At<T> {
    pub value: T,
    pub span: Span,
}

/// One `Channel`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Channel<'a> {
    pub span: Span,
    pub id: Option<At<&'a [u8]>>,
    /// `lastMsgNs`: nanoseconds since 1970 of the last message the client has seen.
    pub last_msg_ns: Option<At<u64>>,
    pub unknown: Vec<Field<'a>>,
}

/// One `SubscribedTopic`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Topic<'a> {
    pub span: Span,
    /// The topic name (bytes when not UTF-8: an anomaly).
    pub topic: Option<At<&'a [u8]>>,
    pub channels: Vec<Channel<'a>>,
    pub unsubscribed: Vec<Channel<'a>>,
    pub unknown: Vec<Field<'a>>,
}

/// One `SubscribeToChannel`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subscription<'a> {
    /// `unk1` (rustpush always sends 1).
    pub unk1: Option<At<u64>>,
    pub topics: Vec<Topic<'a>>,
    pub replace: Option<At<bool>>,
    pub unknown: Vec<Field<'a>>,
    pub anomalies: Vec<Anomaly>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// The bytes are not well-formed protobuf.
    Wire(protobuf::Error),
    /// A known field with another wire type than its schema's (kept as unknown).
    WireType { field: u64, expected: WireType, got: WireType },
    /// A topic name that is not UTF-8.
    NotUtf8,
    /// More than [`MAX_ENTRIES`] of something; the rest dropped.
    TooMany,
}

impl AnomalyKind {
    pub fn text(&self) -> String {
        match self {
            AnomalyKind::Wire(e) => format!("Malformed protobuf: {}", e.text()),
            AnomalyKind::WireType { field, expected, got } => {
                format!("Field {field} is {} where the schema has {}", got.name(), expected.name())
            }
            AnomalyKind::NotUtf8 => "Topic name is not valid UTF-8".into(),
            AnomalyKind::TooMany => format!("More than {MAX_ENTRIES} entries; the rest are not shown"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub span: Span,
}

struct Ctx {
    anomalies: Vec<Anomaly>,
    entries: usize,
}

impl Ctx {
    fn push<T>(&mut self, v: &mut Vec<T>, x: T, span: Span) {
        if self.entries >= MAX_ENTRIES {
            if !self.anomalies.iter().any(|a| a.kind == AnomalyKind::TooMany) {
                self.anomalies.push(Anomaly { kind: AnomalyKind::TooMany, span });
            }
            return;
        }
        self.entries += 1;
        v.push(x);
    }
    fn finish(&mut self, r: &Reader<'_>, base: usize) {
        if let Some(a) = r.error() {
            self.anomalies.push(Anomaly { kind: AnomalyKind::Wire(a.error), span: a.span.shift(base) });
        }
    }
    fn wrong(&mut self, f: &Field<'_>, expected: WireType, base: usize) {
        self.anomalies.push(Anomaly {
            kind: AnomalyKind::WireType { field: f.number, expected, got: f.wire },
            span: f.span.shift(base),
        });
    }
}

fn shifted(mut f: Field<'_>, base: usize) -> Field<'_> {
    f.span = f.span.shift(base);
    f.value_span = f.value_span.shift(base);
    f
}

fn channel_at<'a>(b: &'a [u8], base: usize, span: Span, cx: &mut Ctx) -> Channel<'a> {
    let mut c = Channel { span, ..Default::default() };
    let mut r = Reader::new(b);
    for f in r.by_ref() {
        let vs = f.value_span.shift(base);
        match (f.number, f.value) {
            (1, Value::Len(id)) => c.id = Some(At { value: id, span: vs }),
            (2, Value::Varint(ns)) => c.last_msg_ns = Some(At { value: ns, span: vs }),
            (n @ (1 | 2), _) => {
                cx.wrong(&f, if n == 1 { WireType::Len } else { WireType::Varint }, base);
                let s = f.span.shift(base);
                cx.push(&mut c.unknown, shifted(f, base), s);
            }
            _ => {
                let s = f.span.shift(base);
                cx.push(&mut c.unknown, shifted(f, base), s);
            }
        }
    }
    cx.finish(&r, base);
    c
}

fn topic_at<'a>(b: &'a [u8], base: usize, span: Span, cx: &mut Ctx) -> Topic<'a> {
    let mut t = Topic { span, ..Default::default() };
    let mut r = Reader::new(b);
    for f in r.by_ref() {
        let vs = f.value_span.shift(base);
        match (f.number, f.value) {
            (1, Value::Len(name)) => {
                if std::str::from_utf8(name).is_err() {
                    cx.anomalies.push(Anomaly { kind: AnomalyKind::NotUtf8, span: vs });
                }
                t.topic = Some(At { value: name, span: vs });
            }
            (n @ (2 | 3), Value::Len(inner)) => {
                let c = channel_at(inner, vs.offset, f.span.shift(base), cx);
                let list = if n == 2 { &mut t.channels } else { &mut t.unsubscribed };
                cx.push(list, c, vs);
            }
            (1..=3, _) => {
                cx.wrong(&f, WireType::Len, base);
                let s = f.span.shift(base);
                cx.push(&mut t.unknown, shifted(f, base), s);
            }
            _ => {
                let s = f.span.shift(base);
                cx.push(&mut t.unknown, shifted(f, base), s);
            }
        }
    }
    cx.finish(&r, base);
    t
}

/// Decodes a `SubscribeToChannel` (0x1D item 2).
pub fn subscription(b: &[u8]) -> Subscription<'_> {
    let mut cx = Ctx { anomalies: Vec::new(), entries: 0 };
    let mut s = Subscription::default();
    let mut r = Reader::new(b);
    for f in r.by_ref() {
        let vs = f.value_span;
        match (f.number, f.value) {
            (1, Value::Varint(x)) => s.unk1 = Some(At { value: x, span: vs }),
            (2, Value::Len(inner)) => {
                let t = topic_at(inner, vs.offset, f.span, &mut cx);
                cx.push(&mut s.topics, t, vs);
            }
            (3, Value::Varint(x)) => s.replace = Some(At { value: x != 0, span: vs }),
            (n @ 1..=3, _) => {
                cx.wrong(&f, if n == 2 { WireType::Len } else { WireType::Varint }, 0);
                cx.push(&mut s.unknown, f, f.span);
            }
            _ => cx.push(&mut s.unknown, f, f.span),
        }
    }
    cx.finish(&r, 0);
    s.anomalies = cx.anomalies;
    s
}

/// Decodes a `Channel` (0x0A item 29), with its anomalies.
pub fn channel(b: &[u8]) -> (Channel<'_>, Vec<Anomaly>) {
    let mut cx = Ctx { anomalies: Vec::new(), entries: 0 };
    let c = channel_at(b, 0, Span::new(0, b.len()), &mut cx);
    (c, cx.anomalies)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(field: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![field << 3 | 2, body.len() as u8];
        v.extend_from_slice(body);
        v
    }

    /// Written by hand from rustpush's `src/statuskit.proto` (field numbers of
    /// `SubscribeToChannel`, `SubscribedTopic`, `Channel`) and the protobuf encoding.
    #[test]
    fn subscription_by_hand() {
        // Channel { id = 01 02 03, lastMsgNs = 1_000_000_000 (varint 80 94 eb dc 03) }
        let ch = [len(1, &[1, 2, 3]), vec![0x10, 0x80, 0x94, 0xeb, 0xdc, 0x03]].concat();
        // unsubscribed Channel { id = 09 }
        let un = len(1, &[9]);
        let topic = [len(1, b"com.apple.icloud.presence.mode.status"), len(2, &ch), len(3, &un)].concat();
        // unk1 = 1, topics = [topic], replace = true
        let msg = [vec![0x08, 0x01], len(2, &topic), vec![0x18, 0x01]].concat();
        let s = subscription(&msg);
        assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
        assert_eq!(s.unk1.map(|a| a.value), Some(1));
        assert_eq!(s.replace.map(|a| a.value), Some(true));
        assert_eq!(s.replace.unwrap().span, Span::new(msg.len() - 1, 1));
        assert_eq!(s.topics.len(), 1);
        let t = &s.topics[0];
        assert_eq!(t.topic.unwrap().value, b"com.apple.icloud.presence.mode.status");
        // unk1 (2 bytes), topics key + length (2 bytes), topic key + length (2 bytes): name at 6.
        assert_eq!(t.topic.unwrap().span, Span::new(6, 37));
        assert_eq!(t.channels.len(), 1);
        assert_eq!(t.channels[0].id.unwrap().value, &[1, 2, 3]);
        assert_eq!(t.channels[0].last_msg_ns.unwrap().value, 1_000_000_000);
        assert_eq!(&msg[t.channels[0].id.unwrap().span.offset..][..3], &[1, 2, 3]);
        assert_eq!(t.unsubscribed.len(), 1);
        assert_eq!(t.unsubscribed[0].id.unwrap().value, &[9]);
    }

    #[test]
    fn unknown_and_malformed() {
        // Field 7 (varint) unknown; field 1 as length-delimited: wrong wire type.
        let msg = [vec![0x38, 0x05], len(1, &[1])].concat();
        let s = subscription(&msg);
        assert_eq!(s.unknown.len(), 2);
        assert_eq!(s.unknown[0].number, 7);
        assert_eq!(
            s.anomalies,
            vec![Anomaly {
                kind: AnomalyKind::WireType { field: 1, expected: WireType::Varint, got: WireType::Len },
                span: Span::new(2, 3)
            }]
        );
        // A topic whose length runs past the end: the error is inside the topic, at its place.
        let msg = [len(2, &[0x0a, 0x09, b'a'])].concat();
        let s = subscription(&msg);
        assert_eq!(s.topics.len(), 1);
        assert_eq!(
            s.anomalies,
            vec![Anomaly { kind: AnomalyKind::Wire(protobuf::Error::PastEnd { len: 9, available: 1 }), span: Span::new(2, 3) }]
        );
        // Not protobuf at all: the oracle's stand-in bytes start 0x11 (field 2, 64-bit).
        let s = subscription(&[0x11, 1, 2]);
        assert!(matches!(s.anomalies[0].kind, AnomalyKind::Wire(protobuf::Error::PastEnd { .. })));
        let (c, a) = channel(&[0x0a, 0x02, 0xaa, 0xbb, 0x10, 0x07]);
        assert!(a.is_empty());
        assert_eq!((c.id.unwrap().value, c.last_msg_ns.unwrap().value), (&[0xaa, 0xbb][..], 7));
        let (_, a) = channel(&[0x0a, 0xff]);
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn entries_are_bounded() {
        let one = len(2, &len(1, b"t"));
        let msg: Vec<u8> = (0..MAX_ENTRIES + 5).flat_map(|_| one.clone()).collect();
        let s = subscription(&msg);
        assert_eq!(s.topics.len(), MAX_ENTRIES);
        assert_eq!(s.anomalies.iter().filter(|a| a.kind == AnomalyKind::TooMany).count(), 1);
    }
}

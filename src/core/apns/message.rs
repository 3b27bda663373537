//! Parsing one modern courier message: header, then items until the payload length is used.
//!
//! ```text
//! message : command (1) | payload length (4, BE) | item*
//! item    : id (1)      | value length (2, BE)   | value
//! ```

use super::framing::{self, HEADER_LEN, ITEM_HEADER_LEN};
use super::items::{decode, item_def, Command, ItemDef, Value, ValueError};
use crate::core::span::Span;
use smallvec::SmallVec;

/// At most this many items are kept per message; the rest are counted in an anomaly.
pub const MAX_ITEMS: usize = 4096;

/// Where the header fields sit.
pub mod at {
    use crate::core::span::Span;
    pub const COMMAND: Span = Span::new(0, 1);
    pub const LENGTH: Span = Span::new(1, 4);
}

/// One item, borrowed from the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item<'a> {
    pub id: u8,
    /// The value length as declared by the item header.
    pub length: u16,
    /// The whole item (header and the value bytes present).
    pub span: Span,
    /// The value bytes present (shorter than `length` when the item is cut off).
    pub value_span: Span,
    pub raw: &'a [u8],
    /// `None` for an item id unknown for this command.
    pub def: Option<&'static ItemDef>,
    /// The typed value (`Value::Bytes` for unknown ids or mismatching lengths).
    pub value: Value<'a>,
    /// The value is cut short (item overruns its message, or the capture ends).
    pub truncated: bool,
}

impl<'a> Item<'a> {
    /// Stable key of the item (`"unknown"` for unknown ids).
    pub fn key(&self) -> &'static str {
        self.def.map_or("unknown", |d| d.key)
    }
    pub fn label(&self) -> &'static str {
        self.def.map_or("Unknown item", |d| d.label)
    }
}

/// What went wrong, with where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// The command byte is not one of the known commands.
    UnknownCommand(u8),
    /// The buffer ends before the declared payload does (`available` payload bytes present).
    Truncated { declared: u32, available: usize },
    /// An item's declared length runs past the end of its message's payload.
    ItemOverrun {
        id: u8,
        declared: u16,
        available: usize,
    },
    /// 1 or 2 bytes left after the last item: too short for an item header.
    TrailingBytes { len: usize },
    /// A known item whose value length does not fit its kind (`expected` 0: 1, 2, 4 or 8).
    ItemBadLength { id: u8, expected: usize, got: usize },
    /// A text item that is not UTF-8.
    ItemNotUtf8 { id: u8 },
    /// An item id with no definition for this command.
    UnknownItem { id: u8 },
    /// More than [`MAX_ITEMS`] items; `dropped` were not kept.
    TooManyItems { dropped: usize },
}

impl AnomalyKind {
    /// A short text for expert info.
    pub fn message(&self) -> &'static str {
        match self {
            AnomalyKind::UnknownCommand(_) => "Unknown command",
            AnomalyKind::Truncated { .. } => "Message truncated: fewer bytes than its length says",
            AnomalyKind::ItemOverrun { .. } => "Item runs past the end of its message",
            AnomalyKind::TrailingBytes { .. } => "Trailing bytes too short for an item",
            AnomalyKind::ItemBadLength { .. } => "Item value has an unexpected length",
            AnomalyKind::ItemNotUtf8 { .. } => "Text item is not valid UTF-8",
            AnomalyKind::UnknownItem { .. } => "Unknown item id for this command",
            AnomalyKind::TooManyItems { .. } => "Too many items; the rest are not shown",
        }
    }
    /// Severity for expert info: `true` for malformed input, `false` for notes.
    pub fn is_error(&self) -> bool {
        !matches!(
            self,
            AnomalyKind::UnknownCommand(_) | AnomalyKind::UnknownItem { .. }
        )
    }
}

/// A message's items, inline up to [`INLINE_ITEMS`] (an ack has three, a push about seven):
/// most messages allocate nothing; longer ones spill to the heap with the same semantics.
pub type Items<'a> = SmallVec<[Item<'a>; INLINE_ITEMS]>;
/// How many items a [`Message`] holds without allocating.
pub const INLINE_ITEMS: usize = 8;
/// A message's anomalies, inline (usually none).
pub type Anomalies = SmallVec<[Anomaly; 2]>;

/// One parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message<'a> {
    pub command: Command,
    /// Declared payload length (the message is `5 + length` bytes long).
    pub length: u32,
    pub items: Items<'a>,
    pub anomalies: Anomalies,
    /// Bytes of the buffer that belong to this message (`5 + length`, or fewer if cut off).
    pub consumed: usize,
}

/// Parse errors: only when not even a header is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// Fewer than 5 bytes.
    NeedHeader { have: usize },
}

impl<'a> Message<'a> {
    /// The first item with this id.
    pub fn item(&self, id: u8) -> Option<&Item<'a>> {
        self.items.iter().find(|i| i.id == id)
    }
    /// The first item with this stable key.
    pub fn item_by_key(&self, key: &str) -> Option<&Item<'a>> {
        self.items.iter().find(|i| i.key() == key)
    }
    /// The message id (items 4 of 0x0A and 0x0B), if present and 4 bytes.
    pub fn message_id(&self) -> Option<u32> {
        if !matches!(self.command, Command::Message | Command::MessageAck) {
            return None;
        }
        match self.item(4)?.value {
            Value::U32(x) => Some(x),
            _ => None,
        }
    }
    /// The first push token item (Connect, Message, Ack, …).
    pub fn token(&self) -> Option<&'a [u8]> {
        self.items.iter().find_map(|i| match (i.key(), i.value) {
            ("push_token", Value::Token(t)) => Some(t),
            _ => None,
        })
    }
    /// The first topic hash item.
    pub fn topic_hash(&self) -> Option<&'a [u8; 20]> {
        self.items.iter().find_map(|i| match i.value {
            Value::TopicHash(h) => Some(h),
            _ => None,
        })
    }
    /// Whether the whole declared payload was present and the items tiled it exactly.
    pub fn is_clean(&self) -> bool {
        !self.anomalies.iter().any(|a| {
            matches!(
                a.kind,
                AnomalyKind::Truncated { .. }
                    | AnomalyKind::ItemOverrun { .. }
                    | AnomalyKind::TrailingBytes { .. }
            )
        })
    }
}

/// Parse the message at the start of `buf` (extra bytes after it are left alone; see
/// [`Message::consumed`]). A payload cut short by the end of `buf` is parsed as far as it
/// goes and flagged [`AnomalyKind::Truncated`].
pub fn parse_message(buf: &[u8]) -> Result<Message<'_>, ParseError> {
    let Some(hdr) = framing::header(buf) else {
        return Err(ParseError::NeedHeader { have: buf.len() });
    };
    let command = Command::from_u8(hdr.command);
    let mut anomalies = Anomalies::new();
    if !command.is_known() {
        anomalies.push(Anomaly {
            kind: AnomalyKind::UnknownCommand(hdr.command),
            span: at::COMMAND,
        });
    }
    let declared = usize::try_from(hdr.length).unwrap_or(usize::MAX);
    let after_header = buf.get(HEADER_LEN..).unwrap_or(&[]);
    let available = declared.min(after_header.len());
    let payload = after_header.get(..available).unwrap_or(&[]);
    if available < declared {
        anomalies.push(Anomaly {
            kind: AnomalyKind::Truncated {
                declared: hdr.length,
                available,
            },
            span: Span::new(0, HEADER_LEN + available),
        });
    }
    // Built in place: the items are walked straight into the message (the inline item
    // array is most of its size; a returned array would be copied once more).
    let mut m = Message { command, length: hdr.length, items: Items::new(), anomalies, consumed: HEADER_LEN + available };
    walk_items(command, payload, available < declared, declared, &mut m.items, &mut m.anomalies);
    Ok(m)
}

/// Walk the items of `payload` (the payload bytes present). `cut` says the declared payload
/// continues past them (`declared` long in all).
fn walk_items<'a>(
    command: Command,
    payload: &'a [u8],
    cut: bool,
    declared: usize,
    items: &mut Items<'a>,
    anomalies: &mut Anomalies,
) {
    let mut off = 0usize;
    let mut dropped = 0usize;
    while off < payload.len() {
        let rest = payload.get(off..).unwrap_or(&[]);
        let Some((id, len)) = framing::item_header(rest) else {
            // 1 or 2 bytes left.
            if !cut {
                anomalies.push(Anomaly {
                    kind: AnomalyKind::TrailingBytes { len: rest.len() },
                    span: Span::new(HEADER_LEN + off, rest.len()),
                });
            }
            break;
        };
        let vlen = usize::from(len);
        let in_payload_decl = declared.saturating_sub(off + ITEM_HEADER_LEN);
        let have = rest.len() - ITEM_HEADER_LEN;
        let overrun = vlen > in_payload_decl;
        let truncated = vlen > have;
        let take = vlen.min(have);
        let raw = rest
            .get(ITEM_HEADER_LEN..ITEM_HEADER_LEN + take)
            .unwrap_or(&[]);
        let item_off = HEADER_LEN + off;
        let span = Span::new(item_off, ITEM_HEADER_LEN + take);
        let value_span = Span::new(item_off + ITEM_HEADER_LEN, take);
        if overrun {
            anomalies.push(Anomaly {
                kind: AnomalyKind::ItemOverrun {
                    id,
                    declared: len,
                    available: in_payload_decl.min(have),
                },
                span,
            });
        }
        let def = item_def(command, id, vlen);
        let value = if truncated {
            Value::Bytes(raw)
        } else {
            match def {
                Some(d) => {
                    let (v, err) = decode(d.kind, raw);
                    match err {
                        Some(ValueError::BadLength { expected }) => anomalies.push(Anomaly {
                            kind: AnomalyKind::ItemBadLength {
                                id,
                                expected,
                                got: vlen,
                            },
                            span,
                        }),
                        Some(ValueError::NotUtf8) => anomalies.push(Anomaly {
                            kind: AnomalyKind::ItemNotUtf8 { id },
                            span: value_span,
                        }),
                        None => {}
                    }
                    v
                }
                None => {
                    if command.is_known() {
                        anomalies.push(Anomaly {
                            kind: AnomalyKind::UnknownItem { id },
                            span,
                        });
                    }
                    Value::Bytes(raw)
                }
            }
        };
        if items.len() < MAX_ITEMS {
            items.push(Item {
                id,
                length: len,
                span,
                value_span,
                raw,
                def,
                value,
                truncated,
            });
        } else {
            dropped += 1;
        }
        if truncated {
            break;
        }
        off += ITEM_HEADER_LEN + vlen;
    }
    if dropped > 0 {
        anomalies.push(Anomaly {
            kind: AnomalyKind::TooManyItems { dropped },
            span: Span::new(HEADER_LEN, payload.len()),
        });
    }
}

/// Iterator over the complete messages at the start of a buffer; stops at the first
/// incomplete one (see [`Messages::remainder`]) or at one whose length exceeds `max`.
pub struct Messages<'a> {
    buf: &'a [u8],
    off: usize,
    max: u32,
}

/// Iterate over the complete messages in `buf` (several may share a segment). Each message
/// comes with its offset in `buf`; its spans are relative to that offset.
pub fn messages(buf: &[u8], max_message_size: u32) -> Messages<'_> {
    Messages {
        buf,
        off: 0,
        max: max_message_size,
    }
}

impl<'a> Messages<'a> {
    /// Offset of the first byte not consumed so far.
    pub fn offset(&self) -> usize {
        self.off
    }
    /// Bytes not consumed so far (an incomplete or oversized message).
    pub fn remainder(&self) -> &'a [u8] {
        self.buf.get(self.off..).unwrap_or(&[])
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = (usize, Message<'a>);
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.remainder();
        match framing::next_pdu(rest, self.max) {
            framing::PduLen::Len(n) => {
                let pdu = rest.get(..n)?;
                let m = parse_message(pdu).ok()?;
                let at = self.off;
                self.off += n;
                Some((at, m))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::apns::items::{Field, Interface};

    fn msg(cmd: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![cmd];
        v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    fn item(id: u8, val: &[u8]) -> Vec<u8> {
        let mut v = vec![id];
        v.extend_from_slice(&(val.len() as u16).to_be_bytes());
        v.extend_from_slice(val);
        v
    }

    const TOKEN: [u8; 32] = [0xAB; 32];

    #[test]
    fn connect_hand_written() {
        // Written by hand from the notes' layout: 07 | len | items.
        #[rustfmt::skip]
        let buf: &[u8] = &[
            0x07, 0x00, 0x00, 0x00, 0x22,             // Connect, payload 34 bytes (4+7+4+7+12)
            0x02, 0x00, 0x01, 0x01,                   // state = 1
            0x05, 0x00, 0x04, 0x00, 0x00, 0x00, 0x41, // flags = 65
            0x06, 0x00, 0x01, 0x01,                   // interface = Wi-Fi
            0x09, 0x00, 0x04, b'1', b'7', b'.', b'0', // OS version "17.0"
            0x0b, 0x00, 0x09, b'i', b'P', b'h', b'o', b'n', b'e', b'9', b',', b'1', // hardware
        ];
        assert_eq!(buf.len(), 39);
        let m = parse_message(buf).unwrap();
        assert_eq!(m.command, Command::Connect);
        assert_eq!(m.length, 34);
        assert_eq!(m.consumed, 39);
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
        let ids: Vec<u8> = m.items.iter().map(|i| i.id).collect();
        assert_eq!(ids, [2, 5, 6, 9, 11]);
        assert_eq!(m.items[0].value, Value::U8(1));
        assert_eq!(m.items[1].value, Value::U32(65));
        assert_eq!(m.items[2].value, Value::Interface(Interface::WiFi));
        assert_eq!(m.items[2].def.unwrap().field, Some(Field::Interface));
        assert_eq!(m.items[3].value, Value::Text("17.0"));
        assert_eq!(m.items[3].span, Span::new(20, 7));
        assert_eq!(m.items[3].value_span, Span::new(23, 4));
        assert_eq!(m.items[4].value, Value::Text("iPhone9,1"));
        assert_eq!(m.items[4].key(), "hardware");
        assert!(m.is_clean());
    }

    #[test]
    fn every_command_parses() {
        let topic = [0x11u8; 20];
        let cases: Vec<(u8, Vec<u8>, Vec<&str>)> = vec![
            (
                0x07,
                [
                    item(1, &TOKEN),
                    item(2, &[1]),
                    item(13, &[0; 17]),
                    item(14, &[1, 1, 9, 9]),
                    item(16, &[0, 11]),
                ]
                .concat(),
                vec![
                    "push_token",
                    "state",
                    "nonce",
                    "signature",
                    "protocol_version",
                ],
            ),
            (
                0x08,
                [
                    item(1, &[0]),
                    item(3, &TOKEN),
                    item(4, &[0x10, 0]),
                    item(10, &[0; 8]),
                ]
                .concat(),
                vec!["status", "push_token", "max_message_size", "server_time"],
            ),
            (
                0x09,
                [
                    item(1, &TOKEN),
                    item(2, &topic),
                    item(2, &topic),
                    item(3, &topic),
                    item(6, &topic),
                ]
                .concat(),
                vec![
                    "push_token",
                    "enabled_topic",
                    "enabled_topic",
                    "ignored_topic",
                    "non_waking_topic",
                ],
            ),
            (
                0x0A,
                [
                    item(1, &topic),
                    item(2, &TOKEN),
                    item(3, b"{}"),
                    item(4, &[0, 0, 0, 7]),
                    item(5, &[0, 0, 0, 1]),
                    item(6, &[0; 8]),
                ]
                .concat(),
                vec![
                    "topic_hash",
                    "push_token",
                    "payload",
                    "message_id",
                    "expiry",
                    "timestamp",
                ],
            ),
            (
                0x0B,
                [item(1, &TOKEN), item(4, &[0, 0, 0, 7]), item(8, &[0])].concat(),
                vec!["push_token", "message_id", "status"],
            ),
            (
                0x0C,
                [
                    item(1, b"WiFi"),
                    item(2, b"5.0"),
                    item(3, b"9A5220p"),
                    item(4, b"iPhone2,1"),
                    item(5, &[0, 20]),
                ]
                .concat(),
                vec![
                    "carrier",
                    "os_version",
                    "os_build",
                    "hardware",
                    "keepalive_interval",
                ],
            ),
            (0x0D, vec![], vec![]),
            (0x0E, item(1, &TOKEN), vec!["push_token"]),
            (
                0x0F,
                [item(1, &[0, 64]), item(2, &[0; 64])].concat(),
                vec!["padding_length", "padding"],
            ),
            (0x10, vec![], vec![]),
            (
                0x11,
                [item(1, &TOKEN), item(2, &topic), item(3, b"com.example")].concat(),
                vec!["push_token", "topic_hash", "app_id"],
            ),
            (
                0x12,
                [item(1, &[0]), item(2, &[5; 40]), item(3, &topic)].concat(),
                vec!["status", "scoped_token", "topic"],
            ),
            (
                0x14,
                [item(1, &[1]), item(2, &[0, 0, 0, 2])].concat(),
                vec!["state", "unknown2"],
            ),
            // rustpush src/aps.rs APSMessage::to_raw SubscribeToChannels (1 index u32, 2
            // message, 3 token) and from_raw SubscribeConfirm (1 index, 3 token, 4 status).
            (
                0x1D,
                [item(1, &[0, 0, 0, 1]), item(2, &[0x08, 0x01]), item(3, &TOKEN)].concat(),
                vec!["index", "channels", "push_token"],
            ),
            (
                0x1D,
                [item(1, &[0, 0, 0, 1]), item(3, &TOKEN), item(4, &[0])].concat(),
                vec!["index", "push_token", "status"],
            ),
        ];
        for (cmd, payload, keys) in cases {
            let buf = msg(cmd, &payload);
            let m = parse_message(&buf).unwrap();
            assert_eq!(m.command.code(), cmd);
            assert!(m.command.is_known());
            assert!(m.anomalies.is_empty(), "cmd {cmd:#x}: {:?}", m.anomalies);
            let got: Vec<&str> = m.items.iter().map(|i| i.key()).collect();
            assert_eq!(got, keys, "cmd {cmd:#x}");
            assert_eq!(m.consumed, buf.len());
        }
    }

    #[test]
    fn message_direction_by_length() {
        let topic = [0x22u8; 20];
        // server→device: 1 token, 2 topic
        let a = msg(
            0x0A,
            &[item(1, &TOKEN), item(2, &topic), item(4, &[0, 0, 1, 0])].concat(),
        );
        let m = parse_message(&a).unwrap();
        assert_eq!(m.token(), Some(&TOKEN[..]));
        assert_eq!(m.topic_hash(), Some(&topic));
        assert_eq!(m.message_id(), Some(256));
        // device→server: 1 topic, 2 token
        let b = msg(0x0A, &[item(1, &topic), item(2, &TOKEN)].concat());
        let m = parse_message(&b).unwrap();
        assert_eq!(m.items[0].def.unwrap().field, Some(Field::TopicHash));
        assert_eq!(m.items[1].def.unwrap().field, Some(Field::Token));
        assert_eq!(m.token(), Some(&TOKEN[..]));
        assert_eq!(m.message_id(), None);
        // Neither 32 nor 20: kept as bytes, no typed field.
        let c = msg(0x0A, &item(1, &[1, 2, 3]));
        let m = parse_message(&c).unwrap();
        assert_eq!(m.items[0].key(), "token_or_topic");
        assert_eq!(m.items[0].value, Value::Bytes(&[1, 2, 3]));
    }

    #[test]
    fn timestamp_units() {
        // 0x0A item 6 is ns; 0x08 item 10 is ms.
        let a = msg(0x0A, &item(6, &1_000_000_000u64.to_be_bytes()));
        assert_eq!(
            parse_message(&a).unwrap().items[0].value,
            Value::TimeNs(1_000_000_000)
        );
        let b = msg(0x08, &item(10, &1_000u64.to_be_bytes()));
        assert_eq!(
            parse_message(&b).unwrap().items[0].value,
            Value::TimeMs(1_000)
        );
    }

    #[test]
    fn item_overrun() {
        // Payload 6: item 1 says 10 bytes but only 3 remain in the payload, then the next message.
        let mut buf = vec![0x0B, 0, 0, 0, 6, 0x04, 0x00, 0x0A, 1, 2, 3];
        buf.extend_from_slice(&[0x0D, 0, 0, 0, 0]);
        let m = parse_message(&buf).unwrap();
        assert_eq!(m.consumed, 11);
        assert_eq!(m.items.len(), 1);
        assert!(m.items[0].truncated);
        assert_eq!(m.items[0].raw, &[1, 2, 3]);
        assert_eq!(m.items[0].value_span, Span::new(8, 3));
        assert_eq!(
            m.anomalies[0].kind,
            AnomalyKind::ItemOverrun {
                id: 4,
                declared: 10,
                available: 3
            }
        );
        assert!(!m.is_clean());
    }

    #[test]
    fn trailing_and_zero_length_items() {
        // zero-length item 7 (unknown-but-defined bytes) then 2 stray bytes
        let buf = [0x0A, 0, 0, 0, 5, 0x07, 0, 0, 0xEE, 0xEE];
        let m = parse_message(&buf).unwrap();
        assert_eq!(m.items.len(), 1);
        assert_eq!(m.items[0].length, 0);
        assert_eq!(m.items[0].value, Value::Bytes(&[]));
        assert_eq!(
            m.anomalies.as_slice(),
            [Anomaly {
                kind: AnomalyKind::TrailingBytes { len: 2 },
                span: Span::new(8, 2)
            }]
        );
        // zero-length message id: bad length
        let buf = msg(0x0B, &item(4, &[]));
        let m = parse_message(&buf).unwrap();
        assert_eq!(
            m.anomalies[0].kind,
            AnomalyKind::ItemBadLength {
                id: 4,
                expected: 4,
                got: 0
            }
        );
        assert_eq!(m.message_id(), None);
    }

    #[test]
    fn unknown_items_and_commands() {
        let buf = msg(0x0C, &[item(0x63, &[1, 2]), item(1, b"WiFi")].concat());
        let m = parse_message(&buf).unwrap();
        assert_eq!(m.items[0].def, None);
        assert_eq!(m.items[0].value, Value::Bytes(&[1, 2]));
        assert_eq!(m.anomalies[0].kind, AnomalyKind::UnknownItem { id: 0x63 });
        assert!(!m.anomalies[0].kind.is_error());
        assert_eq!(m.items[1].value, Value::Text("WiFi"));
        // Unknown command: items still walked, no per-item notes.
        let buf = msg(0x20, &[item(1, &[9])].concat());
        let m = parse_message(&buf).unwrap();
        assert_eq!(m.command, Command::Unknown(0x20));
        assert_eq!(m.items.len(), 1);
        assert_eq!(
            m.anomalies.as_slice(),
            [Anomaly {
                kind: AnomalyKind::UnknownCommand(0x20),
                span: at::COMMAND
            }]
        );
    }

    #[test]
    fn truncated_capture_and_huge_length() {
        let buf = [
            0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0x03, 0x00, 0x02, b'{', b'}', 0x04,
        ];
        let m = parse_message(&buf).unwrap();
        assert_eq!(m.length, u32::MAX);
        assert_eq!(m.consumed, buf.len());
        assert_eq!(m.items.len(), 1);
        assert_eq!(m.items[0].value, Value::Payload(b"{}"));
        assert_eq!(
            m.anomalies.as_slice(),
            [Anomaly {
                kind: AnomalyKind::Truncated {
                    declared: u32::MAX,
                    available: 6
                },
                span: Span::new(0, 11),
            }]
        );
        assert_eq!(
            parse_message(&buf[..4]),
            Err(ParseError::NeedHeader { have: 4 })
        );
        assert_eq!(parse_message(&[]), Err(ParseError::NeedHeader { have: 0 }));
    }

    #[test]
    fn many_messages_in_one_buffer() {
        let mut buf = Vec::new();
        buf.extend(msg(0x0C, &item(1, b"WiFi")));
        buf.extend(msg(0x0D, &[]));
        buf.extend(msg(
            0x0A,
            &[item(2, &TOKEN), item(4, &[0, 0, 0, 1])].concat(),
        ));
        buf.extend(msg(0x0B, &[item(4, &[0, 0, 0, 1]), item(8, &[0])].concat()));
        let partial = msg(0x0C, &item(1, b"WiFi"));
        buf.extend_from_slice(&partial[..7]);
        let mut it = messages(&buf, 1 << 20);
        let got: Vec<(usize, Command)> = it.by_ref().map(|(o, m)| (o, m.command)).collect();
        assert_eq!(
            got,
            vec![
                (0, Command::KeepAlive),
                (12, Command::KeepAliveAck),
                (17, Command::Message),    // 5 + (3 + 32) + (3 + 4) = 47 bytes
                (64, Command::MessageAck), // 5 + 7 + 4 = 16 bytes
            ]
        );
        assert_eq!(it.offset(), 80);
        assert_eq!(it.remainder(), &partial[..7]);
    }

    #[test]
    fn too_many_items_is_bounded() {
        let payload: Vec<u8> = (0..MAX_ITEMS + 10).flat_map(|_| item(0x63, &[])).collect();
        let buf = msg(0x20, &payload);
        let m = parse_message(&buf).unwrap();
        assert_eq!(m.items.len(), MAX_ITEMS);
        assert!(m
            .anomalies
            .iter()
            .any(|a| a.kind == AnomalyKind::TooManyItems { dropped: 10 }));
    }

    #[test]
    fn no_panic_on_any_short_input() {
        // Exhaustive over all 1–3 byte payloads after a header claiming 3 bytes.
        for a in 0..=255u8 {
            for b in [0u8, 1, 2, 0xff] {
                for c in [0u8, 1, 3, 0xff] {
                    for cmd in [0x07u8, 0x0A, 0x0C, 0x20] {
                        let buf = [cmd, 0, 0, 0, 3, a, b, c];
                        let _ = parse_message(&buf);
                        for cut in 0..buf.len() {
                            let _ = parse_message(&buf[..cut]);
                        }
                    }
                }
            }
        }
    }
}

//! Commands, per-command item tables and typed item values (protocol notes §1).
//!
//! Every command and item id is an *open* set: an id that is not in the tables is kept as
//! [`Command::Unknown`] or as an item without a definition, with its bytes.

use crate::core::span::Span;

crate::value_enum! {
    /// The command byte of a modern (iOS 5+) courier message. Unknown values are kept
    /// (0x13, 0x1D, 0x1E, 0x20 … are seen in the wild unnamed).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Command: u8, open Unknown => "Unknown" {
        /// 0x07, device→server.
        Connect = 0x07 => "Connect";
        /// 0x08, server→device.
        ConnectResponse = 0x08 => "Connect Response";
        /// 0x09, device→server.
        FilterTopics = 0x09 => "Filter Topics";
        /// 0x0A, both directions (push notification; iMessage sends go device→server).
        Message = 0x0A => "Message";
        /// 0x0B, both directions.
        MessageAck = 0x0B => "Message Ack";
        /// 0x0C, device→server.
        KeepAlive = 0x0C => "Keep-Alive";
        /// 0x0D, server→device.
        KeepAliveAck = 0x0D => "Keep-Alive Ack";
        /// 0x0E, server→device.
        NoStorage = 0x0E => "No Storage";
        /// 0x0F, both directions.
        Flush = 0x0F => "Flush";
        /// 0x10, server→device.
        FlushResponse = 0x10 => "Flush Response";
        /// 0x11, device→server.
        ScopedTokenRequest = 0x11 => "Scoped Token Request";
        /// 0x12, server→device.
        ScopedTokenResponse = 0x12 => "Scoped Token Response";
        /// 0x14, device→server.
        SetActiveState = 0x14 => "Set Active State";
    }
}

/// Which way a message normally travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ToServer,
    ToDevice,
    Both,
    Unknown,
}

impl Command {
    pub const fn from_u8(b: u8) -> Command {
        Command::from_code(b)
    }

    pub const fn is_known(self) -> bool {
        !matches!(self, Command::Unknown(_))
    }

    pub const fn direction(self) -> Direction {
        match self {
            Command::Connect
            | Command::FilterTopics
            | Command::KeepAlive
            | Command::ScopedTokenRequest
            | Command::SetActiveState => Direction::ToServer,
            Command::ConnectResponse
            | Command::KeepAliveAck
            | Command::NoStorage
            | Command::FlushResponse
            | Command::ScopedTokenResponse => Direction::ToDevice,
            Command::Message | Command::MessageAck | Command::Flush => Direction::Both,
            Command::Unknown(_) => Direction::Unknown,
        }
    }

    /// The item table of this command (empty for unknown commands and 0x10).
    pub fn items(self) -> &'static [ItemDef] {
        match self {
            Command::Connect => CONNECT,
            Command::ConnectResponse => CONNECT_RESPONSE,
            Command::FilterTopics => FILTER,
            Command::Message => MESSAGE,
            Command::MessageAck => MESSAGE_ACK,
            Command::KeepAlive => KEEPALIVE,
            Command::KeepAliveAck => KEEPALIVE_ACK,
            Command::NoStorage => NO_STORAGE,
            Command::Flush => FLUSH,
            Command::FlushResponse => &[],
            Command::ScopedTokenRequest => SCOPED_REQ,
            Command::ScopedTokenResponse => SCOPED_RESP,
            Command::SetActiveState => SET_STATE,
            Command::Unknown(_) => &[],
        }
    }
}

/// Every command code with a name, in order (for value_string tables).
pub const KNOWN_COMMANDS: [Command; 13] = [
    Command::Connect,
    Command::ConnectResponse,
    Command::FilterTopics,
    Command::Message,
    Command::MessageAck,
    Command::KeepAlive,
    Command::KeepAliveAck,
    Command::NoStorage,
    Command::Flush,
    Command::FlushResponse,
    Command::ScopedTokenRequest,
    Command::ScopedTokenResponse,
    Command::SetActiveState,
];

/// The common display filter fields an item maps to (the rest are shown by name only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Token,
    TopicHash,
    MessageId,
    Payload,
    Status,
    Timestamp,
    Expiry,
    Nonce,
    OsVersion,
    OsBuild,
    Hardware,
    Carrier,
    Interface,
    KeepaliveInterval,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::Token,
        Field::TopicHash,
        Field::MessageId,
        Field::Payload,
        Field::Status,
        Field::Timestamp,
        Field::Expiry,
        Field::Nonce,
        Field::OsVersion,
        Field::OsBuild,
        Field::Hardware,
        Field::Carrier,
        Field::Interface,
        Field::KeepaliveInterval,
    ];

    /// The Wireshark filter name.
    pub const fn abbrev(self) -> &'static str {
        match self {
            Field::Token => "apns.token",
            Field::TopicHash => "apns.topic_hash",
            Field::MessageId => "apns.message_id",
            Field::Payload => "apns.payload",
            Field::Status => "apns.status",
            Field::Timestamp => "apns.timestamp",
            Field::Expiry => "apns.expiry",
            Field::Nonce => "apns.nonce",
            Field::OsVersion => "apns.os_version",
            Field::OsBuild => "apns.os_build",
            Field::Hardware => "apns.hardware",
            Field::Carrier => "apns.carrier",
            Field::Interface => "apns.interface",
            Field::KeepaliveInterval => "apns.keepalive_interval",
        }
    }
}

/// How an item's value is to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A 32-byte push token.
    Token,
    /// A token of any length (scoped tokens, base tokens).
    VarToken,
    /// SHA-1 of a topic name, 20 bytes.
    TopicHash,
    /// 20 bytes → topic hash, otherwise text (or bytes if not UTF-8).
    TopicHashOrText,
    /// Notification payload (JSON or binary plist).
    Payload,
    U8,
    U16,
    U32,
    U64,
    /// Big-endian unsigned integer of 1, 2, 4 or 8 bytes.
    UInt,
    /// 8-byte big-endian milliseconds since the Unix epoch.
    TimeMs,
    /// 8-byte big-endian nanoseconds since the Unix epoch.
    TimeNs,
    /// 4-byte big-endian seconds since the Unix epoch.
    UnixSecs,
    /// UTF-8 text (anomaly if not UTF-8).
    Text,
    /// Text if UTF-8, bytes otherwise, no anomaly.
    MaybeText,
    /// 1 byte: 0 cellular, 1 Wi-Fi.
    Interface,
    /// 17 bytes: 0x00, 8-byte BE Unix ms, 8 random bytes.
    Nonce,
    /// 0x01 0x01, then RSA PKCS#1 v1.5 over SHA-1 of the nonce.
    Signature,
    /// DER certificate.
    Certificate,
    /// Zero padding.
    Padding,
    /// Opaque bytes.
    Bytes,
}

impl Kind {
    /// The exact value length this kind requires, if any.
    pub const fn fixed_len(self) -> Option<usize> {
        match self {
            Kind::Token => Some(32),
            Kind::TopicHash => Some(20),
            Kind::U8 | Kind::Interface => Some(1),
            Kind::U16 => Some(2),
            Kind::U32 | Kind::UnixSecs => Some(4),
            Kind::U64 | Kind::TimeMs | Kind::TimeNs => Some(8),
            Kind::Nonce => Some(17),
            _ => None,
        }
    }
}

/// One known item of one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemDef {
    pub id: u8,
    /// Stable snake_case key (used in the tree and in tests; never changes).
    pub key: &'static str,
    /// Display label.
    pub label: &'static str,
    pub kind: Kind,
    /// The common filter field it is registered under, if any.
    pub field: Option<Field>,
}

const fn d(
    id: u8,
    key: &'static str,
    label: &'static str,
    kind: Kind,
    field: Option<Field>,
) -> ItemDef {
    ItemDef {
        id,
        key,
        label,
        kind,
        field,
    }
}

use Field as F;
use Kind as K;

#[rustfmt::skip]
static CONNECT: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(2, "state", "State", K::U8, None),
    d(5, "flags", "Flags", K::U32, None),
    d(6, "interface", "Interface", K::Interface, Some(F::Interface)),
    d(8, "carrier", "Carrier", K::Text, Some(F::Carrier)),
    d(9, "os_version", "OS version", K::Text, Some(F::OsVersion)),
    d(10, "os_build", "OS build", K::Text, Some(F::OsBuild)),
    d(11, "hardware", "Hardware model", K::Text, Some(F::Hardware)),
    d(12, "certificate", "Device certificate", K::Certificate, None),
    d(13, "nonce", "Nonce", K::Nonce, Some(F::Nonce)),
    d(14, "signature", "Signature", K::Signature, None),
    d(16, "protocol_version", "Protocol version", K::U16, None),
    d(17, "redirect_count", "Redirect count", K::U16, None),
    d(19, "dns_resolve_time", "DNS resolve time (ms)", K::U16, None),
    d(20, "tls_handshake_time", "TLS handshake time (ms)", K::U16, None),
    d(22, "timestamp", "Timestamp", K::TimeMs, Some(F::Timestamp)),
    d(26, "unknown26", "Unknown (26)", K::Bytes, None),
];

#[rustfmt::skip]
static CONNECT_RESPONSE: &[ItemDef] = &[
    d(1, "status", "Status", K::U8, Some(F::Status)),
    d(3, "push_token", "Push token", K::Token, Some(F::Token)),
    d(4, "max_message_size", "Max message size", K::U16, None),
    d(5, "unknown5", "Unknown (5)", K::Bytes, None),
    d(6, "capabilities", "Capabilities", K::Bytes, None),
    d(8, "large_message_size", "Large message size", K::U16, None),
    d(10, "server_time", "Server time", K::TimeMs, Some(F::Timestamp)),
    d(11, "region", "Region", K::MaybeText, None),
    d(12, "server_time2", "Second timestamp", K::TimeMs, Some(F::Timestamp)),
    d(19, "unknown19", "Unknown (19)", K::Bytes, None),
];

#[rustfmt::skip]
static FILTER: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(2, "enabled_topic", "Enabled topic", K::TopicHash, Some(F::TopicHash)),
    d(3, "ignored_topic", "Ignored topic", K::TopicHash, Some(F::TopicHash)),
    d(4, "opportunistic_topic", "Opportunistic topic", K::TopicHash, Some(F::TopicHash)),
    d(5, "paused_topic", "Paused topic", K::TopicHash, Some(F::TopicHash)),
    d(6, "non_waking_topic", "Non-waking topic", K::TopicHash, Some(F::TopicHash)),
    d(12, "unknown12", "Unknown (12)", K::Bytes, None),
];

/// Item 1 or 2 of a Message when it is 32 bytes long.
#[rustfmt::skip]
pub static MESSAGE_TOKEN: ItemDef = d(0, "push_token", "Push token", K::Token, Some(F::Token));
/// Item 1 or 2 of a Message when it is 20 bytes long.
#[rustfmt::skip]
pub static MESSAGE_TOPIC: ItemDef = d(0, "topic_hash", "Topic", K::TopicHash, Some(F::TopicHash));
/// Item 1 or 2 of a Message with any other length.
#[rustfmt::skip]
pub static MESSAGE_TOKEN_OR_TOPIC: ItemDef =
    d(0, "token_or_topic", "Token or topic", K::Bytes, None);

#[rustfmt::skip]
static MESSAGE: &[ItemDef] = &[
    // Ids 1 and 2 are resolved by length in `item_def`; these rows name the ambiguity.
    d(1, "token_or_topic", "Token or topic", K::Bytes, None),
    d(2, "token_or_topic", "Token or topic", K::Bytes, None),
    d(3, "payload", "Payload", K::Payload, Some(F::Payload)),
    d(4, "message_id", "Message id", K::U32, Some(F::MessageId)),
    d(5, "expiry", "Expiry", K::UnixSecs, Some(F::Expiry)),
    d(6, "timestamp", "Timestamp", K::TimeNs, Some(F::Timestamp)),
    d(7, "unknown7", "Unknown (7)", K::Bytes, None),
    d(9, "storage_flags", "Storage flags", K::U8, None),
    d(13, "priority", "Priority", K::U8, None),
    d(15, "base_token", "Base token", K::VarToken, Some(F::Token)),
    d(21, "tracing_id", "Tracing id", K::Bytes, None),
    d(24, "correlation_id", "Correlation id", K::Bytes, None),
    d(25, "last_rtt", "Last RTT", K::U16, None),
    d(26, "flags", "Flags", K::U32, None),
    d(28, "push_type", "Push type", K::UInt, None),
    d(29, "unknown29", "Unknown (29)", K::Bytes, None),
];

#[rustfmt::skip]
static MESSAGE_ACK: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(4, "message_id", "Message id", K::U32, Some(F::MessageId)),
    d(6, "unknown6", "Unknown (6)", K::Bytes, None),
    d(8, "status", "Status", K::U8, Some(F::Status)),
];

#[rustfmt::skip]
static KEEPALIVE: &[ItemDef] = &[
    d(1, "carrier", "Connection method", K::Text, Some(F::Carrier)),
    d(2, "os_version", "OS version", K::Text, Some(F::OsVersion)),
    d(3, "os_build", "OS build", K::Text, Some(F::OsBuild)),
    d(4, "hardware", "Hardware model", K::Text, Some(F::Hardware)),
    d(5, "keepalive_interval", "Keep-alive interval (min)", K::UInt, Some(F::KeepaliveInterval)),
    d(6, "unknown6", "Unknown (6)", K::MaybeText, None),
    d(9, "unknown9", "Unknown (9)", K::UInt, None),
    d(10, "unknown10", "Unknown (10)", K::UInt, None),
];

#[rustfmt::skip]
static KEEPALIVE_ACK: &[ItemDef] = &[d(1, "unknown1", "Unknown (1)", K::UInt, None)];

#[rustfmt::skip]
static NO_STORAGE: &[ItemDef] = &[d(1, "push_token", "Push token", K::Token, Some(F::Token))];

#[rustfmt::skip]
static FLUSH: &[ItemDef] = &[
    d(1, "padding_length", "Wanted padding length", K::U16, None),
    d(2, "padding", "Padding", K::Padding, None),
];

#[rustfmt::skip]
static SCOPED_REQ: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(2, "topic_hash", "Topic", K::TopicHash, Some(F::TopicHash)),
    d(3, "app_id", "App id", K::MaybeText, None),
];

#[rustfmt::skip]
static SCOPED_RESP: &[ItemDef] = &[
    d(1, "status", "Status", K::U8, Some(F::Status)),
    d(2, "scoped_token", "Scoped token", K::VarToken, Some(F::Token)),
    d(3, "topic", "Topic", K::TopicHashOrText, None),
    // Not in the notes; pypush 2.0.2 (ScopedTokenAck) reads item 4 as app id.
    d(4, "app_id", "App id", K::MaybeText, None),
];

#[rustfmt::skip]
static SET_STATE: &[ItemDef] = &[
    d(1, "state", "State", K::U8, None),
    d(2, "unknown2", "Unknown (2)", K::U32, None),
];

/// The definition of item `id` of `command` with a value `value_len` bytes long.
///
/// For a Message (0x0A), items 1 and 2 hold the token and the topic hash in an order that
/// depends on the direction; they are told apart by length (32 vs 20).
pub fn item_def(command: Command, id: u8, value_len: usize) -> Option<&'static ItemDef> {
    if command == Command::Message && (id == 1 || id == 2) {
        return Some(match value_len {
            32 => &MESSAGE_TOKEN,
            20 => &MESSAGE_TOPIC,
            _ => &MESSAGE_TOKEN_OR_TOPIC,
        });
    }
    command.items().iter().find(|def| def.id == id)
}

crate::value_enum! {
    /// The network interface in a Connect.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Interface: u8, open Unknown => "Unknown" {
        Cellular = 0 => "Cellular";
        WiFi = 1 => "Wi-Fi";
    }
}

/// A typed view of an item value. Borrowed from the packet, never copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Token(&'a [u8]),
    TopicHash(&'a [u8; 20]),
    Payload(&'a [u8]),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    /// Milliseconds since the Unix epoch.
    TimeMs(u64),
    /// Nanoseconds since the Unix epoch.
    TimeNs(u64),
    /// Seconds since the Unix epoch (expiry).
    UnixSecs(u32),
    Text(&'a str),
    Interface(Interface),
    /// `version` is the first byte (0x00 in every known nonce).
    Nonce {
        version: u8,
        time_ms: u64,
        random: &'a [u8; 8],
    },
    /// `scheme` is the first two bytes (0x01 0x01 seen), `body` the RSA signature.
    Signature {
        scheme: [u8; 2],
        body: &'a [u8],
    },
    Certificate(&'a [u8]),
    Padding(&'a [u8]),
    Bytes(&'a [u8]),
}

impl Value<'_> {
    /// The value as an unsigned integer, when it is one of the integer kinds.
    pub fn as_uint(&self) -> Option<u64> {
        match *self {
            Value::U8(x) => Some(u64::from(x)),
            Value::U16(x) => Some(u64::from(x)),
            Value::U32(x) => Some(u64::from(x)),
            Value::U64(x) => Some(x),
            _ => None,
        }
    }
}

/// Why a value could not be read as its kind (it is then given as [`Value::Bytes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueError {
    /// The kind needs exactly `expected` bytes (`0` for the variable-width integer: 1, 2, 4 or 8).
    BadLength {
        expected: usize,
    },
    NotUtf8,
}

fn uint_be(v: &[u8]) -> Option<u64> {
    match v.len() {
        1 | 2 | 4 | 8 => Some(v.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))),
        _ => None,
    }
}

/// Read `value` as `kind`. On a length or encoding mismatch the raw bytes come back as
/// [`Value::Bytes`] together with the reason.
pub fn decode(kind: Kind, value: &[u8]) -> (Value<'_>, Option<ValueError>) {
    use nom::number::complete::{be_u16, be_u32, be_u64, be_u8};
    type E<'x> = nom::error::Error<&'x [u8]>;
    if let Some(n) = kind.fixed_len() {
        if value.len() != n {
            return (
                Value::Bytes(value),
                Some(ValueError::BadLength { expected: n }),
            );
        }
    }
    let v = match kind {
        Kind::Token | Kind::VarToken => Value::Token(value),
        Kind::TopicHash => match <&[u8; 20]>::try_from(value) {
            Ok(h) => Value::TopicHash(h),
            Err(_) => {
                return (
                    Value::Bytes(value),
                    Some(ValueError::BadLength { expected: 20 }),
                )
            }
        },
        Kind::TopicHashOrText => match <&[u8; 20]>::try_from(value) {
            Ok(h) => Value::TopicHash(h),
            Err(_) => match core::str::from_utf8(value) {
                Ok(s) => Value::Text(s),
                Err(_) => Value::Bytes(value),
            },
        },
        Kind::Payload => Value::Payload(value),
        Kind::U8 => match be_u8::<_, E>(value) {
            Ok((_, x)) => Value::U8(x),
            Err(_) => Value::Bytes(value),
        },
        Kind::Interface => match be_u8::<_, E>(value) {
            Ok((_, x)) => Value::Interface(Interface::from_code(x)),
            Err(_) => Value::Bytes(value),
        },
        Kind::U16 => match be_u16::<_, E>(value) {
            Ok((_, x)) => Value::U16(x),
            Err(_) => Value::Bytes(value),
        },
        Kind::U32 => match be_u32::<_, E>(value) {
            Ok((_, x)) => Value::U32(x),
            Err(_) => Value::Bytes(value),
        },
        Kind::UnixSecs => match be_u32::<_, E>(value) {
            Ok((_, x)) => Value::UnixSecs(x),
            Err(_) => Value::Bytes(value),
        },
        Kind::U64 | Kind::TimeMs | Kind::TimeNs => match be_u64::<_, E>(value) {
            Ok((_, x)) => match kind {
                Kind::TimeMs => Value::TimeMs(x),
                Kind::TimeNs => Value::TimeNs(x),
                _ => Value::U64(x),
            },
            Err(_) => Value::Bytes(value),
        },
        Kind::UInt => match (uint_be(value), value.len()) {
            (Some(x), 1) => Value::U8(x as u8),
            (Some(x), 2) => Value::U16(x as u16),
            (Some(x), 4) => Value::U32(x as u32),
            (Some(x), _) => Value::U64(x),
            (None, _) => {
                return (
                    Value::Bytes(value),
                    Some(ValueError::BadLength { expected: 0 }),
                )
            }
        },
        Kind::Text => match core::str::from_utf8(value) {
            Ok(s) => Value::Text(s),
            Err(_) => return (Value::Bytes(value), Some(ValueError::NotUtf8)),
        },
        Kind::MaybeText => match core::str::from_utf8(value) {
            Ok(s) => Value::Text(s),
            Err(_) => Value::Bytes(value),
        },
        Kind::Nonce => match parse_nonce(value) {
            Some(v) => v,
            None => {
                return (
                    Value::Bytes(value),
                    Some(ValueError::BadLength { expected: 17 }),
                )
            }
        },
        Kind::Signature => match value {
            [a, b, body @ ..] => Value::Signature {
                scheme: [*a, *b],
                body,
            },
            _ => Value::Bytes(value),
        },
        Kind::Certificate => Value::Certificate(value),
        Kind::Padding => Value::Padding(value),
        Kind::Bytes => Value::Bytes(value),
    };
    (v, None)
}

fn parse_nonce(value: &[u8]) -> Option<Value<'_>> {
    use nom::bytes::complete::take;
    use nom::number::complete::{be_u64, be_u8};
    use nom::sequence::tuple;
    type E<'x> = nom::error::Error<&'x [u8]>;
    let (rest, (version, time_ms, random)) =
        tuple((be_u8::<_, E>, be_u64, take(8usize)))(value).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let random = <&[u8; 8]>::try_from(random).ok()?;
    Some(Value::Nonce {
        version,
        time_ms,
        random,
    })
}

/// Where the parts of a nonce sit, relative to the start of its value.
pub mod nonce_at {
    use crate::core::span::Span;
    pub const VERSION: Span = Span::new(0, 1);
    pub const TIME_MS: Span = Span::new(1, 8);
    pub const RANDOM: Span = Span::new(9, 8);
}

/// Span helper: a sub-range of a value span.
pub fn sub(value_span: Span, rel: Span) -> Span {
    rel.shift(value_span.offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_roundtrip_and_open() {
        for b in 0..=255u8 {
            assert_eq!(Command::from_u8(b).code(), b);
        }
        assert_eq!(Command::from_u8(0x13), Command::Unknown(0x13));
        assert_eq!(Command::from_u8(0x0A).name(), "Message");
        assert_eq!(KNOWN_COMMANDS.len(), 13);
        assert!(KNOWN_COMMANDS.iter().all(|c| c.is_known()));
    }

    #[test]
    fn tables_have_unique_ids_and_keys() {
        for c in KNOWN_COMMANDS {
            let t = c.items();
            for (i, a) in t.iter().enumerate() {
                for b in &t[i + 1..] {
                    assert_ne!(a.id, b.id, "{:?} duplicate id", c);
                }
                assert!(a
                    .key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
            }
        }
    }

    #[test]
    fn field_abbrevs_unique_and_prefixed() {
        for (i, a) in Field::ALL.iter().enumerate() {
            assert!(a.abbrev().starts_with("apns."));
            for b in &Field::ALL[i + 1..] {
                assert_ne!(a.abbrev(), b.abbrev());
            }
        }
    }

    #[test]
    fn message_items_by_length() {
        assert_eq!(item_def(Command::Message, 1, 32).unwrap().key, "push_token");
        assert_eq!(item_def(Command::Message, 2, 32).unwrap().key, "push_token");
        assert_eq!(item_def(Command::Message, 1, 20).unwrap().key, "topic_hash");
        assert_eq!(item_def(Command::Message, 2, 20).unwrap().key, "topic_hash");
        assert_eq!(
            item_def(Command::Message, 2, 7).unwrap().key,
            "token_or_topic"
        );
        assert_eq!(
            item_def(Command::Message, 4, 4).unwrap().field,
            Some(Field::MessageId)
        );
        assert!(item_def(Command::Message, 99, 4).is_none());
        assert!(item_def(Command::Unknown(0x20), 1, 4).is_none());
    }

    #[test]
    fn decode_values() {
        assert_eq!(decode(Kind::U16, &[0x12, 0x34]), (Value::U16(0x1234), None));
        assert_eq!(
            decode(Kind::U16, &[0x12]),
            (
                Value::Bytes(&[0x12]),
                Some(ValueError::BadLength { expected: 2 })
            )
        );
        assert_eq!(decode(Kind::UInt, &[0, 20]), (Value::U16(20), None));
        assert_eq!(decode(Kind::UInt, &[20]), (Value::U8(20), None));
        assert_eq!(
            decode(Kind::UInt, &[0, 0, 20]).1,
            Some(ValueError::BadLength { expected: 0 })
        );
        assert_eq!(decode(Kind::Text, b"16.5"), (Value::Text("16.5"), None));
        assert_eq!(decode(Kind::Text, &[0xff]).1, Some(ValueError::NotUtf8));
        assert_eq!(
            decode(Kind::Interface, &[1]),
            (Value::Interface(Interface::WiFi), None)
        );
        assert_eq!(
            decode(Kind::Interface, &[0]),
            (Value::Interface(Interface::Cellular), None)
        );
        assert_eq!(
            decode(Kind::Interface, &[7]),
            (Value::Interface(Interface::Unknown(7)), None)
        );
        // 8-byte ns: 1 s = 1_000_000_000 = 0x3B9ACA00
        assert_eq!(
            decode(Kind::TimeNs, &[0, 0, 0, 0, 0x3b, 0x9a, 0xca, 0]),
            (Value::TimeNs(1_000_000_000), None)
        );
        assert_eq!(
            decode(Kind::Signature, &[1, 1, 9]),
            (
                Value::Signature {
                    scheme: [1, 1],
                    body: &[9]
                },
                None
            )
        );
        assert_eq!(decode(Kind::Signature, &[1]), (Value::Bytes(&[1]), None));
        assert_eq!(
            decode(Kind::Token, &[0; 31]).1,
            Some(ValueError::BadLength { expected: 32 })
        );
        assert_eq!(
            decode(Kind::TopicHashOrText, b"abc"),
            (Value::Text("abc"), None)
        );
    }

    #[test]
    fn decode_nonce() {
        // 0x00, then 1_700_000_000_000 ms = 0x0000018BCFE56800, then 8 random bytes.
        let n = [
            0u8, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 1, 2, 3, 4, 5, 6, 7, 8,
        ];
        assert_eq!(
            decode(Kind::Nonce, &n),
            (
                Value::Nonce {
                    version: 0,
                    time_ms: 1_700_000_000_000,
                    random: &[1, 2, 3, 4, 5, 6, 7, 8]
                },
                None
            )
        );
        assert_eq!(
            decode(Kind::Nonce, &n[..16]).1,
            Some(ValueError::BadLength { expected: 17 })
        );
        assert_eq!(sub(Span::new(10, 17), nonce_at::RANDOM), Span::new(19, 8));
    }
}

//! Commands, per-command item tables and typed item values (protocol notes §1).
//!
//! Every command and item id is an *open* set: an id that is not in the tables is kept as
//! [`Command::Unknown`] or as an item without a definition, with its bytes.

use crate::core::span::Span;
use std::ffi::CStr;

crate::value_enum! {
    /// The command byte of a modern (iOS 5+) courier message. Unknown values are kept
    /// (0x13, 0x1E, 0x20 … are seen in the wild; pypush calls 29, 30 and 32 its "PubSub
    /// commands", commit 72ee9a6, and only 29 = 0x1D has a public layout: rustpush).
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
        /// 0x1D, both directions: the device's channel subscription (rustpush
        /// `APSMessage::SubscribeToChannels`) and the server's confirmation
        /// (`SubscribeConfirm`).
        SubscribeChannels = 0x1D => "Channel Subscription";
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
            Command::Message | Command::MessageAck | Command::Flush | Command::SubscribeChannels => Direction::Both,
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
            Command::SubscribeChannels => SUBSCRIBE,
            Command::Unknown(_) => &[],
        }
    }
}

/// Every command code with a name, in order (for value_string tables).
pub const KNOWN_COMMANDS: [Command; 14] = [
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
    Command::SubscribeChannels,
];

/// Commands seen in real sessions whose layout no public source gives: pypush (commit
/// 72ee9a6, `UnknownCommand.__repr__`) names 29, 30 and 32 its "PubSub commands" and hides
/// their items; only 29 (0x1D) is decoded (rustpush). The two others stay unknown, with
/// this said of them.
pub fn unknown_note(code: u8) -> Option<&'static str> {
    match code {
        0x1E | 0x20 => Some("pub/sub command (pypush's \"PubSub commands\" 29, 30, 32); its layout is not public"),
        _ => None,
    }
}

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
    /// A StatusKit `SubscribeToChannel` protobuf (0x1D item 2; [`super::channels`]).
    ChannelList,
    /// A StatusKit `Channel` protobuf (0x0A item 29; [`super::channels`]).
    Channel,
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

/// The unit an item's number counts (shown after the value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Minutes,
    Bytes,
}

impl Unit {
    /// The number with its unit, for summaries ("35 ms", "4096 bytes").
    pub fn with(self, x: u64) -> String {
        match self {
            Unit::Milliseconds => format!("{x} ms"),
            Unit::Minutes => format!("{x} min"),
            Unit::Bytes => format!("{x} byte{}", if x == 1 { "" } else { "s" }),
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
    /// What the value is and where it comes from, for the item's own field (one sentence;
    /// empty for an item with a common field, which has its own description).
    pub about: &'static str,
    /// The unit of a number.
    pub unit: Option<Unit>,
    /// Names of a number's values (code, name).
    pub vals: Option<&'static [(u32, &'static CStr)]>,
}

impl ItemDef {
    const fn about(mut self, about: &'static str) -> Self {
        self.about = about;
        self
    }
    const fn unit(mut self, unit: Unit) -> Self {
        self.unit = Some(unit);
        self
    }
    const fn vals(mut self, vals: &'static [(u32, &'static CStr)]) -> Self {
        self.vals = Some(vals);
        self
    }

    /// A number as its summary shows it: with its value name or unit when it has one.
    pub fn number_text(&self, x: u64) -> String {
        if let Some(name) = self.vals.and_then(|v| v.iter().find(|(c, _)| u64::from(*c) == x)) {
            return format!("{} ({x})", name.1.to_string_lossy());
        }
        match self.unit {
            Some(u) => u.with(x),
            None => x.to_string(),
        }
    }
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
        about: "",
        unit: None,
        vals: None,
    }
}

use Field as F;
use Kind as K;
use Unit as U;

#[rustfmt::skip]
static CONNECT: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(2, "state", "Presence state", K::U8, None).vals(PresenceState::VALS)
        .about("State the device connects in: 1 present (the usual Connect of apsd, pypush and rustpush); 2 is sent with nothing but the token (apsd's presence status)"),
    d(5, "flags", "Presence flags", K::U32, None)
        .about("Bit field of the device's presence options (pypush sends 0x41; apsd sets bits per interface and build; the bits are not publicly documented)"),
    d(6, "interface", "Interface", K::Interface, Some(F::Interface)),
    d(8, "carrier", "Carrier", K::Text, Some(F::Carrier)),
    d(9, "os_version", "OS version", K::Text, Some(F::OsVersion)),
    d(10, "os_build", "OS build", K::Text, Some(F::OsBuild)),
    d(11, "hardware", "Hardware model", K::Text, Some(F::Hardware)),
    d(12, "certificate", "Device certificate", K::Certificate, None)
        .about("DER X.509 certificate of the device's push identity, whose key made the Connect signature"),
    d(13, "nonce", "Nonce", K::Nonce, Some(F::Nonce)),
    d(14, "signature", "Signature", K::Signature, None)
        .about("Signature of the nonce: a 2-byte scheme, then RSA PKCS#1 v1.5 over SHA-1 with the device certificate's key (the server checks it)"),
    d(16, "protocol_version", "Protocol version", K::U16, None)
        .about("Courier protocol version the client speaks (pypush sends 11, rustpush 9, recent apsd 12)"),
    d(17, "redirect_count", "Redirect count", K::U16, None)
        .about("How many times servers redirected the client to another courier host before this Connect"),
    d(19, "dns_resolve_time", "DNS resolve time", K::U16, None).unit(U::Milliseconds)
        .about("How long resolving the courier host name took, as the client measured it (apsd caps it at 65000)"),
    d(20, "tls_handshake_time", "TLS handshake time", K::U16, None).unit(U::Milliseconds)
        .about("How long the TLS handshake with the courier took, as the client measured it (apsd caps it at 65000)"),
    d(22, "timestamp", "Timestamp", K::TimeMs, Some(F::Timestamp)),
    d(26, "unknown26", "Last disconnect reason", K::Bytes, None)
        .about("4 bytes apsd sends after a disconnect: why the previous connection ended (its disconnect reason; the codes are not public), shown as bytes"),
];

#[rustfmt::skip]
static CONNECT_RESPONSE: &[ItemDef] = &[
    d(1, "status", "Status", K::U8, Some(F::Status)),
    d(3, "push_token", "Push token", K::Token, Some(F::Token)),
    d(4, "max_message_size", "Max message size", K::U16, None).unit(U::Bytes)
        .about("Largest message the server accepts from the device on this connection"),
    d(5, "unknown5", "Unknown (5)", K::Bytes, None)
        .about("2 bytes of unknown meaning (00 02 observed; no client reads them)"),
    d(6, "capabilities", "Capabilities", K::Bytes, None)
        .about("Server capability bits, 4 bytes (apsd reads bit 0 as dual-channel support, 1 report last reverse-push RTT, 2 filter optimisation, 3 server-requested TTR)"),
    d(8, "large_message_size", "Large message size", K::U16, None).unit(U::Bytes)
        .about("Largest message the server accepts for topics allowed large payloads"),
    d(10, "server_time", "Server time", K::TimeMs, Some(F::Timestamp)),
    d(11, "region", "Region", K::MaybeText, None)
        .about("Geographic region the server placed the device in, as text (apsd's geo region)"),
    d(12, "server_time2", "Second timestamp", K::TimeMs, Some(F::Timestamp)),
    d(19, "unknown19", "Client IP address", K::Bytes, None)
        .about("The device's address as the server saw it (apsd reads item 19 as the client IP address), shown as bytes"),
];

#[rustfmt::skip]
static FILTER: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(2, "enabled_topic", "Enabled topic", K::TopicHash, Some(F::TopicHash)),
    d(3, "ignored_topic", "Ignored topic", K::TopicHash, Some(F::TopicHash)),
    d(4, "opportunistic_topic", "Opportunistic topic", K::TopicHash, Some(F::TopicHash)),
    d(5, "paused_topic", "Paused topic", K::TopicHash, Some(F::TopicHash)),
    d(6, "non_waking_topic", "Non-waking topic", K::TopicHash, Some(F::TopicHash)),
    d(12, "unknown12", "Filter version", K::Bytes, None)
        .about("8-byte version number of this topic filter (apsd sends its filter version here), shown as bytes"),
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
    d(0, "token_or_topic", "Token or topic", K::Bytes, None).about(TOKEN_OR_TOPIC);

const TOKEN_OR_TOPIC: &str =
    "Item 1 or 2 of a Message whose length fits neither a push token (32 bytes) nor a topic hash (20 bytes), shown as bytes";

#[rustfmt::skip]
static MESSAGE: &[ItemDef] = &[
    // Ids 1 and 2 are resolved by length in `item_def`; these rows name the ambiguity.
    d(1, "token_or_topic", "Token or topic", K::Bytes, None).about(TOKEN_OR_TOPIC),
    d(2, "token_or_topic", "Token or topic", K::Bytes, None).about(TOKEN_OR_TOPIC),
    d(3, "payload", "Payload", K::Payload, Some(F::Payload)),
    d(4, "message_id", "Message id", K::U32, Some(F::MessageId)),
    d(5, "expiry", "Expiry", K::UnixSecs, Some(F::Expiry)),
    d(6, "timestamp", "Timestamp", K::TimeNs, Some(F::Timestamp)),
    d(7, "unknown7", "Unknown (7)", K::Bytes, None)
        .about("Bytes of unknown meaning (00 observed); no public client reads them"),
    d(9, "storage_flags", "Storage flags", K::U8, None)
        .about("Flags on how the server stored the message before delivery (apsd's storage flags; the bits are not public)"),
    d(13, "priority", "Priority", K::U8, None).vals(Priority::VALS)
        .about("Delivery priority the sender gave: 10 immediate, 5 considering the device's power, 1 power first (apsd reads values below 5 as 1 and 5-9 as 5; the provider API's apns-priority)"),
    d(15, "base_token", "Base token", K::VarToken, Some(F::Token)),
    d(21, "tracing_id", "Tracing id", K::Bytes, None)
        .about("UUID the server attaches to trace the message's delivery (apsd's message tracing UUID)"),
    d(24, "correlation_id", "Correlation id", K::Bytes, None)
        .about("Correlation identifier of the message, text (apsd's message correlation identifier), shown as bytes"),
    d(25, "last_rtt", "Last RTT", K::U16, None)
        .about("Round-trip time of the sender's previous message, as it measured it (apsd's last RTT; the unit is not confirmed)"),
    d(26, "flags", "APN flags", K::U32, None)
        .about("Flags of the push (apsd's APN flags; the bits are not public)"),
    d(28, "push_type", "Push type", K::UInt, None)
        .about("Kind of push (apsd's push type, 2 bytes; the values are not public)"),
    d(29, "unknown29", "Channel", K::Channel, None)
        .about("StatusKit channel a pub/sub push was published on, protobuf: channel id and last message time (rustpush reads item 0x1D as a statuskit Channel; apsd's message pub/sub info)"),
];

#[rustfmt::skip]
static MESSAGE_ACK: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(4, "message_id", "Message id", K::U32, Some(F::MessageId)),
    d(6, "unknown6", "Ack timestamp", K::Bytes, None)
        .about("8-byte time of the acknowledgement (apsd's ack timestamp), shown as bytes"),
    d(8, "status", "Status", K::U8, Some(F::Status)),
];

#[rustfmt::skip]
static KEEPALIVE: &[ItemDef] = &[
    d(1, "carrier", "Connection method", K::Text, Some(F::Carrier)),
    d(2, "os_version", "OS version", K::Text, Some(F::OsVersion)),
    d(3, "os_build", "OS build", K::Text, Some(F::OsBuild)),
    d(4, "hardware", "Hardware model", K::Text, Some(F::Hardware)),
    d(5, "keepalive_interval", "Keep-alive interval", K::UInt, Some(F::KeepaliveInterval)),
    d(6, "unknown6", "Unknown (6)", K::MaybeText, None)
        .about("Text of unknown meaning (pypush names it unknown6)"),
    d(9, "unknown9", "Unknown (9)", K::UInt, None)
        .about("Number of unknown meaning, 1 byte in pypush (which names it unknown9)"),
    d(10, "unknown10", "Unknown (10)", K::UInt, None)
        .about("Number of unknown meaning, 1 byte in pypush (which names it unknown10)"),
];

#[rustfmt::skip]
static KEEPALIVE_ACK: &[ItemDef] = &[d(1, "unknown1", "Keep-alive response", K::UInt, None)
    .about("The server's answer to the keep-alive, 1 byte (apsd's keep-alive response; its values are not public)")];

#[rustfmt::skip]
static NO_STORAGE: &[ItemDef] = &[d(1, "push_token", "Push token", K::Token, Some(F::Token))];

#[rustfmt::skip]
static FLUSH: &[ItemDef] = &[
    d(1, "padding_length", "Wanted padding length", K::U16, None).unit(U::Bytes)
        .about("Padding the sender asks the peer to put in its Flush Response"),
    d(2, "padding", "Padding", K::Padding, None)
        .about("Zero bytes that bring the Flush to the length its sender wanted"),
];

#[rustfmt::skip]
static SCOPED_REQ: &[ItemDef] = &[
    d(1, "push_token", "Push token", K::Token, Some(F::Token)),
    d(2, "topic_hash", "Topic", K::TopicHash, Some(F::TopicHash)),
    d(3, "app_id", "App id", K::MaybeText, None)
        .about("Identifier of the app the scoped token is asked for (text when it is UTF-8, else bytes)"),
];

#[rustfmt::skip]
static SCOPED_RESP: &[ItemDef] = &[
    d(1, "status", "Status", K::U8, Some(F::Status)),
    d(2, "scoped_token", "Scoped token", K::VarToken, Some(F::Token)),
    d(3, "topic", "Topic", K::TopicHashOrText, None),
    // Not in the notes; pypush 2.0.2 (ScopedTokenAck) reads item 4 as app id.
    d(4, "app_id", "App id", K::MaybeText, None)
        .about("Identifier of the app the token was issued for (pypush reads item 4 as its app id)"),
];

#[rustfmt::skip]
static SET_STATE: &[ItemDef] = &[
    d(1, "state", "Active state", K::U8, None).vals(ActiveState::VALS)
        .about("Whether the device asks to be treated as active (1) or inactive (2), as apsd sends it"),
    d(2, "unknown2", "Active interval", K::U32, None)
        .about("How long the active state is to last, sent with state 1 only (rustpush and old pypush send 0x7FFFFFFF; the unit is not public)"),
];

#[rustfmt::skip]
static SUBSCRIBE: &[ItemDef] = &[
    d(1, "index", "Subscription index", K::U32, None)
        .about("Number of the subscription, counted up by the device from 1 and repeated in the server's confirmation (rustpush's sub_counter)"),
    d(2, "channels", "Channel list", K::ChannelList, None)
        .about("The channels subscribed and unsubscribed, per topic: a StatusKit SubscribeToChannel protobuf (rustpush's statuskit.proto)"),
    d(3, "push_token", "Push token", K::Token, Some(F::Token)),
    d(4, "status", "Status", K::U8, Some(F::Status)),
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
    /// The result in a Connect Response (item 1), Message Ack (item 8) and Scoped Token
    /// Response (item 1). 0 is success in every client (pypush and rustpush check for it);
    /// 2 is the refusal seen when a Connect carries a token the server rejects
    /// (mfrister/pushproxy's notes). No other code is publicly named.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Status: u8, open Unknown => "Unknown" {
        Ok = 0 => "OK";
        Error = 2 => "Error";
    }
}

crate::value_enum! {
    /// Connect item 2 (apsd's presence status): 1 in the usual Connect; apsd sends 2 with
    /// nothing but the push token.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum PresenceState: u8, open Unknown => "Unknown" {
        Present = 1 => "Present";
        NotPresent = 2 => "Not present";
    }
}

crate::value_enum! {
    /// Set Active State item 1: apsd sends 1 to become active (with an interval, item 2)
    /// and 2 to become inactive.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum ActiveState: u8, open Unknown => "Unknown" {
        Active = 1 => "Active";
        Inactive = 2 => "Inactive";
    }
}

crate::value_enum! {
    /// Message item 13 (apsd's message priority), on the scale of the provider API's
    /// `apns-priority`: apsd reads a missing value or one of 10 and more as 10, 5–9 as 5 and
    /// anything lower as 1.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum Priority: u8, open Unknown => "Unknown" {
        PowerFirst = 1 => "Power first";
        PowerConsidered = 5 => "Power considered";
        Immediate = 10 => "Immediate";
    }
}

crate::value_enum! {
    /// The first two bytes of the Connect signature (item 14): 0x0101 is RSA PKCS#1 v1.5
    /// over SHA-1 of the nonce, the only scheme any client sends (pypush, rustpush).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum SignatureScheme: u16, open Unknown => "Unknown" {
        RsaSha1 = 0x0101 => "RSA PKCS#1 v1.5 with SHA-1";
    }
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
        Kind::Bytes | Kind::ChannelList | Kind::Channel => Value::Bytes(value),
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
        assert_eq!(KNOWN_COMMANDS.len(), 14);
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
    fn items_with_their_own_field_say_what_they_are() {
        let extra = [&MESSAGE_TOKEN, &MESSAGE_TOPIC, &MESSAGE_TOKEN_OR_TOPIC];
        for def in KNOWN_COMMANDS.iter().flat_map(|c| c.items()).chain(extra) {
            let own = def.field.is_none() && def.kind != Kind::TopicHashOrText;
            assert_eq!(own, !def.about.is_empty(), "{}: a description exactly when it has its own field", def.key);
            assert!(!def.label.contains('(') || def.label.starts_with("Unknown ("), "{}: unit or note in the label", def.label);
            assert!(def.vals.is_none() || def.unit.is_none(), "{}: value names and a unit", def.key);
        }
    }

    #[test]
    fn numbers_read_with_their_names_and_units() {
        let state = item_def(Command::SetActiveState, 1, 1).unwrap();
        assert_eq!(state.number_text(1), "Active (1)");
        assert_eq!(state.number_text(7), "7");
        let dns = item_def(Command::Connect, 19, 2).unwrap();
        assert_eq!(dns.number_text(35), "35 ms");
        let max = item_def(Command::ConnectResponse, 4, 2).unwrap();
        assert_eq!(max.number_text(1), "1 byte");
        assert_eq!(max.number_text(4096), "4096 bytes");
        assert_eq!(Status::from_code(0), Status::Ok);
        assert_eq!(Priority::from_code(10).name(), "Immediate");
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

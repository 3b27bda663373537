//! APNs courier (device ↔ push server, TCP 5223): glue from `core::apns` and `core::bplist`
//! to Wireshark.
//!
//! Reached four ways:
//! - TLS on TCP 5223 (preference `apns.tls.port`): with a TLS key log the decrypted stream
//!   is dissected here. The TCP port itself is not given to TLS: stock's TLS heuristic finds
//!   TLS on it (also mid-stream), and whatever else runs on 5223 (XMPP, a VPN client, a
//!   cleartext courier for the `apns_tcp` heuristic) stays as stock reads it;
//! - the TLS ALPN table: `apns-security-v3` → this dissector, `apns-pack-v1` → a labelling
//!   dissector that does not guess inside the packed encoding;
//! - the TCP heuristic `apns_tcp` for cleartext courier streams (proxies, tests), which pins
//!   the conversation to this dissector after a strict match;
//! - Decode As (`tcp.port`, `tls.port`).
//!
//! Messages are framed with `tcp_dissect_pdus` (the length checked against the
//! `apns.max_message_size` preference before anything is buffered). The framing of a
//! connection (iOS 5+ TLV, or iOS 4 commands 0x00–0x06) is decided from its first bytes.
//! Message ↔ ack, Connect ↔ Connect Response, Keep-Alive ↔ Keep-Alive Ack and Scoped Token
//! request ↔ response are linked by `core::apns::Session` on the first pass.

use crate::core::apns::items::{self, nonce_at, sub, Command, Field as CoreField, Kind, KNOWN_COMMANDS};
use crate::core::apns::legacy::{self, LegacyBody, LegacyCommand, LegacyMessage};
use crate::core::apns::message::{at, AnomalyKind, Item as CoreItem};
use crate::core::apns::{self as core_apns, framing, Dir, Framing, Pos, PduLen, Session, Value};
use crate::core::bplist;
use crate::core::span::Span;
use crate::epan::*;
use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::sync::OnceLock;

pub mod names;

pub static PROTO: Protocol = Protocol::new(c"Apple Push Notification service (courier)", c"APNs", c"apns");

// ---------------------------------------------------------------------------------------
// Fields.

static HF_COMMAND: HfId = HfId::new();
static HF_LENGTH: HfId = HfId::new();
static HF_ITEM_ID: HfId = HfId::new();
static HF_ITEM_LENGTH: HfId = HfId::new();
static HF_ITEM_VALUE: HfId = HfId::new();
static HF_TOKEN: HfId = HfId::new();
static HF_TOPIC_HASH: HfId = HfId::new();
static HF_TOPIC: HfId = HfId::new();
static HF_MESSAGE_ID: HfId = HfId::new();
static HF_PAYLOAD: HfId = HfId::new();
static HF_STATUS: HfId = HfId::new();
static HF_TIMESTAMP: HfId = HfId::new();
static HF_EXPIRY: HfId = HfId::new();
static HF_NONCE: HfId = HfId::new();
static HF_NONCE_VERSION: HfId = HfId::new();
static HF_NONCE_TIME: HfId = HfId::new();
static HF_NONCE_RANDOM: HfId = HfId::new();
static HF_SIG_SCHEME: HfId = HfId::new();
static HF_OS_VERSION: HfId = HfId::new();
static HF_OS_BUILD: HfId = HfId::new();
static HF_HARDWARE: HfId = HfId::new();
static HF_CARRIER: HfId = HfId::new();
static HF_INTERFACE: HfId = HfId::new();
static HF_KEEPALIVE_INTERVAL: HfId = HfId::new();
static HF_ACK_IN: HfId = HfId::new();
static HF_ACK_TO: HfId = HfId::new();
static HF_ACK_TIME: HfId = HfId::new();
static HF_DIRECTION: HfId = HfId::new();
static HF_FRAMING: HfId = HfId::new();
static HF_ALPN: HfId = HfId::new();
static HF_PACKED: HfId = HfId::new();
// Legacy (iOS 4) framing.
static HF_LEGACY_RESERVED: HfId = HfId::new();
static HF_LEGACY_TOKEN_LEN: HfId = HfId::new();
static HF_LEGACY_HELLO: HfId = HfId::new();
static HF_LEGACY_COUNT: HfId = HfId::new();
static HF_LEGACY_ITEM_SIZE: HfId = HfId::new();
static HF_LEGACY_TOPIC_LEN: HfId = HfId::new();
static HF_LEGACY_PAYLOAD_LEN: HfId = HfId::new();
static HF_LEGACY_CONFIRMATION: HfId = HfId::new();
static HF_LEGACY_KA_TEXT: HfId = HfId::new();
// Binary property lists.
static HF_PLIST_KEY: HfId = HfId::new();
static HF_PLIST_STRING: HfId = HfId::new();
static HF_PLIST_INTEGER: HfId = HfId::new();
static HF_PLIST_REAL: HfId = HfId::new();
static HF_PLIST_BOOL: HfId = HfId::new();
static HF_PLIST_DATE: HfId = HfId::new();
static HF_PLIST_DATA: HfId = HfId::new();
static HF_PLIST_UID: HfId = HfId::new();
// iMessage envelope (com.apple.madrid).
static HF_IM_COMMAND: HfId = HfId::new();
static HF_IM_SENDER: HfId = HfId::new();
static HF_IM_TARGET: HfId = HfId::new();
static HF_IM_UUID: HfId = HfId::new();
static HF_IM_ID: HfId = HfId::new();
static HF_IM_UA: HfId = HfId::new();
static HF_IM_ENCRYPTION: HfId = HfId::new();
static HF_IM_VERSION: HfId = HfId::new();
// Session view (generated).
static HF_S_TOKEN: HfId = HfId::new();
static HF_S_OS_VERSION: HfId = HfId::new();
static HF_S_OS_BUILD: HfId = HfId::new();
static HF_S_HARDWARE: HfId = HfId::new();
static HF_S_CARRIER: HfId = HfId::new();
static HF_S_SNI: HfId = HfId::new();

static INTERFACES: [(u32, &CStr); 2] = [(0, c"Cellular"), (1, c"Wi-Fi")];
static DIRECTIONS: [(u32, &CStr); 2] = [(0, c"Device to server"), (1, c"Server to device")];
static FRAMINGS: [(u32, &CStr); 2] = [(0, c"iOS 5+ (TLV items)"), (1, c"iOS 4 (legacy)")];
static IM_COMMANDS: [(u32, &CStr); 2] = [(100, c"Message"), (255, c"Server response")];

/// Every command byte with a name: the iOS 4 commands 0x00–0x06 and the iOS 5+ ones.
static COMMANDS: Lazy<Vec<(u32, &'static CStr)>> = Lazy::new(|| {
    let mut v: Vec<(u32, &'static CStr)> = (0u8..=6)
        .map(|b| (u32::from(b), leak(&format!("{} (iOS 4)", LegacyCommand::from_u8(b).name()))))
        .collect();
    v.extend(KNOWN_COMMANDS.iter().map(|c| (u32::from(c.code()), leak(c.name()))));
    v
});

fn leak(s: &str) -> &'static CStr {
    Box::leak(CString::new(s).unwrap_or_default().into_boxed_c_str())
}

use FieldType as T;

fn static_fields() -> Vec<Field> {
    let commands: &'static [(u32, &'static CStr)] = Box::leak(COMMANDS.clone().into_boxed_slice());
    vec![
        Field::new(&HF_COMMAND, c"Command", c"apns.command", T::U8).hex().vals(commands),
        Field::new(&HF_LENGTH, c"Length", c"apns.length", T::U32).blurb(c"Payload length declared in the message header"),
        Field::new(&HF_ITEM_ID, c"Item id", c"apns.item.id", T::U8),
        Field::new(&HF_ITEM_LENGTH, c"Item length", c"apns.item.length", T::U16),
        Field::new(&HF_ITEM_VALUE, c"Item value", c"apns.item.value", T::Bytes)
            .blurb(c"Value of an item with no known meaning, or whose length does not fit its type"),
        Field::new(&HF_TOKEN, c"Push token", c"apns.token", T::Bytes),
        Field::new(&HF_TOPIC_HASH, c"Topic hash", c"apns.topic_hash", T::Bytes).blurb(c"SHA-1 of the topic name"),
        Field::new(&HF_TOPIC, c"Topic", c"apns.topic", T::String)
            .blurb(c"Topic name: resolved from its hash (built-in table or the apns_topics table), or sent as text"),
        Field::new(&HF_MESSAGE_ID, c"Message id", c"apns.message_id", T::U32),
        Field::new(&HF_PAYLOAD, c"Payload", c"apns.payload", T::Bytes),
        Field::new(&HF_STATUS, c"Status", c"apns.status", T::U8),
        Field::new(&HF_TIMESTAMP, c"Timestamp", c"apns.timestamp", T::AbsTime),
        Field::new(&HF_EXPIRY, c"Expiry", c"apns.expiry", T::AbsTime),
        Field::new(&HF_NONCE, c"Nonce", c"apns.nonce", T::Bytes),
        Field::new(&HF_NONCE_VERSION, c"Nonce version", c"apns.nonce.version", T::U8),
        Field::new(&HF_NONCE_TIME, c"Nonce time", c"apns.nonce.time", T::AbsTime),
        Field::new(&HF_NONCE_RANDOM, c"Nonce random", c"apns.nonce.random", T::Bytes),
        Field::new(&HF_SIG_SCHEME, c"Signature scheme", c"apns.signature.scheme", T::U16).hex(),
        Field::new(&HF_OS_VERSION, c"OS version", c"apns.os_version", T::String),
        Field::new(&HF_OS_BUILD, c"OS build", c"apns.os_build", T::String),
        Field::new(&HF_HARDWARE, c"Hardware model", c"apns.hardware", T::String),
        Field::new(&HF_CARRIER, c"Carrier", c"apns.carrier", T::String).blurb(c"\"WiFi\" or the mobile network's MCC+MNC"),
        Field::new(&HF_INTERFACE, c"Interface", c"apns.interface", T::U8).vals(&INTERFACES),
        Field::new(&HF_KEEPALIVE_INTERVAL, c"Keep-alive interval (min)", c"apns.keepalive_interval", T::U32),
        Field::new(&HF_ACK_IN, c"Answered in", c"apns.ack_in", T::FrameNum(FrameLink::Response))
            .blurb(c"The frame holding the acknowledgement or response to this message"),
        Field::new(&HF_ACK_TO, c"Answer to", c"apns.ack_to", T::FrameNum(FrameLink::Request))
            .blurb(c"The frame holding the message this acknowledges or answers"),
        Field::new(&HF_ACK_TIME, c"Answer time", c"apns.ack_time", T::RelTime)
            .blurb(c"Time between the message and its acknowledgement or response"),
        Field::new(&HF_DIRECTION, c"Direction", c"apns.direction", T::U8).vals(&DIRECTIONS),
        Field::new(&HF_FRAMING, c"Framing", c"apns.framing", T::U8).vals(&FRAMINGS),
        Field::new(&HF_ALPN, c"ALPN", c"apns.alpn", T::String),
        Field::new(&HF_PACKED, c"Packed data", c"apns.packed_data", T::Bytes)
            .blurb(c"apns-pack-v1 data (the packed encoding is not publicly documented; not decoded)"),
        Field::new(&HF_LEGACY_RESERVED, c"Reserved", c"apns.legacy.reserved", T::U32).hex(),
        Field::new(&HF_LEGACY_TOKEN_LEN, c"Token length", c"apns.legacy.token_length", T::U8),
        Field::new(&HF_LEGACY_HELLO, c"Hello data", c"apns.legacy.hello_data", T::Bytes),
        Field::new(&HF_LEGACY_COUNT, c"Id count", c"apns.legacy.count", T::U32),
        Field::new(&HF_LEGACY_ITEM_SIZE, c"Id size", c"apns.legacy.item_size", T::U32),
        Field::new(&HF_LEGACY_TOPIC_LEN, c"Topic length", c"apns.legacy.topic_length", T::U32),
        Field::new(&HF_LEGACY_PAYLOAD_LEN, c"Payload length", c"apns.legacy.payload_length", T::U32),
        Field::new(&HF_LEGACY_CONFIRMATION, c"Confirmation bytes", c"apns.legacy.confirmation", T::Bytes),
        Field::new(&HF_LEGACY_KA_TEXT, c"Keep-alive text", c"apns.legacy.keepalive_text", T::String),
        Field::new(&HF_PLIST_KEY, c"Key", c"apns.plist.key", T::String),
        Field::new(&HF_PLIST_STRING, c"String", c"apns.plist.string", T::String),
        Field::new(&HF_PLIST_INTEGER, c"Integer", c"apns.plist.integer", T::I64),
        Field::new(&HF_PLIST_REAL, c"Real", c"apns.plist.real", T::Double),
        Field::new(&HF_PLIST_BOOL, c"Boolean", c"apns.plist.bool", T::Bool),
        Field::new(&HF_PLIST_DATE, c"Date", c"apns.plist.date", T::AbsTime),
        Field::new(&HF_PLIST_DATA, c"Data", c"apns.plist.data", T::Bytes),
        Field::new(&HF_PLIST_UID, c"UID", c"apns.plist.uid", T::U64),
        Field::new(&HF_IM_COMMAND, c"iMessage command", c"apns.imessage.command", T::U32).vals(&IM_COMMANDS),
        Field::new(&HF_IM_SENDER, c"iMessage sender", c"apns.imessage.sender", T::String),
        Field::new(&HF_IM_TARGET, c"iMessage target", c"apns.imessage.target", T::String),
        Field::new(&HF_IM_UUID, c"iMessage UUID", c"apns.imessage.uuid", T::String),
        Field::new(&HF_IM_ID, c"iMessage id", c"apns.imessage.id", T::I64),
        Field::new(&HF_IM_UA, c"iMessage user agent", c"apns.imessage.user_agent", T::String),
        Field::new(&HF_IM_ENCRYPTION, c"iMessage encryption", c"apns.imessage.encryption", T::String),
        Field::new(&HF_IM_VERSION, c"iMessage version", c"apns.imessage.version", T::I64),
        Field::new(&HF_S_TOKEN, c"Device token", c"apns.session.token", T::Bytes)
            .blurb(c"The device's push token, as learned earlier in this connection"),
        Field::new(&HF_S_OS_VERSION, c"Device OS version", c"apns.session.os_version", T::String),
        Field::new(&HF_S_OS_BUILD, c"Device OS build", c"apns.session.os_build", T::String),
        Field::new(&HF_S_HARDWARE, c"Device model", c"apns.session.hardware", T::String),
        Field::new(&HF_S_CARRIER, c"Device carrier", c"apns.session.carrier", T::String),
        Field::new(&HF_S_SNI, c"Courier server name", c"apns.session.sni", T::String),
    ]
}

/// The per-command fields of items that have no common field (`apns.connect.state` …),
/// built from the core's item tables at registration: (command, item id) → field.
static ITEM_FIELDS: OnceLock<HashMap<(u8, u8), (&'static HfId, FieldType)>> = OnceLock::new();

fn command_key(c: Command) -> &'static str {
    match c {
        Command::Connect => "connect",
        Command::ConnectResponse => "connect_response",
        Command::FilterTopics => "filter",
        Command::Message => "message",
        Command::MessageAck => "ack",
        Command::KeepAlive => "keepalive",
        Command::KeepAliveAck => "keepalive_ack",
        Command::NoStorage => "no_storage",
        Command::Flush => "flush",
        Command::FlushResponse => "flush_response",
        Command::ScopedTokenRequest => "scoped_token_request",
        Command::ScopedTokenResponse => "scoped_token_response",
        Command::SetActiveState => "set_active_state",
        Command::Unknown(_) => "unknown",
    }
}

fn kind_type(k: Kind) -> Option<FieldType> {
    Some(match k {
        Kind::U8 => T::U8,
        Kind::U16 => T::U16,
        Kind::U32 => T::U32,
        Kind::U64 | Kind::UInt => T::U64,
        Kind::TimeMs | Kind::TimeNs | Kind::UnixSecs => T::AbsTime,
        Kind::Text | Kind::MaybeText => T::String,
        Kind::TopicHashOrText => return None,
        _ => T::Bytes,
    })
}

fn item_fields() -> Vec<Field> {
    let mut map = HashMap::new();
    let mut by_abbrev: HashMap<String, &'static HfId> = HashMap::new();
    let mut out = Vec::new();
    for c in KNOWN_COMMANDS {
        for def in c.items() {
            if def.field.is_some() {
                continue;
            }
            let Some(ty) = kind_type(def.kind) else { continue };
            let abbrev = format!("apns.{}.{}", command_key(c), def.key);
            let hf = *by_abbrev.entry(abbrev.clone()).or_insert_with(|| {
                let hf: &'static HfId = Box::leak(Box::new(HfId::new()));
                let mut f = Field::new(hf, leak(def.label), leak(&abbrev), ty);
                if matches!(ty, T::U8 | T::U16 | T::U32 | T::U64) && matches!(def.key, "flags" | "capabilities") {
                    f = f.hex();
                }
                f.blurb = Some(leak(&format!("{} item {}: {}", c.name(), def.id, def.label)));
                out.push(f);
                hf
            });
            map.insert((c.code(), def.id), (hf, ty));
        }
    }
    let _ = ITEM_FIELDS.set(map);
    out
}

static ETT: EttId = EttId::new();
static ETT_ITEM: EttId = EttId::new();
static ETT_NONCE: EttId = EttId::new();
static ETT_PLIST: EttId = EttId::new();
static ETT_SESSION: EttId = EttId::new();
static ETT_LEGACY: EttId = EttId::new();
static ETTS: [&EttId; 6] = [&ETT, &ETT_ITEM, &ETT_NONCE, &ETT_PLIST, &ETT_SESSION, &ETT_LEGACY];

static EI_UNKNOWN_COMMAND: ExpertId = ExpertId::new();
static EI_UNKNOWN_ITEM: ExpertId = ExpertId::new();
static EI_TRUNCATED: ExpertId = ExpertId::new();
static EI_ITEM_OVERRUN: ExpertId = ExpertId::new();
static EI_TRAILING: ExpertId = ExpertId::new();
static EI_BAD_LENGTH: ExpertId = ExpertId::new();
static EI_NOT_UTF8: ExpertId = ExpertId::new();
static EI_TOO_MANY_ITEMS: ExpertId = ExpertId::new();
static EI_TOO_LARGE: ExpertId = ExpertId::new();
static EI_UNFRAMEABLE: ExpertId = ExpertId::new();
static EI_LEGACY: ExpertId = ExpertId::new();
static EI_PLIST_ERROR: ExpertId = ExpertId::new();
static EI_PLIST_ANOMALY: ExpertId = ExpertId::new();
static EI_PACKED: ExpertId = ExpertId::new();
static EI_STATE_CAP: ExpertId = ExpertId::new();
static EI_NO_HEADER: ExpertId = ExpertId::new();

static EXPERTS: [Expert; 16] = [
    Expert::new(&EI_UNKNOWN_COMMAND, c"apns.unknown_command", Group::Undecoded, Severity::Note, c"Unknown command"),
    Expert::new(&EI_UNKNOWN_ITEM, c"apns.unknown_item", Group::Undecoded, Severity::Note, c"Unknown item id for this command"),
    Expert::new(&EI_TRUNCATED, c"apns.truncated", Group::Malformed, Severity::Error, c"Message truncated: fewer bytes than its length says"),
    Expert::new(&EI_ITEM_OVERRUN, c"apns.item_overrun", Group::Malformed, Severity::Error, c"Item runs past the end of its message"),
    Expert::new(&EI_TRAILING, c"apns.trailing_bytes", Group::Malformed, Severity::Warn, c"Trailing bytes too short for an item"),
    Expert::new(&EI_BAD_LENGTH, c"apns.item_bad_length", Group::Malformed, Severity::Warn, c"Item value has an unexpected length"),
    Expert::new(&EI_NOT_UTF8, c"apns.item_not_utf8", Group::Malformed, Severity::Warn, c"Text item is not valid UTF-8"),
    Expert::new(&EI_TOO_MANY_ITEMS, c"apns.too_many_items", Group::Malformed, Severity::Warn, c"Too many items; the rest are not shown"),
    Expert::new(&EI_TOO_LARGE, c"apns.too_large", Group::Malformed, Severity::Error, c"Message length exceeds the maximum message size preference; not reassembled"),
    Expert::new(&EI_UNFRAMEABLE, c"apns.unframeable", Group::Malformed, Severity::Error, c"Command with no known layout: the stream cannot be framed further"),
    Expert::new(&EI_LEGACY, c"apns.legacy_anomaly", Group::Protocol, Severity::Warn, c"Unusual iOS 4 message"),
    Expert::new(&EI_PLIST_ERROR, c"apns.plist.error", Group::Malformed, Severity::Warn, c"Binary property list cannot be decoded"),
    Expert::new(&EI_PLIST_ANOMALY, c"apns.plist.anomaly", Group::Malformed, Severity::Warn, c"Binary property list anomaly"),
    Expert::new(&EI_PACKED, c"apns.packed", Group::Undecoded, Severity::Note, c"apns-pack-v1: packed encoding, not decoded"),
    Expert::new(&EI_STATE_CAP, c"apns.state_cap", Group::Protocol, Severity::Warn, c"Too much state for this connection; later messages are not linked"),
    Expert::new(&EI_NO_HEADER, c"apns.short", Group::Malformed, Severity::Error, c"Too short for a message header"),
];

// ---------------------------------------------------------------------------------------
// Preferences, handles, registration.

static PREF_MAX: PrefUint = PrefUint::new(framing::DEFAULT_MAX_MESSAGE_SIZE);
static PREF_DETECT_LEGACY: PrefBool = PrefBool::new(true);

/// The TLS port of the courier.
pub const COURIER_PORT: u32 = core_apns::tls::COURIER_PORT as u32;

static HANDLE: Handle = Handle::new();
static HANDLE_PACK: Handle = Handle::new();
static JSON: Handle = Handle::new();

pub fn register() {
    let mut fields = static_fields();
    fields.extend(item_fields());
    let fields: &'static [Field] = Box::leak(fields.into_boxed_slice());
    PROTO.register(fields, &ETTS, &EXPERTS);
    PROTO
        .prefs_checked(check_prefs)
        .uint(
            c"max_message_size",
            c"Maximum message size",
            c"Largest payload length (bytes) believed; a longer one is reported and not reassembled. At least 1",
            &PREF_MAX,
        )
        .bool(
            c"detect_legacy",
            c"Detect iOS 4 framing",
            c"Tell iOS 4 (commands 0x00-0x06) from iOS 5+ framing by the first byte of each connection; off: always iOS 5+",
            &PREF_DETECT_LEGACY,
        )
        .bool(
            c"tls.by_address",
            c"Label courier TLS by address and port",
            c"Without keys, label TLS between an Apple address (17.0.0.0/8, Apple's IPv6 networks) and TCP port 5223 as Apple Push when the connection's ClientHello is not in the capture (captures started mid-connection); the label says it was recognised by address and port",
            &crate::dissectors::apns_tls::PREF_BY_ADDRESS,
        );
    names::register_uat(&PROTO);
    HANDLE.register_tcp_pdus::<Courier>(c"apns");
    HANDLE_PACK.register::<PackV1>(c"apns_pack");
    crate::dissectors::apns::stats::register();
}

/// Preference check (after every change): a maximum of 0 would report every message that
/// carries anything as too large.
fn check_prefs() -> Option<String> {
    (PREF_MAX.get() == 0).then(|| {
        PREF_MAX.set(framing::DEFAULT_MAX_MESSAGE_SIZE);
        format!(
            "apns.max_message_size must be at least 1 (0 would report every message with a payload as too large); using {}",
            framing::DEFAULT_MAX_MESSAGE_SIZE
        )
    })
}

pub fn handoff() {
    HANDLE.add_uint_with_preference(c"tls.port", COURIER_PORT);
    HANDLE.add_string(c"tls.alpn", c"apns-security-v3");
    HANDLE_PACK.add_string(c"tls.alpn", c"apns-pack-v1");
    HANDLE.add_for_decode_as(c"tcp.port");
    add_heuristic::<Heur>(c"tcp", c"APNs courier over cleartext TCP", c"apns_tcp", true);
    JSON.find(c"json");
}

pub mod stats;

// ---------------------------------------------------------------------------------------
// Topic names.

static MADRID: Lazy<[u8; 20]> = Lazy::new(|| core_apns::topic_hash("com.apple.madrid"));

/// The name of a topic hash: built-in table first, then the user's `apns_topics` table.
pub fn topic_name(hash: &[u8]) -> Option<String> {
    if let Some(n) = core_apns::topics::BUILTIN.lookup_slice(hash) {
        return Some(n.to_string());
    }
    names::user_topics().read().ok()?.lookup_slice(hash).map(str::to_string)
}

// ---------------------------------------------------------------------------------------
// Conversation state.

#[derive(Default)]
struct Conv {
    framing: Option<Framing>,
    /// The server's end (address, port), decided on the first message.
    server: Option<(Option<IpAddr>, u16)>,
    session: Session,
    /// Legacy keep-alives waiting for their ack (frame, time), in order.
    legacy_ka: std::collections::VecDeque<(u32, Time)>,
    legacy_links: HashMap<u32, (Option<u32>, Option<u32>, Option<Time>)>,
}

fn framing_of(pkt: &Packet<'_>, head: &[u8]) -> Framing {
    let conv = pkt.conversation::<Conv>(&PROTO);
    if let Some(f) = conv.borrow().framing {
        return f;
    }
    let f = if PREF_DETECT_LEGACY.get() {
        framing::detect_framing(head).unwrap_or(Framing::Modern)
    } else {
        Framing::Modern
    };
    if !pkt.visited() {
        conv.borrow_mut().framing = Some(f);
    }
    f
}

fn is_server_port(p: u16) -> bool {
    u32::from(p) == COURIER_PORT || p == 443
}

/// Which way this packet travels; the server's end is learned on the first pass.
fn direction(pkt: &Packet<'_>, conv: &mut Conv, cmd_dir: items::Direction) -> Dir {
    let dst = (pkt.dst(), pkt.dst_port());
    let src = (pkt.src(), pkt.src_port());
    let server = match conv.server {
        Some(s) => s,
        None => {
            let s = if is_server_port(dst.1) && !is_server_port(src.1) {
                dst
            } else if is_server_port(src.1) && !is_server_port(dst.1) {
                src
            } else {
                match cmd_dir {
                    items::Direction::ToDevice => src,
                    _ => dst,
                }
            };
            if !pkt.visited() {
                conv.server = Some(s);
            }
            s
        }
    };
    if dst == server {
        Dir::ToServer
    } else {
        Dir::ToDevice
    }
}

// ---------------------------------------------------------------------------------------
// Entry points.

/// The courier stream: framed with `tcp_dissect_pdus`.
pub struct Courier;
impl TcpPdus for Courier {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    /// One byte decides the framing; the length function asks for more when it needs it.
    const FIXED_LEN: usize = 1;
    fn pdu_len(pkt: &Packet<'_>, head: &[u8]) -> usize {
        let max = PREF_MAX.get();
        let r = match framing_of(pkt, head) {
            Framing::Modern => framing::pdu_len(head, max),
            Framing::Legacy => legacy::pdu_len(head, max),
        };
        match r {
            PduLen::Len(n) => n,
            // Wanted bytes counted from the message start: reassembly brings them, then the
            // length is asked again.
            PduLen::NeedMore(n) => n.max(head.len() + 1),
            // Not believed: take the rest of this segment, buffer nothing.
            PduLen::TooLarge(_) | PduLen::Unframeable(_) => head.len().max(1),
        }
    }
    fn dissect_pdu(pkt: &mut Packet<'_>) -> usize {
        let idx = pkt.pdu_index(&PROTO);
        let framing = pkt.conversation::<Conv>(&PROTO).borrow().framing.unwrap_or(Framing::Modern);
        match framing {
            Framing::Modern => show_modern(pkt, idx),
            Framing::Legacy => show_legacy(pkt, idx),
        }
        pkt.bytes().len()
    }
}

/// The ALPN `apns-pack-v1`: labelled, not decoded.
pub struct PackV1;
impl Dissector for PackV1 {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn dissect(pkt: &mut Packet<'_>) -> usize {
        let n = pkt.bytes().len();
        pkt.set_protocol_column(c"APNs");
        pkt.set_info(&format!("APNs packed data (apns-pack-v1), {n} bytes"));
        let root = pkt.tree().add_protocol(&PROTO, Span::new(0, n));
        root.append_text(", apns-pack-v1 (packed encoding, not decoded)");
        let t = root.subtree(&ETT);
        t.add_generated(&HF_ALPN, core_apns::ALPN_PACK_V1);
        t.add(&HF_PACKED, Span::new(0, n), pkt.bytes()).expert(&EI_PACKED, None);
        n
    }
}

/// Cleartext courier streams on any TCP port: a strict probe of the first message.
pub struct Heur;
impl Heuristic for Heur {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn dissect(pkt: &mut Packet<'_>) -> bool {
        let b = pkt.bytes();
        // A whole first message that tiles exactly, or the start of a long Connect/Message
        // whose visible items are all known and well-sized (see `framing::heuristic_accepts`).
        if !framing::heuristic_accepts(b) {
            return false;
        }
        pkt.set_conversation_dissector(&HANDLE);
        pkt.run_tcp_pdus::<Courier>();
        true
    }
}

// ---------------------------------------------------------------------------------------
// iOS 5+ messages.

fn time_from_ns(ns: i128) -> Time {
    Time::from_nanos(ns)
}

fn show_modern(pkt: &mut Packet<'_>, idx: u32) {
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
    let name = if m.command.is_known() { m.command.name().to_string() } else { format!("Unknown command 0x{:02x}", m.command.code()) };
    root.append_text(&format!(", {name}"));
    let tree = root.subtree(&ETT);
    let cmd_item = tree.add(&HF_COMMAND, at::COMMAND, m.command.code());
    let len_item = tree.add(&HF_LENGTH, at::LENGTH, m.length);
    tree.add_generated(&HF_DIRECTION, dir_code(dir));
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

    let madrid = m.topic_hash().is_some_and(|h| *h == *MADRID);
    let mut topics_named = Vec::new();
    for item in &m.items {
        if let Some(n) = show_item(pkt, &tree, m.command, item, madrid) {
            topics_named.push(n);
        }
    }
    // Bytes missing because the capture's snap length cut the message are not the message's
    // fault: said as stock says it, once, instead of truncation anomalies.
    let cut = pkt.is_cut();
    for a in &m.anomalies {
        let (ei, text) = match a.kind {
            AnomalyKind::UnknownCommand(c) => {
                cmd_item.expert(&EI_UNKNOWN_COMMAND, Some(&format!("Unknown command 0x{c:02x}")));
                continue;
            }
            AnomalyKind::UnknownItem { .. } => continue, // reported on the item itself
            AnomalyKind::Truncated { .. } | AnomalyKind::ItemOverrun { .. } if cut => continue,
            AnomalyKind::Truncated { declared, available } => {
                (&EI_TRUNCATED, format!("Message truncated: length says {declared} bytes, {available} present"))
            }
            AnomalyKind::ItemOverrun { id, declared, available } => {
                (&EI_ITEM_OVERRUN, format!("Item {id} says {declared} bytes, only {available} left in the message"))
            }
            AnomalyKind::TrailingBytes { len } => (&EI_TRAILING, format!("{len} trailing byte(s) after the last item")),
            AnomalyKind::ItemBadLength { id, expected, got } => (
                &EI_BAD_LENGTH,
                if expected == 0 {
                    format!("Item {id} is {got} bytes long; 1, 2, 4 or 8 expected")
                } else {
                    format!("Item {id} is {got} bytes long; {expected} expected")
                },
            ),
            AnomalyKind::ItemNotUtf8 { id } => (&EI_NOT_UTF8, format!("Item {id} is not valid UTF-8")),
            AnomalyKind::TooManyItems { dropped } => (&EI_TOO_MANY_ITEMS, format!("{dropped} further items not shown")),
        };
        tree.expert(ei, a.span, Some(&text));
    }

    // Links to the answer / the request.
    if let Some(l) = conv.session.link(pos) {
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
    let caps = conv.session.caps;
    if caps.links || caps.pending || caps.queue || caps.topics {
        tree.expert(&EI_STATE_CAP, Span::new(0, 0), None);
    }
    show_session(&tree, &conv.session, pos);
    drop(conv);

    // Info column.
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
    info(pkt, idx, &text);
    if cut {
        pkt.mark_cut();
    }
    let ack_ns = pkt.conversation::<Conv>(&PROTO).borrow().session.link(pos).and_then(|l| l.ack_time_ns);
    stats::tap(pkt, &m, dir, ack_ns);
}

fn dir_code(d: Dir) -> u8 {
    match d {
        Dir::ToServer => 0,
        Dir::ToDevice => 1,
    }
}

fn info(pkt: &mut Packet<'_>, idx: u32, text: &str) {
    if idx == 0 {
        pkt.set_info(text);
    } else {
        pkt.append_info(&format!(", {text}"));
    }
}

/// The device as this connection had described it by `pos` (in every pass the same: not
/// what it said only later).
fn show_session(tree: &Tree<'_>, s: &Session, pos: Pos) {
    let Some(d) = s.device_at(pos) else { return };
    let (_, st) = tree.add_subtree(&ETT_SESSION, Span::new(0, 0), "Device (from this connection)");
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
fn show_item(pkt: &mut Packet<'_>, tree: &Tree<'_>, cmd: Command, item: &CoreItem<'_>, madrid: bool) -> Option<String> {
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
            show_payload(pkt, &it, vs, p, madrid);
            None
        }
        (Some(CoreField::MessageId), Value::U32(x)) => {
            it.add(&HF_MESSAGE_ID, vs, x);
            Some(x.to_string())
        }
        (Some(CoreField::Status), Value::U8(x)) => {
            it.add(&HF_STATUS, vs, x);
            Some(x.to_string())
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
            let code = match i {
                items::Interface::Cellular => 0,
                items::Interface::WiFi => 1,
                items::Interface::Unknown(b) => b,
            };
            it.add(&HF_INTERFACE, vs, code);
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
        (None, v) if item.def.is_some() && !item.truncated => show_item_field(&it, cmd, item, v),
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
fn show_item_field(it: &Tree<'_>, cmd: Command, item: &CoreItem<'_>, v: Value<'_>) -> Option<String> {
    let vs = item.value_span;
    let Some(&(hf, ty)) = ITEM_FIELDS.get().and_then(|m| m.get(&(cmd.code(), item.id))) else {
        it.add(&HF_ITEM_VALUE, vs, item.raw);
        return None;
    };
    match (ty, v) {
        (T::U8, Value::U8(x)) => {
            it.add(hf, vs, x);
            Some(x.to_string())
        }
        (T::U16, Value::U16(x)) => {
            it.add(hf, vs, x);
            Some(x.to_string())
        }
        (T::U32, Value::U32(x)) => {
            it.add(hf, vs, x);
            Some(format!("0x{x:08x}"))
        }
        (T::U64, ref v) if v.as_uint().is_some() => {
            let x = v.as_uint()?;
            it.add(hf, vs, x);
            Some(x.to_string())
        }
        (T::AbsTime, ref v) if value_time(v).is_some() => {
            it.add(hf, vs, value_time(v)?);
            None
        }
        (T::String, Value::Text(s)) => {
            it.add(hf, vs, s);
            Some(format!("\"{s}\""))
        }
        (T::Bytes, Value::Signature { scheme, body }) => {
            it.add(&HF_SIG_SCHEME, Span::new(vs.offset, 2), u16::from_be_bytes(scheme));
            it.add(hf, vs, item.raw);
            Some(format!("{} bytes", body.len()))
        }
        (T::Bytes, _) => {
            it.add(hf, vs, item.raw);
            None
        }
        _ => {
            it.add(&HF_ITEM_VALUE, vs, item.raw);
            None
        }
    }
}


fn value_time(v: &Value<'_>) -> Option<Time> {
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

// ---------------------------------------------------------------------------------------
// Payloads: JSON to Wireshark's JSON dissector, binary plists decoded here.

fn show_payload(pkt: &mut Packet<'_>, tree: &Tree<'_>, span: Span, p: &[u8], madrid: bool) {
    if bplist::looks_like(p) {
        show_plist(tree, span, p, madrid);
    } else if matches!(p.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{') | Some(b'[')) {
        pkt.call(&JSON, span);
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
    let meaning = key.and_then(|(_, k)| if madrid { madrid_key(k) } else { None });
    let mut label = match key {
        Some((_, k)) => format!("{k}: {}", node.value.label()),
        None => node.value.label(),
    };
    if let Some(m) = meaning {
        label.push_str(&format!(" [{m}]"));
    }
    if madrid && key.is_some_and(|(_, k)| k == "c") {
        if let Some(n) = node.value.as_u64().and_then(|c| IM_COMMANDS.iter().find(|(v, _)| u64::from(*v) == c)) {
            label.push_str(&format!(" ({})", n.1.to_string_lossy()));
        }
    }
    let (_, t) = tree.add_subtree(&ETT_PLIST, span, &label);
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
            madrid_field(&t, span, k, &node.value);
        }
    }
}

fn madrid_field(t: &Tree<'_>, span: Span, k: &str, v: &bplist::Value<'_>) {
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

// ---------------------------------------------------------------------------------------
// iOS 4 messages.

fn show_legacy(pkt: &mut Packet<'_>, idx: u32) {
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
            show_payload(pkt, t, payload.span, payload.value, false);
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

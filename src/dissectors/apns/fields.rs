//! The APNs protocol's declarations: every header field (`apns.*`, including the per-command
//! item fields generated from the core's item tables), subtree and expert info, each written
//! once.

use crate::core::apns::items::{Command, Interface, Kind, SignatureScheme, Status, Unit as ItemUnit, KNOWN_COMMANDS};
use crate::core::apns::legacy::LegacyCommand;
use crate::core::apns::message::AnomalyKind;
use crate::core::apns::packed::{KeyFrom, SizeSource, ValueSource, ValueType};
use crate::core::apns::{ids, protobuf::WireType};
use std::net::{Ipv4Addr, Ipv6Addr};
use crate::core::apns::{Dir, Framing};
use crate::epan::*;
use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::sync::OnceLock;

fields! {
    pub(crate) FIELDS;
    HF_COMMAND: u8 = c"Command", c"apns.command", hex, vals_fn(command_vals),
        blurb(c"The byte that starts every message and says what it is: 0x07-0x14 in the iOS 5+ framing, 0x00-0x06 in iOS 4's");
    HF_LENGTH: u32 = c"Length", c"apns.length", unit(Unit::Bytes), blurb(c"Payload length declared in the message header");
    HF_ITEM_ID: u8 = c"Item id", c"apns.item.id",
        blurb(c"Which item of the command this is (the meaning of an id depends on the command)");
    HF_ITEM_LENGTH: u16 = c"Item length", c"apns.item.length", unit(Unit::Bytes),
        blurb(c"Length of the item's value, from the item header");
    HF_ITEM_VALUE: [u8] = c"Item value", c"apns.item.value",
        blurb(c"Value of an item with no known meaning, or whose length does not fit its type");
    HF_TOKEN: [u8] = c"Push token", c"apns.token",
        blurb(c"A token naming the device (32 bytes) or, in scoped-token commands and base-token items, an app on it; from whichever item carries it");
    HF_TOPIC_HASH: [u8] = c"Topic hash", c"apns.topic_hash",
        blurb(c"SHA-1 of the topic name, as items carry topics (20 bytes)");
    HF_TOPIC: str = c"Topic", c"apns.topic",
        blurb(c"Topic name: resolved from its hash (built-in table or the apns_topics table), or sent as text");
    HF_MESSAGE_ID: u32 = c"Message id", c"apns.message_id",
        blurb(c"Identifier of a Message (item 4), repeated by the Message Ack that answers it");
    HF_PAYLOAD: [u8] = c"Payload", c"apns.payload",
        blurb(c"Notification payload of a Message: JSON or a binary property list, decoded below it");
    HF_STATUS: u8 = c"Status", c"apns.status", vals(Status::VALS),
        blurb(c"Result in a Connect Response, Message Ack or Scoped Token Response: 0 accepted, anything else refused (2 seen; other codes not public)");
    HF_TIMESTAMP: AbsTime = c"Timestamp", c"apns.timestamp",
        blurb(c"A time an item carries: Connect item 22 and Connect Response items 10 and 12 in ms, Message item 6 in ns since 1970");
    HF_EXPIRY: AbsTime = c"Expiry", c"apns.expiry",
        blurb(c"Time after which the message need not be delivered (Message item 5, seconds since 1970)");
    HF_NONCE: [u8] = c"Nonce", c"apns.nonce",
        blurb(c"The 17 bytes the Connect signature covers: version, the client's time and 8 random bytes (Connect item 13)");
    HF_NONCE_VERSION: u8 = c"Nonce version", c"apns.nonce.version", blurb(c"First byte of the nonce (0 in every known nonce)");
    HF_NONCE_TIME: AbsTime = c"Nonce time", c"apns.nonce.time",
        blurb(c"The client's time when it made the nonce (8 bytes, ms since 1970)");
    HF_NONCE_RANDOM: [u8] = c"Nonce random", c"apns.nonce.random", blurb(c"The nonce's last 8 bytes, random");
    HF_SIG_SCHEME: u16 = c"Signature scheme", c"apns.signature.scheme", hex, vals(SignatureScheme::VALS),
        blurb(c"First two bytes of the Connect signature, saying how it was made (0x0101: RSA PKCS#1 v1.5 over SHA-1)");
    HF_OS_VERSION: str = c"OS version", c"apns.os_version",
        blurb(c"Operating system version the device reports (Connect item 9, Keep-Alive item 2, iOS 4 keep-alive text)");
    HF_OS_BUILD: str = c"OS build", c"apns.os_build",
        blurb(c"Operating system build the device reports (Connect item 10, Keep-Alive item 3, iOS 4 keep-alive text)");
    HF_HARDWARE: str = c"Hardware model", c"apns.hardware",
        blurb(c"Device model identifier such as iPhone15,2 (Connect item 11, Keep-Alive item 4, iOS 4 keep-alive text)");
    HF_CARRIER: str = c"Carrier", c"apns.carrier",
        blurb(c"How the device is connected: \"WiFi\" or the mobile network's MCC+MNC (Connect item 8, Keep-Alive item 1)");
    HF_INTERFACE: u8 = c"Interface", c"apns.interface", vals(Interface::VALS),
        blurb(c"Network interface the device connects over (Connect item 6)");
    HF_KEEPALIVE_INTERVAL: u32 = c"Keep-alive interval", c"apns.keepalive_interval", unit(Unit::Minutes),
        blurb(c"Interval between the device's keep-alives, as it reports it (Keep-Alive item 5, last word of the iOS 4 keep-alive text)");
    HF_ACK_IN: FrameNum = c"Response in", c"apns.ack_in", link(FrameLink::Response),
        blurb(c"Computed: the frame holding the acknowledgement or response to this message");
    HF_ACK_TO: FrameNum = c"Request in", c"apns.ack_to", link(FrameLink::Request),
        blurb(c"Computed: the frame holding the message this acknowledges or answers");
    HF_ACK_TIME: RelTime = c"Response time", c"apns.ack_time",
        blurb(c"Computed: time from the message to its acknowledgement or response");
    HF_DIRECTION: u8 = c"Direction", c"apns.direction", vals(Dir::VALS),
        blurb(c"Computed: which way the message travels, from the connection's first messages and server port");
    HF_FRAMING: u8 = c"Framing", c"apns.framing", vals(Framing::VALS),
        blurb(c"Computed: the framing this connection uses, decided from its first byte (0x00-0x06: iOS 4)");
    HF_ALPN: str = c"ALPN", c"apns.alpn",
        blurb(c"The TLS application protocol (ALPN) that brought this data to the dissector");
    // Legacy (iOS 4) framing.
    HF_LEGACY_RESERVED: u32 = c"Reserved", c"apns.legacy.reserved", hex,
        blurb(c"Four bytes after the iOS 4 Server Hello's command, zero in every known message");
    HF_LEGACY_TOKEN_LEN: u8 = c"Token length", c"apns.legacy.token_length", unit(Unit::Bytes),
        blurb(c"Length of the push token the iOS 4 Server Hello carries (0 or 32)");
    HF_LEGACY_HELLO: [u8] = c"Hello data", c"apns.legacy.hello_data",
        blurb(c"The 32 bytes of an iOS 4 Device Hello (the device's token when it has one)");
    HF_LEGACY_COUNT: u32 = c"Id count", c"apns.legacy.count",
        blurb(c"Number of topic ids in this list of an iOS 4 Push Application IDs message");
    HF_LEGACY_ITEM_SIZE: u32 = c"Id size", c"apns.legacy.item_size", unit(Unit::Bytes),
        blurb(c"Size of each topic id in this list (20: a SHA-1 topic hash)");
    HF_LEGACY_TOPIC_LEN: u32 = c"Topic length", c"apns.legacy.topic_length", unit(Unit::Bytes),
        blurb(c"Length of the topic hash of an iOS 4 Notification (20)");
    HF_LEGACY_PAYLOAD_LEN: u32 = c"Payload length", c"apns.legacy.payload_length", unit(Unit::Bytes),
        blurb(c"Length of the JSON payload of an iOS 4 Notification");
    HF_LEGACY_CONFIRMATION: [u8] = c"Confirmation bytes", c"apns.legacy.confirmation",
        blurb(c"The 3 bytes of an iOS 4 Notification Confirmation (zero)");
    HF_LEGACY_KA_TEXT: str = c"Keep-alive text", c"apns.legacy.keepalive_text",
        blurb(c"An iOS 4 keep-alive's text: carrier, OS version, OS build, model and interval in minutes, space-separated");
    // Binary property lists.
    HF_PLIST_KEY: str = c"Key", c"apns.plist.key", blurb(c"A dictionary key in a binary property list payload");
    HF_PLIST_STRING: str = c"String", c"apns.plist.string", blurb(c"A string value in a binary property list payload");
    HF_PLIST_INTEGER: i64 = c"Integer", c"apns.plist.integer", blurb(c"An integer value in a binary property list payload");
    HF_PLIST_REAL: f64 = c"Real", c"apns.plist.real", blurb(c"A floating-point value in a binary property list payload");
    HF_PLIST_BOOL: bool = c"Boolean", c"apns.plist.bool", blurb(c"A true/false value in a binary property list payload");
    HF_PLIST_DATE: AbsTime = c"Date", c"apns.plist.date",
        blurb(c"A date value in a binary property list payload (seconds since 2001, shown in UTC)");
    HF_PLIST_DATA: [u8] = c"Data", c"apns.plist.data", blurb(c"A byte-string value in a binary property list payload");
    HF_PLIST_UID: u64 = c"UID", c"apns.plist.uid",
        blurb(c"An object reference (UID) in a binary property list payload, as keyed archives use them");
    // iMessage envelope (com.apple.madrid).
    HF_IM_COMMAND: u32 = c"iMessage command", c"apns.imessage.command", vals(ids::COMMANDS),
        blurb(c"What the com.apple.madrid envelope carries (key c): 100 a message, 101 delivered, 102 read, 255 the server's response (beeper/imessage's names)");
    HF_IM_SENDER: str = c"iMessage sender", c"apns.imessage.sender", blurb(c"The sender's handle, a URI (envelope key sP)");
    HF_IM_TARGET: str = c"iMessage target", c"apns.imessage.target",
        blurb(c"A recipient's handle, a URI (envelope key tP, also in each entry of the delivery list)");
    HF_IM_UUID: str = c"iMessage UUID", c"apns.imessage.uuid", blurb(c"The message's UUID (envelope key U, 16 bytes)");
    HF_IM_ID: i64 = c"iMessage id", c"apns.imessage.id", blurb(c"The envelope's message number (key i)");
    HF_IM_UA: str = c"iMessage user agent", c"apns.imessage.user_agent", blurb(c"The sending client's user agent (envelope key ua)");
    HF_IM_ENCRYPTION: str = c"iMessage encryption", c"apns.imessage.encryption",
        blurb(c"How the message body is encrypted (envelope key E, such as pair)");
    HF_IM_VERSION: i64 = c"iMessage version", c"apns.imessage.version", blurb(c"Envelope format version (key v)");
    // Session view (generated).
    HF_S_TOKEN: [u8] = c"Device token", c"apns.session.token",
        blurb(c"Computed: the device's push token, as learned earlier in this connection");
    HF_S_OS_VERSION: str = c"Device OS version", c"apns.session.os_version",
        blurb(c"Computed: the OS version the device reported earlier in this connection");
    HF_S_OS_BUILD: str = c"Device OS build", c"apns.session.os_build",
        blurb(c"Computed: the OS build the device reported earlier in this connection");
    HF_S_HARDWARE: str = c"Device model", c"apns.session.hardware",
        blurb(c"Computed: the model identifier the device reported earlier in this connection");
    HF_S_CARRIER: str = c"Device carrier", c"apns.session.carrier",
        blurb(c"Computed: how the device said it was connected (WiFi or MCC+MNC), earlier in this connection");
    HF_S_SNI: str = c"Courier server name", c"apns.session.sni",
        blurb(c"Computed: the courier host this connection's TLS ClientHello named");
    // Packed framing (apns-pack-v1).
    HF_P_LENGTH: u64 = c"Length", c"apns.packed.length", blurb(c"Body length in the packed header: the bytes of the attributes that follow");
    HF_P_SIZES: u8 = c"Value cache sizes", c"apns.packed.cache_sizes", vals(SizeSource::VALS),
        blurb(c"Where this connection's value cache sizes come from: the server's ALPN choice, or assumed (rustpush's default) when no ALPN was seen");
    HF_P_VALUE_CACHE_SIZE: u32 = c"Value cache size", c"apns.packed.value_cache_size",
        blurb(c"Bytes this direction's value cache holds (each entry counts its length plus 32)");
    HF_P_TAG: u8 = c"Tag", c"apns.packed.tag", hex,
        blurb(c"Attribute tag: 0x80 value from the value cache, 0x40 value cached, 0x20 key from the key cache (index in the low 5 bits), 0x10 key in the data (length in the low 4 bits), else the one-byte key in the low 4 bits");
    HF_P_KEY: [u8] = c"Key", c"apns.packed.key",
        blurb(c"The attribute's key (for a top-level attribute the item id): as sent, or resolved from the key cache");
    HF_P_KEY_TEXT: str = c"Key name", c"apns.packed.key_name", blurb(c"A dictionary member's key as text");
    HF_P_KEY_FROM: u8 = c"Key from", c"apns.packed.key_from", vals(KeyFrom::VALS),
        blurb(c"Where the key came from: the tag itself, the data (and now the key cache), or the key cache");
    HF_P_KEY_INDEX: u8 = c"Key cache index", c"apns.packed.key_index", blurb(c"Index into this direction's key cache (0 = the newest entry)");
    HF_P_KEY_ENTRY: u32 = c"Key entry", c"apns.packed.key_entry",
        blurb(c"Number of the key among the keys this direction cached (0 = the first)");
    HF_P_KEY_FRAME: FrameNum = c"Key cached in", c"apns.packed.key_frame",
        blurb(c"The frame whose message put the key into the key cache");
    HF_P_VALUE_FROM: u8 = c"Value from", c"apns.packed.value_from", vals(ValueSource::VALS),
        blurb(c"Where the value came from: the data (not cached, or now cached), or the value cache");
    HF_P_VALUE_INDEX: u64 = c"Value cache index", c"apns.packed.value_index", blurb(c"Index into this direction's value cache (0 = the newest entry)");
    HF_P_VALUE_ENTRY: u32 = c"Value entry", c"apns.packed.value_entry",
        blurb(c"Number of the value among the values this direction cached (0 = the first)");
    HF_P_VALUE_FRAME: FrameNum = c"Value cached in", c"apns.packed.value_frame",
        blurb(c"The frame whose message put the value into the value cache");
    HF_P_EVICTED: u32 = c"Entries evicted", c"apns.packed.evicted", blurb(c"Value cache entries this new entry pushed out");
    HF_P_CACHED_BYTES: [u8] = c"Cached bytes", c"apns.packed.cached_bytes",
        blurb(c"The value cache entry the index resolved to: the value's encoding, from its tag byte");
    HF_P_TYPE: u8 = c"Type", c"apns.packed.type", vals(ValueType::VALS), blurb(c"A packed value's type, from the top bits of its tag byte");
    HF_P_DATA: [u8] = c"Data", c"apns.packed.data", blurb(c"A packed data value (type 0): its bytes");
    HF_P_STRING: str = c"String", c"apns.packed.string", blurb(c"A packed string value (type 1), UTF-8");
    HF_P_INT: i64 = c"Integer", c"apns.packed.int", blurb(c"A packed integer value (type 2): 0-31 in the tag, or sign and big-endian magnitude");
    HF_P_BOOL: bool = c"Boolean", c"apns.packed.bool", blurb(c"A packed boolean value (type 3 with bit 0x20)");
    HF_P_COUNT: u64 = c"Count", c"apns.packed.count", blurb(c"Members of a dictionary, elements of an array");
    // StatusKit channels (0x1D item 2, 0x0A item 29; rustpush statuskit.proto).
    HF_CH_TOPIC: str = c"Channel topic", c"apns.channel.topic",
        blurb(c"The topic a list of channels is subscribed on (SubscribedTopic.topic)");
    HF_CH_ID: [u8] = c"Channel id", c"apns.channel.id", blurb(c"A StatusKit channel's id (Channel.id)");
    HF_CH_LAST: AbsTime = c"Last message time", c"apns.channel.last_message",
        blurb(c"Time of the last message on the channel the device has seen (Channel.lastMsgNs, ns since 1970)");
    HF_CH_SUBSCRIBE: bool = c"Subscribe", c"apns.channel.subscribe",
        blurb(c"Computed: whether the channel is subscribed (SubscribedTopic.channels) or unsubscribed (unsubChannels)");
    HF_CH_UNK1: u64 = c"Unknown 1", c"apns.channel.unk1",
        blurb(c"SubscribeToChannel field 1, of unknown meaning (rustpush names it unk1 and always sends 1)");
    HF_CH_REPLACE: bool = c"Replace", c"apns.channel.replace",
        blurb(c"Whether the list replaces the device's earlier subscriptions (SubscribeToChannel.replace)");
    HF_PB_NUMBER: u64 = c"Field number", c"apns.protobuf.field", blurb(c"Number of a protobuf field no schema here names");
    HF_PB_WIRE: u8 = c"Wire type", c"apns.protobuf.wire_type", vals(WireType::VALS),
        blurb(c"How the protobuf field's value is encoded (low three bits of its key)");
    HF_PB_VARINT: u64 = c"Varint", c"apns.protobuf.varint", blurb(c"Value of an unnamed protobuf varint field");
    HF_PB_FIXED: u64 = c"Fixed", c"apns.protobuf.fixed", hex, blurb(c"Value of an unnamed protobuf 32- or 64-bit field (little-endian)");
    HF_PB_BYTES: [u8] = c"Bytes", c"apns.protobuf.bytes", blurb(c"Value of an unnamed length-delimited protobuf field");
    // IDS messages (every IDS topic, com.apple.madrid included).
    HF_IDS_COMMAND: u32 = c"IDS command", c"apns.ids.command", vals(ids::COMMANDS),
        blurb(c"What an IDS message carries (key c): iMessage 100-255, quick relay 200, FaceTime 207-242 (beeper/imessage, rustpush)");
    HF_IDS_SENDER: str = c"IDS sender", c"apns.ids.sender", blurb(c"The sender's handle, a URI (key sP)");
    HF_IDS_TARGET: str = c"IDS target", c"apns.ids.target", blurb(c"A recipient's handle, a URI (key tP, also in each delivery list entry)");
    HF_IDS_TOKEN: [u8] = c"IDS push token", c"apns.ids.token", blurb(c"Push token of the device a message is for or from (key t)");
    HF_IDS_SESSION_TOKEN: [u8] = c"IDS session token", c"apns.ids.session_token", blurb(c"The recipient device's IDS session token (key sT)");
    HF_IDS_UUID: str = c"IDS message UUID", c"apns.ids.uuid", blurb(c"The message's UUID (key U, 16 bytes); a relay response repeats its request's");
    HF_IDS_ID: i64 = c"IDS message id", c"apns.ids.id", blurb(c"The message's number (key i)");
    HF_IDS_STATUS: u32 = c"IDS status", c"apns.ids.status", vals(ids::STATUS),
        blurb(c"Result a server response reports (key s): 0 success, else an IDS status code (beeper's IDSStatus names)");
    HF_IDS_ENCRYPTION: str = c"IDS encryption", c"apns.ids.encryption",
        blurb(c"How the payload P is encrypted (key E: pair, pair-ec)");
    HF_IDS_TIME: AbsTime = c"IDS timestamp", c"apns.ids.timestamp", blurb(c"When the message was sent (key e, ns since 1970)");
    HF_IDS_SESSION_ID: str = c"IDS session id", c"apns.ids.session_id",
        blurb(c"The session a quick relay request or response is for: the FaceTime group's UUID (key qids)");
    HF_IDS_RELAY_REASON: u32 = c"Relay reason", c"apns.ids.relay.reason", vals(ids::RELAY_REASONS),
        blurb(c"Why a relay is asked for (key qr; rustpush sends 0, which it reads as someone having joined)");
    HF_IDS_RELAY_GROUP: str = c"Relay group id", c"apns.ids.relay.group_id", blurb(c"The FaceTime group a relay is asked for (key qgid)");
    HF_IDS_RELAY_MEMBERS: u32 = c"Relay group members", c"apns.ids.relay.member_count", blurb(c"Members of the group the relay is for (key qgmc)");
    HF_IDS_RELAY_TOPIC: str = c"Relay topic", c"apns.ids.relay.topic", blurb(c"The IDS topic the relay is for (key qai, such as com.apple.private.alloy.facetime.multi)");
    HF_IDS_RELAY_TYPE: u32 = c"Relay request type", c"apns.ids.relay.request_type", vals(ids::RELAY_REQUEST_TYPES),
        blurb(c"What the relay request asks (key qat; 3 allocate, as rustpush sends it)");
    HF_IDS_RELAY_VERSION: u32 = c"Relay version", c"apns.ids.relay.version", blurb(c"Version of the relay request (key qv; rustpush sends 25)");
    HF_IDS_RELAY_PID: i64 = c"Relay participant id", c"apns.ids.relay.participant_id",
        blurb(c"A participant's id on the relay (key qri of a relay allocation)");
    HF_IDS_RELAY_PART: str = c"Relay participant", c"apns.ids.relay.participant", blurb(c"A participant's handle (key tP of a relay allocation)");
    HF_IDS_RELAY_PTOKEN: [u8] = c"Relay participant token", c"apns.ids.relay.participant_token",
        blurb(c"A participant device's push token (key t of a relay allocation)");
    HF_IDS_RELAY_OWN: i64 = c"Own participant id", c"apns.ids.relay.own_participant_id",
        blurb(c"The receiving device's own participant id (key qri of a relay response)");
    HF_IDS_RELAY_ADDR: Ipv4Addr = c"Relay address", c"apns.ids.relay.address", blurb(c"IPv4 address of the relay server to use (key qrip, 4 bytes)");
    HF_IDS_RELAY_ADDR6: Ipv6Addr = c"Relay IPv6 address", c"apns.ids.relay.address6", blurb(c"IPv6 address of the relay server to use (key qrip, 16 bytes)");
    HF_IDS_RELAY_PORT: u16 = c"Relay port", c"apns.ids.relay.port", blurb(c"UDP port of the relay server (key qrp)");
    HF_IDS_RELAY_STOKEN: [u8] = c"Relay session token", c"apns.ids.relay.session_token", blurb(c"Token identifying the client to the relay (key qrst)");
    HF_IDS_RELAY_SKEY: [u8] = c"Relay session key", c"apns.ids.relay.session_key", blurb(c"Key material of the relay session (key qrsk)");
    HF_IDS_RELAY_ID: [u8] = c"Relay id", c"apns.ids.relay.relay_id", blurb(c"Identifier of the relay session (key qrsi)");
    HF_IDS_RELAY_SERVER: str = c"Relay server", c"apns.ids.relay.server",
        blurb(c"Computed: the relay server a relay response names, address and port");
}


/// Every command byte with a name: the iOS 4 commands 0x00–0x06 and the iOS 5+ ones (built
/// from the core's names at registration).
fn command_vals() -> &'static [(u32, &'static CStr)] {
    let mut v: Vec<(u32, &'static CStr)> =
        LegacyCommand::VALS.iter().map(|&(code, name)| (code, leak(&format!("{} (iOS 4)", name.to_string_lossy())))).collect();
    v.extend_from_slice(Command::VALS);
    v.extend([(0x1E, c"Unknown pub/sub command (0x1E)"), (0x20, c"Unknown pub/sub command (0x20)")]);
    Box::leak(v.into_boxed_slice())
}

fn leak(s: &str) -> &'static CStr {
    Box::leak(CString::new(s).unwrap_or_default().into_boxed_c_str())
}

/// The field of an item that has no common field (`apns.connect.state` …), by its kind.
#[derive(Clone, Copy)]
pub(super) enum ItemHf {
    U8(&'static Hf<u8>),
    U16(&'static Hf<u16>),
    U32(&'static Hf<u32>),
    U64(&'static Hf<u64>),
    Time(&'static Hf<AbsTime>),
    Text(&'static Hf<str>),
    Bytes(&'static Hf<[u8]>),
}

/// The per-command item fields, built from the core's item tables at registration:
/// (command, item id) → field.
static ITEM_FIELDS: OnceLock<HashMap<(u8, u8), ItemHf>> = OnceLock::new();

pub(super) fn item_field(cmd: Command, id: u8) -> Option<ItemHf> {
    ITEM_FIELDS.get()?.get(&(cmd.code(), id)).copied()
}

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
        Command::SubscribeChannels => "subscribe",
        Command::Unknown(_) => "unknown",
    }
}

/// A field of kind `K` that lives for the rest of the process.
fn leak_hf<K: ?Sized>() -> &'static Hf<K> {
    Box::leak(Box::new(Hf::new()))
}

/// A new field for an item of this kind (`None`: the item has a common field).
fn item_hf(k: Kind) -> Option<ItemHf> {
    Some(match k {
        Kind::U8 => ItemHf::U8(leak_hf()),
        Kind::U16 => ItemHf::U16(leak_hf()),
        Kind::U32 => ItemHf::U32(leak_hf()),
        Kind::U64 | Kind::UInt => ItemHf::U64(leak_hf()),
        Kind::TimeMs | Kind::TimeNs | Kind::UnixSecs => ItemHf::Time(leak_hf()),
        Kind::Text | Kind::MaybeText => ItemHf::Text(leak_hf()),
        Kind::TopicHashOrText => return None,
        _ => ItemHf::Bytes(leak_hf()),
    })
}

/// Every field of the protocol in registration order: the declared ones, then the item
/// fields.
pub(super) fn all_fields() -> &'static [Field] {
    let mut fields: Vec<Field> = FIELDS.to_vec();
    fields.extend(item_fields());
    Box::leak(fields.into_boxed_slice())
}

/// Wireshark's unit for an item's unit.
fn unit(u: ItemUnit) -> Unit {
    match u {
        ItemUnit::Milliseconds => Unit::Milliseconds,
        ItemUnit::Minutes => Unit::Minutes,
        ItemUnit::Bytes => Unit::Bytes,
    }
}

fn item_fields() -> Vec<Field> {
    let mut map = HashMap::new();
    let mut by_abbrev: HashMap<String, ItemHf> = HashMap::new();
    let mut out = Vec::new();
    // The ids that share one field (Message items 1 and 2), for its description.
    let mut ids: HashMap<String, Vec<u8>> = HashMap::new();
    for c in KNOWN_COMMANDS {
        for def in c.items() {
            ids.entry(format!("apns.{}.{}", command_key(c), def.key)).or_default().push(def.id);
        }
    }
    for c in KNOWN_COMMANDS {
        for def in c.items() {
            if def.field.is_some() {
                continue;
            }
            if matches!(def.kind, Kind::TopicHashOrText) {
                continue;
            }
            let abbrev = format!("apns.{}.{}", command_key(c), def.key);
            let hf = match by_abbrev.get(&abbrev) {
                Some(hf) => *hf,
                None => {
                    let Some(hf) = item_hf(def.kind) else { continue };
                    let (name, abbrev_c) = (leak(def.label), leak(&abbrev));
                    let f = match hf {
                        ItemHf::U8(h) => Field::new(h, name, abbrev_c),
                        ItemHf::U16(h) => Field::new(h, name, abbrev_c),
                        ItemHf::U32(h) => Field::new(h, name, abbrev_c),
                        ItemHf::U64(h) => Field::new(h, name, abbrev_c),
                        ItemHf::Time(h) => Field::new(h, name, abbrev_c),
                        ItemHf::Text(h) => Field::new(h, name, abbrev_c),
                        ItemHf::Bytes(h) => Field::new(h, name, abbrev_c),
                    };
                    let integer = matches!(hf, ItemHf::U8(_) | ItemHf::U16(_) | ItemHf::U32(_) | ItemHf::U64(_));
                    let f = if integer && matches!(def.key, "flags" | "capabilities") { f.hex() } else { f };
                    let f = match (integer, def.vals, def.unit) {
                        (true, Some(v), _) => f.vals(v),
                        (true, None, Some(u)) => f.unit(unit(u)),
                        _ => f,
                    };
                    let shared = ids.get(&abbrev).map(Vec::as_slice).unwrap_or(&[]);
                    let which = shared.iter().map(u8::to_string).collect::<Vec<_>>().join(" or ");
                    out.push(f.blurb(leak(&format!("{} ({} item {which})", def.about, c.name()))));
                    by_abbrev.insert(abbrev, hf);
                    hf
                }
            };
            map.insert((c.code(), def.id), hf);
        }
    }
    let _ = ITEM_FIELDS.set(map);
    out
}

subtrees! {
    pub(crate) ETTS;
    ETT;
    ETT_NONCE;
    ETT_ITEM = c"Item", c"apns.item", c"One item of a courier command: its id, length and value";
    ETT_PLIST = c"Binary property list", c"apns.plist", c"A payload that is a binary property list (bplist00), decoded";
    ETT_PLIST_MEMBER = c"Member", c"apns.plist.member", c"One key and value of a property-list dictionary";
    ETT_PLIST_ELEMENT = c"Element", c"apns.plist.element", c"A property-list value without a key: the top object, or an element of an array or set";
    ETT_SESSION = c"Device", c"apns.session", c"Computed: the device as this connection described it so far (token, OS, hardware, carrier)";
    ETT_LEGACY = c"Id list", c"apns.legacy.list", c"One list of message ids in an iOS 4 (legacy) courier message";
    ETT_P_ATTR = c"Attribute", c"apns.packed.attr", c"One attribute of a packed message or dictionary: its tag, key and value, and where the key and value came from";
    ETT_P_VALUE = c"Value", c"apns.packed.value", c"A packed value: data, string, integer, boolean, dictionary or array";
    ETT_P_CACHES = c"Caches", c"apns.packed.caches", c"Computed: the value cache sizes of this connection and where they come from";
    ETT_CH_LIST = c"Channel subscription", c"apns.channel.subscription", c"A StatusKit SubscribeToChannel protobuf: topics, each with channels subscribed and unsubscribed";
    ETT_CH_TOPIC = c"Subscribed topic", c"apns.channel.topic_entry", c"One topic of a channel subscription and its channels";
    ETT_CH = c"Channel", c"apns.channel", c"A StatusKit channel: its id and last message time";
    ETT_PB_FIELD = c"Protobuf field", c"apns.protobuf.field_entry", c"A protobuf field no schema here names: number, wire type, value";
    ETT_IDS_RELAY = c"Quick relay", c"apns.ids.relay", c"Computed: what a quick relay request or response says, in one place";
}

experts! {
    pub(super) EXPERTS, fn anomaly_expert(AnomalyKind);
    EI_UNKNOWN_COMMAND [AnomalyKind::UnknownCommand(_)] = c"apns.unknown_command", Undecoded, Note, c"Unknown command";
    EI_UNKNOWN_ITEM [AnomalyKind::UnknownItem { .. }] = c"apns.unknown_item", Undecoded, Note, c"Unknown item id for this command";
    EI_TRUNCATED [AnomalyKind::Truncated { .. }] = c"apns.truncated", Malformed, Error, c"Message truncated: fewer bytes than its length says";
    EI_ITEM_OVERRUN [AnomalyKind::ItemOverrun { .. }] = c"apns.item_overrun", Malformed, Error, c"Item runs past the end of its message";
    EI_TRAILING [AnomalyKind::TrailingBytes { .. }] = c"apns.trailing_bytes", Malformed, Warn, c"Trailing bytes too short for an item";
    EI_BAD_LENGTH [AnomalyKind::ItemBadLength { .. }] = c"apns.item_bad_length", Malformed, Warn, c"Item value has an unexpected length";
    EI_NOT_UTF8 [AnomalyKind::ItemNotUtf8 { .. }] = c"apns.item_not_utf8", Malformed, Warn, c"Text item is not valid UTF-8";
    EI_TOO_MANY_ITEMS [AnomalyKind::TooManyItems { .. }] = c"apns.too_many_items", Malformed, Warn, c"Too many items; the rest are not shown";
    EI_TOO_LARGE = c"apns.too_large", Malformed, Error, c"Message length exceeds the maximum message size preference; not reassembled";
    EI_UNFRAMEABLE = c"apns.unframeable", Malformed, Error, c"Command with no known layout: the stream cannot be framed further";
    EI_LEGACY = c"apns.legacy_anomaly", Protocol, Warn, c"Unusual iOS 4 message";
    EI_PLIST_ERROR = c"apns.plist.error", Malformed, Warn, c"Binary property list cannot be decoded";
    EI_PLIST_ANOMALY = c"apns.plist.anomaly", Malformed, Warn, c"Binary property list anomaly";
    EI_STATE_CAP = c"apns.state_cap", Protocol, Warn, c"Too much state for this connection; later messages are not linked";
    EI_NO_HEADER = c"apns.short", Malformed, Error, c"Too short for a message header";
    EI_P_BAD_NUMBER = c"apns.packed.bad_number", Malformed, Error, c"Packed number longer than ten bytes or beyond 64 bits";
    EI_P_PAST_END = c"apns.packed.past_end", Malformed, Error, c"Packed length or count runs past the end of the data";
    EI_P_KEY_PAST_END = c"apns.packed.key_past_end", Malformed, Error, c"Packed key longer than the rest of the message";
    EI_P_KEY_MISS = c"apns.packed.key_cache_miss", Malformed, Error, c"Key cache index past the end of the key cache";
    EI_P_VALUE_MISS = c"apns.packed.value_cache_miss", Malformed, Error, c"Value cache index past the end of the value cache";
    EI_P_VALUE_EVICTED = c"apns.packed.value_cache_evicted", Protocol, Warn, c"Value cache index past the end of the value cache; resolved from an entry it had evicted";
    EI_P_VALUE_BEYOND_ASSUMED = c"apns.packed.value_cache_larger", Assumption, Note, c"Value cache larger than assumed (no ALPN seen); resolved from an entry a larger cache still holds";
    EI_P_OVERSIZE = c"apns.packed.value_larger_than_cache", Protocol, Warn, c"Cached value larger than the whole value cache (kept uncounted)";
    EI_P_ACCOUNTING = c"apns.packed.cache_accounting", Protocol, Warn, c"Value cache size count goes below zero here (rustpush fails)";
    EI_P_MEMORY = c"apns.packed.cache_memory_bound", Protocol, Warn, c"Value cache memory bound reached: older entries dropped";
    EI_P_NOT_UTF8 = c"apns.packed.not_utf8", Malformed, Warn, c"Packed string is not valid UTF-8";
    EI_P_INT_RANGE = c"apns.packed.int_out_of_range", Malformed, Warn, c"Packed integer beyond a signed 64-bit value";
    EI_P_RESERVED = c"apns.packed.reserved_bits", Undecoded, Note, c"Packed tag bits with no known meaning are set";
    EI_P_TOO_DEEP = c"apns.packed.too_deep", Malformed, Error, c"Packed values nested too deep; not decoded further";
    EI_P_TOO_MUCH = c"apns.packed.too_much_work", Malformed, Error, c"Too much to decode in one packed message; not decoded further";
    EI_P_NOT_RECORDED = c"apns.packed.not_recorded", Protocol, Warn, c"This message's cache lookups were not kept (connection state cap); cached keys and values not shown";
    EI_P_SIZES_CAPPED = c"apns.packed.sizes_capped", Protocol, Note, c"ALPN value cache size larger than believed; capped";
    EI_PB_MALFORMED = c"apns.protobuf.malformed", Malformed, Warn, c"Malformed protobuf";
    EI_PB_WIRE_TYPE = c"apns.protobuf.wire_type_mismatch", Protocol, Warn, c"Protobuf field with another wire type than its schema's";
    EI_CH_NOT_UTF8 = c"apns.channel.topic_not_utf8", Malformed, Warn, c"Channel topic name is not valid UTF-8";
    EI_CH_TOO_MANY = c"apns.channel.too_many", Malformed, Warn, c"Too many channel entries; the rest are not shown";
    EI_IDS_RELAY = c"apns.ids.relay.malformed", Malformed, Warn, c"Malformed quick relay response";
}

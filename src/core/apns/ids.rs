//! IDS messages inside notification payloads: the envelope that iMessage, FaceTime and
//! every other IDS service (topics `com.apple.madrid`, `com.apple.private.alloy.*`,
//! `com.apple.private.ids`, `com.apple.ess`) send through APNs, and the quick relay
//! allocation FaceTime asks for on `com.apple.private.alloy.quickrelay`.
//!
//! Facts (read for facts, no code taken):
//! - beeper/imessage, `imessage/direct/apns/sendmessagepayload.go`: the `c` command values
//!   (`MessageType`), the envelope keys (`SendMessagePayload`) and the `E` encryption types
//!   `pair` / `pair-ec`; `imessage/direct/ids/types/idserrors.gen.go`: the IDS status codes
//!   (`IDSStatus`, taken by its generator from web FaceTime's JavaScript).
//! - OpenBubbles/rustpush, `src/ids/mod.rs` (`IDSRecvMessage`: c e U sP t tP nr eX D p P E s
//!   fU fRM fR fM cdv cdr), `src/ids/identity_manager.rs` (`SendMessage`, `BundledPayload`,
//!   `IDSSendMessage::quickrelay`: command 200 with the relay request keys `qr qids qgid qgmc
//!   qai qat qv`), `src/facetime.rs` (`FTClient`: commands 207, 208, 209, 210 and 242 on
//!   `com.apple.private.alloy.facetime.multi`; `ensure_allocations`: request type 3
//!   "allocate relay", the response keys `U` and `qal[qri tP t]`), and `src/ids/link.rs`
//!   (commit 8ad0b72640dfb7f163ebf5bd55d6eaee8d7e890d, `QuickRelayAllocationsResponse`: the
//!   relay server's IPv4 address `qrip` (4 bytes, `GlobalLink::new`), its UDP port `qrp`,
//!   `qrst` session token, `qrsk` session key, `qids` session id, `qrsi` relay id, `qri` the
//!   client's own participant id).
//!
//! The model ([`Node`]) is built from either framing's payload (a binary property list, or
//! the packed framing's dictionary) by the glue; [`Envelope::read`] then finds what a
//! FaceTime call set up over APNs needs followed, and what is malformed in a relay response.

use crate::core::span::Span;
use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Nesting followed at most (deeper values are [`Val::Other`]).
pub const MAX_DEPTH: usize = 16;
/// Nodes built per payload at most.
pub const MAX_NODES: usize = 1 << 14;

/// The `c` values: what an IDS message carries. 32–255 from beeper's `MessageType`
/// (sendmessagepayload.go), 200 and 207–242 from rustpush (identity_manager.rs
/// `IDSSendMessage::quickrelay`, facetime.rs `FTClient`).
pub const COMMANDS: &[(u32, &CStr)] = &[
    (32, c"IDS re-register"),
    (34, c"IDS devices updated"),
    (66, c"IDS handles updated"),
    (92, c"IDS error"),
    (96, c"HTTP request"),
    (97, c"HTTP response"),
    (100, c"Message"),
    (101, c"Delivery receipt"),
    (102, c"Read receipt"),
    (104, c"Message (async)"),
    (105, c"Played receipt"),
    (106, c"Saved receipt"),
    (107, c"Reflected delivery"),
    (109, c"Certified delivery"),
    (111, c"Mark unread"),
    (112, c"Unknown (112)"),
    (116, c"Unknown (116)"),
    (118, c"Edit"),
    (120, c"Delivery failure"),
    (130, c"Peer cache invalidate"),
    (131, c"Profile share"),
    (140, c"Incoming SMS"),
    (141, c"Incoming MMS"),
    (142, c"SMS enable request code"),
    (143, c"Reflected SMS"),
    (144, c"Reflected MMS"),
    (145, c"SMS forwarding toggled"),
    (146, c"SMS success"),
    (147, c"SMS read"),
    (149, c"SMS failed"),
    (150, c"MMCS upload"),
    (151, c"MMCS download"),
    (160, c"Flush queue (offline message pending storage check)"),
    (180, c"Settings"),
    (181, c"Delete sync"),
    (182, c"Undelete sync"),
    (190, c"Group metadata"),
    (196, c"Link preview edit"),
    (200, c"Quick relay allocation request"),
    (207, c"FaceTime participant joined"),
    (208, c"FaceTime participant left"),
    (209, c"FaceTime group updated"),
    (210, c"FaceTime rekey"),
    (242, c"FaceTime conversation message"),
    (255, c"Server response"),
];

/// The IDS status codes (`s` of a server response), from beeper's `IDSStatus`
/// (idserrors.gen.go; its generator took them from web FaceTime).
pub const STATUS: &[(u32, &CStr)] = &[
    (0, c"Success"),
    (1, c"No result code"),
    (200, c"HTTP success"),
    (255, c"None"),
    (400, c"Legacy tunnel bad request"),
    (1000, c"Parse failure"),
    (1001, c"Invalid field"),
    (1002, c"Message removed"),
    (1003, c"Message inhibited"),
    (1004, c"Decode failure Base64"),
    (1005, c"Decode failure hex"),
    (1006, c"Auth failure"),
    (1007, c"Storage failure"),
    (5000, c"Unauthenticated"),
    (5001, c"Internal error"),
    (5002, c"Version mismatch"),
    (5003, c"Bad request"),
    (5004, c"Server too busy"),
    (5005, c"No such player ID"),
    (5006, c"Bad push token"),
    (5007, c"No such achievement"),
    (5008, c"Missing required key"),
    (5009, c"Missing required header"),
    (5010, c"Unrecognized game descriptor headers"),
    (5011, c"Must accept terms of service"),
    (5012, c"Invalid name or password"),
    (5013, c"Cancelled by user"),
    (5014, c"No such friend relationship"),
    (5015, c"No such alias"),
    (5016, c"Email not in network"),
    (5017, c"Request disallowed"),
    (5018, c"No such RID"),
    (5019, c"No such game"),
    (5020, c"Mixed response"),
    (5021, c"Profile exists"),
    (5022, c"Alias exists"),
    (5023, c"Account name not email address"),
    (5024, c"Alias too long"),
    (5025, c"Alias too frequent updates"),
    (5026, c"Player status not allowed"),
    (5027, c"Player status too long"),
    (5028, c"No such bucket ID"),
    (5029, c"Authenticated not authorized"),
    (5030, c"No push token for ID"),
    (5031, c"Push payload too big"),
    (5032, c"Bad signature"),
    (5033, c"New signature required"),
    (5034, c"New registration required"),
    (5035, c"Alias empty"),
    (5036, c"Email invalid"),
    (5037, c"Email in required"),
    (5038, c"Email in use"),
    (5039, c"Expired relay token"),
    (5040, c"Bad session token"),
    (5041, c"Expired session token"),
    (5046, c"Account disabled for security reasons"),
    (5047, c"Force password change"),
    (5048, c"Profile blocklisted"),
    (5051, c"Email vetted"),
    (5052, c"Email not vetted"),
    (5055, c"Email in use alt"),
    (5057, c"Self version too old"),
    (5058, c"Peer version too old"),
    (5059, c"Phone number too short"),
    (5060, c"Phone number too long"),
    (5061, c"Phone number bad country code"),
    (5062, c"Phone number malformed"),
    (5063, c"Bad invitation context"),
    (5064, c"Unpromotable phone number"),
    (5068, c"Registration limit reached"),
    (5076, c"Needs break before make"),
    (5078, c"Absinthe internal error"),
    (5079, c"Absinthe session creation failed"),
    (5080, c"Absinthe validation failed"),
    (5085, c"Bad cert"),
    (5086, c"Bad nonce"),
    (5087, c"Bad nonce timestamp"),
    (5088, c"Email legacy or inactive"),
    (5089, c"Albert internal error"),
    (5090, c"Albert validation failed"),
    (5092, c"Server registration unsupported"),
    (5099, c"New linked signature required"),
    (5100, c"Unsupported managed ID"),
    (5103, c"Unsupported auditor ID"),
    (5200, c"Web tunnel service disabled"),
    (5201, c"Web tunnel service internal error"),
    (5202, c"Web tunnel service too busy"),
    (5203, c"Web tunnel service missing key"),
    (5204, c"Web tunnel service malformed URL"),
    (5205, c"Web tunnel service unauthorized URL"),
    (5206, c"Web tunnel service response too large"),
    (5207, c"Web tunnel service origin server timeout"),
    (6000, c"Unknown command"),
    (6001, c"Action do not retry"),
    (6002, c"Action retry with delay"),
    (6003, c"Action retry with corrected time"),
    (6004, c"Action retry with new Absinthe context"),
    (6005, c"Action refresh credentials"),
    (6006, c"Action refresh registration"),
    (6008, c"Action authentication failed"),
    (6009, c"Action permanent failure"),
    (6010, c"Action IdMS session refresh exception"),
    (6011, c"Action provision limit reached"),
    (6012, c"Action provision replace all session keys"),
    (7000, c"Rate limited"),
    (7001, c"Service disabled"),
    (8000, c"Validation failure"),
    (8001, c"Validation cert fetch failure"),
    (10000, c"No network available"),
    (20000, c"Failed request"),
    (20001, c"Push request failed"),
];

/// The name of an IDS command value.
pub fn command_name(c: u64) -> Option<&'static str> {
    COMMANDS.iter().find(|(v, _)| u64::from(*v) == c).and_then(|(_, n)| n.to_str().ok())
}

/// The name of an IDS status code.
pub fn status_name(s: i64) -> Option<&'static str> {
    STATUS.iter().find(|(v, _)| i64::from(*v) == s).and_then(|(_, n)| n.to_str().ok())
}

/// What an `E` value means (beeper's `EncryptionType`: `pair`, `pair-ec`).
pub fn encryption_name(e: &str) -> Option<&'static str> {
    Some(match e {
        "pair" => "pairwise (per-device keys)",
        "pair-ec" => "pairwise, elliptic-curve keys",
        _ => return None,
    })
}

/// Whether a topic carries IDS messages.
pub fn is_ids_topic(topic: &str) -> bool {
    topic == "com.apple.madrid"
        || topic == "com.apple.ess"
        || topic == "com.apple.private.ids"
        || topic.starts_with("com.apple.private.alloy.")
}

/// The topic FaceTime's relay allocations travel on.
pub const QUICKRELAY: &str = "com.apple.private.alloy.quickrelay";

/// The meaning of an IDS envelope key (`parent`: the key of the dictionary's parent
/// member, for the keys whose meaning depends on it: `qri`, `tP`, `t` in `qal`).
pub fn key_meaning(k: &str, parent: Option<&str>) -> Option<&'static str> {
    if parent == Some("qal") {
        match k {
            "qri" => return Some("participant id"),
            "tP" => return Some("participant"),
            "t" => return Some("participant push token"),
            _ => {}
        }
    }
    Some(match k {
        // beeper SendMessagePayload, rustpush IDSRecvMessage / SendMessage / BundledPayload.
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
        "p" => "unencrypted payload",
        "sT" => "session token",
        "D" => "delivery status wanted",
        "dtl" => "delivery list",
        "e" => "timestamp",
        "fcn" => "fan-out chunk number",
        "s" => "status",
        "nr" => "no response needed",
        "eX" => "expiration",
        "oC" => "original command",
        "htu" => "trusted sender",
        "cdv" => "certified delivery version",
        "cdr" => "certified delivery receipt",
        "rc" => "retry count",
        "oe" => "original send time",
        "sv" => "send version",
        "dmt" => "scheduled delivery time",
        "qI" => "queue id",
        "fU" => "failed message UUID",
        "fM" => "failed message id",
        "fR" => "failure reason",
        "fRM" => "failure reason text",
        "u" => "HTTP URL",
        "b" => "HTTP body",
        "cT" => "content type",
        "h" => "HTTP headers",
        "hs" => "HTTP status",
        "hr" => "HTTP error",
        "mO" => "MMCS owner",
        "mS" => "MMCS file signature",
        "mL" => "MMCS file length",
        "mA" => "MMCS auth token",
        "mR" => "MMCS auth URL",
        "mU" => "MMCS auth id",
        "cV" => "content version",
        "cH" => "content headers",
        "cB" => "content body",
        // Quick relay request (rustpush SendMessage) and response (QuickRelayAllocationsResponse).
        "qr" => "relay reason",
        "qids" => "session id",
        "qgid" => "group id",
        "qgmc" => "group member count",
        "qai" => "relay topic",
        "qat" => "relay request type",
        "qv" => "relay version",
        "qal" => "relay allocations",
        "qrip" => "relay address",
        "qrp" => "relay port",
        "qrst" => "relay session token",
        "qrsk" => "relay session key",
        "qrsi" => "relay id",
        "qri" => "own participant id",
        // FaceTime extras (rustpush FTClient).
        "is-initiator-key" => "initiator",
        "up1" => "U+1 (one-to-one upgraded)",
        _ => return None,
    })
}

/// Relay reason names (`qr`; rustpush sends 0, "something along the lines of 'someone
/// joined'", facetime.rs `ensure_allocations`).
pub const RELAY_REASONS: &[(u32, &CStr)] = &[(0, c"Someone joined (rustpush's reading)")];

/// Relay request type names (`qat`; rustpush sends 3, "allocate relay").
pub const RELAY_REQUEST_TYPES: &[(u32, &CStr)] = &[(3, c"Allocate relay")];

/// A payload value, as far as the IDS annotation needs it, with where it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    pub span: Span,
    pub val: Val<'a>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Str(&'a str),
    Int(i128),
    Bytes(&'a [u8]),
    Bool(bool),
    Dict(Vec<(&'a str, Node<'a>)>),
    Array(Vec<Node<'a>>),
    Other,
}

impl<'a> Node<'a> {
    /// The member `k` of a dictionary.
    pub fn get(&self, k: &str) -> Option<&Node<'a>> {
        match &self.val {
            Val::Dict(m) => m.iter().find(|(key, _)| *key == k).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn str(&self) -> Option<&'a str> {
        match self.val {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn int(&self) -> Option<i128> {
        match self.val {
            Val::Int(i) => Some(i),
            _ => None,
        }
    }
    pub fn bytes(&self) -> Option<&'a [u8]> {
        match self.val {
            Val::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// A budget for building a [`Node`] tree (depth and node count).
#[derive(Debug)]
pub struct Budget {
    pub nodes: usize,
}

impl Budget {
    pub fn new() -> Self {
        Budget { nodes: 0 }
    }
    /// Takes one node; `false` when the tree is full or `depth` too deep.
    pub fn take(&mut self, depth: usize) -> bool {
        if depth > MAX_DEPTH || self.nodes >= MAX_NODES {
            return false;
        }
        self.nodes += 1;
        true
    }
}

impl Default for Budget {
    fn default() -> Self {
        Self::new()
    }
}

/// A binary property list's object as a [`Node`] (`base`: where the plist starts).
pub fn from_plist<'a>(n: &'a crate::core::bplist::Node<'_>, base: usize, depth: usize, b: &mut Budget) -> Node<'a> {
    use crate::core::bplist::Value as V;
    let span = n.span.shift(base);
    if !b.take(depth) {
        return Node { span, val: Val::Other };
    }
    let val = match &n.value {
        V::Ascii(_) | V::Utf16(_) => n.value.as_str().map_or(Val::Other, Val::Str),
        V::Int(i) => Val::Int(*i),
        V::Data(d) => Val::Bytes(d),
        V::Bool(x) => Val::Bool(*x),
        V::Dict(entries) => Val::Dict(
            entries
                .iter()
                .filter_map(|e| Some((e.key.value.as_str()?, from_plist(&e.value, base, depth + 1, b))))
                .collect(),
        ),
        V::Array(items) | V::Set(items) => Val::Array(items.iter().map(|i| from_plist(i, base, depth + 1, b)).collect()),
        _ => Val::Other,
    };
    Node { span, val }
}

/// A packed value as a [`Node`] (spans: where it shows in the packet).
pub fn from_packed<'m>(m: &'m super::packed::Message<'_>, v: &super::packed::Item, depth: usize, b: &mut Budget) -> Node<'m> {
    use super::packed::Node as P;
    let span = v.at;
    if !b.take(depth) {
        return Node { span, val: Val::Other };
    }
    let val = match &v.node {
        P::Data(loc) => Val::Bytes(m.bytes(*loc)),
        P::String { loc, utf8: true } => std::str::from_utf8(m.bytes(*loc)).map_or(Val::Other, Val::Str),
        P::String { .. } => Val::Other,
        P::Int { negative, magnitude, .. } => {
            let x = i128::from(*magnitude);
            Val::Int(if *negative { -x } else { x })
        }
        P::Bool(x) => Val::Bool(*x),
        P::Dict(attrs) => Val::Dict(
            attrs
                .iter()
                .filter_map(|a| {
                    let k = std::str::from_utf8(m.key_bytes(&a.key)?).ok()?;
                    Some((k, from_packed(m, a.value.as_ref()?, depth + 1, b)))
                })
                .collect(),
        ),
        P::Array(items) => Val::Array(items.iter().map(|i| from_packed(m, i, depth + 1, b)).collect()),
    };
    Node { span, val }
}

/// A relay request's settings (rustpush `SendMessage` relay keys).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelayRequest<'a> {
    pub reason: Option<i64>,
    pub group_id: Option<&'a str>,
    pub member_count: Option<i64>,
    pub topic: Option<&'a str>,
    pub request_type: Option<i64>,
    pub version: Option<i64>,
}

/// One allocation of a relay response (`qal` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocation<'a> {
    pub span: Span,
    pub participant_id: Option<i64>,
    pub participant: Option<&'a str>,
    pub token: Option<&'a [u8]>,
}

/// A relay response (rustpush `QuickRelayAllocationsResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RelayResponse<'a> {
    pub allocations: Vec<Allocation<'a>>,
    /// `qrip` and `qrp`, when both are there and well-formed.
    pub server: Option<(IpAddr, u16)>,
    pub own_participant_id: Option<i64>,
}

/// What is wrong in a relay response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnomalyKind {
    /// `qrip` is not 4 (IPv4) or 16 (IPv6) bytes of data.
    BadAddress { len: Option<usize> },
    /// `qrp` is not an integer 0–65535.
    BadPort,
    /// `qal` is not an array of dictionaries.
    BadAllocations,
    /// A `qal` entry without its participant id (`qri`), participant (`tP`) or token (`t`),
    /// or with one of another type.
    BadAllocation { key: &'static str },
    /// An address without a port, or a port without an address.
    HalfServer,
}

impl AnomalyKind {
    pub fn text(&self) -> String {
        match self {
            AnomalyKind::BadAddress { len: Some(n) } => format!("Relay address (qrip) is {n} bytes; 4 (IPv4) or 16 (IPv6) expected"),
            AnomalyKind::BadAddress { len: None } => "Relay address (qrip) is not data".into(),
            AnomalyKind::BadPort => "Relay port (qrp) is not an integer 0-65535".into(),
            AnomalyKind::BadAllocations => "Relay allocations (qal) are not an array of dictionaries".into(),
            AnomalyKind::BadAllocation { key } => format!("Relay allocation without a well-typed {key}"),
            AnomalyKind::HalfServer => "Relay response names an address without a port or a port without an address".into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Anomaly {
    pub kind: AnomalyKind,
    pub span: Span,
}

/// What an IDS payload says, as far as it is followed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Envelope<'a> {
    pub command: Option<u64>,
    pub sender: Option<&'a str>,
    pub target: Option<&'a str>,
    pub status: Option<i64>,
    /// `qids`: the session (the FaceTime group's UUID) a relay request or response is for.
    pub session_id: Option<&'a [u8]>,
    pub relay_request: Option<RelayRequest<'a>>,
    pub relay_response: Option<RelayResponse<'a>>,
    pub anomalies: Vec<Anomaly>,
}

fn small(n: Option<&Node<'_>>) -> Option<i64> {
    n?.int().and_then(|i| i64::try_from(i).ok())
}

impl<'a> Envelope<'a> {
    /// Reads the envelope of a payload's top dictionary (`None`: not a dictionary).
    pub fn read(root: &Node<'a>) -> Option<Envelope<'a>> {
        let Val::Dict(_) = root.val else { return None };
        let mut e = Envelope {
            command: root.get("c").and_then(Node::int).and_then(|c| u64::try_from(c).ok()),
            sender: root.get("sP").and_then(Node::str),
            target: root.get("tP").and_then(Node::str),
            status: small(root.get("s")),
            session_id: root.get("qids").and_then(Node::bytes),
            ..Default::default()
        };
        if ["qr", "qgid", "qgmc", "qai", "qat", "qv"].iter().any(|k| root.get(k).is_some()) {
            e.relay_request = Some(RelayRequest {
                reason: small(root.get("qr")),
                group_id: root.get("qgid").and_then(Node::str),
                member_count: small(root.get("qgmc")),
                topic: root.get("qai").and_then(Node::str),
                request_type: small(root.get("qat")),
                version: small(root.get("qv")),
            });
        }
        if ["qal", "qrip", "qrp"].iter().any(|k| root.get(k).is_some()) {
            let mut r = RelayResponse { own_participant_id: small(root.get("qri")), ..Default::default() };
            if let Some(qal) = root.get("qal") {
                match &qal.val {
                    Val::Array(items) => {
                        for it in items {
                            if !matches!(it.val, Val::Dict(_)) {
                                e.anomalies.push(Anomaly { kind: AnomalyKind::BadAllocations, span: it.span });
                                continue;
                            }
                            let a = Allocation {
                                span: it.span,
                                participant_id: small(it.get("qri")),
                                participant: it.get("tP").and_then(Node::str),
                                token: it.get("t").and_then(Node::bytes),
                            };
                            for (key, ok) in [("qri", a.participant_id.is_some()), ("tP", a.participant.is_some()), ("t", a.token.is_some())] {
                                if !ok {
                                    e.anomalies.push(Anomaly { kind: AnomalyKind::BadAllocation { key }, span: it.get(key).map_or(it.span, |n| n.span) });
                                }
                            }
                            r.allocations.push(a);
                        }
                    }
                    _ => e.anomalies.push(Anomaly { kind: AnomalyKind::BadAllocations, span: qal.span }),
                }
            }
            let addr = root.get("qrip").and_then(|n| match n.val {
                Val::Bytes(b) => match b.len() {
                    4 => Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
                    16 => <[u8; 16]>::try_from(b).ok().map(|o| IpAddr::V6(Ipv6Addr::from(o))),
                    n_ => {
                        e.anomalies.push(Anomaly { kind: AnomalyKind::BadAddress { len: Some(n_) }, span: n.span });
                        None
                    }
                },
                _ => {
                    e.anomalies.push(Anomaly { kind: AnomalyKind::BadAddress { len: None }, span: n.span });
                    None
                }
            });
            let port = root.get("qrp").and_then(|n| match n.int().and_then(|p| u16::try_from(p).ok()) {
                Some(p) => Some(p),
                None => {
                    e.anomalies.push(Anomaly { kind: AnomalyKind::BadPort, span: n.span });
                    None
                }
            });
            match (addr, port) {
                (Some(a), Some(p)) => r.server = Some((a, p)),
                (None, None) => {}
                _ if root.get("qrip").is_some() != root.get("qrp").is_some() => {
                    let at = root.get("qrip").or(root.get("qrp")).map_or(root.span, |n| n.span);
                    e.anomalies.push(Anomaly { kind: AnomalyKind::HalfServer, span: at });
                }
                _ => {}
            }
            e.relay_response = Some(r);
        }
        Some(e)
    }

    /// A short text for the Info column: the command's name, the relay server.
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(c) = self.command {
            parts.push(match command_name(c) {
                Some(n) => format!("IDS {n} ({c})"),
                None => format!("IDS command {c}"),
            });
        }
        if let Some(s) = self.status {
            parts.push(match status_name(s) {
                Some(n) => format!("status {n} ({s})"),
                None => format!("status {s}"),
            });
        }
        if let Some(r) = &self.relay_response {
            match r.server {
                Some((IpAddr::V6(a), p)) => parts.push(format!("relay [{a}]:{p}")),
                Some((a, p)) => parts.push(format!("relay {a}:{p}")),
                None => parts.push("relay allocations".into()),
            }
        } else if self.relay_request.is_some() {
            parts.push("relay request".into());
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// What the dissector keeps of an envelope once its payload is gone: for the Info column,
/// the experts and the statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Brief {
    pub command: Option<u64>,
    pub status: Option<i64>,
    pub relay_request: bool,
    pub relay_response: bool,
    pub server: Option<(IpAddr, u16)>,
    pub allocations: usize,
    pub anomalies: Vec<Anomaly>,
    /// [`Envelope::summary`].
    pub text: Option<String>,
}

impl Envelope<'_> {
    pub fn brief(&self) -> Brief {
        Brief {
            command: self.command,
            status: self.status,
            relay_request: self.relay_request.is_some(),
            relay_response: self.relay_response.is_some(),
            server: self.relay_response.as_ref().and_then(|r| r.server),
            allocations: self.relay_response.as_ref().map_or(0, |r| r.allocations.len()),
            anomalies: self.anomalies.clone(),
            text: self.summary(),
        }
    }
}

/// A 16-byte UUID as text (`None`: not 16 bytes).
pub fn uuid_text(b: &[u8]) -> Option<String> {
    if b.len() != 16 {
        return None;
    }
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    Some(format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(val: Val<'static>) -> Node<'static> {
        Node { span: Span::new(0, 1), val }
    }
    fn at(o: usize, val: Val<'static>) -> Node<'static> {
        Node { span: Span::new(o, 1), val }
    }

    #[test]
    fn names_from_the_sources() {
        // beeper sendmessagepayload.go: MessageTypeDeliveryReceipt = 101, MessageTypeReadReceipt
        // = 102, MessageTypeIMessageEdit = 118, MessageTypeDeliveryFailure = 120,
        // MessageTypeSMSFailed = 149, MessageTypeMMCSDownload = 151, MessageTypeLinkPreviewEdit = 196.
        assert_eq!(command_name(101), Some("Delivery receipt"));
        assert_eq!(command_name(102), Some("Read receipt"));
        assert_eq!(command_name(118), Some("Edit"));
        assert_eq!(command_name(120), Some("Delivery failure"));
        assert_eq!(command_name(149), Some("SMS failed"));
        assert_eq!(command_name(151), Some("MMCS download"));
        assert_eq!(command_name(196), Some("Link preview edit"));
        // rustpush identity_manager.rs IDSSendMessage::quickrelay: command 200; facetime.rs
        // send_for_message: 242 ("NiceData"), handle(): 208 "Group member left", 210 rekeys.
        assert_eq!(command_name(200), Some("Quick relay allocation request"));
        assert_eq!(command_name(242), Some("FaceTime conversation message"));
        assert_eq!(command_name(208), Some("FaceTime participant left"));
        assert_eq!(command_name(148), None);
        // beeper idserrors.gen.go: IDSStatusBadSignature = 5032, IDSStatusMissingRequiredKey
        // = 5008, IDSStatusRateLimited = 7000, IDSStatusPushRequestFailed = 20001.
        assert_eq!(status_name(5032), Some("Bad signature"));
        assert_eq!(status_name(5008), Some("Missing required key"));
        assert_eq!(status_name(7000), Some("Rate limited"));
        assert_eq!(status_name(20001), Some("Push request failed"));
        assert_eq!(status_name(0), Some("Success"));
        assert_eq!(STATUS.len(), 111);
        // beeper EncryptionTypePair = "pair", EncryptionTypePairEC = "pair-ec".
        assert!(encryption_name("pair").is_some() && encryption_name("pair-ec").is_some());
        assert_eq!(encryption_name("none"), None);
        for t in [COMMANDS, STATUS] {
            for (i, a) in t.iter().enumerate() {
                assert!(t[i + 1..].iter().all(|b| b.0 != a.0), "duplicate {}", a.0);
            }
        }
        assert!(is_ids_topic("com.apple.private.alloy.facetime.multi") && is_ids_topic(QUICKRELAY));
        assert!(!is_ids_topic("com.apple.gamed"));
        assert_eq!(key_meaning("tP", Some("qal")), Some("participant"));
        assert_eq!(key_meaning("tP", None), Some("target"));
    }

    /// A relay response as rustpush's `QuickRelayAllocationsResponse` (link.rs) reads it.
    #[test]
    fn relay_response() {
        let alloc = n(Val::Dict(vec![
            ("qri", n(Val::Int(7))),
            ("tP", n(Val::Str("mailto:a@example.com"))),
            ("t", n(Val::Bytes(&[1; 32]))),
        ]));
        let root = n(Val::Dict(vec![
            ("c", n(Val::Int(255))),
            ("U", n(Val::Bytes(&[2; 16]))),
            ("qal", n(Val::Array(vec![alloc]))),
            ("qrip", n(Val::Bytes(&[17, 1, 2, 3]))),
            ("qrp", n(Val::Int(3478))),
            ("qids", n(Val::Bytes(&[3; 16]))),
            ("qri", n(Val::Int(9))),
        ]));
        let e = Envelope::read(&root).unwrap();
        assert!(e.anomalies.is_empty(), "{:?}", e.anomalies);
        let r = e.relay_response.unwrap();
        assert_eq!(r.server, Some((IpAddr::V4(Ipv4Addr::new(17, 1, 2, 3)), 3478)));
        assert_eq!(r.own_participant_id, Some(9));
        assert_eq!(r.allocations[0].participant, Some("mailto:a@example.com"));
        assert_eq!(e.session_id, Some(&[3u8; 16][..]));
        assert_eq!(uuid_text(&[0xab; 16]).unwrap(), "ABABABAB-ABAB-ABAB-ABAB-ABABABABABAB");
    }

    #[test]
    fn relay_anomalies() {
        let root = n(Val::Dict(vec![
            ("qal", at(3, Val::Array(vec![at(4, Val::Int(1)), at(5, Val::Dict(vec![("qri", at(6, Val::Str("x")))]))]))),
            ("qrip", at(8, Val::Bytes(&[1, 2, 3]))),
            ("qrp", at(9, Val::Int(70000))),
        ]));
        let e = Envelope::read(&root).unwrap();
        let kinds: Vec<(AnomalyKind, usize)> = e.anomalies.iter().map(|a| (a.kind, a.span.offset)).collect();
        assert_eq!(
            kinds,
            vec![
                (AnomalyKind::BadAllocations, 4),
                (AnomalyKind::BadAllocation { key: "qri" }, 6),
                (AnomalyKind::BadAllocation { key: "tP" }, 5),
                (AnomalyKind::BadAllocation { key: "t" }, 5),
                (AnomalyKind::BadAddress { len: Some(3) }, 8),
                (AnomalyKind::BadPort, 9),
            ]
        );
        let root = n(Val::Dict(vec![("qrip", at(2, Val::Bytes(&[1, 2, 3, 4])))]));
        assert_eq!(Envelope::read(&root).unwrap().anomalies[0].kind, AnomalyKind::HalfServer);
        // A relay request (rustpush SendMessage: qr 0, qat 3, qv 25).
        let root = n(Val::Dict(vec![("c", n(Val::Int(200))), ("qr", n(Val::Int(0))), ("qat", n(Val::Int(3))), ("qv", n(Val::Int(25)))]));
        let e = Envelope::read(&root).unwrap();
        assert_eq!(e.relay_request.as_ref().unwrap().request_type, Some(3));
        assert_eq!(e.summary().unwrap(), "IDS Quick relay allocation request (200), relay request");
        assert!(Envelope::read(&n(Val::Int(1))).is_none());
    }
}

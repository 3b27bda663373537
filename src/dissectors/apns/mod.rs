//! APNs courier (device ↔ push server, TCP 5223): glue from `core::apns` and `core::bplist`
//! to Wireshark.
//!
//! Reached four ways:
//! - TLS on TCP 5223 (preference `apns.tls.port`): with a TLS key log the decrypted stream
//!   is dissected here. The TCP port itself is not given to TLS: stock's TLS heuristic finds
//!   TLS on it (also mid-stream), and whatever else runs on 5223 (XMPP, a VPN client, a
//!   cleartext courier for the `apns_tcp` heuristic) stays as stock reads it;
//! - the TLS ALPN table: `apns-security-v3` → this dissector, `apns-pack-v1` → this
//!   dissector in the packed framing (value cache sizes: the defaults). Wireshark's TLS
//!   dissector looks the server's choice up by its exact name (prefix matching only for
//!   `spdy/` and `h2-`, packet-tls-utils.c `ssl_dissect_hnd_hello_ext_alpn`), so a choice
//!   carrying the cache sizes, `apns-pack-v1:<enc>:<dec>`, finds nothing there: such a
//!   connection reaches this dissector by its port (`tls.port`, 5223) and its framing is
//!   told from its first message (below). The sizes are not visible to a plugin (TLS 1.3
//!   encrypts the choice; Wireshark's `tls_get_alpn` is not exported): they are assumed,
//!   and the decoder resolves what a larger cache would still hold (docs/apns.md);
//! - the TCP heuristic `apns_tcp` for cleartext courier streams (proxies, tests), which pins
//!   the conversation to this dissector after a strict match (classic or packed);
//! - Decode As (`tcp.port`, `tls.port`).
//!
//! Messages are framed with `tcp_dissect_pdus` (the length checked against the
//! `apns.max_message_size` preference before anything is buffered). The framing of a
//! connection (iOS 5+ TLV, iOS 4 commands 0x00–0x06, or packed) is decided from its first
//! bytes, or by the ALPN.
//! Message ↔ ack, Connect ↔ Connect Response, Keep-Alive ↔ Keep-Alive Ack and Scoped Token
//! request ↔ response are linked by `core::apns::Session` on the first pass.
//!
//! The protocol's fields, subtrees and expert infos are declared in [`fields`]; iOS 5+
//! messages are shown by [`modern`], iOS 4 ones by [`legacy`], packed ones by [`packed`],
//! payloads (JSON, binary property lists, the iMessage envelope) by [`payloads`].

use crate::core::apns::{self as core_apns, framing, items, Dir, Framing, PduLen, Session};
use crate::epan::*;
use fields::*;
use std::collections::HashMap;
use std::net::IpAddr;

pub(crate) mod fields;
mod channels;
mod legacy;
mod modern;
pub mod names;
mod packed;
mod payloads;
pub mod stats;

pub static PROTO: Protocol = Protocol::new(c"Apple Push Notification service courier", c"APNs", c"apns");

// ---------------------------------------------------------------------------------------
// Preferences, handles, registration.

pub(super) static PREF_MAX: PrefUint = PrefUint::new(framing::DEFAULT_MAX_MESSAGE_SIZE);
static PREF_DETECT_LEGACY: PrefBool = PrefBool::new(true);

/// The TLS port of the courier.
pub const COURIER_PORT: u32 = core_apns::tls::COURIER_PORT as u32;

static HANDLE: Handle = Handle::new();
static HANDLE_PACK: Handle = Handle::new();
pub(super) static JSON: Handle = Handle::new();

pub fn register() {
    PROTO.register(all_fields(), ETTS, EXPERTS);
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
    HANDLE_PACK.register_tcp_pdus::<CourierPacked>(c"apns_pack");
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


// ---------------------------------------------------------------------------------------
// Topic names.


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
pub(super) struct Conv {
    pub(super) framing: Option<Framing>,
    /// The server's end (address, port), decided on the first message.
    pub(super) server: Option<(Option<IpAddr>, u16)>,
    pub(super) session: Session,
    /// Legacy keep-alives waiting for their ack (frame, time), in order.
    pub(super) legacy_ka: std::collections::VecDeque<(u32, Time)>,
    pub(super) legacy_links: HashMap<u32, (Option<u32>, Option<u32>, Option<Time>)>,
    /// The packed framing's caches and per-message records.
    pub(super) packed: Option<core_apns::packed::Conn>,
}

/// The framing of this packet's connection, decided (once, on the first pass) from its
/// first bytes: iOS 4 by the first byte, packed by the second (`packed::looks_packed`),
/// else iOS 5+. `None`: more bytes are needed to tell.
fn framing_of(pkt: &Packet<'_>, head: &[u8]) -> Option<Framing> {
    let conv = pkt.conversation::<Conv>(&PROTO);
    if let Some(f) = conv.borrow().framing {
        return Some(f);
    }
    let legacy = PREF_DETECT_LEGACY.get() && framing::detect_framing(head) == Some(Framing::Legacy);
    let f = if legacy {
        Framing::Legacy
    } else if core_apns::packed::looks_packed(head)? {
        Framing::Packed
    } else {
        Framing::Modern
    };
    if !pkt.visited() {
        conv.borrow_mut().framing = Some(f);
    }
    Some(f)
}

/// Marks this packet's connection packed by its ALPN `apns-pack-v1` (the default sizes).
fn set_packed_by_alpn(pkt: &Packet<'_>) {
    let conv = pkt.conversation::<Conv>(&PROTO);
    if pkt.visited() || conv.borrow().framing.is_some() {
        return;
    }
    let mut c = conv.borrow_mut();
    c.framing = Some(Framing::Packed);
    let sizes = core_apns::packed::Sizes::from_alpn(core_apns::PackSizes::Default);
    c.packed = Some(core_apns::packed::Conn::new(sizes));
}

/// A length function's answer as `tcp_dissect_pdus` takes it.
fn pdu_len_of(head: &[u8], r: PduLen) -> usize {
    match r {
        PduLen::Len(n) => n,
        // Wanted bytes counted from the message start: reassembly brings them, then the
        // length is asked again.
        PduLen::NeedMore(n) => n.max(head.len() + 1),
        // Not believed: take the rest of this segment, buffer nothing.
        PduLen::TooLarge(_) | PduLen::Unframeable(_) => head.len().max(1),
    }
}

fn is_server_port(p: u16) -> bool {
    u32::from(p) == COURIER_PORT || p == 443
}

/// Which way this packet travels; the server's end is learned on the first pass.
pub(super) fn direction(pkt: &Packet<'_>, conv: &mut Conv, cmd_dir: items::Direction) -> Dir {
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
            Some(Framing::Modern) => framing::pdu_len(head, max),
            Some(Framing::Legacy) => core_apns::legacy::pdu_len(head, max),
            Some(Framing::Packed) => core_apns::packed::pdu_len(head, max),
            None => PduLen::NeedMore(head.len() + 1),
        };
        pdu_len_of(head, r)
    }
    fn dissect_pdu(pkt: &mut Packet<'_>) -> usize {
        let idx = pkt.pdu_index(&PROTO);
        let framing = pkt.conversation::<Conv>(&PROTO).borrow().framing.unwrap_or(Framing::Modern);
        match framing {
            Framing::Modern => modern::show_modern(pkt, idx),
            Framing::Legacy => legacy::show_legacy(pkt, idx),
            Framing::Packed => packed::show_packed(pkt, idx),
        }
        pkt.bytes().len()
    }
}

/// The ALPN `apns-pack-v1`: the courier stream in the packed framing.
pub struct CourierPacked;
impl TcpPdus for CourierPacked {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    /// The command byte and the first length byte.
    const FIXED_LEN: usize = 2;
    fn pdu_len(pkt: &Packet<'_>, head: &[u8]) -> usize {
        set_packed_by_alpn(pkt);
        pdu_len_of(head, core_apns::packed::pdu_len(head, PREF_MAX.get()))
    }
    fn dissect_pdu(pkt: &mut Packet<'_>) -> usize {
        set_packed_by_alpn(pkt);
        let idx = pkt.pdu_index(&PROTO);
        packed::show_packed(pkt, idx);
        pkt.bytes().len()
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
        // whose visible items are all known and well-sized (see `framing::heuristic_accepts`),
        // in the classic framing or in the packed one (`packed::heuristic_accepts`).
        if !framing::heuristic_accepts(b) && !core_apns::packed::heuristic_accepts(b) {
            return false;
        }
        pkt.set_conversation_dissector(&HANDLE);
        pkt.run_tcp_pdus::<Courier>();
        true
    }
}

pub(super) fn info(pkt: &mut Packet<'_>, idx: u32, text: &str) {
    if idx == 0 {
        pkt.set_info(text);
    } else {
        pkt.append_info(&format!(", {text}"));
    }
}

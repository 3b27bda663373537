//! SNATMAP: glue from `core::snatmap` to Wireshark.
//!
//! Reached three ways: the UDP heuristic `snatmap_udp`, Decode As (`udp.port`), and by name
//! ("snatmap") from the FaceTime demultiplexer. Requests and responses are matched by nonce
//! within the UDP conversation on the first pass; later passes only read what was recorded.
//!
//! UDP 5678 is shared: stock Wireshark gives it to MikroTik's MNDP. SNATMAP is not put in the
//! `udp.port` table (that would replace MNDP, also with `--disable-protocol snatmap`); UDP
//! tries MNDP first, which refuses anything that is not MNDP, then the heuristics, where this
//! one claims a datagram only when it is SNATMAP:
//! - a request (16 bytes, type 1, the 0xAAAA trailer: 64 fixed bits) anywhere;
//! - a response (type 2: 32 fixed bits and a length, weak on its own) only with evidence
//!   (`core::snatmap::ResponseEvidence`): a request seen from its destination in this
//!   conversation, or sent from a SNATMAP server port (preference `snatmap.udp.port`, default
//!   5678) to a port that is not one, or from an Apple address.
//!
//! The first pass records every claimed frame, so later passes claim exactly the same ones.

use crate::core::snatmap::matcher::{Conversation, Note};
use crate::core::snatmap::{self, at, Message, Response};
use crate::core::span::Span;
use crate::epan::*;
use std::net::Ipv4Addr;

pub static PROTO: Protocol = Protocol::new(c"Apple NAT mapping", c"SNATMAP", c"snatmap");

static TYPES: [(u32, &std::ffi::CStr); 2] = [(snatmap::TYPE_REQUEST, c"Request"), (snatmap::TYPE_RESPONSE, c"Response")];

fields! {
    pub(crate) FIELDS;
    HF_TYPE: u32 = c"Type", c"snatmap.type", vals(&TYPES),
        blurb(c"First 4 bytes of the message: 1 a request from the client, 2 the server's response");
    HF_NONCE: u32 = c"Nonce", c"snatmap.nonce", hex, blurb(c"Random 31-bit value chosen by the client, echoed in the response");
    HF_LOCAL_IP: Ipv4Addr = c"Local address", c"snatmap.local_ip", blurb(c"The client's own address, as it sees it (request)");
    HF_LOCAL_PORT: u16 = c"Local port", c"snatmap.local_port", blurb(c"The client's own port (request)");
    HF_TRAILER: u16 = c"Trailer", c"snatmap.trailer", hex, blurb(c"Last 2 bytes of a request, 0xAAAA in every known client");
    HF_MAPPED_IP_RAW: u32 = c"Mapped address (inverted)", c"snatmap.mapped_ip_raw", hex, blurb(c"The mapped address as sent: every bit inverted");
    HF_MAPPED_PORT_RAW: u16 = c"Mapped port (inverted)", c"snatmap.mapped_port_raw", hex, blurb(c"The mapped port as sent: every bit inverted");
    HF_MAPPED_IP: Ipv4Addr = c"Mapped address", c"snatmap.mapped_ip",
        blurb(c"The client's address as the server saw it (response, decoded from the inverted form)");
    HF_MAPPED_PORT: u16 = c"Mapped port", c"snatmap.mapped_port",
        blurb(c"The client's port as the server saw it (response, decoded from the inverted form)");
    HF_UNUSED: u16 = c"Unused", c"snatmap.unused", hex, blurb(c"Bytes 14-15 of a response, ignored by the client");
    HF_RESPONSE_IN: FrameNum = c"Response in", c"snatmap.response_in", link(FrameLink::Response),
        blurb(c"Computed: the frame holding the response to this request (same nonce, same conversation)");
    HF_RESPONSE_TO: FrameNum = c"Request in", c"snatmap.response_to", link(FrameLink::Request),
        blurb(c"Computed: the frame holding the request this response answers");
    HF_TIME: RelTime = c"Response time", c"snatmap.time", blurb(c"Computed: time from the request to its response");
    HF_NAT: bool = c"Behind NAT", c"snatmap.nat",
        blurb(c"Computed: the mapped address or port differs from the local address and port the request gave");
    HF_PORT_PRESERVED: bool = c"Port preserved", c"snatmap.port_preserved",
        blurb(c"Computed: the NAT kept the client's port (the mapped port equals the request's local port)");
    HF_RETRANS_OF: FrameNum = c"Retransmission of", c"snatmap.retransmission_of", link(FrameLink::RetransPrev),
        blurb(c"Computed: the frame that first sent this request (same nonce and content, not yet answered)");
}

subtrees! { pub(crate) ETTS; ETT; }

experts! {
    EXPERTS, fn anomaly_expert(snatmap::Anomaly);
    EI_UNMATCHED = c"snatmap.unmatched_response", Sequence, Warn, c"Response without any request in this conversation";
    EI_NONCE_MISMATCH = c"snatmap.nonce_mismatch", Sequence, Warn, c"Response nonce matches no request of this conversation";
    EI_RETRANSMISSION = c"snatmap.retransmission", Sequence, Note, c"Retransmitted request";
    EI_DUP_RESPONSE = c"snatmap.duplicate_response", Sequence, Note, c"Duplicate response";
    EI_UNANSWERED = c"snatmap.unanswered", Sequence, Note, c"Request never answered in this capture";
    EI_NONCE_TOP_BIT [snatmap::Anomaly::NonceTopBit] = c"snatmap.nonce_top_bit", Protocol, Note, c"Nonce has its top bit set (Apple's client draws 31-bit nonces)";
    EI_NAT = c"snatmap.nat_detected", Protocol, Chat, c"Client is behind a NAT";
    EI_STATE_CAP = c"snatmap.state_cap", Protocol, Warn, c"More requests in this conversation than snatmap.max_requests; this one is not matched";
}

/// The SNATMAP server port (the default of `snatmap.udp.port`).
pub const DEFAULT_PORT: u32 = 5678;

/// Most requests remembered per conversation (preference `snatmap.max_requests`): 100,000
/// unanswered requests then cost a few MB, not unbounded memory. Past the cap requests are
/// still shown, but not matched, and say so with an expert note.
pub const DEFAULT_MAX_REQUESTS: u32 = 65_536;
static MAX_REQUESTS: PrefUint = PrefUint::new(DEFAULT_MAX_REQUESTS);

/// The SNATMAP server ports (preference `snatmap.udp.port`): a response sent from one of them
/// is believed without having seen its request.
static SERVER_PORTS: PrefRange = PrefRange::new(c"5678"); // DEFAULT_PORT

static HANDLE: Handle = Handle::new();

pub fn register() {
    PROTO.register(FIELDS, ETTS, EXPERTS);
    PROTO
        .prefs_checked(check_prefs)
        .uint(
            c"max_requests",
            c"Requests remembered per conversation",
            c"Requests past this many in one UDP conversation are shown but not matched to responses (bounds memory on hostile captures); at least 1",
            &MAX_REQUESTS,
        )
        .range(
            c"udp.port",
            c"SNATMAP server UDP ports",
            c"A SNATMAP response sent from one of these ports is taken without its request in the capture. The port is shared: other protocols on it (MNDP on 5678) keep their datagrams",
            &SERVER_PORTS,
            65535,
        );
    HANDLE.register::<ByPort>(c"snatmap");
}

/// Preference check (after every change): a cap of 0 would silently stop all matching.
fn check_prefs() -> Option<String> {
    (MAX_REQUESTS.get() == 0).then(|| {
        MAX_REQUESTS.set(DEFAULT_MAX_REQUESTS);
        format!("snatmap.max_requests must be at least 1 (0 would match no response to any request); using {DEFAULT_MAX_REQUESTS}")
    })
}

pub fn handoff() {
    HANDLE.add_for_decode_as(c"udp.port");
    add_heuristic::<Heur>(c"udp", c"SNATMAP over UDP", c"snatmap_udp", true);
}

/// The by-port / by-name dissector: SNATMAP or nothing.
pub struct ByPort;
impl Dissector for ByPort {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn dissect(pkt: &mut Packet<'_>) -> usize {
        match snatmap::parse(pkt.bytes()) {
            Ok(msg) => {
                show(pkt, &msg);
                snatmap::LEN
            }
            Err(_) => 0,
        }
    }
}

/// The UDP heuristic: requests as `core::snatmap::parse` accepts them, responses only with
/// evidence (see the module docs).
pub struct Heur;
impl Heuristic for Heur {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn dissect(pkt: &mut Packet<'_>) -> bool {
        let Ok(msg) = snatmap::parse(pkt.bytes()) else { return false };
        if let Message::Response(_) = msg {
            // Looked up, never created here: a 16-byte datagram that is not SNATMAP leaves no
            // state behind.
            let state = pkt.existing_conversation::<Conversation>(&PROTO);
            let believed = if pkt.visited() {
                state.is_some_and(|s| s.borrow().note(pkt.frame()).is_some())
            } else {
                let dst = (pkt.dst(), pkt.dst_port());
                let evidence = snatmap::ResponseEvidence {
                    request_seen: state.is_some_and(|s| s.borrow().requests_from(dst)),
                    // From the server port to a client's own port: MNDP announcements go
                    // from 5678 to 5678.
                    from_server_port: SERVER_PORTS.contains(pkt.src_port().into()) && !SERVER_PORTS.contains(pkt.dst_port().into()),
                    from_apple: pkt.src().is_some_and(crate::core::apple::is_apple_address),
                };
                evidence.believable()
            };
            if !believed {
                return false;
            }
        }
        show(pkt, &msg);
        true
    }
}

fn endpoint(ip: Ipv4Addr, port: u16) -> String {
    format!("{ip}:{port}")
}

/// Test hook (cargo feature `test-hooks`, absent from release builds):
/// `APPLESHARK_TEST_PANIC_NONCE=<hex>` makes the dissector panic on that nonce, so the tests
/// can prove that a panic becomes an expert item and tshark carries on.
#[cfg(feature = "test-hooks")]
fn test_panic_nonce() -> Option<u32> {
    static NONCE: once_cell::sync::Lazy<Option<u32>> = once_cell::sync::Lazy::new(|| {
        std::env::var("APPLESHARK_TEST_PANIC_NONCE").ok().and_then(|v| u32::from_str_radix(&v, 16).ok())
    });
    *NONCE
}

fn show(pkt: &mut Packet<'_>, msg: &Message) {
    #[cfg(feature = "test-hooks")]
    if test_panic_nonce() == Some(msg.nonce()) {
        panic!("test panic for nonce 0x{:08x}", msg.nonce());
    }
    let state = pkt.conversation::<Conversation>(&PROTO);
    let note = if pkt.visited() {
        state.borrow().note(pkt.frame())
    } else {
        let src = (pkt.src(), pkt.src_port());
        Some(state.borrow_mut().learn(pkt.frame(), pkt.time().as_nanos(), src, msg, MAX_REQUESTS.get() as usize))
    };
    let state = state.borrow();

    pkt.set_protocol_column(c"SNATMAP");
    let root = pkt.tree().add_protocol(&PROTO, Span::new(0, snatmap::LEN));
    let tree = root.subtree(&ETT);
    tree.add(&HF_TYPE, at::TYPE, msg.type_code());
    let nonce = tree.add(&HF_NONCE, at::NONCE, msg.nonce());
    // The nonce is the one thing a core anomaly can be about.
    for ei in snatmap::anomalies(msg).filter_map(|a| anomaly_expert(&a)) {
        nonce.expert(ei, None);
    }

    match msg {
        Message::Request(req) => {
            let local = endpoint(req.local_ip, req.local_port);
            tree.add(&HF_LOCAL_IP, at::ADDR, req.local_ip);
            tree.add(&HF_LOCAL_PORT, at::PORT, req.local_port);
            tree.add(&HF_TRAILER, at::TRAILER, snatmap::REQUEST_TRAILER);
            let mut info = format!("Request nonce 0x{:08x} local {local}", req.nonce);
            root.append_text(&format!(", Request, local {local}"));
            match note {
                Some(Note::Request { tx, retrans_of }) => {
                    let tx = state.transaction(tx);
                    if let Some(first) = retrans_of {
                        tree.add_generated(&HF_RETRANS_OF, first)
                            .expert(&EI_RETRANSMISSION, Some(&format!("Retransmitted request (first sent in frame {first})")));
                        info.push_str(&format!(" [retransmission of #{first}]"));
                    }
                    match tx.resp_frame {
                        Some(resp) => {
                            tree.add_generated(&HF_RESPONSE_IN, resp);
                        }
                        // Only a later pass knows the whole capture.
                        None if pkt.visited() => {
                            root.expert(&EI_UNANSWERED, None);
                        }
                        None => {}
                    }
                }
                Some(Note::OverCap) => {
                    root.expert(&EI_STATE_CAP, None);
                }
                _ => {}
            }
            pkt.set_info(&info);
        }
        Message::Response(resp) => {
            show_response(pkt, &tree, root, resp, note, &state);
        }
    }
}

fn show_response(pkt: &mut Packet<'_>, tree: &Tree<'_>, root: Item<'_>, resp: &Response, note: Option<Note>, state: &Conversation) {
    let mapped = endpoint(resp.mapped_ip(), resp.mapped_port());
    tree.add(&HF_MAPPED_IP_RAW, at::ADDR, resp.raw_addr);
    tree.add(&HF_MAPPED_IP, at::ADDR, resp.mapped_ip());
    tree.add(&HF_MAPPED_PORT_RAW, at::PORT, resp.raw_port);
    tree.add(&HF_MAPPED_PORT, at::PORT, resp.mapped_port());
    tree.add(&HF_UNUSED, at::TRAILER, resp.trailer);
    root.append_text(&format!(", Response, mapped {mapped}"));

    let mut info = format!("Response mapped {mapped}");
    match note {
        Some(Note::Response { tx: Some(i), duplicate_of, .. }) => {
            let tx = state.transaction(i);
            tree.add_generated(&HF_RESPONSE_TO, tx.req_frame);
            let this_time = if duplicate_of.is_some() { pkt.time().as_nanos() } else { tx.resp_time_ns };
            tree.add_generated(&HF_TIME, Time::from_nanos(this_time - tx.req_time_ns));
            let v = snatmap::verdict(&tx.request, resp);
            let nat = tree.add_generated(&HF_NAT, v.nat);
            tree.add_generated(&HF_PORT_PRESERVED, v.port_preserved);
            let verdict = match (v.nat, v.port_preserved) {
                (false, _) => "no NAT".to_string(),
                (true, true) => "behind NAT, port preserved".to_string(),
                (true, false) => "behind NAT, port changed".to_string(),
            };
            if v.nat {
                let local = endpoint(tx.request.local_ip, tx.request.local_port);
                nat.expert(&EI_NAT, Some(&format!("Client is behind a NAT: local {local} mapped to {mapped}")));
            }
            info.push_str(&format!(" ({verdict})"));
            if let Some(first) = duplicate_of {
                root.expert(&EI_DUP_RESPONSE, Some(&format!("Duplicate response (first in frame {first})")));
                info.push_str(&format!(" [duplicate of #{first}]"));
            }
        }
        Some(Note::Response { tx: None, any_request: true, .. }) => {
            root.expert(
                &EI_NONCE_MISMATCH,
                Some(&format!("Response nonce 0x{:08x} matches no request of this conversation", resp.nonce)),
            );
            info.push_str(&format!(" (nonce 0x{:08x} matches no request)", resp.nonce));
        }
        Some(Note::Response { tx: None, any_request: false, .. }) => {
            root.expert(&EI_UNMATCHED, None);
            info.push_str(" (no request seen)");
        }
        _ => {}
    }
    pkt.set_info(&info);
}

//! FaceTime's shared UDP port: glue from `core::facetime` to Wireshark.
//!
//! One UDP port carries SIP (with SDP), STUN, SNATMAP, RTP and RTCP (protocol notes §3). This
//! dissector owns that port and demultiplexes each packet by its first bytes
//! (`core::facetime::classify`), then hands it to Wireshark's own `sip`, `stun-udp`, `rtp`,
//! `rtcp` dissectors or to appleshark's `snatmap`. The `facetime` tree in front of theirs
//! says which class the packet is, and adds what the shared port needs on top: the call a
//! SIP message belongs to (caller, callee, set-up time, duration, MESSAGE bodies), Apple's
//! RTP header-extension profile 0x4400, the payload encoding learned from the call's SDP, and
//! an expert note for media sent in clear.
//!
//! Reached three ways:
//! - UDP ports 16393–16472 (preference `facetime.udp.port`, Apple's FaceTime range), for the
//!   flows with FaceTime evidence only (`core::facetime::adopt`: a strong SIP/STUN/SNATMAP
//!   packet, or RTP that continues a stream); other traffic in the range reads as in stock;
//! - the UDP heuristic `facetime_udp` (content: a SIP message whose SDP puts media on the
//!   same UDP port as the signalling, or a strong STUN/SNATMAP/SIP packet on a port of the
//!   FaceTime range);
//! - the flow's own conversation, which the first packet claims (`Packet::claim_flow`).
//!
//! Why the conversation: once SDP has set up RTP on the port, Wireshark's SDP code gives the
//! wildcard conversation `addr:16402 <-> any` to RTP, and every later packet of the port —
//! the SIP BYE included — would go to RTP. UDP tries the exact conversation (both addresses
//! and ports) before any wildcard one, so owning it keeps the port ours; the wildcard
//! conversations the SDP of our calls created are taken back too (media on another port
//! pair), after RTP has been set up with every payload type of the call on that endpoint.

use crate::core::facetime::adopt::FlowAdoption;
use crate::core::facetime::call::{Call, CallTracker, Endpoint, Role};
use crate::core::facetime::{self, classify, rtp, sdp, sip, Class};
use crate::core::span::Span;
use crate::epan::media::{PayloadType, RTP_MEDIA_AUDIO, RTP_MEDIA_OTHER, RTP_MEDIA_VIDEO};
use crate::epan::*;
use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use stats::{CallRecord, MediaRecord, TapRecord};

mod stats;

pub static PROTO: Protocol = Protocol::new(c"Apple FaceTime", c"FaceTime", c"facetime");

static EXT_PROFILES: [(u32, &CStr); 3] = [
    (rtp::EXT_PROFILE_APPLE as u32, c"Apple FaceTime"),
    (rtp::EXT_PROFILE_ONE_BYTE as u32, c"RFC 8285 one-byte elements"),
    (rtp::EXT_PROFILE_TWO_BYTE as u32, c"RFC 8285 two-byte elements"),
];

fields! {
    pub(crate) FIELDS;
    HF_CLASS: str = c"Class", c"facetime.class",
        blurb(c"What the packet is, from its first bytes: sip, stun, snatmap, rtp, rtcp or unknown");
    HF_CALL: u32 = c"Call", c"facetime.call", blurb(c"Computed: call number in this capture (from 1), one per SIP Call-ID");
    HF_CALL_ID: str = c"Call-ID", c"facetime.call_id", blurb(c"The SIP Call-ID header of the call this message belongs to");
    HF_CALLER: str = c"Caller", c"facetime.caller", blurb(c"The From URI of the call's INVITE");
    HF_CALLEE: str = c"Callee", c"facetime.callee", blurb(c"The To URI of the call's INVITE");
    HF_ROLE: str = c"Role", c"facetime.role",
        blurb(c"Computed: what this SIP message is to its call (INVITE, provisional or final response, ACK, BYE, MESSAGE ...)");
    HF_STATE: str = c"Call state", c"facetime.state", blurb(c"Computed: the call's state after this message");
    HF_FROM_CALLER: bool = c"Sent by the caller", c"facetime.from_caller",
        blurb(c"Computed: the message (or media) was sent by the party that sent the INVITE");
    HF_RETRANS: bool = c"Retransmission", c"facetime.retransmission",
        blurb(c"Computed: the same SIP transaction message was already seen in this call");
    HF_INVITE_IN: FrameNum = c"INVITE in", c"facetime.invite_in",
        blurb(c"Computed: the frame holding the call's INVITE (a link within the call, shown on its other messages)");
    HF_ANSWER_IN: FrameNum = c"Final response in", c"facetime.answer_in",
        blurb(c"Computed: the frame holding the final response to the call's INVITE (a link within the call)");
    HF_ACK_IN: FrameNum = c"ACK in", c"facetime.ack_in", link(FrameLink::Ack),
        blurb(c"Computed: the frame holding the ACK of the call's INVITE");
    HF_BYE_IN: FrameNum = c"BYE in", c"facetime.bye_in", blurb(c"Computed: the frame holding the BYE that ended the call");
    HF_SETUP_TIME: RelTime = c"Setup time", c"facetime.setup_time", blurb(c"Computed: time from the call's INVITE to its ACK");
    HF_DURATION: RelTime = c"Call duration", c"facetime.duration", blurb(c"Computed: time from the call's INVITE to its BYE");
    HF_MESSAGE_BODY: str = c"MESSAGE body", c"facetime.message_body",
        blurb(c"The text body of a SIP MESSAGE sent during the call");
    HF_MEDIA_SETUP: str = c"RTP set up for", c"facetime.media_setup",
        blurb(c"Computed: the media endpoint (address:port) this message's SDP set RTP up on, with its payload types");
    HF_MEDIA_SETUP_IPV4: Ipv4Addr = c"RTP set up for address", c"facetime.media_setup.ipv4",
        blurb(c"Computed: IPv4 address of the media endpoint this message's SDP set RTP up on");
    HF_MEDIA_SETUP_IPV6: Ipv6Addr = c"RTP set up for address", c"facetime.media_setup.ipv6",
        blurb(c"Computed: IPv6 address of the media endpoint this message's SDP set RTP up on");
    HF_MEDIA_SETUP_PORT: u16 = c"RTP set up for port", c"facetime.media_setup.port",
        blurb(c"Computed: UDP port of the media endpoint this message's SDP set RTP up on");
    HF_STREAM: u32 = c"Stream", c"facetime.stream", blurb(c"Computed: RTP/RTCP stream number in this capture (from 1)");
    HF_DIRECTION: str = c"Direction", c"facetime.direction",
        blurb(c"Computed: media direction relative to the call: caller to callee, or callee to caller");
    HF_SSRC: u32 = c"SSRC", c"facetime.ssrc", hex,
        blurb(c"Synchronisation source of the RTP or RTCP packet, from its header: names the stream");
    HF_PT: u8 = c"Payload type", c"facetime.rtp.payload_type", vals_fn(payload_type_vals),
        blurb(c"RTP payload type from the header (7 bits); static types named by RFC 3551, dynamic ones (96-127) by the call's SDP in facetime.rtp.encoding");
    HF_ENCODING: str = c"Encoding", c"facetime.rtp.encoding",
        blurb(c"Computed: the payload type's encoding as the call's SDP named it (rtpmap or static table)");
    HF_EXT_PROFILE: u16 = c"Header extension profile", c"facetime.rtp.ext.profile", hex, vals(&EXT_PROFILES),
        blurb(c"RTP header extension 'defined by profile' field; 0x4400 is Apple's");
    HF_EXT_KIND: str = c"Header extension kind", c"facetime.rtp.ext.kind",
        blurb(c"Computed from the profile field: Apple (0x4400), RFC 8285 one-byte or two-byte elements, or profile-specific");
    HF_EXT_LEN: u16 = c"Header extension length", c"facetime.rtp.ext.length", unit(Unit::Words),
        blurb(c"Length of the extension data, in 32-bit words, from the extension header");
    HF_EXT_DATA: [u8] = c"Header extension data", c"facetime.rtp.ext.data",
        blurb(c"The bytes of the RTP header extension after its 4-byte header");
    HF_APPLE_EXT_DATA: [u8] = c"Apple extension data", c"facetime.apple_ext.data",
        blurb(c"The bytes of Apple's 0x4400 header extension, undecoded (layout not public)");
}

subtrees! {
    pub(crate) ETTS;
    ETT;
    ETT_CALL = c"Call", c"facetime.call_info", c"Computed: the call this packet belongs to (SIP Call-ID, parties, set-up and media), as tracked over the capture";
    ETT_RTP = c"RTP media", c"facetime.rtp", c"This RTP packet's place in the call: SSRC, payload type and encoding, stream, direction";
    ETT_RTCP = c"RTCP", c"facetime.rtcp", c"This RTCP packet's sender SSRC, stream and call";
    ETT_RTP_EXT = c"Header extension", c"facetime.rtp.ext", c"The RTP header extension (RFC 8285 one- or two-byte form, or Apple's profile 0x4400)";
    ETT_APPLE_EXT = c"Apple FaceTime header extension", c"facetime.apple_ext", c"The data of Apple's RTP header extension (profile 0x4400), not decoded further";
}

/// Names of the static RTP payload types (RFC 3551), as SDP writes them ("PCMU/8000"), from
/// the core's table; dynamic types are named per call by its SDP.
fn payload_type_vals() -> &'static [(u32, &'static CStr)] {
    let v: Vec<(u32, &'static CStr)> = (0..=127u8)
        .filter_map(|pt| sdp::static_payload_type(pt).map(|(enc, rate)| (u32::from(pt), leak(&format!("{enc}/{rate}")))))
        .collect();
    Box::leak(v.into_boxed_slice())
}

fn leak(s: &str) -> &'static CStr {
    Box::leak(std::ffi::CString::new(s).unwrap_or_default().into_boxed_c_str())
}


experts! {
    EXPERTS;
    EI_UNKNOWN = c"facetime.unknown", Undecoded, Warn, c"Payload of no known class on the FaceTime port";
    EI_IN_CLEAR = c"facetime.media_in_clear", Security, Note, c"Media in clear: RTP, not SRTP";
    EI_RETRANS = c"facetime.sip_retransmission", Sequence, Note, c"SIP retransmission";
    EI_CALL_ENDED = c"facetime.call_ended", Sequence, Chat, c"BYE ends the call";
    EI_NOT_DISSECTED = c"facetime.not_dissected", Undecoded, Warn, c"The protocol's own dissector did not take the packet";
    EI_STATE_CAP = c"facetime.state_cap", Protocol, Warn, c"Call tracking limit reached; later calls, streams or frames are not tracked";
    EI_APPLE_EXT = c"facetime.apple_ext.undecoded", Undecoded, Chat, c"Apple header extension 0x4400: layout not public, shown as data";
}

/// Apple's FaceTime UDP range (protocol notes §3), the default of `facetime.udp.port`.
pub const DEFAULT_PORTS: &CStr = c"16393-16472";

static HANDLE: Handle = Handle::new();
static EXT_HANDLE: Handle = Handle::new();
static SIP: Handle = Handle::new();
static STUN: Handle = Handle::new();
static SNATMAP: Handle = Handle::new();
static RTP: Handle = Handle::new();
static RTCP: Handle = Handle::new();
static DATA: Handle = Handle::new();

pub fn register() {
    PROTO.register(FIELDS, ETTS, EXPERTS);
    HANDLE.register::<Demux>(c"facetime");
    EXT_HANDLE.register::<AppleExt>(c"facetime.rtp_ext");
    stats::register();
}

pub fn handoff() {
    SIP.find(c"sip");
    STUN.find(c"stun-udp");
    SNATMAP.find(c"snatmap");
    RTP.find(c"rtp");
    RTCP.find(c"rtcp");
    DATA.find(c"data");
    HANDLE.add_uint_range_with_preference(c"udp.port", DEFAULT_PORTS);
    HANDLE.add_for_decode_as(c"udp.port");
    EXT_HANDLE.add_uint(c"rtp.hdr_ext", rtp::EXT_PROFILE_APPLE as u32);
    add_heuristic::<Heur>(c"udp", c"FaceTime over UDP (SIP and media on one port)", c"facetime_udp", true);
    stats::handoff();
}

/// The port / conversation / Decode-As entry: every packet of the flow.
pub struct Demux;
impl Dissector for Demux {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn dissect(pkt: &mut Packet<'_>) -> usize {
        // The port range is shared with everything else that lands on it: only flows with
        // FaceTime evidence are taken (`core::facetime::adopt`), the rest is left to the
        // other dissectors exactly as without the plugin.
        let Some(flow) = endpoints(pkt) else {
            return 0;
        };
        let state = pkt.file_state::<State>();
        let class = || classify::classify_cut(pkt.bytes(), pkt.reported_len());
        let mut known = None;
        if pkt.visited() {
            if !state.borrow().adoption.adopted(pkt.frame(), flow.0, flow.1, class) {
                return 0;
            }
        } else {
            let c = class();
            known = Some(c);
            let rtp_key = (c == Class::Rtp).then(|| rtp_fixed(pkt.bytes())).flatten();
            if !state.borrow_mut().adoption.observe(pkt.frame(), flow.0, flow.1, c, rtp_key) {
                return 0;
            }
            // Later packets of this flow come here first, even after SDP set RTP up on the
            // port. A flow claimed once stays ours (RTP's SDP setup only touches wildcard
            // conversations), so the conversation lookup is done once per flow, not per packet.
            if !state.borrow().is_claimed(flow) {
                pkt.claim_flow(&HANDLE);
                state.borrow_mut().set_claimed(flow);
            }
        }
        demux(pkt, known)
    }
}

/// The heuristic: adopts a flow from content (see the module docs), then claims it.
pub struct Heur;
impl Heuristic for Heur {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn dissect(pkt: &mut Packet<'_>) -> bool {
        if !recognise(pkt) {
            return false;
        }
        if let (Some((src, dst)), false) = (endpoints(pkt), pkt.visited()) {
            pkt.file_state::<State>().borrow_mut().adoption.adopt(pkt.frame(), src, dst);
        }
        pkt.claim_flow(&HANDLE);
        demux(pkt, None);
        true
    }
}

/// Content test of the heuristic. A strong SIP message whose SDP puts media on the very UDP
/// port the SIP travels on is FaceTime's signature anywhere; strong STUN, SNATMAP requests
/// and SIP are taken only when a port is in Apple's FaceTime range (the port preference may
/// have been narrowed, or Decode As changed).
fn recognise(pkt: &Packet<'_>) -> bool {
    let p = pkt.bytes();
    if !classify::flow_probe(p) {
        return false;
    }
    let ports = [pkt.src_port(), pkt.dst_port()];
    if ports.iter().any(|&port| facetime::is_facetime_port(port)) {
        return true;
    }
    let Ok(m) = sip::parse_sip(p) else {
        return false;
    };
    if !m.has_sdp() {
        return false;
    }
    let Some(body) = m.body else {
        return false;
    };
    let s = sdp::parse_sdp(body.value, body.span.offset);
    s.media.iter().any(|md| md.is_rtp() && ports.contains(&md.port.value))
}

/// (SSRC, payload type, sequence number) from RTP's fixed header (enough also for a packet the
/// capture cut inside its CSRCs or extension).
fn rtp_fixed(p: &[u8]) -> Option<(u32, u8, u16)> {
    let h = p.get(..rtp::RTP_FIXED_LEN)?;
    Some((u32::from_be_bytes([h[8], h[9], h[10], h[11]]), h[1] & 0x7f, u16::from_be_bytes([h[2], h[3]])))
}

fn class_name(c: Class) -> &'static str {
    match c {
        Class::Sip => "sip",
        Class::Stun => "stun",
        Class::Snatmap => "snatmap",
        Class::Rtp => "rtp",
        Class::Rtcp => "rtcp",
        Class::Unknown => "unknown",
    }
}

fn endpoints(pkt: &Packet<'_>) -> Option<(Endpoint, Endpoint)> {
    Some((Endpoint::new(pkt.src()?, pkt.src_port()), Endpoint::new(pkt.dst()?, pkt.dst_port())))
}

fn ns(t: Time) -> u64 {
    t.as_nanos().max(0) as u64
}

fn reltime(ns: u64) -> Time {
    Time::from_nanos(ns as i128)
}

/// Demultiplexes one packet (of class `known`, when the caller has classified it already).
/// Returns the bytes taken (all of them), or 0 for a cut SIP message.
fn demux(pkt: &mut Packet<'_>, known: Option<Class>) -> usize {
    let len = pkt.bytes().len();
    let class = known.unwrap_or_else(|| classify::classify_cut(pkt.bytes(), pkt.reported_len()));
    if class == Class::Sip && pkt.is_cut() {
        // A SIP message the snap length cut: nothing to track a call with. Left to the rest
        // of Wireshark, whose SIP heuristic reads what is there as in stock ("Status: 100
        // Trying" from 18 bytes, where the by-name dissector would give up).
        return 0;
    }
    let root = pkt.tree().add_protocol(&PROTO, Span::new(0, len));
    let tree = root.subtree(&ETT);
    if !tree.is_null() {
        root.append_text(&format!(", {}", class.name()));
        tree.add(&HF_CLASS, Span::new(0, 0), class_name(class)).generated();
    }
    let mut tap = stats::listening().then(|| TapRecord::new(class_name(class)));

    let taken = match class {
        Class::Sip => sip_packet(pkt, &tree, &mut tap),
        Class::Rtp => rtp_packet(pkt, &tree, &mut tap),
        Class::Rtcp => rtcp_packet(pkt, &tree, &mut tap),
        Class::Stun => pkt.call(&STUN, Span::new(0, len)),
        Class::Snatmap => pkt.call(&SNATMAP, Span::new(0, len)),
        Class::Unknown => {
            pkt.set_protocol_column(c"FaceTime");
            pkt.set_info(&format!("Unknown payload on the FaceTime port ({len} bytes)"));
            root.expert(&EI_UNKNOWN, None);
            pkt.call(&DATA, Span::new(0, len));
            Some(len)
        }
    };
    if !matches!(taken, Some(n) if n > 0) {
        root.expert(&EI_NOT_DISSECTED, Some(&format!("The {} dissector did not take this {} packet", class.name(), class.name())));
        pkt.call(&DATA, Span::new(0, len));
    }
    if let Some(rec) = tap {
        stats::queue(pkt, rec);
    }
    len
}

/// Per-capture tracking: calls by Call-ID and media streams.
#[derive(Default)]
struct State {
    tracker: CallTracker,
    /// Which flows of the port range are FaceTime.
    adoption: FlowAdoption,
    /// Flows (src, dst) whose conversation this dissector has claimed, direct-mapped (a miss
    /// only costs one more conversation lookup).
    claimed: Vec<Option<(Endpoint, Endpoint)>>,
    /// The first frame of each RTP stream (by index) that carried Apple's 0x4400 extension:
    /// the one frame of the stream with the extension's expert note.
    apple_ext_first: rustc_hash::FxHashMap<u32, u32>,
}

thread_local! {
    /// (frame, RTP stream index) of the RTP packet being handed to Wireshark's RTP dissector,
    /// so that the header-extension dissector it calls ([`AppleExt`]) knows the stream.
    static RTP_STREAM: std::cell::Cell<Option<(u32, u32)>> = const { std::cell::Cell::new(None) };
}

const CLAIMED_SLOTS: usize = 256;

fn flow_slot((s, d): (Endpoint, Endpoint)) -> usize {
    let last = |a: std::net::IpAddr| match a {
        std::net::IpAddr::V4(v) => u32::from(v),
        std::net::IpAddr::V6(v) => {
            let o = v.octets();
            u32::from_be_bytes([o[12], o[13], o[14], o[15]])
        }
    };
    let h = last(s.addr) ^ last(d.addr).rotate_left(11) ^ (u32::from(s.port) << 16 | u32::from(d.port));
    (h.wrapping_mul(0x9E37_79B1) >> 24) as usize % CLAIMED_SLOTS
}

impl State {
    fn is_claimed(&self, flow: (Endpoint, Endpoint)) -> bool {
        self.claimed.get(flow_slot(flow)).is_some_and(|f| *f == Some(flow))
    }
    fn set_claimed(&mut self, flow: (Endpoint, Endpoint)) {
        if self.claimed.is_empty() {
            self.claimed = vec![None; CLAIMED_SLOTS];
        }
        self.claimed[flow_slot(flow)] = Some(flow);
    }
}

fn role_text(r: Role) -> String {
    match r {
        Role::Invite => "INVITE".into(),
        Role::ReInvite => "re-INVITE".into(),
        Role::Provisional(s) => format!("provisional response {s}"),
        Role::FinalResponse(s) => format!("final response {s}"),
        Role::Ack => "ACK".into(),
        Role::Cancel => "CANCEL".into(),
        Role::Message => "MESSAGE".into(),
        Role::Bye => "BYE".into(),
        Role::OtherRequest => "other request".into(),
        Role::OtherResponse(s) => format!("other response {s}"),
    }
}

fn media_type_bits(kind: &str) -> u32 {
    match kind {
        "audio" => RTP_MEDIA_AUDIO,
        "video" => RTP_MEDIA_VIDEO,
        _ => RTP_MEDIA_OTHER,
    }
}

fn printable_text(b: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(b).ok()?;
    s.chars().all(|c| !c.is_control() || matches!(c, '\r' | '\n' | '\t')).then_some(s)
}

fn sip_packet(pkt: &mut Packet<'_>, tree: &Tree<'_>, tap: &mut Option<TapRecord>) -> Option<usize> {
    let len = pkt.bytes().len();
    let bytes = pkt.bytes();
    let parsed = sip::parse_sip(bytes).ok();
    let state = pkt.file_state::<State>();
    let eps = endpoints(pkt);
    let info = match &parsed {
        Some(m) if !pkt.visited() => {
            state.borrow_mut().tracker.feed_sip(pkt.frame(), ns(pkt.time()), eps.map(|e| e.0), eps.map(|e| e.1), m)
        }
        _ => state.borrow().tracker.frame(pkt.frame()),
    };

    // Wireshark's SIP (and, through it, SDP) first: the facetime tree is already in place.
    if let Some(info) = info {
        let st = state.borrow();
        show_call(pkt, tree, &st.tracker, info, parsed.as_ref());
        if let (Some(rec), Some(call)) = (tap.as_mut(), st.tracker.call(info.call)) {
            let fresh = !info.retransmission;
            rec.call = Some(CallRecord {
                number: call.index + 1,
                call_id: call.call_id.clone(),
                caller: call.caller.clone().unwrap_or_else(|| "?".into()),
                callee: call.callee.clone().unwrap_or_else(|| "?".into()),
                is_invite: call.invite_frame == Some(pkt.frame()),
                setup_ns: call.setup_time_ns().filter(|_| fresh && call.ack_frame == Some(pkt.frame())),
                duration_ns: call.duration_ns().filter(|_| fresh && call.bye_frame == Some(pkt.frame())),
                is_bye: fresh && call.bye_frame == Some(pkt.frame()),
            });
        }
    }
    let r = pkt.call(&SIP, Span::new(0, len));

    // After SDP: RTP set up with every payload type the call gave this endpoint, and the
    // endpoint's wildcard conversation taken back from RTP.
    if let Some(info) = info {
        if !pkt.visited() {
            let st = state.borrow();
            if let Some(call) = st.tracker.call(info.call) {
                setup_media(pkt, tree, call, info.media_added as usize);
            }
        }
    }
    if state.borrow().tracker.limits().any() {
        tree.expert(&EI_STATE_CAP, Span::new(0, 0), None);
    }
    r
}

fn show_call(pkt: &Packet<'_>, tree: &Tree<'_>, t: &CallTracker, info: crate::core::facetime::call::FrameInfo, m: Option<&sip::SipMessage<'_>>) {
    let Some(call) = t.call(info.call) else {
        return;
    };
    let (ci, ct) = tree.add_subtree(&ETT_CALL, Span::new(0, 0), &format!("Call {}: {}", call.index + 1, parties(call)));
    ci.generated();
    ct.add_generated(&HF_CALL, call.index + 1);
    ct.add_generated(&HF_CALL_ID, call.call_id.as_str());
    if let Some(c) = &call.caller {
        ct.add_generated(&HF_CALLER, c.as_str());
    }
    if let Some(c) = &call.callee {
        ct.add_generated(&HF_CALLEE, c.as_str());
    }
    ct.add_generated(&HF_ROLE, role_text(info.role).as_str());
    ct.add_generated(&HF_STATE, info.state.name());
    if let Some(fc) = info.from_caller {
        ct.add_generated(&HF_FROM_CALLER, fc);
    }
    if info.retransmission {
        ct.add_generated(&HF_RETRANS, true).expert(&EI_RETRANS, None);
    }
    let here = pkt.frame();
    if let Some(f) = call.invite_frame.filter(|f| *f != here) {
        ct.add_generated(&HF_INVITE_IN, f);
    }
    if let Some(f) = call.final_frame.filter(|f| *f != here) {
        ct.add_generated(&HF_ANSWER_IN, f);
    }
    if let Some(f) = call.ack_frame.filter(|f| *f != here) {
        ct.add_generated(&HF_ACK_IN, f);
    }
    if let Some(f) = call.bye_frame.filter(|f| *f != here) {
        ct.add_generated(&HF_BYE_IN, f);
    }
    // Times known at this point of the capture (on a second pass: all of them).
    if let Some(s) = call.setup_time_ns() {
        if call.ack_frame.is_some_and(|a| a <= here) || pkt.visited() {
            ct.add_generated(&HF_SETUP_TIME, reltime(s));
        }
    }
    if info.role == Role::Bye && !info.retransmission {
        if let Some(d) = call.duration_ns() {
            ct.add_generated(&HF_DURATION, reltime(d));
        }
        ct.expert(&EI_CALL_ENDED, Span::new(0, 0), None);
    } else if let Some(d) = call.duration_ns().filter(|_| pkt.visited()) {
        ct.add_generated(&HF_DURATION, reltime(d));
    }
    if let (Role::Message, Some(m)) = (info.role, m) {
        if let Some(b) = m.body.filter(|b| !b.value.is_empty()) {
            if let Some(text) = printable_text(b.value) {
                ct.add(&HF_MESSAGE_BODY, b.span, text);
            }
        }
    }
}

fn parties(call: &Call) -> String {
    format!("{} → {}", call.caller.as_deref().unwrap_or("?"), call.callee.as_deref().unwrap_or("?"))
}

fn setup_media(pkt: &Packet<'_>, tree: &Tree<'_>, call: &Call, added: usize) {
    let new_from = call.media.len().saturating_sub(added);
    for (i, m) in call.media.iter().enumerate() {
        let Some(ep) = m.endpoint() else {
            continue;
        };
        if ep.port == 0 || !m.proto.to_ascii_uppercase().starts_with("RTP/") {
            continue;
        }
        if i >= new_from {
            // Every payload type of every media section of this call on this endpoint
            // (FaceTime puts audio and video on one port).
            let same: Vec<_> = call.media.iter().filter(|o| o.endpoint() == Some(ep)).collect();
            let mut pts: Vec<PayloadType<'_>> = Vec::new();
            let mut types = 0;
            for o in &same {
                types |= media_type_bits(&o.kind);
                for p in &o.payload_types {
                    let enc = p.encoding.as_deref().map(|e| (e, p.clock_rate.unwrap_or(0))).or_else(|| sdp::static_payload_type(p.payload_type));
                    if let Some((e, rate)) = enc {
                        if !pts.iter().any(|x| x.pt == p.payload_type) {
                            pts.push(PayloadType { pt: p.payload_type, encoding: e, clock_rate: rate });
                        }
                    }
                }
            }
            if pkt.rtp_setup(ep.addr, ep.port, "FaceTime", pkt.frame(), types, &pts) {
                let list: Vec<String> = pts.iter().map(|p| format!("{}={}/{}", p.pt, p.encoding, p.clock_rate)).collect();
                tree.add_generated(&HF_MEDIA_SETUP, format!("{}:{} {}", ep.addr, ep.port, list.join(" ")).as_str());
                match ep.addr {
                    IpAddr::V4(a) => tree.add_generated(&HF_MEDIA_SETUP_IPV4, a),
                    IpAddr::V6(a) => tree.add_generated(&HF_MEDIA_SETUP_IPV6, a),
                };
                tree.add_generated(&HF_MEDIA_SETUP_PORT, ep.port);
            }
        }
        pkt.reclaim_media(ep.addr, ep.port, &HANDLE);
    }
}

fn media_record(t: &CallTracker, call: Option<u32>, kind: &'static str, (s, d): (Endpoint, Endpoint), ssrc: u32, encoding: Option<String>) -> MediaRecord {
    let call = call.and_then(|c| t.call(c)).map(|c| {
        (c.index + 1, c.caller.clone().unwrap_or_else(|| "?".into()), c.callee.clone().unwrap_or_else(|| "?".into()))
    });
    let sa = |e: Endpoint| std::net::SocketAddr::new(e.addr, e.port);
    MediaRecord { call, kind, src: sa(s), dst: sa(d), ssrc, encoding }
}

fn rtp_packet(pkt: &mut Packet<'_>, tree: &Tree<'_>, tap: &mut Option<TapRecord>) -> Option<usize> {
    let len = pkt.bytes().len();
    let bytes = pkt.bytes();
    if let Ok(h) = rtp::parse_rtp(bytes) {
        let state = pkt.file_state::<State>();
        let eps = endpoints(pkt);
        // The stream, and the call it belongs to (`match_media`, remembered per stream on the
        // first pass until the next SIP frame).
        let stream = match eps {
            None => None,
            Some((s, d)) if pkt.visited() => {
                state.borrow().tracker.streams().iter().find(|st| st.key.src == s && st.key.dst == d && st.key.ssrc == h.ssrc.value && st.key.kind == crate::core::facetime::call::StreamKind::Rtp).map(|st| st.index)
            }
            Some((s, d)) => state.borrow_mut().tracker.feed_rtp(pkt.frame(), ns(pkt.time()), s, d, &h),
        };
        let first = stream.and_then(|i| state.borrow().tracker.stream(i).map(|s| s.first_frame == pkt.frame())).unwrap_or(false);
        RTP_STREAM.with(|c| c.set(stream.map(|i| (pkt.frame(), i))));
        // Fast path (tshark without a tree or statistics): only a stream's first packet has
        // something to show (the in-clear note).
        if tree.is_null() && tap.is_none() && !first {
            return pkt.call(&RTP, Span::new(0, len));
        }
        let matched = eps.map(|(s, d)| match stream {
            Some(i) if !pkt.visited() => state.borrow_mut().tracker.stream_match(i),
            _ => state.borrow().tracker.match_media(s, d),
        });
        let st = state.borrow();
        let t = &st.tracker;
        let (mt_item, mt) = tree.add_subtree(&ETT_RTP, Span::new(0, h.header_len()), "RTP media");
        mt.add(&HF_SSRC, h.ssrc.span, h.ssrc.value);
        mt.add(&HF_PT, Span::new(1, 1), h.payload_type);
        let mut secure = false;
        if let (Some((s, d)), Some((call, dir))) = (eps, matched) {
            if let Some(c) = call.and_then(|c| t.call(c)) {
                mt.add_generated(&HF_CALL, c.index + 1);
                mt.add_generated(&HF_DIRECTION, dir.name());
                if !mt.is_null() {
                    if let Some((enc, rate)) = c.encoding(Some(d), h.payload_type) {
                        let text = match rate {
                            Some(r) => format!("{enc}/{r}"),
                            None => enc.to_string(),
                        };
                        mt.add_generated(&HF_ENCODING, text.as_str());
                    }
                }
                // Only the stream's first packet carries the in-clear note.
                if first {
                    secure = c.media.iter().any(|m| m.endpoint() == Some(d) && is_savp(&m.proto));
                }
            }
            if let Some(rec) = tap.as_mut() {
                let enc = call.and_then(|c| t.call(c)).and_then(|c| c.encoding(Some(d), h.payload_type)).map(|(e, _)| e.to_string());
                let enc = enc.unwrap_or_else(|| format!("PT {}", h.payload_type));
                rec.media = Some(media_record(t, call, "RTP", (s, d), h.ssrc.value, Some(enc)));
            }
        }
        if let Some(i) = stream {
            mt.add_generated(&HF_STREAM, i + 1);
            if first && !secure {
                mt_item.expert(&EI_IN_CLEAR, Some("Media in clear: this RTP stream is not SRTP (no SRTP negotiated; payload readable)"));
            }
        }
        if let Some(ext) = h.ext.filter(|_| !mt.is_null()) {
            let (_, et) = mt.add_subtree(&ETT_RTP_EXT, Span::new(ext.profile.span.offset, 4 + ext.data.span.len), &format!("Header extension: {}", ext.kind.name()));
            et.add(&HF_EXT_PROFILE, ext.profile.span, ext.profile.value);
            et.add(&HF_EXT_KIND, ext.profile.span, ext.kind.name()).generated();
            et.add(&HF_EXT_LEN, ext.length_words.span, ext.length_words.value);
            if !ext.data.value.is_empty() {
                et.add(&HF_EXT_DATA, ext.data.span, ext.data.value);
            }
        }
    }
    pkt.call(&RTP, Span::new(0, len))
}

/// An SDP transport protocol of secure RTP (`RTP/SAVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVP` …).
fn is_savp(proto: &str) -> bool {
    proto.as_bytes().windows(4).any(|w| w.eq_ignore_ascii_case(b"SAVP"))
}

fn rtcp_packet(pkt: &mut Packet<'_>, tree: &Tree<'_>, tap: &mut Option<TapRecord>) -> Option<usize> {
    let len = pkt.bytes().len();
    let bytes = pkt.bytes();
    if let (Ok(c), Some((s, d))) = (rtp::parse_rtcp(bytes), endpoints(pkt)) {
        if let Some(ssrc) = c.packets.first().and_then(|p| p.ssrc) {
            let state = pkt.file_state::<State>();
            let stream = if pkt.visited() {
                state.borrow().tracker.streams().iter().find(|st| st.key.src == s && st.key.dst == d && st.key.ssrc == ssrc && st.key.kind == crate::core::facetime::call::StreamKind::Rtcp).map(|st| st.index)
            } else {
                state.borrow_mut().tracker.feed_rtcp(pkt.frame(), ns(pkt.time()), s, d, ssrc)
            };
            let st = state.borrow();
            let (_, mt) = tree.add_subtree(&ETT_RTCP, Span::new(0, 8.min(len)), "RTCP");
            mt.add_generated(&HF_SSRC, ssrc);
            if let Some(i) = stream {
                mt.add_generated(&HF_STREAM, i + 1);
            }
            let (call, dir) = st.tracker.match_media(s, d);
            if let Some(c) = call {
                mt.add_generated(&HF_CALL, c + 1);
                mt.add_generated(&HF_DIRECTION, dir.name());
            }
            if let Some(rec) = tap.as_mut() {
                rec.media = Some(media_record(&st.tracker, call, "RTCP", (s, d), ssrc, None));
            }
        }
    }
    pkt.call(&RTCP, Span::new(0, len))
}

/// Apple's RTP header extension (profile 0x4400), called by Wireshark's RTP dissector through
/// its `rtp.hdr_ext` table with the extension's data: labelled, its bytes shown as data.
pub struct AppleExt;
impl Dissector for AppleExt {
    fn protocol() -> &'static Protocol {
        &PROTO
    }
    fn dissect(pkt: &mut Packet<'_>) -> usize {
        let data = pkt.bytes();
        let tree = pkt.tree();
        // The label only when there is a tree to show it (the expert note counts either way).
        let label = if tree.is_null() { String::new() } else { format!("Apple FaceTime header extension (profile 0x4400, {} bytes)", data.len()) };
        let (item, t) = tree.add_subtree(&ETT_APPLE_EXT, Span::new(0, data.len()), &label);
        if !data.is_empty() {
            t.add(&HF_APPLE_EXT_DATA, Span::new(0, data.len()), data);
        }
        // One note per stream, on its first packet with the extension (every packet of a
        // FaceTime video stream carries it); a packet of no known stream gets its own. The
        // first pass records the frame, later passes find it: the same with or without a tree.
        let stream = RTP_STREAM.with(|c| c.get()).filter(|(f, _)| *f == pkt.frame()).map(|(_, i)| i);
        let note = match stream {
            None => true,
            Some(i) => {
                let frame = pkt.frame();
                let visited = pkt.visited();
                let state = pkt.file_state::<State>();
                let mut st = state.borrow_mut();
                if visited {
                    st.apple_ext_first.get(&i) == Some(&frame)
                } else {
                    *st.apple_ext_first.entry(i).or_insert(frame) == frame
                }
            }
        };
        if note {
            item.expert(&EI_APPLE_EXT, None);
        }
        data.len()
    }
}

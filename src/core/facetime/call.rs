//! FaceTime call tracking: a pure state machine fed SIP messages (and RTP/RTCP headers) in
//! capture order, keyed by Call-ID.
//!
//! Wireshark dissects every frame once in order (the first pass) and again whenever the
//! user looks at it. The tracker is therefore *idempotent*: each feed carries the frame
//! number, and a frame number at or below the highest one already fed is a revisit — it
//! changes nothing and returns what the first pass recorded. Results per SIP frame are kept
//! in a map and retrievable by frame number ([`CallTracker::frame`]).
//!
//! Times are nanoseconds (any epoch; only differences are used). Durations:
//! - `setup_time` = ACK − INVITE (the seed's "time between initial INVITE and ACK"),
//! - `duration` = BYE − INVITE (what Wireshark's VoIP Calls shows as start→stop),
//! - `talk_time` = BYE − answer (ACK, else the 2xx).
//!
//! Every map is bounded ([`MAX_CALLS`], [`MAX_SIP_FRAMES`], [`MAX_STREAMS`], per-call
//! media and transaction lists); when a cap is hit the excess is ignored and
//! [`CallTracker::limits`] says which cap.

use super::rtp::RtpHeader;
use super::sdp::{self, Sdp};
use super::sip::{Method, SipMessage};
use std::collections::HashMap;
use std::net::IpAddr;

pub const MAX_CALLS: usize = 4096;
pub const MAX_SIP_FRAMES: usize = 1 << 20;
pub const MAX_STREAMS: usize = 8192;
pub const MAX_MEDIA_PER_CALL: usize = 16;
pub const MAX_PAYLOAD_TYPES: usize = 32;
/// Transactions remembered per call for retransmission detection.
pub const MAX_TRANSACTIONS: usize = 256;
/// Longest text (Call-ID, URI, tag, encoding) stored; longer text is cut (flagged).
pub const MAX_TEXT: usize = 256;

/// An address and UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub addr: IpAddr,
    pub port: u16,
}

impl Endpoint {
    pub fn new(addr: IpAddr, port: u16) -> Self {
        Endpoint { addr, port }
    }
}

/// Where a call stands after the frames fed so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// Dialog seen without its INVITE (capture started mid-call).
    Observed,
    /// INVITE sent, nothing back yet (or only 100 Trying).
    Calling,
    /// 180/183 received.
    Ringing,
    /// 2xx received, no ACK yet.
    Answered,
    /// ACK for the 2xx seen.
    InCall,
    /// Final response ≥ 300 (other than 487 after CANCEL).
    Rejected(u16),
    /// CANCEL seen before a final response, or 487.
    Cancelled,
    /// BYE seen.
    Ended,
}

impl CallState {
    pub fn name(&self) -> &'static str {
        match self {
            CallState::Observed => "Observed",
            CallState::Calling => "Calling",
            CallState::Ringing => "Ringing",
            CallState::Answered => "Answered",
            CallState::InCall => "In call",
            CallState::Rejected(_) => "Rejected",
            CallState::Cancelled => "Cancelled",
            CallState::Ended => "Ended",
        }
    }
}

/// What a SIP frame was to its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Invite,
    ReInvite,
    /// 1xx to the INVITE.
    Provisional(u16),
    /// Final response to the (initial or re-) INVITE.
    FinalResponse(u16),
    Ack,
    Cancel,
    Message,
    Bye,
    /// Any other request (INFO, UPDATE, OPTIONS inside the dialog …).
    OtherRequest,
    /// Any other response (to MESSAGE, BYE …).
    OtherResponse(u16),
}

/// The first-pass result for one SIP frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameInfo {
    /// Stable call index (order of first appearance, from 0).
    pub call: u32,
    pub role: Role,
    /// Same transaction (CSeq number, method, request/status) already seen in this call.
    pub retransmission: bool,
    /// The message was sent by the caller (the INVITE's sender), when that is known.
    pub from_caller: Option<bool>,
    /// The call's state right after this frame.
    pub state: CallState,
    /// Media endpoints this frame's SDP added to the call.
    pub media_added: u8,
}

/// A payload type's encoding from an rtpmap (or the static table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadMap {
    pub payload_type: u8,
    pub encoding: Option<String>,
    pub clock_rate: Option<u32>,
}

/// One SDP media section as learned from a SIP frame: where its sender wants to receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaEndpoint {
    /// The SIP frame carrying the SDP (the "setup frame" for Wireshark's RTP conversation).
    pub frame: u32,
    /// The SDP came from the caller (offer in INVITE) or from the callee (answer).
    pub from_caller: Option<bool>,
    /// `audio`, `video` …
    pub kind: String,
    pub proto: String,
    /// The receive address (media-level c= else session c=); `None` for FQDNs.
    pub addr: Option<IpAddr>,
    pub port: u16,
    pub rtcp_mux: bool,
    pub rtcp_port: Option<u16>,
    pub payload_types: Vec<PayloadMap>,
}

impl MediaEndpoint {
    pub fn endpoint(&self) -> Option<Endpoint> {
        self.addr.map(|a| Endpoint::new(a, self.port))
    }
    pub fn encoding(&self, pt: u8) -> Option<(&str, Option<u32>)> {
        self.payload_types
            .iter()
            .find(|m| m.payload_type == pt)
            .and_then(|m| m.encoding.as_deref().map(|e| (e, m.clock_rate)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TxKey {
    cseq: u32,
    /// The method as its index in a small table; `u8::MAX` for other methods.
    method: u8,
    /// 0 for a request, else the status code.
    status: u16,
    from_caller: Option<bool>,
}

/// One call (one Call-ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub index: u32,
    pub call_id: String,
    /// From URI of the INVITE.
    pub caller: Option<String>,
    /// To URI of the INVITE.
    pub callee: Option<String>,
    pub caller_tag: Option<String>,
    /// To tag of the first response that carried one.
    pub callee_tag: Option<String>,
    /// Signalling endpoints: the INVITE's source and destination.
    pub caller_signalling: Option<Endpoint>,
    pub callee_signalling: Option<Endpoint>,
    pub first_frame: u32,
    pub first_time_ns: u64,
    pub last_frame: u32,
    pub last_time_ns: u64,
    pub invite_frame: Option<u32>,
    pub invite_time_ns: Option<u64>,
    invite_cseq: Option<u32>,
    pub ringing_frame: Option<u32>,
    pub ringing_time_ns: Option<u64>,
    pub final_status: Option<u16>,
    pub final_frame: Option<u32>,
    pub final_time_ns: Option<u64>,
    pub ack_frame: Option<u32>,
    pub ack_time_ns: Option<u64>,
    pub cancel_frame: Option<u32>,
    pub bye_frame: Option<u32>,
    pub bye_time_ns: Option<u64>,
    pub bye_from_caller: Option<bool>,
    pub reinvite_count: u32,
    /// MESSAGE requests (retransmissions not counted).
    pub message_count: u32,
    pub sip_frames: u32,
    pub state: CallState,
    pub media: Vec<MediaEndpoint>,
    /// More than [`MAX_MEDIA_PER_CALL`] media sections were offered.
    pub media_truncated: bool,
    seen: Vec<TxKey>,
}

impl Call {
    /// INVITE → ACK.
    pub fn setup_time_ns(&self) -> Option<u64> {
        self.ack_time_ns?.checked_sub(self.invite_time_ns?)
    }
    /// INVITE → BYE.
    pub fn duration_ns(&self) -> Option<u64> {
        self.bye_time_ns?.checked_sub(self.invite_time_ns?)
    }
    /// Answer (ACK, else 2xx) → BYE.
    pub fn talk_time_ns(&self) -> Option<u64> {
        let answered = self
            .ack_time_ns
            .or(self.final_time_ns.filter(|_| self.answered()))?;
        self.bye_time_ns?.checked_sub(answered)
    }
    pub fn answered(&self) -> bool {
        self.final_status.is_some_and(|s| (200..300).contains(&s))
    }
    /// The encoding of `pt` as negotiated in this call; media whose endpoint is `dst` first.
    pub fn encoding(&self, dst: Option<Endpoint>, pt: u8) -> Option<(&str, Option<u32>)> {
        let exact = self
            .media
            .iter()
            .filter(|m| dst.is_some() && m.endpoint() == dst);
        let rest = self.media.iter();
        exact.chain(rest).find_map(|m| m.encoding(pt))
    }
}

/// RTP or RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    Rtp,
    Rtcp,
}

crate::value_enum! {
    /// Direction of a media stream relative to its call.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum StreamDir: u8 {
        FromCaller = 0 => "caller to callee";
        FromCallee = 1 => "callee to caller";
        Unknown = 2 => "unknown";
    }
}

/// A stream: one (source, destination, SSRC, RTP/RTCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamKey {
    pub src: Endpoint,
    pub dst: Endpoint,
    pub ssrc: u32,
    pub kind: StreamKind,
}

/// Packet accounting for one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    pub index: u32,
    pub key: StreamKey,
    pub call: Option<u32>,
    pub direction: StreamDir,
    pub packets: u64,
    pub first_frame: u32,
    pub last_frame: u32,
    pub first_time_ns: u64,
    pub last_time_ns: u64,
    /// Payload type of the last RTP packet (RTP streams).
    pub last_payload_type: Option<u8>,
    /// Packets whose sequence number was not the previous one + 1 (RTP streams).
    pub seq_jumps: u64,
    last_seq: Option<u16>,
    /// [`CallTracker::match_media`] for this stream's endpoints, as of `matched_gen`.
    matched: (Option<u32>, StreamDir),
    matched_gen: u64,
}

/// Which caps have been hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub calls: bool,
    pub frames: bool,
    pub streams: bool,
    pub media: bool,
    pub transactions: bool,
    pub text: bool,
}

impl Limits {
    pub fn any(&self) -> bool {
        self.calls || self.frames || self.streams || self.media || self.transactions || self.text
    }
}

/// The tracker. Feed it in capture order; revisits are harmless.
#[derive(Debug, Default)]
pub struct CallTracker {
    calls: Vec<Call>,
    by_call_id: HashMap<String, u32>,
    frames: HashMap<u32, FrameInfo>,
    sip_high_water: Option<u32>,
    media_index: HashMap<Endpoint, (u32, usize)>,
    streams: Vec<Stream>,
    by_stream: HashMap<StreamKey, u32>,
    media_high_water: Option<u32>,
    limits: Limits,
    /// Bumped by every SIP frame fed (what `match_media` reads changes only then).
    media_gen: u64,
    /// Direct-mapped cache of recent stream keys → index, in front of `by_stream`.
    recent: Vec<Option<(StreamKey, u32)>>,
}

const RECENT_SLOTS: usize = 256;

fn recent_slot(k: &StreamKey) -> usize {
    let ports = (u32::from(k.src.port) << 16) | u32::from(k.dst.port);
    let h = (k.ssrc ^ ports.rotate_left(7) ^ (k.kind as u32)).wrapping_mul(0x9E37_79B1);
    (h >> 24) as usize % RECENT_SLOTS
}

fn method_code(m: Method<'_>) -> u8 {
    match m {
        Method::Invite => 0,
        Method::Ack => 1,
        Method::Bye => 2,
        Method::Cancel => 3,
        Method::Options => 4,
        Method::Register => 5,
        Method::Message => 6,
        Method::Info => 7,
        Method::Update => 8,
        Method::Prack => 9,
        Method::Subscribe => 10,
        Method::Notify => 11,
        Method::Refer => 12,
        Method::Publish => 13,
        Method::Other(_) => u8::MAX,
    }
}

impl CallTracker {
    pub fn new() -> Self {
        Self::default()
    }

    fn text(&mut self, s: &str) -> String {
        if s.len() <= MAX_TEXT {
            return s.to_owned();
        }
        self.limits.text = true;
        let mut end = MAX_TEXT;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s[..end].to_owned()
    }

    /// Feeds one parsed SIP message seen in `frame` at `time_ns`, sent from `src` to `dst`
    /// (pass `None` when unknown). The SDP body, if any, is parsed here. Returns the frame's
    /// result, or `None` for messages without a Call-ID (or beyond the caps). A frame at or
    /// below the highest frame already fed is a revisit: nothing changes and the recorded
    /// result is returned.
    pub fn feed_sip(
        &mut self,
        frame: u32,
        time_ns: u64,
        src: Option<Endpoint>,
        dst: Option<Endpoint>,
        msg: &SipMessage<'_>,
    ) -> Option<FrameInfo> {
        if self.sip_high_water.is_some_and(|hw| frame <= hw) {
            return self.frames.get(&frame).copied();
        }
        self.sip_high_water = Some(frame);
        self.media_gen += 1;
        let call_id = msg.headers.call_id?.value;
        let key = self.text(call_id);
        let idx = match self.by_call_id.get(&key) {
            Some(&i) => i,
            None => {
                if self.calls.len() >= MAX_CALLS {
                    self.limits.calls = true;
                    return None;
                }
                let i = self.calls.len() as u32;
                self.calls.push(Call {
                    index: i,
                    call_id: key.clone(),
                    caller: None,
                    callee: None,
                    caller_tag: None,
                    callee_tag: None,
                    caller_signalling: None,
                    callee_signalling: None,
                    first_frame: frame,
                    first_time_ns: time_ns,
                    last_frame: frame,
                    last_time_ns: time_ns,
                    invite_frame: None,
                    invite_time_ns: None,
                    invite_cseq: None,
                    ringing_frame: None,
                    ringing_time_ns: None,
                    final_status: None,
                    final_frame: None,
                    final_time_ns: None,
                    ack_frame: None,
                    ack_time_ns: None,
                    cancel_frame: None,
                    bye_frame: None,
                    bye_time_ns: None,
                    bye_from_caller: None,
                    reinvite_count: 0,
                    message_count: 0,
                    sip_frames: 0,
                    state: CallState::Observed,
                    media: Vec::new(),
                    media_truncated: false,
                    seen: Vec::new(),
                });
                self.by_call_id.insert(key, i);
                i
            }
        };
        let info = self.update_call(idx, frame, time_ns, src, dst, msg);
        if self.frames.len() < MAX_SIP_FRAMES {
            self.frames.insert(frame, info);
        } else {
            self.limits.frames = true;
        }
        Some(info)
    }

    fn update_call(
        &mut self,
        idx: u32,
        frame: u32,
        time_ns: u64,
        src: Option<Endpoint>,
        dst: Option<Endpoint>,
        msg: &SipMessage<'_>,
    ) -> FrameInfo {
        let h = msg.headers;
        let is_request = msg.is_request();
        let status = msg.status().unwrap_or(0);
        let cseq = h.cseq.map(|c| c.number.value);
        let method = msg.method();

        // Texts first (they may set the `text` limit flag).
        let from_uri = h.from.map(|f| self.text(f.uri.value));
        let to_uri = h.to.map(|t| self.text(t.uri.value));
        let from_tag = h.from.and_then(|f| f.tag).map(|t| self.text(t.value));
        let to_tag = h.to.and_then(|t| t.tag).map(|t| self.text(t.value));

        let Some(call) = self.calls.get_mut(idx as usize) else {
            // unreachable: idx comes from `calls`
            return FrameInfo {
                call: idx,
                role: Role::OtherRequest,
                retransmission: false,
                from_caller: None,
                state: CallState::Observed,
                media_added: 0,
            };
        };
        call.last_frame = frame;
        call.last_time_ns = time_ns;
        call.sip_frames = call.sip_frames.saturating_add(1);

        // A new INVITE (no INVITE seen yet) defines who the caller is.
        let fresh_invite =
            is_request && method == Some(Method::Invite) && call.invite_frame.is_none();
        if fresh_invite {
            call.caller = from_uri.clone();
            call.callee = to_uri.clone();
            call.caller_tag = from_tag.clone();
            call.caller_signalling = src;
            call.callee_signalling = dst;
        }

        // Who sent this message? Requests carry the sender's tag in From; responses copy the
        // request's From, so a response whose From is the caller's was sent by the callee.
        let from_is_caller = match (&call.caller_tag, &from_tag, &call.caller, &from_uri) {
            (Some(ct), Some(ft), _, _) => Some(ct == ft),
            (_, _, Some(cu), Some(fu)) => Some(cu == fu),
            _ => None,
        };
        let from_caller = match from_is_caller {
            Some(fc) => Some(if is_request { fc } else { !fc }),
            None => match (src, call.caller_signalling, call.callee_signalling) {
                (Some(s), Some(c), _) if s == c => Some(true),
                (Some(s), _, Some(c)) if s == c => Some(false),
                _ => None,
            },
        };

        // Retransmission: same (CSeq, method, status, sender) already seen.
        let tx = TxKey {
            cseq: cseq.unwrap_or(0),
            method: method.map_or(u8::MAX, method_code),
            status,
            from_caller,
        };
        let retransmission = call.seen.contains(&tx);
        if !retransmission {
            if call.seen.len() < MAX_TRANSACTIONS {
                call.seen.push(tx);
            } else {
                self.limits.transactions = true;
            }
        }

        let role = match (is_request, method) {
            (true, Some(Method::Invite)) => {
                if fresh_invite {
                    call.invite_frame = Some(frame);
                    call.invite_time_ns = Some(time_ns);
                    call.invite_cseq = cseq;
                    call.state = CallState::Calling;
                    Role::Invite
                } else if call.invite_cseq == cseq {
                    Role::Invite
                } else {
                    if !retransmission {
                        call.reinvite_count = call.reinvite_count.saturating_add(1);
                    }
                    Role::ReInvite
                }
            }
            (true, Some(Method::Ack)) => {
                if !retransmission
                    && call.ack_frame.is_none()
                    && call.invite_cseq.is_some()
                    && call.invite_cseq == cseq
                {
                    call.ack_frame = Some(frame);
                    call.ack_time_ns = Some(time_ns);
                    if call.answered() && call.state == CallState::Answered {
                        call.state = CallState::InCall;
                    }
                }
                Role::Ack
            }
            (true, Some(Method::Cancel)) => {
                if call.cancel_frame.is_none() {
                    call.cancel_frame = Some(frame);
                }
                if call.final_status.is_none() && call.invite_frame.is_some() {
                    call.state = CallState::Cancelled;
                }
                Role::Cancel
            }
            (true, Some(Method::Message)) => {
                if !retransmission {
                    call.message_count = call.message_count.saturating_add(1);
                }
                Role::Message
            }
            (true, Some(Method::Bye)) => {
                if !retransmission && call.bye_frame.is_none() {
                    call.bye_frame = Some(frame);
                    call.bye_time_ns = Some(time_ns);
                    call.bye_from_caller = from_caller;
                    call.state = CallState::Ended;
                }
                Role::Bye
            }
            (true, _) => Role::OtherRequest,
            (false, Some(Method::Invite)) => {
                let initial = call.invite_cseq.is_none() || call.invite_cseq == cseq;
                if call.callee_tag.is_none() && status > 100 {
                    call.callee_tag = to_tag.clone();
                }
                if status < 200 {
                    if initial && matches!(status, 180 | 183) && call.ringing_frame.is_none() {
                        call.ringing_frame = Some(frame);
                        call.ringing_time_ns = Some(time_ns);
                        if call.state == CallState::Calling {
                            call.state = CallState::Ringing;
                        }
                    }
                    Role::Provisional(status)
                } else {
                    if initial && call.final_status.is_none() {
                        call.final_status = Some(status);
                        call.final_frame = Some(frame);
                        call.final_time_ns = Some(time_ns);
                        if call.state != CallState::Ended {
                            call.state = match status {
                                200..=299 => CallState::Answered,
                                487 => CallState::Cancelled,
                                s => {
                                    if call.cancel_frame.is_some() {
                                        CallState::Cancelled
                                    } else {
                                        CallState::Rejected(s)
                                    }
                                }
                            };
                        }
                    }
                    Role::FinalResponse(status)
                }
            }
            (false, _) => Role::OtherResponse(status),
        };

        // SDP: offers in INVITE/re-INVITE (and late answers in ACK), answers in 18x/2xx.
        let mut media_added = 0u8;
        if !retransmission && msg.has_sdp() {
            if let Some(body) = msg.body {
                let parsed = sdp::parse_sdp(body.value, body.span.offset);
                media_added = self.learn_media(idx, frame, from_caller, &parsed);
            }
        }
        let state = self
            .calls
            .get(idx as usize)
            .map_or(CallState::Observed, |c| c.state);
        FrameInfo {
            call: idx,
            role,
            retransmission,
            from_caller,
            state,
            media_added,
        }
    }

    fn learn_media(&mut self, idx: u32, frame: u32, from_caller: Option<bool>, s: &Sdp<'_>) -> u8 {
        let mut added = 0u8;
        for (i, m) in s.media.iter().enumerate() {
            let Some(call) = self.calls.get(idx as usize) else {
                return added;
            };
            if call.media.len() >= MAX_MEDIA_PER_CALL {
                self.limits.media = true;
                if let Some(c) = self.calls.get_mut(idx as usize) {
                    c.media_truncated = true;
                }
                break;
            }
            let mut pts = Vec::new();
            for pt in m.payload_types() {
                if pts.len() >= MAX_PAYLOAD_TYPES {
                    self.limits.media = true;
                    break;
                }
                let enc = m.encoding(pt);
                pts.push(PayloadMap {
                    payload_type: pt,
                    encoding: enc.map(|(e, _)| self.text(e)),
                    clock_rate: enc.map(|(_, c)| c),
                });
            }
            let me = MediaEndpoint {
                frame,
                from_caller,
                kind: self.text(m.kind.value),
                proto: self.text(m.proto.value),
                addr: s.media_ip(i),
                port: m.port.value,
                rtcp_mux: m.rtcp_mux,
                rtcp_port: m.rtcp_port,
                payload_types: pts,
            };
            let ep = me.endpoint();
            let Some(call) = self.calls.get_mut(idx as usize) else {
                return added;
            };
            call.media.push(me);
            let mi = call.media.len() - 1;
            if let Some(ep) = ep {
                if ep.port != 0 {
                    self.media_index.insert(ep, (idx, mi));
                }
            }
            added = added.saturating_add(1);
        }
        added
    }

    /// The result recorded for a SIP frame on the first pass.
    pub fn frame(&self, frame: u32) -> Option<FrameInfo> {
        self.frames.get(&frame).copied()
    }
    pub fn call(&self, index: u32) -> Option<&Call> {
        self.calls.get(index as usize)
    }
    pub fn call_by_id(&self, call_id: &str) -> Option<&Call> {
        self.by_call_id.get(call_id).and_then(|&i| self.call(i))
    }
    pub fn calls(&self) -> &[Call] {
        &self.calls
    }
    /// The call and media section whose SDP advertised `ep` as its receive endpoint (the
    /// latest SDP wins), for setting up RTP conversations.
    pub fn media_at(&self, ep: Endpoint) -> Option<(&Call, &MediaEndpoint)> {
        let &(ci, mi) = self.media_index.get(&ep)?;
        let c = self.call(ci)?;
        Some((c, c.media.get(mi)?))
    }
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The call a media packet src→dst belongs to, and its direction: by the SDP receive
    /// endpoints first, then by the signalling endpoints (FaceTime sends SIP and media from
    /// the same port).
    pub fn match_media(&self, src: Endpoint, dst: Endpoint) -> (Option<u32>, StreamDir) {
        if let Some((c, m)) = self.media_at(dst) {
            let dir = match m.from_caller {
                Some(true) => StreamDir::FromCallee,
                Some(false) => StreamDir::FromCaller,
                None => StreamDir::Unknown,
            };
            return (Some(c.index), dir);
        }
        if let Some((c, m)) = self.media_at(src) {
            let dir = match m.from_caller {
                Some(true) => StreamDir::FromCaller,
                Some(false) => StreamDir::FromCallee,
                None => StreamDir::Unknown,
            };
            return (Some(c.index), dir);
        }
        // Latest call first: a later call on the same port pair supersedes earlier ones.
        for c in self.calls.iter().rev() {
            let (cs, ce) = (c.caller_signalling, c.callee_signalling);
            if cs == Some(src) && ce == Some(dst) {
                return (Some(c.index), StreamDir::FromCaller);
            }
            if cs == Some(dst) && ce == Some(src) {
                return (Some(c.index), StreamDir::FromCallee);
            }
        }
        (None, StreamDir::Unknown)
    }

    /// Counts one RTP packet (SSRC, sequence number and payload type from its header). Same
    /// revisit rule as [`feed_sip`](Self::feed_sip). Returns the stream's index.
    pub fn feed_rtp(
        &mut self,
        frame: u32,
        time_ns: u64,
        src: Endpoint,
        dst: Endpoint,
        h: &RtpHeader<'_>,
    ) -> Option<u32> {
        let key = StreamKey {
            src,
            dst,
            ssrc: h.ssrc.value,
            kind: StreamKind::Rtp,
        };
        self.feed_stream(frame, time_ns, key, Some((h.seq.value, h.payload_type)))
    }

    /// Counts one RTCP compound by its first packet's sender SSRC.
    pub fn feed_rtcp(
        &mut self,
        frame: u32,
        time_ns: u64,
        src: Endpoint,
        dst: Endpoint,
        ssrc: u32,
    ) -> Option<u32> {
        let key = StreamKey {
            src,
            dst,
            ssrc,
            kind: StreamKind::Rtcp,
        };
        self.feed_stream(frame, time_ns, key, None)
    }

    fn feed_stream(
        &mut self,
        frame: u32,
        time_ns: u64,
        key: StreamKey,
        rtp: Option<(u16, u8)>,
    ) -> Option<u32> {
        if self.media_high_water.is_some_and(|hw| frame <= hw) {
            return self.by_stream.get(&key).copied();
        }
        self.media_high_water = Some(frame);
        if self.recent.is_empty() {
            self.recent = vec![None; RECENT_SLOTS];
        }
        let slot = recent_slot(&key);
        let cached = self.recent[slot].filter(|(k, _)| *k == key).map(|(_, i)| i);
        let idx = match cached.or_else(|| self.by_stream.get(&key).copied()) {
            Some(i) => {
                self.recent[slot] = Some((key, i));
                i
            }
            None => {
                if self.streams.len() >= MAX_STREAMS {
                    self.limits.streams = true;
                    return None;
                }
                let (call, direction) = self.match_media(key.src, key.dst);
                let i = self.streams.len() as u32;
                self.streams.push(Stream {
                    index: i,
                    key,
                    call,
                    direction,
                    packets: 0,
                    first_frame: frame,
                    last_frame: frame,
                    first_time_ns: time_ns,
                    last_time_ns: time_ns,
                    last_payload_type: None,
                    seq_jumps: 0,
                    last_seq: None,
                    matched: (call, direction),
                    matched_gen: self.media_gen,
                });
                self.by_stream.insert(key, i);
                self.recent[slot] = Some((key, i));
                i
            }
        };
        let s = self.streams.get_mut(idx as usize)?;
        s.packets = s.packets.saturating_add(1);
        s.last_frame = frame;
        s.last_time_ns = time_ns;
        if let Some((seq, pt)) = rtp {
            if let Some(prev) = s.last_seq {
                if seq != prev.wrapping_add(1) {
                    s.seq_jumps = s.seq_jumps.saturating_add(1);
                }
            }
            s.last_seq = Some(seq);
            s.last_payload_type = Some(pt);
        }
        Some(idx)
    }

    /// [`match_media`](Self::match_media) for stream `index`'s endpoints, remembered until
    /// the next SIP frame is fed.
    pub fn stream_match(&mut self, index: u32) -> (Option<u32>, StreamDir) {
        let gen = self.media_gen;
        let Some(s) = self.streams.get(index as usize) else {
            return (None, StreamDir::Unknown);
        };
        if s.matched_gen == gen {
            return s.matched;
        }
        let (src, dst) = (s.key.src, s.key.dst);
        let m = self.match_media(src, dst);
        if let Some(s) = self.streams.get_mut(index as usize) {
            s.matched = m;
            s.matched_gen = gen;
        }
        m
    }

    pub fn stream(&self, index: u32) -> Option<&Stream> {
        self.streams.get(index as usize)
    }
    pub fn streams(&self) -> &[Stream] {
        &self.streams
    }
    /// Packet count per (direction, SSRC) for a call, RTP only, in first-seen order.
    pub fn stream_counts(&self, call: u32) -> impl Iterator<Item = (StreamDir, u32, u64)> + '_ {
        self.streams
            .iter()
            .filter(move |s| s.call == Some(call) && s.key.kind == StreamKind::Rtp)
            .map(|s| (s.direction, s.key.ssrc, s.packets))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::facetime::rtp::parse_rtp;
    use crate::core::facetime::sip::{parse_sip, tests::INVITE};
    use std::net::Ipv4Addr;

    const MS: u64 = 1_000_000;

    fn ep(a: [u8; 4], port: u16) -> Endpoint {
        Endpoint::new(IpAddr::V4(Ipv4Addr::from(a)), port)
    }

    // The remote caller (Apple's 888-FaceTime in seed 001) and the iPhone.
    fn caller() -> Endpoint {
        ep([17, 155, 5, 14], 16402)
    }
    fn phone() -> Endpoint {
        ep([10, 0, 1, 5], 16402)
    }

    const CID: &str = "7b1f1c6a-9c2e-11df-9d42-0023dfd8c2e4@17.155.5.14";

    fn resp(code: &str, cseq: &str, sdp: &str) -> Vec<u8> {
        let ct = if sdp.is_empty() {
            String::new()
        } else {
            "Content-Type: application/sdp\r\n".into()
        };
        format!(
            "SIP/2.0 {code}\r\nVia: SIP/2.0/UDP 17.155.5.14:16402;branch=z9hG4bK1d5a2f9c\r\n\
To: <sip:+14085550123@10.0.1.5:16402>;tag=2041855412\r\n\
From: \"+18883223846\" <sip:+18883223846@17.155.5.14:16402>;tag=1894703416\r\n\
Call-ID: {CID}\r\nCSeq: {cseq}\r\n{ct}Content-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        )
        .into_bytes()
    }

    fn req(method: &str, cseq: u32, from_callee: bool) -> Vec<u8> {
        let (f, t) = if from_callee {
            (
                "<sip:+14085550123@10.0.1.5:16402>;tag=2041855412",
                "<sip:+18883223846@17.155.5.14:16402>;tag=1894703416",
            )
        } else {
            (
                "<sip:+18883223846@17.155.5.14:16402>;tag=1894703416",
                "<sip:+14085550123@10.0.1.5:16402>;tag=2041855412",
            )
        };
        format!(
            "{method} sip:x@10.0.1.5:16402 SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK{cseq}{method}\r\n\
From: {f}\r\nTo: {t}\r\nCall-ID: {CID}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    const ANSWER: &str = "v=0\r\no=- 0 0 IN IP4 10.0.1.5\r\ns=\r\nc=IN IP4 10.0.1.5\r\nt=0 0\r\n\
m=audio 16402 RTP/AVP 104\r\na=rtcp-mux\r\na=rtpmap:104 iLBC/8000\r\n\
m=video 16402 RTP/AVP 126\r\na=rtcp-mux\r\na=rtpmap:126 H264/90000\r\n";

    /// The seed 003 call flow: INVITE, 100, 180, 200 (SDP), ACK, MESSAGE ×2 (+200s), BYE, 200.
    fn run(t: &mut CallTracker) -> Vec<Option<FrameInfo>> {
        let frames: Vec<(u32, u64, Endpoint, Endpoint, Vec<u8>)> = vec![
            (10, 10_577 * MS, caller(), phone(), INVITE.to_vec()),
            (
                11,
                10_580 * MS,
                phone(),
                caller(),
                resp("100 Trying", "1 INVITE", ""),
            ),
            (
                12,
                10_603 * MS,
                phone(),
                caller(),
                resp("180 Ringing", "1 INVITE", ""),
            ),
            (
                13,
                10_622 * MS,
                phone(),
                caller(),
                resp("200 OK", "1 INVITE", ANSWER),
            ),
            (14, 10_723 * MS, caller(), phone(), req("ACK", 1, false)),
            (15, 11_000 * MS, caller(), phone(), req("MESSAGE", 2, false)),
            (16, 11_001 * MS, caller(), phone(), req("MESSAGE", 2, false)), // retransmission
            (
                17,
                11_010 * MS,
                phone(),
                caller(),
                resp("200 OK", "2 MESSAGE", ""),
            ),
            (18, 12_000 * MS, phone(), caller(), req("MESSAGE", 1, true)),
            (19, 70_723 * MS, phone(), caller(), req("BYE", 2, true)),
            (
                20,
                70_730 * MS,
                caller(),
                phone(),
                resp("200 OK", "2 BYE", ""),
            ),
        ];
        frames
            .iter()
            .map(|(f, ts, s, d, b)| {
                let m = parse_sip(b).expect("test SIP parses");
                t.feed_sip(*f, *ts, Some(*s), Some(*d), &m)
            })
            .collect()
    }

    #[test]
    fn facetime_call_flow() {
        let mut t = CallTracker::new();
        let r = run(&mut t);
        assert!(r.iter().all(|x| x.is_some()));
        let c = t.call(0).unwrap();
        assert_eq!(c.call_id, CID);
        assert_eq!(
            c.caller.as_deref(),
            Some("sip:+18883223846@17.155.5.14:16402")
        );
        assert_eq!(c.callee.as_deref(), Some("sip:+14085550123@10.0.1.5:16402"));
        assert_eq!(c.callee_tag.as_deref(), Some("2041855412"));
        assert_eq!(c.final_status, Some(200));
        assert_eq!(c.setup_time_ns(), Some(146 * MS));
        assert_eq!(c.duration_ns(), Some(60_146 * MS));
        assert_eq!(c.talk_time_ns(), Some(60_000 * MS));
        assert_eq!(c.message_count, 2);
        assert_eq!(c.ringing_frame, Some(12));
        assert_eq!(c.bye_from_caller, Some(false));
        assert_eq!(c.state, CallState::Ended);
        assert_eq!(c.sip_frames, 11);
        let roles: Vec<Role> = r.iter().map(|x| x.unwrap().role).collect();
        assert_eq!(
            roles,
            vec![
                Role::Invite,
                Role::Provisional(100),
                Role::Provisional(180),
                Role::FinalResponse(200),
                Role::Ack,
                Role::Message,
                Role::Message,
                Role::OtherResponse(200),
                Role::Message,
                Role::Bye,
                Role::OtherResponse(200),
            ]
        );
        assert!(r[6].unwrap().retransmission);
        assert!(!r[8].unwrap().retransmission); // same CSeq 1 but from the callee
        assert_eq!(r[0].unwrap().from_caller, Some(true));
        assert_eq!(r[3].unwrap().from_caller, Some(false));
        assert_eq!(r[9].unwrap().from_caller, Some(false));
        assert_eq!(r[0].unwrap().state, CallState::Calling);
        assert_eq!(r[2].unwrap().state, CallState::Ringing);
        assert_eq!(r[3].unwrap().state, CallState::Answered);
        assert_eq!(r[4].unwrap().state, CallState::InCall);
        // Media: offer (2 sections from the INVITE) + answer (2 from the 200 OK).
        assert_eq!(r[0].unwrap().media_added, 2);
        assert_eq!(r[3].unwrap().media_added, 2);
        assert_eq!(c.media.len(), 4);
        let (mc, m) = t.media_at(phone()).unwrap();
        assert_eq!(mc.index, 0);
        assert_eq!(m.frame, 13);
        assert_eq!(m.from_caller, Some(false));
        assert_eq!(m.kind, "video"); // latest section for the shared port wins
        assert_eq!(c.encoding(Some(phone()), 104), Some(("iLBC", Some(8000))));
        assert_eq!(
            c.encoding(Some(caller()), 110),
            Some(("AAC-ELD", Some(16000)))
        );
        assert_eq!(c.encoding(None, 126), Some(("H264", Some(90000))));
        assert!(!t.limits().any());
    }

    #[test]
    fn revisits_are_idempotent() {
        let mut t = CallTracker::new();
        let first = run(&mut t);
        let snapshot = t.call(0).unwrap().clone();
        let second = run(&mut t); // Wireshark's later passes
        assert_eq!(first, second);
        assert_eq!(t.call(0).unwrap(), &snapshot);
        assert_eq!(t.calls().len(), 1);
        assert_eq!(t.frame(14).unwrap().role, Role::Ack);
        assert_eq!(t.frame(99), None);
    }

    #[test]
    fn streams() {
        let mut t = CallTracker::new();
        run(&mut t);
        // media after the call setup, frames 21..
        let rtp = |ssrc: u32, seq: u16| {
            let mut b = [0x80, 104, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xEE];
            b[2..4].copy_from_slice(&seq.to_be_bytes());
            b[8..12].copy_from_slice(&ssrc.to_be_bytes());
            b
        };
        let mut f = 21;
        for seq in 0..10u16 {
            let a = rtp(0xAAAA, seq);
            t.feed_rtp(f, 0, caller(), phone(), &parse_rtp(&a).unwrap());
            f += 1;
            let b = rtp(0xBBBB, 100 + seq * 2); // every other one lost
            t.feed_rtp(f, 0, phone(), caller(), &parse_rtp(&b).unwrap());
            f += 1;
        }
        t.feed_rtcp(f, 0, phone(), caller(), 0xBBBB);
        // a revisit does not count again
        let a = rtp(0xAAAA, 0);
        assert_eq!(
            t.feed_rtp(21, 0, caller(), phone(), &parse_rtp(&a).unwrap()),
            Some(0)
        );
        let counts: Vec<_> = t.stream_counts(0).collect();
        assert_eq!(
            counts,
            vec![
                (StreamDir::FromCaller, 0xAAAA, 10),
                (StreamDir::FromCallee, 0xBBBB, 10)
            ]
        );
        assert_eq!(t.stream(1).unwrap().seq_jumps, 9);
        assert_eq!(t.stream(0).unwrap().seq_jumps, 0);
        assert_eq!(t.stream(2).unwrap().key.kind, StreamKind::Rtcp);
        // unknown endpoints
        let (c, d) = t.match_media(ep([1, 1, 1, 1], 1), ep([2, 2, 2, 2], 2));
        assert_eq!((c, d), (None, StreamDir::Unknown));
    }

    #[test]
    fn rejected_cancelled_and_midcall() {
        let mut t = CallTracker::new();
        let inv = parse_sip(INVITE).unwrap();
        t.feed_sip(1, 0, None, None, &inv);
        let busy = resp("486 Busy Here", "1 INVITE", "");
        t.feed_sip(2, 5, None, None, &parse_sip(&busy).unwrap());
        let c = t.call(0).unwrap();
        assert_eq!(c.state, CallState::Rejected(486));
        assert_eq!(c.setup_time_ns(), None);
        assert_eq!(c.duration_ns(), None);

        let mut t = CallTracker::new();
        t.feed_sip(1, 0, None, None, &inv);
        t.feed_sip(
            2,
            1,
            None,
            None,
            &parse_sip(&req("CANCEL", 1, false)).unwrap(),
        );
        assert_eq!(t.call(0).unwrap().state, CallState::Cancelled);
        t.feed_sip(
            3,
            2,
            None,
            None,
            &parse_sip(&resp("487 Request Terminated", "1 INVITE", "")).unwrap(),
        );
        assert_eq!(t.call(0).unwrap().state, CallState::Cancelled);

        // capture starting mid-call: BYE only
        let mut t = CallTracker::new();
        let i = t
            .feed_sip(
                5,
                100,
                None,
                None,
                &parse_sip(&req("BYE", 3, true)).unwrap(),
            )
            .unwrap();
        assert_eq!(i.role, Role::Bye);
        let c = t.call(0).unwrap();
        assert_eq!(c.state, CallState::Ended);
        assert_eq!(c.duration_ns(), None);
        assert_eq!(c.caller, None);
        // no Call-ID: ignored
        let m = parse_sip(b"OPTIONS sip:a SIP/2.0\r\n\r\n").unwrap();
        assert_eq!(t.feed_sip(6, 0, None, None, &m), None);
        // time going backwards does not underflow
        let mut t = CallTracker::new();
        t.feed_sip(1, 1000, None, None, &inv);
        t.feed_sip(
            2,
            10,
            None,
            None,
            &parse_sip(&resp("200 OK", "1 INVITE", "")).unwrap(),
        );
        t.feed_sip(3, 5, None, None, &parse_sip(&req("ACK", 1, false)).unwrap());
        assert_eq!(t.call(0).unwrap().setup_time_ns(), None);
    }

    #[test]
    fn caps() {
        let mut t = CallTracker::new();
        let mut buf = Vec::new();
        for i in 0..(MAX_CALLS as u32 + 5) {
            buf.clear();
            buf.extend_from_slice(
                format!("MESSAGE sip:a SIP/2.0\r\nCall-ID: c{i}\r\nCSeq: 1 MESSAGE\r\n\r\n")
                    .as_bytes(),
            );
            let m = parse_sip(&buf).unwrap();
            t.feed_sip(i + 1, 0, None, None, &m);
        }
        assert_eq!(t.calls().len(), MAX_CALLS);
        assert!(t.limits().calls);
        // a very long Call-ID is cut, flagged
        let long = format!(
            "MESSAGE sip:a SIP/2.0\r\nCall-ID: {}\r\n\r\n",
            "x".repeat(5000)
        );
        let mut t = CallTracker::new();
        t.feed_sip(1, 0, None, None, &parse_sip(long.as_bytes()).unwrap());
        assert_eq!(t.call(0).unwrap().call_id.len(), MAX_TEXT);
        assert!(t.limits().text);
    }
}

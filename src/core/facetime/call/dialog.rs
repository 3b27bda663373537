//! The SIP side of call tracking: one [`Call`] per Call-ID, fed each SIP message in
//! capture order. A message is read once (`Msg`, `Parties`), then applied to its call in
//! named steps: the first INVITE names the parties, the sender is worked out, a repeated
//! transaction is a retransmission, the request or response moves the call's state, and
//! its SDP adds the media endpoints the streams are matched against.

use super::{
    CallState, CallTracker, Endpoint, FrameInfo, Limits, Role, MAX_CALLS, MAX_MEDIA_PER_CALL,
    MAX_PAYLOAD_TYPES, MAX_SIP_FRAMES, MAX_TRANSACTIONS,
};
use crate::core::facetime::sdp::{self, Sdp};
use crate::core::facetime::sip::{Method, SipMessage};
use std::net::IpAddr;

/// A payload type's encoding from an rtpmap (or the static table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadMap {
    /// RTP payload type number.
    pub payload_type: u8,
    /// Encoding name (`iLBC`, `H264` …), if known.
    pub encoding: Option<String>,
    /// Clock rate in Hz, if known.
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
    /// Transport protocol (`RTP/AVP` …).
    pub proto: String,
    /// The receive address (media-level c= else session c=); `None` for FQDNs.
    pub addr: Option<IpAddr>,
    /// The receive port.
    pub port: u16,
    /// `a=rtcp-mux`: RTCP on the RTP port.
    pub rtcp_mux: bool,
    /// `a=rtcp:` port, if given.
    pub rtcp_port: Option<u16>,
    /// Payload types offered, in the m= line's order (at most [`super::MAX_PAYLOAD_TYPES`]).
    pub payload_types: Vec<PayloadMap>,
}

impl MediaEndpoint {
    /// The receive endpoint, when the address is an IP address.
    pub fn endpoint(&self) -> Option<Endpoint> {
        self.addr.map(|a| Endpoint::new(a, self.port))
    }
    /// The encoding and clock rate of payload type `pt` in this section.
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
    /// Stable call index (order of first appearance, from 0).
    pub index: u32,
    /// The Call-ID (cut to [`super::MAX_TEXT`]).
    pub call_id: String,
    /// From URI of the INVITE.
    pub caller: Option<String>,
    /// To URI of the INVITE.
    pub callee: Option<String>,
    /// From tag of the INVITE.
    pub caller_tag: Option<String>,
    /// To tag of the first response that carried one.
    pub callee_tag: Option<String>,
    /// Signalling endpoints: the INVITE's source and destination.
    pub caller_signalling: Option<Endpoint>,
    /// The INVITE's destination.
    pub callee_signalling: Option<Endpoint>,
    /// First SIP frame of the call.
    pub first_frame: u32,
    /// Time of the first SIP frame.
    pub first_time_ns: u64,
    /// Last SIP frame of the call.
    pub last_frame: u32,
    /// Time of the last SIP frame.
    pub last_time_ns: u64,
    /// Frame of the initial INVITE.
    pub invite_frame: Option<u32>,
    /// Time of the initial INVITE.
    pub invite_time_ns: Option<u64>,
    invite_cseq: Option<u32>,
    /// First 180/183 to the initial INVITE.
    pub ringing_frame: Option<u32>,
    /// Time of that 180/183.
    pub ringing_time_ns: Option<u64>,
    /// Status of the first final response to the initial INVITE.
    pub final_status: Option<u16>,
    /// Frame of that final response.
    pub final_frame: Option<u32>,
    /// Time of that final response.
    pub final_time_ns: Option<u64>,
    /// ACK of the initial INVITE.
    pub ack_frame: Option<u32>,
    /// Time of that ACK.
    pub ack_time_ns: Option<u64>,
    /// First CANCEL.
    pub cancel_frame: Option<u32>,
    /// First BYE.
    pub bye_frame: Option<u32>,
    /// Time of that BYE.
    pub bye_time_ns: Option<u64>,
    /// The BYE came from the caller (when known).
    pub bye_from_caller: Option<bool>,
    /// re-INVITEs (retransmissions not counted).
    pub reinvite_count: u32,
    /// MESSAGE requests (retransmissions not counted).
    pub message_count: u32,
    /// SIP frames of this call.
    pub sip_frames: u32,
    /// Where the call stands.
    pub state: CallState,
    /// Media sections learnt from the call's SDP, in order.
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
    /// The final response was 2xx.
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

/// What [`CallTracker`]'s SIP step reads of one message.
struct Msg<'m> {
    frame: u32,
    time_ns: u64,
    is_request: bool,
    method: Option<Method<'m>>,
    /// The status code of a response, 0 for a request.
    status: u16,
    cseq: Option<u32>,
}

impl<'m> Msg<'m> {
    fn of(msg: &SipMessage<'m>, frame: u32, time_ns: u64) -> Self {
        Msg {
            frame,
            time_ns,
            is_request: msg.is_request(),
            method: msg.method(),
            status: msg.status().unwrap_or(0),
            cseq: msg.headers.cseq.map(|c| c.number.value),
        }
    }
}

/// The From / To URIs and tags of one message (cut to [`super::MAX_TEXT`]).
struct Parties {
    from_uri: Option<String>,
    to_uri: Option<String>,
    from_tag: Option<String>,
    to_tag: Option<String>,
}

/// The steps of one SIP message on its call.
impl Call {
    /// The first INVITE names the caller and callee and their signalling endpoints.
    fn set_parties(&mut self, p: &Parties, src: Option<Endpoint>, dst: Option<Endpoint>) {
        self.caller = p.from_uri.clone();
        self.callee = p.to_uri.clone();
        self.caller_tag = p.from_tag.clone();
        self.caller_signalling = src;
        self.callee_signalling = dst;
    }

    /// Who sent this message (Some(true): the caller)? Requests carry the sender's tag in
    /// From; responses copy the request's From, so a response whose From is the caller's was
    /// sent by the callee. Without tags or URIs to compare: the signalling endpoints.
    fn sender(&self, m: &Msg<'_>, p: &Parties, src: Option<Endpoint>) -> Option<bool> {
        let from_is_caller = match (&self.caller_tag, &p.from_tag, &self.caller, &p.from_uri) {
            (Some(ct), Some(ft), _, _) => Some(ct == ft),
            (_, _, Some(cu), Some(fu)) => Some(cu == fu),
            _ => None,
        };
        match from_is_caller {
            Some(fc) => Some(if m.is_request { fc } else { !fc }),
            None => match (src, self.caller_signalling, self.callee_signalling) {
                (Some(s), Some(c), _) if s == c => Some(true),
                (Some(s), _, Some(c)) if s == c => Some(false),
                _ => None,
            },
        }
    }

    /// Retransmission: same (CSeq, method, status, sender) already seen. A new transaction
    /// is remembered (up to [`MAX_TRANSACTIONS`]; past it `limits.transactions` is set).
    fn note_transaction(
        &mut self,
        m: &Msg<'_>,
        from_caller: Option<bool>,
        limits: &mut Limits,
    ) -> bool {
        let tx = TxKey {
            cseq: m.cseq.unwrap_or(0),
            method: m.method.map_or(u8::MAX, method_code),
            status: m.status,
            from_caller,
        };
        let retransmission = self.seen.contains(&tx);
        if !retransmission {
            if self.seen.len() < MAX_TRANSACTIONS {
                self.seen.push(tx);
            } else {
                limits.transactions = true;
            }
        }
        retransmission
    }

    /// A request: its role, and what it does to the call (INVITE, ACK, CANCEL, MESSAGE,
    /// BYE; retransmissions count once).
    fn on_request(
        &mut self,
        m: &Msg<'_>,
        fresh_invite: bool,
        retransmission: bool,
        from_caller: Option<bool>,
    ) -> Role {
        let (frame, time_ns, cseq) = (m.frame, m.time_ns, m.cseq);
        match m.method {
            Some(Method::Invite) => {
                if fresh_invite {
                    self.invite_frame = Some(frame);
                    self.invite_time_ns = Some(time_ns);
                    self.invite_cseq = cseq;
                    self.state = CallState::Calling;
                    Role::Invite
                } else if self.invite_cseq == cseq {
                    Role::Invite
                } else {
                    if !retransmission {
                        self.reinvite_count = self.reinvite_count.saturating_add(1);
                    }
                    Role::ReInvite
                }
            }
            Some(Method::Ack) => {
                if !retransmission
                    && self.ack_frame.is_none()
                    && self.invite_cseq.is_some()
                    && self.invite_cseq == cseq
                {
                    self.ack_frame = Some(frame);
                    self.ack_time_ns = Some(time_ns);
                    if self.answered() && self.state == CallState::Answered {
                        self.state = CallState::InCall;
                    }
                }
                Role::Ack
            }
            Some(Method::Cancel) => {
                if self.cancel_frame.is_none() {
                    self.cancel_frame = Some(frame);
                }
                if self.final_status.is_none() && self.invite_frame.is_some() {
                    self.state = CallState::Cancelled;
                }
                Role::Cancel
            }
            Some(Method::Message) => {
                if !retransmission {
                    self.message_count = self.message_count.saturating_add(1);
                }
                Role::Message
            }
            Some(Method::Bye) => {
                if !retransmission && self.bye_frame.is_none() {
                    self.bye_frame = Some(frame);
                    self.bye_time_ns = Some(time_ns);
                    self.bye_from_caller = from_caller;
                    self.state = CallState::Ended;
                }
                Role::Bye
            }
            _ => Role::OtherRequest,
        }
    }

    /// A response: its role; responses to the initial INVITE set the callee's tag, ringing,
    /// and the final status with the state it brings.
    fn on_response(&mut self, m: &Msg<'_>, p: &Parties) -> Role {
        let (frame, time_ns, cseq, status) = (m.frame, m.time_ns, m.cseq, m.status);
        if m.method != Some(Method::Invite) {
            return Role::OtherResponse(status);
        }
        let initial = self.invite_cseq.is_none() || self.invite_cseq == cseq;
        if self.callee_tag.is_none() && status > 100 {
            self.callee_tag = p.to_tag.clone();
        }
        if status < 200 {
            if initial && matches!(status, 180 | 183) && self.ringing_frame.is_none() {
                self.ringing_frame = Some(frame);
                self.ringing_time_ns = Some(time_ns);
                if self.state == CallState::Calling {
                    self.state = CallState::Ringing;
                }
            }
            Role::Provisional(status)
        } else {
            if initial && self.final_status.is_none() {
                self.final_status = Some(status);
                self.final_frame = Some(frame);
                self.final_time_ns = Some(time_ns);
                if self.state != CallState::Ended {
                    self.state = match status {
                        200..=299 => CallState::Answered,
                        487 => CallState::Cancelled,
                        s => {
                            if self.cancel_frame.is_some() {
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
}

impl CallTracker {
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

    /// Apply one SIP message to call `idx`: who sent it, whether it repeats a transaction,
    /// what it is to the dialog (and the state change that brings), and the media its SDP
    /// offers or answers.
    fn update_call(
        &mut self,
        idx: u32,
        frame: u32,
        time_ns: u64,
        src: Option<Endpoint>,
        dst: Option<Endpoint>,
        msg: &SipMessage<'_>,
    ) -> FrameInfo {
        let m = Msg::of(msg, frame, time_ns);
        // Texts first (they may set the `text` limit flag).
        let parties = self.parties(msg);

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
            m.is_request && m.method == Some(Method::Invite) && call.invite_frame.is_none();
        if fresh_invite {
            call.set_parties(&parties, src, dst);
        }
        let from_caller = call.sender(&m, &parties, src);
        let retransmission = call.note_transaction(&m, from_caller, &mut self.limits);
        let role = if m.is_request {
            call.on_request(&m, fresh_invite, retransmission, from_caller)
        } else {
            call.on_response(&m, &parties)
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

    /// The From / To URIs and tags of a message, as stored texts.
    fn parties(&mut self, msg: &SipMessage<'_>) -> Parties {
        let h = msg.headers;
        Parties {
            from_uri: h.from.map(|f| self.text(f.uri.value)),
            to_uri: h.to.map(|t| self.text(t.uri.value)),
            from_tag: h.from.and_then(|f| f.tag).map(|t| self.text(t.value)),
            to_tag: h.to.and_then(|t| t.tag).map(|t| self.text(t.value)),
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
    /// Call by index.
    pub fn call(&self, index: u32) -> Option<&Call> {
        self.calls.get(index as usize)
    }
    /// Call by Call-ID.
    pub fn call_by_id(&self, call_id: &str) -> Option<&Call> {
        self.by_call_id.get(call_id).and_then(|&i| self.call(i))
    }
    /// All calls in order of appearance.
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
}

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
//!
//! Layout: this file holds the tracker and the per-frame result ([`CallTracker`],
//! [`FrameInfo`], [`Role`], [`CallState`], [`Limits`], the caps); `dialog` the SIP side
//! (calls keyed by Call-ID, transactions, the SDP media they negotiate); `stream` the media
//! side (RTP/RTCP streams and the call each belongs to); `tests` the unit tests.

mod dialog;
mod stream;

pub use dialog::{Call, MediaEndpoint, PayloadMap};
pub use stream::{Stream, StreamDir, StreamKey, StreamKind};

use rustc_hash::FxHashMap as HashMap;
use std::net::IpAddr;

/// Calls tracked in total.
pub const MAX_CALLS: usize = 4096;
/// SIP frames whose result is stored.
pub const MAX_SIP_FRAMES: usize = 1 << 20;
/// Media streams tracked in total.
pub const MAX_STREAMS: usize = 8192;
/// Media sections remembered per call.
pub const MAX_MEDIA_PER_CALL: usize = 16;
/// Payload types remembered per media section.
pub const MAX_PAYLOAD_TYPES: usize = 32;
/// Transactions remembered per call for retransmission detection.
pub const MAX_TRANSACTIONS: usize = 256;
/// Longest text (Call-ID, URI, tag, encoding) stored; longer text is cut (flagged).
pub const MAX_TEXT: usize = 256;

/// An address and UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// IP address.
    pub addr: IpAddr,
    /// UDP port.
    pub port: u16,
}

impl Endpoint {
    /// An endpoint from its address and port.
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
    /// A short name for the state (as shown in the tree and statistics).
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
    /// The initial INVITE (or a retransmission of it).
    Invite,
    /// An INVITE with another CSeq inside the dialog.
    ReInvite,
    /// 1xx to the INVITE.
    Provisional(u16),
    /// Final response to the (initial or re-) INVITE.
    FinalResponse(u16),
    /// ACK.
    Ack,
    /// CANCEL.
    Cancel,
    /// MESSAGE.
    Message,
    /// BYE.
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
    /// What the frame was to its call.
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


/// Which caps have been hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// [`MAX_CALLS`] hit.
    pub calls: bool,
    /// [`MAX_SIP_FRAMES`] hit.
    pub frames: bool,
    /// [`MAX_STREAMS`] hit.
    pub streams: bool,
    /// [`MAX_MEDIA_PER_CALL`] or [`MAX_PAYLOAD_TYPES`] hit.
    pub media: bool,
    /// [`MAX_TRANSACTIONS`] hit.
    pub transactions: bool,
    /// A text was cut at [`MAX_TEXT`].
    pub text: bool,
}

impl Limits {
    /// Any cap hit.
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

impl CallTracker {
    /// An empty tracker.
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
    /// Which caps have been hit so far.
    pub fn limits(&self) -> Limits {
        self.limits
    }
}

#[cfg(test)]
mod tests;

//! The media side of call tracking: RTP and RTCP packets counted per stream (source,
//! destination, SSRC, kind), each stream matched to its call and direction by the SDP
//! receive endpoints or the signalling endpoints, with a small cache of recent streams.

use super::{CallTracker, Endpoint, MAX_STREAMS};
use crate::core::facetime::rtp::RtpHeader;

/// RTP or RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// RTP.
    Rtp,
    /// RTCP.
    Rtcp,
}

crate::value_enum! {
    /// Direction of a media stream relative to its call.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum StreamDir: u8 {
        /// Sent by the caller.
        FromCaller = 0 => "caller to callee";
        /// Sent by the callee.
        FromCallee = 1 => "callee to caller";
        /// Not known.
        Unknown = 2 => "unknown";
    }
}

/// A stream: one (source, destination, SSRC, RTP/RTCP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamKey {
    /// Source endpoint.
    pub src: Endpoint,
    /// Destination endpoint.
    pub dst: Endpoint,
    /// SSRC (RTCP: the first packet's sender SSRC).
    pub ssrc: u32,
    /// RTP or RTCP.
    pub kind: StreamKind,
}

/// Packet accounting for one stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// Stable stream index (order of first appearance, from 0).
    pub index: u32,
    /// What identifies the stream.
    pub key: StreamKey,
    /// The call it belongs to, as matched when first seen.
    pub call: Option<u32>,
    /// Its direction in that call.
    pub direction: StreamDir,
    /// Packets counted.
    pub packets: u64,
    /// First frame of the stream.
    pub first_frame: u32,
    /// Last frame of the stream.
    pub last_frame: u32,
    /// Time of the first frame.
    pub first_time_ns: u64,
    /// Time of the last frame.
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

const RECENT_SLOTS: usize = 256;

fn recent_slot(k: &StreamKey) -> usize {
    let ports = (u32::from(k.src.port) << 16) | u32::from(k.dst.port);
    let h = (k.ssrc ^ ports.rotate_left(7) ^ (k.kind as u32)).wrapping_mul(0x9E37_79B1);
    (h >> 24) as usize % RECENT_SLOTS
}

impl CallTracker {
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

    /// Stream by index.
    pub fn stream(&self, index: u32) -> Option<&Stream> {
        self.streams.get(index as usize)
    }
    /// All streams in order of appearance.
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

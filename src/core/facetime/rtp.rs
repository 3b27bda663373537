//! RTP (RFC 3550) header and RTCP compound parsing for FaceTime's shared UDP port.
//!
//! The dissector hands the payload to Wireshark's own `rtp`/`rtcp` dissectors; this core
//! exists so that classification, stream accounting and the `facetime.*` fields (notably
//! Apple's header-extension profile 0x4400) do not depend on them.
//!
//! Every length read from the packet (CSRC count, extension length, padding count, RTCP
//! length words, report counts) is checked against the bytes present before use.

use crate::core::span::{Span, Spanned};
use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::IResult;
use smallvec::SmallVec;

/// Fixed RTP header length (without CSRCs).
pub const RTP_FIXED_LEN: usize = 12;
/// Apple's header-extension profile seen in FaceTime media (protocol notes §3).
pub const EXT_PROFILE_APPLE: u16 = 0x4400;
/// RFC 8285 one-byte header extension profile.
pub const EXT_PROFILE_ONE_BYTE: u16 = 0xBEDE;
/// RFC 8285 two-byte header extension profiles are 0x1000..=0x100F ("appbits" in the low nibble).
pub const EXT_PROFILE_TWO_BYTE_MASK: u16 = 0xFFF0;
pub const EXT_PROFILE_TWO_BYTE: u16 = 0x1000;

/// Upper bound on RTCP packets walked in one compound datagram (a UDP payload of 64 KiB
/// holds at most 16 Ki four-byte packets; real compounds hold 2–5).
pub const MAX_RTCP_PACKETS: usize = 64;
/// Upper bound on SDES items returned per compound packet.
pub const MAX_SDES_ITEMS: usize = 32;

/// What kind of header extension profile an RTP packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtKind {
    /// 0x4400, FaceTime's own (layout not public: shown as data).
    Apple,
    /// 0xBEDE, RFC 8285 one-byte elements.
    OneByte,
    /// 0x100X, RFC 8285 two-byte elements; the low nibble is the "appbits".
    TwoByte { appbits: u8 },
    /// Anything else (profile-specific, RFC 3550 §5.3.1).
    Other,
}

impl ExtKind {
    pub fn of(profile: u16) -> Self {
        match profile {
            EXT_PROFILE_APPLE => ExtKind::Apple,
            EXT_PROFILE_ONE_BYTE => ExtKind::OneByte,
            p if p & EXT_PROFILE_TWO_BYTE_MASK == EXT_PROFILE_TWO_BYTE => ExtKind::TwoByte {
                appbits: (p & 0x000F) as u8,
            },
            _ => ExtKind::Other,
        }
    }
    pub fn name(&self) -> &'static str {
        match self {
            ExtKind::Apple => "Apple (0x4400)",
            ExtKind::OneByte => "RFC 8285 one-byte",
            ExtKind::TwoByte { .. } => "RFC 8285 two-byte",
            ExtKind::Other => "profile-specific",
        }
    }
}

/// An RTP header extension (RFC 3550 §5.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    pub profile: Spanned<u16>,
    pub kind: ExtKind,
    /// The length field: extension data length in 32-bit words.
    pub length_words: Spanned<u16>,
    pub data: Spanned<&'a [u8]>,
}

/// One RFC 8285 extension element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtElement<'a> {
    pub id: u8,
    pub data: Spanned<&'a [u8]>,
}

impl<'a> Extension<'a> {
    /// RFC 8285 elements (one- or two-byte form); empty for other profiles. Stops at the
    /// first element that does not fit (a malformed extension yields a prefix).
    pub fn elements(&self) -> ExtElements<'a> {
        let two_byte = match self.kind {
            ExtKind::OneByte => Some(false),
            ExtKind::TwoByte { .. } => Some(true),
            _ => None,
        };
        ExtElements {
            data: self.data.value,
            base: self.data.span.offset,
            pos: 0,
            two_byte,
        }
    }
}

/// Iterator over RFC 8285 elements; bounded by the extension's bytes.
#[derive(Debug, Clone)]
pub struct ExtElements<'a> {
    data: &'a [u8],
    base: usize,
    pos: usize,
    two_byte: Option<bool>,
}

impl<'a> Iterator for ExtElements<'a> {
    type Item = ExtElement<'a>;
    fn next(&mut self) -> Option<ExtElement<'a>> {
        let two = self.two_byte?;
        loop {
            let b = *self.data.get(self.pos)?;
            if b == 0 {
                // padding byte
                self.pos += 1;
                continue;
            }
            let (id, len, hdr) = if two {
                let l = *self.data.get(self.pos + 1)?;
                (b, l as usize, 2)
            } else {
                let id = b >> 4;
                if id == 15 {
                    // reserved: stop processing (RFC 8285 §4.2)
                    self.two_byte = None;
                    return None;
                }
                (id, (b & 0x0F) as usize + 1, 1)
            };
            let start = self.pos + hdr;
            let end = start.checked_add(len)?;
            let Some(d) = self.data.get(start..end) else {
                self.two_byte = None;
                return None;
            };
            self.pos = end;
            return Some(ExtElement {
                id,
                data: Spanned::new(d, self.base + start, len),
            });
        }
    }
}

/// A parsed RTP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader<'a> {
    pub version: u8,
    pub padding: bool,
    pub extension_bit: bool,
    pub csrc_count: u8,
    pub marker: bool,
    pub payload_type: u8,
    pub seq: Spanned<u16>,
    pub timestamp: Spanned<u32>,
    pub ssrc: Spanned<u32>,
    /// The CSRC list bytes (4 × `csrc_count`); iterate with [`RtpHeader::csrcs`].
    pub csrc_bytes: Spanned<&'a [u8]>,
    pub ext: Option<Extension<'a>>,
    /// The payload, after header, CSRCs and extension, without padding.
    pub payload: Spanned<&'a [u8]>,
    /// The padding count (last byte) when P is set; the padding includes that byte.
    pub padding_len: Option<Spanned<u8>>,
}

impl<'a> RtpHeader<'a> {
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc_bytes
            .value
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }
    /// Header length including CSRCs and extension.
    pub fn header_len(&self) -> usize {
        self.payload.span.offset
    }
}

/// Why bytes are not a valid RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtpError {
    /// Fewer than the 12 fixed bytes.
    TooShort,
    /// Version field is not 2.
    Version(u8),
    /// CSRC list does not fit.
    CsrcOverrun,
    /// Extension header or data does not fit.
    ExtensionOverrun,
    /// Padding count is zero or larger than what follows the header.
    BadPadding(u8),
}

fn fixed(i: &[u8]) -> IResult<&[u8], (u8, u8, u16, u32, u32)> {
    let (i, b0) = be_u8(i)?;
    let (i, b1) = be_u8(i)?;
    let (i, seq) = be_u16(i)?;
    let (i, ts) = be_u32(i)?;
    let (i, ssrc) = be_u32(i)?;
    Ok((i, (b0, b1, seq, ts, ssrc)))
}

/// Parses an RTP packet (header, CSRCs, extension, padding). Strict: every declared length
/// must fit in `p`.
pub fn parse_rtp(p: &[u8]) -> Result<RtpHeader<'_>, RtpError> {
    let (_, (b0, b1, seq, ts, ssrc)) = fixed(p).map_err(|_| RtpError::TooShort)?;
    let version = b0 >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    let padding = b0 & 0x20 != 0;
    let extension_bit = b0 & 0x10 != 0;
    let csrc_count = b0 & 0x0F;
    let mut pos = RTP_FIXED_LEN;
    let csrc_len = csrc_count as usize * 4;
    let csrc = p.get(pos..pos + csrc_len).ok_or(RtpError::CsrcOverrun)?;
    let csrc_bytes = Spanned::new(csrc, pos, csrc_len);
    pos += csrc_len;
    let ext = if extension_bit {
        let h = p.get(pos..pos + 4).ok_or(RtpError::ExtensionOverrun)?;
        let profile = u16::from_be_bytes([h[0], h[1]]);
        let words = u16::from_be_bytes([h[2], h[3]]);
        let dlen = words as usize * 4;
        let data = p
            .get(pos + 4..pos + 4 + dlen)
            .ok_or(RtpError::ExtensionOverrun)?;
        let e = Extension {
            profile: Spanned::new(profile, pos, 2),
            kind: ExtKind::of(profile),
            length_words: Spanned::new(words, pos + 2, 2),
            data: Spanned::new(data, pos + 4, dlen),
        };
        pos += 4 + dlen;
        Some(e)
    } else {
        None
    };
    let mut end = p.len();
    let padding_len = if padding {
        // `p.len() >= 12` here, so `last` exists.
        let n = *p.last().ok_or(RtpError::TooShort)?;
        if n == 0 || n as usize > p.len() - pos {
            return Err(RtpError::BadPadding(n));
        }
        end -= n as usize;
        Some(Spanned::new(n, p.len() - 1, 1))
    } else {
        None
    };
    let payload = p.get(pos..end).unwrap_or(&[]);
    Ok(RtpHeader {
        version,
        padding,
        extension_bit,
        csrc_count,
        marker: b1 & 0x80 != 0,
        payload_type: b1 & 0x7F,
        seq: Spanned::new(seq, 2, 2),
        timestamp: Spanned::new(ts, 4, 4),
        ssrc: Spanned::new(ssrc, 8, 4),
        csrc_bytes,
        ext,
        payload: Spanned::new(payload, pos, end - pos),
        padding_len,
    })
}

/// RTCP packet types (RFC 3550, 4585, 3611, 5760 …) as an open enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpType {
    Sr,
    Rr,
    Sdes,
    Bye,
    App,
    RtpFb,
    PsFb,
    Xr,
    Other(u8),
}

impl RtcpType {
    pub fn from_u8(v: u8) -> Self {
        match v {
            200 => RtcpType::Sr,
            201 => RtcpType::Rr,
            202 => RtcpType::Sdes,
            203 => RtcpType::Bye,
            204 => RtcpType::App,
            205 => RtcpType::RtpFb,
            206 => RtcpType::PsFb,
            207 => RtcpType::Xr,
            o => RtcpType::Other(o),
        }
    }
    pub fn code(&self) -> u8 {
        match self {
            RtcpType::Sr => 200,
            RtcpType::Rr => 201,
            RtcpType::Sdes => 202,
            RtcpType::Bye => 203,
            RtcpType::App => 204,
            RtcpType::RtpFb => 205,
            RtcpType::PsFb => 206,
            RtcpType::Xr => 207,
            RtcpType::Other(o) => *o,
        }
    }
}

/// SR sender info (RFC 3550 §6.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    pub ntp_msw: u32,
    pub ntp_lsw: u32,
    pub rtp_timestamp: u32,
    pub packet_count: u32,
    pub octet_count: u32,
    pub span: Span,
}

/// One SDES item (RFC 3550 §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SdesItem<'a> {
    pub ssrc: u32,
    /// 1 CNAME, 2 NAME, 3 EMAIL, 4 PHONE, 5 LOC, 6 TOOL, 7 NOTE, 8 PRIV.
    pub item_type: u8,
    pub text: Spanned<&'a [u8]>,
}

/// One packet inside an RTCP compound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket<'a> {
    pub padding: bool,
    /// RC / SC / FMT / subtype (the low five bits of the first byte).
    pub count: u8,
    pub packet_type: RtcpType,
    /// The length field: the packet length in 32-bit words minus one.
    pub length_words: u16,
    /// The whole packet.
    pub bytes: Spanned<&'a [u8]>,
    /// The first SSRC/CSRC word when present (sender SSRC for SR/RR/APP/FB, first chunk for SDES/BYE).
    pub ssrc: Option<u32>,
    pub sender_info: Option<SenderInfo>,
    /// APP packet's four-character name.
    pub app_name: Option<Spanned<&'a [u8]>>,
}

/// Anomalies found in a compound that is still RTCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpAnomaly {
    /// RFC 3550 §6.1: the first packet of a compound must be SR or RR.
    FirstNotReport,
    /// Padding bit set on a packet that is not the last.
    PaddingNotLast,
    /// Report/source count does not fit the packet length.
    CountOverrun,
    /// More than [`MAX_RTCP_PACKETS`] packets: the rest was not walked.
    TooManyPackets,
    /// Bytes after the last packet (SRTCP index and authentication tag, or junk).
    Trailer,
}

/// A walked RTCP compound datagram. Its lists are inline (a compound is usually SR or RR
/// plus SDES, one CNAME): the common case allocates nothing, longer ones spill to the heap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcpCompound<'a> {
    pub packets: SmallVec<[RtcpPacket<'a>; 4]>,
    pub sdes: SmallVec<[SdesItem<'a>; 4]>,
    /// Bytes after the last whole packet (SRTCP trailer or junk), if any.
    pub trailer: Option<Span>,
    pub anomalies: SmallVec<[RtcpAnomaly; 2]>,
}

/// Why bytes are not RTCP at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RtcpError {
    TooShort,
    Version(u8),
    /// Second byte outside 192–223 (RFC 5761 §4).
    PacketType(u8),
    /// The first packet's length runs past the datagram.
    LengthOverrun,
}

/// The outcome of the allocation-free walk used by the classifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpWalk {
    /// Packets that fit completely.
    pub packets: usize,
    /// Bytes covered by those packets.
    pub covered: usize,
    /// Type of the first packet.
    pub first_type: u8,
}

impl RtcpWalk {
    pub fn exact(&self, len: usize) -> bool {
        self.covered == len
    }
}

/// Reads one RTCP common header at `pos`; returns (type, total length) if it is version 2,
/// has a type in 192–223 and fits. `strict` also requires SR/RR/BYE/APP packets to be long
/// enough for their fixed part and their report/source count (used by the classifier).
fn rtcp_header_at(p: &[u8], pos: usize, strict: bool) -> Option<(u8, usize)> {
    let h = p.get(pos..pos.checked_add(4)?)?;
    if h[0] >> 6 != 2 || !(192..=223).contains(&h[1]) {
        return None;
    }
    let total = (u16::from_be_bytes([h[2], h[3]]) as usize + 1) * 4;
    if total > p.len() - pos {
        return None;
    }
    if strict {
        let count = (h[0] & 0x1F) as usize;
        let min = match h[1] {
            200 => 28 + count * 24,
            201 => 8 + count * 24,
            203 => 4 + count * 4,
            204 => 12,
            _ => 4,
        };
        if total < min {
            return None;
        }
    }
    Some((h[1], total))
}

/// Walks an RTCP compound without allocating. Returns `None` unless at least the first
/// packet is well-formed (strictly: SR/RR/BYE/APP long enough for their counts); the walk stops at the first packet that is not (see
/// [`RtcpWalk::exact`]). Iterations are bounded by `p.len() / 4`.
pub fn walk_rtcp(p: &[u8]) -> Option<RtcpWalk> {
    let (first_type, first_len) = rtcp_header_at(p, 0, true)?;
    let mut pos = first_len;
    let mut packets = 1;
    while pos < p.len() {
        match rtcp_header_at(p, pos, true) {
            Some((_, l)) => {
                pos += l;
                packets += 1;
            }
            None => break,
        }
    }
    Some(RtcpWalk {
        packets,
        covered: pos,
        first_type,
    })
}

fn be32_at(p: &[u8], at: usize) -> Option<u32> {
    let b = p.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Parses an RTCP compound: every packet header, SR sender info, first SSRCs, APP names and
/// SDES items (bounded). Fails only when the first packet is not RTCP.
pub fn parse_rtcp(p: &[u8]) -> Result<RtcpCompound<'_>, RtcpError> {
    if p.len() < 4 {
        return Err(RtcpError::TooShort);
    }
    if p[0] >> 6 != 2 {
        return Err(RtcpError::Version(p[0] >> 6));
    }
    if !(192..=223).contains(&p[1]) {
        return Err(RtcpError::PacketType(p[1]));
    }
    if rtcp_header_at(p, 0, false).is_none() {
        return Err(RtcpError::LengthOverrun);
    }
    let mut out = RtcpCompound { packets: SmallVec::new(), sdes: SmallVec::new(), trailer: None, anomalies: SmallVec::new() };
    let note = |v: &mut SmallVec<[RtcpAnomaly; 2]>, a| {
        if !v.contains(&a) {
            v.push(a)
        }
    };
    let mut pos = 0usize;
    while pos < p.len() {
        if out.packets.len() >= MAX_RTCP_PACKETS {
            note(&mut out.anomalies, RtcpAnomaly::TooManyPackets);
            break;
        }
        let Some((pt, total)) = rtcp_header_at(p, pos, false) else {
            break;
        };
        let bytes = &p[pos..pos + total];
        let count = bytes[0] & 0x1F;
        let padding = bytes[0] & 0x20 != 0;
        let packet_type = RtcpType::from_u8(pt);
        let ssrc = be32_at(bytes, 4);
        let mut sender_info = None;
        let mut app_name = None;
        let n = count as usize;
        let overrun = match packet_type {
            RtcpType::Sr => {
                if let (Some(a), Some(b), Some(c), Some(d), Some(e)) = (
                    be32_at(bytes, 8),
                    be32_at(bytes, 12),
                    be32_at(bytes, 16),
                    be32_at(bytes, 20),
                    be32_at(bytes, 24),
                ) {
                    sender_info = Some(SenderInfo {
                        ntp_msw: a,
                        ntp_lsw: b,
                        rtp_timestamp: c,
                        packet_count: d,
                        octet_count: e,
                        span: Span::new(pos + 8, 20),
                    });
                }
                28 + n * 24 > total
            }
            RtcpType::Rr => 8 + n * 24 > total,
            RtcpType::Bye => 4 + n * 4 > total,
            RtcpType::App => {
                app_name = bytes.get(8..12).map(|nm| Spanned::new(nm, pos + 8, 4));
                total < 12
            }
            RtcpType::Sdes => !sdes_items(bytes, pos, count, &mut out.sdes),
            _ => false,
        };
        if overrun {
            note(&mut out.anomalies, RtcpAnomaly::CountOverrun);
        }
        if out.packets.is_empty() && !matches!(packet_type, RtcpType::Sr | RtcpType::Rr) {
            note(&mut out.anomalies, RtcpAnomaly::FirstNotReport);
        }
        if let Some(prev) = out.packets.last() {
            if prev.padding {
                note(&mut out.anomalies, RtcpAnomaly::PaddingNotLast);
            }
        }
        out.packets.push(RtcpPacket {
            padding,
            count,
            packet_type,
            length_words: (total / 4 - 1) as u16,
            bytes: Spanned::new(bytes, pos, total),
            ssrc,
            sender_info,
            app_name,
        });
        pos += total;
    }
    if pos < p.len() && !out.anomalies.contains(&RtcpAnomaly::TooManyPackets) {
        out.trailer = Some(Span::new(pos, p.len() - pos));
        note(&mut out.anomalies, RtcpAnomaly::Trailer);
    }
    Ok(out)
}

/// Walks the SDES chunks of one packet (`pkt`, starting at `base` in the datagram), pushing
/// items into `out` up to [`MAX_SDES_ITEMS`]. Returns false when a chunk overruns.
fn sdes_items<'a>(pkt: &'a [u8], base: usize, chunks: u8, out: &mut SmallVec<[SdesItem<'a>; 4]>) -> bool {
    let mut pos = 4usize;
    for _ in 0..chunks {
        let Some(ssrc) = be32_at(pkt, pos) else {
            return false;
        };
        pos += 4;
        loop {
            let Some(&ty) = pkt.get(pos) else {
                return false;
            };
            if ty == 0 {
                // end of chunk: skip the null and pad to the next 32-bit boundary
                pos += 1;
                pos = (pos + 3) & !3;
                break;
            }
            let Some(&len) = pkt.get(pos + 1) else {
                return false;
            };
            let start = pos + 2;
            let Some(text) = pkt.get(start..start + len as usize) else {
                return false;
            };
            if out.len() < MAX_SDES_ITEMS {
                out.push(SdesItem {
                    ssrc,
                    item_type: ty,
                    text: Spanned::new(text, base + start, len as usize),
                });
            }
            pos = start + len as usize;
        }
        if pos > pkt.len() {
            return false;
        }
    }
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    // RTP v2, X=1, CC=0, M=1 PT=104, seq 0x1234, ts 0x00010203, SSRC 0xdeadbeef,
    // extension profile 0x4400 with 1 word, then 3 payload bytes.
    const RTP_APPLE: [u8; 23] = [
        0x90, 0xE8, 0x12, 0x34, 0x00, 0x01, 0x02, 0x03, 0xde, 0xad, 0xbe, 0xef, // fixed
        0x44, 0x00, 0x00, 0x01, // ext profile, 1 word
        0x01, 0x02, 0x03, 0x04, // ext data
        0xAA, 0xBB, 0xCC, // payload
    ];

    #[test]
    fn rtp_apple_extension() {
        let h = parse_rtp(&RTP_APPLE).unwrap();
        assert_eq!(h.version, 2);
        assert!(h.marker);
        assert_eq!(h.payload_type, 104);
        assert_eq!(h.seq.value, 0x1234);
        assert_eq!(h.timestamp.value, 0x00010203);
        assert_eq!(h.ssrc.value, 0xdeadbeef);
        let e = h.ext.unwrap();
        assert_eq!(e.kind, ExtKind::Apple);
        assert_eq!(e.profile, Spanned::new(0x4400, 12, 2));
        assert_eq!(e.data.value, &[1, 2, 3, 4]);
        assert_eq!(e.data.span, Span::new(16, 4));
        assert_eq!(e.elements().count(), 0);
        assert_eq!(h.payload.value, &[0xAA, 0xBB, 0xCC]);
        assert_eq!(h.header_len(), 20);
    }

    #[test]
    fn rtp_csrc_and_padding() {
        // V2 P=1 CC=2, PT 0, two CSRCs, payload 2 bytes, padding 2 (last byte 2)
        let p = [
            0xA2, 0x00, 0, 1, 0, 0, 0, 160, 0, 0, 0, 9, // fixed
            0, 0, 0, 1, 0, 0, 0, 2, // CSRCs
            0x55, 0x66, 0x00, 0x02,
        ];
        let h = parse_rtp(&p).unwrap();
        assert_eq!(h.csrcs().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(h.payload.value, &[0x55, 0x66]);
        assert_eq!(h.padding_len.unwrap().value, 2);
        // padding count 0 and too large
        let mut q = p;
        q[23] = 0;
        assert_eq!(parse_rtp(&q), Err(RtpError::BadPadding(0)));
        q[23] = 5;
        assert_eq!(parse_rtp(&q), Err(RtpError::BadPadding(5)));
        q[23] = 4;
        assert!(parse_rtp(&q).is_ok());
    }

    #[test]
    fn rtp_lying_lengths() {
        assert_eq!(parse_rtp(&RTP_APPLE[..11]), Err(RtpError::TooShort));
        let mut p = RTP_APPLE;
        p[0] = 0x9F; // CC=15 → 60 bytes of CSRCs
        assert_eq!(parse_rtp(&p), Err(RtpError::CsrcOverrun));
        let mut p = RTP_APPLE;
        p[15] = 0x10; // 16 words of extension
        assert_eq!(parse_rtp(&p), Err(RtpError::ExtensionOverrun));
        assert_eq!(parse_rtp(&RTP_APPLE[..14]), Err(RtpError::ExtensionOverrun));
        let mut p = RTP_APPLE;
        p[0] = 0x50;
        assert_eq!(parse_rtp(&p), Err(RtpError::Version(1)));
    }

    #[test]
    fn rfc8285_elements() {
        // one-byte form: id 1 len 1 (0x10 → len field 0 = 1 byte), pad, id 2 len 2 (0x21)
        let p = [
            0x90, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0xBE, 0xDE, 0x00, 0x02, 0x10, 0xAA, 0x00,
            0x21, 0xBB, 0xCC, 0x00, 0x00,
        ];
        let h = parse_rtp(&p).unwrap();
        let e = h.ext.unwrap();
        assert_eq!(e.kind, ExtKind::OneByte);
        let els: Vec<_> = e.elements().collect();
        assert_eq!(els.len(), 2);
        assert_eq!((els[0].id, els[0].data.value), (1, &[0xAA][..]));
        assert_eq!((els[1].id, els[1].data.value), (2, &[0xBB, 0xCC][..]));
        assert_eq!(els[1].data.span, Span::new(20, 2));
        assert_eq!(ExtKind::of(0x1003), ExtKind::TwoByte { appbits: 3 });
        // an element that claims more than is there stops the iteration
        let mut q = p;
        q[19] = 0x2F; // len 16
        assert_eq!(parse_rtp(&q).unwrap().ext.unwrap().elements().count(), 1);
    }

    /// SR (1 report block) + SDES (1 chunk with CNAME "ab"), written out from RFC 3550.
    pub(crate) const RTCP_SR_SDES: [u8; 68] = [
        // SR: V2 RC=1 PT=200 length=12 (52 bytes)
        0x81, 200, 0x00, 0x0C, 0x11, 0x22, 0x33, 0x44, // sender SSRC
        0xD0, 0x00, 0x00, 0x01, 0x80, 0x00, 0x00, 0x00, // NTP
        0x00, 0x00, 0x10, 0x00, // RTP ts
        0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x02, 0x00, // packets, octets
        // report block
        0x55, 0x66, 0x77, 0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0,
        // SDES: V2 SC=1 PT=202 length=3 (16 bytes): SSRC, CNAME len 2 "ab", null + pad
        0x81, 202, 0x00, 0x03, 0x11, 0x22, 0x33, 0x44, 0x01, 0x02, b'a', b'b', 0, 0, 0, 0,
    ];

    #[test]
    fn rtcp_sr_sdes() {
        let v = RTCP_SR_SDES;
        let c = parse_rtcp(&v).unwrap();
        assert_eq!(c.packets.len(), 2);
        assert_eq!(c.packets[0].packet_type, RtcpType::Sr);
        assert_eq!(c.packets[0].ssrc, Some(0x11223344));
        let si = c.packets[0].sender_info.unwrap();
        assert_eq!(si.packet_count, 5);
        assert_eq!(si.octet_count, 512);
        assert_eq!(c.packets[1].packet_type, RtcpType::Sdes);
        assert_eq!(c.sdes.len(), 1);
        assert_eq!(c.sdes[0].text.value, b"ab");
        assert_eq!(c.sdes[0].text.span, Span::new(62, 2));
        assert!(c.anomalies.is_empty(), "{:?}", c.anomalies);
        assert!(walk_rtcp(&v).unwrap().exact(v.len()));
    }

    #[test]
    fn rtcp_adversarial() {
        let v = RTCP_SR_SDES;
        // An SDES without room for its terminating null overruns: still RTCP, flagged.
        let mut u = v[..64].to_vec();
        u[55] = 0x02;
        let c = parse_rtcp(&u).unwrap();
        assert!(c.anomalies.contains(&RtcpAnomaly::CountOverrun));
        assert!(walk_rtcp(&u).unwrap().exact(u.len())); // the walk does not look inside SDES
                                                        // length field lies
        let mut w = v;
        w[3] = 0xFF;
        assert_eq!(parse_rtcp(&w), Err(RtcpError::LengthOverrun));
        assert!(walk_rtcp(&w).is_none());
        // trailing junk
        let mut t = v.to_vec();
        t.extend_from_slice(&[1, 2, 3]);
        let c = parse_rtcp(&t).unwrap();
        assert_eq!(c.trailer, Some(Span::new(68, 3)));
        assert!(!walk_rtcp(&t).unwrap().exact(t.len()));
        // SR count overrun
        let mut s = v;
        s[0] = 0x9F;
        assert!(parse_rtcp(&s)
            .unwrap()
            .anomalies
            .contains(&RtcpAnomaly::CountOverrun));
        assert!(walk_rtcp(&s).is_none());
        // first not a report
        let bye = [0x81, 203, 0, 1, 1, 2, 3, 4];
        let c = parse_rtcp(&bye).unwrap();
        assert!(c.anomalies.contains(&RtcpAnomaly::FirstNotReport));
        for n in 0..v.len() {
            let _ = parse_rtcp(&v[..n]);
            let _ = walk_rtcp(&v[..n]);
        }
    }
}

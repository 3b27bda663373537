//! SDP (RFC 4566/8866) bodies of FaceTime's INVITE / 200 OK: connection addresses, media
//! lines, payload types and their `rtpmap` encodings, `rtcp-mux` and the direction
//! attributes. Enough for the dissector to set up RTP conversations on the shared port.
//!
//! Bounds: at most [`MAX_LINES`] lines, [`MAX_MEDIA`] media sections, [`MAX_FORMATS`]
//! formats and [`MAX_RTPMAPS`] rtpmaps per section; anything beyond is skipped and flagged.

use crate::core::span::{Span, Spanned};
use std::net::IpAddr;
use smallvec::SmallVec;

pub const MAX_LINES: usize = 512;
pub const MAX_MEDIA: usize = 16;
pub const MAX_FORMATS: usize = 32;
pub const MAX_RTPMAPS: usize = 32;

/// `c=<nettype> <addrtype> <address>[/ttl][/count]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connection<'a> {
    pub net_type: &'a str,
    pub addr_type: &'a str,
    /// The address text (TTL/count suffix removed).
    pub address: Spanned<&'a str>,
    /// The address when it is a literal IPv4/IPv6 address (not an FQDN).
    pub ip: Option<IpAddr>,
}

/// Media direction attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

/// `a=rtpmap:<pt> <encoding>/<clock>[/<channels>]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpMap<'a> {
    pub payload_type: u8,
    pub encoding: Spanned<&'a str>,
    pub clock_rate: u32,
    pub channels: Option<u16>,
    /// The attribute value after `rtpmap:`.
    pub span: Span,
}

/// One `m=` format token; for RTP profiles a payload type number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format<'a> {
    pub text: Spanned<&'a str>,
    /// The payload type when the token is a number 0–127.
    pub payload_type: Option<u8>,
}

/// One media section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media<'a> {
    /// `audio`, `video`, `application` …
    pub kind: Spanned<&'a str>,
    pub port: Spanned<u16>,
    /// The `/<count>` after the port, if any.
    pub port_count: Option<u16>,
    /// `RTP/AVP`, `RTP/SAVP`, `RTP/AVPF` …
    pub proto: Spanned<&'a str>,
    pub formats: SmallVec<[Format<'a>; 8]>,
    /// The section's own `c=`, overriding the session's.
    pub connection: Option<Connection<'a>>,
    pub rtpmaps: SmallVec<[RtpMap<'a>; 4]>,
    pub rtcp_mux: bool,
    /// `a=rtcp:<port>`.
    pub rtcp_port: Option<u16>,
    pub direction: Option<Direction>,
    /// The `m=` line (without line end).
    pub line: Span,
}

impl<'a> Media<'a> {
    /// True for an RTP-based profile (`RTP/…`).
    pub fn is_rtp(&self) -> bool {
        // Bytes, not a str slice: the protocol token may hold non-ASCII (a `str` cut at 4
        // panicked inside a multi-byte character; found by cargo fuzz).
        self.proto.value.as_bytes().get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"RTP/"))
    }
    /// The encoding of `pt`: from an rtpmap, else the RFC 3551 static table.
    pub fn encoding(&self, pt: u8) -> Option<(&'a str, u32)> {
        self.rtpmaps
            .iter()
            .find(|m| m.payload_type == pt)
            .map(|m| (m.encoding.value, m.clock_rate))
            .or_else(|| static_payload_type(pt))
    }
    /// The payload types listed on the m= line.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats.iter().filter_map(|f| f.payload_type)
    }
}

/// Encoding and clock rate of RFC 3551's static payload types.
pub fn static_payload_type(pt: u8) -> Option<(&'static str, u32)> {
    Some(match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        5 => ("DVI4", 8000),
        6 => ("DVI4", 16000),
        7 => ("LPC", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        10 | 11 => ("L16", 44100),
        12 => ("QCELP", 8000),
        13 => ("CN", 8000),
        14 => ("MPA", 90000),
        15 => ("G728", 8000),
        16 => ("DVI4", 11025),
        17 => ("DVI4", 22050),
        18 => ("G729", 8000),
        25 => ("CelB", 90000),
        26 => ("JPEG", 90000),
        28 => ("nv", 90000),
        31 => ("H261", 90000),
        32 => ("MPV", 90000),
        33 => ("MP2T", 90000),
        34 => ("H263", 90000),
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SdpAnomaly {
    /// The first line is not `v=0`.
    NoVersion,
    /// A line that is not `<letter>=<value>`.
    MalformedLine,
    /// An `m=`, `c=` or `a=rtpmap` whose value could not be parsed (skipped).
    BadValue,
    TooManyLines,
    TooManyMedia,
    TooManyFormats,
    TooManyRtpMaps,
    /// A line ended with LF alone.
    BareLf,
    /// Not valid UTF-8 on some line (skipped).
    NonUtf8,
    /// An rtpmap for a payload type not on the m= line.
    RtpMapNotListed,
}

/// A parsed SDP body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sdp<'a> {
    pub origin: Option<Spanned<&'a str>>,
    pub session_name: Option<Spanned<&'a str>>,
    /// Session-level `c=`.
    pub connection: Option<Connection<'a>>,
    pub media: SmallVec<[Media<'a>; 2]>,
    pub anomalies: Vec<SdpAnomaly>,
}

impl<'a> Sdp<'a> {
    /// The connection in force for media section `i` (its own, else the session's).
    pub fn media_connection(&self, i: usize) -> Option<&Connection<'a>> {
        self.media
            .get(i)?
            .connection
            .as_ref()
            .or(self.connection.as_ref())
    }
    /// The address in force for media section `i`.
    pub fn media_ip(&self, i: usize) -> Option<IpAddr> {
        self.media_connection(i)?.ip
    }
}

fn note(v: &mut Vec<SdpAnomaly>, a: SdpAnomaly) {
    if !v.contains(&a) {
        v.push(a);
    }
}

/// `s` split at its first `b`, which is ASCII, so both halves are on char boundaries (a byte
/// scan: cheaper than a char pattern's searcher on these short values).
fn split_at_byte(s: &str, b: u8) -> Option<(&str, &str)> {
    let i = s.bytes().position(|c| c == b)?;
    Some((&s[..i], &s[i + 1..]))
}

/// Splits `s` (at `off`) on single spaces, skipping empty tokens.
fn tokens(s: &str, off: usize) -> impl Iterator<Item = Spanned<&str>> {
    // Byte scans: ' ' is ASCII, so every cut is on a char boundary.
    let b = s.as_bytes();
    let mut pos = 0usize;
    core::iter::from_fn(move || {
        let lead = b.get(pos..)?.iter().position(|&c| c != b' ')?;
        let start = pos + lead;
        let len = b[start..]
            .iter()
            .position(|&c| c == b' ')
            .unwrap_or(b.len() - start);
        pos = start + len;
        Some(Spanned::new(s.get(start..start + len)?, off + start, len))
    })
}

/// Decimal digits only (no sign, no spaces), at most `max_digits`, fitting `u64`.
fn digits(s: &str, max_digits: usize) -> Option<u64> {
    if s.is_empty() || s.len() > max_digits {
        return None;
    }
    s.bytes().try_fold(0u64, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u64::from(b - b'0'))
    })
}

fn parse_u16(s: &str) -> Option<u16> {
    u16::try_from(digits(s, 5)?).ok()
}

fn parse_u32(s: &str) -> Option<u32> {
    u32::try_from(digits(s, 10)?).ok()
}

fn parse_connection(v: &str, off: usize) -> Option<Connection<'_>> {
    let mut t = tokens(v, off);
    let net = t.next()?;
    let at = t.next()?;
    let addr = t.next()?;
    let a_len = addr.value.bytes().position(|c| c == b'/').unwrap_or(addr.value.len());
    let a = &addr.value[..a_len];
    if a.is_empty() {
        return None;
    }
    let ip = match at.value {
        "IP4" => a.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
        "IP6" => a.parse::<std::net::Ipv6Addr>().ok().map(IpAddr::V6),
        _ => None,
    };
    Some(Connection {
        net_type: net.value,
        addr_type: at.value,
        address: Spanned::new(a, addr.span.offset, a_len),
        ip,
    })
}

fn parse_media<'a>(
    v: &'a str,
    off: usize,
    line: Span,
    an: &mut Vec<SdpAnomaly>,
) -> Option<Media<'a>> {
    let mut t = tokens(v, off);
    let kind = t.next()?;
    let port_tok = t.next()?;
    let proto = t.next()?;
    let (p, count) = match split_at_byte(port_tok.value, b'/') {
        Some((p, c)) => (p, Some(parse_u16(c)?)),
        None => (port_tok.value, None),
    };
    let port = parse_u16(p)?;
    let mut formats = SmallVec::new();
    for f in t {
        if formats.len() >= MAX_FORMATS {
            note(an, SdpAnomaly::TooManyFormats);
            break;
        }
        let payload_type = parse_u16(f.value).filter(|n| *n <= 127).map(|n| n as u8);
        formats.push(Format {
            text: f,
            payload_type,
        });
    }
    Some(Media {
        kind,
        port: Spanned::new(port, port_tok.span.offset, p.len()),
        port_count: count,
        proto,
        formats,
        connection: None,
        rtpmaps: SmallVec::new(),
        rtcp_mux: false,
        rtcp_port: None,
        direction: None,
        line,
    })
}

/// Parses the value of `a=rtpmap:` (`v` at `off`).
fn parse_rtpmap(v: &str, off: usize) -> Option<RtpMap<'_>> {
    let (pt_s, rest) = split_at_byte(v, b' ')?;
    let pt = parse_u16(pt_s).filter(|n| *n <= 127)? as u8;
    let rest_off = pt_s.len() + 1;
    let lead = rest.bytes().take_while(|&c| c == b' ').count();
    let rest = rest[lead..].trim_end();
    // <encoding>/<clock>[/<channels>]: exactly two or three parts.
    let (enc, tail) = split_at_byte(rest, b'/')?;
    if enc.is_empty() {
        return None;
    }
    let (clock_s, channels_s) = match split_at_byte(tail, b'/') {
        Some((c, ch)) => (c, Some(ch)),
        None => (tail, None),
    };
    let clock = parse_u32(clock_s)?;
    // A fourth part leaves a '/' in the channels: not digits, so None.
    let channels = match channels_s {
        Some(c) => Some(parse_u16(c)?),
        None => None,
    };
    Some(RtpMap {
        payload_type: pt,
        encoding: Spanned::new(enc, off + rest_off + lead, enc.len()),
        clock_rate: clock,
        channels,
        span: Span::new(off, v.len()),
    })
}

/// Parses an SDP body; `base` is the body's offset in the packet so that every span is a
/// packet offset. Never fails: unusable lines are skipped and flagged.
pub fn parse_sdp(body: &[u8], base: usize) -> Sdp<'_> {
    let mut sdp = Sdp::default();
    let mut pos = 0usize;
    let mut lines = 0usize;
    // After an unparsable m= line its c=/a= lines are skipped (they must not land on the
    // previous section).
    let mut skipping = false;
    // Validated once (lines are cut from it at their ASCII line ends); a body that is not
    // all UTF-8 is validated line by line, as before.
    let text = core::str::from_utf8(body).ok();
    while pos < body.len() {
        if lines >= MAX_LINES {
            note(&mut sdp.anomalies, SdpAnomaly::TooManyLines);
            break;
        }
        lines += 1;
        let rest = &body[pos..];
        let (content_len, adv) = match memchr::memchr(b'\n', rest) {
            Some(nl) if nl > 0 && rest[nl - 1] == b'\r' => (nl - 1, nl + 1),
            Some(nl) => {
                note(&mut sdp.anomalies, SdpAnomaly::BareLf);
                (nl, nl + 1)
            }
            None => (rest.len(), rest.len()),
        };
        let line_off = pos;
        let raw = &rest[..content_len];
        pos += adv;
        if raw.is_empty() {
            continue;
        }
        if lines == 1 && raw != b"v=0" {
            note(&mut sdp.anomalies, SdpAnomaly::NoVersion);
        }
        let Some(line) = text.and_then(|t| t.get(line_off..line_off + content_len)).or_else(|| core::str::from_utf8(raw).ok()) else {
            note(&mut sdp.anomalies, SdpAnomaly::NonUtf8);
            continue;
        };
        let lb = line.as_bytes();
        if lb.len() < 2 || lb[1] != b'=' || !lb[0].is_ascii_lowercase() {
            note(&mut sdp.anomalies, SdpAnomaly::MalformedLine);
            continue;
        }
        let v = &line[2..];
        let voff = base + line_off + 2;
        match lb[0] {
            b'o' => sdp.origin = Some(Spanned::new(v, voff, v.len())),
            b's' => sdp.session_name = Some(Spanned::new(v, voff, v.len())),
            b'c' | b'a' if skipping => {}
            b'c' => match parse_connection(v, voff) {
                Some(c) => match sdp.media.last_mut() {
                    Some(m) => m.connection = Some(c),
                    None => sdp.connection = Some(c),
                },
                None => note(&mut sdp.anomalies, SdpAnomaly::BadValue),
            },
            b'm' => {
                if sdp.media.len() >= MAX_MEDIA {
                    note(&mut sdp.anomalies, SdpAnomaly::TooManyMedia);
                    break;
                }
                let span = Span::new(base + line_off, raw.len());
                match parse_media(v, voff, span, &mut sdp.anomalies) {
                    Some(m) => {
                        skipping = false;
                        sdp.media.push(m)
                    }
                    None => {
                        note(&mut sdp.anomalies, SdpAnomaly::BadValue);
                        skipping = true;
                    }
                }
            }
            b'a' => attribute(&mut sdp, v, voff),
            _ => {}
        }
    }
    sdp
}

fn attribute<'a>(sdp: &mut Sdp<'a>, v: &'a str, voff: usize) {
    let (name, val) = match v.bytes().position(|c| c == b':') {
        Some(i) => (&v[..i], Some(&v[i + 1..])),
        None => (v, None),
    };
    let Some(m) = sdp.media.last_mut() else {
        // session-level attributes of interest: none besides direction defaults
        return;
    };
    let dir = match name {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    };
    if dir.is_some() {
        m.direction = dir;
        return;
    }
    match (name, val) {
        ("rtcp-mux", _) => m.rtcp_mux = true,
        ("rtcp", Some(x)) => {
            m.rtcp_port = parse_u16(split_at_byte(x, b' ').map_or(x, |(p, _)| p));
        }
        ("rtpmap", Some(x)) => {
            if m.rtpmaps.len() >= MAX_RTPMAPS {
                note(&mut sdp.anomalies, SdpAnomaly::TooManyRtpMaps);
                return;
            }
            match parse_rtpmap(x, voff + name.len() + 1) {
                Some(r) => {
                    if !m
                        .formats
                        .iter()
                        .any(|f| f.payload_type == Some(r.payload_type))
                    {
                        note(&mut sdp.anomalies, SdpAnomaly::RtpMapNotListed);
                    }
                    m.rtpmaps.push(r);
                }
                None => note(&mut sdp.anomalies, SdpAnomaly::BadValue),
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `cargo fuzz run mux_classifier` (fuzz/regressions/mux_classifier/): a
    /// media protocol token with a multi-byte character across byte 4.
    #[test]
    fn non_ascii_media_protocol_is_not_rtp() {
        let body = "v=0\r\nm=audio 16402 RTP\u{476}VP 0\r\n".as_bytes();
        let s = parse_sdp(body, 0);
        assert_eq!(s.media.len(), 1);
        assert!(!s.media[0].is_rtp());
        let s = parse_sdp(b"v=0\r\nm=audio 16402 rtp/avp 0\r\n", 0);
        assert!(s.media[0].is_rtp());
    }
    use crate::core::facetime::sip;
    use std::net::Ipv4Addr;

    #[test]
    fn facetime_invite_sdp() {
        let m = sip::parse_sip(sip::tests::INVITE).unwrap();
        let b = m.body.unwrap();
        let s = parse_sdp(b.value, b.span.offset);
        assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
        assert_eq!(
            s.connection.unwrap().ip,
            Some(IpAddr::V4(Ipv4Addr::new(17, 155, 5, 14)))
        );
        assert_eq!(s.media.len(), 2);
        let a = &s.media[0];
        assert_eq!(a.kind.value, "audio");
        assert_eq!(a.port.value, 16402);
        let ps = a.port.span;
        assert_eq!(&sip::tests::INVITE[ps.offset..ps.end()], b"16402");
        assert_eq!(a.proto.value, "RTP/AVP");
        assert!(a.is_rtp());
        assert_eq!(
            a.payload_types().collect::<Vec<_>>(),
            vec![110, 12, 124, 104, 0, 13]
        );
        assert!(a.rtcp_mux);
        assert_eq!(a.direction, Some(Direction::SendRecv));
        assert_eq!(a.encoding(104), Some(("iLBC", 8000)));
        assert_eq!(a.encoding(110), Some(("AAC-ELD", 16000)));
        assert_eq!(a.encoding(0), Some(("PCMU", 8000)));
        assert_eq!(a.encoding(124), None);
        let e = a.rtpmaps[0].encoding.span;
        assert_eq!(&sip::tests::INVITE[e.offset..e.end()], b"iLBC");
        let v = &s.media[1];
        assert_eq!(v.kind.value, "video");
        assert_eq!(v.encoding(126), Some(("H264", 90000)));
        assert_eq!(
            s.media_ip(1),
            Some(IpAddr::V4(Ipv4Addr::new(17, 155, 5, 14)))
        );
    }

    #[test]
    fn media_connection_ipv6_and_channels() {
        let body = b"v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP4 10.0.0.1/127\r\nt=0 0\r\n\
m=audio 5004/2 RTP/AVP 96\r\nc=IN IP6 2001:db8::5\r\na=rtpmap:96 opus/48000/2\r\na=rtcp:5005\r\na=recvonly\r\n\
m=video 0 RTP/AVP 31\r\n";
        let s = parse_sdp(body, 100);
        assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
        assert_eq!(s.connection.unwrap().address.value, "10.0.0.1");
        let a = &s.media[0];
        assert_eq!(a.port_count, Some(2));
        assert_eq!(s.media_ip(0), Some("2001:db8::5".parse().unwrap()));
        assert_eq!(a.rtpmaps[0].channels, Some(2));
        assert_eq!(a.rtcp_port, Some(5005));
        assert_eq!(a.direction, Some(Direction::RecvOnly));
        assert_eq!(s.media[1].port.value, 0);
        assert_eq!(s.media_ip(1), Some("10.0.0.1".parse().unwrap()));
        assert_eq!(s.media[1].encoding(31), Some(("H261", 90000)));
        assert!(s.media[0].rtpmaps[0].encoding.span.offset >= 100);
    }

    #[test]
    fn adversarial_sdp() {
        let s = parse_sdp(
            b"x\r\nm=audio 99999 RTP/AVP 0\r\na=rtcp-mux\r\nm=video 5 RTP/AVP 34\r\na=rtpmap:34\r\nc=IN IP4 \r\n",
            0,
        );
        assert!(s.anomalies.contains(&SdpAnomaly::NoVersion));
        assert!(s.anomalies.contains(&SdpAnomaly::MalformedLine));
        assert!(s.anomalies.contains(&SdpAnomaly::BadValue));
        assert_eq!(s.media.len(), 1);
        assert_eq!(s.media[0].kind.value, "video");
        assert!(
            !s.media[0].rtcp_mux
                && s.media[0].rtpmaps.is_empty()
                && s.media[0].connection.is_none()
        );
        let s = parse_sdp(b"v=0\nm=audio 1 RTP/AVP 0\na=rtpmap:300 x/1\na=rtpmap:5 x/1/2/3\na=rtpmap:8 PCMA/8000\n", 0);
        assert!(s.anomalies.contains(&SdpAnomaly::BareLf));
        assert!(s.anomalies.contains(&SdpAnomaly::RtpMapNotListed));
        assert_eq!(s.media[0].rtpmaps.len(), 1);
        let mut big = b"v=0\r\n".to_vec();
        for _ in 0..40 {
            big.extend_from_slice(b"m=audio 1 RTP/AVP ");
            for i in 0..100 {
                big.extend_from_slice(format!("{i} ").as_bytes());
            }
            big.extend_from_slice(b"\r\n");
        }
        let s = parse_sdp(&big, 0);
        assert_eq!(s.media.len(), MAX_MEDIA);
        assert!(s.media.iter().all(|m| m.formats.len() == MAX_FORMATS));
        assert!(s.anomalies.contains(&SdpAnomaly::TooManyMedia));
        for n in 0..sip::tests::INVITE.len() {
            let _ = parse_sdp(&sip::tests::INVITE[n..], 0);
        }
        let _ = parse_sdp(&[0xff, b'\n', b'a', b'=', 0xc3], 0);
    }
}

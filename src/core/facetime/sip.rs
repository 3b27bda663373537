//! SIP (RFC 3261) over UDP as FaceTime (2010) used it: start line, the headers call tracking
//! needs, and the header/body split. Zero-copy: every value borrows the payload and carries
//! its [`Span`]. Wireshark's own `sip` dissector renders the message; this core feeds the
//! classifier, the call tracker and the SDP parser.
//!
//! Bounds: the start line is looked for in the first [`MAX_START_LINE`] bytes; at most
//! [`MAX_HEADERS`] header lines are interpreted (the rest are only skipped to find the body).
//! Line ends are CRLF; a bare LF is accepted and flagged.

use crate::core::span::{Span, Spanned};

/// Longest start line considered (request URI included).
pub const MAX_START_LINE: usize = 2048;
/// Header lines interpreted per message; later ones are skipped (flagged).
pub const MAX_HEADERS: usize = 128;
/// The SIP version string (matched case-insensitively).
pub const VERSION: &[u8] = b"SIP/2.0";

/// Request methods the classifier recognises (RFC 3261, 3262, 3265, 3311, 3428, 3515,
/// 3903, 6086).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method<'a> {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Message,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Publish,
    /// A syntactically valid token that is not one of the above (only in CSeq).
    Other(&'a str),
}

const METHODS: [(&[u8], Method<'static>); 14] = [
    (b"INVITE", Method::Invite),
    (b"ACK", Method::Ack),
    (b"BYE", Method::Bye),
    (b"CANCEL", Method::Cancel),
    (b"OPTIONS", Method::Options),
    (b"REGISTER", Method::Register),
    (b"MESSAGE", Method::Message),
    (b"INFO", Method::Info),
    (b"UPDATE", Method::Update),
    (b"PRACK", Method::Prack),
    (b"SUBSCRIBE", Method::Subscribe),
    (b"NOTIFY", Method::Notify),
    (b"REFER", Method::Refer),
    (b"PUBLISH", Method::Publish),
];

impl<'a> Method<'a> {
    /// A known method (method names are case-sensitive in SIP).
    pub fn known(tok: &[u8]) -> Option<Method<'static>> {
        // A match on the bytes (length first) instead of a scan of METHODS: this runs on
        // every start line and CSeq.
        Some(match tok {
            b"INVITE" => Method::Invite,
            b"ACK" => Method::Ack,
            b"BYE" => Method::Bye,
            b"CANCEL" => Method::Cancel,
            b"OPTIONS" => Method::Options,
            b"REGISTER" => Method::Register,
            b"MESSAGE" => Method::Message,
            b"INFO" => Method::Info,
            b"UPDATE" => Method::Update,
            b"PRACK" => Method::Prack,
            b"SUBSCRIBE" => Method::Subscribe,
            b"NOTIFY" => Method::Notify,
            b"REFER" => Method::Refer,
            b"PUBLISH" => Method::Publish,
            _ => return None,
        })
    }
    /// Any token: known method or `Other`.
    pub fn from_token(tok: &'a str) -> Method<'a> {
        Self::known(tok.as_bytes()).unwrap_or(Method::Other(tok))
    }
    pub fn as_str(&self) -> &'a str {
        match self {
            Method::Other(s) => s,
            m => METHODS
                .iter()
                .find(|(_, k)| k == m)
                .and_then(|(n, _)| core::str::from_utf8(n).ok())
                .unwrap_or(""),
        }
    }
}

/// The first line of a SIP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request {
        method: Spanned<Method<'a>>,
        uri: Spanned<&'a str>,
    },
    Response {
        code: Spanned<u16>,
        reason: Spanned<&'a str>,
    },
}

/// `From`, `To`, `Contact`: `"display" <uri>;params` or `uri;params`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    pub display: Option<Spanned<&'a str>>,
    pub uri: Spanned<&'a str>,
    pub tag: Option<Spanned<&'a str>>,
    /// The whole header value.
    pub value: Span,
}

/// `CSeq: 314159 INVITE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CSeq<'a> {
    pub number: Spanned<u32>,
    pub method: Spanned<Method<'a>>,
}

/// The headers this core interprets (first occurrence wins; repeats are flagged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Headers<'a> {
    pub call_id: Option<Spanned<&'a str>>,
    pub cseq: Option<CSeq<'a>>,
    pub from: Option<NameAddr<'a>>,
    pub to: Option<NameAddr<'a>>,
    /// The first contact of the (possibly comma-separated) list; `*` is kept as the URI.
    pub contact: Option<NameAddr<'a>>,
    pub content_type: Option<Spanned<&'a str>>,
    pub content_length: Option<Spanned<u32>>,
    pub user_agent: Option<Spanned<&'a str>>,
    /// Number of Via header lines (a comma list counts once).
    pub via_count: u16,
}

/// Malformations that do not stop parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SipAnomaly {
    /// A line ended with LF alone.
    BareLf,
    /// No empty line ending the headers.
    NoHeaderEnd,
    /// More than [`MAX_HEADERS`] header lines; the rest were not interpreted.
    TooManyHeaders,
    /// A header line without a colon or with an invalid name.
    MalformedHeader,
    /// An obsolete folded continuation line (its text is not part of the parsed value).
    FoldedHeader,
    /// A header this core interprets occurred twice (the first is kept).
    DuplicateHeader,
    /// An interpreted header's value is not valid UTF-8 (ignored).
    NonUtf8Header,
    /// An interpreted header's value could not be parsed (ignored).
    BadHeaderValue,
    /// Content-Length larger than the bytes after the headers.
    BodyTruncated,
    /// Bytes after Content-Length's body.
    TrailingBytes,
    /// A required header (Call-ID, CSeq, From, To) is missing.
    MissingHeader,
    /// CSeq method differs from a request's method.
    CSeqMethodMismatch,
}

/// A parsed SIP message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipMessage<'a> {
    pub start: StartLine<'a>,
    /// The start line without its line end.
    pub start_line: Span,
    pub headers: Headers<'a>,
    /// Header lines seen (all of them, interpreted or not).
    pub header_count: usize,
    /// From the first header line to the end of the empty line (or of the payload).
    pub header_block: Span,
    /// The body (Content-Length bytes when present and fitting, else the rest of the
    /// datagram); `None` when the headers never ended.
    pub body: Option<Spanned<&'a [u8]>>,
    pub anomalies: Vec<SipAnomaly>,
}

impl<'a> SipMessage<'a> {
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }
    /// The request method; `None` for responses.
    pub fn request_method(&self) -> Option<Method<'a>> {
        match self.start {
            StartLine::Request { method, .. } => Some(method.value),
            _ => None,
        }
    }
    /// The status code; `None` for requests.
    pub fn status(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code.value),
            _ => None,
        }
    }
    /// The method this message is about: the request's own, or the response's CSeq method.
    pub fn method(&self) -> Option<Method<'a>> {
        self.request_method()
            .or(self.headers.cseq.map(|c| c.method.value))
    }
    /// True when Content-Type is `application/sdp` (parameters ignored).
    pub fn has_sdp(&self) -> bool {
        self.headers.content_type.is_some_and(|c| {
            let mt = c.value.split(';').next().unwrap_or("").trim();
            mt.eq_ignore_ascii_case("application/sdp")
        }) && self.body.is_some_and(|b| !b.value.is_empty())
    }
    /// Call-ID, CSeq, From and To all present (RFC 3261 §8.1.1 minimum).
    pub fn has_required_headers(&self) -> bool {
        let h = &self.headers;
        h.call_id.is_some() && h.cseq.is_some() && h.from.is_some() && h.to.is_some()
    }
}

/// Why a payload is not SIP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SipError {
    /// No line end within the first [`MAX_START_LINE`] bytes.
    NoStartLine,
    /// The first line is neither a request line nor a status line.
    BadStartLine,
}

/// Finds the end of the line starting at `from`, looking at most `max` bytes. Returns
/// (end of content, start of next line, bare LF?).
fn line_end(p: &[u8], from: usize, max: usize) -> Option<(usize, usize, bool)> {
    let window = p.get(from..)?;
    let window = &window[..window.len().min(max)];
    let nl = memchr::memchr(b'\n', window)?;
    let abs = from + nl;
    if nl > 0 && p[abs - 1] == b'\r' {
        Some((abs - 1, abs + 1, false))
    } else {
        Some((abs, abs + 1, true))
    }
}

/// RFC 3261 token characters, one table lookup per byte.
static TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~');
        i += 1;
    }
    t
};

#[inline]
fn is_token_char(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

fn as_str(b: &[u8]) -> Option<&str> {
    core::str::from_utf8(b).ok()
}

/// A message's text when all of it is UTF-8: validated once, and values are then cut out of
/// it by offset instead of being validated one by one (most SIP is ASCII throughout).
#[derive(Clone, Copy)]
struct Text<'a>(Option<&'a str>);

impl<'a> Text<'a> {
    fn of(b: &'a [u8]) -> Self {
        Text(core::str::from_utf8(b).ok())
    }
    /// `sub` as text: cut from the validated whole when `sub` lies in it (a cut off a char
    /// boundary is not UTF-8 either way), else validated on its own.
    fn str(self, sub: &'a [u8]) -> Option<&'a str> {
        if let Some(w) = self.0 {
            let start = (sub.as_ptr() as usize).wrapping_sub(w.as_ptr() as usize);
            if start <= w.len() && sub.len() <= w.len() - start {
                return w.get(start..start + sub.len());
            }
        }
        as_str(sub)
    }
}

/// Parses the start line of `p` (request or status line) and returns it with the span of
/// the line (without line end) and the offset of the next line. Allocation-free; looks at
/// most [`MAX_START_LINE`] bytes. This is the classifier's SIP test.
pub fn parse_start_line(p: &[u8]) -> Result<(StartLine<'_>, Span, usize, bool), SipError> {
    let (end, next, bare) = line_end(p, 0, MAX_START_LINE).ok_or(SipError::NoStartLine)?;
    let line = &p[..end];
    let start = if line.len() >= 11 && line[..7].eq_ignore_ascii_case(VERSION) && line[7] == b' ' {
        // Status-Line: SIP/2.0 SP 3DIGIT [SP reason] (a missing reason is tolerated)
        let d = &line[8..11];
        if !d.iter().all(|c| c.is_ascii_digit()) || !(b'1'..=b'6').contains(&d[0]) {
            return Err(SipError::BadStartLine);
        }
        let code = (d[0] - b'0') as u16 * 100 + (d[1] - b'0') as u16 * 10 + (d[2] - b'0') as u16;
        let reason_off = match line.get(11) {
            None => 11,
            Some(b' ') => 12,
            Some(_) => return Err(SipError::BadStartLine),
        };
        let reason_b = line.get(reason_off..).unwrap_or(&[]);
        let reason = as_str(reason_b).ok_or(SipError::BadStartLine)?;
        if reason_b.iter().any(|&c| c < 0x20 && c != b'\t') {
            return Err(SipError::BadStartLine);
        }
        StartLine::Response {
            code: Spanned::new(code, 8, 3),
            reason: Spanned::new(reason, reason_off, reason_b.len()),
        }
    } else {
        // Request-Line: Method SP Request-URI SP SIP/2.0
        let sp1 = line
            .iter()
            .position(|&b| b == b' ')
            .ok_or(SipError::BadStartLine)?;
        let method = Method::known(&line[..sp1]).ok_or(SipError::BadStartLine)?;
        if line.len() < sp1 + 1 + 1 + 1 + VERSION.len() {
            return Err(SipError::BadStartLine);
        }
        let ver_off = line.len() - VERSION.len();
        if !line[ver_off..].eq_ignore_ascii_case(VERSION) || line[ver_off - 1] != b' ' {
            return Err(SipError::BadStartLine);
        }
        let uri_b = &line[sp1 + 1..ver_off - 1];
        if uri_b.is_empty() || uri_b.iter().any(|&c| c <= b' ' || c == 0x7F) {
            return Err(SipError::BadStartLine);
        }
        let uri = as_str(uri_b).ok_or(SipError::BadStartLine)?;
        StartLine::Request {
            method: Spanned::new(method, 0, sp1),
            uri: Spanned::new(uri, sp1 + 1, uri_b.len()),
        }
    };
    Ok((start, Span::new(0, end), next, bare))
}

/// Trims ASCII spaces/tabs; returns the trimmed slice's offset within `b` too.
fn trim(b: &[u8]) -> (usize, &[u8]) {
    let s = b
        .iter()
        .position(|c| *c != b' ' && *c != b'\t')
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| *c != b' ' && *c != b'\t')
        .map_or(s, |e| e + 1);
    (s, &b[s..e.max(s)])
}

fn spanned_str<'a>(b: &'a [u8], off: usize, text: Text<'a>) -> Option<Spanned<&'a str>> {
    text.str(b).map(|s| Spanned::new(s, off, b.len()))
}

/// Parses a name-addr / addr-spec header value found at `off` in the payload.
pub fn parse_name_addr(v: &[u8], off: usize) -> Option<NameAddr<'_>> {
    name_addr(v, off, Text::of(v))
}

fn name_addr<'a>(v: &'a [u8], off: usize, text: Text<'a>) -> Option<NameAddr<'a>> {
    let (t0, val) = trim(v);
    let base = off + t0;
    if val.is_empty() {
        return None;
    }
    // Skip a quoted display name so a '<' inside it is not taken for the URI's.
    let mut search_from = 0;
    if val[0] == b'"' {
        let mut i = 1;
        loop {
            match val.get(i) {
                None => return None,
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        search_from = i + 1;
    }
    let lt = val
        .get(search_from..)?
        .iter()
        .position(|&b| b == b'<')
        .map(|p| p + search_from);
    let (display, uri, params_from) = if let Some(lt) = lt {
        let gt = val[lt..].iter().position(|&b| b == b'>')? + lt;
        let (d0, d) = trim(&val[..lt]);
        let (d0, d) = if d.len() >= 2 && d[0] == b'"' && d[d.len() - 1] == b'"' {
            (d0 + 1, &d[1..d.len() - 1])
        } else {
            (d0, d)
        };
        let display = if d.is_empty() {
            None
        } else {
            spanned_str(d, base + d0, text)
        };
        let (u0, u) = trim(&val[lt + 1..gt]);
        (display, spanned_str(u, base + lt + 1 + u0, text)?, gt + 1)
    } else {
        let semi = val.iter().position(|&b| b == b';').unwrap_or(val.len());
        let (u0, u) = trim(&val[..semi]);
        (None, spanned_str(u, base + u0, text)?, semi)
    };
    if uri.value.is_empty() {
        return None;
    }
    // Header parameters: ;tag=xyz (the first one wins).
    let mut tag = None;
    let mut pos = params_from;
    while pos < val.len() && tag.is_none() {
        let seg_end = val[pos..]
            .iter()
            .position(|&b| b == b';' || b == b',')
            .map_or(val.len(), |e| e + pos);
        let (s0, seg) = trim(&val[pos..seg_end]);
        // generic-param: token [ SWS "=" SWS value ]
        if let Some(eq) = seg.iter().position(|&b| b == b'=') {
            let (_, pname) = trim(&seg[..eq]);
            if pname.eq_ignore_ascii_case(b"tag") {
                let (v0, tv) = trim(&seg[eq + 1..]);
                tag =
                    spanned_str(tv, base + pos + s0 + eq + 1 + v0, text).filter(|t| !t.value.is_empty());
            }
        }
        if val.get(seg_end) == Some(&b',') {
            break;
        }
        pos = seg_end + 1;
    }
    Some(NameAddr {
        display,
        uri,
        tag,
        value: Span::new(base, val.len()),
    })
}

/// The user part of a `sip:`/`sips:`/`tel:` URI (`+14085551234` in
/// `sip:+14085551234@10.0.1.5:16402`).
pub fn uri_user(uri: &str) -> Option<&str> {
    let rest = uri
        .strip_prefix("sip:")
        .or_else(|| uri.strip_prefix("sips:"))
        .or_else(|| uri.strip_prefix("tel:"))
        .or_else(|| {
            uri.get(..4)
                .filter(|p| p.eq_ignore_ascii_case("sip:"))
                .and(uri.get(4..))
        })?;
    let end = rest.find(['@', ';', '?']).unwrap_or(rest.len());
    let user = &rest[..end];
    if uri.starts_with("tel:") || rest[end..].starts_with('@') {
        (!user.is_empty()).then_some(user)
    } else {
        None
    }
}

fn parse_u32_digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 || !b.iter().all(|c| c.is_ascii_digit()) {
        return None;
    }
    b.iter().try_fold(0u32, |acc, &c| {
        acc.checked_mul(10)?.checked_add((c - b'0') as u32)
    })
}

fn parse_cseq(v: &[u8], off: usize) -> Option<CSeq<'_>> {
    let (t0, val) = trim(v);
    let sp = val.iter().position(|&b| b == b' ' || b == b'\t')?;
    let number = parse_u32_digits(&val[..sp])?;
    let (m0, m) = trim(&val[sp..]);
    if m.is_empty() || !m.iter().all(|&c| is_token_char(c)) {
        return None;
    }
    let ms = as_str(m)?;
    Some(CSeq {
        number: Spanned::new(number, off + t0, sp),
        method: Spanned::new(Method::from_token(ms), off + t0 + sp + m0, m.len()),
    })
}

#[derive(Clone, Copy)]
enum Known {
    CallId,
    CSeq,
    From,
    To,
    Contact,
    ContentType,
    ContentLength,
    UserAgent,
    Via,
}

fn known_header(name: &[u8]) -> Option<Known> {
    const NAMES: [(&[u8], Known); 16] = [
        (b"call-id", Known::CallId),
        (b"i", Known::CallId),
        (b"cseq", Known::CSeq),
        (b"from", Known::From),
        (b"f", Known::From),
        (b"to", Known::To),
        (b"t", Known::To),
        (b"contact", Known::Contact),
        (b"m", Known::Contact),
        (b"content-type", Known::ContentType),
        (b"c", Known::ContentType),
        (b"content-length", Known::ContentLength),
        (b"l", Known::ContentLength),
        (b"user-agent", Known::UserAgent),
        (b"via", Known::Via),
        (b"v", Known::Via),
    ];
    // Every name starts with a letter: compare only those with the same length and
    // first letter (most header lines are names this core does not interpret).
    let first = name.first()?.to_ascii_lowercase();
    NAMES
        .iter()
        .find(|(n, _)| n.len() == name.len() && n[0] == first && n.eq_ignore_ascii_case(name))
        .map(|(_, k)| *k)
}

fn note(v: &mut Vec<SipAnomaly>, a: SipAnomaly) {
    if !v.contains(&a) {
        v.push(a);
    }
}

/// Sets `slot` to `val` unless already set (then flags a duplicate); flags an unparsable value.
fn set_once<T>(slot: &mut Option<T>, val: Option<T>, an: &mut Vec<SipAnomaly>) {
    match (slot.is_some(), val) {
        (true, _) => note(an, SipAnomaly::DuplicateHeader),
        (false, Some(v)) => *slot = Some(v),
        (false, None) => note(an, SipAnomaly::BadHeaderValue),
    }
}

/// Parses a whole SIP message (one UDP datagram).
pub fn parse_sip(p: &[u8]) -> Result<SipMessage<'_>, SipError> {
    let (start, start_line, mut pos, bare) = parse_start_line(p)?;
    let mut an = Vec::new();
    let text = Text::of(p);
    if bare {
        note(&mut an, SipAnomaly::BareLf);
    }
    let mut h = Headers::default();
    let mut header_count = 0usize;
    let hdr_start = pos;
    let mut body_start = None;
    while pos < p.len() {
        let Some((end, next, bare)) = line_end(p, pos, usize::MAX) else {
            // last line without line end: interpret it, then stop (no header end)
            header_count += 1;
            if header_count <= MAX_HEADERS {
                header_line(p, text, pos, p.len(), &mut h, &mut an);
            }
            pos = p.len();
            break;
        };
        if bare {
            note(&mut an, SipAnomaly::BareLf);
        }
        if end == pos {
            body_start = Some(next);
            pos = next;
            break;
        }
        if p[pos] == b' ' || p[pos] == b'\t' {
            note(&mut an, SipAnomaly::FoldedHeader);
        } else {
            header_count += 1;
            if header_count == MAX_HEADERS + 1 {
                note(&mut an, SipAnomaly::TooManyHeaders);
            }
            if header_count <= MAX_HEADERS {
                header_line(p, text, pos, end, &mut h, &mut an);
            }
        }
        pos = next;
    }
    let header_block = Span::new(hdr_start, pos.min(p.len()) - hdr_start);
    let body = match body_start {
        None => {
            note(&mut an, SipAnomaly::NoHeaderEnd);
            None
        }
        Some(bs) => {
            let rest = p.len() - bs;
            let len = match h.content_length {
                Some(cl) if cl.value as usize > rest => {
                    note(&mut an, SipAnomaly::BodyTruncated);
                    rest
                }
                Some(cl) => {
                    if (cl.value as usize) < rest {
                        note(&mut an, SipAnomaly::TrailingBytes);
                    }
                    cl.value as usize
                }
                None => rest,
            };
            Some(Spanned::new(&p[bs..bs + len], bs, len))
        }
    };
    let msg = SipMessage {
        start,
        start_line,
        headers: h,
        header_count,
        header_block,
        body,
        anomalies: an,
    };
    let mut msg = msg;
    if !msg.has_required_headers() {
        note(&mut msg.anomalies, SipAnomaly::MissingHeader);
    }
    if let (Some(m), Some(c)) = (msg.request_method(), msg.headers.cseq) {
        // ACK and CANCEL carry the INVITE's number with their own method.
        if m != c.method.value {
            note(&mut msg.anomalies, SipAnomaly::CSeqMethodMismatch);
        }
    }
    Ok(msg)
}

/// Interprets one header line `p[from..end]`.
fn header_line<'a>(
    p: &'a [u8],
    text: Text<'a>,
    from: usize,
    end: usize,
    h: &mut Headers<'a>,
    an: &mut Vec<SipAnomaly>,
) {
    let line = &p[from..end];
    let Some(colon) = memchr::memchr(b':', line) else {
        note(an, SipAnomaly::MalformedHeader);
        return;
    };
    let (_, name) = trim(&line[..colon]);
    if name.is_empty() || !name.iter().all(|&c| is_token_char(c)) {
        note(an, SipAnomaly::MalformedHeader);
        return;
    }
    let Some(kind) = known_header(name) else {
        return;
    };
    let voff = from + colon + 1;
    let raw = &line[colon + 1..];
    let (t0, val) = trim(raw);
    if matches!(kind, Known::Via) {
        h.via_count = h.via_count.saturating_add(1);
        return;
    }
    let Some(vstr) = text.str(val) else {
        note(an, SipAnomaly::NonUtf8Header);
        return;
    };
    let vs = Some(Spanned::new(vstr, voff + t0, val.len()));
    match kind {
        Known::CallId => set_once(&mut h.call_id, vs.filter(|s| !s.value.is_empty()), an),
        Known::CSeq => set_once(&mut h.cseq, parse_cseq(raw, voff), an),
        Known::From => set_once(&mut h.from, name_addr(raw, voff, text), an),
        Known::To => set_once(&mut h.to, name_addr(raw, voff, text), an),
        Known::Contact => set_once(&mut h.contact, name_addr(raw, voff, text), an),
        Known::ContentType => set_once(&mut h.content_type, vs.filter(|s| !s.value.is_empty()), an),
        Known::ContentLength => set_once(
            &mut h.content_length,
            parse_u32_digits(val).map(|n| Spanned::new(n, voff + t0, val.len())),
            an,
        ),
        Known::UserAgent => set_once(&mut h.user_agent, vs, an),
        Known::Via => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A FaceTime-style INVITE (iPhone 4, iOS 4.0, 2010): peer-to-peer, phone numbers in
    /// From/To/Contact, one UDP port (16402) for SIP and media. The SDP is plausible, not
    /// copied from a capture: the seed shows iLBC and H.264 were offered.
    pub const INVITE: &[u8] = b"INVITE sip:user@10.0.1.5:16402 SIP/2.0\r\n\
Via: SIP/2.0/UDP 17.155.5.14:16402;branch=z9hG4bK1d5a2f9c;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:+14085550123@10.0.1.5:16402>\r\n\
From: \"+18883223846\" <sip:+18883223846@17.155.5.14:16402>;tag=1894703416\r\n\
Call-ID: 7b1f1c6a-9c2e-11df-9d42-0023dfd8c2e4@17.155.5.14\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:+18883223846@17.155.5.14:16402>;isfocus\r\n\
User-Agent: Viceroy 1.4\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 366\r\n\
\r\n\
v=0\r\n\
o=GKVoiceChatService 0 0 IN IP4 17.155.5.14\r\n\
s=\r\n\
c=IN IP4 17.155.5.14\r\n\
b=AS:2000\r\n\
t=0 0\r\n\
a=FLS;VRA:0;MVRA:0;RVRA:2;CM:0\r\n\
m=audio 16402 RTP/AVP 110 12 124 104 0 13\r\n\
a=rtcp-mux\r\n\
a=rtpmap:104 iLBC/8000\r\n\
a=rtpmap:110 AAC-ELD/16000\r\n\
a=rtpmap:13 CN/8000\r\n\
a=sendrecv\r\n\
m=video 16402 RTP/AVP 126\r\n\
a=rtcp-mux\r\n\
a=rtpmap:126 H264/90000\r\n\
a=fmtp:126 profile-level-id=42801e\r\n";

    #[test]
    fn invite_fields() {
        let m = parse_sip(INVITE).unwrap();
        let StartLine::Request { method, uri } = m.start else {
            panic!()
        };
        assert_eq!(method.value, Method::Invite);
        assert_eq!(uri.value, "sip:user@10.0.1.5:16402");
        assert_eq!(
            &INVITE[uri.span.offset..uri.span.end()],
            uri.value.as_bytes()
        );
        let h = &m.headers;
        assert_eq!(
            h.call_id.unwrap().value,
            "7b1f1c6a-9c2e-11df-9d42-0023dfd8c2e4@17.155.5.14"
        );
        let c = h.cseq.unwrap();
        assert_eq!((c.number.value, c.method.value), (1, Method::Invite));
        let f = h.from.unwrap();
        assert_eq!(f.display.unwrap().value, "+18883223846");
        assert_eq!(f.uri.value, "sip:+18883223846@17.155.5.14:16402");
        assert_eq!(f.tag.unwrap().value, "1894703416");
        let t = f.tag.unwrap();
        assert_eq!(&INVITE[t.span.offset..t.span.end()], b"1894703416");
        assert_eq!(uri_user(f.uri.value), Some("+18883223846"));
        let to = h.to.unwrap();
        assert_eq!(to.uri.value, "sip:+14085550123@10.0.1.5:16402");
        assert!(to.tag.is_none());
        assert_eq!(
            h.contact.unwrap().uri.value,
            "sip:+18883223846@17.155.5.14:16402"
        );
        assert_eq!(h.user_agent.unwrap().value, "Viceroy 1.4");
        assert_eq!(h.via_count, 1);
        assert_eq!(m.header_count, 10);
        assert!(m.has_sdp());
        let body = m.body.unwrap();
        assert!(body.value.starts_with(b"v=0\r\n"));
        assert_eq!(body.span.end(), INVITE.len());
        assert_eq!(h.content_length.unwrap().value as usize, body.value.len());
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    }

    #[test]
    fn compact_forms_and_response() {
        let r = b"SIP/2.0 180 Ringing\r\nv: SIP/2.0/UDP 1.2.3.4\r\nf: sip:a@h;tag=x1\r\n\
t: \"B <b>\" <sip:b@h> ; tag = y2\r\ni: abc\r\nCSeq: 1 INVITE\r\nm: <sip:b@5.6.7.8:16402>\r\nl: 0\r\n\r\n";
        let m = parse_sip(r).unwrap();
        assert_eq!(m.status(), Some(180));
        assert_eq!(m.method(), Some(Method::Invite));
        let StartLine::Response { reason, .. } = m.start else {
            panic!()
        };
        assert_eq!(reason.value, "Ringing");
        assert_eq!(m.headers.from.unwrap().uri.value, "sip:a@h");
        assert_eq!(m.headers.from.unwrap().tag.unwrap().value, "x1");
        let to = m.headers.to.unwrap();
        assert_eq!(to.display.unwrap().value, "B <b>");
        assert_eq!(to.uri.value, "sip:b@h");
        assert_eq!(to.tag.unwrap().value, "y2");
        assert_eq!(m.headers.call_id.unwrap().value, "abc");
        assert_eq!(m.headers.content_length.unwrap().value, 0);
        assert_eq!(m.body.unwrap().value, b"");
        assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
    }

    #[test]
    fn start_lines() {
        for ok in [
            &b"ACK sip:a@b SIP/2.0\r\n"[..],
            b"MESSAGE sip:+1408@10.0.1.5:16402 SIP/2.0\r\n",
            b"SIP/2.0 200 OK\r\n",
            b"SIP/2.0 200\r\n",
            b"sip/2.0 486 Busy Here\n",
            b"BYE sip:x SIP/2.0\n",
        ] {
            assert!(
                parse_start_line(ok).is_ok(),
                "{:?}",
                core::str::from_utf8(ok)
            );
        }
        for bad in [
            &b"INVITE sip:a@b SIP/2.0"[..], // no line end
            b"invite sip:a@b SIP/2.0\r\n",  // methods are case-sensitive
            b"FOO sip:a@b SIP/2.0\r\n",
            b"INVITE  SIP/2.0\r\n",
            b"INVITE sip:a b SIP/2.0\r\n",
            b"INVITE sip:a@b SIP/3.0\r\n",
            b"SIP/2.0 99 Low\r\n",
            b"SIP/2.0 700 High\r\n",
            b"SIP/2.0 2000 OK\r\n",
            b"SIP/2.0 20x OK\r\n",
            b"HTTP/1.1 200 OK\r\n",
            b"\r\n",
            b"",
        ] {
            assert!(
                parse_start_line(bad).is_err(),
                "{:?}",
                core::str::from_utf8(bad)
            );
        }
    }

    #[test]
    fn anomalies() {
        // lying Content-Length, duplicate Call-ID, missing CSeq, malformed line, no header end
        let m = parse_sip(b"BYE sip:a@b SIP/2.0\r\ni: 1\r\nCall-ID: 2\r\nbogus\r\nl: 99\r\n\r\nab")
            .unwrap();
        for a in [
            SipAnomaly::DuplicateHeader,
            SipAnomaly::MalformedHeader,
            SipAnomaly::BodyTruncated,
            SipAnomaly::MissingHeader,
        ] {
            assert!(m.anomalies.contains(&a), "{a:?} in {:?}", m.anomalies);
        }
        assert_eq!(m.headers.call_id.unwrap().value, "1");
        assert_eq!(m.body.unwrap().value, b"ab");
        let m = parse_sip(b"SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\nl: 1\r\n\r\nabc").unwrap();
        assert!(m.anomalies.contains(&SipAnomaly::TrailingBytes));
        assert_eq!(m.body.unwrap().value, b"a");
        let m = parse_sip(b"SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\nl: 4294967296\r\n").unwrap();
        assert!(m.anomalies.contains(&SipAnomaly::NoHeaderEnd));
        assert!(m.anomalies.contains(&SipAnomaly::BadHeaderValue));
        assert!(m.body.is_none());
        let m =
            parse_sip(b"SIP/2.0 200 OK\r\nCSeq: 2 BYE\r\nFrom: \"unterminated <sip:a@b>\r\n\r\n")
                .unwrap();
        assert!(m.headers.from.is_none());
        // many headers are bounded
        let mut big = b"OPTIONS sip:a SIP/2.0\r\n".to_vec();
        for _ in 0..1000 {
            big.extend_from_slice(b"X: y\r\n");
        }
        big.extend_from_slice(b"\r\nBODY");
        let m = parse_sip(&big).unwrap();
        assert_eq!(m.header_count, 1000);
        assert!(m.anomalies.contains(&SipAnomaly::TooManyHeaders));
        assert_eq!(m.body.unwrap().value, b"BODY");
        // every truncation of the INVITE parses or fails cleanly
        for n in 0..INVITE.len() {
            let _ = parse_sip(&INVITE[..n]);
        }
    }

    #[test]
    fn uri_users() {
        assert_eq!(
            uri_user("sip:+14085550123@10.0.1.5:16402"),
            Some("+14085550123")
        );
        assert_eq!(uri_user("tel:+14085550123"), Some("+14085550123"));
        assert_eq!(uri_user("sip:10.0.1.5"), None);
        assert_eq!(uri_user("mailto:x@y"), None);
        assert_eq!(uri_user("SIP:bob@h"), Some("bob"));
    }
}

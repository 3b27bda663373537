//! Byte layouts of the protocols in the benchmark's captures and parser inputs (shared by
//! benches/tshark.rs and benches/parsers.rs): APNs messages and items, a minimal binary
//! property list writer, STUN, SIP/SDP, RTP/RTCP with Apple's 0x4400 extension, MPTCP DSS,
//! TLS records. Layouts from the protocol notes; no dependency on the cores.
#![allow(dead_code)]

pub const FACETIME_PORT: u16 = 16402;

/// A TLS record (`ct` = content type, version 3.3).
pub fn tls_record(ct: u8, body: &[u8]) -> Vec<u8> {
    [&[ct, 3, 3][..], &(body.len() as u16).to_be_bytes(), body].concat()
}

/// A TCP option (kind, length, data), as tests/support's `opt::raw`.
fn tcp_opt(kind: u8, data: &[u8]) -> Vec<u8> {
    [&[kind, 2 + data.len() as u8][..], data].concat()
}

/// A STUN (RFC 5389) Binding request (SOFTWARE attribute) or success response
/// (XOR-MAPPED-ADDRESS) with transaction id `tid`.
pub fn stun_binding(tid: &[u8; 12], response: bool) -> Vec<u8> {
    let ty: u16 = if response { 0x0101 } else { 0x0001 };
    let attr = if response {
        // XOR-MAPPED-ADDRESS, IPv4.
        [&[0x00, 0x20, 0, 8, 0, 1][..], &(FACETIME_PORT ^ 0x2112).to_be_bytes(), &(0xcb00_7105u32 ^ 0x2112_A442).to_be_bytes()].concat()
    } else {
        // SOFTWARE "FaceTime" (8 bytes, no padding needed).
        [&[0x80, 0x22, 0, 8][..], b"FaceTime"].concat()
    };
    [&ty.to_be_bytes()[..], &(attr.len() as u16).to_be_bytes(), &0x2112_A442u32.to_be_bytes(), tid, &attr].concat()
}

/// FaceTime-like SDP: audio (104, 0) and video (123, 126) on the FaceTime port.
pub fn sdp(ip: &str, session: u32) -> String {
    format!(
        "v=0\r\no=GKVoiceChatService 0 {session} IN IP4 {ip}\r\ns= \r\nc=IN IP4 {ip}\r\nb=AS:2000\r\nt=0 0\r\n\
         m=audio {FACETIME_PORT} RTP/AVP 104 0\r\na=rtpmap:104 mpeg4-generic/16000\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n\
         m=video {FACETIME_PORT} RTP/AVP 123 126\r\na=rtpmap:123 X-H264/90000\r\na=rtpmap:126 X-H264/90000\r\na=sendrecv\r\n"
    )
}

/// SIP messages of one call between `a` and `b` (both on the FaceTime port).
pub struct Sip<'a> {
    pub a: &'a str,
    pub b: &'a str,
    pub call_id: String,
    pub from_tag: String,
    pub to_tag: String,
}

impl Sip<'_> {
    pub fn request(&self, method: &str, cseq: u32, body: Option<(&str, &str)>, from_a: bool) -> Vec<u8> {
        let (src, dst) = if from_a { (self.a, self.b) } else { (self.b, self.a) };
        let (ftag, ttag) = if from_a { (&self.from_tag, &self.to_tag) } else { (&self.to_tag, &self.from_tag) };
        let (ct, b) = body.unwrap_or(("", ""));
        let ctl = if ct.is_empty() { String::new() } else { format!("Content-Type: {ct}\r\n") };
        let tt = if method == "INVITE" { String::new() } else { format!(";tag={ttag}") };
        format!(
            "{method} sip:user@{dst}:{FACETIME_PORT} SIP/2.0\r\nVia: SIP/2.0/UDP {src}:{FACETIME_PORT};branch=z9hG4bK{cseq:x}{}\r\n\
             Max-Forwards: 70\r\nFrom: \"+15551230001\" <sip:+15551230001@{src}>;tag={ftag}\r\nTo: <sip:user@{dst}>{tt}\r\n\
             Call-ID: {}\r\nCSeq: {cseq} {method}\r\nContact: <sip:+15551230001@{src}:{FACETIME_PORT}>\r\nUser-Agent: Viceroy 1.4\r\n\
             {ctl}Content-Length: {}\r\n\r\n{b}",
            self.call_id.len(),
            self.call_id,
            b.len()
        )
        .into_bytes()
    }
    pub fn response(&self, code: &str, cseq: u32, method: &str, body: Option<&str>, from_a: bool) -> Vec<u8> {
        let (src, dst) = if from_a { (self.a, self.b) } else { (self.b, self.a) };
        let (ftag, ttag) = if from_a { (&self.to_tag, &self.from_tag) } else { (&self.from_tag, &self.to_tag) };
        let b = body.unwrap_or("");
        let ctl = if b.is_empty() { String::new() } else { "Content-Type: application/sdp\r\n".to_string() };
        format!(
            "SIP/2.0 {code}\r\nVia: SIP/2.0/UDP {dst}:{FACETIME_PORT};branch=z9hG4bK{cseq:x}{}\r\n\
             From: \"+15551230001\" <sip:+15551230001@{dst}>;tag={ftag}\r\nTo: <sip:user@{src}>;tag={ttag}\r\nCall-ID: {}\r\n\
             CSeq: {cseq} {method}\r\nContact: <sip:user@{src}:{FACETIME_PORT}>\r\n{ctl}Content-Length: {}\r\n\r\n{b}",
            self.call_id.len(),
            self.call_id,
            b.len()
        )
        .into_bytes()
    }
}

/// RTP v2 with the extension bit and Apple's 0x4400 header extension (one word).
pub fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    let b1 = pt | if marker { 0x80 } else { 0 };
    [&[0x90, b1][..], &seq.to_be_bytes(), &ts.to_be_bytes(), &ssrc.to_be_bytes(), &[0x44, 0x00, 0, 1], &[0, 0, 0x10, 0x20], payload].concat()
}

/// RTCP sender report (no report blocks) + SDES CNAME.
pub fn rtcp_sr(ssrc: u32, ts: u32, packets: u32, octets: u32) -> Vec<u8> {
    let sr = [&[0x80u8, 200, 0, 6][..], &ssrc.to_be_bytes(), &[0xe9, 0, 0, 0, 0, 0, 0, 0], &ts.to_be_bytes(), &packets.to_be_bytes(), &octets.to_be_bytes()].concat();
    // One chunk: SSRC, CNAME (2 + 6 bytes), the null item and padding to a word: 16 bytes.
    let sdes = [&[0x81u8, 202, 0, 4][..], &ssrc.to_be_bytes(), &[1, 6], b"iphone", &[0, 0, 0, 0]].concat();
    [sr, sdes].concat()
}

pub fn item(id: u8, v: &[u8]) -> Vec<u8> {
    [&[id][..], &(v.len() as u16).to_be_bytes(), v].concat()
}

pub fn msg(cmd: u8, items: &[Vec<u8>]) -> Vec<u8> {
    let body = items.concat();
    [&[cmd][..], &(body.len() as u32).to_be_bytes(), &body].concat()
}

/// A minimal binary property list writer: one dictionary of string keys to ints, strings and
/// data (what an iMessage envelope looks like: `c`, `i`, `U`, `sP`, `tP`, `e`, `P`).
pub enum PV<'a> {
    Int(u64),
    Str(&'a str),
    Data(&'a [u8]),
}

fn bp_marker(o: &mut Vec<u8>, hi: u8, len: usize) {
    if len < 15 {
        o.push(hi << 4 | len as u8);
    } else {
        o.push(hi << 4 | 0xf);
        o.push(0x13);
        o.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

pub fn bplist_dict(entries: &[(&str, PV)]) -> Vec<u8> {
    let n = entries.len();
    let mut objs: Vec<Vec<u8>> = vec![Vec::new()];
    let mut dict = Vec::new();
    bp_marker(&mut dict, 0xd, n);
    for (i, (k, _)) in entries.iter().enumerate() {
        dict.push(1 + i as u8);
        let mut o = Vec::new();
        bp_marker(&mut o, 0x5, k.len());
        o.extend_from_slice(k.as_bytes());
        objs.push(o);
    }
    for (i, (_, v)) in entries.iter().enumerate() {
        dict.push(1 + (n + i) as u8);
        let mut o = Vec::new();
        match v {
            PV::Int(x) => {
                o.push(0x13);
                o.extend_from_slice(&x.to_be_bytes());
            }
            PV::Str(s) => {
                bp_marker(&mut o, 0x5, s.len());
                o.extend_from_slice(s.as_bytes());
            }
            PV::Data(d) => {
                bp_marker(&mut o, 0x4, d.len());
                o.extend_from_slice(d);
            }
        }
        objs.push(o);
    }
    objs[0] = dict;
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for o in &objs {
        offsets.push(out.len() as u32);
        out.extend_from_slice(o);
    }
    let table = out.len() as u64;
    for off in offsets {
        out.extend_from_slice(&off.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 4, 1]);
    out.extend_from_slice(&(objs.len() as u64).to_be_bytes());
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(&table.to_be_bytes());
    out
}

/// MPTCP v0 DSS with a 4-byte data ACK and a 4-byte mapping (iOS 7: no checksum).
pub fn dss(ack: u32, map: Option<(u32, u32, u16)>) -> Vec<u8> {
    let mut d = vec![0x20, 0x01 | if map.is_some() { 0x04 } else { 0 }];
    d.extend_from_slice(&ack.to_be_bytes());
    if let Some((dsn, ssn, len)) = map {
        d.extend_from_slice(&dsn.to_be_bytes());
        d.extend_from_slice(&ssn.to_be_bytes());
        d.extend_from_slice(&len.to_be_bytes());
    }
    tcp_opt(30, &d)
}

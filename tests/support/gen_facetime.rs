//! The FaceTime call generator: call flows on one shared UDP port (16402), modelled on the
//! seeds (001: STUN, SIP revealing phone numbers, a long UDP stream until SIP BYE; 003: INVITE,
//! 100, 180, 200, ACK, MESSAGE mid-call, BYE, SDP, 16-byte punches, RTP and RTCP on the same
//! port, no SRTP). It keeps its own record of what it wrote (class of each frame, streams and
//! their packet counts, SIP methods, times). Used by the golden tests (`tests/facetime.rs`) and
//! the bundled sample (`samples/facetime-demo.pcap`).

use super::{Capture, Dir, Flow, Rng};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// The classes the demultiplexer must report, as the generator knows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    Sip,
    Stun,
    Snatmap,
    Rtp,
    Rtcp,
}

impl Class {
    pub fn name(self) -> &'static str {
        match self {
            Class::Sip => "sip",
            Class::Stun => "stun",
            Class::Snatmap => "snatmap",
            Class::Rtp => "rtp",
            Class::Rtcp => "rtcp",
        }
    }
}

/// One RTP stream as the generator sends it.
#[derive(Clone, Debug)]
pub struct Stream {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ssrc: u32,
    pub pt: u8,
    /// Encoding name the SDP gave `pt`.
    pub encoding: &'static str,
    pub clock: u32,
    pub seq: u16,
    pub ts: u32,
    /// Apple's 0x4400 header extension on every packet.
    pub apple_ext: bool,
    pub sent: u32,
}

/// What the generator wrote, frame by frame.
#[derive(Default)]
pub struct Record {
    pub classes: Vec<Class>,
    /// frame → SIP method or status line start ("INVITE", "200", …).
    pub sip: BTreeMap<u32, String>,
    /// frame → (time since capture start) of SIP frames.
    pub times: BTreeMap<u32, Duration>,
    /// RTP frames with Apple's extension.
    pub apple_ext_frames: Vec<u32>,
    /// SNATMAP frames.
    pub snatmap_frames: Vec<u32>,
}

/// How many frames of class `c` the generator wrote.
pub fn count_of(rec: &Record, c: Class) -> usize {
    rec.classes.iter().filter(|x| **x == c).count()
}

pub struct Gen {
    pub cap: Capture,
    pub rec: Record,
    pub start: Duration,
    pub rng: Rng,
}

impl Gen {
    pub fn new(seed: u64) -> Gen {
        let cap = Capture::new().clock(Duration::from_secs(1_279_000_000), Duration::from_millis(20));
        let start = cap.clock;
        Gen { cap, rec: Record::default(), start, rng: Rng::new(seed) }
    }

    pub fn frame_no(&self) -> u32 {
        self.cap.len() as u32 + 1
    }

    pub fn send(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8], class: Class) -> u32 {
        let n = self.frame_no();
        let mut f = Flow::udp(src, dst);
        self.rec.times.insert(n, self.cap.clock - self.start);
        self.cap.push(f.send(Dir::ToServer, payload));
        self.rec.classes.push(class);
        n
    }

    pub fn sip(&mut self, src: SocketAddr, dst: SocketAddr, text: &str) -> u32 {
        let first = text.split(' ').next().unwrap();
        let key = if first == "SIP/2.0" { text.split(' ').nth(1).unwrap().to_string() } else { first.to_string() };
        let n = self.send(src, dst, text.as_bytes(), Class::Sip);
        self.rec.sip.insert(n, key);
        n
    }

    pub fn rtp(&mut self, s: &mut Stream) -> u32 {
        let mut p = vec![0x80 | if s.apple_ext { 0x10 } else { 0 }, s.pt & 0x7f];
        p.extend_from_slice(&s.seq.to_be_bytes());
        p.extend_from_slice(&s.ts.to_be_bytes());
        p.extend_from_slice(&s.ssrc.to_be_bytes());
        if s.apple_ext {
            // profile 0x4400, 2 words of Apple data.
            p.extend_from_slice(&[0x44, 0x00, 0x00, 0x02]);
            p.extend_from_slice(&self.rng.bytes(8));
        }
        let len = 40 + self.rng.below(120) as usize;
        p.extend_from_slice(&self.rng.bytes(len));
        s.seq = s.seq.wrapping_add(1);
        s.ts = s.ts.wrapping_add(s.clock / 50);
        s.sent += 1;
        let n = self.send(s.src, s.dst, &p, Class::Rtp);
        if s.apple_ext {
            self.rec.apple_ext_frames.push(n);
        }
        n
    }

    /// RTCP sender report (RFC 3550 §6.4.1, no report blocks) + SDES CNAME.
    pub fn rtcp(&mut self, s: &Stream, cname: &str) -> u32 {
        let mut p = vec![0x80, 200, 0x00, 0x06];
        p.extend_from_slice(&s.ssrc.to_be_bytes());
        p.extend_from_slice(&[0xd0, 0x0a, 0x5b, 0x00, 0x12, 0x34, 0x56, 0x78]); // NTP
        p.extend_from_slice(&s.ts.to_be_bytes());
        p.extend_from_slice(&s.sent.to_be_bytes());
        p.extend_from_slice(&(s.sent * 100).to_be_bytes());
        // SDES: one chunk, CNAME, END, padded to a word.
        let mut chunk = s.ssrc.to_be_bytes().to_vec();
        chunk.extend_from_slice(&[1, cname.len() as u8]);
        chunk.extend_from_slice(cname.as_bytes());
        chunk.push(0);
        while chunk.len() % 4 != 0 {
            chunk.push(0);
        }
        let words = (chunk.len() / 4) as u16;
        p.extend_from_slice(&[0x81, 202]);
        p.extend_from_slice(&words.to_be_bytes());
        p.extend_from_slice(&chunk);
        self.send(s.src, s.dst, &p, Class::Rtcp)
    }

    /// RFC 5389 Binding Request with a SOFTWARE attribute.
    pub fn stun_request(&mut self, src: SocketAddr, dst: SocketAddr, txid: [u8; 12]) -> u32 {
        let sw = b"FaceTime";
        let mut p = vec![0x00, 0x01, 0x00, (4 + sw.len()) as u8, 0x21, 0x12, 0xa4, 0x42];
        p.extend_from_slice(&txid);
        p.extend_from_slice(&[0x80, 0x22, 0x00, sw.len() as u8]);
        p.extend_from_slice(sw);
        self.send(src, dst, &p, Class::Stun)
    }

    /// Binding Success Response with XOR-MAPPED-ADDRESS of `mapped` (IPv4).
    pub fn stun_response(&mut self, src: SocketAddr, dst: SocketAddr, txid: [u8; 12], mapped: SocketAddr) -> u32 {
        let mut p = vec![0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42];
        p.extend_from_slice(&txid);
        p.extend_from_slice(&[0x00, 0x20, 0x00, 0x08, 0x00, 0x01]);
        p.extend_from_slice(&(mapped.port() ^ 0x2112).to_be_bytes());
        let IpAddr::V4(a) = mapped.ip() else { panic!("IPv4") };
        let x: Vec<u8> = a.octets().iter().zip([0x21, 0x12, 0xa4, 0x42]).map(|(o, k)| o ^ k).collect();
        p.extend_from_slice(&x);
        self.send(src, dst, &p, Class::Stun)
    }

    /// SNATMAP punch (protocol notes §2): request type 1 … 0xAAAA, response type 2 inverted.
    pub fn snatmap(&mut self, src: SocketAddr, dst: SocketAddr, nonce: u32, response: bool) -> u32 {
        let mut p = Vec::with_capacity(16);
        let IpAddr::V4(a) = src.ip() else { panic!("IPv4") };
        let IpAddr::V4(d) = dst.ip() else { panic!("IPv4") };
        if response {
            p.extend_from_slice(&2u32.to_be_bytes());
            p.extend_from_slice(&nonce.to_be_bytes());
            p.extend(d.octets().iter().map(|o| !o));
            p.extend(dst.port().to_be_bytes().iter().map(|o| !o));
            p.extend_from_slice(&[0, 0]);
        } else {
            p.extend_from_slice(&1u32.to_be_bytes());
            p.extend_from_slice(&nonce.to_be_bytes());
            p.extend_from_slice(&a.octets());
            p.extend_from_slice(&src.port().to_be_bytes());
            p.extend_from_slice(&[0xaa, 0xaa]);
        }
        assert_eq!(p.len(), 16);
        let n = self.send(src, dst, &p, Class::Snatmap);
        self.rec.snatmap_frames.push(n);
        n
    }
}

/// The two iPhones of the call (phone numbers in From/To as in seed 003).
pub struct Parties {
    pub caller: SocketAddr,
    pub callee: SocketAddr,
    pub caller_uri: &'static str,
    pub callee_uri: &'static str,
    pub call_id: &'static str,
}

pub fn parties() -> Parties {
    Parties {
        caller: sa("198.51.100.7:16402"),
        callee: sa("10.0.1.5:16402"),
        caller_uri: "sip:+18883223846@198.51.100.7:16402",
        callee_uri: "sip:+15555550123@10.0.1.5:16402",
        call_id: "7b1f1c6a-9c2e-11df-9d42-0023dfd8c2e4",
    }
}

/// SDP as FaceTime (2010) sent it: audio and video on the signalling port, RTCP on it too.
pub fn sdp(owner: &str, addr: IpAddr, port: u16) -> String {
    format!(
        "v=0\r\no={owner} 0 0 IN IP4 {addr}\r\ns=\r\nc=IN IP4 {addr}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 110 13\r\na=rtcp:{port}\r\na=rtpmap:110 AAC-ELD/24000\r\na=rtpmap:13 CN/8000\r\n\
         m=video {port} RTP/AVP 126 34\r\na=rtcp:{port}\r\na=rtpmap:126 X-H264/90000\r\na=rtpmap:34 H263/90000\r\n"
    )
}

#[allow(clippy::too_many_arguments)]
pub fn request(method: &str, p: &Parties, from_caller: bool, cseq: u32, to_tag: Option<&str>, ctype: Option<&str>, body: &str) -> String {
    let (src, dst) = if from_caller { (p.caller, p.callee) } else { (p.callee, p.caller) };
    let (from_uri, to_uri, from_tag) =
        if from_caller { (p.caller_uri, p.callee_uri, "caller-tag-1") } else { (p.callee_uri, p.caller_uri, to_tag.unwrap_or("callee-tag-9")) };
    let to_tag = if from_caller { to_tag } else { Some("caller-tag-1") };
    let ruri = if from_caller { p.callee_uri } else { p.caller_uri };
    let mut s = format!(
        "{method} {ruri} SIP/2.0\r\nVia: SIP/2.0/UDP {src};branch=z9hG4bK{cseq}{method}\r\nMax-Forwards: 70\r\n\
         From: <{from_uri}>;tag={from_tag}\r\nTo: <{to_uri}>{}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:{src}>\r\nUser-Agent: Viceroy 1.4\r\n",
        to_tag.map(|t| format!(";tag={t}")).unwrap_or_default(),
        p.call_id
    );
    let _ = dst;
    if let Some(ct) = ctype {
        s.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    s.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s
}

/// A response to a request from the caller (`to_caller`) or from the callee.
#[allow(clippy::too_many_arguments)]
pub fn response(code: u16, reason: &str, p: &Parties, to_caller: bool, cseq: u32, method: &str, ctype: Option<&str>, body: &str) -> String {
    let (src, requester) = if to_caller { (p.callee, p.caller) } else { (p.caller, p.callee) };
    let (from_uri, from_tag, to_uri, to_tag) = if to_caller {
        (p.caller_uri, "caller-tag-1", p.callee_uri, if code > 100 { Some("callee-tag-9") } else { None })
    } else {
        (p.callee_uri, "callee-tag-9", p.caller_uri, Some("caller-tag-1"))
    };
    let mut s = format!(
        "SIP/2.0 {code} {reason}\r\nVia: SIP/2.0/UDP {requester};branch=z9hG4bK{cseq}{method}\r\n\
         From: <{from_uri}>;tag={from_tag}\r\nTo: <{to_uri}>{}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:{src}>\r\n",
        to_tag.map(|t| format!(";tag={t}")).unwrap_or_default(),
        p.call_id
    );
    if let Some(ct) = ctype {
        s.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    s.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    s
}

/// The four RTP streams of a call: audio and video, both directions (video from the
/// caller carries Apple's 0x4400 extension, as 2015-era FaceTime media did).
pub fn streams(p: &Parties) -> Vec<Stream> {
    let mk = |src, dst, ssrc, pt, encoding, clock, apple_ext| Stream { src, dst, ssrc, pt, encoding, clock, seq: 1000, ts: 5000, apple_ext, sent: 0 };
    vec![
        mk(p.caller, p.callee, 0x1111_0001, 110, "AAC-ELD", 24000, false),
        mk(p.callee, p.caller, 0x2222_0001, 110, "AAC-ELD", 24000, false),
        mk(p.caller, p.callee, 0x1111_0002, 126, "X-H264", 90000, true),
        mk(p.callee, p.caller, 0x2222_0002, 126, "X-H264", 90000, false),
    ]
}

pub fn media_burst(g: &mut Gen, ss: &mut [Stream], rounds: usize, rtcp: bool) {
    for r in 0..rounds {
        for s in ss.iter_mut() {
            g.rtp(s);
        }
        if rtcp && r % 5 == 4 {
            let (a, b) = (ss[0].clone(), ss[1].clone());
            g.rtcp(&a, "caller@facetime");
            g.rtcp(&b, "callee@facetime");
        }
    }
}

/// Seed-shaped call: STUN and SNATMAP punches, INVITE/100/180/200/ACK with SDP, media both
/// ways with RTCP, a MESSAGE mid-call, more media, BYE/200. With `media_first`, a few RTP
/// packets arrive before the INVITE that describes them.
pub fn call_flow(media_first: bool) -> (Gen, Parties, Vec<Stream>) {
    call_flow_with(media_first, true)
}

/// [`call_flow`], optionally without the STUN exchange before the call.
pub fn call_flow_with(media_first: bool, stun: bool) -> (Gen, Parties, Vec<Stream>) {
    let p = parties();
    let mut g = Gen::new(if media_first { 7 } else { 3 });
    let mut ss = streams(&p);
    let callee_sdp = sdp("callee", p.callee.ip(), p.callee.port());
    let caller_sdp = sdp("caller", p.caller.ip(), p.caller.port());

    if media_first {
        media_burst(&mut g, &mut ss, 3, false);
    }
    if stun {
        let tx = [7u8; 12];
        g.stun_request(p.callee, p.caller, tx);
        g.stun_response(p.caller, p.callee, tx, p.callee);
    }
    g.snatmap(p.callee, p.caller, 0x1234_5678, false);
    g.snatmap(p.caller, p.callee, 0x1234_5678, true);

    g.sip(p.caller, p.callee, &request("INVITE", &p, true, 1, None, Some("application/sdp"), &caller_sdp));
    g.sip(p.callee, p.caller, &response(100, "Trying", &p, true, 1, "INVITE", None, ""));
    g.sip(p.callee, p.caller, &response(180, "Ringing", &p, true, 1, "INVITE", None, ""));
    g.sip(p.callee, p.caller, &response(200, "OK", &p, true, 1, "INVITE", Some("application/sdp"), &callee_sdp));
    g.sip(p.caller, p.callee, &request("ACK", &p, true, 1, Some("callee-tag-9"), None, ""));

    media_burst(&mut g, &mut ss, 10, true);
    g.sip(p.caller, p.callee, &request("MESSAGE", &p, true, 2, Some("callee-tag-9"), Some("text/plain"), "orientation=landscape"));
    g.sip(p.callee, p.caller, &response(200, "OK", &p, true, 2, "MESSAGE", None, ""));
    media_burst(&mut g, &mut ss, 10, true);
    g.sip(p.callee, p.caller, &request("BYE", &p, false, 1, Some("callee-tag-9"), None, ""));
    g.sip(p.caller, p.callee, &response(200, "OK", &p, false, 1, "BYE", None, ""));
    (g, p, ss)
}


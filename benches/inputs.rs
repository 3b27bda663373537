//! The core parsers' benchmark inputs, shared by benches/parsers.rs (criterion: time and
//! throughput) and benches/instructions.rs (callgrind: instructions per call, independent of
//! the machine's load). Built with benches/tshark/wire.rs, the layouts the tshark
//! benchmark's captures carry, and the bplist samples of tests/data.
#![allow(dead_code)]

use std::net::Ipv4Addr;

use appleshark::core::apns::Dir;
use appleshark::core::snatmap;

use super::wire::*;

/// 4096 SNATMAP messages, requests and responses alternating (64 KiB).
pub fn snatmap_stream() -> Vec<u8> {
    let mut buf = Vec::new();
    for i in 0..4096u32 {
        let ip = Ipv4Addr::from(0x0a00_0000 | i);
        let m = if i % 2 == 0 { snatmap::encode_request(i, ip, 16402) } else { snatmap::encode_response(i, ip, 61000) };
        buf.extend_from_slice(&m);
    }
    buf
}

/// A courier stream: Connect, Filter Topics, then 0x0A messages (token, topic hash, payload of
/// 100–4000 bytes, id, expiry, timestamp, priority) each followed by its 0x0B ack.
pub fn apns_stream() -> Vec<u8> {
    let token = [0xAB; 32];
    let mut s = msg(7, &[item(1, &token), item(2, &[1]), item(6, &[1]), item(8, b"WiFi"), item(9, b"17.0"), item(10, b"21A329"), item(11, b"iPhone15,2")]);
    s.extend(msg(9, &[item(1, &token), item(2, &[0x11; 20]), item(2, &[0x22; 20]), item(3, &[0x33; 20])]));
    for i in 0..200u32 {
        let payload = vec![(i & 0xff) as u8; 100 + (i as usize * 97) % 3900];
        s.extend(msg(0x0A, &[item(1, &token), item(2, &[0x44; 20]), item(3, &payload), item(4, &i.to_be_bytes()), item(5, &[0x6b, 0, 0, 0]), item(6, &(1u64 << 60).to_be_bytes()), item(13, &[10])]));
        s.extend(msg(0x0B, &[item(1, &token), item(4, &i.to_be_bytes()), item(8, &[0])]));
    }
    s
}

/// 400 message acks (51 bytes each: token, message id, status).
pub fn apns_acks() -> Vec<u8> {
    (0..400u32).flat_map(|i| msg(0x0B, &[item(1, &[0xAB; 32]), item(4, &i.to_be_bytes()), item(8, &[0])])).collect()
}

/// One 0x0A push with a 2,000-byte payload.
pub fn apns_push() -> Vec<u8> {
    msg(0x0A, &[item(1, &[0xAB; 32]), item(2, &[0x44; 20]), item(3, &[7; 2000]), item(4, &[0, 0, 0, 1]), item(13, &[10])])
}

/// The bplist samples of tests/data and an iMessage envelope with a 3 KB `P`.
pub fn bplists() -> Vec<(String, Vec<u8>)> {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/bplist/");
    let mut out: Vec<(String, Vec<u8>)> =
        ["imessage", "nested", "wide_refs", "big_offsets"].iter().map(|f| (f.to_string(), std::fs::read(format!("{data}{f}.bplist")).unwrap())).collect();
    let p = vec![0x5a; 3000];
    let env = bplist_dict(&[("c", PV::Int(100)), ("i", PV::Int(7)), ("sP", PV::Str("mailto:a@example.com")), ("tP", PV::Str("tel:+15551230002")), ("P", PV::Data(&p))]);
    out.push(("iMessage envelope, 3 KB P".into(), env));
    out
}

/// One FaceTime call's datagrams on the shared port.
pub struct FaceTime {
    pub invite: Vec<u8>,
    pub ok: Vec<u8>,
    pub bye: Vec<u8>,
    pub rtp_video: Vec<u8>,
    pub rtp_audio: Vec<u8>,
    pub rtcp: Vec<u8>,
    pub stun: Vec<u8>,
    pub snatmap: Vec<u8>,
}

pub fn facetime() -> FaceTime {
    let sip = Sip { a: "10.0.0.2", b: "203.0.113.9", call_id: "0001-ft@10.0.0.2".into(), from_tag: "a1".into(), to_tag: "b2".into() };
    let offer = sdp("10.0.0.2", 1);
    FaceTime {
        invite: sip.request("INVITE", 1, Some(("application/sdp", &offer)), true),
        ok: sip.response("200 OK", 1, "INVITE", Some(&offer), false),
        bye: sip.request("BYE", 3, None, true),
        rtp_video: rtp(123, 1, 960, 0x1234, false, &[0x55; 900]),
        rtp_audio: rtp(104, 2, 960, 0x1235, false, &[0x55; 120]),
        rtcp: rtcp_sr(0x1234, 960, 10, 5000),
        stun: stun_binding(&[9; 12], true),
        snatmap: snatmap::encode_request(1, Ipv4Addr::new(10, 0, 0, 2), 16402).to_vec(),
    }
}

impl FaceTime {
    /// What the port sees, mostly media: 40 video, 40 audio, 4 RTCP, 1 each of the rest.
    pub fn mux(&self) -> Vec<&[u8]> {
        let mut mux: Vec<&[u8]> = vec![&self.invite, &self.ok, &self.bye, &self.stun, &self.snatmap];
        mux.extend(std::iter::repeat_n(self.rtp_video.as_slice(), 40));
        mux.extend(std::iter::repeat_n(self.rtp_audio.as_slice(), 40));
        mux.extend(std::iter::repeat_n(self.rtcp.as_slice(), 4));
        mux
    }
    pub fn sips(&self) -> Vec<&[u8]> {
        vec![&self.invite, &self.ok, &self.bye]
    }
}

/// Option areas as segments carry them: DSS with mapping (+ NOP padding), DSS ack only,
/// MP_CAPABLE with both keys, timestamps + DSS.
pub fn mptcp_areas() -> Vec<Vec<u8>> {
    let pad = |mut o: Vec<u8>| {
        while o.len() % 4 != 0 {
            o.push(1);
        }
        o
    };
    vec![
        pad(dss(0x1111_2222, Some((0x3333_4444, 1, 1428)))),
        pad(dss(0x1111_2222, None)),
        [&[30u8, 20, 0x00, 0x01][..], &7u64.to_be_bytes(), &9u64.to_be_bytes()].concat(),
        pad([&[1u8, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2][..], &dss(0x1111_2222, Some((0x3333_4444, 1, 1428)))].concat()),
    ]
}

/// The packed framing's messages of the oracle's plain session (rustpush's encoder,
/// tests/data/apns-packed/packed-plain.*.jsonl): every message each side received, in order,
/// with its direction.
pub fn packed_session() -> Vec<(Dir, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/apns-packed");
    let mut out = Vec::new();
    for (side, d) in [("server", Dir::ToServer), ("client", Dir::ToDevice)] {
        let text = std::fs::read_to_string(dir.join(format!("packed-plain.{side}.jsonl"))).expect("oracle record");
        for l in text.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            if v["event"] == "received" {
                let h = v["raw"].as_str().unwrap();
                let b = (0..h.len() / 2).map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap()).collect();
                out.push((d, b));
            }
        }
    }
    out
}

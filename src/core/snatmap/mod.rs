//! SNATMAP, Apple's 16-byte NAT-mapping protocol (iChat AV, FaceTime hole punching).
//!
//! Wire format (protocol notes §2; all fields big-endian, exactly 16 bytes):
//!
//! ```text
//! request : type=1 (4) | nonce (4) | local IPv4 (4)          | local port (2)          | 0xAAAA
//! response: type=2 (4) | nonce (4) | ~mapped IPv4 (4)        | ~mapped port (2)        | unused (2)
//! ```
//!
//! The response carries the mapped address and port with every bit inverted, so that NAT
//! helpers that rewrite addresses found in payloads leave it alone.
//!
//! [`matcher`]: request/response matching per conversation (retransmissions, duplicates,
//! the per-conversation cap).

pub mod matcher;

use crate::core::span::Span;
use nom::number::complete::{be_u16, be_u32};
use nom::IResult;
use std::net::Ipv4Addr;

/// Every SNATMAP message is exactly this long.
pub const LEN: usize = 16;
/// The trailer of a request.
pub const REQUEST_TRAILER: u16 = 0xAAAA;
pub const TYPE_REQUEST: u32 = 1;
pub const TYPE_RESPONSE: u32 = 2;

/// Where each field sits in the 16 bytes (the same for both message types).
pub mod at {
    use crate::core::span::Span;
    pub const TYPE: Span = Span::new(0, 4);
    pub const NONCE: Span = Span::new(4, 4);
    pub const ADDR: Span = Span::new(8, 4);
    pub const PORT: Span = Span::new(12, 2);
    pub const TRAILER: Span = Span::new(14, 2);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub nonce: u32,
    pub local_ip: Ipv4Addr,
    pub local_port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub nonce: u32,
    /// The address word exactly as sent (inverted).
    pub raw_addr: u32,
    /// The port word exactly as sent (inverted).
    pub raw_port: u16,
    /// Bytes 14–15, which the client ignores.
    pub trailer: u16,
}

impl Response {
    pub fn mapped_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(!self.raw_addr)
    }
    pub fn mapped_port(&self) -> u16 {
        !self.raw_port
    }
}

impl Message {
    pub fn nonce(&self) -> u32 {
        match self {
            Message::Request(r) => r.nonce,
            Message::Response(r) => r.nonce,
        }
    }
    pub fn type_code(&self) -> u32 {
        match self {
            Message::Request(_) => TYPE_REQUEST,
            Message::Response(_) => TYPE_RESPONSE,
        }
    }
}

/// What makes a response believable where it is found by content alone. A response has 32
/// fixed bits and a length (about one in 2^32 random 16-byte datagrams, far more among
/// network probes that start with a small counter), so on its own it is weak: it needs one of
/// these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResponseEvidence {
    /// A request came from the response's destination in the same conversation.
    pub request_seen: bool,
    /// It was sent from a SNATMAP server port to a port that is not one (MNDP, which shares
    /// 5678, announces from 5678 to 5678).
    pub from_server_port: bool,
    /// It was sent from one of Apple's addresses.
    pub from_apple: bool,
}

impl ResponseEvidence {
    pub fn believable(&self) -> bool {
        self.request_seen || self.from_server_port || self.from_apple
    }
}

/// Why 16 bytes (or not) are not a SNATMAP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// Not exactly 16 bytes.
    Length(usize),
    /// The first word is neither 1 nor 2.
    Type(u32),
    /// A type-1 message without the 0xAAAA trailer.
    Trailer(u16),
}

/// Anomalies in a message that is still SNATMAP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anomaly {
    /// The nonce's top bit is set (Apple's client draws 31-bit nonces).
    NonceTopBit,
}

fn words(i: &[u8]) -> IResult<&[u8], (u32, u32, u32, u16, u16)> {
    let (i, ty) = be_u32(i)?;
    let (i, nonce) = be_u32(i)?;
    let (i, addr) = be_u32(i)?;
    let (i, port) = be_u16(i)?;
    let (i, tail) = be_u16(i)?;
    Ok((i, (ty, nonce, addr, port, tail)))
}

/// Parses a UDP payload. Accepts exactly what Apple's client accepts, plus the request
/// trailer check that makes the heuristic strict: 16 bytes, type 1 with 0xAAAA, or type 2.
pub fn parse(payload: &[u8]) -> Result<Message, Reject> {
    if payload.len() != LEN {
        return Err(Reject::Length(payload.len()));
    }
    let (_, (ty, nonce, addr, port, tail)) =
        words(payload).map_err(|_| Reject::Length(payload.len()))?;
    match ty {
        TYPE_REQUEST if tail == REQUEST_TRAILER => Ok(Message::Request(Request {
            nonce,
            local_ip: Ipv4Addr::from(addr),
            local_port: port,
        })),
        TYPE_REQUEST => Err(Reject::Trailer(tail)),
        TYPE_RESPONSE => Ok(Message::Response(Response {
            nonce,
            raw_addr: addr,
            raw_port: port,
            trailer: tail,
        })),
        other => Err(Reject::Type(other)),
    }
}

/// The cheap test a heuristic runs on every UDP packet: no parsing beyond five words.
pub fn looks_like(payload: &[u8]) -> bool {
    parse(payload).is_ok()
}

/// Anomalies of a parsed message.
pub fn anomalies(msg: &Message) -> impl Iterator<Item = Anomaly> {
    (msg.nonce() & 0x8000_0000 != 0)
        .then_some(Anomaly::NonceTopBit)
        .into_iter()
}

/// What a response says about the path, compared with its request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// The mapped address or port differs from the request's local one.
    pub nat: bool,
    /// The mapped port equals the request's local port.
    pub port_preserved: bool,
}

pub fn verdict(req: &Request, resp: &Response) -> Verdict {
    Verdict {
        nat: req.local_ip != resp.mapped_ip() || req.local_port != resp.mapped_port(),
        port_preserved: req.local_port == resp.mapped_port(),
    }
}

/// Builds the 16 bytes of a request (for generators and tests).
pub fn encode_request(nonce: u32, local_ip: Ipv4Addr, local_port: u16) -> [u8; LEN] {
    let mut b = [0u8; LEN];
    b[0..4].copy_from_slice(&TYPE_REQUEST.to_be_bytes());
    b[4..8].copy_from_slice(&nonce.to_be_bytes());
    b[8..12].copy_from_slice(&local_ip.octets());
    b[12..14].copy_from_slice(&local_port.to_be_bytes());
    b[14..16].copy_from_slice(&REQUEST_TRAILER.to_be_bytes());
    b
}

/// Builds the 16 bytes of a response carrying `mapped_ip:mapped_port` (inverted on the wire).
pub fn encode_response(nonce: u32, mapped_ip: Ipv4Addr, mapped_port: u16) -> [u8; LEN] {
    let mut b = [0u8; LEN];
    b[0..4].copy_from_slice(&TYPE_RESPONSE.to_be_bytes());
    b[4..8].copy_from_slice(&nonce.to_be_bytes());
    b[8..12].copy_from_slice(&(!u32::from(mapped_ip)).to_be_bytes());
    b[12..14].copy_from_slice(&(!mapped_port).to_be_bytes());
    b
}

/// Field positions, for renderers.
pub fn field_spans() -> [Span; 5] {
    [at::TYPE, at::NONCE, at::ADDR, at::PORT, at::TRAILER]
}

#[cfg(test)]
mod tests {
    use super::*;

    // A request written out by hand from the notes' layout, not by `encode_request`.
    const REQ: [u8; 16] = [
        0, 0, 0, 1, // type 1
        0x1a, 0x2b, 0x3c, 0x4d, // nonce
        192, 168, 1, 5, // local ip
        0x40, 0x12, // port 16402
        0xaa, 0xaa,
    ];
    // Response mapping to 203.0.113.7:61234; inverted by hand:
    // 203=0xcb->0x34, 0->0xff, 113=0x71->0x8e, 7->0xf8; 61234=0xef32 -> 0x10cd.
    const RESP: [u8; 16] = [
        0, 0, 0, 2, 0x1a, 0x2b, 0x3c, 0x4d, 0x34, 0xff, 0x8e, 0xf8, 0x10, 0xcd, 0, 0,
    ];

    #[test]
    fn a_lone_response_needs_evidence() {
        assert!(!ResponseEvidence::default().believable());
        for e in [
            ResponseEvidence { request_seen: true, ..Default::default() },
            ResponseEvidence { from_server_port: true, ..Default::default() },
            ResponseEvidence { from_apple: true, ..Default::default() },
        ] {
            assert!(e.believable(), "{e:?}");
        }
    }

    #[test]
    fn request_fields() {
        let Ok(Message::Request(r)) = parse(&REQ) else { panic!("not a request") };
        assert_eq!(r.nonce, 0x1a2b3c4d);
        assert_eq!(r.local_ip, Ipv4Addr::new(192, 168, 1, 5));
        assert_eq!(r.local_port, 16402);
        assert_eq!(encode_request(0x1a2b3c4d, Ipv4Addr::new(192, 168, 1, 5), 16402), REQ);
    }

    #[test]
    fn response_is_inverted() {
        let Ok(Message::Response(r)) = parse(&RESP) else { panic!("not a response") };
        assert_eq!(r.nonce, 0x1a2b3c4d);
        assert_eq!(r.raw_addr, 0x34ff8ef8);
        assert_eq!(r.raw_port, 0x10cd);
        assert_eq!(r.mapped_ip(), Ipv4Addr::new(203, 0, 113, 7));
        assert_eq!(r.mapped_port(), 61234);
        assert_eq!(encode_response(0x1a2b3c4d, Ipv4Addr::new(203, 0, 113, 7), 61234), RESP);
    }

    #[test]
    fn response_trailer_is_ignored() {
        let mut b = RESP;
        b[14] = 0x12;
        b[15] = 0x34;
        assert!(matches!(parse(&b), Ok(Message::Response(Response { trailer: 0x1234, .. }))));
    }

    #[test]
    fn wrong_lengths() {
        assert_eq!(parse(&REQ[..15]), Err(Reject::Length(15)));
        let mut long = REQ.to_vec();
        long.push(0);
        assert_eq!(parse(&long), Err(Reject::Length(17)));
        assert_eq!(parse(&[]), Err(Reject::Length(0)));
    }

    #[test]
    fn wrong_type() {
        for ty in [0u32, 3, 0x0100_0000, 0xffff_ffff, 0x0001_0001] {
            let mut b = REQ;
            b[0..4].copy_from_slice(&ty.to_be_bytes());
            assert_eq!(parse(&b), Err(Reject::Type(ty)), "type {ty:#x}");
        }
    }

    #[test]
    fn wrong_trailer() {
        for tail in [0u16, 0xaaab, 0xabaa, 0x5555] {
            let mut b = REQ;
            b[14..16].copy_from_slice(&tail.to_be_bytes());
            assert_eq!(parse(&b), Err(Reject::Trailer(tail)));
        }
    }

    #[test]
    fn verdicts() {
        let req = Request { nonce: 1, local_ip: Ipv4Addr::new(192, 168, 1, 5), local_port: 16402 };
        let same = |ip, port| {
            let Ok(Message::Response(r)) = parse(&encode_response(1, ip, port)) else { panic!() };
            verdict(&req, &r)
        };
        assert_eq!(
            same(Ipv4Addr::new(192, 168, 1, 5), 16402),
            Verdict { nat: false, port_preserved: true }
        );
        assert_eq!(
            same(Ipv4Addr::new(203, 0, 113, 7), 16402),
            Verdict { nat: true, port_preserved: true }
        );
        assert_eq!(
            same(Ipv4Addr::new(203, 0, 113, 7), 61234),
            Verdict { nat: true, port_preserved: false }
        );
    }

    #[test]
    fn nonce_top_bit() {
        let m = parse(&encode_request(0x8000_0001, Ipv4Addr::LOCALHOST, 1)).unwrap();
        assert_eq!(anomalies(&m).collect::<Vec<_>>(), vec![Anomaly::NonceTopBit]);
        let m = parse(&REQ).unwrap();
        assert_eq!(anomalies(&m).count(), 0);
    }
}

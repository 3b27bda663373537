//! Apple Push Notification service, device side ("courier", TCP 5223; protocol notes §1).
//!
//! Layers, each usable on its own:
//! - [`framing`]: 5-byte header, `pdu_len` for TCP reassembly, framing detection, and the
//!   strict cleartext [`framing::probe`] for a heuristic.
//! - [`message`]: one message → command, declared length, items (each with spans and a
//!   typed [`items::Value`]) and [`message::Anomaly`]s.
//! - [`items`]: the open command enum, per-command item tables with stable keys and the
//!   `apns.*` fields they map to, and value decoding.
//! - [`legacy`]: the iOS 4 framing (commands 0x00–0x06).
//! - [`topics`]: topic name ↔ SHA-1 table (names in `topics.txt`).
//! - [`packed`]: the packed framing `apns-pack-v1` (attributes, caches, per-frame records).
//! - [`tls`]: ALPN (with the packed framing's cache sizes) and courier server names.
//! - [`session`]: per-connection message/ack and request/response links, and a summary.
//!
//! Everything is zero-copy over `&[u8]`, never panics, and checks every length read from
//! the packet against the bytes present before using it.

pub mod courier_tls;
pub mod framing;
pub mod channels;
pub mod ids;
pub mod items;
pub mod legacy;
pub mod message;
pub mod packed;
pub mod protobuf;
pub mod session;
pub mod tls;
pub mod topics;

pub use framing::{
    detect_framing, next_pdu, pdu_len, probe, Framing, PduLen, Probe, DEFAULT_MAX_MESSAGE_SIZE,
    HEADER_LEN,
};
pub use items::{Command, Field, Interface, ItemDef, Kind, Value};
pub use message::{messages, parse_message, Anomaly, AnomalyKind, Item, Message};
pub use session::{Dir, Link, Pos, Session, Summary};
pub use tls::{courier_sni, Alpn, CourierEnv, PackSizes, ALPN_PACK_V1, ALPN_SECURITY_V3};
pub use topics::{topic_hash, TopicTable};

#[cfg(test)]
mod tests {
    use super::*;

    use crate::core::test_rng::Rng;

    /// Every public entry point on random and mutated inputs: no panic, and spans inside
    /// the buffer.
    #[test]
    fn never_panics_on_random_input() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        let mut session = Session::new();
        let seed_msg: &[u8] = &[
            0x0A, 0, 0, 0, 14, 4, 0, 4, 0, 0, 0, 1, 3, 0, 4, b'{', b'}', 0, 0,
        ];
        for n in 0..20_000u32 {
            let len = (r.next() % 64) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
            if n % 2 == 0 {
                // Mutate a valid message instead of pure noise, so items get walked.
                buf = seed_msg.to_vec();
                let flips = 1 + r.next() % 3;
                for _ in 0..flips {
                    let i = (r.next() as usize) % buf.len();
                    buf[i] = r.next() as u8;
                }
                buf.truncate((r.next() as usize) % (buf.len() + 1));
            }
            let _ = pdu_len(&buf, DEFAULT_MAX_MESSAGE_SIZE);
            let _ = next_pdu(&buf, u32::MAX);
            let _ = probe(&buf);
            let _ = detect_framing(&buf);
            let _ = legacy::pdu_len(&buf, u32::MAX);
            let _ = legacy::parse(&buf, u32::MAX);
            if let Ok(m) = parse_message(&buf) {
                assert!(m.consumed <= buf.len());
                for it in &m.items {
                    assert!(it.span.end() <= buf.len() && it.value_span.end() <= buf.len());
                    assert_eq!(&buf[it.value_span.offset..it.value_span.end()], it.raw);
                }
                for a in &m.anomalies {
                    assert!(a.span.end() <= buf.len(), "{a:?}");
                }
                let _ = session.feed(Pos::new(n, 0), i64::from(n), Dir::ToDevice, &m);
            }
            for (at, m) in messages(&buf, DEFAULT_MAX_MESSAGE_SIZE) {
                assert!(at + m.consumed <= buf.len());
            }
        }
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// Bytes produced by pypush 2.0.2 itself (`Command.to_packet()` then
    /// `PacketStream._serialize_packet`, run in a venv), a real client's encoder.
    #[test]
    fn pypush_vectors() {
        const CONNECT: &str = "0700000058010020abababababababababababababababababababababababababababababababab02000101050004000000410c000530030201000d0011000000018bcfe5680001020304050607080e000601015a5a5a5a100002000b";
        const FILTER: &str = "0900000051010020abababababababababababababababababababababababababababababababab020014e4e6d952954168d0a5db02dbaf27cc35fc18d159020014e85619abd42029c7481a7ac19092bb4690cbee76";
        const MSG_OUT: &str = "0a000000460300027b7d0400040000002a010014e4e6d952954168d0a5db02dbaf27cc35fc18d159020020abababababababababababababababababababababababababababababababab";
        const MSG_IN: &str = "0a000000460300027b7d0400040000002a010020abababababababababababababababababababababababababababababababab020014e4e6d952954168d0a5db02dbaf27cc35fc18d159";
        const ACK: &str = "0b0000002e0400040000002a08000100010020abababababababababababababababababababababababababababababababab";
        const SCOPED: &str = "110000003a010020abababababababababababababababababababababababababababababababab020014e4e6d952954168d0a5db02dbaf27cc35fc18d159";
        const SETSTATE: &str = "140000000b010001010200047fffffff";
        const KEEPALIVE: &str = "0c00000000";
        let expect: [(&str, &[&str]); 8] = [
            (
                CONNECT,
                &[
                    "push_token",
                    "state",
                    "flags",
                    "certificate",
                    "nonce",
                    "signature",
                    "protocol_version",
                ],
            ),
            (FILTER, &["push_token", "enabled_topic", "enabled_topic"]),
            (
                MSG_OUT,
                &["payload", "message_id", "topic_hash", "push_token"],
            ),
            (
                MSG_IN,
                &["payload", "message_id", "push_token", "topic_hash"],
            ),
            (ACK, &["message_id", "status", "push_token"]),
            (SCOPED, &["push_token", "topic_hash"]),
            (SETSTATE, &["state", "unknown2"]),
            (KEEPALIVE, &[]),
        ];
        let mut stream = Vec::new();
        for (hex, keys) in expect {
            let buf = unhex(hex);
            assert_eq!(probe(&buf), Probe::Match, "{hex}");
            assert_eq!(
                pdu_len(&buf, DEFAULT_MAX_MESSAGE_SIZE),
                PduLen::Len(buf.len())
            );
            let m = parse_message(&buf).unwrap();
            assert!(m.anomalies.is_empty(), "{:?}", m.anomalies);
            let got: Vec<&str> = m.items.iter().map(|i| i.key()).collect();
            assert_eq!(got, keys);
            stream.extend_from_slice(&buf);
        }
        let c_bytes = unhex(CONNECT);
        let c = parse_message(&c_bytes).unwrap();
        assert_eq!(
            c.item(13).unwrap().value,
            Value::Nonce {
                version: 0,
                time_ms: 1_700_000_000_000,
                random: &[1, 2, 3, 4, 5, 6, 7, 8]
            }
        );
        assert_eq!(c.item(16).unwrap().value, Value::U16(11));
        assert_eq!(c.item(5).unwrap().value, Value::U32(65));
        let m_bytes = unhex(MSG_OUT);
        let m = parse_message(&m_bytes).unwrap();
        assert_eq!(m.message_id(), Some(42));
        assert_eq!(
            topics::BUILTIN.lookup(m.topic_hash().unwrap()),
            Some("com.apple.madrid")
        );
        let f_bytes = unhex(FILTER);
        let f = parse_message(&f_bytes).unwrap();
        let names: Vec<&str> = f
            .items
            .iter()
            .filter_map(|i| match i.value {
                Value::TopicHash(h) => topics::BUILTIN.lookup(h),
                _ => None,
            })
            .collect();
        assert_eq!(names, ["com.apple.madrid", "com.apple.ess"]);
        // All eight back to back in one buffer.
        assert_eq!(messages(&stream, DEFAULT_MAX_MESSAGE_SIZE).count(), 8);
        // Incoming message then the device's ack (pypush `Connection.ack`).
        let mut s = Session::new();
        s.feed(
            Pos::new(10, 0),
            0,
            Dir::ToDevice,
            &parse_message(&unhex(MSG_IN)).unwrap(),
        );
        s.feed(
            Pos::new(11, 0),
            7,
            Dir::ToServer,
            &parse_message(&unhex(ACK)).unwrap(),
        );
        assert_eq!(s.link(Pos::new(10, 0)).unwrap().ack_in, Some(11));
        assert_eq!(s.link(Pos::new(11, 0)).unwrap().ack_time_ns, Some(7));
    }
}

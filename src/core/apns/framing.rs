//! Framing for TCP reassembly, framing detection, and the strict cleartext probe.
//!
//! Modern framing (iOS 5+): `command (1) | payload length (4, BE) | payload`. The length of
//! a message is known from its first 5 bytes, which is what Wireshark's `tcp_dissect_pdus`
//! needs (`get_pdu_len`). Legacy (iOS 4) framing is in [`super::legacy`].

use super::items::Command;

/// Command byte and payload length.
pub const HEADER_LEN: usize = 5;
/// Item id and value length.
pub const ITEM_HEADER_LEN: usize = 3;
/// A sensible default for the "maximum message size" preference (payload bytes). Connect
/// responses announce max/large message sizes of a few KiB; 1 MiB leaves ample room.
pub const DEFAULT_MAX_MESSAGE_SIZE: u32 = 1 << 20;
/// The probe refuses payloads longer than this.
/// Longest PDU ever returned as [`PduLen::Len`] (header included): Wireshark's PDU lengths,
/// tvb lengths and offsets are 32-bit signed, so a message declared longer than this is
/// [`PduLen::TooLarge`] whatever `max_message_size` says (a 4 GiB length would otherwise wrap
/// to a few bytes in `tcp_dissect_pdus`).
pub const MAX_PDU_LEN: usize = i32::MAX as usize;
pub const PROBE_MAX_PAYLOAD: u32 = 1 << 20;

/// The decoded 5-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command: u8,
    pub length: u32,
}

/// The header at the start of `buf`, if 5 bytes are there.
pub fn header(buf: &[u8]) -> Option<Header> {
    // A slice pattern, not a parser combinator: this runs once per message.
    let [command, a, b, c, d, ..] = *buf else { return None };
    Some(Header { command, length: u32::from_be_bytes([a, b, c, d]) })
}

/// The item header (id, value length) at the start of `buf`, if 3 bytes are there.
pub fn item_header(buf: &[u8]) -> Option<(u8, u16)> {
    // Once per item: a slice pattern.
    let [id, a, b, ..] = *buf else { return None };
    Some((id, u16::from_be_bytes([a, b])))
}

/// The answer of a length function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PduLen {
    /// At least this many bytes (counted from the start of the message) are needed before
    /// the length can be told (or, for [`next_pdu`], before the message is complete).
    NeedMore(usize),
    /// The whole message is this long, header included.
    Len(usize),
    /// The declared length (payload, or legacy body) exceeds the maximum; the stream
    /// cannot be framed further.
    TooLarge(u32),
    /// (Legacy only) a command byte that has no known layout: the stream cannot be framed.
    Unframeable(u8),
}

/// Length of the modern message at the start of `buf`, decided from the first 5 bytes only
/// (`max_message_size` bounds the payload length, header excluded).
pub fn pdu_len(buf: &[u8], max_message_size: u32) -> PduLen {
    let Some(h) = header(buf) else {
        return PduLen::NeedMore(HEADER_LEN);
    };
    if h.length > max_message_size {
        return PduLen::TooLarge(h.length);
    }
    match usize::try_from(h.length)
        .ok()
        .and_then(|l| l.checked_add(HEADER_LEN))
    {
        Some(total) if total <= MAX_PDU_LEN => PduLen::Len(total),
        _ => PduLen::TooLarge(h.length),
    }
}

/// Like [`pdu_len`], but `Len` only once the whole message is in `buf`; otherwise
/// `NeedMore(total)`.
pub fn next_pdu(buf: &[u8], max_message_size: u32) -> PduLen {
    match pdu_len(buf, max_message_size) {
        PduLen::Len(n) if buf.len() < n => PduLen::NeedMore(n),
        other => other,
    }
}

crate::value_enum! {
    /// Which framing a courier stream uses, from its first bytes (either direction).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Framing: u8 {
        /// iOS 5+ TLV framing (first command 0x07 Connect from the device, 0x08 from the server).
        Modern = 0 => "iOS 5+ (TLV items)";
        /// iOS 4 framing (first command 0x00 from the device, 0x01 from the server).
        Legacy = 1 => "iOS 4 (legacy)";
        /// The packed framing `apns-pack-v1` (`super::packed`), told by ALPN or by the first
        /// message.
        Packed = 2 => "packed (apns-pack-v1)";
    }
}

/// Tell the framing from the first byte of a stream: 0x00–0x06 are legacy commands,
/// anything else is taken as modern. `None` for an empty buffer.
///
/// A connection opens with the device's 0x00 (legacy) or 0x07 (modern), and the server
/// answers 0x01 or 0x08, so one byte from either side decides.
pub fn detect_framing(first_bytes: &[u8]) -> Option<Framing> {
    let (&b, _) = first_bytes.split_first()?;
    Some(if b <= 0x06 {
        Framing::Legacy
    } else {
        Framing::Modern
    })
}

/// The result of a heuristic probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// A known command, a sane length, items tiling the payload exactly.
    Match,
    /// Consistent so far; at least this many bytes are needed to decide.
    NeedMore(usize),
    NoMatch,
}

/// Commands that are seen with an empty payload (pypush sends an empty 0x0C).
fn may_be_empty(cmd: Command) -> bool {
    matches!(
        cmd,
        Command::KeepAlive | Command::KeepAliveAck | Command::FlushResponse
    )
}

/// Strict cleartext probe for a TCP heuristic: the first message must have a known command
/// (0x07–0x14), a payload length of at most [`PROBE_MAX_PAYLOAD`], and items that tile the
/// payload exactly (an empty payload only for 0x0C, 0x0D and 0x10). Never allocates.
pub fn probe(buf: &[u8]) -> Probe {
    let Some((&cmd, _)) = buf.split_first() else {
        return Probe::NeedMore(1);
    };
    let command = Command::from_u8(cmd);
    if !command.is_known() {
        return Probe::NoMatch;
    }
    let Some(h) = header(buf) else {
        return Probe::NeedMore(HEADER_LEN);
    };
    if h.length > PROBE_MAX_PAYLOAD {
        return Probe::NoMatch;
    }
    let declared = h.length as usize; // ≤ 1 MiB, fits any usize ≥ 32 bits
    if declared == 0 {
        return if may_be_empty(command) {
            Probe::Match
        } else {
            Probe::NoMatch
        };
    }
    if declared < ITEM_HEADER_LEN {
        return Probe::NoMatch;
    }
    let total = HEADER_LEN + declared;
    let payload = buf.get(HEADER_LEN..).unwrap_or(&[]);
    let mut off = 0usize;
    loop {
        if off == declared {
            // Every item header read; the last values must be present too.
            return if payload.len() >= declared {
                Probe::Match
            } else {
                Probe::NeedMore(total)
            };
        }
        if declared - off < ITEM_HEADER_LEN {
            return Probe::NoMatch; // trailing bytes
        }
        let Some((_, len)) = payload.get(off..).and_then(item_header) else {
            return Probe::NeedMore(total);
        };
        let next = off + ITEM_HEADER_LEN + usize::from(len);
        if next > declared {
            return Probe::NoMatch; // item overruns its message
        }
        off = next;
    }
}

/// The longest first message the heuristic believes while it is still incomplete (a Connect
/// with its device certificate is 1–3 KiB; a push is bounded by the server's announced
/// maximum of a few KiB). Complete first messages are bounded by [`PROBE_MAX_PAYLOAD`].
pub const PROBE_MAX_INCOMPLETE: u32 = 64 * 1024;

/// How many whole, well-formed items an incomplete first message must show.
pub const PROBE_MIN_ITEMS: usize = 2;

/// Whether a known item's value length is possible for its kind (fixed-size kinds exactly,
/// `UInt` 1/2/4/8 bytes, everything else any length).
fn plausible_item_len(kind: super::items::Kind, len: usize) -> bool {
    use super::items::Kind;
    match kind {
        Kind::UInt => matches!(len, 1 | 2 | 4 | 8),
        k => k.fixed_len().map_or(true, |n| n == len),
    }
}

/// The decision of the cleartext TCP heuristic `apns_tcp` on the first bytes of a segment
/// that no dissector has claimed. The heuristic is tried on every such segment of every
/// unclaimed TCP stream, so random bytes must essentially never pass:
///
/// - a first message that is complete in `buf` passes [`probe`] (known command, payload at
///   most [`PROBE_MAX_PAYLOAD`], items tiling it exactly), every item with an id known for
///   the command has a value length possible for it, and at least one item is known (an
///   empty payload only for 0x0C, 0x0D and 0x10, as in [`probe`]);
/// - a first message that continues past `buf` must be a Connect (0x07, the device's first
///   message, long because of its certificate) or a Message (0x0A, the only other command
///   that is long), declare at most [`PROBE_MAX_INCOMPLETE`] payload bytes, and every item
///   header visible in `buf` must carry an id known for that command with a value length
///   possible for it, lie inside the message, and follow the previous item exactly, with at
///   least [`PROBE_MIN_ITEMS`] whole items before the end of `buf`.
///
/// Never allocates.
pub fn heuristic_accepts(buf: &[u8]) -> bool {
    match probe(buf) {
        Probe::Match => complete_items_plausible(buf),
        Probe::NoMatch => false,
        Probe::NeedMore(_) => incomplete_start(buf),
    }
}

/// For a message `probe` matched (so the items tile and are all in `buf`).
fn complete_items_plausible(buf: &[u8]) -> bool {
    let Some(h) = header(buf) else {
        return false;
    };
    let command = Command::from_u8(h.command);
    let declared = h.length as usize;
    if declared == 0 {
        return true;
    }
    let payload = buf.get(HEADER_LEN..HEADER_LEN + declared).unwrap_or(&[]);
    let mut off = 0usize;
    let mut known = 0usize;
    while let Some((id, len)) = payload.get(off..).and_then(item_header) {
        let len = usize::from(len);
        if let Some(def) = super::items::item_def(command, id, len) {
            if !plausible_item_len(def.kind, len) {
                return false;
            }
            known += 1;
        }
        off += ITEM_HEADER_LEN + len;
    }
    known > 0
}

fn incomplete_start(buf: &[u8]) -> bool {
    let Some(h) = header(buf) else {
        return false;
    };
    let command = Command::from_u8(h.command);
    if !matches!(command, Command::Connect | Command::Message) || h.length > PROBE_MAX_INCOMPLETE {
        return false;
    }
    let declared = h.length as usize;
    let payload = buf.get(HEADER_LEN..).unwrap_or(&[]);
    if payload.len() >= declared {
        return false; // complete: `probe` decides
    }
    let mut off = 0usize;
    let mut whole = 0usize;
    while let Some((id, len)) = payload.get(off..).and_then(item_header) {
        let len = usize::from(len);
        let Some(def) = super::items::item_def(command, id, len) else {
            return false;
        };
        if !plausible_item_len(def.kind, len) {
            return false;
        }
        let next = off + ITEM_HEADER_LEN + len;
        if next > declared {
            return false;
        }
        if next > payload.len() {
            break; // the value continues in a later segment
        }
        whole += 1;
        off = next;
    }
    whole >= PROBE_MIN_ITEMS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4 GiB length with `max_message_size` = u32::MAX: `5 + 0xFFFF_FFFF` does not fit the
    /// 32-bit PDU length Wireshark takes (it wrapped to 4); TooLarge instead.
    #[test]
    fn four_gib_length_is_too_large_even_with_max_pref() {
        let buf = [0x0A, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0];
        assert_eq!(pdu_len(&buf, u32::MAX), PduLen::TooLarge(u32::MAX));
        assert_eq!(next_pdu(&buf, u32::MAX), PduLen::TooLarge(u32::MAX));
        let b = [0x0A, 0x7F, 0xFF, 0xFF, 0xFA];
        assert_eq!(pdu_len(&b, u32::MAX), PduLen::Len(MAX_PDU_LEN));
        let b = [0x0A, 0x7F, 0xFF, 0xFF, 0xFB];
        assert_eq!(pdu_len(&b, u32::MAX), PduLen::TooLarge(0x7FFF_FFFB));
    }

    #[test]
    fn pdu_len_from_header_only() {
        assert_eq!(pdu_len(&[], 100), PduLen::NeedMore(5));
        assert_eq!(pdu_len(&[0x0A, 0, 0, 0], 100), PduLen::NeedMore(5));
        assert_eq!(pdu_len(&[0x0A, 0, 0, 0, 7], 100), PduLen::Len(12));
        assert_eq!(pdu_len(&[0x0D, 0, 0, 0, 0], 100), PduLen::Len(5));
        assert_eq!(pdu_len(&[0x0A, 0, 0, 0, 100], 100), PduLen::Len(105));
        assert_eq!(pdu_len(&[0x0A, 0, 0, 0, 101], 100), PduLen::TooLarge(101));
        assert_eq!(
            pdu_len(&[0x0A, 0xFF, 0xFF, 0xFF, 0xFF], DEFAULT_MAX_MESSAGE_SIZE),
            PduLen::TooLarge(u32::MAX)
        );
        // With the maximum itself at u32::MAX, 5 + 0xFFFF_FFFF fits a 64-bit usize but not
        // the 32-bit length tcp_dissect_pdus takes (it wrapped to 4): TooLarge.
        assert_eq!(
            pdu_len(&[0x0A, 0xFF, 0xFF, 0xFF, 0xFF], u32::MAX),
            PduLen::TooLarge(u32::MAX)
        );
        // Unknown command bytes are framed too (open enum).
        assert_eq!(pdu_len(&[0x20, 0, 0, 1, 0], 1 << 20), PduLen::Len(261));
    }

    #[test]
    fn split_at_every_byte() {
        // Keep-alive: 0C | 0000000C | 01 0004 "WiFi" | 05 0002 0014: 5 + 7 + 5 = 17 bytes
        let buf: &[u8] = &[
            0x0C, 0, 0, 0, 12, 0x01, 0, 4, b'W', b'i', b'F', b'i', 0x05, 0, 2, 0, 20,
        ];
        assert_eq!(buf.len(), 17);
        for cut in 0..buf.len() {
            let p = &buf[..cut];
            let want = if cut < 5 {
                PduLen::NeedMore(5)
            } else {
                PduLen::NeedMore(17)
            };
            assert_eq!(next_pdu(p, 1 << 20), want, "cut {cut}");
            if cut >= 5 {
                assert_eq!(pdu_len(p, 1 << 20), PduLen::Len(17));
                assert_eq!(probe(p), Probe::NeedMore(17), "cut {cut}");
            }
        }
        assert_eq!(next_pdu(buf, 1 << 20), PduLen::Len(17));
        assert_eq!(probe(buf), Probe::Match);
    }

    #[test]
    fn detect() {
        assert_eq!(detect_framing(&[]), None);
        assert_eq!(
            detect_framing(&[0x00, 0, 0, 0, 0x20]),
            Some(Framing::Legacy)
        );
        assert_eq!(detect_framing(&[0x01]), Some(Framing::Legacy));
        assert_eq!(detect_framing(&[0x06]), Some(Framing::Legacy));
        assert_eq!(detect_framing(&[0x07]), Some(Framing::Modern));
        assert_eq!(detect_framing(&[0x08]), Some(Framing::Modern));
    }

    #[test]
    fn probe_cases() {
        assert_eq!(probe(&[]), Probe::NeedMore(1));
        assert_eq!(probe(&[0x16, 3, 1]), Probe::NoMatch); // TLS record, not cleartext APNs
        assert_eq!(probe(b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
        assert_eq!(probe(&[0x0A, 0]), Probe::NeedMore(5));
        assert_eq!(probe(&[0x0C, 0, 0, 0, 0]), Probe::Match);
        assert_eq!(probe(&[0x0A, 0, 0, 0, 0]), Probe::NoMatch); // empty message not plausible
        assert_eq!(probe(&[0x0A, 0, 0, 0, 2, 0, 0]), Probe::NoMatch); // shorter than an item
        assert_eq!(probe(&[0x0A, 0x10, 0, 0, 0]), Probe::NoMatch); // 256 MiB
                                                                   // Exact tiling: one item 0B | 0004 | id
        assert_eq!(
            probe(&[0x0B, 0, 0, 0, 7, 4, 0, 4, 0, 0, 0, 1]),
            Probe::Match
        );
        // Item overruns
        assert_eq!(
            probe(&[0x0B, 0, 0, 0, 7, 4, 0, 5, 0, 0, 0, 1]),
            Probe::NoMatch
        );
        // Trailing 1 byte after the item
        assert_eq!(
            probe(&[0x0B, 0, 0, 0, 8, 4, 0, 4, 0, 0, 0, 1, 9]),
            Probe::NoMatch
        );
        // Extra bytes after the message do not matter
        assert_eq!(
            probe(&[0x0B, 0, 0, 0, 7, 4, 0, 4, 0, 0, 0, 1, 0xFF, 0xFF]),
            Probe::Match
        );
        // Known structure but unknown command
        assert_eq!(probe(&[0x13, 0, 0, 0, 3, 1, 0, 0]), Probe::NoMatch);
    }

    use crate::core::test_rng::Rng;

    /// One million random 1460-byte segments: none is taken for a courier stream.
    #[test]
    fn heuristic_rejects_a_million_random_segments() {
        let mut rng = Rng(0x5EED_0A9E_5EED_0001);
        let mut seg = [0u8; 1460];
        let mut accepted = 0;
        for _ in 0..1_000_000 {
            rng.fill(&mut seg);
            accepted += usize::from(heuristic_accepts(&seg));
        }
        assert_eq!(accepted, 0);
    }

    /// The hard case, conditioned on what random data needs luck for (a Connect or Message
    /// command byte and a length ≤ 64 KiB: 2/256 × 2⁻¹⁶ of random segments): still none in
    /// a million, so the unconditional rate is far below 10⁻¹³ per segment.
    #[test]
    fn heuristic_rejects_random_items_behind_a_plausible_header() {
        let mut rng = Rng(0x5EED_0A9E_5EED_0002);
        let mut seg = [0u8; 1460];
        let mut accepted = 0;
        let mut old_rule = 0;
        for i in 0..1_000_000u32 {
            rng.fill(&mut seg);
            seg[0] = if i % 2 == 0 { 0x07 } else { 0x0A };
            seg[1] = 0;
            seg[2] = 0;
            accepted += usize::from(heuristic_accepts(&seg));
            old_rule += usize::from(matches!(probe(&seg), Probe::Match | Probe::NeedMore(_)));
        }
        assert_eq!(accepted, 0);
        // The previous rule (a consistent header and ≥ 64 bytes) took most of them.
        assert!(old_rule > 400_000, "{old_rule}");
    }

    /// The benchmark's false positive: 0x0E with length 139254, then random bytes.
    #[test]
    fn heuristic_rejects_the_benchmark_stream() {
        let mut rng = Rng(7);
        let mut seg = [0u8; 1460];
        rng.fill(&mut seg);
        seg[..5].copy_from_slice(&[0x0E, 0x00, 0x02, 0x1F, 0xF6]);
        assert_eq!(header(&seg).unwrap().length, 139_254);
        assert!(!heuristic_accepts(&seg));
    }

    fn item(id: u8, v: &[u8]) -> Vec<u8> {
        let mut o = vec![id];
        o.extend_from_slice(&(v.len() as u16).to_be_bytes());
        o.extend_from_slice(v);
        o
    }

    fn message(cmd: u8, items: &[Vec<u8>]) -> Vec<u8> {
        let body = items.concat();
        let mut o = vec![cmd];
        o.extend_from_slice(&(body.len() as u32).to_be_bytes());
        o.extend(body);
        o
    }

    /// Real first messages pass whole and cut at any point after two whole items.
    #[test]
    fn heuristic_accepts_real_starts() {
        let cert: Vec<u8> = (0..1500u32).map(|i| (i * 7) as u8).collect();
        let nonce = [[0u8].as_slice(), &1_700_000_000_123u64.to_be_bytes(), &[1, 2, 3, 4, 5, 6, 7, 8]].concat();
        let connect = message(
            0x07,
            &[
                item(1, &[0xAB; 32]),
                item(2, &[1]),
                item(5, &[0, 0, 0, 0x41]),
                item(12, &cert),
                item(13, &nonce),
                item(14, &[[1u8, 1].as_slice(), &[0x5A; 128]].concat()),
                item(16, &[0, 11]),
            ],
        );
        assert!(heuristic_accepts(&connect));
        let two_items = 5 + 35 + 4;
        for cut in 0..connect.len() {
            assert_eq!(heuristic_accepts(&connect[..cut]), cut >= two_items, "cut {cut}");
        }
        // pypush's order: state, flags, certificate, nonce, signature.
        let pypush = message(0x07, &[item(2, &[1]), item(5, &[0, 0, 0, 0x41]), item(12, &cert), item(13, &nonce)]);
        assert!(heuristic_accepts(&pypush[..1460]));
        // A large push from the server.
        let push = message(0x0A, &[item(2, &[0xAB; 32]), item(1, &[0x11; 20]), item(3, &[b'x'; 3000]), item(4, &[0, 0, 0, 9])]);
        assert!(heuristic_accepts(&push[..1460]));
        // Wrong length for a fixed-size item, an unknown item, a command that is never long.
        let bad_token = message(0x07, &[item(1, &[0xAB; 31]), item(2, &[1]), item(12, &cert)]);
        assert!(!heuristic_accepts(&bad_token[..1460]));
        let unknown = message(0x07, &[item(1, &[0xAB; 32]), item(0x63, &[1]), item(12, &cert)]);
        assert!(!heuristic_accepts(&unknown[..1460]));
        let filter = message(0x09, &[item(1, &[0xAB; 32]), item(2, &[0x11; 20]), item(12, &cert)]);
        assert!(!heuristic_accepts(&filter[..1460]));
        // Whole first messages: a keep-alive and an empty ack pass; one item whose length is
        // impossible for its id, or only unknown items, do not.
        assert!(heuristic_accepts(&message(0x0C, &[item(1, b"WiFi")])));
        assert!(heuristic_accepts(&[0x0D, 0, 0, 0, 0]));
        assert!(heuristic_accepts(&message(0x0C, &[item(0x63, &[1, 2]), item(1, b"WiFi")])));
        assert!(!heuristic_accepts(&message(0x07, &[item(19, &[0; 1331])])));
        assert!(!heuristic_accepts(&message(0x0B, &[item(0x63, &[1, 2])])));
        // Too long to be believed before it is complete.
        let mut huge = connect.clone();
        huge[1..5].copy_from_slice(&(PROBE_MAX_INCOMPLETE + 1).to_be_bytes());
        assert!(!heuristic_accepts(&huge[..1460]));
    }
}

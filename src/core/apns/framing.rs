//! Framing for TCP reassembly, framing detection, and the strict cleartext probe.
//!
//! Modern framing (iOS 5+): `command (1) | payload length (4, BE) | payload`. The length of
//! a message is known from its first 5 bytes, which is what Wireshark's `tcp_dissect_pdus`
//! needs (`get_pdu_len`). Legacy (iOS 4) framing is in [`super::legacy`].

use nom::number::complete::{be_u16, be_u32, be_u8};
use nom::sequence::tuple;

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

type E<'a> = nom::error::Error<&'a [u8]>;

/// The decoded 5-byte header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub command: u8,
    pub length: u32,
}

/// The header at the start of `buf`, if 5 bytes are there.
pub fn header(buf: &[u8]) -> Option<Header> {
    let (_, (command, length)) = tuple((be_u8::<_, E>, be_u32))(buf).ok()?;
    Some(Header { command, length })
}

/// The item header (id, value length) at the start of `buf`, if 3 bytes are there.
pub fn item_header(buf: &[u8]) -> Option<(u8, u16)> {
    let (_, h) = tuple((be_u8::<_, E>, be_u16))(buf).ok()?;
    Some(h)
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

/// Which framing a courier stream uses, from its first bytes (either direction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// iOS 5+ TLV framing (first command 0x07 Connect from the device, 0x08 from the server).
    Modern,
    /// iOS 4 framing (first command 0x00 from the device, 0x01 from the server).
    Legacy,
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
}

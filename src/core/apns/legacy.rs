//! The iOS 4 courier framing (commands 0x00–0x06, ad hoc layouts; protocol notes §1 and
//! mfrister/pushproxy `doc/apple-push-protocol-ios4.md`).
//!
//! ```text
//! 00 device hello     : 00 | len (4, =32) | data (len)
//! 01 server hello     : 01 | reserved (4, zero) | tlen (1: 0 or 32) | token (tlen)
//! 02 push app ids     : 02 | { count (4) | size (4, =20) | count × size } × 2
//! 03 notification     : 03 | tsize (4, =20) | topic (tsize) | psize (4) | JSON (psize)
//! 04 confirmation     : 04 | 3 bytes (zero)
//! 05 keep-alive       : 05 | len (4) | text (len), e.g. "WiFi 4.3.3 8J2 iPhone2,1 17"
//! 06 keep-alive ack   : 06                              (the command byte alone)
//! ```
//!
//! Length without a fixed header: 0x02 and 0x03 carry two lengths, the second one after a
//! variable part. [`pdu_len`] then answers `NeedMore(n)` with `n` the number of bytes needed
//! to read the *next* length field (9, then 9 + list 1 + 8 for 0x02; 5, then 5 + topic + 4
//! for 0x03), which is how `tcp_dissect_pdus`' length callback is meant to be used with a
//! fixed-length header: the caller asks again with more bytes. A product `count × size`
//! is computed in 64 bits and checked against the maximum before anything is read.
//! A command byte above 0x06 cannot be framed: `Unframeable`.

use nom::bytes::complete::take;
use nom::number::complete::{be_u32, be_u8};

use super::framing::PduLen;
use crate::core::span::{Span, Spanned};

/// Ids kept per 0x02 list; the rest are counted in an anomaly.
pub const MAX_IDS: usize = 1024;

type E<'a> = nom::error::Error<&'a [u8]>;

crate::value_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum LegacyCommand: u8, open Unknown => "Unknown" {
        DeviceHello = 0 => "Device Hello";
        ServerHello = 1 => "Server Hello";
        AppIds = 2 => "Push Application IDs";
        Notification = 3 => "Notification";
        Confirmation = 4 => "Notification Confirmation";
        KeepAlive = 5 => "Keep-Alive";
        KeepAliveAck = 6 => "Keep-Alive Ack";
    }
}

impl LegacyCommand {
    pub const fn from_u8(b: u8) -> Self {
        LegacyCommand::from_code(b)
    }
}

fn u32_at(buf: &[u8], off: usize) -> Option<u32> {
    let (_, v) = be_u32::<_, E>(buf.get(off..)?).ok()?;
    Some(v)
}

fn sat32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Total length from a body length (u64), or TooLarge.
fn total(fixed: u64, body: u64, max: u32) -> PduLen {
    if body > u64::from(max) {
        return PduLen::TooLarge(sat32(body));
    }
    match usize::try_from(fixed + body) {
        Ok(n) if n <= super::framing::MAX_PDU_LEN => PduLen::Len(n),
        _ => PduLen::TooLarge(sat32(body)),
    }
}

/// Length of the legacy message at the start of `buf`; `max_message_size` bounds the
/// variable part (sum of the declared lengths). See the module docs for 0x02/0x03.
pub fn pdu_len(buf: &[u8], max_message_size: u32) -> PduLen {
    let max = max_message_size;
    let Some((&cmd, _)) = buf.split_first() else {
        return PduLen::NeedMore(1);
    };
    match cmd {
        0x00 | 0x05 => match u32_at(buf, 1) {
            Some(len) => total(5, u64::from(len), max),
            None => PduLen::NeedMore(5),
        },
        0x01 => match buf.get(5) {
            Some(&l) => PduLen::Len(6 + usize::from(l)),
            None => PduLen::NeedMore(6),
        },
        0x02 => {
            let (Some(c1), Some(s1)) = (u32_at(buf, 1), u32_at(buf, 5)) else {
                return PduLen::NeedMore(9);
            };
            let b1 = u64::from(c1) * u64::from(s1);
            if b1 > u64::from(max) {
                return PduLen::TooLarge(sat32(b1));
            }
            // b1 ≤ max ≤ u32::MAX; the sums are checked for 32-bit targets.
            let Some(at2) = usize::try_from(9 + b1)
                .ok()
                .filter(|a| a.checked_add(8).is_some_and(|e| e <= super::framing::MAX_PDU_LEN))
            else {
                return PduLen::TooLarge(sat32(b1));
            };
            let (Some(c2), Some(s2)) = (u32_at(buf, at2), u32_at(buf, at2 + 4)) else {
                return PduLen::NeedMore(at2 + 8);
            };
            let b2 = u64::from(c2) * u64::from(s2);
            total(17, b1 + b2, max)
        }
        0x03 => {
            let Some(s1) = u32_at(buf, 1) else {
                return PduLen::NeedMore(5);
            };
            if u64::from(s1) > u64::from(max) {
                return PduLen::TooLarge(s1);
            }
            let Some(at2) = usize::try_from(5 + u64::from(s1))
                .ok()
                .filter(|a| a.checked_add(4).is_some_and(|e| e <= super::framing::MAX_PDU_LEN))
            else {
                return PduLen::TooLarge(s1);
            };
            let Some(s2) = u32_at(buf, at2) else {
                return PduLen::NeedMore(at2 + 4);
            };
            total(9, u64::from(s1) + u64::from(s2), max)
        }
        0x04 => PduLen::Len(4),
        0x06 => PduLen::Len(1),
        other => PduLen::Unframeable(other),
    }
}

/// Like [`pdu_len`] but `Len` only once the whole message is present.
pub fn next_pdu(buf: &[u8], max_message_size: u32) -> PduLen {
    match pdu_len(buf, max_message_size) {
        PduLen::Len(n) if buf.len() < n => PduLen::NeedMore(n),
        other => other,
    }
}

/// One list of a 0x02 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdList<'a> {
    pub count: Spanned<u32>,
    pub item_size: Spanned<u32>,
    /// The ids (up to [`MAX_IDS`]), normally 20-byte topic hashes.
    pub ids: Vec<Spanned<&'a [u8]>>,
}

/// The fields of the keep-alive text, split on spaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAliveText<'a> {
    pub carrier: &'a str,
    pub os_version: &'a str,
    pub os_build: &'a str,
    pub hardware: &'a str,
    /// The last field ("17" in the sample); thought to be the keep-alive interval in minutes.
    pub interval: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegacyBody<'a> {
    DeviceHello {
        length: Spanned<u32>,
        data: Spanned<&'a [u8]>,
    },
    ServerHello {
        reserved: Spanned<u32>,
        token_len: Spanned<u8>,
        token: Option<Spanned<&'a [u8]>>,
    },
    AppIds {
        lists: [IdList<'a>; 2],
    },
    Notification {
        topic_len: Spanned<u32>,
        topic: Spanned<&'a [u8]>,
        payload_len: Spanned<u32>,
        payload: Spanned<&'a [u8]>,
    },
    Confirmation {
        data: Spanned<&'a [u8]>,
    },
    KeepAlive {
        length: Spanned<u32>,
        text: Spanned<&'a [u8]>,
        fields: Option<KeepAliveText<'a>>,
    },
    KeepAliveAck,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyAnomalyKind {
    /// A length or size field other than the one always seen (32 for hellos, 20 for ids).
    UnusualSize { expected: u32, got: u32 },
    /// Bytes always zero in samples are not.
    NonZeroReserved,
    /// More than [`MAX_IDS`] ids in a list; `dropped` not kept.
    TooManyIds { dropped: usize },
    /// The keep-alive text is not UTF-8 or does not have 5 space-separated fields.
    OddKeepAliveText,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyAnomaly {
    pub kind: LegacyAnomalyKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMessage<'a> {
    pub command: LegacyCommand,
    /// Bytes of the message, command byte included.
    pub len: usize,
    pub body: LegacyBody<'a>,
    pub anomalies: Vec<LegacyAnomaly>,
}

fn sp<T>(value: T, offset: usize, len: usize) -> Spanned<T> {
    Spanned::new(value, offset, len)
}

/// Reads within one complete message, offsets from its start.
struct Cur<'a> {
    buf: &'a [u8],
    off: usize,
}

impl<'a> Cur<'a> {
    fn u32(&mut self) -> Option<Spanned<u32>> {
        let (_, v) = be_u32::<_, E>(self.buf.get(self.off..)?).ok()?;
        let s = sp(v, self.off, 4);
        self.off += 4;
        Some(s)
    }
    fn u8(&mut self) -> Option<Spanned<u8>> {
        let (_, v) = be_u8::<_, E>(self.buf.get(self.off..)?).ok()?;
        let s = sp(v, self.off, 1);
        self.off += 1;
        Some(s)
    }
    fn take(&mut self, n: u64) -> Option<Spanned<&'a [u8]>> {
        let n = usize::try_from(n).ok()?;
        let (_, v) = take::<_, _, E>(n)(self.buf.get(self.off..)?).ok()?;
        let s = sp(v, self.off, n);
        self.off += n;
        Some(s)
    }
}

/// Parse one complete legacy message at the start of `buf`. When it is not complete, or
/// cannot be framed, the answer of [`next_pdu`] comes back as the error.
pub fn parse(buf: &[u8], max_message_size: u32) -> Result<LegacyMessage<'_>, PduLen> {
    let len = match next_pdu(buf, max_message_size) {
        PduLen::Len(n) => n,
        other => return Err(other),
    };
    let msg = buf.get(..len).ok_or(PduLen::NeedMore(len))?;
    let bad = PduLen::NeedMore(len); // unreachable once framed; never panics
    let command = LegacyCommand::from_u8(msg.first().copied().ok_or(bad)?);
    let mut c = Cur { buf: msg, off: 1 };
    let mut anomalies = Vec::new();
    let body = match command {
        LegacyCommand::DeviceHello => {
            let length = c.u32().ok_or(bad)?;
            if length.value != 32 {
                anomalies.push(LegacyAnomaly {
                    kind: LegacyAnomalyKind::UnusualSize {
                        expected: 32,
                        got: length.value,
                    },
                    span: length.span,
                });
            }
            let data = c.take(u64::from(length.value)).ok_or(bad)?;
            LegacyBody::DeviceHello { length, data }
        }
        LegacyCommand::ServerHello => {
            let reserved = c.u32().ok_or(bad)?;
            if reserved.value != 0 {
                anomalies.push(LegacyAnomaly {
                    kind: LegacyAnomalyKind::NonZeroReserved,
                    span: reserved.span,
                });
            }
            let token_len = c.u8().ok_or(bad)?;
            if token_len.value != 0 && token_len.value != 32 {
                anomalies.push(LegacyAnomaly {
                    kind: LegacyAnomalyKind::UnusualSize {
                        expected: 32,
                        got: u32::from(token_len.value),
                    },
                    span: token_len.span,
                });
            }
            let token = if token_len.value == 0 {
                None
            } else {
                Some(c.take(u64::from(token_len.value)).ok_or(bad)?)
            };
            LegacyBody::ServerHello {
                reserved,
                token_len,
                token,
            }
        }
        LegacyCommand::AppIds => {
            let l1 = id_list(&mut c, &mut anomalies).ok_or(bad)?;
            let l2 = id_list(&mut c, &mut anomalies).ok_or(bad)?;
            LegacyBody::AppIds { lists: [l1, l2] }
        }
        LegacyCommand::Notification => {
            let topic_len = c.u32().ok_or(bad)?;
            if topic_len.value != 20 {
                anomalies.push(LegacyAnomaly {
                    kind: LegacyAnomalyKind::UnusualSize {
                        expected: 20,
                        got: topic_len.value,
                    },
                    span: topic_len.span,
                });
            }
            let topic = c.take(u64::from(topic_len.value)).ok_or(bad)?;
            let payload_len = c.u32().ok_or(bad)?;
            let payload = c.take(u64::from(payload_len.value)).ok_or(bad)?;
            LegacyBody::Notification {
                topic_len,
                topic,
                payload_len,
                payload,
            }
        }
        LegacyCommand::Confirmation => {
            let data = c.take(3).ok_or(bad)?;
            if data.value.iter().any(|&b| b != 0) {
                anomalies.push(LegacyAnomaly {
                    kind: LegacyAnomalyKind::NonZeroReserved,
                    span: data.span,
                });
            }
            LegacyBody::Confirmation { data }
        }
        LegacyCommand::KeepAlive => {
            let length = c.u32().ok_or(bad)?;
            let text = c.take(u64::from(length.value)).ok_or(bad)?;
            let fields = keepalive_text(text.value);
            if fields.is_none() {
                anomalies.push(LegacyAnomaly {
                    kind: LegacyAnomalyKind::OddKeepAliveText,
                    span: text.span,
                });
            }
            LegacyBody::KeepAlive {
                length,
                text,
                fields,
            }
        }
        LegacyCommand::KeepAliveAck => LegacyBody::KeepAliveAck,
        LegacyCommand::Unknown(b) => return Err(PduLen::Unframeable(b)),
    };
    Ok(LegacyMessage {
        command,
        len,
        body,
        anomalies,
    })
}

fn id_list<'a>(c: &mut Cur<'a>, anomalies: &mut Vec<LegacyAnomaly>) -> Option<IdList<'a>> {
    let count = c.u32()?;
    let item_size = c.u32()?;
    if item_size.value != 20 {
        anomalies.push(LegacyAnomaly {
            kind: LegacyAnomalyKind::UnusualSize {
                expected: 20,
                got: item_size.value,
            },
            span: item_size.span,
        });
    }
    let start = c.off;
    let n = usize::try_from(count.value).ok()?;
    let size = u64::from(item_size.value);
    let mut ids = Vec::with_capacity(n.min(MAX_IDS).min(64));
    // The frame length already covers count × size bytes, so the loop is bounded by the
    // bytes present (each turn takes `size` ≥ 1 of them); zero-size ids are not looped over.
    if size > 0 {
        for i in 0..n {
            let id = c.take(size)?;
            if i < MAX_IDS {
                ids.push(id);
            }
        }
        if n > MAX_IDS {
            anomalies.push(LegacyAnomaly {
                kind: LegacyAnomalyKind::TooManyIds {
                    dropped: n - MAX_IDS,
                },
                span: Span::new(start, c.off - start),
            });
        }
    }
    Some(IdList {
        count,
        item_size,
        ids,
    })
}

/// Split "WiFi 4.3.3 8J2 iPhone2,1 17" into its five fields.
pub fn keepalive_text(text: &[u8]) -> Option<KeepAliveText<'_>> {
    let s = core::str::from_utf8(text).ok()?;
    let mut it = s.split(' ');
    let f = KeepAliveText {
        carrier: it.next()?,
        os_version: it.next()?,
        os_build: it.next()?,
        hardware: it.next()?,
        interval: it.next()?,
    };
    if it.next().is_some() {
        return None;
    }
    Some(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lengths whose total does not fit Wireshark's 32-bit PDU length are TooLarge, never
    /// a `Len`/`NeedMore` that the C side would truncate (found by fuzzing with
    /// `max_message_size` = u32::MAX).
    #[test]
    fn totals_past_i32_are_too_large() {
        let max = super::super::framing::MAX_PDU_LEN;
        for buf in [
            vec![0x00, 0xFF, 0xFF, 0xFF, 0xFF],
            vec![0x05, 0x80, 0x00, 0x00, 0x00],
            vec![0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 1],
            vec![0x03, 0xFF, 0xFF, 0xFF, 0xF0],
        ] {
            match pdu_len(&buf, u32::MAX) {
                PduLen::Len(n) | PduLen::NeedMore(n) => assert!(n <= max, "{buf:02x?}: {n}"),
                PduLen::TooLarge(_) => {}
                other => panic!("{buf:02x?}: {other:?}"),
            }
        }
        assert!(matches!(pdu_len(&[0x00, 0xFF, 0xFF, 0xFF, 0xFF], u32::MAX), PduLen::TooLarge(_)));
    }

    const MAX: u32 = 1 << 20;

    #[test]
    fn device_hello() {
        let mut buf = vec![0x00, 0, 0, 0, 0x20];
        buf.extend_from_slice(&[0x5A; 32]);
        assert_eq!(pdu_len(&buf[..3], MAX), PduLen::NeedMore(5));
        assert_eq!(pdu_len(&buf[..5], MAX), PduLen::Len(37));
        assert_eq!(next_pdu(&buf[..36], MAX), PduLen::NeedMore(37));
        let m = parse(&buf, MAX).unwrap();
        assert_eq!(m.len, 37);
        assert_eq!(m.command, LegacyCommand::DeviceHello);
        match m.body {
            LegacyBody::DeviceHello { length, data } => {
                assert_eq!(length, Spanned::new(32, 1, 4));
                assert_eq!(data.span, Span::new(5, 32));
            }
            other => panic!("{other:?}"),
        }
        assert!(m.anomalies.is_empty());
    }

    #[test]
    fn server_hello_with_and_without_token() {
        let short = [0x01, 0, 0, 0, 0, 0x00];
        assert_eq!(pdu_len(&short[..5], MAX), PduLen::NeedMore(6));
        let m = parse(&short, MAX).unwrap();
        assert_eq!(m.len, 6);
        assert!(matches!(
            m.body,
            LegacyBody::ServerHello { token: None, .. }
        ));
        let mut long = vec![0x01, 0, 0, 0, 0, 0x20];
        long.extend_from_slice(&[7; 32]);
        assert_eq!(pdu_len(&long, MAX), PduLen::Len(38));
        let m = parse(&long, MAX).unwrap();
        match m.body {
            LegacyBody::ServerHello { token: Some(t), .. } => assert_eq!(t.span, Span::new(6, 32)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn app_ids_two_lists() {
        // list 1: 2 ids, list 2: 1 id (20 bytes each): 1 + 8 + 40 + 8 + 20 = 77
        let mut buf = vec![0x02, 0, 0, 0, 2, 0, 0, 0, 20];
        buf.extend_from_slice(&[0xA1; 20]);
        buf.extend_from_slice(&[0xA2; 20]);
        buf.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 20]);
        buf.extend_from_slice(&[0xB1; 20]);
        assert_eq!(buf.len(), 77);
        for cut in 0..buf.len() {
            let want = match cut {
                0 => PduLen::NeedMore(1),
                1..=8 => PduLen::NeedMore(9),
                9..=56 => PduLen::NeedMore(57),
                _ => PduLen::Len(77),
            };
            assert_eq!(pdu_len(&buf[..cut], MAX), want, "cut {cut}");
            assert!(parse(&buf[..cut], MAX).is_err());
        }
        let m = parse(&buf, MAX).unwrap();
        match &m.body {
            LegacyBody::AppIds { lists } => {
                assert_eq!(lists[0].ids.len(), 2);
                assert_eq!(lists[0].ids[1].span, Span::new(29, 20));
                assert_eq!(lists[1].ids.len(), 1);
                assert_eq!(lists[1].ids[0].value, &[0xB1; 20][..]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn app_ids_hostile_counts() {
        // count 0xFFFFFFFF × size 0xFFFFFFFF must not overflow or allocate
        let buf = [0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(pdu_len(&buf, MAX), PduLen::TooLarge(u32::MAX));
        assert_eq!(pdu_len(&buf, u32::MAX), PduLen::TooLarge(u32::MAX));
        // huge count of zero-size ids: frames to 17 bytes, loop skipped
        let buf = [
            0x02, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20,
        ];
        assert_eq!(pdu_len(&buf, MAX), PduLen::Len(17));
        let m = parse(&buf, MAX).unwrap();
        assert!(m.anomalies.iter().any(|a| a.kind
            == LegacyAnomalyKind::UnusualSize {
                expected: 20,
                got: 0
            }));
    }

    #[test]
    fn notification() {
        let json = br#"{"aps":{"badge":1}}"#;
        let mut buf = vec![0x03, 0, 0, 0, 20];
        buf.extend_from_slice(&[0x33; 20]);
        buf.extend_from_slice(&(json.len() as u32).to_be_bytes());
        buf.extend_from_slice(json);
        assert_eq!(pdu_len(&buf[..4], MAX), PduLen::NeedMore(5));
        assert_eq!(pdu_len(&buf[..28], MAX), PduLen::NeedMore(29));
        assert_eq!(pdu_len(&buf[..29], MAX), PduLen::Len(29 + json.len()));
        let m = parse(&buf, MAX).unwrap();
        match m.body {
            LegacyBody::Notification { topic, payload, .. } => {
                assert_eq!(topic.span, Span::new(5, 20));
                assert_eq!(payload.value, json);
                assert_eq!(payload.span, Span::new(29, json.len()));
            }
            other => panic!("{other:?}"),
        }
        // topic length beyond the maximum
        assert_eq!(
            pdu_len(&[0x03, 0xFF, 0, 0, 0], MAX),
            PduLen::TooLarge(0xFF00_0000)
        );
    }

    #[test]
    fn confirmation_keepalive_ack() {
        let m = parse(&[0x04, 0, 0, 0, 0x06], MAX).unwrap();
        assert_eq!(m.len, 4);
        assert!(m.anomalies.is_empty());
        let text = b"WiFi 4.3.3 8J2 iPhone2,1 17";
        let mut buf = vec![0x05, 0, 0, 0, 27];
        buf.extend_from_slice(text);
        let m = parse(&buf, MAX).unwrap();
        assert_eq!(m.len, 32);
        match m.body {
            LegacyBody::KeepAlive {
                fields: Some(f), ..
            } => {
                assert_eq!(f.carrier, "WiFi");
                assert_eq!(f.os_version, "4.3.3");
                assert_eq!(f.os_build, "8J2");
                assert_eq!(f.hardware, "iPhone2,1");
                assert_eq!(f.interval, "17");
            }
            other => panic!("{other:?}"),
        }
        let m = parse(&[0x06, 0x06], MAX).unwrap();
        assert_eq!(m.len, 1);
        assert_eq!(m.body, LegacyBody::KeepAliveAck);
        assert_eq!(pdu_len(&[0x07], MAX), PduLen::Unframeable(7));
        assert_eq!(parse(&[0x07], MAX), Err(PduLen::Unframeable(7)));
    }

    #[test]
    fn no_panic_small_inputs() {
        for cmd in 0..=8u8 {
            for a in [0u8, 1, 20, 32, 0xFF] {
                for len in 0..40 {
                    let mut buf = vec![cmd];
                    buf.resize(1 + len, a);
                    let _ = pdu_len(&buf, MAX);
                    let _ = parse(&buf, MAX);
                    let _ = parse(&buf, u32::MAX);
                }
            }
        }
    }
}

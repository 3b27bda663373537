//! TCP options area walker and MPTCP option (kind 30) parser, RFC 6824 (v0) and RFC 8684 (v1).
//!
//! [`parse_options`] walks the raw options area of one TCP header (the bytes after the
//! 20-byte fixed header), skips NOP, stops at EOL, and parses every option of kind 30.
//! Every span is relative to the start of the options area. Nothing here panics or
//! allocates by a count read from the packet: the only allocations are the two result
//! vectors, whose lengths are bounded by the options area itself (at most 40 bytes in a
//! real TCP header; any slice is accepted).
//!
//! Layouts (byte 0 = kind 30, byte 1 = length, high nibble of byte 2 = subtype):
//!
//! ```text
//! MP_CAPABLE   0  | ver(4) | flags(8) | [sender key 8] [receiver key 8] [data len 2] [csum 2]
//!                 lengths 4 (v1 SYN), 12, 20, 22 (v1), 24 (v1)
//! MP_JOIN      1  SYN 12:     rsv(3) B | addr id | token 4 | nonce 4
//!                 SYN/ACK 16: rsv(3) B | addr id | truncated HMAC 8 | nonce 4
//!                 ACK 24:     rsv(12)             | HMAC 20
//! DSS          2  rsv(4) | rsv(3) F m M a A | [data ack 4/8] [DSN 4/8, subflow seq 4, len 2, [csum 2]]
//! ADD_ADDR     3  v0: ipver(4) | id | addr 4/16 | [port 2]
//!                 v1: rsv(3) E | id | addr 4/16 | [port 2] | [truncated HMAC 8 unless E]
//! REMOVE_ADDR  4  rsv(4) | id...
//! MP_PRIO      5  rsv(3) B | [addr id (v0 only)]
//! MP_FAIL      6  rsv(12) | DSN 8
//! MP_FASTCLOSE 7  rsv(12) | receiver key 8
//! MP_TCPRST    8  U V W T | reason
//! ```

use crate::core::span::{Span, Spanned};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// TCP option kind of Multipath TCP.
pub const KIND_MPTCP: u8 = 30;

/// MPTCP option subtypes (high nibble of the third option byte).
pub mod subtype {
    pub const MP_CAPABLE: u8 = 0;
    pub const MP_JOIN: u8 = 1;
    pub const DSS: u8 = 2;
    pub const ADD_ADDR: u8 = 3;
    pub const REMOVE_ADDR: u8 = 4;
    pub const MP_PRIO: u8 = 5;
    pub const MP_FAIL: u8 = 6;
    pub const MP_FASTCLOSE: u8 = 7;
    pub const MP_TCPRST: u8 = 8;
    pub const MP_EXPERIMENTAL: u8 = 15;
}

/// MPTCP protocol version, as carried in MP_CAPABLE (open: other values are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 6824.
    V0,
    /// RFC 8684.
    V1,
    /// Any other version number.
    Other(u8),
}

impl Version {
    /// Version from the 4-bit field of MP_CAPABLE.
    pub fn from_raw(v: u8) -> Self {
        match v {
            0 => Version::V0,
            1 => Version::V1,
            n => Version::Other(n),
        }
    }
    /// The number on the wire.
    pub fn raw(self) -> u8 {
        match self {
            Version::V0 => 0,
            Version::V1 => 1,
            Version::Other(n) => n,
        }
    }
}

/// MP_CAPABLE (subtype 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpCapable {
    /// Version nibble (span: byte 2).
    pub version: Spanned<u8>,
    /// Flags byte: A=0x80 checksum required, B=0x40 extensibility, C=0x20 (v1: no new
    /// subflows to this source address; v0: crypto bits C..G), H=0x01 HMAC-SHA1/SHA256.
    pub flags: Spanned<u8>,
    pub sender_key: Option<Spanned<u64>>,
    pub receiver_key: Option<Spanned<u64>>,
    /// v1 third ACK with data: data-level length of the implicit mapping.
    pub data_len: Option<Spanned<u16>>,
    /// v1 third ACK with data and checksum.
    pub checksum: Option<Spanned<u16>>,
}

impl MpCapable {
    pub const FLAG_A: u8 = 0x80;
    pub const FLAG_B: u8 = 0x40;
    pub const FLAG_C: u8 = 0x20;
    pub const FLAG_H: u8 = 0x01;
    /// The protocol version.
    pub fn version(&self) -> Version {
        Version::from_raw(self.version.value)
    }
    /// A flag: the sender requires DSS checksums.
    pub fn checksum_required(&self) -> bool {
        self.flags.value & Self::FLAG_A != 0
    }
}

/// MP_JOIN (subtype 1); which form is decided by the option length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpJoin<'a> {
    /// Length 12, on the SYN.
    Syn {
        backup: Spanned<bool>,
        addr_id: Spanned<u8>,
        token: Spanned<u32>,
        nonce: Spanned<u32>,
    },
    /// Length 16, on the SYN/ACK.
    SynAck {
        backup: Spanned<bool>,
        addr_id: Spanned<u8>,
        hmac: Spanned<u64>,
        nonce: Spanned<u32>,
    },
    /// Length 24, on the third ACK: 160 bits of HMAC.
    Ack { hmac: Spanned<&'a [u8]> },
}

/// A DSS mapping: DSN, relative subflow sequence number, data-level length, optional checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DssMapping {
    /// The DSN as sent (4-byte DSNs are not widened here).
    pub dsn: Spanned<u64>,
    /// 4 or 8.
    pub dsn_len: u8,
    pub subflow_seq: Spanned<u32>,
    pub data_len: Spanned<u16>,
    /// Present only when the option is 2 bytes longer than its flags require.
    pub checksum: Option<Spanned<u16>>,
}

impl DssMapping {
    /// Data-level length 0: an infinite mapping (fallback to TCP).
    pub fn is_infinite(&self) -> bool {
        self.data_len.value == 0
    }
}

/// DSS (subtype 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dss {
    /// Flags byte (F=0x10 DATA_FIN, m=0x08 8-byte DSN, M=0x04 mapping, a=0x02 8-byte ack, A=0x01 ack).
    pub flags: Spanned<u8>,
    /// Data ack as sent, and its width (4 or 8).
    pub data_ack: Option<(Spanned<u64>, u8)>,
    pub mapping: Option<DssMapping>,
}

impl Dss {
    pub const FLAG_F: u8 = 0x10;
    pub const FLAG_M_LOWER: u8 = 0x08;
    pub const FLAG_M: u8 = 0x04;
    pub const FLAG_A_LOWER: u8 = 0x02;
    pub const FLAG_A: u8 = 0x01;
    /// DATA_FIN flag.
    pub fn data_fin(&self) -> bool {
        self.flags.value & Self::FLAG_F != 0
    }
}

/// ADD_ADDR (subtype 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddAddr {
    /// Layout used to parse it (v0: IP version nibble; v1: echo flag and HMAC).
    pub version: Version,
    /// v0: the IP version nibble (4 or 6); v1: None.
    pub ipver: Option<Spanned<u8>>,
    /// v1 E flag (an echo carries no HMAC); always false for v0.
    pub echo: Spanned<bool>,
    pub addr_id: Spanned<u8>,
    pub addr: Spanned<IpAddr>,
    pub port: Option<Spanned<u16>>,
    /// v1, not echo: truncated HMAC.
    pub hmac: Option<Spanned<u64>>,
}

/// REMOVE_ADDR (subtype 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoveAddr<'a> {
    /// The address ids, one byte each (borrowed).
    pub addr_ids: Spanned<&'a [u8]>,
}

/// MP_PRIO (subtype 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpPrio {
    pub backup: Spanned<bool>,
    /// v0 only (length 4).
    pub addr_id: Option<Spanned<u8>>,
}

/// MP_TCPRST (subtype 8, RFC 8684 §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpTcpRst {
    /// Low nibble of byte 2: U=0x8, V=0x4, W=0x2, T=0x1 (transient).
    pub flags: Spanned<u8>,
    /// 0 unspecified, 1 MPTCP-specific error, 2 lack of resources, 3 administratively
    /// prohibited, 4 too much outstanding data, 5 unacceptable performance, 6 middlebox.
    pub reason: Spanned<u8>,
}

/// The parsed body of one MPTCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MptcpBody<'a> {
    MpCapable(MpCapable),
    MpJoin(MpJoin<'a>),
    Dss(Dss),
    AddAddr(AddAddr),
    RemoveAddr(RemoveAddr<'a>),
    MpPrio(MpPrio),
    /// MP_FAIL: the DSN where the checksum failed.
    MpFail {
        dsn: Spanned<u64>,
    },
    /// MP_FASTCLOSE: the receiver's key.
    MpFastclose {
        receiver_key: Spanned<u64>,
    },
    MpTcpRst(MpTcpRst),
    /// Unknown (or experimental) subtype: raw bytes after kind and length.
    Unknown {
        subtype: u8,
        bytes: &'a [u8],
    },
    /// A known subtype whose length fits none of its layouts; an anomaly is recorded too.
    Malformed {
        subtype: u8,
        bytes: &'a [u8],
    },
}

/// One MPTCP option inside the options area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MptcpOption<'a> {
    /// The whole option, kind byte included.
    pub span: Span,
    /// The option's length byte.
    pub length: u8,
    /// Subtype nibble (span: byte 2 of the option).
    pub subtype: Spanned<u8>,
    pub body: MptcpBody<'a>,
}

/// Something odd found while walking the options; parsing went on where it could.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionAnomaly {
    /// An option's kind byte is the last byte: no length byte.
    MissingLength { offset: usize, kind: u8 },
    /// Length byte below 2: the walk stops (cannot advance reliably).
    BadLength { offset: usize, kind: u8, len: u8 },
    /// Length byte runs past the end of the options area: the walk stops.
    Overrun {
        offset: usize,
        kind: u8,
        len: u8,
        available: usize,
    },
    /// MPTCP option shorter than 3 bytes (no subtype).
    MptcpTooShort { offset: usize, len: u8 },
    /// Known MPTCP subtype with a length none of its layouts has.
    MptcpBadLength { offset: usize, subtype: u8, len: u8 },
    /// A valid-looking layout that this version should not use (e.g. v0 MP_CAPABLE of 22).
    MptcpVersionMismatch { offset: usize, subtype: u8, len: u8 },
    /// ADD_ADDR v0 with an IP version nibble other than 4 or 6.
    AddAddrBadIpVersion { offset: usize, ipver: u8 },
    /// Non-zero bytes after EOL.
    DataAfterEol { offset: usize },
}

/// Result of walking one options area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedOptions<'a> {
    /// MPTCP options in wire order.
    pub mptcp: Vec<MptcpOption<'a>>,
    pub anomalies: Vec<OptionAnomaly>,
}

impl<'a> ParsedOptions<'a> {
    /// First MP_CAPABLE, if any.
    pub fn mp_capable(&self) -> Option<&MpCapable> {
        self.mptcp.iter().find_map(|o| match &o.body {
            MptcpBody::MpCapable(c) => Some(c),
            _ => None,
        })
    }
    /// First DSS, if any.
    pub fn dss(&self) -> Option<&Dss> {
        self.mptcp.iter().find_map(|o| match &o.body {
            MptcpBody::Dss(d) => Some(d),
            _ => None,
        })
    }
    /// Number of DSS options (RFC: at most one per segment).
    pub fn dss_count(&self) -> usize {
        self.mptcp
            .iter()
            .filter(|o| matches!(o.body, MptcpBody::Dss(_)))
            .count()
    }
}

/// Walk a TCP options area and parse its MPTCP options.
///
/// `version_hint` is the connection's version if known; it only matters for ADD_ADDR,
/// whose v0 and v1 layouts differ (without a hint the subtype byte decides: IP version
/// nibble 4/6 means v0, otherwise v1).
pub fn parse_options(area: &[u8], version_hint: Option<Version>) -> ParsedOptions<'_> {
    let mut out = ParsedOptions {
        mptcp: Vec::with_capacity(count_mptcp(area)),
        anomalies: Vec::new(),
    };
    let mut off = 0usize;
    while let Some(&kind) = area.get(off) {
        match kind {
            0 => {
                // EOL: the rest is padding and should be zero.
                if area
                    .get(off + 1..)
                    .is_some_and(|r| r.iter().any(|&b| b != 0))
                {
                    out.anomalies
                        .push(OptionAnomaly::DataAfterEol { offset: off + 1 });
                }
                break;
            }
            1 => {
                off += 1;
                continue;
            }
            _ => {}
        }
        let Some(&len) = area.get(off + 1) else {
            out.anomalies
                .push(OptionAnomaly::MissingLength { offset: off, kind });
            break;
        };
        if len < 2 {
            out.anomalies.push(OptionAnomaly::BadLength {
                offset: off,
                kind,
                len,
            });
            break;
        }
        let available = area.len() - off; // off < area.len() here
        let Some(opt) = area.get(off..off + len as usize) else {
            out.anomalies.push(OptionAnomaly::Overrun {
                offset: off,
                kind,
                len,
                available,
            });
            break;
        };
        if kind == KIND_MPTCP {
            match parse_mptcp(opt, off, version_hint, &mut out.anomalies) {
                Some(o) => out.mptcp.push(o),
                None => out
                    .anomalies
                    .push(OptionAnomaly::MptcpTooShort { offset: off, len }),
            }
        }
        off += len as usize;
    }
    out
}

/// Number of kind-30 options a walk of `area` will meet (an upper bound on what
/// [`parse_options`] returns), so that the result vector is allocated once, exactly.
fn count_mptcp(area: &[u8]) -> usize {
    let mut n = 0;
    let mut off = 0usize;
    while let Some(&kind) = area.get(off) {
        match kind {
            0 => break,
            1 => off += 1,
            _ => {
                let len = match area.get(off + 1) {
                    Some(&l) if l >= 2 => l as usize,
                    _ => break,
                };
                if off + len > area.len() {
                    break;
                }
                n += (kind == KIND_MPTCP) as usize;
                off += len;
            }
        }
    }
    n
}

/// Reader that tracks absolute offsets while it consumes a slice (plain big-endian reads:
/// this runs on every TCP segment, so no combinator machinery in the loop).
struct Rd<'a> {
    input: &'a [u8],
    /// Absolute offset (in the options area) of `input[0]`.
    pos: usize,
}

impl<'a> Rd<'a> {
    #[inline]
    fn take<const N: usize>(&mut self) -> Option<([u8; N], usize)> {
        let (head, rest) = self.input.split_first_chunk::<N>()?;
        let at = self.pos;
        self.pos += N;
        self.input = rest;
        Some((*head, at))
    }
    #[inline]
    fn u8(&mut self) -> Option<Spanned<u8>> {
        let (b, at) = self.take::<1>()?;
        Some(Spanned::new(b[0], at, 1))
    }
    #[inline]
    fn u16(&mut self) -> Option<Spanned<u16>> {
        let (b, at) = self.take::<2>()?;
        Some(Spanned::new(u16::from_be_bytes(b), at, 2))
    }
    #[inline]
    fn u32(&mut self) -> Option<Spanned<u32>> {
        let (b, at) = self.take::<4>()?;
        Some(Spanned::new(u32::from_be_bytes(b), at, 4))
    }
    #[inline]
    fn u64(&mut self) -> Option<Spanned<u64>> {
        let (b, at) = self.take::<8>()?;
        Some(Spanned::new(u64::from_be_bytes(b), at, 8))
    }
    /// 4- or 8-byte big-endian number widened to u64.
    #[inline]
    fn uint(&mut self, width: u8) -> Option<Spanned<u64>> {
        if width == 8 {
            self.u64()
        } else {
            let s = self.u32()?;
            Some(Spanned {
                value: s.value as u64,
                span: s.span,
            })
        }
    }
    #[inline]
    fn bytes(&mut self, n: usize) -> Option<Spanned<&'a [u8]>> {
        if n > self.input.len() {
            return None;
        }
        let (head, rest) = self.input.split_at(n);
        let s = Spanned::new(head, self.pos, n);
        self.pos += n;
        self.input = rest;
        Some(s)
    }
}

/// Parse one MPTCP option; `opt` is exactly `length` bytes, starting with kind 30.
fn parse_mptcp<'a>(
    opt: &'a [u8],
    offset: usize,
    hint: Option<Version>,
    anomalies: &mut Vec<OptionAnomaly>,
) -> Option<MptcpOption<'a>> {
    let len = *opt.get(1)?;
    let b2 = *opt.get(2)?;
    let st = b2 >> 4;
    let low = b2 & 0x0f;
    let span = Span::new(offset, opt.len());
    let subtype = Spanned::new(st, offset + 2, 1);
    let nib = |v: u8| Spanned::new(v, offset + 2, 1);
    let flag = |v: bool| Spanned::new(v, offset + 2, 1);
    // Reader positioned after kind, length and the subtype byte.
    let mut r = Rd {
        input: opt.get(3..).unwrap_or(&[]),
        pos: offset + 3,
    };
    let raw_after_len = opt.get(2..).unwrap_or(&[]);
    let bad = |anomalies: &mut Vec<OptionAnomaly>| {
        anomalies.push(OptionAnomaly::MptcpBadLength {
            offset,
            subtype: st,
            len,
        });
        MptcpBody::Malformed {
            subtype: st,
            bytes: raw_after_len,
        }
    };
    let body = match st {
        subtype::MP_CAPABLE => match len {
            4 | 12 | 20 | 22 | 24 => {
                let flags = r.u8()?;
                let sender_key = if len >= 12 { r.u64() } else { None };
                let receiver_key = if len >= 20 { r.u64() } else { None };
                let data_len = if len >= 22 { r.u16() } else { None };
                let checksum = if len >= 24 { r.u16() } else { None };
                let v = Version::from_raw(low);
                if v == Version::V0 && !matches!(len, 12 | 20) {
                    anomalies.push(OptionAnomaly::MptcpVersionMismatch {
                        offset,
                        subtype: st,
                        len,
                    });
                }
                MptcpBody::MpCapable(MpCapable {
                    version: nib(low),
                    flags,
                    sender_key,
                    receiver_key,
                    data_len,
                    checksum,
                })
            }
            _ => bad(anomalies),
        },
        subtype::MP_JOIN => match len {
            12 => {
                let addr_id = r.u8()?;
                let token = r.u32()?;
                let nonce = r.u32()?;
                MptcpBody::MpJoin(MpJoin::Syn {
                    backup: flag(low & 1 != 0),
                    addr_id,
                    token,
                    nonce,
                })
            }
            16 => {
                let addr_id = r.u8()?;
                let hmac = r.u64()?;
                let nonce = r.u32()?;
                MptcpBody::MpJoin(MpJoin::SynAck {
                    backup: flag(low & 1 != 0),
                    addr_id,
                    hmac,
                    nonce,
                })
            }
            24 => {
                let _reserved = r.u8()?;
                let hmac = r.bytes(20)?;
                MptcpBody::MpJoin(MpJoin::Ack { hmac })
            }
            _ => bad(anomalies),
        },
        subtype::DSS => {
            if len < 4 {
                bad(anomalies)
            } else {
                let flags = r.u8()?;
                let f = flags.value;
                let ack_w: u8 = if f & Dss::FLAG_A_LOWER != 0 { 8 } else { 4 };
                let dsn_w: u8 = if f & Dss::FLAG_M_LOWER != 0 { 8 } else { 4 };
                let has_ack = f & Dss::FLAG_A != 0;
                let has_map = f & Dss::FLAG_M != 0;
                let base = 4
                    + if has_ack { ack_w as usize } else { 0 }
                    + if has_map { dsn_w as usize + 6 } else { 0 };
                let l = len as usize;
                if l != base && !(has_map && l == base + 2) {
                    bad(anomalies)
                } else {
                    let data_ack = if has_ack {
                        Some((r.uint(ack_w)?, ack_w))
                    } else {
                        None
                    };
                    let mapping = if has_map {
                        let dsn = r.uint(dsn_w)?;
                        let subflow_seq = r.u32()?;
                        let data_len = r.u16()?;
                        let checksum = if l == base + 2 { Some(r.u16()?) } else { None };
                        Some(DssMapping {
                            dsn,
                            dsn_len: dsn_w,
                            subflow_seq,
                            data_len,
                            checksum,
                        })
                    } else {
                        None
                    };
                    MptcpBody::Dss(Dss {
                        flags,
                        data_ack,
                        mapping,
                    })
                }
            }
        }
        subtype::ADD_ADDR => {
            let version = match hint {
                Some(v @ (Version::V0 | Version::V1)) => v,
                _ if low == 4 || low == 6 => Version::V0,
                _ => Version::V1,
            };
            let l = len as usize;
            // (is_v6, has_port, has_hmac)
            let layout = if version == Version::V0 {
                match (low, l) {
                    (4, 8) => Some((false, false, false)),
                    (4, 10) => Some((false, true, false)),
                    (6, 20) => Some((true, false, false)),
                    (6, 22) => Some((true, true, false)),
                    (4 | 6, _) => None,
                    (v, _) => {
                        anomalies.push(OptionAnomaly::AddAddrBadIpVersion { offset, ipver: v });
                        match l {
                            8 => Some((false, false, false)),
                            10 => Some((false, true, false)),
                            20 => Some((true, false, false)),
                            22 => Some((true, true, false)),
                            _ => None,
                        }
                    }
                }
            } else {
                let echo = low & 1 != 0;
                let h = if echo { 0 } else { 8 };
                match l.checked_sub(h) {
                    Some(8) => Some((false, false, !echo)),
                    Some(10) => Some((false, true, !echo)),
                    Some(20) => Some((true, false, !echo)),
                    Some(22) => Some((true, true, !echo)),
                    _ => None,
                }
            };
            match layout {
                None => bad(anomalies),
                Some((v6, has_port, has_hmac)) => {
                    let addr_id = r.u8()?;
                    let addr = if v6 {
                        let b = r.bytes(16)?;
                        let mut a = [0u8; 16];
                        a.copy_from_slice(b.value); // take(16) guarantees 16 bytes
                        Spanned {
                            value: IpAddr::V6(Ipv6Addr::from(a)),
                            span: b.span,
                        }
                    } else {
                        let b = r.u32()?;
                        Spanned {
                            value: IpAddr::V4(Ipv4Addr::from(b.value)),
                            span: b.span,
                        }
                    };
                    let port = if has_port { Some(r.u16()?) } else { None };
                    let hmac = if has_hmac { Some(r.u64()?) } else { None };
                    MptcpBody::AddAddr(AddAddr {
                        version,
                        ipver: if version == Version::V0 {
                            Some(nib(low))
                        } else {
                            None
                        },
                        echo: flag(version != Version::V0 && low & 1 != 0),
                        addr_id,
                        addr,
                        port,
                        hmac,
                    })
                }
            }
        }
        subtype::REMOVE_ADDR => {
            if len < 4 {
                bad(anomalies)
            } else {
                let n = len as usize - 3;
                let addr_ids = r.bytes(n)?;
                MptcpBody::RemoveAddr(RemoveAddr { addr_ids })
            }
        }
        subtype::MP_PRIO => match len {
            3 => MptcpBody::MpPrio(MpPrio {
                backup: flag(low & 1 != 0),
                addr_id: None,
            }),
            4 => MptcpBody::MpPrio(MpPrio {
                backup: flag(low & 1 != 0),
                addr_id: Some(r.u8()?),
            }),
            _ => bad(anomalies),
        },
        subtype::MP_FAIL => match len {
            12 => {
                let _reserved = r.u8()?;
                MptcpBody::MpFail { dsn: r.u64()? }
            }
            _ => bad(anomalies),
        },
        subtype::MP_FASTCLOSE => match len {
            12 => {
                let _reserved = r.u8()?;
                MptcpBody::MpFastclose {
                    receiver_key: r.u64()?,
                }
            }
            _ => bad(anomalies),
        },
        subtype::MP_TCPRST => match len {
            4 => MptcpBody::MpTcpRst(MpTcpRst {
                flags: nib(low),
                reason: r.u8()?,
            }),
            _ => bad(anomalies),
        },
        _ => MptcpBody::Unknown {
            subtype: st,
            bytes: raw_after_len,
        },
    };
    Some(MptcpOption {
        span,
        length: len,
        subtype,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> (MptcpBody<'_>, Vec<OptionAnomaly>) {
        let p = parse_options(bytes, None);
        assert_eq!(p.mptcp.len(), 1, "{:?}", p);
        (p.mptcp[0].body, p.anomalies)
    }

    // Seed SYN options: mss 1460,nop,wscale 3,mp capable flags:H sndkey,nop,nop,TS,sackOK,eol
    const SEED_SYN: &[u8] = &[
        2, 4, 0x05, 0xb4, 1, 3, 3, 3, 30, 12, 0x00, 0x01, 0x96, 0xe5, 0x76, 0x19, 0x8c, 0x47, 0x53,
        0x50, 1, 1, 8, 10, 0x51, 0x46, 0x2c, 0xe5, 0, 0, 0, 0, 4, 2, 0, 0,
    ];

    #[test]
    fn seed_syn_mp_capable() {
        let p = parse_options(SEED_SYN, None);
        assert!(p.anomalies.is_empty(), "{:?}", p.anomalies);
        assert_eq!(p.mptcp.len(), 1);
        let o = &p.mptcp[0];
        assert_eq!(o.span, Span::new(8, 12));
        let c = p.mp_capable().unwrap();
        assert_eq!(c.version(), Version::V0);
        assert_eq!(c.flags.value, MpCapable::FLAG_H);
        assert!(!c.checksum_required());
        assert_eq!(c.sender_key.unwrap().value, 0x96e576198c475350);
        assert_eq!(c.sender_key.unwrap().span, Span::new(12, 8));
        assert!(c.receiver_key.is_none());
    }

    #[test]
    fn mp_capable_all_lengths() {
        let mut v = vec![30u8, 24, 0x01, 0x81];
        v.extend_from_slice(&1u64.to_be_bytes());
        v.extend_from_slice(&2u64.to_be_bytes());
        v.extend_from_slice(&0x2000u16.to_be_bytes());
        v.extend_from_slice(&0xabcdu16.to_be_bytes());
        for l in [4usize, 12, 20, 22, 24] {
            let mut o = v[..l].to_vec();
            o[1] = l as u8;
            let (b, an) = one(&o);
            assert!(an.is_empty());
            let MptcpBody::MpCapable(c) = b else { panic!() };
            assert_eq!(c.version(), Version::V1);
            assert!(c.checksum_required());
            assert_eq!(c.sender_key.map(|k| k.value), (l >= 12).then_some(1));
            assert_eq!(c.receiver_key.map(|k| k.value), (l >= 20).then_some(2));
            assert_eq!(c.data_len.map(|k| k.value), (l >= 22).then_some(0x2000));
            assert_eq!(c.checksum.map(|k| k.value), (l >= 24).then_some(0xabcd));
        }
        // v0 with a v1-only length is parsed but flagged.
        let mut o = v[..22].to_vec();
        o[1] = 22;
        o[2] = 0x00;
        let (_, an) = one(&o);
        assert!(matches!(an[0], OptionAnomaly::MptcpVersionMismatch { .. }));
    }

    #[test]
    fn mp_join_forms() {
        // From mptcp-v0 frames 8, 9, 10.
        let syn = [
            30, 12, 0x10, 0x00, 0xe4, 0x7f, 0x01, 0x42, 0x1b, 0x66, 0x5a, 0x18,
        ];
        let (b, _) = one(&syn);
        assert_eq!(
            b,
            MptcpBody::MpJoin(MpJoin::Syn {
                backup: Spanned::new(false, 2, 1),
                addr_id: Spanned::new(0, 3, 1),
                token: Spanned::new(0xe47f0142, 4, 4),
                nonce: Spanned::new(0x1b665a18, 8, 4),
            })
        );
        let synack = [
            30, 16, 0x11, 0x01, 0x5a, 0xb6, 0x80, 0xc7, 0x88, 0x4a, 0xf0, 0x3d, 0x33, 0xab, 0xe9,
            0xd5,
        ];
        let (b, _) = one(&synack);
        let MptcpBody::MpJoin(MpJoin::SynAck {
            backup,
            addr_id,
            hmac,
            nonce,
        }) = b
        else {
            panic!()
        };
        assert!(backup.value);
        assert_eq!(
            (addr_id.value, hmac.value, nonce.value),
            (1, 0x5ab680c7884af03d, 0x33abe9d5)
        );
        let mut ack = vec![30, 24, 0x10, 0x00];
        ack.extend((0..20).map(|i| i as u8));
        let (b, _) = one(&ack);
        let MptcpBody::MpJoin(MpJoin::Ack { hmac }) = b else {
            panic!()
        };
        assert_eq!(hmac.span, Span::new(4, 20));
        assert_eq!(hmac.value[19], 19);
    }

    #[test]
    fn dss_variants() {
        // seed: flags MA, dack 2248627404, dsn 3845908739, sfsn 1, dlen 144 (no csum) = 18
        let mut o = vec![30, 18, 0x20, 0x05];
        o.extend_from_slice(&2248627404u32.to_be_bytes());
        o.extend_from_slice(&3845908739u32.to_be_bytes());
        o.extend_from_slice(&1u32.to_be_bytes());
        o.extend_from_slice(&144u16.to_be_bytes());
        let (b, an) = one(&o);
        assert!(an.is_empty());
        let MptcpBody::Dss(d) = b else { panic!() };
        assert_eq!(d.data_ack.unwrap().0.value, 2248627404);
        assert_eq!(d.data_ack.unwrap().1, 4);
        let m = d.mapping.unwrap();
        assert_eq!(
            (
                m.dsn.value,
                m.dsn_len,
                m.subflow_seq.value,
                m.data_len.value
            ),
            (3845908739, 4, 1, 144)
        );
        assert_eq!(m.checksum, None);
        assert_eq!(m.data_len.span, Span::new(16, 2));
        // with checksum: 20
        o.extend_from_slice(&0x082fu16.to_be_bytes());
        o[1] = 20;
        let (b, _) = one(&o);
        let MptcpBody::Dss(d) = b else { panic!() };
        assert_eq!(d.mapping.unwrap().checksum.unwrap().value, 0x082f);
        // 8-byte ack and DSN (Linux v1): 26 = 4 + 8 + 8 + 4 + 2
        let mut o = vec![30, 26, 0x20, 0x0f];
        o.extend_from_slice(&14413541604287230030u64.to_be_bytes());
        o.extend_from_slice(&11713449205243392242u64.to_be_bytes());
        o.extend_from_slice(&1u32.to_be_bytes());
        o.extend_from_slice(&8192u16.to_be_bytes());
        let (b, _) = one(&o);
        let MptcpBody::Dss(d) = b else { panic!() };
        assert_eq!(
            d.data_ack.unwrap(),
            (Spanned::new(14413541604287230030, 4, 8), 8)
        );
        assert_eq!(d.mapping.unwrap().dsn.value, 11713449205243392242);
        // ack only, 8 bytes: 12
        let (b, _) = one(&[30, 12, 0x20, 0x03, 0, 0, 0, 0, 0, 0, 1, 2]);
        let MptcpBody::Dss(d) = b else { panic!() };
        assert_eq!(d.data_ack.unwrap().0.value, 0x102);
        assert!(d.mapping.is_none());
        // DATA_FIN flag, no ack, no map: 4
        let (b, _) = one(&[30, 4, 0x20, 0x10]);
        let MptcpBody::Dss(d) = b else { panic!() };
        assert!(d.data_fin());
        // lying length: ack-only flags with 10 bytes
        let (b, an) = one(&[30, 10, 0x20, 0x01, 0, 0, 0, 0, 0, 0]);
        assert!(matches!(b, MptcpBody::Malformed { subtype: 2, .. }));
        assert!(matches!(an[0], OptionAnomaly::MptcpBadLength { .. }));
    }

    #[test]
    fn add_addr_v0_v1() {
        // mptcp-v0 frame 4: add-addr v0-ip4 id 1 10.1.2.2
        let (b, _) = one(&[30, 8, 0x34, 0x01, 10, 1, 2, 2]);
        let MptcpBody::AddAddr(a) = b else { panic!() };
        assert_eq!(a.version, Version::V0);
        assert_eq!(a.addr.value, "10.1.2.2".parse::<IpAddr>().unwrap());
        assert_eq!(a.addr_id.value, 1);
        // v1 with hmac (mptcp-aa-v1 frame 13)
        let o = [
            30, 16, 0x30, 0x01, 192, 168, 136, 225, 0x66, 0x99, 0x28, 0x74, 0x43, 0x66, 0x71, 0x6c,
        ];
        let (b, _) = one(&o);
        let MptcpBody::AddAddr(a) = b else { panic!() };
        assert_eq!(a.version, Version::V1);
        assert_eq!(a.hmac.unwrap().value, 0x669928744366716c);
        assert!(!a.echo.value);
        // v1 echo, IPv6 with port: 22
        let mut o = vec![30, 22, 0x31, 7];
        o.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        o.extend_from_slice(&443u16.to_be_bytes());
        let (b, _) = one(&o);
        let MptcpBody::AddAddr(a) = b else { panic!() };
        assert!(a.echo.value);
        assert_eq!(a.port.unwrap().value, 443);
        assert_eq!(a.port.unwrap().span, Span::new(20, 2));
        assert!(a.hmac.is_none());
        // hint overrides inference
        let p = parse_options(&[30, 8, 0x31, 1, 10, 0, 0, 1], Some(Version::V0));
        assert!(matches!(
            p.anomalies[0],
            OptionAnomaly::AddAddrBadIpVersion { ipver: 1, .. }
        ));
    }

    #[test]
    fn other_subtypes() {
        let (b, _) = one(&[30, 6, 0x40, 0, 1, 2]);
        let MptcpBody::RemoveAddr(r) = b else {
            panic!()
        };
        assert_eq!(r.addr_ids.value, &[0, 1, 2]);
        assert_eq!(r.addr_ids.span, Span::new(3, 3));
        let (b, _) = one(&[30, 4, 0x51, 3]);
        assert_eq!(
            b,
            MptcpBody::MpPrio(MpPrio {
                backup: Spanned::new(true, 2, 1),
                addr_id: Some(Spanned::new(3, 3, 1))
            })
        );
        let (b, _) = one(&[30, 3, 0x50]);
        assert!(matches!(b, MptcpBody::MpPrio(MpPrio { addr_id: None, .. })));
        let (b, _) = one(&[30, 12, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 9]);
        assert!(
            matches!(b, MptcpBody::MpFail { dsn } if dsn.value == 9 && dsn.span == Span::new(4, 8))
        );
        let (b, _) = one(&[30, 12, 0x70, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        assert!(
            matches!(b, MptcpBody::MpFastclose { receiver_key } if receiver_key.value == 0x0102030405060708)
        );
        let (b, _) = one(&[30, 4, 0x81, 6]);
        assert!(
            matches!(b, MptcpBody::MpTcpRst(MpTcpRst { flags, reason }) if flags.value == 1 && reason.value == 6)
        );
        let (b, _) = one(&[30, 5, 0xf3, 9, 9]);
        assert_eq!(
            b,
            MptcpBody::Unknown {
                subtype: 15,
                bytes: &[0xf3, 9, 9]
            }
        );
        let (b, _) = one(&[30, 5, 0x93, 9, 9]);
        assert!(matches!(b, MptcpBody::Unknown { subtype: 9, .. }));
    }

    #[test]
    fn walker_anomalies() {
        let p = parse_options(&[1, 1, 30], None);
        assert_eq!(
            p.anomalies,
            vec![OptionAnomaly::MissingLength {
                offset: 2,
                kind: 30
            }]
        );
        let p = parse_options(&[1, 8, 1, 30, 12, 0], None);
        assert_eq!(
            p.anomalies,
            vec![OptionAnomaly::BadLength {
                offset: 1,
                kind: 8,
                len: 1
            }]
        );
        let p = parse_options(&[30, 12, 0x00, 0x01], None);
        assert!(matches!(
            p.anomalies[0],
            OptionAnomaly::Overrun { available: 4, .. }
        ));
        let p = parse_options(&[30, 2], None);
        assert!(matches!(
            p.anomalies[0],
            OptionAnomaly::MptcpTooShort { .. }
        ));
        let p = parse_options(&[0, 0, 5], None);
        assert!(matches!(
            p.anomalies[0],
            OptionAnomaly::DataAfterEol { offset: 1 }
        ));
        assert!(parse_options(&[], None).mptcp.is_empty());
    }

    /// Every truncation and every lying length byte of every valid option parses without
    /// panicking; truncations never yield a well-formed option claiming bytes it lacks.
    #[test]
    fn adversarial_truncations_and_lengths() {
        let mut samples: Vec<Vec<u8>> = vec![
            SEED_SYN[8..20].to_vec(),
            vec![
                30, 16, 0x11, 0x01, 0x5a, 0xb6, 0x80, 0xc7, 0x88, 0x4a, 0xf0, 0x3d, 0x33, 0xab,
                0xe9, 0xd5,
            ],
            vec![30, 8, 0x34, 0x01, 10, 1, 2, 2],
            vec![30, 12, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 9],
            vec![30, 4, 0x81, 6],
            vec![30, 6, 0x40, 0, 1, 2],
        ];
        let mut big = vec![30, 30, 0x20, 0x0f];
        big.extend_from_slice(&[0xff; 26]);
        samples.push(big);
        let mut aa = vec![30, 30, 0x30, 0x00];
        aa.extend_from_slice(&[0x11; 26]);
        samples.push(aa);
        for s in &samples {
            for cut in 0..=s.len() {
                let p = parse_options(&s[..cut], None);
                for o in &p.mptcp {
                    assert!(o.span.end() <= cut);
                }
            }
            for l in 0..=255u8 {
                let mut t = s.clone();
                t[1] = l;
                t.resize(t.len().max(64), 0xaa);
                let p = parse_options(&t, Some(Version::V1));
                for o in &p.mptcp {
                    assert!(o.span.end() <= t.len());
                }
                let _ = parse_options(&t, Some(Version::V0));
                let _ = parse_options(&t, None);
            }
            for b2 in 0..=255u8 {
                for b3 in [0u8, 0x01, 0x05, 0x0f, 0x1f, 0xff] {
                    let mut t = s.clone();
                    t[2] = b2;
                    let last = t.len() - 1;
                    t[3.min(last)] = b3;
                    let _ = parse_options(&t, None);
                }
            }
        }
    }
}

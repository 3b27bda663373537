//! The options-area walker ([`parse_options`]: NOP, EOL, lengths checked against the
//! area) and the MPTCP option parser, one subtype at a time, over a reader that keeps
//! every field's span.

use super::{
    subtype, AddAddr, Dss, DssMapping, MpCapable, MpJoin, MpPrio, MpTcpRst, MptcpBody, MptcpOption,
    OptionAnomalies, OptionAnomaly, MptcpOptions, ParsedOptions, RemoveAddr, Version, KIND_MPTCP,
};
use crate::core::span::{Span, Spanned};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Walk a TCP options area and parse its MPTCP options.
///
/// `version_hint` is the connection's version if known; it only matters for ADD_ADDR,
/// whose v0 and v1 layouts differ (without a hint the subtype byte decides: IP version
/// nibble 4/6 means v0, otherwise v1).
pub fn parse_options(area: &[u8], version_hint: Option<Version>) -> ParsedOptions<'_> {
    let mut out = ParsedOptions {
        mptcp: MptcpOptions::new(),
        anomalies: OptionAnomalies::new(),
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

/// Whether the options area holds an MPTCP option (kind 30): the walk of [`parse_options`]
/// without parsing, for the segments of connections not tracked. True whenever
/// `parse_options` would return an MPTCP option (and also for some it rejects).
pub fn has_mptcp_option(area: &[u8]) -> bool {
    count_mptcp(area) > 0
}

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
/// None when a field the length promises is missing (reported as `MptcpTooShort`).
fn parse_mptcp<'a>(
    opt: &'a [u8],
    offset: usize,
    hint: Option<Version>,
    anomalies: &mut OptionAnomalies,
) -> Option<MptcpOption<'a>> {
    let len = *opt.get(1)?;
    let b2 = *opt.get(2)?;
    let o = Head {
        offset,
        len,
        st: b2 >> 4,
        low: b2 & 0x0f,
        raw_after_len: opt.get(2..).unwrap_or(&[]),
    };
    let span = Span::new(offset, opt.len());
    let subtype = Spanned::new(o.st, offset + 2, 1);
    // Reader positioned after kind, length and the subtype byte.
    let mut r = Rd {
        input: opt.get(3..).unwrap_or(&[]),
        pos: offset + 3,
    };
    let body = match o.st {
        subtype::MP_CAPABLE => mp_capable(&o, &mut r, anomalies)?,
        subtype::MP_JOIN => mp_join(&o, &mut r, anomalies)?,
        subtype::DSS => dss(&o, &mut r, anomalies)?,
        subtype::ADD_ADDR => add_addr(&o, &mut r, hint, anomalies)?,
        subtype::REMOVE_ADDR => {
            if len < 4 {
                o.bad(anomalies)
            } else {
                let n = len as usize - 3;
                let addr_ids = r.bytes(n)?;
                MptcpBody::RemoveAddr(RemoveAddr { addr_ids })
            }
        }
        subtype::MP_PRIO => match len {
            3 => MptcpBody::MpPrio(MpPrio {
                backup: o.flag(o.low & 1 != 0),
                addr_id: None,
            }),
            4 => MptcpBody::MpPrio(MpPrio {
                backup: o.flag(o.low & 1 != 0),
                addr_id: Some(r.u8()?),
            }),
            _ => o.bad(anomalies),
        },
        subtype::MP_FAIL => match len {
            12 => {
                let _reserved = r.u8()?;
                MptcpBody::MpFail { dsn: r.u64()? }
            }
            _ => o.bad(anomalies),
        },
        subtype::MP_FASTCLOSE => match len {
            12 => {
                let _reserved = r.u8()?;
                MptcpBody::MpFastclose {
                    receiver_key: r.u64()?,
                }
            }
            _ => o.bad(anomalies),
        },
        subtype::MP_TCPRST => match len {
            4 => MptcpBody::MpTcpRst(MpTcpRst {
                flags: o.nib(o.low),
                reason: r.u8()?,
            }),
            _ => o.bad(anomalies),
        },
        _ => MptcpBody::Unknown {
            subtype: o.st,
            bytes: o.raw_after_len,
        },
    };
    Some(MptcpOption {
        span,
        length: len,
        subtype,
        body,
    })
}

/// The first three bytes of one MPTCP option, as every subtype parser needs them.
struct Head<'a> {
    /// Offset of the option in the options area.
    offset: usize,
    /// The option's length byte.
    len: u8,
    /// Subtype (high nibble of byte 2).
    st: u8,
    /// Low nibble of byte 2 (version, flags or IP version, by subtype).
    low: u8,
    /// The option's bytes after kind and length.
    raw_after_len: &'a [u8],
}

impl<'a> Head<'a> {
    /// A value held in byte 2 (a nibble or one of its bits), with that byte's span.
    fn nib(&self, v: u8) -> Spanned<u8> {
        Spanned::new(v, self.offset + 2, 1)
    }
    fn flag(&self, v: bool) -> Spanned<bool> {
        Spanned::new(v, self.offset + 2, 1)
    }
    /// A length this subtype does not have: `MptcpBadLength`, and the raw bytes kept.
    fn bad(&self, anomalies: &mut OptionAnomalies) -> MptcpBody<'a> {
        anomalies.push(OptionAnomaly::MptcpBadLength {
            offset: self.offset,
            subtype: self.st,
            len: self.len,
        });
        MptcpBody::Malformed {
            subtype: self.st,
            bytes: self.raw_after_len,
        }
    }
}

/// MP_CAPABLE: lengths 4 (v1 SYN), 12, 20, 22 and 24 (v1).
fn mp_capable<'a>(
    o: &Head<'a>,
    r: &mut Rd<'a>,
    anomalies: &mut OptionAnomalies,
) -> Option<MptcpBody<'a>> {
    let (len, low) = (o.len, o.low);
    Some(match len {
        4 | 12 | 20 | 22 | 24 => {
            let flags = r.u8()?;
            let sender_key = if len >= 12 { r.u64() } else { None };
            let receiver_key = if len >= 20 { r.u64() } else { None };
            let data_len = if len >= 22 { r.u16() } else { None };
            let checksum = if len >= 24 { r.u16() } else { None };
            let v = Version::from_raw(low);
            if v == Version::V0 && !matches!(len, 12 | 20) {
                anomalies.push(OptionAnomaly::MptcpVersionMismatch {
                    offset: o.offset,
                    subtype: o.st,
                    len,
                });
            }
            MptcpBody::MpCapable(MpCapable {
                version: o.nib(low),
                flags,
                sender_key,
                receiver_key,
                data_len,
                checksum,
            })
        }
        _ => o.bad(anomalies),
    })
}

/// MP_JOIN: the SYN (12), SYN/ACK (16) or third-ACK (24) form, by length.
fn mp_join<'a>(
    o: &Head<'a>,
    r: &mut Rd<'a>,
    anomalies: &mut OptionAnomalies,
) -> Option<MptcpBody<'a>> {
    Some(match o.len {
        12 => {
            let addr_id = r.u8()?;
            let token = r.u32()?;
            let nonce = r.u32()?;
            MptcpBody::MpJoin(MpJoin::Syn {
                backup: o.flag(o.low & 1 != 0),
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
                backup: o.flag(o.low & 1 != 0),
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
        _ => o.bad(anomalies),
    })
}

/// DSS: the flags say which of data ack and mapping are present and their widths; the
/// length must match them exactly (a mapping may add a 2-byte checksum).
fn dss<'a>(
    o: &Head<'a>,
    r: &mut Rd<'a>,
    anomalies: &mut OptionAnomalies,
) -> Option<MptcpBody<'a>> {
    let len = o.len;
    Some(if len < 4 {
        o.bad(anomalies)
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
            o.bad(anomalies)
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
    })
}

/// ADD_ADDR: v0 or v1 layout (by the connection's version, else the IP-version nibble),
/// then IPv4 or IPv6, port and HMAC by length.
fn add_addr<'a>(
    o: &Head<'a>,
    r: &mut Rd<'a>,
    hint: Option<Version>,
    anomalies: &mut OptionAnomalies,
) -> Option<MptcpBody<'a>> {
    let (offset, low) = (o.offset, o.low);
    let version = match hint {
        Some(v @ (Version::V0 | Version::V1)) => v,
        _ if low == 4 || low == 6 => Version::V0,
        _ => Version::V1,
    };
    let l = o.len as usize;
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
    Some(match layout {
        None => o.bad(anomalies),
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
                    Some(o.nib(low))
                } else {
                    None
                },
                echo: o.flag(version != Version::V0 && low & 1 != 0),
                addr_id,
                addr,
                port,
                hmac,
            })
        }
    })
}

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
//!
//! Layout: this file holds the option model ([`MptcpOption`], [`MptcpBody`] and the
//! per-subtype structs, [`OptionAnomaly`], [`ParsedOptions`]); `parse` the walker and the
//! MPTCP option parser ([`parse_options`]); `tests` the unit tests.

mod parse;

pub use parse::{has_mptcp_option, parse_options};

use smallvec::SmallVec;
use crate::core::span::{Span, Spanned};
use std::net::IpAddr;

/// TCP option kind of Multipath TCP.
pub const KIND_MPTCP: u8 = 30;

/// MPTCP option subtypes (high nibble of the third option byte).
pub mod subtype {
    /// MP_CAPABLE.
    pub const MP_CAPABLE: u8 = 0;
    /// MP_JOIN.
    pub const MP_JOIN: u8 = 1;
    /// DSS (data sequence signal).
    pub const DSS: u8 = 2;
    /// ADD_ADDR.
    pub const ADD_ADDR: u8 = 3;
    /// REMOVE_ADDR.
    pub const REMOVE_ADDR: u8 = 4;
    /// MP_PRIO.
    pub const MP_PRIO: u8 = 5;
    /// MP_FAIL.
    pub const MP_FAIL: u8 = 6;
    /// MP_FASTCLOSE.
    pub const MP_FASTCLOSE: u8 = 7;
    /// MP_TCPRST (v1).
    pub const MP_TCPRST: u8 = 8;
    /// Reserved for private use.
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
    /// The sender's key (all forms but the v1 SYN).
    pub sender_key: Option<Spanned<u64>>,
    /// The receiver's key (third ACK).
    pub receiver_key: Option<Spanned<u64>>,
    /// v1 third ACK with data: data-level length of the implicit mapping.
    pub data_len: Option<Spanned<u16>>,
    /// v1 third ACK with data and checksum.
    pub checksum: Option<Spanned<u16>>,
}

impl MpCapable {
    /// A: checksum required.
    pub const FLAG_A: u8 = 0x80;
    /// B: extensibility.
    pub const FLAG_B: u8 = 0x40;
    /// C: see `flags`.
    pub const FLAG_C: u8 = 0x20;
    /// H: HMAC-SHA1 (v0) / HMAC-SHA256 (v1).
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
    /// Subflow sequence number, relative to the subflow's ISN.
    pub subflow_seq: Spanned<u32>,
    /// Data-level length (0: infinite mapping).
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
    /// The mapping, if the M flag is set.
    pub mapping: Option<DssMapping>,
}

impl Dss {
    /// F: DATA_FIN.
    pub const FLAG_F: u8 = 0x10;
    /// m: the DSN is 8 bytes.
    pub const FLAG_M_LOWER: u8 = 0x08;
    /// M: a mapping is present.
    pub const FLAG_M: u8 = 0x04;
    /// a: the data ack is 8 bytes.
    pub const FLAG_A_LOWER: u8 = 0x02;
    /// A: a data ack is present.
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
    /// Address id.
    pub addr_id: Spanned<u8>,
    /// The announced address.
    pub addr: Spanned<IpAddr>,
    /// Port, if present.
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
    /// B flag: use as backup path.
    pub backup: Spanned<bool>,
    /// v0 only (length 4).
    pub addr_id: Option<Spanned<u8>>,
}

/// MP_TCPRST (subtype 8, RFC 8684 §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpTcpRst {
    /// Low nibble of byte 2: U=0x8, V=0x4, W=0x2, T=0x1 (transient).
    pub flags: Spanned<u8>,
    /// The reason code ([`RstReason`]).
    pub reason: Spanned<u8>,
}

crate::value_enum! {
    /// The reason code of MP_TCPRST (RFC 8684 §3.6, IANA "MPTCP TCPRST Reason Codes"),
    /// named as stock Wireshark names them (`tcp.options.mptcp.rst_reason`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum RstReason: u8, open Unknown => "Unknown" {
        Unspecified = 0 => "Unspecified error";
        MptcpSpecific = 1 => "MPTCP-specific error";
        LackOfResources = 2 => "Lack of resources";
        AdministrativelyProhibited = 3 => "Administratively prohibited";
        TooMuchOutstandingData = 4 => "Too much outstanding data";
        UnacceptablePerformance = 5 => "Unacceptable performance";
        MiddleboxInterference = 6 => "Middlebox interference";
    }
}

/// The parsed body of one MPTCP option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MptcpBody<'a> {
    /// MP_CAPABLE.
    MpCapable(MpCapable),
    /// MP_JOIN.
    MpJoin(MpJoin<'a>),
    /// DSS.
    Dss(Dss),
    /// ADD_ADDR.
    AddAddr(AddAddr),
    /// REMOVE_ADDR.
    RemoveAddr(RemoveAddr<'a>),
    /// MP_PRIO.
    MpPrio(MpPrio),
    /// MP_FAIL: the DSN where the checksum failed.
    MpFail {
        dsn: Spanned<u64>,
    },
    /// MP_FASTCLOSE: the receiver's key.
    MpFastclose {
        receiver_key: Spanned<u64>,
    },
    /// MP_TCPRST.
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
    /// The parsed body.
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

/// The MPTCP options of one area, inline: a segment carries one or two (DSS, perhaps with an
/// ADD_ADDR or MP_PRIO; an option is 240 bytes with its spans, so one is kept inline): the
/// common case allocates nothing; more spill to the heap.
pub type MptcpOptions<'a> = SmallVec<[MptcpOption<'a>; 1]>;
/// The problems met in one area, inline (usually none).
pub type OptionAnomalies = SmallVec<[OptionAnomaly; 2]>;

/// Result of walking one options area.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedOptions<'a> {
    /// MPTCP options in wire order.
    pub mptcp: MptcpOptions<'a>,
    /// Problems met while walking the area, in order.
    pub anomalies: OptionAnomalies,
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

#[cfg(test)]
mod tests;

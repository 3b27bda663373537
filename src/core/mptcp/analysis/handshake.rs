//! The handshake step: MP_CAPABLE (version, keys and their echo on the third ACK, the
//! checksum flag, tokens and IDSNs, the implicit mapping of v1 data on the third ACK, the
//! fallback of a SYN/ACK without it) and MP_JOIN (address ids, backup flags), and the
//! subflow's ISN from its SYN.

use super::model::Connection;
use super::{Event, FallbackReason, Here};
use crate::core::mptcp::options::{MpCapable, MpJoin, MptcpBody, ParsedOptions};

/// What the handshake step leaves for the later steps.
pub(super) struct Handshake {
    /// (subflow sequence, data-level length) of v1 data sent with MP_CAPABLE.
    pub(super) implicit_map: Option<(u32, u32)>,
    /// Tokens first derived on this segment (to register for MP_JOIN lookups).
    pub(super) new_tokens: Vec<u32>,
}

/// MP_CAPABLE, MP_JOIN and the SYN's ISN. None only if the subflow is unknown.
pub(super) fn handshake(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    opts: &ParsedOptions<'_>,
    events: &mut Vec<Event>,
) -> Option<Handshake> {
    let mut hs = Handshake {
        implicit_map: None,
        new_tokens: Vec::new(),
    };
    let s = here.s;
    if let Some(cap) = opts.mp_capable() {
        mp_capable(conn, here, cap, &mut hs, events);
    } else if here.syn
        && here.ack
        && conn.syn_had_capable
        && conn.subflows.get(s).is_some_and(|x| !x.joined)
    {
        conn.set_fallback(FallbackReason::SynAckWithoutMpCapable, events);
    }
    mp_join(conn, here, opts)?;
    let sf = conn.subflows.get_mut(s)?;
    if here.syn {
        sf.isn[here.d] = Some(here.seg.seq);
        sf.syn_seen[here.d] = true;
        let i = usize::from(here.ack);
        sf.syn_ns[i].get_or_insert(here.seg.time_ns);
    } else if here.d == 0 && sf.capture_near.is_none() {
        // The first ACK of the client after the SYN/ACK: which side of the capture point has
        // the longer round trip tells which host the capture is nearer to.
        if let [Some(syn), Some(synack)] = sf.syn_ns {
            let (server_rtt, client_rtt) = (synack - syn, here.seg.time_ns - synack);
            if server_rtt >= 0 && client_rtt >= 0 {
                sf.capture_near = Some(if server_rtt >= client_rtt { 0 } else { 1 });
            }
        }
    }
    Some(hs)
}

/// One MP_CAPABLE: SYN and SYN/ACK carry the sender's key, the third ACK both keys (and,
/// in v1, maybe data with an implicit mapping).
fn mp_capable(
    conn: &mut Connection,
    here: &Here<'_, '_>,
    cap: &MpCapable,
    hs: &mut Handshake,
    events: &mut Vec<Event>,
) {
    let (d, o) = (here.d, here.o);
    if conn.version.is_none() {
        conn.version = Some(cap.version());
    }
    if here.syn {
        conn.capable_flags[d] = Some(cap.flags.value);
        if !here.ack && conn.subflows.get(here.s).is_some_and(|x| !x.joined) {
            conn.syn_had_capable = true;
        }
        if here.ack {
            conn.negotiated = true;
        }
        if let Some(k) = cap.sender_key {
            conn.keys[d].get_or_insert(k.value);
        }
    } else if let (Some(sk), Some(rk)) = (cap.sender_key, cap.receiver_key) {
        conn.negotiated = true;
        if conn.third_ack_echoed_keys.is_none() && (conn.keys[d].is_some() || conn.keys[o].is_some())
        {
            let ok = conn.keys[d].map_or(true, |k| k == sk.value)
                && conn.keys[o].map_or(true, |k| k == rk.value);
            conn.third_ack_echoed_keys = Some(ok);
            if !ok {
                events.push(Event::KeysNotEchoed);
            }
        }
        conn.keys[d].get_or_insert(sk.value);
        conn.keys[o].get_or_insert(rk.value);
        if let Some(dl) = cap.data_len {
            hs.implicit_map = Some((1, dl.value as u32));
        }
    }
    let checks: Vec<bool> = conn
        .capable_flags
        .iter()
        .flatten()
        .map(|f| f & 0x80 != 0)
        .collect();
    if !checks.is_empty() {
        conn.checksum_negotiated = Some(checks.iter().any(|&b| b));
    }
    let before = conn.tokens;
    conn.derive_keys();
    for (was, now) in before.iter().zip(conn.tokens) {
        if let (None, Some(t)) = (was, now) {
            hs.new_tokens.push(t);
        }
    }
}

/// MP_JOIN on SYN and SYN/ACK: the sender's address id and backup flag on this subflow.
fn mp_join(conn: &mut Connection, here: &Here<'_, '_>, opts: &ParsedOptions<'_>) -> Option<()> {
    for opt in &opts.mptcp {
        if let MptcpBody::MpJoin(j) = opt.body {
            let sf = conn.subflows.get_mut(here.s)?;
            match j {
                MpJoin::Syn {
                    backup, addr_id, ..
                }
                | MpJoin::SynAck {
                    backup, addr_id, ..
                } => {
                    sf.addr_ids[here.d] = Some(addr_id.value);
                    sf.backup[here.d] = backup.value;
                    if here.syn && here.ack {
                        conn.negotiated = true;
                    }
                }
                MpJoin::Ack { .. } => {}
            }
        }
    }
    Some(())
}

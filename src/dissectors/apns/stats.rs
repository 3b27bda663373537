//! `tshark -z apns,tree`: per-connection statistics.
use crate::core::apns::{Dir, Message};
use crate::epan::Packet;

pub fn register() {}

pub fn tap(_pkt: &Packet<'_>, _m: &Message<'_>, _dir: Dir) {}

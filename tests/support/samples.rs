//! The bundled sample captures (`samples/*.pcap`), generated from code. Used by
//! `examples/make_samples.rs` (which writes them) and `tests/samples.rs` (which checks them).
//! The APNs, FaceTime and MPTCP samples come from the same generators as the golden tests
//! (`gen_apns`, `gen_facetime`, `gen_mptcp`).

use super::{gen_apns, gen_facetime, gen_mptcp, Capture, Flow};
use std::net::Ipv4Addr;

fn snatmap_request(nonce: u32, ip: Ipv4Addr, port: u16) -> Vec<u8> {
    [&1u32.to_be_bytes()[..], &nonce.to_be_bytes(), &ip.octets(), &port.to_be_bytes(), &[0xaa, 0xaa]].concat()
}

fn snatmap_response(nonce: u32, ip: Ipv4Addr, port: u16) -> Vec<u8> {
    let inv_ip = (!u32::from(ip)).to_be_bytes();
    [&2u32.to_be_bytes()[..], &nonce.to_be_bytes(), &inv_ip, &(!port).to_be_bytes(), &[0, 0]].concat()
}

/// A FaceTime-era client learning its NAT mapping from every port it will use (5060, 16402),
/// one retransmitted request, and a stray response.
pub fn snatmap_demo() -> Vec<u8> {
    let lan = Ipv4Addr::new(192, 168, 1, 5);
    let wan = Ipv4Addr::new(203, 0, 113, 7);
    let mut cap = Capture::new();
    let mut sip = Flow::udp("192.168.1.5:5060".parse().unwrap(), "17.173.254.222:5678".parse().unwrap());
    let mut media = Flow::udp("192.168.1.5:16402".parse().unwrap(), "17.173.254.222:5678".parse().unwrap());
    cap.push(sip.packet(&snatmap_request(0x1a2b3c4d, lan, 5060)));
    cap.push(sip.reply(&snatmap_response(0x1a2b3c4d, wan, 5060)));
    cap.push(media.packet(&snatmap_request(0x0badf00d, lan, 16402)));
    cap.advance(std::time::Duration::from_millis(500));
    cap.push(media.packet(&snatmap_request(0x0badf00d, lan, 16402)));
    cap.push(media.reply(&snatmap_response(0x0badf00d, wan, 61234)));
    cap.push(media.reply(&snatmap_response(0x12345678, wan, 61234)));
    cap.to_bytes()
}

/// A cleartext APNs courier session (as a TLS-terminating proxy sees it) on a port only the
/// heuristic finds: Connect, topic filter with com.apple.madrid, an iMessage push (binary
/// plist) and its ack, a JSON push and its ack, keep-alive, … One message per segment.
/// Returns the capture, the script and each message's frame number.
pub fn apns_demo_with_record() -> (Capture, Vec<gen_apns::Sent>, Vec<u32>) {
    let script = gen_apns::courier_session();
    let (cap, frames) = gen_apns::one_per_segment(&script);
    (cap, script, frames)
}

pub fn apns_demo() -> Vec<u8> {
    apns_demo_with_record().0.to_bytes()
}

/// A FaceTime call on UDP 16402: STUN, SNATMAP, SIP INVITE/100/180/200 with SDP, ACK, RTP
/// audio and video both ways with RTCP, a SIP MESSAGE mid-call, BYE and its 200 OK.
pub fn facetime_demo_with_record() -> (gen_facetime::Gen, gen_facetime::Parties, Vec<gen_facetime::Stream>) {
    gen_facetime::call_flow(false)
}

pub fn facetime_demo() -> Vec<u8> {
    facetime_demo_with_record().0.cap.to_bytes()
}

/// Siri over MPTCP: the seed's handshake and first data on Wi-Fi, then a second subflow
/// joined from the cellular address, data on both.
pub fn mptcp_demo() -> Vec<u8> {
    gen_mptcp::siri_two_subflows().0.cap.to_bytes()
}

/// Every sample: (file name, bytes).
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("snatmap-demo.pcap", snatmap_demo()),
        ("apns-demo.pcap", apns_demo()),
        ("facetime-demo.pcap", facetime_demo()),
        ("mptcp-demo.pcap", mptcp_demo()),
    ]
}

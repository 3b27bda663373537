//! The bundled sample captures (`samples/*.pcap`), generated from code. Used by
//! `examples/make_samples.rs` (which writes them) and `tests/samples.rs` (which checks them).

use super::{Capture, Flow};
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

/// Every sample: (file name, bytes).
pub fn all() -> Vec<(&'static str, Vec<u8>)> {
    vec![("snatmap-demo.pcap", snatmap_demo())]
}

//! Apple's own address space, as evidence that traffic is Apple's.
//!
//! Apple holds 17.0.0.0/8 (one of the original class A networks); its IPv6 allocations are
//! 2620:149::/32 (ARIN), 2a01:b740::/32 (RIPE) and 2403:300::/32 (APNIC). An address in them
//! is a hint, never proof on its own: dissectors combine it with a port or a message shape.

use std::net::IpAddr;

/// True for an address in one of Apple's networks.
pub fn is_apple_address(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => v.octets()[0] == 17,
        IpAddr::V6(v) => {
            let s = v.segments();
            matches!((s[0], s[1]), (0x2620, 0x0149) | (0x2a01, 0xb740) | (0x2403, 0x0300))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apple_networks() {
        for a in ["17.0.0.1", "17.173.254.222", "17.255.255.255", "2620:149:a44::1", "2a01:b740::5", "2403:300:a0c::1"] {
            assert!(is_apple_address(a.parse().unwrap()), "{a}");
        }
        for a in ["16.255.255.255", "18.0.0.0", "192.168.1.5", "2620:148::1", "2001:db8::1", "::ffff:17.0.0.1"] {
            assert!(!is_apple_address(a.parse().unwrap()), "{a}");
        }
    }
}

//! What identifies a courier connection at the TLS layer: ALPN and server name.

/// ALPN of the TLV framing parsed by this module.
pub const ALPN_SECURITY_V3: &str = "apns-security-v3";
/// ALPN of the packed encoding (iOS 10+; byte format not public: label only).
pub const ALPN_PACK_V1: &str = "apns-pack-v1";
/// The courier's TCP port (443 is the fallback).
pub const COURIER_PORT: u16 = 5223;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alpn {
    /// `apns-security-v3`: parse with [`super::message`].
    SecurityV3,
    /// `apns-pack-v1`: recognise and label, do not parse.
    PackV1,
}

impl Alpn {
    pub fn from_bytes(b: &[u8]) -> Option<Alpn> {
        if b == ALPN_SECURITY_V3.as_bytes() {
            Some(Alpn::SecurityV3)
        } else if b == ALPN_PACK_V1.as_bytes() {
            Some(Alpn::PackV1)
        } else {
            None
        }
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            Alpn::SecurityV3 => ALPN_SECURITY_V3,
            Alpn::PackV1 => ALPN_PACK_V1,
        }
    }
}

crate::value_enum! {
    /// Production or sandbox courier.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub enum CourierEnv: u8 {
        Production = 0 => "production";
        Sandbox = 1 => "sandbox";
    }
}

/// Highest N accepted in `N-courier.push.apple.com`.
pub const MAX_COURIER_N: u32 = 50;

/// Whether a TLS server name is a courier's: `courier.push.apple.com`,
/// `N-courier.push.apple.com` (N = 1..50), and the same under `sandbox.push.apple.com`.
/// Case-insensitive; one trailing dot allowed. N is decimal without leading zeros.
pub fn courier_sni(name: &str) -> Option<CourierEnv> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.len() > 64 || !name.is_ascii() {
        return None;
    }
    let lower = name.to_ascii_lowercase();
    let (host, env) = if let Some(h) = lower.strip_suffix(".sandbox.push.apple.com") {
        (h, CourierEnv::Sandbox)
    } else if let Some(h) = lower.strip_suffix(".push.apple.com") {
        (h, CourierEnv::Production)
    } else {
        return None;
    };
    if host == "courier" {
        return Some(env);
    }
    let n = host.strip_suffix("-courier")?;
    if n.is_empty() || n.len() > 2 || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: u32 = n.parse().ok()?;
    (1..=MAX_COURIER_N).contains(&v).then_some(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpn() {
        assert_eq!(
            Alpn::from_bytes(b"apns-security-v3"),
            Some(Alpn::SecurityV3)
        );
        assert_eq!(Alpn::from_bytes(b"apns-pack-v1"), Some(Alpn::PackV1));
        assert_eq!(Alpn::from_bytes(b"h2"), None);
        assert_eq!(Alpn::PackV1.as_str(), "apns-pack-v1");
    }

    #[test]
    fn sni() {
        use CourierEnv::*;
        assert_eq!(courier_sni("courier.push.apple.com"), Some(Production));
        assert_eq!(courier_sni("1-courier.push.apple.com"), Some(Production));
        assert_eq!(courier_sni("50-courier.push.apple.com"), Some(Production));
        assert_eq!(courier_sni("37-Courier.Push.Apple.COM."), Some(Production));
        assert_eq!(courier_sni("courier.sandbox.push.apple.com"), Some(Sandbox));
        assert_eq!(
            courier_sni("7-courier.sandbox.push.apple.com"),
            Some(Sandbox)
        );
        for bad in [
            "51-courier.push.apple.com",
            "0-courier.push.apple.com",
            "01-courier.push.apple.com",
            "-courier.push.apple.com",
            "x-courier.push.apple.com",
            "api.push.apple.com",
            "courier.push.apple.com.evil.example",
            "evilcourier.push.apple.com",
            "courier.push.apple.co",
            "st11p01st-courier143-bz.push.apple.com", // reverse DNS name, not an SNI
            "",
            "ⅱ-courier.push.apple.com",
        ] {
            assert_eq!(courier_sni(bad), None, "{bad}");
        }
    }
}

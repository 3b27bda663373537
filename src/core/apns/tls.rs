//! What identifies a courier connection at the TLS layer: ALPN and server name.

/// ALPN of the classic TLV framing ([`super::message`]).
pub const ALPN_SECURITY_V3: &str = "apns-security-v3";
/// ALPN of the packed framing ([`super::packed`]). A client offers it (rustpush: before
/// `apns-security-v3`); the server's choice may carry the value cache sizes:
/// `apns-pack-v1:<enc>:<dec>`.
pub const ALPN_PACK_V1: &str = "apns-pack-v1";
/// The courier's TCP port (443 is the fallback).
pub const COURIER_PORT: u16 = 5223;

/// A courier ALPN protocol name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alpn {
    /// `apns-security-v3`: the classic framing.
    SecurityV3,
    /// `apns-pack-v1` or `apns-pack-v1:<enc>:<dec>`: the packed framing.
    PackV1(PackSizes),
}

/// The value cache sizes an `apns-pack-v1` name gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackSizes {
    /// `apns-pack-v1`: the defaults (0x1000 bytes each way).
    Default,
    /// `apns-pack-v1:<enc>:<dec>`: the client's encoder (device to server) and decoder
    /// (server to device) value caches, in bytes (rustpush `open_socket`). Parts after the
    /// third are ignored, as rustpush ignores them.
    Given { enc: u64, dec: u64 },
    /// `apns-pack-v1:` followed by something that is not two decimal sizes (rustpush
    /// panics on it); the defaults are assumed.
    Malformed,
}

/// Longest ALPN protocol name (RFC 7301: one length byte).
pub const MAX_ALPN_LEN: usize = 255;

impl Alpn {
    /// The courier protocol an ALPN name (as the server chose it, or a client offered it)
    /// names: `apns-security-v3`, `apns-pack-v1` exactly, or `apns-pack-v1:` and sizes.
    /// Anything else (including `apns-pack-v1x`) is not a courier name.
    pub fn from_bytes(b: &[u8]) -> Option<Alpn> {
        if b == ALPN_SECURITY_V3.as_bytes() {
            return Some(Alpn::SecurityV3);
        }
        if b == ALPN_PACK_V1.as_bytes() {
            return Some(Alpn::PackV1(PackSizes::Default));
        }
        if b.len() > MAX_ALPN_LEN {
            return None;
        }
        let rest = b.strip_prefix(ALPN_PACK_V1.as_bytes())?.strip_prefix(b":")?;
        let mut parts = rest.split(|&c| c == b':');
        let num = |p: Option<&[u8]>| -> Option<u64> {
            let p = p?;
            if p.is_empty() || p.len() > 19 || !p.iter().all(u8::is_ascii_digit) {
                return None;
            }
            std::str::from_utf8(p).ok()?.parse().ok()
        };
        Some(Alpn::PackV1(match (num(parts.next()), num(parts.next())) {
            (Some(enc), Some(dec)) => PackSizes::Given { enc, dec },
            _ => PackSizes::Malformed,
        }))
    }
    /// The base name (without sizes).
    pub const fn as_str(self) -> &'static str {
        match self {
            Alpn::SecurityV3 => ALPN_SECURITY_V3,
            Alpn::PackV1(_) => ALPN_PACK_V1,
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
        assert_eq!(Alpn::from_bytes(b"apns-pack-v1"), Some(Alpn::PackV1(PackSizes::Default)));
        assert_eq!(Alpn::from_bytes(b"h2"), None);
        assert_eq!(Alpn::PackV1(PackSizes::Default).as_str(), "apns-pack-v1");
        // The server's choice with the cache sizes (rustpush open_socket: nth(1), next()).
        assert_eq!(Alpn::from_bytes(b"apns-pack-v1:4096:8192"), Some(Alpn::PackV1(PackSizes::Given { enc: 4096, dec: 8192 })));
        assert_eq!(Alpn::from_bytes(b"apns-pack-v1:0:0:extra"), Some(Alpn::PackV1(PackSizes::Given { enc: 0, dec: 0 })));
        for bad in [&b"apns-pack-v1:"[..], b"apns-pack-v1:12", b"apns-pack-v1:x:1", b"apns-pack-v1:1:", b"apns-pack-v1:-1:2", b"apns-pack-v1:99999999999999999999:1"] {
            assert_eq!(Alpn::from_bytes(bad), Some(Alpn::PackV1(PackSizes::Malformed)), "{:?}", String::from_utf8_lossy(bad));
        }
        // Not a courier name: a prefix without the colon, or another protocol.
        assert_eq!(Alpn::from_bytes(b"apns-pack-v1x"), None);
        assert_eq!(Alpn::from_bytes(b"apns-pack-v2"), None);
        assert_eq!(Alpn::from_bytes(b"apns-pack-v"), None);
        assert_eq!(Alpn::from_bytes(&[b'a'; 300]), None);
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

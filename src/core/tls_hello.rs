//! The start of a TLS handshake, as far as the post-dissectors need it without Wireshark's
//! TLS dissector: is this segment the start of a ClientHello record (and how long is that
//! record), and the server name (SNI) a whole ClientHello asks for. Used by the APNs
//! courier heuristic ([`crate::core::apns::courier_tls`]) and by the MPTCP annotations
//! (naming a connection's service).

fn be16(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(o..o.checked_add(2)?)?.try_into().ok()?))
}

/// When `payload` starts with a TLS handshake record holding (the start of) a ClientHello:
/// the record's total length (5-byte header included), which may exceed `payload`.
pub fn client_hello_record_len(payload: &[u8]) -> Option<usize> {
    match payload {
        [22, 3, minor, hi, lo, 1, ..] if *minor <= 4 => Some(5 + u16::from_be_bytes([*hi, *lo]) as usize),
        _ => None,
    }
}

/// The server name (SNI) of a TLS ClientHello that starts at the beginning of `payload`
/// and is whole in it; None otherwise. Only what RFC 8446 §4.1.2 / RFC 6066 §3 lay out.
pub fn tls_sni(payload: &[u8]) -> Option<String> {
    // Record: type 22, version 3.x, length.
    if *payload.first()? != 22 || *payload.get(1)? != 3 {
        return None;
    }
    let rec_len = be16(payload, 3)? as usize;
    let rec = payload.get(5..5 + rec_len).or_else(|| payload.get(5..))?;
    // Handshake: type 1 ClientHello, 3-byte length.
    if *rec.first()? != 1 {
        return None;
    }
    let mut p = 4 + 2 + 32; // header, legacy_version, random
    let sid = *rec.get(p)? as usize;
    p += 1 + sid;
    let cs = be16(rec, p)? as usize;
    p += 2 + cs;
    let cm = *rec.get(p)? as usize;
    p += 1 + cm;
    let ext_len = be16(rec, p)? as usize;
    p += 2;
    let end = p.checked_add(ext_len)?.min(rec.len());
    while p + 4 <= end {
        let ty = be16(rec, p)?;
        let len = be16(rec, p + 2)? as usize;
        let body = rec.get(p + 4..p + 4 + len)?;
        if ty == 0 {
            // server_name_list: 2-byte length, then (type 0 host_name, 2-byte len, name).
            let mut q = 2;
            while q + 3 <= body.len() {
                let nt = body[q];
                let nl = be16(body, q + 1)? as usize;
                let name = body.get(q + 3..q + 3 + nl)?;
                if nt == 0 {
                    let s = std::str::from_utf8(name).ok()?;
                    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_graphic()) {
                        return None;
                    }
                    return Some(s.to_string());
                }
                q += 3 + nl;
            }
            return None;
        }
        p += 4 + len;
    }
    None
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal TLS 1.2-framed ClientHello whose only extension is server_name `sni`.
    pub fn client_hello(sni: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        let name = sni.as_bytes();
        let mut list = vec![0u8];
        list.extend_from_slice(&(name.len() as u16).to_be_bytes());
        list.extend_from_slice(name);
        ext.extend_from_slice(&[0, 0]);
        ext.extend_from_slice(&((list.len() + 2) as u16).to_be_bytes());
        ext.extend_from_slice(&(list.len() as u16).to_be_bytes());
        ext.extend_from_slice(&list);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0x11; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    #[test]
    fn record_len() {
        let ch = client_hello("guzzoni.apple.com");
        assert_eq!(client_hello_record_len(&ch), Some(ch.len()));
        assert_eq!(client_hello_record_len(&ch[..6]), Some(ch.len()));
        assert_eq!(client_hello_record_len(&ch[..5]), None);
        let mut sh = ch.clone();
        sh[5] = 2; // ServerHello
        assert_eq!(client_hello_record_len(&sh), None);
        assert_eq!(client_hello_record_len(b"\x17\x03\x03\x00\x10\x01"), None);
    }

    #[test]
    fn sni() {
        let ch = client_hello("guzzoni.apple.com");
        assert_eq!(tls_sni(&ch).as_deref(), Some("guzzoni.apple.com"));
        for n in 0..ch.len() {
            assert_eq!(tls_sni(&ch[..n]), None, "{n}");
        }
        assert_eq!(tls_sni(b"GET / HTTP/1.1\r\n"), None);
    }
}

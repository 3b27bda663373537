//! TLS records for fixtures: a ClientHello naming a server (RFC 8446 §4.1.2, RFC 6066 §3),
//! a ServerHello-shaped handshake record and opaque application-data records.

/// A ClientHello of exactly `total` bytes naming `sni` (padding extension fills the rest).
pub fn client_hello(sni: &str, total: usize) -> Vec<u8> {
    let name = sni.as_bytes();
    let mut exts = Vec::new();
    let mut list = vec![0u8];
    list.extend_from_slice(&(name.len() as u16).to_be_bytes());
    list.extend_from_slice(name);
    exts.extend_from_slice(&[0, 0]);
    exts.extend_from_slice(&((list.len() + 2) as u16).to_be_bytes());
    exts.extend_from_slice(&(list.len() as u16).to_be_bytes());
    exts.extend_from_slice(&list);
    let fixed = 5 + 4 + 2 + 32 + 1 + 2 + 4 + 1 + 1 + 2 + exts.len() + 4;
    assert!(total >= fixed);
    exts.extend_from_slice(&[0, 21]); // padding extension (RFC 7685)
    exts.extend_from_slice(&((total - fixed) as u16).to_be_bytes());
    exts.extend(std::iter::repeat(0).take(total - fixed));
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x5a; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 4, 0x00, 0x2f, 0x00, 0x35, 1, 0]);
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 1];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    assert_eq!(rec.len(), total);
    rec
}

/// A handshake record of type 2 (ServerHello) with `len` bytes of body; its content is not
/// meant to be parsed further.
pub fn server_hello(len: usize) -> Vec<u8> {
    let mut hs = vec![2, 0];
    hs.extend_from_slice(&(len as u16).to_be_bytes());
    hs.extend_from_slice(&[3, 3]);
    hs.extend((0..len.saturating_sub(2)).map(|i| i as u8));
    let mut rec = vec![22, 3, 3];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// An application-data record (type 23) of `len` opaque bytes.
pub fn app_data(len: usize, fill: u8) -> Vec<u8> {
    let mut rec = vec![23, 3, 3];
    rec.extend_from_slice(&(len as u16).to_be_bytes());
    rec.extend(std::iter::repeat(fill).take(len));
    rec
}

//! The oracle (ours, around rustpush's codec in the generated `aps` module): a courier
//! client and server speaking the packed framing with rustpush's encoder and decoder, over
//! TLS (rustls, key log from SSLKEYLOGFILE) or plain TCP on loopback, each writing one JSON
//! line per message it sent or received (what rustpush's decoder read, and where every key
//! and value came from).
//!
//!   oracle server --port P [--tls --alpn A1,A2..] [--sizes E:D] --log F [--rounds N]
//!   oracle client --port P [--tls --offer A1,A2..] [--sizes E:D] --log F [--rounds N]
//!
//! With TLS the value cache sizes come from the negotiated ALPN as rustpush's open_socket
//! reads it (`apns-pack-v1:<enc>:<dec>`, else the defaults); `--sizes` sets them for plain
//! TCP. Both sides follow the same script, so the message order on the wire is fixed.

mod aps;
mod support;

use aps::{ClientMsg, Codec, Packed, PV};
use plist::{Dictionary, Value};
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// Records the bytes rustpush's reader takes from the stream.
pub struct Recording<'r, R> {
    pub inner: &'r mut R,
    pub bytes: Vec<u8>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Recording<'_, R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut *self.inner).poll_read(cx, buf);
        let new = buf.filled()[before..].to_vec();
        self.bytes.extend(new);
        r
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn arr<const N: usize>(&mut self) -> [u8; N] {
        self.bytes(N).try_into().unwrap()
    }
}

fn sha1(s: &str) -> [u8; 20] {
    sha1_smol::Sha1::from(s).digest().bytes()
}

struct Args {
    role: String,
    port: u16,
    tls: bool,
    alpn: Vec<String>,
    sizes: Option<(usize, usize)>,
    log: String,
    rounds: usize,
}

fn args() -> Args {
    let a: Vec<String> = std::env::args().collect();
    let mut out = Args { role: a.get(1).cloned().unwrap_or_default(), port: 5223, tls: false, alpn: vec![], sizes: None, log: String::new(), rounds: 0 };
    let mut i = 2;
    while i < a.len() {
        let v = a.get(i + 1).cloned().unwrap_or_default();
        match a[i].as_str() {
            "--port" => out.port = v.parse().unwrap(),
            "--tls" => {
                out.tls = true;
                i += 1;
                continue;
            }
            "--alpn" | "--offer" => out.alpn = v.split(',').map(String::from).collect(),
            "--sizes" => {
                let (e, d) = v.split_once(':').unwrap();
                out.sizes = Some((e.parse().unwrap(), d.parse().unwrap()));
            }
            "--log" => out.log = v,
            "--rounds" => out.rounds = v.parse().unwrap(),
            x => panic!("unknown argument {x}"),
        }
        i += 2;
    }
    out
}

/// The value cache sizes rustpush's open_socket takes from a negotiated ALPN.
fn sizes_from_alpn(p: &str) -> Option<(usize, usize)> {
    assert!(p.starts_with("apns-pack-v1"), "not packed: {p}");
    if p.contains(':') {
        let mut parts = p.split(':');
        let e = parts.nth(1).unwrap().parse().unwrap();
        let d = parts.next().unwrap().parse().unwrap();
        Some((e, d))
    } else {
        None
    }
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

struct Side {
    name: &'static str,
    dir_out: &'static str,
    dir_in: &'static str,
    codec: Codec,
    log: std::fs::File,
    seq: usize,
}

impl Side {
    fn line(&mut self, v: serde_json::Value) {
        writeln!(self.log, "{v}").unwrap();
    }
    async fn send<S: Stream>(&mut self, s: &mut S, m: &Packed) {
        self.send_with(s, m, serde_json::Value::Null).await
    }
    /// Sends `m`, with `extra`'s members added to its record.
    async fn send_with<S: Stream>(&mut self, s: &mut S, m: &Packed, extra: serde_json::Value) {
        let raw = self.codec.encode(m);
        self.seq += 1;
        let mut v = serde_json::json!({
            "side": self.name, "seq": self.seq, "event": "sent", "dir": self.dir_out,
            "command": m.command(), "raw": aps::hex(&raw), "attributes": m.sent_json(),
        });
        if let serde_json::Value::Object(o) = extra {
            for (k, x) in o {
                v[k] = x;
            }
        }
        self.line(v);
        s.write_all(&raw).await.unwrap();
        s.flush().await.unwrap();
    }
    async fn recv<S: Stream>(&mut self, s: &mut S) -> Option<Packed> {
        let (m, raw, seen) = match self.codec.read(s).await {
            Ok(x) => x,
            Err(_) => return None,
        };
        self.seq += 1;
        let mut v = serde_json::json!({
            "side": self.name, "seq": self.seq, "event": "received", "dir": self.dir_in,
            "command": m.command(), "raw": aps::hex(&raw), "attributes": m.received_json(&seen),
        });
        if self.name == "client" {
            v["aps_message"] = m.as_aps_message().into();
        }
        self.line(v);
        Some(m)
    }
}

const UA: &str = "[macOS,14.5,23F79,MacBookPro18,3]";

fn madrid_payload(rng: &mut Rng, id: i32, round: usize, from_server: bool) -> Value {
    let senders = ["mailto:alice@example.com", "tel:+15555550123", "mailto:bob@example.org"];
    let targets = ["tel:+15555550100", "tel:+15555550101", "mailto:carol@example.net", "tel:+15555550102", "mailto:dave@example.com", "tel:+15555550103", "mailto:erin@example.com"];
    let mut d = Dictionary::new();
    d.insert("c".into(), Value::Integer(100.into()));
    d.insert("E".into(), Value::String(if round % 4 == 3 { "pair".into() } else { "pair-ec".into() }));
    d.insert("ua".into(), Value::String(UA.into()));
    d.insert("v".into(), Value::Integer(8.into()));
    d.insert("i".into(), Value::Integer(i64::from(id).into()));
    d.insert("U".into(), Value::Data(rng.bytes(16)));
    let (s, t) = (senders[(round + usize::from(from_server)) % 3], targets[(round * 3 + 1) % 7]);
    d.insert("sP".into(), Value::String(s.into()));
    d.insert("tP".into(), Value::String(t.into()));
    d.insert("t".into(), Value::Data(vec![(round % 5) as u8 + 0x40; 32]));
    d.insert("P".into(), Value::Data(rng.bytes(96 + (round % 5) * 13)));
    d.insert("sT".into(), Value::Data(rng.bytes(32)));
    if round > 0 {
        // A key of its own per round, so the key cache rolls over.
        d.insert(format!("x{round}"), Value::Integer(((round as i64) - 20).into()));
    }
    d.insert("D".into(), Value::Boolean(round % 2 == 0));
    Value::Dictionary(d)
}

fn gamed_payload() -> Value {
    let mut alert = Dictionary::new();
    alert.insert("title".into(), Value::String("Game Center".into()));
    alert.insert("body".into(), Value::String("Bob challenged you — 🎯".into()));
    let mut aps = Dictionary::new();
    aps.insert("alert".into(), Value::Dictionary(alert));
    aps.insert("badge".into(), Value::Integer(1.into()));
    aps.insert("sound".into(), Value::String("default".into()));
    let mut gc = Dictionary::new();
    gc.insert("t".into(), Value::Integer(3.into()));
    gc.insert("big".into(), Value::Integer((1i64 << 40).into()));
    gc.insert("neg".into(), Value::Integer((-5i64).into()));
    gc.insert("list".into(), Value::Array(vec![Value::Integer(1.into()), Value::String("two".into()), Value::Boolean(false), Value::Data(vec![3, 3, 3])]));
    let mut d = Dictionary::new();
    d.insert("aps".into(), Value::Dictionary(aps));
    d.insert("gc".into(), Value::Dictionary(gc));
    Value::Dictionary(d)
}

fn push(token: [u8; 32], topic: [u8; 20], payload: Value, id: i32) -> Packed {
    // As rustpush's to_packed_raw builds a Notification, with the server's item order
    // (rustpush's from_packed reads 1 as the token, 2 as the topic).
    Packed::new(0x0a, vec![(1, PV::data(&token), true), (2, PV::data(&topic), true), (3, PV::plist(payload), false), (4, PV::int(i64::from(id)), false)])
}

async fn client<S: Stream>(mut s: S, mut side: Side, rounds: usize) {
    let mut rng = Rng(0xC11E_47);
    let madrid = sha1("com.apple.madrid");
    let cert = [vec![0x30, 0x82, 0x02, 0x54], rng.bytes(592)].concat();
    let nonce = [vec![0], 1_760_000_000_000u64.to_be_bytes().to_vec(), rng.bytes(8)].concat();
    let sig = [vec![1, 1], rng.bytes(128)].concat();
    side.send(&mut s, &Packed::from_client(ClientMsg::connect(0b0100_0001, cert, nonce, sig, None))).await;
    let resp = side.recv(&mut s).await.expect("connect response");
    let token: [u8; 32] = resp.data(3).expect("token").try_into().unwrap();
    side.send(&mut s, &Packed::from_client(ClientMsg::set_state(1))).await;
    let topics = vec![madrid, sha1("com.apple.ess"), sha1("com.apple.gamed")];
    side.send(&mut s, &Packed::from_client(ClientMsg::filter(token, topics, vec![], vec![sha1("com.apple.private.alloy.facetime.multi")], vec![]))).await;
    let mut id = 0x1000_0000i32;
    for round in 0..=rounds {
        id += 7;
        let payload = madrid_payload(&mut rng, id, round, false);
        side.send(&mut s, &Packed::from_client(ClientMsg::notification(id, madrid, token, payload))).await;
        let expect = if round == 0 { 3 } else { 2 };
        for _ in 0..expect {
            let m = side.recv(&mut s).await.expect("message");
            if m.command() == 0x0a {
                let for_id = m.int(4).unwrap() as i32;
                side.send(&mut s, &Packed::from_client(ClientMsg::ack(token, for_id, 0))).await;
            }
        }
        if round == 0 {
            side.send(&mut s, &Packed::from_client(ClientMsg::ping())).await;
            side.recv(&mut s).await.expect("pong");
            // A StatusKit subscription, prost-encoded as rustpush's subscribe_channels does;
            // the record says what it holds.
            use prost::Message as _;
            let (sub_id, unsub_id) = (rng.bytes(16), rng.bytes(16));
            let list = support::SubscribeToChannel {
                unk1: 1,
                topics: vec![support::SubscribedTopic {
                    topic: "com.apple.icloud.presence.mode.status".into(),
                    channels: vec![support::Channel { id: sub_id.clone(), last_msg_ns: 1_760_000_000_456_000_000 }],
                    unsub_channels: vec![support::Channel { id: unsub_id.clone(), last_msg_ns: 0 }],
                }],
                replace: Some(true),
            };
            let extra = serde_json::json!({"subscription": {"unk1": 1, "replace": true, "topics": [{"topic": "com.apple.icloud.presence.mode.status",
                "channels": [{"id": aps::hex(&sub_id), "last_msg_ns": 1_760_000_000_456_000_000u64}], "unsub_channels": [{"id": aps::hex(&unsub_id), "last_msg_ns": 0}]}]}});
            side.send_with(&mut s, &Packed::from_client(ClientMsg::subscribe(1, list.encode_to_vec(), token)), extra).await;
            side.recv(&mut s).await.expect("subscribe confirm");
        }
    }
    let topics = vec![madrid, sha1("com.apple.ess")];
    side.send(&mut s, &Packed::from_client(ClientMsg::filter(token, topics, vec![], vec![], vec![sha1("com.apple.gamed")]))).await;
    s.shutdown().await.unwrap();
    // Drain until the server closes.
    while side.recv(&mut s).await.is_some() {}
}

async fn server<S: Stream>(mut s: S, mut side: Side) {
    let mut rng = Rng(0x5E4E_47);
    let token: [u8; 32] = rng.arr();
    let peer_tokens = [rng.arr::<32>(), rng.arr::<32>()];
    let madrid = sha1("com.apple.madrid");
    let mut next_id = 0x2000_0000i32;
    let mut round = 0usize;
    while let Some(m) = side.recv(&mut s).await {
        match m.command() {
            0x07 => {
                let r = Packed::new(0x08, vec![
                    (1, PV::int(0), false),
                    (3, PV::data(&token), true),
                    (4, PV::int(4096), false),
                    (5, PV::data(&[0, 2]), false),
                    (6, PV::int(1), false),
                    (8, PV::int(15360), false),
                    (10, PV::int(1_760_000_000_123), false),
                ]);
                side.send(&mut s, &r).await;
            }
            0x0a => {
                let id = m.int(4).unwrap();
                side.send(&mut s, &Packed::new(0x0b, vec![(1, PV::data(&token), true), (4, PV::int(id), false), (8, PV::int(0), false)])).await;
                next_id += 11;
                let reply = madrid_payload(&mut rng, next_id, round, true);
                side.send(&mut s, &push(peer_tokens[round % 2], madrid, reply, next_id)).await;
                if round == 0 {
                    next_id += 11;
                    // With a StatusKit channel as item 0x1D (rustpush's from_packed decodes it).
                    use prost::Message as _;
                    let ch_id = rng.bytes(16);
                    let ch = support::Channel { id: ch_id.clone(), last_msg_ns: 1_760_000_000_789_000_000 };
                    let mut p = push(token, sha1("com.apple.gamed"), gamed_payload(), next_id);
                    p.push_attr(0x1d, PV::data(&ch.encode_to_vec()), false);
                    let extra = serde_json::json!({"channel": {"id": aps::hex(&ch_id), "last_msg_ns": 1_760_000_000_789_000_000u64}});
                    side.send_with(&mut s, &p, extra).await;
                }
                round += 1;
            }
            0x0c => side.send(&mut s, &Packed::new(0x0d, vec![])).await,
            0x1d => {
                let index = m.int(1).unwrap();
                side.send(&mut s, &Packed::new(0x1d, vec![(1, PV::int(index), false), (3, PV::data(&token), true), (4, PV::int(0), false)])).await;
            }
            _ => {}
        }
    }
    let _ = s.shutdown().await;
}

fn side(name: &'static str, log: &str, sizes: Option<(usize, usize)>, extra: serde_json::Value) -> Side {
    let (dir_out, dir_in) = if name == "client" { ("c2s", "s2c") } else { ("s2c", "c2s") };
    // The server's encoder is the client's decoder and the other way round.
    let sizes = if name == "server" { sizes.map(|(e, d)| (d, e)) } else { sizes };
    let mut s = Side { name, dir_out, dir_in, codec: Codec::new(sizes), log: std::fs::File::create(log).unwrap(), seq: 0 };
    s.line(serde_json::json!({"side": name, "event": "connection", "value_cache_sizes": sizes.map(|(e, d)| vec![e, d]), "details": extra}));
    s
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let a = args();
    let addr = format!("127.0.0.1:{}", a.port);
    if a.role == "server" {
        let listener = TcpListener::bind(&addr).await.unwrap();
        println!("listening");
        let (tcp, _) = listener.accept().await.unwrap();
        if a.tls {
            let cert = rcgen::generate_simple_self_signed(vec!["courier.push.apple.com".into()]).unwrap();
            let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.key_pair.serialize_der().into());
            let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![cert.cert.der().clone()], key)
                .unwrap();
            cfg.alpn_protocols = a.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
            let tls = tokio_rustls::TlsAcceptor::from(Arc::new(cfg)).accept(tcp).await.unwrap();
            let alpn = String::from_utf8(tls.get_ref().1.alpn_protocol().unwrap().to_vec()).unwrap();
            let sizes = sizes_from_alpn(&alpn);
            let side = side("server", &a.log, sizes, serde_json::json!({"tls": true, "alpn": alpn}));
            server(tls, side).await;
        } else {
            let side = side("server", &a.log, a.sizes, serde_json::json!({"tls": false}));
            server(tcp, side).await;
        }
    } else {
        let tcp = TcpStream::connect(&addr).await.unwrap();
        if a.tls {
            #[derive(Debug)]
            struct AnyCert;
            impl rustls::client::danger::ServerCertVerifier for AnyCert {
                fn verify_server_cert(&self, _: &rustls::pki_types::CertificateDer<'_>, _: &[rustls::pki_types::CertificateDer<'_>], _: &rustls::pki_types::ServerName<'_>, _: &[u8], _: rustls::pki_types::UnixTime) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
                    Ok(rustls::client::danger::ServerCertVerified::assertion())
                }
                fn verify_tls12_signature(&self, _: &[u8], _: &rustls::pki_types::CertificateDer<'_>, _: &rustls::DigitallySignedStruct) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
                    Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
                }
                fn verify_tls13_signature(&self, _: &[u8], _: &rustls::pki_types::CertificateDer<'_>, _: &rustls::DigitallySignedStruct) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
                    Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
                }
                fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
                    rustls::crypto::ring::default_provider().signature_verification_algorithms.supported_schemes()
                }
            }
            let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCert))
                .with_no_client_auth();
            cfg.alpn_protocols = a.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
            cfg.key_log = Arc::new(rustls::KeyLogFile::new());
            let name = rustls::pki_types::ServerName::try_from("courier.push.apple.com").unwrap();
            let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg)).connect(name, tcp).await.unwrap();
            let alpn = String::from_utf8(tls.get_ref().1.alpn_protocol().unwrap().to_vec()).unwrap();
            let sizes = sizes_from_alpn(&alpn);
            let side = side("client", &a.log, sizes, serde_json::json!({"tls": true, "alpn": alpn}));
            client(tls, side, a.rounds).await;
        } else {
            let side = side("client", &a.log, a.sizes, serde_json::json!({"tls": false}));
            client(tcp, side, a.rounds).await;
        }
    }
}

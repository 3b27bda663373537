// Included at the end of the generated aps.rs (so it sees rustpush's private types). Ours.

/// One direction pair of rustpush's codec: the encoder for what this side sends, the
/// decoder for what it receives (value cache sizes as rustpush's open_socket sets them).
pub struct Codec {
    enc: APSPackedEncoder,
    dec: APSPackedDecoder,
}

impl Codec {
    pub fn new(sizes: Option<(usize, usize)>) -> Codec {
        match sizes {
            Some((e, d)) => Codec { enc: APSPackedEncoder::new_with_cache_size(e), dec: APSPackedDecoder::new_with_cache_size(d) },
            None => Codec { enc: APSPackedEncoder::default(), dec: APSPackedDecoder::default() },
        }
    }
    pub fn encode(&mut self, m: &Packed) -> Vec<u8> {
        let mut buf = vec![];
        self.enc.encode_message(m.0.clone(), Cursor::new(&mut buf)).expect("encode");
        buf
    }
    /// Reads one message with rustpush's `read_from_stream`; the bytes it read and what its
    /// `read_attr` saw.
    pub async fn read<R: AsyncRead + Unpin>(&mut self, r: &mut R) -> Result<(Packed, Vec<u8>, Vec<crate::support::Seen>), PushError> {
        let mut rec = crate::Recording { inner: r, bytes: Vec::new() };
        crate::support::take_seen();
        let m = self.dec.read_from_stream(&mut rec).await?;
        Ok((Packed(m), rec.bytes, crate::support::take_seen()))
    }
}

/// A packed message (rustpush's `APSPackedMessage`).
#[derive(Clone, Debug)]
pub struct Packed(APSPackedMessage);

impl Packed {
    pub fn command(&self) -> u8 {
        self.0.command
    }
    /// Adds an attribute at the end (key `id`, one byte).
    pub fn push_attr(&mut self, id: u8, v: PV, cached: bool) {
        self.0.attributes.push(APSPackedAttribute { id: vec![id], value: v.0, cached });
    }
    /// Built attribute by attribute: (one-byte key, value, cached).
    pub fn new(command: u8, attrs: Vec<(u8, PV, bool)>) -> Packed {
        Packed(APSPackedMessage {
            command,
            attributes: attrs.into_iter().map(|(id, v, cached)| APSPackedAttribute { id: vec![id], value: v.0, cached }).collect(),
        })
    }
    /// A client message as rustpush builds it (`APSMessage::to_packed_raw`).
    pub fn from_client(m: ClientMsg) -> Packed {
        Packed(m.0.to_packed_raw())
    }
    pub fn int(&self, id: u8) -> Option<i64> {
        match self.0.get_field(id)? {
            APSPackedValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    pub fn data(&self, id: u8) -> Option<Vec<u8>> {
        match self.0.get_field(id)? {
            APSPackedValue::Data(d) => Some(d.clone()),
            _ => None,
        }
    }
    /// The message as rustpush's `APSMessage::from_packed` (the client's reading of what
    /// the server sends) reads it (Debug text; "panic" where it panics).
    pub fn as_aps_message(&self) -> String {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = std::panic::catch_unwind(|| APSMessage::from_packed(self.0.clone()));
        std::panic::set_hook(hook);
        match r {
            Ok(Some(m)) => format!("{m:?}"),
            Ok(None) => "None".into(),
            Err(_) => "panic".into(),
        }
    }
    /// JSON: the attributes as the sender built them.
    pub fn sent_json(&self) -> serde_json::Value {
        serde_json::json!(self.0.attributes.iter().map(|a| serde_json::json!({
            "key": hex(&a.id), "value": value_json(&a.value, &mut None), "cached": a.cached,
        })).collect::<Vec<_>>())
    }
    /// JSON: the attributes as the receiver decoded them, each with where its key and value
    /// came from (from the tags and indexes its `read_attr` saw, in the same order).
    pub fn received_json(&self, seen: &[crate::support::Seen]) -> serde_json::Value {
        let mut it = Some(seen.iter().copied().peekable());
        let v = serde_json::json!(self.0.attributes.iter().map(|a| attr_json(a, &mut it)).collect::<Vec<_>>());
        if let Some(rest) = it.as_mut() {
            assert!(rest.next().is_none(), "events left over");
        }
        v
    }
}

type SeenIter<'s> = Option<std::iter::Peekable<std::iter::Copied<std::slice::Iter<'s, crate::support::Seen>>>>;

fn attr_json(a: &APSPackedAttribute, seen: &mut SeenIter<'_>) -> serde_json::Value {
    use crate::support::Seen;
    let mut o = serde_json::Map::new();
    o.insert("key".into(), hex(&a.id).into());
    if let Some(it) = seen.as_mut() {
        let Some(Seen::Tag(tag)) = it.next() else { panic!("tag expected") };
        o.insert("tag".into(), tag.into());
        let (kf, ki) = if tag & 0x20 != 0 {
            ("cache", Some(u64::from(tag & 0x1f)))
        } else if tag & 0x10 != 0 {
            ("new", None)
        } else {
            ("inline", None)
        };
        o.insert("key_from".into(), kf.into());
        if let Some(i) = ki {
            o.insert("key_index".into(), i.into());
        }
        if tag & 0x80 != 0 {
            let Some(Seen::Index(i)) = it.next() else { panic!("index expected") };
            o.insert("value_from".into(), "cache".into());
            o.insert("value_index".into(), i.into());
        } else if tag & 0x40 != 0 {
            o.insert("value_from".into(), "new".into());
        } else {
            o.insert("value_from".into(), "inline".into());
        }
    }
    o.insert("value".into(), value_json(&a.value, seen));
    serde_json::Value::Object(o)
}

fn value_json(v: &APSPackedValue, seen: &mut SeenIter<'_>) -> serde_json::Value {
    match v {
        APSPackedValue::Data(d) => serde_json::json!({"type": "data", "hex": hex(d)}),
        APSPackedValue::String(s) => serde_json::json!({"type": "string", "text": s}),
        APSPackedValue::Int(i) => serde_json::json!({"type": "int", "value": i}),
        APSPackedValue::Bool(b) => serde_json::json!({"type": "bool", "value": b}),
        APSPackedValue::Dict(attrs) => {
            let a: Vec<_> = attrs.iter().map(|a| attr_json(a, seen)).collect();
            serde_json::json!({"type": "dict", "attrs": a})
        }
        APSPackedValue::Array(items) => {
            let a: Vec<_> = items.iter().map(|i| value_json(i, seen)).collect();
            serde_json::json!({"type": "array", "items": a})
        }
    }
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A value for `Packed::new`.
pub struct PV(APSPackedValue);

impl PV {
    pub fn data(b: &[u8]) -> PV {
        PV(APSPackedValue::Data(b.to_vec()))
    }
    pub fn int(i: i64) -> PV {
        PV(APSPackedValue::Int(i))
    }
    pub fn string(s: &str) -> PV {
        PV(APSPackedValue::String(s.into()))
    }
    /// A plist value as rustpush packs a payload (`From<Value> for APSPackedValue`).
    pub fn plist(v: Value) -> PV {
        PV(v.into())
    }
}

/// A client message (rustpush's `APSMessage`).
pub struct ClientMsg(APSMessage);

impl ClientMsg {
    pub fn connect(flags: u32, certificate: Vec<u8>, nonce: Vec<u8>, signature: Vec<u8>, token: Option<[u8; 32]>) -> ClientMsg {
        ClientMsg(APSMessage::Connect { flags, certificate: Some(certificate), nonce: Some(nonce), signature: Some(signature), token })
    }
    pub fn set_state(state: u8) -> ClientMsg {
        ClientMsg(APSMessage::SetState { state })
    }
    pub fn filter(token: [u8; 32], enabled: Vec<[u8; 20]>, ignored: Vec<[u8; 20]>, opportunistic: Vec<[u8; 20]>, paused: Vec<[u8; 20]>) -> ClientMsg {
        ClientMsg(APSMessage::Filter { token: Some(token), enabled, ignored, opportunistic, paused })
    }
    pub fn notification(id: i32, topic: [u8; 20], token: [u8; 32], payload: Value) -> ClientMsg {
        ClientMsg(APSMessage::Notification { id, topic, token: Some(token), payload, channel: None })
    }
    pub fn ack(token: [u8; 32], for_id: i32, status: u8) -> ClientMsg {
        ClientMsg(APSMessage::Ack { token: Some(token), for_id, status })
    }
    pub fn ping() -> ClientMsg {
        ClientMsg(APSMessage::Ping)
    }
    pub fn subscribe(index: u32, message: Vec<u8>, token: [u8; 32]) -> ClientMsg {
        ClientMsg(APSMessage::SubscribeToChannels { index, message, token })
    }
}

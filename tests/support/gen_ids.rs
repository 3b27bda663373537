//! IDS payloads, quick relay messages and StatusKit channel protobufs for the APNs tests,
//! written by this generator from the facts in docs/apns.md, independent of `core::apns`:
//! binary property lists come from Python's own `plistlib` (an encoder nobody here wrote),
//! protobufs are laid out by hand from rustpush's `src/statuskit.proto` field numbers.

/// A binary property list of a Python literal, written by `python3`'s `plistlib`.
pub fn bplist(py_literal: &str) -> Vec<u8> {
    let out = std::process::Command::new("python3")
        .args([
            "-c",
            "import plistlib,sys; sys.stdout.buffer.write(plistlib.dumps(eval(sys.argv[1]), fmt=plistlib.FMT_BINARY, sort_keys=False))",
            py_literal,
        ])
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// A protobuf varint.
pub fn varint(mut v: u64) -> Vec<u8> {
    let mut o = Vec::new();
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            o.push(b);
            return o;
        }
        o.push(b | 0x80);
    }
}

/// A length-delimited protobuf field.
pub fn pb_len(field: u64, body: &[u8]) -> Vec<u8> {
    [varint(field << 3 | 2), varint(body.len() as u64), body.to_vec()].concat()
}

/// A varint protobuf field.
pub fn pb_varint(field: u64, v: u64) -> Vec<u8> {
    [varint(field << 3), varint(v)].concat()
}

/// statuskit.proto `Channel { bytes id = 1; uint64 lastMsgNs = 2; }`.
pub fn channel(id: &[u8], last_ns: u64) -> Vec<u8> {
    [pb_len(1, id), pb_varint(2, last_ns)].concat()
}

/// `SubscribedTopic { string topic = 1; repeated Channel channels = 2; repeated Channel unsubChannels = 3; }`.
pub fn subscribed_topic(topic: &str, subscribe: &[Vec<u8>], unsubscribe: &[Vec<u8>]) -> Vec<u8> {
    let mut o = pb_len(1, topic.as_bytes());
    for c in subscribe {
        o.extend(pb_len(2, c));
    }
    for c in unsubscribe {
        o.extend(pb_len(3, c));
    }
    o
}

/// `SubscribeToChannel { uint32 unk1 = 1; repeated SubscribedTopic topics = 2; optional bool replace = 3; }`.
pub fn subscribe_to_channel(topics: &[Vec<u8>], replace: bool) -> Vec<u8> {
    let mut o = pb_varint(1, 1);
    for t in topics {
        o.extend(pb_len(2, t));
    }
    o.extend(pb_varint(3, u64::from(replace)));
    o
}

//! Bodies of the fuzz targets (`fuzz/fuzz_targets/*.rs`), shared with the corpus replay
//! test (`tests/fuzz_replay.rs`) so that CI runs exactly what the fuzzer ran, on stable Rust.
//!
//! Each body takes arbitrary bytes, drives one core parser (or state machine) with them and
//! checks cheap invariants besides "no panic": every span lies inside the input, slices
//! match their spans, iterators make progress, state stays within its documented caps.
//! A broken invariant panics (which the fuzzer reports as a crash).
//!
//! Not part of the plugin's API.
#![doc(hidden)]

use crate::core::span::Span;
use crate::core::{apns, bplist, facetime, mptcp, snatmap};
use std::net::{IpAddr, Ipv4Addr};

/// Every fuzz target: (name, body). The names are the `cargo fuzz` target names and the
/// corpus folders `fuzz/corpus/<name>/`.
pub const TARGETS: &[(&str, fn(&[u8]))] = &[
    ("snatmap", snatmap),
    ("apns_framing", apns_framing),
    ("apns_items", apns_items),
    ("bplist", bplist),
    ("mux_classifier", mux_classifier),
    ("mptcp_options", mptcp_options),
    ("mptcp_state", mptcp_state),
    ("apns_packed", apns_packed),
];

fn inside(span: Span, len: usize, what: &str) {
    assert!(
        span.offset <= len && span.len <= len - span.offset,
        "{what}: span {span:?} outside input of {len} bytes"
    );
}

/// SNATMAP: parse, anomalies, verdict; a message round-trips through the encoders.
pub fn snatmap(data: &[u8]) {
    let parsed = snatmap::parse(data);
    assert_eq!(parsed.is_ok(), snatmap::looks_like(data));
    for s in snatmap::field_spans() {
        inside(s, snatmap::LEN, "snatmap field");
    }
    match parsed {
        Ok(snatmap::Message::Request(r)) => {
            assert_eq!(data.len(), snatmap::LEN);
            assert_eq!(
                &snatmap::encode_request(r.nonce, r.local_ip, r.local_port)[..],
                data
            );
            let _ = snatmap::anomalies(&snatmap::Message::Request(r)).count();
        }
        Ok(snatmap::Message::Response(resp)) => {
            assert_eq!(data.len(), snatmap::LEN);
            let enc = snatmap::encode_response(resp.nonce, resp.mapped_ip(), resp.mapped_port());
            // The trailer of a response is ignored by the client (not re-encoded).
            assert_eq!(&enc[..14], &data[..14]);
            let req = snatmap::Request {
                nonce: resp.nonce,
                local_ip: Ipv4Addr::from(u32::from_be_bytes([
                    data[0], data[1], data[2], data[3],
                ])),
                local_port: resp.raw_port,
            };
            let _ = snatmap::verdict(&req, &resp);
            let _ = snatmap::anomalies(&snatmap::Message::Response(resp)).count();
        }
        Err(_) => {}
    }
}

/// APNs framing: header, PDU length (modern and legacy), probe, framing detection and the
/// message iterator, with a small and a huge maximum message size.
pub fn apns_framing(data: &[u8]) {
    use apns::framing::{self, PduLen};
    let _ = framing::header(data);
    let _ = framing::item_header(data);
    let _ = apns::probe(data);
    let _ = apns::detect_framing(data);
    for max in [64, apns::DEFAULT_MAX_MESSAGE_SIZE, u32::MAX] {
        for len in [
            apns::pdu_len(data, max),
            apns::next_pdu(data, max),
            apns::legacy::pdu_len(data, max),
            apns::legacy::next_pdu(data, max),
        ] {
            match len {
                // What the C side gets must fit Wireshark's 32-bit signed PDU length.
                PduLen::Len(n) | PduLen::NeedMore(n) => {
                    assert!(n > 0, "PDU length 0 would never advance");
                    assert!(n <= framing::MAX_PDU_LEN, "PDU length {n} past i32");
                }
                PduLen::TooLarge(_) | PduLen::Unframeable(_) => {}
            }
        }
        if let PduLen::Len(n) = apns::pdu_len(data, max) {
            assert!(n >= apns::HEADER_LEN, "pdu_len {n} below the header");
        }
        let mut it = apns::messages(data, max);
        let mut last = 0usize;
        let mut count = 0usize;
        for (at, m) in it.by_ref() {
            assert!(at >= last, "messages went backwards");
            assert!(m.consumed > 0, "message consumed nothing");
            assert!(at + m.consumed <= data.len());
            last = at + m.consumed;
            count += 1;
            assert!(count <= data.len(), "more messages than bytes");
        }
        assert!(it.offset() <= data.len());
        let _ = it.remainder();
        if let Ok(m) = apns::legacy::parse(data, max) {
            assert!(m.len <= data.len(), "legacy len {} > {}", m.len, data.len());
            for a in &m.anomalies {
                inside(a.span, data.len(), "legacy anomaly");
            }
            legacy_body_spans(&m.body, data.len());
        }
    }
}

/// The channel protobufs (0x1D item 2, 0x0A item 29) and the IDS envelope of a binary
/// property list: spans inside the input, bounded work.
fn apns_pubsub_and_ids(data: &[u8]) {
    use apns::{channels, ids, protobuf};
    let mut r = protobuf::Reader::new(data);
    let mut n = 0usize;
    for f in r.by_ref() {
        inside(f.span, data.len(), "protobuf field");
        inside(f.value_span, data.len(), "protobuf value");
        n += 1;
    }
    assert!(n <= protobuf::MAX_FIELDS);
    if let Some(a) = r.error() {
        inside(a.span, data.len(), "protobuf error");
    }
    let s = channels::subscription(data);
    assert!(s.topics.len() <= channels::MAX_ENTRIES);
    for t in &s.topics {
        inside(t.span, data.len(), "channel topic entry");
        if let Some(a) = t.topic {
            inside(a.span, data.len(), "channel topic");
        }
        for c in t.channels.iter().chain(&t.unsubscribed) {
            inside(c.span, data.len(), "channel");
            if let Some(a) = c.id {
                inside(a.span, data.len(), "channel id");
                assert_eq!(a.value.len(), a.span.len);
            }
        }
    }
    for a in &s.anomalies {
        inside(a.span, data.len(), "channel anomaly");
        let _ = a.kind.text();
    }
    let (_, an) = channels::channel(data);
    for a in &an {
        inside(a.span, data.len(), "channel anomaly");
    }
    if let Ok(pl) = crate::core::bplist::parse_default(data) {
        let mut b = ids::Budget::new();
        let root = ids::from_plist(&pl.root, 0, 0, &mut b);
        assert!(b.nodes <= ids::MAX_NODES);
        if let Some(e) = ids::Envelope::read(&root) {
            for a in &e.anomalies {
                inside(a.span, data.len(), "ids anomaly");
                let _ = a.kind.text();
            }
            let _ = e.brief();
        }
    }
}

fn legacy_body_spans(body: &apns::legacy::LegacyBody<'_>, len: usize) {
    use apns::legacy::LegacyBody as B;
    fn bytes(s: &crate::core::span::Spanned<&[u8]>, len: usize, what: &str) {
        inside(s.span, len, what);
        assert_eq!(s.value.len(), s.span.len, "{what}");
    }
    match body {
        B::DeviceHello { length, data } => {
            inside(length.span, len, "legacy length");
            bytes(data, len, "legacy hello data");
        }
        B::ServerHello { reserved, token_len, token } => {
            inside(reserved.span, len, "legacy reserved");
            inside(token_len.span, len, "legacy token length");
            if let Some(t) = token {
                bytes(t, len, "legacy token");
            }
        }
        B::AppIds { lists } => {
            for list in lists {
                inside(list.count.span, len, "legacy id count");
                inside(list.item_size.span, len, "legacy item size");
                for id in &list.ids {
                    bytes(id, len, "legacy id");
                }
            }
        }
        B::Notification { topic_len, topic, payload_len, payload } => {
            inside(topic_len.span, len, "legacy topic length");
            bytes(topic, len, "legacy topic");
            inside(payload_len.span, len, "legacy payload length");
            bytes(payload, len, "legacy payload");
        }
        B::Confirmation { data } => bytes(data, len, "legacy confirmation"),
        B::KeepAlive { length, text, .. } => {
            inside(length.span, len, "legacy keepalive length");
            bytes(text, len, "legacy keepalive text");
        }
        B::KeepAliveAck => {}
    }
}

/// APNs items: one message parsed, its items' spans, raw bytes and typed values; every
/// item kind decoded on the input; a session fed every message of the buffer.
pub fn apns_items(data: &[u8]) {
    if let Ok(m) = apns::parse_message(data) {
        check_message(&m, data);
        let _ = (m.message_id(), m.token(), m.topic_hash(), m.is_clean());
        for a in &m.anomalies {
            let _ = (a.kind.message(), a.kind.is_error());
        }
    }
    for c in apns::items::KNOWN_COMMANDS {
        for def in c.items() {
            let (v, _) = apns::items::decode(def.kind, data);
            let _ = v.as_uint();
        }
    }
    apns_pubsub_and_ids(data);
    // A session over the whole buffer, message by message, alternating direction;
    // every message fed twice (Wireshark's second pass must not change anything).
    let mut session = apns::Session::new();
    let msgs: Vec<_> = apns::messages(data, apns::DEFAULT_MAX_MESSAGE_SIZE).collect();
    for (n, (at, m)) in msgs.iter().enumerate() {
        let frame = (n / 2) as u32 + 1;
        let dir = if data.get(*at).is_some_and(|b| b & 1 == 1) {
            apns::Dir::ToDevice
        } else {
            apns::Dir::ToServer
        };
        let pos = apns::Pos::new(frame, (n % 2) as u16);
        session.feed(pos, n as i64 * 1000, dir, m);
        let before = session.link(pos).copied();
        session.feed(pos, n as i64 * 1000, dir, m);
        assert_eq!(before, session.link(pos).copied(), "revisit changed a link");
        let _ = session.links_in_frame(frame).count();
    }
    let _ = session.unacked();
}

fn check_message(m: &apns::Message<'_>, data: &[u8]) {
    assert!(m.consumed <= data.len());
    assert!(m.items.len() <= apns::message::MAX_ITEMS);
    for it in &m.items {
        inside(it.span, data.len(), "item");
        inside(it.value_span, data.len(), "item value");
        assert!(it.value_span.len <= usize::from(it.length));
        assert_eq!(&data[it.value_span.offset..it.value_span.end()], it.raw);
        let _ = (it.key(), it.label());
    }
    for a in &m.anomalies {
        inside(a.span, data.len(), "anomaly");
    }
}

/// Binary plists: default limits and tight ones; every node and reference span inside the
/// input, depth and node count within the limits, labels and dates formatted.
pub fn bplist(data: &[u8]) {
    let tight = bplist::Limits {
        max_depth: 4,
        max_objects: 64,
        max_bytes: 256,
    };
    for limits in [bplist::Limits::default(), tight] {
        let _ = bplist::looks_like(data);
        let Ok(p) = bplist::parse(data, limits) else { continue };
        inside(p.trailer_span, data.len(), "trailer");
        inside(p.offset_table_span, data.len(), "offset table");
        for a in &p.anomalies {
            inside(a.span, data.len(), "bplist anomaly");
        }
        let mut seen = 0usize;
        walk(&p.root, data.len(), 0, limits.max_depth, &mut seen);
        assert!(seen <= limits.max_objects, "{seen} nodes > {}", limits.max_objects);
        assert_eq!(seen, p.nodes, "node count");
    }
}

fn walk(n: &bplist::Node<'_>, len: usize, depth: usize, max_depth: usize, seen: &mut usize) {
    assert!(depth <= max_depth + 1, "depth {depth} > {max_depth}");
    *seen += 1;
    inside(n.span, len, "bplist node");
    if let Some(r) = n.ref_span {
        inside(r, len, "bplist ref");
    }
    let _ = (n.value.type_name(), n.value.label());
    if let Some(d) = n.value.as_date() {
        let _ = bplist::format_date(d);
    }
    let _ = (n.value.as_str(), n.value.as_bytes(), n.value.as_i128());
    match &n.value {
        bplist::Value::Array(v) | bplist::Value::Set(v) => {
            for c in v {
                walk(c, len, depth + 1, max_depth, seen);
            }
        }
        bplist::Value::Dict(v) => {
            for e in v {
                walk(&e.key, len, depth + 1, max_depth, seen);
                walk(&e.value, len, depth + 1, max_depth, seen);
            }
        }
        _ => {}
    }
}

/// FaceTime's shared port: the per-packet classifier and every parser it leads to, then
/// the call tracker fed a sequence of datagrams (2-byte big-endian length prefixed).
pub fn mux_classifier(data: &[u8]) {
    datagram(data);
    let mut tracker = facetime::call::CallTracker::new();
    let eps = [
        facetime::call::Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 16402),
        facetime::call::Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 16402),
        facetime::call::Endpoint::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 16404),
    ];
    let mut rest = data;
    let mut frame = 0u32;
    while rest.len() >= 3 {
        let sel = rest[0];
        let n = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let p = &rest[3..3 + n];
        rest = &rest[3 + n..];
        frame += 1;
        let (src, dst) = (eps[usize::from(sel) % 3], eps[usize::from(sel >> 2) % 3]);
        let t = u64::from(frame) * 1_000_000;
        datagram(p);
        if let Ok(m) = facetime::sip::parse_sip(p) {
            let a = tracker.feed_sip(frame, t, Some(src), Some(dst), &m);
            // Revisit: same answer, nothing changes.
            assert_eq!(a, tracker.feed_sip(frame, t, Some(src), Some(dst), &m));
            if let Some(fi) = a {
                assert!(tracker.call(fi.call).is_some());
            }
        }
        if let Ok(h) = facetime::rtp::parse_rtp(p) {
            if let Some(s) = tracker.feed_rtp(frame, t, src, dst, &h) {
                assert!(tracker.stream(s).is_some());
            }
        }
        if let Ok(c) = facetime::rtp::parse_rtcp(p) {
            if let Some(ssrc) = c.packets.first().and_then(|p| p.ssrc) {
                let _ = tracker.feed_rtcp(frame, t, src, dst, ssrc);
            }
        }
        let _ = tracker.match_media(src, dst);
        let _ = tracker.frame(frame);
    }
    let calls = tracker.calls();
    assert!(calls.len() <= facetime::call::MAX_CALLS);
    assert!(tracker.streams().len() <= facetime::call::MAX_STREAMS);
    for (i, c) in calls.iter().enumerate() {
        let _ = (c.setup_time_ns(), c.duration_ns(), c.talk_time_ns(), c.answered());
        let _ = tracker.stream_counts(i as u32).count();
    }
    let _ = tracker.limits().any();
}

fn datagram(p: &[u8]) {
    use facetime::{classify, rtp, sdp, sip};
    let len = p.len();
    let _ = facetime::classify(p).name();
    let _ = facetime::probe(p);
    let _ = facetime::flow_probe(p);
    let _ = classify::stun_kind(p);
    if let Some(n) = classify::stun_attributes(p) {
        let _ = n;
    }
    if let Ok((_, span, next, _)) = sip::parse_start_line(p) {
        inside(span, len, "sip start line");
        assert!(next <= len);
    }
    if let Ok(m) = sip::parse_sip(p) {
        inside(m.start_line, len, "sip start line");
        inside(m.header_block, len, "sip header block");
        if let Some(b) = m.body {
            inside(b.span, len, "sip body");
            assert_eq!(&p[b.span.offset..b.span.end()], b.value);
            let s = sdp::parse_sdp(b.value, b.span.offset);
            sdp_spans(&s, len);
        }
        let _ = (m.is_request(), m.status(), m.method(), m.has_sdp(), m.has_required_headers());
        assert!(m.header_count <= sip::MAX_HEADERS || m.header_count > 0);
    }
    let s = sdp::parse_sdp(p, 0);
    sdp_spans(&s, len);
    if let Ok(h) = rtp::parse_rtp(p) {
        inside(h.seq.span, len, "rtp seq");
        inside(h.ssrc.span, len, "rtp ssrc");
        inside(h.csrc_bytes.span, len, "rtp csrcs");
        assert!(h.header_len() <= len, "rtp header {} > {len}", h.header_len());
        let _ = h.csrcs().count();
        if let Some(e) = h.ext {
            let _ = e.elements().count();
        }
    }
    if let Ok(c) = rtp::parse_rtcp(p) {
        assert!(c.packets.len() <= rtp::MAX_RTCP_PACKETS);
        for pk in &c.packets {
            inside(pk.bytes.span, len, "rtcp packet");
            assert_eq!(pk.bytes.value.len(), pk.bytes.span.len);
            if let Some(a) = pk.app_name {
                inside(a.span, len, "rtcp app name");
            }
        }
        if let Some(t) = c.trailer {
            inside(t, len, "rtcp trailer");
        }
    }
    if let Some(w) = rtp::walk_rtcp(p) {
        assert!(w.covered <= len);
        let _ = w.exact(len);
    }
}

fn sdp_spans(s: &facetime::sdp::Sdp<'_>, len: usize) {
    if let Some(o) = s.origin {
        inside(o.span, len, "sdp origin");
    }
    if let Some(o) = s.session_name {
        inside(o.span, len, "sdp session name");
    }
    assert!(s.media.len() <= facetime::sdp::MAX_MEDIA);
    for (i, m) in s.media.iter().enumerate() {
        let _ = (s.media_connection(i), s.media_ip(i), m.is_rtp());
        let _ = m.payload_types().count();
    }
}

/// MPTCP options: the options walk (every hint), the frame walker on every link type,
/// and the TLS SNI extractor.
pub fn mptcp_options(data: &[u8]) {
    use mptcp::options::{MptcpBody, OptionAnomaly};
    use mptcp::Version;
    for hint in [None, Some(Version::V0), Some(Version::V1)] {
        let p = mptcp::parse_options(data, hint);
        let mut end = 0usize;
        for o in &p.mptcp {
            inside(o.span, data.len(), "mptcp option");
            inside(o.subtype.span, data.len(), "mptcp subtype");
            assert!(o.span.offset >= end, "options overlap");
            end = o.span.end();
            assert_eq!(o.span.len, usize::from(o.length));
            if let MptcpBody::Malformed { bytes, .. } = o.body {
                assert!(bytes.len() <= o.span.len);
            }
        }
        for a in &p.anomalies {
            let off = match *a {
                OptionAnomaly::MissingLength { offset, .. }
                | OptionAnomaly::BadLength { offset, .. }
                | OptionAnomaly::Overrun { offset, .. }
                | OptionAnomaly::MptcpTooShort { offset, .. }
                | OptionAnomaly::MptcpBadLength { offset, .. }
                | OptionAnomaly::MptcpVersionMismatch { offset, .. }
                | OptionAnomaly::AddAddrBadIpVersion { offset, .. }
                | OptionAnomaly::DataAfterEol { offset } => offset,
            };
            assert!(off < data.len().max(1), "anomaly offset {off} outside");
        }
        let _ = (p.mp_capable(), p.dss(), p.dss_count());
    }
    use crate::core::frame::Link;
    for link in [
        Link::Ethernet,
        Link::RawIp,
        Link::RawIp4,
        Link::RawIp6,
        Link::Sll,
        Link::Sll2,
        Link::Null,
        Link::Loop,
    ] {
        if let Some(v) = crate::core::frame::tcp_segment(link, data) {
            assert!(v.tcp_offset + v.header_len <= data.len());
            assert!(v.header_len >= 20 && v.options.len() == v.header_len - 20);
            assert!(v.payload.len() as u64 <= u64::from(v.payload_len));
        }
    }
    let _ = crate::core::tls_hello::tls_sni(data);
    // The courier ClientHello tracker over the same bytes in two segments.
    let (a, b) = ((std::net::IpAddr::from([10, 0, 0, 2]), 50000u16), (std::net::IpAddr::from([17, 57, 146, 68]), 5223u16));
    let cut = data.len() / 2;
    let mut t = crate::core::apns::courier_tls::SniTracker::new(2);
    let _ = t.observe(1, a, b, 7, &data[..cut], cut as u32);
    let _ = t.observe(2, a, b, 7u32.wrapping_add(cut as u32), &data[cut..], (data.len() - cut) as u32);
    if let Some(c) = t.lookup(2, b, a) {
        assert!(c.hello_frame <= 2 && crate::core::apns::courier_sni(&c.sni).is_some());
    }
}

/// MPTCP connection analysis: the input is a sequence of segments (a compact record
/// format, see below) fed to an analyser with small caps and to one with the defaults;
/// every annotation refers to existing connections/subflows, caps hold, revisits and
/// `finish` are stable.
///
/// Record: flags(1) hosts(1) seq(4) ack(4) payload_len(2) time_step(1) opt_len(1) options.
/// `hosts` picks the source/destination address and port among a few, so that segments
/// meet in the same connections.
pub fn mptcp_state(data: &[u8]) {
    let small = mptcp::Config {
        max_connections: 4,
        max_subflows: 3,
        max_ranges: 8,
        max_rtt_samples: 8,
        max_addresses: 2,
        max_handovers: 2,
        max_annotations: 64,
        silence_ns: 1_000,
        max_reorder_ranges: 4,
        max_pending_reinjections: 4,
    };
    for config in [small, mptcp::Config::default()] {
        let mut a = mptcp::Analyser::new(config);
        let addrs: [IpAddr; 4] = [
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            "192.0.2.1".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        ];
        let ports = [40000u16, 443, 40001, 5223];
        let mut rest = data;
        let mut frame = 0u32;
        let mut t: i128 = 0;
        while rest.len() >= 14 {
            let hosts = rest[1];
            let opt_len = usize::from(rest[13] % 41).min(rest.len() - 14);
            let seg = mptcp::Segment {
                frame: frame + 1,
                time_ns: t,
                src: addrs[usize::from(hosts & 3)],
                dst: addrs[usize::from((hosts >> 2) & 3)],
                sport: ports[usize::from((hosts >> 4) & 3)],
                dport: ports[usize::from(hosts >> 6)],
                flags: mptcp::TcpFlags(rest[0]),
                seq: u32::from_be_bytes([rest[2], rest[3], rest[4], rest[5]]),
                ack: u32::from_be_bytes([rest[6], rest[7], rest[8], rest[9]]),
                payload_len: u32::from(u16::from_be_bytes([rest[10], rest[11]])),
                options: &rest[14..14 + opt_len],
            };
            t += i128::from(rest[12]) * 10_000_000;
            rest = &rest[14 + opt_len..];
            frame += 1;
            let first = a.feed(&seg);
            // A revisit returns the stored annotation and changes nothing.
            assert_eq!(first, a.feed(&seg));
            if let Some(ann) = &first {
                check_annotation(&a, ann);
            }
        }
        a.finish();
        a.finish();
        assert!(a.connections().len() <= config.max_connections);
        for c in a.connections() {
            assert!(c.subflows.len() <= config.max_subflows);
            assert!(c.handovers.len() <= config.max_handovers);
            for h in &c.handovers {
                assert!(h.from_subflow < c.subflows.len() && h.to_subflow < c.subflows.len());
            }
            for hosts in &c.announced {
                assert!(hosts.len() <= config.max_addresses);
            }
            let _ = c.rtt_stats();
        }
        for f in 1..=frame {
            if let Some(ann) = a.annotation(f) {
                check_annotation(&a, &ann);
            }
        }
        let _ = a.global_cap_hit();
    }
}

fn check_annotation(a: &mptcp::Analyser, ann: &mptcp::Annotation) {
    if let Some(c) = ann.connection {
        let conn = a.connection(c).expect("annotation names an existing connection");
        if let Some(s) = ann.subflow {
            assert!(s < conn.subflows.len(), "subflow {s} of {}", conn.subflows.len());
        }
    } else {
        assert!(ann.subflow.is_none(), "subflow without connection");
    }
}

/// The packed APNs framing with its cache state: `data[0]` picks the value cache sizes
/// (bit 0x80 clear: the defaults; set: `32 << (data[0] & 0x0f)` both ways), then records
/// of one message each: a byte `h` (direction `h & 1`, length `h >> 1`, 127: a 16-bit
/// big-endian length follows) and the message. Every message is decoded against the live
/// caches (first pass), its spans checked and its classic view built; then every message is
/// decoded again from the records, last first, and must come out exactly as on the first
/// pass.
pub fn apns_packed(data: &[u8]) {
    use apns::packed::{self as pk, wire};
    let Some((&sel, mut rest)) = data.split_first() else { return };
    let sizes = if sel & 0x80 == 0 {
        pk::Sizes::ASSUMED
    } else {
        let n = 32usize << (sel & 0x0f);
        pk::Sizes { to_server: n, to_device: n, source: pk::SizeSource::AlpnSizes }
    };
    let mut conn = pk::Conn::new(sizes);
    let mut seen = Vec::new();
    let mut frame = 0u32;
    while let Some((&h, r)) = rest.split_first() {
        let (len, r) = match h >> 1 {
            127 => match r {
                [a, b, r @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), r),
                _ => break,
            },
            n => (usize::from(n), r),
        };
        let (msg, r) = r.split_at(len.min(r.len()));
        rest = r;
        frame += 1;
        let dir = if h & 1 == 0 { apns::Dir::ToServer } else { apns::Dir::ToDevice };
        let pos = apns::Pos::new(frame, 0);
        let _ = (wire::pdu_len(msg, u32::MAX), pk::looks_packed(msg), pk::heuristic_accepts(msg));
        let m = conn.decode(pos, dir, msg, true);
        assert!(m.consumed <= msg.len());
        for a in &m.anomalies {
            inside(a.at, msg.len(), "packed anomaly");
            let _ = a.kind.is_error();
        }
        fn walk(m: &pk::Message<'_>, a: &pk::Attr, len: usize, depth: usize) {
            assert!(depth <= pk::decode::MAX_DEPTH + 1, "too deep");
            inside(a.at, len, "packed attribute");
            if a.loc.in_packet() {
                inside(a.loc.span, len, "packed attribute bytes");
            }
            let _ = (m.key_bytes(&a.key), a.key.source(), a.value_from.source());
            if let Some(v) = &a.value {
                item(m, v, len, depth);
            }
        }
        fn item(m: &pk::Message<'_>, v: &pk::Item, len: usize, depth: usize) {
            inside(v.at, len, "packed value");
            assert_eq!(m.bytes(v.loc).len(), v.loc.span.len, "value bytes");
            match &v.node {
                pk::Node::Dict(attrs) => attrs.iter().for_each(|a| walk(m, a, len, depth + 1)),
                pk::Node::Array(items) => items.iter().for_each(|i| item(m, i, len, depth + 1)),
                n => {
                    let _ = (n.as_i64(), n.as_u64(), n.value_type());
                }
            }
        }
        for a in &m.attrs {
            walk(&m, a, msg.len(), 0);
        }
        let cv = pk::classic_view(&m);
        let _ = (cv.message_id(), cv.token(), cv.topic_hash());
        drop(cv);
        seen.push((pos, dir, m));
    }
    for (pos, dir, first) in seen.iter().rev() {
        let buf = first.packet_bytes(Span::new(0, first.buffer_len()));
        let m = conn.decode(*pos, *dir, buf, false);
        assert!(m.attrs == first.attrs && m.anomalies == first.anomalies, "a later pass decodes {pos:?} differently");
        let mut n = 1;
        while let Some(e) = first.entry(n) {
            assert_eq!(m.entry(n).map(|x| &x.bytes), Some(&e.bytes), "a later pass resolves {pos:?} differently");
            n += 1;
        }
        assert!(m.entry(n).is_none());
    }
    assert!(conn.recorded() <= pk::state::MAX_RECORDED);
}

//! The packed framing `apns-pack-v1`: glue from `core::apns::packed` to the tree.
//!
//! Each message is decoded against its direction's caches on the first pass and from the
//! frame's record afterwards (`core::apns::packed::state`), so every pass, and a click on
//! any frame in any order, shows the same. Every attribute is a subtree with its tag, its
//! key and value, and where each came from (inline, new and cached as entry n, or from
//! cache index i, entry n, cached in frame f); a top-level attribute also gets the field
//! the classic framing gives its item (`apns.token`, `apns.topic`, `apns.message_id` …),
//! and the payload dictionary of an iMessage (com.apple.madrid) is annotated as the
//! classic framing's binary property list is. What comes from a cache is not in the
//! frame's bytes: it is shown as generated, over the bytes that referred to it.

use super::fields::*;
use super::channels::{self as ch, Place};
use super::modern::{command_text, info_text, show_item_field, show_links, time_from_ns, value_time};
use super::payloads::{envelope_experts, ids_field, madrid_annotation, madrid_field, show_payload, Ids, Scalar};
use super::{direction, info, stats, topic_name, Conv, PREF_MAX, PROTO};
use crate::core::apns::ids;
use crate::core::apns::items::{item_def, nonce_at, sub, unknown_note, Command, Field as CoreField, Kind};
use crate::core::apns::message::Item as CoreItem;
use crate::core::apns::packed::{self as pk, AnomalyKind, Attr, Item, Key, Message, Node, Num, ValueFrom};
use crate::core::apns::{framing, Framing, Pos, Value};
use crate::core::span::Span;
use crate::epan::*;

/// The expert info of a packed anomaly.
fn expert_of(kind: &AnomalyKind, sizes: pk::Sizes) -> &'static ExpertId {
    match kind {
        AnomalyKind::ValueCacheEvicted { .. } if sizes.source == pk::SizeSource::Assumed => &EI_P_VALUE_BEYOND_ASSUMED,
        AnomalyKind::UnknownCommand(_) => &EI_UNKNOWN_COMMAND,
        AnomalyKind::Truncated { .. } => &EI_TRUNCATED,
        AnomalyKind::BadNumber { .. } => &EI_P_BAD_NUMBER,
        AnomalyKind::PastEnd { what: Num::KeyLength, .. } => &EI_P_KEY_PAST_END,
        AnomalyKind::PastEnd { .. } => &EI_P_PAST_END,
        AnomalyKind::KeyCacheMiss { .. } => &EI_P_KEY_MISS,
        AnomalyKind::ValueCacheMiss { .. } => &EI_P_VALUE_MISS,
        AnomalyKind::ValueCacheEvicted { .. } => &EI_P_VALUE_EVICTED,
        AnomalyKind::ValueLargerThanCache { .. } => &EI_P_OVERSIZE,
        AnomalyKind::CacheAccounting => &EI_P_ACCOUNTING,
        AnomalyKind::CacheMemoryBound => &EI_P_MEMORY,
        AnomalyKind::NotUtf8 { .. } => &EI_P_NOT_UTF8,
        AnomalyKind::IntOutOfRange => &EI_P_INT_RANGE,
        AnomalyKind::ReservedBits { .. } => &EI_P_RESERVED,
        AnomalyKind::TooDeep => &EI_P_TOO_DEEP,
        AnomalyKind::TooMuchWork => &EI_P_TOO_MUCH,
        AnomalyKind::NotRecorded => &EI_P_NOT_RECORDED,
    }
}

fn expert_text(kind: &AnomalyKind, sizes: pk::Sizes) -> String {
    let assumed = sizes.source == pk::SizeSource::Assumed;
    match *kind {
        AnomalyKind::UnknownCommand(c) => format!("Unknown command 0x{c:02x}"),
        AnomalyKind::Truncated { declared, available } => format!("Message truncated: length says {declared} bytes, {available} present"),
        AnomalyKind::BadNumber { what, err } => match err {
            pk::wire::NumError::TooLong => format!("{}: varint longer than ten bytes", what.name()),
            _ => format!("{}: number beyond 64 bits", what.name()),
        },
        AnomalyKind::PastEnd { what: Num::KeyLength, len, available } => {
            format!("Key of {len} bytes, only {available} left in the data")
        }
        AnomalyKind::PastEnd { what, len, available } => format!("{} {len}, only {available} bytes left in the data", what.name()),
        AnomalyKind::KeyCacheMiss { index, cached } => format!(
            "Key cache index {index} past the end: {cached} key{} cached in this direction{}",
            if cached == 1 { "" } else { "s" },
            if cached < 32 { " (the capture may have started after the connection)" } else { "" }
        ),
        AnomalyKind::ValueCacheMiss { index, cached } => format!(
            "Value cache index {index} past the end: {cached} value{} cached in this direction{}",
            if cached == 1 { "" } else { "s" },
            if assumed { " (the connection's cache may be larger than the assumed size, or the capture started after the connection)" } else { "" }
        ),
        AnomalyKind::ValueCacheEvicted { index, cached } => {
            if assumed {
                format!("Value cache index {index} past the end of the assumed {}-byte cache ({cached} entries): the connection's value cache is larger (its ALPN choice was not seen); resolved from an entry a larger cache still holds", sizes.to_server.max(sizes.to_device))
            } else {
                format!("Value cache index {index} past the end ({cached} entries): the entry had been evicted; shown as it was")
            }
        }
        AnomalyKind::ValueLargerThanCache { len, size } => format!("Cached value of {len} bytes is larger than the {size}-byte value cache (kept uncounted, as rustpush does)"),
        AnomalyKind::CacheAccounting => "Evicting an uncounted entry takes the value cache's size count below zero (rustpush panics here); counted as 0".into(),
        AnomalyKind::CacheMemoryBound => "Value cache memory bound reached: entries larger than the cache dropped".into(),
        AnomalyKind::NotUtf8 { .. } => "String is not valid UTF-8".into(),
        AnomalyKind::IntOutOfRange => "Integer magnitude beyond a signed 64-bit value (rustpush overflows)".into(),
        AnomalyKind::ReservedBits { tag, bits } => format!("Tag 0x{tag:02x}: bit 0x{bits:02x} has no known meaning"),
        AnomalyKind::TooDeep => format!("Values nested more than {} deep; not decoded further", pk::decode::MAX_DEPTH),
        AnomalyKind::TooMuchWork => "Too much to decode in one message; not decoded further".into(),
        AnomalyKind::NotRecorded => "This message's cache lookups were not kept (connection state cap)".into(),
    }
}

/// Shows one packed message (a whole PDU).
pub(super) fn show_packed(pkt: &mut Packet<'_>, idx: u32) {
    let bytes = pkt.bytes();
    pkt.set_protocol_column(c"APNs");
    let pos = Pos::new(pkt.frame(), u16::try_from(idx).unwrap_or(u16::MAX));
    let first_pass = !pkt.visited();
    let conv_cell = pkt.conversation::<Conv>(&PROTO);
    let cmd = Command::from_u8(bytes.first().copied().unwrap_or(0));
    let (m, dir, sizes) = {
        let mut conv = conv_cell.borrow_mut();
        let dir = direction(pkt, &mut conv, cmd.direction());
        let state = conv.packed.get_or_insert_with(|| pk::Conn::new(pk::Sizes::ASSUMED));
        let m = state.decode(pos, dir, bytes, first_pass);
        let sizes = state.sizes();
        if first_pass {
            let t = pkt.time().as_nanos();
            conv.session.feed(pos, i64::try_from(t).unwrap_or(i64::MAX), dir, &pk::classic_view(&m));
        }
        (m, dir, sizes)
    };
    let cv = pk::classic_view(&m);
    let madrid = Ids::of_topic(cv.topic_hash().and_then(|h| topic_name(h)).as_deref());
    // The IDS envelope of a Message's payload dictionary (also without a tree: experts,
    // Info column, statistics).
    let brief = if madrid.ids && m.command == Command::Message {
        m.attrs.iter().find(|a| m.key_id(&a.key) == Some(3)).and_then(|a| a.value.as_ref()).and_then(|v| {
            let root = ids::from_packed(&m, v, 0, &mut ids::Budget::new());
            ids::Envelope::read(&root).map(|e| e.brief())
        })
    } else {
        None
    };

    let root = pkt.tree().add_protocol(&PROTO, Span::new(0, m.consumed));
    let name = command_text(m.command);
    root.append_text(format_args!(", {name}"));
    let tree = root.subtree(&ETT);
    let cmd_item = tree.add(&HF_COMMAND, Span::new(0, 1), m.command.code());
    if let Some(note) = unknown_note(m.command.code()).filter(|_| !m.command.is_known()) {
        cmd_item.append_text(format_args!(" [{note}]"));
    }
    let len_item = tree.add(&HF_P_LENGTH, Span::new(1, m.header_len.saturating_sub(1)), m.length);
    tree.add_generated(&HF_FRAMING, Framing::Packed.code());
    tree.add_generated(&HF_DIRECTION, dir.code());
    if m.length > u64::from(PREF_MAX.get()) {
        len_item.expert(
            &EI_TOO_LARGE,
            Some(&format!("Length {} exceeds the maximum message size ({} bytes, preference apns.max_message_size)", m.length, PREF_MAX.get())),
        );
    } else if usize::try_from(m.length).map_or(true, |l| l > framing::MAX_PDU_LEN) {
        len_item.expert(&EI_TOO_LARGE, Some(&format!("Length {} exceeds the largest message that can be reassembled", m.length)));
    }
    if !tree.is_null() {
        let size = sizes.of(dir);
        let (_, ct) = tree.add_subtree(&ETT_P_CACHES, Span::new(0, 0), &format!("Caches: value cache {size} bytes, {}", sizes.source.name()));
        ct.add_generated(&HF_P_SIZES, sizes.source.code());
        ct.add_generated(&HF_P_VALUE_CACHE_SIZE, u32::try_from(size.min(pk::cache::MAX_VALUE_CACHE_SIZE)).unwrap_or(u32::MAX));
        if sizes.source != pk::SizeSource::Assumed {
            ct.add_generated(&HF_ALPN, crate::core::apns::ALPN_PACK_V1);
        }
    }
    if sizes.capped() {
        tree.expert(&EI_P_SIZES_CAPPED, Span::new(0, 0), Some(&format!("Value cache size larger than {} bytes; capped", pk::cache::MAX_VALUE_CACHE_SIZE)));
    }

    let ctx = Ctx { m: &m, command: m.command, madrid };
    let mut topics_named = Vec::new();
    if tree.is_null() {
        // Nothing to show: only the topic names the Info column gives.
        for i in &cv.items {
            match i.value {
                Value::TopicHash(h) => topics_named.extend(topic_name(h)),
                Value::Text(t) if i.def.is_some_and(|d| d.kind == Kind::TopicHashOrText) => topics_named.push(t.to_string()),
                // The channel protobufs' experts.
                Value::Bytes(b) => {
                    if let Some(k @ (Kind::ChannelList | Kind::Channel)) = i.def.map(|d| d.kind) {
                        ch::show(&tree, k, b, Place::Generated(i.value_span));
                    }
                }
                _ => {}
            }
        }
    } else {
        for a in &m.attrs {
            if let Some(n) = show_attr(pkt, &tree, &ctx, a, true, None) {
                topics_named.push(n);
            }
        }
    }
    // Bytes missing because the capture's snap length cut the message are said as stock
    // says it, once, instead of truncation anomalies.
    let cut = pkt.is_cut();
    for a in &m.anomalies {
        if cut && matches!(a.kind, AnomalyKind::Truncated { .. } | AnomalyKind::PastEnd { .. }) {
            continue;
        }
        tree.expert(expert_of(&a.kind, sizes), a.at, Some(&expert_text(&a.kind, sizes)));
    }
    if let Some(b) = &brief {
        envelope_experts(&tree, b);
    }

    let conv = conv_cell.borrow();
    let ack_ns = conv.session.link(pos).and_then(|l| l.ack_time_ns);
    show_links(&tree, &conv.session, pos);
    drop(conv);
    // Info column, as the classic framing writes it.
    let mut text = info_text(name, &cv, topics_named);
    if let Some(t) = brief.as_ref().and_then(|b| b.text.as_ref()) {
        text.push_str(&format!(": {t}"));
    }
    info(pkt, idx, &text);
    if cut {
        pkt.mark_cut();
    }
    stats::tap(pkt, &cv, dir, ack_ns, brief.as_ref());
}

struct Ctx<'m, 'a> {
    m: &'m Message<'a>,
    command: Command,
    madrid: Ids,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Adds `hf` over `span`, generated when the value is not in this frame's bytes.
fn put<'p, K: ?Sized, V: FieldValue<K>>(t: &Tree<'p>, hf: &Hf<K>, span: Span, value: V, generated: bool) -> epan::Item<'p> {
    let it = t.add(hf, span, value);
    if generated {
        it.generated()
    } else {
        it
    }
}

use crate::epan;

/// One attribute; returns the topic name a top-level topic attribute resolved to.
fn show_attr(pkt: &mut Packet<'_>, tree: &Tree<'_>, ctx: &Ctx<'_, '_>, a: &Attr, top: bool, scope: Option<&str>) -> Option<String> {
    let m = ctx.m;
    let in_packet = a.loc.in_packet();
    let key = m.key_bytes(&a.key);
    let id = m.key_id(&a.key).filter(|_| top);
    let value = a.value.as_ref();
    let len_hint = value.map_or(0, |v| match v.node {
        Node::Data(l) | Node::String { loc: l, .. } => l.span.len,
        _ => 0,
    });
    let def = id.and_then(|id| item_def(ctx.command, id, len_hint));
    let key_text = key.and_then(|k| std::str::from_utf8(k).ok()).filter(|_| !top);
    let mut title = match (top, id, def, key_text, key) {
        (true, Some(id), Some(d), _, _) => format!("{} (item {id})", d.label),
        (true, Some(id), None, _, _) => format!("Unknown item {id}"),
        (_, _, _, Some(k), _) => k.to_string(),
        (_, _, _, None, Some(k)) => format!("key {}", hex(k)),
        _ => "key unknown".to_string(),
    };
    let (attr_item, t) = tree.add_subtree(&ETT_P_ATTR, a.at, "");
    let tag_span = if in_packet { Span::new(a.loc.span.offset, 1) } else { a.at };
    put(&t, &HF_P_TAG, tag_span, a.tag, !in_packet);
    // The key.
    let mut notes = Vec::new();
    match a.key {
        Key::Inline(_) => {}
        Key::New { loc, seq } => {
            notes.push("new key".to_string());
            let _ = (loc, seq);
        }
        Key::Cached { index, .. } => notes.push(format!("key from cache #{index}")),
        Key::Missing { index, .. } | Key::NotRecorded { index } => notes.push(format!("key cache #{index} unknown")),
    }
    if let Some(k) = key {
        let (span, gen) = match a.key {
            Key::New { loc, .. } if loc.in_packet() => (loc.span, false),
            Key::Inline(_) => (tag_span, !in_packet),
            _ => (tag_span, true),
        };
        put(&t, &HF_P_KEY, span, k, gen);
        if let Some(kt) = key_text {
            put(&t, &HF_P_KEY_TEXT, span, kt, gen);
        }
    }
    t.add_generated(&HF_P_KEY_FROM, a.key.source().code());
    match a.key {
        Key::Cached { index, entry } => {
            put(&t, &HF_P_KEY_INDEX, tag_span, index, !in_packet);
            if let Some(e) = m.entry(entry) {
                t.add_generated(&HF_P_KEY_ENTRY, e.seq);
                t.add_generated(&HF_P_KEY_FRAME, e.frame);
            }
        }
        Key::Missing { index, .. } | Key::NotRecorded { index } => {
            put(&t, &HF_P_KEY_INDEX, tag_span, index, !in_packet);
        }
        Key::New { seq: Some(s), .. } => {
            t.add_generated(&HF_P_KEY_ENTRY, s);
        }
        _ => {}
    }
    // Where the value came from.
    t.add_generated(&HF_P_VALUE_FROM, a.value_from.source().code());
    match a.value_from {
        ValueFrom::Inline => {}
        ValueFrom::NewCached { seq, evicted } => {
            notes.push("value cached".to_string());
            if let Some(s) = seq {
                t.add_generated(&HF_P_VALUE_ENTRY, s);
            }
            if evicted > 0 {
                t.add_generated(&HF_P_EVICTED, evicted);
            }
        }
        ValueFrom::Cached { index, index_loc, entry, .. } => {
            notes.push(format!("value from cache #{index}"));
            let span = if index_loc.in_packet() { index_loc.span } else { a.at };
            put(&t, &HF_P_VALUE_INDEX, span, index, !index_loc.in_packet());
            if let Some(e) = m.entry(entry) {
                t.add_generated(&HF_P_VALUE_ENTRY, e.seq);
                t.add_generated(&HF_P_VALUE_FRAME, e.frame);
                t.add_generated(&HF_P_CACHED_BYTES, &e.bytes[..]);
            }
        }
        ValueFrom::Missing { index, index_loc, .. } | ValueFrom::NotRecorded { index, index_loc } => {
            notes.push(format!("value cache #{index} unknown"));
            let span = if index_loc.in_packet() { index_loc.span } else { a.at };
            put(&t, &HF_P_VALUE_INDEX, span, index, !index_loc.in_packet());
        }
    }
    let mut topic = None;
    let mut summary = None;
    if let Some(v) = value {
        if let (Some(id), Some(def)) = (id, def) {
            let (s, tp) = show_classic(pkt, &t, ctx, id, def, v);
            summary = s;
            topic = tp;
        }
        let member = if top { None } else { key_text };
        let s2 = show_value(pkt, &t, ctx, v, member, scope);
        summary = summary.or(s2);
    }
    if !notes.is_empty() {
        title.push_str(&format!(" ({})", notes.join(", ")));
    }
    if let Some(s) = summary {
        title.push_str(&format!(": {s}"));
    }
    if !top && ctx.madrid.ids {
        if let (Some(k), Some(v)) = (key_text, value) {
            title.push_str(&madrid_annotation(k, scope, scalar(m, &v.node)));
        }
    }
    attr_item.append_text(&title);
    topic
}

fn scalar<'m>(m: &'m Message<'_>, n: &Node) -> Scalar<'m> {
    match *n {
        Node::String { loc, utf8: true } => std::str::from_utf8(m.bytes(loc)).map_or(Scalar::Other, Scalar::Str),
        Node::Data(loc) => Scalar::Bytes(m.bytes(loc)),
        Node::Int { negative, magnitude, .. } => {
            let v = i128::from(magnitude);
            Scalar::Int(if negative { -v } else { v })
        }
        _ => Scalar::Other,
    }
}

/// A value: its type and typed field, members and elements. `member`: the key of the
/// dictionary member it is the value of (for the iMessage annotation). Returns a short
/// summary for the parent's label.
fn show_value(pkt: &mut Packet<'_>, tree: &Tree<'_>, ctx: &Ctx<'_, '_>, v: &Item, member: Option<&str>, scope: Option<&str>) -> Option<String> {
    let inner = member.or(scope);
    let m = ctx.m;
    let gen = !v.loc.in_packet();
    let (vi, t) = tree.add_subtree(&ETT_P_VALUE, v.at, "");
    put(&t, &HF_P_TYPE, if gen { v.at } else { Span::new(v.loc.span.offset, 1) }, v.node.value_type().code(), gen);
    let span_of = |loc: pk::Loc| if loc.in_packet() { loc.span } else { v.at };
    let summary = match &v.node {
        Node::Data(loc) => {
            let b = m.bytes(*loc);
            put(&t, &HF_P_DATA, span_of(*loc), b, gen);
            Some(format!("{} byte{}", b.len(), if b.len() == 1 { "" } else { "s" }))
        }
        Node::String { loc, utf8 } => {
            let s = m.text(*loc);
            put(&t, &HF_P_STRING, span_of(*loc), &*s, gen);
            let _ = utf8;
            Some(format!("\"{s}\""))
        }
        Node::Int { .. } => match v.node.as_i64() {
            Some(x) => {
                put(&t, &HF_P_INT, span_of(v.loc), x, gen);
                Some(x.to_string())
            }
            None => None,
        },
        Node::Bool(b) => {
            put(&t, &HF_P_BOOL, span_of(v.loc), *b, gen);
            Some(b.to_string())
        }
        Node::Dict(attrs) => {
            t.add_generated(&HF_P_COUNT, attrs.len() as u64);
            for a in attrs {
                show_attr(pkt, &t, ctx, a, false, inner);
            }
            Some(format!("{} member{}", attrs.len(), if attrs.len() == 1 { "" } else { "s" }))
        }
        Node::Array(items) => {
            t.add_generated(&HF_P_COUNT, items.len() as u64);
            for i in items {
                show_value(pkt, &t, ctx, i, None, inner);
            }
            Some(format!("{} element{}", items.len(), if items.len() == 1 { "" } else { "s" }))
        }
    };
    if let Some(k) = member {
        if ctx.madrid.madrid {
            madrid_field(&t, v.at, k, scalar(m, &v.node));
        }
        if ctx.madrid.ids {
            ids_field(&t, v.at, k, scope, scalar(m, &v.node));
        }
    }
    let ty = v.node.value_type().name();
    let summary = match (&v.node, summary) {
        (Node::Dict(_) | Node::Array(_), Some(s)) => Some(format!("{ty}, {s}")),
        (_, s) => s,
    };
    vi.append_text(format_args!("{}{}: {}", ty[..1].to_ascii_uppercase(), &ty[1..], summary.clone().unwrap_or_default()));
    summary
}

/// The field the classic framing gives item `id` (`apns.token`, `apns.topic` …); returns
/// a summary for the label and the topic name a topic resolved to.
fn show_classic(pkt: &mut Packet<'_>, t: &Tree<'_>, ctx: &Ctx<'_, '_>, id: u8, def: &'static crate::core::apns::items::ItemDef, v: &Item) -> (Option<String>, Option<String>) {
    let m = ctx.m;
    let gen = !v.loc.in_packet();
    // The bytes of the value itself (a data value's without its length).
    let (raw, span) = match v.node {
        Node::Data(loc) | Node::String { loc, .. } => (m.bytes(loc), if loc.in_packet() { loc.span } else { v.at }),
        _ => (m.bytes(v.loc), v.at),
    };
    if def.kind == Kind::Payload {
        if let Node::Data(_) = v.node {
            t.add(&HF_PAYLOAD, span, raw);
            if !gen {
                show_payload(pkt, t, span, raw, ctx.madrid);
            }
        }
        return (None, None);
    }
    let Some(value) = pk::classic::classic_value(m, def.kind, &v.node) else { return (None, None) };
    let mut topic = None;
    let summary = match (def.field, value) {
        (_, Value::TopicHash(h)) => {
            put(t, &HF_TOPIC_HASH, span, &h[..], gen);
            match topic_name(h) {
                Some(n) => {
                    t.add(&HF_TOPIC, span, n.as_str()).generated();
                    topic = Some(n.clone());
                    Some(n)
                }
                None => Some(hex(&h[..4]) + "…"),
            }
        }
        (Some(CoreField::Token), Value::Token(tk)) => {
            put(t, &HF_TOKEN, span, tk, gen);
            Some(hex(&tk[..tk.len().min(4)]) + "…")
        }
        (Some(CoreField::MessageId), Value::U32(x)) => {
            put(t, &HF_MESSAGE_ID, span, x, gen);
            Some(x.to_string())
        }
        (Some(CoreField::Status), Value::U8(x)) => {
            put(t, &HF_STATUS, span, x, gen);
            Some(x.to_string())
        }
        (Some(CoreField::Timestamp), ref tv) => {
            if let Some(tm) = value_time(tv) {
                put(t, &HF_TIMESTAMP, span, tm, gen);
            }
            None
        }
        (Some(CoreField::Expiry), ref tv) => {
            if let Some(tm) = value_time(tv) {
                put(t, &HF_EXPIRY, span, tm, gen);
            }
            None
        }
        (Some(CoreField::Nonce), Value::Nonce { version, time_ms, random }) => {
            let n = put(t, &HF_NONCE, span, raw, gen);
            let nt = n.subtree(&ETT_NONCE);
            if !gen {
                nt.add(&HF_NONCE_VERSION, sub(span, nonce_at::VERSION), version);
                nt.add(&HF_NONCE_TIME, sub(span, nonce_at::TIME_MS), time_from_ns(i128::from(time_ms) * 1_000_000));
                nt.add(&HF_NONCE_RANDOM, sub(span, nonce_at::RANDOM), &random[..]);
            }
            None
        }
        (Some(f @ (CoreField::OsVersion | CoreField::OsBuild | CoreField::Hardware | CoreField::Carrier)), Value::Text(s)) => {
            let hf = match f {
                CoreField::OsVersion => &HF_OS_VERSION,
                CoreField::OsBuild => &HF_OS_BUILD,
                CoreField::Hardware => &HF_HARDWARE,
                _ => &HF_CARRIER,
            };
            put(t, hf, span, s, gen);
            Some(format!("\"{s}\""))
        }
        (Some(CoreField::Interface), Value::Interface(i)) => {
            put(t, &HF_INTERFACE, span, i.code(), gen);
            Some(i.name().to_string())
        }
        (Some(CoreField::KeepaliveInterval), ref kv) => kv.as_uint().map(|x| {
            put(t, &HF_KEEPALIVE_INTERVAL, span, u32::try_from(x).unwrap_or(u32::MAX), gen);
            format!("{x} min")
        }),
        (None, Value::Text(s)) if def.kind == Kind::TopicHashOrText => {
            put(t, &HF_TOPIC, span, s, gen);
            topic = Some(s.to_string());
            Some(s.to_string())
        }
        (None, val) => {
            let item = CoreItem {
                id,
                length: u16::try_from(raw.len()).unwrap_or(u16::MAX),
                span: v.at,
                value_span: span,
                raw,
                def: Some(def),
                value: val,
                truncated: false,
            };
            let s = show_item_field(t, ctx.command, &item, val);
            match (def.kind, val) {
                (k @ (Kind::ChannelList | Kind::Channel), Value::Bytes(b)) => {
                    let place = match v.node {
                        Node::Data(loc) if loc.in_packet() => Place::At(loc.span.offset),
                        _ => Place::Generated(v.at),
                    };
                    ch::show(t, k, b, place).or(s)
                }
                _ => s,
            }
        }
        _ => None,
    };
    (summary, topic)
}

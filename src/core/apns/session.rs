//! Per-connection state: request/response links and a session summary.
//!
//! Pure and epan-free. The dissector feeds every parsed message in capture order (first
//! pass) with its frame number, its index among the messages of that frame, its time and
//! its direction. Feeding is idempotent: a position at or before the last one fed is
//! ignored, so a second pass changes nothing. Every map is bounded; when a cap is hit the
//! new entry is dropped and a flag in [`Caps`] is set.
//!
//! Links:
//! - Message (0x0A) ↔ Message Ack (0x0B) by message id (item 4); the ack must travel the
//!   other way.
//! - Connect 0x07 ↔ 0x08, Keep-Alive 0x0C ↔ 0x0D and Scoped Token 0x11 ↔ 0x12, in order
//!   (first unanswered request gets the next response travelling the other way).
//! - Channel Subscription 0x1D ↔ its confirmation 0x1D by the subscription index (item 1;
//!   the confirmation carries a status, item 4, and travels the other way), as rustpush's
//!   `subscribe_channels` waits for it.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::items::{Command, Interface, Value};
use super::message::Message;

crate::value_enum! {
    /// Which way a message travelled.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Dir: u8 {
        ToServer = 0 => "Device to server";
        ToDevice = 1 => "Server to device";
    }
}

impl Dir {
    pub const fn opposite(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToDevice,
            Dir::ToDevice => Dir::ToServer,
        }
    }
}

/// A message's place in the capture: frame number and index among that frame's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Pos {
    pub frame: u32,
    pub index: u16,
}

impl Pos {
    pub const fn new(frame: u32, index: u16) -> Self {
        Pos { frame, index }
    }
}

/// What a message is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Link {
    /// For a request: the frame of its response/ack.
    pub ack_in: Option<u32>,
    /// For a response/ack: the frame of its request.
    pub ack_to: Option<u32>,
    /// For a response/ack: time since the request, in nanoseconds.
    pub ack_time_ns: Option<i64>,
}

/// Limits.
pub const MAX_LINKS: usize = 1 << 18;
pub const MAX_PENDING: usize = 1 << 14;
pub const MAX_QUEUE: usize = 256;
pub const MAX_TOPICS: usize = 4096;
/// Longest text kept in the summary (longer ones are cut at a char boundary).
pub const MAX_TEXT: usize = 128;

/// Most device snapshots kept per connection ([`Session::device_at`]): a device that
/// changes what it says of itself more often than this is shown as of its 64th change.
pub const MAX_DEVICE_SNAPSHOTS: usize = 64;

/// What the device has said of itself by some point of the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Device {
    pub token: Option<[u8; 32]>,
    pub os_version: Option<String>,
    pub os_build: Option<String>,
    pub hardware: Option<String>,
    pub carrier: Option<String>,
}

impl Device {
    pub fn is_empty(&self) -> bool {
        *self == Device::default()
    }
}

/// Which caps were hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Caps {
    pub links: bool,
    pub pending: bool,
    pub queue: bool,
    pub topics: bool,
}

/// The list a Filter Topics message put a topic in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicList {
    Enabled,
    Ignored,
    Opportunistic,
    Paused,
    NonWaking,
}

/// What the session is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// What the device says of itself (the latest values).
    pub device: Device,
    pub interface: Option<Interface>,
    pub keepalive_interval: Option<u64>,
    /// Status of the last Connect Response.
    pub connect_status: Option<u8>,
    /// Count of messages per command byte.
    pub commands: [u32; 256],
    pub messages_to_device: u64,
    pub messages_to_server: u64,
    pub acks_matched: u64,
    /// Topics from Filter Topics, with the list each was last put in.
    pub topics: BTreeMap<[u8; 20], TopicList>,
    /// Messages (0x0A) per topic hash.
    pub message_topics: BTreeMap<[u8; 20], u32>,
}

impl Default for Summary {
    fn default() -> Self {
        Summary {
            device: Device::default(),
            interface: None,
            keepalive_interval: None,
            connect_status: None,
            commands: [0; 256],
            messages_to_device: 0,
            messages_to_server: 0,
            acks_matched: 0,
            topics: BTreeMap::new(),
            message_topics: BTreeMap::new(),
        }
    }
}

impl Summary {
    pub fn count(&self, c: Command) -> u32 {
        self.commands[usize::from(c.code())]
    }
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    pos: Pos,
    time_ns: i64,
}

/// The in-order request/response pairs.
const PAIRS: [(Command, Command); 3] = [
    (Command::Connect, Command::ConnectResponse),
    (Command::KeepAlive, Command::KeepAliveAck),
    (Command::ScopedTokenRequest, Command::ScopedTokenResponse),
];

/// State of one courier connection.
#[derive(Debug, Clone, Default)]
pub struct Session {
    last: Option<Pos>,
    links: BTreeMap<Pos, Link>,
    pending_msgs: HashMap<(Dir, u32), Pending>,
    pending_subs: HashMap<(Dir, u32), Pending>,
    queues: [VecDeque<(Dir, Pending)>; 3],
    pub summary: Summary,
    pub caps: Caps,
    /// What the device had said of itself, from each position where that changed.
    devices: Vec<(Pos, Device)>,
}

fn cut_text(s: &str) -> String {
    if s.len() <= MAX_TEXT {
        return s.to_owned();
    }
    let mut end = MAX_TEXT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed one message. Returns `false` (and changes nothing) if `pos` is not after the
    /// last position fed.
    pub fn feed(&mut self, pos: Pos, time_ns: i64, dir: Dir, msg: &Message<'_>) -> bool {
        if self.last.is_some_and(|l| pos <= l) {
            return false;
        }
        self.last = Some(pos);
        self.count(dir, msg);
        self.snapshot_device(pos);
        self.match_acks(pos, time_ns, dir, msg);
        self.match_pairs(pos, time_ns, dir, msg.command);
        true
    }

    /// What the device had said of itself by the message at `pos` (the same in every pass:
    /// a later pass does not show what was learned only after `pos`).
    pub fn device_at(&self, pos: Pos) -> Option<&Device> {
        let i = self.devices.partition_point(|(p, _)| *p <= pos);
        i.checked_sub(1).map(|i| &self.devices[i].1)
    }

    fn snapshot_device(&mut self, pos: Pos) {
        let now = &self.summary.device;
        let changed = self.devices.last().map_or(!now.is_empty(), |(_, d)| d != now);
        if changed && self.devices.len() < MAX_DEVICE_SNAPSHOTS {
            self.devices.push((pos, now.clone()));
        }
    }

    /// The links of the message at `pos`.
    pub fn link(&self, pos: Pos) -> Option<&Link> {
        self.links.get(&pos)
    }

    /// The links of every message of a frame, by index.
    pub fn links_in_frame(&self, frame: u32) -> impl Iterator<Item = (u16, &Link)> + '_ {
        self.links
            .range(Pos::new(frame, 0)..=Pos::new(frame, u16::MAX))
            .map(|(p, l)| (p.index, l))
    }

    /// Messages (0x0A) still waiting for an ack.
    pub fn unacked(&self) -> usize {
        self.pending_msgs.len()
    }

    fn link_mut(&mut self, pos: Pos) -> Option<&mut Link> {
        if !self.links.contains_key(&pos) && self.links.len() >= MAX_LINKS {
            self.caps.links = true;
            return None;
        }
        Some(self.links.entry(pos).or_default())
    }

    fn connect(&mut self, req: Pending, pos: Pos, time_ns: i64) {
        if let Some(l) = self.link_mut(req.pos) {
            l.ack_in = Some(pos.frame);
        }
        if let Some(l) = self.link_mut(pos) {
            l.ack_to = Some(req.pos.frame);
            l.ack_time_ns = Some(time_ns.saturating_sub(req.time_ns));
        }
    }

    fn match_subscriptions(&mut self, pos: Pos, time_ns: i64, dir: Dir, msg: &Message<'_>) {
        if msg.command != Command::SubscribeChannels {
            return;
        }
        let Some(index) = msg.item(1).and_then(|i| i.value.as_uint()).and_then(|x| u32::try_from(x).ok()) else { return };
        if msg.item(4).is_none() {
            if !self.pending_subs.contains_key(&(dir, index)) && self.pending_subs.len() >= MAX_PENDING {
                self.caps.pending = true;
                return;
            }
            self.pending_subs.insert((dir, index), Pending { pos, time_ns });
        } else if let Some(req) = self.pending_subs.remove(&(dir.opposite(), index)) {
            self.connect(req, pos, time_ns);
        }
    }

    fn match_acks(&mut self, pos: Pos, time_ns: i64, dir: Dir, msg: &Message<'_>) {
        self.match_subscriptions(pos, time_ns, dir, msg);
        let Some(id) = msg.message_id() else { return };
        match msg.command {
            Command::Message => {
                let key = (dir, id);
                if !self.pending_msgs.contains_key(&key) && self.pending_msgs.len() >= MAX_PENDING {
                    self.caps.pending = true;
                    return;
                }
                // A repeated id replaces the older one (retransmission at this layer).
                self.pending_msgs.insert(key, Pending { pos, time_ns });
            }
            Command::MessageAck => {
                if let Some(req) = self.pending_msgs.remove(&(dir.opposite(), id)) {
                    self.summary.acks_matched += 1;
                    self.connect(req, pos, time_ns);
                }
            }
            _ => {}
        }
    }

    fn match_pairs(&mut self, pos: Pos, time_ns: i64, dir: Dir, cmd: Command) {
        for (i, (req, resp)) in PAIRS.iter().enumerate() {
            if cmd == *req {
                let q = &mut self.queues[i];
                if q.len() >= MAX_QUEUE {
                    self.caps.queue = true;
                } else {
                    q.push_back((dir, Pending { pos, time_ns }));
                }
            } else if cmd == *resp {
                let q = &mut self.queues[i];
                if let Some(at) = q.iter().position(|(d, _)| *d == dir.opposite()) {
                    if let Some((_, p)) = q.remove(at) {
                        self.connect(p, pos, time_ns);
                    }
                }
            }
        }
    }

    fn count(&mut self, dir: Dir, msg: &Message<'_>) {
        let s = &mut self.summary;
        let c = &mut s.commands[usize::from(msg.command.code())];
        *c = c.saturating_add(1);
        match msg.command {
            Command::Message => {
                match dir {
                    Dir::ToDevice => s.messages_to_device += 1,
                    Dir::ToServer => s.messages_to_server += 1,
                }
                if let Some(h) = msg.topic_hash() {
                    if let Some(n) = s.message_topics.get_mut(h) {
                        *n = n.saturating_add(1);
                    } else if s.message_topics.len() < MAX_TOPICS {
                        s.message_topics.insert(*h, 1);
                    } else {
                        self.caps.topics = true;
                    }
                }
            }
            Command::Connect | Command::KeepAlive => {
                for item in &msg.items {
                    let text = |v: &Value<'_>| match v {
                        Value::Text(t) => Some(cut_text(t)),
                        _ => None,
                    };
                    match (item.key(), &item.value) {
                        ("push_token", Value::Token(t)) => {
                            if let Ok(t) = <[u8; 32]>::try_from(*t) {
                                s.device.token = Some(t);
                            }
                        }
                        ("os_version", v) => s.device.os_version = text(v).or(s.device.os_version.take()),
                        ("os_build", v) => s.device.os_build = text(v).or(s.device.os_build.take()),
                        ("hardware", v) => s.device.hardware = text(v).or(s.device.hardware.take()),
                        ("carrier", v) => s.device.carrier = text(v).or(s.device.carrier.take()),
                        ("interface", Value::Interface(i)) => s.interface = Some(*i),
                        ("keepalive_interval", v) => {
                            if let Some(x) = v.as_uint() {
                                s.keepalive_interval = Some(x);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Command::ConnectResponse => {
                for item in &msg.items {
                    match (item.key(), &item.value) {
                        ("status", Value::U8(x)) => s.connect_status = Some(*x),
                        ("push_token", Value::Token(t)) => {
                            if let Ok(t) = <[u8; 32]>::try_from(*t) {
                                s.device.token = Some(t);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Command::FilterTopics => {
                for item in &msg.items {
                    let list = match item.key() {
                        "enabled_topic" => TopicList::Enabled,
                        "ignored_topic" => TopicList::Ignored,
                        "opportunistic_topic" => TopicList::Opportunistic,
                        "paused_topic" => TopicList::Paused,
                        "non_waking_topic" => TopicList::NonWaking,
                        _ => continue,
                    };
                    if let Value::TopicHash(h) = item.value {
                        if s.topics.contains_key(h) || s.topics.len() < MAX_TOPICS {
                            s.topics.insert(*h, list);
                        } else {
                            self.caps.topics = true;
                        }
                    }
                }
            }
            _ => {}
        }
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::apns::message::parse_message;

    fn msg(cmd: u8, items: &[(u8, &[u8])]) -> Vec<u8> {
        let mut p = Vec::new();
        for (id, v) in items {
            p.push(*id);
            p.extend_from_slice(&(v.len() as u16).to_be_bytes());
            p.extend_from_slice(v);
        }
        let mut out = vec![cmd];
        out.extend_from_slice(&(p.len() as u32).to_be_bytes());
        out.extend(p);
        out
    }

    const TOKEN: [u8; 32] = [0xAB; 32];
    const MADRID: [u8; 20] = [
        0xe4, 0xe6, 0xd9, 0x52, 0x95, 0x41, 0x68, 0xd0, 0xa5, 0xdb, 0x02, 0xdb, 0xaf, 0x27, 0xcc,
        0x35, 0xfc, 0x18, 0xd1, 0x59,
    ];

    fn feed(s: &mut Session, frame: u32, idx: u16, t: i64, dir: Dir, bytes: &[u8]) -> bool {
        let m = parse_message(bytes).unwrap();
        s.feed(Pos::new(frame, idx), t, dir, &m)
    }

    /// rustpush `subscribe_channels`: the confirmation with the same index (and the other
    /// direction) answers the subscription; another index does not.
    #[test]
    fn subscription_links_by_index() {
        let tok = [7u8; 32];
        let sub = |i: u32| msg(0x1D, &[(1, &i.to_be_bytes()), (2, &[0x08, 0x01]), (3, &tok)]);
        let conf = |i: u32| msg(0x1D, &[(1, &i.to_be_bytes()), (3, &tok), (4, &[0])]);
        let mut s = Session::new();
        s.feed(Pos::new(1, 0), 100, Dir::ToServer, &parse_message(&sub(1)).unwrap());
        s.feed(Pos::new(2, 0), 150, Dir::ToServer, &parse_message(&sub(2)).unwrap());
        s.feed(Pos::new(3, 0), 400, Dir::ToDevice, &parse_message(&conf(2)).unwrap());
        s.feed(Pos::new(4, 0), 500, Dir::ToDevice, &parse_message(&conf(9)).unwrap());
        assert_eq!(s.link(Pos::new(2, 0)).unwrap().ack_in, Some(3));
        assert_eq!(s.link(Pos::new(3, 0)).unwrap().ack_to, Some(2));
        assert_eq!(s.link(Pos::new(3, 0)).unwrap().ack_time_ns, Some(250));
        assert!(s.link(Pos::new(1, 0)).is_none());
        assert!(s.link(Pos::new(4, 0)).is_none());
    }

    #[test]
    fn message_ack_matching() {
        let mut s = Session::new();
        let m7 = msg(0x0A, &[(1, &TOKEN), (2, &MADRID), (4, &[0, 0, 0, 7])]);
        let m8_up = msg(0x0A, &[(1, &MADRID), (2, &TOKEN), (4, &[0, 0, 0, 8])]);
        // An ack travelling the same way as message 7 must not match it.
        let ack7_wrong = msg(0x0B, &[(4, &[0, 0, 0, 7]), (8, &[0])]);
        assert!(feed(&mut s, 1, 0, 1_000, Dir::ToDevice, &m7));
        assert!(feed(&mut s, 1, 1, 1_000, Dir::ToServer, &m8_up));
        assert!(feed(&mut s, 2, 0, 2_000, Dir::ToDevice, &ack7_wrong));
        assert_eq!(s.link(Pos::new(1, 0)), None);
        // The right one.
        assert!(feed(&mut s, 3, 0, 5_000, Dir::ToServer, &ack7_wrong));
        assert_eq!(
            s.link(Pos::new(1, 0)),
            Some(&Link {
                ack_in: Some(3),
                ack_to: None,
                ack_time_ns: None
            })
        );
        assert_eq!(
            s.link(Pos::new(3, 0)),
            Some(&Link {
                ack_in: None,
                ack_to: Some(1),
                ack_time_ns: Some(4_000)
            })
        );
        let ack8 = msg(0x0B, &[(4, &[0, 0, 0, 8]), (8, &[0])]);
        assert!(feed(&mut s, 4, 0, 9_000, Dir::ToDevice, &ack8));
        assert_eq!(s.link(Pos::new(4, 0)).unwrap().ack_to, Some(1));
        let in1: Vec<u16> = s.links_in_frame(1).map(|(i, _)| i).collect();
        assert_eq!(in1, [0, 1]);
        assert_eq!(s.summary.acks_matched, 2);
        assert_eq!(s.summary.messages_to_device, 1);
        assert_eq!(s.summary.messages_to_server, 1);
        assert_eq!(s.summary.message_topics.get(&MADRID), Some(&2));
        assert_eq!(s.unacked(), 0);
        // Idempotent: re-feeding changes nothing.
        let before = s.summary.clone();
        assert!(!feed(&mut s, 3, 0, 5_000, Dir::ToServer, &ack7_wrong));
        assert!(!feed(&mut s, 1, 0, 1_000, Dir::ToDevice, &m7));
        assert_eq!(s.summary, before);
    }

    #[test]
    fn keepalive_in_order_and_summary() {
        let mut s = Session::new();
        let connect = msg(
            0x07,
            &[
                (1, &TOKEN),
                (2, &[1]),
                (6, &[1]),
                (8, b"WiFi"),
                (9, b"17.0"),
                (10, b"21A329"),
                (11, b"iPhone15,2"),
            ],
        );
        let resp = msg(0x08, &[(1, &[0]), (4, &[0x10, 0])]);
        let filter = msg(0x09, &[(1, &TOKEN), (2, &MADRID), (3, &[0x11; 20])]);
        let ka = msg(0x0C, &[(1, b"WiFi"), (2, b"17.1"), (5, &[0, 20])]);
        let kack = msg(0x0D, &[]);
        feed(&mut s, 1, 0, 0, Dir::ToServer, &connect);
        feed(&mut s, 2, 0, 10, Dir::ToDevice, &resp);
        feed(&mut s, 3, 0, 20, Dir::ToServer, &filter);
        feed(&mut s, 4, 0, 100, Dir::ToServer, &ka);
        feed(&mut s, 5, 0, 200, Dir::ToServer, &ka);
        feed(&mut s, 6, 0, 300, Dir::ToDevice, &kack);
        feed(&mut s, 7, 0, 450, Dir::ToDevice, &kack);
        feed(&mut s, 8, 0, 500, Dir::ToDevice, &kack); // unanswered-for ack: no link
        assert_eq!(s.link(Pos::new(1, 0)).unwrap().ack_in, Some(2));
        assert_eq!(s.link(Pos::new(2, 0)).unwrap().ack_time_ns, Some(10));
        assert_eq!(s.link(Pos::new(4, 0)).unwrap().ack_in, Some(6));
        assert_eq!(s.link(Pos::new(5, 0)).unwrap().ack_in, Some(7));
        assert_eq!(s.link(Pos::new(7, 0)).unwrap().ack_time_ns, Some(250));
        assert_eq!(s.link(Pos::new(8, 0)), None);
        let sum = &s.summary;
        assert_eq!(sum.device.token, Some(TOKEN));
        assert_eq!(sum.device.os_version.as_deref(), Some("17.1")); // keep-alive updates it
        assert_eq!(sum.device.os_build.as_deref(), Some("21A329"));
        assert_eq!(sum.device.hardware.as_deref(), Some("iPhone15,2"));
        assert_eq!(sum.device.carrier.as_deref(), Some("WiFi"));
        assert_eq!(sum.interface, Some(Interface::WiFi));
        assert_eq!(sum.keepalive_interval, Some(20));
        assert_eq!(sum.connect_status, Some(0));
        assert_eq!(sum.count(Command::KeepAlive), 2);
        assert_eq!(sum.count(Command::KeepAliveAck), 3);
        assert_eq!(sum.topics.get(&MADRID), Some(&TopicList::Enabled));
        assert_eq!(sum.topics.get(&[0x11; 20]), Some(&TopicList::Ignored));
    }

    #[test]
    fn pending_is_bounded() {
        let mut s = Session::new();
        for i in 0..(MAX_PENDING as u32 + 5) {
            let m = msg(0x0A, &[(4, &i.to_be_bytes())]);
            feed(&mut s, i + 1, 0, 0, Dir::ToDevice, &m);
        }
        assert_eq!(s.unacked(), MAX_PENDING);
        assert!(s.caps.pending);
    }

    #[test]
    fn long_text_is_cut_on_char_boundary() {
        let t = "é".repeat(100); // 200 bytes
        assert!(cut_text(&t).len() <= MAX_TEXT);
        assert!(cut_text(&t).chars().all(|c| c == 'é'));
    }

    #[test]
    fn device_as_known_at_each_position() {
        let mut s = Session::new();
        let connect = msg(0x07, &[(1, &TOKEN), (8, b"WiFi"), (9, b"17.0"), (11, b"iPhone15,2")]);
        let filter = msg(0x09, &[(1, &TOKEN), (2, &MADRID)]);
        let ka = msg(0x0C, &[(1, b"310260"), (2, b"17.1"), (5, &[0, 20])]);
        assert!(feed(&mut s, 1, 0, 0, Dir::ToDevice, &msg(0x0D, &[])));
        feed(&mut s, 2, 0, 0, Dir::ToServer, &connect);
        feed(&mut s, 3, 0, 10, Dir::ToServer, &filter);
        feed(&mut s, 4, 0, 20, Dir::ToServer, &ka);
        feed(&mut s, 5, 0, 30, Dir::ToServer, &ka);
        assert_eq!(s.device_at(Pos::new(1, 0)), None, "nothing said yet");
        let at2 = s.device_at(Pos::new(2, 0)).unwrap();
        assert_eq!((at2.os_version.as_deref(), at2.carrier.as_deref(), at2.hardware.as_deref()), (Some("17.0"), Some("WiFi"), Some("iPhone15,2")));
        assert_eq!(at2.token, Some(TOKEN));
        assert_eq!(s.device_at(Pos::new(3, 0)), Some(at2), "a Filter Topics changes nothing");
        let at4 = s.device_at(Pos::new(4, 0)).unwrap();
        assert_eq!((at4.os_version.as_deref(), at4.carrier.as_deref(), at4.hardware.as_deref()), (Some("17.1"), Some("310260"), Some("iPhone15,2")));
        assert_eq!(s.device_at(Pos::new(5, 0)), Some(at4));
        assert_eq!(s.devices.len(), 2, "a snapshot only where something changed");
    }

    #[test]
    fn device_snapshots_are_bounded() {
        let mut s = Session::new();
        for i in 0..(MAX_DEVICE_SNAPSHOTS as u32 + 10) {
            let v = format!("17.{i}");
            feed(&mut s, i + 1, 0, 0, Dir::ToServer, &msg(0x0C, &[(2, v.as_bytes())]));
        }
        assert_eq!(s.devices.len(), MAX_DEVICE_SNAPSHOTS);
        let last = s.device_at(Pos::new(10_000, 0)).unwrap();
        assert_eq!(last.os_version.as_deref(), Some(format!("17.{}", MAX_DEVICE_SNAPSHOTS - 1).as_str()));
    }
}

//! `tshark -z apns,tree` (Statistics → APNs Connections): per courier connection, commands by
//! type, topics subscribed, messages each way and answer times.
//!
//! One [`Record`] is queued per message on the `apns` tap, and counted by [`tally`].
use crate::core::apns::ids::{self, Brief};
use crate::core::apns::{Command, Dir, Message, Value};
use crate::epan::tap::{no_init, Nodes, StatsTree, Tap};
use crate::epan::Packet;

/// What the statistics learn from one message.
pub struct Record {
    /// "Device <addr:port> - server <addr:port>".
    conn: String,
    /// "Messages to server" / "Messages to device".
    dir: &'static str,
    /// The command's name ("Unknown 0x.." for an unknown one).
    command: String,
    /// Answer time in µs, when this message answers an earlier one.
    ack_us: Option<i64>,
    /// The topics a Filter Topics command subscribed.
    topics: Vec<String>,
    /// The IDS command of a Message's payload ("Delivery receipt (101)").
    ids: Option<String>,
    /// The relay server a quick relay response names ("17.1.2.3:3478").
    relay: Option<String>,
}

static TAP: Tap<Record> = Tap::new(c"apns");
static TREE: StatsTree<Record> = StatsTree::new(&TAP, c"apns", c"APNs Connections", no_init, tally);

pub fn register() {
    TAP.register();
    TREE.register();
}

fn tally(st: &Nodes<'_>, r: &Record) {
    let c = st.tick(&r.conn, Nodes::ROOT, true);
    let cmds = st.tick("Commands", c, true);
    st.tick(&r.command, cmds, true);
    if r.command == Command::Message.name() {
        st.tick(r.dir, c, true);
    }
    if let Some(us) = r.ack_us {
        st.avg("Answer time (ms)", c, false, i32::try_from(us / 1000).unwrap_or(i32::MAX));
    }
    if let Some(name) = &r.ids {
        let t = st.tick("IDS commands", c, true);
        st.tick(name, t, true);
    }
    if let Some(s) = &r.relay {
        let t = st.tick("Relay servers", c, true);
        st.tick(s, t, true);
    }
    // One count per topic subscribed.
    for name in &r.topics {
        let t = st.tick("Topics subscribed", c, true);
        st.tick(name, t, true);
    }
}

/// Queues this message for the statistics (only when a listener wants it).
pub fn tap(pkt: &Packet<'_>, m: &Message<'_>, dir: Dir, ack_ns: Option<i64>, ids_brief: Option<&Brief>) {
    if !TAP.listening() {
        return;
    }
    let (dev, srv) = match dir {
        Dir::ToServer => ((pkt.src(), pkt.src_port()), (pkt.dst(), pkt.dst_port())),
        Dir::ToDevice => ((pkt.dst(), pkt.dst_port()), (pkt.src(), pkt.src_port())),
    };
    let ep = |(a, p): (Option<std::net::IpAddr>, u16)| match a {
        Some(std::net::IpAddr::V6(a)) => format!("[{a}]:{p}"),
        Some(a) => format!("{a}:{p}"),
        None => format!("?:{p}"),
    };
    let conn = format!("Device {} - server {}", ep(dev), ep(srv));
    let dir_s = match dir {
        Dir::ToServer => "Messages to server",
        Dir::ToDevice => "Messages to device",
    };
    let command = if m.command.is_known() { m.command.name().to_string() } else { format!("Unknown 0x{:02x}", m.command.code()) };
    let ids_c = ids_brief.and_then(|b| b.command).map(|c| match ids::command_name(c) {
        Some(n) => format!("{n} ({c})"),
        None => format!("Command {c}"),
    });
    let relay = ids_brief.and_then(|b| b.server).map(|(a, p)| match a {
        std::net::IpAddr::V6(a) => format!("[{a}]:{p}"),
        a => format!("{a}:{p}"),
    });
    let mut topics = Vec::new();
    if m.command == Command::FilterTopics {
        for i in &m.items {
            if let (Value::TopicHash(h), "enabled_topic") = (i.value, i.key()) {
                let name = super::topic_name(h).unwrap_or_else(|| h.iter().map(|x| format!("{x:02x}")).collect());
                // A tab in a (user-given) topic name shows as a space, as it always has.
                topics.push(name.replace('\t', " "));
            }
        }
    }
    TAP.queue(pkt, Record { conn, dir: dir_s, command, ack_us: ack_ns.map(|n| n / 1000), topics, ids: ids_c, relay });
}

//! `tshark -z apns,tree` (Statistics → APNs courier): per courier connection, commands by
//! type, topics subscribed, messages each way and answer times.
//!
//! The record queued per message is tab-separated text: connection, direction, command
//! name, answer time in µs (or empty), then the topics it subscribed (Filter Topics).
use crate::core::apns::{Command, Dir, Message, Value};
use crate::epan::stats_tree::{register_tree, StatsTree, Tap};
use crate::epan::Packet;

static TAP: Tap = Tap::new();

pub fn register() {
    TAP.register(c"apns");
    register_tree(c"apns", c"apns", c"APNs courier");
}

fn handle(st: &StatsTree<'_>, rec: &[u8]) {
    let text = String::from_utf8_lossy(rec);
    let mut f = text.split('\t');
    let (Some(conn), Some(dir), Some(cmd), Some(ack_us)) = (f.next(), f.next(), f.next(), f.next()) else { return };
    let c = st.tick(conn, StatsTree::ROOT);
    let cmds = st.tick("Commands", c);
    st.tick(cmd, cmds);
    if cmd == Command::Message.name() {
        st.tick(dir, c);
    }
    if let Ok(us) = ack_us.parse::<i64>() {
        st.avg("Answer time (ms)", c, i32::try_from(us / 1000).unwrap_or(i32::MAX));
    }
    // One count per topic subscribed.
    for name in f {
        let t = st.tick("Topics subscribed", c);
        st.tick(name, t);
    }
}

/// Queues this message for the statistics (only when a listener wants it).
pub fn tap(pkt: &Packet<'_>, m: &Message<'_>, dir: Dir, ack_ns: Option<i64>) {
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
    let cmd = if m.command.is_known() { m.command.name().to_string() } else { format!("Unknown 0x{:02x}", m.command.code()) };
    let mut rec = format!("{conn}\t{dir_s}\t{cmd}\t{}", ack_ns.map(|n| (n / 1000).to_string()).unwrap_or_default());
    if m.command == Command::FilterTopics {
        for i in &m.items {
            if let (Value::TopicHash(h), "enabled_topic") = (i.value, i.key()) {
                let name = super::topic_name(h).unwrap_or_else(|| h.iter().map(|x| format!("{x:02x}")).collect());
                rec.push('\t');
                rec.push_str(&name.replace('\t', " "));
            }
        }
    }
    TAP.queue(pkt, rec.as_bytes(), handle);
}

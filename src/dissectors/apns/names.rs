//! User topic names: the `apns_topics` table (Preferences → Protocols → APNs → Topic names,
//! or `-o "uat:apns_topics:\"com.example.topic\""`). Each name is hashed with SHA-1 and
//! resolves `apns.topic` like the built-in ones.
use crate::core::apns::TopicTable;
use crate::epan::uat::register_name_list;
use crate::epan::Protocol;
use once_cell::sync::Lazy;
use std::sync::RwLock;

static USER: Lazy<RwLock<TopicTable>> = Lazy::new(|| RwLock::new(TopicTable::new()));

/// Topics the user added (the built-in ones are looked up first).
pub fn user_topics() -> &'static RwLock<TopicTable> {
    &USER
}

fn on_update(names: &[String]) {
    let mut t = TopicTable::new();
    for n in names {
        let _ = t.add(n); // empty, too long or over the cap: skipped
    }
    if let Ok(mut g) = USER.write() {
        *g = t;
    }
}

pub fn register_uat(proto: &'static Protocol) {
    register_name_list(
        proto,
        c"topics",
        c"apns_topics",
        c"APNs topic names",
        c"Topic names (such as com.example.app) to resolve topic hashes, in addition to the built-in list",
        c"Topic",
        c"A topic name; its SHA-1 is what the courier protocol sends",
        on_update,
    );
}

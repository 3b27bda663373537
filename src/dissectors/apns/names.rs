//! User topic names: the `apns_topics` UAT table (Preferences → Protocols → APNs).
use crate::core::apns::TopicTable;
use crate::epan::Protocol;
use once_cell::sync::Lazy;
use std::sync::RwLock;

static USER: Lazy<RwLock<TopicTable>> = Lazy::new(|| RwLock::new(TopicTable::new()));

/// Topics the user added (the built-in ones are looked up first).
pub fn user_topics() -> &'static RwLock<TopicTable> {
    &USER
}

pub fn register_uat(_proto: &'static Protocol) {}

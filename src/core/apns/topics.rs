//! Topic names and their SHA-1 hashes.
//!
//! A topic is named by a reverse-DNS string and sent as its SHA-1 (20 bytes). The built-in
//! names live in `topics.txt` (with their sources); the table hashes them at start-up.

use std::collections::HashMap;

use once_cell::sync::Lazy;
use sha1::{Digest, Sha1};

/// The built-in names, one per line ('#' comments and blank lines ignored).
pub const TOPICS_TXT: &str = include_str!("topics.txt");

/// User-added names are capped at this many (the built-in list is not counted).
pub const MAX_USER_TOPICS: usize = 65536;
/// Longest name accepted by [`TopicTable::add`].
pub const MAX_TOPIC_LEN: usize = 1024;

/// SHA-1 of a topic name.
pub fn topic_hash(name: &str) -> [u8; 20] {
    Sha1::digest(name.as_bytes()).into()
}

/// The names of `TOPICS_TXT`, trimmed, comments and blanks skipped.
pub fn builtin_names() -> impl Iterator<Item = &'static str> {
    TOPICS_TXT
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Hash → name.
#[derive(Debug, Clone, Default)]
pub struct TopicTable {
    map: HashMap<[u8; 20], Box<str>>,
    user_added: usize,
}

/// Why [`TopicTable::add`] refused a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddError {
    Empty,
    TooLong,
    Full,
}

impl TopicTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table holding every built-in name.
    pub fn with_builtin() -> Self {
        let mut t = TopicTable {
            map: HashMap::with_capacity(512),
            user_added: 0,
        };
        for name in builtin_names() {
            t.map.entry(topic_hash(name)).or_insert_with(|| name.into());
        }
        t
    }

    /// Add a user-supplied name (trimmed); returns its hash.
    pub fn add(&mut self, name: &str) -> Result<[u8; 20], AddError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(AddError::Empty);
        }
        if name.len() > MAX_TOPIC_LEN {
            return Err(AddError::TooLong);
        }
        let h = topic_hash(name);
        if !self.map.contains_key(&h) {
            if self.user_added >= MAX_USER_TOPICS {
                return Err(AddError::Full);
            }
            self.user_added += 1;
            self.map.insert(h, name.into());
        }
        Ok(h)
    }

    /// Add every name of a text in the `topics.txt` format; returns how many were taken.
    pub fn add_lines(&mut self, text: &str) -> usize {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .filter(|l| self.add(l).is_ok())
            .count()
    }

    /// The name of a 20-byte hash.
    pub fn lookup(&self, hash: &[u8; 20]) -> Option<&str> {
        self.map.get(hash).map(|s| &**s)
    }

    /// The name of a hash given as a slice (`None` unless it is 20 bytes and known).
    pub fn lookup_slice(&self, hash: &[u8]) -> Option<&str> {
        self.lookup(<&[u8; 20]>::try_from(hash).ok()?)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// The built-in table, built on first use.
pub static BUILTIN: Lazy<TopicTable> = Lazy::new(TopicTable::with_builtin);

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> [u8; 20] {
        let mut out = [0u8; 20];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn known_hashes() {
        // From the protocol notes; also in mfrister/pushproxy doc/push-topics.md.
        assert_eq!(
            topic_hash("com.apple.madrid"),
            hex("e4e6d952954168d0a5db02dbaf27cc35fc18d159")
        );
        // Computed with python3 hashlib.sha1(name.encode()).hexdigest(); the first two also
        // appear in pushproxy's table.
        assert_eq!(
            topic_hash("com.apple.ess"),
            hex("e85619abd42029c7481a7ac19092bb4690cbee76")
        );
        assert_eq!(
            topic_hash("com.apple.gamed"),
            hex("06cf82e4e6882811305b91e8ea0e1b80c5395f1e")
        );
        assert_eq!(
            topic_hash("com.me.cal"),
            hex("dce593a0ac013016a778712b850dc2cf21af8266")
        );
        assert_eq!(
            topic_hash("com.apple.private.alloy.facetime.video"),
            hex("5dd965355dda3aaba83fb0c6a129c430cde5d01d")
        );
    }

    #[test]
    fn builtin_table() {
        let t = &*BUILTIN;
        assert!(t.len() >= 300, "{}", t.len());
        assert_eq!(
            t.lookup(&hex("e4e6d952954168d0a5db02dbaf27cc35fc18d159")),
            Some("com.apple.madrid")
        );
        assert_eq!(
            t.lookup(&hex("e85619abd42029c7481a7ac19092bb4690cbee76")),
            Some("com.apple.ess")
        );
        assert_eq!(
            t.lookup_slice(&hex("06cf82e4e6882811305b91e8ea0e1b80c5395f1e")),
            Some("com.apple.gamed")
        );
        assert_eq!(t.lookup_slice(&[0; 19]), None);
        assert_eq!(t.lookup(&[0; 20]), None);
        for n in [
            "com.me.contacts",
            "com.me.cal",
            "com.apple.private.alloy.sms",
            "com.apple.private.alloy.facetime.audio",
        ] {
            assert_eq!(t.lookup(&topic_hash(n)), Some(n));
        }
        // No comment line became a name.
        assert!(builtin_names().all(|n| !n.contains(' ') && n.contains('.')));
    }

    #[test]
    fn user_names() {
        let mut t = TopicTable::with_builtin();
        let before = t.len();
        let h = t.add("  dev.example.test  ").unwrap();
        assert_eq!(t.lookup(&h), Some("dev.example.test"));
        assert_eq!(t.len(), before + 1);
        t.add("com.apple.madrid").unwrap(); // already there
        assert_eq!(t.len(), before + 1);
        assert_eq!(t.add("   "), Err(AddError::Empty));
        assert_eq!(
            t.add(&"x".repeat(MAX_TOPIC_LEN + 1)),
            Err(AddError::TooLong)
        );
        assert_eq!(t.add_lines("# c\n\na.b\nc.d\n"), 2);
    }
}

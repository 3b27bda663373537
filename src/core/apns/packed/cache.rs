//! The two caches of one direction of a packed connection: keys (32 entries) and values
//! (bounded by an accounted size), as rustpush's `APSItemCache` with `KeyItemAddBehavior`
//! and `ValueItemAddBehavior` keep them (src/aps.rs). Index 0 is the newest entry.
//!
//! Entries are shared (`Arc`): a frame's record holds the entries it resolved, so a later
//! pass shows them after the live cache has moved on. Memory: the key cache holds at most
//! [`KEY_CACHE_LEN`] entries; the value cache at most its size (≤ [`MAX_VALUE_CACHE_SIZE`]
//! accounted bytes) plus [`MAX_UNCOUNTED_BYTES`] of entries larger than the cache (which
//! rustpush keeps without counting them), plus a graveyard of evicted entries
//! ([`GRAVEYARD_ENTRIES`], [`GRAVEYARD_BYTES`]) so that a reference a larger cache would
//! still hold is resolved (and reported) instead of lost.

use std::collections::VecDeque;
use std::sync::Arc;

/// Entries of the key cache (rustpush: `cache.len() >= 0x20` → drop the oldest).
pub const KEY_CACHE_LEN: usize = 32;
/// Value cache size when nothing else is known (rustpush's `ValueItemAddBehavior` default).
pub const DEFAULT_VALUE_CACHE_SIZE: usize = 0x1000;
/// Bytes every value-cache entry counts beyond its own length.
pub const VALUE_ENTRY_OVERHEAD: usize = 0x20;
/// Largest value cache size believed from an ALPN choice (a larger one is capped).
pub const MAX_VALUE_CACHE_SIZE: usize = 1 << 20;
/// Bytes of entries larger than the cache kept uncounted (rustpush keeps any number).
pub const MAX_UNCOUNTED_BYTES: usize = 1 << 20;
/// Most evicted value entries remembered, and their bytes.
pub const GRAVEYARD_ENTRIES: usize = 256;
pub const GRAVEYARD_BYTES: usize = 64 * 1024;

/// One cached key or value: its bytes (a key, or the encoded value from its tag byte on),
/// its number in this direction's sequence of entries of its kind (0 = the first ever
/// cached), and the frame that put it in.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub bytes: Box<[u8]>,
    pub seq: u32,
    pub frame: u32,
}

pub type EntryRef = Arc<Entry>;

/// The key cache of one direction.
#[derive(Debug, Default, Clone)]
pub struct KeyCache {
    entries: VecDeque<EntryRef>,
    next_seq: u32,
}

impl KeyCache {
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Entry `index` (0 = newest).
    pub fn get(&self, index: usize) -> Option<&EntryRef> {
        let i = self.entries.len().checked_sub(index + 1)?;
        self.entries.get(i)
    }
    /// Adds a key; returns the new entry and the one it pushed out, if any.
    pub fn add(&mut self, bytes: &[u8], frame: u32) -> (EntryRef, Option<EntryRef>) {
        let evicted = if self.entries.len() >= KEY_CACHE_LEN { self.entries.pop_front() } else { None };
        let e = Arc::new(Entry { bytes: bytes.into(), seq: self.next_seq, frame });
        self.next_seq = self.next_seq.wrapping_add(1);
        self.entries.push_back(e.clone());
        (e, evicted)
    }
}

/// What looking up a value index found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueLookup {
    Live(EntryRef),
    /// Past the end of the cache, but an entry this cache evicted (a cache larger than this
    /// one would still hold it).
    Evicted(EntryRef),
    /// Nothing there; `cached` entries are in the cache.
    Missing { cached: u32 },
}

/// What adding a value did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueAdded {
    pub entry: EntryRef,
    /// Entries pushed out by this one.
    pub evicted: u32,
    /// Larger than the whole cache (length + 32 > size): kept without being counted, as
    /// rustpush does.
    pub oversize: bool,
    /// Evicting an uncounted entry took rustpush's size count below zero (rustpush panics
    /// there, or in a release build wraps and then panics on an empty cache); counted as 0.
    pub accounting: bool,
    /// The memory bound made this cache drop entries rustpush would keep.
    pub bounded: bool,
}

/// The value cache of one direction.
#[derive(Debug, Clone)]
pub struct ValueCache {
    /// Oldest first; `true` when counted in `total`.
    entries: VecDeque<(EntryRef, bool)>,
    /// rustpush's `total_size`.
    total: usize,
    max: usize,
    uncounted_bytes: usize,
    graveyard: VecDeque<EntryRef>,
    graveyard_bytes: usize,
    next_seq: u32,
}

impl ValueCache {
    /// A cache of `size` accounted bytes (capped at [`MAX_VALUE_CACHE_SIZE`]).
    pub fn new(size: usize) -> ValueCache {
        ValueCache {
            entries: VecDeque::new(),
            total: 0,
            max: size.min(MAX_VALUE_CACHE_SIZE),
            uncounted_bytes: 0,
            graveyard: VecDeque::new(),
            graveyard_bytes: 0,
            next_seq: 0,
        }
    }
    pub fn size(&self) -> usize {
        self.max
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// rustpush's accounted size of what the cache holds.
    pub fn accounted(&self) -> usize {
        self.total
    }

    /// Entry `index` (0 = newest), or an evicted one past the end.
    pub fn get(&self, index: u64) -> ValueLookup {
        let live = self.entries.len();
        let missing = ValueLookup::Missing { cached: u32::try_from(live).unwrap_or(u32::MAX) };
        let Ok(index) = usize::try_from(index) else { return missing };
        if index < live {
            return ValueLookup::Live(self.entries[live - 1 - index].0.clone());
        }
        match self.graveyard.get(index - live) {
            Some(e) => ValueLookup::Evicted(e.clone()),
            None => missing,
        }
    }

    fn bury(&mut self, e: EntryRef) {
        self.graveyard_bytes += e.bytes.len();
        self.graveyard.push_front(e);
        while self.graveyard.len() > GRAVEYARD_ENTRIES || self.graveyard_bytes > GRAVEYARD_BYTES {
            match self.graveyard.pop_back() {
                Some(old) => self.graveyard_bytes -= old.bytes.len(),
                None => break,
            }
        }
    }

    fn pop_oldest(&mut self) -> Option<(EntryRef, bool)> {
        let (e, counted) = self.entries.pop_front()?;
        if !counted {
            self.uncounted_bytes -= e.bytes.len();
        }
        self.bury(e.clone());
        Some((e, counted))
    }

    /// Adds an encoded value (rustpush `ValueItemAddBehavior::add_item`): an entry that fits
    /// is counted (length + 32) and the oldest entries go until the count is within the
    /// size again; one that does not fit is appended uncounted.
    pub fn add(&mut self, bytes: &[u8], frame: u32) -> ValueAdded {
        let cost = bytes.len() + VALUE_ENTRY_OVERHEAD;
        let mut out = ValueAdded {
            entry: Arc::new(Entry { bytes: bytes.into(), seq: self.next_seq, frame }),
            evicted: 0,
            oversize: cost > self.max,
            accounting: false,
            bounded: false,
        };
        self.next_seq = self.next_seq.wrapping_add(1);
        if !out.oversize {
            self.total += cost;
            while self.total > self.max {
                let Some((old, _)) = self.pop_oldest() else {
                    // rustpush: "Deque empty??" (only after its count went wrong).
                    out.accounting = true;
                    self.total = 0;
                    break;
                };
                out.evicted += 1;
                // rustpush subtracts every evicted entry's cost, counted or not.
                match self.total.checked_sub(old.bytes.len() + VALUE_ENTRY_OVERHEAD) {
                    Some(t) => self.total = t,
                    None => {
                        out.accounting = true;
                        self.total = 0;
                    }
                }
            }
        } else {
            self.uncounted_bytes += bytes.len();
            // Our bound, not rustpush's: drop the oldest uncounted entries beyond it.
            while self.uncounted_bytes > MAX_UNCOUNTED_BYTES {
                let Some(i) = self.entries.iter().position(|(_, c)| !c) else { break };
                if let Some((e, _)) = self.entries.remove(i) {
                    self.uncounted_bytes -= e.bytes.len();
                    out.bounded = true;
                }
            }
        }
        self.entries.push_back((out.entry.clone(), !out.oversize));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_cache_rolls_over_after_32() {
        let mut k = KeyCache::default();
        assert!(k.get(0).is_none());
        for i in 0..32u8 {
            let (e, ev) = k.add(&[i], u32::from(i));
            assert_eq!(e.seq, u32::from(i));
            assert!(ev.is_none());
        }
        assert_eq!(k.len(), 32);
        assert_eq!(&*k.get(0).unwrap().bytes, &[31]);
        assert_eq!(&*k.get(31).unwrap().bytes, &[0]);
        assert!(k.get(32).is_none());
        // The 33rd pushes out the oldest; index 31 is now the second key ever cached.
        let (_, ev) = k.add(b"x", 99);
        assert_eq!(&*ev.unwrap().bytes, &[0]);
        assert_eq!(k.len(), 32);
        assert_eq!(&*k.get(0).unwrap().bytes, b"x");
        assert_eq!(&*k.get(31).unwrap().bytes, &[1]);
        assert_eq!(k.get(0).unwrap().seq, 32);
    }

    #[test]
    fn value_cache_accounts_like_rustpush() {
        // Size 100: entries of 10 bytes cost 42; two fit (84), a third evicts the oldest.
        let mut v = ValueCache::new(100);
        let a = v.add(&[1; 10], 1);
        assert_eq!((a.evicted, a.oversize), (0, false));
        v.add(&[2; 10], 2);
        assert_eq!(v.accounted(), 84);
        let c = v.add(&[3; 10], 3);
        assert_eq!(c.evicted, 1);
        assert_eq!(v.len(), 2);
        assert_eq!(v.accounted(), 84);
        assert_eq!(v.get(0), ValueLookup::Live(c.entry.clone()));
        // Index 2 is past the end but the evicted first entry is remembered.
        assert_eq!(v.get(2), ValueLookup::Evicted(a.entry.clone()));
        assert_eq!(v.get(3), ValueLookup::Missing { cached: 2 });
        assert_eq!(v.get(u64::MAX), ValueLookup::Missing { cached: 2 });
    }

    #[test]
    fn value_larger_than_the_cache_is_kept_uncounted() {
        let mut v = ValueCache::new(100);
        let big = v.add(&[9; 69], 1); // 69 + 32 = 101 > 100
        assert!(big.oversize);
        assert_eq!(v.accounted(), 0);
        assert_eq!(v.len(), 1);
        assert_eq!(v.get(0), ValueLookup::Live(big.entry.clone()));
        // 68 + 32 = 100 fits exactly.
        let fits = v.add(&[8; 68], 2);
        assert!(!fits.oversize);
        assert_eq!(v.accounted(), 100);
        // The next one (142 in all) evicts the oldest, the uncounted one, and rustpush
        // subtracts its 101 although it never counted it: 41, with 142 really held.
        let next = v.add(&[7; 10], 3);
        assert_eq!((next.evicted, next.accounting), (1, false));
        assert_eq!(v.accounted(), 41);
        assert_eq!(v.len(), 2);
        // An uncounted entry costing more than the count when it goes takes the count
        // below zero (rustpush panics): 150-byte entry, then 60 + 60 > 100.
        let mut v = ValueCache::new(100);
        assert!(v.add(&[1; 118], 1).oversize);
        v.add(&[2; 28], 2);
        let third = v.add(&[3; 28], 3);
        assert!(third.accounting);
        assert_eq!(third.evicted, 1);
        assert_eq!(v.accounted(), 0);
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn default_size_rolls_over() {
        let mut v = ValueCache::new(DEFAULT_VALUE_CACHE_SIZE);
        let mut evicted = 0;
        for i in 0..200u32 {
            evicted += v.add(&i.to_be_bytes().repeat(8), i).evicted;
        }
        // 32 + 32 bytes each: 64 entries fit in 4096.
        assert_eq!(v.len(), 64);
        assert_eq!(evicted, 136);
        assert_eq!(v.accounted(), 4096);
        assert_eq!(v.get(63), ValueLookup::Live(v.get(63).live().unwrap()));
    }

    #[test]
    fn graveyard_and_memory_are_bounded() {
        let mut v = ValueCache::new(40); // one 8-byte entry at a time
        for i in 0..10_000u32 {
            v.add(&i.to_be_bytes().repeat(2), i);
        }
        assert_eq!(v.len(), 1);
        assert!(v.graveyard.len() <= GRAVEYARD_ENTRIES);
        // Oversize entries: bounded in bytes.
        let mut v = ValueCache::new(0);
        let mut bounded = false;
        for i in 0..300u32 {
            bounded |= v.add(&[i as u8; 8192], i).bounded;
        }
        assert!(bounded);
        assert!(v.uncounted_bytes <= MAX_UNCOUNTED_BYTES);
        assert_eq!(ValueCache::new(usize::MAX).size(), MAX_VALUE_CACHE_SIZE);
    }

    impl ValueLookup {
        fn live(&self) -> Option<EntryRef> {
            match self {
                ValueLookup::Live(e) => Some(e.clone()),
                _ => None,
            }
        }
    }
}

//! The hash maps and sets of the name tables built per check: FNV-1a hashing (the inputs are
//! the policy's own names, so hash flooding is not a concern; SipHash's per-byte cost showed
//! up in profiles of large policies) and a small map of our own instead of `std`'s.
//!
//! Why not `std::collections::HashMap`: its table code (hashbrown) is generic over the entry
//! type, so each of the ~40 key and value types the crate uses got its own copy of the
//! probing, inserting and resizing code, about 25 KB of the WebAssembly module. Here the
//! entries live in a `Vec` in insertion order and the table is a non-generic index of
//! entry numbers ([`Table`]); what is left per type is hashing a key and comparing two.
//! The API is the subset of `HashMap`'s the crate uses, with the same meaning; iteration
//! is in insertion order.

use std::borrow::Borrow;
use std::hash::{Hash, Hasher};

/// FNV-1a, 64-bit.
#[derive(Debug, Clone, Copy)]
pub struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

fn hash_of<Q: Hash + ?Sized>(key: &Q) -> u32 {
    let mut hasher = Fnv::default();
    key.hash(&mut hasher);
    let h = hasher.finish();
    // FNV's low bits are its weakest; fold the high half in.
    (h ^ (h >> 32)) as u32
}

/// The non-generic part of a map: an open-addressing table (linear probing) of entry
/// numbers plus one, `0` for a free slot, and each entry's hash.
#[derive(Debug, Clone, Default)]
struct Table {
    slots: Vec<u32>,
    hashes: Vec<u32>,
}

impl Table {
    fn mask(&self) -> usize {
        self.slots.len().wrapping_sub(1)
    }

    /// The next entry with hash `hash` on its probe run; `*at` is the slot to look at
    /// next (`usize::MAX` to start at the hash's home slot). The caller compares keys: no
    /// comparison closure and vtable per key type (module size).
    #[inline(never)]
    fn candidate(&self, hash: u32, at: &mut usize) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.mask();
        if *at == usize::MAX {
            *at = hash as usize & mask;
        }
        loop {
            let slot = *self.slots.get(*at)? as usize;
            let entry = slot.checked_sub(1)?;
            *at = (*at + 1) & mask;
            if self.hashes.get(entry) == Some(&hash) {
                return Some(entry);
            }
        }
    }

    /// The slot that holds `entry`.
    fn slot_of(&self, entry: usize) -> Option<usize> {
        let hash = *self.hashes.get(entry)?;
        let mask = self.mask();
        let mut at = hash as usize & mask;
        loop {
            match *self.slots.get(at)? as usize {
                0 => return None,
                slot if slot == entry + 1 => return Some(at),
                _ => at = (at + 1) & mask,
            }
        }
    }

    fn place(&mut self, hash: u32, entry: usize) {
        let mask = self.mask();
        let mut at = hash as usize & mask;
        while let Some(slot) = self.slots.get_mut(at) {
            if *slot == 0 {
                *slot = u32::try_from(entry + 1).unwrap_or(u32::MAX);
                return;
            }
            at = (at + 1) & mask;
        }
    }

    /// Records a new entry (numbered `self.hashes.len()`), growing the table to keep it at
    /// most half full.
    #[inline(never)]
    fn push(&mut self, hash: u32) {
        let entry = self.hashes.len();
        self.hashes.push(hash);
        if self.hashes.len() * 2 > self.slots.len() {
            self.rebuild(self.hashes.len());
        } else {
            self.place(hash, entry);
        }
    }

    /// Room for `entries` entries, every entry placed again.
    #[inline(never)]
    fn rebuild(&mut self, entries: usize) {
        let size = (entries * 2).max(8).next_power_of_two();
        self.slots.clear();
        self.slots.resize(size, 0);
        for entry in 0..self.hashes.len() {
            let hash = self.hashes.get(entry).copied().unwrap_or_default();
            self.place(hash, entry);
        }
    }

    fn reserve(&mut self, additional: usize) {
        let wanted = self.hashes.len().saturating_add(additional);
        if wanted * 2 > self.slots.len() {
            self.hashes.reserve(additional);
            self.rebuild(wanted);
        }
    }

    /// Forgets entry `entry`; the last entry takes its number (as `Vec::swap_remove`).
    #[inline(never)]
    fn swap_remove(&mut self, entry: usize) {
        let last = self.hashes.len().wrapping_sub(1);
        let Some(mut hole) = self.slot_of(entry) else {
            return;
        };
        let last_slot = if last != entry {
            self.slot_of(last)
        } else {
            None
        };
        if let Some(slot) = last_slot.and_then(|at| self.slots.get_mut(at)) {
            *slot = u32::try_from(entry + 1).unwrap_or(u32::MAX);
        }
        self.hashes.swap_remove(entry);
        // Backward-shift deletion: later entries of the probe run move into the hole.
        let mask = self.mask();
        let mut at = hole;
        loop {
            at = (at + 1) & mask;
            let slot = self.slots.get(at).copied().unwrap_or(0);
            let Some(moved) = (slot as usize).checked_sub(1) else {
                break;
            };
            let home = self.hashes.get(moved).copied().unwrap_or_default() as usize & mask;
            // Move it when its home is not in the cyclic range (hole, at].
            if (at.wrapping_sub(home) & mask) >= (at.wrapping_sub(hole) & mask) {
                if let Some(h) = self.slots.get_mut(hole) {
                    *h = slot;
                }
                hole = at;
            }
        }
        if let Some(h) = self.slots.get_mut(hole) {
            *h = 0;
        }
    }

    fn clear(&mut self) {
        self.slots.clear();
        self.hashes.clear();
    }
}

/// A hash map (FNV) whose iteration order is the order of first insertion.
#[derive(Clone)]
pub struct FastMap<K, V> {
    entries: Vec<(K, V)>,
    table: Table,
}

impl<K, V> Default for FastMap<K, V> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            table: Table::default(),
        }
    }
}

impl<K: std::fmt::Debug, V: std::fmt::Debug> std::fmt::Debug for FastMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<K, V> FastMap<K, V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.entries.capacity()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.entries.iter().map(|(_, v)| v)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    pub fn into_values(self) -> impl Iterator<Item = V> {
        self.entries.into_iter().map(|(_, v)| v)
    }

    pub fn clear(&mut self) {
        self.entries.clear();
        self.table.clear();
    }
}

impl<K: Hash + Eq, V> FastMap<K, V> {
    pub fn with_capacity(capacity: usize) -> Self {
        let mut map = Self::default();
        map.reserve(capacity);
        map
    }

    pub fn reserve(&mut self, additional: usize) {
        self.entries.reserve(additional);
        self.table.reserve(additional);
    }

    fn find<Q: Hash + Eq + ?Sized>(&self, hash: u32, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        let mut at = usize::MAX;
        while let Some(i) = self.table.candidate(hash, &mut at) {
            if self.entries.get(i).is_some_and(|(k, _)| k.borrow() == key) {
                return Some(i);
            }
        }
        None
    }

    fn index_of<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<usize>
    where
        K: Borrow<Q>,
    {
        self.find(hash_of(key), key)
    }

    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        let i = self.index_of(key)?;
        self.entries.get(i).map(|(_, v)| v)
    }

    pub fn get_key_value<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
    {
        let i = self.index_of(key)?;
        self.entries.get(i).map(|(k, v)| (k, v))
    }

    pub fn get_mut<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        let i = self.index_of(key)?;
        self.entries.get_mut(i).map(|(_, v)| v)
    }

    pub fn contains_key<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.index_of(key).is_some()
    }

    /// Sets `key` to `value`; the value it had, if any (the key stays the first one given).
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.entry(key) {
            Entry::Occupied(mut entry) => Some(std::mem::replace(entry.get_mut(), value)),
            Entry::Vacant(entry) => {
                entry.insert(value);
                None
            }
        }
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        let i = self.index_of(key)?;
        if i >= self.entries.len() {
            return None;
        }
        self.table.swap_remove(i);
        Some(self.entries.swap_remove(i).1)
    }

    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        let hash = hash_of(&key);
        match self.find(hash, &key) {
            Some(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            None => Entry::Vacant(VacantEntry {
                map: self,
                key,
                hash,
            }),
        }
    }

    /// Keeps the entries for which `keep` holds (the order of the others is kept).
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        if self.entries.len() != before {
            self.reindex();
        }
    }

    fn reindex(&mut self) {
        self.table.hashes.clear();
        for (k, _) in &self.entries {
            self.table.hashes.push(hash_of(k));
        }
        self.table.rebuild(self.entries.len());
    }
}

/// A place in a [`FastMap`], as `std`'s `Entry`.
pub enum Entry<'a, K, V> {
    Occupied(OccupiedEntry<'a, K, V>),
    Vacant(VacantEntry<'a, K, V>),
}

pub struct OccupiedEntry<'a, K, V> {
    map: &'a mut FastMap<K, V>,
    index: usize,
}

pub struct VacantEntry<'a, K, V> {
    map: &'a mut FastMap<K, V>,
    key: K,
    hash: u32,
}

// An entry's index always points into its map, which the entry borrows mutably: the
// indexing below cannot fail.
#[expect(
    clippy::indexing_slicing,
    reason = "the index comes from a lookup in the map the entry borrows, or is its last entry"
)]
impl<'a, K, V> OccupiedEntry<'a, K, V> {
    pub fn get(&self) -> &V {
        &self.map.entries[self.index].1
    }

    pub fn get_mut(&mut self) -> &mut V {
        &mut self.map.entries[self.index].1
    }

    pub fn into_mut(self) -> &'a mut V {
        &mut self.map.entries[self.index].1
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    pub fn insert(self, value: V) -> &'a mut V {
        self.map.table.push(self.hash);
        self.map.entries.push((self.key, value));
        let index = self.map.entries.len() - 1;
        OccupiedEntry {
            map: self.map,
            index,
        }
        .into_mut()
    }
}

impl<'a, K, V> Entry<'a, K, V> {
    pub fn or_insert(self, value: V) -> &'a mut V {
        self.or_insert_with(|| value)
    }

    pub fn or_insert_with(self, value: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => entry.insert(value()),
        }
    }

    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }
}

impl<K: Hash + Eq, V> FromIterator<(K, V)> for FastMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Self::default();
        map.extend(iter);
        map
    }
}

impl<K: Hash + Eq, V> Extend<(K, V)> for FastMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K, V> IntoIterator for FastMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<'a, K, V> IntoIterator for &'a FastMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&(K, V)) -> (&K, &V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// A hash set (FNV) whose iteration order is the order of first insertion.
#[derive(Clone)]
pub struct FastSet<K> {
    map: FastMap<K, ()>,
}

impl<K> Default for FastSet<K> {
    fn default() -> Self {
        Self {
            map: FastMap::default(),
        }
    }
}

impl<K: std::fmt::Debug> std::fmt::Debug for FastSet<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.map.keys()).finish()
    }
}

impl<K> FastSet<K> {
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &K> {
        self.map.keys()
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }
}

impl<K: Hash + Eq> FastSet<K> {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            map: FastMap::with_capacity(capacity),
        }
    }

    /// Adds `key`; false when it was there already.
    pub fn insert(&mut self, key: K) -> bool {
        match self.map.entry(key) {
            Entry::Occupied(_) => false,
            Entry::Vacant(entry) => {
                entry.insert(());
                true
            }
        }
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.remove(key).is_some()
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.map.retain(|k, _| keep(k));
    }
}

impl<K: Hash + Eq> FromIterator<K> for FastSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(iter: I) -> Self {
        let mut set = Self::default();
        set.extend(iter);
        set
    }
}

impl<K: Hash + Eq> Extend<K> for FastSet<K> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, iter: I) {
        for k in iter {
            self.insert(k);
        }
    }
}

impl<K> IntoIterator for FastSet<K> {
    type Item = K;
    type IntoIter = std::iter::Map<std::vec::IntoIter<(K, ())>, fn((K, ())) -> K>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.entries.into_iter().map(|(k, ())| k)
    }
}

impl<'a, K> IntoIterator for &'a FastSet<K> {
    type Item = &'a K;
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (K, ())>, fn(&(K, ())) -> &K>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.entries.iter().map(|(k, ())| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_finds_and_removes_like_std() {
        let mut ours: FastMap<u32, u32> = FastMap::default();
        let mut std_map = std::collections::HashMap::new();
        // A deterministic walk of inserts, overwrites and removals over a small key space,
        // so that probe runs collide and wrap.
        let mut x: u32 = 12345;
        for step in 0..20_000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let key = (x >> 16) % 300;
            match x % 5 {
                0..=2 => assert_eq!(ours.insert(key, step), std_map.insert(key, step)),
                3 => assert_eq!(ours.remove(&key), std_map.remove(&key)),
                _ => assert_eq!(ours.get(&key), std_map.get(&key)),
            }
            assert_eq!(ours.len(), std_map.len());
        }
        for (k, v) in &std_map {
            assert_eq!(ours.get(k), Some(v));
        }
        ours.retain(|k, _| k % 2 == 0);
        std_map.retain(|k, _| k % 2 == 0);
        assert_eq!(ours.len(), std_map.len());
        for k in 0..300 {
            assert_eq!(ours.get(&k), std_map.get(&k));
        }
    }

    #[test]
    fn strings_are_found_by_str_and_iterate_in_insertion_order() {
        let mut map: FastMap<String, usize> = FastMap::default();
        for (i, name) in ["b", "a", "c", "a"].iter().enumerate() {
            *map.entry((*name).to_owned()).or_default() += i;
        }
        assert_eq!(map.get("a"), Some(&4));
        let keys: Vec<&str> = map.keys().map(String::as_str).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        let mut set: FastSet<&str> = ["x", "y", "x"].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert!(set.contains("y"));
        assert!(!set.insert("y"));
        assert!(set.remove("x"));
        assert_eq!(set.iter().copied().collect::<Vec<_>>(), ["y"]);
    }
}

//! A small, fast, non-cryptographic hasher for the name tables built per check. The inputs
//! are the policy's own names, so hash flooding is not a concern; SipHash's per-byte cost
//! showed up in profiles of large policies.

use std::hash::{BuildHasherDefault, Hasher};

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

pub type FastMap<K, V> = std::collections::HashMap<K, V, BuildHasherDefault<Fnv>>;
pub type FastSet<K> = std::collections::HashSet<K, BuildHasherDefault<Fnv>>;

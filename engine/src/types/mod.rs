//! Collection types. Each one hides its encoding (compact listpack/intset
//! form for small collections, a hash table or ranked tree for large ones)
//! behind the same API, and reports Redis's encoding name.
//!
//! The RDB codec and the commands only use the public methods here, never
//! the internal representation.
//!
//! The thresholds that decide when a compact form converts are Redis's
//! `*-max-listpack-*` / `set-max-intset-entries` directives. They live in one
//! process-wide [`EncodingLimits`] of atomics (reachable as
//! [`crate::Keyspace::encoding_limits`]) so CONFIG SET can change them at run
//! time without locking; each mutation takes a [`Limits`] snapshot.

use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};

pub mod hash;
pub mod index_map;
pub mod intset;
pub mod list;
pub mod order_tree;
pub mod packed;
pub mod set;
pub mod zset;

pub use hash::HashValue;
pub use list::ListValue;
pub use set::SetValue;
pub use zset::ZSetValue;

/// A snapshot of the encoding thresholds (Redis defaults from redis.conf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `hash-max-listpack-entries`: most fields a listpack hash holds.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`: longest field or value (bytes) in a listpack hash.
    pub hash_max_listpack_value: usize,
    /// `set-max-intset-entries`: most members an intset holds.
    pub set_max_intset_entries: usize,
    /// `zset-max-listpack-entries`: most members a listpack sorted set holds.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`: longest member (bytes) in a listpack sorted set.
    pub zset_max_listpack_value: usize,
    /// `list-max-listpack-size`: positive = entries per quicklist node,
    /// -1..-5 = node size of 4, 8, 16, 32, 64 KiB.
    pub list_max_listpack_size: i64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            hash_max_listpack_entries: 128,
            hash_max_listpack_value: 64,
            set_max_intset_entries: 512,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            list_max_listpack_size: -2,
        }
    }
}

/// The live, runtime-changeable thresholds.
#[derive(Debug)]
pub struct EncodingLimits {
    hash_max_listpack_entries: AtomicUsize,
    hash_max_listpack_value: AtomicUsize,
    set_max_intset_entries: AtomicUsize,
    zset_max_listpack_entries: AtomicUsize,
    zset_max_listpack_value: AtomicUsize,
    list_max_listpack_size: AtomicI64,
}

/// The process's thresholds (Redis keeps them in its global `server` too).
pub static ENCODING_LIMITS: EncodingLimits = EncodingLimits::new(Limits {
    hash_max_listpack_entries: 128,
    hash_max_listpack_value: 64,
    set_max_intset_entries: 512,
    zset_max_listpack_entries: 128,
    zset_max_listpack_value: 64,
    list_max_listpack_size: -2,
});

impl EncodingLimits {
    pub const fn new(l: Limits) -> EncodingLimits {
        EncodingLimits {
            hash_max_listpack_entries: AtomicUsize::new(l.hash_max_listpack_entries),
            hash_max_listpack_value: AtomicUsize::new(l.hash_max_listpack_value),
            set_max_intset_entries: AtomicUsize::new(l.set_max_intset_entries),
            zset_max_listpack_entries: AtomicUsize::new(l.zset_max_listpack_entries),
            zset_max_listpack_value: AtomicUsize::new(l.zset_max_listpack_value),
            list_max_listpack_size: AtomicI64::new(l.list_max_listpack_size),
        }
    }

    /// The current values.
    pub fn load(&self) -> Limits {
        Limits {
            hash_max_listpack_entries: self.hash_max_listpack_entries.load(Ordering::Relaxed),
            hash_max_listpack_value: self.hash_max_listpack_value.load(Ordering::Relaxed),
            set_max_intset_entries: self.set_max_intset_entries.load(Ordering::Relaxed),
            zset_max_listpack_entries: self.zset_max_listpack_entries.load(Ordering::Relaxed),
            zset_max_listpack_value: self.zset_max_listpack_value.load(Ordering::Relaxed),
            list_max_listpack_size: self.list_max_listpack_size.load(Ordering::Relaxed),
        }
    }

    /// Replaces all values (CONFIG SET of any of the directives).
    pub fn store(&self, l: Limits) {
        self.hash_max_listpack_entries
            .store(l.hash_max_listpack_entries, Ordering::Relaxed);
        self.hash_max_listpack_value
            .store(l.hash_max_listpack_value, Ordering::Relaxed);
        self.set_max_intset_entries
            .store(l.set_max_intset_entries, Ordering::Relaxed);
        self.zset_max_listpack_entries
            .store(l.zset_max_listpack_entries, Ordering::Relaxed);
        self.zset_max_listpack_value
            .store(l.zset_max_listpack_value, Ordering::Relaxed);
        self.list_max_listpack_size
            .store(l.list_max_listpack_size, Ordering::Relaxed);
    }
}

/// The current thresholds of the process.
pub fn limits() -> Limits {
    ENCODING_LIMITS.load()
}

impl crate::keyspace::Keyspace {
    /// The encoding thresholds used for this keyspace's collections
    /// (CONFIG GET/SET `hash-max-listpack-entries` and friends).
    pub fn encoding_limits(&self) -> &'static EncodingLimits {
        &ENCODING_LIMITS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small collections are the common case: their handles must stay at
    /// 24 bytes (one pointer-sized allocation class, and small enough to be
    /// stored inline in `Value` should it drop its Box).
    #[test]
    fn limits_store_and_load() {
        let live = EncodingLimits::new(Limits::default());
        assert_eq!(live.load(), Limits::default());
        assert_eq!(ENCODING_LIMITS.load(), Limits::default());
        let changed = Limits {
            hash_max_listpack_entries: 1,
            list_max_listpack_size: 7,
            ..Limits::default()
        };
        live.store(changed);
        assert_eq!(live.load(), changed);
        // A hash built under the changed limits converts at the second field.
        let mut h = HashValue::new();
        h.insert_with(b"a", b"1", &live.load());
        h.insert_with(b"b", b"2", &live.load());
        assert_eq!(h.encoding(), "hashtable");
    }

    #[test]
    fn compact_handles_are_24_bytes() {
        assert_eq!(std::mem::size_of::<HashValue>(), 24);
        assert_eq!(std::mem::size_of::<SetValue>(), 24);
        assert_eq!(std::mem::size_of::<ZSetValue>(), 24);
    }
}

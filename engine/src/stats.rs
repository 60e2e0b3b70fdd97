//! Counters kept per io-thread (written only by their own thread, read by
//! INFO from any thread), so the command path never contends on a shared
//! cache line.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct ThreadStats {
    pub keyspace_hits: AtomicU64,
    pub keyspace_misses: AtomicU64,
    pub expired_keys: AtomicU64,
    /// Writes since the last successful save (Redis's `server.dirty`).
    pub dirty: AtomicU64,
    pub commands_processed: AtomicU64,
}

impl ThreadStats {
    /// Adds to a counter that only this thread writes.
    pub fn bump(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

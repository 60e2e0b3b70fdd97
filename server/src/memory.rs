//! Process memory figures for INFO memory: jemalloc's statistics (the same
//! allocator Redis uses, so `used_memory` means the same thing) and the
//! kernel's RSS.

use std::sync::atomic::{AtomicU64, Ordering};

use tikv_jemalloc_ctl::{epoch, stats};

#[derive(Debug, Clone, Copy, Default)]
pub struct MemorySnapshot {
    pub allocated: u64,
    pub active: u64,
    pub resident: u64,
    pub rss: u64,
}

static PEAK: AtomicU64 = AtomicU64::new(0);
static STARTUP: AtomicU64 = AtomicU64::new(0);

pub fn snapshot() -> MemorySnapshot {
    // jemalloc caches its statistics until the epoch advances.
    let _ = epoch::advance();
    MemorySnapshot {
        allocated: stats::allocated::read().unwrap_or(0) as u64,
        active: stats::active::read().unwrap_or(0) as u64,
        resident: stats::resident::read().unwrap_or(0) as u64,
        rss: rss_bytes(),
    }
}

/// Records the allocation level after startup (Redis's `used_memory_startup`).
pub fn record_startup() {
    STARTUP.store(snapshot().allocated, Ordering::Relaxed);
}

pub fn startup_allocated() -> u64 {
    STARTUP.load(Ordering::Relaxed)
}

/// Updates and returns the peak of `used_memory`.
pub fn peak(current: u64) -> u64 {
    PEAK.fetch_max(current, Ordering::Relaxed).max(current)
}

/// Resident set size from /proc/self/statm.
pub fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * page_size()
}

/// Linux on the architectures ringkv targets uses 4 KiB base pages for statm.
fn page_size() -> u64 {
    4096
}

pub fn total_system_memory() -> u64 {
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// (system, user) CPU seconds for `who` (RUSAGE_SELF, _CHILDREN, _THREAD).
pub fn rusage_seconds(who: libc::c_int) -> (f64, f64) {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a full rusage struct into the pointer we pass,
    // which points at properly sized, zero-initialised memory.
    #[allow(unsafe_code)]
    let ok = unsafe { libc::getrusage(who, ru.as_mut_ptr()) } == 0;
    if !ok {
        return (0.0, 0.0);
    }
    // SAFETY: getrusage succeeded, so the struct is initialised (and it was
    // zeroed beforehand anyway).
    #[allow(unsafe_code)]
    let ru = unsafe { ru.assume_init() };
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (secs(ru.ru_stime), secs(ru.ru_utime))
}

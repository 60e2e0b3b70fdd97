//! The group-commit log: opaque records appended from any thread, written
//! by one writer thread in groups, with a published durable LSN.
//!
//! It knows nothing of what a record means; the engine appends the AOF's
//! propagated commands and waits on LSNs.

mod direct;
mod disk;
pub mod metrics;
mod segment;
mod sim;
mod sink;
mod writer;

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::backend::BackendKind;

pub use disk::{LogDisk, SegmentId, SyncDone};
pub use sim::SimDisk;
pub use writer::{GroupCommitLog, LogStats};

/// Log sequence number: the byte offset in the log stream just past a
/// record. A record is durable once `durable_lsn() >= its Lsn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// When groups reach stable storage (`appendfsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncPolicy {
    /// `write` + `fdatasync` per group: a durable LSN survives power loss.
    Always,
    /// `write` per group (survives a process crash), `fdatasync` about once
    /// per [`LogConfig::sync_interval`] (power loss costs up to that much).
    EverySec,
    /// `write` per group only; the kernel decides when data reaches the
    /// disk. The durable LSN moves only on [`GroupCommitLog::sync`],
    /// rotation and close.
    No,
}

/// How a synced group reaches stable storage. Which is faster depends on
/// the disk; the fsync benchmark should settle it per machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMethod {
    /// `write`, then `fdatasync` (linked in one submission under io_uring,
    /// where the kernel runs the sync on an io-wq worker thread).
    #[default]
    Fdatasync,
    /// Under io_uring: the write through the ring, then `fdatasync(2)`
    /// called by the writer thread itself (idle until the group is durable
    /// anyway), sparing the io-wq hand-off. Each group's sync is then
    /// 70-200 µs shorter on a busy core, yet requests/s came out the same
    /// (BENCHMARKS.md, "each way to make a group durable"). Elsewhere the
    /// same as `Fdatasync`.
    InlineFdatasync,
    /// One `write` with `RWF_DSYNC` (O_DSYNC semantics for that write only).
    DsyncWrite,
    /// One `O_DIRECT` write with `RWF_DSYNC` per group, of whole 4 KiB
    /// blocks (the partial block at the end of the log is written again,
    /// with the new bytes, by the next group). On a preallocated segment
    /// this is an overwrite of written blocks: the disk gets one write with
    /// FUA and no journal commit, and under io_uring it completes from the
    /// block layer without a worker thread. Falls back to `DsyncWrite` on
    /// a filesystem that refuses `O_DIRECT`.
    DirectDsyncWrite,
}

#[derive(Clone)]
pub struct LogConfig {
    /// `Uring`: the writer thread owns an io_uring ring and submits each
    /// group as a `write` linked to an `fdatasync` (see [`SyncMethod`] for
    /// the other ways). `Epoll` (the fallback
    /// the network side names after its poller): plain `pwrite` and
    /// `fdatasync` syscalls. Resolve it with [`crate::backend::resolve`],
    /// like the network backend.
    pub backend: BackendKind,
    pub sync: SyncPolicy,
    pub sync_method: SyncMethod,
    /// Segments are zero-filled ahead of the writes in steps of this size
    /// (0: no preallocation).
    pub segment_prealloc_bytes: u64,
    /// The `EverySec` fsync period.
    pub sync_interval: Duration,
    /// Under `Always` with `Fdatasync` on io_uring: how many group syncs
    /// may be in flight at once. A group is written as soon as the writer
    /// has it and its `fdatasync` overlaps the previous groups' instead of
    /// queueing behind them: a disk that serves several flushes at once
    /// (most SSDs and virtual disks) then makes each record durable in
    /// about one flush latency instead of one and a half. 1 = one group
    /// at a time.
    pub sync_overlap_max: usize,
    /// Bytes written after each group, in the same write (e.g. a `#`
    /// annotation with the group's checksum, so a torn group can be told
    /// from a good one). Trailers take file space but no LSNs: LSNs count
    /// appended record bytes only.
    pub group_trailer: Option<GroupTrailer>,
}

/// Computes the trailer for a group's records and appends it to the
/// second argument. Runs on the writer thread, once per group.
pub type GroupTrailer = Arc<dyn Fn(&[u8], &mut Vec<u8>) + Send + Sync>;

/// See [`LogConfig::sync_overlap_max`]. One at a time by default: on the
/// 2-core VM of BENCHMARKS.md, with the server pinned to one core,
/// overlapping 2 or 4 syncs made groups 2-3x smaller and each sync slower
/// (the syncs' CPU work shares the io-thread's core), and SET under
/// `always` lost 5-40% at pipeline 1 and 16. A server with cores to spare
/// on a disk that serves flushes in parallel (`fio --numjobs` shows it)
/// should try 2-4.
pub const SYNC_OVERLAP_DEFAULT: usize = 1;

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            backend: BackendKind::Epoll,
            sync: SyncPolicy::EverySec,
            sync_method: SyncMethod::Fdatasync,
            segment_prealloc_bytes: 64 << 20,
            sync_interval: Duration::from_secs(1),
            sync_overlap_max: SYNC_OVERLAP_DEFAULT,
            group_trailer: None,
        }
    }
}

impl fmt::Debug for LogConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogConfig")
            .field("backend", &self.backend)
            .field("sync", &self.sync)
            .field("sync_method", &self.sync_method)
            .field("segment_prealloc_bytes", &self.segment_prealloc_bytes)
            .field("sync_interval", &self.sync_interval)
            .field("sync_overlap_max", &self.sync_overlap_max)
            .field("group_trailer", &self.group_trailer.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A write or fsync failed earlier. Sticky: the data may be gone from
    /// the page cache, so nothing after it is ever reported durable.
    #[error("log failed after an I/O error: {0}")]
    Failed(Arc<io::Error>),
    #[error("log is closed")]
    Closed,
    #[error("cannot open log: {0}")]
    Open(Arc<io::Error>),
}

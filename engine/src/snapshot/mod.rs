//! The snapshot engine: one point-in-time RDB image of the keyspace, for
//! SAVE, BGSAVE, SHUTDOWN and DEBUG RELOAD, and for the AOF rewrite's base.
//!
//! A snapshot starts by locking every slot: that instant is the snapshot
//! point. While all slots are held, the engine installs what keeps the image
//! frozen (the forkless observer, or the fork itself) and runs the caller's
//! `at_point` callback (the AOF switches its log file there, so base + new
//! incremental file = the dataset exactly). Then the locks are released and
//! the file is written in the background:
//!
//! - [`SnapshotMode::Forkless`]: a cursor walks the slots in order, encoding
//!   each under its lock. A thread about to change a key in a slot the
//!   cursor has not reached copies that key's entry first (its value at the
//!   point, since it is the key's first change) and parks the bytes for the
//!   cursor (copy-before-write, per key); reads pay nothing. Changes that
//!   name no key (FLUSHALL, SWAPDB, loading) copy the rest of the slot
//!   instead. So the file is the dataset at the point.
//! - [`SnapshotMode::Fork`]: the process forks with every slot held; the
//!   child writes the file from its frozen copy and exits, reporting
//!   progress and its copy-on-write memory through a pipe, as Redis does.
//!
//! Either way the file is a standard RDB written atomically (temp file,
//! fsync, rename, directory fsync).
//!
//! Using it for an AOF rewrite base:
//!
//! ```ignore
//! let target = SnapshotTarget {
//!     dir: aof_dir,
//!     filename: "appendonly.aof.2.base.rdb".into(),
//!     temp_filename: Some("temp-rewriteaof-bg-123.aof".into()),
//!     opts,
//!     aux: AuxInfo { aof_base: true, ..aux },
//!     key_save_delay_us: 0,
//! };
//! // Every slot is locked while the closure runs: no command is between
//! // its execution and its log append, so switching the log to the new
//! // incr file here makes base + new incr = the dataset exactly.
//! let handle = snapshot::start(&keyspace, mode, target, |_slots| log.switch_to_new_incr())?;
//! // ... poll handle.is_finished() / handle.progress(), then
//! // handle.try_result() or handle.wait(); handle.abort() on shutdown.
//! ```
//!
//! Only one snapshot runs at a time ([`SnapshotError::Busy`] otherwise;
//! [`Keyspace::snapshot_running`] tells). If `start` fails after
//! `at_point` ran (fork or thread creation failed), the caller's switch has
//! happened but no base will come: treat it as a failed rewrite.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard};

use crate::keyspace::{Keyspace, SlotData};
use crate::rdb::encoder::{AuxInfo, RdbWriteOptions};
use crate::rdb::file::SaveStats;

pub(crate) mod capture;
mod fork;
mod forkless;
pub mod load;
mod segment;

pub use load::{load_rdb, LoadError, LoadOptions, LoadStats, PROGRESS_INTERVAL_BYTES};

/// How the image is kept frozen while it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    Forkless,
    Fork,
}

impl SnapshotMode {
    pub fn name(self) -> &'static str {
        match self {
            SnapshotMode::Forkless => "forkless",
            SnapshotMode::Fork => "fork",
        }
    }
}

/// Where and how the RDB is written.
#[derive(Debug, Clone)]
pub struct SnapshotTarget {
    pub dir: PathBuf,
    /// The file the temp file is renamed to when complete.
    pub filename: String,
    /// The temp file in `dir`; `None` = Redis's `temp-<pid>.rdb` with the
    /// pid of the writing process (the child's in fork mode).
    pub temp_filename: Option<String>,
    pub opts: RdbWriteOptions,
    pub aux: AuxInfo,
    /// Redis's `rdb-key-save-delay` (µs per key written), a testing knob
    /// that makes a snapshot last long enough to observe. 0 = none.
    pub key_save_delay_us: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("another snapshot is in progress")]
    Busy,
    #[error("snapshot aborted")]
    Aborted,
    #[error("fork failed: {0}")]
    Fork(io::Error),
    #[error("writing the snapshot failed: {0}")]
    Io(#[from] io::Error),
    #[error("the snapshot child failed ({0})")]
    Child(String),
}

/// Live figures of a running snapshot (and the final ones when it ends).
/// Shared with the writer: all atomics, read at any time.
#[derive(Debug, Default)]
pub struct Progress {
    pub keys_total: AtomicU64,
    pub keys_processed: AtomicU64,
    /// Fork mode: the child's latest and largest private dirty bytes.
    pub cow_size_bytes: AtomicU64,
    pub cow_peak_bytes: AtomicU64,
    /// Unix ms of the latest copy-on-write sample (0 = none yet).
    pub cow_sampled_at_ms: AtomicU64,
    /// Fork mode: how long `fork()` took, in µs.
    pub fork_usec: AtomicU64,
    /// Forkless mode: slots copied whole before the cursor got there (a
    /// change that names no key, e.g. FLUSHALL), and keys copied alone
    /// before their first change since the point.
    pub early_slots: AtomicU64,
    pub early_keys: AtomicU64,
    /// Forkless mode: memory the snapshot holds beyond the dataset (now and
    /// at most): early copies waiting for the cursor, the names of keys
    /// changed ahead of it, and the per-slot capture state itself.
    pub extra_bytes: AtomicU64,
    pub extra_bytes_peak: AtomicU64,
    /// Forkless mode: the part of `extra_bytes` that is early copies waiting
    /// for the cursor's next step.
    pub pending_bytes: AtomicU64,
}

impl Progress {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn add_extra(&self, bytes: u64) {
        let now = self.extra_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        self.extra_bytes_peak.fetch_max(now, Ordering::Relaxed);
    }

    fn sub_extra(&self, bytes: u64) {
        self.extra_bytes.fetch_sub(bytes, Ordering::Relaxed);
    }
}

/// What a finished snapshot produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotOutcome {
    pub save: SaveStats,
    pub elapsed: Duration,
}

type Completion = Mutex<Option<Result<SnapshotOutcome, SnapshotError>>>;

/// A running (or finished) snapshot.
pub struct SnapshotHandle {
    mode: SnapshotMode,
    progress: Arc<Progress>,
    result: Arc<Completion>,
    done: Arc<AtomicBool>,
    abort: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Fork mode: the child's pid (for abort).
    child_pid: Option<i32>,
    started: Instant,
}

impl SnapshotHandle {
    pub fn mode(&self) -> SnapshotMode {
        self.mode
    }

    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    pub fn started(&self) -> Instant {
        self.started
    }

    pub fn is_finished(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }

    /// The result, once finished (taken: later calls return `None`).
    pub fn try_result(&mut self) -> Option<Result<SnapshotOutcome, SnapshotError>> {
        if !self.is_finished() {
            return None;
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.result.lock().take()
    }

    /// Waits for the snapshot to finish.
    pub fn wait(mut self) -> Result<SnapshotOutcome, SnapshotError> {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.result
            .lock()
            .take()
            .unwrap_or(Err(SnapshotError::Aborted))
    }

    /// Stops the snapshot (SHUTDOWN while a BGSAVE runs): the temp file is
    /// removed and the result is [`SnapshotError::Aborted`].
    pub fn abort(self) {
        self.abort.store(true, Ordering::Release);
        if let Some(pid) = self.child_pid {
            fork::kill_child(pid);
        }
        let _ = self.wait();
    }
}

/// Starts a snapshot of `ks` into `target`. `at_point` runs with every
/// slot locked, at the snapshot point (after the keys total is counted),
/// and sees the slots (in slot order) exactly as the file will hold them;
/// nothing can change the keyspace until it returns.
/// Fails with [`SnapshotError::Busy`] if another snapshot runs.
pub fn start(
    ks: &Arc<Keyspace>,
    mode: SnapshotMode,
    target: SnapshotTarget,
    at_point: impl FnOnce(&[MutexGuard<'_, SlotData>]),
) -> Result<SnapshotHandle, SnapshotError> {
    start_claiming(ks, mode, target, at_point, true)
}

/// [`start`]; `background`: the forkless cursor runs at a low priority.
fn start_claiming(
    ks: &Arc<Keyspace>,
    mode: SnapshotMode,
    target: SnapshotTarget,
    at_point: impl FnOnce(&[MutexGuard<'_, SlotData>]),
    background: bool,
) -> Result<SnapshotHandle, SnapshotError> {
    if !ks.claim_snapshot() {
        return Err(SnapshotError::Busy);
    }
    let result = match mode {
        SnapshotMode::Forkless => forkless::start(ks, target, at_point, background),
        SnapshotMode::Fork => fork::start(ks, target, at_point),
    };
    if result.is_err() {
        ks.release_snapshot();
    }
    result
}

/// Writes a snapshot and waits for it (SAVE, SHUTDOWN, DEBUG RELOAD). Uses
/// the forkless engine: other threads keep serving while it runs. Its
/// cursor keeps the normal priority, since the caller waits for it.
pub fn save_blocking(
    ks: &Arc<Keyspace>,
    target: SnapshotTarget,
) -> Result<SnapshotOutcome, SnapshotError> {
    start_claiming(ks, SnapshotMode::Forkless, target, |_| {}, false)?.wait()
}

/// (keys, keys with expiry) per database over locked slots.
fn db_totals(
    slots: &[impl std::ops::Deref<Target = SlotData>],
    db_count: usize,
) -> Vec<(u64, u64)> {
    let mut totals = vec![(0u64, 0u64); db_count];
    for s in slots {
        for (db, d) in s.dbs() {
            if let Some(t) = totals.get_mut(db) {
                t.0 += d.len() as u64;
                t.1 += d.volatile_len() as u64;
            }
        }
    }
    totals
}

/// The temp file name for `target` written by the current process.
fn temp_name(target: &SnapshotTarget) -> String {
    target
        .temp_filename
        .clone()
        .unwrap_or_else(crate::rdb::file::temp_rdb_filename)
}

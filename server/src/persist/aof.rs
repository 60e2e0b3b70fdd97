//! The append-only file as the server runs it: the group-commit log behind
//! `appendonly yes`, Redis 7.0's multi-part directory and manifest, the
//! rewrite (BGREWRITEAOF, automatic, and turning AOF on at runtime), loading
//! at startup, write refusal after I/O errors, and the AOF fields of INFO
//! persistence.
//!
//! Write path: a command appends its propagated form while it still holds
//! its slot locks ([`append`]), under one writer mutex that also orders the
//! `SELECT` and `#TS:` lines Redis emits. The [`GroupCommitLog`] writer
//! thread writes each group followed by a `#ringkv-crc64:` checksum line
//! (skipped by Redis's loader and redis-check-aof). Under `appendfsync
//! always` the appending thread remembers the record's LSN
//! ([`last_append_lsn`]); the io-thread holds the client's reply until the
//! log's durable LSN passes it (see `worker.rs`).
//!
//! `aof-fsync-mode` chooses how an `always` group becomes durable:
//! `fdatasync` (a write, then `fdatasync`, linked in one io_uring
//! submission), `odsync` (one write with `RWF_DSYNC`, i.e. O_DSYNC
//! semantics for that write) or `odirect` (an `O_DIRECT` + `RWF_DSYNC`
//! write of the whole blocks the group touches). With `fdatasync` on io_uring, up to
//! `aof-fsync-overlap` groups' syncs run at once (the writer does not wait
//! for one group's sync before writing the next). Segments are zero-filled ahead of the writes
//! in steps of at most 2 MiB so that a group's sync does not have to commit
//! a new file size; the padding is cut at close, rotation and load.
//!
//! Rewrite: the new base is taken at exactly the LSN where the log switches
//! to a new incr file ([`switch_log`] runs while every slot is held). With
//! `aof-use-rdb-preamble yes` (the default) the base is written by the
//! snapshot engine, forkless or fork per `snapshot-mode`
//! ([`snapshot_base_at_switch`]); a RESP base (`aof-use-rdb-preamble no`)
//! copies the dataset at the switch and serializes the copy
//! ([`rewrite_base_at_switch`]).

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use parking_lot::{Mutex, RwLock};
use ringkv_engine::aof::annotation::{push_checksum_annotation, push_timestamp_annotation};
use ringkv_engine::aof::base::{write_rdb_base, write_resp_base, DatasetCopy};
use ringkv_engine::aof::manifest::{
    base_name, manifest_name, sync_dir, temp_manifest_name, write_file_atomically,
};
use ringkv_engine::aof::{load_file, Manifest, Problem, Replayer};
use ringkv_engine::exec::Propagation;
use ringkv_engine::rdb::{AuxInfo, RdbWriteOptions};
use ringkv_engine::stats::ThreadStats;
use ringkv_uring_io::log::{GroupCommitLog, LogConfig, Lsn, SyncMethod, SyncPolicy};

use crate::config::{AofFsyncMode, AppendFsync};
use crate::shared::Shared;

/// Largest zero-fill step of an incr segment. Groups wait while a step is
/// written and synced, so the step sets the size of those stalls: under
/// `appendfsync always` at pipeline 16, 2 MiB steps gave a p99 0.77× that
/// of 8 MiB steps for 0.96× the requests/s (14 alternating pairs), and the
/// same requests/s at pipeline 1; 1 MiB steps cost 6% at pipeline 1.
const PREALLOC_STEP_MAX_BYTES: u64 = 2 << 20;
/// An `everysec` fsync still pending after this long counts as delayed
/// (Redis's `aof_delayed_fsync` uses 2 s).
const DELAYED_FSYNC_AFTER: Duration = Duration::from_secs(2);
/// LSN recorded for a write whose append failed: never durable.
pub const LSN_NEVER: u64 = u64::MAX;

thread_local! {
    static LAST_APPEND_LSN: Cell<u64> = const { Cell::new(0) };
}

/// LSN just past the last record this thread appended under `appendfsync
/// always` (0 if none, [`LSN_NEVER`] if the append failed). The io-thread
/// compares it before and after a command to learn whether the reply must
/// wait for durability.
pub fn last_append_lsn() -> u64 {
    LAST_APPEND_LSN.with(Cell::get)
}

/// Redis's `aof_state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AofMode {
    Off,
    /// Turned on at runtime; the first rewrite is running.
    WaitRewrite,
    On,
}

/// The live log and what appending needs.
struct Active {
    log: Arc<GroupCommitLog>,
    /// The incr file the log writes (for reopening on an appendfsync change).
    path: PathBuf,
    /// Whether replies wait for durability (appendfsync always).
    always: bool,
    selected_db: Option<usize>,
    ts_enabled: bool,
    last_ts_s: u64,
    record: Vec<u8>,
    /// LSN at which the current incr file started.
    incr_start_lsn: u64,
}

#[derive(Debug)]
struct RewriteInfo {
    last_time_sec: i64,
    started: Option<Instant>,
    last_ok: bool,
    rewrites: u64,
    consecutive_failures: u64,
}

/// State of the AOF side, shared by all threads.
pub struct AofState {
    mode: Mutex<AofMode>,
    /// Appends go through here; `None` when no log is open.
    writer: Mutex<Option<Active>>,
    /// False only while nothing is logged (appendonly no): lets every write
    /// command skip the writer lock then, so AOF-off has no shared lock on
    /// the command path. Set before a log is installed, cleared only when
    /// logging stops altogether.
    logging: AtomicBool,
    /// The manifest as last persisted (lock order: slots, writer, manifest).
    manifest: Mutex<Manifest>,
    /// For io-threads: the open log (durable LSN), without the writer lock.
    log: RwLock<Option<Arc<GroupCommitLog>>>,
    /// Set when a write/fsync failed: writes are refused (MISCONF).
    write_failed: AtomicBool,
    write_error: Mutex<String>,
    /// Next log opens continue numbering here, so LSNs never go back.
    next_lsn: AtomicU64,
    rewrite_running: AtomicBool,
    rewrite_scheduled: AtomicBool,
    rewrite: Mutex<RewriteInfo>,
    /// `aof_current_size` minus the bytes of the current incr file.
    size_before_incr: AtomicU64,
    base_size: AtomicU64,
    delayed_fsync: AtomicU64,
    last_durable: Mutex<(u64, Instant)>,
    last_fsync_error_log: AtomicI64,
    handle: Mutex<std::sync::Weak<Shared>>,
}

impl AofState {
    /// True while commands are being logged (a log is open). Read with the
    /// command's slot locks held, it cannot change under the command: the
    /// log switches only while every slot is locked.
    pub fn is_logging(&self) -> bool {
        self.logging.load(Ordering::Acquire)
    }
}

impl Default for AofState {
    fn default() -> Self {
        AofState {
            mode: Mutex::new(AofMode::Off),
            writer: Mutex::new(None),
            logging: AtomicBool::new(false),
            manifest: Mutex::new(Manifest::default()),
            log: RwLock::new(None),
            write_failed: AtomicBool::new(false),
            write_error: Mutex::new(String::new()),
            next_lsn: AtomicU64::new(0),
            rewrite_running: AtomicBool::new(false),
            rewrite_scheduled: AtomicBool::new(false),
            rewrite: Mutex::new(RewriteInfo {
                last_time_sec: -1,
                started: None,
                last_ok: true,
                rewrites: 0,
                consecutive_failures: 0,
            }),
            size_before_incr: AtomicU64::new(0),
            base_size: AtomicU64::new(0),
            delayed_fsync: AtomicU64::new(0),
            last_durable: Mutex::new((0, Instant::now())),
            last_fsync_error_log: AtomicI64::new(0),
            handle: Mutex::new(std::sync::Weak::new()),
        }
    }
}

impl std::fmt::Debug for AofState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AofState")
            .field("mode", &*self.mode.lock())
            .finish()
    }
}

impl AofState {
    /// Keeps a handle on the server so commands holding only `&Shared`
    /// can start rewrite threads.
    pub fn attach(&self, shared: &Arc<Shared>) {
        *self.handle.lock() = Arc::downgrade(shared);
    }

    pub fn handle(&self) -> Option<Arc<Shared>> {
        self.handle.lock().upgrade()
    }

    /// Everything below this LSN is durable; `u64::MAX` when no log is open
    /// (nothing to wait for).
    pub fn durable_lsn(&self) -> u64 {
        match &*self.log.read() {
            Some(log) => log.durable_lsn().0,
            None => u64::MAX,
        }
    }

    /// Whether the log failed: held replies must never be released. Also
    /// asks the log itself, which wakes the io-threads on failure before
    /// anyone has recorded it here.
    pub fn log_failed(&self) -> bool {
        self.write_failed.load(Ordering::Relaxed)
            || self
                .log
                .read()
                .as_ref()
                .is_some_and(|l| l.failure().is_some())
    }

    fn fail(&self, err: &dyn std::fmt::Display) {
        // Redis shows strerror(): "File too large", without our wrapping.
        let full = err.to_string();
        let msg = full
            .strip_prefix("log failed after an I/O error: ")
            .unwrap_or(&full);
        let msg = msg.split(" (os error").next().unwrap_or(msg).to_string();
        let first = !self.write_failed.swap(true, Ordering::SeqCst);
        *self.write_error.lock() = msg.clone();
        if first {
            tracing::warn!("Error writing to the AOF file: {msg}");
        }
    }
}

/// Debug builds only: `RINGKV_DEBUG_AOF_CRASH=<step>` aborts the process at
/// that step of a rewrite, for the crash-consistency tests.
fn crash_point(step: &str) {
    if cfg!(debug_assertions) && std::env::var("RINGKV_DEBUG_AOF_CRASH").is_ok_and(|v| v == step) {
        tracing::warn!("RINGKV_DEBUG_AOF_CRASH: aborting at {step}");
        std::process::abort();
    }
}

struct Paths {
    dir: PathBuf,
    prefix: String,
}

fn paths(shared: &Shared) -> Paths {
    let s = shared.config.read();
    Paths {
        dir: PathBuf::from(&s.appenddirname),
        prefix: s.appendfilename.clone(),
    }
}

fn persist_manifest(p: &Paths, m: &Manifest) -> std::io::Result<()> {
    write_file_atomically(
        &p.dir,
        &manifest_name(&p.prefix),
        &temp_manifest_name(&p.prefix),
        m.render().as_bytes(),
    )
}

/// Creates an empty file and makes its directory entry durable.
fn create_empty(dir: &Path, name: &str) -> std::io::Result<()> {
    File::create(dir.join(name))?.sync_all()?;
    sync_dir(dir)
}

fn open_log(shared: &Shared, path: &Path) -> anyhow::Result<Arc<GroupCommitLog>> {
    let s = shared.config.read();
    let cfg = LogConfig {
        backend: shared.backend,
        sync: match s.appendfsync {
            AppendFsync::Always => SyncPolicy::Always,
            AppendFsync::Everysec => SyncPolicy::EverySec,
            AppendFsync::No => SyncPolicy::No,
        },
        sync_method: match s.aof_fsync_mode {
            AofFsyncMode::Fdatasync => SyncMethod::Fdatasync,
            AofFsyncMode::Odsync => SyncMethod::DsyncWrite,
            AofFsyncMode::Odirect => SyncMethod::DirectDsyncWrite,
            AofFsyncMode::FdatasyncInline => SyncMethod::InlineFdatasync,
        },
        segment_prealloc_bytes: s.aof_segment_max_bytes.min(PREALLOC_STEP_MAX_BYTES),
        sync_interval: Duration::from_secs(1),
        sync_overlap_max: s.aof_fsync_overlap as usize,
        group_trailer: Some(Arc::new(|group: &[u8], out: &mut Vec<u8>| {
            push_checksum_annotation(group, out)
        })),
    };
    drop(s);
    let start = Lsn(shared.aof.next_lsn.load(Ordering::SeqCst));
    let log = Arc::new(
        GroupCommitLog::open(cfg, path, start)
            .with_context(|| format!("opening AOF file {}", path.display()))?,
    );
    for w in shared.wakers.read().iter() {
        log.register_waker(w.clone());
    }
    Ok(log)
}

fn new_active(shared: &Shared, log: Arc<GroupCommitLog>, path: PathBuf) -> Active {
    let s = shared.config.read();
    let start = log.appended_lsn().0;
    Active {
        log,
        path,
        always: s.appendfsync == AppendFsync::Always,
        selected_db: None,
        ts_enabled: s.aof_timestamp_enabled,
        last_ts_s: 0,
        record: Vec::with_capacity(4096),
        incr_start_lsn: start,
    }
}

fn install(shared: &Shared, w: &mut Option<Active>, active: Active) {
    *shared.aof.log.write() = Some(active.log.clone());
    *w = Some(active);
    shared.aof.logging.store(true, Ordering::Release);
}

/// Closes the open log (flush + fsync + trim), keeping LSNs monotonic.
/// The io-threads keep seeing the closed log (its durable LSN frozen)
/// until `install` replaces it, unless `release_all` says that nothing
/// is logged any more (appendonly no, shutdown).
fn close_active(shared: &Shared, w: &mut Option<Active>, release_all: bool) {
    if let Some(a) = w.take() {
        let end = a.log.appended_lsn().0;
        if let Err(e) = a.log.close() {
            shared.aof.fail(&e);
        }
        shared.aof.next_lsn.fetch_max(end, Ordering::SeqCst);
        if release_all {
            *shared.aof.log.write() = None;
            shared.aof.logging.store(false, Ordering::Release);
        }
    }
}

/// Byte length of the RESP command at the start of `buf` (well-formed, as
/// the engine produced it).
fn command_len(buf: &[u8]) -> usize {
    fn line_end(buf: &[u8], from: usize) -> usize {
        memchr::memchr(b'\n', &buf[from..]).map_or(buf.len(), |i| from + i + 1)
    }
    fn num(bytes: &[u8]) -> usize {
        bytes
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .fold(0usize, |n, b| n * 10 + usize::from(b - b'0'))
    }
    let mut at = line_end(buf, 0);
    let argc = num(&buf[1..]);
    for _ in 0..argc {
        let body = line_end(buf, at);
        let len = num(&buf[(at + 1).min(buf.len())..]);
        at = (body + len + 2).min(buf.len());
    }
    at
}

/// Appends a finished command's propagated form. Called while the
/// command's slot locks are held, so log order is execution order per key.
pub fn append(shared: &Shared, prop: &Propagation) {
    if prop.count == 0 || !shared.aof.logging.load(Ordering::Acquire) {
        return;
    }
    let mut guard = shared.aof.writer.lock();
    let Some(a) = guard.as_mut() else {
        return;
    };
    // The common case needs no SELECT or timestamp in front: hand the
    // propagated bytes to the log as they are (one copy, not two).
    let single_db = prop.dbs.len() == 1 && a.selected_db == prop.dbs.first().copied();
    if single_db && !a.ts_enabled {
        let appended = a.log.append(&prop.buf);
        return after_append(shared, guard, appended);
    }
    a.record.clear();
    if a.ts_enabled {
        let now_s = ringkv_engine::clock::now_ms() / 1000;
        if now_s > a.last_ts_s {
            push_timestamp_annotation(now_s, &mut a.record);
            a.last_ts_s = now_s;
        }
    }
    let mut rest = prop.buf.as_slice();
    for &db in &prop.dbs {
        if a.selected_db != Some(db) {
            ringkv_engine::aof::base::push_cmd(
                &mut a.record,
                &[b"SELECT", db.to_string().as_bytes()],
            );
            a.selected_db = Some(db);
        }
        if prop.dbs.len() == 1 {
            a.record.extend_from_slice(rest);
            rest = &[];
            break;
        }
        let n = command_len(rest);
        a.record.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
    }
    debug_assert!(rest.is_empty(), "propagation has a db per command");
    let appended = a.log.append(&a.record);
    after_append(shared, guard, appended);
}

/// Records the LSN a reply must wait for (under `always`), or fails the
/// AOF when the log refused the append.
fn after_append(
    shared: &Shared,
    guard: parking_lot::MutexGuard<'_, Option<Active>>,
    appended: Result<ringkv_uring_io::log::Lsn, ringkv_uring_io::log::LogError>,
) {
    let Some(a) = guard.as_ref() else {
        return;
    };
    match appended {
        Ok(lsn) => {
            if a.always {
                LAST_APPEND_LSN.with(|c| c.set(lsn.0));
            }
        }
        Err(e) => {
            if a.always {
                LAST_APPEND_LSN.with(|c| c.set(LSN_NEVER));
            }
            let always = a.always;
            drop(guard);
            shared.aof.fail(&e);
            if always {
                tracing::warn!("AOF write failed under appendfsync always: the reply is withheld");
            }
        }
    }
}

/// Periodic work: log health, incr rotation, delayed-fsync accounting,
/// scheduled and automatic rewrites.
pub fn cron(shared: &Arc<Shared>) {
    let (segment_max, perc, min_size, fsync) = {
        let s = shared.config.read();
        (
            s.aof_segment_max_bytes,
            s.auto_aof_rewrite_percentage,
            s.auto_aof_rewrite_min_size_bytes,
            s.appendfsync,
        )
    };
    let mut rotate = false;
    if let Some(a) = shared.aof.writer.lock().as_ref() {
        if let Some(e) = a.log.failure() {
            shared.aof.fail(&e);
        }
        let appended = a.log.appended_lsn().0;
        rotate = appended - a.incr_start_lsn >= segment_max;
        if fsync == AppendFsync::Everysec {
            let durable = a.log.durable_lsn().0;
            let written = a.log.written_lsn().0;
            let mut last = shared.aof.last_durable.lock();
            if durable != last.0 || durable >= written {
                *last = (durable, Instant::now());
            } else if last.1.elapsed() >= DELAYED_FSYNC_AFTER {
                shared.aof.delayed_fsync.fetch_add(1, Ordering::Relaxed);
                last.1 = Instant::now();
            }
        }
    }
    if rotate {
        if let Err(e) = rotate_incr(shared) {
            tracing::warn!("Can't open a new AOF incr file: {e:#}");
        }
    }
    let mode = *shared.aof.mode.lock();
    if shared.aof.rewrite_running.load(Ordering::SeqCst) {
        return;
    }
    if shared.aof.rewrite_scheduled.load(Ordering::SeqCst) {
        let _ = start_rewrite(shared);
        return;
    }
    if shared.aof.log_failed() && mode == AofMode::On {
        // A failed log never recovers in place (the kernel may have dropped
        // the data); a rewrite writes a new base from memory and a new log.
        let secs = (ringkv_engine::clock::now_ms() / 1000) as i64;
        if secs
            - shared
                .aof
                .last_fsync_error_log
                .swap(secs, Ordering::Relaxed)
            >= 1
        {
            let _ = start_rewrite(shared);
        }
        return;
    }
    if mode == AofMode::On && perc > 0 {
        let current = current_size(shared);
        let base = shared.aof.base_size.load(Ordering::Relaxed).max(1);
        let growth = (current.saturating_mul(100) / base).saturating_sub(100);
        if current > min_size && growth >= u64::from(perc) {
            tracing::info!("Starting automatic rewriting of AOF on {growth}% growth");
            let _ = start_rewrite(shared);
        }
    }
}

/// `aof_current_size`: base plus incr bytes (log records, annotations not
/// counted).
fn current_size(shared: &Shared) -> u64 {
    let incr = shared
        .aof
        .writer
        .lock()
        .as_ref()
        .map_or(0, |a| a.log.appended_lsn().0 - a.incr_start_lsn);
    shared.aof.size_before_incr.load(Ordering::Relaxed) + incr
}

/// Closes the current incr file and continues in a new one, recorded in
/// the manifest before the log writes a byte to it.
fn rotate_incr(shared: &Shared) -> anyhow::Result<()> {
    let p = paths(shared);
    let mut w = shared.aof.writer.lock();
    let Some(a) = w.as_mut() else {
        return Ok(());
    };
    let mut m = shared.aof.manifest.lock();
    let mut next = m.clone();
    let name = next.add_incr(&p.prefix);
    create_empty(&p.dir, &name)?;
    persist_manifest(&p, &next)?;
    *m = next;
    let lsn = a.log.rotate(p.dir.join(&name))?;
    let old_bytes = lsn.0 - a.incr_start_lsn;
    shared
        .aof
        .size_before_incr
        .fetch_add(old_bytes, Ordering::Relaxed);
    a.incr_start_lsn = lsn.0;
    a.selected_db = None;
    a.path = p.dir.join(&name);
    tracing::info!("Creating AOF incr file {name} on size limit");
    Ok(())
}

/// Why a rewrite could not start (BGREWRITEAOF's replies).
#[derive(Debug, PartialEq, Eq)]
pub enum RewriteStart {
    Started,
    AlreadyRunning,
}

/// Starts a background rewrite on its own thread.
pub fn start_rewrite(shared: &Arc<Shared>) -> RewriteStart {
    if shared.aof.rewrite_running.swap(true, Ordering::SeqCst) {
        return RewriteStart::AlreadyRunning;
    }
    shared.aof.rewrite_scheduled.store(false, Ordering::SeqCst);
    {
        let mut r = shared.aof.rewrite.lock();
        r.started = Some(Instant::now());
        r.rewrites += 1;
    }
    let sh = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            let started = Instant::now();
            let result = rewrite(&sh);
            let mut r = sh.aof.rewrite.lock();
            r.last_time_sec = started.elapsed().as_secs() as i64;
            r.started = None;
            match result {
                Ok(()) => {
                    r.last_ok = true;
                    r.consecutive_failures = 0;
                    tracing::info!("Background AOF rewrite finished successfully");
                }
                Err(e) => {
                    r.last_ok = false;
                    r.consecutive_failures += 1;
                    tracing::warn!("Background AOF rewrite failed: {e:#}");
                    if *sh.aof.mode.lock() == AofMode::WaitRewrite {
                        sh.aof.rewrite_scheduled.store(true, Ordering::SeqCst);
                    }
                }
            }
            drop(r);
            sh.aof.rewrite_running.store(false, Ordering::SeqCst);
        });
    if spawned.is_err() {
        shared.aof.rewrite_running.store(false, Ordering::SeqCst);
        shared.aof.rewrite.lock().last_ok = false;
    }
    RewriteStart::Started
}

/// Where the log stood when the base's dataset was taken.
enum Switch {
    /// AOF on: the log moved to this new incr file (already in the manifest).
    Rotated { incr_seq: u64 },
    /// Turning AOF on: the log writes a temp incr, renamed when done.
    Enabling { temp_name: String },
    /// AOF off: a base only.
    NoLog,
}

/// Switches the log to a new incr file and takes the dataset at that exact
/// LSN: every slot is locked (so no command is between executing and
/// appending), the log is switched, and the data copied before any lock is
/// released. The single place the snapshot engine will replace.
fn rewrite_base_at_switch(shared: &Shared, p: &Paths) -> anyhow::Result<(DatasetCopy, Switch)> {
    let ks = &shared.keyspace;
    let guards = ks.lock_all();
    let switch = switch_log(shared, p)?;
    crash_point("rewrite-after-switch");
    let copy = DatasetCopy::from_slots(&guards, ks.db_count());
    drop(guards);
    Ok((copy, switch))
}

/// Moves the log to a new incr file. Callers hold every slot lock, so no
/// command is between executing and appending: the switch LSN is an exact
/// cut of the dataset.
fn switch_log(shared: &Shared, p: &Paths) -> anyhow::Result<Switch> {
    let mut w = shared.aof.writer.lock();
    let mode = *shared.aof.mode.lock();
    let switch = match mode {
        AofMode::On => {
            let mut m = shared.aof.manifest.lock();
            let mut next = m.clone();
            let name = next.add_incr(&p.prefix);
            create_empty(&p.dir, &name)?;
            persist_manifest(p, &next)?;
            *m = next;
            let path = p.dir.join(&name);
            let healthy = w.as_ref().is_some_and(|a| a.log.failure().is_none());
            if healthy {
                if let Some(a) = w.as_mut() {
                    let lsn = a.log.rotate(path.clone())?;
                    a.incr_start_lsn = lsn.0;
                    a.selected_db = None;
                    a.path = path;
                }
            } else {
                // Recovering from a failed log: the new one must open
                // before the failed one goes.
                if let Some(a) = w.as_ref() {
                    shared
                        .aof
                        .next_lsn
                        .fetch_max(a.log.appended_lsn().0, Ordering::SeqCst);
                }
                let log = open_log(shared, &path)?;
                close_active(shared, &mut w, false);
                let active = new_active(shared, log, path);
                install(shared, &mut w, active);
            }
            tracing::info!("Creating AOF incr file {name} on background rewrite");
            Switch::Rotated {
                incr_seq: m.incr_seq,
            }
        }
        AofMode::WaitRewrite => {
            let temp_name = format!("temp-{}.incr", p.prefix);
            let path = p.dir.join(&temp_name);
            let _ = fs::remove_file(&path);
            close_active(shared, &mut w, true);
            let log = open_log(shared, &path)?;
            let active = new_active(shared, log, path);
            install(shared, &mut w, active);
            tracing::info!("Creating AOF incr file {temp_name} on background rewrite");
            Switch::Enabling { temp_name }
        }
        AofMode::Off => Switch::NoLog,
    };
    drop(w);
    Ok(switch)
}

/// The RDB-preamble base through the snapshot engine (forkless or fork per
/// `snapshot-mode`): the log switches inside the snapshot point, while every
/// slot is held, so base + new incr file = the dataset exactly. The base
/// lands at `temp` (in `dir`, like Redis's `temp-rewriteaof-*` files).
fn snapshot_base_at_switch(
    shared: &Shared,
    p: &Paths,
    temp: &Path,
) -> anyhow::Result<(u64, Switch)> {
    use ringkv_engine::snapshot::{self, SnapshotTarget};
    let (opts, mode) = {
        let s = shared.config.read();
        (
            super::rdb::write_options(&s),
            super::rdb::configured_mode(shared),
        )
    };
    let target = SnapshotTarget {
        dir: PathBuf::from("."),
        filename: temp.display().to_string(),
        temp_filename: Some(format!("{}.part", temp.display())),
        opts,
        aux: AuxInfo {
            ctime_s: ringkv_engine::clock::now_ms() / 1000,
            used_mem_bytes: crate::memory::snapshot().allocated,
            aof_base: true,
        },
        key_save_delay_us: 0,
    };
    let mut switched: Option<anyhow::Result<Switch>> = None;
    // A running BGSAVE holds the snapshot engine: like Redis, the rewrite
    // waits for it to finish rather than failing (bounded by shutdown).
    let handle = loop {
        let attempt = snapshot::start(&shared.keyspace, mode, target.clone(), |_slots| {
            switched = Some(switch_log(shared, p));
        });
        match attempt {
            Err(snapshot::SnapshotError::Busy) if !shared.is_shutting_down() => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other,
        }
    };
    let switch = match switched {
        Some(r) => r?,
        None => {
            // The point was never reached (another snapshot runs): no switch.
            handle
                .map(|_| ())
                .map_err(|e| anyhow::anyhow!("AOF rewrite snapshot: {e}"))?;
            anyhow::bail!("AOF rewrite snapshot did not reach its point");
        }
    };
    crash_point("rewrite-after-switch");
    let outcome = handle
        .and_then(|h| h.wait())
        .map_err(|e| anyhow::anyhow!("AOF rewrite snapshot: {e}"));
    match outcome {
        Ok(o) => Ok((o.save.write.keys_written, switch)),
        Err(e) => {
            if let Switch::Enabling { temp_name } = &switch {
                abandon_enable(shared, p, temp_name);
            }
            Err(e)
        }
    }
}

/// One rewrite: new base from the dataset at the log switch, then the
/// manifest names the new base and the incr files written since.
fn rewrite(shared: &Shared) -> anyhow::Result<()> {
    let p = paths(shared);
    fs::create_dir_all(&p.dir)
        .with_context(|| format!("creating the AOF directory {}", p.dir.display()))?;
    if *shared.aof.mode.lock() == AofMode::Off {
        // BGREWRITEAOF with appendonly no: continue the on-disk sequence.
        *shared.aof.manifest.lock() = read_manifest(&p).unwrap_or_default();
    }
    let (rdb, ts) = {
        let s = shared.config.read();
        (s.aof_use_rdb_preamble, s.aof_timestamp_enabled)
    };
    let temp = PathBuf::from(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let (key_count, switch) = if rdb {
        snapshot_base_at_switch(shared, &p, &temp)?
    } else {
        // A RESP base is not an RDB: copy the dataset at the switch instead.
        let (copy, switch) = rewrite_base_at_switch(shared, &p)?;
        if let Err(e) = write_base_file(&temp, &copy, rdb, ts) {
            let _ = fs::remove_file(&temp);
            if let Switch::Enabling { temp_name } = &switch {
                abandon_enable(shared, &p, temp_name);
            }
            return Err(e);
        }
        (copy.key_count() as u64, switch)
    };
    crash_point("rewrite-before-base-rename");
    let mut w = shared.aof.writer.lock();
    let mut m = shared.aof.manifest.lock();
    if let Switch::Enabling { .. } = switch {
        if *shared.aof.mode.lock() != AofMode::WaitRewrite {
            // appendonly was turned off meanwhile.
            drop(m);
            drop(w);
            let _ = fs::remove_file(&temp);
            return Ok(());
        }
    }
    let mut next = m.clone();
    let new_base = base_name(&p.prefix, next.base_seq + 1, rdb);
    fs::rename(&temp, p.dir.join(&new_base))?;
    sync_dir(&p.dir)?;
    crash_point("rewrite-after-base-rename");
    let keep_from = match &switch {
        Switch::Rotated { incr_seq } => *incr_seq,
        Switch::Enabling { temp_name } => {
            let name = next.add_incr(&p.prefix);
            let seq = next.incr_seq;
            fs::rename(p.dir.join(temp_name), p.dir.join(&name))?;
            sync_dir(&p.dir)?;
            if let Some(a) = w.as_mut() {
                a.path = p.dir.join(&name);
            }
            tracing::info!(
                "Successfully renamed the temporary AOF incr file {temp_name} into {name}"
            );
            seq
        }
        Switch::NoLog => u64::MAX,
    };
    next.install_base(new_base.clone(), keep_from);
    let history = std::mem::take(&mut next.history);
    persist_manifest(&p, &next)?;
    *m = next;
    crash_point("rewrite-after-manifest");
    for h in &history {
        tracing::info!("Removing the history file {} in the background", h.name);
        let _ = fs::remove_file(p.dir.join(&h.name));
    }
    let base_bytes = fs::metadata(p.dir.join(&new_base)).map_or(0, |m| m.len());
    let incr_before_current: u64 = m
        .incrs
        .iter()
        .take(m.incrs.len().saturating_sub(1))
        .map(|f| fs::metadata(p.dir.join(&f.name)).map_or(0, |m| m.len()))
        .sum();
    drop(m);
    shared
        .aof
        .size_before_incr
        .store(base_bytes + incr_before_current, Ordering::Relaxed);
    let current = base_bytes
        + incr_before_current
        + w.as_ref()
            .map_or(0, |a| a.log.appended_lsn().0 - a.incr_start_lsn);
    shared.aof.base_size.store(current, Ordering::Relaxed);
    if let Switch::Enabling { .. } = switch {
        *shared.aof.mode.lock() = AofMode::On;
    }
    if w.as_ref().is_some_and(|a| a.log.failure().is_none()) {
        shared.aof.write_failed.store(false, Ordering::SeqCst);
    }
    drop(w);
    tracing::info!("Background AOF rewrite terminated with success ({new_base}, {key_count} keys)");
    Ok(())
}

fn abandon_enable(shared: &Shared, p: &Paths, temp_name: &str) {
    let mut w = shared.aof.writer.lock();
    close_active(shared, &mut w, true);
    let _ = fs::remove_file(p.dir.join(temp_name));
}

/// Writes and fsyncs a base file at `path` (in `dir`, as Redis's
/// `temp-rewriteaof-*` files are).
fn write_base_file(path: &Path, copy: &DatasetCopy, rdb: bool, ts: bool) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let out = BufWriter::with_capacity(256 * 1024, file);
    let out = if rdb {
        let aux = AuxInfo {
            ctime_s: ringkv_engine::clock::now_ms() / 1000,
            used_mem_bytes: 0,
            aof_base: true,
        };
        write_rdb_base(out, copy, RdbWriteOptions::default(), aux)?
    } else {
        let stamp = ts.then(|| ringkv_engine::clock::now_ms() / 1000);
        write_resp_base(out, copy, stamp)?
    };
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(())
}

fn read_manifest(p: &Paths) -> Option<Manifest> {
    let data = fs::read(p.dir.join(manifest_name(&p.prefix))).ok()?;
    Manifest::parse(&data).ok()
}

/// Refuses writes (and PING) after a failed AOF write or fsync, as Redis
/// does. One relaxed atomic load on the command path.
pub fn write_refusal(shared: &Shared) -> Option<String> {
    if !shared.aof.write_failed.load(Ordering::Relaxed) {
        return None;
    }
    Some(format!(
        "MISCONF Errors writing to the AOF file: {}",
        shared.aof.write_error.lock()
    ))
}

/// Loads the AOF at startup (`appendonly yes`): manifest, base, incr files
/// in order; then opens the last incr file for appending.
pub fn load_at_startup(shared: &Shared) -> anyhow::Result<()> {
    let p = paths(shared);
    let (dbfilename, truncate_ok) = {
        let s = shared.config.read();
        (s.dbfilename.clone(), s.aof_load_truncated)
    };
    let manifest_path = p.dir.join(manifest_name(&p.prefix));
    let mut manifest = if manifest_path.exists() {
        let data = fs::read(&manifest_path)
            .with_context(|| format!("reading {}", manifest_path.display()))?;
        match Manifest::parse(&data) {
            Ok(m) => m,
            Err(e) => bail!(
                "*** FATAL AOF MANIFEST FILE ERROR *** {e} ({})",
                manifest_path.display()
            ),
        }
    } else if Path::new(&p.prefix).is_file() {
        fs::create_dir_all(&p.dir)?;
        let mut m = Manifest::default();
        m.install_base(p.prefix.clone(), u64::MAX);
        persist_manifest(&p, &m)?;
        fs::rename(&p.prefix, p.dir.join(&p.prefix))?;
        sync_dir(&p.dir)?;
        tracing::info!(
            "Successfully migrated an old-style AOF file ({}) into the AOF directory ({}).",
            p.prefix,
            p.dir.display()
        );
        m
    } else if fs::metadata(&dbfilename).is_ok_and(|m| m.is_file() && m.len() > 0) {
        // ringkv's deliberate fix of Redis's "appendonly yes ignores
        // dump.rdb" trap: the RDB becomes the first AOF base.
        fs::create_dir_all(&p.dir)?;
        let mut m = Manifest::default();
        let name = base_name(&p.prefix, 1, true);
        let tmp = p.dir.join(format!("temp-{name}"));
        fs::copy(&dbfilename, &tmp)?;
        File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, p.dir.join(&name))?;
        sync_dir(&p.dir)?;
        m.install_base(name.clone(), u64::MAX);
        persist_manifest(&p, &m)?;
        tracing::warn!(
            "appendonly yes found no AOF but {dbfilename} exists: loaded it and made it the first AOF base {name} (Redis 7.0 would start empty here)"
        );
        m
    } else {
        Manifest::default()
    };

    remove_stale_temp_files();
    let started = Instant::now();
    let files: Vec<String> = manifest.load_order().map(|f| f.name.clone()).collect();
    let sizes = files
        .iter()
        .map(|name| {
            fs::metadata(p.dir.join(name))
                .map(|m| m.len())
                .map_err(|e| {
                    anyhow::anyhow!("Unable to obtain the AOF file {name} length. stat: {e}")
                })
        })
        .collect::<anyhow::Result<Vec<u64>>>()?;
    // INFO's loading_* fields, over all files (as Redis sums base and incrs).
    let loading = super::rdb::begin_loading(shared, sizes.iter().sum());
    let loaded_before_file = Cell::new(0u64);
    let mut replayer = Replayer::new(&shared.keyspace);
    replayer.set_progress(Box::new(|offset| {
        super::rdb::loading_progress(shared, loaded_before_file.get() + offset)
    }));
    let delay_us = super::rdb::key_load_delay_us(&shared.config.read());
    replayer.set_item_delay(Duration::from_micros(delay_us));
    let mut total = 0u64;
    let mut base_size = 0u64;
    // Whether each file loaded whole carries ringkv checksums, so picking
    // the incr file to append to need not read the last one again.
    let mut checksummed: HashMap<String, bool> = HashMap::new();
    for (i, name) in files.iter().enumerate() {
        loaded_before_file.set(sizes[..i].iter().sum());
        let path = p.dir.join(name);
        // Empty files after a file do not make it "not the last": a failed
        // log's successor can exist empty when the process died.
        let is_last = sizes[i + 1..].iter().all(|len| *len == 0);
        if sizes[i] == 0 {
            continue;
        }
        let file_started = Instant::now();
        let (report, file_len) = {
            let map = File::open(&path)
                .and_then(|f| map_aof_file(&f))
                .with_context(|| format!("reading the AOF file {name}"))?;
            let report = load_file(&mut replayer, &map)
                .map_err(|e| anyhow::anyhow!("loading the append only file {name}: {e}"))?;
            // The map goes before any truncation below.
            (report, map.len() as u64)
        };
        let v = &report.resp;
        let mut keep = v.valid_up_to;
        match &v.problem {
            None => keep = v.data_end,
            Some(Problem::Corrupt { offset, reason }) => bail!(
                "Bad file format reading the append only file {name} at offset {offset}: {reason}. Make a backup of your AOF file, then use ringkv check-aof --fix {}",
                manifest_name(&p.prefix)
            ),
            Some(problem) => {
                debug_assert!(problem.is_truncation());
                if !truncate_ok {
                    bail!(
                        "Unexpected end of file reading the append only file {name} (valid up to offset {keep}). You can: 1) Make a backup of your AOF file, then use ringkv check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
                    );
                }
                tracing::warn!("!!! Warning: short read while loading the AOF file {name}!!! ({problem:?})");
                tracing::warn!("!!! Truncating the AOF {name} at offset {keep} !!!");
            }
        }
        if keep < file_len {
            let f = fs::OpenOptions::new().write(true).open(&path)?;
            f.set_len(keep)?;
            f.sync_all()?;
            if v.problem.is_none() {
                tracing::info!("Cut {} bytes of log padding from {name}", file_len - keep);
            }
        }
        if v.problem.is_none() {
            checksummed.insert(name.clone(), v.checksummed);
        }
        if v.problem.is_some() {
            if !is_last {
                bail!("Fatal error: the truncated file {name} is not the last file");
            }
            tracing::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
        }
        total += keep;
        if i == 0 && manifest.base.is_some() {
            base_size = keep;
        }
        let kind = if manifest.base.as_ref().is_some_and(|b| &b.name == name) {
            "base"
        } else {
            "incr"
        };
        tracing::info!(
            "DB loaded from {kind} file {name}: {:.3} seconds",
            file_started.elapsed().as_secs_f64()
        );
    }
    if !files.is_empty() {
        tracing::info!(
            "DB loaded from append only file: {:.3} seconds ({} commands, {} keys from RDB)",
            started.elapsed().as_secs_f64(),
            replayer.commands_applied,
            replayer.rdb_keys_loaded
        );
    }
    if let Some(t) = shared.thread_stats.first() {
        ThreadStats::bump(&t.dirty, ThreadStats::get(&replayer.stats.dirty));
    }
    drop(replayer);
    drop(loading);

    fs::create_dir_all(&p.dir)?;
    let mut changed = false;
    if manifest.base.is_none() && manifest.incrs.is_empty() {
        // Fresh start: an empty base, as Redis writes one.
        let name = base_name(&p.prefix, 1, shared.config.read().aof_use_rdb_preamble);
        let tmp = PathBuf::from(format!("temp-rewriteaof-{}.aof", std::process::id()));
        let rdb = shared.config.read().aof_use_rdb_preamble;
        write_base_file(&tmp, &DatasetCopy::default(), rdb, false)?;
        fs::rename(&tmp, p.dir.join(&name))?;
        manifest.install_base(name.clone(), u64::MAX);
        base_size = fs::metadata(p.dir.join(&name)).map_or(0, |m| m.len());
        total = base_size;
        changed = true;
        tracing::info!("Creating AOF base file {name} on server start");
    }
    // Append to the last incr file when it is ours (checksummed) or empty;
    // a Redis-written one gets a successor so every checksum covers a
    // whole group.
    let reuse = manifest
        .incrs
        .last()
        .filter(|f| match checksummed.get(&f.name) {
            Some(c) => *c,
            // Empty, or cut back after a torn tail: look at what is left.
            None => fs::read(p.dir.join(&f.name))
                .is_ok_and(|d| d.is_empty() || ringkv_engine::aof::validate(&d, 0).checksummed),
        })
        .map(|f| p.dir.join(&f.name));
    let incr_path = match reuse {
        Some(path) => {
            tracing::info!("Opening AOF incr file {} on server start", path.display());
            path
        }
        None => {
            let name = manifest.add_incr(&p.prefix);
            create_empty(&p.dir, &name)?;
            changed = true;
            tracing::info!("Creating AOF incr file {name} on server start");
            p.dir.join(name)
        }
    };
    let history = std::mem::take(&mut manifest.history);
    if changed || !history.is_empty() {
        persist_manifest(&p, &manifest)?;
    }
    for h in history {
        tracing::info!("Removing the history file {}", h.name);
        let _ = fs::remove_file(p.dir.join(&h.name));
    }
    let current_incr = fs::metadata(&incr_path).map_or(0, |m| m.len());
    shared
        .aof
        .size_before_incr
        .store(total.saturating_sub(current_incr), Ordering::Relaxed);
    shared.aof.base_size.store(base_size, Ordering::Relaxed);
    *shared.aof.manifest.lock() = manifest;
    // LSNs start at the incr file's length, so the file's bytes count
    // towards its rotation size and aof_current_size.
    shared
        .aof
        .next_lsn
        .fetch_max(current_incr, Ordering::SeqCst);
    let log = open_log(shared, &incr_path)?;
    let mut active = new_active(shared, log, incr_path);
    active.incr_start_lsn = active.incr_start_lsn.saturating_sub(current_incr);
    let mut w = shared.aof.writer.lock();
    install(shared, &mut w, active);
    *shared.aof.mode.lock() = AofMode::On;
    Ok(())
}

/// Maps an AOF file read-only for loading: no copy into a heap buffer the
/// size of the file (a page fault per 4 KiB of it, then a memcpy).
#[allow(unsafe_code)]
fn map_aof_file(file: &File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the map is only read while its file loads and is dropped
    // before the loader truncates the file; like Redis, we assume nobody
    // else truncates an AOF under a loading server (that would be a
    // SIGBUS, not silent corruption).
    let map = unsafe { memmap2::Mmap::map(file) }?;
    // Read once, front to back.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(map)
}

/// A rewrite interrupted by a crash leaves its temp base in `dir`; no
/// manifest names it, so it is only clutter.
fn remove_stale_temp_files() {
    let Ok(entries) = fs::read_dir(".") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("temp-rewriteaof-") && name.ends_with(".aof") {
            tracing::info!("Removing the stale AOF rewrite temp file {name}");
            let _ = fs::remove_file(e.path());
        }
    }
}

/// Flushes and fsyncs the log at shutdown.
pub fn on_shutdown(shared: &Shared) {
    let mut w = shared.aof.writer.lock();
    if w.is_some() {
        close_active(shared, &mut w, true);
        tracing::info!("Calling fsync() on the AOF file.");
    }
}

/// `CONFIG SET appendonly` took effect: start the initial rewrite (yes) or
/// flush, fsync and close the log (no). Files and manifest stay.
pub fn apply_appendonly(shared: &Arc<Shared>) -> Result<(), String> {
    let want = shared.config.read().appendonly;
    let mode = *shared.aof.mode.lock();
    match (want, mode) {
        (true, AofMode::Off) => {
            *shared.aof.mode.lock() = AofMode::WaitRewrite;
            let p = paths(shared);
            *shared.aof.manifest.lock() = read_manifest(&p).unwrap_or_default();
            if start_rewrite(shared) == RewriteStart::AlreadyRunning {
                shared.aof.rewrite_scheduled.store(true, Ordering::SeqCst);
            }
            Ok(())
        }
        (false, AofMode::On | AofMode::WaitRewrite) => {
            *shared.aof.mode.lock() = AofMode::Off;
            let mut w = shared.aof.writer.lock();
            close_active(shared, &mut w, true);
            shared.aof.write_failed.store(false, Ordering::SeqCst);
            Ok(())
        }
        _ => Ok(()),
    }
}

/// `CONFIG SET appendfsync` / `aof-timestamp-enabled`: reopens the log on
/// the same file with the new policy (closing makes everything durable).
pub fn apply_log_settings(shared: &Shared) -> Result<(), String> {
    let mut w = shared.aof.writer.lock();
    let Some(path) = w.as_ref().map(|a| a.path.clone()) else {
        return Ok(());
    };
    let incr_bytes = w
        .as_ref()
        .map_or(0, |a| a.log.appended_lsn().0 - a.incr_start_lsn);
    close_active(shared, &mut w, false);
    let log = open_log(shared, &path).map_err(|e| format!("{e:#}"))?;
    let mut active = new_active(shared, log, path);
    active.incr_start_lsn -= incr_bytes.min(active.incr_start_lsn);
    install(shared, &mut w, active);
    Ok(())
}

/// BGREWRITEAOF.
pub fn bgrewriteaof(shared: &Arc<Shared>, in_multi: bool) -> Result<&'static str, String> {
    if shared.aof.rewrite_running.load(Ordering::SeqCst) {
        return Err("ERR Background append only file rewriting already in progress".into());
    }
    if in_multi {
        shared.aof.rewrite_scheduled.store(true, Ordering::SeqCst);
        shared.aof.rewrite.lock().consecutive_failures = 0;
        return Ok("Background append only file rewriting scheduled");
    }
    match start_rewrite(shared) {
        RewriteStart::Started => Ok("Background append only file rewriting started"),
        RewriteStart::AlreadyRunning => {
            Err("ERR Background append only file rewriting already in progress".into())
        }
    }
}

pub fn info_fields(shared: &Shared, out: &mut String) {
    let mode = *shared.aof.mode.lock();
    let r = shared.aof.rewrite.lock();
    let running = shared.aof.rewrite_running.load(Ordering::SeqCst);
    let scheduled = shared.aof.rewrite_scheduled.load(Ordering::SeqCst);
    let current_rewrite = r.started.map_or(-1, |s| s.elapsed().as_secs() as i64);
    let b = |v: bool| if v { "1" } else { "0" };
    let fields: [(&str, String); 12] = [
        ("aof_enabled", b(mode != AofMode::Off).into()),
        ("aof_rewrite_in_progress", b(running).into()),
        ("aof_rewrite_scheduled", b(scheduled).into()),
        ("aof_last_rewrite_time_sec", r.last_time_sec.to_string()),
        ("aof_current_rewrite_time_sec", current_rewrite.to_string()),
        (
            "aof_last_bgrewrite_status",
            if r.last_ok { "ok" } else { "err" }.into(),
        ),
        ("aof_rewrites", r.rewrites.to_string()),
        (
            "aof_rewrites_consecutive_failures",
            r.consecutive_failures.to_string(),
        ),
        (
            "aof_last_write_status",
            if shared.aof.log_failed() { "err" } else { "ok" }.into(),
        ),
        ("aof_last_cow_size", "0".into()),
        ("module_fork_in_progress", "0".into()),
        ("module_fork_last_cow_size", "0".into()),
    ];
    drop(r);
    for (k, v) in fields {
        let _ = write!(out, "{k}:{v}\r\n");
    }
    if !shared.config.read().appendonly {
        return;
    }
    let w = shared.aof.writer.lock();
    let (buffer, lag, stats, backend) = match w.as_ref() {
        Some(a) => {
            let appended = a.log.appended_lsn().0;
            (
                appended - a.log.written_lsn().0,
                appended - a.log.durable_lsn().0,
                a.log.stats(),
                shared.backend.name(),
            )
        }
        None => (0, 0, Default::default(), shared.backend.name()),
    };
    drop(w);
    let mean_group = if stats.groups_total == 0 {
        0.0
    } else {
        stats.records_total as f64 / stats.groups_total as f64
    };
    let fsync_mean_us = stats
        .fsync_latency_us_total
        .checked_div(stats.fsyncs_total)
        .unwrap_or(0);
    let _ = write!(
        out,
        "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:{}\r\naof_buffer_length:{buffer}\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:{}\r\n",
        current_size(shared),
        shared.aof.base_size.load(Ordering::Relaxed),
        b(scheduled),
        shared.aof.delayed_fsync.load(Ordering::Relaxed),
    );
    let _ = write!(
        out,
        "aof_io_backend:{backend}\r\naof_fsync_groups:{}\r\naof_fsyncs:{}\r\naof_mean_group_records:{mean_group:.2}\r\naof_fsync_mean_latency_us:{fsync_mean_us}\r\naof_durable_lsn_lag_bytes:{lag}\r\naof_fsyncs_in_flight_max:{}\r\n",
        stats.groups_total, stats.fsyncs_total, stats.syncs_in_flight_max,
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn command_len_walks_resp_commands() {
        let mut p = Propagation::default();
        p.push(0, &[b"set", b"k", b"v\r\nx"]);
        let first = p.buf.len();
        p.push(1, &[b"DEL", b"k"]);
        assert_eq!(command_len(&p.buf), first);
        assert_eq!(command_len(&p.buf[first..]), p.buf.len() - first);
    }
}

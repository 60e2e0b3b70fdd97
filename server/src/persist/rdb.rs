//! RDB snapshots as the server runs them: SAVE, BGSAVE, the save rules,
//! MISCONF, the final save at SHUTDOWN, DEBUG RELOAD, the startup load, and
//! the RDB/fork fields of INFO (issue 4). The snapshot itself is the
//! engine's (`ringkv_engine::snapshot`).

use std::fmt::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

use anyhow::Context;
use parking_lot::Mutex;
use ringkv_engine::rdb::{AuxInfo, EncodingThresholds, RdbWriteOptions};
use ringkv_engine::snapshot::{
    self, LoadOptions, LoadStats, Progress, SnapshotError, SnapshotHandle, SnapshotMode,
    SnapshotTarget,
};

use crate::config::{SaveParam, SnapshotMode as ConfigSnapshotMode};
use crate::shared::Shared;

/// Redis's MISCONF reply when the last BGSAVE failed.
pub const MISCONF_RDB: &str = "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
pub const ERR_BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";
pub const ERR_OTHER_CHILD: &str = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";
/// Automatic snapshots after a failure wait this long (CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_S: u64 = 5;

/// What SHUTDOWN asked for (SIGTERM/SIGINT leave it at `Default`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ShutdownSave {
    /// Save if save points are configured.
    Default = 0,
    Save = 1,
    NoSave = 2,
}

/// State of the RDB side, shared by all threads. The atomics are read on
/// hot paths (MISCONF on every write) and by INFO; `inner` holds the
/// running BGSAVE and is never held while slots are being locked.
#[derive(Default)]
pub struct RdbState {
    /// `rdb_last_bgsave_status:err`.
    last_bgsave_failed: AtomicBool,
    /// `server.lastsave` in Unix seconds; 0 = never saved (startup time).
    lastsave_unix_s: AtomicU64,
    /// The dirty total covered by the last successful save.
    dirty_baseline: AtomicU64,
    rdb_saves: AtomicU64,
    total_forks: AtomicU64,
    latest_fork_usec: AtomicU64,
    /// True from a BGSAVE's start until cron has collected its result.
    bgsave_active: AtomicBool,
    shutdown_save: AtomicU8,
    last_load_keys_loaded: AtomicU64,
    last_load_keys_expired: AtomicU64,
    loading: AtomicBool,
    /// A load stopped half-way for a shutdown (see `loading_progress`).
    load_interrupted: AtomicBool,
    inner: Mutex<Inner>,
}

struct Inner {
    running: Option<Running>,
    scheduled: bool,
    last_bgsave_try: Option<Instant>,
    last_bgsave_time_sec: i64,
    rdb_last_cow_size: u64,
    /// Forkless figures of the last finished snapshot.
    last_early_slots: u64,
    last_early_keys: u64,
    last_extra_bytes_peak: u64,
    loading_info: Option<LoadingInfo>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            running: None,
            scheduled: false,
            last_bgsave_try: None,
            last_bgsave_time_sec: -1,
            rdb_last_cow_size: 0,
            last_early_slots: 0,
            last_early_keys: 0,
            last_extra_bytes_peak: 0,
            loading_info: None,
        }
    }
}

struct Running {
    handle: SnapshotHandle,
    dirty_before: u64,
}

#[derive(Debug, Clone, Copy)]
struct LoadingInfo {
    start_unix_s: u64,
    started: Instant,
    total_bytes: u64,
    loaded_bytes: u64,
    rdb_used_mem: u64,
}

impl std::fmt::Debug for RdbState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RdbState")
            .field("bgsave_active", &self.bgsave_active)
            .finish_non_exhaustive()
    }
}

impl RdbState {
    pub fn request_shutdown_save(&self, mode: ShutdownSave) {
        self.shutdown_save.store(mode as u8, Ordering::Relaxed);
    }

    fn shutdown_mode(&self) -> ShutdownSave {
        match self.shutdown_save.load(Ordering::Relaxed) {
            1 => ShutdownSave::Save,
            2 => ShutdownSave::NoSave,
            _ => ShutdownSave::Default,
        }
    }
}

/// Why a BGSAVE did not start.
#[derive(Debug, PartialEq, Eq)]
pub enum BgsaveRefusal {
    InProgress,
    /// Another snapshot (an AOF rewrite) runs.
    OtherChild,
    /// fork() (or starting the writer) failed.
    Failed,
}

fn dirty_total(shared: &Shared) -> u64 {
    shared.sum_thread_stat(|s| &s.dirty)
}

fn now_s() -> u64 {
    ringkv_engine::clock::now_ms() / 1000
}

/// `LASTSAVE`: the last successful save, or the startup time.
pub fn lastsave(shared: &Shared) -> u64 {
    match shared.rdb.lastsave_unix_s.load(Ordering::Relaxed) {
        0 => shared.started_unix_ms / 1000,
        t => t,
    }
}

pub fn changes_since_last_save(shared: &Shared) -> u64 {
    dirty_total(shared).saturating_sub(shared.rdb.dirty_baseline.load(Ordering::Relaxed))
}

/// The directory saves go to. The process chdir()s to `dir` at startup, so
/// a relative `dir` is the working directory.
fn data_dir(dir: &Path) -> PathBuf {
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        PathBuf::from(".")
    }
}

/// Where and how a snapshot of the current settings is written.
pub fn snapshot_target(shared: &Shared) -> SnapshotTarget {
    let s = shared.config.read();
    SnapshotTarget {
        dir: data_dir(&s.dir),
        filename: s.dbfilename.clone(),
        temp_filename: None,
        opts: write_options(&s),
        aux: AuxInfo {
            ctime_s: now_s(),
            used_mem_bytes: crate::memory::snapshot().allocated,
            aof_base: false,
        },
        key_save_delay_us: s
            .get_one("rdb-key-save-delay")
            .and_then(|v| v.parse::<i64>().ok())
            .map_or(0, |v| v.max(0) as u64),
    }
}

/// RDB encoder options from the settings (compression, checksum, and the
/// encoding thresholds, so files match what redis-server would write).
pub fn write_options(s: &crate::config::Settings) -> RdbWriteOptions {
    RdbWriteOptions {
        compression: s.rdbcompression,
        checksum: s.rdbchecksum,
        thresholds: EncodingThresholds {
            hash_max_listpack_entries: s.hash_max_listpack_entries as usize,
            hash_max_listpack_value: s.hash_max_listpack_value_bytes as usize,
            zset_max_listpack_entries: s.zset_max_listpack_entries as usize,
            zset_max_listpack_value: s.zset_max_listpack_value_bytes as usize,
            set_max_intset_entries: s.set_max_intset_entries as usize,
            list_max_listpack_size: i64::from(s.list_max_listpack_size),
            ..EncodingThresholds::default()
        },
    }
}

pub fn configured_mode(shared: &Shared) -> SnapshotMode {
    match shared.config.read().snapshot_mode {
        ConfigSnapshotMode::Forkless => SnapshotMode::Forkless,
        ConfigSnapshotMode::Fork => SnapshotMode::Fork,
    }
}

/// Starts a BGSAVE in the configured mode.
pub fn bgsave_start(shared: &Shared) -> Result<(), BgsaveRefusal> {
    let state = &shared.rdb;
    if state
        .bgsave_active
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return Err(BgsaveRefusal::InProgress);
    }
    if shared.keyspace.snapshot_running() {
        state.bgsave_active.store(false, Ordering::Release);
        return Err(BgsaveRefusal::OtherChild);
    }
    let mode = configured_mode(shared);
    let target = snapshot_target(shared);
    state.rdb_saves.fetch_add(1, Ordering::Relaxed);
    state.inner.lock().last_bgsave_try = Some(Instant::now());
    let dirty_before = dirty_total(shared);
    match snapshot::start(&shared.keyspace, mode, target, |_| {}) {
        Ok(handle) => {
            if mode == SnapshotMode::Fork {
                state.total_forks.fetch_add(1, Ordering::Relaxed);
                state.latest_fork_usec.store(
                    Progress::get(&handle.progress().fork_usec),
                    Ordering::Relaxed,
                );
                tracing::info!("Background saving started (fork mode)");
            } else {
                tracing::info!("Background saving started (forkless mode)");
            }
            state.inner.lock().running = Some(Running {
                handle,
                dirty_before,
            });
            Ok(())
        }
        Err(SnapshotError::Busy) => {
            state.rdb_saves.fetch_sub(1, Ordering::Relaxed);
            state.bgsave_active.store(false, Ordering::Release);
            Err(BgsaveRefusal::OtherChild)
        }
        Err(e) => {
            tracing::warn!("Can't save in background: {e}");
            state.last_bgsave_failed.store(true, Ordering::Release);
            state.bgsave_active.store(false, Ordering::Release);
            Err(BgsaveRefusal::Failed)
        }
    }
}

/// `BGSAVE SCHEDULE` (or BGSAVE inside EXEC): run when nothing else does.
pub fn bgsave_schedule(shared: &Shared) {
    shared.rdb.inner.lock().scheduled = true;
}

pub fn bgsave_in_progress(shared: &Shared) -> bool {
    shared.rdb.bgsave_active.load(Ordering::Acquire)
}

/// SAVE: a synchronous snapshot. Other io-threads keep serving (the image
/// is still the dataset at the moment SAVE started).
pub fn save_now(shared: &Shared) -> Result<(), SnapshotError> {
    let state = &shared.rdb;
    state.rdb_saves.fetch_add(1, Ordering::Relaxed);
    let dirty_before = dirty_total(shared);
    let outcome = save_blocking_when_free(shared)?;
    record_success(shared, dirty_before);
    tracing::info!(
        "DB saved on disk ({} keys, {} bytes, {:.3} s)",
        outcome.save.write.keys_written,
        outcome.save.write.bytes_written,
        outcome.elapsed.as_secs_f64()
    );
    Ok(())
}

/// A synchronous save, waiting for a running AOF-rewrite snapshot to end
/// first (Redis lets SAVE run while an AOF child works; here only one
/// snapshot runs at a time, so SAVE waits for it).
fn save_blocking_when_free(shared: &Shared) -> Result<snapshot::SnapshotOutcome, SnapshotError> {
    loop {
        match snapshot::save_blocking(&shared.keyspace, snapshot_target(shared)) {
            Err(SnapshotError::Busy) if !bgsave_in_progress(shared) => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn record_success(shared: &Shared, dirty_before: u64) {
    let state = &shared.rdb;
    state.lastsave_unix_s.store(now_s(), Ordering::Relaxed);
    state.dirty_baseline.store(dirty_before, Ordering::Relaxed);
    state.last_bgsave_failed.store(false, Ordering::Release);
}

/// Collects a finished BGSAVE's result (Redis's checkChildrenDone).
fn collect_finished(shared: &Shared) {
    let state = &shared.rdb;
    let mut inner = state.inner.lock();
    let finished = inner
        .running
        .as_ref()
        .is_some_and(|r| r.handle.is_finished());
    if !finished {
        return;
    }
    let Some(mut running) = inner.running.take() else {
        return;
    };
    let p = running.handle.progress();
    let elapsed = running.handle.started().elapsed();
    inner.last_bgsave_time_sec = elapsed.as_secs() as i64;
    if running.handle.mode() == SnapshotMode::Forkless {
        inner.last_early_slots = Progress::get(&p.early_slots);
        inner.last_early_keys = Progress::get(&p.early_keys);
        inner.last_extra_bytes_peak = Progress::get(&p.extra_bytes_peak);
    }
    let cow_peak = Progress::get(&p.cow_peak_bytes);
    match running.handle.try_result() {
        Some(Ok(outcome)) => {
            if running.handle.mode() == SnapshotMode::Fork {
                inner.rdb_last_cow_size = cow_peak;
                tracing::info!("Fork CoW for RDB: peak {} MB", cow_peak / (1024 * 1024));
            }
            drop(inner);
            record_success(shared, running.dirty_before);
            tracing::info!(
                "Background saving terminated with success ({} keys, {} bytes)",
                outcome.save.write.keys_written,
                outcome.save.write.bytes_written
            );
        }
        Some(Err(SnapshotError::Aborted)) => {
            drop(inner);
            tracing::warn!("Background saving terminated by request");
        }
        Some(Err(e)) => {
            drop(inner);
            state.last_bgsave_failed.store(true, Ordering::Release);
            tracing::warn!("Background saving error: {e}");
        }
        None => {}
    }
    state.bgsave_active.store(false, Ordering::Release);
}

/// Called by the cron thread at `hz`: collects a finished BGSAVE, starts a
/// scheduled one, and applies the `save <seconds> <changes>` rules.
pub fn cron(shared: &Shared) {
    collect_finished(shared);
    if bgsave_in_progress(shared) || shared.keyspace.snapshot_running() {
        return;
    }
    let state = &shared.rdb;
    let (scheduled, retry_ok) = {
        let inner = state.inner.lock();
        let retry_ok = !state.last_bgsave_failed.load(Ordering::Acquire)
            || inner
                .last_bgsave_try
                .is_none_or(|t| t.elapsed().as_secs() > BGSAVE_RETRY_DELAY_S);
        (inner.scheduled, retry_ok)
    };
    let trigger = if scheduled && retry_ok {
        Some("scheduled BGSAVE".to_string())
    } else {
        let changes = changes_since_last_save(shared);
        let since_save = now_s().saturating_sub(lastsave(shared));
        let params = shared.config.read().save_params.clone();
        due_save_rule(&params, changes, since_save, retry_ok)
            .map(|p| format!("{} changes in {} seconds. Saving...", p.changes, p.seconds))
    };
    if let Some(reason) = trigger {
        tracing::info!("{reason}");
        if bgsave_start(shared).is_ok() {
            state.inner.lock().scheduled = false;
        }
    }
}

/// The first `save <seconds> <changes>` rule that fires: at least
/// `changes` writes and strictly more than `seconds` since the last save
/// (Redis's serverCron), and not within the retry delay after a failure.
fn due_save_rule(
    params: &[SaveParam],
    changes: u64,
    since_save_s: u64,
    retry_ok: bool,
) -> Option<&SaveParam> {
    if !retry_ok {
        return None;
    }
    params
        .iter()
        .find(|p| changes >= p.changes && since_save_s > p.seconds)
}

/// MISCONF: refuses writes (and PING) after a failed BGSAVE while save
/// points exist and `stop-writes-on-bgsave-error` is on. One atomic load
/// when all is well.
pub fn write_refusal(shared: &Shared) -> Option<String> {
    if !shared.rdb.last_bgsave_failed.load(Ordering::Acquire) {
        return None;
    }
    let s = shared.config.read();
    (s.stop_writes_on_bgsave_error && !s.save_params.is_empty()).then(|| MISCONF_RDB.to_string())
}

/// Maps a file read-only.
#[allow(unsafe_code)]
fn map_file(file: &std::fs::File) -> std::io::Result<memmap2::Mmap> {
    // SAFETY: the RDB is only read through the map while loading; like
    // Redis, we assume nobody truncates the file underneath a loading
    // server (that would be a SIGBUS, not silent corruption).
    unsafe { memmap2::Mmap::map(file) }
}

/// Loads `path` into the (empty) keyspace, maintaining the INFO loading
/// fields and logging progress.
pub fn load_file(shared: &Shared, path: &Path) -> anyhow::Result<Option<LoadStats>> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("opening {}", path.display())),
    };
    let total_bytes = file.metadata()?.len();
    let map;
    let data: &[u8] = if total_bytes == 0 {
        &[]
    } else {
        map = map_file(&file).with_context(|| format!("mapping {}", path.display()))?;
        &map
    };
    let state = &shared.rdb;
    let started = Instant::now();
    let loading = begin_loading(shared, total_bytes);
    state.last_load_keys_loaded.store(0, Ordering::Relaxed);
    state.last_load_keys_expired.store(0, Ordering::Relaxed);
    let opts = {
        let s = shared.config.read();
        LoadOptions {
            verify_checksum: s.rdbchecksum,
            drop_expired: true,
            now_ms: ringkv_engine::clock::now_ms(),
            key_delay_us: key_load_delay_us(&s),
            progress_interval_bytes: s
                .get_one("loading-process-events-interval-bytes")
                .and_then(|v| v.parse().ok())
                .unwrap_or(snapshot::PROGRESS_INTERVAL_BYTES),
        }
    };
    let mut logged_at = 0;
    let result = snapshot::load_rdb(&shared.keyspace, data, opts, |pos| {
        if pos >= logged_at + snapshot::PROGRESS_INTERVAL_BYTES {
            logged_at = pos;
            tracing::info!(
                "Loading RDB: {pos} of {total_bytes} bytes ({:.1}%)",
                pos as f64 * 100.0 / total_bytes.max(1) as f64
            );
        }
        loading_progress(shared, pos)
    });
    drop(loading);
    let stats = result.with_context(|| format!("loading {}", path.display()))?;
    state
        .last_load_keys_loaded
        .store(stats.keys_loaded, Ordering::Relaxed);
    state
        .last_load_keys_expired
        .store(stats.keys_expired, Ordering::Relaxed);
    tracing::info!(
        "DB loaded from disk: {:.3} seconds",
        started.elapsed().as_secs_f64()
    );
    tracing::info!(
        "Done loading RDB, keys loaded: {}, keys expired: {}.",
        stats.keys_loaded,
        stats.keys_expired
    );
    Ok(Some(stats))
}

/// Loads `dir/dbfilename` at startup; a missing file is an empty start,
/// any other problem stops the server (as in Redis).
pub fn load_at_startup(shared: &Shared) -> anyhow::Result<()> {
    let path = {
        let s = shared.config.read();
        data_dir(&s.dir).join(&s.dbfilename)
    };
    load_file(shared, &path)
        .map(|_| ())
        .context("Fatal error loading the DB, check server logs. Exiting.")
}

/// Redis's hidden `key-load-delay`: µs to pause after each loaded key or
/// replayed command (0: none), so that a test can watch a load.
pub(crate) fn key_load_delay_us(s: &crate::config::Config) -> u64 {
    s.get_one("key-load-delay")
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(0, |v| v.max(0) as u64)
}

/// Clears the INFO `loading_*` fields when dropped, however the load ends.
pub(crate) struct LoadingFields<'a>(&'a Shared);

impl Drop for LoadingFields<'_> {
    fn drop(&mut self) {
        self.0.rdb.loading.store(false, Ordering::Release);
        self.0.rdb.inner.lock().loading_info = None;
    }
}

/// Starts the INFO `loading_*` fields for a load of `total_bytes`; they
/// last as long as the returned guard.
#[must_use]
pub(crate) fn begin_loading(shared: &Shared, total_bytes: u64) -> LoadingFields<'_> {
    shared.rdb.inner.lock().loading_info = Some(LoadingInfo {
        start_unix_s: now_s(),
        started: Instant::now(),
        total_bytes,
        loaded_bytes: 0,
        rdb_used_mem: 0,
    });
    shared.rdb.loading.store(true, Ordering::Release);
    LoadingFields(shared)
}

/// Records that `loaded_bytes` are loaded; breaks when the server is
/// shutting down. Redis 7.0 exits at once, without saving, on a SIGTERM or
/// SHUTDOWN during a load: the data on disk is the whole dataset, the
/// memory only part of it.
pub(crate) fn loading_progress(shared: &Shared, loaded_bytes: u64) -> ControlFlow<()> {
    if let Some(l) = shared.rdb.inner.lock().loading_info.as_mut() {
        l.loaded_bytes = loaded_bytes;
    }
    if shared.is_shutting_down() {
        shared.rdb.request_shutdown_save(ShutdownSave::NoSave);
        shared.rdb.load_interrupted.store(true, Ordering::Release);
        return ControlFlow::Break(());
    }
    ControlFlow::Continue(())
}

/// Whether a load stopped half-way because the server is shutting down
/// (then the load's error is no failure: the server exits cleanly).
pub fn load_was_interrupted(shared: &Shared) -> bool {
    shared.rdb.load_interrupted.load(Ordering::Acquire)
}

/// DEBUG RELOAD: save, empty the keyspace, load the file back.
pub fn debug_reload(shared: &Shared) -> Result<(), String> {
    if let Err(e) = save_now(shared) {
        tracing::warn!("DEBUG RELOAD: saving failed: {e}");
        return Err("ERR Error trying to save the DB, check the logs.".into());
    }
    {
        let mut guards = shared.keyspace.lock_all();
        for slot in guards.iter_mut() {
            for db in 0..shared.keyspace.db_count() {
                if slot.db(db).is_some_and(|d| !d.is_empty()) {
                    slot.touch_all_watched(db, true);
                    drop(slot.db_mut(db).take());
                }
            }
        }
    }
    let path = snapshot_target(shared);
    match load_file(shared, &path.dir.join(&path.filename)) {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::warn!("DEBUG RELOAD: loading failed: {e:#}");
            Err("ERR Error trying to load the RDB dump, check server logs.".into())
        }
    }
}

/// At exit, after the io-threads stopped: stop a running BGSAVE and write
/// the final snapshot when save points exist (or SHUTDOWN SAVE asked).
pub fn on_shutdown(shared: &Shared) {
    let running = shared.rdb.inner.lock().running.take();
    if let Some(r) = running {
        tracing::warn!("There is a child saving an .rdb. Killing it!");
        r.handle.abort();
        shared.rdb.bgsave_active.store(false, Ordering::Release);
    }
    let save = match shared.rdb.shutdown_mode() {
        ShutdownSave::Save => true,
        ShutdownSave::NoSave => false,
        ShutdownSave::Default => !shared.config.read().save_params.is_empty(),
    };
    if !save {
        return;
    }
    tracing::info!("Saving the final RDB snapshot before exiting.");
    // The final save is not counted in rdb_saves (as in Redis).
    let dirty_before = dirty_total(shared);
    match save_blocking_when_free(shared) {
        Ok(_) => {
            record_success(shared, dirty_before);
            tracing::info!("DB saved on disk");
        }
        Err(e) => tracing::warn!("Error trying to save the DB, can't exit: {e}"),
    }
}

/// `latest_fork_usec` and `total_forks` for INFO stats.
pub fn fork_stats(shared: &Shared) -> (u64, u64) {
    let s = &shared.rdb;
    (
        s.latest_fork_usec.load(Ordering::Relaxed),
        s.total_forks.load(Ordering::Relaxed),
    )
}

pub fn info_fields(shared: &Shared, out: &mut String) {
    let state = &shared.rdb;
    let inner = state.inner.lock();
    let now_ms = ringkv_engine::clock::now_ms();
    let (mut cow_peak, mut cow_size, mut cow_age, mut perc, mut processed, mut total) =
        (0, 0, 0, 0.0, 0, 0);
    let mut current_time = -1i64;
    if let Some(r) = &inner.running {
        let p = r.handle.progress();
        cow_peak = Progress::get(&p.cow_peak_bytes);
        cow_size = Progress::get(&p.cow_size_bytes);
        let at = Progress::get(&p.cow_sampled_at_ms);
        if at > 0 {
            cow_age = now_ms.saturating_sub(at) / 1000;
        }
        processed = Progress::get(&p.keys_processed);
        total = Progress::get(&p.keys_total);
        if total > 0 {
            perc = processed as f64 * 100.0 / total as f64;
        }
        current_time = r.handle.started().elapsed().as_secs() as i64;
    }
    let status = if state.last_bgsave_failed.load(Ordering::Acquire) {
        "err"
    } else {
        "ok"
    };
    let fields: [(&str, String); 18] = [
        (
            "loading",
            u8::from(
                state.loading.load(Ordering::Acquire) || shared.loading.load(Ordering::Acquire),
            )
            .to_string(),
        ),
        ("async_loading", "0".into()),
        ("current_cow_peak", cow_peak.to_string()),
        ("current_cow_size", cow_size.to_string()),
        ("current_cow_size_age", cow_age.to_string()),
        ("current_fork_perc", format!("{perc:.2}")),
        ("current_save_keys_processed", processed.to_string()),
        ("current_save_keys_total", total.to_string()),
        (
            "rdb_changes_since_last_save",
            changes_since_last_save(shared).to_string(),
        ),
        (
            "rdb_bgsave_in_progress",
            u8::from(bgsave_in_progress(shared)).to_string(),
        ),
        ("rdb_last_save_time", lastsave(shared).to_string()),
        ("rdb_last_bgsave_status", status.into()),
        (
            "rdb_last_bgsave_time_sec",
            inner.last_bgsave_time_sec.to_string(),
        ),
        ("rdb_current_bgsave_time_sec", current_time.to_string()),
        (
            "rdb_saves",
            state.rdb_saves.load(Ordering::Relaxed).to_string(),
        ),
        ("rdb_last_cow_size", inner.rdb_last_cow_size.to_string()),
        (
            "rdb_last_load_keys_expired",
            state
                .last_load_keys_expired
                .load(Ordering::Relaxed)
                .to_string(),
        ),
        (
            "rdb_last_load_keys_loaded",
            state
                .last_load_keys_loaded
                .load(Ordering::Relaxed)
                .to_string(),
        ),
    ];
    for (k, v) in fields {
        let _ = write!(out, "{k}:{v}\r\n");
    }
}

/// Fields after the AOF block: Redis's `loading_*` while loading, then
/// ringkv's snapshot figures.
pub fn info_extra_fields(shared: &Shared, out: &mut String) {
    let inner = shared.rdb.inner.lock();
    if let Some(l) = inner.loading_info {
        let perc = l.loaded_bytes as f64 * 100.0 / l.total_bytes.max(1) as f64;
        let elapsed = l.started.elapsed().as_secs_f64().max(1e-3);
        let eta = if l.loaded_bytes == 0 {
            1
        } else {
            ((l.total_bytes.saturating_sub(l.loaded_bytes)) as f64 * elapsed
                / l.loaded_bytes as f64) as u64
        };
        let _ = write!(
            out,
            "loading_start_time:{}\r\nloading_total_bytes:{}\r\nloading_rdb_used_mem:{}\r\nloading_loaded_bytes:{}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n",
            l.start_unix_s, l.total_bytes, l.rdb_used_mem, l.loaded_bytes
        );
    }
    let (early, early_keys, peak, now_extra) = match &inner.running {
        Some(r) if r.handle.mode() == SnapshotMode::Forkless => {
            let p = r.handle.progress();
            (
                Progress::get(&p.early_slots),
                Progress::get(&p.early_keys),
                Progress::get(&p.extra_bytes_peak),
                Progress::get(&p.extra_bytes),
            )
        }
        _ => (
            inner.last_early_slots,
            inner.last_early_keys,
            inner.last_extra_bytes_peak,
            0,
        ),
    };
    let mode = configured_mode(shared).name();
    let _ = write!(
        out,
        "snapshot_mode:{mode}\r\nforkless_early_slots:{early}\r\nforkless_early_keys:{early_keys}\r\nforkless_extra_bytes:{now_extra}\r\nforkless_extra_bytes_peak:{peak}\r\n"
    );
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn save_rules_need_enough_changes_and_strictly_more_seconds() {
        let rules = [
            SaveParam {
                seconds: 3600,
                changes: 1,
            },
            SaveParam {
                seconds: 60,
                changes: 100,
            },
        ];
        assert!(due_save_rule(&rules, 0, 10_000, true).is_none());
        assert!(due_save_rule(&rules, 1, 3600, true).is_none());
        assert_eq!(due_save_rule(&rules, 1, 3601, true).unwrap().seconds, 3600);
        assert_eq!(due_save_rule(&rules, 100, 61, true).unwrap().seconds, 60);
        assert!(due_save_rule(&rules, 100, 60, true).is_none());
        assert!(due_save_rule(&rules, 1000, 10_000, false).is_none());
        assert!(due_save_rule(&[], 1000, 10_000, true).is_none());
    }

    #[test]
    fn relative_dirs_are_the_working_directory() {
        assert_eq!(
            data_dir(Path::new("/var/lib/ringkv")),
            PathBuf::from("/var/lib/ringkv")
        );
        assert_eq!(data_dir(Path::new("./data")), PathBuf::from("."));
    }
}

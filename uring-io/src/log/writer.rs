//! [`GroupCommitLog`]: appends go into a shared buffer under a short lock;
//! one writer thread swaps that buffer out and writes everything appended
//! since the last group as one write (+ `fdatasync` under `Always`). While
//! a group is on its way to disk the next one fills.
//!
//! Overlapped syncs (`Always` on a disk that offers them): the writer does
//! not wait for a group's `fdatasync` before writing the next group and
//! starting its `fdatasync`, up to [`LogConfig::sync_overlap_max`] in
//! flight. A sync covers everything written before it started, so the
//! durable LSN is the LSN of the newest sync whose predecessors all
//! succeeded too (a failed sync is never stepped over). The writer then
//! waits on the disk (finished syncs, or the disk's waker that appenders
//! ring) instead of on the condition variable.
//!
//! Bug story (the fsync lesson): when `fsync` fails, the kernel may already
//! have dropped the dirty pages, and a retry that succeeds proves nothing.
//! So the first failed write or fsync fails the log for good: appends are
//! refused and the durable LSN never moves past what was really synced.

use std::collections::VecDeque;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::disk::{FsDisk, LogDisk};
use super::metrics::{FsyncKind, LogMetrics};
use super::segment::Segment;
use super::{LogConfig, LogError, Lsn, SyncPolicy};
use crate::net::Waker;

/// How long an idle writer sleeps before looking again on its own.
const IDLE_WAIT: Duration = Duration::from_millis(500);

/// Counters since open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    pub groups_total: u64,
    pub records_total: u64,
    pub bytes_total: u64,
    pub fsyncs_total: u64,
    /// Most records written by one group.
    pub group_records_max: u64,
    /// Most group syncs in flight at once (overlapped syncs; 0 if none).
    pub syncs_in_flight_max: u64,
    pub fsync_latency_us_total: u64,
}

/// What appenders and the writer share under the lock.
struct State {
    /// Appended, not yet taken by the writer.
    buf: Vec<u8>,
    records: u64,
    appended_lsn: u64,
    /// Switch to a new segment file at this LSN (in LSN order).
    rotations: VecDeque<(u64, PathBuf)>,
    sync_requested: bool,
    closing: bool,
    failed: Option<Arc<io::Error>>,
    /// How the writer is waiting for work, i.e. how to wake it.
    writer_wait: WriterWait,
    durable_waiters: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WriterWait {
    /// Not waiting (or about to look again): no wake needed.
    Busy,
    Condvar,
    /// In [`LogDisk::wait_syncs`]: wake through the disk's waker.
    Disk,
}

struct Shared {
    state: Mutex<State>,
    writer_cv: Condvar,
    durable_cv: Condvar,
    written_lsn: AtomicU64,
    durable_lsn: AtomicU64,
    wakers: Mutex<Vec<Waker>>,
    stats: Mutex<LogStats>,
    /// Cuts the writer's [`LogDisk::wait_syncs`] short.
    disk_waker: Option<Waker>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock is a bug elsewhere; the state is
        // still consistent (every update is a single step), so carry on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the writer if it waits; consumes the guard.
    fn kick_writer(&self, mut st: MutexGuard<'_, State>) {
        let wait = std::mem::replace(&mut st.writer_wait, WriterWait::Busy);
        drop(st);
        match wait {
            WriterWait::Busy => {}
            WriterWait::Condvar => self.writer_cv.notify_one(),
            WriterWait::Disk => {
                if let Some(w) = &self.disk_waker {
                    w.wake();
                }
            }
        }
    }

    fn notify_progress(&self) {
        let waiting = self.lock().durable_waiters > 0;
        if waiting {
            self.durable_cv.notify_all();
        }
        for waker in self.wakers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            waker.wake();
        }
    }
}

/// A group-commit log writing to one segment file at a time. Share it
/// between threads behind an `Arc`; every method takes `&self`.
pub struct GroupCommitLog {
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl GroupCommitLog {
    /// Opens (or creates) the segment at `path` and starts the writer
    /// thread. Appends continue at the file's current end, numbered from
    /// `start_lsn`; the caller has cut any torn tail or zero padding.
    pub fn open(cfg: LogConfig, path: &Path, start_lsn: Lsn) -> Result<GroupCommitLog, LogError> {
        let disk = FsDisk::new(cfg.backend, cfg.sync_method, cfg.sync_overlap_max)
            .map_err(|e| LogError::Open(Arc::new(e)))?;
        Self::open_on(Box::new(disk), cfg, path, start_lsn)
    }

    /// Like [`open`](Self::open), on any [`LogDisk`] (e.g. a
    /// [`SimDisk`](super::SimDisk) in crash tests); `cfg.backend` and
    /// `cfg.sync_method` are then up to the disk.
    pub fn open_on(
        mut disk: Box<dyn LogDisk>,
        cfg: LogConfig,
        path: &Path,
        start_lsn: Lsn,
    ) -> Result<GroupCommitLog, LogError> {
        let open_err = |e: io::Error| LogError::Open(Arc::new(e));
        let segment =
            Segment::open(disk.as_mut(), path, cfg.segment_prealloc_bytes).map_err(open_err)?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buf: Vec::new(),
                records: 0,
                appended_lsn: start_lsn.0,
                rotations: VecDeque::new(),
                sync_requested: false,
                closing: false,
                failed: None,
                writer_wait: WriterWait::Busy,
                durable_waiters: 0,
            }),
            writer_cv: Condvar::new(),
            durable_cv: Condvar::new(),
            written_lsn: AtomicU64::new(start_lsn.0),
            durable_lsn: AtomicU64::new(start_lsn.0),
            wakers: Mutex::new(Vec::new()),
            stats: Mutex::new(LogStats::default()),
            disk_waker: disk.sync_waker(),
        });
        let sync_overlap_max = if cfg.sync == SyncPolicy::Always {
            cfg.sync_overlap_max.min(disk.sync_overlap_max()).max(1)
        } else {
            1
        };
        let mut writer = Writer {
            shared: shared.clone(),
            cfg,
            segment,
            disk,
            written_lsn: start_lsn.0,
            durable_lsn: start_lsn.0,
            next_sync_at: Instant::now(),
            trailer: Vec::new(),
            metrics: LogMetrics::new(),
            sync_overlap_max,
            syncs: VecDeque::new(),
            syncs_done: Vec::new(),
        };
        let handle = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn(move || writer.run())
            .map_err(open_err)?;
        Ok(GroupCommitLog {
            shared,
            writer: Mutex::new(Some(handle)),
        })
    }

    /// Appends one record; returns the LSN just past it. Never blocks on
    /// I/O. Log order is call order: callers that need a per-key order
    /// append while holding that key's lock.
    pub fn append(&self, record: &[u8]) -> Result<Lsn, LogError> {
        let mut st = self.shared.lock();
        if let Some(e) = &st.failed {
            return Err(LogError::Failed(e.clone()));
        }
        if st.closing {
            return Err(LogError::Closed);
        }
        st.buf.extend_from_slice(record);
        st.records += 1;
        st.appended_lsn += record.len() as u64;
        let lsn = Lsn(st.appended_lsn);
        self.shared.kick_writer(st);
        Ok(lsn)
    }

    pub fn appended_lsn(&self) -> Lsn {
        Lsn(self.shared.lock().appended_lsn)
    }

    /// Everything below this LSN has been written (survives a process
    /// crash, not necessarily power loss).
    pub fn written_lsn(&self) -> Lsn {
        Lsn(self.shared.written_lsn.load(Ordering::Acquire))
    }

    /// Everything below this LSN is on stable storage.
    pub fn durable_lsn(&self) -> Lsn {
        Lsn(self.shared.durable_lsn.load(Ordering::Acquire))
    }

    /// The sticky failure, if any.
    pub fn failure(&self) -> Option<LogError> {
        self.shared.lock().failed.clone().map(LogError::Failed)
    }

    /// `waker` is woken whenever the written or durable LSN advances, and
    /// when the log fails, so an event loop can release waiting replies
    /// without blocking.
    pub fn register_waker(&self, waker: Waker) {
        self.shared
            .wakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(waker);
    }

    /// Asks for everything appended so far to be made durable (whatever the
    /// policy); returns the LSN to wait for.
    pub fn sync(&self) -> Result<Lsn, LogError> {
        let mut st = self.shared.lock();
        if let Some(e) = &st.failed {
            return Err(LogError::Failed(e.clone()));
        }
        st.sync_requested = true;
        let lsn = Lsn(st.appended_lsn);
        self.shared.kick_writer(st);
        Ok(lsn)
    }

    /// Switches to a new segment file at `path`: records up to the returned
    /// LSN stay in the current segment, which is synced and trimmed of its
    /// preallocated tail; everything appended later goes to the new one.
    /// The old segment is complete once `durable_lsn() >= ` the result.
    pub fn rotate(&self, path: PathBuf) -> Result<Lsn, LogError> {
        let mut st = self.shared.lock();
        if let Some(e) = &st.failed {
            return Err(LogError::Failed(e.clone()));
        }
        if st.closing {
            return Err(LogError::Closed);
        }
        let lsn = st.appended_lsn;
        debug_assert!(st.rotations.iter().all(|(l, _)| *l <= lsn));
        st.rotations.push_back((lsn, path));
        self.shared.kick_writer(st);
        Ok(Lsn(lsn))
    }

    /// Blocks until `lsn` is durable, the log fails, or `timeout` passes
    /// (returns false). For shutdown, tools and tests; event loops use
    /// [`register_waker`](Self::register_waker) instead.
    pub fn wait_durable(&self, lsn: Lsn, timeout: Duration) -> Result<bool, LogError> {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.lock();
        st.durable_waiters += 1;
        let result = loop {
            if self.durable_lsn() >= lsn {
                break Ok(true);
            }
            if let Some(e) = &st.failed {
                break Err(LogError::Failed(e.clone()));
            }
            let now = Instant::now();
            if now >= deadline {
                break Ok(false);
            }
            st = self
                .shared
                .durable_cv
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        };
        st.durable_waiters -= 1;
        result
    }

    pub fn stats(&self) -> LogStats {
        *self.shared.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes and syncs everything appended, trims the segment's
    /// preallocated tail and stops the writer. Returns the final durable
    /// LSN. Later appends fail with [`LogError::Closed`].
    pub fn close(&self) -> Result<Lsn, LogError> {
        let mut st = self.shared.lock();
        st.closing = true;
        self.shared.kick_writer(st);
        let handle = self.writer.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(handle) = handle {
            if handle.join().is_err() {
                tracing::error!("log writer thread panicked");
            }
        }
        match self.failure() {
            Some(e) => Err(e),
            None => Ok(self.durable_lsn()),
        }
    }
}

impl Drop for GroupCommitLog {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::error!("closing log: {e}");
        }
    }
}

/// A group taken from the shared state.
struct Group {
    start_lsn: u64,
    records: u64,
    rotations: VecDeque<(u64, PathBuf)>,
    sync_requested: bool,
    closing: bool,
}

struct Writer {
    shared: Arc<Shared>,
    cfg: LogConfig,
    segment: Segment,
    disk: Box<dyn LogDisk>,
    written_lsn: u64,
    durable_lsn: u64,
    next_sync_at: Instant,
    /// Scratch for the group trailer.
    trailer: Vec<u8>,
    metrics: LogMetrics,
    /// 1 = each group's sync completes before the next group is written.
    sync_overlap_max: usize,
    /// Overlapped syncs in start order.
    syncs: VecDeque<InFlightSync>,
    /// Scratch for [`LogDisk::wait_syncs`].
    syncs_done: Vec<super::SyncDone>,
}

/// An overlapped group sync: durable up to `lsn` once it and every sync
/// before it succeeded.
struct InFlightSync {
    lsn: u64,
    started: Instant,
    done: bool,
}

/// How long a group may wait to fill when no fsync is due per group
/// (`everysec`, `no`), and the size that ends the wait early.
const LINGER: Duration = Duration::from_micros(500);
const LINGER_BYTES_MAX: usize = 256 * 1024;

impl Writer {
    fn run(&mut self) {
        let mut buf = Vec::new();
        loop {
            let Some(group) = self.take_group(&mut buf) else {
                return; // closing after a failure
            };
            let closing = group.closing;
            let result = self.write_group(group, &mut buf);
            buf.clear();
            let result = result.and_then(|()| self.sync_if_due());
            let result = if closing {
                result.and_then(|()| self.finish())
            } else {
                result
            };
            self.publish();
            if let Err(e) = result {
                self.fail(e);
            }
            if closing {
                return;
            }
        }
    }

    /// Waits for work, then swaps the appended bytes into `buf`. Returns
    /// None once the log has failed and is closing.
    fn take_group(&mut self, buf: &mut Vec<u8>) -> Option<Group> {
        debug_assert!(buf.is_empty());
        if !self.syncs.is_empty() {
            // Publish syncs that finished meanwhile (no waiting).
            if let Err(e) = self.wait_syncs(Duration::ZERO) {
                self.fail(e);
            }
        }
        let mut st = self.shared.lock();
        loop {
            let mut work = false;
            if st.failed.is_some() {
                if st.closing {
                    return None;
                }
            } else {
                let unsynced =
                    self.cfg.sync == SyncPolicy::EverySec && self.written_lsn > self.durable_lsn;
                let sync_due = unsynced && Instant::now() >= self.next_sync_at;
                work = !st.buf.is_empty()
                    || !st.rotations.is_empty()
                    || st.sync_requested
                    || st.closing
                    || sync_due;
                // With every overlapped sync slot taken, the group keeps
                // filling until one frees.
                if work && self.syncs.len() < self.sync_overlap_max {
                    break;
                }
            }
            if !self.syncs.is_empty() {
                st.writer_wait = if work {
                    WriterWait::Busy
                } else {
                    WriterWait::Disk
                };
                drop(st);
                if let Err(e) = self.wait_syncs(IDLE_WAIT) {
                    self.fail(e);
                }
                st = self.shared.lock();
                st.writer_wait = WriterWait::Busy;
                continue;
            }
            let wait = if self.written_lsn > self.durable_lsn {
                self.next_sync_at.saturating_duration_since(Instant::now())
            } else {
                IDLE_WAIT
            };
            st.writer_wait = WriterWait::Condvar;
            st = self
                .shared
                .writer_cv
                .wait_timeout(st, wait.max(Duration::from_millis(1)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
            st.writer_wait = WriterWait::Busy;
        }
        if self.cfg.sync != SyncPolicy::Always
            && st.failed.is_none()
            && st.buf.len() < LINGER_BYTES_MAX
            && st.rotations.is_empty()
            && !st.sync_requested
            && !st.closing
        {
            // Without a per-group fsync nobody waits on this group: let it
            // fill for a moment instead of waking for every few records
            // (which costs the io-threads their core). Redis likewise writes
            // its AOF buffer once per event-loop turn.
            drop(st);
            std::thread::sleep(LINGER);
            st = self.shared.lock();
        }
        std::mem::swap(&mut st.buf, buf);
        let group = Group {
            start_lsn: st.appended_lsn - buf.len() as u64,
            records: std::mem::take(&mut st.records),
            rotations: std::mem::take(&mut st.rotations),
            sync_requested: std::mem::take(&mut st.sync_requested),
            closing: st.closing,
        };
        debug_assert_eq!(group.start_lsn, self.written_lsn);
        Some(group)
    }

    fn write_group(&mut self, group: Group, buf: &mut Vec<u8>) -> io::Result<()> {
        let records_len = buf.len();
        // Rotations, explicit syncs and close need everything before them
        // durable first; plain groups under `Always` overlap their syncs.
        let overlap = self.sync_overlap_max > 1
            && group.rotations.is_empty()
            && !group.sync_requested
            && !group.closing;
        if !overlap {
            self.drain_syncs()?;
        }
        let mut pos = 0usize;
        for (rotate_lsn, path) in group.rotations {
            debug_assert!(rotate_lsn >= self.written_lsn);
            let upto = usize::try_from(rotate_lsn - self.written_lsn).unwrap_or(usize::MAX);
            let end = pos + upto.min(records_len - pos);
            // Rare: copy the part so that its trailer can follow it.
            let mut part = buf[pos..end].to_vec();
            self.add_trailer(&mut part);
            // The finished segment must be whole on disk before anything
            // (a manifest) can point past it.
            self.write_part(&part, (end - pos) as u64, true)?;
            pos = end;
            let next = Segment::open(self.disk.as_mut(), &path, self.cfg.segment_prealloc_bytes)?;
            let mut finished = std::mem::replace(&mut self.segment, next);
            let started = Instant::now();
            finished.finish(self.disk.as_mut())?;
            self.metrics
                .fsync(FsyncKind::SegmentFinish, started.elapsed());
            tracing::info!("log switched to {} at LSN {rotate_lsn}", path.display());
        }
        let sync = self.cfg.sync == SyncPolicy::Always || group.sync_requested;
        if pos == 0 && overlap && !buf.is_empty() {
            self.add_trailer(buf);
            self.write_overlapped(buf, records_len as u64)?;
        } else if pos == 0 {
            self.add_trailer(buf);
            self.write_part(buf, records_len as u64, sync)?;
        } else {
            let mut part = buf[pos..].to_vec();
            self.add_trailer(&mut part);
            self.write_part(&part, (records_len - pos) as u64, sync)?;
        }
        if records_len == 0 {
            return Ok(()); // woken for a sync or rotation only
        }
        self.metrics.group(group.records, records_len as u64);
        let mut stats = self.shared.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.groups_total += 1;
        stats.records_total += group.records;
        stats.bytes_total += records_len as u64;
        stats.group_records_max = stats.group_records_max.max(group.records);
        Ok(())
    }

    /// Appends the configured trailer for the records in `part`.
    fn add_trailer(&mut self, part: &mut Vec<u8>) {
        let Some(trailer) = &self.cfg.group_trailer else {
            return;
        };
        if part.is_empty() {
            return;
        }
        self.trailer.clear();
        trailer(part, &mut self.trailer);
        part.extend_from_slice(&self.trailer);
    }

    /// Writes `bytes` (`records_len` bytes of records, then any trailer)
    /// at the segment's end; with `sync`, makes everything written so far
    /// durable even if `bytes` is empty.
    fn write_part(&mut self, bytes: &[u8], records_len: u64, sync: bool) -> io::Result<()> {
        debug_assert!(records_len <= bytes.len() as u64);
        let started = Instant::now();
        if !bytes.is_empty() {
            self.append_to_segment(bytes, records_len, sync)?;
        } else if sync && self.durable_lsn < self.written_lsn {
            self.disk.sync_data(self.segment.id())?;
        }
        if sync && self.durable_lsn < self.written_lsn {
            self.durable_lsn = self.written_lsn;
            self.count_fsync(FsyncKind::Group, started);
        }
        Ok(())
    }

    /// Writes `bytes` at the segment's end (preallocating ahead as needed);
    /// `records_len` of them are records (the rest a trailer).
    fn append_to_segment(&mut self, bytes: &[u8], records_len: u64, sync: bool) -> io::Result<()> {
        let offset = self.segment.write_offset_bytes();
        let len = bytes.len() as u64;
        self.segment
            .ensure_allocated(self.disk.as_mut(), offset + len)?;
        self.disk.write(self.segment.id(), offset, bytes, sync)?;
        self.segment.advance(len);
        self.written_lsn += records_len;
        Ok(())
    }

    /// Writes a group and starts its sync without waiting for it.
    fn write_overlapped(&mut self, bytes: &[u8], records_len: u64) -> io::Result<()> {
        debug_assert!(self.syncs.len() < self.sync_overlap_max);
        let started = Instant::now();
        self.append_to_segment(bytes, records_len, false)?;
        // The write has completed, so this sync covers it.
        self.disk.start_sync(self.segment.id(), self.written_lsn)?;
        self.syncs.push_back(InFlightSync {
            lsn: self.written_lsn,
            started,
            done: false,
        });
        let mut stats = self.shared.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.syncs_in_flight_max = stats.syncs_in_flight_max.max(self.syncs.len() as u64);
        Ok(())
    }

    /// Collects finished overlapped syncs (waiting up to `timeout` if none
    /// has finished) and publishes the durable LSN they reach. A failed
    /// sync is returned as the error; the syncs behind it never count.
    fn wait_syncs(&mut self, timeout: Duration) -> io::Result<()> {
        let mut done = std::mem::take(&mut self.syncs_done);
        let waited = self.disk.wait_syncs(timeout, &mut done);
        let mut failure = waited.err();
        for (lsn, result) in done.drain(..) {
            match result {
                Ok(()) => {
                    if let Some(s) = self.syncs.iter_mut().find(|s| s.lsn == lsn) {
                        s.done = true;
                    }
                }
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        self.syncs_done = done;
        if let Some(e) = failure {
            // The durable LSN stays where the last good prefix left it.
            self.syncs.clear();
            return Err(e);
        }
        let durable_before = self.durable_lsn;
        while self.syncs.front().is_some_and(|s| s.done) {
            if let Some(s) = self.syncs.pop_front() {
                debug_assert!(s.lsn >= self.durable_lsn);
                self.durable_lsn = s.lsn;
                self.count_fsync(FsyncKind::Group, s.started);
            }
        }
        if self.durable_lsn > durable_before {
            self.publish();
        }
        Ok(())
    }

    /// Waits for every overlapped sync.
    fn drain_syncs(&mut self) -> io::Result<()> {
        while !self.syncs.is_empty() {
            self.wait_syncs(IDLE_WAIT)?;
        }
        Ok(())
    }

    fn sync_if_due(&mut self) -> io::Result<()> {
        if self.cfg.sync != SyncPolicy::EverySec || self.durable_lsn == self.written_lsn {
            return Ok(());
        }
        let now = Instant::now();
        if now < self.next_sync_at {
            return Ok(());
        }
        self.disk.sync_data(self.segment.id())?;
        self.durable_lsn = self.written_lsn;
        self.next_sync_at = now + self.cfg.sync_interval;
        self.count_fsync(FsyncKind::Interval, now);
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.drain_syncs()?;
        let started = Instant::now();
        self.segment.finish(self.disk.as_mut())?;
        self.metrics
            .fsync(FsyncKind::SegmentFinish, started.elapsed());
        self.durable_lsn = self.written_lsn;
        Ok(())
    }

    fn count_fsync(&self, kind: FsyncKind, started: Instant) {
        self.metrics.fsync(kind, started.elapsed());
        let mut stats = self.shared.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.fsyncs_total += 1;
        stats.fsync_latency_us_total += u64::try_from(started.elapsed().as_micros()).unwrap_or(0);
    }

    fn publish(&self) {
        self.shared
            .written_lsn
            .store(self.written_lsn, Ordering::Release);
        self.shared
            .durable_lsn
            .store(self.durable_lsn, Ordering::Release);
        let appended_lsn = self.shared.lock().appended_lsn;
        self.metrics
            .durable_lag(appended_lsn.saturating_sub(self.durable_lsn));
        self.shared.notify_progress();
    }

    fn fail(&self, err: io::Error) {
        tracing::error!(
            "log segment {}: {err}; refusing further appends",
            self.segment.path().display()
        );
        let mut st = self.shared.lock();
        if st.failed.is_none() {
            st.failed = Some(Arc::new(err));
        }
        st.buf.clear();
        drop(st);
        self.shared.notify_progress();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn log_is_shareable() {
        assert_send_sync::<GroupCommitLog>();
    }
}

//! A simulated disk for deterministic crash tests. Each file has a *live*
//! image (what the process has written) and a *durable* image (what the
//! last completed sync made durable, i.e. what survives power loss). Faults
//! are injected after a countdown of operations.
//!
//! A failed sync models Linux's behaviour that burned PostgreSQL: the dirty
//! pages are dropped, so the live image falls back to the durable one and a
//! later "successful" sync would persist nothing of the lost writes.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use std::time::{Duration, Instant};

use super::disk::{LogDisk, SegmentId, SyncDone};
use crate::net::Waker;

#[derive(Debug, Default, Clone)]
struct SimFile {
    live: Vec<u8>,
    durable: Vec<u8>,
    /// The start order of the sync that made `durable` (a sync that
    /// started earlier but finishes later must not roll it back).
    durable_sync_seq: u64,
}

impl SimFile {
    /// A synchronous sync: everything live becomes durable, and no
    /// overlapped sync started before it (up to `seq`) may roll that back.
    fn sync_all_now(&mut self, seq: u64) {
        self.durable = self.live.clone();
        self.durable_sync_seq = seq;
    }
}

/// An overlapped sync: it will make durable what was live when it started.
#[derive(Debug)]
struct PendingSync {
    token: u64,
    path: PathBuf,
    image: Vec<u8>,
    seq: u64,
    started: Instant,
}

/// How long an overlapped sync takes on the simulated disk.
const SIM_SYNC_LATENCY: Duration = Duration::from_micros(300);
/// How often a waiting writer looks at the simulated disk again.
const SIM_WAIT_STEP: Duration = Duration::from_micros(20);

#[derive(Debug, Default)]
struct SimState {
    files: HashMap<PathBuf, SimFile>,
    open: Vec<Option<PathBuf>>,
    /// Operations still allowed before every later one fails with EIO.
    ops_until_failure: Option<u64>,
    ops_total: u64,
    /// 1 = no overlapped syncs.
    sync_overlap_max: usize,
    pending_syncs: Vec<PendingSync>,
    sync_seq: u64,
}

impl SimState {
    /// Counts an operation; errs once the fault countdown ran out.
    fn operate(&mut self) -> io::Result<()> {
        self.ops_total += 1;
        match &mut self.ops_until_failure {
            Some(0) => Err(io::Error::from_raw_os_error(libc::EIO)),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn file(&mut self, seg: SegmentId) -> io::Result<&mut SimFile> {
        let path = self
            .open
            .get(seg.0 as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| io::Error::other(format!("segment {} is not open", seg.0)))?;
        self.files
            .get_mut(path)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotFound))
    }

    /// Runs a data operation; on a fault the file loses its unsynced data.
    fn modify(&mut self, seg: SegmentId, change: impl FnOnce(&mut SimFile)) -> io::Result<()> {
        let result = self.operate();
        let file = self.file(seg)?;
        match result {
            Ok(()) => {
                change(file);
                Ok(())
            }
            Err(e) => {
                file.live = file.durable.clone();
                Err(e)
            }
        }
    }
}

/// Cloning shares the disk, so a test keeps a handle to inspect it while
/// the log writes through another.
#[derive(Debug, Clone, Default)]
pub struct SimDisk {
    state: Arc<Mutex<SimState>>,
    /// With overlapped syncs: ends a writer's wait early.
    waker: Option<Waker>,
}

impl SimDisk {
    pub fn new() -> SimDisk {
        let disk = SimDisk::default();
        disk.lock().sync_overlap_max = 1;
        disk
    }

    /// A disk that runs up to `max` syncs at once. Each takes 300 µs and
    /// makes durable what was written before it started; those due finish
    /// together, newest first (out of order), when the writer waits.
    pub fn with_sync_overlap(max: usize) -> io::Result<SimDisk> {
        let mut disk = SimDisk::new();
        disk.lock().sync_overlap_max = max.max(1);
        disk.waker = Some(Waker::new()?);
        Ok(disk)
    }

    fn lock(&self) -> MutexGuard<'_, SimState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After `ops` more writes, syncs, fills or truncates succeed, every
    /// later one fails with EIO.
    pub fn fail_after(&self, ops: u64) {
        self.lock().ops_until_failure = Some(ops);
    }

    /// Writes, syncs, fills and truncates so far.
    pub fn ops_total(&self) -> u64 {
        self.lock().ops_total
    }

    /// What the process sees in the file now.
    pub fn live(&self, path: &Path) -> Option<Vec<u8>> {
        self.lock().files.get(path).map(|f| f.live.clone())
    }

    /// What would survive a power loss now.
    pub fn durable(&self, path: &Path) -> Option<Vec<u8>> {
        self.lock().files.get(path).map(|f| f.durable.clone())
    }

    /// Power loss: every file reverts to its durable image; faults clear.
    pub fn crash(&self) {
        let mut st = self.lock();
        for file in st.files.values_mut() {
            file.live = file.durable.clone();
        }
        st.ops_until_failure = None;
        st.pending_syncs.clear();
    }

    /// Puts a file on the disk as if written and synced earlier.
    pub fn insert(&self, path: &Path, bytes: &[u8]) {
        self.lock().files.insert(
            path.to_path_buf(),
            SimFile {
                live: bytes.to_vec(),
                durable: bytes.to_vec(),
                durable_sync_seq: 0,
            },
        );
    }
}

impl LogDisk for SimDisk {
    fn open(&mut self, path: &Path) -> io::Result<(SegmentId, u64)> {
        let mut st = self.lock();
        // Creating a file includes syncing its directory entry.
        let len = st.files.entry(path.to_path_buf()).or_default().live.len() as u64;
        let index = match st.open.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                st.open.push(None);
                st.open.len() - 1
            }
        };
        st.open[index] = Some(path.to_path_buf());
        let id = u32::try_from(index).map_err(|_| io::Error::other("too many segments"))?;
        Ok((SegmentId(id), len))
    }

    fn write(&mut self, seg: SegmentId, offset: u64, buf: &[u8], sync: bool) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| io::ErrorKind::InvalidInput)?;
        let mut st = self.lock();
        let seq = st.sync_seq;
        st.modify(seg, |file| {
            let end = start + buf.len();
            if file.live.len() < end {
                file.live.resize(end, 0);
            }
            file.live[start..end].copy_from_slice(buf);
            if sync {
                file.sync_all_now(seq);
            }
        })
    }

    fn sync_data(&mut self, seg: SegmentId) -> io::Result<()> {
        let mut st = self.lock();
        let seq = st.sync_seq;
        st.modify(seg, |file| file.sync_all_now(seq))
    }

    fn zero_fill(&mut self, seg: SegmentId, from: u64, to: u64) -> io::Result<()> {
        let from = usize::try_from(from).map_err(|_| io::ErrorKind::InvalidInput)?;
        let to = usize::try_from(to).map_err(|_| io::ErrorKind::InvalidInput)?;
        let mut st = self.lock();
        let seq = st.sync_seq;
        st.modify(seg, |file| {
            if file.live.len() < to {
                file.live.resize(to, 0);
            }
            file.live[from..to].fill(0);
            file.sync_all_now(seq);
        })
    }

    fn truncate(&mut self, seg: SegmentId, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        let mut st = self.lock();
        let seq = st.sync_seq;
        st.modify(seg, |file| {
            file.live.resize(len, 0);
            file.sync_all_now(seq);
        })
    }

    fn close(&mut self, seg: SegmentId) {
        if let Some(slot) = self.lock().open.get_mut(seg.0 as usize) {
            *slot = None;
        }
    }

    fn sync_overlap_max(&self) -> usize {
        self.lock().sync_overlap_max
    }

    fn start_sync(&mut self, seg: SegmentId, token: u64) -> io::Result<()> {
        let mut st = self.lock();
        let path = st
            .open
            .get(seg.0 as usize)
            .and_then(Option::clone)
            .ok_or_else(|| io::Error::other(format!("segment {} is not open", seg.0)))?;
        let image = st.file(seg)?.live.clone();
        st.sync_seq += 1;
        let seq = st.sync_seq;
        st.pending_syncs.push(PendingSync {
            token,
            path,
            image,
            seq,
            started: Instant::now(),
        });
        Ok(())
    }

    fn sync_waker(&self) -> Option<Waker> {
        self.waker.clone()
    }

    fn wait_syncs(&mut self, timeout: Duration, done: &mut Vec<SyncDone>) -> io::Result<()> {
        // Sleep in small steps until the oldest sync is due, the timeout
        // passes or an appender rings the waker (as the real disk's ring
        // wait would end).
        let deadline = Instant::now() + timeout;
        loop {
            let oldest = self.lock().pending_syncs.first().map(|p| p.started);
            let now = Instant::now();
            let due = oldest.is_none_or(|started| started + SIM_SYNC_LATENCY <= now);
            let woken = self.waker.as_ref().is_some_and(Waker::drain);
            if due || now >= deadline || woken {
                break;
            }
            std::thread::sleep(SIM_WAIT_STEP);
        }
        let mut st = self.lock();
        let now = Instant::now();
        let due = st
            .pending_syncs
            .iter()
            .take_while(|p| p.started + SIM_SYNC_LATENCY <= now)
            .count();
        let finished: Vec<PendingSync> = st.pending_syncs.drain(..due).collect();
        for sync in finished.into_iter().rev() {
            // The fault countdown counts a sync when it finishes.
            let result = st.operate();
            let Some(file) = st.files.get_mut(&sync.path) else {
                done.push((sync.token, Err(io::ErrorKind::NotFound.into())));
                continue;
            };
            match result {
                Ok(()) => {
                    if sync.seq > file.durable_sync_seq {
                        file.durable = sync.image;
                        file.durable_sync_seq = sync.seq;
                    }
                    done.push((sync.token, Ok(())));
                }
                Err(e) => {
                    file.live = file.durable.clone();
                    done.push((sync.token, Err(e)));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn unsynced_writes_are_lost_on_crash() {
        let mut disk = SimDisk::new();
        let path = Path::new("/sim/a");
        let (seg, len) = disk.open(path).unwrap();
        assert_eq!(len, 0);
        disk.write(seg, 0, b"synced ", true).unwrap();
        disk.write(seg, 7, b"pending", false).unwrap();
        assert_eq!(disk.live(path).unwrap(), b"synced pending");
        disk.crash();
        assert_eq!(disk.live(path).unwrap(), b"synced ");
    }

    #[test]
    fn failed_sync_drops_dirty_data() {
        let mut disk = SimDisk::new();
        let path = Path::new("/sim/a");
        let (seg, _) = disk.open(path).unwrap();
        disk.write(seg, 0, b"kept", true).unwrap();
        disk.write(seg, 4, b"lost", false).unwrap();
        disk.fail_after(0);
        assert!(disk.sync_data(seg).is_err());
        assert_eq!(disk.live(path).unwrap(), b"kept");
        assert_eq!(disk.durable(path).unwrap(), b"kept");
    }
}

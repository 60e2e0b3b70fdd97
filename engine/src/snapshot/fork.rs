//! The fork snapshot: every slot locked (all io-threads paused between
//! commands), `fork()`, locks released in the parent. The child owns a
//! frozen copy of the keyspace and writes it with plain file syscalls.
//!
//! After a fork only the forking thread exists in the child, and locks other
//! threads held stay locked forever. The child therefore touches only the
//! slot data it holds the guards of, the allocator (jemalloc and glibc
//! malloc both re-arm their locks in fork handlers), and file descriptors.
//! It never logs (the stderr lock may be held) and leaves with `_exit`, so
//! no destructor or atexit handler runs.
//!
//! Like Redis, the child reports progress and copy-on-write through a pipe:
//! every 1024 keys at most once a second, and once more at the end with a
//! fresh sample. Copy-on-write is the child's `Private_Dirty` memory from
//! `/proc/self/smaps_rollup`.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::MutexGuard;

use super::{
    db_totals, Completion, Progress, SnapshotError, SnapshotHandle, SnapshotMode, SnapshotOutcome,
    SnapshotTarget,
};
use crate::keyspace::{Keyspace, SlotData};
use crate::rdb::encoder::WriteStats;
use crate::rdb::file::{save_atomically, temp_rdb_filename, SaveStats};

const MSG_PROGRESS: u64 = 1;
const MSG_FINAL: u64 = 2;
/// kind, keys, cow bytes, sample unix ms, file bytes, checksum.
const MSG_WORDS: usize = 6;
const MSG_BYTES: usize = MSG_WORDS * 8;
const REPORT_EVERY_KEYS: u64 = 1024;
const REPORT_MIN_INTERVAL: Duration = Duration::from_secs(1);

pub(super) fn start(
    ks: &Arc<Keyspace>,
    target: SnapshotTarget,
    at_point: impl FnOnce(&[MutexGuard<'_, SlotData>]),
) -> Result<SnapshotHandle, SnapshotError> {
    let progress = Arc::new(Progress::default());
    let started = Instant::now();
    let guards = ks.lock_all();
    let totals = db_totals(&guards, ks.db_count());
    progress
        .keys_total
        .store(totals.iter().map(|t| t.0).sum(), Ordering::Relaxed);
    at_point(&guards);
    let (read_end, write_end) = make_pipe().map_err(SnapshotError::Fork)?;
    let fork_started = Instant::now();
    let pid = fork_process().map_err(SnapshotError::Fork)?;
    if pid == 0 {
        drop(read_end);
        run_child(&guards, &totals, &target, write_end);
    }
    progress
        .fork_usec
        .store(fork_started.elapsed().as_micros() as u64, Ordering::Relaxed);
    drop(guards);
    drop(write_end);

    let result: Arc<Completion> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let abort = Arc::new(AtomicBool::new(false));
    let thread = {
        let ks = ks.clone();
        let (progress, result, done, abort) = (
            progress.clone(),
            result.clone(),
            done.clone(),
            abort.clone(),
        );
        std::thread::Builder::new()
            .name("snapshot-child".into())
            .spawn(move || {
                let r = monitor_child(pid, read_end, &progress, &target, &abort);
                ks.release_snapshot();
                *result.lock() = Some(r.map(|save| SnapshotOutcome {
                    save,
                    elapsed: started.elapsed(),
                }));
                done.store(true, Ordering::Release);
            })
    };
    let thread = match thread {
        Ok(t) => t,
        Err(e) => {
            kill_child(pid);
            let _ = wait_child(pid);
            return Err(SnapshotError::Io(e));
        }
    };
    Ok(SnapshotHandle {
        mode: SnapshotMode::Fork,
        progress,
        result,
        done,
        abort,
        thread: Some(thread),
        child_pid: Some(pid),
        started,
    })
}

/// Parent side: reads the child's reports until the pipe closes, then reaps it.
fn monitor_child(
    pid: i32,
    pipe: OwnedFd,
    progress: &Progress,
    target: &SnapshotTarget,
    abort: &AtomicBool,
) -> Result<SaveStats, SnapshotError> {
    let mut pipe = File::from(pipe);
    let mut msg = [0u8; MSG_BYTES];
    let mut final_stats = None;
    while pipe.read_exact(&mut msg).is_ok() {
        let w: Vec<u64> = msg
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect();
        let (kind, keys, cow, at_ms) = (w[0], w[1], w[2], w[3]);
        progress.cow_peak_bytes.fetch_max(cow, Ordering::Relaxed);
        progress.cow_size_bytes.store(cow, Ordering::Relaxed);
        progress.cow_sampled_at_ms.store(at_ms, Ordering::Relaxed);
        progress.keys_processed.store(keys, Ordering::Relaxed);
        if kind == MSG_FINAL {
            final_stats = Some(SaveStats {
                write: WriteStats {
                    keys_written: keys,
                    bytes_written: w[4],
                    checksum: w[5],
                },
            });
        }
    }
    let status = wait_child(pid).map_err(SnapshotError::Io)?;
    let exited_ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    match final_stats {
        Some(stats) if exited_ok => Ok(stats),
        _ => {
            // The child's temp file is named after its pid.
            let temp = target
                .temp_filename
                .clone()
                .unwrap_or_else(|| format!("temp-{pid}.rdb"));
            let _ = std::fs::remove_file(target.dir.join(temp));
            if abort.load(Ordering::Acquire) {
                Err(SnapshotError::Aborted)
            } else if libc::WIFSIGNALED(status) {
                Err(SnapshotError::Child(format!(
                    "killed by signal {}",
                    libc::WTERMSIG(status)
                )))
            } else {
                Err(SnapshotError::Child(format!(
                    "exit code {}",
                    libc::WEXITSTATUS(status)
                )))
            }
        }
    }
}

/// Child side. Never returns.
fn run_child(
    guards: &[MutexGuard<'_, SlotData>],
    totals: &[(u64, u64)],
    target: &SnapshotTarget,
    pipe: OwnedFd,
) -> ! {
    let mut reporter = Reporter::new(File::from(pipe));
    let temp = target
        .temp_filename
        .clone()
        .unwrap_or_else(temp_rdb_filename);
    let saved = save_atomically(&target.dir, &target.filename, &temp, target.opts, |w| {
        w.write_standard_aux(&target.aux)?;
        let mut keys = 0u64;
        for (db, &(size, expires)) in totals.iter().enumerate() {
            if size == 0 {
                continue;
            }
            w.select_db(db as u32, size, expires)?;
            for slot in guards {
                let Some(d) = slot.db(db) else { continue };
                for (key, entry) in d.iter() {
                    w.write_entry(key, entry)?;
                    keys += 1;
                    if target.key_save_delay_us > 0 {
                        std::thread::sleep(Duration::from_micros(target.key_save_delay_us));
                    }
                    if keys == 1 || keys.is_multiple_of(REPORT_EVERY_KEYS) {
                        reporter.progress(keys)?;
                    }
                }
            }
        }
        Ok(())
    });
    let code = match saved {
        Ok(stats) => match reporter.finish(&stats.write) {
            Ok(()) => 0,
            Err(_) => 1,
        },
        Err(_) => 1,
    };
    exit_child(code)
}

struct Reporter {
    pipe: File,
    last_report: Option<Instant>,
    last_sample: Option<Instant>,
    last_sample_cost: Duration,
    cow: u64,
}

impl Reporter {
    fn new(pipe: File) -> Reporter {
        Reporter {
            pipe,
            last_report: None,
            last_sample: None,
            last_sample_cost: Duration::ZERO,
            cow: 0,
        }
    }

    /// Redis's throttle: sample only if the time since the last sample is
    /// over 100 times what the last sample cost (≤ 1% of the child's time).
    fn sample(&mut self, force: bool) {
        let due = self
            .last_sample
            .is_none_or(|t| t.elapsed() > self.last_sample_cost * 100);
        if force || due {
            let t = Instant::now();
            self.cow = private_dirty_bytes().unwrap_or(self.cow);
            self.last_sample_cost = t.elapsed();
            self.last_sample = Some(Instant::now());
        }
    }

    fn progress(&mut self, keys: u64) -> io::Result<()> {
        if self
            .last_report
            .is_some_and(|t| t.elapsed() < REPORT_MIN_INTERVAL)
        {
            return Ok(());
        }
        self.last_report = Some(Instant::now());
        self.sample(false);
        self.send([MSG_PROGRESS, keys, self.cow, crate::clock::now_ms(), 0, 0])
    }

    fn finish(&mut self, stats: &WriteStats) -> io::Result<()> {
        self.sample(true);
        self.send([
            MSG_FINAL,
            stats.keys_written,
            self.cow,
            crate::clock::now_ms(),
            stats.bytes_written,
            stats.checksum,
        ])
    }

    fn send(&mut self, words: [u64; MSG_WORDS]) -> io::Result<()> {
        let mut msg = [0u8; MSG_BYTES];
        for (chunk, w) in msg.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&w.to_le_bytes());
        }
        // One write of < PIPE_BUF bytes is atomic: the parent never sees half.
        self.pipe.write_all(&msg)
    }
}

/// This process's private dirty memory: the pages copy-on-write duplicated
/// (plus what the child itself wrote).
fn private_dirty_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    parse_private_dirty(&text)
}

fn parse_private_dirty(smaps: &str) -> Option<u64> {
    let mut total = None;
    for line in smaps.lines() {
        if let Some(rest) = line.strip_prefix("Private_Dirty:") {
            let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
            total = Some(total.unwrap_or(0) + kb * 1024);
        }
    }
    total
}

#[allow(unsafe_code)]
fn make_pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into the 2-element array we own.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by no one else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Returns 0 in the child, the child's pid in the parent.
#[allow(unsafe_code)]
fn fork_process() -> io::Result<i32> {
    // SAFETY: the caller holds every slot lock and the child only runs
    // `run_child`, which follows the rules in this module's doc comment.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(pid)
}

#[allow(unsafe_code)]
fn exit_child(code: i32) -> ! {
    // SAFETY: _exit ends the child without running destructors or atexit
    // handlers that could touch state other threads owned at the fork.
    unsafe { libc::_exit(code) }
}

#[allow(unsafe_code)]
pub(super) fn kill_child(pid: i32) {
    // SAFETY: kill(2) on a child we forked and have not reaped yet.
    unsafe {
        libc::kill(pid, libc::SIGUSR1);
    }
}

#[allow(unsafe_code)]
fn wait_child(pid: i32) -> io::Result<i32> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: waitpid on our own child with a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            return Ok(status);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn private_dirty_sums_kb_lines() {
        let text = "Rss: 100 kB\nPrivate_Dirty:      12 kB\nSwap: 0 kB\n";
        assert_eq!(parse_private_dirty(text), Some(12 * 1024));
        assert_eq!(parse_private_dirty("Rss: 1 kB\n"), None);
    }

    #[test]
    fn this_process_has_private_dirty_memory() {
        assert!(private_dirty_bytes().unwrap() > 0);
    }
}

//! The forkless snapshot: a slot cursor plus per-key copy-before-write.
//!
//! Invariant: every key's entry at the snapshot point is encoded exactly
//! once — by a writer just before that key's first change since the point,
//! or by whoever encodes the rest of its slot: the cursor when it gets
//! there, or a writer about to change the slot in a way that names no key.
//! Keys created after the point are never encoded. A slot ahead of the
//! cursor carries a `SlotCapture` (in `SlotData`, so it is only read and
//! written with the slot's lock held) holding the keys changed since the
//! point; `SlotData` announces every change to it before making it (by key,
//! or as a whole-slot change for any `&mut DbSlot` it hands out). The
//! capture is removed when the rest of the slot is encoded, so nothing is
//! encoded twice and no change can slip in before its key's copy.
//!
//! Reads pay nothing, and a write pays for one key (its old entry, ~1 KB),
//! never a whole slot, so writers never do the cursor's work for it.
//!
//! Memory: the order of keys in an RDB file is free (and a database may be
//! selected again), so copies taken ahead of the cursor are appended to the
//! file at the cursor's next step rather than held until it reaches their
//! slot. What stays is the names of the keys changed ahead of the cursor,
//! until it passes their slot.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::MutexGuard;

use super::capture::{CopySink, SlotCapture};
use super::segment::SlotSegment;
use super::{
    db_totals, temp_name, Completion, Progress, SnapshotError, SnapshotHandle, SnapshotMode,
    SnapshotOutcome, SnapshotTarget,
};
use crate::keyspace::{Keyspace, SlotData};
use crate::rdb::encoder::RdbWriter;
use crate::rdb::file::save_atomically;
use crate::slot::SLOT_COUNT;

/// The cursor's nice value in the background: it has no deadline, and no
/// writer ever waits for it, so io-threads sharing its core go first (at
/// nice 10 a busy io-thread gets ~90% of a shared core). Not 19: under a
/// load that saturates the io-threads the cursor still gets ~10% and the
/// snapshot ends, where at 19 (~1.5%) it would take ~70 times as long.
const CURSOR_NICE: libc::c_int = 10;

pub(super) fn start(
    ks: &Arc<Keyspace>,
    target: SnapshotTarget,
    at_point: impl FnOnce(&[MutexGuard<'_, SlotData>]),
    background: bool,
) -> Result<SnapshotHandle, SnapshotError> {
    let progress = Arc::new(Progress::default());
    let sink = Arc::new(CopySink::new(target.opts, progress.clone()));
    // Allocated before the point: every client waits while all slots are held.
    let mut captures: Vec<Box<SlotCapture>> = (0..SLOT_COUNT)
        .map(|_| SlotCapture::new(sink.clone()))
        .collect();
    let started = Instant::now();
    let totals = {
        let mut guards = ks.lock_all();
        let totals = db_totals(&guards, ks.db_count());
        progress
            .keys_total
            .store(totals.iter().map(|t| t.0).sum(), Ordering::Relaxed);
        for (slot, capture) in guards.iter_mut().zip(captures.drain(..)) {
            let previous = slot.set_capture(Some(capture));
            debug_assert!(previous.is_none(), "a capture outlived its snapshot");
        }
        at_point(&guards);
        totals
    };
    let result: Arc<Completion> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let abort = Arc::new(AtomicBool::new(false));
    let thread = {
        let ks = ks.clone();
        let (result, done, abort) = (result.clone(), done.clone(), abort.clone());
        std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || {
                if background {
                    lower_this_thread_priority();
                }
                let r = write_file(&ks, &sink, &target, &totals, &abort);
                if r.is_err() {
                    end_captures(&ks);
                }
                ks.release_snapshot();
                let r = r.map(|save| SnapshotOutcome {
                    save,
                    elapsed: started.elapsed(),
                });
                *result.lock() = Some(r);
                done.store(true, Ordering::Release);
            })
    };
    let thread = match thread {
        Ok(t) => t,
        Err(e) => {
            end_captures(ks);
            return Err(SnapshotError::Io(e));
        }
    };
    Ok(SnapshotHandle {
        mode: SnapshotMode::Forkless,
        progress,
        result,
        done,
        abort,
        thread: Some(thread),
        child_pid: None,
        started,
    })
}

/// Removes the captures a failed or aborted snapshot left in the slots its
/// cursor did not reach.
fn end_captures(ks: &Keyspace) {
    for i in 0..SLOT_COUNT {
        drop(ks.lock_index(i).set_capture(None));
    }
}

#[allow(unsafe_code)]
fn lower_this_thread_priority() {
    // SAFETY: both calls only read their integer arguments; on Linux,
    // PRIO_PROCESS with a thread id sets that one thread's nice value.
    let rc = unsafe {
        libc::setpriority(
            libc::PRIO_PROCESS,
            libc::gettid() as libc::id_t,
            CURSOR_NICE,
        )
    };
    if rc != 0 {
        tracing::debug!(
            "snapshot: could not lower the cursor's priority: {}",
            io::Error::last_os_error()
        );
    }
}

/// The cursor: walks the slots in order and writes each one's keys.
fn write_file(
    ks: &Keyspace,
    sink: &CopySink,
    target: &SnapshotTarget,
    totals: &[(u64, u64)],
    abort: &AtomicBool,
) -> Result<crate::rdb::file::SaveStats, SnapshotError> {
    let temp = temp_name(target);
    let mut aborted = false;
    let saved = save_atomically(&target.dir, &target.filename, &temp, target.opts, |w| {
        w.write_standard_aux(&target.aux)?;
        let mut enc = RdbWriter::new_segment(Vec::new(), target.opts);
        let mut out = Appender {
            w,
            current_db: None,
            resized: vec![false; totals.len()],
            totals,
            progress: &sink.progress,
            key_save_delay_us: target.key_save_delay_us,
        };
        for i in 0..SLOT_COUNT {
            if abort.load(Ordering::Relaxed) {
                aborted = true;
                return Err(io::Error::other("snapshot aborted"));
            }
            out.append_pending(sink)?;
            let seg = {
                let mut slot = ks.lock_index(i);
                match slot.set_capture(None) {
                    Some(capture) => Some(capture.finish(&slot, &mut enc)?),
                    // A writer copied it whole: appended with the pending ones.
                    None => None,
                }
            };
            if let Some(seg) = seg {
                out.append(&seg)?;
            }
        }
        // No slot has a capture now, so no writer copies any more; one that
        // did parked its copy before unlocking, and the cursor's lock of
        // that slot waited for that.
        out.append_pending(sink)?;
        debug_assert!(sink.take_pending().is_empty());
        if sink.failed() {
            return Err(io::Error::other("copying ahead of the cursor failed"));
        }
        Ok(())
    });
    match saved {
        Ok(s) => Ok(s),
        Err(_) if aborted => Err(SnapshotError::Aborted),
        Err(e) => Err(SnapshotError::Io(e)),
    }
}

/// Appends encoded segments to the file, selecting databases as needed.
struct Appender<'a, W: io::Write> {
    w: &'a mut RdbWriter<W>,
    current_db: Option<u32>,
    /// Per database: its RESIZEDB hint was written.
    resized: Vec<bool>,
    totals: &'a [(u64, u64)],
    progress: &'a Progress,
    key_save_delay_us: u64,
}

impl<W: io::Write> Appender<'_, W> {
    fn append(&mut self, seg: &SlotSegment) -> io::Result<()> {
        for run in &seg.runs {
            if self.current_db != Some(run.db) {
                let first = self
                    .resized
                    .get_mut(run.db as usize)
                    .map(|r| !std::mem::replace(r, true));
                let hint = match first {
                    Some(true) => self.totals.get(run.db as usize).copied(),
                    _ => None,
                };
                self.w.switch_db(run.db, hint)?;
                self.current_db = Some(run.db);
            }
            self.w.write_segment(&run.bytes, run.keys)?;
            self.progress
                .keys_processed
                .fetch_add(run.keys, Ordering::Relaxed);
        }
        if self.key_save_delay_us > 0 && !seg.runs.is_empty() {
            // Outside any slot lock: only the cursor is slowed.
            let keys: u64 = seg.runs.iter().map(|r| r.keys).sum();
            std::thread::sleep(Duration::from_micros(self.key_save_delay_us * keys));
        }
        Ok(())
    }

    /// Appends the keys and slots writers copied since the last call.
    fn append_pending(&mut self, sink: &CopySink) -> io::Result<()> {
        for seg in sink.take_pending() {
            self.append(&seg)?;
            sink.appended(&seg);
        }
        Ok(())
    }
}

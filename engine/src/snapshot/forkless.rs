//! The forkless snapshot: a slot cursor plus serialize-before-write.
//!
//! Invariant: a slot's contents at the snapshot point are encoded exactly
//! once, by whoever locks it first after the point — the cursor, or a
//! thread about to use it (the keyspace calls [`SlotObserver::before_access`]
//! right after every lock). `taken[slot]` records that it happened; it is
//! only read and written with the slot's lock held, so the two can never
//! both encode a slot, and no change can slip in before the encoding.
//!
//! Memory: the order of keys in an RDB file is free (and a database may be
//! selected again), so a slot encoded ahead of the cursor is appended to the
//! file the next time the cursor looks — before its next slot — rather than
//! held until the cursor reaches its number. Under random writes most slots
//! ahead of the cursor get encoded early; holding them until their turn
//! would keep a large part of the data set twice in memory.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, MutexGuard};

use super::segment::{encode_slot, encode_slot_on_this_thread, SlotSegment};
use super::{
    db_totals, temp_name, Completion, Progress, SnapshotError, SnapshotHandle, SnapshotMode,
    SnapshotOutcome, SnapshotTarget,
};
use crate::keyspace::{Keyspace, SlotData, SlotObserver};
use crate::rdb::encoder::{RdbWriteOptions, RdbWriter};
use crate::rdb::file::save_atomically;
use crate::slot::SLOT_COUNT;

struct Observer {
    opts: RdbWriteOptions,
    /// Per slot: already encoded (by a writer or the cursor).
    taken: Box<[AtomicBool]>,
    /// Slots encoded ahead of the cursor, waiting for it to append them.
    early: Mutex<Vec<SlotSegment>>,
    /// An early encoding failed (cannot happen writing to memory, but if it
    /// did the file would be wrong, so the snapshot fails).
    failed: AtomicBool,
    progress: Arc<Progress>,
}

impl SlotObserver for Observer {
    fn before_access(&self, slot: &SlotData) {
        let i = slot.id().index();
        // Relaxed: the slot's mutex orders every access to `taken[i]`.
        if self.taken[i].load(Ordering::Relaxed) {
            return;
        }
        self.taken[i].store(true, Ordering::Relaxed);
        match encode_slot_on_this_thread(slot, self.opts) {
            Ok(seg) => {
                self.progress.add_extra(seg.byte_len());
                self.progress.early_slots.fetch_add(1, Ordering::Relaxed);
                self.early.lock().push(seg);
            }
            Err(e) => {
                tracing::error!("snapshot: encoding slot {i} ahead of the cursor failed: {e}");
                self.failed.store(true, Ordering::Relaxed);
            }
        }
    }
}

pub(super) fn start(
    ks: &Arc<Keyspace>,
    target: SnapshotTarget,
    at_point: impl FnOnce(&[MutexGuard<'_, SlotData>]),
) -> Result<SnapshotHandle, SnapshotError> {
    let progress = Arc::new(Progress::default());
    let observer = Arc::new(Observer {
        opts: target.opts,
        taken: (0..SLOT_COUNT).map(|_| AtomicBool::new(false)).collect(),
        early: Mutex::new(Vec::new()),
        failed: AtomicBool::new(false),
        progress: progress.clone(),
    });
    let started = Instant::now();
    let totals = {
        let guards = ks.lock_all_unobserved();
        let totals = db_totals(&guards, ks.db_count());
        progress
            .keys_total
            .store(totals.iter().map(|t| t.0).sum(), Ordering::Relaxed);
        ks.set_observer(Some(observer.clone()));
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
                let r = write_file(&ks, &observer, &target, &totals, &abort);
                ks.set_observer(None);
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
            ks.set_observer(None);
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

/// The cursor: walks the slots in order and writes each one's keys.
fn write_file(
    ks: &Keyspace,
    obs: &Observer,
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
            progress: &obs.progress,
            key_save_delay_us: target.key_save_delay_us,
        };
        for i in 0..SLOT_COUNT {
            if abort.load(Ordering::Relaxed) {
                aborted = true;
                return Err(io::Error::other("snapshot aborted"));
            }
            out.append_early(obs)?;
            let seg = {
                let slot = ks.lock_slot_unobserved(i);
                if obs.taken[i].load(Ordering::Relaxed) {
                    // A writer encoded it: appended with the early ones.
                    None
                } else {
                    obs.taken[i].store(true, Ordering::Relaxed);
                    Some(encode_slot(&slot, &mut enc)?)
                }
            };
            if let Some(seg) = seg {
                out.append(&seg)?;
            }
        }
        // Every slot is taken now, so no writer encodes any more; one that
        // took a slot pushed it before unlocking, and the cursor's lock of
        // that slot waited for that.
        out.append_early(obs)?;
        debug_assert!(obs.early.lock().is_empty());
        if obs.failed.load(Ordering::Relaxed) {
            return Err(io::Error::other(
                "encoding a slot ahead of the cursor failed",
            ));
        }
        Ok(())
    });
    match saved {
        Ok(s) => Ok(s),
        Err(_) if aborted => Err(SnapshotError::Aborted),
        Err(e) => Err(SnapshotError::Io(e)),
    }
}

/// Appends slot segments to the file, selecting databases as needed.
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

    /// Appends the slots writers encoded since the last call.
    fn append_early(&mut self, obs: &Observer) -> io::Result<()> {
        let early = std::mem::take(&mut *obs.early.lock());
        for seg in &early {
            self.append(seg)?;
            self.progress
                .extra_bytes
                .fetch_sub(seg.byte_len(), Ordering::Relaxed);
        }
        Ok(())
    }
}

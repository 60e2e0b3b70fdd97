//! Copy-before-write for the forkless snapshot: the state it keeps in every
//! slot its cursor has not passed yet, and where the copies go.
//!
//! A slot ahead of the cursor carries a [`SlotCapture`] (in
//! `SlotData::capture`, so it is only ever touched under the slot's lock).
//! Before a key changes for the first time since the snapshot point, its
//! entry at that moment — still the one at the point — is encoded and
//! parked in the [`CopySink`], and the key is marked done; a key that did
//! not exist is only marked done, so a key created after the point never
//! reaches the file. Code that changes a slot without naming the key
//! ([`SlotCapture::capture_rest`]) copies every key not yet done and ends
//! the capture, as does the cursor when it gets there ([`SlotCapture::finish`]).

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hashbrown::HashSet;
use parking_lot::Mutex;
use smallvec::SmallVec;

use super::segment::SlotSegment;
use super::segment::{encode_entry_on_this_thread, encode_slot, encode_slot_on_this_thread};
use super::Progress;
use crate::keyspace::{Entry, SlotData};
use crate::rdb::encoder::{RdbWriteOptions, RdbWriter};

/// Heap cost of remembering one done key beyond its bytes: the boxed slice
/// (16), its allocation header, and the set's bucket and control byte.
const DONE_KEY_OVERHEAD_BYTES: u64 = 40;

/// Where copies taken ahead of the cursor wait for it, shared by the
/// captures of all slots of one snapshot.
pub(crate) struct CopySink {
    opts: RdbWriteOptions,
    /// Keys and slots copied ahead of the cursor, to append at its next step.
    pending: Mutex<Vec<SlotSegment>>,
    /// An early copy failed to encode (cannot happen writing to memory,
    /// but if it did the file would be wrong, so the snapshot fails).
    failed: AtomicBool,
    pub(super) progress: Arc<Progress>,
}

impl CopySink {
    pub(crate) fn new(opts: RdbWriteOptions, progress: Arc<Progress>) -> CopySink {
        CopySink {
            opts,
            pending: Mutex::new(Vec::new()),
            failed: AtomicBool::new(false),
            progress,
        }
    }

    /// The copies parked since the last call; the caller appends them and
    /// then calls [`CopySink::appended`] for each.
    pub(crate) fn take_pending(&self) -> Vec<SlotSegment> {
        std::mem::take(&mut *self.pending.lock())
    }

    pub(crate) fn appended(&self, seg: &SlotSegment) {
        let bytes = seg.byte_len();
        self.progress
            .pending_bytes
            .fetch_sub(bytes, Ordering::Relaxed);
        self.progress.sub_extra(bytes);
    }

    pub(crate) fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }

    fn park(&self, encoded: io::Result<SlotSegment>, what: std::fmt::Arguments<'_>) {
        match encoded {
            Ok(seg) => {
                let bytes = seg.byte_len();
                self.progress.add_extra(bytes);
                self.progress
                    .pending_bytes
                    .fetch_add(bytes, Ordering::Relaxed);
                self.pending.lock().push(seg);
            }
            Err(e) => {
                tracing::error!("snapshot: copying {what} ahead of the cursor failed: {e}");
                self.failed.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// Key names of one database.
type KeySet = HashSet<Box<[u8]>>;

/// The keys of one slot changed since the snapshot point, per database.
#[derive(Debug, Default)]
pub(crate) struct DoneKeys {
    per_db: SmallVec<[(u32, KeySet); 1]>,
    /// Estimated heap bytes held, for the memory figures.
    bytes: u64,
}

impl DoneKeys {
    /// Records `key` of `db`; true if it was not recorded yet.
    pub(crate) fn mark(&mut self, db: usize, key: &[u8]) -> bool {
        let db = db as u32;
        let i = match self.per_db.iter().position(|(d, _)| *d == db) {
            Some(i) => i,
            None => {
                self.per_db.push((db, HashSet::new()));
                self.per_db.len() - 1
            }
        };
        let set = &mut self.per_db[i].1;
        if set.contains(key) {
            return false;
        }
        set.insert(key.into());
        self.bytes += key.len() as u64 + DONE_KEY_OVERHEAD_BYTES;
        true
    }

    pub(crate) fn contains(&self, db: usize, key: &[u8]) -> bool {
        self.per_db
            .iter()
            .any(|(d, set)| *d as usize == db && set.contains(key))
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// A forkless snapshot's hold on one slot its cursor has not passed and
/// that was not copied whole yet.
pub struct SlotCapture {
    sink: Arc<CopySink>,
    done: DoneKeys,
}

/// What one capture costs before it holds any key: its box and the
/// allocator's header. Counted in the memory figures (one per slot).
const CAPTURE_BYTES: u64 = std::mem::size_of::<SlotCapture>() as u64 + 16;

impl SlotCapture {
    pub(crate) fn new(sink: Arc<CopySink>) -> Box<SlotCapture> {
        sink.progress.add_extra(CAPTURE_BYTES);
        Box::new(SlotCapture {
            sink,
            done: DoneKeys::default(),
        })
    }

    /// Called before `key` of `db` changes, with its entry now (`None` if
    /// absent). The first time since the point, that entry is still the one
    /// at the point: it is copied for the cursor, and the key is left out
    /// of the slot's encoding later.
    pub(crate) fn before_key_write(&mut self, db: usize, key: &[u8], now: Option<&Entry>) {
        let before = self.done.bytes();
        if !self.done.mark(db, key) {
            return;
        }
        self.sink.progress.add_extra(self.done.bytes() - before);
        if let Some(entry) = now {
            self.sink
                .progress
                .early_keys
                .fetch_add(1, Ordering::Relaxed);
            self.sink.park(
                encode_entry_on_this_thread(db, key, entry, self.sink.opts),
                format_args!("a key"),
            );
        }
    }

    /// Called before `slot` (which held this capture, taken out of it now)
    /// changes in a way no single key names: copies every key not done yet.
    pub(crate) fn capture_rest(&self, slot: &SlotData) {
        let encoded =
            encode_slot_on_this_thread(slot, self.sink.opts, |db, key| self.done.contains(db, key));
        self.sink
            .progress
            .early_slots
            .fetch_add(1, Ordering::Relaxed);
        self.sink
            .park(encoded, format_args!("slot {}", slot.id().index()));
    }

    /// The cursor reached `slot` (and took this capture out of it): encodes
    /// every key not done, with `enc`.
    pub(crate) fn finish(
        &self,
        slot: &SlotData,
        enc: &mut RdbWriter<Vec<u8>>,
    ) -> io::Result<SlotSegment> {
        encode_slot(slot, enc, |db, key| self.done.contains(db, key))
    }
}

impl Drop for SlotCapture {
    fn drop(&mut self) {
        self.sink
            .progress
            .sub_extra(CAPTURE_BYTES + self.done.bytes());
    }
}

impl std::fmt::Debug for SlotCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotCapture")
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keyspace::Keyspace;
    use crate::value::Value;

    #[test]
    fn done_keys_mark_once_per_database_and_count_their_bytes() {
        let mut d = DoneKeys::default();
        assert!(d.mark(0, b"k"));
        assert!(!d.mark(0, b"k"));
        assert!(d.mark(3, b"k"));
        assert!(d.contains(0, b"k") && d.contains(3, b"k"));
        assert!(!d.contains(1, b"k") && !d.contains(0, b"other"));
        assert_eq!(d.bytes(), 2 * (1 + DONE_KEY_OVERHEAD_BYTES));
    }

    #[test]
    fn the_captures_of_all_slots_stay_small() {
        let all = CAPTURE_BYTES * crate::slot::SLOT_COUNT as u64;
        assert!(all < 2 << 20, "{all} bytes before any key is written");
    }

    fn string(s: &str) -> Entry {
        Entry::new(Value::string(s.as_bytes()))
    }

    /// The keys and bytes of everything parked so far.
    fn drain(sink: &CopySink) -> (u64, Vec<u8>) {
        let mut keys = 0;
        let mut bytes = Vec::new();
        for seg in sink.take_pending() {
            for run in &seg.runs {
                keys += run.keys;
                bytes.extend_from_slice(&run.bytes);
            }
            sink.appended(&seg);
        }
        (keys, bytes)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn keyed_changes_copy_a_key_once_before_its_first_change() {
        let ks = Keyspace::new(2);
        let progress = Arc::new(Progress::default());
        let sink = Arc::new(CopySink::new(RdbWriteOptions::default(), progress.clone()));
        let mut slot = ks.lock_key(b"{t}a");
        slot.insert(0, b"{t}a", string("at-point-a"));
        slot.insert(1, b"{t}gone", string("at-point-gone"));
        let mut timed = string("at-point-timed");
        timed.expire_at_ms = 10;
        slot.insert(0, b"{t}timed", timed);
        slot.insert(0, b"{t}untouched", string("at-point-untouched"));
        slot.set_capture(Some(SlotCapture::new(sink.clone())));
        let early = || Progress::get(&progress.early_keys);

        // In place: the copy is taken before the `&mut` exists.
        slot.get_mut(0, b"{t}a").unwrap().value = Value::string(b"changed");
        slot.insert(0, b"{t}a", string("changed again"));
        assert_eq!(early(), 1);
        // Created after the point: remembered, never copied.
        slot.insert(0, b"{t}new", string("new"));
        slot.remove(0, b"{t}new");
        assert_eq!(early(), 1);
        // Deleted, expired: copied with their value (and expiry) then.
        assert!(slot.remove(1, b"{t}gone").is_some());
        let mut expired = 0;
        slot.remove_expired(0, 20, |_| expired += 1);
        assert_eq!((early(), expired), (3, 1));
        // Nothing changes for a missing key: nothing to copy or remember.
        assert!(slot.get_mut(0, b"{t}missing").is_none());
        assert!(!slot.set_expire(0, b"{t}missing", 5));
        let (keys, bytes) = drain(&sink);
        assert_eq!(keys, 3);
        for v in ["at-point-a", "at-point-gone", "at-point-timed"] {
            assert!(contains(&bytes, v.as_bytes()), "{v} not copied");
        }
        assert!(!contains(&bytes, b"changed") && !contains(&bytes, b"new"));
        assert_eq!(Progress::get(&progress.pending_bytes), 0);
        assert!(
            Progress::get(&progress.extra_bytes) > CAPTURE_BYTES,
            "done keys held"
        );

        // The cursor then encodes only what no change copied.
        let capture = slot.set_capture(None).unwrap();
        let mut enc = RdbWriter::new_segment(Vec::new(), RdbWriteOptions::default());
        let seg = capture.finish(&slot, &mut enc).unwrap();
        drop(capture);
        assert_eq!(seg.runs.iter().map(|r| r.keys).sum::<u64>(), 1);
        assert!(contains(&seg.runs[0].bytes, b"at-point-untouched"));
        assert_eq!(Progress::get(&progress.extra_bytes), 0);
        assert_eq!(Progress::get(&progress.early_slots), 0);
    }

    #[test]
    fn a_change_naming_no_key_copies_the_rest_of_the_slot_and_ends_the_capture() {
        let ks = Keyspace::new(2);
        let progress = Arc::new(Progress::default());
        let sink = Arc::new(CopySink::new(RdbWriteOptions::default(), progress.clone()));
        let mut slot = ks.lock_key(b"{t}a");
        slot.insert(0, b"{t}a", string("at-point-a"));
        slot.insert(1, b"{t}b", string("at-point-b"));
        slot.set_capture(Some(SlotCapture::new(sink.clone())));
        slot.insert(0, b"{t}a", string("changed"));
        assert_eq!(drain(&sink).0, 1);

        drop(slot.db_mut(1).take());
        assert_eq!(Progress::get(&progress.early_slots), 1);
        let (keys, bytes) = drain(&sink);
        assert_eq!(keys, 1, "only the key no change copied");
        assert!(contains(&bytes, b"at-point-b") && !contains(&bytes, b"changed"));
        // Ended: later changes copy nothing, the cursor finds nothing to do.
        slot.insert(0, b"{t}a", string("again"));
        slot.swap_dbs(0, 1);
        assert_eq!(drain(&sink).0, 0);
        assert!(slot.set_capture(None).is_none());
        assert_eq!(Progress::get(&progress.extra_bytes), 0);
        assert!(Progress::get(&progress.extra_bytes_peak) > 0);
    }
}

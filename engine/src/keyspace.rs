//! The slotted keyspace: 16384 slots, each behind its own lock, each holding
//! one key map per database plus the WATCH registrations of its keys.
//!
//! A command locks only the slots of the keys it names (several in ascending
//! order, which makes lock ordering deadlock-free), so there is no global
//! lock on the command path. Commands that span the whole keyspace (FLUSHALL,
//! SWAPDB, KEYS, SCAN …) either lock every slot in order or visit the slots
//! one at a time, as their semantics require.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use parking_lot::{Mutex, MutexGuard};
use smallvec::SmallVec;
use std::hash::BuildHasher;

use crate::slot::{key_slot, SlotId, SLOT_COUNT};
use crate::snapshot::capture::SlotCapture;
use crate::value::{ByteStr, Value};

/// Expiry value meaning "no expiry".
pub const NO_EXPIRY: u64 = 0;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub value: Value,
    /// Absolute expiry in Unix milliseconds, or [`NO_EXPIRY`].
    pub expire_at_ms: u64,
}

impl Entry {
    pub fn new(value: Value) -> Entry {
        Entry {
            value,
            expire_at_ms: NO_EXPIRY,
        }
    }

    pub fn has_expiry(&self) -> bool {
        self.expire_at_ms != NO_EXPIRY
    }

    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at_ms != NO_EXPIRY && self.expire_at_ms <= now_ms
    }
}

/// A key and its entry, in one allocation of its own: the per-slot table
/// then holds only pointers (8 bytes a bucket). Hash tables run between
/// 44% and 87.5% full, and a slot holds few keys, so slack buckets of a
/// whole 64-byte entry used to cost more than the entries themselves.
#[derive(Debug)]
struct Node {
    key: ByteStr,
    entry: Entry,
}

/// One database's keys within one slot.
#[derive(Debug, Default)]
pub struct DbSlot {
    table: HashTable<Box<Node>>,
    hasher: DefaultHashBuilder,
    /// How many entries carry an expiry; lets the active expiry cycle skip
    /// slots with nothing to expire.
    volatile: usize,
}

/// Tables at or below this many buckets are never shrunk (Redis's
/// DICT_HT_INITIAL_SIZE plays the same role).
const SHRINK_MIN_CAPACITY: usize = 64;

impl DbSlot {
    pub fn len(&self) -> usize {
        self.table.len()
    }
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }

    #[inline]
    fn find(&self, key: &[u8]) -> Option<&Node> {
        let h = self.hasher.hash_one(key);
        self.table
            .find(h, |n| n.key.as_slice() == key)
            .map(|n| &**n)
    }

    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.find(key).map(|n| &n.entry)
    }
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        let h = self.hasher.hash_one(key);
        self.table
            .find_mut(h, |n| n.key.as_slice() == key)
            .map(|n| &mut n.entry)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> + '_ {
        self.table.iter().map(|n| (n.key.as_slice(), &n.entry))
    }

    /// Inserts or replaces; returns the previous entry.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        if entry.has_expiry() {
            self.volatile += 1;
        }
        let DbSlot { table, hasher, .. } = self;
        let h = hasher.hash_one(key);
        let old = match table.entry(
            h,
            |n| n.key.as_slice() == key,
            |n| hasher.hash_one(n.key.as_slice()),
        ) {
            TableEntry::Occupied(mut o) => Some(std::mem::replace(&mut o.get_mut().entry, entry)),
            TableEntry::Vacant(v) => {
                v.insert(Box::new(Node {
                    key: ByteStr::from_slice(key),
                    entry,
                }));
                None
            }
        };
        if old.as_ref().is_some_and(Entry::has_expiry) {
            self.volatile -= 1;
        }
        old
    }

    /// Makes room for `additional` more keys (loading sizes slots ahead
    /// from RESIZEDB instead of rehashing as they fill).
    pub fn reserve(&mut self, additional: usize) {
        let DbSlot { table, hasher, .. } = self;
        table.reserve(additional, |n| hasher.hash_one(n.key.as_slice()));
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let h = self.hasher.hash_one(key);
        let (node, _) = self
            .table
            .find_entry(h, |n| n.key.as_slice() == key)
            .ok()?
            .remove();
        if node.entry.has_expiry() {
            self.volatile -= 1;
        }
        self.shrink_if_sparse();
        Some(node.entry)
    }

    /// Gives memory back after mass deletion, as Redis resizes a dict that
    /// fell under 10% full; amortized O(1) per removal.
    fn shrink_if_sparse(&mut self) {
        let capacity = self.table.capacity();
        if capacity > SHRINK_MIN_CAPACITY && self.table.len() * 10 < capacity {
            let hasher = &self.hasher;
            self.table
                .shrink_to(self.table.len(), |n| hasher.hash_one(n.key.as_slice()));
        }
    }

    /// Sets or clears the expiry of an existing key; false if the key is missing.
    pub fn set_expire(&mut self, key: &[u8], expire_at_ms: u64) -> bool {
        let Some(entry) = self.get_mut(key) else {
            return false;
        };
        let delta = match (entry.has_expiry(), expire_at_ms != NO_EXPIRY) {
            (false, true) => 1isize,
            (true, false) => -1,
            _ => 0,
        };
        entry.expire_at_ms = expire_at_ms;
        self.volatile = self.volatile.wrapping_add_signed(delta);
        true
    }

    /// Removes every entry whose expiry is at or before `now_ms`, handing each
    /// removed key to `on_expired`. Returns how many were removed.
    pub fn remove_expired(&mut self, now_ms: u64, mut on_expired: impl FnMut(&[u8])) -> usize {
        if self.volatile == 0 {
            return 0;
        }
        let mut removed = 0;
        self.table.retain(|n| {
            if n.entry.is_expired(now_ms) {
                on_expired(&n.key);
                removed += 1;
                false
            } else {
                true
            }
        });
        self.volatile -= removed;
        if removed > 0 {
            self.shrink_if_sparse();
        }
        removed
    }

    /// Empties the map, returning the old one (so large ones can be freed elsewhere).
    pub fn take(&mut self) -> DbSlot {
        std::mem::take(self)
    }
}

/// A client's WATCH flag: set when any watched key is modified.
pub type WatchFlag = Arc<AtomicBool>;

/// WATCHed keys of a slot: (db, key) → flags of the watching clients.
type WatchMap = HashMap<(u32, ByteStr), SmallVec<[WatchFlag; 1]>>;

/// Everything stored in one slot.
#[derive(Debug)]
pub struct SlotData {
    id: SlotId,
    /// Per-database maps, grown on first write to a database. The first
    /// sits inline: a keyed command on database 0 then finds its table one
    /// cache miss sooner than through a separate allocation.
    dbs: SmallVec<[DbSlot; 1]>,
    /// WATCHed keys of this slot: (db, key) → flags of the watching clients.
    /// Boxed and absent until the first WATCH: 8 bytes instead of a whole
    /// map in each of the 16384 slots, almost none of which is ever watched.
    watched: Option<Box<WatchMap>>,
    /// Set while a forkless snapshot's cursor has not passed this slot (and
    /// it was not copied whole): every change is announced to it first —
    /// by key where the change names one, else as a whole-slot change (any
    /// `&mut DbSlot` handed out). See `snapshot::capture`.
    capture: Option<Box<SlotCapture>>,
}

impl SlotData {
    fn new(id: SlotId) -> SlotData {
        SlotData {
            id,
            dbs: SmallVec::new(),
            watched: None,
            capture: None,
        }
    }

    pub fn id(&self) -> SlotId {
        self.id
    }

    pub fn db(&self, db: usize) -> Option<&DbSlot> {
        self.dbs.get(db)
    }

    /// The whole map of `db`, for changes that do not name their keys
    /// (loading, FLUSHDB …): a running forkless snapshot copies the rest of
    /// the slot first. Changes of one key go through the keyed methods
    /// below, which copy only that key.
    pub fn db_mut(&mut self, db: usize) -> &mut DbSlot {
        self.before_slot_write();
        self.db_mut_announced(db)
    }

    /// `db_mut` for callers that announced their change already.
    fn db_mut_announced(&mut self, db: usize) -> &mut DbSlot {
        if self.dbs.len() <= db {
            self.grow_dbs(db + 1);
        }
        &mut self.dbs[db]
    }

    /// Tells a running forkless snapshot that `key` of `db` is about to
    /// change (it copies the key's entry at the point on its first change).
    /// With `only_if_present`, a missing key is left alone: the caller
    /// changes nothing then, and need not be remembered.
    #[inline]
    fn before_key_write(&mut self, db: usize, key: &[u8], only_if_present: bool) {
        if let Some(capture) = &mut self.capture {
            let now = self.dbs.get(db).and_then(|d| d.get(key));
            if now.is_some() || !only_if_present {
                capture.before_key_write(db, key, now);
            }
        }
    }

    /// Tells a running forkless snapshot that the slot is about to change
    /// in ways no key names: it copies every key not copied yet.
    #[inline]
    fn before_slot_write(&mut self) {
        if let Some(capture) = self.capture.take() {
            capture.capture_rest(self);
        }
    }

    /// Inserts or replaces `key` in `db`; returns the previous entry.
    pub fn insert(&mut self, db: usize, key: &[u8], entry: Entry) -> Option<Entry> {
        self.before_key_write(db, key, false);
        self.db_mut_announced(db).insert(key, entry)
    }

    pub fn remove(&mut self, db: usize, key: &[u8]) -> Option<Entry> {
        self.before_key_write(db, key, true);
        self.dbs.get_mut(db)?.remove(key)
    }

    /// The entry of `key` in `db` for changing it in place.
    pub fn get_mut(&mut self, db: usize, key: &[u8]) -> Option<&mut Entry> {
        // Before the `&mut` exists: the copy must be the value unchanged.
        self.before_key_write(db, key, true);
        self.dbs.get_mut(db)?.get_mut(key)
    }

    /// Sets or clears the expiry of an existing key; false if it is missing.
    pub fn set_expire(&mut self, db: usize, key: &[u8], expire_at_ms: u64) -> bool {
        self.before_key_write(db, key, true);
        self.dbs
            .get_mut(db)
            .is_some_and(|d| d.set_expire(key, expire_at_ms))
    }

    /// Removes every entry of `db` expired at `now_ms`, handing each removed
    /// key to `on_expired`; returns how many were removed.
    pub fn remove_expired(
        &mut self,
        db: usize,
        now_ms: u64,
        on_expired: impl FnMut(&[u8]),
    ) -> usize {
        let Some(d) = self.dbs.get(db) else {
            return 0;
        };
        if self.capture.is_some() && d.volatile_len() > 0 {
            // Rare (a snapshot runs): name each key before it goes.
            let expired: Vec<ByteStr> = d
                .iter()
                .filter(|(_, e)| e.is_expired(now_ms))
                .map(|(k, _)| ByteStr::from_slice(k))
                .collect();
            for key in &expired {
                self.before_key_write(db, key, true);
            }
        }
        self.dbs[db].remove_expired(now_ms, on_expired)
    }

    /// Starts (or with `None` ends) a forkless snapshot's capture of this
    /// slot; returns the one it replaces.
    pub(crate) fn set_capture(
        &mut self,
        capture: Option<Box<SlotCapture>>,
    ) -> Option<Box<SlotCapture>> {
        std::mem::replace(&mut self.capture, capture)
    }

    /// Grows the per-database table list to exactly `len`. Exactly: a
    /// plain resize of an empty Vec reserves room for four, and with one
    /// list per slot that is 144 wasted bytes in each of the 16384 slots.
    fn grow_dbs(&mut self, len: usize) {
        self.dbs.reserve_exact(len - self.dbs.len());
        self.dbs.resize_with(len, DbSlot::default);
    }

    /// Number of keys across databases: (db, keys) for databases with keys.
    pub fn dbs(&self) -> impl Iterator<Item = (usize, &DbSlot)> + '_ {
        self.dbs.iter().enumerate().filter(|(_, d)| !d.is_empty())
    }

    /// SWAPDB's part in this slot (a whole-slot change for a snapshot).
    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        self.before_slot_write();
        let needed = a.max(b) + 1;
        if self.dbs.len() < needed {
            self.grow_dbs(needed);
        }
        self.dbs.swap(a, b);
    }

    /// Marks every client watching `key` in `db` as dirty (Redis's signalModifiedKey).
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        let Some(watched) = &self.watched else {
            return;
        };
        if let Some(flags) = watched.get(&(db as u32, ByteStr::from_slice(key))) {
            for f in flags {
                f.store(true, Ordering::Release);
            }
        }
    }

    /// Marks watchers of keys in `db` dirty. With `only_existing`, only keys
    /// that currently exist count (what FLUSHDB/SWAPDB do in Redis 7.0).
    pub fn touch_all_watched(&mut self, db: usize, only_existing: bool) {
        let Some(watched) = &self.watched else {
            return;
        };
        for ((wdb, key), flags) in watched.iter() {
            if *wdb as usize != db {
                continue;
            }
            let exists = self.dbs.get(db).is_some_and(|d| d.get(key).is_some());
            if !only_existing || exists {
                for f in flags {
                    f.store(true, Ordering::Release);
                }
            }
        }
    }

    pub fn watch(&mut self, db: usize, key: &[u8], flag: &WatchFlag) {
        let flags = self
            .watched
            .get_or_insert_with(Box::default)
            .entry((db as u32, ByteStr::from_slice(key)))
            .or_default();
        if !flags.iter().any(|f| Arc::ptr_eq(f, flag)) {
            flags.push(flag.clone());
        }
    }

    pub fn unwatch(&mut self, db: usize, key: &[u8], flag: &WatchFlag) {
        let k = (db as u32, ByteStr::from_slice(key));
        let Some(watched) = &mut self.watched else {
            return;
        };
        if let Some(flags) = watched.get_mut(&k) {
            flags.retain(|f| !Arc::ptr_eq(f, flag));
            if flags.is_empty() {
                watched.remove(&k);
            }
        }
        if watched.is_empty() {
            self.watched = None;
        }
    }
}

/// The whole dataset.
pub struct Keyspace {
    slots: Box<[Mutex<SlotData>]>,
    db_count: usize,
    /// Held by the one snapshot (forkless or fork) that may run at a time.
    snapshot_claimed: AtomicBool,
    /// "Some key may carry a TTL": set by every path that gives a key an
    /// expiry, cleared by the active expiry cycle when a full pass over the
    /// slots starts. With no volatile keys the cycle then skips its pass
    /// instead of locking 16384 slots ten times a second.
    volatile_hint: AtomicBool,
}

impl Keyspace {
    pub fn new(db_count: usize) -> Keyspace {
        debug_assert!(db_count > 0);
        let slots = (0..SLOT_COUNT)
            .map(|i| Mutex::new(SlotData::new(SlotId(i as u16))))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Keyspace {
            slots,
            db_count,
            snapshot_claimed: AtomicBool::new(false),
            volatile_hint: AtomicBool::new(true),
        }
    }

    /// Records that a key just got an expiry (see `volatile_hint`). Called
    /// with the key's slot locked; a load first keeps the flag's cache line
    /// shared while it is already set.
    #[inline]
    pub fn note_volatile(&self) {
        if !self.volatile_hint.load(Ordering::Relaxed) {
            self.volatile_hint.store(true, Ordering::Relaxed);
        }
    }

    /// Clears the hint and returns what it was. The expiry cycle calls it
    /// before a full pass and sets it again (via [`Keyspace::note_volatile`])
    /// for every slot the pass finds volatile keys in, so an expiry added
    /// during the pass is never lost: either its slot is visited later or
    /// the hint stays set for the next pass.
    pub fn take_volatile_hint(&self) -> bool {
        self.volatile_hint.swap(false, Ordering::AcqRel)
    }

    pub fn db_count(&self) -> usize {
        self.db_count
    }

    /// Locking costs nothing extra while a snapshot runs: only changes pay
    /// (see `SlotData::capture`), reads never do.
    pub fn lock_slot(&self, slot: SlotId) -> MutexGuard<'_, SlotData> {
        self.lock_index(slot.index())
    }

    #[inline]
    pub(crate) fn lock_index(&self, i: usize) -> MutexGuard<'_, SlotData> {
        self.slots[i].lock()
    }

    /// Claims the right to run a snapshot; false if one is running.
    pub(crate) fn claim_snapshot(&self) -> bool {
        self.snapshot_claimed
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn release_snapshot(&self) {
        self.snapshot_claimed.store(false, Ordering::Release);
    }

    /// True while a snapshot (BGSAVE, SAVE or an AOF rewrite base) runs.
    pub fn snapshot_running(&self) -> bool {
        self.snapshot_claimed.load(Ordering::Acquire)
    }

    pub fn lock_key(&self, key: &[u8]) -> MutexGuard<'_, SlotData> {
        self.lock_slot(key_slot(key))
    }

    /// Locks every slot in ascending order.
    pub fn lock_all(&self) -> Vec<MutexGuard<'_, SlotData>> {
        (0..self.slots.len()).map(|i| self.lock_index(i)).collect()
    }

    /// Visits the slots one at a time, each under its own lock.
    pub fn for_each_slot(&self, mut f: impl FnMut(&mut SlotData)) {
        for i in 0..self.slots.len() {
            f(&mut self.lock_index(i));
        }
    }

    /// Visits the slots one at a time for reading only.
    pub fn for_each_slot_read(&self, mut f: impl FnMut(&SlotData)) {
        for s in self.slots.iter() {
            f(&s.lock());
        }
    }

    /// Number of keys in `db` (visits slots one at a time).
    pub fn db_len(&self, db: usize) -> usize {
        let mut n = 0;
        self.for_each_slot_read(|s| n += s.db(db).map_or(0, DbSlot::len));
        n
    }

    /// (keys, keys with expiry) per database, for INFO keyspace.
    pub fn db_sizes(&self) -> Vec<(usize, usize)> {
        let mut sizes = vec![(0, 0); self.db_count];
        self.for_each_slot_read(|s| {
            for (i, d) in s.dbs() {
                if let Some(e) = sizes.get_mut(i) {
                    e.0 += d.len();
                    e.1 += d.volatile_len();
                }
            }
        });
        sizes
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn key(i: usize) -> Vec<u8> {
        format!("key:{i}").into_bytes()
    }

    #[test]
    fn db_slot_insert_replace_remove_and_volatile_count() {
        let mut d = DbSlot::default();
        assert!(d.insert(b"a", Entry::new(Value::Int(1))).is_none());
        let mut timed = Entry::new(Value::Int(2));
        timed.expire_at_ms = 100;
        assert_eq!(d.insert(b"a", timed).unwrap().value, Value::Int(1));
        assert_eq!((d.len(), d.volatile_len()), (1, 1));
        assert!(d.set_expire(b"a", NO_EXPIRY));
        assert_eq!(d.volatile_len(), 0);
        assert!(d.set_expire(b"a", 50));
        assert!(!d.set_expire(b"missing", 50));
        d.insert(b"b", Entry::new(Value::Int(3)));
        let mut gone = Vec::new();
        assert_eq!(d.remove_expired(60, |k| gone.push(k.to_vec())), 1);
        assert_eq!(gone, vec![b"a".to_vec()]);
        assert_eq!((d.len(), d.volatile_len()), (1, 0));
        assert_eq!(d.get(b"b").unwrap().value, Value::Int(3));
        assert_eq!(d.remove(b"b").unwrap().value, Value::Int(3));
        assert!(d.remove(b"b").is_none() && d.is_empty());
    }

    #[test]
    fn db_slot_shrinks_after_mass_deletion() {
        let mut d = DbSlot::default();
        for i in 0..10_000 {
            d.insert(&key(i), Entry::new(Value::Int(i as i64)));
        }
        let grown = d.table.capacity();
        for i in 0..9_990 {
            assert!(d.remove(&key(i)).is_some());
        }
        assert!(d.table.capacity() < grown / 10, "{}", d.table.capacity());
        for i in 9_990..10_000 {
            assert_eq!(d.get(&key(i)).unwrap().value, Value::Int(i as i64));
        }
        assert_eq!(d.iter().count(), 10);
    }

    #[test]
    fn idle_slots_stay_small() {
        // 16384 of them exist from startup, most never watched.
        // 80: the id, the watches, the snapshot capture pointer and database
        // 0's table inline (32 bytes more than a Vec, 512 KiB over all slots,
        // repaid by the 64-byte allocation each used slot no longer makes).
        assert!(
            std::mem::size_of::<SlotData>() <= 80,
            "{}",
            std::mem::size_of::<SlotData>()
        );
        let mut s = SlotData::new(SlotId(0));
        let flag = WatchFlag::default();
        s.watch(0, b"k", &flag);
        s.touch_watched(1, b"k");
        assert!(!flag.load(Ordering::Acquire));
        s.touch_watched(0, b"k");
        assert!(flag.load(Ordering::Acquire));
        s.unwatch(0, b"k", &flag);
        assert!(s.watched.is_none());
    }

    #[test]
    fn slot_reserves_only_the_databases_it_uses() {
        let mut s = SlotData::new(SlotId(0));
        s.db_mut(0);
        assert_eq!(s.dbs.capacity(), 1);
        s.swap_dbs(0, 2);
        assert_eq!(s.dbs.capacity(), 3);
    }
}

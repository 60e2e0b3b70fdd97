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

use hashbrown::HashMap;
use parking_lot::{Mutex, MutexGuard, RwLock};
use smallvec::SmallVec;

use crate::slot::{key_slot, SlotId, SLOT_COUNT};
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

/// One database's keys within one slot.
#[derive(Debug, Default)]
pub struct DbSlot {
    map: HashMap<ByteStr, Entry>,
    /// How many entries carry an expiry; lets the active expiry cycle skip
    /// slots with nothing to expire.
    volatile: usize,
}

impl DbSlot {
    pub fn len(&self) -> usize {
        self.map.len()
    }
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
    pub fn volatile_len(&self) -> usize {
        self.volatile
    }
    pub fn get(&self, key: &[u8]) -> Option<&Entry> {
        self.map.get(key)
    }
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.map.get_mut(key)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Entry)> + '_ {
        self.map.iter().map(|(k, e)| (k.as_slice(), e))
    }

    /// Inserts or replaces; returns the previous entry.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        let adds_volatile = entry.has_expiry();
        let old = self.map.insert(ByteStr::from_slice(key), entry);
        if adds_volatile {
            self.volatile += 1;
        }
        if old.as_ref().is_some_and(Entry::has_expiry) {
            self.volatile -= 1;
        }
        old
    }

    /// Makes room for `additional` more keys (loading sizes slots ahead
    /// from RESIZEDB instead of rehashing as they fill).
    pub fn reserve(&mut self, additional: usize) {
        self.map.reserve(additional);
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        let old = self.map.remove(key);
        if old.as_ref().is_some_and(Entry::has_expiry) {
            self.volatile -= 1;
        }
        old
    }

    /// Sets or clears the expiry of an existing key; false if the key is missing.
    pub fn set_expire(&mut self, key: &[u8], expire_at_ms: u64) -> bool {
        let Some(entry) = self.map.get_mut(key) else {
            return false;
        };
        match (entry.has_expiry(), expire_at_ms != NO_EXPIRY) {
            (false, true) => self.volatile += 1,
            (true, false) => self.volatile -= 1,
            _ => {}
        }
        entry.expire_at_ms = expire_at_ms;
        true
    }

    /// Removes every entry whose expiry is at or before `now_ms`, handing each
    /// removed key to `on_expired`. Returns how many were removed.
    pub fn remove_expired(&mut self, now_ms: u64, mut on_expired: impl FnMut(&[u8])) -> usize {
        if self.volatile == 0 {
            return 0;
        }
        let mut removed = 0;
        self.map.retain(|k, e| {
            if e.is_expired(now_ms) {
                on_expired(k);
                removed += 1;
                false
            } else {
                true
            }
        });
        self.volatile -= removed;
        removed
    }

    /// Empties the map, returning the old one (so large ones can be freed elsewhere).
    pub fn take(&mut self) -> DbSlot {
        std::mem::take(self)
    }
}

/// A client's WATCH flag: set when any watched key is modified.
pub type WatchFlag = Arc<AtomicBool>;

/// Everything stored in one slot.
#[derive(Debug)]
pub struct SlotData {
    id: SlotId,
    /// Per-database maps, grown on first write to a database.
    dbs: Vec<DbSlot>,
    /// WATCHed keys of this slot: (db, key) → flags of the watching clients.
    watched: HashMap<(u32, ByteStr), SmallVec<[WatchFlag; 1]>>,
}

impl SlotData {
    fn new(id: SlotId) -> SlotData {
        SlotData {
            id,
            dbs: Vec::new(),
            watched: HashMap::new(),
        }
    }

    pub fn id(&self) -> SlotId {
        self.id
    }

    pub fn db(&self, db: usize) -> Option<&DbSlot> {
        self.dbs.get(db)
    }

    pub fn db_mut(&mut self, db: usize) -> &mut DbSlot {
        if self.dbs.len() <= db {
            self.dbs.resize_with(db + 1, DbSlot::default);
        }
        &mut self.dbs[db]
    }

    /// Number of keys across databases: (db, keys) for databases with keys.
    pub fn dbs(&self) -> impl Iterator<Item = (usize, &DbSlot)> + '_ {
        self.dbs.iter().enumerate().filter(|(_, d)| !d.is_empty())
    }

    pub fn swap_dbs(&mut self, a: usize, b: usize) {
        let needed = a.max(b) + 1;
        if self.dbs.len() < needed {
            self.dbs.resize_with(needed, DbSlot::default);
        }
        self.dbs.swap(a, b);
    }

    /// Marks every client watching `key` in `db` as dirty (Redis's signalModifiedKey).
    pub fn touch_watched(&mut self, db: usize, key: &[u8]) {
        if self.watched.is_empty() {
            return;
        }
        if let Some(flags) = self.watched.get(&(db as u32, ByteStr::from_slice(key))) {
            for f in flags {
                f.store(true, Ordering::Release);
            }
        }
    }

    /// Marks watchers of keys in `db` dirty. With `only_existing`, only keys
    /// that currently exist count (what FLUSHDB/SWAPDB do in Redis 7.0).
    pub fn touch_all_watched(&mut self, db: usize, only_existing: bool) {
        if self.watched.is_empty() {
            return;
        }
        for ((wdb, key), flags) in &self.watched {
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
            .entry((db as u32, ByteStr::from_slice(key)))
            .or_default();
        if !flags.iter().any(|f| Arc::ptr_eq(f, flag)) {
            flags.push(flag.clone());
        }
    }

    pub fn unwatch(&mut self, db: usize, key: &[u8], flag: &WatchFlag) {
        let k = (db as u32, ByteStr::from_slice(key));
        if let Some(flags) = self.watched.get_mut(&k) {
            flags.retain(|f| !Arc::ptr_eq(f, flag));
            if flags.is_empty() {
                self.watched.remove(&k);
            }
        }
    }
}

/// Sees every slot right after it is locked and before the locker can
/// change it. The forkless snapshot uses it to serialize a slot its cursor
/// has not reached yet before a writer changes it (serialize-before-write).
pub trait SlotObserver: Send + Sync {
    fn before_access(&self, slot: &SlotData);
}

/// The whole dataset.
pub struct Keyspace {
    slots: Box<[Mutex<SlotData>]>,
    db_count: usize,
    /// Snapshot hook: `observing` is the one atomic load every lock pays
    /// when no snapshot runs; `observer` is read only when it is set.
    observing: AtomicBool,
    observer: RwLock<Option<Arc<dyn SlotObserver>>>,
    /// Held by the one snapshot (forkless or fork) that may run at a time.
    snapshot_claimed: AtomicBool,
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
            observing: AtomicBool::new(false),
            observer: RwLock::new(None),
            snapshot_claimed: AtomicBool::new(false),
        }
    }

    pub fn db_count(&self) -> usize {
        self.db_count
    }

    pub fn lock_slot(&self, slot: SlotId) -> MutexGuard<'_, SlotData> {
        self.lock_index(slot.index())
    }

    /// Every lock goes through here so the snapshot observer sees the slot
    /// before anyone can change it.
    #[inline]
    fn lock_index(&self, i: usize) -> MutexGuard<'_, SlotData> {
        let guard = self.slots[i].lock();
        if self.observing.load(Ordering::Acquire) {
            self.notify_observer(&guard);
        }
        guard
    }

    #[cold]
    fn notify_observer(&self, slot: &SlotData) {
        if let Some(o) = self.observer.read().as_ref() {
            o.before_access(slot);
        }
    }

    /// Locks a slot for a visit that usually only looks (the active expiry
    /// cycle): the snapshot observer is told only if the visitor then calls
    /// [`Keyspace::before_write`], so an idle pass over the slots does not
    /// make a forkless snapshot encode them early.
    pub fn lock_slot_deferred(&self, slot: SlotId) -> MutexGuard<'_, SlotData> {
        self.slots[slot.index()].lock()
    }

    /// Tells the snapshot observer that a slot locked with
    /// [`Keyspace::lock_slot_deferred`] is about to change.
    pub fn before_write(&self, slot: &SlotData) {
        if self.observing.load(Ordering::Acquire) {
            self.notify_observer(slot);
        }
    }

    /// Locks a slot without telling the observer (the snapshot's own cursor).
    pub(crate) fn lock_slot_unobserved(&self, i: usize) -> MutexGuard<'_, SlotData> {
        self.slots[i].lock()
    }

    /// Locks every slot in order without telling the observer (establishing
    /// a snapshot point).
    pub(crate) fn lock_all_unobserved(&self) -> Vec<MutexGuard<'_, SlotData>> {
        self.slots.iter().map(|s| s.lock()).collect()
    }

    /// Installs (or with `None` removes) the snapshot observer. Installing
    /// must happen with every slot locked, so no locker can miss it.
    pub(crate) fn set_observer(&self, observer: Option<Arc<dyn SlotObserver>>) {
        let on = observer.is_some();
        *self.observer.write() = observer;
        self.observing.store(on, Ordering::Release);
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

    /// Visits the slots one at a time for reading only. The snapshot
    /// observer is not told: nothing can change through `&SlotData`, and
    /// telling it would make every INFO/DBSIZE during a forkless BGSAVE
    /// encode the whole keyspace ahead of the cursor.
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

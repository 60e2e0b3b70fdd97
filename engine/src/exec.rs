//! Executing data commands: locking the slots a command (or a whole EXEC)
//! touches, and the one mutation path every command goes through.
//!
//! Every read or write of a key goes through [`ExecCtx`]: it expires keys
//! lazily, counts hits and misses, marks WATCHing clients dirty, counts
//! changes for the save rules, and records the command's propagated form so
//! AOF and snapshot code can see every change in one place. Changes go
//! through `SlotData`'s keyed methods (`insert`, `remove`, `get_mut`,
//! `set_expire`), so a running forkless snapshot copies only the key a
//! command changes; `&mut SlotData` handed out by the escape hatches below
//! (`slot`, `with_slot`, `for_each_slot`, `with_all_slots`) costs a
//! whole-slot copy only if the caller takes a `db_mut` or swaps databases.

use parking_lot::MutexGuard;
use smallvec::SmallVec;

use crate::command::{CommandFlags, CommandSpec, EngineFn};
use crate::keyspace::{Entry, Keyspace, SlotData};
use crate::reply::ReplyWriter;
use crate::slot::{key_slot, SlotId};
use crate::stats::ThreadStats;
use crate::value::ByteStr;

/// Slots held by a command or a transaction.
pub enum Locks<'k> {
    /// The common single-slot case, kept allocation-free. (A `SmallVec` would
    /// make `Locks` invariant in `'k`, which callers cannot live with.)
    One(MutexGuard<'k, SlotData>),
    /// Sorted by slot id, no duplicates.
    Some(Vec<MutexGuard<'k, SlotData>>),
    /// Every slot, in slot order (EXEC containing a global command).
    All(Vec<MutexGuard<'k, SlotData>>),
}

impl<'k> Locks<'k> {
    /// Locks the given slots in ascending order (deadlock-free).
    pub fn slots(ks: &'k Keyspace, mut slots: SmallVec<[SlotId; 8]>) -> Locks<'k> {
        slots.sort_unstable();
        slots.dedup();
        if let [only] = slots[..] {
            return Locks::One(ks.lock_slot(only));
        }
        Locks::Some(slots.into_iter().map(|s| ks.lock_slot(s)).collect())
    }

    pub fn all(ks: &'k Keyspace) -> Locks<'k> {
        Locks::All(ks.lock_all())
    }

    pub fn none() -> Locks<'k> {
        Locks::Some(Vec::new())
    }

    /// Locks what `args` of `spec` need.
    pub fn for_command<F>(ks: &'k Keyspace, spec: &CommandSpec<F>, args: &[&[u8]]) -> Locks<'k> {
        if spec.flags.contains(CommandFlags::GLOBAL) {
            return Locks::none();
        }
        // Most commands name exactly one key (GET, SET, LPUSH …).
        if spec.movable_keys.is_none() && spec.first_key > 0 && spec.first_key == spec.last_key {
            if let Some(key) = args.get(spec.first_key as usize) {
                return Locks::One(ks.lock_slot(key_slot(key)));
            }
        }
        let slots = spec
            .key_positions(args)
            .into_iter()
            .filter_map(|i| args.get(i))
            .map(|k| key_slot(k))
            .collect();
        Locks::slots(ks, slots)
    }

    pub fn holds_all(&self) -> bool {
        matches!(self, Locks::All(_))
    }

    /// The held slot of `key`. Locking follows the command's key
    /// specification, so a miss is a bug in the command table.
    fn slot_of_key(&mut self, key: &[u8]) -> &mut SlotData {
        match self {
            // A context holding one slot was built from keys that all hash
            // to it, so the key's CRC16 need not be computed again.
            Locks::One(g) => {
                debug_assert_eq!(
                    g.id(),
                    key_slot(key),
                    "command touched a key outside its declared key positions"
                );
                g
            }
            locks => locks
                .get_mut(key_slot(key))
                .expect("command touched a key outside its declared key positions"),
        }
    }

    fn get_mut(&mut self, slot: SlotId) -> Option<&mut SlotData> {
        match self {
            Locks::One(g) => (g.id() == slot).then_some(&mut **g),
            Locks::Some(guards) => guards.iter_mut().find(|g| g.id() == slot).map(|g| &mut **g),
            Locks::All(guards) => guards.get_mut(slot.index()).map(|g| &mut **g),
        }
    }
}

/// Propagated form of executed write commands, in Redis's AOF encoding
/// (RESP arrays of bulk strings). The AOF writer consumes it.
#[derive(Debug, Default)]
pub struct Propagation {
    /// RESP-encoded commands, in execution order.
    pub buf: Vec<u8>,
    /// Number of commands in `buf`.
    pub count: u32,
    /// Set when the running command chose its own propagated form, so the
    /// executor must not append its original arguments.
    pub custom: bool,
    /// Database the commands in `buf` apply to, per command.
    pub dbs: SmallVec<[usize; 4]>,
    /// Set when nothing consumes the propagated form (AOF off): `push`
    /// then records nothing, sparing every write its RESP encoding.
    pub disabled: bool,
}

impl Propagation {
    pub fn clear(&mut self) {
        self.buf.clear();
        self.count = 0;
        self.custom = false;
        self.dbs.clear();
    }

    pub fn push(&mut self, db: usize, args: &[&[u8]]) {
        if self.disabled {
            return;
        }
        // One reservation per command: `*N\r\n`, then `$len\r\n<arg>\r\n`
        // per argument (20 digits bound any length).
        let payload: usize = args.iter().map(|a| a.len() + 25).sum();
        self.buf.reserve(payload + 24);
        push_resp_header(&mut self.buf, b'*', args.len());
        for a in args {
            push_resp_header(&mut self.buf, b'$', a.len());
            self.buf.extend_from_slice(a);
            self.buf.extend_from_slice(b"\r\n");
        }
        self.count += 1;
        self.dbs.push(db);
    }
}

/// Appends `<kind><n>\r\n`; lengths under 100 (most arguments) skip itoa.
#[inline]
fn push_resp_header(buf: &mut Vec<u8>, kind: u8, n: usize) {
    if n < 10 {
        buf.extend_from_slice(&[kind, b'0' + n as u8, b'\r', b'\n']);
    } else if n < 100 {
        buf.extend_from_slice(&[
            kind,
            b'0' + (n / 10) as u8,
            b'0' + (n % 10) as u8,
            b'\r',
            b'\n',
        ]);
    } else {
        buf.push(kind);
        buf.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        buf.extend_from_slice(b"\r\n");
    }
}

/// Everything a data command may touch while it runs.
pub struct ExecCtx<'k> {
    pub ks: &'k Keyspace,
    /// Selected database.
    pub db: usize,
    /// Time frozen for the whole command (Redis uses one "now" per command).
    pub now_ms: u64,
    pub out: &'k mut ReplyWriter,
    pub stats: &'k ThreadStats,
    pub prop: &'k mut Propagation,
    /// Changes made by the current command (Redis's `server.dirty` delta).
    pub dirty: u64,
    /// True while running inside EXEC: blocking commands must not block.
    pub in_multi: bool,
    /// Set by a blocking command (BLPOP …) that found nothing to serve and
    /// wrote no reply: the server parks the client and re-runs the command
    /// when one of the keys is signalled ready or the timeout passes.
    pub block: Option<BlockRequest>,
    /// Set by the server when it re-runs a parked blocking command because a
    /// key was signalled ready. Keys that now hold another type count as
    /// empty instead of failing with WRONGTYPE, so the client stays blocked
    /// (Redis 7.0 only serves list waiters from lists, zset waiters from zsets).
    pub unblocked_rerun: bool,
    /// Keys that received elements and may serve blocked clients
    /// (Redis's `signalKeyAsReady`): (db, key).
    pub ready_keys: SmallVec<[(usize, ByteStr); 2]>,
    /// Databases SWAPDB exchanged: any key blocked clients wait on in them
    /// may now hold data (Redis rescans both for ready keys; only the
    /// server knows which keys clients wait on).
    pub swapped_dbs: Option<(usize, usize)>,
    locks: Locks<'k>,
}

/// A blocking command's request to wait.
#[derive(Debug, Clone, PartialEq)]
pub struct BlockRequest {
    /// Keys to wait on, in the order given.
    pub keys: SmallVec<[ByteStr; 2]>,
    /// Absolute deadline in Unix ms, or 0 to wait forever.
    pub deadline_ms: u64,
}

impl<'k> ExecCtx<'k> {
    pub fn new(
        ks: &'k Keyspace,
        db: usize,
        out: &'k mut ReplyWriter,
        stats: &'k ThreadStats,
        prop: &'k mut Propagation,
        locks: Locks<'k>,
    ) -> ExecCtx<'k> {
        ExecCtx::new_at(ks, db, out, stats, prop, locks, crate::clock::now_ms())
    }

    /// [`ExecCtx::new`] at a given "now": the AOF loader fixes its own, and
    /// a clock read per replayed command would be wasted.
    pub fn new_at(
        ks: &'k Keyspace,
        db: usize,
        out: &'k mut ReplyWriter,
        stats: &'k ThreadStats,
        prop: &'k mut Propagation,
        locks: Locks<'k>,
        now_ms: u64,
    ) -> ExecCtx<'k> {
        ExecCtx {
            ks,
            db,
            now_ms,
            out,
            stats,
            prop,
            dirty: 0,
            in_multi: false,
            block: None,
            unblocked_rerun: false,
            ready_keys: SmallVec::new(),
            swapped_dbs: None,
            locks,
        }
    }

    /// Runs one command with the locks this context holds, then records its
    /// propagated form and dirty count. "Now" is the context's creation
    /// time: every command of one EXEC sees the same clock, as in Redis 7.0
    /// (`fixed_time_expire`), and a lone command costs one clock read.
    pub fn run(&mut self, spec: &CommandSpec<EngineFn>, args: &[&[u8]]) {
        self.run_fn_at(spec.handler, args, self.now_ms);
    }

    /// [`ExecCtx::run`] for callers that keep the handler in their own table.
    pub fn run_fn(&mut self, handler: EngineFn, args: &[&[u8]]) {
        self.run_fn_at(handler, args, self.now_ms);
    }

    /// [`ExecCtx::run`] with an explicit "now" (tests, and replaying
    /// commands whose time is already fixed).
    pub fn run_at(&mut self, spec: &CommandSpec<EngineFn>, args: &[&[u8]], now_ms: u64) {
        self.run_fn_at(spec.handler, args, now_ms);
    }

    fn run_fn_at(&mut self, handler: EngineFn, args: &[&[u8]], now_ms: u64) {
        self.dirty = 0;
        self.prop.custom = false;
        self.now_ms = now_ms;
        handler(self, args);
        if self.dirty > 0 {
            ThreadStats::bump(&self.stats.dirty, self.dirty);
            if !self.prop.custom {
                self.prop.push(self.db, args);
            }
        }
    }

    pub fn holds_all_slots(&self) -> bool {
        self.locks.holds_all()
    }

    /// The locked slot holding `key`. Locking follows the command's key
    /// specification, so a miss is a bug in the command table.
    pub fn slot(&mut self, key: &[u8]) -> &mut SlotData {
        self.locks.slot_of_key(key)
    }

    /// Runs `f` on every slot: with the slots already locked when the whole
    /// keyspace is held (EXEC), else locking each in turn.
    pub fn for_each_slot(&mut self, mut f: impl FnMut(&mut SlotData)) {
        match &mut self.locks {
            Locks::All(guards) => guards.iter_mut().for_each(|g| f(g)),
            Locks::One(_) | Locks::Some(_) => self.ks.for_each_slot(f),
        }
    }

    /// Runs `f` on one slot: the held guard when the whole keyspace is held
    /// (EXEC), else locking it for the call (SCAN visits slots this way).
    pub fn with_slot<R>(&mut self, slot: SlotId, f: impl FnOnce(&mut SlotData) -> R) -> R {
        match &mut self.locks {
            Locks::All(guards) => f(&mut guards[slot.index()]),
            Locks::One(g) if g.id() == slot => f(g),
            Locks::One(_) => f(&mut self.ks.lock_slot(slot)),
            Locks::Some(guards) => match guards.iter_mut().find(|g| g.id() == slot) {
                Some(g) => f(g),
                None => f(&mut self.ks.lock_slot(slot)),
            },
        }
    }

    /// Runs `f` with every slot locked at once (FLUSHALL, SWAPDB).
    pub fn with_all_slots(&mut self, f: impl FnOnce(&mut [MutexGuard<'k, SlotData>])) {
        match &mut self.locks {
            Locks::All(guards) => f(guards),
            Locks::One(_) | Locks::Some(_) => f(&mut self.ks.lock_all()),
        }
    }

    /// Deletes `key` if its TTL has passed (lazy expiry), propagating a DEL
    /// and waking WATCHers as Redis does. Returns true if it was deleted.
    pub fn expire_if_needed(&mut self, key: &[u8]) -> bool {
        let now = self.now_ms;
        let db = self.db;
        let slot = self.slot(key);
        let Some(d) = slot.db(db) else {
            return false;
        };
        if d.volatile_len() == 0 {
            // No key here has a TTL: spare the command a second lookup.
            debug_assert!(
                d.get(key).is_none_or(|e| !e.has_expiry()),
                "the slot's volatile count missed a TTL"
            );
            return false;
        }
        let expired = d.get(key).is_some_and(|e| e.is_expired(now));
        if !expired {
            return false;
        }
        // A write like any other: a running snapshot copies the key first.
        slot.remove(db, key);
        slot.touch_watched(db, key);
        ThreadStats::bump(&self.stats.expired_keys, 1);
        self.prop.push(db, &[b"DEL", key]);
        true
    }

    /// Looks a key up for reading; counts a keyspace hit or miss.
    pub fn get(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        let db = self.db;
        let stats = self.stats;
        let found = self.slot(key).db(db).and_then(|d| d.get(key));
        let counter = if found.is_some() {
            &stats.keyspace_hits
        } else {
            &stats.keyspace_misses
        };
        ThreadStats::bump(counter, 1);
        found
    }

    /// Like [`ExecCtx::get`], also handing out the reply writer so the value
    /// can be written without copying it first.
    pub fn read(&mut self, key: &[u8]) -> (Option<&Entry>, &mut ReplyWriter) {
        self.expire_if_needed(key);
        let db = self.db;
        let slot = self.locks.slot_of_key(key);
        let found = slot.db(db).and_then(|d| d.get(key));
        let counter = if found.is_some() {
            &self.stats.keyspace_hits
        } else {
            &self.stats.keyspace_misses
        };
        ThreadStats::bump(counter, 1);
        (found, &mut *self.out)
    }

    /// Looks a key up without touching hit/miss statistics (EXISTS, TYPE …).
    pub fn peek(&mut self, key: &[u8]) -> Option<&Entry> {
        self.expire_if_needed(key);
        let db = self.db;
        self.slot(key).db(db).and_then(|d| d.get(key))
    }

    /// Looks a key up for modification. The caller must call
    /// [`ExecCtx::modified`] if it changes the value.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Entry> {
        self.expire_if_needed(key);
        let db = self.db;
        self.slot(key).get_mut(db, key)
    }

    /// Records that `key` was changed: wakes WATCHers and counts `n` changes.
    pub fn modified(&mut self, key: &[u8], n: u64) {
        let db = self.db;
        self.slot(key).touch_watched(db, key);
        self.dirty += n;
    }

    /// Stores `entry` under `key`, replacing any previous value (and its TTL).
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        // Like Redis's dbAdd: a new list or sorted set may serve blocked clients,
        // whichever command created it (push, *STORE, RENAME, RESTORE …).
        let wakes = matches!(
            entry.value,
            crate::value::Value::List(_) | crate::value::Value::ZSet(_)
        );
        if entry.has_expiry() {
            self.ks.note_volatile();
        }
        let db = self.db;
        let old = self.slot(key).insert(db, key, entry);
        self.modified(key, 1);
        if wakes {
            self.signal_ready(key);
        }
        old
    }

    /// Stores `entry` under `key` whatever was there, in one lookup where
    /// [`ExecCtx::peek`] + [`ExecCtx::insert`] take three (a plain SET,
    /// and every SET the AOF loader replays). An old value that had already
    /// expired is counted and propagated as `DEL` first, as Redis's
    /// lookupKeyWrite before the overwrite would have done.
    pub fn replace(&mut self, key: &[u8], entry: Entry) {
        let now = self.now_ms;
        let db = self.db;
        let old = self.insert(key, entry);
        if old.is_some_and(|e| e.is_expired(now)) {
            ThreadStats::bump(&self.stats.expired_keys, 1);
            self.prop.push(db, &[b"DEL", key]);
        }
    }

    /// Removes `key`; returns the removed entry if it existed (and had not expired).
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.expire_if_needed(key);
        let db = self.db;
        let old = self.slot(key).remove(db, key);
        if old.is_some() {
            self.modified(key, 1);
        }
        old
    }

    /// Sets the absolute expiry of an existing key (`NO_EXPIRY` clears it).
    pub fn set_expire(&mut self, key: &[u8], expire_at_ms: u64) -> bool {
        if expire_at_ms != crate::keyspace::NO_EXPIRY {
            self.ks.note_volatile();
        }
        let db = self.db;
        let done = self.slot(key).set_expire(db, key, expire_at_ms);
        if done {
            self.modified(key, 1);
        }
        done
    }

    /// Marks that this command propagates `args` instead of its own arguments
    /// (e.g. `SET k v PXAT <abs>` for `SET k v EX 10`).
    pub fn propagate(&mut self, args: &[&[u8]]) {
        self.prop.custom = true;
        self.prop.push(self.db, args);
    }

    /// Marks that this command propagates nothing even though it changed data.
    pub fn propagate_nothing(&mut self) {
        self.prop.custom = true;
    }

    /// Records that `key` (in the selected db) got elements a blocked client may want.
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.db;
        if !self
            .ready_keys
            .iter()
            .any(|(d, k)| *d == db && k.as_slice() == key)
        {
            self.ready_keys.push((db, ByteStr::from_slice(key)));
        }
    }

    /// Writes Redis's WRONGTYPE error.
    pub fn wrong_type(&mut self) {
        self.out.error(WRONGTYPE);
    }
}

pub const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";
pub const ERR_SYNTAX: &str = "ERR syntax error";
pub const ERR_NOT_INT: &str = "ERR value is not an integer or out of range";
pub const ERR_NOT_FLOAT: &str = "ERR value is not a valid float";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagation_encodes_resp_arrays_of_bulk_strings() {
        let mut p = Propagation::default();
        let long = vec![b'x'; 100];
        p.push(3, &[b"SET", b"", b"123456789A", &long]);
        let mut expected = b"*4\r\n$3\r\nSET\r\n$0\r\n\r\n$10\r\n123456789A\r\n$100\r\n".to_vec();
        expected.extend_from_slice(&long);
        expected.extend_from_slice(b"\r\n");
        assert_eq!(p.buf, expected);
        assert_eq!((p.count, p.dbs.as_slice()), (1, &[3][..]));
        let args: Vec<&[u8]> = vec![b"a"; 12];
        p.clear();
        p.push(0, &args);
        assert!(p.buf.starts_with(b"*12\r\n$1\r\na\r\n"));
        p.clear();
        p.disabled = true;
        p.push(0, &[b"DEL", b"k"]);
        assert_eq!((p.buf.len(), p.count), (0, 0));
    }
}

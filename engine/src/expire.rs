//! Active expiry: the background sweep that deletes expired keys nobody
//! reads. Without it, a key written with a TTL and never touched again
//! would hold memory forever (lazy expiry only fires on access).
//!
//! Redis samples random volatile keys per database, ten times a second,
//! within a 25 ms budget. ringkv's keyspace is cut into slots that each know
//! how many volatile keys they hold, so the sweep instead walks the slots
//! from a persistent cursor, skips slots with no volatile keys in O(1), and
//! clears the expired keys of each slot it visits under that slot's lock.
//! The time budget bounds the CPU a cycle takes; the cursor makes the next
//! cycle continue where this one stopped, so every slot is visited in turn.

use std::time::{Duration, Instant};

use crate::keyspace::Keyspace;
use crate::slot::{SlotId, SLOT_COUNT};
use crate::value::ByteStr;

/// How often Redis runs the cycle by default (`hz 10`).
pub const ACTIVE_EXPIRE_CYCLES_PER_SEC: u32 = 10;

/// Redis's slow-cycle budget: 25% of a cycle period at `hz 10`
/// (`ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC`), i.e. 25 ms.
pub const ACTIVE_EXPIRE_CYCLE_BUDGET: Duration = Duration::from_millis(25);

/// How many slots are visited between two reads of the clock.
const SLOTS_PER_TIME_CHECK: usize = 16;

/// Where the sweep continues next cycle.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ExpireCursor {
    next_slot: usize,
}

impl ExpireCursor {
    pub fn next_slot(&self) -> usize {
        self.next_slot
    }
}

/// What one cycle did.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct ExpireCycleStats {
    pub keys_expired: u64,
    /// Volatile keys examined (expired or not).
    pub volatile_keys_checked: u64,
    pub slots_visited: usize,
    /// True if the cycle stopped because the time budget ran out
    /// (Redis's `expired_time_cap_reached_count` counts these).
    pub time_cap_reached: bool,
}

impl ExpireCycleStats {
    /// Share of the examined volatile keys that had expired, in percent:
    /// Redis's estimate of how many stale keys are still in memory
    /// (`expired_stale_perc`).
    pub fn stale_percent(&self) -> f64 {
        if self.volatile_keys_checked == 0 {
            0.0
        } else {
            self.keys_expired as f64 * 100.0 / self.volatile_keys_checked as f64
        }
    }
}

/// Runs one active expiry cycle: deletes keys whose expiry is at or before
/// `now_ms`, walking slots from `cursor` until every slot was visited once
/// or `time_budget` is spent.
///
/// `on_expired(db, key)` is called for every deleted key **while its slot is
/// still locked**, so the caller can append the `DEL` to the AOF (and count
/// `expired_keys`) before any later write to that key can be logged. WATCHers
/// of each deleted key are marked dirty, as Redis does.
pub fn active_expire_cycle(
    ks: &Keyspace,
    now_ms: u64,
    time_budget: Duration,
    cursor: &mut ExpireCursor,
    mut on_expired: impl FnMut(usize, &[u8]),
) -> ExpireCycleStats {
    let started = Instant::now();
    let mut stats = ExpireCycleStats::default();
    let mut expired: Vec<ByteStr> = Vec::new();
    while stats.slots_visited < SLOT_COUNT {
        debug_assert!(cursor.next_slot < SLOT_COUNT);
        if cursor.next_slot == 0 && !ks.take_volatile_hint() {
            // A new pass, and no key got a TTL since the last pass began
            // (nor did that pass find one): nothing can expire.
            break;
        }
        let mut slot = ks.lock_slot(SlotId(cursor.next_slot as u16));
        for db in 0..ks.db_count() {
            let volatile = slot.db(db).map_or(0, |d| d.volatile_len());
            if volatile == 0 {
                continue;
            }
            // Keeps the next pass from being skipped while TTLs remain.
            ks.note_volatile();
            stats.volatile_keys_checked += volatile as u64;
            expired.clear();
            // Keyed: a running forkless snapshot copies just these keys.
            slot.remove_expired(db, now_ms, |k| expired.push(ByteStr::from_slice(k)));
            for key in &expired {
                slot.touch_watched(db, key);
                on_expired(db, key);
            }
            stats.keys_expired += expired.len() as u64;
        }
        drop(slot);
        cursor.next_slot = (cursor.next_slot + 1) % SLOT_COUNT;
        stats.slots_visited += 1;
        if stats.slots_visited % SLOTS_PER_TIME_CHECK == 0
            && stats.slots_visited < SLOT_COUNT
            && started.elapsed() >= time_budget
        {
            stats.time_cap_reached = true;
            break;
        }
    }
    stats
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::slot::key_slot;
    use crate::test_support::{touched, TestEnv, T0_MS};

    const LONG: Duration = Duration::from_secs(3600);

    #[test]
    fn deletes_only_expired_keys_and_reports_them() {
        let mut t = TestEnv::new();
        t.cmd("SET gone1 v PX 10");
        t.cmd("SET gone2 v PX 20");
        t.cmd("SET later v PX 1000");
        t.cmd("SET forever v");
        t.db = 2;
        t.cmd("SET gone3 v PX 5");
        let watcher = t.watch(2, "gone3");
        let bystander = t.watch(0, "later");
        let mut cursor = ExpireCursor::default();
        let mut seen = Vec::new();
        let stats = active_expire_cycle(&t.ks, T0_MS + 20, LONG, &mut cursor, |db, k| {
            seen.push((db, String::from_utf8_lossy(k).into_owned()))
        });
        seen.sort();
        assert_eq!(
            seen,
            vec![
                (0, "gone1".into()),
                (0, "gone2".into()),
                (2, "gone3".into())
            ]
        );
        assert_eq!(stats.keys_expired, 3);
        assert_eq!(stats.volatile_keys_checked, 4);
        assert_eq!(stats.stale_percent(), 75.0);
        assert_eq!(stats.slots_visited, SLOT_COUNT);
        assert!(!stats.time_cap_reached);
        assert!(touched(&watcher));
        assert!(!touched(&bystander));
        assert!(!t.stored(2, "gone3"));
        assert!(t.stored(0, "later") && t.stored(0, "forever"));
        assert_eq!(t.ks.db_sizes()[0], (2, 1), "volatile count kept in step");
    }

    #[test]
    fn time_budget_bounds_a_cycle_and_the_cursor_resumes() {
        let t = TestEnv::new();
        let mut cursor = ExpireCursor::default();
        let stats = active_expire_cycle(&t.ks, T0_MS, Duration::ZERO, &mut cursor, |_, _| {});
        assert!(stats.time_cap_reached);
        assert_eq!(stats.slots_visited, SLOTS_PER_TIME_CHECK);
        assert_eq!(cursor.next_slot(), SLOTS_PER_TIME_CHECK);
        active_expire_cycle(&t.ks, T0_MS, Duration::ZERO, &mut cursor, |_, _| {});
        assert_eq!(cursor.next_slot(), 2 * SLOTS_PER_TIME_CHECK);
    }

    #[test]
    fn passes_are_skipped_until_some_key_gets_a_ttl() {
        let mut t = TestEnv::new();
        t.cmd("SET plain v");
        let mut cursor = ExpireCursor::default();
        let first = active_expire_cycle(&t.ks, T0_MS, LONG, &mut cursor, |_, _| {});
        assert_eq!(
            first.slots_visited, SLOT_COUNT,
            "the first pass always runs"
        );
        let idle = active_expire_cycle(&t.ks, T0_MS, LONG, &mut cursor, |_, _| {});
        assert_eq!(idle.slots_visited, 0, "no TTL anywhere: pass skipped");
        t.cmd("SET soon v PX 5");
        let mut seen = 0;
        let next = active_expire_cycle(&t.ks, T0_MS + 5, LONG, &mut cursor, |_, _| seen += 1);
        assert_eq!((next.slots_visited, seen), (SLOT_COUNT, 1));
        t.cmd("SET later v PX 1000");
        t.cmd("PERSIST later");
        t.cmd("SET ttl v");
        t.cmd("EXPIRE ttl 100");
        let with_ttl = active_expire_cycle(&t.ks, T0_MS + 6, LONG, &mut cursor, |_, _| {});
        assert_eq!(with_ttl.slots_visited, SLOT_COUNT);
        let again = active_expire_cycle(&t.ks, T0_MS + 6, LONG, &mut cursor, |_, _| {});
        assert_eq!(
            (again.slots_visited, again.volatile_keys_checked),
            (SLOT_COUNT, 1),
            "a remaining TTL keeps the passes going"
        );
    }

    #[test]
    fn zero_budget_cycles_eventually_reach_every_slot() {
        let mut t = TestEnv::new();
        t.cmd("SET k v PX 1");
        let slot = key_slot(b"k").index();
        let mut cursor = ExpireCursor::default();
        let mut deleted = 0;
        for _ in 0..SLOT_COUNT / SLOTS_PER_TIME_CHECK {
            active_expire_cycle(&t.ks, T0_MS + 1, Duration::ZERO, &mut cursor, |_, _| {
                deleted += 1
            });
        }
        assert_eq!(deleted, 1, "slot {slot} reached");
        assert_eq!(cursor.next_slot(), 0, "a full lap brings the cursor back");
    }
}

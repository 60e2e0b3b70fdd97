//! Every kind of write, run as commands while a slowed forkless snapshot's
//! cursor is still far behind: the file must hold exactly the dataset at
//! the snapshot point (copied inside `at_point`, where nothing can change).
//! Keyed writes must copy single keys; only changes that name no key
//! (SWAPDB, FLUSHDB, FLUSHALL) may copy whole slots.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use ringkv_engine::exec::{ExecCtx, Locks, Propagation};
use ringkv_engine::expire::{active_expire_cycle, ExpireCursor};
use ringkv_engine::keyspace::Keyspace;
use ringkv_engine::reply::{Protocol, ReplyWriter};
use ringkv_engine::snapshot::{self, Progress, SnapshotHandle, SnapshotMode};
use ringkv_engine::stats::ThreadStats;

mod snapshot_common;
use snapshot_common::{dataset_of_file, target, Dataset};

const DBS: usize = 16;
/// Keys of each kind; with the cursor slowed to `KEY_SAVE_DELAY_US` a key,
/// it needs seconds, the writes a few milliseconds.
const PER_KIND: usize = 1000;
const KEY_SAVE_DELAY_US: u64 = 100;
const HOUR_MS: u64 = 3_600_000;

/// Runs commands on a shared keyspace the way the server does.
struct Client {
    ks: Arc<Keyspace>,
    stats: ThreadStats,
    prop: Propagation,
}

impl Client {
    fn new(ks: &Arc<Keyspace>) -> Client {
        Client {
            ks: ks.clone(),
            stats: ThreadStats::default(),
            prop: Propagation::default(),
        }
    }

    /// Runs `line` (space-separated) in `db` at `now_ms`; returns the reply.
    fn run_at(&mut self, db: usize, now_ms: u64, line: &str) -> String {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let name = line.split(' ').next().unwrap().to_lowercase();
        let spec = ringkv_engine::cmd::all()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("engine lacks {name}"));
        assert!(spec.arity_ok(args.len()), "arity: {line}");
        let mut out = ReplyWriter::new(Protocol::Resp2);
        self.prop.clear();
        let locks = Locks::for_command(&self.ks, spec, &args);
        let mut ctx = ExecCtx::new(&self.ks, db, &mut out, &self.stats, &mut self.prop, locks);
        ctx.run_at(spec, &args, now_ms);
        drop(ctx);
        let reply = String::from_utf8_lossy(out.bytes()).into_owned();
        assert!(!reply.starts_with('-'), "`{line}` in db {db}: {reply}");
        reply
    }

    fn run(&mut self, db: usize, line: &str) -> String {
        self.run_at(db, ringkv_engine::clock::now_ms(), line)
    }
}

/// Starts a slowed forkless snapshot; returns it and the dataset at its point.
fn start_snapshot(ks: &Arc<Keyspace>, dir: &std::path::Path) -> (SnapshotHandle, Dataset) {
    let mut expected = Dataset::new();
    let handle = snapshot::start(
        ks,
        SnapshotMode::Forkless,
        target(dir, KEY_SAVE_DELAY_US),
        |slots| {
            for s in slots {
                for (db, d) in s.dbs() {
                    for (k, e) in d.iter() {
                        expected.insert((db, k.to_vec()), e.clone());
                    }
                }
            }
        },
    )
    .unwrap();
    (handle, expected)
}

/// Waits for the snapshot and compares its file with the point's dataset.
fn assert_file_is_the_point(handle: SnapshotHandle, expected: &Dataset, dir: &std::path::Path) {
    let outcome = handle.wait().unwrap();
    assert_eq!(outcome.save.write.keys_written, expected.len() as u64);
    let got = dataset_of_file(&dir.join("dump.rdb"));
    let missing: Vec<_> = expected
        .keys()
        .filter(|k| !got.contains_key(*k))
        .take(5)
        .collect();
    let extra: Vec<_> = got
        .keys()
        .filter(|k| !expected.contains_key(*k))
        .take(5)
        .collect();
    let changed: Vec<_> = expected
        .iter()
        .filter(|(k, e)| got.get(*k).is_some_and(|g| g != *e))
        .map(|(k, _)| k)
        .take(5)
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty() && changed.is_empty(),
        "snapshot differs from the point: missing {missing:?}, extra {extra:?}, changed {changed:?}"
    );
}

fn populate(c: &mut Client, now: u64) {
    for i in 0..PER_KIND {
        let db = i % 4;
        c.run(db, &format!("SET s:{i} value-{i}"));
        c.run(db, &format!("RPUSH l:{i} a b c"));
        c.run(db, &format!("HSET h:{i} f1 v1 f2 v2"));
        c.run(db, &format!("ZADD z:{i} 1 a 2 b"));
        c.run(db, &format!("SADD set:{i} x y"));
        c.run(db, &format!("SET c:{i} 10"));
        c.run(db, &format!("SET t:{i} timed PX {HOUR_MS}"));
        c.run(db, &format!("SET lazy:{i} v PXAT {}", now + HOUR_MS));
        c.run(db, &format!("SET active:{i} v PXAT {}", now + HOUR_MS));
    }
}

#[test]
fn every_keyed_write_ahead_of_the_cursor_leaves_the_point_in_the_file() {
    let ks = Arc::new(Keyspace::new(DBS));
    let mut c = Client::new(&ks);
    let now = ringkv_engine::clock::now_ms();
    populate(&mut c, now);
    let dir = tempfile::tempdir().unwrap();
    let (handle, expected) = start_snapshot(&ks, dir.path());
    let p = handle.progress();
    let later = now + 2 * HOUR_MS;

    for i in 0..PER_KIND {
        let db = i % 4;
        match i % 6 {
            0 => c.run(db, &format!("SET s:{i} overwritten")),
            1 => c.run(db, &format!("DEL s:{i}")),
            2 => c.run(db, &format!("APPEND s:{i} -appended")),
            3 => c.run(db, &format!("RENAME s:{i} renamed:{i}")),
            4 => c.run(db, &format!("EXPIRE s:{i} 100000")),
            _ => c.run(db, &format!("RENAME s:{i} c:{i}")), // onto an existing key
        };
        c.run(db, &format!("SET new:{i} created-after-the-point"));
        c.run(db, &format!("LPUSH l:{i} pushed"));
        c.run(db, &format!("HSET h:{i} f3 v3"));
        c.run(db, &format!("ZADD z:{i} 3 c"));
        c.run(db, &format!("SADD set:{i} w"));
        c.run(db, &format!("COPY set:{i} copy:{i}"));
        c.run(db, &format!("PERSIST t:{i}"));
        if i % 6 != 5 {
            c.run(db, &format!("INCR c:{i}"));
            c.run(db, &format!("MOVE c:{i} 9"));
        }
        // Lazy expiry on a read is a delete.
        assert_eq!(c.run_at(db, later, &format!("GET lazy:{i}")), "$-1\r\n");
        // Writes again: nothing more to copy.
        c.run(db, &format!("SET new:{i} again"));
        c.run(db, &format!("LPUSH l:{i} again"));
    }
    let mut cursor = ExpireCursor::default();
    let expired = active_expire_cycle(
        &ks,
        later,
        std::time::Duration::from_secs(10),
        &mut cursor,
        |_, _| {},
    );
    assert_eq!(expired.keys_expired, PER_KIND as u64);

    let (keys_total, done) = (
        Progress::get(&p.keys_total),
        Progress::get(&p.keys_processed),
    );
    let early_keys = Progress::get(&p.early_keys);
    eprintln!(
        "cursor at {done}/{keys_total} keys after the writes, {early_keys} keys copied early"
    );
    assert!(
        done < keys_total / 2,
        "the cursor was too fast to test anything"
    );
    assert_eq!(
        Progress::get(&p.early_slots),
        0,
        "a keyed write copied a slot"
    );
    // At least the existing keys changed ahead of the cursor.
    assert!(early_keys > (PER_KIND * 9 / 2) as u64, "{early_keys}");
    assert!(Progress::get(&p.extra_bytes_peak) > 0);

    assert_file_is_the_point(handle, &expected, dir.path());
}

#[test]
fn swapdb_flushdb_and_flushall_during_a_snapshot_leave_the_point_in_the_file() {
    for what in ["SWAPDB 1 2", "FLUSHDB", "FLUSHALL"] {
        let ks = Arc::new(Keyspace::new(DBS));
        let mut c = Client::new(&ks);
        let now = ringkv_engine::clock::now_ms();
        populate(&mut c, now);
        let dir = tempfile::tempdir().unwrap();
        let (handle, expected) = start_snapshot(&ks, dir.path());
        let p = handle.progress();
        // Keyed writes first, so the slots copied whole later hold done keys.
        for i in (0..PER_KIND).step_by(3) {
            c.run(i % 4, &format!("SET s:{i} overwritten"));
            c.run(i % 4, &format!("SET new:{i} created"));
        }
        c.run(1, what);
        for i in (0..PER_KIND).step_by(2) {
            c.run(
                i % 4,
                &format!("SET s:{i} after-{}", what.replace(' ', "-")),
            );
            c.run(i % 4, &format!("SET post:{i} created"));
        }
        assert!(Progress::get(&p.early_slots) > 0, "{what}");
        assert!(Progress::get(&p.keys_processed) < Progress::get(&p.keys_total));
        while !handle.is_finished() {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        // Every copy appended, every slot's done keys dropped.
        assert_eq!(Progress::get(&p.extra_bytes), 0, "{what}");
        assert_file_is_the_point(handle, &expected, dir.path());
    }
}

//! The snapshot engine against a keyspace that writer threads keep changing:
//! the file must hold exactly the dataset at the snapshot point, in both
//! modes. The expected dataset is copied inside `at_point`, where every
//! slot is locked and nothing can change.
#![allow(clippy::unwrap_used)]

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringkv_engine::keyspace::{Entry, Keyspace};
use ringkv_engine::snapshot::{self, load_rdb, LoadOptions, Progress, SnapshotError, SnapshotMode};
use ringkv_engine::Value;

const DBS: usize = 4;

mod snapshot_common;
use snapshot_common::{dataset_of_file, target, Dataset};

fn put(ks: &Keyspace, db: usize, key: &[u8], value: Value) {
    ks.lock_key(key).insert(db, key, Entry::new(value));
}

fn populate(ks: &Keyspace, keys: usize) {
    for i in 0..keys {
        let key = format!("key:{i}");
        let value = if i % 3 == 0 {
            Value::string(i.to_string().as_bytes())
        } else {
            Value::string(format!("value-{i}-{}", "x".repeat(i % 50)).as_bytes())
        };
        put(ks, i % DBS, key.as_bytes(), value);
    }
}

fn dataset_of(ks: &Keyspace) -> Dataset {
    let mut out = Dataset::new();
    ks.for_each_slot(|s| {
        for (db, d) in s.dbs() {
            for (k, e) in d.iter() {
                out.insert((db, k.to_vec()), e.clone());
            }
        }
    });
    out
}

/// Writers overwrite, create, delete, change in place and set expiries of
/// keys in every database while a snapshot runs (and now and then change a
/// slot through its whole map, as loading or FLUSHDB would); returns what
/// the snapshot recorded at its point and the progress figures.
fn snapshot_under_writes(mode: SnapshotMode) -> (Dataset, Dataset, Arc<Progress>) {
    let ks = Arc::new(Keyspace::new(DBS));
    populate(&ks, 60_000);
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|t| {
            let ks = ks.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let i = (n * 7919 + t * 31) % 80_000;
                    let key = format!("key:{i}");
                    let db = (i as usize) % DBS;
                    let key = key.as_bytes();
                    if n.is_multiple_of(5) {
                        ks.lock_key(key).remove(db, key);
                    } else if n % 5 == 1 {
                        if let Some(e) = ks.lock_key(key).get_mut(db, key) {
                            e.value = Value::string(format!("in-place-{t}-{n}").as_bytes());
                        }
                    } else if n % 5 == 2 {
                        ks.lock_key(key).set_expire(db, key, 4_000_000_000_000 + n);
                    } else if n.is_multiple_of(997) {
                        // A change that names no key: the rest of the slot is copied.
                        ks.lock_key(key)
                            .db_mut(db)
                            .insert(key, Entry::new(Value::string(b"whole")));
                    } else {
                        put(&ks, db, key, Value::string(format!("w{t}-{n}").as_bytes()));
                    }
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let mut expected = Dataset::new();
    let handle = snapshot::start(&ks, mode, target(dir.path(), 0), |slots| {
        for s in slots {
            for (db, d) in s.dbs() {
                for (k, e) in d.iter() {
                    expected.insert((db, k.to_vec()), e.clone());
                }
            }
        }
    })
    .unwrap();
    assert!(matches!(
        snapshot::start(&ks, mode, target(dir.path(), 0), |_| {}),
        Err(SnapshotError::Busy)
    ));
    let keys_total = Progress::get(&handle.progress().keys_total);
    let fork_usec = Progress::get(&handle.progress().fork_usec);
    let early = Progress::get(&handle.progress().early_slots);
    let early_keys = Progress::get(&handle.progress().early_keys);
    let peak = Progress::get(&handle.progress().extra_bytes_peak);
    let outcome = {
        // Keep writing while the file is written, then stop.
        let outcome = handle.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        outcome
    };
    let writes: u64 = writers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(writes > 0);
    assert_eq!(keys_total, expected.len() as u64);
    assert_eq!(outcome.save.write.keys_written, expected.len() as u64);
    assert!(!ks.snapshot_running());
    let got = dataset_of_file(&dir.path().join("dump.rdb"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "dump.rdb")
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
    let p = Progress::default();
    p.early_slots.store(early, Ordering::Relaxed);
    p.early_keys.store(early_keys, Ordering::Relaxed);
    p.extra_bytes_peak.store(peak, Ordering::Relaxed);
    p.fork_usec.store(fork_usec, Ordering::Relaxed);
    (expected, got, Arc::new(p))
}

#[test]
fn forkless_snapshot_is_the_dataset_at_the_snapshot_point() {
    let (expected, got, progress) = snapshot_under_writes(SnapshotMode::Forkless);
    assert!(expected.len() > 30_000);
    assert!(
        expected == got,
        "snapshot differs from the dataset at its point"
    );
    eprintln!(
        "forkless: {} keys, {} keys and {} slots copied early, {} extra bytes at peak",
        expected.len(),
        Progress::get(&progress.early_keys),
        Progress::get(&progress.early_slots),
        Progress::get(&progress.extra_bytes_peak)
    );
}

/// A key a writer copies ahead of the cursor goes into the file at the
/// cursor's next step, not when the cursor reaches its slot: with random
/// writes most keys changed are ahead of it, and holding their copies would
/// keep them twice in memory. The slow cursor (`key_save_delay_us`) is still
/// near the start while every copy must be released within a few of its
/// steps. Only a key's first change copies it; a new key is not copied.
#[test]
fn forkless_appends_early_copies_at_the_cursors_next_step() {
    let ks = Arc::new(Keyspace::new(DBS));
    populate(&ks, 20_000);
    let dir = tempfile::tempdir().unwrap();
    let mut slow = target(dir.path(), 0);
    slow.key_save_delay_us = 100;
    let expected = dataset_of(&ks);
    let handle = snapshot::start(&ks, SnapshotMode::Forkless, slow, |_| {}).unwrap();
    let p = handle.progress();
    let mut released = 0;
    // Keys spread over the slots; most are ahead of the cursor.
    for i in (0..20_000).step_by(97).take(100) {
        let key = format!("key:{i}");
        let before = Progress::get(&p.early_keys);
        put(&ks, i % DBS, key.as_bytes(), Value::string(b"changed"));
        if Progress::get(&p.early_keys) == before {
            continue; // the cursor had been there already
        }
        put(&ks, i % DBS, key.as_bytes(), Value::string(b"again"));
        put(
            &ks,
            i % DBS,
            format!("new:{i}").as_bytes(),
            Value::string(b"new"),
        );
        assert_eq!(Progress::get(&p.early_keys), before + 1);
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while Progress::get(&p.pending_bytes) > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "an early copy still waits for the cursor after 2 s"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        released += 1;
    }
    assert!(
        Progress::get(&p.keys_processed) < 15_000,
        "the cursor should still be far from done"
    );
    assert!(released > 50, "only {released} keys were copied early");
    assert_eq!(Progress::get(&p.early_slots), 0);
    // What stays until the cursor passes: the names of the changed keys
    // (and the state of the slots it has not passed).
    assert!(Progress::get(&p.extra_bytes) > 0);
    let early = Progress::get(&p.early_keys);
    while !handle.is_finished() {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(Progress::get(&p.extra_bytes), 0);
    handle.wait().unwrap();
    assert!(early >= released);
    // The file is still the data set at the point.
    assert!(expected == dataset_of_file(&dir.path().join("dump.rdb")));
}

#[test]
fn fork_snapshot_is_the_dataset_at_the_snapshot_point() {
    let (expected, got, progress) = snapshot_under_writes(SnapshotMode::Fork);
    assert!(
        expected == got,
        "snapshot differs from the dataset at its point"
    );
    assert!(Progress::get(&progress.fork_usec) > 0);
}

#[test]
fn a_keyspace_survives_save_and_load_in_both_modes() {
    for mode in [SnapshotMode::Forkless, SnapshotMode::Fork] {
        let ks = Arc::new(Keyspace::new(DBS));
        populate(&ks, 3000);
        let mut e = Entry::new(Value::string(b"ttl"));
        e.expire_at_ms = 4_000_000_000_000;
        ks.lock_key(b"with-ttl").db_mut(2).insert(b"with-ttl", e);
        let dir = tempfile::tempdir().unwrap();
        let out = snapshot::start(&ks, mode, target(dir.path(), 0), |_| {})
            .unwrap()
            .wait()
            .unwrap();
        assert_eq!(out.save.write.keys_written, 3001);
        let data = std::fs::read(dir.path().join("dump.rdb")).unwrap();
        let loaded = Keyspace::new(DBS);
        let opts = load_options();
        let stats = load_rdb(&loaded, &data, opts, |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(stats.keys_loaded, 3001, "{mode:?}");
        assert!(dataset_of(&ks) == dataset_of(&loaded), "{mode:?}");
    }
}

/// What the server loads with by default (as of now, checksums on).
fn load_options() -> LoadOptions {
    LoadOptions {
        key_delay_us: 0,
        progress_interval_bytes: snapshot::PROGRESS_INTERVAL_BYTES,
        verify_checksum: true,
        drop_expired: true,
        now_ms: ringkv_engine::clock::now_ms(),
    }
}

#[test]
fn load_drops_expired_keys_and_rejects_databases_out_of_range() {
    let ks = Arc::new(Keyspace::new(DBS));
    let mut e = Entry::new(Value::string(b"old"));
    e.expire_at_ms = 1000;
    ks.lock_key(b"gone").db_mut(0).insert(b"gone", e);
    put(&ks, 3, b"kept", Value::string(b"v"));
    let dir = tempfile::tempdir().unwrap();
    snapshot::save_blocking(&ks, target(dir.path(), 0)).unwrap();
    let data = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    let opts = load_options();
    let loaded = Keyspace::new(DBS);
    let stats = load_rdb(&loaded, &data, opts, |_| ControlFlow::Continue(())).unwrap();
    assert_eq!((stats.keys_loaded, stats.keys_expired), (1, 1));
    let too_few = Keyspace::new(2);
    let err = load_rdb(&too_few, &data, opts, |_| ControlFlow::Continue(())).unwrap_err();
    assert!(err.to_string().contains("more than 2 databases"), "{err}");
    let mut corrupt = data.clone();
    let n = corrupt.len();
    corrupt[n - 3] ^= 0xff;
    assert!(load_rdb(&Keyspace::new(DBS), &corrupt, opts, |_| {
        ControlFlow::Continue(())
    })
    .is_err());
}

#[test]
fn load_reports_progress_every_1024_keys_and_stops_when_asked() {
    let ks = Arc::new(Keyspace::new(DBS));
    for i in 0..5_000 {
        put(&ks, 0, format!("k{i}").as_bytes(), Value::string(b"v"));
    }
    let dir = tempfile::tempdir().unwrap();
    snapshot::save_blocking(&ks, target(dir.path(), 0)).unwrap();
    let data = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    let opts = load_options();
    // A small file: only the key count triggers reports before the end.
    let mut offsets = Vec::new();
    load_rdb(&Keyspace::new(DBS), &data, opts, |at| {
        offsets.push(at);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(offsets.len(), 5_000 / 1024 + 1, "{offsets:?}");
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
    assert_eq!(*offsets.last().unwrap(), data.len() as u64);
    // Breaking stops the load there, with the keys read so far loaded.
    let partial = Keyspace::new(DBS);
    let mut calls = 0;
    let err = load_rdb(&partial, &data, opts, |_| {
        calls += 1;
        if calls == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap_err();
    assert!(
        matches!(err, snapshot::LoadError::Interrupted { .. }),
        "{err}"
    );
    assert_eq!(partial.db_len(0), 2048);
}

#[test]
fn a_failed_snapshot_reports_the_error_and_releases_the_keyspace() {
    let ks = Arc::new(Keyspace::new(1));
    populate(&ks, 10);
    let dir = tempfile::tempdir().unwrap();
    for mode in [SnapshotMode::Forkless, SnapshotMode::Fork] {
        let mut t = target(&dir.path().join("missing-dir"), 0);
        t.filename = "x.rdb".into();
        let r = snapshot::start(&ks, mode, t, |_| {}).unwrap().wait();
        assert!(r.is_err(), "{mode:?}");
        assert!(!ks.snapshot_running());
    }
    // Neither a failed nor an aborted forkless snapshot leaves anything in
    // the slots: the next one starts clean.
    let mut slow = target(dir.path(), 0);
    slow.key_save_delay_us = 200_000;
    let handle = snapshot::start(&ks, SnapshotMode::Forkless, slow, |_| {}).unwrap();
    // The key the cursor reaches last.
    let last = (0..10)
        .max_by_key(|i| ringkv_engine::slot::key_slot(format!("key:{i}").as_bytes()))
        .unwrap();
    let key = format!("key:{last}");
    put(&ks, last % DBS, key.as_bytes(), Value::string(b"during"));
    assert_eq!(Progress::get(&handle.progress().early_keys), 1);
    handle.abort();
    assert!(!ks.snapshot_running());
    let expected = dataset_of(&ks);
    snapshot::save_blocking(&ks, target(dir.path(), 0)).unwrap();
    assert!(expected == dataset_of_file(&dir.path().join("dump.rdb")));
}

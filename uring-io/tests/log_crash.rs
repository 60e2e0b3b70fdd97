//! Crash and fault tests of the group-commit log on the simulated disk:
//! whatever the log ever reported durable must be in the durable image, in
//! order, whatever instant the power goes and whichever write or sync fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringkv_uring_io::{GroupCommitLog, LogConfig, LogError, Lsn, SimDisk, SyncPolicy};

const WAIT: Duration = Duration::from_secs(10);

fn config(sync: SyncPolicy) -> LogConfig {
    LogConfig {
        sync,
        segment_prealloc_bytes: 4096,
        sync_interval: Duration::from_millis(20),
        // Used only where the disk offers overlapped syncs.
        sync_overlap_max: 4,
        ..LogConfig::default()
    }
}

fn record(thread: usize, i: usize) -> Vec<u8> {
    format!("t{thread} r{i} {}\n", "v".repeat(i % 13)).into_bytes()
}

/// All records in LSN order, from (end LSN, bytes) pairs.
fn concatenate(mut records: Vec<(Lsn, Vec<u8>)>) -> Vec<u8> {
    records.sort_by_key(|(lsn, _)| *lsn);
    let mut all = Vec::new();
    for (lsn, rec) in records {
        all.extend_from_slice(&rec);
        assert_eq!(lsn.0, all.len() as u64);
    }
    all
}

/// The durable image must hold exactly the log's bytes up to `durable`,
/// followed only by more log bytes or preallocated zeros.
fn assert_image_covers(image: &[u8], all: &[u8], durable: Lsn) {
    let durable = durable.0 as usize;
    assert!(image.len() >= durable, "image shorter than durable LSN");
    assert!(image[..durable] == all[..durable], "durable prefix differs");
    let rest = &image[durable..];
    let log_rest = &all[durable..];
    let common = rest
        .iter()
        .zip(log_rest)
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        rest[common..].iter().all(|&b| b == 0),
        "garbage after the log in the durable image"
    );
}

/// Power-loss snapshots taken while four threads append and wait for
/// durability: each snapshot contains everything reported durable before it.
/// Returns the most group syncs that were in flight at once.
fn snapshots_hold_everything_reported_durable(sync: SyncPolicy, disk: SimDisk) -> u64 {
    let path = PathBuf::from("/sim/appendonly.aof.1.incr.aof");
    let log = Arc::new(
        GroupCommitLog::open_on(Box::new(disk.clone()), config(sync), &path, Lsn(0)).unwrap(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let snapshots = Arc::new(Mutex::new(Vec::new()));
    let snapshotter = {
        let (log, disk, done, snapshots, path) = (
            log.clone(),
            disk.clone(),
            done.clone(),
            snapshots.clone(),
            path.clone(),
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                // Durable LSN first: the image may only be newer.
                let durable = log.durable_lsn();
                let image = disk.durable(&path).unwrap();
                snapshots.lock().unwrap().push((durable, image));
                std::thread::yield_now();
            }
        })
    };
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut appended = Vec::new();
                for i in 0..400 {
                    let rec = record(t, i);
                    let lsn = log.append(&rec).unwrap();
                    appended.push((lsn, rec));
                    if i % 50 == 0 {
                        if sync == SyncPolicy::No {
                            log.sync().unwrap();
                        }
                        assert!(log.wait_durable(lsn, WAIT).unwrap());
                        // Give the snapshotter a chance to see this state.
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                appended
            })
        })
        .collect();
    let mut records = Vec::new();
    for w in writers {
        records.extend(w.join().unwrap());
    }
    done.store(true, Ordering::SeqCst);
    snapshotter.join().unwrap();
    let all = concatenate(records);
    let overlapped = log.stats().syncs_in_flight_max;
    let end = log.close().unwrap();
    assert_eq!(end.0, all.len() as u64);
    let snapshots = snapshots.lock().unwrap();
    assert!(snapshots.len() > 3, "too few snapshots to mean anything");
    for (durable, image) in snapshots.iter() {
        assert_image_covers(image, &all, *durable);
    }
    // Clean close: exactly the log, no padding.
    assert!(disk.durable(&path).unwrap() == all);
    overlapped
}

#[test]
fn snapshots_hold_everything_reported_durable_always() {
    let overlapped = snapshots_hold_everything_reported_durable(SyncPolicy::Always, SimDisk::new());
    assert_eq!(
        overlapped, 0,
        "a disk without overlap runs one sync at a time"
    );
}

#[test]
fn snapshots_hold_everything_reported_durable_always_overlapped_syncs() {
    let overlapped = snapshots_hold_everything_reported_durable(
        SyncPolicy::Always,
        SimDisk::with_sync_overlap(4).unwrap(),
    );
    assert!(overlapped <= 4, "{overlapped}");
}

/// Appenders that never wait for durability keep the writer busy, so it starts groups'
/// syncs before earlier ones finish; the durable image still holds the log.
#[test]
fn busy_writer_overlaps_syncs() {
    let disk = SimDisk::with_sync_overlap(4).unwrap();
    let path = PathBuf::from("/sim/a.aof");
    let log = Arc::new(
        GroupCommitLog::open_on(
            Box::new(disk.clone()),
            config(SyncPolicy::Always),
            &path,
            Lsn(0),
        )
        .unwrap(),
    );
    let writers: Vec<_> = (0..2)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                // A steady trickle: all at once would be a single group.
                (0..2_000)
                    .map(|i| {
                        let rec = record(t, i);
                        let lsn = log.append(&rec).unwrap();
                        std::thread::sleep(Duration::from_micros(20));
                        (lsn, rec)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut records = Vec::new();
    for w in writers {
        records.extend(w.join().unwrap());
    }
    let all = concatenate(records);
    let end = Lsn(all.len() as u64);
    assert!(log.wait_durable(end, WAIT).unwrap());
    assert_image_covers(&disk.durable(&path).unwrap(), &all, end);
    let overlapped = log.stats().syncs_in_flight_max;
    assert!((2..=4).contains(&overlapped), "{overlapped}");
}

#[test]
fn snapshots_hold_everything_reported_durable_everysec() {
    snapshots_hold_everything_reported_durable(SyncPolicy::EverySec, SimDisk::new());
}

#[test]
fn snapshots_hold_everything_reported_durable_no() {
    snapshots_hold_everything_reported_durable(SyncPolicy::No, SimDisk::new());
}

/// Runs appends until the injected fault fails the log; checks that the log
/// stays failed and never reported anything durable that is not on disk.
fn fault_after(ops: u64, rotate_at: Option<usize>, disk: SimDisk) {
    let first = Path::new("/sim/1.aof");
    let second = Path::new("/sim/2.aof");
    let mut log_cfg = config(SyncPolicy::Always);
    log_cfg.segment_prealloc_bytes = 256;
    let log = GroupCommitLog::open_on(Box::new(disk.clone()), log_cfg, first, Lsn(0));
    disk.fail_after(ops);
    let log = match log {
        Ok(log) => log,
        Err(LogError::Open(_)) => return, // the fault hit the first fill
        Err(e) => panic!("{e}"),
    };
    let mut appended = Vec::new();
    let mut acked = Lsn(0);
    let mut switch = None;
    let mut failed = false;
    for i in 0..200 {
        if Some(i) == rotate_at {
            match log.rotate(second.to_path_buf()) {
                Ok(lsn) => switch = Some(lsn),
                Err(LogError::Failed(_)) => {
                    failed = true;
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        let rec = record(0, i);
        match log.append(&rec) {
            Ok(lsn) => {
                appended.push((lsn, rec));
                match log.wait_durable(lsn, WAIT) {
                    Ok(true) => acked = lsn,
                    Ok(false) => panic!("durability timed out"),
                    Err(LogError::Failed(_)) => {
                        failed = true;
                        break;
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            Err(LogError::Failed(_)) => {
                failed = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(
        failed,
        "{ops} ops allowed should not carry 200 synced groups"
    );
    // Sticky: nothing works any more, durable LSN frozen.
    let durable = log.durable_lsn();
    assert!(durable >= acked);
    assert!(matches!(log.append(b"x"), Err(LogError::Failed(_))));
    assert!(matches!(log.sync(), Err(LogError::Failed(_))));
    assert!(log.close().is_err());
    assert_eq!(log.durable_lsn(), durable);
    disk.crash();
    let all = concatenate(appended);
    // The durable bytes, across the segments, hold everything acknowledged.
    let mut image = disk.durable(first).unwrap();
    if let Some(switch) = switch.filter(|s| *s <= durable) {
        let old = disk.durable(first).unwrap();
        assert!(old.len() as u64 >= switch.0);
        image.truncate(switch.0 as usize);
        image.extend(disk.durable(second).unwrap_or_default());
    }
    assert_image_covers(&image, &all, durable);
}

#[test]
fn every_fault_point_keeps_acknowledged_records() {
    for ops in 0..40 {
        fault_after(ops, None, SimDisk::new());
        fault_after(ops, None, SimDisk::with_sync_overlap(4).unwrap());
    }
}

#[test]
fn every_fault_point_around_a_rotation_keeps_acknowledged_records() {
    for ops in 0..40 {
        fault_after(ops, Some(5), SimDisk::new());
        fault_after(ops, Some(5), SimDisk::with_sync_overlap(4).unwrap());
    }
}

/// After a crash the log reopens on the durable image (cut back to the
/// durable LSN, as recovery would) and continues.
#[test]
fn reopen_after_crash_continues_at_durable_end() {
    let disk = SimDisk::new();
    let path = Path::new("/sim/a.aof");
    let log = GroupCommitLog::open_on(Box::new(disk.clone()), config(SyncPolicy::No), path, Lsn(0))
        .unwrap();
    let synced = log.append(b"synced\n").unwrap();
    let target = log.sync().unwrap();
    assert!(log.wait_durable(target, WAIT).unwrap());
    log.append(b"never synced\n").unwrap();
    // Power loss: from now on nothing reaches the disk, not even the
    // writer's close.
    disk.fail_after(0);
    drop(log);
    disk.crash();
    let image = disk.durable(path).unwrap();
    assert_eq!(&image[..synced.0 as usize], b"synced\n");
    // Recovery cuts the zero padding, then the log continues.
    disk.insert(path, &image[..synced.0 as usize]);
    let log = GroupCommitLog::open_on(
        Box::new(disk.clone()),
        config(SyncPolicy::Always),
        path,
        synced,
    )
    .unwrap();
    let lsn = log.append(b"after\n").unwrap();
    assert!(log.wait_durable(lsn, WAIT).unwrap());
    log.close().unwrap();
    assert_eq!(disk.durable(path).unwrap(), b"synced\nafter\n");
}

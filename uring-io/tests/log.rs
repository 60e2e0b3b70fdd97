//! The group-commit log against real files in a temp dir, for both the
//! io_uring writer and the pwrite fallback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::fd::{AsFd, AsRawFd};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringkv_uring_io::{
    BackendKind, GroupCommitLog, LogConfig, LogError, Lsn, SyncMethod, SyncPolicy, Waker,
};

const WAIT: Duration = Duration::from_secs(10);

fn config(backend: BackendKind, sync: SyncPolicy) -> LogConfig {
    LogConfig {
        backend,
        sync,
        sync_method: SyncMethod::Fdatasync,
        segment_prealloc_bytes: 256 * 1024,
        sync_interval: Duration::from_millis(200),
        // Overlapped syncs where the disk offers them (the io_uring sink).
        sync_overlap_max: 4,
        group_trailer: None,
    }
}

fn record(thread: usize, i: usize) -> Vec<u8> {
    // Variable lengths so that LSN arithmetic is exercised.
    let pad = "x".repeat((thread * 7 + i) % 23);
    format!("t{thread}-r{i}-{pad}\n").into_bytes()
}

fn concurrent_appends_land_in_lsn_order(cfg: LogConfig) {
    const THREADS: usize = 4;
    const RECORDS: usize = 1500;
    let sync = cfg.sync;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("appendonly.aof.1.incr.aof");
    let log = Arc::new(GroupCommitLog::open(cfg, &path, Lsn(0)).unwrap());
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut appended = Vec::with_capacity(RECORDS);
                for i in 0..RECORDS {
                    let rec = record(t, i);
                    let lsn = log.append(&rec).unwrap();
                    appended.push((lsn, rec));
                    if sync == SyncPolicy::Always && i % 100 == 0 {
                        // Like a client waiting for its reply.
                        assert!(log.wait_durable(lsn, WAIT).unwrap());
                    }
                }
                appended
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        let appended = w.join().unwrap();
        assert!(
            appended.windows(2).all(|p| p[0].0 < p[1].0),
            "LSNs from one thread must increase"
        );
        all.extend(appended);
    }
    all.sort_by_key(|(lsn, _)| *lsn);
    let mut expected = Vec::new();
    for (lsn, rec) in &all {
        expected.extend_from_slice(rec);
        assert_eq!(lsn.0, expected.len() as u64, "LSN = end offset of record");
    }
    let end = Lsn(expected.len() as u64);
    assert_eq!(log.appended_lsn(), end);
    if sync == SyncPolicy::No {
        let target = log.sync().unwrap();
        assert_eq!(target, end);
    }
    assert!(
        log.wait_durable(end, WAIT).unwrap(),
        "durable LSN must reach the end"
    );
    assert_eq!(log.written_lsn(), end);
    let stats = log.stats();
    assert_eq!(stats.records_total, (THREADS * RECORDS) as u64);
    assert_eq!(stats.bytes_total, end.0);
    if sync == SyncPolicy::Always {
        assert!(
            stats.group_records_max > 1,
            "no group commit happened: {stats:?}"
        );
        assert!(stats.groups_total < stats.records_total, "{stats:?}");
    }
    assert_eq!(log.close().unwrap(), end);
    assert!(
        std::fs::read(&path).unwrap() == expected,
        "file != records in LSN order"
    );
}

fn durable_progress_wakes_registered_waker(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let log = GroupCommitLog::open(
        config(backend, SyncPolicy::Always),
        &dir.path().join("a.aof"),
        Lsn(100),
    )
    .unwrap();
    let waker = Waker::new().unwrap();
    log.register_waker(waker.clone());
    let lsn = log.append(b"SET k v\n").unwrap();
    assert_eq!(lsn, Lsn(108));
    // Poll the eventfd like an event loop would, without blocking on the log.
    let deadline = Instant::now() + WAIT;
    let mut counter = 0u64;
    while counter == 0 {
        assert!(Instant::now() < deadline, "waker never fired");
        // SAFETY: reads 8 bytes into a live u64 from the waker's eventfd.
        let n = unsafe {
            libc::read(
                waker.as_fd().as_raw_fd(),
                (&mut counter as *mut u64).cast(),
                8,
            )
        };
        if n != 8 {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    assert!(log.durable_lsn() >= lsn || log.wait_durable(lsn, WAIT).unwrap());
    log.close().unwrap();
}

fn everysec_syncs_without_being_asked(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let log = GroupCommitLog::open(
        config(backend, SyncPolicy::EverySec),
        &dir.path().join("a.aof"),
        Lsn(0),
    )
    .unwrap();
    let mut last = Lsn(0);
    for i in 0..50 {
        last = log.append(format!("rec {i}\n").as_bytes()).unwrap();
        std::thread::sleep(Duration::from_millis(4));
    }
    assert!(log.wait_durable(last, WAIT).unwrap());
    let fsyncs = log.stats().fsyncs_total;
    assert!(fsyncs >= 1);
    // ~200 ms of appends at a 200 ms interval: a handful of fsyncs, not 50.
    assert!(fsyncs < 10, "everysec synced per group: {fsyncs}");
    log.close().unwrap();
}

fn no_policy_is_durable_only_on_request(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let log = GroupCommitLog::open(
        config(backend, SyncPolicy::No),
        &dir.path().join("a.aof"),
        Lsn(0),
    )
    .unwrap();
    let lsn = log.append(b"hello\n").unwrap();
    let deadline = Instant::now() + WAIT;
    while log.written_lsn() < lsn {
        assert!(Instant::now() < deadline);
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(!log.wait_durable(lsn, Duration::from_millis(300)).unwrap());
    assert_eq!(log.durable_lsn(), Lsn(0));
    let target = log.sync().unwrap();
    assert!(log.wait_durable(target, WAIT).unwrap());
    log.close().unwrap();
}

fn rotation_switches_files_at_the_returned_lsn(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("appendonly.aof.1.incr.aof");
    let second = dir.path().join("appendonly.aof.2.incr.aof");
    let log = GroupCommitLog::open(config(backend, SyncPolicy::EverySec), &first, Lsn(0)).unwrap();
    log.append(b"*1\r\n$4\r\nPING\r\n").unwrap();
    log.append(b"one\n").unwrap();
    let switch = log.rotate(second.clone()).unwrap();
    log.append(b"two\n").unwrap();
    let end = log.append(b"three\n").unwrap();
    assert!(log.wait_durable(switch, WAIT).unwrap());
    // The finished segment is complete and trimmed once durable.
    assert_eq!(std::fs::read(&first).unwrap(), b"*1\r\n$4\r\nPING\r\none\n");
    assert_eq!(switch, Lsn(18));
    assert_eq!(log.close().unwrap(), end);
    assert_eq!(std::fs::read(&second).unwrap(), b"two\nthree\n");
}

fn preallocated_while_open_trimmed_on_close(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.aof");
    let log = GroupCommitLog::open(config(backend, SyncPolicy::Always), &path, Lsn(0)).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 256 * 1024);
    // Cross the preallocated end: the segment grows by whole steps.
    let big = vec![b'z'; 300 * 1024];
    let lsn = log.append(&big).unwrap();
    assert!(log.wait_durable(lsn, WAIT).unwrap());
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 512 * 1024);
    log.close().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), big);
    // Reopening continues at the end, numbering from the caller's LSN.
    let log = GroupCommitLog::open(config(backend, SyncPolicy::Always), &path, lsn).unwrap();
    let next = log.append(b"more").unwrap();
    assert_eq!(next, Lsn(lsn.0 + 4));
    log.close().unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 300 * 1024 + 4);
}

/// `/dev/full` fails every write with ENOSPC: the log must fail for good,
/// refuse appends and never report the record durable.
fn write_failure_is_sticky(backend: BackendKind) {
    let path = Path::new("/dev/full");
    let mut cfg = config(backend, SyncPolicy::Always);
    cfg.segment_prealloc_bytes = 0;
    let log = GroupCommitLog::open(cfg, path, Lsn(0)).unwrap();
    let lsn = log.append(b"lost\n").unwrap();
    let err = log.wait_durable(lsn, WAIT).unwrap_err();
    assert!(matches!(err, LogError::Failed(_)), "{err}");
    assert_eq!(log.durable_lsn(), Lsn(0));
    assert!(matches!(log.append(b"x"), Err(LogError::Failed(_))));
    assert!(matches!(log.sync(), Err(LogError::Failed(_))));
    assert!(log.failure().is_some());
    assert!(log.close().is_err());
}

/// Each group is followed by its trailer; parsing the file back yields the
/// records in order, and every trailer describes exactly its group.
fn group_trailers_follow_each_group(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("1.aof");
    let second = dir.path().join("2.aof");
    let mut cfg = config(backend, SyncPolicy::Always);
    cfg.group_trailer = Some(Arc::new(|group: &[u8], out: &mut Vec<u8>| {
        let sum: u32 = group.iter().map(|&b| u32::from(b)).sum();
        out.extend_from_slice(format!("#len={} sum={sum}\n", group.len()).as_bytes());
    }));
    let log = Arc::new(GroupCommitLog::open(cfg, &first, Lsn(0)).unwrap());
    let workers: Vec<_> = (0..3)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                for i in 0..300 {
                    log.append(&record(t, i)).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let switch = log.rotate(second.clone()).unwrap();
    let end = log.append(b"after\n").unwrap();
    assert_eq!(end.0, switch.0 + 6, "trailers take no LSNs");
    assert_eq!(log.close().unwrap(), end);

    let mut records_len = 0;
    for path in [&first, &second] {
        let content = String::from_utf8(std::fs::read(path).unwrap()).unwrap();
        let mut group = String::new();
        for line in content.split_inclusive('\n') {
            if let Some(trailer) = line.strip_prefix('#') {
                let sum: u32 = group.bytes().map(u32::from).sum();
                assert_eq!(trailer, format!("len={} sum={sum}\n", group.len()));
                records_len += group.len();
                group.clear();
            } else {
                group.push_str(line);
            }
        }
        assert!(group.is_empty(), "records after the last trailer");
    }
    assert_eq!(records_len as u64, end.0);
}

macro_rules! for_both_backends {
    ($($name:ident),* $(,)?) => {
        mod pwrite {
            $(#[test] fn $name() { super::$name(ringkv_uring_io::BackendKind::Epoll) })*
        }
        mod uring {
            $(#[test] fn $name() { super::$name(ringkv_uring_io::BackendKind::Uring) })*
        }
    };
}

fn concurrent_always(backend: BackendKind) {
    concurrent_appends_land_in_lsn_order(config(backend, SyncPolicy::Always));
}

fn concurrent_always_one_sync_at_a_time(backend: BackendKind) {
    let mut cfg = config(backend, SyncPolicy::Always);
    cfg.sync_overlap_max = 1;
    concurrent_appends_land_in_lsn_order(cfg);
}

fn concurrent_everysec(backend: BackendKind) {
    concurrent_appends_land_in_lsn_order(config(backend, SyncPolicy::EverySec));
}

fn concurrent_always_dsync_writes(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.aof");
    let mut cfg = config(backend, SyncPolicy::Always);
    cfg.sync_method = SyncMethod::DsyncWrite;
    let log = Arc::new(GroupCommitLog::open(cfg, &path, Lsn(0)).unwrap());
    let workers: Vec<_> = (0..3)
        .map(|t| {
            let log = log.clone();
            std::thread::spawn(move || {
                let mut last = Lsn(0);
                for i in 0..200 {
                    last = log.append(&record(t, i)).unwrap();
                }
                assert!(log.wait_durable(last, WAIT).unwrap());
                last
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let end = log.appended_lsn();
    assert_eq!(log.durable_lsn(), end);
    assert_eq!(log.close().unwrap(), end);
    assert_eq!(std::fs::metadata(&path).unwrap().len(), end.0);
}

fn concurrent_always_direct_writes(backend: BackendKind) {
    let mut cfg = config(backend, SyncPolicy::Always);
    cfg.sync_method = SyncMethod::DirectDsyncWrite;
    concurrent_appends_land_in_lsn_order(cfg);
}

/// Direct writes rewrite the log's partial last block with each group:
/// groups of every size around the block boundary, a rotation and a
/// reopen leave exactly the appended bytes.
fn direct_writes_keep_the_byte_stream(backend: BackendKind) {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("1.aof");
    let second = dir.path().join("2.aof");
    let mut cfg = config(backend, SyncPolicy::Always);
    cfg.sync_method = SyncMethod::DirectDsyncWrite;
    cfg.segment_prealloc_bytes = 16 * 1024;
    let mut expected = Vec::new();
    {
        let log = GroupCommitLog::open(cfg.clone(), &first, Lsn(0)).unwrap();
        for (i, len) in [1usize, 4095, 1, 4096, 5000, 3, 8191, 20_000, 7]
            .iter()
            .enumerate()
        {
            let rec = vec![b'a' + (i % 26) as u8; *len];
            let lsn = log.append(&rec).unwrap();
            expected.extend_from_slice(&rec);
            assert!(log.wait_durable(lsn, WAIT).unwrap());
        }
        log.close().unwrap();
    }
    assert!(std::fs::read(&first).unwrap() == expected);
    // Reopened at an unaligned end: the partial block is read back.
    let log = GroupCommitLog::open(cfg, &first, Lsn(expected.len() as u64)).unwrap();
    let lsn = log.append(b"more").unwrap();
    expected.extend_from_slice(b"more");
    assert!(log.wait_durable(lsn, WAIT).unwrap());
    let switch = log.rotate(second.clone()).unwrap();
    let lsn = log.append(b"next file").unwrap();
    assert!(log.wait_durable(lsn, WAIT).unwrap());
    log.close().unwrap();
    assert_eq!(switch.0, expected.len() as u64);
    assert!(std::fs::read(&first).unwrap() == expected);
    assert_eq!(std::fs::read(&second).unwrap(), b"next file");
}

fn concurrent_no(backend: BackendKind) {
    concurrent_appends_land_in_lsn_order(config(backend, SyncPolicy::No));
}

for_both_backends!(
    concurrent_always,
    concurrent_always_one_sync_at_a_time,
    concurrent_everysec,
    concurrent_no,
    concurrent_always_dsync_writes,
    concurrent_always_direct_writes,
    direct_writes_keep_the_byte_stream,
    durable_progress_wakes_registered_waker,
    everysec_syncs_without_being_asked,
    no_policy_is_durable_only_on_request,
    rotation_switches_files_at_the_returned_lsn,
    preallocated_while_open_trimmed_on_close,
    write_failure_is_sticky,
    group_trailers_follow_each_group,
);

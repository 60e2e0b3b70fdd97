//! Persistence hot paths: RDB encoding and decoding of a small keyspace,
//! and appending to the group-commit log (no fsync, so it times the
//! append path, not the disk).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use ringkv_engine::keyspace::Entry;
use ringkv_engine::rdb::{RdbReader, RdbWriteOptions, RdbWriter};
use ringkv_engine::Value;
use ringkv_uring_io::{BackendKind, GroupCommitLog, LogConfig, Lsn, SyncPolicy};

const KEYS: usize = 1000;

fn entries() -> Vec<(Vec<u8>, Entry)> {
    (0..KEYS)
        .map(|i| {
            let value = if i % 2 == 0 {
                Value::string(format!("value-{i:016}-padding-to-make-it-longer").as_bytes())
            } else {
                Value::Int(i as i64)
            };
            (format!("key:{i:012}").into_bytes(), Entry::new(value))
        })
        .collect()
}

fn encode(entries: &[(Vec<u8>, Entry)]) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::with_capacity(64 << 10), RdbWriteOptions::default())
        .expect("writing to a Vec cannot fail");
    w.select_db(0, entries.len() as u64, 0)
        .expect("writing to a Vec cannot fail");
    for (k, e) in entries {
        w.write_entry(k, e).expect("writing to a Vec cannot fail");
    }
    w.finish().expect("writing to a Vec cannot fail").0
}

fn rdb(c: &mut Criterion) {
    let entries = entries();
    let file = encode(&entries);
    let mut g = c.benchmark_group("rdb");
    g.throughput(Throughput::Elements(KEYS as u64));
    g.bench_function("encode 1000 strings", |b| {
        b.iter(|| encode(black_box(&entries)).len())
    });
    g.bench_function("decode 1000 strings", |b| {
        b.iter(|| {
            let mut r = RdbReader::new(black_box(&file)).expect("our own file parses");
            let mut n = 0;
            while let Some(item) = r.next_item().expect("our own file parses") {
                n += item.key.len();
            }
            n
        })
    });
    g.finish();
}

fn log_append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("creating a tempdir");
    let cfg = LogConfig {
        backend: BackendKind::Epoll,
        sync: SyncPolicy::No,
        ..LogConfig::default()
    };
    let log = GroupCommitLog::open(cfg, &dir.path().join("bench.aof"), Lsn(0))
        .expect("opening the log in a tempdir");
    let record = [b'r'; 64];
    let mut g = c.benchmark_group("log");
    g.throughput(Throughput::Bytes(record.len() as u64));
    g.bench_function("GroupCommitLog::append 64B", |b| {
        b.iter_batched(
            || (),
            |()| log.append(black_box(&record)).expect("log is open"),
            BatchSize::SmallInput,
        )
    });
    g.finish();
    let lsn = log.sync().expect("log is open");
    let _ = log.wait_durable(lsn, Duration::from_secs(30));
}

criterion_group!(benches, rdb, log_append);
criterion_main!(benches);

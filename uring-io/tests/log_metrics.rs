//! The log's metrics through the `metrics` facade: a recorder sees every
//! group, byte and fsync the log's own counters see, on real files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use metrics::Key;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::MetricKind;
use ringkv_uring_io::log::metrics as names;
use ringkv_uring_io::{GroupCommitLog, LogConfig, Lsn, SyncPolicy};

fn label(key: &Key, name: &str) -> Option<String> {
    key.labels()
        .find(|l| l.key() == name)
        .map(|l| l.value().to_string())
}

#[test]
fn fsyncs_groups_and_bytes_are_recorded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.incr");
    let cfg = LogConfig {
        sync: SyncPolicy::Always,
        segment_prealloc_bytes: 64 * 1024,
        ..LogConfig::default()
    };
    // The writer resolves its handles when the log opens: the recorder
    // must be current then (and it records from the writer thread later).
    let log = metrics::with_local_recorder(&recorder, || {
        GroupCommitLog::open(cfg, &path, Lsn(0)).unwrap()
    });
    let mut end = Lsn(0);
    for i in 0..50 {
        end = log.append(format!("record {i}\n").as_bytes()).unwrap();
    }
    assert!(log.wait_durable(end, Duration::from_secs(10)).unwrap());
    log.close().unwrap();
    let stats = log.stats();

    let mut counters: HashMap<(String, Option<String>), u64> = HashMap::new();
    let mut histograms: HashMap<(String, Option<String>), Vec<f64>> = HashMap::new();
    let mut gauges: HashMap<String, f64> = HashMap::new();
    for (ck, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = ck.key();
        let id = (key.name().to_string(), label(key, "kind"));
        match (ck.kind(), value) {
            (MetricKind::Counter, DebugValue::Counter(n)) => {
                counters.insert(id, n);
            }
            (MetricKind::Histogram, DebugValue::Histogram(v)) => {
                histograms.insert(id, v.into_iter().map(|f| f.into_inner()).collect());
            }
            (MetricKind::Gauge, DebugValue::Gauge(g)) => {
                gauges.insert(key.name().to_string(), g.into_inner());
            }
            _ => {}
        }
    }
    let c = |name: &str, kind: Option<&str>| {
        counters
            .get(&(name.to_string(), kind.map(str::to_string)))
            .copied()
            .unwrap_or_else(|| panic!("no counter {name} {kind:?}: {counters:?}"))
    };
    assert_eq!(c(names::GROUPS_TOTAL, None), stats.groups_total);
    assert_eq!(c(names::WRITTEN_BYTES_TOTAL, None), end.0);
    assert!(c(names::FSYNCS_TOTAL, Some("group")) >= 1);
    assert_eq!(
        c(names::FSYNCS_TOTAL, Some("group")) + c(names::FSYNCS_TOTAL, Some("interval")),
        stats.fsyncs_total
    );
    // Closing finishes (truncates and syncs) the segment.
    assert_eq!(c(names::FSYNCS_TOTAL, Some("segment_finish")), 1);

    let h = |name: &str, kind: Option<&str>| {
        histograms
            .get(&(name.to_string(), kind.map(str::to_string)))
            .cloned()
            .unwrap_or_default()
    };
    let fsync_latencies = h(names::FSYNC_DURATION_SECONDS, Some("group"));
    assert_eq!(
        fsync_latencies.len() as u64,
        c(names::FSYNCS_TOTAL, Some("group"))
    );
    assert!(fsync_latencies.iter().all(|s| *s >= 0.0 && *s < 10.0));
    let records = h(names::GROUP_RECORDS, None);
    assert_eq!(records.len() as u64, stats.groups_total);
    assert_eq!(records.iter().sum::<f64>(), 50.0);
    let bytes = h(names::GROUP_WRITE_BYTES, None);
    assert_eq!(bytes.iter().sum::<f64>(), end.0 as f64);
    assert_eq!(gauges.get(names::DURABLE_LAG_BYTES), Some(&0.0));
}

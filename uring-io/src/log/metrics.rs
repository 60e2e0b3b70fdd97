//! The log's metrics, through the `metrics` facade: whoever installs a
//! recorder (the server's Prometheus exporter) sees them; without one every
//! call is a no-op. Handles are resolved once, when the writer starts, so
//! the writer thread never hashes a metric name per group.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram};

/// Seconds one fsync took (`fdatasync`, or a `RWF_DSYNC` write), by `kind`.
pub const FSYNC_DURATION_SECONDS: &str = "ringkv_log_fsync_duration_seconds";
/// Fsyncs done, by `kind`.
pub const FSYNCS_TOTAL: &str = "ringkv_log_fsyncs_total";
/// Bytes of records written per group (one write per group).
pub const GROUP_WRITE_BYTES: &str = "ringkv_log_group_write_bytes";
/// Records per group: how many appends shared one write (and fsync).
pub const GROUP_RECORDS: &str = "ringkv_log_group_records";
pub const GROUPS_TOTAL: &str = "ringkv_log_groups_total";
/// Record bytes written (trailers excluded, like LSNs).
pub const WRITTEN_BYTES_TOTAL: &str = "ringkv_log_written_bytes_total";
/// Appended but not yet durable bytes (appended LSN - durable LSN).
pub const DURABLE_LAG_BYTES: &str = "ringkv_log_durable_lag_bytes";

/// Why an fsync ran: the `kind` label.
#[derive(Debug, Clone, Copy)]
pub(crate) enum FsyncKind {
    /// Synced together with its group (`always`, or an explicit sync).
    Group = 0,
    /// The `everysec` periodic fsync.
    Interval = 1,
    /// A segment being finished (rotation or close): truncate + sync.
    SegmentFinish = 2,
}

const FSYNC_KINDS: [&str; 3] = ["group", "interval", "segment_finish"];

/// Describes the log's metrics to the installed recorder. Call after
/// installing it (descriptions given before are lost).
pub fn describe_metrics() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        FSYNC_DURATION_SECONDS,
        Unit::Seconds,
        "Time one fsync of the group-commit log took, by kind (group, interval, segment_finish)."
    );
    describe_counter!(FSYNCS_TOTAL, "Fsyncs of the group-commit log, by kind.");
    describe_histogram!(
        GROUP_WRITE_BYTES,
        Unit::Bytes,
        "Record bytes written by one group of the group-commit log."
    );
    describe_histogram!(
        GROUP_RECORDS,
        Unit::Count,
        "Records written by one group (appends sharing one write and fsync)."
    );
    describe_counter!(GROUPS_TOTAL, "Groups written by the group-commit log.");
    describe_counter!(
        WRITTEN_BYTES_TOTAL,
        Unit::Bytes,
        "Record bytes written by the group-commit log."
    );
    describe_gauge!(
        DURABLE_LAG_BYTES,
        Unit::Bytes,
        "Bytes appended to the group-commit log that are not yet durable."
    );
}

/// Makes every series of the log exist (at zero) so that dashboards find
/// them before the first write.
pub fn register_metrics() {
    let _ = LogMetrics::new();
}

pub(crate) struct LogMetrics {
    fsync_seconds: [Histogram; 3],
    fsyncs: [Counter; 3],
    group_bytes: Histogram,
    group_records: Histogram,
    groups: Counter,
    written_bytes: Counter,
    durable_lag_bytes: Gauge,
}

impl LogMetrics {
    pub(crate) fn new() -> LogMetrics {
        let fsync_seconds =
            FSYNC_KINDS.map(|k| metrics::histogram!(FSYNC_DURATION_SECONDS, "kind" => k));
        let fsyncs = FSYNC_KINDS.map(|k| {
            let c = metrics::counter!(FSYNCS_TOTAL, "kind" => k);
            c.increment(0);
            c
        });
        let groups = metrics::counter!(GROUPS_TOTAL);
        groups.increment(0);
        let written_bytes = metrics::counter!(WRITTEN_BYTES_TOTAL);
        written_bytes.increment(0);
        let durable_lag_bytes = metrics::gauge!(DURABLE_LAG_BYTES);
        durable_lag_bytes.increment(0.0);
        LogMetrics {
            fsync_seconds,
            fsyncs,
            group_bytes: metrics::histogram!(GROUP_WRITE_BYTES),
            group_records: metrics::histogram!(GROUP_RECORDS),
            groups,
            written_bytes,
            durable_lag_bytes,
        }
    }

    pub(crate) fn fsync(&self, kind: FsyncKind, took: Duration) {
        self.fsync_seconds[kind as usize].record(took.as_secs_f64());
        self.fsyncs[kind as usize].increment(1);
    }

    pub(crate) fn group(&self, records: u64, bytes: u64) {
        self.groups.increment(1);
        self.written_bytes.increment(bytes);
        self.group_bytes.record(bytes as f64);
        self.group_records.record(records as f64);
    }

    pub(crate) fn durable_lag(&self, bytes: u64) {
        self.durable_lag_bytes.set(bytes as f64);
    }
}

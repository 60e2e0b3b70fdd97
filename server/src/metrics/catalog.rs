//! Every series the server exports: names (Prometheus conventions: base
//! units, `_seconds`, `_bytes`, `_total`, the `ringkv_` prefix),
//! descriptions and histogram buckets. The log's own series are in
//! `ringkv_uring_io::log::metrics`.

use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};

use ringkv_uring_io::log::metrics as log_metrics;

// Commands and clients.
pub const COMMAND_DURATION_SECONDS: &str = "ringkv_command_duration_seconds";
pub const COMMANDS_TOTAL: &str = "ringkv_commands_total";
pub const COMMANDS_FAILED_TOTAL: &str = "ringkv_commands_failed_total";
pub const ERRORS_TOTAL: &str = "ringkv_errors_total";
pub const CONNECTED_CLIENTS: &str = "ringkv_connected_clients";
pub const BLOCKED_CLIENTS: &str = "ringkv_blocked_clients";
pub const CONNECTIONS_RECEIVED_TOTAL: &str = "ringkv_connections_received_total";
pub const REJECTED_CONNECTIONS_TOTAL: &str = "ringkv_rejected_connections_total";
pub const NET_INPUT_BYTES_TOTAL: &str = "ringkv_net_input_bytes_total";
pub const NET_OUTPUT_BYTES_TOTAL: &str = "ringkv_net_output_bytes_total";
pub const SLOWLOG_LENGTH: &str = "ringkv_slowlog_length";

// Keyspace and memory.
pub const KEYS: &str = "ringkv_keys";
pub const EXPIRING_KEYS: &str = "ringkv_expiring_keys";
pub const EXPIRED_KEYS_TOTAL: &str = "ringkv_expired_keys_total";
pub const EVICTED_KEYS_TOTAL: &str = "ringkv_evicted_keys_total";
pub const KEYSPACE_HITS_TOTAL: &str = "ringkv_keyspace_hits_total";
pub const KEYSPACE_MISSES_TOTAL: &str = "ringkv_keyspace_misses_total";
pub const MEMORY_USED_BYTES: &str = "ringkv_memory_used_bytes";
pub const MEMORY_RSS_BYTES: &str = "ringkv_memory_rss_bytes";
pub const IO_BACKEND_INFO: &str = "ringkv_io_backend_info";
pub const UPTIME_SECONDS: &str = "ringkv_uptime_seconds";

// Persistence.
pub const AOF_ENABLED: &str = "ringkv_aof_enabled";
pub const AOF_CURRENT_SIZE_BYTES: &str = "ringkv_aof_current_size_bytes";
pub const AOF_BASE_SIZE_BYTES: &str = "ringkv_aof_base_size_bytes";
pub const AOF_MANIFEST_FILES: &str = "ringkv_aof_manifest_files";
pub const AOF_REWRITE_IN_PROGRESS: &str = "ringkv_aof_rewrite_in_progress";
pub const AOF_REWRITES_TOTAL: &str = "ringkv_aof_rewrites_total";
pub const AOF_REWRITE_DURATION_SECONDS: &str = "ringkv_aof_rewrite_duration_seconds";
pub const RDB_SAVE_IN_PROGRESS: &str = "ringkv_rdb_save_in_progress";
pub const RDB_SAVES_TOTAL: &str = "ringkv_rdb_saves_total";
pub const RDB_SAVE_DURATION_SECONDS: &str = "ringkv_rdb_save_duration_seconds";
pub const RDB_LAST_SAVE_TIMESTAMP_SECONDS: &str = "ringkv_rdb_last_save_timestamp_seconds";
pub const RDB_CHANGES_SINCE_LAST_SAVE: &str = "ringkv_rdb_changes_since_last_save";
pub const FORK_DURATION_SECONDS: &str = "ringkv_fork_duration_seconds";
pub const FORKS_TOTAL: &str = "ringkv_forks_total";
pub const COW_CURRENT_BYTES: &str = "ringkv_cow_current_bytes";
pub const COW_LAST_BYTES: &str = "ringkv_cow_last_bytes";
pub const FORKLESS_EXTRA_CURRENT_BYTES: &str = "ringkv_forkless_extra_current_bytes";
pub const FORKLESS_EXTRA_LAST_BYTES: &str = "ringkv_forkless_extra_last_bytes";
pub const LOADING: &str = "ringkv_loading";
pub const LOADING_PROGRESS_RATIO: &str = "ringkv_loading_progress_ratio";

/// Bucket bounds of the per-command duration histogram, in seconds
/// (io-threads pre-bucket samples against these, see `command.rs`).
pub const COMMAND_BUCKETS_SECONDS: &[f64] = &[
    0.000_001,
    0.000_002_5,
    0.000_005,
    0.000_01,
    0.000_025,
    0.000_05,
    0.000_1,
    0.000_25,
    0.000_5,
    0.001,
    0.002_5,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    1.0,
];

/// Explicit buckets, so histograms render as Prometheus histograms (not
/// summaries) and `histogram_quantile` works.
pub fn histogram_buckets() -> Vec<(&'static str, &'static [f64])> {
    const FSYNC: &[f64] = &[
        0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064,
        0.128, 0.256, 0.512, 1.0, 2.0,
    ];

    const GROUP_BYTES: &[f64] = &[
        64.0,
        256.0,
        1024.0,
        4096.0,
        16384.0,
        65536.0,
        262_144.0,
        1_048_576.0,
        4_194_304.0,
        16_777_216.0,
    ];
    const GROUP_RECORDS: &[f64] = &[
        1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 4096.0,
    ];
    const JOB: &[f64] = &[
        0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
    ];
    const FORK: &[f64] = &[
        0.000_1, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    ];
    vec![
        (log_metrics::FSYNC_DURATION_SECONDS, FSYNC),
        (log_metrics::GROUP_WRITE_BYTES, GROUP_BYTES),
        (log_metrics::GROUP_RECORDS, GROUP_RECORDS),
        (AOF_REWRITE_DURATION_SECONDS, JOB),
        (RDB_SAVE_DURATION_SECONDS, JOB),
        (FORK_DURATION_SECONDS, FORK),
    ]
}

/// Describes every server series; call after the recorder is installed.
pub fn describe_all() {
    describe_counter!(COMMANDS_TOTAL, "Commands executed, by command.");
    describe_counter!(
        COMMANDS_FAILED_TOTAL,
        "Commands that replied with an error, by command."
    );
    describe_counter!(
        ERRORS_TOTAL,
        "Error replies, by kind (the error's first word, as INFO errorstats)."
    );
    describe_gauge!(CONNECTED_CLIENTS, "Client connections open now.");
    describe_gauge!(
        BLOCKED_CLIENTS,
        "Clients blocked in a blocking command now."
    );
    describe_counter!(CONNECTIONS_RECEIVED_TOTAL, "Connections accepted.");
    describe_counter!(
        REJECTED_CONNECTIONS_TOTAL,
        "Connections refused because of maxclients."
    );
    describe_counter!(
        NET_INPUT_BYTES_TOTAL,
        Unit::Bytes,
        "Bytes read from clients."
    );
    describe_counter!(
        NET_OUTPUT_BYTES_TOTAL,
        Unit::Bytes,
        "Bytes written to clients."
    );
    describe_gauge!(SLOWLOG_LENGTH, "Entries in the slow log.");
    describe_gauge!(KEYS, "Keys, by database.");
    describe_gauge!(EXPIRING_KEYS, "Keys with a time to live, by database.");
    describe_counter!(EXPIRED_KEYS_TOTAL, "Keys removed because they expired.");
    describe_counter!(EVICTED_KEYS_TOTAL, "Keys evicted because of maxmemory.");
    describe_counter!(KEYSPACE_HITS_TOTAL, "Key lookups that found the key.");
    describe_counter!(
        KEYSPACE_MISSES_TOTAL,
        "Key lookups that did not find the key."
    );
    describe_gauge!(
        MEMORY_USED_BYTES,
        Unit::Bytes,
        "Bytes allocated by the server (INFO used_memory)."
    );
    describe_gauge!(
        MEMORY_RSS_BYTES,
        Unit::Bytes,
        "Resident set size of the process (INFO used_memory_rss)."
    );
    describe_gauge!(
        IO_BACKEND_INFO,
        "Always 1; the backend label says which I/O backend runs (io_uring or epoll)."
    );
    describe_gauge!(UPTIME_SECONDS, Unit::Seconds, "Seconds since start.");
    describe_gauge!(AOF_ENABLED, "1 when appendonly is on.");
    describe_gauge!(
        AOF_CURRENT_SIZE_BYTES,
        Unit::Bytes,
        "Size of the AOF (base and incremental files)."
    );
    describe_gauge!(
        AOF_BASE_SIZE_BYTES,
        Unit::Bytes,
        "Size of the AOF after the latest rewrite."
    );
    describe_gauge!(
        AOF_MANIFEST_FILES,
        "Files listed in the AOF manifest, by type (base, incr, history)."
    );
    describe_gauge!(AOF_REWRITE_IN_PROGRESS, "1 while an AOF rewrite runs.");
    describe_counter!(
        AOF_REWRITES_TOTAL,
        "Finished AOF rewrites, by outcome (ok, err)."
    );
    describe_histogram!(
        AOF_REWRITE_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of finished AOF rewrites (whole seconds, as INFO reports them)."
    );
    describe_gauge!(RDB_SAVE_IN_PROGRESS, "1 while a background save runs.");
    describe_counter!(
        RDB_SAVES_TOTAL,
        "Finished RDB saves, by outcome (ok, err) and mode (fork, forkless)."
    );
    describe_histogram!(
        RDB_SAVE_DURATION_SECONDS,
        Unit::Seconds,
        "Duration of finished background saves (whole seconds, as INFO reports them)."
    );
    describe_gauge!(
        RDB_LAST_SAVE_TIMESTAMP_SECONDS,
        Unit::Seconds,
        "Unix time of the last successful save."
    );
    describe_gauge!(
        RDB_CHANGES_SINCE_LAST_SAVE,
        "Writes since the last successful save."
    );
    describe_histogram!(
        FORK_DURATION_SECONDS,
        Unit::Seconds,
        "Time fork() took for a snapshot."
    );
    describe_counter!(FORKS_TOTAL, "Forks done for snapshots.");
    describe_gauge!(
        COW_CURRENT_BYTES,
        Unit::Bytes,
        "Copy-on-write bytes of the running fork child."
    );
    describe_gauge!(
        COW_LAST_BYTES,
        Unit::Bytes,
        "Copy-on-write bytes of the last fork child, by job (rdb, aof)."
    );
    describe_gauge!(
        FORKLESS_EXTRA_CURRENT_BYTES,
        Unit::Bytes,
        "Extra memory held by the running forkless snapshot."
    );
    describe_gauge!(
        FORKLESS_EXTRA_LAST_BYTES,
        Unit::Bytes,
        "Most extra memory the last forkless snapshot held."
    );
    describe_gauge!(LOADING, "1 while the dataset is loading.");
    describe_gauge!(
        LOADING_PROGRESS_RATIO,
        "Fraction of the dataset file loaded (1 when not loading)."
    );
}

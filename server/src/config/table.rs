//! The directive table: every parameter Redis 7.0 lists in `CONFIG GET *`,
//! plus ringkv's own, with its type, bounds, default and flags.
//!
//! The table is the single source of truth for loading, CONFIG GET, CONFIG
//! SET and CONFIG REWRITE. A test compares it with the parameter list and
//! defaults a stock redis-server 7.0.15 prints
//! (`redis-7.0.15-config-get.tsv`), so a parameter cannot go missing and a
//! default cannot drift without the test noticing. Defaults are written the
//! way CONFIG SET would take them and go through the same parser as user
//! input, so a default can never be a value the parser would refuse.

/// What a directive accepts and how it prints.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// `yes` / `no`.
    Bool,
    /// A strict integer (`string2ll`) within the bounds.
    Int { min: i128, max: i128 },
    /// A memory value with optional unit, within the bounds.
    Memory { min: i128, max: i128 },
    /// A memory value or `N%` (stored as `-N`, at most `max_percent`).
    MemoryOrPercent { min: i128, max: i128 },
    /// An octal number (file permissions).
    Octal { min: i128, max: i128 },
    /// One name out of a list; several names may share a value.
    Enum(&'static [(&'static str, u32)]),
    /// Several names out of a list, OR-ed together (a multi-argument enum).
    Flags(&'static [(&'static str, u32)]),
    /// A string, optionally checked; `empty_is_null` strings print as `""`
    /// and are dropped by CONFIG REWRITE when empty.
    Str {
        empty_is_null: bool,
        check: Option<StrCheck>,
    },
    /// `dir`: an existing directory, printed as an absolute path.
    Dir,
    /// `save`: pairs of seconds and changes.
    Save,
    /// `client-output-buffer-limit`: class, hard, soft, soft seconds.
    ClientOutputBufferLimit,
    /// `oom-score-adj-values`: three integers in -2000..=2000.
    OomScoreAdjValues,
    /// `notify-keyspace-events`: event class characters.
    NotifyKeyspaceEvents,
    /// `bind`: up to 16 addresses.
    Bind,
    /// `replicaof`: host and port, or `no one`.
    ReplicaOf,
    /// `latency-tracking-info-percentiles`: numbers in 0..=100.
    LatencyPercentiles,
}

/// Extra validation of a string value; the error is Redis's wording.
pub type StrCheck = fn(&str) -> Result<(), String>;

/// CONFIG SET refuses it ("can't set immutable config").
pub const IMMUTABLE: u8 = 1 << 0;
/// CONFIG SET needs `enable-protected-configs`.
pub const PROTECTED: u8 = 1 << 1;
/// Only an exact CONFIG GET name finds it; patterns skip it.
pub const HIDDEN: u8 = 1 << 2;
/// Takes several arguments in a file; CONFIG SET splits its value on spaces.
pub const MULTI_ARG: u8 = 1 << 3;
/// Its value is a secret (passwords).
pub const SENSITIVE: u8 = 1 << 4;

/// One configuration parameter.
#[derive(Debug, Clone, Copy)]
pub struct Directive {
    /// Canonical name, as CONFIG GET prints it.
    pub name: &'static str,
    /// The old name still accepted (`slaveof`, `hash-max-ziplist-entries`).
    pub alias: Option<&'static str>,
    pub kind: Kind,
    /// The default as CONFIG SET would accept it. `dir` and `io-threads`
    /// are computed at start-up instead (current directory, core count).
    pub default: &'static str,
    /// `IMMUTABLE`, `PROTECTED`, `HIDDEN`, `MULTI_ARG`, `SENSITIVE`.
    pub flags: u8,
    /// ringkv acts on it. Others are accepted and stored so a Redis
    /// configuration file loads, and a warning says they have no effect.
    pub implemented: bool,
}

impl Directive {
    pub fn is_mutable(&self) -> bool {
        self.flags & IMMUTABLE == 0
    }

    pub fn is_multi_arg(&self) -> bool {
        self.flags & MULTI_ARG != 0
    }

    pub fn is_hidden(&self) -> bool {
        self.flags & HIDDEN != 0
    }

    pub fn is_protected(&self) -> bool {
        self.flags & PROTECTED != 0
    }

    pub fn is_sensitive(&self) -> bool {
        self.flags & SENSITIVE != 0
    }

    /// True when `name` (any case) is this directive's name or alias.
    pub fn answers_to(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
            || self
                .alias
                .is_some_and(|alias| alias.eq_ignore_ascii_case(name))
    }
}

const fn d(name: &'static str, kind: Kind, default: &'static str, flags: u8) -> Directive {
    Directive {
        name,
        alias: None,
        kind,
        default,
        flags,
        implemented: false,
    }
}

impl Directive {
    const fn alias(mut self, alias: &'static str) -> Self {
        self.alias = Some(alias);
        self
    }

    const fn ours(mut self) -> Self {
        self.implemented = true;
        self
    }
}

const INT_MAX: i128 = i32::MAX as i128;
const INT_MIN: i128 = i32::MIN as i128;
const UINT_MAX: i128 = u32::MAX as i128;
const LONG_MAX: i128 = i64::MAX as i128;
const ULLONG_MAX: i128 = u64::MAX as i128;

const fn int(min: i128, max: i128) -> Kind {
    Kind::Int { min, max }
}

const fn mem(min: i128, max: i128) -> Kind {
    Kind::Memory { min, max }
}

const fn string() -> Kind {
    Kind::Str {
        empty_is_null: false,
        check: None,
    }
}

const fn nullable() -> Kind {
    Kind::Str {
        empty_is_null: true,
        check: None,
    }
}

const fn checked(check: StrCheck) -> Kind {
    Kind::Str {
        empty_is_null: false,
        check: Some(check),
    }
}

const M: u8 = 0; // mutable
const I: u8 = IMMUTABLE;

pub const MAXMEMORY_POLICIES: &[(&str, u32)] = &[
    ("volatile-lru", 0),
    ("volatile-lfu", 1),
    ("volatile-random", 2),
    ("volatile-ttl", 3),
    ("allkeys-lru", 4),
    ("allkeys-lfu", 5),
    ("allkeys-random", 6),
    ("noeviction", 7),
];
const SYSLOG_FACILITIES: &[(&str, u32)] = &[
    ("user", 0),
    ("local0", 1),
    ("local1", 2),
    ("local2", 3),
    ("local3", 4),
    ("local4", 5),
    ("local5", 6),
    ("local6", 7),
    ("local7", 8),
];
pub const LOG_LEVELS: &[(&str, u32)] =
    &[("debug", 0), ("verbose", 1), ("notice", 2), ("warning", 3)];
const SUPERVISED_MODES: &[(&str, u32)] = &[("upstart", 0), ("systemd", 1), ("auto", 2), ("no", 3)];
pub const APPENDFSYNC_MODES: &[(&str, u32)] = &[("everysec", 0), ("always", 1), ("no", 2)];
const REPL_DISKLESS_LOAD: &[(&str, u32)] = &[("disabled", 0), ("on-empty-db", 1), ("swapdb", 2)];
const TLS_AUTH_CLIENTS: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("optional", 2)];
const OOM_SCORE_ADJ: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("relative", 1), ("absolute", 2)];
const ACL_PUBSUB_DEFAULT: &[(&str, u32)] = &[("allchannels", 1), ("resetchannels", 0)];
const SANITIZE_DUMP_PAYLOAD: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("clients", 2)];
pub const PROTECTED_ACTION: &[(&str, u32)] = &[("no", 0), ("yes", 1), ("local", 2)];
const CLUSTER_ENDPOINT_TYPES: &[(&str, u32)] =
    &[("ip", 0), ("hostname", 1), ("unknown-endpoint", 2)];
const PROPAGATION_ERROR_BEHAVIOR: &[(&str, u32)] =
    &[("ignore", 0), ("panic", 1), ("panic-on-replicas", 2)];
const SHUTDOWN_ON_SIGNAL: &[(&str, u32)] = &[
    ("default", 0),
    ("save", 1),
    ("nosave", 2),
    ("now", 4),
    ("force", 8),
];
pub const IO_BACKENDS: &[(&str, u32)] = &[("auto", 0), ("uring", 1), ("epoll", 2)];
pub const SNAPSHOT_MODES: &[(&str, u32)] = &[("forkless", 0), ("fork", 1)];
pub const AOF_FSYNC_MODES: &[(&str, u32)] = &[
    ("fdatasync", 0),
    ("odsync", 1),
    ("odirect", 2),
    ("fdatasync-inline", 3),
];

/// Every directive. Order is the order CONFIG GET patterns and CONFIG
/// REWRITE visit them in (Redis uses hash order, which clients cannot rely
/// on either).
pub static DIRECTIVES: &[Directive] = &[
    // Network and clients.
    d("bind", Kind::Bind, "127.0.0.1 -::1", MULTI_ARG).ours(),
    d("port", int(0, 65535), "6379", M).ours(),
    d("protected-mode", Kind::Bool, "yes", M).ours(),
    d("tcp-backlog", int(0, INT_MAX), "511", I).ours(),
    d("tcp-keepalive", int(0, INT_MAX), "300", M).ours(),
    d("timeout", int(0, INT_MAX), "0", M).ours(),
    d("unixsocket", nullable(), "", I),
    d("unixsocketperm", Kind::Octal { min: 0, max: 0o777 }, "0", I),
    d("socket-mark-id", int(0, UINT_MAX), "0", I),
    d("bind-source-addr", nullable(), "", M),
    d("maxclients", int(1, UINT_MAX), "10000", M).ours(),
    d("requirepass", nullable(), "", SENSITIVE).ours(),
    d(
        "client-query-buffer-limit",
        mem(1024 * 1024, LONG_MAX),
        "1073741824",
        M,
    )
    .ours(),
    d(
        "proto-max-bulk-len",
        mem(1024 * 1024, LONG_MAX),
        "536870912",
        M,
    )
    .ours(),
    d(
        "client-output-buffer-limit",
        Kind::ClientOutputBufferLimit,
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        MULTI_ARG,
    )
    .ours(),
    d("io-threads", int(1, 128), "1", I).ours(),
    d("io-threads-do-reads", Kind::Bool, "no", I),
    // ringkv's own.
    d("io-backend", Kind::Enum(IO_BACKENDS), "auto", I).ours(),
    d("io-idle-poll-us", int(0, 1000), "30", I).ours(),
    d("snapshot-mode", Kind::Enum(SNAPSHOT_MODES), "forkless", M).ours(),
    d(
        "aof-segment-max-bytes",
        mem(1024 * 1024, LONG_MAX),
        "67108864",
        M,
    )
    .ours(),
    d(
        "aof-fsync-mode",
        Kind::Enum(AOF_FSYNC_MODES),
        "fdatasync",
        I,
    )
    .ours(),
    d("aof-fsync-overlap", int(1, 64), "1", I).ours(),
    d("metrics-bind", string(), "127.0.0.1", I).ours(),
    d("metrics-port", int(0, 65535), "9379", I).ours(),
    // General.
    d("daemonize", Kind::Bool, "no", I),
    d("supervised", Kind::Enum(SUPERVISED_MODES), "no", I),
    d("pidfile", nullable(), "", I).ours(),
    d("loglevel", Kind::Enum(LOG_LEVELS), "notice", M).ours(),
    d("logfile", string(), "", I).ours(),
    d("syslog-enabled", Kind::Bool, "no", I),
    d("syslog-ident", string(), "redis", I),
    d(
        "syslog-facility",
        Kind::Enum(SYSLOG_FACILITIES),
        "local0",
        I,
    ),
    d("crash-log-enabled", Kind::Bool, "yes", M),
    d("crash-memcheck-enabled", Kind::Bool, "yes", M),
    d("databases", int(1, INT_MAX), "16", I).ours(),
    d("always-show-logo", Kind::Bool, "no", I),
    d("set-proc-title", Kind::Bool, "yes", I),
    d(
        "proc-title-template",
        checked(check_proc_title_template),
        "{title} {listen-addr} {server-mode}",
        M,
    ),
    d(
        "enable-protected-configs",
        Kind::Enum(PROTECTED_ACTION),
        "no",
        I,
    )
    .ours(),
    d(
        "enable-debug-command",
        Kind::Enum(PROTECTED_ACTION),
        "no",
        I,
    )
    .ours(),
    d(
        "enable-module-command",
        Kind::Enum(PROTECTED_ACTION),
        "no",
        I,
    ),
    d("hz", int(0, INT_MAX), "10", M).ours(),
    d("dynamic-hz", Kind::Bool, "yes", M),
    d("ignore-warnings", string(), "", M),
    d(
        "shutdown-on-sigint",
        Kind::Flags(SHUTDOWN_ON_SIGNAL),
        "default",
        MULTI_ARG,
    ),
    d(
        "shutdown-on-sigterm",
        Kind::Flags(SHUTDOWN_ON_SIGNAL),
        "default",
        MULTI_ARG,
    ),
    d("shutdown-timeout", int(0, INT_MAX), "10", M),
    d("server_cpulist", nullable(), "", I),
    d("bio_cpulist", nullable(), "", I),
    d("aof_rewrite_cpulist", nullable(), "", I),
    d("bgsave_cpulist", nullable(), "", I),
    d("oom-score-adj", Kind::Enum(OOM_SCORE_ADJ), "no", M),
    d(
        "oom-score-adj-values",
        Kind::OomScoreAdjValues,
        "0 200 800",
        MULTI_ARG,
    ),
    d("disable-thp", Kind::Bool, "yes", I),
    d("jemalloc-bg-thread", Kind::Bool, "yes", M),
    // Snapshotting.
    d("save", Kind::Save, "3600 1 300 100 60 10000", MULTI_ARG).ours(),
    d("stop-writes-on-bgsave-error", Kind::Bool, "yes", M).ours(),
    d("rdbcompression", Kind::Bool, "yes", M).ours(),
    d("rdbchecksum", Kind::Bool, "yes", I).ours(),
    d(
        "sanitize-dump-payload",
        Kind::Enum(SANITIZE_DUMP_PAYLOAD),
        "no",
        M,
    ),
    d(
        "dbfilename",
        checked(check_dbfilename),
        "dump.rdb",
        PROTECTED,
    )
    .ours(),
    d("rdb-del-sync-files", Kind::Bool, "no", M),
    d("dir", Kind::Dir, "", PROTECTED).ours(),
    d("rdb-save-incremental-fsync", Kind::Bool, "yes", M).ours(),
    d("rdb-key-save-delay", int(INT_MIN, INT_MAX), "0", HIDDEN).ours(),
    d("key-load-delay", int(INT_MIN, INT_MAX), "0", HIDDEN).ours(),
    d(
        "loading-process-events-interval-bytes",
        int(1024, INT_MAX),
        "2097152",
        HIDDEN,
    )
    .ours(),
    // Append only file.
    d("appendonly", Kind::Bool, "no", M).ours(),
    d(
        "appendfilename",
        checked(check_appendfilename),
        "appendonly.aof",
        I,
    )
    .ours(),
    d(
        "appenddirname",
        checked(check_appenddirname),
        "appendonlydir",
        I,
    )
    .ours(),
    d("appendfsync", Kind::Enum(APPENDFSYNC_MODES), "everysec", M).ours(),
    d("no-appendfsync-on-rewrite", Kind::Bool, "no", M).ours(),
    d("auto-aof-rewrite-percentage", int(0, INT_MAX), "100", M).ours(),
    d("auto-aof-rewrite-min-size", mem(0, LONG_MAX), "67108864", M).ours(),
    d("aof-load-truncated", Kind::Bool, "yes", M).ours(),
    d("aof-use-rdb-preamble", Kind::Bool, "yes", M).ours(),
    d("aof-timestamp-enabled", Kind::Bool, "no", M),
    d("aof-rewrite-incremental-fsync", Kind::Bool, "yes", M).ours(),
    d("aof-disable-auto-gc", Kind::Bool, "no", M),
    // Replication.
    d("replicaof", Kind::ReplicaOf, "", I | MULTI_ARG).alias("slaveof"),
    d("masterauth", nullable(), "", SENSITIVE),
    d("masteruser", nullable(), "", SENSITIVE),
    d("replica-serve-stale-data", Kind::Bool, "yes", M).alias("slave-serve-stale-data"),
    d("replica-read-only", Kind::Bool, "yes", M).alias("slave-read-only"),
    d("repl-diskless-sync", Kind::Bool, "yes", M),
    d("repl-diskless-sync-delay", int(0, INT_MAX), "5", M),
    d("repl-diskless-sync-max-replicas", int(0, INT_MAX), "0", M),
    d(
        "repl-diskless-load",
        Kind::Enum(REPL_DISKLESS_LOAD),
        "disabled",
        M,
    ),
    d("repl-ping-replica-period", int(1, INT_MAX), "10", M).alias("repl-ping-slave-period"),
    d("repl-timeout", int(1, INT_MAX), "60", M),
    d("repl-disable-tcp-nodelay", Kind::Bool, "no", M),
    d("repl-backlog-size", mem(1, LONG_MAX), "1048576", M),
    d("repl-backlog-ttl", int(0, LONG_MAX), "3600", M),
    d("replica-priority", int(0, INT_MAX), "100", M).alias("slave-priority"),
    d("replica-announced", Kind::Bool, "yes", M),
    d("min-replicas-to-write", int(0, INT_MAX), "0", M).alias("min-slaves-to-write"),
    d("min-replicas-max-lag", int(0, INT_MAX), "10", M).alias("min-slaves-max-lag"),
    d("replica-announce-ip", nullable(), "", M).alias("slave-announce-ip"),
    d("replica-announce-port", int(0, 65535), "0", M).alias("slave-announce-port"),
    d("replica-lazy-flush", Kind::Bool, "no", M).alias("slave-lazy-flush"),
    d("replica-ignore-maxmemory", Kind::Bool, "yes", M).alias("slave-ignore-maxmemory"),
    d("replica-ignore-disk-write-errors", Kind::Bool, "no", M),
    d(
        "propagation-error-behavior",
        Kind::Enum(PROPAGATION_ERROR_BEHAVIOR),
        "ignore",
        M,
    ),
    // Keys tracking, security, ACL.
    d("tracking-table-max-keys", int(0, LONG_MAX), "1000000", M),
    d("acllog-max-len", int(0, LONG_MAX), "128", M),
    d("aclfile", string(), "", I),
    d(
        "acl-pubsub-default",
        Kind::Enum(ACL_PUBSUB_DEFAULT),
        "resetchannels",
        M,
    ),
    // Memory management.
    d("maxmemory", mem(0, ULLONG_MAX), "0", M).ours(),
    d(
        "maxmemory-policy",
        Kind::Enum(MAXMEMORY_POLICIES),
        "noeviction",
        M,
    )
    .ours(),
    d("maxmemory-samples", int(1, INT_MAX), "5", M).ours(),
    d("maxmemory-eviction-tenacity", int(0, 100), "10", M),
    d(
        "maxmemory-clients",
        Kind::MemoryOrPercent {
            min: -100,
            max: LONG_MAX,
        },
        "0",
        M,
    ),
    d("lazyfree-lazy-eviction", Kind::Bool, "no", M),
    d("lazyfree-lazy-expire", Kind::Bool, "no", M),
    d("lazyfree-lazy-server-del", Kind::Bool, "no", M),
    d("lazyfree-lazy-user-del", Kind::Bool, "no", M),
    d("lazyfree-lazy-user-flush", Kind::Bool, "no", M),
    d("lfu-log-factor", int(0, INT_MAX), "10", M),
    d("lfu-decay-time", int(0, INT_MAX), "1", M),
    d("active-expire-effort", int(1, 10), "1", M),
    // Scripting.
    d("busy-reply-threshold", int(0, LONG_MAX), "5000", M).alias("lua-time-limit"),
    // Cluster.
    d("cluster-enabled", Kind::Bool, "no", I),
    d("cluster-config-file", string(), "nodes.conf", I),
    d("cluster-node-timeout", int(0, LONG_MAX), "15000", M),
    d("cluster-port", int(0, 65535), "0", I),
    d("cluster-replica-validity-factor", int(0, INT_MAX), "10", M)
        .alias("cluster-slave-validity-factor"),
    d("cluster-migration-barrier", int(0, INT_MAX), "1", M),
    d("cluster-allow-replica-migration", Kind::Bool, "yes", M),
    d("cluster-require-full-coverage", Kind::Bool, "yes", M),
    d("cluster-replica-no-failover", Kind::Bool, "no", M).alias("cluster-slave-no-failover"),
    d("cluster-allow-reads-when-down", Kind::Bool, "no", M),
    d("cluster-allow-pubsubshard-when-down", Kind::Bool, "yes", M),
    d("cluster-link-sendbuf-limit", mem(0, ULLONG_MAX), "0", M),
    d("cluster-announce-ip", nullable(), "", M),
    d(
        "cluster-announce-hostname",
        Kind::Str {
            empty_is_null: true,
            check: Some(check_hostname),
        },
        "",
        M,
    ),
    d("cluster-announce-port", int(0, 65535), "0", M),
    d("cluster-announce-bus-port", int(0, 65535), "0", M),
    d("cluster-announce-tls-port", int(0, 65535), "0", M),
    d(
        "cluster-preferred-endpoint-type",
        Kind::Enum(CLUSTER_ENDPOINT_TYPES),
        "ip",
        M,
    ),
    // Slow log, latency.
    d("slowlog-log-slower-than", int(-1, LONG_MAX), "10000", M).ours(),
    d("slowlog-max-len", int(0, LONG_MAX), "128", M).ours(),
    d("latency-monitor-threshold", int(0, LONG_MAX), "0", M),
    d("latency-tracking", Kind::Bool, "yes", M),
    d(
        "latency-tracking-info-percentiles",
        Kind::LatencyPercentiles,
        "50 99 99.9",
        MULTI_ARG,
    ),
    // Event notification.
    d("notify-keyspace-events", Kind::NotifyKeyspaceEvents, "", M).ours(),
    // Advanced config: encodings.
    d("hash-max-listpack-entries", int(0, LONG_MAX), "512", M)
        .alias("hash-max-ziplist-entries")
        .ours(),
    d("hash-max-listpack-value", mem(0, LONG_MAX), "64", M)
        .alias("hash-max-ziplist-value")
        .ours(),
    d("list-max-listpack-size", int(INT_MIN, INT_MAX), "-2", M)
        .alias("list-max-ziplist-size")
        .ours(),
    d("list-compress-depth", int(0, INT_MAX), "0", M).ours(),
    d("set-max-intset-entries", int(0, LONG_MAX), "512", M).ours(),
    d("zset-max-listpack-entries", int(0, LONG_MAX), "128", M)
        .alias("zset-max-ziplist-entries")
        .ours(),
    d("zset-max-listpack-value", mem(0, LONG_MAX), "64", M)
        .alias("zset-max-ziplist-value")
        .ours(),
    d("hll-sparse-max-bytes", mem(0, LONG_MAX), "3000", M),
    d("stream-node-max-bytes", mem(0, LONG_MAX), "4096", M).ours(),
    d("stream-node-max-entries", int(0, LONG_MAX), "100", M).ours(),
    d("activerehashing", Kind::Bool, "yes", M),
    // Active defragmentation.
    d("activedefrag", Kind::Bool, "no", M),
    d(
        "active-defrag-ignore-bytes",
        mem(1, LONG_MAX),
        "104857600",
        M,
    ),
    d("active-defrag-threshold-lower", int(0, 1000), "10", M),
    d("active-defrag-threshold-upper", int(0, 1000), "100", M),
    d("active-defrag-cycle-min", int(1, 99), "1", M),
    d("active-defrag-cycle-max", int(1, 99), "25", M),
    d("active-defrag-max-scan-fields", int(1, LONG_MAX), "1000", M),
    // Debugging.
    d("use-exit-on-panic", Kind::Bool, "no", HIDDEN),
    d("watchdog-period", int(0, INT_MAX), "0", HIDDEN),
    // TLS.
    d("tls-port", int(0, 65535), "0", M),
    d("tls-session-cache-size", int(0, INT_MAX), "20480", M),
    d("tls-session-cache-timeout", int(0, INT_MAX), "300", M),
    d("tls-cluster", Kind::Bool, "no", M),
    d("tls-replication", Kind::Bool, "no", M),
    d("tls-auth-clients", Kind::Enum(TLS_AUTH_CLIENTS), "yes", M),
    d("tls-prefer-server-ciphers", Kind::Bool, "no", M),
    d("tls-session-caching", Kind::Bool, "yes", M),
    d("tls-cert-file", nullable(), "", M),
    d("tls-key-file", nullable(), "", M),
    d("tls-key-file-pass", nullable(), "", SENSITIVE),
    d("tls-client-cert-file", nullable(), "", M),
    d("tls-client-key-file", nullable(), "", M),
    d("tls-client-key-file-pass", nullable(), "", SENSITIVE),
    d("tls-dh-params-file", nullable(), "", M),
    d("tls-ca-cert-file", nullable(), "", M),
    d("tls-ca-cert-dir", nullable(), "", M),
    d("tls-protocols", nullable(), "", M),
    d("tls-ciphers", nullable(), "", M),
    d("tls-ciphersuites", nullable(), "", M),
];

/// Directives Redis 7.0 still accepts in a file and ignores, with the
/// number of words (name included) they take.
pub const DEPRECATED: &[(&str, usize)] = &[
    ("list-max-ziplist-entries", 2),
    ("list-max-ziplist-value", 2),
    ("lua-replicate-commands", 2),
];

/// Finds a directive by name or alias, any case.
pub fn lookup(name: &str) -> Option<(usize, &'static Directive)> {
    DIRECTIVES
        .iter()
        .enumerate()
        .find(|(_, directive)| directive.answers_to(name))
}

/// Index of a canonical name. Panics on a name not in the table: callers
/// pass literals, and a test walks every literal.
pub(crate) fn index_of(name: &str) -> usize {
    DIRECTIVES
        .iter()
        .position(|directive| directive.name == name)
        .unwrap_or_else(|| panic!("config directive {name:?} is not in the table"))
}

impl Kind {
    /// A short human description, for documentation.
    pub fn describe(&self) -> String {
        let names = |list: &[(&str, u32)]| {
            let mut seen: Vec<&str> = Vec::new();
            for (name, _) in list {
                if !seen.contains(name) {
                    seen.push(name);
                }
            }
            seen.join(" \\| ")
        };
        match self {
            Kind::Bool => "yes/no".into(),
            Kind::Int { min, max } => format!("integer {min}..{max}"),
            Kind::Memory { min, max } => format!("bytes {min}..{max} (units k kb m mb g gb)"),
            Kind::MemoryOrPercent { .. } => "bytes or N% of maxmemory".into(),
            Kind::Octal { max, .. } => format!("octal 0..{max:o}"),
            Kind::Enum(list) => names(list),
            Kind::Flags(list) => format!("one or more of {}", names(list)),
            Kind::Str { .. } => "string".into(),
            Kind::Dir => "directory".into(),
            Kind::Save => "seconds changes [seconds changes ...] or \"\"".into(),
            Kind::ClientOutputBufferLimit => "class hard soft seconds [...]".into(),
            Kind::OomScoreAdjValues => "three integers -2000..2000".into(),
            Kind::NotifyKeyspaceEvents => "event class characters".into(),
            Kind::Bind => "up to 16 addresses".into(),
            Kind::ReplicaOf => "host port, or no one".into(),
            Kind::LatencyPercentiles => "percentiles 0..100".into(),
        }
    }
}

/// The directive table as a Markdown table (name, alias, type, default,
/// settable with CONFIG SET, acted on by ringkv), so the README's
/// compatibility list is generated from the code and cannot drift.
pub fn compatibility_table_markdown() -> String {
    let config = super::Config::new();
    let mut out = String::from(
        "| Directive | Alias | Type | Default | CONFIG SET | ringkv |\n\
         |---|---|---|---|---|---|\n",
    );
    for directive in DIRECTIVES.iter().filter(|d| !d.is_hidden()) {
        let default = match directive.name {
            "dir" => "current directory".to_string(),
            "io-threads" => "number of cores".to_string(),
            name => format!("`{}`", config.get_one(name).unwrap_or_default()),
        };
        let settable = if !directive.is_mutable() {
            "no"
        } else if directive.is_protected() {
            "protected"
        } else {
            "yes"
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} |\n",
            directive.name,
            directive
                .alias
                .map(|a| format!("`{a}`"))
                .unwrap_or_default(),
            directive.kind.describe(),
            default,
            settable,
            if directive.implemented {
                "yes"
            } else {
                "accepted, no effect"
            },
        ));
    }
    out
}

fn is_base_name(path: &str) -> bool {
    !path.contains('/')
}

fn check_dbfilename(value: &str) -> Result<(), String> {
    if is_base_name(value) {
        Ok(())
    } else {
        Err("dbfilename can't be a path, just a filename".into())
    }
}

fn check_appendfilename(value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err("appendfilename can't be empty".into())
    } else if !is_base_name(value) {
        Err("appendfilename can't be a path, just a filename".into())
    } else {
        Ok(())
    }
}

fn check_appenddirname(value: &str) -> Result<(), String> {
    if value.is_empty() {
        Err("appenddirname can't be empty".into())
    } else if !is_base_name(value) {
        Err("appenddirname can't be a path, just a dirname".into())
    } else {
        Ok(())
    }
}

fn check_hostname(value: &str) -> Result<(), String> {
    if value.len() >= 256 {
        return Err("Hostnames must be less than 256 characters".into());
    }
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        Ok(())
    } else {
        Err("Hostname may only contain alphanumeric characters, hyphens or dots".into())
    }
}

/// Variables `proc-title-template` may use.
const PROC_TITLE_VARIABLES: &[&str] = &[
    "{title}",
    "{listen-addr}",
    "{server-mode}",
    "{port}",
    "{tls-port}",
    "{unixsocket}",
    "{config-file}",
];

fn check_proc_title_template(value: &str) -> Result<(), String> {
    let invalid = || "template format is invalid or contains unknown variables".to_string();
    let mut rest = value;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').ok_or_else(invalid)? + open;
        let variable = &rest[open..=close];
        if !PROC_TITLE_VARIABLES.contains(&variable) {
            return Err(invalid());
        }
        rest = &rest[close + 1..];
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for directive in DIRECTIVES {
            assert!(seen.insert(directive.name), "duplicate {}", directive.name);
            if let Some(alias) = directive.alias {
                assert!(seen.insert(alias), "duplicate {alias}");
            }
            assert_eq!(directive.name, directive.name.to_ascii_lowercase());
        }
    }

    #[test]
    fn lookup_is_case_insensitive_and_knows_aliases() {
        assert_eq!(lookup("PORT").unwrap().1.name, "port");
        assert_eq!(lookup("slaveof").unwrap().1.name, "replicaof");
        assert_eq!(
            lookup("Hash-Max-Ziplist-Entries").unwrap().1.name,
            "hash-max-listpack-entries"
        );
        assert!(lookup("no-such-thing").is_none());
    }

    #[test]
    fn compatibility_table_lists_every_visible_directive() {
        let table = compatibility_table_markdown();
        let visible = DIRECTIVES.iter().filter(|d| !d.is_hidden()).count();
        assert_eq!(table.lines().count(), visible + 2);
        assert!(table.contains("| `port` |  | integer 0..65535 | `6379` | yes | yes |"));
        assert!(table.contains("| `replicaof` | `slaveof` |"));
        assert!(!table.contains("key-load-delay"));
    }

    #[test]
    fn proc_title_template_checks_variables() {
        assert!(check_proc_title_template("{title} {listen-addr} {server-mode}").is_ok());
        assert!(check_proc_title_template("x {title} {port}").is_ok());
        assert!(check_proc_title_template("{title} {nope}").is_err());
        assert!(check_proc_title_template("{title").is_err());
        assert!(check_proc_title_template("a}").is_ok());
        assert!(check_proc_title_template("{port}").is_ok());
    }

    #[test]
    fn file_name_checks_use_redis_wording() {
        assert_eq!(
            check_dbfilename("a/b").unwrap_err(),
            "dbfilename can't be a path, just a filename"
        );
        assert_eq!(
            check_appendfilename("").unwrap_err(),
            "appendfilename can't be empty"
        );
        assert_eq!(
            check_appenddirname("x/y").unwrap_err(),
            "appenddirname can't be a path, just a dirname"
        );
        assert!(check_hostname("a-b.c").is_ok());
        assert!(check_hostname("a_b").is_err());
    }
}

//! The typed view of the configuration the server reads on its paths.
//!
//! [`Settings`] is rebuilt from the table's values after every load and
//! every successful CONFIG SET, so it can never disagree with what CONFIG
//! GET prints. Readers hold the `RwLock` read guard only long enough to copy
//! the few fields they need (or clone the whole struct once per event-loop
//! tick).

use std::path::PathBuf;

use super::table::{
    index_of, AOF_FSYNC_MODES, APPENDFSYNC_MODES, IO_BACKENDS, LOG_LEVELS, MAXMEMORY_POLICIES,
    PROTECTED_ACTION, SNAPSHOT_MODES,
};
use super::value::{ClientOutputBufferLimit, SaveParam, Value};

/// `appendfsync`: when the AOF is made durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendFsync {
    /// fsync before replying to every write: survives power loss.
    Always,
    /// fsync once a second: a crash of the machine loses up to a second.
    Everysec,
    /// Leave it to the OS: survives a process crash only.
    No,
}

/// `io-backend`: which event loop the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoBackend {
    /// io_uring when the kernel offers it, epoll otherwise.
    Auto,
    Uring,
    Epoll,
}

/// `snapshot-mode`: how BGSAVE and AOF rewrite get a point-in-time image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    Forkless,
    Fork,
}

/// `aof-fsync-mode`: the system call that makes AOF writes durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AofFsyncMode {
    Fdatasync,
    /// Open the segment with `O_DSYNC` so each write is durable on return.
    Odsync,
    /// `O_DIRECT` + `O_DSYNC` writes of whole blocks.
    Odirect,
    /// The log writer thread calls `fdatasync(2)` after the ring's write.
    FdatasyncInline,
}

/// `maxmemory-policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MaxmemoryPolicy {
    VolatileLru,
    VolatileLfu,
    VolatileRandom,
    VolatileTtl,
    AllkeysLru,
    AllkeysLfu,
    AllkeysRandom,
    Noeviction,
}

/// `loglevel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
}

/// `enable-debug-command` and friends: who may use a protected feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtectedAction {
    No,
    Yes,
    /// Only clients connected over loopback or a unix socket.
    Local,
}

impl ProtectedAction {
    pub fn allows(self, client_is_local: bool) -> bool {
        match self {
            ProtectedAction::No => false,
            ProtectedAction::Yes => true,
            ProtectedAction::Local => client_is_local,
        }
    }
}

/// Typed configuration values. Field names follow the directives; units
/// are in the names where the directive's are not obvious.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub port: u16,
    /// Addresses to listen on; a leading `-` marks an optional one (Redis
    /// skips it when it is unavailable). Empty: no TCP listener.
    pub bind: Vec<String>,
    pub protected_mode: bool,
    pub tcp_backlog: u32,
    pub tcp_keepalive_secs: u64,
    /// Idle seconds before a client is closed; 0 = never.
    pub timeout_secs: u64,
    pub unixsocket: Option<String>,
    pub unixsocketperm: u32,
    pub maxclients: u32,
    pub requirepass: Option<String>,
    pub client_query_buffer_limit_bytes: u64,
    pub proto_max_bulk_len_bytes: u64,
    /// Indexed by `ClientClass as usize`.
    pub client_output_buffer_limits: [ClientOutputBufferLimit; 3],
    pub io_threads: u32,
    pub io_backend: IoBackend,
    /// `io-idle-poll-us`: how long an io_uring io-thread keeps polling
    /// after a batch before it sleeps.
    pub io_idle_poll_us: u32,
    pub metrics_bind: String,
    /// 0 disables the metrics endpoint.
    pub metrics_port: u16,

    pub databases: u32,
    pub hz: u32,
    pub dynamic_hz: bool,
    pub loglevel: LogLevel,
    /// Empty: standard output.
    pub logfile: String,
    pub pidfile: Option<String>,
    pub daemonize: bool,
    pub enable_protected_configs: ProtectedAction,
    pub enable_debug_command: ProtectedAction,

    /// Absolute path of the working directory for data files.
    pub dir: PathBuf,
    pub dbfilename: String,
    pub save_params: Vec<SaveParam>,
    pub stop_writes_on_bgsave_error: bool,
    pub rdbcompression: bool,
    pub rdbchecksum: bool,
    pub rdb_save_incremental_fsync: bool,
    pub snapshot_mode: SnapshotMode,

    pub appendonly: bool,
    pub appendfilename: String,
    pub appenddirname: String,
    pub appendfsync: AppendFsync,
    pub no_appendfsync_on_rewrite: bool,
    pub auto_aof_rewrite_percentage: u32,
    pub auto_aof_rewrite_min_size_bytes: u64,
    pub aof_load_truncated: bool,
    pub aof_use_rdb_preamble: bool,
    pub aof_timestamp_enabled: bool,
    pub aof_rewrite_incremental_fsync: bool,
    pub aof_segment_max_bytes: u64,
    pub aof_fsync_mode: AofFsyncMode,
    /// `aof-fsync-overlap`: group syncs in flight at once under `always`.
    pub aof_fsync_overlap: u32,

    /// 0 = no limit.
    pub maxmemory_bytes: u64,
    pub maxmemory_policy: MaxmemoryPolicy,
    pub maxmemory_samples: u32,

    pub hash_max_listpack_entries: u64,
    pub hash_max_listpack_value_bytes: u64,
    /// Positive: entries per node; -1..-5: node size 4..64 KiB.
    pub list_max_listpack_size: i32,
    pub list_compress_depth: u32,
    pub set_max_intset_entries: u64,
    pub zset_max_listpack_entries: u64,
    pub zset_max_listpack_value_bytes: u64,
    pub stream_node_max_bytes: u64,
    pub stream_node_max_entries: u64,

    /// -1 disables the slow log; 0 logs everything.
    pub slowlog_log_slower_than_us: i64,
    pub slowlog_max_len: u64,
    pub latency_monitor_threshold_ms: u64,
    /// Flags from `value::notify`.
    pub notify_keyspace_events: u32,

    /// `rename-command old new` lines (file only), in order; an empty new
    /// name disables the command. The server checks the names.
    pub rename_commands: Vec<(String, String)>,
}

struct Reader<'a> {
    values: &'a [Value],
}

impl Reader<'_> {
    fn value(&self, name: &str) -> &Value {
        &self.values[index_of(name)]
    }

    fn number(&self, name: &str) -> i128 {
        match self.value(name) {
            Value::Number(n) => *n,
            other => {
                debug_assert!(false, "{name} holds {other:?}, not a number");
                0
            }
        }
    }

    fn u64(&self, name: &str) -> u64 {
        u64::try_from(self.number(name).max(0)).unwrap_or(u64::MAX)
    }

    fn u32(&self, name: &str) -> u32 {
        u32::try_from(self.number(name).max(0)).unwrap_or(u32::MAX)
    }

    fn u16(&self, name: &str) -> u16 {
        u16::try_from(self.number(name).max(0)).unwrap_or(u16::MAX)
    }

    fn i64(&self, name: &str) -> i64 {
        let n = self.number(name);
        i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX })
    }

    fn bool(&self, name: &str) -> bool {
        match self.value(name) {
            Value::Bool(b) => *b,
            other => {
                debug_assert!(false, "{name} holds {other:?}, not a bool");
                false
            }
        }
    }

    fn string(&self, name: &str) -> String {
        match self.value(name) {
            Value::Str(s) => s.clone(),
            other => {
                debug_assert!(false, "{name} holds {other:?}, not a string");
                String::new()
            }
        }
    }

    fn optional_string(&self, name: &str) -> Option<String> {
        Some(self.string(name)).filter(|s| !s.is_empty())
    }

    /// The enum's canonical name, for mapping onto a Rust enum.
    fn enum_name(&self, name: &str, names: &[(&'static str, u32)]) -> &'static str {
        let value = match self.value(name) {
            Value::Enum(v) => *v,
            other => {
                debug_assert!(false, "{name} holds {other:?}, not an enum");
                0
            }
        };
        names
            .iter()
            .find(|(_, v)| *v == value)
            .map_or("", |(n, _)| n)
    }
}

impl Settings {
    pub(crate) fn from_values(values: &[Value], rename_commands: &[(String, String)]) -> Settings {
        let r = Reader { values };
        let protected = |name: &str| match r.enum_name(name, PROTECTED_ACTION) {
            "yes" => ProtectedAction::Yes,
            "local" => ProtectedAction::Local,
            _ => ProtectedAction::No,
        };
        Settings {
            port: r.u16("port"),
            bind: match r.value("bind") {
                Value::Bind(addresses) => addresses.clone(),
                _ => Vec::new(),
            },
            protected_mode: r.bool("protected-mode"),
            tcp_backlog: r.u32("tcp-backlog"),
            tcp_keepalive_secs: r.u64("tcp-keepalive"),
            timeout_secs: r.u64("timeout"),
            unixsocket: r.optional_string("unixsocket"),
            unixsocketperm: r.u32("unixsocketperm"),
            maxclients: r.u32("maxclients"),
            requirepass: r.optional_string("requirepass"),
            client_query_buffer_limit_bytes: r.u64("client-query-buffer-limit"),
            proto_max_bulk_len_bytes: r.u64("proto-max-bulk-len"),
            client_output_buffer_limits: match r.value("client-output-buffer-limit") {
                Value::ClientOutputBufferLimits(limits) => *limits,
                _ => Default::default(),
            },
            io_threads: r.u32("io-threads"),
            io_idle_poll_us: r.u32("io-idle-poll-us"),
            io_backend: match r.enum_name("io-backend", IO_BACKENDS) {
                "uring" => IoBackend::Uring,
                "epoll" => IoBackend::Epoll,
                _ => IoBackend::Auto,
            },
            metrics_bind: r.string("metrics-bind"),
            metrics_port: r.u16("metrics-port"),
            databases: r.u32("databases"),
            hz: r.u32("hz"),
            dynamic_hz: r.bool("dynamic-hz"),
            loglevel: match r.enum_name("loglevel", LOG_LEVELS) {
                "debug" => LogLevel::Debug,
                "verbose" => LogLevel::Verbose,
                "warning" => LogLevel::Warning,
                _ => LogLevel::Notice,
            },
            logfile: r.string("logfile"),
            pidfile: r.optional_string("pidfile"),
            daemonize: r.bool("daemonize"),
            enable_protected_configs: protected("enable-protected-configs"),
            enable_debug_command: protected("enable-debug-command"),
            dir: PathBuf::from(r.string("dir")),
            dbfilename: r.string("dbfilename"),
            save_params: match r.value("save") {
                Value::Save(params) => params.clone(),
                _ => Vec::new(),
            },
            stop_writes_on_bgsave_error: r.bool("stop-writes-on-bgsave-error"),
            rdbcompression: r.bool("rdbcompression"),
            rdbchecksum: r.bool("rdbchecksum"),
            rdb_save_incremental_fsync: r.bool("rdb-save-incremental-fsync"),
            snapshot_mode: match r.enum_name("snapshot-mode", SNAPSHOT_MODES) {
                "fork" => SnapshotMode::Fork,
                _ => SnapshotMode::Forkless,
            },
            appendonly: r.bool("appendonly"),
            appendfilename: r.string("appendfilename"),
            appenddirname: r.string("appenddirname"),
            appendfsync: match r.enum_name("appendfsync", APPENDFSYNC_MODES) {
                "always" => AppendFsync::Always,
                "no" => AppendFsync::No,
                _ => AppendFsync::Everysec,
            },
            no_appendfsync_on_rewrite: r.bool("no-appendfsync-on-rewrite"),
            auto_aof_rewrite_percentage: r.u32("auto-aof-rewrite-percentage"),
            auto_aof_rewrite_min_size_bytes: r.u64("auto-aof-rewrite-min-size"),
            aof_load_truncated: r.bool("aof-load-truncated"),
            aof_use_rdb_preamble: r.bool("aof-use-rdb-preamble"),
            aof_timestamp_enabled: r.bool("aof-timestamp-enabled"),
            aof_rewrite_incremental_fsync: r.bool("aof-rewrite-incremental-fsync"),
            aof_segment_max_bytes: r.u64("aof-segment-max-bytes"),
            aof_fsync_mode: match r.enum_name("aof-fsync-mode", AOF_FSYNC_MODES) {
                "odsync" => AofFsyncMode::Odsync,
                "odirect" => AofFsyncMode::Odirect,
                "fdatasync-inline" => AofFsyncMode::FdatasyncInline,
                _ => AofFsyncMode::Fdatasync,
            },
            aof_fsync_overlap: r.u32("aof-fsync-overlap"),
            maxmemory_bytes: r.u64("maxmemory"),
            maxmemory_policy: match r.enum_name("maxmemory-policy", MAXMEMORY_POLICIES) {
                "volatile-lru" => MaxmemoryPolicy::VolatileLru,
                "volatile-lfu" => MaxmemoryPolicy::VolatileLfu,
                "volatile-random" => MaxmemoryPolicy::VolatileRandom,
                "volatile-ttl" => MaxmemoryPolicy::VolatileTtl,
                "allkeys-lru" => MaxmemoryPolicy::AllkeysLru,
                "allkeys-lfu" => MaxmemoryPolicy::AllkeysLfu,
                "allkeys-random" => MaxmemoryPolicy::AllkeysRandom,
                _ => MaxmemoryPolicy::Noeviction,
            },
            maxmemory_samples: r.u32("maxmemory-samples"),
            hash_max_listpack_entries: r.u64("hash-max-listpack-entries"),
            hash_max_listpack_value_bytes: r.u64("hash-max-listpack-value"),
            list_max_listpack_size: i32::try_from(r.i64("list-max-listpack-size")).unwrap_or(-2),
            list_compress_depth: r.u32("list-compress-depth"),
            set_max_intset_entries: r.u64("set-max-intset-entries"),
            zset_max_listpack_entries: r.u64("zset-max-listpack-entries"),
            zset_max_listpack_value_bytes: r.u64("zset-max-listpack-value"),
            stream_node_max_bytes: r.u64("stream-node-max-bytes"),
            stream_node_max_entries: r.u64("stream-node-max-entries"),
            slowlog_log_slower_than_us: r.i64("slowlog-log-slower-than"),
            slowlog_max_len: r.u64("slowlog-max-len"),
            latency_monitor_threshold_ms: r.u64("latency-monitor-threshold"),
            notify_keyspace_events: match r.value("notify-keyspace-events") {
                Value::NotifyKeyspaceEvents(flags) => *flags,
                _ => 0,
            },
            rename_commands: rename_commands.to_vec(),
        }
    }
}

//! State shared by every io-thread: the keyspace, runtime settings, the
//! client registry (for CLIENT LIST/KILL across threads), counters, and the
//! loops' wakers.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Mutex, RwLock};
use ringkv_engine::stats::ThreadStats;
use ringkv_engine::Keyspace;
use ringkv_uring_io::{BackendKind, Waker};

use crate::blocking::BlockRegistry;
use crate::client::ClientMeta;
use crate::config::Config;
use crate::latency::{CommandLatency, LatencyMonitor};
use crate::slowlog::SlowLog;

/// Server-wide counters that INFO stats reports (Redis's field names).
#[derive(Debug, Default)]
pub struct ServerStats {
    pub total_connections_received: AtomicU64,
    pub total_commands_processed: AtomicU64,
    pub rejected_connections: AtomicU64,
    pub total_net_input_bytes: AtomicU64,
    pub total_net_output_bytes: AtomicU64,
    pub total_error_replies: AtomicU64,
    pub unexpected_error_replies: AtomicU64,
    pub active_expired_keys: AtomicU64,
}

/// A reply produced on another thread for a blocked client.
#[derive(Debug)]
pub struct Delivery {
    pub client_id: u64,
    pub reply: Vec<u8>,
    /// Under `appendfsync always`, the LSN the reply must wait for (the
    /// write that served the client); 0 when none (issue 5).
    pub lsn: u64,
}

/// Per-command call statistics (INFO commandstats, latencystats).
#[derive(Debug, Default, Clone)]
pub struct CommandStat {
    pub calls: u64,
    pub usec: u64,
    pub rejected_calls: u64,
    pub failed_calls: u64,
    /// Allocated on the command's first call on this thread.
    pub latency: Option<Box<CommandLatency>>,
}

pub struct Shared {
    /// In an `Arc` so a background snapshot can hold it.
    pub keyspace: Arc<Keyspace>,
    /// Every directive's value; `Deref`s to the typed settings.
    pub config: RwLock<Config>,
    pub backend: BackendKind,
    pub clients: Mutex<HashMap<u64, Arc<ClientMeta>>>,
    pub connected_clients: AtomicUsize,
    pub next_client_id: AtomicU64,
    pub stats: ServerStats,
    /// One per io-thread, index = thread index.
    pub thread_stats: Vec<Arc<ThreadStats>>,
    pub wakers: RwLock<Vec<Waker>>,
    pub blocked: BlockRegistry,
    pub shutdown: AtomicBool,
    /// The dataset is being loaded at startup: clients are served, but
    /// only commands Redis allows while loading (the others get -LOADING).
    pub loading: AtomicBool,
    pub started: Instant,
    pub started_unix_ms: u64,
    pub run_id: String,
    /// Per io-thread call statistics, indexed like the command table.
    pub command_stats: Vec<Arc<Mutex<Vec<CommandStat>>>>,
    /// Replies for clients of each thread produced elsewhere (served blocked clients).
    pub mailboxes: Vec<Mutex<Vec<Delivery>>>,
    pub error_stats: Mutex<HashMap<String, u64>>,
    pub executable: String,
    pub rdb: crate::persist::rdb::RdbState,
    pub aof: crate::persist::aof::AofState,
    pub instantaneous: crate::instantaneous::Instantaneous,
    pub slowlog: SlowLog,
    pub latency_monitor: LatencyMonitor,
}

impl Shared {
    pub fn new(config: Config, backend: BackendKind, threads: usize) -> Shared {
        let keyspace = Arc::new(Keyspace::new((config.databases as usize).max(1)));
        let slowlog = SlowLog::default();
        slowlog.configure(config.slowlog_log_slower_than_us, config.slowlog_max_len);
        let latency_monitor = LatencyMonitor::default();
        latency_monitor.configure(
            config.latency_monitor_threshold_ms,
            latency_tracking_enabled(&config),
        );
        Shared {
            keyspace,
            config: RwLock::new(config),
            backend,
            clients: Mutex::new(HashMap::new()),
            connected_clients: AtomicUsize::new(0),
            next_client_id: AtomicU64::new(1),
            stats: ServerStats::default(),
            thread_stats: (0..threads).map(|_| Arc::default()).collect(),
            wakers: RwLock::new(Vec::new()),
            blocked: BlockRegistry::default(),
            shutdown: AtomicBool::new(false),
            loading: AtomicBool::new(false),
            started: Instant::now(),
            started_unix_ms: ringkv_engine::clock::now_ms(),
            run_id: make_run_id(),
            command_stats: (0..threads)
                .map(|_| {
                    let n = crate::dispatch::table().commands.len();
                    Arc::new(Mutex::new(vec![CommandStat::default(); n]))
                })
                .collect(),
            mailboxes: (0..threads).map(|_| Mutex::new(Vec::new())).collect(),
            error_stats: Mutex::new(HashMap::new()),
            executable: std::env::current_exe()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            rdb: Default::default(),
            aof: Default::default(),
            instantaneous: Default::default(),
            slowlog,
            latency_monitor,
        }
    }

    /// Feeds INFO's `instantaneous_*` figures; called by the cron each tick.
    pub fn sample_instantaneous(&self) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        self.instantaneous.sample(
            ringkv_engine::clock::now_ms(),
            crate::instantaneous::Counters {
                commands: self.sum_thread_stat(|t| &t.commands_processed),
                net_input_bytes: get(&self.stats.total_net_input_bytes),
                net_output_bytes: get(&self.stats.total_net_output_bytes),
            },
        );
    }

    /// Copies the settings the command path reads into their atomics;
    /// called after CONFIG SET.
    pub fn refresh_observability_settings(&self, config: &Config) {
        self.slowlog
            .configure(config.slowlog_log_slower_than_us, config.slowlog_max_len);
        self.latency_monitor.configure(
            config.latency_monitor_threshold_ms,
            latency_tracking_enabled(config),
        );
    }

    pub fn wake_thread(&self, thread: usize) {
        if let Some(w) = self.wakers.read().get(thread) {
            w.wake();
        }
    }

    /// Posts a reply for a client living on `thread` and wakes that thread.
    pub fn deliver(&self, thread: usize, client_id: u64, reply: Vec<u8>) {
        if let Some(m) = self.mailboxes.get(thread) {
            // The serving write was appended on this thread just before.
            let lsn = crate::persist::aof::last_append_lsn();
            m.lock().push(Delivery {
                client_id,
                reply,
                lsn,
            });
        }
        self.wake_thread(thread);
    }

    pub fn request_shutdown(&self) {
        self.shutdown.store(true, Ordering::SeqCst);
        for w in self.wakers.read().iter() {
            w.wake();
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// Sum of one per-thread counter.
    pub fn sum_thread_stat(&self, f: impl Fn(&ThreadStats) -> &AtomicU64) -> u64 {
        self.thread_stats
            .iter()
            .map(|s| ThreadStats::get(f(s)))
            .sum()
    }

    /// Keys removed by the active expiry cycle (INFO `expired_keys` adds these
    /// to the per-thread lazy-expiry counts).
    pub fn add_expired_keys(&self, n: u64) {
        self.stats
            .active_expired_keys
            .fetch_add(n, Ordering::Relaxed);
    }

    pub fn record_error(&self, prefix: &[u8]) {
        let name = String::from_utf8_lossy(prefix).into_owned();
        *self.error_stats.lock().entry(name).or_default() += 1;
        self.stats
            .total_error_replies
            .fetch_add(1, Ordering::Relaxed);
    }
}

fn latency_tracking_enabled(config: &Config) -> bool {
    config
        .get(&[b"latency-tracking"])
        .first()
        .map(|(_, v)| v == "yes")
        .unwrap_or(true)
}

/// The `latency-tracking-info-percentiles` setting as numbers.
pub fn latency_info_percentiles(config: &Config) -> Vec<f64> {
    config
        .get(&[b"latency-tracking-info-percentiles"])
        .first()
        .map(|(_, v)| {
            v.split_whitespace()
                .filter_map(|p| p.parse::<f64>().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn make_run_id() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from_digit(rng.gen_range(0..16), 16).unwrap_or('0'))
        .collect()
}

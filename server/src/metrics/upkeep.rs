//! Copies what INFO reports into gauges and counters, once a second.
//!
//! Persistence figures are read from the INFO persistence text itself
//! (`persist::info`), so this module depends only on Redis's field names,
//! not on how snapshots and the AOF keep their state. Jobs (saves,
//! rewrites, forks) are counted and timed when the INFO counters move:
//! a job that started and finished between two upkeeps is still counted,
//! with the duration INFO reports for the latest one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use metrics::{Counter, Gauge, Histogram};

use super::catalog::*;
use crate::config::SnapshotMode;
use crate::dispatch::table;
use crate::shared::Shared;

/// INFO `key:value` lines as a map (section headers and blanks skipped).
pub fn parse_info_fields(text: &str) -> HashMap<&str, &str> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.trim_end_matches('\r').split_once(':'))
        .collect()
}

fn num(fields: &HashMap<&str, &str>, key: &str) -> f64 {
    fields
        .get(key)
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// Counts the files an AOF manifest lists, by type. Redis's manifest lines
/// are `file <name> seq <n> type <b|h|i>` (keys in any order).
pub fn count_manifest_files(text: &str) -> (u64, u64, u64) {
    let (mut base, mut incr, mut history) = (0, 0, 0);
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let ty = words
            .chunks(2)
            .find(|kv| kv.first() == Some(&"type"))
            .and_then(|kv| kv.get(1).copied());
        match ty {
            Some("b") => base += 1,
            Some("i") => incr += 1,
            Some("h") => history += 1,
            _ => {}
        }
    }
    (base, incr, history)
}

/// Counts finished jobs from a "started" counter and an "in progress" flag.
#[derive(Debug, Default)]
struct JobTracker {
    finished_seen: u64,
}

impl JobTracker {
    /// Returns how many jobs finished since the last call.
    fn newly_finished(&mut self, started: u64, in_progress: u64) -> u64 {
        let finished = started.saturating_sub(in_progress);
        if finished < self.finished_seen {
            // Counters were reset (CONFIG RESETSTAT).
            self.finished_seen = finished;
            return 0;
        }
        let new = finished - self.finished_seen;
        self.finished_seen = finished;
        new
    }
}

struct CommandSeries {
    calls: Counter,
    failed: Counter,
}

pub struct Upkeep {
    connected_clients: Gauge,
    blocked_clients: Gauge,
    connections_received: Counter,
    rejected_connections: Counter,
    net_input: Counter,
    net_output: Counter,
    slowlog_length: Gauge,
    expired_keys: Counter,
    evicted_keys: Counter,
    keyspace_hits: Counter,
    keyspace_misses: Counter,
    memory_used: Gauge,
    memory_rss: Gauge,
    uptime: Gauge,
    keys_per_db: Vec<Option<(Gauge, Gauge)>>,
    commands: Vec<Option<CommandSeries>>,
    errors: HashMap<String, Counter>,

    aof_enabled: Gauge,
    aof_current_size: Gauge,
    aof_base_size: Gauge,
    manifest_files: [Gauge; 3],
    rewrite_in_progress: Gauge,
    rewrites_ok: Counter,
    rewrites_err: Counter,
    rewrite_duration: Histogram,
    rewrites: JobTracker,
    save_in_progress: Gauge,
    /// [outcome ok/err][mode forkless/fork]
    saves: [[Counter; 2]; 2],
    save_duration: Histogram,
    saves_seen: JobTracker,
    last_save_time: Gauge,
    changes_since_save: Gauge,
    fork_duration: Histogram,
    forks_total: Counter,
    forks_seen: u64,
    cow_current: Gauge,
    cow_last_rdb: Gauge,
    cow_last_aof: Gauge,
    forkless_current: Gauge,
    forkless_last: Gauge,
    loading: Gauge,
    loading_progress: Gauge,
}

fn counter0(c: Counter) -> Counter {
    c.increment(0);
    c
}

impl Upkeep {
    /// Creates (registers) every series at zero.
    pub fn new(shared: &Shared) -> Upkeep {
        use metrics::{counter, gauge, histogram};
        metrics::gauge!(IO_BACKEND_INFO, "backend" => shared.backend.name()).set(1.0);
        let db0 = (
            gauge!(KEYS, "db" => "db0"),
            gauge!(EXPIRING_KEYS, "db" => "db0"),
        );
        db0.0.set(0.0);
        db0.1.set(0.0);
        let mut keys_per_db = vec![None; shared.keyspace.db_count().max(1)];
        keys_per_db[0] = Some(db0);
        let mut errors = HashMap::new();
        errors.insert(
            "ERR".to_string(),
            counter0(counter!(ERRORS_TOTAL, "kind" => "ERR")),
        );
        let save = |outcome: &'static str, mode: &'static str| {
            counter0(counter!(RDB_SAVES_TOTAL, "outcome" => outcome, "mode" => mode))
        };
        Upkeep {
            connected_clients: gauge!(CONNECTED_CLIENTS),
            blocked_clients: gauge!(BLOCKED_CLIENTS),
            connections_received: counter0(counter!(CONNECTIONS_RECEIVED_TOTAL)),
            rejected_connections: counter0(counter!(REJECTED_CONNECTIONS_TOTAL)),
            net_input: counter0(counter!(NET_INPUT_BYTES_TOTAL)),
            net_output: counter0(counter!(NET_OUTPUT_BYTES_TOTAL)),
            slowlog_length: gauge!(SLOWLOG_LENGTH),
            expired_keys: counter0(counter!(EXPIRED_KEYS_TOTAL)),
            evicted_keys: counter0(counter!(EVICTED_KEYS_TOTAL)),
            keyspace_hits: counter0(counter!(KEYSPACE_HITS_TOTAL)),
            keyspace_misses: counter0(counter!(KEYSPACE_MISSES_TOTAL)),
            memory_used: gauge!(MEMORY_USED_BYTES),
            memory_rss: gauge!(MEMORY_RSS_BYTES),
            uptime: gauge!(UPTIME_SECONDS),
            keys_per_db,
            commands: (0..table().commands.len()).map(|_| None).collect(),
            errors,
            aof_enabled: gauge!(AOF_ENABLED),
            aof_current_size: gauge!(AOF_CURRENT_SIZE_BYTES),
            aof_base_size: gauge!(AOF_BASE_SIZE_BYTES),
            manifest_files: ["base", "incr", "history"]
                .map(|t| gauge!(AOF_MANIFEST_FILES, "type" => t)),
            rewrite_in_progress: gauge!(AOF_REWRITE_IN_PROGRESS),
            rewrites_ok: counter0(counter!(AOF_REWRITES_TOTAL, "outcome" => "ok")),
            rewrites_err: counter0(counter!(AOF_REWRITES_TOTAL, "outcome" => "err")),
            rewrite_duration: histogram!(AOF_REWRITE_DURATION_SECONDS),
            rewrites: JobTracker::default(),
            save_in_progress: gauge!(RDB_SAVE_IN_PROGRESS),
            saves: [
                [save("ok", "forkless"), save("ok", "fork")],
                [save("err", "forkless"), save("err", "fork")],
            ],
            save_duration: histogram!(RDB_SAVE_DURATION_SECONDS),
            saves_seen: JobTracker::default(),
            last_save_time: gauge!(RDB_LAST_SAVE_TIMESTAMP_SECONDS),
            changes_since_save: gauge!(RDB_CHANGES_SINCE_LAST_SAVE),
            fork_duration: histogram!(FORK_DURATION_SECONDS),
            forks_total: counter0(counter!(FORKS_TOTAL)),
            forks_seen: 0,
            cow_current: gauge!(COW_CURRENT_BYTES),
            cow_last_rdb: gauge!(COW_LAST_BYTES, "job" => "rdb"),
            cow_last_aof: gauge!(COW_LAST_BYTES, "job" => "aof"),
            forkless_current: gauge!(FORKLESS_EXTRA_CURRENT_BYTES),
            forkless_last: gauge!(FORKLESS_EXTRA_LAST_BYTES),
            loading: gauge!(LOADING),
            loading_progress: gauge!(LOADING_PROGRESS_RATIO),
        }
    }

    pub fn run_once(&mut self, shared: &Shared) {
        self.clients_and_stats(shared);
        self.keyspace(shared);
        self.commands_and_errors(shared);
        self.persistence(shared);
    }

    fn clients_and_stats(&mut self, shared: &Shared) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let s = &shared.stats;
        self.connected_clients
            .set(shared.connected_clients.load(Ordering::Relaxed) as f64);
        self.blocked_clients.set(shared.blocked.len() as f64);
        self.connections_received
            .absolute(get(&s.total_connections_received));
        self.rejected_connections
            .absolute(get(&s.rejected_connections));
        self.net_input.absolute(get(&s.total_net_input_bytes));
        self.net_output.absolute(get(&s.total_net_output_bytes));
        self.slowlog_length.set(shared.slowlog.len() as f64);
        self.expired_keys
            .absolute(shared.sum_thread_stat(|t| &t.expired_keys));
        self.evicted_keys.absolute(0);
        self.keyspace_hits
            .absolute(shared.sum_thread_stat(|t| &t.keyspace_hits));
        self.keyspace_misses
            .absolute(shared.sum_thread_stat(|t| &t.keyspace_misses));
        let m = crate::memory::snapshot();
        self.memory_used.set(m.allocated as f64);
        self.memory_rss.set(m.rss as f64);
        self.uptime.set(shared.started.elapsed().as_secs_f64());
    }

    fn keyspace(&mut self, shared: &Shared) {
        for (db, (keys, expires)) in shared.keyspace.db_sizes().into_iter().enumerate() {
            let Some(slot) = self.keys_per_db.get_mut(db) else {
                continue;
            };
            if slot.is_none() && keys == 0 {
                continue;
            }
            let (k, e) = slot.get_or_insert_with(|| {
                let label = format!("db{db}");
                (
                    metrics::gauge!(KEYS, "db" => label.clone()),
                    metrics::gauge!(EXPIRING_KEYS, "db" => label),
                )
            });
            k.set(keys as f64);
            e.set(expires as f64);
        }
    }

    fn commands_and_errors(&mut self, shared: &Shared) {
        let t = table();
        let mut calls = vec![0u64; t.commands.len()];
        let mut failed = vec![0u64; t.commands.len()];
        for per_thread in &shared.command_stats {
            for (i, s) in per_thread.lock().iter().enumerate() {
                if let (Some(c), Some(f)) = (calls.get_mut(i), failed.get_mut(i)) {
                    *c += s.calls;
                    *f += s.failed_calls;
                }
            }
        }
        for (i, slot) in self.commands.iter_mut().enumerate() {
            if slot.is_none() && calls[i] == 0 {
                continue;
            }
            let name = t.commands[i].name;
            let series = slot.get_or_insert_with(|| CommandSeries {
                calls: metrics::counter!(COMMANDS_TOTAL, "cmd" => name),
                failed: metrics::counter!(COMMANDS_FAILED_TOTAL, "cmd" => name),
            });
            series.calls.absolute(calls[i]);
            series.failed.absolute(failed[i]);
        }
        let errors: Vec<(String, u64)> = shared
            .error_stats
            .lock()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        for (kind, count) in errors {
            self.errors
                .entry(kind)
                .or_insert_with_key(|k| metrics::counter!(ERRORS_TOTAL, "kind" => k.clone()))
                .absolute(count);
        }
    }

    fn persistence(&mut self, shared: &Shared) {
        let mut text = String::new();
        crate::persist::info(shared, &mut text);
        let f = parse_info_fields(&text);
        let (mode, manifest) = {
            let c = shared.config.read();
            let mode = match c.snapshot_mode {
                SnapshotMode::Forkless => 0,
                SnapshotMode::Fork => 1,
            };
            let manifest = c
                .dir
                .join(&c.appenddirname)
                .join(format!("{}.manifest", c.appendfilename));
            (mode, manifest)
        };

        self.aof_enabled.set(num(&f, "aof_enabled"));
        self.aof_current_size.set(num(&f, "aof_current_size"));
        self.aof_base_size.set(num(&f, "aof_base_size"));
        let (base, incr, history) = read_manifest(&manifest);
        for (g, n) in self.manifest_files.iter().zip([base, incr, history]) {
            g.set(n as f64);
        }

        let rewriting = num(&f, "aof_rewrite_in_progress") as u64;
        self.rewrite_in_progress.set(rewriting as f64);
        let done = self
            .rewrites
            .newly_finished(num(&f, "aof_rewrites") as u64, rewriting);
        if done > 0 {
            if f.get("aof_last_bgrewrite_status") == Some(&"ok") {
                self.rewrites_ok.increment(done);
            } else {
                self.rewrites_err.increment(done);
            }
            let secs = num(&f, "aof_last_rewrite_time_sec");
            if secs >= 0.0 {
                self.rewrite_duration.record(secs);
            }
        }

        let saving = num(&f, "rdb_bgsave_in_progress") as u64;
        self.save_in_progress.set(saving as f64);
        let done = self
            .saves_seen
            .newly_finished(num(&f, "rdb_saves") as u64, saving);
        if done > 0 {
            let outcome = usize::from(f.get("rdb_last_bgsave_status") != Some(&"ok"));
            self.saves[outcome][mode].increment(done);
            let secs = num(&f, "rdb_last_bgsave_time_sec");
            if secs >= 0.0 {
                self.save_duration.record(secs);
            }
        }
        self.last_save_time.set(num(&f, "rdb_last_save_time"));
        self.changes_since_save
            .set(num(&f, "rdb_changes_since_last_save"));

        let (latest_fork_usec, forks) = crate::persist::rdb::fork_stats(shared);
        if forks > self.forks_seen {
            self.fork_duration.record(latest_fork_usec as f64 / 1e6);
        }
        self.forks_seen = forks;
        self.forks_total.absolute(forks);
        self.cow_current.set(num(&f, "current_cow_size"));
        self.cow_last_rdb.set(num(&f, "rdb_last_cow_size"));
        self.cow_last_aof.set(num(&f, "aof_last_cow_size"));
        self.forkless_current.set(num(&f, "forkless_extra_bytes"));
        self.forkless_last.set(num(&f, "forkless_extra_bytes_peak"));

        let loading = num(&f, "loading");
        self.loading.set(loading);
        self.loading_progress.set(if loading > 0.0 {
            num(&f, "loading_loaded_perc") / 100.0
        } else {
            1.0
        });
    }
}

fn read_manifest(path: &Path) -> (u64, u64, u64) {
    std::fs::read_to_string(path)
        .map(|t| count_manifest_files(&t))
        .unwrap_or((0, 0, 0))
}

/// Runs the upkeep now and then every `every` until shutdown.
/// Also drains the exporter's histogram samples into their buckets
/// (`run_upkeep`), which its own listener would otherwise do.
pub fn start(
    shared: &Arc<Shared>,
    every: Duration,
    exporter: metrics_exporter_prometheus::PrometheusHandle,
) -> anyhow::Result<()> {
    let shared = shared.clone();
    let mut upkeep = Upkeep::new(&shared);
    upkeep.run_once(&shared);
    std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            while !shared.is_shutting_down() {
                std::thread::sleep(every);
                upkeep.run_once(&shared);
                exporter.run_upkeep();
            }
        })
        .context("spawning the metrics upkeep thread")?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_lines() {
        let f =
            parse_info_fields("# Persistence\r\nloading:0\r\nrdb_last_bgsave_status:ok\r\n\r\n");
        assert_eq!(f.get("loading"), Some(&"0"));
        assert_eq!(f.get("rdb_last_bgsave_status"), Some(&"ok"));
        assert_eq!(num(&f, "missing"), 0.0);
    }

    #[test]
    fn counts_manifest_types() {
        let m = "file appendonly.aof.1.base.rdb seq 1 type b\n\
                 file appendonly.aof.1.incr.aof seq 1 type h\n\
                 file appendonly.aof.2.incr.aof seq 2 type i\n\
                 file appendonly.aof.3.incr.aof seq 3 type i\n";
        assert_eq!(count_manifest_files(m), (1, 2, 1));
        assert_eq!(count_manifest_files("garbage\n\ntype"), (0, 0, 0));
    }

    #[test]
    fn job_tracker_counts_finished_jobs() {
        let mut t = JobTracker::default();
        assert_eq!(t.newly_finished(0, 0), 0);
        assert_eq!(t.newly_finished(1, 1), 0); // running
        assert_eq!(t.newly_finished(1, 0), 1); // finished
        assert_eq!(t.newly_finished(1, 0), 0);
        assert_eq!(t.newly_finished(3, 0), 2); // two quick ones
        assert_eq!(t.newly_finished(0, 0), 0); // reset
        assert_eq!(t.newly_finished(1, 0), 1);
    }
}

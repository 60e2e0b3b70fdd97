//! INFO: Redis 7.0's sections and field names, so tools written for Redis
//! (redis-cli, redis_exporter, dashboards) parse ringkv's output unchanged.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use crate::commands::connection::REDIS_COMPAT_VERSION;
use crate::dispatch::{table, CmdCtx};
use crate::memory;

/// Sections printed by plain `INFO` / `INFO default`, in Redis's order.
const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

/// Which sections a list of INFO arguments selects, in output order.
pub fn selected_sections(args: &[&[u8]]) -> Vec<&'static str> {
    let mut wanted: Vec<String> = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    if wanted.is_empty() {
        wanted.push("default".into());
    }
    let order: Vec<&'static str> = DEFAULT_SECTIONS
        .iter()
        .take(6)
        .chain(
            [
                "cpu",
                "modules",
                "commandstats",
                "errorstats",
                "latencystats",
                "cluster",
                "keyspace",
            ]
            .iter(),
        )
        .copied()
        .collect();
    order
        .into_iter()
        .filter(|s| {
            wanted.iter().any(|w| match w.as_str() {
                "default" => DEFAULT_SECTIONS.contains(s),
                "all" | "everything" => true,
                w => w == *s,
            }) && (ALL_EXTRA.contains(s) || DEFAULT_SECTIONS.contains(s))
        })
        .collect()
}

pub fn render(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) -> String {
    let mut out = String::new();
    for (i, section) in selected_sections(args).into_iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        match section {
            "server" => server(ctx, &mut out),
            "clients" => clients(ctx, &mut out),
            "memory" => memory_section(ctx, &mut out),
            "persistence" => persistence(ctx, &mut out),
            "stats" => stats(ctx, &mut out),
            "replication" => replication(ctx, &mut out),
            "cpu" => cpu(&mut out),
            "modules" => out.push_str("# Modules\r\n"),
            "commandstats" => commandstats(ctx, &mut out),
            "errorstats" => errorstats(ctx, &mut out),
            "latencystats" => latencystats(ctx, &mut out),
            "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
            "keyspace" => keyspace(ctx, &mut out),
            _ => {}
        }
    }
    out
}

macro_rules! field {
    ($out:expr, $name:expr, $value:expr) => {
        let _ = write!($out, "{}:{}\r\n", $name, $value);
    };
}

fn server(ctx: &mut CmdCtx<'_>, out: &mut String) {
    let shared = ctx.shared;
    let settings = shared.config.read();
    let uptime = shared.started.elapsed().as_secs();
    let uname = uname();
    out.push_str("# Server\r\n");
    field!(out, "redis_version", REDIS_COMPAT_VERSION);
    field!(out, "redis_git_sha1", "00000000");
    field!(out, "redis_git_dirty", 0);
    field!(out, "redis_build_id", "0");
    field!(out, "redis_mode", "standalone");
    field!(out, "os", uname);
    field!(out, "arch_bits", 64);
    field!(out, "monotonic_clock", "POSIX clock_gettime");
    field!(out, "multiplexing_api", shared.backend.name());
    field!(out, "atomicvar_api", "c11-builtin");
    field!(out, "gcc_version", "0.0.0");
    field!(out, "process_id", std::process::id());
    field!(out, "process_supervised", "no");
    field!(out, "run_id", shared.run_id);
    field!(out, "tcp_port", settings.port);
    field!(out, "server_time_usec", ringkv_engine::clock::now_us());
    field!(out, "uptime_in_seconds", uptime);
    field!(out, "uptime_in_days", uptime / 86400);
    field!(out, "hz", settings.hz);
    field!(out, "configured_hz", settings.hz);
    field!(
        out,
        "lru_clock",
        (ringkv_engine::clock::now_ms() / 1000) & ((1 << 24) - 1)
    );
    field!(out, "executable", shared.executable);
    field!(
        out,
        "config_file",
        settings
            .config_file()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    );
    field!(out, "io_threads_active", (settings.io_threads > 1) as u8);
    field!(out, "ringkv_version", env!("CARGO_PKG_VERSION"));
    field!(out, "io_backend", shared.backend.name());
    field!(out, "io_threads", settings.io_threads);
}

fn uname() -> String {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("Linux {} {}", release.trim(), std::env::consts::ARCH)
}

fn clients(ctx: &mut CmdCtx<'_>, out: &mut String) {
    let shared = ctx.shared;
    out.push_str("# Clients\r\n");
    field!(
        out,
        "connected_clients",
        shared.connected_clients.load(Ordering::Relaxed)
    );
    field!(out, "cluster_connections", 0);
    field!(out, "maxclients", shared.config.read().maxclients);
    field!(out, "client_recent_max_input_buffer", 0);
    field!(out, "client_recent_max_output_buffer", 0);
    field!(out, "blocked_clients", shared.blocked.len());
    field!(out, "tracking_clients", 0);
    field!(out, "clients_in_timeout_table", shared.blocked.len());
}

pub fn human_bytes(n: u64) -> String {
    let n = n as f64;
    if n < 1024.0 {
        format!("{}B", n as u64)
    } else if n < 1024.0 * 1024.0 {
        format!("{:.2}K", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", n / (1024.0 * 1024.0))
    } else {
        format!("{:.2}G", n / (1024.0 * 1024.0 * 1024.0))
    }
}

fn memory_section(_ctx: &mut CmdCtx<'_>, out: &mut String) {
    let m = memory::snapshot();
    let peak = memory::peak(m.allocated);
    let total = memory::total_system_memory();
    let startup = memory::startup_allocated();
    out.push_str("# Memory\r\n");
    field!(out, "used_memory", m.allocated);
    field!(out, "used_memory_human", human_bytes(m.allocated));
    field!(out, "used_memory_rss", m.rss);
    field!(out, "used_memory_rss_human", human_bytes(m.rss));
    field!(out, "used_memory_peak", peak);
    field!(out, "used_memory_peak_human", human_bytes(peak));
    field!(
        out,
        "used_memory_peak_perc",
        format!("{:.2}%", m.allocated as f64 * 100.0 / peak.max(1) as f64)
    );
    field!(out, "used_memory_overhead", startup);
    field!(out, "used_memory_startup", startup);
    field!(
        out,
        "used_memory_dataset",
        m.allocated.saturating_sub(startup)
    );
    field!(
        out,
        "used_memory_dataset_perc",
        format!(
            "{:.2}%",
            m.allocated.saturating_sub(startup) as f64 * 100.0 / m.allocated.max(1) as f64
        )
    );
    field!(out, "allocator_allocated", m.allocated);
    field!(out, "allocator_active", m.active);
    field!(out, "allocator_resident", m.resident);
    field!(out, "total_system_memory", total);
    field!(out, "total_system_memory_human", human_bytes(total));
    field!(out, "used_memory_lua", 0);
    field!(out, "used_memory_vm_eval", 0);
    field!(out, "used_memory_lua_human", "0B");
    field!(out, "used_memory_scripts_eval", 0);
    field!(out, "number_of_cached_scripts", 0);
    field!(out, "number_of_functions", 0);
    field!(out, "number_of_libraries", 0);
    field!(out, "used_memory_vm_functions", 0);
    field!(out, "used_memory_vm_total", 0);
    field!(out, "used_memory_vm_total_human", "0B");
    field!(out, "used_memory_functions", 0);
    field!(out, "used_memory_scripts", 0);
    field!(out, "used_memory_scripts_human", "0B");
    field!(out, "maxmemory", 0);
    field!(out, "maxmemory_human", "0B");
    field!(out, "maxmemory_policy", "noeviction");
    field!(
        out,
        "allocator_frag_ratio",
        format!("{:.2}", m.active as f64 / m.allocated.max(1) as f64)
    );
    field!(
        out,
        "allocator_frag_bytes",
        m.active.saturating_sub(m.allocated)
    );
    field!(
        out,
        "allocator_rss_ratio",
        format!("{:.2}", m.resident as f64 / m.active.max(1) as f64)
    );
    field!(
        out,
        "allocator_rss_bytes",
        m.resident.saturating_sub(m.active)
    );
    field!(
        out,
        "rss_overhead_ratio",
        format!("{:.2}", m.rss as f64 / m.resident.max(1) as f64)
    );
    field!(out, "rss_overhead_bytes", m.rss as i64 - m.resident as i64);
    field!(
        out,
        "mem_fragmentation_ratio",
        format!("{:.2}", m.rss as f64 / m.allocated.max(1) as f64)
    );
    field!(
        out,
        "mem_fragmentation_bytes",
        m.rss as i64 - m.allocated as i64
    );
    field!(out, "mem_not_counted_for_evict", 0);
    field!(out, "mem_replication_backlog", 0);
    field!(out, "mem_total_replication_buffers", 0);
    field!(out, "mem_clients_slaves", 0);
    field!(out, "mem_clients_normal", 0);
    field!(out, "mem_cluster_links", 0);
    field!(out, "mem_aof_buffer", 0);
    field!(out, "mem_allocator", "jemalloc-5.3.0");
    field!(out, "active_defrag_running", 0);
    field!(out, "lazyfree_pending_objects", 0);
    field!(out, "lazyfreed_objects", 0);
}

fn persistence(ctx: &mut CmdCtx<'_>, out: &mut String) {
    crate::persist::info(ctx.shared, out);
}

fn stats(ctx: &mut CmdCtx<'_>, out: &mut String) {
    let shared = ctx.shared;
    let s = &shared.stats;
    let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    out.push_str("# Stats\r\n");
    field!(
        out,
        "total_connections_received",
        get(&s.total_connections_received)
    );
    field!(
        out,
        "total_commands_processed",
        shared.sum_thread_stat(|t| &t.commands_processed)
    );
    field!(
        out,
        "instantaneous_ops_per_sec",
        shared.instantaneous.ops_per_sec()
    );
    field!(out, "total_net_input_bytes", get(&s.total_net_input_bytes));
    field!(
        out,
        "total_net_output_bytes",
        get(&s.total_net_output_bytes)
    );
    field!(out, "total_net_repl_input_bytes", 0);
    field!(out, "total_net_repl_output_bytes", 0);
    let (in_kbps, out_kbps) = shared.instantaneous.kbps();
    field!(out, "instantaneous_input_kbps", format!("{in_kbps:.2}"));
    field!(out, "instantaneous_output_kbps", format!("{out_kbps:.2}"));
    field!(out, "instantaneous_input_repl_kbps", "0.00");
    field!(out, "instantaneous_output_repl_kbps", "0.00");
    field!(out, "rejected_connections", get(&s.rejected_connections));
    field!(out, "sync_full", 0);
    field!(out, "sync_partial_ok", 0);
    field!(out, "sync_partial_err", 0);
    field!(
        out,
        "expired_keys",
        shared.sum_thread_stat(|t| &t.expired_keys) + get(&s.active_expired_keys)
    );
    field!(out, "expired_stale_perc", "0.00");
    field!(out, "expired_time_cap_reached_count", 0);
    field!(out, "expire_cycle_cpu_milliseconds", 0);
    field!(out, "evicted_keys", 0);
    field!(out, "evicted_clients", 0);
    field!(out, "total_eviction_exceeded_time", 0);
    field!(out, "current_eviction_exceeded_time", 0);
    field!(
        out,
        "keyspace_hits",
        shared.sum_thread_stat(|t| &t.keyspace_hits)
    );
    field!(
        out,
        "keyspace_misses",
        shared.sum_thread_stat(|t| &t.keyspace_misses)
    );
    field!(out, "pubsub_channels", 0);
    field!(out, "pubsub_patterns", 0);
    field!(out, "pubsubshard_channels", 0);
    let (latest_fork_usec, total_forks) = crate::persist::rdb::fork_stats(shared);
    field!(out, "latest_fork_usec", latest_fork_usec);
    field!(out, "total_forks", total_forks);
    field!(out, "migrate_cached_sockets", 0);
    field!(out, "slave_expires_tracked_keys", 0);
    field!(out, "active_defrag_hits", 0);
    field!(out, "active_defrag_misses", 0);
    field!(out, "active_defrag_key_hits", 0);
    field!(out, "active_defrag_key_misses", 0);
    field!(out, "total_active_defrag_time", 0);
    field!(out, "current_active_defrag_time", 0);
    field!(out, "tracking_total_keys", 0);
    field!(out, "tracking_total_items", 0);
    field!(out, "tracking_total_prefixes", 0);
    field!(
        out,
        "unexpected_error_replies",
        get(&s.unexpected_error_replies)
    );
    field!(out, "total_error_replies", get(&s.total_error_replies));
    field!(out, "dump_payload_sanitizations", 0);
    field!(out, "total_reads_processed", 0);
    field!(out, "total_writes_processed", 0);
    field!(out, "io_threaded_reads_processed", 0);
    field!(out, "io_threaded_writes_processed", 0);
    field!(out, "reply_buffer_shrinks", 0);
    field!(out, "reply_buffer_expands", 0);
}

fn replication(ctx: &mut CmdCtx<'_>, out: &mut String) {
    out.push_str("# Replication\r\n");
    field!(out, "role", "master");
    field!(out, "connected_slaves", 0);
    field!(out, "master_failover_state", "no-failover");
    field!(out, "master_replid", ctx.shared.run_id);
    field!(
        out,
        "master_replid2",
        "0000000000000000000000000000000000000000"
    );
    field!(out, "master_repl_offset", 0);
    field!(out, "second_repl_offset", -1);
    field!(out, "repl_backlog_active", 0);
    field!(out, "repl_backlog_size", 1048576);
    field!(out, "repl_backlog_first_byte_offset", 0);
    field!(out, "repl_backlog_histlen", 0);
}

fn cpu(out: &mut String) {
    let (sys, user) = rusage(libc::RUSAGE_SELF);
    let (csys, cuser) = rusage(libc::RUSAGE_CHILDREN);
    let (tsys, tuser) = rusage(libc::RUSAGE_THREAD);
    out.push_str("# CPU\r\n");
    field!(out, "used_cpu_sys", format!("{sys:.6}"));
    field!(out, "used_cpu_user", format!("{user:.6}"));
    field!(out, "used_cpu_sys_children", format!("{csys:.6}"));
    field!(out, "used_cpu_user_children", format!("{cuser:.6}"));
    field!(out, "used_cpu_sys_main_thread", format!("{tsys:.6}"));
    field!(out, "used_cpu_user_main_thread", format!("{tuser:.6}"));
}

fn rusage(who: libc::c_int) -> (f64, f64) {
    memory::rusage_seconds(who)
}

fn commandstats(ctx: &mut CmdCtx<'_>, out: &mut String) {
    out.push_str("# Commandstats\r\n");
    let t = table();
    let mut totals = vec![crate::shared::CommandStat::default(); t.commands.len()];
    for per_thread in &ctx.shared.command_stats {
        for (i, s) in per_thread.lock().iter().enumerate() {
            if let Some(tot) = totals.get_mut(i) {
                tot.calls += s.calls;
                tot.usec += s.usec;
                tot.rejected_calls += s.rejected_calls;
                tot.failed_calls += s.failed_calls;
            }
        }
    }
    for (i, s) in totals.iter().enumerate() {
        if s.calls == 0 && s.rejected_calls == 0 && s.failed_calls == 0 {
            continue;
        }
        let per_call = if s.calls > 0 {
            s.usec as f64 / s.calls as f64
        } else {
            0.0
        };
        let _ = write!(
            out,
            "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={},failed_calls={}\r\n",
            t.commands[i].name, s.calls, s.usec, per_call, s.rejected_calls, s.failed_calls
        );
    }
}

/// Per-command latency percentiles from the HDR histograms, in Redis
/// 7.0's format: `latency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=3.007`.
fn latencystats(ctx: &mut CmdCtx<'_>, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    let percentiles = crate::shared::latency_info_percentiles(&ctx.shared.config.read());
    for (name, lat) in merged_latencies(ctx.shared) {
        let _ = write!(out, "latency_percentiles_usec_{name}:");
        for (i, p) in percentiles.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "p{}={:.3}",
                crate::latency::percentile_label(*p),
                lat.percentile_us(*p)
            );
        }
        out.push_str("\r\n");
    }
}

/// Each command's latency histogram, summed over the io-threads, for the
/// commands that were called (table order).
pub fn merged_latencies(
    shared: &crate::shared::Shared,
) -> Vec<(&'static str, crate::latency::CommandLatency)> {
    let t = table();
    let mut merged: Vec<Option<crate::latency::CommandLatency>> = vec![None; t.commands.len()];
    for per_thread in &shared.command_stats {
        for (i, s) in per_thread.lock().iter().enumerate() {
            if let (Some(lat), Some(slot)) = (&s.latency, merged.get_mut(i)) {
                slot.get_or_insert_with(Default::default).merge(lat);
            }
        }
    }
    merged
        .into_iter()
        .enumerate()
        .filter_map(|(i, l)| l.filter(|l| l.calls() > 0).map(|l| (t.commands[i].name, l)))
        .collect()
}

fn errorstats(ctx: &mut CmdCtx<'_>, out: &mut String) {
    out.push_str("# Errorstats\r\n");
    let stats = ctx.shared.error_stats.lock();
    let mut names: Vec<_> = stats.iter().collect();
    names.sort();
    for (name, count) in names {
        let _ = write!(out, "errorstat_{name}:count={count}\r\n");
    }
}

fn keyspace(ctx: &mut CmdCtx<'_>, out: &mut String) {
    out.push_str("# Keyspace\r\n");
    for (db, (keys, expires)) in ctx.db_sizes().into_iter().enumerate() {
        if keys > 0 {
            let _ = write!(out, "db{db}:keys={keys},expires={expires},avg_ttl=0\r\n");
        }
    }
}

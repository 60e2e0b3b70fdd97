//! Scenario `snapshot`: BGSAVE of a large data set while 50 clients SET at
//! a fixed rate, for ringkv `snapshot-mode forkless`, ringkv
//! `snapshot-mode fork` and redis-server. Measures the memory the snapshot
//! adds (the server and any child, sampled from /proc), SET latency before
//! and during the snapshot in the same run, and how long the snapshot took.

use std::time::{Duration, Instant};

use anyhow::bail;
use hdrhistogram::Histogram;

use super::{command, info_u64, load_strings, mib, read_latency_log, unix_us, Ctx, LoadgenRun};
use crate::charts::{self, Series};
use crate::info::info;
use crate::procmem::{MemSample, MemSampler};
use crate::report::{thousands, Table};
use crate::server::{Persistence, ServerKind, ServerProcess};

/// Bytes per value in the data set and in the SETs during the snapshot.
const VALUE_BYTES: usize = 1000;
/// Concurrent SET clients, as the issue specifies.
const CLIENTS: usize = 50;
/// How often memory is sampled.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(50);
/// Memory the target allows beyond 2% of the data set: the snapshot
/// writer's buffers, encoder tables and allocator slack.
const FIXED_BUFFERS_BYTES: f64 = 8.0 * 1024.0 * 1024.0;

/// What takes the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Snapshotter {
    RingkvForkless,
    RingkvFork,
    Redis,
}

impl Snapshotter {
    pub fn label(self) -> &'static str {
        match self {
            Snapshotter::RingkvForkless => "ringkv forkless",
            Snapshotter::RingkvFork => "ringkv fork",
            Snapshotter::Redis => "redis",
        }
    }

    fn kind(self) -> ServerKind {
        match self {
            Snapshotter::Redis => ServerKind::Redis,
            _ => ServerKind::Ringkv {
                backend: "uring".into(),
            },
        }
    }

    /// Starts the server with the data set loaded; returns it and the
    /// data set's bytes (keys + values).
    pub fn start_loaded(self, ctx: &Ctx, keys: u64) -> anyhow::Result<(ServerProcess, u64)> {
        let server = ServerProcess::start_in(
            &ctx.bins,
            &self.kind(),
            Persistence::Off,
            &ctx.server_cpus,
            &ctx.data_parent,
        )?;
        let mode: Option<&[u8]> = match self {
            Snapshotter::RingkvForkless => Some(b"forkless"),
            Snapshotter::RingkvFork => Some(b"fork"),
            Snapshotter::Redis => None,
        };
        if let Some(mode) = mode {
            command(server.port, &[b"CONFIG", b"SET", b"snapshot-mode", mode])?;
        }
        let dataset = load_strings(server.port, keys, VALUE_BYTES)?;
        Ok((server, dataset))
    }
}

/// Sizes and rates of one run of the scenario.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotSpec {
    pub keys: u64,
    pub rate: u64,
    /// Load before the snapshot (the latency baseline), after a 1 s warm-up.
    pub baseline: Duration,
}

impl SnapshotSpec {
    pub fn for_ctx(ctx: &Ctx) -> SnapshotSpec {
        if ctx.quick {
            // ~256 MB of values.
            SnapshotSpec {
                keys: 256_000,
                rate: 10_000,
                baseline: Duration::from_secs(3),
            }
        } else {
            // ~1 GB of values.
            SnapshotSpec {
                keys: 1_000_000,
                rate: 20_000,
                baseline: Duration::from_secs(5),
            }
        }
    }

    fn loadgen_args(&self, log: &std::path::Path) -> Vec<String> {
        vec![
            "-t".into(),
            "set".into(),
            "-c".into(),
            CLIENTS.to_string(),
            "-n".into(),
            (self.rate * 3600).to_string(),
            "-d".into(),
            VALUE_BYTES.to_string(),
            "-r".into(),
            self.keys.to_string(),
            "--rate".into(),
            self.rate.to_string(),
            "--latency-log".into(),
            log.display().to_string(),
        ]
    }
}

/// What one snapshot under load measured.
#[derive(Debug, Clone)]
pub struct SnapshotRun {
    pub who: Snapshotter,
    pub dataset_bytes: u64,
    pub baseline_pss_bytes: f64,
    pub baseline_rss_bytes: f64,
    pub peak_extra_pss_bytes: f64,
    pub peak_extra_rss_bytes: f64,
    pub duration_secs: f64,
    pub set_rps: f64,
    pub p99_before_ms: Option<f64>,
    pub p99_during_ms: Option<f64>,
    pub requests_during: u64,
    /// The server's own INFO persistence and stats figures after the save.
    pub info: std::collections::HashMap<String, String>,
    /// (seconds since BGSAVE, extra PSS MiB) for the chart.
    pub series: Vec<(f64, f64)>,
}

/// Polls `INFO persistence` until no background save runs; fails if the
/// last one failed.
pub fn wait_bgsave(port: u16, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let f = info(port, "persistence")?;
        if info_u64(&f, "rdb_bgsave_in_progress") == Some(0) {
            match f.get("rdb_last_bgsave_status").map(|s| s.trim()) {
                Some("ok") => return Ok(()),
                other => bail!("background save failed (rdb_last_bgsave_status {other:?})"),
            }
        }
        if Instant::now() >= deadline {
            bail!("background save still running after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn p99_ms(latencies_us: impl Iterator<Item = u64>) -> Option<f64> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
        .expect("constant histogram bounds are valid");
    for us in latencies_us {
        h.saturating_record(us.max(1));
    }
    (!h.is_empty()).then(|| h.value_at_quantile(0.99) as f64 / 1000.0)
}

fn median_of(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Loads the data set, runs the SET load, takes a BGSAVE in the middle.
pub fn run_one(ctx: &Ctx, who: Snapshotter, spec: &SnapshotSpec) -> anyhow::Result<SnapshotRun> {
    let (server, dataset_bytes) = who.start_loaded(ctx, spec.keys)?;
    let log_dir = tempfile::tempdir_in(&ctx.data_parent)?;
    let log = log_dir.path().join("latency.log");
    let sampler = MemSampler::start(server.pid(), SAMPLE_INTERVAL)?;
    let sampler_start_unix_us = unix_us();
    let load = LoadgenRun::start(ctx, server.port, &spec.loadgen_args(&log))?;
    std::thread::sleep(Duration::from_secs(1) + spec.baseline);
    let bgsave_unix_us = unix_us();
    let reply = command(server.port, &[b"BGSAVE"])?;
    if !reply.contains("started") {
        bail!("BGSAVE replied {reply:?}");
    }
    wait_bgsave(server.port, Duration::from_secs(600))?;
    let done_unix_us = unix_us();
    // Let a child's exit and the last writes settle into the samples.
    std::thread::sleep(Duration::from_millis(500));
    let row = load.finish()?;
    let samples = sampler.finish();
    let mut persistence = info(server.port, "persistence")?;
    // latest_fork_usec is in INFO stats.
    persistence.extend(info(server.port, "stats")?);
    drop(server);

    let secs_since_sampler = |unix: u128| (unix.saturating_sub(sampler_start_unix_us)) as f64 / 1e6;
    let bgsave_t = secs_since_sampler(bgsave_unix_us);
    let done_t = secs_since_sampler(done_unix_us);
    let baseline: Vec<&MemSample> = samples
        .iter()
        .filter(|s| s.t_secs >= 1.0 && s.t_secs < bgsave_t)
        .collect();
    if baseline.is_empty() {
        bail!("no memory samples before the snapshot");
    }
    let baseline_pss = median_of(
        &mut baseline
            .iter()
            .map(|s| s.pss_bytes as f64)
            .collect::<Vec<_>>(),
    );
    let baseline_rss = median_of(
        &mut baseline
            .iter()
            .map(|s| s.rss_bytes as f64)
            .collect::<Vec<_>>(),
    );
    let window = || {
        samples
            .iter()
            .filter(move |s| s.t_secs >= bgsave_t && s.t_secs <= done_t + 0.3)
    };
    let peak_pss = window().map(|s| s.pss_bytes).max().unwrap_or(0) as f64;
    let peak_rss = window().map(|s| s.rss_bytes).max().unwrap_or(0) as f64;

    let (log_start_us, requests) = read_latency_log(&log)?;
    let rel = |unix: u128| unix.saturating_sub(log_start_us) as u64;
    let (warm_end, bg_start, bg_end) = (1_000_000u64, rel(bgsave_unix_us), rel(done_unix_us));
    let p99_before = p99_ms(
        requests
            .iter()
            .filter(|(due, _)| *due >= warm_end && *due < bg_start)
            .map(|r| r.1),
    );
    let during: Vec<u64> = requests
        .iter()
        .filter(|(due, _)| *due >= bg_start && *due <= bg_end)
        .map(|r| r.1)
        .collect();
    let series = samples
        .iter()
        .map(|s| {
            (
                s.t_secs - bgsave_t,
                (s.pss_bytes as f64 - baseline_pss) / (1024.0 * 1024.0),
            )
        })
        .collect();
    Ok(SnapshotRun {
        who,
        dataset_bytes,
        baseline_pss_bytes: baseline_pss,
        baseline_rss_bytes: baseline_rss,
        peak_extra_pss_bytes: (peak_pss - baseline_pss).max(0.0),
        peak_extra_rss_bytes: (peak_rss - baseline_rss).max(0.0),
        duration_secs: (done_unix_us - bgsave_unix_us) as f64 / 1e6,
        set_rps: row.rps,
        p99_before_ms: p99_before,
        p99_during_ms: p99_ms(during.iter().copied()),
        requests_during: during.len() as u64,
        info: persistence,
        series,
    })
}

fn pass(ok: bool) -> &'static str {
    if ok {
        "pass"
    } else {
        "**fail**"
    }
}

/// The server's own account of the snapshot, from INFO persistence.
fn own_figures(run: &SnapshotRun) -> String {
    let f = &run.info;
    match run.who {
        Snapshotter::RingkvForkless => format!(
            "forkless_extra_bytes_peak {} MiB, forkless_early_slots {}, forkless_early_keys {}",
            info_u64(f, "forkless_extra_bytes_peak").map_or("-".into(), |b| mib(b as f64)),
            info_u64(f, "forkless_early_slots").map_or("-".into(), |n| n.to_string()),
            info_u64(f, "forkless_early_keys").map_or("-".into(), |n| n.to_string()),
        ),
        _ => format!(
            "rdb_last_cow_size {} MiB, latest_fork_usec {}",
            info_u64(f, "rdb_last_cow_size").map_or("-".into(), |b| mib(b as f64)),
            f.get("latest_fork_usec").map_or("-", |s| s.trim()),
        ),
    }
}

pub fn scenario(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let spec = SnapshotSpec::for_ctx(ctx);
    let mut table = Table::new(
        "Snapshot under write load: BGSAVE while 50 clients SET",
        &[
            "server",
            "data set MiB",
            "baseline PSS MiB",
            "peak extra MiB (PSS, server + child)",
            "peak extra MiB (RSS sum)",
            "extra / data set",
            "snapshot s",
            "SET/s",
            "p99 ms before",
            "p99 ms during",
            "p99 during/before",
            "server's own figures",
            "targets",
        ],
    );
    table.commands.push(format!(
        "servers: --save '' --appendonly no --dir <fresh dir under {}>; ringkv: CONFIG SET snapshot-mode forkless|fork",
        ctx.data_parent.display()
    ));
    table.commands.push(format!(
        "data set: {} × SET key:%012d <{VALUE_BYTES} random printable bytes> (pipelined, 1000 per batch)",
        spec.keys
    ));
    let example = LoadgenRun::display_for(ctx, &spec.loadgen_args(std::path::Path::new("LOG")));
    table.commands.push(example);
    table.commands.push(format!(
        "after 1 s warm-up + {} s: BGSAVE; poll INFO persistence rdb_bgsave_in_progress every 20 ms; memory of the server and its children from /proc every {} ms",
        spec.baseline.as_secs(),
        SAMPLE_INTERVAL.as_millis()
    ));
    let mut runs = Vec::new();
    for who in [
        Snapshotter::RingkvForkless,
        Snapshotter::RingkvFork,
        Snapshotter::Redis,
    ] {
        eprintln!("sidebyside: snapshot: {} ...", who.label());
        match run_one(ctx, who, &spec) {
            Ok(run) => {
                table.rows.push(row(&run));
                runs.push(run);
            }
            Err(e) => {
                let mut r = vec![
                    who.label().to_string(),
                    format!("not measured: {}", super::one_line(&format!("{e:#}"))),
                ];
                r.resize(table.header.len(), "-".into());
                table.rows.push(r);
            }
        }
    }
    table.note = format!(
        "One run per server (indicative). Extra memory is the peak of the memory samples from BGSAVE until 0.3 s after it finished, minus the median during the {} s before it (same load). PSS (`/proc/PID/smaps_rollup`) counts a page shared by parent and fork child once, so it is the physical memory the snapshot added; the RSS sum counts shared pages twice (a forked child shows up as a second copy of the data set). Latency: loadgen's per-request log (`--latency-log`), split by each request's due time: before = from 1 s after the load started to BGSAVE, during = BGSAVE until `rdb_bgsave_in_progress:0`; open loop, so a stall counts against every request due in it. Targets (ringkv forkless): peak extra memory ≤ 2% of the data set + {} MiB fixed buffers; p99 during ≤ 1.5× p99 before.",
        spec.baseline.as_secs(),
        mib(FIXED_BUFFERS_BYTES)
    );
    let series: Vec<Series> = runs
        .iter()
        .map(|r| Series {
            label: r.who.label().to_string(),
            points: r.series.clone(),
        })
        .collect();
    if !series.is_empty() {
        table.note.push_str(&ctx.chart(
            "snapshot-memory.png",
            "Memory above baseline during BGSAVE",
            |path| {
                charts::memory_over_time(
                    path,
                    &format!(
                        "Memory above baseline during BGSAVE ({} MiB data set, {} SET/s)",
                        mib(runs[0].dataset_bytes as f64),
                        thousands(spec.rate as f64)
                    ),
                    &series,
                )
            },
        ));
        table.note.push_str(
            &ctx.chart("snapshot-memory.csv", "the samples (CSV)", |path| {
                charts::write_series_csv(path, "seconds_since_bgsave,extra_pss_mib", &series)
            }),
        );
    }
    Ok(vec![table])
}

fn row(run: &SnapshotRun) -> Vec<String> {
    let ratio = match (run.p99_during_ms, run.p99_before_ms) {
        (Some(d), Some(b)) if b > 0.0 => Some(d / b),
        _ => None,
    };
    let extra_fraction = run.peak_extra_pss_bytes / run.dataset_bytes.max(1) as f64;
    let targets = match run.who {
        Snapshotter::RingkvForkless => format!(
            "memory {}; latency {}",
            pass(run.peak_extra_pss_bytes <= 0.02 * run.dataset_bytes as f64 + FIXED_BUFFERS_BYTES),
            ratio.map_or("-", |r| pass(r <= 1.5))
        ),
        _ => "-".into(),
    };
    let ms = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
    vec![
        run.who.label().to_string(),
        mib(run.dataset_bytes as f64),
        mib(run.baseline_pss_bytes),
        mib(run.peak_extra_pss_bytes),
        mib(run.peak_extra_rss_bytes),
        format!("{:.2}%", extra_fraction * 100.0),
        format!("{:.2}", run.duration_secs),
        thousands(run.set_rps),
        ms(run.p99_before_ms),
        format!(
            "{} ({} SETs)",
            ms(run.p99_during_ms),
            thousands(run.requests_during as f64)
        ),
        ratio.map_or("-".into(), |r| format!("{r:.2}")),
        own_figures(run),
        targets,
    ]
}

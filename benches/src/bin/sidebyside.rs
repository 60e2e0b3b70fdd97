//! The side-by-side harness: redis-server 7.0 and ringkv on the same
//! machine, each server pinned to one CPU and the load generator to
//! another, run alternately in pairs; reports the median of per-pair
//! ratios.
//!
//! ```text
//! cargo build --release -p ringkv-server -p ringkv-benches
//! target/release/sidebyside [--quick] [--pairs N] [--only strings,memory,...] [--write BENCHMARKS.md]
//!     [--section sidebyside] [--data-dir DIR]
//! ```
//!
//! Each scenario is a function from the run context to tables; add new
//! ones (persistence modes, RDB/AOF load, snapshot under load) to
//! `SCENARIOS`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Parser;
use ringkv_benches::charts::{self, FsyncModeRps};
use ringkv_benches::info::{info, AofCounters, AofDelta};
use ringkv_benches::load::bulk_load;
use ringkv_benches::machine::Machine;
use ringkv_benches::redis_benchmark::{parse_csv, BenchSpec, CsvRow};
use ringkv_benches::report::{splice_into_file, thousands, Table};
use ringkv_benches::scenario::fsync_fio::run_fsync_bench;
use ringkv_benches::scenario::{self, ChartDir, Ctx};
use ringkv_benches::server::{Binaries, Persistence, ServerKind, ServerProcess};
use ringkv_benches::stats::{median, median_ratio};

#[derive(Debug, Parser)]
#[command(about = "ringkv vs redis-server, side by side")]
struct Args {
    /// Fewer requests and pairs: finishes in minutes on 2 cores.
    #[arg(long)]
    quick: bool,
    /// Alternating run pairs per comparison (default 3 quick, 5 full).
    #[arg(long)]
    pairs: Option<usize>,
    /// Comma-separated scenarios (default: all). See --list.
    #[arg(long)]
    only: Option<String>,
    /// List the scenarios and exit.
    #[arg(long)]
    list: bool,
    /// The ringkv binary (default: the workspace's target/release/ringkv).
    #[arg(long)]
    ringkv: Option<PathBuf>,
    /// CPU list for the servers (`taskset -c`).
    #[arg(long, default_value = "0")]
    server_cpus: String,
    /// CPU list for the load generator.
    #[arg(long, default_value = "1")]
    load_cpus: String,
    /// Splice the report into this markdown file between
    /// `<!-- BEGIN sidebyside -->` markers instead of printing it.
    #[arg(long)]
    write: Option<PathBuf>,
    /// The marker name `--write` splices between (`<!-- BEGIN <section> -->`),
    /// so a partial rerun can keep the other runs' tables.
    #[arg(long, default_value = "sidebyside")]
    section: String,
    /// Servers' data directories are fresh temporary directories under
    /// this one (both servers on the same filesystem); fsync-bench runs
    /// here too.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Folder for the PNG charts (default with --write: `docs/bench` next
    /// to the markdown file; without --write: no charts).
    #[arg(long)]
    charts: Option<PathBuf>,
    /// A note printed above the tables (e.g. "noisy: other builds running").
    #[arg(long, default_value = "")]
    label: String,
}

type Scenario = fn(&Ctx) -> anyhow::Result<Vec<Table>>;

const SCENARIOS: &[(&str, &str, Scenario)] = &[
    (
        "strings",
        "SET/GET, 50 clients, 64-byte values, random keys, pipeline 1 and 16",
        strings,
    ),
    (
        "backends",
        "ringkv io-backend uring vs epoll, same workload",
        backends,
    ),
    (
        "collections",
        "redis-benchmark -t lpush,lpop,sadd,hset,zadd,lrange_100",
        collections,
    ),
    (
        "persistence",
        "SET under appendonly yes, appendfsync always/everysec/no, pipeline 1 and 16; group-commit counters; disk fsync rate",
        persistence,
    ),
    ("memory", "RSS after 1,000,000 string keys", memory_strings),
    (
        "memory-collections",
        "RSS after hashes, sets, sorted sets, lists",
        memory_collections,
    ),
    (
        "loadgen",
        "our loadgen vs redis-benchmark against redis-server",
        loadgen_vs_redis_benchmark,
    ),
    (
        "rdb",
        "SAVE time, RDB size, startup load time: 2,000,000 mixed keys (quick 300,000)",
        scenario::rdb::rdb,
    ),
    (
        "aof-load",
        "startup replay of a RESP AOF: 5,000,000 commands (quick 1,000,000)",
        scenario::aof_load::aof_load,
    ),
    (
        "metrics",
        "ringkv /metrics on (scraped every second) vs off: SET/GET, pipeline 1 and 16",
        scenario::metrics::metrics,
    ),
    (
        "always-cdf",
        "SET latency CDF under appendfsync always (loadgen HDR histogram), chart",
        scenario::latency_cdf::scenario,
    ),
    (
        "snapshot",
        "BGSAVE of ~1 GB (quick ~256 MB) under 50 SET clients: forkless, fork, redis; memory, p99, duration",
        scenario::snapshot::scenario,
    ),
    (
        "fsync-fio",
        "ringkv fsync-bench vs fio on the same directory: 4 KiB writes with fsync / fdatasync",
        scenario::fsync_fio::fsync_fio,
    ),
    (
        "cow-curve",
        "copy-on-write bytes / data set against SET rate during a forked BGSAVE (ringkv fork, redis)",
        scenario::cow_curve::scenario,
    ),
];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.list {
        for (name, what, _) in SCENARIOS {
            println!("{name:20} {what}");
        }
        return Ok(());
    }
    let selected: Vec<&str> = match &args.only {
        Some(list) => list.split(',').map(str::trim).collect(),
        None => SCENARIOS.iter().map(|s| s.0).collect(),
    };
    for s in &selected {
        if !SCENARIOS.iter().any(|(n, _, _)| n == s) {
            bail!("unknown scenario {s} (see --list)");
        }
    }
    let loadgen = std::env::current_exe()?
        .parent()
        .context("no executable directory")?
        .join("loadgen");
    let data_root = match &args.data_dir {
        Some(d) => d.clone(),
        None => std::env::temp_dir(),
    };
    let data_parent = tempfile::Builder::new()
        .prefix("sidebyside-")
        .tempdir_in(&data_root)
        .with_context(|| format!("creating a data directory under {}", data_root.display()))?;
    let ctx = Ctx {
        bins: Binaries::locate(args.ringkv.clone())?,
        quick: args.quick,
        pairs: args.pairs.unwrap_or(if args.quick { 3 } else { 5 }).max(1),
        server_cpus: args.server_cpus.clone(),
        load_cpus: args.load_cpus.clone(),
        loadgen,
        data_parent: data_parent.path().to_path_buf(),
        charts: chart_dir(&args),
    };
    let machine = Machine::describe(&ctx.data_parent);
    let loadavg_before = loadavg();
    let started = Instant::now();
    // Quoted where a shell would need it, so the line can be pasted back.
    let invocation: Vec<String> = std::env::args()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'', '|', ';', '&']) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a
            }
        })
        .collect();
    let mut out = format!(
        "### Side by side ({})\n\n{}\n\nServers pinned with `taskset -c {}` (ringkv with `--io-threads 1`), load generator with `taskset -c {}`, persistence off unless the table says otherwise; data directories under `{}`. \
         {} alternating pairs per comparison (order swapped every pair); \"ratio\" is the median of per-pair ratios.\n\n\
         Produced by `{}`.\n\n",
        if ctx.quick { "quick" } else { "full" },
        machine.markdown(),
        ctx.server_cpus,
        ctx.load_cpus,
        data_root.display(),
        ctx.pairs,
        invocation.join(" ")
    );
    if !args.label.is_empty() {
        out.push_str(&format!("**{}**\n\n", args.label));
    }
    for (name, _, scenario) in SCENARIOS.iter().filter(|s| selected.contains(&s.0)) {
        eprintln!("sidebyside: {name} ...");
        let t0 = Instant::now();
        // A scenario that cannot run (e.g. a command ringkv lacks yet) is
        // reported in place; the others still run.
        match scenario(&ctx) {
            Ok(tables) => tables.iter().for_each(|t| out.push_str(&t.markdown())),
            Err(e) => {
                eprintln!("sidebyside: {name} failed: {e:#}");
                out.push_str(&format!(
                    "#### {name}\n\nNot measured: {}\n\n",
                    one_line(&format!("{e:#}"))
                ));
            }
        }
        eprintln!(
            "sidebyside: {name} took {:.0} s",
            t0.elapsed().as_secs_f64()
        );
    }
    out.push_str(&format!(
        "Total harness time: {:.0} s. Load average (`/proc/loadavg`) before: {loadavg_before}; after: {}.\n\n",
        started.elapsed().as_secs_f64(),
        loadavg()
    ));
    match &args.write {
        Some(path) => {
            splice_into_file(path, &args.section, &out)?;
            eprintln!("sidebyside: wrote {}", path.display());
        }
        None => print!("{out}"),
    }
    Ok(())
}

/// Where charts go: `--charts`, else `docs/bench` beside the `--write`
/// file; linked relative to the markdown file.
fn chart_dir(args: &Args) -> Option<ChartDir> {
    let md_dir = args
        .write
        .as_ref()
        .map(|w| w.parent().unwrap_or(std::path::Path::new("")).to_path_buf());
    let dir = match (&args.charts, &md_dir) {
        (Some(c), _) => c.clone(),
        (None, Some(m)) => m.join("docs/bench"),
        (None, None) => return None,
    };
    let link_prefix = md_dir
        .as_ref()
        .and_then(|m| dir.strip_prefix(m).ok())
        .unwrap_or(&dir)
        .display()
        .to_string();
    Some(ChartDir { dir, link_prefix })
}

/// The first three fields of /proc/loadavg (1, 5, 15 minutes).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "unknown".into(),
        |s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// An error squeezed onto one markdown table line.
fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = s.replace('|', "/");
    match s.char_indices().nth(160) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

fn ringkv(backend: &str) -> ServerKind {
    ServerKind::Ringkv {
        backend: backend.to_string(),
    }
}

/// Per-test results of one server over all pairs.
#[derive(Default)]
struct Series {
    rps: Vec<f64>,
    p50_ms: Vec<f64>,
    p99_ms: Vec<f64>,
    /// Group-commit counters over each run (ringkv with AOF only).
    aof: Vec<AofDelta>,
    /// Each run's fsyncs per second of benchmark time (ringkv with AOF).
    fsyncs_per_sec: Vec<f64>,
}

impl Series {
    /// Median over the runs of the mean records per group commit.
    fn median_group_records(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .aof
            .iter()
            .filter_map(|d| d.mean_group_records)
            .collect();
        median(&v)
    }

    /// Median over the runs of the mean fsync latency, µs.
    fn median_fsync_us(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .aof
            .iter()
            .filter_map(|d| d.fsync_mean_latency_us)
            .collect();
        median(&v)
    }
}

/// One side of a comparison: a server and its persistence.
#[derive(Debug, Clone, PartialEq)]
struct Side {
    kind: ServerKind,
    persistence: Persistence,
}

impl Side {
    fn off(kind: &ServerKind) -> Side {
        Side {
            kind: kind.clone(),
            persistence: Persistence::Off,
        }
    }
}

/// Runs `spec` against `a` and `b` alternately (`ctx.pairs` pairs, a fresh
/// server per run) and returns, per test name in order, the two series.
fn compare(
    ctx: &Ctx,
    a: &ServerKind,
    b: &ServerKind,
    spec: &BenchSpec,
) -> anyhow::Result<Vec<(String, Series, Series)>> {
    compare_sides(ctx, &Side::off(a), &Side::off(b), spec)
}

/// [`compare`] with each side's persistence chosen; for a side whose
/// server reports group-commit counters, also records their change over
/// each run (with one test per spec, the run is `requests / rps` long).
fn compare_sides(
    ctx: &Ctx,
    a: &Side,
    b: &Side,
    spec: &BenchSpec,
) -> anyhow::Result<Vec<(String, Series, Series)>> {
    let mut results: Vec<(String, Series, Series)> = Vec::new();
    for pair in 0..ctx.pairs {
        let order = if pair % 2 == 0 { [a, b] } else { [b, a] };
        for side in order {
            let server = ServerProcess::start_in(
                &ctx.bins,
                &side.kind,
                side.persistence,
                &ctx.server_cpus,
                &ctx.data_parent,
            )?;
            let counters = || -> anyhow::Result<Option<AofCounters>> {
                if side.persistence == Persistence::Off {
                    return Ok(None);
                }
                Ok(AofCounters::from_info(&info(server.port, "persistence")?))
            };
            let before = counters()?;
            let rows = spec.run(server.port, &ctx.load_cpus)?;
            let after = counters()?;
            drop(server);
            let single_test = rows.len() == 1;
            for row in rows {
                let idx = match results.iter().position(|r| r.0 == row.test) {
                    Some(i) => i,
                    None => {
                        results.push((row.test.clone(), Series::default(), Series::default()));
                        results.len() - 1
                    }
                };
                let entry = &mut results[idx];
                let series = if side == a {
                    &mut entry.1
                } else {
                    &mut entry.2
                };
                series.rps.push(row.rps);
                series.p50_ms.push(row.p50_ms);
                series.p99_ms.push(row.p99_ms);
                if let (Some(before), Some(after), true) = (before, after, single_test) {
                    let delta = after.since(&before);
                    if row.rps > 0.0 {
                        let run_secs = spec.requests as f64 / row.rps;
                        series.fsyncs_per_sec.push(delta.fsyncs as f64 / run_secs);
                    }
                    series.aof.push(delta);
                }
            }
        }
    }
    Ok(results)
}

/// The five cells every comparison row starts with: median req/s of each
/// side, the median per-pair ratio, and each side's median p50/p99.
fn rps_and_latency_cells(a: &Series, b: &Series) -> [String; 5] {
    let latency = |s: &Series| {
        format!(
            "{}/{}",
            fmt_ms(median(&s.p50_ms)),
            fmt_ms(median(&s.p99_ms))
        )
    };
    [
        median(&a.rps).map_or("-".into(), thousands),
        median(&b.rps).map_or("-".into(), thousands),
        fmt_ratio(median_ratio(&a.rps, &b.rps)),
        latency(a),
        latency(b),
    ]
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.3}"))
}

fn fmt_ratio(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

/// A throughput/latency table comparing `a` to `b` over `specs`.
fn throughput_table(
    ctx: &Ctx,
    title: &str,
    a: &ServerKind,
    b: &ServerKind,
    specs: &[BenchSpec],
) -> anyhow::Result<Table> {
    let (la, lb) = (a.label(), b.label());
    let header = [
        "test".to_string(),
        "pipeline".to_string(),
        format!("{la} req/s"),
        format!("{lb} req/s"),
        format!("ratio {la}/{lb}"),
        format!("{la} p50/p99 ms"),
        format!("{lb} p50/p99 ms"),
        "p99 ratio".to_string(),
    ];
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(title, &header);
    for spec in specs {
        table.commands.push(spec.display(&ctx.load_cpus));
        let results = match compare(ctx, a, b, spec) {
            Ok(r) => r,
            Err(e) => {
                let mut row = vec![spec.tests.to_uppercase(), spec.pipeline.to_string()];
                row.push(format!("not measured: {}", one_line(&format!("{e:#}"))));
                row.resize(header.len(), "-".into());
                table.rows.push(row);
                continue;
            }
        };
        for (test, sa, sb) in results {
            let mut row = vec![test, spec.pipeline.to_string()];
            row.extend(rps_and_latency_cells(&sa, &sb));
            row.push(fmt_ratio(median_ratio(&sa.p99_ms, &sb.p99_ms)));
            table.rows.push(row);
        }
    }
    table.note = format!(
        "req/s and latencies are medians over {} runs each; ratios are medians of per-pair ratios (throughput: higher is better for {la}; p99: lower is better).",
        ctx.pairs
    );
    Ok(table)
}

fn strings(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    // redis-benchmark tops out on its one core (pipeline 16 above all), so
    // the same rows are also driven by our io_uring load generator.
    let with_loadgen: Vec<BenchSpec> = scenario::string_specs(ctx, "set,get")
        .into_iter()
        .map(|spec| BenchSpec {
            loadgen: Some(ctx.loadgen.clone()),
            ..spec
        })
        .collect();
    Ok(vec![
        throughput_table(
            ctx,
            "Strings: SET and GET (ringkv uring vs redis)",
            &ringkv("uring"),
            &ServerKind::Redis,
            &scenario::string_specs(ctx, "set,get"),
        )?,
        throughput_table(
            ctx,
            "Strings: SET and GET driven by our loadgen (ringkv uring vs redis)",
            &ringkv("uring"),
            &ServerKind::Redis,
            &with_loadgen,
        )?,
    ])
}

fn backends(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    Ok(vec![throughput_table(
        ctx,
        "ringkv network backends: io_uring vs epoll",
        &ringkv("uring"),
        &ringkv("epoll"),
        &scenario::string_specs(ctx, "set,get"),
    )?])
}

fn collections(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let requests = if ctx.quick { 20_000 } else { 100_000 };
    // One redis-benchmark run per test, so a command ringkv lacks costs
    // one row, not the table.
    // Quick mode keeps pipeline 16 only: six tests x two servers x pairs
    // is the slowest scenario.
    let pipelines: &[u32] = if ctx.quick { &[16] } else { &[1, 16] };
    let specs: Vec<BenchSpec> = pipelines
        .iter()
        .copied()
        .flat_map(|pipeline| {
            ["lpush", "lpop", "sadd", "hset", "zadd", "lrange_100"].map(|t| BenchSpec {
                tests: t.into(),
                clients: 50,
                requests: requests * u64::from(pipeline).min(4),
                data_size: 64,
                keyspace: 100_000,
                pipeline,
                loadgen: None,
            })
        })
        .collect();
    // redis-benchmark's core is the limit at pipeline 1 (every test tops
    // out near the same rate for both servers): the same tests again from
    // our loadgen, which drives redis-server harder. LPOP follows LPUSH in
    // one run so it pops real elements.
    let loadgen_specs: Vec<BenchSpec> = [1u32, 16]
        .into_iter()
        .flat_map(|pipeline| {
            ["lpush,lpop", "sadd", "hset", "zadd", "lpush,lrange_100"].map(|t| BenchSpec {
                tests: t.into(),
                clients: 50,
                requests: requests * u64::from(pipeline).min(4),
                data_size: 64,
                keyspace: 100_000,
                pipeline,
                loadgen: Some(ctx.loadgen.clone()),
            })
        })
        .collect();
    Ok(vec![
        throughput_table(
            ctx,
            "Collections (issue 3): ringkv uring vs redis",
            &ringkv("uring"),
            &ServerKind::Redis,
            &specs,
        )?,
        throughput_table(
            ctx,
            "Collections driven by our loadgen: ringkv uring vs redis",
            &ringkv("uring"),
            &ServerKind::Redis,
            &loadgen_specs,
        )?,
    ])
}

type Dataset = (
    &'static str,
    Box<dyn Fn() -> Box<dyn Iterator<Item = Vec<Vec<u8>>>>>,
);

/// RSS of each server, empty and after loading each data set (one fresh
/// server per data set).
fn memory_table(ctx: &Ctx, title: &str, datasets: Vec<Dataset>) -> anyhow::Result<Table> {
    let a = ringkv("uring");
    let b = ServerKind::Redis;
    let mut table = Table::new(
        title,
        &[
            "data set",
            "ringkv RSS MiB",
            "redis RSS MiB",
            "ratio ringkv/redis",
            "ringkv growth MiB",
            "redis growth MiB",
            "growth ratio",
        ],
    );
    let mib = |b: u64| format!("{:.1}", b as f64 / (1 << 20) as f64);
    for (name, make) in datasets {
        let mut measured = Vec::new();
        for kind in [&a, &b] {
            let server = ServerProcess::start(&ctx.bins, kind, Persistence::Off, &ctx.server_cpus)?;
            let empty = server.rss_bytes()?;
            match bulk_load(server.port, make()) {
                Ok(_) => measured.push((empty, server.rss_bytes()?)),
                Err(e) => {
                    table.rows.push(vec![
                        name.to_string(),
                        format!(
                            "{}: not measured: {}",
                            kind.label(),
                            one_line(&format!("{e:#}"))
                        ),
                    ]);
                    break;
                }
            }
        }
        if measured.len() < 2 {
            if let Some(row) = table.rows.last_mut() {
                row.resize(7, "-".into());
            }
            continue;
        }
        let (ra, rb) = (measured[0], measured[1]);
        let growth = |(e, f): (u64, u64)| f.saturating_sub(e);
        table.rows.push(vec![
            name.to_string(),
            mib(ra.1),
            mib(rb.1),
            format!("{:.2}", ra.1 as f64 / rb.1.max(1) as f64),
            mib(growth(ra)),
            mib(growth(rb)),
            format!("{:.2}", growth(ra) as f64 / growth(rb).max(1) as f64),
        ]);
    }
    table.commands.push(
        "loaded with ringkv-benches' pipelined loader (1,000 commands per round trip); RSS = VmRSS from /proc/PID/status; growth = RSS after load - RSS of the empty server".into(),
    );
    Ok(table)
}

fn memory_strings(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let datasets: Vec<Dataset> = vec![(
        "1,000,000 x SET key:N <16-byte value>",
        Box::new(|| {
            Box::new((0..1_000_000u64).map(|i| {
                vec![
                    b"SET".to_vec(),
                    format!("key:{i}").into_bytes(),
                    format!("v{i:015}").into_bytes(),
                ]
            }))
        }),
    )];
    Ok(vec![memory_table(ctx, "Memory: string keys", datasets)?])
}

fn memory_collections(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let datasets: Vec<Dataset> = vec![
        (
            "100,000 hashes x 10 fields (HSET h:N fI vI ...)",
            Box::new(|| {
                Box::new((0..100_000u64).map(|i| {
                    let mut c = vec![b"HSET".to_vec(), format!("h:{i}").into_bytes()];
                    for f in 0..10 {
                        c.push(format!("field{f}").into_bytes());
                        c.push(format!("value{i}-{f}").into_bytes());
                    }
                    c
                }))
            }),
        ),
        (
            "100,000 sets x 10 integers (SADD s:N ...)",
            Box::new(|| {
                Box::new((0..100_000u64).map(|i| {
                    let mut c = vec![b"SADD".to_vec(), format!("s:{i}").into_bytes()];
                    c.extend((0..10).map(|m| (i * 10 + m).to_string().into_bytes()));
                    c
                }))
            }),
        ),
        (
            "100,000 sorted sets x 10 members (ZADD z:N ...)",
            Box::new(|| {
                Box::new((0..100_000u64).map(|i| {
                    let mut c = vec![b"ZADD".to_vec(), format!("z:{i}").into_bytes()];
                    for m in 0..10 {
                        c.push(m.to_string().into_bytes());
                        c.push(format!("member{m}").into_bytes());
                    }
                    c
                }))
            }),
        ),
        (
            "10,000 lists x 1,000 elements (RPUSH l:N ... in 10 x 100)",
            Box::new(|| {
                Box::new((0..100_000u64).map(|i| {
                    let mut c = vec![b"RPUSH".to_vec(), format!("l:{}", i / 10).into_bytes()];
                    c.extend(
                        (0..100).map(|e| format!("element{}", (i % 10) * 100 + e).into_bytes()),
                    );
                    c
                }))
            }),
        ),
    ];
    Ok(vec![memory_table(ctx, "Memory: collections", datasets)?])
}

/// Runs our load generator with the same shape as `spec`.
fn run_loadgen(ctx: &Ctx, port: u16, spec: &BenchSpec) -> anyhow::Result<Vec<CsvRow>> {
    let out = Command::new("taskset")
        .arg("-c")
        .arg(&ctx.load_cpus)
        .arg(&ctx.loadgen)
        .args(loadgen_args(spec, port))
        .output()
        .with_context(|| format!("running {}", ctx.loadgen.display()))?;
    if !out.status.success() {
        bail!("loadgen failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    parse_csv(&String::from_utf8_lossy(&out.stdout))
}

fn loadgen_args(spec: &BenchSpec, port: u16) -> Vec<String> {
    vec![
        "--port".into(),
        port.to_string(),
        "-t".into(),
        spec.tests.clone(),
        "-c".into(),
        spec.clients.to_string(),
        "-n".into(),
        spec.requests.to_string(),
        "-d".into(),
        spec.data_size.to_string(),
        "-r".into(),
        spec.keyspace.to_string(),
        "-P".into(),
        spec.pipeline.to_string(),
    ]
}

fn loadgen_vs_redis_benchmark(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    if !ctx.loadgen.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release -p ringkv-benches`",
            ctx.loadgen.display()
        );
    }
    let mut table = Table::new(
        "Load generators against redis-server: ringkv-benches loadgen vs redis-benchmark",
        &[
            "test",
            "pipeline",
            "loadgen req/s",
            "redis-benchmark req/s",
            "ratio loadgen/redis-benchmark",
            "loadgen p50/p99 ms",
            "redis-benchmark p50/p99 ms",
        ],
    );
    for spec in scenario::string_specs(ctx, "set,get") {
        table.commands.push(spec.display(&ctx.load_cpus));
        table.commands.push(format!(
            "taskset -c {} loadgen {}",
            ctx.load_cpus,
            loadgen_args(&spec, 0)
                .join(" ")
                .replace("--port 0", "--port $PORT")
        ));
        let mut per_test: Vec<(String, Series, Series)> = Vec::new();
        for pair in 0..ctx.pairs {
            for ours in if pair % 2 == 0 {
                [true, false]
            } else {
                [false, true]
            } {
                let server = ServerProcess::start(
                    &ctx.bins,
                    &ServerKind::Redis,
                    Persistence::Off,
                    &ctx.server_cpus,
                )?;
                let rows = if ours {
                    run_loadgen(ctx, server.port, &spec)?
                } else {
                    spec.run(server.port, &ctx.load_cpus)?
                };
                for row in rows {
                    let i = match per_test.iter().position(|r| r.0 == row.test) {
                        Some(i) => i,
                        None => {
                            per_test.push((row.test.clone(), Series::default(), Series::default()));
                            per_test.len() - 1
                        }
                    };
                    let s = if ours {
                        &mut per_test[i].1
                    } else {
                        &mut per_test[i].2
                    };
                    s.rps.push(row.rps);
                    s.p50_ms.push(row.p50_ms);
                    s.p99_ms.push(row.p99_ms);
                }
            }
        }
        for (test, a, b) in per_test {
            table.rows.push(vec![
                test,
                spec.pipeline.to_string(),
                median(&a.rps).map_or("-".into(), thousands),
                median(&b.rps).map_or("-".into(), thousands),
                fmt_ratio(median_ratio(&a.rps, &b.rps)),
                format!(
                    "{}/{}",
                    fmt_ms(median(&a.p50_ms)),
                    fmt_ms(median(&a.p99_ms))
                ),
                format!(
                    "{}/{}",
                    fmt_ms(median(&b.p50_ms)),
                    fmt_ms(median(&b.p99_ms))
                ),
            ]);
        }
    }
    table.note = "Both generators run single-threaded on the load CPU against the same redis-server; a ratio >= 1 means loadgen pushes redis at least as hard.".into();
    Ok(vec![table])
}

/// The issue's targets for ringkv / redis under each appendfsync policy:
/// (policy, pipeline) -> minimum req/s ratio, and whether ringkv's p99
/// must also be at most redis's.
fn persistence_target(fsync: &str, pipeline: u32) -> (f64, bool) {
    match (fsync, pipeline) {
        ("always", 1) => (1.7, true),
        ("always", _) => (2.0, false),
        _ => (1.0, false),
    }
}

fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

fn persistence_specs(ctx: &Ctx) -> Vec<BenchSpec> {
    let requests = if ctx.quick {
        (30_000, 150_000)
    } else {
        (100_000, 500_000)
    };
    scenario::pipeline_specs("set", requests)
}

fn persistence(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let ringkv_kind = ringkv("uring");
    let mut vs_redis = Table::new(
        "Persistence: SET under appendonly yes (ringkv uring vs redis)",
        &[
            "appendfsync",
            "pipeline",
            "ringkv req/s",
            "redis req/s",
            "ratio ringkv/redis",
            "ringkv p50/p99 ms",
            "redis p50/p99 ms",
            "p99 ratio",
            "ringkv fsyncs/s",
            "ringkv mean group (records)",
            "ringkv mean fsync µs",
            "target",
        ],
    );
    let specs = persistence_specs(ctx);
    vs_redis.commands.push(format!(
        "both servers: --appendonly yes --appendfsync <always|everysec|no> --save '' --dir <fresh dir under {}>",
        ctx.data_parent.display()
    ));
    for spec in &specs {
        vs_redis.commands.push(spec.display(&ctx.load_cpus));
    }
    let mut ringkv_always_p1: Option<f64> = None;
    let mut chart_rows: Vec<FsyncModeRps> = Vec::new();
    for fsync in ["always", "everysec", "no"] {
        for spec in &specs {
            let a = Side {
                kind: ringkv_kind.clone(),
                persistence: Persistence::Aof(fsync),
            };
            let b = Side {
                kind: ServerKind::Redis,
                persistence: Persistence::Aof(fsync),
            };
            let results = match compare_sides(ctx, &a, &b, spec) {
                Ok(r) => r,
                Err(e) => {
                    let mut row = vec![fsync.to_string(), spec.pipeline.to_string()];
                    row.push(format!("not measured: {}", one_line(&format!("{e:#}"))));
                    row.resize(vs_redis.header.len(), "-".into());
                    vs_redis.rows.push(row);
                    continue;
                }
            };
            for (_, sa, sb) in results {
                let ratio = median_ratio(&sa.rps, &sb.rps);
                let p99_ratio = median_ratio(&sa.p99_ms, &sb.p99_ms);
                let (min_ratio, p99_bound) = persistence_target(fsync, spec.pipeline);
                let target = match ratio {
                    Some(r) => {
                        let ok =
                            r >= min_ratio && (!p99_bound || p99_ratio.is_some_and(|p| p <= 1.0));
                        format!(
                            "≥ {min_ratio:.1}×{}: {}",
                            if p99_bound { ", p99 ≤ redis" } else { "" },
                            met(ok)
                        )
                    }
                    None => "-".into(),
                };
                if fsync == "always" && spec.pipeline == 1 {
                    ringkv_always_p1 = median(&sa.rps);
                }
                if let (Some(ringkv_rps), Some(redis_rps)) = (median(&sa.rps), median(&sb.rps)) {
                    chart_rows.push(FsyncModeRps {
                        appendfsync: fsync.to_string(),
                        pipeline: spec.pipeline,
                        ringkv_rps,
                        redis_rps,
                    });
                }
                let mut row = vec![fsync.to_string(), spec.pipeline.to_string()];
                row.extend(rps_and_latency_cells(&sa, &sb));
                row.extend([
                    fmt_ratio(p99_ratio),
                    median(&sa.fsyncs_per_sec).map_or("-".into(), thousands),
                    sa.median_group_records()
                        .map_or("-".into(), |g| format!("{g:.1}")),
                    sa.median_fsync_us().map_or("-".into(), thousands),
                    target,
                ]);
                vs_redis.rows.push(row);
            }
        }
    }
    vs_redis.note = format!(
        "Medians over {} runs per server; ratios are medians of per-pair ratios. ringkv's fsyncs/s, mean group size and mean fsync latency are deltas of `INFO persistence` (`aof_fsyncs`, `aof_fsync_groups`, `aof_mean_group_records`, `aof_fsync_mean_latency_us`) read before and after each run, over the run's `requests / rps` seconds; redis reports no such counters.",
        ctx.pairs
    );
    if !chart_rows.is_empty() {
        vs_redis.note.push_str(&ctx.chart(
            "appendfsync-rps.png",
            "SET requests/s by appendfsync policy",
            |path| charts::appendfsync_rps(path, &chart_rows),
        ));
    }

    // "Durability nearly free": ringkv's always against its own appendonly no.
    let mut vs_self = Table::new(
        "Persistence: ringkv appendfsync always vs ringkv appendonly no (pipeline 1)",
        &[
            "pipeline",
            "ringkv always req/s",
            "ringkv appendonly no req/s",
            "ratio always/no",
            "always p50/p99 ms",
            "no p50/p99 ms",
            "target",
        ],
    );
    let p1 = specs
        .iter()
        .find(|s| s.pipeline == 1)
        .context("no pipeline-1 spec")?;
    vs_self.commands.push(p1.display(&ctx.load_cpus));
    let always = Side {
        kind: ringkv_kind.clone(),
        persistence: Persistence::Aof("always"),
    };
    match compare_sides(ctx, &always, &Side::off(&ringkv_kind), p1) {
        Ok(results) => {
            for (_, sa, sb) in results {
                let ratio = median_ratio(&sa.rps, &sb.rps);
                let mut row = vec!["1".to_string()];
                row.extend(rps_and_latency_cells(&sa, &sb));
                row.push(ratio.map_or("-".into(), |r| format!("≥ 0.95: {}", met(r >= 0.95))));
                vs_self.rows.push(row);
            }
        }
        Err(e) => vs_self.rows.push(vec![
            "1".into(),
            format!("not measured: {}", one_line(&format!("{e:#}"))),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
            "-".into(),
        ]),
    }
    vs_self.note = format!(
        "{} alternating pairs of fresh ringkv servers, one with `--appendonly yes --appendfsync always`, one with `--appendonly no`.",
        ctx.pairs
    );

    Ok(vec![
        vs_redis,
        vs_self,
        always_variants(ctx, &specs)?,
        disk_fsync_table(ctx, ringkv_always_p1)?,
    ])
}

/// How a group becomes durable under `always`, each way against the
/// default (`aof-fsync-mode fdatasync`, `aof-fsync-overlap 1`), ringkv
/// against itself: the measurement behind the defaults.
fn always_variants(ctx: &Ctx, specs: &[BenchSpec]) -> anyhow::Result<Table> {
    const VARIANTS: [&[&str]; 4] = [
        &["--aof-fsync-mode", "fdatasync-inline"],
        &["--aof-fsync-mode", "odirect"],
        &["--aof-fsync-mode", "odsync"],
        &["--aof-fsync-overlap", "2"],
    ];
    let mut table = Table::new(
        "Persistence: ringkv appendfsync always, each way to make a group durable vs the default (fdatasync, one group at a time)",
        &[
            "variant",
            "pipeline",
            "variant req/s",
            "default req/s",
            "ratio variant/default",
            "variant p50/p99 ms",
            "default p50/p99 ms",
            "variant / default mean group (records)",
            "variant / default mean fsync µs",
        ],
    );
    for spec in specs {
        table.commands.push(spec.display(&ctx.load_cpus));
    }
    let kind = ringkv("uring");
    let default = Side {
        kind: kind.clone(),
        persistence: Persistence::Aof("always"),
    };
    for extra in VARIANTS {
        for spec in specs {
            let variant = Side {
                kind: kind.clone(),
                persistence: Persistence::AofTuned("always", extra),
            };
            let mut row = vec![extra.join(" "), spec.pipeline.to_string()];
            match compare_sides(ctx, &variant, &default, spec) {
                Ok(results) => {
                    for (_, sa, sb) in results {
                        row.extend(rps_and_latency_cells(&sa, &sb));
                        row.extend([
                            format!(
                                "{} / {}",
                                sa.median_group_records()
                                    .map_or("-".into(), |g| format!("{g:.1}")),
                                sb.median_group_records()
                                    .map_or("-".into(), |g| format!("{g:.1}"))
                            ),
                            format!(
                                "{} / {}",
                                sa.median_fsync_us().map_or("-".into(), thousands),
                                sb.median_fsync_us().map_or("-".into(), thousands)
                            ),
                        ]);
                    }
                }
                Err(e) => row.push(format!("not measured: {}", one_line(&format!("{e:#}")))),
            }
            row.resize(table.header.len(), "-".into());
            table.rows.push(row);
        }
    }
    table.note = format!(
        "{} alternating pairs of fresh ringkv servers (`--appendonly yes --appendfsync always`), one with the variant's directives, one with the defaults (the group's write linked to an io_uring fdatasync, which the kernel runs on an io-wq worker). `fdatasync-inline`: the write through the ring, then `fdatasync(2)` called by the log writer thread itself; `odirect`: one O_DIRECT+RWF_DSYNC write of the blocks a group touches; `odsync`: one buffered RWF_DSYNC write; overlap 2: a group's fdatasync may start while the previous one runs.",
        ctx.pairs
    );
    Ok(table)
}

/// The disk's own rate for one writer making 64-byte records durable, from
/// `ringkv fsync-bench` on the servers' filesystem: the rate a server
/// without group commit could not exceed under appendfsync always.
fn disk_fsync_table(ctx: &Ctx, ringkv_always_p1_rps: Option<f64>) -> anyhow::Result<Table> {
    let seconds = if ctx.quick { "0.5" } else { "1" };
    let dir = ctx.data_parent.join("fsync-bench");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut table = Table::new(
        "Persistence: the disk's single-writer durable-write rate (64-byte records)",
        &["method", "file", "ops/s", "p50 µs", "p99 µs"],
    );
    let rows = run_fsync_bench(ctx, &dir, 64, seconds, &mut table)?;
    let mut single_writer: Option<f64> = None;
    for r in rows
        .iter()
        .filter(|r| r.method == "write+fdatasync" || r.method == "io_uring write->fdatasync")
    {
        if r.method == "write+fdatasync" && r.file == "append" {
            single_writer = Some(r.ops_per_sec);
        }
        table.rows.push(vec![
            r.method.clone(),
            r.file.clone(),
            thousands(r.ops_per_sec),
            thousands(r.p50_us),
            thousands(r.p99_us),
        ]);
    }
    table.note = match (single_writer, ringkv_always_p1_rps) {
        (Some(disk), Some(rps)) if disk > 0.0 => format!(
            "ringkv under appendfsync always at pipeline 1 acknowledged {} SETs/s, {:.0}× the disk's single-writer write+fdatasync rate ({} /s): each fsync covers a group of writes.",
            thousands(rps),
            rps / disk,
            thousands(disk)
        ),
        _ => String::new(),
    };
    Ok(table)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn persistence_targets_follow_the_issue() {
        assert_eq!(persistence_target("always", 1), (1.7, true));
        assert_eq!(persistence_target("always", 16), (2.0, false));
        assert_eq!(persistence_target("everysec", 1), (1.0, false));
        assert_eq!(persistence_target("no", 16), (1.0, false));
    }
}

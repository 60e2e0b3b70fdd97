//! The side-by-side harness: redis-server 7.0 and ringkv on the same
//! machine, each server pinned to one CPU and the load generator to
//! another, run alternately in pairs; reports the median of per-pair
//! ratios.
//!
//! ```text
//! cargo build --release -p ringkv-server -p ringkv-benches
//! target/release/sidebyside [--quick] [--pairs N] [--only strings,memory,...] [--write BENCHMARKS.md]
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
use ringkv_benches::load::bulk_load;
use ringkv_benches::machine::Machine;
use ringkv_benches::redis_benchmark::{parse_csv, BenchSpec, CsvRow};
use ringkv_benches::report::{splice_into_file, thousands, Table};
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
    /// A note printed above the tables (e.g. "noisy: other builds running").
    #[arg(long, default_value = "")]
    label: String,
}

struct Ctx {
    bins: Binaries,
    quick: bool,
    pairs: usize,
    server_cpus: String,
    load_cpus: String,
    loadgen: PathBuf,
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
    let ctx = Ctx {
        bins: Binaries::locate(args.ringkv.clone())?,
        quick: args.quick,
        pairs: args.pairs.unwrap_or(if args.quick { 3 } else { 5 }).max(1),
        server_cpus: args.server_cpus.clone(),
        load_cpus: args.load_cpus.clone(),
        loadgen,
    };
    let machine = Machine::describe(&std::env::current_dir()?);
    let started = Instant::now();
    let invocation: Vec<String> = std::env::args().collect();
    let mut out = format!(
        "### Side by side ({})\n\n{}\n\nServers pinned with `taskset -c {}` (ringkv with `--io-threads 1`), load generator with `taskset -c {}`, persistence off. \
         {} alternating pairs per comparison (order swapped every pair); \"ratio\" is the median of per-pair ratios.\n\n\
         Produced by `{}`.\n\n",
        if ctx.quick { "quick" } else { "full" },
        machine.markdown(),
        ctx.server_cpus,
        ctx.load_cpus,
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
        "Total harness time: {:.0} s.\n\n",
        started.elapsed().as_secs_f64()
    ));
    match &args.write {
        Some(path) => {
            splice_into_file(path, "sidebyside", &out)?;
            eprintln!("sidebyside: wrote {}", path.display());
        }
        None => print!("{out}"),
    }
    Ok(())
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
}

/// Runs `spec` against `a` and `b` alternately (`ctx.pairs` pairs, a fresh
/// server per run) and returns, per test name in order, the two series.
fn compare(
    ctx: &Ctx,
    a: &ServerKind,
    b: &ServerKind,
    spec: &BenchSpec,
) -> anyhow::Result<Vec<(String, Series, Series)>> {
    let mut results: Vec<(String, Series, Series)> = Vec::new();
    for pair in 0..ctx.pairs {
        let order = if pair % 2 == 0 { [a, b] } else { [b, a] };
        for kind in order {
            let server = ServerProcess::start(&ctx.bins, kind, Persistence::Off, &ctx.server_cpus)?;
            let rows = spec.run(server.port, &ctx.load_cpus)?;
            drop(server);
            for row in rows {
                let idx = match results.iter().position(|r| r.0 == row.test) {
                    Some(i) => i,
                    None => {
                        results.push((row.test.clone(), Series::default(), Series::default()));
                        results.len() - 1
                    }
                };
                let entry = &mut results[idx];
                let series = if kind == a {
                    &mut entry.1
                } else {
                    &mut entry.2
                };
                series.rps.push(row.rps);
                series.p50_ms.push(row.p50_ms);
                series.p99_ms.push(row.p99_ms);
            }
        }
    }
    Ok(results)
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
            table.rows.push(vec![
                test,
                spec.pipeline.to_string(),
                median(&sa.rps).map_or("-".into(), thousands),
                median(&sb.rps).map_or("-".into(), thousands),
                fmt_ratio(median_ratio(&sa.rps, &sb.rps)),
                format!(
                    "{}/{}",
                    fmt_ms(median(&sa.p50_ms)),
                    fmt_ms(median(&sa.p99_ms))
                ),
                format!(
                    "{}/{}",
                    fmt_ms(median(&sb.p50_ms)),
                    fmt_ms(median(&sb.p99_ms))
                ),
                fmt_ratio(median_ratio(&sa.p99_ms, &sb.p99_ms)),
            ]);
        }
    }
    table.note = format!(
        "req/s and latencies are medians over {} runs each; ratios are medians of per-pair ratios (throughput: higher is better for {la}; p99: lower is better).",
        ctx.pairs
    );
    Ok(table)
}

fn string_specs(ctx: &Ctx, tests: &str) -> Vec<BenchSpec> {
    let (n1, n16) = if ctx.quick {
        (50_000, 200_000)
    } else {
        (200_000, 1_000_000)
    };
    [(1, n1), (16, n16)]
        .into_iter()
        .map(|(pipeline, requests)| BenchSpec {
            tests: tests.to_string(),
            clients: 50,
            requests,
            data_size: 64,
            keyspace: 100_000,
            pipeline,
        })
        .collect()
}

fn strings(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    Ok(vec![throughput_table(
        ctx,
        "Strings: SET and GET (ringkv uring vs redis)",
        &ringkv("uring"),
        &ServerKind::Redis,
        &string_specs(ctx, "set,get"),
    )?])
}

fn backends(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    Ok(vec![throughput_table(
        ctx,
        "ringkv network backends: io_uring vs epoll",
        &ringkv("uring"),
        &ringkv("epoll"),
        &string_specs(ctx, "set,get"),
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
            })
        })
        .collect();
    Ok(vec![throughput_table(
        ctx,
        "Collections (issue 3): ringkv uring vs redis",
        &ringkv("uring"),
        &ServerKind::Redis,
        &specs,
    )?])
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
    for spec in string_specs(ctx, "set,get") {
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

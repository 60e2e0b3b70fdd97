//! The metrics endpoint's cost (issue 6): ringkv with `/metrics` served on
//! a free port and scraped once a second during the run (so the
//! exporter's upkeep and rendering really happen) against ringkv with
//! `--metrics-port 0`, alternating fresh servers, SET and GET at
//! pipeline 1 and 16.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::process::{display_command, DirServer};
use super::{fmt_ratio, met, one_line, ringkv_uring, Ctx};
use crate::redis_benchmark::BenchSpec;
use crate::report::{thousands, Table};
use crate::server::free_port;
use crate::stats::{median, median_ratio};

/// The most throughput the endpoint may cost, as a fraction.
const TARGET_COST: f64 = 0.03;

/// Scrapes `http://127.0.0.1:port/metrics` once a second until dropped,
/// counting scrapes that returned 200 with ringkv series.
struct Scraper {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Scraper {
    fn start(port: u16) -> anyhow::Result<Scraper> {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let (s, o, f) = (stop.clone(), ok.clone(), failed.clone());
        let handle = std::thread::Builder::new()
            .name("scraper".into())
            .spawn(move || {
                while !s.load(Ordering::Acquire) {
                    let counter = if scrape(port).is_ok() { &o } else { &f };
                    counter.fetch_add(1, Ordering::Relaxed);
                    // Sleep in steps so stopping is prompt.
                    for _ in 0..20 {
                        if s.load(Ordering::Acquire) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })
            .context("spawning the scraper")?;
        Ok(Scraper {
            stop,
            ok,
            failed,
            handle: Some(handle),
        })
    }

    /// Stops scraping; returns (successful, failed) scrapes.
    fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Release);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}

impl Drop for Scraper {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

/// One HTTP/1.0 GET of /metrics; fails unless the reply is 200 and holds
/// ringkv series.
fn scrape(port: u16) -> anyhow::Result<usize> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut body = Vec::new();
    s.read_to_end(&mut body)?;
    let text = String::from_utf8_lossy(&body);
    anyhow::ensure!(
        text.starts_with("HTTP/1.") && text.lines().next().is_some_and(|l| l.contains(" 200")),
        "scrape failed: {}",
        text.lines().next().unwrap_or("")
    );
    anyhow::ensure!(text.contains("ringkv_"), "no ringkv_ series in /metrics");
    Ok(body.len())
}

#[derive(Default)]
struct Series {
    rps: Vec<f64>,
    p99_ms: Vec<f64>,
}

/// Per test (in redis-benchmark's order): the "on" and "off" series over
/// `ctx.pairs` alternating pairs of fresh servers; and the scrapes that
/// succeeded and failed during the "on" runs.
type PairResults = (Vec<(String, Series, Series)>, u64, u64);

fn run_pairs(
    ctx: &Ctx,
    spec: &BenchSpec,
    with: &dyn Fn(&str) -> Vec<String>,
) -> anyhow::Result<PairResults> {
    let kind = ringkv_uring();
    let mut results: Vec<(String, Series, Series)> = Vec::new();
    let (mut scrapes_ok, mut scrapes_failed) = (0, 0);
    for pair in 0..ctx.pairs {
        let order = if pair % 2 == 0 {
            [true, false]
        } else {
            [false, true]
        };
        for on in order {
            let dir = tempfile::Builder::new()
                .prefix("metrics-")
                .tempdir_in(&ctx.data_parent)?;
            let metrics_port = if on { free_port()? } else { 0 };
            let server = DirServer::start(
                &ctx.bins,
                &kind,
                &ctx.server_cpus,
                dir.path(),
                &with(&metrics_port.to_string()),
            )?;
            let scraper = on.then(|| Scraper::start(metrics_port)).transpose()?;
            let rows = spec.run(server.port, &ctx.load_cpus);
            if let Some(s) = scraper {
                let (ok, failed) = s.finish();
                scrapes_ok += ok;
                scrapes_failed += failed;
            }
            drop(server);
            for row in rows? {
                let i = match results.iter().position(|r| r.0 == row.test) {
                    Some(i) => i,
                    None => {
                        results.push((row.test.clone(), Series::default(), Series::default()));
                        results.len() - 1
                    }
                };
                let s = if on {
                    &mut results[i].1
                } else {
                    &mut results[i].2
                };
                s.rps.push(row.rps);
                s.p99_ms.push(row.p99_ms);
            }
        }
    }
    Ok((results, scrapes_ok, scrapes_failed))
}

pub fn metrics(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let kind = ringkv_uring();
    let base: Vec<String> = ["--appendonly", "no"].map(String::from).to_vec();
    let with = |port: &str| {
        let mut a = base.clone();
        a.extend(["--metrics-port".into(), port.to_string()]);
        a
    };
    let mut table = Table::new(
        "Metrics endpoint (issue 6): ringkv with /metrics scraped every second vs --metrics-port 0",
        &[
            "test",
            "pipeline",
            "on req/s",
            "off req/s",
            "cost (1 - on/off), median of pairs",
            "on p99 ms",
            "off p99 ms",
            "p99 ratio on/off",
            "scrapes ok/failed",
            "target",
        ],
    );
    table.commands.push(format!(
        "{}   # on; a scraper GETs /metrics once a second during the run",
        display_command(&ctx.bins, &kind, &ctx.server_cpus, &with("$METRICS_PORT"))
    ));
    table.commands.push(display_command(
        &ctx.bins,
        &kind,
        &ctx.server_cpus,
        &with("0"),
    ));
    for spec in super::string_specs(ctx, "set,get") {
        table.commands.push(spec.display(&ctx.load_cpus));
        let (results, scrapes_ok, scrapes_failed) = match run_pairs(ctx, &spec, &with) {
            Ok(r) => r,
            Err(e) => {
                let mut row = vec![spec.tests.to_uppercase(), spec.pipeline.to_string()];
                row.push(format!("not measured: {}", one_line(&format!("{e:#}"))));
                row.resize(table.header.len(), "-".into());
                table.rows.push(row);
                continue;
            }
        };
        for (test, on, off) in results {
            let ratio = median_ratio(&on.rps, &off.rps);
            let cost = ratio.map(|r| 1.0 - r);
            table.rows.push(vec![
                test,
                spec.pipeline.to_string(),
                median(&on.rps).map_or("-".into(), thousands),
                median(&off.rps).map_or("-".into(), thousands),
                cost.map_or("-".into(), |c| format!("{:+.1}%", c * 100.0)),
                median(&on.p99_ms).map_or("-".into(), |v| format!("{v:.3}")),
                median(&off.p99_ms).map_or("-".into(), |v| format!("{v:.3}")),
                fmt_ratio(median_ratio(&on.p99_ms, &off.p99_ms)),
                format!("{scrapes_ok}/{scrapes_failed}"),
                cost.map_or("-".into(), |c| {
                    format!("≤ {:.0}%: {}", TARGET_COST * 100.0, met(c <= TARGET_COST))
                }),
            ]);
        }
    }
    table.note = format!(
        "{} alternating pairs of fresh ringkv servers per row; cost is the median of per-pair (1 - on/off) throughput (negative: on was faster, i.e. noise). The scraper runs in the harness process (unpinned); scrape counts are per pipeline setting, summed over the \"on\" runs.",
        ctx.pairs
    );
    Ok(vec![table])
}

//! Scenario `cow-curve`: how much memory a forked snapshot copies, as a
//! fraction of the data set, against the write rate during the snapshot —
//! for ringkv `snapshot-mode fork` and redis-server, which both report the
//! child's copy-on-write bytes in INFO persistence.

use std::time::{Duration, Instant};

use anyhow::bail;

use super::snapshot::{SnapshotSpec, Snapshotter};
use super::{command, info_u64, mib, Ctx, LoadgenRun};
use crate::charts::{self, Series};
use crate::info::info;
use crate::procmem::MemSampler;
use crate::report::{thousands, Table};

/// One point of the curve.
#[derive(Debug, Clone)]
struct CowPoint {
    target_rate: u64,
    achieved_rate: Option<f64>,
    duration_secs: f64,
    /// Largest `current_cow_size` seen while polling during the save.
    sampled_cow_peak: u64,
    /// `rdb_last_cow_size` after the save (the child's final report).
    last_cow_size: u64,
    /// Peak PSS of server + child above the pre-save median.
    extra_pss_bytes: f64,
}

/// SET/s during the save: idle, light, moderate, heavy.
const RATES: [u64; 4] = [0, 5_000, 20_000, 50_000];

fn loadgen_args(keys: u64, rate: u64) -> Vec<String> {
    [
        "-t",
        "set",
        "-c",
        "50",
        "-n",
        &(rate * 3600).to_string(),
        "-d",
        "1000",
        "-r",
        &keys.to_string(),
        "--rate",
        &rate.to_string(),
    ]
    .map(String::from)
    .to_vec()
}

/// One BGSAVE at `rate` SET/s on an already loaded server.
fn measure(
    ctx: &Ctx,
    server: &crate::server::ServerProcess,
    keys: u64,
    rate: u64,
) -> anyhow::Result<CowPoint> {
    let sampler = MemSampler::start(server.pid(), Duration::from_millis(50))?;
    let load = match rate {
        0 => None,
        r => Some(LoadgenRun::start(ctx, server.port, &loadgen_args(keys, r))?),
    };
    std::thread::sleep(Duration::from_millis(1000));
    let bgsave_t = sampler.started().elapsed().as_secs_f64();
    let reply = command(server.port, &[b"BGSAVE"])?;
    if !reply.contains("started") {
        bail!("BGSAVE replied {reply:?}");
    }
    let started = Instant::now();
    let mut sampled_peak = 0u64;
    loop {
        let f = info(server.port, "persistence")?;
        sampled_peak = sampled_peak.max(info_u64(&f, "current_cow_size").unwrap_or(0));
        if info_u64(&f, "rdb_bgsave_in_progress") == Some(0) {
            if f.get("rdb_last_bgsave_status").map(|s| s.trim()) != Some("ok") {
                bail!("background save failed");
            }
            break;
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("background save still running after 600 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let duration_secs = started.elapsed().as_secs_f64();
    let done_t = sampler.started().elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_millis(300));
    let achieved_rate = match load {
        Some(l) => Some(l.finish()?.rps),
        None => None,
    };
    let samples = sampler.finish();
    let f = info(server.port, "persistence")?;
    let mut before: Vec<f64> = samples
        .iter()
        .filter(|s| s.t_secs >= 0.5 && s.t_secs < bgsave_t)
        .map(|s| s.pss_bytes as f64)
        .collect();
    before.sort_by(f64::total_cmp);
    let baseline = before.get(before.len() / 2).copied().unwrap_or(0.0);
    let peak = samples
        .iter()
        .filter(|s| s.t_secs >= bgsave_t && s.t_secs <= done_t + 0.3)
        .map(|s| s.pss_bytes)
        .max()
        .unwrap_or(0) as f64;
    Ok(CowPoint {
        target_rate: rate,
        achieved_rate,
        duration_secs,
        sampled_cow_peak: sampled_peak,
        last_cow_size: info_u64(&f, "rdb_last_cow_size").unwrap_or(0),
        extra_pss_bytes: (peak - baseline).max(0.0),
    })
}

pub fn scenario(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let keys = SnapshotSpec::for_ctx(ctx).keys;
    let mut table = Table::new(
        "Copy-on-write of a forked snapshot against write rate",
        &[
            "server",
            "target SET/s",
            "achieved SET/s",
            "snapshot s",
            "peak current_cow_size MiB",
            "rdb_last_cow_size MiB",
            "peak extra PSS MiB",
            "copied / data set",
        ],
    );
    table.commands.push(format!(
        "servers: --save '' --appendonly no --dir <fresh dir under {}>; ringkv: CONFIG SET snapshot-mode fork",
        ctx.data_parent.display()
    ));
    table.commands.push(format!(
        "data set: {keys} × SET key:%012d <1000 random printable bytes>; then per rate, on the same server:"
    ));
    table
        .commands
        .push(LoadgenRun::display_for(ctx, &loadgen_args(keys, 1234)).replace("1234", "<RATE>"));
    table.commands.push(
        "1 s later BGSAVE; INFO persistence polled every 50 ms until rdb_bgsave_in_progress:0"
            .into(),
    );
    let mut curves = Vec::new();
    for who in [Snapshotter::RingkvFork, Snapshotter::Redis] {
        eprintln!("sidebyside: cow-curve: {} ...", who.label());
        let (server, dataset) = match who.start_loaded(ctx, keys) {
            Ok(s) => s,
            Err(e) => {
                let mut r = vec![
                    who.label().to_string(),
                    format!("not measured: {}", super::one_line(&format!("{e:#}"))),
                ];
                r.resize(table.header.len(), "-".into());
                table.rows.push(r);
                continue;
            }
        };
        let mut points = Vec::new();
        for rate in RATES {
            match measure(ctx, &server, keys, rate) {
                Ok(p) => {
                    let copied = p.sampled_cow_peak.max(p.last_cow_size) as f64;
                    table.rows.push(vec![
                        who.label().to_string(),
                        thousands(rate as f64),
                        p.achieved_rate.map_or("-".into(), thousands),
                        format!("{:.2}", p.duration_secs),
                        mib(p.sampled_cow_peak as f64),
                        mib(p.last_cow_size as f64),
                        mib(p.extra_pss_bytes),
                        format!("{:.1}%", 100.0 * copied / dataset.max(1) as f64),
                    ]);
                    points.push((
                        p.achieved_rate.unwrap_or(p.target_rate as f64),
                        100.0 * copied / dataset.max(1) as f64,
                    ));
                }
                Err(e) => {
                    let mut r = vec![
                        who.label().to_string(),
                        thousands(rate as f64),
                        format!("not measured: {}", super::one_line(&format!("{e:#}"))),
                    ];
                    r.resize(table.header.len(), "-".into());
                    table.rows.push(r);
                }
            }
        }
        // Achieved rates can fall short of the targets: plot by what ran.
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        curves.push(Series {
            label: who.label().to_string(),
            points,
        });
    }
    table.note = format!(
        "Data set = bytes of keys and values loaded ({} keys of 1000-byte values). \"copied / data set\" uses the larger of the peak `current_cow_size` seen while polling and `rdb_last_cow_size` (both: the child's Private_Dirty, as Redis measures it). Peak extra PSS is the server + child's proportional set size from /proc above its median in the second before BGSAVE: the physical memory the fork added. One save per rate, on one server per row group, rates in increasing order (indicative).",
        keys
    );
    if curves.iter().any(|c| !c.points.is_empty()) {
        table.note.push_str(&ctx.chart(
            "cow-curve.png",
            "Copy-on-write bytes / data set against write rate",
            |path| charts::cow_curve(path, &curves),
        ));
    }
    Ok(vec![table])
}

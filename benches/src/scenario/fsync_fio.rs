//! `ringkv fsync-bench` against fio on the same directory (issue 7): one
//! writer making 4 KiB writes durable, `fsync` and `fdatasync` after each
//! write, io_uring in both tools. If the two disagree, one of them measures
//! something other than the disk.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};
use serde_json::Value;

use super::{fmt_ratio, Ctx};
use crate::report::{thousands, Table};

const RECORD_BYTES: u32 = 4096;

/// fio's figure for one sync call.
struct FioFigure {
    ops_per_sec: f64,
    p50_us: f64,
    p99_us: f64,
}

pub fn fsync_fio(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let seconds: u32 = if ctx.quick { 1 } else { 3 };
    let dir = ctx.data_parent.join("fsync-fio");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut table = Table::new(
        "fsync-bench vs fio: one writer, 4 KiB writes, each made durable (same directory)",
        &[
            "sync call",
            "fio io_uring ops/s",
            "fsync-bench io_uring ops/s (append / prealloc)",
            "ratio fsync-bench / fio (prealloc where measured)",
            "fio p50/p99 µs (write + sync)",
            "fsync-bench append p50/p99 µs",
        ],
    );
    let bench = run_fsync_bench(ctx, &dir, RECORD_BYTES, &seconds.to_string(), &mut table)?;
    for (call, fio_flag, bench_method) in [
        ("fsync", "--fsync=1", "io_uring write->fsync"),
        ("fdatasync", "--fdatasync=1", "io_uring write->fdatasync"),
    ] {
        let fio = run_fio(ctx, &dir, seconds, fio_flag, &mut table)?;
        let find =
            |method: &str, file: &str| bench.iter().find(|r| r.method == method && r.file == file);
        // fsync-bench has no io_uring+fsync row: its write+fsync row stands in.
        let append =
            find(bench_method, "append").or_else(|| find(&format!("write+{call}"), "append"));
        let prealloc = find(bench_method, "prealloc");
        table.rows.push(vec![
            call.to_string(),
            thousands(fio.ops_per_sec),
            format!(
                "{} / {}",
                append.map_or("-".into(), |f| thousands(f.ops_per_sec)),
                prealloc.map_or("-".into(), |f| thousands(f.ops_per_sec))
            ),
            fmt_ratio(prealloc.or(append).map(|b| b.ops_per_sec / fio.ops_per_sec)),
            format!("{:.0}/{:.0}", fio.p50_us, fio.p99_us),
            append.map_or("-".into(), |f| format!("{:.0}/{:.0}", f.p50_us, f.p99_us)),
        ]);
    }
    table.note = "fio lays its file out before writing, so fsync-bench's preallocated file is the like-for-like row; fio's latency is its write completion plus its sync latency, percentile by percentile (an approximation of the sum's distribution). Where fsync-bench has no io_uring row for a call, its write+call row is shown.".into();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(vec![table])
}

/// One single-writer, non-skipped row of `ringkv fsync-bench --json`.
#[derive(Debug, Clone, PartialEq)]
pub struct FsyncBenchRow {
    pub method: String,
    pub file: String,
    pub ops_per_sec: f64,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// The single-writer rows of fsync-bench's JSON that ran (not skipped).
pub fn parse_fsync_bench_json(text: &str) -> anyhow::Result<Vec<FsyncBenchRow>> {
    let json: Value = serde_json::from_str(text).context("parsing fsync-bench JSON")?;
    let rows = json["rows"]
        .as_array()
        .context("fsync-bench JSON has no rows")?;
    Ok(rows
        .iter()
        .filter(|r| r["skipped"].is_null() && r["writers"].as_u64().unwrap_or(1) == 1)
        .filter_map(|r| {
            Some(FsyncBenchRow {
                method: r["method"].as_str()?.to_string(),
                file: r["file"].as_str()?.to_string(),
                ops_per_sec: r["ops_per_sec"].as_f64()?,
                p50_us: r["p50_us"].as_f64()?,
                p99_us: r["p99_us"].as_f64()?,
            })
        })
        .collect())
}

/// Runs `ringkv fsync-bench --json` on `dir` (pinned to the server CPUs)
/// for one record size, recording the command in `table`.
pub fn run_fsync_bench(
    ctx: &Ctx,
    dir: &Path,
    record_bytes: u32,
    seconds: &str,
    table: &mut Table,
) -> anyhow::Result<Vec<FsyncBenchRow>> {
    let args = [
        "fsync-bench".to_string(),
        "--dir".into(),
        dir.display().to_string(),
        "--size".into(),
        record_bytes.to_string(),
        "--seconds".into(),
        seconds.to_string(),
        "--json".into(),
    ];
    table.commands.push(format!(
        "taskset -c {} ringkv {}",
        ctx.server_cpus,
        args.join(" ")
    ));
    let out = Command::new("taskset")
        .arg("-c")
        .arg(&ctx.server_cpus)
        .arg(&ctx.bins.ringkv)
        .args(&args)
        .output()
        .context("running ringkv fsync-bench")?;
    if !out.status.success() {
        bail!(
            "fsync-bench failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let rows = parse_fsync_bench_json(&String::from_utf8_lossy(&out.stdout))?;
    if rows.is_empty() {
        bail!("fsync-bench printed no rows");
    }
    Ok(rows)
}

fn run_fio(
    ctx: &Ctx,
    dir: &Path,
    seconds: u32,
    sync_flag: &str,
    table: &mut Table,
) -> anyhow::Result<FioFigure> {
    let args = [
        "--name=durable".to_string(),
        format!("--directory={}", dir.display()),
        "--ioengine=io_uring".into(),
        "--rw=write".into(),
        format!("--bs={RECORD_BYTES}"),
        "--size=256m".into(),
        sync_flag.into(),
        "--time_based".into(),
        format!("--runtime={seconds}"),
        "--output-format=json".into(),
    ];
    table.commands.push(format!(
        "taskset -c {} fio {}",
        ctx.server_cpus,
        args.join(" ")
    ));
    let out = Command::new("taskset")
        .arg("-c")
        .arg(&ctx.server_cpus)
        .arg("fio")
        .args(&args)
        .output()
        .context("running fio (Debian package fio)")?;
    if !out.status.success() {
        bail!("fio failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    // fio may print notices before the JSON object.
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.find('{').context("fio printed no JSON")?;
    let json: Value = serde_json::from_str(&text[start..]).context("parsing fio JSON")?;
    let job = &json["jobs"][0];
    let pct = |v: &Value, p: &str| v["percentile"][p].as_f64().unwrap_or(0.0) / 1000.0;
    let write = &job["write"]["clat_ns"];
    let sync = &job["sync"]["lat_ns"];
    Ok(FioFigure {
        ops_per_sec: job["write"]["iops"]
            .as_f64()
            .context("fio JSON has no write iops")?,
        p50_us: pct(write, "50.000000") + pct(sync, "50.000000"),
        p99_us: pct(write, "99.000000") + pct(sync, "99.000000"),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_fsync_bench_json_rows() {
        let text = "{\"dir\":\"/tmp/x\",\"seconds_per_test\":0.5,\"rows\":[\n\
{\"method\":\"write+fdatasync\",\"file\":\"append\",\"size_bytes\":64,\"writers\":1,\"ops\":160,\"elapsed_secs\":0.500000,\"ops_per_sec\":320.500,\"durable_bytes_per_sec\":20512.000,\"p50_us\":2957,\"p99_us\":8887,\"p999_us\":10900,\"max_us\":10900,\"skipped\":null},\n\
{\"method\":\"O_DIRECT|O_DSYNC write\",\"file\":\"append\",\"size_bytes\":64,\"writers\":1,\"ops\":0,\"elapsed_secs\":0.000000,\"ops_per_sec\":0.000,\"durable_bytes_per_sec\":0.000,\"p50_us\":0,\"p99_us\":0,\"p999_us\":0,\"max_us\":0,\"skipped\":\"O_DIRECT needs sizes\"}\n]}\n";
        let rows = parse_fsync_bench_json(text).unwrap();
        assert_eq!(
            rows,
            vec![FsyncBenchRow {
                method: "write+fdatasync".into(),
                file: "append".into(),
                ops_per_sec: 320.5,
                p50_us: 2957.0,
                p99_us: 8887.0,
            }]
        );
    }
}

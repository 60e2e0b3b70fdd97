//! Scenario `always-cdf`: the whole SET latency distribution of both
//! servers under `appendonly yes`, `appendfsync always` (every reply waits
//! for its fsync), from loadgen's HDR histogram.

use std::path::Path;

use anyhow::{bail, Context};

use super::Ctx;
use crate::charts::{self, Series};
use crate::report::{thousands, Table};
use crate::server::{Persistence, ServerKind, ServerProcess};

/// Quantiles shown in the table.
const QUANTILES: [f64; 6] = [0.5, 0.9, 0.99, 0.999, 0.9999, 1.0];

/// `test,quantile,latency_ms` lines from `loadgen --latency-cdf`.
pub fn read_cdf(path: &Path) -> anyhow::Result<Vec<(f64, f64)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let points: Vec<(f64, f64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split(',').skip(1).map(str::parse::<f64>);
            Some((f.next()?.ok()?, f.next()?.ok()?))
        })
        .collect();
    if points.is_empty() {
        bail!("{} holds no CDF points", path.display());
    }
    Ok(points)
}

/// The latency at quantile `q`: the first point at or past it.
fn at_quantile(cdf: &[(f64, f64)], q: f64) -> Option<f64> {
    cdf.iter()
        .find(|(pq, _)| *pq >= q - 1e-9)
        .or(cdf.last())
        .map(|p| p.1)
}

fn loadgen_args(requests: u64) -> Vec<String> {
    [
        "-t",
        "set",
        "-c",
        "50",
        "-n",
        &requests.to_string(),
        "-d",
        "64",
        "-r",
        "100000",
        "-P",
        "1",
    ]
    .map(String::from)
    .to_vec()
}

pub fn scenario(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let requests = if ctx.quick { 20_000 } else { 100_000 };
    let mut header = vec!["server".to_string(), "SET/s".to_string()];
    header.extend(QUANTILES.iter().map(|q| match q {
        1.0 => "max ms".to_string(),
        q => format!("p{} ms", q * 100.0),
    }));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let mut table = Table::new(
        "SET latency distribution under appendfsync always (loadgen, pipeline 1)",
        &header,
    );
    table.commands.push(format!(
        "both servers: --appendonly yes --appendfsync always --save '' --dir <fresh dir under {}>",
        ctx.data_parent.display()
    ));
    table.commands.push(format!(
        "taskset -c {} loadgen --port $PORT {} --latency-cdf FILE",
        ctx.load_cpus,
        loadgen_args(requests).join(" ")
    ));
    let dir = tempfile::tempdir_in(&ctx.data_parent)?;
    let mut series = Vec::new();
    let sides = [
        (
            "ringkv",
            ServerKind::Ringkv {
                backend: "uring".into(),
            },
        ),
        ("redis", ServerKind::Redis),
    ];
    for (label, kind) in sides {
        let file = dir.path().join(format!("{label}.cdf"));
        let measured = (|| -> anyhow::Result<(f64, Vec<(f64, f64)>)> {
            let server = ServerProcess::start_in(
                &ctx.bins,
                &kind,
                Persistence::Aof("always"),
                &ctx.server_cpus,
                &ctx.data_parent,
            )?;
            let mut args = vec!["--port".to_string(), server.port.to_string()];
            args.extend(loadgen_args(requests));
            args.extend(["--latency-cdf".to_string(), file.display().to_string()]);
            let out = std::process::Command::new("taskset")
                .arg("-c")
                .arg(&ctx.load_cpus)
                .arg(&ctx.loadgen)
                .args(&args)
                .output()
                .with_context(|| format!("running {}", ctx.loadgen.display()))?;
            if !out.status.success() {
                bail!("loadgen failed: {}", String::from_utf8_lossy(&out.stderr));
            }
            let rows = crate::redis_benchmark::parse_csv(&String::from_utf8_lossy(&out.stdout))?;
            let rps = rows.first().map_or(0.0, |r| r.rps);
            Ok((rps, read_cdf(&file)?))
        })();
        match measured {
            Ok((rps, cdf)) => {
                let mut row = vec![label.to_string(), thousands(rps)];
                row.extend(
                    QUANTILES
                        .iter()
                        .map(|&q| at_quantile(&cdf, q).map_or("-".into(), |v| format!("{v:.3}"))),
                );
                table.rows.push(row);
                series.push(Series {
                    label: label.to_string(),
                    points: cdf,
                });
            }
            Err(e) => {
                let mut r = vec![
                    label.to_string(),
                    format!("not measured: {}", super::one_line(&format!("{e:#}"))),
                ];
                r.resize(table.header.len(), "-".into());
                table.rows.push(r);
            }
        }
    }
    table.note =
        "One closed-loop run per server, 50 connections, one fresh server each (indicative)."
            .into();
    if !series.is_empty() {
        table.note.push_str(&ctx.chart(
            "latency-cdf-always.png",
            "SET latency CDF under appendfsync always",
            |path| charts::latency_cdf(path, "SET latency under appendfsync always", &series),
        ));
    }
    Ok(vec![table])
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdfs_and_quantiles() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c");
        std::fs::write(
            &p,
            "test,quantile,latency_ms\nSET,0.000000,0.100\nSET,0.500000,0.200\nSET,0.990000,1.500\nSET,1.000000,9.000\n",
        )
        .unwrap();
        let cdf = read_cdf(&p).unwrap();
        assert_eq!(cdf.len(), 4);
        assert_eq!(at_quantile(&cdf, 0.5), Some(0.2));
        assert_eq!(at_quantile(&cdf, 0.9), Some(1.5));
        assert_eq!(at_quantile(&cdf, 1.0), Some(9.0));
    }
}

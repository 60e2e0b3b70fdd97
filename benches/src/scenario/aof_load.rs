//! AOF load side by side (issue 5): each server writes its own AOF from
//! the same command stream (`aof-use-rdb-preamble no`, no automatic
//! rewrite, so startup replays every command), then per pair and server:
//! restart on the kept directory and time the replay, checking DBSIZE.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::process::{dir_bytes, display_command, DirServer};
use super::{fmt_ratio, met, mib, mix64, ringkv_uring, value_bytes, Ctx};
use crate::load::bulk_load;
use crate::report::{thousands, Table};
use crate::server::ServerKind;
use crate::stats::{median, median_ratio};

/// Command number `i` of a stream of `total`: 80% SET of a 16–100 byte
/// value over `total / 4` keys (so keys are overwritten, as in a real
/// log; a twentieth with EX), then 4% each HSET, RPUSH, SADD, ZADD and
/// INCR on smaller key spaces.
pub fn command(i: u64, total: u64) -> Vec<Vec<u8>> {
    let r = mix64(i);
    let keyspace = (total / 4).max(1);
    let pick = |div: u64| (r >> 8) % (keyspace / div).max(1);
    match r % 100 {
        0..=79 => {
            let mut c = vec![
                b"SET".to_vec(),
                format!("key:{}", pick(1)).into_bytes(),
                value_bytes(r >> 3, 16 + (r >> 40) as usize % 85),
            ];
            if (r >> 50).is_multiple_of(20) {
                c.extend([b"EX".to_vec(), b"86400".to_vec()]);
            }
            c
        }
        80..=83 => vec![
            b"HSET".to_vec(),
            format!("hash:{}", pick(20)).into_bytes(),
            format!("field:{}", (r >> 32) % 50).into_bytes(),
            value_bytes(r >> 5, 24),
        ],
        84..=87 => vec![
            b"RPUSH".to_vec(),
            format!("list:{}", pick(200)).into_bytes(),
            value_bytes(r >> 6, 32),
        ],
        88..=91 => vec![
            b"SADD".to_vec(),
            format!("set:{}", pick(50)).into_bytes(),
            format!("member:{}", (r >> 32) % 1000).into_bytes(),
        ],
        92..=95 => vec![
            b"ZADD".to_vec(),
            format!("zset:{}", pick(50)).into_bytes(),
            ((r >> 20) % 100_000).to_string().into_bytes(),
            format!("member:{}", (r >> 32) % 500).into_bytes(),
        ],
        _ => vec![
            b"INCR".to_vec(),
            format!("counter:{}", pick(100)).into_bytes(),
        ],
    }
}

pub fn workload(total: u64) -> impl Iterator<Item = Vec<Vec<u8>>> {
    (0..total).map(move |i| command(i, total))
}

fn extra_args(kind: &ServerKind) -> Vec<String> {
    let mut a: Vec<String> = [
        "--appendonly",
        "yes",
        "--appendfsync",
        "no",
        "--aof-use-rdb-preamble",
        "no",
        "--auto-aof-rewrite-percentage",
        "0",
    ]
    .map(String::from)
    .to_vec();
    if matches!(kind, ServerKind::Ringkv { .. }) {
        a.extend(["--metrics-port".into(), "0".into()]);
    }
    a
}

#[derive(Default)]
struct AofSeries {
    fill_secs: f64,
    aof_bytes: u64,
    startup_secs: Vec<f64>,
    logged_secs: Vec<f64>,
}

/// Writes the AOF: a fresh server, the whole stream, DBSIZE, SIGTERM.
fn fill(ctx: &Ctx, kind: &ServerKind, dir: &Path, total: u64) -> anyhow::Result<(f64, u64)> {
    let server = DirServer::start(&ctx.bins, kind, &ctx.server_cpus, dir, &extra_args(kind))?;
    let t = Instant::now();
    bulk_load(server.port, workload(total)).with_context(|| format!("filling {}", kind.label()))?;
    let fill_secs = t.elapsed().as_secs_f64();
    let keys = server.dbsize()?;
    server.stop(Duration::from_secs(120))?;
    Ok((fill_secs, keys))
}

pub fn aof_load(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let total: u64 = if ctx.quick { 1_000_000 } else { 5_000_000 };
    let kinds = [ringkv_uring(), ServerKind::Redis];
    let mut dirs: Vec<tempfile::TempDir> = Vec::new();
    let mut series: Vec<AofSeries> = Vec::new();
    let mut keys: Option<u64> = None;
    for kind in &kinds {
        let dir = tempfile::Builder::new()
            .prefix("aof-load-")
            .tempdir_in(&ctx.data_parent)?;
        eprintln!(
            "aof-load: {} writes its AOF ({total} commands)",
            kind.label()
        );
        let (fill_secs, n) = fill(ctx, kind, dir.path(), total)?;
        match keys {
            Some(k) if k != n => bail!(
                "{} holds {n} keys after the workload, the other server {k}",
                kind.label()
            ),
            _ => keys = Some(n),
        }
        series.push(AofSeries {
            fill_secs,
            aof_bytes: dir_bytes(&dir.path().join("appendonlydir"))?,
            ..AofSeries::default()
        });
        dirs.push(dir);
    }
    let keys = keys.context("no server ran")?;
    let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
    for pair in 0..ctx.pairs {
        let order: [usize; 2] = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            let kind = &kinds[i];
            let mut server = DirServer::spawn(
                &ctx.bins,
                kind,
                &ctx.server_cpus,
                &paths[i],
                &extra_args(kind),
            )?;
            let startup = server.wait_loaded(Duration::from_secs(600))?;
            let n = server.dbsize()?;
            if n != keys {
                bail!(
                    "{} loaded {n} keys from its AOF, expected {keys}",
                    kind.label()
                );
            }
            series[i].startup_secs.push(startup.as_secs_f64());
            series[i]
                .logged_secs
                .push(server.logged_load_secs().unwrap_or(f64::NAN));
            server.stop(Duration::from_secs(60))?;
        }
    }
    let (a, b) = (&series[0], &series[1]);
    let secs = |v: &[f64]| median(v).map_or("-".into(), |v| format!("{v:.3}"));
    let load_speedup = median_ratio(&b.startup_secs, &a.startup_secs);
    let mut table = Table::new(
        format!(
            "AOF load (issue 5): startup replay of {} commands, aof-use-rdb-preamble no (ringkv uring vs redis)",
            thousands(total as f64)
        ),
        &["measure", "ringkv", "redis", "ratio", "target"],
    );
    for kind in &kinds {
        table.commands.push(display_command(
            &ctx.bins,
            kind,
            &ctx.server_cpus,
            &extra_args(kind),
        ));
    }
    table.commands.push(format!(
        "write: ringkv_benches::scenario::aof_load::workload({total}) through ringkv-benches' pipelined loader (1,000 commands per round trip), DBSIZE, SIGTERM"
    ));
    table.commands.push(
        "per pair and server: restart on the same --dir, PING every 5 ms until +PONG (not -LOADING), DBSIZE, SIGTERM".into(),
    );
    table.rows = vec![
        vec![
            "startup load, spawn → PONG (s)".into(),
            secs(&a.startup_secs),
            secs(&b.startup_secs),
            format!("{}× faster", fmt_ratio(load_speedup)),
            load_speedup.map_or("-".into(), |r| format!("≥ 1.5× faster: {}", met(r >= 1.5))),
        ],
        vec![
            "startup load, the server's \"DB loaded from append only file\" line (s)".into(),
            secs(&a.logged_secs),
            secs(&b.logged_secs),
            format!(
                "{}× faster",
                fmt_ratio(median_ratio(&b.logged_secs, &a.logged_secs))
            ),
            "-".into(),
        ],
        vec![
            "appendonlydir size after the workload (MiB)".into(),
            mib(a.aof_bytes as f64),
            mib(b.aof_bytes as f64),
            format!(
                "{} ringkv/redis",
                fmt_ratio(Some(a.aof_bytes as f64 / b.aof_bytes.max(1) as f64))
            ),
            "-".into(),
        ],
        vec![
            "keys after every load (DBSIZE)".into(),
            thousands(keys as f64),
            thousands(keys as f64),
            "equal".into(),
            "-".into(),
        ],
        vec![
            "writing the workload over the network, once (s)".into(),
            format!("{:.1}", a.fill_secs),
            format!("{:.1}", b.fill_secs),
            format!(
                "{}× faster",
                fmt_ratio((a.fill_secs > 0.0).then(|| b.fill_secs / a.fill_secs))
            ),
            "-".into(),
        ],
    ];
    table.note = format!(
        "Medians over {} restarts per server, alternating servers; ratios are medians of per-pair ratios (\"× faster\" = redis time / ringkv time). The stream: 80% SET of 16–100 byte values over {} keys (a twentieth with EX, logged as PXAT by both), 4% each HSET, RPUSH, SADD, ZADD, INCR. `auto-aof-rewrite-percentage 0` keeps the whole stream in the incr file. ringkv's directory size includes its log checksum annotations (and any preallocated tail).",
        ctx.pairs,
        thousands((total / 4) as f64)
    );
    Ok(vec![table])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workload_is_deterministic_and_mostly_sets() {
        let a: Vec<_> = workload(10_000).collect();
        assert_eq!(a, workload(10_000).collect::<Vec<_>>());
        let sets = a.iter().filter(|c| c[0] == b"SET").count();
        assert!((7_600..8_400).contains(&sets), "{sets}");
        for verb in [&b"HSET"[..], b"RPUSH", b"SADD", b"ZADD", b"INCR"] {
            assert!(a.iter().filter(|c| c[0] == verb).count() > 200);
        }
    }
}

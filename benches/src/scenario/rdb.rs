//! RDB side by side (issue 4): the same mixed data set in ringkv and
//! redis-server, then per pair and server: restart on the kept directory
//! and time the startup load, check DBSIZE, time SAVE, and measure the
//! file. Each SAVE writes the file the next restart loads.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::process::{display_command, DirServer};
use super::{fmt_ratio, met, mib, mix64, ringkv_uring, value_bytes, Ctx};
use crate::load::bulk_load;
use crate::report::{thousands, Table};
use crate::server::ServerKind;
use crate::stats::{median, median_ratio};

/// Every this-many keys one is a large collection.
const LARGE_EVERY: u64 = 10_000;
/// Elements per command when filling a collection.
const CHUNK: usize = 100;

/// The commands that build key number `k` of the mixed data set: 80%
/// strings (a tenth integers, a twentieth with a TTL), 5% each small
/// hashes, lists, sets (half integer sets) and sorted sets of 2 to 20
/// elements, and one key in [`LARGE_EVERY`] a large hash, list, set or
/// sorted set (2,000 to 10,000 elements).
pub fn key_commands(k: u64) -> Vec<Vec<Vec<u8>>> {
    let r = mix64(k);
    let key = format!("k:{k}").into_bytes();
    if k % LARGE_EVERY == LARGE_EVERY - 1 {
        let kind = (k / LARGE_EVERY) % 4;
        let n = if kind == 1 { 10_000 } else { 2_000 };
        return collection(kind, &key, r, n);
    }
    let small_n = 2 + (r >> 8) as usize % 19;
    match r % 100 {
        0..=79 => {
            let mut cmd = vec![b"SET".to_vec(), key];
            if (r >> 16).is_multiple_of(10) {
                cmd.push(((r >> 20) % 1_000_000_000).to_string().into_bytes());
            } else {
                cmd.push(value_bytes(r >> 4, 8 + (r >> 24) as usize % 113));
            }
            if (r >> 32).is_multiple_of(20) {
                // A day: nothing expires during the run.
                cmd.extend([b"EX".to_vec(), b"86400".to_vec()]);
            }
            vec![cmd]
        }
        v => collection((v - 80) / 5, &key, r, small_n),
    }
}

/// `n` elements of collection kind 0 hash, 1 list, 2 set, 3 sorted set,
/// [`CHUNK`] per command.
fn collection(kind: u64, key: &[u8], seed: u64, n: usize) -> Vec<Vec<Vec<u8>>> {
    let verb: &[u8] = match kind {
        0 => b"HSET",
        1 => b"RPUSH",
        2 => b"SADD",
        _ => b"ZADD",
    };
    let int_set = kind == 2 && seed.is_multiple_of(2);
    let mut cmds = Vec::new();
    for start in (0..n).step_by(CHUNK) {
        let mut cmd = vec![verb.to_vec(), key.to_vec()];
        for j in start..(start + CHUNK).min(n) {
            let s = mix64(seed ^ j as u64);
            let elem = value_bytes(s, 6 + (s >> 40) as usize % 40);
            match kind {
                0 => {
                    cmd.push(format!("field:{j}").into_bytes());
                    cmd.push(elem);
                }
                1 => cmd.push(elem),
                2 if int_set => cmd.push((j as u64 * 7 + seed % 1000).to_string().into_bytes()),
                2 => cmd.push(
                    format!("m:{j}:")
                        .into_bytes()
                        .into_iter()
                        .chain(elem)
                        .collect(),
                ),
                _ => {
                    cmd.push(format!("{}.{}", (s >> 20) % 100_000, s % 100).into_bytes());
                    cmd.push(format!("member:{j}").into_bytes());
                }
            }
        }
        cmds.push(cmd);
    }
    cmds
}

/// The whole data set: keys `0..keys`.
pub fn dataset(keys: u64) -> impl Iterator<Item = Vec<Vec<u8>>> {
    (0..keys).flat_map(key_commands)
}

fn server_args() -> Vec<String> {
    [
        "--appendonly",
        "no",
        "--dbfilename",
        "dump.rdb",
        "--rdbcompression",
        "yes",
        "--rdbchecksum",
        "yes",
    ]
    .map(String::from)
    .to_vec()
}

/// ringkv's extra flag: no metrics endpoint (its cost is the `metrics`
/// scenario's question, and a fixed port could collide).
fn extra_args(kind: &ServerKind) -> Vec<String> {
    let mut a = server_args();
    if matches!(kind, ServerKind::Ringkv { .. }) {
        a.extend(["--metrics-port".into(), "0".into()]);
    }
    a
}

/// One server's figures over the pairs (index = pair).
#[derive(Default)]
struct RdbSeries {
    fill_secs: f64,
    startup_secs: Vec<f64>,
    logged_secs: Vec<f64>,
    save_secs: Vec<f64>,
    file_bytes: Vec<f64>,
}

fn timed_save(server: &DirServer) -> anyhow::Result<f64> {
    let t = Instant::now();
    let reply = server.command(&[b"SAVE"], Duration::from_secs(600))?;
    let secs = t.elapsed().as_secs_f64();
    if reply != "+OK" {
        bail!("{}: SAVE replied {reply:?}", server.kind.label());
    }
    Ok(secs)
}

/// Starts a fresh server in `dir`, fills it and saves once (untimed).
fn fill(ctx: &Ctx, kind: &ServerKind, dir: &Path, keys: u64) -> anyhow::Result<f64> {
    let server = DirServer::start(&ctx.bins, kind, &ctx.server_cpus, dir, &extra_args(kind))?;
    let t = Instant::now();
    bulk_load(server.port, dataset(keys)).with_context(|| format!("filling {}", kind.label()))?;
    let fill_secs = t.elapsed().as_secs_f64();
    let n = server.dbsize()?;
    if n != keys {
        bail!(
            "{} holds {n} keys after the fill, expected {keys}",
            kind.label()
        );
    }
    timed_save(&server)?;
    server.stop(Duration::from_secs(60))?;
    Ok(fill_secs)
}

/// Restart, timed load, DBSIZE check, timed SAVE, file size.
fn one_run(
    ctx: &Ctx,
    kind: &ServerKind,
    dir: &Path,
    keys: u64,
    s: &mut RdbSeries,
) -> anyhow::Result<()> {
    let mut server = DirServer::spawn(&ctx.bins, kind, &ctx.server_cpus, dir, &extra_args(kind))?;
    let startup = server.wait_loaded(Duration::from_secs(600))?;
    let n = server.dbsize()?;
    if n != keys {
        bail!(
            "{} loaded {n} keys from its RDB, expected {keys}",
            kind.label()
        );
    }
    s.startup_secs.push(startup.as_secs_f64());
    s.logged_secs
        .push(server.logged_load_secs().unwrap_or(f64::NAN));
    s.save_secs.push(timed_save(&server)?);
    s.file_bytes
        .push(std::fs::metadata(dir.join("dump.rdb"))?.len() as f64);
    server.stop(Duration::from_secs(60))?;
    Ok(())
}

pub fn rdb(ctx: &Ctx) -> anyhow::Result<Vec<Table>> {
    let keys: u64 = if ctx.quick { 300_000 } else { 2_000_000 };
    let kinds = [ringkv_uring(), ServerKind::Redis];
    let mut dirs: Vec<tempfile::TempDir> = Vec::new();
    let mut series: Vec<RdbSeries> = Vec::new();
    for kind in &kinds {
        let dir = tempfile::Builder::new()
            .prefix("rdb-")
            .tempdir_in(&ctx.data_parent)?;
        eprintln!("rdb: filling {} with {keys} keys", kind.label());
        let fill_secs = fill(ctx, kind, dir.path(), keys)?;
        series.push(RdbSeries {
            fill_secs,
            ..RdbSeries::default()
        });
        dirs.push(dir);
    }
    let paths: Vec<PathBuf> = dirs.iter().map(|d| d.path().to_path_buf()).collect();
    for pair in 0..ctx.pairs {
        let order: [usize; 2] = if pair % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            one_run(ctx, &kinds[i], &paths[i], keys, &mut series[i])?;
        }
    }
    let (a, b) = (&series[0], &series[1]);
    let speedup = |x: &[f64], y: &[f64]| median_ratio(y, x);
    let secs = |v: &[f64]| median(v).map_or("-".into(), |v| format!("{v:.3}"));
    let load_speedup = speedup(&a.startup_secs, &b.startup_secs);
    let save_speedup = speedup(&a.save_secs, &b.save_secs);
    let mut table = Table::new(
        format!("RDB (issue 4): SAVE, file size and startup load, {} keys of mixed types (ringkv uring vs redis)", thousands(keys as f64)),
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
        "fill: ringkv_benches::scenario::rdb::dataset({keys}) through ringkv-benches' pipelined loader (1,000 commands per round trip), then DBSIZE, SAVE, SIGTERM"
    ));
    table.commands.push(
        "per pair and server: restart on the same --dir, PING every 5 ms until +PONG (not -LOADING), DBSIZE, SAVE (wall time), size of dump.rdb, SIGTERM".into(),
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
            "startup load, the server's \"DB loaded from disk\" line (s)".into(),
            secs(&a.logged_secs),
            secs(&b.logged_secs),
            format!(
                "{}× faster",
                fmt_ratio(speedup(&a.logged_secs, &b.logged_secs))
            ),
            "-".into(),
        ],
        vec![
            "SAVE (s)".into(),
            secs(&a.save_secs),
            secs(&b.save_secs),
            format!("{}× faster", fmt_ratio(save_speedup)),
            save_speedup.map_or("-".into(), |r| format!("≥ 1.0×: {}", met(r >= 1.0))),
        ],
        vec![
            "dump.rdb (MiB)".into(),
            median(&a.file_bytes).map_or("-".into(), mib),
            median(&b.file_bytes).map_or("-".into(), mib),
            format!(
                "{} ringkv/redis",
                fmt_ratio(median_ratio(&a.file_bytes, &b.file_bytes))
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
            "fill over the network, once (s)".into(),
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
        "Medians over {} restarts per server, alternating servers; ratios are medians of per-pair ratios (\"× faster\" = redis time / ringkv time). The data set has {} keys: 80% strings (8–120 bytes, a tenth integers, a twentieth with a one-day TTL), 5% each hashes, lists, sets (half integers) and sorted sets of 2–20 elements, and one key in {} a large hash/set/sorted set (2,000 elements) or list (10,000). Half the values compress under LZF. Both servers run with `rdbcompression yes`, `rdbchecksum yes`.",
        ctx.pairs,
        thousands(keys as f64),
        thousands(LARGE_EVERY as f64)
    );
    Ok(vec![table])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_set_is_deterministic_and_mixed() {
        let a: Vec<_> = dataset(20_000).collect();
        let b: Vec<_> = dataset(20_000).collect();
        assert_eq!(a, b);
        let count = |verb: &[u8]| a.iter().filter(|c| c[0] == verb).count();
        let sets = count(b"SET");
        assert!((15_000..17_000).contains(&sets), "{sets} strings");
        for verb in [&b"HSET"[..], b"RPUSH", b"SADD", b"ZADD"] {
            assert!(count(verb) > 500, "{}", String::from_utf8_lossy(verb));
        }
        // Keys 9,999 and 19,999 are large: 2,000 hash fields, 10,000 list
        // elements, each in commands of at most CHUNK elements.
        let large_hash: Vec<_> = a.iter().filter(|c| c[1] == b"k:9999").collect();
        assert_eq!(large_hash.len(), 20);
        assert!(large_hash
            .iter()
            .all(|c| c[0] == b"HSET" && c.len() == 2 + 2 * CHUNK));
        let large_list = a.iter().filter(|c| c[1] == b"k:19999").count();
        assert_eq!(large_list, 100);
    }
}

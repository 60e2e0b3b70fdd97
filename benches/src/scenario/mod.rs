//! Side-by-side scenarios that live outside the harness binary: each is a
//! function from the run context ([`Ctx`]) to markdown tables, listed in
//! `SCENARIOS` in `src/bin/sidebyside.rs`.
//!
//! - [`rdb`]: SAVE time, RDB size and startup load time (issue 4).
//! - [`aof_load`]: startup replay of a RESP AOF (issue 5).
//! - [`metrics`]: ringkv throughput with the metrics endpoint on vs off
//!   (issue 6).
//! - [`snapshot`], [`cow_curve`]: BGSAVE under write load, copy-on-write
//!   against write rate (issue 4).
//! - [`fsync_fio`]: `ringkv fsync-bench` against fio on one directory
//!   (issue 7).
//! - [`latency_cdf`]: latency distribution under `appendfsync always`.
//! - [`process`]: servers on directories that outlive a restart, and the
//!   timing of their startup load.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};

use crate::load::encode_command;
use crate::redis_benchmark::BenchSpec;
use crate::server::{Binaries, ServerKind};

pub mod aof_load;
pub mod cow_curve;
pub mod fsync_fio;
pub mod latency_cdf;
pub mod metrics;
pub mod process;
pub mod rdb;
pub mod snapshot;

/// What every scenario runs with.
pub struct Ctx {
    pub bins: Binaries,
    pub quick: bool,
    pub pairs: usize,
    pub server_cpus: String,
    pub load_cpus: String,
    /// Our load generator (`target/release/loadgen`).
    pub loadgen: PathBuf,
    /// Parent of every server's data directory.
    pub data_parent: PathBuf,
    /// Where charts go; `None`: no charts (the report is printed, not
    /// written to a file the images could sit next to).
    pub charts: Option<ChartDir>,
}

/// A folder of PNG charts and how the markdown refers to it.
#[derive(Debug, Clone)]
pub struct ChartDir {
    pub dir: PathBuf,
    /// Prefix of image links in the markdown (the folder relative to the
    /// markdown file), e.g. `docs/bench`.
    pub link_prefix: String,
}

impl Ctx {
    /// Draws the chart `name` (a file name such as `snapshot-rss.png`, or a
    /// `.csv` of its data) with `draw` and returns the markdown that shows
    /// or links it, a note saying why it is missing, or nothing when charts
    /// are off.
    pub fn chart(
        &self,
        name: &str,
        alt: &str,
        draw: impl FnOnce(&Path) -> anyhow::Result<()>,
    ) -> String {
        let Some(charts) = &self.charts else {
            return String::new();
        };
        let drawn = std::fs::create_dir_all(&charts.dir)
            .with_context(|| format!("creating {}", charts.dir.display()))
            .and_then(|()| draw(&charts.dir.join(name)));
        match drawn {
            // An image is shown; anything else (the data as CSV) linked.
            Ok(()) if name.ends_with(".png") => {
                format!("\n\n![{alt}]({}/{name})", charts.link_prefix)
            }
            Ok(()) => format!(" [{alt}]({}/{name}).", charts.link_prefix),
            Err(e) => {
                eprintln!("sidebyside: chart {name} failed: {e:#}");
                format!("\n\n(Chart {name} not drawn: {e:#})")
            }
        }
    }
}

/// Sends one command and returns its reply's first line (status, error,
/// integer, or a bulk string's contents when it fits on one line).
pub fn command(port: u16, args: &[&[u8]]) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).context("connecting")?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = Vec::new();
    encode_command(&mut out, args);
    s.write_all(&out)?;
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let line = line.trim_end().to_string();
    if let Some(e) = line.strip_prefix('-') {
        bail!(
            "{} failed: {e}",
            String::from_utf8_lossy(args.first().copied().unwrap_or_default())
        );
    }
    if line.starts_with('$') && line != "$-1" {
        let mut body = String::new();
        r.read_line(&mut body)?;
        return Ok(body.trim_end().to_string());
    }
    Ok(line)
}

/// The `field` of an INFO map as a number.
pub fn info_u64(fields: &std::collections::HashMap<String, String>, field: &str) -> Option<u64> {
    fields.get(field).and_then(|v| v.trim().parse().ok())
}

/// An error squeezed onto one markdown table line.
pub fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let s = s.replace('|', "/");
    match s.char_indices().nth(160) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s,
    }
}

/// `n` bytes as MiB with one decimal.
pub fn mib(n: f64) -> String {
    format!("{:.1}", n / (1024.0 * 1024.0))
}

/// SET/GET-style specs the harness compares at pipeline 1 and 16: 50
/// clients, 64-byte values, 100,000 random keys.
pub fn string_specs(ctx: &Ctx, tests: &str) -> Vec<BenchSpec> {
    let requests = if ctx.quick {
        (50_000, 200_000)
    } else {
        (200_000, 1_000_000)
    };
    pipeline_specs(tests, requests)
}

/// `tests` at pipeline 1 and 16 with (requests at 1, requests at 16): 50
/// clients, 64-byte values, 100,000 random keys.
pub fn pipeline_specs(tests: &str, (n1, n16): (u64, u64)) -> Vec<BenchSpec> {
    [(1, n1), (16, n16)]
        .into_iter()
        .map(|(pipeline, requests)| BenchSpec {
            tests: tests.to_string(),
            clients: 50,
            requests,
            data_size: 64,
            keyspace: 100_000,
            pipeline,
            loadgen: None,
        })
        .collect()
}

/// ringkv with the io_uring network backend, as the other scenarios
/// compare it.
pub fn ringkv_uring() -> ServerKind {
    ServerKind::Ringkv {
        backend: "uring".into(),
    }
}

pub fn fmt_ratio(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

pub fn met(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// splitmix64: a deterministic, well-mixed stream of pseudo-random words
/// from an index, so both servers get byte-identical data sets.
pub fn mix64(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value of `len` bytes derived from `seed`: half text that LZF can
/// compress (a repeated tag), half hex digits of mixed words (it cannot),
/// so `rdbcompression yes` does real work on both servers.
pub fn value_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    if seed.is_multiple_of(2) {
        let tag = format!("value:{seed}:");
        while out.len() < len {
            out.extend_from_slice(tag.as_bytes());
        }
    } else {
        let mut w = seed;
        while out.len() < len {
            w = mix64(w);
            out.extend_from_slice(format!("{w:016x}").as_bytes());
        }
    }
    out.truncate(len);
    out
}

/// Values for the data sets of the snapshot scenarios: printable bytes from
/// a xorshift stream, so RDB's LZF compression has little to gain (a
/// repeated byte would make every snapshot trivially small and fast).
pub fn noise_value(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            b'!' + (x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 58) as u8
        })
        .collect()
}

/// The key loadgen's `-r` keyspace uses for number `i` (`key:%012d`), so
/// the load generator's random SETs land on the loaded keys.
pub fn loadgen_key(i: u64) -> Vec<u8> {
    format!("key:{i:012}").into_bytes()
}

/// Loads `keys` string keys of `value_len` bytes (loadgen's key names) and
/// returns the bytes of keys and values loaded.
pub fn load_strings(port: u16, keys: u64, value_len: usize) -> anyhow::Result<u64> {
    let commands =
        (0..keys).map(|i| vec![b"SET".to_vec(), loadgen_key(i), noise_value(i, value_len)]);
    crate::load::bulk_load(port, commands)?;
    Ok(keys * (loadgen_key(0).len() + value_len) as u64)
}

/// A loadgen run in the background that lasts until [`LoadgenRun::finish`]
/// closes its standard input.
pub struct LoadgenRun {
    /// `None` once finished.
    child: Option<std::process::Child>,
    /// The command line, for the report (`$PORT` for the port).
    pub display: String,
}

impl LoadgenRun {
    /// Starts `loadgen <args> --until-stdin-eof` pinned to the load CPUs.
    pub fn start(ctx: &Ctx, port: u16, args: &[String]) -> anyhow::Result<LoadgenRun> {
        let mut full: Vec<String> = vec!["--port".into(), port.to_string()];
        full.extend(args.iter().cloned());
        full.push("--until-stdin-eof".into());
        let child = std::process::Command::new("taskset")
            .arg("-c")
            .arg(&ctx.load_cpus)
            .arg(&ctx.loadgen)
            .args(&full)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", ctx.loadgen.display()))?;
        let display = Self::display_for(ctx, args);
        Ok(LoadgenRun {
            child: Some(child),
            display,
        })
    }

    /// The command line [`LoadgenRun::start`] runs for `args`.
    pub fn display_for(ctx: &Ctx, args: &[String]) -> String {
        format!(
            "taskset -c {} loadgen --port $PORT {} --until-stdin-eof",
            ctx.load_cpus,
            args.join(" ")
        )
    }

    /// Stops issuing requests, waits for the outstanding ones and returns
    /// the CSV row of the (single) test.
    pub fn finish(mut self) -> anyhow::Result<crate::redis_benchmark::CsvRow> {
        let mut child = self.child.take().context("loadgen already finished")?;
        drop(child.stdin.take());
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("loadgen failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        crate::redis_benchmark::parse_csv(&String::from_utf8_lossy(&out.stdout))?
            .into_iter()
            .next()
            .context("loadgen printed no result")
    }
}

impl Drop for LoadgenRun {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The per-request log loadgen writes with `--latency-log`: the run's
/// start (unix µs) and (due offset µs, latency µs) per request.
pub fn read_latency_log(path: &Path) -> anyhow::Result<(u128, Vec<(u64, u64)>)> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut start = None;
    let mut requests = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix('#') {
            start = rest
                .split_whitespace()
                .skip_while(|w| *w != "start_unix_us")
                .nth(1)
                .and_then(|v| v.parse().ok());
            continue;
        }
        let mut w = line.split_whitespace().map(str::parse::<u64>);
        if let (Some(Ok(due)), Some(Ok(lat))) = (w.next(), w.next()) {
            requests.push((due, lat));
        }
    }
    Ok((start.context("latency log without a start line")?, requests))
}

/// Microseconds since the Unix epoch.
pub fn unix_us() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn noise_values_are_printable_and_varied() {
        let v = noise_value(7, 1000);
        assert_eq!(v.len(), 1000);
        assert!(v.iter().all(|b| (b'!'..b'!' + 64).contains(b)));
        let distinct: std::collections::HashSet<u8> = v.iter().copied().collect();
        assert!(distinct.len() > 50);
        assert_ne!(noise_value(8, 1000), v);
        assert_eq!(loadgen_key(42), b"key:000000000042");
    }

    #[test]
    fn reads_latency_logs() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log");
        std::fs::write(
            &p,
            "# test set start_unix_us 1700000000000000\n10 250\n20 300\n",
        )
        .unwrap();
        let (start, reqs) = read_latency_log(&p).unwrap();
        assert_eq!(start, 1_700_000_000_000_000);
        assert_eq!(reqs, vec![(10, 250), (20, 300)]);
    }

    #[test]
    fn values_are_deterministic_and_sized() {
        assert_eq!(value_bytes(4, 30), value_bytes(4, 30));
        assert_eq!(value_bytes(4, 30).len(), 30);
        assert_eq!(value_bytes(7, 33).len(), 33);
        assert_ne!(value_bytes(7, 33), value_bytes(9, 33));
        assert!(value_bytes(4, 12).starts_with(b"value:4:"));
        assert_ne!(mix64(1), mix64(2));
    }

    #[test]
    fn one_line_squeezes_errors() {
        assert_eq!(one_line("a\n b | c"), "a b / c");
        assert!(one_line(&"x ".repeat(200)).ends_with("..."));
    }
}

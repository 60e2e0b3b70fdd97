//! Running `redis-benchmark` (pinned to the load CPU) and parsing its
//! `--csv` output. Our load generator prints the same columns, so both
//! parse here.

use std::process::Command;

use anyhow::{bail, Context};

/// The CSV header redis-benchmark 7.0 prints.
pub const CSV_HEADER: &str = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"";

/// One test's line of CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub test: String,
    pub rps: f64,
    pub avg_ms: f64,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl CsvRow {
    /// The row as redis-benchmark would print it.
    pub fn to_csv(&self) -> String {
        format!(
            "\"{}\",\"{:.2}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\",\"{:.3}\"",
            self.test,
            self.rps,
            self.avg_ms,
            self.min_ms,
            self.p50_ms,
            self.p95_ms,
            self.p99_ms,
            self.max_ms
        )
    }
}

/// Splits one CSV line of quoted fields.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Parses redis-benchmark `--csv` output (header, then one row per test).
pub fn parse_csv(text: &str) -> anyhow::Result<Vec<CsvRow>> {
    let mut rows = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("\"test\"") {
            continue;
        }
        let f = fields(line);
        if f.len() != 8 {
            bail!("unexpected redis-benchmark CSV line: {line}");
        }
        let num = |i: usize| -> anyhow::Result<f64> {
            f[i].parse::<f64>()
                .with_context(|| format!("bad number {:?} in CSV line {line}", f[i]))
        };
        rows.push(CsvRow {
            test: f[0].clone(),
            rps: num(1)?,
            avg_ms: num(2)?,
            min_ms: num(3)?,
            p50_ms: num(4)?,
            p95_ms: num(5)?,
            p99_ms: num(6)?,
            max_ms: num(7)?,
        });
    }
    Ok(rows)
}

/// A redis-benchmark invocation.
#[derive(Debug, Clone)]
pub struct BenchSpec {
    /// `-t` list, e.g. `set,get`.
    pub tests: String,
    pub clients: u32,
    pub requests: u64,
    /// `-d`: value size in bytes.
    pub data_size: u32,
    /// `-r`: random keys from this keyspace (0: one fixed key).
    pub keyspace: u64,
    /// `-P`: pipeline depth.
    pub pipeline: u32,
    /// Drive the run with our load generator (this binary) instead of
    /// redis-benchmark, for rows where redis-benchmark's one core is the
    /// limit; same arguments, same CSV.
    pub loadgen: Option<std::path::PathBuf>,
}

impl BenchSpec {
    pub fn args(&self, port: u16) -> Vec<String> {
        // loadgen spells the host `--host` (clap keeps `-h` for help).
        let host_flag = if self.loadgen.is_some() {
            "--host"
        } else {
            "-h"
        };
        let mut a = vec![
            host_flag.to_string(),
            "127.0.0.1".to_string(),
            "-p".to_string(),
            port.to_string(),
            "-t".to_string(),
            self.tests.clone(),
            "-c".to_string(),
            self.clients.to_string(),
            "-n".to_string(),
            self.requests.to_string(),
            "-d".to_string(),
            self.data_size.to_string(),
            "-P".to_string(),
            self.pipeline.to_string(),
        ];
        if self.keyspace > 0 {
            a.push("-r".to_string());
            a.push(self.keyspace.to_string());
        }
        a.push("--csv".to_string());
        a
    }

    /// The command line, for the report (port shown as `$PORT`).
    pub fn display(&self, load_cpus: &str) -> String {
        let args: Vec<String> = self
            .args(0)
            .into_iter()
            .map(|a| if a == "0" { "$PORT".into() } else { a })
            .collect();
        let program = match &self.loadgen {
            Some(_) => "target/release/loadgen",
            None => "redis-benchmark",
        };
        format!("taskset -c {load_cpus} {program} {}", args.join(" "))
    }

    /// Runs redis-benchmark (or our loadgen) against `port`, pinned to `load_cpus`.
    pub fn run(&self, port: u16, load_cpus: &str) -> anyhow::Result<Vec<CsvRow>> {
        let program: &std::ffi::OsStr = match &self.loadgen {
            Some(path) => path.as_os_str(),
            None => "redis-benchmark".as_ref(),
        };
        let out = Command::new("taskset")
            .arg("-c")
            .arg(load_cpus)
            .arg(program)
            .args(self.args(port))
            .output()
            .with_context(|| format!("running {}", program.to_string_lossy()))?;
        if !out.status.success() {
            bail!(
                "redis-benchmark failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let rows = parse_csv(&String::from_utf8_lossy(&out.stdout))?;
        if rows.is_empty() {
            bail!("redis-benchmark printed no results");
        }
        Ok(rows)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_benchmark_7_csv() {
        let text = format!(
            "{CSV_HEADER}\n\"SET\",\"9363.30\",\"4.475\",\"0.136\",\"2.375\",\"15.799\",\"20.719\",\"28.239\"\n\
             \"LRANGE_100 (first 100 elements)\",\"12987.01\",\"2.743\",\"0.264\",\"1.951\",\"7.447\",\"9.303\",\"12.095\"\n"
        );
        let rows = parse_csv(&text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].test, "SET");
        assert_eq!(rows[0].rps, 9363.30);
        assert_eq!(rows[0].p99_ms, 20.719);
        assert_eq!(rows[1].test, "LRANGE_100 (first 100 elements)");
        assert_eq!(parse_csv(&rows[0].to_csv()).unwrap()[0], rows[0]);
        assert!(parse_csv("\"SET\",\"1\"").is_err());
    }
}

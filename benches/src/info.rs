//! Reading a server's `INFO <section>` and the AOF group-commit counters
//! ringkv reports in `INFO persistence`, so a run's fsyncs and group sizes
//! come from the server's own counters (before/after deltas).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context};

/// Sends `INFO <section>` and returns its `field:value` lines.
pub fn info(port: u16, section: &str) -> anyhow::Result<HashMap<String, String>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).context("connecting for INFO")?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(format!("*2\r\n$4\r\nINFO\r\n${}\r\n{section}\r\n", section.len()).as_bytes())?;
    let mut r = BufReader::new(s);
    let mut header = String::new();
    r.read_line(&mut header)?;
    // RESP2 bulk string `$<len>` (RESP3 verbatim `=` does not occur: the
    // connection never sent HELLO 3).
    let len: usize = match header.trim_end().strip_prefix('$') {
        Some(n) => n
            .parse()
            .with_context(|| format!("bad INFO header {header:?}"))?,
        None => bail!("unexpected INFO reply {:?}", header.trim_end()),
    };
    let mut body = vec![0u8; len + 2];
    r.read_exact(&mut body)?;
    Ok(parse_info(&String::from_utf8_lossy(&body[..len])))
}

/// Parses an INFO body: `# Section` headers and blank lines are skipped,
/// every other line is `field:value` (the value may contain `:`).
pub fn parse_info(body: &str) -> HashMap<String, String> {
    body.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// ringkv's group-commit counters at one instant (cumulative since start).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AofCounters {
    pub fsync_groups: u64,
    pub fsyncs: u64,
    /// Records in all groups; INFO gives the mean, so this is
    /// `mean × groups`, exact to the two decimals INFO prints.
    pub records: f64,
    pub fsync_latency_us_total: f64,
}

/// What happened between two [`AofCounters`] readings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AofDelta {
    pub fsyncs: u64,
    pub mean_group_records: Option<f64>,
    pub fsync_mean_latency_us: Option<f64>,
}

impl AofCounters {
    /// The counters from an `INFO persistence` map; `None` when the server
    /// does not report them (redis, or ringkv with appendonly no).
    pub fn from_info(fields: &HashMap<String, String>) -> Option<AofCounters> {
        let num = |k: &str| fields.get(k).and_then(|v| v.trim().parse::<f64>().ok());
        let groups = num("aof_fsync_groups")?;
        let fsyncs = num("aof_fsyncs")?;
        let mean_group = num("aof_mean_group_records")?;
        let mean_latency_us = num("aof_fsync_mean_latency_us")?;
        Some(AofCounters {
            fsync_groups: groups as u64,
            fsyncs: fsyncs as u64,
            records: mean_group * groups,
            fsync_latency_us_total: mean_latency_us * fsyncs,
        })
    }

    /// The change from `before` to `self`.
    pub fn since(&self, before: &AofCounters) -> AofDelta {
        let groups = self.fsync_groups.saturating_sub(before.fsync_groups);
        let fsyncs = self.fsyncs.saturating_sub(before.fsyncs);
        AofDelta {
            fsyncs,
            mean_group_records: (groups > 0)
                .then(|| (self.records - before.records) / groups as f64),
            fsync_mean_latency_us: (fsyncs > 0).then(|| {
                (self.fsync_latency_us_total - before.fsync_latency_us_total) / fsyncs as f64
            }),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_and_takes_deltas() {
        let before = parse_info(
            "# Persistence\r\nloading:0\r\naof_enabled:1\r\naof_fsync_groups:10\r\naof_fsyncs:10\r\naof_mean_group_records:2.00\r\naof_fsync_mean_latency_us:3000\r\nweird:a:b\r\n",
        );
        assert_eq!(before.get("weird").map(String::as_str), Some("a:b"));
        assert_eq!(before.get("loading").map(String::as_str), Some("0"));
        let b = AofCounters::from_info(&before).unwrap();
        let after = parse_info(
            "aof_fsync_groups:30\r\naof_fsyncs:30\r\naof_mean_group_records:14.00\r\naof_fsync_mean_latency_us:2000\r\n",
        );
        let a = AofCounters::from_info(&after).unwrap();
        let d = a.since(&b);
        assert_eq!(d.fsyncs, 20);
        // 30*14 - 10*2 = 400 records in 20 new groups.
        assert_eq!(d.mean_group_records, Some(20.0));
        // 30*2000 - 10*3000 = 30000 µs over 20 fsyncs.
        assert_eq!(d.fsync_mean_latency_us, Some(1500.0));
        assert_eq!(a.since(&a).mean_group_records, None);
        // redis has no group-commit counters.
        assert_eq!(
            AofCounters::from_info(&parse_info("aof_enabled:1\r\n")),
            None
        );
    }
}

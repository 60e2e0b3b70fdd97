//! Per-command duration histograms, kept outside the exporter. Handing
//! every sample to `metrics-exporter-prometheus` costs more than many of
//! the commands it measures (an atomic bucket push per sample, drained
//! again by upkeep; its `record_many` loops over single records). So each
//! io-thread counts its samples locally against fixed bucket bounds and
//! merges them into one shared table every quarter second; `/metrics`
//! renders that table as a standard Prometheus histogram next to the
//! exporter's output.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::Duration;

use parking_lot::Mutex;
use quanta::Instant;

use super::catalog::{COMMAND_BUCKETS_SECONDS, COMMAND_DURATION_SECONDS};

/// Longest samples wait locally while commands keep coming.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// Buckets of the histogram: one per bound, plus `+Inf`.
const BUCKET_COUNT: usize = COMMAND_BUCKETS_SECONDS.len() + 1;

/// Samples of one command: per-bucket (not cumulative) counts and the sum.
#[derive(Debug, Clone, Copy)]
struct Samples {
    counts: [u64; BUCKET_COUNT],
    sum_secs: f64,
}

impl Default for Samples {
    fn default() -> Samples {
        Samples {
            counts: [0; BUCKET_COUNT],
            sum_secs: 0.0,
        }
    }
}

/// Every io-thread's flushed samples, by command index, since start.
struct SharedHistograms {
    names: Vec<&'static str>,
    by_command: Vec<Option<Samples>>,
}

static SHARED: OnceLock<Mutex<SharedHistograms>> = OnceLock::new();

fn shared(names: &[&'static str]) -> &'static Mutex<SharedHistograms> {
    SHARED.get_or_init(|| {
        Mutex::new(SharedHistograms {
            names: names.to_vec(),
            by_command: vec![None; names.len()],
        })
    })
}

/// Index of the bucket `secs` counts in: the first bound at or above it
/// (Prometheus's `le`), or `+Inf`.
#[inline]
fn bucket_index(secs: f64) -> usize {
    COMMAND_BUCKETS_SECONDS
        .iter()
        .position(|&bound| secs <= bound)
        .unwrap_or(COMMAND_BUCKETS_SECONDS.len())
}

/// One io-thread's recorder.
pub struct CommandMetrics {
    /// Indexed like the command table; allocated on a command's first call.
    pending: Vec<Option<Box<Samples>>>,
    /// Commands with samples since the last flush.
    dirty: Vec<u32>,
    names: Vec<&'static str>,
    last_flush: Instant,
    enabled: bool,
}

impl CommandMetrics {
    pub fn new(names: Vec<&'static str>) -> CommandMetrics {
        CommandMetrics {
            pending: vec![None; names.len()],
            dirty: Vec::new(),
            names,
            last_flush: Instant::now(),
            enabled: super::enabled(),
        }
    }

    /// Records one call; `now` is when it finished.
    #[inline]
    pub fn record(&mut self, idx: usize, took: Duration, now: Instant) {
        if !self.enabled {
            return;
        }
        debug_assert!(idx < self.pending.len());
        let Some(slot) = self.pending.get_mut(idx) else {
            return;
        };
        let samples = slot.get_or_insert_with(Box::default);
        let secs = took.as_secs_f64();
        // Samples are only zeroed by a flush, which also empties `dirty`:
        // a zero sum means this is the command's first sample since then.
        if samples.sum_secs == 0.0 && !self.dirty.contains(&(idx as u32)) {
            self.dirty.push(idx as u32);
        }
        samples.counts[bucket_index(secs)] += 1;
        samples.sum_secs += secs;
        if now.saturating_duration_since(self.last_flush) >= FLUSH_INTERVAL {
            self.flush(now);
        }
    }

    /// Merges this thread's samples into the shared table.
    pub fn flush(&mut self, now: Instant) {
        self.last_flush = now;
        if self.dirty.is_empty() {
            return;
        }
        let mut table = shared(&self.names).lock();
        for idx in self.dirty.drain(..) {
            let idx = idx as usize;
            let (Some(Some(local)), Some(total)) =
                (self.pending.get_mut(idx), table.by_command.get_mut(idx))
            else {
                continue;
            };
            let total = total.get_or_insert_with(Samples::default);
            for (t, l) in total.counts.iter_mut().zip(local.counts.iter()) {
                *t += l;
            }
            total.sum_secs += local.sum_secs;
            **local = Samples::default();
        }
    }
}

impl Drop for CommandMetrics {
    fn drop(&mut self) {
        self.flush(Instant::now());
    }
}

/// Appends the per-command histogram in Prometheus's text format.
pub fn render(out: &mut String) {
    let Some(table) = SHARED.get() else {
        return;
    };
    let table = table.lock();
    let _ = writeln!(
        out,
        "# HELP {COMMAND_DURATION_SECONDS} Time spent executing a command, by command."
    );
    let _ = writeln!(out, "# TYPE {COMMAND_DURATION_SECONDS} histogram");
    for (name, samples) in table.names.iter().zip(&table.by_command) {
        let Some(s) = samples else {
            continue;
        };
        let mut cumulative = 0u64;
        for (i, count) in s.counts.iter().enumerate() {
            cumulative += count;
            let le = COMMAND_BUCKETS_SECONDS
                .get(i)
                .map_or_else(|| "+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "{COMMAND_DURATION_SECONDS}_bucket{{cmd=\"{name}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            out,
            "{COMMAND_DURATION_SECONDS}_sum{{cmd=\"{name}\"}} {}",
            s.sum_secs
        );
        let _ = writeln!(
            out,
            "{COMMAND_DURATION_SECONDS}_count{{cmd=\"{name}\"}} {cumulative}"
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn samples_land_in_prometheus_le_buckets() {
        assert_eq!(bucket_index(0.0), 0);
        assert_eq!(
            bucket_index(COMMAND_BUCKETS_SECONDS[0]),
            0,
            "le is inclusive"
        );
        assert_eq!(bucket_index(0.000_002), 1);
        assert_eq!(bucket_index(1.0), COMMAND_BUCKETS_SECONDS.len() - 1);
        assert_eq!(bucket_index(5.0), COMMAND_BUCKETS_SECONDS.len());
    }

    #[test]
    fn flushed_samples_render_as_a_cumulative_histogram() {
        let mut m = CommandMetrics::new(vec!["get", "set"]);
        m.enabled = true;
        let now = Instant::now();
        m.record(1, Duration::from_nanos(500), now);
        m.record(1, Duration::from_micros(3), now);
        m.record(1, Duration::from_secs(2), now);
        m.flush(now);
        let mut text = String::new();
        render(&mut text);
        let line = |suffix: &str| {
            text.lines()
                .find(|l| l.starts_with(&format!("{COMMAND_DURATION_SECONDS}{suffix}")))
                .unwrap_or_else(|| panic!("{suffix} missing from\n{text}"))
                .to_string()
        };
        assert!(line("_bucket{cmd=\"set\",le=\"0.000001\"}").ends_with(" 1"));
        assert!(line("_bucket{cmd=\"set\",le=\"0.000005\"}").ends_with(" 2"));
        assert!(line("_bucket{cmd=\"set\",le=\"+Inf\"}").ends_with(" 3"));
        assert!(line("_count{cmd=\"set\"}").ends_with(" 3"));
        let sum: f64 = line("_sum{cmd=\"set\"}")
            .rsplit(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((sum - 2.0000035).abs() < 1e-9);
        assert!(!text.contains("cmd=\"get\""), "unused commands stay out");
    }
}

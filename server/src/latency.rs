//! Command latency as Redis 7.0 keeps it: a per-command HDR histogram
//! (INFO latencystats, LATENCY HISTOGRAM) and the latency monitor's events
//! (LATENCY LATEST/HISTORY/RESET, on when `latency-monitor-threshold` > 0).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use hdrhistogram::Histogram;
use parking_lot::Mutex;

/// Redis's `LATENCY_HISTOGRAM_MIN_VALUE`/`MAX_VALUE` (nanoseconds) and
/// precision: values outside are clamped.
const HIST_MIN_NS: u64 = 1;
const HIST_MAX_NS: u64 = 1_000_000_000;
const HIST_SIGFIG: u8 = 2;
/// Redis's `LATENCY_TS_LEN`: samples kept per event.
const HISTORY_LEN: usize = 160;

/// Per-command latency distribution in nanoseconds.
#[derive(Debug, Clone)]
pub struct CommandLatency {
    hist: Histogram<u64>,
}

impl CommandLatency {
    pub fn new() -> CommandLatency {
        CommandLatency {
            hist: Histogram::new_with_bounds(HIST_MIN_NS, HIST_MAX_NS, HIST_SIGFIG)
                .expect("constant histogram bounds are valid"),
        }
    }

    pub fn record_ns(&mut self, ns: u64) {
        let v = ns.clamp(HIST_MIN_NS, HIST_MAX_NS);
        // Cannot fail: the value is clamped into the histogram's range.
        let _ = self.hist.record(v);
    }

    /// Adds another thread's samples.
    pub fn merge(&mut self, other: &CommandLatency) {
        // Same bounds on both sides, so adding cannot fail.
        let _ = self.hist.add(&other.hist);
    }

    pub fn calls(&self) -> u64 {
        self.hist.len()
    }

    /// The value at `percentile` (0..=100), in microseconds.
    pub fn percentile_us(&self, percentile: f64) -> f64 {
        self.hist.value_at_percentile(percentile) as f64 / 1000.0
    }

    /// Cumulative counts at power-of-two microsecond bounds, as
    /// `LATENCY HISTOGRAM` prints them (from 1 µs up to the largest sample).
    pub fn cumulative_usec_buckets(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        if self.hist.is_empty() {
            return out;
        }
        let max_us = self.hist.max().div_ceil(1000).max(1);
        let mut bound_us = 1u64;
        let mut last = u64::MAX;
        loop {
            let count = self.hist.count_between(0, bound_us * 1000);
            if count != last {
                out.push((bound_us, count));
                last = count;
            }
            if bound_us >= max_us {
                break;
            }
            bound_us *= 2;
        }
        out
    }
}

impl Default for CommandLatency {
    fn default() -> Self {
        CommandLatency::new()
    }
}

/// Formats a percentile label as Redis does (`50`, `99`, `99.9`).
pub fn percentile_label(p: f64) -> String {
    let s = format!("{p:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One latency monitor event: its latest sample, worst, and history.
#[derive(Debug, Default, Clone)]
pub struct LatencyEvent {
    pub latest_unix_s: i64,
    pub latest_ms: u64,
    pub max_ms: u64,
    /// (unix seconds, ms), oldest first; one sample per second.
    pub history: VecDeque<(i64, u64)>,
}

/// The latency monitor. `threshold_ms` mirrors `latency-monitor-threshold`,
/// `tracking` mirrors `latency-tracking` (per-command histograms).
#[derive(Debug)]
pub struct LatencyMonitor {
    threshold_ms: AtomicU64,
    tracking: AtomicBool,
    events: Mutex<HashMap<&'static str, LatencyEvent>>,
}

impl Default for LatencyMonitor {
    fn default() -> Self {
        LatencyMonitor {
            threshold_ms: AtomicU64::new(0),
            tracking: AtomicBool::new(true),
            events: Mutex::new(HashMap::new()),
        }
    }
}

impl LatencyMonitor {
    pub fn configure(&self, threshold_ms: u64, tracking: bool) {
        self.threshold_ms.store(threshold_ms, Ordering::Relaxed);
        self.tracking.store(tracking, Ordering::Relaxed);
    }

    /// Whether per-command latency histograms are kept.
    #[inline]
    pub fn tracking(&self) -> bool {
        self.tracking.load(Ordering::Relaxed)
    }

    /// Whether a `duration_us` sample is an event (the command path's check).
    #[inline]
    pub fn wants(&self, duration_us: u64) -> bool {
        let t = self.threshold_ms.load(Ordering::Relaxed);
        t > 0 && duration_us / 1000 >= t
    }

    pub fn add_sample(&self, event: &'static str, unix_s: i64, ms: u64) {
        let mut events = self.events.lock();
        let e = events.entry(event).or_default();
        e.latest_unix_s = unix_s;
        e.latest_ms = ms;
        e.max_ms = e.max_ms.max(ms);
        // Redis keeps the worst sample of each second.
        match e.history.back_mut() {
            Some(last) if last.0 == unix_s => last.1 = last.1.max(ms),
            _ => {
                e.history.push_back((unix_s, ms));
                if e.history.len() > HISTORY_LEN {
                    e.history.pop_front();
                }
            }
        }
    }

    pub fn latest(&self) -> Vec<(&'static str, LatencyEvent)> {
        let mut v: Vec<_> = self
            .events
            .lock()
            .iter()
            .map(|(k, e)| (*k, e.clone()))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    pub fn history(&self, event: &str) -> Vec<(i64, u64)> {
        self.events
            .lock()
            .get(event)
            .map(|e| e.history.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Resets the named events (all for an empty list); returns how many existed.
    pub fn reset(&self, names: &[&str]) -> usize {
        let mut events = self.events.lock();
        if names.is_empty() {
            let n = events.len();
            events.clear();
            return n;
        }
        names
            .iter()
            .filter(|n| events.remove(**n).is_some())
            .count()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_in_usec() {
        let mut l = CommandLatency::new();
        for _ in 0..99 {
            l.record_ns(1_000);
        }
        l.record_ns(100_000);
        assert_eq!(l.calls(), 100);
        assert!((l.percentile_us(50.0) - 1.0).abs() < 0.02);
        assert!((l.percentile_us(100.0) - 100.0).abs() < 1.0);
        let mut other = CommandLatency::new();
        other.record_ns(0); // clamped to 1 ns
        other.record_ns(u64::MAX); // clamped to 1 s
        l.merge(&other);
        assert_eq!(l.calls(), 102);
    }

    #[test]
    fn cumulative_buckets_end_at_total() {
        let mut l = CommandLatency::new();
        l.record_ns(500);
        l.record_ns(3_000);
        l.record_ns(9_000);
        let b = l.cumulative_usec_buckets();
        assert_eq!(b.first().unwrap(), &(1, 1));
        assert_eq!(b.last().unwrap().1, 3);
        assert!(b.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
    }

    #[test]
    fn labels_like_redis() {
        assert_eq!(percentile_label(50.0), "50");
        assert_eq!(percentile_label(99.9), "99.9");
        assert_eq!(percentile_label(99.99), "99.99");
    }

    #[test]
    fn monitor_events() {
        let m = LatencyMonitor::default();
        assert!(!m.wants(1_000_000));
        m.configure(10, true);
        assert!(!m.wants(9_999));
        assert!(m.wants(10_000));
        m.add_sample("command", 100, 12);
        m.add_sample("command", 100, 15);
        m.add_sample("command", 101, 11);
        let latest = m.latest();
        assert_eq!(latest.len(), 1);
        assert_eq!(latest[0].1.latest_ms, 11);
        assert_eq!(latest[0].1.max_ms, 15);
        assert_eq!(m.history("command"), vec![(100, 15), (101, 11)]);
        assert_eq!(m.reset(&["nope"]), 0);
        assert_eq!(m.reset(&[]), 1);
    }
}

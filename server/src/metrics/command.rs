//! Per-command duration histograms. Handing every sample to the exporter
//! costs far more than the command it measures (an atomic bucket push per
//! sample, drained again by the upkeep thread), so each io-thread sorts its
//! samples into the exporter's own bucket bounds locally and hands over one
//! `record_many(mean, count)` per non-empty bucket every quarter second.
//! The mean of samples that fell into one bucket lies inside that bucket,
//! so Prometheus sees the same bucket counts and the same `_sum` as if
//! every sample had been recorded. Handles are resolved on a command's
//! first flush, so the command path never hashes a metric name.

use std::time::Duration;

use metrics::Histogram;
use quanta::Instant;

use super::catalog::{COMMAND_BUCKETS_SECONDS, COMMAND_DURATION_SECONDS};

/// Longest samples wait locally while commands keep coming.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

/// Buckets of the histogram: one per bound, plus `+Inf`.
const BUCKET_COUNT: usize = COMMAND_BUCKETS_SECONDS.len() + 1;

/// Samples of one command since the last flush, by bucket.
#[derive(Debug, Default, Clone, Copy)]
struct Bucket {
    count: u64,
    sum_secs: f64,
}

pub struct CommandMetrics {
    /// Indexed like the command table; allocated on a command's first call.
    pending: Vec<Option<Box<[Bucket; BUCKET_COUNT]>>>,
    /// Commands with samples since the last flush.
    dirty: Vec<u32>,
    handles: Vec<Option<Histogram>>,
    names: Vec<&'static str>,
    last_flush: Instant,
    enabled: bool,
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

/// A value the exporter files into bucket `index`: the samples' mean,
/// kept inside the bucket's bounds against rounding.
fn representative(index: usize, b: &Bucket) -> f64 {
    debug_assert!(b.count > 0);
    let mean = b.sum_secs / b.count as f64;
    let upper = COMMAND_BUCKETS_SECONDS
        .get(index)
        .copied()
        .unwrap_or(f64::INFINITY);
    let lower = index
        .checked_sub(1)
        .map_or(f64::NEG_INFINITY, |i| COMMAND_BUCKETS_SECONDS[i]);
    if mean > upper {
        upper
    } else if mean <= lower {
        // The next float above the lower bound (bounds are positive).
        f64::from_bits(lower.to_bits() + 1)
    } else {
        mean
    }
}

impl CommandMetrics {
    pub fn new(names: Vec<&'static str>) -> CommandMetrics {
        CommandMetrics {
            pending: vec![None; names.len()],
            dirty: Vec::new(),
            handles: vec![None; names.len()],
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
        let buckets = slot.get_or_insert_with(|| Box::new([Bucket::default(); BUCKET_COUNT]));
        let secs = took.as_secs_f64();
        let b = &mut buckets[bucket_index(secs)];
        if b.count == 0 && !self.dirty.contains(&(idx as u32)) {
            self.dirty.push(idx as u32);
        }
        b.count += 1;
        b.sum_secs += secs;
        if now.saturating_duration_since(self.last_flush) >= FLUSH_INTERVAL {
            self.flush(now);
        }
    }

    /// Hands every pending bucket to the exporter.
    pub fn flush(&mut self, now: Instant) {
        self.last_flush = now;
        for idx in self.dirty.drain(..) {
            let idx = idx as usize;
            let (Some(Some(buckets)), Some(handle), Some(&name)) = (
                self.pending.get_mut(idx),
                self.handles.get_mut(idx),
                self.names.get(idx),
            ) else {
                continue;
            };
            let handle = handle.get_or_insert_with(
                || metrics::histogram!(COMMAND_DURATION_SECONDS, "cmd" => name),
            );
            for (i, b) in buckets.iter_mut().enumerate() {
                if b.count > 0 {
                    let count = usize::try_from(b.count).unwrap_or(usize::MAX);
                    handle.record_many(representative(i, b), count);
                    *b = Bucket::default();
                }
            }
        }
    }
}

impl Drop for CommandMetrics {
    fn drop(&mut self) {
        self.flush(Instant::now());
    }
}

#[cfg(test)]
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
    fn representatives_stay_in_their_bucket_and_keep_the_sum() {
        // Three samples at exactly the upper bound: the mean may round
        // above it, the representative must not.
        let bound = COMMAND_BUCKETS_SECONDS[3];
        let b = Bucket {
            count: 3,
            sum_secs: bound + bound + bound,
        };
        let r = representative(3, &b);
        assert_eq!(bucket_index(r), 3);
        assert!((r * 3.0 - b.sum_secs).abs() < 1e-15);
        let above_inf = Bucket {
            count: 2,
            sum_secs: 7.0,
        };
        assert_eq!(representative(BUCKET_COUNT - 1, &above_inf), 3.5);
        let at_lower = Bucket {
            count: 1,
            sum_secs: COMMAND_BUCKETS_SECONDS[4],
        };
        assert_eq!(bucket_index(representative(5, &at_lower)), 5);
    }
}

//! Per-command duration histograms. Recording straight into the exporter's
//! histogram costs an atomic read-modify-write on a cache line the other
//! io-threads write too; so each io-thread buffers its samples and hands
//! them over in bursts (when the buffer fills or a quarter second passed),
//! which keeps the metrics-on/off throughput difference within noise.
//! Handles are resolved on a command's first flush, so the command path
//! never hashes a metric name.

use std::time::Duration;

use quanta::Instant;

use metrics::Histogram;

use super::catalog::COMMAND_DURATION_SECONDS;

/// Samples buffered per io-thread before a flush.
const BUFFER_SAMPLES: usize = 1024;
/// Longest a sample waits in the buffer while commands keep coming.
const FLUSH_INTERVAL: Duration = Duration::from_millis(250);

pub struct CommandMetrics {
    /// Indexed like the command table.
    duration: Vec<Option<Histogram>>,
    names: Vec<&'static str>,
    /// (command index, seconds)
    pending: Vec<(u32, f64)>,
    last_flush: Instant,
    enabled: bool,
}

impl CommandMetrics {
    pub fn new(names: Vec<&'static str>) -> CommandMetrics {
        let enabled = super::enabled();
        CommandMetrics {
            duration: vec![None; names.len()],
            names,
            pending: Vec::with_capacity(if enabled { BUFFER_SAMPLES } else { 0 }),
            last_flush: Instant::now(),
            enabled,
        }
    }

    /// Records one call; `now` is when it finished.
    #[inline]
    pub fn record(&mut self, idx: usize, took: Duration, now: Instant) {
        if !self.enabled {
            return;
        }
        debug_assert!(idx < self.duration.len());
        self.pending
            .push((u32::try_from(idx).unwrap_or(u32::MAX), took.as_secs_f64()));
        if self.pending.len() >= BUFFER_SAMPLES
            || now.saturating_duration_since(self.last_flush) >= FLUSH_INTERVAL
        {
            self.flush(now);
        }
    }

    /// Hands every buffered sample to the exporter.
    pub fn flush(&mut self, now: Instant) {
        self.last_flush = now;
        for (idx, secs) in self.pending.drain(..) {
            let idx = idx as usize;
            let (Some(slot), Some(name)) = (self.duration.get_mut(idx), self.names.get(idx)) else {
                continue;
            };
            let name: &'static str = name;
            slot.get_or_insert_with(
                || metrics::histogram!(COMMAND_DURATION_SECONDS, "cmd" => name),
            )
            .record(secs);
        }
    }
}

impl Drop for CommandMetrics {
    fn drop(&mut self) {
        self.flush(Instant::now());
    }
}

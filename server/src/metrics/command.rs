//! Per-command duration histograms, one handle per command and io-thread,
//! resolved on the command's first call so the command path never hashes a
//! metric name.

use std::time::Duration;

use metrics::Histogram;

use super::catalog::COMMAND_DURATION_SECONDS;

pub struct CommandMetrics {
    /// Indexed like the command table.
    duration: Vec<Option<Histogram>>,
    enabled: bool,
}

impl CommandMetrics {
    pub fn new(commands: usize) -> CommandMetrics {
        CommandMetrics {
            duration: vec![None; commands],
            enabled: super::enabled(),
        }
    }

    #[inline]
    pub fn record(&mut self, idx: usize, name: &'static str, took: Duration) {
        if !self.enabled {
            return;
        }
        if let Some(slot) = self.duration.get_mut(idx) {
            slot.get_or_insert_with(
                || metrics::histogram!(COMMAND_DURATION_SECONDS, "cmd" => name),
            )
            .record(took.as_secs_f64());
        }
    }
}

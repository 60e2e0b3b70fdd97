//! INFO's `instantaneous_*` figures, as Redis computes them: the cron
//! samples a counter every tick, and the figure is the mean rate over the
//! last 16 samples (Redis's `STATS_METRIC_SAMPLES`).

use parking_lot::Mutex;

const SAMPLES: usize = 16;

/// One tracked counter.
#[derive(Debug, Default, Clone)]
struct Track {
    /// Per-second rates, a ring.
    rates: [u64; SAMPLES],
    next: usize,
    last_ms: u64,
    last_value: u64,
}

impl Track {
    fn sample(&mut self, now_ms: u64, value: u64) {
        if self.last_ms > 0 && now_ms > self.last_ms {
            let dt = now_ms - self.last_ms;
            let dv = value.saturating_sub(self.last_value);
            self.rates[self.next] = dv.saturating_mul(1000) / dt;
            self.next = (self.next + 1) % SAMPLES;
        }
        self.last_ms = now_ms;
        self.last_value = value;
    }

    fn per_second(&self) -> u64 {
        self.rates.iter().sum::<u64>() / SAMPLES as u64
    }
}

/// Commands, input bytes and output bytes per second.
#[derive(Debug, Default)]
pub struct Instantaneous {
    tracks: Mutex<[Track; 3]>,
}

/// What the cron samples.
#[derive(Debug, Clone, Copy)]
pub struct Counters {
    pub commands: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
}

impl Instantaneous {
    pub fn sample(&self, now_ms: u64, c: Counters) {
        let mut t = self.tracks.lock();
        t[0].sample(now_ms, c.commands);
        t[1].sample(now_ms, c.net_input_bytes);
        t[2].sample(now_ms, c.net_output_bytes);
    }

    pub fn ops_per_sec(&self) -> u64 {
        self.tracks.lock()[0].per_second()
    }

    /// (input, output) in KiB per second, as INFO prints them (`%.2f`).
    pub fn kbps(&self) -> (f64, f64) {
        let t = self.tracks.lock();
        (
            t[1].per_second() as f64 / 1024.0,
            t[2].per_second() as f64 / 1024.0,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_rate_over_the_window() {
        let i = Instantaneous::default();
        let c = |n: u64| Counters {
            commands: n,
            net_input_bytes: n * 1024,
            net_output_bytes: 0,
        };
        i.sample(1_000, c(0));
        assert_eq!(i.ops_per_sec(), 0);
        // 100 commands per 100 ms = 1000/s, for the whole window.
        for k in 1..=SAMPLES as u64 {
            i.sample(1_000 + k * 100, c(k * 100));
        }
        assert_eq!(i.ops_per_sec(), 1000);
        assert_eq!(i.kbps(), (1000.0, 0.0));
        // A counter reset (CONFIG RESETSTAT) reads as zero, not a huge rate.
        i.sample(1_000 + 17 * 100, c(0));
        assert!(i.ops_per_sec() < 1000);
    }
}

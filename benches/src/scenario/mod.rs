//! Side-by-side scenarios that live in their own modules (the harness
//! binary `sidebyside` lists them in its `SCENARIOS` table), and the run
//! context every scenario receives.
//!
//! - [`rdb`]: SAVE time, RDB size and startup load time (issue 4).
//! - [`aof_load`]: startup replay of a RESP AOF (issue 5).
//! - [`metrics`]: ringkv throughput with the metrics endpoint on vs off
//!   (issue 6).
//! - [`process`]: servers on directories that outlive a restart, and the
//!   timing of their startup load.

use std::path::PathBuf;

use crate::server::{Binaries, ServerKind};

pub mod aof_load;
pub mod metrics;
pub mod process;
pub mod rdb;

/// What every scenario gets from the harness.
pub struct Ctx {
    pub bins: Binaries,
    /// Smaller data sets and fewer requests.
    pub quick: bool,
    /// Alternating run pairs per comparison.
    pub pairs: usize,
    /// `taskset -c` list for the servers.
    pub server_cpus: String,
    /// `taskset -c` list for the load generator.
    pub load_cpus: String,
    /// Our load generator binary.
    pub loadgen: PathBuf,
    /// Parent of every server's data directory.
    pub data_parent: PathBuf,
}

/// ringkv with the io_uring network backend, as the other scenarios
/// compare it.
pub fn ringkv_uring() -> ServerKind {
    ServerKind::Ringkv {
        backend: "uring".into(),
    }
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

/// Bytes as MiB with one decimal.
pub fn mib(bytes: f64) -> String {
    format!("{:.1}", bytes / (1u64 << 20) as f64)
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

#[cfg(test)]
mod tests {
    use super::*;

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

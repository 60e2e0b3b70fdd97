//! `ringkv fsync-bench [--dir D] [--size BYTES] [--seconds S] [--json]` (issue 7).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct FsyncBenchArgs {
    /// Directory to test (on the disk you care about).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Record size in bytes (default: a sweep of 64 B to 64 KiB).
    #[arg(long)]
    pub size: Option<usize>,
    /// Seconds per test.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(_args: &FsyncBenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("fsync-bench is not implemented yet")
}

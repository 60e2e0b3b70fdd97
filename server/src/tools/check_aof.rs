//! `ringkv check-aof [--fix] [--truncate-to-timestamp UNIX] PATH` (issue 5).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckAofArgs {
    /// Truncate the last file at the first bad record.
    #[arg(long)]
    pub fix: bool,
    /// Truncate the AOF at the last `#TS:` annotation not after this time.
    #[arg(long = "truncate-to-timestamp")]
    pub truncate_to_timestamp: Option<u64>,
    /// A manifest file or a single AOF file.
    pub path: PathBuf,
}

pub fn run(_args: &CheckAofArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("check-aof is not implemented yet")
}

//! `ringkv check-rdb FILE`: validates an RDB file like redis-check-rdb (issue 4).

use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct CheckRdbArgs {
    /// The RDB file to check.
    pub file: PathBuf,
}

pub fn run(_args: &CheckRdbArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("check-rdb is not implemented yet")
}

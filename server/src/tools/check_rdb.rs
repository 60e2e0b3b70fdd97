//! `ringkv check-rdb FILE`: validates an RDB file like redis-check-rdb
//! (issue 4). Exit status 0 when the file is sound, 1 otherwise; on error
//! the report names the byte offset and what was expected there.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

#[derive(Debug, clap::Args)]
pub struct CheckRdbArgs {
    /// The RDB file to check.
    pub file: PathBuf,
}

pub fn run(args: &CheckRdbArgs) -> anyhow::Result<ExitCode> {
    let data = std::fs::read(&args.file)
        .with_context(|| format!("Cannot open RDB file {}", args.file.display()))?;
    let report = ringkv_engine::rdb::check_rdb(&data, ringkv_engine::clock::now_ms());
    print!("{report}");
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

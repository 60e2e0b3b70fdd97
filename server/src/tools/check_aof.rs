//! `ringkv check-aof [--fix] [--truncate-to-timestamp UNIX] PATH` (issue 5):
//! redis-check-aof 7.0's checks and fixes (manifest or single file, RDB
//! base or preamble, RESP records, MULTI/EXEC pairing, truncation of the
//! last file only) plus verification of ringkv's per-group checksum lines.

use std::fs;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ringkv_engine::aof::{inspect_file, Manifest, Problem};

#[derive(Debug, clap::Args)]
pub struct CheckAofArgs {
    /// Truncate the last file at the first bad record.
    #[arg(long)]
    pub fix: bool,
    /// Truncate the AOF at the first `#TS:` annotation later than this time.
    #[arg(long = "truncate-to-timestamp")]
    pub truncate_to_timestamp: Option<u64>,
    /// A manifest file or a single AOF file.
    pub path: PathBuf,
}

/// Redis's rule: a file is a manifest if a non-`#` line starts with `file`.
fn is_manifest(data: &[u8]) -> bool {
    data.split(|b| *b == b'\n')
        .filter(|l| !l.starts_with(b"#") && !l.is_empty())
        .any(|l| l.starts_with(b"file"))
}

pub fn run(args: &CheckAofArgs) -> anyhow::Result<ExitCode> {
    if args.fix && args.truncate_to_timestamp.is_some() {
        anyhow::bail!("--fix and --truncate-to-timestamp can't be used together");
    }
    let data = fs::read(&args.path)
        .with_context(|| format!("Cannot open file {}", args.path.display()))?;
    let files: Vec<(PathBuf, &str)> = if is_manifest(&data) {
        let m = Manifest::parse(&data).map_err(|e| anyhow::anyhow!("{e}"))?;
        let dir = args.path.parent().unwrap_or(Path::new("."));
        println!("Start checking Multi Part AOF");
        m.base
            .iter()
            .map(|f| (dir.join(&f.name), "BASE"))
            .chain(m.incrs.iter().map(|f| (dir.join(&f.name), "INCR")))
            .collect()
    } else {
        vec![(args.path.clone(), "AOF")]
    };
    let count = files.len();
    for (i, (path, kind)) in files.iter().enumerate() {
        let last = i + 1 == count;
        if !check_one(path, kind, last, args)? {
            return Ok(ExitCode::from(1));
        }
    }
    if count > 1 || is_manifest(&data) {
        println!("All AOF files and manifest are valid");
    }
    Ok(ExitCode::SUCCESS)
}

fn name_of(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Checks one file; returns false when the tool must exit 1.
fn check_one(path: &Path, kind: &str, last: bool, args: &CheckAofArgs) -> anyhow::Result<bool> {
    let name = name_of(path);
    let data = fs::read(path).with_context(|| format!("Cannot open file {}", path.display()))?;
    let size = data.len() as u64;
    let report = match inspect_file(&data) {
        Ok(r) => r,
        Err(e) => {
            println!("RDB preamble of AOF file {name} is not valid: {e}");
            println!("AOF {name} is not valid. Use the --fix option to try fixing it.");
            return Ok(false);
        }
    };
    if report.rdb_end.is_some() {
        println!("Start to check {kind} AOF (RDB format).");
        println!("RDB preamble is OK, proceeding with AOF tail...");
    } else {
        if kind == "INCR" {
            println!("Start to check INCR files.");
        } else {
            println!("Start to check {kind} AOF (AOF format).");
        }
    }
    let v = &report.resp;
    if v.checksummed {
        let verdict = match &v.problem {
            Some(Problem::ChecksumMismatch { .. }) => "MISMATCH".to_string(),
            Some(Problem::Corrupt { reason, .. }) if reason.contains("checksum") => {
                "MISMATCH".to_string()
            }
            _ => "ok".to_string(),
        };
        println!("ringkv group checksums of {name}: {verdict}");
    }
    if let Some(ts) = args.truncate_to_timestamp {
        return truncate_to_timestamp(path, &name, last, ts, &v.timestamps, v.data_end);
    }
    let ok_up_to = if v.problem.is_some() {
        v.valid_up_to
    } else {
        v.data_end
    };
    let lines = data[..ok_up_to as usize]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1;
    println!(
        "AOF analyzed: filename={name}, size={size}, ok_up_to={ok_up_to}, ok_up_to_line={lines}, diff={}",
        size - ok_up_to
    );
    match &v.problem {
        None if v.data_end < size => {
            println!(
                "{name} ends with {} bytes of log preallocation (zeros) after offset {}; the server cuts them at load",
                size - v.data_end,
                v.data_end
            );
            if args.fix && last {
                truncate(path, v.data_end)?;
                println!("Successfully truncated AOF {name}");
            }
            println!("{kind} AOF {name} is valid");
            Ok(true)
        }
        None => {
            println!("{kind} AOF {name} is valid");
            Ok(true)
        }
        Some(problem) => {
            match problem {
                Problem::Corrupt { offset, reason } => {
                    println!("0x{offset:>16x}: {reason}")
                }
                Problem::UnterminatedMulti => println!("Reached EOF before reading EXEC for MULTI"),
                Problem::Truncated => println!("0x{:>16x}: Unexpected EOF", v.data_end),
                Problem::ChecksumMismatch { group_start, .. } => {
                    println!("0x{group_start:>16x}: group checksum mismatch (torn last group)")
                }
            }
            if !args.fix {
                println!("AOF {name} is not valid. Use the --fix option to try fixing it.");
                return Ok(false);
            }
            if !last {
                println!("Failed to truncate AOF {name} because it is not the last file");
                return Ok(false);
            }
            print!(
                "This will shrink the AOF {name} from {size} bytes, with {} bytes, to {ok_up_to} bytes\nContinue? [y/N]: ",
                size - ok_up_to
            );
            std::io::stdout().flush()?;
            let mut answer = String::new();
            std::io::stdin().lock().read_line(&mut answer)?;
            if !answer.trim_start().starts_with(['y', 'Y']) {
                println!("Aborting...");
                return Ok(false);
            }
            truncate(path, ok_up_to)?;
            println!("Successfully truncated AOF {name}");
            Ok(true)
        }
    }
}

fn truncate_to_timestamp(
    path: &Path,
    name: &str,
    last: bool,
    ts: u64,
    stamps: &[(u64, u64)],
    data_end: u64,
) -> anyhow::Result<bool> {
    let Some(&(offset, _)) = stamps.iter().find(|(_, t)| *t > ts) else {
        if data_end < fs::metadata(path)?.len() && last {
            truncate(path, data_end)?;
        }
        println!("Truncate nothing in AOF {name} to timestamp {ts}");
        return Ok(true);
    };
    if !last {
        println!(
            "Failed to truncate AOF {name} to timestamp {ts} because it is not the last file.\nIf you insist, please delete all files after this file according to the manifest file and delete the corresponding records in manifest file manually. Then re-run redis-check-aof."
        );
        return Ok(false);
    }
    if offset == 0 {
        println!(
            "AOF {} has nothing before timestamp {ts}, aborting...",
            path.display()
        );
        return Ok(false);
    }
    truncate(path, offset)?;
    println!("Successfully truncated AOF {name} to timestamp {ts}");
    Ok(true)
}

fn truncate(path: &Path, len: u64) -> anyhow::Result<()> {
    let f = fs::OpenOptions::new()
        .write(true)
        .open(path)
        .with_context(|| format!("opening {} for truncation", path.display()))?;
    f.set_len(len)?;
    f.sync_all()?;
    Ok(())
}

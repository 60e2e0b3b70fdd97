//! The append-only file's formats: Redis 7.0's multi-part layout and
//! manifest, the RESP command stream with `#` annotations (ringkv adds a
//! per-group checksum line), base files (RDB or RESP), replay into the
//! keyspace, and the checks behind `ringkv check-aof`.
//!
//! The server owns the live log (group commit, fsync policy, rotation);
//! this module owns everything about what the bytes mean.

pub mod annotation;
pub mod base;
pub mod manifest;
pub mod replay;
pub mod scan;

pub use manifest::{AofFile, FileType, Manifest, ManifestError};
pub use replay::{ReplayError, Replayer};
pub use scan::{validate, validate_with, Problem, ScanSink, Validation};

use crate::rdb::{RdbError, RdbReader};

/// Whether a file starts with an RDB image. Redis decides by content (the
/// `REDIS` magic), never by extension.
pub fn is_rdb(data: &[u8]) -> bool {
    data.starts_with(b"REDIS")
}

/// What one file of an AOF holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// Offset just past the RDB image (base or preamble), if any.
    pub rdb_end: Option<u64>,
    /// The RESP part after it (or the whole file).
    pub resp: Validation,
}

/// Loads one file into `replayer`: the RDB part (an error there is fatal),
/// then the RESP part up to where it is valid. The caller decides what a
/// reported problem means (truncate or refuse) from where the file sits.
pub fn load_file(replayer: &mut Replayer<'_>, data: &[u8]) -> Result<FileReport, ReplayError> {
    replayer.start_file();
    let rdb_end = if is_rdb(data) {
        Some(replayer.load_rdb(data)?)
    } else {
        None
    };
    let start = rdb_end.unwrap_or(0);
    let resp = replayer.load_resp(&data[to_index(start)..], start)?;
    Ok(FileReport { rdb_end, resp })
}

/// Checks one file without loading it (redis-check-aof).
pub fn inspect_file(data: &[u8]) -> Result<FileReport, RdbError> {
    let rdb_end = if is_rdb(data) {
        let mut reader = RdbReader::new(data)?;
        while reader.next_item()?.is_some() {}
        Some(reader.position())
    } else {
        None
    };
    let start = rdb_end.unwrap_or(0);
    Ok(FileReport {
        rdb_end,
        resp: validate(&data[to_index(start)..], start),
    })
}

fn to_index(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
}

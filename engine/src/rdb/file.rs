//! Saving an RDB file atomically: write a temp file in the same directory,
//! fsync it, rename it over the target, fsync the directory.
//!
//! Without the directory fsync a crash after the rename can bring back the
//! old file (or no file) even though SAVE replied OK; without the file
//! fsync the rename can become durable before the data, leaving a
//! zero-length dump.rdb.

use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::Path;

use crate::rdb::encoder::{RdbWriteOptions, RdbWriter, WriteStats};

/// Write buffer between the encoder's small writes and the file.
const WRITE_BUFFER_BYTES: usize = 256 * 1024;

/// What a save produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveStats {
    pub write: WriteStats,
}

/// Redis's temp file name for a save by this process (`temp-<pid>.rdb`).
pub fn temp_rdb_filename() -> String {
    format!("temp-{}.rdb", std::process::id())
}

/// Writes `dir/filename` atomically through `temp_filename` (also in `dir`).
/// `body` writes the AUX fields and the databases; the magic and the
/// EOF/checksum are written here. On any error the temp file is removed and
/// the previous `filename` is untouched.
pub fn save_atomically(
    dir: &Path,
    filename: &str,
    temp_filename: &str,
    opts: RdbWriteOptions,
    body: impl FnOnce(&mut RdbWriter<BufWriter<File>>) -> io::Result<()>,
) -> io::Result<SaveStats> {
    let temp_path = dir.join(temp_filename);
    let result = write_and_rename(dir, filename, &temp_path, opts, body);
    if result.is_err() {
        // Best effort: the error being returned is the one that matters.
        let _ = fs::remove_file(&temp_path);
    }
    result
}

fn write_and_rename(
    dir: &Path,
    filename: &str,
    temp_path: &Path,
    opts: RdbWriteOptions,
    body: impl FnOnce(&mut RdbWriter<BufWriter<File>>) -> io::Result<()>,
) -> io::Result<SaveStats> {
    let file = File::create(temp_path)?;
    let mut writer = RdbWriter::new(BufWriter::with_capacity(WRITE_BUFFER_BYTES, file), opts)?;
    body(&mut writer)?;
    let (buffered, write) = writer.finish()?;
    let file = buffered.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    fs::rename(temp_path, dir.join(filename))?;
    File::open(dir)?.sync_all()?;
    Ok(SaveStats { write })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keyspace::Entry;
    use crate::rdb::decoder::RdbReader;
    use crate::value::Value;

    #[test]
    fn save_replaces_the_target_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("dump.rdb"), b"old").unwrap();
        let stats = save_atomically(
            dir.path(),
            "dump.rdb",
            "temp-1.rdb",
            RdbWriteOptions::default(),
            |w| {
                w.select_db(0, 1, 0)?;
                w.write_entry(b"k", &Entry::new(Value::string(b"v")))
            },
        )
        .unwrap();
        assert_eq!(stats.write.keys_written, 1);
        let data = fs::read(dir.path().join("dump.rdb")).unwrap();
        assert_eq!(data.len() as u64, stats.write.bytes_written);
        let items: Vec<_> = RdbReader::new(&data)
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(items.len(), 1);
        assert!(!dir.path().join("temp-1.rdb").exists());
    }

    #[test]
    fn failed_save_keeps_the_old_file_and_removes_the_temp() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("dump.rdb"), b"old").unwrap();
        let err = save_atomically(
            dir.path(),
            "dump.rdb",
            "temp-2.rdb",
            RdbWriteOptions::default(),
            |_| Err(io::Error::other("snapshot aborted")),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "snapshot aborted");
        assert_eq!(fs::read(dir.path().join("dump.rdb")).unwrap(), b"old");
        assert!(!dir.path().join("temp-2.rdb").exists());
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        assert!(save_atomically(
            &missing,
            "dump.rdb",
            "t.rdb",
            RdbWriteOptions::default(),
            |_| Ok(())
        )
        .is_err());
    }
}

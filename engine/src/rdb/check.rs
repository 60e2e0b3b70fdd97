//! `redis-check-rdb` for our own binary: read a whole RDB, count what is in
//! it, verify the checksum, and on failure say where and what was expected.
//! `ringkv check-rdb FILE` prints the report.

use std::collections::BTreeMap;
use std::fmt;

use crate::rdb::decoder::{ChecksumStatus, RdbReader};
use crate::rdb::error::RdbError;
use crate::rdb::rdb_type;

/// Where and why a check failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    pub offset: Option<u64>,
    pub message: String,
    /// The last key read successfully before the failure.
    pub last_key: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    pub version: Option<u32>,
    pub aux: Vec<(String, String)>,
    /// Keys per stored encoding (`string`, `hash-listpack`, ...).
    pub keys_by_type: BTreeMap<&'static str, u64>,
    /// Keys per database.
    pub keys_by_db: BTreeMap<u32, u64>,
    pub keys: u64,
    pub expires: u64,
    /// Keys whose expiry was already past at `now_ms`.
    pub already_expired: u64,
    pub checksum: Option<ChecksumStatus>,
    pub warnings: Vec<String>,
    /// Offset just past the trailer (or where reading stopped).
    pub end_offset: u64,
    pub total_bytes: u64,
    pub error: Option<CheckError>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }

    /// Bytes after the RDB's trailer (an AOF tail in RDB-preamble AOF files).
    pub fn trailing_bytes(&self) -> u64 {
        self.total_bytes.saturating_sub(self.end_offset)
    }
}

/// Reads all of `data` and reports on it. Never panics, whatever `data` is.
pub fn check_rdb(data: &[u8], now_ms: u64) -> CheckReport {
    let mut report = CheckReport {
        total_bytes: data.len() as u64,
        ..CheckReport::default()
    };
    let mut reader = match RdbReader::new(data) {
        Ok(r) => r,
        Err(e) => {
            report.error = Some(error_of(&e, None));
            return report;
        }
    };
    report.version = Some(reader.version());
    let mut last_key: Option<String> = None;
    loop {
        match reader.next_item() {
            Ok(Some(item)) => {
                report.keys += 1;
                *report
                    .keys_by_type
                    .entry(rdb_type::name(item.rdb_type))
                    .or_default() += 1;
                *report.keys_by_db.entry(item.db).or_default() += 1;
                if item.entry.has_expiry() {
                    report.expires += 1;
                    if item.entry.is_expired(now_ms) {
                        report.already_expired += 1;
                    }
                }
                last_key = Some(String::from_utf8_lossy(&item.key).into_owned());
            }
            Ok(None) => break,
            Err(e) => {
                report.error = Some(error_of(&e, last_key));
                break;
            }
        }
    }
    report.aux = reader
        .aux()
        .iter()
        .map(|(k, v)| {
            (
                String::from_utf8_lossy(k).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            )
        })
        .collect();
    report.checksum = reader.checksum_status();
    report.warnings = reader.warnings().to_vec();
    report.end_offset = reader.position();
    report
}

/// Reads and checks the file at `path` (`ringkv check-rdb FILE`).
pub fn check_rdb_file(path: &std::path::Path, now_ms: u64) -> std::io::Result<CheckReport> {
    let data = std::fs::read(path)?;
    Ok(check_rdb(&data, now_ms))
}

fn error_of(e: &RdbError, last_key: Option<String>) -> CheckError {
    CheckError {
        offset: e.offset(),
        message: e.to_string(),
        last_key,
    }
}

impl fmt::Display for CheckReport {
    /// Mirrors redis-check-rdb's output so operators recognise it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.end_offset;
        match self.version {
            Some(v) => writeln!(f, "[offset 0] Checking RDB file (RDB version {v})")?,
            None => writeln!(f, "[offset 0] Checking RDB file")?,
        }
        for (k, v) in &self.aux {
            writeln!(f, "[info] AUX FIELD {k} = '{v}'")?;
        }
        for w in &self.warnings {
            writeln!(f, "[warning] {w}")?;
        }
        if let Some(e) = &self.error {
            let at = e.offset.map_or_else(|| "?".to_string(), |o| o.to_string());
            writeln!(f, "--- RDB ERROR DETECTED ---")?;
            writeln!(f, "[offset {at}] {}", e.message)?;
            if let Some(k) = &e.last_key {
                writeln!(f, "[additional info] Last key read: {k}")?;
            }
            writeln!(f, "[info] {} keys read before the error", self.keys)?;
            return Ok(());
        }
        match self.checksum {
            Some(ChecksumStatus::Verified(_)) => writeln!(f, "[offset {end}] Checksum OK")?,
            Some(ChecksumStatus::NotStored) => writeln!(
                f,
                "[offset {end}] RDB file was saved with checksum disabled: no check performed."
            )?,
            Some(ChecksumStatus::NotChecked) => writeln!(f, "[offset {end}] Checksum not checked")?,
            Some(ChecksumStatus::NotInVersion) | None => {}
        }
        writeln!(f, "[offset {end}] \\o/ RDB looks OK! \\o/")?;
        writeln!(f, "[info] {} keys read", self.keys)?;
        writeln!(f, "[info] {} expires", self.expires)?;
        writeln!(f, "[info] {} already expired", self.already_expired)?;
        for (db, n) in &self.keys_by_db {
            writeln!(f, "[info] db {db}: {n} keys")?;
        }
        for (t, n) in &self.keys_by_type {
            writeln!(f, "[info] {t}: {n} keys")?;
        }
        if self.trailing_bytes() > 0 {
            writeln!(
                f,
                "[info] {} bytes after the RDB trailer",
                self.trailing_bytes()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keyspace::Entry;
    use crate::rdb::encoder::{RdbWriteOptions, RdbWriter};
    use crate::types::SetValue;
    use crate::value::Value;

    fn sample() -> Vec<u8> {
        let mut w = RdbWriter::new(Vec::new(), RdbWriteOptions::default()).unwrap();
        w.write_aux(b"redis-ver", b"7.0.15").unwrap();
        w.select_db(0, 2, 1).unwrap();
        w.write_entry(
            b"a",
            &Entry {
                value: Value::string(b"1"),
                expire_at_ms: 1000,
            },
        )
        .unwrap();
        let mut set = SetValue::new();
        set.insert(b"1");
        set.insert(b"2");
        w.write_entry(b"s", &Entry::new(Value::Set(set))).unwrap();
        w.select_db(3, 1, 0).unwrap();
        w.write_entry(b"b", &Entry::new(Value::string(b"hello")))
            .unwrap();
        w.finish().unwrap().0
    }

    #[test]
    fn counts_keys_types_expiries_and_checksum() {
        let data = sample();
        let r = check_rdb(&data, 2000);
        assert!(r.is_ok(), "{r}");
        assert_eq!(r.version, Some(10));
        assert_eq!(r.keys, 3);
        assert_eq!(r.expires, 1);
        assert_eq!(r.already_expired, 1);
        assert_eq!(r.keys_by_type.get("string"), Some(&2));
        assert_eq!(r.keys_by_type.get("set-intset"), Some(&1));
        assert_eq!(r.keys_by_db.get(&3), Some(&1));
        assert!(matches!(r.checksum, Some(ChecksumStatus::Verified(_))));
        assert_eq!(r.end_offset, data.len() as u64);
        assert!(r.to_string().contains("RDB looks OK"));
    }

    #[test]
    fn checksum_mismatch_reports_offset() {
        let mut data = sample();
        let n = data.len();
        data[n - 1] ^= 0x55;
        let r = check_rdb(&data, 0);
        let e = r.error.clone().unwrap();
        assert_eq!(e.offset, Some(n as u64 - 8));
        assert!(e.message.contains("checksum mismatch"), "{}", e.message);
        assert_eq!(e.last_key.as_deref(), Some("b"));
        assert!(r.to_string().contains("RDB ERROR DETECTED"));
    }

    #[test]
    fn newer_version_is_refused_clearly() {
        let mut data = sample();
        data[5..9].copy_from_slice(b"0013");
        let r = check_rdb(&data, 0);
        let e = r.error.unwrap();
        assert!(
            e.message.contains("can't handle RDB format version 13"),
            "{}",
            e.message
        );
    }
}

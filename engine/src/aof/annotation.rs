//! The `#` annotation lines ringkv writes into incremental AOF files.
//!
//! Redis 7.0's loader skips every line that starts with `#` (read with a
//! 1024-byte line limit) and redis-check-aof does the same, acting only on
//! `#TS:` lines in `--truncate-to-timestamp` mode. So ringkv's checksum line
//! costs Redis nothing:
//!
//! ```text
//! #ringkv-crc64:<16 lowercase hex digits>\r\n
//! ```
//!
//! It follows each group the log writes and covers every byte from the end
//! of the previous checksum line (or the start of the file) up to itself:
//! the group's commands, SELECTs and `#TS:` lines. The CRC is CRC-64/XZ
//! (`crc64fast`), a ringkv extension, not Redis's RDB CRC-64 (Jones).

use std::io::Write;

pub const CHECKSUM_PREFIX: &[u8] = b"#ringkv-crc64:";

/// Length of a checksum annotation line, `\r\n` included.
pub const CHECKSUM_LINE_BYTES: usize = CHECKSUM_PREFIX.len() + 16 + 2;

pub fn group_checksum(group: &[u8]) -> u64 {
    let mut d = crc64fast::Digest::new();
    d.write(group);
    d.sum64()
}

/// Appends the checksum annotation for `group` to `out`.
pub fn push_checksum_annotation(group: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(CHECKSUM_PREFIX);
    let _ = write!(out, "{:016x}\r\n", group_checksum(group));
}

/// The stored checksum of an annotation line (without its line end).
pub fn parse_checksum(line: &[u8]) -> Option<u64> {
    let hex = line.strip_prefix(CHECKSUM_PREFIX)?;
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
}

/// Appends Redis's `#TS:<unix seconds>\r\n`.
pub fn push_timestamp_annotation(unix_s: u64, out: &mut Vec<u8>) {
    let _ = write!(out, "#TS:{unix_s}\r\n");
}

/// The value of a `#TS:` line (without its line end), parsed as Redis's
/// `strtol` would accept it.
pub fn parse_timestamp(line: &[u8]) -> Option<u64> {
    let digits = line.strip_prefix(b"#TS:")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn checksum_line_round_trips() {
        let mut out = Vec::new();
        push_checksum_annotation(b"*1\r\n$4\r\nPING\r\n", &mut out);
        assert_eq!(out.len(), CHECKSUM_LINE_BYTES);
        assert!(out.ends_with(b"\r\n"));
        let line = &out[..out.len() - 2];
        assert_eq!(
            parse_checksum(line),
            Some(group_checksum(b"*1\r\n$4\r\nPING\r\n"))
        );
        assert_eq!(parse_checksum(b"#ringkv-crc64:zz"), None);
    }

    #[test]
    fn timestamp_lines() {
        let mut out = Vec::new();
        push_timestamp_annotation(1795263510, &mut out);
        assert_eq!(out, b"#TS:1795263510\r\n");
        assert_eq!(parse_timestamp(b"#TS:1795263510"), Some(1795263510));
        assert_eq!(parse_timestamp(b"#TS:abc"), None);
    }
}

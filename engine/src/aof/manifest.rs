//! The multi-part AOF manifest (`<appendfilename>.manifest`), in Redis 7.0's
//! grammar: one `file <name> seq <n> type <b|h|i>\n` line per file, base
//! first, then history, then the incremental files in ascending seq.
//!
//! The reader is as strict as Redis's (a manifest Redis would refuse is
//! refused here, with Redis's message), so a directory ringkv accepts is one
//! redis-server 7.0 accepts too.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Redis reads manifest lines with this limit (`AOF_ANNOTATION_LINE_MAX_LEN`).
const LINE_MAX_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Base,
    History,
    Incr,
}

impl FileType {
    fn letter(self) -> char {
        match self {
            FileType::Base => 'b',
            FileType::History => 'h',
            FileType::Incr => 'i',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    pub name: String,
    pub seq: u64,
    pub kind: FileType,
}

/// The parsed manifest. `base_seq`/`incr_seq` are the highest sequence
/// numbers seen (Redis's `curr_base_file_seq` / `curr_incr_file_seq`); the
/// two counters are independent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    /// History files, newest first (as Redis lists them).
    pub history: Vec<AofFile>,
    /// Incremental files in ascending seq.
    pub incrs: Vec<AofFile>,
    pub base_seq: u64,
    pub incr_seq: u64,
}

/// Why a manifest was refused: Redis's messages (it logs them under
/// `*** FATAL AOF MANIFEST FILE ERROR ***` and exits).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    #[error("Found an empty AOF manifest")]
    Empty,
    #[error("The AOF manifest file contains too long line")]
    LineTooLong,
    #[error("Invalid AOF manifest file format")]
    InvalidFormat,
    #[error("File can't be a path, just a filename")]
    PathName,
    #[error("Found duplicate base file information")]
    DuplicateBase,
    #[error("Found a non-monotonic sequence number")]
    NonMonotonic,
    #[error("Unknown AOF file type")]
    UnknownType,
}

impl Manifest {
    /// Parses manifest bytes with Redis 7.0's rules.
    pub fn parse(data: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut lines = 0usize;
        let mut rest = data;
        while !rest.is_empty() {
            let (line, next) = match memchr::memchr(b'\n', rest) {
                Some(i) if i < LINE_MAX_BYTES => (&rest[..=i], &rest[i + 1..]),
                // A comment may be longer: Redis's fgets splits it and the
                // remainder is parsed as a new line; keep it simple and
                // refuse like Redis does for any over-long or unterminated line.
                _ => {
                    if rest.first() == Some(&b'#') && rest.len() < LINE_MAX_BYTES {
                        // An unterminated comment at EOF is skipped by Redis.
                        break;
                    }
                    return Err(ManifestError::LineTooLong);
                }
            };
            rest = next;
            lines += 1;
            if line.first() == Some(&b'#') {
                continue;
            }
            let trimmed = trim(line);
            if trimmed.is_empty() {
                return Err(ManifestError::InvalidFormat);
            }
            let tokens = split_args(trimmed).ok_or(ManifestError::InvalidFormat)?;
            if tokens.len() < 6 || tokens.len() % 2 != 0 {
                return Err(ManifestError::InvalidFormat);
            }
            let (mut name, mut seq, mut kind) = (None, 0u64, None);
            for pair in tokens.chunks(2) {
                let key = &pair[0];
                let value = &pair[1];
                if key.eq_ignore_ascii_case(b"file") {
                    let n = String::from_utf8(value.clone())
                        .map_err(|_| ManifestError::InvalidFormat)?;
                    if n.contains('/') {
                        return Err(ManifestError::PathName);
                    }
                    name = Some(n);
                } else if key.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(value);
                } else if key.eq_ignore_ascii_case(b"type") {
                    kind = value.first().copied();
                }
            }
            let (Some(name), Some(kind)) = (name, kind) else {
                return Err(ManifestError::InvalidFormat);
            };
            if seq == 0 {
                return Err(ManifestError::InvalidFormat);
            }
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(ManifestError::DuplicateBase);
                    }
                    m.base_seq = seq;
                    m.base = Some(AofFile {
                        name,
                        seq,
                        kind: FileType::Base,
                    });
                }
                b'h' => m.history.push(AofFile {
                    name,
                    seq,
                    kind: FileType::History,
                }),
                b'i' => {
                    if seq <= m.incr_seq {
                        return Err(ManifestError::NonMonotonic);
                    }
                    m.incr_seq = seq;
                    m.incrs.push(AofFile {
                        name,
                        seq,
                        kind: FileType::Incr,
                    });
                }
                _ => return Err(ManifestError::UnknownType),
            }
        }
        if lines == 0 {
            return Err(ManifestError::Empty);
        }
        Ok(m)
    }

    /// The manifest text Redis would write for this state.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for f in self.base.iter().chain(&self.history).chain(&self.incrs) {
            let _ = writeln!(
                s,
                "file {} seq {} type {}",
                repr_if_needed(&f.name),
                f.seq,
                f.kind.letter()
            );
        }
        s
    }

    /// Files a load replays, in order: the base, then the incr files.
    pub fn load_order(&self) -> impl Iterator<Item = &AofFile> {
        self.base.iter().chain(&self.incrs)
    }

    /// Adds a new incremental file (next incr seq) and returns its name.
    pub fn add_incr(&mut self, prefix: &str) -> String {
        self.incr_seq += 1;
        let name = incr_name(prefix, self.incr_seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileType::Incr,
        });
        name
    }

    /// Installs a new base (next base seq): the old base and every incr
    /// file with a seq below `keep_from_seq` become history (newest first,
    /// old incrs ahead of the old base, as Redis lists them).
    pub fn install_base(&mut self, name: String, keep_from_seq: u64) {
        let mut demoted = Vec::new();
        let split = self.incrs.partition_point(|f| f.seq < keep_from_seq);
        for mut f in self.incrs.drain(..split).rev() {
            f.kind = FileType::History;
            demoted.push(f);
        }
        if let Some(mut old) = self.base.take() {
            old.kind = FileType::History;
            demoted.push(old);
        }
        demoted.append(&mut self.history);
        self.history = demoted;
        self.base_seq += 1;
        self.base = Some(AofFile {
            name,
            seq: self.base_seq,
            kind: FileType::Base,
        });
    }
}

/// `P.<seq>.base.rdb` or `P.<seq>.base.aof`.
pub fn base_name(prefix: &str, seq: u64, rdb: bool) -> String {
    format!("{prefix}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

pub fn incr_name(prefix: &str, seq: u64) -> String {
    format!("{prefix}.{seq}.incr.aof")
}

pub fn manifest_name(prefix: &str) -> String {
    format!("{prefix}.manifest")
}

pub fn temp_manifest_name(prefix: &str) -> String {
    format!("temp-{prefix}.manifest")
}

/// Writes `dir/name` atomically: temp file, fsync, rename, fsync of `dir`.
pub fn write_file_atomically(
    dir: &Path,
    name: &str,
    temp_name: &str,
    data: &[u8],
) -> io::Result<()> {
    let temp = dir.join(temp_name);
    let result = (|| {
        let mut f = File::create(&temp)?;
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&temp, dir.join(name))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Makes directory entries (creations, renames, deletions) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn trim(line: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !is_ws(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !is_ws(b))
        .map_or(start, |i| i + 1);
    &line[start..end]
}

/// `atoll`: leading digits (with an optional sign), 0 when none.
fn atoll(v: &[u8]) -> u64 {
    let mut n: u64 = 0;
    for &b in v.iter().skip_while(|b| **b == b'+') {
        if !b.is_ascii_digit() {
            break;
        }
        n = n.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    n
}

/// Redis's `sdssplitargs`: space-separated tokens, with double quotes
/// (C escapes, `\xHH`) and single quotes. None on unbalanced quotes or a
/// closing quote not followed by a space.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= line.len() {
            return Some(out);
        }
        let mut cur = Vec::new();
        match line[i] {
            b'"' => {
                i += 1;
                loop {
                    let b = *line.get(i)?;
                    let hex_pair = (line.get(i + 1) == Some(&b'x'))
                        .then(|| Some(hex(*line.get(i + 2)?)? * 16 + hex(*line.get(i + 3)?)?))
                        .flatten();
                    if let (b'\\', Some(v)) = (b, hex_pair) {
                        cur.push(v);
                        i += 4;
                    } else if b == b'\\' && i + 1 < line.len() {
                        cur.push(match line[i + 1] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                        i += 2;
                    } else if b == b'"' {
                        i += 1;
                        if i < line.len() && !line[i].is_ascii_whitespace() {
                            return None;
                        }
                        break;
                    } else {
                        cur.push(b);
                        i += 1;
                    }
                }
            }
            b'\'' => {
                i += 1;
                loop {
                    let b = *line.get(i)?;
                    if b == b'\\' && line.get(i + 1) == Some(&b'\'') {
                        cur.push(b'\'');
                        i += 2;
                    } else if b == b'\'' {
                        i += 1;
                        if i < line.len() && !line[i].is_ascii_whitespace() {
                            return None;
                        }
                        break;
                    } else {
                        cur.push(b);
                        i += 1;
                    }
                }
            }
            _ => {
                while i < line.len() && !line[i].is_ascii_whitespace() {
                    cur.push(line[i]);
                    i += 1;
                }
            }
        }
        out.push(cur);
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Names with spaces, quotes or non-printable bytes are written as a
/// double-quoted C string (Redis's `sdscatrepr`).
fn repr_if_needed(name: &str) -> String {
    let needs = name
        .bytes()
        .any(|b| b == b' ' || b == b'"' || b == b'\'' || b == b'\\' || !(0x20..0x7f).contains(&b));
    if !needs {
        return name.to_string();
    }
    let mut s = String::from("\"");
    for b in name.bytes() {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'"' => s.push_str("\\\""),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            7 => s.push_str("\\a"),
            8 => s.push_str("\\b"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_redis_manifest() {
        let text = "file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.2.incr.aof seq 2 type h\nfile appendonly.aof.2.base.rdb seq 2 type h\nfile appendonly.aof.3.incr.aof seq 3 type i\n";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.base_seq, 3);
        assert_eq!(m.incr_seq, 3);
        assert_eq!(m.history.len(), 2);
        assert_eq!(m.render(), text);
    }

    #[test]
    fn strict_rules_match_redis() {
        let p = |s: &str| Manifest::parse(s.as_bytes());
        assert_eq!(p(""), Err(ManifestError::Empty));
        assert_eq!(p("file a seq 1 type b"), Err(ManifestError::LineTooLong));
        assert_eq!(
            p("file a seq 1 type b\n\n"),
            Err(ManifestError::InvalidFormat)
        );
        assert_eq!(
            p("file a seq 0 type b\n"),
            Err(ManifestError::InvalidFormat)
        );
        assert_eq!(p("file a/b seq 1 type b\n"), Err(ManifestError::PathName));
        assert_eq!(
            p("file a seq 1 type b\nfile b seq 1 type b\n"),
            Err(ManifestError::DuplicateBase)
        );
        assert_eq!(
            p("file a seq 2 type i\nfile b seq 2 type i\n"),
            Err(ManifestError::NonMonotonic)
        );
        assert_eq!(p("file a seq 1 type x\n"), Err(ManifestError::UnknownType));
        assert_eq!(p("file a seq 1\n"), Err(ManifestError::InvalidFormat));
        let m = p("# comment\nFILE a SEQ 1 TYPE b extra 7\n").unwrap();
        assert_eq!(m.base.unwrap().name, "a");
    }

    #[test]
    fn quoted_names_round_trip() {
        let mut m = Manifest::default();
        m.install_base(base_name("my file.aof", 1, true), u64::MAX);
        m.add_incr("my file.aof");
        let text = m.render();
        assert!(text.starts_with("file \"my file.aof.1.base.rdb\" seq 1 type b\n"));
        assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), m);
    }

    #[test]
    fn install_base_demotes_like_redis() {
        let mut m = Manifest::parse(b"file p.2.base.rdb seq 2 type b\nfile p.2.incr.aof seq 2 type i\nfile p.3.incr.aof seq 3 type i\n").unwrap();
        m.install_base(base_name("p", 3, true), 3);
        assert_eq!(
            m.render(),
            "file p.3.base.rdb seq 3 type b\nfile p.2.incr.aof seq 2 type h\nfile p.2.base.rdb seq 2 type h\nfile p.3.incr.aof seq 3 type i\n"
        );
    }
}

//! Reading an AOF's RESP part: commands, `#` annotation lines, and
//! ringkv's per-group checksum annotations.
//!
//! Validation ([`validate`]) learns where the good data ends: a torn tail,
//! an unterminated MULTI, the zero padding the log preallocates. The
//! loader rides the same pass ([`validate_with`] and a [`ScanSink`]): it
//! holds what it reads until a verified checksum settles it, then applies
//! it while it is still in cache, so a group that turns out torn is never
//! half applied.

use smallvec::SmallVec;

use crate::aof::annotation::{parse_checksum, parse_timestamp, CHECKSUM_PREFIX};

/// Longest `#` line Redis's loader and redis-check-aof read.
pub const ANNOTATION_LINE_MAX_BYTES: usize = 1024;

/// One thing read from the RESP stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// The arguments (most commands have few: inline, no allocation).
    Command(SmallVec<[&'a [u8]; 8]>),
    /// `#TS:<unix seconds>`.
    Timestamp(u64),
    /// ringkv's group checksum; `ok` tells whether it matched the bytes
    /// since the previous checksum (or the start of the stream).
    Checksum { ok: bool, group_start: u64 },
    /// Any other `#` line.
    Comment,
}

/// Where and why reading stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanError {
    /// The data ends inside a command or an annotation line.
    UnexpectedEof,
    /// Bytes that are not a command: offset of the offending byte and what
    /// was expected.
    BadFormat { offset: u64, reason: String },
}

/// Reads items one at a time. Offsets are file offsets (`base` + position).
pub struct Scanner<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    group_start: usize,
}

impl<'a> Scanner<'a> {
    /// Scans `data`, which sits at file offset `base`.
    pub fn new(data: &'a [u8], base: u64) -> Scanner<'a> {
        Scanner {
            data,
            pos: 0,
            base,
            group_start: 0,
        }
    }

    /// File offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn err(&self, at: usize, reason: impl Into<String>) -> ScanError {
        ScanError::BadFormat {
            offset: self.base + at as u64,
            reason: reason.into(),
        }
    }

    /// The length on the `*` or `$` line at `from` and where the line
    /// ends, when the line is the common well-formed `<prefix><1-19
    /// digits>\r\n` (or `\n`); `None` sends the caller to the general
    /// [`Scanner::line`] path, which gives the same result for any other
    /// line or reports it. Spares a memchr call per argument.
    fn quick_len(&self, from: usize) -> Option<(usize, usize)> {
        let digits_at = from + 1;
        let mut p = digits_at;
        let mut n: u64 = 0;
        while let Some(&d) = self.data.get(p) {
            if !d.is_ascii_digit() || p - digits_at == 19 {
                break;
            }
            n = n * 10 + u64::from(d - b'0');
            p += 1;
        }
        if p == digits_at {
            return None;
        }
        let next = match (self.data.get(p), self.data.get(p + 1)) {
            (Some(b'\r'), Some(b'\n')) => p + 2,
            (Some(b'\n'), _) => p + 1,
            _ => return None,
        };
        Some((usize::try_from(n).ok()?, next))
    }

    /// Reads a `\n`-terminated line starting at `pos` (at most `max` bytes);
    /// returns it without the line end.
    fn line(&self, from: usize, max: usize) -> Result<(&'a [u8], usize), ScanError> {
        let rest = &self.data[from..];
        match memchr::memchr(b'\n', &rest[..rest.len().min(max)]) {
            Some(i) => {
                let line = &rest[..i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                Ok((line, from + i + 1))
            }
            None if rest.len() < max => Err(ScanError::UnexpectedEof),
            None => Err(self.err(from, "line too long")),
        }
    }

    /// The next item, `Ok(None)` at the end of the data.
    pub fn next_item(&mut self) -> Result<Option<Item<'a>>, ScanError> {
        let mut args = Vec::new();
        Ok(self.next_into(&mut args)?.map(|step| match step {
            Step::Command => Item::Command(args.into_iter().collect()),
            Step::Timestamp(ts) => Item::Timestamp(ts),
            Step::Checksum { ok, group_start } => Item::Checksum { ok, group_start },
            Step::Comment => Item::Comment,
        }))
    }

    /// The next item, `Ok(None)` at the end of the data; a command's
    /// arguments are appended to `args` (on error, some may have been).
    /// The loader's path: nothing per command is allocated or copied
    /// beyond the argument slices themselves.
    pub fn next_into(&mut self, args: &mut Vec<&'a [u8]>) -> Result<Option<Step>, ScanError> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let start = self.pos;
        match self.data[start] {
            b'*' => {
                self.command_into(start, args)?;
                Ok(Some(Step::Command))
            }
            b'#' => {
                let (line, next) = self.line(start, ANNOTATION_LINE_MAX_BYTES)?;
                let step = if line.starts_with(CHECKSUM_PREFIX) {
                    let stored = parse_checksum(line)
                        .ok_or_else(|| self.err(start, "malformed checksum annotation"))?;
                    let group = &self.data[self.group_start..start];
                    let group_start = self.base + self.group_start as u64;
                    self.group_start = next;
                    Step::Checksum {
                        ok: crate::aof::annotation::group_checksum(group) == stored,
                        group_start,
                    }
                } else if line.starts_with(b"#TS:") {
                    Step::Timestamp(
                        parse_timestamp(line)
                            .ok_or_else(|| self.err(start, "Invalid timestamp annotation"))?,
                    )
                } else {
                    Step::Comment
                };
                self.pos = next;
                Ok(Some(step))
            }
            other => Err(self.err(
                start,
                format!("Bad file format: expected '*' or '#', got byte 0x{other:02x}"),
            )),
        }
    }

    /// Reads the command whose `*` line starts at `start`.
    fn command_into(&mut self, start: usize, args: &mut Vec<&'a [u8]>) -> Result<(), ScanError> {
        let data = self.data;
        let (argc, mut at) = match self.quick_len(start) {
            Some((argc, at)) if argc >= 1 => (argc, at),
            _ => {
                let (line, at) = self.line(start, 64)?;
                let argc = parse_len(&line[1..])
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| self.err(start, "Bad file format: invalid multibulk length"))?;
                (argc, at)
            }
        };
        args.reserve(argc.min(1024));
        for _ in 0..argc {
            if let Some((arg, next)) = quick_bulk(data, at) {
                args.push(arg);
                at = next;
                continue;
            }
            match data.get(at) {
                None => return Err(ScanError::UnexpectedEof),
                Some(b'$') => {}
                Some(&other) => {
                    return Err(self.err(at, format!("Expected '$', got '{}'", other as char)))
                }
            }
            let (len, body) = match self.quick_len(at) {
                Some(q) => q,
                None => {
                    let (line, body) = self.line(at, 64)?;
                    let len = parse_len(&line[1..])
                        .ok_or_else(|| self.err(at, "Bad file format: invalid bulk length"))?;
                    (len, body)
                }
            };
            let end = body
                .checked_add(len)
                .ok_or_else(|| self.err(at, "bulk too long"))?;
            match data.get(end..end.saturating_add(2)) {
                None => return Err(ScanError::UnexpectedEof),
                Some(b"\r\n") => {}
                Some(_) => return Err(self.err(end, "Expected \\r\\n")),
            }
            args.push(&data[body..end]);
            at = end + 2;
        }
        self.pos = at;
        Ok(())
    }
}

/// What [`Scanner::next_into`] read (a command's arguments went to the
/// caller's vector).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Command,
    Timestamp(u64),
    Checksum { ok: bool, group_start: u64 },
    Comment,
}

/// The common well-formed argument at `at`, `$<1-19 digits>\r\n<bytes>\r\n`,
/// and where the next one starts; `None` sends the caller to the general
/// path, which reads any other form the same way or reports it. Every
/// replayed argument comes through here.
#[inline]
fn quick_bulk(data: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let (&b'$', rest) = data.get(at..)?.split_first()? else {
        return None;
    };
    let mut len: u64 = 0;
    let mut digits = 0;
    // 19 digits cannot overflow a u64; a 20th sends the line elsewhere.
    for &d in rest.iter().take(19) {
        let v = d.wrapping_sub(b'0');
        if v > 9 {
            break;
        }
        len = len * 10 + u64::from(v);
        digits += 1;
    }
    if digits == 0 || rest.get(digits..digits + 2)? != b"\r\n" {
        return None;
    }
    let body = digits + 2;
    let end = body.checked_add(usize::try_from(len).ok()?)?;
    if rest.get(end..end.checked_add(2)?)? != b"\r\n" {
        return None;
    }
    Some((&rest[body..end], at + 1 + end + 2))
}

/// A length of 1 to 19 ASCII digits (a `*` or `$` line); by hand, since
/// it runs for every argument of every command replayed.
fn parse_len(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut n: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        // 19 digits cannot overflow a u64.
        n = n * 10 + u64::from(d - b'0');
    }
    usize::try_from(n).ok()
}

/// What [`validate`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validation {
    /// Length of the data without the zero padding a crash leaves after
    /// the log's last group.
    pub data_end: u64,
    /// Everything before this offset is complete (and, once a file carries
    /// checksums, verified): where a truncation would cut.
    pub valid_up_to: u64,
    pub commands: u64,
    /// Whether the stream carries ringkv checksum annotations.
    pub checksummed: bool,
    pub problem: Option<Problem>,
    /// Offsets of `#TS:` annotations with their values.
    pub timestamps: Vec<(u64, u64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The data ends inside a command, or after commands no checksum
    /// covers yet (a torn last group).
    Truncated,
    /// The data ends inside MULTI (cut back to the MULTI).
    UnterminatedMulti,
    /// A group whose checksum does not match. If it is the last thing in
    /// the data it is a torn tail, else corruption.
    ChecksumMismatch { group_start: u64, at_end: bool },
    /// Bad bytes, or a checksum mismatch that is not at the end.
    Corrupt { offset: u64, reason: String },
}

impl Problem {
    /// Whether cutting the data at `valid_up_to` is the remedy (a torn tail
    /// rather than damage in the middle).
    pub fn is_truncation(&self) -> bool {
        matches!(
            self,
            Problem::Truncated
                | Problem::UnterminatedMulti
                | Problem::ChecksumMismatch { at_end: true, .. }
        )
    }
}

/// Receives a stream's items as [`validate_with`] reads them, so a loader
/// can apply them in the same pass. An item is not final when it is
/// handed over: a verified checksum ([`ScanSink::settled`]) settles what
/// precedes it, and at the end the returned [`Validation::valid_up_to`]
/// settles the rest (items past it were never valid).
pub trait ScanSink<'a> {
    type Error;
    /// A complete command spanning file offsets `start..end`.
    fn command(&mut self, args: &[&'a [u8]], start: u64, end: u64) -> Result<(), Self::Error>;
    /// A `#TS:` annotation spanning `start..end`.
    fn timestamp(&mut self, unix_s: u64, start: u64, end: u64) -> Result<(), Self::Error>;
    /// A checksum annotation matched its group outside MULTI: everything
    /// before `up_to` (the end of that line) is final, as nothing read
    /// later can move `valid_up_to` below it.
    fn settled(&mut self, up_to: u64) -> Result<(), Self::Error>;
}

/// The sink of a check that loads nothing.
struct Discard;

impl<'a> ScanSink<'a> for Discard {
    type Error = std::convert::Infallible;

    fn command(&mut self, _: &[&'a [u8]], _: u64, _: u64) -> Result<(), Self::Error> {
        Ok(())
    }

    fn timestamp(&mut self, _: u64, _: u64, _: u64) -> Result<(), Self::Error> {
        Ok(())
    }

    fn settled(&mut self, _: u64) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// Checks a RESP stream at file offset `base`; see [`Validation`].
pub fn validate(data: &[u8], base: u64) -> Validation {
    match validate_with(data, base, &mut Discard) {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

/// [`validate`], handing every item read to `sink` as it goes; stops at
/// the sink's first error.
pub fn validate_with<'a, S: ScanSink<'a>>(
    data: &'a [u8],
    base: u64,
    sink: &mut S,
) -> Result<Validation, S::Error> {
    let trimmed_len = data.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let data = &data[..trimmed_len];
    let mut v = Validation {
        data_end: base + trimmed_len as u64,
        valid_up_to: base,
        commands: 0,
        checksummed: false,
        problem: None,
        timestamps: Vec::new(),
    };
    let mut sc = Scanner::new(data, base);
    let mut multi_start: Option<u64> = None;
    let mut args: Vec<&'a [u8]> = Vec::with_capacity(16);
    loop {
        let item_start = sc.offset();
        args.clear();
        match sc.next_into(&mut args) {
            Ok(None) => break,
            Ok(Some(Step::Command)) => {
                v.commands += 1;
                let name = args[0];
                if name.eq_ignore_ascii_case(b"multi") {
                    if multi_start.is_some() {
                        v.problem = Some(Problem::Corrupt {
                            offset: item_start,
                            reason: "Unexpected MULTI".into(),
                        });
                        return Ok(v);
                    }
                    multi_start = Some(item_start);
                } else if name.eq_ignore_ascii_case(b"exec") && multi_start.take().is_none() {
                    v.problem = Some(Problem::Corrupt {
                        offset: item_start,
                        reason: "Unexpected EXEC".into(),
                    });
                    return Ok(v);
                }
                sink.command(&args, item_start, sc.offset())?;
                if multi_start.is_none() && !v.checksummed {
                    v.valid_up_to = sc.offset();
                }
            }
            Ok(Some(Step::Timestamp(ts))) => {
                v.timestamps.push((item_start, ts));
                sink.timestamp(ts, item_start, sc.offset())?;
                if multi_start.is_none() && !v.checksummed {
                    v.valid_up_to = sc.offset();
                }
            }
            Ok(Some(Step::Comment)) => {
                if multi_start.is_none() && !v.checksummed {
                    v.valid_up_to = sc.offset();
                }
            }
            Ok(Some(Step::Checksum { ok, group_start })) => {
                v.checksummed = true;
                if !ok {
                    // Torn only if nothing follows it.
                    let at_end = sc.offset() >= v.data_end;
                    v.problem = Some(if at_end {
                        Problem::ChecksumMismatch {
                            group_start,
                            at_end,
                        }
                    } else {
                        Problem::Corrupt {
                            offset: group_start,
                            reason: "group checksum mismatch".into(),
                        }
                    });
                    v.valid_up_to = group_start;
                    return Ok(v);
                }
                if multi_start.is_none() {
                    v.valid_up_to = sc.offset();
                    // From here on `valid_up_to` only grows, or drops back
                    // to this group's end on a later mismatch.
                    sink.settled(v.valid_up_to)?;
                }
            }
            Err(ScanError::UnexpectedEof) => {
                v.problem = Some(Problem::Truncated);
                return Ok(v);
            }
            Err(ScanError::BadFormat { offset, reason }) => {
                v.problem = Some(Problem::Corrupt { offset, reason });
                return Ok(v);
            }
        }
    }
    if multi_start.is_some() {
        v.problem = Some(Problem::UnterminatedMulti);
    } else if v.checksummed && v.valid_up_to < v.data_end {
        // Complete commands after the last checksum: their group's
        // annotation never made it to disk.
        v.problem = Some(Problem::Truncated);
    }
    Ok(v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::aof::annotation::push_checksum_annotation;

    fn cmd(args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        out
    }

    fn group(cmds: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = cmds.concat();
        let mut out = body.clone();
        push_checksum_annotation(&body, &mut out);
        out
    }

    #[test]
    fn plain_redis_stream_validates() {
        let mut data = b"#TS:1795263510\r\n".to_vec();
        data.extend(cmd(&["SELECT", "0"]));
        data.extend(cmd(&["set", "k", "v"]));
        let v = validate(&data, 0);
        assert_eq!(v.problem, None);
        assert_eq!(v.valid_up_to, data.len() as u64);
        assert_eq!(v.commands, 2);
        assert_eq!(v.timestamps, vec![(0, 1795263510)]);
    }

    #[test]
    fn length_lines_parse_the_same_on_the_quick_and_general_paths() {
        let args = |data: &[u8]| -> Result<Vec<Vec<u8>>, ScanError> {
            match Scanner::new(data, 0).next_item()? {
                Some(Item::Command(a)) => Ok(a.iter().map(|x| x.to_vec()).collect()),
                other => panic!("{other:?}"),
            }
        };
        // Bare \n line ends are accepted, as Redis's loader does.
        assert_eq!(
            args(b"*2\n$3\nset\r\n$1\r\nk\r\n").unwrap(),
            vec![b"set".to_vec(), b"k".to_vec()]
        );
        assert_eq!(
            args(b"*1\r\n$0000000000000000003\r\nabc\r\n").unwrap(),
            vec![b"abc".to_vec()]
        );
        let bad = |data: &[u8]| match args(data) {
            Err(ScanError::BadFormat { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(bad(b"*1\r\n$00000000000000000003\r\nabc\r\n").contains("invalid bulk length"));
        assert!(bad(b"*1\r\n$3x\r\nabc\r\n").contains("invalid bulk length"));
        assert!(bad(b"*1\r\n$3\r\r\nabc\r\n").contains("invalid bulk length"));
        assert!(bad(b"*0\r\n").contains("invalid multibulk length"));
        assert!(bad(b"*\r\n").contains("invalid multibulk length"));
        assert!(matches!(args(b"*1\r\n$3"), Err(ScanError::UnexpectedEof)));
        assert!(matches!(args(b"*1\r\n$3\r"), Err(ScanError::UnexpectedEof)));
        // What the argument fast path leaves to the general one.
        assert_eq!(args(b"*1\r\n$3\nabc\r\n").unwrap(), vec![b"abc".to_vec()]);
        assert_eq!(args(b"*1\r\n$0\r\n\r\n").unwrap(), vec![Vec::new()]);
        assert!(matches!(
            args(b"*1\r\n$3\r\nab"),
            Err(ScanError::UnexpectedEof)
        ));
        assert!(matches!(
            args(b"*1\r\n$3\r\nabc\r"),
            Err(ScanError::UnexpectedEof)
        ));
        match args(b"*1\r\n$3\r\nabcX\r\n") {
            Err(ScanError::BadFormat { offset, reason }) => {
                assert_eq!((offset, reason.as_str()), (11, "Expected \\r\\n"));
            }
            other => panic!("{other:?}"),
        }
        assert!(bad(b"*2\r\n$1\r\na\r\nx1\r\nb\r\n").contains("Expected '$'"));
    }

    #[test]
    fn truncated_command_cuts_at_the_last_complete_one() {
        let mut data = cmd(&["set", "a", "1"]);
        let good = data.len() as u64;
        data.extend(&cmd(&["set", "b", "2"])[..7]);
        let v = validate(&data, 0);
        assert_eq!(v.problem, Some(Problem::Truncated));
        assert_eq!(v.valid_up_to, good);
    }

    #[test]
    fn unterminated_multi_cuts_before_multi() {
        let mut data = cmd(&["set", "a", "1"]);
        let good = data.len() as u64;
        data.extend(cmd(&["MULTI"]));
        data.extend(cmd(&["set", "b", "2"]));
        let v = validate(&data, 0);
        assert_eq!(v.problem, Some(Problem::UnterminatedMulti));
        assert_eq!(v.valid_up_to, good);
    }

    #[test]
    fn zero_padding_is_not_data() {
        let mut data = group(&[cmd(&["set", "a", "1"])]);
        let len = data.len() as u64;
        data.extend([0u8; 4096]);
        let v = validate(&data, 0);
        assert_eq!(v.problem, None);
        assert_eq!(v.data_end, len);
        assert_eq!(v.valid_up_to, len);
    }

    #[test]
    fn torn_last_group_versus_damage_in_the_middle() {
        let g1 = group(&[cmd(&["set", "a", "1"])]);
        let g2 = group(&[cmd(&["set", "b", "2"]), cmd(&["set", "c", "3"])]);
        let mut data = [g1.clone(), g2.clone()].concat();
        // Torn: the last group's bytes changed.
        let n = data.len();
        let c_pos = n - crate::aof::annotation::CHECKSUM_LINE_BYTES - 10;
        assert_eq!(data[c_pos], b'c');
        data[c_pos] ^= 0x20;
        let v = validate(&data, 0);
        assert!(v.problem.as_ref().unwrap().is_truncation(), "{v:?}");
        assert_eq!(v.valid_up_to, g1.len() as u64);
        // Missing annotation at the end: truncated too.
        let mut data = [g1.clone(), g2.clone()].concat();
        data.truncate(data.len() - 5);
        let v = validate(&data, 0);
        assert!(v.problem.as_ref().unwrap().is_truncation(), "{v:?}");
        assert_eq!(v.valid_up_to, g1.len() as u64);
        // Damage in the first group while a good group follows: corrupt.
        let mut data = [g1.clone(), g2].concat();
        data[10] ^= 0x01;
        let v = validate(&data, 0);
        assert_eq!(
            v.problem,
            Some(Problem::Corrupt {
                offset: 0,
                reason: "group checksum mismatch".into()
            })
        );
    }

    #[test]
    fn garbage_is_corrupt_with_offset() {
        let mut data = cmd(&["set", "a", "1"]);
        let at = data.len() as u64;
        data.extend(b"xyz\r\n");
        data.extend(cmd(&["set", "b", "2"]));
        let v = validate(&data, 7);
        match v.problem {
            Some(Problem::Corrupt { offset, .. }) => assert_eq!(offset, at + 7),
            other => panic!("{other:?}"),
        }
    }
}

//! Helpers shared by the collection commands (hashes, lists, sets, sorted
//! sets): typed key lookup, Redis's number/timeout parsing rules, the
//! HSCAN/SSCAN/ZSCAN cursor protocol, and the blocking-command request.

use smallvec::SmallVec;

use crate::exec::{BlockRequest, ExecCtx, ERR_NOT_INT, ERR_SYNTAX};
use crate::keyspace::Entry;
use crate::reply::ReplyWriter;
use crate::types::{HashValue, ListValue, SetValue, ZSetValue};
use crate::value::{itoa_buf, ByteStr, Value};

/// The key holds another type (WRONGTYPE was not yet written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

macro_rules! typed_access {
    ($get_mut:ident, $create:ident, $variant:ident, $ty:ty) => {
        /// The collection at `key` for modification: `Ok(None)` if missing.
        pub fn $get_mut<'c>(
            ctx: &'c mut ExecCtx<'_>,
            key: &[u8],
        ) -> Result<Option<&'c mut $ty>, WrongType> {
            match ctx.get_mut(key) {
                None => Ok(None),
                Some(Entry {
                    value: Value::$variant(v),
                    ..
                }) => Ok(Some(std::borrow::BorrowMut::<$ty>::borrow_mut(v))),
                Some(_) => Err(WrongType),
            }
        }

        /// The collection at `key`, created empty if missing.
        pub fn $create<'c>(ctx: &'c mut ExecCtx<'_>, key: &[u8]) -> Result<&'c mut $ty, WrongType> {
            if $get_mut(ctx, key)?.is_none() {
                ctx.insert(key, Entry::new(Value::$variant(Default::default())));
            }
            match $get_mut(ctx, key) {
                Ok(Some(v)) => Ok(v),
                _ => unreachable!("inserted just above under the same lock"),
            }
        }
    };
}

macro_rules! typed_read {
    ($read:ident, $variant:ident, $ty:ty) => {
        /// The collection at `key` for reading (counts a hit or miss) and the
        /// reply writer; None after writing WRONGTYPE.
        pub fn $read<'c>(
            ctx: &'c mut ExecCtx<'_>,
            key: &[u8],
        ) -> Option<(Option<&'c $ty>, &'c mut ReplyWriter)> {
            match ctx.read(key) {
                (None, out) => Some((None, out)),
                (
                    Some(Entry {
                        value: Value::$variant(v),
                        ..
                    }),
                    out,
                ) => Some((Some(std::borrow::Borrow::<$ty>::borrow(v)), out)),
                (Some(_), out) => {
                    out.error(crate::exec::WRONGTYPE);
                    None
                }
            }
        }
    };
}

typed_read!(read_hash, Hash, HashValue);
typed_read!(read_list, List, ListValue);
typed_read!(read_set, Set, SetValue);
typed_read!(read_zset, ZSet, ZSetValue);

typed_access!(hash_mut, hash_create, Hash, HashValue);
typed_access!(list_mut, list_create, List, ListValue);
typed_access!(set_mut, set_create, Set, SetValue);
typed_access!(zset_mut, zset_create, ZSet, ZSetValue);

/// Removes `key` if its collection became empty (Redis deletes empty collections).
pub fn remove_if_empty(ctx: &mut ExecCtx<'_>, key: &[u8]) {
    let empty = match ctx.peek(key).map(|e| &e.value) {
        Some(Value::Hash(h)) => h.is_empty(),
        Some(Value::List(l)) => l.is_empty(),
        Some(Value::Set(s)) => s.is_empty(),
        Some(Value::ZSet(z)) => z.is_empty(),
        _ => false,
    };
    if empty {
        ctx.remove(key);
    }
}

/// Parses a double like C's `strtod` over the whole argument: decimal,
/// `inf`/`infinity`, or hexadecimal (`0x1.8p3`); no spaces, no NaN. Values
/// that overflow become ±inf and ones that underflow become 0, as strtod
/// returns them (Redis's range parsing, `zslParseRange`, accepts those).
pub fn parse_f64_loose(arg: &[u8]) -> Option<f64> {
    parse_strtod(arg).map(|(v, _)| v)
}

/// Parses a double like Redis's `getDoubleFromObject`: [`parse_f64_loose`]
/// plus rejecting results strtod flags as out of range (overflow to ±inf
/// from a finite literal, or underflow to zero from a nonzero one).
pub fn parse_f64(arg: &[u8]) -> Option<f64> {
    match parse_strtod(arg)? {
        (_, true) => None,
        (v, false) => Some(v),
    }
}

/// (value, out of range).
fn parse_strtod(arg: &[u8]) -> Option<(f64, bool)> {
    let s = std::str::from_utf8(arg).ok()?;
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let (neg, body) = match s.as_bytes()[0] {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    if lower.starts_with("nan") {
        return None;
    }
    if lower == "inf" || lower == "infinity" {
        return Some((
            if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            false,
        ));
    }
    let v = if let Some(hex) = lower.strip_prefix("0x") {
        parse_hex_float(hex)?
    } else {
        if !body.starts_with(|c: char| c.is_ascii_digit() || c == '.') {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    let nonzero_digits = body
        .bytes()
        .take_while(|c| !matches!(c, b'e' | b'E' | b'p' | b'P'))
        .skip(if lower.starts_with("0x") { 2 } else { 0 })
        .any(|c| c.is_ascii_alphanumeric() && c != b'0');
    let out_of_range = v.is_infinite() || (v == 0.0 && nonzero_digits);
    Some((if neg { -v } else { v }, out_of_range))
}

/// Hexadecimal float digits after `0x`: `h[.h][p[+-]d]`.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mant, exp) = match s.split_once('p') {
        Some((m, e)) => (m, e.parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut v = 0f64;
    for c in int.chars() {
        v = v * 16.0 + c.to_digit(16)? as f64;
    }
    let mut scale = 1.0 / 16.0;
    for c in frac.chars() {
        v += c.to_digit(16)? as f64 * scale;
        scale /= 16.0;
    }
    Some(v * 2f64.powi(exp))
}

/// Parses an integer like Redis's `getLongLongFromObject`.
pub fn parse_i64(arg: &[u8]) -> Option<i64> {
    crate::util::parse_canonical_i64(arg)
}

/// Parses a blocking command's timeout (seconds, fractions allowed) into an
/// absolute deadline in ms (0 = forever), or the error Redis replies with.
pub fn parse_timeout(arg: &[u8], now_ms: u64) -> Result<u64, &'static str> {
    let secs = parse_f64(arg).ok_or("ERR timeout is not a float or out of range")?;
    if secs < 0.0 {
        return Err("ERR timeout is negative");
    }
    let ms = secs * 1000.0;
    if !ms.is_finite() || ms > (i64::MAX / 2) as f64 {
        return Err("ERR timeout is out of range");
    }
    let ms = ms.ceil() as u64;
    Ok(if ms == 0 {
        0
    } else {
        now_ms.saturating_add(ms)
    })
}

/// Asks the server to park the client on `keys` (no reply is written).
pub fn block_on(ctx: &mut ExecCtx<'_>, keys: &[&[u8]], deadline_ms: u64) {
    ctx.block = Some(BlockRequest {
        keys: keys.iter().map(|k| ByteStr::from_slice(k)).collect(),
        deadline_ms,
    });
}

/// Options of HSCAN/SSCAN/ZSCAN after the cursor.
pub struct ScanArgs<'a> {
    pub pattern: Option<&'a [u8]>,
    /// COUNT hint: table positions visited per call (Redis default 10).
    pub count: usize,
}

/// Parses `<cursor> [MATCH pattern] [COUNT n]`; on error writes it and returns None.
pub fn parse_scan<'a>(out: &mut ReplyWriter, args: &[&'a [u8]]) -> Option<(u64, ScanArgs<'a>)> {
    let cursor = match std::str::from_utf8(args[0])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        Some(c) => c,
        None => {
            out.error("ERR invalid cursor");
            return None;
        }
    };
    let mut pattern = None;
    let mut count = 10;
    let mut i = 1;
    while i < args.len() {
        let opt = args[i];
        if i + 1 >= args.len() {
            out.error(ERR_SYNTAX);
            return None;
        }
        if opt.eq_ignore_ascii_case(b"match") {
            pattern = Some(args[i + 1]).filter(|p| *p != b"*");
        } else if opt.eq_ignore_ascii_case(b"count") {
            match parse_i64(args[i + 1]) {
                None => {
                    out.error(ERR_NOT_INT);
                    return None;
                }
                Some(n) if n < 1 => {
                    out.error(ERR_SYNTAX);
                    return None;
                }
                Some(n) => count = n as usize,
            }
        } else {
            out.error(ERR_SYNTAX);
            return None;
        }
        i += 2;
    }
    Some((cursor, ScanArgs { pattern, count }))
}

/// Writes a scan reply that returns every element at once with cursor 0,
/// as Redis does for compact encodings. `items` yields groups (a field and its value, a member and its score)
/// whose first element is matched against the pattern.
pub fn write_scan_all<'i>(
    out: &mut ReplyWriter,
    pattern: Option<&[u8]>,
    group: usize,
    items: impl Iterator<Item = SmallVec<[std::borrow::Cow<'i, [u8]>; 2]>>,
) {
    let kept: Vec<_> = items
        .filter(|g| pattern.is_none_or(|p| glob_match(p, &g[0], false)))
        .collect();
    out.array(2);
    out.bulk(b"0");
    out.array(kept.len() * group);
    for g in &kept {
        for e in g {
            out.bulk(e);
        }
    }
}

/// Writes one page of a scan over a dense table of `len` positions (the
/// large encodings keep their entries in a dense array).
///
/// Positions are visited from the top down and the cursor is the position
/// below which nothing has been visited yet. Removal moves the last entry
/// into the hole and insertion appends, so an entry present for the whole
/// scan never moves from the unvisited part into the visited part: SCAN's
/// guarantee holds without a reverse-binary cursor.
pub fn write_scan_page<'i>(
    out: &mut ReplyWriter,
    cursor: u64,
    opts: &ScanArgs<'_>,
    len: usize,
    group: usize,
    item_at: impl Fn(usize) -> Option<SmallVec<[std::borrow::Cow<'i, [u8]>; 2]>>,
) {
    let top = if cursor == 0 {
        len
    } else {
        (cursor.min(len as u64)) as usize
    };
    let mut pos = top;
    let mut kept = Vec::new();
    let mut visited = 0;
    while pos > 0 && visited < opts.count {
        pos -= 1;
        visited += 1;
        if let Some(g) = item_at(pos) {
            if opts.pattern.is_none_or(|p| glob_match(p, &g[0], false)) {
                kept.push(g);
            }
        }
    }
    out.array(2);
    out.bulk(itoa_buf::Buf::new().format(pos as i64));
    out.array(kept.len() * group);
    for g in &kept {
        for e in g {
            out.bulk(e);
        }
    }
}

/// Redis's `stringmatchlen`: `*`, `?`, `[...]` with ranges and `^`, `\` escapes.
// TODO(glob): replace with crate::glob once the keys branch lands it.
pub fn glob_match(pat: &[u8], s: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut i) = (0, 0);
    while p < pat.len() {
        match pat[p] {
            b'*' => {
                while p + 1 < pat.len() && pat[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pat.len() {
                    return true;
                }
                for start in i..=s.len() {
                    if glob_match(&pat[p + 1..], &s[start..], nocase) {
                        return true;
                    }
                }
                return false;
            }
            b'?' => {
                if i >= s.len() {
                    return false;
                }
                i += 1;
            }
            b'[' => {
                if i >= s.len() {
                    return false;
                }
                p += 1;
                let not = p < pat.len() && pat[p] == b'^';
                if not {
                    p += 1;
                }
                let mut matched = false;
                loop {
                    if p >= pat.len() {
                        p -= 1;
                        break;
                    }
                    if pat[p] == b'\\' && p + 2 < pat.len() {
                        p += 1;
                        if eq(pat[p], s[i]) {
                            matched = true;
                        }
                    } else if pat[p] == b']' {
                        break;
                    } else if p + 2 < pat.len() && pat[p + 1] == b'-' {
                        let (mut lo, mut hi) = (pat[p], pat[p + 2]);
                        if lo > hi {
                            std::mem::swap(&mut lo, &mut hi);
                        }
                        let c = s[i];
                        let in_range = if nocase {
                            let c = c.to_ascii_lowercase();
                            c >= lo.to_ascii_lowercase() && c <= hi.to_ascii_lowercase()
                        } else {
                            c >= lo && c <= hi
                        };
                        if in_range {
                            matched = true;
                        }
                        p += 2;
                    } else if eq(pat[p], s[i]) {
                        matched = true;
                    }
                    p += 1;
                }
                if not {
                    matched = !matched;
                }
                if !matched {
                    return false;
                }
                i += 1;
            }
            b'\\' if p + 1 < pat.len() => {
                p += 1;
                if i >= s.len() || !eq(pat[p], s[i]) {
                    return false;
                }
                i += 1;
            }
            c => {
                if i >= s.len() || !eq(c, s[i]) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
    }
    i == s.len()
}

/// Count argument of a random-pick command (HRANDFIELD/SRANDMEMBER/ZRANDMEMBER).
pub fn parse_count(out: &mut ReplyWriter, arg: &[u8]) -> Option<i64> {
    match parse_i64(arg) {
        None => {
            out.error(ERR_NOT_INT);
            None
        }
        Some(i64::MIN) => {
            out.error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
            None
        }
        n => n,
    }
}

/// Resolves Redis's inclusive `start..=end` range with negative indexes
/// against `len`; None when the range is empty.
pub fn resolve_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let len = len as i64;
    let mut s = if start < 0 { len + start } else { start };
    let mut e = if end < 0 { len + end } else { end };
    if s < 0 {
        s = 0;
    }
    if s > e || s >= len {
        return None;
    }
    if e >= len {
        e = len - 1;
    }
    Some((s as usize, e as usize))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod testkit {
    //! A minimal command harness: runs commands through the same path the
    //! server uses (spec lookup, slot locks, ExecCtx::run).
    // TODO(testkit): swap for the shared harness from the strings branch.

    use crate::exec::{BlockRequest, ExecCtx, Locks, Propagation};
    use crate::reply::{Protocol, ReplyWriter};
    use crate::stats::ThreadStats;
    use crate::Keyspace;

    pub struct Kit {
        pub ks: Keyspace,
        pub stats: ThreadStats,
        pub prop: Propagation,
        pub proto: Protocol,
        pub in_multi: bool,
        pub unblocked_rerun: bool,
        /// Block request of the last command.
        pub block: Option<BlockRequest>,
        /// Ready keys signalled by the last command.
        pub ready: Vec<Vec<u8>>,
    }

    impl Kit {
        pub fn new() -> Kit {
            Kit {
                ks: Keyspace::new(16),
                stats: ThreadStats::default(),
                prop: Propagation::default(),
                proto: Protocol::Resp2,
                in_multi: false,
                unblocked_rerun: false,
                block: None,
                ready: Vec::new(),
            }
        }

        /// Runs a command (space-separated words) and returns its reply bytes.
        pub fn run(&mut self, line: &str) -> String {
            let words: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            self.run_args(&words)
        }

        pub fn run_args(&mut self, args: &[&[u8]]) -> String {
            let name = String::from_utf8_lossy(args[0]).to_lowercase();
            let spec = crate::cmd::all()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("unknown command {name}"));
            if !spec.arity_ok(args.len()) {
                return format!(
                    "-ERR wrong number of arguments for '{}' command\r\n",
                    spec.name
                );
            }
            let mut out = ReplyWriter::new(self.proto);
            self.prop.clear();
            let locks = Locks::for_command(&self.ks, spec, args);
            let mut ctx = ExecCtx::new(&self.ks, 0, &mut out, &self.stats, &mut self.prop, locks);
            ctx.in_multi = self.in_multi;
            ctx.unblocked_rerun = self.unblocked_rerun;
            ctx.run(spec, args);
            self.block = ctx.block.take();
            self.ready = ctx.ready_keys.iter().map(|(_, k)| k.to_vec()).collect();
            drop(ctx);
            String::from_utf8_lossy(out.bytes()).into_owned()
        }

        /// The propagated commands of the last run, as space-joined words.
        pub fn propagated(&self) -> Vec<String> {
            let text = String::from_utf8_lossy(&self.prop.buf).into_owned();
            let mut cmds = Vec::new();
            let mut lines = text.split("\r\n");
            while let Some(h) = lines.next() {
                let Some(n) = h.strip_prefix('*') else { break };
                let n: usize = n.parse().unwrap();
                let mut words = Vec::new();
                for _ in 0..n {
                    lines.next();
                    words.push(lines.next().unwrap().to_string());
                }
                cmds.push(words.join(" "));
            }
            cmds
        }
    }

    /// RESP for an array of bulk strings.
    pub fn bulks(items: &[&str]) -> String {
        let mut s = format!("*{}\r\n", items.len());
        for i in items {
            s += &format!("${}\r\n{}\r\n", i.len(), i);
        }
        s
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::testkit::Kit;
    use super::*;

    /// Parses a scan reply into (cursor, elements).
    fn scan_reply(reply: &str) -> (u64, Vec<String>) {
        let lines: Vec<&str> = reply.split("\r\n").collect();
        let cursor = lines[2].parse().unwrap();
        let elems = lines[4..]
            .iter()
            .filter(|l| !l.starts_with('$') && !l.is_empty())
            .map(|l| l.to_string())
            .collect();
        (cursor, elems)
    }

    /// Full scans of large collections under concurrent inserts and deletes
    /// return every element present for the whole scan.
    #[test]
    fn scans_of_large_collections_keep_the_guarantee() {
        for (add, scan, del, group) in [
            ("SADD", "SSCAN", "SREM", 1),
            ("HSET", "HSCAN", "HDEL", 2),
            ("ZADD", "ZSCAN", "ZREM", 2),
        ] {
            let mut k = Kit::new();
            let stable: Vec<String> = (0..600).map(|i| format!("s{i}")).collect();
            let doomed: Vec<String> = (0..300).map(|i| format!("d{i}")).collect();
            let add_cmd = |m: &str| match add {
                "SADD" => format!("SADD k {m}"),
                "HSET" => format!("HSET k {m} 1"),
                _ => format!("ZADD k 1 {m}"),
            };
            // Doomed entries first: deleting them pulls entries from the end of
            // the table to the front, which an ascending cursor would skip.
            for m in doomed.iter().chain(&stable) {
                k.run(&add_cmd(m));
            }
            let mut seen = std::collections::HashSet::new();
            let mut cursor = 0;
            let mut round = 0;
            loop {
                let (next, elems) = scan_reply(&k.run(&format!("{scan} k {cursor} COUNT 13")));
                for e in elems.iter().step_by(group) {
                    seen.insert(e.clone());
                }
                // Churn between calls: delete some, add new ones.
                if let Some(d) = doomed.get(round) {
                    k.run(&format!("{del} k {d}"));
                }
                k.run(&add_cmd(&format!("n{round}")));
                round += 1;
                if next == 0 {
                    break;
                }
                cursor = next;
                assert!(round < 10_000, "{scan} did not terminate");
            }
            for m in &stable {
                assert!(seen.contains(m), "{scan} missed {m}");
            }
        }
    }

    #[test]
    fn glob_patterns() {
        assert!(glob_match(b"f*", b"foo", false));
        assert!(glob_match(b"f?o", b"foo", false));
        assert!(!glob_match(b"f?o", b"fooo", false));
        assert!(glob_match(b"[a-c]x", b"bx", false));
        assert!(glob_match(b"[^a-c]x", b"dx", false));
        assert!(glob_match(b"\\*", b"*", false));
        assert!(!glob_match(b"\\*", b"a", false));
        assert!(glob_match(b"*a*b", b"xxaxxb", false));
    }

    #[test]
    fn floats_and_timeouts() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"nan"), None);
        assert_eq!(parse_f64(b" 1"), None);
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        assert_eq!(parse_f64(b"0x10"), Some(16.0));
        assert_eq!(parse_f64(b"-0x1.8p1"), Some(-3.0));
        assert_eq!(parse_f64(b"Infinity"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1."), Some(1.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        assert_eq!(parse_f64(b"1e"), None);
        assert_eq!(parse_f64(b"1e400"), None);
        assert_eq!(parse_f64(b"1e-400"), None);
        assert_eq!(parse_f64(b"0e0"), Some(0.0));
        assert_eq!(parse_f64(b"1e-310"), Some(1e-310));
        assert_eq!(parse_f64_loose(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_f64_loose(b"nan"), None);
        assert_eq!(parse_timeout(b"0", 5), Ok(0));
        assert_eq!(parse_timeout(b"0.5", 5), Ok(505));
        assert_eq!(parse_timeout(b"-1", 5), Err("ERR timeout is negative"));
        assert_eq!(
            parse_timeout(b"x", 5),
            Err("ERR timeout is not a float or out of range")
        );
    }

    #[test]
    fn ranges() {
        assert_eq!(resolve_range(0, -1, 3), Some((0, 2)));
        assert_eq!(resolve_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(resolve_range(2, 1, 3), None);
        assert_eq!(resolve_range(5, 10, 3), None);
        assert_eq!(resolve_range(0, 0, 0), None);
    }
}

/// The `numkeys key…` part of LMPOP/ZMPOP (and their blocking forms) at
/// `args[at..]`: the keys and the index of the argument after them (the
/// direction, which must follow the keys). None after replying an error.
pub fn parse_mpop_keys<'a>(
    ctx: &mut ExecCtx<'_>,
    args: &[&'a [u8]],
    at: usize,
) -> Option<(Vec<&'a [u8]>, usize)> {
    let n = match parse_i64(args[at]) {
        None => {
            ctx.out.error(ERR_NOT_INT);
            return None;
        }
        Some(n) if n <= 0 => {
            ctx.out.error("ERR numkeys should be greater than 0");
            return None;
        }
        Some(n) => n as u64,
    };
    if n >= (args.len() - at - 1) as u64 {
        ctx.out.error(ERR_SYNTAX);
        return None;
    }
    let next = at + 1 + n as usize;
    Some((args[at + 1..next].to_vec(), next))
}

/// The optional trailing `COUNT n` of LMPOP/ZMPOP from `args[i..]`
/// (default 1). None after replying an error.
pub fn parse_mpop_count(ctx: &mut ExecCtx<'_>, args: &[&[u8]], mut i: usize) -> Option<usize> {
    let mut count = None;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"count") && count.is_none() && i + 1 < args.len() {
            match parse_i64(args[i + 1]) {
                Some(c) if c > 0 => count = Some(c as usize),
                Some(_) => {
                    ctx.out.error("ERR count should be greater than 0");
                    return None;
                }
                None => {
                    ctx.out.error(ERR_NOT_INT);
                    return None;
                }
            }
            i += 2;
        } else {
            ctx.out.error(ERR_SYNTAX);
            return None;
        }
    }
    Some(count.unwrap_or(1))
}

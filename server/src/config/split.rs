//! Splitting one configuration line into arguments, the way Redis's
//! `sdssplitargs` does, and the inverse quoting (`sdscatrepr`).
//!
//! Both directions must agree byte for byte: the command line
//! (`--save ""`) is turned into configuration text with [`quote_arg`] and
//! parsed back with [`split_args`], and CONFIG REWRITE writes string values
//! with [`quote_arg`] so the next start reads back exactly what was set. A
//! splitter that accepted `"a"b` or dropped an unterminated quote would load
//! a different value from the one the user wrote, silently.

/// The line has a quote that is never closed, or a closing quote that is
/// not followed by a space or the end of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnbalancedQuotes;

/// Splits `line` into arguments with Redis's rules: blanks separate
/// arguments; `"..."` understands `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a` and
/// `\<any>`; `'...'` understands only `\'`; a closing quote must be followed
/// by a blank or the end of the line. A NUL byte ends the line, as it does in
/// C.
pub fn split_args(line: &[u8]) -> Result<Vec<Vec<u8>>, UnbalancedQuotes> {
    let end = memchr::memchr(0, line).unwrap_or(line.len());
    let line = &line[..end];
    let at = |i: usize| line.get(i).copied();
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while at(i).is_some_and(is_c_space) {
            i += 1;
        }
        if i >= line.len() {
            return Ok(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = at(i);
            if in_double {
                match c {
                    None => return Err(UnbalancedQuotes),
                    Some(b'\\')
                        if at(i + 1) == Some(b'x')
                            && at(i + 2).is_some_and(|b| b.is_ascii_hexdigit())
                            && at(i + 3).is_some_and(|b| b.is_ascii_hexdigit()) =>
                    {
                        let hi = hex_value(line[i + 2]);
                        let lo = hex_value(line[i + 3]);
                        current.push(hi * 16 + lo);
                        i += 4;
                    }
                    Some(b'\\') if at(i + 1).is_some() => {
                        let escaped = line[i + 1];
                        current.push(match escaped {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 0x08,
                            b'a' => 0x07,
                            other => other,
                        });
                        i += 2;
                    }
                    Some(b'"') => {
                        if at(i + 1).is_some_and(|b| !is_c_space(b)) {
                            return Err(UnbalancedQuotes);
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => {
                        current.push(b);
                        i += 1;
                    }
                }
            } else if in_single {
                match c {
                    None => return Err(UnbalancedQuotes),
                    Some(b'\\') if at(i + 1) == Some(b'\'') => {
                        current.push(b'\'');
                        i += 2;
                    }
                    Some(b'\'') => {
                        if at(i + 1).is_some_and(|b| !is_c_space(b)) {
                            return Err(UnbalancedQuotes);
                        }
                        i += 1;
                        break;
                    }
                    Some(b) => {
                        current.push(b);
                        i += 1;
                    }
                }
            } else {
                match c {
                    None | Some(b' ' | b'\n' | b'\r' | b'\t') => break,
                    Some(b'"') => {
                        in_double = true;
                        i += 1;
                    }
                    Some(b'\'') => {
                        in_single = true;
                        i += 1;
                    }
                    Some(b) => {
                        current.push(b);
                        i += 1;
                    }
                }
            }
        }
        args.push(current);
    }
}

/// Quotes `arg` so that [`split_args`] reads it back as one argument equal
/// to `arg`: always double-quoted, with `\\`, `\"`, `\n`, `\r`, `\t`, `\a`,
/// `\b` and `\xHH` for other non-printable bytes (Redis's `sdscatrepr`).
pub fn quote_arg(arg: &[u8]) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    for &b in arg {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(char::from(b)),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// C's `isspace` in the "C" locale.
pub(crate) fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn hex_value(b: u8) -> u8 {
    debug_assert!(b.is_ascii_hexdigit());
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn split(s: &str) -> Result<Vec<String>, UnbalancedQuotes> {
        split_args(s.as_bytes()).map(|args| {
            args.into_iter()
                .map(|a| String::from_utf8(a).unwrap())
                .collect()
        })
    }

    #[test]
    fn plain_words_split_on_blanks() {
        assert_eq!(split("save 900 1").unwrap(), ["save", "900", "1"]);
        assert_eq!(split("  \t port\t6379  ").unwrap(), ["port", "6379"]);
        assert!(split("").unwrap().is_empty());
        assert!(split("   ").unwrap().is_empty());
    }

    #[test]
    fn double_quotes_understand_escapes() {
        assert_eq!(split(r#"a "b c" d"#).unwrap(), ["a", "b c", "d"]);
        assert_eq!(split(r#""\x41\x7a""#).unwrap(), ["Az"]);
        assert_eq!(split(r#""\n\r\t\"\\\q""#).unwrap(), ["\n\r\t\"\\q"]);
        let bell = split_args(br#""\a\b\xff""#).unwrap();
        assert_eq!(bell, [vec![7u8, 8, 0xff]]);
        // `\x` without two hex digits is an ordinary escape of `x`.
        assert_eq!(split(r#""\x4g""#).unwrap(), ["x4g"]);
    }

    #[test]
    fn single_quotes_only_escape_the_quote() {
        assert_eq!(split(r"'it\'s \n'").unwrap(), ["it's \\n"]);
    }

    #[test]
    fn empty_quoted_argument_is_kept() {
        assert_eq!(split(r#"save """#).unwrap(), ["save", ""]);
        assert_eq!(split("save ''").unwrap(), ["save", ""]);
    }

    #[test]
    fn quote_may_open_mid_word() {
        assert_eq!(split(r#"ab"c d""#).unwrap(), ["abc d"]);
    }

    #[test]
    fn closing_quote_must_be_followed_by_blank() {
        assert_eq!(split(r#""a"b"#), Err(UnbalancedQuotes));
        assert_eq!(split("'a'b"), Err(UnbalancedQuotes));
        assert_eq!(split(r#""a"	b"#).unwrap(), ["a", "b"]);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(split(r#"save "900 1"#), Err(UnbalancedQuotes));
        assert_eq!(split("save '900"), Err(UnbalancedQuotes));
        assert_eq!(split(r#""abc\"#), Err(UnbalancedQuotes));
    }

    #[test]
    fn nul_ends_the_line() {
        assert_eq!(
            split_args(b"a b\0c d").unwrap(),
            [b"a".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn quote_round_trips_every_byte() {
        let all: Vec<u8> = (0u8..=255).collect();
        let quoted = quote_arg(&all);
        // A NUL would end the line when parsed, so check without it too.
        assert_eq!(split_args(quoted.as_bytes()).unwrap(), [all]);
        assert_eq!(quote_arg(b"a b\"c"), r#""a b\"c""#);
        assert_eq!(quote_arg(b""), r#""""#);
    }
}

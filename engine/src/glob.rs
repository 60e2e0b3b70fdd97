//! Redis's glob matching (`stringmatchlen`) for KEYS, SCAN MATCH, CONFIG GET.
//!
//! A naive backtracking matcher takes exponential time on patterns such as
//! `*a*a*a*a*a*b` against a long run of `a`s (CVE-2022-36021 hit Redis
//! exactly there). Like Redis, once the rest of a pattern after a `*` fails
//! to match at every later position, no earlier `*` can succeed by consuming
//! more, so the search stops; recursion depth is also capped.

/// Deeper `*` nesting than this fails the match instead of recursing further.
const STAR_NESTING_MAX: usize = 1000;

/// True if `string` matches the glob `pattern`: `*`, `?`, `[abc]`, `[^abc]`,
/// `[a-z]` (reversed ranges allowed), `\x` escapes; `nocase` folds ASCII case.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let mut skip_longer = false;
    match_impl(pattern, string, nocase, &mut skip_longer, 0)
}

fn fold(c: u8, nocase: bool) -> u8 {
    if nocase {
        c.to_ascii_lowercase()
    } else {
        c
    }
}

fn match_impl(
    mut p: &[u8],
    mut s: &[u8],
    nocase: bool,
    skip_longer: &mut bool,
    nesting: usize,
) -> bool {
    if nesting > STAR_NESTING_MAX {
        return false;
    }
    while !p.is_empty() && !s.is_empty() {
        match p[0] {
            b'*' => {
                while p.len() > 1 && p[1] == b'*' {
                    p = &p[1..];
                }
                if p.len() == 1 {
                    return true;
                }
                while !s.is_empty() {
                    if match_impl(&p[1..], s, nocase, skip_longer, nesting + 1) {
                        return true;
                    }
                    if *skip_longer {
                        return false;
                    }
                    s = &s[1..];
                }
                *skip_longer = true;
                return false;
            }
            b'?' => s = &s[1..],
            b'[' => {
                p = &p[1..];
                let negate = p.first() == Some(&b'^');
                if negate {
                    p = &p[1..];
                }
                let (class_matched, rest) = match_class(p, s[0], nocase);
                p = rest;
                if class_matched == negate {
                    return false;
                }
                s = &s[1..];
            }
            c => {
                let literal = if c == b'\\' && p.len() >= 2 {
                    p = &p[1..];
                    p[0]
                } else {
                    c
                };
                if fold(literal, nocase) != fold(s[0], nocase) {
                    return false;
                }
                s = &s[1..];
            }
        }
        // Step over the character (or the class's closing `]`) just used;
        // an unterminated class has already consumed the whole pattern.
        if !p.is_empty() {
            p = &p[1..];
        }
        if s.is_empty() {
            while p.first() == Some(&b'*') {
                p = &p[1..];
            }
            break;
        }
    }
    p.is_empty() && s.is_empty()
}

/// Matches `c` against a class body starting after `[` / `[^`. Returns
/// whether it matched and the pattern positioned at the closing `]` (or
/// empty if the class is unterminated).
fn match_class(mut p: &[u8], c: u8, nocase: bool) -> (bool, &[u8]) {
    let mut matched = false;
    loop {
        match p {
            [] => return (matched, p),
            [b'\\', escaped, ..] => {
                if *escaped == c {
                    matched = true;
                }
                p = &p[1..];
            }
            [b']', ..] => return (matched, p),
            [start, b'-', end, ..] => {
                // Redis compares `char`s, which are signed on x86-64.
                let (mut lo, mut hi) = (*start as i8, *end as i8);
                if lo > hi {
                    std::mem::swap(&mut lo, &mut hi);
                }
                let mut ch = c as i8;
                if nocase {
                    lo = (lo as u8).to_ascii_lowercase() as i8;
                    hi = (hi as u8).to_ascii_lowercase() as i8;
                    ch = c.to_ascii_lowercase() as i8;
                }
                if lo <= ch && ch <= hi {
                    matched = true;
                }
                p = &p[2..];
            }
            [lit, ..] => {
                if fold(*lit, nocase) == fold(c, nocase) {
                    matched = true;
                }
            }
        }
        p = &p[1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        glob_match(p.as_bytes(), s.as_bytes(), false)
    }

    #[test]
    fn stars_and_questions() {
        // As in Redis: an empty string matches nothing; KEYS and SCAN special-case "*".
        assert!(!m("*", ""));
        assert!(m("a*", "a"));
        assert!(m("*", "anything"));
        assert!(m("h?llo", "hello"));
        assert!(!m("h?llo", "hllo"));
        assert!(m("h*llo", "hllo"));
        assert!(m("h*llo", "heeeello"));
        assert!(m("a**b", "axxb"));
        assert!(m("*o*", "foo"));
        assert!(!m("*x*", "foo"));
        assert!(m("foo*", "foo"));
        assert!(m("foo**", "foo"));
        assert!(!m("foo?", "foo"));
        assert!(!m("", "a"));
        assert!(m("", ""));
        assert!(!m("a", ""));
    }

    #[test]
    fn classes() {
        assert!(m("h[ae]llo", "hello"));
        assert!(m("h[ae]llo", "hallo"));
        assert!(!m("h[ae]llo", "hillo"));
        assert!(m("h[^e]llo", "hallo"));
        assert!(!m("h[^e]llo", "hello"));
        assert!(m("h[a-b]llo", "hbllo"));
        assert!(m("h[b-a]llo", "hallo"), "reversed range");
        assert!(!m("h[a-b]llo", "hcllo"));
        assert!(m("[\\]]", "]"));
        assert!(m("[a\\-z]", "-"));
        assert!(!m("[a\\-z]", "b"));
        // `a-]` is a range up to `]` (and the class is then unterminated).
        assert!(!m("[a-]", "-"));
        assert!(m("[a-]", "^"));
        assert!(m("[a-]", "]"));
        // Unterminated classes end the pattern, as in Redis.
        assert!(m("a[b", "ab"));
        assert!(!m("a[", "ab"));
        assert!(m("a[^", "ab"));
    }

    #[test]
    fn escapes_and_case() {
        assert!(m("h\\*llo", "h*llo"));
        assert!(!m("h\\*llo", "hello"));
        assert!(m("a\\", "a\\"), "a trailing backslash is literal");
        assert!(glob_match(b"HeLLo", b"hello", true));
        assert!(glob_match(b"[A-Z]", b"q", true));
        assert!(!glob_match(b"[A-Z]", b"q", false));
        assert!(glob_match(b"*", b"\xff\x00", false));
        assert!(glob_match(b"\xff?", b"\xff\x00", false));
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let s = "a".repeat(5000);
        let p = format!("{}b", "*a".repeat(50));
        assert!(!m(&p, &s));
        let deep = "*a".repeat(2000);
        assert!(!m(&deep, &"a".repeat(1999)));
    }
}

//! Glob patterns for CONFIG GET: `*`, `?`, `[abc]`, `[^a-z]`, `\x`, as
//! Redis's `stringmatchlen` reads them.
//!
//! A small private matcher until the engine's `glob.rs` can be shared. It
//! compiles the pattern into single-byte tokens and stars and matches with
//! the two-pointer algorithm, so a pattern like `*a*a*a*a*b` costs
//! O(pattern × name) instead of the exponential backtracking a naive
//! recursive matcher does.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Star,
    AnyByte,
    Literal(u8),
    Class {
        negated: bool,
        ranges: Vec<(u8, u8)>,
    },
}

fn compile(pattern: &[u8]) -> Vec<Token> {
    let mut tokens = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            b'?' => tokens.push(Token::AnyByte),
            b'\\' if i + 1 < pattern.len() => {
                i += 1;
                tokens.push(Token::Literal(pattern[i]));
            }
            b'[' => {
                i += 1;
                let negated = pattern.get(i) == Some(&b'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                // An unterminated class runs to the end of the pattern.
                while i < pattern.len() && pattern[i] != b']' {
                    if pattern[i] == b'\\' && i + 1 < pattern.len() {
                        i += 1;
                        ranges.push((pattern[i], pattern[i]));
                    } else if i + 2 < pattern.len() && pattern[i + 1] == b'-' {
                        let (a, b) = (pattern[i], pattern[i + 2]);
                        ranges.push((a.min(b), a.max(b)));
                        i += 2;
                    } else {
                        ranges.push((pattern[i], pattern[i]));
                    }
                    i += 1;
                }
                tokens.push(Token::Class { negated, ranges });
            }
            other => tokens.push(Token::Literal(other)),
        }
        i += 1;
    }
    tokens
}

fn token_matches(token: &Token, byte: u8, nocase: bool) -> bool {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    match token {
        Token::Star => true,
        Token::AnyByte => true,
        Token::Literal(expected) => fold(*expected) == fold(byte),
        Token::Class { negated, ranges } => {
            let hit = ranges.iter().any(|&(lo, hi)| {
                (lo..=hi).contains(&byte) || (nocase && (fold(lo)..=fold(hi)).contains(&fold(byte)))
            });
            hit != *negated
        }
    }
}

/// True when `name` matches `pattern` as a whole.
pub fn glob_match(pattern: &[u8], name: &[u8], nocase: bool) -> bool {
    let tokens = compile(pattern);
    let (mut t, mut n) = (0, 0);
    // Where to resume after the most recent star: (token after it, name index).
    let mut resume: Option<(usize, usize)> = None;
    while n < name.len() {
        match tokens.get(t) {
            Some(Token::Star) => {
                resume = Some((t + 1, n));
                t += 1;
            }
            Some(token) if token_matches(token, name[n], nocase) => {
                t += 1;
                n += 1;
            }
            _ => match resume {
                Some((after_star, from)) => {
                    t = after_star;
                    n = from + 1;
                    resume = Some((after_star, from + 1));
                }
                None => return false,
            },
        }
    }
    tokens[t..].iter().all(|token| *token == Token::Star)
}

/// True when `pattern` has a glob character; CONFIG GET looks such
/// patterns up by matching, others by name.
pub fn is_pattern(pattern: &[u8]) -> bool {
    pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pattern: &str, name: &str) -> bool {
        glob_match(pattern.as_bytes(), name.as_bytes(), false)
    }

    #[test]
    fn stars_and_question_marks() {
        assert!(m("*", "port"));
        assert!(m("*", ""));
        assert!(m("p*", "port"));
        assert!(m("*max*", "maxmemory-policy"));
        assert!(m("p?rt", "port"));
        assert!(!m("p?rt", "prt"));
        assert!(m("*-max-*-entries", "hash-max-listpack-entries"));
        assert!(!m("*-max-*-entries", "hash-max-listpack-value"));
        assert!(m("a**b", "ab"));
    }

    #[test]
    fn classes() {
        assert!(m("[ph]ort", "port"));
        assert!(!m("[^p]ort", "port"));
        assert!(m("[a-z]z", "hz"));
        assert!(m("[z-a]z", "hz"));
        assert!(!m("[0-9]z", "hz"));
        assert!(m("a[\\]]", "a]"));
    }

    #[test]
    fn escapes_and_case() {
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(!m("PO*", "port"));
        assert!(glob_match(b"PO*", b"port", true));
    }

    #[test]
    fn pathological_pattern_is_fast() {
        let pattern = "*a".repeat(30) + "b";
        let name = "a".repeat(60);
        let started = std::time::Instant::now();
        assert!(!m(&pattern, &name));
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn is_pattern_detects_glob_characters() {
        assert!(is_pattern(b"max*"));
        assert!(is_pattern(b"h?"));
        assert!(is_pattern(b"[a]"));
        assert!(!is_pattern(b"maxmemory"));
    }
}

//! Splitting a line into arguments the way Redis's `sdssplitargs` does, for
//! inline commands (and redis.conf lines): whitespace-separated words,
//! double quotes with `\xHH`/`\n`/`\r`/`\t`/`\b`/`\a` escapes, single quotes
//! with `\'`, and a closing quote that must be followed by a space.
//! Returns `None` on unbalanced quotes.

pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut args = Vec::new();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return Some(args);
        }
        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = line.get(i).copied();
            if in_double {
                match c {
                    None => return None,
                    Some(b'\\')
                        if line.get(i + 1) == Some(&b'x')
                            && hex(line.get(i + 2)).is_some()
                            && hex(line.get(i + 3)).is_some() =>
                    {
                        let hi = hex(line.get(i + 2)).unwrap_or(0);
                        let lo = hex(line.get(i + 3)).unwrap_or(0);
                        current.push(hi * 16 + lo);
                        i += 3;
                    }
                    Some(b'\\') if i + 1 < line.len() => {
                        i += 1;
                        current.push(match line[i] {
                            b'n' => b'\n',
                            b'r' => b'\r',
                            b't' => b'\t',
                            b'b' => 8,
                            b'a' => 7,
                            other => other,
                        });
                    }
                    Some(b'"') => {
                        // The closing quote must be followed by a space or the end.
                        if line.get(i + 1).is_some_and(|&n| !is_space(n)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else if in_single {
                match c {
                    None => return None,
                    Some(b'\\') if line.get(i + 1) == Some(&b'\'') => {
                        i += 1;
                        current.push(b'\'');
                    }
                    Some(b'\'') => {
                        if line.get(i + 1).is_some_and(|&n| !is_space(n)) {
                            return None;
                        }
                        i += 1;
                        break;
                    }
                    Some(other) => current.push(other),
                }
            } else {
                match c {
                    None => break,
                    Some(c) if is_space(c) => break,
                    Some(b'"') => in_double = true,
                    Some(b'\'') => in_single = true,
                    Some(other) => current.push(other),
                }
            }
            i += 1;
        }
        args.push(current);
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c | 0)
}

fn hex(c: Option<&u8>) -> Option<u8> {
    let c = *c?;
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(line: &str) -> Option<Vec<String>> {
        split_args(line.as_bytes()).map(|v| {
            v.into_iter()
                .map(|a| String::from_utf8_lossy(&a).into_owned())
                .collect()
        })
    }

    #[test]
    fn words_and_quotes() {
        assert_eq!(s("set  a b").unwrap(), ["set", "a", "b"]);
        assert_eq!(s("save \"\"").unwrap(), ["save", ""]);
        assert_eq!(s("a \"x\\ty\" 'it\\'s'").unwrap(), ["a", "x\ty", "it's"]);
        assert_eq!(s("\"\\x41\\x4a\"").unwrap(), ["AJ"]);
        assert_eq!(s("   ").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn unbalanced_or_glued_quotes() {
        assert!(s("\"abc").is_none());
        assert!(s("'abc").is_none());
        assert!(s("\"a\"b").is_none());
    }
}

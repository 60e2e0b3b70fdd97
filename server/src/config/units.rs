//! The scalar value syntaxes of redis.conf: `yes`/`no`, strict integers,
//! memory values with units, octal numbers and percentages, and how CONFIG
//! REWRITE prints memory values back.
//!
//! Redis is strict where a lenient parser would surprise: `01`, `+1` and
//! ` 1` are not integers, `1 k` is not a memory value, and `1k` is 1000 bytes
//! while `1kb` is 1024. Reading `64m` as 64 MiB would give a different
//! maxmemory than Redis gives for the same file.

/// Redis's `yesnotoi`: `yes`/`no`, any case.
pub fn parse_yes_no(arg: &str) -> Option<bool> {
    if arg.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if arg.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Redis's `string2ll`: an optional `-`, then digits without a leading zero
/// (except `0` itself), fitting in an `i64`.
pub fn parse_strict_i64(arg: &str) -> Option<i64> {
    let bytes = arg.as_bytes();
    if bytes == b"0" {
        return Some(0);
    }
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    // Accumulate negatively so i64::MIN parses.
    let mut value: i64 = 0;
    for &d in digits {
        value = value.checked_mul(10)?.checked_sub(i64::from(d - b'0'))?;
    }
    if negative {
        Some(value)
    } else {
        value.checked_neg()
    }
}

/// Redis's `memtoull`: decimal digits followed by an optional unit among
/// `b`, `k` (1000), `kb` (1024), `m`, `mb`, `g`, `gb`, any case. As in Redis,
/// an empty number reads as 0 (`""` and `"k"` are 0).
pub fn parse_memory(arg: &str) -> Option<u64> {
    let digits_len = arg.bytes().take_while(u8::is_ascii_digit).count();
    let (digits, unit) = arg.split_at(digits_len);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    let value: u64 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    value.checked_mul(multiplier)
}

/// An octal number as C's `strtoll(arg, &end, 8)` with the whole argument
/// consumed: optional blanks and sign, then octal digits.
pub fn parse_octal(arg: &str) -> Option<i64> {
    let trimmed =
        arg.trim_start_matches(|c: char| c.is_ascii() && crate::config::split::is_c_space(c as u8));
    let (negative, digits) = match trimmed.as_bytes().first() {
        Some(b'-') => (true, &trimmed[1..]),
        Some(b'+') => (false, &trimmed[1..]),
        _ => (false, trimmed),
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let value = i64::from_str_radix(digits, 8).ok()?;
    Some(if negative { -value } else { value })
}

/// A percentage `N%` with `N` a non-negative strict integer; Redis stores it
/// as `-N` in the same field as the byte value.
pub fn parse_percent(arg: &str) -> Option<i64> {
    let number = arg.strip_suffix('%')?;
    let value = parse_strict_i64(number)?;
    (value >= 0).then_some(-value)
}

/// C's `strtoll(arg, &end, 10)` where the caller requires `*end == '\0'`:
/// leading blanks, an optional sign, and digits; no digits at all reads as 0
/// only when nothing else follows. Saturates like `strtoll`.
pub fn parse_c_strtoll(arg: &str) -> Option<i64> {
    let bytes = arg.as_bytes();
    let mut i = 0;
    while i < bytes.len() && crate::config::split::is_c_space(bytes[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
        negative = bytes[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut value: i64 = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        let d = i64::from(bytes[i] - b'0');
        value = value.saturating_mul(10).saturating_add(d);
        i += 1;
    }
    if i == digits_start {
        // No conversion: strtoll leaves `end` at the start of the string.
        return if bytes.is_empty() { Some(0) } else { None };
    }
    if i != bytes.len() {
        return None;
    }
    Some(if negative {
        value.saturating_neg()
    } else {
        value
    })
}

/// How CONFIG REWRITE prints a byte count: `Ngb`, `Nmb` or `Nkb` when it is
/// an exact multiple, plain bytes otherwise (and for 0).
pub fn format_memory(bytes: i128) -> String {
    const KB: i128 = 1024;
    const MB: i128 = 1024 * 1024;
    const GB: i128 = 1024 * 1024 * 1024;
    if bytes != 0 && bytes % GB == 0 {
        format!("{}gb", bytes / GB)
    } else if bytes != 0 && bytes % MB == 0 {
        format!("{}mb", bytes / MB)
    } else if bytes != 0 && bytes % KB == 0 {
        format!("{}kb", bytes / KB)
    } else {
        bytes.to_string()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn yes_no_any_case() {
        assert_eq!(parse_yes_no("YES"), Some(true));
        assert_eq!(parse_yes_no("no"), Some(false));
        assert_eq!(parse_yes_no("No"), Some(false));
        assert_eq!(parse_yes_no("1"), None);
        assert_eq!(parse_yes_no("true"), None);
    }

    #[test]
    fn strict_integers() {
        assert_eq!(parse_strict_i64("0"), Some(0));
        assert_eq!(parse_strict_i64("-2"), Some(-2));
        assert_eq!(parse_strict_i64("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_strict_i64("-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "01",
            "+1",
            " 1",
            "1 ",
            "-0",
            "9223372036854775808",
            "1k",
            "abc",
        ] {
            assert_eq!(parse_strict_i64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("100"), Some(100));
        assert_eq!(parse_memory("100b"), Some(100));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("1K"), Some(1000));
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("2m"), Some(2_000_000));
        assert_eq!(parse_memory("2Mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("3g"), Some(3_000_000_000));
        assert_eq!(parse_memory("3gB"), Some(3 * 1024 * 1024 * 1024));
        assert_eq!(parse_memory(""), Some(0));
        assert_eq!(parse_memory("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "1x",
            "-1",
            "1 kb",
            "1tb",
            "18446744073709551616",
            "17179869184gb",
            "1.5mb",
        ] {
            assert_eq!(parse_memory(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn octal_and_percent() {
        assert_eq!(parse_octal("700"), Some(0o700));
        assert_eq!(parse_octal("0"), Some(0));
        assert_eq!(parse_octal("8"), None);
        assert_eq!(parse_octal(""), None);
        assert_eq!(parse_percent("10%"), Some(-10));
        assert_eq!(parse_percent("0%"), Some(0));
        assert_eq!(parse_percent("%"), None);
        assert_eq!(parse_percent("-1%"), None);
        assert_eq!(parse_percent("10"), None);
    }

    #[test]
    fn strtoll_like_save_arguments() {
        assert_eq!(parse_c_strtoll("900"), Some(900));
        assert_eq!(parse_c_strtoll(" +5"), Some(5));
        assert_eq!(parse_c_strtoll("-5"), Some(-5));
        assert_eq!(parse_c_strtoll(""), Some(0));
        assert_eq!(parse_c_strtoll("a"), None);
        assert_eq!(parse_c_strtoll("5a"), None);
        assert_eq!(parse_c_strtoll("99999999999999999999"), Some(i64::MAX));
    }

    #[test]
    fn memory_is_rewritten_with_the_largest_exact_unit() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1024), "1kb");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(format_memory(64 * 1024 * 1024), "64mb");
        assert_eq!(format_memory(1 << 30), "1gb");
        assert_eq!(format_memory(1536), "1536");
        assert_eq!(format_memory(1536 * 1024), "1536kb");
    }
}

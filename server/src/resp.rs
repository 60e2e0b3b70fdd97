//! RESP request framing: multibulk (`*N\r\n$len\r\n…`) and inline commands,
//! with Redis 7.0's limits and protocol error texts.
//!
//! The parser works on the connection's input buffer without copying
//! multibulk arguments: it returns byte ranges into that buffer. Inline
//! commands need unquoting, so their arguments are copied into a scratch
//! buffer and the ranges point there.

use std::ops::Range;

use smallvec::SmallVec;

use crate::config::split_args;

/// Longest inline command or header line Redis accepts (`PROTO_INLINE_MAX_SIZE`).
pub const INLINE_BYTES_MAX: usize = 64 * 1024;
/// Multibulk argument count above which Redis refuses the request.
pub const MULTIBULK_ARGS_MAX: i64 = 1024 * 1024;
/// Limits for connections that have not authenticated yet.
pub const UNAUTH_MULTIBULK_ARGS_MAX: i64 = 10;
pub const UNAUTH_BULK_BYTES_MAX: i64 = 16384;

/// Where parsed argument ranges point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgSource {
    /// Into the input buffer.
    Input,
    /// Into the parser's scratch buffer (inline commands).
    Scratch,
}

/// One framed request.
#[derive(Debug, Default)]
pub struct Request {
    pub ranges: SmallVec<[Range<usize>; 8]>,
    pub source: Option<ArgSource>,
}

/// Outcome of one parse step.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A full command; `consumed` bytes of input belong to it.
    Command { consumed: usize },
    /// An empty line or `*0`: nothing to run, but input consumed.
    Empty { consumed: usize },
    /// More input needed.
    Incomplete,
    /// The client broke the protocol; reply with this error and close.
    Error(String),
}

/// Limits applied while parsing.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub bulk_bytes_max: i64,
    pub authenticated: bool,
}

#[derive(Debug, Default)]
pub struct Parser {
    pub scratch: Vec<u8>,
    pub request: Request,
}

impl Parser {
    /// Frames the next request at the start of `input`.
    pub fn parse(&mut self, input: &[u8], limits: Limits) -> Parsed {
        self.request.ranges.clear();
        self.request.source = None;
        match input.first() {
            None => Parsed::Incomplete,
            Some(b'*') => self.parse_multibulk(input, limits),
            Some(_) => self.parse_inline(input),
        }
    }

    /// The arguments of the last parsed command.
    pub fn args<'a>(&'a self, input: &'a [u8]) -> SmallVec<[&'a [u8]; 8]> {
        let base = match self.request.source {
            Some(ArgSource::Scratch) => &self.scratch[..],
            _ => input,
        };
        self.request
            .ranges
            .iter()
            .map(|r| &base[r.clone()])
            .collect()
    }

    fn parse_inline(&mut self, input: &[u8]) -> Parsed {
        let Some(nl) = memchr::memchr(b'\n', input) else {
            if input.len() > INLINE_BYTES_MAX {
                return Parsed::Error("Protocol error: too big inline request".into());
            }
            return Parsed::Incomplete;
        };
        let mut line = &input[..nl];
        if line.last() == Some(&b'\r') {
            line = &line[..line.len() - 1];
        }
        let Ok(args) = split_args(line) else {
            return Parsed::Error("Protocol error: unbalanced quotes in request".into());
        };
        if args.is_empty() {
            return Parsed::Empty { consumed: nl + 1 };
        }
        self.scratch.clear();
        for a in &args {
            let start = self.scratch.len();
            self.scratch.extend_from_slice(a);
            self.request.ranges.push(start..self.scratch.len());
        }
        self.request.source = Some(ArgSource::Scratch);
        Parsed::Command { consumed: nl + 1 }
    }

    fn parse_multibulk(&mut self, input: &[u8], limits: Limits) -> Parsed {
        let (count, mut pos) = match read_header(input, 0) {
            Header::Incomplete => {
                if input.len() > INLINE_BYTES_MAX {
                    return Parsed::Error("Protocol error: too big mbulk count string".into());
                }
                return Parsed::Incomplete;
            }
            Header::Bad => {
                return Parsed::Error("Protocol error: invalid multibulk length".into());
            }
            Header::Value(n, next) => (n, next),
        };
        if count > MULTIBULK_ARGS_MAX {
            return Parsed::Error("Protocol error: invalid multibulk length".into());
        }
        if !limits.authenticated && count > UNAUTH_MULTIBULK_ARGS_MAX {
            return Parsed::Error("Protocol error: unauthenticated multibulk length".into());
        }
        if count <= 0 {
            return Parsed::Empty { consumed: pos };
        }
        for _ in 0..count {
            let Some(&first) = input.get(pos) else {
                return Parsed::Incomplete;
            };
            if first != b'$' {
                return Parsed::Error(format!(
                    "Protocol error: expected '$', got '{}'",
                    first as char
                ));
            }
            let (len, data_start) = match read_header(input, pos) {
                Header::Incomplete => {
                    if input.len() - pos > INLINE_BYTES_MAX {
                        return Parsed::Error("Protocol error: too big bulk count string".into());
                    }
                    return Parsed::Incomplete;
                }
                Header::Bad => return Parsed::Error("Protocol error: invalid bulk length".into()),
                Header::Value(n, next) => (n, next),
            };
            if len < 0 || len > limits.bulk_bytes_max {
                return Parsed::Error("Protocol error: invalid bulk length".into());
            }
            if !limits.authenticated && len > UNAUTH_BULK_BYTES_MAX {
                return Parsed::Error("Protocol error: unauthenticated bulk length".into());
            }
            let end = data_start + len as usize;
            if input.len() < end + 2 {
                return Parsed::Incomplete;
            }
            // Redis does not check the CRLF after the payload; it skips two bytes.
            self.request.ranges.push(data_start..end);
            pos = end + 2;
        }
        self.request.source = Some(ArgSource::Input);
        Parsed::Command { consumed: pos }
    }
}

enum Header {
    Incomplete,
    Bad,
    /// The number, and the position after its CRLF.
    Value(i64, usize),
}

/// Reads `<type><integer>\r\n` starting at `pos`.
///
/// Headers are read once per argument, so the common case (digits right up
/// to the CR) is a single pass without a separate search for the line end.
#[inline]
fn read_header(input: &[u8], pos: usize) -> Header {
    let digits_start = pos + 1;
    let mut end = digits_start;
    let mut value: u64 = 0;
    while let Some(digit) = input.get(end).map(|b| b.wrapping_sub(b'0')) {
        if digit > 9 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(digit));
        end += 1;
    }
    let digit_count = end - digits_start;
    // Up to 18 digits cannot overflow an i64; a leading zero is only valid
    // as the number 0 itself.
    if input.get(end) == Some(&b'\r')
        && (1..=18).contains(&digit_count)
        && (digit_count == 1 || input[digits_start] != b'0')
    {
        if input.len() < end + 2 {
            return Header::Incomplete;
        }
        debug_assert_eq!(
            parse_redis_int(&input[digits_start..end]),
            Some(value as i64)
        );
        return Header::Value(value as i64, end + 2);
    }
    let line_end = match input.get(end) {
        Some(b'\r') => end,
        // A sign, a stray byte or no CR yet: find where the line ends.
        _ => match memchr::memchr(b'\r', &input[end.min(input.len())..]) {
            Some(cr) => end + cr,
            None => return Header::Incomplete,
        },
    };
    if input.len() < line_end + 2 {
        return Header::Incomplete;
    }
    match parse_redis_int(&input[digits_start..line_end]) {
        Some(n) => Header::Value(n, line_end + 2),
        None => Header::Bad,
    }
}

/// Redis's `string2ll`: an optional `-`, no `+`, no leading zeros (except
/// `0` itself), no spaces, no overflow.
fn parse_redis_int(s: &[u8]) -> Option<i64> {
    let (negative, digits) = match s {
        [b'0'] => return Some(0),
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude
            .checked_mul(10)?
            .checked_add(u64::from(b - b'0'))?;
    }
    if negative {
        if magnitude == i64::MIN.unsigned_abs() {
            Some(i64::MIN)
        } else {
            i64::try_from(magnitude).ok().map(|m| -m)
        }
    } else {
        i64::try_from(magnitude).ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        bulk_bytes_max: 512 * 1024 * 1024,
        authenticated: true,
    };

    fn parse_all(input: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut p = Parser::default();
        let mut pos = 0;
        let mut out = vec![];
        loop {
            match p.parse(&input[pos..], LIMITS) {
                Parsed::Command { consumed } => {
                    out.push(p.args(&input[pos..]).iter().map(|a| a.to_vec()).collect());
                    pos += consumed;
                }
                Parsed::Empty { consumed } => pos += consumed,
                Parsed::Incomplete => return out,
                Parsed::Error(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn header_integers_follow_string2ll() {
        assert_eq!(parse_redis_int(b"0"), Some(0));
        assert_eq!(parse_redis_int(b"42"), Some(42));
        assert_eq!(parse_redis_int(b"-1"), Some(-1));
        assert_eq!(parse_redis_int(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_redis_int(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+5",
            b"007",
            b"-0",
            b"1 ",
            b" 1",
            b"9223372036854775808",
            b"1x",
        ] {
            assert_eq!(parse_redis_int(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn headers_split_anywhere_are_incomplete_not_errors() {
        let full = b"*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
        for cut in 0..full.len() {
            let mut p = Parser::default();
            assert_eq!(
                p.parse(&full[..cut], LIMITS),
                Parsed::Incomplete,
                "cut at {cut}"
            );
        }
        let mut p = Parser::default();
        assert_eq!(
            p.parse(full, LIMITS),
            Parsed::Command {
                consumed: full.len()
            }
        );
        assert_eq!(
            Parser::default().parse(b"*1\r\n$+3\r\nGET\r\n", LIMITS),
            Parsed::Error("Protocol error: invalid bulk length".into())
        );
        assert_eq!(
            Parser::default().parse(b"*x1\r\n", LIMITS),
            Parsed::Error("Protocol error: invalid multibulk length".into())
        );
    }

    #[test]
    fn multibulk_pipeline() {
        let cmds = parse_all(b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET");
        assert_eq!(cmds.len(), 2);
        assert_eq!(cmds[0], vec![b"GET".to_vec(), b"a".to_vec()]);
        assert_eq!(cmds[1], vec![b"PING".to_vec()]);
    }

    #[test]
    fn inline_with_quotes() {
        let cmds = parse_all(b"SET k \"a b\\x41\"\r\nPING\n\r\n");
        assert_eq!(
            cmds[0],
            vec![b"SET".to_vec(), b"k".to_vec(), b"a bA".to_vec()]
        );
        assert_eq!(cmds[1], vec![b"PING".to_vec()]);
    }

    #[test]
    fn protocol_errors() {
        let mut p = Parser::default();
        let err = |p: &mut Parser, input: &[u8]| match p.parse(input, LIMITS) {
            Parsed::Error(e) => e,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(&mut p, b"*x\r\n"),
            "Protocol error: invalid multibulk length"
        );
        assert_eq!(
            err(&mut p, b"*1\r\n+a\r\n"),
            "Protocol error: expected '+', got '+'".replace("'+', got", "'$', got")
        );
        assert_eq!(
            err(&mut p, b"*1\r\n$-3\r\n"),
            "Protocol error: invalid bulk length"
        );
        assert_eq!(
            err(&mut p, b"SET \"a\r\n"),
            "Protocol error: unbalanced quotes in request"
        );
        let unauth = Limits {
            authenticated: false,
            ..LIMITS
        };
        assert_eq!(
            p.parse(b"*11\r\n", unauth),
            Parsed::Error("Protocol error: unauthenticated multibulk length".into())
        );
        let big = vec![b'a'; INLINE_BYTES_MAX + 1];
        assert_eq!(err(&mut p, &big), "Protocol error: too big inline request");
    }
}

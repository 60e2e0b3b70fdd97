//! Replies, written straight into the connection's output buffer in RESP2 or
//! RESP3 so that the command path does not build intermediate reply values.
//!
//! Types RESP2 lacks are mapped the way Redis maps them: maps and sets become
//! flat arrays, doubles become bulk strings, booleans become integers, and
//! both nulls become `$-1` (or `*-1` for a null array).

use crate::util::format_double_g17;

/// RESP protocol version of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Resp2,
    Resp3,
}

/// Receives one command's reply (or several, pipelined) as RESP bytes.
#[derive(Debug)]
pub struct ReplyWriter {
    buf: Vec<u8>,
    proto: Protocol,
    /// Error replies written since the last [`ReplyWriter::take_error_count`];
    /// INFO errorstats and the `rejected` counters read it.
    errors: u32,
    /// First word of the last error written (e.g. `ERR`, `WRONGTYPE`), for errorstats.
    last_error_prefix: [u8; 16],
    last_error_prefix_len: u8,
}

impl Default for ReplyWriter {
    fn default() -> Self {
        ReplyWriter::new(Protocol::Resp2)
    }
}

impl ReplyWriter {
    pub fn new(proto: Protocol) -> ReplyWriter {
        ReplyWriter {
            buf: Vec::with_capacity(256),
            proto,
            errors: 0,
            last_error_prefix: [0; 16],
            last_error_prefix_len: 0,
        }
    }

    pub fn proto(&self) -> Protocol {
        self.proto
    }
    pub fn set_proto(&mut self, proto: Protocol) {
        self.proto = proto;
    }
    pub fn is_resp3(&self) -> bool {
        self.proto == Protocol::Resp3
    }

    /// The bytes written so far.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
    pub fn buffer_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
    pub fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }
    pub fn take_error_count(&mut self) -> u32 {
        std::mem::take(&mut self.errors)
    }
    pub fn last_error_prefix(&self) -> &[u8] {
        &self.last_error_prefix[..self.last_error_prefix_len as usize]
    }

    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    pub fn simple(&mut self, s: &str) {
        debug_assert!(!s.contains('\r') && !s.contains('\n'));
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error reply. `msg` is the full text including its code, e.g.
    /// `ERR syntax error` or `WRONGTYPE Operation against …`.
    pub fn error(&mut self, msg: &str) {
        self.errors += 1;
        let code = msg.split(' ').next().unwrap_or("ERR").as_bytes();
        let n = code.len().min(self.last_error_prefix.len());
        self.last_error_prefix[..n].copy_from_slice(&code[..n]);
        self.last_error_prefix_len = n as u8;
        self.buf.push(b'-');
        // Newlines would break the protocol; Redis replaces them with spaces.
        self.buf.extend(
            msg.bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    pub fn int(&mut self, i: i64) {
        self.header(b':', i);
    }

    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer as a bulk string (how Redis replies with `int`-encoded strings).
    pub fn bulk_int(&mut self, i: i64) {
        let mut b = crate::value::itoa_buf::Buf::new();
        let s = b.format(i);
        self.header(b'$', s.len() as i64);
        self.buf.extend_from_slice(s);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Null bulk string (`$-1` / `_`).
    pub fn null(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"$-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    /// Null array (`*-1` / `_`), e.g. EXEC after a failed WATCH.
    pub fn null_array(&mut self) {
        match self.proto {
            Protocol::Resp2 => self.buf.extend_from_slice(b"*-1\r\n"),
            Protocol::Resp3 => self.buf.extend_from_slice(b"_\r\n"),
        }
    }

    pub fn array(&mut self, len: usize) {
        self.header(b'*', len as i64);
    }

    /// A map header of `pairs` key/value pairs (flattened to an array in RESP2).
    pub fn map(&mut self, pairs: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', (pairs * 2) as i64),
            Protocol::Resp3 => self.header(b'%', pairs as i64),
        }
    }

    /// A set header (an array in RESP2).
    pub fn set(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'~', len as i64),
        }
    }

    /// A push header (RESP3 only; callers use arrays in RESP2).
    pub fn push(&mut self, len: usize) {
        match self.proto {
            Protocol::Resp2 => self.header(b'*', len as i64),
            Protocol::Resp3 => self.header(b'>', len as i64),
        }
    }

    /// A double: bulk string formatted like `%.17g` in RESP2, `,` in RESP3.
    pub fn double(&mut self, d: f64) {
        let s = format_double_g17(d);
        match self.proto {
            Protocol::Resp2 => self.bulk(s.as_bytes()),
            Protocol::Resp3 => {
                self.buf.push(b',');
                self.buf.extend_from_slice(s.as_bytes());
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    pub fn boolean(&mut self, b: bool) {
        match self.proto {
            Protocol::Resp2 => self.int(b as i64),
            Protocol::Resp3 => self
                .buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" }),
        }
    }

    /// Verbatim string (`=` in RESP3, bulk in RESP2), e.g. INFO and CLIENT LIST.
    pub fn verbatim(&mut self, format: &str, data: &[u8]) {
        match self.proto {
            Protocol::Resp2 => self.bulk(data),
            Protocol::Resp3 => {
                debug_assert_eq!(format.len(), 3);
                self.header(b'=', (data.len() + 4) as i64);
                self.buf.extend_from_slice(format.as_bytes());
                self.buf.push(b':');
                self.buf.extend_from_slice(data);
                self.buf.extend_from_slice(b"\r\n");
            }
        }
    }

    /// Appends bytes that are already valid RESP.
    pub fn raw(&mut self, resp: &[u8]) {
        self.buf.extend_from_slice(resp);
    }

    #[inline]
    fn header(&mut self, kind: u8, n: i64) {
        // Every reply has a header: itoa skips fmt's machinery.
        self.buf.push(kind);
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resp2_and_resp3_forms() {
        let mut w = ReplyWriter::new(Protocol::Resp2);
        w.map(1);
        w.bulk(b"a");
        w.double(1.5);
        w.null();
        w.boolean(true);
        assert_eq!(w.bytes(), b"*2\r\n$1\r\na\r\n$3\r\n1.5\r\n$-1\r\n:1\r\n");
        let mut w = ReplyWriter::new(Protocol::Resp3);
        w.map(1);
        w.bulk(b"a");
        w.double(1.5);
        w.null();
        w.boolean(true);
        assert_eq!(w.bytes(), b"%1\r\n$1\r\na\r\n,1.5\r\n_\r\n#t\r\n");
    }

    #[test]
    fn error_counts_and_strips_newlines() {
        let mut w = ReplyWriter::default();
        w.error("ERR bad\nthing");
        assert_eq!(w.bytes(), b"-ERR bad thing\r\n");
        assert_eq!(w.take_error_count(), 1);
        assert_eq!(w.last_error_prefix(), b"ERR");
    }
}

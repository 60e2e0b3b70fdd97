//! Loading a data set fast: commands are encoded as RESP and sent in
//! pipelined batches over one connection, each batch's replies read back
//! before the next (so the server's output buffer stays small).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use anyhow::{bail, Context};

/// Commands per round trip.
const BATCH: usize = 1000;

/// Appends one command as a RESP array of bulk strings.
/// Allocation-free apart from growing `out` (the load generator calls it
/// per request).
pub fn encode_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    // The load generator encodes every request: itoa, not fmt.
    let mut digits = itoa::Buffer::new();
    out.push(b'*');
    out.extend_from_slice(digits.format(args.len()).as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        out.push(b'$');
        out.extend_from_slice(digits.format(a.len()).as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Sends every command from `commands` (each a list of arguments) and
/// checks that none failed. Replies must be single-line (`+OK`, `:n`),
/// which covers SET, HSET, SADD, ZADD, RPUSH and friends.
pub fn bulk_load<I>(port: u16, commands: I) -> anyhow::Result<u64>
where
    I: IntoIterator<Item = Vec<Vec<u8>>>,
{
    let mut conn = TcpStream::connect(("127.0.0.1", port)).context("connecting to load")?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut out = Vec::with_capacity(64 * BATCH);
    let mut total = 0u64;
    let mut pending = 0usize;
    let mut reader = ReplyCounter::default();
    for cmd in commands {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
        encode_command(&mut out, &args);
        pending += 1;
        if pending == BATCH {
            conn.write_all(&out)?;
            out.clear();
            reader.read_replies(&mut conn, pending)?;
            total += pending as u64;
            pending = 0;
        }
    }
    if pending > 0 {
        conn.write_all(&out)?;
        reader.read_replies(&mut conn, pending)?;
        total += pending as u64;
    }
    Ok(total)
}

#[derive(Default)]
struct ReplyCounter {
    /// Bytes of a reply line split across reads.
    partial: Vec<u8>,
}

impl ReplyCounter {
    fn read_replies(&mut self, conn: &mut TcpStream, mut want: usize) -> anyhow::Result<()> {
        let mut buf = vec![0u8; 64 << 10];
        while want > 0 {
            let n = conn.read(&mut buf)?;
            if n == 0 {
                bail!("server closed the connection during the load");
            }
            self.partial.extend_from_slice(&buf[..n]);
            let mut start = 0;
            while let Some(pos) = memchr_crlf(&self.partial[start..]) {
                let line = &self.partial[start..start + pos];
                if line.first() == Some(&b'-') {
                    bail!("load command failed: {}", String::from_utf8_lossy(line));
                }
                if !matches!(line.first(), Some(b'+' | b':')) {
                    bail!(
                        "unexpected reply during load: {}",
                        String::from_utf8_lossy(line)
                    );
                }
                want = want.checked_sub(1).context("more replies than commands")?;
                start += pos + 2;
            }
            self.partial.drain(..start);
        }
        Ok(())
    }
}

fn memchr_crlf(b: &[u8]) -> Option<usize> {
    b.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_resp_arrays() {
        let mut out = Vec::new();
        encode_command(&mut out, &[b"SET", b"k", b""]);
        assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
    }
}

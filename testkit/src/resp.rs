//! A minimal RESP2/RESP3 client for differential tests: commands go out as
//! multibulk arrays, replies come back as their raw bytes, so two servers'
//! answers can be compared byte for byte.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Encodes `args` as a RESP multibulk request.
pub fn encode_command<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut req = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        req.extend_from_slice(a);
        req.extend_from_slice(b"\r\n");
    }
    req
}

/// Reads one complete RESP2/RESP3 reply (aggregates included), appending its
/// raw bytes to `out`. Panics when the peer closes or times out mid-reply:
/// in a test that is a failure worth seeing.
pub fn read_reply(r: &mut BufReader<TcpStream>, out: &mut Vec<u8>) {
    let mut line = Vec::new();
    r.read_until(b'\n', &mut line)
        .expect("reading a reply line");
    assert!(
        line.len() >= 3 && line.ends_with(b"\r\n"),
        "truncated reply line {:?}",
        String::from_utf8_lossy(&line)
    );
    out.extend_from_slice(&line);
    let head = line[0];
    let n: i64 = std::str::from_utf8(&line[1..line.len() - 2])
        .unwrap_or("0")
        .parse()
        .unwrap_or(0);
    match head {
        b'$' | b'=' | b'!' if n >= 0 => {
            let mut body = vec![0; n as usize + 2];
            r.read_exact(&mut body).expect("reading a bulk body");
            out.extend_from_slice(&body);
        }
        b'*' | b'~' | b'>' => {
            for _ in 0..n.max(0) {
                read_reply(r, out);
            }
        }
        b'%' | b'|' => {
            for _ in 0..n.max(0) * 2 {
                read_reply(r, out);
            }
            if head == b'|' {
                // An attribute precedes the reply it annotates.
                read_reply(r, out);
            }
        }
        _ => {}
    }
}

/// One connection that sends a command and returns its raw reply.
pub struct RawConn {
    conn: BufReader<TcpStream>,
}

impl RawConn {
    pub fn new(stream: TcpStream) -> RawConn {
        RawConn {
            conn: BufReader::new(stream),
        }
    }

    /// Sends one command and reads its one reply.
    pub fn call<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        self.conn
            .get_mut()
            .write_all(&encode_command(args))
            .expect("sending a command");
        let mut out = Vec::new();
        read_reply(&mut self.conn, &mut out);
        out
    }
}

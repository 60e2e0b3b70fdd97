//! The wire protocol, byte for byte against a real redis-server 7.0: the same
//! requests go to both servers and the replies must match exactly.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use ringkv_testkit::{start_redis, start_ringkv, ServerProcess};

fn ringkv(extra: &[&str]) -> ServerProcess {
    start_ringkv(Path::new(env!("CARGO_BIN_EXE_ringkv")), extra)
}

/// Sends `request` on a fresh connection and returns everything received
/// until the server closes or goes quiet.
fn exchange(server: &ServerProcess, request: &[u8]) -> Vec<u8> {
    let mut s = server.connect();
    s.write_all(request).expect("write");
    read_until_quiet(&mut s)
}

fn read_until_quiet(s: &mut TcpStream) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_millis(300))).ok();
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    out
}

const SAME_AS_REDIS: &[&[u8]] = &[
    b"PING\r\n",
    b"PING hello\r\n",
    b"ECHO \"a b\\x41\" extra\r\n",
    b"\r\n\r\nPING\r\n",
    b"SET k v\nGET k\n",
    b"*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n*1\r\n$4\r\nPING\r\n",
    b"*0\r\n*-1\r\nPING\r\n",
    b"NOSUCH a b c\r\n",
    b"GET\r\n",
    b"SET k \"unbalanced\r\n",
    b"*x\r\n",
    b"*1\r\n+PING\r\n",
    b"*1\r\n$-5\r\n",
    b"*1\r\n$abc\r\n",
    b"*2\r\n$3\r\nGET\r\n",
    b"MULTI\r\nSET a 1\r\nINCR a\r\nNOSUCH\r\nEXEC\r\n",
    b"MULTI\r\nSET a 1\r\nINCR a\r\nGET a\r\nEXEC\r\n",
    b"MULTI\r\nMULTI\r\nDISCARD\r\nDISCARD\r\nEXEC\r\n",
    b"SELECT 3\r\nSET x 1\r\nSELECT 99\r\nSELECT x\r\nGET x\r\nSELECT 0\r\nGET x\r\n",
    b"HELLO 4\r\nHELLO x\r\nHELLO 3\r\nGET nothing\r\nHELLO 2\r\nGET nothing\r\n",
    b"AUTH x\r\nAUTH a b c\r\n",
    b"CLIENT NOSUCH\r\nCLIENT SETNAME \"a b\"\r\nCLIENT SETNAME ok\r\nCLIENT GETNAME\r\n",
    b"QUIT\r\nPING\r\n",
];

/// Client ids differ between servers; blank them out of HELLO replies.
fn without_client_ids(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply).into_owned();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = rest.find("$2\r\nid\r\n:") {
        let start = i + "$2\r\nid\r\n:".len();
        out.push_str(&rest[..start]);
        let digits = rest[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit())
            .count();
        out.push('N');
        rest = &rest[start + digits..];
    }
    out.push_str(rest);
    out
}

#[test]
fn replies_match_redis_byte_for_byte() {
    let redis = start_redis(&[]);
    let ours = ringkv(&[]);
    for req in SAME_AS_REDIS {
        let expected = without_client_ids(&exchange(&redis, req));
        let got = without_client_ids(&exchange(&ours, req));
        assert_eq!(got, expected, "request {:?}", String::from_utf8_lossy(req));
    }
}

#[test]
fn unauthenticated_limits_match_redis() {
    let redis = start_redis(&["--requirepass", "pw"]);
    let ours = ringkv(&["--requirepass", "pw"]);
    for req in [
        &b"*20\r\n"[..],
        b"*2\r\n$100000\r\n",
        b"GET x\r\n",
        b"AUTH pw\r\nGET x\r\n",
    ] {
        assert_eq!(
            String::from_utf8_lossy(&exchange(&ours, req)),
            String::from_utf8_lossy(&exchange(&redis, req)),
            "request {:?}",
            String::from_utf8_lossy(req)
        );
    }
}

#[test]
fn garbage_never_crashes_the_server() {
    let server = ringkv(&[]);
    let mut seed: u64 = 0x9e3779b97f4a7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let fragments: [&[u8]; 9] = [
        b"*",
        b"$",
        b"\r\n",
        b"-1",
        b"999999999999",
        b"SET",
        b"\"",
        b"\x00\xff",
        b"3",
    ];
    for _ in 0..200 {
        let mut req = Vec::new();
        for _ in 0..(next() % 20) {
            req.extend_from_slice(fragments[(next() % fragments.len() as u64) as usize]);
        }
        let _ = exchange(&server, &req);
    }
    // Still serving.
    assert_eq!(exchange(&server, b"PING\r\n"), b"+PONG\r\n");
}

#[test]
fn large_values_and_deep_pipelines() {
    let server = ringkv(&[]);
    let big = vec![b'x'; 8 * 1024 * 1024];
    let mut req = format!("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n${}\r\n", big.len()).into_bytes();
    req.extend_from_slice(&big);
    req.extend_from_slice(b"\r\nSTRLEN big\r\n");
    for _ in 0..10_000 {
        req.extend_from_slice(b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n");
    }
    req.extend_from_slice(b"GET big\r\n");
    let mut s = server.connect();
    s.write_all(&req).expect("write");
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    let expected_tail_len = big.len() + 2;
    let deadline = Instant::now() + Duration::from_secs(30);
    while out.len() < expected_tail_len + 10_000 * 4 && Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
        }
        if out.ends_with(b"xxx\r\n") {
            break;
        }
    }
    let text_start = &out[..40];
    assert!(
        text_start.starts_with(b"+OK\r\n:8388608\r\n:1\r\n:2\r\n"),
        "{:?}",
        String::from_utf8_lossy(text_start)
    );
    assert!(out.windows(8).any(|w| w == b":10000\r\n"));
    assert!(out.ends_with(b"xxx\r\n"));
}

#[test]
fn maxclients_rejects_with_redis_error() {
    for backend in ["uring", "epoll"] {
        let server = ringkv(&["--maxclients", "2", "--io-backend", backend]);
        // The start-up probes' connections may not be reaped yet, so `a`
        // itself can be refused: retry until it is in, then wait until it
        // is the only client before taking the second place.
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut a = loop {
            let mut a = server.connect();
            let accepted =
                a.write_all(b"PING\r\n").is_ok() && read_until_quiet(&mut a) == b"+PONG\r\n";
            if accepted {
                break a;
            }
            assert!(
                Instant::now() < deadline,
                "{backend}: never accepted a first client"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        loop {
            a.write_all(b"INFO clients\r\n").expect("write");
            let info = String::from_utf8_lossy(&read_until_quiet(&mut a)).into_owned();
            if info.contains("connected_clients:1\r\n") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{backend}: probes never reaped: {info}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut b = server.connect();
        b.write_all(b"PING\r\n").expect("write");
        assert_eq!(read_until_quiet(&mut b), b"+PONG\r\n");
        let got = exchange(&server, b"PING\r\n");
        assert_eq!(
            String::from_utf8_lossy(&got),
            "-ERR max number of clients reached\r\n"
        );
    }
}

#[test]
fn sigterm_and_shutdown_stop_cleanly() {
    let mut server = ringkv(&[]);
    assert_eq!(server.terminate(), Some(0), "{}", server.log());
    let mut server = ringkv(&[]);
    let _ = exchange(&server, b"SHUTDOWN NOSAVE\r\n");
    assert_eq!(
        server.wait_exit(Duration::from_secs(10)),
        Some(0),
        "{}",
        server.log()
    );
}

#[test]
fn bad_configuration_exits_with_a_clear_message() {
    let (ok, _out, err) = ringkv_testkit::run_program(
        Path::new(env!("CARGO_BIN_EXE_ringkv")),
        &["serve", "--port", "7379", "--no-such-directive", "1"],
        None,
    );
    assert!(!ok);
    assert!(err.contains("no-such-directive"), "{err}");
}

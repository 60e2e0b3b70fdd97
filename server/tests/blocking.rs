//! Blocking pops across connections and io-threads: arrival order, timeouts,
//! MULTI, and the pipelined commands behind a blocked one.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use ringkv_testkit::{start_redis, start_ringkv, ServerProcess};

fn ringkv(backend: &str) -> ServerProcess {
    start_ringkv(
        Path::new(env!("CARGO_BIN_EXE_ringkv")),
        &["--io-backend", backend, "--io-threads", "2"],
    )
}

fn read_exact_reply(s: &mut TcpStream, expected: &[u8]) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.len() < expected.len() && Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(e) => panic!("read: {e}"),
        }
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

fn nothing_arrives(s: &mut TcpStream, wait: Duration) {
    s.set_read_timeout(Some(wait)).ok();
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => panic!("connection closed"),
        Ok(n) => panic!("unexpected reply {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(_) => {}
    }
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
}

#[test]
fn clients_are_served_in_arrival_order_across_threads() {
    for backend in ["uring", "epoll"] {
        let server = ringkv(backend);
        // Several connections, likely spread over both io-threads.
        let mut waiters: Vec<TcpStream> = (0..4).map(|_| server.connect()).collect();
        for w in waiters.iter_mut() {
            w.write_all(b"BLPOP q 0\r\n").expect("write");
            // Give each a moment so arrival order is well defined.
            std::thread::sleep(Duration::from_millis(50));
        }
        for w in waiters.iter_mut() {
            nothing_arrives(w, Duration::from_millis(50));
        }
        let mut pusher = server.connect();
        pusher.write_all(b"RPUSH q a b c d\r\n").expect("write");
        read_exact_reply(&mut pusher, b":4\r\n");
        for (w, item) in waiters.iter_mut().zip(["a", "b", "c", "d"]) {
            read_exact_reply(w, format!("*2\r\n$1\r\nq\r\n$1\r\n{item}\r\n").as_bytes());
        }
        pusher.write_all(b"EXISTS q\r\n").expect("write");
        read_exact_reply(&mut pusher, b":0\r\n");
    }
}

#[test]
fn timeouts_multi_and_pipelined_followers() {
    let server = ringkv("uring");
    let mut c = server.connect();
    let started = Instant::now();
    // The PING behind the blocked BLPOP is answered only after it times out.
    c.write_all(b"BLPOP empty 0.2\r\nPING\r\n").expect("write");
    read_exact_reply(&mut c, b"*-1\r\n+PONG\r\n");
    assert!(started.elapsed() >= Duration::from_millis(150));
    // Inside MULTI a blocking pop does not block.
    c.write_all(b"MULTI\r\nBLPOP empty 0\r\nEXEC\r\n")
        .expect("write");
    read_exact_reply(&mut c, b"+OK\r\n+QUEUED\r\n*1\r\n*-1\r\n");
    // BLMOVE hands the element over and the destination serves a second waiter.
    let mut w1 = server.connect();
    let mut w2 = server.connect();
    w1.write_all(b"BLMOVE src dst LEFT RIGHT 0\r\n")
        .expect("write");
    std::thread::sleep(Duration::from_millis(50));
    w2.write_all(b"BLPOP dst 0\r\n").expect("write");
    std::thread::sleep(Duration::from_millis(50));
    c.write_all(b"LPUSH src x\r\n").expect("write");
    read_exact_reply(&mut c, b":1\r\n");
    read_exact_reply(&mut w1, b"$1\r\nx\r\n");
    read_exact_reply(&mut w2, b"*2\r\n$3\r\ndst\r\n$1\r\nx\r\n");
    // Errors of the timeout argument.
    c.write_all(b"BLPOP k -1\r\nBLPOP k abc\r\n")
        .expect("write");
    read_exact_reply(
        &mut c,
        b"-ERR timeout is negative\r\n-ERR timeout is not a float or out of range\r\n",
    );
}

#[test]
fn a_disconnected_waiter_is_skipped() {
    let server = ringkv("epoll");
    let mut gone = server.connect();
    gone.write_all(b"BRPOP q 0\r\n").expect("write");
    std::thread::sleep(Duration::from_millis(50));
    drop(gone);
    let mut w = server.connect();
    w.write_all(b"BRPOP q 0\r\n").expect("write");
    std::thread::sleep(Duration::from_millis(100));
    let mut p = server.connect();
    p.write_all(b"LPUSH q v\r\n").expect("write");
    read_exact_reply(&mut p, b":1\r\n");
    read_exact_reply(&mut w, b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n");
}

/// SWAPDB serves clients whose key now holds data in their database (as
/// Redis 7.0 rescans both databases; checked against redis-server), also
/// from inside MULTI; a waiter
/// whose key is still missing (or was popped first) stays blocked, and so
/// do waiters across a FLUSHALL.
#[test]
fn swapdb_serves_waiters_whose_key_arrived() {
    swapdb_serves_waiters(ringkv("uring"));
    // The same replies from the real thing.
    swapdb_serves_waiters(start_redis(&[]));
}

fn swapdb_serves_waiters(server: ServerProcess) {
    let mut waiter = server.connect();
    let mut other = server.connect();
    let mut wrong_type = server.connect();
    waiter.write_all(b"BLPOP k 0\r\n").expect("write");
    other.write_all(b"BLPOP missing 0\r\n").expect("write");
    wrong_type.write_all(b"BZPOPMIN k 0\r\n").expect("write");
    std::thread::sleep(Duration::from_millis(100));
    let mut c = server.connect();
    c.write_all(b"SELECT 1\r\nRPUSH k v\r\nFLUSHALL\r\nRPUSH k v\r\nSWAPDB 0 1\r\n")
        .expect("write");
    read_exact_reply(&mut c, b"+OK\r\n:1\r\n+OK\r\n:1\r\n+OK\r\n");
    read_exact_reply(&mut waiter, b"*2\r\n$1\r\nk\r\n$1\r\nv\r\n");
    nothing_arrives(&mut other, Duration::from_millis(100));
    nothing_arrives(&mut wrong_type, Duration::from_millis(50));
    // Inside a transaction, served at EXEC.
    let mut waiter = server.connect();
    waiter
        .write_all(b"SELECT 2\r\nBRPOP j 0\r\n")
        .expect("write");
    read_exact_reply(&mut waiter, b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(100));
    c.write_all(b"SELECT 3\r\nRPUSH j w\r\nMULTI\r\nSWAPDB 3 2\r\nEXEC\r\n")
        .expect("write");
    read_exact_reply(&mut c, b"+OK\r\n:1\r\n+OK\r\n+QUEUED\r\n*1\r\n+OK\r\n");
    read_exact_reply(&mut waiter, b"*2\r\n$1\r\nj\r\n$1\r\nw\r\n");
}

#[test]
fn a_served_waiters_reply_counts_as_output() {
    let server = ringkv("uring");
    let mut info = ringkv_testkit::connect_raw(server.port);
    let mut waiter = server.connect();
    waiter.write_all(b"BLPOP q 0\r\n").expect("write");
    nothing_arrives(&mut waiter, Duration::from_millis(100));
    let (before, info_reply_bytes) = ringkv_testkit::net_output_bytes(&mut info);
    let mut pusher = server.connect();
    pusher.write_all(b"RPUSH q v\r\n").expect("write");
    read_exact_reply(&mut pusher, b":1\r\n");
    let served = b"*2\r\n$1\r\nq\r\n$1\r\nv\r\n";
    read_exact_reply(&mut waiter, served);
    let (after, _) = ringkv_testkit::net_output_bytes(&mut info);
    assert_eq!(after - before, info_reply_bytes + 4 + served.len() as u64);
}

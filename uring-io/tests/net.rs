//! The event loops over real TCP on 127.0.0.1, two loop threads sharing one
//! listener, every test run for both backends.
//!
//! The handler speaks a line protocol: `ECHO x` → `x`, `BIG n i` → `n` bytes
//! of a pattern seeded by `i` then a newline, `QUIT` → `BYE` and close after
//! flush, `KILL` → output then `close_now` (the output must never arrive),
//! `PAUSE` → `PAUSED` and `pause_input` until a `wake` resumes it with
//! `RESUMED`. Only complete lines are consumed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ringkv_uring_io::net::{run, ConnInfo};
use ringkv_uring_io::{BackendKind, ConnId, ConnIo, ConnSet, Handler, LoopConfig, Waker};

const LOOP_THREADS: usize = 2;
const IO_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Default)]
struct Stats {
    opened: AtomicUsize,
    closed: AtomicUsize,
    ticks: AtomicUsize,
    wakes: AtomicUsize,
    reject: AtomicBool,
    stop: AtomicBool,
}

struct Conn {
    id: ConnId,
}

struct LineHandler {
    stats: Arc<Stats>,
    open_ids: Vec<ConnId>,
}

fn pattern_byte(seed: usize, i: usize) -> u8 {
    b'a' + ((seed * 7 + i) % 26) as u8
}

impl LineHandler {
    /// Executes complete lines until input runs out, a close, or a pause.
    fn serve(io: &mut ConnIo) {
        while !io.pause_input && !io.close_after_flush && !io.close_now {
            let Some(end) = io.input.iter().position(|&b| b == b'\n') else {
                return;
            };
            let line: Vec<u8> = io.input.drain(..=end).collect();
            let line = std::str::from_utf8(&line[..end]).unwrap().to_string();
            let mut words = line.splitn(2, ' ');
            match (words.next().unwrap(), words.next()) {
                ("ECHO", Some(rest)) => {
                    io.output.extend_from_slice(rest.as_bytes());
                    io.output.push(b'\n');
                }
                ("BIG", Some(rest)) => {
                    let mut nums = rest.split(' ').map(|n| n.parse::<usize>().unwrap());
                    let (len, seed) = (nums.next().unwrap(), nums.next().unwrap());
                    io.output.extend((0..len).map(|i| pattern_byte(seed, i)));
                    io.output.push(b'\n');
                }
                ("QUIT", None) => {
                    io.output.extend_from_slice(b"BYE\n");
                    io.close_after_flush = true;
                }
                ("KILL", None) => {
                    io.output.extend_from_slice(b"NEVER SENT\n");
                    io.close_now = true;
                }
                ("PAUSE", None) => {
                    io.output.extend_from_slice(b"PAUSED\n");
                    io.pause_input = true;
                }
                _ => io.output.extend_from_slice(b"ERR\n"),
            }
        }
    }
}

impl Handler for LineHandler {
    type Conn = Conn;

    fn open(&mut self, info: ConnInfo, io: &mut ConnIo) -> Option<Conn> {
        assert!(info.fd >= 0);
        assert!(info.peer.ip().is_loopback());
        if self.stats.reject.load(Ordering::SeqCst) {
            io.output
                .extend_from_slice(b"-ERR max number of clients reached\n");
            return None;
        }
        self.stats.opened.fetch_add(1, Ordering::SeqCst);
        self.open_ids.push(info.id);
        Some(Conn { id: info.id })
    }

    fn input(&mut self, _conn: &mut Conn, io: &mut ConnIo) {
        assert!(!io.pause_input, "input called while paused");
        Self::serve(io);
    }

    fn wake(&mut self, conns: &mut dyn ConnSet<Conn>) {
        self.stats.wakes.fetch_add(1, Ordering::SeqCst);
        for &id in &self.open_ids {
            let Some((conn, io)) = conns.get_mut(id) else {
                continue;
            };
            assert_eq!(conn.id, id);
            if io.pause_input {
                io.pause_input = false;
                io.output.extend_from_slice(b"RESUMED\n");
            }
        }
    }

    fn tick(&mut self, conns: &mut dyn ConnSet<Conn>) {
        self.stats.ticks.fetch_add(1, Ordering::SeqCst);
        let mut live = 0;
        conns.for_each(&mut |id, conn, _io| {
            assert_eq!(conn.id, id);
            live += 1;
        });
        assert_eq!(live, self.open_ids.len());
    }

    fn closed(&mut self, conn: Conn) {
        let before = self.open_ids.len();
        self.open_ids.retain(|&id| id != conn.id);
        assert_eq!(
            self.open_ids.len() + 1,
            before,
            "closed twice or never opened"
        );
        self.stats.closed.fetch_add(1, Ordering::SeqCst);
    }

    fn should_stop(&self) -> bool {
        self.stats.stop.load(Ordering::SeqCst)
    }
}

struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
    wakers: Vec<Waker>,
    threads: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    fn start(backend: BackendKind, output_pause_bytes: usize) -> Server {
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        // The server may hand over a non-blocking listener; both backends
        // must accept on one.
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stats = Arc::new(Stats::default());
        let cfg = LoopConfig {
            backend,
            tick: Duration::from_millis(20),
            output_pause_bytes,
            // The io_uring loop polls before sleeping, as the server's does.
            idle_poll: Duration::from_micros(30),
        };
        let mut wakers = Vec::new();
        let mut threads = Vec::new();
        for _ in 0..LOOP_THREADS {
            let waker = Waker::new().unwrap();
            wakers.push(waker.clone());
            let (listener, stats, cfg) = (listener.clone(), stats.clone(), cfg.clone());
            threads.push(std::thread::spawn(move || {
                let mut handler = LineHandler {
                    stats,
                    open_ids: Vec::new(),
                };
                let result = run(&cfg, &listener, &waker, &mut handler);
                assert!(handler.open_ids.is_empty(), "run returned with open conns");
                result
            }));
        }
        Server {
            addr,
            stats,
            wakers,
            threads,
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        stream
    }

    fn wake_all(&self) {
        for waker in &self.wakers {
            waker.wake();
        }
    }

    /// Stops the loops and checks they returned cleanly within a bound.
    fn stop(self) -> Arc<Stats> {
        self.stats.stop.store(true, Ordering::SeqCst);
        self.wake_all();
        let deadline = Instant::now() + IO_TIMEOUT;
        for thread in self.threads {
            while !thread.is_finished() {
                assert!(Instant::now() < deadline, "loop did not stop in time");
                std::thread::sleep(Duration::from_millis(5));
            }
            thread.join().expect("loop panicked").expect("loop failed");
        }
        self.stats
    }
}

fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + IO_TIMEOUT;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn read_exact_bytes(stream: &mut TcpStream, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    stream.read_exact(&mut buf).unwrap();
    buf
}

fn expect_reply(stream: &mut TcpStream, expected: &[u8]) {
    let got = read_exact_bytes(stream, expected.len());
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(expected)
    );
}

/// Reads until EOF (or reset); returns what arrived.
fn read_to_end_or_reset(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

fn assert_nothing_arrives(stream: &mut TcpStream, for_how_long: Duration) {
    stream.set_read_timeout(Some(for_how_long)).unwrap();
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(n) => panic!("unexpected {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) => assert!(
            matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
            "{e}"
        ),
    }
    stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
}

fn echo_round_trip(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    let mut client = server.connect();
    client.write_all(b"ECHO hello\n").unwrap();
    expect_reply(&mut client, b"hello\n");
    drop(client);
    wait_until("closed", || server.stats.closed.load(Ordering::SeqCst) == 1);
    wait_until("ticks", || server.stats.ticks.load(Ordering::SeqCst) >= 4);
    let stats = server.stop();
    assert_eq!(stats.opened.load(Ordering::SeqCst), 1);
}

fn many_concurrent_connections(backend: BackendKind) {
    const CONNS: usize = 200;
    const ROUNDS: usize = 5;
    let server = Server::start(backend, 1 << 20);
    let mut clients: Vec<TcpStream> = (0..CONNS).map(|_| server.connect()).collect();
    for round in 0..ROUNDS {
        for (i, client) in clients.iter_mut().enumerate() {
            client
                .write_all(format!("ECHO {i}-{round}\n").as_bytes())
                .unwrap();
        }
        for (i, client) in clients.iter_mut().enumerate() {
            expect_reply(client, format!("{i}-{round}\n").as_bytes());
        }
    }
    // Clients on other threads at the same time, too.
    let addr = server.addr;
    let workers: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut c = TcpStream::connect(addr).unwrap();
                c.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
                for i in 0..100 {
                    c.write_all(format!("ECHO {t}:{i}\n").as_bytes()).unwrap();
                    expect_reply(&mut c, format!("{t}:{i}\n").as_bytes());
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(server.stats.opened.load(Ordering::SeqCst), CONNS + 4);
    drop(clients);
    wait_until("all closed", || {
        server.stats.closed.load(Ordering::SeqCst) == CONNS + 4
    });
    server.stop();
}

fn pipelined_and_fragmented_input(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    let mut client = server.connect();
    let mut batch = Vec::new();
    let mut expected = Vec::new();
    for i in 0..5000 {
        batch.extend_from_slice(format!("ECHO line-{i}\n").as_bytes());
        expected.extend_from_slice(format!("line-{i}\n").as_bytes());
    }
    client.write_all(&batch).unwrap();
    expect_reply(&mut client, &expected);
    // One command cut into pieces, with a second command's start riding on
    // the first command's tail.
    for piece in [&b"EC"[..], b"HO fra", b"gmented\nECHO sec", b"ond", b"\n"] {
        client.write_all(piece).unwrap();
        std::thread::sleep(Duration::from_millis(15));
    }
    expect_reply(&mut client, b"fragmented\nsecond\n");
    server.stop();
}

fn large_output_to_slow_reader(backend: BackendKind) {
    const COMMANDS: usize = 40;
    const REPLY_BYTES: usize = 200_000;
    // A small pause threshold so backpressure kicks in long before 8 MB.
    let server = Server::start(backend, 64 * 1024);
    let mut client = server.connect();
    let writer_stream = client.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = writer_stream;
        for i in 0..COMMANDS {
            w.write_all(format!("BIG {REPLY_BYTES} {i}\n").as_bytes())
                .unwrap();
        }
        w.write_all(b"ECHO end\n").unwrap();
    });
    std::thread::sleep(Duration::from_millis(200));
    for i in 0..COMMANDS {
        let mut reply = vec![0; REPLY_BYTES + 1];
        // Read in small sips at first: a slow reader.
        let mut filled = 0;
        while filled < reply.len() {
            let sip = if i < 2 { 4096 } else { reply.len() - filled };
            let end = (filled + sip).min(reply.len());
            let n = client.read(&mut reply[filled..end]).unwrap();
            assert!(n > 0, "EOF in reply {i}");
            filled += n;
            if i < 2 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let expected: Vec<u8> = (0..REPLY_BYTES).map(|j| pattern_byte(i, j)).collect();
        assert!(reply[..REPLY_BYTES] == expected[..], "reply {i} corrupted");
        assert_eq!(reply[REPLY_BYTES], b'\n');
    }
    expect_reply(&mut client, b"end\n");
    writer.join().unwrap();
    server.stop();
}

fn close_after_flush(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    let mut client = server.connect();
    client
        .write_all(b"BIG 300000 3\nQUIT\nECHO ignored\n")
        .unwrap();
    let got = read_to_end_or_reset(&mut client);
    assert_eq!(got.len(), 300_001 + 4, "all output, then EOF");
    assert!(got.ends_with(b"\nBYE\n"));
    wait_until("closed", || server.stats.closed.load(Ordering::SeqCst) == 1);
    server.stop();
}

fn close_now(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    let mut client = server.connect();
    client.write_all(b"ECHO before\n").unwrap();
    expect_reply(&mut client, b"before\n");
    client.write_all(b"KILL\n").unwrap();
    let got = read_to_end_or_reset(&mut client);
    assert!(got.is_empty(), "close_now must drop output, got {got:?}");
    wait_until("closed", || server.stats.closed.load(Ordering::SeqCst) == 1);
    server.stop();
}

fn pause_then_resume_from_other_thread(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    let mut client = server.connect();
    client.write_all(b"PAUSE\nECHO queued\n").unwrap();
    expect_reply(&mut client, b"PAUSED\n");
    client.write_all(b"ECHO later\n").unwrap();
    assert_nothing_arrives(&mut client, Duration::from_millis(200));
    let wakes_before = server.stats.wakes.load(Ordering::SeqCst);
    let wakers = server.wakers.clone();
    std::thread::spawn(move || {
        for waker in &wakers {
            waker.wake();
        }
    })
    .join()
    .unwrap();
    expect_reply(&mut client, b"RESUMED\nqueued\nlater\n");
    assert!(server.stats.wakes.load(Ordering::SeqCst) > wakes_before);
    client.write_all(b"ECHO after\n").unwrap();
    expect_reply(&mut client, b"after\n");
    server.stop();
}

fn should_stop_closes_every_connection(backend: BackendKind) {
    const CONNS: usize = 20;
    let server = Server::start(backend, 1 << 20);
    let mut clients: Vec<TcpStream> = (0..CONNS).map(|_| server.connect()).collect();
    for client in &mut clients {
        client.write_all(b"ECHO up\n").unwrap();
        expect_reply(client, b"up\n");
    }
    // One connection mid-way through a large reply, one paused.
    clients[0].write_all(b"BIG 5000000 1\n").unwrap();
    clients[1].write_all(b"PAUSE\n").unwrap();
    expect_reply(&mut clients[1], b"PAUSED\n");
    let stats = server.stop();
    assert_eq!(stats.opened.load(Ordering::SeqCst), CONNS);
    assert_eq!(stats.closed.load(Ordering::SeqCst), CONNS);
    // The stop's wake may resume the paused one before the loop stops.
    let paused_got = read_to_end_or_reset(&mut clients[1]);
    assert!(b"RESUMED\n".starts_with(&paused_got), "{paused_got:?}");
    for client in &mut clients[2..] {
        assert!(read_to_end_or_reset(client).is_empty());
    }
}

fn open_rejected_sends_error_then_closes(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    server.stats.reject.store(true, Ordering::SeqCst);
    for _ in 0..5 {
        let mut client = server.connect();
        let got = read_to_end_or_reset(&mut client);
        assert_eq!(got, b"-ERR max number of clients reached\n");
    }
    server.stats.reject.store(false, Ordering::SeqCst);
    let mut client = server.connect();
    client.write_all(b"ECHO admitted\n").unwrap();
    expect_reply(&mut client, b"admitted\n");
    let stats = server.stop();
    assert_eq!(stats.opened.load(Ordering::SeqCst), 1);
    assert_eq!(stats.closed.load(Ordering::SeqCst), 1);
}

fn peer_half_close_and_reset_call_closed(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    let mut a = server.connect();
    a.write_all(b"ECHO a\n").unwrap();
    expect_reply(&mut a, b"a\n");
    a.shutdown(Shutdown::Write).unwrap();
    wait_until("half-closed peer closed", || {
        server.stats.closed.load(Ordering::SeqCst) == 1
    });
    let b = server.connect();
    // Unread data in our receive queue makes close send a reset.
    (&b).write_all(b"BIG 100000 1\n").unwrap();
    std::thread::sleep(Duration::from_millis(50));
    drop(b);
    wait_until("reset peer closed", || {
        server.stats.closed.load(Ordering::SeqCst) == 2
    });
    server.stop();
}

/// Ticks come about every `LoopConfig::tick` (20 ms here) per loop: not
/// starved, and not spinning either.
fn ticks_arrive_at_the_configured_rate(backend: BackendKind) {
    let server = Server::start(backend, 1 << 20);
    std::thread::sleep(Duration::from_millis(100));
    let before = server.stats.ticks.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(500));
    let ticks = server.stats.ticks.load(Ordering::SeqCst) - before;
    // Two loops, 25 ticks each in 500 ms; generous bounds for a busy box.
    assert!((10..=60).contains(&ticks), "{ticks} ticks in 500 ms");
    server.stop();
}

macro_rules! for_both_backends {
    ($($name:ident),* $(,)?) => {
        mod epoll {
            $(#[test] fn $name() { super::$name(ringkv_uring_io::BackendKind::Epoll) })*
        }
        mod uring {
            $(#[test] fn $name() { super::$name(ringkv_uring_io::BackendKind::Uring) })*
        }
    };
}

for_both_backends!(
    echo_round_trip,
    many_concurrent_connections,
    pipelined_and_fragmented_input,
    large_output_to_slow_reader,
    close_after_flush,
    close_now,
    pause_then_resume_from_other_thread,
    should_stop_closes_every_connection,
    open_rejected_sends_error_then_closes,
    peer_half_close_and_reset_call_closed,
    output_backpressure_stops_reading,
    ticks_arrive_at_the_configured_rate,
);

/// A client that writes and never reads must be stopped by backpressure:
/// the loop stops reading once replies pile up, so the client's writes
/// block long before it has pushed 64 MB.
fn output_backpressure_stops_reading(backend: BackendKind) {
    const WRITE_LIMIT_BYTES: usize = 64 << 20;
    let server = Server::start(backend, 64 * 1024);
    let mut client = server.connect();
    let payload = "x".repeat(1019);
    let line = format!("ECHO {payload}\n");
    client.set_nonblocking(true).unwrap();
    let mut written = 0;
    let mut stalled_since: Option<Instant> = None;
    while written < WRITE_LIMIT_BYTES {
        match client.write(&line.as_bytes()[written % line.len()..]) {
            Ok(n) => {
                written += n;
                stalled_since = None;
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                let since = *stalled_since.get_or_insert_with(Instant::now);
                if since.elapsed() > Duration::from_millis(300) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("write failed: {e}"),
        }
    }
    assert!(written < WRITE_LIMIT_BYTES, "server kept reading");
    // Finish the last partial line, then drain every reply in order.
    client.set_nonblocking(false).unwrap();
    let partial = written % line.len();
    if partial != 0 {
        let rest = line.as_bytes()[partial..].to_vec();
        let mut writer = client.try_clone().unwrap();
        let t = std::thread::spawn(move || writer.write_all(&rest).unwrap());
        written += line.len() - partial;
        let lines = written / line.len();
        let expected_reply = format!("{payload}\n");
        for _ in 0..lines {
            expect_reply(&mut client, expected_reply.as_bytes());
        }
        t.join().unwrap();
    } else {
        let expected_reply = format!("{payload}\n");
        for _ in 0..written / line.len() {
            expect_reply(&mut client, expected_reply.as_bytes());
        }
    }
    server.stop();
}

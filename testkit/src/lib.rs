//! Test support shared by ringkv's crates: starting real `redis-server` and
//! `ringkv` processes on free loopback ports, waiting for them, and stopping
//! them when the test ends (also when it panics).
//!
//! It knows nothing of ringkv's internals; it only runs programs. Programs a
//! test needs must exist: [`require_binary`] panics with a clear message
//! instead of letting the test pass by skipping.

pub mod gen;
pub mod resp;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Path of a program the tests need; panics loudly when it is missing.
pub fn require_binary(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(name);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "required program '{name}' is not installed: run ./scripts/test, which installs it from Debian's packages"
    );
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("binding an ephemeral port");
    l.local_addr().expect("local address").port()
}

/// Waits until something accepts connections on `port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A server process that is stopped (SIGTERM, then SIGKILL) on drop.
pub struct ServerProcess {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    pub name: &'static str,
}

impl ServerProcess {
    /// Starts `program args...` and waits for `port` to accept connections.
    pub fn spawn(
        name: &'static str,
        program: &Path,
        args: &[String],
        port: u16,
        dir: tempfile::TempDir,
    ) -> ServerProcess {
        // Output goes to a file: a pipe nobody reads would block a chatty server.
        let log_path = dir.path().join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path).expect("creating the server log");
        let log2 = log.try_clone().expect("cloning the log handle");
        let child = Command::new(program)
            .args(args)
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log2))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
        let mut p = ServerProcess {
            port,
            dir,
            child: Some(child),
            name,
        };
        if !wait_for_port(port, Duration::from_secs(20)) {
            let log = p.stop_and_collect_output();
            panic!("{name} did not start listening on port {port}; output:\n{log}");
        }
        p
    }

    /// Waits until the server answers PING with +PONG rather than
    /// -LOADING (both Redis and ringkv serve clients while they load their
    /// dataset). Returns early if the process exits (a test of a refused
    /// start checks its status).
    pub fn wait_loaded(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if matches!(child.try_wait(), Ok(Some(_))) {
                    return;
                }
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                s.set_read_timeout(Some(Duration::from_secs(2))).ok();
                let mut buf = [0u8; 64];
                if s.write_all(b"PING\r\n").is_ok() {
                    if let Ok(n) = s.read(&mut buf) {
                        // +PONG, or -NOAUTH from a server with requirepass:
                        // either way the dataset is loaded.
                        if buf[..n].starts_with(b"+PONG") || buf[..n].starts_with(b"-NOAUTH") {
                            return;
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let log = self.log();
        panic!(
            "{} still loading after {timeout:?}; its log:\n{log}",
            self.name
        );
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    pub fn child_mut(&mut self) -> Option<&mut Child> {
        self.child.as_mut()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(("127.0.0.1", self.port)).unwrap_or_else(|e| {
            panic!(
                "connecting to {} on port {}: {e}; its log:\n{}",
                self.name,
                self.port,
                self.log()
            )
        });
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        s
    }

    /// Sends SIGTERM and waits for a clean exit; returns the exit status code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Waits up to `timeout` for the process to exit by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    return status.code();
                }
            } else {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// What the server printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{}.log", self.name)))
            .unwrap_or_default()
    }

    fn stop_and_collect_output(&mut self) -> String {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.log()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, sig: libc::c_int) {
    let pid = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped).
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Starts Debian's redis-server 7.0 with persistence off unless `extra` says otherwise.
pub fn start_redis(extra: &[&str]) -> ServerProcess {
    let program = require_binary("redis-server");
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut args: Vec<String> = vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.path().display().to_string(),
        "--save".into(),
        "".into(),
        "--appendonly".into(),
        "no".into(),
        "--daemonize".into(),
        "no".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut p = ServerProcess::spawn("redis-server", &program, &args, port, dir);
    p.wait_loaded(LOAD_WAIT);
    p
}

/// How long a test server may take to load its dataset at startup.
const LOAD_WAIT: Duration = Duration::from_secs(60);

/// Starts the ringkv binary at `binary` with `serve` and persistence off
/// unless `extra` says otherwise.
pub fn start_ringkv(binary: &Path, extra: &[&str]) -> ServerProcess {
    let port = free_port();
    let dir = tempfile::tempdir().expect("tempdir");
    start_ringkv_in(binary, extra, port, dir)
}

/// Like [`start_ringkv`] with a chosen port and data directory (restarts).
pub fn start_ringkv_in(
    binary: &Path,
    extra: &[&str],
    port: u16,
    dir: tempfile::TempDir,
) -> ServerProcess {
    let mut args: Vec<String> = vec![
        "serve".into(),
        "--port".into(),
        port.to_string(),
        "--dir".into(),
        dir.path().display().to_string(),
        "--save".into(),
        "".into(),
        // Off unless a test asks for it: parallel tests would fight over
        // the default port.
        "--metrics-port".into(),
        "0".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let mut p = ServerProcess::spawn("ringkv", binary, &args, port, dir);
    p.wait_loaded(LOAD_WAIT);
    p
}

/// Starts a helper program (e.g. Prometheus, an exporter) that serves on
/// `port`, in its own temporary working directory; it is stopped on drop.
pub fn spawn_helper(
    name: &'static str,
    program: &Path,
    args: &[String],
    port: u16,
) -> ServerProcess {
    let dir = tempfile::tempdir().expect("tempdir");
    ServerProcess::spawn(name, program, args, port, dir)
}

/// A plain HTTP/1.0 GET on 127.0.0.1; returns (status code, body).
pub fn http_get(port: u16, path_and_query: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connecting for HTTP");
    s.set_read_timeout(Some(Duration::from_secs(20))).ok();
    write!(
        s,
        "GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .expect("sending the HTTP request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("reading the HTTP response");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text.as_str(), ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, body.to_string())
}

/// Sends raw bytes and reads until `expect_bytes` bytes arrived or the peer closed.
pub fn raw_exchange(stream: &mut TcpStream, request: &[u8], expect_bytes: usize) -> Vec<u8> {
    stream.write_all(request).expect("write");
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(10);
    while out.len() < expect_bytes && Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    out
}

/// Runs a program to completion, returning (status success, stdout, stderr).
pub fn run_program(program: &Path, args: &[&str], stdin: Option<&[u8]>) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).expect("writing stdin");
    }
    let out = child.wait_with_output().expect("waiting for program");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Reads lines from a child's output until one contains `needle`.
pub fn wait_for_line(reader: impl Read, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let mut lines = BufReader::new(reader).lines();
    while Instant::now() < deadline {
        match lines.next() {
            Some(Ok(l)) if l.contains(needle) => return true,
            Some(_) => {}
            None => return false,
        }
    }
    false
}

/// The value of `field` in an INFO reply (`field:value` lines), trimmed.
pub fn info_value<'a>(info: &'a str, field: &str) -> Option<&'a str> {
    info.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .map(str::trim)
}

/// The server's `total_net_output_bytes`, read through `conn`, and the size
/// of the INFO reply that carried it (the server counts that reply after
/// taking the value): two readings differ by exactly the first reading's
/// reply plus everything sent to other clients in between.
pub fn net_output_bytes(conn: &mut resp::RawConn) -> (u64, u64) {
    let reply = conn.call(&["INFO", "stats"]);
    let text = String::from_utf8_lossy(&reply);
    let value = info_value(&text, "total_net_output_bytes")
        .and_then(|v| v.parse().ok())
        .expect("INFO stats has total_net_output_bytes");
    (value, reply.len() as u64)
}

/// Connects to a server on 127.0.0.1:`port` (retrying while it starts) and
/// returns a raw RESP connection that hands back each reply's exact bytes.
pub fn connect_raw(port: u16) -> resp::RawConn {
    let deadline = Instant::now() + Duration::from_secs(10);
    let stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("connecting to 127.0.0.1:{port}: {e}"),
        }
    };
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    resp::RawConn::new(stream)
}

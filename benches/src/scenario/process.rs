//! A server on a data directory the scenario owns (so it survives a
//! restart), with extra arguments and its log kept in a file, and the
//! timing of its startup load: from spawn until it answers PING with
//! `+PONG` (not `-LOADING`).

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::load::encode_command;
use crate::server::{free_port, Binaries, ServerKind};

/// A running server on a caller-owned directory; killed on drop.
pub struct DirServer {
    pub kind: ServerKind,
    pub port: u16,
    /// The server's stdout and stderr (both servers log there).
    pub log_path: PathBuf,
    child: Child,
    spawned: Instant,
}

/// The server's command line (after `taskset -c CPUS`), with `$PORT` and
/// `$DIR` for the report, or the real values when given.
pub fn command_line(
    bins: &Binaries,
    kind: &ServerKind,
    port: Option<u16>,
    dir: Option<&Path>,
    extra: &[String],
) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    match kind {
        ServerKind::Redis => args.push(bins.redis_server.display().to_string()),
        ServerKind::Ringkv { .. } => {
            args.push(bins.ringkv.display().to_string());
            args.push("serve".into());
        }
    }
    args.extend([
        "--port".into(),
        port.map_or("$PORT".into(), |p| p.to_string()),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.map_or("$DIR".into(), |d| d.display().to_string()),
        "--save".into(),
        String::new(),
    ]);
    args.extend(extra.iter().cloned());
    if let ServerKind::Ringkv { backend } = kind {
        // One thread, like redis: the comparison is per core.
        args.extend([
            "--io-backend".into(),
            backend.clone(),
            "--io-threads".into(),
            "1".into(),
        ]);
    }
    args
}

/// [`command_line`] as one shell line for a table (empty arguments
/// quoted), with the binaries shown by name.
pub fn display_command(bins: &Binaries, kind: &ServerKind, cpus: &str, extra: &[String]) -> String {
    let args = command_line(bins, kind, None, None, extra);
    let shown: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, a)| match i {
            0 => Path::new(a)
                .file_name()
                .map_or_else(|| a.clone(), |n| n.to_string_lossy().into_owned()),
            _ if a.is_empty() => "''".into(),
            _ => a.clone(),
        })
        .collect();
    format!("taskset -c {cpus} {}", shown.join(" "))
}

impl DirServer {
    /// Spawns `kind` on a free port with `dir` as its data directory,
    /// pinned to `cpus`; does not wait for it (see [`DirServer::wait_loaded`]).
    pub fn spawn(
        bins: &Binaries,
        kind: &ServerKind,
        cpus: &str,
        dir: &Path,
        extra: &[String],
    ) -> anyhow::Result<DirServer> {
        let port = free_port()?;
        let log_path = dir.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let log2 = log.try_clone()?;
        let args = command_line(bins, kind, Some(port), Some(dir), extra);
        let spawned = Instant::now();
        let child = Command::new("taskset")
            .arg("-c")
            .arg(cpus)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn()
            .with_context(|| format!("starting {} with taskset", kind.label()))?;
        Ok(DirServer {
            kind: kind.clone(),
            port,
            log_path,
            child,
            spawned,
        })
    }

    /// [`DirServer::spawn`] then [`DirServer::wait_loaded`].
    pub fn start(
        bins: &Binaries,
        kind: &ServerKind,
        cpus: &str,
        dir: &Path,
        extra: &[String],
    ) -> anyhow::Result<DirServer> {
        let mut s = DirServer::spawn(bins, kind, cpus, dir, extra)?;
        s.wait_loaded(Duration::from_secs(600))?;
        Ok(s)
    }

    /// Waits until the server answers PING with `+PONG` and returns the
    /// time since spawn. redis answers `-LOADING` while it loads; ringkv
    /// accepts only after loading, so a PING waits in the listen backlog
    /// and its reply marks the end of the load.
    pub fn wait_loaded(&mut self, timeout: Duration) -> anyhow::Result<Duration> {
        let deadline = self.spawned + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "{} exited during startup: {status}; log {}: {}",
                    self.kind.label(),
                    self.log_path.display(),
                    self.log_tail()
                );
            }
            let now = Instant::now();
            if now >= deadline {
                bail!(
                    "{} did not finish loading within {timeout:?}",
                    self.kind.label()
                );
            }
            match ping_once(self.port, deadline - now) {
                Ok(Ping::Pong) => return Ok(self.spawned.elapsed()),
                Ok(Ping::Loading) | Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }

    /// The last lines of the server's log, for error messages.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" / ")
    }

    /// The server's own load time: the last "DB loaded from ...: N seconds"
    /// line of its log (both servers print one).
    pub fn logged_load_secs(&self) -> Option<f64> {
        logged_load_secs(&std::fs::read_to_string(&self.log_path).ok()?)
    }

    /// Stops the server with SIGTERM (a clean shutdown: both servers flush
    /// their AOF) and waits for it, killing it after `timeout`.
    pub fn stop(mut self, timeout: Duration) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + timeout;
        while self.child.try_wait()?.is_none() {
            if Instant::now() >= deadline {
                bail!("{} did not exit within {timeout:?}", self.kind.label());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// Sends one command and returns its reply's first line (for replies
    /// that are one line: `+OK`, `:n`, `-ERR ...`).
    pub fn command(&self, args: &[&[u8]], timeout: Duration) -> anyhow::Result<String> {
        one_line_command(self.port, args, timeout)
    }

    /// DBSIZE of the current database.
    pub fn dbsize(&self) -> anyhow::Result<u64> {
        let r = self.command(&[b"DBSIZE"], Duration::from_secs(10))?;
        r.strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("unexpected DBSIZE reply {r:?}"))
    }
}

impl Drop for DirServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

enum Ping {
    Pong,
    Loading,
}

fn ping_once(port: u16, timeout: Duration) -> anyhow::Result<Ping> {
    let line = one_line_command(port, &[b"PING"], timeout)?;
    match line.as_str() {
        "+PONG" => Ok(Ping::Pong),
        l if l.starts_with("-LOADING") => Ok(Ping::Loading),
        l => bail!("unexpected PING reply {l:?}"),
    }
}

fn one_line_command(port: u16, args: &[&[u8]], timeout: Duration) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).context("connecting")?;
    s.set_read_timeout(Some(timeout.max(Duration::from_millis(1))))?;
    let mut req = Vec::new();
    encode_command(&mut req, args);
    s.write_all(&req)?;
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line)?;
    if line.is_empty() {
        bail!("connection closed without a reply");
    }
    Ok(line.trim_end().to_string())
}

/// The seconds in the last "DB loaded from disk: N seconds" or "DB loaded
/// from append only file: N seconds" line.
pub fn logged_load_secs(log: &str) -> Option<f64> {
    log.lines().rev().find_map(|l| {
        let rest = ["DB loaded from disk: ", "DB loaded from append only file: "]
            .iter()
            .find_map(|m| l.split_once(m).map(|(_, r)| r))?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Total size of the regular files directly in `dir`.
pub fn dir_bytes(dir: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let m = e?.metadata()?;
        if m.is_file() {
            total += m.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_servers_load_lines() {
        let redis = "123:M 21 Nov 2026 15:00:00.000 * DB loaded from disk: 1.234 seconds\n\
                     123:M 21 Nov 2026 15:00:00.000 * Ready to accept connections\n";
        assert_eq!(logged_load_secs(redis), Some(1.234));
        let redis_aof = "1:M * DB loaded from incr file appendonly.aof.1.incr.aof: 0.5 seconds\n\
             1:M * DB loaded from append only file: 0.700 seconds\n";
        assert_eq!(logged_load_secs(redis_aof), Some(0.7));
        let ringkv = "2026-11-21T15:00:00Z  INFO ringkv_server::persist::aof: DB loaded from append only file: 2.500 seconds (5 commands, 0 keys from RDB)\n";
        assert_eq!(logged_load_secs(ringkv), Some(2.5));
        assert_eq!(logged_load_secs("nothing here\n"), None);
    }

    #[test]
    fn command_lines_name_the_binaries() {
        let bins = Binaries {
            redis_server: "redis-server".into(),
            ringkv: "/x/target/release/ringkv".into(),
        };
        let kind = ServerKind::Ringkv {
            backend: "uring".into(),
        };
        assert_eq!(
            display_command(&bins, &kind, "0", &["--appendonly".into(), "no".into()]),
            "taskset -c 0 ringkv serve --port $PORT --bind 127.0.0.1 --dir $DIR --save '' --appendonly no --io-backend uring --io-threads 1"
        );
        assert!(display_command(&bins, &ServerKind::Redis, "0", &[])
            .starts_with("taskset -c 0 redis-server --port $PORT"));
    }
}

//! Starting a server under test (redis-server or ringkv) pinned to a CPU,
//! waiting until it answers, reading its memory, and stopping it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Which server, and how it is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerKind {
    Redis,
    /// ringkv with `--io-backend <backend>` (`uring` or `epoll`).
    Ringkv {
        backend: String,
    },
}

impl ServerKind {
    pub fn label(&self) -> String {
        match self {
            ServerKind::Redis => "redis".to_string(),
            ServerKind::Ringkv { backend } => format!("ringkv ({backend})"),
        }
    }
}

/// What persistence the server runs with. Later scenarios add AOF modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Persistence {
    Off,
    /// `appendonly yes` with this `appendfsync` (always, everysec, no).
    Aof(&'static str),
    /// [`Persistence::Aof`] plus ringkv-only directives (e.g.
    /// `--aof-fsync-mode odirect`); redis ignores them.
    AofTuned(&'static str, &'static [&'static str]),
}

/// Where the binaries are.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub redis_server: PathBuf,
    pub ringkv: PathBuf,
}

impl Binaries {
    /// redis-server from PATH; ringkv from the workspace's release build.
    pub fn locate(ringkv: Option<PathBuf>) -> anyhow::Result<Binaries> {
        let ringkv = ringkv.unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
                PathBuf::from,
            );
            target.join("release/ringkv")
        });
        if !ringkv.is_file() {
            bail!(
                "{} not found: run `cargo build --release -p ringkv-server` first (or pass --ringkv)",
                ringkv.display()
            );
        }
        Ok(Binaries {
            redis_server: PathBuf::from("redis-server"),
            ringkv,
        })
    }
}

/// A running server; killed on drop.
pub struct ServerProcess {
    pub kind: ServerKind,
    pub port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

/// A port nothing listens on right now.
pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?.port())
}

impl ServerProcess {
    /// Starts `kind` on a free port, pinned to `cpus` (a `taskset -c` list),
    /// and waits until it answers PING.
    pub fn start(
        bins: &Binaries,
        kind: &ServerKind,
        persistence: Persistence,
        cpus: &str,
    ) -> anyhow::Result<ServerProcess> {
        Self::start_in(bins, kind, persistence, cpus, &std::env::temp_dir())
    }

    /// [`ServerProcess::start`] with the server's data directory a fresh
    /// temporary directory under `parent`: persistence comparisons put
    /// both servers on the same filesystem.
    pub fn start_in(
        bins: &Binaries,
        kind: &ServerKind,
        persistence: Persistence,
        cpus: &str,
        parent: &Path,
    ) -> anyhow::Result<ServerProcess> {
        let dir = tempfile::tempdir_in(parent)
            .with_context(|| format!("creating a server directory under {}", parent.display()))?;
        let port = free_port()?;
        let mut args: Vec<String> = vec![
            "--port".into(),
            port.to_string(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--save".into(),
            String::new(),
            "--dir".into(),
            dir.path().display().to_string(),
        ];
        match persistence {
            Persistence::Off => args.extend(["--appendonly".into(), "no".into()]),
            Persistence::Aof(fsync) | Persistence::AofTuned(fsync, _) => args.extend([
                "--appendonly".into(),
                "yes".into(),
                "--appendfsync".into(),
                fsync.into(),
            ]),
        }
        if let (Persistence::AofTuned(_, extra), ServerKind::Ringkv { .. }) = (persistence, kind) {
            args.extend(extra.iter().map(|s| s.to_string()));
        }
        let mut cmd = Command::new("taskset");
        cmd.arg("-c").arg(cpus);
        match kind {
            ServerKind::Redis => {
                cmd.arg(&bins.redis_server).args(&args);
            }
            ServerKind::Ringkv { backend } => {
                cmd.arg(&bins.ringkv).arg("serve").args(&args).args([
                    "--io-backend",
                    backend,
                    // One thread, like redis: the comparison is per core.
                    "--io-threads",
                    "1",
                ]);
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {} with taskset", kind.label()))?;
        let mut server = ServerProcess {
            kind: kind.clone(),
            port,
            child,
            _dir: dir,
        };
        server.wait_ready(Duration::from_secs(20))?;
        Ok(server)
    }

    fn wait_ready(&mut self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited during startup: {status}", self.kind.label());
            }
            if ping(self.port).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} did not answer PING within {timeout:?}",
                    self.kind.label()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        // taskset execs the server, so the child's pid is the server's.
        self.child.id()
    }

    /// Resident set size from /proc/PID/status, in bytes.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        let kb = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .context("no VmRSS in /proc/PID/status")?;
        Ok(kb * 1024)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One PING round trip.
pub fn ping(port: u16) -> anyhow::Result<()> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(2)))?;
    s.write_all(b"*1\r\n$4\r\nPING\r\n")?;
    let mut buf = [0u8; 7];
    s.read_exact(&mut buf)?;
    if &buf != b"+PONG\r\n" {
        bail!("unexpected PING reply {:?}", String::from_utf8_lossy(&buf));
    }
    Ok(())
}

//! Test harness for data commands: runs a command through the same path the
//! server uses (spec lookup in [`crate::cmd::all`], arity check, slot locking
//! from the key positions, [`ExecCtx::run_at`]) and exposes the exact reply
//! bytes and the propagated commands.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::command::{lowercase_name, CommandSpec, EngineFn};
use crate::exec::{ExecCtx, Locks, Propagation};
use crate::keyspace::{Keyspace, WatchFlag};
use crate::reply::{Protocol, ReplyWriter};
use crate::stats::ThreadStats;

/// A fixed "now" far from the epoch so relative expiries are easy to read.
pub const T0_MS: u64 = 1_700_000_000_000;

pub struct TestEnv {
    pub ks: Keyspace,
    pub stats: ThreadStats,
    /// Propagation of the last command only.
    pub prop: Propagation,
    pub db: usize,
    pub now_ms: u64,
    pub proto: Protocol,
    /// Dirty count of the last command.
    pub dirty: u64,
    /// Keys the last command signalled ready for blocked clients: (db, key).
    pub ready: Vec<(usize, String)>,
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

pub fn spec_of(name: &[u8]) -> Option<&'static CommandSpec<EngineFn>> {
    let mut buf = [0u8; 32];
    let lower = lowercase_name(name, &mut buf)?;
    crate::cmd::all().find(|s| s.name == lower)
}

impl TestEnv {
    pub fn new() -> TestEnv {
        TestEnv {
            ks: Keyspace::new(16),
            stats: ThreadStats::default(),
            prop: Propagation::default(),
            db: 0,
            now_ms: T0_MS,
            proto: Protocol::Resp2,
            dirty: 0,
            ready: Vec::new(),
        }
    }

    pub fn resp3() -> TestEnv {
        TestEnv {
            proto: Protocol::Resp3,
            ..TestEnv::new()
        }
    }

    /// Runs a command given as binary arguments; returns the reply bytes.
    pub fn run_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let spec = spec_of(args[0])
            .unwrap_or_else(|| panic!("unknown command {:?}", String::from_utf8_lossy(args[0])));
        let mut out = ReplyWriter::new(self.proto);
        if !spec.arity_ok(args.len()) {
            // What the server replies before dispatching.
            out.error(&format!(
                "ERR wrong number of arguments for '{}' command",
                spec.name
            ));
            return out.bytes().to_vec();
        }
        self.prop.clear();
        let locks = Locks::for_command(&self.ks, spec, args);
        let mut ctx = ExecCtx::new(
            &self.ks,
            self.db,
            &mut out,
            &self.stats,
            &mut self.prop,
            locks,
        );
        ctx.run_at(spec, args, self.now_ms);
        self.dirty = ctx.dirty;
        self.ready = ctx
            .ready_keys
            .iter()
            .map(|(db, k)| (*db, String::from_utf8_lossy(k).into_owned()))
            .collect();
        drop(ctx);
        out.bytes().to_vec()
    }

    /// Runs a command; returns the reply as text (RESP bytes, lossy UTF-8).
    pub fn run(&mut self, args: &[&str]) -> String {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        String::from_utf8_lossy(&self.run_bytes(&args)).into_owned()
    }

    /// Runs a command given as one space-separated line.
    pub fn cmd(&mut self, line: &str) -> String {
        let args: Vec<&str> = line.split(' ').collect();
        self.run(&args)
    }

    /// Commands the last command propagated, each as space-joined arguments.
    pub fn propagated(&self) -> Vec<String> {
        decode_resp_commands(&self.prop.buf)
            .into_iter()
            .map(|c| c.join(" "))
            .collect()
    }

    /// Registers a WATCH on `key` in `db`; the flag turns true when touched.
    pub fn watch(&self, db: usize, key: &str) -> WatchFlag {
        let flag: WatchFlag = Arc::new(AtomicBool::new(false));
        self.ks
            .lock_key(key.as_bytes())
            .watch(db, key.as_bytes(), &flag);
        flag
    }

    /// Expiry of `key` in the current db (0 = none), bypassing lazy expiry.
    pub fn expire_of(&self, key: &str) -> Option<u64> {
        let slot = self.ks.lock_key(key.as_bytes());
        slot.db(self.db)
            .and_then(|d| d.get(key.as_bytes()))
            .map(|e| e.expire_at_ms)
    }

    /// True if `key` is physically stored in `db` (expired or not).
    pub fn stored(&self, db: usize, key: &str) -> bool {
        let slot = self.ks.lock_key(key.as_bytes());
        slot.db(db).and_then(|d| d.get(key.as_bytes())).is_some()
    }
}

pub fn touched(flag: &WatchFlag) -> bool {
    flag.load(Ordering::Acquire)
}

/// Decodes a buffer of RESP arrays of bulk strings (the propagation format).
pub fn decode_resp_commands(buf: &[u8]) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    let mut rest = buf;
    let line = |r: &mut &[u8]| -> String {
        let end = r.windows(2).position(|w| w == b"\r\n").expect("CRLF");
        let s = String::from_utf8_lossy(&r[1..end]).into_owned();
        *r = &r[end + 2..];
        s
    };
    while !rest.is_empty() {
        assert_eq!(rest[0], b'*');
        let n: usize = line(&mut rest).parse().expect("array len");
        let mut args = Vec::new();
        for _ in 0..n {
            assert_eq!(rest[0], b'$');
            let len: usize = line(&mut rest).parse().expect("bulk len");
            args.push(String::from_utf8_lossy(&rest[..len]).into_owned());
            rest = &rest[len + 2..];
        }
        cmds.push(args);
    }
    cmds
}

/// A real redis-server 7.0 started on a free port for differential tests
/// (through the shared test kit, which fails loudly when it is missing),
/// stopped on drop.
pub struct RealRedis {
    server: ringkv_testkit::ServerProcess,
    conn: ringkv_testkit::resp::RawConn,
}

impl RealRedis {
    /// Panics if redis-server is not installed (tests must not skip).
    pub fn start() -> Option<RealRedis> {
        RealRedis::start_with(&[])
    }

    /// Starts with extra config arguments (e.g. `["--appendonly", "yes"]`).
    pub fn start_with(extra: &[&str]) -> Option<RealRedis> {
        let server = ringkv_testkit::start_redis(extra);
        let conn = ringkv_testkit::connect_raw(server.port);
        Some(RealRedis { server, conn })
    }

    /// Sends one command, returns its raw reply bytes.
    pub fn run(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.conn.call(args)
    }

    /// Commands in the server's current incr AOF file (appendonly yes).
    pub fn aof_commands(&self) -> Vec<Vec<String>> {
        let dir = self.server.dir.path().join("appendonlydir");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("appendonlydir")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
            .collect();
        files.sort();
        let buf = std::fs::read(files.last().expect("an incr file")).expect("read aof");
        decode_resp_commands(&buf)
    }
}

/// Runs `script` (one command per line, arguments split on spaces) against
/// both a real redis-server and a fresh engine, asserting byte-identical
/// replies. `setup_real` lines run only on the real server, `setup_env`
/// prepares the engine the same way (e.g. a list before lists exist here).
pub fn assert_same_as_redis(
    resp3: bool,
    setup_real: &[&str],
    setup_env: impl FnOnce(&mut TestEnv),
    script: &[&str],
) {
    let Some(mut real) = RealRedis::start() else {
        return;
    };
    let mut env = if resp3 {
        TestEnv::resp3()
    } else {
        TestEnv::new()
    };
    env.now_ms = crate::clock::now_ms();
    if resp3 {
        real.run(&[b"HELLO", b"3"]);
    }
    for line in setup_real {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        real.run(&args);
    }
    setup_env(&mut env);
    for line in script {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let want = real.run(&args);
        let got = env.run_bytes(&args);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "reply to `{line}` differs from redis-server"
        );
    }
}

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

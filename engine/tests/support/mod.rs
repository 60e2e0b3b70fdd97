//! Shared by the engine's comparisons with a real redis-server: the server
//! side (through the workspace test kit, which fails loudly when
//! redis-server is missing) and an engine driven the way the server drives
//! it (command table, slot locks, one `ExecCtx` per command).
#![allow(dead_code)]

use ringkv_engine::exec::{ExecCtx, Locks, Propagation};
use ringkv_engine::reply::{Protocol, ReplyWriter};
use ringkv_engine::stats::ThreadStats;
use ringkv_engine::Keyspace;

/// The real redis-server 7.0 and a raw connection to it.
pub struct Redis {
    _server: ringkv_testkit::ServerProcess,
    conn: ringkv_testkit::resp::RawConn,
}

impl Redis {
    pub fn start(config: &[&str]) -> Redis {
        let server = ringkv_testkit::start_redis(config);
        let conn = ringkv_testkit::connect_raw(server.port);
        Redis {
            _server: server,
            conn,
        }
    }

    pub fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.conn.call(args)
    }
}

/// A fresh keyspace plus what running commands on it needs.
pub struct Engine {
    pub ks: Keyspace,
    stats: ThreadStats,
    prop: Propagation,
}

impl Engine {
    pub fn new() -> Engine {
        Engine {
            ks: Keyspace::new(16),
            stats: ThreadStats::default(),
            prop: Propagation::default(),
        }
    }

    /// Runs one command and returns its reply bytes.
    pub fn call(&mut self, proto: Protocol, args: &[&[u8]]) -> Vec<u8> {
        let name = String::from_utf8_lossy(args[0]).to_lowercase();
        let spec = ringkv_engine::cmd::all()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("engine lacks {name}"));
        assert!(
            spec.arity_ok(args.len()),
            "script has an arity error: {name}"
        );
        let mut out = ReplyWriter::new(proto);
        self.prop.clear();
        let locks = Locks::for_command(&self.ks, spec, args);
        let mut ctx = ExecCtx::new(&self.ks, 0, &mut out, &self.stats, &mut self.prop, locks);
        ctx.run(spec, args);
        assert!(ctx.block.is_none(), "script must not block: {name}");
        drop(ctx);
        out.bytes().to_vec()
    }

    pub fn encoding(&self, key: &[u8]) -> Option<&'static str> {
        let g = self.ks.lock_key(key);
        g.db(0).and_then(|d| d.get(key)).map(|e| e.value.encoding())
    }
}

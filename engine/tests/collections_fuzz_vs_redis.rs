//! Randomised differential test: thousands of seeded random collection
//! commands (with tiny encoding thresholds on both sides, so conversions
//! happen constantly) run against redis-server 7.0 and the engine; every
//! reply and, periodically, every key's OBJECT ENCODING must match.
//! A separate test binary, so changing the process-wide limits cannot
//! disturb other tests.
#![allow(clippy::unwrap_used)]

use ringkv_engine::exec::{ExecCtx, Locks, Propagation};
use ringkv_engine::reply::{Protocol, ReplyWriter};
use ringkv_engine::stats::ThreadStats;
use ringkv_engine::Keyspace;

/// The real redis-server 7.0 and a raw connection to it (shared test kit:
/// fails loudly when redis-server is missing, never skips).
struct Redis {
    _server: ringkv_testkit::ServerProcess,
    conn: ringkv_testkit::resp::RawConn,
}

impl Redis {
    fn start() -> Redis {
        let server = ringkv_testkit::start_redis(&[
            "--hash-max-listpack-entries",
            "4",
            "--hash-max-listpack-value",
            "8",
            "--set-max-intset-entries",
            "5",
            "--zset-max-listpack-entries",
            "4",
            "--zset-max-listpack-value",
            "8",
            "--list-max-listpack-size",
            "3",
        ]);
        let conn = ringkv_testkit::connect_raw(server.port);
        Redis {
            _server: server,
            conn,
        }
    }

    fn call(&mut self, args: &[&[u8]]) -> Vec<u8> {
        self.conn.call(args)
    }
}

struct Engine {
    ks: Keyspace,
    stats: ThreadStats,
    prop: Propagation,
}

impl Engine {
    fn call(&mut self, proto: Protocol, args: &[&[u8]]) -> Vec<u8> {
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

    fn encoding(&self, key: &[u8]) -> Option<&'static str> {
        let g = self.ks.lock_key(key);
        g.db(0).and_then(|d| d.get(key)).map(|e| e.value.encoding())
    }
}

fn normalise(name: &str, reply: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(reply).into_owned();
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    if reply_order_unspecified(name) {
        lines.sort();
    }
    lines
}

use rand::rngs::StdRng;
use rand::SeedableRng;
use ringkv_testkit::gen::{collection_command, reply_order_unspecified};

#[test]
fn random_commands_match_redis_resp2() {
    random_commands_match_redis(Protocol::Resp2);
}

#[test]
fn random_commands_match_redis_resp3() {
    random_commands_match_redis(Protocol::Resp3);
}

fn random_commands_match_redis(proto: Protocol) {
    ringkv_engine::types::ENCODING_LIMITS.store(ringkv_engine::types::Limits {
        hash_max_listpack_entries: 4,
        hash_max_listpack_value: 8,
        set_max_intset_entries: 5,
        zset_max_listpack_entries: 4,
        zset_max_listpack_value: 8,
        list_max_listpack_size: 3,
    });
    let mut redis = Redis::start();
    if proto == Protocol::Resp3 {
        redis.call(&[b"HELLO", b"3"]);
    }
    let mut compared = 0;
    for seed in 0..10u64 {
        redis.call(&[b"FLUSHALL"]);
        let mut engine = Engine {
            ks: Keyspace::new(16),
            stats: ThreadStats::default(),
            prop: Propagation::default(),
        };
        compared += run_seed(&mut redis, &mut engine, seed, proto);
    }
    assert_eq!(compared, 10 * 3000);
}

fn run_seed(redis: &mut Redis, engine: &mut Engine, seed: u64, proto: Protocol) -> usize {
    let mut rng = StdRng::seed_from_u64(0x5eed_2026 ^ seed);
    let mut compared = 0;
    for n in 0..3000 {
        let line = collection_command(&mut rng);
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let name = line.split(' ').next().unwrap().to_lowercase();
        let want = redis.call(&args);
        let got = engine.call(proto, &args);
        assert_eq!(
            normalise(&name, &got),
            normalise(&name, &want),
            "seed {seed} command #{n} `{line}`:\n ringkv: {:?}\n redis:  {:?}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        if n % 50 == 0 {
            for k in ["k0", "k1", "k2", "k3"] {
                let want = redis.call(&[b"OBJECT", b"ENCODING", k.as_bytes()]);
                let want = String::from_utf8_lossy(&want).into_owned();
                match engine.encoding(k.as_bytes()) {
                    None => assert!(
                        want.starts_with("$-1") || want.starts_with('_'),
                        "#{n} {k}: redis {want}"
                    ),
                    Some(enc) => {
                        assert!(want.contains(enc), "#{n} {k}: ringkv {enc}, redis {want}")
                    }
                }
            }
        }
        compared += 1;
    }
    compared
}

//! Randomised differential test: thousands of seeded random collection
//! commands (with tiny encoding thresholds on both sides, so conversions
//! happen constantly) run against redis-server 7.0 and the engine; every
//! reply and, periodically, every key's OBJECT ENCODING must match.
//! A separate test binary, so changing the process-wide limits cannot
//! disturb other tests.
#![allow(clippy::unwrap_used)]

use ringkv_engine::reply::Protocol;

mod support;

use support::{Engine, Redis};

/// Redis started with the thresholds this test compares against.
fn start_redis() -> Redis {
    Redis::start(&[
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
    ])
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
    let mut redis = start_redis();
    if proto == Protocol::Resp3 {
        redis.call(&[b"HELLO", b"3"]);
    }
    let mut compared = 0;
    for seed in 0..10u64 {
        redis.call(&[b"FLUSHALL"]);
        let mut engine = Engine::new();
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

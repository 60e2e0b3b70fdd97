//! Differential test: runs the same collection-command scripts against a
//! real redis-server 7.0 (started here on a free port) and against the
//! engine, in RESP2 and RESP3, and compares the reply bytes and each key's
//! OBJECT ENCODING. Replies whose element order Redis leaves unspecified
//! (set algebra) are compared as sorted multisets.
#![allow(clippy::unwrap_used)]

use ringkv_engine::reply::Protocol;

mod support;

use support::{Engine, Redis};

/// Redis started with the thresholds this test compares against.
fn start_redis() -> Redis {
    Redis::start(&["--hash-max-listpack-entries", "128"])
}

/// Commands whose reply order is unspecified: compare sorted lines.
fn unordered(name: &str) -> bool {
    matches!(
        name,
        "sinter"
            | "sunion"
            | "sdiff"
            | "smembers"
            | "hgetall"
            | "hkeys"
            | "hvals"
            | "sscan"
            | "hscan"
    )
}

fn normalise(name: &str, reply: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(reply).into_owned();
    let mut lines: Vec<String> = text.split("\r\n").map(str::to_string).collect();
    if unordered(name) {
        lines.sort();
    }
    lines
}

const SCRIPT: &str = r#"
HSET h f1 v1 f2 v2 f3 3
HSET h f1 x
HGET h f1
HMGET h f1 nope f3
HGETALL h
HKEYS h
HVALS h
HLEN h
HSTRLEN h f2
HEXISTS h f9
HSETNX h f1 y
HINCRBY h f3 10
HINCRBY h f1 1
HINCRBYFLOAT h f3 1.5
HINCRBYFLOAT h f4 -0.25
HDEL h f1 f9
HMSET h a 1 b 2
HSCAN h 0 MATCH f*
HGETALL nope
SET str v
HGET str a
RPUSH l a b c d e f g
LPUSH l z
LRANGE l 0 -1
LRANGE l -3 -2
LRANGE l 5 100
LINDEX l 3
LINDEX l -100
LSET l 2 B
LINSERT l BEFORE B ins
LINSERT l AFTER nope ins
LREM l 1 ins
LPOS l c
LPOS l c RANK -1 COUNT 0
LPOS l nope COUNT 3
LTRIM l 1 -2
LRANGE l 0 -1
LPOP l
RPOP l 2
LPOP l 0
LPUSHX nope a
RPUSHX l tail
LLEN l
LMOVE l l2 LEFT RIGHT
RPOPLPUSH l l2
LRANGE l2 0 -1
LMPOP 2 nope l RIGHT COUNT 2
LMPOP 1 nope LEFT
BLPOP nope l2 0
BRPOP l2 0
LPOP str
LPOS l a RANK 0
SADD s 5 3 1 3 -7
SADD t 3 4 5 x
SMEMBERS s
SISMEMBER s 3
SMISMEMBER s 3 9 x
SCARD s
SREM s 1 9
SINTER s t
SUNION s t
SDIFF s t
SINTERCARD 2 s t LIMIT 1
SINTERSTORE d s t
SUNIONSTORE d2 s t
SDIFFSTORE d3 s nope
SMOVE t s x
SMEMBERS s
SPOP s 0
SRANDMEMBER nope 5
SSCAN d 0
SADD str x
ZADD z 1 a 2 b 3 c 4 d 5 e
ZADD z 1.5 a 0 zz
ZADD z NX 9 a 9 n
ZADD z XX CH 10 n 11 q
ZADD z GT CH 1 b 9 c
ZADD z LT 100 d
ZADD z INCR 0.1 e
ZINCRBY z -1 zz
ZINCRBY z 1e308 big
ZSCORE z a
ZMSCORE z a nope e
ZCARD z
ZCOUNT z (1.5 +inf
ZCOUNT z -inf (2
ZRANGE z 0 -1 WITHSCORES
ZRANGE z 2 1
ZRANGE z (1 5 BYSCORE WITHSCORES LIMIT 1 2
ZRANGE z +inf -inf BYSCORE REV LIMIT 0 3
ZRANGEBYSCORE z -inf +inf LIMIT 2 -1
ZREVRANGEBYSCORE z (9 1 WITHSCORES
ZREVRANGE z 0 2 WITHSCORES
ZRANK z c
ZREVRANK z c
ZRANK z nope
ZADD lex 0 a 0 b 0 c 0 d 0 e
ZRANGEBYLEX lex [b (e
ZRANGEBYLEX lex - + LIMIT 1 2
ZREVRANGEBYLEX lex (d -
ZRANGE lex [c + BYLEX REV
ZLEXCOUNT lex (a [c
ZREMRANGEBYLEX lex [a (b
ZRANGESTORE zs z 1 3
ZRANGE zs 0 -1 WITHSCORES
ZRANGESTORE zs z (1 +inf BYSCORE LIMIT 0 2
ZPOPMIN z
ZPOPMAX z 2
ZMPOP 2 nope z MIN COUNT 2
BZPOPMIN nope z 0
BZPOPMAX z 0
BZMPOP 0 1 z MAX COUNT 1
ZADD a 1 x 2 y 3 w
ZADD b 10 y 20 z
ZUNION 2 a b WITHSCORES
ZUNION 3 a b s WEIGHTS 1 2 3 AGGREGATE MAX WITHSCORES
ZINTER 2 a b WITHSCORES
ZINTER 2 a b AGGREGATE MIN WITHSCORES
ZDIFF 2 a b WITHSCORES
ZINTERCARD 2 a b
ZUNIONSTORE u 2 a b WEIGHTS 0 1
ZRANGE u 0 -1 WITHSCORES
ZINTERSTORE i 2 a b
ZDIFFSTORE df 2 a nope
ZREMRANGEBYSCORE a (1 2
ZREMRANGEBYRANK df 0 0
ZRANGE df 0 -1 WITHSCORES
ZSCAN df 0
ZADD z x a
ZADD z nan a
ZRANGEBYSCORE z (a 1
ZRANGEBYLEX z a b
ZUNION 0 a
ZADD str 1 a
ZADD fz 1e400 a
ZADD fz 1e-400 a
ZADD fz 1e-310 a 0x10 b 1. c .5 d -0 e +inf f Infinity g 0e0 i
ZADD fz 1e h
ZRANGE fz 0 -1 WITHSCORES
ZRANGEBYSCORE fz (1e400 +inf
ZUNION 1 fz WEIGHTS 1e400
SRANDMEMBER s -9223372036854775808
HRANDFIELD h -9223372036854775808
ZRANDMEMBER fz -9223372036854775808
"#;

/// Commands that push collections across the encoding thresholds.
fn generated_script() -> String {
    let mut s = String::new();
    let fields: Vec<String> = (0..129).map(|i| format!("f{i} {i}")).collect();
    s += &format!("HSET bighash {}\n", fields[..128].join(" "));
    s += "HLEN bighash\nHSET bighash f0 changed\n";
    s += &format!("HSET bighash2 {}\n", fields.join(" "));
    s += &format!("HSET longval a {}\n", "v".repeat(65));
    s += &format!("HSET okval a {}\n", "v".repeat(64));
    let ints: Vec<String> = (0..512).map(|i| (i * 3 - 700).to_string()).collect();
    s += &format!("SADD intset512 {}\n", ints.join(" "));
    s += &format!("SADD intset513 {} 99999\n", ints.join(" "));
    s += "SADD bigint 9223372036854775807 -9223372036854775808\nSMEMBERS bigint\n";
    let members: Vec<String> = (0..129)
        .map(|i| format!("{} m{i:03}", (i * 7) % 23))
        .collect();
    s += &format!("ZADD zset128 {}\n", members[..128].join(" "));
    s += &format!("ZADD zset129 {}\n", members.join(" "));
    for key in ["zset128", "zset129"] {
        s += &format!("ZRANGE {key} 5 20 WITHSCORES\n");
        s += &format!("ZRANGE {key} (3 10 BYSCORE LIMIT 2 5 WITHSCORES\n");
        s += &format!("ZRANGE {key} 10 (3 BYSCORE REV LIMIT 1 4\n");
        s += &format!("ZRANK {key} m100\nZREVRANK {key} m100\nZCOUNT {key} 5 (12\n");
        s += &format!("ZREMRANGEBYRANK {key} 10 20\nZREMRANGEBYSCORE {key} (20 +inf\n");
        s += &format!("ZPOPMAX {key} 3\nZCARD {key}\n");
    }
    s += &format!("ZADD longmember 1 {}\n", "m".repeat(65));
    let items: Vec<String> = (0..3000).map(|i| format!("item{i}")).collect();
    s += &format!("RPUSH biglist {}\n", items.join(" "));
    s += "LRANGE biglist 1500 1510\nLINDEX biglist -1000\nLINSERT biglist AFTER item2000 new\n";
    s += "LREM biglist -2 item7\nLTRIM biglist 100 -100\nLPOS biglist item2500\nLLEN biglist\n";
    s += "LSET biglist 1000 changed\nLRANGE biglist 998 1002\n";
    s
}

fn run_script(proto: Protocol) {
    let mut redis = start_redis();
    let mut engine = Engine::new();
    if proto == Protocol::Resp3 {
        redis.call(&[b"HELLO", b"3"]);
    }
    let mut keys = std::collections::BTreeSet::new();
    let mut compared = 0;
    let script = format!("{SCRIPT}\n{}", generated_script());
    for line in script.lines().filter(|l| !l.trim().is_empty()) {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let name = line.split(' ').next().unwrap().to_lowercase();
        let want = redis.call(&args);
        let got = engine.call(proto, &args);
        assert_eq!(
            normalise(&name, &got),
            normalise(&name, &want),
            "{proto:?} `{line}`:\n ringkv: {:?}\n redis:  {:?}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        if let Some(k) = args.get(1) {
            keys.insert(k.to_vec());
        }
        compared += 1;
    }
    assert!(compared > 100, "script ran {compared} commands");
    let mut encodings_checked = 0;
    for k in keys {
        let want = redis.call(&[b"OBJECT", b"ENCODING", &k]);
        let want = String::from_utf8_lossy(&want);
        let got = engine.encoding(&k);
        match got {
            None => assert!(
                want.starts_with("$-1") || want.starts_with('_'),
                "{k:?}: {want}"
            ),
            Some(enc) => {
                assert!(
                    want.contains(enc),
                    "{:?}: ringkv {enc}, redis {want}",
                    String::from_utf8_lossy(&k)
                );
                encodings_checked += 1;
            }
        }
    }
    assert!(
        encodings_checked > 10,
        "{encodings_checked} encodings checked"
    );
}

#[test]
fn resp2_replies_match_redis() {
    run_script(Protocol::Resp2);
}

#[test]
fn resp3_replies_match_redis() {
    run_script(Protocol::Resp3);
}

//! Seeded random command generators shared by the differential tests (the
//! engine-level collections fuzz and the server-level differential test), so
//! both exercise the same command shapes.

use rand::rngs::StdRng;
use rand::Rng;

/// The keys collection commands work on; other generators reuse them so
/// commands of different types collide and produce WRONGTYPE errors.
pub const KEYS: &[&str] = &["k0", "k1", "k2", "k3"];

/// A uniformly chosen element of `xs`.
pub fn pick<'a>(rng: &mut StdRng, xs: &[&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

/// A random hash, list, set or sorted-set command as one space-separated line
/// (no argument contains a space). Never blocks and never has an arity error.
pub fn collection_command(rng: &mut StdRng) -> String {
    const MEMBERS: &[&str] = &[
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
        "1",
        "2",
        "3",
        "17",
        "-5",
        "longmember9",
    ];
    const SCORES: &[&str] = &["-inf", "-2.5", "0", "1", "1", "2", "3", "10", "inf", "0.1"];
    const BOUNDS: &[&str] = &["-inf", "+inf", "(1", "1", "2", "(3", "0", "(-2.5", "10"];
    const IDX: &[&str] = &["0", "1", "2", "-1", "-2", "5", "-10", "100"];
    let k = pick(rng, KEYS);
    let k2 = pick(rng, KEYS);
    let m = pick(rng, MEMBERS);
    let m2 = pick(rng, MEMBERS);
    let s = pick(rng, SCORES);
    let s2 = pick(rng, SCORES);
    let b1 = pick(rng, BOUNDS);
    let b2 = pick(rng, BOUNDS);
    let i = pick(rng, IDX);
    let j = pick(rng, IDX);
    let flag = pick(
        rng,
        &["", "NX ", "XX ", "GT ", "LT ", "CH ", "XX CH ", "GT CH "],
    );
    let lex = pick(rng, &["[a", "(b", "-", "+", "[c", "(longmember9", "[1"]);
    let lex2 = pick(rng, &["[a", "(b", "-", "+", "[c", "(e", "[3"]);
    match rng.gen_range(0..62) {
        44 => format!("ZADD lex 0 {m} 0 {m2}"),
        45 => format!(
            "ZRANGEBYLEX lex {lex} {lex2} LIMIT {} 2",
            rng.gen_range(0..2)
        ),
        46 => format!("ZREVRANGEBYLEX lex {lex2} {lex}"),
        47 => format!("ZLEXCOUNT lex {lex} {lex2}"),
        48 => format!("ZREMRANGEBYLEX lex {lex} {lex2}"),
        49 => format!(
            "ZMPOP 2 {k} {k2} {} COUNT {}",
            pick(rng, &["MIN", "MAX"]),
            rng.gen_range(1..4)
        ),
        50 => format!(
            "LMPOP 2 {k} {k2} {} COUNT {}",
            pick(rng, &["LEFT", "RIGHT"]),
            rng.gen_range(1..4)
        ),
        51 => format!("SINTERCARD 2 {k} {k2} LIMIT {}", rng.gen_range(0..3)),
        52 => format!("ZINTERCARD 2 {k} {k2}"),
        53 => format!("ZDIFFSTORE {k} 2 {k2} {}", pick(rng, KEYS)),
        54 => format!("ZRANGESTORE {k} {k2} {i} {j}"),
        55 => format!("HSETNX {k} {m} {m2}"),
        56 => format!(
            "HINCRBYFLOAT {k} {} {}",
            pick(rng, &["fl", "a", "1"]),
            pick(rng, &["0.5", "-1.25", "3", "x", "1e3", "0.1", "-0.3"])
        ),
        57 => format!("ZADD {k} INCR {s} {m}"),
        58 => format!("{} {k} {m}", pick(rng, &["LPUSHX", "RPUSHX"])),
        59 => format!("RPOPLPUSH {k} {k2}"),
        60 => format!(
            "ZUNION 2 {k} {k2} WITHSCORES AGGREGATE {}",
            pick(rng, &["SUM", "MIN", "MAX"])
        ),
        61 => format!("ZDIFF 2 {k} {k2} WITHSCORES"),
        0 | 1 => format!("ZADD {k} {flag}{s} {m} {s2} {m2}"),
        2 => format!("ZINCRBY {k} {s} {m}"),
        3 => format!("ZREM {k} {m} {m2}"),
        4 => format!("ZRANGE {k} {i} {j} WITHSCORES"),
        5 => format!(
            "ZRANGEBYSCORE {k} {b1} {b2} WITHSCORES LIMIT {} {}",
            rng.gen_range(0..3),
            pick(rng, &["-1", "1", "2"])
        ),
        6 => format!("ZREVRANGEBYSCORE {k} {b1} {b2}"),
        7 => format!("ZRANK {k} {m}"),
        8 => format!("ZREVRANK {k} {m}"),
        9 => format!("ZSCORE {k} {m}"),
        10 => format!("ZCOUNT {k} {b1} {b2}"),
        11 => format!("ZPOPMIN {k} {}", rng.gen_range(0..3)),
        12 => format!("ZPOPMAX {k}"),
        13 => format!("ZREMRANGEBYRANK {k} {i} {j}"),
        14 => format!("ZREMRANGEBYSCORE {k} {b1} {b2}"),
        15 => {
            format!("ZUNIONSTORE {k} 2 {k2} {} WEIGHTS 2 {s}", pick(rng, KEYS)).replace("inf", "1")
        }
        16 => format!(
            "ZINTERSTORE {k} 2 {k2} {} AGGREGATE {}",
            pick(rng, KEYS),
            pick(rng, &["SUM", "MIN", "MAX"])
        ),
        17 => format!("ZRANGE {k} {b2} {b1} BYSCORE REV LIMIT 0 2 WITHSCORES"),
        18 | 19 => format!("{} {k} {m} {m2}", pick(rng, &["LPUSH", "RPUSH"])),
        20 => format!(
            "{} {k} {}",
            pick(rng, &["LPOP", "RPOP"]),
            rng.gen_range(0..3)
        ),
        21 => format!("LRANGE {k} {i} {j}"),
        22 => format!("LINDEX {k} {i}"),
        23 => format!("LSET {k} {i} {m}"),
        24 => format!("LINSERT {k} {} {m} {m2}", pick(rng, &["BEFORE", "AFTER"])),
        25 => format!("LREM {k} {} {m}", pick(rng, &["0", "1", "-1", "2"])),
        26 => format!("LTRIM {k} {i} {j}"),
        27 => format!("LPOS {k} {m} RANK {} COUNT 0", pick(rng, &["1", "-1", "2"])),
        28 => format!(
            "LMOVE {k} {k2} {} {}",
            pick(rng, &["LEFT", "RIGHT"]),
            pick(rng, &["LEFT", "RIGHT"])
        ),
        29 | 30 => format!("HSET {k} {m} {m2} {m2} {s}"),
        31 => format!("HDEL {k} {m}"),
        32 => format!("HMGET {k} {m} {m2}"),
        33 => format!("HINCRBY {k} {m} {}", pick(rng, &["1", "-3", "x"])),
        34 => format!("HLEN {k}"),
        35 => format!("HGETALL {k}"),
        36 | 37 => format!("SADD {k} {m} {m2}"),
        38 => format!("SREM {k} {m}"),
        39 => format!("SMOVE {k} {k2} {m}"),
        40 => format!(
            "{} {k} {k2} {}",
            pick(rng, &["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
            pick(rng, KEYS)
        ),
        41 => format!("SMEMBERS {k}"),
        42 => format!("SISMEMBER {k} {m}"),
        _ => format!("DEL {k}"),
    }
}

/// Commands whose reply lists elements in an order Redis leaves unspecified
/// (hash-table iteration order): compare them as multisets.
pub fn reply_order_unspecified(lowercase_name: &str) -> bool {
    matches!(
        lowercase_name,
        "smembers" | "hgetall" | "hkeys" | "hvals" | "sinter" | "sunion" | "sdiff"
    )
}

//! Server-level differential test (issue 3): a seeded random sequence of
//! commands over every implemented type — strings, generic keys, expiry,
//! hashes, lists, sets, sorted sets, blocking pops, MULTI/EXEC/WATCH — runs
//! against a real redis-server 7.0 and against ringkv, both started with the
//! same tiny encoding thresholds, in RESP2 and in RESP3. Replies must be
//! byte-identical, except where Redis leaves them unspecified:
//! - element order of hash-table-encoded collections and multi-key set
//!   algebra (compared as multisets);
//! - TTL values (compared by class: -2, -1 or "some positive time");
//! - random picks (SRANDMEMBER, SPOP, HRANDFIELD, ZRANDMEMBER): only the
//!   reply's shape and that every returned element belongs to the key.
//!
//! Default run: fixed seed, bounded count. Longer runs:
//! `RINGKV_DIFF_SEED=7 RINGKV_DIFF_COMMANDS=200000 cargo test -p ringkv-server --test differential`.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use ringkv_testkit::gen::{collection_command, pick, reply_order_unspecified, KEYS};
use ringkv_testkit::resp::RawConn;
use ringkv_testkit::{start_redis, start_ringkv};

/// Both servers get exactly these directives, so encodings switch often.
const CONFIG: &[&str] = &[
    "--hash-max-listpack-entries",
    "4",
    "--hash-max-listpack-value",
    "8",
    "--set-max-intset-entries",
    "4",
    "--zset-max-listpack-entries",
    "4",
    "--zset-max-listpack-value",
    "8",
    "--list-max-listpack-size",
    "4",
];

const DEFAULT_SEED: u64 = 0x0d1f_f3e5;
const DEFAULT_COMMANDS: usize = 10_000;

/// How a reply pair is compared.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Compare {
    Exact,
    /// Top-level elements as a multiset.
    Unordered,
    /// Integer replies by class: -2, -1, or positive.
    TtlClass,
    /// Same shape, every returned bulk a member of the key `args[1]`.
    RandomPick,
    /// SPOP: like RandomPick, then both servers are re-synchronised to
    /// Redis's remaining members (each removed different ones).
    PopThenResync,
}

struct Cmd {
    args: Vec<Vec<u8>>,
    compare: Compare,
    /// Counted under this type in the summary.
    group: &'static str,
}

enum Step {
    Run(Cmd),
    /// Sleep so that keys given a few-millisecond expiry are gone in both.
    Sleep(Duration),
}

fn cmd(group: &'static str, compare: Compare, args: &[&[u8]]) -> Cmd {
    Cmd {
        args: args.iter().map(|a| a.to_vec()).collect(),
        compare,
        group,
    }
}

fn words(group: &'static str, compare: Compare, line: &str) -> Cmd {
    Cmd {
        args: line.split(' ').map(|w| w.as_bytes().to_vec()).collect(),
        compare,
        group,
    }
}

/// String values, chosen to hit integer/float parsing edges, embstr/raw and
/// binary data.
const VALUES: &[&[u8]] = &[
    b"",
    b"0",
    b"1",
    b"-1",
    b"10",
    b"42",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"3.5",
    b"1e3",
    b"abc",
    b"hello world",
    b"\x00\xff\r\n bin",
    b"01",
    b"+1",
    b" 1",
    b"nan",
    b"inf",
    b"0x10",
    b"a-value-that-is-longer-than-forty-four-bytes-so-raw",
];

const STRING_KEYS: &[&str] = &["s0", "s1", "s2", "k0", "k1"];

fn vpick(rng: &mut StdRng) -> &'static [u8] {
    VALUES[rng.gen_range(0..VALUES.len())]
}

/// A few-millisecond expiry, a sleep so it elapsed in both servers, then an
/// access so both delete the key lazily: until then DBSIZE would depend on
/// when each server's active expiry cycle happened to run.
fn expire_then_touch(c: Cmd, key: &str) -> Vec<Step> {
    vec![
        Step::Run(c),
        Step::Sleep(Duration::from_millis(12)),
        Step::Run(words("expiry", Compare::Exact, &format!("EXISTS {key}"))),
    ]
}

/// Generator state that must outlive one command.
struct Gen {
    rng: StdRng,
    /// Absolute expiry times (unix seconds) are drawn from a range far from
    /// every relative one, so GT/LT comparisons never hinge on a millisecond.
    abs_base_s: u64,
}

impl Gen {
    /// A long relative expiry: never elapses during a run, and two random
    /// ones are equal (a tie whose outcome depends on timing) rarely.
    fn long_seconds(&mut self) -> String {
        self.rng.gen_range(100..100_000u64).to_string()
    }

    fn long_millis(&mut self) -> String {
        // Offset by 500 ms so they never coincide with a whole-second one.
        (self.rng.gen_range(100..100_000u64) * 1000 + 500).to_string()
    }

    fn abs_seconds(&mut self) -> String {
        (self.abs_base_s + self.rng.gen_range(0..100_000u64)).to_string()
    }

    fn string_cmd(&mut self, in_multi: bool) -> Vec<Step> {
        use Compare::*;
        let k = pick(&mut self.rng, STRING_KEYS);
        let k2 = pick(&mut self.rng, STRING_KEYS);
        let v = vpick(&mut self.rng);
        let g = "string";
        let c = match self.rng.gen_range(0..30) {
            0..=2 => {
                let mut args: Vec<Vec<u8>> = vec![b"SET".to_vec(), k.into(), v.into()];
                match self.rng.gen_range(0..6) {
                    0 => args.push(b"NX".to_vec()),
                    1 => args.push(b"XX".to_vec()),
                    _ => {}
                }
                if self.rng.gen_bool(0.3) {
                    args.push(b"GET".to_vec());
                }
                match self.rng.gen_range(0..8) {
                    0 => args.extend([b"EX".to_vec(), self.long_seconds().into_bytes()]),
                    1 => args.extend([b"PX".to_vec(), self.long_millis().into_bytes()]),
                    2 => args.push(b"KEEPTTL".to_vec()),
                    3 => args.extend([b"EXAT".to_vec(), self.abs_seconds().into_bytes()]),
                    4 => {
                        let bad = pick(&mut self.rng, &["0", "-5", "x", "1.5", ""]);
                        args.extend([b"EX".to_vec(), bad.into()]);
                    }
                    _ => {}
                }
                if self.rng.gen_bool(0.03) {
                    // Syntax errors: conflicting or dangling options.
                    args.push(pick(&mut self.rng, &["NX", "EX", "KEEPTTL", "BOGUS"]).into());
                }
                Cmd {
                    args,
                    compare: Exact,
                    group: g,
                }
            }
            3 if !in_multi => {
                // Short expiry, then a sleep so it has elapsed in both.
                let how = pick(&mut self.rng, &["PX", "SETPX", "PSETEX", "GETEX"]);
                let ms = self.rng.gen_range(1..4).to_string();
                let c = match how {
                    "PX" | "SETPX" => {
                        cmd(g, Exact, &[b"SET", k.as_bytes(), v, b"PX", ms.as_bytes()])
                    }
                    "PSETEX" => cmd(g, Exact, &[b"PSETEX", k.as_bytes(), ms.as_bytes(), v]),
                    _ => cmd(
                        "expiry",
                        Exact,
                        &[b"GETEX", k.as_bytes(), b"PX", ms.as_bytes()],
                    ),
                };
                return expire_then_touch(c, k);
            }
            3 => cmd(g, Exact, &[b"SETNX", k.as_bytes(), v]),
            4 => cmd(g, Exact, &[b"GET", k.as_bytes()]),
            5 => cmd(g, Exact, &[b"INCR", k.as_bytes()]),
            6 => cmd(g, Exact, &[b"DECR", k.as_bytes()]),
            7 => {
                let by = pick(
                    &mut self.rng,
                    &[
                        "1",
                        "-1",
                        "100",
                        "9223372036854775807",
                        "-9223372036854775808",
                        "x",
                        "1.5",
                        "",
                    ],
                );
                let name = pick(&mut self.rng, &["INCRBY", "DECRBY"]);
                words(g, Exact, &format!("{name} {k} {by}"))
            }
            8 => {
                let by = pick(
                    &mut self.rng,
                    &[
                        "0.1", "-1.5", "3", "1e308", "inf", "nan", "x", "-0.3", "5.0e3", "1e-5",
                    ],
                );
                words(g, Exact, &format!("INCRBYFLOAT {k} {by}"))
            }
            9 => cmd(g, Exact, &[b"APPEND", k.as_bytes(), v]),
            10 => cmd(g, Exact, &[b"STRLEN", k.as_bytes()]),
            11 => {
                let a = pick(
                    &mut self.rng,
                    &["0", "1", "-1", "-3", "5", "100", "-100", "x"],
                );
                let b = pick(&mut self.rng, &["0", "2", "-1", "-2", "10", "100", "-100"]);
                let name = pick(&mut self.rng, &["GETRANGE", "SUBSTR"]);
                words(g, Exact, &format!("{name} {k} {a} {b}"))
            }
            12 => {
                let off = pick(
                    &mut self.rng,
                    &["0", "1", "3", "10", "-1", "x", "536870912"],
                );
                cmd(g, Exact, &[b"SETRANGE", k.as_bytes(), off.as_bytes(), v])
            }
            13 => {
                let mut args: Vec<Vec<u8>> = vec![b"GETEX".to_vec(), k.into()];
                match self.rng.gen_range(0..5) {
                    0 => args.extend([b"EX".to_vec(), self.long_seconds().into_bytes()]),
                    1 => args.push(b"PERSIST".to_vec()),
                    2 => args.extend([b"PXAT".to_vec(), (self.abs_seconds() + "000").into_bytes()]),
                    3 => args.extend([b"EX".to_vec(), b"0".to_vec()]),
                    _ => {}
                }
                Cmd {
                    args,
                    compare: Exact,
                    group: "expiry",
                }
            }
            14 => cmd(g, Exact, &[b"GETDEL", k.as_bytes()]),
            15 => cmd(g, Exact, &[b"GETSET", k.as_bytes(), v]),
            16 => {
                let v2 = vpick(&mut self.rng);
                cmd(g, Exact, &[b"MSET", k.as_bytes(), v, k2.as_bytes(), v2])
            }
            17 => {
                let v2 = vpick(&mut self.rng);
                cmd(g, Exact, &[b"MSETNX", k.as_bytes(), v, k2.as_bytes(), v2])
            }
            18 => words(g, Exact, &format!("MGET {k} {k2} nokey")),
            19 => words(g, Exact, &format!("OBJECT ENCODING {k}")),
            20 => {
                let opt = pick(
                    &mut self.rng,
                    &["", " LEN", " IDX MINMATCHLEN 1 WITHMATCHLEN"],
                );
                words(g, Exact, &format!("LCS {k} {k2}{opt}"))
            }
            21 => cmd(g, Exact, &[b"SETEX", k.as_bytes(), b"1000", v]),
            22 => cmd(
                g,
                Exact,
                &[
                    b"SETEX",
                    k.as_bytes(),
                    pick(&mut self.rng, &["0", "-1", "x"]).as_bytes(),
                    v,
                ],
            ),
            23 => cmd(g, Exact, &[b"MSET", k.as_bytes()]),
            _ => cmd(g, Exact, &[b"GET", k.as_bytes()]),
        };
        vec![Step::Run(c)]
    }

    fn key_cmd(&mut self, in_multi: bool) -> Vec<Step> {
        use Compare::*;
        const ALL: &[&str] = &["s0", "s1", "s2", "k0", "k1", "k2", "k3", "lex", "nokey"];
        let k = pick(&mut self.rng, ALL);
        // Never a destination of RENAME/COPY: "lex" must keep all scores
        // equal, or ZRANGEBYLEX/ZLEXCOUNT replies are unspecified.
        let k2 = pick(&mut self.rng, &ALL[..7]);
        let g = "key";
        let cond = pick(
            &mut self.rng,
            &["", " NX", " XX", " GT", " LT", " NX XX", " GT LT"],
        );
        let c = match self.rng.gen_range(0..26) {
            0 => words(g, Exact, &format!("DEL {k} {k2}")),
            1 => words(g, Exact, &format!("EXISTS {k} {k2} {k}")),
            2 => words(g, Exact, &format!("TYPE {k}")),
            3 => {
                let t = self.long_seconds();
                words("expiry", Exact, &format!("EXPIRE {k} {t}{cond}"))
            }
            4 => {
                let t = self.long_millis();
                words("expiry", Exact, &format!("PEXPIRE {k} {t}{cond}"))
            }
            5 => {
                let t = self.abs_seconds();
                words("expiry", Exact, &format!("EXPIREAT {k} {t}{cond}"))
            }
            6 => {
                // Zero, negative and past times delete at once; junk is an error.
                let name = pick(
                    &mut self.rng,
                    &["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"],
                );
                // "1" only as an absolute time: as a relative one it would
                // elapse at an unknown moment between the two servers.
                let t = if name.ends_with("AT") {
                    pick(
                        &mut self.rng,
                        &["0", "-10", "1", "x", "9223372036854775807"],
                    )
                } else {
                    pick(&mut self.rng, &["0", "-10", "x", "9223372036854775807"])
                };
                words("expiry", Exact, &format!("{name} {k} {t}{cond}"))
            }
            7 if !in_multi => {
                let ms = self.rng.gen_range(1..4);
                let c = words("expiry", Exact, &format!("PEXPIRE {k} {ms}"));
                return expire_then_touch(c, k);
            }
            7 | 8 => {
                let name = pick(&mut self.rng, &["TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"]);
                words("expiry", TtlClass, &format!("{name} {k}"))
            }
            9 => words("expiry", Exact, &format!("PERSIST {k}")),
            10 => words(g, Exact, &format!("RENAME {k} {k2}")),
            11 => words(g, Exact, &format!("RENAMENX {k} {k2}")),
            12 => {
                let opt = pick(
                    &mut self.rng,
                    &["", " REPLACE", " DB 1", " DB 1 REPLACE", " DB x", " DB 99"],
                );
                words(g, Exact, &format!("COPY {k} {k2}{opt}"))
            }
            13 => {
                let db = pick(&mut self.rng, &["0", "1", "2", "x", "16"]);
                words(g, Exact, &format!("MOVE {k} {db}"))
            }
            14 => {
                let db = pick(&mut self.rng, &["0", "0", "0", "1", "2", "x", "-1", "16"]);
                words(g, Exact, &format!("SELECT {db}"))
            }
            15 => words(g, Exact, "DBSIZE"),
            16 | 17 => words(g, Exact, &format!("OBJECT ENCODING {k}")),
            18 => words(g, Unordered, "KEYS *"),
            19 => words(
                g,
                Unordered,
                &format!(
                    "KEYS {}",
                    pick(&mut self.rng, &["k?", "s*", "*e*", "[ks]1"])
                ),
            ),
            20 => words(g, Exact, &format!("UNLINK {k}")),
            21 => words(g, Exact, &format!("TOUCH {k} {k2}")),
            22 => words(g, Exact, &format!("RENAME {k} {k}")),
            23 => words(g, Exact, &format!("COPY {k} {k}")),
            _ => words(g, Exact, &format!("EXISTS {k}")),
        };
        vec![Step::Run(c)]
    }

    /// Collection commands, mostly the shared generator (also used by the
    /// engine-level fuzz), plus the unspecified-order and random ones.
    fn collection_cmd(&mut self, in_multi: bool) -> Vec<Step> {
        use Compare::*;
        let k = pick(&mut self.rng, KEYS);
        let k2 = pick(&mut self.rng, KEYS);
        let c = match self.rng.gen_range(0..40) {
            0 => words("hash", Unordered, &format!("HKEYS {k}")),
            1 => words("hash", Unordered, &format!("HVALS {k}")),
            2 => words("hash", Exact, &format!("HEXISTS {k} a")),
            3 => words("hash", Exact, &format!("HSTRLEN {k} a")),
            4 => {
                let n = pick(&mut self.rng, &["", " 2", " -3", " 10", " 0", " x"]);
                let wv = if !n.is_empty() && self.rng.gen_bool(0.5) {
                    " WITHVALUES"
                } else {
                    ""
                };
                words("hash", RandomPick, &format!("HRANDFIELD {k}{n}{wv}"))
            }
            5 => {
                let n = pick(&mut self.rng, &["", " 2", " -3", " 10", " 0"]);
                words("set", RandomPick, &format!("SRANDMEMBER {k}{n}"))
            }
            6 if !in_multi => {
                let n = pick(&mut self.rng, &["", " 1", " 2", " 10", " 0"]);
                words("set", PopThenResync, &format!("SPOP {k}{n}"))
            }
            7 => {
                let n = pick(&mut self.rng, &["", " 2", " -3", " 10", " 0"]);
                let ws = if !n.is_empty() && self.rng.gen_bool(0.5) {
                    " WITHSCORES"
                } else {
                    ""
                };
                words("zset", RandomPick, &format!("ZRANDMEMBER {k}{n}{ws}"))
            }
            8 => {
                let name = pick(&mut self.rng, &["SINTER", "SUNION", "SDIFF"]);
                words("set", Unordered, &format!("{name} {k} {k2}"))
            }
            9 => words("set", Exact, &format!("SCARD {k}")),
            10 => words("set", Exact, &format!("SMISMEMBER {k} a 1 zz")),
            11 => words("list", Exact, &format!("LLEN {k}")),
            12 => words("zset", Exact, &format!("ZCARD {k}")),
            13 => words("zset", Exact, &format!("ZMSCORE {k} a b")),
            14 => {
                let (a, b) = (
                    pick(
                        &mut self.rng,
                        &["nan", "-inf", "(-inf", "+inf", "(1", "x", "[1"],
                    ),
                    pick(&mut self.rng, &["nan", "+inf", "(+inf", "2", "(x"]),
                );
                words("zset", Exact, &format!("ZRANGEBYSCORE {k} {a} {b}"))
            }
            15 => {
                let s = pick(&mut self.rng, &["nan", "inf", "-inf", "x", "1e400", ""]);
                words("zset", Exact, &format!("ZADD {k} {s} m"))
            }
            16 => words("zset", Exact, &format!("ZADD {k} NX GT 1 m")),
            17 => words("zset", Exact, &format!("ZINCRBY {k} nan m")),
            18 => words("list", Exact, &format!("LPOS {k} a RANK 0")),
            19 => cmd("hash", Exact, &[b"HSET", k.as_bytes(), b"", b"\x00bin\xfe"]),
            20 => cmd("set", Exact, &[b"SADD", k.as_bytes(), b"", b"\x00\r\n"]),
            21 => cmd("list", Exact, &[b"RPUSH", k.as_bytes(), b"", b"\x00\r\n"]),
            _ => {
                let line = collection_command(&mut self.rng);
                let name = line.split(' ').next().unwrap_or("").to_lowercase();
                let group = match name.as_bytes()[0] {
                    b'h' => "hash",
                    b'l' | b'r' => "list",
                    b's' => "set",
                    b'z' => "zset",
                    _ => "key",
                };
                let compare = if reply_order_unspecified(&name) {
                    Unordered
                } else {
                    Exact
                };
                words(group, compare, &line)
            }
        };
        vec![Step::Run(c)]
    }

    /// Refused by both servers; inside MULTI at once, aborting EXEC.
    fn error_cmd(&mut self) -> Cmd {
        use Compare::*;
        const BAD: &[&str] = &[
            "GET",
            "SET k0",
            "HSET k0 f",
            "ZADD k0 1",
            "LPUSH k0",
            "SADD",
            "EXPIRE k0",
            "INCRBY k0",
            "NOSUCHCMD a b",
            "GETEX s0 EX",
            "GETEX s0 PERSIST EX 10",
            "ZRANGE k0 0 -1 BYSCORE BYLEX",
            "ZRANGE k0 0 1 LIMIT 0 1",
            "ZUNIONSTORE k0 0 k1",
            "ZUNIONSTORE k0 3 k1",
            "SINTERCARD 0 k0",
            "LMPOP 0 k0 LEFT",
            "LMPOP 1 k0 UP",
            "HINCRBY k0 f 1.5",
            "SETRANGE s0 -1 x",
            "OBJECT NOSUCH k0",
            "OBJECT ENCODING",
            "OBJECT ENCODING k0 k1",
            "CONFIG NOSUCH",
            "CONFIG GET",
            "CLIENT NOSUCH x",
            "EXPIRE k0 10 NX GT",
            "COPY k0 k1 DB",
            "SELECT",
            "BLPOP k0 x",
            "BLPOP k0 -1",
            "ZRANDMEMBER k0 1 WITHSCORES x",
            "SRANDMEMBER k0 x",
            "LINSERT k0 MIDDLE a b",
            "MSETNX a",
        ];
        words("error", Exact, pick(&mut self.rng, BAD))
    }

    fn blocking_cmd(&mut self) -> Cmd {
        // Timeouts are short: an empty key makes both servers wait them out.
        let k = pick(&mut self.rng, KEYS);
        let k2 = pick(&mut self.rng, KEYS);
        let line = match self.rng.gen_range(0..6) {
            0 => format!("BLPOP {k} {k2} 0.01"),
            1 => format!("BRPOP {k} 0.01"),
            2 => format!("BZPOPMIN {k} {k2} 0.01"),
            3 => format!("BZPOPMAX {k} 0.01"),
            4 => format!("BLMOVE {k} {k2} LEFT RIGHT 0.01"),
            _ => format!("BLMPOP 0.01 2 {k} {k2} RIGHT COUNT 2"),
        };
        words("blocking", Compare::Exact, &line)
    }

    fn plain_cmd(&mut self, in_multi: bool) -> Vec<Step> {
        match self.rng.gen_range(0..100) {
            0..=29 => self.string_cmd(in_multi),
            30..=49 => self.key_cmd(in_multi),
            50..=91 => self.collection_cmd(in_multi),
            92..=96 => vec![Step::Run(self.error_cmd())],
            _ => vec![Step::Run(self.blocking_cmd())],
        }
    }

    /// A command for inside MULTI: its reply arrives inside EXEC's array,
    /// where only byte-exact comparison applies.
    fn queued_cmd(&mut self) -> Vec<Step> {
        loop {
            let steps = self.plain_cmd(true);
            let exact = steps.iter().all(|s| match s {
                Step::Run(c) => c.compare == Compare::Exact,
                Step::Sleep(_) => false,
            });
            if exact {
                return steps;
            }
        }
    }

    fn transaction(&mut self) -> Vec<Step> {
        let mut steps = Vec::new();
        let tx = |line: &str| Step::Run(words("tx", Compare::Exact, line));
        if self.rng.gen_bool(0.3) {
            let k = pick(&mut self.rng, KEYS);
            steps.push(tx(&format!("WATCH {k} s0")));
            if self.rng.gen_bool(0.5) {
                // Our own write to a watched key makes EXEC fail.
                steps.extend(self.plain_cmd(true));
            }
        }
        steps.push(tx("MULTI"));
        for _ in 0..self.rng.gen_range(0..5) {
            match self.rng.gen_range(0..20) {
                0 => steps.push(Step::Run(self.error_cmd())),
                1 => steps.push(tx(pick(&mut self.rng, &["MULTI", "WATCH k0"]))),
                _ => steps.extend(self.queued_cmd()),
            }
        }
        let end = if self.rng.gen_bool(0.15) {
            "DISCARD"
        } else {
            "EXEC"
        };
        steps.push(tx(end));
        if self.rng.gen_bool(0.1) {
            steps.push(tx(pick(&mut self.rng, &["EXEC", "DISCARD", "UNWATCH"])));
        }
        steps
    }

    fn next_steps(&mut self) -> Vec<Step> {
        if self.rng.gen_range(0..40) == 0 {
            self.transaction()
        } else {
            self.plain_cmd(false)
        }
    }
}

/// A parsed reply, for the comparisons that are not byte-exact.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Reply {
    /// `+`, `-`, `:`, `,`, `_`, `#`, `(` lines: type byte and text.
    Line(u8, Vec<u8>),
    Bulk(u8, Option<Vec<u8>>),
    Agg(u8, Vec<Reply>),
}

fn parse(bytes: &[u8]) -> Reply {
    let mut pos = 0;
    let r = parse_at(bytes, &mut pos);
    assert_eq!(pos, bytes.len(), "trailing bytes in reply");
    r
}

fn parse_at(b: &[u8], pos: &mut usize) -> Reply {
    let end = *pos
        + b[*pos..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("CRLF");
    let head = b[*pos];
    let text = b[*pos + 1..end].to_vec();
    *pos = end + 2;
    let n: i64 = std::str::from_utf8(&text)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(-1);
    match head {
        b'$' | b'=' | b'!' => {
            if n < 0 {
                Reply::Bulk(head, None)
            } else {
                let body = b[*pos..*pos + n as usize].to_vec();
                *pos += n as usize + 2;
                Reply::Bulk(head, Some(body))
            }
        }
        b'*' | b'~' | b'>' | b'%' => {
            let count = if head == b'%' { n * 2 } else { n };
            if n < 0 {
                return Reply::Bulk(head, None);
            }
            Reply::Agg(head, (0..count).map(|_| parse_at(b, pos)).collect())
        }
        _ => Reply::Line(head, text),
    }
}

fn ttl_class(r: &Reply) -> Reply {
    match r {
        Reply::Line(b':', t) if t != b"-1" && t != b"-2" => Reply::Line(b':', b"positive".to_vec()),
        other => other.clone(),
    }
}

fn sorted_top(r: &Reply) -> Reply {
    match r {
        Reply::Agg(b'%', items) => {
            let mut pairs: Vec<(Reply, Reply)> = items
                .chunks(2)
                .map(|p| (p[0].clone(), p[1].clone()))
                .collect();
            pairs.sort();
            Reply::Agg(b'%', pairs.into_iter().flat_map(|(a, b)| [a, b]).collect())
        }
        Reply::Agg(h, items) => {
            let mut items = items.clone();
            items.sort();
            Reply::Agg(*h, items)
        }
        other => other.clone(),
    }
}

/// The reply's structure with every bulk's content blanked out.
fn shape(r: &Reply) -> Reply {
    match r {
        Reply::Bulk(h, Some(_)) => Reply::Bulk(*h, Some(Vec::new())),
        Reply::Line(b',', _) => Reply::Line(b',', Vec::new()),
        Reply::Agg(h, items) => Reply::Agg(*h, items.iter().map(shape).collect()),
        other => other.clone(),
    }
}

fn bulks(r: &Reply, out: &mut Vec<Vec<u8>>) {
    match r {
        Reply::Bulk(_, Some(b)) => out.push(b.clone()),
        Reply::Agg(_, items) => items.iter().for_each(|i| bulks(i, out)),
        _ => {}
    }
}

fn render(args: &[Vec<u8>]) -> String {
    args.iter()
        .map(|a| format!("{:?}", String::from_utf8_lossy(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

struct Pair {
    redis: RawConn,
    ringkv: RawConn,
}

impl Pair {
    fn both(&mut self, args: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>) {
        (self.redis.call(args), self.ringkv.call(args))
    }

    /// Everything the key holds, by Redis's account, as bulk strings.
    fn contents(&mut self, key: &[u8]) -> Vec<Vec<u8>> {
        let ty = self.redis.call(&[b"TYPE".as_slice(), key]);
        let query: Vec<&[u8]> = match String::from_utf8_lossy(&ty).trim_start_matches(['+', '$']) {
            t if t.starts_with("set") => vec![b"SMEMBERS", key],
            t if t.starts_with("hash") => vec![b"HGETALL", key],
            t if t.starts_with("zset") => vec![b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"],
            _ => return Vec::new(),
        };
        let mut out = Vec::new();
        bulks(&parse(&self.redis.call(&query)), &mut out);
        out
    }
}

struct Run {
    seed: u64,
    history: VecDeque<String>,
    per_group: BTreeMap<&'static str, usize>,
    compared: usize,
    in_multi: bool,
}

impl Run {
    fn fail(&self, index: usize, c: &Cmd, what: &str, redis: &[u8], ringkv: &[u8]) -> ! {
        panic!(
            "differential mismatch ({what}) seed {seed} (RINGKV_DIFF_SEED={seed}) command #{index}: {cmd}\n  redis:  {r:?}\n  ringkv: {k:?}\npreceding commands:\n  {hist}",
            seed = self.seed,
            cmd = render(&c.args),
            r = String::from_utf8_lossy(redis),
            k = String::from_utf8_lossy(ringkv),
            hist = self.history.iter().cloned().collect::<Vec<_>>().join("\n  "),
        );
    }

    fn step(&mut self, pair: &mut Pair, index: usize, c: &Cmd) {
        let name = String::from_utf8_lossy(&c.args[0]).to_ascii_uppercase();
        let mut compare = c.compare;
        // Hash and set replies are in a defined order only while the key is
        // listpack/intset encoded; ask Redis which it is (not inside MULTI,
        // where the question itself would be queued).
        if compare == Compare::Unordered && !self.in_multi && c.args.len() == 2 {
            let enc = pair
                .redis
                .call(&[b"OBJECT".as_slice(), b"ENCODING", &c.args[1]]);
            let enc = String::from_utf8_lossy(&enc);
            if enc.contains("listpack") || enc.contains("intset") {
                compare = Compare::Exact;
            }
        }
        let members = match compare {
            Compare::RandomPick | Compare::PopThenResync if !self.in_multi => {
                Some(pair.contents(&c.args[1]))
            }
            _ => None,
        };
        let (want, got) = pair.both(&c.args);
        let ok = match compare {
            Compare::Exact => want == got,
            Compare::Unordered => sorted_top(&parse(&want)) == sorted_top(&parse(&got)),
            Compare::TtlClass => ttl_class(&parse(&want)) == ttl_class(&parse(&got)),
            Compare::RandomPick | Compare::PopThenResync => {
                let (w, g) = (parse(&want), parse(&got));
                let mut picked = Vec::new();
                bulks(&g, &mut picked);
                let members_ok = match &members {
                    Some(m) => picked.iter().all(|p| m.contains(p)),
                    None => true,
                };
                // A positive count asks for distinct elements.
                let distinct_ok = {
                    let n = c.args.get(2).map(|a| a.as_slice());
                    let positive = n.is_some_and(|n| !n.starts_with(b"-"));
                    let plain = c.args.len() == 3;
                    if positive && plain {
                        let mut d = picked.clone();
                        d.sort();
                        d.dedup();
                        d.len() == picked.len()
                    } else {
                        true
                    }
                };
                if !(members_ok && distinct_ok) {
                    self.fail(index, c, "random pick not a distinct member", &want, &got);
                }
                shape(&w) == shape(&g)
            }
        };
        if !ok {
            self.fail(index, c, &format!("{compare:?}"), &want, &got);
        }
        if compare == Compare::PopThenResync {
            self.resync(pair, &c.args[1]);
        }
        match name.as_str() {
            "MULTI" if want.starts_with(b"+OK") => self.in_multi = true,
            "EXEC" | "DISCARD" => self.in_multi = false,
            _ => {}
        }
        self.compared += 1;
        *self.per_group.entry(c.group).or_default() += 1;
        self.history
            .push_back(format!("#{index} {}", render(&c.args)));
        if self.history.len() > 12 {
            self.history.pop_front();
        }
    }

    /// After SPOP each server removed different members: give both Redis's
    /// remaining set, rebuilt the same way so encodings agree too.
    fn resync(&mut self, pair: &mut Pair, key: &[u8]) {
        let ty = pair.redis.call(&[b"TYPE".as_slice(), key]);
        if !String::from_utf8_lossy(&ty).contains("set")
            || String::from_utf8_lossy(&ty).contains("zset")
        {
            return;
        }
        let members = pair.contents(key);
        let mut del: Vec<Vec<u8>> = vec![b"DEL".to_vec(), key.to_vec()];
        pair.both(&del);
        if !members.is_empty() {
            del[0] = b"SADD".to_vec();
            del.extend(members);
            let (a, b) = pair.both(&del);
            assert_eq!(a, b, "resync SADD");
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn run_differential(resp3: bool) {
    let seed = env_u64("RINGKV_DIFF_SEED").unwrap_or(DEFAULT_SEED);
    let target = env_u64("RINGKV_DIFF_COMMANDS").map_or(DEFAULT_COMMANDS, |n| n as usize);
    let redis = start_redis(CONFIG);
    let ringkv = start_ringkv(Path::new(env!("CARGO_BIN_EXE_ringkv")), CONFIG);
    let mut pair = Pair {
        redis: RawConn::new(redis.connect()),
        ringkv: RawConn::new(ringkv.connect()),
    };
    if resp3 {
        pair.both(&[b"HELLO".to_vec(), b"3".to_vec()]);
    }
    let now_s = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let mut gen = Gen {
        rng: StdRng::seed_from_u64(seed ^ u64::from(resp3)),
        abs_base_s: now_s + 200_000,
    };
    let mut run = Run {
        seed,
        history: VecDeque::new(),
        per_group: BTreeMap::new(),
        compared: 0,
        in_multi: false,
    };
    let mut index = 0;
    while run.compared < target {
        for step in gen.next_steps() {
            match step {
                Step::Run(c) => {
                    run.step(&mut pair, index, &c);
                    index += 1;
                }
                Step::Sleep(d) => std::thread::sleep(d),
            }
        }
        // Periodically every key's encoding, in whichever DB is selected.
        if !run.in_multi && index % 97 == 0 {
            for k in ["s0", "s1", "s2", "k0", "k1", "k2", "k3", "lex"] {
                let c = words("encoding", Compare::Exact, &format!("OBJECT ENCODING {k}"));
                run.step(&mut pair, index, &c);
                index += 1;
            }
        }
    }
    let proto = if resp3 { "RESP3" } else { "RESP2" };
    eprintln!(
        "differential {proto} seed {seed}: {} commands compared, per type {:?}",
        run.compared, run.per_group
    );
    assert!(run.compared >= target);
}

#[test]
fn differential_resp2() {
    run_differential(false);
}

#[test]
fn differential_resp3() {
    run_differential(true);
}

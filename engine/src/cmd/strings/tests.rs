//! String command tests. Expected replies and errors were checked against
//! redis-server 7.0.15.

use crate::test_support::{touched, TestEnv, T0_MS};

const OK: &str = "+OK\r\n";
const NIL: &str = "$-1\r\n";
const WRONGTYPE: &str = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}

fn int(i: i64) -> String {
    format!(":{i}\r\n")
}

/// An env with a list at `l` for WRONGTYPE checks.
fn env() -> TestEnv {
    let mut t = TestEnv::new();
    plant_list(&mut t);
    t
}

#[test]
fn get_and_set_basics() {
    let mut t = env();
    assert_eq!(t.cmd("GET k"), NIL);
    assert_eq!(t.cmd("SET k v"), OK);
    assert_eq!(t.cmd("GET k"), bulk("v"));
    assert_eq!(t.propagated(), Vec::<String>::new());
    assert_eq!(t.cmd("SET n 123"), OK);
    assert_eq!(t.cmd("GET n"), bulk("123"));
    assert_eq!(t.cmd("GET l"), WRONGTYPE);
    assert_eq!(t.cmd("SET l x"), OK, "SET overwrites any type");
    assert_eq!(
        t.cmd("GET"),
        "-ERR wrong number of arguments for 'get' command\r\n"
    );
    let mut t3 = TestEnv::resp3();
    assert_eq!(t3.cmd("GET k"), "_\r\n");
    assert_eq!(t3.cmd("SET k v NX GET"), "_\r\n");
}

#[test]
fn set_option_conflicts_and_errors() {
    let mut t = env();
    for bad in [
        "SET k v NX XX",
        "SET k v XX NX",
        "SET k v EX 10 PX 10",
        "SET k v KEEPTTL EX 10",
        "SET k v EX 10 KEEPTTL",
        "SET k v EX",
        "SET k v PERSIST",
        "SET k v FOO",
        "SET k v EXAT 10 PXAT 10",
    ] {
        assert_eq!(t.cmd(bad), SYNTAX, "{bad}");
    }
    let inv = "-ERR invalid expire time in 'set' command\r\n";
    assert_eq!(t.cmd("SET k v EX 0"), inv);
    assert_eq!(t.cmd("SET k v PX -5"), inv);
    assert_eq!(t.cmd("SET k v EX 9223372036854776"), inv);
    assert_eq!(t.cmd("SET k v PX 9223372036854775807"), inv);
    assert_eq!(t.cmd("SET k v EX abc"), NOT_INT);
    assert_eq!(t.cmd("GET k"), NIL, "nothing was written");
    // Repeats are fine.
    assert_eq!(t.cmd("SET k v EX 10 EX 20 NX NX"), OK);
    assert_eq!(t.expire_of("k"), Some(T0_MS + 20_000));
}

#[test]
fn set_nx_xx_get_keepttl() {
    let mut t = env();
    assert_eq!(t.cmd("SET k v XX"), NIL);
    assert_eq!(t.cmd("SET k v NX"), OK);
    assert_eq!(t.cmd("SET k w NX"), NIL);
    assert_eq!(t.cmd("SET k w XX"), OK);
    assert_eq!(t.cmd("SET k x GET"), bulk("w"));
    assert_eq!(t.propagated(), vec!["SET k x"]);
    assert_eq!(
        t.cmd("SET k y NX GET"),
        bulk("x"),
        "NX blocks, GET still replies"
    );
    assert_eq!(t.cmd("GET k"), bulk("x"));
    assert_eq!(t.cmd("SET new v GET"), NIL);
    assert_eq!(t.cmd("SET l v GET"), WRONGTYPE);
    // KEEPTTL keeps, plain SET clears.
    t.cmd("SET k v EX 100");
    assert_eq!(t.cmd("SET k v2 KEEPTTL"), OK);
    assert_eq!(t.expire_of("k"), Some(T0_MS + 100_000));
    assert_eq!(t.cmd("SET k v3"), OK);
    assert_eq!(t.expire_of("k"), Some(0));
    // GET tokens are dropped from the propagated form, values named get are not.
    assert_eq!(t.run(&["set", "k", "get", "GET", "get"]), bulk("v3"));
    assert_eq!(t.propagated(), vec!["set k get"]);
}

#[test]
fn set_expiry_forms_propagate_as_pxat() {
    let mut t = env();
    let at = T0_MS + 10_000;
    for (cmd, expect) in [
        ("SET k v EX 10", at),
        ("SET k v PX 10000", at),
        ("SET k v EXAT 1700000010", at),
        ("SET k v PXAT 1700000010000", at),
        ("SET k v NX EX 10 GET", at),
    ] {
        t.cmd("DEL k");
        let reply = t.cmd(cmd);
        assert!(reply == OK || reply == NIL, "{cmd}: {reply}");
        assert_eq!(t.expire_of("k"), Some(expect), "{cmd}");
        assert_eq!(
            t.propagated(),
            vec![format!("SET k v PXAT {expect}")],
            "{cmd}"
        );
    }
    assert_eq!(t.cmd("SETEX s 10 v"), OK);
    assert_eq!(t.propagated(), vec![format!("SET s v PXAT {at}")]);
    assert_eq!(t.cmd("PSETEX s 10000 v"), OK);
    assert_eq!(t.propagated(), vec![format!("SET s v PXAT {at}")]);
    assert_eq!(
        t.cmd("SETEX s -1 v"),
        "-ERR invalid expire time in 'setex' command\r\n"
    );
    assert_eq!(
        t.cmd("PSETEX s 0 v"),
        "-ERR invalid expire time in 'psetex' command\r\n"
    );
    assert_eq!(t.cmd("SETEX s x v"), NOT_INT);
    // An absolute time in the past is accepted; the key is then gone.
    assert_eq!(t.cmd("SET p v PXAT 1"), OK);
    assert_eq!(t.cmd("GET p"), NIL);
    assert_eq!(t.propagated(), vec!["DEL p"], "lazy expiry propagates DEL");
}

#[test]
fn setnx_mget_mset_msetnx() {
    let mut t = env();
    assert_eq!(t.cmd("SETNX k v"), int(1));
    assert_eq!(t.cmd("SETNX k w"), int(0));
    assert_eq!(t.cmd("MSET a 1 b 2"), OK);
    assert_eq!(t.dirty, 2);
    assert_eq!(
        t.cmd("MGET a b nokey l k"),
        "*5\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n$-1\r\n$1\r\nv\r\n"
    );
    assert_eq!(
        t.cmd("MSET a"),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        t.cmd("MSET a 1 b"),
        "-ERR wrong number of arguments for 'mset' command\r\n"
    );
    assert_eq!(
        t.cmd("MSETNX a 1 b"),
        "-ERR wrong number of arguments for 'msetnx' command\r\n"
    );
    assert_eq!(t.cmd("MSETNX x 1 a 9"), int(0));
    assert_eq!(t.cmd("GET x"), NIL);
    assert_eq!(t.cmd("MSETNX x 1 y 2"), int(1));
    assert_eq!(t.cmd("MGET x y"), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

#[test]
fn getset_getdel_getex() {
    let mut t = env();
    assert_eq!(t.cmd("GETSET k v"), NIL);
    assert_eq!(t.propagated(), vec!["SET k v"]);
    t.cmd("SET k v PX 5000");
    assert_eq!(t.cmd("GETSET k w"), bulk("v"));
    assert_eq!(t.expire_of("k"), Some(0), "GETSET clears the TTL");
    assert_eq!(t.cmd("GETSET l w"), WRONGTYPE);
    assert_eq!(t.cmd("GETDEL k"), bulk("w"));
    assert_eq!(t.propagated(), vec!["DEL k"]);
    assert_eq!(t.cmd("GETDEL k"), NIL);
    assert!(t.propagated().is_empty());
    assert_eq!(t.cmd("GETDEL l"), WRONGTYPE);

    t.cmd("SET k v");
    assert_eq!(t.cmd("GETEX k"), bulk("v"));
    assert!(t.propagated().is_empty());
    assert_eq!(t.cmd("GETEX k EX 50"), bulk("v"));
    assert_eq!(t.expire_of("k"), Some(T0_MS + 50_000));
    assert_eq!(
        t.propagated(),
        vec![format!("PEXPIREAT k {}", T0_MS + 50_000)]
    );
    assert_eq!(t.cmd("GETEX k PERSIST"), bulk("v"));
    assert_eq!(t.propagated(), vec!["PERSIST k"]);
    assert_eq!(t.cmd("GETEX k PERSIST"), bulk("v"));
    assert!(
        t.propagated().is_empty(),
        "no TTL removed, nothing propagated"
    );
    assert_eq!(t.cmd("GETEX k PERSIST EX 10"), SYNTAX);
    assert_eq!(t.cmd("GETEX k NX"), SYNTAX);
    assert_eq!(t.cmd("GETEX k KEEPTTL"), SYNTAX);
    assert_eq!(
        t.cmd("GETEX k EX 0"),
        "-ERR invalid expire time in 'getex' command\r\n"
    );
    assert_eq!(t.cmd("GETEX k EX abc"), NOT_INT);
    assert_eq!(t.cmd("GETEX nokey EX 0"), NIL);
    assert_eq!(t.cmd("GETEX l EX 0"), WRONGTYPE);
    assert_eq!(t.cmd("GETEX k PXAT 1000"), bulk("v"));
    assert_eq!(t.propagated(), vec!["DEL k"]);
    assert!(!t.stored(0, "k"));
    let mut t3 = TestEnv::resp3();
    assert_eq!(t3.cmd("GETEX k"), "_\r\n");
}

#[test]
fn append_strlen_getrange_setrange() {
    let mut t = env();
    assert_eq!(t.cmd("APPEND k abc"), int(3));
    assert_eq!(t.cmd("APPEND k def"), int(6));
    assert_eq!(t.cmd("GET k"), bulk("abcdef"));
    assert_eq!(t.cmd("STRLEN k"), int(6));
    assert_eq!(t.cmd("STRLEN nokey"), int(0));
    assert_eq!(t.cmd("STRLEN l"), WRONGTYPE);
    assert_eq!(t.cmd("APPEND l x"), WRONGTYPE);
    t.cmd("SET n 12");
    assert_eq!(t.cmd("APPEND n 3"), int(3));
    assert_eq!(t.cmd("INCR n"), int(124));
    assert_eq!(t.cmd("STRLEN n"), int(3));

    for (range, want) in [
        ("0 2", "abc"),
        ("-3 -1", "def"),
        ("0 -1", "abcdef"),
        ("-1 -3", ""),
        ("4 100", "ef"),
        ("10 20", ""),
        ("-100 1", "ab"),
        ("3 2", ""),
    ] {
        assert_eq!(t.cmd(&format!("GETRANGE k {range}")), bulk(want), "{range}");
    }
    assert_eq!(t.cmd("SUBSTR k 1 2"), bulk("bc"));
    assert_eq!(t.cmd("GETRANGE n 0 0"), bulk("1"));
    assert_eq!(t.cmd("GETRANGE nokey 0 -1"), bulk(""));
    assert_eq!(t.cmd("GETRANGE k a 1"), NOT_INT);
    assert_eq!(t.cmd("GETRANGE l 0 1"), WRONGTYPE);

    assert_eq!(t.cmd("SETRANGE k 1 XY"), int(6));
    assert_eq!(t.cmd("GET k"), bulk("aXYdef"));
    assert_eq!(t.cmd("SETRANGE z 3 ab"), int(5));
    assert_eq!(t.run_bytes(&[b"GET", b"z"]), b"$5\r\n\0\0\0ab\r\n");
    assert_eq!(t.cmd("SETRANGE e 0 "), int(0));
    assert!(!t.stored(0, "e"), "an empty SETRANGE creates nothing");
    assert_eq!(t.cmd("SETRANGE k 0 "), int(6));
    assert_eq!(t.cmd("SETRANGE k -1 x"), "-ERR offset is out of range\r\n");
    assert_eq!(t.cmd("SETRANGE k x x"), NOT_INT);
    assert_eq!(
        t.cmd("SETRANGE k 536870911 xx"),
        "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"
    );
    assert_eq!(t.cmd("SETRANGE l 0 x"), WRONGTYPE);
    t.cmd("SET ttl v EX 100");
    t.cmd("SETRANGE ttl 0 w");
    t.cmd("APPEND ttl w");
    assert_eq!(t.expire_of("ttl"), Some(T0_MS + 100_000), "TTL kept");
}

#[test]
fn counters() {
    let mut t = env();
    assert_eq!(t.cmd("INCR c"), int(1));
    assert_eq!(t.cmd("INCRBY c 10"), int(11));
    assert_eq!(t.cmd("DECR c"), int(10));
    assert_eq!(t.cmd("DECRBY c 20"), int(-10));
    assert_eq!(t.propagated(), vec!["DECRBY c 20"]);
    assert_eq!(t.cmd("INCRBY c x"), NOT_INT);
    assert_eq!(t.cmd("INCRBY c 1.5"), NOT_INT);
    t.cmd("SET s abc");
    assert_eq!(t.cmd("INCR s"), NOT_INT);
    t.cmd("SET s 007");
    assert_eq!(t.cmd("INCR s"), NOT_INT, "not canonical");
    assert_eq!(t.cmd("INCR l"), WRONGTYPE);
    t.cmd("SET m 9223372036854775807");
    assert_eq!(
        t.cmd("INCR m"),
        "-ERR increment or decrement would overflow\r\n"
    );
    assert_eq!(
        t.cmd("DECRBY m -9223372036854775808"),
        "-ERR decrement would overflow\r\n"
    );
    t.cmd("SET m -9223372036854775808");
    assert_eq!(
        t.cmd("DECR m"),
        "-ERR increment or decrement would overflow\r\n"
    );
    t.cmd("SET ttl 1 EX 100");
    assert_eq!(t.cmd("INCR ttl"), int(2));
    assert_eq!(t.expire_of("ttl"), Some(T0_MS + 100_000), "TTL kept");
}

#[test]
fn incrbyfloat_matches_redis() {
    let mut t = env();
    t.cmd("SET x 0.1");
    assert_eq!(t.cmd("INCRBYFLOAT x 0.2"), bulk("0.3"));
    assert_eq!(t.propagated(), vec!["SET x 0.3 KEEPTTL"]);
    t.cmd("SET x 10.5");
    assert_eq!(t.cmd("INCRBYFLOAT x 0.1"), bulk("10.6"));
    t.cmd("SET x 1000");
    assert_eq!(t.cmd("INCRBYFLOAT x 0.1"), bulk("1000.09999999999999998"));
    assert_eq!(t.cmd("INCRBYFLOAT y 3.0"), bulk("3"));
    assert_eq!(t.cmd("INCRBYFLOAT y 5.0e3"), bulk("5003"));
    assert_eq!(
        t.cmd("INCRBYFLOAT y abc"),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(
        t.cmd("INCRBYFLOAT y inf"),
        "-ERR increment would produce NaN or Infinity\r\n"
    );
    assert_eq!(t.cmd("GET y"), bulk("5003"));
    t.cmd("SET s hello");
    assert_eq!(
        t.cmd("INCRBYFLOAT s 1"),
        "-ERR value is not a valid float\r\n"
    );
    assert_eq!(t.cmd("INCRBYFLOAT l 1"), WRONGTYPE);
    t.cmd("SET ttl 1 EX 100");
    assert_eq!(t.cmd("INCRBYFLOAT ttl 1.5"), bulk("2.5"));
    assert_eq!(t.expire_of("ttl"), Some(T0_MS + 100_000), "TTL kept");
    let mut t3 = TestEnv::resp3();
    assert_eq!(
        t3.cmd("INCRBYFLOAT f 1.5"),
        bulk("1.5"),
        "a bulk string in RESP3 too"
    );
}

#[test]
fn writes_touch_watchers_and_count_dirty() {
    let mut t = env();
    t.cmd("SET k v");
    let w = t.watch(0, "k");
    let other_db = t.watch(1, "k");
    assert_eq!(t.cmd("GET k"), bulk("v"));
    assert_eq!(t.cmd("SET k v NX"), NIL);
    assert!(!touched(&w), "reads and refused writes do not touch");
    assert_eq!(t.dirty, 0);
    t.cmd("APPEND k x");
    assert!(touched(&w));
    assert!(!touched(&other_db));
    assert_eq!(t.dirty, 1);
}

#[test]
fn lazy_expiry_on_read() {
    let mut t = env();
    t.cmd("SET k v PX 100");
    let w = t.watch(0, "k");
    t.now_ms += 99;
    assert_eq!(t.cmd("GET k"), bulk("v"));
    t.now_ms += 1;
    assert_eq!(t.cmd("GET k"), NIL);
    assert!(touched(&w), "expiry touches WATCHers");
    assert_eq!(t.propagated(), vec!["DEL k"]);
    assert!(!t.stored(0, "k"));
}

/// Puts a list at `l` in db 0 (for WRONGTYPE checks).
fn plant_list(t: &mut TestEnv) {
    assert_eq!(t.cmd("LPUSH l a"), ":1\r\n");
}

/// Deterministic commands whose replies must match redis-server byte for byte.
const DIFF_SCRIPT: &[&str] = &[
    "GET k",
    "SET k v",
    "GET k",
    "SET k v NX XX",
    "SET k v EX 10 PX 10",
    "SET k v KEEPTTL EX 10",
    "SET k v EX 0",
    "SET k v EX -1",
    "SET k v EX abc",
    "SET k v EX 9223372036854776",
    "SET k v PX 9223372036854775807",
    "SET k v EX",
    "SET k v PERSIST",
    "SET k v2 GET",
    "SET k v3 NX GET",
    "SET k v3 XX GET",
    "SET nk v XX",
    "SET nk v XX GET",
    "SET k v4 EX 100 EX 200",
    "SET k v5 KEEPTTL",
    "SET k 12345",
    "GET k",
    "SET l x GET",
    "GET l",
    "SET k v PXAT 1",
    "GET k",
    "SET k v EXAT 4102444800",
    "EXPIRETIME k",
    "SET k v PXAT 4102444800123",
    "PEXPIRETIME k",
    "SETNX k x",
    "SETNX sn x",
    "SETEX se -1 v",
    "SETEX se 0 v",
    "SETEX se x v",
    "SETEX se 100 v",
    "PSETEX pse 0 v",
    "PSETEX pse 100000 v",
    "GET se",
    "GET pse",
    "MSET a",
    "MSET a 1 b",
    "MSET a 1 b 2",
    "MGET a b nokey l",
    "MSETNX a 1 c",
    "MSETNX a 1 c 3",
    "MSETNX c 3 d 4",
    "MGET c d",
    "GETSET a 10",
    "GETSET nokey2 x",
    "GETSET l x",
    "GETDEL a",
    "GETDEL a",
    "GETDEL l",
    "GETEX b",
    "GETEX b PERSIST EX 10",
    "GETEX b NX",
    "GETEX b KEEPTTL",
    "GETEX b EX 0",
    "GETEX b EX abc",
    "GETEX nokey EX 0",
    "GETEX l EX 0",
    "GETEX b EX 100",
    "GETEX b PERSIST",
    "GETEX b PXAT 1000",
    "GET b",
    "GETEX c EXAT 4102444800",
    "EXPIRETIME c",
    "APPEND ap abc",
    "APPEND ap def",
    "APPEND l x",
    "STRLEN ap",
    "STRLEN nokey",
    "STRLEN l",
    "SET num 12",
    "APPEND num 3",
    "STRLEN num",
    "INCR num",
    "GETRANGE ap 0 2",
    "GETRANGE ap -3 -1",
    "GETRANGE ap -1 -3",
    "GETRANGE ap 4 100",
    "GETRANGE ap 10 20",
    "GETRANGE ap -100 1",
    "GETRANGE ap 3 2",
    "GETRANGE nokey 0 -1",
    "GETRANGE ap x 1",
    "GETRANGE l 0 1",
    "SUBSTR ap 1 2",
    "GETRANGE num 1 1",
    "SETRANGE ap 1 XY",
    "GET ap",
    "SETRANGE sr 3 ab",
    "GET sr",
    "SETRANGE e 0 ",
    "EXISTS e",
    "SETRANGE ap -1 x",
    "SETRANGE ap x x",
    "SETRANGE ap 536870911 xx",
    "SETRANGE l 0 x",
    "SETRANGE num 0 9",
    "GET num",
    "INCR ctr",
    "INCRBY ctr 10",
    "DECR ctr",
    "DECRBY ctr 20",
    "INCRBY ctr x",
    "INCRBY ctr 1.5",
    "INCR ap",
    "SET s 007",
    "INCR s",
    "INCR l",
    "SET m 9223372036854775807",
    "INCR m",
    "DECRBY m -9223372036854775808",
    "SET m -9223372036854775808",
    "DECR m",
    "SET f 0.1",
    "INCRBYFLOAT f 0.2",
    "SET f 10.5",
    "INCRBYFLOAT f 0.1",
    "SET f 1000",
    "INCRBYFLOAT f 0.1",
    "INCRBYFLOAT f -1000.1",
    "INCRBYFLOAT g 3.0",
    "INCRBYFLOAT g 5.0e3",
    "INCRBYFLOAT g abc",
    "INCRBYFLOAT g inf",
    "INCRBYFLOAT g 0x10",
    "INCRBYFLOAT g 1e300",
    "INCRBYFLOAT g -1e300",
    "INCRBYFLOAT g 1.23456789012345678901",
    "INCRBYFLOAT ap 1",
    "INCRBYFLOAT l 1",
    "INCRBYFLOAT h 1e-18",
    "INCRBYFLOAT h 0.000003814697265625",
    "INCRBYFLOAT big 123456789.123456789",
    "INCRBYFLOAT big 0.000000001",
    "INCRBYFLOAT neg -0.5",
    "INCRBYFLOAT neg 0.5",
    "OBJECT ENCODING ap",
    "OBJECT ENCODING sr",
    "OBJECT ENCODING num",
    "APPEND ap2 x",
    "OBJECT ENCODING ap2",
    "COPY ap apc",
    "OBJECT ENCODING apc",
    "OBJECT ENCODING g",
    "OBJECT ENCODING ctr",
    "GET",
    "SET k",
    "MGET",
    "GETEX",
];

#[test]
fn replies_match_redis_server_resp2() {
    crate::test_support::assert_same_as_redis(false, &["LPUSH l a"], plant_list, DIFF_SCRIPT);
}

#[test]
fn replies_match_redis_server_resp3() {
    crate::test_support::assert_same_as_redis(true, &["LPUSH l a"], plant_list, DIFF_SCRIPT);
}

/// Random INCRBYFLOAT operands of many magnitudes and digit counts give the
/// same printed results as redis-server (x87 long double arithmetic).
#[test]
fn incrbyfloat_random_operands_match_redis_server() {
    use rand::{Rng, SeedableRng};
    let Some(mut real) = crate::test_support::RealRedis::start() else {
        return;
    };
    let mut t = TestEnv::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    let number = |rng: &mut rand::rngs::StdRng| -> String {
        let sign = if rng.gen_bool(0.3) { "-" } else { "" };
        let int_digits: String = (0..rng.gen_range(0..12))
            .map(|_| char::from(b'0' + rng.gen_range(0..10)))
            .collect();
        let frac_digits: String = (0..rng.gen_range(0..25))
            .map(|_| char::from(b'0' + rng.gen_range(0..10)))
            .collect();
        let int_part = if int_digits.is_empty() {
            "0".to_string()
        } else {
            int_digits
        };
        let exp = match rng.gen_range(0..4) {
            0 => format!("e{}", rng.gen_range(-30..30)),
            1 => format!("e{}", rng.gen_range(-300..300)),
            _ => String::new(),
        };
        format!("{sign}{int_part}.{frac_digits}{exp}")
    };
    let mut successes = 0;
    for i in 0..1500 {
        let key = format!("f{}", i % 50);
        let operand = number(&mut rng);
        let args: [&[u8]; 3] = [b"INCRBYFLOAT", key.as_bytes(), operand.as_bytes()];
        let want = real.run(&args);
        let got = t.run_bytes(&args);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "INCRBYFLOAT {key} {operand}"
        );
        successes += usize::from(want.starts_with(b"$"));
    }
    assert!(successes > 1000, "mostly real additions ({successes})");
}

/// LCS on random strings matches redis-server, ranges included.
#[test]
fn lcs_random_strings_match_redis_server() {
    use rand::{Rng, SeedableRng};
    let Some(mut real) = crate::test_support::RealRedis::start() else {
        return;
    };
    let mut t = TestEnv::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x1c5);
    for _ in 0..150 {
        let mut word = || -> String {
            (0..rng.gen_range(0..20))
                .map(|_| char::from(b"abc"[rng.gen_range(0..3)]))
                .collect()
        };
        let (x, y) = (word(), word());
        let min = rng.gen_range(0..4).to_string();
        let cmds: [&[&[u8]]; 4] = [
            &[b"MSET", b"x", x.as_bytes(), b"y", y.as_bytes()],
            &[b"LCS", b"x", b"y"],
            &[
                b"LCS",
                b"x",
                b"y",
                b"IDX",
                b"WITHMATCHLEN",
                b"MINMATCHLEN",
                min.as_bytes(),
            ],
            &[b"LCS", b"y", b"x", b"LEN"],
        ];
        for args in cmds {
            assert_eq!(
                String::from_utf8_lossy(&t.run_bytes(args)),
                String::from_utf8_lossy(&real.run(args)),
                "x={x} y={y} min={min}"
            );
        }
    }
}

#[test]
fn set_over_an_expired_key_propagates_its_del_first() {
    let mut t = env();
    t.cmd("SET k old PX 100");
    t.now_ms += 1_000;
    let expired_before = t
        .stats
        .expired_keys
        .load(std::sync::atomic::Ordering::Relaxed);
    // Plain SET (one lookup) and SET EX behave alike: the expired value is
    // counted and logged as gone before the new one.
    assert_eq!(t.cmd("SET k new"), OK);
    assert_eq!(t.propagated(), vec!["DEL k", "SET k new"]);
    t.cmd("SET k old PX 100");
    t.now_ms += 1_000;
    assert_eq!(t.cmd("SET k new EX 10"), OK);
    let at = t.now_ms + 10_000;
    assert_eq!(
        t.propagated(),
        vec!["DEL k".to_string(), format!("SET k new PXAT {at}")]
    );
    let expired = t
        .stats
        .expired_keys
        .load(std::sync::atomic::Ordering::Relaxed)
        - expired_before;
    assert_eq!(expired, 2);
    // A live key is simply replaced.
    assert_eq!(t.cmd("SET k newer"), OK);
    assert_eq!(t.propagated(), vec!["SET k newer"]);
    assert_eq!(t.cmd("GET k"), bulk("newer"));
}

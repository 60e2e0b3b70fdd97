//! Generic key command tests. Expected replies and errors were checked
//! against redis-server 7.0.15.

use crate::test_support::{decode_resp_commands, touched, TestEnv, T0_MS};

const OK: &str = "+OK\r\n";
const NIL: &str = "$-1\r\n";
const SYNTAX: &str = "-ERR syntax error\r\n";
const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";

fn int(i: i64) -> String {
    format!(":{i}\r\n")
}

fn bulk(s: &str) -> String {
    format!("${}\r\n{}\r\n", s.len(), s)
}

/// Parses a SCAN reply into (cursor, keys).
fn scan_reply(reply: &str) -> (String, Vec<String>) {
    let mut lines = reply.split("\r\n");
    assert_eq!(lines.next(), Some("*2"));
    lines.next();
    let cursor = lines.next().unwrap().to_string();
    let n: usize = lines.next().unwrap()[1..].parse().unwrap();
    let mut keys = Vec::new();
    for _ in 0..n {
        lines.next();
        keys.push(lines.next().unwrap().to_string());
    }
    (cursor, keys)
}

/// Parses an array-of-bulks reply into sorted strings.
fn sorted_array(reply: &str) -> Vec<String> {
    let lines: Vec<&str> = reply.split("\r\n").collect();
    let mut out: Vec<String> = lines[1..]
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| c[1].to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn del_unlink_exists_type_touch() {
    let mut t = TestEnv::new();
    t.cmd("MSET a 1 b 2 c 3");
    assert_eq!(t.cmd("EXISTS a b nokey a"), int(3));
    assert_eq!(t.cmd("TOUCH a nokey"), int(1));
    assert_eq!(t.cmd("TYPE a"), "+string\r\n");
    assert_eq!(t.cmd("TYPE nokey"), "+none\r\n");
    assert_eq!(t.cmd("DEL a b nokey"), int(2));
    assert_eq!(t.dirty, 2);
    assert_eq!(t.propagated(), vec!["DEL a b nokey"]);
    assert_eq!(t.cmd("UNLINK c c"), int(1));
    assert_eq!(t.cmd("DEL nokey"), int(0));
    assert!(
        t.propagated().is_empty(),
        "nothing deleted, nothing propagated"
    );
    assert_eq!(
        t.cmd("EXISTS"),
        "-ERR wrong number of arguments for 'exists' command\r\n"
    );
}

#[test]
fn expire_family_and_ttl() {
    let mut t = TestEnv::new();
    t.cmd("SET k v");
    assert_eq!(t.cmd("TTL k"), int(-1));
    assert_eq!(t.cmd("PTTL k"), int(-1));
    assert_eq!(t.cmd("EXPIRETIME k"), int(-1));
    assert_eq!(t.cmd("TTL nokey"), int(-2));
    assert_eq!(t.cmd("PEXPIRETIME nokey"), int(-2));
    assert_eq!(t.cmd("EXPIRE nokey 10"), int(0));

    assert_eq!(t.cmd("EXPIRE k 100"), int(1));
    assert_eq!(
        t.propagated(),
        vec![format!("PEXPIREAT k {}", T0_MS + 100_000)]
    );
    assert_eq!(t.cmd("TTL k"), int(100));
    t.now_ms += 1_499;
    assert_eq!(
        t.cmd("TTL k"),
        int(99),
        "rounded like Redis: (ms + 500) / 1000"
    );
    assert_eq!(t.cmd("PTTL k"), int(98_501));
    assert_eq!(t.cmd("EXPIRETIME k"), int(1_700_000_100));
    assert_eq!(t.cmd("PEXPIRETIME k"), int(1_700_000_100_000));
    t.now_ms = T0_MS;

    assert_eq!(t.cmd("PEXPIRE k 5000"), int(1));
    assert_eq!(
        t.propagated(),
        vec![format!("PEXPIREAT k {}", T0_MS + 5_000)]
    );
    assert_eq!(t.cmd("EXPIREAT k 1800000000"), int(1));
    assert_eq!(t.propagated(), vec!["PEXPIREAT k 1800000000000"]);
    assert_eq!(t.cmd("PEXPIREAT k 1800000000001 XX"), int(1));
    assert_eq!(
        t.propagated(),
        vec!["PEXPIREAT k 1800000000001 XX"],
        "kept as sent"
    );
    assert_eq!(t.expire_of("k"), Some(1_800_000_000_001));

    assert_eq!(t.cmd("PERSIST k"), int(1));
    assert_eq!(t.cmd("PERSIST k"), int(0));
    assert_eq!(t.cmd("PERSIST nokey"), int(0));
    assert_eq!(t.cmd("TTL k"), int(-1));
}

#[test]
fn expire_options() {
    let mut t = TestEnv::new();
    t.cmd("SET k v");
    assert_eq!(t.cmd("EXPIRE k 100 XX"), int(0), "XX needs an existing TTL");
    assert_eq!(
        t.cmd("EXPIRE k 100 GT"),
        int(0),
        "no TTL is infinite: GT fails"
    );
    assert_eq!(
        t.cmd("EXPIRE k 100 LT"),
        int(1),
        "no TTL is infinite: LT passes"
    );
    assert_eq!(t.cmd("EXPIRE k 50 NX"), int(0));
    assert_eq!(t.cmd("EXPIRE k 200 LT"), int(0));
    assert_eq!(t.cmd("EXPIRE k 200 gt"), int(1));
    assert_eq!(t.cmd("EXPIRE k 200 GT"), int(0), "equal is not greater");
    assert_eq!(t.cmd("EXPIRE k 150 XX LT"), int(1));
    assert_eq!(t.expire_of("k"), Some(T0_MS + 150_000));
    assert_eq!(
        t.cmd("EXPIRE k 10 NX XX"),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        t.cmd("EXPIRE k 10 NX GT"),
        "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"
    );
    assert_eq!(
        t.cmd("EXPIRE k 10 GT LT"),
        "-ERR GT and LT options at the same time are not compatible\r\n"
    );
    assert_eq!(t.cmd("EXPIRE k 10 foo"), "-ERR Unsupported option foo\r\n");
    assert_eq!(t.cmd("EXPIRE k abc"), NOT_INT);
    assert_eq!(
        t.cmd("EXPIRE k 9223372036854775807"),
        "-ERR invalid expire time in 'expire' command\r\n"
    );
    assert_eq!(
        t.cmd("PEXPIRE k 9223372036854775807"),
        "-ERR invalid expire time in 'pexpire' command\r\n"
    );
    assert_eq!(
        t.expire_of("k"),
        Some(T0_MS + 150_000),
        "errors change nothing"
    );
}

#[test]
fn expire_in_the_past_deletes() {
    let mut t = TestEnv::new();
    t.cmd("SET k v");
    let w = t.watch(0, "k");
    assert_eq!(t.cmd("EXPIRE k -1"), int(1));
    assert_eq!(t.propagated(), vec!["DEL k"]);
    assert!(touched(&w));
    assert!(!t.stored(0, "k"));
    t.cmd("SET k v");
    assert_eq!(t.cmd("PEXPIREAT k 1"), int(1));
    assert_eq!(t.propagated(), vec!["DEL k"]);
    t.cmd("SET k v");
    assert_eq!(
        t.cmd(&format!("PEXPIREAT k {T0_MS}")),
        int(1),
        "now counts as past"
    );
    assert_eq!(t.cmd("EXISTS k"), int(0));
}

#[test]
fn keys_and_patterns() {
    let mut t = TestEnv::new();
    t.cmd("MSET hello 1 hallo 2 hxllo 3 world 4");
    t.run(&["SET", "", "empty"]);
    t.cmd("SET gone v PX 10");
    t.now_ms += 10;
    assert_eq!(
        sorted_array(&t.cmd("KEYS h?llo")),
        ["hallo", "hello", "hxllo"]
    );
    assert_eq!(sorted_array(&t.cmd("KEYS h[ae]llo")), ["hallo", "hello"]);
    assert_eq!(
        sorted_array(&t.cmd("KEYS *")),
        ["", "hallo", "hello", "hxllo", "world"]
    );
    assert_eq!(t.cmd("KEYS nothing*"), "*0\r\n");
    assert!(
        t.stored(0, "gone"),
        "KEYS skips expired keys without deleting them"
    );
    t.db = 1;
    assert_eq!(t.cmd("KEYS *"), "*0\r\n");
}

#[test]
fn scan_visits_every_key_once() {
    let mut t = TestEnv::new();
    let n = 500;
    for i in 0..n {
        t.cmd(&format!("SET key:{i} v"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    let mut calls = 0;
    loop {
        let (next, keys) = scan_reply(&t.cmd(&format!("SCAN {cursor} COUNT 20")));
        calls += 1;
        for k in keys {
            assert!(seen.insert(k), "no key twice");
        }
        if next == "0" {
            break;
        }
        cursor = next;
    }
    assert_eq!(seen.len(), n);
    assert!(calls > 10, "COUNT bounds each call ({calls} calls)");
}

#[test]
fn scan_options_and_errors() {
    let mut t = TestEnv::new();
    t.cmd("MSET a1 1 a2 2 b1 3");
    let (cursor, mut keys) = scan_reply(&t.cmd("SCAN 0 MATCH a* COUNT 1000"));
    keys.sort();
    assert_eq!(
        (cursor.as_str(), keys),
        ("0", vec!["a1".to_string(), "a2".to_string()])
    );
    assert_eq!(
        scan_reply(&t.cmd("SCAN 0 TYPE STRING COUNT 1000")).1.len(),
        3
    );
    assert_eq!(scan_reply(&t.cmd("SCAN 0 TYPE list COUNT 1000")).1.len(), 0);
    assert_eq!(
        scan_reply(&t.cmd("SCAN 0 TYPE nosuchtype COUNT 1000"))
            .1
            .len(),
        0
    );
    assert_eq!(t.cmd("SCAN 99999"), "*2\r\n$1\r\n0\r\n*0\r\n");
    assert_eq!(t.cmd("SCAN abc"), "-ERR invalid cursor\r\n");
    assert_eq!(t.cmd("SCAN 0 COUNT 0"), SYNTAX);
    assert_eq!(t.cmd("SCAN 0 COUNT -1"), SYNTAX);
    assert_eq!(t.cmd("SCAN 0 COUNT x"), NOT_INT);
    assert_eq!(t.cmd("SCAN 0 MATCH"), SYNTAX);
    assert_eq!(t.cmd("SCAN 0 FOO bar"), SYNTAX);
    // Expired keys met by SCAN are deleted and propagated.
    t.cmd("SET e v PX 5");
    t.now_ms += 5;
    let (_, keys) = scan_reply(&t.cmd("SCAN 0 COUNT 1000"));
    assert!(!keys.contains(&"e".to_string()));
    assert_eq!(t.propagated(), vec!["DEL e"]);
    assert!(!t.stored(0, "e"));
}

#[test]
fn randomkey_dbsize() {
    let mut t = TestEnv::new();
    assert_eq!(t.cmd("RANDOMKEY"), NIL);
    assert_eq!(t.cmd("DBSIZE"), int(0));
    t.cmd("MSET a 1 b 2");
    let k = t.cmd("RANDOMKEY");
    assert!(k == bulk("a") || k == bulk("b"), "{k}");
    assert_eq!(t.cmd("DBSIZE"), int(2));
    t.db = 3;
    assert_eq!(t.cmd("DBSIZE"), int(0));
    let mut t3 = TestEnv::resp3();
    assert_eq!(t3.cmd("RANDOMKEY"), "_\r\n");
}

#[test]
fn rename_and_renamenx() {
    let mut t = TestEnv::new();
    assert_eq!(t.cmd("RENAME nokey x"), "-ERR no such key\r\n");
    assert_eq!(t.cmd("RENAMENX nokey x"), "-ERR no such key\r\n");
    t.cmd("SET a 1 EX 100");
    assert_eq!(t.cmd("RENAME a a"), OK);
    assert_eq!(t.cmd("RENAMENX a a"), int(0));
    let wa = t.watch(0, "a");
    let wb = t.watch(0, "b");
    assert_eq!(t.cmd("RENAME a b"), OK);
    assert_eq!(t.dirty, 1);
    assert!(touched(&wa) && touched(&wb));
    assert_eq!(
        t.expire_of("b"),
        Some(T0_MS + 100_000),
        "TTL moves with the key"
    );
    assert_eq!(t.cmd("GET b"), bulk("1"));
    t.cmd("SET c 2");
    assert_eq!(t.cmd("RENAMENX b c"), int(0));
    assert_eq!(t.cmd("RENAMENX b d"), int(1));
    assert_eq!(t.cmd("RENAME d c"), OK, "RENAME overwrites");
    assert_eq!(t.cmd("GET c"), bulk("1"));
    assert_eq!(t.cmd("EXISTS b d"), int(0));
}

#[test]
fn copy_between_keys_and_dbs() {
    let mut t = TestEnv::new();
    t.cmd("SET k v EX 100");
    assert_eq!(
        t.cmd("COPY k k"),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(
        t.cmd("COPY k k2 DB 99"),
        "-ERR DB index is out of range\r\n"
    );
    assert_eq!(t.cmd("COPY k k2 DB abc"), NOT_INT);
    assert_eq!(t.cmd("COPY k k2 foo"), SYNTAX);
    assert_eq!(t.cmd("COPY k k2 REPLACE DB"), SYNTAX);
    assert_eq!(t.cmd("COPY nokey k2"), int(0));
    assert_eq!(t.cmd("COPY k k2"), int(1));
    assert_eq!(t.expire_of("k2"), Some(T0_MS + 100_000), "TTL is copied");
    t.cmd("SET k v2");
    assert_eq!(t.cmd("COPY k k2"), int(0));
    assert_eq!(t.cmd("COPY k k2 REPLACE"), int(1));
    assert_eq!(t.cmd("GET k2"), bulk("v2"));
    let w1 = t.watch(1, "k");
    assert_eq!(t.cmd("COPY k k DB 1"), int(1));
    assert!(touched(&w1));
    assert!(t.stored(1, "k"));
    assert_eq!(t.propagated(), vec!["COPY k k DB 1"]);
}

#[test]
fn move_between_dbs() {
    let mut t = TestEnv::new();
    t.cmd("SET k v EX 100");
    assert_eq!(
        t.cmd("MOVE k 0"),
        "-ERR source and destination objects are the same\r\n"
    );
    assert_eq!(t.cmd("MOVE k 99"), "-ERR DB index is out of range\r\n");
    assert_eq!(t.cmd("MOVE k -1"), "-ERR DB index is out of range\r\n");
    assert_eq!(t.cmd("MOVE k abc"), NOT_INT);
    assert_eq!(t.cmd("MOVE nokey 1"), int(0));
    let w0 = t.watch(0, "k");
    let w1 = t.watch(1, "k");
    assert_eq!(t.cmd("MOVE k 1"), int(1));
    assert_eq!(t.dirty, 1);
    assert!(touched(&w0) && touched(&w1));
    assert!(!t.stored(0, "k"));
    t.db = 1;
    assert_eq!(t.expire_of("k"), Some(T0_MS + 100_000));
    t.db = 0;
    t.cmd("SET k other");
    assert_eq!(t.cmd("MOVE k 1"), int(0), "target exists");
    assert!(t.stored(0, "k"));
}

#[test]
fn swapdb_swaps_and_touches_watchers() {
    let mut t = TestEnv::new();
    t.cmd("SET a in0");
    t.db = 1;
    t.cmd("SET b in1");
    t.db = 0;
    let wa0 = t.watch(0, "a"); // exists in 0
    let wb0 = t.watch(0, "b"); // exists in 1, will appear in 0
    let wc0 = t.watch(0, "c"); // exists nowhere
    let wc2 = t.watch(2, "a"); // other database
    assert_eq!(t.cmd("SWAPDB 0 1"), OK);
    assert_eq!(t.propagated(), vec!["SWAPDB 0 1"]);
    assert!(touched(&wa0) && touched(&wb0));
    assert!(!touched(&wc0) && !touched(&wc2));
    assert_eq!(t.cmd("GET b"), bulk("in1"));
    assert_eq!(t.cmd("GET a"), NIL);
    assert_eq!(t.cmd("SWAPDB 0 99"), "-ERR DB index is out of range\r\n");
    assert_eq!(t.cmd("SWAPDB -1 0"), "-ERR DB index is out of range\r\n");
    assert_eq!(t.cmd("SWAPDB a 1"), "-ERR invalid first DB index\r\n");
    assert_eq!(t.cmd("SWAPDB 0 a"), "-ERR invalid second DB index\r\n");
    assert_eq!(t.cmd("SWAPDB 2 2"), OK);
}

#[test]
fn flushdb_and_flushall() {
    let mut t = TestEnv::new();
    t.cmd("MSET a 1 b 2");
    t.db = 1;
    t.cmd("SET c 3");
    t.db = 0;
    let wa = t.watch(0, "a");
    let wx = t.watch(0, "x");
    let wc = t.watch(1, "c");
    assert_eq!(t.cmd("FLUSHDB foo"), SYNTAX);
    assert_eq!(t.cmd("FLUSHDB SYNC ASYNC"), SYNTAX);
    assert_eq!(t.cmd("FLUSHDB"), OK);
    assert_eq!(t.dirty, 2);
    assert!(touched(&wa) && !touched(&wx) && !touched(&wc));
    assert_eq!(t.cmd("DBSIZE"), int(0));
    assert_eq!(t.cmd("FLUSHDB async"), OK);
    assert_eq!(
        t.propagated(),
        vec!["FLUSHDB async"],
        "propagated even when empty"
    );
    assert_eq!(t.cmd("FLUSHALL foo"), SYNTAX);
    assert_eq!(t.cmd("FLUSHALL ASYNC"), OK);
    assert!(touched(&wc));
    assert_eq!(t.dirty, 2);
    assert_eq!(t.propagated(), vec!["FLUSHALL ASYNC"]);
    assert!(!t.stored(1, "c"));
}

#[test]
fn object_subcommands() {
    let mut t = TestEnv::new();
    t.cmd("SET i 100");
    t.cmd("SET big 10000");
    t.cmd("SET s abc");
    t.run(&["SET", "long", &"x".repeat(45)]);
    assert_eq!(t.cmd("OBJECT ENCODING i"), bulk("int"));
    assert_eq!(t.cmd("OBJECT encoding s"), bulk("embstr"));
    assert_eq!(t.cmd("OBJECT ENCODING long"), bulk("raw"));
    assert_eq!(t.cmd("OBJECT ENCODING nokey"), NIL);
    assert_eq!(t.cmd("OBJECT REFCOUNT i"), int(2147483647));
    assert_eq!(t.cmd("OBJECT REFCOUNT big"), int(1));
    assert_eq!(t.cmd("OBJECT IDLETIME s"), int(0));
    assert!(t
        .cmd("OBJECT FREQ s")
        .starts_with("-ERR An LFU maxmemory policy is not selected"));
    assert_eq!(t.cmd("OBJECT FREQ nokey"), NIL);
    assert_eq!(
        t.cmd("OBJECT ENCODING"),
        "-ERR wrong number of arguments for 'object|encoding' command\r\n"
    );
    assert_eq!(
        t.cmd("OBJECT ENCODING s extra"),
        "-ERR wrong number of arguments for 'object|encoding' command\r\n"
    );
    assert_eq!(
        t.cmd("OBJECT foo"),
        "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n"
    );
    let help = t.cmd("OBJECT HELP");
    assert!(help.starts_with(
        "*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"
    ));
    assert_eq!(
        t.cmd("OBJECT"),
        "-ERR wrong number of arguments for 'object' command\r\n"
    );
}

#[test]
fn global_commands_work_inside_exec_with_all_slots_held() {
    use crate::exec::{ExecCtx, Locks, Propagation};
    use crate::reply::ReplyWriter;
    let mut t = TestEnv::new();
    t.cmd("MSET a 1 b 2");
    let mut out = ReplyWriter::default();
    let mut prop = Propagation::default();
    let locks = Locks::all(&t.ks);
    let mut ctx = ExecCtx::new(&t.ks, 0, &mut out, &t.stats, &mut prop, locks);
    for cmd in [
        &["DBSIZE"][..],
        &["KEYS", "a"],
        &["SCAN", "0", "COUNT", "100"],
        &["SET", "c", "3"],
        &["SWAPDB", "0", "1"],
        &["FLUSHALL"],
    ] {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        let spec = crate::test_support::spec_of(args[0]).unwrap();
        ctx.run_at(spec, &args, T0_MS);
    }
    drop(ctx);
    let replies = String::from_utf8_lossy(out.bytes()).into_owned();
    assert!(
        replies.starts_with(":2\r\n*1\r\n$1\r\na\r\n*2\r\n$1\r\n0\r\n*2\r\n"),
        "{replies}"
    );
    assert!(replies.ends_with("+OK\r\n+OK\r\n+OK\r\n"), "{replies}");
    let cmds = decode_resp_commands(&prop.buf);
    assert_eq!(cmds.len(), 3);
    assert_eq!(t.ks.db_len(0) + t.ks.db_len(1), 0);
}

/// Puts a list at `l` in db 0 (for WRONGTYPE checks).
fn plant_list(t: &mut TestEnv) {
    assert_eq!(t.cmd("LPUSH l a"), ":1\r\n");
}

/// Deterministic commands whose replies must match redis-server byte for byte.
const DIFF_SCRIPT: &[&str] = &[
    "MSET a 1 b 2 c 3",
    "EXISTS a b nokey a",
    "TOUCH a nokey",
    "TYPE a",
    "TYPE l",
    "TYPE nokey",
    "DEL a b nokey",
    "UNLINK c c",
    "DEL nokey",
    "EXISTS",
    "SET k v",
    "TTL k",
    "PTTL k",
    "EXPIRETIME k",
    "PEXPIRETIME k",
    "TTL nokey",
    "PEXPIRETIME nokey",
    "EXPIRE nokey 10",
    "EXPIRE k 100 XX",
    "EXPIRE k 100 GT",
    "EXPIRE k 100 LT",
    "EXPIRE k 50 NX",
    "EXPIRE k 200 LT",
    "EXPIRE k 200 gt",
    "EXPIRE k 10 NX XX",
    "EXPIRE k 10 NX GT",
    "EXPIRE k 10 GT LT",
    "EXPIRE k 10 foo",
    "EXPIRE k abc",
    "EXPIRE k 9223372036854775807",
    "PEXPIRE k 9223372036854775807",
    "EXPIREAT k 9223372036854775807",
    "EXPIREAT k 4102444800",
    "EXPIRETIME k",
    "PEXPIRETIME k",
    "PEXPIREAT k 4102444800123 XX",
    "PEXPIRETIME k",
    "PEXPIREAT k 4102444800000 LT",
    "EXPIRETIME k",
    "PERSIST k",
    "PERSIST k",
    "PERSIST nokey",
    "TTL k",
    "EXPIRE k -1",
    "EXISTS k",
    "SET k v",
    "PEXPIREAT k 1",
    "EXISTS k",
    "SET k v",
    "EXPIREAT k 0 NX",
    "EXISTS k",
    "MSET hello 1 hallo 2 world 4",
    "KEYS hel*",
    "KEYS h[^a]llo",
    "KEYS w?rld",
    "KEYS nothing*",
    "SCAN abc",
    "SCAN 0 COUNT 0",
    "SCAN 0 COUNT -1",
    "SCAN 0 COUNT x",
    "SCAN 0 MATCH",
    "SCAN 0 FOO bar",
    "SCAN 0 MATCH nothing* COUNT 1000",
    "SCAN 0 TYPE nosuch COUNT 1000",
    "RENAME nokey x",
    "RENAMENX nokey x",
    "SET r 1",
    "RENAME r r",
    "RENAMENX r r",
    "RENAME r r2",
    "GET r2",
    "SET r3 x",
    "RENAMENX r2 r3",
    "RENAMENX r2 r4",
    "RENAME r4 r3",
    "GET r3",
    "COPY r3 r3",
    "COPY r3 c2 DB 99",
    "COPY r3 c2 DB abc",
    "COPY r3 c2 foo",
    "COPY r3 c2 REPLACE DB",
    "COPY nokey c2",
    "COPY r3 c2",
    "COPY r3 c2",
    "COPY r3 c2 REPLACE",
    "COPY r3 r3 DB 1",
    "MOVE r3 0",
    "MOVE r3 99",
    "MOVE r3 -1",
    "MOVE r3 abc",
    "MOVE nokey 1",
    "MOVE r3 1",
    "MOVE c2 1",
    "EXISTS r3 c2",
    "SELECT 1",
    "SWAPDB 0 99",
    "SWAPDB -1 0",
    "SWAPDB a 1",
    "SWAPDB 0 a",
    "SWAPDB 2 2",
    "DBSIZE",
    "FLUSHDB foo",
    "FLUSHDB SYNC ASYNC",
    "FLUSHALL foo",
    "SET i 100",
    "SET i2 10000",
    "SET s abc",
    "OBJECT ENCODING i",
    "OBJECT encoding s",
    "OBJECT ENCODING nokey",
    "OBJECT REFCOUNT i",
    "OBJECT REFCOUNT i2",
    "OBJECT REFCOUNT s",
    "OBJECT FREQ s",
    "OBJECT FREQ nokey",
    "OBJECT ENCODING",
    "OBJECT ENCODING s extra",
    "OBJECT foo",
    "OBJECT HELP",
    "OBJECT HELP x",
    "OBJECT",
    "OBJECT ENCODING l",
    "FLUSHDB",
    "DBSIZE",
    "RANDOMKEY",
    "SET only v",
    "RANDOMKEY",
    "FLUSHALL ASYNC",
    "DBSIZE",
];

/// SELECT belongs to the server; these runs skip it and compare the rest.
fn script_without_select() -> Vec<&'static str> {
    DIFF_SCRIPT
        .iter()
        .copied()
        .filter(|l| !l.starts_with("SELECT"))
        .collect()
}

#[test]
fn replies_match_redis_server_resp2() {
    crate::test_support::assert_same_as_redis(
        false,
        &["LPUSH l a"],
        plant_list,
        &script_without_select(),
    );
}

#[test]
fn replies_match_redis_server_resp3() {
    crate::test_support::assert_same_as_redis(
        true,
        &["LPUSH l a"],
        plant_list,
        &script_without_select(),
    );
}

#[test]
fn keys_arriving_with_lists_are_signalled_ready() {
    let mut t = TestEnv::new();
    plant_list(&mut t);
    assert_eq!(t.cmd("RENAME l l2"), OK);
    assert_eq!(t.ready, vec![(0, "l2".to_string())]);
    assert_eq!(t.cmd("COPY l2 l3 DB 2"), int(1));
    assert_eq!(t.ready, vec![(2, "l3".to_string())]);
    assert_eq!(t.cmd("MOVE l2 5"), int(1));
    assert_eq!(t.ready, vec![(5, "l2".to_string())]);
    t.cmd("SET s v");
    t.cmd("RENAME s s2");
    assert!(t.ready.is_empty(), "strings wake nobody");
}

#[test]
fn flushall_async_frees_off_thread_and_empties_now() {
    let mut t = TestEnv::new();
    for i in 0..1000 {
        t.cmd(&format!("SET k{i} v"));
    }
    assert_eq!(t.cmd("FLUSHALL ASYNC"), OK);
    assert_eq!(t.dirty, 1001);
    assert_eq!(t.cmd("DBSIZE"), int(0));
}

/// Replaces absolute Unix-ms timestamps (which depend on the clock) by `<ms>`.
fn mask_times(cmd: &[String]) -> String {
    cmd.iter()
        .map(|a| {
            if a.len() >= 12 && a.bytes().all(|b| b.is_ascii_digit()) && a != "4102444800000" {
                "<ms>".to_string()
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The propagated (AOF) form of string and key commands matches what
/// redis-server 7.0 writes to its AOF, timestamps aside.
#[test]
fn propagation_matches_redis_server_aof() {
    use crate::test_support::RealRedis;
    let script = [
        "set plain hello",
        "set k_ex v EX 100",
        "set k_px v PX 100000",
        "setex k_setex 100 v",
        "psetex k_psetex 100000 v",
        "set k_get v GET",
        "set k_get v2 get NX",
        "set k_get2 v GET XX",
        "set k_at v EXAT 4102444800",
        "set k_at v KEEPTTL",
        "set k_nx v NX",
        "setnx k_nx w",
        "expire k_ex 100",
        "pexpire k_ex 100000",
        "expireat k_ex 4102444800",
        "pexpireat k_ex 4102444800000 XX",
        "expire k_ex 10 NX",
        "getex k_ex EX 50",
        "getex k_ex PERSIST",
        "getex k_ex PERSIST",
        "getex k_ex",
        "incrbyfloat f 1.5",
        "incrbyfloat f abc",
        "getset plain x",
        "getdel plain",
        "getdel plain",
        "expire k_px -1",
        "getex k_setex PXAT 1",
        "incr c",
        "decrby c 5",
        "mset a 1 b 2",
        "msetnx a 1 z 2",
        "msetnx y 1 z 2",
        "append ap x",
        "setrange ap 3 y",
        "del a b nokey",
        "unlink y",
        "rename b2 x",
        "set b2 v",
        "rename b2 b3",
        "renamenx b3 z",
        "copy b3 b4",
        "copy b3 b4",
        "copy b3 b4 REPLACE DB 2",
        "move b4 3",
        "persist k_at",
        "persist k_at",
        "swapdb 0 1",
        "swapdb 0 1",
        "flushdb",
        "flushdb",
        "set last v",
        "flushall sync",
    ];
    let Some(mut real) = RealRedis::start_with(&["--appendonly", "yes", "--appendfsync", "always"])
    else {
        return;
    };
    let mut t = TestEnv::new();
    t.now_ms = crate::clock::now_ms();
    let mut ours = Vec::new();
    for line in script {
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        let want = real.run(&args);
        let got = t.run_bytes(&args);
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want),
            "{line}"
        );
        ours.extend(
            decode_resp_commands(&t.prop.buf)
                .iter()
                .map(|c| mask_times(c)),
        );
    }
    let theirs: Vec<String> = real
        .aof_commands()
        .iter()
        .filter(|c| !c[0].eq_ignore_ascii_case("select"))
        .map(|c| mask_times(c))
        .collect();
    assert_eq!(ours, theirs);
    assert!(ours.len() >= 40, "{ours:#?}");
    assert!(ours.contains(&"SET k_ex v PXAT <ms>".to_string()));
}

#[test]
fn full_scan_returns_the_same_keys_as_redis_server() {
    use crate::test_support::RealRedis;
    let Some(mut real) = RealRedis::start() else {
        return;
    };
    let mut t = TestEnv::new();
    for i in 0..300 {
        let line = format!("SET user:{i} v");
        let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
        real.run(&args);
        t.run_bytes(&args);
    }
    let full_scan = |run: &mut dyn FnMut(&[&[u8]]) -> Vec<u8>| {
        let mut cursor = "0".to_string();
        let mut keys = Vec::new();
        loop {
            let line = format!("SCAN {cursor} MATCH user:1* COUNT 7");
            let args: Vec<&[u8]> = line.split(' ').map(str::as_bytes).collect();
            let (next, mut batch) = scan_reply(&String::from_utf8_lossy(&run(&args)));
            keys.append(&mut batch);
            if next == "0" {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys
    };
    let theirs = full_scan(&mut |a| real.run(a));
    let ours = full_scan(&mut |a| t.run_bytes(a));
    assert_eq!(theirs.len(), 111);
    assert_eq!(ours, theirs);
}

/// Random glob patterns select the same keys as redis-server's KEYS.
#[test]
fn random_patterns_match_redis_server_keys() {
    use rand::{Rng, SeedableRng};
    let Some(mut real) = crate::test_support::RealRedis::start() else {
        return;
    };
    let mut t = TestEnv::new();
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x610b);
    let key_alphabet = b"abAB-]^\\*?[";
    for _ in 0..200 {
        let key: Vec<u8> = (0..rng.gen_range(1..7))
            .map(|_| key_alphabet[rng.gen_range(0..key_alphabet.len())])
            .collect();
        let args: [&[u8]; 3] = [b"SET", &key, b"v"];
        real.run(&args);
        t.run_bytes(&args);
    }
    let pattern_alphabet = b"abAB*?[]^-\\";
    let mut nonempty = 0;
    for _ in 0..400 {
        let pattern: Vec<u8> = (0..rng.gen_range(1..8))
            .map(|_| pattern_alphabet[rng.gen_range(0..pattern_alphabet.len())])
            .collect();
        let args: [&[u8]; 2] = [b"KEYS", &pattern];
        let theirs = sorted_array(&String::from_utf8_lossy(&real.run(&args)));
        let ours = sorted_array(&String::from_utf8_lossy(&t.run_bytes(&args)));
        assert_eq!(ours, theirs, "KEYS {}", String::from_utf8_lossy(&pattern));
        nonempty += usize::from(!theirs.is_empty());
    }
    assert!(nonempty > 50, "patterns select something ({nonempty})");
}

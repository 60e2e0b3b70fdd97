//! Interoperability of the RDB codec with the real Redis 7.0 binaries:
//! files we write must pass `redis-check-rdb` and load into redis-server
//! with exactly the same data, and files redis-server writes must decode to
//! exactly what the server holds. These tests need /usr/bin/redis-server and
//! fail (never skip) when it is missing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ringkv_engine::keyspace::{Entry, NO_EXPIRY};
use ringkv_engine::rdb::{self, AuxInfo, RdbReader, RdbWriteOptions, RdbWriter};
use ringkv_engine::types::{HashValue, ListValue, SetValue, ZSetValue};
use ringkv_engine::value::Value;

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const REDIS_CHECK_RDB: &str = "/usr/bin/redis-check-rdb";
/// 2100-01-01 plus a few ms: far enough in the future never to expire.
const FUTURE_MS: u64 = 4_102_444_800_123;

// ---------- a real redis-server on a unix socket ----------

struct RedisServer {
    child: Child,
    socket: PathBuf,
    dir: PathBuf,
}

impl RedisServer {
    /// Starts redis-server loading `dir/dbfilename` if it exists.
    fn start(dir: &Path, dbfilename: &str) -> RedisServer {
        RedisServer::start_with(dir, dbfilename, &[])
    }

    fn start_with(dir: &Path, dbfilename: &str, extra_args: &[&str]) -> RedisServer {
        assert!(
            Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is required by the RDB interop tests (apt-get install redis-server)"
        );
        let socket = dir.join("redis.sock");
        let child = Command::new(REDIS_SERVER)
            .args(["--port", "0", "--unixsocket"])
            .arg(&socket)
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir)
            .args(["--dbfilename", dbfilename, "--daemonize", "no"])
            .args(["--logfile"])
            .arg(dir.join("redis.log"))
            .args(extra_args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let mut server = RedisServer {
            child,
            socket,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(mut c) = server.try_connect() {
                if matches!(c.cmd(&[b"PING"]), Reply::Simple(ref s) if s == "PONG") {
                    break;
                }
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("redis-server exited with {status}: {}", server.log());
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }

    fn try_connect(&self) -> std::io::Result<Conn> {
        let stream = UnixStream::connect(&self.socket)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    fn connect(&self) -> Conn {
        self.try_connect().expect("connect to redis-server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    fn bytes(self) -> Vec<u8> {
        match self {
            Reply::Bulk(Some(b)) => b,
            other => panic!("expected a bulk string, got {other:?}"),
        }
    }
    fn int(self) -> i64 {
        match self {
            Reply::Int(i) => i,
            other => panic!("expected an integer, got {other:?}"),
        }
    }
    fn array(self) -> Vec<Reply> {
        match self {
            Reply::Array(Some(a)) => a,
            other => panic!("expected an array, got {other:?}"),
        }
    }
}

/// A minimal RESP2 client: enough to populate and inspect a server
/// binary-safely.
struct Conn {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Conn {
    fn cmd(&mut self, args: &[&[u8]]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&out).unwrap();
        self.read_reply()
    }

    fn ok(&mut self, args: &[&[u8]]) -> Reply {
        let r = self.cmd(args);
        if let Reply::Error(e) = &r {
            panic!("{:?} failed: {e}", String::from_utf8_lossy(args[0]));
        }
        r
    }

    fn read_line(&mut self) -> Vec<u8> {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).unwrap();
        assert!(line.ends_with(b"\r\n"), "bad RESP line {line:?}");
        line.truncate(line.len() - 2);
        line
    }

    fn read_reply(&mut self) -> Reply {
        let line = self.read_line();
        let rest = String::from_utf8_lossy(&line[1..]).into_owned();
        match line[0] {
            b'+' => Reply::Simple(rest),
            b'-' => Reply::Error(rest),
            b':' => Reply::Int(rest.parse().unwrap()),
            b'$' => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Bulk(None);
                }
                let mut buf = vec![0; n as usize + 2];
                std::io::Read::read_exact(&mut self.reader, &mut buf).unwrap();
                buf.truncate(n as usize);
                Reply::Bulk(Some(buf))
            }
            b'*' => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Reply::Array(None);
                }
                Reply::Array(Some((0..n).map(|_| self.read_reply()).collect()))
            }
            other => panic!("unexpected RESP type byte {other}"),
        }
    }
}

// ---------- a comparable form of a value ----------

#[derive(Debug, Clone, PartialEq)]
enum Canon {
    Str(Vec<u8>),
    List(Vec<Vec<u8>>),
    Set(BTreeSet<Vec<u8>>),
    /// Ascending (score, member), as ZRANGE returns it.
    ZSet(Vec<(Vec<u8>, f64)>),
    Hash(BTreeMap<Vec<u8>, Vec<u8>>),
}

fn canon(v: &Value) -> Canon {
    match v {
        Value::Int(i) => Canon::Str(i.to_string().into_bytes()),
        Value::Str(s) => Canon::Str(s.to_vec()),
        Value::List(l) => Canon::List(l.iter().map(|e| e.to_vec()).collect()),
        Value::Set(s) => Canon::Set(s.iter().map(|m| m.to_vec()).collect()),
        Value::ZSet(z) => Canon::ZSet(z.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        Value::Hash(h) => Canon::Hash(h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect()),
    }
}

/// One key as (database, key, entry).
type Item = (u32, Vec<u8>, Entry);

/// Every key of every database: db -> key -> (value, expiry).
type Dataset = BTreeMap<u32, BTreeMap<Vec<u8>, (Canon, u64)>>;

fn dataset_of(items: &[Item]) -> Dataset {
    let mut d = Dataset::new();
    for (db, key, e) in items {
        let old = d
            .entry(*db)
            .or_default()
            .insert(key.clone(), (canon(&e.value), e.expire_at_ms));
        assert!(old.is_none(), "duplicate key {key:?}");
    }
    d
}

/// Reads the whole content of a live server.
fn server_dataset(conn: &mut Conn, dbs: &[u32]) -> Dataset {
    let mut d = Dataset::new();
    for &db in dbs {
        conn.ok(&[b"SELECT", db.to_string().as_bytes()]);
        let keys = conn.ok(&[b"KEYS", b"*"]).array();
        let m: &mut BTreeMap<Vec<u8>, (Canon, u64)> = d.entry(db).or_default();
        for k in keys {
            let key = k.bytes();
            let t = match conn.ok(&[b"TYPE", &key]) {
                Reply::Simple(t) => t,
                other => panic!("TYPE gave {other:?}"),
            };
            let value = match t.as_str() {
                "string" => Canon::Str(conn.ok(&[b"GET", &key]).bytes()),
                "list" => Canon::List(
                    conn.ok(&[b"LRANGE", &key, b"0", b"-1"])
                        .array()
                        .into_iter()
                        .map(Reply::bytes)
                        .collect(),
                ),
                "set" => Canon::Set(
                    conn.ok(&[b"SMEMBERS", &key])
                        .array()
                        .into_iter()
                        .map(Reply::bytes)
                        .collect(),
                ),
                "zset" => {
                    let flat: Vec<Vec<u8>> = conn
                        .ok(&[b"ZRANGE", &key, b"0", b"-1", b"WITHSCORES"])
                        .array()
                        .into_iter()
                        .map(Reply::bytes)
                        .collect();
                    Canon::ZSet(
                        flat.chunks(2)
                            .map(|p| {
                                (
                                    p[0].clone(),
                                    std::str::from_utf8(&p[1]).unwrap().parse::<f64>().unwrap(),
                                )
                            })
                            .collect(),
                    )
                }
                "hash" => {
                    let flat: Vec<Vec<u8>> = conn
                        .ok(&[b"HGETALL", &key])
                        .array()
                        .into_iter()
                        .map(Reply::bytes)
                        .collect();
                    Canon::Hash(
                        flat.chunks(2)
                            .map(|p| (p[0].clone(), p[1].clone()))
                            .collect(),
                    )
                }
                other => panic!("unexpected type {other}"),
            };
            let expire = match conn.ok(&[b"PEXPIRETIME", &key]).int() {
                -1 => NO_EXPIRY,
                ms => ms as u64,
            };
            m.insert(key, (value, expire));
        }
    }
    d.retain(|_, m| !m.is_empty());
    d
}

fn assert_same(expected: &Dataset, actual: &Dataset) {
    assert_eq!(
        expected.keys().collect::<Vec<_>>(),
        actual.keys().collect::<Vec<_>>(),
        "databases differ"
    );
    for (db, keys) in expected {
        let got = &actual[db];
        let missing: Vec<_> = keys.keys().filter(|k| !got.contains_key(*k)).collect();
        let extra: Vec<_> = got.keys().filter(|k| !keys.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "db {db}: missing {missing:?}, extra {extra:?}"
        );
        for (k, v) in keys {
            assert!(
                got[k] == *v,
                "db {db} key {:?} differs:\n expected {:?}\n actual   {:?}",
                String::from_utf8_lossy(k),
                v,
                got[k]
            );
        }
    }
}

// ---------- the data both directions use ----------

/// Deterministic bytes that LZF cannot compress.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn list_of(items: impl IntoIterator<Item = Vec<u8>>) -> Value {
    let mut l = ListValue::new();
    for i in items {
        l.push_back(&i);
    }
    Value::List(Box::new(l))
}

fn set_of(items: impl IntoIterator<Item = Vec<u8>>) -> Value {
    let mut s = SetValue::new();
    for i in items {
        s.insert(&i);
    }
    Value::Set(s)
}

fn zset_of(items: impl IntoIterator<Item = (Vec<u8>, f64)>) -> Value {
    let mut z = ZSetValue::new();
    for (m, s) in items {
        z.insert(&m, s);
    }
    Value::ZSet(z)
}

fn hash_of(items: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) -> Value {
    let mut h = HashValue::new();
    for (f, v) in items {
        h.insert(&f, &v);
    }
    Value::Hash(h)
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// All types, small and large, every encoding boundary, expiries, three
/// databases.
fn sample_items() -> Vec<Item> {
    let mut v: Vec<(u32, Vec<u8>, Value, u64)> = vec![
        (0, b("str_raw"), Value::string(b"hello world"), NO_EXPIRY),
        (0, b("str_int16"), Value::string(b"12345"), NO_EXPIRY),
        (0, b("str_neg"), Value::string(b"-7"), NO_EXPIRY),
        (0, b("str_int32"), Value::string(b"-2147483648"), NO_EXPIRY),
        (
            0,
            b("str_big_int"),
            Value::string(b"123456789012"),
            NO_EXPIRY,
        ),
        (
            0,
            b("str_i64_max"),
            Value::string(b"9223372036854775807"),
            NO_EXPIRY,
        ),
        (0, b("str_leading_zero"), Value::string(b"007"), NO_EXPIRY),
        (0, b("str_empty"), Value::string(b""), NO_EXPIRY),
        (
            0,
            b("str_binary"),
            Value::string(&[0, 255, 13, 10, 0xc3, 0x80]),
            NO_EXPIRY,
        ),
        (0, b("str_lzf"), Value::string(&[b'a'; 1000]), NO_EXPIRY),
        (
            0,
            b("str_21"),
            Value::string(b"abcabcabcabcabcabcabc"),
            NO_EXPIRY,
        ),
        (
            0,
            b("str_noise"),
            Value::string(&noise(1, 100_000)),
            NO_EXPIRY,
        ),
        (0, b("str_exp"), Value::string(b"v"), FUTURE_MS),
        (0, b("12345"), Value::string(b"int-looking key"), NO_EXPIRY),
        (
            0,
            b("list_small"),
            list_of([b("a"), b("b"), b("1"), b("2")]),
            NO_EXPIRY,
        ),
        (
            0,
            b("list_large"),
            list_of((0..3000).map(|i| {
                if i % 3 == 0 {
                    i.to_string().into_bytes()
                } else {
                    format!("element-{i}").into_bytes()
                }
            })),
            FUTURE_MS + 1,
        ),
        (
            0,
            b("list_big_elements"),
            list_of((0..5).map(|i| noise(i, 9000 + i as usize * 1000))),
            NO_EXPIRY,
        ),
        (
            0,
            b("list_ints"),
            list_of(
                [-1i64, 0, 127, 128, -4096, 40000, 1 << 40, i64::MIN]
                    .iter()
                    .map(|i| i.to_string().into_bytes()),
            ),
            NO_EXPIRY,
        ),
        (
            0,
            b("set_intset"),
            set_of(
                [1i64, 2, 3, -5, 100000]
                    .iter()
                    .map(|i| i.to_string().into_bytes()),
            ),
            NO_EXPIRY,
        ),
        (
            0,
            b("set_intset_wide"),
            set_of(
                [i64::MIN, 0, i64::MAX]
                    .iter()
                    .map(|i| i.to_string().into_bytes()),
            ),
            NO_EXPIRY,
        ),
        (
            0,
            b("set_int_512"),
            set_of((0..512).map(|i| (i * 7).to_string().into_bytes())),
            NO_EXPIRY,
        ),
        (
            0,
            b("set_int_600"),
            set_of((0..600).map(|i| i.to_string().into_bytes())),
            NO_EXPIRY,
        ),
        (
            0,
            b("set_str_small"),
            set_of([b("x"), b("y"), b("1")]),
            NO_EXPIRY,
        ),
        (
            0,
            b("set_str_large"),
            set_of((0..300).map(|i| format!("member:{i}").into_bytes())),
            FUTURE_MS + 2,
        ),
        (
            0,
            b("zset_small"),
            zset_of([
                (b("a"), 1.0),
                (b("b"), 2.5),
                (b("c"), f64::NEG_INFINITY),
                (b("d"), 0.1),
                (b("e"), 1e300),
                (b("f"), -3.0),
            ]),
            NO_EXPIRY,
        ),
        (
            0,
            b("zset_128"),
            zset_of((0..128).map(|i| (format!("m{i}").into_bytes(), f64::from(i) / 3.0))),
            NO_EXPIRY,
        ),
        (
            0,
            b("zset_large"),
            zset_of((0..200).map(|i| (format!("m{i}").into_bytes(), f64::from(i % 17) * 1.5))),
            NO_EXPIRY,
        ),
        (
            0,
            b("zset_long_member"),
            zset_of([(vec![b'z'; 65], 1.0), (b("short"), f64::INFINITY)]),
            NO_EXPIRY,
        ),
        (
            0,
            b("hash_small"),
            hash_of([(b("f1"), b("v1")), (b("f2"), b("2"))]),
            NO_EXPIRY,
        ),
        (
            0,
            b("hash_512"),
            hash_of((0..512).map(|i| {
                (
                    format!("field{i}").into_bytes(),
                    format!("value{i}").into_bytes(),
                )
            })),
            NO_EXPIRY,
        ),
        (
            0,
            b("hash_large"),
            hash_of(
                (0..600).map(|i| (format!("field{i}").into_bytes(), i.to_string().into_bytes())),
            ),
            NO_EXPIRY,
        ),
        (
            0,
            b("hash_bigval"),
            hash_of([(b("f"), vec![b'q'; 65])]),
            FUTURE_MS + 3,
        ),
        (3, b("db3_str"), Value::string(b"x"), NO_EXPIRY),
        (3, b("db3_list"), list_of([b("only")]), FUTURE_MS + 4),
        (15, b("db15_hash"), hash_of([(b("k"), b("v"))]), NO_EXPIRY),
    ];
    v.sort_by_key(|item| item.0);
    v.into_iter()
        .map(|(db, k, value, expire_at_ms)| {
            (
                db,
                k,
                Entry {
                    value,
                    expire_at_ms,
                },
            )
        })
        .collect()
}

fn dbs_of(items: &[Item]) -> Vec<u32> {
    let set: BTreeSet<u32> = items.iter().map(|i| i.0).collect();
    set.into_iter().collect()
}

fn write_rdb(items: &[Item], opts: RdbWriteOptions) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), opts).unwrap();
    w.write_standard_aux(&AuxInfo {
        ctime_s: 1_795_263_424,
        used_mem_bytes: 1_420_264,
        aof_base: false,
    })
    .unwrap();
    for db in dbs_of(items) {
        let in_db: Vec<_> = items.iter().filter(|i| i.0 == db).collect();
        let expires = in_db.iter().filter(|i| i.2.has_expiry()).count();
        w.select_db(db, in_db.len() as u64, expires as u64).unwrap();
        for (_, k, e) in in_db {
            w.write_entry(k, e).unwrap();
        }
    }
    w.finish().unwrap().0
}

fn decode_all(data: &[u8]) -> (Vec<Item>, BTreeSet<u8>) {
    let mut reader = RdbReader::new(data).unwrap();
    let mut items = Vec::new();
    let mut types = BTreeSet::new();
    for item in &mut reader {
        let item = item.unwrap_or_else(|e| panic!("decode failed: {e}"));
        types.insert(item.rdb_type);
        items.push((item.db, item.key, item.entry));
    }
    assert!(reader.checksum_status().is_some());
    (items, types)
}

fn redis_check_rdb(path: &Path) -> String {
    assert!(
        Path::new(REDIS_CHECK_RDB).exists(),
        "{REDIS_CHECK_RDB} is required"
    );
    let out = Command::new(REDIS_CHECK_RDB).arg(path).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "redis-check-rdb failed:\n{text}");
    assert!(text.contains("RDB looks OK"), "{text}");
    text
}

// ---------- tests ----------

#[test]
fn our_rdb_passes_redis_check_rdb_and_loads_into_redis_7_0() {
    for opts in [
        RdbWriteOptions::default(),
        RdbWriteOptions {
            compression: false,
            checksum: false,
            ..RdbWriteOptions::default()
        },
    ] {
        let items = sample_items();
        let data = write_rdb(&items, opts);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ours.rdb");
        std::fs::write(&path, &data).unwrap();

        let report = redis_check_rdb(&path);
        assert!(
            report.contains(&format!("{} keys read", items.len())),
            "{report}"
        );
        assert!(report.contains("5 expires"), "{report}");
        if opts.checksum {
            assert!(report.contains("Checksum OK"), "{report}");
        }

        let server = RedisServer::start(dir.path(), "ours.rdb");
        let mut conn = server.connect();
        let info = String::from_utf8(conn.ok(&[b"INFO", b"persistence"]).bytes()).unwrap();
        assert!(
            info.contains(&format!("rdb_last_load_keys_loaded:{}", items.len())),
            "{info}"
        );
        let actual = server_dataset(&mut conn, &[0, 1, 2, 3, 15]);
        assert_same(&dataset_of(&items), &actual);

        // Our own decoder agrees, too.
        let (decoded, types) = decode_all(&data);
        assert_same(&dataset_of(&items), &dataset_of(&decoded));
        let expected_types: BTreeSet<u8> = [0, 2, 4, 5, 11, 16, 17, 18].into_iter().collect();
        assert_eq!(types, expected_types);
    }
}

/// Issues the commands that build `items` on a live server.
fn populate(conn: &mut Conn, items: &[Item]) {
    for (db, key, e) in items {
        conn.ok(&[b"SELECT", db.to_string().as_bytes()]);
        let k = key.as_slice();
        match canon(&e.value) {
            Canon::Str(s) => {
                conn.ok(&[b"SET", k, &s]);
            }
            Canon::List(l) => {
                for chunk in l.chunks(100) {
                    let mut args: Vec<&[u8]> = vec![b"RPUSH", k];
                    args.extend(chunk.iter().map(|x| x.as_slice()));
                    conn.ok(&args);
                }
            }
            Canon::Set(s) => {
                let members: Vec<_> = s.into_iter().collect();
                for chunk in members.chunks(100) {
                    let mut args: Vec<&[u8]> = vec![b"SADD", k];
                    args.extend(chunk.iter().map(|x| x.as_slice()));
                    conn.ok(&args);
                }
            }
            Canon::ZSet(z) => {
                let scores: Vec<String> = z.iter().map(|(_, s)| s.to_string()).collect();
                for (chunk, score_chunk) in z.chunks(100).zip(scores.chunks(100)) {
                    let mut args: Vec<&[u8]> = vec![b"ZADD", k];
                    for ((m, _), s) in chunk.iter().zip(score_chunk) {
                        args.push(s.as_bytes());
                        args.push(m);
                    }
                    conn.ok(&args);
                }
            }
            Canon::Hash(h) => {
                let pairs: Vec<_> = h.into_iter().collect();
                for chunk in pairs.chunks(100) {
                    let mut args: Vec<&[u8]> = vec![b"HSET", k];
                    for (f, v) in chunk {
                        args.push(f);
                        args.push(v);
                    }
                    conn.ok(&args);
                }
            }
        }
        if e.has_expiry() {
            conn.ok(&[b"PEXPIREAT", k, e.expire_at_ms.to_string().as_bytes()]);
        }
    }
}

#[test]
fn rdb_saved_by_redis_7_0_decodes_to_the_same_data() {
    let items = sample_items();
    let dir = tempfile::tempdir().unwrap();
    let server = RedisServer::start(dir.path(), "dump.rdb");
    let mut conn = server.connect();
    populate(&mut conn, &items);
    // The server's view is the reference (it is what Redis would save).
    let live = server_dataset(&mut conn, &[0, 3, 15]);
    assert_same(&dataset_of(&items), &live);
    conn.ok(&[b"SAVE"]);
    let data = std::fs::read(dir.path().join("dump.rdb")).unwrap();

    let (decoded, types) = decode_all(&data);
    assert_same(&live, &dataset_of(&decoded));
    // Every encoding 7.0 writes for these types was exercised.
    let expected_types: BTreeSet<u8> = [0, 2, 4, 5, 11, 16, 17, 18].into_iter().collect();
    assert_eq!(types, expected_types);

    let reader = RdbReader::new(&data).unwrap();
    assert_eq!(reader.version(), 10);
    let report = rdb::check_rdb(&data, 0);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.keys, items.len() as u64);
    assert_eq!(report.expires, 5);
    assert!(report
        .aux
        .iter()
        .any(|(k, v)| k == "redis-ver" && v == "7.0.15"));
}

#[test]
fn rdb_saved_by_redis_without_compression_or_checksum_decodes() {
    let items = sample_items();
    let dir = tempfile::tempdir().unwrap();
    let server = RedisServer::start_with(
        dir.path(),
        "dump.rdb",
        &["--rdbcompression", "no", "--rdbchecksum", "no"],
    );
    let mut conn = server.connect();
    populate(&mut conn, &items);
    conn.ok(&[b"SAVE"]);
    let data = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    let mut reader = RdbReader::new(&data).unwrap();
    let decoded: Vec<_> = (&mut reader)
        .map(|i| i.unwrap())
        .map(|i| (i.db, i.key, i.entry))
        .collect();
    assert_eq!(
        reader.checksum_status(),
        Some(rdb::ChecksumStatus::NotStored)
    );
    assert_same(&dataset_of(&items), &dataset_of(&decoded));
}

/// A round trip through both implementations: ours writes, Redis loads and
/// saves, ours reads back the same data.
#[test]
fn redis_resaves_our_file_identically_in_content() {
    let items = sample_items();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dump.rdb"),
        write_rdb(&items, RdbWriteOptions::default()),
    )
    .unwrap();
    let server = RedisServer::start(dir.path(), "dump.rdb");
    let mut conn = server.connect();
    conn.ok(&[b"SAVE"]);
    let data = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    let (decoded, _) = decode_all(&data);
    assert_same(&dataset_of(&items), &dataset_of(&decoded));
}

/// The slot-by-slot snapshot walk interleaves databases with `switch_db`;
/// Redis must accept such a file.
#[test]
fn interleaved_databases_load_into_redis() {
    let items = sample_items();
    let mut w = RdbWriter::new(Vec::new(), RdbWriteOptions::default()).unwrap();
    w.write_standard_aux(&AuxInfo {
        ctime_s: 1_795_263_424,
        used_mem_bytes: 0,
        aof_base: false,
    })
    .unwrap();
    // Round-robin over the databases, one key at a time.
    let mut per_db: BTreeMap<u32, Vec<&Item>> = BTreeMap::new();
    for item in &items {
        per_db.entry(item.0).or_default().push(item);
    }
    let mut cursors: Vec<_> = per_db.into_values().map(|v| v.into_iter()).collect();
    loop {
        let mut wrote = false;
        for c in cursors.iter_mut() {
            if let Some((db, k, e)) = c.next() {
                w.switch_db(*db, None).unwrap();
                w.write_entry(k, e).unwrap();
                wrote = true;
            }
        }
        if !wrote {
            break;
        }
    }
    let data = w.finish().unwrap().0;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dump.rdb"), &data).unwrap();
    let report = redis_check_rdb(&dir.path().join("dump.rdb"));
    assert!(
        report.contains(&format!("{} keys read", items.len())),
        "{report}"
    );
    let server = RedisServer::start(dir.path(), "dump.rdb");
    let mut conn = server.connect();
    assert_same(&dataset_of(&items), &server_dataset(&mut conn, &[0, 3, 15]));
    let (decoded, _) = decode_all(&data);
    assert_same(&dataset_of(&items), &dataset_of(&decoded));
}

/// PLAIN quicklist nodes (elements over the packed threshold, 1 GB by
/// default) load into Redis; a lowered threshold makes them testable.
#[test]
fn plain_quicklist_nodes_load_into_redis() {
    let items: Vec<Item> = vec![
        (
            0,
            b("mixed"),
            Entry::new(list_of([
                b("small"),
                noise(7, 5000),
                b("tiny"),
                vec![b'r'; 3000],
                b("1"),
            ])),
        ),
        (
            0,
            b("all_plain"),
            Entry::new(list_of([noise(8, 2000), noise(9, 2500)])),
        ),
    ];
    let opts = RdbWriteOptions {
        thresholds: rdb::EncodingThresholds {
            quicklist_packed_threshold_bytes: 1000,
            ..rdb::EncodingThresholds::default()
        },
        ..RdbWriteOptions::default()
    };
    let data = write_rdb(&items, opts);
    // Node containers: PACKED(2) "small", PLAIN(1), PACKED "tiny", PLAIN, PACKED "1".
    assert!(
        data.windows(3).any(|w| w == b"\x05\x02\x0e"),
        "5 nodes, the first a 14-byte listpack"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dump.rdb"), &data).unwrap();
    redis_check_rdb(&dir.path().join("dump.rdb"));
    let server = RedisServer::start(dir.path(), "dump.rdb");
    let mut conn = server.connect();
    assert_same(&dataset_of(&items), &server_dataset(&mut conn, &[0]));
    let (decoded, _) = decode_all(&data);
    assert_same(&dataset_of(&items), &dataset_of(&decoded));
}

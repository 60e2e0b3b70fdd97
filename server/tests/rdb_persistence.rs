//! RDB snapshots end to end, against the real `ringkv` binary and Debian's
//! redis-server 7.0: replies of SAVE/BGSAVE/LASTSAVE, save rules, restart,
//! SHUTDOWN SAVE/NOSAVE, file interchange both ways, redis-check-rdb,
//! MISCONF, fork-mode figures, and point-in-time consistency under writes.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringkv_testkit::{
    free_port, require_binary, run_program, start_ringkv, start_ringkv_in, ServerProcess,
};

fn ringkv_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ringkv"))
}

/// A parsed RESP2 reply.
#[derive(Debug, Clone, PartialEq)]
enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

impl Resp {
    fn text(&self) -> String {
        match self {
            Resp::Simple(s) => format!("+{s}"),
            Resp::Error(s) => format!("-{s}"),
            Resp::Int(i) => format!(":{i}"),
            Resp::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            Resp::Bulk(None) => "(nil)".into(),
            Resp::Array(Some(items)) => {
                let parts: Vec<String> = items.iter().map(Resp::text).collect();
                format!("[{}]", parts.join(","))
            }
            Resp::Array(None) => "(nil array)".into(),
        }
    }
}

struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Conn {
    fn open(server: &ServerProcess) -> Conn {
        let s = server.connect();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Conn {
            writer: s.try_clone().unwrap(),
            reader: BufReader::new(s),
        }
    }

    fn send(&mut self, args: &[&str]) {
        let mut req = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            req.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            req.extend_from_slice(a.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        self.writer.write_all(&req).unwrap();
    }

    fn read(&mut self) -> Resp {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let line = line.trim_end_matches("\r\n");
        let (tag, rest) = line.split_at(1);
        match tag {
            "+" => Resp::Simple(rest.into()),
            "-" => Resp::Error(rest.into()),
            ":" => Resp::Int(rest.parse().unwrap()),
            "$" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Resp::Bulk(None);
                }
                let mut buf = vec![0u8; n as usize + 2];
                self.reader.read_exact(&mut buf).unwrap();
                buf.truncate(n as usize);
                Resp::Bulk(Some(buf))
            }
            "*" => {
                let n: i64 = rest.parse().unwrap();
                if n < 0 {
                    return Resp::Array(None);
                }
                Resp::Array(Some((0..n).map(|_| self.read()).collect()))
            }
            other => panic!("unexpected reply type {other:?} in {line:?}"),
        }
    }

    fn call(&mut self, args: &[&str]) -> Resp {
        self.send(args);
        self.read()
    }

    fn text(&mut self, args: &[&str]) -> String {
        self.call(args).text()
    }

    fn info_field(&mut self, section: &str, field: &str) -> String {
        let info = self.text(&["INFO", section]);
        ringkv_testkit::info_value(&info, field)
            .unwrap_or_else(|| panic!("no {field} in INFO {section}:\n{info}"))
            .to_string()
    }

    fn wait_bgsave_done(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.info_field("persistence", "rdb_bgsave_in_progress") != "0" {
            assert!(Instant::now() < deadline, "BGSAVE did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// redis-server on a data directory we choose (so a dump can be put there first).
fn spawn_redis(dir: tempfile::TempDir, data_dir: &Path, extra: &[&str]) -> ServerProcess {
    let port = free_port();
    let mut args: Vec<String> = [
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--dir",
        &data_dir.display().to_string(),
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    ServerProcess::spawn(
        "redis-server",
        &require_binary("redis-server"),
        &args,
        port,
        dir,
    )
}

fn restart_ringkv(server: &mut ServerProcess, extra: &[&str]) -> ServerProcess {
    let dir = std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap());
    start_ringkv_in(ringkv_bin(), extra, free_port(), dir)
}

/// Writes what ringkv's command set can make (strings, integers, hashes
/// and lists, small and large, with and without TTL) in two databases.
fn write_sample(c: &mut Conn) {
    for db in ["0", "1"] {
        assert_eq!(c.text(&["SELECT", db]), "+OK");
        c.text(&["SET", "str", "hello"]);
        c.text(&["SET", "int", "12345"]);
        c.text(&["SET", "long", &"x".repeat(300)]);
        c.text(&["SET", "ttl", "v", "EX", "10000"]);
        c.text(&["HSET", "hash", "a", "1", "b", "2"]);
        c.text(&["RPUSH", "list", "a", "b", "c", "1"]);
        for i in 0..200 {
            c.text(&["HSET", "bighash", &format!("f{i}"), &"v".repeat(70)]);
            c.text(&["RPUSH", "biglist", &format!("element-{i}")]);
        }
    }
    assert_eq!(c.text(&["SELECT", "0"]), "+OK");
}

/// Sets, sorted sets and intsets too, written by redis-server.
fn write_full_sample(c: &mut Conn) {
    write_sample(c);
    for db in ["0", "1"] {
        c.text(&["SELECT", db]);
        c.text(&["SADD", "intset", "1", "2", "3"]);
        c.text(&["SADD", "set", "a", "b"]);
        c.text(&["ZADD", "zset", "1.5", "a", "2", "b"]);
        for i in 0..200 {
            c.text(&["ZADD", "bigzset", &i.to_string(), &format!("m{i}")]);
            c.text(&["SADD", "bigset", &format!("s{i}")]);
        }
    }
    c.text(&["SELECT", "0"]);
}

/// The logical content of an RDB file, one line per key (encodings aside).
fn dataset(path: &Path) -> Vec<String> {
    use ringkv_engine::Value;
    let data = std::fs::read(path).unwrap();
    let mut reader = ringkv_engine::rdb::RdbReader::new(&data).unwrap();
    let mut out = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        let value = match &item.entry.value {
            Value::Int(i) => format!("string {i}"),
            Value::Str(s) => format!("string {}", String::from_utf8_lossy(s)),
            Value::List(l) => format!("list {:?}", l.iter().collect::<Vec<_>>()),
            Value::Hash(h) => {
                let mut f: Vec<_> = h.iter().collect();
                f.sort();
                format!("hash {f:?}")
            }
            Value::Set(m) => {
                let mut f: Vec<_> = m.iter().map(|x| x.into_owned()).collect();
                f.sort();
                format!("set {f:?}")
            }
            Value::ZSet(z) => format!("zset {:?}", z.iter().collect::<Vec<_>>()),
        };
        out.push(format!(
            "db{} {} expire={} {value}",
            item.db,
            String::from_utf8_lossy(&item.key),
            item.entry.expire_at_ms
        ));
    }
    out.sort();
    out
}

fn redis_check_rdb(path: &Path) -> (bool, String) {
    let (ok, out, err) = run_program(
        &require_binary("redis-check-rdb"),
        &[path.to_str().unwrap()],
        None,
    );
    (ok && out.contains("RDB looks OK"), format!("{out}{err}"))
}

fn ringkv_check_rdb(path: &Path) -> (bool, String) {
    let (ok, out, err) = run_program(ringkv_bin(), &["check-rdb", path.to_str().unwrap()], None);
    (ok, format!("{out}{err}"))
}

/// The same script against both servers; replies compared except LASTSAVE's value.
#[test]
fn save_bgsave_lastsave_replies_match_redis() {
    let ringkv = start_ringkv(ringkv_bin(), &["--rdb-key-save-delay", "200000"]);
    let redis = ringkv_testkit::start_redis(&["--rdb-key-save-delay", "200000"]);
    let mut transcripts = Vec::new();
    for server in [&ringkv, &redis] {
        let mut c = Conn::open(server);
        let started = c.call(&["TIME"]);
        let mut t = Vec::new();
        t.push(c.text(&["SET", "a", "1"]));
        t.push(c.text(&["SAVE", "extra"]));
        t.push(c.text(&["SAVE"]));
        let Resp::Int(last) = c.call(&["LASTSAVE"]) else {
            panic!("LASTSAVE")
        };
        let Resp::Array(Some(now)) = started else {
            panic!("TIME")
        };
        let now: i64 = now[0].text().parse().unwrap();
        assert!((last - now).abs() <= 2, "LASTSAVE {last} vs now {now}");
        t.push(c.text(&["BGSAVE", "foo"]));
        t.push(c.text(&["BGSAVE", "SCHEDULE", "x"]));
        // One key at 200 ms per key: the BGSAVE runs long enough to collide.
        t.push(c.text(&["BGSAVE"]));
        t.push(c.text(&["BGSAVE"]));
        t.push(c.text(&["BGSAVE", "SCHEDULE"]));
        t.push(c.text(&["SAVE"]));
        t.push(c.info_field("persistence", "rdb_bgsave_in_progress"));
        c.wait_bgsave_done();
        t.push(c.info_field("persistence", "rdb_last_bgsave_status"));
        t.push(c.info_field("persistence", "rdb_saves"));
        t.push(c.info_field("persistence", "rdb_changes_since_last_save"));
        t.push(c.text(&["MULTI"]));
        t.push(c.text(&["SAVE"]));
        t.push(c.text(&["BGSAVE"]));
        t.push(c.text(&["EXEC"]));
        t.push(c.text(&["DISCARD"]));
        let saves_before = c.info_field("persistence", "rdb_saves");
        t.push(c.text(&["MULTI"]));
        t.push(c.text(&["BGSAVE"]));
        t.push(c.text(&["EXEC"]));
        // The scheduled BGSAVE starts from cron.
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.info_field("persistence", "rdb_saves") == saves_before {
            assert!(Instant::now() < deadline, "scheduled BGSAVE did not run");
            std::thread::sleep(Duration::from_millis(20));
        }
        c.wait_bgsave_done();
        t.push(c.text(&["SET", "b", "2"]));
        t.push(c.info_field("persistence", "rdb_changes_since_last_save"));
        t.push(c.text(&["LASTSAVE", "x"]));
        transcripts.push(t);
    }
    assert_eq!(transcripts[0], transcripts[1]);
    assert!(transcripts[0].contains(&"+Background saving started".to_string()));
    assert!(transcripts[0].contains(&"-ERR Background save already in progress".to_string()));
}

#[test]
fn save_rules_trigger_a_bgsave_and_config_set_save_changes_them() {
    let server = start_ringkv(ringkv_bin(), &["--save", "1", "1"]);
    let mut c = Conn::open(&server);
    c.text(&["SET", "k", "v"]);
    let dump = server.dir.path().join("dump.rdb");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(dump.exists() && c.info_field("persistence", "rdb_changes_since_last_save") == "0") {
        assert!(Instant::now() < deadline, "save 1 1 did not save");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(c.info_field("persistence", "rdb_last_bgsave_status"), "ok");
    assert_eq!(c.info_field("persistence", "rdb_saves"), "1");
    assert_eq!(c.text(&["CONFIG", "SET", "save", ""]), "+OK");
    c.text(&["SET", "k2", "v"]);
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(c.info_field("persistence", "rdb_saves"), "1");
    assert_eq!(
        c.info_field("persistence", "rdb_changes_since_last_save"),
        "1"
    );
    assert_eq!(c.text(&["CONFIG", "SET", "save", "1 1 3600 100"]), "+OK");
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.info_field("persistence", "rdb_saves") != "2" {
        assert!(
            Instant::now() < deadline,
            "CONFIG SET save did not take effect"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SAVE and return the logical content of the dump it wrote.
fn save_and_read(c: &mut Conn, server: &ServerProcess) -> Vec<String> {
    assert_eq!(c.text(&["SAVE"]), "+OK");
    dataset(&server.dir.path().join("dump.rdb"))
}

#[test]
fn restart_loads_the_data_and_shutdown_save_nosave_are_honoured() {
    // SAVE, crash, restart: everything comes back, in both databases.
    let mut server = start_ringkv(ringkv_bin(), &[]);
    let mut c = Conn::open(&server);
    write_sample(&mut c);
    let before = save_and_read(&mut c, &server);
    assert_eq!(before.len(), 16);
    server.kill9();
    let mut server = restart_ringkv(&mut server, &[]);
    let mut c = Conn::open(&server);
    assert_eq!(c.text(&["GET", "long"]), "x".repeat(300));
    assert_eq!(
        c.info_field("persistence", "rdb_last_load_keys_loaded"),
        before.len().to_string()
    );
    assert_eq!(save_and_read(&mut c, &server), before);
    // DEBUG RELOAD keeps the data.
    assert_eq!(c.text(&["DEBUG", "RELOAD"]), "+OK");
    assert_eq!(c.text(&["HGET", "bighash", "f7"]), "v".repeat(70));
    assert_eq!(save_and_read(&mut c, &server), before);

    // SHUTDOWN SAVE saves even without save points.
    c.text(&["SET", "after-save", "1"]);
    c.send(&["SHUTDOWN", "SAVE"]);
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
    let mut server = restart_ringkv(&mut server, &["--save", "3600", "1"]);
    let mut c = Conn::open(&server);
    assert_eq!(c.text(&["GET", "after-save"]), "1");

    // SHUTDOWN NOSAVE skips the save despite save points.
    c.text(&["SET", "lost", "1"]);
    c.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(server.wait_exit(Duration::from_secs(20)).is_some());
    let mut server = restart_ringkv(&mut server, &["--save", "3600", "1"]);
    let mut c = Conn::open(&server);
    assert_eq!(c.text(&["GET", "lost"]), "(nil)");
    assert_eq!(c.text(&["GET", "after-save"]), "1");

    // SIGTERM with save points saves.
    c.text(&["SET", "on-term", "1"]);
    assert_eq!(server.terminate(), Some(0));
    let server = restart_ringkv(&mut server, &[]);
    let mut c = Conn::open(&server);
    assert_eq!(c.text(&["GET", "on-term"]), "1");
}

#[test]
fn dumps_interchange_with_redis_server_and_pass_both_checkers() {
    // redis-server writes every type; ringkv loads it and saves it back.
    let redis_dir = tempfile::tempdir().unwrap();
    let redis_data = redis_dir.path().to_path_buf();
    let redis = spawn_redis(redis_dir, &redis_data, &[]);
    let mut r = Conn::open(&redis);
    write_full_sample(&mut r);
    let theirs = save_and_read(&mut r, &redis);
    assert_eq!(theirs.len(), 26);
    assert!(ringkv_check_rdb(&redis_data.join("dump.rdb")).0);
    for mode in ["forkless", "fork"] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(redis_data.join("dump.rdb"), dir.path().join("dump.rdb")).unwrap();
        let ringkv = start_ringkv_in(ringkv_bin(), &["--snapshot-mode", mode], free_port(), dir);
        let mut c = Conn::open(&ringkv);
        assert_eq!(c.text(&["GET", "str"]), "hello");
        assert_eq!(c.text(&["BGSAVE"]), "+Background saving started");
        c.wait_bgsave_done();
        assert_eq!(c.info_field("persistence", "rdb_last_bgsave_status"), "ok");
        let dump = ringkv.dir.path().join("dump.rdb");
        assert_eq!(dataset(&dump), theirs, "{mode}");
        let (ok, report) = redis_check_rdb(&dump);
        assert!(
            ok,
            "redis-check-rdb rejected ringkv's {mode} dump:\n{report}"
        );
        let (ok, report) = ringkv_check_rdb(&dump);
        assert!(ok && report.contains("RDB looks OK"), "{report}");

        // redis-server loads ringkv's dump with identical data.
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(&dump, dir.path().join("dump.rdb")).unwrap();
        let data_dir = dir.path().to_path_buf();
        let again = spawn_redis(dir, &data_dir, &[]);
        let mut a = Conn::open(&again);
        assert_eq!(a.text(&["DBSIZE"]), ":13");
        assert_eq!(save_and_read(&mut a, &again), theirs, "{mode}");
    }
}

#[test]
fn check_rdb_reports_the_offset_of_corruption() {
    let server = start_ringkv(ringkv_bin(), &[]);
    let mut c = Conn::open(&server);
    c.text(&["SET", "k", "v"]);
    c.text(&["SAVE"]);
    let dump = server.dir.path().join("dump.rdb");
    let mut data = std::fs::read(&dump).unwrap();
    let n = data.len();
    data.truncate(n - 12);
    let bad = server.dir.path().join("bad.rdb");
    std::fs::write(&bad, &data).unwrap();
    let (ok, report) = ringkv_check_rdb(&bad);
    assert!(!ok, "{report}");
    assert!(
        report.contains("[offset ") && report.contains("RDB ERROR"),
        "{report}"
    );
    let (ok, report) = ringkv_check_rdb(&server.dir.path().join("missing.rdb"));
    assert!(!ok, "{report}");
}

#[test]
fn a_failed_bgsave_turns_on_misconf_until_a_save_succeeds() {
    for which in ["ringkv", "redis"] {
        let outer = tempfile::tempdir().unwrap();
        let data_dir: PathBuf = outer.path().join("data");
        std::fs::create_dir(&data_dir).unwrap();
        let data = data_dir.display().to_string();
        let server = if which == "ringkv" {
            let port = free_port();
            start_ringkv_in(
                ringkv_bin(),
                &["--dir", &data, "--save", "3600", "1"],
                port,
                outer,
            )
        } else {
            spawn_redis(outer, &data_dir, &["--save", "3600 1"])
        };
        let mut c = Conn::open(&server);
        assert_eq!(c.text(&["SET", "k", "v"]), "+OK");
        // Even root cannot create a file in a directory that is gone.
        std::fs::remove_dir_all(&data_dir).unwrap();
        assert_eq!(c.text(&["BGSAVE"]), "+Background saving started");
        c.wait_bgsave_done();
        assert_eq!(c.info_field("persistence", "rdb_last_bgsave_status"), "err");
        let misconf = c.text(&["SET", "k", "w"]);
        assert!(
            misconf.starts_with("-MISCONF Redis is configured to save RDB snapshots"),
            "{which}: {misconf}"
        );
        assert_eq!(c.text(&["PING"]), misconf, "{which}");
        assert_eq!(c.text(&["GET", "k"]), "v", "{which}");
        // Turning the option off lifts it; turning it on brings it back.
        assert_eq!(
            c.text(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]),
            "+OK"
        );
        assert_eq!(c.text(&["PING"]), "+PONG");
        assert_eq!(
            c.text(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "yes"]),
            "+OK"
        );
        assert_eq!(c.text(&["PING"]), misconf);
        if which == "ringkv" {
            // The directory is back: a successful BGSAVE clears MISCONF.
            std::fs::create_dir(&data_dir).unwrap();
            assert_eq!(c.text(&["BGSAVE"]), "+Background saving started");
            c.wait_bgsave_done();
            assert_eq!(c.info_field("persistence", "rdb_last_bgsave_status"), "ok");
            assert_eq!(c.text(&["SET", "k", "w"]), "+OK");
            assert!(data_dir.join("dump.rdb").exists());
            let leftovers: Vec<_> = std::fs::read_dir(&data_dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .filter(|n| n != "dump.rdb")
                .collect();
            assert!(leftovers.is_empty(), "{leftovers:?}");
        }
    }
}

/// Writer `t` sets `w{t}:{i}` = i for i = 1, 2, ... then `w{t}:last` = i.
/// Keys land in unrelated slots, so a snapshot that is not one instant
/// shows holes. Returns the snapshot's keys per writer and the bounds
/// (acknowledged before BGSAVE was sent, sent before its reply came back).
fn snapshot_under_writes(mode: &str) {
    let server = start_ringkv(
        ringkv_bin(),
        &["--snapshot-mode", mode, "--rdb-key-save-delay", "5"],
    );
    let mut c = Conn::open(&server);
    // Bulk so the cursor takes a while (and writers hit slots ahead of it).
    for chunk in 0..20 {
        let mut args = vec!["MSET".to_string()];
        for i in 0..1000 {
            args.push(format!("bulk:{chunk}:{i}"));
            args.push("x".repeat(20));
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(c.text(&refs), "+OK");
    }
    const WRITERS: usize = 2;
    let stop = Arc::new(AtomicBool::new(false));
    let acked: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let sent: Arc<Vec<AtomicU64>> = Arc::new((0..WRITERS).map(|_| AtomicU64::new(0)).collect());
    let threads: Vec<_> = (0..WRITERS)
        .map(|t| {
            let (stop, acked, sent) = (stop.clone(), acked.clone(), sent.clone());
            let mut w = Conn::open(&server);
            std::thread::spawn(move || {
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    i += 1;
                    sent[t].store(i, Ordering::SeqCst);
                    w.send(&["SET", &format!("w{t}:{i}"), &i.to_string()]);
                    w.send(&["SET", &format!("w{t}:last"), &i.to_string()]);
                    assert_eq!(w.read(), Resp::Simple("OK".into()));
                    assert_eq!(w.read(), Resp::Simple("OK".into()));
                    acked[t].store(i, Ordering::SeqCst);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let low: Vec<u64> = acked.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    assert_eq!(c.text(&["BGSAVE"]), "+Background saving started");
    let high: Vec<u64> = sent.iter().map(|a| a.load(Ordering::SeqCst)).collect();
    assert_eq!(c.info_field("persistence", "rdb_bgsave_in_progress"), "1");
    let total: u64 = c
        .info_field("persistence", "current_save_keys_total")
        .parse()
        .unwrap();
    assert!(total >= 20_000, "current_save_keys_total {total}");
    assert_eq!(c.info_field("persistence", "snapshot_mode"), mode);
    c.wait_bgsave_done();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(c.info_field("persistence", "rdb_last_bgsave_status"), "ok");
    let early = c.info_field("persistence", "forkless_early_keys");
    let early_slots = c.info_field("persistence", "forkless_early_slots");
    let peak = c.info_field("persistence", "forkless_extra_bytes_peak");
    eprintln!("{mode}: early keys {early}, early slots {early_slots}, extra bytes peak {peak}");
    if mode == "fork" {
        assert!(
            c.info_field("stats", "latest_fork_usec")
                .parse::<u64>()
                .unwrap()
                > 0
        );
        assert_eq!(c.info_field("stats", "total_forks"), "1");
        assert!(
            c.info_field("persistence", "rdb_last_cow_size")
                .parse::<u64>()
                .unwrap()
                > 0
        );
    } else {
        assert!(
            early.parse::<u64>().unwrap() > 0,
            "no writer ever got ahead of the cursor"
        );
        // SET names its key: no slot is copied whole.
        assert_eq!(early_slots, "0");
    }

    let data = std::fs::read(server.dir.path().join("dump.rdb")).unwrap();
    let mut reader = ringkv_engine::rdb::RdbReader::new(&data).unwrap();
    let mut seen: Vec<Vec<u64>> = vec![Vec::new(); WRITERS];
    let mut last: Vec<Option<u64>> = vec![None; WRITERS];
    let mut bulk = 0;
    while let Some(item) = reader.next_item().unwrap() {
        let key = String::from_utf8(item.key).unwrap();
        if key.starts_with("bulk:") {
            bulk += 1;
            continue;
        }
        let (w, n) = key[1..].split_once(':').unwrap();
        let w: usize = w.parse().unwrap();
        if n == "last" {
            let ringkv_engine::Value::Int(v) = item.entry.value else {
                panic!("last is not an integer")
            };
            last[w] = Some(v as u64);
        } else {
            seen[w].push(n.parse().unwrap());
        }
    }
    assert_eq!(bulk, 20_000);
    for t in 0..WRITERS {
        let mut keys = seen[t].clone();
        keys.sort_unstable();
        let m = keys.len() as u64;
        assert!(
            keys.iter().copied().eq(1..=m),
            "writer {t}: holes in the snapshot"
        );
        assert!(
            m >= low[t] && m <= high[t],
            "writer {t}: {m} outside [{}, {}]",
            low[t],
            high[t]
        );
        let l = last[t].unwrap_or(0);
        assert!(l == m || l + 1 == m, "writer {t}: last={l} with {m} keys");
    }
}

#[test]
fn forkless_bgsave_under_writes_is_a_point_in_time_cut() {
    snapshot_under_writes("forkless");
}

#[test]
fn fork_bgsave_under_writes_is_a_point_in_time_cut_and_reports_fork_and_cow() {
    snapshot_under_writes("fork");
}

/// INFO persistence carries every field redis-server 7.0 prints, in its
/// order (ringkv's own fields come after them).
#[test]
fn info_persistence_fields_match_redis() {
    let ringkv = start_ringkv(ringkv_bin(), &[]);
    let redis = ringkv_testkit::start_redis(&[]);
    let names = |server: &ServerProcess| -> Vec<String> {
        let mut c = Conn::open(server);
        c.text(&["INFO", "persistence"])
            .lines()
            .filter_map(|l| l.split_once(':').map(|(k, _)| k.to_string()))
            .collect()
    };
    let ours = names(&ringkv);
    let theirs = names(&redis);
    assert_eq!(ours[..theirs.len()], theirs[..]);
    for extra in [
        "snapshot_mode",
        "forkless_early_slots",
        "forkless_early_keys",
        "forkless_extra_bytes_peak",
    ] {
        assert!(ours.iter().any(|n| n == extra), "{extra} missing: {ours:?}");
    }
}

/// Reads (INFO keyspace over every slot, GET, EXISTS, TTL) during a
/// forkless BGSAVE copy nothing ahead of the cursor: only writers pay.
#[test]
fn reads_during_a_forkless_bgsave_do_not_serialize_slots_early() {
    let server = start_ringkv(ringkv_bin(), &["--rdb-key-save-delay", "200"]);
    let mut c = Conn::open(&server);
    let mut args = vec!["MSET".to_string()];
    for i in 0..3000 {
        args.push(format!("k{i}"));
        args.push(i.to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.text(&refs), "+OK");
    assert_eq!(c.text(&["BGSAVE"]), "+Background saving started");
    for i in 0..5 {
        assert!(c.text(&["INFO", "keyspace"]).contains("db0:keys=3000"));
        for k in (i..3000).step_by(50) {
            assert_eq!(c.text(&["GET", &format!("k{k}")]), format!("{k}"));
            assert_eq!(c.text(&["EXISTS", &format!("k{k}")]), ":1");
            assert_eq!(c.text(&["TTL", &format!("k{k}")]), ":-1");
        }
        assert_eq!(c.info_field("persistence", "rdb_bgsave_in_progress"), "1");
    }
    c.wait_bgsave_done();
    assert_eq!(c.info_field("persistence", "forkless_early_slots"), "0");
    assert_eq!(c.info_field("persistence", "forkless_early_keys"), "0");
    assert_eq!(c.info_field("persistence", "rdb_last_bgsave_status"), "ok");
}

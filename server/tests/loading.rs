//! Serving clients while the dataset loads at startup, as Redis does:
//! INFO reports `loading:1`, commands Redis allows while loading answer,
//! the rest get `-LOADING`, SHUTDOWN never saves a half-loaded dataset, and
//! once loaded everything is there. Redis's hidden `key-load-delay` (µs per
//! key) makes the load last long enough to watch.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use ringkv_testkit::resp::RawConn;
use ringkv_testkit::{free_port, info_value, require_binary, start_ringkv, ServerProcess};

const KEYS: usize = 2_000;

fn ringkv_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_ringkv"))
}

/// A saved dump.rdb of `KEYS` keys in a data directory.
fn saved_dataset() -> tempfile::TempDir {
    let mut server = start_ringkv(ringkv_bin(), &[]);
    let mut c = RawConn::new(server.connect());
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(500) {
        let mut args = vec!["MSET".to_string()];
        for i in chunk {
            args.push(format!("key:{i}"));
            args.push(format!("value:{i}"));
        }
        assert_eq!(c.call(&args), b"+OK\r\n");
    }
    assert_eq!(c.call(&["SAVE"]), b"+OK\r\n");
    server.terminate();
    std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap())
}

/// Starts ringkv on `dir` with a 1 ms pause per loaded key, without waiting
/// for the load.
fn start_slow_load(dir: tempfile::TempDir) -> ServerProcess {
    start_slow_load_with(Server::Ringkv, dir, 1000, &["--save", ""])
}

#[derive(Debug, Clone, Copy)]
enum Server {
    Ringkv,
    Redis,
}

/// Starts `server` on `dir` with a pause of `delay_us` per loaded key (and
/// Redis told to serve events every KiB of the file instead of every 2
/// MB), without waiting for the load.
fn start_slow_load_with(
    server: Server,
    dir: tempfile::TempDir,
    delay_us: u32,
    extra: &[&str],
) -> ServerProcess {
    let port = free_port();
    let mut args: Vec<String> = match server {
        Server::Ringkv => vec!["serve".into(), "--metrics-port".into(), "0".into()],
        Server::Redis => vec!["--bind".into(), "127.0.0.1".into()],
    };
    args.extend(
        [
            "--port",
            &port.to_string(),
            "--dir",
            &dir.path().display().to_string(),
            "--key-load-delay",
            &delay_us.to_string(),
            "--loading-process-events-interval-bytes",
            "1024",
        ]
        .iter()
        .chain(extra)
        .map(|s| s.to_string()),
    );
    match server {
        Server::Ringkv => ServerProcess::spawn("ringkv", ringkv_bin(), &args, port, dir),
        Server::Redis => {
            let program = require_binary("redis-server");
            ServerProcess::spawn("redis-server", &program, &args, port, dir)
        }
    }
}

/// Waits until INFO says the server is loading; returns that INFO.
fn wait_loading(c: &mut RawConn) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let info = text(c.call(&["INFO", "persistence"]));
        if info.contains("loading:1\r\n") {
            return info;
        }
        assert!(Instant::now() < deadline, "never seen loading: {info}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The numeric value of `field` in an INFO reply.
fn info_field(info: &str, field: &str) -> Option<u64> {
    info_value(info, field).and_then(|v| v.parse().ok())
}

fn text(reply: Vec<u8>) -> String {
    String::from_utf8_lossy(&reply).into_owned()
}

#[test]
fn clients_are_served_while_the_dataset_loads() {
    let dir = saved_dataset();
    let server = start_slow_load(dir);
    let mut c = RawConn::new(server.connect());
    // 2,000 keys at 1 ms each: the load runs for about two seconds.
    let info = text(c.call(&["INFO", "persistence"]));
    assert!(info.contains("loading:1\r\n"), "{info}");
    let loading = "-LOADING Redis is loading the dataset in memory\r\n";
    assert_eq!(text(c.call(&["GET", "key:1"])), loading);
    assert_eq!(text(c.call(&["PING"])), loading);
    assert_eq!(text(c.call(&["DBSIZE"])), loading);
    assert_eq!(text(c.call(&["DEBUG", "RELOAD"])), loading);
    assert_eq!(
        text(c.call(&["CONFIG", "SET", "appendonly", "yes"])),
        loading
    );
    // Allowed while loading, as in Redis.
    assert_eq!(text(c.call(&["ECHO", "hi"])), "$2\r\nhi\r\n");
    assert!(text(c.call(&["CONFIG", "GET", "port"])).starts_with("*2\r\n"));
    assert!(text(c.call(&["CLIENT", "ID"])).starts_with(':'));
    // Inside MULTI a refused command dooms EXEC.
    assert_eq!(text(c.call(&["MULTI"])), "+OK\r\n");
    assert_eq!(text(c.call(&["GET", "key:1"])), loading);
    assert!(text(c.call(&["EXEC"])).starts_with("-EXECABORT"));
    // Then everything is there.
    let deadline = Instant::now() + Duration::from_secs(60);
    while text(c.call(&["PING"])) != "+PONG\r\n" {
        assert!(Instant::now() < deadline, "still loading after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(text(c.call(&["DBSIZE"])), format!(":{KEYS}\r\n"));
    assert_eq!(text(c.call(&["GET", "key:7"])), "$7\r\nvalue:7\r\n");
    let info = text(c.call(&["INFO", "persistence"]));
    assert!(info.contains("loading:0\r\n"), "{info}");
}

#[test]
fn shutdown_while_loading_does_not_save() {
    let dir = saved_dataset();
    let before = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    let mut server = start_slow_load(dir);
    let mut c = RawConn::new(server.connect());
    assert!(text(c.call(&["INFO", "persistence"])).contains("loading:1\r\n"));
    // SHUTDOWN SAVE while loading is SHUTDOWN NOSAVE (Redis 7.0): the file
    // on disk is the whole dataset, the memory only part of it.
    let mut raw = server.connect();
    raw.write_all(b"SHUTDOWN SAVE\r\n").unwrap();
    assert_eq!(server.wait_exit(Duration::from_secs(60)), Some(0));
    let after = std::fs::read(server.dir.path().join("dump.rdb")).unwrap();
    assert!(before == after, "dump.rdb was rewritten during the load");
}

#[test]
fn sigterm_while_loading_exits_at_once_without_saving() {
    // The same against redis-server 7.0: it exits from the load at once
    // (SHUTDOWN NOSAVE semantics) though save points are configured.
    for server in [Server::Ringkv, Server::Redis] {
        let dir = saved_dataset();
        let before = std::fs::read(dir.path().join("dump.rdb")).unwrap();
        // 2,000 keys at 10 ms each: a 20 s load, and save points (the
        // defaults) that would make a normal SIGTERM save.
        let mut process = start_slow_load_with(server, dir, 10_000, &[]);
        let mut c = RawConn::new(process.connect());
        wait_loading(&mut c);
        let asked = Instant::now();
        // terminate() gives up after 10 s: only a load that stops early
        // exits in time.
        assert_eq!(
            process.terminate(),
            Some(0),
            "{server:?}: {}",
            process.log()
        );
        assert!(asked.elapsed() < Duration::from_secs(10), "{server:?}");
        let after = std::fs::read(process.dir.path().join("dump.rdb")).unwrap();
        assert!(before == after, "{server:?}: dump.rdb was rewritten");
    }
}

#[test]
fn aof_load_reports_its_progress_in_info() {
    let mut writer = start_ringkv(ringkv_bin(), &["--appendonly", "yes"]);
    let mut c = RawConn::new(writer.connect());
    for i in 0..3_000 {
        assert_eq!(c.call(&["SET", &format!("key:{i}"), "value"]), b"+OK\r\n");
    }
    assert_eq!(writer.terminate(), Some(0));
    let dir = std::mem::replace(&mut writer.dir, tempfile::tempdir().unwrap());
    // Redis's loading_total_bytes for an AOF: base and incr files summed.
    let total: u64 = std::fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !e.file_name().to_string_lossy().ends_with(".manifest"))
        .map(|e| e.metadata().unwrap().len())
        .sum();
    assert!(total > 3_000 * 30, "{total}");
    let server = start_slow_load_with(
        Server::Ringkv,
        dir,
        1000,
        &["--save", "", "--appendonly", "yes"],
    );
    let mut c = RawConn::new(server.connect());
    let first = wait_loading(&mut c);
    assert_eq!(
        info_field(&first, "loading_total_bytes"),
        Some(total),
        "{first}"
    );
    assert!(
        info_field(&first, "loading_start_time").is_some(),
        "{first}"
    );
    assert!(first.contains("loading_loaded_perc:"), "{first}");
    // Progress moves (every 1024 commands, as Redis reports it).
    let deadline = Instant::now() + Duration::from_secs(30);
    let loaded = |info: &str| info_field(info, "loading_loaded_bytes").unwrap_or(0);
    loop {
        let info = text(c.call(&["INFO", "persistence"]));
        if info.contains("loading:1\r\n") && loaded(&info) > loaded(&first) {
            assert!(loaded(&info) < total, "{info}");
            break;
        }
        assert!(Instant::now() < deadline, "no progress: {info}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while text(c.call(&["PING"])) != "+PONG\r\n" {
        assert!(Instant::now() < deadline, "still loading after 60 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let info = text(c.call(&["INFO", "persistence"]));
    assert!(!info.contains("loading_total_bytes"), "{info}");
    assert_eq!(text(c.call(&["DBSIZE"])), ":3000\r\n");
}

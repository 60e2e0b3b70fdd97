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
use ringkv_testkit::{free_port, start_ringkv, ServerProcess};

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
    let port = free_port();
    let args: Vec<String> = [
        "serve",
        "--port",
        &port.to_string(),
        "--dir",
        &dir.path().display().to_string(),
        "--save",
        "",
        "--metrics-port",
        "0",
        "--key-load-delay",
        "1000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    ServerProcess::spawn("ringkv", ringkv_bin(), &args, port, dir)
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

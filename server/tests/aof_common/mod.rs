//! Helpers shared by the AOF integration tests: starting servers on a
//! given data directory and reading a whole dataset for comparison.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ringkv_testkit::{free_port, start_redis, start_ringkv_in, ServerProcess};

pub fn ringkv_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ringkv"))
}

/// Starts ringkv with AOF on in `dir` (a fresh temp dir when None).
pub fn ringkv_aof(dir: Option<tempfile::TempDir>, extra: &[&str]) -> ServerProcess {
    let dir = dir.unwrap_or_else(|| tempfile::tempdir().unwrap());
    let mut args = vec!["--appendonly", "yes", "--io-threads", "2"];
    args.extend_from_slice(extra);
    start_ringkv_in(&ringkv_bin(), &args, free_port(), dir)
}

/// Takes the server's data directory (after it stopped) for a restart.
pub fn take_dir(server: &mut ServerProcess) -> tempfile::TempDir {
    std::mem::replace(&mut server.dir, tempfile::tempdir().unwrap())
}

/// Starts redis-server 7.0 with AOF on, on the files in `dir`.
pub fn redis_aof_on(dir: &Path, extra: &[&str]) -> ServerProcess {
    let d = dir.display().to_string();
    let mut args = vec!["--dir", d.as_str(), "--appendonly", "yes"];
    args.extend_from_slice(extra);
    let server = start_redis(&args);
    // redis-server answers LOADING until the AOF is in memory.
    let mut c = conn(&server);
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(e) = redis::cmd("PING").query::<String>(&mut c) {
        assert!(
            Instant::now() < deadline,
            "redis-server did not finish loading: {e}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

pub fn conn(server: &ServerProcess) -> redis::Connection {
    redis::Client::open(server.url())
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(10))
        .unwrap()
}

/// Every key of every database, rendered with its type, value and whether
/// it has a TTL.
pub fn dataset(c: &mut redis::Connection) -> BTreeMap<(u32, Vec<u8>), String> {
    let mut out = BTreeMap::new();
    for db in 0..16u32 {
        redis::cmd("SELECT").arg(db).query::<()>(c).unwrap();
        let keys: Vec<Vec<u8>> = redis::cmd("KEYS").arg("*").query(c).unwrap();
        for k in keys {
            let t: String = redis::cmd("TYPE").arg(&k).query(c).unwrap();
            let v = match t.as_str() {
                "string" => format!(
                    "{:?}",
                    redis::cmd("GET").arg(&k).query::<Vec<u8>>(c).unwrap()
                ),
                "list" => format!(
                    "{:?}",
                    redis::cmd("LRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .query::<Vec<Vec<u8>>>(c)
                        .unwrap()
                ),
                "hash" => {
                    let mut h: Vec<(Vec<u8>, Vec<u8>)> =
                        redis::cmd("HGETALL").arg(&k).query(c).unwrap();
                    h.sort();
                    format!("{h:?}")
                }
                "set" => {
                    let mut s: Vec<Vec<u8>> = redis::cmd("SMEMBERS").arg(&k).query(c).unwrap();
                    s.sort();
                    format!("{s:?}")
                }
                "zset" => format!(
                    "{:?}",
                    redis::cmd("ZRANGE")
                        .arg(&k)
                        .arg(0)
                        .arg(-1)
                        .arg("WITHSCORES")
                        .query::<Vec<Vec<u8>>>(c)
                        .unwrap()
                ),
                "none" => continue,
                other => format!("type {other}"),
            };
            let ttl: i64 = redis::cmd("PTTL").arg(&k).query(c).unwrap();
            out.insert((db, k), format!("{t} {v} ttl={}", ttl > 0));
        }
    }
    redis::cmd("SELECT").arg(0).query::<()>(c).unwrap();
    out
}

/// Waits until INFO persistence shows no rewrite running or scheduled.
pub fn wait_rewrite_done(c: &mut redis::Connection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(c).unwrap();
        if info.contains("aof_rewrite_in_progress:0") && info.contains("aof_rewrite_scheduled:0") {
            assert!(info.contains("aof_last_bgrewrite_status:ok"), "{info}");
            return;
        }
        assert!(Instant::now() < deadline, "rewrite did not finish:\n{info}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Writes a mix of types over several databases; `tag` varies the values.
pub fn write_mix(c: &mut redis::Connection, tag: &str, n: usize) {
    for i in 0..n {
        let db = (i % 3) as u32;
        redis::cmd("SELECT").arg(db).query::<()>(c).unwrap();
        let _: () = redis::cmd("SET")
            .arg(format!("s:{i}"))
            .arg(format!("{tag}-{i}"))
            .query(c)
            .unwrap();
        let _: i64 = redis::cmd("RPUSH")
            .arg(format!("l:{}", i % 7))
            .arg(format!("{tag}{i}"))
            .query(c)
            .unwrap();
        let _: i64 = redis::cmd("HSET")
            .arg(format!("h:{}", i % 5))
            .arg(format!("f{i}"))
            .arg(tag)
            .query(c)
            .unwrap();
        if i % 4 == 0 {
            let _: () = redis::cmd("SET")
                .arg(format!("e:{i}"))
                .arg("v")
                .arg("EX")
                .arg(1000)
                .query(c)
                .unwrap();
            let _: i64 = redis::cmd("INCR").arg("counter").query(c).unwrap();
        }
        if i % 10 == 0 {
            let _: i64 = redis::cmd("DEL")
                .arg(format!("s:{}", i / 2))
                .query(c)
                .unwrap();
        }
    }
    redis::cmd("SELECT").arg(0).query::<()>(c).unwrap();
}

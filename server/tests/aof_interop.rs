//! AOF interop with redis-server 7.0, both directions: a ringkv AOF
//! directory (base + several incr segments + manifest, after rewrites)
//! passes redis-check-aof and loads in redis-server with the same data; a
//! redis-server AOF directory (RDB or RESP base, with and without `#TS:`)
//! loads in ringkv with the same data.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::fs;
use std::time::Duration;

use aof_common::*;
use ringkv_testkit::{require_binary, run_program};

fn big_values(c: &mut redis::Connection, prefix: &str, n: usize) {
    let value = "x".repeat(1024);
    for i in 0..n {
        let _: () = redis::cmd("SET")
            .arg(format!("{prefix}{i}"))
            .arg(&value)
            .query(c)
            .unwrap();
    }
}

#[test]
fn ringkv_dir_passes_redis_check_aof_and_loads_in_redis() {
    let mut server = ringkv_aof(None, &["--aof-segment-max-bytes", "1mb"]);
    let mut c = conn(&server);
    write_mix(&mut c, "a", 300);
    big_values(&mut c, "big1:", 1200);
    std::thread::sleep(Duration::from_millis(400)); // cron rotates the incr file
    let r: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(r, "Background append only file rewriting started");
    wait_rewrite_done(&mut c);
    write_mix(&mut c, "b", 200);
    big_values(&mut c, "big2:", 1200);
    std::thread::sleep(Duration::from_millis(400));
    write_mix(&mut c, "c", 100);
    let expected = dataset(&mut c);
    assert!(expected.len() > 2000);
    drop(c);
    assert_eq!(server.terminate(), Some(0));
    let dir = take_dir(&mut server);
    let aofdir = dir.path().join("appendonlydir");
    let manifest = fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
    assert!(
        manifest.starts_with("file appendonly.aof.2.base.rdb seq 2 type b\n"),
        "{manifest}"
    );
    let incrs = manifest.lines().filter(|l| l.ends_with("type i")).count();
    assert!(incrs >= 2, "expected several incr segments:\n{manifest}");
    let incr = fs::read(aofdir.join("appendonly.aof.3.incr.aof")).unwrap();
    assert!(incr.windows(14).any(|w| w == b"#ringkv-crc64:"));

    let manifest_path = aofdir.join("appendonly.aof.manifest");
    let (ok, out, err) = run_program(
        &require_binary("redis-check-aof"),
        &[manifest_path.to_str().unwrap()],
        None,
    );
    assert!(ok, "redis-check-aof failed:\n{out}{err}");
    assert!(
        out.contains("All AOF files and manifest are valid"),
        "{out}"
    );
    let (ok, out, err) = run_program(
        &ringkv_bin(),
        &["check-aof", manifest_path.to_str().unwrap()],
        None,
    );
    assert!(ok, "ringkv check-aof failed:\n{out}{err}");
    assert!(
        out.contains("group checksums of appendonly.aof.3.incr.aof: ok"),
        "{out}"
    );

    let redis = redis_aof_on(dir.path(), &[]);
    let mut rc = conn(&redis);
    assert_eq!(
        dataset(&mut rc),
        expected,
        "redis-server loaded different data"
    );
    drop(rc);
    drop(redis);

    // And ringkv itself restarts into the same data.
    let again = ringkv_aof(Some(dir), &[]);
    assert_eq!(dataset(&mut conn(&again)), expected);
}

fn redis_dir_loads_in_ringkv(preamble: &str, timestamps: &str) {
    let mut redis = redis_aof_on_fresh(&[
        "--aof-use-rdb-preamble",
        preamble,
        "--aof-timestamp-enabled",
        timestamps,
    ]);
    let mut c = conn(&redis);
    write_mix(&mut c, "r1", 200);
    let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    wait_rewrite_done(&mut c);
    if timestamps == "yes" {
        // Redis writes #TS only when the second changes.
        std::thread::sleep(Duration::from_millis(1100));
    }
    write_mix(&mut c, "r2", 150);
    let expected = dataset(&mut c);
    drop(c);
    redis.terminate();
    let dir = take_dir(&mut redis);
    let files: Vec<String> = fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let base_ext = if preamble == "yes" {
        ".base.rdb"
    } else {
        ".base.aof"
    };
    assert!(files.iter().any(|f| f.ends_with(base_ext)), "{files:?}");
    if timestamps == "yes" {
        let incr = fs::read(dir.path().join("appendonlydir/appendonly.aof.2.incr.aof")).unwrap();
        assert!(incr.starts_with(b"#TS:"), "redis wrote no #TS");
    }
    let redis_incr = fs::read(dir.path().join("appendonlydir/appendonly.aof.2.incr.aof")).unwrap();
    let server = ringkv_aof(Some(dir), &[]);
    let mut c = conn(&server);
    assert_eq!(dataset(&mut c), expected);
    // Redis's incr file has no group checksums: ringkv appends to a new
    // one instead, so each checksum it writes covers a whole group.
    redis::cmd("SET")
        .arg("after")
        .arg("1")
        .query::<()>(&mut c)
        .unwrap();
    let aofdir = server.dir.path().join("appendonlydir");
    assert_eq!(
        fs::read(aofdir.join("appendonly.aof.2.incr.aof")).unwrap(),
        redis_incr
    );
    let manifest = fs::read_to_string(aofdir.join("appendonly.aof.manifest")).unwrap();
    assert!(manifest.contains("appendonly.aof.3.incr.aof"), "{manifest}");
}

fn redis_aof_on_fresh(extra: &[&str]) -> ringkv_testkit::ServerProcess {
    let mut args = vec!["--appendonly", "yes"];
    args.extend_from_slice(extra);
    ringkv_testkit::start_redis(&args)
}

#[test]
fn redis_dir_with_rdb_base_loads_in_ringkv() {
    redis_dir_loads_in_ringkv("yes", "no");
}

#[test]
fn redis_dir_with_resp_base_and_timestamps_loads_in_ringkv() {
    redis_dir_loads_in_ringkv("no", "yes");
}

#[test]
fn redis_dir_with_rdb_base_and_timestamps_loads_in_ringkv() {
    redis_dir_loads_in_ringkv("yes", "yes");
}

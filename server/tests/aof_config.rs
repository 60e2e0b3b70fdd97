//! AOF configuration at runtime and at startup: CONFIG SET appendonly yes
//! builds the AOF from the dataset (a rewrite), appendfsync switches live,
//! `appendonly yes` with only a dump.rdb loads it as the first base
//! (ringkv's fix), and INFO persistence shows the AOF fields.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::fs;
use std::path::PathBuf;

use aof_common::*;
use ringkv_testkit::{free_port, start_redis, start_ringkv_in};

#[test]
fn config_set_appendonly_yes_builds_the_aof_from_the_dataset() {
    let mut server = start_ringkv_in(
        &ringkv_bin(),
        &[],
        free_port(),
        tempfile::tempdir().unwrap(),
    );
    let mut c = conn(&server);
    write_mix(&mut c, "before", 150);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendonly")
        .arg("yes")
        .query(&mut c)
        .unwrap();
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_enabled:1"), "{info}");
    wait_rewrite_done(&mut c);
    write_mix(&mut c, "after", 50);
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("always")
        .query(&mut c)
        .unwrap();
    write_mix(&mut c, "always", 30);
    // Keyspace-wide writes replay in their place too.
    let _: () = redis::cmd("SWAPDB").arg(0).arg(1).query(&mut c).unwrap();
    let _: () = redis::cmd("SELECT").arg(2).query(&mut c).unwrap();
    let _: () = redis::cmd("FLUSHDB").query(&mut c).unwrap();
    let _: () = redis::cmd("SELECT").arg(0).query(&mut c).unwrap();
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    for field in [
        "aof_current_size:",
        "aof_base_size:",
        "aof_delayed_fsync:0",
        "aof_last_write_status:ok",
        "aof_fsync_groups:",
        "aof_durable_lsn_lag_bytes:",
        "aof_io_backend:",
    ] {
        assert!(info.contains(field), "missing {field}:\n{info}");
    }
    let expected = dataset(&mut c);
    drop(c);
    server.kill9();
    let dir = take_dir(&mut server);
    let mut names: Vec<String> = fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "appendonly.aof.1.base.rdb",
            "appendonly.aof.1.incr.aof",
            "appendonly.aof.manifest"
        ]
    );
    let again = ringkv_aof(Some(dir), &[]);
    assert_eq!(dataset(&mut conn(&again)), expected);
}

#[test]
fn appendonly_yes_with_only_a_dump_rdb_loads_it_as_the_first_base() {
    let mut redis = start_redis(&[]);
    let mut c = conn(&redis);
    write_mix(&mut c, "rdb", 100);
    let _: () = redis::cmd("SAVE").query(&mut c).unwrap();
    let expected = dataset(&mut c);
    drop(c);
    redis.terminate();
    let dump: PathBuf = redis.dir.path().join("dump.rdb");
    let dir = tempfile::tempdir().unwrap();
    fs::copy(&dump, dir.path().join("dump.rdb")).unwrap();
    let mut server = ringkv_aof(Some(dir), &[]);
    assert_eq!(dataset(&mut conn(&server)), expected);
    assert!(
        server.log().contains("made it the first AOF base"),
        "{}",
        server.log()
    );
    server.kill9();
    // The AOF now carries the data on its own.
    let dir = take_dir(&mut server);
    fs::remove_file(dir.path().join("dump.rdb")).unwrap();
    let again = ringkv_aof(Some(dir), &[]);
    assert_eq!(dataset(&mut conn(&again)), expected);
}

#[test]
fn automatic_rewrite_and_scheduled_rewrite_in_multi() {
    let server = ringkv_aof(
        None,
        &[
            "--auto-aof-rewrite-min-size",
            "4kb",
            "--auto-aof-rewrite-percentage",
            "100",
        ],
    );
    let mut c = conn(&server);
    write_mix(&mut c, "grow", 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
        if !info.contains("aof_rewrites:0\r\n") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no automatic rewrite:\n{info}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    wait_rewrite_done(&mut c);
    let (q, r): (String, Vec<String>) = redis::pipe()
        .cmd("MULTI")
        .ignore()
        .cmd("BGREWRITEAOF")
        .cmd("EXEC")
        .query(&mut c)
        .map(|(q, r): (String, Vec<String>)| (q, r))
        .unwrap();
    assert_eq!(q, "QUEUED");
    assert_eq!(r, ["Background append only file rewriting scheduled"]);
    wait_rewrite_done(&mut c);
    let expected = dataset(&mut c);
    drop(c);
    let mut server = server;
    server.kill9();
    let again = ringkv_aof(Some(take_dir(&mut server)), &[]);
    assert_eq!(dataset(&mut conn(&again)), expected);
}

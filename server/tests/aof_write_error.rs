//! A failing AOF write (here: a file-size limit set on the running server
//! with prlimit, so writes fail with EFBIG) turns into Redis's MISCONF
//! refusal and `aof_last_write_status:err`, and under `appendfsync always`
//! no write that was not persisted is acknowledged.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::path::Path;

use aof_common::*;
use ringkv_testkit::{require_binary, run_program};

#[test]
fn write_errors_refuse_writes_and_never_acknowledge_unpersisted_ones() {
    if !Path::new("/usr/bin/prlimit").exists() {
        panic!("prlimit (util-linux) is needed for this test");
    }
    let mut server = ringkv_aof(None, &["--appendfsync", "always"]);
    let mut c = conn(&server);
    for i in 0..20 {
        let _: () = redis::cmd("SET")
            .arg(format!("pre{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    let pid = server.pid().to_string();
    // The incr file is preallocated well past this size, so the next
    // zero-fill step (or write) fails.
    let (ok, out, err) = run_program(
        &require_binary("prlimit"),
        &["--pid", &pid, "--fsize=4096:4096"],
        None,
    );
    assert!(ok, "prlimit failed: {out}{err}");
    let big = "v".repeat(64 * 1024);
    let mut acked = Vec::new();
    let mut saw_failure = false;
    for i in 0..400 {
        let mut c2 = match redis::Client::open(server.url()).unwrap().get_connection() {
            Ok(c) => c,
            Err(_) => break,
        };
        match redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(&big)
            .query::<()>(&mut c2)
        {
            Ok(()) => acked.push(i),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("Errors writing to the AOF file")
                        || e.is_connection_dropped()
                        || e.is_io_error()
                        || msg.contains("end of file"),
                    "unexpected error: {msg}"
                );
                saw_failure = true;
                if msg.contains("MISCONF") {
                    break;
                }
            }
        }
    }
    assert!(saw_failure, "writes never failed ({} acked)", acked.len());
    let mut c = conn(&server);
    let info: String = redis::cmd("INFO").arg("persistence").query(&mut c).unwrap();
    assert!(info.contains("aof_last_write_status:err"), "{info}");
    let refused: redis::RedisResult<()> = redis::cmd("SET").arg("x").arg(1).query(&mut c);
    assert!(refused.unwrap_err().to_string().contains("MISCONF"));
    let ping: redis::RedisResult<String> = redis::cmd("PING").query(&mut c);
    assert!(ping.unwrap_err().to_string().contains("MISCONF"));
    let get: Option<String> = redis::cmd("GET").arg("pre1").query(&mut c).unwrap();
    assert_eq!(get.as_deref(), Some("1"), "reads still work");
    drop(c);
    server.kill9();
    let dir = take_dir(&mut server);
    let again = ringkv_aof(Some(dir), &[]);
    let mut c = conn(&again);
    for i in acked {
        let v: Option<String> = redis::cmd("GET")
            .arg(format!("k{i}"))
            .query(&mut c)
            .unwrap();
        assert!(v.is_some(), "acknowledged write k{i} was lost");
    }
    for i in 0..20 {
        let v: Option<u32> = redis::cmd("GET")
            .arg(format!("pre{i}"))
            .query(&mut c)
            .unwrap();
        assert_eq!(v, Some(i));
    }
}

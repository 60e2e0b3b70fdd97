//! A crash at each step of an AOF rewrite (debug builds'
//! `RINGKV_DEBUG_AOF_CRASH`) restarts into a consistent dataset. Alone in
//! its test binary: it sets an environment variable the servers inherit.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::time::Duration;

use aof_common::*;

#[cfg(debug_assertions)]
#[test]
fn crash_at_each_rewrite_step_restarts_consistently() {
    for step in [
        "rewrite-after-switch",
        "rewrite-before-base-rename",
        "rewrite-after-base-rename",
        "rewrite-after-manifest",
    ] {
        // The crash point is read by the child; only this test in this
        // binary sets it, and it runs the steps one after another.
        std::env::set_var("RINGKV_DEBUG_AOF_CRASH", step);
        let mut server = ringkv_aof(None, &["--appendfsync", "always"]);
        std::env::remove_var("RINGKV_DEBUG_AOF_CRASH");
        let mut c = conn(&server);
        write_mix(&mut c, step, 120);
        let expected = dataset(&mut c);
        let _: redis::RedisResult<String> = redis::cmd("BGREWRITEAOF").query(&mut c);
        drop(c);
        server.wait_exit(Duration::from_secs(20));
        let log = server.log();
        assert!(
            log.contains(&format!("aborting at {step}")),
            "{step}: server did not crash there:\n{log}"
        );
        let dir = take_dir(&mut server);
        let again = ringkv_aof(Some(dir), &[]);
        let mut c = conn(&again);
        assert_eq!(dataset(&mut c), expected, "after a crash at {step}");
        // And it keeps working: a rewrite now completes.
        let _: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        wait_rewrite_done(&mut c);
    }
}

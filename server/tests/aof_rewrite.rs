//! AOF rewrites while writers run: base + new incr equals the dataset.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::fs;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aof_common::*;

#[test]
fn rewrites_while_writers_run_keep_the_dataset() {
    let mut server = ringkv_aof(None, &["--appendfsync", "everysec"]);
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|t| {
            let stop = stop.clone();
            let url = server.url();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let _: i64 = redis::cmd("INCR")
                        .arg(format!("ctr{t}"))
                        .query(&mut c)
                        .unwrap();
                    let _: i64 = redis::cmd("RPUSH")
                        .arg(format!("list{}", i % 10))
                        .arg(i)
                        .query(&mut c)
                        .unwrap();
                    let _: () = redis::cmd("SET")
                        .arg(format!("k{t}:{}", i % 500))
                        .arg(i)
                        .query(&mut c)
                        .unwrap();
                    i += 1;
                }
            })
        })
        .collect();
    let mut c = conn(&server);
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(300));
        let r: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
        assert_eq!(r, "Background append only file rewriting started");
        wait_rewrite_done(&mut c);
    }
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let expected = dataset(&mut c);
    drop(c);
    server.kill9();
    let dir = take_dir(&mut server);
    let names: Vec<String> = fs::read_dir(dir.path().join("appendonlydir"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains(&"appendonly.aof.4.base.rdb".to_string()),
        "{names:?}"
    );
    assert!(
        !names
            .iter()
            .any(|n| n.contains(".1.") || n.contains(".3.base")),
        "history left: {names:?}"
    );
    let again = ringkv_aof(Some(dir), &[]);
    assert_eq!(dataset(&mut conn(&again)), expected);
}

#[test]
fn bgrewriteaof_twice_reports_in_progress_or_starts() {
    let server = ringkv_aof(None, &[]);
    let mut c = conn(&server);
    write_mix(&mut c, "x", 50);
    let r: String = redis::cmd("BGREWRITEAOF").query(&mut c).unwrap();
    assert_eq!(r, "Background append only file rewriting started");
    let second: redis::RedisResult<String> = redis::cmd("BGREWRITEAOF").query(&mut c);
    match second {
        Ok(s) => assert_eq!(s, "Background append only file rewriting started"),
        Err(e) => assert!(
            e.to_string()
                .contains("Background append only file rewriting already in progress"),
            "{e}"
        ),
    }
    wait_rewrite_done(&mut c);
}

//! Durability across `kill -9`: under `appendfsync always` no acknowledged
//! write is ever lost; under `everysec` at most about a second is.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aof_common::*;
use rand::Rng;

const WRITERS: usize = 4;

/// Runs writers, each sending `pipeline` SETs at a time, until killed;
/// returns, per writer, the acknowledged sequence numbers with their ack
/// times.
fn write_until_killed(
    server: &mut ringkv_testkit::ServerProcess,
    kill_after: Duration,
    pipeline: u64,
) -> (Vec<Vec<(u64, Instant)>>, Instant) {
    let stop = Arc::new(AtomicBool::new(false));
    let url = server.url();
    let handles: Vec<_> = (0..WRITERS)
        .map(|t| {
            let stop = stop.clone();
            let url = url.clone();
            std::thread::spawn(move || {
                let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
                let mut acked = Vec::new();
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // A pipeline's replies are held as one piece behind its
                    // last write: none may arrive before all are durable.
                    let mut pipe = redis::pipe();
                    for j in i..i + pipeline {
                        pipe.cmd("SET").arg(format!("w{t}:{j}")).arg(j).ignore();
                    }
                    let r: redis::RedisResult<()> = pipe.query(&mut c);
                    if r.is_err() {
                        break;
                    }
                    let at = Instant::now();
                    acked.extend((i..i + pipeline).map(|j| (j, at)));
                    i += pipeline;
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(kill_after);
    let killed_at = Instant::now();
    server.kill9();
    stop.store(true, Ordering::Relaxed);
    (
        handles.into_iter().map(|h| h.join().unwrap()).collect(),
        killed_at,
    )
}

fn missing(c: &mut redis::Connection, acked: &[Vec<(u64, Instant)>]) -> Vec<(usize, u64, Instant)> {
    let mut out = Vec::new();
    for (t, list) in acked.iter().enumerate() {
        for &(i, at) in list {
            let v: Option<u64> = redis::cmd("GET").arg(format!("w{t}:{i}")).query(c).unwrap();
            if v != Some(i) {
                out.push((t, i, at));
            }
        }
    }
    out
}

#[test]
fn always_never_loses_an_acknowledged_write() {
    let mut rng = rand::thread_rng();
    for round in 0..4 {
        // Each way a group is made durable: a write linked to a ring
        // fdatasync, overlapped ring fdatasyncs, O_DIRECT|O_DSYNC writes,
        // fdatasync(2) from the writer thread.
        let (mode, overlap) = [
            ("fdatasync", "1"),
            ("fdatasync", "4"),
            ("odirect", "1"),
            ("fdatasync-inline", "1"),
        ][round % 4];
        let mut server = ringkv_aof(
            None,
            &[
                "--appendfsync",
                "always",
                "--aof-fsync-mode",
                mode,
                "--aof-fsync-overlap",
                overlap,
            ],
        );
        let pipeline = if round % 2 == 1 { 8 } else { 1 };
        let (acked, _) = write_until_killed(
            &mut server,
            Duration::from_millis(rng.gen_range(300..1200)),
            pipeline,
        );
        let total: usize = acked.iter().map(Vec::len).sum();
        assert!(total > 50, "round {round}: too few writes ({total})");
        let dir = take_dir(&mut server);
        let restarted = ringkv_aof(Some(dir), &["--appendfsync", "always"]);
        let lost = missing(&mut conn(&restarted), &acked);
        assert!(
            lost.is_empty(),
            "round {round}: {} of {total} acknowledged writes lost, e.g. {:?}",
            lost.len(),
            &lost[..lost.len().min(5)]
        );
    }
}

#[test]
fn everysec_loses_at_most_about_a_second() {
    let mut server = ringkv_aof(None, &["--appendfsync", "everysec"]);
    let (acked, killed_at) = write_until_killed(&mut server, Duration::from_millis(1500), 1);
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total > 100, "too few writes ({total})");
    let dir = take_dir(&mut server);
    let restarted = ringkv_aof(Some(dir), &[]);
    let lost = missing(&mut conn(&restarted), &acked);
    for (t, i, at) in &lost {
        assert!(
            killed_at.duration_since(*at) < Duration::from_millis(1500),
            "writer {t} lost write {i} acknowledged {:?} before the kill",
            killed_at.duration_since(*at)
        );
    }
}

#[test]
fn always_sends_a_pipelined_batch_in_order_and_counts_it() {
    let server = ringkv_aof(None, &["--appendfsync", "always"]);
    let mut info = ringkv_testkit::connect_raw(server.port);
    // Reads before the first write leave at once; everything from the first
    // write on waits for the batch's last record, and nothing overtakes.
    let mut batch = Vec::new();
    for args in [
        &["GET", "k"][..],
        &["SET", "k", "1"],
        &["GET", "k"],
        &["INCR", "n"],
        &["PING"],
        &["INCR", "n"],
        &["GET", "n"],
    ] {
        batch.extend(ringkv_testkit::resp::encode_command(args));
    }
    let expected: &[u8] = b"$-1\r\n+OK\r\n$1\r\n1\r\n:1\r\n+PONG\r\n:2\r\n$1\r\n2\r\n";
    let (before, info_reply_bytes) = ringkv_testkit::net_output_bytes(&mut info);
    let mut raw = server.connect();
    let reply = ringkv_testkit::raw_exchange(&mut raw, &batch, expected.len());
    assert_eq!(
        String::from_utf8_lossy(&reply),
        String::from_utf8_lossy(expected)
    );
    let (after, _) = ringkv_testkit::net_output_bytes(&mut info);
    assert_eq!(
        after - before,
        info_reply_bytes + expected.len() as u64,
        "total_net_output_bytes must count the held replies ({} bytes) and the INFO reply ({info_reply_bytes})",
        expected.len()
    );
}

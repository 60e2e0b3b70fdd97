//! Torn and damaged AOF files: a torn last group is cut per
//! `aof-load-truncated`; damage in the middle is refused with the offset.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::fs;
use std::path::{Path, PathBuf};

use aof_common::*;
use ringkv_testkit::{free_port, run_program};

/// A clean AOF dir with `n` single-command groups (always: one group per
/// acknowledged write from one client).
fn make_dir(n: usize) -> (tempfile::TempDir, PathBuf) {
    let mut server = ringkv_aof(None, &["--appendfsync", "always"]);
    let mut c = conn(&server);
    for i in 0..n {
        let _: () = redis::cmd("SET")
            .arg(format!("k{i}"))
            .arg(i)
            .query(&mut c)
            .unwrap();
    }
    drop(c);
    assert_eq!(server.terminate(), Some(0));
    let dir = take_dir(&mut server);
    let incr = dir.path().join("appendonlydir/appendonly.aof.1.incr.aof");
    (dir, incr)
}

/// Offsets just past each checksum line.
fn group_ends(data: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut at = 0;
    while let Some(p) = data[at..].windows(14).position(|w| w == b"#ringkv-crc64:") {
        let line_end = at + p + data[at + p..].iter().position(|b| *b == b'\n').unwrap() + 1;
        ends.push(line_end);
        at = line_end;
    }
    ends
}

fn start_expecting_failure(dir: &Path, extra: &[&str]) -> String {
    let port = free_port().to_string();
    let d = dir.display().to_string();
    let mut args = vec![
        "serve",
        "--port",
        &port,
        "--dir",
        &d,
        "--save",
        "",
        "--appendonly",
        "yes",
    ];
    args.extend_from_slice(extra);
    let (ok, out, err) = run_program(&ringkv_bin(), &args, None);
    assert!(!ok, "ringkv started on a damaged AOF:\n{out}{err}");
    format!("{out}{err}")
}

#[test]
fn torn_last_group_is_cut_or_refused_per_aof_load_truncated() {
    let (dir, incr) = make_dir(20);
    let data = fs::read(&incr).unwrap();
    let ends = group_ends(&data);
    assert_eq!(ends.len(), 20, "one group per acknowledged write");
    // Tear the last group: lose its last 10 bytes.
    fs::write(&incr, &data[..data.len() - 10]).unwrap();
    let msg = start_expecting_failure(dir.path(), &["--aof-load-truncated", "no"]);
    assert!(msg.contains("Unexpected end of file"), "{msg}");
    let server = ringkv_aof(Some(dir), &[]);
    let mut c = conn(&server);
    let d = dataset(&mut c);
    assert_eq!(d.len(), 19, "the torn group is dropped, the rest kept");
    assert!(
        server.log().contains("Truncating the AOF"),
        "{}",
        server.log()
    );
}

#[test]
fn garbled_last_group_is_a_torn_tail_too() {
    let (dir, incr) = make_dir(10);
    let mut data = fs::read(&incr).unwrap();
    let ends = group_ends(&data);
    // Flip a byte inside the last group's value (before its checksum line).
    let last_start = ends[ends.len() - 2];
    let value_at = last_start
        + data[last_start..]
            .windows(3)
            .position(|w| w == b"\r\n9")
            .unwrap()
        + 2;
    data[value_at] = b'8';
    fs::write(&incr, &data).unwrap();
    let server = ringkv_aof(Some(dir), &[]);
    let d = dataset(&mut conn(&server));
    assert_eq!(d.len(), 9);
    assert!(!d.contains_key(&(0, b"k9".to_vec())));
}

#[test]
fn damage_in_the_middle_is_refused_with_the_offset() {
    let (dir, incr) = make_dir(10);
    let mut data = fs::read(&incr).unwrap();
    let ends = group_ends(&data);
    // Corrupt group 4 (starts at the end of group 3's checksum line).
    let start = ends[3];
    let value_at = start
        + data[start..]
            .windows(3)
            .position(|w| w == b"\r\nk")
            .unwrap()
        + 2;
    data[value_at] = b'K';
    fs::write(&incr, &data).unwrap();
    for truncated in ["yes", "no"] {
        let msg = start_expecting_failure(dir.path(), &["--aof-load-truncated", truncated]);
        assert!(
            msg.contains(&format!("appendonly.aof.1.incr.aof at offset {start}")),
            "expected the offset {start}:\n{msg}"
        );
    }
    let manifest = dir.path().join("appendonlydir/appendonly.aof.manifest");
    let (ok, out, _) = run_program(
        &ringkv_bin(),
        &["check-aof", manifest.to_str().unwrap()],
        None,
    );
    assert!(!ok);
    assert!(out.contains("MISMATCH"), "{out}");
}

//! `ringkv check-aof` against redis-check-aof 7.0 on the same damage:
//! detection, `--fix` of the last file, `--truncate-to-timestamp`.
#![allow(clippy::unwrap_used)]

mod aof_common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use aof_common::*;
use ringkv_testkit::{require_binary, run_program};

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn sizes(dir: &Path) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().len(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn check_fix_and_truncate_to_timestamp_agree_with_redis_check_aof() {
    let mut server = ringkv_aof(None, &["--aof-timestamp-enabled", "yes"]);
    let mut c = conn(&server);
    write_mix(&mut c, "one", 30);
    std::thread::sleep(Duration::from_millis(1100));
    write_mix(&mut c, "two", 30);
    drop(c);
    assert_eq!(server.terminate(), Some(0));
    let dir = take_dir(&mut server);
    let aofdir = dir.path().join("appendonlydir");
    let incr = aofdir.join("appendonly.aof.1.incr.aof");
    let data = fs::read(&incr).unwrap();
    let stamps: Vec<u64> = data
        .split(|b| *b == b'\n')
        .filter_map(|l| l.strip_prefix(b"#TS:"))
        .map(|d| std::str::from_utf8(d).unwrap().trim().parse().unwrap())
        .collect();
    assert!(stamps.len() >= 2, "expected two #TS lines");

    // --truncate-to-timestamp: same result as redis-check-aof on a copy.
    let ours = tempfile::tempdir().unwrap();
    let theirs = tempfile::tempdir().unwrap();
    copy_dir(&aofdir, ours.path());
    copy_dir(&aofdir, theirs.path());
    let ts = stamps[0].to_string();
    let m_ours = ours.path().join("appendonly.aof.manifest");
    let m_theirs = theirs.path().join("appendonly.aof.manifest");
    let (ok, out, err) = run_program(
        &ringkv_bin(),
        &[
            "check-aof",
            "--truncate-to-timestamp",
            &ts,
            m_ours.to_str().unwrap(),
        ],
        None,
    );
    assert!(ok, "{out}{err}");
    let (ok, out2, err2) = run_program(
        &require_binary("redis-check-aof"),
        &["--truncate-to-timestamp", &ts, m_theirs.to_str().unwrap()],
        None,
    );
    assert!(ok, "{out2}{err2}");
    assert_eq!(
        sizes(ours.path()),
        sizes(theirs.path()),
        "ours:\n{out}\ntheirs:\n{out2}"
    );

    // A torn last file: both refuse without --fix, both cut to the same
    // size with it.
    // Into the last command (a torn checksum line alone is skipped by
    // redis-check-aof, which reads `#` lines loosely).
    let cut = data.len() - 32 - 3;
    fs::write(ours.path().join("appendonly.aof.1.incr.aof"), &data[..cut]).unwrap();
    fs::write(
        theirs.path().join("appendonly.aof.1.incr.aof"),
        &data[..cut],
    )
    .unwrap();
    let (ok, out, _) = run_program(
        &ringkv_bin(),
        &["check-aof", m_ours.to_str().unwrap()],
        None,
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("is not valid. Use the --fix option to try fixing it."),
        "{out}"
    );
    let (ok, _, _) = run_program(
        &require_binary("redis-check-aof"),
        &[m_theirs.to_str().unwrap()],
        None,
    );
    assert!(!ok);
    let (ok, out, err) = run_program(
        &ringkv_bin(),
        &["check-aof", "--fix", m_ours.to_str().unwrap()],
        Some(b"y\n"),
    );
    assert!(ok, "{out}{err}");
    let (ok, _, _) = run_program(
        &require_binary("redis-check-aof"),
        &["--fix", m_theirs.to_str().unwrap()],
        Some(b"y\n"),
    );
    assert!(ok);
    let ours_len = fs::metadata(ours.path().join("appendonly.aof.1.incr.aof"))
        .unwrap()
        .len();
    let theirs_len = fs::metadata(theirs.path().join("appendonly.aof.1.incr.aof"))
        .unwrap()
        .len();
    // Redis cuts after the last complete command; ringkv also drops the
    // commands of the torn group that its checksum line no longer covers.
    assert!(
        ours_len <= theirs_len,
        "ours {ours_len} theirs {theirs_len}"
    );
    let (ok, out, _) = run_program(
        &require_binary("redis-check-aof"),
        &[m_ours.to_str().unwrap()],
        None,
    );
    assert!(ok, "redis-check-aof rejects ringkv's fix:\n{out}");
}

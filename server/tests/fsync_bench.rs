//! `ringkv fsync-bench` end to end: the binary's JSON output and its
//! refusal of directories it cannot write.
#![allow(clippy::unwrap_used)]

use std::process::Command;

fn ringkv() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ringkv"))
}

#[test]
fn short_run_prints_every_row_as_json_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let out = ringkv()
        .args([
            "fsync-bench",
            "--seconds",
            "0.2",
            "--size",
            "4096",
            "--json",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    // 5 single-writer methods + 4 GroupCommitLog widths, append and prealloc.
    assert_eq!(rows.len(), 18);
    for mode in ["append", "prealloc"] {
        for method in [
            "write+fsync",
            "write+fdatasync",
            "O_DSYNC write",
            "O_DIRECT|O_DSYNC write",
            "io_uring write->fdatasync",
            "GroupCommitLog x1",
            "GroupCommitLog x4",
            "GroupCommitLog x16",
            "GroupCommitLog x64",
        ] {
            let row = rows
                .iter()
                .find(|r| r["method"] == method && r["file"] == mode)
                .unwrap_or_else(|| panic!("no row for {method} {mode}"));
            assert_eq!(row["size_bytes"], 4096);
            if row["skipped"].is_null() {
                assert!(row["ops"].as_u64().unwrap() > 0, "{row}");
                assert!(row["ops_per_sec"].as_f64().unwrap() > 0.0);
                assert!(row["p99_us"].as_f64().unwrap() >= row["p50_us"].as_f64().unwrap());
            } else {
                // Only O_DIRECT (filesystem) and io_uring (sandbox) may be
                // unavailable, and then the row says why.
                assert!(
                    method.contains("O_DIRECT") || method.contains("io_uring"),
                    "{row}"
                );
                assert!(!row["skipped"].as_str().unwrap().is_empty());
            }
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "left files behind"
    );
}

#[test]
fn refuses_a_directory_it_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let missing = dir.path().join("missing");
    // Tests run as root, so permission bits would not stop us: use a path
    // that is a regular file, and one that does not exist.
    for (path, why) in [(&file, "not a directory"), (&missing, "not accessible")] {
        let out = ringkv()
            .args(["fsync-bench", "--seconds", "0.1", "--size", "64", "--dir"])
            .arg(path)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("cannot use") && stderr.contains(why),
            "{stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

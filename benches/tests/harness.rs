//! The harness's pieces against a real redis-server: start pinned, load,
//! measure RSS, run redis-benchmark and our loadgen, parse both.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;

use ringkv_benches::load::bulk_load;
use ringkv_benches::redis_benchmark::{parse_csv, BenchSpec};
use ringkv_benches::server::{ping, Binaries, Persistence, ServerKind, ServerProcess};

fn redis_only() -> Binaries {
    Binaries {
        redis_server: PathBuf::from("redis-server"),
        ringkv: PathBuf::new(),
    }
}

#[test]
fn loads_measures_and_benchmarks_redis() {
    let server = ServerProcess::start(&redis_only(), &ServerKind::Redis, Persistence::Off, "0")
        .expect("redis-server 7.0 and taskset must be installed");
    let empty = server.rss_bytes().unwrap();
    let n = bulk_load(
        server.port,
        (0..50_000u32).map(|i| {
            vec![
                b"SET".to_vec(),
                format!("k:{i}").into_bytes(),
                vec![b'v'; 100],
            ]
        }),
    )
    .unwrap();
    assert_eq!(n, 50_000);
    let full = server.rss_bytes().unwrap();
    assert!(full > empty + 4 * 50_000, "RSS {empty} -> {full}");

    // A failing command fails the load instead of being counted.
    assert!(bulk_load(server.port, [vec![b"NOSUCHCMD".to_vec()]]).is_err());

    let spec = BenchSpec {
        tests: "set,get".into(),
        clients: 4,
        requests: 2000,
        data_size: 64,
        keyspace: 1000,
        pipeline: 4,
        loadgen: None,
    };
    let rows = spec.run(server.port, "1").unwrap();
    assert_eq!(
        rows.iter().map(|r| r.test.as_str()).collect::<Vec<_>>(),
        ["SET", "GET"]
    );
    assert!(rows.iter().all(|r| r.rps > 0.0 && r.p99_ms >= r.p50_ms));
    // The same spec through our load generator: same rows, same columns.
    let via_loadgen = BenchSpec {
        loadgen: Some(env!("CARGO_BIN_EXE_loadgen").into()),
        ..spec
    };
    assert!(via_loadgen.display("1").contains("loadgen --host"));
    let rows = via_loadgen.run(server.port, "1").unwrap();
    assert_eq!(
        rows.iter().map(|r| r.test.as_str()).collect::<Vec<_>>(),
        ["SET", "GET"]
    );
    assert!(rows.iter().all(|r| r.rps > 0.0 && r.p99_ms >= r.p50_ms));

    let loadgen = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--port", &server.port.to_string()])
        .args([
            "-t",
            "set,get,ping",
            "-c",
            "8",
            "-n",
            "3000",
            "-d",
            "64",
            "-r",
            "1000",
            "-P",
            "8",
        ])
        .output()
        .unwrap();
    assert!(
        loadgen.status.success(),
        "{}",
        String::from_utf8_lossy(&loadgen.stderr)
    );
    let rows = parse_csv(&String::from_utf8_lossy(&loadgen.stdout)).unwrap();
    assert_eq!(
        rows.iter().map(|r| r.test.as_str()).collect::<Vec<_>>(),
        ["SET", "GET", "PING"]
    );
    assert!(rows
        .iter()
        .all(|r| r.rps > 0.0 && r.max_ms >= r.p99_ms && r.p99_ms >= r.p50_ms));

    let port = server.port;
    drop(server);
    assert!(ping(port).is_err(), "server still running after drop");
}

#[test]
fn loadgen_open_loop_holds_its_rate() {
    let server = ServerProcess::start(&redis_only(), &ServerKind::Redis, Persistence::Off, "0")
        .expect("redis-server 7.0 and taskset must be installed");
    let out = Command::new(env!("CARGO_BIN_EXE_loadgen"))
        .args(["--port", &server.port.to_string()])
        .args(["-t", "set", "-c", "4", "-n", "1000", "--rate", "2000"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = parse_csv(&String::from_utf8_lossy(&out.stdout)).unwrap();
    // 1000 requests at 2000/s take ~0.5 s: the rate is a ceiling it meets.
    assert!(
        rows[0].rps <= 2200.0 && rows[0].rps > 1000.0,
        "{:?}",
        rows[0]
    );
}

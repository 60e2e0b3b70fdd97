//! Debian's redis-cli and redis-benchmark against the real binary, on both
//! io backends. These are the tools users point at ringkv first.

use std::path::Path;

use ringkv_testkit::{require_binary, run_program, start_ringkv, ServerProcess};

const BACKENDS: [&str; 2] = ["uring", "epoll"];

fn ringkv(backend: &str) -> ServerProcess {
    start_ringkv(
        Path::new(env!("CARGO_BIN_EXE_ringkv")),
        &["--io-backend", backend],
    )
}

fn cli(server: &ServerProcess, args: &[&str]) -> String {
    let port = server.port.to_string();
    let mut all = vec!["-p", port.as_str()];
    all.extend_from_slice(args);
    let (ok, out, err) = run_program(&require_binary("redis-cli"), &all, None);
    assert!(ok, "redis-cli {args:?} failed: {err}");
    out
}

#[test]
fn redis_cli_commands_and_info() {
    for backend in BACKENDS {
        let server = ringkv(backend);
        assert_eq!(cli(&server, &["PING"]).trim(), "PONG");
        assert_eq!(
            cli(&server, &["SET", "greeting", "hello world"]).trim(),
            "OK"
        );
        assert_eq!(cli(&server, &["GET", "greeting"]).trim(), "hello world");
        let info = cli(&server, &["INFO", "server"]);
        assert!(info.contains("redis_version:7.0"), "{info}");
        let backend_name = if backend == "uring" {
            "io_uring"
        } else {
            "epoll"
        };
        assert!(
            info.contains(&format!("io_backend:{backend_name}")),
            "{info}"
        );
        let keyspace = cli(&server, &["INFO", "keyspace"]);
        assert!(keyspace.contains("db0:keys=1,expires=0"), "{keyspace}");
        let err = cli(&server, &["NOSUCHCMD", "a"]);
        assert!(err.contains("ERR unknown command 'NOSUCHCMD'"), "{err}");
        // RESP3 mode of redis-cli.
        let out = cli(&server, &["-3", "HELLO", "3"]);
        assert!(out.contains("proto") && out.contains('3'), "{out}");
    }
}

#[test]
fn redis_cli_interactive_mode_handshake() {
    // Interactive mode sends COMMAND DOCS (and COMMAND) first; with a tty-less
    // stdin redis-cli reads commands line by line like a REPL.
    let server = ringkv("uring");
    let port = server.port.to_string();
    let (ok, out, err) = run_program(
        &require_binary("redis-cli"),
        &["-p", &port],
        Some(b"SET a 1\nINCR a\nGET a\n"),
    );
    assert!(ok, "{err}");
    assert_eq!(out.split_whitespace().collect::<Vec<_>>(), ["OK", "2", "2"]);
    let docs = cli(&server, &["COMMAND", "DOCS", "get"]);
    assert!(docs.contains("summary"), "{docs}");
    let count: usize = cli(&server, &["COMMAND", "COUNT"])
        .trim()
        .parse()
        .expect("count");
    assert!(count > 100, "only {count} commands");
}

#[test]
fn redis_benchmark_runs_without_errors() {
    for backend in BACKENDS {
        let server = ringkv(backend);
        let port = server.port.to_string();
        for pipeline in ["1", "16"] {
            let (ok, out, err) = run_program(
                &require_binary("redis-benchmark"),
                &[
                    "-p",
                    &port,
                    "-t",
                    "ping,set,get,incr,mset",
                    "-n",
                    "100000",
                    "-P",
                    pipeline,
                    "-q",
                    "-r",
                    "100000",
                ],
                None,
            );
            assert!(ok, "redis-benchmark failed: {err}\n{out}");
            let all = format!("{out}{err}");
            assert!(
                !all.contains("rror"),
                "redis-benchmark reported errors:\n{all}"
            );
            for test in ["PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET"] {
                assert!(
                    // Result lines read `SET: 123.4 requests per second` or
                    // `MSET (10 keys): ...`.
                    all.split(['\r', '\n']).any(|l| {
                        let l = l.trim_start();
                        (l.starts_with(&format!("{test}:")) || l.starts_with(&format!("{test} (")))
                            && l.contains("requests per second")
                    }),
                    "no result for {test}:\n{all}"
                );
            }
        }
        let dbsize = cli(&server, &["DBSIZE"]);
        assert!(dbsize.trim().parse::<u64>().expect("dbsize") > 1000);
    }
}

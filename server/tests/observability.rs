//! Observability against real tools: the live `/metrics` endpoint checked by
//! `promtool`, a real Prometheus scraping ringkv under a write workload and
//! evaluating every expression of the Grafana dashboard, Debian's
//! `prometheus-redis-exporter` pointed at ringkv, and INFO/SLOWLOG/LATENCY
//! compared with Redis 7.0.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use redis::Value;
use ringkv_testkit::{
    free_port, http_get, require_binary, run_program, spawn_helper, start_redis, start_ringkv,
    wait_for_port, ServerProcess,
};

fn ringkv(extra: &[&str]) -> ServerProcess {
    start_ringkv(Path::new(env!("CARGO_BIN_EXE_ringkv")), extra)
}

fn connect(server: &ServerProcess) -> redis::Connection {
    redis::Client::open(server.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

fn info(con: &mut redis::Connection, section: &str) -> String {
    redis::cmd("INFO").arg(section).query(con).unwrap()
}

/// Field names per section of an INFO reply.
fn info_fields(text: &str) -> Vec<(String, BTreeSet<String>)> {
    let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(name) = line.strip_prefix("# ") {
            out.push((name.to_string(), BTreeSet::new()));
        } else if let Some((k, _)) = line.split_once(':') {
            if let Some(last) = out.last_mut() {
                last.1.insert(k.to_string());
            }
        }
    }
    out
}

/// Sets and reads in a loop until stopped: writes for the log, the keyspace
/// and the command series.
struct Workload {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<u64>>,
}

impl Workload {
    fn start(server: &ServerProcess) -> Workload {
        let mut con = connect(server);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let mut i = 0u64;
            while !flag.load(Ordering::Relaxed) {
                let mut pipe = redis::pipe();
                for j in 0..50 {
                    let k = format!("key:{}", (i * 50 + j) % 5000);
                    pipe.cmd("SET").arg(&k).arg("value").ignore();
                    pipe.cmd("GET").arg(&k).ignore();
                }
                pipe.cmd("EXPIRE").arg("key:1").arg(1000).ignore();
                pipe.cmd("NOSUCHCOMMAND").ignore();
                let _: redis::RedisResult<()> = pipe.query(&mut con);
                i += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            i
        });
        Workload {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Workload {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn prom_query(port: u16, expr: &str) -> serde_json::Value {
    let (status, body) = http_get(
        port,
        &format!("/api/v1/query?query={}", percent_encode(expr)),
    );
    let v: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("Prometheus answered {status} {body:?} for {expr}: {e}"));
    assert_eq!(v["status"], "success", "query {expr} failed: {body}");
    v
}

fn result_len(v: &serde_json::Value) -> usize {
    v["data"]["result"].as_array().map(|a| a.len()).unwrap_or(0)
}

fn dashboard_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../grafana/dashboards/ringkv.json")
}

/// Every panel's expressions, and structure checks Grafana's file
/// provisioning relies on.
fn dashboard_expressions() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(dashboard_path()).unwrap();
    let d: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(
        d.get("__inputs").is_none(),
        "file provisioning never fills __inputs"
    );
    assert!(!text.contains("${DS_"), "no ${{DS_…}} placeholders");
    let vars = d["templating"]["list"].as_array().unwrap();
    assert!(
        vars.iter().any(|v| v["type"] == "datasource"
            && v["name"] == "datasource"
            && v["query"] == "prometheus"),
        "a datasource variable"
    );
    assert!(
        vars.iter().any(|v| v["name"] == "instance"),
        "an instance selector"
    );
    let mut exprs = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        if p["type"] == "row" {
            continue;
        }
        let title = p["title"].as_str().unwrap().to_string();
        assert_eq!(p["datasource"]["uid"], "${datasource}", "panel {title}");
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "panel {title} has no query");
        for t in targets {
            assert_eq!(t["datasource"]["uid"], "${datasource}", "panel {title}");
            let e = t["expr"].as_str().unwrap();
            if e.contains("rate(") {
                // Grafana's recommended form for rate() windows.
                assert!(
                    e.contains("$__rate_interval") || e.contains("$__range"),
                    "{title}: {e}"
                );
            }
            exprs.push((title.clone(), e.to_string()));
        }
    }
    assert!(exprs.len() >= 20, "dashboard too small: {}", exprs.len());
    exprs
}

#[test]
fn prometheus_evaluates_every_dashboard_expression_and_redis_exporter_works() {
    let prometheus = require_binary("prometheus");
    let promtool = require_binary("promtool");
    let exporter_bin = require_binary("prometheus-redis-exporter");
    let exprs = dashboard_expressions();

    let metrics_port = free_port();
    let server = ringkv(&[
        "--metrics-port",
        &metrics_port.to_string(),
        "--appendonly",
        "yes",
    ]);
    assert!(
        wait_for_port(metrics_port, Duration::from_secs(10)),
        "metrics endpoint did not open; log:\n{}",
        server.log()
    );
    let workload = Workload::start(&server);
    let mut con = connect(&server);
    // Make the slow log and errors non-trivial.
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("slowlog-log-slower-than")
        .arg(0)
        .query(&mut con)
        .unwrap();

    // promtool on the live endpoint, after some load.
    std::thread::sleep(Duration::from_secs(2));
    let stats = info(&mut con, "stats");
    let ops: u64 = stats
        .lines()
        .find_map(|l| l.strip_prefix("instantaneous_ops_per_sec:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(ops > 0, "instantaneous_ops_per_sec under load: {stats}");
    let (status, body) = http_get(metrics_port, "/metrics");
    assert_eq!(status, 200);
    for needle in [
        "# TYPE ringkv_command_duration_seconds histogram",
        "# TYPE ringkv_log_fsync_duration_seconds histogram",
        "# HELP ringkv_log_fsync_duration_seconds",
        "ringkv_commands_total{cmd=\"set\"}",
        "ringkv_errors_total{kind=\"ERR\"}",
        "ringkv_io_backend_info{backend=",
    ] {
        assert!(body.contains(needle), "/metrics lacks {needle}:\n{body}");
    }
    let (ok, out, err) = run_program(&promtool, &["check", "metrics"], Some(body.as_bytes()));
    assert!(ok, "promtool check metrics failed:\n{out}\n{err}");

    // redis_exporter, as Debian packages it.
    let exporter_port = free_port();
    let exporter = spawn_helper(
        "redis_exporter",
        &exporter_bin,
        &[
            format!("--redis.addr=redis://{}", server.addr()),
            format!("--web.listen-address=127.0.0.1:{exporter_port}"),
        ],
        exporter_port,
    );

    // Prometheus scraping both every second.
    let prom_port = free_port();
    let prom_dir = tempfile::tempdir().unwrap();
    let config = prom_dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n\
             \x20 - job_name: ringkv\n    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n\
             \x20 - job_name: redis_exporter\n    static_configs:\n      - targets: ['127.0.0.1:{exporter_port}']\n"
        ),
    )
    .unwrap();
    let (ok, out, err) = run_program(
        &promtool,
        &["check", "config", config.to_str().unwrap()],
        None,
    );
    assert!(ok, "promtool check config: {out}{err}");
    let prom = spawn_helper(
        "prometheus",
        &prometheus,
        &[
            format!("--config.file={}", config.display()),
            format!(
                "--storage.tsdb.path={}",
                prom_dir.path().join("data").display()
            ),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
        prom_port,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while http_get(prom_port, "/-/ready").0 != 200 {
        assert!(
            Instant::now() < deadline,
            "Prometheus not ready:\n{}",
            prom.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    // A snapshot and an AOF rewrite, both must succeed.
    let reply: String = redis::cmd("BGSAVE").query(&mut con).unwrap();
    assert_eq!(reply, "Background saving started");
    let reply: String = redis::cmd("BGREWRITEAOF").query(&mut con).unwrap();
    assert!(
        reply == "Background append only file rewriting started"
            || reply == "Background append only file rewriting scheduled",
        "{reply}"
    );

    // The instance variable's query finds our server.
    let instance = format!("127.0.0.1:{metrics_port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, body) = http_get(
            prom_port,
            &format!(
                "/api/v1/label/instance/values?match[]={}",
                percent_encode("ringkv_uptime_seconds")
            ),
        );
        if body.contains(&instance) {
            break;
        }
        assert!(Instant::now() < deadline, "instance never listed: {body}");
        std::thread::sleep(Duration::from_millis(500));
    }

    // Every expression, variables filled in as Grafana would, non-empty.
    let fill = |e: &str| {
        e.replace("$instance", &instance)
            .replace("$__rate_interval", "5s")
            .replace("$__range", "1m")
    };
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut pending: Vec<(String, String)> = exprs;
    while !pending.is_empty() {
        pending.retain(|(_, e)| result_len(&prom_query(prom_port, &fill(e))) == 0);
        if pending.is_empty() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    assert!(
        pending.is_empty(),
        "dashboard expressions with no data: {pending:#?}\n/metrics:\n{}",
        http_get(metrics_port, "/metrics").1
    );

    // The finished BGSAVE and rewrite were counted and timed, and the
    // group-commit log under the AOF reports its writes and fsyncs.
    let deadline = Instant::now() + Duration::from_secs(30);
    for expr in [
        "sum(ringkv_rdb_saves_total{outcome=\"ok\"}) >= 1",
        "sum(ringkv_rdb_save_duration_seconds_count) >= 1",
        "sum(ringkv_aof_rewrites_total{outcome=\"ok\"}) >= 1",
        "ringkv_aof_enabled == 1",
        "ringkv_aof_current_size_bytes > 0",
        "ringkv_aof_manifest_files{type=\"base\"} == 1",
        "ringkv_aof_manifest_files{type=\"incr\"} >= 1",
        "sum(ringkv_log_groups_total) > 0",
        "sum(ringkv_log_written_bytes_total) > 0",
        "sum(ringkv_log_fsyncs_total) > 0",
        "sum(ringkv_log_fsync_duration_seconds_count) > 0",
        "sum(ringkv_log_group_records_count) > 0",
        "time() - ringkv_rdb_last_save_timestamp_seconds < 60",
    ] {
        while result_len(&prom_query(prom_port, expr)) == 0 {
            assert!(Instant::now() < deadline, "never true: {expr}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    // Both targets up, and the exporter's view of ringkv.
    for job in ["ringkv", "redis_exporter"] {
        let v = prom_query(prom_port, &format!("up{{job=\"{job}\"}} == 1"));
        assert_eq!(result_len(&v), 1, "target {job} is not up");
    }
    let v = prom_query(prom_port, "redis_up == 1");
    assert_eq!(result_len(&v), 1, "redis_up is not 1");
    let (_, exported) = http_get(exporter_port, "/metrics");
    assert!(exported.contains("\nredis_up 1"), "{exported}");
    for series in [
        "redis_aof_enabled",
        "redis_rdb_last_save_timestamp_seconds",
        "redis_rdb_changes_since_last_save",
        "redis_rdb_bgsave_in_progress",
        "redis_aof_rewrite_in_progress",
        "redis_connected_clients",
        "redis_commands_total{cmd=\"set\"}",
        "redis_latency_percentiles_usec",
        "redis_slowlog_length",
    ] {
        assert!(
            exported.contains(series),
            "redis_exporter lacks {series}:\n{exported}"
        );
    }
    for line in exported.lines() {
        if line.starts_with("redis_exporter_last_scrape_error") {
            assert!(line.ends_with(" 0"), "exporter scrape error: {line}");
        }
    }
    assert!(
        !exported
            .lines()
            .any(|l| l.starts_with("redis_exporter_last_scrape_error") && !l.ends_with(" 0")),
        "scrape errors"
    );
    let v = prom_query(prom_port, "sum(redis_exporter_last_scrape_error) == 0");
    assert_eq!(result_len(&v), 1, "redis_exporter reported scrape errors");

    drop(workload);
    drop(prom);
    drop(exporter);
}

#[test]
fn info_sections_match_redis_field_names() {
    let redis = start_redis(&[]);
    let ours = ringkv(&[]);
    let mut rc = connect(&redis);
    let mut oc = connect(&ours);
    for con in [&mut rc, &mut oc] {
        let _: () = redis::cmd("SET").arg("k").arg("v").query(con).unwrap();
        let _: String = redis::cmd("GET").arg("k").query(con).unwrap();
        let _: redis::RedisResult<()> = redis::cmd("NOSUCHCOMMAND").query(con);
    }
    let theirs = info_fields(&info(&mut rc, "all"));
    let mine = info_fields(&info(&mut oc, "all"));
    let names =
        |v: &[(String, BTreeSet<String>)]| v.iter().map(|s| s.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&mine), names(&theirs), "INFO ALL sections and order");
    for section in [
        "Server",
        "Clients",
        "Memory",
        "Persistence",
        "Stats",
        "Replication",
        "CPU",
        "Keyspace",
    ] {
        let t = &theirs.iter().find(|s| s.0 == section).unwrap().1;
        let m = &mine.iter().find(|s| s.0 == section).unwrap().1;
        let missing: Vec<_> = t.difference(m).collect();
        assert!(
            missing.is_empty(),
            "INFO {section} lacks Redis fields {missing:?}"
        );
    }
    // Per-command sections: same keys for the same commands.
    for (section, key) in [
        ("Commandstats", "cmdstat_set"),
        ("Errorstats", "errorstat_ERR"),
        ("Latencystats", "latency_percentiles_usec_set"),
    ] {
        let m = &mine.iter().find(|s| s.0 == section).unwrap().1;
        assert!(m.contains(key), "INFO {section} lacks {key}: {m:?}");
    }
    let lat = info(&mut oc, "latencystats");
    let line = lat
        .lines()
        .find(|l| l.starts_with("latency_percentiles_usec_set:"))
        .unwrap();
    let values = line.split_once(':').unwrap().1.trim_end();
    let parts: Vec<&str> = values.split(',').collect();
    assert_eq!(parts.len(), 3, "{line}");
    for (part, label) in parts.iter().zip(["p50=", "p99=", "p99.9="]) {
        assert!(part.starts_with(label), "{line}");
        let v: f64 = part[label.len()..].parse().unwrap();
        assert!(v > 0.0, "{line}");
        assert_eq!(
            part[label.len()..].split_once('.').unwrap().1.len(),
            3,
            "three decimals: {line}"
        );
    }
    // Selecting sections: several at once, case-insensitive.
    let two = info(&mut oc, "CPU");
    assert!(two.starts_with("# CPU\r\n"), "{two}");
    let text: String = redis::cmd("INFO")
        .arg("persistence")
        .arg("stats")
        .query(&mut oc)
        .unwrap();
    assert_eq!(
        names(&info_fields(&text)),
        vec!["Persistence".to_string(), "Stats".to_string()]
    );
}

#[test]
fn slowlog_and_latency_behave_like_redis() {
    let redis = start_redis(&["--enable-debug-command", "yes"]);
    let ours = ringkv(&["--enable-debug-command", "yes"]);
    for server in [&redis, &ours] {
        let who = server.name;
        let mut con = connect(server);
        let set = |con: &mut redis::Connection, k: &str, v: &str| {
            let _: () = redis::cmd("CONFIG")
                .arg("SET")
                .arg(k)
                .arg(v)
                .query(con)
                .unwrap();
        };
        set(&mut con, "slowlog-log-slower-than", "0");
        let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).unwrap();
        let big = "x".repeat(200);
        let _: () = redis::cmd("SET")
            .arg("slowkey")
            .arg(&big)
            .query(&mut con)
            .unwrap();
        // The newest entry is the SET (each command is logged after it ran).
        let entries: Vec<Value> = redis::cmd("SLOWLOG")
            .arg("GET")
            .arg(1)
            .query(&mut con)
            .unwrap();
        assert_eq!(entries.len(), 1, "{who}");
        let Value::Array(e) = &entries[0] else {
            panic!("{who}: {:?}", entries[0])
        };
        assert_eq!(e.len(), 6, "{who}: {e:?}");
        assert!(
            matches!(e[0], Value::Int(_))
                && matches!(e[1], Value::Int(_))
                && matches!(e[2], Value::Int(_))
        );
        let Value::Array(args) = &e[3] else {
            panic!("{who}")
        };
        let args: Vec<Vec<u8>> = args
            .iter()
            .map(|a| match a {
                Value::BulkString(b) => b.clone(),
                other => panic!("{who}: {other:?}"),
            })
            .collect();
        // The SET, its value trimmed to 128 bytes plus a note.
        assert_eq!(args[0], b"SET", "{who}");
        assert_eq!(
            String::from_utf8_lossy(&args[2]),
            format!("{}... (72 more bytes)", "x".repeat(128)),
            "{who}"
        );
        assert!(
            matches!(&e[4], Value::BulkString(a) if a.starts_with(b"127.0.0.1:")),
            "{who}"
        );
        let err = redis::cmd("SLOWLOG")
            .arg("GET")
            .arg(-2)
            .query::<Value>(&mut con)
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("count should be greater than or equal to -1"),
            "{who}: {err}"
        );
        let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
        assert!(len >= 3, "{who}: RESET, SET, GET, GET: {len}");
        set(&mut con, "slowlog-log-slower-than", "-1");
        let _: () = redis::cmd("SLOWLOG").arg("RESET").query(&mut con).unwrap();
        let _: () = redis::cmd("SET").arg("a").arg("b").query(&mut con).unwrap();
        let len: i64 = redis::cmd("SLOWLOG").arg("LEN").query(&mut con).unwrap();
        assert_eq!(len, 0, "{who}: disabled slow log");
        let err = redis::cmd("SLOWLOG")
            .arg("NOPE")
            .query::<Value>(&mut con)
            .unwrap_err();
        assert!(
            err.to_string().contains("unknown subcommand"),
            "{who}: {err}"
        );

        // Latency monitor: off by default, then a 120 ms DEBUG SLEEP.
        let latest: Vec<Value> = redis::cmd("LATENCY").arg("LATEST").query(&mut con).unwrap();
        assert!(latest.is_empty(), "{who}: {latest:?}");
        set(&mut con, "latency-monitor-threshold", "100");
        let _: () = redis::cmd("DEBUG")
            .arg("SLEEP")
            .arg("0.12")
            .query(&mut con)
            .unwrap();
        let latest: Vec<Value> = redis::cmd("LATENCY").arg("LATEST").query(&mut con).unwrap();
        assert_eq!(latest.len(), 1, "{who}: {latest:?}");
        let Value::Array(ev) = &latest[0] else {
            panic!("{who}")
        };
        assert_eq!(ev[0], Value::BulkString(b"command".to_vec()), "{who}");
        assert!(
            matches!(ev[2], Value::Int(ms) if ms >= 100),
            "{who}: {ev:?}"
        );
        let hist: Vec<Value> = redis::cmd("LATENCY")
            .arg("HISTORY")
            .arg("command")
            .query(&mut con)
            .unwrap();
        assert_eq!(hist.len(), 1, "{who}");
        let n: i64 = redis::cmd("LATENCY").arg("RESET").query(&mut con).unwrap();
        assert_eq!(n, 1, "{who}");
        // LATENCY HISTOGRAM set: calls and cumulative buckets (RESP2: flat).
        let h: Vec<Value> = redis::cmd("LATENCY")
            .arg("HISTOGRAM")
            .arg("set")
            .query(&mut con)
            .unwrap();
        assert_eq!(h.len(), 2, "{who}: {h:?}");
        assert_eq!(h[0], Value::BulkString(b"set".to_vec()), "{who}");
        let Value::Array(body) = &h[1] else {
            panic!("{who}: {h:?}")
        };
        assert_eq!(body[0], Value::BulkString(b"calls".to_vec()), "{who}");
        assert!(
            matches!(body[1], Value::Int(n) if n >= 2),
            "{who}: {body:?}"
        );
        assert_eq!(
            body[2],
            Value::BulkString(b"histogram_usec".to_vec()),
            "{who}"
        );
        let help: Vec<String> = redis::cmd("LATENCY").arg("HELP").query(&mut con).unwrap();
        assert!(help.len() > 5, "{who}");
    }
}

//! Loading, CONFIG GET/SET and REWRITE end to end, and the table against
//! what redis-server 7.0.15 prints.

use super::*;
use std::path::Path;

/// `CONFIG GET *` of a stock redis-server 7.0.15 started with only
/// `--port` and `--dir`: name, value, and whether CONFIG SET of the same
/// value answered OK (mutable), "immutable" or "protected".
const REDIS_7_0_15: &str = include_str!("redis-7.0.15-config-get.tsv");

/// Parameters whose value differs from the fixture on purpose.
const DIFFERENT_ON_PURPOSE: &[&str] = &[
    "port",       // the fixture server ran on another port
    "dir",        // the current directory
    "bind",       // ringkv listens on loopback by default
    "io-threads", // ringkv uses every core by default
];

fn fixture() -> Vec<(&'static str, &'static str, &'static str)> {
    REDIS_7_0_15
        .lines()
        .map(|line| {
            let mut fields = line.split('\t');
            let name = fields.next().unwrap();
            let value = fields.next().unwrap();
            let mutability = fields.next().unwrap();
            (name, value, mutability)
        })
        .collect()
}

fn get(config: &Config, name: &str) -> String {
    config.get_one(name).unwrap()
}

fn from_args(args: &[&str]) -> Result<Config, ConfigError> {
    Config::from_args_with_stdin(args, std::io::empty())
}

fn set(config: &mut Config, pairs: &[(&str, &str)]) -> Result<SetOutcome, SetError> {
    let pairs: Vec<(&[u8], &[u8])> = pairs
        .iter()
        .map(|(name, value)| (name.as_bytes(), value.as_bytes()))
        .collect();
    config.set(&pairs, true)
}

fn directive_error(error: ConfigError) -> (String, String, String) {
    match error {
        ConfigError::Directive {
            location,
            text,
            reason,
        } => (location, text, reason),
        other => panic!("expected a directive error, got {other:?}"),
    }
}

#[test]
fn every_redis_parameter_is_in_the_table_with_its_default() {
    let config = Config::new();
    for (name, value, _) in fixture() {
        let ours = config
            .get_one(name)
            .unwrap_or_else(|| panic!("{name} is missing from the table"));
        if !DIFFERENT_ON_PURPOSE.contains(&name) {
            assert_eq!(ours, value, "default of {name}");
        }
    }
    assert_eq!(get(&config, "bind"), "127.0.0.1 -::1");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(get(&config, "io-threads"), cores.min(128).to_string());
    assert_eq!(
        get(&config, "dir"),
        std::env::current_dir().unwrap().to_str().unwrap()
    );
}

#[test]
fn mutability_matches_redis() {
    for (name, _, mutability) in fixture() {
        let (_, directive) = table::lookup(name).unwrap();
        let ours = if !directive.is_mutable() {
            "immutable"
        } else if directive.is_protected() {
            "protected"
        } else {
            "mutable"
        };
        assert_eq!(ours, mutability, "{name}");
    }
}

#[test]
fn config_get_star_lists_redis_names_and_ours() {
    let config = Config::new();
    let all = config.get(&[b"*"]);
    let names: HashSet<&str> = all.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.len(), all.len(), "no duplicates");
    for (name, _, _) in fixture() {
        assert!(names.contains(name), "{name}");
    }
    for ours in [
        "io-backend",
        "io-idle-poll-us",
        "snapshot-mode",
        "aof-segment-max-bytes",
        "aof-fsync-mode",
        "aof-fsync-overlap",
        "metrics-bind",
        "metrics-port",
    ] {
        assert!(names.contains(ours), "{ours}");
    }
    // Hidden parameters only answer to their exact name.
    assert!(!names.contains("key-load-delay"));
    assert_eq!(fixture().len() + 8, all.len());
    assert_eq!(
        config.get(&[b"key-load-delay"]),
        [("key-load-delay".to_string(), "0".to_string())]
    );
}

#[test]
fn config_get_patterns_like_redis() {
    let config = Config::new();
    // Exact names: any case, answered under the name as given.
    assert_eq!(
        config.get(&[b"PORT", b"port"]),
        [
            ("PORT".to_string(), "6379".to_string()),
            ("port".to_string(), "6379".to_string())
        ]
    );
    // Patterns are case-sensitive in Redis 7.0.
    assert!(config.get(&[b"PO*"]).is_empty());
    // Several patterns, each name once.
    let reply = config.get(&[b"port", b"hz", b"h?"]);
    let names: Vec<&str> = reply.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["port", "hz"]);
    // Aliases are listed under their own name too.
    let reply = config.get(&[b"slave-read*", b"replica-read*"]);
    let names: HashSet<&str> = reply.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        HashSet::from(["slave-read-only", "replica-read-only"])
    );
    let reply = config.get(&[b"*-max-*-entries"]);
    assert!(reply.contains(&("hash-max-ziplist-entries".to_string(), "512".to_string())));
    assert!(reply.contains(&("zset-max-listpack-entries".to_string(), "128".to_string())));
    assert!(config.get(&[b"nonexistent"]).is_empty());
}

#[test]
fn config_get_formats_match_redis() {
    let mut config = Config::new();
    assert_eq!(get(&config, "save"), "3600 1 300 100 60 10000");
    assert_eq!(
        get(&config, "client-output-buffer-limit"),
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    let _ = set(
        &mut config,
        &[
            ("save", "100 2 50 3"),
            ("maxmemory", "1GB"),
            ("notify-keyspace-events", "KEA"),
            ("client-output-buffer-limit", "normal 1mb 2k 3"),
            ("maxmemory-clients", "10%"),
        ],
    )
    .unwrap();
    // Values as redis-server 7.0.15 printed them after the same CONFIG SET.
    assert_eq!(get(&config, "save"), "100 2 50 3");
    assert_eq!(get(&config, "maxmemory"), "1073741824");
    assert_eq!(get(&config, "notify-keyspace-events"), "AKE");
    assert_eq!(
        get(&config, "client-output-buffer-limit"),
        "normal 1048576 2000 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    );
    assert_eq!(get(&config, "maxmemory-clients"), "10%");
    let _ = set(&mut config, &[("save", "")]).unwrap();
    assert_eq!(get(&config, "save"), "");
}

#[test]
fn config_set_errors_use_redis_wording() {
    let mut config = Config::new();
    let message = |result: Result<SetOutcome, SetError>| result.unwrap_err().message;
    assert_eq!(
        message(set(&mut config, &[("foo", "bar")])),
        "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"
    );
    assert_eq!(
        message(set(&mut config, &[("port", "1"), ("databases", "3")])),
        "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"
    );
    assert_eq!(
        message(set(&mut config, &[("hz", "5"), ("HZ", "6")])),
        "ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"
    );
    assert_eq!(
        message(set(&mut config, &[("maxmemory", "1x")])),
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"
    );
    assert_eq!(
        message(set(&mut config, &[("save", "1 2 3")])),
        "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"
    );
    assert_eq!(
        message(set(&mut config, &[("loglevel", "x")])),
        "ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning"
    );
    assert_eq!(
        message(set(&mut config, &[("dir", "/tmp")])),
        "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"
    );
    assert_eq!(get(&config, "port"), "6379", "nothing above took effect");
}

#[test]
fn config_set_is_atomic() {
    let mut config = Config::new();
    let before = config.get(&[b"*"]);
    let error = set(
        &mut config,
        &[("hz", "5"), ("maxmemory", "10mb"), ("timeout", "abc")],
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer"
    );
    assert_eq!(config.get(&[b"*"]), before);
    assert_eq!(config.hz, 10);
    assert_eq!(config.maxmemory_bytes, 0);
}

#[test]
fn config_set_reports_changes_and_rolls_back() {
    let mut config = Config::new();
    let outcome = set(
        &mut config,
        &[
            ("hz", "10"),
            ("maxmemory", "10mb"),
            ("slave-read-only", "no"),
            ("port", "7379"),
        ],
    )
    .unwrap();
    assert_eq!(outcome.changed, ["maxmemory", "replica-read-only", "port"]);
    assert_eq!(config.port, 7379);
    assert_eq!(config.maxmemory_bytes, 10 * 1024 * 1024);
    config.rollback(outcome);
    assert_eq!(config.port, 6379);
    assert_eq!(config.maxmemory_bytes, 0);
    assert_eq!(get(&config, "replica-read-only"), "yes");
}

#[test]
fn config_set_hz_is_clamped() {
    let mut config = Config::new();
    let _ = set(&mut config, &[("hz", "1000")]).unwrap();
    assert_eq!(get(&config, "hz"), "500");
    let _ = set(&mut config, &[("hz", "0")]).unwrap();
    assert_eq!(config.hz, 1);
}

#[test]
fn protected_configs_follow_enable_protected_configs() {
    let dir = tempfile::tempdir().unwrap();
    let dir_text = dir.path().to_str().unwrap();
    let mut local_only = from_args(&["--enable-protected-configs", "local"]).unwrap();
    let remote = local_only.set(&[(b"dir", dir_text.as_bytes())], false);
    assert!(remote
        .unwrap_err()
        .message
        .ends_with("can't set protected config"));
    let _ = local_only
        .set(&[(b"dir", dir_text.as_bytes())], true)
        .unwrap();
    assert_eq!(local_only.dir, std::fs::canonicalize(dir.path()).unwrap());
    let mut open = from_args(&["--enable-protected-configs", "yes"]).unwrap();
    let _ = open.set(&[(b"dbfilename", b"x.rdb")], false).unwrap();
    assert_eq!(open.dbfilename, "x.rdb");
}

#[test]
fn command_line_text_is_built_like_redis() {
    assert_eq!(
        load::command_line_to_text(&["--port", "7379", "--dir", "/tmp/x"]),
        "port \"7379\" \ndir \"/tmp/x\" "
    );
    assert_eq!(load::command_line_to_text(&["--save", ""]), "save \"\" ");
    assert_eq!(load::command_line_to_text(&["--save"]), "save \"\"");
    assert_eq!(
        load::command_line_to_text(&["--save", "--port", "1"]),
        "save \"\"\nport \"1\" "
    );
    // Right after a bare name, the next word is its value.
    assert_eq!(
        load::command_line_to_text(&["--requirepass", "--x"]),
        "requirepass \"--x\" "
    );
    // A name with its value in one argument.
    assert_eq!(load::command_line_to_text(&["--port 7000"]), "port 7000 ");
}

#[test]
fn command_line_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let dir_text = dir.path().to_str().unwrap();
    let config = from_args(&["--port", "7379", "--dir", dir_text, "--save", ""]).unwrap();
    assert_eq!(config.port, 7379);
    assert_eq!(config.dir, std::fs::canonicalize(dir.path()).unwrap());
    assert!(config.save_params.is_empty());
    assert!(config.config_file().is_none());

    let config = from_args(&["--save", "900", "1", "300", "10", "--appendonly", "yes"]).unwrap();
    assert_eq!(
        config.save_params,
        [
            SaveParam {
                seconds: 900,
                changes: 1
            },
            SaveParam {
                seconds: 300,
                changes: 10
            }
        ]
    );
    assert!(config.appendonly);

    let config = from_args(&["--save", "--port", "7000"]).unwrap();
    assert!(config.save_params.is_empty());
    assert_eq!(config.port, 7000);

    let config = from_args(&["--bind", "0.0.0.0", "::", "--requirepass", "a b"]).unwrap();
    assert_eq!(config.bind, ["0.0.0.0", "::"]);
    assert_eq!(config.requirepass.as_deref(), Some("a b"));
}

#[test]
fn command_line_errors_name_the_argument_line() {
    let (location, text, reason) =
        directive_error(from_args(&["--hz", "5", "--port", "abc"]).unwrap_err());
    assert_eq!(location, "command line:2");
    assert_eq!(text, "port \"abc\"");
    assert_eq!(reason, "argument couldn't be parsed into an integer");
    let (_, _, reason) = directive_error(from_args(&["--port", "1", "2"]).unwrap_err());
    assert_eq!(reason, "wrong number of arguments");
    let (_, _, reason) = directive_error(from_args(&["--foo", "bar"]).unwrap_err());
    assert_eq!(reason, "Bad directive or wrong number of arguments");
    let (_, _, reason) = directive_error(from_args(&["--port"]).unwrap_err());
    assert_eq!(reason, "wrong number of arguments");
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn file_then_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "redis.conf",
        "# comment\n\n  PORT 7000\r\nsave 900 1\nSave 300 10\nmaxmemory 64mb\n\
         slaveof 10.0.0.1 6380\nhash-max-ziplist-entries 100\nrename-command KEYS \"\"\n\
         list-max-ziplist-entries 512\nappendfsync always\n",
    );
    let config = from_args(&[&file, "--save", "60", "5", "--maxmemory", "1gb"]).unwrap();
    assert_eq!(config.port, 7000);
    // Redis adds command-line save rules to the file's.
    assert_eq!(get(&config, "save"), "900 1 300 10 60 5");
    assert_eq!(config.maxmemory_bytes, 1 << 30);
    assert_eq!(get(&config, "replicaof"), "10.0.0.1 6380");
    assert_eq!(config.hash_max_listpack_entries, 100);
    assert_eq!(config.appendfsync, AppendFsync::Always);
    assert_eq!(
        config.rename_commands,
        [("KEYS".to_string(), String::new())]
    );
    assert_eq!(
        config.config_file().unwrap(),
        std::path::absolute(Path::new(&file)).unwrap()
    );
    assert!(config
        .load_warnings()
        .iter()
        .any(|w| w.contains("'replicaof'") && w.contains("redis.conf:7")));
}

#[test]
fn file_errors_carry_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "port 6379\nappendonly maybe\n",
            "argument must be 'yes' or 'no'",
        ),
        (
            "port 6379\nmaxmemory 12x\n",
            "argument must be a memory value",
        ),
        ("port 6379\nsave 900\n", "Invalid save parameters"),
        (
            "port 6379\nsave 1 \"2\"x\n",
            "Unbalanced quotes in configuration line",
        ),
        (
            "port 6379\nno-such-directive 1\n",
            "Bad directive or wrong number of arguments",
        ),
        ("port 6379\nport 1 2\n", "wrong number of arguments"),
        (
            "port 6379\nsentinel monitor x\n",
            "sentinel directive while not in sentinel mode",
        ),
    ];
    for (text, expected_reason) in cases {
        let file = write(dir.path(), "bad.conf", text);
        let error = from_args(&[&file]).unwrap_err();
        let shown = error.to_string();
        let (location, _, reason) = directive_error(error);
        assert_eq!(location, format!("{file}:2"), "{text:?}");
        assert_eq!(reason, expected_reason, "{text:?}");
        assert!(shown.starts_with(&format!("{file}:2: {expected_reason}")));
    }
    let missing = from_args(&["/nonexistent-ringkv.conf"]).unwrap_err();
    assert_eq!(
        missing.to_string(),
        "Fatal error, can't open config file '/nonexistent-ringkv.conf': No such file or directory"
    );
}

#[test]
fn includes_load_recursively_and_report_inner_lines() {
    let dir = tempfile::tempdir().unwrap();
    let inner = write(dir.path(), "inner.conf", "timeout 5\nhz 20\n");
    let middle = write(
        dir.path(),
        "middle.conf",
        &format!("include {inner}\nhz 30\n"),
    );
    let top = write(
        dir.path(),
        "top.conf",
        &format!("hz 15\ninclude {middle}\n"),
    );
    let config = from_args(&[&top]).unwrap();
    assert_eq!(config.timeout_secs, 5);
    assert_eq!(config.hz, 30);

    let bad_inner = write(dir.path(), "bad-inner.conf", "\n\nport nope\n");
    let top = write(dir.path(), "top2.conf", &format!("include {bad_inner}\n"));
    let (location, _, _) = directive_error(from_args(&[&top]).unwrap_err());
    assert_eq!(location, format!("{bad_inner}:3"));

    let top = write(
        dir.path(),
        "top3.conf",
        "include /nonexistent-ringkv/x.conf\n",
    );
    let (location, _, reason) = directive_error(from_args(&[&top]).unwrap_err());
    assert_eq!(location, format!("{top}:1"));
    assert!(reason.contains("No such file or directory"), "{reason}");
}

#[test]
fn include_cycles_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.conf");
    let b = dir.path().join("b.conf");
    std::fs::write(&a, format!("hz 11\ninclude {}\n", b.display())).unwrap();
    std::fs::write(&b, format!("include {}\n", a.display())).unwrap();
    let error = from_args(&[a.to_str().unwrap()]).unwrap_err();
    let (location, _, reason) = directive_error(error);
    assert_eq!(location, format!("{}:1", b.display()));
    assert!(reason.starts_with("include loop"), "{reason}");

    let selfish = write(dir.path(), "self.conf", "include self.conf\n");
    let cwd_relative = from_args(&[&selfish]);
    // Relative includes resolve against the working directory, where
    // self.conf does not exist: an open error, not a loop.
    assert!(cwd_relative.is_err());
}

#[test]
fn include_glob_loads_matching_files_in_order() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "10-a.conf", "hz 12\n");
    write(dir.path(), "20-b.conf", "hz 13\ntimeout 9\n");
    write(dir.path(), "skip.txt", "hz 99\n");
    let top = write(
        dir.path(),
        "top.conf",
        &format!("include {}/*.conf\n", dir.path().join("conf.d").display()),
    );
    // No match: nothing loaded, no error.
    assert_eq!(from_args(&[&top]).unwrap().hz, 10);
    let top = write(
        dir.path(),
        "main.cfg",
        &format!("include {}/*-?.conf\n", dir.path().display()),
    );
    let config = from_args(&[&top]).unwrap();
    assert_eq!(config.hz, 13);
    assert_eq!(config.timeout_secs, 9);
}

#[test]
fn stdin_is_read_for_dash() {
    let config =
        Config::from_args_with_stdin(&["-", "--timeout", "7"], "hz 42\nport 7002\n".as_bytes())
            .unwrap();
    assert_eq!(config.hz, 42);
    assert_eq!(config.port, 7002);
    assert_eq!(config.timeout_secs, 7);
    let error = Config::from_args_with_stdin(&["-"], "port x\n".as_bytes()).unwrap_err();
    assert_eq!(directive_error(error).0, "(stdin):1");
}

#[test]
fn ringkv_directives() {
    let config = Config::new();
    assert_eq!(config.io_backend, IoBackend::Auto);
    assert_eq!(config.snapshot_mode, SnapshotMode::Forkless);
    assert_eq!(config.aof_segment_max_bytes, 64 * 1024 * 1024);
    assert_eq!(config.aof_fsync_mode, AofFsyncMode::Fdatasync);
    assert_eq!(config.metrics_bind, "127.0.0.1");
    assert_eq!(config.metrics_port, 9379);
    let config = from_args(&[
        "--io-backend",
        "epoll",
        "--snapshot-mode",
        "fork",
        "--aof-segment-max-bytes",
        "128mb",
        "--aof-fsync-mode",
        "odsync",
        "--metrics-port",
        "0",
        "--io-threads",
        "3",
    ])
    .unwrap();
    assert_eq!(config.io_backend, IoBackend::Epoll);
    assert_eq!(config.snapshot_mode, SnapshotMode::Fork);
    assert_eq!(config.aof_segment_max_bytes, 128 * 1024 * 1024);
    assert_eq!(config.aof_fsync_mode, AofFsyncMode::Odsync);
    assert_eq!(config.metrics_port, 0);
    assert_eq!(config.io_threads, 3);
    assert!(config.load_warnings().is_empty());
    let inline = from_args(&["--aof-fsync-mode", "fdatasync-inline"]).unwrap();
    assert_eq!(inline.aof_fsync_mode, AofFsyncMode::FdatasyncInline);
    let (_, _, reason) = directive_error(from_args(&["--io-backend", "kqueue"]).unwrap_err());
    assert_eq!(
        reason,
        "argument(s) must be one of the following: auto, uring, epoll"
    );
}

#[test]
fn settings_track_every_typed_field() {
    let config = from_args(&[
        "--requirepass",
        "pw",
        "--maxclients",
        "50",
        "--proto-max-bulk-len",
        "2mb",
        "--client-query-buffer-limit",
        "4mb",
        "--timeout",
        "30",
        "--databases",
        "4",
        "--dbfilename",
        "x.rdb",
        "--appendfilename",
        "a.aof",
        "--appenddirname",
        "aofdir",
        "--slowlog-log-slower-than",
        "-1",
        "--slowlog-max-len",
        "5",
        "--list-max-listpack-size",
        "-3",
        "--set-max-intset-entries",
        "7",
        "--zset-max-ziplist-value",
        "1kb",
        "--maxmemory-policy",
        "allkeys-lru",
        "--loglevel",
        "warning",
        "--notify-keyspace-events",
        "Ex",
    ])
    .unwrap();
    assert_eq!(config.requirepass.as_deref(), Some("pw"));
    assert_eq!(config.maxclients, 50);
    assert_eq!(config.proto_max_bulk_len_bytes, 2 * 1024 * 1024);
    assert_eq!(config.client_query_buffer_limit_bytes, 4 * 1024 * 1024);
    assert_eq!(config.timeout_secs, 30);
    assert_eq!(config.databases, 4);
    assert_eq!(config.dbfilename, "x.rdb");
    assert_eq!(config.appendfilename, "a.aof");
    assert_eq!(config.appenddirname, "aofdir");
    assert_eq!(config.slowlog_log_slower_than_us, -1);
    assert_eq!(config.slowlog_max_len, 5);
    assert_eq!(config.list_max_listpack_size, -3);
    assert_eq!(config.set_max_intset_entries, 7);
    assert_eq!(config.zset_max_listpack_value_bytes, 1024);
    assert_eq!(config.maxmemory_policy, MaxmemoryPolicy::AllkeysLru);
    assert_eq!(config.loglevel, LogLevel::Warning);
    assert_eq!(
        config.notify_keyspace_events,
        notify::KEYEVENT | notify::EXPIRED
    );
    assert_eq!(Config::new().requirepass, None);
}

#[test]
fn rewrite_round_trips_every_value() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "redis.conf", "# mine\nport 7000\n");
    let mut config = from_args(&[&path, "--dir", data_dir.path().to_str().unwrap()]).unwrap();
    let _ = set(
        &mut config,
        &[
            ("save", "60 5 10 1000"),
            ("maxmemory", "3000"),
            ("requirepass", "p \"w\"\n"),
            ("notify-keyspace-events", "Kgx"),
            (
                "client-output-buffer-limit",
                "pubsub 1mb 2mb 3 normal 1 2 3",
            ),
            ("bind", "0.0.0.0 -::"),
            ("maxmemory-clients", "5%"),
            ("oom-score-adj-values", "1 2 3"),
            ("latency-tracking-info-percentiles", "50 99.99"),
            ("shutdown-on-sigint", "save now"),
            ("loglevel", "debug"),
            ("slave-read-only", "no"),
            ("list-max-listpack-size", "-5"),
        ],
    )
    .unwrap();
    config.rewrite(Path::new(&path)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("# mine\nport 7000\n"), "{text}");
    let reloaded = from_args(&[&path]).unwrap();
    assert_eq!(reloaded.get(&[b"*"]), config.get(&[b"*"]), "{text}");

    // Disabling snapshots survives a rewrite (`save ""` is written).
    let _ = set(&mut config, &[("save", "")]).unwrap();
    config.rewrite(Path::new(&path)).unwrap();
    assert!(from_args(&[&path]).unwrap().save_params.is_empty());
}

#[test]
fn no_input_panics() {
    // Arbitrary bytes through the loader and CONFIG SET must only error.
    let samples: &[&[u8]] = &[
        b"\"",
        b"'",
        b"\\",
        b"\"\\x\"",
        b"save \"\\x4",
        b"\xff\xfe",
        b"port \"\\xff\"",
        b"client-output-buffer-limit normal 99999999999999999999 1 1",
        b"save 99999999999999999999 99999999999999999999",
        b"oom-score-adj-values 1 2 99999999999999999999",
        b"bind",
        b"include",
        b"latency-tracking-info-percentiles 1e400",
        b"unixsocketperm 7777777777777777777777",
        b"maxmemory-clients 99999999999999999999%",
        b"replicaof a 99999999999999999999",
    ];
    for sample in samples {
        let mut config = Config::new();
        let _ = config.load_str(&String::from_utf8_lossy(sample), "fuzz.conf");
        let words = split_args(sample).unwrap_or_default();
        if let Some((name, rest)) = words.split_first() {
            let value = rest.join(&b' ');
            let _ = config.set(&[(name.as_slice(), value.as_slice())], true);
        }
    }
}

/// A redis-server 7.0 on a free loopback port, stopped on drop.
struct RedisServer {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl RedisServer {
    fn start() -> Option<RedisServer> {
        RedisServer::start_with(None)
    }

    /// Starts with `config_file` (which must not set `port`) when given.
    fn start_with(config_file: Option<&str>) -> Option<RedisServer> {
        // Fails loudly when redis-server is missing: never pass by skipping.
        ringkv_testkit::require_binary("redis-server");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("/usr/bin/redis-server")
            .args(config_file)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir", dir.path().to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let server = RedisServer {
            child,
            port,
            _dir: dir,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(server);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("redis-server did not start on port {port}");
    }

    fn connection(&self) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{}/", self.port))
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn config_set_and_get_match_a_live_redis() {
    let Some(server) = RedisServer::start() else {
        return;
    };
    let mut redis = server.connection();
    let mut config = Config::new();
    let cases: &[(&str, &str)] = &[
        ("save", "100 2 50 3"),
        ("save", ""),
        ("maxmemory", "1gb"),
        ("maxmemory", "100k"),
        ("maxmemory", "0"),
        ("notify-keyspace-events", "KEA"),
        ("notify-keyspace-events", "Kgx$lmn"),
        ("notify-keyspace-events", "AnK"),
        ("notify-keyspace-events", ""),
        ("client-output-buffer-limit", "normal 1mb 2k 3"),
        ("client-output-buffer-limit", "replica 1 2 3 pubsub 4gb 5 6"),
        ("maxmemory-clients", "10%"),
        ("maxmemory-clients", "1mb"),
        ("latency-tracking-info-percentiles", "50 99.99 1e1"),
        ("latency-tracking-info-percentiles", ""),
        ("oom-score-adj-values", "10 20 2000"),
        ("oom-score-adj", "relative"),
        ("oom-score-adj", "no"),
        ("shutdown-on-sigint", "now save"),
        ("shutdown-on-sigterm", "default force"),
        ("list-max-listpack-size", "-1"),
        ("slave-read-only", "no"),
        ("hash-max-ziplist-value", "1kb"),
        ("hz", "1000"),
        ("hz", "0"),
        ("loglevel", "WARNING"),
        ("requirepass", "a b\"c"),
        ("requirepass", ""),
        ("slowlog-log-slower-than", "-1"),
        ("maxmemory", "1x"),
        ("maxclients", "-1"),
        ("maxmemory-clients", "101%"),
        ("save", "0 1"),
        ("save", "1 2 3"),
        ("appendfsync", "sometimes"),
        ("port", "70000"),
        ("databases", "3"),
        ("dbfilename", "x.rdb"),
        ("no-such-option", "1"),
        ("client-output-buffer-limit", "master 1 2 3"),
        ("oom-score-adj-values", "1 2"),
        ("shutdown-on-sigint", "save nosave"),
        ("latency-tracking-info-percentiles", "101"),
        ("proc-title-template", "{nope}"),
    ];
    for &(name, value) in cases {
        let theirs: redis::RedisResult<String> = redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .query(&mut redis);
        let ours = set(&mut config, &[(name, value)]);
        match (theirs, ours) {
            (Ok(_), Ok(_)) => {}
            (Err(theirs), Err(ours)) => {
                let theirs = format!(
                    "{} {}",
                    theirs.code().unwrap_or("?"),
                    theirs.detail().unwrap_or("")
                );
                assert_eq!(ours.message, theirs, "CONFIG SET {name} {value:?}");
            }
            (theirs, ours) => {
                panic!("CONFIG SET {name} {value:?}: redis {theirs:?}, ours {ours:?}")
            }
        }
        if DIFFERENT_ON_PURPOSE.contains(&name) {
            continue;
        }
        let theirs: Vec<String> = redis::cmd("CONFIG")
            .arg("GET")
            .arg(name)
            .query(&mut redis)
            .unwrap();
        let ours: Vec<String> = config
            .get(&[name.as_bytes()])
            .into_iter()
            .flat_map(|(n, v)| [n, v])
            .collect();
        assert_eq!(ours, theirs, "CONFIG GET {name} after setting {value:?}");
    }
    let theirs: std::collections::HashMap<String, String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("*")
        .query(&mut redis)
        .unwrap();
    let ours: std::collections::HashMap<String, String> = config.get(&[b"*"]).into_iter().collect();
    for (name, value) in &theirs {
        if !DIFFERENT_ON_PURPOSE.contains(&name.as_str()) {
            assert_eq!(ours.get(name), Some(value), "CONFIG GET * entry {name}");
        }
    }
}

#[test]
fn file_error_reasons_match_a_live_redis() {
    ringkv_testkit::require_binary("redis-server");
    let dir = tempfile::tempdir().unwrap();
    let bad_lines = [
        "port abc",
        "port 70000",
        "appendonly maybe",
        "maxmemory 1x",
        "save 1",
        "save 10 a",
        "foo bar",
        "port 1 2",
        "loglevel bad",
        "notify-keyspace-events Z",
        "client-output-buffer-limit normal 1 2",
        "oom-score-adj-values 1 2",
        "latency-tracking-info-percentiles 101",
        "unixsocketperm 999",
        "maxmemory-clients 200%",
        "dbfilename a/b",
        "save 1 \"2\"x",
        "requirepass 'abc",
        "replicaof host port",
        "shutdown-on-sigterm save nosave",
        "sentinel monitor x",
    ];
    for line in bad_lines {
        let path = write(dir.path(), "bad.conf", &format!("port 0\n{line}\n"));
        let output = std::process::Command::new("/usr/bin/redis-server")
            .arg(&path)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{line}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let theirs = stderr.trim_end().lines().last().unwrap_or("").to_string();
        let (location, _, ours) = directive_error(from_args(&[&path]).unwrap_err());
        assert_eq!(location, format!("{path}:2"));
        assert_eq!(ours, theirs, "{line}");
    }
}

#[test]
fn rewrite_matches_a_live_redis() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = std::fs::canonicalize(dir.path()).unwrap();
    let original = "# top comment\nSAVE 900 1\nsave 300 10\nslave-read-only yes\nmaxmemory 1gb\n\
                    hz 10\nrename-command KEYS \"\"\nappendonly no\n\n# tail comment\n";
    let theirs_path = write(&data_dir, "theirs.conf", original);
    let ours_path = write(&data_dir, "ours.conf", original);
    let Some(server) = RedisServer::start_with(Some(&theirs_path)) else {
        return;
    };
    let mut redis = server.connection();
    // The server's command line put these in its configuration; give ours
    // the same so only CONFIG SET differences remain.
    let port = server.port.to_string();
    let mut config = from_args(&[
        &ours_path,
        "--port",
        &port,
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        server._dir.path().to_str().unwrap(),
    ])
    .unwrap();
    let sets: &[(&str, &str)] = &[
        ("save", "60 5"),
        ("maxmemory", "2mb"),
        ("slave-read-only", "no"),
        ("client-output-buffer-limit", "pubsub 1mb 2mb 3"),
        ("notify-keyspace-events", "KEA"),
        ("maxmemory-clients", "5%"),
        ("oom-score-adj-values", "1 2 3"),
        ("timeout", "5"),
        ("hz", "20"),
        ("list-max-listpack-size", "-3"),
        ("masterauth", "x y"),
    ];
    for &(name, value) in sets {
        let _: String = redis::cmd("CONFIG")
            .arg("SET")
            .arg(name)
            .arg(value)
            .query(&mut redis)
            .unwrap();
        let _ = set(&mut config, &[(name, value)]).unwrap();
    }
    let _: String = redis::cmd("CONFIG")
        .arg("REWRITE")
        .query(&mut redis)
        .unwrap();
    config.rewrite(Path::new(&ours_path)).unwrap();
    let read = |path: &str| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|line| !line.starts_with("user "))
            .map(str::to_string)
            .collect()
    };
    let (theirs, ours) = (read(&theirs_path), read(&ours_path));
    let split = |lines: &[String]| -> (Vec<String>, Vec<String>) {
        let at = lines
            .iter()
            .position(|line| line == "# Generated by CONFIG REWRITE")
            .unwrap_or(lines.len());
        let mut appended = lines[at..].to_vec();
        appended.sort();
        (lines[..at].to_vec(), appended)
    };
    let (theirs_kept, theirs_appended) = split(&theirs);
    let (ours_kept, ours_appended) = split(&ours);
    assert_eq!(ours_kept, theirs_kept, "in-place part");
    assert_eq!(ours_appended, theirs_appended, "appended part");
}

#[test]
fn the_stock_redis_conf_loads() {
    // Debian's redis.conf is the file users bring; it must load as is.
    // Shipped by Debian's redis-server package, which scripts/test installs.
    let text = std::fs::read_to_string("/etc/redis/redis.conf")
        .expect("/etc/redis/redis.conf (from Debian's redis-server package) must be readable");
    let data_dir = tempfile::tempdir().unwrap();
    let text = text.replace(
        "dir /var/lib/redis",
        &format!("dir {}", data_dir.path().display()),
    );
    let mut config = Config::new();
    config.load_str(&text, "redis.conf").unwrap();
    assert_eq!(config.port, 6379);
    assert_eq!(config.bind, ["127.0.0.1", "-::1"]);
}

#[test]
fn config_is_shareable_between_threads() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Config>();
    assert_send_sync::<Settings>();
    let shared = std::sync::Arc::new(parking_lot::RwLock::new(Config::new()));
    let reader = {
        let shared = std::sync::Arc::clone(&shared);
        std::thread::spawn(move || shared.read().maxclients)
    };
    assert_eq!(reader.join().unwrap(), 10000);
    let _ = shared.write().set(&[(b"maxclients", b"5")], true).unwrap();
    assert_eq!(shared.read().maxclients, 5);
}

#[test]
fn only_non_default_unimplemented_directives_warn() {
    let quiet = from_args(&["--daemonize", "no", "--lazyfree-lazy-eviction", "no"]).unwrap();
    assert!(
        quiet.load_warnings().is_empty(),
        "{:?}",
        quiet.load_warnings()
    );
    let loud = from_args(&["--hz", "5", "--activedefrag", "yes"]).unwrap();
    assert_eq!(
        loud.load_warnings(),
        ["command line:2: 'activedefrag' is accepted for compatibility but has no effect in ringkv"]
    );
    let users = from_args(&["--user", "alice", "on", "--loadmodule", "/x.so"]).unwrap();
    assert_eq!(users.load_warnings().len(), 2);
    assert_eq!(users.unsupported_lines()[0], ["user", "alice", "on"]);
}

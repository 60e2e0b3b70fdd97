//! The typed runtime settings the server reads on its hot paths, derived
//! from the configuration (see `config`) at startup and after CONFIG SET.

use std::path::PathBuf;

use ringkv_uring_io::BackendChoice;

#[derive(Debug, Clone)]
pub struct Settings {
    pub port: u16,
    pub bind: Vec<String>,
    pub dir: PathBuf,
    pub databases: usize,
    pub requirepass: Option<Vec<u8>>,
    pub maxclients: usize,
    pub io_threads: usize,
    pub io_backend: BackendChoice,
    pub proto_max_bulk_len: i64,
    pub client_query_buffer_limit: usize,
    /// Idle client timeout in seconds, 0 = never.
    pub timeout_secs: u64,
    pub hz: u32,
    pub save_params: Vec<(u64, u64)>,
    pub appendonly: bool,
    pub dbfilename: String,
    pub slowlog_log_slower_than_us: i64,
    pub slowlog_max_len: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            port: 6379,
            bind: vec!["127.0.0.1".into(), "-::1".into()],
            dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            databases: 16,
            requirepass: None,
            maxclients: 10000,
            io_threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            io_backend: BackendChoice::Auto,
            proto_max_bulk_len: 512 * 1024 * 1024,
            client_query_buffer_limit: 1024 * 1024 * 1024,
            timeout_secs: 0,
            hz: 10,
            save_params: vec![(3600, 1), (300, 100), (60, 10000)],
            appendonly: false,
            dbfilename: "dump.rdb".into(),
            slowlog_log_slower_than_us: 10000,
            slowlog_max_len: 128,
        }
    }
}

/// Builds settings from `serve`'s arguments. Temporary minimal parser until
/// the redis.conf layer (config.rs) is wired in.
pub fn from_args(args: &[String]) -> anyhow::Result<(Settings, Option<String>)> {
    let mut s = Settings::default();
    let mut i = 0;
    let mut config_file = None;
    if let Some(first) = args.first() {
        if !first.starts_with("--") {
            config_file = Some(first.clone());
            i = 1;
        }
    }
    while i < args.len() {
        let name = args[i]
            .strip_prefix("--")
            .ok_or_else(|| anyhow::anyhow!("unexpected argument '{}'", args[i]))?
            .to_ascii_lowercase();
        let mut values = Vec::new();
        i += 1;
        while i < args.len() && !args[i].starts_with("--") {
            values.push(args[i].clone());
            i += 1;
        }
        let v = values.first().cloned().unwrap_or_default();
        let bad = || anyhow::anyhow!("Bad directive or wrong number of arguments: {name}");
        match name.as_str() {
            "port" => s.port = v.parse().map_err(|_| bad())?,
            "bind" => s.bind = values.clone(),
            "dir" => s.dir = std::path::absolute(&v)?,
            "databases" => s.databases = v.parse().map_err(|_| bad())?,
            "requirepass" => s.requirepass = (!v.is_empty()).then(|| v.into_bytes()),
            "maxclients" => s.maxclients = v.parse().map_err(|_| bad())?,
            "io-threads" => s.io_threads = v.parse().map_err(|_| bad())?,
            "io-backend" => s.io_backend = v.parse().map_err(|e: String| anyhow::anyhow!(e))?,
            "hz" => s.hz = v.parse().map_err(|_| bad())?,
            "appendonly" => s.appendonly = v == "yes",
            "dbfilename" => s.dbfilename = v,
            "save" => {
                let words: Vec<&str> = values.iter().flat_map(|w| w.split_whitespace()).collect();
                s.save_params = words
                    .chunks(2)
                    .filter_map(|c| Some((c.first()?.parse().ok()?, c.get(1)?.parse().ok()?)))
                    .collect();
            }
            "proto-max-bulk-len" => s.proto_max_bulk_len = v.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        }
    }
    Ok((s, config_file))
}

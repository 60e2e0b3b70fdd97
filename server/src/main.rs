//! The `ringkv` binary: `ringkv serve [CONFIG-FILE] [--directive value ...]`
//! and the command-line tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "ringkv",
    version,
    about = "A Redis-compatible in-memory data server with an io_uring persistence engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the server. Takes an optional redis.conf-style file, then
    /// redis-server-style overrides such as `--port 7379 --save ""`.
    Serve {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check an RDB file (like redis-check-rdb).
    CheckRdb(ringkv_server::tools::check_rdb::CheckRdbArgs),
    /// Check (and optionally fix) an AOF directory or file (like redis-check-aof).
    CheckAof(ringkv_server::tools::check_aof::CheckAofArgs),
    /// Measure write+fsync latency and throughput on a directory.
    FsyncBench(ringkv_server::tools::fsync_bench::FsyncBenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RINGKV_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let result = match cli.command {
        Cmd::Serve { args } => serve(args).map(|()| ExitCode::SUCCESS),
        Cmd::CheckRdb(a) => ringkv_server::tools::check_rdb::run(&a),
        Cmd::CheckAof(a) => ringkv_server::tools::check_aof::run(&a),
        Cmd::FsyncBench(a) => ringkv_server::tools::fsync_bench::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ringkv: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: Vec<String>) -> anyhow::Result<()> {
    let config = ringkv_server::config::Config::from_args(&args)?;
    ringkv_server::lifecycle::run(config)
}

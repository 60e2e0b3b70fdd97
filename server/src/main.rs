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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("RINGKV_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Cmd::Serve { args } => match serve(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ringkv: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(args: Vec<String>) -> anyhow::Result<()> {
    let (settings, config_file) = ringkv_server::settings::from_args(&args)?;
    ringkv_server::lifecycle::run(settings, config_file)
}

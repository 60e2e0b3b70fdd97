//! ringkv-server: the `ringkv` binary's library half. It owns everything
//! between the socket and the engine: RESP2/RESP3 framing, client
//! connections and their state (database, protocol, MULTI queue, WATCH,
//! blocking), server-level commands (HELLO, CLIENT, INFO, CONFIG, COMMAND …),
//! redis.conf parsing, and the process lifecycle.
//!
//! It must not know how values are stored or encoded on disk; that is the
//! engine's business.

pub mod blocking;
pub mod client;
pub mod commands;
pub mod config;
pub mod config_cmd;
pub mod cron;
pub mod dispatch;
pub mod info;
pub mod instantaneous;
pub mod latency;
pub mod lifecycle;
pub mod memory;
pub mod metrics;
pub mod persist;
pub mod resp;
pub mod shared;
pub mod slowlog;
pub mod subcommands;
pub mod tools;
pub mod worker;

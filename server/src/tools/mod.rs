//! The command-line tools behind `ringkv check-rdb`, `ringkv check-aof` and
//! `ringkv fsync-bench`.

pub mod check_aof;
pub mod check_rdb;
pub mod fsync_bench;

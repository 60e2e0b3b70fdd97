//! The append-only file: group-commit log, multi-part layout and manifest,
//! rewrite, loading, and the AOF fields of INFO persistence (issue 5).

use std::fmt::Write;

use ringkv_engine::exec::Propagation;

use crate::shared::Shared;

/// State of the AOF side, shared by all threads.
#[derive(Debug, Default)]
pub struct AofState {}

pub fn append(_shared: &Shared, _prop: &Propagation) {}

pub fn cron(_shared: &Shared) {}

pub fn write_refusal(_shared: &Shared) -> Option<String> {
    None
}

pub fn load_at_startup(_shared: &Shared) -> anyhow::Result<()> {
    Ok(())
}

pub fn on_shutdown(_shared: &Shared) {}

pub fn info_fields(_shared: &Shared, out: &mut String) {
    let fields: [(&str, &str); 12] = [
        ("aof_enabled", "0"),
        ("aof_rewrite_in_progress", "0"),
        ("aof_rewrite_scheduled", "0"),
        ("aof_last_rewrite_time_sec", "-1"),
        ("aof_current_rewrite_time_sec", "-1"),
        ("aof_last_bgrewrite_status", "ok"),
        ("aof_rewrites", "0"),
        ("aof_rewrites_consecutive_failures", "0"),
        ("aof_last_write_status", "ok"),
        ("aof_last_cow_size", "0"),
        ("module_fork_in_progress", "0"),
        ("module_fork_last_cow_size", "0"),
    ];
    for (k, v) in fields {
        let _ = write!(out, "{k}:{v}\r\n");
    }
}

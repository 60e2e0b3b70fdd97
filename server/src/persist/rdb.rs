//! RDB snapshots: SAVE, BGSAVE, save rules, startup load, and the RDB/fork
//! fields of INFO persistence (issue 4).

use std::fmt::Write;

use crate::shared::Shared;

/// State of the RDB side, shared by all threads.
#[derive(Debug, Default)]
pub struct RdbState {}

pub fn cron(_shared: &Shared) {}

pub fn write_refusal(_shared: &Shared) -> Option<String> {
    None
}

pub fn load_at_startup(_shared: &Shared) -> anyhow::Result<()> {
    Ok(())
}

pub fn on_shutdown(_shared: &Shared) {}

pub fn info_fields(shared: &Shared, out: &mut String) {
    let dirty = shared.sum_thread_stat(|s| &s.dirty);
    let fields: [(&str, String); 18] = [
        ("loading", "0".into()),
        ("async_loading", "0".into()),
        ("current_cow_peak", "0".into()),
        ("current_cow_size", "0".into()),
        ("current_cow_size_age", "0".into()),
        ("current_fork_perc", "0.00".into()),
        ("current_save_keys_processed", "0".into()),
        ("current_save_keys_total", "0".into()),
        ("rdb_changes_since_last_save", dirty.to_string()),
        ("rdb_bgsave_in_progress", "0".into()),
        (
            "rdb_last_save_time",
            (shared.started_unix_ms / 1000).to_string(),
        ),
        ("rdb_last_bgsave_status", "ok".into()),
        ("rdb_last_bgsave_time_sec", "-1".into()),
        ("rdb_current_bgsave_time_sec", "-1".into()),
        ("rdb_saves", "0".into()),
        ("rdb_last_cow_size", "0".into()),
        ("rdb_last_load_keys_expired", "0".into()),
        ("rdb_last_load_keys_loaded", "0".into()),
    ];
    for (k, v) in fields {
        let _ = write!(out, "{k}:{v}\r\n");
    }
}

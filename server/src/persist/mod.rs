//! Persistence as the server sees it: where executed writes go (the AOF),
//! the save rules, snapshots (SAVE/BGSAVE/rewrite bases), what loads at
//! startup, and the INFO persistence fields.
//!
//! `rdb` owns snapshots and the RDB side; `aof` owns the append-only file.
//! This module only routes between them.

use ringkv_engine::exec::Propagation;

use crate::shared::Shared;

pub mod aof;
pub mod rdb;

/// Hands the propagated form of a finished command to persistence. Called
/// while the command's slot locks are still held, so the log order is the
/// execution order for every key.
pub fn after_write(shared: &Shared, prop: &mut Propagation) {
    aof::append(shared, prop);
    prop.clear();
}

/// Periodic persistence work, called by the cron thread at `hz`.
pub fn cron(shared: &std::sync::Arc<Shared>) {
    rdb::cron(shared);
    aof::cron(shared);
}

/// Refuses writes while persistence is failing (Redis's MISCONF errors).
/// Returns the error reply to send, if any.
pub fn write_refusal(shared: &Shared) -> Option<String> {
    rdb::write_refusal(shared).or_else(|| aof::write_refusal(shared))
}

/// Loads the dataset at startup: the AOF when `appendonly yes`, else the RDB.
pub fn load_at_startup(shared: &Shared) -> anyhow::Result<()> {
    if shared.config.read().appendonly {
        aof::load_at_startup(shared)
    } else {
        rdb::load_at_startup(shared)
    }
}

/// Work at shutdown (final save / AOF flush), before the process exits.
pub fn on_shutdown(shared: &Shared) {
    aof::on_shutdown(shared);
    rdb::on_shutdown(shared);
}

/// The `# Persistence` section of INFO, in Redis 7.0's field order.
pub fn info(shared: &Shared, out: &mut String) {
    out.push_str("# Persistence\r\n");
    rdb::info_fields(shared, out);
    aof::info_fields(shared, out);
    rdb::info_extra_fields(shared, out);
}

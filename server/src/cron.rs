//! The server's timer thread (Redis's `serverCron`): the active expiry cycle
//! and persistence housekeeping (save rules, AOF rewrites and fsyncs).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use ringkv_engine::exec::Propagation;
use ringkv_engine::expire::{active_expire_cycle, ExpireCursor, ACTIVE_EXPIRE_CYCLE_BUDGET};

use crate::shared::Shared;

pub fn start(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("cron".into())
        .spawn(move || {
            let mut cursor = ExpireCursor::default();
            while !shared.is_shutting_down() {
                let hz = shared.config.read().hz.max(1);
                std::thread::sleep(Duration::from_millis(1000 / u64::from(hz)));
                shared.sample_instantaneous();
                expire_cycle(&shared, &mut cursor);
                crate::persist::cron(&shared);
            }
        })
        .context("spawning the cron thread")?;
    Ok(())
}

/// One bounded active-expiry pass. Each expired key is propagated as a DEL
/// while its slot is still locked, so the AOF sees it before later writes.
fn expire_cycle(shared: &Shared, cursor: &mut ExpireCursor) {
    let mut prop = Propagation::default();
    let mut expired = 0;
    active_expire_cycle(
        &shared.keyspace,
        ringkv_engine::clock::now_ms(),
        ACTIVE_EXPIRE_CYCLE_BUDGET,
        cursor,
        |db, key| {
            expired += 1;
            prop.push(db, &[b"DEL", key]);
            crate::persist::after_write(shared, &mut prop);
        },
    );
    if expired > 0 {
        tracing::debug!("active expiry removed {expired} keys");
        shared.add_expired_keys(expired);
    }
}

//! The server's timer thread (Redis's `serverCron`): active expiry now,
//! save rules and AOF housekeeping as they arrive.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::shared::Shared;

pub fn start(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let shared = shared.clone();
    std::thread::Builder::new()
        .name("cron".into())
        .spawn(move || {
            while !shared.is_shutting_down() {
                let hz = shared.config.read().hz.max(1);
                std::thread::sleep(Duration::from_millis(1000 / u64::from(hz)));
                shared.sample_instantaneous();
                crate::persist::cron(&shared);
            }
        })
        .context("spawning the cron thread")?;
    Ok(())
}

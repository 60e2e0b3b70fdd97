//! SAVE, BGSAVE [SCHEDULE], LASTSAVE (issue 4). Replies are Redis 7.0's.

use crate::dispatch::CmdCtx;
use crate::persist::rdb::{self, BgsaveRefusal, ERR_BGSAVE_IN_PROGRESS, ERR_OTHER_CHILD};

pub fn save(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    if rdb::bgsave_in_progress(ctx.shared) {
        ctx.out.error(ERR_BGSAVE_IN_PROGRESS);
        return;
    }
    match rdb::save_now(ctx.shared) {
        Ok(()) => ctx.out.ok(),
        Err(e) => {
            tracing::warn!("SAVE failed: {e}");
            // Redis replies a bare "-ERR" when the save fails.
            ctx.out.error("ERR");
        }
    }
}

pub fn bgsave(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let schedule = match args.get(1) {
        None => false,
        Some(a) if args.len() == 2 && a.eq_ignore_ascii_case(b"schedule") => true,
        Some(_) => {
            ctx.out.error("ERR syntax error");
            return;
        }
    };
    if rdb::bgsave_in_progress(ctx.shared) {
        ctx.out.error(ERR_BGSAVE_IN_PROGRESS);
        return;
    }
    // Inside EXEC this thread holds slot locks the snapshot point needs:
    // like Redis, a BGSAVE in a transaction is scheduled.
    if ctx.slots.is_some() || (schedule && ctx.shared.keyspace.snapshot_running()) {
        rdb::bgsave_schedule(ctx.shared);
        ctx.out.simple("Background saving scheduled");
        return;
    }
    match rdb::bgsave_start(ctx.shared) {
        Ok(()) => ctx.out.simple("Background saving started"),
        Err(BgsaveRefusal::InProgress) => ctx.out.error(ERR_BGSAVE_IN_PROGRESS),
        Err(BgsaveRefusal::OtherChild) if schedule => {
            rdb::bgsave_schedule(ctx.shared);
            ctx.out.simple("Background saving scheduled");
        }
        Err(BgsaveRefusal::OtherChild) => ctx.out.error(ERR_OTHER_CHILD),
        Err(BgsaveRefusal::Failed) => ctx.out.error("ERR"),
    }
}

pub fn lastsave(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.int(rdb::lastsave(ctx.shared) as i64);
}

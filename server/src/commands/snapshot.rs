//! SAVE, BGSAVE [SCHEDULE], LASTSAVE (issue 4).

use crate::dispatch::CmdCtx;

pub fn save(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.error("ERR SAVE is not implemented yet");
}

pub fn bgsave(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.error("ERR BGSAVE is not implemented yet");
}

pub fn lastsave(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.int((ctx.shared.started_unix_ms / 1000) as i64);
}

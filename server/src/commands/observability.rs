//! SLOWLOG, LATENCY (issue 6).

use crate::dispatch::CmdCtx;

pub fn slowlog(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.error("ERR SLOWLOG is not implemented yet");
}

pub fn latency(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.error("ERR LATENCY is not implemented yet");
}

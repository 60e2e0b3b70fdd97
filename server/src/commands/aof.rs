//! BGREWRITEAOF (issue 5).

use crate::dispatch::CmdCtx;

pub fn bgrewriteaof(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.error("ERR BGREWRITEAOF is not implemented yet");
}

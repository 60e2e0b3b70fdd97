//! BGREWRITEAOF (issue 5).

use ringkv_engine::command::{spec, CommandFlags as F};

use crate::dispatch::{CmdCtx, Command, Exec};

pub fn commands() -> Vec<Command> {
    vec![spec(
        "bgrewriteaof",
        1,
        F::ADMIN.union(F::NOSCRIPT),
        0,
        0,
        0,
        "server",
        "Asynchronously rewrites the append-only file to disk.",
        "1.0.0",
        Exec::Server(bgrewriteaof),
    )]
}

pub fn bgrewriteaof(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    let Some(shared) = ctx.shared.aof.handle() else {
        ctx.out.error(
            "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.",
        );
        return;
    };
    // Inside EXEC the command runs with every slot locked; the rewrite
    // needs them, so it is scheduled for the cron, as Redis does in MULTI.
    let in_multi = ctx.slots.is_some();
    match crate::persist::aof::bgrewriteaof(&shared, in_multi) {
        Ok(msg) => ctx.out.simple(msg),
        Err(e) => ctx.out.error(&e),
    }
}

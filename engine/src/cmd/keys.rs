//! Generic key commands: DEL, EXISTS, TYPE, EXPIRE family, KEYS, SCAN, RENAME …

use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn};
use crate::exec::ExecCtx;

pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec(
        "del",
        -2,
        F::WRITE,
        1,
        -1,
        1,
        "generic",
        "Deletes one or more keys.",
        "1.0.0",
        del,
    ),
    spec(
        "exists",
        -2,
        F::READONLY.union(F::FAST),
        1,
        -1,
        1,
        "generic",
        "Determines whether one or more keys exist.",
        "1.0.0",
        exists,
    ),
];

fn del(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let mut n = 0;
    for key in &args[1..] {
        if ctx.remove(key).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
}

fn exists(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let n = args[1..].iter().filter(|k| ctx.peek(k).is_some()).count();
    ctx.out.int(n as i64);
}

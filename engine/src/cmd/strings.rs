//! String commands: GET, SET and friends, counters, ranges.

use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn};
use crate::exec::ExecCtx;
use crate::keyspace::Entry;
use crate::value::Value;

pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec("get", 2, F::READONLY.union(F::FAST), 1, 1, 1, "string", "Returns the string value of a key.", "1.0.0", get),
    spec("set", -3, F::WRITE.union(F::DENYOOM), 1, 1, 1, "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0", set),
];

fn get(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    match ctx.read(args[1]) {
        (None, out) => out.null(),
        (
            Some(Entry {
                value: Value::Str(s),
                ..
            }),
            out,
        ) => out.bulk(s),
        (
            Some(Entry {
                value: Value::Int(i),
                ..
            }),
            out,
        ) => out.bulk_int(*i),
        (Some(_), out) => out.error(crate::exec::WRONGTYPE),
    }
}

fn set(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if args.len() != 3 {
        ctx.out.error(crate::exec::ERR_SYNTAX);
        return;
    }
    ctx.insert(args[1], Entry::new(Value::string(args[2])));
    ctx.out.ok();
}

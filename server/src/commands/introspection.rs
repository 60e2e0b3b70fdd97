//! COMMAND, COMMAND COUNT|INFO|DOCS|LIST|GETKEYS|HELP — generated from the
//! command table, so they cannot drift from what is implemented.

use ringkv_engine::command::CommandFlags;
use ringkv_engine::reply::ReplyWriter;

use crate::dispatch::{arity_error, table, CmdCtx, Command};

pub fn command(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let t = table();
    if args.len() == 1 {
        ctx.out.array(t.commands.len());
        for c in &t.commands {
            write_info(ctx.out, c);
        }
        return;
    }
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"count" if args.len() == 2 => ctx.out.int(t.commands.len() as i64),
        b"list" => {
            ctx.out.array(t.commands.len());
            for c in &t.commands {
                ctx.out.bulk(c.name.as_bytes());
            }
        }
        b"info" => {
            let names = &args[2..];
            if names.is_empty() {
                ctx.out.array(t.commands.len());
                for c in &t.commands {
                    write_info(ctx.out, c);
                }
                return;
            }
            ctx.out.array(names.len());
            for n in names {
                match t.lookup(n) {
                    Some((_, c)) => write_info(ctx.out, c),
                    None => ctx.out.null_array(),
                }
            }
        }
        b"docs" => {
            let found: Vec<&Command> = if args.len() == 2 {
                t.commands.iter().collect()
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| t.lookup(n).map(|(_, c)| c))
                    .collect()
            };
            ctx.out.map(found.len());
            for c in found {
                ctx.out.bulk(c.name.as_bytes());
                ctx.out.map(3);
                ctx.out.bulk(b"summary");
                ctx.out.bulk(c.summary.as_bytes());
                ctx.out.bulk(b"since");
                ctx.out.bulk(c.since.as_bytes());
                ctx.out.bulk(b"group");
                ctx.out.bulk(c.group.as_bytes());
            }
        }
        b"getkeys" if args.len() >= 3 => getkeys(ctx, &args[2..]),
        b"help" if args.len() == 2 => {
            let lines = [
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "HELP",
                "    Print this help.",
            ];
            ctx.out.array(lines.len());
            for l in lines {
                ctx.out.simple(l);
            }
        }
        b"count" | b"getkeys" | b"help" => {
            let name = format!("command|{}", String::from_utf8_lossy(&sub));
            ctx.out.error(&arity_error(&name));
        }
        _ => ctx.out.error(&format!(
            "ERR unknown subcommand '{}'. Try COMMAND HELP.",
            String::from_utf8_lossy(args[1])
        )),
    }
}

fn getkeys(ctx: &mut CmdCtx<'_>, argv: &[&[u8]]) {
    let Some((_, c)) = table().lookup(argv[0]) else {
        ctx.out.error("ERR Invalid command specified");
        return;
    };
    if !c.arity_ok(argv.len()) {
        ctx.out
            .error("ERR Invalid number of arguments specified for command");
        return;
    }
    let keys = c.key_positions(argv);
    if keys.is_empty() {
        ctx.out.error("ERR The command has no key arguments");
        return;
    }
    ctx.out.array(keys.len());
    for i in keys {
        ctx.out.bulk(argv.get(i).copied().unwrap_or_default());
    }
}

fn acl_categories(c: &Command) -> Vec<String> {
    let mut cats = Vec::new();
    if c.flags.contains(CommandFlags::WRITE) {
        cats.push("@write".to_string());
    }
    if c.flags.contains(CommandFlags::READONLY) {
        cats.push("@read".to_string());
    }
    cats.push(format!("@{}", c.group.replace("sorted-set", "sortedset")));
    if c.flags.contains(CommandFlags::FAST) {
        cats.push("@fast".to_string());
    } else {
        cats.push("@slow".to_string());
    }
    if c.flags.contains(CommandFlags::BLOCKING) {
        cats.push("@blocking".to_string());
    }
    if c.flags.contains(CommandFlags::ADMIN) {
        cats.push("@admin".to_string());
        cats.push("@dangerous".to_string());
    }
    cats
}

fn write_info(out: &mut ReplyWriter, c: &Command) {
    out.array(10);
    out.bulk(c.name.as_bytes());
    out.int(c.arity as i64);
    let mut flags: Vec<&str> = c.flags.names().collect();
    if c.movable_keys.is_some() {
        flags.push("movablekeys");
    }
    out.set(flags.len());
    for f in flags {
        out.simple(f);
    }
    out.int(c.first_key as i64);
    out.int(c.last_key as i64);
    out.int(c.step as i64);
    let cats = acl_categories(c);
    out.set(cats.len());
    for cat in cats {
        out.simple(&cat);
    }
    out.set(0);
    out.array(0);
    out.array(0);
}

//! INFO, CONFIG, TIME, DEBUG, SHUTDOWN, LOLWUT.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::dispatch::{arity_error, CmdCtx};

pub fn info(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let text = crate::info::render(ctx, &args[1..]);
    ctx.out.verbatim("txt", text.as_bytes());
}

pub fn config(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    crate::config_cmd::config(ctx, args)
}

pub fn time(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    let us = ringkv_engine::clock::now_us();
    ctx.out.array(2);
    ctx.out.bulk((us / 1_000_000).to_string().as_bytes());
    ctx.out.bulk((us % 1_000_000).to_string().as_bytes());
}

pub fn debug(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"sleep" if args.len() == 3 => {
            let secs = std::str::from_utf8(args[2])
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0);
            match secs {
                Some(s) => {
                    std::thread::sleep(Duration::from_secs_f64(s));
                    ctx.out.ok();
                }
                None => ctx.out.error("ERR value is not a valid float"),
            }
        }
        b"reload" => {
            // Inside EXEC this thread holds slot locks the save needs.
            if ctx.slots.is_some() {
                ctx.out
                    .error("ERR DEBUG RELOAD is not allowed inside a transaction");
                return;
            }
            match crate::persist::rdb::debug_reload(ctx.shared) {
                Ok(()) => ctx.out.ok(),
                Err(e) => ctx.out.error(&e),
            }
        }
        b"help" => {
            let lines = [
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "RELOAD",
                "    Save the RDB on disk and reload it back to memory.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "HELP",
                "    Print this help.",
            ];
            ctx.out.array(lines.len());
            for l in lines {
                ctx.out.simple(l);
            }
        }
        b"sleep" => ctx.out.error(&arity_error("debug")),
        _ => ctx.out.error(&format!(
            "ERR unknown subcommand '{}'. Try DEBUG HELP.",
            String::from_utf8_lossy(args[1])
        )),
    }
}

pub fn shutdown(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let mut nosave = false;
    let mut save = false;
    for a in &args[1..] {
        let a = a.to_ascii_lowercase();
        match a.as_slice() {
            b"nosave" => nosave = true,
            b"save" => save = true,
            b"now" | b"force" => {}
            b"abort" => {
                ctx.out.error("ERR No shutdown in progress.");
                return;
            }
            _ => {
                ctx.out.error("ERR syntax error");
                return;
            }
        }
    }
    if nosave && save {
        ctx.out.error("ERR syntax error");
        return;
    }
    // The final save runs in persist::rdb::on_shutdown once the io-threads
    // have stopped; record what this SHUTDOWN asked for.
    let mode = if ctx.shared.loading.load(Ordering::Acquire) {
        // As Redis: never save a dataset that is still loading.
        crate::persist::rdb::ShutdownSave::NoSave
    } else if save {
        crate::persist::rdb::ShutdownSave::Save
    } else if nosave {
        crate::persist::rdb::ShutdownSave::NoSave
    } else {
        crate::persist::rdb::ShutdownSave::Default
    };
    ctx.shared.rdb.request_shutdown_save(mode);
    tracing::warn!("User requested shutdown...");
    ctx.shared.request_shutdown();
    // Redis sends no reply when the shutdown goes ahead: the connection closes.
    ctx.client.close_after_reply = true;
}

pub fn lolwut(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    let text = format!(
        "ringkv ver. {} (Redis ver. {})\n",
        env!("CARGO_PKG_VERSION"),
        crate::commands::connection::REDIS_COMPAT_VERSION
    );
    ctx.out.verbatim("txt", text.as_bytes());
}

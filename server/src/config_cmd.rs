//! CONFIG GET|SET|RESETSTAT|REWRITE|HELP on top of the `config` module.

use std::sync::atomic::Ordering;

use crate::dispatch::{arity_error, CmdCtx};

const HELP: &[&str] = &[
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
];

pub fn config(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let sub = args[1].to_ascii_lowercase();
    match (sub.as_slice(), args.len()) {
        (b"get", n) if n >= 3 => {
            let pairs = ctx.shared.config.read().get(&args[2..]);
            ctx.out.map(pairs.len());
            for (k, v) in pairs {
                ctx.out.bulk(k.as_bytes());
                ctx.out.bulk(v.as_bytes());
            }
        }
        (b"set", n) if n >= 4 && n % 2 == 0 => set(ctx, &args[2..]),
        (b"resetstat", 2) => {
            resetstat(ctx);
            ctx.out.ok();
        }
        (b"rewrite", 2) => rewrite(ctx),
        (b"help", 2) => {
            ctx.out.array(HELP.len());
            for l in HELP {
                ctx.out.simple(l);
            }
        }
        (b"get" | b"set" | b"resetstat" | b"rewrite" | b"help", _) => {
            let name = format!("config|{}", String::from_utf8_lossy(&sub));
            ctx.out.error(&arity_error(&name));
        }
        _ => ctx.out.error(&format!(
            "ERR unknown subcommand '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(args[1])
        )),
    }
}

fn set(ctx: &mut CmdCtx<'_>, kv: &[&[u8]]) {
    let pairs: Vec<(&[u8], &[u8])> = kv.chunks(2).map(|c| (c[0], c[1])).collect();
    let local =
        ctx.client.meta.addr.starts_with("127.") || ctx.client.meta.addr.starts_with("[::1]");
    let mut config = ctx.shared.config.write();
    match config.set(&pairs, local) {
        Ok(outcome) => {
            if outcome.changed.iter().any(|n| {
                n.starts_with("hash-max-")
                    || n.starts_with("set-max-")
                    || n.starts_with("zset-max-")
                    || n.starts_with("list-max-")
            }) {
                crate::lifecycle::apply_encoding_limits(&config);
            }
            ctx.shared.refresh_observability_settings(&config);
            drop(config);
            // AOF directives that act at once (issue 5).
            let changed = |name: &str| outcome.changed.contains(&name);
            let mut applied = Ok(());
            if changed("appendfsync") || changed("aof-timestamp-enabled") {
                applied = crate::persist::aof::apply_log_settings(ctx.shared);
            }
            if changed("appendonly") {
                if let Some(shared) = ctx.shared.aof.handle() {
                    applied = applied.and(crate::persist::aof::apply_appendonly(&shared));
                }
            }
            if let Err(e) = applied {
                tracing::warn!("applying AOF settings: {e}");
            }
            ctx.out.ok();
        }
        Err(e) => {
            drop(config);
            ctx.out.error(&e.to_string());
        }
    }
}

fn rewrite(ctx: &mut CmdCtx<'_>) {
    let config = ctx.shared.config.read();
    let Some(path) = config.config_file().map(|p| p.to_path_buf()) else {
        drop(config);
        ctx.out
            .error("ERR The server is running without a config file");
        return;
    };
    match config.rewrite(&path) {
        Ok(()) => {
            drop(config);
            ctx.out.ok();
        }
        Err(e) => {
            drop(config);
            ctx.out.error(&format!("ERR {e}"));
        }
    }
}

/// Redis resets the counters INFO stats, commandstats and errorstats report.
fn resetstat(ctx: &mut CmdCtx<'_>) {
    let s = &ctx.shared.stats;
    for c in [
        &s.total_connections_received,
        &s.rejected_connections,
        &s.total_net_input_bytes,
        &s.total_net_output_bytes,
        &s.total_error_replies,
        &s.unexpected_error_replies,
        &s.active_expired_keys,
    ] {
        c.store(0, Ordering::Relaxed);
    }
    for t in &ctx.shared.thread_stats {
        for c in [
            &t.keyspace_hits,
            &t.keyspace_misses,
            &t.expired_keys,
            &t.commands_processed,
        ] {
            c.store(0, Ordering::Relaxed);
        }
    }
    for per_thread in &ctx.shared.command_stats {
        for s in per_thread.lock().iter_mut() {
            *s = Default::default();
        }
    }
    ctx.shared.error_stats.lock().clear();
}

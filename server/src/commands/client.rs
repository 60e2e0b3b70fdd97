//! CLIENT ID|SETNAME|GETNAME|LIST|INFO|SETINFO|KILL|HELP.

use std::sync::atomic::Ordering;

use crate::dispatch::{arity_error, CmdCtx};

const HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "    * ID <client-id>",
    "      Kill connections by client id.",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "SETINFO <option> <value>",
    "    Set client meta attr. Options are:",
    "    * LIB-NAME: the client lib name.",
    "    * LIB-VER: the client lib version.",
    "HELP",
    "    Print this help.",
];

/// Redis refuses names with spaces, newlines or other special characters.
pub fn validate_name(name: &[u8]) -> Result<(), &'static str> {
    if name.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        Err("ERR Client names cannot contain spaces, newlines or special characters.")
    } else {
        Ok(())
    }
}

pub fn client(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let sub = args[1].to_ascii_lowercase();
    let argc = args.len();
    match (sub.as_slice(), argc) {
        (b"id", 2) => ctx.out.int(ctx.client.id() as i64),
        (b"getname", 2) => {
            let name = ctx.client.meta.name();
            if name.is_empty() {
                ctx.out.null();
            } else {
                ctx.out.bulk(&name);
            }
        }
        (b"setname", 3) => match validate_name(args[2]) {
            Ok(()) => {
                *ctx.client.meta.name.lock() = args[2].to_vec();
                ctx.out.ok();
            }
            Err(e) => ctx.out.error(e),
        },
        (b"setinfo", 4) => setinfo(ctx, args[2], args[3]),
        (b"info", 2) => {
            let line = ctx.client.meta.list_line(ringkv_engine::clock::now_ms());
            ctx.out.verbatim("txt", format!("{line}\n").as_bytes());
        }
        (b"list", _) => list(ctx, &args[2..]),
        (b"kill", n) if n >= 3 => kill(ctx, &args[2..]),
        (b"help", 2) => {
            ctx.out.array(HELP.len());
            for l in HELP {
                ctx.out.simple(l);
            }
        }
        (b"id" | b"getname" | b"setname" | b"setinfo" | b"info" | b"kill" | b"help", _) => {
            let name = format!("client|{}", String::from_utf8_lossy(&sub));
            ctx.out.error(&arity_error(&name));
        }
        _ => ctx.out.error(&format!(
            "ERR unknown subcommand '{}'. Try CLIENT HELP.",
            String::from_utf8_lossy(args[1])
        )),
    }
}

fn setinfo(ctx: &mut CmdCtx<'_>, attr: &[u8], value: &[u8]) {
    let target = if attr.eq_ignore_ascii_case(b"lib-name") {
        &ctx.client.meta.lib_name
    } else if attr.eq_ignore_ascii_case(b"lib-ver") {
        &ctx.client.meta.lib_ver
    } else {
        ctx.out.error(&format!(
            "ERR Unrecognized option '{}'",
            String::from_utf8_lossy(attr)
        ));
        return;
    };
    if value.iter().any(|&c| !(b'!'..=b'~').contains(&c)) {
        ctx.out.error(&format!(
            "ERR {} cannot contain spaces, newlines or special characters.",
            String::from_utf8_lossy(attr).to_ascii_uppercase()
        ));
        return;
    }
    *target.lock() = value.to_vec();
    ctx.out.ok();
}

fn list(ctx: &mut CmdCtx<'_>, opts: &[&[u8]]) {
    let mut ids: Option<Vec<u64>> = None;
    let mut i = 0;
    while i < opts.len() {
        if opts[i].eq_ignore_ascii_case(b"type") && i + 1 < opts.len() {
            let t = opts[i + 1].to_ascii_lowercase();
            match t.as_slice() {
                b"normal" => {}
                b"master" | b"replica" | b"slave" | b"pubsub" => ids = Some(Vec::new()),
                _ => {
                    ctx.out.error(&format!(
                        "ERR Unknown client type '{}'",
                        String::from_utf8_lossy(opts[i + 1])
                    ));
                    return;
                }
            }
            i += 2;
        } else if opts[i].eq_ignore_ascii_case(b"id") && i + 1 < opts.len() {
            let mut v = Vec::new();
            for a in &opts[i + 1..] {
                match ringkv_engine::cmd::parse_i64(a) {
                    Some(id) if id > 0 => v.push(id as u64),
                    _ => {
                        ctx.out.error("ERR Invalid client ID");
                        return;
                    }
                }
            }
            ids = Some(v);
            i = opts.len();
        } else {
            ctx.out.error("ERR syntax error");
            return;
        }
    }
    let now = ringkv_engine::clock::now_ms();
    let mut metas: Vec<_> = ctx.shared.clients.lock().values().cloned().collect();
    metas.sort_by_key(|m| m.id);
    let mut text = String::new();
    for m in metas {
        if ids.as_ref().is_some_and(|ids| !ids.contains(&m.id)) {
            continue;
        }
        text.push_str(&m.list_line(now));
        text.push('\n');
    }
    ctx.out.verbatim("txt", text.as_bytes());
}

fn kill(ctx: &mut CmdCtx<'_>, opts: &[&[u8]]) {
    // Old form: CLIENT KILL addr:port.
    if opts.len() == 1 {
        let addr = opts[0];
        let target = ctx
            .shared
            .clients
            .lock()
            .values()
            .find(|m| m.addr.as_bytes() == addr)
            .cloned();
        match target {
            Some(m) => {
                kill_client(ctx, &m);
                ctx.out.ok();
            }
            None => ctx.out.error("ERR No such client"),
        }
        return;
    }
    if !opts.len().is_multiple_of(2) {
        ctx.out.error("ERR syntax error");
        return;
    }
    let mut id = None;
    let mut addr = None;
    let mut laddr = None;
    let mut skipme = true;
    let mut type_match = true;
    let mut user_match = true;
    for pair in opts.chunks(2) {
        let (k, v) = (pair[0].to_ascii_lowercase(), pair[1]);
        match k.as_slice() {
            b"id" => match ringkv_engine::cmd::parse_i64(v) {
                Some(n) if n > 0 => id = Some(n as u64),
                _ => {
                    ctx.out.error("ERR client-id should be greater than 0");
                    return;
                }
            },
            b"addr" => addr = Some(v.to_vec()),
            b"laddr" => laddr = Some(v.to_vec()),
            b"type" => {
                let t = v.to_ascii_lowercase();
                match t.as_slice() {
                    b"normal" => {}
                    b"master" | b"replica" | b"slave" | b"pubsub" => type_match = false,
                    _ => {
                        ctx.out.error(&format!(
                            "ERR Unknown client type '{}'",
                            String::from_utf8_lossy(v)
                        ));
                        return;
                    }
                }
            }
            b"user" => user_match = v == b"default",
            b"skipme" => {
                if v.eq_ignore_ascii_case(b"yes") {
                    skipme = true;
                } else if v.eq_ignore_ascii_case(b"no") {
                    skipme = false;
                } else {
                    ctx.out.error("ERR syntax error");
                    return;
                }
            }
            _ => {
                ctx.out.error("ERR syntax error");
                return;
            }
        }
    }
    let me = ctx.client.id();
    let targets: Vec<_> = ctx
        .shared
        .clients
        .lock()
        .values()
        .filter(|_| type_match && user_match)
        .filter(|m| id.is_none_or(|id| m.id == id))
        .filter(|m| {
            addr.as_ref()
                .is_none_or(|a| m.addr.as_bytes() == a.as_slice())
        })
        .filter(|m| {
            laddr
                .as_ref()
                .is_none_or(|a| m.laddr.as_bytes() == a.as_slice())
        })
        .filter(|m| !(skipme && m.id == me))
        .cloned()
        .collect();
    for m in &targets {
        kill_client(ctx, m);
    }
    ctx.out.int(targets.len() as i64);
}

fn kill_client(ctx: &mut CmdCtx<'_>, m: &crate::client::ClientMeta) {
    if m.id == ctx.client.id() {
        ctx.client.close_after_reply = true;
        return;
    }
    m.kill.store(true, Ordering::Release);
    ctx.shared.wake_thread(m.thread);
}

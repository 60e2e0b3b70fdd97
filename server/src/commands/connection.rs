//! PING, ECHO, QUIT, RESET, HELLO, AUTH, SELECT.

use std::sync::atomic::Ordering;

use ringkv_engine::reply::Protocol;

use crate::commands::transaction::{discard_multi, unwatch_all};
use crate::dispatch::CmdCtx;

/// The Redis version ringkv reports, so clients that gate features on it work.
pub const REDIS_COMPAT_VERSION: &str = "7.0.15";

pub fn ping(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    match args.len() {
        1 => ctx.out.simple("PONG"),
        2 => ctx.out.bulk(args[1]),
        _ => ctx.out.error(&crate::dispatch::arity_error("ping")),
    }
}

pub fn echo(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    ctx.out.bulk(args[1]);
}

pub fn quit(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    ctx.out.ok();
    ctx.client.close_after_reply = true;
}

pub fn reset(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    discard_multi(ctx.client);
    unwatch_all(ctx.shared, ctx.client);
    ctx.client.set_db(0);
    set_proto(ctx, Protocol::Resp2);
    ctx.client.meta.name.lock().clear();
    ctx.client.authenticated = ctx.shared.settings.read().requirepass.is_none();
    ctx.out.simple("RESET");
}

fn set_proto(ctx: &mut CmdCtx<'_>, proto: Protocol) {
    ctx.out.set_proto(proto);
    let v = if proto == Protocol::Resp3 { 3 } else { 2 };
    ctx.client.meta.resp.store(v, Ordering::Relaxed);
}

/// Checks a password for the default user. Returns the error to send, if any.
fn check_password(ctx: &mut CmdCtx<'_>, user: &[u8], pass: &[u8]) -> Result<(), &'static str> {
    let required = ctx.shared.settings.read().requirepass.clone();
    match required {
        None if user == b"default" => {
            // With no password configured, the default user accepts any password.
            Ok(())
        }
        Some(p) if user == b"default" && p.as_slice() == pass => Ok(()),
        _ => Err("WRONGPASS invalid username-password pair or user is disabled."),
    }
}

pub fn auth(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    if args.len() > 3 {
        ctx.out.error("ERR syntax error");
        return;
    }
    if args.len() == 2 && ctx.shared.settings.read().requirepass.is_none() {
        ctx.out.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
        return;
    }
    let (user, pass) = if args.len() == 3 {
        (args[1], args[2])
    } else {
        (&b"default"[..], args[1])
    };
    match check_password(ctx, user, pass) {
        Ok(()) => {
            ctx.client.authenticated = true;
            ctx.out.ok();
        }
        Err(e) => ctx.out.error(e),
    }
}

pub fn hello(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let mut proto = None;
    let mut i = 1;
    if args.len() >= 2 {
        let v = std::str::from_utf8(args[1])
            .ok()
            .and_then(|s| s.parse::<i64>().ok());
        match v {
            None => {
                ctx.out
                    .error("ERR Protocol version is not an integer or out of range");
                return;
            }
            Some(2) => proto = Some(Protocol::Resp2),
            Some(3) => proto = Some(Protocol::Resp3),
            Some(_) => {
                ctx.out.error("NOPROTO unsupported protocol version");
                return;
            }
        }
        i = 2;
    }
    let mut auth: Option<(&[u8], &[u8])> = None;
    let mut setname: Option<&[u8]> = None;
    while i < args.len() {
        let more = args.len() - i - 1;
        if args[i].eq_ignore_ascii_case(b"AUTH") && more >= 2 {
            auth = Some((args[i + 1], args[i + 2]));
            i += 3;
        } else if args[i].eq_ignore_ascii_case(b"SETNAME") && more >= 1 {
            setname = Some(args[i + 1]);
            i += 2;
        } else {
            ctx.out.error(&format!(
                "ERR Syntax error in HELLO option '{}'",
                String::from_utf8_lossy(args[i])
            ));
            return;
        }
    }
    if let Some((user, pass)) = auth {
        if let Err(e) = check_password(ctx, user, pass) {
            ctx.out.error(e);
            return;
        }
        ctx.client.authenticated = true;
    }
    if !ctx.client.authenticated {
        ctx.out.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    if let Some(name) = setname {
        if let Err(e) = crate::commands::client::validate_name(name) {
            ctx.out.error(e);
            return;
        }
        *ctx.client.meta.name.lock() = name.to_vec();
    }
    if let Some(p) = proto {
        set_proto(ctx, p);
    }
    let proto_num = if ctx.out.is_resp3() { 3 } else { 2 };
    let out = &mut *ctx.out;
    out.map(7);
    out.bulk(b"server");
    out.bulk(b"redis");
    out.bulk(b"version");
    out.bulk(REDIS_COMPAT_VERSION.as_bytes());
    out.bulk(b"proto");
    out.int(proto_num);
    out.bulk(b"id");
    out.int(ctx.client.id() as i64);
    out.bulk(b"mode");
    out.bulk(b"standalone");
    out.bulk(b"role");
    out.bulk(b"master");
    out.bulk(b"modules");
    out.array(0);
}

pub fn select(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let Some(db) = ringkv_engine::cmd::parse_i64(args[1]) else {
        ctx.out.error("ERR value is not an integer or out of range");
        return;
    };
    if db < 0 || db as usize >= ctx.shared.keyspace.db_count() {
        ctx.out.error("ERR DB index is out of range");
        return;
    }
    ctx.client.set_db(db as usize);
    ctx.out.ok();
}

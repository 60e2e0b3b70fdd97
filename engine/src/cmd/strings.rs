//! String commands: GET, SET and friends, counters, ranges.
//!
//! Semantics follow Redis 7.0's `t_string.c`, including the order in which
//! errors are detected (option syntax, then expire time, then the key's
//! type) and the rewritten forms propagated to the AOF: relative expiries
//! become `SET k v PXAT <ms>` / `PEXPIREAT k <ms>`, INCRBYFLOAT becomes
//! `SET k v KEEPTTL`, GETDEL becomes `DEL`, GETSET becomes `SET`.

use crate::cmd::parse_i64;
use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn};
use crate::exec::{ExecCtx, ERR_NOT_INT, ERR_SYNTAX, WRONGTYPE};
use crate::keyspace::{Entry, NO_EXPIRY};
use crate::reply::ReplyWriter;
use crate::value::{itoa_buf, mark_raw, ByteStr, Value};

/// Redis's default `proto-max-bulk-len`: the largest string APPEND/SETRANGE may build.
pub const STRING_BYTES_MAX: usize = 512 * 1024 * 1024;

const ERR_STRING_TOO_LONG: &str = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";

const RW: F = F::WRITE.union(F::DENYOOM);
const RWF: F = RW.union(F::FAST);
const RO: F = F::READONLY;
const ROF: F = F::READONLY.union(F::FAST);
const WF: F = F::WRITE.union(F::FAST);

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec("get", 2, ROF, 1, 1, 1, "string", "Returns the string value of a key.", "1.0.0", get),
    spec("set", -3, RW, 1, 1, 1, "string", "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", "1.0.0", set),
    spec("setnx", 3, RWF, 1, 1, 1, "string", "Set the string value of a key only when the key doesn't exist.", "1.0.0", setnx),
    spec("setex", 4, RW, 1, 1, 1, "string", "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", "2.0.0", setex),
    spec("psetex", 4, RW, 1, 1, 1, "string", "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", "2.6.0", psetex),
    spec("mget", -2, ROF, 1, -1, 1, "string", "Atomically returns the string values of one or more keys.", "1.0.0", mget),
    spec("mset", -3, RW, 1, -1, 2, "string", "Atomically creates or modifies the string values of one or more keys.", "1.0.1", mset),
    spec("msetnx", -3, RW, 1, -1, 2, "string", "Atomically modifies the string values of one or more keys only when all keys don't exist.", "1.0.1", msetnx),
    spec("getset", 3, RWF, 1, 1, 1, "string", "Returns the previous string value of a key after setting it to a new value.", "1.0.0", getset),
    spec("getdel", 2, WF, 1, 1, 1, "string", "Returns the string value of a key after deleting the key.", "6.2.0", getdel),
    spec("getex", -2, WF, 1, 1, 1, "string", "Returns the string value of a key after setting its expiration time.", "6.2.0", getex),
    spec("append", 3, RWF, 1, 1, 1, "string", "Appends a string to the value of a key. Creates the key if it doesn't exist.", "2.0.0", append),
    spec("strlen", 2, ROF, 1, 1, 1, "string", "Returns the length of a string value.", "2.2.0", strlen),
    spec("incr", 2, RWF, 1, 1, 1, "string", "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", incr),
    spec("decr", 2, RWF, 1, 1, 1, "string", "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", "1.0.0", decr),
    spec("incrby", 3, RWF, 1, 1, 1, "string", "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "1.0.0", incrby),
    spec("decrby", 3, RWF, 1, 1, 1, "string", "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", "1.0.0", decrby),
    spec("incrbyfloat", 3, RWF, 1, 1, 1, "string", "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", "2.6.0", incrbyfloat),
    spec("getrange", 4, RO, 1, 1, 1, "string", "Returns a substring of the string stored at a key.", "2.4.0", getrange),
    spec("substr", 4, RO, 1, 1, 1, "string", "Returns a substring from a string value.", "1.0.0", getrange),
    spec("lcs", -3, RO, 1, 2, 1, "string", "Finds the longest common substring.", "7.0.0", lcs),
    spec("setrange", 4, RW, 1, 1, 1, "string", "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", "2.2.0", setrange),
];

/// Writes a string value as a bulk reply; false (and nothing written) if
/// the value is not a string.
fn reply_string(out: &mut ReplyWriter, value: &Value) -> bool {
    match value {
        Value::Str(s) => out.bulk(s),
        Value::Int(i) => out.bulk_int(*i),
        _ => return false,
    }
    true
}

/// Redis's `getGenericCommand`: replies with the value, null, or WRONGTYPE.
/// Returns false on WRONGTYPE.
fn get_generic(ctx: &mut ExecCtx<'_>, key: &[u8]) -> bool {
    match ctx.read(key) {
        (None, out) => {
            out.null();
            true
        }
        (Some(e), out) => {
            if reply_string(out, &e.value) {
                true
            } else {
                out.error(WRONGTYPE);
                false
            }
        }
    }
}

fn get(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    get_generic(ctx, args[1]);
}

/// The expiry option of SET / GETEX.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpireUnit {
    /// EX: relative seconds.
    Ex,
    /// PX: relative milliseconds.
    Px,
    /// EXAT: absolute Unix seconds.
    ExAt,
    /// PXAT: absolute Unix milliseconds.
    PxAt,
}

#[derive(Debug, Default)]
struct StringOpts<'a> {
    nx: bool,
    xx: bool,
    get: bool,
    keepttl: bool,
    persist: bool,
    expire: Option<(ExpireUnit, &'a [u8])>,
}

#[derive(PartialEq, Eq)]
enum OptsFor {
    Set,
    GetEx,
}

/// Redis's `parseExtendedStringArgumentsOrReply`: repeated options are
/// allowed, conflicting ones are a syntax error.
fn parse_string_opts<'a>(args: &[&'a [u8]], from: usize, cmd: OptsFor) -> Option<StringOpts<'a>> {
    let mut o = StringOpts::default();
    let mut j = from;
    while j < args.len() {
        let opt = args[j];
        let next = args.get(j + 1).copied();
        let is = |name: &str| opt.eq_ignore_ascii_case(name.as_bytes());
        let set = cmd == OptsFor::Set;
        let unit = o.expire.map(|(u, _)| u);
        let other_expire = |u: ExpireUnit| unit.is_some_and(|x| x != u);
        if is("nx") && !o.xx && set {
            o.nx = true;
        } else if is("xx") && !o.nx && set {
            o.xx = true;
        } else if is("get") && set {
            o.get = true;
        } else if is("keepttl") && !o.persist && unit.is_none() && set {
            o.keepttl = true;
        } else if is("persist") && !set && unit.is_none() && !o.keepttl {
            o.persist = true;
        } else if let Some(u) = [
            ("ex", ExpireUnit::Ex),
            ("px", ExpireUnit::Px),
            ("exat", ExpireUnit::ExAt),
            ("pxat", ExpireUnit::PxAt),
        ]
        .into_iter()
        .find(|(n, _)| is(n))
        .map(|(_, u)| u)
        .filter(|&u| !o.keepttl && !o.persist && !other_expire(u) && next.is_some())
        {
            o.expire = Some((u, next.unwrap_or_default()));
            j += 1;
        } else {
            return None;
        }
        j += 1;
    }
    Some(o)
}

/// Why an expire argument was refused.
enum ExpireArgError {
    NotInteger,
    Invalid,
}

/// Redis's `getExpireMillisecondsOrReply`: the absolute expiry in Unix ms.
fn expire_at_ms(now_ms: u64, unit: ExpireUnit, arg: &[u8]) -> Result<u64, ExpireArgError> {
    let v = parse_i64(arg).ok_or(ExpireArgError::NotInteger)?;
    let seconds = matches!(unit, ExpireUnit::Ex | ExpireUnit::ExAt);
    if v <= 0 || (seconds && v > i64::MAX / 1000) {
        return Err(ExpireArgError::Invalid);
    }
    let mut ms = if seconds { v * 1000 } else { v };
    if matches!(unit, ExpireUnit::Ex | ExpireUnit::Px) {
        // Redis adds in signed 64-bit and treats a wrap to <= 0 as overflow.
        ms = ms
            .checked_add(now_ms as i64)
            .ok_or(ExpireArgError::Invalid)?;
    }
    Ok(ms as u64)
}

/// Replies with the error for a bad expire argument of command `name`.
fn reply_expire_error(out: &mut ReplyWriter, err: ExpireArgError, name: &str) {
    match err {
        ExpireArgError::NotInteger => out.error(ERR_NOT_INT),
        ExpireArgError::Invalid => {
            out.error(&format!("ERR invalid expire time in '{name}' command"))
        }
    }
}

/// What SET replies when NX/XX prevents the write.
#[derive(Clone, Copy)]
enum SetReplies {
    /// SET: `+OK` / null.
    OkNull,
    /// SETNX: `:1` / `:0`.
    OneZero,
}

/// Redis's `setGenericCommand`. `expire` is already validated and absolute.
fn set_generic(
    ctx: &mut ExecCtx<'_>,
    args: &[&[u8]],
    opts: &StringOpts<'_>,
    expire: Option<u64>,
    replies: SetReplies,
) {
    let (key, val) = (args[1], args[2]);
    if opts.get && !get_generic(ctx, key) {
        return;
    }
    let stored = |expire_at_ms| Entry {
        value: Value::string(val),
        expire_at_ms,
    };
    if !(opts.nx || opts.xx || opts.keepttl) {
        // Nothing depends on the old value: one lookup does it all.
        ctx.replace(key, stored(expire.unwrap_or(NO_EXPIRY)));
    } else {
        let old_expire = ctx.peek(key).map(|e| e.expire_at_ms);
        let found = old_expire.is_some();
        if (opts.nx && found) || (opts.xx && !found) {
            if !opts.get {
                match replies {
                    SetReplies::OkNull => ctx.out.null(),
                    SetReplies::OneZero => ctx.out.int(0),
                }
            }
            return;
        }
        let expire_at_ms = match (expire, opts.keepttl) {
            (Some(ms), _) => ms,
            (None, true) => old_expire.unwrap_or(NO_EXPIRY),
            (None, false) => NO_EXPIRY,
        };
        ctx.insert(key, stored(expire_at_ms));
    }
    if let Some(ms) = expire {
        let mut b = itoa_buf::Buf::new();
        ctx.propagate(&[b"SET", key, val, b"PXAT", b.format(ms as i64)]);
    } else if opts.get {
        let kept: smallvec::SmallVec<[&[u8]; 8]> = args
            .iter()
            .enumerate()
            .filter(|(j, a)| *j < 3 || !a.eq_ignore_ascii_case(b"get"))
            .map(|(_, a)| *a)
            .collect();
        ctx.propagate(&kept);
    }
    if !opts.get {
        match replies {
            SetReplies::OkNull => ctx.out.ok(),
            SetReplies::OneZero => ctx.out.int(1),
        }
    }
}

fn set(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(opts) = parse_string_opts(args, 3, OptsFor::Set) else {
        ctx.out.error(ERR_SYNTAX);
        return;
    };
    let expire = match opts.expire.map(|(u, a)| expire_at_ms(ctx.now_ms, u, a)) {
        None => None,
        Some(Ok(ms)) => Some(ms),
        Some(Err(e)) => return reply_expire_error(ctx.out, e, "set"),
    };
    set_generic(ctx, args, &opts, expire, SetReplies::OkNull);
}

fn setnx(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let opts = StringOpts {
        nx: true,
        ..StringOpts::default()
    };
    set_generic(ctx, args, &opts, None, SetReplies::OneZero);
}

/// SETEX / PSETEX: `key time value`, propagated as `SET key value PXAT ms`.
fn setex_generic(ctx: &mut ExecCtx<'_>, args: &[&[u8]], unit: ExpireUnit, name: &str) {
    let ms = match expire_at_ms(ctx.now_ms, unit, args[2]) {
        Ok(ms) => ms,
        Err(e) => return reply_expire_error(ctx.out, e, name),
    };
    let reordered = [args[0], args[1], args[3]];
    set_generic(
        ctx,
        &reordered,
        &StringOpts::default(),
        Some(ms),
        SetReplies::OkNull,
    );
}

fn setex(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    setex_generic(ctx, args, ExpireUnit::Ex, "setex");
}

fn psetex(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    setex_generic(ctx, args, ExpireUnit::Px, "psetex");
}

fn mget(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    ctx.out.array(args.len() - 1);
    for key in &args[1..] {
        match ctx.read(key) {
            (Some(e), out) => {
                if !reply_string(out, &e.value) {
                    out.null();
                }
            }
            (None, out) => out.null(),
        }
    }
}

fn wrong_arg_count(ctx: &mut ExecCtx<'_>, name: &str) {
    ctx.out.error(&format!(
        "ERR wrong number of arguments for '{name}' command"
    ));
}

fn mset(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if args.len() & 1 == 0 {
        return wrong_arg_count(ctx, "mset");
    }
    for pair in args[1..].chunks_exact(2) {
        // Like Redis's setKey lookup: an expired old value is deleted (and
        // the DEL propagated) before the new one is stored.
        ctx.expire_if_needed(pair[0]);
        ctx.insert(pair[0], Entry::new(Value::string(pair[1])));
    }
    ctx.out.ok();
}

fn msetnx(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if args.len() & 1 == 0 {
        return wrong_arg_count(ctx, "msetnx");
    }
    if args[1..].iter().step_by(2).any(|k| ctx.peek(k).is_some()) {
        ctx.out.int(0);
        return;
    }
    for pair in args[1..].chunks_exact(2) {
        ctx.insert(pair[0], Entry::new(Value::string(pair[1])));
    }
    ctx.out.int(1);
}

fn getset(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if !get_generic(ctx, args[1]) {
        return;
    }
    ctx.insert(args[1], Entry::new(Value::string(args[2])));
    ctx.propagate(&[b"SET", args[1], args[2]]);
}

fn getdel(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let found = match ctx.read(key) {
        (None, out) => {
            out.null();
            false
        }
        (Some(e), out) => {
            if !reply_string(out, &e.value) {
                out.error(WRONGTYPE);
                return;
            }
            true
        }
    };
    if found {
        ctx.remove(key);
        ctx.propagate(&[b"DEL", key]);
    }
}

fn getex(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let Some(opts) = parse_string_opts(args, 2, OptsFor::GetEx) else {
        ctx.out.error(ERR_SYNTAX);
        return;
    };
    // The value is replied before the expire argument is validated, as
    // Redis checks the type first; a bad argument takes the reply back.
    let reply_start = ctx.out.len();
    let had_expiry = match ctx.read(key) {
        (None, out) => {
            out.null();
            return;
        }
        (Some(e), out) => {
            if !reply_string(out, &e.value) {
                out.error(WRONGTYPE);
                return;
            }
            e.has_expiry()
        }
    };
    let expire = match opts
        .expire
        .map(|(u, a)| (u, expire_at_ms(ctx.now_ms, u, a)))
    {
        None => None,
        Some((u, Ok(ms))) => Some((u, ms)),
        Some((_, Err(e))) => {
            ctx.out.truncate(reply_start);
            return reply_expire_error(ctx.out, e, "getex");
        }
    };
    match expire {
        Some((ExpireUnit::ExAt | ExpireUnit::PxAt, ms)) if ms <= ctx.now_ms => {
            ctx.remove(key);
            ctx.propagate(&[b"DEL", key]);
        }
        Some((_, ms)) => {
            ctx.set_expire(key, ms);
            let mut b = itoa_buf::Buf::new();
            ctx.propagate(&[b"PEXPIREAT", key, b.format(ms as i64)]);
        }
        None if opts.persist && had_expiry => {
            ctx.set_expire(key, NO_EXPIRY);
            ctx.propagate(&[b"PERSIST", key]);
        }
        None => {}
    }
}

/// Reads a string value for modification: Ok(None) if missing, Err if the
/// key holds another type (WRONGTYPE already written).
fn string_for_write(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Result<Option<(ByteStr, u64)>, ()> {
    match ctx.peek(key) {
        None => Ok(None),
        Some(Entry {
            value: Value::Str(s),
            expire_at_ms,
        }) => Ok(Some((s.clone(), *expire_at_ms))),
        Some(Entry {
            value: Value::Int(i),
            expire_at_ms,
        }) => {
            let mut b = itoa_buf::Buf::new();
            Ok(Some((ByteStr::from_slice(b.format(*i)), *expire_at_ms)))
        }
        Some(_) => {
            ctx.wrong_type();
            Err(())
        }
    }
}

fn append(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (key, tail) = (args[1], args[2]);
    let current_len = match ctx.peek(key).map(|e| &e.value) {
        None => None,
        Some(Value::Str(s)) => Some(s.len()),
        Some(Value::Int(i)) => Some(itoa_buf::Buf::new().format(*i).len()),
        Some(_) => return ctx.wrong_type(),
    };
    let Some(current_len) = current_len else {
        ctx.insert(key, Entry::new(Value::string(tail)));
        ctx.out.int(tail.len() as i64);
        return;
    };
    let len = current_len + tail.len();
    if len > STRING_BYTES_MAX {
        ctx.out.error(ERR_STRING_TOO_LONG);
        return;
    }
    if let Some(e) = ctx.get_mut(key) {
        match &mut e.value {
            Value::Str(s) => {
                s.extend_from_slice(tail);
                mark_raw(s);
            }
            v => {
                let mut b = itoa_buf::Buf::new();
                let mut s = ByteStr::from_slice(v.as_bytes(&mut b).unwrap_or_default());
                s.extend_from_slice(tail);
                mark_raw(&mut s);
                *v = Value::Str(s);
            }
        }
    }
    ctx.modified(key, 1);
    ctx.out.int(len as i64);
}

fn strlen(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    match ctx.read(args[1]) {
        (None, out) => out.int(0),
        (Some(e), out) => match &e.value {
            Value::Str(s) => out.int(s.len() as i64),
            Value::Int(i) => out.int(itoa_buf::Buf::new().format(*i).len() as i64),
            _ => out.error(WRONGTYPE),
        },
    }
}

/// Redis's `incrDecrCommand`: keeps the TTL, stores an `int` value.
fn incr_decr(ctx: &mut ExecCtx<'_>, key: &[u8], by: i64) {
    let current = match ctx.peek(key) {
        None => 0,
        Some(e) => match &e.value {
            Value::Int(i) => *i,
            Value::Str(s) => match parse_i64(s) {
                Some(i) => i,
                None => return ctx.out.error(ERR_NOT_INT),
            },
            _ => return ctx.wrong_type(),
        },
    };
    let Some(new) = current.checked_add(by) else {
        ctx.out.error("ERR increment or decrement would overflow");
        return;
    };
    match ctx.get_mut(key) {
        Some(e) => {
            e.value = Value::Int(new);
            ctx.modified(key, 1);
        }
        None => {
            ctx.insert(key, Entry::new(Value::Int(new)));
        }
    }
    ctx.out.int(new);
}

fn incr(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    incr_decr(ctx, args[1], 1);
}

fn decr(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    incr_decr(ctx, args[1], -1);
}

fn incrby(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    match parse_i64(args[2]) {
        Some(by) => incr_decr(ctx, args[1], by),
        None => ctx.out.error(ERR_NOT_INT),
    }
}

fn decrby(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    match parse_i64(args[2]) {
        Some(i64::MIN) => ctx.out.error("ERR decrement would overflow"),
        Some(by) => incr_decr(ctx, args[1], -by),
        None => ctx.out.error(ERR_NOT_INT),
    }
}

fn incrbyfloat(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (key, by) = (args[1], args[2]);
    let Ok(current) = string_for_write(ctx, key) else {
        return;
    };
    let result = match crate::util::incr_by_float(current.as_ref().map(|(s, _)| &s[..]), by) {
        Ok(r) => r,
        Err(e) => return ctx.out.error(&e.to_string()),
    };
    // Redis stores the printed result as a plain string (never `int`) and
    // keeps the TTL.
    let expire_at_ms = current.map_or(NO_EXPIRY, |(_, exp)| exp);
    ctx.insert(
        key,
        Entry {
            value: Value::Str(ByteStr::from_slice(result.as_bytes())),
            expire_at_ms,
        },
    );
    ctx.out.bulk(result.as_bytes());
    ctx.propagate(&[b"SET", key, result.as_bytes(), b"KEEPTTL"]);
}

/// Redis's clamping of GETRANGE's inclusive `start..=end` to a string of `len` bytes.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<std::ops::Range<usize>> {
    let len = len as i64;
    if start < 0 && end < 0 && start > end {
        return None;
    }
    let start = if start < 0 { len + start } else { start }.max(0);
    let end = if end < 0 { len + end } else { end }.max(0).min(len - 1);
    if start > end || len == 0 {
        return None;
    }
    Some(start as usize..end as usize + 1)
}

fn getrange(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(start), Some(end)) = (parse_i64(args[2]), parse_i64(args[3])) else {
        ctx.out.error(ERR_NOT_INT);
        return;
    };
    let mut b = itoa_buf::Buf::new();
    match ctx.read(args[1]) {
        (None, out) => out.bulk(b""),
        (Some(e), out) => match e.value.as_bytes(&mut b) {
            None => out.error(WRONGTYPE),
            Some(s) => match clamp_range(start, end, s.len()) {
                Some(r) => out.bulk(&s[r]),
                None => out.bulk(b""),
            },
        },
    }
}

fn setrange(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (key, patch) = (args[1], args[3]);
    let Some(offset) = parse_i64(args[2]) else {
        ctx.out.error(ERR_NOT_INT);
        return;
    };
    if offset < 0 {
        ctx.out.error("ERR offset is out of range");
        return;
    }
    let Ok(current) = string_for_write(ctx, key) else {
        return;
    };
    if patch.is_empty() {
        ctx.out.int(current.map_or(0, |(s, _)| s.len() as i64));
        return;
    }
    if offset as u64 + patch.len() as u64 > STRING_BYTES_MAX as u64 {
        ctx.out.error(ERR_STRING_TOO_LONG);
        return;
    }
    let offset = offset as usize;
    let (mut s, expire_at_ms) = current.unwrap_or_default();
    if s.len() < offset + patch.len() {
        s.resize(offset + patch.len(), 0);
    }
    s[offset..offset + patch.len()].copy_from_slice(patch);
    mark_raw(&mut s);
    let len = s.len();
    ctx.insert(
        key,
        Entry {
            value: Value::Str(s),
            expire_at_ms,
        },
    );
    ctx.out.int(len as i64);
}

/// Reads a string for LCS: "" if missing, None if another type.
fn lcs_operand(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Option<ByteStr> {
    let mut b = itoa_buf::Buf::new();
    match ctx.get(key) {
        None => Some(ByteStr::new()),
        Some(e) => e.value.as_bytes(&mut b).map(ByteStr::from_slice),
    }
}

/// Redis 7.0's LCS: the classic dynamic-programming table, then a walk back
/// from its corner that emits the string or the matching ranges (last
/// match first), exactly in Redis's order.
fn lcs(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(a), Some(b)) = (lcs_operand(ctx, args[1]), lcs_operand(ctx, args[2])) else {
        ctx.out
            .error("ERR The specified keys must contain string values");
        return;
    };
    let (mut get_len, mut get_idx, mut with_match_len) = (false, false, false);
    let mut min_match_len: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let opt = args[j];
        if opt.eq_ignore_ascii_case(b"idx") {
            get_idx = true;
        } else if opt.eq_ignore_ascii_case(b"len") {
            get_len = true;
        } else if opt.eq_ignore_ascii_case(b"withmatchlen") {
            with_match_len = true;
        } else if opt.eq_ignore_ascii_case(b"minmatchlen") && j + 1 < args.len() {
            match parse_i64(args[j + 1]) {
                Some(v) => min_match_len = v.max(0),
                None => return ctx.out.error(ERR_NOT_INT),
            }
            j += 1;
        } else {
            return ctx.out.error(ERR_SYNTAX);
        }
        j += 1;
    }
    if get_idx && get_len {
        ctx.out
            .error("ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells * 4 > STRING_BYTES_MAX as u64 {
        ctx.out
            .error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        ctx.out
            .error("ERR Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
    table.resize(cells as usize, 0);
    let at = |i: usize, j: usize| i * (blen + 1) + j;
    for i in 1..=alen {
        for j in 1..=blen {
            table[at(i, j)] = if a[i - 1] == b[j - 1] {
                table[at(i - 1, j - 1)] + 1
            } else {
                table[at(i - 1, j)].max(table[at(i, j - 1)])
            };
        }
    }
    let total = table[at(alen, blen)] as usize;
    if get_len && !get_idx {
        ctx.out.int(total as i64);
        return;
    }
    // Walk back from the corner, collecting the string and the ranges.
    let mut result = vec![0u8; total];
    let mut ranges: Vec<[usize; 4]> = Vec::new();
    let (mut i, mut j, mut idx) = (alen, blen, total);
    // `a_start == alen` means "no range open".
    let (mut a_start, mut a_end, mut b_start, mut b_end) = (alen, 0, 0, 0);
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[idx - 1] = a[i - 1];
            if a_start == alen {
                (a_start, a_end, b_start, b_end) = (i - 1, i - 1, j - 1, j - 1);
            } else if a_start == i && b_start == j {
                a_start -= 1;
                b_start -= 1;
            } else {
                emit = true;
            }
            if a_start == 0 || b_start == 0 {
                emit = true;
            }
            idx -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[at(i - 1, j)] > table[at(i, j - 1)] {
                i -= 1;
            } else {
                j -= 1;
            }
            if a_start != alen {
                emit = true;
            }
        }
        if emit {
            let match_len = (a_end - a_start + 1) as i64;
            if min_match_len == 0 || match_len >= min_match_len {
                ranges.push([a_start, a_end, b_start, b_end]);
            }
            a_start = alen;
        }
    }
    if !get_idx {
        ctx.out.bulk(&result);
        return;
    }
    let out = &mut *ctx.out;
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for [a0, a1, b0, b1] in ranges {
        out.array(2 + usize::from(with_match_len));
        out.array(2);
        out.int(a0 as i64);
        out.int(a1 as i64);
        out.array(2);
        out.int(b0 as i64);
        out.int(b1 as i64);
        if with_match_len {
            out.int((a1 - a0 + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

//! Set commands: membership, random picks, moves, and the SINTER/SUNION/
//! SDIFF algebra with its STORE and CARD forms.

use std::borrow::Cow;

use hashbrown::HashSet;
use rand::seq::index::sample;
use rand::Rng;
use smallvec::smallvec;

use super::coll::{
    parse_count, parse_i64, parse_scan, read_set, remove_if_empty, set_create, set_mut,
    write_scan_all, write_scan_page, WrongType,
};
use super::lists::{numkeys_at, parse_positive};
use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn, KeyPositions};
use crate::exec::{ExecCtx, ERR_SYNTAX};
use crate::keyspace::Entry;
use crate::types::{limits, SetValue};
use crate::value::{ByteStr, Value};

const W: F = F::WRITE.union(F::DENYOOM).union(F::FAST);
const WF: F = F::WRITE.union(F::FAST);
const WD: F = F::WRITE.union(F::DENYOOM);
const R: F = F::READONLY;
const RF: F = F::READONLY.union(F::FAST);

fn sintercard_keys(args: &[&[u8]]) -> KeyPositions {
    numkeys_at(args, 1)
}

pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec("sadd", -3, W, 1, 1, 1, "set", "Adds one or more members to a set. Creates the key if it doesn't exist.", "1.0.0", sadd),
    spec("srem", -3, WF, 1, 1, 1, "set", "Removes one or more members from a set. Deletes the set if the last member was removed.", "1.0.0", srem),
    spec("smembers", 2, R, 1, 1, 1, "set", "Returns all members of a set.", "1.0.0", smembers),
    spec("sismember", 3, RF, 1, 1, 1, "set", "Determines whether a member belongs to a set.", "1.0.0", sismember),
    spec("smismember", -3, RF, 1, 1, 1, "set", "Determines whether multiple members belong to a set.", "6.2.0", smismember),
    spec("scard", 2, RF, 1, 1, 1, "set", "Returns the number of members in a set.", "1.0.0", scard),
    spec("spop", -2, WF, 1, 1, 1, "set", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.", "1.0.0", spop),
    spec("srandmember", -2, R, 1, 1, 1, "set", "Get one or multiple random members from a set", "1.0.0", srandmember),
    spec("smove", 4, WF, 1, 2, 1, "set", "Moves a member from one set to another.", "1.0.0", smove),
    spec("sinter", -2, R, 1, -1, 1, "set", "Returns the intersect of multiple sets.", "1.0.0", sinter),
    CommandSpec { movable_keys: Some(sintercard_keys), ..spec("sintercard", -3, R, 0, 0, 0, "set", "Returns the number of members of the intersect of multiple sets.", "7.0.0", sintercard) },
    spec("sinterstore", -3, WD, 1, -1, 1, "set", "Stores the intersect of multiple sets in a key.", "1.0.0", sinterstore),
    spec("sunion", -2, R, 1, -1, 1, "set", "Returns the union of multiple sets.", "1.0.0", sunion),
    spec("sunionstore", -3, WD, 1, -1, 1, "set", "Stores the union of multiple sets in a key.", "1.0.0", sunionstore),
    spec("sdiff", -2, R, 1, -1, 1, "set", "Returns the difference of multiple sets.", "1.0.0", sdiff),
    spec("sdiffstore", -3, WD, 1, -1, 1, "set", "Stores the difference of multiple sets in a key.", "1.0.0", sdiffstore),
    spec("sscan", -3, R, 1, 1, 1, "set", "Iterates over members of a set.", "2.0.0", sscan),
];

fn sadd(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let lim = limits();
    let Ok(s) = set_create(ctx, key) else {
        return ctx.wrong_type();
    };
    let added = args[2..].iter().filter(|m| s.insert_with(m, &lim)).count();
    if added > 0 {
        ctx.modified(key, added as u64);
    }
    ctx.out.int(added as i64);
}

fn srem(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let removed = match set_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => 0,
        Ok(Some(s)) => args[2..].iter().filter(|m| s.remove(m)).count(),
    };
    if removed > 0 {
        ctx.modified(key, removed as u64);
        remove_if_empty(ctx, key);
    }
    ctx.out.int(removed as i64);
}

fn smembers(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((s, out)) = read_set(ctx, args[1]) {
        out.set(s.map_or(0, |s| s.len()));
        for m in s.into_iter().flat_map(|s| s.iter()) {
            out.bulk(&m);
        }
    }
}

fn sismember(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((s, out)) = read_set(ctx, args[1]) {
        out.int(s.is_some_and(|s| s.contains(args[2])) as i64);
    }
}

fn smismember(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((s, out)) = read_set(ctx, args[1]) {
        out.array(args.len() - 2);
        for m in &args[2..] {
            out.int(s.is_some_and(|s| s.contains(m)) as i64);
        }
    }
}

fn scard(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((s, out)) = read_set(ctx, args[1]) {
        out.int(s.map_or(0, |s| s.len()) as i64);
    }
}

fn spop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if args.len() > 3 {
        return ctx.out.error(ERR_SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_positive(ctx, a) {
            None => return,
            Some(n) => Some(n),
        },
    };
    let key = args[1];
    let popped: Vec<ByteStr> = match set_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => Vec::new(),
        Ok(Some(s)) => {
            let want = count.unwrap_or(1).min(s.len());
            let picks: Vec<ByteStr> = if want == s.len() {
                s.iter().map(|m| ByteStr::from_slice(&m)).collect()
            } else {
                sample(&mut rand::thread_rng(), s.len(), want)
                    .into_iter()
                    .filter_map(|i| s.nth(i))
                    .collect()
            };
            for m in &picks {
                s.remove(m);
            }
            picks
        }
    };
    if !popped.is_empty() {
        ctx.modified(key, popped.len() as u64);
        let emptied =
            matches!(ctx.peek(key), Some(Entry { value: Value::Set(s), .. }) if s.is_empty());
        if emptied && count.is_some() {
            ctx.propagate(&[b"DEL", key]);
        } else {
            let mut prop: Vec<&[u8]> = vec![b"SREM", key];
            prop.extend(popped.iter().map(|m| m.as_slice()));
            ctx.propagate(&prop);
        }
        remove_if_empty(ctx, key);
    }
    match count {
        None => match popped.first() {
            Some(m) => ctx.out.bulk(m),
            None => ctx.out.null(),
        },
        Some(_) => {
            ctx.out.set(popped.len());
            for m in &popped {
                ctx.out.bulk(m);
            }
        }
    }
}

fn srandmember(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if args.len() > 3 {
        return ctx.out.error(ERR_SYNTAX);
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_count(ctx.out, a) {
            None => return,
            Some(c) => Some(c),
        },
    };
    let Some((s, out)) = read_set(ctx, args[1]) else {
        return;
    };
    // Collections are never stored empty; treat one as missing regardless.
    let s = s.filter(|c| !c.is_empty());
    let Some(count) = count else {
        match s {
            None => out.null(),
            Some(s) => {
                let i = rand::thread_rng().gen_range(0..s.len());
                match s.nth(i) {
                    Some(m) => out.bulk(&m),
                    None => out.null(),
                }
            }
        }
        return;
    };
    let Some(s) = s else {
        return out.array(0);
    };
    let mut rng = rand::thread_rng();
    let len = s.len();
    if count < 0 {
        out.array(count.unsigned_abs() as usize);
        for _ in 0..count.unsigned_abs() {
            match s.nth(rng.gen_range(0..len)) {
                Some(m) => out.bulk(&m),
                None => out.null(),
            }
        }
    } else if count as usize >= len {
        out.array(len);
        for m in s.iter() {
            out.bulk(&m);
        }
    } else {
        out.array(count as usize);
        for i in sample(&mut rng, len, count as usize) {
            match s.nth(i) {
                Some(m) => out.bulk(&m),
                None => out.null(),
            }
        }
    }
}

fn smove(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (src, dst, member) = (args[1], args[2], args[3]);
    let src_has = match set_mut(ctx, src) {
        Err(_) => return ctx.wrong_type(),
        // A missing source answers 0 before the destination's type is checked.
        Ok(None) => return ctx.out.int(0),
        Ok(s) => s.map(|s| s.contains(member)),
    };
    if set_mut(ctx, dst).is_err() {
        return ctx.wrong_type();
    }
    match src_has {
        None | Some(false) => return ctx.out.int(0),
        Some(true) if src == dst => return ctx.out.int(1),
        Some(true) => {}
    }
    if let Ok(Some(s)) = set_mut(ctx, src) {
        s.remove(member);
    }
    ctx.modified(src, 1);
    remove_if_empty(ctx, src);
    if let Ok(d) = set_create(ctx, dst) {
        d.insert(member);
    }
    ctx.modified(dst, 1);
    ctx.out.int(1);
}

/// Length of the set at `key` (None if missing) without counting a hit.
fn set_len(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Result<Option<usize>, WrongType> {
    match ctx.peek(key) {
        None => Ok(None),
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => Ok(Some(s.len())),
        Some(_) => Err(WrongType),
    }
}

fn with_set<T>(ctx: &mut ExecCtx<'_>, key: &[u8], f: impl FnOnce(&SetValue) -> T) -> Option<T> {
    match ctx.get(key) {
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => Some(f(s)),
        _ => None,
    }
}

/// Set algebra over `keys`; `limit` (0 = none) stops SINTERCARD early.
/// Err after a WRONGTYPE key (reply not yet written).
fn intersect(
    ctx: &mut ExecCtx<'_>,
    keys: &[&[u8]],
    limit: usize,
) -> Result<Vec<ByteStr>, WrongType> {
    let mut lens = Vec::with_capacity(keys.len());
    for k in keys {
        lens.push(set_len(ctx, k)?);
    }
    if lens.iter().any(Option::is_none) {
        return Ok(Vec::new());
    }
    let smallest = (0..keys.len())
        .min_by_key(|&i| lens[i])
        .expect("at least one key");
    let mut acc: Vec<ByteStr> = with_set(ctx, keys[smallest], |s| {
        s.iter().map(|m| ByteStr::from_slice(&m)).collect()
    })
    .unwrap_or_default();
    for (i, k) in keys.iter().enumerate() {
        if i != smallest {
            with_set(ctx, k, |s| acc.retain(|m| s.contains(m)));
        }
    }
    if limit > 0 {
        acc.truncate(limit);
    }
    Ok(acc)
}

fn union(ctx: &mut ExecCtx<'_>, keys: &[&[u8]]) -> Result<Vec<ByteStr>, WrongType> {
    for k in keys {
        set_len(ctx, k)?;
    }
    let mut acc: HashSet<ByteStr> = HashSet::new();
    let mut order = Vec::new();
    for k in keys {
        with_set(ctx, k, |s| {
            for m in s.iter() {
                if acc.insert(ByteStr::from_slice(&m)) {
                    order.push(ByteStr::from_slice(&m));
                }
            }
        });
    }
    Ok(order)
}

fn difference(ctx: &mut ExecCtx<'_>, keys: &[&[u8]]) -> Result<Vec<ByteStr>, WrongType> {
    for k in keys {
        set_len(ctx, k)?;
    }
    let mut acc: Vec<ByteStr> = with_set(ctx, keys[0], |s| {
        s.iter().map(|m| ByteStr::from_slice(&m)).collect()
    })
    .unwrap_or_default();
    for k in &keys[1..] {
        if acc.is_empty() {
            break;
        }
        with_set(ctx, k, |s| acc.retain(|m| !s.contains(m)));
    }
    Ok(acc)
}

type Algebra = fn(&mut ExecCtx<'_>, &[&[u8]]) -> Result<Vec<ByteStr>, WrongType>;

fn reply_members(ctx: &mut ExecCtx<'_>, args: &[&[u8]], op: Algebra) {
    match op(ctx, &args[1..]) {
        Err(_) => ctx.wrong_type(),
        Ok(members) => {
            ctx.out.set(members.len());
            for m in &members {
                ctx.out.bulk(m);
            }
        }
    }
}

fn store_members(ctx: &mut ExecCtx<'_>, args: &[&[u8]], op: Algebra) {
    let dst = args[1];
    let members = match op(ctx, &args[2..]) {
        Err(_) => return ctx.wrong_type(),
        Ok(m) => m,
    };
    if members.is_empty() {
        ctx.remove(dst);
        return ctx.out.int(0);
    }
    let lim = limits();
    let mut s = SetValue::new();
    for m in &members {
        s.insert_with(m, &lim);
    }
    let n = s.len();
    ctx.insert(dst, Entry::new(Value::Set(s)));
    ctx.out.int(n as i64);
}

fn sinter(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    reply_members(ctx, args, |c, k| intersect(c, k, 0))
}
fn sinterstore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    store_members(ctx, args, |c, k| intersect(c, k, 0))
}
fn sunion(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    reply_members(ctx, args, union)
}
fn sunionstore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    store_members(ctx, args, union)
}
fn sdiff(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    reply_members(ctx, args, difference)
}
fn sdiffstore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    store_members(ctx, args, difference)
}

/// Parses `numkeys key… [LIMIT n]` (SINTERCARD, ZINTERCARD).
pub(crate) fn parse_intercard<'a>(
    ctx: &mut ExecCtx<'_>,
    args: &[&'a [u8]],
) -> Option<(Vec<&'a [u8]>, usize)> {
    let n = match parse_i64(args[1]) {
        None => {
            ctx.out.error(crate::exec::ERR_NOT_INT);
            return None;
        }
        Some(n) if n <= 0 => {
            ctx.out.error("ERR numkeys should be greater than 0");
            return None;
        }
        Some(n) => n as u64,
    };
    if n > (args.len() - 2) as u64 {
        ctx.out
            .error("ERR Number of keys can't be greater than number of args");
        return None;
    }
    let keys = args[2..2 + n as usize].to_vec();
    let mut limit = 0;
    let mut i = 2 + n as usize;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"limit") && i + 1 < args.len() {
            match parse_i64(args[i + 1]) {
                Some(l) if l >= 0 => limit = l as usize,
                _ => {
                    ctx.out.error("ERR LIMIT can't be negative");
                    return None;
                }
            }
            i += 2;
        } else {
            ctx.out.error(ERR_SYNTAX);
            return None;
        }
    }
    Some((keys, limit))
}

fn sintercard(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some((keys, limit)) = parse_intercard(ctx, args) else {
        return;
    };
    match intersect(ctx, &keys, limit) {
        Err(_) => ctx.wrong_type(),
        Ok(m) => ctx.out.int(m.len() as i64),
    }
}

fn sscan(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some((cursor, opts)) = parse_scan(ctx.out, &args[2..]) else {
        return;
    };
    let Some((s, out)) = read_set(ctx, args[1]) else {
        return;
    };
    match s {
        Some(s) if !s.is_compact() => {
            write_scan_page(out, cursor, &opts, s.len(), 1, |i| {
                s.nth(i).map(|m| smallvec![Cow::Owned(m.to_vec())])
            });
        }
        _ => {
            let items = s.into_iter().flat_map(|s| s.iter()).map(|m| smallvec![m]);
            write_scan_all(out, opts.pattern, 1, items);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::coll::testkit::{bulks, Kit};

    fn sorted_members(reply: &str) -> Vec<String> {
        let mut v: Vec<String> = reply
            .split("\r\n")
            .skip(1)
            .filter(|l| !l.starts_with('$') && !l.starts_with('*') && !l.is_empty())
            .map(str::to_string)
            .collect();
        v.sort();
        v
    }

    #[test]
    fn basics() {
        let mut k = Kit::new();
        assert_eq!(k.run("SADD s 3 1 2 2"), ":3\r\n");
        assert_eq!(k.run("SMEMBERS s"), bulks(&["1", "2", "3"]));
        assert_eq!(k.run("SISMEMBER s 2"), ":1\r\n");
        assert_eq!(k.run("SMISMEMBER s 2 9"), "*2\r\n:1\r\n:0\r\n");
        assert_eq!(k.run("SCARD s"), ":3\r\n");
        assert_eq!(k.run("SREM s 1 9"), ":1\r\n");
        assert_eq!(k.run("SMOVE s t 2"), ":1\r\n");
        assert_eq!(k.run("SMOVE s t 9"), ":0\r\n");
        k.run("SET str x");
        assert!(k.run("SMOVE s str 9").starts_with("-WRONGTYPE"));
        assert_eq!(k.run("SPOP s"), "$1\r\n3\r\n");
        assert_eq!(k.propagated(), vec!["SREM s 3".to_string()]);
        assert_eq!(k.run("EXISTS s"), ":0\r\n");
        assert_eq!(k.run("SPOP s"), "$-1\r\n");
        assert_eq!(k.run("SPOP s 2"), "*0\r\n");
        assert_eq!(
            k.run("SPOP s -1"),
            "-ERR value is out of range, must be positive\r\n"
        );
        k.proto = crate::reply::Protocol::Resp3;
        assert_eq!(k.run("SMEMBERS t"), "~1\r\n$1\r\n2\r\n");
        assert_eq!(k.run("SPOP t 5"), "~1\r\n$1\r\n2\r\n");
        assert_eq!(k.propagated(), vec!["DEL t".to_string()]);
    }

    #[test]
    fn random_members() {
        let mut k = Kit::new();
        k.run("SADD s a b c");
        assert_eq!(k.run("SRANDMEMBER nope"), "$-1\r\n");
        assert_eq!(k.run("SRANDMEMBER nope 3"), "*0\r\n");
        assert_eq!(
            sorted_members(&k.run("SRANDMEMBER s 5")),
            vec!["a", "b", "c"]
        );
        assert!(k.run("SRANDMEMBER s -7").starts_with("*7\r\n"));
        let two = sorted_members(&k.run("SRANDMEMBER s 2"));
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        let popped = k.run("SPOP s 2");
        assert!(popped.starts_with("*2\r\n"));
        assert_eq!(k.run("SCARD s"), ":1\r\n");
    }

    #[test]
    fn random_picks_on_large_sets() {
        let mut k = Kit::new();
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        k.run(&format!("SADD big {}", members.join(" ")));
        for _ in 0..10 {
            let popped = k.run("SPOP big");
            assert!(popped.starts_with("$"));
            let m = popped.split("\r\n").nth(1).unwrap().to_string();
            assert_eq!(k.run(&format!("SISMEMBER big {m}")), ":0\r\n");
        }
        assert!(k.run("SPOP big 490").starts_with("*490\r\n"));
        assert_eq!(k.run("SCARD big"), ":500\r\n");
        let picks = sorted_members(&k.run("SRANDMEMBER big 100"));
        let mut distinct = picks.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), 100);
        assert!(k.run("SRANDMEMBER big -2000").starts_with("*2000\r\n"));
        assert!(k.run("SPOP big 600").starts_with("*500\r\n"));
        assert_eq!(k.run("EXISTS big"), ":0\r\n");
    }

    #[test]
    fn algebra() {
        let mut k = Kit::new();
        k.run("SADD a 1 2 3 4");
        k.run("SADD b 3 4 5 x");
        k.run("SET str v");
        assert_eq!(sorted_members(&k.run("SINTER a b")), vec!["3", "4"]);
        assert_eq!(k.run("SINTER a nope"), "*0\r\n");
        assert!(k.run("SINTER nope str").starts_with("-WRONGTYPE"));
        assert_eq!(sorted_members(&k.run("SUNION a b")).len(), 6);
        assert_eq!(sorted_members(&k.run("SDIFF a b")), vec!["1", "2"]);
        assert_eq!(k.run("SINTERCARD 2 a b"), ":2\r\n");
        assert_eq!(k.run("SINTERCARD 2 a b LIMIT 1"), ":1\r\n");
        assert_eq!(
            k.run("SINTERCARD 3 a b"),
            "-ERR Number of keys can't be greater than number of args\r\n"
        );
        assert_eq!(
            k.run("SINTERCARD 0 a"),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            k.run("SINTERCARD 1 a LIMIT -1"),
            "-ERR LIMIT can't be negative\r\n"
        );
        assert_eq!(k.run("SINTERSTORE str a b"), ":2\r\n");
        assert_eq!(k.run("SUNIONSTORE u a b"), ":6\r\n");
        assert_eq!(k.run("SDIFFSTORE d a b"), ":2\r\n");
        assert_eq!(k.run("SDIFFSTORE d a a"), ":0\r\n");
        assert_eq!(k.run("EXISTS d"), ":0\r\n");
        assert_eq!(
            sorted_members(&k.run("SSCAN u 0 MATCH [0-9]")),
            vec!["0", "1", "2", "3", "4", "5"]
        );
    }
}

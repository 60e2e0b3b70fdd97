//! Hash commands: HSET and friends, counters, HRANDFIELD, HSCAN.

use std::borrow::Cow;

use rand::seq::index::sample;
use rand::Rng;
use smallvec::smallvec;

use super::coll::{
    hash_create, hash_mut, parse_count, parse_f64, parse_i64, parse_scan, read_hash,
    remove_if_empty, write_scan_all, write_scan_page,
};
use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn};
use crate::exec::{ExecCtx, ERR_NOT_INT, ERR_SYNTAX};
use crate::types::limits;

const W: F = F::WRITE.union(F::DENYOOM).union(F::FAST);
const WF: F = F::WRITE.union(F::FAST);
const R: F = F::READONLY;
const RF: F = F::READONLY.union(F::FAST);

pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec("hset", -4, W, 1, 1, 1, "hash", "Creates or modifies the value of a field in a hash.", "2.0.0", hset),
    spec("hmset", -4, W, 1, 1, 1, "hash", "Sets the values of multiple fields.", "2.0.0", hmset),
    spec("hsetnx", 4, W, 1, 1, 1, "hash", "Sets the value of a field in a hash only when the field doesn't exist.", "2.0.0", hsetnx),
    spec("hget", 3, RF, 1, 1, 1, "hash", "Returns the value of a field in a hash.", "2.0.0", hget),
    spec("hmget", -3, RF, 1, 1, 1, "hash", "Returns the values of all fields in a hash.", "2.0.0", hmget),
    spec("hdel", -3, WF, 1, 1, 1, "hash", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.", "2.0.0", hdel),
    spec("hexists", 3, RF, 1, 1, 1, "hash", "Determines whether a field exists in a hash.", "2.0.0", hexists),
    spec("hlen", 2, RF, 1, 1, 1, "hash", "Returns the number of fields in a hash.", "2.0.0", hlen),
    spec("hstrlen", 3, RF, 1, 1, 1, "hash", "Returns the length of the value of a field.", "3.2.0", hstrlen),
    spec("hkeys", 2, R, 1, 1, 1, "hash", "Returns all fields in a hash.", "2.0.0", hkeys),
    spec("hvals", 2, R, 1, 1, 1, "hash", "Returns all values in a hash.", "2.0.0", hvals),
    spec("hgetall", 2, R, 1, 1, 1, "hash", "Returns all fields and values in a hash.", "2.0.0", hgetall),
    spec("hincrby", 4, W, 1, 1, 1, "hash", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.", "2.0.0", hincrby),
    spec("hincrbyfloat", 4, W, 1, 1, 1, "hash", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.", "2.6.0", hincrbyfloat),
    spec("hrandfield", -2, R, 1, 1, 1, "hash", "Returns one or more random fields from a hash.", "6.2.0", hrandfield),
    spec("hscan", -3, R, 1, 1, 1, "hash", "Iterates over fields and values of a hash.", "2.8.0", hscan),
];

/// Sets the pairs of `args[2..]`; returns new-field count or None after an error.
fn set_pairs(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) -> Option<i64> {
    if !args.len().is_multiple_of(2) {
        let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
        ctx.out.error(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
        return None;
    }
    let lim = limits();
    let key = args[1];
    let Ok(h) = hash_create(ctx, key) else {
        ctx.wrong_type();
        return None;
    };
    let added = args[2..]
        .chunks_exact(2)
        .filter(|p| h.insert_with(p[0], p[1], &lim))
        .count();
    ctx.modified(key, (args.len() as u64 - 2) / 2);
    Some(added as i64)
}

fn hset(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some(n) = set_pairs(ctx, args) {
        ctx.out.int(n);
    }
}

fn hmset(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if set_pairs(ctx, args).is_some() {
        ctx.out.ok();
    }
}

fn hsetnx(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    match hash_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(Some(h)) if h.contains(args[2]) => return ctx.out.int(0),
        Ok(_) => {}
    }
    if let Ok(h) = hash_create(ctx, key) {
        h.insert(args[2], args[3]);
    }
    ctx.modified(key, 1);
    ctx.out.int(1);
}

fn hget(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        match h.and_then(|h| h.get(args[2])) {
            Some(v) => out.bulk(v),
            None => out.null(),
        }
    }
}

fn hmget(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        out.array(args.len() - 2);
        for f in &args[2..] {
            match h.and_then(|h| h.get(f)) {
                Some(v) => out.bulk(v),
                None => out.null(),
            }
        }
    }
}

fn hdel(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let n = match hash_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => 0,
        Ok(Some(h)) => args[2..].iter().filter(|f| h.remove(f)).count(),
    };
    if n > 0 {
        ctx.modified(key, n as u64);
        remove_if_empty(ctx, key);
    }
    ctx.out.int(n as i64);
}

fn hexists(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        out.int(h.is_some_and(|h| h.contains(args[2])) as i64);
    }
}

fn hlen(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        out.int(h.map_or(0, |h| h.len()) as i64);
    }
}

fn hstrlen(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        out.int(h.and_then(|h| h.get(args[2])).map_or(0, |v| v.len()) as i64);
    }
}

fn hkeys(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        out.array(h.map_or(0, |h| h.len()));
        for (f, _) in h.into_iter().flat_map(|h| h.iter()) {
            out.bulk(f);
        }
    }
}

fn hvals(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        out.array(h.map_or(0, |h| h.len()));
        for (_, v) in h.into_iter().flat_map(|h| h.iter()) {
            out.bulk(v);
        }
    }
}

fn hgetall(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((h, out)) = read_hash(ctx, args[1]) {
        out.map(h.map_or(0, |h| h.len()));
        for (f, v) in h.into_iter().flat_map(|h| h.iter()) {
            out.bulk(f);
            out.bulk(v);
        }
    }
}

fn hincrby(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let Some(incr) = parse_i64(args[3]) else {
        return ctx.out.error(ERR_NOT_INT);
    };
    let current = match hash_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(h) => h
            .and_then(|h| h.get(args[2]))
            .map(|v| parse_i64(v).ok_or(())),
    };
    let current = match current {
        None => 0,
        Some(Ok(v)) => v,
        Some(Err(())) => return ctx.out.error("ERR hash value is not an integer"),
    };
    let Some(new) = current.checked_add(incr) else {
        return ctx.out.error("ERR increment or decrement would overflow");
    };
    let text = crate::value::itoa_buf::Buf::new().format(new).to_vec();
    if let Ok(h) = hash_create(ctx, key) {
        h.insert(args[2], &text);
    }
    ctx.modified(key, 1);
    ctx.out.int(new);
}

/// `current + incr` printed the way HINCRBYFLOAT prints it: Redis's long
/// double arithmetic and "%.17Lf" (shared with INCRBYFLOAT), with the
/// hash-specific error for a stored value that is not a number.
fn incr_by_float(current: Option<&[u8]>, incr: &[u8]) -> Result<String, &'static str> {
    use crate::util::IncrFloatError;
    if let Some(c) = current {
        if crate::util::incr_by_float(Some(c), b"0") == Err(IncrFloatError::NotAFloat) {
            return Err("ERR hash value is not a float");
        }
    }
    crate::util::incr_by_float(current, incr).map_err(|e| match e {
        IncrFloatError::NotAFloat => crate::exec::ERR_NOT_FLOAT,
        IncrFloatError::NanOrInfinity => "ERR increment would produce NaN or Infinity",
    })
}

fn hincrbyfloat(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    match parse_f64(args[3]) {
        None => return ctx.out.error(crate::exec::ERR_NOT_FLOAT),
        Some(v) if !v.is_finite() => return ctx.out.error("ERR value is NaN or Infinity"),
        Some(_) => {}
    }
    let result = match hash_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(h) => incr_by_float(h.and_then(|h| h.get(args[2])), args[3]),
    };
    let text = match result {
        Ok(t) => t,
        Err(e) => return ctx.out.error(e),
    };
    if let Ok(h) = hash_create(ctx, key) {
        h.insert(args[2], text.as_bytes());
    }
    ctx.modified(key, 1);
    // Replicas and the AOF must not redo the float arithmetic.
    ctx.propagate(&[b"HSET", key, args[2], text.as_bytes()]);
    ctx.out.bulk(text.as_bytes());
}

fn hrandfield(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if args.len() > 4 || (args.len() == 4 && !args[3].eq_ignore_ascii_case(b"withvalues")) {
        return ctx.out.error(ERR_SYNTAX);
    }
    let with_values = args.len() == 4;
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_count(ctx.out, a) {
            None => return,
            Some(c) if with_values && c < -(i64::MAX / 2) => {
                return ctx.out.error("ERR value is out of range")
            }
            Some(c) => Some(c),
        },
    };
    let Some((h, out)) = read_hash(ctx, args[1]) else {
        return;
    };
    // Collections are never stored empty; treat one as missing regardless.
    let h = h.filter(|c| !c.is_empty());
    let Some(count) = count else {
        match h.and_then(|h| h.entry_at(rand::thread_rng().gen_range(0..h.len()))) {
            Some((f, _)) => out.bulk(f),
            None => out.null(),
        }
        return;
    };
    let Some(h) = h else {
        return out.array(0);
    };
    let len = h.len();
    let mut rng = rand::thread_rng();
    let picks: Vec<usize> = if count < 0 {
        (0..count.unsigned_abs())
            .map(|_| rng.gen_range(0..len))
            .collect()
    } else if count as usize >= len {
        (0..len).collect()
    } else {
        sample(&mut rng, len, count as usize).into_vec()
    };
    // Listpack hashes are small: index them once instead of walking per pick.
    let small: Vec<(&[u8], &[u8])> = match h {
        crate::types::HashValue::Listpack(..) => h.iter().collect(),
        crate::types::HashValue::Table(_) => Vec::new(),
    };
    let pair = |i: usize| match small.get(i) {
        Some(p) => *p,
        None => h.entry_at(i).expect("pick below len"),
    };
    if with_values && out.is_resp3() {
        out.array(picks.len());
        for i in picks {
            let (f, v) = pair(i);
            out.array(2);
            out.bulk(f);
            out.bulk(v);
        }
    } else {
        out.array(picks.len() * if with_values { 2 } else { 1 });
        for i in picks {
            let (f, v) = pair(i);
            out.bulk(f);
            if with_values {
                out.bulk(v);
            }
        }
    }
}

fn hscan(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some((cursor, opts)) = parse_scan(ctx.out, &args[2..]) else {
        return;
    };
    let Some((h, out)) = read_hash(ctx, args[1]) else {
        return;
    };
    match h {
        Some(h) if !h.is_compact() => {
            write_scan_page(out, cursor, &opts, h.len(), 2, |i| {
                h.entry_at(i)
                    .map(|(f, v)| smallvec![Cow::Borrowed(f), Cow::Borrowed(v)])
            });
        }
        _ => {
            let items = h
                .into_iter()
                .flat_map(|h| h.iter())
                .map(|(f, v)| smallvec![Cow::Borrowed(f), Cow::Borrowed(v)]);
            write_scan_all(out, opts.pattern, 2, items);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::coll::testkit::{bulks, Kit};

    #[test]
    fn set_get_delete() {
        let mut k = Kit::new();
        assert_eq!(k.run("HSET h a 1 b 2"), ":2\r\n");
        assert_eq!(k.run("HSET h a 3 c 4"), ":1\r\n");
        assert_eq!(
            k.run("HSET h a"),
            "-ERR wrong number of arguments for 'hset' command\r\n"
        );
        assert_eq!(k.run("HGET h a"), "$1\r\n3\r\n");
        assert_eq!(k.run("HGET h zz"), "$-1\r\n");
        assert_eq!(
            k.run("HMGET h a zz c"),
            "*3\r\n$1\r\n3\r\n$-1\r\n$1\r\n4\r\n"
        );
        assert_eq!(k.run("HLEN h"), ":3\r\n");
        assert_eq!(k.run("HSTRLEN h a"), ":1\r\n");
        assert_eq!(k.run("HEXISTS h b"), ":1\r\n");
        assert_eq!(k.run("HSETNX h b 9"), ":0\r\n");
        assert_eq!(k.run("HSETNX h d 9"), ":1\r\n");
        assert_eq!(k.run("HKEYS h"), bulks(&["a", "b", "c", "d"]));
        assert_eq!(k.run("HVALS h"), bulks(&["3", "2", "4", "9"]));
        assert_eq!(
            k.run("HGETALL h"),
            bulks(&["a", "3", "b", "2", "c", "4", "d", "9"])
        );
        assert_eq!(k.run("HDEL h a b c zz"), ":3\r\n");
        assert_eq!(k.run("HDEL h d"), ":1\r\n");
        assert_eq!(k.run("EXISTS h"), ":0\r\n");
        assert_eq!(k.run("HMSET h x 1"), "+OK\r\n");
        k.run("SET s v");
        assert_eq!(
            k.run("HGET s a"),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
        assert_eq!(k.run("HSET s a 1").as_bytes()[..10], b"-WRONGTYPE"[..]);
    }

    #[test]
    fn resp3_map_reply() {
        let mut k = Kit::new();
        k.proto = crate::reply::Protocol::Resp3;
        k.run("HSET h a 1");
        assert_eq!(k.run("HGETALL h"), "%1\r\n$1\r\na\r\n$1\r\n1\r\n");
        assert_eq!(k.run("HGETALL nope"), "%0\r\n");
        assert_eq!(
            k.run("HRANDFIELD h 1 WITHVALUES"),
            "*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
    }

    #[test]
    fn counters() {
        let mut k = Kit::new();
        assert_eq!(k.run("HINCRBY h n 5"), ":5\r\n");
        assert_eq!(k.run("HINCRBY h n -7"), ":-2\r\n");
        assert_eq!(
            k.run("HINCRBY h n x"),
            "-ERR value is not an integer or out of range\r\n"
        );
        k.run("HSET h s abc");
        assert_eq!(
            k.run("HINCRBY h s 1"),
            "-ERR hash value is not an integer\r\n"
        );
        k.run("HSET h big 9223372036854775807");
        assert_eq!(
            k.run("HINCRBY h big 1"),
            "-ERR increment or decrement would overflow\r\n"
        );
        assert_eq!(k.run("HINCRBYFLOAT h f 10.5"), "$4\r\n10.5\r\n");
        assert_eq!(k.run("HINCRBYFLOAT h f 0.1"), "$4\r\n10.6\r\n");
        assert_eq!(k.propagated(), vec!["HSET h f 10.6".to_string()]);
        assert_eq!(
            k.run("HINCRBYFLOAT h s 1"),
            "-ERR hash value is not a float\r\n"
        );
        assert_eq!(
            k.run("HINCRBYFLOAT h f x"),
            "-ERR value is not a valid float\r\n"
        );
        assert_eq!(k.run("HINCRBYFLOAT h n 1e3"), "$3\r\n998\r\n");
        assert_eq!(
            k.run("HINCRBYFLOAT h n inf"),
            "-ERR value is NaN or Infinity\r\n"
        );
        assert_eq!(k.run("HINCRBYFLOAT h n 0x10"), "$4\r\n1014\r\n");
    }

    #[test]
    fn randfield_and_scan() {
        let mut k = Kit::new();
        assert_eq!(k.run("HRANDFIELD nope"), "$-1\r\n");
        assert_eq!(k.run("HRANDFIELD nope 3"), "*0\r\n");
        k.run("HSET h a 1 b 2 c 3");
        assert_eq!(k.run("HRANDFIELD h 0"), "*0\r\n");
        assert!(k.run("HRANDFIELD h 10").starts_with("*3\r\n"));
        assert!(k.run("HRANDFIELD h -10").starts_with("*10\r\n"));
        assert!(k.run("HRANDFIELD h -2 WITHVALUES").starts_with("*4\r\n"));
        assert_eq!(k.run("HRANDFIELD h 1 x"), "-ERR syntax error\r\n");
        let one = k.run("HRANDFIELD h");
        assert!(["$1\r\na\r\n", "$1\r\nb\r\n", "$1\r\nc\r\n"].contains(&one.as_str()));
        assert_eq!(
            k.run("HSCAN h 0 MATCH a*"),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(k.run("HSCAN h x"), "-ERR invalid cursor\r\n");
        assert_eq!(k.run("HSCAN h 0 COUNT 0"), "-ERR syntax error\r\n");
        assert_eq!(k.run("HSCAN nope 0"), "*2\r\n$1\r\n0\r\n*0\r\n");
    }

    #[test]
    fn encoding_switches() {
        let mut k = Kit::new();
        k.run("HSET h a 1");
        let long = "x".repeat(65);
        k.run(&format!("HSET h2 a {long}"));
        let enc = |k: &mut Kit, key: &[u8]| {
            let mut guard = k.ks.lock_key(key);
            guard.db_mut(0).get(key).unwrap().value.encoding()
        };
        assert_eq!(enc(&mut k, b"h"), "listpack");
        assert_eq!(enc(&mut k, b"h2"), "hashtable");
    }
}

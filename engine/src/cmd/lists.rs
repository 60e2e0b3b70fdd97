//! List commands: pushes and pops at both ends, indexed access, LMOVE/LMPOP
//! and the blocking forms (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP).
//!
//! A blocking command that finds nothing to pop writes no reply and sets
//! `ctx.block` (outside MULTI); the server re-runs it when a key it waits on
//! is signalled ready. Blocking pops propagate their non-blocking form.

use super::coll::{
    block_on, list_create, list_mut, parse_i64, parse_mpop_count, parse_mpop_keys, parse_timeout,
    read_list, remove_if_empty, resolve_range,
};
use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn, KeyPositions};
use crate::exec::{ExecCtx, ERR_NOT_INT, ERR_SYNTAX};
use crate::types::limits;
use crate::value::itoa_buf;

const W: F = F::WRITE.union(F::DENYOOM).union(F::FAST);
const WD: F = F::WRITE.union(F::DENYOOM);
const WF: F = F::WRITE.union(F::FAST);
const WR: F = F::WRITE;
const R: F = F::READONLY;
const RF: F = F::READONLY.union(F::FAST);
const B: F = F::WRITE.union(F::BLOCKING);
const BD: F = F::WRITE.union(F::DENYOOM).union(F::BLOCKING);

/// LMPOP numkeys key… : keys follow the count at index 1.
fn lmpop_keys(args: &[&[u8]]) -> KeyPositions {
    numkeys_at(args, 1)
}

/// BLMPOP timeout numkeys key… : keys follow the count at index 2.
fn blmpop_keys(args: &[&[u8]]) -> KeyPositions {
    numkeys_at(args, 2)
}

/// Key positions after a `numkeys` argument at `at`; none if it is invalid
/// (the command then fails before touching any key).
pub(crate) fn numkeys_at(args: &[&[u8]], at: usize) -> KeyPositions {
    match args.get(at).and_then(|a| parse_i64(a)) {
        Some(n) if n > 0 && (n as u64) <= (args.len() - at - 1) as u64 => {
            (at + 1..at + 1 + n as usize).collect()
        }
        _ => KeyPositions::new(),
    }
}

pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec("lpush", -3, W, 1, 1, 1, "list", "Prepends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", lpush),
    spec("rpush", -3, W, 1, 1, 1, "list", "Appends one or more elements to a list. Creates the key if it doesn't exist.", "1.0.0", rpush),
    spec("lpushx", -3, W, 1, 1, 1, "list", "Prepends one or more elements to a list only when the list exists.", "2.2.0", lpushx),
    spec("rpushx", -3, W, 1, 1, 1, "list", "Appends an element to a list only when the list exists.", "2.2.0", rpushx),
    spec("lpop", -2, WF, 1, 1, 1, "list", "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.", "1.0.0", lpop),
    spec("rpop", -2, WF, 1, 1, 1, "list", "Returns and removes the last elements of a list. Deletes the list if the last element was popped.", "1.0.0", rpop),
    spec("llen", 2, RF, 1, 1, 1, "list", "Returns the length of a list.", "1.0.0", llen),
    spec("lrange", 4, R, 1, 1, 1, "list", "Returns a range of elements from a list.", "1.0.0", lrange),
    spec("lindex", 3, R, 1, 1, 1, "list", "Returns an element from a list by its index.", "1.0.0", lindex),
    spec("lset", 4, WD, 1, 1, 1, "list", "Sets the value of an element in a list by its index.", "1.0.0", lset),
    spec("linsert", 5, WD, 1, 1, 1, "list", "Inserts an element before or after another element in a list.", "2.2.0", linsert),
    spec("lrem", 4, WR, 1, 1, 1, "list", "Removes elements from a list. Deletes the list if the last element was removed.", "1.0.0", lrem),
    spec("ltrim", 4, WR, 1, 1, 1, "list", "Removes elements from both ends a list. Deletes the list if all elements were trimmed.", "1.0.0", ltrim),
    spec("lpos", -3, R, 1, 1, 1, "list", "Returns the index of matching elements in a list.", "6.0.6", lpos),
    spec("lmove", 5, WD, 1, 2, 1, "list", "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.", "6.2.0", lmove),
    spec("rpoplpush", 3, WD, 1, 2, 1, "list", "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.", "1.2.0", rpoplpush),
    CommandSpec { movable_keys: Some(lmpop_keys), ..spec("lmpop", -4, WR, 0, 0, 0, "list", "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.", "7.0.0", lmpop) },
    spec("blpop", -3, B, 1, -2, 1, "list", "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", blpop),
    spec("brpop", -3, B, 1, -2, 1, "list", "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "2.0.0", brpop),
    spec("blmove", 6, BD, 1, 2, 1, "list", "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.", "6.2.0", blmove),
    spec("brpoplpush", 4, BD, 1, 2, 1, "list", "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.", "2.2.0", brpoplpush),
    CommandSpec { movable_keys: Some(blmpop_keys), ..spec("blmpop", -5, B, 0, 0, 0, "list", "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.", "7.0.0", blmpop) },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Left,
    Right,
}

impl End {
    fn parse(arg: &[u8]) -> Option<End> {
        if arg.eq_ignore_ascii_case(b"left") {
            Some(End::Left)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Some(End::Right)
        } else {
            None
        }
    }

    fn name(self) -> &'static [u8] {
        match self {
            End::Left => b"LEFT",
            End::Right => b"RIGHT",
        }
    }

    fn pop_command(self) -> &'static [u8] {
        match self {
            End::Left => b"LPOP",
            End::Right => b"RPOP",
        }
    }
}

fn push(ctx: &mut ExecCtx<'_>, args: &[&[u8]], end: End, only_existing: bool) {
    let key = args[1];
    match list_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) if only_existing => return ctx.out.int(0),
        Ok(_) => {}
    }
    let lim = limits();
    let Ok(l) = list_create(ctx, key) else {
        return ctx.wrong_type();
    };
    for e in &args[2..] {
        match end {
            End::Left => l.push_front_with(e, &lim),
            End::Right => l.push_back_with(e, &lim),
        }
    }
    let len = l.len();
    ctx.modified(key, (args.len() - 2) as u64);
    ctx.signal_ready(key);
    ctx.out.int(len as i64);
}

fn lpush(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    push(ctx, args, End::Left, false)
}
fn rpush(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    push(ctx, args, End::Right, false)
}
fn lpushx(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    push(ctx, args, End::Left, true)
}
fn rpushx(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    push(ctx, args, End::Right, true)
}

/// Pops up to `count` elements from `key` (which must hold a non-empty
/// list), deleting the key when it empties.
fn pop_n(ctx: &mut ExecCtx<'_>, key: &[u8], end: End, count: usize) -> Vec<Vec<u8>> {
    let mut popped = Vec::new();
    if let Ok(Some(l)) = list_mut(ctx, key) {
        for _ in 0..count {
            let e = match end {
                End::Left => l.pop_front(),
                End::Right => l.pop_back(),
            };
            match e {
                Some(e) => popped.push(e),
                None => break,
            }
        }
    }
    if !popped.is_empty() {
        ctx.modified(key, popped.len() as u64);
        remove_if_empty(ctx, key);
    }
    popped
}

/// Parses a count that must be ≥ 0 (LPOP/RPOP/SPOP … count).
pub(crate) fn parse_positive(ctx: &mut ExecCtx<'_>, arg: &[u8]) -> Option<usize> {
    match parse_i64(arg) {
        None => {
            ctx.out.error(ERR_NOT_INT);
            None
        }
        Some(n) if n < 0 => {
            ctx.out.error("ERR value is out of range, must be positive");
            None
        }
        Some(n) => Some(n as usize),
    }
}

fn pop(ctx: &mut ExecCtx<'_>, args: &[&[u8]], end: End) {
    if args.len() > 3 {
        let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
        return ctx.out.error(&format!(
            "ERR wrong number of arguments for '{name}' command"
        ));
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_positive(ctx, a) {
            None => return,
            Some(n) => Some(n),
        },
    };
    let key = args[1];
    match list_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => {
            return match count {
                Some(_) => ctx.out.null_array(),
                None => ctx.out.null(),
            }
        }
        Ok(Some(_)) => {}
    }
    match count {
        None => {
            let e = pop_n(ctx, key, end, 1);
            ctx.out.bulk(&e[0]);
        }
        Some(n) => {
            let items = pop_n(ctx, key, end, n);
            ctx.out.array(items.len());
            for e in &items {
                ctx.out.bulk(e);
            }
        }
    }
}

fn lpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    pop(ctx, args, End::Left)
}
fn rpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    pop(ctx, args, End::Right)
}

fn llen(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((l, out)) = read_list(ctx, args[1]) {
        out.int(l.map_or(0, |l| l.len()) as i64);
    }
}

fn lrange(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(start), Some(stop)) = (parse_i64(args[2]), parse_i64(args[3])) else {
        return ctx.out.error(ERR_NOT_INT);
    };
    if let Some((l, out)) = read_list(ctx, args[1]) {
        let Some(l) = l else { return out.array(0) };
        match resolve_range(start, stop, l.len()) {
            None => out.array(0),
            Some((s, e)) => {
                out.array(e - s + 1);
                for item in l.iter_from(s).take(e - s + 1) {
                    out.bulk(item);
                }
            }
        }
    }
}

/// A list index (negative from the end) resolved against `len`.
fn resolve_index(i: i64, len: usize) -> Option<usize> {
    let i = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&i).then_some(i as usize)
}

fn lindex(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(i) = parse_i64(args[2]) else {
        return ctx.out.error(ERR_NOT_INT);
    };
    if let Some((l, out)) = read_list(ctx, args[1]) {
        match l.and_then(|l| l.get(resolve_index(i, l.len())?)) {
            Some(e) => out.bulk(e),
            None => out.null(),
        }
    }
}

fn lset(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(i) = parse_i64(args[2]) else {
        return ctx.out.error(ERR_NOT_INT);
    };
    let key = args[1];
    match list_mut(ctx, key) {
        Err(_) => ctx.wrong_type(),
        Ok(None) => ctx.out.error("ERR no such key"),
        Ok(Some(l)) => match resolve_index(i, l.len()) {
            Some(i) => {
                l.set(i, args[3]);
                ctx.modified(key, 1);
                ctx.out.ok();
            }
            None => ctx.out.error("ERR index out of range"),
        },
    }
}

fn linsert(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let after = if args[2].eq_ignore_ascii_case(b"after") {
        true
    } else if args[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return ctx.out.error(ERR_SYNTAX);
    };
    let key = args[1];
    let lim = limits();
    let len = match list_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => return ctx.out.int(0),
        Ok(Some(l)) => {
            let pivot = l.iter().position(|e| e == args[3]);
            match pivot {
                None => None,
                Some(p) => {
                    l.insert_with(p + after as usize, args[4], &lim);
                    Some(l.len())
                }
            }
        }
    };
    let Some(len) = len else {
        return ctx.out.int(-1);
    };
    ctx.modified(key, 1);
    ctx.out.int(len as i64);
}

fn lrem(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(count) = parse_i64(args[2]) else {
        return ctx.out.error(ERR_NOT_INT);
    };
    let key = args[1];
    let target = args[3];
    let removed = match list_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => 0,
        Ok(Some(l)) => {
            let limit = count.unsigned_abs() as usize;
            if count >= 0 {
                let mut seen = 0;
                l.retain(|_, e| {
                    if e == target && (count == 0 || seen < limit) {
                        seen += 1;
                        false
                    } else {
                        true
                    }
                })
            } else {
                // From the tail: keep the first (matches - limit) matches.
                let matches = l.iter().filter(|e| *e == target).count();
                let keep = matches.saturating_sub(limit);
                let mut seen = 0;
                l.retain(|_, e| {
                    if e == target {
                        seen += 1;
                        seen <= keep
                    } else {
                        true
                    }
                })
            }
        }
    };
    if removed > 0 {
        ctx.modified(key, removed as u64);
        remove_if_empty(ctx, key);
    }
    ctx.out.int(removed as i64);
}

fn ltrim(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(start), Some(stop)) = (parse_i64(args[2]), parse_i64(args[3])) else {
        return ctx.out.error(ERR_NOT_INT);
    };
    let key = args[1];
    let changed = match list_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => false,
        Ok(Some(l)) => {
            let before = l.len();
            match resolve_range(start, stop, before) {
                None => l.trim(0, 0),
                Some((s, e)) => l.trim(s, e + 1),
            }
            l.len() != before
        }
    };
    if changed {
        ctx.modified(key, 1);
        remove_if_empty(ctx, key);
    }
    ctx.out.ok();
}

fn lpos(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let mut rank: i64 = 1;
    let mut count: Option<usize> = None;
    let mut maxlen: usize = 0;
    let mut i = 3;
    while i < args.len() {
        let Some(val) = args.get(i + 1) else {
            return ctx.out.error(ERR_SYNTAX);
        };
        let opt = args[i];
        let Some(n) = parse_i64(val) else {
            return ctx.out.error(ERR_NOT_INT);
        };
        if opt.eq_ignore_ascii_case(b"rank") {
            if n == 0 {
                return ctx.out.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
            }
            rank = n.max(-i64::MAX);
        } else if opt.eq_ignore_ascii_case(b"count") {
            if n < 0 {
                return ctx.out.error("ERR COUNT can't be negative");
            }
            count = Some(n as usize);
        } else if opt.eq_ignore_ascii_case(b"maxlen") {
            if n < 0 {
                return ctx.out.error("ERR MAXLEN can't be negative");
            }
            maxlen = n as usize;
        } else {
            return ctx.out.error(ERR_SYNTAX);
        }
        i += 2;
    }
    let target = args[2];
    let Some((l, out)) = read_list(ctx, args[1]) else {
        return;
    };
    let Some(l) = l else {
        return match count {
            Some(_) => out.array(0),
            None => out.null(),
        };
    };
    let len = l.len();
    let scan_len = if maxlen == 0 { len } else { maxlen.min(len) };
    let want = match count {
        None => 1,
        Some(0) => usize::MAX,
        Some(c) => c,
    };
    let mut skip = rank.unsigned_abs() as usize - 1;
    let mut found = Vec::new();
    let mut consider = |idx: usize, e: &[u8]| {
        if e == target {
            if skip > 0 {
                skip -= 1;
            } else {
                found.push(idx);
            }
        }
        found.len() < want
    };
    if rank > 0 {
        for (idx, e) in l.iter().take(scan_len).enumerate() {
            if !consider(idx, e) {
                break;
            }
        }
    } else {
        for (n, e) in l.iter_rev().take(scan_len).enumerate() {
            if !consider(len - 1 - n, e) {
                break;
            }
        }
    }
    match count {
        None => match found.first() {
            Some(&p) => out.int(p as i64),
            None => out.null(),
        },
        Some(_) => {
            out.array(found.len());
            for p in found {
                out.int(p as i64);
            }
        }
    }
}

/// LMOVE's core once `src` is known to hold a non-empty list: moves one
/// element and replies with it. Returns false after replying WRONGTYPE for `dst`.
fn move_one(ctx: &mut ExecCtx<'_>, src: &[u8], dst: &[u8], from: End, to: End) -> bool {
    if list_mut(ctx, dst).is_err() {
        ctx.wrong_type();
        return false;
    }
    let lim = limits();
    let Some(elem) = (match list_mut(ctx, src) {
        Ok(Some(l)) => match from {
            End::Left => l.pop_front(),
            End::Right => l.pop_back(),
        },
        _ => None,
    }) else {
        return false;
    };
    ctx.modified(src, 1);
    if let Ok(d) = list_create(ctx, dst) {
        match to {
            End::Left => d.push_front_with(&elem, &lim),
            End::Right => d.push_back_with(&elem, &lim),
        }
    }
    ctx.modified(dst, 1);
    ctx.signal_ready(dst);
    remove_if_empty(ctx, src);
    ctx.out.bulk(&elem);
    true
}

/// Looks `key` up for a pop: Some(true) if it holds a non-empty list,
/// Some(false) if missing, None after replying WRONGTYPE.
fn has_elements(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Option<bool> {
    let rerun = ctx.unblocked_rerun;
    match list_mut(ctx, key) {
        Err(_) if rerun => Some(false),
        Err(_) => {
            ctx.wrong_type();
            None
        }
        Ok(l) => Some(l.is_some_and(|l| !l.is_empty())),
    }
}

fn lmove_generic(ctx: &mut ExecCtx<'_>, src: &[u8], dst: &[u8], from: End, to: End) {
    match has_elements(ctx, src) {
        None => {}
        Some(false) => ctx.out.null(),
        Some(true) => {
            move_one(ctx, src, dst, from, to);
        }
    }
}

fn lmove(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(from), Some(to)) = (End::parse(args[3]), End::parse(args[4])) else {
        return ctx.out.error(ERR_SYNTAX);
    };
    lmove_generic(ctx, args[1], args[2], from, to);
}

fn rpoplpush(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    lmove_generic(ctx, args[1], args[2], End::Right, End::Left);
}

/// Parses `numkeys key… LEFT|RIGHT [COUNT n]` starting at `args[at]`.
fn parse_mpop<'a>(
    ctx: &mut ExecCtx<'_>,
    args: &[&'a [u8]],
    at: usize,
) -> Option<(Vec<&'a [u8]>, End, usize)> {
    let (keys, i) = parse_mpop_keys(ctx, args, at)?;
    let Some(end) = End::parse(args[i]) else {
        ctx.out.error(ERR_SYNTAX);
        return None;
    };
    let count = parse_mpop_count(ctx, args, i + 1)?;
    Some((keys, end, count))
}

/// LMPOP's core: pops from the first non-empty list. Returns Some(true)
/// when it replied with elements, Some(false) when all were empty, None
/// after WRONGTYPE.
fn mpop_first(ctx: &mut ExecCtx<'_>, keys: &[&[u8]], end: End, count: usize) -> Option<bool> {
    for key in keys {
        if has_elements(ctx, key)? {
            let items = pop_n(ctx, key, end, count);
            let n = itoa_buf::Buf::new().format(items.len() as i64).to_vec();
            ctx.propagate(&[end.pop_command(), key, &n]);
            ctx.out.array(2);
            ctx.out.bulk(key);
            ctx.out.array(items.len());
            for e in &items {
                ctx.out.bulk(e);
            }
            return Some(true);
        }
    }
    Some(false)
}

fn lmpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some((keys, end, count)) = parse_mpop(ctx, args, 1) else {
        return;
    };
    if mpop_first(ctx, &keys, end, count) == Some(false) {
        ctx.out.null_array();
    }
}

fn bpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]], end: End) {
    let deadline = match parse_timeout(args[args.len() - 1], ctx.now_ms) {
        Ok(d) => d,
        Err(e) => return ctx.out.error(e),
    };
    let keys = &args[1..args.len() - 1];
    for key in keys {
        match has_elements(ctx, key) {
            None => return,
            Some(false) => {}
            Some(true) => {
                let e = pop_n(ctx, key, end, 1);
                ctx.propagate(&[end.pop_command(), key]);
                ctx.out.array(2);
                ctx.out.bulk(key);
                ctx.out.bulk(&e[0]);
                return;
            }
        }
    }
    if ctx.in_multi {
        ctx.out.null_array();
    } else {
        block_on(ctx, keys, deadline);
    }
}

fn blpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    bpop(ctx, args, End::Left)
}
fn brpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    bpop(ctx, args, End::Right)
}

fn blmove_generic(
    ctx: &mut ExecCtx<'_>,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
    timeout: &[u8],
    propagate_as_rpoplpush: bool,
) {
    let deadline = match parse_timeout(timeout, ctx.now_ms) {
        Ok(d) => d,
        Err(e) => return ctx.out.error(e),
    };
    match has_elements(ctx, src) {
        None => {}
        Some(true) if move_one(ctx, src, dst, from, to) => {
            if propagate_as_rpoplpush {
                ctx.propagate(&[b"RPOPLPUSH", src, dst]);
            } else {
                ctx.propagate(&[b"LMOVE", src, dst, from.name(), to.name()]);
            }
        }
        Some(true) => {}
        Some(false) if ctx.in_multi => ctx.out.null(),
        Some(false) => block_on(ctx, &[src], deadline),
    }
}

fn blmove(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(from), Some(to)) = (End::parse(args[3]), End::parse(args[4])) else {
        return ctx.out.error(ERR_SYNTAX);
    };
    blmove_generic(ctx, args[1], args[2], from, to, args[5], false);
}

fn brpoplpush(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    blmove_generic(ctx, args[1], args[2], End::Right, End::Left, args[3], true);
}

fn blmpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let deadline = match parse_timeout(args[1], ctx.now_ms) {
        Ok(d) => d,
        Err(e) => return ctx.out.error(e),
    };
    let Some((keys, end, count)) = parse_mpop(ctx, args, 2) else {
        return;
    };
    match mpop_first(ctx, &keys, end, count) {
        Some(false) if ctx.in_multi => ctx.out.null_array(),
        Some(false) => block_on(ctx, &keys, deadline),
        _ => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::coll::testkit::{bulks, Kit};

    #[test]
    fn push_pop_range() {
        let mut k = Kit::new();
        assert_eq!(k.run("RPUSH l a b c"), ":3\r\n");
        assert_eq!(k.ready, vec![b"l".to_vec()]);
        assert_eq!(k.run("LPUSH l z y"), ":5\r\n");
        assert_eq!(k.run("LRANGE l 0 -1"), bulks(&["y", "z", "a", "b", "c"]));
        assert_eq!(k.run("LRANGE l -2 100"), bulks(&["b", "c"]));
        assert_eq!(k.run("LRANGE l 3 1"), "*0\r\n");
        assert_eq!(k.run("LPUSHX nope a"), ":0\r\n");
        assert_eq!(k.run("RPUSHX l d"), ":6\r\n");
        assert_eq!(k.run("LLEN l"), ":6\r\n");
        assert_eq!(k.run("LPOP l"), "$1\r\ny\r\n");
        assert_eq!(k.run("RPOP l 2"), bulks(&["d", "c"]));
        assert_eq!(k.run("LPOP l 0"), "*0\r\n");
        assert_eq!(
            k.run("LPOP l -1"),
            "-ERR value is out of range, must be positive\r\n"
        );
        assert_eq!(k.run("LPOP nope 2"), "*-1\r\n");
        assert_eq!(k.run("LPOP nope"), "$-1\r\n");
        assert_eq!(
            k.run("LPOP l 1 2"),
            "-ERR wrong number of arguments for 'lpop' command\r\n"
        );
        assert_eq!(k.run("RPOP l 10"), bulks(&["b", "a", "z"]));
        assert_eq!(k.run("EXISTS l"), ":0\r\n");
    }

    #[test]
    fn index_set_insert_rem_trim() {
        let mut k = Kit::new();
        k.run("RPUSH l a b a c a");
        assert_eq!(k.run("LINDEX l -1"), "$1\r\na\r\n");
        assert_eq!(k.run("LINDEX l 9"), "$-1\r\n");
        assert_eq!(k.run("LSET l 1 B"), "+OK\r\n");
        assert_eq!(k.run("LSET l 9 B"), "-ERR index out of range\r\n");
        assert_eq!(k.run("LSET nope 0 B"), "-ERR no such key\r\n");
        assert_eq!(k.run("LINSERT l BEFORE c X"), ":6\r\n");
        assert_eq!(k.run("LINSERT l AFTER nope X"), ":-1\r\n");
        assert_eq!(k.run("LINSERT l MIDDLE c X"), "-ERR syntax error\r\n");
        assert_eq!(
            k.run("LRANGE l 0 -1"),
            bulks(&["a", "B", "a", "X", "c", "a"])
        );
        assert_eq!(k.run("LREM l -2 a"), ":2\r\n");
        assert_eq!(k.run("LRANGE l 0 -1"), bulks(&["a", "B", "X", "c"]));
        assert_eq!(k.run("LTRIM l 1 -2"), "+OK\r\n");
        assert_eq!(k.run("LRANGE l 0 -1"), bulks(&["B", "X"]));
        assert_eq!(k.run("LTRIM l 5 10"), "+OK\r\n");
        assert_eq!(k.run("EXISTS l"), ":0\r\n");
    }

    #[test]
    fn lpos_options() {
        let mut k = Kit::new();
        k.run("RPUSH l a b c 1 2 3 c c");
        assert_eq!(k.run("LPOS l c"), ":2\r\n");
        assert_eq!(k.run("LPOS l c RANK 2"), ":6\r\n");
        assert_eq!(k.run("LPOS l c RANK -1"), ":7\r\n");
        assert_eq!(k.run("LPOS l c COUNT 0"), "*3\r\n:2\r\n:6\r\n:7\r\n");
        assert_eq!(k.run("LPOS l c COUNT 2 RANK -1"), "*2\r\n:7\r\n:6\r\n");
        assert_eq!(k.run("LPOS l c COUNT 0 MAXLEN 3"), "*1\r\n:2\r\n");
        assert_eq!(k.run("LPOS l z"), "$-1\r\n");
        assert_eq!(k.run("LPOS l z COUNT 0"), "*0\r\n");
        assert!(k
            .run("LPOS l c RANK 0")
            .starts_with("-ERR RANK can't be zero"));
        assert_eq!(
            k.run("LPOS l c COUNT -1"),
            "-ERR COUNT can't be negative\r\n"
        );
    }

    #[test]
    fn move_and_mpop() {
        let mut k = Kit::new();
        k.run("RPUSH src a b c");
        assert_eq!(k.run("LMOVE src dst LEFT RIGHT"), "$1\r\na\r\n");
        assert_eq!(k.ready, vec![b"dst".to_vec()]);
        assert_eq!(k.run("RPOPLPUSH src dst"), "$1\r\nc\r\n");
        assert_eq!(k.run("LRANGE dst 0 -1"), bulks(&["c", "a"]));
        assert_eq!(k.run("LMOVE src src LEFT RIGHT"), "$1\r\nb\r\n");
        assert_eq!(k.run("LMOVE nope dst LEFT RIGHT"), "$-1\r\n");
        assert_eq!(k.run("LMOVE src dst UP RIGHT"), "-ERR syntax error\r\n");
        assert_eq!(
            k.run("LMPOP 2 nope dst RIGHT COUNT 5"),
            "*2\r\n$3\r\ndst\r\n*2\r\n$1\r\na\r\n$1\r\nc\r\n"
        );
        assert_eq!(k.propagated(), vec!["RPOP dst 2".to_string()]);
        assert_eq!(k.run("LMPOP 1 nope LEFT"), "*-1\r\n");
        assert_eq!(
            k.run("LMPOP 0 nope LEFT"),
            "-ERR numkeys should be greater than 0\r\n"
        );
        assert_eq!(
            k.run("LMPOP 1 src LEFT COUNT 0"),
            "-ERR count should be greater than 0\r\n"
        );
        assert_eq!(k.run("LMPOP 5 src LEFT"), "-ERR syntax error\r\n");
        k.run("SET str x");
        assert!(k.run("LMPOP 1 str LEFT").starts_with("-WRONGTYPE"));
    }

    #[test]
    fn blocking_forms() {
        let mut k = Kit::new();
        assert_eq!(k.run("BLPOP a b 0"), "");
        let req = k.block.take().unwrap();
        assert_eq!(req.deadline_ms, 0);
        assert_eq!(
            req.keys.iter().map(|k| k.to_vec()).collect::<Vec<_>>(),
            vec![b"a".to_vec(), b"b".to_vec()]
        );
        assert_eq!(k.run("BLPOP a 1.5"), "");
        assert!(k.block.take().unwrap().deadline_ms > 1000);
        assert_eq!(k.run("BLPOP a -1"), "-ERR timeout is negative\r\n");
        assert_eq!(
            k.run("BLPOP a x"),
            "-ERR timeout is not a float or out of range\r\n"
        );
        k.run("RPUSH b 1 2");
        assert_eq!(k.run("BRPOP a b 0"), bulks(&["b", "2"]));
        assert_eq!(k.propagated(), vec!["RPOP b".to_string()]);
        assert_eq!(k.run("BLMOVE b c LEFT LEFT 0"), "$1\r\n1\r\n");
        assert_eq!(k.propagated(), vec!["LMOVE b c LEFT LEFT".to_string()]);
        assert_eq!(k.run("BRPOPLPUSH c d 0"), "$1\r\n1\r\n");
        assert_eq!(k.propagated(), vec!["RPOPLPUSH c d".to_string()]);
        assert_eq!(k.run("BLMOVE b c LEFT LEFT 0"), "");
        assert_eq!(k.block.take().unwrap().keys.len(), 1);
        assert_eq!(
            k.run("BLMPOP 0 2 x d LEFT COUNT 3"),
            "*2\r\n$1\r\nd\r\n*1\r\n$1\r\n1\r\n"
        );
        assert_eq!(k.propagated(), vec!["LPOP d 1".to_string()]);
        assert_eq!(k.run("BLMPOP 0 2 x d LEFT"), "");
        assert!(k.block.take().is_some());
        k.run("SET s x");
        assert!(k.run("BLPOP s 0").starts_with("-WRONGTYPE"));
        k.unblocked_rerun = true;
        assert_eq!(k.run("BLPOP s 0"), "");
        assert!(k.block.take().is_some());
        k.unblocked_rerun = false;
        k.in_multi = true;
        assert_eq!(k.run("BLPOP a 0"), "*-1\r\n");
        assert_eq!(k.run("BLMOVE a b LEFT LEFT 0"), "$-1\r\n");
        assert_eq!(k.run("BLMPOP 0 1 a LEFT"), "*-1\r\n");
        assert!(k.block.is_none());
    }
}

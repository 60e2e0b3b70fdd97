//! Generic key commands: DEL, EXISTS, TYPE, the EXPIRE family, KEYS, SCAN,
//! RENAME, COPY, MOVE, SWAPDB, FLUSHDB/FLUSHALL, OBJECT …
//!
//! Semantics follow Redis 7.0's `db.c`, `expire.c` and `object.c`.
//! Keyspace-wide commands carry [`F::GLOBAL`]: they get no slot locks from
//! the executor and visit slots themselves (one at a time for KEYS, SCAN,
//! DBSIZE; all at once for the flushes and SWAPDB, which must be atomic).

use smallvec::SmallVec;

use crate::cmd::parse_i64;
use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn, KeyPositions};
use crate::exec::{ExecCtx, ERR_NOT_INT, ERR_SYNTAX};
use crate::glob::glob_match;
use crate::keyspace::{DbSlot, Entry, SlotData, NO_EXPIRY};
use crate::slot::{SlotId, SLOT_COUNT};
use crate::stats::ThreadStats;
use crate::value::{is_raw_marked, itoa_buf, mark_raw, ByteStr, Value, ValueType};

const ROF: F = F::READONLY.union(F::FAST);
const WF: F = F::WRITE.union(F::FAST);
const RO_GLOBAL: F = F::READONLY.union(F::GLOBAL);

const ERR_NO_SUCH_KEY: &str = "ERR no such key";
const ERR_SAME_OBJECT: &str = "ERR source and destination objects are the same";
const ERR_DB_RANGE: &str = "ERR DB index is out of range";

#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec("del", -2, F::WRITE, 1, -1, 1, "generic", "Deletes one or more keys.", "1.0.0", del),
    spec("unlink", -2, WF, 1, -1, 1, "generic", "Asynchronously deletes one or more keys.", "4.0.0", del),
    spec("exists", -2, ROF, 1, -1, 1, "generic", "Determines whether one or more keys exist.", "1.0.0", exists),
    spec("type", 2, ROF, 1, 1, 1, "generic", "Determines the type of value stored at a key.", "1.0.0", type_),
    spec("touch", -2, ROF, 1, -1, 1, "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed.", "3.2.1", exists),
    spec("expire", -3, WF, 1, 1, 1, "generic", "Sets the expiration time of a key in seconds.", "1.0.0", expire),
    spec("pexpire", -3, WF, 1, 1, 1, "generic", "Sets the expiration time of a key in milliseconds.", "2.6.0", pexpire),
    spec("expireat", -3, WF, 1, 1, 1, "generic", "Sets the expiration time of a key to a Unix timestamp.", "1.2.0", expireat),
    spec("pexpireat", -3, WF, 1, 1, 1, "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp.", "2.6.0", pexpireat),
    spec("ttl", 2, ROF, 1, 1, 1, "generic", "Returns the expiration time in seconds of a key.", "1.0.0", ttl),
    spec("pttl", 2, ROF, 1, 1, 1, "generic", "Returns the expiration time in milliseconds of a key.", "2.6.0", pttl),
    spec("expiretime", 2, ROF, 1, 1, 1, "generic", "Returns the expiration time of a key as a Unix timestamp.", "7.0.0", expiretime),
    spec("pexpiretime", 2, ROF, 1, 1, 1, "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp.", "7.0.0", pexpiretime),
    spec("persist", 2, WF, 1, 1, 1, "generic", "Removes the expiration time of a key.", "2.2.0", persist),
    spec("keys", 2, RO_GLOBAL, 0, 0, 0, "generic", "Returns all key names that match a pattern.", "1.0.0", keys),
    spec("scan", -2, RO_GLOBAL, 0, 0, 0, "generic", "Iterates over the key names in the database.", "2.8.0", scan),
    spec("randomkey", 1, RO_GLOBAL, 0, 0, 0, "generic", "Returns a random key name from the database.", "1.0.0", randomkey),
    spec("rename", 3, F::WRITE, 1, 2, 1, "generic", "Renames a key and overwrites the destination.", "1.0.0", rename),
    spec("renamenx", 3, WF, 1, 2, 1, "generic", "Renames a key only when the target key name doesn't exist.", "1.0.0", renamenx),
    spec("copy", -3, F::WRITE.union(F::DENYOOM), 1, 2, 1, "generic", "Copies the value of a key to a new key.", "6.2.0", copy),
    spec("move", 3, WF, 1, 1, 1, "generic", "Moves a key to another database.", "1.0.0", move_),
    spec("swapdb", 3, WF.union(F::GLOBAL), 0, 0, 0, "server", "Swaps two Redis databases.", "4.0.0", swapdb),
    spec("dbsize", 1, ROF.union(F::GLOBAL), 0, 0, 0, "server", "Returns the number of keys in the database.", "1.0.0", dbsize),
    spec("flushdb", -1, F::WRITE.union(F::GLOBAL), 0, 0, 0, "server", "Remove all keys from the current database.", "1.0.0", flushdb),
    spec("flushall", -1, F::WRITE.union(F::GLOBAL), 0, 0, 0, "server", "Removes all keys from all databases.", "1.0.0", flushall),
    CommandSpec {
        movable_keys: Some(object_keys),
        ..spec("object", -2, F::NONE, 0, 0, 0, "generic", "A container for object introspection commands.", "2.2.3", object)
    },
];

fn del(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let mut n = 0;
    for key in &args[1..] {
        if ctx.remove(key).is_some() {
            n += 1;
        }
    }
    ctx.out.int(n);
}

/// EXISTS and TOUCH: how many of the named keys exist (repeats count again).
/// Both count keyspace hits and misses, as Redis's read lookups do.
fn exists(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let n = args[1..].iter().filter(|k| ctx.get(k).is_some()).count();
    ctx.out.int(n as i64);
}

fn type_(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let name = ctx
        .get(args[1])
        .map_or("none", |e| e.value.value_type().name());
    ctx.out.simple(name);
}

// ---- expiry -----------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum TimeBase {
    /// EXPIRE / PEXPIRE: relative to now.
    Now,
    /// EXPIREAT / PEXPIREAT: absolute.
    Epoch,
}

#[derive(Default)]
struct ExpireFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
}

/// Redis's `parseExtendedExpireArgumentsOrReply`.
fn parse_expire_flags(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) -> Option<ExpireFlags> {
    let mut f = ExpireFlags::default();
    for opt in &args[3..] {
        match opt.to_ascii_lowercase().as_slice() {
            b"nx" => f.nx = true,
            b"xx" => f.xx = true,
            b"gt" => f.gt = true,
            b"lt" => f.lt = true,
            _ => {
                ctx.out.error(&format!(
                    "ERR Unsupported option {}",
                    String::from_utf8_lossy(opt)
                ));
                return None;
            }
        }
    }
    if f.nx && (f.xx || f.gt || f.lt) {
        ctx.out
            .error("ERR NX and XX, GT or LT options at the same time are not compatible");
        return None;
    }
    if f.gt && f.lt {
        ctx.out
            .error("ERR GT and LT options at the same time are not compatible");
        return None;
    }
    Some(f)
}

/// Redis's `expireGenericCommand`.
fn expire_generic(
    ctx: &mut ExecCtx<'_>,
    args: &[&[u8]],
    base: TimeBase,
    seconds: bool,
    name: &str,
) {
    let key = args[1];
    let Some(flags) = parse_expire_flags(ctx, args) else {
        return;
    };
    let Some(mut when) = parse_i64(args[2]) else {
        ctx.out.error(ERR_NOT_INT);
        return;
    };
    let invalid = |ctx: &mut ExecCtx<'_>| {
        ctx.out
            .error(&format!("ERR invalid expire time in '{name}' command"));
    };
    if seconds {
        match when.checked_mul(1000) {
            Some(ms) => when = ms,
            None => return invalid(ctx),
        }
    }
    if base == TimeBase::Now {
        match when.checked_add(ctx.now_ms as i64) {
            Some(ms) => when = ms,
            None => return invalid(ctx),
        }
    }
    let Some(current) = ctx.peek(key).map(|e| e.expire_at_ms) else {
        ctx.out.int(0);
        return;
    };
    // No expiry counts as an infinite TTL.
    let current = (current != NO_EXPIRY).then_some(current as i64);
    let refused = (flags.nx && current.is_some())
        || (flags.xx && current.is_none())
        || (flags.gt && current.is_none_or(|c| when <= c))
        || (flags.lt && current.is_some_and(|c| when >= c));
    if refused {
        ctx.out.int(0);
        return;
    }
    if when <= ctx.now_ms as i64 {
        ctx.remove(key);
        ctx.propagate(&[b"DEL", key]);
    } else {
        ctx.set_expire(key, when as u64);
        if name != "pexpireat" {
            let mut b = itoa_buf::Buf::new();
            ctx.propagate(&[b"PEXPIREAT", key, b.format(when)]);
        }
    }
    ctx.out.int(1);
}

fn expire(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeBase::Now, true, "expire");
}

fn pexpire(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeBase::Now, false, "pexpire");
}

fn expireat(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeBase::Epoch, true, "expireat");
}

fn pexpireat(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    expire_generic(ctx, args, TimeBase::Epoch, false, "pexpireat");
}

/// TTL-style replies: -2 missing, -1 no expiry, else `f(expire_at_ms)`.
fn ttl_generic(ctx: &mut ExecCtx<'_>, key: &[u8], f: impl FnOnce(u64, u64) -> i64) {
    let now = ctx.now_ms;
    let reply = match ctx.get(key) {
        None => -2,
        Some(e) if !e.has_expiry() => -1,
        Some(e) => f(e.expire_at_ms, now),
    };
    ctx.out.int(reply);
}

fn ttl(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, now| {
        ((at.saturating_sub(now) + 500) / 1000) as i64
    });
}

fn pttl(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, now| at.saturating_sub(now) as i64);
}

fn expiretime(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, _| (at / 1000) as i64);
}

fn pexpiretime(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    ttl_generic(ctx, args[1], |at, _| at as i64);
}

fn persist(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let had = ctx.peek(args[1]).is_some_and(Entry::has_expiry);
    if had {
        ctx.set_expire(args[1], NO_EXPIRY);
    }
    ctx.out.int(had as i64);
}

// ---- keyspace iteration -------------------------------------------------------

/// True if `key` passes a MATCH pattern (`*` matches everything, even "").
fn pattern_matches(pattern: &[u8], key: &[u8]) -> bool {
    pattern == b"*" || glob_match(pattern, key, false)
}

fn keys(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (db, now, pattern) = (ctx.db, ctx.now_ms, args[1]);
    let mut found: Vec<ByteStr> = Vec::new();
    ctx.for_each_slot(|slot| {
        let Some(d) = slot.db(db) else { return };
        // Expired keys are skipped, not deleted (Redis's keyIsExpired).
        found.extend(
            d.iter()
                .filter(|(k, e)| !e.is_expired(now) && pattern_matches(pattern, k))
                .map(|(k, _)| ByteStr::from_slice(k)),
        );
    });
    ctx.out.array(found.len());
    for k in &found {
        ctx.out.bulk(k);
    }
}

/// Parses a SCAN cursor like Redis's `strtoul`: a leading `-` wraps around.
fn parse_cursor(arg: &[u8]) -> Option<u64> {
    let (neg, digits) = match arg.first() {
        Some(b'-') => (true, &arg[1..]),
        Some(b'+') => (false, &arg[1..]),
        _ => (false, arg),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let v: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// SCAN's cursor is the index of the next slot to visit (0 also means
/// "done" when returned). Each call visits whole slots, each under its lock,
/// until COUNT keys were seen, so a key present for the whole iteration is
/// returned exactly once and nothing is returned twice.
fn scan(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(cursor) = parse_cursor(args[1]) else {
        ctx.out.error("ERR invalid cursor");
        return;
    };
    let mut count: i64 = 10;
    let mut pattern: Option<&[u8]> = None;
    let mut type_filter: Option<&[u8]> = None;
    let mut j = 2;
    while j < args.len() {
        let opt = args[j];
        let Some(&val) = args.get(j + 1) else {
            ctx.out.error(ERR_SYNTAX);
            return;
        };
        if opt.eq_ignore_ascii_case(b"count") {
            match parse_i64(val) {
                None => return ctx.out.error(ERR_NOT_INT),
                Some(c) if c < 1 => return ctx.out.error(ERR_SYNTAX),
                Some(c) => count = c,
            }
        } else if opt.eq_ignore_ascii_case(b"match") {
            pattern = Some(val);
        } else if opt.eq_ignore_ascii_case(b"type") {
            type_filter = Some(val);
        } else {
            ctx.out.error(ERR_SYNTAX);
            return;
        }
        j += 2;
    }
    let (db, now) = (ctx.db, ctx.now_ms);
    let mut keys: Vec<(ByteStr, ValueType)> = Vec::new();
    let mut expired: Vec<ByteStr> = Vec::new();
    let mut next = cursor.min(SLOT_COUNT as u64) as usize;
    while next < SLOT_COUNT && (keys.len() as i64) < count {
        let slot_id = SlotId(next as u16);
        ctx.with_slot(slot_id, |slot| {
            let before = expired.len();
            scan_slot(slot, db, now, &mut keys, &mut expired);
            for k in &expired[before..] {
                slot.remove(db, k);
                slot.touch_watched(db, k);
            }
        });
        next += 1;
    }
    for k in &expired {
        ThreadStats::bump(&ctx.stats.expired_keys, 1);
        ctx.prop.push(db, &[b"DEL", k]);
    }
    let wanted_type = type_filter.map(ValueType::from_name);
    // Filter after collecting, as Redis does: COUNT bounds the work, not the reply.
    let mut reply: SmallVec<[&ByteStr; 16]> = SmallVec::new();
    let mut b = itoa_buf::Buf::new();
    let next_cursor = if next >= SLOT_COUNT { 0 } else { next as i64 };
    for (k, t) in &keys {
        if pattern.is_some_and(|p| !pattern_matches(p, k)) {
            continue;
        }
        // An unknown TYPE name matches nothing, as in Redis 7.0.
        if wanted_type.is_some_and(|w| w != Some(*t)) {
            continue;
        }
        reply.push(k);
    }
    ctx.out.array(2);
    ctx.out.bulk(b.format(next_cursor));
    ctx.out.array(reply.len());
    for k in reply {
        ctx.out.bulk(k);
    }
}

/// Collects the live keys (with their types) and the expired keys of one slot.
fn scan_slot(
    slot: &SlotData,
    db: usize,
    now: u64,
    keys: &mut Vec<(ByteStr, ValueType)>,
    expired: &mut Vec<ByteStr>,
) {
    let Some(d) = slot.db(db) else { return };
    for (k, e) in d.iter() {
        if e.is_expired(now) {
            expired.push(ByteStr::from_slice(k));
        } else {
            keys.push((ByteStr::from_slice(k), e.value.value_type()));
        }
    }
}

fn randomkey(ctx: &mut ExecCtx<'_>, _args: &[&[u8]]) {
    use rand::Rng;
    let (db, now) = (ctx.db, ctx.now_ms);
    let mut rng = rand::thread_rng();
    let start = rng.gen_range(0..SLOT_COUNT);
    let mut picked: Option<ByteStr> = None;
    for i in 0..SLOT_COUNT {
        let slot_id = SlotId(((start + i) % SLOT_COUNT) as u16);
        picked = ctx.with_slot(slot_id, |slot| {
            let d = slot.db(db)?;
            let live = d.iter().filter(|(_, e)| !e.is_expired(now)).count();
            if live == 0 {
                return None;
            }
            let nth = rng.gen_range(0..live);
            d.iter()
                .filter(|(_, e)| !e.is_expired(now))
                .nth(nth)
                .map(|(k, _)| ByteStr::from_slice(k))
        });
        if picked.is_some() {
            break;
        }
    }
    match picked {
        Some(k) => ctx.out.bulk(&k),
        None => ctx.out.null(),
    }
}

// ---- renaming, copying, moving ---------------------------------------------------

/// True for values a blocked client may be waiting on (BLPOP, BZPOPMIN …):
/// a key that receives one must be signalled ready, as Redis's dbAdd does.
fn may_unblock(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::ZSet(_))
}

fn rename_generic(ctx: &mut ExecCtx<'_>, args: &[&[u8]], nx: bool) {
    let (src, dst) = (args[1], args[2]);
    if ctx.peek(src).is_none() {
        ctx.out.error(ERR_NO_SUCH_KEY);
        return;
    }
    if src == dst {
        if nx {
            ctx.out.int(0);
        } else {
            ctx.out.ok();
        }
        return;
    }
    if nx && ctx.peek(dst).is_some() {
        ctx.out.int(0);
        return;
    }
    // remove() touches the source and counts the one change Redis counts;
    // the destination is stored (and its WATCHers touched) directly.
    let Some(entry) = ctx.remove(src) else {
        return;
    };
    ctx.peek(dst);
    if may_unblock(&entry.value) {
        ctx.signal_ready(dst);
    }
    if entry.has_expiry() {
        ctx.ks.note_volatile();
    }
    let db = ctx.db;
    let slot = ctx.slot(dst);
    slot.insert(db, dst, entry);
    slot.touch_watched(db, dst);
    if nx {
        ctx.out.int(1);
    } else {
        ctx.out.ok();
    }
}

fn rename(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    rename_generic(ctx, args, false);
}

fn renamenx(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    rename_generic(ctx, args, true);
}

/// Parses a database index argument: Err(message) if not an integer or out of range.
fn parse_db(ctx: &ExecCtx<'_>, arg: &[u8]) -> Result<usize, &'static str> {
    let i = parse_i64(arg).ok_or(ERR_NOT_INT)?;
    if i < 0 || i >= ctx.ks.db_count() as i64 || i > i32::MAX as i64 {
        return Err(ERR_DB_RANGE);
    }
    Ok(i as usize)
}

/// Runs `f` with `ctx.db` switched to `db`, so lazy expiry, WATCH touches
/// and propagation apply to that database.
fn in_db<R>(ctx: &mut ExecCtx<'_>, db: usize, f: impl FnOnce(&mut ExecCtx<'_>) -> R) -> R {
    let saved = ctx.db;
    ctx.db = db;
    let r = f(ctx);
    ctx.db = saved;
    r
}

fn copy(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (src, dst) = (args[1], args[2]);
    let mut dst_db = ctx.db;
    let mut replace = false;
    let mut j = 3;
    while j < args.len() {
        if args[j].eq_ignore_ascii_case(b"replace") {
            replace = true;
        } else if args[j].eq_ignore_ascii_case(b"db") && j + 1 < args.len() {
            match parse_db(ctx, args[j + 1]) {
                Ok(db) => dst_db = db,
                Err(e) => return ctx.out.error(e),
            }
            j += 1;
        } else {
            ctx.out.error(ERR_SYNTAX);
            return;
        }
        j += 1;
    }
    if src == dst && dst_db == ctx.db {
        ctx.out.error(ERR_SAME_OBJECT);
        return;
    }
    let Some(mut entry) = ctx.get(src).cloned() else {
        ctx.out.int(0);
        return;
    };
    // Cloning drops spare capacity; Redis's copy of a `raw` string stays `raw`.
    if let (
        Some(Entry {
            value: Value::Str(orig),
            ..
        }),
        Value::Str(copied),
    ) = (ctx.peek(src), &mut entry.value)
    {
        if is_raw_marked(orig) {
            mark_raw(copied);
        }
    }
    let done = in_db(ctx, dst_db, |ctx| {
        if ctx.peek(dst).is_some() && !replace {
            return false;
        }
        if may_unblock(&entry.value) {
            ctx.signal_ready(dst);
        }
        ctx.insert(dst, entry);
        true
    });
    ctx.out.int(done as i64);
}

fn move_(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let dst_db = match parse_db(ctx, args[2]) {
        Ok(db) => db,
        Err(e) => return ctx.out.error(e),
    };
    if dst_db == ctx.db {
        ctx.out.error(ERR_SAME_OBJECT);
        return;
    }
    if ctx.peek(key).is_none() || in_db(ctx, dst_db, |ctx| ctx.peek(key).is_some()) {
        ctx.out.int(0);
        return;
    }
    let Some(entry) = ctx.remove(key) else {
        ctx.out.int(0);
        return;
    };
    if may_unblock(&entry.value) {
        ctx.ready_keys.push((dst_db, ByteStr::from_slice(key)));
    }
    let slot = ctx.slot(key);
    slot.insert(dst_db, key, entry);
    slot.touch_watched(dst_db, key);
    ctx.out.int(1);
}

// ---- whole databases -----------------------------------------------------------

fn swapdb(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(a), Some(b)) = (parse_i64(args[1]), parse_i64(args[2])) else {
        let which = if parse_i64(args[1]).is_none() {
            "first"
        } else {
            "second"
        };
        ctx.out.error(&format!("ERR invalid {which} DB index"));
        return;
    };
    let n = ctx.ks.db_count() as i64;
    if !(0..n).contains(&a) || !(0..n).contains(&b) {
        ctx.out.error(ERR_DB_RANGE);
        return;
    }
    let (a, b) = (a as usize, b as usize);
    if a != b {
        ctx.with_all_slots(|slots| {
            for slot in slots.iter_mut() {
                // A WATCHer of key k in db a is touched if k exists in a
                // before the swap or in b (i.e. in a after it), and vice versa.
                slot.touch_all_watched(a, true);
                slot.touch_all_watched(b, true);
                slot.swap_dbs(a, b);
                slot.touch_all_watched(a, true);
                slot.touch_all_watched(b, true);
            }
        });
        ctx.swapped_dbs = Some((a, b));
    }
    ctx.dirty += 1;
    ctx.out.ok();
}

fn dbsize(ctx: &mut ExecCtx<'_>, _args: &[&[u8]]) {
    let db = ctx.db;
    let mut n = 0;
    ctx.for_each_slot(|s| n += s.db(db).map_or(0, |d| d.len()));
    ctx.out.int(n as i64);
}

/// FLUSHDB/FLUSHALL take an optional ASYNC or SYNC. Freeing is synchronous
/// either way; the option only changes how long the call takes in Redis.
fn flush_args_ok(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) -> bool {
    let ok = match args.len() {
        1 => true,
        2 => args[1].eq_ignore_ascii_case(b"async") || args[1].eq_ignore_ascii_case(b"sync"),
        _ => false,
    };
    if !ok {
        ctx.out.error(ERR_SYNTAX);
    }
    ok
}

/// Empties `dbs` with every slot locked, touching WATCHers of existing keys
/// first (Redis's signalFlushedDb). Returns the number of keys removed.
/// The emptied maps are freed after the locks are released, on a separate
/// thread for ASYNC (Redis's lazy free).
fn flush_dbs(ctx: &mut ExecCtx<'_>, dbs: std::ops::Range<usize>, args: &[&[u8]]) -> u64 {
    let mut removed = 0u64;
    let mut emptied: Vec<DbSlot> = Vec::new();
    ctx.with_all_slots(|slots| {
        for slot in slots.iter_mut() {
            for db in dbs.clone() {
                if slot.db(db).is_some_and(|d| !d.is_empty()) {
                    slot.touch_all_watched(db, true);
                    let taken = slot.db_mut(db).take();
                    removed += taken.len() as u64;
                    emptied.push(taken);
                }
            }
        }
    });
    let is_async = args
        .get(1)
        .is_some_and(|a| a.eq_ignore_ascii_case(b"async"));
    if is_async && !emptied.is_empty() {
        let spawned = std::thread::Builder::new()
            .name("lazyfree".into())
            .spawn(move || drop(emptied));
        // If no thread can be started, `emptied` was dropped here instead.
        drop(spawned);
    }
    removed
}

fn flushdb(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if !flush_args_ok(ctx, args) {
        return;
    }
    let db = ctx.db;
    ctx.dirty += flush_dbs(ctx, db..db + 1, args);
    // Propagated even when the database was already empty.
    ctx.propagate(args);
    ctx.out.ok();
}

fn flushall(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if !flush_args_ok(ctx, args) {
        return;
    }
    let all = 0..ctx.ks.db_count();
    ctx.dirty += flush_dbs(ctx, all, args) + 1;
    ctx.out.ok();
}

// ---- OBJECT -----------------------------------------------------------------------

const OBJECT_KEY_SUBCOMMANDS: [&str; 4] = ["encoding", "freq", "idletime", "refcount"];

fn object_keys(args: &[&[u8]]) -> KeyPositions {
    let mut keys = KeyPositions::new();
    if args.len() == 3
        && OBJECT_KEY_SUBCOMMANDS
            .iter()
            .any(|s| args[1].eq_ignore_ascii_case(s.as_bytes()))
    {
        keys.push(2);
    }
    keys
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// Redis shares one object for the integers 0..9999 and reports it as immortal.
const SHARED_INTEGERS: i64 = 10_000;
const SHARED_REFCOUNT: i64 = i32::MAX as i64;

fn object(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let sub = args[1].to_ascii_lowercase();
    let sub_name = String::from_utf8_lossy(&sub).into_owned();
    let wants_key = OBJECT_KEY_SUBCOMMANDS.contains(&sub_name.as_str());
    if sub_name == "help" || wants_key {
        let arity = if wants_key { 3 } else { 2 };
        if args.len() != arity {
            ctx.out.error(&format!(
                "ERR wrong number of arguments for 'object|{sub_name}' command"
            ));
            return;
        }
    }
    if sub_name == "help" {
        ctx.out.array(OBJECT_HELP.len());
        for line in OBJECT_HELP {
            ctx.out.simple(line);
        }
        return;
    }
    if !wants_key {
        ctx.out.error(&format!(
            "ERR unknown subcommand '{}'. Try OBJECT HELP.",
            String::from_utf8_lossy(args[1])
        ));
        return;
    }
    let Some(entry) = ctx.get(args[2]) else {
        ctx.out.null();
        return;
    };
    match sub_name.as_str() {
        "encoding" => {
            let enc = entry.value.encoding();
            ctx.out.bulk(enc.as_bytes());
        }
        "freq" => ctx.out.error(
            "ERR An LFU maxmemory policy is not selected, access frequency not tracked. \
             Please note that when switching between policies at runtime LRU and LFU data \
             will take some time to adjust.",
        ),
        // Access times are not tracked (no LRU eviction yet): report "just used".
        "idletime" => ctx.out.int(0),
        _ => {
            let shared = matches!(entry.value, Value::Int(i) if (0..SHARED_INTEGERS).contains(&i));
            ctx.out.int(if shared { SHARED_REFCOUNT } else { 1 });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

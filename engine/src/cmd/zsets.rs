//! Sorted-set commands: ZADD and its flags, score/rank/lex range queries
//! (exclusive bounds, ±inf, LIMIT, REV), pops and their blocking forms,
//! the ZUNION/ZINTER/ZDIFF algebra, and random picks.

use std::borrow::Cow;

use rand::seq::index::sample;
use rand::Rng;
use smallvec::smallvec;

use super::coll::{
    block_on, parse_count, parse_f64, parse_f64_loose, parse_i64, parse_mpop_count,
    parse_mpop_keys, parse_scan, parse_timeout, read_zset, remove_if_empty, resolve_range,
    write_scan_all, write_scan_page, zset_create, zset_mut, WrongType,
};
use super::lists::{numkeys_at, parse_positive};
use super::sets::parse_intercard;
use crate::command::{spec, CommandFlags as F, CommandSpec, EngineFn, KeyPositions};
use crate::exec::{ExecCtx, ERR_NOT_FLOAT, ERR_NOT_INT, ERR_SYNTAX};
use crate::keyspace::Entry;
use crate::reply::ReplyWriter;
use crate::types::order_tree::cmp_entry;
use crate::types::{limits, ZSetValue};
use crate::util::format_double_g17;
use crate::value::{itoa_buf, ByteStr, Value};

const W: F = F::WRITE.union(F::DENYOOM).union(F::FAST);
const WD: F = F::WRITE.union(F::DENYOOM);
const WF: F = F::WRITE.union(F::FAST);
const WR: F = F::WRITE;
const R: F = F::READONLY;
const RF: F = F::READONLY.union(F::FAST);
const B: F = F::WRITE.union(F::FAST).union(F::BLOCKING);
const BW: F = F::WRITE.union(F::BLOCKING);

fn keys_after_numkeys_1(args: &[&[u8]]) -> KeyPositions {
    numkeys_at(args, 1)
}
fn keys_after_numkeys_2(args: &[&[u8]]) -> KeyPositions {
    numkeys_at(args, 2)
}
/// `dst numkeys key…`: the destination plus the sources.
fn store_keys(args: &[&[u8]]) -> KeyPositions {
    let mut k = numkeys_at(args, 2);
    if !k.is_empty() {
        k.insert(0, 1);
    }
    k
}

macro_rules! movable {
    ($f:expr, $spec:expr) => {
        CommandSpec {
            movable_keys: Some($f),
            ..$spec
        }
    };
}

pub static COMMANDS: &[CommandSpec<EngineFn>] = &[
    spec("zadd", -4, W, 1, 1, 1, "sorted_set", "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.", "1.2.0", zadd),
    spec("zincrby", 4, W, 1, 1, 1, "sorted_set", "Increments the score of a member in a sorted set.", "1.2.0", zincrby),
    spec("zrem", -3, WF, 1, 1, 1, "sorted_set", "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.", "1.2.0", zrem),
    spec("zscore", 3, RF, 1, 1, 1, "sorted_set", "Returns the score of a member in a sorted set.", "1.2.0", zscore),
    spec("zmscore", -3, RF, 1, 1, 1, "sorted_set", "Returns the score of one or more members in a sorted set.", "6.2.0", zmscore),
    spec("zcard", 2, RF, 1, 1, 1, "sorted_set", "Returns the number of members in a sorted set.", "1.2.0", zcard),
    spec("zcount", 4, RF, 1, 1, 1, "sorted_set", "Returns the count of members in a sorted set that have scores within a range.", "2.0.0", zcount),
    spec("zlexcount", 4, RF, 1, 1, 1, "sorted_set", "Returns the number of members in a sorted set within a lexicographical range.", "2.8.9", zlexcount),
    spec("zrange", -4, R, 1, 1, 1, "sorted_set", "Returns members in a sorted set within a range of indexes.", "1.2.0", zrange),
    spec("zrangestore", -5, WD, 1, 2, 1, "sorted_set", "Stores a range of members from sorted set in a key.", "6.2.0", zrangestore),
    spec("zrangebyscore", -4, R, 1, 1, 1, "sorted_set", "Returns members in a sorted set within a range of scores.", "1.0.5", zrangebyscore),
    spec("zrevrangebyscore", -4, R, 1, 1, 1, "sorted_set", "Returns members in a sorted set within a range of scores in reverse order.", "2.2.0", zrevrangebyscore),
    spec("zrangebylex", -4, R, 1, 1, 1, "sorted_set", "Returns members in a sorted set within a lexicographical range.", "2.8.9", zrangebylex),
    spec("zrevrangebylex", -4, R, 1, 1, 1, "sorted_set", "Returns members in a sorted set within a lexicographical range in reverse order.", "2.8.9", zrevrangebylex),
    spec("zrevrange", -4, R, 1, 1, 1, "sorted_set", "Returns members in a sorted set within a range of indexes in reverse order.", "1.2.0", zrevrange),
    spec("zrank", 3, RF, 1, 1, 1, "sorted_set", "Returns the index of a member in a sorted set ordered by ascending scores.", "2.0.0", zrank),
    spec("zrevrank", 3, RF, 1, 1, 1, "sorted_set", "Returns the index of a member in a sorted set ordered by descending scores.", "2.0.0", zrevrank),
    spec("zpopmin", -2, WF, 1, 1, 1, "sorted_set", "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", zpopmin),
    spec("zpopmax", -2, WF, 1, 1, 1, "sorted_set", "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.", "5.0.0", zpopmax),
    spec("bzpopmin", -3, B, 1, -2, 1, "sorted_set", "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "5.0.0", bzpopmin),
    spec("bzpopmax", -3, B, 1, -2, 1, "sorted_set", "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped.", "5.0.0", bzpopmax),
    movable!(keys_after_numkeys_1, spec("zmpop", -4, WR, 0, 0, 0, "sorted_set", "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them. Deletes the sorted set if the last member was popped.", "7.0.0", zmpop)),
    movable!(keys_after_numkeys_2, spec("bzmpop", -5, BW, 0, 0, 0, "sorted_set", "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.", "7.0.0", bzmpop)),
    movable!(keys_after_numkeys_1, spec("zunion", -3, R, 0, 0, 0, "sorted_set", "Returns the union of multiple sorted sets.", "6.2.0", zunion)),
    movable!(store_keys, spec("zunionstore", -4, WD, 1, 1, 1, "sorted_set", "Stores the union of multiple sorted sets in a key.", "2.0.0", zunionstore)),
    movable!(keys_after_numkeys_1, spec("zinter", -3, R, 0, 0, 0, "sorted_set", "Returns the intersect of multiple sorted sets.", "6.2.0", zinter)),
    movable!(store_keys, spec("zinterstore", -4, WD, 1, 1, 1, "sorted_set", "Stores the intersect of multiple sorted sets in a key.", "2.0.0", zinterstore)),
    movable!(keys_after_numkeys_1, spec("zintercard", -3, R, 0, 0, 0, "sorted_set", "Returns the number of members of the intersect of multiple sorted sets.", "7.0.0", zintercard)),
    movable!(keys_after_numkeys_1, spec("zdiff", -3, R, 0, 0, 0, "sorted_set", "Returns the difference between multiple sorted sets.", "6.2.0", zdiff)),
    movable!(store_keys, spec("zdiffstore", -4, WD, 1, 1, 1, "sorted_set", "Stores the difference of multiple sorted sets in a key.", "6.2.0", zdiffstore)),
    spec("zremrangebyscore", 4, WR, 1, 1, 1, "sorted_set", "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.", "1.2.0", zremrangebyscore),
    spec("zremrangebyrank", 4, WR, 1, 1, 1, "sorted_set", "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.", "2.0.0", zremrangebyrank),
    spec("zremrangebylex", 4, WR, 1, 1, 1, "sorted_set", "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.", "2.8.9", zremrangebylex),
    spec("zrandmember", -2, R, 1, 1, 1, "sorted_set", "Returns one or more random members from a sorted set.", "6.2.0", zrandmember),
    spec("zscan", -3, R, 1, 1, 1, "sorted_set", "Iterates over members and scores of a sorted set.", "2.8.0", zscan),
];

// ---------------------------------------------------------------- ranges

const ERR_MINMAX_FLOAT: &str = "ERR min or max is not a float";
const ERR_MINMAX_LEX: &str = "ERR min or max not valid string range item";

/// A score interval with optionally exclusive ends.
#[derive(Debug, Clone, Copy)]
struct ScoreRange {
    min: f64,
    min_ex: bool,
    max: f64,
    max_ex: bool,
}

/// One end of a score range (`zslParseRange`: plain strtod, no range check).
fn parse_score_bound(arg: &[u8]) -> Option<(f64, bool)> {
    match arg.strip_prefix(b"(") {
        Some(rest) => parse_f64_loose(rest).map(|v| (v, true)),
        None => parse_f64_loose(arg).map(|v| (v, false)),
    }
}

impl ScoreRange {
    fn parse(min: &[u8], max: &[u8]) -> Option<ScoreRange> {
        let (min, min_ex) = parse_score_bound(min)?;
        let (max, max_ex) = parse_score_bound(max)?;
        Some(ScoreRange {
            min,
            min_ex,
            max,
            max_ex,
        })
    }
    fn below_min(&self, s: f64) -> bool {
        if self.min_ex {
            s <= self.min
        } else {
            s < self.min
        }
    }
    fn within_max(&self, s: f64) -> bool {
        if self.max_ex {
            s < self.max
        } else {
            s <= self.max
        }
    }
    /// Ranks `[lo, hi)` of the members inside the range.
    fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = z.count_while(|s, _| self.below_min(s));
        let hi = z.count_while(|s, _| self.within_max(s));
        (lo, hi.max(lo))
    }
}

#[derive(Debug, Clone)]
enum LexBound {
    NegInf,
    PosInf,
    Incl(ByteStr),
    Excl(ByteStr),
}

impl LexBound {
    fn parse(arg: &[u8]) -> Option<LexBound> {
        match arg.first()? {
            b'-' if arg.len() == 1 => Some(LexBound::NegInf),
            b'+' if arg.len() == 1 => Some(LexBound::PosInf),
            b'[' => Some(LexBound::Incl(ByteStr::from_slice(&arg[1..]))),
            b'(' => Some(LexBound::Excl(ByteStr::from_slice(&arg[1..]))),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
struct LexRange {
    min: LexBound,
    max: LexBound,
}

impl LexRange {
    fn parse(min: &[u8], max: &[u8]) -> Option<LexRange> {
        Some(LexRange {
            min: LexBound::parse(min)?,
            max: LexBound::parse(max)?,
        })
    }
    fn below_min(&self, m: &[u8]) -> bool {
        match &self.min {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(b) => m < b.as_slice(),
            LexBound::Excl(b) => m <= b.as_slice(),
        }
    }
    fn within_max(&self, m: &[u8]) -> bool {
        match &self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(b) => m <= b.as_slice(),
            LexBound::Excl(b) => m < b.as_slice(),
        }
    }
    /// Ranks `[lo, hi)`; meaningful when all scores are equal, as in Redis.
    fn ranks(&self, z: &ZSetValue) -> (usize, usize) {
        let lo = z.count_while(|_, m| self.below_min(m));
        let hi = z.count_while(|_, m| self.within_max(m));
        (lo, hi.max(lo))
    }
}

// ---------------------------------------------------------------- replies

/// Writes (member, score) pairs; with scores, RESP3 nests each pair.
fn write_pairs<'a>(
    out: &mut ReplyWriter,
    n: usize,
    pairs: impl Iterator<Item = (&'a [u8], f64)>,
    with_scores: bool,
) {
    if with_scores && out.is_resp3() {
        out.array(n);
        for (m, s) in pairs {
            out.array(2);
            out.bulk(m);
            out.double(s);
        }
    } else if with_scores {
        out.array(n * 2);
        for (m, s) in pairs {
            out.bulk(m);
            out.double(s);
        }
    } else {
        out.array(n);
        for (m, _) in pairs {
            out.bulk(m);
        }
    }
}

/// Pairs always nested (ZMPOP/BZMPOP element lists).
fn write_nested_pairs(out: &mut ReplyWriter, pairs: &[(ByteStr, f64)]) {
    out.array(pairs.len());
    for (m, s) in pairs {
        out.array(2);
        out.bulk(m);
        out.double(*s);
    }
}

// ---------------------------------------------------------------- ZADD

#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// Outcome of adding one pair under the flags.
enum AddOutcome {
    Added(f64),
    Updated(f64),
    Unchanged(f64),
    Skipped,
    Nan,
}

fn add_one(z: &mut ZSetValue, member: &[u8], score: f64, f: &AddFlags) -> AddOutcome {
    let mut outcome = AddOutcome::Skipped;
    z.update_with(member, &limits(), |cur| match cur {
        Some(cur) => {
            if f.nx {
                return None;
            }
            let new = if f.incr { cur + score } else { score };
            if new.is_nan() {
                outcome = AddOutcome::Nan;
                return None;
            }
            if (f.lt && new >= cur) || (f.gt && new <= cur) {
                return None;
            }
            if new == cur {
                outcome = AddOutcome::Unchanged(new);
                return None;
            }
            outcome = AddOutcome::Updated(new);
            Some(new)
        }
        None => {
            if f.xx {
                return None;
            }
            outcome = AddOutcome::Added(score);
            Some(score)
        }
    });
    outcome
}

fn zadd_generic(ctx: &mut ExecCtx<'_>, args: &[&[u8]], f: AddFlags, pairs_at: usize) {
    let key = args[1];
    let elements = &args[pairs_at..];
    let mut scores = Vec::with_capacity(elements.len() / 2);
    for p in elements.chunks_exact(2) {
        match parse_f64(p[0]) {
            Some(s) => scores.push(s),
            None => return ctx.out.error(ERR_NOT_FLOAT),
        }
    }
    let exists = match zset_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(z) => z.is_some(),
    };
    if !exists && f.xx {
        return if f.incr {
            ctx.out.null()
        } else {
            ctx.out.int(0)
        };
    }
    let Ok(z) = zset_create(ctx, key) else {
        return ctx.wrong_type();
    };
    let (mut added, mut updated) = (0usize, 0usize);
    let mut incr_result = None;
    let mut nan = false;
    for (p, &score) in elements.chunks_exact(2).zip(&scores) {
        match add_one(z, p[1], score, &f) {
            AddOutcome::Added(s) => {
                added += 1;
                incr_result = Some(s);
            }
            AddOutcome::Updated(s) => {
                updated += 1;
                incr_result = Some(s);
            }
            AddOutcome::Unchanged(s) => incr_result = Some(s),
            AddOutcome::Skipped => {}
            AddOutcome::Nan => {
                nan = true;
                break;
            }
        }
    }
    if added + updated > 0 {
        ctx.modified(key, (added + updated) as u64);
    }
    if !exists {
        // Created above: removed again if nothing went in.
        remove_if_empty(ctx, key);
    }
    if nan {
        return ctx.out.error("ERR resulting score is not a number (NaN)");
    }
    if f.incr {
        match incr_result {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    } else {
        ctx.out.int((added + if f.ch { updated } else { 0 }) as i64);
    }
}

fn zadd(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let mut f = AddFlags::default();
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        let flag = if a.eq_ignore_ascii_case(b"nx") {
            &mut f.nx
        } else if a.eq_ignore_ascii_case(b"xx") {
            &mut f.xx
        } else if a.eq_ignore_ascii_case(b"gt") {
            &mut f.gt
        } else if a.eq_ignore_ascii_case(b"lt") {
            &mut f.lt
        } else if a.eq_ignore_ascii_case(b"ch") {
            &mut f.ch
        } else if a.eq_ignore_ascii_case(b"incr") {
            &mut f.incr
        } else {
            break;
        };
        *flag = true;
        i += 1;
    }
    let elements = args.len() - i;
    if elements == 0 || elements % 2 == 1 {
        return ctx.out.error(ERR_SYNTAX);
    }
    if f.nx && f.xx {
        return ctx
            .out
            .error("ERR XX and NX options at the same time are not compatible");
    }
    if [f.gt, f.lt, f.nx].iter().filter(|b| **b).count() > 1 {
        return ctx
            .out
            .error("ERR GT, LT, and/or NX options at the same time are not compatible");
    }
    if f.incr && elements > 2 {
        return ctx
            .out
            .error("ERR INCR option supports a single increment-element pair");
    }
    zadd_generic(ctx, args, f, i);
}

fn zincrby(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let f = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, args, f, 2);
}

// ---------------------------------------------------------------- simple reads

fn zrem(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let key = args[1];
    let n = match zset_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => 0,
        Ok(Some(z)) => args[2..].iter().filter(|m| z.remove(m)).count(),
    };
    if n > 0 {
        ctx.modified(key, n as u64);
        remove_if_empty(ctx, key);
    }
    ctx.out.int(n as i64);
}

fn zscore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((z, out)) = read_zset(ctx, args[1]) {
        match z.and_then(|z| z.score(args[2])) {
            Some(s) => out.double(s),
            None => out.null(),
        }
    }
}

fn zmscore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((z, out)) = read_zset(ctx, args[1]) {
        out.array(args.len() - 2);
        for m in &args[2..] {
            match z.and_then(|z| z.score(m)) {
                Some(s) => out.double(s),
                None => out.null(),
            }
        }
    }
}

fn zcard(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if let Some((z, out)) = read_zset(ctx, args[1]) {
        out.int(z.map_or(0, |z| z.len()) as i64);
    }
}

fn zcount(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(r) = ScoreRange::parse(args[2], args[3]) else {
        return ctx.out.error(ERR_MINMAX_FLOAT);
    };
    if let Some((z, out)) = read_zset(ctx, args[1]) {
        out.int(z.map_or(0, |z| {
            let (lo, hi) = r.ranks(z);
            hi - lo
        }) as i64);
    }
}

fn zlexcount(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(r) = LexRange::parse(args[2], args[3]) else {
        return ctx.out.error(ERR_MINMAX_LEX);
    };
    if let Some((z, out)) = read_zset(ctx, args[1]) {
        out.int(z.map_or(0, |z| {
            let (lo, hi) = r.ranks(z);
            hi - lo
        }) as i64);
    }
}

fn rank_generic(ctx: &mut ExecCtx<'_>, args: &[&[u8]], rev: bool) {
    if let Some((z, out)) = read_zset(ctx, args[1]) {
        match z.and_then(|z| Some((z.rank(args[2])?, z.len()))) {
            Some((r, len)) => out.int(if rev { len - 1 - r } else { r } as i64),
            None => out.null(),
        }
    }
}

fn zrank(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    rank_generic(ctx, args, false)
}
fn zrevrank(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    rank_generic(ctx, args, true)
}

// ---------------------------------------------------------------- ZRANGE family

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeKind {
    Rank,
    Score,
    Lex,
}

/// A parsed ZRANGE-family query.
struct RangeQuery {
    kind: RangeKind,
    rev: bool,
    with_scores: bool,
    /// LIMIT offset, count (count < 0 = all).
    limit: Option<(i64, i64)>,
    rank: (i64, i64),
    score: Option<ScoreRange>,
    lex: Option<LexRange>,
}

/// How the ZRANGE-family command was invoked.
#[derive(Clone, Copy)]
struct RangeStyle {
    kind: RangeKind,
    rev: bool,
    /// ZRANGE/ZRANGESTORE accept BYSCORE/BYLEX/REV.
    generic: bool,
    store: bool,
}

/// Parses `min max [options…]` at `args[at..]`; writes the error and returns None on failure.
fn parse_range(
    out: &mut ReplyWriter,
    args: &[&[u8]],
    at: usize,
    style: RangeStyle,
) -> Option<RangeQuery> {
    let mut q = RangeQuery {
        kind: style.kind,
        rev: style.rev,
        with_scores: false,
        limit: None,
        rank: (0, 0),
        score: None,
        lex: None,
    };
    let mut i = at + 2;
    while i < args.len() {
        let a = args[i].to_ascii_lowercase();
        match a.as_slice() {
            b"withscores" if !style.store => q.with_scores = true,
            b"limit" if i + 2 < args.len() => {
                let (Some(o), Some(c)) = (parse_i64(args[i + 1]), parse_i64(args[i + 2])) else {
                    out.error(ERR_NOT_INT);
                    return None;
                };
                q.limit = Some((o, c));
                i += 2;
            }
            b"byscore" if style.generic && q.kind == RangeKind::Rank => q.kind = RangeKind::Score,
            b"bylex" if style.generic && q.kind == RangeKind::Rank => q.kind = RangeKind::Lex,
            b"rev" if style.generic => q.rev = true,
            _ => {
                out.error(ERR_SYNTAX);
                return None;
            }
        }
        i += 1;
    }
    if q.limit.is_some() && q.kind == RangeKind::Rank {
        out.error(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        );
        return None;
    }
    if q.with_scores && q.kind == RangeKind::Lex {
        out.error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
        return None;
    }
    // Reverse score/lex ranges name the upper bound first.
    let (lo_arg, hi_arg) = if q.rev && q.kind != RangeKind::Rank {
        (args[at + 1], args[at])
    } else {
        (args[at], args[at + 1])
    };
    match q.kind {
        RangeKind::Rank => match (parse_i64(lo_arg), parse_i64(hi_arg)) {
            (Some(s), Some(e)) => q.rank = (s, e),
            _ => {
                out.error(ERR_NOT_INT);
                return None;
            }
        },
        RangeKind::Score => match ScoreRange::parse(lo_arg, hi_arg) {
            Some(r) => q.score = Some(r),
            None => {
                out.error(ERR_MINMAX_FLOAT);
                return None;
            }
        },
        RangeKind::Lex => match LexRange::parse(lo_arg, hi_arg) {
            Some(r) => q.lex = Some(r),
            None => {
                out.error(ERR_MINMAX_LEX);
                return None;
            }
        },
    }
    Some(q)
}

impl RangeQuery {
    /// Ascending ranks `[lo, hi)` selected, and whether to emit them reversed.
    fn select(&self, z: &ZSetValue) -> (usize, usize) {
        let len = z.len();
        let (lo, hi) = match self.kind {
            RangeKind::Rank => match resolve_range(self.rank.0, self.rank.1, len) {
                None => return (0, 0),
                Some((s, e)) if self.rev => (len - 1 - e, len - s),
                Some((s, e)) => (s, e + 1),
            },
            RangeKind::Score => match &self.score {
                Some(r) => r.ranks(z),
                None => (0, 0),
            },
            RangeKind::Lex => match &self.lex {
                Some(r) => r.ranks(z),
                None => (0, 0),
            },
        };
        let Some((offset, count)) = self.limit else {
            return (lo, hi);
        };
        if offset < 0 {
            return (0, 0);
        }
        let avail = hi - lo;
        let offset = (offset as u64).min(avail as u64) as usize;
        let take = if count < 0 {
            avail - offset
        } else {
            (count as u64).min((avail - offset) as u64) as usize
        };
        if self.rev {
            (hi - offset - take, hi - offset)
        } else {
            (lo + offset, lo + offset + take)
        }
    }

    /// The selected pairs in reply order.
    fn collect(&self, z: &ZSetValue) -> Vec<(ByteStr, f64)> {
        let (lo, hi) = self.select(z);
        let mut v: Vec<(ByteStr, f64)> = z
            .iter_from(lo)
            .take(hi - lo)
            .map(|(m, s)| (ByteStr::from_slice(m), s))
            .collect();
        if self.rev {
            v.reverse();
        }
        v
    }
}

fn range_reply(ctx: &mut ExecCtx<'_>, args: &[&[u8]], style: RangeStyle) {
    let Some(q) = parse_range(ctx.out, args, 2, style) else {
        return;
    };
    let Some((z, out)) = read_zset(ctx, args[1]) else {
        return;
    };
    let Some(z) = z else {
        return out.array(0);
    };
    let (lo, hi) = q.select(z);
    if q.rev {
        let items = q.collect(z);
        write_pairs(
            out,
            items.len(),
            items.iter().map(|(m, s)| (m.as_slice(), *s)),
            q.with_scores,
        );
    } else {
        write_pairs(out, hi - lo, z.iter_from(lo).take(hi - lo), q.with_scores);
    }
}

const fn style(kind: RangeKind, rev: bool, generic: bool) -> RangeStyle {
    RangeStyle {
        kind,
        rev,
        generic,
        store: false,
    }
}

fn zrange(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    range_reply(ctx, args, style(RangeKind::Rank, false, true))
}
fn zrevrange(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    range_reply(ctx, args, style(RangeKind::Rank, true, false))
}
fn zrangebyscore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    range_reply(ctx, args, style(RangeKind::Score, false, false))
}
fn zrevrangebyscore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    range_reply(ctx, args, style(RangeKind::Score, true, false))
}
fn zrangebylex(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    range_reply(ctx, args, style(RangeKind::Lex, false, false))
}
fn zrevrangebylex(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    range_reply(ctx, args, style(RangeKind::Lex, true, false))
}

/// Replaces `dst` with a sorted set of `pairs` (deleting it when empty);
/// replies the size. `member_len_hint` is what Redis sizes the new set by
/// (the longest member for the algebra commands, 0 for ZRANGESTORE).
fn store_pairs(
    ctx: &mut ExecCtx<'_>,
    dst: &[u8],
    pairs: &[(ByteStr, f64)],
    member_len_hint: usize,
) {
    if pairs.is_empty() {
        ctx.remove(dst);
        return ctx.out.int(0);
    }
    let lim = limits();
    let mut z = ZSetValue::for_size(pairs.len(), member_len_hint, &lim);
    for (m, s) in pairs {
        z.insert_with(m, *s, &lim);
    }
    let n = z.len();
    ctx.insert(dst, Entry::new(Value::ZSet(z)));
    ctx.out.int(n as i64);
}

fn zrangestore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let st = RangeStyle {
        kind: RangeKind::Rank,
        rev: false,
        generic: true,
        store: true,
    };
    let Some(q) = parse_range(ctx.out, args, 3, st) else {
        return;
    };
    let pairs = match zset_mut(ctx, args[2]) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => Vec::new(),
        Ok(Some(z)) => q.collect(z),
    };
    store_pairs(ctx, args[1], &pairs, 0);
}

// ---------------------------------------------------------------- removal by range

fn remove_ranks(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
    select: impl FnOnce(&ZSetValue) -> (usize, usize),
) {
    let n = match zset_mut(ctx, key) {
        Err(_) => return ctx.wrong_type(),
        Ok(None) => 0,
        Ok(Some(z)) => {
            let (lo, hi) = select(z);
            let doomed: Vec<ByteStr> = z
                .iter_from(lo)
                .take(hi - lo)
                .map(|(m, _)| ByteStr::from_slice(m))
                .collect();
            for m in &doomed {
                z.remove(m);
            }
            doomed.len()
        }
    };
    if n > 0 {
        ctx.modified(key, n as u64);
        remove_if_empty(ctx, key);
    }
    ctx.out.int(n as i64);
}

fn zremrangebyscore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(r) = ScoreRange::parse(args[2], args[3]) else {
        return ctx.out.error(ERR_MINMAX_FLOAT);
    };
    remove_ranks(ctx, args[1], |z| r.ranks(z));
}

fn zremrangebylex(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some(r) = LexRange::parse(args[2], args[3]) else {
        return ctx.out.error(ERR_MINMAX_LEX);
    };
    remove_ranks(ctx, args[1], |z| r.ranks(z));
}

fn zremrangebyrank(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let (Some(s), Some(e)) = (parse_i64(args[2]), parse_i64(args[3])) else {
        return ctx.out.error(ERR_NOT_INT);
    };
    remove_ranks(ctx, args[1], |z| match resolve_range(s, e, z.len()) {
        Some((s, e)) => (s, e + 1),
        None => (0, 0),
    });
}

// ---------------------------------------------------------------- pops

/// Pops up to `count` members from the low (`max == false`) or high end.
fn pop_pairs(ctx: &mut ExecCtx<'_>, key: &[u8], max: bool, count: usize) -> Vec<(ByteStr, f64)> {
    let popped: Vec<(ByteStr, f64)> = match zset_mut(ctx, key) {
        Ok(Some(z)) => {
            let n = count.min(z.len());
            let start = if max { z.len() - n } else { 0 };
            let mut v: Vec<(ByteStr, f64)> = z
                .iter_from(start)
                .take(n)
                .map(|(m, s)| (ByteStr::from_slice(m), s))
                .collect();
            if max {
                v.reverse();
            }
            for (m, _) in &v {
                z.remove(m);
            }
            v
        }
        _ => Vec::new(),
    };
    if !popped.is_empty() {
        ctx.modified(key, popped.len() as u64);
        remove_if_empty(ctx, key);
    }
    popped
}

fn zpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]], max: bool) {
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
    if zset_mut(ctx, args[1]).is_err() {
        return ctx.wrong_type();
    }
    let popped = pop_pairs(ctx, args[1], max, count.unwrap_or(1));
    let iter = popped.iter().map(|(m, s)| (m.as_slice(), *s));
    if count.is_none() {
        // Without COUNT the reply is one flat member/score pair even in RESP3.
        ctx.out.array(popped.len() * 2);
        for (m, s) in iter {
            ctx.out.bulk(m);
            ctx.out.double(s);
        }
    } else {
        write_pairs(ctx.out, popped.len(), iter, true);
    }
}

fn zpopmin(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    zpop(ctx, args, false)
}
fn zpopmax(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    zpop(ctx, args, true)
}

/// Looks `key` up for a pop: Some(true) if it holds members, None after WRONGTYPE.
fn has_members(ctx: &mut ExecCtx<'_>, key: &[u8]) -> Option<bool> {
    let rerun = ctx.unblocked_rerun;
    match zset_mut(ctx, key) {
        Err(_) if rerun => Some(false),
        Err(_) => {
            ctx.wrong_type();
            None
        }
        Ok(z) => Some(z.is_some_and(|z| !z.is_empty())),
    }
}

fn bzpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]], max: bool) {
    let deadline = match parse_timeout(args[args.len() - 1], ctx.now_ms) {
        Ok(d) => d,
        Err(e) => return ctx.out.error(e),
    };
    let keys = &args[1..args.len() - 1];
    for key in keys {
        match has_members(ctx, key) {
            None => return,
            Some(false) => {}
            Some(true) => {
                let popped = pop_pairs(ctx, key, max, 1);
                let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
                ctx.propagate(&[cmd, key]);
                ctx.out.array(3);
                ctx.out.bulk(key);
                ctx.out.bulk(&popped[0].0);
                ctx.out.double(popped[0].1);
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

fn bzpopmin(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    bzpop(ctx, args, false)
}
fn bzpopmax(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    bzpop(ctx, args, true)
}

/// Parses `numkeys key… MIN|MAX [COUNT n]` at `args[at..]`.
fn parse_zmpop<'a>(
    ctx: &mut ExecCtx<'_>,
    args: &[&'a [u8]],
    at: usize,
) -> Option<(Vec<&'a [u8]>, bool, usize)> {
    let (keys, i) = parse_mpop_keys(ctx, args, at)?;
    let max = if args[i].eq_ignore_ascii_case(b"max") {
        true
    } else if args[i].eq_ignore_ascii_case(b"min") {
        false
    } else {
        ctx.out.error(ERR_SYNTAX);
        return None;
    };
    let count = parse_mpop_count(ctx, args, i + 1)?;
    Some((keys, max, count))
}

/// Pops from the first non-empty key and replies; Some(false) if all were empty.
fn zmpop_first(ctx: &mut ExecCtx<'_>, keys: &[&[u8]], max: bool, count: usize) -> Option<bool> {
    for key in keys {
        if has_members(ctx, key)? {
            let popped = pop_pairs(ctx, key, max, count);
            let n = itoa_buf::Buf::new().format(popped.len() as i64).to_vec();
            let cmd: &[u8] = if max { b"ZPOPMAX" } else { b"ZPOPMIN" };
            ctx.propagate(&[cmd, key, &n]);
            ctx.out.array(2);
            ctx.out.bulk(key);
            write_nested_pairs(ctx.out, &popped);
            return Some(true);
        }
    }
    Some(false)
}

fn zmpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some((keys, max, count)) = parse_zmpop(ctx, args, 1) else {
        return;
    };
    if zmpop_first(ctx, &keys, max, count) == Some(false) {
        ctx.out.null_array();
    }
}

fn bzmpop(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let deadline = match parse_timeout(args[1], ctx.now_ms) {
        Ok(d) => d,
        Err(e) => return ctx.out.error(e),
    };
    let Some((keys, max, count)) = parse_zmpop(ctx, args, 2) else {
        return;
    };
    match zmpop_first(ctx, &keys, max, count) {
        Some(false) if ctx.in_multi => ctx.out.null_array(),
        Some(false) => block_on(ctx, &keys, deadline),
        _ => {}
    }
}

// ---------------------------------------------------------------- algebra

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Debug, Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    fn apply(self, acc: f64, v: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let s = acc + v;
                // inf + -inf: Redis stores 0 rather than NaN.
                if s.is_nan() {
                    0.0
                } else {
                    s
                }
            }
            Aggregate::Min => acc.min(v),
            Aggregate::Max => acc.max(v),
        }
    }
}

/// Members of a sorted set or plain set (score 1) at `key`; None if missing.
fn source_pairs(
    ctx: &mut ExecCtx<'_>,
    key: &[u8],
) -> Result<Option<Vec<(ByteStr, f64)>>, WrongType> {
    match ctx.get(key) {
        None => Ok(None),
        Some(Entry {
            value: Value::ZSet(z),
            ..
        }) => Ok(Some(
            z.iter().map(|(m, s)| (ByteStr::from_slice(m), s)).collect(),
        )),
        Some(Entry {
            value: Value::Set(s),
            ..
        }) => Ok(Some(
            s.iter().map(|m| (ByteStr::from_slice(&m), 1.0)).collect(),
        )),
        Some(_) => Err(WrongType),
    }
}

/// Parses `numkeys key… [WEIGHTS …] [AGGREGATE …] [WITHSCORES]` at `args[at..]`
/// and computes the result in (score, member) order. None after an error reply.
fn algebra(
    ctx: &mut ExecCtx<'_>,
    args: &[&[u8]],
    at: usize,
    op: SetOp,
    store: bool,
) -> Option<(Vec<(ByteStr, f64)>, bool)> {
    let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
    let n = match parse_i64(args[at]) {
        None => {
            ctx.out.error(ERR_NOT_INT);
            return None;
        }
        Some(n) if n < 1 => {
            ctx.out.error(&format!(
                "ERR at least 1 input key is needed for '{name}' command"
            ));
            return None;
        }
        Some(n) => n as u64,
    };
    if n > (args.len() - at - 1) as u64 {
        ctx.out.error(ERR_SYNTAX);
        return None;
    }
    let n = n as usize;
    let keys = &args[at + 1..at + 1 + n];
    let mut weights = vec![1.0; n];
    let mut agg = Aggregate::Sum;
    let mut with_scores = false;
    let mut i = at + 1 + n;
    while i < args.len() {
        let a = args[i].to_ascii_lowercase();
        if a == b"weights" && op != SetOp::Diff && i + n < args.len() {
            for (j, w) in weights.iter_mut().enumerate() {
                match parse_f64(args[i + 1 + j]) {
                    Some(v) => *w = v,
                    None => {
                        ctx.out.error("ERR weight value is not a float");
                        return None;
                    }
                }
            }
            i += n + 1;
        } else if a == b"aggregate" && op != SetOp::Diff && i + 1 < args.len() {
            agg = match args[i + 1].to_ascii_lowercase().as_slice() {
                b"sum" => Aggregate::Sum,
                b"min" => Aggregate::Min,
                b"max" => Aggregate::Max,
                _ => {
                    ctx.out.error(ERR_SYNTAX);
                    return None;
                }
            };
            i += 2;
        } else if a == b"withscores" && !store {
            with_scores = true;
            i += 1;
        } else {
            ctx.out.error(ERR_SYNTAX);
            return None;
        }
    }
    let mut sources = Vec::with_capacity(n);
    for k in keys {
        match source_pairs(ctx, k) {
            Err(_) => {
                ctx.wrong_type();
                return None;
            }
            Ok(p) => sources.push(p.unwrap_or_default()),
        }
    }
    let weigh = |s: f64, w: f64| {
        let v = s * w;
        if v.is_nan() {
            0.0
        } else {
            v
        }
    };
    let mut result: Vec<(ByteStr, f64)> = match op {
        SetOp::Union => {
            let mut acc: hashbrown::HashMap<ByteStr, f64> = hashbrown::HashMap::new();
            for (src, &w) in sources.iter().zip(&weights) {
                for (m, s) in src {
                    let v = weigh(*s, w);
                    acc.entry(m.clone())
                        .and_modify(|a| *a = agg.apply(*a, v))
                        .or_insert(v);
                }
            }
            acc.into_iter().collect()
        }
        SetOp::Inter => {
            let smallest = (0..n)
                .min_by_key(|&j| sources[j].len())
                .expect("numkeys >= 1");
            let lookups: Vec<hashbrown::HashMap<&[u8], f64>> = sources
                .iter()
                .map(|s| s.iter().map(|(m, v)| (m.as_slice(), *v)).collect())
                .collect();
            sources[smallest]
                .iter()
                .filter_map(|(m, _)| {
                    let mut acc: Option<f64> = None;
                    for (j, l) in lookups.iter().enumerate() {
                        let v = weigh(*l.get(m.as_slice())?, weights[j]);
                        acc = Some(acc.map_or(v, |a| agg.apply(a, v)));
                    }
                    acc.map(|a| (m.clone(), a))
                })
                .collect()
        }
        SetOp::Diff => {
            let others: Vec<hashbrown::HashSet<&[u8]>> = sources[1..]
                .iter()
                .map(|s| s.iter().map(|(m, _)| m.as_slice()).collect())
                .collect();
            sources[0]
                .iter()
                .filter(|(m, _)| !others.iter().any(|o| o.contains(m.as_slice())))
                .cloned()
                .collect()
        }
    };
    result.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
    Some((result, with_scores))
}

fn algebra_reply(ctx: &mut ExecCtx<'_>, args: &[&[u8]], op: SetOp) {
    if let Some((pairs, with_scores)) = algebra(ctx, args, 1, op, false) {
        write_pairs(
            ctx.out,
            pairs.len(),
            pairs.iter().map(|(m, s)| (m.as_slice(), *s)),
            with_scores,
        );
    }
}

fn algebra_store(ctx: &mut ExecCtx<'_>, args: &[&[u8]], op: SetOp) {
    if let Some((pairs, _)) = algebra(ctx, args, 2, op, true) {
        let longest = pairs.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
        store_pairs(ctx, args[1], &pairs, longest);
    }
}

fn zunion(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    algebra_reply(ctx, args, SetOp::Union)
}
fn zinter(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    algebra_reply(ctx, args, SetOp::Inter)
}
fn zdiff(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    algebra_reply(ctx, args, SetOp::Diff)
}
fn zunionstore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    algebra_store(ctx, args, SetOp::Union)
}
fn zinterstore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    algebra_store(ctx, args, SetOp::Inter)
}
fn zdiffstore(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    algebra_store(ctx, args, SetOp::Diff)
}

fn zintercard(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some((keys, limit)) = parse_intercard(ctx, args) else {
        return;
    };
    let mut sources = Vec::with_capacity(keys.len());
    for k in &keys {
        match source_pairs(ctx, k) {
            Err(_) => return ctx.wrong_type(),
            Ok(p) => sources.push(p.unwrap_or_default()),
        }
    }
    let smallest = (0..sources.len())
        .min_by_key(|&j| sources[j].len())
        .expect("numkeys >= 1");
    let lookups: Vec<hashbrown::HashSet<&[u8]>> = sources
        .iter()
        .map(|s| s.iter().map(|(m, _)| m.as_slice()).collect())
        .collect();
    let mut n = 0usize;
    for (m, _) in &sources[smallest] {
        if lookups.iter().all(|l| l.contains(m.as_slice())) {
            n += 1;
            if limit > 0 && n >= limit {
                break;
            }
        }
    }
    ctx.out.int(n as i64);
}

// ---------------------------------------------------------------- random, scan

fn zrandmember(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    if args.len() > 4 || (args.len() == 4 && !args[3].eq_ignore_ascii_case(b"withscores")) {
        return ctx.out.error(ERR_SYNTAX);
    }
    let with_scores = args.len() == 4;
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_count(ctx.out, a) {
            None => return,
            Some(c) if with_scores && c < -(i64::MAX / 2) => {
                return ctx.out.error("ERR value is out of range")
            }
            Some(c) => Some(c),
        },
    };
    let Some((z, out)) = read_zset(ctx, args[1]) else {
        return;
    };
    // Collections are never stored empty; treat one as missing regardless.
    let z = z.filter(|c| !c.is_empty());
    let Some(count) = count else {
        match z {
            None => out.null(),
            Some(z) => {
                let i = rand::thread_rng().gen_range(0..z.len());
                match z.iter_from(i).next() {
                    Some((m, _)) => out.bulk(m),
                    None => out.null(),
                }
            }
        }
        return;
    };
    let Some(z) = z else {
        return out.array(0);
    };
    let pairs: Vec<(&[u8], f64)> = z.iter().collect();
    let picks: Vec<usize> = if count < 0 {
        let mut rng = rand::thread_rng();
        (0..count.unsigned_abs())
            .map(|_| rng.gen_range(0..pairs.len()))
            .collect()
    } else if count as usize >= pairs.len() {
        (0..pairs.len()).collect()
    } else {
        sample(&mut rand::thread_rng(), pairs.len(), count as usize).into_vec()
    };
    write_pairs(
        out,
        picks.len(),
        picks.iter().map(|&i| pairs[i]),
        with_scores,
    );
}

/// A ZSCAN element group: the member and its score as `%.17g` text.
fn scan_pair((m, s): (&[u8], f64)) -> smallvec::SmallVec<[Cow<'_, [u8]>; 2]> {
    smallvec![
        Cow::Borrowed(m),
        Cow::Owned(format_double_g17(s).into_bytes())
    ]
}

fn zscan(ctx: &mut ExecCtx<'_>, args: &[&[u8]]) {
    let Some((cursor, opts)) = parse_scan(ctx.out, &args[2..]) else {
        return;
    };
    let Some((z, out)) = read_zset(ctx, args[1]) else {
        return;
    };
    let pair = scan_pair;
    match z {
        Some(z) if !z.is_compact() => {
            write_scan_page(out, cursor, &opts, z.len(), 2, |i| {
                z.table_entry_at(i).map(pair)
            });
        }
        _ => {
            let items = z.into_iter().flat_map(|z| z.iter()).map(pair);
            write_scan_all(out, opts.pattern, 2, items);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::coll::testkit::{bulks, Kit};
    use crate::reply::Protocol;

    #[test]
    fn zadd_flags() {
        let mut k = Kit::new();
        assert_eq!(k.run("ZADD z 1 a 2 b 3 c"), ":3\r\n");
        assert_eq!(
            k.run("ZADD z NX XX 1 a"),
            "-ERR XX and NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            k.run("ZADD z GT LT 1 a"),
            "-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"
        );
        assert_eq!(
            k.run("ZADD z INCR 1 a 2 b"),
            "-ERR INCR option supports a single increment-element pair\r\n"
        );
        assert_eq!(k.run("ZADD z x a"), "-ERR value is not a valid float\r\n");
        assert_eq!(k.run("ZADD z nan a"), "-ERR value is not a valid float\r\n");
        assert_eq!(k.run("ZADD z XX INCR 1 zz"), "$-1\r\n");
        assert_eq!(k.run("ZADD z CH 5 a 2 b 7 q"), ":2\r\n");
        assert_eq!(k.run("ZADD z GT CH 1 a 9 b"), ":1\r\n");
        assert_eq!(k.run("ZADD z LT 10 q"), ":0\r\n");
        assert_eq!(k.run("ZSCORE z q"), "$1\r\n7\r\n");
        assert_eq!(k.run("ZADD z INCR 1.5 a"), "$3\r\n6.5\r\n");
        assert_eq!(k.run("ZINCRBY z 0.1 c"), "$18\r\n3.1000000000000001\r\n");
        assert_eq!(k.run("ZADD z inf a"), ":0\r\n");
        assert_eq!(
            k.run("ZINCRBY z -inf a"),
            "-ERR resulting score is not a number (NaN)\r\n"
        );
        assert_eq!(k.run("ZADD nz XX 1 a"), ":0\r\n");
        assert_eq!(k.run("EXISTS nz"), ":0\r\n");
        assert_eq!(k.run("ZADD z NX 1"), "-ERR syntax error\r\n");
        k.proto = Protocol::Resp3;
        assert_eq!(k.run("ZSCORE z a"), ",inf\r\n");
        assert_eq!(k.run("ZMSCORE z a nope"), "*2\r\n,inf\r\n_\r\n");
    }

    #[test]
    fn ranges() {
        let mut k = Kit::new();
        k.run("ZADD z 1 a 2 b 3 c 4 d");
        assert_eq!(k.run("ZRANGE z 0 -1"), bulks(&["a", "b", "c", "d"]));
        assert_eq!(
            k.run("ZRANGE z 1 2 WITHSCORES"),
            bulks(&["b", "2", "c", "3"])
        );
        assert_eq!(k.run("ZREVRANGE z 0 1"), bulks(&["d", "c"]));
        assert_eq!(k.run("ZRANGE z (1 3 BYSCORE"), bulks(&["b", "c"]));
        assert_eq!(
            k.run("ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2"),
            bulks(&["c", "b"])
        );
        assert_eq!(
            k.run("ZRANGEBYSCORE z -inf +inf LIMIT 1 -1"),
            bulks(&["b", "c", "d"])
        );
        assert_eq!(k.run("ZREVRANGEBYSCORE z 3 (1"), bulks(&["c", "b"]));
        assert_eq!(
            k.run("ZRANGEBYSCORE z (1 x"),
            "-ERR min or max is not a float\r\n"
        );
        assert_eq!(k.run("ZRANGE z 0 -1 LIMIT 0 1"), "-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n");
        assert_eq!(
            k.run("ZRANGEBYSCORE z 0 10 LIMIT 1"),
            "-ERR syntax error\r\n"
        );
        assert_eq!(k.run("ZCOUNT z (1 +inf"), ":3\r\n");
        assert_eq!(k.run("ZRANK z c"), ":2\r\n");
        assert_eq!(k.run("ZREVRANK z c"), ":1\r\n");
        assert_eq!(k.run("ZRANK z nope"), "$-1\r\n");
        k.run("ZADD l 0 a 0 b 0 c 0 d");
        assert_eq!(k.run("ZRANGEBYLEX l [b (d"), bulks(&["b", "c"]));
        assert_eq!(k.run("ZREVRANGEBYLEX l + - LIMIT 0 2"), bulks(&["d", "c"]));
        assert_eq!(k.run("ZRANGE l - (b BYLEX"), bulks(&["a"]));
        assert_eq!(k.run("ZLEXCOUNT l - +"), ":4\r\n");
        assert_eq!(
            k.run("ZRANGEBYLEX l a b"),
            "-ERR min or max not valid string range item\r\n"
        );
        assert_eq!(
            k.run("ZRANGEBYLEX l - + WITHSCORES"),
            "-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"
        );
        assert_eq!(k.run("ZRANGESTORE dst z 1 -1"), ":3\r\n");
        assert_eq!(k.run("ZRANGE dst 0 -1"), bulks(&["b", "c", "d"]));
        assert_eq!(
            k.run("ZRANGESTORE dst z 1 -1 WITHSCORES"),
            "-ERR syntax error\r\n"
        );
        assert_eq!(k.run("ZRANGESTORE dst nope 0 -1"), ":0\r\n");
        assert_eq!(k.run("EXISTS dst"), ":0\r\n");
        k.proto = Protocol::Resp3;
        assert_eq!(
            k.run("ZRANGE z 0 0 WITHSCORES"),
            "*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
        );
    }

    #[test]
    fn removals_and_pops() {
        let mut k = Kit::new();
        k.run("ZADD z 1 a 2 b 3 c 4 d 5 e");
        assert_eq!(k.run("ZREMRANGEBYSCORE z (4 +inf"), ":1\r\n");
        assert_eq!(k.run("ZREMRANGEBYRANK z 0 0"), ":1\r\n");
        assert_eq!(k.run("ZREMRANGEBYLEX z [b [b"), ":1\r\n");
        assert_eq!(k.run("ZRANGE z 0 -1"), bulks(&["c", "d"]));
        assert_eq!(k.run("ZPOPMIN z"), bulks(&["c", "3"]));
        assert_eq!(k.run("ZPOPMAX z 5"), bulks(&["d", "4"]));
        assert_eq!(k.run("EXISTS z"), ":0\r\n");
        assert_eq!(k.run("ZPOPMIN z"), "*0\r\n");
        assert_eq!(
            k.run("ZPOPMIN z -1"),
            "-ERR value is out of range, must be positive\r\n"
        );
        k.run("ZADD z 1 a 2 b");
        assert_eq!(k.run("ZREM z a x"), ":1\r\n");
        assert_eq!(k.run("ZCARD z"), ":1\r\n");
        k.run("ZADD q 1 a 2 b");
        assert_eq!(
            k.run("ZMPOP 2 nope q MAX COUNT 5"),
            "*2\r\n$1\r\nq\r\n*2\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
        );
        assert_eq!(k.propagated(), vec!["ZPOPMAX q 2".to_string()]);
        assert_eq!(k.run("ZMPOP 1 q MIN"), "*-1\r\n");
        assert_eq!(
            k.run("ZMPOP 1 q MIN COUNT 0"),
            "-ERR count should be greater than 0\r\n"
        );
        k.proto = Protocol::Resp3;
        k.run("ZADD r 1 a 2 b");
        assert_eq!(k.run("ZPOPMIN r"), "*2\r\n$1\r\na\r\n,1\r\n");
        assert_eq!(k.run("ZPOPMIN r 1"), "*1\r\n*2\r\n$1\r\nb\r\n,2\r\n");
    }

    #[test]
    fn blocking_pops() {
        let mut k = Kit::new();
        assert_eq!(k.run("BZPOPMIN a b 0"), "");
        assert_eq!(k.block.take().unwrap().keys.len(), 2);
        k.run("ZADD b 1 x 2 y");
        assert_eq!(k.ready, vec![b"b".to_vec()]);
        k.run("ZADD b 1 x");
        assert!(k.ready.is_empty());
        k.run("ZUNIONSTORE u 1 b");
        assert_eq!(k.ready, vec![b"u".to_vec()]);
        assert_eq!(k.run("BZPOPMAX a b 0"), bulks(&["b", "y", "2"]));
        assert_eq!(k.propagated(), vec!["ZPOPMAX b".to_string()]);
        assert_eq!(
            k.run("BZMPOP 0 1 b MIN"),
            "*2\r\n$1\r\nb\r\n*1\r\n*2\r\n$1\r\nx\r\n$1\r\n1\r\n"
        );
        assert_eq!(k.run("BZMPOP 0 1 b MIN"), "");
        assert!(k.block.take().is_some());
        assert_eq!(k.run("BZPOPMIN a -1"), "-ERR timeout is negative\r\n");
        k.in_multi = true;
        assert_eq!(k.run("BZPOPMIN a 0"), "*-1\r\n");
        assert_eq!(k.run("BZMPOP 0 1 a MIN"), "*-1\r\n");
    }

    #[test]
    fn algebra() {
        let mut k = Kit::new();
        k.run("ZADD a 1 x 2 y");
        k.run("ZADD b 10 y 20 z");
        k.run("SADD s x");
        assert_eq!(
            k.run("ZUNION 2 a b WITHSCORES"),
            bulks(&["x", "1", "y", "12", "z", "20"])
        );
        assert_eq!(
            k.run("ZINTER 2 a b WITHSCORES AGGREGATE MAX"),
            bulks(&["y", "10"])
        );
        assert_eq!(
            k.run("ZINTER 2 a s WITHSCORES WEIGHTS 2 3"),
            bulks(&["x", "5"])
        );
        assert_eq!(k.run("ZDIFF 2 a b"), bulks(&["x"]));
        assert_eq!(k.run("ZUNIONSTORE d 2 a b WEIGHTS 1 0"), ":3\r\n");
        assert_eq!(
            k.run("ZRANGE d 0 -1 WITHSCORES"),
            bulks(&["z", "0", "x", "1", "y", "2"])
        );
        assert_eq!(k.run("ZINTERSTORE d 2 a nope"), ":0\r\n");
        assert_eq!(k.run("EXISTS d"), ":0\r\n");
        assert_eq!(k.run("ZDIFFSTORE d 1 b"), ":2\r\n");
        assert_eq!(k.run("ZINTERCARD 2 a b"), ":1\r\n");
        assert_eq!(
            k.run("ZUNION 0 a"),
            "-ERR at least 1 input key is needed for 'zunion' command\r\n"
        );
        assert_eq!(k.run("ZUNION 3 a"), "-ERR syntax error\r\n");
        assert_eq!(
            k.run("ZUNION 1 a WEIGHTS x"),
            "-ERR weight value is not a float\r\n"
        );
        assert_eq!(k.run("ZUNION 1 a AGGREGATE foo"), "-ERR syntax error\r\n");
        assert_eq!(
            k.run("ZUNIONSTORE d 1 a WITHSCORES"),
            "-ERR syntax error\r\n"
        );
        k.run("SET str v");
        assert!(k.run("ZUNION 2 a str").starts_with("-WRONGTYPE"));
    }

    #[test]
    fn random_and_scan() {
        let mut k = Kit::new();
        assert_eq!(k.run("ZRANDMEMBER nope"), "$-1\r\n");
        assert_eq!(k.run("ZRANDMEMBER nope 2"), "*0\r\n");
        k.run("ZADD z 1.5 a");
        assert_eq!(
            k.run("ZRANDMEMBER z -2 WITHSCORES"),
            bulks(&["a", "1.5", "a", "1.5"])
        );
        assert_eq!(k.run("ZRANDMEMBER z 5"), bulks(&["a"]));
        assert_eq!(
            k.run("ZSCAN z 0"),
            "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$3\r\n1.5\r\n"
        );
    }

    #[test]
    fn large_encoding_behaves_the_same() {
        let mut k = Kit::new();
        for i in 0..300 {
            k.run(&format!("ZADD z {} m{:03}", i % 7, i));
        }
        let enc = {
            let g = k.ks.lock_key(b"z");
            g.db(0).unwrap().get(b"z").unwrap().value.encoding()
        };
        assert_eq!(enc, "skiplist");
        assert_eq!(k.run("ZCARD z"), ":300\r\n");
        assert_eq!(k.run("ZCOUNT z 3 (4"), ":43\r\n");
        assert_eq!(k.run("ZRANGE z 0 1"), bulks(&["m000", "m007"]));
        assert_eq!(k.run("ZRANK z m007"), ":1\r\n");
        assert_eq!(k.run("ZREVRANGE z 0 0"), bulks(&["m293"]));
        assert_eq!(k.run("ZREMRANGEBYSCORE z 0 5"), ":258\r\n");
        assert_eq!(k.run("ZCARD z"), ":42\r\n");
    }
}

//! Sorted sets: a `listpack` (one packed buffer of member, score pairs kept
//! in (score, member) order) while small, else `skiplist`: a member → score
//! map plus an [`OrderTree`] giving O(log n) rank, select and range starts.
//! Like Redis, a sorted set never converts back on its own.

use super::index_map::IndexMap;
use super::order_tree::{cmp_entry, OrderTree};
use super::packed::{Packed, PackedBuilder};
use super::Limits;

#[derive(Debug, Clone, PartialEq)]
pub enum ZSetValue {
    /// Member entry then an 8-byte little-endian score entry, ascending; and the count.
    Listpack(Packed, u32),
    SkipList(Box<Ranked>),
}

/// The large encoding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ranked {
    scores: IndexMap<f64>,
    order: OrderTree,
}

impl Default for ZSetValue {
    fn default() -> Self {
        ZSetValue::Listpack(Packed::new(), 0)
    }
}

/// Score entries: 8 bytes are an f64; 1..=7 bytes are a little-endian
/// signed integer (most scores are small integers, and this keeps them at
/// one or two bytes as Redis's listpack integer encodings do). Like Redis's
/// listpack, which stores scores as text, -0 is stored (and read back) as 0.
fn encode_score(score: f64) -> ([u8; 8], usize) {
    const INT_LIMIT: f64 = (1u64 << 55) as f64;
    let integral = score.fract() == 0.0 && score.abs() < INT_LIMIT;
    if integral {
        let v = score as i64;
        let n = (1..=7)
            .find(|&n| {
                let bits = 8 * n as u32;
                let min = -(1i64 << (bits - 1));
                let max = (1i64 << (bits - 1)) - 1;
                (min..=max).contains(&v)
            })
            .expect("|v| < 2^55 fits in 7 bytes");
        (v.to_le_bytes(), n)
    } else {
        (score.to_le_bytes(), 8)
    }
}

fn decode_score(b: &[u8]) -> f64 {
    if b.len() == 8 {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        return f64::from_le_bytes(a);
    }
    debug_assert!((1..=7).contains(&b.len()));
    // Sign-extend from the top byte.
    let fill = if b.last().is_some_and(|&x| x & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut a = [fill; 8];
    a[..b.len()].copy_from_slice(b);
    i64::from_le_bytes(a) as f64
}

/// Iterates a listpack's (member, score) pairs.
fn packed_pairs(p: &Packed) -> impl Iterator<Item = (&[u8], f64)> + '_ {
    let mut it = p.iter();
    std::iter::from_fn(move || {
        let m = it.next()?;
        let s = it.next()?;
        Some((m, decode_score(s)))
    })
}

impl ZSetValue {
    pub fn new() -> ZSetValue {
        ZSetValue::default()
    }

    /// An empty set in the encoding Redis's `zsetTypeCreate` picks for an
    /// expected `len` members of at most `max_member_len` bytes: the
    /// skiplist straight away when they will not fit a listpack. (It matters
    /// beyond speed: a listpack stores -0 as 0, a skiplist keeps it.)
    pub fn for_size(len: usize, max_member_len: usize, limits: &Limits) -> ZSetValue {
        if len > limits.zset_max_listpack_entries || max_member_len > limits.zset_max_listpack_value
        {
            ZSetValue::SkipList(Box::default())
        } else {
            ZSetValue::default()
        }
    }

    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Listpack(_, n) => *n as usize,
            ZSetValue::SkipList(r) => r.scores.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(..) => "listpack",
            ZSetValue::SkipList(_) => "skiplist",
        }
    }

    /// (member offset, end offset of its score entry, score).
    fn find_packed(p: &Packed, member: &[u8]) -> Option<(usize, usize, f64)> {
        let mut off = 0;
        while off < p.end_offset() {
            let (m, soff) = p.entry_at(off);
            let (s, next) = p.entry_at(soff);
            if m == member {
                return Some((off, next, decode_score(s)));
            }
            off = next;
        }
        None
    }

    /// Sets `member`'s score with the process's limits; true if the member is new.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        self.insert_with(member, score, &super::limits())
    }

    /// Sets `member`'s score, converting past `limits`; true if the member is new.
    pub fn insert_with(&mut self, member: &[u8], score: f64, limits: &Limits) -> bool {
        debug_assert!(!score.is_nan());
        if let ZSetValue::Listpack(p, n) = self {
            let existing = ZSetValue::find_packed(p, member);
            let fits = member.len() <= limits.zset_max_listpack_value
                && (existing.is_some() || (*n as usize) < limits.zset_max_listpack_entries);
            if fits {
                if let Some((off, end, old)) = existing {
                    if old == score {
                        return false;
                    }
                    p.remove_range(off, end);
                    *n -= 1;
                }
                let mut at = p.end_offset();
                let mut off = 0;
                while off < p.end_offset() {
                    let (m, soff) = p.entry_at(off);
                    let (s, next) = p.entry_at(soff);
                    if cmp_entry(decode_score(s), m, score, member).is_gt() {
                        at = off;
                        break;
                    }
                    off = next;
                }
                let (bytes, width) = encode_score(score);
                p.insert_at(at, &bytes[..width]);
                p.insert_at(at, member);
                *n += 1;
                return existing.is_none();
            }
            self.convert_to_skiplist();
        }
        match self {
            ZSetValue::SkipList(r) => match r.scores.insert_value(member, score) {
                Some(prev) => {
                    if prev != score {
                        r.order.remove(member, prev);
                        r.order.insert(member, score);
                    }
                    false
                }
                None => {
                    r.order.insert(member, score);
                    true
                }
            },
            ZSetValue::Listpack(..) => unreachable!("converted above"),
        }
    }

    /// Read-modify-write of `member`'s score with one member lookup on the
    /// large encoding (ZADD's flags and INCR need the current score):
    /// `decide` gets the current score (None if absent) and returns the new
    /// one, or None to leave the set as it is. Returns the score before.
    pub fn update_with(
        &mut self,
        member: &[u8],
        limits: &Limits,
        decide: impl FnOnce(Option<f64>) -> Option<f64>,
    ) -> Option<f64> {
        let ZSetValue::SkipList(r) = self else {
            let cur = self.score(member);
            if let Some(new) = decide(cur) {
                debug_assert!(!new.is_nan());
                if cur != Some(new) {
                    self.insert_with(member, new, limits);
                }
            }
            return cur;
        };
        let Ranked { scores, order } = &mut **r;
        match scores.get_mut(member) {
            Some(slot) => {
                let cur = *slot;
                if let Some(new) = decide(Some(cur)).filter(|&new| new != cur) {
                    debug_assert!(!new.is_nan());
                    *slot = new;
                    let found = order.remove(member, cur);
                    debug_assert!(found, "the order tree holds every member");
                    order.insert(member, new);
                }
                Some(cur)
            }
            None => {
                if let Some(new) = decide(None) {
                    debug_assert!(!new.is_nan());
                    scores.insert_value(member, new);
                    order.insert(member, new);
                }
                None
            }
        }
    }

    fn convert_to_skiplist(&mut self) {
        if let ZSetValue::Listpack(p, n) = self {
            let mut r = Ranked {
                scores: IndexMap::with_capacity(*n as usize + 1),
                order: OrderTree::new(),
            };
            for (m, s) in packed_pairs(p) {
                r.scores.insert_value(m, s);
                r.order.insert(m, s);
            }
            *self = ZSetValue::SkipList(Box::new(r));
        }
    }

    pub fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(p, _) => ZSetValue::find_packed(p, member).map(|(_, _, s)| s),
            ZSetValue::SkipList(r) => r.scores.get(member).copied(),
        }
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            ZSetValue::Listpack(p, n) => match ZSetValue::find_packed(p, member) {
                Some((off, end, _)) => {
                    p.remove_range(off, end);
                    *n -= 1;
                    true
                }
                None => false,
            },
            ZSetValue::SkipList(r) => match r.scores.get(member).copied() {
                Some(s) => {
                    r.scores.remove(member);
                    r.order.remove(member, s);
                    true
                }
                None => false,
            },
        }
    }

    /// 0-based ascending rank of `member`.
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        match self {
            ZSetValue::Listpack(p, _) => packed_pairs(p).position(|(m, _)| m == member),
            ZSetValue::SkipList(r) => {
                let s = *r.scores.get(member)?;
                Some(
                    r.order
                        .count_while(|ts, tm| cmp_entry(ts, tm, s, member).is_lt()),
                )
            }
        }
    }

    /// How many leading (ascending) pairs satisfy `pred`, which must hold
    /// for a prefix of the order (e.g. "score < min").
    pub fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        match self {
            ZSetValue::Listpack(p, _) => packed_pairs(p).take_while(|(m, s)| pred(*s, m)).count(),
            ZSetValue::SkipList(r) => r.order.count_while(pred),
        }
    }

    /// Ascending pairs from rank `start` on.
    pub fn iter_from(&self, start: usize) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        match self {
            ZSetValue::Listpack(p, _) => Box::new(packed_pairs(p).skip(start)),
            ZSetValue::SkipList(r) => Box::new(r.order.iter_from(start)),
        }
    }

    /// True while in the compact (listpack) encoding.
    pub fn is_compact(&self) -> bool {
        matches!(self, ZSetValue::Listpack(..))
    }

    /// The pair at position `i` of the member table (not rank order); O(1)
    /// in the skiplist encoding. ZSCAN pages through these positions.
    pub fn table_entry_at(&self, i: usize) -> Option<(&[u8], f64)> {
        match self {
            ZSetValue::Listpack(..) => self.iter_from(i).next(),
            ZSetValue::SkipList(r) => r.scores.entry_at(i).map(|(m, s)| (m, *s)),
        }
    }

    /// (member, score) pairs in ascending (score, member) order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], f64)> + '_> {
        self.iter_from(0)
    }
}

/// Appends `member` and `score` in the listpack form's layout, for
/// building a [`ZSetValue::Listpack`] in one go: the caller pushes pairs
/// in ascending (score, member) order with unique members.
pub fn push_packed_pair(b: &mut PackedBuilder, member: &[u8], score: f64) {
    debug_assert!(!score.is_nan());
    let (bytes, width) = encode_score(score);
    b.push(member);
    b.push(&bytes[..width]);
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn packed_pairs_built_in_order_equal_inserts() {
        let mut inserted = ZSetValue::new();
        let mut b = PackedBuilder::default();
        for (m, sc) in [(&b"b"[..], -0.0), (b"a", 1.5), (b"c", 1.5), (b"d", 1e300)] {
            inserted.insert(m, sc);
            push_packed_pair(&mut b, m, sc);
        }
        assert_eq!(ZSetValue::Listpack(b.finish(), 4), inserted);
    }

    #[test]
    fn update_with_sees_the_current_score_in_both_encodings() {
        let limits = Limits {
            zset_max_listpack_entries: 2,
            ..super::super::limits()
        };
        let mut z = ZSetValue::new();
        for (i, m) in [&b"a"[..], b"b", b"c"].into_iter().enumerate() {
            assert_eq!(
                z.update_with(m, &limits, |cur| cur.or(Some(i as f64))),
                None
            );
        }
        assert_eq!(z.encoding(), "skiplist");
        let mut z_small = ZSetValue::new();
        z_small.update_with(b"a", &super::super::limits(), |_| Some(0.0));
        for z in [&mut z, &mut z_small] {
            // Declining leaves the set alone; the previous score comes back.
            assert_eq!(z.update_with(b"a", &limits, |_| None), Some(0.0));
            assert_eq!(
                z.update_with(b"a", &limits, |cur| cur.map(|s| s + 10.0)),
                Some(0.0)
            );
            assert_eq!(z.score(b"a"), Some(10.0));
            assert_eq!(
                z.iter().last().map(|(m, _)| m.to_vec()),
                Some(b"a".to_vec())
            );
            assert_eq!(z.update_with(b"zz", &limits, |_| None), None);
            assert_eq!(z.score(b"zz"), None);
        }
        assert_eq!(z.rank(b"a"), Some(2));
    }

    #[test]
    fn converts_at_thresholds() {
        let limits = Limits {
            zset_max_listpack_entries: 3,
            zset_max_listpack_value: 4,
            ..Limits::default()
        };
        let mut z = ZSetValue::new();
        assert!(z.insert_with(b"c", 1.0, &limits));
        assert!(z.insert_with(b"a", 2.0, &limits));
        assert!(z.insert_with(b"b", 1.0, &limits));
        assert!(!z.insert_with(b"a", 0.5, &limits));
        assert_eq!(z.encoding(), "listpack");
        let order: Vec<_> = z.iter().map(|(m, s)| (m.to_vec(), s)).collect();
        assert_eq!(
            order,
            vec![
                (b"a".to_vec(), 0.5),
                (b"b".to_vec(), 1.0),
                (b"c".to_vec(), 1.0)
            ]
        );
        assert!(z.insert_with(b"d", 0.0, &limits));
        assert_eq!(z.encoding(), "skiplist");
        assert_eq!(z.rank(b"d"), Some(0));
        assert_eq!(z.rank(b"c"), Some(3));
        let mut z = ZSetValue::new();
        z.insert_with(b"long!", 1.0, &limits);
        assert_eq!(z.encoding(), "skiplist");
    }

    #[test]
    fn score_encoding_round_trips() {
        for s in [
            0.0,
            1.0,
            -1.0,
            127.0,
            128.0,
            -129.0,
            1.5,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            (1u64 << 55) as f64,
            -((1u64 << 54) as f64),
            36028797018963967.0,
        ] {
            let (b, n) = encode_score(s);
            let back = decode_score(&b[..n]);
            assert_eq!(back.to_bits(), s.to_bits(), "{s}");
        }
        assert_eq!(encode_score(5.0).1, 1);
        assert_eq!(
            decode_score(&encode_score(-0.0).0[..1]).to_bits(),
            0.0f64.to_bits()
        );
        assert_eq!(encode_score(1000.0).1, 2);
    }

    proptest! {
        #[test]
        fn scores_round_trip(s in any::<f64>().prop_filter("not nan", |s| !s.is_nan())) {
            let (b, n) = encode_score(s);
            // -0 reads back as 0, as from Redis's listpack.
            prop_assert_eq!(decode_score(&b[..n]).to_bits(), (s + 0.0).to_bits());
        }

        #[test]
        fn model(ops in proptest::collection::vec((any::<bool>(), 0u8..20, -4i32..4), 0..120)) {
            let limits = Limits { zset_max_listpack_entries: 8, ..Limits::default() };
            let mut z = ZSetValue::new();
            let mut m: std::collections::HashMap<Vec<u8>, f64> = Default::default();
            for (ins, mem, sc) in ops {
                let member = vec![b'a' + mem];
                if ins {
                    prop_assert_eq!(z.insert_with(&member, sc as f64, &limits), m.insert(member.clone(), sc as f64).is_none());
                } else {
                    prop_assert_eq!(z.remove(&member), m.remove(&member).is_some());
                }
                let mut want: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
                want.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
                let got: Vec<(Vec<u8>, f64)> = z.iter().map(|(k, v)| (k.to_vec(), v)).collect();
                prop_assert_eq!(&got, &want);
                for (i, (k, v)) in want.iter().enumerate() {
                    prop_assert_eq!(z.rank(k), Some(i));
                    prop_assert_eq!(z.score(k), Some(*v));
                }
                prop_assert_eq!(z.count_while(|s, _| s < 1.0), want.iter().filter(|e| e.1 < 1.0).count());
            }
        }
    }
}

//! Sets: an `intset` while every member is a canonical integer and there are
//! at most `set-max-intset-entries` of them (Redis 7.0 has no listpack sets),
//! else a `hashtable`. Like Redis, a set never converts back.

use std::borrow::Cow;

use super::index_map::IndexSet;
use super::intset::IntSet;
use super::Limits;
use crate::util::parse_canonical_i64;
use crate::value::itoa_buf;
use crate::value::ByteStr;

#[derive(Debug, Clone, PartialEq)]
pub enum SetValue {
    Ints(IntSet),
    /// Boxed so the compact form sets the enum's size (24 bytes).
    Table(Box<IndexSet>),
}

impl Default for SetValue {
    fn default() -> Self {
        SetValue::Ints(IntSet::new())
    }
}

fn int_bytes(i: i64) -> ByteStr {
    ByteStr::from_slice(itoa_buf::Buf::new().format(i))
}

impl SetValue {
    pub fn new() -> SetValue {
        SetValue::default()
    }

    pub fn len(&self) -> usize {
        match self {
            SetValue::Ints(s) => s.len(),
            SetValue::Table(t) => t.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            SetValue::Ints(_) => "intset",
            SetValue::Table(_) => "hashtable",
        }
    }

    /// Adds `member` with the process's limits; true if it was not there.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        self.insert_with(member, &super::limits())
    }

    /// Adds `member`, converting to a hash table past `limits`; true if new.
    pub fn insert_with(&mut self, member: &[u8], limits: &Limits) -> bool {
        if let SetValue::Ints(s) = self {
            if let Some(i) = parse_canonical_i64(member) {
                if s.contains(i) {
                    return false;
                }
                if s.len() < limits.set_max_intset_entries {
                    return s.insert(i);
                }
            }
            self.convert_to_table();
        }
        match self {
            SetValue::Table(t) => t.insert(member),
            SetValue::Ints(_) => unreachable!("converted above"),
        }
    }

    fn convert_to_table(&mut self) {
        if let SetValue::Ints(s) = self {
            let mut t = IndexSet::with_capacity(s.len() + 1);
            for i in s.iter() {
                t.insert(&int_bytes(i));
            }
            *self = SetValue::Table(Box::new(t));
        }
    }

    pub fn contains(&self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(s) => parse_canonical_i64(member).is_some_and(|i| s.contains(i)),
            SetValue::Table(t) => t.contains(member),
        }
    }

    /// Removes `member`; true if it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match self {
            SetValue::Ints(s) => parse_canonical_i64(member).is_some_and(|i| s.remove(i)),
            SetValue::Table(t) => t.remove(member),
        }
    }

    /// Members (intsets in ascending order; integers formatted in decimal).
    pub fn iter(&self) -> Box<dyn Iterator<Item = Cow<'_, [u8]>> + '_> {
        match self {
            SetValue::Ints(s) => Box::new(s.iter().map(|i| Cow::Owned(int_bytes(i).to_vec()))),
            SetValue::Table(t) => Box::new(t.iter().map(Cow::Borrowed)),
        }
    }

    /// True while in the compact (intset) encoding.
    pub fn is_compact(&self) -> bool {
        matches!(self, SetValue::Ints(..))
    }

    /// The member at position `i` of [`SetValue::iter`] order, in O(1)
    /// (random picks: SPOP, SRANDMEMBER).
    pub fn nth(&self, i: usize) -> Option<ByteStr> {
        match self {
            SetValue::Ints(s) => (i < s.len()).then(|| int_bytes(s.get(i))),
            SetValue::Table(t) => t.get_index(i).map(ByteStr::from_slice),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn converts_on_non_integer_and_count() {
        let limits = Limits {
            set_max_intset_entries: 3,
            ..Limits::default()
        };
        let mut s = SetValue::new();
        for m in [&b"1"[..], b"-2", b"3"] {
            assert!(s.insert_with(m, &limits));
        }
        assert!(!s.insert_with(b"3", &limits));
        assert_eq!(s.encoding(), "intset");
        assert!(s.insert_with(b"4", &limits));
        assert_eq!(s.encoding(), "hashtable");
        let mut s = SetValue::new();
        s.insert_with(b"1", &limits);
        s.insert_with(b"01", &limits);
        assert_eq!(s.encoding(), "hashtable");
        assert!(s.contains(b"01") && s.contains(b"1"));
    }

    proptest! {
        #[test]
        fn model(ops in proptest::collection::vec((any::<bool>(), prop_oneof![(0i64..20).prop_map(|i| i.to_string()), "[a-c0]{1,2}"]), 0..80)) {
            let limits = Limits { set_max_intset_entries: 8, ..Limits::default() };
            let mut s = SetValue::new();
            let mut m = std::collections::HashSet::new();
            for (ins, v) in ops {
                if ins { prop_assert_eq!(s.insert_with(v.as_bytes(), &limits), m.insert(v.clone())); }
                else { prop_assert_eq!(s.remove(v.as_bytes()), m.remove(&v)); }
                prop_assert_eq!(s.len(), m.len());
                let mut got: Vec<Vec<u8>> = s.iter().map(|c| c.into_owned()).collect();
                got.sort();
                let mut want: Vec<Vec<u8>> = m.iter().map(|x| x.as_bytes().to_vec()).collect();
                want.sort();
                prop_assert_eq!(got, want);
            }
        }
    }
}

//! A hash set whose members also sit in a dense array, so a uniformly
//! random member is one index away (SPOP, SRANDMEMBER on large sets are
//! O(1) per pick instead of a walk over the table). Removal swaps the last
//! member into the hole, keeping the array dense.

use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use crate::value::ByteStr;

#[derive(Clone, Default)]
pub struct IndexSet {
    members: Vec<ByteStr>,
    /// Indexes into `members`, hashed by the member they point at.
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl std::fmt::Debug for IndexSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.members.iter()).finish()
    }
}

impl PartialEq for IndexSet {
    fn eq(&self, other: &IndexSet) -> bool {
        self.len() == other.len() && self.members.iter().all(|m| other.contains(m))
    }
}

impl IndexSet {
    pub fn with_capacity(n: usize) -> IndexSet {
        IndexSet {
            members: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        let h = self.hasher.hash_one(m);
        self.table
            .find(h, |&i| self.members[i as usize].as_slice() == m)
            .is_some()
    }

    /// Adds `m`; true if it was not there.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        let IndexSet {
            members,
            table,
            hasher,
        } = self;
        let h = hasher.hash_one(m);
        match table.entry(
            h,
            |&i| members[i as usize].as_slice() == m,
            |&i| hasher.hash_one(members[i as usize].as_slice()),
        ) {
            TableEntry::Occupied(_) => false,
            TableEntry::Vacant(v) => {
                v.insert(members.len() as u32);
                members.push(ByteStr::from_slice(m));
                true
            }
        }
    }

    /// Removes `m`; true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        let h = self.hasher.hash_one(m);
        let members = &self.members;
        let Ok(found) = self
            .table
            .find_entry(h, |&i| members[i as usize].as_slice() == m)
        else {
            return false;
        };
        let (idx, _) = found.remove();
        let last = (self.members.len() - 1) as u32;
        if idx != last {
            let lh = self.hasher.hash_one(self.members[last as usize].as_slice());
            let slot = self
                .table
                .find_mut(lh, |&i| i == last)
                .expect("every member has a table entry");
            *slot = idx;
        }
        self.members.swap_remove(idx as usize);
        debug_assert_eq!(self.members.len(), self.table.len());
        true
    }

    /// The member at dense position `i`.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.members.get(i).map(|m| m.as_slice())
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.members.iter().map(|m| m.as_slice())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn model(ops in proptest::collection::vec((any::<bool>(), 0u8..40), 0..300)) {
            let mut s = IndexSet::default();
            let mut m = std::collections::HashSet::new();
            for (ins, v) in ops {
                let key = vec![v; (v % 20) as usize];
                if ins { prop_assert_eq!(s.insert(&key), m.insert(key.clone())); }
                else { prop_assert_eq!(s.remove(&key), m.remove(&key)); }
                prop_assert_eq!(s.len(), m.len());
                for k in &m { prop_assert!(s.contains(k)); }
                let mut got: Vec<Vec<u8>> = (0..s.len()).map(|i| s.get(i).unwrap().to_vec()).collect();
                got.sort();
                let mut want: Vec<Vec<u8>> = m.iter().cloned().collect();
                want.sort();
                prop_assert_eq!(got, want);
            }
        }
    }
}

//! A hash map whose entries also sit in a dense array, so a uniformly
//! random entry is one index away (SPOP, SRANDMEMBER, HRANDFIELD on large
//! collections are O(1) per pick instead of a walk over the table). Removal
//! swaps the last entry into the hole, keeping the array dense. With `()`
//! values it is the large set encoding ([`IndexSet`]).

use hashbrown::hash_table::Entry as TableEntry;
use hashbrown::{DefaultHashBuilder, HashTable};
use std::hash::BuildHasher;

use crate::value::ByteStr;

#[derive(Clone)]
pub struct IndexMap<V> {
    members: Vec<(ByteStr, V)>,
    /// Indexes into `members`, hashed by the key they point at.
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

/// The large set encoding.
pub type IndexSet = IndexMap<()>;

impl<V> Default for IndexMap<V> {
    fn default() -> Self {
        IndexMap {
            members: Vec::new(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
        }
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for IndexMap<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.members.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl<V: PartialEq> PartialEq for IndexMap<V> {
    fn eq(&self, other: &IndexMap<V>) -> bool {
        self.len() == other.len()
            && self
                .members
                .iter()
                .all(|(k, v)| other.get(k).is_some_and(|o| o == v))
    }
}

impl IndexMap<()> {
    /// Adds `m`; true if it was not there.
    pub fn insert(&mut self, m: &[u8]) -> bool {
        self.insert_value(m, ()).is_none()
    }

    /// The member at dense position `i`.
    pub fn get_index(&self, i: usize) -> Option<&[u8]> {
        self.members.get(i).map(|(m, _)| m.as_slice())
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.members.iter().map(|(m, _)| m.as_slice())
    }
}

impl<V> IndexMap<V> {
    pub fn with_capacity(n: usize) -> IndexMap<V> {
        IndexMap {
            members: Vec::with_capacity(n),
            table: HashTable::with_capacity(n),
            hasher: DefaultHashBuilder::default(),
        }
    }

    fn position(&self, m: &[u8]) -> Option<usize> {
        let h = self.hasher.hash_one(m);
        self.table
            .find(h, |&i| self.members[i as usize].0.as_slice() == m)
            .map(|&i| i as usize)
    }

    pub fn get(&self, m: &[u8]) -> Option<&V> {
        self.position(m).map(|i| &self.members[i].1)
    }

    pub fn get_mut(&mut self, m: &[u8]) -> Option<&mut V> {
        self.position(m).map(|i| &mut self.members[i].1)
    }

    /// The entry at dense position `i`.
    pub fn entry_at(&self, i: usize) -> Option<(&[u8], &V)> {
        self.members.get(i).map(|(k, v)| (k.as_slice(), v))
    }

    pub fn entries(&self) -> impl Iterator<Item = (&[u8], &V)> + '_ {
        self.members.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Sets `m` to `value`; returns the previous value.
    pub fn insert_value(&mut self, m: &[u8], value: V) -> Option<V> {
        let IndexMap {
            members,
            table,
            hasher,
        } = self;
        let h = hasher.hash_one(m);
        match table.entry(
            h,
            |&i| members[i as usize].0.as_slice() == m,
            |&i| hasher.hash_one(members[i as usize].0.as_slice()),
        ) {
            TableEntry::Occupied(o) => {
                let slot = &mut members[*o.get() as usize].1;
                Some(std::mem::replace(slot, value))
            }
            TableEntry::Vacant(v) => {
                v.insert(members.len() as u32);
                members.push((ByteStr::from_slice(m), value));
                None
            }
        }
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn contains(&self, m: &[u8]) -> bool {
        self.position(m).is_some()
    }

    /// Removes `m`; true if it was there.
    pub fn remove(&mut self, m: &[u8]) -> bool {
        let h = self.hasher.hash_one(m);
        let members = &self.members;
        let Ok(found) = self
            .table
            .find_entry(h, |&i| members[i as usize].0.as_slice() == m)
        else {
            return false;
        };
        let (idx, _) = found.remove();
        let last = (self.members.len() - 1) as u32;
        if idx != last {
            let lh = self
                .hasher
                .hash_one(self.members[last as usize].0.as_slice());
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
            let mut map: IndexMap<u8> = IndexMap::default();
            let mut m = std::collections::HashSet::new();
            for (ins, v) in ops {
                let key = vec![v; (v % 20) as usize];
                if ins {
                    prop_assert_eq!(s.insert(&key), m.insert(key.clone()));
                    map.insert_value(&key, v);
                } else {
                    prop_assert_eq!(s.remove(&key), m.remove(&key));
                    map.remove(&key);
                }
                prop_assert_eq!(map.len(), m.len());
                for k in &m {
                    match k.first() {
                        Some(first) => prop_assert_eq!(map.get(k), Some(first)),
                        None => prop_assert!(map.get(k).is_some()),
                    }
                }
                prop_assert_eq!(s.len(), m.len());
                for k in &m { prop_assert!(s.contains(k)); }
                let mut got: Vec<Vec<u8>> = (0..s.len()).map(|i| s.get_index(i).unwrap().to_vec()).collect();
                got.sort();
                let mut want: Vec<Vec<u8>> = m.iter().cloned().collect();
                want.sort();
                prop_assert_eq!(got, want);
            }
        }
    }
}

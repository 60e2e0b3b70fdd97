//! Hashes: a `listpack` (one packed buffer of alternating field and value
//! entries) while small, a `hashtable` once a field count or a field/value
//! length passes the [`Limits`]. Like Redis, a hash never converts back.

use super::index_map::IndexMap;
use super::packed::Packed;
use super::Limits;
use crate::value::ByteStr;

#[derive(Debug, Clone, PartialEq)]
pub enum HashValue {
    /// Alternating field, value entries (fields unique), and the field count.
    Listpack(Packed, u32),
    /// Boxed so the compact form sets the enum's size (24 bytes).
    Table(Box<IndexMap<ByteStr>>),
}

impl Default for HashValue {
    fn default() -> Self {
        HashValue::Listpack(Packed::new(), 0)
    }
}

impl HashValue {
    pub fn new() -> HashValue {
        HashValue::default()
    }

    pub fn len(&self) -> usize {
        match self {
            HashValue::Listpack(_, n) => *n as usize,
            HashValue::Table(m) => m.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn encoding(&self) -> &'static str {
        match self {
            HashValue::Listpack(..) => "listpack",
            HashValue::Table(_) => "hashtable",
        }
    }

    /// Offset of `field`'s entry and of its value entry in the listpack.
    fn find_packed(p: &Packed, field: &[u8]) -> Option<(usize, usize)> {
        let mut off = 0;
        while off < p.end_offset() {
            let (f, voff) = p.entry_at(off);
            if f == field {
                return Some((off, voff));
            }
            let (_, next) = p.entry_at(voff);
            off = next;
        }
        None
    }

    /// Sets `field` to `value` with the process's limits; true if the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        self.insert_with(field, value, &super::limits())
    }

    /// Sets `field` to `value`, converting to a hash table past `limits`;
    /// true if the field is new.
    pub fn insert_with(&mut self, field: &[u8], value: &[u8], limits: &Limits) -> bool {
        if let HashValue::Listpack(p, n) = self {
            let too_long = field.len() > limits.hash_max_listpack_value
                || value.len() > limits.hash_max_listpack_value;
            if !too_long {
                if let Some((_, voff)) = HashValue::find_packed(p, field) {
                    p.replace_at(voff, value);
                    return false;
                }
                if (*n as usize) < limits.hash_max_listpack_entries {
                    p.push_back(field);
                    p.push_back(value);
                    *n += 1;
                    return true;
                }
            }
            self.convert_to_table();
        }
        match self {
            HashValue::Table(m) => m.insert_value(field, ByteStr::from_slice(value)).is_none(),
            HashValue::Listpack(..) => unreachable!("converted above"),
        }
    }

    fn convert_to_table(&mut self) {
        if let HashValue::Listpack(p, n) = self {
            let mut m = IndexMap::with_capacity(*n as usize + 1);
            let mut it = p.iter();
            while let (Some(f), Some(v)) = (it.next(), it.next()) {
                m.insert_value(f, ByteStr::from_slice(v));
            }
            *self = HashValue::Table(Box::new(m));
        }
    }

    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match self {
            HashValue::Listpack(p, _) => {
                HashValue::find_packed(p, field).map(|(_, voff)| p.entry_at(voff).0)
            }
            HashValue::Table(m) => m.get(field).map(|v| v.as_slice()),
        }
    }

    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// True while in the compact (listpack) encoding.
    pub fn is_compact(&self) -> bool {
        matches!(self, HashValue::Listpack(..))
    }

    /// The (field, value) at position `i` of [`HashValue::iter`] order; O(1)
    /// for hash tables (HRANDFIELD).
    pub fn entry_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        match self {
            HashValue::Listpack(..) => self.iter().nth(i),
            HashValue::Table(m) => m.entry_at(i).map(|(f, v)| (f, v.as_slice())),
        }
    }

    /// Removes `field`; true if it was there.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match self {
            HashValue::Listpack(p, n) => match HashValue::find_packed(p, field) {
                Some((off, voff)) => {
                    let (_, end) = p.entry_at(voff);
                    p.remove_range(off, end);
                    *n -= 1;
                    true
                }
                None => false,
            },
            HashValue::Table(m) => m.remove(field),
        }
    }

    /// (field, value) pairs; listpack hashes in insertion order.
    pub fn iter(&self) -> Box<dyn Iterator<Item = (&[u8], &[u8])> + '_> {
        match self {
            HashValue::Listpack(p, _) => {
                let mut it = p.iter();
                Box::new(std::iter::from_fn(move || Some((it.next()?, it.next()?))))
            }
            HashValue::Table(m) => Box::new(m.entries().map(|(f, v)| (f, v.as_slice()))),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn converts_at_entry_and_value_thresholds() {
        let limits = Limits {
            hash_max_listpack_entries: 4,
            hash_max_listpack_value: 8,
            ..Limits::default()
        };
        let mut h = HashValue::new();
        for i in 0..4 {
            assert!(h.insert_with(format!("f{i}").as_bytes(), b"v", &limits));
        }
        assert_eq!(h.encoding(), "listpack");
        assert!(!h.insert_with(b"f0", b"v2", &limits));
        assert_eq!(h.encoding(), "listpack");
        assert!(h.insert_with(b"f4", b"v", &limits));
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 5);
        assert_eq!(h.get(b"f0"), Some(&b"v2"[..]));

        let mut h = HashValue::new();
        h.insert_with(b"a", b"12345678", &limits);
        assert_eq!(h.encoding(), "listpack");
        h.insert_with(b"a", b"123456789", &limits);
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"123456789"[..]));
    }

    proptest! {
        #[test]
        fn model(ops in proptest::collection::vec((any::<bool>(), 0u8..12, 0usize..12), 0..80)) {
            let limits = Limits { hash_max_listpack_entries: 6, hash_max_listpack_value: 8, ..Limits::default() };
            let mut h = HashValue::new();
            let mut m = std::collections::HashMap::new();
            for (ins, f, vlen) in ops {
                let field = vec![b'a' + f; 1];
                if ins {
                    let v = vec![b'x'; vlen];
                    prop_assert_eq!(h.insert_with(&field, &v, &limits), m.insert(field.clone(), v).is_none());
                } else {
                    prop_assert_eq!(h.remove(&field), m.remove(&field).is_some());
                }
                prop_assert_eq!(h.len(), m.len());
                for (k, v) in &m {
                    prop_assert_eq!(h.get(k), Some(v.as_slice()));
                }
                prop_assert_eq!(h.iter().count(), m.len());
            }
        }
    }
}

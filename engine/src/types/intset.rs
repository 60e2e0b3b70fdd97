//! A sorted array of distinct integers stored at the narrowest width (2, 4
//! or 8 bytes) that fits every member, like Redis's intset: ten small
//! integers take 20 bytes in one allocation.

/// Bytes per member. An enum (not a u8) so `SetValue` can keep its tag in
/// the unused values and stay 24 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
enum Width {
    W2 = 2,
    W4 = 4,
    W8 = 8,
}

/// Sorted distinct integers, little-endian, `width` bytes each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntSet {
    width: Width,
    data: Box<[u8]>,
}

impl Default for IntSet {
    fn default() -> Self {
        IntSet {
            width: Width::W2,
            data: Box::default(),
        }
    }
}

fn width_for(v: i64) -> Width {
    if i16::try_from(v).is_ok() {
        Width::W2
    } else if i32::try_from(v).is_ok() {
        Width::W4
    } else {
        Width::W8
    }
}

impl IntSet {
    pub fn new() -> IntSet {
        IntSet::default()
    }

    pub fn len(&self) -> usize {
        self.data.len() / self.width as usize
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The member at sorted position `i`.
    pub fn get(&self, i: usize) -> i64 {
        let w = self.width as usize;
        let b = &self.data[i * w..(i + 1) * w];
        match w {
            2 => i16::from_le_bytes([b[0], b[1]]) as i64,
            4 => i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64,
            _ => i64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }

    fn put(&mut self, i: usize, v: i64) {
        let w = self.width as usize;
        let bytes = v.to_le_bytes();
        self.data[i * w..(i + 1) * w].copy_from_slice(&bytes[..w]);
    }

    fn search(&self, v: i64) -> Result<usize, usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.get(mid).cmp(&v) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(mid),
            }
        }
        Err(lo)
    }

    pub fn contains(&self, v: i64) -> bool {
        self.search(v).is_ok()
    }

    /// Adds `v`; true if it was not there.
    pub fn insert(&mut self, v: i64) -> bool {
        let need = width_for(v);
        if need > self.width {
            let old: Vec<i64> = self.iter().collect();
            self.width = need;
            self.data = vec![0; old.len() * need as usize].into_boxed_slice();
            for (i, x) in old.into_iter().enumerate() {
                self.put(i, x);
            }
        }
        match self.search(v) {
            Ok(_) => false,
            Err(pos) => {
                let w = self.width as usize;
                let mut data = std::mem::take(&mut self.data).into_vec();
                data.reserve_exact(w);
                let at = pos * w;
                data.splice(at..at, std::iter::repeat_n(0, w));
                self.data = data.into_boxed_slice();
                self.put(pos, v);
                true
            }
        }
    }

    /// Removes `v`; true if it was there.
    pub fn remove(&mut self, v: i64) -> bool {
        match self.search(v) {
            Ok(pos) => {
                let w = self.width as usize;
                let mut data = std::mem::take(&mut self.data).into_vec();
                data.drain(pos * w..(pos + 1) * w);
                self.data = data.into_boxed_slice();
                true
            }
            Err(_) => false,
        }
    }

    /// Members in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widens_on_demand() {
        let mut s = IntSet::new();
        s.insert(5);
        s.insert(-3);
        assert_eq!(s.data.len(), 4);
        s.insert(70000);
        assert_eq!(s.width, Width::W4);
        s.insert(i64::MIN);
        assert_eq!(s.width, Width::W8);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![i64::MIN, -3, 5, 70000]);
    }

    proptest! {
        #[test]
        fn model(ops in proptest::collection::vec((any::<bool>(), prop_oneof![-50i64..50, any::<i64>()]), 0..100)) {
            let mut s = IntSet::new();
            let mut m = std::collections::BTreeSet::new();
            for (ins, v) in ops {
                if ins { prop_assert_eq!(s.insert(v), m.insert(v)); }
                else { prop_assert_eq!(s.remove(v), m.remove(&v)); }
                prop_assert_eq!(s.iter().collect::<Vec<_>>(), m.iter().copied().collect::<Vec<_>>());
            }
        }
    }
}

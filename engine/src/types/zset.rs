//! Sorted sets. Placeholder representation; issue 3 brings listpack and an
//! O(log n) ranked structure.

use crate::value::ByteStr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZSetValue {
    members: Vec<(ByteStr, f64)>,
}

impl ZSetValue {
    pub fn new() -> ZSetValue {
        ZSetValue::default()
    }
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    /// Sets `member`'s score; true if the member is new.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        if let Some(slot) = self
            .members
            .iter_mut()
            .find(|(m, _)| m.as_slice() == member)
        {
            slot.1 = score;
            false
        } else {
            self.members.push((ByteStr::from_slice(member), score));
            true
        }
    }
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.members
            .iter()
            .find(|(m, _)| m.as_slice() == member)
            .map(|(_, s)| *s)
    }
    /// Members in ascending (score, member) order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], f64)> + '_ {
        let mut sorted: Vec<_> = self.members.iter().collect();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        sorted.into_iter().map(|(m, s)| (m.as_slice(), *s))
    }
    pub fn encoding(&self) -> &'static str {
        "skiplist"
    }
}

//! Sets. Placeholder representation; issue 3 brings the intset encoding.

use std::borrow::Cow;

use hashbrown::HashSet;

use crate::value::ByteStr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetValue {
    members: HashSet<ByteStr>,
}

impl SetValue {
    pub fn new() -> SetValue {
        SetValue::default()
    }
    pub fn len(&self) -> usize {
        self.members.len()
    }
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
    /// Adds `member`; true if it was not there.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        self.members.insert(ByteStr::from_slice(member))
    }
    pub fn contains(&self, member: &[u8]) -> bool {
        self.members.contains(member)
    }
    pub fn iter(&self) -> impl Iterator<Item = Cow<'_, [u8]>> + '_ {
        self.members.iter().map(|m| Cow::Borrowed(m.as_slice()))
    }
    pub fn encoding(&self) -> &'static str {
        "hashtable"
    }
}

//! Lists. Placeholder representation; issue 3 brings listpack/quicklist.

use std::collections::VecDeque;

use crate::value::ByteStr;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListValue {
    items: VecDeque<ByteStr>,
}

impl ListValue {
    pub fn new() -> ListValue {
        ListValue::default()
    }
    pub fn len(&self) -> usize {
        self.items.len()
    }
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
    pub fn push_back(&mut self, item: &[u8]) {
        self.items.push_back(ByteStr::from_slice(item));
    }
    pub fn push_front(&mut self, item: &[u8]) {
        self.items.push_front(ByteStr::from_slice(item));
    }
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.items.iter().map(|b| b.as_slice())
    }
    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }
}

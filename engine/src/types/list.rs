//! Lists: a quicklist, i.e. a deque of packed nodes, each holding as many
//! entries as `list-max-listpack-size` allows (a count when positive, a
//! node size of 4..64 KiB when -1..-5). Redis 7.0 reports every list as
//! `quicklist`. Pushes and pops at the ends touch one node; indexing walks
//! node counts, not entries.

use std::collections::VecDeque;

use super::packed::{Packed, PackedBuilder};
use super::Limits;

#[derive(Debug, Clone, Default, PartialEq)]
struct Node {
    entries: Packed,
    count: u32,
}

impl Node {
    /// Byte offset of the entry at local position `i` (or the end).
    fn offset_of(&self, i: usize) -> usize {
        self.entries
            .iter_offsets()
            .nth(i)
            .map_or(self.entries.end_offset(), |(o, _)| o)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListValue {
    nodes: VecDeque<Node>,
    len: usize,
}

/// Node byte limits for `list-max-listpack-size` -1..-5.
const NODE_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];

fn node_has_room(node: &Node, item_len: usize, limits: &Limits) -> bool {
    let size = limits.list_max_listpack_size;
    if size > 0 {
        (node.count as i64) < size
    } else {
        let idx = ((-size).max(1) - 1).min(4) as usize;
        node.entries.byte_len() + Packed::entry_size(item_len) <= NODE_BYTES[idx]
    }
}

impl ListValue {
    pub fn new() -> ListValue {
        ListValue::default()
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn encoding(&self) -> &'static str {
        "quicklist"
    }

    /// Number of quicklist nodes (for tests and DEBUG-style introspection).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn push_back(&mut self, item: &[u8]) {
        self.push_back_with(item, &super::limits());
    }

    pub fn push_front(&mut self, item: &[u8]) {
        self.push_front_with(item, &super::limits());
    }

    pub fn push_back_with(&mut self, item: &[u8], limits: &Limits) {
        match self.nodes.back_mut() {
            Some(n) if node_has_room(n, item.len(), limits) => {
                n.entries.push_back(item);
                n.count += 1;
            }
            _ => {
                let mut n = Node::default();
                n.entries.push_back(item);
                n.count = 1;
                self.nodes.push_back(n);
            }
        }
        self.len += 1;
    }

    pub fn push_front_with(&mut self, item: &[u8], limits: &Limits) {
        match self.nodes.front_mut() {
            Some(n) if node_has_room(n, item.len(), limits) => {
                n.entries.push_front(item);
                n.count += 1;
            }
            _ => {
                let mut n = Node::default();
                n.entries.push_back(item);
                n.count = 1;
                self.nodes.push_front(n);
            }
        }
        self.len += 1;
    }

    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.front_mut()?;
        let (item, next) = n.entries.entry_at(0);
        let item = item.to_vec();
        n.entries.remove_range(0, next);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(item)
    }

    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let n = self.nodes.back_mut()?;
        let off = n.entries.last_offset()?;
        let (item, end) = n.entries.entry_at(off);
        let item = item.to_vec();
        n.entries.remove_range(off, end);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(item)
    }

    /// (node index, position within the node) of list index `i < len`.
    fn locate(&self, mut i: usize) -> (usize, usize) {
        debug_assert!(i < self.len);
        if i < self.len / 2 {
            for (ni, n) in self.nodes.iter().enumerate() {
                if i < n.count as usize {
                    return (ni, i);
                }
                i -= n.count as usize;
            }
        } else {
            let mut from_end = self.len - 1 - i;
            for (ni, n) in self.nodes.iter().enumerate().rev() {
                if from_end < n.count as usize {
                    return (ni, n.count as usize - 1 - from_end);
                }
                from_end -= n.count as usize;
            }
        }
        unreachable!("node counts add up to len")
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let (ni, li) = self.locate(i);
        let n = &self.nodes[ni];
        Some(n.entries.entry_at(n.offset_of(li)).0)
    }

    /// Replaces the element at `i`; false if out of range.
    pub fn set(&mut self, i: usize, item: &[u8]) -> bool {
        if i >= self.len {
            return false;
        }
        let (ni, li) = self.locate(i);
        let n = &mut self.nodes[ni];
        let off = n.offset_of(li);
        n.entries.replace_at(off, item);
        true
    }

    /// Inserts `item` so that it ends up at index `i` (`i == len` appends).
    pub fn insert(&mut self, i: usize, item: &[u8]) {
        self.insert_with(i, item, &super::limits());
    }

    pub fn insert_with(&mut self, i: usize, item: &[u8], limits: &Limits) {
        if i >= self.len {
            return self.push_back_with(item, limits);
        }
        if i == 0 {
            return self.push_front_with(item, limits);
        }
        let (ni, li) = self.locate(i);
        let n = &mut self.nodes[ni];
        let full = !node_has_room(n, item.len(), limits);
        let off = n.offset_of(li);
        n.entries.insert_at(off, item);
        n.count += 1;
        self.len += 1;
        if full && n.count > 1 {
            // Split the overfull node in half so nodes stay within the limit.
            let half = n.count as usize / 2;
            let split_at = n.offset_of(half);
            let tail = n.entries.split_off(split_at);
            let tail_count = n.count - half as u32;
            n.count = half as u32;
            self.nodes.insert(
                ni + 1,
                Node {
                    entries: tail,
                    count: tail_count,
                },
            );
        }
    }

    /// Removes the element at `i`; false if out of range.
    pub fn remove(&mut self, i: usize) -> bool {
        if i >= self.len {
            return false;
        }
        let (ni, li) = self.locate(i);
        let n = &mut self.nodes[ni];
        let off = n.offset_of(li);
        let (_, end) = n.entries.entry_at(off);
        n.entries.remove_range(off, end);
        n.count -= 1;
        if n.count == 0 {
            self.nodes.remove(ni);
        }
        self.len -= 1;
        true
    }

    /// Keeps only indexes `start..end` (clamped).
    pub fn trim(&mut self, start: usize, end: usize) {
        let end = end.min(self.len);
        if start >= end {
            *self = ListValue::new();
            return;
        }
        let tail = self.len - end;
        for _ in 0..tail {
            // Whole nodes go at once; only the boundary node is edited.
            match self.nodes.back() {
                Some(n) if (n.count as usize) <= self.len - end => {
                    self.len -= n.count as usize;
                    self.nodes.pop_back();
                }
                _ => {
                    if self.len == end {
                        break;
                    }
                    self.pop_back();
                }
            }
        }
        let mut front = start;
        while front > 0 {
            match self.nodes.front() {
                Some(n) if (n.count as usize) <= front => {
                    front -= n.count as usize;
                    self.len -= n.count as usize;
                    self.nodes.pop_front();
                }
                _ => {
                    self.pop_front();
                    front -= 1;
                }
            }
        }
    }

    /// Rebuilds the list from the elements `keep` accepts (LREM); `keep`
    /// sees (index, element). Returns how many were dropped.
    pub fn retain(&mut self, mut keep: impl FnMut(usize, &[u8]) -> bool) -> usize {
        let limits = super::limits();
        let mut out = ListValue::new();
        for (i, e) in self.iter().enumerate() {
            if keep(i, e) {
                out.push_back_with(e, &limits);
            }
        }
        let removed = self.len - out.len;
        *self = out;
        removed
    }

    /// Elements front to back.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.nodes.iter().flat_map(|n| n.entries.iter())
    }

    /// Elements from index `start` on.
    pub fn iter_from(&self, start: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let mut skip = start;
        let mut first = self.nodes.len();
        for (ni, n) in self.nodes.iter().enumerate() {
            if skip < n.count as usize {
                first = ni;
                break;
            }
            skip -= n.count as usize;
        }
        self.nodes
            .iter()
            .skip(first)
            .flat_map(|n| n.entries.iter())
            .skip(skip)
    }

    /// Elements back to front.
    pub fn iter_rev(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.nodes
            .iter()
            .rev()
            .flat_map(|n| n.entries.iter().collect::<Vec<_>>().into_iter().rev())
    }
}

/// Builds a list by appending items, filling each node in one buffer
/// (a reallocation per node, not per item): what loading an RDB list
/// uses. The nodes split exactly where [`ListValue::push_back_with`]
/// would split them.
pub struct ListBuilder {
    list: ListValue,
    node: PackedBuilder,
    node_count: u32,
    node_bytes: usize,
    limits: Limits,
}

impl ListBuilder {
    pub fn new(limits: Limits) -> ListBuilder {
        ListBuilder {
            list: ListValue::new(),
            node: PackedBuilder::default(),
            node_count: 0,
            node_bytes: 0,
            limits,
        }
    }

    fn node_has_room(&self, item_len: usize) -> bool {
        let size = self.limits.list_max_listpack_size;
        if size > 0 {
            i64::from(self.node_count) < size
        } else {
            let idx = ((-size).max(1) - 1).min(4) as usize;
            self.node_bytes + Packed::entry_size(item_len) <= NODE_BYTES[idx]
        }
    }

    fn flush(&mut self) {
        if self.node_count == 0 {
            return;
        }
        let entries = std::mem::take(&mut self.node).finish();
        debug_assert_eq!(entries.byte_len(), self.node_bytes);
        self.list.nodes.push_back(Node {
            entries,
            count: self.node_count,
        });
        self.list.len += self.node_count as usize;
        self.node_count = 0;
        self.node_bytes = 0;
    }

    pub fn push(&mut self, item: &[u8]) {
        if self.node_count > 0 && !self.node_has_room(item.len()) {
            self.flush();
        }
        self.node.push(item);
        self.node_count += 1;
        self.node_bytes += Packed::entry_size(item.len());
    }

    pub fn finish(mut self) -> ListValue {
        self.flush();
        self.list
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn builder_splits_nodes_like_push_back() {
        for size in [3, -1] {
            let limits = Limits {
                list_max_listpack_size: size,
                ..Limits::default()
            };
            let mut pushed = ListValue::new();
            let mut built = ListBuilder::new(limits);
            for i in 0..500usize {
                let item = vec![b'x'; i % 37];
                pushed.push_back_with(&item, &limits);
                built.push(&item);
            }
            let built = built.finish();
            assert_eq!(built, pushed);
            assert!(built.node_count() > 1);
        }
        assert_eq!(
            ListBuilder::new(Limits::default()).finish(),
            ListValue::new()
        );
    }

    #[test]
    fn nodes_respect_size_limits() {
        let by_count = Limits {
            list_max_listpack_size: 3,
            ..Limits::default()
        };
        let mut l = ListValue::new();
        for i in 0..10 {
            l.push_back_with(format!("{i}").as_bytes(), &by_count);
        }
        assert_eq!(l.node_count(), 4);
        let by_bytes = Limits::default();
        let mut l = ListValue::new();
        let item = [b'x'; 1000];
        for _ in 0..20 {
            l.push_back_with(&item, &by_bytes);
        }
        // 8 KiB nodes hold 8 entries of 1002 bytes.
        assert_eq!(l.node_count(), 3);
        assert_eq!(l.encoding(), "quicklist");
    }

    proptest! {
        #[test]
        fn model(ops in proptest::collection::vec((0u8..9, any::<u16>(), 0usize..4), 0..120)) {
            let limits = Limits { list_max_listpack_size: 3, ..Limits::default() };
            let mut l = ListValue::new();
            let mut m: VecDeque<Vec<u8>> = VecDeque::new();
            for (op, x, len) in ops {
                let item = vec![(x % 7) as u8; len];
                let i = x as usize % (m.len() + 1);
                match op {
                    0 => { l.push_back_with(&item, &limits); m.push_back(item); }
                    1 => { l.push_front_with(&item, &limits); m.push_front(item); }
                    2 => prop_assert_eq!(l.pop_front(), m.pop_front()),
                    3 => prop_assert_eq!(l.pop_back(), m.pop_back()),
                    4 => { l.insert_with(i, &item, &limits); m.insert(i, item); }
                    5 => { prop_assert_eq!(l.remove(i), i < m.len()); if i < m.len() { m.remove(i); } }
                    6 => { prop_assert_eq!(l.set(i, &item), i < m.len()); if i < m.len() { m[i] = item; } }
                    7 => {
                        let end = (i + len * 2).min(m.len());
                        l.trim(i, end);
                        m = if i < end { m.range(i..end).cloned().collect() } else { VecDeque::new() };
                    }
                    _ => {
                        let removed = l.retain(|_, e| e != item.as_slice());
                        let before = m.len();
                        m.retain(|e| e != &item);
                        prop_assert_eq!(removed, before - m.len());
                    }
                }
                prop_assert_eq!(l.len(), m.len());
                let got: Vec<Vec<u8>> = l.iter().map(|e| e.to_vec()).collect();
                let want: Vec<Vec<u8>> = m.iter().cloned().collect();
                prop_assert_eq!(&got, &want);
                let rev: Vec<Vec<u8>> = l.iter_rev().map(|e| e.to_vec()).collect();
                prop_assert_eq!(rev, want.iter().rev().cloned().collect::<Vec<_>>());
                for s in 0..=m.len() {
                    prop_assert_eq!(l.iter_from(s).count(), m.len() - s);
                }
                for (k, e) in want.iter().enumerate() {
                    prop_assert_eq!(l.get(k), Some(e.as_slice()));
                }
            }
        }
    }
}

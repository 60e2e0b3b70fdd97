//! An order-statistic tree of (score, member) pairs: a treap in an arena,
//! each node counting its subtree, so insert, delete, rank and select are
//! O(log n) expected. It is the ordered half of a large sorted set (Redis
//! uses a skiplist with spans for the same job).

use std::cmp::Ordering;

use crate::value::ByteStr;

const NIL: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq)]
struct Node {
    member: ByteStr,
    score: f64,
    left: u32,
    right: u32,
    /// Nodes in this subtree, itself included.
    size: u32,
    priority: u32,
}

/// Redis's sorted-set order: by score, then by member bytes.
pub fn cmp_entry(a_score: f64, a_member: &[u8], b_score: f64, b_member: &[u8]) -> Ordering {
    a_score
        .partial_cmp(&b_score)
        .unwrap_or(Ordering::Equal)
        .then_with(|| a_member.cmp(b_member))
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderTree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: u32,
    rng: u64,
}

impl Default for OrderTree {
    fn default() -> Self {
        OrderTree {
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            rng: 0x9E37_79B9_7F4A_7C15,
        }
    }
}

impl OrderTree {
    pub fn new() -> OrderTree {
        OrderTree::default()
    }

    pub fn len(&self) -> usize {
        self.size(self.root)
    }

    pub fn is_empty(&self) -> bool {
        self.root == NIL
    }

    fn size(&self, t: u32) -> usize {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size as usize
        }
    }

    fn fix(&mut self, t: u32) {
        let n = &self.nodes[t as usize];
        let s = 1 + self.size(n.left) + self.size(n.right);
        self.nodes[t as usize].size = s as u32;
    }

    fn next_priority(&mut self) -> u32 {
        // xorshift64: priorities only need to look random to keep the treap balanced.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 32) as u32
    }

    /// Splits `t` into (nodes where `left_of` holds, the rest); `left_of`
    /// must hold for a prefix of the order.
    fn split(&mut self, t: u32, left_of: &dyn Fn(f64, &[u8]) -> bool) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let n = &self.nodes[t as usize];
        if left_of(n.score, &n.member) {
            let (l, r) = self.split(n.right, left_of);
            self.nodes[t as usize].right = l;
            self.fix(t);
            (t, r)
        } else {
            let (l, r) = self.split(n.left, left_of);
            self.nodes[t as usize].left = r;
            self.fix(t);
            (l, t)
        }
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].priority > self.nodes[b as usize].priority {
            let r = self.merge(self.nodes[a as usize].right, b);
            self.nodes[a as usize].right = r;
            self.fix(a);
            a
        } else {
            let l = self.merge(a, self.nodes[b as usize].left);
            self.nodes[b as usize].left = l;
            self.fix(b);
            b
        }
    }

    /// Inserts a pair that must not be present.
    pub fn insert(&mut self, member: &[u8], score: f64) {
        let priority = self.next_priority();
        let node = Node {
            member: ByteStr::from_slice(member),
            score,
            left: NIL,
            right: NIL,
            size: 1,
            priority,
        };
        let idx = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let (l, r) = self.split(self.root, &|s, m| cmp_entry(s, m, score, member).is_lt());
        let l = self.merge(l, idx);
        self.root = self.merge(l, r);
    }

    /// Removes the pair; false if it was not present.
    pub fn remove(&mut self, member: &[u8], score: f64) -> bool {
        let (l, r) = self.split(self.root, &|s, m| cmp_entry(s, m, score, member).is_lt());
        let (mid, r) = self.split(r, &|s, m| cmp_entry(s, m, score, member).is_le());
        let found = mid != NIL;
        if found {
            debug_assert_eq!(self.size(mid), 1);
            self.nodes[mid as usize].member = ByteStr::new();
            self.free.push(mid);
        }
        self.root = self.merge(l, r);
        if self.root == NIL {
            // Free the arena once empty so a drained set does not keep its peak size.
            self.nodes = Vec::new();
            self.free = Vec::new();
        }
        found
    }

    /// How many leading pairs satisfy `pred`, which must hold for a prefix.
    pub fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let mut t = self.root;
        let mut count = 0;
        while t != NIL {
            let n = &self.nodes[t as usize];
            if pred(n.score, &n.member) {
                count += self.size(n.left) + 1;
                t = n.right;
            } else {
                t = n.left;
            }
        }
        count
    }

    /// Ascending pairs from rank `start` on.
    pub fn iter_from(&self, start: usize) -> TreeIter<'_> {
        let mut stack = Vec::new();
        let mut t = self.root;
        let mut r = start;
        while t != NIL {
            let n = &self.nodes[t as usize];
            let ls = self.size(n.left);
            match r.cmp(&ls) {
                Ordering::Less => {
                    stack.push(t);
                    t = n.left;
                }
                Ordering::Equal => {
                    stack.push(t);
                    break;
                }
                Ordering::Greater => {
                    r -= ls + 1;
                    t = n.right;
                }
            }
        }
        TreeIter { tree: self, stack }
    }
}

/// In-order iterator over an [`OrderTree`].
pub struct TreeIter<'a> {
    tree: &'a OrderTree,
    stack: Vec<u32>,
}

impl<'a> Iterator for TreeIter<'a> {
    type Item = (&'a [u8], f64);
    fn next(&mut self) -> Option<Self::Item> {
        let t = self.stack.pop()?;
        let n = &self.tree.nodes[t as usize];
        let mut c = n.right;
        while c != NIL {
            self.stack.push(c);
            c = self.tree.nodes[c as usize].left;
        }
        Some((n.member.as_slice(), n.score))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn model(ops in proptest::collection::vec((any::<bool>(), 0u8..30, -5i32..5), 0..200)) {
            let mut t = OrderTree::new();
            let mut m: std::collections::BTreeMap<Vec<u8>, f64> = Default::default();
            for (ins, mem, sc) in ops {
                let member = vec![mem];
                if ins {
                    if let Some(old) = m.insert(member.clone(), sc as f64) { t.remove(&member, old); }
                    t.insert(&member, sc as f64);
                } else if let Some(old) = m.remove(&member) {
                    prop_assert!(t.remove(&member, old));
                }
                let mut want: Vec<(Vec<u8>, f64)> = m.iter().map(|(k, v)| (k.clone(), *v)).collect();
                want.sort_by(|a, b| cmp_entry(a.1, &a.0, b.1, &b.0));
                let got: Vec<(Vec<u8>, f64)> = t.iter_from(0).map(|(k, v)| (k.to_vec(), v)).collect();
                prop_assert_eq!(&got, &want);
                for start in 0..=want.len() {
                    prop_assert_eq!(t.iter_from(start).count(), want.len() - start);
                }
                prop_assert_eq!(t.count_while(|s, _| s < 0.0), want.iter().filter(|e| e.1 < 0.0).count());
            }
        }
    }
}

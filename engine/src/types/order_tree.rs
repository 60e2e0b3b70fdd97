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

    /// Splits `t` into (pairs ordered before `(score, member)`, the rest).
    fn split(&mut self, t: u32, score: f64, member: &[u8]) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        let n = &self.nodes[t as usize];
        if cmp_entry(n.score, &n.member, score, member).is_lt() {
            let (l, r) = self.split(n.right, score, member);
            self.nodes[t as usize].right = l;
            self.fix(t);
            (t, r)
        } else {
            let (l, r) = self.split(n.left, score, member);
            self.nodes[t as usize].left = r;
            self.fix(t);
            (l, t)
        }
    }

    /// Joins two treaps where every pair of `a` orders before every pair of `b`.
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

    /// Points the root (no `parent`) or the given child link of `parent`
    /// at `new`.
    fn relink(&mut self, parent: Option<(u32, bool)>, new: u32) {
        match parent {
            None => self.root = new,
            Some((p, true)) => self.nodes[p as usize].left = new,
            Some((p, false)) => self.nodes[p as usize].right = new,
        }
    }

    /// Inserts a pair that must not be present.
    ///
    /// Descends like a search tree while the nodes outrank the new one,
    /// counting it into every subtree on the way, and splits only the
    /// subtree it takes over: O(log n) expected, with no full-depth
    /// split and merge.
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
        // (parent, whether `t` is its left child)
        let mut parent = None;
        let mut t = self.root;
        while t != NIL && self.nodes[t as usize].priority >= priority {
            let n = &mut self.nodes[t as usize];
            n.size += 1;
            let go_left = cmp_entry(score, member, n.score, &n.member).is_lt();
            parent = Some((t, go_left));
            t = if go_left { n.left } else { n.right };
        }
        let (l, r) = self.split(t, score, member);
        let n = &mut self.nodes[idx as usize];
        n.left = l;
        n.right = r;
        self.fix(idx);
        self.relink(parent, idx);
    }

    /// Removes the pair; false if it was not present.
    ///
    /// One walk from the root, uncounting the pair from every subtree on the
    /// way: callers almost always know the pair is there (its score comes
    /// from the member map). When it is not, a second walk puts the counts
    /// back.
    pub fn remove(&mut self, member: &[u8], score: f64) -> bool {
        // (parent, whether `t` is its left child)
        let mut parent = None;
        let mut t = self.root;
        while t != NIL {
            let n = &mut self.nodes[t as usize];
            let go_left = match cmp_entry(score, member, n.score, &n.member) {
                Ordering::Less => true,
                Ordering::Greater => false,
                Ordering::Equal => break,
            };
            n.size -= 1;
            parent = Some((t, go_left));
            t = if go_left { n.left } else { n.right };
        }
        if t == NIL {
            self.recount_path(member, score);
            return false;
        }
        let target = t;
        let (l, r) = (
            self.nodes[target as usize].left,
            self.nodes[target as usize].right,
        );
        let joined = self.merge(l, r);
        self.relink(parent, joined);
        self.nodes[target as usize].member = ByteStr::new();
        self.free.push(target);
        if self.root == NIL {
            // Free the arena once empty so a drained set does not keep its peak size.
            self.nodes = Vec::new();
            self.free = Vec::new();
        }
        true
    }

    /// Undoes the uncounting of a [`remove`](Self::remove) that found
    /// nothing: the walk for an absent pair ends at a leaf, and every node
    /// on it lost one.
    fn recount_path(&mut self, member: &[u8], score: f64) {
        let mut t = self.root;
        while t != NIL {
            let n = &mut self.nodes[t as usize];
            n.size += 1;
            t = if cmp_entry(score, member, n.score, &n.member).is_lt() {
                n.left
            } else {
                n.right
            };
        }
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

    /// Subtree sizes add up, priorities form a heap, pairs are in order.
    fn check(t: &OrderTree, node: u32) -> usize {
        if node == NIL {
            return 0;
        }
        let n = &t.nodes[node as usize];
        for child in [n.left, n.right] {
            if child != NIL {
                assert!(t.nodes[child as usize].priority <= n.priority, "heap order");
            }
        }
        if n.left != NIL {
            let l = &t.nodes[n.left as usize];
            assert!(cmp_entry(l.score, &l.member, n.score, &n.member).is_lt());
        }
        if n.right != NIL {
            let r = &t.nodes[n.right as usize];
            assert!(cmp_entry(n.score, &n.member, r.score, &r.member).is_lt());
        }
        let size = 1 + check(t, n.left) + check(t, n.right);
        assert_eq!(n.size as usize, size, "subtree size");
        size
    }

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
                } else {
                    prop_assert!(!t.remove(&member, sc as f64));
                }
                prop_assert_eq!(check(&t, t.root), m.len());
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

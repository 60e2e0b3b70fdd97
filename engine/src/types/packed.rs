//! A packed sequence of byte strings in one contiguous buffer: the compact
//! form behind small hashes, sorted sets and list nodes (Redis's listpack
//! plays the same role). Each entry is a LEB128 length followed by its bytes,
//! so a 10-field hash of short strings costs a couple of hundred bytes in a
//! single allocation instead of twenty.
//!
//! Offsets handed out by [`Packed::iter_offsets`] point at an entry's length
//! prefix and stay valid until the next mutation.

/// A contiguous sequence of byte-string entries. A boxed slice rather than
/// a Vec: no capacity word and no growth slack (each edit reallocates to
/// the exact size, as Redis's listpack does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Packed {
    buf: Box<[u8]>,
}

fn varint_len(n: usize) -> usize {
    let mut len = 1;
    let mut n = n >> 7;
    while n > 0 {
        len += 1;
        n >>= 7;
    }
    len
}

fn write_varint(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

impl Packed {
    pub fn new() -> Packed {
        Packed::default()
    }

    /// Applies `f` to the bytes as a Vec, then stores them back exactly sized.
    fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
        let mut v = std::mem::take(&mut self.buf).into_vec();
        let r = f(&mut v);
        self.buf = v.into_boxed_slice();
        r
    }

    /// Bytes used by the entries (what the node-size limits count).
    pub fn byte_len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Bytes an entry of `len` bytes occupies.
    pub fn entry_size(len: usize) -> usize {
        varint_len(len) + len
    }

    /// The entry at `off` and the offset of the next one.
    pub fn entry_at(&self, off: usize) -> (&[u8], usize) {
        let mut len = 0usize;
        let mut shift = 0;
        let mut p = off;
        loop {
            let b = self.buf[p];
            p += 1;
            len |= ((b & 0x7f) as usize) << shift;
            if b & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        debug_assert!(p + len <= self.buf.len(), "packed entry overruns buffer");
        (&self.buf[p..p + len], p + len)
    }

    /// Entries in order.
    pub fn iter(&self) -> PackedIter<'_> {
        PackedIter { p: self, off: 0 }
    }

    /// Entries with their offsets.
    pub fn iter_offsets(&self) -> impl Iterator<Item = (usize, &[u8])> + '_ {
        let mut off = 0;
        std::iter::from_fn(move || {
            if off >= self.buf.len() {
                return None;
            }
            let (e, next) = self.entry_at(off);
            let at = off;
            off = next;
            Some((at, e))
        })
    }

    fn encode(entry: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(Packed::entry_size(entry.len()));
        write_varint(&mut v, entry.len());
        v.extend_from_slice(entry);
        v
    }

    pub fn push_back(&mut self, entry: &[u8]) {
        self.edit(|v| {
            v.reserve_exact(Packed::entry_size(entry.len()));
            write_varint(v, entry.len());
            v.extend_from_slice(entry);
        });
    }

    /// Inserts `entry` so that it starts at byte `off` (an entry boundary or the end).
    pub fn insert_at(&mut self, off: usize, entry: &[u8]) {
        debug_assert!(off <= self.buf.len());
        self.edit(|v| {
            // Grow once, shift the tail, write the entry into the gap (LPUSH
            // does this for every element: no temporary, no splice).
            let added = Packed::entry_size(entry.len());
            let old_len = v.len();
            v.reserve_exact(added);
            v.resize(old_len + added, 0);
            v.copy_within(off..old_len, off + added);
            let mut prefix = Vec::with_capacity(0);
            let mut at = off;
            if entry.len() < 0x80 {
                v[at] = entry.len() as u8;
                at += 1;
            } else {
                write_varint(&mut prefix, entry.len());
                v[at..at + prefix.len()].copy_from_slice(&prefix);
                at += prefix.len();
            }
            v[at..at + entry.len()].copy_from_slice(entry);
            debug_assert_eq!(at + entry.len(), off + added);
        });
    }

    pub fn push_front(&mut self, entry: &[u8]) {
        self.insert_at(0, entry);
    }

    /// Removes the bytes `start..end` (whole entries).
    pub fn remove_range(&mut self, start: usize, end: usize) {
        self.edit(|v| {
            v.drain(start..end);
        });
    }

    /// Replaces the entry at `off` with `entry`.
    pub fn replace_at(&mut self, off: usize, entry: &[u8]) {
        let (_, next) = self.entry_at(off);
        let enc = Packed::encode(entry);
        self.edit(|v| {
            v.splice(off..next, enc);
        });
    }

    /// Offset where the last entry starts, if any.
    pub fn last_offset(&self) -> Option<usize> {
        self.iter_offsets().last().map(|(o, _)| o)
    }

    /// Offset just past the end.
    pub fn end_offset(&self) -> usize {
        self.buf.len()
    }

    /// Splits off the entries from byte `off` on into a new buffer.
    pub fn split_off(&mut self, off: usize) -> Packed {
        let tail = self.edit(|v| v.split_off(off));
        Packed {
            buf: tail.into_boxed_slice(),
        }
    }

    /// Heap bytes held (for MEMORY USAGE-style estimates).
    pub fn allocated_bytes(&self) -> usize {
        self.buf.len()
    }
}

/// Appends entries with amortised growth and hands back an exactly sized
/// [`Packed`]: building a whole collection at once (loading an RDB
/// listpack) costs one allocation instead of a reallocation per entry.
#[derive(Debug, Default)]
pub struct PackedBuilder {
    buf: Vec<u8>,
}

impl PackedBuilder {
    pub fn with_capacity(bytes: usize) -> PackedBuilder {
        PackedBuilder {
            buf: Vec::with_capacity(bytes),
        }
    }

    pub fn push(&mut self, entry: &[u8]) {
        write_varint(&mut self.buf, entry.len());
        self.buf.extend_from_slice(entry);
    }

    pub fn finish(self) -> Packed {
        Packed {
            buf: self.buf.into_boxed_slice(),
        }
    }
}

/// Iterator over a [`Packed`]'s entries.
pub struct PackedIter<'a> {
    p: &'a Packed,
    off: usize,
}

impl<'a> Iterator for PackedIter<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.off >= self.p.buf.len() {
            return None;
        }
        let (e, next) = self.p.entry_at(self.off);
        self.off = next;
        Some(e)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn long_entries_use_multibyte_lengths() {
        let mut p = Packed::new();
        let big = vec![7u8; 300];
        p.push_back(b"a");
        p.push_back(&big);
        p.push_front(b"");
        let v: Vec<_> = p.iter().collect();
        assert_eq!(v, vec![&b""[..], &b"a"[..], &big[..]]);
        assert_eq!(p.byte_len(), 1 + 2 + 2 + 300);
    }

    #[test]
    fn builder_equals_pushes() {
        let big = vec![3u8; 200];
        let mut pushed = Packed::new();
        let mut built = PackedBuilder::with_capacity(4);
        for e in [&b"x"[..], &big, b""] {
            pushed.push_back(e);
            built.push(e);
        }
        let built = built.finish();
        assert_eq!(built, pushed);
        assert_eq!(built.allocated_bytes(), pushed.byte_len());
    }

    proptest! {
        #[test]
        fn model(ops in proptest::collection::vec((0u8..4, any::<u8>(), proptest::collection::vec(any::<u8>(), 0..200)), 0..60)) {
            let mut p = Packed::new();
            let mut m: Vec<Vec<u8>> = Vec::new();
            for (op, idx, data) in ops {
                let offs: Vec<usize> = p.iter_offsets().map(|(o, _)| o).collect();
                match op {
                    0 => { p.push_back(&data); m.push(data); }
                    1 => {
                        let i = idx as usize % (m.len() + 1);
                        let off = offs.get(i).copied().unwrap_or(p.end_offset());
                        p.insert_at(off, &data);
                        m.insert(i, data);
                    }
                    2 if !m.is_empty() => {
                        let i = idx as usize % m.len();
                        let end = offs.get(i + 1).copied().unwrap_or(p.end_offset());
                        p.remove_range(offs[i], end);
                        m.remove(i);
                    }
                    3 if !m.is_empty() => {
                        let i = idx as usize % m.len();
                        p.replace_at(offs[i], &data);
                        m[i] = data;
                    }
                    _ => {}
                }
                let got: Vec<Vec<u8>> = p.iter().map(|e| e.to_vec()).collect();
                prop_assert_eq!(&got, &m);
            }
        }
    }
}

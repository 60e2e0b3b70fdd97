//! Listpacks (Redis's `listpack.c`): the compact container behind RDB types
//! 16, 17, 18 and 20.
//!
//! Layout: total bytes (u32 LE), element count (u16 LE, 65535 = unknown),
//! entries, then `0xFF`. Each entry is its encoding and data followed by a
//! "backlen" giving the size of encoding+data, written so it can be read
//! backwards. Strings that are canonical integers are stored as integers,
//! as Redis does, which is why reading yields [`LpEntry::Int`].

use crate::rdb::error::BlobError;
use crate::util::parse_canonical_i64;

const HEADER_SIZE: usize = 6;
const END: u8 = 0xff;
/// The element count Redis writes when the real count does not fit in u16.
const COUNT_UNKNOWN: u16 = u16::MAX;

/// One listpack element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LpEntry<'a> {
    Str(&'a [u8]),
    Int(i64),
}

impl<'a> LpEntry<'a> {
    /// The element as bytes, formatting integers into `buf`.
    pub fn as_bytes<'b>(&'b self, buf: &'b mut crate::value::itoa_buf::Buf) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            LpEntry::Str(s) => s,
            LpEntry::Int(i) => buf.format(*i),
        }
    }
}

/// Bytes an integer's encoding+data takes.
fn int_encoded_size(v: i64) -> usize {
    if (0..=127).contains(&v) {
        1
    } else if (-4096..=4095).contains(&v) {
        2
    } else if i16::try_from(v).is_ok() {
        3
    } else if (-(1 << 23)..(1 << 23)).contains(&v) {
        4
    } else if i32::try_from(v).is_ok() {
        5
    } else {
        9
    }
}

fn str_encoded_size(len: usize) -> usize {
    if len < 64 {
        1 + len
    } else if len < 4096 {
        2 + len
    } else {
        5 + len
    }
}

fn backlen_size(l: usize) -> usize {
    match l {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2097150 => 3,
        2097151..=268435454 => 4,
        _ => 5,
    }
}

/// Total bytes one element adds to a listpack.
pub fn entry_size(element: &[u8]) -> usize {
    let l = match parse_canonical_i64(element) {
        Some(v) => int_encoded_size(v),
        None => str_encoded_size(element.len()),
    };
    l + backlen_size(l)
}

/// Bytes of a listpack holding no elements.
pub const EMPTY_SIZE: usize = HEADER_SIZE + 1;

/// Builds one listpack at the end of a caller-owned buffer. The buffer is
/// passed to each call rather than borrowed for the builder's lifetime so a
/// node can be built incrementally by code that also uses its owner.
pub struct ListpackBuilder {
    start: usize,
    count: usize,
}

impl ListpackBuilder {
    pub fn begin(buf: &mut Vec<u8>) -> ListpackBuilder {
        let start = buf.len();
        buf.extend_from_slice(&[0; HEADER_SIZE]);
        ListpackBuilder { start, count: 0 }
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// Appends a string element, stored as an integer when it is canonical.
    pub fn push(&mut self, buf: &mut Vec<u8>, element: &[u8]) {
        match parse_canonical_i64(element) {
            Some(v) => self.push_int(buf, v),
            None => self.push_str(buf, element),
        }
    }

    pub fn push_int(&mut self, b: &mut Vec<u8>, v: i64) {
        let before = b.len();
        match int_encoded_size(v) {
            1 => b.push(v as u8),
            2 => {
                let u = (v as u16) & 0x1fff;
                b.push(0xc0 | (u >> 8) as u8);
                b.push(u as u8);
            }
            3 => {
                b.push(0xf1);
                b.extend_from_slice(&(v as i16).to_le_bytes());
            }
            4 => {
                b.push(0xf2);
                b.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            5 => {
                b.push(0xf3);
                b.extend_from_slice(&(v as i32).to_le_bytes());
            }
            _ => {
                b.push(0xf4);
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        let l = b.len() - before;
        self.push_backlen(b, l);
    }

    fn push_str(&mut self, b: &mut Vec<u8>, s: &[u8]) {
        let before = b.len();
        let len = s.len();
        if len < 64 {
            b.push(0x80 | len as u8);
        } else if len < 4096 {
            b.push(0xe0 | (len >> 8) as u8);
            b.push(len as u8);
        } else {
            b.push(0xf0);
            b.extend_from_slice(&(len as u32).to_le_bytes());
        }
        b.extend_from_slice(s);
        let l = b.len() - before;
        self.push_backlen(b, l);
    }

    fn push_backlen(&mut self, buf: &mut Vec<u8>, l: usize) {
        let n = backlen_size(l);
        // Most significant 7-bit group first; every byte after the first
        // has the high bit set so a backwards reader knows to continue.
        for i in (0..n).rev() {
            let group = ((l >> (7 * i)) & 0x7f) as u8;
            buf.push(if i == n - 1 { group } else { group | 0x80 });
        }
        self.count += 1;
    }

    /// Writes the terminator and header; returns the listpack's size.
    pub fn finish(self, buf: &mut Vec<u8>) -> usize {
        buf.push(END);
        let total = buf.len() - self.start;
        let count = u16::try_from(self.count)
            .ok()
            .filter(|&c| c != COUNT_UNKNOWN)
            .unwrap_or(COUNT_UNKNOWN);
        debug_assert!(u32::try_from(total).is_ok(), "listpack over 4 GB");
        buf[self.start..self.start + 4].copy_from_slice(&(total as u32).to_le_bytes());
        buf[self.start + 4..self.start + 6].copy_from_slice(&count.to_le_bytes());
        total
    }
}

/// Validates a listpack's frame and iterates its elements. Entries are
/// validated as they are read; an error ends the iteration.
pub struct ListpackReader<'a> {
    blob: &'a [u8],
    pos: usize,
    declared_count: u16,
    seen: usize,
    done: bool,
}

impl<'a> ListpackReader<'a> {
    pub fn new(blob: &'a [u8]) -> Result<ListpackReader<'a>, BlobError> {
        if blob.len() < EMPTY_SIZE {
            return Err(BlobError::new(0, "listpack shorter than its header"));
        }
        let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
        if total != blob.len() {
            return Err(BlobError::new(
                0,
                "listpack total bytes does not match blob size",
            ));
        }
        if blob[blob.len() - 1] != END {
            return Err(BlobError::new(
                blob.len() - 1,
                "listpack not terminated by 0xFF",
            ));
        }
        Ok(ListpackReader {
            blob,
            pos: HEADER_SIZE,
            declared_count: u16::from_le_bytes([blob[4], blob[5]]),
            seen: 0,
            done: false,
        })
    }

    /// The element count from the header, if it is known.
    pub fn declared_count(&self) -> Option<usize> {
        (self.declared_count != COUNT_UNKNOWN).then_some(self.declared_count as usize)
    }

    /// Reads the next element; `Ok(None)` at the terminator.
    pub fn next_entry(&mut self) -> Result<Option<LpEntry<'a>>, BlobError> {
        if self.done {
            return Ok(None);
        }
        let start = self.pos;
        let end = self.blob.len() - 1; // position of the terminator
        let first = self.blob[start];
        if start == end {
            self.done = true;
            if first != END {
                return Err(BlobError::new(start, "listpack not terminated by 0xFF"));
            }
            if let Some(count) = self.declared_count() {
                if count != self.seen {
                    return Err(BlobError::new(
                        start,
                        "listpack count does not match entries",
                    ));
                }
            }
            return Ok(None);
        }
        let blob: &'a [u8] = self.blob;
        let body = &blob[start..end];
        let need = |n: usize| -> Result<&'a [u8], BlobError> {
            blob[start..end]
                .get(..n)
                .ok_or(BlobError::new(start, "listpack entry runs past the end"))
        };
        let (entry, l) = match first {
            0x00..=0x7f => (LpEntry::Int(i64::from(first)), 1),
            0x80..=0xbf => {
                let len = (first & 0x3f) as usize;
                let d = need(1 + len)?;
                (LpEntry::Str(&d[1..]), 1 + len)
            }
            0xc0..=0xdf => {
                let d = need(2)?;
                let u = ((u16::from(first & 0x1f)) << 8) | u16::from(d[1]);
                // Sign-extend 13 bits.
                let v = ((u << 3) as i16) >> 3;
                (LpEntry::Int(i64::from(v)), 2)
            }
            0xe0..=0xef => {
                let h = need(2)?;
                let len = (((first & 0x0f) as usize) << 8) | h[1] as usize;
                let d = need(2 + len)?;
                (LpEntry::Str(&d[2..]), 2 + len)
            }
            0xf0 => {
                let h = need(5)?;
                let len = u32::from_le_bytes([h[1], h[2], h[3], h[4]]) as usize;
                if len > body.len() {
                    return Err(BlobError::new(start, "listpack string runs past the end"));
                }
                let d = need(5 + len)?;
                (LpEntry::Str(&d[5..]), 5 + len)
            }
            0xf1 => {
                let d = need(3)?;
                (LpEntry::Int(i64::from(i16::from_le_bytes([d[1], d[2]]))), 3)
            }
            0xf2 => {
                let d = need(4)?;
                let v = i32::from_le_bytes([0, d[1], d[2], d[3]]) >> 8;
                (LpEntry::Int(i64::from(v)), 4)
            }
            0xf3 => {
                let d = need(5)?;
                (
                    LpEntry::Int(i64::from(i32::from_le_bytes([d[1], d[2], d[3], d[4]]))),
                    5,
                )
            }
            0xf4 => {
                let d = need(9)?;
                let mut b = [0u8; 8];
                b.copy_from_slice(&d[1..9]);
                (LpEntry::Int(i64::from_le_bytes(b)), 9)
            }
            _ => {
                self.done = true;
                return Err(BlobError::new(start, "invalid listpack entry encoding"));
            }
        };
        let bl = backlen_size(l);
        let back = need(l + bl)
            .map_err(|_| BlobError::new(start, "listpack backlen runs past the end"))?;
        let mut decoded = 0usize;
        for &b in &back[l..] {
            decoded = (decoded << 7) | (b & 0x7f) as usize;
        }
        if decoded != l || back[l] & 0x80 != 0 {
            self.done = true;
            return Err(BlobError::new(
                start + l,
                "listpack backlen does not match entry",
            ));
        }
        self.pos = start + l + bl;
        self.seen += 1;
        Ok(Some(entry))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn build(elements: &[&[u8]]) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut b = ListpackBuilder::begin(&mut buf);
        for e in elements {
            b.push(&mut buf, e);
        }
        b.finish(&mut buf);
        buf
    }

    fn read_all(blob: &[u8]) -> Result<Vec<Vec<u8>>, BlobError> {
        let mut r = ListpackReader::new(blob)?;
        let mut out = Vec::new();
        let mut buf = crate::value::itoa_buf::Buf::new();
        while let Some(e) = r.next_entry()? {
            out.push(e.as_bytes(&mut buf).to_vec());
        }
        Ok(out)
    }

    #[test]
    fn matches_redis_captures() {
        // Captured from 7.0.15 (REDIS-PERSISTENCE.md 5.7).
        assert_eq!(
            build(&[b"f1", b"v1", b"f2", b"2"]),
            b"\x15\x00\x00\x00\x04\x00\x82f1\x03\x82v1\x03\x82f2\x03\x02\x01\xff"
        );
        assert_eq!(
            build(&[b"a", b"b", b"1", b"2"]),
            b"\x11\x00\x00\x00\x04\x00\x81a\x02\x81b\x02\x01\x01\x02\x01\xff"
        );
        assert_eq!(
            build(&[b"c", b"-inf", b"a", b"1", b"b", b"2.5"]),
            b"\x1d\x00\x00\x00\x06\x00\x81c\x02\x84-inf\x05\x81a\x02\x01\x01\x81b\x02\x832.5\x04\xff"
        );
    }

    #[test]
    fn every_integer_width_round_trips() {
        let values = [
            0i64,
            127,
            128,
            -1,
            -4096,
            4095,
            4096,
            -4097,
            32767,
            -32768,
            32768,
            8_388_607,
            -8_388_608,
            8_388_608,
            i32::MAX as i64,
            i32::MIN as i64,
            1 << 40,
            i64::MIN,
            i64::MAX,
        ];
        let strs: Vec<Vec<u8>> = values.iter().map(|v| v.to_string().into_bytes()).collect();
        let refs: Vec<&[u8]> = strs.iter().map(|s| s.as_slice()).collect();
        let blob = build(&refs);
        assert_eq!(read_all(&blob).unwrap(), strs);
        let sizes: usize = refs.iter().map(|e| entry_size(e)).sum();
        assert_eq!(blob.len(), EMPTY_SIZE + sizes);
    }

    #[test]
    fn long_strings_use_wider_headers() {
        let s63 = vec![b'x'; 63];
        let s64 = vec![b'y'; 64];
        let s4095 = vec![b'z'; 4095];
        let s4096 = vec![b'w'; 4096];
        let s20000 = vec![b'v'; 20000];
        let all: Vec<&[u8]> = vec![&s63, &s64, &s4095, &s4096, &s20000, b"", b"01"];
        let blob = build(&all);
        let back = read_all(&blob).unwrap();
        assert_eq!(back, all.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
    }

    #[test]
    fn bad_frames_are_rejected() {
        assert!(ListpackReader::new(b"\x07\x00\x00\x00\x00\x00").is_err());
        assert!(ListpackReader::new(b"\x08\x00\x00\x00\x00\x00\xff").is_err());
        assert!(read_all(b"\x07\x00\x00\x00\x01\x00\xff").is_err());
        assert!(read_all(b"\x09\x00\x00\x00\x01\x00\x85a\xff").is_err());
    }

    proptest! {
        #[test]
        fn round_trips(elements in proptest::collection::vec(
            prop_oneof![
                any::<i64>().prop_map(|i| i.to_string().into_bytes()),
                proptest::collection::vec(any::<u8>(), 0..300),
            ], 0..60)) {
            let refs: Vec<&[u8]> = elements.iter().map(|s| s.as_slice()).collect();
            let blob = build(&refs);
            prop_assert_eq!(read_all(&blob).unwrap(), elements);
        }

        #[test]
        fn garbage_never_panics(mut blob in proptest::collection::vec(any::<u8>(), 0..120), fix in any::<bool>()) {
            if fix && blob.len() >= 7 {
                let n = blob.len() as u32;
                blob[..4].copy_from_slice(&n.to_le_bytes());
                let last = blob.len() - 1;
                blob[last] = 0xff;
            }
            let _ = read_all(&blob);
        }
    }
}

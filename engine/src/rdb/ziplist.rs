//! Ziplists (Redis ≤ 6.2's `ziplist.c`), found in RDB types 10, 12, 13 and
//! inside type 14 quicklist nodes. Read only: 7.0 never writes them, but
//! files from older servers hold them and 7.0 loads them.
//!
//! Layout: total bytes (u32 LE), offset of the last entry (u32 LE), entry
//! count (u16 LE, 65535 = unknown), entries, `0xFF`. Each entry is
//! `<prevlen><encoding><data>`, prevlen being 1 byte, or `0xFE` + u32 LE.

use crate::rdb::error::BlobError;
use crate::rdb::listpack::LpEntry;

const HEADER_SIZE: usize = 10;
const END: u8 = 0xff;
const BIG_PREVLEN: u8 = 0xfe;

/// Iterates a ziplist's elements, validating each one.
pub struct ZiplistReader<'a> {
    blob: &'a [u8],
    pos: usize,
    prev_entry_len: usize,
    declared_count: u16,
    seen: usize,
    done: bool,
}

impl<'a> ZiplistReader<'a> {
    pub fn new(blob: &'a [u8]) -> Result<ZiplistReader<'a>, BlobError> {
        if blob.len() < HEADER_SIZE + 1 {
            return Err(BlobError::new(0, "ziplist shorter than its header"));
        }
        let total = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
        if total != blob.len() {
            return Err(BlobError::new(
                0,
                "ziplist total bytes does not match blob size",
            ));
        }
        if blob[blob.len() - 1] != END {
            return Err(BlobError::new(
                blob.len() - 1,
                "ziplist not terminated by 0xFF",
            ));
        }
        let tail = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
        if tail >= blob.len() {
            return Err(BlobError::new(4, "ziplist tail offset out of range"));
        }
        Ok(ZiplistReader {
            blob,
            pos: HEADER_SIZE,
            prev_entry_len: 0,
            declared_count: u16::from_le_bytes([blob[8], blob[9]]),
            seen: 0,
            done: false,
        })
    }

    pub fn next_entry(&mut self) -> Result<Option<LpEntry<'a>>, BlobError> {
        if self.done {
            return Ok(None);
        }
        let blob: &'a [u8] = self.blob;
        let start = self.pos;
        let end = blob.len() - 1;
        if start == end {
            self.done = true;
            if self.declared_count != u16::MAX && self.declared_count as usize != self.seen {
                return Err(BlobError::new(
                    start,
                    "ziplist count does not match entries",
                ));
            }
            return Ok(None);
        }
        self.done = true; // until this entry proves valid
        let body = &blob[start..end];
        let need = |n: usize| -> Result<&'a [u8], BlobError> {
            body.get(..n)
                .ok_or(BlobError::new(start, "ziplist entry runs past the end"))
        };
        let (prevlen, p) = if body[0] == BIG_PREVLEN {
            let h = need(5)?;
            (u32::from_le_bytes([h[1], h[2], h[3], h[4]]) as usize, 5)
        } else if body[0] == END {
            return Err(BlobError::new(
                start,
                "ziplist entry where the end was expected",
            ));
        } else {
            (body[0] as usize, 1)
        };
        if prevlen != self.prev_entry_len {
            return Err(BlobError::new(
                start,
                "ziplist prevlen does not match previous entry",
            ));
        }
        let enc = *need(p + 1)?.last().unwrap_or(&0);
        let int = |n: usize| -> Result<i64, BlobError> {
            let d = &need(p + 1 + n)?[p + 1..];
            let mut b = [0u8; 8];
            b[8 - n..].copy_from_slice(d);
            // Little-endian value placed in the high bytes, then an
            // arithmetic shift sign-extends it.
            Ok(i64::from_le_bytes(b) >> (64 - 8 * n))
        };
        let (entry, len) = match enc >> 6 {
            0 => {
                let n = (enc & 0x3f) as usize;
                let d = need(p + 1 + n)?;
                (LpEntry::Str(&d[p + 1..]), p + 1 + n)
            }
            1 => {
                let h = need(p + 2)?;
                let n = (((enc & 0x3f) as usize) << 8) | h[p + 1] as usize;
                let d = need(p + 2 + n)?;
                (LpEntry::Str(&d[p + 2..]), p + 2 + n)
            }
            2 => {
                if enc != 0x80 {
                    return Err(BlobError::new(start + p, "invalid ziplist string encoding"));
                }
                let h = need(p + 5)?;
                let n = u32::from_be_bytes([h[p + 1], h[p + 2], h[p + 3], h[p + 4]]) as usize;
                if n > body.len() {
                    return Err(BlobError::new(start, "ziplist string runs past the end"));
                }
                let d = need(p + 5 + n)?;
                (LpEntry::Str(&d[p + 5..]), p + 5 + n)
            }
            _ => match enc {
                0xc0 => (LpEntry::Int(int(2)?), p + 3),
                0xd0 => (LpEntry::Int(int(4)?), p + 5),
                0xe0 => (LpEntry::Int(int(8)?), p + 9),
                0xf0 => (LpEntry::Int(int(3)?), p + 4),
                0xfe => (LpEntry::Int(int(1)?), p + 2),
                0xf1..=0xfd => (LpEntry::Int(i64::from(enc & 0x0f) - 1), p + 1),
                _ => {
                    return Err(BlobError::new(
                        start + p,
                        "invalid ziplist integer encoding",
                    ))
                }
            },
        };
        self.pos = start + len;
        self.prev_entry_len = len;
        self.seen += 1;
        self.done = false;
        Ok(Some(entry))
    }
}

/// Builds ziplists for tests of the legacy decoding paths (7.0 never writes them).
#[cfg(test)]
pub(crate) fn build_for_test(elements: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = HEADER_SIZE;
    for e in elements {
        let start = body.len();
        tail = HEADER_SIZE + start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(BIG_PREVLEN);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match crate::util::parse_canonical_i64(e) {
            Some(v @ 0..=12) => body.push(0xf1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => {
                body.push(0xfe);
                body.push(v as u8);
            }
            Some(v) if i16::try_from(v).is_ok() => {
                body.push(0xc0);
                body.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                body.push(0xf0);
                body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                body.push(0xd0);
                body.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                body.push(0xe0);
                body.extend_from_slice(&v.to_le_bytes());
            }
            None if e.len() < 64 => {
                body.push(e.len() as u8);
                body.extend_from_slice(e);
            }
            None if e.len() < 16384 => {
                body.push(0x40 | (e.len() >> 8) as u8);
                body.push(e.len() as u8);
                body.extend_from_slice(e);
            }
            None => {
                body.push(0x80);
                body.extend_from_slice(&(e.len() as u32).to_be_bytes());
                body.extend_from_slice(e);
            }
        }
        prev = body.len() - start;
    }
    let mut out = Vec::new();
    out.extend_from_slice(&((HEADER_SIZE + body.len() + 1) as u32).to_le_bytes());
    out.extend_from_slice(&(tail as u32).to_le_bytes());
    out.extend_from_slice(&(elements.len().min(65535) as u16).to_le_bytes());
    out.extend_from_slice(&body);
    out.push(END);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn read_all(blob: &[u8]) -> Result<Vec<Vec<u8>>, BlobError> {
        let mut r = ZiplistReader::new(blob)?;
        let mut out = Vec::new();
        let mut buf = crate::value::itoa_buf::Buf::new();
        while let Some(e) = r.next_entry()? {
            out.push(e.as_bytes(&mut buf).to_vec());
        }
        Ok(out)
    }

    #[test]
    fn hand_built_redis_6_list_decodes() {
        // RPUSH l a 1 300, laid out by hand from ziplist.c's format: "a" as
        // a 6-bit string, 1 as an immediate, 300 as int16.
        let blob = b"\x14\x00\x00\x00\x0f\x00\x00\x00\x03\x00\x00\x01a\x03\xf2\x02\xc0\x2c\x01\xff";
        assert_eq!(
            read_all(blob).unwrap(),
            vec![b"a".to_vec(), b"1".to_vec(), b"300".to_vec()]
        );
    }

    proptest! {
        #[test]
        fn round_trips(elements in proptest::collection::vec(
            prop_oneof![
                any::<i64>().prop_map(|i| i.to_string().into_bytes()),
                (-20i64..20).prop_map(|i| i.to_string().into_bytes()),
                proptest::collection::vec(any::<u8>(), 0..400),
            ], 0..40)) {
            let refs: Vec<&[u8]> = elements.iter().map(|s| s.as_slice()).collect();
            prop_assert_eq!(read_all(&build_for_test(&refs)).unwrap(), elements);
        }

        #[test]
        fn garbage_never_panics(mut blob in proptest::collection::vec(any::<u8>(), 11..120)) {
            let n = blob.len() as u32;
            blob[..4].copy_from_slice(&n.to_le_bytes());
            let last = blob.len() - 1;
            blob[last] = 0xff;
            let _ = read_all(&blob);
        }
    }
}

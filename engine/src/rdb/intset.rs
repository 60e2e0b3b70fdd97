//! Intsets (Redis's `intset.c`), the blob inside RDB type 11: element width
//! (u32 LE: 2, 4 or 8), element count (u32 LE), then the elements sorted
//! ascending, little-endian, all of that width.

use crate::rdb::error::BlobError;

const HEADER_SIZE: usize = 8;

/// Appends the intset of `sorted` (strictly ascending) to `out`.
pub fn encode(sorted: &[i64], out: &mut Vec<u8>) {
    debug_assert!(sorted.windows(2).all(|w| w[0] < w[1]));
    let (lo, hi) = match (sorted.first(), sorted.last()) {
        (Some(&lo), Some(&hi)) => (lo, hi),
        _ => (0, 0),
    };
    let width: usize = if i16::try_from(lo).is_ok() && i16::try_from(hi).is_ok() {
        2
    } else if i32::try_from(lo).is_ok() && i32::try_from(hi).is_ok() {
        4
    } else {
        8
    };
    out.reserve(HEADER_SIZE + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for &v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
}

/// A validated intset.
pub struct Intset<'a> {
    width: usize,
    body: &'a [u8],
}

impl<'a> Intset<'a> {
    /// Checks the header, the size and that elements strictly ascend (as
    /// Redis's `intsetValidateIntegrity` does: duplicates are corruption).
    pub fn parse(blob: &'a [u8]) -> Result<Intset<'a>, BlobError> {
        if blob.len() < HEADER_SIZE {
            return Err(BlobError::new(0, "intset shorter than its header"));
        }
        let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
        if !matches!(width, 2 | 4 | 8) {
            return Err(BlobError::new(0, "invalid intset encoding"));
        }
        let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as u64;
        if count * width as u64 != (blob.len() - HEADER_SIZE) as u64 {
            return Err(BlobError::new(4, "intset length does not match blob size"));
        }
        let set = Intset {
            width,
            body: &blob[HEADER_SIZE..],
        };
        let mut prev: Option<i64> = None;
        for (i, v) in set.iter().enumerate() {
            if prev.is_some_and(|p| p >= v) {
                return Err(BlobError::new(
                    HEADER_SIZE + i * width,
                    "intset not strictly ascending",
                ));
            }
            prev = Some(v);
        }
        Ok(set)
    }

    pub fn len(&self) -> usize {
        self.body.len() / self.width
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = i64> + 'a {
        let width = self.width;
        self.body.chunks_exact(width).map(move |c| match width {
            2 => i64::from(i16::from_le_bytes([c[0], c[1]])),
            4 => i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_capture() {
        let mut out = Vec::new();
        encode(&[-5, 1, 2, 3, 100000], &mut out);
        let expected: Vec<u8> = [
            "04000000", "05000000", "fbffffff", "01000000", "02000000", "03000000", "a0860100",
        ]
        .concat()
        .as_bytes()
        .chunks(2)
        .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap())
        .collect();
        assert_eq!(out, expected);
        let back: Vec<i64> = Intset::parse(&out).unwrap().iter().collect();
        assert_eq!(back, vec![-5, 1, 2, 3, 100000]);
    }

    #[test]
    fn widths_round_trip() {
        for set in [vec![1i64, 2], vec![-40000, 7], vec![i64::MIN, 0, i64::MAX]] {
            let mut out = Vec::new();
            encode(&set, &mut out);
            assert_eq!(Intset::parse(&out).unwrap().iter().collect::<Vec<_>>(), set);
        }
    }

    #[test]
    fn corrupt_intsets_are_rejected() {
        let mut out = Vec::new();
        encode(&[1, 2, 3], &mut out);
        let mut dup = out.clone();
        dup[10] = 1; // second element becomes 1
        assert!(Intset::parse(&dup).is_err());
        assert!(Intset::parse(&out[..out.len() - 1]).is_err());
        let mut bad_width = out.clone();
        bad_width[0] = 3;
        assert!(Intset::parse(&bad_width).is_err());
        let mut huge = out;
        huge[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Intset::parse(&huge).is_err());
    }
}

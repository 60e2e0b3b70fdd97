//! Zipmaps (Redis ≤ 2.4's `zipmap.c`), the blob of RDB type 9 hashes. Read
//! only. Layout: count byte (254 = unknown), then per pair
//! `<len>key<len><free>value<free bytes>`, then `0xFF`. A length is one
//! byte below 254, or `0xFE` followed by a u32 (host order, little-endian
//! on every machine Redis shipped for).

use crate::rdb::error::BlobError;

const BIG_LEN: u8 = 254;
const END: u8 = 255;

/// A field and its value.
pub type Pair<'a> = (&'a [u8], &'a [u8]);

/// Reads every field/value pair of a zipmap.
pub fn read_pairs(blob: &[u8]) -> Result<Vec<Pair<'_>>, BlobError> {
    let declared = *blob.first().ok_or(BlobError::new(0, "empty zipmap"))?;
    let mut pos = 1usize;
    let mut pairs = Vec::new();
    let read_len = |pos: &mut usize| -> Result<Option<usize>, BlobError> {
        let b = *blob
            .get(*pos)
            .ok_or(BlobError::new(*pos, "zipmap truncated"))?;
        match b {
            END => Ok(None),
            BIG_LEN => {
                let d = blob
                    .get(*pos + 1..*pos + 5)
                    .ok_or(BlobError::new(*pos, "zipmap length truncated"))?;
                *pos += 5;
                Ok(Some(u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize))
            }
            n => {
                *pos += 1;
                Ok(Some(n as usize))
            }
        }
    };
    let take = |pos: &mut usize, n: usize| -> Result<&[u8], BlobError> {
        let d = blob
            .get(*pos..pos.saturating_add(n))
            .ok_or(BlobError::new(*pos, "zipmap entry runs past the end"))?;
        *pos += n;
        Ok(d)
    };
    while let Some(klen) = read_len(&mut pos)? {
        let key = take(&mut pos, klen)?;
        let vlen = read_len(&mut pos)?.ok_or(BlobError::new(pos, "zipmap key without value"))?;
        let free = *take(&mut pos, 1)?.first().unwrap_or(&0) as usize;
        let value = take(&mut pos, vlen)?;
        take(&mut pos, free)?;
        pairs.push((key, value));
    }
    if pos + 1 != blob.len() {
        return Err(BlobError::new(pos, "zipmap has bytes after its end"));
    }
    if declared < BIG_LEN && declared as usize != pairs.len() {
        return Err(BlobError::new(0, "zipmap count does not match entries"));
    }
    Ok(pairs)
}

/// Builds a zipmap for tests of the legacy decoding path.
#[cfg(test)]
pub(crate) fn build_for_test(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, n: usize) {
        if n < BIG_LEN as usize {
            out.push(n as u8);
        } else {
            out.push(BIG_LEN);
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
    }
    let mut out = vec![pairs.len().min(BIG_LEN as usize) as u8];
    for (i, (k, v)) in pairs.iter().enumerate() {
        len(&mut out, k.len());
        out.extend_from_slice(k);
        len(&mut out, v.len());
        let free = i % 3; // exercise the unused-bytes path
        out.push(free as u8);
        out.extend_from_slice(v);
        out.resize(out.len() + free, 0);
    }
    out.push(END);
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hand_built_redis_2_hash_decodes() {
        // HSET h foo bar laid out by hand from zipmap.c: count 1, "foo", "bar" with 0 free bytes.
        let blob = b"\x01\x03foo\x03\x00bar\xff";
        assert_eq!(read_pairs(blob).unwrap(), vec![(&b"foo"[..], &b"bar"[..])]);
    }

    proptest! {
        #[test]
        fn round_trips(pairs in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..300), proptest::collection::vec(any::<u8>(), 0..300)), 0..20)) {
            let refs: Vec<(&[u8], &[u8])> = pairs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
            let blob = build_for_test(&refs);
            prop_assert_eq!(read_pairs(&blob).unwrap(), refs);
        }

        #[test]
        fn garbage_never_panics(blob in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = read_pairs(&blob);
        }
    }
}

//! LZF compression as liblzf 1.5 (Redis's `lzf_c.c`/`lzf_d.c`) defines it:
//! raw blocks with no header.
//!
//! A block is a sequence of runs. A control byte below 32 starts a literal
//! run of `ctrl + 1` bytes. Otherwise the top 3 bits are a match length
//! minus 2 (7 means "add the next byte"), and the low 5 bits plus the next
//! byte are the back-reference distance minus 1 (at most 8191).
//!
//! Redis does not produce reproducible LZF output (its hash table starts
//! uninitialised), so any valid compressor is compatible. The decompressor
//! is the dangerous half: lengths in an RDB may lie, so it writes into a
//! caller-sized buffer and rejects every out-of-range reference.

use crate::rdb::error::BlobError;

const HASH_LOG: u32 = 14;
const MAX_LITERAL_RUN: usize = 32;
const MAX_OFFSET: usize = 1 << 13;
const MAX_MATCH_LEN: usize = (1 << 8) + (1 << 3); // 264

/// Upper bound on how much one compressed byte can expand to; a length
/// claimed beyond `compressed_len * MAX_EXPANSION` cannot be honest.
pub const MAX_EXPANSION: u64 = 90;

/// Reusable compression state; keeps the hash table off the allocator on
/// every call.
///
/// The table is never cleared: an entry stores `base + position + 1`, and
/// `base` moves past every input compressed so far, so entries left by
/// earlier inputs read as empty. Clearing 16K entries per call instead made
/// saving millions of 30-byte values spend its time in memset.
pub struct Compressor {
    table: Vec<u64>,
    base: u64,
}

impl Default for Compressor {
    fn default() -> Self {
        Compressor::new()
    }
}

impl Compressor {
    pub fn new() -> Compressor {
        Compressor {
            table: vec![0; 1 << HASH_LOG],
            base: 0,
        }
    }

    /// Compresses `input` into `out` (cleared first). Returns false, leaving
    /// `out` unspecified, if the result would exceed `out_limit` bytes: the
    /// caller then stores the input uncompressed, as Redis does.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, out_limit: usize) -> bool {
        out.clear();
        let base = self.base;
        self.base += input.len() as u64 + 1;
        let mut ip = 0usize;
        let mut literal_start = 0usize;
        while ip + 2 < input.len() {
            let h = hash3(&input[ip..ip + 3]);
            let candidate = self.table[h];
            self.table[h] = base + ip as u64 + 1;
            if candidate > base {
                let reference = (candidate - base - 1) as usize;
                let distance = ip - reference;
                if distance <= MAX_OFFSET && input[reference..reference + 3] == input[ip..ip + 3] {
                    let max_len = MAX_MATCH_LEN.min(input.len() - ip);
                    let mut len = 3;
                    while len < max_len && input[reference + len] == input[ip + len] {
                        len += 1;
                    }
                    if !emit_literals(&input[literal_start..ip], out, out_limit)
                        || !emit_match(len, distance - 1, out, out_limit)
                    {
                        return false;
                    }
                    ip += len;
                    literal_start = ip;
                    continue;
                }
            }
            ip += 1;
        }
        emit_literals(&input[literal_start..], out, out_limit)
    }
}

fn hash3(b: &[u8]) -> usize {
    let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
    (v.wrapping_mul(2_654_435_761) >> (32 - HASH_LOG)) as usize
}

fn emit_literals(lits: &[u8], out: &mut Vec<u8>, out_limit: usize) -> bool {
    for run in lits.chunks(MAX_LITERAL_RUN) {
        if out.len() + 1 + run.len() > out_limit {
            return false;
        }
        out.push((run.len() - 1) as u8);
        out.extend_from_slice(run);
    }
    true
}

fn emit_match(len: usize, offset: usize, out: &mut Vec<u8>, out_limit: usize) -> bool {
    debug_assert!((3..=MAX_MATCH_LEN).contains(&len) && offset < MAX_OFFSET);
    let coded_len = len - 2;
    let hi = (offset >> 8) as u8;
    let lo = (offset & 0xff) as u8;
    let needed = if coded_len < 7 { 2 } else { 3 };
    if out.len() + needed > out_limit {
        return false;
    }
    if coded_len < 7 {
        out.push(((coded_len as u8) << 5) | hi);
    } else {
        out.push((7 << 5) | hi);
        out.push((coded_len - 7) as u8);
    }
    out.push(lo);
    true
}

/// Decompresses `input`, which must expand to exactly `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, BlobError> {
    // The declared length is not trusted for the allocation: the buffer
    // grows only as real output is produced, which the input bounds.
    let mut out = Vec::with_capacity(expected_len.min(input.len().saturating_mul(4)));
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let lits = input
                .get(ip..ip + run)
                .ok_or_else(|| BlobError::new(ip, "LZF literal run past end of input"))?;
            if out.len() + run > expected_len {
                return Err(BlobError::new(ip, "LZF output longer than declared"));
            }
            out.extend_from_slice(lits);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input
                    .get(ip)
                    .ok_or_else(|| BlobError::new(ip, "LZF match length past end of input"))?
                    as usize;
                ip += 1;
            }
            let lo = *input
                .get(ip)
                .ok_or_else(|| BlobError::new(ip, "LZF match offset past end of input"))?
                as usize;
            ip += 1;
            let distance = ((ctrl & 0x1f) << 8) + lo + 1;
            let len = len + 2;
            if distance > out.len() {
                return Err(BlobError::new(
                    ip,
                    "LZF back-reference before start of output",
                ));
            }
            if out.len() + len > expected_len {
                return Err(BlobError::new(ip, "LZF output longer than declared"));
            }
            // The source may overlap what is being written (distance <
            // len repeats the last `distance` bytes): copy in chunks of at
            // most `distance`, each wholly inside what is already written.
            let mut left = len;
            while left > 0 {
                let from = out.len() - distance;
                let n = left.min(distance);
                out.extend_from_within(from..from + n);
                left -= n;
            }
        }
    }
    if out.len() != expected_len {
        return Err(BlobError::new(ip, "LZF output shorter than declared"));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn roundtrip(data: &[u8]) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        if !Compressor::new().compress(data, &mut out, data.len() + data.len() / 16 + 64) {
            return None;
        }
        Some(decompress(&out, data.len()).unwrap())
    }

    #[test]
    fn repetitive_input_compresses_and_round_trips() {
        let data = vec![b'a'; 10_000];
        let mut out = Vec::new();
        assert!(Compressor::new().compress(&data, &mut out, data.len() - 4));
        assert!(out.len() < 200, "{}", out.len());
        assert_eq!(decompress(&out, data.len()).unwrap(), data);
    }

    #[test]
    fn known_liblzf_block_decodes() {
        // "aaaaaaaaaaaaaaaaaaaa" (20 bytes): literal "a", then a match of 19
        // at distance 1 (length code 7 + 10).
        let block = [0x00, b'a', 0xe0, 10, 0x00];
        assert_eq!(decompress(&block, 20).unwrap(), vec![b'a'; 20]);
    }

    #[test]
    fn lying_blocks_are_errors() {
        assert!(decompress(&[0x05, b'a'], 6).is_err());
        assert!(decompress(&[0x20, 0x05], 3).is_err());
        assert!(decompress(&[0x00, b'a', 0x20, 0x00], 2).is_err());
        assert!(decompress(&[0x00, b'a'], 2).is_err());
        assert!(decompress(&[0xe0], 100).is_err());
    }

    #[test]
    fn reused_compressor_ignores_earlier_inputs() {
        let mut c = Compressor::new();
        let mut out = Vec::new();
        let first = b"abcdefghijabcdefghijabcdefghij".repeat(4);
        assert!(c.compress(&first, &mut out, first.len()));
        // A second input sharing prefixes must not reference the first.
        let second = b"abcdefghij0123456789".to_vec();
        if c.compress(&second, &mut out, second.len() * 2) {
            assert_eq!(decompress(&out, second.len()).unwrap(), second);
        }
        let third = b"xyzxyzxyzxyzxyzxyzxyzxyzxyzxyz".to_vec();
        assert!(c.compress(&third, &mut out, third.len() - 4));
        assert_eq!(decompress(&out, third.len()).unwrap(), third);
    }

    proptest! {
        #[test]
        fn reuse_round_trips(inputs in proptest::collection::vec(
            proptest::collection::vec(prop_oneof![Just(b'x'), Just(b'y'), any::<u8>()], 0..500), 1..8)) {
            let mut c = Compressor::new();
            let mut out = Vec::new();
            for data in inputs {
                if c.compress(&data, &mut out, data.len() + 64) {
                    prop_assert_eq!(decompress(&out, data.len()).unwrap(), data);
                }
            }
        }

        #[test]
        fn round_trips(data in proptest::collection::vec(prop_oneof![Just(b'x'), any::<u8>()], 0..3000)) {
            if let Some(back) = roundtrip(&data) {
                prop_assert_eq!(back, data);
            }
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), len in 0usize..2000) {
            let _ = decompress(&data, len);
        }
    }
}

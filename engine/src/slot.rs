//! Key → slot mapping, identical to Redis Cluster's: CRC16 (XMODEM) of the key,
//! or of its hash tag (the bytes between the first `{` and the next `}`, when
//! not empty), modulo 16384. Keeping Redis Cluster's mapping means the slot
//! layout already lines up for the day ringkv scales out.

use crc::{Crc, Table, CRC_16_XMODEM};

/// Number of slots the keyspace is cut into.
pub const SLOT_COUNT: usize = 16384;

/// Slice-by-16 tables: every keyed command hashes its key once.
const CRC16: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_XMODEM);

/// Index of a slot, `0..SLOT_COUNT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(pub u16);

impl SlotId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// The slot a key lives in.
pub fn key_slot(key: &[u8]) -> SlotId {
    let hashed = hash_tag(key).unwrap_or(key);
    let slot = CRC16.checksum(hashed) as usize % SLOT_COUNT;
    debug_assert!(slot < SLOT_COUNT);
    SlotId(slot as u16)
}

fn hash_tag(key: &[u8]) -> Option<&[u8]> {
    let open = find_byte(b'{', key)?;
    let rest = &key[open + 1..];
    let close = find_byte(b'}', rest)?;
    if close == 0 {
        None
    } else {
        Some(&rest[..close])
    }
}

/// Below this length a plain loop beats memchr, whose setup costs more
/// than scanning a typical key.
const SHORT_SEARCH_BYTES: usize = 32;

fn find_byte(byte: u8, haystack: &[u8]) -> Option<usize> {
    if haystack.len() < SHORT_SEARCH_BYTES {
        haystack.iter().position(|b| *b == byte)
    } else {
        memchr::memchr(byte, haystack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_redis_cluster_keyslot() {
        // Values from `CLUSTER KEYSLOT` on Redis.
        assert_eq!(key_slot(b"foo").0, 12182);
        assert_eq!(key_slot(b"bar").0, 5061);
        assert_eq!(key_slot(b"123456789").0, 12739);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"foo{}{bar}"), key_slot(b"foo{}{bar}"));
        assert_eq!(key_slot(b"foo{}{bar}").0, 8363);
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
        assert_eq!(key_slot(b"foo{bar}{zap}"), key_slot(b"bar"));
        // Long keys take the memchr path.
        let long = [&[b'x'; 40][..], b"{user1000}"].concat();
        assert_eq!(key_slot(&long), key_slot(b"user1000"));
        let long_open = [&b"{"[..], &[b'y'; 40][..], b"}z"].concat();
        assert_eq!(key_slot(&long_open), key_slot(&[b'y'; 40]));
    }
}

//! The primitive encodings every RDB field is built from: lengths
//! (`rdbSaveLen`) and strings (`rdbSaveRawString`), on the writing side.
//!
//! Byte order is mixed on purpose, as in Redis: lengths are big-endian,
//! integer-encoded strings little-endian.

use crate::util::parse_canonical_i64;

/// First byte of a length: the top two bits select the form.
pub const LEN_6BIT: u8 = 0;
pub const LEN_14BIT: u8 = 1;
pub const LEN_32BIT: u8 = 0x80;
pub const LEN_64BIT: u8 = 0x81;
/// `11xxxxxx`: the string is specially encoded; the low 6 bits say how.
pub const ENCODED: u8 = 3;
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;

/// Strings at most this long are tried as integers (`rdbTryIntegerEncoding`).
pub const INT_ENCODING_MAX_LEN: usize = 11;
/// Strings longer than this are tried with LZF when compression is on.
pub const LZF_MIN_LEN: usize = 20;

/// Appends the smallest length encoding of `len`.
pub fn push_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push((LEN_6BIT << 6) | len as u8);
    } else if len < 1 << 14 {
        out.push((LEN_14BIT << 6) | (len >> 8) as u8);
        out.push(len as u8);
    } else if len <= u64::from(u32::MAX) {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// Appends the integer encoding of `v`, if it fits in one (int32 range).
pub fn push_int_encoding(out: &mut Vec<u8>, v: i64) -> bool {
    if let Ok(b) = i8::try_from(v) {
        out.push((ENCODED << 6) | ENC_INT8);
        out.push(b as u8);
    } else if let Ok(h) = i16::try_from(v) {
        out.push((ENCODED << 6) | ENC_INT16);
        out.extend_from_slice(&h.to_le_bytes());
    } else if let Ok(w) = i32::try_from(v) {
        out.push((ENCODED << 6) | ENC_INT32);
        out.extend_from_slice(&w.to_le_bytes());
    } else {
        return false;
    }
    true
}

/// The integer a string is written as, if Redis would int-encode it:
/// at most 11 bytes, canonical, and within int32.
pub fn int_encodable(s: &[u8]) -> Option<i64> {
    if s.len() > INT_ENCODING_MAX_LEN {
        return None;
    }
    parse_canonical_i64(s).filter(|v| i32::try_from(*v).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len_bytes(len: u64) -> Vec<u8> {
        let mut v = Vec::new();
        push_len(&mut v, len);
        v
    }

    #[test]
    fn lengths_use_the_smallest_big_endian_form() {
        assert_eq!(len_bytes(0), [0x00]);
        assert_eq!(len_bytes(63), [0x3f]);
        assert_eq!(len_bytes(64), [0x40, 0x40]);
        assert_eq!(len_bytes(16383), [0x7f, 0xff]);
        assert_eq!(len_bytes(16384), [0x80, 0, 0, 0x40, 0]);
        assert_eq!(len_bytes(u32::MAX as u64), [0x80, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(len_bytes(1 << 32), [0x81, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn integer_encoding_follows_redis_rules() {
        assert_eq!(int_encodable(b"12345"), Some(12345));
        assert_eq!(int_encodable(b"-2147483648"), Some(i32::MIN as i64));
        assert_eq!(int_encodable(b"2147483648"), None);
        assert_eq!(int_encodable(b"123456789012"), None);
        assert_eq!(int_encodable(b"007"), None);
        let mut v = Vec::new();
        assert!(push_int_encoding(&mut v, 12345));
        assert_eq!(v, [0xc1, 0x39, 0x30]);
        v.clear();
        assert!(push_int_encoding(&mut v, 64));
        assert_eq!(v, [0xc0, 0x40]);
        v.clear();
        assert!(push_int_encoding(&mut v, 1795263335));
        assert_eq!(v, [0xc2, 0x67, 0x8b, 0x01, 0x6b]);
    }
}

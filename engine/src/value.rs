//! What a key holds.
//!
//! `Value` stays 32 bytes: strings are stored inline up to 16 bytes (most keys
//! and many values are that short); hashes, sets and sorted sets (24-byte
//! handles) live inline too, saving an allocation per collection key; lists,
//! whose handle is larger, are boxed.

use smallvec::SmallVec;

use crate::types::{HashValue, ListValue, SetValue, ZSetValue};

/// A byte string stored inline when it is 16 bytes or shorter.
pub type ByteStr = SmallVec<[u8; 16]>;

/// Redis strings longer than this are `raw` rather than `embstr` in OBJECT ENCODING.
pub const EMBSTR_SIZE_LIMIT: usize = 44;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string whose canonical decimal form is this integer (`int` encoding).
    Int(i64),
    /// Any other string.
    Str(ByteStr),
    List(Box<ListValue>),
    Hash(HashValue),
    Set(SetValue),
    ZSet(ZSetValue),
}

/// The type of a value as TYPE reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    List,
    Hash,
    Set,
    ZSet,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::List => "list",
            ValueType::Hash => "hash",
            ValueType::Set => "set",
            ValueType::ZSet => "zset",
        }
    }

    /// Parses the TYPE name used by `SCAN ... TYPE t` (case-insensitive).
    pub fn from_name(name: &[u8]) -> Option<ValueType> {
        let all = [
            ValueType::String,
            ValueType::List,
            ValueType::Hash,
            ValueType::Set,
            ValueType::ZSet,
        ];
        all.into_iter()
            .find(|t| t.name().as_bytes().eq_ignore_ascii_case(name))
    }
}

impl Value {
    /// Builds a string value the way Redis's `tryObjectEncoding` would:
    /// canonical integers of at most 20 bytes become `Int`.
    pub fn string(bytes: &[u8]) -> Value {
        match crate::util::parse_canonical_i64(bytes) {
            Some(i) => Value::Int(i),
            None => Value::Str(ByteStr::from_slice(bytes)),
        }
    }

    pub fn value_type(&self) -> ValueType {
        match self {
            Value::Int(_) | Value::Str(_) => ValueType::String,
            Value::List(_) => ValueType::List,
            Value::Hash(_) => ValueType::Hash,
            Value::Set(_) => ValueType::Set,
            Value::ZSet(_) => ValueType::ZSet,
        }
    }

    /// The name OBJECT ENCODING reports.
    pub fn encoding(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Str(s) if s.len() <= EMBSTR_SIZE_LIMIT && !is_raw_marked(s) => "embstr",
            Value::Str(_) => "raw",
            Value::List(l) => l.encoding(),
            Value::Hash(h) => h.encoding(),
            Value::Set(s) => s.encoding(),
            Value::ZSet(z) => z.encoding(),
        }
    }

    /// The string's bytes, formatting integers into `buf`. `None` for non-strings.
    pub fn as_bytes<'a>(&'a self, buf: &'a mut itoa_buf::Buf) -> Option<&'a [u8]> {
        match self {
            Value::Int(i) => Some(buf.format(*i)),
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Number of elements for collections, used by lazy-free decisions and RESIZEDB.
    pub fn element_count(&self) -> usize {
        match self {
            Value::Int(_) | Value::Str(_) => 1,
            Value::List(l) => l.len(),
            Value::Hash(h) => h.len(),
            Value::Set(s) => s.len(),
            Value::ZSet(z) => z.len(),
        }
    }
}

/// Marks a string as Redis's `raw` encoding even when it is short: strings
/// modified in place (APPEND, SETRANGE) are `raw` in Redis whatever their
/// length. The mark is a heap capacity above [`EMBSTR_SIZE_LIMIT`], which
/// strings built from a slice never have unless they are longer than that.
pub fn mark_raw(s: &mut ByteStr) {
    if s.capacity() <= EMBSTR_SIZE_LIMIT {
        s.reserve_exact(EMBSTR_SIZE_LIMIT + 1 - s.len());
    }
    debug_assert!(is_raw_marked(s));
}

/// True if `s` carries the [`mark_raw`] mark.
pub fn is_raw_marked(s: &ByteStr) -> bool {
    s.spilled() && s.capacity() > EMBSTR_SIZE_LIMIT
}

/// A stack buffer for formatting integers without allocating.
pub mod itoa_buf {
    use std::io::Write;

    #[derive(Default)]
    pub struct Buf {
        bytes: [u8; 24],
    }

    impl Buf {
        pub fn new() -> Buf {
            Buf::default()
        }

        pub fn format(&mut self, i: i64) -> &[u8] {
            let mut cursor = std::io::Cursor::new(&mut self.bytes[..]);
            // 24 bytes always hold an i64's 20 characters.
            let _ = write!(cursor, "{i}");
            let len = cursor.position() as usize;
            &self.bytes[..len]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key pays for a `Value`; hashes, sets and sorted sets live inline
    /// (no extra allocation per collection), lists are boxed.
    #[test]
    fn value_stays_32_bytes() {
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }
}

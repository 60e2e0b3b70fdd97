//! Why an RDB could not be read or written.
//!
//! Every decoding error carries the byte offset where the problem was found
//! (and the key, when one was being read), because "RDB is corrupt" with no
//! position is useless to someone holding a 20 GB dump.

use std::io;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RdbError {
    #[error("wrong signature trying to load DB from file (offset 0): not an RDB file")]
    BadMagic,
    #[error("can't handle RDB format version {version} (newest supported is {max})")]
    UnsupportedVersion { version: u32, max: u32 },
    #[error("unexpected end of file at offset {offset} while reading {what}")]
    Truncated { offset: u64, what: &'static str },
    #[error("corrupt RDB at offset {offset}: {what}")]
    Corrupt { offset: u64, what: String },
    #[error("corrupt value of key {key:?} at offset {offset}: {what}")]
    CorruptValue {
        offset: u64,
        key: String,
        what: String,
    },
    #[error(
        "unsupported RDB value type {rdb_type} ({type_name}) for key {key:?} at offset {offset}"
    )]
    UnsupportedType {
        offset: u64,
        key: String,
        rdb_type: u8,
        type_name: &'static str,
    },
    #[error("unknown RDB value type {byte} for key {key:?} at offset {offset}")]
    UnknownType { offset: u64, key: String, byte: u8 },
    #[error("RDB checksum mismatch at offset {offset}: stored {stored:#018x}, computed {computed:#018x}")]
    ChecksumMismatch {
        offset: u64,
        stored: u64,
        computed: u64,
    },
    #[error("RDB I/O error: {0}")]
    Io(#[from] io::Error),
}

impl RdbError {
    /// The byte offset the error refers to, when it has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            RdbError::BadMagic => Some(0),
            RdbError::UnsupportedVersion { .. } => Some(5),
            RdbError::Truncated { offset, .. }
            | RdbError::Corrupt { offset, .. }
            | RdbError::CorruptValue { offset, .. }
            | RdbError::UnsupportedType { offset, .. }
            | RdbError::UnknownType { offset, .. }
            | RdbError::ChecksumMismatch { offset, .. } => Some(*offset),
            RdbError::Io(_) => None,
        }
    }
}

/// Why an embedded blob (listpack, ziplist, intset, zipmap, LZF) is invalid.
/// The decoder wraps it with the key and the blob's file offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} at blob byte {pos}")]
pub struct BlobError {
    pub pos: usize,
    pub what: &'static str,
}

impl BlobError {
    pub fn new(pos: usize, what: &'static str) -> BlobError {
        BlobError { pos, what }
    }
}

//! The RDB file format: Redis 7.0's snapshot format, byte for byte.
//!
//! The encoder writes RDB version 10 with the encodings redis-server 7.0
//! itself writes (quicklist2 lists, intset/listpack small collections), so a
//! file we save loads into a real Redis and vice versa. The decoder reads
//! every encoding Redis 7.0 to 7.4 writes, plus the legacy ziplist/zipmap
//! forms older servers left on disk. Nothing read from disk may panic the
//! process or make it allocate more than the input can justify.
//!
//! ```
//! use ringkv_engine::keyspace::Entry;
//! use ringkv_engine::rdb::{AuxInfo, RdbReader, RdbWriteOptions, RdbWriter};
//! use ringkv_engine::Value;
//!
//! // Writing: the caller walks its data and feeds (db, key, entry).
//! let mut w = RdbWriter::new(Vec::new(), RdbWriteOptions::default())?;
//! w.write_standard_aux(&AuxInfo { ctime_s: 1_700_000_000, used_mem_bytes: 0, aof_base: false })?;
//! w.select_db(0, 1, 1)?;
//! w.write_entry(b"greeting", &Entry { value: Value::string(b"hello"), expire_at_ms: 4_102_444_800_000 })?;
//! let (bytes, stats) = w.finish()?;
//! assert_eq!(stats.keys_written, 1);
//!
//! // Reading: items come one at a time from a slice (a mapped file).
//! let mut reader = RdbReader::new(&bytes)?;
//! let item = reader.next_item()?.expect("one key");
//! assert_eq!((item.db, item.key.as_slice()), (0, &b"greeting"[..]));
//! assert!(reader.next_item()?.is_none());
//! assert_eq!(reader.aux_value(b"redis-ver"), Some(&b"7.0.15"[..]));
//! println!("read {} of {} bytes", reader.position(), reader.total_bytes());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod check;
#[cfg(test)]
mod codec_tests;
pub mod crc64;
pub mod decoder;
pub mod encoder;
pub mod error;
pub mod file;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod string;
pub mod ziplist;
pub mod zipmap;

pub use check::{check_rdb, check_rdb_file, CheckError, CheckReport};
pub use decoder::{ChecksumStatus, RdbItem, RdbReader, ResizeHint};
pub use encoder::{AuxInfo, EncodingThresholds, RdbWriteOptions, RdbWriter, WriteStats};
pub use error::RdbError;
pub use file::{save_atomically, temp_rdb_filename, SaveStats};

/// The RDB version this encoder writes (what Redis 7.0 writes and loads).
pub const RDB_VERSION_WRITTEN: u32 = 10;
/// The newest RDB version the decoder reads (Redis 7.4).
pub const RDB_VERSION_MAX_READ: u32 = 12;
/// The version string written in the `redis-ver` AUX field: the Redis
/// release whose behaviour ringkv reproduces.
pub const REDIS_VER_COMPAT: &str = "7.0.15";

/// Container tags of QUICKLIST_2 nodes: one raw element, or a listpack.
pub const QUICKLIST_NODE_PLAIN: u64 = 1;
pub const QUICKLIST_NODE_PACKED: u64 = 2;

/// Opcodes that may appear where a key's type byte is expected.
pub mod opcode {
    pub const SLOT_INFO: u8 = 244;
    pub const FUNCTION2: u8 = 245;
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Value type bytes (`RDB_TYPE_*` in Redis's rdb.h).
pub mod rdb_type {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE_PRE_GA: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
    pub const SET_LISTPACK: u8 = 20;
    pub const STREAM_LISTPACKS_3: u8 = 21;
    /// 7.4 hashes with field expiry (22/23 were pre-GA forms of 24/25).
    pub const HASH_METADATA_PRE_GA: u8 = 22;
    pub const HASH_LISTPACK_EX_PRE_GA: u8 = 23;
    pub const HASH_METADATA: u8 = 24;
    pub const HASH_LISTPACK_EX: u8 = 25;

    /// The name redis-check-rdb and our reports use for a type byte.
    pub fn name(t: u8) -> &'static str {
        match t {
            STRING => "string",
            LIST => "list-linkedlist",
            SET => "set-hashtable",
            ZSET => "zset-v1",
            HASH => "hash-hashtable",
            ZSET_2 => "zset-v2",
            MODULE_PRE_GA | MODULE_2 => "module",
            HASH_ZIPMAP => "hash-zipmap",
            LIST_ZIPLIST => "list-ziplist",
            SET_INTSET => "set-intset",
            ZSET_ZIPLIST => "zset-ziplist",
            HASH_ZIPLIST => "hash-ziplist",
            LIST_QUICKLIST => "list-quicklist",
            STREAM_LISTPACKS | STREAM_LISTPACKS_2 | STREAM_LISTPACKS_3 => "stream",
            HASH_LISTPACK => "hash-listpack",
            ZSET_LISTPACK => "zset-listpack",
            LIST_QUICKLIST_2 => "list-quicklist2",
            SET_LISTPACK => "set-listpack",
            HASH_METADATA_PRE_GA..=HASH_LISTPACK_EX => "hash-with-field-expiry",
            _ => "unknown",
        }
    }
}

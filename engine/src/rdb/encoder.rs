//! Writes RDB version 10 files with the encodings redis-server 7.0 writes.
//!
//! The writer streams: it never holds more than one collection's blob in
//! memory, and it knows nothing about locks or the keyspace. The caller feeds
//! it `select_db` and `(key, &Entry)` pairs in whatever order it walks the
//! data (the snapshot engine goes slot by slot), which is also why RESIZEDB
//! sizes come from the caller: they are hints, as in Redis.

use std::io::{self, Write};

use crate::keyspace::Entry;
use crate::rdb::crc64::Crc64;
use crate::rdb::intset;
use crate::rdb::listpack::{self, ListpackBuilder};
use crate::rdb::lzf::Compressor;
use crate::rdb::string::{
    int_encodable, push_int_encoding, push_len, ENCODED, ENC_LZF, LZF_MIN_LEN,
};
use crate::rdb::{opcode, rdb_type, RDB_VERSION_WRITTEN, REDIS_VER_COMPAT};
use crate::rdb::{QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN};
use crate::types::{HashValue, ListValue, SetValue, ZSetValue};
use crate::util::{format_double_g17, parse_canonical_i64};
use crate::value::Value;

/// Elements at least this large get a quicklist node of their own stored
/// as a PLAIN node (Redis's `packed_threshold`, 1 GB by default).
pub const QUICKLIST_PACKED_THRESHOLD_BYTES_DEFAULT: usize = 1 << 30;
/// Size cap of a quicklist node when the fill is a count (`SIZE_SAFETY_LIMIT`).
const QUICKLIST_SAFETY_LIMIT_BYTES: usize = 8192;
/// Listpacks beyond this size are never produced (Redis's
/// `LISTPACK_MAX_SAFETY_SIZE`); such collections use the plain encoding.
const LISTPACK_MAX_SAFETY_SIZE_BYTES: usize = 1 << 30;

/// The `*-max-*` settings that decide which encoding a collection gets.
/// Defaults are Redis 7.0's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingThresholds {
    pub hash_max_listpack_entries: usize,
    pub hash_max_listpack_value: usize,
    pub zset_max_listpack_entries: usize,
    pub zset_max_listpack_value: usize,
    pub set_max_intset_entries: usize,
    /// `list-max-listpack-size`: negative = node size class (-2 = 8 KB),
    /// positive = elements per node.
    pub list_max_listpack_size: i64,
    /// Elements at least this large are written as PLAIN quicklist nodes
    /// (Redis's `DEBUG QUICKLIST-PACKED-THRESHOLD`).
    pub quicklist_packed_threshold_bytes: usize,
}

impl Default for EncodingThresholds {
    fn default() -> Self {
        EncodingThresholds {
            hash_max_listpack_entries: 512,
            hash_max_listpack_value: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
            quicklist_packed_threshold_bytes: QUICKLIST_PACKED_THRESHOLD_BYTES_DEFAULT,
        }
    }
}

impl EncodingThresholds {
    /// (bytes per node, elements per node, plain threshold) for quicklist
    /// chunking.
    fn quicklist_node_limits(&self) -> (usize, usize, usize) {
        // A packed node is a listpack, whose size field is a u32.
        const LISTPACK_SIZE_MAX: usize = u32::MAX as usize - 64;
        let plain = self.quicklist_packed_threshold_bytes.min(LISTPACK_SIZE_MAX);
        let (bytes, count) = match self.list_max_listpack_size {
            fill if fill < 0 => {
                let class = (-fill).min(5) as u32;
                (4096 << (class - 1), usize::MAX)
            }
            0 => (QUICKLIST_SAFETY_LIMIT_BYTES, 1),
            fill => (QUICKLIST_SAFETY_LIMIT_BYTES, fill as usize),
        };
        (bytes, count, plain)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RdbWriteOptions {
    /// `rdbcompression`: LZF-compress strings longer than 20 bytes when it pays.
    pub compression: bool,
    /// `rdbchecksum`: write the CRC-64 trailer (zero when off).
    pub checksum: bool,
    pub thresholds: EncodingThresholds,
}

impl Default for RdbWriteOptions {
    fn default() -> Self {
        RdbWriteOptions {
            compression: true,
            checksum: true,
            thresholds: EncodingThresholds::default(),
        }
    }
}

/// The values of the standard AUX fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuxInfo {
    pub ctime_s: u64,
    pub used_mem_bytes: u64,
    /// True when the file is the base of a multi-part AOF.
    pub aof_base: bool,
}

/// What a finished write produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteStats {
    pub keys_written: u64,
    pub bytes_written: u64,
    /// The stored trailer (0 when checksums are off).
    pub checksum: u64,
}

/// Forwards bytes to the output while checksumming and counting them.
struct Sink<W: Write> {
    out: W,
    crc: Crc64,
    bytes_written: u64,
}

impl<W: Write> Sink<W> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.crc.update(bytes);
        self.bytes_written += bytes.len() as u64;
        Ok(())
    }
}

/// Streams one RDB file into `W`. Wrap files in a `BufWriter`: the writer
/// issues many small writes.
pub struct RdbWriter<W: Write> {
    sink: Sink<W>,
    opts: RdbWriteOptions,
    lzf: Compressor,
    /// Reused buffers: `header` for small encodings, `blob` for listpacks
    /// and intsets, `compressed` for LZF output.
    header: Vec<u8>,
    blob: Vec<u8>,
    compressed: Vec<u8>,
    keys_written: u64,
    last_db: Option<u32>,
    /// Segment mode (the snapshot engine): keys only, no magic, no EOF;
    /// the bytes are spliced into a file later with `write_segment`.
    segment: bool,
}

impl<W: Write> RdbWriter<W> {
    /// Starts a file: writes the `REDIS0010` magic.
    pub fn new(out: W, opts: RdbWriteOptions) -> io::Result<RdbWriter<W>> {
        let mut w = RdbWriter {
            sink: Sink {
                out,
                crc: Crc64::new(),
                bytes_written: 0,
            },
            opts,
            lzf: Compressor::new(),
            header: Vec::with_capacity(32),
            blob: Vec::new(),
            compressed: Vec::new(),
            keys_written: 0,
            last_db: None,
            segment: false,
        };
        let magic = format!("REDIS{RDB_VERSION_WRITTEN:04}");
        w.sink.put(magic.as_bytes())?;
        Ok(w)
    }

    /// A writer for a segment of keys (no magic, no trailer): the snapshot
    /// engine encodes each slot's keys into one, then splices the bytes into
    /// the file with [`RdbWriter::write_segment`], which checksums them.
    pub fn new_segment(out: W, opts: RdbWriteOptions) -> RdbWriter<W> {
        RdbWriter {
            sink: Sink {
                out,
                crc: Crc64::new(),
                bytes_written: 0,
            },
            opts,
            lzf: Compressor::new(),
            header: Vec::with_capacity(32),
            blob: Vec::new(),
            compressed: Vec::new(),
            keys_written: 0,
            last_db: None,
            segment: true,
        }
    }

    pub fn options(&self) -> RdbWriteOptions {
        self.opts
    }

    /// Appends bytes a segment writer produced (holding `keys` keys) to
    /// this file, through the checksum.
    pub fn write_segment(&mut self, bytes: &[u8], keys: u64) -> io::Result<()> {
        debug_assert!(self.last_db.is_some(), "select a database before keys");
        self.sink.put(bytes)?;
        self.keys_written += keys;
        Ok(())
    }

    /// Switches to database `db` in any order (the snapshot engine walks
    /// slots, so databases repeat; Redis's loader accepts repeated
    /// SELECTDB). `resize` writes a RESIZEDB hint, given the first time.
    pub fn switch_db(&mut self, db: u32, resize: Option<(u64, u64)>) -> io::Result<()> {
        self.last_db = Some(db);
        self.header.clear();
        self.header.push(opcode::SELECTDB);
        push_len(&mut self.header, u64::from(db));
        if let Some((db_size, expires_size)) = resize {
            self.header.push(opcode::RESIZEDB);
            push_len(&mut self.header, db_size);
            push_len(&mut self.header, expires_size);
        }
        self.flush_header()
    }

    pub fn bytes_written(&self) -> u64 {
        self.sink.bytes_written
    }

    pub fn keys_written(&self) -> u64 {
        self.keys_written
    }

    /// Writes one AUX field. Must come before the first `select_db`.
    pub fn write_aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        debug_assert!(self.last_db.is_none(), "AUX fields belong before the keys");
        self.put_byte(opcode::AUX)?;
        self.write_string(key)?;
        self.write_string(value)
    }

    /// Writes the AUX fields redis-server 7.0 writes, in its order, plus
    /// `ringkv-ver`.
    pub fn write_standard_aux(&mut self, info: &AuxInfo) -> io::Result<()> {
        self.write_aux(b"redis-ver", REDIS_VER_COMPAT.as_bytes())?;
        self.write_aux(b"redis-bits", b"64")?;
        self.write_aux(b"ctime", info.ctime_s.to_string().as_bytes())?;
        self.write_aux(b"used-mem", info.used_mem_bytes.to_string().as_bytes())?;
        self.write_aux(b"aof-base", if info.aof_base { b"1" } else { b"0" })?;
        self.write_aux(b"ringkv-ver", env!("CARGO_PKG_VERSION").as_bytes())
    }

    /// Starts database `db` with its RESIZEDB hint (key count and keys with
    /// an expiry), as Redis writes each non-empty database once, ascending.
    pub fn select_db(&mut self, db: u32, db_size: u64, expires_size: u64) -> io::Result<()> {
        self.last_db = Some(db);
        self.header.clear();
        self.header.push(opcode::SELECTDB);
        push_len(&mut self.header, u64::from(db));
        self.header.push(opcode::RESIZEDB);
        push_len(&mut self.header, db_size);
        push_len(&mut self.header, expires_size);
        self.flush_header()
    }

    /// Writes one key of the current database.
    pub fn write_entry(&mut self, key: &[u8], entry: &Entry) -> io::Result<()> {
        debug_assert!(
            self.segment || self.last_db.is_some(),
            "select_db before write_entry"
        );
        if entry.has_expiry() {
            self.header.clear();
            self.header.push(opcode::EXPIRETIME_MS);
            // Absolute ms fit in i64 until the year 292 million.
            let ms = i64::try_from(entry.expire_at_ms).unwrap_or(i64::MAX);
            self.header.extend_from_slice(&ms.to_le_bytes());
            self.flush_header()?;
        }
        match &entry.value {
            Value::Int(i) => {
                self.put_byte(rdb_type::STRING)?;
                self.write_string(key)?;
                self.write_int_string(*i)?;
            }
            Value::Str(s) => {
                self.put_byte(rdb_type::STRING)?;
                self.write_string(key)?;
                self.write_string(s)?;
            }
            Value::List(list) => self.write_list(key, list)?,
            Value::Set(set) => self.write_set(key, set)?,
            Value::ZSet(zset) => self.write_zset(key, zset)?,
            Value::Hash(hash) => self.write_hash(key, hash)?,
        }
        self.keys_written += 1;
        Ok(())
    }

    /// Writes EOF and the checksum trailer and flushes; returns the output.
    pub fn finish(mut self) -> io::Result<(W, WriteStats)> {
        self.put_byte(opcode::EOF)?;
        let checksum = if self.opts.checksum {
            self.sink.crc.value()
        } else {
            0
        };
        self.sink.out.write_all(&checksum.to_le_bytes())?;
        self.sink.bytes_written += 8;
        self.sink.out.flush()?;
        let stats = WriteStats {
            keys_written: self.keys_written,
            bytes_written: self.sink.bytes_written,
            checksum,
        };
        Ok((self.sink.out, stats))
    }

    fn put_byte(&mut self, b: u8) -> io::Result<()> {
        self.sink.put(&[b])
    }

    fn put_len(&mut self, len: u64) -> io::Result<()> {
        self.header.clear();
        push_len(&mut self.header, len);
        self.flush_header()
    }

    fn flush_header(&mut self) -> io::Result<()> {
        self.sink.put(&self.header)
    }

    /// `rdbSaveRawString`: integer form when Redis would use it, else LZF
    /// when on and it saves at least 4 bytes, else verbatim.
    fn write_string(&mut self, s: &[u8]) -> io::Result<()> {
        self.header.clear();
        if let Some(v) = int_encodable(s) {
            let fits = push_int_encoding(&mut self.header, v);
            debug_assert!(fits);
            return self.flush_header();
        }
        if self.opts.compression
            && s.len() > LZF_MIN_LEN
            && self.lzf.compress(s, &mut self.compressed, s.len() - 4)
        {
            self.header.push((ENCODED << 6) | ENC_LZF);
            push_len(&mut self.header, self.compressed.len() as u64);
            push_len(&mut self.header, s.len() as u64);
            self.sink.put(&self.header)?;
            return self.sink.put(&self.compressed);
        }
        push_len(&mut self.header, s.len() as u64);
        self.sink.put(&self.header)?;
        self.sink.put(s)
    }

    /// An `int`-encoded string object: integer form within int32, decimal
    /// text otherwise.
    fn write_int_string(&mut self, v: i64) -> io::Result<()> {
        self.header.clear();
        if push_int_encoding(&mut self.header, v) {
            return self.flush_header();
        }
        let text = v.to_string();
        self.write_string(text.as_bytes())
    }

    /// Writes the blob in `self.blob` as a string.
    fn write_blob(&mut self) -> io::Result<()> {
        let blob = std::mem::take(&mut self.blob);
        let result = self.write_string(&blob);
        self.blob = blob;
        result
    }

    fn write_list(&mut self, key: &[u8], list: &ListValue) -> io::Result<()> {
        self.put_byte(rdb_type::LIST_QUICKLIST_2)?;
        self.write_string(key)?;
        let limits = self.opts.thresholds.quicklist_node_limits();
        // Pass 1 counts nodes (the count precedes them); pass 2 writes them
        // with the same chunking.
        let mut chunker = QuicklistChunker::new(limits);
        let nodes = list
            .iter()
            .filter(|e| chunker.place(e) != Placement::SameNode)
            .count();
        self.put_len(nodes as u64)?;
        let mut chunker = QuicklistChunker::new(limits);
        let mut open: Option<ListpackBuilder> = None; // the node being built
        for element in list.iter() {
            let placement = chunker.place(element);
            if placement != Placement::SameNode {
                if let Some(node) = open.take() {
                    self.finish_packed_node(node)?;
                }
            }
            if placement == Placement::Plain {
                self.put_len(QUICKLIST_NODE_PLAIN)?;
                self.write_string(element)?;
                continue;
            }
            let node = open.get_or_insert_with(|| {
                self.blob.clear();
                ListpackBuilder::begin(&mut self.blob)
            });
            node.push(&mut self.blob, element);
        }
        if let Some(node) = open {
            self.finish_packed_node(node)?;
        }
        Ok(())
    }

    /// Seals the listpack built in `self.blob` and writes it as a PACKED node.
    fn finish_packed_node(&mut self, node: ListpackBuilder) -> io::Result<()> {
        debug_assert!(node.count() > 0);
        node.finish(&mut self.blob);
        self.put_len(QUICKLIST_NODE_PACKED)?;
        self.write_blob()
    }

    fn write_set(&mut self, key: &[u8], set: &SetValue) -> io::Result<()> {
        if set.len() <= self.opts.thresholds.set_max_intset_entries {
            let ints: Option<Vec<i64>> = set.iter().map(|m| parse_canonical_i64(&m)).collect();
            if let Some(mut ints) = ints {
                ints.sort_unstable();
                ints.dedup();
                self.blob.clear();
                intset::encode(&ints, &mut self.blob);
                self.put_byte(rdb_type::SET_INTSET)?;
                self.write_string(key)?;
                return self.write_blob();
            }
        }
        self.put_byte(rdb_type::SET)?;
        self.write_string(key)?;
        self.put_len(set.len() as u64)?;
        for member in set.iter() {
            self.write_string(&member)?;
        }
        Ok(())
    }

    fn write_zset(&mut self, key: &[u8], zset: &ZSetValue) -> io::Result<()> {
        let t = &self.opts.thresholds;
        let small = zset.len() <= t.zset_max_listpack_entries
            && zset
                .iter()
                .all(|(m, _)| m.len() <= t.zset_max_listpack_value);
        if small {
            self.blob.clear();
            let mut lp = ListpackBuilder::begin(&mut self.blob);
            for (member, score) in zset.iter() {
                lp.push(&mut self.blob, member);
                match integral_score(score) {
                    Some(i) => lp.push_int(&mut self.blob, i),
                    None => lp.push(&mut self.blob, format_double_g17(score).as_bytes()),
                }
            }
            let size = lp.finish(&mut self.blob);
            if size <= LISTPACK_MAX_SAFETY_SIZE_BYTES {
                self.put_byte(rdb_type::ZSET_LISTPACK)?;
                self.write_string(key)?;
                return self.write_blob();
            }
        }
        self.put_byte(rdb_type::ZSET_2)?;
        self.write_string(key)?;
        self.put_len(zset.len() as u64)?;
        // Highest score first, as Redis walks its skiplist from the tail, so
        // a loader inserting in order always inserts at the head.
        let ascending: Vec<(&[u8], f64)> = zset.iter().collect();
        for (member, score) in ascending.into_iter().rev() {
            self.write_string(member)?;
            self.sink.put(&score.to_le_bytes())?;
        }
        Ok(())
    }

    fn write_hash(&mut self, key: &[u8], hash: &HashValue) -> io::Result<()> {
        let t = &self.opts.thresholds;
        let small = hash.len() <= t.hash_max_listpack_entries
            && hash.iter().all(|(f, v)| {
                f.len() <= t.hash_max_listpack_value && v.len() <= t.hash_max_listpack_value
            });
        if small {
            self.blob.clear();
            let mut lp = ListpackBuilder::begin(&mut self.blob);
            for (field, value) in hash.iter() {
                lp.push(&mut self.blob, field);
                lp.push(&mut self.blob, value);
            }
            let size = lp.finish(&mut self.blob);
            if size <= LISTPACK_MAX_SAFETY_SIZE_BYTES {
                self.put_byte(rdb_type::HASH_LISTPACK)?;
                self.write_string(key)?;
                return self.write_blob();
            }
        }
        self.put_byte(rdb_type::HASH)?;
        self.write_string(key)?;
        self.put_len(hash.len() as u64)?;
        for (field, value) in hash.iter() {
            self.write_string(field)?;
            self.write_string(value)?;
        }
        Ok(())
    }
}

/// The integer a listpack score is stored as when it is integral and
/// within ±2^52 (so exact). -0 becomes 0, as in a listpack Redis 7.0 saves
/// (verified: `ZADD z -0 a` then SAVE stores the integer 0).
fn integral_score(score: f64) -> Option<i64> {
    const LIMIT: f64 = 4_503_599_627_370_496.0; // 2^52
    (score.fract() == 0.0 && score.abs() < LIMIT).then_some(score as i64)
}

impl RdbWriter<Vec<u8>> {
    /// Takes the bytes and key count a segment writer produced so far,
    /// leaving it empty for the next segment (buffers are kept).
    pub fn take_segment(&mut self) -> (Vec<u8>, u64) {
        debug_assert!(self.segment);
        let keys = std::mem::take(&mut self.keys_written);
        self.sink.bytes_written = 0;
        (std::mem::take(&mut self.sink.out), keys)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// The element is too big for a listpack: a PLAIN node of its own.
    Plain,
    /// The element starts a new PACKED node.
    NewNode,
    /// The element joins the open node.
    SameNode,
}

/// Decides quicklist node boundaries the way `_quicklistNodeAllowInsert`
/// does: a node grows until the next element would cross the size (or
/// count) limit.
struct QuicklistChunker {
    max_bytes: usize,
    max_count: usize,
    plain_threshold_bytes: usize,
    open_bytes: usize,
    open_count: usize,
}

impl QuicklistChunker {
    fn new(
        (max_bytes, max_count, plain_threshold_bytes): (usize, usize, usize),
    ) -> QuicklistChunker {
        QuicklistChunker {
            max_bytes,
            max_count,
            plain_threshold_bytes,
            open_bytes: 0,
            open_count: 0,
        }
    }

    fn place(&mut self, element: &[u8]) -> Placement {
        if element.len() >= self.plain_threshold_bytes {
            self.open_count = 0;
            self.open_bytes = 0;
            return Placement::Plain;
        }
        let size = listpack::entry_size(element);
        if self.open_count > 0
            && self.open_bytes + size <= self.max_bytes
            && self.open_count < self.max_count
        {
            self.open_bytes += size;
            self.open_count += 1;
            return Placement::SameNode;
        }
        self.open_bytes = listpack::EMPTY_SIZE + size;
        self.open_count = 1;
        Placement::NewNode
    }
}

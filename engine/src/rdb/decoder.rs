//! Reads RDB files: every encoding Redis 7.0 to 7.4 writes and the legacy
//! ones (ziplist, zipmap, quicklist v1) 7.0 still loads.
//!
//! The reader works on a byte slice (the loader memory-maps the file) and
//! yields one [`RdbItem`] at a time, so loading needs no second copy of the
//! file. Every length read from the file is checked against the bytes left
//! before anything is allocated for it: a 40-byte file claiming a 4 GB
//! string is an error at the length's offset, not an allocation failure.

use std::borrow::Cow;

use crate::keyspace::Entry;
use crate::rdb::error::{BlobError, RdbError};
use crate::rdb::intset::Intset;
use crate::rdb::listpack::{ListpackReader, LpEntry};
use crate::rdb::string::{ENC_INT16, ENC_INT32, ENC_INT8, ENC_LZF};
use crate::rdb::ziplist::ZiplistReader;
use crate::rdb::{lzf, opcode, rdb_type, zipmap, RDB_VERSION_MAX_READ};
use crate::rdb::{QUICKLIST_NODE_PACKED, QUICKLIST_NODE_PLAIN};
use smallvec::SmallVec;

use crate::types::index_map::{IndexMap, IndexSet};
use crate::types::list::ListBuilder;
use crate::types::order_tree::cmp_entry;
use crate::types::packed::{Packed, PackedBuilder};
use crate::types::zset::push_packed_pair;
use crate::types::{HashValue, SetValue, ZSetValue};
use crate::value::{itoa_buf, Value};

/// One key read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct RdbItem {
    pub db: u32,
    pub key: Vec<u8>,
    pub entry: Entry,
    /// The type byte the value was stored with (see [`rdb_type`]).
    pub rdb_type: u8,
    /// File offset of the value's type byte.
    pub offset: u64,
    /// IDLE opcode: seconds since last access, when the file carries it.
    pub lru_idle_s: Option<u64>,
    /// FREQ opcode: the LFU counter, when the file carries it.
    pub lfu_freq: Option<u8>,
}

/// What happened to the CRC-64 trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumStatus {
    /// The stored checksum matched.
    Verified(u64),
    /// The file was saved with `rdbchecksum no` (trailer is zero).
    NotStored,
    /// Checking was turned off by the caller.
    NotChecked,
    /// RDB versions before 5 have no trailer.
    NotInVersion,
}

/// A RESIZEDB hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResizeHint {
    pub db: u32,
    pub db_size: u64,
    pub expires_size: u64,
}

/// A string read from the file: borrowed when stored verbatim.
type Bytes<'a> = Cow<'a, [u8]>;

/// Length prefix: a plain length or the tag of a specially encoded string.
enum Len {
    Plain(u64),
    Encoded(u8),
}

pub struct RdbReader<'a> {
    data: &'a [u8],
    pos: usize,
    version: u32,
    db: u32,
    verify_checksum: bool,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    resize_hints: Vec<ResizeHint>,
    warnings: Vec<String>,
    /// Set once EOF and the trailer have been read.
    checksum: Option<ChecksumStatus>,
    /// Set after an error: the reader yields nothing more.
    failed: bool,
}

impl<'a> RdbReader<'a> {
    /// Checks the magic and version. Nothing else is read yet.
    pub fn new(data: &'a [u8]) -> Result<RdbReader<'a>, RdbError> {
        if data.len() < 9 || &data[..5] != b"REDIS" {
            return Err(RdbError::BadMagic);
        }
        let digits = &data[5..9];
        let version = std::str::from_utf8(digits)
            .ok()
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(0);
        if !(1..=RDB_VERSION_MAX_READ).contains(&version) {
            return Err(RdbError::UnsupportedVersion {
                version,
                max: RDB_VERSION_MAX_READ,
            });
        }
        Ok(RdbReader {
            data,
            pos: 9,
            version,
            db: 0,
            verify_checksum: true,
            aux: Vec::new(),
            resize_hints: Vec::new(),
            warnings: Vec::new(),
            checksum: None,
            failed: false,
        })
    }

    /// Whether to verify the CRC-64 trailer (Redis's `rdbchecksum`).
    pub fn set_verify_checksum(&mut self, verify: bool) {
        self.verify_checksum = verify;
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes consumed so far; after the end, the offset just past the
    /// trailer (where an AOF's command tail starts in an RDB-preamble AOF).
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    pub fn total_bytes(&self) -> u64 {
        self.data.len() as u64
    }

    /// AUX fields read so far, in file order.
    pub fn aux(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.aux
    }

    /// The value of an AUX field, if present.
    pub fn aux_value(&self, key: &[u8]) -> Option<&[u8]> {
        self.aux
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    pub fn resize_hints(&self) -> &[ResizeHint] {
        &self.resize_hints
    }

    /// Things skipped while reading (function libraries, module data, empty
    /// keys), each naming what and where.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// `Some` once the whole file has been read.
    pub fn checksum_status(&self) -> Option<ChecksumStatus> {
        self.checksum
    }

    /// Reads up to the next key; `Ok(None)` after EOF and the trailer.
    pub fn next_item(&mut self) -> Result<Option<RdbItem>, RdbError> {
        if self.failed || self.checksum.is_some() {
            return Ok(None);
        }
        let result = self.read_item();
        if result.is_err() {
            self.failed = true;
        }
        result
    }

    fn read_item(&mut self) -> Result<Option<RdbItem>, RdbError> {
        let mut expire_at_ms: Option<i64> = None;
        let mut lru_idle_s = None;
        let mut lfu_freq = None;
        loop {
            let op_offset = self.pos;
            let op = self.byte("opcode or value type")?;
            match op {
                opcode::EOF => {
                    self.read_trailer(op_offset)?;
                    return Ok(None);
                }
                opcode::SELECTDB => {
                    let db = self.len("SELECTDB database number")?;
                    self.db = u32::try_from(db)
                        .map_err(|_| self.corrupt_at(op_offset, "database number out of range"))?;
                }
                opcode::RESIZEDB => {
                    let db_size = self.len("RESIZEDB db size")?;
                    let expires_size = self.len("RESIZEDB expires size")?;
                    self.resize_hints.push(ResizeHint {
                        db: self.db,
                        db_size,
                        expires_size,
                    });
                }
                opcode::AUX => {
                    let key = self.string("AUX field name")?.into_owned();
                    let value = self.string("AUX field value")?.into_owned();
                    self.aux.push((key, value));
                }
                opcode::EXPIRETIME_MS => {
                    let b = self.take(8, "EXPIRETIME_MS value")?;
                    let mut ms = [0u8; 8];
                    ms.copy_from_slice(b);
                    expire_at_ms = Some(i64::from_le_bytes(ms));
                }
                opcode::EXPIRETIME => {
                    let b = self.take(4, "EXPIRETIME value")?;
                    let s = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    expire_at_ms = Some(i64::from(s) * 1000);
                }
                opcode::IDLE => lru_idle_s = Some(self.len("IDLE seconds")?),
                opcode::FREQ => lfu_freq = Some(self.byte("FREQ counter")?),
                opcode::FUNCTION2 => {
                    self.string("FUNCTION2 library code")?;
                    self.warn(
                        op_offset,
                        "function library skipped (functions are not supported)",
                    );
                }
                opcode::FUNCTION_PRE_GA => {
                    self.string("FUNCTION name")?;
                    self.string("FUNCTION engine")?;
                    if self.len("FUNCTION has-description flag")? != 0 {
                        self.string("FUNCTION description")?;
                    }
                    self.string("FUNCTION code")?;
                    self.warn(
                        op_offset,
                        "pre-GA function skipped (functions are not supported)",
                    );
                }
                opcode::MODULE_AUX => {
                    self.skip_module_aux(op_offset)?;
                }
                opcode::SLOT_INFO => {
                    self.len("SLOT_INFO slot")?;
                    self.len("SLOT_INFO slot size")?;
                    self.len("SLOT_INFO expires slot size")?;
                }
                t => {
                    let key = self.string("key")?.into_owned();
                    let value = self
                        .value(t, op_offset, &key)
                        .map_err(|e| attach_key(e, &key))?;
                    let Some(value) = value else {
                        self.warn(op_offset, &format!("skipping empty key {}", show_key(&key)));
                        expire_at_ms = None;
                        lru_idle_s = None;
                        lfu_freq = None;
                        continue;
                    };
                    let expire_at_ms = match expire_at_ms {
                        None => crate::keyspace::NO_EXPIRY,
                        // 0 means "no expiry" in memory; a stored time at or
                        // before the epoch is simply long past.
                        Some(ms) if ms <= 0 => 1,
                        Some(ms) => ms as u64,
                    };
                    return Ok(Some(RdbItem {
                        db: self.db,
                        key,
                        entry: Entry {
                            value,
                            expire_at_ms,
                        },
                        rdb_type: t,
                        offset: op_offset as u64,
                        lru_idle_s,
                        lfu_freq,
                    }));
                }
            }
        }
    }

    fn read_trailer(&mut self, eof_offset: usize) -> Result<(), RdbError> {
        if self.version < 5 {
            self.checksum = Some(ChecksumStatus::NotInVersion);
            return Ok(());
        }
        let b = self.take(8, "CRC-64 trailer")?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        let stored = u64::from_le_bytes(raw);
        let status = if stored == 0 {
            ChecksumStatus::NotStored
        } else if !self.verify_checksum {
            ChecksumStatus::NotChecked
        } else {
            let computed = crate::rdb::crc64::crc64(&self.data[..=eof_offset]);
            if computed != stored {
                return Err(RdbError::ChecksumMismatch {
                    offset: eof_offset as u64 + 1,
                    stored,
                    computed,
                });
            }
            ChecksumStatus::Verified(stored)
        };
        self.checksum = Some(status);
        Ok(())
    }

    /// Parses and discards MODULE_AUX data: module id, `when` opcode and
    /// value, then opcode-tagged values up to the EOF opcode.
    fn skip_module_aux(&mut self, op_offset: usize) -> Result<(), RdbError> {
        let module_id = self.len("MODULE_AUX module id")?;
        let when_opcode = self.len("MODULE_AUX when opcode")?;
        if when_opcode != 2 {
            return Err(self.corrupt_at(op_offset, "MODULE_AUX when opcode is not UINT"));
        }
        self.len("MODULE_AUX when")?;
        loop {
            match self.len("module value opcode")? {
                0 => break,
                1 | 2 => {
                    self.len("module integer")?;
                }
                3 => {
                    self.take(4, "module float")?;
                }
                4 => {
                    self.take(8, "module double")?;
                }
                5 => {
                    self.string("module string")?;
                }
                _ => return Err(self.corrupt_at(self.pos, "unknown module value opcode")),
            }
        }
        self.warn(
            op_offset,
            &format!(
                "module aux data skipped (module id {module_id:#x}; modules are not supported)"
            ),
        );
        Ok(())
    }

    /// Reads a value of type `t`. `None` for an empty collection (skipped,
    /// as Redis does).
    fn value(&mut self, t: u8, offset: usize, key: &[u8]) -> Result<Option<Value>, RdbError> {
        let value = match t {
            rdb_type::STRING => {
                let s = self.string("string value")?;
                return Ok(Some(Value::string(&s)));
            }
            rdb_type::LIST => self.read_list_plain()?,
            rdb_type::SET => self.read_set_plain()?,
            rdb_type::ZSET | rdb_type::ZSET_2 => self.read_zset_plain(t)?,
            rdb_type::HASH => self.read_hash_plain()?,
            rdb_type::HASH_ZIPMAP => self.read_hash_zipmap()?,
            rdb_type::LIST_ZIPLIST => self.read_list_ziplist()?,
            rdb_type::SET_INTSET => self.read_set_intset()?,
            rdb_type::SET_LISTPACK => self.read_set_listpack()?,
            rdb_type::ZSET_ZIPLIST | rdb_type::ZSET_LISTPACK => self.read_zset_packed(t)?,
            rdb_type::HASH_ZIPLIST | rdb_type::HASH_LISTPACK => self.read_hash_packed(t)?,
            rdb_type::LIST_QUICKLIST | rdb_type::LIST_QUICKLIST_2 => self.read_list_quicklist(t)?,
            rdb_type::STREAM_LISTPACKS
            | rdb_type::STREAM_LISTPACKS_2
            | rdb_type::STREAM_LISTPACKS_3
            | rdb_type::MODULE_PRE_GA
            | rdb_type::MODULE_2
            | rdb_type::HASH_METADATA_PRE_GA..=rdb_type::HASH_LISTPACK_EX => {
                return Err(RdbError::UnsupportedType {
                    offset: offset as u64,
                    key: show_key(key),
                    rdb_type: t,
                    type_name: rdb_type::name(t),
                })
            }
            _ => {
                return Err(RdbError::UnknownType {
                    offset: offset as u64,
                    key: show_key(key),
                    byte: t,
                })
            }
        };
        Ok((value.element_count() > 0).then_some(value))
    }

    fn read_list_plain(&mut self) -> Result<Value, RdbError> {
        let n = self.count("list length", 1)?;
        let mut list = ListBuilder::new(crate::types::limits());
        for _ in 0..n {
            list.push(&self.string("list element")?);
        }
        Ok(Value::List(Box::new(list.finish())))
    }

    fn read_set_plain(&mut self) -> Result<Value, RdbError> {
        let n = self.count("set size", 1)?;
        let limits = crate::types::limits();
        // Past the intset limit it ends as a table anyway: build that
        // directly instead of converting halfway.
        let mut set = if n as usize > limits.set_max_intset_entries {
            SetValue::Table(Box::new(IndexSet::with_capacity(presize(n))))
        } else {
            SetValue::new()
        };
        for _ in 0..n {
            let at = self.pos;
            if !set.insert_with(&self.string("set member")?, &limits) {
                return Err(self.corrupt_at(at, "duplicate set member"));
            }
        }
        Ok(Value::Set(set))
    }

    fn read_zset_plain(&mut self, t: u8) -> Result<Value, RdbError> {
        let n = self.count("sorted set size", if t == rdb_type::ZSET { 2 } else { 9 })?;
        let limits = crate::types::limits();
        let mut zset = if n as usize > limits.zset_max_listpack_entries {
            ZSetValue::for_size(n as usize, 0, &limits)
        } else {
            ZSetValue::new()
        };
        for _ in 0..n {
            let at = self.pos;
            let member = self.string("sorted set member")?;
            let score = if t == rdb_type::ZSET {
                self.text_double()?
            } else {
                self.binary_double()?
            };
            if score.is_nan() {
                return Err(self.corrupt_at(at, "sorted set with NaN score"));
            }
            if !zset.insert_with(&member, score, &limits) {
                return Err(self.corrupt_at(at, "duplicate sorted set member"));
            }
        }
        Ok(Value::ZSet(zset))
    }

    fn read_hash_plain(&mut self) -> Result<Value, RdbError> {
        let n = self.count("hash size", 2)?;
        let limits = crate::types::limits();
        let mut hash = if n as usize > limits.hash_max_listpack_entries {
            HashValue::Table(Box::new(IndexMap::with_capacity(presize(n))))
        } else {
            HashValue::new()
        };
        for _ in 0..n {
            let at = self.pos;
            let field = self.string("hash field")?;
            let value = self.string("hash value")?;
            if !hash.insert_with(&field, &value, &limits) {
                return Err(self.corrupt_at(at, "duplicate hash field"));
            }
        }
        Ok(Value::Hash(hash))
    }

    fn read_hash_zipmap(&mut self) -> Result<Value, RdbError> {
        let (at, blob) = self.blob("zipmap")?;
        let pairs = zipmap::read_pairs(&blob).map_err(|e| blob_err(at, e))?;
        let mut hash = HashValue::new();
        for (f, v) in pairs {
            if !hash.insert(f, v) {
                return Err(self.corrupt_at(at, "duplicate hash field in zipmap"));
            }
        }
        Ok(Value::Hash(hash))
    }

    fn read_list_ziplist(&mut self) -> Result<Value, RdbError> {
        let (at, blob) = self.blob("ziplist")?;
        let mut list = ListBuilder::new(crate::types::limits());
        each_ziplist(&blob, at, |e| {
            list.push(e);
            Ok(())
        })?;
        Ok(Value::List(Box::new(list.finish())))
    }

    fn read_set_intset(&mut self) -> Result<Value, RdbError> {
        let (at, blob) = self.blob("intset")?;
        let ints = Intset::parse(&blob).map_err(|e| blob_err(at, e))?;
        let mut set = SetValue::new();
        let mut buf = itoa_buf::Buf::new();
        for v in ints.iter() {
            set.insert(buf.format(v));
        }
        Ok(Value::Set(set))
    }

    fn read_set_listpack(&mut self) -> Result<Value, RdbError> {
        let (at, blob) = self.blob("set listpack")?;
        let mut set = SetValue::new();
        each_listpack(&blob, at, |e| {
            if set.insert(e) {
                Ok(())
            } else {
                Err(BlobError::new(0, "duplicate set member"))
            }
        })?;
        Ok(Value::Set(set))
    }

    /// A listpack (or ziplist) sorted set. Redis writes the pairs in
    /// (score, member) order, so when they fit the listpack limits they are
    /// copied into ours in one pass, checked for order and duplicates;
    /// anything else takes the member-by-member path.
    fn read_zset_packed(&mut self, t: u8) -> Result<Value, RdbError> {
        let (at, blob) = self.blob("sorted set blob")?;
        let limits = crate::types::limits();
        let mut b = PackedBuilder::with_capacity(blob.len());
        let mut pairs = 0usize;
        let (mut fits, mut sorted) = (true, true);
        let (mut cur, mut prev): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
        let mut prev_score: Option<f64> = None;
        let mut expect_member = true;
        let add = |e: &[u8]| {
            if expect_member {
                fits &= e.len() <= limits.zset_max_listpack_value;
                cur.clear();
                cur.extend_from_slice(e);
            } else {
                let score = parse_score(e)?;
                if prev_score.is_some_and(|p| cmp_entry(p, &prev, score, &cur).is_ge()) {
                    sorted = false;
                }
                push_packed_pair(&mut b, &cur, score);
                pairs += 1;
                std::mem::swap(&mut prev, &mut cur);
                prev_score = Some(score);
            }
            expect_member = !expect_member;
            Ok(())
        };
        if t == rdb_type::ZSET_ZIPLIST {
            each_ziplist(&blob, at, add)?;
        } else {
            each_listpack(&blob, at, add)?;
        }
        if !expect_member {
            return Err(self.corrupt_at(at, "sorted set blob has a member without a score"));
        }
        let packed = b.finish();
        if fits && sorted && pairs <= limits.zset_max_listpack_entries {
            if has_duplicate_key(&packed) {
                return Err(blob_err(
                    at,
                    BlobError::new(0, "duplicate sorted set member"),
                ));
            }
            let n = u32::try_from(pairs).expect("at most zset-max-listpack-entries");
            return Ok(Value::ZSet(ZSetValue::Listpack(packed, n)));
        }
        self.read_zset_packed_slow(t, at, &blob)
    }

    fn read_zset_packed_slow(&mut self, t: u8, at: usize, blob: &[u8]) -> Result<Value, RdbError> {
        let mut zset = ZSetValue::new();
        let mut member: Option<Vec<u8>> = None;
        let mut add = |e: &[u8]| match member.take() {
            None => {
                member = Some(e.to_vec());
                Ok(())
            }
            Some(m) => {
                let score = parse_score(e)?;
                if zset.insert(&m, score) {
                    Ok(())
                } else {
                    Err(BlobError::new(0, "duplicate sorted set member"))
                }
            }
        };
        if t == rdb_type::ZSET_ZIPLIST {
            each_ziplist(blob, at, &mut add)?;
        } else {
            each_listpack(blob, at, &mut add)?;
        }
        if member.is_some() {
            return Err(self.corrupt_at(at, "sorted set blob has a member without a score"));
        }
        Ok(Value::ZSet(zset))
    }

    /// A listpack (or ziplist) hash: copied into ours in one pass when it
    /// fits the listpack limits (fields checked for duplicates), else
    /// field by field.
    fn read_hash_packed(&mut self, t: u8) -> Result<Value, RdbError> {
        let (at, blob) = self.blob("hash blob")?;
        let limits = crate::types::limits();
        let mut b = PackedBuilder::with_capacity(blob.len());
        let mut entries = 0usize;
        let mut fits = true;
        let add = |e: &[u8]| {
            fits &= e.len() <= limits.hash_max_listpack_value;
            b.push(e);
            entries += 1;
            Ok(())
        };
        if t == rdb_type::HASH_ZIPLIST {
            each_ziplist(&blob, at, add)?;
        } else {
            each_listpack(&blob, at, add)?;
        }
        if entries % 2 == 1 {
            return Err(self.corrupt_at(at, "hash blob has a field without a value"));
        }
        let pairs = entries / 2;
        if fits && pairs <= limits.hash_max_listpack_entries {
            let packed = b.finish();
            if has_duplicate_key(&packed) {
                return Err(blob_err(at, BlobError::new(0, "duplicate hash field")));
            }
            let n = u32::try_from(pairs).expect("at most hash-max-listpack-entries");
            return Ok(Value::Hash(HashValue::Listpack(packed, n)));
        }
        self.read_hash_packed_slow(t, at, &blob)
    }

    fn read_hash_packed_slow(&mut self, t: u8, at: usize, blob: &[u8]) -> Result<Value, RdbError> {
        let mut hash = HashValue::new();
        let mut field: Option<Vec<u8>> = None;
        let mut add = |e: &[u8]| match field.take() {
            None => {
                field = Some(e.to_vec());
                Ok(())
            }
            Some(f) => {
                if hash.insert(&f, e) {
                    Ok(())
                } else {
                    Err(BlobError::new(0, "duplicate hash field"))
                }
            }
        };
        if t == rdb_type::HASH_ZIPLIST {
            each_ziplist(blob, at, &mut add)?;
        } else {
            each_listpack(blob, at, &mut add)?;
        }
        if field.is_some() {
            return Err(self.corrupt_at(at, "hash blob has a field without a value"));
        }
        Ok(Value::Hash(hash))
    }

    fn read_list_quicklist(&mut self, t: u8) -> Result<Value, RdbError> {
        let min_node_bytes = if t == rdb_type::LIST_QUICKLIST { 1 } else { 2 };
        let nodes = self.count("quicklist node count", min_node_bytes)?;
        let mut list = ListBuilder::new(crate::types::limits());
        for _ in 0..nodes {
            let container = if t == rdb_type::LIST_QUICKLIST_2 {
                self.len("quicklist container")?
            } else {
                QUICKLIST_NODE_PACKED
            };
            match container {
                QUICKLIST_NODE_PLAIN => {
                    list.push(&self.string("quicklist plain node")?);
                }
                QUICKLIST_NODE_PACKED => {
                    let (at, blob) = self.blob("quicklist node")?;
                    let push = |e: &[u8]| {
                        list.push(e);
                        Ok(())
                    };
                    if t == rdb_type::LIST_QUICKLIST {
                        each_ziplist(&blob, at, push)?;
                    } else {
                        each_listpack(&blob, at, push)?;
                    }
                }
                _ => return Err(self.corrupt_at(self.pos, "unknown quicklist container type")),
            }
        }
        Ok(Value::List(Box::new(list.finish())))
    }

    // ---- primitives ----

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn corrupt_at(&self, offset: usize, what: &str) -> RdbError {
        RdbError::Corrupt {
            offset: offset as u64,
            what: what.to_string(),
        }
    }

    fn warn(&mut self, offset: usize, what: &str) {
        tracing::warn!(offset, "{what}");
        self.warnings.push(format!("offset {offset}: {what}"));
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, RdbError> {
        let b = *self.data.get(self.pos).ok_or(RdbError::Truncated {
            offset: self.pos as u64,
            what,
        })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], RdbError> {
        let data: &'a [u8] = self.data;
        let s = data
            .get(self.pos..self.pos.saturating_add(n))
            .ok_or(RdbError::Truncated {
                offset: self.pos as u64,
                what,
            })?;
        self.pos += n;
        Ok(s)
    }

    fn raw_len(&mut self, what: &'static str) -> Result<Len, RdbError> {
        let at = self.pos;
        let first = self.byte(what)?;
        Ok(match first >> 6 {
            0 => Len::Plain(u64::from(first & 0x3f)),
            1 => Len::Plain((u64::from(first & 0x3f) << 8) | u64::from(self.byte(what)?)),
            3 => Len::Encoded(first & 0x3f),
            _ => match first {
                0x80 => {
                    let b = self.take(4, what)?;
                    Len::Plain(u64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]])))
                }
                0x81 => {
                    let b = self.take(8, what)?;
                    let mut raw = [0u8; 8];
                    raw.copy_from_slice(b);
                    Len::Plain(u64::from_be_bytes(raw))
                }
                _ => {
                    return Err(self.corrupt_at(
                        at,
                        &format!("invalid length encoding {first:#04x} for {what}"),
                    ))
                }
            },
        })
    }

    /// A length that is not a string encoding.
    fn len(&mut self, what: &'static str) -> Result<u64, RdbError> {
        let at = self.pos;
        match self.raw_len(what)? {
            Len::Plain(n) => Ok(n),
            Len::Encoded(_) => Err(self.corrupt_at(
                at,
                &format!("expected a length for {what}, found a string encoding"),
            )),
        }
    }

    /// An element count, rejected if the remaining bytes cannot hold that
    /// many elements of at least `min_bytes_each`.
    fn count(&mut self, what: &'static str, min_bytes_each: usize) -> Result<u64, RdbError> {
        let at = self.pos;
        let n = self.len(what)?;
        if n > (self.remaining() / min_bytes_each) as u64 {
            return Err(self.corrupt_at(
                at,
                &format!("{what} {n} exceeds the bytes left in the file"),
            ));
        }
        Ok(n)
    }

    fn string(&mut self, what: &'static str) -> Result<Bytes<'a>, RdbError> {
        let at = self.pos;
        match self.raw_len(what)? {
            Len::Plain(n) => {
                if n > self.remaining() as u64 {
                    return Err(RdbError::Truncated {
                        offset: at as u64,
                        what,
                    });
                }
                Ok(Cow::Borrowed(self.take(n as usize, what)?))
            }
            Len::Encoded(ENC_INT8) => {
                let v = self.byte(what)? as i8;
                Ok(Cow::Owned(i64::from(v).to_string().into_bytes()))
            }
            Len::Encoded(ENC_INT16) => {
                let b = self.take(2, what)?;
                Ok(Cow::Owned(
                    i16::from_le_bytes([b[0], b[1]]).to_string().into_bytes(),
                ))
            }
            Len::Encoded(ENC_INT32) => {
                let b = self.take(4, what)?;
                let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                Ok(Cow::Owned(v.to_string().into_bytes()))
            }
            Len::Encoded(ENC_LZF) => {
                let compressed_len = self.len(what)?;
                let len_at = self.pos;
                let original_len = self.len(what)?;
                if compressed_len > self.remaining() as u64 {
                    return Err(RdbError::Truncated {
                        offset: at as u64,
                        what,
                    });
                }
                if original_len > compressed_len.saturating_mul(lzf::MAX_EXPANSION)
                    || original_len == 0
                {
                    return Err(self.corrupt_at(len_at, &format!("LZF {what}: uncompressed length {original_len} impossible for {compressed_len} compressed bytes")));
                }
                let block_at = self.pos;
                let block = self.take(compressed_len as usize, what)?;
                let out = lzf::decompress(block, original_len as usize)
                    .map_err(|e| blob_err(block_at, e))?;
                Ok(Cow::Owned(out))
            }
            Len::Encoded(other) => {
                Err(self.corrupt_at(at, &format!("unknown string encoding {other} for {what}")))
            }
        }
    }

    /// A string holding an embedded blob, with the blob's file offset.
    fn blob(&mut self, what: &'static str) -> Result<(usize, Bytes<'a>), RdbError> {
        let at = self.pos;
        let b = self.string(what)?;
        Ok((at, b))
    }

    fn binary_double(&mut self) -> Result<f64, RdbError> {
        let b = self.take(8, "binary double score")?;
        let mut raw = [0u8; 8];
        raw.copy_from_slice(b);
        Ok(f64::from_le_bytes(raw))
    }

    /// The legacy text double: a length byte (253 NaN, 254 +inf, 255 -inf)
    /// then that many ASCII characters.
    fn text_double(&mut self) -> Result<f64, RdbError> {
        let at = self.pos;
        match self.byte("text double length")? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let text = self.take(n as usize, "text double")?;
                parse_score(text).map_err(|e| self.corrupt_at(at, e.what))
            }
        }
    }
}

impl Iterator for RdbReader<'_> {
    type Item = Result<RdbItem, RdbError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

fn parse_score(text: &[u8]) -> Result<f64, BlobError> {
    let score = std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .ok_or(BlobError::new(0, "score is not a number"))?;
    if score.is_nan() {
        return Err(BlobError::new(0, "NaN score"));
    }
    Ok(score)
}

/// Capacity to reserve for a collection whose header claims `n`
/// elements: a corrupt header must not reserve more than a sane amount
/// (the elements themselves are checked against the bytes left as read).
fn presize(n: u64) -> usize {
    const MAX_PRESIZE: u64 = 1 << 16;
    n.min(MAX_PRESIZE) as usize
}

/// Whether two of the keys (hash fields, sorted set members: the entries
/// at even positions) of a packed pair sequence are equal.
fn has_duplicate_key(p: &Packed) -> bool {
    let mut keys: SmallVec<[&[u8]; 32]> = p.iter().step_by(2).collect();
    // Pairwise is cheaper than sorting for the small sets most keys are.
    if keys.len() <= 16 {
        return (1..keys.len()).any(|i| keys[..i].contains(&keys[i]));
    }
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

fn blob_err(blob_offset: usize, e: BlobError) -> RdbError {
    RdbError::Corrupt {
        offset: blob_offset as u64,
        what: e.to_string(),
    }
}

fn each_entry<'b>(
    blob_offset: usize,
    mut next: impl FnMut() -> Result<Option<LpEntry<'b>>, BlobError>,
    mut f: impl FnMut(&[u8]) -> Result<(), BlobError>,
) -> Result<(), RdbError> {
    let mut buf = itoa_buf::Buf::new();
    while let Some(e) = next().map_err(|e| blob_err(blob_offset, e))? {
        f(e.as_bytes(&mut buf)).map_err(|e| blob_err(blob_offset, e))?;
    }
    Ok(())
}

fn each_listpack(
    blob: &[u8],
    blob_offset: usize,
    f: impl FnMut(&[u8]) -> Result<(), BlobError>,
) -> Result<(), RdbError> {
    let mut r = ListpackReader::new(blob).map_err(|e| blob_err(blob_offset, e))?;
    each_entry(blob_offset, || r.next_entry(), f)
}

fn each_ziplist(
    blob: &[u8],
    blob_offset: usize,
    f: impl FnMut(&[u8]) -> Result<(), BlobError>,
) -> Result<(), RdbError> {
    let mut r = ZiplistReader::new(blob).map_err(|e| blob_err(blob_offset, e))?;
    each_entry(blob_offset, || r.next_entry(), f)
}

/// A key for error messages: lossy UTF-8, cut at 128 characters.
fn show_key(key: &[u8]) -> String {
    let s = String::from_utf8_lossy(key);
    if s.chars().count() > 128 {
        format!("{}...", s.chars().take(128).collect::<String>())
    } else {
        s.into_owned()
    }
}

/// Names the key in an error raised while reading its value.
fn attach_key(e: RdbError, key: &[u8]) -> RdbError {
    match e {
        RdbError::Corrupt { offset, what } => RdbError::CorruptValue {
            offset,
            key: show_key(key),
            what,
        },
        RdbError::Truncated { offset, what } => RdbError::CorruptValue {
            offset,
            key: show_key(key),
            what: format!("unexpected end of file reading {what}"),
        },
        other => other,
    }
}

//! A slot's keys (or one key) encoded as RDB bytes, one run per database,
//! ready to be spliced into the file by the cursor.

use std::cell::RefCell;
use std::io;

use smallvec::SmallVec;

use crate::keyspace::{Entry, SlotData};
use crate::rdb::encoder::{RdbWriteOptions, RdbWriter};

/// The encoded keys of one database within one slot.
#[derive(Debug)]
pub struct DbRun {
    pub db: u32,
    pub bytes: Vec<u8>,
    pub keys: u64,
}

/// A slot's encoded keys, databases ascending.
#[derive(Debug, Default)]
pub struct SlotSegment {
    pub runs: SmallVec<[DbRun; 1]>,
}

impl SlotSegment {
    pub fn byte_len(&self) -> u64 {
        self.runs.iter().map(|r| r.bytes.len() as u64).sum()
    }
}

/// Encodes every key of `slot` except those `skip(db, key)` names (copied
/// already) with `enc` (a segment writer).
pub fn encode_slot(
    slot: &SlotData,
    enc: &mut RdbWriter<Vec<u8>>,
    skip: impl Fn(usize, &[u8]) -> bool,
) -> io::Result<SlotSegment> {
    let mut seg = SlotSegment::default();
    for (db, d) in slot.dbs() {
        for (key, entry) in d.iter() {
            if !skip(db, key) {
                enc.write_entry(key, entry)?;
            }
        }
        let (bytes, keys) = enc.take_segment();
        if keys > 0 {
            seg.runs.push(DbRun {
                db: db as u32,
                bytes,
                keys,
            });
        }
    }
    Ok(seg)
}

thread_local! {
    /// Each writer thread's segment encoder, kept between snapshots so an
    /// early slot costs no encoder setup (its LZF table is 64 KB).
    static THREAD_ENCODER: RefCell<Option<RdbWriter<Vec<u8>>>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's encoder for `opts`.
fn with_thread_encoder<R>(
    opts: RdbWriteOptions,
    f: impl FnOnce(&mut RdbWriter<Vec<u8>>) -> R,
) -> R {
    THREAD_ENCODER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let enc = match cell.as_mut() {
            Some(e) if e.options() == opts => e,
            _ => cell.insert(RdbWriter::new_segment(Vec::new(), opts)),
        };
        f(enc)
    })
}

/// [`encode_slot`] with this thread's encoder for `opts`.
pub fn encode_slot_on_this_thread(
    slot: &SlotData,
    opts: RdbWriteOptions,
    skip: impl Fn(usize, &[u8]) -> bool,
) -> io::Result<SlotSegment> {
    with_thread_encoder(opts, |enc| encode_slot(slot, enc, skip))
}

/// Encodes one key of `db` with this thread's encoder for `opts`.
pub fn encode_entry_on_this_thread(
    db: usize,
    key: &[u8],
    entry: &Entry,
    opts: RdbWriteOptions,
) -> io::Result<SlotSegment> {
    with_thread_encoder(opts, |enc| {
        let written = enc.write_entry(key, entry);
        // Taken even on failure, so no half-written entry stays behind.
        let (bytes, keys) = enc.take_segment();
        written?;
        let mut seg = SlotSegment::default();
        seg.runs.push(DbRun {
            db: db as u32,
            bytes,
            keys,
        });
        Ok(seg)
    })
}

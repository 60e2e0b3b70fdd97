//! One slot's keys encoded as RDB bytes, one run per database, ready to be
//! spliced into the file by the cursor.

use std::cell::RefCell;
use std::io;

use smallvec::SmallVec;

use crate::keyspace::SlotData;
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

/// Encodes every key of `slot` with `enc` (a segment writer).
pub fn encode_slot(slot: &SlotData, enc: &mut RdbWriter<Vec<u8>>) -> io::Result<SlotSegment> {
    let mut seg = SlotSegment::default();
    for (db, d) in slot.dbs() {
        for (key, entry) in d.iter() {
            enc.write_entry(key, entry)?;
        }
        let (bytes, keys) = enc.take_segment();
        debug_assert_eq!(keys, d.len() as u64);
        seg.runs.push(DbRun {
            db: db as u32,
            bytes,
            keys,
        });
    }
    Ok(seg)
}

thread_local! {
    /// Each writer thread's segment encoder, kept between snapshots so an
    /// early slot costs no encoder setup (its LZF table is 64 KB).
    static THREAD_ENCODER: RefCell<Option<RdbWriter<Vec<u8>>>> = const { RefCell::new(None) };
}

/// Encodes `slot` with this thread's encoder for `opts`.
pub fn encode_slot_on_this_thread(
    slot: &SlotData,
    opts: RdbWriteOptions,
) -> io::Result<SlotSegment> {
    THREAD_ENCODER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let enc = match cell.as_mut() {
            Some(e) if e.options() == opts => e,
            _ => cell.insert(RdbWriter::new_segment(Vec::new(), opts)),
        };
        encode_slot(slot, enc)
    })
}

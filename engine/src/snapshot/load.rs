//! Loading an RDB image into the keyspace (startup, DEBUG RELOAD, and an
//! RDB-format AOF base).

use std::ops::ControlFlow;

use crate::keyspace::Keyspace;
use crate::rdb::decoder::{RdbReader, ResizeHint};
use crate::rdb::error::RdbError;
use crate::slot::SLOT_COUNT;

/// Redis's default `loading-process-events-interval-bytes`: progress is
/// reported about once per this many bytes read.
pub const PROGRESS_INTERVAL_BYTES: u64 = 2 * 1024 * 1024;

/// ... or once per this many keys, whichever comes first: a load of huge
/// values or slowed down key by key (`key-load-delay`) still reports, and
/// still notices a shutdown, often enough.
pub const PROGRESS_INTERVAL_KEYS: u64 = 1024;

#[derive(Debug, Clone, Copy)]
pub struct LoadOptions {
    /// `rdbchecksum`: verify the CRC-64 trailer.
    pub verify_checksum: bool,
    /// Drop keys whose TTL already passed (what a master does, except when
    /// the RDB is an AOF base: the AOF's later commands may refer to them).
    pub drop_expired: bool,
    pub now_ms: u64,
    /// Redis's hidden `key-load-delay`: µs to sleep after each key, so that
    /// tests can watch a load in progress. 0 = none.
    pub key_delay_us: u64,
    /// `loading-process-events-interval-bytes` (see [`load_rdb`]).
    pub progress_interval_bytes: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadStats {
    pub keys_loaded: u64,
    pub keys_expired: u64,
    /// Offset just past the RDB trailer (an AOF tail may follow).
    pub end_offset: u64,
    pub rdb_version: u32,
    /// The `used-mem` AUX field, when present.
    pub used_mem_bytes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Rdb(#[from] RdbError),
    /// The progress callback asked to stop (a shutdown during the load).
    #[error("loading interrupted at offset {offset}")]
    Interrupted { offset: u64 },
    #[error(
        "FATAL: Data file was created with a Redis server configured to handle more than {db_count} databases (key in database {db} at offset {offset})"
    )]
    TooManyDatabases {
        db: u32,
        db_count: usize,
        offset: u64,
    },
}

/// Sizes every slot's map for its share of a RESIZEDB hint's keys, so
/// loading does not rehash each slot several times as it fills. The hint
/// comes from the file: it is capped by what the file could hold (a key
/// takes at least three bytes) so a lying header cannot reserve more.
fn presize_slots(ks: &Keyspace, hints: &[ResizeHint], file_bytes: usize) {
    for h in hints {
        let db = h.db as usize;
        if db >= ks.db_count() {
            continue; // the first key reports the error
        }
        let keys = h.db_size.min(file_bytes as u64 / 3);
        let per_slot = (keys / SLOT_COUNT as u64) as usize;
        if per_slot > 0 {
            ks.for_each_slot(|s| s.db_mut(db).reserve(per_slot));
        }
    }
}

/// Inserts every key of the RDB in `data` into `ks`, calling `on_progress`
/// with the bytes read so far every `opts.progress_interval_bytes` or
/// [`PROGRESS_INTERVAL_KEYS`]; when it breaks, the load stops with
/// [`LoadError::Interrupted`]. Keys already present are replaced. On error
/// the keys read so far stay loaded.
pub fn load_rdb(
    ks: &Keyspace,
    data: &[u8],
    opts: LoadOptions,
    mut on_progress: impl FnMut(u64) -> ControlFlow<()>,
) -> Result<LoadStats, LoadError> {
    let mut reader = RdbReader::new(data)?;
    reader.set_verify_checksum(opts.verify_checksum);
    let mut stats = LoadStats {
        rdb_version: reader.version(),
        ..LoadStats::default()
    };
    let interval_bytes = opts.progress_interval_bytes.max(1);
    let mut next_report = interval_bytes;
    let mut keys_since_report = 0;
    let mut hints_applied = 0;
    while let Some(item) = reader.next_item()? {
        if reader.resize_hints().len() > hints_applied {
            presize_slots(ks, &reader.resize_hints()[hints_applied..], data.len());
            hints_applied = reader.resize_hints().len();
        }
        let db = item.db as usize;
        if db >= ks.db_count() {
            return Err(LoadError::TooManyDatabases {
                db: item.db,
                db_count: ks.db_count(),
                offset: item.offset,
            });
        }
        if opts.drop_expired && item.entry.is_expired(opts.now_ms) {
            stats.keys_expired += 1;
        } else {
            if item.entry.has_expiry() {
                ks.note_volatile();
            }
            ks.lock_key(&item.key)
                .db_mut(db)
                .insert(&item.key, item.entry);
            stats.keys_loaded += 1;
        }
        if opts.key_delay_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(opts.key_delay_us));
        }
        keys_since_report += 1;
        if reader.position() >= next_report || keys_since_report >= PROGRESS_INTERVAL_KEYS {
            let offset = reader.position();
            if on_progress(offset).is_break() {
                return Err(LoadError::Interrupted { offset });
            }
            next_report = offset + interval_bytes;
            keys_since_report = 0;
        }
    }
    stats.end_offset = reader.position();
    stats.used_mem_bytes = reader
        .aux_value(b"used-mem")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse().ok());
    // The load is complete: a stop asked for now changes nothing.
    let _ = on_progress(stats.end_offset);
    Ok(stats)
}

//! What the snapshot tests compare: a dataset as (database, key) → entry,
//! read from an RDB file (checked like redis-check-rdb, each key once);
//! and where the snapshots go.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use ringkv_engine::keyspace::Entry;
use ringkv_engine::rdb::{check_rdb, AuxInfo, RdbReader, RdbWriteOptions};
use ringkv_engine::snapshot::SnapshotTarget;

pub type Dataset = BTreeMap<(usize, Vec<u8>), Entry>;

/// The keys of the RDB file at `path`; fails if it does not check or if a
/// key appears twice.
pub fn dataset_of_file(path: &Path) -> Dataset {
    let data = std::fs::read(path).unwrap();
    let report = check_rdb(&data, 0);
    assert!(report.is_ok(), "{report}");
    let mut out = Dataset::new();
    let mut reader = RdbReader::new(&data).unwrap();
    while let Some(item) = reader.next_item().unwrap() {
        let fresh = out.insert((item.db as usize, item.key), item.entry);
        assert!(fresh.is_none(), "a key appears twice in the snapshot");
    }
    out
}

/// `dump.rdb` in `dir`, default encoding, the cursor slowed by
/// `key_save_delay_us` per key.
pub fn target(dir: &Path, key_save_delay_us: u64) -> SnapshotTarget {
    SnapshotTarget {
        dir: dir.to_path_buf(),
        filename: "dump.rdb".into(),
        temp_filename: None,
        opts: RdbWriteOptions::default(),
        aux: AuxInfo {
            ctime_s: 1,
            used_mem_bytes: 0,
            aof_base: false,
        },
        key_save_delay_us,
    }
}

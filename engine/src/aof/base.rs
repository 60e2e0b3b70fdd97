//! Writing an AOF base file from a copy of the dataset: RDB format
//! (`aof-use-rdb-preamble yes`) or Redis's RESP rewrite format
//! (`aof-use-rdb-preamble no`, section 4.3 of the persistence notes).

use std::io::{self, Write};

use parking_lot::MutexGuard;

use crate::keyspace::{Entry, SlotData, NO_EXPIRY};
use crate::rdb::{AuxInfo, RdbWriteOptions, RdbWriter};
use crate::util::format_double_g17;
use crate::value::Value;

/// Items per RPUSH/SADD/ZADD/HMSET command (`AOF_REWRITE_ITEMS_PER_CMD`).
pub const ITEMS_PER_COMMAND: usize = 64;

/// A point-in-time copy of every database: `dbs[db]` holds (key, entry).
#[derive(Debug, Default, Clone)]
pub struct DatasetCopy {
    pub dbs: Vec<Vec<(Vec<u8>, Entry)>>,
}

impl DatasetCopy {
    /// Copies the data out of slots the caller holds locked.
    pub fn from_slots(slots: &[MutexGuard<'_, SlotData>], db_count: usize) -> DatasetCopy {
        let mut dbs: Vec<Vec<(Vec<u8>, Entry)>> = vec![Vec::new(); db_count];
        for slot in slots {
            for (db, data) in slot.dbs() {
                if let Some(out) = dbs.get_mut(db) {
                    out.extend(data.iter().map(|(k, e)| (k.to_vec(), e.clone())));
                }
            }
        }
        DatasetCopy { dbs }
    }

    pub fn key_count(&self) -> usize {
        self.dbs.iter().map(Vec::len).sum()
    }
}

/// Writes the copy as an RDB base (aux `aof-base=1`) into `out`.
pub fn write_rdb_base<W: Write>(
    out: W,
    data: &DatasetCopy,
    opts: RdbWriteOptions,
    aux: AuxInfo,
) -> io::Result<W> {
    let mut w = RdbWriter::new(out, opts)?;
    w.write_standard_aux(&AuxInfo {
        aof_base: true,
        ..aux
    })?;
    for (db, keys) in data.dbs.iter().enumerate() {
        if keys.is_empty() {
            continue;
        }
        let expires = keys.iter().filter(|(_, e)| e.has_expiry()).count();
        w.select_db(db as u32, keys.len() as u64, expires as u64)?;
        for (k, e) in keys {
            w.write_entry(k, e)?;
        }
    }
    Ok(w.finish()?.0)
}

/// Writes the copy as RESP commands, as Redis's rewrite does without the
/// RDB preamble: an optional `#TS:` line, then per non-empty database a
/// SELECT and one command (or batch of 64 items) per key, each followed
/// by `PEXPIREAT` when it has a TTL.
pub fn write_resp_base<W: Write>(
    mut out: W,
    data: &DatasetCopy,
    timestamp_s: Option<u64>,
) -> io::Result<W> {
    let mut buf = Vec::with_capacity(64 * 1024);
    if let Some(ts) = timestamp_s {
        crate::aof::annotation::push_timestamp_annotation(ts, &mut buf);
    }
    for (db, keys) in data.dbs.iter().enumerate() {
        if keys.is_empty() {
            continue;
        }
        push_cmd(&mut buf, &[b"SELECT", db.to_string().as_bytes()]);
        for (key, entry) in keys {
            push_value(&mut buf, key, &entry.value);
            if entry.expire_at_ms != NO_EXPIRY {
                push_cmd(
                    &mut buf,
                    &[b"PEXPIREAT", key, entry.expire_at_ms.to_string().as_bytes()],
                );
            }
            if buf.len() >= 32 * 1024 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
    }
    out.write_all(&buf)?;
    Ok(out)
}

fn push_value(buf: &mut Vec<u8>, key: &[u8], value: &Value) {
    match value {
        Value::Int(i) => push_cmd(buf, &[b"SET", key, i.to_string().as_bytes()]),
        Value::Str(s) => push_cmd(buf, &[b"SET", key, s]),
        Value::List(l) => {
            let items: Vec<&[u8]> = l.iter().collect();
            push_batches(buf, b"RPUSH", key, &items);
        }
        Value::Set(s) => {
            let items: Vec<Vec<u8>> = s.iter().map(|m| m.into_owned()).collect();
            let items: Vec<&[u8]> = items.iter().map(Vec::as_slice).collect();
            push_batches(buf, b"SADD", key, &items);
        }
        Value::Hash(h) => {
            let items: Vec<&[u8]> = h.iter().flat_map(|(f, v)| [f, v]).collect();
            push_batches_step(buf, b"HMSET", key, &items, 2);
        }
        Value::ZSet(z) => {
            let scores: Vec<(String, &[u8])> =
                z.iter().map(|(m, s)| (format_double_g17(s), m)).collect();
            let items: Vec<&[u8]> = scores
                .iter()
                .flat_map(|(s, m)| [s.as_bytes(), *m])
                .collect();
            push_batches_step(buf, b"ZADD", key, &items, 2);
        }
    }
}

fn push_batches(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[&[u8]]) {
    push_batches_step(buf, cmd, key, items, 1);
}

/// `items` in groups of `step` (field/value pairs), 64 groups per command.
fn push_batches_step(buf: &mut Vec<u8>, cmd: &[u8], key: &[u8], items: &[&[u8]], step: usize) {
    for chunk in items.chunks(ITEMS_PER_COMMAND * step) {
        let mut args: Vec<&[u8]> = Vec::with_capacity(chunk.len() + 2);
        args.push(cmd);
        args.push(key);
        args.extend_from_slice(chunk);
        push_cmd(buf, &args);
    }
}

/// Appends one command in the AOF's RESP encoding.
pub fn push_cmd(buf: &mut Vec<u8>, args: &[&[u8]]) {
    let _ = write!(buf, "*{}\r\n", args.len());
    for a in args {
        let _ = write!(buf, "${}\r\n", a.len());
        buf.extend_from_slice(a);
        buf.extend_from_slice(b"\r\n");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::aof::replay::Replayer;
    use crate::keyspace::Keyspace;

    fn dataset() -> Keyspace {
        let ks = Keyspace::new(16);
        let mut r = Replayer::new(&ks);
        let mut data = Vec::new();
        push_cmd(&mut data, &[b"set", b"s", b"hello"]);
        push_cmd(&mut data, &[b"set", b"n", b"42"]);
        push_cmd(&mut data, &[b"pexpireat", b"n", b"4102444800000"]);
        let many: Vec<Vec<u8>> = (0..150).map(|i| format!("e{i}").into_bytes()).collect();
        let mut args: Vec<&[u8]> = vec![b"rpush", b"l"];
        args.extend(many.iter().map(Vec::as_slice));
        push_cmd(&mut data, &args);
        push_cmd(&mut data, &[b"select", b"2"]);
        push_cmd(&mut data, &[b"hset", b"h", b"f", b"v", b"g", b"w"]);
        r.replay_resp(&data, 0).unwrap();
        drop(r);
        ks
    }

    fn copy(ks: &Keyspace) -> DatasetCopy {
        DatasetCopy::from_slots(&ks.lock_all(), ks.db_count())
    }

    fn sorted(mut c: DatasetCopy) -> DatasetCopy {
        for db in &mut c.dbs {
            db.sort_by(|a, b| a.0.cmp(&b.0));
        }
        c
    }

    #[test]
    fn resp_base_replays_to_the_same_data() {
        let ks = dataset();
        let before = copy(&ks);
        let bytes = write_resp_base(Vec::new(), &before, Some(1795263377)).unwrap();
        assert!(bytes.starts_with(b"#TS:1795263377\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"));
        // 150 list items: batches of 64, 64, 22.
        assert_eq!(bytes.windows(7).filter(|w| w == b"\r\nRPUSH").count(), 3);
        let ks2 = Keyspace::new(16);
        Replayer::new(&ks2).replay_resp(&bytes, 0).unwrap();
        let a = sorted(before);
        let b = sorted(copy(&ks2));
        assert_eq!(a.dbs, b.dbs);
    }

    #[test]
    fn rdb_base_loads_to_the_same_data() {
        let ks = dataset();
        let before = copy(&ks);
        let aux = AuxInfo {
            ctime_s: 1,
            used_mem_bytes: 0,
            aof_base: true,
        };
        let bytes = write_rdb_base(Vec::new(), &before, RdbWriteOptions::default(), aux).unwrap();
        let ks2 = Keyspace::new(16);
        let end = Replayer::new(&ks2).load_rdb(&bytes).unwrap();
        assert_eq!(end, bytes.len() as u64);
        assert_eq!(sorted(before).dbs, sorted(copy(&ks2)).dbs);
    }
}

//! Replaying an AOF into the keyspace: an RDB-format base (or preamble)
//! goes straight into the slots, RESP commands run through the engine's
//! command table exactly as a client's would, with AOF propagation
//! discarded.
//!
//! As in Redis's loader, each file starts in database 0, MULTI queues
//! commands until EXEC, and keys whose TTL has passed are kept as loaded
//! (they expire lazily or by the active cycle afterwards).

use std::collections::HashMap;

use crate::aof::scan::{Item, ScanError, Scanner};
use crate::command::{CommandSpec, EngineFn};
use crate::exec::{ExecCtx, Locks, Propagation};
use crate::keyspace::Keyspace;
use crate::rdb::{RdbError, RdbReader};
use crate::reply::{Protocol, ReplyWriter};
use crate::stats::ThreadStats;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("Unknown command '{name}' reading the append only file (offset {offset})")]
    UnknownCommand { name: String, offset: u64 },
    #[error("Bad file format reading the append only file at offset {offset}: {reason}")]
    BadFormat { offset: u64, reason: String },
    #[error("DB index is out of range in the append only file at offset {offset}")]
    BadDb { offset: u64 },
    #[error("Data file was created with a Redis server configured to handle more than {db_count} databases")]
    RdbDbOutOfRange { db_count: usize },
    #[error(transparent)]
    Rdb(#[from] RdbError),
}

/// Replays files into a keyspace; one per load.
pub struct Replayer<'k> {
    ks: &'k Keyspace,
    table: HashMap<&'static str, &'static CommandSpec<EngineFn>>,
    pub stats: ThreadStats,
    out: ReplyWriter,
    prop: Propagation,
    db: usize,
    multi: Option<Vec<Vec<Vec<u8>>>>,
    /// "now" for commands: the latest `#TS:` seen, else the load time.
    now_ms: u64,
    pub commands_applied: u64,
    pub rdb_keys_loaded: u64,
}

impl<'k> Replayer<'k> {
    pub fn new(ks: &'k Keyspace) -> Replayer<'k> {
        Replayer {
            ks,
            table: crate::cmd::all().map(|c| (c.name, c)).collect(),
            stats: ThreadStats::default(),
            out: ReplyWriter::new(Protocol::Resp2),
            // Nothing consumes a replayed command's propagated form: not
            // recording it spares every command its RESP encoding.
            prop: Propagation {
                disabled: true,
                ..Propagation::default()
            },
            db: 0,
            multi: None,
            now_ms: crate::clock::now_ms(),
            commands_applied: 0,
            rdb_keys_loaded: 0,
        }
    }

    /// Each file gets a fresh fake client in Redis: database 0, no MULTI.
    pub fn start_file(&mut self) {
        self.db = 0;
        self.multi = None;
    }

    /// Loads an RDB image (a base file or an RDB preamble); returns the
    /// offset just past its checksum, where a RESP tail may follow.
    pub fn load_rdb(&mut self, data: &[u8]) -> Result<u64, ReplayError> {
        let mut reader = RdbReader::new(data)?;
        let db_count = self.ks.db_count();
        while let Some(item) = reader.next_item()? {
            let db = item.db as usize;
            if db >= db_count {
                return Err(ReplayError::RdbDbOutOfRange { db_count });
            }
            if item.entry.has_expiry() {
                self.ks.note_volatile();
            }
            self.ks
                .lock_key(&item.key)
                .db_mut(db)
                .insert(&item.key, item.entry);
            self.rdb_keys_loaded += 1;
        }
        Ok(reader.position())
    }

    /// Replays the RESP commands in `data` (at file offset `base`), which
    /// [`crate::aof::scan::validate`] has already accepted.
    pub fn replay_resp(&mut self, data: &[u8], base: u64) -> Result<(), ReplayError> {
        let mut sc = Scanner::new(data, base);
        loop {
            let offset = sc.offset();
            match sc.next_item() {
                Ok(None) => return Ok(()),
                Ok(Some(Item::Command(args))) => self.apply(&args, offset)?,
                Ok(Some(Item::Timestamp(ts))) => self.now_ms = ts.saturating_mul(1000),
                Ok(Some(Item::Checksum { .. } | Item::Comment)) => {}
                Err(ScanError::UnexpectedEof) => {
                    return Err(ReplayError::BadFormat {
                        offset: sc.offset(),
                        reason: "unexpected end of file".into(),
                    })
                }
                Err(ScanError::BadFormat { offset, reason }) => {
                    return Err(ReplayError::BadFormat { offset, reason })
                }
            }
        }
    }

    /// Runs one command from the file (`offset` only names it in errors).
    pub fn apply(&mut self, args: &[&[u8]], offset: u64) -> Result<(), ReplayError> {
        let name = args[0];
        if name.eq_ignore_ascii_case(b"select") {
            let db = args
                .get(1)
                .and_then(|a| std::str::from_utf8(a).ok())
                .and_then(|s| s.parse::<usize>().ok())
                .filter(|db| *db < self.ks.db_count())
                .ok_or(ReplayError::BadDb { offset })?;
            self.db = db;
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"multi") {
            self.multi = Some(Vec::new());
            return Ok(());
        }
        if name.eq_ignore_ascii_case(b"exec") {
            let queued = self.multi.take().unwrap_or_default();
            for cmd in queued {
                let args: Vec<&[u8]> = cmd.iter().map(Vec::as_slice).collect();
                self.run(&args, offset)?;
            }
            return Ok(());
        }
        if let Some(q) = self.multi.as_mut() {
            q.push(args.iter().map(|a| a.to_vec()).collect());
            return Ok(());
        }
        self.run(args, offset)
    }

    fn run(&mut self, args: &[&[u8]], offset: u64) -> Result<(), ReplayError> {
        let mut lower = [0u8; 32];
        let spec = crate::command::lowercase_name(args[0], &mut lower)
            .and_then(|n| self.table.get(n).copied())
            .filter(|spec| spec.arity_ok(args.len()))
            .ok_or_else(|| ReplayError::UnknownCommand {
                name: String::from_utf8_lossy(args[0]).into_owned(),
                offset,
            })?;
        let locks = Locks::for_command(self.ks, spec, args);
        self.prop.clear();
        self.out.buffer_mut().clear();
        let mut exec = ExecCtx::new(
            self.ks,
            self.db,
            &mut self.out,
            &self.stats,
            &mut self.prop,
            locks,
        );
        // Never park the loader: blocking forms replay as their
        // non-blocking selves.
        exec.in_multi = true;
        exec.run_at(spec, args, self.now_ms);
        self.db = exec.db;
        self.commands_applied += 1;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
        }
        out
    }

    fn get(ks: &Keyspace, db: usize, key: &[u8]) -> Option<crate::value::Value> {
        ks.lock_key(key)
            .db(db)
            .and_then(|d| d.get(key))
            .map(|e| e.value.clone())
    }

    #[test]
    fn replays_commands_selects_and_transactions() {
        let ks = Keyspace::new(16);
        let mut r = Replayer::new(&ks);
        let data = [
            cmd(&["SELECT", "3"]),
            cmd(&["set", "a", "1"]),
            cmd(&["MULTI"]),
            cmd(&["incr", "a"]),
            cmd(&["rpush", "l", "x", "y"]),
            cmd(&["EXEC"]),
            cmd(&["SELECT", "0"]),
            cmd(&["SET", "b", "v", "PXAT", "4102444800000"]),
        ]
        .concat();
        r.start_file();
        r.replay_resp(&data, 0).unwrap();
        assert_eq!(get(&ks, 3, b"a"), Some(crate::value::Value::Int(2)));
        assert!(get(&ks, 3, b"l").is_some());
        let e = ks.lock_key(b"b").db(0).unwrap().get(b"b").cloned().unwrap();
        assert_eq!(e.expire_at_ms, 4102444800000);
        assert_eq!(r.commands_applied, 4);
    }

    #[test]
    fn unknown_commands_and_bad_dbs_are_errors() {
        let ks = Keyspace::new(16);
        let mut r = Replayer::new(&ks);
        let err = r.replay_resp(&cmd(&["nosuch", "x"]), 5).unwrap_err();
        assert!(
            matches!(err, ReplayError::UnknownCommand { offset: 5, .. }),
            "{err}"
        );
        let err = r.replay_resp(&cmd(&["select", "16"]), 0).unwrap_err();
        assert!(matches!(err, ReplayError::BadDb { .. }));
    }
}

//! Replaying an AOF into the keyspace: an RDB-format base (or preamble)
//! goes straight into the slots, RESP commands run through the engine's
//! command table exactly as a client's would, with AOF propagation
//! discarded.
//!
//! As in Redis's loader, each file starts in database 0, MULTI queues
//! commands until EXEC, and keys whose TTL has passed are kept as loaded
//! (they expire lazily or by the active cycle afterwards).

use std::ops::ControlFlow;
use std::time::Duration;

use crate::aof::scan::{validate_with, Item, ScanError, ScanSink, Scanner, Validation};
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
    /// The progress callback asked to stop (a shutdown during the load).
    #[error("loading interrupted at offset {offset}")]
    Interrupted { offset: u64 },
}

/// Progress is reported once per this many commands (or RDB keys), as
/// Redis serves clients every 1024 commands of an AOF load.
pub const PROGRESS_INTERVAL_ITEMS: u64 = 1024;

/// Told the file offset reached every [`PROGRESS_INTERVAL_ITEMS`]; breaks
/// to stop the load.
pub type ProgressFn<'k> = Box<dyn FnMut(u64) -> ControlFlow<()> + 'k>;

/// Replays files into a keyspace; one per load.
pub struct Replayer<'k> {
    ks: &'k Keyspace,
    /// Lowercase name → command; hashbrown's default hasher (every
    /// command does one lookup; SipHash's DoS resistance buys nothing over
    /// a fixed set of names).
    table: hashbrown::HashMap<&'static [u8], &'static CommandSpec<EngineFn>>,
    pub stats: ThreadStats,
    out: ReplyWriter,
    prop: Propagation,
    db: usize,
    multi: Option<Vec<Vec<Vec<u8>>>>,
    /// "now" for commands: the latest `#TS:` seen, else the load time.
    now_ms: u64,
    pub commands_applied: u64,
    pub rdb_keys_loaded: u64,
    progress: Option<ProgressFn<'k>>,
    /// Redis's hidden `key-load-delay`: a pause after each command or key,
    /// so tests can watch a load.
    item_delay: Duration,
}

impl<'k> Replayer<'k> {
    pub fn new(ks: &'k Keyspace) -> Replayer<'k> {
        Replayer {
            ks,
            table: crate::cmd::all().map(|c| (c.name.as_bytes(), c)).collect(),
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
            progress: None,
            item_delay: Duration::ZERO,
        }
    }

    /// Reports progress to `f` (see [`ProgressFn`]).
    pub fn set_progress(&mut self, f: ProgressFn<'k>) {
        self.progress = Some(f);
    }

    pub fn set_item_delay(&mut self, delay: Duration) {
        self.item_delay = delay;
    }

    /// After each applied item: the optional pause, and every
    /// [`PROGRESS_INTERVAL_ITEMS`] the progress report.
    fn after_item(&mut self, items: u64, offset: u64) -> Result<(), ReplayError> {
        if !self.item_delay.is_zero() {
            std::thread::sleep(self.item_delay);
        }
        if items.is_multiple_of(PROGRESS_INTERVAL_ITEMS) {
            if let Some(f) = self.progress.as_mut() {
                if f(offset).is_break() {
                    return Err(ReplayError::Interrupted { offset });
                }
            }
        }
        Ok(())
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
            self.after_item(self.rdb_keys_loaded, reader.position())?;
        }
        Ok(reader.position())
    }

    /// Checks the RESP stream `data` (at file offset `base`) and applies
    /// what is valid of it, in one pass: exactly the items before the
    /// returned [`Validation::valid_up_to`], as [`Replayer::replay_resp`]
    /// after [`crate::aof::scan::validate`] would, but each checksummed
    /// group while its bytes are still in cache.
    pub fn load_resp(&mut self, data: &[u8], base: u64) -> Result<Validation, ReplayError> {
        let mut sink = Settler {
            replayer: self,
            data,
            base,
            args: Vec::new(),
            held: Vec::new(),
            held_from: base,
            overflowed: false,
        };
        let v = validate_with(data, base, &mut sink)?;
        sink.apply_up_to(v.valid_up_to)?;
        Ok(v)
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
        let spec = self
            .lookup(args[0])
            .filter(|spec| spec.arity_ok(args.len()))
            .ok_or_else(|| ReplayError::UnknownCommand {
                name: String::from_utf8_lossy(args[0]).into_owned(),
                offset,
            })?;
        let locks = Locks::for_command(self.ks, spec, args);
        self.prop.clear();
        self.out.buffer_mut().clear();
        let mut exec = ExecCtx::new_at(
            self.ks,
            self.db,
            &mut self.out,
            &self.stats,
            &mut self.prop,
            locks,
            self.now_ms,
        );
        // Never park the loader: blocking forms replay as their
        // non-blocking selves.
        exec.in_multi = true;
        exec.run(spec, args);
        self.db = exec.db;
        drop(exec);
        self.commands_applied += 1;
        self.after_item(self.commands_applied, offset)
    }

    /// The command named `name` in any case, without allocating.
    fn lookup(&self, name: &[u8]) -> Option<&'static CommandSpec<EngineFn>> {
        let mut buf = [0u8; COMMAND_NAME_BYTES_MAX];
        let lower = buf.get_mut(..name.len())?;
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.table.get(&*lower).copied()
    }
}

/// Longer names cannot be commands.
const COMMAND_NAME_BYTES_MAX: usize = 32;

/// Most items a [`Settler`] holds before it stops recording and re-reads
/// the bytes instead: a stream without checksums (written by Redis) is
/// settled only at its end, and holding all of it would cost memory in
/// proportion to the file. ringkv's groups are far smaller.
const HELD_ITEMS_MAX: usize = 1 << 16;
const HELD_ARGS_MAX: usize = 1 << 18;

/// A command or `#TS:` line read but not yet applied.
#[derive(Debug, Clone, Copy)]
enum Held {
    /// Its arguments run from the previous command's `args_end` (or 0) to
    /// `args_end`; the command spans file offsets `start..end`.
    Command {
        args_end: usize,
        start: u64,
        end: u64,
    },
    Timestamp {
        unix_s: u64,
        end: u64,
    },
}

impl Held {
    fn end(&self) -> u64 {
        match *self {
            Held::Command { end, .. } | Held::Timestamp { end, .. } => end,
        }
    }
}

/// The loader's [`ScanSink`]: holds the items validation reads and
/// applies them once settled.
struct Settler<'r, 'k, 'a> {
    replayer: &'r mut Replayer<'k>,
    /// The whole RESP part, at file offset `base`.
    data: &'a [u8],
    base: u64,
    /// Arguments of the held commands, back to back.
    args: Vec<&'a [u8]>,
    held: Vec<Held>,
    /// File offset where the unapplied items start.
    held_from: u64,
    /// Set when too much was held: the items from `held_from` are read
    /// again from `data` when they settle.
    overflowed: bool,
}

impl Settler<'_, '_, '_> {
    /// Holds `item` (whose arguments the caller then appends) unless the
    /// settler has overflowed or now does; false when not held.
    fn hold(&mut self, item: Held, args: &[&[u8]]) -> bool {
        if self.overflowed {
            return false;
        }
        if self.held.len() >= HELD_ITEMS_MAX || self.args.len() + args.len() > HELD_ARGS_MAX {
            self.overflowed = true;
            self.held.clear();
            self.args.clear();
            return false;
        }
        self.held.push(item);
        true
    }

    /// Applies the unapplied items that end at or before `up_to`, which
    /// validation has settled; later ones stay held.
    fn apply_up_to(&mut self, up_to: u64) -> Result<(), ReplayError> {
        if up_to <= self.held_from {
            return Ok(());
        }
        if self.overflowed {
            let from = to_index(self.held_from - self.base);
            let to = to_index(up_to - self.base);
            self.replayer
                .replay_resp(&self.data[from..to], self.held_from)?;
            self.overflowed = false;
        } else {
            let mut arg_start = 0;
            let mut applied = 0;
            for item in &self.held {
                if item.end() > up_to {
                    break;
                }
                match *item {
                    Held::Command {
                        args_end, start, ..
                    } => {
                        self.replayer
                            .apply(&self.args[arg_start..args_end], start)?;
                        arg_start = args_end;
                    }
                    Held::Timestamp { unix_s, .. } => {
                        self.replayer.now_ms = unix_s.saturating_mul(1000);
                    }
                }
                applied += 1;
            }
            self.held.drain(..applied);
            self.args.drain(..arg_start);
            // Argument positions count from the vector's start.
            for item in &mut self.held {
                if let Held::Command { args_end, .. } = item {
                    *args_end -= arg_start;
                }
            }
        }
        self.held_from = up_to;
        Ok(())
    }
}

impl<'a> ScanSink<'a> for Settler<'_, '_, 'a> {
    type Error = ReplayError;

    fn command(&mut self, args: &[&'a [u8]], start: u64, end: u64) -> Result<(), ReplayError> {
        let args_end = self.args.len() + args.len();
        if self.hold(
            Held::Command {
                args_end,
                start,
                end,
            },
            args,
        ) {
            self.args.extend_from_slice(args);
        }
        Ok(())
    }

    fn timestamp(&mut self, unix_s: u64, _start: u64, end: u64) -> Result<(), ReplayError> {
        self.hold(Held::Timestamp { unix_s, end }, &[]);
        Ok(())
    }

    fn settled(&mut self, up_to: u64) -> Result<(), ReplayError> {
        debug_assert!(self.held.last().is_none_or(|h| h.end() <= up_to));
        self.apply_up_to(up_to)
    }
}

fn to_index(offset: u64) -> usize {
    usize::try_from(offset).unwrap_or(usize::MAX)
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

    fn group(items: &[Vec<u8>]) -> Vec<u8> {
        let body = items.concat();
        let mut out = body.clone();
        crate::aof::annotation::push_checksum_annotation(&body, &mut out);
        out
    }

    fn dump(ks: &Keyspace) -> Vec<Vec<(Vec<u8>, crate::keyspace::Entry)>> {
        let mut dbs = crate::aof::base::DatasetCopy::from_slots(&ks.lock_all(), 16).dbs;
        for db in &mut dbs {
            db.sort_by(|a, b| a.0.cmp(&b.0));
        }
        dbs
    }

    /// What loading `data` leaves: the validation (none if replay failed),
    /// the replay error, the data.
    type Outcome = (
        Option<Validation>,
        Option<String>,
        Vec<Vec<(Vec<u8>, crate::keyspace::Entry)>>,
    );

    /// The two-pass reference: validate everything, then replay the valid
    /// prefix.
    fn two_pass(data: &[u8]) -> Outcome {
        let ks = Keyspace::new(16);
        let mut r = Replayer::new(&ks);
        let v = crate::aof::scan::validate(data, 0);
        match r.replay_resp(&data[..v.valid_up_to as usize], 0) {
            Ok(()) => (Some(v), None, dump(&ks)),
            Err(e) => (None, Some(e.to_string()), dump(&ks)),
        }
    }

    fn one_pass(data: &[u8]) -> (Outcome, u64) {
        let ks = Keyspace::new(16);
        let mut r = Replayer::new(&ks);
        let outcome = match r.load_resp(data, 0) {
            Ok(v) => (Some(v), None, dump(&ks)),
            Err(e) => (None, Some(e.to_string()), dump(&ks)),
        };
        (outcome, r.commands_applied)
    }

    fn assert_same_as_two_passes(data: &[u8], what: &str) {
        let (got, _) = one_pass(data);
        assert_eq!(got, two_pass(data), "{what}");
    }

    /// ringkv groups with a transaction inside one group and one spanning
    /// two, `#TS:` lines, SELECTs, then a command no checksum covers yet.
    fn logged_stream() -> Vec<u8> {
        [
            group(&[
                b"#TS:1795263510\r\n".to_vec(),
                cmd(&["SELECT", "1"]),
                cmd(&["set", "a", "1"]),
                cmd(&["rpush", "l", "x"]),
            ]),
            group(&[
                cmd(&["MULTI"]),
                cmd(&["incr", "a"]),
                cmd(&["rpush", "l", "y"]),
                cmd(&["EXEC"]),
            ]),
            group(&[cmd(&["MULTI"]), cmd(&["set", "b", "2"])]),
            group(&[
                cmd(&["incr", "a"]),
                cmd(&["EXEC"]),
                cmd(&["SELECT", "2"]),
                cmd(&["set", "c", "3", "PXAT", "4102444800000"]),
            ]),
            cmd(&["set", "d", "4"]),
        ]
        .concat()
    }

    #[test]
    fn one_pass_matches_two_passes_at_every_cut_and_flipped_byte() {
        let data = logged_stream();
        for cut in 0..=data.len() {
            assert_same_as_two_passes(&data[..cut], &format!("cut at {cut}"));
        }
        for at in 0..data.len() {
            let mut bad = data.clone();
            bad[at] ^= 0x01;
            assert_same_as_two_passes(&bad, &format!("byte {at} flipped"));
        }
        let mut padded = data.clone();
        padded.extend([0u8; 300]);
        assert_same_as_two_passes(&padded, "zero padding");
    }

    #[test]
    fn one_pass_matches_two_passes_on_redis_streams() {
        let data = [
            b"#TS:1795263510\r\n".to_vec(),
            cmd(&["SELECT", "0"]),
            cmd(&["set", "a", "1"]),
            cmd(&["MULTI"]),
            cmd(&["incr", "a"]),
            cmd(&["EXEC"]),
            cmd(&["rpush", "l", "x", "y"]),
            cmd(&["MULTI"]),
            cmd(&["set", "b", "2"]),
        ]
        .concat();
        for cut in 0..=data.len() {
            assert_same_as_two_passes(&data[..cut], &format!("cut at {cut}"));
        }
    }

    #[test]
    fn torn_last_group_is_not_applied() {
        let g1 = group(&[cmd(&["set", "a", "1"])]);
        let mut g2 = group(&[cmd(&["set", "b", "2"]), cmd(&["set", "c", "3"])]);
        let c_pos = g2.len() - crate::aof::annotation::CHECKSUM_LINE_BYTES - 3;
        assert_eq!(g2[c_pos], b'3');
        g2[c_pos] = b'4';
        let data = [g1.clone(), g2].concat();
        let ((v, err, _), applied) = one_pass(&data);
        let v = v.unwrap();
        assert_eq!(err, None);
        assert!(v.problem.unwrap().is_truncation());
        assert_eq!(v.valid_up_to, g1.len() as u64);
        // `set b 2` came before the damage but shares the torn group.
        assert_eq!(applied, 1);
    }

    #[test]
    fn damage_in_the_middle_is_reported_with_its_offset() {
        let g1 = group(&[cmd(&["set", "a", "1"])]);
        let mut g2 = group(&[cmd(&["set", "b", "2"])]);
        let g3 = group(&[cmd(&["set", "c", "3"])]);
        let b_pos = g2.iter().position(|c| *c == b'b').unwrap();
        g2[b_pos] = b'x';
        let data = [g1.clone(), g2, g3].concat();
        let ((v, _, _), applied) = one_pass(&data);
        assert_eq!(
            v.unwrap().problem,
            Some(crate::aof::scan::Problem::Corrupt {
                offset: g1.len() as u64,
                reason: "group checksum mismatch".into()
            })
        );
        assert_eq!(applied, 1);
    }

    #[test]
    fn unterminated_multi_across_groups_runs_nothing_of_it() {
        let data = [
            group(&[cmd(&["set", "a", "1"])]),
            group(&[cmd(&["MULTI"]), cmd(&["incr", "a"])]),
            // A bad SELECT inside the cut-off transaction is never read.
            group(&[cmd(&["SELECT", "99"]), cmd(&["set", "z", "1"])]),
        ]
        .concat();
        let ks = Keyspace::new(16);
        let mut r = Replayer::new(&ks);
        let v = r.load_resp(&data, 0).unwrap();
        assert_eq!(
            v.problem,
            Some(crate::aof::scan::Problem::UnterminatedMulti)
        );
        assert_eq!(get(&ks, 0, b"a"), Some(crate::value::Value::Int(1)));
        assert_eq!(get(&ks, 0, b"z"), None);
        assert_eq!(r.commands_applied, 1);
        assert_same_as_two_passes(&data, "unterminated MULTI");
    }

    #[test]
    fn zero_padding_after_the_last_group_loads_everything() {
        let mut data = [
            group(&[cmd(&["set", "a", "1"])]),
            group(&[cmd(&["incr", "a"])]),
        ]
        .concat();
        let len = data.len() as u64;
        data.extend([0u8; 4096]);
        let ks = Keyspace::new(16);
        let mut r = Replayer::new(&ks);
        let v = r.load_resp(&data, 0).unwrap();
        assert_eq!(v.problem, None);
        assert_eq!((v.data_end, v.valid_up_to), (len, len));
        assert_eq!(get(&ks, 0, b"a"), Some(crate::value::Value::Int(2)));
    }

    #[test]
    fn more_than_it_holds_is_read_again_when_settled() {
        let incrs = HELD_ITEMS_MAX + 10;
        let many: Vec<u8> = (0..incrs).flat_map(|_| cmd(&["incr", "n"])).collect();
        // No checksums (a Redis file) and a torn tail.
        let mut redis = many.clone();
        redis.extend(&cmd(&["incr", "n"])[..5]);
        let ((v, err, _), applied) = one_pass(&redis);
        assert_eq!(err, None);
        assert_eq!(
            v.unwrap().problem,
            Some(crate::aof::scan::Problem::Truncated)
        );
        assert_eq!(applied, incrs as u64);
        assert_same_as_two_passes(&redis, "redis stream, overflowed");
        // One huge group, then a small one, then a torn one.
        let mut logged = [group(&[many]), group(&[cmd(&["incr", "m"])])].concat();
        let mut torn = group(&[cmd(&["incr", "m"])]);
        torn.truncate(torn.len() - 3);
        logged.extend(torn);
        let ((_, err, data), applied) = one_pass(&logged);
        assert_eq!(err, None);
        assert_eq!(applied, incrs as u64 + 1);
        assert_eq!(
            data[0]
                .iter()
                .find(|(k, _)| k == b"n")
                .map(|(_, e)| e.value.clone()),
            Some(crate::value::Value::Int(incrs as i64))
        );
        assert_same_as_two_passes(&logged, "ringkv stream, overflowed");
    }

    #[test]
    fn replay_errors_surface_from_the_one_pass_load() {
        let g1 = group(&[cmd(&["set", "a", "1"])]);
        let data = [g1.clone(), group(&[cmd(&["nosuch", "x"])])].concat();
        let ks = Keyspace::new(16);
        let err = Replayer::new(&ks).load_resp(&data, 100).unwrap_err();
        let at = 100 + g1.len() as u64;
        assert!(
            matches!(err, ReplayError::UnknownCommand { offset, .. } if offset == at),
            "{err}"
        );
        assert_eq!(get(&ks, 0, b"a"), Some(crate::value::Value::Int(1)));
    }
}

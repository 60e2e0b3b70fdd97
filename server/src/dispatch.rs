//! From a framed request to a reply: command lookup, arity and auth checks,
//! MULTI queueing, slot locking and execution, blocking, statistics.
//! The order of checks follows Redis 7.0's `processCommand`.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;
use ringkv_engine::command::{CommandFlags, CommandSpec, EngineFn};
use ringkv_engine::exec::{ExecCtx, Locks, Propagation};
use ringkv_engine::keyspace::SlotData;
use ringkv_engine::reply::ReplyWriter;
use ringkv_engine::stats::ThreadStats;
use ringkv_engine::ByteStr;

use crate::blocking::Waiter;
use crate::client::{BlockedState, Client};
use crate::metrics::CommandMetrics;
use crate::shared::{CommandStat, Shared};

/// A server-level command: it needs the connection, not just the keyspace.
pub type ServerFn = fn(&mut CmdCtx<'_>, &[&[u8]]);

#[derive(Debug, Clone, Copy)]
pub enum Exec {
    Engine(EngineFn),
    Server(ServerFn),
}

pub type Command = CommandSpec<Exec>;

/// Visits every slot while a transaction already holds them all.
pub trait SlotVisitor {
    fn visit_slots(&mut self, f: &mut dyn FnMut(&mut SlotData));
}

impl SlotVisitor for ExecCtx<'_> {
    fn visit_slots(&mut self, f: &mut dyn FnMut(&mut SlotData)) {
        self.for_each_slot(f)
    }
}

/// The unified command table (engine data commands + server commands).
pub struct Table {
    pub commands: Vec<Command>,
    /// Lowercase name → index; hashbrown's default hasher, because every
    /// request does one lookup and SipHash's DoS resistance buys nothing
    /// over a fixed set of names.
    by_name: hashbrown::HashMap<&'static [u8], usize>,
}

/// Longer names cannot be commands; the lookup folds case into a stack buffer.
const COMMAND_NAME_BYTES_MAX: usize = 32;

impl Table {
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<(usize, &Command)> {
        if name.len() > COMMAND_NAME_BYTES_MAX {
            return None;
        }
        let mut buf = [0u8; COMMAND_NAME_BYTES_MAX];
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        let idx = *self.by_name.get(&*lower)?;
        Some((idx, &self.commands[idx]))
    }
}

pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut commands: Vec<Command> = ringkv_engine::cmd::all()
            .map(|s| CommandSpec {
                name: s.name,
                arity: s.arity,
                flags: s.flags,
                first_key: s.first_key,
                last_key: s.last_key,
                step: s.step,
                movable_keys: s.movable_keys,
                group: s.group,
                summary: s.summary,
                since: s.since,
                handler: Exec::Engine(s.handler),
            })
            .collect();
        commands.extend(crate::commands::all());
        // BGREWRITEAOF (issue 5) lives with the AOF code.
        commands.extend(crate::commands::aof::commands());
        let by_name = commands
            .iter()
            .enumerate()
            .map(|(i, c)| {
                debug_assert!(c.name.len() <= COMMAND_NAME_BYTES_MAX);
                debug_assert!(!c.name.bytes().any(|b| b.is_ascii_uppercase()));
                (c.name.as_bytes(), i)
            })
            .collect();
        Table { commands, by_name }
    })
}

/// Per io-thread state the dispatcher uses.
pub struct Worker {
    pub thread: usize,
    pub stats: Arc<ThreadStats>,
    pub prop: Propagation,
    /// Calls per command index, readable by INFO from other threads.
    pub cmd_stats: Arc<Mutex<Vec<CommandStat>>>,
    /// Prometheus handles per command index.
    pub metrics: CommandMetrics,
}

impl Worker {
    pub fn new(thread: usize, shared: &Shared) -> Worker {
        let stats = shared.thread_stats[thread].clone();
        let cmd_stats = shared.command_stats[thread].clone();
        Worker {
            thread,
            stats,
            prop: Propagation::default(),
            cmd_stats,
            metrics: CommandMetrics::new(table().commands.iter().map(|c| c.name).collect()),
        }
    }
}

/// What a server command can reach.
pub struct CmdCtx<'a> {
    pub shared: &'a Shared,
    pub client: &'a mut Client,
    pub out: &'a mut ReplyWriter,
    pub worker: &'a mut Worker,
    /// Inside EXEC with every slot locked: the way to see the keyspace.
    pub slots: Option<&'a mut dyn SlotVisitor>,
}

impl CmdCtx<'_> {
    /// Keys and volatile keys per database, safe inside EXEC.
    pub fn db_sizes(&mut self) -> Vec<(usize, usize)> {
        match self.slots.as_mut() {
            None => self.shared.keyspace.db_sizes(),
            Some(v) => {
                let mut sizes = vec![(0, 0); self.shared.keyspace.db_count()];
                v.visit_slots(&mut |s| {
                    for (i, d) in s.dbs() {
                        if let Some(e) = sizes.get_mut(i) {
                            e.0 += d.len();
                            e.1 += d.volatile_len();
                        }
                    }
                });
                sizes
            }
        }
    }
}

/// The name of the command at `idx` in the table (`NULL`, as Redis prints
/// it, for none).
pub fn command_name(idx: usize) -> &'static str {
    table().commands.get(idx).map_or("NULL", |c| c.name)
}

pub fn arity_error(name: &str) -> String {
    format!("ERR wrong number of arguments for '{name}' command")
}

fn unknown_command_error(args: &[&[u8]]) -> String {
    let mut rest = String::new();
    for a in &args[1..] {
        if rest.len() >= 128 {
            break;
        }
        let room = 128 - rest.len();
        let s = String::from_utf8_lossy(a);
        let s: String = s.chars().take(room).collect();
        rest.push_str(&format!("'{s}' "));
    }
    let name = String::from_utf8_lossy(args[0]);
    let name: String = name.chars().take(128).collect();
    format!("ERR unknown command '{name}', with args beginning with: {rest}")
}

/// Runs one request from a client.
pub fn process_command(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    debug_assert!(!args.is_empty());
    let Some((idx, cmd)) = table().lookup(args[0]) else {
        reject(ctx, &unknown_command_error(args));
        return;
    };
    if !cmd.arity_ok(args.len()) {
        reject(ctx, &arity_error(cmd.name));
        return;
    }
    if let Err(e) = crate::subcommands::check(cmd.name, args) {
        reject(ctx, &e);
        return;
    }
    if ctx.shared.loading.load(Ordering::Acquire) && !allowed_while_loading(cmd, args) {
        reject(ctx, LOADING_ERROR);
        return;
    }
    if !ctx.client.authenticated && !cmd.flags.contains(CommandFlags::NO_AUTH) {
        reject(ctx, "NOAUTH Authentication required.");
        return;
    }
    if cmd.is_write() || cmd.name == "ping" {
        if let Some(err) = crate::persist::write_refusal(ctx.shared) {
            reject(ctx, &err);
            return;
        }
    }
    if ctx.client.multi.is_some() && !is_multi_control(cmd.name) {
        if cmd.flags.contains(CommandFlags::NO_MULTI) {
            reject(ctx, "ERR Command not allowed inside a transaction");
            return;
        }
        if let Some(m) = ctx.client.multi.as_mut() {
            m.queued.push(args.iter().map(|a| a.to_vec()).collect());
        }
        ctx.out.simple("QUEUED");
        return;
    }
    call(ctx, idx, cmd, args);
}

/// Redis's reply to commands that need the dataset while it loads.
pub const LOADING_ERROR: &str = "LOADING Redis is loading the dataset in memory";

/// Commands flagged `loading` in Redis 7.0 (connection, introspection,
/// INFO, SHUTDOWN …), less what could act on a half-loaded dataset: DEBUG
/// beyond SLEEP and HELP (RELOAD would save it), CONFIG SET (turning the
/// AOF on would rewrite it).
fn allowed_while_loading(cmd: &Command, args: &[&[u8]]) -> bool {
    if !cmd.flags.contains(CommandFlags::LOADING) {
        return false;
    }
    let sub = args.get(1).map(|s| s.to_ascii_lowercase());
    match (cmd.name, sub.as_deref()) {
        ("debug", Some(b"sleep" | b"help")) => true,
        ("debug", _) | ("config", Some(b"set")) => false,
        _ => true,
    }
}

fn is_multi_control(name: &str) -> bool {
    matches!(
        name,
        "exec" | "discard" | "multi" | "watch" | "quit" | "reset"
    )
}

/// A command refused before running; inside MULTI it also dooms EXEC.
fn reject(ctx: &mut CmdCtx<'_>, msg: &str) {
    if let Some(m) = ctx.client.multi.as_mut() {
        m.errored = true;
    }
    ctx.out.error(msg);
    let n = ctx.out.take_error_count();
    for _ in 0..n {
        ctx.shared.record_error(ctx.out.last_error_prefix());
    }
}

/// Executes a command that passed all checks, recording its statistics:
/// INFO commandstats/latencystats, the Prometheus duration histogram, the
/// slow log and the latency monitor.
pub fn call(ctx: &mut CmdCtx<'_>, idx: usize, cmd: &'static Command, args: &[&[u8]]) {
    // quanta reads the TSC (as Redis's `getMonotonicUs` does): two clock
    // reads per command are on the hot path.
    let started = quanta::Instant::now();
    ctx.client.meta.last_cmd.store(idx, Ordering::Relaxed);
    match cmd.handler {
        Exec::Engine(f) => run_engine(ctx, cmd, f, args),
        Exec::Server(f) => f(ctx, args),
    }
    let finished = quanta::Instant::now();
    let elapsed = finished.saturating_duration_since(started);
    let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
    let usec = ns / 1000;
    let errors = ctx.out.take_error_count();
    for _ in 0..errors {
        ctx.shared.record_error(ctx.out.last_error_prefix());
    }
    let track_latency = ctx.shared.latency_monitor.tracking();
    let mut stats = ctx.worker.cmd_stats.lock();
    if let Some(s) = stats.get_mut(idx) {
        s.calls += 1;
        s.usec += usec;
        if errors > 0 {
            s.failed_calls += 1;
        }
        if track_latency {
            s.latency.get_or_insert_with(Default::default).record_ns(ns);
        }
    }
    drop(stats);
    ctx.worker.metrics.record(idx, elapsed, finished);
    ThreadStats::bump(&ctx.worker.stats.commands_processed, 1);
    if ctx.shared.slowlog.wants(usec) && !skips_slowlog(cmd.name) {
        let name = ctx.client.meta.name();
        ctx.shared
            .slowlog
            .push(args, usec, unix_time_s(), &ctx.client.meta.addr, &name);
    }
    if ctx.shared.latency_monitor.wants(usec) {
        let event = if cmd.flags.contains(CommandFlags::FAST) {
            "fast-command"
        } else {
            "command"
        };
        ctx.shared
            .latency_monitor
            .add_sample(event, unix_time_s(), usec / 1000);
    }
}

/// Commands Redis keeps out of the slow log (`CMD_SKIP_SLOWLOG`): their
/// arguments may hold passwords, or they only wrap other commands.
fn skips_slowlog(name: &str) -> bool {
    matches!(name, "exec" | "auth" | "hello")
}

fn unix_time_s() -> i64 {
    i64::try_from(ringkv_engine::clock::now_ms() / 1000).unwrap_or(i64::MAX)
}

fn run_engine(ctx: &mut CmdCtx<'_>, cmd: &Command, f: EngineFn, args: &[&[u8]]) {
    let shared = ctx.shared;
    let ks = &shared.keyspace;
    // A global write (FLUSHALL, SWAPDB...) keeps every slot locked until
    // its propagated form is appended, so no other write can slip between
    // its execution and its place in the AOF (issue 5).
    let locks = if cmd.flags.contains(CommandFlags::GLOBAL) && cmd.is_write() {
        Locks::all(ks)
    } else {
        Locks::for_command(ks, cmd, args)
    };
    let worker = &mut *ctx.worker;
    worker.prop.clear();
    worker.prop.disabled = !shared.aof.is_logging();
    let mut exec = ExecCtx::new(
        ks,
        ctx.client.db,
        ctx.out,
        &worker.stats,
        &mut worker.prop,
        locks,
    );
    exec.run_fn(f, args);
    crate::persist::after_write(shared, exec.prop);
    let mut ready = std::mem::take(&mut exec.ready_keys);
    swapped_db_ready_keys(shared, exec.swapped_dbs.take(), &mut ready);
    if let Some(req) = exec.block.take() {
        // Registered while the slot locks are still held: see blocking.rs.
        shared.blocked.register(Waiter {
            client_id: ctx.client.id(),
            thread: worker.thread,
            db: ctx.client.db,
            proto: exec.out.proto(),
            args: args.iter().map(|a| a.to_vec()).collect(),
            keys: req.keys.iter().map(|k| k.to_vec()).collect(),
        });
        ctx.client.blocked = Some(BlockedState {
            deadline_ms: req.deadline_ms,
        });
        ctx.client.meta.blocked.store(true, Ordering::Relaxed);
    }
    drop(exec);
    if !ready.is_empty() {
        serve_ready_keys(shared, worker, ready.into_iter().collect());
    }
}

/// After SWAPDB a, b, every key a client waits on in either database may
/// now hold data: each is offered to its waiters, who block again where it
/// still has none.
pub fn swapped_db_ready_keys(
    shared: &Shared,
    swapped: Option<(usize, usize)>,
    ready: &mut impl Extend<(usize, ByteStr)>,
) {
    let Some((a, b)) = swapped else {
        return;
    };
    for db in [a, b] {
        ready.extend(
            shared
                .blocked
                .keys_in_db(db)
                .into_iter()
                .map(|k| (db, ByteStr::from_slice(&k))),
        );
    }
}

/// Serves clients blocked on keys that just received data, in arrival order,
/// running their commands here and posting the replies to their threads.
pub fn serve_ready_keys(
    shared: &Shared,
    worker: &mut Worker,
    mut ready: VecDeque<(usize, ByteStr)>,
) {
    if shared.blocked.is_empty() {
        return;
    }
    let ks = &shared.keyspace;
    while let Some((db, key)) = ready.pop_front() {
        while let Some(w) = shared.blocked.take_first_for_key(db, &key) {
            let args: Vec<&[u8]> = w.args.iter().map(|a| a.as_slice()).collect();
            let Some((_, cmd)) = table().lookup(args[0]) else {
                continue;
            };
            let Exec::Engine(f) = cmd.handler else {
                continue;
            };
            let mut out = ReplyWriter::new(w.proto);
            let mut prop = Propagation::default();
            let locks = Locks::for_command(ks, cmd, &args);
            let mut exec = ExecCtx::new(ks, w.db, &mut out, &worker.stats, &mut prop, locks);
            // A key that now holds another type keeps the client blocked (7.0).
            exec.unblocked_rerun = true;
            exec.run_fn(f, &args);
            let blocked_again = exec.block.take().is_some();
            let chained = std::mem::take(&mut exec.ready_keys);
            if blocked_again {
                shared.blocked.put_back(w);
                drop(exec);
                break;
            }
            crate::persist::after_write(shared, exec.prop);
            drop(exec);
            ready.extend(chained);
            shared.deliver(w.thread, w.client_id, out.bytes().to_vec());
        }
    }
}

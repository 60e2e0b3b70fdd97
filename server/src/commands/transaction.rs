//! MULTI, EXEC, DISCARD, WATCH, UNWATCH.
//!
//! EXEC locks the slots of every queued command's keys and of the WATCHed
//! keys (all slots if a queued command spans the keyspace) before checking
//! the WATCH flag, so the check and the commands form one atomic step with
//! respect to every other client.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use ringkv_engine::command::CommandFlags;
use ringkv_engine::exec::{ExecCtx, Locks, Propagation};
use ringkv_engine::reply::ReplyWriter;
use ringkv_engine::slot::key_slot;
use smallvec::SmallVec;

use crate::client::Client;
use crate::dispatch::{table, CmdCtx, Exec};
use crate::shared::Shared;

pub fn multi(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    if ctx.client.multi.is_some() {
        ctx.out.error("ERR MULTI calls can not be nested");
        return;
    }
    ctx.client.multi = Some(Default::default());
    ctx.client.meta.in_multi.store(true, Ordering::Relaxed);
    ctx.out.ok();
}

pub fn discard(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    if ctx.client.multi.is_none() {
        ctx.out.error("ERR DISCARD without MULTI");
        return;
    }
    discard_multi(ctx.client);
    unwatch_all(ctx.shared, ctx.client);
    ctx.out.ok();
}

pub fn discard_multi(client: &mut Client) {
    client.multi = None;
    client.meta.in_multi.store(false, Ordering::Relaxed);
}

pub fn watch(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    if ctx.client.multi.is_some() {
        ctx.out.error("ERR WATCH inside MULTI is not allowed");
        return;
    }
    let db = ctx.client.db;
    for key in &args[1..] {
        if ctx
            .client
            .watch
            .keys
            .iter()
            .any(|(d, k)| *d == db && k.as_slice() == *key)
        {
            continue;
        }
        ctx.shared
            .keyspace
            .lock_key(key)
            .watch(db, key, &ctx.client.watch.flag);
        ctx.client.watch.keys.push((db, key.to_vec()));
    }
    ctx.out.ok();
}

pub fn unwatch(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    unwatch_all(ctx.shared, ctx.client);
    ctx.out.ok();
}

pub fn unwatch_all(shared: &Shared, client: &mut Client) {
    for (db, key) in client.watch.keys.drain(..) {
        shared
            .keyspace
            .lock_key(&key)
            .unwatch(db, &key, &client.watch.flag);
    }
    client.watch.flag.store(false, Ordering::Release);
}

pub fn exec(ctx: &mut CmdCtx<'_>, _args: &[&[u8]]) {
    let Some(multi) = ctx.client.multi.take() else {
        ctx.out.error("ERR EXEC without MULTI");
        return;
    };
    ctx.client.meta.in_multi.store(false, Ordering::Relaxed);
    if multi.errored {
        unwatch_all(ctx.shared, ctx.client);
        ctx.out
            .error("EXECABORT Transaction discarded because of previous errors.");
        return;
    }
    let queued = multi.queued;
    let shared = ctx.shared;
    let ks = &shared.keyspace;
    let table = table();

    let mut global = false;
    let mut slots: SmallVec<[_; 8]> = ctx
        .client
        .watch
        .keys
        .iter()
        .map(|(_, k)| key_slot(k))
        .collect();
    for args in &queued {
        let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_slice()).collect();
        if let Some((_, cmd)) = table.lookup(argv[0]) {
            if cmd.flags.contains(CommandFlags::GLOBAL) {
                global = true;
            }
            slots.extend(
                cmd.key_positions(&argv)
                    .into_iter()
                    .filter_map(|i| argv.get(i))
                    .map(|k| key_slot(k)),
            );
        }
    }
    let locks = if global {
        Locks::all(ks)
    } else {
        Locks::slots(ks, slots)
    };

    if ctx.client.watch.is_dirty() {
        drop(locks);
        unwatch_all(shared, ctx.client);
        ctx.out.null_array();
        return;
    }

    let worker = &mut *ctx.worker;
    let thread_stats = worker.stats.clone();
    let mut prop = Propagation::default();
    let mut ready = VecDeque::new();
    let proto = ctx.out.proto();
    let mut exec = ExecCtx::new(
        ks,
        ctx.client.db,
        &mut *ctx.out,
        &thread_stats,
        &mut prop,
        locks,
    );
    exec.in_multi = true;
    exec.out.array(queued.len());
    for args in &queued {
        let argv: SmallVec<[&[u8]; 8]> = args.iter().map(|a| a.as_slice()).collect();
        let Some((idx, cmd)) = table.lookup(argv[0]) else {
            continue;
        };
        ctx.client.meta.last_cmd.store(idx, Ordering::Relaxed);
        match cmd.handler {
            Exec::Engine(f) => {
                exec.run_fn(f, &argv);
                ready.extend(exec.ready_keys.drain(..));
                let swapped = exec.swapped_dbs.take();
                crate::dispatch::swapped_db_ready_keys(shared, swapped, &mut ready);
            }
            Exec::Server(f) => {
                // Server commands write to their own buffer: the transaction's
                // writer is borrowed by the engine context holding the locks.
                let mut tmp = ReplyWriter::new(proto);
                let mut sub = CmdCtx {
                    shared,
                    client: &mut *ctx.client,
                    out: &mut tmp,
                    worker: &mut *worker,
                    slots: Some(&mut exec),
                };
                f(&mut sub, &argv);
                exec.db = ctx.client.db;
                if tmp.proto() != proto {
                    exec.out.set_proto(tmp.proto());
                }
                exec.out.raw(tmp.bytes());
            }
        }
        let errors = exec.out.take_error_count();
        let mut stats = worker.cmd_stats.lock();
        if let Some(s) = stats.get_mut(idx) {
            s.calls += 1;
            if errors > 0 {
                s.failed_calls += 1;
            }
        }
    }
    wrap_transaction(exec.prop);
    crate::persist::after_write(shared, exec.prop);
    drop(exec);
    unwatch_all(shared, ctx.client);
    crate::dispatch::serve_ready_keys(shared, worker, ready);
}

/// Redis wraps a transaction's propagated commands in MULTI/EXEC when it
/// propagates two or more of them.
fn wrap_transaction(prop: &mut Propagation) {
    if prop.count < 2 {
        return;
    }
    let body = std::mem::take(&mut prop.buf);
    let dbs = std::mem::take(&mut prop.dbs);
    let count = prop.count;
    prop.clear();
    let first_db = dbs.first().copied().unwrap_or(0);
    prop.push(first_db, &[b"MULTI"]);
    prop.buf.extend_from_slice(&body);
    prop.dbs.extend(dbs);
    prop.count += count;
    let last_db = prop.dbs.last().copied().unwrap_or(0);
    prop.push(last_db, &[b"EXEC"]);
}

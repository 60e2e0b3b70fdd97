//! One io-thread's side of the event loop: turns a connection's input bytes
//! into commands and replies, and handles cross-thread events (replies for
//! unblocked clients, CLIENT KILL) and timers (blocking timeouts).
//!
//! Reply gating (`appendfsync always`): a write's reply may leave only once
//! the AOF's durable LSN has passed its record. After a command that
//! appended (its LSN is [`crate::persist::aof::last_append_lsn`]), the
//! output it and the rest of its input batch produced goes into the
//! connection's held queue as one `(lsn, bytes)` segment, behind the
//! batch's last record; output of later batches joins the queue too
//! (replies stay in order) until it drains. The log wakes this thread when
//! durability advances and [`WorkerHandler::wake`] releases what is due.
//! A connection with nothing held never waits, so readers are not stuck
//! behind anyone's fsync, and the io-thread itself never blocks on disk.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use ringkv_engine::reply::{Protocol, ReplyWriter};
use ringkv_uring_io::net::ConnInfo;
use ringkv_uring_io::{ConnId, ConnIo, ConnSet, Handler};

use crate::client::{Client, ClientMeta};
use crate::commands::transaction::unwatch_all;
use crate::dispatch::{process_command, CmdCtx, Worker};
use crate::resp::{Limits, Parsed, Parser};
use crate::shared::Shared;

/// A connection's thread-local state.
pub struct Conn {
    client: Client,
    parser: Parser,
    out: ReplyWriter,
    /// Replies waiting for the AOF: (LSN to wait for, bytes), in order.
    held: VecDeque<(u64, Vec<u8>)>,
    /// The client asked to close; do it once `held` has drained.
    close_when_released: bool,
    /// Listed in `WorkerHandler::held_conns`.
    listed: bool,
}

/// Queues `bytes` behind `lsn` (0: no write of its own; it only waits for
/// what is already held).
fn hold(held: &mut VecDeque<(u64, Vec<u8>)>, lsn: u64, bytes: Vec<u8>) {
    if bytes.is_empty() && lsn == 0 {
        return;
    }
    match held.back_mut() {
        Some((last, b)) if lsn <= *last => b.extend_from_slice(&bytes),
        _ => held.push_back((lsn, bytes)),
    }
}

pub struct WorkerHandler {
    shared: Arc<Shared>,
    worker: Worker,
    by_client: HashMap<u64, ConnId>,
    /// Connections with held replies.
    held_conns: Vec<ConnId>,
}

impl WorkerHandler {
    pub fn new(shared: Arc<Shared>, thread: usize) -> WorkerHandler {
        let worker = Worker::new(thread, &shared);
        WorkerHandler {
            shared,
            worker,
            by_client: HashMap::new(),
            held_conns: Vec::new(),
        }
    }

    /// Moves replies whose LSN is durable to the socket. If the log failed,
    /// held replies are never sent: the connection is closed instead, so
    /// no write that was not persisted is acknowledged.
    fn release(shared: &Shared, conn: &mut Conn, io: &mut ConnIo) {
        if conn.held.is_empty() {
            return;
        }
        let durable = shared.aof.durable_lsn();
        while let Some((lsn, _)) = conn.held.front() {
            if *lsn > durable {
                break;
            }
            if let Some((_, bytes)) = conn.held.pop_front() {
                io.output.extend_from_slice(&bytes);
            }
        }
        if conn.held.is_empty() {
            if conn.close_when_released {
                io.close_after_flush = true;
            }
        } else if shared.aof.log_failed() {
            tracing::warn!(
                client = conn.client.id(),
                "closing client whose writes could not be persisted"
            );
            conn.held.clear();
            io.close_after_flush = true;
        }
    }

    fn release_held(&mut self, conns: &mut dyn ConnSet<Conn>) {
        let shared = &*self.shared;
        self.held_conns.retain(|&id| match conns.get_mut(id) {
            Some((conn, io)) => {
                Self::release(shared, conn, io);
                conn.listed = !conn.held.is_empty();
                conn.listed
            }
            None => false,
        });
    }

    fn list_if_held(&mut self, id: ConnId, conn: &mut Conn) {
        if !conn.held.is_empty() && !conn.listed {
            conn.listed = true;
            self.held_conns.push(id);
        }
    }

    /// Runs every complete command in the input buffer, stopping early when
    /// the client blocks or asks to close.
    fn process_input(&mut self, conn: &mut Conn, io: &mut ConnIo) {
        let shared = &*self.shared;
        let (bulk_bytes_max, query_buffer_limit) = {
            let s = shared.config.read();
            (
                i64::try_from(s.proto_max_bulk_len_bytes).unwrap_or(i64::MAX),
                usize::try_from(s.client_query_buffer_limit_bytes).unwrap_or(usize::MAX),
            )
        };
        // Idle time is reported in seconds: one clock read per batch of input
        // (not per pipelined command) is exact enough.
        conn.client
            .meta
            .last_interaction_ms
            .store(ringkv_engine::clock::now_ms(), Ordering::Relaxed);
        std::mem::swap(conn.out.buffer_mut(), &mut io.output);
        let out_before = conn.out.len();
        // Replies from the first one that must wait for the log (its command
        // wrote, or earlier replies are still held) to the end of the batch
        // are held as one piece behind the batch's last write, as Redis
        // sends a whole event-loop turn's replies after one fsync: one
        // allocation per batch, not per pipelined command.
        let mut hold_from = (!conn.held.is_empty()).then_some(out_before);
        let mut batch_lsn = 0;
        let mut pos = 0;
        while conn.client.blocked.is_none() && !conn.client.close_after_reply {
            let limits = Limits {
                bulk_bytes_max,
                authenticated: conn.client.authenticated,
            };
            match conn.parser.parse(&io.input[pos..], limits) {
                Parsed::Command { consumed } => {
                    let args = conn.parser.args(&io.input[pos..]);
                    let out_start = conn.out.len();
                    let lsn_before = crate::persist::aof::last_append_lsn();
                    let mut ctx = CmdCtx {
                        shared,
                        client: &mut conn.client,
                        out: &mut conn.out,
                        worker: &mut self.worker,
                        slots: None,
                    };
                    process_command(&mut ctx, &args);
                    let lsn = crate::persist::aof::last_append_lsn();
                    if lsn != lsn_before {
                        debug_assert!(lsn > batch_lsn, "LSNs grow within a batch");
                        batch_lsn = lsn;
                    }
                    if hold_from.is_none() && batch_lsn != 0 {
                        hold_from = Some(out_start);
                    }
                    pos += consumed;
                }
                Parsed::Empty { consumed } => pos += consumed,
                Parsed::Incomplete => break,
                Parsed::Error(msg) => {
                    conn.out.error(&format!("ERR {msg}"));
                    shared.record_error(b"ERR");
                    tracing::debug!(client = conn.client.id(), "protocol error: {msg}");
                    conn.client.close_after_reply = true;
                    pos = io.input.len();
                }
            }
        }
        // Held replies count as output now: they leave in order, or the
        // connection closes when the log fails.
        shared
            .stats
            .total_net_output_bytes
            .fetch_add((conn.out.len() - out_before) as u64, Ordering::Relaxed);
        if let Some(start) = hold_from {
            let bytes = conn.out.buffer_mut().split_off(start);
            hold(&mut conn.held, batch_lsn, bytes);
        }
        shared
            .stats
            .total_net_input_bytes
            .fetch_add(pos as u64, Ordering::Relaxed);
        io.input.drain(..pos);
        if io.input.len() > query_buffer_limit {
            tracing::warn!(
                client = conn.client.id(),
                "closing client that reached max query buffer length"
            );
            io.close_now = true;
        }
        if conn.client.close_after_reply {
            if conn.held.is_empty() {
                io.close_after_flush = true;
            } else {
                conn.close_when_released = true;
            }
        }
        io.pause_input = conn.client.blocked.is_some();
        std::mem::swap(conn.out.buffer_mut(), &mut io.output);
        Self::release(shared, conn, io);
    }

    fn unblock(conn: &mut Conn) {
        conn.client.blocked = None;
        conn.client.meta.blocked.store(false, Ordering::Relaxed);
    }

    fn handle_deliveries(&mut self, conns: &mut dyn ConnSet<Conn>) {
        let deliveries = match self.shared.mailboxes.get(self.worker.thread) {
            Some(m) => std::mem::take(&mut *m.lock()),
            None => return,
        };
        for d in deliveries {
            let Some(&id) = self.by_client.get(&d.client_id) else {
                continue;
            };
            if let Some((conn, io)) = conns.get_mut(id) {
                Self::unblock(conn);
                self.shared
                    .stats
                    .total_net_output_bytes
                    .fetch_add(d.reply.len() as u64, Ordering::Relaxed);
                if d.lsn != 0 || !conn.held.is_empty() {
                    hold(&mut conn.held, d.lsn, d.reply);
                } else {
                    io.output.extend_from_slice(&d.reply);
                }
                self.process_input(conn, io);
                self.list_if_held(id, conn);
            }
        }
    }
}

impl Handler for WorkerHandler {
    type Conn = Conn;

    fn open(&mut self, info: ConnInfo, io: &mut ConnIo) -> Option<Conn> {
        let shared = &*self.shared;
        let (maxclients, needs_auth) = {
            let s = shared.config.read();
            (s.maxclients as usize, s.requirepass.is_some())
        };
        shared
            .stats
            .total_connections_received
            .fetch_add(1, Ordering::Relaxed);
        if shared.connected_clients.load(Ordering::Relaxed) >= maxclients {
            io.output
                .extend_from_slice(b"-ERR max number of clients reached\r\n");
            shared
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            return None;
        }
        shared.connected_clients.fetch_add(1, Ordering::Relaxed);
        let id = shared.next_client_id.fetch_add(1, Ordering::Relaxed);
        let now = ringkv_engine::clock::now_ms();
        let meta = Arc::new(ClientMeta {
            id,
            thread: self.worker.thread,
            conn: info.id,
            addr: info.peer.to_string(),
            laddr: info.local.to_string(),
            fd: info.fd,
            created_ms: now,
            name: Mutex::new(Vec::new()),
            lib_name: Mutex::new(Vec::new()),
            lib_ver: Mutex::new(Vec::new()),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_interaction_ms: AtomicU64::new(now),
            last_cmd: AtomicUsize::new(usize::MAX),
            kill: AtomicBool::new(false),
            in_multi: AtomicBool::new(false),
            blocked: AtomicBool::new(false),
        });
        shared.clients.lock().insert(id, meta.clone());
        self.by_client.insert(id, info.id);
        Some(Conn {
            client: Client::new(meta, needs_auth),
            parser: Parser::default(),
            out: ReplyWriter::new(Protocol::Resp2),
            held: VecDeque::new(),
            close_when_released: false,
            listed: false,
        })
    }

    fn input(&mut self, conn: &mut Conn, io: &mut ConnIo) {
        if conn.client.blocked.is_some() {
            return;
        }
        self.process_input(conn, io);
        let id = conn.client.meta.conn;
        self.list_if_held(id, conn);
    }

    fn wake(&mut self, conns: &mut dyn ConnSet<Conn>) {
        self.handle_deliveries(conns);
        self.release_held(conns);
        conns.for_each(&mut |_, conn, io| {
            if conn.client.meta.kill.load(Ordering::Acquire) {
                io.close_now = true;
            }
        });
    }

    fn tick(&mut self, conns: &mut dyn ConnSet<Conn>) {
        self.handle_deliveries(conns);
        self.release_held(conns);
        let now = ringkv_engine::clock::now_ms();
        let idle_limit_ms = self.shared.config.read().timeout_secs * 1000;
        let mut timed_out = Vec::new();
        conns.for_each(&mut |id, conn, io| {
            if conn.client.meta.kill.load(Ordering::Acquire) {
                io.close_now = true;
            }
            // Redis's `timeout`: idle normal clients are closed; blocked
            // clients are governed by their own timeout instead.
            let idle_ms =
                now.saturating_sub(conn.client.meta.last_interaction_ms.load(Ordering::Relaxed));
            if idle_limit_ms > 0 && conn.client.blocked.is_none() && idle_ms > idle_limit_ms {
                io.close_now = true;
            }
            if let Some(b) = &conn.client.blocked {
                if b.deadline_ms != 0 && b.deadline_ms <= now {
                    timed_out.push(id);
                }
            }
        });
        for id in timed_out {
            let Some((conn, io)) = conns.get_mut(id) else {
                continue;
            };
            // Whoever takes the waiter out of the registry owns its reply.
            if self.shared.blocked.take(conn.client.id()).is_some() {
                Self::unblock(conn);
                let mut w = ReplyWriter::new(conn.out.proto());
                w.null_array();
                io.output.extend_from_slice(w.bytes());
                self.process_input(conn, io);
            }
        }
    }

    fn closed(&mut self, mut conn: Conn) {
        let shared = &*self.shared;
        let id = conn.client.id();
        shared.clients.lock().remove(&id);
        self.by_client.remove(&id);
        if conn.client.blocked.is_some() {
            shared.blocked.take(id);
        }
        unwatch_all(shared, &mut conn.client);
        shared.connected_clients.fetch_sub(1, Ordering::Relaxed);
    }

    fn may_poll_idle(&self) -> bool {
        // Held replies wait for the log writer, which (with the fsync's
        // io-wq worker) needs this core: polling measured 0.68x requests/s
        // under `appendfsync always` at pipeline 1.
        self.held_conns.is_empty()
    }

    fn should_stop(&self) -> bool {
        self.shared.is_shutting_down()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn held_replies_keep_their_order_behind_writes() {
        let mut held = VecDeque::new();
        hold(&mut held, 0, b"ignored-when-nothing-held".to_vec());
        assert_eq!(
            held.len(),
            1,
            "a read with nothing held still queues if called"
        );
        held.clear();
        hold(&mut held, 10, b"+OK\r\n".to_vec());
        hold(&mut held, 0, b"$1\r\na\r\n".to_vec()); // a read after the write waits with it
        hold(&mut held, 20, b":1\r\n".to_vec());
        assert_eq!(
            held,
            VecDeque::from(vec![
                (10, b"+OK\r\n$1\r\na\r\n".to_vec()),
                (20, b":1\r\n".to_vec())
            ])
        );
        hold(&mut held, 0, Vec::new());
        assert_eq!(held.len(), 2);
    }
}

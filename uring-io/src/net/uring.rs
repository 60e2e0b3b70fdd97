//! The io_uring backend: one ring per loop thread, a multishot accept on the
//! shared listener, one recv and at most one send in flight per connection,
//! a multishot poll on the waker's eventfd, and a timeout op for ticks.
//!
//! Bug story: the kernel writes into a recv buffer and reads from a send
//! buffer long after the submitting call returned. Freeing or moving either
//! while the op is in flight is a use-after-free the kernel commits for us.
//! So: each connection's recv buffer is its own boxed slice, never replaced;
//! sends come from a [`SendQueue`](super::conns::SendQueue) the handler
//! cannot touch, left alone until the send completes; a closed connection's
//! slot (and its buffers) stays in the table, ops cancelled, until every op
//! it had in flight has completed; and if the loop ever exits with ops still
//! in flight, their buffers are leaked rather than freed.

use std::io;
use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use io_uring::{cqueue, opcode, squeue, types, IoUring};

use super::conns::{ConnTable, ConnView, Entry};
use super::{sys, ConnInfo, Handler, LoopConfig, Waker, ACCEPT_BACKOFF};

const SQ_ENTRIES: u32 = 256;
const CQ_ENTRIES: u32 = 4096;
const RECV_BUF_BYTES: usize = 16 * 1024;
/// How long a stopping loop waits for the kernel to finish cancelled ops.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What a completion belongs to; the top byte of `user_data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpKind {
    Accept = 1,
    AcceptBackoff = 2,
    Waker = 3,
    Tick = 4,
    Recv = 5,
    Send = 6,
    Cancel = 7,
}

impl OpKind {
    fn from_bits(bits: u64) -> Option<OpKind> {
        Some(match bits {
            1 => OpKind::Accept,
            2 => OpKind::AcceptBackoff,
            3 => OpKind::Waker,
            4 => OpKind::Tick,
            5 => OpKind::Recv,
            6 => OpKind::Send,
            7 => OpKind::Cancel,
            _ => return None,
        })
    }
}

/// `user_data` layout: kind (8 bits) | generation (low 24 bits) | index (32).
fn user_data(kind: OpKind, index: u32, generation: u32) -> u64 {
    ((kind as u64) << 56) | (u64::from(generation & 0x00ff_ffff) << 32) | u64::from(index)
}

fn decode_user_data(data: u64) -> (Option<OpKind>, u32, u32) {
    (
        OpKind::from_bits(data >> 56),
        data as u32,
        ((data >> 32) & 0x00ff_ffff) as u32,
    )
}

struct UringConn {
    /// Where the in-flight recv writes; boxed so it never moves.
    recv_buf: Box<[u8]>,
    recv_in_flight: bool,
    send_in_flight: bool,
}

impl UringConn {
    fn ops_in_flight(&self) -> bool {
        self.recv_in_flight || self.send_in_flight
    }
}

/// Finds the entry a recv/send completion belongs to. Slots are never
/// reused while ops are in flight, so a miss is a bug.
fn entry_for_completion<C>(
    table: &mut ConnTable<C, UringConn>,
    index: u32,
    generation: u32,
) -> Option<&mut Entry<C, UringConn>> {
    let current = table.generation(index)?;
    if current & 0x00ff_ffff != generation {
        debug_assert!(false, "completion for a freed connection slot");
        return None;
    }
    table.get_mut(index)
}

struct UringLoop<'a, H: Handler> {
    cfg: &'a LoopConfig,
    listener_fd: i32,
    waker_fd: i32,
    handler: &'a mut H,
    ring: IoUring,
    table: ConnTable<H::Conn, UringConn>,
    touched: Vec<u32>,
    completions: Vec<(u64, i32, u32)>,
    /// Recv and send ops the kernel holds on connection buffers.
    conn_ops_in_flight: usize,
    accept_armed: bool,
    waker_armed: bool,
    tick_armed: bool,
    /// Read by the kernel when the timeout op is submitted; boxed and only
    /// rewritten once that op completed.
    tick_timespec: Box<types::Timespec>,
    backoff_timespec: Box<types::Timespec>,
    next_tick_at: Instant,
    stopping: bool,
}

pub(crate) fn run<H: Handler>(
    cfg: &LoopConfig,
    listener: &TcpListener,
    waker: &Waker,
    handler: &mut H,
) -> io::Result<()> {
    let ring = build_ring()?;
    let mut lp = UringLoop {
        cfg,
        listener_fd: listener.as_raw_fd(),
        waker_fd: waker.raw_fd(),
        handler,
        ring,
        table: ConnTable::default(),
        touched: Vec::new(),
        completions: Vec::with_capacity(CQ_ENTRIES as usize),
        conn_ops_in_flight: 0,
        accept_armed: false,
        waker_armed: false,
        tick_armed: false,
        tick_timespec: Box::new(types::Timespec::new()),
        backoff_timespec: Box::new(timespec_of(ACCEPT_BACKOFF)),
        next_tick_at: Instant::now() + cfg.tick,
        stopping: false,
    };
    lp.arm_accept();
    lp.arm_waker();
    lp.arm_tick();
    let result = lp.run_until_stopped();
    lp.shut_down();
    result
}

/// One ring per io-thread, only ever used by that thread: single-issuer
/// with deferred task work, so the kernel runs completion work when the
/// loop asks for events instead of interrupting it (kernel 6.1+). Older
/// kernels refuse the flags; the plain ring works the same, only costlier.
fn build_ring() -> io::Result<IoUring> {
    let tuned = IoUring::builder()
        .setup_cqsize(CQ_ENTRIES)
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(SQ_ENTRIES);
    match tuned {
        Ok(ring) => Ok(ring),
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => IoUring::builder()
            .setup_cqsize(CQ_ENTRIES)
            .build(SQ_ENTRIES),
        Err(e) => Err(e),
    }
}

/// `IORING_RECVSEND_POLL_FIRST`: wait for readability before trying the
/// receive. A connection's next request usually arrives only after its
/// reply went out, so an immediate attempt would just fail and arm a poll.
const RECV_POLL_FIRST: u16 = 1;

/// `IORING_ENTER_GETEVENTS` (the crate keeps its `sys` module private).
const IORING_ENTER_GETEVENTS: u32 = 1;

fn timespec_of(d: Duration) -> types::Timespec {
    types::Timespec::new()
        .sec(d.as_secs())
        .nsec(d.subsec_nanos())
}

impl<H: Handler> UringLoop<'_, H> {
    fn run_until_stopped(&mut self) -> io::Result<()> {
        while !self.handler.should_stop() {
            self.submit_and_wait()?;
            self.reap_and_dispatch();
            self.tick_if_due();
            self.arm_tick();
        }
        Ok(())
    }

    fn submit_and_wait(&mut self) -> io::Result<()> {
        if !self.cfg.idle_poll.is_zero() && self.poll_until_completion() {
            return Ok(());
        }
        match self.ring.submit_and_wait(1) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => Ok(()),
            // The completion queue is full: reaping makes room.
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => Ok(()),
            // The kernel could not get memory for the submission right now
            // (a loaded machine): back off and retry rather than stopping
            // the whole server.
            Err(e) if matches!(e.raw_os_error(), Some(libc::EAGAIN) | Some(libc::ENOMEM)) => {
                tracing::warn!("io_uring_enter: {e}; retrying");
                std::thread::sleep(std::time::Duration::from_millis(1));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Submits and reaps without sleeping until a completion arrives
    /// (true) or [`LoopConfig::idle_poll`] passes (false). Only entering
    /// the kernel with GETEVENTS runs the deferred task work that turns a
    /// ready socket into a completion, hence no pure userspace spin. Every
    /// pass submits what is queued, as the blocking wait does.
    fn poll_until_completion(&mut self) -> bool {
        if !self.handler.may_poll_idle() {
            return false;
        }
        let deadline = Instant::now() + self.cfg.idle_poll;
        loop {
            let to_submit = self.ring.submission().len() as u32;
            // SAFETY: no argument struct is passed; every queued entry's
            // buffers are kept alive by the loop (see `push`).
            let entered = unsafe {
                self.ring.submitter().enter::<libc::sigset_t>(
                    to_submit,
                    0,
                    IORING_ENTER_GETEVENTS,
                    None,
                )
            };
            if entered.is_err() {
                return false; // the blocking path reports it
            }
            if !self.ring.completion().is_empty() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::hint::spin_loop();
        }
    }

    fn reap_and_dispatch(&mut self) {
        let mut completions = std::mem::take(&mut self.completions);
        completions.extend(
            self.ring
                .completion()
                .map(|cqe| (cqe.user_data(), cqe.result(), cqe.flags())),
        );
        for (data, result, flags) in completions.drain(..) {
            self.dispatch(data, result, flags);
        }
        self.completions = completions;
    }

    fn dispatch(&mut self, data: u64, result: i32, flags: u32) {
        let (kind, index, generation) = decode_user_data(data);
        match kind {
            Some(OpKind::Accept) => self.on_accept(result, cqueue::more(flags)),
            Some(OpKind::AcceptBackoff) => self.arm_accept(),
            Some(OpKind::Waker) => self.on_waker(cqueue::more(flags)),
            // Re-armed after the batch, once `tick_if_due` moved the deadline.
            Some(OpKind::Tick) => self.tick_armed = false,
            Some(OpKind::Recv) => self.on_recv(index, generation, result),
            Some(OpKind::Send) => self.on_send(index, generation, result),
            Some(OpKind::Cancel) => {}
            None => debug_assert!(false, "unknown user_data {data:#x}"),
        }
    }

    /// Pushes an entry whose buffers (if any) the caller keeps valid,
    /// submitting first if the submission queue is full.
    ///
    /// # Safety
    /// Every buffer `entry` points to must stay allocated, unmoved and (for a
    /// send) unmodified until the entry's completion has been reaped.
    unsafe fn push(&mut self, entry: &squeue::Entry) {
        for _ in 0..1000 {
            // SAFETY: the caller guarantees the buffers outlive the op.
            if unsafe { self.ring.submission().push(entry) }.is_ok() {
                return;
            }
            if let Err(e) = self.ring.submit() {
                if e.raw_os_error() != Some(libc::EBUSY) && e.raw_os_error() != Some(libc::EINTR) {
                    tracing::error!("io_uring submit failed: {e}");
                }
                // Make room in the completion queue; completions are handled
                // on the next reap since `completions` keeps them in order.
                std::thread::yield_now();
            }
        }
        tracing::error!("io_uring submission queue stayed full; dropping an op");
        debug_assert!(false, "submission queue stayed full");
    }

    fn push_bufferless(&mut self, entry: &squeue::Entry) {
        // SAFETY: the entry carries no user-memory buffer (accept without an
        // address, poll, cancel), or only a timespec the kernel copies when
        // preparing the op.
        unsafe { self.push(entry) }
    }

    fn arm_accept(&mut self) {
        if self.accept_armed || self.stopping {
            return;
        }
        let entry = opcode::AcceptMulti::new(types::Fd(self.listener_fd))
            .flags(libc::SOCK_CLOEXEC)
            .build()
            .user_data(user_data(OpKind::Accept, 0, 0));
        self.push_bufferless(&entry);
        self.accept_armed = true;
    }

    fn arm_waker(&mut self) {
        if self.waker_armed || self.stopping {
            return;
        }
        let entry = opcode::PollAdd::new(types::Fd(self.waker_fd), libc::POLLIN as u32)
            .multi(true)
            .build()
            .user_data(user_data(OpKind::Waker, 0, 0));
        self.push_bufferless(&entry);
        self.waker_armed = true;
    }

    fn arm_tick(&mut self) {
        if self.tick_armed || self.stopping {
            return;
        }
        let wait = self
            .next_tick_at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        *self.tick_timespec = timespec_of(wait);
        let entry = opcode::Timeout::new(&*self.tick_timespec)
            .build()
            .user_data(user_data(OpKind::Tick, 0, 0));
        self.push_bufferless(&entry);
        self.tick_armed = true;
    }

    fn tick_if_due(&mut self) {
        let now = Instant::now();
        if now < self.next_tick_at {
            return;
        }
        self.next_tick_at = now + self.cfg.tick;
        let mut view = ConnView {
            table: &mut self.table,
            touched: &mut self.touched,
        };
        self.handler.tick(&mut view);
        self.after_touched();
    }

    fn on_waker(&mut self, more: bool) {
        if !more {
            self.waker_armed = false;
            self.arm_waker();
        }
        if self.stopping {
            return;
        }
        sys::eventfd_drain(self.waker_fd);
        let mut view = ConnView {
            table: &mut self.table,
            touched: &mut self.touched,
        };
        self.handler.wake(&mut view);
        self.after_touched();
    }

    fn after_touched(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        for index in touched.drain(..) {
            if let Some(id) = self.table.id_of(index) {
                self.after_event(id.index);
            }
        }
        self.touched = touched;
    }

    fn on_accept(&mut self, result: i32, more: bool) {
        let mut back_off = false;
        if result >= 0 {
            if self.stopping {
                drop(sys::tcp_stream_from_accepted(result));
            } else {
                self.open(result);
            }
        } else if result != -libc::ECANCELED {
            let err = io::Error::from_raw_os_error(-result);
            back_off = sys::is_resource_exhaustion(-result) || !more;
            if back_off {
                tracing::warn!("accept failed: {err}; pausing accepts for {ACCEPT_BACKOFF:?}");
            } else {
                tracing::debug!("accept failed: {err}");
            }
        }
        if more {
            return;
        }
        self.accept_armed = false;
        if self.stopping {
            return;
        }
        if back_off {
            let entry = opcode::Timeout::new(&*self.backoff_timespec)
                .build()
                .user_data(user_data(OpKind::AcceptBackoff, 0, 0));
            self.push_bufferless(&entry);
        } else {
            self.arm_accept();
        }
    }

    fn open(&mut self, fd: i32) {
        let stream = sys::tcp_stream_from_accepted(fd);
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY on accepted socket: {e}");
        }
        let (peer, local) = match (stream.peer_addr(), stream.local_addr()) {
            (Ok(peer), Ok(local)) => (peer, local),
            (Err(e), _) | (_, Err(e)) => {
                tracing::debug!("dropping accepted socket: {e}");
                return;
            }
        };
        let state = UringConn {
            recv_buf: vec![0; RECV_BUF_BYTES].into_boxed_slice(),
            recv_in_flight: false,
            send_in_flight: false,
        };
        let id = self.table.insert(Entry::new(stream, state));
        let info = ConnInfo {
            id,
            peer,
            local,
            fd,
        };
        let Some(entry) = self.table.get_by_id(id) else {
            return;
        };
        entry.conn = self.handler.open(info, &mut entry.io);
        if entry.conn.is_none() {
            // Rejected: send what the handler wrote (the error), then close.
            entry.io.close_after_flush = true;
        }
        self.after_event(id.index);
    }

    fn on_recv(&mut self, index: u32, generation: u32, result: i32) {
        self.conn_ops_in_flight -= 1;
        let Some(entry) = entry_for_completion(&mut self.table, index, generation) else {
            return;
        };
        entry.backend.recv_in_flight = false;
        if entry.closing {
            self.release_if_idle(index);
            return;
        }
        match result {
            n if n > 0 => {
                let len = usize::try_from(n).unwrap_or(0).min(RECV_BUF_BYTES);
                let UringConn { recv_buf, .. } = &entry.backend;
                entry.io.input.extend_from_slice(&recv_buf[..len]);
                entry.deliver_received(self.handler);
                self.after_event(index);
            }
            0 => self.close(index),
            e if e == -libc::EINTR || e == -libc::EAGAIN || e == -libc::ECANCELED => {
                self.after_event(index);
            }
            e => {
                tracing::debug!(
                    "recv on connection {index}: {}",
                    io::Error::from_raw_os_error(-e)
                );
                self.close(index);
            }
        }
    }

    fn on_send(&mut self, index: u32, generation: u32, result: i32) {
        self.conn_ops_in_flight -= 1;
        let Some(entry) = entry_for_completion(&mut self.table, index, generation) else {
            return;
        };
        entry.backend.send_in_flight = false;
        if entry.closing {
            self.release_if_idle(index);
            return;
        }
        match result {
            n if n > 0 => {
                let sent = usize::try_from(n).unwrap_or(0);
                debug_assert!(sent <= entry.out.pending_bytes());
                entry.out.sent_bytes += sent.min(entry.out.pending_bytes());
                self.after_event(index);
            }
            e if e == -libc::EINTR || e == -libc::EAGAIN => self.after_event(index),
            e => {
                tracing::debug!(
                    "send on connection {index}: {}",
                    io::Error::from_raw_os_error(-e)
                );
                self.close(index);
            }
        }
    }

    /// Acts on the connection's flags after anything happened to it: close
    /// requests, a resume, pending output, and whether to read again.
    fn after_event(&mut self, index: u32) {
        let pause_bytes = self.cfg.output_pause_bytes;
        let Some(entry) = self.table.get_mut(index) else {
            return;
        };
        if entry.closing {
            return;
        }
        entry.deliver_on_resume(self.handler);
        if entry.io.close_now {
            self.close(index);
            return;
        }
        if !entry.backend.send_in_flight && entry.out.refill(&mut entry.io.output) {
            self.submit_send(index);
        }
        let Some(entry) = self.table.get_mut(index) else {
            return;
        };
        if entry.flushed_for_close() && !entry.backend.send_in_flight {
            self.close(index);
            return;
        }
        if !entry.backend.recv_in_flight && entry.wants_input(pause_bytes) {
            self.submit_recv(index);
        }
    }

    fn submit_recv(&mut self, index: u32) {
        let Some(generation) = self.table.generation(index) else {
            return;
        };
        let Some(entry) = self.table.get_mut(index) else {
            return;
        };
        debug_assert!(!entry.backend.recv_in_flight && !entry.closing);
        let fd = entry.stream.as_raw_fd();
        let buf = &mut entry.backend.recv_buf;
        let op = opcode::Recv::new(types::Fd(fd), buf.as_mut_ptr(), RECV_BUF_BYTES as u32)
            .ioprio(RECV_POLL_FIRST)
            .build()
            .user_data(user_data(OpKind::Recv, index, generation));
        entry.backend.recv_in_flight = true;
        self.conn_ops_in_flight += 1;
        // SAFETY: `recv_buf` is a boxed slice owned by the entry and never
        // replaced; the entry stays in the table (closing or not) while
        // `recv_in_flight` is set, and the table is leaked rather than freed
        // if the loop exits with ops in flight.
        unsafe { self.push(&op) };
    }

    fn submit_send(&mut self, index: u32) {
        let Some(generation) = self.table.generation(index) else {
            return;
        };
        let Some(entry) = self.table.get_mut(index) else {
            return;
        };
        debug_assert!(!entry.backend.send_in_flight && !entry.closing);
        let fd = entry.stream.as_raw_fd();
        let unsent = entry.out.unsent();
        let len = u32::try_from(unsent.len()).unwrap_or(u32::MAX);
        let op = opcode::Send::new(types::Fd(fd), unsent.as_ptr(), len)
            .flags(libc::MSG_NOSIGNAL)
            .build()
            .user_data(user_data(OpKind::Send, index, generation));
        entry.backend.send_in_flight = true;
        self.conn_ops_in_flight += 1;
        // SAFETY: the bytes live in `out.buf`, which `SendQueue::refill`
        // (the only code that changes it) leaves alone while
        // `send_in_flight` is set; moving the entry moves the Vec header,
        // not its heap buffer. Lifetime as for recv.
        unsafe { self.push(&op) };
    }

    /// Closes from the handler's point of view at once; the fd and buffers
    /// go once the kernel returned every op it held on them.
    fn close(&mut self, index: u32) {
        let Some(generation) = self.table.generation(index) else {
            return;
        };
        let Some(entry) = self.table.get_mut(index) else {
            return;
        };
        if entry.closing {
            return;
        }
        entry.closing = true;
        let conn = entry.conn.take();
        let (recv, send) = (entry.backend.recv_in_flight, entry.backend.send_in_flight);
        if recv || send {
            // Makes a send stuck on a full peer window complete too.
            sys::shutdown_both(entry.stream.as_raw_fd());
        }
        for (in_flight, kind) in [(recv, OpKind::Recv), (send, OpKind::Send)] {
            if in_flight {
                let cancel = opcode::AsyncCancel::new(user_data(kind, index, generation))
                    .build()
                    .user_data(user_data(OpKind::Cancel, index, generation));
                self.push_bufferless(&cancel);
            }
        }
        self.release_if_idle(index);
        if let Some(conn) = conn {
            self.handler.closed(conn);
        }
    }

    fn release_if_idle(&mut self, index: u32) {
        let Some(entry) = self.table.get_mut(index) else {
            return;
        };
        debug_assert!(entry.closing);
        if !entry.backend.ops_in_flight() {
            // Dropping the entry closes the socket.
            self.table.remove(index);
        }
    }

    /// Closes every connection, cancels the loop's own ops and waits for
    /// the kernel to return all buffers.
    fn shut_down(&mut self) {
        self.stopping = true;
        for index in self.table.live_indexes() {
            self.close(index);
        }
        for (armed, kind) in [
            (self.accept_armed, OpKind::Accept),
            (self.waker_armed, OpKind::Waker),
            (self.tick_armed, OpKind::Tick),
        ] {
            if armed {
                let cancel = opcode::AsyncCancel::new(user_data(kind, 0, 0))
                    .build()
                    .user_data(user_data(OpKind::Cancel, 0, 0));
                self.push_bufferless(&cancel);
            }
        }
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        while self.conn_ops_in_flight > 0 && Instant::now() < deadline {
            let wait = timespec_of(Duration::from_millis(100));
            let args = types::SubmitArgs::new().timespec(&wait);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::ETIME) | Some(libc::EINTR) | Some(libc::EBUSY)
                    ) => {}
                Err(e) => {
                    tracing::error!("io_uring wait while stopping failed: {e}");
                    break;
                }
            }
            self.reap_and_dispatch();
        }
        debug_assert!(self.conn_ops_in_flight > 0 || self.table.live_count() == 0);
    }
}

impl<H: Handler> Drop for UringLoop<'_, H> {
    fn drop(&mut self) {
        if self.conn_ops_in_flight > 0 {
            tracing::error!(
                "event loop exiting with {} socket ops in flight; leaking their buffers",
                self.conn_ops_in_flight
            );
            std::mem::forget(std::mem::take(&mut self.table));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_round_trips() {
        let data = user_data(OpKind::Send, 0xdead_beef, 0x1234_5678);
        assert_eq!(
            decode_user_data(data),
            (Some(OpKind::Send), 0xdead_beef, 0x0034_5678)
        );
        assert_eq!(decode_user_data(0).0, None);
    }
}

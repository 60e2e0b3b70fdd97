//! The epoll backend: non-blocking sockets, edge-triggered per connection,
//! the shared listener registered with `EPOLLEXCLUSIVE` so one accept wakes
//! one loop instead of all of them.
//!
//! Edge-triggered means an event is not repeated: the loop remembers that a
//! socket is readable until a read says `EAGAIN`, and keeps a ready queue of
//! connections it stopped reading early (read budget, a resume after
//! `pause_input` or output backpressure).
//!
//! Replies are written once per loop iteration, after every ready
//! connection has been read and served (as Redis writes in beforeSleep):
//! a loopback send wakes the peer from the sender's own context, and
//! writing each reply as soon as it exists woke a client once per
//! connection served, which cost a quarter of the loop's time at pipeline
//! 16 under redis-benchmark.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use super::conns::{ConnTable, ConnView, Entry};
use super::{sys, ConnId, ConnInfo, Handler, LoopConfig, Waker, ACCEPT_BACKOFF};

const LISTENER_TOKEN: u64 = u64::MAX;
const WAKER_TOKEN: u64 = u64::MAX - 1;
const EVENTS_MAX: usize = 256;
/// Connections accepted per listener event, so one loop does not take a
/// burst that several loops could share.
const ACCEPTS_PER_EVENT_MAX: usize = 64;
/// Bytes read from one connection before others get a turn.
const READ_BUDGET_BYTES: usize = 256 * 1024;
const READ_CHUNK_BYTES: usize = 64 * 1024;

#[derive(Default)]
struct EpollConn {
    readable: bool,
    writable: bool,
    in_ready_queue: bool,
    /// Listed in `EpollLoop::to_flush`.
    flush_queued: bool,
}

fn token_of(id: ConnId) -> u64 {
    (u64::from(id.generation) << 32) | u64::from(id.index)
}

fn id_of_token(token: u64) -> ConnId {
    ConnId {
        index: token as u32,
        generation: (token >> 32) as u32,
    }
}

struct EpollLoop<'a, H: Handler> {
    cfg: &'a LoopConfig,
    listener: &'a TcpListener,
    handler: &'a mut H,
    epoll: OwnedFd,
    waker_fd: i32,
    table: ConnTable<H::Conn, EpollConn>,
    touched: Vec<u32>,
    ready: VecDeque<ConnId>,
    /// Connections with output to write at the end of this iteration.
    to_flush: Vec<ConnId>,
    read_chunk: Box<[u8]>,
    /// Set while the listener is out of the epoll set after EMFILE & co.
    accept_resume_at: Option<Instant>,
    next_tick_at: Instant,
}

pub(crate) fn run<H: Handler>(
    cfg: &LoopConfig,
    listener: &TcpListener,
    waker: &Waker,
    handler: &mut H,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let epoll = sys::epoll_create()?;
    let listener_events = (libc::EPOLLIN | libc::EPOLLEXCLUSIVE) as u32;
    sys::epoll_ctl(
        &epoll,
        libc::EPOLL_CTL_ADD,
        listener.as_raw_fd(),
        listener_events,
        LISTENER_TOKEN,
    )?;
    sys::epoll_ctl(
        &epoll,
        libc::EPOLL_CTL_ADD,
        waker.raw_fd(),
        libc::EPOLLIN as u32,
        WAKER_TOKEN,
    )?;
    let mut lp = EpollLoop {
        cfg,
        listener,
        handler,
        epoll,
        waker_fd: waker.raw_fd(),
        table: ConnTable::default(),
        touched: Vec::new(),
        ready: VecDeque::new(),
        to_flush: Vec::new(),
        read_chunk: vec![0; READ_CHUNK_BYTES].into_boxed_slice(),
        accept_resume_at: None,
        next_tick_at: Instant::now() + cfg.tick,
    };
    let result = lp.run_until_stopped();
    lp.close_all();
    result
}

impl<H: Handler> EpollLoop<'_, H> {
    fn run_until_stopped(&mut self) -> io::Result<()> {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; EVENTS_MAX];
        while !self.handler.should_stop() {
            let timeout_ms = self.wait_timeout_ms();
            let count = sys::epoll_wait(&self.epoll, &mut events, timeout_ms)?;
            let mut woken = false;
            for event in &events[..count] {
                let (flags, token) = (event.events, event.u64);
                match token {
                    LISTENER_TOKEN => self.accept_batch(),
                    WAKER_TOKEN => woken = true,
                    _ => self.on_socket_event(id_of_token(token), flags),
                }
            }
            if woken {
                sys::eventfd_drain(self.waker_fd);
                let mut view = ConnView {
                    table: &mut self.table,
                    touched: &mut self.touched,
                };
                self.handler.wake(&mut view);
                self.after_touched();
            }
            self.serve_ready_queue();
            self.resume_accepting_if_due();
            self.tick_if_due();
            self.flush_queued();
        }
        Ok(())
    }

    /// Writes what every listed connection has queued (see the module
    /// comment), closing those that asked to close once flushed.
    fn flush_queued(&mut self) {
        let pause_bytes = self.cfg.output_pause_bytes;
        let mut to_flush = std::mem::take(&mut self.to_flush);
        for id in to_flush.drain(..) {
            let Some(entry) = self.table.get_by_id(id) else {
                continue; // closed since it was listed
            };
            entry.backend.flush_queued = false;
            if let Err(e) = flush(entry) {
                tracing::debug!("send to connection {id:?}: {e}");
                self.close(id);
                continue;
            }
            if entry.flushed_for_close() {
                self.close(id);
                continue;
            }
            // Input held back while the output was large may go on now:
            // no new edge will say so.
            queue_read_if_wanted(&mut self.ready, id, entry, pause_bytes);
        }
        self.to_flush = to_flush;
    }

    fn wait_timeout_ms(&self) -> i32 {
        if !self.ready.is_empty() {
            return 0;
        }
        let now = Instant::now();
        let mut deadline = self.next_tick_at;
        if let Some(resume_at) = self.accept_resume_at {
            deadline = deadline.min(resume_at);
        }
        let wait = deadline.saturating_duration_since(now);
        // Round up so we do not wake a hair early and spin.
        let ms = wait.as_micros().div_ceil(1000);
        i32::try_from(ms).unwrap_or(i32::MAX)
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

    fn after_touched(&mut self) {
        let mut touched = std::mem::take(&mut self.touched);
        for index in touched.drain(..) {
            if let Some(id) = self.table.id_of(index) {
                self.after_event(id);
            }
        }
        self.touched = touched;
    }

    fn accept_batch(&mut self) {
        for _ in 0..ACCEPTS_PER_EVENT_MAX {
            match self.listener.accept() {
                Ok((stream, peer)) => self.open(stream, peer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.raw_os_error() == Some(libc::ECONNABORTED) => {}
                Err(e) => {
                    self.back_off_accepting(&e);
                    return;
                }
            }
        }
    }

    /// The listener is level-triggered: leaving it registered after EMFILE
    /// would report it again at once and spin, so take it out for a while.
    fn back_off_accepting(&mut self, err: &io::Error) {
        let exhausted = err.raw_os_error().is_some_and(sys::is_resource_exhaustion);
        tracing::warn!(
            "accept failed: {err}; pausing accepts for {:?}{}",
            ACCEPT_BACKOFF,
            if exhausted { " (out of resources)" } else { "" }
        );
        if let Err(e) = sys::epoll_ctl(
            &self.epoll,
            libc::EPOLL_CTL_DEL,
            self.listener.as_raw_fd(),
            0,
            LISTENER_TOKEN,
        ) {
            tracing::warn!("removing listener from epoll failed: {e}");
        }
        self.accept_resume_at = Some(Instant::now() + ACCEPT_BACKOFF);
    }

    fn resume_accepting_if_due(&mut self) {
        let Some(resume_at) = self.accept_resume_at else {
            return;
        };
        if Instant::now() < resume_at {
            return;
        }
        let events = (libc::EPOLLIN | libc::EPOLLEXCLUSIVE) as u32;
        match sys::epoll_ctl(
            &self.epoll,
            libc::EPOLL_CTL_ADD,
            self.listener.as_raw_fd(),
            events,
            LISTENER_TOKEN,
        ) {
            Ok(()) => self.accept_resume_at = None,
            Err(e) => {
                tracing::warn!("re-adding listener to epoll failed: {e}");
                self.accept_resume_at = Some(Instant::now() + ACCEPT_BACKOFF);
            }
        }
    }

    fn open(&mut self, stream: TcpStream, peer: SocketAddr) {
        if let Err(e) = stream.set_nonblocking(true) {
            tracing::warn!("dropping connection from {peer}: set_nonblocking: {e}");
            return;
        }
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY on connection from {peer}: {e}");
        }
        let local = match stream.local_addr() {
            Ok(local) => local,
            Err(e) => {
                tracing::debug!("dropping connection from {peer}: getsockname: {e}");
                return;
            }
        };
        let fd = stream.as_raw_fd();
        let state = EpollConn {
            readable: true,
            writable: true,
            in_ready_queue: false,
            flush_queued: false,
        };
        let id = self.table.insert(Entry::new(stream, state));
        let events = (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;
        if let Err(e) = sys::epoll_ctl(&self.epoll, libc::EPOLL_CTL_ADD, fd, events, token_of(id)) {
            tracing::warn!("dropping connection from {peer}: epoll_ctl: {e}");
            self.table.remove(id.index);
            return;
        }
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
        self.after_event(id);
    }

    fn on_socket_event(&mut self, id: ConnId, flags: u32) {
        let Some(entry) = self.table.get_by_id(id) else {
            return; // closed earlier in this batch
        };
        let hangup = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
        if flags & (libc::EPOLLOUT as u32 | hangup) != 0 {
            entry.backend.writable = true;
        }
        if flags & ((libc::EPOLLIN | libc::EPOLLRDHUP) as u32 | hangup) != 0 {
            entry.backend.readable = true;
        }
        let read_now = entry.backend.readable && entry.wants_input(self.cfg.output_pause_bytes);
        if read_now {
            self.read(id);
        } else {
            self.after_event(id);
        }
    }

    fn serve_ready_queue(&mut self) {
        for _ in 0..self.ready.len() {
            let Some(id) = self.ready.pop_front() else {
                break;
            };
            let Some(entry) = self.table.get_by_id(id) else {
                continue;
            };
            entry.backend.in_ready_queue = false;
            if entry.backend.readable && entry.wants_input(self.cfg.output_pause_bytes) {
                self.read(id);
            }
        }
    }

    /// Reads up to the budget, hands the bytes to the handler, then acts on
    /// what it asked for.
    fn read(&mut self, id: ConnId) {
        let Some(entry) = self.table.get_by_id(id) else {
            return;
        };
        let mut read_bytes = 0;
        let mut peer_gone = false;
        while read_bytes < READ_BUDGET_BYTES {
            match (&entry.stream).read(&mut self.read_chunk) {
                Ok(0) => {
                    peer_gone = true;
                    break;
                }
                Ok(n) => {
                    entry.io.input.extend_from_slice(&self.read_chunk[..n]);
                    read_bytes += n;
                    if n < self.read_chunk.len() {
                        // Drained: new data brings a new edge.
                        entry.backend.readable = false;
                        break;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    entry.backend.readable = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!("read from connection {id:?}: {e}");
                    peer_gone = true;
                    break;
                }
            }
        }
        if read_bytes > 0 {
            entry.deliver_received(self.handler);
        }
        if peer_gone {
            self.close(id);
        } else {
            self.after_event(id);
        }
    }

    /// Acts on the connection's flags after anything happened to it: close
    /// requests, a resume, pending output, and whether to read again.
    fn after_event(&mut self, id: ConnId) {
        let pause_bytes = self.cfg.output_pause_bytes;
        let Some(entry) = self.table.get_by_id(id) else {
            return;
        };
        entry.deliver_on_resume(self.handler);
        if entry.io.close_now {
            self.close(id);
            return;
        }
        if entry.unsent_bytes() > 0 && entry.backend.writable {
            if !entry.backend.flush_queued {
                entry.backend.flush_queued = true;
                self.to_flush.push(id);
            }
        } else if entry.flushed_for_close() {
            self.close(id);
            return;
        }
        queue_read_if_wanted(&mut self.ready, id, entry, pause_bytes);
    }

    fn close(&mut self, id: ConnId) {
        let Some(mut entry) = self.table.remove(id.index) else {
            return;
        };
        debug_assert!(!entry.closing);
        entry.closing = true;
        // Dropping the stream closes the fd, which also leaves the epoll set.
        let conn = entry.conn.take();
        drop(entry);
        if let Some(conn) = conn {
            self.handler.closed(conn);
        }
    }

    fn close_all(&mut self) {
        for index in self.table.live_indexes() {
            if let Some(id) = self.table.id_of(index) {
                self.close(id);
            }
        }
        debug_assert_eq!(self.table.live_count(), 0);
    }
}

/// Puts a connection with unread input in the ready queue (once) if it may
/// read now: edge-triggered epoll will not report that input again.
fn queue_read_if_wanted<C>(
    ready: &mut VecDeque<ConnId>,
    id: ConnId,
    entry: &mut Entry<C, EpollConn>,
    output_pause_bytes: usize,
) {
    if entry.backend.readable
        && !entry.backend.in_ready_queue
        && entry.wants_input(output_pause_bytes)
    {
        entry.backend.in_ready_queue = true;
        ready.push_back(id);
    }
}

/// Writes queued output until done or the socket is full.
fn flush<C>(entry: &mut Entry<C, EpollConn>) -> io::Result<()> {
    while entry.backend.writable && entry.out.refill(&mut entry.io.output) {
        match (&entry.stream).write(entry.out.unsent()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => entry.out.sent_bytes += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => entry.backend.writable = false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

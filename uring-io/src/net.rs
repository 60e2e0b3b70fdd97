//! Per-thread socket event loops. Each io-thread runs one loop that accepts
//! from the shared listener, reads into each connection's input buffer, hands
//! it to a [`Handler`], and sends what the handler put in the output buffer.
//!
//! The handler is sans-I/O: it sees bytes and flags only. Cross-thread events
//! (a blocked client made ready, a durable LSN advanced, CLIENT KILL) reach a
//! loop through its [`Waker`].

mod conns;
mod epoll;
mod sys;
mod uring;

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use crate::backend::BackendKind;

/// How long a loop leaves the listener alone after accept failed for lack
/// of a resource (EMFILE and friends), instead of spinning on it.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Identifies a connection within one event loop. The generation makes a
/// stale id (of a closed connection whose slot was reused) miss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    pub index: u32,
    pub generation: u32,
}

/// The byte buffers and requests of one connection, shared by loop and handler.
#[derive(Debug, Default)]
pub struct ConnIo {
    /// Received bytes the handler has not consumed yet; the handler drains
    /// the prefix it parsed and leaves a partial command in place.
    pub input: Vec<u8>,
    /// Bytes to send; the loop sends from the front.
    pub output: Vec<u8>,
    /// Close once `output` has been sent (QUIT, protocol errors).
    pub close_after_flush: bool,
    /// Close at once, dropping unsent output (CLIENT KILL, shutdown).
    pub close_now: bool,
    /// Do not read more from the socket while set (e.g. a blocked client).
    pub pause_input: bool,
}

/// Facts about a freshly accepted connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnInfo {
    pub id: ConnId,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub fd: i32,
}

/// What an event loop drives. One instance per io-thread.
pub trait Handler {
    type Conn;

    /// A connection was accepted. `None` rejects it: the loop sends whatever
    /// the handler put in `io.output` and closes (that is how `maxclients`
    /// replies with its error).
    fn open(&mut self, info: ConnInfo, io: &mut ConnIo) -> Option<Self::Conn>;

    /// New bytes were appended to `io.input`.
    fn input(&mut self, conn: &mut Self::Conn, io: &mut ConnIo);

    /// The loop's [`Waker`] fired.
    fn wake(&mut self, conns: &mut dyn ConnSet<Self::Conn>);

    /// Called about every [`LoopConfig::tick`].
    fn tick(&mut self, conns: &mut dyn ConnSet<Self::Conn>);

    /// The connection is gone (peer closed, I/O error, or a close request).
    fn closed(&mut self, conn: Self::Conn);

    /// Polled after each batch of events: true makes the loop close every
    /// connection (calling `closed`) and return.
    fn should_stop(&self) -> bool;

    /// Whether the loop may poll for [`LoopConfig::idle_poll`] before
    /// sleeping. A handler waiting on work of another thread that shares
    /// its core (replies held for the log writer's fsync) says no: polling
    /// would take that thread's CPU.
    fn may_poll_idle(&self) -> bool {
        true
    }
}

/// Access to a loop's connections from `wake` and `tick`. After either
/// returns, the loop sends pending output and honours close requests of
/// every connection handed out.
pub trait ConnSet<C> {
    fn get_mut(&mut self, id: ConnId) -> Option<(&mut C, &mut ConnIo)>;
    fn for_each(&mut self, f: &mut dyn FnMut(ConnId, &mut C, &mut ConnIo));
}

/// Loop settings.
#[derive(Debug, Clone)]
pub struct LoopConfig {
    pub backend: BackendKind,
    pub tick: Duration,
    /// Stop reading from a connection while more than this is waiting to be sent.
    pub output_pause_bytes: usize,
    /// io_uring loop: after a batch, keep reaping without sleeping for up to
    /// this long before blocking (when [`Handler::may_poll_idle`] agrees).
    /// A client sending to a sleeping thread pays for waking it (an IPI,
    /// a VM exit under virtualisation); one sending to a polling thread
    /// does not. Zero turns it off.
    pub idle_poll: Duration,
}

impl Default for LoopConfig {
    fn default() -> Self {
        LoopConfig {
            backend: BackendKind::Epoll,
            tick: Duration::from_millis(100),
            output_pause_bytes: 1 << 20,
            idle_poll: Duration::ZERO,
        }
    }
}

/// Wakes one event loop from any thread (an eventfd under the hood).
/// Clones share the eventfd; it is closed when the last clone goes.
#[derive(Debug, Clone)]
pub struct Waker {
    eventfd: Arc<OwnedFd>,
}

impl Waker {
    pub fn new() -> io::Result<Waker> {
        Ok(Waker {
            eventfd: Arc::new(sys::eventfd()?),
        })
    }

    /// Makes the loop running with this waker call `Handler::wake` soon.
    /// Several wakes before the loop notices coalesce into one call.
    pub fn wake(&self) {
        sys::eventfd_signal(self.eventfd.as_raw_fd());
    }

    fn raw_fd(&self) -> RawFd {
        self.eventfd.as_raw_fd()
    }

    /// Resets the counter (for owners that poll the eventfd themselves).
    pub(crate) fn drain(&self) -> bool {
        sys::eventfd_drain(self.raw_fd())
    }
}

/// The eventfd, for callers that poll it themselves.
impl AsFd for Waker {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.eventfd.as_fd()
    }
}

/// Runs an event loop on the calling thread until the handler asks to stop,
/// then closes every connection (calling `Handler::closed`) and returns.
/// `listener` is shared by every loop of the process; each loop accepts on
/// it. All loops sharing a listener must use the same backend (the epoll
/// backend puts the listener in non-blocking mode).
///
/// After `input`, and after `wake`/`tick` for every connection they handed
/// out, the loop sends pending output and honours `close_now`,
/// `close_after_flush` and `pause_input`. `input` is not called while
/// `pause_input` is set; when the handler clears it, `input` is called again
/// if unconsumed bytes are waiting in `io.input`. Reading stops while more
/// than `LoopConfig::output_pause_bytes` wait to be sent.
pub fn run<H: Handler>(
    cfg: &LoopConfig,
    listener: &TcpListener,
    waker: &Waker,
    handler: &mut H,
) -> io::Result<()> {
    match cfg.backend {
        BackendKind::Uring => uring::run(cfg, listener, waker, handler),
        BackendKind::Epoll => epoll::run(cfg, listener, waker, handler),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn waker_is_shareable_and_coalesces() {
        assert_send_sync::<Waker>();
        let waker = Waker::new().unwrap();
        let clone = waker.clone();
        waker.wake();
        clone.wake();
        assert!(sys::eventfd_drain(waker.raw_fd()));
        assert!(!sys::eventfd_drain(waker.raw_fd()), "two wakes, one event");
    }
}

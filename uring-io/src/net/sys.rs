//! Thin, safe wrappers over the few raw syscalls the loops need that `std`
//! does not offer (eventfd, epoll, shutdown). Each unsafe block is one call.

use std::io;
use std::net::TcpStream;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Converts a `-1`-on-error syscall result into `io::Result`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// A fresh fd returned by the kernel becomes owned exactly once here.
fn own_fd(fd: RawFd) -> OwnedFd {
    debug_assert!(fd >= 0);
    // SAFETY: `fd` was just returned by a successful syscall that creates a
    // new descriptor; nothing else owns it.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Takes ownership of a socket fd produced by an io_uring accept completion.
pub(crate) fn tcp_stream_from_accepted(fd: RawFd) -> TcpStream {
    TcpStream::from(own_fd(fd))
}

/// A non-blocking, close-on-exec eventfd with counter 0.
pub(crate) fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd takes no pointers.
    let fd = check(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })?;
    Ok(own_fd(fd))
}

/// Adds one to an eventfd counter. A full counter (EAGAIN) means a wake-up
/// is already pending, which is all a waker needs.
pub(crate) fn eventfd_signal(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a live local u64.
    let ret = unsafe { libc::write(fd, (&one as *const u64).cast(), 8) };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::WouldBlock {
            tracing::warn!("waker eventfd write failed: {err}");
        }
    }
}

/// Resets a non-blocking eventfd counter to zero. Returns true if it was
/// non-zero.
pub(crate) fn eventfd_drain(fd: RawFd) -> bool {
    let mut value: u64 = 0;
    // SAFETY: reads at most 8 bytes into a live local u64.
    let ret = unsafe { libc::read(fd, (&mut value as *mut u64).cast(), 8) };
    ret == 8
}

/// `shutdown(fd, SHUT_RDWR)`: makes any pending socket operation complete
/// promptly. Errors (already disconnected) do not matter to the caller.
pub(crate) fn shutdown_both(fd: RawFd) {
    // SAFETY: shutdown takes no pointers; a stale fd only yields EBADF.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

pub(crate) fn epoll_create() -> io::Result<OwnedFd> {
    // SAFETY: epoll_create1 takes no pointers.
    let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
    Ok(own_fd(fd))
}

pub(crate) fn epoll_ctl(
    epoll: &OwnedFd,
    op: libc::c_int,
    fd: RawFd,
    events: u32,
    token: u64,
) -> io::Result<()> {
    let mut event = libc::epoll_event { events, u64: token };
    // SAFETY: `event` is a live local; the kernel copies it before returning.
    check(unsafe { libc::epoll_ctl(epoll.as_raw_fd(), op, fd, &mut event) })?;
    Ok(())
}

/// Waits for events; returns how many entries of `events` were filled.
/// EINTR reports zero events.
pub(crate) fn epoll_wait(
    epoll: &OwnedFd,
    events: &mut [libc::epoll_event],
    timeout_ms: i32,
) -> io::Result<usize> {
    let capacity = i32::try_from(events.len()).unwrap_or(i32::MAX);
    // SAFETY: the kernel writes at most `capacity` entries into `events`,
    // which is a live, exclusively borrowed slice of that many entries.
    let ret =
        unsafe { libc::epoll_wait(epoll.as_raw_fd(), events.as_mut_ptr(), capacity, timeout_ms) };
    if ret < 0 {
        let err = io::Error::last_os_error();
        if err.kind() == io::ErrorKind::Interrupted {
            return Ok(0);
        }
        return Err(err);
    }
    Ok(usize::try_from(ret).unwrap_or(0))
}

/// True for accept errors caused by running out of a resource, after which
/// the listener should be left alone for a while instead of retried at once.
pub(crate) fn is_resource_exhaustion(errno: i32) -> bool {
    matches!(
        errno,
        libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM
    )
}

//! How the writer thread gets a group onto the disk: through its own
//! io_uring ring (one `write` with a linked `fdatasync`, one syscall), or
//! with plain `pwrite` + `fdatasync` when io_uring is unavailable.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

use io_uring::{opcode, squeue, types, IoUring};

use super::SyncMethod;
use crate::backend::BackendKind;

/// Largest single write submitted to the ring (the SQE length is 32-bit).
const WRITE_CHUNK_BYTES_MAX: usize = 1 << 30;

/// Writes whole groups at an offset, optionally followed by `fdatasync`.
pub(crate) trait GroupSink: Send {
    /// Writes all of `buf` at `offset`; with `sync`, returns only once it is
    /// on stable storage.
    fn write_group(&mut self, file: &File, offset: u64, buf: &[u8], sync: bool) -> io::Result<()>;

    fn sync_data(&mut self, file: &File) -> io::Result<()>;
}

pub(crate) fn new_sink(backend: BackendKind, method: SyncMethod) -> io::Result<Box<dyn GroupSink>> {
    let dsync_writes = method == SyncMethod::DsyncWrite;
    Ok(match backend {
        BackendKind::Uring => Box::new(UringSink {
            ring: IoUring::new(8)?,
            dsync_writes,
        }),
        BackendKind::Epoll => Box::new(PwriteSink { dsync_writes }),
    })
}

/// The fallback: plain syscalls on the writer thread.
pub(crate) struct PwriteSink {
    /// Make synced writes `RWF_DSYNC` instead of following with `fdatasync`.
    dsync_writes: bool,
}

/// `pwritev2(.., RWF_DSYNC)`: one write that returns once its data is
/// durable. Returns bytes written.
fn pwrite_dsync(file: &File, buf: &[u8], offset: u64) -> io::Result<usize> {
    let iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    let offset =
        libc::off_t::try_from(offset).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `iov` describes `buf`, which is live and only read by the
    // kernel for the duration of this call.
    let ret = unsafe { libc::pwritev2(file.as_raw_fd(), &iov, 1, offset, libc::RWF_DSYNC) };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(ret).unwrap_or(0))
}

impl GroupSink for PwriteSink {
    fn write_group(
        &mut self,
        file: &File,
        mut offset: u64,
        mut buf: &[u8],
        sync: bool,
    ) -> io::Result<()> {
        if !(sync && self.dsync_writes) {
            file.write_all_at(buf, offset)?;
            if sync {
                file.sync_data()?;
            }
            return Ok(());
        }
        while !buf.is_empty() {
            match pwrite_dsync(file, buf, offset) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    buf = &buf[n..];
                    offset += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn sync_data(&mut self, file: &File) -> io::Result<()> {
        file.sync_data()
    }
}

pub(crate) struct UringSink {
    ring: IoUring,
    /// Make synced writes `RWF_DSYNC` instead of linking an `fdatasync`.
    dsync_writes: bool,
}

const WRITE_TAG: u64 = 1;
const FSYNC_TAG: u64 = 2;

impl UringSink {
    /// Submits `write` (linked to an `fdatasync` if `sync`) and waits for
    /// both; returns bytes written and the fsync result. A short write
    /// breaks the link, so the fsync then reports ECANCELED.
    fn write_once(
        &mut self,
        file: &File,
        offset: u64,
        buf: &[u8],
        sync: bool,
    ) -> io::Result<(usize, Option<io::Result<()>>)> {
        let len = buf.len().min(WRITE_CHUNK_BYTES_MAX);
        let fd = types::Fd(file.as_raw_fd());
        let dsync = sync && self.dsync_writes;
        let sync = sync && !dsync;
        let mut write = opcode::Write::new(fd, buf.as_ptr(), len as u32)
            .offset(offset)
            .rw_flags(if dsync { libc::RWF_DSYNC } else { 0 })
            .build()
            .user_data(WRITE_TAG);
        if sync {
            write = write.flags(squeue::Flags::IO_LINK);
        }
        let fsync = opcode::Fsync::new(fd)
            .flags(types::FsyncFlags::DATASYNC)
            .build()
            .user_data(FSYNC_TAG);
        let expected = if sync { 2 } else { 1 };
        {
            let mut sq = self.ring.submission();
            // SAFETY: `buf` outlives the op: this function does not return
            // until the write's completion is reaped (or the process aborts
            // below), and the caller cannot touch `buf` meanwhile (it is
            // borrowed for the whole call). The ring is private and empty
            // before this call, so both entries fit.
            unsafe {
                sq.push(&write).expect("private log ring has room");
                if sync {
                    sq.push(&fsync).expect("private log ring has room");
                }
            }
        }
        let mut written: Option<io::Result<usize>> = None;
        let mut synced: Option<io::Result<()>> = None;
        let mut reaped = 0;
        while reaped < expected {
            if let Err(e) = self.ring.submit_and_wait(expected - reaped) {
                if e.raw_os_error() == Some(libc::EINTR) || e.raw_os_error() == Some(libc::EBUSY) {
                    continue;
                }
                // The kernel may still hold `buf`; returning would let the
                // caller free it under a running write.
                tracing::error!("log ring wait failed with a write in flight: {e}");
                std::process::abort();
            }
            for cqe in self.ring.completion() {
                reaped += 1;
                let res = cqe.result();
                match cqe.user_data() {
                    WRITE_TAG if res < 0 => written = Some(Err(io::Error::from_raw_os_error(-res))),
                    WRITE_TAG => written = Some(Ok(usize::try_from(res).unwrap_or(0))),
                    FSYNC_TAG if res < 0 => synced = Some(Err(io::Error::from_raw_os_error(-res))),
                    FSYNC_TAG => synced = Some(Ok(())),
                    other => debug_assert!(false, "unexpected completion {other}"),
                }
            }
        }
        let written =
            written.unwrap_or_else(|| Err(io::Error::other("write completion missing")))?;
        Ok((written, synced))
    }
}

impl GroupSink for UringSink {
    fn write_group(
        &mut self,
        file: &File,
        mut offset: u64,
        mut buf: &[u8],
        sync: bool,
    ) -> io::Result<()> {
        while !buf.is_empty() {
            let (written, synced) = self.write_once(file, offset, buf, sync)?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            buf = &buf[written..];
            offset += written as u64;
            if buf.is_empty() {
                if let Some(synced) = synced {
                    // Only reached when the write was whole, so the linked
                    // fsync ran (ECANCELED here would be a real failure).
                    return synced;
                }
            }
        }
        Ok(())
    }

    fn sync_data(&mut self, file: &File) -> io::Result<()> {
        let fsync = opcode::Fsync::new(types::Fd(file.as_raw_fd()))
            .flags(types::FsyncFlags::DATASYNC)
            .build()
            .user_data(FSYNC_TAG);
        // SAFETY: an fsync carries no buffer.
        unsafe {
            self.ring
                .submission()
                .push(&fsync)
                .map_err(|_| io::Error::other("log ring full"))?;
        }
        loop {
            match self.ring.submit_and_wait(1) {
                Ok(_) => {}
                Err(e)
                    if e.raw_os_error() == Some(libc::EINTR)
                        || e.raw_os_error() == Some(libc::EBUSY) => {}
                Err(e) => return Err(e),
            }
            if let Some(cqe) = self.ring.completion().next() {
                let res = cqe.result();
                return if res < 0 {
                    Err(io::Error::from_raw_os_error(-res))
                } else {
                    Ok(())
                };
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn round_trip(backend: BackendKind) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        for method in [SyncMethod::Fdatasync, SyncMethod::DsyncWrite] {
            let mut sink = new_sink(backend, method).unwrap();
            sink.write_group(&file, 0, b"hello ", true).unwrap();
            sink.write_group(&file, 6, b"world", false).unwrap();
            sink.write_group(&file, 11, b"!", true).unwrap();
            sink.sync_data(&file).unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), b"hello world!");
            file.set_len(0).unwrap();
        }
    }

    #[test]
    fn pwrite_round_trip() {
        round_trip(BackendKind::Epoll);
    }

    #[test]
    fn uring_round_trip() {
        round_trip(BackendKind::Uring);
    }

    #[test]
    fn write_to_read_only_file_fails() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro");
        std::fs::write(&path, b"x").unwrap();
        let file = File::open(&path).unwrap();
        for backend in [BackendKind::Epoll, BackendKind::Uring] {
            for method in [SyncMethod::Fdatasync, SyncMethod::DsyncWrite] {
                let mut sink = new_sink(backend, method).unwrap();
                assert!(sink.write_group(&file, 0, b"data", true).is_err());
            }
        }
    }
}

//! How the writer thread gets a group onto the disk: through its own
//! io_uring ring (one `write` with a linked `fdatasync`, one syscall; or
//! in inline mode the write, then `fdatasync(2)` from the writer thread),
//! or with plain `pwrite` + `fdatasync` when io_uring is unavailable.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::FileExt;
use std::time::Duration;

use io_uring::{opcode, squeue, types, IoUring};

use super::disk::SyncDone;
use super::SyncMethod;
use crate::backend::BackendKind;
use crate::net::Waker;

/// Largest single write submitted to the ring (the SQE length is 32-bit).
const WRITE_CHUNK_BYTES_MAX: usize = 1 << 30;

/// Writes whole groups at an offset, optionally followed by `fdatasync`.
pub(crate) trait GroupSink: Send {
    /// Writes all of `buf` at `offset`; with `sync`, returns only once it is
    /// on stable storage.
    fn write_group(&mut self, file: &File, offset: u64, buf: &[u8], sync: bool) -> io::Result<()>;

    fn sync_data(&mut self, file: &File) -> io::Result<()>;

    /// How many [`start_sync`](Self::start_sync)s may be in flight at once
    /// (1: the sink cannot overlap syncs, and they are never started).
    fn sync_overlap_max(&self) -> usize {
        1
    }

    /// Starts an `fdatasync` of `file` covering everything written to it
    /// before this call, without waiting; [`wait_syncs`](Self::wait_syncs)
    /// reports it with `token`.
    fn start_sync(&mut self, _file: &File, _token: u64) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Moves finished overlapped syncs into `done`, first waiting up to
    /// `timeout` for one (or for the sink's waker) if none has finished.
    fn wait_syncs(&mut self, _timeout: Duration, _done: &mut Vec<SyncDone>) -> io::Result<()> {
        Ok(())
    }

    /// Wakes a writer blocked in [`wait_syncs`](Self::wait_syncs).
    fn sync_waker(&self) -> Option<Waker> {
        None
    }
}

pub(crate) fn new_sink(
    backend: BackendKind,
    method: SyncMethod,
    sync_overlap_max: usize,
) -> io::Result<Box<dyn GroupSink>> {
    let dsync_writes = matches!(
        method,
        SyncMethod::DsyncWrite | SyncMethod::DirectDsyncWrite
    );
    Ok(match backend {
        BackendKind::Uring => Box::new(UringSink::new(
            dsync_writes,
            method != SyncMethod::InlineFdatasync,
            sync_overlap_max,
        )?),
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
    /// Make synced writes `RWF_DSYNC` instead of following with `fdatasync`.
    dsync_writes: bool,
    /// Link an io_uring `fdatasync` to a synced write instead of calling
    /// `fdatasync(2)` once the write completes.
    linked_fsync: bool,
    /// 1 = syncs are never overlapped.
    sync_overlap_max: usize,
    syncs_in_flight: usize,
    /// Overlapped syncs reaped while waiting for something else.
    syncs_done: Vec<SyncDone>,
    /// Polled by the ring while the writer waits for syncs, so that new
    /// appends can cut the wait short. Only with overlapped syncs.
    waker: Option<Waker>,
    waker_polled: bool,
    /// Results of the current synchronous write / linked fsync.
    write_result: Option<io::Result<usize>>,
    fsync_result: Option<io::Result<()>>,
}

const WRITE_TAG: u64 = 1;
const FSYNC_TAG: u64 = 2;
const WAKER_TAG: u64 = 3;
/// Overlapped syncs carry their token in the low bits.
const OVERLAPPED_SYNC_BIT: u64 = 1 << 63;

fn is_retryable(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EINTR) | Some(libc::EBUSY) | Some(libc::ETIME)
    )
}

impl UringSink {
    fn new(
        dsync_writes: bool,
        linked_fsync: bool,
        sync_overlap_max: usize,
    ) -> io::Result<UringSink> {
        // Room for every overlapped sync, a write (or write + fsync) and
        // the waker poll; the completion queue is twice as large.
        let entries = (sync_overlap_max + 4).next_power_of_two().max(8);
        let ring = IoUring::new(u32::try_from(entries).unwrap_or(1024))?;
        // Waiting with a timeout needs IORING_FEAT_EXT_ARG (Linux 5.11);
        // without it syncs are simply not overlapped.
        let overlap = if ring.params().is_feature_ext_arg() && !dsync_writes {
            sync_overlap_max.max(1)
        } else {
            1
        };
        Ok(UringSink {
            ring,
            dsync_writes,
            linked_fsync,
            sync_overlap_max: overlap,
            syncs_in_flight: 0,
            syncs_done: Vec::new(),
            waker: if overlap > 1 {
                Some(Waker::new()?)
            } else {
                None
            },
            waker_polled: false,
            write_result: None,
            fsync_result: None,
        })
    }

    /// Files every completion in the queue under its kind.
    fn reap(&mut self) {
        while let Some(cqe) = self.ring.completion().next() {
            let res = cqe.result();
            let result = if res < 0 {
                Err(io::Error::from_raw_os_error(-res))
            } else {
                Ok(res)
            };
            match cqe.user_data() {
                WRITE_TAG => {
                    self.write_result = Some(result.map(|n| usize::try_from(n).unwrap_or(0)))
                }
                FSYNC_TAG => self.fsync_result = Some(result.map(|_| ())),
                WAKER_TAG => {
                    self.waker_polled = false;
                    if let Some(w) = &self.waker {
                        w.drain();
                    }
                }
                tag if tag & OVERLAPPED_SYNC_BIT != 0 => {
                    debug_assert!(self.syncs_in_flight > 0);
                    self.syncs_in_flight -= 1;
                    self.syncs_done
                        .push((tag & !OVERLAPPED_SYNC_BIT, result.map(|_| ())));
                }
                other => debug_assert!(false, "unexpected completion {other}"),
            }
        }
    }

    /// Submits what is queued and waits until `done(self)` holds.
    fn submit_until(&mut self, done: impl Fn(&UringSink) -> bool) -> io::Result<()> {
        loop {
            self.reap();
            if done(self) {
                return Ok(());
            }
            if let Err(e) = self.ring.submit_and_wait(1) {
                if !is_retryable(&e) {
                    return Err(e);
                }
            }
        }
    }

    /// Submits `write` (with `sync`: `RWF_DSYNC`, or linked to an
    /// `fdatasync` unless in inline mode) and waits for it;
    /// returns bytes written and the linked fsync's result. A short write
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
        let sync = sync && !dsync && self.linked_fsync;
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
        self.write_result = None;
        self.fsync_result = None;
        {
            let mut sq = self.ring.submission();
            // SAFETY: `buf` outlives the op: this function does not return
            // until the write's completion is reaped (or the process aborts
            // below), and the caller cannot touch `buf` meanwhile (it is
            // borrowed for the whole call). The submission queue is empty
            // between calls and sized for more than these two entries.
            unsafe {
                sq.push(&write).expect("log ring has room");
                if sync {
                    sq.push(&fsync).expect("log ring has room");
                }
            }
        }
        let waited =
            self.submit_until(|s| s.write_result.is_some() && (!sync || s.fsync_result.is_some()));
        if let Err(e) = waited {
            // The kernel may still hold `buf`; returning would let the
            // caller free it under a running write.
            tracing::error!("log ring wait failed with a write in flight: {e}");
            std::process::abort();
        }
        let written = self
            .write_result
            .take()
            .unwrap_or_else(|| Err(io::Error::other("write completion missing")))?;
        Ok((written, self.fsync_result.take()))
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
        if sync && !self.dsync_writes && !self.linked_fsync {
            return file.sync_data();
        }
        Ok(())
    }

    fn sync_data(&mut self, file: &File) -> io::Result<()> {
        let fsync = opcode::Fsync::new(types::Fd(file.as_raw_fd()))
            .flags(types::FsyncFlags::DATASYNC)
            .build()
            .user_data(FSYNC_TAG);
        self.fsync_result = None;
        // SAFETY: an fsync carries no buffer.
        unsafe {
            self.ring
                .submission()
                .push(&fsync)
                .map_err(|_| io::Error::other("log ring full"))?;
        }
        self.submit_until(|s| s.fsync_result.is_some())?;
        self.fsync_result
            .take()
            .unwrap_or_else(|| Err(io::Error::other("fsync completion missing")))
    }

    fn sync_overlap_max(&self) -> usize {
        self.sync_overlap_max
    }

    fn start_sync(&mut self, file: &File, token: u64) -> io::Result<()> {
        debug_assert!(token & OVERLAPPED_SYNC_BIT == 0);
        debug_assert!(self.syncs_in_flight < self.sync_overlap_max);
        let fsync = opcode::Fsync::new(types::Fd(file.as_raw_fd()))
            .flags(types::FsyncFlags::DATASYNC)
            .build()
            .user_data(OVERLAPPED_SYNC_BIT | token);
        // SAFETY: an fsync carries no buffer.
        unsafe {
            self.ring
                .submission()
                .push(&fsync)
                .map_err(|_| io::Error::other("log ring full"))?;
        }
        loop {
            match self.ring.submit() {
                Ok(_) => break,
                Err(e) if is_retryable(&e) => {}
                Err(e) => return Err(e),
            }
        }
        self.syncs_in_flight += 1;
        Ok(())
    }

    fn wait_syncs(&mut self, timeout: Duration, done: &mut Vec<SyncDone>) -> io::Result<()> {
        self.reap();
        if self.syncs_done.is_empty() && self.syncs_in_flight > 0 && !timeout.is_zero() {
            if !self.waker_polled {
                if let Some(w) = &self.waker {
                    let poll =
                        opcode::PollAdd::new(types::Fd(w.as_fd().as_raw_fd()), libc::POLLIN as u32)
                            .build()
                            .user_data(WAKER_TAG);
                    // SAFETY: a poll carries no buffer; the eventfd lives as
                    // long as the sink (and so the ring) does.
                    unsafe {
                        self.ring
                            .submission()
                            .push(&poll)
                            .map_err(|_| io::Error::other("log ring full"))?;
                    }
                    self.waker_polled = true;
                }
            }
            let ts = types::Timespec::from(timeout);
            let args = types::SubmitArgs::new().timespec(&ts);
            match self.ring.submitter().submit_with_args(1, &args) {
                Ok(_) => {}
                Err(e) if is_retryable(&e) => {}
                Err(e) => return Err(e),
            }
            self.reap();
        }
        done.append(&mut self.syncs_done);
        Ok(())
    }

    fn sync_waker(&self) -> Option<Waker> {
        self.waker.clone()
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
        for method in [
            SyncMethod::Fdatasync,
            SyncMethod::InlineFdatasync,
            SyncMethod::DsyncWrite,
        ] {
            let mut sink = new_sink(backend, method, 1).unwrap();
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
            for method in [
                SyncMethod::Fdatasync,
                SyncMethod::InlineFdatasync,
                SyncMethod::DsyncWrite,
            ] {
                let mut sink = new_sink(backend, method, 1).unwrap();
                assert!(sink.write_group(&file, 0, b"data", true).is_err());
            }
        }
    }
}

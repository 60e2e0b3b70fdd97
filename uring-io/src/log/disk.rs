//! The log writer's view of the disk: a handful of operations on segment
//! files, so that the real filesystem (through io_uring or plain syscalls)
//! and a simulated disk for crash tests ([`super::SimDisk`]) are
//! interchangeable.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use super::direct::DirectStage;
use super::sink::{new_sink, GroupSink};
use super::SyncMethod;
use crate::backend::BackendKind;
use crate::net::Waker;

/// A finished overlapped sync: the token it was started with, and whether
/// it succeeded.
pub type SyncDone = (u64, io::Result<()>);

/// A segment opened through a [`LogDisk`]; valid until closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentId(pub u32);

/// What the log writer needs from storage. Used from the writer thread
/// only.
pub trait LogDisk: Send {
    /// Opens `path` for writing, creating it if missing (and then making its
    /// directory entry durable). Returns the segment and its length.
    fn open(&mut self, path: &Path) -> io::Result<(SegmentId, u64)>;

    /// Writes all of `buf` at `offset`; with `sync`, returns once the data
    /// is on stable storage.
    fn write(&mut self, seg: SegmentId, offset: u64, buf: &[u8], sync: bool) -> io::Result<()>;

    /// `fdatasync`.
    fn sync_data(&mut self, seg: SegmentId) -> io::Result<()>;

    /// Zero-fills `[from, to)` and makes it durable, size included.
    fn zero_fill(&mut self, seg: SegmentId, from: u64, to: u64) -> io::Result<()>;

    /// Cuts the file to `len` and makes that durable (`fsync`).
    fn truncate(&mut self, seg: SegmentId, len: u64) -> io::Result<()>;

    fn close(&mut self, seg: SegmentId);

    /// How many [`start_sync`](Self::start_sync)s may be in flight at once;
    /// 1 (the default) = the disk cannot overlap syncs and the writer makes
    /// each group durable with `write(.., sync = true)`.
    fn sync_overlap_max(&self) -> usize {
        1
    }

    /// Starts an `fdatasync` of `seg` covering everything written to it
    /// before this call, without waiting; [`wait_syncs`](Self::wait_syncs)
    /// reports it with `token`. Only called when `sync_overlap_max() > 1`.
    fn start_sync(&mut self, _seg: SegmentId, _token: u64) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Moves finished [`start_sync`](Self::start_sync)s into `done`; if
    /// none has finished, first waits up to `timeout` for one, or for
    /// [`sync_waker`](Self::sync_waker) to be woken.
    fn wait_syncs(&mut self, _timeout: Duration, _done: &mut Vec<SyncDone>) -> io::Result<()> {
        Ok(())
    }

    /// Cuts a [`wait_syncs`](Self::wait_syncs) short from another thread.
    fn sync_waker(&self) -> Option<Waker> {
        None
    }
}

/// Zero-fill is written in pieces of this size.
const ZERO_CHUNK_BYTES: usize = 1 << 20;

/// The source of every zero-fill write. One buffer for the process: a fresh
/// one per step (a 1 MiB `calloc` is a fresh `mmap`) page-faulted inside
/// the kernel's copy, which then zeroed the page-cache buffers again after
/// each short copy (`__pi_memset` under `folio_zero_new_buffers`: 4.9% of
/// the core under `appendfsync always` at pipeline 16). It lives in `.bss`
/// and is never written, so its pages all map the kernel's one zero page.
static ZEROS: [u8; ZERO_CHUNK_BYTES] = [0; ZERO_CHUNK_BYTES];

/// The real filesystem; groups go through io_uring or `pwrite`.
pub(crate) struct FsDisk {
    sink: Box<dyn GroupSink>,
    files: Vec<Option<SegmentFile>>,
    /// With [`SyncMethod::DirectDsyncWrite`]: synced groups are staged here
    /// and written through each segment's `O_DIRECT` descriptor.
    direct: Option<DirectStage>,
}

struct SegmentFile {
    file: File,
    /// The same file opened `O_DIRECT` (direct mode, where the filesystem
    /// allows it).
    direct: Option<File>,
}

impl FsDisk {
    /// `sync_overlap_max`: how many group syncs may run at once (honoured
    /// by the io_uring backend with `fdatasync`; 1 elsewhere).
    pub fn new(
        backend: BackendKind,
        method: SyncMethod,
        sync_overlap_max: usize,
    ) -> io::Result<FsDisk> {
        Ok(FsDisk {
            sink: new_sink(backend, method, sync_overlap_max)?,
            files: Vec::new(),
            direct: (method == SyncMethod::DirectDsyncWrite).then(DirectStage::default),
        })
    }

    fn segment(&self, seg: SegmentId) -> io::Result<&SegmentFile> {
        self.files
            .get(seg.0 as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| io::Error::other(format!("segment {} is not open", seg.0)))
    }

    fn file(&self, seg: SegmentId) -> io::Result<&File> {
        self.segment(seg).map(|s| &s.file)
    }
}

/// Opens `path` again with `O_DIRECT`; `None` where the filesystem refuses
/// it (tmpfs), after saying so once per segment.
fn open_direct(path: &Path) -> Option<File> {
    match OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_DIRECT)
        .open(path)
    {
        Ok(f) => Some(f),
        Err(e) => {
            tracing::warn!(
                "{}: O_DIRECT refused ({e}); synced groups use O_DSYNC writes instead",
                path.display()
            );
            None
        }
    }
}

impl LogDisk for FsDisk {
    fn open(&mut self, path: &Path) -> io::Result<(SegmentId, u64)> {
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        if !existed {
            file.sync_all()?;
            sync_parent_dir(path)?;
        }
        let index = match self.files.iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                self.files.push(None);
                self.files.len() - 1
            }
        };
        let direct = if self.direct.is_some() {
            open_direct(path)
        } else {
            None
        };
        if let Some(stage) = &mut self.direct {
            stage.forget_tail();
        }
        self.files[index] = Some(SegmentFile { file, direct });
        let id = u32::try_from(index).map_err(|_| io::Error::other("too many segments"))?;
        Ok((SegmentId(id), len))
    }

    fn write(&mut self, seg: SegmentId, offset: u64, buf: &[u8], sync: bool) -> io::Result<()> {
        let segment = self
            .files
            .get(seg.0 as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| io::Error::other(format!("segment {} is not open", seg.0)))?;
        match (&mut self.direct, &segment.direct) {
            (Some(stage), Some(direct)) if sync && !buf.is_empty() => {
                let (at, blocks) = stage.stage(&segment.file, offset, buf)?;
                self.sink.write_group(direct, at, blocks, true)?;
                stage.written(offset + buf.len() as u64);
                Ok(())
            }
            (stage, _) => {
                if let Some(stage) = stage {
                    // The partial block changes behind the stage's back.
                    stage.forget_tail();
                }
                self.sink.write_group(&segment.file, offset, buf, sync)
            }
        }
    }

    fn sync_data(&mut self, seg: SegmentId) -> io::Result<()> {
        let segment = self
            .files
            .get(seg.0 as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| io::Error::other(format!("segment {} is not open", seg.0)))?;
        self.sink.sync_data(&segment.file)
    }

    fn zero_fill(&mut self, seg: SegmentId, from: u64, to: u64) -> io::Result<()> {
        let file = self.file(seg)?;
        let zeros = &ZEROS[..];
        let mut offset = from;
        while offset < to {
            let len = usize::try_from(to - offset)
                .unwrap_or(usize::MAX)
                .min(ZERO_CHUNK_BYTES);
            file.write_all_at(&zeros[..len], offset)?;
            offset += len as u64;
        }
        // Size and extents must be durable so later fdatasyncs skip them.
        file.sync_all()
    }

    fn truncate(&mut self, seg: SegmentId, len: u64) -> io::Result<()> {
        if let Some(stage) = &mut self.direct {
            stage.forget_tail();
        }
        let file = self.file(seg)?;
        file.set_len(len)?;
        file.sync_all()
    }

    fn close(&mut self, seg: SegmentId) {
        if let Some(slot) = self.files.get_mut(seg.0 as usize) {
            *slot = None;
        }
    }

    fn sync_overlap_max(&self) -> usize {
        self.sink.sync_overlap_max()
    }

    fn start_sync(&mut self, seg: SegmentId, token: u64) -> io::Result<()> {
        let segment = self
            .files
            .get(seg.0 as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| io::Error::other(format!("segment {} is not open", seg.0)))?;
        self.sink.start_sync(&segment.file, token)
    }

    fn wait_syncs(&mut self, timeout: Duration, done: &mut Vec<SyncDone>) -> io::Result<()> {
        self.sink.wait_syncs(timeout, done)
    }

    fn sync_waker(&self) -> Option<Waker> {
        self.sink.sync_waker()
    }
}

/// Makes a new directory entry durable.
pub(crate) fn sync_parent_dir(path: &Path) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(parent)?.sync_all()
}

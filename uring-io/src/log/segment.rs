//! One log segment file: where the next group goes, and how far the file
//! has been preallocated.
//!
//! Bug story: `fdatasync` after appending to a file that grows must also
//! commit the new size (a journal commit per group). `fallocate` alone does
//! not help: it leaves *unwritten* extents whose first write still converts
//! the extent in the journal. So a segment is zero-filled ahead of the
//! writes and that is made durable once; afterwards a group's `fdatasync`
//! only flushes data. The price: a crash leaves zeros after the last group,
//! which recovery must cut off (and `finish` truncates them on a clean
//! close or rotation).

use std::io;
use std::path::{Path, PathBuf};

use super::disk::{LogDisk, SegmentId};

#[derive(Debug)]
pub(crate) struct Segment {
    id: SegmentId,
    path: PathBuf,
    /// Where the next byte of the log goes.
    write_offset_bytes: u64,
    /// The file is zero-filled and synced up to here.
    allocated_bytes: u64,
    /// Preallocation step; 0 disables preallocation.
    prealloc_bytes: u64,
}

impl Segment {
    /// Opens `path` for appending, creating it if needed. An existing file
    /// is appended to at its current length, which the caller has checked
    /// ends at a record boundary (no zero padding left from a crash).
    pub fn open(disk: &mut dyn LogDisk, path: &Path, prealloc_bytes: u64) -> io::Result<Segment> {
        let (id, len) = disk.open(path)?;
        let mut segment = Segment {
            id,
            path: path.to_path_buf(),
            write_offset_bytes: len,
            allocated_bytes: len,
            prealloc_bytes,
        };
        if let Err(e) = segment.ensure_allocated(disk, len) {
            disk.close(id);
            return Err(e);
        }
        Ok(segment)
    }

    pub fn id(&self) -> SegmentId {
        self.id
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn write_offset_bytes(&self) -> u64 {
        self.write_offset_bytes
    }

    /// Records that `len` more bytes were written at the write offset.
    pub fn advance(&mut self, len: u64) {
        self.write_offset_bytes += len;
    }

    /// Makes sure `[.., end)` is zero-filled and durable before a group
    /// writes there, growing by whole preallocation steps.
    pub fn ensure_allocated(&mut self, disk: &mut dyn LogDisk, end: u64) -> io::Result<()> {
        if self.prealloc_bytes == 0 || end < self.allocated_bytes {
            return Ok(());
        }
        let steps = (end - self.allocated_bytes) / self.prealloc_bytes + 1;
        let target = self.allocated_bytes + steps * self.prealloc_bytes;
        disk.zero_fill(self.id, self.allocated_bytes, target)?;
        self.allocated_bytes = target;
        Ok(())
    }

    /// Ends the segment: cuts the zero padding after the last group, makes
    /// the result durable and closes it.
    pub fn finish(&mut self, disk: &mut dyn LogDisk) -> io::Result<()> {
        let result = disk.truncate(self.id, self.write_offset_bytes);
        disk.close(self.id);
        result
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::disk::FsDisk;
    use super::super::SyncMethod;
    use super::*;
    use crate::BackendKind;

    #[test]
    fn preallocates_in_steps_and_finish_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.aof");
        let mut disk = FsDisk::new(BackendKind::Epoll, SyncMethod::Fdatasync, 1).unwrap();
        let mut seg = Segment::open(&mut disk, &path, 4096).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096);
        disk.write(seg.id(), 0, b"hello", false).unwrap();
        seg.advance(5);
        seg.ensure_allocated(&mut disk, 10_000).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 12_288);
        seg.finish(&mut disk).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    }

    #[test]
    fn reopening_appends_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.aof");
        std::fs::write(&path, b"abc").unwrap();
        let mut disk = FsDisk::new(BackendKind::Uring, SyncMethod::Fdatasync, 1).unwrap();
        let seg = Segment::open(&mut disk, &path, 0).unwrap();
        assert_eq!(seg.write_offset_bytes(), 3);
    }
}

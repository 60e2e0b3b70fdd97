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

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Zero-fill is written in pieces of this size.
const ZERO_CHUNK_BYTES: usize = 1 << 20;

#[derive(Debug)]
pub(crate) struct Segment {
    file: File,
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
    pub fn open(path: &Path, prealloc_bytes: u64) -> io::Result<Segment> {
        let existed = path.exists();
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        let mut segment = Segment {
            file,
            path: path.to_path_buf(),
            write_offset_bytes: len,
            allocated_bytes: len,
            prealloc_bytes,
        };
        segment.ensure_allocated(len)?;
        if !existed {
            segment.file.sync_all()?;
            sync_parent_dir(path)?;
        }
        Ok(segment)
    }

    pub fn file(&self) -> &File {
        &self.file
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
    pub fn ensure_allocated(&mut self, end: u64) -> io::Result<()> {
        if self.prealloc_bytes == 0 || end < self.allocated_bytes {
            return Ok(());
        }
        let steps = (end - self.allocated_bytes) / self.prealloc_bytes + 1;
        let target = self.allocated_bytes + steps * self.prealloc_bytes;
        let zeros = vec![0u8; ZERO_CHUNK_BYTES];
        let mut offset = self.allocated_bytes;
        while offset < target {
            let len = usize::try_from(target - offset)
                .unwrap_or(usize::MAX)
                .min(ZERO_CHUNK_BYTES);
            self.file.write_all_at(&zeros[..len], offset)?;
            offset += len as u64;
        }
        // Size and extents must be durable so later fdatasyncs skip them.
        self.file.sync_all()?;
        self.allocated_bytes = target;
        Ok(())
    }

    /// Ends the segment: cuts the zero padding after the last group and
    /// makes the result durable.
    pub fn finish(&mut self) -> io::Result<()> {
        if self.allocated_bytes > self.write_offset_bytes {
            self.file.set_len(self.write_offset_bytes)?;
            self.allocated_bytes = self.write_offset_bytes;
        }
        self.file.sync_all()
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn preallocates_in_steps_and_finish_truncates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.aof");
        let mut seg = Segment::open(&path, 4096).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 4096);
        seg.file().write_all_at(b"hello", 0).unwrap();
        seg.advance(5);
        seg.ensure_allocated(10_000).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 12_288);
        seg.finish().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
    }

    #[test]
    fn reopening_appends_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.aof");
        std::fs::write(&path, b"abc").unwrap();
        let seg = Segment::open(&path, 0).unwrap();
        assert_eq!(seg.write_offset_bytes(), 3);
    }
}

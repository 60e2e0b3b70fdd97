//! Staging for `O_DIRECT` group writes ([`super::SyncMethod::DirectDsyncWrite`]).
//!
//! Direct I/O moves whole, aligned blocks from an aligned buffer. The log
//! is a byte stream, so each group is written as the blocks it touches:
//! the bytes already in its first block (the log's partial last block,
//! remembered from the previous group or read back) followed by the group,
//! padded with zeros to a block boundary. The padding lands where the
//! segment is preallocated with zeros anyway (or past its end, which a
//! clean close truncates and recovery cuts like preallocation).
//!
//! Rewriting the partial block cannot damage what an earlier group made
//! durable: a torn write leaves each sector old or new, and its earlier
//! bytes are the same in both.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Alignment of offsets, lengths and buffer addresses (the largest logical
/// block size of common disks).
pub(crate) const DIRECT_BLOCK_BYTES: usize = 4096;

#[derive(Default)]
pub(crate) struct DirectStage {
    /// Over-allocated by one block so an aligned window always fits.
    buf: Vec<u8>,
    /// The log's partial last block as the last direct write left it:
    /// (its file offset, its bytes). `None` when unknown (after a buffered
    /// write, a failure, or a switch of file).
    tail: Option<(u64, Vec<u8>)>,
    /// The last staged window: (index in `buf`, length, file offset).
    staged: (usize, usize, u64),
}

impl DirectStage {
    /// Forgets the remembered partial block (the next stage reads it back).
    pub fn forget_tail(&mut self) {
        self.tail = None;
    }

    /// Lays out `data`, which goes at `offset` of `file`, as whole blocks.
    /// Returns the first block's offset and the aligned bytes to write.
    /// Call [`written`](Self::written) once they are on disk.
    pub fn stage(&mut self, file: &File, offset: u64, data: &[u8]) -> io::Result<(u64, &[u8])> {
        const B: u64 = DIRECT_BLOCK_BYTES as u64;
        let block_start = offset - offset % B;
        let head_len = (offset - block_start) as usize;
        let used = head_len + data.len();
        let padded = used.div_ceil(DIRECT_BLOCK_BYTES) * DIRECT_BLOCK_BYTES;
        if self.buf.len() < padded + DIRECT_BLOCK_BYTES {
            self.buf.resize(padded + DIRECT_BLOCK_BYTES, 0);
        }
        let start = self.buf.as_ptr().align_offset(DIRECT_BLOCK_BYTES);
        let window = self
            .buf
            .get_mut(start..start.saturating_add(padded))
            .ok_or_else(|| io::Error::other("cannot align the direct I/O buffer"))?;
        debug_assert_eq!(window.as_ptr() as usize % DIRECT_BLOCK_BYTES, 0);
        if head_len > 0 {
            match &self.tail {
                Some((at, bytes)) if *at == block_start && bytes.len() == head_len => {
                    window[..head_len].copy_from_slice(bytes);
                }
                _ => file.read_exact_at(&mut window[..head_len], block_start)?,
            }
        }
        window[head_len..used].copy_from_slice(data);
        window[used..].fill(0);
        // Remembered again only once written: a failed write must not
        // leave a remembered tail that is not in the file.
        self.tail = None;
        self.staged = (start, padded, block_start);
        Ok((block_start, window))
    }

    /// Records that the last staged blocks were written; the log now ends
    /// at `end_offset`.
    pub fn written(&mut self, end_offset: u64) {
        const B: u64 = DIRECT_BLOCK_BYTES as u64;
        let (start, len, block_start) = self.staged;
        let last_block = end_offset - end_offset % B;
        let tail_len = (end_offset - last_block) as usize;
        let from = start + (last_block - block_start) as usize;
        debug_assert!(last_block >= block_start && from + tail_len <= start + len);
        let mut bytes = self.tail.take().map(|(_, v)| v).unwrap_or_default();
        bytes.clear();
        bytes.extend_from_slice(&self.buf[from..from + tail_len]);
        self.tail = Some((last_block, bytes));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stages_whole_blocks_carrying_the_partial_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 10]).unwrap();
        let file = File::open(&path).unwrap();
        let mut stage = DirectStage::default();
        // First group at offset 10: the head is read back from the file.
        let (at, bytes) = stage.stage(&file, 10, b"hello").unwrap();
        assert_eq!(at, 0);
        assert_eq!(bytes.len(), DIRECT_BLOCK_BYTES);
        assert_eq!(bytes.as_ptr() as usize % DIRECT_BLOCK_BYTES, 0);
        assert_eq!(&bytes[..15], b"xxxxxxxxxxhello");
        assert!(bytes[15..].iter().all(|&b| b == 0));
        stage.written(15);
        // Next group: the head comes from memory (the file was not
        // written, so reading it back would give the old bytes).
        let big = vec![b'y'; DIRECT_BLOCK_BYTES];
        let (at, bytes) = stage.stage(&file, 15, &big).unwrap();
        assert_eq!(at, 0);
        assert_eq!(bytes.len(), 2 * DIRECT_BLOCK_BYTES);
        assert_eq!(&bytes[..15], b"xxxxxxxxxxhello");
        assert!(bytes[15..15 + DIRECT_BLOCK_BYTES]
            .iter()
            .all(|&b| b == b'y'));
        stage.written(15 + DIRECT_BLOCK_BYTES as u64);
        // The tail is now the 15 bytes in the second block.
        let (at, bytes) = stage
            .stage(&file, 15 + DIRECT_BLOCK_BYTES as u64, b"z")
            .unwrap();
        assert_eq!(at, DIRECT_BLOCK_BYTES as u64);
        assert_eq!(&bytes[..16], b"yyyyyyyyyyyyyyyz");
    }

    #[test]
    fn aligned_offset_needs_no_head() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, b"").unwrap();
        let file = File::open(&path).unwrap();
        let mut stage = DirectStage::default();
        let (at, bytes) = stage.stage(&file, 8192, b"abc").unwrap();
        assert_eq!(at, 8192);
        assert_eq!(&bytes[..3], b"abc");
        assert_eq!(bytes.len(), DIRECT_BLOCK_BYTES);
    }
}

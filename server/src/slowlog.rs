//! The slow log (SLOWLOG): commands that ran at least
//! `slowlog-log-slower-than` microseconds, newest first, at most
//! `slowlog-max-len` entries. Entries keep Redis's argument trimming so a
//! huge command does not pin memory.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use parking_lot::Mutex;

/// Redis's `SLOWLOG_ENTRY_MAX_ARGC`.
const MAX_ARGS: usize = 32;
/// Redis's `SLOWLOG_ENTRY_MAX_STRING`.
const MAX_ARG_BYTES: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowLogEntry {
    pub id: u64,
    pub unix_time_s: i64,
    pub duration_us: u64,
    pub args: Vec<Vec<u8>>,
    pub client_addr: String,
    pub client_name: Vec<u8>,
}

/// The settings are mirrored in atomics so the command path reads them
/// without touching the configuration lock.
#[derive(Debug)]
pub struct SlowLog {
    log_slower_than_us: AtomicI64,
    max_len: AtomicU64,
    next_id: AtomicU64,
    entries: Mutex<VecDeque<SlowLogEntry>>,
}

impl Default for SlowLog {
    fn default() -> Self {
        SlowLog {
            log_slower_than_us: AtomicI64::new(10_000),
            max_len: AtomicU64::new(128),
            next_id: AtomicU64::new(0),
            entries: Mutex::new(VecDeque::new()),
        }
    }
}

impl SlowLog {
    pub fn configure(&self, log_slower_than_us: i64, max_len: u64) {
        self.log_slower_than_us
            .store(log_slower_than_us, Ordering::Relaxed);
        self.max_len.store(max_len, Ordering::Relaxed);
        let mut entries = self.entries.lock();
        entries.truncate(usize::try_from(max_len).unwrap_or(usize::MAX));
    }

    /// Whether a command that took `duration_us` belongs in the log: the
    /// only check on the command path.
    #[inline]
    pub fn wants(&self, duration_us: u64) -> bool {
        let threshold = self.log_slower_than_us.load(Ordering::Relaxed);
        threshold >= 0 && duration_us >= threshold as u64
    }

    pub fn push(
        &self,
        args: &[&[u8]],
        duration_us: u64,
        unix_time_s: i64,
        client_addr: &str,
        client_name: &[u8],
    ) {
        let max_len = usize::try_from(self.max_len.load(Ordering::Relaxed)).unwrap_or(usize::MAX);
        if max_len == 0 {
            return;
        }
        let entry = SlowLogEntry {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            unix_time_s,
            duration_us,
            args: trim_args(args),
            client_addr: client_addr.to_string(),
            client_name: client_name.to_vec(),
        };
        let mut entries = self.entries.lock();
        entries.push_front(entry);
        entries.truncate(max_len);
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn reset(&self) {
        self.entries.lock().clear();
    }

    /// The newest `count` entries (all of them for `None`).
    pub fn newest(&self, count: Option<usize>) -> Vec<SlowLogEntry> {
        let entries = self.entries.lock();
        let n = count.unwrap_or(entries.len()).min(entries.len());
        entries.iter().take(n).cloned().collect()
    }
}

/// Redis's `slowlogCreateEntry` trimming: at most 32 arguments (the last
/// saying how many more there were), each at most 128 bytes (plus a note of
/// how many more bytes there were).
fn trim_args(args: &[&[u8]]) -> Vec<Vec<u8>> {
    let kept = if args.len() > MAX_ARGS {
        MAX_ARGS - 1
    } else {
        args.len()
    };
    let mut out: Vec<Vec<u8>> = args[..kept]
        .iter()
        .map(|a| {
            if a.len() > MAX_ARG_BYTES {
                let mut v = a[..MAX_ARG_BYTES].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - MAX_ARG_BYTES).as_bytes(),
                );
                v
            } else {
                a.to_vec()
            }
        })
        .collect();
    if kept < args.len() {
        out.push(format!("... ({} more arguments)", args.len() - kept).into_bytes());
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn threshold_and_disable() {
        let log = SlowLog::default();
        log.configure(100, 10);
        assert!(!log.wants(99));
        assert!(log.wants(100));
        log.configure(-1, 10);
        assert!(!log.wants(u64::MAX));
        log.configure(0, 10);
        assert!(log.wants(0));
    }

    #[test]
    fn newest_first_and_bounded() {
        let log = SlowLog::default();
        log.configure(0, 3);
        for i in 0..5u8 {
            log.push(&[b"set", &[b'a' + i]], u64::from(i), 1, "127.0.0.1:1", b"");
        }
        assert_eq!(log.len(), 3);
        let e = log.newest(Some(2));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].id, 4);
        assert_eq!(e[0].args[1], b"e");
        assert_eq!(e[1].id, 3);
        log.configure(0, 1);
        assert_eq!(log.len(), 1);
        log.reset();
        assert!(log.is_empty());
    }

    #[test]
    fn trims_like_redis() {
        let big = vec![b'x'; 200];
        let args: Vec<&[u8]> = std::iter::once(b"rpush" as &[u8])
            .chain(vec![big.as_slice(); 40])
            .collect();
        let t = trim_args(&args);
        assert_eq!(t.len(), 32);
        assert_eq!(t[31], b"... (10 more arguments)");
        assert_eq!(t[1].len(), 128 + "... (72 more bytes)".len());
        assert!(t[1].ends_with(b"... (72 more bytes)"));
    }
}

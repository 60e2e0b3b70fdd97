//! Memory of a process and its children from /proc, sampled over time:
//! what a snapshot costs in RAM whether it forks (redis, ringkv fork mode)
//! or not (ringkv forkless).
//!
//! Two sums are kept. RSS counts a page once per process that maps it, so
//! a parent and a freshly forked child together show twice the data even
//! though they share every page; PSS (`/proc/PID/smaps_rollup`) divides a
//! shared page among its sharers, so the PSS sum is the physical memory the
//! tree holds, copy-on-write copies included.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// `pid` and every descendant, parents first, from
/// `/proc/<pid>/task/<tid>/children` (the children of each thread).
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut tree = vec![pid];
    let mut i = 0;
    while let Some(&p) = tree.get(i) {
        i += 1;
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let Ok(children) = std::fs::read_to_string(task.path().join("children")) else {
                continue;
            };
            for c in children.split_whitespace().filter_map(|c| c.parse().ok()) {
                if !tree.contains(&c) {
                    tree.push(c);
                }
            }
        }
    }
    tree
}

/// The value in kB of `field:` in a /proc status-like file, in bytes.
fn kb_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .map(|kb| kb * 1024)
}

/// (RSS, PSS) of one process in bytes; `None` once it has exited.
pub fn rss_pss_bytes(pid: u32) -> Option<(u64, u64)> {
    let proc_dir = Path::new("/proc").join(pid.to_string());
    let status = std::fs::read_to_string(proc_dir.join("status")).ok()?;
    let rss = kb_field(&status, "VmRSS")?;
    let rollup = std::fs::read_to_string(proc_dir.join("smaps_rollup")).ok()?;
    let pss = kb_field(&rollup, "Pss")?;
    Some((rss, pss))
}

/// One reading of a process tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemSample {
    /// Seconds since the sampler started.
    pub t_secs: f64,
    pub rss_bytes: u64,
    pub pss_bytes: u64,
    /// Processes in the tree (2 while a fork child runs).
    pub processes: usize,
}

/// The tree's memory now. A child that exits between listing and reading
/// would leave the parent's half share of their common pages counted and
/// the child's half missing, so such a reading is taken again.
pub fn sample_tree(pid: u32, t_secs: f64) -> MemSample {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let tree = process_tree(pid);
        let listed = tree.len();
        let (mut rss, mut pss, mut processes) = (0, 0, 0);
        for p in tree {
            if let Some((r, s)) = rss_pss_bytes(p) {
                rss += r;
                pss += s;
                processes += 1;
            }
        }
        if processes == listed || attempts == 3 {
            return MemSample {
                t_secs,
                rss_bytes: rss,
                pss_bytes: pss,
                processes,
            };
        }
    }
}

/// Samples a process tree every `interval` on a thread until stopped.
pub struct MemSampler {
    started: Instant,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Vec<MemSample>>>,
}

impl MemSampler {
    pub fn start(pid: u32, interval: Duration) -> anyhow::Result<MemSampler> {
        let started = Instant::now();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("mem-sampler".into())
                .spawn(move || {
                    let mut samples = Vec::new();
                    let mut next = Instant::now();
                    while !stop.load(Ordering::Relaxed) {
                        samples.push(sample_tree(pid, started.elapsed().as_secs_f64()));
                        next += interval;
                        std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    }
                    samples
                })?
        };
        Ok(MemSampler {
            started,
            stop,
            thread: Some(thread),
        })
    }

    /// When sampling began: sample times are seconds since this instant.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// Stops sampling and returns the samples in time order.
    pub fn finish(mut self) -> Vec<MemSample> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for MemSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_kb_fields() {
        let text = "Name:\tx\nVmRSS:\t  1024 kB\nPss:    12 kB\n";
        assert_eq!(kb_field(text, "VmRSS"), Some(1024 * 1024));
        assert_eq!(kb_field(text, "Pss"), Some(12 * 1024));
        assert_eq!(kb_field(text, "VmSwap"), None);
    }

    #[test]
    fn finds_a_child_and_its_memory() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let me = std::process::id();
        let tree = process_tree(me);
        assert_eq!(tree[0], me);
        assert!(tree.contains(&child.id()), "{tree:?}");
        let s = sample_tree(me, 0.0);
        assert!(s.processes >= 2);
        assert!(s.rss_bytes > 0 && s.pss_bytes > 0);
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

//! `ringkv fsync-bench [--dir D] [--size BYTES] [--seconds S] [--json]` (issue 7).
//!
//! In the spirit of `pg_test_fsync`: on the directory the AOF will live in,
//! time every way ringkv could make a record durable, so `appendfsync` and
//! the log's `SyncMethod` can be chosen per disk from numbers, not lore.
//!
//! Each test appends `size`-byte records for `seconds` and times each one
//! from the start of its write to the moment it is durable. Two file modes:
//! *append* (the file grows, so each sync also flushes the new size) and
//! *prealloc* (the file is zero-filled and synced before timing, and
//! writes overwrite it, wrapping around, so a sync flushes data only).

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write as _};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use hdrhistogram::Histogram;
use ringkv_uring_io::{
    BackendChoice, BackendKind, GroupCommitLog, LogConfig, Lsn, SyncMethod, SyncPolicy,
    SYNC_OVERLAP_DEFAULT,
};

#[derive(Debug, clap::Args)]
pub struct FsyncBenchArgs {
    /// Directory to test (on the disk you care about).
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
    /// Record size in bytes (default: a sweep of 64 B to 64 KiB).
    #[arg(long)]
    pub size: Option<usize>,
    /// Seconds per test.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// `GroupCommitLog` rows: group syncs in flight at once (the server's
    /// `aof-fsync-overlap`).
    #[arg(long, default_value_t = SYNC_OVERLAP_DEFAULT)]
    pub fsync_overlap: usize,
}

/// The default record-size sweep.
pub const DEFAULT_SIZES: [usize; 5] = [64, 512, 4096, 16384, 65536];
/// Concurrent appenders for the `GroupCommitLog` rows.
pub const LOG_WRITERS: [usize; 4] = [1, 4, 16, 64];
/// O_DIRECT needs buffers, offsets and lengths aligned to the logical block
/// size; 4 KiB covers every disk we expect.
const DIRECT_ALIGN: usize = 4096;
/// Largest record accepted (a record is held in memory per writer).
const MAX_SIZE: usize = 64 << 20;

/// How a record reaches stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    WriteFsync,
    WriteFdatasync,
    DsyncWrite,
    DirectDsyncWrite,
    UringWriteFdatasync,
    /// `overlap`: group syncs in flight at once.
    GroupCommitLog {
        writers: usize,
        overlap: usize,
    },
}

impl Method {
    pub fn all(overlap: usize) -> Vec<Method> {
        let mut v = vec![
            Method::WriteFsync,
            Method::WriteFdatasync,
            Method::DsyncWrite,
            Method::DirectDsyncWrite,
            Method::UringWriteFdatasync,
        ];
        v.extend(
            LOG_WRITERS
                .iter()
                .map(|&writers| Method::GroupCommitLog { writers, overlap }),
        );
        v
    }

    pub fn name(self) -> String {
        match self {
            Method::WriteFsync => "write+fsync".into(),
            Method::WriteFdatasync => "write+fdatasync".into(),
            Method::DsyncWrite => "O_DSYNC write".into(),
            Method::DirectDsyncWrite => "O_DIRECT|O_DSYNC write".into(),
            Method::UringWriteFdatasync => "io_uring write->fdatasync".into(),
            Method::GroupCommitLog { writers, .. } => format!("GroupCommitLog x{writers}"),
        }
    }

    fn writers(self) -> usize {
        match self {
            Method::GroupCommitLog { writers, .. } => writers,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    Append,
    Prealloc,
}

impl FileMode {
    pub fn name(self) -> &'static str {
        match self {
            FileMode::Append => "append",
            FileMode::Prealloc => "prealloc",
        }
    }
}

/// One measured (or skipped) combination.
#[derive(Debug, Clone)]
pub struct Row {
    pub method: Method,
    pub file_mode: FileMode,
    pub size_bytes: usize,
    pub ops: u64,
    pub elapsed_secs: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    /// Why the test could not run here (e.g. O_DIRECT refused).
    pub skipped: Option<String>,
}

impl Row {
    pub fn ops_per_sec(&self) -> f64 {
        if self.elapsed_secs > 0.0 {
            self.ops as f64 / self.elapsed_secs
        } else {
            0.0
        }
    }

    pub fn durable_bytes_per_sec(&self) -> f64 {
        self.ops_per_sec() * self.size_bytes as f64
    }

    fn skipped(method: Method, file_mode: FileMode, size_bytes: usize, why: String) -> Row {
        Row {
            method,
            file_mode,
            size_bytes,
            ops: 0,
            elapsed_secs: 0.0,
            p50_us: 0.0,
            p99_us: 0.0,
            p999_us: 0.0,
            max_us: 0.0,
            skipped: Some(why),
        }
    }
}

/// A measurement that could not run; becomes a skipped row.
struct Skip(String);

impl From<std::io::Error> for Skip {
    fn from(e: std::io::Error) -> Skip {
        Skip(e.to_string())
    }
}

pub fn run(args: &FsyncBenchArgs) -> anyhow::Result<ExitCode> {
    let sizes = match args.size {
        Some(s) if s == 0 || s > MAX_SIZE => {
            anyhow::bail!("--size must be between 1 and {MAX_SIZE} bytes")
        }
        Some(s) => vec![s],
        None => DEFAULT_SIZES.to_vec(),
    };
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        anyhow::bail!("--seconds must be a number between 0 and 3600");
    }
    let work = WorkDir::create(&args.dir)?;
    let duration = Duration::from_secs_f64(args.seconds);
    let overlap = args.fsync_overlap.clamp(1, 64);
    let plan: Vec<(usize, FileMode, Method)> = sizes
        .iter()
        .flat_map(|&size| {
            [FileMode::Append, FileMode::Prealloc]
                .into_iter()
                .flat_map(move |mode| {
                    Method::all(overlap)
                        .into_iter()
                        .map(move |m| (size, mode, m))
                })
        })
        .collect();
    let progress = progress_bar(plan.len() as u64);
    let mut rows = Vec::with_capacity(plan.len());
    for (size, mode, method) in plan {
        progress.set_message(format!("{size} B {} {}", mode.name(), method.name()));
        rows.push(measure(&work.path, method, mode, size, duration));
        progress.inc(1);
    }
    progress.finish_and_clear();
    drop(work);
    let out = if args.json {
        render_json(&args.dir, args.seconds, &rows)
    } else {
        render_table(&args.dir, args.seconds, &rows)
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(len: u64) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// A private directory under the target, removed (with every test file in
/// it) on drop, including on error.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(dir: &Path) -> anyhow::Result<WorkDir> {
        let meta = std::fs::metadata(dir)
            .with_context(|| format!("cannot use {}: not accessible", dir.display()))?;
        if !meta.is_dir() {
            anyhow::bail!("cannot use {}: not a directory", dir.display());
        }
        let path = dir.join(format!(".ringkv-fsync-bench.{}", std::process::id()));
        std::fs::create_dir(&path)
            .with_context(|| format!("cannot write to directory {}", dir.display()))?;
        let work = WorkDir { path };
        // Creating a directory can succeed where files cannot be written
        // (quota, read-only bind of a subtree); prove a write and a sync.
        let probe = work.path.join("probe");
        let mut f = File::create(&probe)
            .with_context(|| format!("cannot write to directory {}", dir.display()))?;
        f.write_all(b"probe")
            .and_then(|()| f.sync_all())
            .with_context(|| format!("cannot write to directory {}", dir.display()))?;
        std::fs::remove_file(&probe).ok();
        Ok(work)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path) {
            eprintln!(
                "ringkv fsync-bench: could not remove {}: {e}",
                self.path.display()
            );
        }
    }
}

/// Bytes zero-filled ahead of a preallocated test: enough that a wrap is
/// rare at small sizes, small enough that a sweep does not fill a disk.
fn prealloc_bytes(size: usize) -> u64 {
    ((size as u64) * 2048).clamp(4 << 20, 128 << 20)
}

/// Runs one combination; failures to set it up become skipped rows.
pub fn measure(dir: &Path, method: Method, mode: FileMode, size: usize, duration: Duration) -> Row {
    let path = dir.join(format!(
        "{}-{}-{size}",
        mode.name(),
        method
            .name()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    let result = match method {
        Method::GroupCommitLog { writers, overlap } => {
            measure_log(&path, writers, overlap, mode, size, duration)
        }
        _ => measure_file(&path, method, mode, size, duration),
    };
    std::fs::remove_file(&path).ok();
    match result {
        Ok(row) => row,
        Err(Skip(why)) => Row::skipped(method, mode, size, why),
    }
}

fn latency_histogram() -> Histogram<u64> {
    // 1 µs to 100 s, 3 significant digits.
    Histogram::new_with_bounds(1, 100_000_000, 3).expect("constant histogram bounds are valid")
}

fn record_us(hist: &mut Histogram<u64>, took: Duration) {
    let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    hist.saturating_record(us.max(1));
}

fn row_from(
    method: Method,
    file_mode: FileMode,
    size_bytes: usize,
    hist: &Histogram<u64>,
    elapsed: Duration,
) -> Row {
    let q = |q: f64| hist.value_at_quantile(q) as f64;
    Row {
        method,
        file_mode,
        size_bytes,
        ops: hist.len(),
        elapsed_secs: elapsed.as_secs_f64(),
        p50_us: q(0.5),
        p99_us: q(0.99),
        p999_us: q(0.999),
        max_us: hist.max() as f64,
        skipped: None,
    }
}

/// A `len`-byte slice of `storage` aligned for O_DIRECT.
fn aligned(storage: &mut [u8], len: usize) -> &mut [u8] {
    let start = storage.as_ptr().align_offset(DIRECT_ALIGN);
    &mut storage[start..start + len]
}

/// Zero-fills `bytes` of `file` and syncs it, so timed writes find their
/// blocks allocated and written.
fn zero_fill(file: &File, bytes: u64) -> std::io::Result<()> {
    let mut chunk = vec![0u8; (1 << 20) + DIRECT_ALIGN];
    let chunk = aligned(&mut chunk, 1 << 20);
    let mut off = 0u64;
    while off < bytes {
        let n = (bytes - off).min(chunk.len() as u64) as usize;
        file.write_all_at(&chunk[..n], off)?;
        off += n as u64;
    }
    file.sync_all()
}

fn measure_file(
    path: &Path,
    method: Method,
    mode: FileMode,
    size: usize,
    duration: Duration,
) -> Result<Row, Skip> {
    let mut flags = 0;
    match method {
        Method::DsyncWrite => flags |= libc::O_DSYNC,
        Method::DirectDsyncWrite => {
            if !size.is_multiple_of(DIRECT_ALIGN) {
                return Err(Skip(format!(
                    "O_DIRECT needs sizes that are multiples of {DIRECT_ALIGN} B"
                )));
            }
            flags |= libc::O_DSYNC | libc::O_DIRECT;
        }
        _ => {}
    }
    // Preallocation is done through a plain descriptor: O_DIRECT|O_DSYNC
    // zero-filling would only be slower, not different.
    let file_len = match mode {
        FileMode::Append => None,
        FileMode::Prealloc => {
            let len = prealloc_bytes(size) / size as u64 * size as u64;
            let f = File::create(path)?;
            zero_fill(&f, len)?;
            Some(len)
        }
    };
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(file_len.is_none())
        .custom_flags(flags)
        .open(path)
        .map_err(|e| match method {
            Method::DirectDsyncWrite if e.raw_os_error() == Some(libc::EINVAL) => {
                Skip("this filesystem does not support O_DIRECT".into())
            }
            _ => Skip(e.to_string()),
        })?;
    let mut storage = vec![0u8; size + DIRECT_ALIGN];
    let record = aligned(&mut storage, size);
    record.fill(b'r');
    let mut hist = latency_histogram();
    let mut uring = match method {
        Method::UringWriteFdatasync => Some(
            uring_sync::Ring::new().map_err(|e| Skip(format!("io_uring is unavailable: {e}")))?,
        ),
        _ => None,
    };
    let start = Instant::now();
    let mut off = 0u64;
    loop {
        let t0 = Instant::now();
        if let Some(ring) = uring.as_mut() {
            ring.write_fdatasync(&file, record, off)?;
        } else {
            file.write_all_at(record, off).map_err(|e| match method {
                Method::DirectDsyncWrite if e.raw_os_error() == Some(libc::EINVAL) => {
                    Skip("this filesystem does not support O_DIRECT writes".into())
                }
                _ => Skip(e.to_string()),
            })?;
            match method {
                Method::WriteFsync => file.sync_all()?,
                Method::WriteFdatasync => file.sync_data()?,
                _ => {}
            }
        }
        let now = Instant::now();
        record_us(&mut hist, now - t0);
        off += size as u64;
        if file_len.is_some_and(|len| off >= len) {
            off = 0;
        }
        if now - start >= duration {
            return Ok(row_from(method, mode, size, &hist, now - start));
        }
    }
}

/// `writers` threads each append a record and wait for it to be durable,
/// in a loop, through one `GroupCommitLog` (`appendfsync always`).
fn measure_log(
    path: &Path,
    writers: usize,
    overlap: usize,
    mode: FileMode,
    size: usize,
    duration: Duration,
) -> Result<Row, Skip> {
    let backend =
        ringkv_uring_io::backend::resolve(BackendChoice::Auto).unwrap_or(BackendKind::Epoll);
    let cfg = LogConfig {
        backend,
        sync: SyncPolicy::Always,
        sync_method: SyncMethod::Fdatasync,
        segment_prealloc_bytes: match mode {
            FileMode::Append => 0,
            FileMode::Prealloc => prealloc_bytes(size),
        },
        sync_overlap_max: overlap,
        ..LogConfig::default()
    };
    let log = Arc::new(GroupCommitLog::open(cfg, path, Lsn(0)).map_err(|e| Skip(e.to_string()))?);
    // The log zero-fills its first step at open; let that finish (it is
    // the "before timing" part of a preallocated test).
    let lsn = log.sync().map_err(|e| Skip(e.to_string()))?;
    log.wait_durable(lsn, Duration::from_secs(60))
        .map_err(|e| Skip(e.to_string()))?;
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = (0..writers)
        .map(|_| {
            let log = log.clone();
            let stop = stop.clone();
            std::thread::spawn(move || -> Result<Histogram<u64>, String> {
                let record = vec![b'r'; size];
                let mut hist = latency_histogram();
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    let lsn = log.append(&record).map_err(|e| e.to_string())?;
                    if !log
                        .wait_durable(lsn, Duration::from_secs(60))
                        .map_err(|e| e.to_string())?
                    {
                        return Err("a record was not durable after 60 s".into());
                    }
                    record_us(&mut hist, t0.elapsed());
                }
                Ok(hist)
            })
        })
        .collect();
    std::thread::sleep(duration);
    stop.store(true, Ordering::Relaxed);
    let mut hist = latency_histogram();
    let mut failure = None;
    for h in handles {
        match h.join() {
            Ok(Ok(th)) => {
                if let Err(e) = hist.add(&th) {
                    failure = Some(e.to_string());
                }
            }
            Ok(Err(e)) => failure = Some(e),
            Err(_) => failure = Some("a writer thread panicked".into()),
        }
    }
    let elapsed = start.elapsed();
    log.close().map_err(|e| Skip(e.to_string()))?;
    if let Some(e) = failure {
        return Err(Skip(e));
    }
    let method = Method::GroupCommitLog { writers, overlap };
    Ok(row_from(method, mode, size, &hist, elapsed))
}

/// The io_uring test: one `write` linked to one `fdatasync` per record,
/// submitted together, as the log writer does under `appendfsync always`.
mod uring_sync {
    use std::fs::File;
    use std::io;
    use std::os::fd::AsRawFd;

    use io_uring::{opcode, squeue, types, IoUring};

    use super::Skip;

    pub struct Ring {
        ring: IoUring,
    }

    impl Ring {
        pub fn new() -> io::Result<Ring> {
            Ok(Ring {
                ring: IoUring::new(4)?,
            })
        }

        pub fn write_fdatasync(
            &mut self,
            file: &File,
            record: &[u8],
            off: u64,
        ) -> Result<(), Skip> {
            let fd = types::Fd(file.as_raw_fd());
            let len = u32::try_from(record.len()).map_err(|_| Skip("record too large".into()))?;
            let write = opcode::Write::new(fd, record.as_ptr(), len)
                .offset(off)
                .build()
                .flags(squeue::Flags::IO_LINK)
                .user_data(0);
            let sync = opcode::Fsync::new(fd)
                .flags(types::FsyncFlags::DATASYNC)
                .build()
                .user_data(1);
            push(&mut self.ring, &[write, sync])?;
            self.ring.submit_and_wait(2)?;
            let mut results = [0i32; 2];
            let mut seen = 0;
            while seen < 2 {
                for cqe in self.ring.completion() {
                    if let Some(slot) = results.get_mut(cqe.user_data() as usize) {
                        *slot = cqe.result();
                    }
                    seen += 1;
                }
                if seen < 2 {
                    self.ring.submit_and_wait(2 - seen)?;
                }
            }
            if results[0] < 0 {
                return Err(io::Error::from_raw_os_error(-results[0]).into());
            }
            if results[0] as usize != record.len() {
                return Err(Skip(format!("short io_uring write: {}", results[0])));
            }
            if results[1] < 0 {
                return Err(io::Error::from_raw_os_error(-results[1]).into());
            }
            Ok(())
        }
    }

    /// Pushes linked entries; the ring is empty between records, so they fit.
    #[allow(unsafe_code)]
    fn push(ring: &mut IoUring, entries: &[squeue::Entry]) -> Result<(), Skip> {
        // SAFETY: the write's buffer (`record`) and the file outlive the
        // submission: `write_fdatasync` borrows both and does not return
        // until both completions are reaped.
        unsafe { ring.submission().push_multiple(entries) }
            .map_err(|_| Skip("io_uring submission queue full".into()))
    }
}

fn us(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{:.1}ms", v / 1000.0)
    } else {
        format!("{v:.0}")
    }
}

fn human_bytes_per_sec(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1} MB/s", v / 1e6)
    } else {
        format!("{:.1} kB/s", v / 1e3)
    }
}

pub fn render_table(dir: &Path, seconds: f64, rows: &[Row]) -> String {
    let mut out = format!(
        "ringkv fsync-bench on {} ({seconds} s per test; latency in µs from write to durable)\n\n",
        dir.display()
    );
    out.push_str(&format!(
        "{:>6}  {:<8}  {:<26}  {:>10}  {:>11}  {:>8}  {:>8}  {:>8}  {:>8}\n",
        "size", "file", "method", "ops/s", "durable", "p50", "p99", "p99.9", "max"
    ));
    for r in rows {
        let head = format!(
            "{:>6}  {:<8}  {:<26}",
            r.size_bytes,
            r.file_mode.name(),
            r.method.name()
        );
        match &r.skipped {
            Some(why) => out.push_str(&format!("{head}  skipped: {why}\n")),
            None => out.push_str(&format!(
                "{head}  {:>10.0}  {:>11}  {:>8}  {:>8}  {:>8}  {:>8}\n",
                r.ops_per_sec(),
                human_bytes_per_sec(r.durable_bytes_per_sec()),
                us(r.p50_us),
                us(r.p99_us),
                us(r.p999_us),
                us(r.max_us)
            )),
        }
    }
    out
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn render_json(dir: &Path, seconds: f64, rows: &[Row]) -> String {
    let mut out = format!(
        "{{\"dir\":{},\"seconds_per_test\":{seconds},\"rows\":[",
        json_string(&dir.display().to_string())
    );
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "\n{{\"method\":{},\"file\":{},\"size_bytes\":{},\"writers\":{},\"ops\":{},\
             \"elapsed_secs\":{:.6},\"ops_per_sec\":{:.3},\"durable_bytes_per_sec\":{:.3},\
             \"p50_us\":{},\"p99_us\":{},\"p999_us\":{},\"max_us\":{},\"skipped\":{}}}",
            json_string(&r.method.name()),
            json_string(r.file_mode.name()),
            r.size_bytes,
            r.method.writers(),
            r.ops,
            r.elapsed_secs,
            r.ops_per_sec(),
            r.durable_bytes_per_sec(),
            r.p50_us,
            r.p99_us,
            r.p999_us,
            r.max_us,
            r.skipped.as_deref().map_or("null".to_string(), json_string),
        ));
    }
    out.push_str("\n]}\n");
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
    }

    #[test]
    fn direct_io_skips_unaligned_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let row = measure(
            dir.path(),
            Method::DirectDsyncWrite,
            FileMode::Append,
            100,
            Duration::from_millis(10),
        );
        assert!(row.skipped.unwrap().contains("multiples of 4096"));
    }

    #[test]
    fn every_method_measures_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [FileMode::Append, FileMode::Prealloc] {
            for m in [
                Method::WriteFdatasync,
                Method::GroupCommitLog {
                    writers: 4,
                    overlap: 1,
                },
            ] {
                let row = measure(dir.path(), m, mode, 512, Duration::from_millis(50));
                assert!(row.skipped.is_none(), "{row:?}");
                assert!(row.ops > 0 && row.p50_us >= 1.0 && row.max_us >= row.p99_us);
            }
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

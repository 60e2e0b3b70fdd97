//! A RESP load generator: many connections driven from one thread through
//! one io_uring (sends and receives batched into each submission), closed
//! loop or at a fixed open-loop rate, with pipelining and HDR latency
//! percentiles. Prints the same CSV columns as `redis-benchmark --csv`.
//!
//! ```text
//! loadgen --port 6379 -t set,get -c 50 -n 100000 -d 64 -r 100000 -P 16 [--rate 50000]
//!     [--latency-cdf FILE] [--latency-log FILE] [--until-stdin-eof]
//! ```
//!
//! `--latency-cdf` writes each test's latency distribution (quantile,
//! latency) from the HDR histogram, for plotting. `--latency-log` writes
//! every request's due time and latency, so a caller can split one run by
//! what the server was doing at the time (e.g. before and during a
//! snapshot). `--until-stdin-eof` keeps the run going until the caller
//! closes loadgen's standard input (`-n` is then a cap).
//!
//! Latency is timed per request from when its batch was due (open loop:
//! the schedule, so a stalled server is not hidden by fewer sends; closed
//! loop: when the batch was sent) to when its reply was parsed.

use std::collections::VecDeque;
use std::io::{BufWriter, Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::Parser;
use hdrhistogram::Histogram;
use io_uring::{opcode, squeue, types, IoUring};
use ringkv_benches::load::encode_command;
use ringkv_benches::redis_benchmark::{CsvRow, CSV_HEADER};

#[derive(Debug, Parser)]
#[command(about = "io_uring RESP load generator (redis-benchmark CSV output)")]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(short = 'p', long, default_value_t = 6379)]
    port: u16,
    /// Comma-separated tests: set, get, ping, incr, lpush, lpop, sadd, hset,
    /// zadd, lrange_100.
    #[arg(short = 't', long, default_value = "set,get")]
    tests: String,
    /// Connections.
    #[arg(short = 'c', long, default_value_t = 50)]
    clients: usize,
    /// Requests per test.
    #[arg(short = 'n', long, default_value_t = 100_000)]
    requests: u64,
    /// Value size in bytes.
    #[arg(short = 'd', long, default_value_t = 3)]
    data_size: usize,
    /// Random keys from this keyspace (0: one fixed key).
    #[arg(short = 'r', long, default_value_t = 0)]
    keyspace: u64,
    /// Pipeline depth: requests per batch per connection.
    #[arg(short = 'P', long, default_value_t = 1)]
    pipeline: usize,
    /// Open loop: total requests/s, spread over the connections (0: closed loop).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Accepted for redis-benchmark compatibility (output is always CSV).
    #[arg(long)]
    csv: bool,
    /// Write each test's latency CDF here: `test,quantile,latency_ms` lines.
    #[arg(long)]
    latency_cdf: Option<PathBuf>,
    /// Write every request's latency here: per test a line
    /// `# test T start_unix_us N`, then `due_offset_us latency_us` per
    /// request (its due time counted from the start).
    #[arg(long)]
    latency_log: Option<PathBuf>,
    /// Stop issuing requests when standard input reaches end of file (the
    /// caller closes it); finish the outstanding ones and report.
    #[arg(long)]
    until_stdin_eof: bool,
}

/// Bytes read per receive.
const RECV_BUF: usize = 64 << 10;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.pipeline == 0 || args.requests == 0 {
        bail!("-c, -P and -n must be positive");
    }
    if !(args.rate >= 0.0 && args.rate.is_finite()) {
        bail!("--rate must be a non-negative number");
    }
    let stop = Arc::new(AtomicBool::new(false));
    if args.until_stdin_eof {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("stdin-eof".into())
            .spawn(move || {
                let mut sink = [0u8; 256];
                let mut stdin = std::io::stdin();
                while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
                stop.store(true, Ordering::Relaxed);
            })
            .context("starting the stdin watcher")?;
    }
    let mut cdf = match &args.latency_cdf {
        Some(path) => {
            let mut f = BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("creating {}", path.display()))?,
            );
            writeln!(f, "test,quantile,latency_ms")?;
            Some(f)
        }
        None => None,
    };
    let mut log = match &args.latency_log {
        Some(path) => Some(BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => None,
    };
    println!("{CSV_HEADER}");
    for test in args
        .tests
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        let (row, hist) = run_test(&args, test, &stop, log.as_mut())?;
        println!("{}", row.to_csv());
        if let Some(f) = cdf.as_mut() {
            write_cdf(f, &row.test, &hist)?;
        }
    }
    if let Some(mut f) = cdf {
        f.flush()?;
    }
    if let Some(mut f) = log {
        f.flush()?;
    }
    Ok(())
}

/// The histogram's distribution as `test,quantile,latency_ms` lines: every
/// recorded value step (HDR's quantile iteration, finer towards the tail).
fn write_cdf(out: &mut impl Write, test: &str, hist: &Histogram<u64>) -> anyhow::Result<()> {
    for v in hist.iter_quantiles(4) {
        writeln!(
            out,
            "{test},{:.6},{:.3}",
            v.quantile_iterated_to(),
            hist.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0
        )?;
    }
    Ok(())
}

/// One pipelined batch in flight on a connection.
struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    sent: usize,
    send_in_flight: bool,
    recv_buf: Box<[u8]>,
    recv_in_flight: bool,
    /// Received bytes not yet parsed into replies.
    pending: Vec<u8>,
    /// When each outstanding request was due, oldest first.
    due: VecDeque<Instant>,
}

struct Workload<'a> {
    test: &'a str,
    value: Vec<u8>,
    keyspace: u64,
    /// xorshift64* state: a key per request must cost next to nothing.
    rng: u64,
    key: Vec<u8>,
    member: Vec<u8>,
}

impl Workload<'_> {
    /// Writes `prefix` or `prefix:NNNNNNNNNNNN` (a random key, as
    /// redis-benchmark's `__rand_int__`) into `buf`.
    fn key(rng: &mut u64, keyspace: u64, prefix: &[u8], buf: &mut Vec<u8>) {
        buf.clear();
        buf.extend_from_slice(prefix);
        if keyspace > 0 {
            *rng ^= *rng >> 12;
            *rng ^= *rng << 25;
            *rng ^= *rng >> 27;
            let mut n = rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % keyspace;
            // `:` and 12 zero-padded digits, without fmt.
            let mut digits = [b'0'; 12];
            for d in digits.iter_mut().rev() {
                *d = b'0' + (n % 10) as u8;
                n /= 10;
            }
            buf.push(b':');
            buf.extend_from_slice(&digits);
        }
    }

    fn encode(&mut self, out: &mut Vec<u8>) -> anyhow::Result<()> {
        let Workload {
            test,
            value,
            keyspace,
            rng,
            key,
            member,
        } = self;
        let value = value.as_slice();
        match *test {
            "set" => {
                Self::key(rng, *keyspace, b"key", key);
                encode_command(out, &[b"SET", key, value])
            }
            "get" => {
                Self::key(rng, *keyspace, b"key", key);
                encode_command(out, &[b"GET", key])
            }
            "ping" => encode_command(out, &[b"PING"]),
            "incr" => {
                Self::key(rng, *keyspace, b"counter", key);
                encode_command(out, &[b"INCR", key])
            }
            "lpush" => encode_command(out, &[b"LPUSH", b"mylist", value]),
            "lpop" => encode_command(out, &[b"LPOP", b"mylist"]),
            // As redis-benchmark: the first 100 elements of the list an
            // earlier `lpush` test filled (`-t lpush,lrange_100`).
            "lrange_100" => encode_command(out, &[b"LRANGE", b"mylist", b"0", b"99"]),
            "zadd" => {
                Self::key(rng, *keyspace, b"element", member);
                // redis-benchmark's score: a random integer.
                let mut digits = itoa::Buffer::new();
                let score = digits.format(*rng % 1_000_000);
                encode_command(out, &[b"ZADD", b"myzset", score.as_bytes(), member])
            }
            "sadd" => {
                Self::key(rng, *keyspace, b"element", member);
                encode_command(out, &[b"SADD", b"myset", member])
            }
            "hset" => {
                Self::key(rng, *keyspace, b"myhash", key);
                Self::key(rng, *keyspace, b"element", member);
                encode_command(out, &[b"HSET", key, member, value])
            }
            other => bail!("unknown test {other}"),
        }
        Ok(())
    }
}

/// Length of the first complete RESP reply in `b`, if any.
fn reply_len(b: &[u8]) -> Option<usize> {
    let line_end = memchr::memchr(b'\r', b)?;
    if b.len() < line_end + 2 {
        return None;
    }
    let num = || -> Option<i64> { std::str::from_utf8(&b[1..line_end]).ok()?.parse().ok() };
    match *b.first()? {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(line_end + 2),
        b'$' | b'=' | b'!' => {
            let n = num()?;
            if n < 0 {
                return Some(line_end + 2);
            }
            let total = line_end + 2 + n as usize + 2;
            (b.len() >= total).then_some(total)
        }
        b'*' | b'~' | b'>' | b'%' => {
            let n = num()?;
            let items = if b[0] == b'%' { n.max(0) * 2 } else { n.max(0) };
            let mut at = line_end + 2;
            for _ in 0..items {
                at += reply_len(&b[at..])?;
            }
            Some(at)
        }
        _ => None,
    }
}

fn run_test(
    args: &Args,
    test: &str,
    stop: &AtomicBool,
    mut log: Option<&mut BufWriter<std::fs::File>>,
) -> anyhow::Result<(CsvRow, Histogram<u64>)> {
    let mut workload = Workload {
        test,
        value: vec![b'x'; args.data_size],
        keyspace: args.keyspace,
        rng: 0x5eed_1234_abcd_9876,
        key: Vec::with_capacity(32),
        member: Vec::with_capacity(32),
    };
    // Check the test name before connecting.
    workload.encode(&mut Vec::new())?;
    let mut conns = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        let stream = TcpStream::connect((args.host.as_str(), args.port))
            .with_context(|| format!("connecting to {}:{}", args.host, args.port))?;
        stream.set_nodelay(true)?;
        conns.push(Conn {
            stream,
            out: Vec::new(),
            sent: 0,
            send_in_flight: false,
            recv_buf: vec![0u8; RECV_BUF].into_boxed_slice(),
            recv_in_flight: false,
            pending: Vec::new(),
            due: VecDeque::new(),
        });
    }
    let entries = (args.clients * 2).next_power_of_two().max(8) as u32;
    // As the server's loops: one thread owns the ring, task work runs when
    // it waits (kernel 6.1+; a plain ring otherwise).
    let mut ring = match IoUring::builder()
        .setup_single_issuer()
        .setup_defer_taskrun()
        .build(entries)
    {
        Ok(ring) => ring,
        Err(_) => IoUring::new(entries).context("creating an io_uring")?,
    };
    let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)
        .expect("constant histogram bounds are valid");
    let mut min_us = u64::MAX;
    let mut errors = 0u64;
    let mut issued = 0u64;
    let mut done = 0u64;
    let batch_interval =
        (args.rate > 0.0).then(|| Duration::from_secs_f64(args.pipeline as f64 / args.rate));
    let start = Instant::now();
    let start_unix_us = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros());
    // Per request: (due offset µs, latency µs), written after the run so
    // the file does not compete with the measurement.
    let mut logged: Vec<(u64, u64)> = Vec::new();
    let mut limit = args.requests;
    let mut next_due = start;
    let mut completions: Vec<(u64, i32)> = Vec::with_capacity(entries as usize);
    while done < limit {
        if limit > issued && stop.load(Ordering::Relaxed) {
            limit = issued;
            continue;
        }
        // Start batches on idle connections (all of them in a closed loop,
        // as the schedule allows in an open loop).
        let now = Instant::now();
        for (i, c) in conns.iter_mut().enumerate() {
            // `out` is rewritten below: only once the last send has completed.
            if issued >= limit || !c.due.is_empty() || c.send_in_flight {
                continue;
            }
            let due = match batch_interval {
                Some(step) => {
                    if next_due > now {
                        break;
                    }
                    let d = next_due;
                    next_due += step;
                    d
                }
                None => now,
            };
            c.out.clear();
            c.sent = 0;
            let batch = (limit - issued).min(args.pipeline as u64);
            for _ in 0..batch {
                workload.encode(&mut c.out)?;
                c.due.push_back(due);
            }
            issued += batch;
            submit_send(&mut ring, i, c)?;
            if !c.recv_in_flight {
                submit_recv(&mut ring, i, c)?;
            }
        }
        // Wait for at least one completion, or until the next batch is due.
        let wait = match batch_interval {
            Some(_) if issued < limit => {
                let left = next_due.saturating_duration_since(Instant::now());
                let ts = types::Timespec::from(left.max(Duration::from_micros(10)));
                let sargs = types::SubmitArgs::new().timespec(&ts);
                match ring.submitter().submit_with_args(1, &sargs) {
                    Err(e) if e.raw_os_error() == Some(libc::ETIME) => Ok(0),
                    r => r,
                }
            }
            // Until stdin closes, wake now and then to notice it.
            None if args.until_stdin_eof && done == issued => {
                let ts = types::Timespec::from(Duration::from_millis(10));
                let sargs = types::SubmitArgs::new().timespec(&ts);
                match ring.submitter().submit_with_args(1, &sargs) {
                    Err(e) if e.raw_os_error() == Some(libc::ETIME) => Ok(0),
                    r => r,
                }
            }
            _ => ring.submit_and_wait(1),
        };
        match wait {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
            Err(e) => return Err(e).context("io_uring wait"),
        }
        completions.clear();
        completions.extend(ring.completion().map(|cqe| (cqe.user_data(), cqe.result())));
        for &(user_data, result) in &completions {
            let i = (user_data >> 1) as usize;
            let c = conns
                .get_mut(i)
                .context("completion for an unknown connection")?;
            if result < 0 {
                bail!(
                    "connection {i}: {}",
                    std::io::Error::from_raw_os_error(-result)
                );
            }
            if user_data & 1 == 0 {
                c.send_in_flight = false;
                c.sent += result as usize;
                if c.sent < c.out.len() {
                    submit_send(&mut ring, i, c)?;
                }
                continue;
            }
            c.recv_in_flight = false;
            if result == 0 {
                bail!("connection {i}: server closed the connection");
            }
            c.pending.extend_from_slice(&c.recv_buf[..result as usize]);
            let now = Instant::now();
            let mut at = 0;
            while let Some(len) = reply_len(&c.pending[at..]) {
                if c.pending[at] == b'-' {
                    errors += 1;
                }
                let due = c.due.pop_front().context("reply without a request")?;
                let us = u64::try_from((now - due).as_micros())
                    .unwrap_or(u64::MAX)
                    .max(1);
                min_us = min_us.min(us);
                hist.saturating_record(us);
                if log.is_some() {
                    let due_us = u64::try_from((due - start).as_micros()).unwrap_or(u64::MAX);
                    logged.push((due_us, us));
                }
                done += 1;
                at += len;
            }
            c.pending.drain(..at);
            if !c.due.is_empty() {
                submit_recv(&mut ring, i, c)?;
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    if errors > 0 {
        eprintln!("loadgen: {test}: {errors} error replies");
    }
    if let Some(f) = log.as_mut() {
        writeln!(f, "# test {test} start_unix_us {start_unix_us}")?;
        for (due_us, us) in &logged {
            writeln!(f, "{due_us} {us}")?;
        }
    }
    let ms = |us: u64| us as f64 / 1000.0;
    let row = CsvRow {
        test: test.to_ascii_uppercase(),
        rps: done as f64 / elapsed,
        avg_ms: hist.mean() / 1000.0,
        min_ms: ms(if min_us == u64::MAX { 0 } else { min_us }),
        p50_ms: ms(hist.value_at_quantile(0.5)),
        p95_ms: ms(hist.value_at_quantile(0.95)),
        p99_ms: ms(hist.value_at_quantile(0.99)),
        max_ms: ms(hist.max()),
    };
    Ok((row, hist))
}

fn submit_send(ring: &mut IoUring, i: usize, c: &mut Conn) -> anyhow::Result<()> {
    debug_assert!(!c.send_in_flight && c.sent < c.out.len());
    let rest = &c.out[c.sent..];
    let len = u32::try_from(rest.len()).context("batch too large")?;
    let entry = opcode::Send::new(types::Fd(c.stream.as_raw_fd()), rest.as_ptr(), len)
        .build()
        .user_data((i as u64) << 1);
    push(ring, &entry)?;
    c.send_in_flight = true;
    Ok(())
}

fn submit_recv(ring: &mut IoUring, i: usize, c: &mut Conn) -> anyhow::Result<()> {
    debug_assert!(!c.recv_in_flight);
    let entry = opcode::Recv::new(
        types::Fd(c.stream.as_raw_fd()),
        c.recv_buf.as_mut_ptr(),
        RECV_BUF as u32,
    )
    // IORING_RECVSEND_POLL_FIRST: a reply cannot be there yet when the
    // receive is armed right after its request.
    .ioprio(1)
    .build()
    .user_data(((i as u64) << 1) | 1);
    push(ring, &entry)?;
    c.recv_in_flight = true;
    Ok(())
}

/// Queues one entry, submitting first if the queue is full (it has room
/// for a send and a receive per connection, so one flush suffices).
#[allow(unsafe_code)]
fn push(ring: &mut IoUring, entry: &squeue::Entry) -> anyhow::Result<()> {
    // SAFETY: the buffers an entry points at live in a `Conn` (the boxed
    // receive buffer and the `out` vector) that is neither dropped nor
    // touched while its operation is in flight: `out` is only rewritten
    // when the connection has no outstanding requests and no send in
    // flight, and `recv_buf` is only read after its completion. All
    // connections outlive the loop that drains every completion.
    if unsafe { ring.submission().push(entry) }.is_err() {
        ring.submit()?;
        // SAFETY: as above.
        unsafe { ring.submission().push(entry) }
            .map_err(|_| anyhow::anyhow!("io_uring submission queue full"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::reply_len;

    #[test]
    fn reply_lengths() {
        assert_eq!(reply_len(b"+OK\r\n+OK"), Some(5));
        assert_eq!(reply_len(b"$3\r\nabc\r\n"), Some(9));
        assert_eq!(reply_len(b"$3\r\nab"), None);
        assert_eq!(reply_len(b"$-1\r\n"), Some(5));
        assert_eq!(reply_len(b"*2\r\n:1\r\n$1\r\na\r\n"), Some(15));
        assert_eq!(reply_len(b"*2\r\n:1\r\n"), None);
        assert_eq!(reply_len(b"-ERR x\r\n"), Some(8));
    }
}

//! Running out of file descriptors while connections wait to be accepted:
//! the loops must log and back off (not spin on the listener, not panic), and
//! accept the waiting connections once descriptors are free again.
//!
//! Its own test binary with a single test, because it lowers the process's
//! `RLIMIT_NOFILE`, which would break tests running beside it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringkv_uring_io::net::{run, ConnInfo};
use ringkv_uring_io::{BackendKind, ConnIo, ConnSet, Handler, LoopConfig, Waker};

struct Echo {
    opened: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Handler for Echo {
    type Conn = ();
    fn open(&mut self, _info: ConnInfo, _io: &mut ConnIo) -> Option<()> {
        self.opened.fetch_add(1, Ordering::SeqCst);
        Some(())
    }
    fn input(&mut self, _conn: &mut (), io: &mut ConnIo) {
        io.output.append(&mut io.input);
    }
    fn wake(&mut self, _conns: &mut dyn ConnSet<()>) {}
    fn tick(&mut self, _conns: &mut dyn ConnSet<()>) {}
    fn closed(&mut self, _conn: ()) {}
    fn should_stop(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A client socket created before connecting, so connecting later needs
/// no new descriptor.
struct TcpSocket(std::os::fd::OwnedFd);

impl TcpSocket {
    fn new() -> TcpSocket {
        // SAFETY: socket takes no pointers; the fd is owned right away.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
        assert!(fd >= 0);
        // SAFETY: `fd` is a fresh descriptor nothing else owns.
        TcpSocket(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) })
    }

    fn connect(self, addr: SocketAddr) -> TcpStream {
        let SocketAddr::V4(v4) = addr else {
            panic!("IPv4 only")
        };
        let sin = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: v4.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*v4.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: `sin` is a live sockaddr_in of the given length.
        let ret = unsafe {
            libc::connect(
                std::os::fd::AsRawFd::as_raw_fd(&self.0),
                (&sin as *const libc::sockaddr_in).cast(),
                len,
            )
        };
        assert_eq!(ret, 0, "{}", std::io::Error::last_os_error());
        TcpStream::from(self.0)
    }
}

fn highest_open_fd() -> u64 {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .max()
        .unwrap()
}

fn set_fd_limit(soft: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscalls on a live local struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = soft.min(lim.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &lim), 0);
    }
}

fn fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain syscall on a live local struct.
    unsafe { assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0) };
    lim.rlim_cur
}

fn process_cpu_time() -> Duration {
    let mut usage: libc::rusage = unsafe_zeroed_rusage();
    // SAFETY: getrusage fills a live local struct.
    unsafe { assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0) };
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn unsafe_zeroed_rusage() -> libc::rusage {
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

fn accept_backs_off_when_out_of_fds(backend: BackendKind) {
    const WAITING: usize = 8;
    const LOOP_THREADS: usize = 2;
    let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
    let addr = listener.local_addr().unwrap();
    let opened = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let cfg = LoopConfig {
        backend,
        tick: Duration::from_millis(20),
        ..LoopConfig::default()
    };
    let wakers: Vec<Waker> = (0..LOOP_THREADS).map(|_| Waker::new().unwrap()).collect();
    // Fill the descriptor table up to a lowered limit before the loops
    // start (io_uring's accept takes the limit when the op is prepared),
    // then free exactly what the loops (a ring or epoll set each) and the
    // clients need.
    let sockets: Vec<TcpSocket> = (0..WAITING).map(|_| TcpSocket::new()).collect();
    let saved_limit = fd_limit();
    set_fd_limit(highest_open_fd() + 64);
    let mut fillers = Vec::new();
    while let Ok(f) = std::fs::File::open("/dev/null") {
        fillers.push(f);
    }
    fillers.truncate(fillers.len() - LOOP_THREADS);
    let threads: Vec<_> = wakers
        .iter()
        .map(|waker| {
            let (listener, cfg, waker) = (listener.clone(), cfg.clone(), waker.clone());
            let mut handler = Echo {
                opened: opened.clone(),
                stop: stop.clone(),
            };
            std::thread::spawn(move || run(&cfg, &listener, &waker, &mut handler))
        })
        .collect();
    // Let the loops set up their rings / epoll sets before starving them.
    std::thread::sleep(Duration::from_millis(100));

    // The client sockets were made before the table filled up, so the
    // loops cannot accept: the handshakes complete in the backlog and wait.
    let mut clients: Vec<TcpStream> = sockets.into_iter().map(|s| s.connect(addr)).collect();
    assert_eq!(clients.len(), WAITING);
    let cpu_before = process_cpu_time();
    std::thread::sleep(Duration::from_millis(1000));
    let cpu_spent = process_cpu_time() - cpu_before;
    drop(fillers);
    set_fd_limit(saved_limit);
    assert!(
        cpu_spent < Duration::from_millis(300),
        "{backend:?}: loops spun on EMFILE ({cpu_spent:?} of CPU in 1 s)"
    );

    // Descriptors are back: every waiting connection gets accepted and served.
    for c in &mut clients {
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        c.write_all(b"ping").unwrap();
        let mut buf = [0u8; 4];
        c.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"ping");
    }
    assert_eq!(opened.load(Ordering::SeqCst), clients.len());

    stop.store(true, Ordering::SeqCst);
    for waker in &wakers {
        waker.wake();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for t in threads {
        while !t.is_finished() {
            assert!(Instant::now() < deadline, "loop did not stop");
            std::thread::sleep(Duration::from_millis(5));
        }
        t.join().unwrap().unwrap();
    }
}

#[test]
fn accept_backs_off_when_out_of_fds_both_backends() {
    accept_backs_off_when_out_of_fds(BackendKind::Epoll);
    accept_backs_off_when_out_of_fds(BackendKind::Uring);
}

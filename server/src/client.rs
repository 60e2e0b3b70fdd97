//! Per-connection state. `Client` lives on its io-thread; `ClientMeta` is the
//! part other threads may read (CLIENT LIST) or poke (CLIENT KILL).

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use ringkv_engine::keyspace::WatchFlag;
use ringkv_uring_io::ConnId;

/// What other threads can see of a client.
#[derive(Debug)]
pub struct ClientMeta {
    pub id: u64,
    pub thread: usize,
    pub conn: ConnId,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub created_ms: u64,
    pub name: Mutex<Vec<u8>>,
    pub lib_name: Mutex<Vec<u8>>,
    pub lib_ver: Mutex<Vec<u8>>,
    pub db: AtomicUsize,
    pub resp: AtomicU8,
    pub last_interaction_ms: AtomicU64,
    /// Index in the command table of the last command run (`usize::MAX`:
    /// none yet); an atomic so the command path takes no lock for it.
    pub last_cmd: AtomicUsize,
    /// Set by CLIENT KILL from any thread; the owning loop closes the connection.
    pub kill: AtomicBool,
    pub in_multi: AtomicBool,
    pub blocked: AtomicBool,
}

impl ClientMeta {
    pub fn name(&self) -> Vec<u8> {
        self.name.lock().clone()
    }

    /// One line of CLIENT LIST / CLIENT INFO, in Redis 7.0's field order.
    pub fn list_line(&self, now_ms: u64) -> String {
        let age = now_ms.saturating_sub(self.created_ms) / 1000;
        let idle = now_ms.saturating_sub(self.last_interaction_ms.load(Ordering::Relaxed)) / 1000;
        let mut flags = String::new();
        if self.in_multi.load(Ordering::Relaxed) {
            flags.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            flags.push('b');
        }
        if flags.is_empty() {
            flags.push('N');
        }
        let multi = if self.in_multi.load(Ordering::Relaxed) {
            0
        } else {
            -1
        };
        format!(
            "id={} addr={} laddr={} fd={} name={} age={} idle={} flags={} db={} sub=0 psub=0 ssub=0 multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd={} user=default redir=-1 resp={}",
            self.id,
            self.addr,
            self.laddr,
            self.fd,
            String::from_utf8_lossy(&self.name.lock()),
            age,
            idle,
            flags,
            self.db.load(Ordering::Relaxed),
            multi,
            crate::dispatch::command_name(self.last_cmd.load(Ordering::Relaxed)),
            self.resp.load(Ordering::Relaxed),
        )
    }
}

/// Commands queued between MULTI and EXEC.
#[derive(Debug, Default)]
pub struct MultiState {
    pub queued: Vec<Vec<Vec<u8>>>,
    /// A command failed to queue (unknown, arity …): EXEC must abort.
    pub errored: bool,
}

/// Keys this client WATCHes and the flag writers set.
#[derive(Debug, Default)]
pub struct WatchState {
    pub flag: WatchFlag,
    pub keys: Vec<(usize, Vec<u8>)>,
}

impl WatchState {
    pub fn is_dirty(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
}

/// A client parked by a blocking command.
#[derive(Debug, Clone)]
pub struct BlockedState {
    /// Absolute deadline in Unix ms; 0 = forever.
    pub deadline_ms: u64,
}

/// Thread-local connection state.
#[derive(Debug)]
pub struct Client {
    pub meta: Arc<ClientMeta>,
    pub db: usize,
    pub authenticated: bool,
    pub multi: Option<MultiState>,
    pub watch: WatchState,
    pub blocked: Option<BlockedState>,
    /// Reply then close (QUIT, protocol error).
    pub close_after_reply: bool,
}

impl Client {
    pub fn new(meta: Arc<ClientMeta>, needs_auth: bool) -> Client {
        Client {
            meta,
            db: 0,
            authenticated: !needs_auth,
            multi: None,
            watch: WatchState::default(),
            blocked: None,
            close_after_reply: false,
        }
    }

    pub fn id(&self) -> u64 {
        self.meta.id
    }

    pub fn set_db(&mut self, db: usize) {
        self.db = db;
        self.meta.db.store(db, Ordering::Relaxed);
    }
}

//! ringkv-uring-io owns the machinery that talks to the kernel: the per-thread
//! socket event loops (io_uring, with an epoll fallback when io_uring cannot
//! be set up), and (issue 5) the group-commit log writer and file operations.
//!
//! It must not know what a key, a command or RESP is: connections carry opaque
//! bytes, and the log writer carries opaque records. Unsafe code lives here,
//! in small functions, each with a `// SAFETY:` line.

pub mod backend;
pub mod log;
pub mod net;

pub use backend::{BackendChoice, BackendKind};
pub use log::{
    GroupCommitLog, GroupTrailer, LogConfig, LogDisk, LogError, LogStats, Lsn, SimDisk, SyncMethod,
    SyncPolicy, SYNC_OVERLAP_DEFAULT,
};
pub use net::{ConnId, ConnInfo, ConnIo, ConnSet, Handler, LoopConfig, Waker};

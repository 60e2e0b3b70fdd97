//! ringkv-engine owns the data: the slotted keyspace, the value types and
//! their compact encodings, the semantics of every data command, and (as they
//! arrive) the RDB/AOF formats and the snapshot and persistence policy.
//!
//! It is sans-I/O with respect to clients: a command comes in as a slice of
//! argument byte strings and its reply goes out through a [`reply::ReplyWriter`].
//! It must not know about sockets, connections, event loops or config files;
//! the server crate owns those. The only I/O it does is on persistence files.

pub mod aof;
pub mod clock;
pub mod cmd;
pub mod command;
pub mod exec;
pub mod expire;
pub mod glob;
pub mod keyspace;
pub mod rdb;
pub mod reply;
pub mod slot;
pub mod snapshot;
pub mod stats;
#[cfg(test)]
pub(crate) mod test_support;
pub mod types;
pub mod util;
pub mod value;

pub use command::{CommandFlags, CommandSpec, EngineFn};
pub use exec::ExecCtx;
pub use keyspace::Keyspace;
pub use reply::ReplyWriter;
pub use value::{ByteStr, Value};

//! Server-level commands: those that need the connection or server state
//! rather than just the keyspace. One module per Redis command group.

use ringkv_engine::command::{spec, CommandFlags as F};

use crate::dispatch::{Command, Exec};

pub mod aof;
pub mod client;
pub mod compat;
pub mod connection;
pub mod introspection;
pub mod observability;
pub mod server;
pub mod snapshot;
pub mod transaction;

const RO_FAST: F = F::READONLY.union(F::FAST);
const CONN: F = F::NOSCRIPT.union(F::LOADING).union(F::STALE).union(F::FAST);
const ADMIN: F = F::ADMIN
    .union(F::NOSCRIPT)
    .union(F::LOADING)
    .union(F::STALE);

/// Every server-level command.
pub fn all() -> Vec<Command> {
    use Exec::Server as S;
    vec![
        spec(
            "ping",
            -1,
            F::FAST.union(F::STALE),
            0,
            0,
            0,
            "connection",
            "Returns the server's liveliness response.",
            "1.0.0",
            S(connection::ping),
        ),
        spec(
            "echo",
            2,
            F::FAST.union(F::LOADING).union(F::STALE),
            0,
            0,
            0,
            "connection",
            "Returns the given string.",
            "1.0.0",
            S(connection::echo),
        ),
        spec(
            "quit",
            -1,
            CONN.union(F::NO_AUTH).union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "connection",
            "Closes the connection.",
            "1.0.0",
            S(connection::quit),
        ),
        spec(
            "reset",
            1,
            CONN.union(F::NO_AUTH).union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "connection",
            "Resets the connection.",
            "6.2.0",
            S(connection::reset),
        ),
        spec(
            "hello",
            -1,
            CONN.union(F::NO_AUTH).union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "connection",
            "Handshakes with the Redis server.",
            "6.0.0",
            S(connection::hello),
        ),
        spec(
            "auth",
            -2,
            CONN.union(F::NO_AUTH).union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "connection",
            "Authenticates the connection.",
            "1.0.0",
            S(connection::auth),
        ),
        spec(
            "select",
            2,
            F::LOADING.union(F::STALE).union(F::FAST),
            0,
            0,
            0,
            "connection",
            "Changes the selected database.",
            "1.0.0",
            S(connection::select),
        ),
        spec(
            "client",
            -2,
            F::NOSCRIPT.union(F::LOADING).union(F::STALE),
            0,
            0,
            0,
            "connection",
            "A container for client connection commands.",
            "2.4.0",
            S(client::client),
        ),
        spec(
            "multi",
            1,
            F::NOSCRIPT
                .union(F::LOADING)
                .union(F::STALE)
                .union(F::FAST)
                .union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "transactions",
            "Starts a transaction.",
            "1.2.0",
            S(transaction::multi),
        ),
        spec(
            "exec",
            1,
            F::NOSCRIPT.union(F::LOADING).union(F::STALE),
            0,
            0,
            0,
            "transactions",
            "Executes all commands in a transaction.",
            "1.2.0",
            S(transaction::exec),
        ),
        spec(
            "discard",
            1,
            F::NOSCRIPT
                .union(F::LOADING)
                .union(F::STALE)
                .union(F::FAST)
                .union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "transactions",
            "Discards a transaction.",
            "2.0.0",
            S(transaction::discard),
        ),
        spec(
            "watch",
            -2,
            F::NOSCRIPT
                .union(F::LOADING)
                .union(F::STALE)
                .union(F::FAST)
                .union(F::ALLOW_BUSY),
            1,
            -1,
            1,
            "transactions",
            "Monitors changes to keys to determine the execution of a transaction.",
            "2.2.0",
            S(transaction::watch),
        ),
        spec(
            "unwatch",
            1,
            F::NOSCRIPT
                .union(F::LOADING)
                .union(F::STALE)
                .union(F::FAST)
                .union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "transactions",
            "Forgets about watched keys of a transaction.",
            "2.2.0",
            S(transaction::unwatch),
        ),
        spec(
            "info",
            -1,
            F::LOADING.union(F::STALE).union(F::GLOBAL),
            0,
            0,
            0,
            "server",
            "Returns information and statistics about the server.",
            "1.0.0",
            S(server::info),
        ),
        spec(
            "config",
            -2,
            ADMIN,
            0,
            0,
            0,
            "server",
            "A container for server configuration commands.",
            "2.0.0",
            S(server::config),
        ),
        spec(
            "time",
            1,
            F::LOADING.union(F::STALE).union(F::FAST),
            0,
            0,
            0,
            "server",
            "Returns the server time.",
            "2.6.0",
            S(server::time),
        ),
        spec(
            "debug",
            -2,
            ADMIN.union(F::NOSCRIPT),
            0,
            0,
            0,
            "server",
            "A container for debugging commands.",
            "1.0.0",
            S(server::debug),
        ),
        spec(
            "shutdown",
            -1,
            ADMIN.union(F::NO_MULTI).union(F::ALLOW_BUSY),
            0,
            0,
            0,
            "server",
            "Synchronously saves the database(s) to disk and shuts down the Redis server.",
            "1.0.0",
            S(server::shutdown),
        ),
        spec(
            "save",
            1,
            F::ADMIN.union(F::NOSCRIPT).union(F::NO_MULTI),
            0,
            0,
            0,
            "server",
            "Synchronously saves the database(s) to disk.",
            "1.0.0",
            S(snapshot::save),
        ),
        spec(
            "bgsave",
            -1,
            F::ADMIN.union(F::NOSCRIPT),
            0,
            0,
            0,
            "server",
            "Asynchronously saves the database(s) to disk.",
            "1.0.0",
            S(snapshot::bgsave),
        ),
        spec(
            "lastsave",
            1,
            F::LOADING.union(F::STALE).union(F::FAST),
            0,
            0,
            0,
            "server",
            "Returns the Unix timestamp of the last successful save to disk.",
            "1.0.0",
            S(snapshot::lastsave),
        ),
        spec(
            "command",
            -1,
            F::LOADING.union(F::STALE),
            0,
            0,
            0,
            "server",
            "Returns detailed information about all commands.",
            "2.8.13",
            S(introspection::command),
        ),
        spec(
            "slowlog",
            -2,
            ADMIN,
            0,
            0,
            0,
            "server",
            "A container for slow log commands.",
            "2.2.12",
            S(observability::slowlog),
        ),
        spec(
            "latency",
            -2,
            ADMIN,
            0,
            0,
            0,
            "server",
            "A container for latency diagnostics commands.",
            "2.8.13",
            S(observability::latency),
        ),
        spec(
            "lolwut",
            -1,
            RO_FAST,
            0,
            0,
            0,
            "server",
            "Displays computer art and the Redis version",
            "5.0.0",
            S(server::lolwut),
        ),
    ]
}

//! Redis 7.0's container commands (CONFIG, CLIENT, OBJECT …): their
//! subcommands and each one's arity, as `COMMAND INFO` of redis-server
//! 7.0 lists them. The dispatcher checks them before running or queueing a
//! command, as Redis's `processCommand` does, so that inside MULTI an
//! unknown subcommand or a wrong argument count is refused at once and
//! dooms EXEC. A subcommand known here but not implemented by ringkv is
//! still queued, and its handler answers with its own error.

/// (subcommand, arity): arity as in the command table (negative = at least).
type Subcommands = &'static [(&'static str, i32)];

const CONFIG: Subcommands = &[
    ("get", -3),
    ("set", -4),
    ("resetstat", 2),
    ("rewrite", 2),
    ("help", 2),
];
const CLIENT: Subcommands = &[
    ("caching", 3),
    ("getname", 2),
    ("getredir", 2),
    ("help", 2),
    ("id", 2),
    ("info", 2),
    ("kill", -3),
    ("list", -2),
    ("no-evict", 3),
    ("pause", -3),
    ("reply", 3),
    ("setinfo", 4),
    ("setname", 3),
    ("tracking", -3),
    ("trackinginfo", 2),
    ("unblock", -3),
    ("unpause", 2),
];
const COMMAND: Subcommands = &[
    ("count", 2),
    ("docs", -2),
    ("getkeys", -4),
    ("getkeysandflags", -4),
    ("help", 2),
    ("info", -2),
    ("list", -2),
];
const OBJECT: Subcommands = &[
    ("encoding", 3),
    ("freq", 3),
    ("help", 2),
    ("idletime", 3),
    ("refcount", 3),
];
const SLOWLOG: Subcommands = &[("get", -2), ("help", 2), ("len", 2), ("reset", 2)];
const LATENCY: Subcommands = &[
    ("doctor", 2),
    ("graph", 3),
    ("help", 2),
    ("histogram", -2),
    ("history", 3),
    ("latest", 2),
    ("reset", -2),
];
const MEMORY: Subcommands = &[
    ("doctor", 2),
    ("help", 2),
    ("malloc-stats", 2),
    ("purge", 2),
    ("stats", 2),
    ("usage", -3),
];

/// The subcommands of `command` (lower case) if it is a container.
pub fn of(command: &str) -> Option<Subcommands> {
    Some(match command {
        "config" => CONFIG,
        "client" => CLIENT,
        "command" => COMMAND,
        "object" => OBJECT,
        "slowlog" => SLOWLOG,
        "latency" => LATENCY,
        "memory" => MEMORY,
        _ => return None,
    })
}

/// Checks `args` (command name first) against its container's table:
/// `Err` carries Redis's error text for an unknown subcommand or a wrong
/// argument count. Commands that are not containers always pass.
pub fn check(command: &str, args: &[&[u8]]) -> Result<(), String> {
    let (Some(subs), Some(sub)) = (of(command), args.get(1)) else {
        return Ok(());
    };
    let Some((name, arity)) = subs
        .iter()
        .find(|(n, _)| sub.eq_ignore_ascii_case(n.as_bytes()))
    else {
        let given: String = String::from_utf8_lossy(sub).chars().take(128).collect();
        return Err(format!(
            "ERR unknown subcommand '{given}'. Try {} HELP.",
            command.to_ascii_uppercase()
        ));
    };
    let argc = args.len() as i32;
    let ok = if *arity >= 0 {
        argc == *arity
    } else {
        argc >= -arity
    };
    if ok {
        Ok(())
    } else {
        Err(crate::dispatch::arity_error(&format!("{command}|{name}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_errors_for_unknown_subcommands_and_arity() {
        assert_eq!(check("get", &[b"GET", b"k"]), Ok(()));
        assert_eq!(check("config", &[b"CONFIG", b"Get", b"port"]), Ok(()));
        assert_eq!(
            check("client", &[b"client", b"foo"]),
            Err("ERR unknown subcommand 'foo'. Try CLIENT HELP.".into())
        );
        assert_eq!(
            check("config", &[b"CONFIG", b"GET"]),
            Err("ERR wrong number of arguments for 'config|get' command".into())
        );
        assert_eq!(
            check("object", &[b"OBJECT", b"encoding", b"a", b"b"]),
            Err("ERR wrong number of arguments for 'object|encoding' command".into())
        );
    }
}

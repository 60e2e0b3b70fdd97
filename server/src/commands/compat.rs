//! The command-compatibility table in the README, generated from the
//! command table so it cannot drift from the code.

use crate::dispatch::table;

/// Every top-level command of Redis 7.0.15 (`COMMAND LIST` on Debian's build).
const REDIS_70_COMMANDS: &str = include_str!("redis-7.0.15-commands.txt");

/// A Markdown table: each Redis 7.0 command and whether ringkv serves it.
pub fn compatibility_markdown() -> String {
    let t = table();
    let mut rows: Vec<(&str, bool)> = REDIS_70_COMMANDS
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|name| (name, t.lookup(name.as_bytes()).is_some()))
        .collect();
    rows.sort();
    let supported = rows.iter().filter(|(_, s)| *s).count();
    let mut out = format!(
        "{supported} of Redis 7.0's {} commands are served.\n\n| Command | ringkv |\n|---|---|\n",
        rows.len()
    );
    for (name, ok) in rows {
        out.push_str(&format!(
            "| `{}` | {} |\n",
            name.to_ascii_uppercase(),
            if ok { "supported" } else { "not yet" }
        ));
    }
    out
}

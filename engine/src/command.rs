//! Command metadata: name, arity, flags and key positions, as Redis's command
//! table describes them. The same table drives dispatch, slot locking (keys
//! tell which slots to lock), `COMMAND`/`COMMAND INFO`/`COMMAND DOCS` replies
//! and the compatibility table in the README.

use smallvec::SmallVec;

use crate::exec::ExecCtx;

/// A data command's implementation: arguments include the command name at
/// index 0 and have passed the arity check.
pub type EngineFn = fn(&mut ExecCtx<'_>, &[&[u8]]);

/// Positions of the key arguments in a command's argument list.
pub type KeyPositions = SmallVec<[usize; 8]>;

/// Finds key positions for commands whose keys move (`ZUNIONSTORE dst 2 a b`).
pub type MovableKeysFn = fn(&[&[u8]]) -> KeyPositions;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CommandFlags(u32);

impl CommandFlags {
    pub const NONE: CommandFlags = CommandFlags(0);
    pub const WRITE: CommandFlags = CommandFlags(1);
    pub const READONLY: CommandFlags = CommandFlags(1 << 1);
    pub const DENYOOM: CommandFlags = CommandFlags(1 << 2);
    pub const FAST: CommandFlags = CommandFlags(1 << 3);
    pub const ADMIN: CommandFlags = CommandFlags(1 << 4);
    pub const NOSCRIPT: CommandFlags = CommandFlags(1 << 5);
    pub const LOADING: CommandFlags = CommandFlags(1 << 6);
    pub const STALE: CommandFlags = CommandFlags(1 << 7);
    pub const BLOCKING: CommandFlags = CommandFlags(1 << 8);
    pub const NO_MULTI: CommandFlags = CommandFlags(1 << 9);
    pub const PUBSUB: CommandFlags = CommandFlags(1 << 10);
    pub const NO_AUTH: CommandFlags = CommandFlags(1 << 11);
    pub const ALLOW_BUSY: CommandFlags = CommandFlags(1 << 12);
    /// ringkv: the command spans the whole keyspace and does its own locking
    /// (or, inside EXEC, runs with every slot already locked).
    pub const GLOBAL: CommandFlags = CommandFlags(1 << 20);

    pub const fn union(self, other: CommandFlags) -> CommandFlags {
        CommandFlags(self.0 | other.0)
    }
    pub const fn contains(self, other: CommandFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Redis's flag names for `COMMAND` replies.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        const NAMES: [(CommandFlags, &str); 13] = [
            (CommandFlags::WRITE, "write"),
            (CommandFlags::READONLY, "readonly"),
            (CommandFlags::DENYOOM, "denyoom"),
            (CommandFlags::ADMIN, "admin"),
            (CommandFlags::PUBSUB, "pubsub"),
            (CommandFlags::NOSCRIPT, "noscript"),
            (CommandFlags::BLOCKING, "blocking"),
            (CommandFlags::LOADING, "loading"),
            (CommandFlags::STALE, "stale"),
            (CommandFlags::NO_MULTI, "no_multi"),
            (CommandFlags::NO_AUTH, "no_auth"),
            (CommandFlags::ALLOW_BUSY, "allow_busy"),
            (CommandFlags::FAST, "fast"),
        ];
        NAMES
            .into_iter()
            .filter(move |(f, _)| self.contains(*f))
            .map(|(_, n)| n)
    }
}

impl std::ops::BitOr for CommandFlags {
    type Output = CommandFlags;
    fn bitor(self, rhs: CommandFlags) -> CommandFlags {
        self.union(rhs)
    }
}

/// One entry of a command table. `F` is the handler type: engine commands
/// use [`EngineFn`]; the server wraps its own connection-level handlers.
#[derive(Debug, Clone, Copy)]
pub struct CommandSpec<F> {
    /// Lower-case name.
    pub name: &'static str,
    /// Redis arity: exact count if positive, minimum count if negative (name included).
    pub arity: i32,
    pub flags: CommandFlags,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub movable_keys: Option<MovableKeysFn>,
    /// Redis's command group (`string`, `generic`, `hash` …), for COMMAND DOCS.
    pub group: &'static str,
    pub summary: &'static str,
    pub since: &'static str,
    pub handler: F,
}

impl<F> CommandSpec<F> {
    /// True if `argc` (command name included) satisfies the arity.
    pub fn arity_ok(&self, argc: usize) -> bool {
        let argc = argc as i32;
        if self.arity >= 0 {
            argc == self.arity
        } else {
            argc >= -self.arity
        }
    }

    pub fn is_write(&self) -> bool {
        self.flags.contains(CommandFlags::WRITE)
    }

    /// Indexes of the key arguments in `args`.
    pub fn key_positions(&self, args: &[&[u8]]) -> KeyPositions {
        if let Some(f) = self.movable_keys {
            return f(args);
        }
        let mut out = KeyPositions::new();
        if self.first_key <= 0 {
            return out;
        }
        let argc = args.len() as i32;
        let last = if self.last_key < 0 {
            argc + self.last_key
        } else {
            self.last_key.min(argc - 1)
        };
        let step = self.step.max(1);
        let mut i = self.first_key;
        while i <= last && i < argc {
            out.push(i as usize);
            i += step;
        }
        out
    }
}

/// Shorthand for building table entries.
#[allow(clippy::too_many_arguments)]
pub const fn spec<F>(
    name: &'static str,
    arity: i32,
    flags: CommandFlags,
    first_key: i32,
    last_key: i32,
    step: i32,
    group: &'static str,
    summary: &'static str,
    since: &'static str,
    handler: F,
) -> CommandSpec<F> {
    CommandSpec {
        name,
        arity,
        flags,
        first_key,
        last_key,
        step,
        movable_keys: None,
        group,
        summary,
        since,
        handler,
    }
}

/// Lower-cases a command name into `buf` without allocating; `None` if too long
/// to be any known command.
pub fn lowercase_name<'b>(name: &[u8], buf: &'b mut [u8; 32]) -> Option<&'b str> {
    if name.len() > buf.len() {
        return None;
    }
    for (d, s) in buf.iter_mut().zip(name) {
        *d = s.to_ascii_lowercase();
    }
    std::str::from_utf8(&buf[..name.len()]).ok()
}

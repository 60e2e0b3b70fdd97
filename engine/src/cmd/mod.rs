//! Data commands, one module per Redis command group. Each module exposes
//! `COMMANDS`, its slice of the command table; [`all`] joins them.

use crate::command::{CommandSpec, EngineFn};

pub mod coll;
pub mod hashes;
pub mod keys;
pub mod lists;
pub mod sets;
pub mod strings;
pub mod zsets;

/// Every data command ringkv implements.
pub fn all() -> impl Iterator<Item = &'static CommandSpec<EngineFn>> {
    strings::COMMANDS
        .iter()
        .chain(keys::COMMANDS)
        .chain(hashes::COMMANDS)
        .chain(lists::COMMANDS)
        .chain(sets::COMMANDS)
        .chain(zsets::COMMANDS)
}

/// Parses an integer argument the way Redis's `getLongLongFromObject` does.
pub fn parse_i64(arg: &[u8]) -> Option<i64> {
    crate::util::parse_canonical_i64(arg)
}

//! zsets commands (issue 3).

use crate::command::{CommandSpec, EngineFn};

pub static COMMANDS: &[CommandSpec<EngineFn>] = &[];

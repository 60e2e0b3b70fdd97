//! redis.conf parsing and the runtime configuration (CONFIG GET/SET/REWRITE).
//!
//! `ringkv serve [CONFIG-FILE] [--directive value ...]` loads like
//! `redis-server`: the file (or stdin for `-`) first, then each `--name`
//! argument as one more configuration line, through the same parser
//! ([`Config::from_args`]). Every Redis 7.0 parameter is in the directive
//! table ([`DIRECTIVES`]) with Redis's type, bounds and default, so an
//! existing redis.conf loads; parameters ringkv does not act on are stored,
//! shown by CONFIG GET, and reported in [`Config::load_warnings`] when set to
//! a non-default value. Unknown names and bad values are errors naming the
//! file and line, in Redis's words.
//!
//! At run time the server keeps the [`Config`] in an
//! `Arc<parking_lot::RwLock<Config>>`. Hot paths read the typed
//! [`Settings`] fields through `Deref` (`config.read().maxclients`);
//! CONFIG GET uses [`Config::get`], CONFIG SET [`Config::set`] (atomic over
//! all pairs, returns what changed so the server can apply it, and
//! [`Config::rollback`] if applying fails), CONFIG REWRITE
//! [`Config::rewrite`].

mod glob;
mod load;
mod rewrite;
mod settings;
mod split;
mod table;
mod units;
mod value;

use std::collections::HashSet;
use std::ops::Deref;
use std::path::{Path, PathBuf};

pub use rewrite::RewriteError;
pub use settings::{
    AofFsyncMode, AppendFsync, IoBackend, LogLevel, MaxmemoryPolicy, ProtectedAction, Settings,
    SnapshotMode,
};
pub use split::{quote_arg, split_args, UnbalancedQuotes};
pub use table::{compatibility_table_markdown, lookup, Directive, Kind, DIRECTIVES};
pub use units::{format_memory, parse_memory, parse_strict_i64, parse_yes_no};
pub use value::{
    notify, notify_keyspace_events_string, ClientClass, ClientOutputBufferLimit, SaveParam, Value,
};

/// A configuration that could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A line of a file (or of the command line) is wrong. `location` is
    /// `path:line`, or `command line:N` for the N-th `--directive`.
    #[error("{location}: {reason}\n>>> '{text}'")]
    Directive {
        location: String,
        text: String,
        reason: String,
    },
    /// The configuration file itself cannot be read.
    #[error("Fatal error, can't open config file '{path}': {reason}")]
    Open { path: String, reason: String },
}

/// A refused CONFIG SET. `Display` is the whole error reply, `ERR`
/// included, as Redis words it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SetError {
    pub message: String,
}

impl SetError {
    fn related(argument: &str, reason: &str) -> SetError {
        SetError {
            message: format!(
                "ERR CONFIG SET failed (possibly related to argument '{argument}') - {reason}"
            ),
        }
    }

    /// For the server when applying an accepted value fails (a port that
    /// cannot be bound, …): same wording as a refused value.
    pub fn apply_failed(argument: &str, reason: &str) -> SetError {
        SetError::related(argument, reason)
    }
}

/// What a successful CONFIG SET changed.
#[derive(Debug, Clone, PartialEq)]
#[must_use = "the server must apply the changed parameters"]
pub struct SetOutcome {
    /// Canonical names whose value is now different, in argument order.
    pub changed: Vec<&'static str>,
    previous: Vec<(usize, Value)>,
}

/// The configuration: every directive's value, the typed [`Settings`] view
/// of them, and what loading learned.
#[derive(Debug, Clone)]
pub struct Config {
    values: Vec<Value>,
    defaults: Vec<Value>,
    settings: Settings,
    rename_commands: Vec<(String, String)>,
    /// `user ...` and `loadmodule ...` lines, kept verbatim (split).
    unsupported_lines: Vec<Vec<String>>,
    config_file: Option<PathBuf>,
    load_warnings: Vec<String>,
}

impl Deref for Config {
    type Target = Settings;

    fn deref(&self) -> &Settings {
        &self.settings
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::new()
    }
}

impl Config {
    /// Redis 7.0's defaults with ringkv's changes: loopback `bind`,
    /// `io-threads` = number of cores, `dir` = the current directory.
    pub fn new() -> Config {
        let mut values = Vec::with_capacity(DIRECTIVES.len());
        for directive in DIRECTIVES {
            if matches!(directive.kind, Kind::Dir) {
                // Computed below; the current directory is the default.
                values.push(Value::Str(String::new()));
                continue;
            }
            let args = default_args(directive);
            let parsed = value::parse(directive, &args, &Value::Bool(false), false);
            debug_assert!(
                parsed.is_ok(),
                "default of {} does not parse",
                directive.name
            );
            values.push(parsed.unwrap_or(Value::Bool(false)));
        }
        let cwd = std::env::current_dir()
            .ok()
            .and_then(|dir| dir.into_os_string().into_string().ok())
            .unwrap_or_else(|| ".".to_string());
        values[table::index_of("dir")] = Value::Str(cwd);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        values[table::index_of("io-threads")] = Value::Number(cores.clamp(1, 128) as i128);
        let settings = Settings::from_values(&values, &[]);
        Config {
            defaults: values.clone(),
            values,
            settings,
            rename_commands: Vec::new(),
            unsupported_lines: Vec::new(),
            config_file: None,
            load_warnings: Vec::new(),
        }
    }

    /// The typed view (also reachable through `Deref`).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The absolute path of the configuration file given on the command
    /// line, which CONFIG REWRITE rewrites; `None` when there was none
    /// (Redis then answers "ERR The server is running without a config
    /// file").
    pub fn config_file(&self) -> Option<&Path> {
        self.config_file.as_deref()
    }

    /// Things loading accepted but ringkv ignores, one message each, for the
    /// server to log.
    pub fn load_warnings(&self) -> &[String] {
        &self.load_warnings
    }

    /// `user` and `loadmodule` lines, which ringkv accepts but does not act
    /// on, as split arguments (directive name first).
    pub fn unsupported_lines(&self) -> &[Vec<String>] {
        &self.unsupported_lines
    }

    /// The value of one parameter as CONFIG GET prints it, by name or alias
    /// (any case).
    pub fn get_one(&self, name: &str) -> Option<String> {
        table::lookup(name).map(|(index, directive)| value::display(directive, &self.values[index]))
    }

    /// CONFIG GET with one or more patterns: `(name, value)` pairs, each
    /// name at most once. A plain name (no `*?[`) is looked up in any case
    /// and answered under the name as given, hidden parameters included; a
    /// pattern matches canonical names and aliases case-sensitively, as
    /// Redis 7.0 does.
    pub fn get(&self, patterns: &[&[u8]]) -> Vec<(String, String)> {
        let mut reply = Vec::new();
        let mut seen = HashSet::new();
        for pattern in patterns {
            if !glob::is_pattern(pattern) {
                let Ok(name) = std::str::from_utf8(pattern) else {
                    continue;
                };
                if seen.contains(name) {
                    continue;
                }
                if let Some((index, directive)) = table::lookup(name) {
                    seen.insert(name.to_string());
                    reply.push((
                        name.to_string(),
                        value::display(directive, &self.values[index]),
                    ));
                }
                continue;
            }
            for (index, directive) in DIRECTIVES.iter().enumerate() {
                if directive.is_hidden() {
                    continue;
                }
                for name in std::iter::once(directive.name).chain(directive.alias) {
                    if !seen.contains(name) && glob::glob_match(pattern, name.as_bytes(), false) {
                        seen.insert(name.to_string());
                        reply.push((
                            name.to_string(),
                            value::display(directive, &self.values[index]),
                        ));
                    }
                }
            }
        }
        reply
    }

    /// CONFIG SET with one or more `(name, value)` pairs, all or nothing.
    /// `client_is_local` decides protected parameters (`dir`, `dbfilename`)
    /// when `enable-protected-configs` is `local`. Multi-argument
    /// parameters split their value on single spaces, as Redis does.
    pub fn set(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        client_is_local: bool,
    ) -> Result<SetOutcome, SetError> {
        let targets = self.check_set_targets(pairs, client_is_local)?;
        let previous: Vec<(usize, Value)> = targets
            .iter()
            .map(|&index| (index, self.values[index].clone()))
            .collect();
        for (&index, (name, new_value)) in targets.iter().zip(pairs) {
            let argument = String::from_utf8_lossy(name);
            let parsed = std::str::from_utf8(new_value)
                .map_err(|_| "argument must be valid UTF-8".to_string())
                .and_then(|text| {
                    let directive = &DIRECTIVES[index];
                    let args: Vec<&str> = if !directive.is_multi_arg() {
                        vec![text]
                    } else if text.is_empty() {
                        Vec::new()
                    } else {
                        text.split(' ').collect()
                    };
                    value::parse(directive, &args, &self.values[index], false)
                });
            match parsed {
                Ok(parsed) => self.values[index] = normalize(index, parsed),
                Err(reason) => {
                    for (index, old) in previous {
                        self.values[index] = old;
                    }
                    return Err(SetError::related(&argument, &reason));
                }
            }
        }
        let mut changed = Vec::new();
        for (index, old) in &previous {
            if self.values[*index] != *old && !changed.contains(&DIRECTIVES[*index].name) {
                changed.push(DIRECTIVES[*index].name);
            }
        }
        self.refresh_settings();
        Ok(SetOutcome { changed, previous })
    }

    /// Puts back the values a [`Config::set`] replaced, for when the server
    /// could not apply them.
    pub fn rollback(&mut self, outcome: SetOutcome) {
        for (index, old) in outcome.previous.into_iter().rev() {
            self.values[index] = old;
        }
        self.refresh_settings();
    }

    /// Writes the configuration back to `path` as CONFIG REWRITE does:
    /// comments, unknown-to-rewrite lines (`include`, `rename-command`) and
    /// the order of the file are kept, changed directives are replaced in
    /// place, new non-default ones appended, surplus lines blanked. The file
    /// is replaced atomically (temporary file, fsync, rename).
    pub fn rewrite(&self, path: &Path) -> Result<(), RewriteError> {
        rewrite::rewrite_file(self, path)
    }

    fn check_set_targets(
        &self,
        pairs: &[(&[u8], &[u8])],
        client_is_local: bool,
    ) -> Result<Vec<usize>, SetError> {
        let protected_allowed = self
            .settings
            .enable_protected_configs
            .allows(client_is_local);
        let mut targets: Vec<usize> = Vec::with_capacity(pairs.len());
        for (name, _) in pairs {
            let argument = String::from_utf8_lossy(name);
            let Some((index, directive)) = table::lookup(&argument) else {
                return Err(SetError {
                    message: format!(
                        "ERR Unknown option or number of arguments for CONFIG SET - '{argument}'"
                    ),
                });
            };
            if !directive.is_mutable() {
                return Err(SetError::related(&argument, "can't set immutable config"));
            }
            if directive.is_protected() && !protected_allowed {
                return Err(SetError::related(&argument, "can't set protected config"));
            }
            if targets.contains(&index) {
                return Err(SetError::related(&argument, "duplicate parameter"));
            }
            targets.push(index);
        }
        Ok(targets)
    }

    fn refresh_settings(&mut self) {
        self.settings = Settings::from_values(&self.values, &self.rename_commands);
    }

    fn directive_value(&self, index: usize) -> &Value {
        &self.values[index]
    }

    fn default_value(&self, index: usize) -> &Value {
        &self.defaults[index]
    }
}

/// A default written CONFIG SET style, split into arguments.
fn default_args(directive: &Directive) -> Vec<&'static str> {
    if !directive.is_multi_arg() {
        vec![directive.default]
    } else if directive.default.is_empty() {
        Vec::new()
    } else {
        directive.default.split(' ').collect()
    }
}

/// Adjustments Redis makes after accepting a value: `hz` is clamped to
/// 1..=500.
fn normalize(index: usize, value: Value) -> Value {
    const HZ_MIN: i128 = 1;
    const HZ_MAX: i128 = 500;
    match value {
        Value::Number(hz) if DIRECTIVES[index].name == "hz" => {
            Value::Number(hz.clamp(HZ_MIN, HZ_MAX))
        }
        other => other,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;

//! Loading: the configuration file, `include`d files, stdin, and the
//! `--directive value` command-line arguments, all through one line parser.
//!
//! Redis turns the command line into configuration text (`--save ""`
//! becomes the line `save ""`) and parses it with the file's parser; doing
//! the same here is what makes `--save ""` disable snapshots and
//! `--save 900 1` add a rule after the file's. Include loops, which crash
//! Redis with a stack overflow, are refused with the line that closes the
//! loop.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::glob::{glob_match, is_pattern};
use super::split::{quote_arg, split_args};
use super::table::{self, DEPRECATED};
use super::value::{self, os_error_text};
use super::{normalize, Config, ConfigError};

/// How deep `include` may nest; deeper is surely a mistake.
const INCLUDE_DEPTH_MAX: usize = 16;

/// Where configuration text came from, for error messages.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    File(PathBuf),
    Stdin,
    CommandLine,
}

impl Origin {
    fn location(&self, line: usize) -> String {
        match self {
            Origin::File(path) => format!("{}:{line}", path.display()),
            Origin::Stdin => format!("(stdin):{line}"),
            Origin::CommandLine => format!("command line:{line}"),
        }
    }
}

/// Why a line failed: its own fault, or an error inside a file it
/// included (which already names that file and line).
enum Failure {
    Here(String),
    Nested(ConfigError),
}

impl From<String> for Failure {
    fn from(reason: String) -> Failure {
        Failure::Here(reason)
    }
}

/// State that lives for one whole load (file, includes, stdin, command
/// line), like Redis's statics.
struct Loader<'a> {
    config: &'a mut Config,
    /// Set once a `save` line was read: the first one replaces the default
    /// rules, later ones add to them.
    save_seen: bool,
    /// Canonical paths of the files being loaded, outermost first.
    include_stack: Vec<PathBuf>,
}

impl Config {
    /// Loads `ringkv serve` arguments: an optional configuration file (`-`
    /// reads stdin) followed by `--directive [value ...]` overrides.
    pub fn from_args<S: AsRef<str>>(args: &[S]) -> Result<Config, ConfigError> {
        Config::from_args_with_stdin(args, std::io::stdin())
    }

    /// [`Config::from_args`] with the text `-` stands for supplied.
    pub fn from_args_with_stdin<S: AsRef<str>>(
        args: &[S],
        stdin: impl Read,
    ) -> Result<Config, ConfigError> {
        let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        let mut config = Config::new();
        let mut rest = &args[..];
        let mut read_stdin = false;
        let mut config_file = None;
        if let Some(first) = rest.first() {
            if *first == "-" {
                read_stdin = true;
                rest = &rest[1..];
            } else if !first.starts_with('-') {
                config_file = Some(PathBuf::from(first));
                rest = &rest[1..];
            }
        }
        if rest.last() == Some(&"-") {
            read_stdin = true;
            rest = &rest[..rest.len() - 1];
        }
        let options = command_line_to_text(rest);

        let mut loader = Loader {
            config: &mut config,
            save_seen: false,
            include_stack: Vec::new(),
        };
        if let Some(path) = &config_file {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            loader.config.config_file = Some(absolute);
            let text = std::fs::read(path).map_err(|error| ConfigError::Open {
                path: path.display().to_string(),
                reason: os_error_text(&error),
            })?;
            loader.include_stack.push(canonical_or_same(path));
            loader.load_text(&text, &Origin::File(path.clone()))?;
            loader.include_stack.pop();
        }
        if read_stdin {
            let mut text = Vec::new();
            let mut stdin = stdin;
            stdin
                .read_to_end(&mut text)
                .map_err(|error| ConfigError::Open {
                    path: "-".to_string(),
                    reason: os_error_text(&error),
                })?;
            loader.load_text(&text, &Origin::Stdin)?;
        }
        loader.load_text(options.as_bytes(), &Origin::CommandLine)?;
        config.refresh_settings();
        Ok(config)
    }

    /// Loads configuration text on top of the current values, as if it
    /// were a file named `source_name` (used by tests and tools).
    pub fn load_str(&mut self, text: &str, source_name: &str) -> Result<(), ConfigError> {
        let mut loader = Loader {
            config: self,
            save_seen: false,
            include_stack: Vec::new(),
        };
        loader.load_text(text.as_bytes(), &Origin::File(PathBuf::from(source_name)))?;
        self.refresh_settings();
        Ok(())
    }
}

/// Builds configuration text from `--name value ...` arguments exactly as
/// redis-server 7.0 does: each `--name` starts a new line, the words after
/// it are quoted onto that line, and a bare `--save` (last, or followed by
/// another `--name`) means `save ""`. Right after a bare `--name`, the next
/// word is its value even if it starts with `--`.
pub(crate) fn command_line_to_text(args: &[&str]) -> String {
    let mut text = String::new();
    let mut last_name_has_value = true;
    for (i, arg) in args.iter().enumerate() {
        if last_name_has_value && arg.starts_with("--") {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&arg[2..]);
            text.push(' ');
            let name_words = split_args(arg.as_bytes()).map_or(0, |words| words.len());
            if name_words == 1 {
                last_name_has_value = false;
                let next_is_name = args.get(i + 1).is_some_and(|next| next.starts_with("--"));
                let is_last = i + 1 == args.len();
                if arg.eq_ignore_ascii_case("--save") && (next_is_name || is_last) {
                    text.push_str("\"\"");
                    last_name_has_value = true;
                }
            } else {
                last_name_has_value = true;
            }
        } else {
            text.push_str(&quote_arg(arg.as_bytes()));
            text.push(' ');
            last_name_has_value = true;
        }
    }
    text
}

fn canonical_or_same(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Loader<'_> {
    fn load_text(&mut self, text: &[u8], origin: &Origin) -> Result<(), ConfigError> {
        for (line_index, raw_line) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim_config_line(raw_line);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let fail = |reason: String| ConfigError::Directive {
                location: origin.location(line_index + 1),
                text: String::from_utf8_lossy(line).into_owned(),
                reason,
            };
            let words = split_args(line)
                .map_err(|_| fail("Unbalanced quotes in configuration line".into()))?;
            if words.is_empty() {
                continue;
            }
            let words: Vec<String> = words
                .into_iter()
                .map(String::from_utf8)
                .collect::<Result<_, _>>()
                .map_err(|_| fail("configuration line is not valid UTF-8".into()))?;
            match self.directive(&words, origin, line_index + 1) {
                Ok(()) => {}
                Err(Failure::Here(reason)) => return Err(fail(reason)),
                Err(Failure::Nested(error)) => return Err(error),
            }
        }
        Ok(())
    }

    fn directive(&mut self, words: &[String], origin: &Origin, line: usize) -> Result<(), Failure> {
        let name = words[0].to_ascii_lowercase();
        let args: Vec<&str> = words[1..].iter().map(String::as_str).collect();
        if let Some((index, directive)) = table::lookup(&name) {
            let append_save = directive.name == "save" && self.save_seen;
            let parsed = value::parse(directive, &args, &self.config.values[index], append_save)?;
            self.config.values[index] = normalize(index, parsed);
            if directive.name == "save" {
                self.save_seen = true;
            }
            if !directive.implemented && self.config.values[index] != self.config.defaults[index] {
                self.config.load_warnings.push(format!(
                    "{}: '{}' is accepted for compatibility but has no effect in ringkv",
                    origin.location(line),
                    directive.name
                ));
            }
            return Ok(());
        }
        if DEPRECATED
            .iter()
            .any(|&(deprecated, word_count)| deprecated == name && word_count == words.len())
        {
            return Ok(());
        }
        match (name.as_str(), words.len()) {
            ("include", 2) => self.include(&words[1]),
            ("rename-command", 3) => {
                self.config
                    .rename_commands
                    .push((words[1].clone(), words[2].clone()));
                Ok(())
            }
            ("user" | "loadmodule", n) if n >= 2 => {
                self.config.load_warnings.push(format!(
                    "{}: '{name}' is not supported by ringkv and is ignored",
                    origin.location(line)
                ));
                self.config.unsupported_lines.push(words.to_vec());
                Ok(())
            }
            ("sentinel", n) if n != 1 => Err(Failure::Here(
                "sentinel directive while not in sentinel mode".into(),
            )),
            ("sentinel", _) => Ok(()),
            _ => Err(Failure::Here(
                "Bad directive or wrong number of arguments".into(),
            )),
        }
    }

    /// `include path`: relative paths resolve against the working
    /// directory, as in Redis; a glob in the last path component includes
    /// every matching file in name order (none is not an error).
    fn include(&mut self, path: &str) -> Result<(), Failure> {
        let files = if is_pattern(path.as_bytes()) {
            expand_include_glob(Path::new(path))?
        } else {
            vec![PathBuf::from(path)]
        };
        for file in files {
            if self.include_stack.len() >= INCLUDE_DEPTH_MAX {
                return Err(Failure::Here(format!(
                    "include nesting deeper than {INCLUDE_DEPTH_MAX} at '{}'",
                    file.display()
                )));
            }
            let canonical = canonical_or_same(&file);
            if self.include_stack.contains(&canonical) {
                return Err(Failure::Here(format!(
                    "include loop: '{}' is already being loaded",
                    file.display()
                )));
            }
            let text = std::fs::read(&file).map_err(|error| {
                format!(
                    "Fatal error, can't open config file '{}': {}",
                    file.display(),
                    os_error_text(&error)
                )
            })?;
            self.include_stack.push(canonical);
            let loaded = self.load_text(&text, &Origin::File(file.clone()));
            self.include_stack.pop();
            // An error inside the included file carries its own location.
            loaded.map_err(Failure::Nested)?;
        }
        Ok(())
    }
}

fn expand_include_glob(pattern: &Path) -> Result<Vec<PathBuf>, String> {
    let parent = pattern.parent().filter(|p| !p.as_os_str().is_empty());
    let file_pattern = pattern
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| format!("invalid include pattern '{}'", pattern.display()))?;
    if parent.is_some_and(|p| is_pattern(p.as_os_str().as_encoded_bytes())) {
        return Err(format!(
            "include pattern '{}': wildcards are supported in the file name only",
            pattern.display()
        ));
    }
    let dir = parent.unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.as_encoded_bytes();
            // Like glob(3), a leading dot must be matched explicitly.
            (!name.starts_with(b".") || file_pattern.starts_with('.'))
                && glob_match(file_pattern.as_bytes(), name, false)
        })
        .map(|entry| match parent {
            Some(parent) => parent.join(entry.file_name()),
            None => PathBuf::from(entry.file_name()),
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Redis trims `" \t\r\n"` from both ends of each line.
fn trim_config_line(line: &[u8]) -> &[u8] {
    let is_trimmed = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line
        .iter()
        .position(|b| !is_trimmed(b))
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !is_trimmed(b))
        .map_or(start, |i| i + 1);
    &line[start..end]
}

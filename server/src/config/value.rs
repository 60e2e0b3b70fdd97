//! Typed values of directives: parsing arguments into them (with Redis's
//! error wording), printing them for CONFIG GET, and the lines CONFIG
//! REWRITE writes for them.
//!
//! The three directions live together because they must agree: whatever
//! CONFIG GET prints, CONFIG SET must accept back, and whatever REWRITE
//! writes, the next start must load into an equal value (the round-trip test
//! in `mod.rs` checks every directive).

use super::split::quote_arg;
use super::table::{Directive, Kind};
use super::units::{
    format_memory, parse_c_strtoll, parse_memory, parse_octal, parse_percent, parse_strict_i64,
    parse_yes_no,
};

/// One `save <seconds> <changes>` rule: snapshot when at least `changes`
/// writes happened in the last `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaveParam {
    pub seconds: u64,
    pub changes: u64,
}

/// The client classes `client-output-buffer-limit` knows, in Redis's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientClass {
    Normal = 0,
    Replica = 1,
    Pubsub = 2,
}

impl ClientClass {
    pub const ALL: [ClientClass; 3] = [
        ClientClass::Normal,
        ClientClass::Replica,
        ClientClass::Pubsub,
    ];

    /// The name CONFIG GET and REWRITE print (Redis 7.0 still says `slave`).
    pub fn name(self) -> &'static str {
        match self {
            ClientClass::Normal => "normal",
            ClientClass::Replica => "slave",
            ClientClass::Pubsub => "pubsub",
        }
    }

    fn parse(name: &str) -> Option<ClientClass> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "normal" => Some(ClientClass::Normal),
            "slave" | "replica" => Some(ClientClass::Replica),
            "pubsub" => Some(ClientClass::Pubsub),
            _ => None,
        }
    }
}

/// Output buffer limits of one client class; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientOutputBufferLimit {
    pub hard_limit_bytes: u64,
    pub soft_limit_bytes: u64,
    pub soft_limit_secs: u64,
}

/// Keyspace notification classes (`notify-keyspace-events`), bit for bit
/// as Redis numbers them.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0; // K
    pub const KEYEVENT: u32 = 1 << 1; // E
    pub const GENERIC: u32 = 1 << 2; // g
    pub const STRING: u32 = 1 << 3; // $
    pub const LIST: u32 = 1 << 4; // l
    pub const SET: u32 = 1 << 5; // s
    pub const HASH: u32 = 1 << 6; // h
    pub const ZSET: u32 = 1 << 7; // z
    pub const EXPIRED: u32 = 1 << 8; // x
    pub const EVICTED: u32 = 1 << 9; // e
    pub const STREAM: u32 = 1 << 10; // t
    pub const KEY_MISS: u32 = 1 << 11; // m
    pub const MODULE: u32 = 1 << 13; // d
    pub const NEW: u32 = 1 << 14; // n
    /// `A`: every class except key misses and new keys.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    pub(super) const CLASS_CHARS: &[(char, u32)] = &[
        ('g', GENERIC),
        ('$', STRING),
        ('l', LIST),
        ('s', SET),
        ('h', HASH),
        ('z', ZSET),
        ('x', EXPIRED),
        ('e', EVICTED),
        ('t', STREAM),
        ('d', MODULE),
        ('n', NEW),
    ];
}

/// The stored value of one directive.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    /// Integers, memory values, octal values, and percentages (negative).
    Number(i128),
    /// An enum's value, or OR-ed flags.
    Enum(u32),
    Str(String),
    Save(Vec<SaveParam>),
    ClientOutputBufferLimits([ClientOutputBufferLimit; 3]),
    OomScoreAdjValues([i32; 3]),
    NotifyKeyspaceEvents(u32),
    Bind(Vec<String>),
    ReplicaOf(Option<(String, u16)>),
    Percentiles(Vec<f64>),
}

/// Parses `args` (the words after the directive name) into a value for
/// `directive`. `current` is the value being replaced: `save` lines after
/// the first in a file add to it (`append_save`), and
/// `client-output-buffer-limit` only replaces the classes it names.
pub(crate) fn parse(
    directive: &Directive,
    args: &[&str],
    current: &Value,
    append_save: bool,
) -> Result<Value, String> {
    if !directive.is_multi_arg() && args.len() != 1 {
        return Err("wrong number of arguments".into());
    }
    let single = args.first().copied().unwrap_or("");
    match directive.kind {
        Kind::Bool => parse_yes_no(single)
            .map(Value::Bool)
            .ok_or_else(|| "argument must be 'yes' or 'no'".into()),
        Kind::Int { min, max } => {
            let value =
                parse_strict_i64(single).ok_or("argument couldn't be parsed into an integer")?;
            check_bounds(i128::from(value), min, max, false).map(Value::Number)
        }
        Kind::Memory { min, max } => {
            let value = parse_memory(single).ok_or("argument must be a memory value")?;
            check_bounds(i128::from(value), min, max, false).map(Value::Number)
        }
        Kind::MemoryOrPercent { min, max } => {
            let value = parse_memory(single)
                .map(i128::from)
                .or_else(|| parse_percent(single).map(i128::from))
                .ok_or("argument must be a memory or percent value")?;
            if value < 0 {
                if value < min {
                    return Err(format!(
                        "percentage argument must be less or equal to {}",
                        -min
                    ));
                }
                Ok(Value::Number(value))
            } else {
                check_bounds(value, min, max, false).map(Value::Number)
            }
        }
        Kind::Octal { min, max } => {
            let value =
                parse_octal(single).ok_or("argument couldn't be parsed as an octal number")?;
            check_bounds(i128::from(value), min, max, true).map(Value::Number)
        }
        Kind::Enum(names) => enum_value(names, single).map(Value::Enum),
        Kind::Flags(names) => {
            if args.is_empty() {
                return Err(enum_error(names));
            }
            let mut flags = 0;
            for arg in args {
                flags |= enum_value(names, arg)?;
            }
            check_flags(directive, flags)?;
            Ok(Value::Enum(flags))
        }
        Kind::Str { check, .. } => {
            if let Some(check) = check {
                check(single)?;
            }
            Ok(Value::Str(single.to_string()))
        }
        Kind::Dir => parse_dir(single).map(Value::Str),
        Kind::Save => parse_save(args, current, append_save).map(Value::Save),
        Kind::ClientOutputBufferLimit => {
            parse_client_output_buffer_limit(args, current).map(Value::ClientOutputBufferLimits)
        }
        Kind::OomScoreAdjValues => parse_oom_score_adj_values(args).map(Value::OomScoreAdjValues),
        Kind::NotifyKeyspaceEvents => {
            parse_notify_keyspace_events(single).map(Value::NotifyKeyspaceEvents)
        }
        Kind::Bind => parse_bind(args).map(Value::Bind),
        Kind::ReplicaOf => parse_replica_of(args).map(Value::ReplicaOf),
        Kind::LatencyPercentiles => parse_percentiles(args).map(Value::Percentiles),
    }
}

fn check_bounds(value: i128, min: i128, max: i128, octal: bool) -> Result<i128, String> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else if octal {
        Err(format!(
            "argument must be between {min:o} and {max:o} inclusive"
        ))
    } else {
        Err(format!(
            "argument must be between {min} and {max} inclusive"
        ))
    }
}

fn enum_error(names: &[(&str, u32)]) -> String {
    let list: Vec<&str> = names.iter().map(|(name, _)| *name).collect();
    format!(
        "argument(s) must be one of the following: {}",
        list.join(", ")
    )
}

fn enum_value(names: &[(&str, u32)], arg: &str) -> Result<u32, String> {
    names
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(arg))
        .map(|&(_, value)| value)
        .ok_or_else(|| enum_error(names))
}

fn check_flags(directive: &Directive, flags: u32) -> Result<(), String> {
    const SAVE: u32 = 1;
    const NOSAVE: u32 = 2;
    if directive.name.starts_with("shutdown-on-sig") && flags & SAVE != 0 && flags & NOSAVE != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".into());
    }
    Ok(())
}

/// `dir`: must name an existing directory; stored absolute. Redis changes
/// its working directory here; ringkv keeps the absolute path instead and
/// the server resolves data files against it.
fn parse_dir(path: &str) -> Result<String, String> {
    let canonical = std::fs::canonicalize(path).map_err(|error| os_error_text(&error))?;
    if !canonical.is_dir() {
        return Err("Not a directory".into());
    }
    canonical
        .into_os_string()
        .into_string()
        .map_err(|_| "directory path is not valid UTF-8".into())
}

/// `strerror` text of an I/O error, without Rust's " (os error N)" suffix.
pub(crate) fn os_error_text(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn parse_save(args: &[&str], current: &Value, append: bool) -> Result<Vec<SaveParam>, String> {
    const INVALID: &str = "Invalid save parameters";
    // A single empty argument means "no save rules", the same as none.
    let args = if args.len() == 1 && args[0].is_empty() {
        &args[..0]
    } else {
        args
    };
    let reset_by_empty = args.is_empty();
    if !args.len().is_multiple_of(2) {
        return Err(INVALID.into());
    }
    let mut params = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks_exact(2) {
        let seconds = parse_c_strtoll(pair[0])
            .filter(|&s| s >= 1)
            .ok_or(INVALID)?;
        let changes = parse_c_strtoll(pair[1])
            .filter(|&c| c >= 0)
            .ok_or(INVALID)?;
        params.push(SaveParam {
            seconds: seconds.unsigned_abs(),
            changes: changes.unsigned_abs(),
        });
    }
    match current {
        Value::Save(existing) if append && !reset_by_empty => {
            let mut combined = existing.clone();
            combined.extend(params);
            Ok(combined)
        }
        _ => Ok(params),
    }
}

fn parse_client_output_buffer_limit(
    args: &[&str],
    current: &Value,
) -> Result<[ClientOutputBufferLimit; 3], String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut limits = match current {
        Value::ClientOutputBufferLimits(limits) => *limits,
        _ => [ClientOutputBufferLimit::default(); 3],
    };
    for group in args.chunks_exact(4) {
        let class = ClientClass::parse(group[0])
            .ok_or("Invalid client class specified in buffer limit configuration.")?;
        let hard = parse_memory(group[1]);
        let soft = parse_memory(group[2]);
        let soft_secs = parse_c_strtoll(group[3]).filter(|&s| s >= 0);
        match (hard, soft, soft_secs) {
            (Some(hard), Some(soft), Some(secs)) => {
                limits[class as usize] = ClientOutputBufferLimit {
                    hard_limit_bytes: hard,
                    soft_limit_bytes: soft,
                    soft_limit_secs: secs.unsigned_abs(),
                };
            }
            _ => {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit \
                            configuration."
                        .into(),
                )
            }
        }
    }
    Ok(limits)
}

fn parse_oom_score_adj_values(args: &[&str]) -> Result<[i32; 3], String> {
    if args.len() != 3 {
        return Err("wrong number of arguments".into());
    }
    let mut values = [0i32; 3];
    for (slot, arg) in values.iter_mut().zip(args) {
        *slot = parse_c_strtoll(arg)
            .filter(|v| (-2000..=2000).contains(v))
            .and_then(|v| i32::try_from(v).ok())
            .ok_or("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")?;
    }
    Ok(values)
}

fn parse_notify_keyspace_events(arg: &str) -> Result<u32, String> {
    let mut flags = 0;
    for c in arg.chars() {
        flags |= match c {
            'A' => notify::ALL,
            'K' => notify::KEYSPACE,
            'E' => notify::KEYEVENT,
            'm' => notify::KEY_MISS,
            other => notify::CLASS_CHARS
                .iter()
                .find(|(class, _)| *class == other)
                .map(|&(_, bit)| bit)
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?,
        };
    }
    Ok(flags)
}

/// Redis's order when printing the flags back.
pub fn notify_keyspace_events_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & notify::ALL == notify::ALL {
        // Like Redis, `A` stands for the rest and `n` is not printed with it.
        out.push('A');
    } else {
        for &(c, bit) in notify::CLASS_CHARS {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    if flags & notify::KEYSPACE != 0 {
        out.push('K');
    }
    if flags & notify::KEYEVENT != 0 {
        out.push('E');
    }
    if flags & notify::KEY_MISS != 0 {
        out.push('m');
    }
    out
}

const BIND_ADDRESSES_MAX: usize = 16;

fn parse_bind(args: &[&str]) -> Result<Vec<String>, String> {
    if args.len() > BIND_ADDRESSES_MAX {
        return Err("Too many bind addresses specified.".into());
    }
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    Ok(args.iter().map(|arg| arg.to_string()).collect())
}

fn parse_replica_of(args: &[&str]) -> Result<Option<(String, u16)>, String> {
    match args {
        [] => Ok(None),
        [host, port] => {
            if host.eq_ignore_ascii_case("no") && port.eq_ignore_ascii_case("one") {
                return Ok(None);
            }
            let port = parse_c_strtoll(port)
                .and_then(|p| u16::try_from(p).ok())
                .ok_or("Invalid master port")?;
            Ok(Some((host.to_string(), port)))
        }
        _ => Err("wrong number of arguments".into()),
    }
}

fn parse_percentiles(args: &[&str]) -> Result<Vec<f64>, String> {
    if args.len() == 1 && args[0].is_empty() {
        return Ok(Vec::new());
    }
    let mut values = Vec::with_capacity(args.len());
    for arg in args {
        let starts_well = arg
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_digit() || b == b'-' || b == b'+' || b == b'.');
        let value = arg
            .parse::<f64>()
            .ok()
            .filter(|v| starts_well && v.is_finite())
            .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
        if !(0.0..=100.0).contains(&value) {
            return Err(
                "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
                    .into(),
            );
        }
        values.push(value);
    }
    Ok(values)
}

/// C's `%f` with trailing zeros (and a trailing dot) removed.
fn format_percentile(value: f64) -> String {
    let text = format!("{value:.6}");
    let text = text.trim_end_matches('0');
    text.trim_end_matches('.').to_string()
}

fn enum_name(names: &[(&'static str, u32)], value: u32) -> &'static str {
    names
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("unknown", |(name, _)| name)
}

fn flags_names(names: &[(&'static str, u32)], flags: u32) -> String {
    if flags == 0 {
        return enum_name(names, 0).to_string();
    }
    names
        .iter()
        .filter(|(_, bit)| *bit != 0 && flags & bit == *bit)
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(" ")
}

fn join_numbers<T: std::fmt::Display>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The value as CONFIG GET prints it.
pub(crate) fn display(directive: &Directive, value: &Value) -> String {
    match (directive.kind, value) {
        (_, Value::Bool(b)) => if *b { "yes" } else { "no" }.to_string(),
        (Kind::Octal { .. }, Value::Number(n)) => format!("{n:o}"),
        (Kind::MemoryOrPercent { .. }, Value::Number(n)) if *n < 0 => format!("{}%", -n),
        (_, Value::Number(n)) => n.to_string(),
        (Kind::Flags(names), Value::Enum(flags)) => flags_names(names, *flags),
        (Kind::Enum(names), Value::Enum(v)) => enum_name(names, *v).to_string(),
        (_, Value::Enum(v)) => v.to_string(),
        (_, Value::Str(s)) => s.clone(),
        (_, Value::Save(params)) => {
            join_numbers(params.iter().flat_map(|p| [p.seconds, p.changes]))
        }
        (_, Value::ClientOutputBufferLimits(limits)) => ClientClass::ALL
            .iter()
            .map(|&class| {
                let limit = limits[class as usize];
                format!(
                    "{} {} {} {}",
                    class.name(),
                    limit.hard_limit_bytes,
                    limit.soft_limit_bytes,
                    limit.soft_limit_secs
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        (_, Value::OomScoreAdjValues(values)) => join_numbers(values),
        (_, Value::NotifyKeyspaceEvents(flags)) => notify_keyspace_events_string(*flags),
        (_, Value::Bind(addresses)) => addresses.join(" "),
        (_, Value::ReplicaOf(None)) => String::new(),
        (_, Value::ReplicaOf(Some((host, port)))) => format!("{host} {port}"),
        (_, Value::Percentiles(values)) => values
            .iter()
            .map(|v| format_percentile(*v))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The lines CONFIG REWRITE wants for a directive, each with whether it
/// must be written even when the file has no line for it ("force": the
/// value differs from the default, or Redis always writes it). An empty list
/// means "remove this directive's lines".
pub(crate) fn rewrite_lines(
    directive: &Directive,
    value: &Value,
    default: &Value,
) -> Vec<(String, bool)> {
    let name = directive.name;
    let differs = value != default;
    let line = |text: String| vec![(format!("{name} {text}"), differs)];
    match (directive.kind, value) {
        (Kind::Memory { .. }, Value::Number(n)) => line(format_memory(*n)),
        (Kind::MemoryOrPercent { .. }, Value::Number(n)) if *n < 0 => line(format!("{}%", -n)),
        (Kind::MemoryOrPercent { .. }, Value::Number(n)) => line(format_memory(*n)),
        (Kind::Str { empty_is_null, .. }, Value::Str(s)) => {
            if empty_is_null && s.is_empty() {
                Vec::new()
            } else {
                line(quote_arg(s.as_bytes()))
            }
        }
        (Kind::Dir, Value::Str(dir)) => {
            vec![(format!("{name} {}", quote_arg(dir.as_bytes())), true)]
        }
        (_, Value::Save(params)) => {
            if params.is_empty() {
                vec![(format!("{name} \"\""), true)]
            } else {
                params
                    .iter()
                    .map(|p| (format!("{name} {} {}", p.seconds, p.changes), true))
                    .collect()
            }
        }
        (_, Value::ClientOutputBufferLimits(limits)) => {
            let defaults = match default {
                Value::ClientOutputBufferLimits(defaults) => *defaults,
                _ => [ClientOutputBufferLimit::default(); 3],
            };
            ClientClass::ALL
                .iter()
                .map(|&class| {
                    let limit = limits[class as usize];
                    let text = format!(
                        "{name} {} {} {} {}",
                        class.name(),
                        format_memory(i128::from(limit.hard_limit_bytes)),
                        format_memory(i128::from(limit.soft_limit_bytes)),
                        limit.soft_limit_secs
                    );
                    (text, limit != defaults[class as usize])
                })
                .collect()
        }
        (_, Value::NotifyKeyspaceEvents(flags)) => {
            line(quote_arg(notify_keyspace_events_string(*flags).as_bytes()))
        }
        (_, Value::Bind(addresses)) => {
            if differs {
                vec![(format!("{name} {}", addresses.join(" ")), true)]
            } else {
                Vec::new()
            }
        }
        (_, Value::ReplicaOf(None)) => Vec::new(),
        (_, Value::Percentiles(values)) => {
            let text = if values.is_empty() {
                "\"\"".to_string()
            } else {
                display(directive, value)
            };
            vec![(format!("{name} {text}"), true)]
        }
        _ => line(display(directive, value)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::table::lookup;

    fn parse_fresh(name: &str, args: &[&str]) -> Result<Value, String> {
        let (_, directive) = lookup(name).unwrap();
        parse(directive, args, &Value::Bool(false), false)
    }

    fn shown(name: &str, args: &[&str]) -> String {
        let (_, directive) = lookup(name).unwrap();
        display(directive, &parse_fresh(name, args).unwrap())
    }

    #[test]
    fn bools() {
        assert_eq!(parse_fresh("appendonly", &["YES"]), Ok(Value::Bool(true)));
        assert_eq!(
            parse_fresh("appendonly", &["maybe"]).unwrap_err(),
            "argument must be 'yes' or 'no'"
        );
        assert_eq!(
            parse_fresh("appendonly", &["yes", "no"]).unwrap_err(),
            "wrong number of arguments"
        );
    }

    #[test]
    fn integers_and_bounds() {
        assert_eq!(parse_fresh("port", &["7379"]), Ok(Value::Number(7379)));
        assert_eq!(
            parse_fresh("port", &["70000"]).unwrap_err(),
            "argument must be between 0 and 65535 inclusive"
        );
        assert_eq!(
            parse_fresh("port", &["abc"]).unwrap_err(),
            "argument couldn't be parsed into an integer"
        );
        assert_eq!(
            parse_fresh("maxclients", &["-1"]).unwrap_err(),
            "argument must be between 1 and 4294967295 inclusive"
        );
        assert_eq!(shown("list-max-listpack-size", &["-2"]), "-2");
        assert_eq!(shown("slowlog-log-slower-than", &["-1"]), "-1");
    }

    #[test]
    fn memory_values() {
        assert_eq!(shown("maxmemory", &["1GB"]), "1073741824");
        assert_eq!(shown("maxmemory", &["1g"]), "1000000000");
        assert_eq!(
            parse_fresh("maxmemory", &["1x"]).unwrap_err(),
            "argument must be a memory value"
        );
        assert_eq!(
            parse_fresh("proto-max-bulk-len", &["1kb"]).unwrap_err(),
            "argument must be between 1048576 and 9223372036854775807 inclusive"
        );
        assert_eq!(
            shown("maxmemory", &["18446744073709551615"]),
            "18446744073709551615"
        );
    }

    #[test]
    fn percent_values() {
        assert_eq!(shown("maxmemory-clients", &["10%"]), "10%");
        assert_eq!(shown("maxmemory-clients", &["1mb"]), "1048576");
        assert_eq!(
            parse_fresh("maxmemory-clients", &["101%"]).unwrap_err(),
            "percentage argument must be less or equal to 100"
        );
        assert_eq!(
            parse_fresh("maxmemory-clients", &["-5"]).unwrap_err(),
            "argument must be a memory or percent value"
        );
    }

    #[test]
    fn octal_values() {
        assert_eq!(shown("unixsocketperm", &["700"]), "700");
        assert_eq!(
            parse_fresh("unixsocketperm", &["999"]).unwrap_err(),
            "argument couldn't be parsed as an octal number"
        );
        assert_eq!(
            parse_fresh("unixsocketperm", &["1000"]).unwrap_err(),
            "argument must be between 0 and 777 inclusive"
        );
    }

    #[test]
    fn enums_and_flags() {
        assert_eq!(shown("loglevel", &["WARNING"]), "warning");
        assert_eq!(
            parse_fresh("loglevel", &["bad"]).unwrap_err(),
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        );
        // Two names for one value print as the first.
        assert_eq!(shown("oom-score-adj", &["relative"]), "yes");
        assert_eq!(shown("shutdown-on-sigint", &["now", "save"]), "save now");
        assert_eq!(shown("shutdown-on-sigint", &["default", "now"]), "now");
        assert_eq!(shown("shutdown-on-sigint", &["default"]), "default");
        assert_eq!(
            parse_fresh("shutdown-on-sigint", &["save", "nosave"]).unwrap_err(),
            "shutdown options SAVE and NOSAVE can't be used simultaneously"
        );
        assert!(parse_fresh("shutdown-on-sigint", &[]).is_err());
    }

    #[test]
    fn save_rules() {
        assert_eq!(shown("save", &["900", "1", "300", "10"]), "900 1 300 10");
        assert_eq!(shown("save", &[""]), "");
        assert_eq!(shown("save", &[]), "");
        for bad in [
            &["1"][..],
            &["10", "a"],
            &["0", "1"],
            &["10", "-1"],
            &["a b"],
        ] {
            assert_eq!(
                parse_fresh("save", bad).unwrap_err(),
                "Invalid save parameters"
            );
        }
        let (_, save) = lookup("save").unwrap();
        let first = parse(save, &["900", "1"], &Value::Bool(false), true).unwrap();
        let second = parse(save, &["60", "5"], &first, true).unwrap();
        assert_eq!(display(save, &second), "900 1 60 5");
        let cleared = parse(save, &[""], &second, true).unwrap();
        assert_eq!(display(save, &cleared), "");
    }

    #[test]
    fn client_output_buffer_limit_merges_classes() {
        let (_, cobl) = lookup("client-output-buffer-limit").unwrap();
        let defaults = parse(
            cobl,
            &"normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60"
                .split(' ')
                .collect::<Vec<_>>(),
            &Value::Bool(false),
            false,
        )
        .unwrap();
        assert_eq!(
            display(cobl, &defaults),
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        let changed = parse(cobl, &["normal", "1mb", "2k", "3"], &defaults, false).unwrap();
        assert_eq!(
            display(cobl, &changed),
            "normal 1048576 2000 3 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
        );
        let replica = parse(cobl, &["replica", "1", "2", "3"], &changed, false).unwrap();
        assert!(display(cobl, &replica).contains("slave 1 2 3"));
        assert_eq!(
            parse(cobl, &["normal", "1", "2"], &defaults, false).unwrap_err(),
            "Wrong number of arguments in buffer limit configuration."
        );
        assert_eq!(
            parse(cobl, &["master", "1", "2", "3"], &defaults, false).unwrap_err(),
            "Invalid client class specified in buffer limit configuration."
        );
        assert_eq!(
            parse(cobl, &["normal", "1", "2", "-3"], &defaults, false).unwrap_err(),
            "Error in hard, soft or soft_seconds setting in buffer limit configuration."
        );
    }

    #[test]
    fn notify_keyspace_events_flags() {
        assert_eq!(shown("notify-keyspace-events", &["KEA"]), "AKE");
        assert_eq!(shown("notify-keyspace-events", &["Kgx$lmn"]), "g$lxnKm");
        assert_eq!(shown("notify-keyspace-events", &[""]), "");
        assert_eq!(shown("notify-keyspace-events", &["AnK"]), "AK");
        assert_eq!(
            parse_fresh("notify-keyspace-events", &["Z"]).unwrap_err(),
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        );
    }

    #[test]
    fn multi_argument_specials() {
        assert_eq!(shown("oom-score-adj-values", &["1", "2", "3"]), "1 2 3");
        assert_eq!(
            parse_fresh("oom-score-adj-values", &["1", "2"]).unwrap_err(),
            "wrong number of arguments"
        );
        assert_eq!(
            parse_fresh("oom-score-adj-values", &["1", "2", "3000"]).unwrap_err(),
            "Invalid oom-score-adj-values, elements must be between -2000 and 2000."
        );
        assert_eq!(shown("bind", &["127.0.0.1", "-::1"]), "127.0.0.1 -::1");
        assert_eq!(shown("bind", &[""]), "");
        let too_many = vec!["1.1.1.1"; 17];
        assert_eq!(
            parse_fresh("bind", &too_many).unwrap_err(),
            "Too many bind addresses specified."
        );
        assert_eq!(shown("replicaof", &["10.0.0.1", "6380"]), "10.0.0.1 6380");
        assert_eq!(shown("replicaof", &["NO", "one"]), "");
        assert_eq!(
            parse_fresh("replicaof", &["h", "x"]).unwrap_err(),
            "Invalid master port"
        );
        assert_eq!(
            shown("latency-tracking-info-percentiles", &["50", "99.99", "1e1"]),
            "50 99.99 10"
        );
        assert_eq!(
            shown("latency-tracking-info-percentiles", &["0.0000001"]),
            "0"
        );
        assert_eq!(shown("latency-tracking-info-percentiles", &[""]), "");
        assert_eq!(
            parse_fresh("latency-tracking-info-percentiles", &["101"]).unwrap_err(),
            "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"
        );
        assert_eq!(
            parse_fresh("latency-tracking-info-percentiles", &["nan"]).unwrap_err(),
            "Invalid latency-tracking-info-percentiles parameters"
        );
    }

    #[test]
    fn strings_and_dir() {
        assert_eq!(
            parse_fresh("dbfilename", &["a/b"]).unwrap_err(),
            "dbfilename can't be a path, just a filename"
        );
        assert_eq!(shown("requirepass", &["a b"]), "a b");
        assert_eq!(
            parse_fresh("dir", &["/nonexistent-ringkv-dir"]).unwrap_err(),
            "No such file or directory"
        );
        let tmp = tempfile::tempdir().unwrap();
        let canonical = std::fs::canonicalize(tmp.path()).unwrap();
        assert_eq!(
            shown("dir", &[tmp.path().to_str().unwrap()]),
            canonical.to_str().unwrap()
        );
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(
            parse_fresh("dir", &[file.to_str().unwrap()]).unwrap_err(),
            "Not a directory"
        );
    }

    #[test]
    fn rewrite_lines_follow_redis_formats() {
        let rewrite = |name: &str, args: &[&str]| {
            let (_, directive) = lookup(name).unwrap();
            let value = parse_fresh(name, args).unwrap();
            let default_args: Vec<&str> = if directive.default.is_empty() {
                Vec::new()
            } else if directive.is_multi_arg() {
                directive.default.split(' ').collect()
            } else {
                vec![directive.default]
            };
            let default = parse(directive, &default_args, &Value::Bool(false), false)
                .unwrap_or(Value::Bool(false));
            rewrite_lines(directive, &value, &default)
        };
        assert_eq!(
            rewrite("maxmemory", &["2mb"]),
            [("maxmemory 2mb".to_string(), true)]
        );
        assert_eq!(
            rewrite("maxmemory", &["0"]),
            [("maxmemory 0".to_string(), false)]
        );
        assert_eq!(
            rewrite("maxmemory-clients", &["5%"]),
            [("maxmemory-clients 5%".to_string(), true)]
        );
        assert_eq!(
            rewrite("requirepass", &["a b\"c"]),
            [(r#"requirepass "a b\"c""#.to_string(), true)]
        );
        assert!(rewrite("requirepass", &[""]).is_empty());
        assert_eq!(rewrite("save", &[""]), [(r#"save """#.to_string(), true)]);
        assert_eq!(
            rewrite("notify-keyspace-events", &["KEA"]),
            [(r#"notify-keyspace-events "AKE""#.to_string(), true)]
        );
        assert_eq!(
            rewrite("unixsocketperm", &["700"]),
            [("unixsocketperm 700".to_string(), true)]
        );
        assert!(rewrite("bind", &["127.0.0.1", "-::1"]).is_empty());
        assert_eq!(
            rewrite("bind", &["0.0.0.0"]),
            [("bind 0.0.0.0".to_string(), true)]
        );
    }
}

//! SLOWLOG and LATENCY (Redis 7.0 replies), on top of `crate::slowlog` and
//! `crate::latency`.

use crate::dispatch::{arity_error, table, CmdCtx};

const SLOWLOG_HELP: &[&str] = &[
    "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
    "HELP",
    "    Prints this help.",
];

const LATENCY_HELP: &[&str] = &[
    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
    "    If no commands are specified then all histograms are replied.",
    "HELP",
    "    Prints this help.",
];

fn help(ctx: &mut CmdCtx<'_>, lines: &[&str]) {
    ctx.out.array(lines.len());
    for l in lines {
        ctx.out.simple(l);
    }
}

fn unknown_subcommand(ctx: &mut CmdCtx<'_>, sub: &[u8], container: &str) {
    ctx.out.error(&format!(
        "ERR unknown subcommand '{}'. Try {container} HELP.",
        String::from_utf8_lossy(sub)
    ));
}

pub fn slowlog(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let sub = args[1].to_ascii_lowercase();
    match (sub.as_slice(), args.len()) {
        (b"get", 2 | 3) => {
            let count = match args.get(2) {
                None => Some(10),
                Some(a) => match std::str::from_utf8(a)
                    .ok()
                    .and_then(|s| s.parse::<i64>().ok())
                {
                    Some(-1) => None,
                    Some(n) if n >= 0 => Some(usize::try_from(n).unwrap_or(usize::MAX)),
                    _ => {
                        ctx.out
                            .error("ERR count should be greater than or equal to -1");
                        return;
                    }
                },
            };
            let entries = ctx.shared.slowlog.newest(count);
            ctx.out.array(entries.len());
            for e in entries {
                ctx.out.array(6);
                ctx.out.int(i64::try_from(e.id).unwrap_or(i64::MAX));
                ctx.out.int(e.unix_time_s);
                ctx.out
                    .int(i64::try_from(e.duration_us).unwrap_or(i64::MAX));
                ctx.out.array(e.args.len());
                for a in &e.args {
                    ctx.out.bulk(a);
                }
                ctx.out.bulk(e.client_addr.as_bytes());
                ctx.out.bulk(&e.client_name);
            }
        }
        (b"len", 2) => {
            let n = ctx.shared.slowlog.len();
            ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
        }
        (b"reset", 2) => {
            ctx.shared.slowlog.reset();
            ctx.out.ok();
        }
        (b"help", 2) => help(ctx, SLOWLOG_HELP),
        (b"get" | b"len" | b"reset" | b"help", _) => {
            let name = format!("slowlog|{}", String::from_utf8_lossy(&sub));
            ctx.out.error(&arity_error(&name));
        }
        _ => unknown_subcommand(ctx, args[1], "SLOWLOG"),
    }
}

pub fn latency(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let sub = args[1].to_ascii_lowercase();
    match (sub.as_slice(), args.len()) {
        (b"latest", 2) => {
            let latest = ctx.shared.latency_monitor.latest();
            ctx.out.array(latest.len());
            for (name, e) in latest {
                ctx.out.array(4);
                ctx.out.bulk(name.as_bytes());
                ctx.out.int(e.latest_unix_s);
                ctx.out.int(i64::try_from(e.latest_ms).unwrap_or(i64::MAX));
                ctx.out.int(i64::try_from(e.max_ms).unwrap_or(i64::MAX));
            }
        }
        (b"history", 3) => {
            let event = String::from_utf8_lossy(args[2]);
            let samples = ctx.shared.latency_monitor.history(&event);
            ctx.out.array(samples.len());
            for (t, ms) in samples {
                ctx.out.array(2);
                ctx.out.int(t);
                ctx.out.int(i64::try_from(ms).unwrap_or(i64::MAX));
            }
        }
        (b"reset", _) => {
            let names: Vec<String> = args[2..]
                .iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            let refs: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
            let n = ctx.shared.latency_monitor.reset(&refs);
            ctx.out.int(i64::try_from(n).unwrap_or(i64::MAX));
        }
        (b"graph", 3) => graph(ctx, args[2]),
        (b"doctor", 2) => doctor(ctx),
        (b"histogram", _) => histogram(ctx, &args[2..]),
        (b"help", 2) => help(ctx, LATENCY_HELP),
        (b"latest" | b"history" | b"graph" | b"doctor" | b"help", _) => {
            let name = format!("latency|{}", String::from_utf8_lossy(&sub));
            ctx.out.error(&arity_error(&name));
        }
        _ => unknown_subcommand(ctx, args[1], "LATENCY"),
    }
}

/// `LATENCY HISTOGRAM`: per command, its calls and cumulative counts at
/// power-of-two microsecond bounds. Unknown or never-called commands are
/// left out, as in Redis.
fn histogram(ctx: &mut CmdCtx<'_>, names: &[&[u8]]) {
    let all = crate::info::merged_latencies(ctx.shared);
    let wanted: Vec<_> = if names.is_empty() {
        all
    } else {
        all.into_iter()
            .filter(|(n, _)| {
                names
                    .iter()
                    .any(|w| table().lookup(w).is_some_and(|(_, c)| c.name == *n))
            })
            .collect()
    };
    ctx.out.map(wanted.len());
    for (name, lat) in wanted {
        ctx.out.bulk(name.as_bytes());
        ctx.out.map(2);
        ctx.out.bulk(b"calls");
        ctx.out.int(i64::try_from(lat.calls()).unwrap_or(i64::MAX));
        ctx.out.bulk(b"histogram_usec");
        let buckets = lat.cumulative_usec_buckets();
        ctx.out.map(buckets.len());
        for (bound, count) in buckets {
            ctx.out.int(i64::try_from(bound).unwrap_or(i64::MAX));
            ctx.out.int(i64::try_from(count).unwrap_or(i64::MAX));
        }
    }
}

/// `LATENCY GRAPH`: one line per sample, the bar's length relative to the
/// worst sample.
fn graph(ctx: &mut CmdCtx<'_>, event: &[u8]) {
    let name = String::from_utf8_lossy(event);
    let samples = ctx.shared.latency_monitor.history(&name);
    if samples.is_empty() {
        ctx.out
            .error(&format!("ERR No samples available for event '{name}'"));
        return;
    }
    let max = samples.iter().map(|s| s.1).max().unwrap_or(1).max(1);
    let mut text = format!("{name} - max latency: {max} milliseconds\n");
    for (t, ms) in samples {
        let width = usize::try_from(ms * 40 / max).unwrap_or(40).max(1);
        text.push_str(&format!("{t} {ms:>6}ms {}\n", "#".repeat(width)));
    }
    ctx.out.verbatim("txt", text.as_bytes());
}

fn doctor(ctx: &mut CmdCtx<'_>) {
    let threshold = ctx.shared.config.read().latency_monitor_threshold_ms;
    let events = ctx.shared.latency_monitor.latest();
    let mut text = String::new();
    if threshold == 0 {
        text.push_str(
            "Latency monitoring is disabled: CONFIG SET latency-monitor-threshold <milliseconds> enables it.\n",
        );
    } else if events.is_empty() {
        text.push_str(&format!(
            "No latency spike at or above {threshold} milliseconds was observed since the start.\n"
        ));
    } else {
        text.push_str(&format!(
            "Events at or above {threshold} milliseconds since the start:\n\n"
        ));
        for (i, (name, e)) in events.iter().enumerate() {
            text.push_str(&format!(
                "{}. {name}: {} latency spikes (samples kept), latest {} ms, worst {} ms.\n",
                i + 1,
                e.history.len(),
                e.latest_ms,
                e.max_ms
            ));
        }
        text.push_str(
            "\nSLOWLOG GET lists the slowest commands; commands with O(N) cost on big keys are the usual cause.\n",
        );
    }
    ctx.out.verbatim("txt", text.as_bytes());
}

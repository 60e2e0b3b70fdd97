//! CONFIG GET|SET|RESETSTAT|REWRITE|HELP.

use crate::dispatch::CmdCtx;

pub fn config(ctx: &mut CmdCtx<'_>, args: &[&[u8]]) {
    let sub = args[1].to_ascii_lowercase();
    match sub.as_slice() {
        b"get" if args.len() >= 3 => {
            let settings = ctx.shared.settings.read().clone();
            let save = settings
                .save_params
                .iter()
                .map(|(s, c)| format!("{s} {c}"))
                .collect::<Vec<_>>()
                .join(" ");
            let known: Vec<(&str, String)> = vec![
                ("save", save),
                (
                    "appendonly",
                    if settings.appendonly { "yes" } else { "no" }.into(),
                ),
                ("port", settings.port.to_string()),
                ("databases", settings.databases.to_string()),
                ("dir", settings.dir.display().to_string()),
            ];
            let mut pairs = Vec::new();
            for pat in &args[2..] {
                for (k, v) in &known {
                    if pat.eq_ignore_ascii_case(k.as_bytes()) || *pat == b"*" {
                        pairs.push((*k, v.clone()));
                    }
                }
            }
            ctx.out.map(pairs.len());
            for (k, v) in pairs {
                ctx.out.bulk(k.as_bytes());
                ctx.out.bulk(v.as_bytes());
            }
        }
        b"resetstat" if args.len() == 2 => ctx.out.ok(),
        _ => ctx.out.error(&format!(
            "ERR unknown subcommand '{}'. Try CONFIG HELP.",
            String::from_utf8_lossy(args[1])
        )),
    }
}

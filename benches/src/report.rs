//! Markdown output: tables with the command that produced them, spliced
//! into BENCHMARKS.md between marker comments so a rerun replaces its own
//! section and nothing else.

use std::path::Path;

use anyhow::{bail, Context};

/// One markdown table with its provenance.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub title: String,
    /// Shell commands that produced the figures.
    pub commands: Vec<String>,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Free text after the table (e.g. how the ratio was formed).
    pub note: String,
}

impl Table {
    pub fn new(title: impl Into<String>, header: &[&str]) -> Table {
        Table {
            title: title.into(),
            header: header.iter().map(|s| s.to_string()).collect(),
            ..Table::default()
        }
    }

    pub fn markdown(&self) -> String {
        let mut out = format!("#### {}\n\n", self.title);
        if !self.commands.is_empty() {
            out.push_str("```\n");
            for c in &self.commands {
                out.push_str(c);
                out.push('\n');
            }
            out.push_str("```\n\n");
        }
        out.push_str(&format!("| {} |\n", self.header.join(" | ")));
        out.push_str(&format!(
            "|{}\n",
            self.header.iter().map(|_| "---|").collect::<String>()
        ));
        for r in &self.rows {
            out.push_str(&format!("| {} |\n", r.join(" | ")));
        }
        if !self.note.is_empty() {
            out.push('\n');
            out.push_str(&self.note);
            out.push('\n');
        }
        out.push('\n');
        out
    }
}

fn markers(section: &str) -> (String, String) {
    (
        format!("<!-- BEGIN {section} -->"),
        format!("<!-- END {section} -->"),
    )
}

/// Replaces the text between `<!-- BEGIN section -->` and
/// `<!-- END section -->` in `text`; appends the section if absent.
pub fn splice(text: &str, section: &str, content: &str) -> anyhow::Result<String> {
    let (begin, end) = markers(section);
    match (text.find(&begin), text.find(&end)) {
        (Some(b), Some(e)) if b < e => {
            Ok(format!("{}{begin}\n{content}{}", &text[..b], &text[e..]))
        }
        (None, None) => Ok(format!("{text}\n{begin}\n{content}{end}\n")),
        _ => bail!("markers for {section} are unbalanced"),
    }
}

/// Splices `content` into the file at `path` (created if missing).
pub fn splice_into_file(path: &Path, section: &str, content: &str) -> anyhow::Result<()> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let new = splice(&text, section, content)?;
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}

/// `12345.6` → `12,346`.
pub fn thousands(v: f64) -> String {
    let s = format!("{:.0}", v.max(0.0));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splices_between_markers() {
        let t = "a\n<!-- BEGIN x -->\nold\n<!-- END x -->\nb\n";
        let n = splice(t, "x", "new\n").unwrap();
        assert_eq!(n, "a\n<!-- BEGIN x -->\nnew\n<!-- END x -->\nb\n");
        let appended = splice("a\n", "y", "c\n").unwrap();
        assert_eq!(appended, "a\n\n<!-- BEGIN y -->\nc\n<!-- END y -->\n");
        assert!(splice("<!-- END x --><!-- BEGIN x -->", "x", "").is_err());
    }

    #[test]
    fn formats_thousands() {
        assert_eq!(thousands(0.4), "0");
        assert_eq!(thousands(1234.0), "1,234");
        assert_eq!(thousands(1234567.0), "1,234,567");
    }

    #[test]
    fn renders_tables() {
        let mut t = Table::new("T", &["a", "b"]);
        t.commands.push("cmd".into());
        t.rows.push(vec!["1".into(), "2".into()]);
        assert_eq!(
            t.markdown(),
            "#### T\n\n```\ncmd\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        );
    }
}

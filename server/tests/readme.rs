//! The README's command-compatibility table and docs/configuration.md's
//! directive table are generated from the code; this test fails when they
//! drift. `RINGKV_UPDATE_DOCS=1 cargo test -p ringkv-server --test readme`
//! rewrites them.

use std::path::Path;

const BEGIN: &str = "<!-- BEGIN GENERATED";
const END: &str = "<!-- END GENERATED -->";

fn check(file: &Path, marker: &str, generated: &str) {
    let text = std::fs::read_to_string(file).expect("reading the document");
    let begin_tag = format!("{BEGIN} {marker} -->\n");
    let start = text.find(&begin_tag).expect("begin marker") + begin_tag.len();
    let end = start + text[start..].find(END).expect("end marker");
    if text[start..end] == *generated {
        return;
    }
    if std::env::var_os("RINGKV_UPDATE_DOCS").is_some() {
        let updated = format!("{}{}{}", &text[..start], generated, &text[end..]);
        std::fs::write(file, updated).expect("writing the document");
        return;
    }
    panic!(
        "{} is out of date for '{marker}': run RINGKV_UPDATE_DOCS=1 cargo test -p ringkv-server --test readme",
        file.display()
    );
}

#[test]
fn command_table_in_readme_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    check(
        &root.join("README.md"),
        "commands",
        &ringkv_server::commands::compat::compatibility_markdown(),
    );
}

#[test]
fn directive_table_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    check(
        &root.join("docs/configuration.md"),
        "directives",
        &ringkv_server::config::compatibility_table_markdown(),
    );
}

//! The pipeline's shape, locked in: every module of `src/` imports only modules that come
//! before it in [`ORDER`] (the foundations, then the stages in the README's order, then the
//! facade). A new import that points backwards (the index running the renderer, a reporter
//! reaching into the CLI) fails here, naming the file.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common;

/// Top-level modules, each allowed to use only those before it.
const ORDER: &[&str] = &[
    // Foundations.
    "source",
    "budget",
    "fsio",
    "escape",
    "guard",
    "cron",
    "yaml",
    // The stages.
    "discover",
    "load",
    "model",
    "render",
    "index",
    "schema",
    "rules",
    "config",
    "diagnostics",
    "report",
    // The facade.
    "pipeline",
    "cli",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names as `crate::<module>`, outside its test module.
fn uses(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or(text);
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .map(|p| p.trim().split("::").next().unwrap_or(""))
                .collect()
        } else {
            vec![rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("")]
        };
        out.extend(
            names
                .into_iter()
                .filter(|n| !n.is_empty())
                .map(String::from),
        );
    }
    out
}

#[test]
fn every_import_points_to_an_earlier_stage() {
    let src = common::project_root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut seen = BTreeSet::new();
    for f in &files {
        let rel = f.strip_prefix(&src).expect("under src");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("");
        let module = first.trim_end_matches(".rs");
        // The crate root and the binary declare and call everything; test-only modules
        // (`tests.rs`, and `rules/testing.rs`, which runs each rule through the whole
        // pipeline) are compiled only under `cfg(test)`.
        let test_only = matches!(
            rel.file_name().and_then(|n| n.to_str()),
            Some("tests.rs" | "testing.rs")
        );
        if matches!(module, "lib" | "main") || test_only {
            continue;
        }
        let Some(rank) = ORDER.iter().position(|m| *m == module) else {
            wrong.push(format!(
                "{}: module `{module}` is not in ORDER",
                rel.display()
            ));
            continue;
        };
        seen.insert(module.to_string());
        let text = std::fs::read_to_string(f).expect("read source");
        for used in uses(&text) {
            if used == module {
                continue;
            }
            match ORDER.iter().position(|m| *m == used) {
                Some(r) if r < rank => {}
                Some(_) => wrong.push(format!(
                    "{}: `{module}` uses `crate::{used}`, a later stage",
                    rel.display()
                )),
                None => wrong.push(format!(
                    "{}: uses `crate::{used}`, which is not in ORDER",
                    rel.display()
                )),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let listed: BTreeSet<String> = ORDER.iter().map(|m| m.to_string()).collect();
    assert_eq!(seen, listed, "ORDER lists a module src/ does not have");
}

#[test]
fn the_check_itself_sees_backward_imports() {
    let found = uses("use crate::index::Index;\nuse crate::{render, yaml::Node};\nlet x = crate::report::inert(s);\n");
    let expected: BTreeSet<String> = ["index", "render", "report", "yaml"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, expected);
}

//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use cnpg_lint::config::Config;
use cnpg_lint::diagnostics::Diagnostic;
use cnpg_lint::pipeline::{lint, LintOptions, LintResult};
use cnpg_lint::report::{self, Format, Report, Style};
use cnpg_lint::rules::{RuleEntry, RULES};

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the project, if present.
pub fn shared() -> Option<PathBuf> {
    let p = project_root().join("../shared");
    p.is_dir().then(|| p.canonicalize().unwrap_or(p))
}

/// A fresh, empty directory under the target directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes `(path, content)` files under `dir`, plus the root marker.
pub fn write_repo(dir: &Path, files: &[(String, String)]) {
    write_files(dir, files);
}

/// [`write_repo`] for contents that need not be text.
pub fn write_files<C: AsRef<[u8]>>(dir: &Path, files: &[(String, C)]) {
    std::fs::write(dir.join(".cnpg-lint.yaml"), "root: true\n").expect("write marker");
    for (path, content) in files {
        let p = dir.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, content).expect("write file");
    }
}

pub fn run(root: &Path, rules: &[&RuleEntry]) -> LintResult {
    run_with(root, &Config::default(), rules)
}

pub fn run_with(root: &Path, config: &Config, rules: &[&RuleEntry]) -> LintResult {
    lint(
        &LintOptions {
            jobs: 2,
            ..LintOptions::new(root.to_path_buf())
        },
        config,
        rules,
    )
}

/// The rules a run without `select` runs.
pub fn all_rules() -> Vec<&'static RuleEntry> {
    RULES.iter().filter(|r| r.meta.on_by_default).collect()
}

/// The default rules and `rule`, for a test of that rule.
pub fn rules_with(rule: &'static RuleEntry) -> Vec<&'static RuleEntry> {
    let mut rules = all_rules();
    if !rules.iter().any(|r| r.meta.code == rule.meta.code) {
        rules.push(rule);
    }
    rules
}

pub fn render(result: &LintResult, format: Format) -> String {
    render_diagnostics(result, &result.diagnostics, format)
}

pub fn render_diagnostics(
    result: &LintResult,
    diagnostics: &[Diagnostic],
    format: Format,
) -> String {
    // The library's summary counts every diagnostic of the run; a test that shows a subset
    // counts that subset.
    let summary = result.summary.for_subset(diagnostics);
    let report = Report {
        diagnostics,
        summary: &summary,
        sources: &result.index.sources,
        root: &result.index.root,
        notes: &[],
        model_notes: &result.notes,
    };
    let mut out = Vec::new();
    report::write(
        format,
        &report,
        &Style {
            color: false,
            width: 100,
        },
        &mut out,
    )
    .expect("render");
    String::from_utf8(out).expect("utf-8 output")
}

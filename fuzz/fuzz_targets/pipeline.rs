//! The whole pipeline (load, render, schema, every rule, every report format) on a repository
//! of one file whose bytes are the input. No internal error may come out of it, and lean
//! linting (handed-over trees, trimmed workloads) must report what a full run reports.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use cnpg_lint::config::Config;
use cnpg_lint::pipeline::{lint, LintOptions, LintResult};
use cnpg_lint::report::{self, Format, Report, Style};
use cnpg_lint::rules::RULES;
use libfuzzer_sys::fuzz_target;

fn repo() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cnpg-lint-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch repository");
        std::fs::write(dir.join(".cnpg-lint.yaml"), "root: true\n").expect("root marker");
        dir
    })
}

/// A run's report in one format, written to memory.
fn write(result: &LintResult, dir: &Path, format: Format) -> Vec<u8> {
    let report = Report {
        diagnostics: &result.diagnostics,
        summary: &result.summary,
        sources: &result.index.sources,
        root: dir,
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
    .expect("report to memory");
    out
}

fuzz_target!(|data: &[u8]| {
    let dir = repo();
    std::fs::write(dir.join("input.yaml"), data).expect("write input");
    let rules: Vec<_> = RULES.iter().collect();
    let opts = LintOptions {
        jobs: 1,
        ..LintOptions::new(dir.clone())
    };
    let result = lint(&opts, &Config::default(), &rules);
    assert!(
        result.internal_errors.is_empty(),
        "{:?}",
        result.internal_errors
    );
    let mut json = Vec::new();
    for format in [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Concise,
    ] {
        let out = write(&result, dir, format);
        if format == Format::Json {
            json = out;
        }
    }
    let full = lint(
        &LintOptions {
            lean: false,
            ..opts
        },
        &Config::default(),
        &rules,
    );
    let full_json = write(&full, dir, Format::Json);
    assert_eq!(
        String::from_utf8_lossy(&json),
        String::from_utf8_lossy(&full_json),
        "lean linting changed the report"
    );
});

//! The library is the product: `pipeline::lint` returns what the command line prints, scope and
//! baseline included, so a test of the library is a test of what users get.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common;
use cnpg_lint::config::Config;
use cnpg_lint::pipeline::{lint, LintOptions};

fn example() -> std::path::PathBuf {
    common::project_root().join("fixtures/repos/gke-platform")
}

#[test]
fn the_library_summary_is_what_the_cli_prints() {
    let root = example();
    let result = lint(
        &LintOptions::new(root.clone()),
        &Config::default(),
        &common::all_rules(),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .args(["check", "--format", "json", "."])
        .current_dir(&root)
        .output()
        .expect("run cnpg-lint");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let s = &result.summary;
    for (key, value) in [
        ("errors", s.errors),
        ("warnings", s.warnings),
        ("infos", s.infos),
        ("suppressed", s.suppressed),
        ("files", s.files),
        ("objects", s.objects),
    ] {
        assert_eq!(json["summary"][key], value, "{key}");
    }
    let printed: Vec<&str> = json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter_map(|d| d["fingerprint"].as_str())
        .collect();
    let returned: Vec<&str> = result
        .diagnostics
        .iter()
        .filter(|d| d.suppression.is_none())
        .map(|d| d.fingerprint.as_str())
        .collect();
    assert_eq!(printed, returned);
}

#[test]
fn scope_keeps_findings_under_the_given_paths() {
    let root = example();
    let all = lint(
        &LintOptions::new(root.clone()),
        &Config::default(),
        &common::all_rules(),
    );
    let dirs: BTreeSet<String> = all
        .diagnostics
        .iter()
        .filter_map(|d| {
            d.at.repo_path
                .rsplit_once('/')
                .map(|(dir, _)| dir.to_string())
        })
        .collect();
    assert!(
        dirs.len() >= 2,
        "the example has findings in several directories"
    );
    let dir = dirs.iter().next().expect("a directory").clone();
    let scoped = lint(
        &LintOptions {
            scope: vec![dir.clone()],
            ..LintOptions::new(root)
        },
        &Config::default(),
        &common::all_rules(),
    );
    assert!(!scoped.diagnostics.is_empty());
    assert!(scoped.diagnostics.len() < all.diagnostics.len());
    for d in &scoped.diagnostics {
        assert!(
            d.at.repo_path.starts_with(&format!("{dir}/")),
            "{} is outside {dir}",
            d.at.repo_path
        );
    }
    let shown = scoped.summary.errors
        + scoped.summary.warnings
        + scoped.summary.infos
        + scoped.summary.suppressed;
    assert_eq!(
        shown,
        scoped.diagnostics.len(),
        "the summary counts what is in scope"
    );
}

#[test]
fn a_baseline_hides_what_it_records_and_counts_the_rest() {
    let root = example();
    let all = lint(
        &LintOptions::new(root.clone()),
        &Config::default(),
        &common::all_rules(),
    );
    let first = all
        .diagnostics
        .iter()
        .find(|d| d.suppression.is_none())
        .expect("a finding")
        .fingerprint
        .clone();
    let recorded: BTreeSet<String> = [first.clone(), "0000000000000000".to_string()].into();
    let with = lint(
        &LintOptions {
            baseline: Some(recorded),
            ..LintOptions::new(root)
        },
        &Config::default(),
        &common::all_rules(),
    );
    let hidden = all
        .diagnostics
        .iter()
        .filter(|d| d.suppression.is_none() && d.fingerprint == first)
        .count();
    assert_eq!(with.summary.baselined, hidden);
    assert_eq!(with.baselined.len(), hidden);
    assert_eq!(
        with.summary.stale_baseline, 1,
        "one recorded entry matches nothing"
    );
    assert!(!with
        .diagnostics
        .iter()
        .any(|d| d.suppression.is_none() && d.fingerprint == first));
    assert_eq!(with.diagnostics.len() + hidden, all.diagnostics.len());
}

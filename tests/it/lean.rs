//! Linting renders lean (see `render::lean` and `render::handover`): builds own the source trees
//! they apply, and workloads keep only their metadata. That must change nothing a user sees, so
//! every fixture repository, every rule fixture and (when `../shared` is present) every corpus
//! repository is linted both ways and the JSON reports compared.

use crate::common;

use std::path::{Path, PathBuf};

use cnpg_lint::config::Config;
use cnpg_lint::pipeline::{lint, LintOptions};
use cnpg_lint::report::Format;

fn report(root: &Path, lean: bool) -> String {
    let result = lint(
        &LintOptions {
            jobs: 2,
            lean,
            ..LintOptions::new(root.to_path_buf())
        },
        &config_of(root),
        &common::all_rules(),
    );
    assert!(
        result.internal_errors.is_empty(),
        "{}: {:?}",
        root.display(),
        result.internal_errors
    );
    common::render(&result, Format::Json)
}

fn config_of(root: &Path) -> Config {
    cnpg_lint::config::find(root, root)
        .map(|p| Config::load(&p).expect("fixture config"))
        .unwrap_or_default()
}

fn dirs_in(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    out.retain(|p| p.is_dir());
    out.sort();
    out
}

fn assert_same(roots: &[PathBuf]) -> usize {
    let mut findings = 0;
    for root in roots {
        let full = report(root, false);
        let lean = report(root, true);
        assert_eq!(
            lean,
            full,
            "lean linting changed the report of {}",
            root.display()
        );
        findings += full.matches("\"code\":").count();
    }
    findings
}

#[test]
fn lean_linting_changes_no_finding_on_fixtures() {
    let base = common::project_root().join("fixtures");
    let mut roots = dirs_in(&base.join("repos"));
    roots.extend(dirs_in(&base.join("rules")));
    assert!(roots.len() > 40, "{roots:?}");
    // The comparison means something only if the fixtures report findings.
    assert!(assert_same(&roots) > 50);
}

#[test]
fn lean_linting_changes_no_finding_on_the_corpus() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared is absent, so there is no corpus to lint");
        return;
    };
    let roots = dirs_in(&shared.join("corpus"));
    assert!(roots.len() >= 10);
    assert!(assert_same(&roots) > 0);
}

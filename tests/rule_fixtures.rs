//! `fixtures/rules/<CODE>/` holds a small repository per rule. Every rule runs over it (unused
//! suppressions can only be judged that way) and only that rule's findings are kept. Every one
//! must be in a `fires-*` file, every `fires-*` file must have one, and the human and JSON
//! outputs are snapshots.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use cnpg_lint::report::Format;
use cnpg_lint::rules::{self, RULES};
use cnpg_lint::source::paths;

fn lintable_files(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read fixture dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            lintable_files(&path, base, out);
        } else if cnpg_lint::discover::file_kind(&path).is_some() {
            let rel = path.strip_prefix(base).expect("under base");
            out.insert(cnpg_lint::source::slash_path(rel));
        }
    }
}

#[test]
fn every_rule_has_a_fixture_repository() {
    for r in RULES {
        let dir = common::project_root()
            .join("fixtures/rules")
            .join(r.meta.code);
        assert!(dir.is_dir(), "missing fixtures/rules/{}", r.meta.code);
    }
}

#[test]
fn fixtures_fire_only_where_marked() {
    let base = common::project_root().join("fixtures/rules");
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .expect("fixtures/rules")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let code = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let rule = rules::find(&code).unwrap_or_else(|| panic!("no rule {code}"));
        let mut result = common::run(&dir, &common::rules_with(rule));
        result.diagnostics.retain(|d| d.code == rule.meta.code);
        assert!(
            result.internal_errors.is_empty(),
            "{:?}",
            result.internal_errors
        );
        let human = common::render(&result, Format::Human);
        let mut files = BTreeSet::new();
        lintable_files(&dir, &dir, &mut files);
        let mut with_findings = BTreeSet::new();
        for d in &result.diagnostics {
            assert_eq!(d.code, code);
            // A file whose name is fixed (kustomization.yaml) fires from a `fires-*` directory.
            assert!(
                d.at.path.split('/').any(|seg| seg.starts_with("fires-")),
                "{code}: finding in {} which is not a fires-* file:\n{human}",
                d.at.path
            );
            with_findings.insert(d.at.path.clone());
        }
        for f in files
            .iter()
            .filter(|f| paths::file_name(f).starts_with("fires-"))
        {
            assert!(
                with_findings.contains(f),
                "{code}: {f} has no finding:\n{human}"
            );
        }
        insta::assert_snapshot!(format!("{code}_human"), human);
        insta::assert_snapshot!(
            format!("{code}_json"),
            common::render(&result, Format::Json)
        );
    }
}

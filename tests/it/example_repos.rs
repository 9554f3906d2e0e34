//! Each repository in `fixtures/repos/` with all rules on: the concise output is a snapshot.

use crate::common;

use cnpg_lint::report::Format;

#[test]
fn example_repositories() {
    let base = common::project_root().join("fixtures/repos");
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .expect("fixtures/repos")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let name = dir
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        // Each repository's own configuration applies, as it does for `cnpg-lint check`.
        let config = cnpg_lint::config::find(&dir, &dir)
            .map(|p| cnpg_lint::config::Config::load(&p).expect("fixture config"))
            .unwrap_or_default();
        let result = common::run_with(&dir, &config, &common::all_rules());
        assert!(
            result.internal_errors.is_empty(),
            "{:?}",
            result.internal_errors
        );
        assert!(result.problems.is_empty(), "{:?}", result.problems);
        insta::assert_snapshot!(
            format!("repo_{name}"),
            common::render(&result, Format::Concise)
        );
    }
}

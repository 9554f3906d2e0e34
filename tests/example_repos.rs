//! Each repository in `fixtures/repos/` with all rules on: the concise output is a snapshot.

mod common;

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
        let result = common::run(&dir, &common::all_rules());
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

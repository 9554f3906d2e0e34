//! The README's rule table is generated from the registry; this keeps it in sync.

use crate::common;

#[test]
fn readme_rule_table_matches_the_registry() {
    let readme = std::fs::read_to_string(common::project_root().join("README.md")).expect("README");
    let start = readme.find("<!-- rules:start -->\n").expect("start marker") + 21;
    let end = readme.find("<!-- rules:end -->").expect("end marker");
    let table = cnpg_lint::cli::rules_table();
    assert_eq!(
        &readme[start..end],
        table,
        "README rule table is out of date; replace it with `cnpg-lint rules`"
    );
}

#[test]
fn readme_setup_runs_the_example_repository() {
    let readme = std::fs::read_to_string(common::project_root().join("README.md")).expect("README");
    assert!(readme.contains("cargo run --release -- check fixtures/repos/gke-platform"));
    assert!(readme.contains("cargo test --workspace --locked"));
    assert!(common::project_root()
        .join("fixtures/repos/gke-platform")
        .is_dir());
    let ci = std::fs::read_to_string(common::project_root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.contains("cargo test --workspace --locked"),
        ".ci/run must run the README's test command"
    );
}

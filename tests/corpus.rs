//! Runs the linter over every real repository in `../shared/corpus`: no panic, no internal
//! error, exit 0 or 1, and a snapshot of the number of findings per rule per repository so that
//! a change in behaviour shows in review. Skipped when `../shared` is absent.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

#[test]
fn corpus_findings_per_rule() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared is absent, so there is no corpus to lint");
        return;
    };
    let corpus = shared.join("corpus");
    let mut repos: Vec<_> = std::fs::read_dir(&corpus)
        .expect("read corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    assert!(
        repos.len() >= 10,
        "expected the corpus repositories in {}",
        corpus.display()
    );
    let mut table: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for repo in repos {
        let name = repo
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let out = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
            .args(["check", "--format", "json"])
            .arg(&repo)
            .current_dir(&repo)
            .output()
            .expect("run cnpg-lint");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let status = out.status.code();
        assert!(
            matches!(status, Some(0 | 1)),
            "{name}: exit {status:?}\n{stderr}"
        );
        assert!(!stderr.contains("internal error"), "{name}: {stderr}");
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
        let mut counts = BTreeMap::new();
        for d in json["diagnostics"].as_array().expect("diagnostics") {
            let code = d["code"].as_str().expect("code").to_string();
            *counts.entry(code).or_insert(0) += 1;
        }
        table.insert(name, counts);
    }
    insta::assert_yaml_snapshot!("corpus_findings_per_rule", table);
}

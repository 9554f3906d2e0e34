//! Runs the linter over every real repository in `../shared/corpus`: no panic, no internal
//! error, exit 0 or 1, and a snapshot of the number of findings per rule per repository so that
//! a change in behaviour shows in review. Skipped when `../shared` is absent.

use crate::common;

use std::collections::BTreeMap;
use std::process::Command;

/// The JSON output of `check` on each corpus repository, by name, run once for all the tests
/// of this file: no panic, no internal error, exit 0 or 1.
fn corpus_output(shared: &std::path::Path) -> &'static [(String, serde_json::Value)] {
    static OUTPUT: std::sync::OnceLock<Vec<(String, serde_json::Value)>> =
        std::sync::OnceLock::new();
    OUTPUT.get_or_init(|| {
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
        repos
            .iter()
            .map(|repo| {
                let name = repo
                    .file_name()
                    .expect("name")
                    .to_string_lossy()
                    .into_owned();
                let out = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
                    .args(["check", "--format", "json"])
                    .arg(repo)
                    .current_dir(repo)
                    .output()
                    .expect("run cnpg-lint");
                let stderr = String::from_utf8_lossy(&out.stderr);
                let status = out.status.code();
                assert!(
                    matches!(status, Some(0 | 1)),
                    "{name}: exit {status:?}\n{stderr}"
                );
                assert!(!stderr.contains("internal error"), "{name}: {stderr}");
                let json = serde_json::from_slice(&out.stdout).expect("JSON output");
                (name, json)
            })
            .collect()
    })
}

#[test]
fn corpus_findings_per_rule() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared is absent, so there is no corpus to lint");
        return;
    };
    let mut table: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for (name, json) in corpus_output(&shared) {
        let mut counts = BTreeMap::new();
        for d in json["diagnostics"].as_array().expect("diagnostics") {
            let code = d["code"].as_str().expect("code").to_string();
            *counts.entry(code).or_insert(0) += 1;
        }
        table.insert(name.clone(), counts);
    }
    insta::assert_yaml_snapshot!("corpus_findings_per_rule", table);
}

/// The judged findings of the corpus (`tests/corpus-verdicts.tsv`: repo, code, path, line,
/// verdict, reason), as reviewers who did not write the rules judged them: TP (worth acting on),
/// noise (true but not worth acting on) or FP (false). Fails when a finding appears that nobody
/// judged, when a judged TP disappears, when one place carries two findings of one rule, or when
/// precision (TP over all, by distinct code, path and line) falls below 95 %. Run it with
/// `-- --nocapture` to see the table per rule.
#[test]
fn corpus_findings_are_judged() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared is absent, so there is no corpus to judge");
        return;
    };
    let verdicts_file = common::project_root().join("tests/corpus-verdicts.tsv");
    let text = std::fs::read_to_string(&verdicts_file).expect("tests/corpus-verdicts.tsv");
    let mut verdicts: BTreeMap<(String, String, String, u64), String> = BTreeMap::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(
            cols.len() == 6,
            "corpus-verdicts.tsv:{}: expected 6 columns",
            n + 1
        );
        let verdict = cols[4];
        assert!(
            matches!(verdict, "TP" | "noise" | "FP"),
            "corpus-verdicts.tsv:{}: verdict `{verdict}`",
            n + 1
        );
        let line_no: u64 = cols[3].parse().expect("line number");
        let key = (
            cols[0].to_string(),
            cols[1].to_string(),
            cols[2].to_string(),
            line_no,
        );
        assert!(
            verdicts.insert(key, verdict.to_string()).is_none(),
            "corpus-verdicts.tsv:{}: judged twice",
            n + 1
        );
    }
    let mut found: BTreeMap<(String, String, String, u64), usize> = BTreeMap::new();
    for (name, json) in corpus_output(&shared) {
        for d in json["diagnostics"].as_array().expect("diagnostics") {
            let key = (
                name.clone(),
                d["code"].as_str().expect("code").to_string(),
                d["path"].as_str().expect("path").to_string(),
                d["line"].as_u64().expect("line"),
            );
            *found.entry(key).or_insert(0) += 1;
        }
    }
    let mut problems = Vec::new();
    let mut table: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    for (key, n) in &found {
        if *n > 1 {
            problems.push(format!("{n} findings at one place: {key:?}"));
        }
        match verdicts.get(key).map(String::as_str) {
            None => problems.push(format!("finding nobody judged: {key:?}")),
            Some(v) => {
                let i = match v {
                    "TP" => 0,
                    "noise" => 1,
                    _ => 2,
                };
                table.entry(key.1.clone()).or_default()[i] += 1;
            }
        }
    }
    for (key, v) in &verdicts {
        if v == "TP" && !found.contains_key(key) {
            problems.push(format!("judged TP no longer reported: {key:?}"));
        }
    }
    let total = table
        .values()
        .fold([0; 3], |a, r| [a[0] + r[0], a[1] + r[1], a[2] + r[2]]);
    eprintln!("rule      TP  noise  FP");
    for (code, [tp, noise, fp]) in &table {
        eprintln!("{code}  {tp:>4}  {noise:>5}  {fp:>2}");
    }
    let judged = total.iter().sum::<usize>().max(1);
    let precision = total[0] as f64 / judged as f64;
    eprintln!(
        "total    {:>4}  {:>5}  {:>2}  precision {:.1} %",
        total[0],
        total[1],
        total[2],
        precision * 100.0
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        precision >= 0.95,
        "precision {:.1} % is below 95 %",
        precision * 100.0
    );
}

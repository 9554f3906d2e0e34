//! Every output format over one fixture repository, as snapshots; SARIF is also validated
//! against the SARIF 2.1.0 schema in `../shared/sarif` (skipped when absent).

use crate::common;

use std::process::Command;

fn run(format: &str) -> (i32, String) {
    let dir = common::project_root().join("fixtures/repos/suppressions");
    let out = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .args(["check", "--format", format])
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cnpg-lint");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    // The absolute root differs between machines.
    let root = dir
        .canonicalize()
        .expect("canonical")
        .to_string_lossy()
        .into_owned();
    (
        out.status.code().unwrap_or(-1),
        text.replace(&root, "[ROOT]"),
    )
}

#[test]
fn human() {
    let (code, out) = run("human");
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn concise() {
    let (code, out) = run("concise");
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn json() {
    let (code, out) = run("json");
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn github() {
    let (code, out) = run("github");
    assert_eq!(code, 1);
    assert!(out.lines().any(|l| l.starts_with(
        "::error file=apps/db/cluster.yaml,line=64,col=5,endLine=64,endColumn=18,title=CNPG201 mixed-bootstrap-methods::"
    )), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn sarif() {
    let (code, out) = run("sarif");
    assert_eq!(code, 1);
    let value: serde_json::Value = serde_json::from_str(&out).expect("SARIF is JSON");
    let run = &value["runs"][0];
    let results = run["results"].as_array().expect("results");
    // Suppressed findings are kept, marked, with their justification.
    let suppressed: Vec<_> = results
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert_eq!(suppressed.len(), 2);
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "inSource");
    assert!(suppressed
        .iter()
        .any(|r| r["suppressions"][0]["justification"]
            .as_str()
            .is_some_and(|j| j.contains("restore procedure"))));
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(run["tool"]["driver"]["rules"][index]["id"], r["ruleId"]);
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"],
            "%SRCROOT%"
        );
    }
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), cnpg_lint::rules::RULES.len());
    let wi = rules
        .iter()
        .find(|r| r["id"] == "CNPG301")
        .expect("CNPG301");
    assert_eq!(wi["properties"]["security-severity"], "7.5");
    assert!(wi["help"]["markdown"]
        .as_str()
        .is_some_and(|m| m.contains("## Why it matters")));
    insta::assert_snapshot!(out);

    let Some(shared) = common::shared() else {
        eprintln!("skipped SARIF schema validation: ../shared is absent");
        return;
    };
    let schema_path = shared.join("sarif/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("SARIF schema"))
            .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn sarif_fingerprints_survive_lines_inserted_above() {
    let dir = common::scratch("sarif-fingerprints");
    let original = std::fs::read_to_string(
        common::project_root().join("fixtures/repos/suppressions/apps/db/cluster.yaml"),
    )
    .expect("fixture");
    let fingerprints = |text: &str| {
        common::write_repo(&dir, &[("apps/db/cluster.yaml".into(), text.to_string())]);
        let result = common::run(&dir, &common::all_rules());
        result
            .diagnostics
            .iter()
            .map(|d| (d.code, d.fingerprint.clone(), d.at.start.line))
            .collect::<Vec<_>>()
    };
    let before = fingerprints(&original);
    let after = fingerprints(&format!("# a new comment\n# and another\n{original}"));
    assert_eq!(before.len(), after.len());
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(b.0, a.0);
        assert_eq!(b.1, a.1, "fingerprint of {} moved", b.0);
        assert_eq!(b.2 + 2, a.2, "line should move by two");
    }
}

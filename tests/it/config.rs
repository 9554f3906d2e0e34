//! The configuration file: discovery, every key's effect, located errors, and the shipped JSON
//! Schema (which must match the parser and accept the README's example).

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

fn cnpg_lint(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cnpg-lint")
}

const TWO_FINDINGS: &str = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
spec:
  instances: 3
  storage:
    size: 10Gi
  bootstrap:
    initdb: {database: app, owner: app}
    recovery: {backup: {name: x}}
  plugins:
    - name: barman-cloud.cloudnative-pg.io
      isWALArchiver: true
      parameters: {barmanObjectName: store}
---
apiVersion: barmancloud.cnpg.io/v1
kind: ObjectStore
metadata:
  name: store
spec:
  configuration:
    destinationPath: s3://b/pg
    s3Credentials: {inheritFromIAMRole: true}
";

fn repo(name: &str, config: &str) -> std::path::PathBuf {
    let dir = common::scratch(name);
    common::write_repo(
        &dir,
        &[
            ("apps/db/cluster.yaml".into(), TWO_FINDINGS.into()),
            ("legacy/cluster.yaml".into(), TWO_FINDINGS.into()),
        ],
    );
    std::fs::write(dir.join(".cnpg-lint.yaml"), format!("root: true\n{config}")).expect("config");
    dir
}

fn codes(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let mut parts = l.split(' ');
            let path = parts.next().unwrap_or("").trim_end_matches(':');
            let path = path.split(':').next().unwrap_or("");
            format!("{path} {}", parts.next().unwrap_or(""))
        })
        .collect()
}

#[test]
fn keys_take_effect() {
    let dir = repo("config-keys", "");
    let all = cnpg_lint(&dir, &["check", "--format", "concise"]);
    assert_eq!(codes(&all).len(), 4);

    let dir = repo("config-select", "select: [CNPG101]\n");
    assert_eq!(
        codes(&cnpg_lint(&dir, &["check", "--format", "concise"])),
        [
            "apps/db/cluster.yaml CNPG101",
            "legacy/cluster.yaml CNPG101"
        ]
    );
    // The command line replaces the configuration's selection.
    assert_eq!(
        codes(&cnpg_lint(
            &dir,
            &["check", "--format", "concise", "--select", "CNPG201"]
        )),
        [
            "apps/db/cluster.yaml CNPG201",
            "legacy/cluster.yaml CNPG201"
        ]
    );

    let dir = repo("config-ignore", "ignore: mixed-bootstrap-methods\n");
    assert_eq!(
        codes(&cnpg_lint(&dir, &["check", "--format", "concise"])).len(),
        2
    );

    let dir = repo("config-exclude", "exclude: [\"legacy/**\"]\n");
    let out = cnpg_lint(&dir, &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["summary"]["files"], 1, "excluded files are not read");

    let dir = repo(
        "config-per-file",
        "per-file-ignores:\n  \"legacy/**\": [CNPG101, CNPG201]\n",
    );
    // Sorted by line: the bootstrap (line 11) comes before the destinationPath (line 14).
    assert_eq!(
        codes(&cnpg_lint(&dir, &["check", "--format", "concise"])),
        [
            "apps/db/cluster.yaml CNPG201",
            "apps/db/cluster.yaml CNPG101"
        ]
    );

    let dir = repo(
        "config-severity",
        "severity:\n  CNPG101: info\n  CNPG201: off\nfail-on: warning\n",
    );
    let out = cnpg_lint(&dir, &["check", "--format", "concise"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("CNPG101 [info]"), "{text}");
    assert!(!text.contains("CNPG201"), "{text}");
    assert_eq!(out.status.code(), Some(0), "info is below fail-on warning");
    assert_eq!(
        cnpg_lint(&dir, &["check", "--fail-on", "info"])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn rule_options_reach_the_rule() {
    let dir = common::scratch("config-margin");
    let cluster = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: pg, namespace: db}
spec:
  instances: 3
  storage: {size: 10Gi}
  backup:
    retentionPolicy: 30d
    barmanObjectStore:
      destinationPath: s3://pg-backups/
      s3Credentials: {inheritFromIAMRole: true}
";
    let tf = "resource \"aws_s3_bucket_lifecycle_configuration\" \"b\" {\n  bucket = \"pg-backups\"\n  rule {\n    id = \"x\"\n    status = \"Enabled\"\n    expiration {\n      days = 35\n    }\n  }\n}\n";
    common::write_repo(
        &dir,
        &[
            ("db.yaml".into(), cluster.into()),
            ("s3.tf".into(), tf.into()),
        ],
    );
    // Only the rule whose option is under test.
    let check = ["check", "--select", "CNPG102", "--format", "concise"];
    assert_eq!(
        cnpg_lint(&dir, &check).status.code(),
        Some(0),
        "35 > 30 + 1"
    );
    std::fs::write(
        dir.join(".cnpg-lint.yaml"),
        "root: true\nrules:\n  CNPG102:\n    safety-margin-days: 7\n",
    )
    .expect("config");
    let out = cnpg_lint(&dir, &check);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("s3.tf:7:14: CNPG102"));
}

#[test]
fn mistakes_exit_2_with_a_location() {
    let dir = repo("config-bad-key", "selct: [CNPG101]\n");
    let out = cnpg_lint(&dir, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(".cnpg-lint.yaml:2:1: unknown key `selct`"),
        "{err}"
    );

    let dir = repo("config-bad-value", "severity:\n  CNPG101: loud\n");
    let err = String::from_utf8_lossy(&cnpg_lint(&dir, &["check"]).stderr).into_owned();
    assert!(err.contains(".cnpg-lint.yaml:3:12:"), "{err}");

    let dir = repo("config-explicit", "");
    std::fs::write(dir.join("ci.yaml"), "ignore: [CNPG000]\n").expect("write");
    let out = cnpg_lint(&dir, &["check", "--config", "ci.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ci.yaml:1:"));
}

#[test]
fn nearest_configuration_up_to_the_root_is_used() {
    let dir = repo("config-nearest", "");
    std::fs::write(dir.join("apps/.cnpg-lint.yaml"), "ignore: [CNPG201]\n").expect("write");
    // Linting apps/ finds apps/.cnpg-lint.yaml; the root stays the directory with root: true.
    let out = cnpg_lint(&dir, &["check", "--format", "concise", "apps"]);
    assert_eq!(codes(&out), ["apps/db/cluster.yaml CNPG101"]);
}

fn schema_file() -> serde_json::Value {
    let text = std::fs::read_to_string(
        common::project_root().join("schemas/cnpg-lint-config.schema.json"),
    )
    .expect("schema file");
    serde_json::from_str(&text).expect("schema is JSON")
}

#[test]
fn shipped_schema_matches_the_parser() {
    assert_eq!(
        schema_file(),
        cnpg_lint::config::schema(),
        "schemas/cnpg-lint-config.schema.json is stale: regenerate it with \
         `cargo run -- schema config > schemas/cnpg-lint-config.schema.json`"
    );
}

#[test]
fn readme_example_is_valid() {
    let readme = std::fs::read_to_string(common::project_root().join("README.md")).expect("README");
    let section = &readme[readme.find("## Configuration").expect("section")..];
    let start = section.find("```yaml\n").expect("example") + 8;
    let end = start + section[start..].find("```").expect("end");
    let example = &section[start..end];
    let config = cnpg_lint::config::Config::parse(Path::new("README.md"), example)
        .unwrap_or_else(|e| panic!("README example does not parse: {e}"));
    assert_eq!(config.option("CNPG102", "safety-margin-days"), Some(7));
    // And the editor schema accepts it.
    let loaded = cnpg_lint::internals::load_yaml(0, example);
    let as_json = to_json(&loaded.docs[0].root);
    let validator = jsonschema::validator_for(&schema_file()).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&as_json)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // A typo is rejected by the schema too.
    let bad = serde_json::json!({ "selct": ["CNPG101"] });
    assert!(!validator.is_valid(&bad));
}

fn to_json(node: &cnpg_lint::internals::Node) -> serde_json::Value {
    use cnpg_lint::internals::Kind;
    match &node.kind {
        // Editors read YAML 1.2, where only true and false are booleans (`off` is a string).
        Kind::Scalar(s) => {
            let core_bool = match (s.style, &*s.text) {
                (cnpg_lint::internals::Style::Plain, "true") => Some(true),
                (cnpg_lint::internals::Style::Plain, "false") => Some(false),
                _ => None,
            };
            if let Some(b) = core_bool {
                serde_json::Value::Bool(b)
            } else if let Some(i) = s.as_i64() {
                serde_json::json!(i)
            } else {
                serde_json::Value::String(s.text.to_string())
            }
        }
        Kind::Seq(items) => items.iter().map(to_json).collect(),
        Kind::Map(entries) => entries
            .iter()
            .map(|e| (e.key.as_str().unwrap_or("").to_string(), to_json(&e.value)))
            .collect::<serde_json::Map<_, _>>()
            .into(),
    }
}

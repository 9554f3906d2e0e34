//! The command-line contract: exit codes, formats, file mode (pre-commit), `rules`, `explain`.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_cnpg-lint");

fn cnpg_lint(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cnpg-lint")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const CLUSTER: &str = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
  namespace: db
spec:
  instances: 3
  storage:
    size: 10Gi
  plugins:
    - name: barman-cloud.cloudnative-pg.io
      isWALArchiver: true
      parameters:
        barmanObjectName: store
";

const STORE: &str = "\
apiVersion: barmancloud.cnpg.io/v1
kind: ObjectStore
metadata:
  name: store
  namespace: db
spec:
  configuration:
    destinationPath: s3://backups/pg
    s3Credentials:
      inheritFromIAMRole: true
";

/// A repository where the CNPG101 finding sits in `store.yaml`, and only the Cluster in
/// `cluster.yaml` explains it.
fn split_repo(name: &str) -> std::path::PathBuf {
    let dir = common::scratch(name);
    common::write_repo(
        &dir,
        &[
            ("db/cluster.yaml".into(), CLUSTER.into()),
            ("db/store.yaml".into(), STORE.into()),
        ],
    );
    dir
}

#[test]
fn exit_codes() {
    let dir = split_repo("cli-exit");
    // The doubled path is written by its only user: a warning, which fails the run unless
    // --fail-on error raises the bar.
    assert_eq!(code(&cnpg_lint(&dir, &["check"])), 1);
    assert_eq!(code(&cnpg_lint(&dir, &["check", "--fail-on", "error"])), 0);
    assert_eq!(code(&cnpg_lint(&dir, &["check", "--ignore", "CNPG101"])), 0);
    assert_eq!(
        code(&cnpg_lint(
            &dir,
            &["check", "--select", "mixed-bootstrap-methods"]
        )),
        0
    );
    let bad_flag = cnpg_lint(&dir, &["check", "--no-such-flag"]);
    assert_eq!(code(&bad_flag), 2);
    let unknown_rule = cnpg_lint(&dir, &["check", "--select", "CNPG999"]);
    assert_eq!(code(&unknown_rule), 2);
    assert!(stderr(&unknown_rule).contains("unknown rule `CNPG999`"));
    let missing = cnpg_lint(&dir, &["check", "does/not/exist"]);
    assert_eq!(code(&missing), 2);
    assert!(stderr(&missing).contains("does/not/exist"));
    assert_eq!(code(&cnpg_lint(&dir, &["--help"])), 0);
}

#[test]
fn timings_name_every_stage() {
    let dir = split_repo("cli-timings");
    let out = cnpg_lint(&dir, &["check", "--timings"]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    // Every stage, in the pipeline's order, each timed on its own.
    let stages = [
        "discover",
        "load",
        "model",
        "render",
        "index",
        "schema",
        "rules",
        "diagnostics",
        "report",
        "total",
    ];
    let named: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(" ms"))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(named, stages, "{err}");
    if cfg!(target_os = "linux") {
        assert!(err.contains("MB resident"), "{err}");
    }
}

#[test]
fn warnings_respect_fail_on() {
    let dir = common::scratch("cli-fail-on");
    let cluster = |name: &str| {
        // Without the plugin entry, so that no error-level rule fires.
        CLUSTER
            .split("  plugins:")
            .next()
            .unwrap_or(CLUSTER)
            .replace("name: pg", &format!("name: {name}"))
    };
    common::write_repo(
        &dir,
        &[
            (
                "flux.yaml".into(),
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: dbs\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./dbs\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n".into(),
            ),
            ("dbs/a.yaml".into(), cluster("a")),
            ("dbs/b.yaml".into(), cluster("b")),
        ],
    );
    let warn = cnpg_lint(&dir, &["check", "--format", "concise"]);
    assert_eq!(code(&warn), 1, "{}", stdout(&warn));
    assert!(stdout(&warn).contains("CNPG401 [warning]"));
    assert_eq!(code(&cnpg_lint(&dir, &["check", "--fail-on", "error"])), 0);
}

#[test]
fn files_are_linted_in_the_context_of_their_repository() {
    let dir = split_repo("cli-files");
    // The finding is in store.yaml, and needs cluster.yaml to exist.
    let on_store = cnpg_lint(&dir, &["check", "--format", "concise", "db/store.yaml"]);
    assert_eq!(code(&on_store), 1);
    assert_eq!(
        stdout(&on_store)
            .lines()
            .next()
            .map(|l| l.split(": ").next()),
        Some(Some("db/store.yaml:8:22"))
    );
    let on_cluster = cnpg_lint(&dir, &["check", "--format", "concise", "db/cluster.yaml"]);
    assert_eq!(code(&on_cluster), 0, "{}", stdout(&on_cluster));
    assert_eq!(stdout(&on_cluster), "");
    // From a subdirectory, paths are printed relative to it.
    let sub = cnpg_lint(
        &dir.join("db"),
        &["check", "--format", "concise", "store.yaml"],
    );
    assert!(
        stdout(&sub).starts_with("store.yaml:8:22: CNPG101 [warning]"),
        "{}",
        stdout(&sub)
    );
}

#[test]
fn json_output_follows_its_schema() {
    let dir = split_repo("cli-json");
    let out = cnpg_lint(&dir, &["check", "--format", "json"]);
    assert_eq!(code(&out), 1);
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(common::project_root().join("schemas/output-v1.json"))
            .expect("schema file"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(value["diagnostics"][0]["code"], "CNPG101");
    assert_eq!(value["diagnostics"][0]["object"]["kind"], "ObjectStore");
    assert_eq!(
        value["diagnostics"][0]["related"][0]["path"],
        "db/cluster.yaml"
    );
    assert_eq!(value["summary"]["warnings"], 1);
    assert_eq!(value["summary"]["objects"], 2);
    // A clean run validates too.
    let clean = cnpg_lint(&dir, &["check", "--format", "json", "--ignore", "CNPG101"]);
    let value: serde_json::Value = serde_json::from_slice(&clean.stdout).expect("valid JSON");
    assert!(validator.is_valid(&value));
}

#[test]
fn output_file_and_no_colour_when_not_a_terminal() {
    let dir = split_repo("cli-output");
    let out = cnpg_lint(&dir, &["check", "--output", "report.txt"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "");
    let text = std::fs::read_to_string(dir.join("report.txt")).expect("report written");
    assert!(text.contains("CNPG101 double-nested-destination-path"));
    assert!(!text.contains('\u{1b}'), "no ANSI escapes in a file");
    assert!(text.contains("db/store.yaml:8:22"));
}

#[test]
fn unreadable_files_are_located_errors_with_exit_2() {
    let dir = split_repo("cli-symlink-loop");
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("b.yaml", dir.join("a.yaml")).expect("symlink");
        std::os::unix::fs::symlink("a.yaml", dir.join("b.yaml")).expect("symlink");
        let out = cnpg_lint(&dir, &["check", "--format", "concise"]);
        assert_eq!(code(&out), 2, "{}", stderr(&out));
        assert!(stderr(&out).contains("a.yaml"), "{}", stderr(&out));
        // The other files' findings are still reported.
        assert!(stdout(&out).contains("CNPG101"));
    }
}

#[test]
fn rules_and_explain() {
    let dir = common::scratch("cli-rules");
    let out = cnpg_lint(&dir, &["rules"]);
    assert_eq!(code(&out), 0);
    for r in cnpg_lint::rules::RULES {
        assert!(stdout(&out).contains(r.meta.code));
        assert!(stdout(&out).contains(r.meta.name));
    }
    let by_code = cnpg_lint(&dir, &["explain", "CNPG101"]);
    assert_eq!(code(&by_code), 0);
    assert!(stdout(&by_code).starts_with("# CNPG101 double-nested-destination-path"));
    let by_name = cnpg_lint(&dir, &["explain", "double-nested-destination-path"]);
    assert_eq!(stdout(&by_code), stdout(&by_name));
    assert_eq!(code(&cnpg_lint(&dir, &["explain", "nope"])), 2);
}

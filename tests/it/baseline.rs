//! Baselines: recorded findings stay hidden when lines move; new ones show; stale entries count.

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `check` with only CNPG101, the rule these scenarios are built around.
fn cnpg_lint(cwd: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    if all.first() == Some(&"check") {
        all.insert(1, "--select=CNPG101");
    }
    Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .args(&all)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .output()
        .expect("run cnpg-lint")
}

const CLUSTER: &str = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: NAME
spec:
  instances: 3
  storage:
    size: 10Gi
  backup:
    barmanObjectStore:
      destinationPath: s3://b/NAME
      s3Credentials:
        inheritFromIAMRole: true
";

fn summary(out: &Output) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    json["summary"].clone()
}

#[test]
fn baseline_hides_recorded_findings_only() {
    let dir = common::scratch("baseline");
    common::write_repo(&dir, &[("a.yaml".into(), CLUSTER.replace("NAME", "a"))]);
    let write = cnpg_lint(&dir, &["check", "--write-baseline", "baseline.json"]);
    assert_eq!(write.status.code(), Some(1), "writing still reports");
    let recorded = std::fs::read_to_string(dir.join("baseline.json")).expect("baseline");
    assert!(recorded.contains("\"code\": \"CNPG101\""));

    let again = cnpg_lint(
        &dir,
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(summary(&again)["baselined"], 1);

    // Lines inserted above do not bring the finding back.
    std::fs::write(
        dir.join("a.yaml"),
        format!("# moved\n# down\n{}", CLUSTER.replace("NAME", "a")),
    )
    .expect("write");
    let moved = cnpg_lint(
        &dir,
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(moved.status.code(), Some(0));

    // A new finding is reported; the old one stays hidden.
    std::fs::write(dir.join("b.yaml"), CLUSTER.replace("NAME", "b")).expect("write");
    let new = cnpg_lint(
        &dir,
        &[
            "check",
            "--baseline",
            "baseline.json",
            "--format",
            "concise",
        ],
    );
    assert_eq!(new.status.code(), Some(1));
    let text = String::from_utf8_lossy(&new.stdout).into_owned();
    assert!(text.starts_with("b.yaml:11:24: CNPG101"), "{text}");
    assert_eq!(text.lines().count(), 1);

    // Fixing the recorded finding leaves a stale entry.
    std::fs::write(
        dir.join("a.yaml"),
        CLUSTER
            .replace("s3://b/NAME", "s3://b/")
            .replace("NAME", "a"),
    )
    .expect("write");
    let stale = cnpg_lint(
        &dir,
        &["check", "--baseline", "baseline.json", "--format", "json"],
    );
    assert_eq!(summary(&stale)["stale_baseline"], 1);
    let human = cnpg_lint(&dir, &["check", "--baseline", "baseline.json"]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("1 stale baseline entry"));

    let broken = cnpg_lint(&dir, &["check", "--baseline", "a.yaml"]);
    assert_eq!(broken.status.code(), Some(2));
}

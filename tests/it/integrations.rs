//! The GitHub Action, the README workflow that uses it, the pre-commit hook definition, shell
//! completions and the man page.

use crate::common;

use std::process::Command;

use cnpg_lint::internals::{self as yaml, Node};

fn load(path: &str) -> Node {
    let text = std::fs::read_to_string(common::project_root().join(path)).expect("file");
    let mut f = yaml::load_yaml(0, &text);
    assert!(f.errors.is_empty(), "{path}: {:?}", f.errors);
    f.docs.remove(0).root
}

fn readme_block(marker: &str) -> String {
    let readme = std::fs::read_to_string(common::project_root().join("README.md")).expect("README");
    let start = readme
        .find(&format!("<!-- {marker}:start -->"))
        .expect("start marker");
    let end = readme
        .find(&format!("<!-- {marker}:end -->"))
        .expect("end marker");
    let block = &readme[start..end];
    let code = block.find("```yaml\n").expect("yaml block") + 8;
    let close = block[code..].find("```").expect("closing fence");
    block[code..code + close].to_string()
}

#[test]
fn action_is_a_described_composite_action() {
    let action = load("action.yml");
    assert!(action.get("name").and_then(Node::as_str).is_some());
    assert!(action.get("description").and_then(Node::as_str).is_some());
    let inputs = action.get("inputs").and_then(Node::as_map).expect("inputs");
    let names: Vec<&str> = inputs.iter().filter_map(|e| e.key.as_str()).collect();
    assert_eq!(names, ["paths", "args", "fail-on", "sarif-file"]);
    for e in inputs {
        let d = e
            .value
            .get("description")
            .and_then(Node::as_str)
            .unwrap_or("");
        assert!(
            d.len() > 20,
            "input {:?} needs a description",
            e.key.as_str()
        );
    }
    assert_eq!(
        action.at(&["runs", "using"]).and_then(Node::as_str),
        Some("composite")
    );
    let steps = action
        .at(&["runs", "steps"])
        .and_then(Node::as_seq)
        .expect("steps");
    let text = std::fs::read_to_string(common::project_root().join("action.yml")).expect("read");
    assert!(text.contains("cargo install --locked --path \"$ACTION_PATH\""));
    assert!(steps
        .iter()
        .any(|s| s.get("uses").and_then(Node::as_str) == Some("actions/cache@v4")));
    for s in steps {
        if s.get("run").is_some() {
            assert_eq!(
                s.get("shell").and_then(Node::as_str),
                Some("bash"),
                "composite run steps need a shell"
            );
            // Inputs reach scripts through env, never through ${{ }} inside the script.
            let script = s.get("run").and_then(Node::as_str).unwrap_or("");
            assert!(
                !script.contains("${{"),
                "template expansion inside a run script: {script}"
            );
        }
    }
}

/// The action's last step, run for real with the inputs in its environment and the freshly
/// built binary on the PATH.
fn run_action_step(dir: &std::path::Path, sarif: &str) -> std::process::Output {
    let action = load("action.yml");
    let steps = action
        .at(&["runs", "steps"])
        .and_then(Node::as_seq)
        .expect("steps");
    let last = steps.last().expect("a step");
    let script = last.get("run").and_then(Node::as_str).expect("run script");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .parent()
        .expect("dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("INPUT_PATHS", ".")
        .env("INPUT_ARGS", "--ignore CNPG401")
        .env("INPUT_FAIL_ON", "warning")
        .env("INPUT_SARIF_FILE", sarif)
        .output()
        .expect("bash")
}

#[test]
fn action_run_step_annotates_or_writes_sarif() {
    let dir = common::project_root().join("fixtures/repos/gke-platform");
    let out = run_action_step(&dir, "");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.lines().any(|l| l
            .starts_with("::warning file=apps/databases/billing/objectstore.yaml,line=9,col=22,")),
        "{stdout}"
    );
    assert!(
        !stdout.contains("CNPG401"),
        "extra args are passed: {stdout}"
    );

    let scratch = common::scratch("action-sarif");
    let sarif = scratch.join("out.sarif");
    let out = run_action_step(&dir, sarif.to_str().expect("utf-8 path"));
    assert_eq!(out.status.code(), Some(1));
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("SARIF written"))
            .expect("json");
    assert_eq!(value["version"], "2.1.0");
    // As many results as a plain run with the same arguments finds.
    let plain = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .args(["check", "--format", "json", "--ignore", "CNPG401"])
        .current_dir(&dir)
        .output()
        .expect("run");
    let plain: serde_json::Value = serde_json::from_slice(&plain.stdout).expect("json");
    let expected = plain["diagnostics"].as_array().map(Vec::len);
    assert!(expected.is_some_and(|n| n > 0));
    assert_eq!(
        value["runs"][0]["results"].as_array().map(Vec::len),
        expected
    );
}

#[test]
fn readme_workflow_uploads_the_actions_sarif() {
    let text = readme_block("workflow");
    let loaded = yaml::load_yaml(0, &text);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let wf = &loaded.docs[0].root;
    let job = wf
        .get("jobs")
        .and_then(Node::as_map)
        .and_then(|j| j.first())
        .map(|e| &e.value)
        .expect("a job");
    assert_eq!(
        job.at(&["permissions", "security-events"])
            .and_then(Node::as_str),
        Some("write")
    );
    let steps = job.get("steps").and_then(Node::as_seq).expect("steps");
    let uses = |s: &Node| {
        s.get("uses")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string()
    };
    let lint = steps
        .iter()
        .find(|s| uses(s).starts_with("cnpg-lint/cnpg-lint@"))
        .expect("the action is used");
    let upload = steps
        .iter()
        .find(|s| uses(s).starts_with("github/codeql-action/upload-sarif@"))
        .expect("SARIF is uploaded");
    let sarif = lint
        .at(&["with", "sarif-file"])
        .and_then(Node::as_str)
        .expect("sarif-file");
    assert_eq!(
        upload.at(&["with", "sarif_file"]).and_then(Node::as_str),
        Some(sarif)
    );
    assert_eq!(upload.get("if").and_then(Node::as_str), Some("always()"));
    // Every input the workflow passes exists in action.yml.
    let action = load("action.yml");
    for e in lint.get("with").and_then(Node::as_map).unwrap_or(&[]) {
        let k = e.key.as_str().unwrap_or("");
        assert!(action.at(&["inputs", k]).is_some(), "unknown input {k}");
    }
}

#[test]
fn pre_commit_hook_definition() {
    let text = std::fs::read_to_string(common::project_root().join(".pre-commit-hooks.yaml"))
        .expect("hooks file");
    let loaded = yaml::load_yaml(0, &text);
    let hooks = loaded.docs[0].root.as_seq().expect("a list of hooks");
    let hook = &hooks[0];
    assert_eq!(hook.get("id").and_then(Node::as_str), Some("cnpg-lint"));
    assert_eq!(hook.get("language").and_then(Node::as_str), Some("rust"));
    assert_eq!(
        hook.get("entry").and_then(Node::as_str),
        Some("cnpg-lint check")
    );
    let files = hook
        .get("files")
        .and_then(Node::as_str)
        .expect("files pattern");
    for f in ["a.yaml", "b.yml", "main.tf"] {
        assert!(simple_match(files, f), "{files} should match {f}");
    }
    assert!(!simple_match(files, "README.md"));
    // The README snippet refers to this hook.
    assert!(readme_block("pre-commit").contains("- id: cnpg-lint"));
}

/// Enough of a regex matcher for `\.(ya?ml|tf)$`.
fn simple_match(pattern: &str, name: &str) -> bool {
    assert_eq!(
        pattern, r"\.(ya?ml|tf)$",
        "update this test with the pattern"
    );
    name.ends_with(".yaml") || name.ends_with(".yml") || name.ends_with(".tf")
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
            .args(["completions", shell])
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("cnpg-lint") && text.contains("check"),
            "{shell}"
        );
    }
    let man = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .arg("man")
        .output()
        .expect("run");
    assert_eq!(man.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&man.stdout).contains(".TH cnpg-lint 1"));
}

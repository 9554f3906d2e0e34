//! Flux ownership: which Kustomization applies which documents, in which namespace, and in
//! which cluster context.

use crate::common;

use std::collections::BTreeSet;

use cnpg_lint::internals::Index;
use cnpg_lint::internals::NameVal;

fn ks(name: &str, path: &str, extra: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{extra}"
    )
}

fn cm(name: &str, ns: Option<&str>) -> String {
    let ns = ns
        .map(|n| format!("  namespace: {n}\n"))
        .unwrap_or_default();
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n{ns}data:\n  a: b\n")
}

fn index_of(name: &str, files: &[(&str, String)]) -> Index {
    let dir = common::scratch(name);
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(p, c)| (p.to_string(), c.clone()))
        .collect();
    common::write_repo(&dir, &files);
    common::run(&dir, &[]).index
}

/// Names of the objects the Kustomization `ks` applies, with their namespace.
fn applied(index: &Index, ks: &str) -> BTreeSet<String> {
    let ks_doc = index
        .docs
        .iter()
        .position(|d| {
            d.header.as_ref().is_some_and(|h| {
                h.kind_name == "Kustomization" && h.name == Some(NameVal::Known(ks.into()))
            })
        })
        .expect("kustomization exists") as u32;
    index
        .instances
        .iter()
        .filter(|i| i.owner == Some(ks_doc))
        .map(|i| {
            let h = index
                .doc(i.doc)
                .and_then(|d| d.header.as_ref())
                .expect("header");
            let ns = match &i.namespace {
                Some(NameVal::Known(n)) => n.clone(),
                Some(NameVal::Unknown) => "?".into(),
                None => "-".into(),
            };
            format!(
                "{ns}/{}",
                h.name.as_ref().and_then(NameVal::known).unwrap_or("?")
            )
        })
        .collect()
}

#[test]
fn generated_kustomization_takes_files_and_kustomized_subdirectories() {
    let index = index_of(
        "own-generated",
        &[
            ("flux/apps.yaml", ks("apps", "./apps", "")),
            ("apps/a.yaml", cm("a", Some("x"))),
            ("apps/deep/b.yaml", cm("b", Some("x"))),
            // A subdirectory with a kustomization is one resource: only what it lists.
            (
                "apps/k/kustomization.yaml",
                "resources:\n  - listed.yaml\nnamespace: kns\n".into(),
            ),
            ("apps/k/listed.yaml", cm("listed", Some("x"))),
            ("apps/k/unlisted.yaml", cm("unlisted", Some("x"))),
            // A sibling whose name sorts between `apps` and `apps/`.
            ("apps-extra/c.yaml", cm("c", Some("x"))),
        ],
    );
    assert_eq!(
        applied(&index, "apps"),
        BTreeSet::from(["x/a".into(), "x/b".into(), "kns/listed".into()])
    );
}

#[test]
fn namespaces_target_namespace_wins_then_outermost_kustomization() {
    let index = index_of(
        "own-namespaces",
        &[
            (
                "flux/ks.yaml",
                ks("t", "./app", "  targetNamespace: forced\n") + "---\n" + &ks("u", "./outer", ""),
            ),
            (
                "app/kustomization.yaml",
                "namespace: inner\nresources:\n  - cm.yaml\n".into(),
            ),
            ("app/cm.yaml", cm("one", Some("own"))),
            (
                "outer/kustomization.yaml",
                "namespace: outer\nresources:\n  - ../inner\n".into(),
            ),
            (
                "inner/kustomization.yaml",
                "namespace: inner\nresources:\n  - cm.yaml\n".into(),
            ),
            ("inner/cm.yaml", cm("two", None)),
        ],
    );
    assert_eq!(applied(&index, "t"), BTreeSet::from(["forced/one".into()]));
    assert_eq!(applied(&index, "u"), BTreeSet::from(["outer/two".into()]));
}

#[test]
fn foreign_sources_and_missing_paths_apply_nothing() {
    let index = index_of(
        "own-foreign",
        &[
            (
                "flux/ks.yaml",
                ks("a", "./apps", "")
                    + "---\n"
                    + &ks("b", "./apps", "").replace(
                        "kind: GitRepository\n    name: flux-system",
                        "kind: OCIRepository\n    name: vendor",
                    )
                    + "---\n"
                    + &ks("c", "./nowhere", ""),
            ),
            ("apps/x.yaml", cm("x", Some("n"))),
        ],
    );
    assert_eq!(applied(&index, "a"), BTreeSet::from(["n/x".into()]));
    assert!(applied(&index, "b").is_empty());
    assert!(applied(&index, "c").is_empty());
    assert_eq!(index.ownership.unresolved.len(), 2);
}

#[test]
fn roots_in_different_directories_are_different_clusters() {
    let index = index_of(
        "own-contexts",
        &[
            ("clusters/dev/flux.yaml", ks("apps", "./apps", "")),
            ("clusters/live/flux.yaml", ks("apps", "./apps", "")),
            ("apps/x.yaml", cm("x", Some("n"))),
        ],
    );
    let contexts: BTreeSet<Option<u32>> = index
        .instances
        .iter()
        .filter(|i| i.owner.is_some())
        .map(|i| i.context)
        .collect();
    assert_eq!(contexts.len(), 2, "{contexts:?}");
}

#[test]
fn patches_are_fragments_not_objects() {
    let index = index_of(
        "own-patches",
        &[
            ("flux/ks.yaml", ks("a", "./app", "")),
            (
                "app/kustomization.yaml",
                "resources:\n  - cm.yaml\npatches:\n  - path: patch.yaml\n".into(),
            ),
            ("app/cm.yaml", cm("x", Some("n"))),
            ("app/patch.yaml", cm("x", Some("n"))),
        ],
    );
    assert_eq!(applied(&index, "a"), BTreeSet::from(["n/x".into()]));
    let objects = index
        .docs
        .iter()
        .filter(|d| d.role == cnpg_lint::internals::Role::Object && d.index != usize::MAX)
        .count();
    // Source documents: the Flux Kustomization and the ConfigMap; the patch is a fragment.
    assert_eq!(objects, 2);
}

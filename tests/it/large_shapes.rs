//! Repository shapes whose size once cost quadratic work: thousands of Flux Kustomizations in
//! one file or on one path, long chains of them, and clusters that share a namespace. These
//! tests check the answers at sizes where a per-pair algorithm shows; how long they take is
//! measured with the benchmark (`scripts/bench.sh`), not asserted here.

use crate::common;

use std::collections::BTreeSet;

use cnpg_lint::config::Config;
use cnpg_lint::internals::Index;
use cnpg_lint::rules::engine::Ctx;
use cnpg_lint::rules::RULES;

fn ks(name: &str, path: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: {path}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
    )
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: n\ndata:\n  a: b\n")
}

fn index_of(name: &str, files: Vec<(String, String)>) -> Index {
    let dir = common::scratch(name);
    common::write_repo(&dir, &files);
    common::run(&dir, &[]).index
}

/// Contexts of the objects that Flux Kustomizations apply.
fn applied_contexts(index: &Index) -> BTreeSet<Option<u32>> {
    index
        .instances
        .iter()
        .filter(|i| i.owner.is_some())
        .map(|i| i.context)
        .collect()
}

/// The index found `roots` root Kustomizations, and the objects they apply belong to `clusters`
/// cluster contexts.
fn assert_clusters(index: &Index, roots: usize, clusters: usize) {
    assert_eq!(
        index.ownership.roots.len(),
        roots,
        "{:?}",
        index.ownership.roots
    );
    let contexts = applied_contexts(index);
    assert_eq!(contexts.len(), clusters, "{contexts:?}");
}

/// The findings of one rule as it reports them, before the engine merges duplicates.
fn raw_findings(index: &Index, code: &str) -> Vec<cnpg_lint::rules::Finding> {
    let rule = RULES
        .iter()
        .find(|r| r.meta.code == code)
        .expect("rule exists");
    let config = Config::default();
    let mut ctx = Ctx::new(index, &[], &config.options, rule.meta);
    (rule.check)(&mut ctx);
    ctx.into_findings()
}

#[test]
fn a_long_chain_of_kustomizations_is_one_cluster() {
    // root -> k1 -> k2 -> ... : each Kustomization's path holds the next one's file.
    const DEPTH: usize = 5_000;
    let mut files = vec![("flux/root.yaml".to_string(), ks("k0", "./chain/0"))];
    for i in 0..DEPTH {
        let next = i + 1;
        let content = if next == DEPTH {
            cm("end")
        } else {
            ks(&format!("k{next}"), &format!("./chain/{next}"))
        };
        files.push((format!("chain/{i}/object.yaml"), content));
    }
    let index = index_of("shape-chain", files);
    assert_clusters(&index, 1, 1);
    // Rendering follows the chain as far as the render-wave budget, and says where it stopped
    // (Flux reconciles one level per Kustomization; no real repository nests 64).
    assert_eq!(
        index.instances.iter().filter(|i| i.owner.is_some()).count(),
        cnpg_lint::internals::RENDER_WAVES
    );
    assert!(
        index
            .limits
            .iter()
            .any(|l| l.message.contains("budget: render waves")),
        "{:?}",
        index.limits
    );
}

#[test]
fn roots_that_apply_each_other_are_one_cluster() {
    // a's build includes the directory that declares b, and b's build includes a's directory:
    // both are roots (neither has a parent outside their cycle), declared in different
    // directories, and still one cluster.
    let files = vec![
        ("clusters/a/sync.yaml".to_string(), ks("a", "./clusters/a")),
        (
            "clusters/a/kustomization.yaml".to_string(),
            "resources:\n  - sync.yaml\n  - ../../shared\n  - x.yaml\n".to_string(),
        ),
        ("clusters/a/x.yaml".to_string(), cm("x")),
        (
            "shared/kustomization.yaml".to_string(),
            "resources:\n  - b.yaml\n".to_string(),
        ),
        ("shared/b.yaml".to_string(), ks("b", "./clusters/b")),
        (
            "clusters/b/kustomization.yaml".to_string(),
            "resources:\n  - ../a\n  - y.yaml\n".to_string(),
        ),
        ("clusters/b/y.yaml".to_string(), cm("y")),
    ];
    let index = index_of("shape-cycle", files);
    assert_clusters(&index, 2, 1);
}

#[test]
fn thousands_of_roots_in_one_directory_are_one_cluster() {
    // Roots declared in one directory belong to one cluster, whatever their number.
    const N: usize = 3_000;
    let docs: Vec<String> = (0..N)
        .map(|i| ks(&format!("k{i}"), &format!("./apps/{i}")))
        .collect();
    let mut files = vec![("clusters/prod/all.yaml".to_string(), docs.join("---\n"))];
    files.extend((0..N).map(|i| (format!("apps/{i}/cm.yaml"), cm(&format!("c{i}")))));
    files.push(("clusters/dev/apps.yaml".to_string(), ks("dev", "./dev")));
    files.push(("dev/cm.yaml".to_string(), cm("d")));
    let index = index_of("shape-one-file", files);
    // prod and dev.
    assert_clusters(&index, N + 1, 2);
}

#[test]
fn kustomizations_sharing_a_path_report_the_object_once() {
    // Each of N builds renders its own copy of the ConfigMap, and every copy points at the
    // same written name: one finding naming all N owners, not N findings of N related each.
    const N: usize = 200;
    let docs: Vec<String> = (0..N).map(|i| ks(&format!("k{i}"), "./apps")).collect();
    let files = vec![
        ("clusters/prod/all.yaml".to_string(), docs.join("---\n")),
        ("apps/cm.yaml".to_string(), cm("shared")),
    ];
    let index = index_of("shape-same-path", files);
    let findings = raw_findings(&index, "CNPG402");
    assert_eq!(findings.len(), 1, "{:#?}", findings.first());
    // The written object, then each of the N Kustomizations.
    assert_eq!(findings[0].related.len(), N + 1);
}

#[test]
fn clusters_sharing_a_namespace_are_matched_with_their_own_backups() {
    // Many clusters in one namespace, each with a ScheduledBackup naming it, but one.
    const N: usize = 300;
    const MISSING: usize = 123;
    let mut docs = Vec::new();
    for i in 0..N {
        docs.push(format!(
            "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: db{i}\n  namespace: db\nspec:\n  instances: 1\n  storage:\n    size: 1Gi\n  plugins:\n    - name: barman-cloud.cloudnative-pg.io\n      isWALArchiver: true\n      parameters:\n        barmanObjectName: store\n"
        ));
        if i != MISSING {
            docs.push(format!(
                "apiVersion: postgresql.cnpg.io/v1\nkind: ScheduledBackup\nmetadata:\n  name: sb{i}\n  namespace: db\nspec:\n  schedule: \"0 0 0 * * *\"\n  method: plugin\n  pluginConfiguration:\n    name: barman-cloud.cloudnative-pg.io\n  cluster:\n    name: db{i}\n"
            ));
        }
    }
    let files = vec![
        ("flux/apps.yaml".to_string(), ks("apps", "./apps")),
        ("apps/all.yaml".to_string(), docs.join("---\n")),
    ];
    let index = index_of("shape-one-namespace", files);
    let findings = raw_findings(&index, "CNPG110");
    let messages: Vec<&str> = findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:#?}");
    assert!(
        messages[0].contains(&format!("`db{MISSING}`")),
        "{}",
        messages[0]
    );
}

#[test]
fn suppressions_in_a_large_file_apply_to_their_own_object_and_line_only() {
    // Clusters archive WAL and have no ScheduledBackup (CNPG110 on the plugin's name). Every
    // third cluster is annotated to ignore it, every fifth has a comment on the line above.
    const N: usize = 600;
    let mut docs = Vec::new();
    for i in 0..N {
        let annotation = if i % 3 == 0 {
            "  annotations:\n    cnpg-lint.io/ignore: CNPG110 -- backed up elsewhere\n"
        } else {
            ""
        };
        let comment = if i % 5 == 0 {
            "    # cnpg-lint: disable=CNPG110 -- backed up elsewhere\n"
        } else {
            ""
        };
        docs.push(format!(
            "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata:\n  name: db{i}\n  namespace: db\n{annotation}spec:\n  instances: 1\n  storage:\n    size: 1Gi\n  plugins:\n{comment}    - name: barman-cloud.cloudnative-pg.io\n      isWALArchiver: true\n      parameters:\n        barmanObjectName: store\n"
        ));
    }
    let dir = common::scratch("shape-suppressions");
    common::write_repo(
        &dir,
        &[
            ("flux/apps.yaml".to_string(), ks("apps", "./apps")),
            ("apps/all.yaml".to_string(), docs.join("---\n")),
        ],
    );
    let result = common::run(&dir, &common::all_rules());
    let open: BTreeSet<String> = result
        .diagnostics
        .iter()
        .filter(|d| d.code == "CNPG110" && d.suppression.is_none())
        .map(|d| d.message.clone())
        .collect();
    let expected: BTreeSet<String> = (0..N)
        .filter(|i| i % 3 != 0 && i % 5 != 0)
        .map(|i| format!("`db{i}`"))
        .collect();
    let named: BTreeSet<String> = open
        .iter()
        .filter_map(|m| m.split_whitespace().nth(1).map(str::to_string))
        .collect();
    assert_eq!(named, expected);
    // Every suppression was used: no CNPG900.
    assert!(result.diagnostics.iter().all(|d| d.code != "CNPG900"));
}

#[test]
fn substitution_reads_written_config_maps_of_its_own_namespace() {
    // Hundreds of Kustomizations, each substituting from its own ConfigMap that no
    // Kustomization applies (so it is looked up among the written documents), and a ConfigMap
    // of the same name in another namespace written first, which must not be used.
    const N: usize = 300;
    let docs: Vec<String> = (0..N)
        .map(|i| {
            format!(
                "{}  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: vars{i}\n",
                ks(&format!("k{i}"), &format!("./apps/{i}"))
            )
        })
        .collect();
    let mut vars = vec![
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars7\n  namespace: other\ndata:\n  APP: wrong\n".to_string(),
    ];
    vars.extend((0..N).map(|i| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vars{i}\n  namespace: flux-system\ndata:\n  APP: a{i}\n")
    }));
    let mut files = vec![
        (
            "clusters/prod/flux-system/sync.yaml".to_string(),
            ks("flux-system", "./clusters/prod"),
        ),
        ("clusters/prod/apps.yaml".to_string(), docs.join("---\n")),
        ("settings/vars.yaml".to_string(), vars.join("---\n")),
    ];
    files.extend((0..N).map(|i| (format!("apps/{i}/cm.yaml"), cm("${APP}"))));
    let index = index_of("shape-substitute-from", files);
    let names: BTreeSet<String> = index
        .instances
        .iter()
        .filter(|i| i.owner.is_some())
        .filter_map(|i| index.doc(i.doc)?.header.as_ref())
        .filter(|h| h.kind_name == "ConfigMap")
        .filter_map(|h| h.name.as_ref()?.known().map(str::to_string))
        .collect();
    let expected: BTreeSet<String> = (0..N).map(|i| format!("a{i}")).collect();
    assert_eq!(names, expected);
}

//! The committed schemas are exactly what `cargo xtask schemas` makes from `../shared/crds`,
//! and every embedded schema compiles.

use crate::common;

use cnpg_lint::internals::{catalog, generate};

#[test]
fn committed_schemas_match_the_upstream_crds() {
    let Some(shared) = common::shared() else {
        eprintln!("skipped: ../shared is absent, so the CRDs cannot be regenerated");
        return;
    };
    let list = generate::from_dir(&shared.join("crds")).expect("CRDs convert");
    let dir = common::project_root().join("schemas/crds");
    let mut committed: Vec<String> = std::fs::read_dir(&dir)
        .expect("schemas/crds")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    committed.sort();
    let generated: Vec<String> = list.iter().map(|g| g.file.clone()).collect();
    assert_eq!(
        committed, generated,
        "schemas/crds is stale: run `cargo xtask schemas`"
    );
    for g in &list {
        let on_disk = std::fs::read_to_string(dir.join(&g.file)).expect("read schema");
        assert!(
            on_disk == generate::file_text(g),
            "schemas/crds/{} differs from its CRD: run `cargo xtask schemas`",
            g.file
        );
    }
    let rs = std::fs::read_to_string(common::project_root().join("src/schema/embedded.rs"))
        .expect("embedded.rs");
    assert_eq!(
        rs,
        generate::embedded_rs(&list),
        "src/schema/embedded.rs is stale: run `cargo xtask schemas`"
    );
}

#[test]
fn every_embedded_schema_compiles() {
    let all = catalog::all();
    assert!(
        all.len() >= 13,
        "expected the CNPG, barman-cloud and Flux schemas"
    );
    for e in all {
        assert!(
            catalog::compiled(e.group, e.version, e.kind).is_some(),
            "{}/{} {} does not compile",
            e.group,
            e.version,
            e.kind
        );
    }
    for (group, kind) in [
        ("postgresql.cnpg.io", "Cluster"),
        ("postgresql.cnpg.io", "Backup"),
        ("postgresql.cnpg.io", "ScheduledBackup"),
        ("postgresql.cnpg.io", "Pooler"),
        ("postgresql.cnpg.io", "Database"),
        ("postgresql.cnpg.io", "DatabaseRole"),
        ("postgresql.cnpg.io", "ImageCatalog"),
        ("postgresql.cnpg.io", "ClusterImageCatalog"),
        ("barmancloud.cnpg.io", "ObjectStore"),
        ("kustomize.toolkit.fluxcd.io", "Kustomization"),
        ("helm.toolkit.fluxcd.io", "HelmRelease"),
        ("source.toolkit.fluxcd.io", "GitRepository"),
        ("source.toolkit.fluxcd.io", "OCIRepository"),
    ] {
        assert!(
            !catalog::served_versions(group, kind).is_empty(),
            "no schema for {group} {kind}"
        );
    }
}

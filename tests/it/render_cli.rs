//! `cnpg-lint render`: what a Flux Kustomization renders to, with the origin of every value.

use crate::common;

use std::process::Command;

fn render(dir: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cnpg-lint"))
        .arg("render")
        .args(args)
        .current_dir(common::project_root().join(dir))
        .output()
        .expect("run");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn substituted_and_patched_values_show_their_origins() {
    let (code, out, _) = render(
        "fixtures/repos/parent-substitute-from",
        &["postgres", "--show-origins"],
    );
    assert_eq!(code, 0);
    // The parent injected substituteFrom; the values come from the ConfigMap, and each value
    // names the file and position it was written at.
    assert!(
        out.contains("value: Europe/Paris  # apps/database/app/cluster.yaml:12:14"),
        "{out}"
    );
    assert!(
        out.contains("namespace: database  # apps/database/ks.yaml:11:20"),
        "{out}"
    );
    insta::assert_snapshot!(out);
}

#[test]
fn kustomize_directories_render_without_flux() {
    let (code, out, _) = render(
        "fixtures/repos/overlays",
        &["apps/db/overlays/dev", "--show-origins"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("destinationPath: s3://acme-pg-backups/dev/pg  # apps/db/overlays/dev/objectstore-patch.yaml:8:22"), "{out}");
    assert!(
        out.contains("instances: 1  # apps/db/overlays/dev/kustomization.yaml:14:16"),
        "{out}"
    );
    assert!(out.contains("namespace: db-dev"));
}

#[test]
fn unknown_targets_exit_2() {
    let (code, _, err) = render("fixtures/repos/overlays", &["no-such-kustomization"]);
    assert_eq!(code, 2);
    assert!(err.contains("no Flux Kustomization or directory named `no-such-kustomization`"));
}

/// Linting keeps only the metadata of workloads (see `render::lean`); `render` shows them whole.
#[test]
fn render_keeps_workloads_whole() {
    let (code, out, _) = render("fixtures/repos/gke-platform", &["flux-system/web"]);
    assert_eq!(code, 0);
    assert!(out.contains("kind: Deployment"), "{out}");
    assert!(
        out.contains("image: ghcr.io/acme/storefront:1.4.2"),
        "{out}"
    );
}

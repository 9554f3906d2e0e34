//! CNPG411: `spec.force: true` on a Flux Kustomization that applies CloudNativePG objects: a
//! rejected apply makes Flux delete and re-create them, and a Cluster takes its PVCs with it.

use std::collections::BTreeSet;

use crate::model::object::{BARMAN_GROUP, CNPG_GROUP};
use crate::model::Kind;
use crate::rules::engine::Ctx;
use crate::rules::{Category, Loc, RuleMeta, Severity};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG411",
    name: "force-recreates-database",
    severity: Severity::Warning,
    summary: "A Flux Kustomization with force: true applies a CloudNativePG Cluster, Pooler or ObjectStore, which Flux deletes and re-creates when an apply is rejected.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

/// The kinds a forced re-creation hurts, by group.
fn is_database_object(group: &str, kind: &str) -> bool {
    (group == CNPG_GROUP && matches!(kind, "Cluster" | "Pooler"))
        || (group == BARMAN_GROUP && kind == "ObjectStore")
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let roots: BTreeSet<u32> = index.ownership.roots.iter().map(|&(d, _)| d).collect();
    for (inst, i, doc) in index.instances_of(Kind::FluxKustomization) {
        if i.owner.is_none() && !roots.contains(&i.doc) {
            continue;
        }
        let Some(force) = doc.root.at(&["spec", "force"]) else { continue };
        if force.as_scalar().and_then(|s| s.as_bool()) != Some(true) {
            continue;
        }
        let Some(build) = index.builds.iter().find(|b| b.ks == i.doc) else {
            continue;
        };
        // What it applies of those kinds, Clusters first, in a stable order.
        let mut applied: Vec<(bool, String, String)> = Vec::new();
        for &d in &build.objects {
            let Some(h) = index.doc(d).and_then(|o| o.header.as_ref()) else { continue };
            if !is_database_object(&h.group, &h.kind_name) {
                continue;
            }
            let name = h.name.as_ref().and_then(|n| n.known()).unwrap_or("?");
            let ns = index.doc_namespace(d).and_then(|n| n.known().map(str::to_string));
            let shown = match ns {
                Some(ns) if !ns.is_empty() => format!("{} `{ns}/{name}`", h.kind_name),
                _ => format!("{} `{name}`", h.kind_name),
            };
            applied.push((h.kind_name != "Cluster", h.kind_name.to_string(), shown));
        }
        applied.sort();
        applied.dedup();
        let Some((_, first_kind, first)) = applied.first() else {
            continue;
        };
        let what = match applied.len() {
            1 => first.clone(),
            n => format!("{first} and {} more CloudNativePG object{}", n - 1, if n == 2 { "" } else { "s" }),
        };
        let harm = if first_kind == "Cluster" {
            format!(
                "a change the CloudNativePG webhook rejects (shrinking the storage, a major \
                 downgrade) makes Flux delete {first}, and Kubernetes garbage-collects its \
                 PersistentVolumeClaims with it, which own the data"
            )
        } else {
            format!("a change the webhook rejects makes Flux delete and re-create {first}")
        };
        ctx.report(
            Loc::value(i.doc, force),
            format!(
                "force: true makes Flux delete and re-create any object whose apply fails as \
                 invalid (HTTP 422), and this Kustomization applies {what}: {harm}"
            ),
        )
        .object(inst)
        .help(
            "Remove spec.force. When one object must be re-created for an immutable field, set \
             the annotation kustomize.toolkit.fluxcd.io/force: enabled on that object alone, \
             and remove it once applied.",
        );
    }
}

//! CNPG401: one Flux Kustomization applies several CloudNativePG Clusters.

use std::collections::BTreeSet;

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::flux::FluxKustomization;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG401",
    name: "shared-flux-kustomization",
    severity: Severity::Warning,
    summary: "One Flux Kustomization applies more than one CloudNativePG Cluster.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

/// How many namespaces make a Kustomization a whole-cluster apply.
const MONOLITH_NAMESPACES: usize = 5;

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (&ks, applied) in &index.ownership.applies {
        // The same base applied into two namespaces is two Clusters.
        let applied_clusters: BTreeSet<_> = applied
            .iter()
            .filter(|(d, _)| index.doc(*d).is_some_and(|doc| doc.kind() == Kind::Cluster))
            .collect();
        if applied_clusters.len() < 2 {
            continue;
        }
        // A Kustomization that applies a whole cluster's apps (many namespaces) is one unit by
        // the repository's design: that an apply blocks everything is what it chose, not a
        // database mistake. Judged on the corpus, the finding was noise there every time.
        let namespaces: BTreeSet<_> = applied.iter().filter_map(|(_, ns)| ns.as_ref()).collect();
        if namespaces.len() >= MONOLITH_NAMESPACES {
            continue;
        }
        let clusters: BTreeSet<_> = applied_clusters.iter().map(|(d, _)| *d).collect();
        let Some(ks_doc) = index.doc(ks) else {
            continue;
        };
        let names: Vec<String> = applied_clusters
            .iter()
            .filter_map(|(d, ns)| {
                let name = index.doc(*d)?.header.as_ref()?.name.clone()?;
                let name = match name.known() {
                    Some(n) => n.to_string(),
                    None => index.doc(*d)?.root.at(&["metadata", "name"])?.as_str()?.to_string(),
                };
                Some(match ns.as_ref().and_then(|n| n.known()) {
                    Some(ns) => format!("{ns}/{name}"),
                    None => name,
                })
            })
            .collect();
        let ks_name = index.doc_name(ks)
            .unwrap_or("this Kustomization");
        let at = match FluxKustomization(&ks_doc.root).path() {
            Some(p) => Loc::value(ks, p.node),
            None => Loc::path(ks, &["metadata", "name"]),
        };
        let f = ctx.report(
            at,
            format!(
                "Flux Kustomization `{ks_name}` applies {} CloudNativePG Clusters ({}); it \
                 applies them as one unit, so a change the webhook rejects in one blocks every \
                 database it holds",
                applied_clusters.len(),
                names.join(", ")
            ),
        );
        f.help(
            "Give each Cluster (with its backups and ObjectStore) its own Flux Kustomization, \
             and order them with dependsOn where needed.",
        );
        if let Some((inst, _)) = index
            .instances
            .iter()
            .enumerate()
            .find(|(_, i)| i.doc == ks)
        {
            f.object(inst as u32);
        }
        for d in clusters {
            f.related(Loc::path(d, &["metadata", "name"]), "Cluster applied here");
        }
    }
}

//! CNPG405: a Cluster that Flux deletes when its manifest disappears.

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG405",
    name: "prunable-database",
    severity: Severity::Warning,
    summary: "A Cluster is applied with prune: true and is not protected from pruning.",
    on_by_default: true,
};

/// Label or annotation values that keep Flux from deleting an object (kustomize-controller).
const PROTECTIONS: [(&str, &str); 3] = [
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
    ("kustomize.toolkit.fluxcd.io/reconcile", "disabled"),
    ("kustomize.toolkit.fluxcd.io/ssa", "ignore"),
];

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let Some(owner) = i.owner.and_then(|o| index.doc(o)) else {
            continue;
        };
        // A replica cluster holds no data of its own: deleted, it bootstraps again from its
        // primary or the archive it follows.
        if crate::model::cnpg::Cluster(&doc.root).is_replica() == Some(true) {
            continue;
        }
        let prune = owner
            .root
            .at(&["spec", "prune"])
            .and_then(|p| p.as_scalar()?.as_bool())
            .unwrap_or(false);
        if !prune {
            continue;
        }
        let protected = PROTECTIONS
            .iter()
            .any(|(key, value)| crate::model::marked(&doc.root, key, value));
        if protected {
            continue;
        }
        let name = super::support::cluster_label(index, inst);
        let ks = i.owner.and_then(|o| index.doc_name(o))
            .unwrap_or("its Kustomization");
        let mut f = ctx.report(
            Loc::path(i.doc, &["metadata", "name"]),
            format!(
                "{name} is applied by `{ks}` with prune: true: deleting or moving its \
                 manifest, or a bad refactor of the Kustomization, makes Flux delete the Cluster \
                 and, with it, its volumes"
            ),
        );
        f = f.object(inst);
        f.help("Add the annotation kustomize.toolkit.fluxcd.io/prune: disabled to the Cluster, so removing it from Git leaves the database running.");
        if let Some(p) = owner.root.at(&["spec", "prune"]) {
            if let Some(o) = i.owner {
                f.related(Loc::value(o, p), "prune: true here");
            }
        }
    }
}

//! CNPG111: a ScheduledBackup, Backup, Pooler or Database that names no Cluster.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::ClusterRef;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG111",
    name: "backup-targets-unknown-cluster",
    severity: Severity::Error,
    summary: "A ScheduledBackup, Backup, Pooler or Database names a Cluster that is not deployed beside it.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // A Cluster whose name or namespace is still a placeholder could be the one.
    let unresolved = index.placeholder_named(Kind::Cluster);
    for kind in [Kind::ScheduledBackup, Kind::Backup, Kind::Pooler, Kind::Database] {
        for (inst, i, doc) in index.instances_of(kind) {
            // Only deployed objects: an object no Kustomization applies has no known cluster.
            if i.owner.is_none() {
                continue;
            }
            let Some(at) = ClusterRef(&doc.root).cluster_name() else {
                continue;
            };
            let Val::Known(name) = at.value else { continue };
            let Some(ns) = index.namespace(inst) else { continue };
            if !index.find(Kind::Cluster, ns, name, inst).is_empty() {
                continue;
            }
            if unresolved.iter().any(|&c| index.paired(inst, c)) {
                continue;
            }
            let what = doc.header.as_ref().map_or("object", |h| h.kind_name.as_str());
            let shown_ns = if ns.is_empty() { "the default namespace".to_string() } else { format!("namespace `{ns}`") };
            ctx.report(
                Loc::value(i.doc, at.node),
                format!(
                    "{what} targets Cluster `{name}`, but no Cluster of that name is deployed in \
                     {shown_ns} of this cluster: it never runs (a backup fails, a pooler has \
                     nothing to connect to, a database is never created)"
                ),
            )
            .object(inst)
            .help("Correct spec.cluster.name (it is immutable: recreate the object), or deploy the Cluster in the same namespace.");
        }
    }
}

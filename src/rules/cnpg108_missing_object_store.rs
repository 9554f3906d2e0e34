//! CNPG108: a barman-cloud plugin entry whose ObjectStore does not exist.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::{Cluster, Plugin};
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG108",
    name: "missing-object-store",
    severity: Severity::Error,
    summary: "A barman-cloud plugin entry names no ObjectStore in the Cluster's namespace, or none at all.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // An ObjectStore whose name or namespace is a placeholder could be the missing one.
    let unresolved = index.placeholder_named(Kind::ObjectStore);
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        // Demonstration data by the repository's design: a sample or test that nothing deploys.
        if i.owner.is_none() && super::support::is_demo_path(index, i.doc) {
            continue;
        }
        let Some(ns) = index.namespace(inst) else { continue };
        let unresolved_store = || unresolved.iter().any(|&s| index.paired(inst, s));
        let cluster = Cluster(&doc.root);
        let entries: Vec<(Plugin<'_>, &str)> = cluster
            .barman_plugins()
            .map(|p| (p, "spec.plugins"))
            .chain(
                cluster
                    .external_clusters()
                    .filter_map(|e| e.plugin())
                    .filter(|p| p.is_barman())
                    .map(|p| (p, "externalClusters")),
            )
            .collect();
        for (p, place) in entries {
            match p.parameter("barmanObjectName") {
                None => {
                    let at = p.name().map_or(Loc::value(i.doc, p.0), |n| Loc::value(i.doc, n.node));
                    ctx.report(
                        at,
                        format!(
                            "this barman-cloud plugin entry ({place}) has no parameters.barmanObjectName: \
                             the plugin injects nothing, so there is no archive and no backup, and no \
                             error on the Cluster says so"
                        ),
                    )
                    .object(inst)
                    .help("Set parameters.barmanObjectName to the name of an ObjectStore in the Cluster's namespace.");
                }
                Some(at) => {
                    let Val::Known(name) = at.value else { continue };
                    if index.exists_for(Kind::ObjectStore, ns, name, inst) || unresolved_store() {
                        continue;
                    }
                    let shown_ns = if ns.is_empty() { "the Cluster's namespace".to_string() } else { format!("namespace `{ns}`") };
                    ctx.report(
                        Loc::value(i.doc, at.node),
                        format!(
                            "barmanObjectName `{name}` names no ObjectStore in {shown_ns}: the plugin \
                             looks it up there only, and stalls without a clear error"
                        ),
                    )
                    .object(inst)
                    .help("Create the ObjectStore (barmancloud.cnpg.io/v1) in the same namespace, or fix the name.");
                }
            }
        }
    }
}

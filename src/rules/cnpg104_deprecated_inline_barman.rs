//! CNPG104: in-tree Barman Cloud (`barmanObjectStore`), deprecated in favour of the plugin.

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG104",
    name: "deprecated-inline-barman",
    severity: Severity::Warning,
    summary: "In-tree barmanObjectStore is deprecated; CNPG 1.30 announces its removal in 1.31.0.",
    on_by_default: true,
};

const WHY: &str = "in-tree Barman Cloud support is deprecated since CNPG 1.26, and the 1.30 \
                   webhook warns that it will be removed in 1.31.0";

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        if let Some(key) = cluster.in_tree_store_key() {
            ctx.report(
                Loc::key(i.doc, key),
                format!("spec.backup.barmanObjectStore: {WHY}"),
            )
            .object(inst)
            .help(
                "Migrate to the barman-cloud plugin: move this section into an ObjectStore's \
                 spec.configuration (same fields), add a spec.plugins entry `barman-cloud.cloudnative-pg.io` \
                 with isWALArchiver: true and parameters.barmanObjectName, move retentionPolicy to \
                 the ObjectStore, and switch ScheduledBackups to method: plugin. Keep the same \
                 destinationPath and serverName so existing backups stay usable.",
            );
        }
        for ext in cluster.external_clusters() {
            let Some(entry) = ext.0.entry("barmanObjectStore") else {
                continue;
            };
            let name = ext.name().and_then(|n| n.value.known()).unwrap_or("?");
            ctx.report(
                Loc::key(i.doc, &entry.key),
                format!("externalClusters `{name}` uses barmanObjectStore: {WHY}"),
            )
            .object(inst)
            .help(
                "Point the entry at an ObjectStore through the barman-cloud plugin instead \
                 (plugin.name barman-cloud.cloudnative-pg.io, parameters.barmanObjectName and \
                 an explicit parameters.serverName).",
            );
        }
    }
}

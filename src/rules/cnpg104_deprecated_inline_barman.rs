//! CNPG104: in-tree Barman Cloud (`barmanObjectStore`), deprecated in favour of the plugin.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG104",
    name: "deprecated-inline-barman",
    severity: Severity::Warning,
    summary: "In-tree barmanObjectStore is deprecated; CNPG 1.30 announces its removal in 1.31.0.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

const WHY: &str = "in-tree Barman Cloud support is deprecated since CNPG 1.26, and the 1.30 \
                   webhook warns that it will be removed in 1.31.0";

/// One finding per Cluster, at its first in-tree section, naming every section that uses
/// in-tree barman: the migration is one change to the Cluster, not one per section.
pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let mut uses: Vec<(String, &crate::yaml::Node)> = Vec::new();
        if let Some(key) = cluster.in_tree_store_key() {
            uses.push(("spec.backup.barmanObjectStore".to_string(), key));
        }
        for ext in cluster.external_clusters() {
            let Some(entry) = ext.0.entry("barmanObjectStore") else {
                continue;
            };
            let name = ext.name().and_then(|n| n.value.known()).unwrap_or("?");
            uses.push((format!("externalClusters `{name}`"), &entry.key));
        }
        let Some(((_, first), rest)) = uses.split_first() else {
            continue;
        };
        let names: Vec<&str> = uses.iter().map(|(n, _)| n.as_str()).collect();
        let label = super::support::cluster_label(index, inst);
        let f = ctx
            .report(
                Loc::key(i.doc, first),
                format!(
                    "{label} uses in-tree barmanObjectStore ({}): {WHY}",
                    names.join(", ")
                ),
            )
            .object(inst);
        let archive = cluster.in_tree_store_key().is_some();
        let sources = uses.len() - usize::from(archive);
        let mut steps = Vec::new();
        if archive {
            steps.push(
                "move spec.backup.barmanObjectStore into an ObjectStore's spec.configuration \
                 (same fields), add a spec.plugins entry `barman-cloud.cloudnative-pg.io` with \
                 isWALArchiver: true and parameters.barmanObjectName, move retentionPolicy to the \
                 ObjectStore, and switch ScheduledBackups to method: plugin, keeping the same \
                 destinationPath and serverName so existing backups stay usable",
            );
        }
        if sources > 0 {
            steps.push(
                "point each externalClusters entry at an ObjectStore through the plugin \
                 (plugin.name barman-cloud.cloudnative-pg.io, parameters.barmanObjectName and an \
                 explicit parameters.serverName)",
            );
        }
        f.help(format!(
            "Migrate to the barman-cloud plugin \
             (https://cloudnative-pg.io/plugin-barman-cloud/docs/migration/): {}.",
            steps.join("; ")
        ));
        for (name, key) in rest {
            f.related(Loc::key(i.doc, key), format!("{name} is in-tree too"));
        }
    }
}

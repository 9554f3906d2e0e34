//! CNPG110: a cluster archives WAL, but nothing takes base backups of it.

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::index::InstId;
use crate::model::cnpg::Cluster;
use crate::model::{Kind, NameVal};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG110",
    name: "no-scheduled-backup",
    severity: Severity::Warning,
    summary: "A Cluster archives WAL, but no ScheduledBackup takes base backups of it.",
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let anywhere: Vec<InstId> = index
        .instances_of(Kind::ScheduledBackup)
        .filter(|(_, si, _)| matches!(si.namespace, Some(NameVal::Unknown)))
        .map(|(s, _, _)| s)
        .collect();
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        // Whether a schedule is deployed beside a cluster is a property of a deployment: a file
        // that no Flux Kustomization applies (a sample, an archived cluster) has none.
        if i.owner.is_none() {
            continue;
        }
        let cluster = Cluster(&doc.root);
        let archive_key = cluster.in_tree_store_key().or_else(|| {
            cluster
                .barman_plugins()
                .find(|p| p.is_wal_archiver().is_some_and(|a| a.value))
                .and_then(|p| p.name().map(|n| n.node))
        });
        let Some(archive_key) = archive_key else {
            continue;
        };
        let (Some(name), Some(ns)) = (index.name(inst), index.namespace(inst)) else {
            continue;
        };
        let found = !index
            .backups_naming(Kind::ScheduledBackup, ns, Some(name), inst)
            .is_empty();
        let unknown = !index
            .backups_naming(Kind::ScheduledBackup, ns, None, inst)
            .is_empty();
        // A ScheduledBackup whose namespace is a placeholder might be the one.
        if found
            || unknown
            || anywhere
                .iter()
                .any(|&s| index.paired(inst, s))
        {
            continue;
        }
        ctx.report(
            Loc::key(i.doc, archive_key),
            format!(
                "cluster `{name}` archives WAL, but no ScheduledBackup targets it: without a base \
                 backup there is nothing to replay the WAL onto, so it cannot be recovered"
            ),
        )
        .object(inst)
        .help(format!(
            "Add a ScheduledBackup with spec.cluster.name: {name} (for the plugin, method: plugin \
             and pluginConfiguration.name: barman-cloud.cloudnative-pg.io), for example \
             schedule \"0 0 3 * * *\"."
        ));
    }
}

//! CNPG110: a cluster archives WAL, but nothing takes base backups of it.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::rules::support::{backups_anywhere, named_by_backup};
use crate::model::cnpg::Cluster;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG110",
    name: "no-scheduled-backup",
    severity: Severity::Warning,
    summary: "A Cluster archives WAL, but no ScheduledBackup takes base backups of it.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let anywhere = backups_anywhere(index, &[Kind::ScheduledBackup]);
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
        if named_by_backup(index, inst, (name, ns), &[Kind::ScheduledBackup], &anywhere) {
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

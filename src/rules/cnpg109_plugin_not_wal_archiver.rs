//! CNPG109: the barman-cloud plugin in spec.plugins without isWALArchiver: true.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG109",
    name: "plugin-not-wal-archiver",
    severity: Severity::Warning,
    summary: "The barman-cloud plugin is enabled without isWALArchiver: true.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        // Another WAL archiver (or in-tree archiving) is a different problem (CNPG103).
        let other_archiver = cluster.in_tree_store().is_some()
            || cluster
                .plugins()
                .any(|p| p.enabled() && !p.is_barman() && p.is_wal_archiver().is_some_and(|a| a.value));
        if other_archiver {
            continue;
        }
        for p in cluster.barman_plugins() {
            if p.is_wal_archiver().is_some_and(|a| a.value) {
                continue;
            }
            let at = match p.is_wal_archiver() {
                Some(a) => Loc::value(i.doc, a.node),
                None => p.name().map_or(Loc::value(i.doc, p.0), |n| Loc::value(i.doc, n.node)),
            };
            ctx.report(
                at,
                "the barman-cloud plugin is not marked `isWALArchiver: true`: if the plugin is \
                 not loaded, archive_command reports success and WAL is dropped instead of kept \
                 until archiving works, and replicas cannot be cloned from backups",
            )
            .object(inst)
            .help("Add `isWALArchiver: true` to this plugin entry, as the CNPG and plugin docs do.");
        }
    }
}

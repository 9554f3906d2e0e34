//! CNPG103: in-tree barmanObjectStore together with a WAL-archiver plugin, or two archivers.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG103",
    name: "inline-and-plugin-archiver",
    severity: Severity::Error,
    summary: "A Cluster has in-tree barmanObjectStore and a WAL-archiver plugin, or two WAL-archiver plugins.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let archivers: Vec<_> = cluster
            .plugins()
            .filter(|p| p.enabled())
            .filter_map(|p| p.is_wal_archiver().filter(|a| a.value).map(|a| (p, a)))
            .collect();
        if let (Some(key), Some((plugin, flag))) = (cluster.in_tree_store_key(), archivers.first()) {
            let name = plugin.name().and_then(|n| n.value.known()).unwrap_or("the plugin");
            ctx.report(
                Loc::value(i.doc, flag.node),
                format!(
                    "plugin `{name}` is the WAL archiver while spec.backup.barmanObjectStore is \
                     also set; the webhook rejects this (\"Cannot enable a WAL archiver plugin \
                     when barmanObjectStore is configured\")"
                ),
            )
            .object(inst)
            .help(
                "Finish the migration to the plugin: move the store into an ObjectStore and remove \
                 spec.backup.barmanObjectStore, or keep in-tree archiving and drop isWALArchiver.",
            )
            .related(Loc::key(i.doc, key), "in-tree barmanObjectStore here");
        }
        if let [(first, first_flag), rest @ ..] = archivers.as_slice() {
            let first_name = first.name().and_then(|n| n.value.known()).unwrap_or("a plugin");
            for (p, flag) in rest {
                let name = p.name().and_then(|n| n.value.known()).unwrap_or("this plugin");
                ctx.report(
                    Loc::value(i.doc, flag.node),
                    format!(
                        "plugin `{name}` is a second WAL archiver besides `{first_name}`; the \
                         webhook rejects this (\"Cannot enable more than one WAL archiver plugin\")"
                    ),
                )
                .object(inst)
                .help("Keep isWALArchiver: true on exactly one enabled plugin.")
                .related(Loc::value(i.doc, first_flag.node), "first WAL archiver here");
            }
        }
    }
}

//! CNPG112: a Cluster retention policy that the barman-cloud plugin never reads, while its
//! ObjectStore has none.

use super::support::{self, Method};
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::{Cluster, ObjectStore};
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG112",
    name: "ignored-retention-policy",
    severity: Severity::Warning,
    summary: "spec.backup.retentionPolicy on a plugin-archived Cluster is ignored, and its ObjectStore has none.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let Some(policy) = cluster.retention_policy() else { continue };
        // In-tree archiving reads the policy.
        if cluster.in_tree_store().is_some() {
            continue;
        }
        let targets = support::archive_targets(index, inst);
        for t in targets.iter().filter(|t| t.method == Method::Plugin) {
            let Some(store_doc) = index.doc(t.config_doc) else { continue };
            if store_doc.kind() != Kind::ObjectStore
                || ObjectStore(&store_doc.root).retention_policy().is_some()
            {
                continue;
            }
            let store = t.store.and_then(|s| index.name(s)).unwrap_or("its ObjectStore");
            let shown = policy.value.known().unwrap_or("this policy");
            ctx.report(
                Loc::value(i.doc, policy.node),
                format!(
                    "retentionPolicy `{shown}` is ignored: this Cluster archives through the \
                     barman-cloud plugin, which reads retention only from the ObjectStore, and \
                     ObjectStore `{store}` has none, so no backup or WAL is ever deleted"
                ),
            )
            .object(inst)
            .help(format!(
                "Move the policy to ObjectStore `{store}` as spec.retentionPolicy, and remove it \
                 from the Cluster."
            ))
            .related(Loc::path(t.config_doc, &["spec"]), format!("ObjectStore `{store}` has no retentionPolicy"));
        }
    }
}

//! CNPG107: a ScheduledBackup or Backup whose method its Cluster cannot serve.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::{BackupLike, Cluster};
use crate::model::{Kind, Val};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG107",
    name: "backup-method-mismatch",
    severity: Severity::Error,
    summary: "A ScheduledBackup or Backup uses a method its Cluster is not configured for; every backup fails.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for kind in [Kind::ScheduledBackup, Kind::Backup] {
        for (inst, i, doc) in index.instances_of(kind) {
            // Which Cluster a backup meets is a property of a deployment.
            if i.owner.is_none() {
                continue;
            }
            let view = BackupLike(&doc.root);
            let method_at = view.method();
            let method = match method_at.map(|m| m.value) {
                None => "barmanObjectStore",
                Some(Val::Known(m)) => m,
                Some(Val::Unknown) => continue,
            };
            // Where to point: the method, or the kind when the CRD default applies.
            let at = match method_at {
                Some(m) => Loc::value(i.doc, m.node),
                None => Loc::path(i.doc, &["spec", "cluster", "name"]),
            };
            let what = doc.header.as_ref().map_or("backup", |h| h.kind_name.as_str());
            // `online` settings only mean something for volume snapshots (webhook).
            if method == "barmanObjectStore" {
                if let Some(e) = ["online", "onlineConfiguration"]
                    .iter()
                    .find_map(|k| doc.root.at(&["spec"]).and_then(|s| s.entry(k)))
                {
                    ctx.report(
                        Loc::key(i.doc, &e.key),
                        format!("`{}` is set with method barmanObjectStore; the webhook rejects the {what}", e.key.as_str().unwrap_or("")),
                    )
                    .object(inst)
                    .help("Remove it: online settings apply to volumeSnapshot backups only.");
                }
            }
            if method == "plugin"
                && view.plugin_name().and_then(|p| p.value.known()).is_none_or(str::is_empty)
                && view.plugin_name().is_none_or(|p| p.value.known().is_some())
            {
                ctx.report(
                    at.clone(),
                    format!("method: plugin without pluginConfiguration.name; the {what} (or each Backup it creates) is rejected"),
                )
                .object(inst)
                .help("Add pluginConfiguration.name: barman-cloud.cloudnative-pg.io (or your plugin's name).");
                continue;
            }
            let Some(Val::Known(cluster_name)) = view.cluster_name().map(|c| c.value) else {
                continue;
            };
            let Some(ns) = index.namespace(inst) else { continue };
            let found = index.find(Kind::Cluster, ns, cluster_name, inst);
            // Every matching Cluster (one per context) must disagree before this is reported.
            let problems: Vec<Option<String>> = found
                .iter()
                .filter_map(|c| index.instance(*c).and_then(|c| index.doc(c.doc)))
                .map(|cluster_doc| mismatch(cluster_doc, method, method_at.is_none(), what, cluster_name))
                .collect();
            if problems.is_empty() || problems.iter().any(Option::is_none) {
                continue;
            }
            let problem = problems.into_iter().next().flatten();
            if let Some(message) = problem {
                ctx.report(at, message)
                    .object(inst)
                    .help(
                        "Match the method to the Cluster: method: plugin with \
                         pluginConfiguration.name: barman-cloud.cloudnative-pg.io for the \
                         barman-cloud plugin, barmanObjectStore for in-tree Barman, volumeSnapshot \
                         with spec.backup.volumeSnapshot.",
                    );
            }
        }
    }
}

/// What is wrong with `method` for this Cluster, if anything.
fn mismatch(
    cluster_doc: &crate::model::Doc,
    method: &str,
    defaulted: bool,
    what: &str,
    cluster_name: &str,
) -> Option<String> {
    let cluster = Cluster(&cluster_doc.root);
    let has_plugins = cluster.plugins().any(|p| p.enabled());
    let in_tree = cluster.in_tree_store().is_some();
    let snapshots = cluster_doc
        .root
        .at(&["spec", "backup", "volumeSnapshot"])
        .is_some_and(|n: &Node| !n.is_null());
    let default_note = if defaulted {
        " (the CRD default when method is omitted)"
    } else {
        ""
    };
    match method {
        "barmanObjectStore" if !in_tree && has_plugins => Some(format!(
            "{what} uses method barmanObjectStore{default_note}, but cluster `{cluster_name}` \
             archives only through plugins: every backup fails with \"no barmanObjectStore \
             section defined on the target cluster\""
        )),
        "barmanObjectStore" if !in_tree && !has_plugins && !snapshots => Some(format!(
            "{what} uses method barmanObjectStore{default_note}, but cluster `{cluster_name}` has \
             no spec.backup.barmanObjectStore: every backup fails"
        )),
        "plugin" if !has_plugins => Some(format!(
            "{what} uses method plugin, but cluster `{cluster_name}` has no enabled spec.plugins \
             entry: every backup fails"
        )),
        "volumeSnapshot" if !snapshots => Some(format!(
            "{what} uses method volumeSnapshot, but cluster `{cluster_name}` has no \
             spec.backup.volumeSnapshot: every backup fails"
        )),
        _ => None,
    }
}

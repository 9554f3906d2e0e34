//! CNPG116: a deployed Cluster with no backup of any kind: no WAL archive, and no Backup or
//! ScheduledBackup (of any method) names it.

use crate::model::cnpg::Cluster;
use crate::model::value::text;
use crate::model::Kind;
use crate::rules::engine::Ctx;
use crate::rules::support::{backups_anywhere, is_demo_path, named_by_backup};
use crate::rules::{Category, Loc, RuleMeta, Severity};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG116",
    name: "no-backup",
    severity: Severity::Warning,
    summary: "A deployed Cluster has no backup of any kind: no WAL archive, and no Backup or ScheduledBackup names it.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

/// Backups of any method, volume snapshots included.
const BACKUPS: [Kind; 2] = [Kind::ScheduledBackup, Kind::Backup];

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let anywhere = backups_anywhere(index, &BACKUPS);
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        // Only what Flux deploys: a sample or an archived manifest backs up nothing.
        if i.owner.is_none() || is_demo_path(index, i.doc) {
            continue;
        }
        let cluster = Cluster(&doc.root);
        // A WAL archive, in-tree (CNPG110 asks for its base backups) or through any plugin (a
        // plugin this tool does not know may archive; CNPG109 covers a barman-cloud one that
        // does not).
        if cluster.in_tree_store().is_some() || cluster.plugins().next().is_some() {
            continue;
        }
        // A standalone replica holds a copy of a source whose archive it reads; the source is
        // judged on its own. A replica in a distributed topology (`replica.primary`) is judged:
        // promoted, it is the primary and needs its own backups.
        let primary = doc.root.at(&["spec", "replica", "primary"]).and_then(text);
        match (cluster.is_replica(), primary) {
            (None, _) | (Some(true), None) => continue,
            (Some(true), Some(p)) if p.known().is_none() => continue,
            _ => {}
        }
        let (Some(name), Some(ns)) = (index.name(inst), index.namespace(inst)) else {
            continue;
        };
        // A Backup or ScheduledBackup of any method (volume snapshots included) names it, or
        // one whose cluster name or namespace is a placeholder might.
        if named_by_backup(index, inst, (name, ns), &BACKUPS, &anywhere) {
            continue;
        }
        let Some(at) = doc.root.at(&["metadata", "name"]) else { continue };
        // A maintainer who wrote down why there is no backup has decided; the rule would
        // restate it.
        if explains_backups(index, &doc.root) {
            continue;
        }
        let replica = match (cluster.is_replica(), primary.and_then(|p| p.known())) {
            (Some(true), Some(p)) => format!(
                " It is a replica of `{p}` in a distributed topology: once promoted, it is the \
                 primary, and it has no backup then either."
            ),
            _ => String::new(),
        };
        ctx.report(
            Loc::value(i.doc, at),
            format!(
                "cluster `{name}` has no backup of any kind: it archives no WAL (no \
                 spec.backup.barmanObjectStore, no WAL-archiver plugin) and no ScheduledBackup \
                 or Backup names it, so if its volumes are lost, its data cannot be restored.{replica}"
            ),
        )
        .object(inst)
        .help(format!(
            "Archive WAL with the barman-cloud plugin (spec.plugins: [{{name: \
             barman-cloud.cloudnative-pg.io, isWALArchiver: true, parameters: {{barmanObjectName: \
             <ObjectStore>}}}}]) and add a ScheduledBackup with spec.cluster.name: {name}; or, \
             where the storage class supports it, a ScheduledBackup with method: volumeSnapshot."
        ));
    }
}

/// Whether the written Cluster carries a prose comment about backups (`# no backups: a cache,
/// rebuilt from the API`). A commented-out `backup:` section is YAML, not prose: it is a backup
/// switched off, and is still reported.
fn explains_backups(index: &crate::index::Index, root: &crate::yaml::Node) -> bool {
    let Some(file) = index.sources.get(root.span.file) else {
        return false;
    };
    let Some(text) = file.text.get(root.span.range()) else {
        return false;
    };
    text.lines().any(|line| {
        let Some((_, comment)) = line.split_once('#') else {
            return false;
        };
        let comment = comment.trim();
        let lower = comment.to_ascii_lowercase();
        let about = ["backup", "backrest", "barman", "wal archiv"].iter().any(|w| lower.contains(w));
        about && !is_yaml(comment)
    })
}

/// Whether a comment reads as commented-out YAML: `key:`, `key: value` or `- item`.
fn is_yaml(comment: &str) -> bool {
    if comment.starts_with("- ") || comment == "-" {
        return true;
    }
    match comment.split_once(':') {
        Some((key, rest)) => {
            !key.is_empty()
                && !key.contains(char::is_whitespace)
                && (rest.is_empty() || rest.starts_with(' '))
        }
        None => false,
    }
}

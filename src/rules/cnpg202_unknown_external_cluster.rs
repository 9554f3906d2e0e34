//! CNPG202: a bootstrap or replica source that names no `externalClusters` entry, and entries
//! the webhook rejects.

use std::collections::HashMap;

use super::support;
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::value::text;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG202",
    name: "unknown-external-cluster",
    severity: Severity::Error,
    summary: "A recovery, pg_basebackup or replica source is not in externalClusters, or an entry is duplicated or empty.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

const SOURCES: [(&[&str], &str); 3] = [
    (&["spec", "bootstrap", "recovery", "source"], "bootstrap.recovery.source"),
    (&["spec", "bootstrap", "pg_basebackup", "source"], "bootstrap.pg_basebackup.source"),
    (&["spec", "replica", "source"], "replica.source"),
];

const CONNECTIONS: [&str; 3] = ["connectionParameters", "barmanObjectStore", "plugin"];

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let mut names: HashMap<&str, &crate::yaml::Node> = HashMap::new();
        let mut unknown_name = false;
        for ext in cluster.external_clusters() {
            let Some(name) = ext.name() else { continue };
            let Val::Known(n) = name.value else {
                unknown_name = true;
                continue;
            };
            if let Some(first) = names.get(n) {
                ctx.report(
                    Loc::value(i.doc, name.node),
                    format!(
                        "externalClusters has two entries named `{n}`; the webhook rejects the \
                         Cluster (duplicate external cluster name)"
                    ),
                )
                .object(inst)
                .help("Give each entry its own name, or merge the two entries.")
                .related(Loc::value(i.doc, first), "first entry with this name");
            } else {
                names.insert(n, name.node);
            }
            let has_connection = CONNECTIONS
                .iter()
                .any(|k| ext.0.get(k).is_some_and(|v| !v.is_null()));
            // A mapping merged in from elsewhere is still a mapping: only a plain entry with
            // none of the three is empty.
            if !has_connection && ext.0.as_map().is_some() {
                ctx.report(
                    Loc::value(i.doc, name.node),
                    format!(
                        "externalClusters entry `{n}` has none of connectionParameters, \
                         barmanObjectStore or plugin: the webhook rejects it, since nothing says \
                         how to reach the source"
                    ),
                )
                .object(inst)
                .help(
                    "Add connectionParameters (streaming or pg_basebackup), barmanObjectStore, or \
                     a barman-cloud plugin entry (recovery from an object store).",
                );
            }
        }
        for (path, label) in SOURCES {
            let Some(node) = doc.root.at(path) else { continue };
            let Some(Val::Known(source)) = text(node) else { continue };
            if source.is_empty() || unknown_name || names.contains_key(source) {
                continue;
            }
            let known: Vec<&str> = {
                let mut v: Vec<&str> = names.keys().copied().collect();
                v.sort_unstable();
                v
            };
            let listed = if known.is_empty() {
                "the Cluster has no externalClusters".to_string()
            } else {
                format!("externalClusters has {}", support::code_list(&known))
            };
            ctx.report(
                Loc::value(i.doc, node),
                format!(
                    "{label} `{source}` names no externalClusters entry ({listed}); the webhook \
                     rejects the Cluster (\"External cluster {source} not found\")"
                ),
            )
            .object(inst)
            .help("Add an externalClusters entry with this name, or point the source at an existing entry.");
        }
    }
}

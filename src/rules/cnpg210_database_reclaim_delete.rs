//! CNPG210: a Database CR that drops its database when the manifest goes away, and two
//! Database CRs that manage the same database.

use std::collections::BTreeMap;

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::source::paths;
use crate::rules::engine::Ctx;
use crate::index::{Index, InstId};
use crate::model::cnpg::ClusterRef;
use crate::model::value::text;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG210",
    name: "database-reclaim-delete",
    severity: Severity::Warning,
    summary: "A Database CR with databaseReclaimPolicy: delete, or two Database CRs for the same database.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // (namespace, cluster, database name) → Database instances, in index order.
    let mut by_target: BTreeMap<(&str, &str, &str), Vec<InstId>> = BTreeMap::new();
    for (inst, i, doc) in index.instances_of(Kind::Database) {
        // Demonstration data by the repository's design: a sample or test that nothing deploys.
        if i.owner.is_none() && super::support::is_demo_path(index, i.doc) {
            continue;
        }
        if let Some(node) = doc.root.at(&["spec", "databaseReclaimPolicy"]) {
            if text(node) == Some(Val::Known("delete")) {
                let db = doc
                    .root
                    .at(&["spec", "name"])
                    .and_then(text)
                    .and_then(Val::known)
                    .unwrap_or("the database");
                ctx.report(
                    Loc::value(i.doc, node),
                    format!(
                        "databaseReclaimPolicy: delete drops `{db}` when this Database object is \
                         deleted: removing or moving the manifest, a rename, or a pruning Flux \
                         Kustomization deletes the data with it"
                    ),
                )
                .object(inst)
                .help(
                    "Use the default, retain, and drop databases deliberately with ensure: absent. \
                     (On a replica cluster the object is only released.)",
                );
            }
        }
        let (Some(ns), Some(Val::Known(cluster)), Some(Val::Known(name))) = (
            index.namespace(inst),
            ClusterRef(&doc.root).cluster_name().map(|a| a.value),
            doc.root.at(&["spec", "name"]).and_then(text),
        ) else {
            continue;
        };
        by_target.entry((ns, cluster, name)).or_default().push(inst);
    }
    for ((_, cluster, name), insts) in by_target {
        for (n, &later) in insts.iter().enumerate().skip(1) {
            let Some(&first) = insts[..n].iter().find(|&&e| conflicting(index, e, later)) else {
                continue;
            };
            let (Some(li), Some(fi)) = (index.instance(later), index.instance(first)) else {
                continue;
            };
            let (Some(ld), Some(fd)) = (index.doc(li.doc), index.doc(fi.doc)) else {
                continue;
            };
            let (Some(lnode), Some(fnode)) = (ld.root.at(&["spec", "name"]), fd.root.at(&["spec", "name"]))
            else {
                continue;
            };
            let other = index.name(first).unwrap_or("another Database");
            ctx.report(
                Loc::value(li.doc, lnode),
                format!(
                    "database `{name}` of cluster `{cluster}` is also managed by Database \
                     `{other}`; CNPG lets one object manage it and fails the other (\"is already \
                     managed by object\")"
                ),
            )
            .severity(Severity::Error)
            .object(later)
            .help("Keep one Database object per database and cluster.")
            .related(Loc::value(fi.doc, fnode), "the other Database object");
        }
    }
}

/// Two instances conflict when they are applied together and are not the same source text
/// applied twice (that is CNPG402's finding).
/// Objects nothing applies are compared only within one directory: files in different
/// directories (one per environment, say) are not known to meet in one Kubernetes cluster.
fn conflicting(index: &Index, a: InstId, b: InstId) -> bool {
    if !index.paired(a, b) {
        return false;
    }
    let unowned_dir = |x: InstId| {
        let i = index.instance(x)?;
        if i.owner.is_some() {
            return None;
        }
        let file = index.sources.get(index.doc(i.doc)?.file)?;
        Some(paths::parent(&file.repo_path))
    };
    if let (Some(da), Some(db)) = (unowned_dir(a), unowned_dir(b)) {
        if da != db {
            return false;
        }
    }
    let span = |x: InstId| {
        let i = index.instance(x)?;
        Some(index.doc(i.doc)?.root.at(&["spec", "name"])?.span)
    };
    span(a) != span(b)
}

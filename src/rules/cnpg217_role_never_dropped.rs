//! CNPG217: a DatabaseRole with `databaseRoleReclaimPolicy: delete` that owns a Database kept
//! with `retain`. Deleting the DatabaseRole runs `DROP ROLE`, which PostgreSQL refuses while the
//! role owns the retained database, so the DatabaseRole stays Terminating.

use crate::model::value::known_text;
use crate::model::{Kind, NameVal};
use crate::rules::engine::Ctx;
use crate::rules::support::is_demo_path;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG217",
    name: "role-never-dropped",
    severity: Severity::Warning,
    summary: "A DatabaseRole with databaseRoleReclaimPolicy: delete owns a Database kept with retain, so deleting it never completes.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (role_inst, ri, rdoc) in index.instances_of(Kind::DatabaseRole) {
        if ri.owner.is_none() && is_demo_path(index, ri.doc) {
            continue;
        }
        let spec = rdoc.root.get("spec");
        let Some(policy) = spec.and_then(|s| s.get("databaseRoleReclaimPolicy")) else {
            continue;
        };
        if known_text(policy) != Some("delete") {
            continue;
        }
        let (Some(role), Some(cluster), Some(ns)) = (
            spec.and_then(|s| s.get("name")).and_then(known_text),
            spec.and_then(|s| s.at(&["cluster", "name"])).and_then(known_text),
            index.namespace(role_inst),
        ) else {
            continue;
        };
        // `shouldDropRole` drops only a role the Cluster does not manage inline, and never on
        // a replica: the Cluster must be seen to be judged.
        let clusters = index.find(Kind::Cluster, ns, cluster, role_inst);
        let [c] = clusters.as_slice() else { continue };
        let Some(cdoc) = index.instance(*c).and_then(|i| index.doc(i.doc)) else { continue };
        if crate::model::cnpg::Cluster(&cdoc.root).is_replica() != Some(false)
            || manages_inline(&cdoc.root, role)
        {
            continue;
        }
        for (db_inst, di, ddoc) in index.instances_of(Kind::Database) {
            if index.namespace(db_inst) != Some(ns) || !index.paired(role_inst, db_inst) {
                continue;
            }
            let dspec = ddoc.root.get("spec");
            if dspec.and_then(|s| s.at(&["cluster", "name"])).and_then(known_text) != Some(cluster)
                || dspec.and_then(|s| s.get("owner")).and_then(known_text) != Some(role)
            {
                continue;
            }
            // `retain` is the default.
            let retained = match dspec.and_then(|s| s.get("databaseReclaimPolicy")) {
                None => true,
                Some(p) => known_text(p) == Some("retain"),
            };
            if !retained || dspec.and_then(|s| s.get("ensure")).and_then(Node::as_str) == Some("absent") {
                continue;
            }
            let db = dspec.and_then(|s| s.get("name")).and_then(known_text).unwrap_or("?");
            let db_object = ddoc
                .header
                .as_ref()
                .and_then(|h| h.name.as_ref())
                .and_then(NameVal::known)
                .unwrap_or("?");
            let f = ctx
                .report(
                    Loc::value(ri.doc, policy),
                    format!(
                        "DatabaseRole `{ns}/{}` drops role `{role}` when it is deleted, but role \
                         `{role}` owns database `{db}`, which Database `{db_object}` keeps \
                         (databaseReclaimPolicy retain): PostgreSQL refuses the DROP ROLE while \
                         the role owns a database, so the DatabaseRole stays Terminating, retried \
                         forever",
                        index.name(role_inst).unwrap_or("?"),
                    ),
                )
                .object(role_inst)
                .help(
                    "Use databaseRoleReclaimPolicy: retain (the default) for a role whose data \
                     is kept, or give the Database databaseReclaimPolicy: delete if its data \
                     goes with the app.",
                );
            let at = dspec.and_then(|s| s.get("owner")).unwrap_or(&ddoc.root);
            f.related(Loc::value(di.doc, at), format!("Database `{db_object}` owned by `{role}`"));
        }
    }
}

/// Whether the Cluster's `managed.roles` has the role (it then shadows the DatabaseRole).
fn manages_inline(cluster: &Node, role: &str) -> bool {
    cluster
        .at(&["spec", "managed", "roles"])
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .any(|r| r.get("name").and_then(known_text) == Some(role))
}

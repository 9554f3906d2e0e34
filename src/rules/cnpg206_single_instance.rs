//! CNPG206: a Cluster with one instance has no failover.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::Kind;


pub const META: RuleMeta = RuleMeta {
    code: "CNPG206",
    name: "single-instance",
    severity: Severity::Info,
    summary: "A Cluster with instances: 1 has no standby to fail over to (off by default).",
    // Off by default: `instances: 1` is written on purpose, and a finding only restates it.
    on_by_default: false,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let Some(entry) = doc.root.get("spec").and_then(|s| s.entry("instances")) else {
            continue;
        };
        if entry.value.as_scalar().and_then(|s| s.as_i64()) != Some(1) {
            continue;
        }
        // A replica cluster follows a primary elsewhere; its instance count is not its
        // availability (and it may be unknown whether it is one: then stay silent).
        if crate::model::cnpg::Cluster(&doc.root).is_replica() != Some(false) {
            continue;
        }
        ctx.report(
            Loc::value(i.doc, &entry.value),
            "instances: 1 has no standby: a node drain, an eviction or a failed disk takes the \
             database down until the pod is rescheduled and its volume is reachable again",
        )
        .object(inst)
        .help("Use instances: 3 (or 2) for failover, or accept the downtime for non-critical data.");
    }
}

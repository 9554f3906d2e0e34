//! CNPG407: `wait: true` makes Flux ignore `healthChecks`.

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::model::Kind;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG407",
    name: "wait-ignores-health-checks",
    severity: Severity::Warning,
    summary: "A Flux Kustomization sets wait: true and healthChecks; the healthChecks are ignored.",
    on_by_default: true,
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::FluxKustomization) {
        let wait = doc
            .root
            .at(&["spec", "wait"])
            .and_then(|w| w.as_scalar()?.as_bool())
            .unwrap_or(false);
        let Some(checks) = doc.root.get("spec").and_then(|s| s.entry("healthChecks")) else {
            continue;
        };
        if !wait || checks.value.as_seq().is_none_or(<[Node]>::is_empty) {
            continue;
        }
        ctx.report(
            Loc::key(i.doc, &checks.key),
            "wait: true health-checks every applied object and ignores healthChecks, so these \
             checks (and any custom readiness they express) never run",
        )
        .object(inst)
        .help("Keep one: wait: true to gate on every object, or wait: false with the healthChecks (or healthCheckExprs) you need.");
    }
}

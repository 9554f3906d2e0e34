//! CNPG503: the postgres superuser can log in over the network.

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG503",
    name: "superuser-access",
    severity: Severity::Info,
    summary: "enableSuperuserAccess: true lets the postgres superuser log in with a password.",
    on_by_default: true,
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let Some(entry) = doc.root.get("spec").and_then(|s| s.entry("enableSuperuserAccess")) else {
            continue;
        };
        if entry.value.as_scalar().and_then(|s| s.as_bool()) != Some(true) {
            continue;
        }
        ctx.report(
            Loc::value(i.doc, &entry.value),
            "enableSuperuserAccess: true gives the postgres superuser a password (in a Secret \
             named <cluster>-superuser) and lets it log in over the network",
        )
        .object(inst)
        .help("Use managed roles or the application user for day-to-day access, and keep superuser access off unless an operator task needs it.");
    }
}

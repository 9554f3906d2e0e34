//! CNPG503: the postgres superuser can log in over the network.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG503",
    name: "superuser-access",
    severity: Severity::Info,
    summary: "enableSuperuserAccess: true lets the postgres superuser log in with a password (off by default).",
    // Off by default: `enableSuperuserAccess: true` is written on purpose, and a finding only
    // restates it.
    on_by_default: false,
    category: Category::Security,
    needs_schemas: false,
    options: &[],
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
        let secret = match doc.root.at(&["spec", "superuserSecret", "name"]).and_then(|n| n.as_str()) {
            Some(name) => format!("the Secret `{name}` that superuserSecret names"),
            None => match index.name(inst) {
                Some(cluster) => format!("a Secret `{cluster}-superuser` that CNPG generates"),
                None => "a Secret `<cluster>-superuser` that CNPG generates".to_string(),
            },
        };
        ctx.report(
            Loc::value(i.doc, &entry.value),
            format!(
                "enableSuperuserAccess: true lets the postgres superuser log in over the network \
                 with the password in {secret}"
            ),
        )
        .object(inst)
        .help("Use managed roles or the application user for day-to-day access, and keep superuser access off unless an operator task needs it.");
    }
}

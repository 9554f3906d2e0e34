//! CNPG007: where the repository crossed one of the run's budgets (see `crate::budget`), so that
//! a small hostile input ends in a located error instead of exhausting the CI runner.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG007",
    name: "resource-limit",
    severity: Severity::Error,
    summary: "The repository crosses one of cnpg-lint's resource budgets here; what lies beyond is not linted.",
    on_by_default: true,
    category: Category::Yaml,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let mut seen = std::collections::HashSet::new();
    for limit in &ctx.index.limits {
        if !seen.insert((limit.span, limit.message.as_str())) {
            continue;
        }
        ctx.report(Loc::Span(limit.span), limit.message.clone()).help(
            "Real repositories stay far below these budgets: look for aliases that copy large \
             trees, a variable substituted into itself, or Kustomizations that apply each other \
             without end.",
        );
    }
}

//! CNPG006: Terraform that cnpg-lint cannot parse, so its buckets and IAM bindings are unknown.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG006",
    name: "terraform-syntax-error",
    severity: Severity::Warning,
    summary: "A Terraform file does not parse; the buckets and IAM bindings it declares are not checked.",
    on_by_default: true,
    category: Category::Yaml,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    for problem in &ctx.index.terraform_syntax {
        ctx.report(
            Loc::Span(problem.span),
            format!(
                "this Terraform does not parse ({}): the bucket lifecycles and Workload Identity \
                 bindings it declares are not checked against the Clusters",
                problem.message
            ),
        )
        .help(
            "Fix the syntax (`terraform validate` shows it). If Terraform accepts the file, \
             cnpg-lint's parser is wrong: please report it, and exclude the file meanwhile.",
        );
    }
}

//! CNPG001: YAML that Kubernetes tooling cannot read, in a file that matters to it.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG001",
    name: "yaml-syntax-error",
    severity: Severity::Error,
    summary: "A manifest that Flux applies, or that declares a Kubernetes object, is not valid YAML.",
    on_by_default: true,
    category: Category::Yaml,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for problem in &index.syntax {
        let f = ctx.report(Loc::Span(problem.span), problem.message.clone());
        match problem.first {
            Some(first) => {
                f.help(
                    "YAML requires unique keys; kustomize and kubectl reject the document. \
                     Remove or rename one of them.",
                );
                f.related(Loc::Span(first), "first defined here");
            }
            None => {
                f.help(
                    "Flux cannot build a Kustomization that contains this file, so nothing in \
                     it (or beside it) is applied until it is fixed.",
                );
            }
        }
    }
}

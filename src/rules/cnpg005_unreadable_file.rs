//! CNPG005: files cnpg-lint did not read, so nothing in them was checked. Reported as findings
//! (and not only on standard error) so that CI annotations and code scanning show them.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::discover::IoProblem;
use crate::rules::engine::Ctx;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG005",
    name: "unreadable-file",
    severity: Severity::Error,
    summary: "A file was not read: it cannot be read, is not a regular file, is over the size limit, or is a symlink that leaves the repository.",
    on_by_default: true,
    category: Category::Yaml,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let at = |p: &IoProblem| {
        index
            .sources
            .find(&p.path)
            .map(|f| Loc::Span(Span::new(f, 0, 0)))
    };
    for p in &index.problems {
        let Some(loc) = at(p) else { continue };
        ctx.report(loc, format!("not linted: {}", p.message)).help(
            "Nothing in this file was checked. Make it readable, or exclude it in \
             .cnpg-lint.yaml (`exclude:`) if it is not part of what Flux applies.",
        );
    }
    for p in &index.skipped {
        let Some(loc) = at(p) else { continue };
        ctx.report(loc, format!("not linted: {}", p.message))
            .severity(Severity::Info)
            .help(
                "Flux builds inside the source artifact and refuses to follow a symlink out of \
                 it, so a build that reads this file fails. Commit the file itself, or remove \
                 the link.",
            );
    }
}

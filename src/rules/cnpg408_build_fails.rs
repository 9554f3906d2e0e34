//! CNPG408: what makes a Flux Kustomization's build fail, found while rendering it: a path that
//! leaves the repository, kustomizations that include each other, a generator file that cannot
//! be read. Missing resources and paths are CNPG406's.

use std::collections::BTreeMap;

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::render::ProblemKind;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG408",
    name: "build-fails",
    severity: Severity::Error,
    summary: "A Flux Kustomization's build fails: a path leaves the repository, kustomizations include each other, or a generator file cannot be read.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // One finding per written mistake, however many builds include it; each build is named.
    let mut by_place: BTreeMap<(Span, &str), Vec<u32>> = BTreeMap::new();
    for b in &index.builds {
        for p in b.problems.iter().filter(|p| p.kind == ProblemKind::Fails) {
            by_place
                .entry((p.span, p.message.as_str()))
                .or_default()
                .push(b.ks);
        }
    }
    // Without Flux, directories are built as `kustomize build` would build them.
    if index.builds.is_empty() {
        for p in index
            .standalone_problems
            .iter()
            .filter(|p| p.kind == ProblemKind::Fails)
        {
            by_place.entry((p.span, p.message.as_str())).or_default();
        }
    }
    for ((span, message), builds) in by_place {
        let mut names: Vec<String> = builds
            .iter()
            .filter_map(|&ks| index.doc_name(ks).map(str::to_string))
            .collect();
        names.sort();
        names.dedup();
        let consequence = match names.as_slice() {
            [] => "`kustomize build` fails here".to_string(),
            [one] => format!("the build of Flux Kustomization `{one}` fails, and it applies nothing"),
            many => format!(
                "the builds of {} Flux Kustomizations fail ({}), and they apply nothing",
                many.len(),
                many.join(", ")
            ),
        };
        ctx.report(Loc::Span(span), format!("{message}; {consequence}"))
            .help("Keep every path inside the repository, and make each file a build reads a regular file in it.");
    }
}

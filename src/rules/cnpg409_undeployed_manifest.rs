//! CNPG409: manifests no deployed Flux Kustomization applies. Off by default: in a repository
//! with a Flux model, such files (an archive, a directory commented out of a
//! `kustomization.yaml`, a template) are not linted at all, and this rule lists them for those
//! who want to know.

use std::collections::BTreeMap;

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::source::FileId;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG409",
    name: "undeployed-manifest",
    severity: Severity::Info,
    summary: "A manifest that no deployed Flux Kustomization applies, so no rule checks it (off by default).",
    on_by_default: false,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // One finding per file: the first object in it, with how many it holds.
    let mut by_file: BTreeMap<FileId, Vec<u32>> = BTreeMap::new();
    for &d in &index.undeployed {
        if let Some(doc) = index.doc(d) {
            by_file.entry(doc.file).or_default().push(d);
        }
    }
    for docs in by_file.values() {
        let Some(&first) = docs.first() else { continue };
        let what = match docs.len() {
            1 => "this manifest".to_string(),
            n => format!("the {n} manifests of this file"),
        };
        ctx.report(
            Loc::path(first, &["kind"]),
            format!(
                "no deployed Flux Kustomization applies {what}: Flux never applies it, and no \
                 other rule checks it"
            ),
        )
        .help(
            "If it should be deployed, add it to the `kustomization.yaml` of a path a deployed \
             Flux Kustomization builds; if it is kept for reference, nothing needs to change.",
        );
    }
}

//! CNPG201: more than one bootstrap method.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG201",
    name: "mixed-bootstrap-methods",
    severity: Severity::Error,
    summary: "spec.bootstrap sets more than one of initdb, recovery and pg_basebackup.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

const METHODS: [&str; 3] = ["initdb", "recovery", "pg_basebackup"];

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let Some(entries) = Cluster(&doc.root).bootstrap().and_then(|b| b.as_map()) else {
            continue;
        };
        // A key with a null value is a nil pointer to the webhook: not a method.
        let set: Vec<_> = entries
            .iter()
            .filter(|e| e.key.as_str().is_some_and(|k| METHODS.contains(&k)) && !e.value.is_null())
            .collect();
        let [first, rest @ ..] = set.as_slice() else {
            continue;
        };
        let first_name = first.key.as_str().unwrap_or("");
        for e in rest {
            let name = e.key.as_str().unwrap_or("");
            ctx.report(
                Loc::key(i.doc, &e.key),
                format!(
                    "bootstrap method `{name}` is set together with `{first_name}`; the webhook \
                     rejects the Cluster (\"Only one bootstrap method can be specified at a time\")"
                ),
            )
            .object(inst)
            .help(
                "Keep one method. When overlays add recovery to a base with initdb, remove \
                 initdb in the same patch.",
            )
            .related(Loc::key(i.doc, &first.key), format!("`{first_name}` set here"));
        }
    }
}

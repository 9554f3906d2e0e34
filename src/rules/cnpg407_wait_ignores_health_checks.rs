//! CNPG407: `wait: true` makes Flux ignore `healthChecks`, which drops a gate only when a check
//! names an object the Kustomization does not apply itself.

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::index::Index;
use crate::model::{Kind, NameVal};
use crate::render::flux::Status;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG407",
    name: "wait-ignores-health-checks",
    severity: Severity::Warning,
    summary: "A Flux Kustomization sets wait: true, which ignores healthChecks, and a check names an object it does not apply.",
    on_by_default: true,
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::FluxKustomization) {
        let Some(wait) = doc.root.at(&["spec", "wait"]) else {
            continue;
        };
        if wait.as_scalar().and_then(|s| s.as_bool()) != Some(true) {
            continue;
        }
        let Some(checks) = doc.root.at(&["spec", "healthChecks"]).and_then(Node::as_seq) else {
            continue;
        };
        // What this Kustomization applies; a build that is not whole proves nothing missing.
        let Some(build) = index.builds.iter().find(|b| b.ks == i.doc) else {
            continue;
        };
        if build.status != Status::Full || index.uncertain_identity(i.doc) {
            continue;
        }
        let ks_ns = doc
            .header
            .as_ref()
            .and_then(|h| h.namespace.as_ref())
            .and_then(NameVal::known)
            .unwrap_or("");
        for check in checks {
            let field = |k: &str| check.get(k).and_then(Node::as_str);
            let (Some(api), Some(kind), Some(name)) =
                (field("apiVersion"), field("kind"), field("name"))
            else {
                continue;
            };
            let ns = field("namespace").unwrap_or(ks_ns);
            if [api, kind, name, ns].iter().any(|v| v.contains("${")) {
                continue;
            }
            if applies(index, &build.objects, (api, kind, ns, name)) {
                continue;
            }
            let from_patch = wait.span.file != doc.root.span.file;
            let at = check.get("name").map_or(Loc::value(i.doc, check), |n| Loc::value(i.doc, n));
            let f = ctx.report(
                at,
                format!(
                    "wait: true{} makes Flux health-check only what this Kustomization applies and \
                     ignore healthChecks, and it does not apply {kind} `{}`: this check never \
                     runs, so whatever `dependsOn` this Kustomization goes ahead before that \
                     {kind} is ready",
                    if from_patch { " (set by a patch)" } else { "" },
                    // Only a namespace the check names is shown: a CRD has none.
                    match field("namespace") {
                        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
                        _ => name.to_string(),
                    }
                ),
            );
            f.object(inst).help(
                "Set wait: false and keep the healthChecks, or move the check to the \
                 Kustomization that applies the object (wait: true there covers it).",
            );
            if from_patch {
                f.related(Loc::value(i.doc, wait), "wait: true is set here");
            }
        }
    }
}

/// Whether one of `objects` is the health check's target.
fn applies(index: &Index, objects: &[u32], (api, kind, ns, name): (&str, &str, &str, &str)) -> bool {
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    objects.iter().any(|&d| {
        let Some(h) = index.doc(d).and_then(|doc| doc.header.as_ref()) else {
            return false;
        };
        let namespace = index
            .doc_namespace(d)
            .and_then(|n| n.known().map(str::to_string))
            .unwrap_or_default();
        h.kind_name == kind
            && h.group == group
            && h.name.as_ref().and_then(NameVal::known) == Some(name)
            && (namespace == ns || namespace.is_empty())
    })
}

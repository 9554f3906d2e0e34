//! CNPG407: `wait: true` makes Flux ignore `healthChecks`, which drops a gate only when a check
//! names an object the Kustomization does not apply itself.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
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
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
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
        // Set by a patch when `wait` is written in another file than the Kustomization.
        let own_file = doc.root.get("kind").map_or(doc.root.span.file, |k| k.span.file);
        let from_patch = wait.span.file != own_file;
        // Every check the one `wait: true` drops, reported once, at the first of them.
        let mut dropped: Vec<(&Node, String, &str)> = Vec::new();
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
            // The object it applies under this kind and name, in whatever namespace: a check
            // with a wrong namespace is dropped, and `wait` checks the object it meant.
            if applies(index, &build.objects, (api, kind, None, name)) {
                continue;
            }
            // A HelmRelease it applies may render the object, and helm-controller waits for
            // what the chart installs to be ready unless disableWait is set: the gate holds.
            // Unless a healthCheckExprs entry gives that kind its own readiness: helm-controller
            // waits with kstatus, which never evaluates it.
            let custom = doc
                .root
                .at(&["spec", "healthCheckExprs"])
                .and_then(Node::as_seq)
                .is_some_and(|exprs| {
                    exprs.iter().any(|e| e.get("kind").and_then(Node::as_str) == Some(kind))
                });
            if kind != "HelmRelease"
                && !custom
                && applies_waiting_helm_release(index, &build.objects)
            {
                continue;
            }
            // Only a namespace the check names is shown: a CRD has none.
            let shown = match field("namespace") {
                Some(ns) if !ns.is_empty() => format!("{kind} `{ns}/{name}`"),
                _ => format!("{kind} `{name}`"),
            };
            dropped.push((check, shown, kind));
        }
        let Some((first, _, first_kind)) = dropped.first() else {
            continue;
        };
        let names: Vec<&str> = dropped.iter().map(|(_, s, _)| s.as_str()).collect();
        let (what, ready) = if dropped.len() == 1 {
            (format!("it does not apply {}: this check never runs", names[0]), format!("that {first_kind} is ready"))
        } else {
            (
                format!("it applies none of {}: these checks never run", names.join(", ")),
                "they are ready".to_string(),
            )
        };
        let at = first.get("name").map_or(Loc::value(i.doc, first), |n| Loc::value(i.doc, n));
        let f = ctx.report(
            at,
            format!(
                "wait: true{} makes Flux health-check only what this Kustomization applies and \
                 ignore healthChecks, and {what}, so whatever `dependsOn` this Kustomization \
                 goes ahead before {ready}",
                if from_patch { " (set by a patch)" } else { "" },
            ),
        );
        f.object(inst).help(
            "Set wait: false and keep the healthChecks (make sure each names an object that \
             exists, or the Kustomization waits for it forever), or move the check to the \
             Kustomization that applies the object (wait: true there covers it).",
        );
        if from_patch {
            f.related(Loc::value(i.doc, wait), "wait: true is set here");
        }
        for (check, shown, _) in dropped.iter().skip(1) {
            f.related(Loc::value(i.doc, check), format!("the check on {shown}"));
        }
    }
}

/// Whether one of `objects` is the health check's target. A check that names no namespace
/// matches in any: it is how a cluster-scoped object is named, and rendering may have stamped
/// a targetNamespace on a kind kustomize does not know to be cluster-scoped.
fn applies(index: &Index, objects: &[u32], (api, kind, ns, name): (&str, &str, Option<&str>, &str)) -> bool {
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
            && ns.is_none_or(|ns| namespace == ns || namespace.is_empty())
    })
}

/// Whether `objects` hold a HelmRelease that helm-controller waits on (no disableWait).
fn applies_waiting_helm_release(index: &Index, objects: &[u32]) -> bool {
    objects.iter().any(|&d| {
        let Some(doc) = index.doc(d) else { return false };
        let Some(h) = doc.header.as_ref() else { return false };
        if h.kind_name != "HelmRelease" || h.group != "helm.toolkit.fluxcd.io" {
            return false;
        }
        let off = |section: &str| {
            doc.root
                .at(&["spec", section, "disableWait"])
                .and_then(|n| n.as_scalar()?.as_bool())
                == Some(true)
        };
        !off("install") && !off("upgrade")
    })
}

//! CNPG410: `healthCheckExprs` that kustomize-controller never evaluates, because the
//! Kustomization neither waits nor lists an object of that kind in `healthChecks`.

use std::collections::{BTreeMap, BTreeSet};

use crate::index::Index;
use crate::model::flux::FluxKustomization;
use crate::model::value::Val;
use crate::model::Kind;
use crate::rules::engine::Ctx;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG410",
    name: "health-check-exprs-never-run",
    severity: Severity::Warning,
    summary: "A Flux Kustomization has healthCheckExprs for a kind it applies, but neither waits nor health-checks an object of that kind, so the expressions never run.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

/// The API group of an `apiVersion` (`postgresql.cnpg.io/v1` → `postgresql.cnpg.io`, `v1` → ``).
fn group_of(api: &str) -> &str {
    api.rsplit_once('/').map_or("", |(g, _)| g)
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let roots: BTreeMap<u32, u32> = index.ownership.roots.iter().copied().collect();
    for (inst, i, doc) in index.instances_of(Kind::FluxKustomization) {
        // Only what Flux runs: a root, or a Kustomization another applies.
        if i.owner.is_none() && !roots.contains_key(&i.doc) {
            continue;
        }
        let Some(exprs) = doc.root.at(&["spec", "healthCheckExprs"]).and_then(Node::as_seq) else {
            continue;
        };
        // `wait: true` evaluates the expressions on everything applied; a placeholder may be it.
        match doc.root.at(&["spec", "wait"]) {
            None => {}
            Some(w) if w.is_null() => {}
            Some(w) => match w.as_scalar().and_then(|s| s.as_bool()) {
                Some(false) => {}
                _ => continue,
            },
        }
        // The (group, kind) of each healthChecks entry; one that cannot be read may be any.
        let checks = doc.root.at(&["spec", "healthChecks"]).and_then(Node::as_seq).unwrap_or(&[]);
        let mut checked: Vec<(&str, &str)> = Vec::new();
        let mut unreadable = false;
        for c in checks {
            match (c.get("apiVersion").and_then(Node::as_str), c.get("kind").and_then(Node::as_str)) {
                (Some(api), Some(kind)) if !api.contains("${") && !kind.contains("${") => {
                    checked.push((group_of(api), kind));
                }
                _ => unreadable = true,
            }
        }
        if unreadable {
            continue;
        }
        let Some(build) = index.builds.iter().find(|b| b.ks == i.doc) else {
            continue;
        };
        // Each expression that selects a kind this build applies and healthChecks never names.
        let mut idle: Vec<(&Node, String)> = Vec::new();
        for e in exprs {
            let Some(api) = e.get("apiVersion").and_then(Node::as_str) else { continue };
            let kind = e.get("kind").and_then(Node::as_str);
            if api.contains("${") || kind.is_some_and(|k| k.contains("${")) {
                continue;
            }
            let group = group_of(api);
            // A group-only entry applies to every kind of the group.
            let selects = |g: &str, k: &str| g == group && kind.is_none_or(|want| want == k);
            if checked.iter().any(|&(g, k)| selects(g, k)) {
                continue;
            }
            let Some(applied) = applied_kind(index, &build.objects, &selects) else {
                continue;
            };
            let at = e.get("kind").unwrap_or(e);
            idle.push((at, applied));
        }
        let Some((first, _)) = idle.first() else {
            continue;
        };
        let mut kinds: Vec<&str> = Vec::new();
        for (_, k) in &idle {
            if !kinds.contains(&k.as_str()) {
                kinds.push(k);
            }
        }
        let many = kinds.len() > 1;
        let kinds = and_list(&kinds);
        let why = if checks.is_empty() {
            "it sets no healthChecks and wait is not true, so kustomize-controller runs no health \
             check at all"
                .to_string()
        } else {
            format!(
                "wait is not true and healthChecks names no {kinds}, so kustomize-controller \
                 checks only the objects healthChecks lists"
            )
        };
        let waiting = match dependents(index, &roots, inst) {
            d if d.is_empty() => "turns Ready as soon as its objects are applied".to_string(),
            d => {
                let mut shown: Vec<String> = d.iter().take(3).map(|n| format!("`{n}`")).collect();
                if d.len() > 3 {
                    shown.push(format!("{} more", d.len() - 3));
                }
                let list = and_list(&shown);
                let verb = if d.len() == 1 { "goes" } else { "go" };
                let is = if many { "are ready" } else { "is ready" };
                format!(
                    "turns Ready as soon as its objects are applied, and {list}, which \
                     dependsOn it, {verb} ahead before the {kinds} {is}"
                )
            }
        };
        let f = ctx.report(
            Loc::value(i.doc, first),
            format!("the healthCheckExprs for {kinds} never run: {why}; this Kustomization {waiting}"),
        );
        f.object(inst).help(
            "Set wait: true (every applied object is then health-checked, with these expressions \
             for their kinds), or add a healthChecks entry for each object to wait on.",
        );
        for (node, kind) in idle.iter().skip(1) {
            f.related(Loc::value(i.doc, node), format!("the healthCheckExprs for {kind} never run either"));
        }
    }
}

/// The first kind among `objects` that `selects` accepts.
fn applied_kind(index: &Index, objects: &[u32], selects: &dyn Fn(&str, &str) -> bool) -> Option<String> {
    objects.iter().find_map(|&d| {
        let h = index.doc(d)?.header.as_ref()?;
        selects(h.group.as_str(), h.kind_name.as_str()).then(|| h.kind_name.to_string())
    })
}

/// The names of the deployed Flux Kustomizations of the same cluster whose `dependsOn` names
/// this one, sorted.
fn dependents(index: &Index, roots: &BTreeMap<u32, u32>, inst: crate::index::InstId) -> Vec<String> {
    let context = |id: crate::index::InstId| {
        let i = index.instance(id)?;
        if i.owner.is_none() && !roots.contains_key(&i.doc) {
            return None;
        }
        Some(i.context.or_else(|| roots.get(&i.doc).copied()))
    };
    let (Some(name), own_ns, Some(own_context)) = (index.name(inst), index.namespace(inst), context(inst)) else {
        return Vec::new();
    };
    let mut out = BTreeSet::new();
    for (other, _, doc) in index.instances_of(Kind::FluxKustomization) {
        if other == inst || context(other) != Some(own_context) {
            continue;
        }
        let other_ns = index.namespace(other);
        let names_this = FluxKustomization(&doc.root).depends_on().any(|dep| {
            let ns = match dep.namespace {
                Some(Val::Known(n)) => Some(n),
                Some(Val::Unknown) => return false,
                None => other_ns,
            };
            matches!(dep.name.value, Val::Known(n) if n == name) && ns == own_ns
        });
        if names_this {
            if let Some(n) = index.name(other) {
                out.insert(n.to_string());
            }
        }
    }
    out.into_iter().collect()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    let items: Vec<&str> = items.iter().map(AsRef::as_ref).collect();
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => items.concat(),
    }
}

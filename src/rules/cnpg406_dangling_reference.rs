//! CNPG406: references that point at nothing: kustomize resources and components, Flux
//! `spec.path`, `dependsOn` targets, and dependsOn cycles.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::source::paths;
use crate::rules::engine::Ctx;
use crate::index::InstId;
use crate::model::{DocId, Role};
use crate::model::flux::{classify_resource, FluxKustomization, Kustomize, ResourceRef};
use crate::model::{Kind, NameVal, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG406",
    name: "dangling-reference",
    severity: Severity::Error,
    summary: "A kustomize resource, Flux spec.path or dependsOn points at nothing, or dependsOn forms a cycle.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    kustomize_paths(ctx);
    flux_paths(ctx);
    dependencies(ctx);
}

/// `resources`, `bases` and `components` of every kustomization file.
fn kustomize_paths(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // With a Flux model, a kustomization no deployed Flux Kustomization builds (an archived
    // copy, a tree only an undeployed Kustomization names) is never built; in a plain
    // kustomize repository, any is.
    let built: std::collections::HashSet<crate::source::FileId> = index
        .builds
        .iter()
        .flat_map(|b| b.read.iter().copied())
        .collect();
    for (d, doc) in index.docs.iter().enumerate() {
        if doc.role != Role::KustomizeConfig || doc.index == usize::MAX {
            continue;
        }
        let Some(file) = index.sources.get(doc.file) else { continue };
        if !built.contains(&doc.file) && !index.scope.maybe_deployed(&file.repo_path) {
            continue;
        }
        let dir = paths::parent(&file.repo_path);
        let k = Kustomize(&doc.root);
        for (at, what) in k
            .resources()
            .map(|a| (a, "resource"))
            .chain(k.components().map(|a| (a, "component")))
        {
            let Val::Known(entry) = at.value else { continue };
            let ResourceRef::Local(rel) = classify_resource(entry) else { continue };
            // Paths that leave the repository cannot be judged from here.
            let Some(target) = paths::join(dir, &rel) else { continue };
            if index.path_exists(&target) {
                continue;
            }
            ctx.report(
                Loc::value(d as DocId, at.node),
                format!(
                    "{what} `{rel}` does not exist (no file or directory at `{target}`): \
                     `kustomize build` fails, and so does every Flux Kustomization that builds this \
                     directory"
                ),
            )
            .help("Fix the path, or remove the entry if the file was deleted or moved.");
        }
    }
}

fn flux_paths(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::FluxKustomization) {
        let ks = FluxKustomization(&doc.root);
        // Deployed Kustomizations only: those a build applies, and the roots known to be
        // bootstrapped (applying themselves, or applied by a FluxInstance's sync path). Any
        // other file nothing applies may be an archived copy whose paths are long gone.
        if i.owner.is_none() && !index.ownership.bootstrapped.contains(&i.doc) {
            continue;
        }
        // Paths of another repository or artifact are not in this tree.
        let Some(base) = index.ownership.source_root(&ks) else {
            continue;
        };
        let Some(path) = ks.path() else { continue };
        let Val::Known(p) = path.value else { continue };
        let Some(target) = paths::join(base, p) else { continue };
        if index.path_exists(&target) {
            continue;
        }
        let within = if base.is_empty() {
            "the repository".to_string()
        } else {
            format!("`{base}/`, which its source's artifact holds")
        };
        ctx.report(
            Loc::value(i.doc, path.node),
            format!(
                "spec.path `{p}` does not exist in {within}: Flux fails the Kustomization \
                 (\"kustomization path not found\") and applies nothing"
            ),
        )
        .object(inst)
        .help("Point spec.path at an existing directory, relative to the repository root.");
    }
}

/// A Kustomization as dependsOn sees it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    /// Cluster context (see `ownership`); `None` for Kustomizations nothing applies.
    context: Option<u32>,
    namespace: String,
    name: String,
}

fn dependencies(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // Generators of Kustomizations this tool cannot expand (Flux Operator ResourceSets), and
    // Kustomizations whose name is a placeholder, could define any name.
    let open_world = index.docs.iter().any(|d| {
        d.header.as_ref().is_some_and(|h| h.kind_name == "ResourceSet")
            || (d.kind() == Kind::FluxKustomization && matches!(d.header.as_ref().and_then(|h| h.name.as_ref()), Some(NameVal::Unknown)))
    });
    // The Flux Operator creates `flux-system` itself from a FluxInstance.
    let flux_instance = index
        .docs
        .iter()
        .any(|d| d.header.as_ref().is_some_and(|h| h.kind_name == "FluxInstance"));
    let roots: HashMap<DocId, u32> = index.ownership.roots.iter().copied().collect();
    let mut nodes: BTreeMap<Key, (InstId, DocId)> = BTreeMap::new();
    // Name → the namespaces it is defined in (`None`: unknown namespace).
    let mut names: HashMap<&str, Vec<Option<&str>>> = HashMap::new();
    for (inst, i, _) in index.instances_of(Kind::FluxKustomization) {
        let Some(name) = index.name(inst) else { continue };
        names.entry(name).or_default().push(index.namespace(inst));
        let context = i.context.or_else(|| roots.get(&i.doc).copied());
        let key = Key {
            context,
            namespace: index.namespace(inst).unwrap_or("").to_string(),
            name: name.to_string(),
        };
        nodes.entry(key).or_insert((inst, i.doc));
    }
    // Edges, and dependencies that name nothing.
    let mut edges: BTreeMap<Key, Vec<(Key, &crate::yaml::Node)>> = BTreeMap::new();
    for (key, &(inst, d)) in &nodes {
        let deployed = index.instance(inst).is_some_and(|i| i.owner.is_some());
        let Some(doc) = index.doc(d) else { continue };
        let own_ns = index.namespace(inst);
        for dep in FluxKustomization(&doc.root).depends_on() {
            let Val::Known(name) = dep.name.value else { continue };
            let ns = match dep.namespace {
                Some(Val::Known(n)) => Some(n),
                Some(Val::Unknown) => continue,
                None => own_ns,
            };
            let defined = names.get(name).is_some_and(|spaces| {
                spaces.iter().any(|n_ns| {
                    ns.is_none() || n_ns.is_none() || *n_ns == ns || n_ns.is_some_and(str::is_empty) || ns.is_some_and(str::is_empty)
                })
            }) || (flux_instance && name == "flux-system");
            if !defined {
                if open_world || !deployed {
                    continue;
                }
                let shown_ns = ns.filter(|n| !n.is_empty()).map(|n| format!(" in namespace `{n}`")).unwrap_or_default();
                ctx.report(
                    Loc::value(d, dep.name.node),
                    format!(
                        "dependsOn `{name}`{shown_ns}: no Flux Kustomization of that name is defined \
                         in the repository, so this one waits for it forever and never applies"
                    ),
                )
                .object(inst)
                .help("Fix the name (and namespace), or remove the dependency.");
                continue;
            }
            let target = Key {
                context: key.context,
                namespace: ns.unwrap_or("").to_string(),
                name: name.to_string(),
            };
            if nodes.contains_key(&target) {
                edges.entry(key.clone()).or_default().push((target, dep.name.node));
            }
        }
    }
    for cycle in cycles(&edges) {
        let Some(first) = cycle.first() else { continue };
        let Some(&(inst, d)) = nodes.get(first) else { continue };
        let Some(next) = cycle.get(1).or(cycle.first()) else { continue };
        let Some((_, node)) = edges.get(first).and_then(|es| es.iter().find(|(t, _)| t == next)) else {
            continue;
        };
        let chain: Vec<&str> = cycle.iter().chain(std::iter::once(first)).map(|k| k.name.as_str()).collect();
        let f = ctx.report(
            Loc::value(d, node),
            format!(
                "dependsOn cycle {}: each Kustomization waits for the next to be ready, so none of \
                 them ever applies",
                chain.join(" → ")
            ),
        );
        f.object(inst).help("Break the cycle: remove the dependsOn that points back.");
        for (k, n) in cycle.iter().zip(cycle.iter().cycle().skip(1)).skip(1) {
            if let (Some(&(_, kd)), Some((_, node))) = (
                nodes.get(k),
                edges.get(k).and_then(|es| es.iter().find(|(t, _)| t == n)),
            ) {
                f.related(Loc::value(kd, node), format!("`{}` depends on `{}`", k.name, n.name));
            }
        }
    }
}

/// Elementary cycles, each once, starting at its smallest key (a depth-first search from every
/// node; dependsOn graphs are small).
fn cycles<T>(edges: &BTreeMap<Key, Vec<(Key, T)>>) -> Vec<Vec<Key>> {
    let mut found: BTreeSet<Vec<Key>> = BTreeSet::new();
    // Hostile graphs can have exponentially many paths; real ones have a handful of edges.
    let mut budget = 100_000usize;
    for start in edges.keys() {
        let mut stack: Vec<(Key, usize)> = vec![(start.clone(), 0)];
        let mut on_path: Vec<Key> = vec![start.clone()];
        while let Some((node, i)) = stack.pop() {
            budget = match budget.checked_sub(1) {
                Some(b) => b,
                None => return found.into_iter().collect(),
            };
            let next = edges.get(&node).and_then(|es| es.get(i)).map(|(t, _)| t.clone());
            match next {
                None => {
                    on_path.pop();
                }
                Some(t) => {
                    stack.push((node, i + 1));
                    if &t == start {
                        found.insert(on_path.clone());
                    } else if t > *start && !on_path.contains(&t) && on_path.len() < 64 {
                        on_path.push(t.clone());
                        stack.push((t, 0));
                    }
                }
            }
        }
    }
    found.into_iter().collect()
}

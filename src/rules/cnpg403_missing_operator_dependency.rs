//! CNPG403: a Flux Kustomization applies CloudNativePG objects without waiting for the
//! operator: no dependsOn at all, or dependencies that never lead to the Kustomization that
//! installs the operator (or, for an ObjectStore, the barman-cloud plugin).

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::flux::FluxKustomization;
use crate::model::object::{BARMAN_GROUP, CNPG_GROUP};
use crate::render::flux::Status;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG403",
    name: "missing-operator-dependency",
    severity: Severity::Warning,
    summary: "A Flux Kustomization applies CloudNativePG objects but has no dependsOn, or none that leads to the operator, and does not install the operator.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

/// Whether a document installs the CloudNativePG operator or the barman-cloud plugin: their
/// CRDs, or a HelmRelease of their charts.
fn installs_operator(doc: &crate::model::Doc) -> bool {
    let Some(h) = &doc.header else { return false };
    let named = |n: Option<&Node>| {
        n.and_then(Node::as_str).is_some_and(|s| {
            let s = s.to_ascii_lowercase();
            s.contains("cloudnative-pg") || s.contains("cloudnativepg") || s.contains("barman-cloud")
        })
    };
    match h.kind_name.as_str() {
        "CustomResourceDefinition" => doc
            .root
            .at(&["spec", "group"])
            .and_then(Node::as_str)
            .is_some_and(|g| g == CNPG_GROUP || g == BARMAN_GROUP),
        "HelmRelease" => {
            named(doc.root.at(&["spec", "chart", "spec", "chart"]))
                || named(doc.root.at(&["spec", "chartRef", "name"]))
                || named(doc.root.at(&["metadata", "name"]))
        }
        // The upstream release manifest ships the operator as this Deployment.
        "Deployment" => named(doc.root.at(&["metadata", "name"]))
            || doc.root.at(&["metadata", "name"]).and_then(Node::as_str) == Some("cnpg-controller-manager"),
        _ => false,
    }
}

/// What an installer installs: the operator (CloudNativePG's CRDs and controller), or the
/// barman-cloud plugin, whose CRD an ObjectStore needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Installs {
    Operator,
    Plugin,
}

fn installs(doc: &crate::model::Doc, what: Installs) -> bool {
    if !installs_operator(doc) {
        return false;
    }
    let Some(h) = &doc.header else { return false };
    let plugin = match h.kind_name.as_str() {
        "CustomResourceDefinition" => {
            doc.root.at(&["spec", "group"]).and_then(Node::as_str) == Some(BARMAN_GROUP)
        }
        _ => [
            &["spec", "chart", "spec", "chart"][..],
            &["spec", "chartRef", "name"][..],
            &["metadata", "name"][..],
        ]
        .iter()
        .any(|p| {
            doc.root
                .at(p)
                .and_then(Node::as_str)
                .is_some_and(|s| s.to_ascii_lowercase().contains("barman-cloud"))
        }),
    };
    plugin == (what == Installs::Plugin)
}

fn is_cnpg_object(doc: &crate::model::Doc) -> bool {
    doc.header
        .as_ref()
        .is_some_and(|h| h.group == CNPG_GROUP || h.group == BARMAN_GROUP)
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // Kustomizations that install the operator, to name in the help.
    let installers: Vec<&str> = index
        .builds
        .iter()
        .filter(|b| b.objects.iter().any(|&d| index.doc(d).is_some_and(installs_operator)))
        .filter_map(|b| index.doc_name(b.ks))
        .collect();
    let graph = Graph::of(index);
    for (bi, b) in index.builds.iter().enumerate() {
        if b.status == Status::Failed {
            continue;
        }
        let Some(ks_doc) = index.doc(b.ks) else { continue };
        let ks = FluxKustomization(&ks_doc.root);
        if ks_doc.root.at(&["spec", "dependsOn"]).is_some_and(|d| !d.is_null()) || ks.depends_on().next().is_some() {
            dependencies_reach_installers(ctx, &graph, bi);
            continue;
        }
        let objects: Vec<&crate::model::Doc> = b.objects.iter().filter_map(|&d| index.doc(d)).collect();
        if objects.iter().any(|d| installs_operator(d)) {
            continue;
        }
        let Some(first) = objects.iter().find(|d| is_cnpg_object(d)) else { continue };
        let count = objects.iter().filter(|d| is_cnpg_object(d)).count();
        let name = index.doc_name(b.ks).unwrap_or("this Kustomization");
        let what = first
            .header
            .as_ref()
            .map(|h| {
                let n = h.name.as_ref().and_then(|n| n.known()).unwrap_or("…");
                format!("{} `{n}`", h.kind_name)
            })
            .unwrap_or_default();
        let others = if count > 1 { format!(" and {} more", count - 1) } else { String::new() };
        let at = ks_doc
            .root
            .at(&["metadata", "name"])
            .map_or(Loc::path(b.ks, &["spec"]), |n| Loc::value(b.ks, n));
        let help = match installers.as_slice() {
            [] => "Add spec.dependsOn on the Kustomization that installs the CloudNativePG operator (and the barman-cloud plugin).".to_string(),
            names => format!(
                "Add spec.dependsOn: [{{name: {}}}], the Kustomization that installs the operator.",
                names[0]
            ),
        };
        ctx.report(
            at,
            format!(
                "Flux Kustomization `{name}` applies {what}{others} but has no dependsOn: on a \
                 fresh cluster or a rebuild, it can run before the operator's CRDs exist, and the \
                 whole apply fails (\"no matches for kind\") until a retry happens to come after \
                 the operator"
            ),
        )
        .help(help);
    }
}

/// A build by its Kustomization's namespace (`None`: unknown).
type Named = (Option<String>, usize);

/// The Flux Kustomizations as a graph: each build's dependsOn targets and the build that
/// applies it, by build index, with what each installs.
struct Graph {
    /// `None`: a dependency that cannot be resolved (a placeholder, a name not defined).
    edges: Vec<Option<Vec<usize>>>,
    installs: Vec<(bool, bool)>,
    /// Waits, through healthChecks, for the operator's or the plugin's CRDs.
    gates: Vec<(bool, bool)>,
    group: Vec<u32>,
}

impl Graph {
    fn of(index: &crate::index::Index) -> Graph {
        use std::collections::HashMap;
        let builds = &index.builds;
        let key = |b: &crate::render::flux::KsBuild| {
            let ns = index.doc_namespace(b.ks).and_then(|n| n.known().map(str::to_string));
            let name = index.doc_name(b.ks).map(str::to_string);
            (b.group, ns, name)
        };
        let mut by_name: HashMap<(u32, String), Vec<Named>> = HashMap::new();
        let mut applied_by: HashMap<crate::model::DocId, usize> = HashMap::new();
        for (i, b) in builds.iter().enumerate() {
            let (g, ns, name) = key(b);
            if let Some(name) = name {
                by_name.entry((g, name)).or_default().push((ns, i));
            }
            for &o in &b.objects {
                applied_by.insert(o, i);
            }
        }
        let mut edges = Vec::with_capacity(builds.len());
        for b in builds {
            let (g, own_ns, _) = key(b);
            let Some(doc) = index.doc(b.ks) else {
                edges.push(None);
                continue;
            };
            let mut out: Option<Vec<usize>> = Some(Vec::new());
            for dep in FluxKustomization(&doc.root).depends_on() {
                let crate::model::Val::Known(name) = dep.name.value else {
                    out = None;
                    break;
                };
                let ns = match dep.namespace {
                    Some(crate::model::Val::Known(n)) => Some(n.to_string()),
                    Some(crate::model::Val::Unknown) => {
                        out = None;
                        break;
                    }
                    None => own_ns.clone(),
                };
                let found: Vec<usize> = by_name
                    .get(&(g, name.to_string()))
                    .map(|v| {
                        v.iter()
                            .filter(|(n, _)| n.is_none() || ns.is_none() || *n == ns)
                            .map(|&(_, i)| i)
                            .collect()
                    })
                    .unwrap_or_default();
                if found.is_empty() {
                    out = None;
                    break;
                }
                if let Some(o) = out.as_mut() {
                    o.extend(found);
                }
            }
            // The Kustomization that applies this one waited for its own dependencies first.
            if let (Some(o), Some(&parent)) = (out.as_mut(), applied_by.get(&b.ks)) {
                o.push(parent);
            }
            edges.push(out);
        }
        let installs = builds
            .iter()
            .map(|b| {
                let docs = || b.objects.iter().filter_map(|&d| index.doc(d));
                (
                    docs().any(|d| installs(d, Installs::Operator)),
                    docs().any(|d| installs(d, Installs::Plugin)),
                )
            })
            .collect();
        // A Kustomization whose healthChecks wait for the CRDs is the repository's own gate:
        // reaching it is enough. Whether the gate works (`wait: true` ignores healthChecks) is
        // CNPG407's finding, not a second one here.
        let gates = builds
            .iter()
            .map(|b| {
                let checks = index
                    .doc(b.ks)
                    .and_then(|d| d.root.at(&["spec", "healthChecks"]))
                    .and_then(Node::as_seq)
                    .unwrap_or(&[]);
                let gates = |group: &str| {
                    checks.iter().any(|c| {
                        c.get("kind").and_then(Node::as_str) == Some("CustomResourceDefinition")
                            && c.get("name")
                                .and_then(Node::as_str)
                                .is_some_and(|n| n.ends_with(&format!(".{group}")))
                    })
                };
                (gates(CNPG_GROUP), gates(BARMAN_GROUP))
            })
            .collect();
        let group = builds.iter().map(|b| b.group).collect();
        Graph {
            edges,
            installs,
            gates,
            group,
        }
    }

    /// Whether build `i` installs `what` or gates on its CRDs.
    fn satisfies(&self, i: usize, what: Installs) -> bool {
        self.has(i, what)
            || self
                .gates
                .get(i)
                .is_some_and(|&(op, pl)| if what == Installs::Operator { op } else { pl })
    }

    fn has(&self, i: usize, what: Installs) -> bool {
        self.installs
            .get(i)
            .is_some_and(|&(op, pl)| if what == Installs::Operator { op } else { pl })
    }

    /// The builds reachable from `from` (itself included); `None` when an edge on the way
    /// cannot be resolved.
    fn closure(&self, from: usize) -> Option<Vec<usize>> {
        let mut seen = vec![false; self.edges.len()];
        let mut stack = vec![from];
        let mut out = Vec::new();
        while let Some(i) = stack.pop() {
            if std::mem::replace(seen.get_mut(i)?, true) {
                continue;
            }
            out.push(i);
            stack.extend(self.edges.get(i)?.as_ref()?.iter().copied());
        }
        Some(out)
    }
}

/// A Kustomization with dependsOn whose dependencies, followed transitively (and through the
/// Kustomizations that apply it), never reach the one that installs what its objects need,
/// when that installer is in the repository.
fn dependencies_reach_installers(ctx: &mut Ctx<'_>, graph: &Graph, bi: usize) {
    let index = ctx.index;
    let Some(b) = index.builds.get(bi) else { return };
    let objects: Vec<&crate::model::Doc> = b.objects.iter().filter_map(|&d| index.doc(d)).collect();
    let applies = |group: &str| {
        objects
            .iter()
            .any(|d| d.header.as_ref().is_some_and(|h| h.group == group))
    };
    let needs = [
        (Installs::Operator, applies(CNPG_GROUP)),
        (Installs::Plugin, applies(BARMAN_GROUP)),
    ];
    let Some(reached) = graph.closure(bi) else { return };
    for (what, needed) in needs {
        if !needed || reached.iter().any(|&i| graph.satisfies(i, what)) {
            continue;
        }
        // Name the one that ships the CRDs first, then a gate on them, then any installer
        // (a plugin's Deployment may come from another Kustomization than its CRD).
        let group = if what == Installs::Operator { CNPG_GROUP } else { BARMAN_GROUP };
        let ships_crd = |x: &crate::render::flux::KsBuild| {
            x.objects.iter().filter_map(|&d| index.doc(d)).any(|d| {
                d.header.as_ref().is_some_and(|h| h.kind_name == "CustomResourceDefinition")
                    && d.root.at(&["spec", "group"]).and_then(Node::as_str) == Some(group)
            })
        };
        let mut installers: Vec<(u8, &str)> = (0..index.builds.len())
            .filter(|&i| graph.group.get(i) == Some(&b.group) && graph.satisfies(i, what))
            .filter_map(|i| {
                let x = index.builds.get(i)?;
                let rank = if ships_crd(x) {
                    0
                } else if graph.has(i, what) {
                    2
                } else {
                    1
                };
                Some((rank, index.doc_name(x.ks)?))
            })
            .collect();
        installers.sort_by_key(|&(rank, _)| rank);
        let Some(&(rank, installer)) = installers.first() else { continue };
        let provides = if rank == 1 { "waits for the CRDs of" } else { "installs" };
        let Some(ks_doc) = index.doc(b.ks) else { continue };
        let Some(deps) = ks_doc.root.at(&["spec", "dependsOn"]) else { continue };
        let names: Vec<&str> = FluxKustomization(&ks_doc.root)
            .depends_on()
            .filter_map(|d| d.name.value.known())
            .collect();
        let (what_text, kind) = match what {
            Installs::Operator => ("the CloudNativePG operator", "CloudNativePG objects"),
            Installs::Plugin => ("the barman-cloud plugin", "an ObjectStore"),
        };
        let name = index.doc_name(b.ks).unwrap_or("this Kustomization");
        ctx.report(
            Loc::value(b.ks, deps),
            format!(
                "Flux Kustomization `{name}` applies {kind}, but its dependsOn ({}), followed \
                 transitively, never reaches `{installer}`, which {provides} {what_text}: on a \
                 fresh cluster or a rebuild it can run before the CRDs exist, and the whole \
                 apply fails (\"no matches for kind\") until a retry happens to come after it",
                crate::rules::support::code_list(&names),
            ),
        )
        .help(format!(
            "Add `{installer}` to spec.dependsOn (or make one of the dependencies depend on it)."
        ));
    }
}

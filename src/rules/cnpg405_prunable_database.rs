//! CNPG405: a Cluster that Flux deletes when its manifest disappears.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::Kind;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG405",
    name: "prunable-database",
    severity: Severity::Warning,
    summary: "A Cluster is applied with prune: true and is not protected from pruning.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

/// Label or annotation values that keep Flux from deleting an object (kustomize-controller).
const PROTECTIONS: [(&str, &str); 3] = [
    ("kustomize.toolkit.fluxcd.io/prune", "disabled"),
    ("kustomize.toolkit.fluxcd.io/reconcile", "disabled"),
    ("kustomize.toolkit.fluxcd.io/ssa", "ignore"),
];

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let policies = DeletionPolicies::of(index);
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let Some(owner) = i.owner.and_then(|o| index.doc(o)) else {
            continue;
        };
        // A replica cluster holds no data of its own: deleted, it bootstraps again from its
        // primary or the archive it follows.
        if crate::model::cnpg::Cluster(&doc.root).is_replica() == Some(true) {
            continue;
        }
        let prune = owner
            .root
            .at(&["spec", "prune"])
            .and_then(|p| p.as_scalar()?.as_bool())
            .unwrap_or(false);
        if !prune {
            continue;
        }
        let protected = PROTECTIONS
            .iter()
            .any(|(key, value)| crate::model::marked(&doc.root, key, value));
        if protected || policies.protects(index.namespace(inst)) {
            continue;
        }
        // With a StorageClass that retains its volumes, the data outlives the Cluster.
        let retained = retaining_class(index, &doc.root);
        let name = super::support::cluster_label(index, inst);
        let ks = i.owner.and_then(|o| index.doc_name(o))
            .unwrap_or("its Kustomization");
        let mut f = ctx.report(
            Loc::path(i.doc, &["metadata", "name"]),
            match &retained {
                None => format!(
                    "{name} is applied by `{ks}` with prune: true: deleting or moving its \
                     manifest, or a bad refactor of the Kustomization, makes Flux delete the \
                     Cluster and, with it, its volumes"
                ),
                Some(class) => format!(
                    "{name} is applied by `{ks}` with prune: true: deleting or moving its \
                     manifest, or a bad refactor of the Kustomization, makes Flux delete the \
                     Cluster; StorageClass `{class}` retains its volumes, but the database is down \
                     until someone rebuilds the Cluster on them by hand"
                ),
            },
        );
        f = f.object(inst);
        f.help("Add the annotation kustomize.toolkit.fluxcd.io/prune: disabled to the Cluster, so removing it from Git leaves the database running.");
        if let Some(p) = owner.root.at(&["spec", "prune"]) {
            if let Some(o) = i.owner {
                f.related(Loc::value(o, p), "prune: true here");
            }
        }
    }
}

/// Admission policies in the repository that deny deleting a CNPG Cluster: a Kyverno
/// ClusterPolicy (every namespace) or Policy (its own) in Enforce mode whose validate rule
/// matches Cluster and denies DELETE, or a ValidatingAdmissionPolicy on postgresql.cnpg.io
/// clusters for DELETE with a binding whose validationActions include Deny.
#[derive(Default)]
struct DeletionPolicies {
    everywhere: bool,
    namespaces: Vec<String>,
}

impl DeletionPolicies {
    fn of(index: &crate::index::Index) -> DeletionPolicies {
        let mut out = DeletionPolicies::default();
        let mut vaps: Vec<&str> = Vec::new();
        let mut bound: Vec<&str> = Vec::new();
        for i in &index.instances {
            let Some(doc) = index.doc(i.doc) else { continue };
            let Some(h) = doc.header.as_ref() else { continue };
            match (h.group.as_str(), h.kind_name.as_str()) {
                ("kyverno.io", kind @ ("ClusterPolicy" | "Policy")) if kyverno_denies(&doc.root) => {
                    if kind == "ClusterPolicy" {
                        out.everywhere = true;
                    } else if let Some(ns) = i.namespace.as_ref().and_then(|n| n.known()) {
                        out.namespaces.push(ns.to_string());
                    }
                }
                ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") if vap_matches(&doc.root) => {
                    vaps.extend(index.doc_name(i.doc));
                }
                ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding") => {
                    let denies = doc
                        .root
                        .at(&["spec", "validationActions"])
                        .and_then(Node::as_seq)
                        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("Deny")));
                    if denies {
                        bound.extend(doc.root.at(&["spec", "policyName"]).and_then(Node::as_str));
                    }
                }
                _ => {}
            }
        }
        if vaps.iter().any(|v| bound.contains(v)) {
            out.everywhere = true;
        }
        out
    }

    fn protects(&self, namespace: Option<&str>) -> bool {
        self.everywhere || namespace.is_some_and(|ns| self.namespaces.iter().any(|n| n == ns))
    }
}

fn strings(node: Option<&Node>) -> Vec<&str> {
    node.and_then(Node::as_seq)
        .map(|s| s.iter().filter_map(Node::as_str).collect())
        .unwrap_or_default()
}

/// Whether any scalar below `node` is `text`.
fn mentions(node: &Node, text: &str) -> bool {
    if node.as_str() == Some(text) {
        return true;
    }
    if let Some(seq) = node.as_seq() {
        return seq.iter().any(|n| mentions(n, text));
    }
    node.as_map()
        .is_some_and(|m| m.iter().any(|e| mentions(&e.value, text)))
}

fn kyverno_denies(root: &Node) -> bool {
    let enforce = |n: Option<&Node>| n.and_then(Node::as_str).is_some_and(|v| v.eq_ignore_ascii_case("enforce"));
    let spec_enforce = enforce(root.at(&["spec", "validationFailureAction"]));
    let Some(rules) = root.at(&["spec", "rules"]).and_then(Node::as_seq) else {
        return false;
    };
    rules.iter().any(|rule| {
        let Some(deny) = rule.at(&["validate", "deny"]) else { return false };
        if !(spec_enforce || enforce(rule.at(&["validate", "failureAction"]))) {
            return false;
        }
        let Some(m) = rule.get("match") else { return false };
        let filters: Vec<&Node> = ["any", "all"]
            .iter()
            .filter_map(|k| m.get(k).and_then(Node::as_seq))
            .flatten()
            .chain(m.get("resources"))
            .collect();
        let cluster = filters.iter().any(|f| {
            let r = f.get("resources").unwrap_or(f);
            strings(r.get("kinds")).iter().any(|k| {
                *k == "Cluster" || k.ends_with("/Cluster") && k.starts_with("postgresql.cnpg.io")
            })
        });
        let delete = filters.iter().any(|f| {
            let r = f.get("resources").unwrap_or(f);
            strings(r.get("operations")).contains(&"DELETE")
        }) || mentions(deny, "DELETE");
        cluster && delete
    })
}

fn vap_matches(root: &Node) -> bool {
    let Some(rules) = root.at(&["spec", "matchConstraints", "resourceRules"]).and_then(Node::as_seq) else {
        return false;
    };
    rules.iter().any(|r| {
        let has = |k: &str, v: &str| {
            let l = strings(r.get(k));
            l.contains(&v) || l.contains(&"*")
        };
        has("apiGroups", "postgresql.cnpg.io") && has("resources", "clusters") && has("operations", "DELETE")
    })
}

/// The StorageClass the Cluster's data volume uses, when the repository defines it with
/// `reclaimPolicy: Retain`.
fn retaining_class(index: &crate::index::Index, root: &Node) -> Option<String> {
    let class = root
        .at(&["spec", "storage", "storageClass"])
        .or_else(|| root.at(&["spec", "storage", "pvcTemplate", "storageClassName"]))
        .and_then(Node::as_str)?;
    index.instances.iter().find_map(|i| {
        let doc = index.doc(i.doc)?;
        let h = doc.header.as_ref()?;
        (h.group == "storage.k8s.io"
            && h.kind_name == "StorageClass"
            && index.doc_name(i.doc) == Some(class)
            && doc.root.get("reclaimPolicy").and_then(Node::as_str) == Some("Retain"))
        .then(|| class.to_string())
    })
}

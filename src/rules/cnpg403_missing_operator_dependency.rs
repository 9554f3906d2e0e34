//! CNPG403: a Flux Kustomization applies CloudNativePG objects without waiting for the
//! operator.

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
    summary: "A Flux Kustomization applies CloudNativePG objects but has no dependsOn and does not install the operator.",
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
    for b in &index.builds {
        if b.status == Status::Failed {
            continue;
        }
        let Some(ks_doc) = index.doc(b.ks) else { continue };
        let ks = FluxKustomization(&ks_doc.root);
        if ks_doc.root.at(&["spec", "dependsOn"]).is_some_and(|d| !d.is_null()) || ks.depends_on().next().is_some() {
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

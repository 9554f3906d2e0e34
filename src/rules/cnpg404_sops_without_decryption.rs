//! CNPG404: SOPS-encrypted manifests under a Flux Kustomization that cannot decrypt them.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::flux::FluxKustomization;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG404",
    name: "sops-without-decryption",
    severity: Severity::Error,
    summary: "A Flux Kustomization applies SOPS-encrypted manifests but has no spec.decryption.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

const DECRYPT: &str = "kustomize.toolkit.fluxcd.io/decrypt";

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (&ks, applied) in &index.ownership.applies {
        let Some(ks_doc) = index.doc(ks) else { continue };
        if ks_doc.root.at(&["spec", "decryption"]).is_some_and(|d| !d.is_null()) {
            continue;
        }
        let encrypted: Vec<u32> = applied
            .iter()
            .map(|(d, _)| *d)
            .filter(|&d| {
                index.doc(d).is_some_and(|doc| {
                    let sops = doc.root.get("sops").is_some_and(|s| s.as_map().is_some());
                    let opted_out = doc
                        .root
                        .at(&["metadata", "annotations", DECRYPT])
                        .and_then(Node::as_str)
                        .is_some_and(|v| v.eq_ignore_ascii_case("disabled"));
                    sops && !opted_out
                })
            })
            .collect();
        let Some(&first) = encrypted.first() else { continue };
        let name = index.doc_name(ks)
            .unwrap_or("this Kustomization");
        let at = match FluxKustomization(&ks_doc.root).path() {
            Some(p) => Loc::value(ks, p.node),
            None => Loc::path(ks, &["metadata", "name"]),
        };
        let f = ctx.report(
            at,
            format!(
                "Flux Kustomization `{name}` applies {} SOPS-encrypted manifest{} but has no \
                 spec.decryption: the build fails (\"SOPS encrypted, configuring decryption is \
                 required\") and nothing in it is applied",
                encrypted.len(),
                if encrypted.len() == 1 { "" } else { "s" }
            ),
        );
        f.help("Add spec.decryption with provider: sops and the secretRef holding the age or GPG key (or inject it from the parent Kustomization's patches).");
        if let Some(doc) = index.doc(first) {
            if let Some(e) = doc.root.entry("sops") {
                f.related(Loc::key(first, &e.key), "encrypted manifest");
            }
        }
    }
}

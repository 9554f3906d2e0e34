//! CNPG402: the same object applied by two Flux Kustomizations.

use std::collections::{BTreeSet, HashMap};

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::index::{DocId, InstId};
use crate::model::flux::FluxKustomization;
use crate::model::NameVal;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG402",
    name: "object-applied-twice",
    severity: Severity::Error,
    summary: "The same object is applied by two Flux Kustomizations and flaps between them.",
};

/// (API group, kind, namespace, name).
type Identity<'a> = (&'a str, &'a str, &'a str, &'a str);
/// (applying Kustomization, object document, instance).
type Application = (DocId, DocId, InstId);

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // (context, identity) → applying Kustomizations and object documents. Hashed, since every
    // applied object passes through here; only the groups reported are put in order.
    let mut groups: HashMap<(u32, Identity<'_>), Vec<Application>> =
        HashMap::with_capacity(index.instances.len());
    for (id, inst) in index.instances.iter().enumerate() {
        let Some(owner) = inst.owner else { continue };
        let Some(h) = index.doc(inst.doc).and_then(|d| d.header.as_ref()) else {
            continue;
        };
        let Some(NameVal::Known(name)) = &h.name else {
            continue;
        };
        let ns = match &inst.namespace {
            Some(NameVal::Known(n)) => n.as_str(),
            Some(NameVal::Unknown) => continue,
            None => "",
        };
        let identity = (h.group.as_str(), h.kind_name.as_str(), ns, name.as_str());
        for &c in &inst.contexts {
            groups
                .entry((c, identity))
                .or_default()
                .push((owner, inst.doc, id as InstId));
        }
    }
    let mut groups: Vec<((u32, Identity<'_>), Vec<Application>)> = groups
        .into_iter()
        .filter(|(_, entries)| entries.first().is_some_and(|f| entries.iter().any(|e| e.0 != f.0)))
        .collect();
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut reported: BTreeSet<(DocId, Vec<DocId>)> = BTreeSet::new();
    for ((_, (_, kind, ns, name)), entries) in groups {
        let owners: BTreeSet<DocId> = entries.iter().map(|e| e.0).collect();
        if owners.len() < 2 {
            continue;
        }
        let owners: Vec<DocId> = owners.into_iter().collect();
        let owner_names: Vec<String> = owners.iter().map(|&k| ks_name(ctx, k)).collect();
        let docs: BTreeSet<(DocId, InstId)> = entries.iter().map(|e| (e.1, e.2)).collect();
        let mut seen_docs = BTreeSet::new();
        for (doc, inst) in docs {
            if !seen_docs.insert(doc) || !reported.insert((doc, owners.clone())) {
                continue;
            }
            let shown = if ns.is_empty() {
                name.to_string()
            } else {
                format!("{ns}/{name}")
            };
            let f = ctx.report(
                Loc::path(doc, &["metadata", "name"]),
                format!(
                    "{kind} `{shown}` is applied by {} Flux Kustomizations ({}); each reconcile \
                     overwrites the other's version, and pruning depends on which applied last",
                    owners.len(),
                    owner_names.join(", ")
                ),
            );
            f.object(inst).help(
                "Apply each object from exactly one Flux Kustomization: remove it from one \
                 path, or make the paths not overlap.",
            );
            for &k in &owners {
                let at = index
                    .doc(k)
                    .and_then(|d| FluxKustomization(&d.root).path())
                    .map(|p| Loc::value(k, p.node))
                    .unwrap_or_else(|| Loc::path(k, &["metadata", "name"]));
                f.related(at, format!("applied by `{}`", ks_name_of(index, k)));
            }
        }
    }
}

fn ks_name(ctx: &Ctx<'_>, ks: DocId) -> String {
    ks_name_of(ctx.index, ks)
}

fn ks_name_of(index: &crate::index::Index, ks: DocId) -> String {
    let Some(h) = index.doc(ks).and_then(|d| d.header.as_ref()) else {
        return "?".into();
    };
    let name = h.name.as_ref().and_then(NameVal::known).unwrap_or("?");
    match h.namespace.as_ref().and_then(NameVal::known) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

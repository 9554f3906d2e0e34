//! CNPG402: the same object applied by two Flux Kustomizations.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::index::{DocId, Index, InstId};
use crate::model::flux::FluxKustomization;
use crate::model::NameVal;
use crate::source::Span;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG402",
    name: "object-applied-twice",
    severity: Severity::Error,
    summary: "The same object is applied by two Flux Kustomizations and flaps between them.",
    on_by_default: true,
};

/// (API group, kind, namespace, name).
type Identity<'a> = (&'a str, &'a str, &'a str, &'a str);
/// (applying Kustomization, object document, instance).
type Application = (DocId, DocId, InstId);

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // Every applied object passes through here, so it is keyed compactly: (hash of context
    // and identity, context, instance), sorted, so that the applications of one object sit
    // side by side. Only runs of two or more are grouped exactly (a run may hold a collision).
    let hasher = std::hash::RandomState::new();
    let mut keyed: Vec<(u64, u32, InstId)> = Vec::with_capacity(index.instances.len());
    for (id, inst) in index.instances.iter().enumerate() {
        let Some((_, identity)) = applied(index, id as InstId) else {
            continue;
        };
        if let Some(c) = inst.context {
            keyed.push((hasher.hash_one((c, identity)), c, id as InstId));
        }
    }
    keyed.sort_unstable();
    let mut groups: Vec<((u32, Identity<'_>), Vec<Application>)> = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
        let mut exact: BTreeMap<(u32, Identity<'_>), Vec<Application>> = BTreeMap::new();
        for &(_, c, id) in run {
            if let Some((app, identity)) = applied(index, id) {
                exact.entry((c, identity)).or_default().push(app);
            }
        }
        groups.extend(exact.into_iter().filter(|(_, entries)| {
            entries.first().is_some_and(|f| entries.iter().any(|e| e.0 != f.0))
        }));
    }
    groups.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for ((_, (_, kind, ns, name)), entries) in groups {
        let owners: BTreeSet<DocId> = entries.iter().map(|e| e.0).collect();
        if owners.len() < 2 {
            continue;
        }
        let owners: Vec<DocId> = owners.into_iter().collect();
        let owner_names: Vec<String> = owners.iter().map(|&k| ks_name(ctx, k)).collect();
        let docs: BTreeSet<(DocId, InstId)> = entries.iter().map(|e| (e.1, e.2)).collect();
        // Every build renders its own copy of a shared object, and each copy points at the
        // same written name: report each written name once, or a path that N Kustomizations
        // share costs N findings of N related locations each.
        let mut reported: BTreeSet<Written> = BTreeSet::new();
        for (doc, inst) in docs {
            let written = index
                .doc(doc)
                .and_then(|d| d.root.at(&["metadata", "name"]))
                .map_or(Written::Doc(doc), |n| Written::At(n.span));
            if !reported.insert(written) {
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

/// Where an object's name is written, or the document when it has none to point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Written {
    At(Span),
    Doc(DocId),
}

/// An instance that a Flux Kustomization applies, with a known name and namespace: the
/// application and the object's identity.
fn applied(index: &Index, id: InstId) -> Option<(Application, Identity<'_>)> {
    let inst = index.instance(id)?;
    let owner = inst.owner?;
    // A build that something unseen may have renamed proves no identity.
    if index.uncertain_identity(owner) {
        return None;
    }
    let h = index.doc(inst.doc)?.header.as_ref()?;
    let Some(NameVal::Known(name)) = &h.name else {
        return None;
    };
    let ns = match &inst.namespace {
        Some(NameVal::Known(n)) => n.as_str(),
        Some(NameVal::Unknown) => return None,
        None => "",
    };
    Some((
        (owner, inst.doc, id),
        (h.group.as_str(), h.kind_name.as_str(), ns, name.as_str()),
    ))
}

fn ks_name(ctx: &Ctx<'_>, ks: DocId) -> String {
    ks_name_of(ctx.index, ks)
}

fn ks_name_of(index: &Index, ks: DocId) -> String {
    let Some(h) = index.doc(ks).and_then(|d| d.header.as_ref()) else {
        return "?".into();
    };
    let name = h.name.as_ref().and_then(NameVal::known).unwrap_or("?");
    match h.namespace.as_ref().and_then(NameVal::known) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}

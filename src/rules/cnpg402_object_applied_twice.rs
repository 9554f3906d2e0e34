//! CNPG402: the same object applied by two Flux Kustomizations.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::BuildHasher;

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::index::{Index, InstId};
use crate::model::DocId;
use crate::model::flux::FluxKustomization;
use crate::model::NameVal;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG402",
    name: "object-applied-twice",
    severity: Severity::Error,
    summary: "The same object is applied by two Flux Kustomizations and flaps between them.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
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
    // One cause, one finding: the objects that the same set of Kustomizations applies share a
    // cause (one spec.path that reaches into another's directory, one file listed twice), so
    // they are reported together.
    let mut by_owners: BTreeMap<Vec<DocId>, Vec<Shared>> = BTreeMap::new();
    for ((_, (_, kind, ns, name)), entries) in groups {
        let owners: BTreeSet<DocId> = entries.iter().map(|e| e.0).collect();
        if owners.len() < 2 {
            continue;
        }
        // Flux creates an object marked `ssa: IfNotPresent` once and never overwrites it, and
        // leaves one marked `ssa: Ignore` alone: applying it twice changes nothing.
        let skipped = entries.iter().any(|e| {
            index.doc(e.1).is_some_and(|d| {
                ["IfNotPresent", "Ignore"]
                    .iter()
                    .any(|v| crate::model::marked(&d.root, "kustomize.toolkit.fluxcd.io/ssa", v))
            })
        });
        if skipped {
            continue;
        }
        let docs: BTreeSet<(DocId, InstId)> = entries.iter().map(|e| (e.1, e.2)).collect();
        // Every build renders its own copy of a shared object, each pointing at the same
        // written name: the object is one, however many copies.
        let mut written: BTreeMap<Written, (DocId, InstId)> = BTreeMap::new();
        for (doc, inst) in docs {
            let w = index
                .doc(doc)
                .and_then(|d| d.root.at(&["metadata", "name"]))
                .map_or(Written::Doc(doc), |n| Written::At(n.span.file, n.span.start));
            written.entry(w).or_insert((doc, inst));
        }
        let shown = if ns.is_empty() {
            format!("{kind} `{name}`")
        } else {
            format!("{kind} `{ns}/{name}`")
        };
        let unprunable = entries.iter().all(|e| {
            index.doc(e.1).is_some_and(|d| {
                crate::model::marked(&d.root, "kustomize.toolkit.fluxcd.io/prune", "disabled")
            })
        });
        // One written object that nothing prunes: every apply writes the same content, and
        // only Flux's ownership labels change hands, which harms nothing.
        let files: BTreeSet<_> = written
            .values()
            .filter_map(|&(d, _)| index.doc(d).map(|doc| doc.file))
            .collect();
        if unprunable && files.len() == 1 {
            continue;
        }
        by_owners.entry(owners.into_iter().collect()).or_default().push(Shared {
            shown,
            copies: written.into_values().collect(),
            unprunable,
        });
    }
    // Groups with the same cause (one outer spec.path reaching into several Kustomizations'
    // directories) become one finding there.
    let mut by_outer: BTreeMap<DocId, Cause> = BTreeMap::new();
    for (owners, objects) in by_owners {
        match outer_of(index, &owners, &objects) {
            Some((outer, inner)) => {
                let e = by_outer.entry(outer).or_default();
                e.0.extend(owners);
                e.1.extend(objects);
                e.2.insert(inner);
            }
            None => report(ctx, &owners, &objects, None),
        }
    }
    for (outer, (owners, objects, inners)) in by_outer {
        let owners: Vec<DocId> = owners.into_iter().collect();
        let inners: Vec<DocId> = inners.into_iter().collect();
        report(ctx, &owners, &objects, Some((outer, &inners)));
    }
}

/// What one outer spec.path causes: the Kustomizations involved, the objects, and the inner
/// Kustomizations it reaches into.
type Cause = (BTreeSet<DocId>, Vec<Shared>, BTreeSet<DocId>);

/// Two versions of an object: copies written in different files (copies in one file are
/// renderings of one written object).
fn has_versions(index: &Index, objects: &[Shared]) -> bool {
    objects.iter().any(|o| {
        let files: BTreeSet<_> = o
            .copies
            .iter()
            .filter_map(|&(d, _)| index.doc(d).map(|doc| doc.file))
            .collect();
        files.len() > 1
    })
}

/// When one Kustomization's spec.path contains another's and every shared object is one
/// written file inside the inner one's directory, the outer one reaches into the other's
/// directory: (outer, inner). Two files defining one object are the cause themselves,
/// wherever the paths lie.
fn outer_of(index: &Index, owners: &[DocId], objects: &[Shared]) -> Option<(DocId, DocId)> {
    if has_versions(index, objects) {
        return None;
    }
    let file_of = |d: DocId| {
        index
            .doc(d)
            .and_then(|doc| index.sources.get(doc.file))
            .map(|f| f.repo_path.as_str())
    };
    let paths: Vec<(DocId, Option<String>)> = owners.iter().map(|&k| (k, ks_dir(index, k))).collect();
    for (k, dir) in &paths {
        let Some(d) = dir.as_deref() else { continue };
        for (o, od) in &paths {
            let Some(od) = od.as_deref() else { continue };
            if o == k || od == d || !crate::source::paths::is_within(od, d) {
                continue;
            }
            let inside = objects.iter().all(|obj| {
                obj.copies.iter().all(|&(doc, _)| {
                    file_of(doc).is_some_and(|f| crate::source::paths::is_within(f, od))
                })
            });
            if inside {
                return Some((*k, *o));
            }
        }
    }
    None
}

/// An object two or more Kustomizations apply: its name for messages, and its written copies
/// (one when both apply the same file; more when each has its own version).
struct Shared {
    shown: String,
    copies: Vec<(DocId, InstId)>,
    unprunable: bool,
}

fn report(
    ctx: &mut Ctx<'_>,
    owners: &[DocId],
    objects: &[Shared],
    cause: Option<(DocId, &[DocId])>,
) {
    let index = ctx.index;
    let owner_names: Vec<String> = owners.iter().map(|&k| ks_name_of(index, k)).collect();
    let Some(first) = objects.first() else { return };
    let Some(&(doc, inst)) = first.copies.first() else { return };
    let versions = has_versions(index, objects);
    let consequence = if versions {
        "each reconcile overwrites the other's version"
    } else if objects.iter().all(|o| o.unprunable) {
        "the Flux ownership labels flip on every reconcile"
    } else {
        "the Flux ownership labels flip on every reconcile, and when one of them stops applying \
         it, its prune can delete what the other still applies"
    };
    let what = if objects.len() == 1 {
        first.shown.clone()
    } else {
        let names: Vec<&str> = objects.iter().take(5).map(|o| o.shown.as_str()).collect();
        let more = objects.len().saturating_sub(names.len());
        format!(
            "{} objects ({}{})",
            objects.len(),
            names.join(", "),
            if more > 0 { format!(" and {more} more") } else { String::new() }
        )
    };
    let verb = if objects.len() == 1 { "is" } else { "are" };
    let outer = cause.and_then(|(k, inners)| {
        let d = index.doc(k)?;
        Some((k, inners, FluxKustomization(&d.root).path()?.node))
    });
    let (at, message) = match outer {
        Some((k, inners, node)) => (
            Loc::value(k, node),
            format!(
                "spec.path of `{}` also takes in what {} {}{}: {what} {verb} applied twice; \
                 {consequence}",
                ks_name_of(index, k),
                code_names(inners.iter().map(|&o| ks_name_of(index, o))),
                if inners.len() == 1 { "applies" } else { "apply" },
                if inners.iter().all(|&i| generated_between(index, k, i)) {
                    " (no kustomization.yaml on the way down, so kustomize-controller generates \
                     one that takes in every directory below its path)"
                } else {
                    ""
                }
            ),
        ),
        None => (
            Loc::path(doc, &["metadata", "name"]),
            format!(
                "{what} {verb} applied by {} Flux Kustomizations ({}); {consequence}",
                owners.len(),
                owner_names.join(", ")
            ),
        ),
    };
    let f = ctx.report(at, message);
    f.object(inst).help(
        "Apply each object from exactly one Flux Kustomization: remove it from one path, or make \
         the paths not overlap.",
    );
    for o in objects {
        for &(d, _) in &o.copies {
            f.related(Loc::path(d, &["metadata", "name"]), format!("{} is written here", o.shown));
        }
    }
    for &k in owners {
        let at = index
            .doc(k)
            .and_then(|d| FluxKustomization(&d.root).path())
            .map(|p| Loc::value(k, p.node))
            .unwrap_or_else(|| Loc::path(k, &["metadata", "name"]));
        f.related(at, format!("applied by `{}`", ks_name_of(index, k)));
    }
}

fn code_names(names: impl Iterator<Item = String>) -> String {
    names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// A Kustomization's spec.path as a repository directory, when known.
/// Resolved against its source's root, as CNPG406 does (`None` for another repository's source).
fn ks_dir(index: &Index, ks: DocId) -> Option<String> {
    let d = index.doc(ks)?;
    let view = FluxKustomization(&d.root);
    let base = index.ownership.source_root(&view)?;
    crate::source::paths::join(base, view.path()?.value.known()?)
}

/// Whether no directory from the outer Kustomization's path down to (not including) the inner
/// one's holds a kustomization file: Flux then generates one at the outer path that takes in
/// everything below it. Said only when the directories are known to exist here (a source rooted
/// elsewhere would make the check meaningless).
fn generated_between(index: &Index, outer: DocId, inner: DocId) -> bool {
    let (Some(top), Some(mut dir)) = (ks_dir(index, outer), ks_dir(index, inner)) else {
        return false;
    };
    if !(top.is_empty() || index.path_exists(&top)) {
        return false;
    }
    let has_kustomization = |d: &str| {
        ["kustomization.yaml", "kustomization.yml", "Kustomization"].iter().any(|f| {
            index.path_exists(&if d.is_empty() { f.to_string() } else { format!("{d}/{f}") })
        })
    };
    while dir != top {
        if dir.is_empty() {
            return false;
        }
        dir = crate::source::paths::parent(&dir).to_string();
        if has_kustomization(&dir) {
            return false;
        }
    }
    true
}

/// Where an object's name is written, or the document when it has none to point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Written {
    /// The file and offset where the name starts (a rendered copy may end elsewhere).
    At(crate::source::FileId, u32),
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

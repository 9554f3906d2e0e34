//! The render stage as the pipeline calls it: compute Flux ownership from the written
//! repository, render every Flux Kustomization from the roots down, then build on their own the
//! kustomize directories that nothing builds, where they may be deployed.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::flux::{self, KsBuild};
use super::handover::Handover;
use super::ownership::{self, Ownership, Tree};
use super::{Env, Problem, Substitution};
use crate::model::repo::Repository;
use crate::model::{Doc, DocId, Kind, Val};
use crate::source::{paths, FileId, SourceMap, Span};
use crate::yaml::Node;

/// Where the Flux model says what is deployed. With at least one Flux Kustomization that
/// renders, an object that no deployed Kustomization applies is not deployed (an archived copy,
/// a directory commented out of a `kustomization.yaml`, a template). Without one, or when
/// something this tool cannot expand generates Kustomizations (a Flux Operator `ResourceSet`),
/// every object counts, as in a plain kustomize repository; below a `spec.path` that holds a
/// placeholder, objects count too, since that Kustomization may apply them.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    /// Some Flux Kustomization rendered objects.
    pub flux: bool,
    /// Kustomizations come from somewhere this tool cannot follow.
    pub open: bool,
    /// Directories below which an unresolved `spec.path` may point.
    pub maybe: Vec<String>,
}

impl Scope {
    fn of(written: &[Doc], builds: &[KsBuild], base: DocId, rendered: &[Doc]) -> Scope {
        let flux = builds.iter().any(|b| !b.objects.is_empty());
        let open = written.iter().any(|d| {
            d.header
                .as_ref()
                .is_some_and(|h| h.kind_name == "ResourceSet" && h.group.starts_with("fluxcd"))
        });
        let mut maybe = Vec::new();
        for b in builds {
            let root = match b.ks.checked_sub(base) {
                None => written.get(b.ks as usize).map(|d| &d.root),
                Some(i) => rendered.get(i as usize).map(|d| &d.root),
            };
            let Some(root) = root else { continue };
            let Some(path) = crate::model::flux::FluxKustomization(root).path() else {
                continue;
            };
            let Val::Unknown = path.value else { continue };
            let written = path.node.as_str().unwrap_or("");
            let before = written.split("${").next().unwrap_or("");
            let dir = before.rsplit_once('/').map_or("", |(d, _)| d);
            maybe.push(paths::join("", dir).unwrap_or_default());
        }
        maybe.sort();
        maybe.dedup();
        Scope { flux, open, maybe }
    }

    /// Whether what lies at `repo_path` may be deployed.
    pub fn maybe_deployed(&self, repo_path: &str) -> bool {
        !self.flux || self.open || self.maybe.iter().any(|m| paths::is_within(repo_path, m))
    }
}

/// What rendering produced. Document ids from `base` on are the rendered documents.
#[derive(Debug, Default)]
pub struct Output {
    /// Which Flux Kustomization applies which written documents, as the walk of `spec.path`s
    /// found it before rendering.
    pub ownership: Ownership,
    /// The first rendered document's id: the number of written documents.
    pub base: DocId,
    /// Rendered documents, numbered from `base` on.
    pub docs: Vec<Doc>,
    /// One entry per Flux Kustomization build, in render order.
    pub builds: Vec<KsBuild>,
    /// Written documents that some build applies (rules read the applied copy).
    pub used_sources: HashSet<DocId>,
    /// Substitution records per rendered document (same order as `docs`).
    pub substitutions: Vec<Vec<Substitution>>,
    /// The objects of kustomize directories that nothing builds, rendered on their own.
    pub standalone: Vec<DocId>,
    /// What those builds could not do, or where they fail.
    pub standalone_problems: Vec<Problem>,
    /// Those builds that hashed generated names.
    pub standalone_hashed: Vec<flux::StandaloneHashed>,
    /// Builds that failed inside this tool: the directory, and what went wrong.
    pub internal_errors: Vec<(String, String)>,
    /// What is known to be deployed.
    pub scope: Scope,
    /// In a lean run, the source trees of applied objects, which their builds own (their
    /// written documents hold an empty mapping); see [`super::handover`].
    pub handover: Option<Handover>,
}

/// Renders `repo` the way Flux deploys it. `source_roots`: what the configuration names (see
/// [`ownership::compute`]).
///
/// With `lean`, builds own the source trees of the objects they apply (see [`super::handover`]):
/// the written documents they took hold an empty mapping until this returns, and afterwards
/// only those no build applied get theirs back. Rendered objects of kinds no rule reads beyond
/// their metadata keep only that (see [`super::lean`]).
pub fn render(
    repo: &mut Repository,
    lean: bool,
    source_roots: &BTreeMap<String, String>,
) -> Output {
    // The tables hold file ids, document ids and paths, none of which the handover below
    // changes: one set serves the ownership walk and the builds.
    let tables = Tables::of(&repo.sources, &repo.docs);
    // Which directories nothing builds is read from the written Flux Kustomizations, so it is
    // decided before builds take those trees (see below).
    let (ownership, standalone) = {
        let tree = tables.tree(&repo.sources, &repo.docs, None);
        let ownership = ownership::compute(&tree, source_roots);
        let standalone = ownership::standalone_dirs(&tree, &ownership.applied_files);
        (ownership, standalone)
    };
    let base = repo.docs.len() as DocId;
    // Linting reads applied objects, not their sources: builds may own the source trees.
    let mut handover =
        lean.then(|| Handover::take_from(&mut repo.docs, repo.sources.len(), &ownership.roots));
    let yaml_bytes: usize = repo.sources.iter().map(|(_, f)| f.text.len()).sum();
    let flux_kustomizations = repo
        .docs
        .iter()
        .filter(|d| d.kind() == Kind::FluxKustomization)
        .count();
    let budgets = crate::budget::RenderBudgets::new(yaml_bytes, flux_kustomizations);
    let env = Env {
        confined: &repo.confined,
        budgets: &budgets,
    };
    let (rendered, scope) = {
        let tree = tables.tree(&repo.sources, &repo.docs, handover.as_ref());
        let mut rendered = flux::render_all(
            &tree,
            &ownership.roots,
            &ownership.source_roots,
            &doc_groups(&ownership),
            &env,
            base,
            lean,
        );
        // With a Flux model, a directory nothing builds is not deployed: it is only built on
        // its own where what Flux deploys cannot be told (see [`Scope`]).
        let scope = Scope::of(&repo.docs, &rendered.builds, base, &rendered.docs);
        let standalone: Vec<String> = standalone
            .into_iter()
            .filter(|d| scope.maybe_deployed(d))
            .collect();
        flux::render_standalone(&tree, &standalone, &env, base, lean, &mut rendered);
        (rendered, scope)
    };
    let flux::Rendered {
        docs,
        builds,
        used_sources,
        substitutions,
        standalone,
        standalone_problems,
        standalone_hashed,
        internal_errors,
    } = rendered;
    if let Some(h) = &mut handover {
        h.give_back(&mut repo.docs, &repo.sources, |d| used_sources.contains(&d));
    }
    Output {
        ownership,
        base,
        docs,
        builds,
        used_sources,
        substitutions,
        standalone,
        standalone_problems,
        standalone_hashed,
        internal_errors,
        scope,
        handover,
    }
}

/// Builds one directory on its own, as `kustomize build` would (for `cnpg-lint render`).
/// `handover`: the source trees a lean run lent to builds.
pub fn render_directory(
    sources: &SourceMap,
    docs: &[Doc],
    handover: Option<&Handover>,
    confined: &crate::fsio::Confined,
    dir: &str,
) -> (Vec<Node>, Vec<Problem>) {
    let tables = Tables::of(sources, docs);
    let tree = tables.tree(sources, docs, handover);
    let budgets = crate::budget::RenderBudgets::default();
    let env = Env {
        confined,
        budgets: &budgets,
    };
    let mut builder = super::build::Builder::new(&tree, &env);
    let objects = builder.build_top(dir, &super::build::Overlay::default(), Span::default());
    (
        objects.into_iter().map(|o| o.root).collect(),
        builder.problems,
    )
}

/// The cluster contexts of the Flux Kustomizations that apply each written document.
fn doc_groups(ownership: &Ownership) -> HashMap<DocId, Vec<u32>> {
    let mut out: HashMap<DocId, Vec<u32>> = HashMap::new();
    for (ks, applied) in &ownership.applies {
        let Some(groups) = ownership.contexts.get(ks) else {
            continue;
        };
        for (d, _) in applied {
            let entry = out.entry(*d).or_default();
            for g in groups {
                if !entry.contains(g) {
                    entry.push(*g);
                }
            }
        }
    }
    out
}

/// The lookup tables the ownership walk and the builds share (see [`Tree`]).
struct Tables<'a> {
    kustomization_in: HashMap<&'a str, FileId>,
    yaml_files: Vec<(&'a str, FileId)>,
    docs_by_file: Vec<Vec<DocId>>,
}

impl<'a> Tables<'a> {
    fn of(sources: &'a SourceMap, docs: &[Doc]) -> Tables<'a> {
        let mut docs_by_file: Vec<Vec<DocId>> = vec![Vec::new(); sources.len()];
        for (i, d) in docs.iter().enumerate() {
            if d.index == usize::MAX {
                continue;
            }
            if let Some(v) = docs_by_file.get_mut(d.file as usize) {
                v.push(i as DocId);
            }
        }
        let mut kustomization_in = HashMap::new();
        for (fid, f) in sources.iter() {
            if paths::is_kustomization_file(&f.repo_path) {
                // kustomize prefers kustomization.yaml over .yml over Kustomization; the
                // sorted walk order matches that preference for the first two.
                kustomization_in
                    .entry(paths::parent(&f.repo_path))
                    .or_insert(fid);
            }
        }
        Tables {
            kustomization_in,
            yaml_files: sources
                .iter()
                .filter(|(_, f)| {
                    crate::discover::file_kind(std::path::Path::new(&f.repo_path))
                        == Some(crate::discover::FileKind::Yaml)
                })
                .map(|(id, f)| (f.repo_path.as_str(), id))
                .collect(),
            docs_by_file,
        }
    }

    fn tree<'t>(
        &'t self,
        sources: &'t SourceMap,
        docs: &'t [Doc],
        handover: Option<&'t Handover>,
    ) -> Tree<'t> {
        Tree {
            sources,
            docs,
            docs_by_file: &self.docs_by_file,
            kustomization_in: &self.kustomization_in,
            yaml_files: &self.yaml_files,
            handover,
        }
    }
}

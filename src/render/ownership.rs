//! Which Flux Kustomization applies which documents. Follows `spec.path` (relative to the
//! repository root) the way kustomize-controller builds it: a directory with a
//! `kustomization.yaml` is built from its `resources` and `components`; a directory without one
//! gets Flux's generated kustomization, which takes every YAML file below it and treats a
//! subdirectory that has its own kustomization file as one resource.
//!
//! Kustomizations that apply each other form a tree per Kubernetes cluster. Each tree's roots
//! define a *context*; two objects are only paired by cross-object rules when they share one,
//! so a repository holding several clusters does not mix them up.

use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use crate::model::flux::{classify_resource, FluxKustomization, Kustomize, ResourceRef};
use crate::model::{Doc, DocId, Role};
use crate::model::{Kind, NameVal, Val};
use crate::render::handover::Handover;
use crate::source::paths;
use crate::source::{FileId, SourceMap};
use crate::yaml::Node;

/// A reference the build could not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    /// A path (resource, component or `spec.path`) that does not exist in the repository.
    Missing { doc: DocId, target: String },
    /// A URL or git resource: not fetched, its content is unknown.
    Remote { doc: DocId, target: String },
    /// `spec.path` holds a substitution placeholder.
    Placeholder { doc: DocId },
}

#[derive(Debug, Default)]
pub struct Ownership {
    /// For each Flux Kustomization document: what it applies, with the namespace its build
    /// forces on them (`targetNamespace`, or a kustomization `namespace:`).
    pub applies: BTreeMap<DocId, Vec<(DocId, Option<NameVal>)>>,
    /// Files that some Flux Kustomization's build reads as resources.
    pub applied_files: HashSet<FileId>,
    /// Context ids of each Flux Kustomization document.
    pub contexts: HashMap<DocId, Vec<u32>>,
    pub unresolved: Vec<Unresolved>,
    /// Root Kustomizations (applied by no other), with their context id, in document order.
    pub roots: Vec<(DocId, u32)>,
    /// The sources (kind, name) that deliver this repository.
    pub own_sources: Vec<(String, String)>,
    /// The directory each of them is built from (`""`: the repository root): an OCIRepository
    /// or Bucket artifact holds one directory of the repository, and its Kustomizations' paths
    /// are relative to that directory.
    pub source_roots: BTreeMap<(String, String), String>,
    /// What the model had to assume, for the user to check: a source root found from the paths.
    pub notes: Vec<String>,
    /// Files a FluxInstance's sync path applies: deployed, though no Kustomization here does.
    pub bootstrap_files: HashSet<FileId>,
    /// Roots known to be bootstrapped (see [`compute`]), whose paths must exist.
    pub bootstrapped: HashSet<DocId>,
}

impl Ownership {
    /// Where a Flux Kustomization's paths start, when its source is this repository.
    pub fn source_root(&self, ks: &FluxKustomization<'_>) -> Option<&str> {
        let (kind, name) = ks.source_ref()?;
        self.source_roots
            .get(&(kind.to_string(), name.to_string()))
            .map(String::as_str)
    }
}

/// What the ownership walk needs to know about the repository's files.
pub struct Tree<'a> {
    pub sources: &'a SourceMap,
    pub docs: &'a [Doc],
    pub docs_by_file: &'a [Vec<DocId>],
    /// Directory → its kustomization file.
    pub kustomization_in: &'a HashMap<&'a str, FileId>,
    /// All YAML files, sorted by repository path.
    pub yaml_files: &'a [(&'a str, FileId)],
    /// While rendering for linting: the object trees the index handed over to builds.
    pub handover: Option<&'a Handover>,
}

impl<'a> Tree<'a> {
    /// A source document's tree, to read, wherever it is.
    pub fn root(&self, d: DocId) -> Option<&'a Node> {
        let doc = self.docs.get(d as usize)?;
        match self.handover {
            Some(h) if h.is_handed(d) => h.read(doc, self.sources),
            _ => Some(&doc.root),
        }
    }

    /// A source document's tree, for a build to own and edit.
    pub fn owned_root(&self, d: DocId) -> Option<Node> {
        let doc = self.docs.get(d as usize)?;
        match self.handover {
            Some(h) if h.is_handed(d) => h.take(d, doc, self.sources),
            _ => Some(doc.root.clone()),
        }
    }
}

/// Kustomization visits per Flux Kustomization build; diamond-shaped includes are legal and
/// are revisited (with their own namespaces), so this bounds pathological graphs.
const VISIT_BUDGET: usize = 100_000;

struct Build<'t, 'a> {
    tree: &'t Tree<'a>,
    /// Where this Kustomization's source starts (see [`Ownership::source_roots`]).
    base: String,
    /// Kustomizations on the current include path: a cycle, not a second include.
    stack: HashSet<FileId>,
    visits: usize,
    out: Vec<(DocId, Option<NameVal>)>,
    files: HashSet<FileId>,
    unresolved: Vec<Unresolved>,
}

/// `configured`: source roots the configuration names (`Kind/name` → directory).
pub fn compute(tree: &Tree<'_>, configured: &BTreeMap<String, String>) -> Ownership {
    let mut own = Ownership::default();
    let flux_docs: Vec<DocId> = tree
        .docs
        .iter()
        .enumerate()
        .filter(|(_, d)| d.role == Role::Object && d.kind() == Kind::FluxKustomization)
        .map(|(i, _)| i as DocId)
        .collect();
    own.source_roots = own_sources(tree, &flux_docs, configured, &mut own.notes);
    own.own_sources = own.source_roots.keys().cloned().collect();
    // Each resolved Kustomization's path, to tell bootstrap roots from orphans.
    let mut ks_dirs: Vec<(DocId, String)> = Vec::new();
    let own_sources: HashMap<(&str, &str), &str> = own
        .source_roots
        .iter()
        .map(|((k, n), r)| ((k.as_str(), n.as_str()), r.as_str()))
        .collect();
    // Each Kustomization's walk reads the tree only; they run in parallel and are merged in
    // document order, so the result does not depend on scheduling.
    let walks: Vec<Walk> = flux_docs
        .par_iter()
        .map(|&ks| walk_one(tree, &own_sources, ks))
        .collect();
    for (&ks, walk) in flux_docs.iter().zip(walks) {
        match walk {
            Walk::Remote(target) => {
                own.unresolved.push(Unresolved::Remote { doc: ks, target });
                own.applies.insert(ks, Vec::new());
            }
            Walk::Local {
                dir,
                out,
                files,
                unresolved,
            } => {
                if let Some(dir) = dir {
                    ks_dirs.push((ks, dir));
                }
                own.applied_files.extend(files);
                own.unresolved.extend(unresolved);
                own.applies.insert(ks, out);
            }
        }
    }
    let (contexts, roots) = contexts(tree, &flux_docs, &own.applies);
    own.contexts = contexts;
    // A Kustomization nothing applies is a root when it is bootstrapped from outside the tree.
    // One that sits inside another Kustomization's path and is still not applied (commented
    // out of a kustomization.yaml, archived) is an orphan: linted on its own, never rendered.
    let file_of = |d: DocId| {
        tree.docs
            .get(d as usize)
            .and_then(|doc| tree.sources.get(doc.file))
            .map(|f| f.repo_path.as_str())
            .unwrap_or("")
    };
    let mut by_dir: HashMap<&str, Vec<DocId>> = HashMap::new();
    for (ks, dir) in &ks_dirs {
        by_dir.entry(dir.as_str()).or_default().push(*ks);
    }
    // Whether another Kustomization's path holds this file: the file or one of its directories.
    let inside_other = |doc: DocId| {
        let mut at = file_of(doc);
        loop {
            if by_dir
                .get(at)
                .is_some_and(|ks| ks.iter().any(|&other| other != doc))
            {
                return true;
            }
            if at.is_empty() {
                return false;
            }
            at = paths::parent(at);
        }
    };
    // `flux bootstrap` writes the root into a directory that another Kustomization's path may
    // hold (the root applies `./clusters/x`, a child applies `./`): a Kustomization that
    // applies itself, alone or with another one, is bootstrapped from outside all the same.
    let applies_itself = |doc: DocId| {
        own.applies.get(&doc).is_some_and(|applied| {
            applied.iter().any(|(d, _)| {
                *d == doc
                    || own
                        .applies
                        .get(d)
                        .is_some_and(|back| back.iter().any(|(e, _)| *e == doc))
            })
        })
    };
    // Roots known to be bootstrapped: the Kustomizations a Flux Operator FluxInstance's
    // `spec.sync.path` applies, and the ones `flux bootstrap` writes (which apply themselves).
    // Another Kustomization nothing applies is a root too when its file lies outside every
    // other Kustomization's path and its path exists (applied by hand, with `kubectl apply
    // -k`): an archived copy cannot be told from it otherwise.
    let bootstrap = bootstrap_dirs(tree);
    let mut from_bootstrap: HashSet<DocId> = HashSet::new();
    for dir in &bootstrap {
        let mut b = Build {
            tree,
            base: String::new(),
            stack: HashSet::new(),
            visits: 0,
            out: Vec::new(),
            files: HashSet::new(),
            unresolved: Vec::new(),
        };
        if b.dir_exists(dir) {
            b.dir(dir, None);
            from_bootstrap.extend(b.out.iter().map(|(d, _)| *d));
            own.bootstrap_files.extend(b.files);
        }
    }
    own.bootstrapped = roots
        .iter()
        .map(|&(d, _)| d)
        .filter(|&d| applies_itself(d) || from_bootstrap.contains(&d))
        .collect();
    // A root that is not known to be bootstrapped and whose path is gone is an archived copy
    // (`.archive/app/ks.yaml`): not rendered, and not deployed.
    let path_found: HashSet<DocId> = ks_dirs.iter().map(|(d, _)| *d).collect();
    let unresolved_path = |doc: DocId| {
        own.unresolved.iter().any(|u| match u {
            Unresolved::Remote { doc: d, .. } | Unresolved::Placeholder { doc: d } => *d == doc,
            Unresolved::Missing { .. } => false,
        })
    };
    // A path that leaves the repository is no sign of an archive: its build fails (CNPG408).
    let escapes = |doc: DocId| {
        tree.docs.get(doc as usize).is_some_and(|d| {
            matches!(FluxKustomization(&d.root).path().map(|p| p.value),
                Some(Val::Known(p)) if paths::join("", p).is_none())
        })
    };
    // A root whose source cannot be read here (another repository) is kept as a root, since
    // nothing shows it stale; but once the repository's own bootstrap is known, one that lies
    // outside it is a leftover (an `archive/` or template copy of an old gotk-sync.yaml).
    let known_bootstrap = !own.bootstrapped.is_empty();
    let remote_only = |doc: DocId| {
        known_bootstrap
            && !path_found.contains(&doc)
            && tree
                .docs
                .get(doc as usize)
                .is_some_and(|d| !own.bootstrap_files.contains(&d.file))
            && own
                .unresolved
                .iter()
                .any(|u| matches!(u, Unresolved::Remote { doc: d, .. } if *d == doc))
    };
    own.roots = roots
        .into_iter()
        .filter(|&(doc, _)| {
            own.bootstrapped.contains(&doc)
                || (!inside_other(doc)
                    && !remote_only(doc)
                    && (path_found.contains(&doc) || unresolved_path(doc) || escapes(doc)))
        })
        .collect();
    own
}

/// The directories a Flux Operator `FluxInstance` syncs (`spec.sync.path`), written as an
/// object, in a HelmRelease's values for the flux-instance chart (`instance.sync.path`), or
/// in a values file of that chart.
fn bootstrap_dirs(tree: &Tree<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for d in tree.docs {
        let Some(h) = d.header.as_ref() else {
            let sync = d.root.at(&["instance", "sync"]);
            if d.role == Role::Data && sync.is_some_and(|s| s.get("kind").is_some()) {
                out.extend(
                    sync.and_then(|s| s.get("path"))
                        .and_then(Node::as_str)
                        .map(str::to_string),
                );
            }
            continue;
        };
        let path = match (h.kind_name.as_str(), h.group.as_str()) {
            ("FluxInstance", "fluxcd.controlplane.io") => d.root.at(&["spec", "sync", "path"]),
            ("HelmRelease", "helm.toolkit.fluxcd.io") => {
                d.root.at(&["spec", "values", "instance", "sync", "path"])
            }
            _ => None,
        };
        out.extend(path.and_then(Node::as_str).map(str::to_string));
    }
    let mut dirs: Vec<String> = out.iter().filter_map(|p| paths::join("", p)).collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

/// What one Flux Kustomization's walk found.
enum Walk {
    /// Its source is another repository or artifact (`kind/name`): its paths are not here.
    Remote(String),
    Local {
        /// Its resolved path.
        dir: Option<String>,
        out: Vec<(DocId, Option<NameVal>)>,
        files: HashSet<FileId>,
        unresolved: Vec<Unresolved>,
    },
}

fn walk_one(tree: &Tree<'_>, own_sources: &HashMap<(&str, &str), &str>, ks: DocId) -> Walk {
    let source = tree
        .docs
        .get(ks as usize)
        .and_then(|d| FluxKustomization(&d.root).source_ref());
    let mut base = "";
    if let Some((kind, name)) = source {
        match own_sources.get(&(kind, name)) {
            Some(root) => base = root,
            None => return Walk::Remote(format!("{kind}/{name}")),
        }
    }
    let mut b = Build {
        tree,
        base: base.to_string(),
        stack: HashSet::new(),
        visits: 0,
        out: Vec::new(),
        files: HashSet::new(),
        unresolved: Vec::new(),
    };
    let dir = b.flux(ks);
    let mut seen = HashSet::new();
    b.out.retain(|(d, ns)| seen.insert((*d, ns.clone())));
    Walk::Local {
        dir,
        out: b.out,
        files: b.files,
        unresolved: b.unresolved,
    }
}

/// The sources that deliver this repository, with the directory each is built from. Nothing
/// in a manifest says which GitRepository or OCIRepository is "this" repository (its URL is
/// not this checkout's), so a source counts as this repository when at least half of its
/// Kustomizations' paths exist here (for an OCIRepository or Bucket, below the directory its
/// artifact holds, see [`artifact_root`]): a vendor's Git repository names paths of its own
/// tree. A source whose Kustomizations only name `./` or placeholders counts when it is
/// `flux-system` (what `flux bootstrap` creates) or the only source; one the configuration
/// names always counts. When `flux-system` counts, it is the only one (with configured ones). When no source qualifies, the one most Kustomizations use is taken
/// (on a tie, the Git sources among the most used).
fn own_sources(
    tree: &Tree<'_>,
    flux_docs: &[DocId],
    configured: &BTreeMap<String, String>,
    notes: &mut Vec<String>,
) -> BTreeMap<(String, String), String> {
    let mut by_source: BTreeMap<(String, String), Vec<Option<String>>> = BTreeMap::new();
    for &ks in flux_docs {
        let Some(doc) = tree.docs.get(ks as usize) else {
            continue;
        };
        let view = FluxKustomization(&doc.root);
        let Some((kind, name)) = view.source_ref() else {
            continue;
        };
        let path = match view.path().map(|p| p.value) {
            None => Some(String::new()),
            Some(Val::Known(p)) => Some(p.to_string()),
            Some(Val::Unknown) => None,
        };
        by_source
            .entry((kind.to_string(), name.to_string()))
            .or_default()
            .push(path);
    }
    let exists = |dir: &str| {
        dir.is_empty()
            || tree.kustomization_in.contains_key(dir)
            || files_below(tree, dir).next().is_some()
    };
    let mut own: BTreeMap<(String, String), String> = BTreeMap::new();
    for ((kind, name), paths) in &by_source {
        let key = format!("{kind}/{name}");
        if let Some(dir) = configured.get(&key) {
            own.insert((kind.clone(), name.clone()), dir.clone());
            continue;
        }
        let root = if kind == "OCIRepository" || kind == "Bucket" {
            match artifact_root(tree, flux_docs, kind, name) {
                Found::Root => String::new(),
                Found::Under(dir) => {
                    notes.push(format!(
                        "the Flux Kustomizations of {key} name paths that exist only below \
                         `{dir}/`: its artifact is taken to hold that directory (set `sources: \
                         {{{key}: <dir>}}` in .cnpg-lint.yaml to say so)"
                    ));
                    dir
                }
                Found::Ambiguous(dirs) => {
                    notes.push(format!(
                        "the paths of {key} exist below several directories ({}); which one \
                         its artifact holds is not known, so they are read from the repository \
                         root (set `sources: {{{key}: <dir>}}` in .cnpg-lint.yaml)",
                        dirs.join(", ")
                    ));
                    String::new()
                }
            }
        } else {
            String::new()
        };
        // `./` exists in every tree, so it is no evidence either way: Flux's own manifests
        // (`oci://ghcr.io/fluxcd/flux-manifests`) are applied from `./` of their artifact.
        let known: Vec<String> = paths
            .iter()
            .flatten()
            .filter_map(|p| paths::join("", p))
            .filter(|p| !p.is_empty())
            .collect();
        let found = known
            .iter()
            .filter(|p| paths::join(&root, p).is_some_and(|d| exists(&d)))
            .count();
        let evidence = if known.is_empty() {
            // Only `./` or placeholders: the bootstrap source, or the only one there is.
            name == "flux-system" || by_source.len() == 1
        } else {
            found > 0 && found * 2 >= known.len()
        };
        if evidence {
            own.insert((kind.clone(), name.clone()), root);
        }
    }
    // `flux-system` is what `flux bootstrap` and the Flux Operator name the source of the
    // repository itself: when it qualifies, another source is another repository even where
    // its paths happen to exist here too (`./apps`).
    if own.keys().any(|(_, n)| n == "flux-system") {
        own.retain(|(k, n), _| n == "flux-system" || configured.contains_key(&format!("{k}/{n}")));
    }
    for key in configured.keys() {
        if let Some((kind, name)) = key.split_once('/') {
            own.entry((kind.to_string(), name.to_string()))
                .or_insert_with(|| configured[key].clone());
        }
    }
    if own.is_empty() {
        let max = by_source.values().map(Vec::len).max().unwrap_or(0);
        let top: Vec<&(String, String)> = by_source
            .iter()
            .filter(|(_, p)| p.len() == max)
            .map(|(k, _)| k)
            .collect();
        let git: Vec<&(String, String)> = top
            .iter()
            .copied()
            .filter(|(k, _)| k == "GitRepository")
            .collect();
        for k in if git.is_empty() { top } else { git } {
            own.insert(k.clone(), String::new());
        }
    }
    own
}

/// Where an artifact's Kustomization paths exist.
enum Found {
    /// At the repository root (or nowhere: the paths are missing, which CNPG406 reports).
    Root,
    /// Below exactly one directory.
    Under(String),
    Ambiguous(Vec<String>),
}

/// The directory an OCIRepository or Bucket artifact holds, judged from its Kustomizations'
/// paths: the root when every path exists there; otherwise the one directory below which every
/// path exists. `flux push artifact --path=./kubernetes` makes `./apps` mean `kubernetes/apps`.
fn artifact_root(tree: &Tree<'_>, flux_docs: &[DocId], kind: &str, name: &str) -> Found {
    let mut wanted: Vec<String> = Vec::new();
    for &ks in flux_docs {
        let Some(doc) = tree.docs.get(ks as usize) else {
            continue;
        };
        let view = FluxKustomization(&doc.root);
        if view.source_ref() != Some((kind, name)) {
            continue;
        }
        if let Some(Val::Known(p)) = view.path().map(|p| p.value) {
            if let Some(dir) = paths::join("", p).filter(|d| !d.is_empty()) {
                wanted.push(dir);
            }
        }
    }
    let mut dirs: HashSet<&str> = HashSet::new();
    for (path, _) in tree.yaml_files {
        let mut d = paths::parent(path);
        while !d.is_empty() && dirs.insert(d) {
            d = paths::parent(d);
        }
    }
    if wanted.is_empty() || wanted.iter().all(|w| dirs.contains(w.as_str())) {
        return Found::Root;
    }
    // Prefixes under which each wanted path exists; the answer lies in all of them.
    let mut common: Option<BTreeSet<String>> = None;
    for w in &wanted {
        let suffix = format!("/{w}");
        let here: BTreeSet<String> = dirs
            .iter()
            .filter_map(|d| d.strip_suffix(suffix.as_str()).map(str::to_string))
            .collect();
        common = Some(match common {
            None => here,
            Some(c) => c.intersection(&here).cloned().collect(),
        });
    }
    let common: Vec<String> = common.unwrap_or_default().into_iter().collect();
    match common.as_slice() {
        [] => Found::Root,
        [one] => Found::Under(one.clone()),
        many => Found::Ambiguous(many.to_vec()),
    }
}

impl Build<'_, '_> {
    /// Follows a Flux Kustomization's path; returns the directory it resolved to.
    fn flux(&mut self, ks: DocId) -> Option<String> {
        let doc = self.tree.docs.get(ks as usize)?;
        let view = FluxKustomization(&doc.root);
        let target_ns = view.target_namespace().map(|t| match t.value {
            Val::Known(s) => NameVal::Known(s.into()),
            Val::Unknown => NameVal::Unknown,
        });
        let dir = match view.path().map(|p| p.value) {
            None => Some(self.base.clone()),
            Some(Val::Known(p)) => paths::join(&self.base, p),
            Some(Val::Unknown) => {
                self.unresolved.push(Unresolved::Placeholder { doc: ks });
                return None;
            }
        };
        let Some(dir) = dir else {
            self.missing(ks, view.path().and_then(|p| p.value.known()).unwrap_or(""));
            return None;
        };
        if !self.dir_exists(&dir) {
            self.missing(ks, &dir);
            return None;
        }
        self.dir(&dir, target_ns.clone());
        for c in view.components() {
            match c.value {
                Val::Known(c) => match paths::join(&dir, c) {
                    Some(target) => self.kustomize_dir(ks, &target, target_ns.clone()),
                    None => self.missing(ks, c),
                },
                Val::Unknown => self.unresolved.push(Unresolved::Placeholder { doc: ks }),
            }
        }
        Some(dir)
    }

    fn missing(&mut self, doc: DocId, target: &str) {
        self.unresolved.push(Unresolved::Missing {
            doc,
            target: target.to_string(),
        });
    }

    fn dir_exists(&self, dir: &str) -> bool {
        dir.is_empty()
            || self.tree.kustomization_in.contains_key(dir)
            || files_below(self.tree, dir).next().is_some()
    }

    /// A directory as Flux sees it: its kustomization, or the generated one.
    fn dir(&mut self, dir: &str, ns: Option<NameVal>) {
        if let Some(&k) = self.tree.kustomization_in.get(dir) {
            self.kustomization(k, ns);
            return;
        }
        let tree = self.tree;
        let mut units: BTreeSet<&str> = BTreeSet::new();
        let mut plain = Vec::new();
        for (path, file) in files_below(tree, dir) {
            match topmost_kustomization_dir(tree, dir, paths::parent(path)) {
                Some(unit) => {
                    units.insert(unit);
                }
                None => plain.push(file),
            }
        }
        for file in plain {
            self.file(file, ns.clone());
        }
        for unit in units {
            if let Some(&k) = self.tree.kustomization_in.get(unit) {
                self.kustomization(k, ns.clone());
            }
        }
    }

    fn file(&mut self, file: FileId, ns: Option<NameVal>) {
        self.files.insert(file);
        for &d in self
            .tree
            .docs_by_file
            .get(file as usize)
            .unwrap_or(&Vec::new())
        {
            if self
                .tree
                .docs
                .get(d as usize)
                .is_some_and(|doc| doc.role == Role::Object)
            {
                self.out.push((d, ns.clone()));
            }
        }
    }

    fn kustomize_dir(&mut self, from: DocId, dir: &str, ns: Option<NameVal>) {
        match self.tree.kustomization_in.get(dir) {
            Some(&k) => self.kustomization(k, ns),
            None => self.missing(from, dir),
        }
    }

    fn kustomization(&mut self, kfile: FileId, ns: Option<NameVal>) {
        self.visits += 1;
        // Past the depth budget the build reports the crossing (CNPG007); ownership stops too.
        if self.visits > VISIT_BUDGET
            || self.stack.len() >= crate::budget::KUSTOMIZE_DEPTH
            || !self.stack.insert(kfile)
        {
            return;
        }
        self.kustomization_body(kfile, ns);
        self.stack.remove(&kfile);
    }

    fn kustomization_body(&mut self, kfile: FileId, ns: Option<NameVal>) {
        self.files.insert(kfile);
        let tree = self.tree;
        let Some(source) = tree.sources.get(kfile) else {
            return;
        };
        let dir = paths::parent(&source.repo_path).to_string();
        let docs = tree
            .docs_by_file
            .get(kfile as usize)
            .cloned()
            .unwrap_or_default();
        for d in docs {
            let Some(doc) = tree.docs.get(d as usize) else {
                continue;
            };
            let k = Kustomize(&doc.root);
            // The outermost namespace wins: kustomize applies the parent's transformer last.
            let ns = ns.clone().or_else(|| {
                k.namespace().map(|n| match n.value {
                    Val::Known(s) => NameVal::Known(s.into()),
                    Val::Unknown => NameVal::Unknown,
                })
            });
            let refs: Vec<_> = k.resources().chain(k.components()).collect();
            for r in refs {
                let Val::Known(entry) = r.value else {
                    self.unresolved.push(Unresolved::Placeholder { doc: d });
                    continue;
                };
                match classify_resource(entry) {
                    ResourceRef::Remote(url) => self.unresolved.push(Unresolved::Remote {
                        doc: d,
                        target: url,
                    }),
                    ResourceRef::Local(rel) => match paths::join(&dir, &rel) {
                        None => self.missing(d, &rel),
                        Some(target) => {
                            if let Some(f) = tree.sources.find(target.as_str()) {
                                self.file(f, ns.clone());
                            } else if tree.kustomization_in.contains_key(target.as_str()) {
                                self.kustomize_dir(d, &target, ns.clone());
                            } else {
                                self.missing(d, &target);
                            }
                        }
                    },
                }
            }
        }
    }
}

/// YAML files below `dir`, from the sorted file list. Files sharing the prefix `dir/` are
/// contiguous in sort order (a sibling such as `dir-x/` may sort between `dir` and `dir/`).
pub fn files_below<'t>(
    tree: &'t Tree<'_>,
    dir: &str,
) -> impl Iterator<Item = (&'t str, FileId)> + 't {
    let files = tree.yaml_files;
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let start = files.partition_point(|(p, _)| *p < prefix.as_str());
    files
        .get(start..)
        .unwrap_or(&[])
        .iter()
        .copied()
        .take_while(move |(p, _)| p.starts_with(prefix.as_str()))
}

/// The highest directory strictly below `top` and at or above `dir` that has its own
/// kustomization file.
pub fn topmost_kustomization_dir<'p>(tree: &Tree<'_>, top: &str, dir: &'p str) -> Option<&'p str> {
    let mut found = None;
    let mut cur = dir;
    while cur != top && paths::is_within(cur, top) && !cur.is_empty() {
        if tree.kustomization_in.contains_key(cur) {
            found = Some(cur);
        }
        cur = paths::parent(cur);
    }
    found
}

/// Groups Flux Kustomizations by the roots that reach them. A root is a Kustomization that no
/// other one applies (one that applies itself, as Flux's bootstrap Kustomization does, still
/// counts). Roots declared in the same directory, or of which one reaches the other, are taken to
/// belong to one cluster; a group's id is the position of its first root.
///
/// Linear in the Kustomizations and what applies them, plus the size of the answer: a file of
/// thousands of Kustomizations must not cost a comparison of every pair.
fn contexts(
    tree: &Tree<'_>,
    flux_docs: &[DocId],
    applies: &BTreeMap<DocId, Vec<(DocId, Option<NameVal>)>>,
) -> (ContextMap, Vec<(DocId, u32)>) {
    let pos: HashMap<DocId, usize> = flux_docs.iter().enumerate().map(|(i, &d)| (d, i)).collect();
    let n = flux_docs.len();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    // Applied by something that is not one of these Kustomizations: never a root.
    let mut applied_from_outside = vec![false; n];
    for (ks, applied) in applies {
        let from = pos.get(ks).copied();
        for (d, _) in applied {
            let Some(&c) = pos.get(d) else { continue };
            match from {
                Some(k) => {
                    children[k].push(c);
                    parents[c].push(k);
                }
                None => applied_from_outside[c] = true,
            }
        }
    }
    // A parent reachable from its child shares the child's strongly connected component.
    let comp = components(&children);
    let roots: Vec<usize> = (0..n)
        .filter(|&k| !applied_from_outside[k] && parents[k].iter().all(|&p| comp[p] == comp[k]))
        .collect();
    let mut group: Vec<usize> = (0..roots.len()).collect();
    // Every set is linked under its smallest member, so a group's id does not depend on the
    // order of the unions.
    fn find(g: &mut [usize], i: usize) -> usize {
        let mut r = i;
        while g[r] != r {
            r = g[r];
        }
        let mut c = i;
        while g[c] != r {
            let next = g[c];
            g[c] = r;
            c = next;
        }
        r
    }
    fn union(g: &mut [usize], a: usize, b: usize) {
        let (a, b) = (find(g, a), find(g, b));
        g[a.max(b)] = a.min(b);
    }
    let dir_of = |k: usize| {
        tree.docs
            .get(flux_docs[k] as usize)
            .and_then(|doc| tree.sources.get(doc.file))
            .map_or("", |s| paths::parent(&s.repo_path))
    };
    // The first root of each directory and of each component that holds a root.
    let mut first_in_dir: HashMap<&str, usize> = HashMap::new();
    let mut first_in_comp: HashMap<usize, usize> = HashMap::new();
    for (i, &k) in roots.iter().enumerate() {
        let d = *first_in_dir.entry(dir_of(k)).or_insert(i);
        union(&mut group, i, d);
        let c = *first_in_comp.entry(comp[k]).or_insert(i);
        union(&mut group, i, c);
    }
    // What each component with a root reaches. A walk stops at another such component: that one
    // joins the group, and its own walk covers what lies beyond.
    let mut reached: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut stamp = vec![usize::MAX; n];
    let mut queue = VecDeque::new();
    for (i, &k) in roots.iter().enumerate() {
        if first_in_comp.get(&comp[k]) != Some(&i) {
            continue;
        }
        stamp[k] = i;
        queue.push_back(k);
        while let Some(v) = queue.pop_front() {
            reached[v].push(i);
            for &c in &children[v] {
                if stamp[c] == i {
                    continue;
                }
                stamp[c] = i;
                match first_in_comp.get(&comp[c]) {
                    Some(&j) if comp[c] != comp[k] => union(&mut group, i, j),
                    _ => queue.push_back(c),
                }
            }
        }
    }
    let mut out: ContextMap = HashMap::new();
    for (k, firsts) in reached.into_iter().enumerate() {
        if firsts.is_empty() {
            continue;
        }
        let mut ids: Vec<u32> = firsts
            .into_iter()
            .map(|i| find(&mut group, i) as u32)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        out.insert(flux_docs[k], ids);
    }
    let mut root_list: Vec<(DocId, u32)> = roots
        .iter()
        .enumerate()
        .map(|(i, &k)| (flux_docs[k], find(&mut group, i) as u32))
        .collect();
    root_list.sort_unstable();
    (out, root_list)
}

/// The strongly connected component of each node (Tarjan's algorithm, without recursion: a
/// chain of thousands of Kustomizations must not exhaust the stack).
fn components(children: &[Vec<usize>]) -> Vec<usize> {
    const UNSEEN: usize = usize::MAX;
    let n = children.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSEEN; n];
    let mut stack = Vec::new();
    let mut calls: Vec<(usize, usize)> = Vec::new();
    let (mut next_index, mut next_comp) = (0, 0);
    for start in 0..n {
        if index[start] != UNSEEN {
            continue;
        }
        calls.push((start, 0));
        while let Some(&(v, i)) = calls.last() {
            if index[v] == UNSEEN {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = children[v].get(i) {
                if let Some(top) = calls.last_mut() {
                    top.1 += 1;
                }
                if index[w] == UNSEEN {
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(u, _)) = calls.last() {
                low[u] = low[u].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

/// Context ids per Flux Kustomization document.
type ContextMap = HashMap<DocId, Vec<u32>>;

/// Kustomize directories that nothing builds: no Flux Kustomization's path, no other
/// kustomization's resource or component, and no file any Flux build reads. They are what a
/// user runs `kustomize build` on by hand, or what a tool outside this tree deploys (a Flux
/// Operator ResourceSet, a script); each is rendered on its own so that its patches apply.
/// Components are left out: they cannot be built alone. Sorted, for a stable render order.
pub fn standalone_dirs(tree: &Tree<'_>, applied_files: &HashSet<FileId>) -> Vec<String> {
    let mut referenced: HashSet<String> = HashSet::new();
    for d in tree.docs {
        let Some(dir) = tree
            .sources
            .get(d.file)
            .map(|s| paths::parent(&s.repo_path))
        else {
            continue;
        };
        match d.role {
            Role::KustomizeConfig => {
                let k = Kustomize(&d.root);
                for r in k.resources().chain(k.components()) {
                    if let Val::Known(rel) = r.value {
                        referenced.extend(paths::join(dir, rel));
                    }
                }
            }
            Role::Object if d.kind() == Kind::FluxKustomization => {
                if let Some(Val::Known(p)) = FluxKustomization(&d.root).path().map(|p| p.value) {
                    referenced.extend(paths::join("", p));
                }
            }
            _ => {}
        }
    }
    let mut out: Vec<String> = tree
        .kustomization_in
        .iter()
        .filter(|(dir, file)| {
            !referenced.contains(**dir)
                && !applied_files.contains(*file)
                && !is_component(tree, **file)
        })
        .map(|(dir, _)| dir.to_string())
        .collect();
    out.sort();
    out
}

fn is_component(tree: &Tree<'_>, file: FileId) -> bool {
    tree.docs_by_file
        .get(file as usize)
        .into_iter()
        .flatten()
        .filter_map(|&d| tree.docs.get(d as usize))
        .any(|d| d.kind() == Kind::KustomizeComponent)
}

#[cfg(test)]
mod tests {
    use super::components;

    #[test]
    fn strongly_connected_components() {
        // 0 -> 1 -> 2 -> 0 is one component; 3 (with a loop onto itself) and 4 are their own.
        let children = vec![vec![1], vec![2], vec![0, 3], vec![3], vec![]];
        let c = components(&children);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[2], c[3]);
        assert_ne!(c[3], c[4]);
        assert_ne!(c[2], c[4]);
        // A chain far longer than a recursive walk could follow on a thread's stack, closed
        // into one cycle at its end.
        const LONG: usize = 200_000;
        let mut chain: Vec<Vec<usize>> = (0..LONG).map(|i| vec![i + 1]).collect();
        chain[LONG - 1] = vec![0];
        let c = components(&chain);
        assert!(c.iter().all(|&x| x == c[0]));
    }
}

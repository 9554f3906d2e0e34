//! Stage 4: the repository index. Every document, every applied object instance (a document as
//! one Flux Kustomization applies it, with the namespace that build gives it), Flux ownership,
//! and the infrastructure facts the rules need.

pub mod ownership;
pub mod paths;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use compact_str::CompactString;

use crate::discover::IoProblem;
use crate::infra::{self, InfraFacts};
use crate::load::{Loaded, Parsed};
use crate::model::flux::Kustomize;
use crate::model::value::Val;
use crate::model::{Header, Kind, NameVal};
use crate::source::{FileId, SourceMap, Span};
use crate::yaml::Node;

pub use ownership::{Ownership, Unresolved};

pub type DocId = u32;
pub type InstId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A Kubernetes object.
    Object,
    /// A kustomize patch file: a fragment of an object, not an object of its own.
    Patch,
    /// `kustomization.yaml` (Kustomization or Component).
    KustomizeConfig,
    /// YAML that is not a Kubernetes object (CI workflows, Helm values, Terraform inputs).
    Data,
}

#[derive(Debug)]
pub struct Doc {
    pub file: FileId,
    /// Position in its file, counting from 0; `usize::MAX` for rendered documents.
    pub index: usize,
    /// In a lean index, an empty mapping for a source document that a build applied: its tree
    /// went to the build, and rules read the applied object.
    pub root: Node,
    /// Boxed: documents are moved around in bulk, and most code reads the header rarely.
    pub header: Option<Box<Header>>,
    pub role: Role,
    /// For a source document, its nodes with aliases expanded (what a copy of it costs);
    /// 0 for a rendered one.
    pub nodes: u32,
}

impl Doc {
    pub fn kind(&self) -> Kind {
        self.header.as_ref().map_or(Kind::Other, |h| h.kind)
    }
}

/// One object as it is applied: a document, the Flux Kustomization that applies it (if any) and
/// the namespace it ends up in.
#[derive(Debug, Clone)]
pub struct Instance {
    pub doc: DocId,
    pub owner: Option<DocId>,
    pub namespace: Option<NameVal>,
    /// Cluster context (see [`ownership`]); none for objects no Flux Kustomization applies.
    pub context: Option<u32>,
}

/// A YAML syntax problem (or non-UTF-8 text) in a file that matters to Kubernetes.
#[derive(Debug, Clone)]
pub struct SyntaxProblem {
    pub span: Span,
    pub message: String,
    pub first: Option<Span>,
}

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
    fn of(
        index: &Index,
        builds: &[crate::render::flux::KsBuild],
        base: DocId,
        rendered: &[Doc],
    ) -> Scope {
        let flux = builds.iter().any(|b| !b.objects.is_empty());
        let open = index.docs.iter().any(|d| {
            d.header
                .as_ref()
                .is_some_and(|h| h.kind_name == "ResourceSet" && h.group.starts_with("fluxcd"))
        });
        let mut maybe = Vec::new();
        for b in builds {
            let root = match b.ks.checked_sub(base) {
                None => index.docs.get(b.ks as usize).map(|d| &d.root),
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

#[derive(Debug, Default)]
pub struct Index {
    pub root: PathBuf,
    /// The root that every read from disk during rendering is confined to.
    pub confined: crate::fsio::Confined,
    pub sources: SourceMap,
    pub docs: Vec<Doc>,
    pub instances: Vec<Instance>,
    pub ownership: Ownership,
    pub infra: InfraFacts,
    pub syntax: Vec<SyntaxProblem>,
    /// Files and directories that could not be read.
    pub problems: Vec<IoProblem>,
    /// Files deliberately not read: symlinks whose target leaves the repository.
    pub skipped: Vec<IoProblem>,
    /// Terraform files that do not parse.
    pub terraform_syntax: Vec<SyntaxProblem>,
    /// Where a run budget was crossed (see [`crate::budget`]).
    pub limits: Vec<crate::render::Problem>,
    /// Builds that failed inside this tool: the directory, and what went wrong.
    pub internal: Vec<IoProblem>,
    /// What the builds of kustomize directories nothing else builds could not do.
    pub standalone_problems: Vec<crate::render::Problem>,
    /// Objects that no deployed Flux Kustomization applies (see [`Scope`]): not instances.
    pub undeployed: Vec<DocId>,
    /// What is known to be deployed.
    pub scope: Scope,
    /// Flux Kustomizations whose builds may have renamed objects unseen.
    uncertain: HashSet<DocId>,
    /// What the model of Flux had to assume or could not see, for the user to check.
    pub notes: Vec<String>,
    pub document_count: usize,
    pub templates_skipped: usize,
    /// YAML comments per file (indexed by file id), for inline suppressions.
    pub comments: Vec<Vec<crate::yaml::Comment>>,
    by_name: HashMap<(Kind, CompactString, CompactString), Vec<InstId>>,
    by_namespace: HashMap<(Kind, CompactString), Vec<InstId>>,
    by_kind: HashMap<Kind, Vec<InstId>>,
    /// Every directory that holds a file read (ancestors included).
    dirs: HashSet<String>,
    /// One entry per Flux Kustomization build, in render order.
    pub builds: Vec<crate::render::flux::KsBuild>,
    /// Substitution records of rendered documents, indexed from the first rendered document.
    pub substitutions: Vec<Vec<crate::render::Substitution>>,
    /// What schema validation found (filled by the pipeline when a schema rule runs).
    pub schema: Vec<crate::schema::Issue>,
    /// How long rendering took (part of building the index), for `--timings`.
    pub render_time: std::time::Duration,
    /// In a lean index, the source trees of applied objects, which their builds own (their
    /// documents here hold an empty mapping); see [`crate::render::handover`].
    handover: Option<crate::render::handover::Handover>,
    /// Backups and ScheduledBackups by kind, namespace and the cluster their
    /// `spec.cluster.name` names (`None`: a placeholder), built on first use.
    backups_by_cluster: std::sync::OnceLock<BackupsByCluster>,
}

type BackupsByCluster = HashMap<(Kind, CompactString, Option<CompactString>), Vec<InstId>>;

impl Index {
    /// `source_roots`: what the configuration names (see [`ownership::compute`]).
    pub fn build(
        root: PathBuf,
        loaded: Loaded,
        lean: bool,
        source_roots: &std::collections::BTreeMap<String, String>,
    ) -> Index {
        let Loaded {
            sources,
            parsed,
            problems,
            skipped,
        } = loaded;
        let mut idx = Index {
            confined: crate::fsio::Confined::new(&root),
            root,
            problems,
            skipped,
            ..Index::default()
        };
        let mut docs_by_file: Vec<Vec<DocId>> = vec![Vec::new(); sources.len()];
        idx.comments = vec![Vec::new(); sources.len()];
        let mut syntax_files: Vec<(FileId, SyntaxProblem)> = Vec::new();
        // Rendering adds about as many documents again; it reserves its own.
        idx.docs.reserve_exact(
            parsed
                .iter()
                .map(|p| match p {
                    Parsed::Yaml(f) => f.docs.len(),
                    _ => 0,
                })
                .sum(),
        );
        for (fid, p) in parsed.into_iter().enumerate() {
            let fid = fid as FileId;
            let repo_path = sources.get(fid).map(|s| s.repo_path.as_str()).unwrap_or("");
            match p {
                Parsed::Template => idx.templates_skipped += 1,
                // A YAML file that is not text is broken whatever it was meant to hold.
                Parsed::NotUtf8(span) => idx.syntax.push(SyntaxProblem {
                    span,
                    message: "the file is not valid UTF-8; Kubernetes tooling cannot read it"
                        .into(),
                    first: None,
                }),
                Parsed::Terraform(Ok(facts)) => {
                    idx.infra.extend(InfraFacts::from_terraform(fid, &facts))
                }
                Parsed::Terraform(Err((span, message))) => {
                    idx.terraform_syntax.push(SyntaxProblem {
                        span,
                        message,
                        first: None,
                    })
                }
                Parsed::Yaml(mut file) => {
                    idx.document_count += file.doc_count;
                    if let Some(slot) = idx.comments.get_mut(fid as usize) {
                        *slot = std::mem::take(&mut file.comments);
                    }
                    for e in file.errors {
                        if e.limit {
                            idx.limits
                                .push(crate::render::Problem::limit(e.span, e.message));
                            continue;
                        }
                        syntax_files.push((
                            fid,
                            SyntaxProblem {
                                span: e.span,
                                message: e.message,
                                first: e.first,
                            },
                        ));
                    }
                    let is_kustomization = ownership::is_kustomization_file(repo_path);
                    let is_assertion = is_test_assertion(repo_path);
                    for d in file.docs {
                        let header = Header::read(&d.root);
                        let role = match header.as_ref().map(|h| h.kind) {
                            Some(Kind::KustomizeKustomization | Kind::KustomizeComponent) => {
                                Role::KustomizeConfig
                            }
                            _ if is_kustomization => Role::KustomizeConfig,
                            _ if is_assertion => Role::Data,
                            Some(_) => Role::Object,
                            None => Role::Data,
                        };
                        if role == Role::Data {
                            idx.infra.extend(infra::yaml_shapes::extract(&d.root));
                        }
                        if let Some(v) = docs_by_file.get_mut(fid as usize) {
                            v.push(idx.docs.len() as DocId);
                        }
                        idx.docs.push(Doc {
                            file: fid,
                            index: d.index,
                            root: d.root,
                            header: header.map(Box::new),
                            role,
                            nodes: u32::try_from(d.nodes).unwrap_or(u32::MAX),
                        });
                    }
                }
            }
        }
        idx.sources = sources;
        for (_, f) in idx.sources.iter() {
            let mut dir = paths::parent(&f.repo_path);
            while !dir.is_empty() && idx.dirs.insert(dir.to_string()) {
                dir = paths::parent(dir);
            }
        }
        idx.mark_patches(&docs_by_file);
        idx.compute_ownership(source_roots);
        let kustomized = idx.kustomize_read_files();
        for (fid, problem) in syntax_files {
            if idx.ownership.applied_files.contains(&fid)
                || kustomized.contains(&fid)
                || idx.declares_objects(fid)
            {
                idx.syntax.push(problem);
            }
        }
        let start = std::time::Instant::now();
        idx.render(lean);
        idx.render_time = start.elapsed();
        idx
    }

    /// Renders every Flux Kustomization and makes its objects the index's instances; objects no
    /// Kustomization applies stay instances of their own.
    /// With `lean`, builds own the source trees of the objects they apply (see
    /// [`crate::render::handover`]), and rendered objects of kinds no rule reads beyond their
    /// metadata keep only that (see [`crate::render::lean`]).
    fn render(&mut self, lean: bool) {
        let base = self.docs.len() as DocId;
        // Which directories nothing builds is read from the written Flux Kustomizations, so it
        // is decided before builds take those trees (see below).
        let standalone = {
            let tables = self.tables();
            let tree = self.tree(&tables);
            ownership::standalone_dirs(&tree, &self.ownership.applied_files)
        };
        // Linting reads applied objects, not their sources: builds may own the source trees.
        if lean {
            self.handover = Some(crate::render::handover::Handover::take_from(
                &mut self.docs,
                self.sources.len(),
                &self.ownership.roots,
            ));
        }
        let confined = self.confined.clone();
        let yaml_bytes: usize = self.sources.iter().map(|(_, f)| f.text.len()).sum();
        let flux_kustomizations = self
            .docs
            .iter()
            .filter(|d| d.kind() == Kind::FluxKustomization)
            .count();
        let budgets = crate::budget::RenderBudgets::new(yaml_bytes, flux_kustomizations);
        let env = crate::render::Env {
            confined: &confined,
            budgets: &budgets,
        };
        let rendered = {
            let tables = self.tables();
            let tree = self.tree(&tables);
            let mut rendered = crate::render::flux::render_all(
                &tree,
                &self.ownership.roots,
                &self.ownership.source_roots,
                &self.doc_groups(),
                &env,
                base,
                lean,
            );
            // With a Flux model, a directory nothing builds is not deployed: it is only built
            // on its own where what Flux deploys cannot be told (see [`Scope`]).
            let scope = Scope::of(self, &rendered.builds, base, &rendered.docs);
            let standalone: Vec<String> = standalone
                .into_iter()
                .filter(|d| scope.maybe_deployed(d))
                .collect();
            crate::render::flux::render_standalone(
                &tree,
                &standalone,
                &env,
                base,
                lean,
                &mut rendered,
            );
            (rendered, scope)
        };
        let (rendered, scope) = rendered;
        let crate::render::flux::Rendered {
            docs,
            builds,
            used_sources,
            substitutions,
            standalone,
            standalone_problems,
            internal_errors,
        } = rendered;
        // Budgets crossed while rendering are the run's limits, wherever they were crossed.
        let limit = |p: &&crate::render::Problem| p.kind == crate::render::ProblemKind::Limit;
        self.limits.extend(
            builds
                .iter()
                .flat_map(|b| b.problems.iter())
                .chain(standalone_problems.iter())
                .filter(limit)
                .cloned(),
        );
        self.standalone_problems = standalone_problems;
        if let Some(h) = &mut self.handover {
            h.give_back(&mut self.docs, &self.sources, |d| used_sources.contains(&d));
        }
        for (dir, message) in internal_errors {
            self.internal.push(IoProblem { path: dir, message });
        }
        self.docs.reserve_exact(docs.len());
        self.docs.extend(docs);
        self.substitutions = substitutions;
        self.ownership.applies.clear();
        for b in &builds {
            let applied: Vec<(DocId, Option<NameVal>)> = b
                .objects
                .iter()
                .map(|&d| (d, self.doc_namespace(d)))
                .collect();
            for (d, namespace) in &applied {
                self.instances.push(Instance {
                    doc: *d,
                    owner: Some(b.ks),
                    namespace: namespace.clone(),
                    context: Some(b.group),
                });
            }
            self.ownership.applies.insert(b.ks, applied);
        }
        self.uncertain = builds
            .iter()
            .filter(|b| b.uncertain)
            .map(|b| b.ks)
            .collect();
        self.builds = builds;
        for d in standalone {
            self.instances.push(Instance {
                doc: d,
                owner: None,
                namespace: self.doc_namespace(d),
                context: None,
            });
        }
        let root_files: HashSet<FileId> = self
            .ownership
            .roots
            .iter()
            .filter_map(|&(d, _)| self.docs.get(d as usize).map(|doc| doc.file))
            .chain(self.ownership.bootstrap_files.iter().copied())
            .collect();
        for (i, doc) in self.docs.iter().enumerate().take(base as usize) {
            if doc.role != Role::Object || used_sources.contains(&(i as DocId)) {
                continue;
            }
            // An object no deployed Flux Kustomization applies is not deployed, and no rule
            // judges it (CNPG409, off by default, lists them), unless what Flux deploys cannot
            // be told where it lies. A root's file was applied from outside, whole.
            let path = self
                .sources
                .get(doc.file)
                .map_or("", |f| f.repo_path.as_str());
            if !root_files.contains(&doc.file) && !scope.maybe_deployed(path) {
                self.undeployed.push(i as DocId);
                continue;
            }
            self.instances.push(Instance {
                doc: i as DocId,
                owner: None,
                namespace: doc.header.as_ref().and_then(|h| h.namespace.clone()),
                context: None,
            });
        }
        self.scope = scope;
        self.index_instances();
        self.notes = self.model_notes(base);
    }

    /// What the user should know about the Flux model: the assumptions ownership made, and
    /// where it is empty or broken. Never silent: a repository whose Kustomizations all fail
    /// to render would otherwise look clean.
    fn model_notes(&self, base: DocId) -> Vec<String> {
        let mut notes = self.ownership.notes.clone();
        let name = |d: DocId| {
            let h = self.doc(d).and_then(|doc| doc.header.as_ref());
            let n = h
                .and_then(|h| h.name.as_ref())
                .and_then(|n| n.known())
                .unwrap_or("?");
            match h.and_then(|h| h.namespace.as_ref()).and_then(|n| n.known()) {
                Some(ns) => format!("{ns}/{n}"),
                None => n.to_string(),
            }
        };
        let written = self
            .docs
            .iter()
            .take(base as usize)
            .filter(|d| d.role == Role::Object && d.kind() == Kind::FluxKustomization)
            .count();
        if written > 0 && !self.scope.flux {
            let why = if self.ownership.roots.is_empty() {
                "none is a root: each lies inside another Kustomization's spec.path and nothing \
                 applies it"
                    .to_string()
            } else {
                let reasons: Vec<String> = self
                    .builds
                    .iter()
                    .take(3)
                    .map(|b| match b.problems.first() {
                        Some(p) => format!("{}: {}", name(b.ks), p.message),
                        None => format!("{}: its path holds no object", name(b.ks)),
                    })
                    .collect();
                reasons.join("; ")
            };
            notes.push(format!(
                "{written} Flux Kustomization{} found, but none renders ({why}); the Flux-aware \
                 rules see nothing, and every file is linted on its own",
                if written == 1 { "" } else { "s" }
            ));
        }
        let mut unresolved: Vec<String> = Vec::new();
        let mut other_sources: BTreeSet<String> = BTreeSet::new();
        let mut unseen: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for b in &self.builds {
            for p in &b.problems {
                if p.kind != crate::render::ProblemKind::Unseen {
                    continue;
                }
                if p.message.starts_with("spec.path is a placeholder") {
                    unresolved.push(name(b.ks));
                } else if let Some(rest) = p.message.strip_prefix("source ") {
                    if let Some((src, _)) = rest.split_once(' ') {
                        other_sources.insert(src.to_string());
                    }
                } else if p.message.starts_with("replacement: ") {
                    unseen
                        .entry("replacements".to_string())
                        .or_default()
                        .push(name(b.ks));
                } else if let Some(feature) = p
                    .message
                    .strip_prefix("kustomize `")
                    .and_then(|r| r.split_once('`'))
                    .map(|(f, _)| f)
                {
                    unseen
                        .entry(feature.to_string())
                        .or_default()
                        .push(name(b.ks));
                }
            }
        }
        let list = |names: &[String]| {
            let mut names = names.to_vec();
            names.sort();
            names.dedup();
            let n = names.len();
            let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
            if n > 5 {
                format!("{} and {} more", shown.join(", "), n - 5)
            } else {
                shown.join(", ")
            }
        };
        if !unresolved.is_empty() && self.scope.flux {
            notes.push(format!(
                "spec.path holds a variable nothing defines in {}: not rendered, and what lies \
                 below the rest of the path is linted on its own",
                list(&unresolved)
            ));
        }
        if !other_sources.is_empty() {
            let sources: Vec<String> = other_sources.into_iter().collect();
            notes.push(format!(
                "Flux Kustomizations of other repositories or artifacts ({}) are not rendered",
                list(&sources)
            ));
        }
        for (feature, builds) in &unseen {
            notes.push(format!(
                "kustomize `{feature}` is not applied in the builds of {}: the values it would \
                 change are unknown",
                list(builds)
            ));
        }
        if self.scope.open {
            notes.push(
                "Flux Operator ResourceSets generate Kustomizations this tool cannot expand: \
                 objects no Kustomization here applies are linted on their own"
                    .into(),
            );
        }
        if !self.undeployed.is_empty() {
            let files: HashSet<FileId> = self
                .undeployed
                .iter()
                .filter_map(|&d| self.doc(d).map(|doc| doc.file))
                .collect();
            let one = self.undeployed.len() == 1;
            notes.push(format!(
                "{} object{} in {} file{} {} applied by no deployed Flux Kustomization, so {} \
                 not linted (select CNPG409 to list the files)",
                self.undeployed.len(),
                if one { "" } else { "s" },
                files.len(),
                if files.len() == 1 { "" } else { "s" },
                if one { "is" } else { "are" },
                if one { "it is" } else { "they are" },
            ));
        }
        notes
    }

    /// Whether the build of Flux Kustomization `ks` may have renamed its objects in ways this
    /// tool does not apply (see [`crate::render::build::Builder::uncertain`]).
    pub fn uncertain_identity(&self, ks: DocId) -> bool {
        self.uncertain.contains(&ks)
    }

    /// The cluster contexts of the Flux Kustomizations that apply each written document.
    fn doc_groups(&self) -> HashMap<DocId, Vec<u32>> {
        let mut out: HashMap<DocId, Vec<u32>> = HashMap::new();
        for (ks, applied) in &self.ownership.applies {
            let Some(groups) = self.ownership.contexts.get(ks) else {
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

    fn kustomization_dirs(&self) -> HashMap<&str, FileId> {
        let mut out = HashMap::new();
        for (fid, f) in self.sources.iter() {
            if ownership::is_kustomization_file(&f.repo_path) {
                // kustomize prefers kustomization.yaml over .yml over Kustomization; the
                // sorted walk order matches that preference for the first two.
                out.entry(paths::parent(&f.repo_path)).or_insert(fid);
            }
        }
        out
    }

    /// Files that kustomize reads: kustomization files themselves, and the files their
    /// `resources` name. Flux or not, a syntax error in these breaks `kustomize build`.
    fn kustomize_read_files(&self) -> HashSet<FileId> {
        let mut out: HashSet<FileId> = self
            .sources
            .iter()
            .filter(|(_, f)| ownership::is_kustomization_file(&f.repo_path))
            .map(|(id, _)| id)
            .collect();
        for d in self.docs.iter().filter(|d| d.role == Role::KustomizeConfig) {
            let dir = self
                .sources
                .get(d.file)
                .map(|s| paths::parent(&s.repo_path))
                .unwrap_or("");
            for r in Kustomize(&d.root).resources() {
                if let Val::Known(rel) = r.value {
                    if let Some(f) = paths::join(dir, rel).and_then(|t| self.sources.find(&t)) {
                        out.insert(f);
                    }
                }
            }
        }
        out
    }

    /// Documents in files that kustomizations use as patches are fragments.
    fn mark_patches(&mut self, docs_by_file: &[Vec<DocId>]) {
        let mut patch_files = HashSet::new();
        for d in &self.docs {
            if d.role != Role::KustomizeConfig {
                continue;
            }
            let dir = self
                .sources
                .get(d.file)
                .map(|s| paths::parent(&s.repo_path))
                .unwrap_or("");
            for p in Kustomize(&d.root).patch_files() {
                if let Val::Known(rel) = p.value {
                    if let Some(f) = paths::join(dir, rel).and_then(|t| self.sources.find(&t)) {
                        patch_files.insert(f);
                    }
                }
            }
        }
        for f in patch_files {
            for &d in docs_by_file
                .get(f as usize)
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                if let Some(doc) = self.docs.get_mut(d as usize) {
                    if doc.role == Role::Object {
                        doc.role = Role::Patch;
                    }
                }
            }
        }
    }

    fn compute_ownership(&mut self, sources: &std::collections::BTreeMap<String, String>) {
        let tables = self.tables();
        let own = ownership::compute(&self.tree(&tables), sources);
        self.ownership = own;
    }

    /// Whether a file's text looks like a Kubernetes manifest, for deciding if a syntax error in
    /// it matters. A broken file has no tree to ask, so this reads lines.
    fn declares_objects(&self, fid: FileId) -> bool {
        let Some(f) = self.sources.get(fid) else {
            return false;
        };
        let mut api = false;
        let mut kind = false;
        for line in f.text.lines() {
            let l = line.trim_start().trim_start_matches("- ");
            api |= l.starts_with("apiVersion:");
            kind |= l.starts_with("kind:");
            if api && kind {
                return true;
            }
        }
        false
    }

    fn index_instances(&mut self) {
        for (i, inst) in self.instances.iter().enumerate() {
            let Some(doc) = self.docs.get(inst.doc as usize) else {
                continue;
            };
            let Some(h) = &doc.header else { continue };
            self.by_kind.entry(h.kind).or_default().push(i as InstId);
            if h.kind == Kind::Other {
                continue;
            }
            let ns = match &inst.namespace {
                Some(NameVal::Known(n)) => n.clone(),
                Some(NameVal::Unknown) => continue,
                None => CompactString::default(),
            };
            // Namespace lookups include objects whose name is still a placeholder.
            self.by_namespace
                .entry((h.kind, ns.clone()))
                .or_default()
                .push(i as InstId);
            if let Some(NameVal::Known(name)) = &h.name {
                self.by_name
                    .entry((h.kind, ns, name.clone()))
                    .or_default()
                    .push(i as InstId);
            }
        }
    }

    /// Builds a kustomize directory on its own (no Flux overlay, no substitution).
    pub fn render_directory(&self, dir: &str) -> (Vec<Node>, Vec<crate::render::Problem>) {
        let tables = self.tables();
        let tree = self.tree(&tables);
        let budgets = crate::budget::RenderBudgets::default();
        let env = crate::render::Env {
            confined: &self.confined,
            budgets: &budgets,
        };
        let mut builder = crate::render::build::Builder::new(&tree, &env);
        let objects = builder.build_top(
            dir,
            &crate::render::build::Overlay::default(),
            Span::default(),
        );
        (
            objects.into_iter().map(|o| o.root).collect(),
            builder.problems,
        )
    }

    /// The substitution that produced the value at `path` of a rendered document, if any.
    pub fn substitution_at(
        &self,
        doc: DocId,
        path: &[crate::diagnostics::Seg],
    ) -> Option<&crate::render::Substitution> {
        let base = self.docs.len().checked_sub(self.substitutions.len())?;
        let i = (doc as usize).checked_sub(base)?;
        let records = self.substitutions.get(i)?;
        if records.is_empty() {
            return None;
        }
        let mut node = &self.doc(doc)?.root;
        for seg in path {
            node = match seg {
                crate::diagnostics::Seg::Key(k) => node.get(k)?,
                crate::diagnostics::Seg::Index(i) => node.as_seq()?.get(*i)?,
            };
        }
        records.iter().find(|s| s.at == node.span)
    }

    /// The text a node was read from, as written (quotes and escapes included). For rendered
    /// values this is the source text before Flux substituted anything.
    pub fn written(&self, span: Span) -> Option<&str> {
        self.sources.get(span.file)?.text.get(span.range())
    }

    /// Whether a repository-relative file or directory exists: among the files read, or on
    /// disk (files the walk skipped, such as non-YAML files or excluded paths, still exist).
    pub fn path_exists(&self, repo_path: &str) -> bool {
        if repo_path.is_empty() || self.sources.find(repo_path).is_some() {
            return true;
        }
        self.dirs.contains(repo_path) || self.confined.exists(repo_path)
    }

    /// Whether a document was made by a kustomize generator (its text is in a kustomization
    /// file, not in a manifest of its own).
    pub fn is_generated(&self, doc: DocId) -> bool {
        self.doc(doc)
            .and_then(|d| self.sources.get(d.file))
            .is_some_and(|f| ownership::is_kustomization_file(&f.repo_path))
    }

    pub fn doc(&self, id: DocId) -> Option<&Doc> {
        self.docs.get(id as usize)
    }

    pub fn instance(&self, id: InstId) -> Option<&Instance> {
        self.instances.get(id as usize)
    }

    /// Instances of one kind, with their documents.
    pub fn instances_of(&self, kind: Kind) -> impl Iterator<Item = (InstId, &Instance, &Doc)> {
        self.by_kind
            .get(&kind)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(move |&i| {
                let inst = self.instances.get(i as usize)?;
                let doc = self.docs.get(inst.doc as usize)?;
                Some((i, inst, doc))
            })
    }

    /// A document's `metadata.namespace` as written (or as rendering set it).
    pub fn doc_namespace(&self, id: DocId) -> Option<NameVal> {
        self.doc(id)?.header.as_ref()?.namespace.clone()
    }

    /// The instance's known name.
    pub fn name(&self, id: InstId) -> Option<&str> {
        self.doc_name(self.instance(id)?.doc)
    }

    /// A document's known `metadata.name`.
    pub fn doc_name(&self, id: DocId) -> Option<&str> {
        self.doc(id)?.header.as_ref()?.name.as_ref()?.known()
    }

    /// The instance's namespace: `Some("")` when unset, `None` when unknown.
    pub fn namespace(&self, id: InstId) -> Option<&str> {
        match &self.instance(id)?.namespace {
            None => Some(""),
            Some(NameVal::Known(n)) => Some(n),
            Some(NameVal::Unknown) => None,
        }
    }

    /// Two instances may be paired by cross-object rules: both are applied in the same
    /// cluster context, or neither is applied by any Flux Kustomization.
    pub fn paired(&self, a: InstId, b: InstId) -> bool {
        match (self.instance(a), self.instance(b)) {
            (Some(x), Some(y)) => {
                if x.owner.is_none() && y.owner.is_none() {
                    true
                } else {
                    x.context.is_some() && x.context == y.context
                }
            }
            _ => false,
        }
    }

    /// Instances of `kind` named `name` in `namespace` that pair with `near`.
    pub fn find(&self, kind: Kind, namespace: &str, name: &str, near: InstId) -> Vec<InstId> {
        self.by_name
            .get(&(kind, namespace.into(), name.into()))
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&c| self.paired(near, c))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether an object of `kind` named `name` exists for `near`: paired with it when `near` is
    /// deployed, anywhere in the repository when it is not (a file no Kustomization applies
    /// must not be judged against deployed objects it cannot see).
    pub fn exists_for(&self, kind: Kind, namespace: &str, name: &str, near: InstId) -> bool {
        let deployed = self.instance(near).is_some_and(|i| i.owner.is_some());
        if deployed {
            !self.find(kind, namespace, name, near).is_empty()
        } else if namespace.is_empty() {
            // Its namespace would come from whatever applied it: any namespace may be the one.
            self.by_name
                .iter()
                .any(|((k, _, n), v)| *k == kind && n == name && !v.is_empty())
        } else {
            self.by_name
                .get(&(kind, namespace.into(), name.into()))
                .is_some_and(|v| !v.is_empty())
        }
    }

    /// Instances of `kind` whose name or namespace is a placeholder: any of them could be the
    /// object a reference names when no written one matches.
    pub fn placeholder_named(&self, kind: Kind) -> Vec<InstId> {
        self.instances_of(kind)
            .filter(|(_, inst, doc)| {
                matches!(inst.namespace, Some(NameVal::Unknown))
                    || doc
                        .header
                        .as_ref()
                        .is_some_and(|h| matches!(h.name, Some(NameVal::Unknown)))
            })
            .map(|(id, _, _)| id)
            .collect()
    }

    /// Instances of `kind` (ScheduledBackup or Backup) in `namespace` whose
    /// `spec.cluster.name` is `cluster` (`None`: a placeholder) and that pair with `near`, in
    /// instance order. Rules that match clusters with their backups call this once per cluster,
    /// so it must not scan the namespace: thousands of clusters may share one.
    pub fn backups_naming(
        &self,
        kind: Kind,
        namespace: &str,
        cluster: Option<&str>,
        near: InstId,
    ) -> Vec<InstId> {
        let map = self.backups_by_cluster.get_or_init(|| {
            let mut map = BackupsByCluster::new();
            for ((k, ns), insts) in &self.by_namespace {
                if !matches!(k, Kind::ScheduledBackup | Kind::Backup) {
                    continue;
                }
                for &i in insts {
                    let Some(doc) = self.instance(i).and_then(|inst| self.doc(inst.doc)) else {
                        continue;
                    };
                    let named = match crate::model::cnpg::BackupLike(&doc.root)
                        .cluster_name()
                        .map(|c| c.value)
                    {
                        Some(Val::Known(c)) => Some(CompactString::from(c)),
                        Some(Val::Unknown) => None,
                        None => continue,
                    };
                    map.entry((*k, ns.clone(), named)).or_default().push(i);
                }
            }
            map
        });
        map.get(&(kind, namespace.into(), cluster.map(CompactString::from)))
            .map(|v| {
                v.iter()
                    .copied()
                    .filter(|&b| self.paired(near, b))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// kuttl and chainsaw test assertions (`01-assert.yaml`, `02-errors.yaml`): partial objects a
/// test compares against, not manifests anyone applies.
fn is_test_assertion(repo_path: &str) -> bool {
    let name = paths::file_name(repo_path);
    let stem = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name);
    stem.ends_with("-assert")
        || stem.ends_with("-errors")
        || stem.ends_with("-error")
        || stem == "assert"
        || stem == "errors"
}

/// Lookup tables over the source files and documents, shared by the ownership walk and the
/// renderer.
struct Tables<'a> {
    kustomization_in: HashMap<&'a str, FileId>,
    yaml_files: Vec<(&'a str, FileId)>,
    /// Source documents per file (rendered documents belong to no file).
    docs_by_file: Vec<Vec<DocId>>,
}

impl Index {
    fn tables(&self) -> Tables<'_> {
        let mut docs_by_file: Vec<Vec<DocId>> = vec![Vec::new(); self.sources.len()];
        for (i, d) in self.docs.iter().enumerate() {
            if d.index == usize::MAX {
                continue;
            }
            if let Some(v) = docs_by_file.get_mut(d.file as usize) {
                v.push(i as DocId);
            }
        }
        Tables {
            kustomization_in: self.kustomization_dirs(),
            yaml_files: self
                .sources
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

    fn tree<'t>(&'t self, t: &'t Tables<'t>) -> ownership::Tree<'t> {
        ownership::Tree {
            sources: &self.sources,
            docs: &self.docs,
            docs_by_file: &t.docs_by_file,
            kustomization_in: &t.kustomization_in,
            yaml_files: &t.yaml_files,
            handover: self.handover.as_ref(),
        }
    }
}

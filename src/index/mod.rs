//! Stage 5, index: the repository index, assembled from the written repository ([`Repository`]) and what
//! rendering produced ([`render::stage::Output`]): every document, every applied object instance (a
//! document as one Flux Kustomization applies it, with the namespace that build gives it), Flux
//! ownership, and the infrastructure facts the rules need, with lookups by kind, namespace and
//! name.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use compact_str::CompactString;

use crate::discover::IoProblem;
use crate::model::infra::InfraFacts;
use crate::model::repo::{Repository, SyntaxProblem};
use crate::model::value::Val;
use crate::model::{Doc, DocId, Kind, NameVal, Role};
use crate::render::flux::KsBuild;
use crate::render::ownership::Ownership;
use crate::render::stage::Scope;
use crate::render::{self, handover::Handover};
use crate::source::{paths, FileId, SourceMap, Span};
use crate::yaml::Node;

pub type InstId = u32;

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
    pub limits: Vec<render::Problem>,
    /// Builds that failed inside this tool: the directory, and what went wrong.
    pub internal: Vec<IoProblem>,
    /// What the builds of kustomize directories nothing else builds could not do.
    pub standalone_problems: Vec<render::Problem>,
    /// Standalone builds that hashed generated names (Flux builds keep theirs in `builds`).
    pub standalone_hashed: Vec<render::flux::StandaloneHashed>,
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
    pub builds: Vec<KsBuild>,
    /// Substitution records of rendered documents, indexed from the first rendered document.
    pub substitutions: Vec<Vec<render::Substitution>>,
    /// In a lean index, the source trees of applied objects, which their builds own (their
    /// documents here hold an empty mapping); see [`render::handover`].
    handover: Option<Handover>,
    /// Backups and ScheduledBackups by kind, namespace and the cluster their
    /// `spec.cluster.name` names (`None`: a placeholder), built on first use.
    backups_by_cluster: std::sync::OnceLock<BackupsByCluster>,
}

type BackupsByCluster = HashMap<(Kind, CompactString, Option<CompactString>), Vec<InstId>>;

impl Index {
    /// Assembles the index from the written repository and what rendering produced: the
    /// instances (applied objects with their namespaces and contexts), what is not deployed, the
    /// syntax errors that matter, the run's limits, and the notes on the Flux model.
    pub fn assemble(mut repo: Repository, rendered: render::stage::Output) -> Index {
        // A syntax error matters in a file Flux applies, kustomize reads, or that declares
        // objects; elsewhere (Helm values, CI workflows) it is not this tool's business.
        let kustomized = repo.kustomize_read_files();
        let syntax: Vec<SyntaxProblem> = std::mem::take(&mut repo.syntax)
            .into_iter()
            .filter(|(fid, _)| {
                rendered.ownership.applied_files.contains(fid)
                    || kustomized.contains(fid)
                    || repo.declares_objects(*fid)
            })
            .map(|(_, p)| p)
            .collect();
        let Repository {
            root,
            confined,
            sources,
            docs,
            comments,
            infra,
            not_utf8,
            syntax: _,
            terraform_syntax,
            limits,
            problems,
            skipped,
            document_count,
            templates_skipped,
            dirs,
        } = repo;
        let mut idx = Index {
            root,
            confined,
            sources,
            docs,
            comments,
            infra,
            syntax: not_utf8,
            terraform_syntax,
            limits: limits
                .into_iter()
                .map(|(span, message)| render::Problem::limit(span, message))
                .collect(),
            problems,
            skipped,
            document_count,
            templates_skipped,
            dirs,
            ownership: rendered.ownership,
            ..Index::default()
        };
        idx.syntax.extend(syntax);
        idx.add_rendered(
            rendered.base,
            rendered.docs,
            rendered.builds,
            &rendered.used_sources,
            rendered.substitutions,
            rendered.standalone,
            rendered.standalone_problems,
            rendered.internal_errors,
            rendered.scope,
        );
        idx.handover = rendered.handover;
        idx.standalone_hashed = rendered.standalone_hashed;
        idx
    }

    /// Makes the objects every build applied the index's instances; written objects no build
    /// applied stay instances of their own where they may be deployed.
    #[allow(clippy::too_many_arguments)]
    fn add_rendered(
        &mut self,
        base: DocId,
        docs: Vec<Doc>,
        builds: Vec<KsBuild>,
        used_sources: &HashSet<DocId>,
        substitutions: Vec<Vec<render::Substitution>>,
        standalone: Vec<DocId>,
        standalone_problems: Vec<render::Problem>,
        internal_errors: Vec<(String, String)>,
        scope: Scope,
    ) {
        // Budgets crossed while rendering are the run's limits, wherever they were crossed.
        let limit = |p: &&render::Problem| p.kind == render::ProblemKind::Limit;
        self.limits.extend(
            builds
                .iter()
                .flat_map(|b| b.problems.iter())
                .chain(standalone_problems.iter())
                .filter(limit)
                .cloned(),
        );
        self.standalone_problems = standalone_problems;
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
                if p.kind != render::ProblemKind::Unseen {
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
    /// tool does not apply (see [`render::build::Builder::uncertain`]).
    pub fn uncertain_identity(&self, ks: DocId) -> bool {
        self.uncertain.contains(&ks)
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
    pub fn render_directory(&self, dir: &str) -> (Vec<Node>, Vec<render::Problem>) {
        render::stage::render_directory(
            &self.sources,
            &self.docs,
            self.handover.as_ref(),
            &self.confined,
            dir,
        )
    }

    /// The substitution that produced the value at `path` of a rendered document, if any.
    pub fn substitution_at(
        &self,
        doc: DocId,
        path: &[crate::yaml::Seg],
    ) -> Option<&render::Substitution> {
        let base = self.docs.len().checked_sub(self.substitutions.len())?;
        let i = (doc as usize).checked_sub(base)?;
        let records = self.substitutions.get(i)?;
        if records.is_empty() {
            return None;
        }
        let mut node = &self.doc(doc)?.root;
        for seg in path {
            node = match seg {
                crate::yaml::Seg::Key(k) => node.get(k)?,
                crate::yaml::Seg::Index(i) => node.as_seq()?.get(*i)?,
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
            .is_some_and(|f| paths::is_kustomization_file(&f.repo_path))
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

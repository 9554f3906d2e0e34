//! The repository as written: every loaded file's documents, each with its header read and its
//! role decided, and the facts and problems loading found. Rendering reads this; the index is
//! assembled from it and what rendering produced.

use std::collections::HashSet;
use std::path::PathBuf;

use crate::discover::IoProblem;
use crate::load::{Loaded, Parsed};
use crate::model::flux::Kustomize;
use crate::model::infra::{self, InfraFacts};
use crate::model::{Doc, DocId, Header, Kind, Role, Val};
use crate::source::{paths, FileId, SourceMap, Span};

/// A YAML syntax problem (or non-UTF-8 text) in a file that matters to Kubernetes.
#[derive(Debug, Clone)]
pub struct SyntaxProblem {
    pub span: Span,
    pub message: String,
    pub first: Option<Span>,
}

#[derive(Debug, Default)]
pub struct Repository {
    pub root: PathBuf,
    /// The root that every read from disk during rendering is confined to.
    pub confined: crate::fsio::Confined,
    pub sources: SourceMap,
    /// Every written document, in file order.
    pub docs: Vec<Doc>,
    /// YAML comments per file (indexed by file id), for inline suppressions.
    pub comments: Vec<Vec<crate::yaml::Comment>>,
    pub infra: InfraFacts,
    /// Files that are not text: broken whatever they were meant to hold.
    pub not_utf8: Vec<SyntaxProblem>,
    /// YAML syntax errors with their file. Whether one matters depends on who reads the file
    /// (see [`Repository::declares_objects`] and [`Repository::kustomize_read_files`]), which
    /// the index decides once Flux ownership is known.
    pub syntax: Vec<(FileId, SyntaxProblem)>,
    /// Terraform files that do not parse.
    pub terraform_syntax: Vec<SyntaxProblem>,
    /// Where loading crossed a run budget (alias expansion, nesting).
    pub limits: Vec<(Span, String)>,
    /// Files and directories that could not be read.
    pub problems: Vec<IoProblem>,
    /// Files deliberately not read: symlinks whose target leaves the repository.
    pub skipped: Vec<IoProblem>,
    pub document_count: usize,
    pub templates_skipped: usize,
    /// Every directory that holds a file read (ancestors included).
    pub dirs: HashSet<String>,
}

impl Repository {
    /// Builds the documents of what was loaded: headers, roles, and the infrastructure facts of
    /// Terraform files and YAML data.
    pub fn from_loaded(root: PathBuf, loaded: Loaded) -> Repository {
        let Loaded {
            sources,
            parsed,
            problems,
            skipped,
        } = loaded;
        let mut repo = Repository {
            confined: crate::fsio::Confined::new(&root),
            root,
            problems,
            skipped,
            ..Repository::default()
        };
        let mut docs_by_file: Vec<Vec<DocId>> = vec![Vec::new(); sources.len()];
        repo.comments = vec![Vec::new(); sources.len()];
        // Rendering adds about as many documents again; it reserves its own.
        repo.docs.reserve_exact(
            parsed
                .iter()
                .map(|p| match p {
                    Parsed::Yaml(f) => f.docs.len(),
                    _ => 0,
                })
                .sum(),
        );
        // Terraform values resolve across the files of a module, so the files wait for each other.
        let mut terraform = Vec::new();
        for (fid, p) in parsed.into_iter().enumerate() {
            let fid = fid as FileId;
            let repo_path = sources.get(fid).map(|s| s.repo_path.as_str()).unwrap_or("");
            match p {
                Parsed::Template => repo.templates_skipped += 1,
                // A YAML file that is not text is broken whatever it was meant to hold.
                Parsed::NotUtf8(span) => repo.not_utf8.push(SyntaxProblem {
                    span,
                    message: "the file is not valid UTF-8; Kubernetes tooling cannot read it"
                        .into(),
                    first: None,
                }),
                Parsed::Terraform(Ok(facts)) => terraform.push((fid, repo_path.to_owned(), facts)),
                Parsed::Terraform(Err((span, message))) => {
                    repo.terraform_syntax.push(SyntaxProblem {
                        span,
                        message,
                        first: None,
                    })
                }
                Parsed::Yaml(mut file) => {
                    repo.document_count += file.doc_count;
                    if let Some(slot) = repo.comments.get_mut(fid as usize) {
                        *slot = std::mem::take(&mut file.comments);
                    }
                    for e in file.errors {
                        if e.limit {
                            repo.limits.push((e.span, e.message));
                            continue;
                        }
                        repo.syntax.push((
                            fid,
                            SyntaxProblem {
                                span: e.span,
                                message: e.message,
                                first: e.first,
                            },
                        ));
                    }
                    let is_kustomization = paths::is_kustomization_file(repo_path);
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
                            repo.infra.extend(infra::yaml_shapes::extract(&d.root));
                        }
                        if let Some(v) = docs_by_file.get_mut(fid as usize) {
                            v.push(repo.docs.len() as DocId);
                        }
                        repo.docs.push(Doc {
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
        let (ids, mut files): (Vec<FileId>, Vec<_>) = terraform
            .into_iter()
            .map(|(fid, path, facts)| (fid, (path, facts)))
            .unzip();
        crate::load::tf_module::resolve(&mut files);
        for (fid, (_, facts)) in ids.into_iter().zip(&files) {
            repo.infra.extend(InfraFacts::from_terraform(fid, facts));
        }
        repo.sources = sources;
        for (_, f) in repo.sources.iter() {
            let mut dir = paths::parent(&f.repo_path);
            while !dir.is_empty() && repo.dirs.insert(dir.to_string()) {
                dir = paths::parent(dir);
            }
        }
        repo.mark_patches(&docs_by_file);
        repo
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

    /// Files that kustomize reads: kustomization files themselves, and the files their
    /// `resources` name. Flux or not, a syntax error in these breaks `kustomize build`.
    pub fn kustomize_read_files(&self) -> HashSet<FileId> {
        let mut out: HashSet<FileId> = self
            .sources
            .iter()
            .filter(|(_, f)| paths::is_kustomization_file(&f.repo_path))
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

    /// Whether a file's text looks like a Kubernetes manifest, for deciding if a syntax error in
    /// it matters. A broken file has no tree to ask, so this reads lines.
    pub fn declares_objects(&self, fid: FileId) -> bool {
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
}

/// Test assertion files (chainsaw, kuttl) describe objects a test expects, not objects to
/// apply.
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

//! Stage 1, discover: find the files to lint: the YAML and Terraform files Flux would see.
//!
//! Flux builds from the source artifact: every file Git tracks, less what `.sourceignore` files
//! and source-controller's default exclusions leave out (`.git/`, `.github/`, `.sops.yaml`, …;
//! `ExcludeVCS`, `ExcludeCI` and `ExcludeExtra` in fluxcd/pkg `sourceignore/sourceignore.go`).
//! `.gitignore` decides nothing for a tracked file, so:
//! - in a Git work tree (a `.git` directory with an index), untracked files that `.gitignore`
//!   matches are skipped, and every tracked file is linted whatever `.gitignore` says;
//! - elsewhere `.gitignore` is not read at all, as kustomize does not read it;
//! - `.ignore` files, global Git excludes and ignore files above the root are never read.
//!
//! Hidden files are found like any other (Flux applies `.archive/` when a path names it). The
//! walk is parallel and never follows a symlinked directory, so a symlink loop cannot trap it.
//! A symlinked file is linted only when its target is a regular file inside the repository; one
//! whose target leaves it is not read, and is reported as skipped.

mod git_index;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, WalkBuilder, WalkState};

use crate::source::slash_path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Yaml,
    Terraform,
}

#[derive(Debug, Clone)]
pub struct Found {
    /// Where to read the file: for a symlink, its resolved target inside the repository.
    pub path: PathBuf,
    /// Relative to the repository root, `/`-separated.
    pub repo_path: String,
    pub kind: FileKind,
}

/// A file or directory that could not be read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoProblem {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Walk {
    /// Sorted by `repo_path`, so file ids and output are deterministic.
    pub files: Vec<Found>,
    pub problems: Vec<IoProblem>,
    /// Files deliberately not read: symlinks whose target leaves the repository.
    pub skipped: Vec<IoProblem>,
}

pub fn file_kind(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_string_lossy();
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "yaml" | "yml" => Some(FileKind::Yaml),
        // Variable files and Terragrunt inputs decide whether a variable's default applies.
        "tf" | "tfvars" => Some(FileKind::Terraform),
        "hcl" if name == "terragrunt.hcl" => Some(FileKind::Terraform),
        "json" if name.ends_with(".tfvars.json") => Some(FileKind::Terraform),
        _ => None,
    }
}

/// source-controller's default exclusions (fluxcd/pkg `sourceignore`: `ExcludeVCS`,
/// `ExcludeCI`, `ExcludeExtra`; `ExcludeExt` names no YAML or Terraform file), which apply when
/// a GitRepository sets no `spec.ignore`.
const FLUX_DEFAULT_EXCLUDES: &[&str] = &[
    ".git/",
    ".gitignore",
    ".gitmodules",
    ".gitattributes",
    ".github/",
    ".circleci/",
    ".travis.yml",
    ".gitlab-ci.yml",
    "appveyor.yml",
    ".drone.yml",
    "cloudbuild.yaml",
    "codeship-services.yml",
    "codeship-steps.yml",
    "**/.goreleaser.yml",
    "**/.sops.yaml",
    "**/.flux.yaml",
];

/// What every walk shares: the root (as given and resolved), the filters, and the results.
struct Scan<'a> {
    root: &'a Path,
    /// The root with every symlink resolved, to confine symlinked files.
    canonical_root: PathBuf,
    exclude: &'a globset::GlobSet,
    flux_defaults: Gitignore,
    found: Mutex<Vec<Found>>,
    problems: Mutex<Vec<IoProblem>>,
    skipped: Mutex<Vec<IoProblem>>,
}

pub fn walk(root: &Path, jobs: usize, exclude: &globset::GlobSet) -> Walk {
    let scan = Scan {
        root,
        canonical_root: root.canonicalize().unwrap_or_else(|_| root.to_path_buf()),
        exclude,
        flux_defaults: flux_defaults(root),
        found: Mutex::new(Vec::new()),
        problems: Mutex::new(Vec::new()),
        skipped: Mutex::new(Vec::new()),
    };
    let tracked = git_index::read(root);
    scan.run(jobs, tracked.is_some(), None);
    if let Some(tracked) = &tracked {
        // Tracked files that `.gitignore` hid from the first walk: walk again without it, into
        // just the directories that hold them.
        let seen: HashSet<String> = lock(&scan.found)
            .iter()
            .map(|f| f.repo_path.clone())
            .collect();
        let missing: HashSet<&str> = tracked
            .files
            .iter()
            .map(String::as_str)
            .filter(|p| !seen.contains(*p) && file_kind(Path::new(p)).is_some())
            .collect();
        if !missing.is_empty() || !tracked.sparse_dirs.is_empty() {
            let mut dirs: HashSet<String> = HashSet::new();
            let sparse = tracked.sparse_dirs.iter().map(String::as_str);
            for p in missing.iter().copied().chain(sparse) {
                let mut d = p;
                while let Some((parent, _)) = d.rsplit_once('/') {
                    if !dirs.insert(parent.to_string()) {
                        break;
                    }
                    d = parent;
                }
            }
            dirs.extend(tracked.sparse_dirs.iter().cloned());
            let enter = Enter {
                dirs,
                sparse: tracked.sparse_dirs.clone(),
            };
            let keep = Second {
                tracked,
                missing: &missing,
                seen: &seen,
            };
            scan.run(jobs, false, Some((&keep, std::sync::Arc::new(enter))));
        }
    }
    let mut files = scan.found.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort_by(|a, b| a.repo_path.cmp(&b.repo_path));
    files.dedup_by(|a, b| a.repo_path == b.repo_path);
    let sorted = |m: Mutex<Vec<IoProblem>>| {
        let mut v = m.into_inner().unwrap_or_else(|p| p.into_inner());
        v.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
        v.dedup();
        v
    };
    Walk {
        files,
        problems: sorted(scan.problems),
        skipped: sorted(scan.skipped),
    }
}

/// The second walk's filter: tracked files the first walk did not find.
struct Second<'a> {
    tracked: &'a git_index::Tracked,
    missing: &'a HashSet<&'a str>,
    seen: &'a HashSet<String>,
}

/// The directories the second walk enters: those holding a missing file, and sparse ones.
struct Enter {
    /// Every ancestor directory of a missing file or a sparse directory.
    dirs: HashSet<String>,
    sparse: Vec<String>,
}

impl Enter {
    fn enters(&self, dir: &str) -> bool {
        dir.is_empty()
            || self.dirs.contains(dir)
            || self.sparse.iter().any(|s| {
                dir.strip_prefix(s.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            })
    }
}

impl Second<'_> {
    fn takes(&self, file: &str) -> bool {
        !self.seen.contains(file) && (self.missing.contains(file) || self.tracked.contains(file))
    }
}

fn flux_defaults(root: &Path) -> Gitignore {
    let mut b = GitignoreBuilder::new(root);
    for p in FLUX_DEFAULT_EXCLUDES {
        // The patterns are constants this module knows to be valid.
        let _ = b.add_line(None, p);
    }
    b.build().unwrap_or_else(|_| Gitignore::empty())
}

impl Scan<'_> {
    fn run(
        &self,
        jobs: usize,
        git_ignore: bool,
        second: Option<(&Second<'_>, std::sync::Arc<Enter>)>,
    ) {
        let mut builder = WalkBuilder::new(self.root);
        builder
            .follow_links(false)
            .hidden(false)
            .parents(false)
            .ignore(false)
            .git_global(false)
            .git_exclude(false)
            .git_ignore(git_ignore)
            .require_git(false)
            .add_custom_ignore_filename(".sourceignore")
            .threads(jobs.clamp(1, 64));
        // The filter must own what it reads: the walker keeps it beyond this call's borrows.
        let root = self.root.to_path_buf();
        let defaults = self.flux_defaults.clone();
        let (second, enter) = match second {
            Some((s, e)) => (Some(s), Some(e)),
            None => (None, None),
        };
        builder.filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if e.depth() > 0 && defaults.matched(e.path(), is_dir).is_ignore() {
                return false;
            }
            match (&enter, is_dir) {
                (Some(enter), true) => enter.enters(&rel(&root, e.path())),
                _ => true,
            }
        });
        builder.build_parallel().run(|| {
            Box::new(move |entry| {
                match entry {
                    Ok(e) => self.visit(&e, second),
                    Err(err) => push(&self.problems, problem_from(self.root, &err)),
                }
                WalkState::Continue
            })
        });
    }

    fn visit(&self, entry: &DirEntry, second: Option<&Second<'_>>) {
        let path = entry.path();
        let Some(kind) = file_kind(path) else {
            return;
        };
        let Some(ft) = entry.file_type() else {
            return;
        };
        // The linter's own configuration is read by `config`, not linted.
        if path.file_name().is_some_and(|n| n == ".cnpg-lint.yaml") {
            return;
        }
        let repo_path = rel(self.root, path);
        if second.is_some_and(|s| !s.takes(&repo_path)) || self.exclude.is_match(&repo_path) {
            return;
        }
        let read_from = if ft.is_symlink() {
            match self.symlink_target(path) {
                Ok(Some(target)) => target,
                Ok(None) => return,
                Err(message) => {
                    push(
                        &self.skipped,
                        IoProblem {
                            path: repo_path,
                            message,
                        },
                    );
                    return;
                }
            }
        } else if ft.is_file() {
            path.to_path_buf()
        } else {
            // FIFOs, sockets and devices are never read: a FIFO would block the run.
            return;
        };
        push(
            &self.found,
            Found {
                path: read_from,
                repo_path,
                kind,
            },
        );
    }

    /// A symlinked file's target, when it is a regular file inside the repository; `Ok(None)`
    /// for a link to a directory (never followed) or one that cannot be followed (recorded as
    /// a problem); `Err` with the reason it is deliberately not read.
    fn symlink_target(&self, link: &Path) -> Result<Option<PathBuf>, String> {
        let target = match link.canonicalize() {
            Ok(t) => t,
            Err(e) => {
                // A loop or a dangling link breaks any build that reads it: a problem, not a note.
                push(
                    &self.problems,
                    IoProblem {
                        path: rel(self.root, link),
                        message: format!("cannot follow symlink: {e}"),
                    },
                );
                return Ok(None);
            }
        };
        if !target.starts_with(&self.canonical_root) {
            // The target is not named: it is a path on the machine running the linter.
            return Err("it is a symlink to a file outside the repository".into());
        }
        let meta = std::fs::metadata(&target).map_err(|e| format!("cannot follow symlink: {e}"))?;
        if meta.is_dir() {
            return Ok(None);
        }
        if !meta.is_file() {
            return Err("it is a symlink to something other than a regular file".into());
        }
        Ok(Some(target))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn push<T>(m: &Mutex<Vec<T>>, v: T) {
    lock(m).push(v);
}

fn rel(root: &Path, path: &Path) -> String {
    slash_path(path.strip_prefix(root).unwrap_or(path))
}

fn problem_from(root: &Path, err: &ignore::Error) -> IoProblem {
    let path = io_path(err).map(|p| rel(root, p)).unwrap_or_default();
    IoProblem {
        path,
        message: err.to_string(),
    }
}

fn io_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            io_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child),
        _ => None,
    }
}

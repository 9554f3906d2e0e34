//! Stage 1: find the files to lint. A parallel walk that honours `.gitignore`, `.ignore` and
//! Flux's `.sourceignore`, takes YAML and Terraform files, and never follows symlinked
//! directories (so a symlink loop cannot trap it). Symlinked files are read through the link.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use crate::source::slash_path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Yaml,
    Terraform,
}

#[derive(Debug, Clone)]
pub struct Found {
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
}

pub fn file_kind(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_string_lossy();
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "yaml" | "yml" => Some(FileKind::Yaml),
        "tf" => Some(FileKind::Terraform),
        _ => None,
    }
}

pub fn walk(root: &Path, jobs: usize, exclude: &globset::GlobSet) -> Walk {
    let found = Mutex::new(Vec::new());
    let problems = Mutex::new(Vec::new());
    let mut builder = WalkBuilder::new(root);
    builder
        .follow_links(false)
        .require_git(false)
        .add_custom_ignore_filename(".sourceignore")
        .threads(jobs.max(1));
    builder.build_parallel().run(|| {
        let found = &found;
        let problems = &problems;
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    push(problems, problem_from(root, &err));
                    return WalkState::Continue;
                }
            };
            let path = entry.path();
            let Some(kind) = file_kind(path) else {
                return WalkState::Continue;
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            let is_file = if ft.is_symlink() {
                match std::fs::metadata(path) {
                    Ok(m) => m.is_file(),
                    Err(e) => {
                        push(
                            problems,
                            IoProblem {
                                path: rel(root, path),
                                message: format!("cannot follow symlink: {e}"),
                            },
                        );
                        false
                    }
                }
            } else {
                ft.is_file()
            };
            if is_file && !exclude.is_match(rel(root, path)) {
                push(
                    found,
                    Found {
                        path: path.to_path_buf(),
                        repo_path: rel(root, path),
                        kind,
                    },
                );
            }
            WalkState::Continue
        })
    });
    let mut files = found.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort_by(|a, b| a.repo_path.cmp(&b.repo_path));
    let mut problems = problems.into_inner().unwrap_or_else(|p| p.into_inner());
    problems.sort_by(|a, b| (&a.path, &a.message).cmp(&(&b.path, &b.message)));
    Walk { files, problems }
}

fn push<T>(m: &Mutex<Vec<T>>, v: T) {
    m.lock().unwrap_or_else(|p| p.into_inner()).push(v);
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

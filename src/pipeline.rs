//! The whole run, stage by stage: discover, load, index, rules. The CLI and the tests both
//! call [`lint`]; reporters take its result.

use std::path::{Path, PathBuf};

use crate::diagnostics::Diagnostic;
use crate::discover::{self, IoProblem};
use crate::engine;
use crate::index::{Index, Role};
use crate::load;
use crate::report::Summary;
use crate::rules::RuleEntry;

pub struct LintOptions {
    /// The repository root: Flux paths are relative to it.
    pub root: PathBuf,
    /// Where paths are printed relative to.
    pub cwd: PathBuf,
    pub jobs: usize,
    pub max_file_bytes: u64,
}

pub struct LintResult {
    pub index: Index,
    pub diagnostics: Vec<Diagnostic>,
    pub internal_errors: Vec<String>,
    /// Files or directories that could not be read.
    pub problems: Vec<IoProblem>,
    pub summary: Summary,
}

pub fn lint(opts: &LintOptions, rules: &[&RuleEntry]) -> LintResult {
    let walk = discover::walk(&opts.root, opts.jobs);
    let loaded = load::load_all(&walk.files, opts.max_file_bytes);
    let mut index = Index::build(opts.root.clone(), loaded);
    let mut problems = walk.problems;
    problems.append(&mut index.problems);
    let run = engine::run(&index, rules, &opts.cwd);
    let summary = Summary {
        files: index.sources.len(),
        documents: index.document_count,
        objects: index.docs.iter().filter(|d| d.role == Role::Object).count(),
        ..Summary::default()
    };
    LintResult {
        index,
        diagnostics: run.diagnostics,
        internal_errors: run.internal_errors,
        problems,
        summary,
    }
}

/// The repository root for a linted path: the nearest directory up from it that holds `.git`
/// or a `.cnpg-lint.yaml`, else the path itself (or its directory, for a file).
pub fn find_root(path: &Path) -> PathBuf {
    let start = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    for dir in start.ancestors() {
        if dir.join(".git").exists() || dir.join(".cnpg-lint.yaml").exists() {
            return dir.to_path_buf();
        }
    }
    start.to_path_buf()
}

//! The whole run, stage by stage, in the order the README gives: discover, load, model,
//! render, index, schema, rules, diagnostics. The CLI and the tests both call [`lint`], and get
//! the same findings; reporters take its result.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::{Config, SeverityOverride};
use crate::diagnostics::settle::{self, Ask, Summary};
use crate::diagnostics::Diagnostic;
use crate::discover::{self, IoProblem};
use crate::index::Index;
use crate::load;
use crate::model::repo::Repository;
use crate::render;
use crate::rules::{self, RuleEntry};

pub struct LintOptions {
    /// The repository root: Flux paths are relative to it.
    pub root: PathBuf,
    /// Where paths are printed relative to.
    pub cwd: PathBuf,
    pub jobs: usize,
    pub max_file_bytes: u64,
    /// Keep only the metadata of rendered objects no rule reads further (workloads, services,
    /// RBAC): much less memory on large repositories. `cnpg-lint render` needs them whole.
    pub lean: bool,
    /// Repository paths findings are reported for; empty: the whole repository.
    pub scope: Vec<String>,
    /// Fingerprints a baseline records (see [`crate::diagnostics::baseline`]): findings that
    /// match are hidden and counted.
    pub baseline: Option<BTreeSet<String>>,
}

impl LintOptions {
    /// The whole repository at `root`, printed relative to it, on every core, lean.
    pub fn new(root: PathBuf) -> LintOptions {
        LintOptions {
            cwd: root.clone(),
            root,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_file_bytes: load::DEFAULT_MAX_FILE_BYTES,
            lean: true,
            scope: Vec::new(),
            baseline: None,
        }
    }
}

pub struct LintResult {
    pub index: Index,
    /// What the report shows: in scope, not in the baseline (suppressed ones kept, marked).
    pub diagnostics: Vec<Diagnostic>,
    /// In scope, but hidden by the baseline: with `diagnostics`, what a new baseline records.
    pub baselined: Vec<Diagnostic>,
    pub internal_errors: Vec<String>,
    /// Files or directories that could not be read.
    pub problems: Vec<IoProblem>,
    pub summary: Summary,
    pub timings: Timings,
    /// What the model of Flux had to assume or could not see (see [`Index::notes`]).
    pub notes: Vec<String>,
}

/// Wall time per pipeline stage, and the memory resident when it ended, for `--timings`.
#[derive(Debug, Default, Clone)]
pub struct Timings {
    pub stages: Vec<Stage>,
}

#[derive(Debug, Clone)]
pub struct Stage {
    pub name: &'static str,
    pub time: Duration,
    /// Resident set size in bytes when the stage ended, where the platform tells.
    pub rss: Option<u64>,
}

impl Timings {
    pub fn add(&mut self, name: &'static str, time: Duration) {
        self.stages.push(Stage {
            name,
            time,
            rss: resident_bytes(),
        });
    }

    /// One line per stage and a total: milliseconds, and megabytes resident after the stage.
    pub fn table(&self) -> String {
        let total: Duration = self.stages.iter().map(|s| s.time).sum();
        let mut out = String::new();
        let mut line = |name: &str, time: Duration, rss: Option<u64>| {
            let rss = rss.map_or(String::new(), |b| {
                format!(" {:>8.1} MB resident", b as f64 / 1e6)
            });
            out.push_str(&format!(
                "{name:<11} {:>9.1} ms{rss}\n",
                time.as_secs_f64() * 1000.0
            ));
        };
        for s in &self.stages {
            line(s.name, s.time, s.rss);
        }
        line("total", total, None);
        out
    }
}

/// The process's resident set size, from `/proc/self/status` (Linux only; elsewhere `None`).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Runs `rules` with `config`'s file filters, severities and options, then settles what they
/// found (see [`crate::diagnostics::settle`]): the result is what the user sees.
pub fn lint(opts: &LintOptions, config: &Config, rules: &[&RuleEntry]) -> LintResult {
    let rules: Vec<&RuleEntry> = rules
        .iter()
        .copied()
        .filter(|r| config.severity.get(r.meta.code) != Some(&SeverityOverride::Off))
        .collect();
    let mut timings = Timings::default();
    let mut clock = Instant::now();
    let mut lap = |timings: &mut Timings, stage: &'static str| {
        let now = Instant::now();
        timings.add(stage, now - clock);
        clock = now;
    };
    let walk = discover::walk(&opts.root, opts.jobs, &config.exclude_set());
    lap(&mut timings, "discover");
    let discover::Walk {
        files,
        problems: walk_problems,
        skipped,
    } = walk;
    let loaded = load::load_all(&files, opts.max_file_bytes, walk_problems, skipped);
    // The source map holds every path from here on; the walk's copies go before rendering.
    drop(files);
    lap(&mut timings, "load");
    let mut repo = Repository::from_loaded(opts.root.clone(), loaded);
    lap(&mut timings, "model");
    let rendered = render::stage::render(&mut repo, opts.lean, &config.sources);
    lap(&mut timings, "render");
    let mut index = Index::assemble(repo, rendered);
    lap(&mut timings, "index");
    let mut problems = incomplete(&mut index);
    let schema = if rules.iter().any(|r| r.meta.needs_schemas) {
        let (issues, mut failed) = crate::schema::check_all(&index);
        problems.append(&mut failed);
        issues
    } else {
        Vec::new()
    };
    lap(&mut timings, "schema");
    let results = rules::engine::run(&index, &schema, &config.options, &rules);
    lap(&mut timings, "rules");
    let ran: Vec<&str> = rules.iter().map(|r| r.meta.code).collect();
    let ask = Ask {
        scope: &opts.scope,
        baseline: opts.baseline.as_ref(),
        cwd: &opts.cwd,
    };
    let settled = settle::settle(&index, results, &ran, config, &ask);
    lap(&mut timings, "diagnostics");
    LintResult {
        notes: index.notes.clone(),
        index,
        diagnostics: settled.diagnostics,
        baselined: settled.baselined,
        internal_errors: settled.internal_errors,
        problems,
        summary: settled.summary,
        timings,
    }
}

/// What makes the run incomplete: files not read, budgets crossed, builds that failed inside
/// this tool. The first two are also findings (CNPG005, CNPG007).
fn incomplete(index: &mut Index) -> Vec<IoProblem> {
    let mut problems = index.problems.clone();
    problems.extend(index.limits.iter().map(|l| {
        IoProblem {
            path: index
                .sources
                .get(l.span.file)
                .map(|f| f.repo_path.clone())
                .unwrap_or_default(),
            message: l.message.clone(),
        }
    }));
    problems.append(&mut index.internal);
    // A budget crossed in a kustomization several builds include is one problem.
    let mut seen = std::collections::HashSet::new();
    problems.retain(|p| seen.insert((p.path.clone(), p.message.clone())));
    problems
}

/// The repository root for a linted path: the nearest directory up from it that holds `.git`,
/// or a `.cnpg-lint.yaml` with `root: true` (as `.editorconfig` does); else the path itself
/// (or its directory, for a file). Flux paths are relative to it.
pub fn find_root(path: &Path) -> PathBuf {
    let start = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(path)
    };
    for dir in start.ancestors() {
        if dir.join(".git").exists() || declares_root(&dir.join(crate::config::FILE_NAME)) {
            return dir.to_path_buf();
        }
    }
    start.to_path_buf()
}

/// Whether a configuration file says `root: true`. A broken file does not; the error is
/// reported when the configuration itself is loaded.
fn declares_root(path: &Path) -> bool {
    path.is_file() && Config::load(path).is_ok_and(|c| c.root)
}

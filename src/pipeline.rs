//! The whole run, stage by stage: discover, load, index, rules. The CLI and the tests both
//! call [`lint`]; reporters take its result.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::config::{Config, SeverityOverride};
use crate::diagnostics::Diagnostic;
use crate::discover::{self, IoProblem};
use crate::engine;
use crate::index::Index;
use crate::load;
use crate::report::Summary;
use crate::rules::cnpg900_unused_suppression as unused_suppression;
use crate::rules::RuleEntry;
use crate::suppress;

/// The rules that report what schema validation finds; validation runs when one of them does.
const SCHEMA_RULES: [&str; 3] = [
    crate::rules::cnpg002_schema_violation::META.code,
    crate::rules::cnpg003_unknown_field::META.code,
    crate::rules::cnpg004_removed_api_version::META.code,
];

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
}

pub struct LintResult {
    pub index: Index,
    pub diagnostics: Vec<Diagnostic>,
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
                "{name:<9} {:>9.1} ms{rss}\n",
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

/// Runs `rules` with `config`'s file filters, severities and options, then applies inline
/// suppressions (suppressed diagnostics are kept, marked).
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
    let mut index = Index::build(opts.root.clone(), loaded, opts.lean, &config.sources);
    lap(&mut timings, "index");
    // Rendering happens while the index is built; report it as its own stage.
    if let Some(last) = timings.stages.last_mut() {
        last.time = last.time.saturating_sub(index.render_time);
    }
    timings.add("render", index.render_time);
    // What makes the run incomplete: files not read, budgets crossed, builds that failed
    // inside this tool. The first two are also findings (CNPG005, CNPG007).
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
    if rules.iter().any(|r| SCHEMA_RULES.contains(&r.meta.code)) {
        let (issues, mut failed) = crate::schema::check_all(&index);
        index.schema = issues;
        problems.append(&mut failed);
    }
    lap(&mut timings, "schema");
    let mut run = engine::run(&index, config, &rules, &opts.cwd);
    let ran: Vec<&str> = rules.iter().map(|r| r.meta.code).collect();
    let unused = suppress::apply(&index, &mut run.diagnostics, &ran);
    if ran.contains(&unused_suppression::META.code) {
        let (mut extra, mut errors) =
            engine::resolve(&index, &unused_suppression::findings(unused), &opts.cwd);
        run.diagnostics.append(&mut extra);
        run.internal_errors.append(&mut errors);
    }
    apply_config(config, &mut run.diagnostics);
    engine::group_copies(&mut run.diagnostics);
    let summary = Summary {
        files: index.sources.len(),
        documents: index.document_count,
        objects: index.instances.len(),
        ..Summary::default()
    };
    lap(&mut timings, "rules");
    LintResult {
        notes: index.notes.clone(),
        index,
        diagnostics: run.diagnostics,
        internal_errors: run.internal_errors,
        problems,
        summary,
        timings,
    }
}

/// Per-file ignores drop findings; severity overrides change them.
fn apply_config(config: &Config, diagnostics: &mut Vec<Diagnostic>) {
    let per_file = config.per_file_ignore_sets();
    diagnostics.retain(|d| {
        !per_file
            .iter()
            .any(|(set, codes)| codes.contains(&d.code) && set.is_match(&d.at.repo_path))
    });
    for d in diagnostics.iter_mut() {
        if let Some(SeverityOverride::Set(s)) = config.severity.get(d.code) {
            d.severity = *s;
        }
    }
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

//! The command line: `check`, `rules` and `explain`. Exit codes: 0 clean, 1 findings at or
//! above `--fail-on`, 2 usage, configuration, I/O or internal errors.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::config::{self, Config};
use crate::diagnostics::baseline;
use crate::pipeline::{self, LintOptions};
use crate::report::{self, Format, Report, Style};
use crate::rules::Severity;
use crate::rules::{self, RuleEntry, RULES};
use crate::source::slash_path;

#[derive(Parser, Debug)]
#[command(
    name = "cnpg-lint",
    version,
    about = "Lint CloudNativePG and Flux GitOps repositories"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Lint a repository, directories or files.
    Check(CheckArgs),
    /// List every rule: code, name, default severity and summary.
    Rules,
    /// Print a rule's documentation.
    Explain {
        /// Rule code (CNPG101) or name (double-nested-destination-path).
        rule: String,
    },
    /// Print the objects a Flux Kustomization (by name, or namespace/name) or a kustomize
    /// directory renders to, as the linter sees them.
    Render(RenderArgs),
    /// Print a shell completion script.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    Man,
    /// Print a JSON Schema (`config`: the .cnpg-lint.yaml schema).
    #[command(hide = true)]
    Schema {
        #[arg(value_parser = ["config"])]
        which: String,
    },
}

#[derive(Parser, Debug)]
pub struct CheckArgs {
    /// Directories or files to lint. Files are linted in the context of their whole
    /// repository; only findings located in them are reported.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Only run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
    pub select: Vec<String>,
    /// Do not run these rules (codes or names, comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "RULE,...")]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the exit status 1 [default: warning, or the configuration's].
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Repository root (default: the nearest parent with .git or .cnpg-lint.yaml).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Files larger than this many bytes are not read.
    #[arg(long, default_value_t = crate::load::DEFAULT_MAX_FILE_BYTES, value_name = "BYTES")]
    pub max_file_size: u64,
    /// Configuration file [default: the nearest .cnpg-lint.yaml up to the repository root].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Hide the findings recorded in this baseline file; report only new ones.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Print each pipeline stage's time (and, on Linux, the memory resident after it) to
    /// standard error.
    #[arg(long)]
    pub timings: bool,
}

#[derive(Parser, Debug)]
pub struct RenderArgs {
    /// A Flux Kustomization's name (or namespace/name), or a kustomize directory.
    pub target: String,
    /// Annotate each value with the file, line and column it came from.
    #[arg(long)]
    pub show_origins: bool,
    /// Repository root (default: the nearest parent with .git, or .cnpg-lint.yaml with root: true).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

impl FailOn {
    fn severity(self) -> Severity {
        match self {
            FailOn::Error => Severity::Error,
            FailOn::Warning => Severity::Warning,
            FailOn::Info => Severity::Info,
        }
    }
}

/// The most worker threads `--jobs` gives (or the number of cores, when there are more).
const MAX_JOBS: usize = 64;

/// The command line, with its last line of defence: stages catch panics per file, per build and
/// per rule, naming what they were working on; whatever escapes still ends as a located exit 2,
/// not a crash.
pub fn run() -> ExitCode {
    match std::panic::catch_unwind(main) {
        Ok(code) => code,
        Err(panic) => {
            eprintln!(
                "error: internal error: {}; please report this",
                crate::guard::panic_message(panic.as_ref())
            );
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Rules => {
            print!("{}", rules_table());
            ExitCode::SUCCESS
        }
        Command::Explain { rule } => match rules::find(&rule) {
            Some(r) => {
                print!("{}", r.page());
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: no rule named `{rule}`; `cnpg-lint rules` lists them");
                ExitCode::from(2)
            }
        },
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "cnpg-lint", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man => {
            let man = clap_mangen::Man::new(Cli::command());
            match man.render(&mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Schema { .. } => {
            let text = serde_json::to_string_pretty(&config::schema()).unwrap_or_default();
            println!("{text}");
            ExitCode::SUCCESS
        }
        Command::Render(args) => match render(&args) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
        Command::Check(args) => match check(&args) {
            Ok(code) => ExitCode::from(code),
            Err(message) => {
                eprintln!("error: {message}");
                ExitCode::from(2)
            }
        },
    }
}

/// The `rules` table, as printed (and as kept in the README).
pub fn rules_table() -> String {
    let mut out =
        String::from("| Code | Name | Severity | Default | Summary |\n|---|---|---|---|---|\n");
    for r in RULES {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.meta.code,
            r.meta.name,
            r.meta.severity,
            if r.meta.on_by_default { "on" } else { "off" },
            r.meta.summary
        ));
    }
    out
}

fn selected_rules(select: &[String], ignore: &[String]) -> Result<Vec<&'static RuleEntry>, String> {
    for name in select.iter().chain(ignore) {
        if rules::find(name).is_none() {
            return Err(format!(
                "unknown rule `{name}`; `cnpg-lint rules` lists them"
            ));
        }
    }
    Ok(RULES
        .iter()
        .filter(|r| {
            let hit = |list: &[String]| {
                list.iter()
                    .any(|n| rules::find(n).is_some_and(|f| f.meta.code == r.meta.code))
            };
            // Rules off by default run only when selected by name.
            let selected = if select.is_empty() {
                r.meta.on_by_default
            } else {
                hit(select)
            };
            selected && !hit(ignore)
        })
        .collect())
}

fn check(args: &CheckArgs) -> Result<u8, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let mut targets = Vec::new();
    for p in &args.paths {
        let canon = cwd
            .join(p)
            .canonicalize()
            .map_err(|e| format!("{}: {e}", p.display()))?;
        targets.push(canon);
    }
    let first = targets.first().cloned().unwrap_or_else(|| cwd.clone());
    let root = match &args.root {
        Some(r) => cwd
            .join(r)
            .canonicalize()
            .map_err(|e| format!("{}: {e}", r.display()))?,
        None => pipeline::find_root(&first),
    };
    let config_path = match &args.config {
        Some(c) => Some(cwd.join(c)),
        None => config::find(&first, &root),
    };
    let config = match &config_path {
        Some(p) => Config::load(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    // Command-line selections replace the configuration's.
    let select = if args.select.is_empty() {
        config.select.iter().map(|s| s.to_string()).collect()
    } else {
        args.select.clone()
    };
    let ignore = if args.ignore.is_empty() {
        config.ignore.iter().map(|s| s.to_string()).collect()
    } else {
        args.ignore.clone()
    };
    let rules = selected_rules(&select, &ignore)?;
    if let (Some(read), Some(write)) = (&args.baseline, &args.write_baseline) {
        if same_file(&cwd.join(read), &cwd.join(write)) {
            return Err(format!(
                "--baseline and --write-baseline name the same file ({}): the run would \
                 overwrite the baseline it filters with; give one of them",
                read.display()
            ));
        }
    }
    // Findings are reported for the given paths only; the rest of the repository is context.
    let mut scope = Vec::new();
    for t in &targets {
        let rel = t.strip_prefix(&root).map_err(|_| {
            format!(
                "{} is outside the repository root {}",
                t.display(),
                root.display()
            )
        })?;
        scope.push(slash_path(rel));
    }
    // More threads than cores only adds stacks and contention; `--jobs 100000` must not
    // spend a minute starting threads.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.jobs.unwrap_or(cores).clamp(1, MAX_JOBS.max(cores));
    // The global pool can only be built once per process; a second build is harmless.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build_global();
    let baseline = match &args.baseline {
        Some(path) => Some(baseline::read(&cwd.join(path))?),
        None => None,
    };
    let opts = LintOptions {
        root: root.clone(),
        cwd: cwd.clone(),
        jobs,
        max_file_bytes: args.max_file_size,
        lean: true,
        scope,
        baseline,
    };
    let result = pipeline::lint(&opts, &config, &rules);
    if let Some(path) = &args.write_baseline {
        // What the run finds in scope, whether an older baseline hides it or not.
        let all: Vec<_> = result
            .diagnostics
            .iter()
            .chain(&result.baselined)
            .cloned()
            .collect();
        baseline::write(&cwd.join(path), &all)?;
    }
    let mut notes: Vec<String> = result
        .problems
        .iter()
        .map(|p| format!("{}: {}", display(&root, &cwd, &p.path), p.message))
        .collect();
    notes.extend(result.internal_errors.iter().cloned());
    let report = Report {
        diagnostics: &result.diagnostics,
        summary: &result.summary,
        sources: &result.index.sources,
        root: &root,
        notes: &notes,
        model_notes: &result.notes,
    };
    let report_start = std::time::Instant::now();
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width: 100,
    };
    match &args.output {
        Some(path) => {
            let mut buf = Vec::new();
            report::write(args.format, &report, &style, &mut buf)
                .and_then(|()| crate::fsio::write_replacing(&cwd.join(path), &buf))
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            report::write(args.format, &report, &style, &mut lock)
                .and_then(|()| lock.flush())
                .map_err(|e| format!("cannot write the report: {e}"))?
        }
    }
    if args.timings {
        let mut t = result.timings.clone();
        t.add("report", report_start.elapsed());
        eprint!("{}", t.table());
    }
    // With CNPG005 and CNPG007 run, files not read and budgets crossed are findings, which the
    // human output on a terminal shows in full already; elsewhere (a report in a file, JSON for
    // a tool) standard error names them too, for the log.
    let as_findings = ["CNPG005", "CNPG007"]
        .iter()
        .all(|c| rules.iter().any(|r| r.meta.code == *c));
    let shown = as_findings && args.format == Format::Human && args.output.is_none();
    if shown && !result.problems.is_empty() {
        eprintln!(
            "error: the run is incomplete: {} (reported above as CNPG005 and CNPG007)",
            plural(
                result.problems.len(),
                "file not read or budget crossed",
                "files not read or budgets crossed"
            )
        );
    }
    // JSON, SARIF and GitHub output carry the model's notes; the others get them here.
    if matches!(args.format, Format::Human | Format::Concise) {
        for n in &result.notes {
            eprintln!("note: {}", report::inert(n));
        }
    }
    let skip = if shown { result.problems.len() } else { 0 };
    for n in notes.iter().skip(skip) {
        eprintln!("error: {}", report::inert(n));
    }
    if !notes.is_empty() {
        return Ok(2);
    }
    let threshold = args
        .fail_on
        .map(FailOn::severity)
        .or(config.fail_on)
        .unwrap_or(Severity::Warning);
    let failing = report.visible().any(|d| d.severity >= threshold);
    // Freeing every tree of a large repository takes a noticeable share of the run; the process
    // is about to exit, and the operating system reclaims it all at once.
    std::mem::forget(result);
    Ok(u8::from(failing))
}

fn render(args: &RenderArgs) -> Result<u8, String> {
    use crate::render::emit::Emitter;
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let as_path = cwd.join(&args.target);
    let start = if as_path.exists() {
        as_path.clone()
    } else {
        cwd.clone()
    };
    let root = match &args.root {
        Some(r) => cwd
            .join(r)
            .canonicalize()
            .map_err(|e| format!("{}: {e}", r.display()))?,
        None => pipeline::find_root(&start.canonicalize().unwrap_or(start.clone())),
    };
    let opts = LintOptions {
        cwd: cwd.clone(),
        lean: false,
        ..LintOptions::new(root.clone())
    };
    let result = pipeline::lint(&opts, &Config::default(), &[]);
    let index = &result.index;
    let path_of = |f: u32| {
        index
            .sources
            .get(f)
            .map(|s| display(&root, &cwd, &s.repo_path))
            .unwrap_or_default()
    };
    let emitter = Emitter {
        origins: args
            .show_origins
            .then_some((&index.sources, &path_of as &dyn Fn(u32) -> String)),
    };
    let (objects, problems): (Vec<crate::yaml::Node>, Vec<crate::render::Problem>) =
        if as_path.is_dir() {
            let canon = as_path
                .canonicalize()
                .map_err(|e| format!("{}: {e}", args.target))?;
            let rel = canon.strip_prefix(&root).map(slash_path).map_err(|_| {
                format!(
                    "{} is outside the repository root {}",
                    args.target,
                    root.display()
                )
            })?;
            index.render_directory(&rel)
        } else {
            let (ns, name) = match args.target.split_once('/') {
                Some((ns, name)) => (Some(ns), name),
                None => (None, args.target.as_str()),
            };
            let build = index.builds.iter().find(|b| {
                index
                    .doc(b.ks)
                    .and_then(|d| d.header.as_ref())
                    .is_some_and(|h| {
                        h.name.as_ref().and_then(|n| n.known()) == Some(name)
                            && ns.is_none_or(|ns| {
                                h.namespace.as_ref().and_then(|n| n.known()) == Some(ns)
                            })
                    })
            });
            let Some(build) = build else {
                return Err(format!(
                    "no Flux Kustomization or directory named `{}`",
                    args.target
                ));
            };
            let objects = build
                .objects
                .iter()
                .filter_map(|&d| index.doc(d).map(|doc| doc.root.clone()))
                .collect();
            (objects, build.problems.clone())
        };
    let mut out = String::new();
    let mut truncated = false;
    for o in &objects {
        let room = crate::render::emit::MAX_OUTPUT.saturating_sub(out.len());
        match emitter.document_within(o, room) {
            Some(doc) => {
                out.push_str("---\n");
                out.push_str(&doc);
            }
            None => {
                truncated = true;
                break;
            }
        }
    }
    print!("{out}");
    for p in &problems {
        let at = index
            .sources
            .get(p.span.file)
            .map(|f| {
                format!(
                    "{}:{}",
                    display(&root, &cwd, &f.repo_path),
                    f.line_col(p.span.start).line
                )
            })
            .unwrap_or_default();
        eprintln!(
            "note: {}: {}",
            report::inert(&at),
            report::inert(&p.message)
        );
    }
    if truncated {
        return Err(format!(
            "the rendered objects take more than {} bytes (budget: render output); the rest is \
             not printed",
            crate::render::emit::MAX_OUTPUT
        ));
    }
    Ok(0)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Whether two paths name one file: the same path, or (for existing files) the same file.
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn display(root: &Path, cwd: &Path, repo_path: &str) -> String {
    crate::diagnostics::resolve::display_path(root, repo_path, cwd)
}

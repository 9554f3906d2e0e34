//! The command line: `check`, `rules` and `explain`. Exit codes: 0 clean, 1 findings at or
//! above `--fail-on`, 2 usage, configuration, I/O or internal errors.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diagnostics::Severity;
use crate::index::paths;
use crate::pipeline::{self, LintOptions};
use crate::report::{self, Format, Report, Style};
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
    /// Lowest severity that makes the exit status 1.
    #[arg(long, value_enum, default_value_t = FailOn::Warning)]
    pub fail_on: FailOn,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Repository root (default: the nearest parent with .git or .cnpg-lint.yaml).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Files larger than this many bytes are not read.
    #[arg(long, default_value_t = crate::load::DEFAULT_MAX_FILE_BYTES, value_name = "BYTES")]
    pub max_file_size: u64,
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

pub fn main() -> ExitCode {
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
                print!("{}", strip_front_matter(r.doc));
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("error: no rule named `{rule}`; `cnpg-lint rules` lists them");
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
    let mut out = String::from("| Code | Name | Severity | Summary |\n|---|---|---|---|\n");
    for r in RULES {
        out.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            r.meta.code, r.meta.name, r.meta.severity, r.meta.summary
        ));
    }
    out
}

pub fn strip_front_matter(doc: &str) -> &str {
    doc.strip_prefix("---\n")
        .and_then(|rest| rest.split_once("\n---\n"))
        .map_or(doc, |(_, body)| body.trim_start_matches('\n'))
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
            (select.is_empty() || hit(select)) && !hit(ignore)
        })
        .collect())
}

fn check(args: &CheckArgs) -> Result<u8, String> {
    let rules = selected_rules(&args.select, &args.ignore)?;
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    let mut targets = Vec::new();
    for p in &args.paths {
        let abs = cwd.join(p);
        let canon = abs
            .canonicalize()
            .map_err(|e| format!("{}: {e}", p.display()))?;
        targets.push(canon);
    }
    let root = match &args.root {
        Some(r) => cwd
            .join(r)
            .canonicalize()
            .map_err(|e| format!("{}: {e}", r.display()))?,
        None => pipeline::find_root(targets.first().map(PathBuf::as_path).unwrap_or(&cwd)),
    };
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
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    // The global pool can only be built once per process; a second build is harmless.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build_global();
    let opts = LintOptions {
        root: root.clone(),
        cwd: cwd.clone(),
        jobs,
        max_file_bytes: args.max_file_size,
    };
    let mut result = pipeline::lint(&opts, &rules);
    let index = &result.index;
    result.diagnostics.retain(|d| {
        index
            .sources
            .get(d.at.span.file)
            .is_some_and(|f| scope.iter().any(|s| paths::is_within(&f.repo_path, s)))
    });
    result.summary.count(&result.diagnostics);
    let report = Report {
        diagnostics: &result.diagnostics,
        summary: &result.summary,
        sources: &result.index.sources,
    };
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width: 100,
    };
    let write_result = match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|mut f| {
                report::write(args.format, &report, &style, &mut f)?;
                f.flush()
            })
            .map_err(|e| format!("cannot write {}: {e}", path.display())),
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            report::write(args.format, &report, &style, &mut lock)
                .and_then(|()| lock.flush())
                .map_err(|e| format!("cannot write the report: {e}"))
        }
    };
    write_result?;
    for p in &result.problems {
        let shown = if p.path.is_empty() {
            display(&root, &cwd, "")
        } else {
            display(&root, &cwd, &p.path)
        };
        eprintln!("error: {shown}: {}", p.message);
    }
    for e in &result.internal_errors {
        eprintln!("error: {e}");
    }
    if !result.problems.is_empty() || !result.internal_errors.is_empty() {
        return Ok(2);
    }
    let threshold = args.fail_on.severity();
    let failing = result.diagnostics.iter().any(|d| d.severity >= threshold);
    Ok(u8::from(failing))
}

fn display(root: &Path, cwd: &Path, repo_path: &str) -> String {
    crate::engine::display_path(root, repo_path, cwd)
}

//! Stage 7: reporters, one module per output format. Nothing outside this module knows about
//! formats; each reporter takes the finished [`Report`] and writes it.

pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use std::io::{self, Write};

use crate::diagnostics::{Diagnostic, Severity};
use crate::source::SourceMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Hidden by inline suppressions (kept, marked, in SARIF).
    pub suppressed: usize,
    /// Hidden because the baseline records them.
    pub baselined: usize,
    /// Baseline entries that no longer match a finding.
    pub stale_baseline: usize,
}

impl Summary {
    /// Counts what is shown, by severity, and what is suppressed.
    pub fn count(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            if d.suppression.is_some() {
                self.suppressed += 1;
                continue;
            }
            match d.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
        }
    }
}

/// Everything a reporter prints. `diagnostics` includes suppressed ones, which only SARIF
/// shows.
pub struct Report<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub summary: &'a Summary,
    pub sources: &'a SourceMap,
    /// The repository root, for SARIF's `%SRCROOT%`.
    pub root: &'a std::path::Path,
    /// Problems that made the run incomplete (unreadable files, internal errors).
    pub notes: &'a [String],
}

impl Report<'_> {
    pub fn visible(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.suppression.is_none())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Concise,
    Json,
    Sarif,
    Github,
}

pub struct Style {
    pub color: bool,
    pub width: usize,
}

pub fn write(
    format: Format,
    report: &Report<'_>,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::write(report, style, out),
        Format::Concise => concise::write(report, out),
        Format::Json => json::write(report, out),
        Format::Sarif => sarif::write(report, out),
        Format::Github => github::write(report, out),
    }
}

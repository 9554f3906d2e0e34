//! Stage 7: reporters, one module per output format. Nothing outside this module knows about
//! formats; each reporter takes the finished [`Report`] and writes it.

pub mod concise;
pub mod human;
pub mod json;

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
}

impl Summary {
    pub fn count(&mut self, diagnostics: &[Diagnostic]) {
        for d in diagnostics {
            match d.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
                Severity::Info => self.infos += 1,
            }
        }
    }
}

/// Everything a reporter prints.
pub struct Report<'a> {
    pub diagnostics: &'a [Diagnostic],
    pub summary: &'a Summary,
    pub sources: &'a SourceMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Concise,
    Json,
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
    }
}

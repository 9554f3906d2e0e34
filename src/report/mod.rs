//! Stage 9, report: reporters, one module per output format. Nothing outside this module knows about
//! formats; each reporter takes the finished [`Report`] and writes it.

pub mod concise;
pub mod github;
pub mod human;
pub mod json;
pub mod sarif;

use std::io::{self, Write};

use crate::diagnostics::settle::Summary;
use crate::diagnostics::Diagnostic;
pub use crate::escape::inert;
use crate::escape::needs_escape;
use crate::source::SourceMap;

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
    /// What the model of Flux had to assume or could not see (nothing renders, a path that is
    /// a placeholder, objects nothing deploys): JSON `notes`, SARIF notifications, GitHub
    /// notices; the CLI prints them on standard error for the other formats.
    pub model_notes: &'a [String],
}

impl Report<'_> {
    pub fn visible(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.suppression.is_none())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inert_escapes_what_changes_layout() {
        assert_eq!(inert("plain name-1"), "plain name-1");
        assert_eq!(inert("a\n::error x"), "a\\n::error x");
        assert_eq!(inert("\u{1b}[31mred\r"), "\\u{1b}[31mred\\r");
        assert_eq!(inert("x\u{202e}y\u{85}"), "x\\u{202e}y\\u{85}");
        assert_eq!(inert("é ü 日本"), "é ü 日本");
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

/// Pretty JSON in which the characters [`inert`] escapes are `\u` escapes too: serde escapes
/// the ASCII controls, not C1 controls or bidirectional overrides, which a viewer of the file
/// (or of code scanning's alerts) would act on.
pub fn write_json(out: &mut dyn Write, value: &impl serde::Serialize) -> io::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    if !text.chars().any(needs_escape_in_json) {
        return out.write_all(text.as_bytes());
    }
    let mut clean = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape_in_json(c) {
            clean.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            clean.push(c);
        }
    }
    out.write_all(clean.as_bytes())
}

/// What serde leaves raw that [`needs_escape`] escapes (all in the Basic Multilingual Plane, so
/// one `\uXXXX` each). Line breaks between JSON tokens are the writer's own.
fn needs_escape_in_json(c: char) -> bool {
    !c.is_ascii() && needs_escape(c)
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

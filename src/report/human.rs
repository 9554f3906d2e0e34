//! The default output: miette's graphical snippets. miette's own `SourceCode` for strings scans
//! from the start of the file for every snippet (milliseconds per finding on large files), so
//! sources are served from the line index instead.

use std::fmt;
use std::io::{self, Write};

use miette::{
    Diagnostic as MietteDiagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan,
    MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use std::collections::HashMap;

use super::{inert, needs_escape, Report, Style};
use crate::diagnostics::Diagnostic;
use crate::rules::Severity;
use crate::source::{FileId, SourceFile, Span};

pub fn write(report: &Report<'_>, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let clean = inert_sources(report);
    for d in report.visible() {
        let shown = Shown::from_diagnostic(report, d, &clean);
        let mut text = String::new();
        handler
            .render_report(&mut text, &shown)
            .map_err(|_| io::Error::other("failed to render a diagnostic"))?;
        out.write_all(text.as_bytes())?;
    }
    let s = report.summary;
    let total = s.errors + s.warnings + s.infos;
    if total == 0 {
        writeln!(
            out,
            "No problems found in {} ({}, {}).{}",
            plural(s.files, "file"),
            plural(s.documents, "document"),
            plural(s.objects, "object"),
            hidden(s)
        )
    } else {
        writeln!(
            out,
            "Found {} ({}, {}, {}) in {} ({}, {}).",
            plural(total, "problem"),
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.infos, "info"),
            plural(s.files, "file"),
            plural(s.documents, "document"),
            plural(s.objects, "object")
        )?;
        let h = hidden(s);
        if h.is_empty() {
            Ok(())
        } else {
            writeln!(out, "{}", h.trim_start())
        }
    }
}

/// "3 suppressed, 2 in the baseline (1 stale baseline entry)", or nothing.
fn hidden(s: &super::Summary) -> String {
    let mut parts = Vec::new();
    if s.suppressed > 0 {
        parts.push(format!("{} suppressed", s.suppressed));
    }
    if s.baselined > 0 {
        parts.push(format!("{} in the baseline", s.baselined));
    }
    if s.stale_baseline > 0 {
        parts.push(plural(s.stale_baseline, "stale baseline entry").replace("entrys", "entries"));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(" Not shown: {}.", parts.join(", "))
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Same-length copies of the shown files that hold control characters: snippets print file
/// text, and a raw escape sequence in it would reach the terminal. Each such character becomes
/// `?` (one per byte, so every span still fits), and a lone CR a line feed, since YAML reads it
/// as a line break and the terminal would overwrite the line with it.
fn inert_sources(report: &Report<'_>) -> HashMap<FileId, String> {
    let mut out = HashMap::new();
    for d in report.visible() {
        for span in std::iter::once(d.at.span).chain(d.related.iter().map(|r| r.at.span)) {
            if out.contains_key(&span.file) {
                continue;
            }
            let Some(file) = report.sources.get(span.file) else {
                continue;
            };
            let text = &file.text;
            let bytes = text.as_bytes();
            let lone_cr = |i: usize| bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n');
            let dirty = text.char_indices().any(|(i, c)| {
                (needs_escape(c) && !matches!(c, '\n' | '\t' | '\r')) || (c == '\r' && lone_cr(i))
            });
            if !dirty {
                continue;
            }
            let mut clean = String::with_capacity(text.len());
            for (i, c) in text.char_indices() {
                match c {
                    '\r' if lone_cr(i) => clean.push('\n'),
                    '\n' | '\t' | '\r' => clean.push(c),
                    c if needs_escape(c) => clean.extend(std::iter::repeat_n('?', c.len_utf8())),
                    c => clean.push(c),
                }
            }
            out.insert(span.file, clean);
        }
    }
    out
}

/// One file's text served from its line index.
struct Src<'a> {
    file: &'a SourceFile,
    /// The text shown: the file's, or its inert copy (same length, same lines).
    text: &'a str,
    name: String,
}

impl SourceCode for Src<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let text = self.text.as_bytes();
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first_line = self.file.line_col(start as u32).line;
        let last_line = self
            .file
            .line_col(end.saturating_sub(1).max(start) as u32)
            .line;
        let from_line = first_line.saturating_sub(before as u32).max(1);
        let to_line = (last_line + after as u32).min(self.file.line_count() as u32);
        let from = self.file.line_start(from_line).unwrap_or(0);
        let to = self
            .file
            .line_start(to_line + 1)
            .unwrap_or(text.len())
            .min(text.len());
        let data = text.get(from..to).ok_or(MietteError::OutOfBounds)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            (from, to - from).into(),
            (from_line - 1) as usize,
            // Without context miette uses this for the `path:line:col` header.
            if before == 0 {
                (self.file.line_col(start as u32).column - 1) as usize
            } else {
                0
            },
            to_line as usize,
        )))
    }
}

/// A diagnostic in miette's terms: the primary file's snippet with every related location in
/// the same file as an extra label, and related locations in other files as related reports.
struct Shown<'a> {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    src: Option<Src<'a>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Shown<'a>>,
}

impl<'a> Shown<'a> {
    /// Every text from the repository (messages name objects, paths are file names) is shown
    /// through [`inert`].
    fn from_diagnostic(
        report: &Report<'a>,
        d: &Diagnostic,
        clean: &'a HashMap<FileId, String>,
    ) -> Shown<'a> {
        let primary_label = match &d.via {
            Some(ks) => format!("applied by Flux Kustomization {}", inert(ks)),
            None => "here".to_string(),
        };
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(primary_label),
            source_span(d.at.span),
        )];
        let mut related = Vec::new();
        for r in &d.related {
            if r.at.span.file == d.at.span.file {
                labels.push(LabeledSpan::new_with_span(
                    Some(inert(&r.message).into_owned()),
                    source_span(r.at.span),
                ));
            } else {
                related.push(Shown {
                    message: inert(&r.message).into_owned(),
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    help: None,
                    src: src(report, r.at.span, &r.at.path, clean),
                    labels: vec![LabeledSpan::new_primary_with_span(
                        None,
                        source_span(r.at.span),
                    )],
                    related: Vec::new(),
                });
            }
        }
        Shown {
            message: inert(&d.message).into_owned(),
            code: format!("{} {}", d.code, d.name),
            severity: match d.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
                Severity::Info => miette::Severity::Advice,
            },
            help: d.help.as_deref().map(|h| inert(h).into_owned()),
            src: src(report, d.at.span, &d.at.path, clean),
            labels,
            related,
        }
    }
}

fn src<'a>(
    report: &Report<'a>,
    span: Span,
    path: &str,
    clean: &'a HashMap<FileId, String>,
) -> Option<Src<'a>> {
    let file = report.sources.get(span.file)?;
    Some(Src {
        file,
        text: clean
            .get(&span.file)
            .map_or(file.text.as_str(), String::as_str),
        name: inert(path).into_owned(),
    })
}

fn source_span(span: Span) -> SourceSpan {
    (span.start as usize, (span.end - span.start) as usize).into()
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl MietteDiagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.src.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn MietteDiagnostic> + 'b>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn MietteDiagnostic),
            ))
        }
    }
}

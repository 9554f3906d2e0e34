//! Inline suppressions: `# cnpg-lint: disable=CODE[,CODE] -- reason` on the finding's line or
//! the line above, `# cnpg-lint: disable-file=CODE -- reason` anywhere in a file, and the
//! object annotation `cnpg-lint.io/ignore: "CODE,CODE"`. Each code of each directive must
//! suppress something; one that does not is itself reported (CNPG900), as is an unknown code.

use std::collections::HashMap;

use crate::diagnostics::{Diagnostic, Suppression, SuppressionOrigin};
use crate::index::Index;
use crate::model::value::text;
use crate::model::DocId;
use crate::model::Val;
use crate::rules;
use crate::rules::cnpg900_unused_suppression::Unused;
use crate::rules::Loc;
use crate::source::{FileId, Span};

pub const ANNOTATION: &str = "cnpg-lint.io/ignore";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// Findings whose primary location starts on this 1-based line.
    Line(u32),
    File,
    /// Findings about an object, or located in its document.
    Object(DocId),
}

#[derive(Debug)]
struct Directive {
    file: FileId,
    scope: Scope,
    /// Where the directive is written, for CNPG900.
    span: Span,
    /// Codes as written, resolved where known.
    codes: Vec<(String, Option<&'static str>)>,
    reason: Option<String>,
    origin: SuppressionOrigin,
    used: Vec<bool>,
}

/// Parses `disable=A,B -- reason` (after the `cnpg-lint:` prefix).
fn parse_comment(text: &str) -> Option<(bool, Vec<String>, Option<String>)> {
    let rest = text.trim().strip_prefix("cnpg-lint:")?.trim();
    let (body, reason) = match rest.split_once("--") {
        Some((b, r)) => (
            b.trim(),
            Some(r.trim().to_string()).filter(|r| !r.is_empty()),
        ),
        None => (rest, None),
    };
    let (file_wide, codes) = if let Some(c) = body.strip_prefix("disable-file=") {
        (true, c)
    } else {
        (false, body.strip_prefix("disable=")?)
    };
    let codes = codes
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    Some((file_wide, codes, reason))
}

fn split_codes(value: &str) -> (Vec<String>, Option<String>) {
    let (body, reason) = match value.split_once("--") {
        Some((b, r)) => (b, Some(r.trim().to_string()).filter(|r| !r.is_empty())),
        None => (value, None),
    };
    let codes = body
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    (codes, reason)
}

fn directives(index: &Index) -> Vec<Directive> {
    let mut out = Vec::new();
    for (fid, comments) in index.comments.iter().enumerate() {
        let fid = fid as FileId;
        let Some(source) = index.sources.get(fid) else {
            continue;
        };
        for c in comments {
            let Some((file_wide, codes, reason)) = parse_comment(&c.text) else {
                continue;
            };
            let at = source.line_col(c.span.start);
            let line_text = source.line_text(at.line);
            let before = line_text
                .char_indices()
                .nth((at.column - 1) as usize)
                .map_or(line_text, |(i, _)| &line_text[..i]);
            // A comment alone on its line covers the next line; after code, its own line.
            let scope = if file_wide {
                Scope::File
            } else if before.trim().is_empty() {
                Scope::Line(at.line + 1)
            } else {
                Scope::Line(at.line)
            };
            out.push(directive(
                fid,
                scope,
                c.span,
                codes,
                reason,
                SuppressionOrigin::Comment,
            ));
        }
    }
    // Annotations count on the objects that are linted: rendered objects, and source
    // documents no Kustomization applies (a rendered object's source carries it too).
    let mut instance_docs: Vec<DocId> = index.instances.iter().map(|i| i.doc).collect();
    instance_docs.sort_unstable();
    instance_docs.dedup();
    for i in instance_docs {
        let Some(doc) = index.doc(i) else { continue };
        let Some(node) = doc.root.at(&["metadata", "annotations", ANNOTATION]) else {
            continue;
        };
        let Some(Val::Known(value)) = text(node) else {
            continue;
        };
        let (codes, reason) = split_codes(value);
        out.push(directive(
            node.span.file,
            Scope::Object(i),
            node.span,
            codes,
            reason,
            SuppressionOrigin::Annotation,
        ));
    }
    out
}

fn directive(
    file: FileId,
    scope: Scope,
    span: Span,
    codes: Vec<String>,
    reason: Option<String>,
    origin: SuppressionOrigin,
) -> Directive {
    let codes: Vec<(String, Option<&'static str>)> = codes
        .into_iter()
        .map(|c| {
            let code = rules::find(&c).map(|r| r.meta.code);
            (c, code)
        })
        .collect();
    let used = vec![false; codes.len()];
    Directive {
        file,
        scope,
        span,
        codes,
        reason,
        origin,
        used,
    }
}

fn matches(index: &Index, d: &Directive, diag: &Diagnostic) -> bool {
    match d.scope {
        Scope::Line(line) => diag.at.span.file == d.file && diag.at.start.line == line,
        Scope::File => diag.at.span.file == d.file,
        Scope::Object(doc) => {
            diag.inst
                .and_then(|i| index.instance(i))
                .is_some_and(|i| i.doc == doc)
                || index.doc(doc).is_some_and(|x| {
                    x.root.span.file == diag.at.span.file
                        && x.root.span.start <= diag.at.span.start
                        && diag.at.span.end <= x.root.span.end
                })
        }
    }
}

/// Where each directive can apply, so that a diagnostic is compared with the few directives of
/// its line, its file and its object rather than with every directive of the repository.
#[derive(Default)]
struct Lookup {
    lines: HashMap<(FileId, u32), Vec<usize>>,
    files: HashMap<FileId, Vec<usize>>,
    objects: HashMap<DocId, Vec<usize>>,
    /// Object directives by the file their document is written in.
    enclosing: HashMap<FileId, Enclosing>,
}

/// Documents of one file that carry object directives, to find those that enclose a span.
#[derive(Default)]
struct Enclosing {
    /// (start, end, directive), sorted.
    spans: Vec<(u32, u32, usize)>,
    /// The largest end among `spans[..=i]`.
    max_end: Vec<u32>,
}

impl Lookup {
    fn new(index: &Index, dirs: &[Directive]) -> Lookup {
        let mut l = Lookup::default();
        for (i, d) in dirs.iter().enumerate() {
            match d.scope {
                Scope::Line(line) => l.lines.entry((d.file, line)).or_default().push(i),
                Scope::File => l.files.entry(d.file).or_default().push(i),
                Scope::Object(doc) => {
                    l.objects.entry(doc).or_default().push(i);
                    if let Some(x) = index.doc(doc) {
                        let span = x.root.span;
                        l.enclosing
                            .entry(span.file)
                            .or_default()
                            .spans
                            .push((span.start, span.end, i));
                    }
                }
            }
        }
        for e in l.enclosing.values_mut() {
            e.spans.sort_unstable();
            let mut max = 0;
            e.max_end = e
                .spans
                .iter()
                .map(|&(_, end, _)| {
                    max = max.max(end);
                    max
                })
                .collect();
        }
        l
    }

    /// Directives that may apply to `diag`, in directive order: a superset of those that do.
    fn candidates(&self, index: &Index, diag: &Diagnostic, out: &mut Vec<usize>) {
        out.clear();
        let file = diag.at.span.file;
        out.extend(
            self.lines
                .get(&(file, diag.at.start.line))
                .into_iter()
                .flatten(),
        );
        out.extend(self.files.get(&file).into_iter().flatten());
        if let Some(doc) = diag.inst.and_then(|i| index.instance(i)).map(|i| i.doc) {
            out.extend(self.objects.get(&doc).into_iter().flatten());
        }
        if let Some(Enclosing { spans, max_end }) = self.enclosing.get(&file) {
            let (start, end) = (diag.at.span.start, diag.at.span.end);
            // Walk back from the last document starting at or before the span, while an
            // earlier one may still reach past its end.
            let mut j = spans.partition_point(|&(s, _, _)| s <= start);
            while j > 0 && max_end.get(j - 1).is_some_and(|&m| m >= end) {
                j -= 1;
                if let Some(&(_, e, i)) = spans.get(j) {
                    if e >= end {
                        out.push(i);
                    }
                }
            }
        }
        out.sort_unstable();
        out.dedup();
    }
}

/// Marks suppressed diagnostics. Returns the directives (per code) that suppressed nothing or
/// name no rule; `ran` tells which rules ran, since a suppression for a rule that did not run
/// cannot be judged.
pub fn apply(index: &Index, diagnostics: &mut [Diagnostic], ran: &[&str]) -> Vec<Unused> {
    let mut dirs = directives(index);
    let lookup = Lookup::new(index, &dirs);
    let mut candidates = Vec::new();
    for diag in diagnostics.iter_mut() {
        lookup.candidates(index, diag, &mut candidates);
        for &c in &candidates {
            let Some(d) = dirs.get_mut(c) else { continue };
            if !matches(index, d, diag) {
                continue;
            }
            let Some(pos) = d
                .codes
                .iter()
                .position(|(_, code)| *code == Some(diag.code))
            else {
                continue;
            };
            if let Some(u) = d.used.get_mut(pos) {
                *u = true;
            }
            if diag.suppression.is_none() {
                diag.suppression = Some(Suppression {
                    origin: d.origin,
                    justification: d.reason.clone(),
                });
            }
        }
    }
    // One annotation rendered into several contexts is one suppression: used if any copy is.
    let used_anywhere: std::collections::HashSet<(Span, &str)> = dirs
        .iter()
        .flat_map(|d| {
            d.codes
                .iter()
                .zip(&d.used)
                .filter(|(_, u)| **u)
                .map(move |((w, _), _)| (d.span, w.as_str()))
        })
        .collect();
    let mut unused = Vec::new();
    let mut reported: std::collections::HashSet<(Span, &str)> = std::collections::HashSet::new();
    for d in &dirs {
        for ((written, code), used) in d.codes.iter().zip(&d.used) {
            let key = (d.span, written.as_str());
            if *used || used_anywhere.contains(&key) || !reported.insert(key) {
                continue;
            }
            let message = match code {
                None => format!(
                    "`{written}` in this suppression is not a cnpg-lint rule; `cnpg-lint rules` \
                     lists them"
                ),
                Some(code) if !used && ran.contains(code) => {
                    let what = match (d.origin, d.scope) {
                        (SuppressionOrigin::Annotation, _) => "on this object",
                        (_, Scope::File) => "in this file",
                        _ => "on this line",
                    };
                    format!("this suppression of {code} matches no {code} finding {what}")
                }
                Some(_) => continue,
            };
            unused.push(Unused {
                loc: Loc::Span(d.span),
                message,
            });
        }
    }
    unused
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comment_forms() {
        assert_eq!(
            parse_comment(" cnpg-lint: disable=CNPG101, CNPG102 -- restore tested"),
            Some((
                false,
                vec!["CNPG101".into(), "CNPG102".into()],
                Some("restore tested".into())
            ))
        );
        assert_eq!(
            parse_comment("cnpg-lint: disable-file=CNPG401"),
            Some((true, vec!["CNPG401".into()], None))
        );
        assert_eq!(parse_comment(" just a comment"), None);
        assert_eq!(parse_comment(" cnpg-lint: enable=CNPG101"), None);
    }
}

//! Stage 4, render: render like Flux ([`stage`] is the entry the pipeline calls). For each Flux Kustomization, the objects it would apply: the
//! kustomize build of its path (with Flux's edits: targetNamespace, patches, components,
//! images, name prefix and suffix, commonMetadata), then post-build variable substitution.
//! Parents render before children, so a child Kustomization is built from the object its parent
//! applies (patched, substituted). Every value keeps the span where it was written.

pub mod build;
pub mod emit;
pub mod envsubst;
pub mod flux;
pub mod generate;
pub mod handover;
pub mod lean;
pub mod ownership;
pub mod patch;
pub mod replace;
pub mod select;
pub mod stage;
pub mod transform;

use crate::model::{Doc, DocId};
use crate::source::{FileId, SourceMap, Span};
use crate::yaml::{self, Kind, Node};

/// What every build reads besides the repository's trees: the root that reads from disk are
/// confined to, and the budgets the run shares (see [`crate::budget`]).
pub struct Env<'a> {
    pub confined: &'a crate::fsio::Confined,
    pub budgets: &'a crate::budget::RenderBudgets,
}

/// An object being built.
#[derive(Debug, Clone)]
pub struct RObject {
    pub root: Node,
    /// The source document it started from (none for generated objects).
    pub source: Option<DocId>,
    pub file: FileId,
    /// Generated objects get kustomize's content hash appended to their name.
    pub hash_suffix: bool,
    /// For a generated object whose name got the hash: its name before (what a reference in a
    /// field kustomize does not rewrite still says).
    pub unhashed: Option<compact_str::CompactString>,
    /// Values that came through substitution: their path, and where each variable was defined.
    pub substitutions: Vec<Substitution>,
}

#[derive(Debug, Clone)]
pub struct Substitution {
    /// The substituted value's span (it keeps the span of the `${…}` text). Spans, not paths,
    /// identify values: there is one record per substituted value of every rendered object.
    pub at: Span,
    /// Each variable used, and where it was defined. Names are short and sit inline.
    pub vars: Box<[(compact_str::CompactString, Option<Span>)]>,
}

impl RObject {
    pub fn from_source(id: DocId, doc: &Doc, root: Node) -> RObject {
        RObject {
            root,
            source: Some(id),
            file: doc.file,
            hash_suffix: false,
            unhashed: None,
            substitutions: Vec::new(),
        }
    }

    pub fn generated(root: Node, file: FileId, hash_suffix: bool) -> RObject {
        RObject {
            root,
            source: None,
            file,
            hash_suffix,
            unhashed: None,
            substitutions: Vec::new(),
        }
    }
}

/// Something the build could not do, or could not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub span: Span,
    pub message: String,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// cnpg-lint could not see something (a remote resource, an unsupported feature, a
    /// placeholder): the build is partial, and Flux may well build it.
    Unseen,
    /// Flux's build fails on it: nothing of the Kustomization is applied.
    Fails,
    /// One of cnpg-lint's resource budgets was crossed here; what lies beyond is not built.
    Limit,
}

impl Problem {
    pub fn unseen(span: Span, message: impl Into<String>) -> Problem {
        Problem {
            span,
            message: message.into(),
            kind: ProblemKind::Unseen,
        }
    }

    pub fn fails(span: Span, message: impl Into<String>) -> Problem {
        Problem {
            span,
            message: message.into(),
            kind: ProblemKind::Fails,
        }
    }

    pub fn limit(span: Span, message: impl Into<String>) -> Problem {
        Problem {
            span,
            message: message.into(),
            kind: ProblemKind::Limit,
        }
    }
}

/// Parses YAML embedded in a string scalar (an inline patch) so that its spans point into the
/// file that holds the string. Literal block scalars map line by line; other styles map every
/// node to the scalar itself.
///
/// Errors come back located in the file too (with whether a budget was crossed): kustomize fails a build whose inline patch does
/// not parse. Aliases in the patch expand at the cost of `budget` (the run's rendered nodes).
pub fn embedded_docs(
    scalar: &Node,
    sources: &SourceMap,
    budget: Option<&crate::budget::Budget>,
) -> (Vec<Node>, Vec<(Span, String, bool)>) {
    let Some(content) = scalar.as_str() else {
        return (Vec::new(), Vec::new());
    };
    let loaded = yaml::load_in(scalar.span.file, content, budget);
    let mapper = LineMap::new(scalar, content, sources);
    let errors = loaded
        .errors
        .iter()
        .map(|e| (mapper.map(e.span, scalar.span), e.message.clone(), e.limit))
        .collect();
    let docs = loaded
        .docs
        .into_iter()
        .map(|d| {
            let mut root = d.root;
            remap(&mut root, &|s: Span| mapper.map(s, scalar.span));
            root
        })
        .collect();
    (docs, errors)
}

/// Maps offsets in a literal block scalar's content to offsets in its file.
struct LineMap {
    /// For each content line: (content offset where it starts, file offset where it starts).
    lines: Vec<(usize, usize)>,
}

impl LineMap {
    fn new(scalar: &Node, content: &str, sources: &SourceMap) -> LineMap {
        let mut lines = Vec::new();
        let Some(file) = sources.get(scalar.span.file) else {
            return LineMap { lines };
        };
        let text = &file.text;
        let start = (scalar.span.start as usize).min(text.len());
        // The span may begin at the `|` header or at the first content character; either
        // way the header line ends in a literal indicator (`|`, `|-`, `|+`, `|2`).
        let line_start = text
            .get(..start)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let (body_start, header) = if text.get(start..).is_some_and(|t| t.starts_with('|')) {
            match text.get(start..).and_then(|t| t.find('\n')) {
                Some(i) => (start + i + 1, text.get(start..start + i).unwrap_or("")),
                None => return LineMap { lines },
            }
        } else {
            let prev_end = line_start.saturating_sub(1);
            let prev_start = text
                .get(..prev_end)
                .and_then(|t| t.rfind('\n'))
                .map_or(0, |i| i + 1);
            (line_start, text.get(prev_start..prev_end).unwrap_or(""))
        };
        let literal = header
            .split_whitespace()
            .last()
            .is_some_and(|tok| tok.starts_with('|'));
        if !literal {
            return LineMap { lines };
        }
        let body = text
            .get(body_start..(scalar.span.end as usize).min(text.len()))
            .unwrap_or("");
        let indent = body
            .lines()
            .find(|l| !l.trim().is_empty())
            .map_or(0, |l| l.len() - l.trim_start_matches(' ').len());
        let mut file_off = body_start;
        let mut content_off = 0;
        for (file_line, content_line) in body.split('\n').zip(content.split('\n')) {
            let skip = indent.min(file_line.len() - file_line.trim_start_matches(' ').len());
            lines.push((content_off, file_off + skip));
            file_off += file_line.len() + 1;
            content_off += content_line.len() + 1;
        }
        LineMap { lines }
    }

    fn map(&self, s: Span, fallback: Span) -> Span {
        if self.lines.is_empty() {
            return fallback;
        }
        let one = |o: u32| -> u32 {
            let o = o as usize;
            let i = self
                .lines
                .partition_point(|(c, _)| *c <= o)
                .saturating_sub(1);
            let (c, f) = self.lines.get(i).copied().unwrap_or((0, 0));
            u32::try_from(f + (o - c)).unwrap_or(u32::MAX)
        };
        Span {
            file: fallback.file,
            start: one(s.start),
            end: one(s.end),
        }
    }
}

/// Applies `f` to every span in a tree.
pub fn remap(root: &mut Node, f: &dyn Fn(Span) -> Span) {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        n.span = f(n.span);
        match &mut n.kind {
            Kind::Scalar(_) => {}
            Kind::Seq(items) => stack.extend(items.iter_mut()),
            Kind::Map(entries) => {
                for e in entries.iter_mut() {
                    e.key.span = f(e.key.span);
                    stack.push(&mut e.value);
                }
            }
        }
    }
}

//! What rules report, and what reporters print. Rules speak in document nodes and paths; the
//! engine turns those into spans, lines and columns.

use std::fmt;

use crate::index::{DocId, InstId};
use crate::source::{LineCol, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rule's identity. The prose lives in `rules/<CODE>-<name>.md`; a test keeps the two equal.
#[derive(Debug)]
pub struct RuleMeta {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub summary: &'static str,
    /// Whether the rule runs without being selected. Rules that report a deliberate choice
    /// rather than a mistake are off until `select` names them, as ruff keeps opinionated
    /// rules out of its default set.
    pub on_by_default: bool,
}

/// One step in a YAML path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// Inline up to 24 bytes, which keys nearly always are: paths are built for every
    /// substituted value and every finding, and most never leave the process.
    Key(compact_str::CompactString),
    Index(usize),
}

/// Renders a YAML path as `spec.plugins[0].parameters`.
pub fn path_string(path: &[Seg]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// Which part of a mapping entry a location points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The key (`destinationPath:`), for statements about the setting as a whole.
    Key,
    /// The value, for statements about what is written there.
    Value,
}

/// Where a finding points, as a rule names it.
#[derive(Debug, Clone)]
pub enum Loc {
    /// A node of a document's tree (compared by address, never dereferenced), or the key of
    /// the mapping entry that holds it.
    Node {
        doc: DocId,
        node: usize,
        target: Target,
    },
    /// A path into a document; when part of it is missing, the nearest existing ancestor.
    Path {
        doc: DocId,
        path: Vec<Seg>,
        target: Target,
    },
    /// A span in a file that has no document tree (Terraform).
    Span(Span),
}

impl Loc {
    pub fn value(doc: DocId, node: &crate::yaml::Node) -> Loc {
        Loc::Node {
            doc,
            node: node as *const _ as usize,
            target: Target::Value,
        }
    }

    pub fn key(doc: DocId, node: &crate::yaml::Node) -> Loc {
        Loc::Node {
            doc,
            node: node as *const _ as usize,
            target: Target::Key,
        }
    }

    pub fn path(doc: DocId, path: &[&str]) -> Loc {
        Loc::Path {
            doc,
            path: path.iter().map(|s| Seg::Key((*s).into())).collect(),
            target: Target::Key,
        }
    }
}

/// A finding as a rule produces it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static RuleMeta,
    pub message: String,
    pub help: Option<String>,
    pub primary: Loc,
    /// The object the finding is about.
    pub object: Option<InstId>,
    pub related: Vec<(Loc, String)>,
    /// For rules whose findings differ in severity; otherwise the rule's default.
    pub severity: Option<Severity>,
}

impl Finding {
    pub fn severity(&mut self, severity: Severity) -> &mut Finding {
        self.severity = Some(severity);
        self
    }

    pub fn help(&mut self, help: impl Into<String>) -> &mut Finding {
        self.help = Some(help.into());
        self
    }

    pub fn related(&mut self, loc: Loc, message: impl Into<String>) -> &mut Finding {
        self.related.push((loc, message.into()));
        self
    }

    pub fn object(&mut self, inst: InstId) -> &mut Finding {
        self.object = Some(inst);
        self
    }
}

/// Identity of the object a diagnostic is about, as printed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub span: Span,
    /// Path as printed (relative to the working directory, `/`-separated).
    pub path: String,
    /// Path relative to the repository root, `/`-separated (for SARIF and fingerprints).
    pub repo_path: String,
    pub start: LineCol,
    pub end: LineCol,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    pub at: Position,
    pub message: String,
}

/// A finding resolved to file positions, ready for reporters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    pub at: Position,
    /// The YAML key path of the primary location, when it is in a document.
    pub key_path: Vec<Seg>,
    pub object: Option<ObjectRef>,
    pub related: Vec<Related>,
    /// The Flux Kustomization the object is applied through (`namespace/name`).
    pub via: Option<String>,
    /// The object instance, for annotation suppressions.
    pub inst: Option<InstId>,
    /// Stable identity of the finding: survives lines inserted above it.
    pub fingerprint: String,
    /// Set when an inline comment or annotation suppresses the finding.
    pub suppression: Option<Suppression>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// Where the suppression is written.
    pub origin: SuppressionOrigin,
    /// The reason given after `--`, if any.
    pub justification: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuppressionOrigin {
    Comment,
    Annotation,
}

/// The text a panic carried, for internal-error messages.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

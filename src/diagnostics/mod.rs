//! Stage 8, diagnostics: findings resolved to files, lines and columns, then settled the way
//! the user asked (inline suppressions, per-file ignores, severity overrides, the scope and
//! baseline of the run, copies grouped into one). What reporters print.

pub mod baseline;
pub mod group;
pub mod resolve;
pub mod settle;
pub mod suppress;

use crate::index::InstId;
use crate::rules::Severity;
use crate::source::{LineCol, Span};
use crate::yaml::Seg;

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

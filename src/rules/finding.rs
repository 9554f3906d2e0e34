//! What a rule reports: its identity and severity, and findings located at document nodes or
//! paths. The diagnostics stage turns these into spans, lines and columns.

use std::fmt;

use crate::index::InstId;
use crate::model::DocId;
use crate::source::Span;
use crate::yaml::{Seg, Target};

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

/// A rule's identity, and everything else the rest of the program needs to know about it. The
/// prose lives in `rules/<CODE>-<name>.md`; a test keeps the two equal.
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
    /// What the rule is about: its SARIF tags and the section of the rule table.
    pub category: Category,
    /// Whether it reports what schema validation finds; validation runs only when such a rule
    /// does.
    pub needs_schemas: bool,
    /// The options `rules:` in the configuration may set for it. The configuration's schema
    /// and its validation come from these; the rule reads each with [`super::Ctx::option`].
    pub options: &'static [RuleOption],
}

/// What a rule is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// The files themselves: YAML, schemas, API versions, what could not be read.
    Yaml,
    /// Backups, WAL archiving and recovery.
    Backup,
    /// How a Cluster is configured.
    Cluster,
    /// GKE Workload Identity and the service accounts archiving runs as.
    WorkloadIdentity,
    /// How Flux applies and orders what it deploys.
    Flux,
    /// Secrets and credentials.
    Security,
    /// The linter's own suppressions.
    Suppression,
}

impl Category {
    /// The SARIF tags of a rule in this category (GitHub code scanning shows them as labels
    /// and treats `security` specially).
    pub fn tags(self) -> &'static [&'static str] {
        match self {
            Category::Yaml => &["cloudnative-pg", "yaml"],
            Category::Backup => &["cloudnative-pg", "backup"],
            Category::Cluster => &["cloudnative-pg", "cluster"],
            Category::WorkloadIdentity => &["cloudnative-pg", "workload-identity", "security"],
            Category::Flux => &["cloudnative-pg", "flux"],
            Category::Security => &["cloudnative-pg", "security"],
            Category::Suppression => &["cloudnative-pg", "suppression"],
        }
    }

    /// Rules about who may access what: SARIF gives them a `security-severity`.
    pub fn is_security(self) -> bool {
        matches!(self, Category::WorkloadIdentity | Category::Security)
    }
}

/// An integer option a rule takes. A rule declares each as a constant and reads it by that
/// constant, so a misspelt option is a compile error, not a silent default.
#[derive(Debug)]
pub struct RuleOption {
    /// The key under `rules: <CODE>:` in the configuration.
    pub key: &'static str,
    pub default: i64,
    pub minimum: i64,
    pub description: &'static str,
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

//! Settling a run's diagnostics the way the user asked, in this order: inline suppressions
//! (and, when CNPG900 runs, the suppressions that hid nothing), per-file ignores, severity
//! overrides, copies of one mistake grouped into one, the paths the run was asked about, and
//! the baseline. Then the summary counts what is left.

use std::collections::BTreeSet;
use std::path::Path;

use super::{group, resolve, suppress, Diagnostic};
use crate::config::{Config, SeverityOverride};
use crate::index::Index;
use crate::rules::cnpg900_unused_suppression as unused_suppression;
use crate::rules::engine::RuleResult;
use crate::rules::Severity;
use crate::source::paths;

/// What a run found, and how much of it is shown.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
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
    /// This run's summary for a subset of its diagnostics (a test that shows one rule's): the
    /// same repository counts, the severities and suppressions counted anew.
    pub fn for_subset(&self, diagnostics: &[Diagnostic]) -> Summary {
        let mut summary = Summary {
            errors: 0,
            warnings: 0,
            infos: 0,
            suppressed: 0,
            ..self.clone()
        };
        summary.count(diagnostics);
        summary
    }

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

/// What the run was asked about, beyond the configuration.
pub struct Ask<'a> {
    /// Repository paths findings are reported for; empty: the whole repository. The rest of
    /// the repository is context.
    pub scope: &'a [String],
    /// Fingerprints a baseline records; findings that match are hidden and counted.
    pub baseline: Option<&'a BTreeSet<String>>,
    /// Where printed paths are relative to.
    pub cwd: &'a Path,
}

pub struct Settled {
    /// What the report shows (suppressed findings included, marked).
    pub diagnostics: Vec<Diagnostic>,
    /// In scope, but hidden by the baseline: with `diagnostics`, what a new baseline records.
    pub baselined: Vec<Diagnostic>,
    pub internal_errors: Vec<String>,
    pub summary: Summary,
}

/// Resolves what the rules in `ran` reported and settles it (see the module comment).
pub fn settle(
    index: &Index,
    results: Vec<RuleResult>,
    ran: &[&str],
    config: &Config,
    ask: &Ask<'_>,
) -> Settled {
    let (mut diagnostics, mut internal_errors) = resolve::resolve_all(index, results, ask.cwd);
    let unused = suppress::apply(index, &mut diagnostics, ran);
    if ran.contains(&unused_suppression::META.code) {
        let (mut extra, mut errors) =
            resolve::resolve(index, &unused_suppression::findings(unused), ask.cwd);
        diagnostics.append(&mut extra);
        internal_errors.append(&mut errors);
    }
    apply_config(config, &mut diagnostics);
    group::group_copies(&mut diagnostics);
    if !ask.scope.is_empty() {
        diagnostics.retain(|d| {
            index
                .sources
                .get(d.at.span.file)
                .is_some_and(|f| ask.scope.iter().any(|s| paths::is_within(&f.repo_path, s)))
        });
    }
    let mut summary = Summary {
        files: index.sources.len(),
        documents: index.document_count,
        objects: index.instances.len(),
        ..Summary::default()
    };
    let mut baselined = Vec::new();
    if let Some(known) = ask.baseline {
        let mut matched = BTreeSet::new();
        let (hidden, shown): (Vec<Diagnostic>, Vec<Diagnostic>) =
            diagnostics.into_iter().partition(|d| {
                d.suppression.is_none() && known.contains(&d.fingerprint) && {
                    matched.insert(d.fingerprint.clone());
                    true
                }
            });
        diagnostics = shown;
        summary.baselined = hidden.len();
        summary.stale_baseline = known.len() - matched.len();
        baselined = hidden;
    }
    summary.count(&diagnostics);
    Settled {
        diagnostics,
        baselined,
        internal_errors,
        summary,
    }
}

/// Per-file ignores drop findings; severity overrides change them.
fn apply_config(config: &Config, diagnostics: &mut Vec<Diagnostic>) {
    let per_file = config.per_file_ignore_sets();
    diagnostics.retain(|d| {
        !per_file
            .iter()
            .any(|(set, codes)| codes.contains(&d.code) && set.is_match(&d.at.repo_path))
    });
    for d in diagnostics.iter_mut() {
        if let Some(SeverityOverride::Set(s)) = config.severity.get(d.code) {
            d.severity = *s;
        }
    }
}

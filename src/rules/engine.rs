//! Runs the rules over the index, in parallel. A rule that panics becomes an internal error
//! that names it; the other rules' results are kept.

use std::panic::{catch_unwind, AssertUnwindSafe};

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::finding::{Finding, Loc, RuleMeta, RuleOption};
use super::RuleEntry;
use crate::index::Index;
use crate::schema::Issue;

/// What a rule gets: the index, what schema validation found, and somewhere to put findings.
pub struct Ctx<'a> {
    pub index: &'a Index,
    /// What schema validation found (empty when no schema-backed rule runs).
    pub schema: &'a [Issue],
    options: &'a OptionValues,
    meta: &'static RuleMeta,
    findings: Vec<Finding>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        index: &'a Index,
        schema: &'a [Issue],
        options: &'a OptionValues,
        meta: &'static RuleMeta,
    ) -> Ctx<'a> {
        Ctx {
            index,
            schema,
            options,
            meta,
            findings: Vec::new(),
        }
    }

    /// This rule's option from the configuration, or its default. `option` is one of the
    /// rule's own [`RuleMeta::options`] (checked in debug builds, which the rule tests run).
    pub fn option(&self, option: &'static RuleOption) -> i64 {
        // A rule reading an option it does not declare would read a key the configuration
        // never accepts for it; the rule's own test runs it with debug assertions on.
        debug_assert!(
            self.meta.options.iter().any(|o| o.key == option.key),
            "{} reads option `{}`, which its META does not declare",
            self.meta.code,
            option.key
        );
        self.options
            .get(&(self.meta.code, option.key))
            .copied()
            .unwrap_or(option.default)
    }

    pub fn report(&mut self, primary: Loc, message: impl Into<String>) -> &mut Finding {
        self.findings.push(Finding {
            rule: self.meta,
            message: message.into(),
            help: None,
            primary,
            object: None,
            related: Vec::new(),
            severity: None,
        });
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }
}

/// Rule options the configuration sets: (rule code, option key) to value.
pub type OptionValues = BTreeMap<(&'static str, &'static str), i64>;

/// What one rule reported, or the internal error that stopped it.
pub type RuleResult = Result<Vec<Finding>, String>;

/// Runs `rules`; one result per rule, in the order given.
pub fn run(
    index: &Index,
    schema: &[Issue],
    options: &OptionValues,
    rules: &[&RuleEntry],
) -> Vec<RuleResult> {
    rules
        .par_iter()
        .map(|rule| {
            catch_unwind(AssertUnwindSafe(|| {
                let mut ctx = Ctx::new(index, schema, options, rule.meta);
                (rule.check)(&mut ctx);
                ctx.into_findings()
            }))
            .map_err(|panic| {
                let what = crate::guard::panic_message(panic.as_ref());
                format!(
                    "internal error in rule {} ({}): {what}; please report this",
                    rule.meta.code, rule.meta.name
                )
            })
        })
        .collect()
}

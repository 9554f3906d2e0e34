//! CNPG900: a suppression that suppresses nothing. Judged after every other rule has run, so
//! the engine hands this rule the suppressions that matched no finding.

use crate::rules::{Category, Finding, Loc, RuleMeta, Severity};
use crate::rules::engine::Ctx;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG900",
    name: "unused-suppression",
    severity: Severity::Warning,
    summary: "A cnpg-lint suppression comment or annotation suppresses nothing.",
    on_by_default: true,
    category: Category::Suppression,
    needs_schemas: false,
    options: &[],
};

/// An unused or unknown suppression, as the diagnostics stage finds it once suppressions are
/// applied (see `diagnostics::suppress`).
#[derive(Debug, Clone)]
pub struct Unused {
    pub loc: Loc,
    pub message: String,
}

/// Nothing to do during the rule pass; see [`findings`].
pub fn check(_ctx: &mut Ctx<'_>) {}

pub fn findings(unused: Vec<Unused>) -> Vec<Finding> {
    unused
        .into_iter()
        .map(|u| Finding {
            rule: &META,
            message: u.message,
            help: Some(
                "Remove the suppression, or correct its rule code: a stale suppression would \
                 silently hide the next real finding at this place."
                    .into(),
            ),
            primary: u.loc,
            object: None,
            related: Vec::new(),
            severity: None,
        })
        .collect()
}

//! CNPG002: An object breaks its CRD's schema: a wrong type, an enum or pattern mismatch, a missing required field, a value out of range, or a failed CEL rule.
//! Validation itself is a pipeline stage ([`crate::schema`]); this rule reports its share.

use super::support;
use crate::rules::{RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::schema::Category;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG002",
    name: "schema-violation",
    severity: Severity::Error,
    summary: "An object breaks its CRD's schema: a wrong type, an enum or pattern mismatch, a missing required field, a value out of range, or a failed CEL rule.",
    on_by_default: true,
    category: crate::rules::Category::Yaml,
    needs_schemas: true,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    support::report_schema_issues(ctx, Category::Violation);
}

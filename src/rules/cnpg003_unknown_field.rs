//! CNPG003: A field the CRD does not define; the API server drops it silently, so the setting never applies.
//! Validation itself is a pipeline stage ([`crate::schema`]); this rule reports its share.

use super::support;
use crate::rules::{RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::schema::Category;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG003",
    name: "unknown-field",
    severity: Severity::Error,
    summary: "A field the CRD does not define; the API server drops it silently, so the setting never applies.",
    on_by_default: true,
    category: crate::rules::Category::Yaml,
    needs_schemas: true,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    support::report_schema_issues(ctx, Category::UnknownField);
}

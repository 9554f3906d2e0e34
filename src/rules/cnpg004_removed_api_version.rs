//! CNPG004: An apiVersion that current controllers no longer serve.
//! Validation itself is a pipeline stage ([`crate::schema`]); this rule reports its share.

use super::support;
use crate::rules::{RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::schema::Category;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG004",
    name: "removed-api-version",
    severity: Severity::Error,
    summary: "An apiVersion that current controllers no longer serve.",
    on_by_default: true,
    category: crate::rules::Category::Yaml,
    needs_schemas: true,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    support::report_schema_issues(ctx, Category::RemovedApi);
}

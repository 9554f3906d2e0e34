//! Stage 6, schema: validation. Each applied object is checked against the JSON Schema of its
//! CRD (generated from the upstream CRDs into `schemas/crds/`, embedded in the binary), then
//! against the CRD's CEL rules. The rules CNPG002, CNPG003 and CNPG004 report what this stage
//! finds.

pub mod catalog;
pub mod cel;
mod embedded;
pub mod generate;
pub mod json;
pub mod plan;
pub mod removed;
pub mod validate;

use crate::index::InstId;
use crate::model::DocId;
use crate::yaml::{Seg, Target};

pub use validate::check_all;

/// The schema of a mapping's entry `key`: its own property schema, or the schema every extra
/// entry follows (`additionalProperties`).
pub fn child_schema<'s>(schema: &'s serde_json::Value, key: &str) -> Option<&'s serde_json::Value> {
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))
}

/// Whether a schema node admits null (`nullable: true` in the CRD).
fn admits_null(s: &serde_json::Value) -> bool {
    match s.get("type") {
        Some(serde_json::Value::Array(types)) => types.iter().any(|t| t == "null"),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    /// Wrong type, enum, pattern, range, a missing required field, or a failed CEL rule.
    Violation,
    /// A field the CRD does not define.
    UnknownField,
    /// An apiVersion the controllers no longer serve.
    RemovedApi,
}

#[derive(Debug, Clone)]
pub struct Issue {
    pub category: Category,
    pub inst: InstId,
    pub doc: DocId,
    pub path: Vec<Seg>,
    pub target: Target,
    pub message: String,
    pub help: Option<String>,
}

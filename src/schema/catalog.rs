//! The CRD schemas embedded in the binary, each compiled on first use and shared by every
//! thread.

use std::sync::OnceLock;

use serde_json::Value;

use super::embedded::{COUNT, SCHEMAS};

pub struct Embedded {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub json: &'static str,
}

pub struct Compiled {
    pub validator: jsonschema::Validator,
    pub schema: Value,
    plan: OnceLock<super::plan::Plan>,
}

impl Compiled {
    /// Made on first use, once the schema sits where it stays (the plan names nodes by
    /// address).
    pub fn plan(&self) -> &super::plan::Plan {
        self.plan
            .get_or_init(|| super::plan::Plan::new(&self.schema))
    }
}

static COMPILED: [OnceLock<Option<Compiled>>; COUNT] = [const { OnceLock::new() }; COUNT];

/// The compiled schema for an apiVersion group, version and kind.
pub fn compiled(group: &str, version: &str, kind: &str) -> Option<&'static Compiled> {
    let i = SCHEMAS
        .iter()
        .position(|e| e.group == group && e.version == version && e.kind == kind)?;
    let e = SCHEMAS.get(i)?;
    COMPILED.get(i)?.get_or_init(|| compile(e)).as_ref()
}

fn compile(e: &Embedded) -> Option<Compiled> {
    // The files are generated and tested; a failure here is a build defect, reported by the
    // test that compiles every schema, and never a finding.
    let schema: Value = serde_json::from_str(e.json).ok()?;
    let validator = jsonschema::draft202012::options()
        // Go's regexp (RE2) is what the API server uses; the `regex` crate has its semantics.
        .with_pattern_options(jsonschema::PatternOptions::regex())
        .should_validate_formats(false)
        .build(&schema)
        .ok()?;
    Some(Compiled {
        validator,
        schema,
        plan: OnceLock::new(),
    })
}

/// The versions of `group`/`kind` that the embedded CRDs serve (empty for kinds we have no
/// CRD for).
pub fn served_versions(group: &str, kind: &str) -> Vec<&'static str> {
    SCHEMAS
        .iter()
        .filter(|e| e.group == group && e.kind == kind)
        .map(|e| e.version)
        .collect()
}

/// Every embedded schema, for tests and `--timings`-free warm-up.
pub fn all() -> &'static [Embedded] {
    &SCHEMAS
}

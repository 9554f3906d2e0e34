//! JSON output, version 1 (schema: `schemas/output-v1.json`).

use std::io::{self, Write};

use serde::Serialize;

use super::Report;
use crate::diagnostics::Diagnostic;

pub const VERSION: u32 = 1;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    tool: Tool,
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: JsonSummary,
    /// What the model of Flux had to assume or could not see.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
}

#[derive(Serialize)]
struct Tool {
    name: &'static str,
    version: &'static str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    name: &'a str,
    severity: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
    fingerprint: &'a str,
    path: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<JsonObject<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<&'a str>,
    related: Vec<JsonRelated<'a>>,
}

#[derive(Serialize)]
struct JsonObject<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    name: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonRelated<'a> {
    path: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonSummary {
    files: usize,
    documents: usize,
    objects: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    suppressed: usize,
    baselined: usize,
    stale_baseline: usize,
}

fn diagnostic(d: &Diagnostic) -> JsonDiagnostic<'_> {
    JsonDiagnostic {
        code: d.code,
        name: d.name,
        severity: d.severity.as_str(),
        message: &d.message,
        help: d.help.as_deref(),
        fingerprint: &d.fingerprint,
        path: &d.at.path,
        line: d.at.start.line,
        column: d.at.start.column,
        end_line: d.at.end.line,
        end_column: d.at.end.column,
        object: d.object.as_ref().map(|o| JsonObject {
            api_version: &o.api_version,
            kind: &o.kind,
            namespace: o.namespace.as_deref(),
            name: o.name.as_deref(),
        }),
        via: d.via.as_deref(),
        related: d
            .related
            .iter()
            .map(|r| JsonRelated {
                path: &r.at.path,
                line: r.at.start.line,
                column: r.at.start.column,
                message: &r.message,
            })
            .collect(),
    }
}

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let s = report.summary;
    let output = Output {
        version: VERSION,
        tool: Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        },
        diagnostics: report.visible().map(diagnostic).collect(),
        summary: JsonSummary {
            files: s.files,
            documents: s.documents,
            objects: s.objects,
            errors: s.errors,
            warnings: s.warnings,
            infos: s.infos,
            suppressed: s.suppressed,
            baselined: s.baselined,
            stale_baseline: s.stale_baseline,
        },
        notes: report.model_notes,
    };
    super::write_json(out, &output)?;
    writeln!(out)
}

//! SARIF 2.1.0 for GitHub code scanning. Rules come from the `rules/` docs; suppressed findings
//! are kept with an `inSource` suppression; fingerprints do not depend on line numbers.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::Report;
use crate::diagnostics::{Diagnostic, Position};
use crate::rules::Severity;
use crate::rules::{RuleEntry, RULES};

pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The first paragraph of a section of a rule doc.
fn section_paragraph(doc: &str, heading: &str) -> String {
    let Some(start) = doc.find(heading) else {
        return String::new();
    };
    doc[start + heading.len()..]
        .trim_start()
        .split("\n\n")
        .next()
        .unwrap_or("")
        .replace('\n', " ")
}

pub fn help_uri(rule: &RuleEntry) -> String {
    format!(
        "{INFORMATION_URI}/blob/main/rules/{}-{}.md",
        rule.meta.code, rule.meta.name
    )
}

fn rule_descriptor(rule: &RuleEntry) -> Value {
    let doc = rule.page();
    let mut properties = json!({ "tags": rule.meta.category.tags(), "precision": "high" });
    if rule.meta.category.is_security() {
        let score = match rule.meta.severity {
            Severity::Error => "7.5",
            Severity::Warning => "5.0",
            Severity::Info => "2.0",
        };
        properties["security-severity"] = json!(score);
    }
    json!({
        "id": rule.meta.code,
        "name": rule.meta.name,
        "shortDescription": { "text": rule.meta.summary },
        "fullDescription": { "text": section_paragraph(doc, "## What it catches") },
        "help": { "text": doc, "markdown": doc },
        "helpUri": help_uri(rule),
        "defaultConfiguration": { "level": level(rule.meta.severity) },
        "properties": properties
    })
}

fn physical(at: &Position) -> Value {
    json!({
        "artifactLocation": { "uri": at.repo_path, "uriBaseId": "%SRCROOT%" },
        "region": {
            "startLine": at.start.line,
            "startColumn": at.start.column,
            "endLine": at.end.line,
            "endColumn": at.end.column
        }
    })
}

fn result(d: &Diagnostic) -> Value {
    let index = RULES
        .iter()
        .position(|r| r.meta.code == d.code)
        .unwrap_or(0);
    let text = match &d.help {
        Some(h) => format!("{}\n\nHow to fix: {h}", d.message),
        None => d.message.clone(),
    };
    let mut r = json!({
        "ruleId": d.code,
        "ruleIndex": index,
        "level": level(d.severity),
        "message": { "text": text },
        "locations": [{ "physicalLocation": physical(&d.at) }],
        "partialFingerprints": { "cnpgLint/v1": d.fingerprint },
    });
    if !d.related.is_empty() {
        r["relatedLocations"] = Value::Array(
            d.related
                .iter()
                .enumerate()
                .map(|(i, rel)| {
                    json!({
                        "id": i + 1,
                        "physicalLocation": physical(&rel.at),
                        "message": { "text": rel.message }
                    })
                })
                .collect(),
        );
    }
    if let Some(s) = &d.suppression {
        let mut sup = json!({ "kind": "inSource" });
        if let Some(j) = &s.justification {
            sup["justification"] = json!(j);
        }
        r["suppressions"] = json!([sup]);
    }
    if let Some(o) = &d.object {
        r["properties"] = json!({
            "object": {
                "apiVersion": o.api_version,
                "kind": o.kind,
                "namespace": o.namespace,
                "name": o.name
            }
        });
    }
    r
}

pub fn write(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let root_uri = {
        let mut s = report.root.to_string_lossy().replace('\\', "/");
        if !s.ends_with('/') {
            s.push('/');
        }
        if !s.starts_with('/') {
            s.insert(0, '/');
        }
        format!("file://{s}")
    };
    let notifications: Vec<Value> = report
        .notes
        .iter()
        .map(|n| json!({ "level": "error", "message": { "text": n } }))
        .chain(
            report
                .model_notes
                .iter()
                .map(|n| json!({ "level": "note", "message": { "text": n } })),
        )
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": env!("CARGO_PKG_NAME"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "informationUri": INFORMATION_URI,
                    "rules": RULES.iter().map(rule_descriptor).collect::<Vec<_>>()
                }
            },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": report.notes.is_empty(),
                "toolExecutionNotifications": notifications
            }],
            "results": report.diagnostics.iter().map(result).collect::<Vec<_>>()
        }]
    });
    super::write_json(out, &sarif)?;
    writeln!(out)
}

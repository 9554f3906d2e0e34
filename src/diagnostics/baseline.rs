//! Baselines: record today's findings by fingerprint so a large repository can adopt the
//! linter at once and see only new findings. Fingerprints do not use line numbers, so edits
//! above a recorded finding do not resurrect it.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diagnostics::Diagnostic;

#[derive(Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    fingerprint: String,
    code: String,
    path: String,
    /// For people reading the file; not used for matching.
    message: String,
}

pub fn write(path: &Path, diagnostics: &[Diagnostic]) -> Result<(), String> {
    let mut findings: Vec<Entry> = diagnostics
        .iter()
        .filter(|d| d.suppression.is_none())
        .map(|d| Entry {
            fingerprint: d.fingerprint.clone(),
            code: d.code.to_string(),
            path: d.at.repo_path.clone(),
            message: d.message.clone(),
        })
        .collect();
    findings.sort();
    findings.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let text = serde_json::to_string_pretty(&BaselineFile {
        version: 1,
        findings,
    })
    .map_err(|e| format!("cannot encode the baseline: {e}"))?;
    crate::fsio::write_replacing(path, (text + "\n").as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn read(path: &Path) -> Result<BTreeSet<String>, String> {
    // The baseline is committed with the repository: a regular file of sensible size.
    let bytes = crate::fsio::read_regular(path, 256 * 1024 * 1024)
        .map_err(|e| format!("cannot read the baseline {}: {e}", path.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("the baseline {} is not UTF-8 text", path.display()))?;
    let file: BaselineFile = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a cnpg-lint baseline: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if file.version != 1 {
        return Err(format!(
            "{}: baseline version {} is not supported (expected 1)",
            path.display(),
            file.version
        ));
    }
    Ok(file.findings.into_iter().map(|e| e.fingerprint).collect())
}

//! Ordering and grouping: diagnostics sort by file and position, exact repeats go, and the
//! copies of one written mistake that rendering made become one diagnostic.

use super::resolve::Fnv;
use crate::diagnostics::Diagnostic;

pub fn sort_and_dedup(diagnostics: &mut Vec<Diagnostic>) {
    diagnostics.sort_by(|a, b| {
        (&a.at.path, a.at.start, a.code, &a.message, a.at.end)
            .cmp(&(&b.at.path, b.at.start, b.code, &b.message, b.at.end))
    });
    diagnostics.dedup_by(|a, b| a.code == b.code && a.at == b.at && a.message == b.message);
}

/// One written mistake is one finding: the copies of a finding that rendering made (a component
/// built by 14 Flux Kustomizations, a YAML anchor used twice, a file under several cluster roots)
/// point at the same place with the same rule, and become one diagnostic there. Its message is
/// the first copy's, followed by the other objects it concerns; its fingerprint leaves the
/// object out, so the alert stays one alert as copies come and go. Suppressed copies are kept
/// apart from the rest, so a suppression never hides a copy it does not name.
pub fn group_copies(diagnostics: &mut Vec<Diagnostic>) {
    sort_and_dedup(diagnostics);
    let mut out: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    let mut i = 0;
    while i < diagnostics.len() {
        let mut j = i + 1;
        while j < diagnostics.len() && same_place(&diagnostics[i], &diagnostics[j]) {
            j += 1;
        }
        let (mut kept, mut copies): (Vec<Diagnostic>, Vec<Diagnostic>) = diagnostics[i..j]
            .iter()
            .cloned()
            .partition(|d| d.suppression.is_some());
        out.append(&mut kept);
        if copies.len() > 1 {
            let mut first = copies.remove(0);
            first.severity = copies
                .iter()
                .map(|d| d.severity)
                .fold(first.severity, std::cmp::Ord::max);
            let mut others: Vec<String> = copies.iter().map(object_label).collect();
            others.sort();
            others.dedup();
            let shown: Vec<&str> = others.iter().take(8).map(String::as_str).collect();
            let more = others.len().saturating_sub(shown.len());
            first.message = format!(
                "{}; the same written value holds for {} more rendered object{}: {}{}",
                first.message,
                others.len(),
                if others.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            );
            for c in &copies {
                for r in &c.related {
                    if !first.related.contains(r) {
                        first.related.push(r.clone());
                    }
                }
            }
            first.fingerprint = place_fingerprint(&first);
            out.push(first);
        } else {
            out.append(&mut copies);
        }
        i = j;
    }
    *diagnostics = out;
    sort_and_dedup(diagnostics);
}

fn same_place(a: &Diagnostic, b: &Diagnostic) -> bool {
    a.code == b.code && a.at.repo_path == b.at.repo_path && a.at.span == b.at.span
}

/// How a copy is named among the others: its object and the Kustomization that applies it.
fn object_label(d: &Diagnostic) -> String {
    let name = d
        .object
        .as_ref()
        .map(|o| match (&o.namespace, &o.name) {
            (Some(ns), Some(n)) if !ns.is_empty() => format!("`{ns}/{n}`"),
            (_, Some(n)) => format!("`{n}`"),
            _ => format!("`{}`", o.kind),
        })
        .unwrap_or_else(|| "another object".to_string());
    match &d.via {
        Some(ks) => format!("{name} (via {ks})"),
        None => name,
    }
}

/// A grouped finding's fingerprint: rule, file and key path, not the object, which differs
/// between copies, nor the line, which moves when lines are inserted above. (Copies only come
/// from rendered documents, which always have a key path.)
fn place_fingerprint(d: &Diagnostic) -> String {
    let mut h = Fnv::default();
    h.write(d.code);
    h.write(&d.at.repo_path);
    h.write("copies");
    h.write(&crate::yaml::path_string(&d.key_path));
    format!("{:016x}", h.0)
}

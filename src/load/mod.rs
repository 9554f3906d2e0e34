//! Stage 2, load: read every discovered file once, in parallel, and parse it: YAML into span trees,
//! Terraform into infrastructure facts. Nothing here stops the run; every problem is recorded
//! against its file.

mod hcl_parse;
pub mod terraform;
pub mod tf_module;

use std::collections::HashSet;

use rayon::prelude::*;

use crate::discover::{FileKind, Found, IoProblem};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::yaml::{self, LoadedFile};
use terraform::TfFacts;

/// Files above this size are not read (a hostile or generated file must not stall the run).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug)]
pub enum Parsed {
    Yaml(LoadedFile),
    /// A Helm chart template or Go template text: not YAML until rendered, so not linted.
    Template,
    Terraform(Result<TfFacts, (Span, String)>),
    /// Not UTF-8: where the first bad byte is.
    NotUtf8(Span),
}

#[derive(Debug)]
pub struct Loaded {
    pub sources: SourceMap,
    /// One entry per file in `sources`, same order.
    pub parsed: Vec<Parsed>,
    /// Files and directories that could not be read (the walk's and this stage's).
    pub problems: Vec<IoProblem>,
    /// Files deliberately not read (symlinks leaving the repository).
    pub skipped: Vec<IoProblem>,
}

/// Reads and parses `found`. The walk's `problems` and `skipped` files join the result, each
/// with an empty source of its own, so that findings can point at them.
pub fn load_all(
    found: &[Found],
    max_bytes: u64,
    walk_problems: Vec<IoProblem>,
    skipped: Vec<IoProblem>,
) -> Loaded {
    let aliases = crate::budget::aliases();
    let charts = chart_dirs(found);
    let results: Vec<Result<(SourceFile, Parsed), IoProblem>> = found
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            // A bug in a parser must cost one file, not the run.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                load_one(id, f, max_bytes, &charts, &aliases)
            }))
            .unwrap_or_else(|_| {
                Err(IoProblem {
                    path: f.repo_path.clone(),
                    message: "internal error while parsing this file; please report it".into(),
                })
            })
        })
        .collect();
    let mut sources = SourceMap::with_capacity(results.len());
    let mut parsed = Vec::with_capacity(results.len());
    let mut problems = Vec::new();
    for r in results {
        match r {
            Ok((file, p)) => {
                sources.add(file);
                parsed.push(p);
            }
            Err(problem) => {
                // Keep file ids aligned with `found`: an unreadable file is an empty source.
                problems.push(problem.clone());
                sources.add(SourceFile::new(
                    problem.path.clone().into(),
                    problem.path,
                    String::new(),
                ));
                parsed.push(Parsed::Yaml(LoadedFile::default()));
            }
        }
    }
    for p in walk_problems.iter().chain(&skipped) {
        if sources.find(&p.path).is_none() {
            sources.add(SourceFile::new(
                p.path.clone().into(),
                p.path.clone(),
                String::new(),
            ));
            parsed.push(Parsed::Yaml(LoadedFile::default()));
        }
    }
    let mut problems_all = walk_problems;
    problems_all.append(&mut problems);
    Loaded {
        sources,
        parsed,
        problems: problems_all,
        skipped,
    }
}

fn load_one(
    id: FileId,
    f: &Found,
    max_bytes: u64,
    charts: &HashSet<&str>,
    aliases: &crate::budget::Budget,
) -> Result<(SourceFile, Parsed), IoProblem> {
    let problem = |message: String| IoProblem {
        path: f.repo_path.clone(),
        message,
    };
    // One open and one fstat per file: tens of thousands of files make path lookups count.
    // The read is bounded by the cap, not by what the metadata claims.
    let bytes = crate::fsio::read_regular(&f.path, max_bytes).map_err(|e| match e {
        crate::fsio::ReadError::TooLarge(_) => problem(format!(
            "the file is over the {max_bytes}-byte limit (raise --max-file-size)"
        )),
        other => problem(format!("cannot read: {other}")),
    })?;
    let (text, bad_at) = match String::from_utf8(bytes) {
        Ok(t) => (t, None),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            (String::from_utf8_lossy(e.as_bytes()).into_owned(), Some(at))
        }
    };
    let parsed = if let Some(at) = bad_at {
        Parsed::NotUtf8(Span::new(id, at, at))
    } else {
        match f.kind {
            FileKind::Yaml => parse_yaml(id, &f.repo_path, &text, charts, aliases),
            FileKind::Terraform => Parsed::Terraform(terraform_file(id, &f.repo_path, &text)),
        }
    };
    Ok((
        SourceFile::new(f.path.clone(), f.repo_path.clone(), text),
        parsed,
    ))
}

/// A `.tf` file's facts, or the variables a `.tfvars`, `.tfvars.json` or `terragrunt.hcl` sets.
/// Only `.tf` syntax errors are reported: a variable file that cannot be read (often a template)
/// only means that any variable may be set.
fn terraform_file(id: FileId, repo_path: &str, text: &str) -> Result<TfFacts, (Span, String)> {
    let unreadable = TfFacts {
        sets_any_variable: true,
        ..TfFacts::default()
    };
    if repo_path.ends_with(".json") {
        let keys = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(text);
        return Ok(match keys {
            Ok(map) => TfFacts {
                assignments: map
                    .into_iter()
                    .map(|(k, v)| {
                        let value = match v {
                            serde_json::Value::String(s) => terraform::TfText::Known(s),
                            _ => terraform::TfText::Unknown,
                        };
                        (k, value)
                    })
                    .collect(),
                ..TfFacts::default()
            },
            Err(_) => unreadable,
        });
    }
    match terraform::extract(text) {
        Ok(facts) => Ok(facts),
        Err(_) if !repo_path.ends_with(".tf") => Ok(unreadable),
        Err(e) => Err((Span::new(id, e.offset, e.offset), e.message)),
    }
}

fn parse_yaml(
    id: FileId,
    repo_path: &str,
    text: &str,
    charts: &HashSet<&str>,
    aliases: &crate::budget::Budget,
) -> Parsed {
    if is_chart_template(repo_path, charts) {
        return Parsed::Template;
    }
    let loaded = yaml::load_in(id, text, Some(aliases));
    let templated = text.contains("{{") && (!loaded.errors.is_empty() || loaded.complex_keys);
    if templated {
        Parsed::Template
    } else {
        Parsed::Yaml(loaded)
    }
}

/// Files below a Helm chart's `templates/` directory are Go templates: a `templates` directory
/// whose parent holds `Chart.yaml`.
fn is_chart_template(repo_path: &str, chart_dirs: &HashSet<&str>) -> bool {
    let parts: Vec<&str> = repo_path.split('/').collect();
    let dirs = parts.len().saturating_sub(1);
    (0..dirs).any(|i| {
        parts.get(i) == Some(&"templates")
            && parts
                .get(..i)
                .is_some_and(|parent| chart_dirs.contains(parent.join("/").as_str()))
    })
}

fn chart_dirs(found: &[Found]) -> HashSet<&str> {
    found
        .iter()
        .filter_map(|f| {
            let (dir, name) = f.repo_path.rsplit_once('/').unwrap_or(("", &f.repo_path));
            (name == "Chart.yaml").then_some(dir)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::terraform_file;

    #[test]
    fn variable_files_never_raise_syntax_errors_and_json_ones_are_read() {
        let facts = terraform_file(
            0,
            "tf/terraform.tfvars.json",
            r#"{"org": "globex", "n": 1}"#,
        )
        .expect("json variables");
        let names: Vec<&str> = facts.assignments.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["org", "n"]);
        assert!(!facts.sets_any_variable);
        for path in [
            "tf/bad.tfvars.json",
            "tf/prod.tfvars",
            "live/terragrunt.hcl",
        ] {
            let facts = terraform_file(0, path, "project = {{ project_id }}").expect(path);
            assert!(facts.sets_any_variable, "{path}");
        }
        assert!(terraform_file(0, "tf/main.tf", "resource {{").is_err());
    }
}

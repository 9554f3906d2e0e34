//! Stage 2: read every discovered file once, in parallel, and parse it: YAML into span trees,
//! Terraform into infrastructure facts. Nothing here stops the run; every problem is recorded
//! against its file.

use std::collections::HashSet;

use rayon::prelude::*;

use crate::discover::{FileKind, Found, IoProblem};
use crate::infra::terraform::{self, TfFacts};
use crate::source::{FileId, SourceFile, SourceMap, Span};
use crate::yaml::{self, LoadedFile};

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
    pub problems: Vec<IoProblem>,
}

pub fn load_all(found: &[Found], max_bytes: u64) -> Loaded {
    let charts = chart_dirs(found);
    let results: Vec<Result<(SourceFile, Parsed), IoProblem>> = found
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let id = u32::try_from(i).unwrap_or(u32::MAX);
            // A bug in a parser must cost one file, not the run.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                load_one(id, f, max_bytes, &charts)
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
    Loaded {
        sources,
        parsed,
        problems,
    }
}

fn load_one(
    id: FileId,
    f: &Found,
    max_bytes: u64,
    charts: &HashSet<&str>,
) -> Result<(SourceFile, Parsed), IoProblem> {
    let problem = |message: String| IoProblem {
        path: f.repo_path.clone(),
        message,
    };
    // One open and one fstat per file: tens of thousands of files make path lookups count.
    let cannot_read = |e: std::io::Error| problem(format!("cannot read: {e}"));
    let mut file = std::fs::File::open(&f.path).map_err(cannot_read)?;
    let size = file.metadata().map_err(cannot_read)?.len();
    if size > max_bytes {
        return Err(problem(format!(
            "file is {size} bytes, over the {max_bytes}-byte limit; not linted (raise --max-file-size)"
        )));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(cannot_read)?;
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
            FileKind::Yaml => parse_yaml(id, &f.repo_path, &text, charts),
            FileKind::Terraform => {
                let facts = terraform::extract(&text)
                    .map_err(|e| (Span::new(id, e.offset, e.offset), e.message));
                Parsed::Terraform(facts)
            }
        }
    };
    Ok((
        SourceFile::new(f.path.clone(), f.repo_path.clone(), text),
        parsed,
    ))
}

fn parse_yaml(id: FileId, repo_path: &str, text: &str, charts: &HashSet<&str>) -> Parsed {
    if is_chart_template(repo_path, charts) {
        return Parsed::Template;
    }
    let loaded = yaml::load(id, text);
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

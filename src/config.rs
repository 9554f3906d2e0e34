//! `.cnpg-lint.yaml`: which rules run, at what severity, on which files, and rule options.
//! Parsed with the same span-preserving loader as manifests, so every mistake in it is
//! reported at its file, line and column. The JSON Schema shipped in
//! `schemas/cnpg-lint-config.schema.json` is generated from the same tables as the parser.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde_json::{json, Value};

use crate::rules::engine::OptionValues;
use crate::rules::{self, RuleOption, Severity, RULES};
use crate::source::{SourceFile, Span};
use crate::yaml::{self, Node};

pub const FILE_NAME: &str = ".cnpg-lint.yaml";
/// A configuration larger than this is refused.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// Top-level keys, with their descriptions (also the schema's).
const KEYS: &[(&str, &str)] = &[
    ("root", "Marks this directory as the repository root that Flux paths are relative to (as a `.git` directory does)."),
    ("select", "Run only these rules (codes or names)."),
    ("ignore", "Do not run these rules (codes or names)."),
    ("severity", "Override a rule's severity: `error`, `warning`, `info`, or `off`."),
    ("exclude", "Glob patterns, relative to the repository root, of files not to read at all."),
    ("per-file-ignores", "Glob pattern to the rules whose findings are not reported in matching files."),
    ("fail-on", "Lowest severity that makes the exit status 1: `error`, `warning` (default) or `info`."),
    ("rules", "Per-rule options, by rule code or name."),
    ("sources", "The directory a Flux source's artifact is built from, by `Kind/name` (an OCIRepository pushed with `flux push artifact --path=./kubernetes`: `OCIRepository/flux-system: kubernetes`). Its Kustomizations' paths are relative to it, and it is treated as this repository."),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeverityOverride {
    Set(Severity),
    Off,
}

#[derive(Debug, Default)]
pub struct Config {
    /// Where it was read from, if anywhere.
    pub path: Option<PathBuf>,
    pub root: bool,
    pub select: Vec<&'static str>,
    pub ignore: Vec<&'static str>,
    pub severity: BTreeMap<&'static str, SeverityOverride>,
    pub exclude: Vec<String>,
    pub per_file_ignores: Vec<(String, Vec<&'static str>)>,
    pub fail_on: Option<Severity>,
    /// `Kind/name` of a Flux source → the repository directory its artifact holds.
    pub sources: BTreeMap<String, String>,
    /// Rule options set under `rules:`.
    pub options: OptionValues,
}

/// A mistake in the configuration, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl Config {
    /// A rule option's value where the configuration sets it (the rule knows its default; see
    /// [`crate::rules::Ctx::option`]).
    pub fn option(&self, code: &str, key: &str) -> Option<i64> {
        self.options
            .iter()
            .find(|((c, k), _)| *c == code && *k == key)
            .map(|(_, v)| *v)
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let cannot = |message: String| ConfigError {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message,
        };
        // The file comes with the repository: a regular file of sensible size, never a link
        // (its errors quote it, and `/etc/passwd` must not be quoted).
        let bytes = crate::fsio::read_regular(path, MAX_CONFIG_BYTES)
            .map_err(|e| cannot(format!("cannot read the configuration: {e}")))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| cannot("the configuration is not UTF-8 text".into()))?;
        let mut config = Config::parse(path, &text)?;
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let file = SourceFile::new(path.to_path_buf(), String::new(), text.to_string());
        let err = |span: Span, message: String| {
            let at = file.line_col(span.start);
            ConfigError {
                path: path.to_path_buf(),
                line: at.line,
                column: at.column,
                message,
            }
        };
        let loaded = yaml::load(0, text);
        if let Some(e) = loaded.errors.first() {
            return Err(err(e.span, e.message.clone()));
        }
        let mut config = Config::default();
        let Some(root) = loaded.docs.first().map(|d| &d.root) else {
            return Ok(config);
        };
        let Some(entries) = root.as_map() else {
            return Err(err(root.span, "the configuration must be a mapping".into()));
        };
        for e in entries {
            let key = e.key.as_str().unwrap_or("");
            let v = &e.value;
            match key {
                "root" => {
                    config.root = v
                        .as_scalar()
                        .and_then(|s| s.as_bool())
                        .ok_or_else(|| err(v.span, "`root` must be true or false".into()))?
                }
                "select" => config.select = rule_list(v, &err)?,
                "ignore" => config.ignore = rule_list(v, &err)?,
                "severity" => {
                    for (k, val) in map_entries(v, "severity", &err)? {
                        let code = rule_code(k, &err)?;
                        let s = val.as_str().unwrap_or("");
                        let sev = match s {
                            "off" => SeverityOverride::Off,
                            _ => SeverityOverride::Set(Severity::parse(s).ok_or_else(|| {
                                err(
                                    val.span,
                                    format!(
                                        "severity must be error, warning, info or off, not `{s}`"
                                    ),
                                )
                            })?),
                        };
                        config.severity.insert(code, sev);
                    }
                }
                "exclude" => {
                    for g in string_list(v, "exclude", &err)? {
                        check_glob(g.0, g.1, &err)?;
                        config.exclude.push(g.0.to_string());
                    }
                }
                "per-file-ignores" => {
                    for (k, val) in map_entries(v, "per-file-ignores", &err)? {
                        let pattern = k.as_str().unwrap_or("");
                        check_glob(pattern, k.span, &err)?;
                        config
                            .per_file_ignores
                            .push((pattern.to_string(), rule_list(val, &err)?));
                    }
                }
                "fail-on" => {
                    let s = v.as_str().unwrap_or("");
                    config.fail_on = Some(Severity::parse(s).ok_or_else(|| {
                        err(
                            v.span,
                            format!("fail-on must be error, warning or info, not `{s}`"),
                        )
                    })?);
                }
                "rules" => {
                    for (k, val) in map_entries(v, "rules", &err)? {
                        let code = rule_code(k, &err)?;
                        for (opt_key, opt_val) in map_entries(val, code, &err)? {
                            let name = opt_key.as_str().unwrap_or("");
                            let declared = rules::find(code).map_or(&[][..], |r| r.meta.options);
                            let Some(opt) = declared.iter().find(|o| o.key == name) else {
                                let known: Vec<&str> = declared.iter().map(|o| o.key).collect();
                                let hint = if known.is_empty() {
                                    format!("{code} has no options")
                                } else {
                                    format!("{code} takes {}", known.join(", "))
                                };
                                return Err(err(
                                    opt_key.span,
                                    format!("unknown option `{name}`: {hint}"),
                                ));
                            };
                            let n = opt_val
                                .as_scalar()
                                .and_then(|s| s.as_i64())
                                .filter(|n| *n >= opt.minimum)
                                .ok_or_else(|| {
                                    err(
                                        opt_val.span,
                                        format!(
                                            "`{name}` must be a whole number of at least {}",
                                            opt.minimum
                                        ),
                                    )
                                })?;
                            config.options.insert((code, opt.key), n);
                        }
                    }
                }
                "sources" => {
                    for (k, val) in map_entries(v, "sources", &err)? {
                        let source = k.as_str().unwrap_or("");
                        let valid = source.split_once('/').is_some_and(|(kind, name)| {
                            ["GitRepository", "OCIRepository", "Bucket"].contains(&kind)
                                && !name.is_empty()
                        });
                        if !valid {
                            return Err(err(
                                k.span,
                                format!(
                                    "`{source}` is not a source: write `Kind/name`, with Kind \
                                     GitRepository, OCIRepository or Bucket"
                                ),
                            ));
                        }
                        let dir = val.as_str().unwrap_or("");
                        let normal =
                            crate::source::paths::join("", dir).filter(|_| !dir.is_empty());
                        let Some(dir) = normal else {
                            return Err(err(
                                val.span,
                                format!(
                                    "`{dir}` is not a directory of the repository: give a path \
                                     relative to its root"
                                ),
                            ));
                        };
                        config.sources.insert(source.to_string(), dir);
                    }
                }
                other => {
                    let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                    return Err(err(
                        e.key.span,
                        format!(
                            "unknown key `{other}`; expected one of {}",
                            known.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(config)
    }

    /// Files matching `exclude` are not read.
    pub fn exclude_set(&self) -> GlobSet {
        build_globs(self.exclude.iter().map(String::as_str))
    }

    /// The per-file-ignores, compiled.
    pub fn per_file_ignore_sets(&self) -> Vec<(GlobSet, Vec<&'static str>)> {
        self.per_file_ignores
            .iter()
            .map(|(p, codes)| (build_globs(std::iter::once(p.as_str())), codes.clone()))
            .collect()
    }
}

fn build_globs<'a>(patterns: impl Iterator<Item = &'a str>) -> GlobSet {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        if let Ok(g) = Glob::new(p) {
            b.add(g);
        }
        // `dir/**` also means the directory's files when written as `dir/`.
        if let Some(dir) = p.strip_suffix('/') {
            if let Ok(g) = Glob::new(&format!("{dir}/**")) {
                b.add(g);
            }
        }
    }
    b.build().unwrap_or_else(|_| GlobSet::empty())
}

fn check_glob<E>(pattern: &str, span: Span, err: &E) -> Result<(), ConfigError>
where
    E: Fn(Span, String) -> ConfigError,
{
    Glob::new(pattern)
        .map(|_| ())
        .map_err(|e| err(span, format!("invalid glob `{pattern}`: {e}")))
}

fn map_entries<'a, E>(
    v: &'a Node,
    what: &str,
    err: &E,
) -> Result<Vec<(&'a Node, &'a Node)>, ConfigError>
where
    E: Fn(Span, String) -> ConfigError,
{
    if v.is_null() {
        return Ok(Vec::new());
    }
    let entries = v
        .as_map()
        .ok_or_else(|| err(v.span, format!("`{what}` must be a mapping")))?;
    Ok(entries.iter().map(|e| (&e.key, &e.value)).collect())
}

fn string_list<'a, E>(v: &'a Node, what: &str, err: &E) -> Result<Vec<(&'a str, Span)>, ConfigError>
where
    E: Fn(Span, String) -> ConfigError,
{
    if v.is_null() {
        return Ok(Vec::new());
    }
    let items = v
        .as_seq()
        .ok_or_else(|| err(v.span, format!("`{what}` must be a list")))?;
    items
        .iter()
        .map(|i| {
            i.as_str()
                .map(|s| (s, i.span))
                .ok_or_else(|| err(i.span, format!("`{what}` entries must be strings")))
        })
        .collect()
}

fn rule_code<E>(k: &Node, err: &E) -> Result<&'static str, ConfigError>
where
    E: Fn(Span, String) -> ConfigError,
{
    let name = k.as_str().unwrap_or("");
    rules::find(name).map(|r| r.meta.code).ok_or_else(|| {
        err(
            k.span,
            format!("unknown rule `{name}`; `cnpg-lint rules` lists them"),
        )
    })
}

fn rule_list<E>(v: &Node, err: &E) -> Result<Vec<&'static str>, ConfigError>
where
    E: Fn(Span, String) -> ConfigError,
{
    let items = match &v.kind {
        yaml::Kind::Seq(items) => items.iter().collect(),
        // A single comma-separated string, as on the command line.
        yaml::Kind::Scalar(_) if !v.is_null() => vec![v],
        _ if v.is_null() => Vec::new(),
        _ => return Err(err(v.span, "expected a list of rule codes or names".into())),
    };
    let mut out = Vec::new();
    for item in items {
        let text = item.as_str().unwrap_or("");
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out.push(rules::find(part).map(|r| r.meta.code).ok_or_else(|| {
                err(
                    item.span,
                    format!("unknown rule `{part}`; `cnpg-lint rules` lists them"),
                )
            })?);
        }
    }
    Ok(out)
}

/// The nearest `.cnpg-lint.yaml` from `start` up to and including `root`.
pub fn find(start: &Path, root: &Path) -> Option<PathBuf> {
    let start = if start.is_dir() {
        start
    } else {
        start.parent()?
    };
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        if dir == root {
            break;
        }
    }
    None
}

/// The JSON Schema of the configuration file, from the same tables the parser uses.
pub fn schema() -> Value {
    let desc = |k: &str| KEYS.iter().find(|(n, _)| *n == k).map_or("", |(_, d)| d);
    let mut rule_names: Vec<String> = Vec::new();
    for r in RULES {
        rule_names.push(r.meta.code.to_string());
        rule_names.push(r.meta.name.to_string());
    }
    let rule_ref = json!({ "type": "string", "enum": rule_names });
    let rule_list = json!({
        "oneOf": [
            { "type": "array", "items": { "$ref": "#/definitions/rule" } },
            { "type": "string", "description": "Comma-separated codes or names." }
        ]
    });
    let mut severity_props = serde_json::Map::new();
    let mut rules_props = serde_json::Map::new();
    for r in RULES {
        for key in [r.meta.code, r.meta.name] {
            severity_props.insert(key.to_string(), json!({ "$ref": "#/definitions/severity" }));
        }
        let opts: Vec<&RuleOption> = r.meta.options.iter().collect();
        let mut props = serde_json::Map::new();
        for o in &opts {
            props.insert(
                o.key.to_string(),
                json!({
                    "type": "integer",
                    "minimum": o.minimum,
                    "default": o.default,
                    "description": o.description
                }),
            );
        }
        let obj = json!({ "type": "object", "additionalProperties": false, "properties": props });
        for key in [r.meta.code, r.meta.name] {
            rules_props.insert(key.to_string(), obj.clone());
        }
    }
    json!({
        "$schema": "https://json-schema.org/draft-07/schema#",
        "title": "cnpg-lint configuration (.cnpg-lint.yaml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "root": { "type": "boolean", "description": desc("root") },
            "select": { "description": desc("select"), "allOf": [rule_list.clone()] },
            "ignore": { "description": desc("ignore"), "allOf": [rule_list.clone()] },
            "severity": {
                "description": desc("severity"),
                "type": "object",
                "additionalProperties": false,
                "properties": severity_props
            },
            "exclude": {
                "description": desc("exclude"),
                "type": "array",
                "items": { "type": "string" }
            },
            "per-file-ignores": {
                "description": desc("per-file-ignores"),
                "type": "object",
                "additionalProperties": rule_list
            },
            "fail-on": { "description": desc("fail-on"), "enum": ["error", "warning", "info"] },
            "rules": {
                "description": desc("rules"),
                "type": "object",
                "additionalProperties": false,
                "properties": rules_props
            },
            "sources": {
                "description": desc("sources"),
                "type": "object",
                "propertyNames": { "pattern": "^(GitRepository|OCIRepository|Bucket)/.+$" },
                "additionalProperties": { "type": "string" }
            }
        },
        "definitions": {
            "rule": rule_ref,
            "severity": { "enum": ["error", "warning", "info", "off"] }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new(".cnpg-lint.yaml"), text)
    }

    #[test]
    fn full_configuration() {
        let c = parse(
            "root: true\nselect: [CNPG101, shared-flux-kustomization]\nignore: CNPG402\n\
             severity:\n  CNPG401: error\n  CNPG201: off\nexclude: [\"archive/**\"]\n\
             per-file-ignores:\n  \"apps/legacy/**\": [CNPG101]\nfail-on: error\n\
             rules:\n  CNPG102:\n    safety-margin-days: 3\n",
        )
        .unwrap();
        assert!(c.root);
        assert_eq!(c.select, ["CNPG101", "CNPG401"]);
        assert_eq!(c.ignore, ["CNPG402"]);
        assert_eq!(
            c.severity.get("CNPG401"),
            Some(&SeverityOverride::Set(Severity::Error))
        );
        assert_eq!(c.severity.get("CNPG201"), Some(&SeverityOverride::Off));
        assert_eq!(c.fail_on, Some(Severity::Error));
        assert_eq!(c.option("CNPG102", "safety-margin-days"), Some(3));
        assert!(c.exclude_set().is_match("archive/x/y.yaml"));
        assert!(c.per_file_ignore_sets()[0].0.is_match("apps/legacy/a.yaml"));
    }

    #[test]
    fn mistakes_are_located() {
        let e = parse("select: [CNPG101]\nbogus: 1\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("unknown key `bogus`"));
        let e = parse("severity:\n  CNPG101: loud\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 12));
        let e = parse("rules:\n  CNPG102:\n    margin: 1\n").unwrap_err();
        assert!(e.message.contains("safety-margin-days"), "{}", e.message);
        let e = parse("ignore: [CNPG999]\n").unwrap_err();
        assert!(e.message.contains("CNPG999"));
        let e = parse("rules:\n  CNPG102:\n    safety-margin-days: -1\n").unwrap_err();
        assert_eq!(e.line, 3);
        let e = parse("select: [\n").unwrap_err();
        assert!(e.line >= 1);
        assert_eq!(
            parse("").unwrap().option("CNPG102", "safety-margin-days"),
            None
        );
    }
}

//! Validates each applied object against its CRD schema and names what is wrong at the key or
//! value to change. Values still holding a `${VAR}` are unknown, so nothing at or below them
//! is reported; values Flux substituted were re-typed by the renderer, so `instances: ${N}`
//! with `N: "3"` is the integer 3, as the API server will see it.

use std::collections::HashSet;

use jsonschema::error::ValidationErrorKind;
use rayon::prelude::*;
use serde_json::Value;

use super::catalog::{self, Compiled};
use super::json::{self, segments};
use super::plan::Plan;
use super::{admits_null, child_schema};
use super::{cel, removed, Category, Issue};
use crate::discover::IoProblem;
use crate::index::{Index, InstId};
use crate::model::DocId;
use crate::source::paths::is_within;
use crate::yaml::{path_string, Seg, Target};

/// Every schema issue of every applied object, sorted by document; and the files whose check
/// failed inside this tool (a bug, reported as an internal error naming the file).
pub fn check_all(index: &Index) -> (Vec<Issue>, Vec<IoProblem>) {
    // One source document rendered into several builds is checked once per rendering; the
    // engine merges identical findings.
    let mut seen = HashSet::new();
    let targets: Vec<(InstId, DocId)> = index
        .instances
        .iter()
        .enumerate()
        .filter(|(_, inst)| seen.insert(inst.doc))
        .map(|(i, inst)| (i as InstId, inst.doc))
        .collect();
    // Compile the schemas this repository needs side by side, before the objects queue up
    // behind the first thread to compile the large ones (Cluster, Pooler).
    let mut kinds: Vec<(&str, &str, &str)> = targets
        .iter()
        .filter_map(|&(_, d)| {
            let h = index.doc(d)?.header.as_ref()?;
            let version = h.api_version.rsplit_once('/')?.1;
            Some((h.group.as_str(), version, h.kind_name.as_str()))
        })
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds.par_iter().for_each(|&(g, v, k)| {
        catalog::compiled(g, v, k);
    });
    let results: Vec<Result<Vec<Issue>, IoProblem>> = targets
        .par_iter()
        .map(|&(inst, doc)| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_doc(index, inst, doc)))
                .map_err(|panic| IoProblem {
                    path: index
                        .doc(doc)
                        .and_then(|d| index.sources.get(d.file))
                        .map_or_else(String::new, |f| f.repo_path.clone()),
                    message: format!(
                        "internal error while validating an object against its schema ({}); please report it",
                        crate::guard::panic_message(panic.as_ref())
                    ),
                })
        })
        .collect();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for r in results {
        match r {
            Ok(mut issues) => out.append(&mut issues),
            Err(p) => problems.push(p),
        }
    }
    out.sort_by_key(|i| i.doc);
    (out, problems)
}

fn check_doc(index: &Index, inst: InstId, doc_id: DocId) -> Vec<Issue> {
    let Some(doc) = index.doc(doc_id) else {
        return Vec::new();
    };
    let Some(h) = &doc.header else {
        return Vec::new();
    };
    let version = h
        .api_version
        .rsplit_once('/')
        .map_or(h.api_version.as_str(), |(_, v)| v);
    if let Some(compiled) = catalog::compiled(&h.group, version, &h.kind_name) {
        return validate(compiled, &doc.root, inst, doc_id);
    }
    let served = catalog::served_versions(&h.group, &h.kind_name);
    let removal = removed::removal(&h.group, version, &h.kind_name);
    // A served version whose schema did not compile is a defect of this tool (a test compiles
    // every schema), never a removed apiVersion.
    if (served.is_empty() && removal.is_none()) || served.contains(&version) {
        return Vec::new();
    }
    // Said as an upgrade fact: a repository may still run a Flux that serves the version.
    let message = match removal {
        Some(r) => format!(
            "`{}` {} was removed in {}: from that release on, applying it fails with \"no \
             matches for kind\"",
            h.api_version, h.kind_name, r.removed_in
        ),
        None => format!(
            "`{}` {} is not served by current controllers: applying it fails with \"no matches \
             for kind\"",
            h.api_version, h.kind_name
        ),
    };
    let help = match served.as_slice() {
        [] => None,
        versions => Some(format!(
            "Use apiVersion: {}/{}, and check the fields that changed between the versions.",
            h.group,
            versions.join(" or ")
        )),
    };
    vec![Issue {
        category: Category::RemovedApi,
        inst,
        doc: doc_id,
        path: vec![Seg::Key("apiVersion".into())],
        target: Target::Value,
        message,
        help,
    }]
}

fn validate(compiled: &Compiled, root: &crate::yaml::Node, inst: InstId, doc: DocId) -> Vec<Issue> {
    let mut converted = json::convert_for(root, Some(&compiled.schema));
    let nulls = contains_null(&converted.value);
    apply_defaults(
        &mut converted.value,
        &compiled.schema,
        compiled.plan(),
        nulls,
        0,
    );
    let value = &converted.value;
    let unknown = &converted.unknown;
    let under_unknown = |p: &str| unknown.iter().any(|u| is_within(p, u));
    let has_unknown_below = |p: &str| unknown.iter().any(|u| is_within(u, p));
    let mut out = Vec::new();
    // Most objects are valid, and the yes/no check is much cheaper than collecting errors.
    let errors = if compiled.validator.is_valid(value) {
        None
    } else {
        Some(compiled.validator.iter_errors(value))
    };
    for err in errors.into_iter().flatten() {
        let at = err.instance_path().as_str().to_string();
        // The status subresource ignores what a manifest writes there.
        if under_unknown(&at) || is_within(&at, "/status") {
            continue;
        }
        let schema_path = err.schema_path().as_str().to_string();
        let segs = path_of(value, &at);
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    if crate::model::value::has_placeholder(name) {
                        continue;
                    }
                    out.push(unknown_field(
                        compiled,
                        &segs,
                        &schema_path,
                        name,
                        inst,
                        doc,
                    ));
                }
            }
            // The API server prunes a null it may not hold before it validates.
            ValidationErrorKind::Type { .. } if lookup(value, &at).is_some_and(Value::is_null) => {}
            kind => {
                // A combinator failed: an unknown value below may be what would satisfy it.
                if matches!(
                    kind,
                    ValidationErrorKind::AnyOf { .. }
                        | ValidationErrorKind::OneOfNotValid { .. }
                        | ValidationErrorKind::OneOfMultipleValid { .. }
                        | ValidationErrorKind::Not { .. }
                ) && has_unknown_below(&at)
                {
                    continue;
                }
                let instance = lookup(value, &at);
                let keyword = lookup(&compiled.schema, &schema_path);
                let (message, help, target) = describe(
                    kind,
                    &segs,
                    instance,
                    keyword,
                    &compiled.schema,
                    &schema_path,
                    &err.to_string(),
                );
                // A finding on the whole object points at its `kind`.
                let (path, target) = if segs.is_empty() {
                    (vec![Seg::Key("kind".into())], Target::Value)
                } else {
                    (segs, target)
                };
                out.push(Issue {
                    category: Category::Violation,
                    inst,
                    doc,
                    path,
                    target,
                    message,
                    help,
                });
            }
        }
    }
    for v in cel::check(&compiled.schema, compiled.plan(), value, unknown) {
        out.push(Issue {
            category: Category::Violation,
            inst,
            doc,
            path: path_of(value, &v.pointer),
            target: Target::Key,
            message: format!("{}: {}", where_(&path_of(value, &v.pointer)), v.message),
            help: Some(format!(
                "The CRD's validation rule `{}` rejects this object.",
                v.rule
            )),
        });
    }
    out
}

/// Prepares the object as the API server does before it validates: a null in a field that may
/// not hold null becomes the field's default, or is dropped; absent fields with a default get it
/// (so a required field with a default may be left out).
/// Where the object holds no null, only the subtrees whose schema has a default somewhere
/// below need a visit.
fn apply_defaults(value: &mut Value, schema: &Value, plan: &Plan, nulls: bool, depth: usize) {
    if depth > 256 || !(nulls || plan.has_defaults_below(schema)) {
        return;
    }
    match value {
        Value::Object(m) => {
            if nulls {
                m.retain(|k, v| {
                    !(v.is_null()
                        && child_schema(schema, k)
                            .is_some_and(|s| !admits_null(s) && s.get("default").is_none()))
                });
            }
            for d in plan.defaults(schema) {
                let absent = m.get(&d.key).is_none_or(|v| v.is_null() && !d.nullable);
                if absent {
                    m.insert(d.key.clone(), d.value.clone());
                }
            }
            for (k, v) in m.iter_mut() {
                if let Some(s) = child_schema(schema, k) {
                    apply_defaults(v, s, plan, nulls, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                for v in items {
                    apply_defaults(v, s, plan, nulls, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// Whether a null appears anywhere in the value (iteratively: converted objects may be deep).
fn contains_null(value: &Value) -> bool {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::Null => return true,
            Value::Array(items) => stack.extend(items),
            Value::Object(m) => stack.extend(m.values()),
            _ => {}
        }
    }
    false
}

/// The value at a JSON Pointer.
pub fn lookup<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
    let mut v = root;
    for s in segments(pointer) {
        v = match v {
            Value::Object(m) => m.get(&s)?,
            Value::Array(a) => a.get(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// A JSON Pointer as a YAML path, using the value to tell indices from keys.
fn path_of(root: &Value, pointer: &str) -> Vec<Seg> {
    let mut v = Some(root);
    let mut out = Vec::new();
    for s in segments(pointer) {
        match v {
            Some(Value::Array(a)) => {
                let i = s.parse::<usize>().unwrap_or(usize::MAX);
                v = a.get(i);
                out.push(Seg::Index(i));
            }
            Some(Value::Object(m)) => {
                v = m.get(&s);
                out.push(Seg::Key(s.into()));
            }
            _ => {
                v = None;
                out.push(Seg::Key(s.into()));
            }
        }
    }
    out
}

fn where_(segs: &[Seg]) -> String {
    if segs.is_empty() {
        "the object".into()
    } else {
        format!("`{}`", path_string(segs))
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn expected_types(t: Option<&Value>) -> String {
    let one = |s: &str| match s {
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "boolean" => "a boolean",
        "array" => "a list",
        "object" => "a mapping",
        "null" => "null",
        _ => "another type",
    };
    match t {
        Some(Value::String(s)) => one(s).to_string(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "another type".into(),
    }
}

fn short(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

/// The message, help and target for a keyword error.
fn describe(
    kind: &ValidationErrorKind,
    segs: &[Seg],
    instance: Option<&Value>,
    keyword: Option<&Value>,
    schema: &Value,
    schema_path: &str,
    fallback: &str,
) -> (String, Option<String>, Target) {
    let here = where_(segs);
    let container = matches!(instance, Some(Value::Object(_) | Value::Array(_)));
    let target = if container && !segs.is_empty() {
        Target::Key
    } else {
        Target::Value
    };
    match kind {
        ValidationErrorKind::Type { .. } => {
            let expected = expected_types(keyword);
            let actual = instance.map_or("missing", type_name);
            let help = match instance {
                Some(Value::String(s)) if retypes(s, keyword) => Some(format!(
                    "Remove the quotes around `{s}`: a quoted value is a string to Kubernetes."
                )),
                Some(Value::Number(_) | Value::Bool(_))
                    if keyword.and_then(Value::as_str) == Some("string") =>
                {
                    Some(
                        "Quote the value: unquoted, YAML reads it as a number or a boolean.".into(),
                    )
                }
                _ => None,
            };
            // A label value that is not a string: kustomize-controller reads an object's labels
            // as a string map (apimachinery `GetLabels`, which gives nothing when one value is
            // not a string) before adding its own, so the object is applied with only Flux's
            // two ownership labels (fluxcd/pkg ssa `SetOwnerLabels`), silently.
            let is_label =
                matches!(segs, [Seg::Key(m), Seg::Key(l), _] if m == "metadata" && l == "labels");
            let consequence =
                if is_label && matches!(instance, Some(Value::Number(_) | Value::Bool(_))) {
                    ": under Flux, kustomize-controller then drops every label of this object and \
                 applies it with only its own ownership labels, without an error (kubectl \
                 rejects it)"
                } else {
                    ""
                };
            (
                format!("{here} must be {expected}, not {actual}{consequence}"),
                help,
                target,
            )
        }
        ValidationErrorKind::Enum { options } => {
            let list = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|o| format!("`{}`", short(o)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let value = instance.map(short).unwrap_or_default();
            (
                format!("{here} is `{value}`, which is not one of {list}"),
                None,
                target,
            )
        }
        ValidationErrorKind::Pattern { pattern } => {
            let value = instance.map(short).unwrap_or_default();
            (
                format!("{here} is `{value}`, which does not match the pattern `{pattern}`"),
                None,
                target,
            )
        }
        ValidationErrorKind::Required { property } => {
            let p = property.as_str().unwrap_or("?");
            (
                format!("{here} is missing the required field `{p}`"),
                None,
                Target::Key,
            )
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit }
        | ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            let bound = match kind {
                ValidationErrorKind::Minimum { .. }
                | ValidationErrorKind::ExclusiveMinimum { .. } => "below the minimum",
                _ => "above the maximum",
            };
            let value = instance.map(short).unwrap_or_default();
            (
                format!("{here} is {value}, {bound} of {limit}"),
                None,
                target,
            )
        }
        // The value is not quoted whole: a list of 4,000 images would make a 4,000-line
        // message. Its size is what matters.
        ValidationErrorKind::MaxItems { limit } | ValidationErrorKind::MinItems { limit } => {
            let n = instance.and_then(Value::as_array).map_or(0, Vec::len);
            let (bound, verb) = match kind {
                ValidationErrorKind::MaxItems { .. } => ("more", "allows"),
                _ => ("fewer", "requires"),
            };
            let first = instance
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .map(|v| format!(" (the first is `{}`)", short(v)))
                .unwrap_or_default();
            (
                format!("{here} has {n} items{first}, {bound} than the {limit} its schema {verb}"),
                None,
                target,
            )
        }
        ValidationErrorKind::MaxLength { limit } | ValidationErrorKind::MinLength { limit } => {
            let n = instance
                .and_then(Value::as_str)
                .map_or(0, |s| s.chars().count());
            let value = instance.map(short).unwrap_or_default();
            let bound = match kind {
                ValidationErrorKind::MaxLength { .. } => "longer than the maximum",
                _ => "shorter than the minimum",
            };
            (
                format!("{here} is `{value}` ({n} characters), {bound} of {limit}"),
                None,
                target,
            )
        }
        ValidationErrorKind::MaxProperties { limit }
        | ValidationErrorKind::MinProperties { limit } => {
            let n = instance.and_then(Value::as_object).map_or(0, |m| m.len());
            let (bound, verb) = match kind {
                ValidationErrorKind::MaxProperties { .. } => ("more", "allows"),
                _ => ("fewer", "requires"),
            };
            (
                format!("{here} has {n} fields, {bound} than the {limit} its schema {verb}"),
                None,
                target,
            )
        }
        ValidationErrorKind::AnyOf { .. } if int_or_string(schema, schema_path) => {
            let actual = instance.map_or("missing", type_name);
            (
                format!("{here} must be an integer or a string, not {actual}"),
                None,
                target,
            )
        }
        _ => (format!("{here}: {fallback}"), None, target),
    }
}

/// Whether a string would read as the expected scalar type without its quotes.
fn retypes(s: &str, expected: Option<&Value>) -> bool {
    let plain = crate::yaml::Scalar {
        text: s.into(),
        style: crate::yaml::Style::Plain,
    };
    let as_plain = json::scalar(&plain, None);
    let want = |t: &str| match t {
        "integer" => as_plain.is_i64() || as_plain.is_u64(),
        "number" => as_plain.is_number(),
        "boolean" => as_plain.is_boolean(),
        _ => false,
    };
    match expected {
        Some(Value::String(t)) => want(t),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(want),
        _ => false,
    }
}

fn int_or_string(schema: &Value, schema_path: &str) -> bool {
    lookup(schema, schema_path)
        .and_then(Value::as_array)
        .is_some_and(|a| {
            let types: Vec<&str> = a.iter().filter_map(|s| s.get("type")?.as_str()).collect();
            types == ["integer", "string"]
        })
}

/// The schema node for an instance path, following properties, items and
/// additionalProperties.
fn schema_at<'s>(schema: &'s Value, segs: &[Seg]) -> Option<&'s Value> {
    let mut s = schema;
    for seg in segs {
        s = match seg {
            Seg::Key(k) => child_schema(s, k)?,
            Seg::Index(_) => s.get("items")?,
        };
    }
    Some(s)
}

fn property_names(s: &Value) -> Vec<&str> {
    s.get("properties")
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn unknown_field(
    compiled: &Compiled,
    segs: &[Seg],
    schema_path: &str,
    name: &str,
    inst: InstId,
    doc: DocId,
) -> Issue {
    let parent_schema = schema_path
        .strip_suffix("/additionalProperties")
        .and_then(|p| lookup(&compiled.schema, p))
        .or_else(|| schema_at(&compiled.schema, segs));
    let known = parent_schema.map(property_names).unwrap_or_default();
    let mut path = segs.to_vec();
    path.push(Seg::Key(name.into()));
    let parent = where_(segs);
    let message = format!(
        "`{name}` is not a field of {parent}: the API server drops it without an error, so the \
         setting never applies"
    );
    let help = suggestion(&compiled.schema, segs, name, &known);
    Issue {
        category: Category::UnknownField,
        inst,
        doc,
        path,
        target: Target::Key,
        message,
        help,
    }
}

/// "Did you mean" from the known fields here, or the nearest enclosing mapping that does have
/// the field (a setting written one level too deep).
fn suggestion(schema: &Value, segs: &[Seg], name: &str, known: &[&str]) -> Option<String> {
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) {
        return Some(format!("Field names are case-sensitive: write `{k}`."));
    }
    let best = known
        .iter()
        .map(|k| {
            (
                distance(&k.to_ascii_lowercase(), &name.to_ascii_lowercase()),
                *k,
            )
        })
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min();
    if let Some((_, k)) = best {
        return Some(format!("Did you mean `{k}`?"));
    }
    for depth in (0..segs.len()).rev() {
        let ancestor = &segs[..depth];
        if let Some(s) = schema_at(schema, ancestor) {
            if property_names(s).contains(&name) {
                let at = if ancestor.is_empty() {
                    "the top level".to_string()
                } else {
                    format!("`{}`", path_string(ancestor))
                };
                return Some(format!(
                    "`{name}` belongs under {at}, not under `{}`.",
                    path_string(segs)
                ));
            }
        }
    }
    if known.is_empty() {
        None
    } else {
        let mut list: Vec<&str> = known.to_vec();
        list.sort_unstable();
        let shown: Vec<String> = list.iter().take(12).map(|k| format!("`{k}`")).collect();
        let more = if list.len() > 12 { ", …" } else { "" };
        Some(format!("Known fields here: {}{more}.", shown.join(", ")))
    }
}

/// Optimal string alignment distance (Damerau-Levenshtein with adjacent transpositions).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    if let Some(first) = d.first_mut() {
        for (j, cell) in first.iter_mut().enumerate() {
            *cell = j;
        }
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(distance("backup", "bakcup"), 1);
        assert_eq!(distance("backup", "bakup"), 1);
        assert_eq!(distance("storage", "storage"), 0);
    }
}

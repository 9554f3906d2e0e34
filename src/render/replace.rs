//! kustomize `replacements`: copy a field of one object into fields of others, after every
//! other transformer (`ReplacementTransformer` is the last builtin in kustomize's
//! `configureBuiltinTransformers`, `api/internal/target/kusttarget_configplugin.go`), as
//! `api/filters/replacement/replacement.go` does:
//! - the source is the one object its selector picks, and its `fieldPath` (default
//!   `metadata.name`), optionally one part of it split at `options.delimiter`;
//! - each target selects objects (less the `reject`ed ones) and sets each of its `fieldPaths`:
//!   into a scalar only the text is copied (the target keeps its quoting); a mapping or list
//!   replaces the target node; `options.create` makes missing fields, and `options.delimiter`
//!   replaces one part of the target's text.
//!
//! Copied values keep the span where the source value was written.

use super::select::Selector;
use crate::yaml::{Entry, Kind, Node, Scalar, Style};

/// Why a replacement could not be applied: kustomize fails the build on each of these.
pub struct Failure {
    pub message: String,
}

fn fail<T>(message: impl Into<String>) -> Result<T, Failure> {
    Err(Failure {
        message: message.into(),
    })
}

/// Applies one replacement (a `source` and its `targets`) to `objs`.
pub fn apply(replacement: &Node, objs: &mut [&mut Node]) -> Result<(), Failure> {
    let (Some(source), Some(targets)) = (replacement.get("source"), replacement.get("targets"))
    else {
        return fail("replacements must specify a source and at least one target");
    };
    let value = source_value(source, objs)?;
    for target in targets.as_seq().unwrap_or(&[]) {
        let Some(select) = target.get("select") else {
            return fail("target must specify resources to select");
        };
        let select = Selector::from_node(select).map_err(|message| Failure { message })?;
        let rejects: Vec<Selector> = target
            .get("reject")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(Selector::from_node)
            .collect::<Result<_, _>>()
            .map_err(|message| Failure { message })?;
        let paths: Vec<String> = match target.get("fieldPaths").and_then(Node::as_seq) {
            Some(p) => p
                .iter()
                .filter_map(Node::as_str)
                .map(str::to_string)
                .collect(),
            None => vec!["metadata.name".to_string()],
        };
        let opt = |k: &str| target.at(&["options", k]);
        let create = opt("create")
            .and_then(|n| n.as_scalar()?.as_bool())
            .unwrap_or(false);
        let delimiter = opt("delimiter").and_then(Node::as_str).unwrap_or("");
        let index = opt("index")
            .and_then(|n| n.as_scalar()?.as_i64())
            .unwrap_or(0);
        for obj in objs.iter_mut() {
            if !select.matches(obj) || rejects.iter().any(|r| r.matches(obj)) {
                continue;
            }
            for path in &paths {
                let segs = split_path(path);
                let fields = if create {
                    vec![create_path(obj, &segs, &value)?]
                } else {
                    find_all(obj, &segs)
                };
                if fields.is_empty() {
                    return fail(format!(
                        "unable to find field \"{path}\" in replacement target"
                    ));
                }
                for field in fields {
                    set(field, &value, delimiter, index)?;
                }
            }
        }
    }
    Ok(())
}

/// The source object's value, refined by `options.delimiter` and `options.index`.
fn source_value(source: &Node, objs: &[&mut Node]) -> Result<Node, Failure> {
    let select = Selector::from_node(source).map_err(|message| Failure { message })?;
    let mut matches = objs.iter().filter(|o| select.matches(o));
    let Some(obj) = matches.next() else {
        return fail("nothing selected by the replacement source");
    };
    if matches.next().is_some() {
        return fail("multiple matches for the replacement source");
    }
    let path = source
        .get("fieldPath")
        .and_then(Node::as_str)
        .unwrap_or("metadata.name");
    let Some(found) = find_all_ref(obj, &split_path(path)).into_iter().next() else {
        return fail(format!(
            "fieldPath `{path}` is missing for replacement source"
        ));
    };
    let mut value = found.clone();
    let delimiter = source
        .at(&["options", "delimiter"])
        .and_then(Node::as_str)
        .unwrap_or("");
    if !delimiter.is_empty() {
        let Kind::Scalar(s) = &value.kind else {
            return fail("delimiter option can only be used with scalar nodes");
        };
        let index = source
            .at(&["options", "index"])
            .and_then(|n| n.as_scalar()?.as_i64())
            .unwrap_or(0);
        let parts: Vec<&str> = s.text.split(delimiter).collect();
        let Some(part) = usize::try_from(index).ok().and_then(|i| parts.get(i)) else {
            return fail(format!(
                "options.index {index} is out of bounds for value {}",
                s.text
            ));
        };
        let part = part.to_string();
        if let Kind::Scalar(s) = &mut value.kind {
            s.text = part.into();
        }
    }
    Ok(value)
}

/// A field path split at dots, except inside `[...]` (kyaml's `SmarterPathSplitter`).
fn split_path(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth = depth.saturating_sub(1);
                cur.push(c);
            }
            '.' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// How one path element picks children.
enum Step<'a> {
    Field(&'a str),
    /// `[key=value]`: the list items whose `key` is `value` (`*` in value: any).
    Match(&'a str, &'a str),
    Index(usize),
    /// `*`: every child.
    Any,
}

fn step(seg: &str) -> Step<'_> {
    if seg == "*" {
        return Step::Any;
    }
    if let Some(inner) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        if let Some((k, v)) = inner.split_once('=') {
            return Step::Match(k, v);
        }
        if let Ok(i) = inner.parse() {
            return Step::Index(i);
        }
    }
    if let Ok(i) = seg.parse() {
        return Step::Index(i);
    }
    Step::Field(seg)
}

fn item_matches(item: &Node, key: &str, value: &str) -> bool {
    item.get(key)
        .and_then(Node::as_str)
        .is_some_and(|v| value == "*" || v == value)
}

fn find_all_ref<'n>(node: &'n Node, segs: &[String]) -> Vec<&'n Node> {
    let mut cur = vec![node];
    for seg in segs {
        let mut next = Vec::new();
        for n in cur {
            match (step(seg), &n.kind) {
                (Step::Field(f), Kind::Map(_)) => next.extend(n.get(f)),
                (Step::Any, Kind::Map(es)) => next.extend(es.iter().map(|e| &e.value)),
                (Step::Any, Kind::Seq(items)) => next.extend(items.iter()),
                (Step::Index(i), Kind::Seq(items)) => next.extend(items.get(i)),
                (Step::Match(k, v), Kind::Seq(items)) => {
                    next.extend(items.iter().filter(|it| item_matches(it, k, v)));
                }
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

/// Every field the path reaches, for writing.
fn find_all<'n>(node: &'n mut Node, segs: &[String]) -> Vec<&'n mut Node> {
    let mut cur = vec![node];
    for seg in segs {
        let mut next = Vec::new();
        for n in cur {
            match (step(seg), &mut n.kind) {
                (Step::Field(f), Kind::Map(es)) => {
                    next.extend(
                        es.iter_mut()
                            .filter(|e| e.key.as_str() == Some(f))
                            .map(|e| &mut e.value)
                            .take(1),
                    );
                }
                (Step::Any, Kind::Map(es)) => next.extend(es.iter_mut().map(|e| &mut e.value)),
                (Step::Any, Kind::Seq(items)) => next.extend(items.iter_mut()),
                (Step::Index(i), Kind::Seq(items)) => next.extend(items.get_mut(i)),
                (Step::Match(k, v), Kind::Seq(items)) => {
                    next.extend(items.iter_mut().filter(|it| item_matches(it, k, v)));
                }
                _ => {}
            }
        }
        cur = next;
    }
    cur
}

/// The field at `segs`, made where missing (mappings for names, a list item for `[k=v]`).
fn create_path<'n>(
    node: &'n mut Node,
    segs: &[String],
    value: &Node,
) -> Result<&'n mut Node, Failure> {
    let span = value.span;
    let mut cur = node;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        let fresh = || -> Node {
            if last {
                Node {
                    span,
                    tag: None,
                    kind: match &value.kind {
                        Kind::Map(_) => Kind::Map(Vec::new()),
                        Kind::Seq(_) => Kind::Seq(Vec::new()),
                        Kind::Scalar(_) => Kind::Scalar(Scalar {
                            text: "".into(),
                            style: Style::Plain,
                        }),
                    },
                }
            } else {
                Node {
                    span,
                    tag: None,
                    kind: Kind::Map(Vec::new()),
                }
            }
        };
        if cur.is_null() {
            cur.kind = Kind::Map(Vec::new());
        }
        // Where the next node is (made first when missing), found before borrowing it.
        let at: Option<usize> = match (step(seg), &mut cur.kind) {
            (Step::Field(f), Kind::Map(es)) => {
                Some(match es.iter().position(|e| e.key.as_str() == Some(f)) {
                    Some(p) => p,
                    None => {
                        es.push(Entry {
                            key: Node {
                                span,
                                tag: None,
                                kind: Kind::Scalar(Scalar {
                                    text: f.into(),
                                    style: Style::Plain,
                                }),
                            },
                            value: fresh(),
                        });
                        es.len() - 1
                    }
                })
            }
            (Step::Index(n), Kind::Seq(items)) => (n < items.len()).then_some(n),
            (Step::Match(k, v), Kind::Seq(items)) => {
                Some(match items.iter().position(|it| item_matches(it, k, v)) {
                    Some(p) => p,
                    None => {
                        let mut item = Node {
                            span,
                            tag: None,
                            kind: Kind::Map(Vec::new()),
                        };
                        super::transform::set(
                            &mut item,
                            k,
                            super::transform::scalar(v, span),
                            span,
                        );
                        items.push(item);
                        items.len() - 1
                    }
                })
            }
            _ => None,
        };
        let next = match (at, &mut cur.kind) {
            (Some(p), Kind::Map(es)) => es.get_mut(p).map(|e| &mut e.value),
            (Some(p), Kind::Seq(items)) => items.get_mut(p),
            _ => None,
        };
        let Some(next) = next else {
            return fail(format!(
                "unable to find or create field \"{}\" in replacement target",
                segs.join(".")
            ));
        };
        cur = next;
    }
    Ok(cur)
}

/// Writes the value into one target field.
fn set(field: &mut Node, value: &Node, delimiter: &str, index: i64) -> Result<(), Failure> {
    let mut value = value.clone();
    if !delimiter.is_empty() {
        let (Kind::Scalar(target), Kind::Scalar(v)) = (&field.kind, &mut value.kind) else {
            return fail("delimiter option can only be used with scalar nodes");
        };
        let mut parts: Vec<String> = target.text.split(delimiter).map(str::to_string).collect();
        let v_text = v.text.to_string();
        match usize::try_from(index) {
            Err(_) => parts.insert(0, v_text),
            Ok(i) if i >= parts.len() => parts.push(v_text),
            Ok(i) => parts[i] = v_text,
        }
        v.text = parts.join(delimiter).into();
    }
    match (&mut field.kind, value.kind) {
        // Into a scalar only the text goes: the target keeps its style (a quoted `"1"` stays
        // a string), as kustomize does.
        (Kind::Scalar(t), Kind::Scalar(v)) => {
            t.text = v.text;
            field.span = value.span;
        }
        (_, kind) => {
            field.kind = kind;
            field.span = value.span;
            field.tag = value.tag;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_split_at_dots_outside_brackets() {
        assert_eq!(
            split_path("spec.containers.[name=a.b].image"),
            ["spec", "containers", "[name=a.b]", "image"]
        );
        assert_eq!(split_path("metadata.name"), ["metadata", "name"]);
    }
}

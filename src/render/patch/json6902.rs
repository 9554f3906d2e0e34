//! RFC 6902 JSON patches, as gopkg.in/evanphx/json-patch.v4 applies them for kustomize.

use super::json_typing::*;
use super::tree::*;
use super::{err, PatchError, MAX_DEPTH, MAX_JSON_PATCH_WEIGHT};
use crate::source::Span;
use crate::yaml::{Entry, Kind, Node, Style};

/// RFC 6902 JSON patch: `ops` is a sequence of mappings {op, path, value?, from?}.
///
/// Applied as kustomize applies it (json-patch v4 with its defaults), which departs from the RFC
/// in a few places: `replace` of a missing object member adds it; `copy` from a missing object
/// member copies null; `add`/`replace` without `value` set null; negative array indices count
/// from the end (and `add` at `-1` appends); the first segment of a path is ignored, so
/// `spec/replicas` means `/replicas`; `test` of a missing member against null passes.
/// Operations apply in order; on error `target` is unchanged.
pub fn json6902(target: &mut Node, ops: &Node) -> Result<(), PatchError> {
    let Kind::Seq(list) = &ops.kind else {
        return err(ops.span, "a JSON patch must be a sequence of operations");
    };
    // The whole patch decodes before anything applies: every operation must be a mapping.
    for op in list {
        if !matches!(op.kind, Kind::Map(_)) && !is_null(op) {
            return err(op.span, "a JSON patch operation must be a mapping");
        }
    }
    // kustomize hands json-patch the object as JSON and reads the result back.
    let mut doc = target.clone();
    normalize_json(&mut doc, Typing::Kyaml, 0);
    for op in list {
        apply_op(&mut doc, op)?;
    }
    *target = doc;
    Ok(())
}

pub(super) struct Op<'a> {
    node: &'a Node,
}

impl<'a> Op<'a> {
    fn get(&self, name: &str) -> Option<&'a Node> {
        match &self.node.kind {
            Kind::Map(entries) => field_entries(entries, name).map(|e| &e.value),
            _ => None,
        }
    }

    /// A string member (`op`, `path`, `from`) as Go's JSON decoding of it into a string sees it.
    fn string(&self, name: &str) -> Result<Option<&'a str>, Span> {
        match self.get(name) {
            None => Ok(None),
            Some(n) if is_null(n) => Ok(None),
            Some(n) => match &n.kind {
                Kind::Scalar(s) if json_scalar(s, n.tag.as_deref(), Typing::SigsYaml) == J::Str => {
                    Ok(Some(&s.text))
                }
                _ => Err(n.span),
            },
        }
    }

    fn span_of(&self, name: &str) -> Span {
        self.get(name).map_or(self.node.span, |n| n.span)
    }

    /// The `value` member as it reaches the document through JSON; None when missing (json-patch
    /// v4 then uses null).
    fn value(&self) -> Option<Node> {
        let mut v = self.get("value")?.clone();
        normalize_json(&mut v, Typing::SigsYaml, 0);
        Some(v)
    }
}

pub(super) fn apply_op(doc: &mut Node, op_node: &Node) -> Result<(), PatchError> {
    let op = Op { node: op_node };
    let kind = match op.string("op") {
        Ok(Some(k)) => k,
        _ => "unknown",
    };
    let path_of = |name: &str| -> Result<&str, PatchError> {
        match op.string(name) {
            Ok(Some(p)) => Ok(p),
            Ok(None) => err(
                op.node.span,
                format!("{kind} operation is missing its {name} field"),
            ),
            Err(span) => err(
                span,
                format!("{kind} operation failed to decode {name}: it is not a string"),
            ),
        }
    };
    match kind {
        "add" => {
            let path = path_of("path")?;
            let value = op.value().unwrap_or_else(|| null_node(op.node.span));
            let span = op.span_of("path");
            add_at(doc, path, value, span, kind)
        }
        "remove" => {
            let path = path_of("path")?;
            let span = op.span_of("path");
            let Some((parent, key)) = split_pointer(path) else {
                return err(span, missing_path(kind, path));
            };
            let Some(container) = find_container(doc, &parent) else {
                return err(span, missing_path(kind, path));
            };
            remove_member(container, &key)
                .map(|_| ())
                .map_err(|m| PatchError {
                    message: format!("error in remove for path: '{path}': {m}"),
                    span,
                })
        }
        "replace" => {
            let path = path_of("path")?;
            let span = op.span_of("path");
            if path.is_empty() {
                return match op.value() {
                    Some(v) if matches!(v.kind, Kind::Map(_) | Kind::Seq(_)) => {
                        *doc = v;
                        Ok(())
                    }
                    _ => err(
                        op.span_of("value"),
                        "replace operation value must be object or array",
                    ),
                };
            }
            let value = op.value().unwrap_or_else(|| null_node(op.node.span));
            let Some((parent, key)) = split_pointer(path) else {
                return err(span, missing_path(kind, path));
            };
            let Some(container) = find_container(doc, &parent) else {
                return err(span, missing_path(kind, path));
            };
            match &mut container.kind {
                // A missing member is simply set.
                Kind::Map(entries) => {
                    set_member(entries, &key, value, span);
                    Ok(())
                }
                Kind::Seq(items) => {
                    match array_index(&key, items.len()).and_then(|i| items.get_mut(i)) {
                        Some(slot) => {
                            *slot = value;
                            Ok(())
                        }
                        None => err(
                            span,
                            format!("replace operation does not apply: doc is missing key: {path}"),
                        ),
                    }
                }
                Kind::Scalar(_) => err(span, missing_path(kind, path)),
            }
        }
        "move" => {
            let from = path_of("from")?;
            let from_span = op.span_of("from");
            let Some((parent, key)) = split_pointer(from) else {
                return err(
                    from_span,
                    format!("move operation does not apply: doc is missing from path: {from}"),
                );
            };
            let Some(container) = find_container(doc, &parent) else {
                return err(
                    from_span,
                    format!("move operation does not apply: doc is missing from path: {from}"),
                );
            };
            let value = remove_member(container, &key).map_err(|m| PatchError {
                message: format!("error in move for path: '{key}': {m}"),
                span: from_span,
            })?;
            let path = path_of("path")?;
            add_at(doc, path, value, op.span_of("path"), kind)
        }
        "copy" => {
            let from = path_of("from")?;
            let from_span = op.span_of("from");
            let Some((parent, key)) = split_pointer(from) else {
                return err(
                    from_span,
                    format!("copy operation does not apply: doc is missing from path: {from}"),
                );
            };
            let Some(container) = find_container(doc, &parent) else {
                return err(
                    from_span,
                    format!("copy operation does not apply: doc is missing from path: {from}"),
                );
            };
            let value = match get_member(container, &key) {
                Ok(Some(v)) => v.clone(),
                // A missing object member copies as null.
                Ok(None) => null_node(from_span),
                Err(m) => {
                    return err(from_span, format!("error in copy for from: '{from}': {m}"));
                }
            };
            let path = path_of("path")?;
            add_at(doc, path, value, op.span_of("path"), kind)?;
            if doc.weight() > MAX_JSON_PATCH_WEIGHT {
                return err(
                    op.node.span,
                    "copy operations grow the document beyond what is checked",
                );
            }
            Ok(())
        }
        "test" => {
            let path = path_of("path")?;
            let span = op.span_of("path");
            let expected = op.value();
            if path.is_empty() {
                return match &expected {
                    Some(v) if json_equal(doc, v, 0) => Ok(()),
                    _ => err(
                        op.node.span,
                        format!("testing value {path} failed: test failed"),
                    ),
                };
            }
            let Some((parent, key)) = split_pointer(path) else {
                return err(
                    span,
                    format!("test operation does not apply: is missing path: {path}"),
                );
            };
            let Some(container) = find_container(doc, &parent) else {
                return err(
                    span,
                    format!("test operation does not apply: is missing path: {path}"),
                );
            };
            let actual = match get_member(container, &key) {
                Ok(v) => v.filter(|v| !is_null(v)),
                Err(m) => return err(span, format!("error in test for path: '{path}': {m}")),
            };
            let ok = match (actual, expected.as_ref()) {
                (None, None) => true,
                (None, Some(e)) => is_null(e),
                (Some(_), None) => false,
                (Some(a), Some(e)) => json_equal(a, e, 0),
            };
            if ok {
                Ok(())
            } else {
                err(
                    op.node.span,
                    format!("testing value {path} failed: test failed"),
                )
            }
        }
        other => err(op.span_of("op"), format!("Unexpected kind: {other}")),
    }
}

pub(super) fn missing_path(kind: &str, path: &str) -> String {
    format!("{kind} operation does not apply: doc is missing path: \"{path}\": missing value")
}

/// json-patch's `add` on a container: sets an object member, or inserts into an array.
pub(super) fn add_at(
    doc: &mut Node,
    path: &str,
    value: Node,
    span: Span,
    kind: &str,
) -> Result<(), PatchError> {
    let Some((parent, key)) = split_pointer(path) else {
        return err(span, missing_path(kind, path));
    };
    let Some(container) = find_container(doc, &parent) else {
        return err(span, missing_path(kind, path));
    };
    match &mut container.kind {
        Kind::Map(entries) => {
            set_member(entries, &key, value, span);
            Ok(())
        }
        Kind::Seq(items) => {
            let at = if key == "-" {
                Some(items.len())
            } else {
                add_index(&key, items.len())
            };
            match at {
                Some(i) if i <= items.len() => {
                    items.insert(i, value);
                    Ok(())
                }
                _ => err(
                    span,
                    format!(
                        "error in {kind} for path: '{path}': Unable to access invalid index: {key}"
                    ),
                ),
            }
        }
        Kind::Scalar(_) => err(span, missing_path(kind, path)),
    }
}

/// Sets an object member in place, or appends it with a key made from the pointer (written at the
/// patch's `path`).
pub(super) fn set_member(entries: &mut Vec<Entry>, key: &str, value: Node, span: Span) {
    if let Some(e) = entries.iter_mut().find(|e| value_text(&e.key) == key) {
        e.value = value;
        return;
    }
    let mut key_node = scalar_node(span, key);
    if let Kind::Scalar(s) = &mut key_node.kind {
        if json_scalar(s, None, Typing::Kyaml) != J::Str {
            s.style = Style::Quoted;
        }
    }
    entries.push(Entry {
        key: key_node,
        value,
    });
}

/// Reads a member: Ok(None) for a missing object member (json-patch reads it as null).
pub(super) fn get_member<'a>(container: &'a Node, key: &str) -> Result<Option<&'a Node>, String> {
    match &container.kind {
        Kind::Map(entries) => Ok(field_entries(entries, key).map(|e| &e.value)),
        Kind::Seq(items) => match array_index(key, items.len()) {
            Some(i) => Ok(items.get(i)),
            None => Err(format!("Unable to access invalid index: {key}")),
        },
        Kind::Scalar(_) => Err("not a container".into()),
    }
}

pub(super) fn remove_member(container: &mut Node, key: &str) -> Result<Node, String> {
    match &mut container.kind {
        Kind::Map(entries) => match entries.iter().position(|e| value_text(&e.key) == key) {
            Some(i) => Ok(entries.remove(i).value),
            None => Err(format!(
                "Unable to remove nonexistent key: {key}: missing value"
            )),
        },
        Kind::Seq(items) => match array_index(key, items.len()) {
            Some(i) if i < items.len() => Ok(items.remove(i)),
            _ => Err(format!("Unable to access invalid index: {key}")),
        },
        Kind::Scalar(_) => Err("not a container".into()),
    }
}

/// Splits a JSON pointer as json-patch v4's `findObject` does: the first segment is skipped
/// (it is empty for a well-formed pointer), the last is the key, `~1` and `~0` are decoded.
/// None for the empty pointer.
pub(super) fn split_pointer(path: &str) -> Option<(Vec<String>, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 {
        return None;
    }
    let (last, rest) = parts.split_last()?;
    let parents = rest.iter().skip(1).map(|p| decode_token(p)).collect();
    Some((parents, decode_token(last)))
}

/// RFC 6901 unescaping in one left-to-right pass (as Go's `strings.Replacer` does it).
pub(super) fn decode_token(token: &str) -> String {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '~' {
            match chars.peek() {
                Some('1') => {
                    chars.next();
                    out.push('/');
                    continue;
                }
                Some('0') => {
                    chars.next();
                    out.push('~');
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

/// Follows the parent segments; None when one is missing, null, a scalar, or a bad index.
pub(super) fn find_container<'a>(doc: &'a mut Node, parents: &[String]) -> Option<&'a mut Node> {
    let mut cur = doc;
    for part in parents {
        let next = match &mut cur.kind {
            Kind::Map(entries) => entries
                .iter_mut()
                .find(|e| value_text(&e.key) == part.as_str())
                .map(|e| &mut e.value),
            Kind::Seq(items) => {
                let len = items.len();
                array_index(part, len).and_then(move |i| items.get_mut(i))
            }
            Kind::Scalar(_) => None,
        }?;
        if is_null(next) || matches!(next.kind, Kind::Scalar(_)) {
            return None;
        }
        cur = next;
    }
    if matches!(cur.kind, Kind::Scalar(_)) {
        return None;
    }
    Some(cur)
}

/// Go's `strconv.Atoi`: optional sign and decimal digits.
pub(super) fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// An existing element's index; negative indices count from the end.
pub(super) fn array_index(key: &str, len: usize) -> Option<usize> {
    let idx = atoi(key)?;
    let len = i64::try_from(len).ok()?;
    let idx = if idx < 0 {
        if idx < -len {
            return None;
        }
        idx + len
    } else {
        idx
    };
    if idx >= len {
        return None;
    }
    usize::try_from(idx).ok()
}

/// Where `add` inserts: 0..=len; negative indices count from the end of the grown array.
pub(super) fn add_index(key: &str, len: usize) -> Option<usize> {
    let idx = atoi(key)?;
    let grown = i64::try_from(len).ok()?.checked_add(1)?;
    if idx >= grown {
        return None;
    }
    let idx = if idx < 0 {
        if idx < -grown {
            return None;
        }
        idx + grown
    } else {
        idx
    };
    usize::try_from(idx).ok()
}

/// JSON value equality (json-patch's `test`) of two normalized trees; numbers compare by value.
pub(super) fn json_equal(a: &Node, b: &Node, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    match (&a.kind, &b.kind) {
        _ if is_null(a) || is_null(b) => is_null(a) && is_null(b),
        (Kind::Scalar(x), Kind::Scalar(y)) => {
            match (
                json_scalar(x, a.tag.as_deref(), Typing::Kyaml),
                json_scalar(y, b.tag.as_deref(), Typing::Kyaml),
            ) {
                (J::Bool(p), J::Bool(q)) => p == q,
                (J::Num(p), J::Num(q)) => p == q,
                (J::Str | J::Time(_), J::Str | J::Time(_)) => x.text == y.text,
                _ => false,
            }
        }
        (Kind::Seq(x), Kind::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q, depth + 1))
        }
        (Kind::Map(x), Kind::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|e| {
                    field_entries(y, value_text(&e.key))
                        .is_some_and(|f| json_equal(&e.value, &f.value, depth + 1))
                })
        }
        _ => false,
    }
}

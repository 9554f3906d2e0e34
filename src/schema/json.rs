//! A document tree as the JSON the API server receives, and the way back from a JSON Pointer to
//! the node it names. Scalars are typed the way Kubernetes' YAML decoder (go-yaml v2, YAML 1.1
//! words for booleans) types them, because that is what reaches the CRD schema after Flux has
//! substituted and serialised the object.

use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

use crate::model::value::has_placeholder;
use crate::source::paths::is_within;
use crate::yaml::{Entry, Kind, Node, Scalar, Style};

/// The JSON form of a tree, with the pointers of values still holding a `${VAR}` placeholder.
/// Such values are unknown: they are kept as strings, and errors at or below them are not
/// reported.
pub struct Converted {
    pub value: Value,
    pub unknown: Vec<String>,
}

pub fn convert(root: &Node) -> Converted {
    convert_for(root, None)
}

/// Like [`convert`], but a mapping where `schema` keeps unknown fields and describes none (a
/// HelmRelease's `values`) becomes `{}`: nothing inside it can be wrong, and it can be large.
pub fn convert_for(root: &Node, schema: Option<&Value>) -> Converted {
    let mut unknown = Vec::new();
    let mut pointer = String::new();
    let value = to_value(root, schema, &mut pointer, &mut unknown, 0);
    Converted { value, unknown }
}

fn opaque(schema: Option<&Value>) -> bool {
    schema.is_some_and(|s| {
        s.get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true)
            && s.get("properties").is_none()
            && !s.get("additionalProperties").is_some_and(Value::is_object)
    })
}

/// Trees come from the loader, which bounds nesting; this guards the recursion anyway.
const MAX_DEPTH: usize = 512;

fn to_value(
    node: &Node,
    schema: Option<&Value>,
    pointer: &mut String,
    unknown: &mut Vec<String>,
    depth: usize,
) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if matches!(node.kind, Kind::Map(_)) && opaque(schema) {
        return Value::Object(Map::new());
    }
    match &node.kind {
        Kind::Scalar(s) => {
            // A SOPS-encrypted value is whatever Flux decrypts it to.
            if has_placeholder(&s.text) || is_sops_value(&s.text) {
                unknown.push(pointer.clone());
                return Value::String(s.text.to_string());
            }
            scalar(s, node.tag.as_deref())
        }
        Kind::Seq(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let len = pointer.len();
                    pointer.push('/');
                    // Writing to a String cannot fail.
                    let _ = write!(pointer, "{i}");
                    let items_schema = schema.and_then(|s| s.get("items"));
                    let v = to_value(item, items_schema, pointer, unknown, depth + 1);
                    pointer.truncate(len);
                    v
                })
                .collect(),
        ),
        Kind::Map(entries) => {
            let mut map = Map::with_capacity(entries.len());
            for e in entries {
                let key = key_text(e);
                // SOPS metadata: Flux removes it when it decrypts the manifest.
                if depth == 0 && key == "sops" {
                    continue;
                }
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&escape(&key));
                if map.contains_key(&key) {
                    // A duplicate key replaces the earlier value, and what was unknown in it.
                    let here = pointer.as_str();
                    unknown.retain(|u| !is_within(u, here));
                }
                let child = schema.and_then(|s| super::child_schema(s, &key));
                let v = to_value(&e.value, child, pointer, unknown, depth + 1);
                pointer.truncate(len);
                // A duplicate key: the last one wins, as in Go's decoders.
                map.insert(key, v);
            }
            Value::Object(map)
        }
    }
}

fn is_sops_value(text: &str) -> bool {
    text.starts_with("ENC[") && text.ends_with(']') && text.contains(",type:")
}

fn key_text(e: &Entry) -> String {
    match &e.key.kind {
        Kind::Scalar(s) => s.text.to_string(),
        _ => String::new(),
    }
}

/// A scalar's JSON value: quoted and block scalars are strings; plain ones are null, booleans,
/// integers or floats when they read as such, strings otherwise. Explicit core tags win.
pub fn scalar(s: &Scalar, tag: Option<&str>) -> Value {
    match tag {
        Some("!!str" | "tag:yaml.org,2002:str") => return Value::String(s.text.to_string()),
        Some(t) if !t.starts_with("!!") && !t.starts_with("tag:yaml.org") => {
            // A custom tag (`!secret`): Kubernetes' decoder keeps the text.
            return Value::String(s.text.to_string());
        }
        _ => {}
    }
    if s.style != Style::Plain {
        return Value::String(s.text.to_string());
    }
    if s.is_null() {
        return Value::Null;
    }
    if let Some(b) = s.as_bool() {
        return Value::Bool(b);
    }
    // go-yaml v2 also reads the single letters as booleans.
    match &*s.text {
        "y" | "Y" => return Value::Bool(true),
        "n" | "N" => return Value::Bool(false),
        _ => {}
    }
    let t = s.text.trim();
    // go-yaml v2 only tries a number when the text starts like one.
    if !t.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
        return Value::String(s.text.to_string());
    }
    if let Some(i) = int(t) {
        return Value::Number(Number::from(i));
    }
    if let Some(f) = float(t) {
        if let Some(n) = Number::from_f64(f) {
            return Value::Number(n);
        }
    }
    Value::String(s.text.to_string())
}

fn int(t: &str) -> Option<i64> {
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || digits.contains("__") {
        return None;
    }
    let clean: String = digits.chars().filter(|&c| c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let v = if let Some(hex) = lower.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if lower.len() > 1 && lower.starts_with('0') {
        // YAML 1.1 octal, as go-yaml v2 reads it (Go's `0o` prefix too).
        i64::from_str_radix(lower.strip_prefix("0o").unwrap_or(&lower[1..]), 8).ok()?
    } else if clean.bytes().all(|b| b.is_ascii_digit()) {
        clean.parse::<i64>().ok()?
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

fn float(t: &str) -> Option<f64> {
    match t {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    // YAML's float form: digits with one dot and an optional exponent; not `1.2.3` or `e5`.
    let body = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let digits = mantissa.replace('_', "");
    let dots = digits.matches('.').count();
    if digits.is_empty()
        || dots > 1
        || digits == "."
        || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    t.replace('_', "").parse::<f64>().ok()
}

/// Escapes a key for a JSON Pointer (RFC 6901).
pub fn escape(key: &str) -> std::borrow::Cow<'_, str> {
    if key.contains(['~', '/']) {
        key.replace('~', "~0").replace('/', "~1").into()
    } else {
        key.into()
    }
}

/// The pointer's segments, unescaped.
pub fn segments(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    fn json(text: &str) -> Converted {
        let loaded = yaml::load(0, text);
        convert(&loaded.docs[0].root)
    }

    #[test]
    fn scalars_are_typed_as_kubernetes_reads_them() {
        let c = json(
            "a: 3\nb: \"3\"\nc: on\nd: 1.5\ne: ~\nf: 1.2.3\ng: 0755\nh: 1e3\ni: !!str 4\nj: |\n  x\n",
        );
        assert_eq!(
            c.value,
            serde_json::json!({"a": 3, "b": "3", "c": true, "d": 1.5, "e": null, "f": "1.2.3",
                "g": 493, "h": 1000.0, "i": "4", "j": "x\n"})
        );
    }

    #[test]
    fn go_yaml_v2_readings() {
        let c = json("a: n\nb: Y\nc: 0X1F\nd: _1\ne: 0o17\n");
        assert_eq!(
            c.value,
            serde_json::json!({"a": false, "b": true, "c": 31, "d": "_1", "e": 15})
        );
        assert_eq!(segments("//a"), vec!["", "a"]);
    }

    #[test]
    fn a_duplicate_key_replaces_what_was_unknown() {
        let c = json("spec:\n  instances: ${N}\n  instances: 0\n");
        assert!(c.unknown.is_empty(), "{:?}", c.unknown);
    }

    #[test]
    fn placeholders_are_unknown() {
        let c = json("spec:\n  instances: ${N}\n  list: [a, \"${B}\"]\n  a/b: ${C}\n");
        assert_eq!(
            c.unknown,
            vec!["/spec/instances", "/spec/list/1", "/spec/a~1b"]
        );
        assert!(is_within("/spec/list/1", "/spec/list"));
        assert!(!is_within("/spec/listing", "/spec/list"));
        assert!(is_within("/spec", ""));
        assert_eq!(segments("/spec/a~1b"), vec!["spec", "a/b"]);
    }
}

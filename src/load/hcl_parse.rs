//! Parsing Terraform the way Terraform accepts it.
//!
//! hcl-edit rejects an object constructor that repeats a key ("found redefined object key").
//! HCL itself accepts one and keeps the last value: `ObjectConsExpr.Value` in hashicorp/hcl v2
//! (`hclsyntax/expression.go`) assigns `vals[keyStr] = val` for every item, without a check. So
//! `terraform plan` reads such a file, and a linter that stopped at it would report an error
//! about valid input. Here every repeated key but the last is renamed to a placeholder of the
//! same byte length, so every span stays valid and the value HCL keeps is the one read.

use std::collections::HashMap;
use std::ops::Range;

use hcl_edit::expr::{Object, ObjectKey};
use hcl_edit::structure::Body;
use hcl_edit::visit::{self, Visit};
use hcl_edit::Span;

/// At most this many repeated keys are renamed in one file; beyond it the parse error stands.
const MAX_RENAMES: usize = 256;
/// Each rename parses the file again: bound the bytes parsed that way, so that a large file
/// full of repeated keys costs a few parses, not hundreds.
const MAX_REPARSED_BYTES: usize = 32 * 1024 * 1024;

/// A parse error: the parser's message and its byte offset (clamped into the source).
pub struct HclError {
    pub message: String,
    pub offset: usize,
}

pub fn parse_body(source: &str) -> Result<Body, HclError> {
    let first = match parse(source) {
        Ok(body) => return Ok(body),
        Err(e) => e,
    };
    // Rename each repeated key the parser stops at (always the later occurrence) until the file
    // parses, then move the renames onto the earlier occurrences, which HCL discards.
    let mut text = source.to_string();
    let mut renamed = 0usize;
    let mut err = first;
    let max_renames = MAX_RENAMES.min(MAX_REPARSED_BYTES / source.len().max(1));
    let body = loop {
        if !err.message.contains("redefined object key") || renamed >= max_renames {
            return Err(err);
        }
        let at = err.offset;
        let Some(end) = key_end(&text, at) else {
            return Err(err);
        };
        let Some(placeholder) = placeholder(end - at, renamed) else {
            return Err(err);
        };
        text.replace_range(at..end, &placeholder);
        renamed += 1;
        match parse(&text) {
            Ok(body) => break body,
            Err(e) => err = e,
        }
    };
    let mut objects = Objects::default();
    objects.visit_body(&body);
    let mut final_text = source.to_string();
    let mut count = 0;
    for keys in &objects.keys {
        // Group the keys of one object by their written text (renamed ones by what they were).
        let mut last: HashMap<&str, usize> = HashMap::new();
        for (i, k) in keys.iter().enumerate() {
            if let Some(written) = source.get(k.clone()) {
                last.insert(written, i);
            }
        }
        for (i, k) in keys.iter().enumerate() {
            let Some(written) = source.get(k.clone()) else {
                continue;
            };
            if last.get(written) != Some(&i) {
                let Some(p) = placeholder(k.len(), count) else {
                    return Ok(body);
                };
                count += 1;
                final_text.replace_range(k.clone(), &p);
            }
        }
    }
    // Should the moved renames not parse (a placeholder that met a real key), the first
    // successful parse still holds every fact: only which duplicate is kept differs.
    Ok(parse(&final_text).unwrap_or(body))
}

fn parse(text: &str) -> Result<Body, HclError> {
    hcl_edit::parser::parse_body(text).map_err(|err| HclError {
        message: err.message().to_owned(),
        offset: floor_char_boundary(text, err.location().offset()),
    })
}

// The parser reports offsets clamped to the last byte, which may sit inside a multi-byte char;
// callers slice the source with this offset, so it must be a boundary.
fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The spans of the keys of every object constructor, in source order, one list per object.
#[derive(Default)]
struct Objects {
    keys: Vec<Vec<Range<usize>>>,
}

impl Visit for Objects {
    fn visit_object(&mut self, node: &Object) {
        let keys: Vec<Range<usize>> = node
            .iter()
            .filter_map(|(k, _)| match k {
                ObjectKey::Ident(i) => i.span(),
                ObjectKey::Expression(e) => e.span(),
            })
            .collect();
        self.keys.push(keys);
        visit::visit_object(self, node);
    }
}

/// A key of `len` bytes that no one writes: a quoted string when it fits, else an identifier.
fn placeholder(len: usize, n: usize) -> Option<String> {
    let tag = format!("{n:x}");
    if len >= tag.len() + 4 {
        Some(format!("\"~{tag}{}\"", "~".repeat(len - tag.len() - 3)))
    } else if len > tag.len() {
        Some(format!("_{tag}{}", "_".repeat(len - tag.len() - 1)))
    } else {
        None
    }
}

/// Where the object key starting at `at` ends: a quoted template, a parenthesised expression,
/// or an identifier.
fn key_end(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    match *bytes.get(at)? {
        b'"' => quoted_end(bytes, at),
        b'(' => paren_end(bytes, at),
        c if c.is_ascii_alphabetic() || c == b'_' => {
            let len = bytes[at..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_' || **c == b'-')
                .count();
            Some(at + len)
        }
        _ => None,
    }
}

/// The end of the quoted string at `at` (just past its closing quote), skipping escapes and
/// `${ }` / `%{ }` sequences, whose insides may hold quotes of their own.
fn quoted_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            b'\n' => return None,
            b'$' | b'%' if bytes.get(i + 1) == Some(&b'{') => i = brace_end(bytes, i + 1)?,
            _ => i += 1,
        }
    }
    None
}

/// Just past the `}` closing the `{` at `at`, skipping nested braces and strings.
fn brace_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' => {
                i = quoted_end(bytes, i)?;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Just past the `)` closing the `(` at `at`, skipping nested parentheses and strings.
fn paren_end(bytes: &[u8], at: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = at;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' => {
                i = quoted_end(bytes, i)?;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    use hcl_edit::expr::Expression;

    fn object_of(body: &Body) -> Object {
        let attr = body.get_attribute("m").expect("attribute m");
        match &attr.value {
            Expression::Object(o) => o.clone(),
            other => panic!("not an object: {other:?}"),
        }
    }

    /// The object `m`'s entries as (key, value) text, read from the parsed tree (whose spans
    /// point into the renamed text, not the source).
    fn entries(source: &str) -> Vec<(String, String)> {
        let body = parse_body(source).unwrap_or_else(|e| panic!("{}", e.message));
        object_of(&body)
            .iter()
            .map(|(k, v)| {
                let key = match k {
                    ObjectKey::Ident(i) => i.as_str().to_string(),
                    ObjectKey::Expression(e) => e.to_string().trim().to_string(),
                };
                (key, v.expr().to_string().trim().to_string())
            })
            .collect()
    }

    #[test]
    fn a_repeated_key_keeps_the_last_value_as_hcl_does() {
        let got = entries("m = {\n  \"A\" : 1,\n  \"B\" : 2\n  \"A\" : 3\n}\n");
        assert_eq!(got.len(), 3);
        let a: Vec<&str> = got
            .iter()
            .filter(|(k, _)| k == "\"A\"")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(a, ["3"]);
        assert!(got.iter().any(|(k, v)| k == "\"B\"" && v == "2"));
    }

    #[test]
    fn identifiers_parenthesised_keys_and_templates_keep_the_last_value() {
        for (src, key, last) in [
            ("m = {\n  abc = 1\n  abc = 2\n}\n", "abc", "2"),
            ("m = {\n  (var.k) = 1\n  (var.k) = 2\n}\n", "(var.k)", "2"),
            (
                "m = {\n  \"${var.a}-\\\"x\" = 1\n  \"${var.a}-\\\"x\" = 2\n}\n",
                "\"${var.a}-\\\"x\"",
                "2",
            ),
            (
                "m = {\n  \"k\" = 1\n  \"k\" = 2\n  \"k\" = 3\n}\n",
                "\"k\"",
                "3",
            ),
        ] {
            let got = entries(src);
            let values: Vec<&str> = got
                .iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .collect();
            assert_eq!(values, [last], "{src}: {got:?}");
        }
    }

    #[test]
    fn other_errors_are_still_errors_with_their_offset() {
        let src = "resource \"x\" \"y\" {\n  a = \n}\n";
        let err = parse_body(src).expect_err("an error");
        assert!(err.offset <= src.len());
        assert!(!err.message.contains("redefined"));
    }

    #[test]
    fn renaming_is_bounded() {
        // A one-byte key has no placeholder; past MAX_RENAMES the error stands. Either way
        // the parse ends with the parser's error, not a loop.
        assert!(parse_body("m = {\n  a = 1\n  a = 2\n}\n").is_err());
        let mut src = String::from("m = {\n");
        for _ in 0..=MAX_RENAMES + 1 {
            src.push_str("  abcdef = 1\n");
        }
        src.push_str("}\n");
        let err = parse_body(&src).expect_err("an error");
        assert!(err.message.contains("redefined"));
    }
}

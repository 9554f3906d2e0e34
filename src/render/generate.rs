//! `configMapGenerator` and `secretGenerator`. Generated names get kustomize's content hash
//! (sha256 of a Go-style JSON encoding of kind, name and data), so references to them resolve
//! as they do in the cluster.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::transform::{child_map, scalar, set};
use super::ProblemKind;
use crate::fsio::{Confined, ReadError};
use crate::model::value::text;
use crate::model::Val;
use crate::source::Span;
use crate::yaml::{Kind, Node, Scalar, Style};

/// Files a generator reads are capped (a ConfigMap holds at most 1 MiB anyway).
const MAX_FILE: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behavior {
    Create,
    Merge,
    Replace,
}

/// A generated object, before hashing.
pub struct Generated {
    pub root: Node,
    pub behavior: Behavior,
    pub hash_suffix: bool,
}

/// Reads one generator entry. `is_secret` picks the kind; `dir` is the kustomization's
/// directory (repository-relative), and files are read through `confined`; `options` is the
/// kustomization's `generatorOptions`.
pub fn generate(
    entry: &Node,
    is_secret: bool,
    confined: &Confined,
    dir: &str,
    options: Option<&Node>,
) -> Result<Generated, (String, Span, ProblemKind)> {
    let span = entry.span;
    // A `${VAR}` name is generated literally; Flux substitutes it after the build.
    let name = match entry.get("name").and_then(text) {
        Some(Val::Known(n)) => n.to_string(),
        Some(Val::Unknown) => entry
            .get("name")
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_string(),
        None => return Err(("generator without a name".into(), span, ProblemKind::Unseen)),
    };
    let mut data: Vec<(String, String, Span, bool)> = Vec::new(); // key, value, span, binary
    for lit in entry.get("literals").and_then(Node::as_seq).unwrap_or(&[]) {
        let Some(s) = lit.as_str() else { continue };
        let (k, v) = s.split_once('=').unwrap_or((s, ""));
        data.push((k.to_string(), unquote(v).to_string(), lit.span, false));
    }
    for f in entry.get("files").and_then(Node::as_seq).unwrap_or(&[]) {
        let Some(s) = f.as_str() else { continue };
        let (key, path) = match s.split_once('=') {
            Some((k, p)) => (k.to_string(), p),
            None => (
                Path::new(s)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                s,
            ),
        };
        let bytes = read(confined, dir, path).map_err(|(e, k)| (e, f.span, k))?;
        match String::from_utf8(bytes) {
            Ok(t) => data.push((key, t, f.span, false)),
            Err(e) => data.push((key, base64_encode(e.as_bytes()), f.span, true)),
        }
    }
    for f in entry.get("envs").into_iter().chain(entry.get("env")) {
        let files: Vec<&Node> = match &f.kind {
            Kind::Seq(items) => items.iter().collect(),
            _ => vec![f],
        };
        for f in files {
            let Some(path) = f.as_str() else { continue };
            let bytes = read(confined, dir, path).map_err(|(e, k)| (e, f.span, k))?;
            for line in String::from_utf8_lossy(&bytes).lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                let (k, v) = line.split_once('=').unwrap_or((line, ""));
                data.push((k.trim().to_string(), v.to_string(), f.span, false));
            }
        }
    }
    let behavior = match entry.get("behavior").and_then(Node::as_str) {
        Some("merge") => Behavior::Merge,
        Some("replace") => Behavior::Replace,
        _ => Behavior::Create,
    };
    let opt = |key: &str| {
        entry
            .at(&["options", key])
            .or_else(|| options.and_then(|o| o.get(key)))
    };
    let hash_suffix = !opt("disableNameSuffixHash")
        .and_then(|n| n.as_scalar()?.as_bool())
        .unwrap_or(false);

    let mut root = Node {
        span,
        tag: None,
        kind: Kind::Map(Vec::new()),
    };
    set(&mut root, "apiVersion", scalar("v1", span), span);
    set(
        &mut root,
        "kind",
        scalar(if is_secret { "Secret" } else { "ConfigMap" }, span),
        span,
    );
    if let Some(meta) = child_map(&mut root, "metadata", span) {
        let name_span = entry.entry("name").map_or(span, |e| e.value.span);
        set(meta, "name", scalar(&name, name_span), name_span);
        if let Some(ns) = entry.get("namespace").and_then(Node::as_str) {
            set(meta, "namespace", scalar(ns, span), span);
        }
        for key in ["labels", "annotations"] {
            if let Some(pairs) = opt(key).and_then(Node::as_map) {
                if let Some(m) = child_map(meta, key, span) {
                    for p in pairs {
                        if let Some(k) = p.key.as_str() {
                            set(m, k, p.value.clone(), p.key.span);
                        }
                    }
                }
            }
        }
    }
    if is_secret {
        let ty = entry.get("type").and_then(Node::as_str).unwrap_or("Opaque");
        set(&mut root, "type", scalar(ty, span), span);
    }
    let (text_data, binary): (Vec<_>, Vec<_>) = data.into_iter().partition(|d| !d.3 || is_secret);
    if !text_data.is_empty() {
        if let Some(m) = child_map(&mut root, "data", span) {
            for (k, v, s, bin) in text_data {
                let v = if is_secret && !bin {
                    secret_base64(v.as_bytes())
                } else {
                    v
                };
                set(m, &k, string_node(&v, s), s);
            }
        }
    }
    if !binary.is_empty() {
        if let Some(m) = child_map(&mut root, "binaryData", span) {
            for (k, v, s, _) in binary {
                set(m, &k, string_node(&v, s), s);
            }
        }
    }
    if let Some(imm) = opt("immutable").and_then(|n| n.as_scalar()?.as_bool()) {
        if imm {
            set(&mut root, "immutable", scalar("true", span), span);
        }
    }
    Ok(Generated {
        root,
        behavior,
        hash_suffix,
    })
}

fn string_node(v: &str, span: Span) -> Node {
    Node {
        span,
        tag: None,
        kind: Kind::Scalar(Scalar {
            text: v.into(),
            style: Style::Quoted,
        }),
    }
}

fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

/// A generator's file, relative to its kustomization's directory. kustomize-controller builds
/// on a file system that refuses paths outside the source root, so such a path fails the Flux
/// build; it is never read here either (it could be `/proc/self/environ`).
///
/// A file that does not exist is only unseen: the repository may well have it (a file type
/// the linter does not read, a checkout without it), so that is no proof the build fails.
fn read(confined: &Confined, dir: &str, rel: &str) -> Result<Vec<u8>, (String, ProblemKind)> {
    let refused = || {
        (
            format!(
                "generator file `{rel}` is outside the repository: kustomize-controller refuses \
                 it, and the Flux build fails"
            ),
            ProblemKind::Fails,
        )
    };
    let target = crate::source::paths::join(dir, rel).ok_or_else(refused)?;
    confined.read(&target, MAX_FILE).map_err(|e| match e {
        ReadError::Outside => refused(),
        ReadError::Io(e) => (
            format!("generator file `{rel}` is not read ({e}); what it generates is unknown"),
            ProblemKind::Unseen,
        ),
        other => (
            format!("generator file `{rel}` is not read: {other}, and kustomize fails on it"),
            ProblemKind::Fails,
        ),
    })
}

/// kustomize's name suffix for a generated ConfigMap or Secret.
pub fn name_hash(root: &Node) -> String {
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
    // kustomize looks the name up as a single field called `metadata/name`, which never
    // exists, so the name it hashes is always empty (checked against kubectl kustomize 5.8).
    let name = "";
    let mut fields: Vec<(&str, String)> = Vec::new();
    let map_json = |key: &str| -> String {
        match root.get(key).and_then(Node::as_map) {
            Some(entries) => {
                let mut pairs: Vec<(String, String)> = entries
                    .iter()
                    .map(|e| {
                        (
                            e.key.as_str().unwrap_or("").to_string(),
                            e.value.as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect();
                pairs.sort();
                let body: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| format!("{}:{}", go_json_string(k), go_json_string(v)))
                    .collect();
                format!("{{{}}}", body.join(","))
            }
            // A missing field is encoded as an empty string by kustomize.
            None => "\"\"".into(),
        }
    };
    fields.push(("data", map_json("data")));
    fields.push(("kind", go_json_string(kind)));
    fields.push(("name", go_json_string(name)));
    if kind == "Secret" {
        if root.get("stringData").and_then(Node::as_map).is_some() {
            fields.push(("stringData", map_json("stringData")));
        }
        let ty = root.get("type").and_then(Node::as_str).unwrap_or("");
        fields.push(("type", go_json_string(ty)));
    } else if root.get("binaryData").and_then(Node::as_map).is_some() {
        fields.push(("binaryData", map_json("binaryData")));
    }
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", go_json_string(k)))
        .collect();
    let json = format!("{{{}}}", body.join(","));
    let digest = Sha256::digest(json.as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    hex.chars()
        .map(|c| match c {
            '0' => 'g',
            '1' => 'h',
            '3' => 'k',
            'a' => 'm',
            'e' => 't',
            c => c,
        })
        .collect()
}

/// A string as Go's `encoding/json` writes it (HTML-safe escaping included).
fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Secret data as kustomize writes it: base64 in lines of 70 characters, each ending in a
/// newline once the encoding reaches 70 characters (kyaml `encodeBase64`). The name hash
/// covers these newlines.
fn secret_base64(data: &[u8]) -> String {
    let encoded = base64_encode(data);
    if encoded.len() < 70 {
        return encoded;
    }
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 70 + 1);
    for chunk in encoded.as_bytes().chunks(70) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        out.push('\n');
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let v = B64.iter().position(|&b| b == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((buf >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::yaml::first_root as root;

    #[test]
    fn hashes_match_kustomize() {
        // Expected values are what `kubectl kustomize` (kustomize v5.8.1) names these.
        let cm = root("kind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: b\n");
        assert_eq!(name_hash(&cm), "4h2mbtbbt6");
        let s = root("kind: Secret\nmetadata:\n  name: s\ntype: Opaque\ndata:\n  pw: PGEmYj4=\n");
        assert_eq!(name_hash(&s), "9g49m6ffdm");
        let empty = root("kind: ConfigMap\nmetadata:\n  name: empty\n");
        assert_eq!(name_hash(&empty), "6ct58987ht");
    }

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "hello world"] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn go_escaping() {
        assert_eq!(
            go_json_string("a<b>&\"\n"),
            "\"a\\u003cb\\u003e\\u0026\\\"\\n\""
        );
    }
}

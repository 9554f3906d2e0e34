//! Writes span trees back out as YAML, for `cnpg-lint render`. Block style, keys in their
//! order, and scalars quoted whenever plain text would read as something else. With origins,
//! each value is followed by a comment naming the file, line and column it came from.

use crate::source::SourceMap;
use crate::yaml::{Kind, Node, Scalar, Style};

/// Output stops growing past this many bytes: a deep tree built by aliases prints every line
/// at its full indentation, and 17 KB of YAML could otherwise print a gigabyte.
pub const MAX_OUTPUT: usize = 64 * 1024 * 1024;

pub struct Emitter<'a> {
    /// When set, values are annotated with where they were written.
    pub origins: Option<(&'a SourceMap, &'a dyn Fn(u32) -> String)>,
}

impl Emitter<'_> {
    /// The document as YAML, or `None` when it would take more than `room` bytes.
    pub fn document_within(&self, root: &Node, room: usize) -> Option<String> {
        let mut out = String::new();
        self.node(root, 0, &mut out, false, false, room);
        if out.len() > room {
            return None;
        }
        if !out.ends_with('\n') {
            out.push('\n');
        }
        Some(out)
    }

    /// The document as YAML, or a note that it is too large (the tests' view).
    #[cfg(test)]
    pub fn document(&self, root: &Node) -> String {
        self.document_within(root, MAX_OUTPUT)
            .unwrap_or_else(|| format!("# larger than {MAX_OUTPUT} bytes; not shown\n"))
    }

    fn origin(&self, node: &Node) -> String {
        match &self.origins {
            Some((sources, path_of)) => match sources.get(node.span.file) {
                Some(f) => {
                    let lc = f.line_col(node.span.start);
                    format!("  # {}:{}:{}", path_of(node.span.file), lc.line, lc.column)
                }
                None => String::new(),
            },
            None => String::new(),
        }
    }

    /// Writes `node` whose first line continues the current one (after `key:` or `- `);
    /// `no_tag` when the caller has written its tag already. Stops once `out` passes `room`.
    fn node(
        &self,
        node: &Node,
        indent: usize,
        out: &mut String,
        inline_start: bool,
        no_tag: bool,
        room: usize,
    ) {
        if out.len() > room {
            return;
        }
        let pad = " ".repeat(indent);
        let tag = node
            .tag
            .as_deref()
            .filter(|_| !no_tag)
            .map(|t| format!("{t} "))
            .unwrap_or_default();
        match &node.kind {
            Kind::Scalar(s) => {
                if inline_start {
                    out.push(' ');
                }
                out.push_str(&tag);
                out.push_str(&scalar(s, indent));
                out.push_str(&self.origin(node));
                out.push('\n');
            }
            Kind::Seq(items) if items.is_empty() => {
                out.push_str(if inline_start { " " } else { "" });
                out.push_str(&tag);
                out.push_str("[]\n");
            }
            Kind::Map(entries) if entries.is_empty() => {
                out.push_str(if inline_start { " " } else { "" });
                out.push_str(&tag);
                out.push_str("{}\n");
            }
            Kind::Seq(items) => {
                if inline_start {
                    out.push_str(format!(" {tag}").trim_end());
                    out.push('\n');
                }
                for item in items {
                    out.push_str(&pad);
                    out.push('-');
                    match &item.kind {
                        Kind::Map(entries) if !entries.is_empty() => {
                            // The first key on the dash line.
                            self.entries(entries, indent + 2, out, true, room);
                        }
                        _ => self.node(item, indent + 2, out, true, false, room),
                    }
                }
            }
            Kind::Map(entries) => {
                if inline_start {
                    let t = tag.trim_end();
                    if !t.is_empty() {
                        out.push(' ');
                        out.push_str(t);
                    }
                    out.push('\n');
                }
                self.entries(entries, indent, out, false, room);
            }
        }
    }

    fn entries(
        &self,
        entries: &[crate::yaml::Entry],
        indent: usize,
        out: &mut String,
        first_inline: bool,
        room: usize,
    ) {
        let pad = " ".repeat(indent);
        for (i, e) in entries.iter().enumerate() {
            if out.len() > room {
                return;
            }
            if i == 0 && first_inline {
                out.push(' ');
            } else {
                out.push_str(&pad);
            }
            let key = e
                .key
                .as_scalar()
                .map_or_else(|| "?".to_string(), |k| scalar(k, indent));
            out.push_str(&key);
            out.push(':');
            let nested = matches!(&e.value.kind, Kind::Map(m) if !m.is_empty())
                || matches!(&e.value.kind, Kind::Seq(s) if !s.is_empty());
            if nested {
                let t = e.value.tag.as_deref().unwrap_or("");
                if !t.is_empty() {
                    out.push(' ');
                    out.push_str(t);
                }
                out.push_str(&self.origin(&e.key));
                out.push('\n');
                let child = match &e.value.kind {
                    // Sequences under a key stay at the key's indentation, as kustomize writes them.
                    Kind::Seq(_) => indent,
                    _ => indent + 2,
                };
                // The tag went on the key's line; a copy without it would cost the subtree.
                self.node(&e.value, child, out, false, true, room);
            } else {
                self.node(&e.value, indent + 2, out, true, false, room);
            }
        }
    }
}

/// A scalar as YAML text that reads back as the same value and type.
fn scalar(s: &Scalar, indent: usize) -> String {
    let t = &*s.text;
    match s.style {
        Style::Plain if plain_ok(t) || s.is_null() => {
            if t.is_empty() {
                "null".into()
            } else {
                t.to_string()
            }
        }
        Style::Block
            if t.contains('\n')
                && !t
                    .chars()
                    .any(|c| c != '\n' && c != '\t' && crate::escape::needs_escape(c)) =>
        {
            let pad = " ".repeat(indent + 2);
            let chomp = if t.ends_with('\n') { "" } else { "-" };
            let mut out = format!("|{chomp}");
            let body = t.strip_suffix('\n').unwrap_or(t);
            for line in body.split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&pad);
                    out.push_str(line);
                }
            }
            out
        }
        // A plain scalar that needs quoting keeps its meaning only if it is a string anyway.
        _ => quote(t),
    }
}

fn plain_ok(t: &str) -> bool {
    !t.is_empty()
        && !t.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`', ' ',
        ])
        && !t.ends_with(' ')
        && !t.contains(": ")
        && !t.contains(" #")
        && !t.ends_with(':')
        && !t.chars().any(crate::escape::needs_escape)
        || t == "-"
}

fn quote(t: &str) -> String {
    let mut out = String::with_capacity(t.len() + 2);
    out.push('"');
    for c in t.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\x{:02x}", c as u32)),
            // Nothing that moves a terminal's cursor or reorders text is printed raw.
            c if crate::escape::needs_escape(c) => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(yaml: &str) {
        let a = crate::yaml::first_root(yaml);
        let text = Emitter { origins: None }.document(&a);
        let b = crate::yaml::load(0, &text);
        assert!(b.errors.is_empty(), "{text}\n{:?}", b.errors);
        assert!(same(&a, &b.docs[0].root), "{yaml}\n---\n{text}");
    }

    fn same(a: &Node, b: &Node) -> bool {
        match (&a.kind, &b.kind) {
            (Kind::Scalar(x), Kind::Scalar(y)) => {
                x.text == y.text
                    && (x.style == Style::Plain)
                        == (y.style == Style::Plain || x.is_null() && y.is_null())
                    || x.text == y.text && x.style != Style::Plain && y.style != Style::Plain
            }
            (Kind::Seq(x), Kind::Seq(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
            }
            (Kind::Map(x), Kind::Map(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|(a, b)| a.key.as_str() == b.key.as_str() && same(&a.value, &b.value))
            }
            _ => false,
        }
    }

    #[test]
    fn control_characters_are_escaped_and_read_back() {
        for text in [
            "a: \"\\e[31mred\\u202e\"\n",
            "a: \"x\\u0085y\\u2028\"\n",
            "a: |\n  one\\e\n  two\n",
        ] {
            let a = crate::yaml::first_root(text);
            let out = Emitter { origins: None }.document(&a);
            assert!(
                !out.chars()
                    .any(|c| c != '\n' && crate::escape::needs_escape(c)),
                "{out:?}"
            );
            round_trip(text);
        }
    }

    #[test]
    fn output_stops_at_its_room() {
        let a = crate::yaml::first_root("a:\n  b:\n    c: [1, 2, 3]\n");
        let e = Emitter { origins: None };
        assert!(e.document_within(&a, 10).is_none());
        assert!(e.document_within(&a, 1000).is_some());
    }

    #[test]
    fn round_trips() {
        round_trip("a: 1\nb: \"1\"\nc: [x, {y: z}]\nd:\n  - e: f\n    g: [1, 2]\n  - h\ne: \"a: b\"\nf: |\n  line one\n  line two\ng: ''\nh:\ni: !secret value\nj: []\nk: {}\nl: \"#x\"\n");
    }
}

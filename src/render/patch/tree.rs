//! Small helpers on span trees that both patch kinds share.

use crate::source::Span;
use crate::yaml::{Entry, Kind, Node, Scalar, Style};

/// Null as go-yaml v3 tags it: a plain null word (or an empty value), or an explicit `!!null`.
pub(super) fn is_null(n: &Node) -> bool {
    let Kind::Scalar(s) = &n.kind else {
        return false;
    };
    match n.tag.as_deref() {
        None => s.is_null(),
        Some(t) => matches!(t, "!!null" | "tag:yaml.org,2002:null"),
    }
}

/// go-yaml's `Node.Value`: a scalar's text ("" for a value left empty), "" for collections.
/// The loader reads an empty value as `~` with an empty span.
pub(super) fn value_text(n: &Node) -> &str {
    match &n.kind {
        Kind::Scalar(s) => {
            if s.style == Style::Plain
                && &*s.text == "~"
                && n.span.start == n.span.end
                && n.tag.is_none()
            {
                ""
            } else {
                &s.text
            }
        }
        _ => "",
    }
}

pub(super) fn is_empty_map(n: &Node) -> bool {
    matches!(&n.kind, Kind::Map(m) if m.is_empty())
}

/// kyaml's `IsNilOrEmpty` on a value: null, `{}` or `[]`.
pub(super) fn is_nil_or_empty(n: &Node) -> bool {
    is_null(n)
        || matches!(&n.kind, Kind::Map(m) if m.is_empty())
        || matches!(&n.kind, Kind::Seq(s) if s.is_empty())
}

pub(super) fn field_entries<'a>(entries: &'a [Entry], name: &str) -> Option<&'a Entry> {
    entries.iter().find(|e| value_text(&e.key) == name)
}

/// The first entry of a mapping with this key.
pub(super) fn field<'a>(n: &'a Node, name: &str) -> Option<&'a Entry> {
    match &n.kind {
        Kind::Map(entries) => field_entries(entries, name),
        _ => None,
    }
}

/// A list item's field value (None for items that are not mappings).
pub(super) fn item_field<'a>(item: &'a Node, key: &str) -> Option<&'a Node> {
    field(item, key).map(|e| &e.value)
}

pub(super) fn scalar_node(span: Span, text: &str) -> Node {
    Node {
        span,
        tag: None,
        kind: Kind::Scalar(Scalar {
            text: text.into(),
            style: Style::Plain,
        }),
    }
}

pub(super) fn null_node(span: Span) -> Node {
    scalar_node(span, "null")
}

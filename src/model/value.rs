//! Values that may not be known statically. A Flux `${VAR}` placeholder is unknown until the
//! render stage substitutes it, and rules never report on unknowns.

use crate::yaml::Node;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Val<'a> {
    Known(&'a str),
    /// Holds a Flux substitution placeholder (or comes from somewhere this tool cannot read).
    Unknown,
}

impl<'a> Val<'a> {
    pub fn known(self) -> Option<&'a str> {
        match self {
            Val::Known(s) => Some(s),
            Val::Unknown => None,
        }
    }
}

/// True when the text holds a `${…}` that Flux post-build substitution would replace. `$${…}` is
/// Flux's escape for a literal `${…}` and does not count.
pub fn has_placeholder(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' {
            if bytes[i + 1] == b'$' {
                i += 2;
                continue;
            }
            if bytes[i + 1] == b'{' {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// A scalar's text as a [`Val`]; `None` for null, mappings and sequences.
pub fn text(node: &Node) -> Option<Val<'_>> {
    let s = node.as_str()?;
    Some(if has_placeholder(s) {
        Val::Unknown
    } else {
        Val::Known(s)
    })
}

/// A known, non-empty scalar text.
pub fn known_text(node: &Node) -> Option<&str> {
    text(node)?.known().filter(|s| !s.is_empty())
}

/// A boolean, if it is written as one (placeholders are unknown, hence `None`).
pub fn known_bool(node: &Node) -> Option<bool> {
    node.as_scalar()?.as_bool()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        assert!(has_placeholder("postgres-${APP}"));
        assert!(has_placeholder("${A:=x}"));
        assert!(!has_placeholder("$${podselector:x}"));
        assert!(!has_placeholder("$HOME and $"));
        assert!(has_placeholder("$$${X}"));
    }
}

//! The span-preserving document tree. Every node, and every mapping key, knows where it was
//! written. Values that arrive through aliases or merge keys keep the span of the anchored
//! definition, so a finding on them points at the text the user has to change.

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    /// Explicit tag as written (`!secret`, `!!str`), if any.
    pub tag: Option<Tag>,
    pub kind: Kind,
}

/// A tag as written. Tags are rare, so it sits behind one thin pointer: a node is 8 bytes
/// smaller than with a `Box<str>` in place, across millions of nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(Box<Box<str>>);

impl std::ops::Deref for Tag {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Tag {
    fn from(s: &str) -> Tag {
        Tag(Box::new(s.into()))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// Inline up to 24 bytes, which most keys and values are: no allocation to load or copy.
    pub text: compact_str::CompactString,
    pub style: Style,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: Node,
    pub value: Node,
}

impl Node {
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text, whatever its YAML type. Null reads as `None`.
    pub fn as_str(&self) -> Option<&str> {
        let s = self.as_scalar()?;
        if s.is_null() {
            None
        } else {
            Some(&s.text)
        }
    }

    /// The entry for a string key in a mapping.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.as_map()?
            .iter()
            .find(|e| e.key.as_scalar().is_some_and(|k| &*k.text == key))
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    /// Follows a chain of mapping keys.
    pub fn at(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, k| node.get(k))
    }

    /// Follows a chain of mapping keys, for editing.
    pub fn at_mut(&mut self, keys: &[&str]) -> Option<&mut Node> {
        keys.iter().try_fold(self, |node, k| match &mut node.kind {
            Kind::Map(entries) => entries
                .iter_mut()
                .find(|e| e.key.as_scalar().is_some_and(|s| &*s.text == *k))
                .map(|e| &mut e.value),
            _ => None,
        })
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s) if s.is_null())
    }

    /// Number of nodes in this subtree (keys included); used to bound alias expansion.
    pub fn weight(&self) -> usize {
        let mut total = 0usize;
        let mut stack = vec![self];
        while let Some(n) = stack.pop() {
            total += 1;
            match &n.kind {
                Kind::Scalar(_) => {}
                Kind::Seq(items) => stack.extend(items.iter()),
                Kind::Map(entries) => {
                    for e in entries {
                        total += 1;
                        stack.push(&e.value);
                    }
                }
            }
        }
        total
    }
}

impl Scalar {
    /// YAML 1.2 core-schema null for plain scalars.
    pub fn is_null(&self) -> bool {
        self.style == Style::Plain && matches!(&*self.text, "" | "~" | "null" | "Null" | "NULL")
    }

    /// Booleans as Kubernetes' YAML decoder reads them (it also takes the YAML 1.1 words).
    pub fn as_bool(&self) -> Option<bool> {
        if self.style != Style::Plain {
            return None;
        }
        match &*self.text {
            "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Some(true),
            "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Some(false),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        if self.style != Style::Plain {
            return None;
        }
        let t = self.text.trim();
        let t = t.strip_prefix('+').unwrap_or(t);
        t.parse::<i64>().ok()
    }
}

// Trees are most of a run's memory: keep a node at 56 bytes (a mapping entry at 112).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Node>() == 56);

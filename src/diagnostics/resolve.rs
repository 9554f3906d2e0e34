//! Findings to diagnostics: each location a rule named becomes a file span with its line and
//! column, its key path, the object it is about, and a stable fingerprint.

use std::path::Path;

use crate::diagnostics::{Diagnostic, ObjectRef, Position, Related};
use crate::index::{Index, InstId};
use crate::model::NameVal;
use crate::rules::engine::RuleResult;
use crate::rules::{Finding, Loc};
use crate::source::Span;
use crate::yaml::{Kind, Node};
use crate::yaml::{Seg, Target};

/// Resolves every rule's findings, in rule order, and sorts the result; what a rule could not
/// do becomes an internal error.
pub fn resolve_all(
    index: &Index,
    results: Vec<RuleResult>,
    cwd: &Path,
) -> (Vec<Diagnostic>, Vec<String>) {
    let mut diagnostics = Vec::new();
    let mut internal_errors = Vec::new();
    for r in results {
        match r {
            Ok(findings) => {
                let (mut d, mut e) = resolve(index, &findings, cwd);
                diagnostics.append(&mut d);
                internal_errors.append(&mut e);
            }
            Err(e) => internal_errors.push(e),
        }
    }
    super::group::sort_and_dedup(&mut diagnostics);
    (diagnostics, internal_errors)
}

/// Resolves findings to positioned diagnostics; a location that does not exist is an internal
/// error, never a finding without a place.
pub fn resolve(index: &Index, findings: &[Finding], cwd: &Path) -> (Vec<Diagnostic>, Vec<String>) {
    let resolver = Resolver { index, cwd };
    let mut diagnostics = Vec::new();
    let mut errors = Vec::new();
    for f in findings {
        match resolver.diagnostic(f) {
            Some(d) => diagnostics.push(d),
            None => errors.push(format!(
                "internal error: rule {} reported a location that does not exist",
                f.rule.code
            )),
        }
    }
    (diagnostics, errors)
}

struct Resolver<'a> {
    index: &'a Index,
    cwd: &'a Path,
}

impl Resolver<'_> {
    fn diagnostic(&self, f: &Finding) -> Option<Diagnostic> {
        let (span, key_path) = self.resolve(&f.primary)?;
        let at = self.position(span)?;
        // A value that came through Flux substitution: say where each variable was defined.
        let mut substituted = Vec::new();
        if let Loc::Node { doc, .. } | Loc::Path { doc, .. } = &f.primary {
            if let Some(sub) = self.index.substitution_at(*doc, &key_path) {
                for (name, def) in &sub.vars {
                    if let Some(p) = def.and_then(|d| self.position(d)) {
                        substituted.push(Related {
                            at: p,
                            message: format!("`${{{name}}}` is defined here"),
                        });
                    }
                }
            }
        }
        let object = f.object.and_then(|i| self.object_ref(i));
        let fingerprint = self.fingerprint(f, &at, object.as_ref(), &key_path);
        let mut related: Vec<Related> = f
            .related
            .iter()
            .filter_map(|(loc, msg)| {
                let (span, _) = self.resolve(loc)?;
                Some(Related {
                    at: self.position(span)?,
                    message: msg.clone(),
                })
            })
            .collect();
        related.extend(substituted);
        Some(Diagnostic {
            code: f.rule.code,
            name: f.rule.name,
            severity: f.severity.unwrap_or(f.rule.severity),
            message: f.message.clone(),
            help: f.help.clone(),
            at,
            key_path,
            object,
            related,
            via: f
                .object
                .filter(|&i| self.primary_in_object(&f.primary, i))
                .and_then(|i| self.via(i)),
            inst: f.object,
            fingerprint,
            suppression: None,
        })
    }

    /// Code, file, object and YAML key path: none of them moves when lines are inserted above
    /// the finding. Locations with no key path (Terraform, syntax errors) use the located text
    /// and the message instead.
    fn fingerprint(
        &self,
        f: &Finding,
        at: &Position,
        object: Option<&ObjectRef>,
        key_path: &[Seg],
    ) -> String {
        let mut h = Fnv::default();
        h.write(f.rule.code);
        h.write(&at.repo_path);
        if let Some(o) = object {
            h.write(&o.api_version);
            h.write(&o.kind);
            h.write(o.namespace.as_deref().unwrap_or(""));
            h.write(o.name.as_deref().unwrap_or(""));
        }
        if key_path.is_empty() {
            let text = self
                .index
                .sources
                .get(at.span.file)
                .and_then(|s| s.text.get(at.span.range()))
                .unwrap_or("");
            h.write(text);
            h.write(&f.message);
        } else {
            h.write(&crate::yaml::path_string(key_path));
        }
        format!("{:016x}", h.0)
    }

    pub fn position(&self, span: Span) -> Option<Position> {
        let file = self.index.sources.get(span.file)?;
        Some(Position {
            span,
            path: display_path(&self.index.root, &file.repo_path, self.cwd),
            repo_path: file.repo_path.clone(),
            start: file.line_col(span.start),
            end: file.line_col(span.end),
        })
    }

    fn resolve(&self, loc: &Loc) -> Option<(Span, Vec<Seg>)> {
        match loc {
            Loc::Span(s) => Some((*s, Vec::new())),
            Loc::Node { doc, node, target } => {
                let root = &self.index.doc(*doc)?.root;
                find_node(root, *node, *target)
            }
            Loc::Path { doc, path, target } => {
                let root = &self.index.doc(*doc)?.root;
                Some(follow_path(root, path, *target))
            }
        }
    }

    fn object_ref(&self, inst: InstId) -> Option<ObjectRef> {
        let i = self.index.instance(inst)?;
        let doc = self.index.doc(i.doc)?;
        let h = doc.header.as_ref()?;
        // A name or namespace that is still a placeholder is shown as written (`${APP}`), so
        // the user can find it.
        let show = |v: &Option<NameVal>, key: &str| {
            v.as_ref().map(|n| match n {
                NameVal::Known(s) => s.to_string(),
                NameVal::Unknown => doc
                    .root
                    .at(&["metadata", key])
                    .and_then(|n| n.as_str())
                    .unwrap_or("?")
                    .to_string(),
            })
        };
        Some(ObjectRef {
            api_version: h.api_version.to_string(),
            kind: h.kind_name.to_string(),
            namespace: show(&i.namespace, "namespace"),
            name: show(&h.name, "name"),
        })
    }

    /// Whether the primary location lies in the object's own document (and not, say, in the
    /// Terraform that a finding about the object points at).
    fn primary_in_object(&self, primary: &Loc, inst: InstId) -> bool {
        let Some(i) = self.index.instance(inst) else {
            return false;
        };
        matches!(primary, Loc::Node { doc, .. } | Loc::Path { doc, .. } if *doc == i.doc)
    }

    fn via(&self, inst: InstId) -> Option<String> {
        let owner = self.index.instance(inst)?.owner?;
        let h = self.index.doc(owner)?.header.as_ref()?;
        let name = h.name.as_ref()?.known()?;
        Some(match h.namespace.as_ref().and_then(NameVal::known) {
            Some(ns) => format!("{ns}/{name}"),
            None => name.to_string(),
        })
    }
}

/// Finds a node by address, with its YAML path. The key target points at the mapping key
/// that holds the node.
///
/// The walk records each visited node's parent and step instead of copying the path so far
/// into every node it visits: a tree that aliases made deep and wide would otherwise cost
/// nodes × depth per finding. The path is built once, from the node found.
fn find_node(root: &Node, addr: usize, target: Target) -> Option<(Span, Vec<Seg>)> {
    if std::ptr::eq(root, addr as *const Node) {
        return Some((root.span, Vec::new()));
    }
    // (parent record, step from the parent); record 0 is the root.
    let mut records: Vec<(usize, Option<Seg>)> = vec![(0, None)];
    let mut stack: Vec<(&Node, usize)> = vec![(root, 0)];
    let path_of = |records: &[(usize, Option<Seg>)], mut at: usize| {
        let mut path = Vec::new();
        while at != 0 {
            let (parent, seg) = &records[at];
            if let Some(seg) = seg {
                path.push(seg.clone());
            }
            at = *parent;
        }
        path.reverse();
        path
    };
    while let Some((node, rec)) = stack.pop() {
        match &node.kind {
            Kind::Scalar(_) => {}
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    records.push((rec, Some(Seg::Index(i))));
                    let me = records.len() - 1;
                    if item as *const Node as usize == addr {
                        return Some((item.span, path_of(&records, me)));
                    }
                    if !matches!(item.kind, Kind::Scalar(_)) {
                        stack.push((item, me));
                    }
                }
            }
            Kind::Map(entries) => {
                for e in entries {
                    let at_key = &e.key as *const Node as usize == addr;
                    let at_value = &e.value as *const Node as usize == addr;
                    if at_key || at_value || !matches!(e.value.kind, Kind::Scalar(_)) {
                        records.push((rec, Some(Seg::Key(e.key.as_str().unwrap_or("").into()))));
                        let me = records.len() - 1;
                        if at_key || (at_value && target == Target::Key) {
                            return Some((e.key.span, path_of(&records, me)));
                        }
                        if at_value {
                            return Some((e.value.span, path_of(&records, me)));
                        }
                        stack.push((&e.value, me));
                    }
                }
            }
        }
    }
    None
}

/// Follows a path; where it runs out, the nearest existing ancestor's key stands in.
fn follow_path(root: &Node, path: &[Seg], target: Target) -> (Span, Vec<Seg>) {
    let mut node = root;
    let mut key_span = root.span;
    let mut done = Vec::new();
    for seg in path {
        let next = match seg {
            Seg::Key(k) => node.entry(k).map(|e| (e.key.span, &e.value)),
            Seg::Index(i) => node.as_seq().and_then(|s| s.get(*i)).map(|n| (n.span, n)),
        };
        match next {
            Some((ks, n)) => {
                key_span = ks;
                node = n;
                done.push(seg.clone());
            }
            None => return (key_span, done),
        }
    }
    let span = match target {
        Target::Key => key_span,
        Target::Value => node.span,
    };
    (span, done)
}

/// A repository path as the user sees it from `cwd`: relative, `/`-separated.
pub fn display_path(root: &Path, repo_path: &str, cwd: &Path) -> String {
    let full = root.join(repo_path);
    let full = full.as_path();
    if let Ok(rel) = full.strip_prefix(cwd) {
        return crate::source::slash_path(rel);
    }
    // Walk up from cwd until it is a prefix, adding `..` for each step.
    let mut up = 0;
    let mut base = cwd;
    while let Some(parent) = base.parent() {
        up += 1;
        base = parent;
        if let Ok(rel) = full.strip_prefix(base) {
            let mut s = "../".repeat(up);
            s.push_str(&crate::source::slash_path(rel));
            return s;
        }
    }
    crate::source::slash_path(full)
}

/// FNV-1a, 64 bits: stable across platforms and releases, which fingerprints must be.
pub(crate) struct Fnv(pub(crate) u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    pub(crate) fn write(&mut self, s: &str) {
        for b in s.bytes().chain(std::iter::once(0)) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

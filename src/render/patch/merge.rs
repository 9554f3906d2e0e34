//! Strategic merge patches, as kyaml's `merge2` runs them for kustomize v5's
//! `patchstrategicmerge` filter (see the module comment of [`super`]).

use std::collections::{BTreeSet, HashMap};

use super::openapi::{gvk_schema, list_keys, schema_field};
use super::tree::*;
use super::{err, PatchError, MAX_DEPTH};
use crate::source::Span;
use crate::yaml::{Entry, Kind, Node, Style};

/// Strategic merge patch, kustomize semantics. `builtin_kind`: true for Kubernetes built-in kinds
/// (group "" / apps / batch / networking.k8s.io / policy / rbac…), whose known list fields merge by
/// key; false for custom resources, whose lists are replaced wholesale (kustomize has no schema
/// for CRDs). With `builtin_kind` the schema is the one kustomize embeds (Kubernetes v1.21.2),
/// looked up by the target's `apiVersion` and `kind` as kyaml does: a built-in type missing from
/// it (e.g. `autoscaling/v2` HorizontalPodAutoscaler) gets no schema, as in kustomize, and no
/// custom resource is in it, so `true` is right for any object. `false` skips the lookup for
/// the object itself (kyaml still looks one up for nested mappings that carry an `apiVersion`
/// and `kind`, as an embedded Pod would).
///
/// Returns Ok(false) when the patch deletes the whole object (`$patch: delete` at the root, or a
/// patch that empties it); `target` is then left as it was. On error `target` is unchanged.
pub fn strategic_merge(
    target: &mut Node,
    patch: &Node,
    builtin_kind: bool,
) -> Result<bool, PatchError> {
    if !matches!(patch.kind, Kind::Map(_)) {
        return err(patch.span, "a strategic merge patch must be a mapping");
    }
    if !matches!(target.kind, Kind::Map(_)) {
        return err(patch.span, "the patch target is not a mapping");
    }
    let walked = walk(
        Src::Pair(Some(target.clone()), Some(patch.clone())),
        None,
        builtin_kind,
        patch.span,
        0,
    )?;
    match walked.node {
        Some(node) if !is_null(&node) && !is_empty_map(&node) => {
            *target = node;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// The sources of one step of kyaml's walk: the target (`dest`) and the patch (`origin`) values
/// at the same place, or one node standing for both. kyaml walks a node against itself when the
/// patch adds or replaces something, which is how directives nested in added values are applied.
pub(super) enum Src {
    Pair(Option<Node>, Option<Node>),
    Same(Node),
}

/// Which input a walk result is (a mutated version of), so list merges can write it back the way
/// kyaml's in-place mutation of shared nodes does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum From {
    Dest,
    Origin,
}

pub(super) struct Walked {
    node: Option<Node>,
    from: From,
    /// A null the merge must keep (kyaml's `ShouldKeep`).
    keep: bool,
    /// When a `$patch: delete` removed the value: the input it was read from, as kyaml leaves
    /// it (without the directive). List merges see that node again.
    rest: Option<Node>,
}

impl Walked {
    fn gone() -> Walked {
        Walked {
            node: None,
            from: From::Dest,
            keep: false,
            rest: None,
        }
    }

    fn deleted(rest: Option<Node>, from: From) -> Walked {
        Walked {
            node: None,
            from,
            keep: false,
            rest,
        }
    }

    fn of(node: Node, from: From) -> Walked {
        Walked {
            node: Some(node),
            from,
            keep: false,
            rest: None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Directive {
    Merge,
    Replace,
    Delete,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum NodeKind {
    Scalar,
    Seq,
    Map,
}

pub(super) fn node_kind(n: &Node) -> Option<NodeKind> {
    if is_null(n) {
        return None;
    }
    Some(match n.kind {
        Kind::Scalar(_) => NodeKind::Scalar,
        Kind::Seq(_) => NodeKind::Seq,
        Kind::Map(_) => NodeKind::Map,
    })
}

pub(super) fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Scalar => "a scalar",
        NodeKind::Seq => "a sequence",
        NodeKind::Map => "a mapping",
    }
}

/// One level of kyaml's `walk.Walker.Walk` with the `merge2.Merger` visitor.
pub(super) fn walk(
    src: Src,
    schema: Option<u16>,
    lookup: bool,
    at: Span,
    depth: usize,
) -> Result<Walked, PatchError> {
    if depth > MAX_DEPTH {
        return err(at, "the patch is nested too deeply");
    }
    let (first, second): (Option<&Node>, Option<&Node>) = match &src {
        Src::Pair(d, o) => (d.as_ref(), o.as_ref()),
        Src::Same(x) => (Some(x), None),
    };
    // kyaml's GetSchema: the schema handed down, else one found from apiVersion/kind.
    let schema = match schema {
        Some(s) => Some(s),
        None if lookup => [first, second].into_iter().flatten().find_map(gvk_schema),
        None => None,
    };
    let kind = [first, second].into_iter().flatten().find_map(node_kind);
    if let Some(kind) = kind {
        // ErrorIfAnyInvalidAndNonNull: every non-null source must be of the same kind.
        for n in [first, second].into_iter().flatten() {
            if let Some(k) = node_kind(n) {
                if k != kind {
                    let span = second.map_or(at, |o| o.span);
                    return err(
                        span,
                        format!(
                            "strategic merge patch: the patch has {} where the target has {}",
                            kind_name(second.and_then(node_kind).unwrap_or(k)),
                            kind_name(first.and_then(node_kind).unwrap_or(kind)),
                        ),
                    );
                }
            }
        }
    }
    match kind {
        None | Some(NodeKind::Map) => walk_map(src, schema, at, depth),
        Some(NodeKind::Seq) => match schema.and_then(list_keys) {
            Some((keys, items)) => walk_assoc(src, keys, items, at, depth),
            // VisitList for a non-associative list: the patch's list as it is, else the target's.
            None => Ok(pick_origin(src)),
        },
        Some(NodeKind::Scalar) => Ok(pick_origin(src)),
    }
}

/// VisitScalar, and VisitList for lists that do not merge: the patch value if there is one.
pub(super) fn pick_origin(src: Src) -> Walked {
    match src {
        Src::Pair(_, Some(o)) => Walked::of(o, From::Origin),
        Src::Pair(Some(d), None) => Walked::of(d, From::Dest),
        Src::Pair(None, None) => Walked::gone(),
        Src::Same(x) => Walked::of(x, From::Dest),
    }
}

/// `merge2.Merger.VisitMap`, then the field-by-field walk of `walkMap`.
pub(super) fn walk_map(
    src: Src,
    schema: Option<u16>,
    at: Span,
    depth: usize,
) -> Result<Walked, PatchError> {
    match src {
        Src::Pair(d, o) => {
            let dest_missing = d.as_ref().is_none_or(is_null);
            if dest_missing {
                // Adding: the directive is read (errors ignored) and the patch value is taken.
                let (directive, o) = take_directive(o);
                if matches!(directive, Ok(Directive::Delete)) {
                    return Ok(Walked::deleted(o, From::Origin));
                }
                let Some(o) = o else {
                    // A null written out in the target (`~`, `null`) is kept; `key:` is not.
                    return Ok(match d {
                        Some(d) if !value_text(&d).is_empty() => Walked {
                            node: Some(d),
                            from: From::Dest,
                            keep: true,
                            rest: None,
                        },
                        _ => Walked::gone(),
                    });
                };
                if !matches!(o.kind, Kind::Map(_)) {
                    // A null patch value: nothing to add.
                    return Ok(Walked::of(o, From::Origin));
                }
                let merged = walk_fields(o, None, schema, at, depth)?;
                return Ok(Walked::of(merged, From::Origin));
            }
            let Some(d) = d else {
                return Ok(Walked::gone());
            };
            if o.as_ref().is_some_and(is_null) {
                return Ok(Walked::gone());
            }
            let (directive, o) = take_directive(o);
            match directive? {
                Directive::Delete => Ok(Walked::deleted(o, From::Origin)),
                Directive::Replace => match o {
                    Some(o) => Ok(Walked::of(
                        walk_fields(o, None, schema, at, depth)?,
                        From::Origin,
                    )),
                    None => Ok(Walked::gone()),
                },
                Directive::Merge => Ok(Walked::of(
                    walk_fields(d, Some(o), schema, at, depth)?,
                    From::Dest,
                )),
            }
        }
        Src::Same(x) => {
            if !matches!(x.kind, Kind::Map(_)) {
                return Ok(Walked::of(x, From::Dest));
            }
            let (directive, x) = take_directive(Some(x));
            match (directive?, x) {
                (Directive::Delete, x) => Ok(Walked::deleted(x, From::Dest)),
                (_, None) => Ok(Walked::gone()),
                (_, Some(x)) => Ok(Walked::of(
                    walk_fields(x, None, schema, at, depth)?,
                    From::Dest,
                )),
            }
        }
    }
}

/// Walks every field of `dest` and, when given, `origin` (`Some(None)`: the patch has no value
/// here) in sorted order, setting each result on `dest` as kyaml's `FieldSetter` does. With
/// `origin` None, `dest` is walked against itself.
///
/// Fields are found through a map of names, and the results set in one pass at the end (names
/// are distinct, so this is what setting them one by one does): a patch of 40,000 keys on a
/// mapping of 40,000 keys costs 80,000 steps, not 1.6 billion. Values are moved out of both
/// sides, not copied: each side is owned here and rebuilt from the results.
pub(super) fn walk_fields(
    mut dest: Node,
    origin: Option<Option<Node>>,
    schema: Option<u16>,
    at: Span,
    depth: usize,
) -> Result<Node, PatchError> {
    let same = origin.is_none();
    let mut origin = origin.flatten();
    let positions = |n: &Node| -> HashMap<String, usize> {
        let mut m = HashMap::new();
        if let Kind::Map(entries) = &n.kind {
            for (i, e) in entries.iter().enumerate() {
                m.entry(value_text(&e.key).to_string()).or_insert(i);
            }
        }
        m
    };
    let dest_at = positions(&dest);
    let origin_at = origin.as_ref().map(positions).unwrap_or_default();
    let names: BTreeSet<&String> = dest_at.keys().chain(origin_at.keys()).collect();
    // (name, result, key to add it under, old value's scalar for the style it keeps)
    let mut results: Vec<(&String, Walked, Option<Node>, Option<Node>)> = Vec::new();
    for name in names {
        let child_schema = schema.and_then(|s| schema_field(s, name));
        let di = dest_at.get(name).copied();
        let oi = origin_at.get(name).copied();
        let dest_entry = match (&mut dest.kind, di) {
            (Kind::Map(entries), Some(i)) => entries.get_mut(i),
            _ => None,
        };
        // The old value's style survives an overwrite; only a scalar's matters, so only a
        // scalar is copied. Everything else moves into the walk.
        let old_scalar = dest_entry
            .as_ref()
            .filter(|e| matches!(e.value.kind, Kind::Scalar(_)))
            .map(|e| e.value.clone());
        let dv = dest_entry.map(|e| {
            let span = e.value.span;
            std::mem::replace(&mut e.value, placeholder(span))
        });
        let origin_entry = match (origin.as_mut().map(|o| &mut o.kind), oi) {
            (Some(Kind::Map(entries)), Some(i)) => entries.get_mut(i),
            _ => None,
        };
        let (ov, okey, child_at) = match origin_entry {
            Some(e) => {
                let span = e.value.span;
                (
                    Some(std::mem::replace(&mut e.value, placeholder(span))),
                    Some(e.key.clone()),
                    span,
                )
            }
            None => (None, None, at),
        };
        let key_node = okey.or_else(|| match (&dest.kind, di) {
            (Kind::Map(entries), Some(i)) => entries.get(i).map(|e| e.key.clone()),
            _ => None,
        });
        let src = if same {
            match dv {
                Some(v) => Src::Same(v),
                None => continue,
            }
        } else {
            Src::Pair(dv, ov)
        };
        let walked = walk(src, child_schema, true, child_at, depth + 1)?;
        results.push((name, walked, key_node, old_scalar));
    }
    if let Kind::Map(entries) = &mut dest.kind {
        let mut removed = vec![false; entries.len()];
        let mut added = Vec::new();
        for (name, walked, key_node, old_scalar) in results {
            let pos = dest_at.get(name).copied();
            let value = match walked.node {
                Some(v) if !is_null(&v) || walked.keep => v,
                _ => {
                    if let Some(i) = pos {
                        removed[i] = true;
                    }
                    continue;
                }
            };
            match pos.and_then(|i| entries.get_mut(i)) {
                Some(entry) => {
                    let mut value = value;
                    if let Some(old) = &old_scalar {
                        take_existing_style(old, &mut value);
                    }
                    entry.value = value;
                }
                None => {
                    let key = key_node.unwrap_or_else(|| scalar_node(value.span, name));
                    added.push(Entry { key, value });
                }
            }
        }
        let mut i = 0;
        entries.retain(|_| {
            i += 1;
            !removed[i - 1]
        });
        entries.extend(added);
    }
    Ok(dest)
}

/// What stands in a field whose value moved into the walk, until the result replaces it.
pub(super) fn placeholder(span: Span) -> Node {
    scalar_node(span, "")
}

/// kyaml keeps the style of the value it overwrites (kubernetes-sigs/kustomize#6140): a plain
/// patch scalar written over a quoted or block target scalar is emitted in that style, i.e. as a
/// string. A patch string written over a plain scalar stays a string (the encoder quotes it).
pub(super) fn take_existing_style(existing: &Node, value: &mut Node) {
    let (Kind::Scalar(old), Kind::Scalar(new)) = (&existing.kind, &mut value.kind) else {
        return;
    };
    if old.style == Style::Plain || new.style != Style::Plain || is_null(existing) {
        return;
    }
    new.style = old.style;
    // The encoder drops a core tag that the quoted text no longer needs.
    if value.tag.as_deref().is_some_and(is_core_tag) {
        value.tag = None;
    }
}

pub(super) fn is_core_tag(tag: &str) -> bool {
    tag.starts_with("!!") || tag.starts_with("tag:yaml.org,2002:")
}

/// kyaml's `determineSmpDirective`: reads and removes the `$patch` directive of a patch mapping
/// or sequence. The node is given back (without the directive when one was recognised).
pub(super) fn take_directive(node: Option<Node>) -> (Result<Directive, PatchError>, Option<Node>) {
    let Some(mut node) = node else {
        return (Ok(Directive::Merge), None);
    };
    let span = node.span;
    let result = match &mut node.kind {
        Kind::Map(entries) => {
            let Some(pos) = entries.iter().position(|e| value_text(&e.key) == PATCH_KEY) else {
                return (Ok(Directive::Merge), Some(node));
            };
            let (value, value_span) = match entries.get(pos) {
                Some(e) => (value_text(&e.value).to_string(), e.value.span),
                None => (String::new(), span),
            };
            match parse_directive(&value) {
                Some(d) => {
                    entries.remove(pos);
                    Ok(d)
                }
                None => err(value_span, format!("unknown patch strategy '{value}'")),
            }
        }
        Kind::Seq(items) => {
            // The first mapping item holding `$patch`; it is the list's directive only when it
            // holds nothing else.
            let found = items.iter().find_map(|item| match &item.kind {
                Kind::Map(entries) if !is_null(item) => field_entries(entries, PATCH_KEY)
                    .map(|e| (entries.len(), value_text(&e.value), e.value.span)),
                _ => None,
            });
            match found {
                None => Ok(Directive::Merge),
                Some((len, _, _)) if len > 1 => Ok(Directive::Merge),
                Some((_, value, value_span)) => {
                    let value = value.to_string();
                    match parse_directive(&value) {
                        Some(d) => {
                            let keys = [PATCH_KEY.to_string()];
                            let values = [value];
                            match element_setter(items, None, &keys, &values, span) {
                                Ok(()) => Ok(d),
                                Err(e) => Err(e),
                            }
                        }
                        None => err(value_span, format!("unknown patch strategy '{value}'")),
                    }
                }
            }
        }
        Kind::Scalar(s) => err(
            span,
            format!(
                "no implemented strategic merge patch strategy for '{}'",
                s.text
            ),
        ),
    };
    (result, Some(node))
}

pub(super) const PATCH_KEY: &str = "$patch";

pub(super) fn parse_directive(v: &str) -> Option<Directive> {
    match v {
        "delete" => Some(Directive::Delete),
        "replace" => Some(Directive::Replace),
        "merge" => Some(Directive::Merge),
        _ => None,
    }
}

/// The sequence being merged, as `walkAssociativeSequence` sees it after `VisitList`.
pub(super) struct Lists {
    /// The list merged into (the target's, or the patch's when walked against itself).
    dest: Vec<Node>,
    /// The patch's list; None when it is the same list as `dest` or absent.
    origin: Option<Vec<Node>>,
    same: bool,
}

impl Lists {
    /// kyaml merges list items in place: the item a walk result came from takes its new value.
    fn write_back(&mut self, from: From, di: Option<usize>, oi: Option<usize>, node: Node) {
        let slot = match (self.same, from) {
            (true, _) | (false, From::Dest) => di.and_then(|i| self.dest.get_mut(i)),
            (false, From::Origin) => {
                oi.and_then(|i| self.origin.as_mut().and_then(|o| o.get_mut(i)))
            }
        };
        if let Some(slot) = slot {
            *slot = node;
        }
    }
}

/// `walkAssociativeSequence` with `merge2` and `ListIncreaseDirection: Prepend`.
pub(super) fn walk_assoc(
    src: Src,
    keys: &'static [&'static str],
    items_schema: u16,
    at: Span,
    depth: usize,
) -> Result<Walked, PatchError> {
    // VisitList(AssociativeList).
    let (template, lists) = match src {
        Src::Pair(d, o) => {
            if d.as_ref().is_none_or(is_null) {
                let Some(o) = o else {
                    return Ok(Walked::gone());
                };
                (o, None)
            } else if o.as_ref().is_some_and(is_null) {
                return Ok(Walked::gone());
            } else {
                let (directive, o) = take_directive(o);
                match (directive?, o, d) {
                    (Directive::Delete, _, _) | (_, _, None) => return Ok(Walked::gone()),
                    (Directive::Replace, Some(o), _) => (o, None),
                    (Directive::Replace, None, _) => return Ok(Walked::gone()),
                    (Directive::Merge, o, Some(d)) => (d, Some(o)),
                }
            }
        }
        Src::Same(x) => {
            let (directive, x) = take_directive(Some(x));
            match (directive?, x) {
                (Directive::Delete, _) | (_, None) => return Ok(Walked::gone()),
                (_, Some(x)) => (x, None),
            }
        }
    };
    let (span, tag) = (template.span, template.tag.clone());
    let seq_items = |n: Node| match n.kind {
        Kind::Seq(items) => items,
        _ => Vec::new(),
    };
    let mut lists = match lists {
        None => Lists {
            dest: seq_items(template),
            origin: None,
            same: true,
        },
        Some(o) => Lists {
            dest: seq_items(template),
            origin: o.map(seq_items),
            same: false,
        },
    };
    let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
    let (values, keys) = if keys.is_empty() {
        (primitive_values(&lists), vec![String::new()])
    } else {
        (element_values(&lists, &keys), keys)
    };
    let items = set_assoc_elements(values, &keys, &mut lists, items_schema, at, depth)?;
    Ok(Walked {
        node: Some(Node {
            span,
            tag,
            kind: Kind::Seq(items),
        }),
        from: From::Dest,
        keep: false,
        rest: None,
    })
}

/// The key values of every item, patch items first (`elementValues` with Prepend), each
/// distinct tuple once. A missing, null or empty key value reads as "".
pub(super) fn element_values(lists: &Lists, keys: &[String]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    for list in [lists.origin.as_ref(), Some(&lists.dest)]
        .into_iter()
        .flatten()
    {
        for item in list {
            let tuple: Vec<String> = keys
                .iter()
                .map(|k| match item_field(item, k) {
                    Some(v) if !is_nil_or_empty(v) => value_text(v).to_string(),
                    _ => String::new(),
                })
                .collect();
            if !tuple.is_empty() && !out.contains(&tuple) {
                out.push(tuple);
            }
        }
    }
    out
}

/// `elementPrimitiveValues`: the distinct item values, patch items first.
pub(super) fn primitive_values(lists: &Lists) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for list in [lists.origin.as_ref(), Some(&lists.dest)]
        .into_iter()
        .flatten()
    {
        for item in list {
            let v = value_text(item).to_string();
            if seen.insert(v.clone()) {
                out.push(vec![v]);
            }
        }
    }
    out
}

/// `setAssociativeSequenceElements`: merges item by item into a new list, then adds the target's
/// items to it (`appendListNode`).
pub(super) fn set_assoc_elements(
    mut values_list: Vec<Vec<String>>,
    keys: &[String],
    lists: &mut Lists,
    items_schema: u16,
    at: Span,
    depth: usize,
) -> Result<Vec<Node>, PatchError> {
    let mut items: Vec<Node> = Vec::new();
    if keys.len() > 1 {
        merge_values(&mut values_list);
    }
    let mut valid_keys: Vec<String> = Vec::new();
    for values in &values_list {
        if values.is_empty() {
            continue;
        }
        let valid_values;
        (valid_keys, valid_values) = validate_keys(&values_list, values, keys);
        let (lookup_keys, lookup_values) = validate_keys(
            std::slice::from_ref(&valid_values),
            &valid_values,
            &valid_keys,
        );
        let di = element_list(&lists.dest, &lookup_keys, &lookup_values, at)?;
        let oi = match (&lists.origin, lists.same) {
            (Some(o), false) => element_list(o, &lookup_keys, &lookup_values, at)?,
            _ => None,
        };
        let dest_item = di.and_then(|i| lists.dest.get(i)).cloned();
        let origin_item = oi
            .and_then(|i| lists.origin.as_ref().and_then(|o| o.get(i)))
            .cloned();
        let item_at = origin_item.as_ref().map_or(at, |o| o.span);
        let src = if lists.same {
            match dest_item {
                Some(x) => Src::Same(x),
                None => Src::Pair(None, None),
            }
        } else {
            Src::Pair(dest_item, origin_item)
        };
        let walked = walk(src, Some(items_schema), true, item_at, depth + 1)?;
        let from = walked.from;
        let mut val = match walked.node {
            Some(v) if !is_null(&v) && !is_empty_map(&v) => v,
            other => {
                if let Some(n) = other.or(walked.rest) {
                    lists.write_back(from, di, oi, n);
                }
                element_setter(&mut lists.dest, None, &valid_keys, &valid_values, at)?;
                continue;
            }
        };
        for (key, value) in valid_keys.iter().zip(&valid_values) {
            if value.is_empty() || item_field(&val, key).is_some() {
                continue;
            }
            let span = val.span;
            match &mut val.kind {
                Kind::Map(entries) => entries.push(Entry {
                    key: scalar_node(span, key),
                    value: scalar_node(span, value),
                }),
                // A primitive item is rewritten as an untagged scalar of the same text.
                Kind::Scalar(_) if key.is_empty() => val.tag = None,
                _ => {}
            }
        }
        lists.write_back(from, di, oi, val.clone());
        element_setter(&mut items, Some(val), &valid_keys, &valid_values, at)?;
    }
    if values_list.is_empty() {
        return Ok(std::mem::take(&mut lists.dest));
    }
    append_list_node(&mut items, &lists.dest, &valid_keys, at)?;
    Ok(items)
}

/// `mergeValues`: key tuples that agree wherever both have a value are unified.
pub(super) fn merge_values(list: &mut [Vec<String>]) {
    let n = list.len();
    for i in 0..n {
        let Some(v1) = list.get(i).cloned() else {
            continue;
        };
        for j in 0..n {
            let Some(v2) = list.get(j).cloned() else {
                continue;
            };
            if let Some(merged) = match_values(&v1, &v2) {
                if let Some(slot) = list.get_mut(i) {
                    *slot = merged.clone();
                }
                if let Some(slot) = list.get_mut(j) {
                    *slot = merged;
                }
            }
        }
    }
}

pub(super) fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else if !x.is_empty() {
            out.push(x.clone());
        } else {
            out.push(y.clone());
        }
    }
    common.then_some(out)
}

/// `validateKeys`: only the keys some tuple has a value for take part, unless none has any.
pub(super) fn validate_keys(
    values_list: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let mut valid: BTreeSet<&str> = BTreeSet::new();
    for tuple in values_list {
        for (i, v) in tuple.iter().enumerate() {
            if !v.is_empty() {
                if let Some(k) = keys.get(i) {
                    valid.insert(k);
                }
            }
        }
    }
    if valid.is_empty() {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys
        .iter()
        .filter(|k| valid.contains(k.as_str()))
        .cloned()
        .collect();
    let vv = values
        .iter()
        .enumerate()
        .filter(|(i, v)| !v.is_empty() || keys.get(*i).is_some_and(|k| valid.contains(k.as_str())))
        .map(|(_, v)| v.clone())
        .collect();
    (vk, vv)
}

/// `ElementList` / `MatchElementList`: the first item whose key fields have exactly these values.
pub(super) fn element_list(
    list: &[Node],
    keys: &[String],
    values: &[String],
    at: Span,
) -> Result<Option<usize>, PatchError> {
    let empty = String::new();
    let first_key = keys.first().unwrap_or(&empty);
    let first_value = values.first().unwrap_or(&empty);
    if first_key.is_empty() {
        return Ok(list
            .iter()
            .position(|item| value_text(item) == first_value.as_str()));
    }
    for (i, item) in list.iter().enumerate() {
        if is_null(item) {
            continue;
        }
        let Kind::Map(entries) = &item.kind else {
            continue;
        };
        if keys.len() != values.len() {
            return err(
                at,
                "length of keys must equal length of values when MatchAnyValue is false",
            );
        }
        let matches = keys.iter().zip(values).all(|(k, v)| {
            field_entries(entries, k).is_some_and(|e| value_text(&e.value) == v.as_str())
        });
        if matches {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// kyaml's `ElementSetter`: replaces the items matching `keys`/`values` by `element`, appends it
/// when none matches, or deletes the matches when `element` is None. Null items and empty
/// mappings are dropped on the way, as kyaml does.
pub(super) fn element_setter(
    list: &mut Vec<Node>,
    element: Option<Node>,
    keys: &[String],
    values: &[String],
    at: Span,
) -> Result<(), PatchError> {
    let default_keys = [String::new()];
    let keys = if keys.is_empty() {
        &default_keys[..]
    } else {
        keys
    };
    let mapping_setter = keys.first().is_some_and(|k| !k.is_empty())
        && values.first().is_some_and(|v| !v.is_empty());
    let mut kept: Vec<Node> = Vec::with_capacity(list.len() + 1);
    let mut found = false;
    for item in std::mem::take(list) {
        if is_null(&item) || is_empty_map(&item) {
            continue;
        }
        if !matches!(item.kind, Kind::Map(_)) && mapping_setter {
            kept.push(item);
            continue;
        }
        let mut last: Option<bool> = None;
        let mut matched = true;
        for (j, key) in keys.iter().enumerate() {
            if let Some(value) = values.get(j) {
                last = Some(field_matches(&item, key, value, at)?);
            }
            if last != Some(true) {
                matched = false;
                break;
            }
        }
        if !matched {
            if !values.is_empty() {
                kept.push(item);
            }
            continue;
        }
        found = true;
        if let Some(e) = &element {
            kept.push(e.clone());
        }
    }
    *list = kept;
    if let Some(e) = element {
        if !found && !is_null(&e) {
            list.push(e);
        }
    }
    Ok(())
}

/// kyaml's `FieldMatcher{Name, StringValue}` on a list item: for an empty name, the item's own
/// scalar value; otherwise the first field of that name, whose value must equal `value` unless
/// `value` is empty.
pub(super) fn field_matches(
    item: &Node,
    name: &str,
    value: &str,
    at: Span,
) -> Result<bool, PatchError> {
    if is_null(item) {
        return Ok(false);
    }
    if name.is_empty() {
        return match item.kind {
            Kind::Scalar(_) => Ok(value_text(item) == value),
            _ => err(
                at,
                "strategic merge patch: a list of values holds a mapping or sequence",
            ),
        };
    }
    match &item.kind {
        Kind::Map(entries) => Ok(field_entries(entries, name)
            .is_some_and(|e| value.is_empty() || value_text(&e.value) == value)),
        _ => err(
            at,
            format!("strategic merge patch: a list merged by '{name}' holds an item that is not a mapping"),
        ),
    }
}

/// `appendListNode`: sets each of `src`'s items into `dst` by its key values.
pub(super) fn append_list_node(
    dst: &mut Vec<Node>,
    src: &[Node],
    keys: &[String],
    at: Span,
) -> Result<(), PatchError> {
    let primitive = keys.first().is_none_or(|k| k.is_empty());
    for item in src {
        if primitive {
            let values = [value_text(item).to_string()];
            element_setter(dst, Some(item.clone()), &[String::new()], &values, at)?;
            continue;
        }
        let mut values: Vec<String> = Vec::new();
        for key in keys {
            if is_null(item) {
                dst.push(item.clone());
                continue;
            }
            let Kind::Map(entries) = &item.kind else {
                return err(
                    at,
                    format!("strategic merge patch: a list merged by '{key}' holds an item that is not a mapping"),
                );
            };
            match field_entries(entries, key) {
                // An item without the key is appended as it is (and again below, as kyaml does).
                None => dst.push(item.clone()),
                Some(e) => values.push(value_text(&e.value).to_string()),
            }
        }
        if keys.len() > 1 {
            element_setter(dst, None, keys, &values, at)?;
        }
        element_setter(dst, Some(item.clone()), keys, &values, at)?;
    }
    Ok(())
}

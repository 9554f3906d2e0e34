//! Kustomize patches on span trees: strategic merge patches (kyaml `merge2`, as kustomize v5's
//! `patchstrategicmerge` filter runs it) and RFC 6902 JSON patches (as kustomize runs them
//! through `gopkg.in/evanphx/json-patch.v4`).
//!
//! The aim is the tree kustomize would render, quirks included, with every value keeping the
//! span where it was written: a value a patch sets points into the patch file.
//!
//! Strategic merge, as kyaml does it:
//! - Fields are merged recursively; a null patch value removes the field; `$patch: delete` on a
//!   mapping removes it, `$patch: replace` swaps in the patch mapping; `$patch` is the only
//!   directive kyaml knows. `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…`
//!   are ordinary fields to kyaml and are kept in the output, as kustomize keeps them.
//! - Lists merge by key only where kustomize's built-in OpenAPI schema (Kubernetes v1.21.2, found
//!   from the object's `apiVersion` and `kind`) gives the field a `merge` patch strategy; the keys
//!   are `x-kubernetes-list-map-keys` when present (container `ports`: containerPort+protocol,
//!   Service `ports`: port+protocol), else the patch merge key. Every other list, and every list
//!   of a custom resource, is replaced wholesale and its items are not looked into: the kustomize
//!   filter does not turn on kyaml's key inference (`InferAssociativeLists`), so CNPG
//!   `externalClusters`, `plugins` or `managed.roles` are replaced, never merged by `name`.
//! - Merged lists come out with the patch's items first (kustomize merges with
//!   `ListIncreaseDirection: Prepend`; kubernetes-sigs/kustomize#5904), and `$patch: replace`
//!   on a single list item has no effect — both as kustomize renders them.
//! - A plain patch scalar written over a quoted target scalar takes the quoted style, so `3`
//!   over `'6%'` renders as the string "3" (kubernetes-sigs/kustomize#6140).
//! - Fields of the target that were written with no value at all (`key:`) are dropped, while
//!   `key: ~` / `key: null` are kept, as kyaml's walk does over the whole object.
//!
//! JSON patches see the object as JSON, as kustomize hands it to json-patch: the target's scalars
//! are typed the YAML 1.2 way (kyaml) and the patch values the YAML 1.1 way (sigs.k8s.io/yaml),
//! and numbers, booleans and timestamps come back with the text JSON gives them (`0x10` → `16`,
//! `1.0` → `1`, `yes` in a patch value → `true`). The departures of json-patch v4 from RFC 6902
//! are kept; see [`json6902`].
//!
//! Left to the caller, as kustomize does them outside these two filters: after a strategic merge
//! kustomize restores the target's `kind`, `metadata.name` (unless the patch options allow a
//! change) and `metadata.namespace` (removed if the target had none); with a `target` selector it
//! first sets the patch's `apiVersion` to the target's. For every object it renders, kustomize
//! writes annotation values as strings, and its serializer quotes plain strings that YAML 1.1
//! would read as booleans (`on`, `yes`).

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use crate::source::Span;
use crate::yaml::{Entry, Kind, Node, Scalar, Style};

/// A patch that kustomize would refuse, with where in the patch the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    pub message: String,
    pub span: Span,
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatchError {}

fn err<T>(span: Span, message: impl Into<String>) -> Result<T, PatchError> {
    Err(PatchError {
        message: message.into(),
        span,
    })
}

/// Deeper than any tree the loader builds; a guard, not a limit users meet.
const MAX_DEPTH: usize = 512;

/// Upper bound on the size (in nodes) a JSON patch may grow a document to. `copy` can double a
/// document per operation; json-patch has no limit by default, but a linter must stop somewhere.
const MAX_JSON_PATCH_WEIGHT: usize = 1_000_000;

// ---------------------------------------------------------------------------------------------
// Strategic merge patch
// ---------------------------------------------------------------------------------------------

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
enum Src {
    Pair(Option<Node>, Option<Node>),
    Same(Node),
}

/// Which input a walk result is (a mutated version of), so list merges can write it back the way
/// kyaml's in-place mutation of shared nodes does.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum From {
    Dest,
    Origin,
}

struct Walked {
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
enum Directive {
    Merge,
    Replace,
    Delete,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NodeKind {
    Scalar,
    Seq,
    Map,
}

fn node_kind(n: &Node) -> Option<NodeKind> {
    if is_null(n) {
        return None;
    }
    Some(match n.kind {
        Kind::Scalar(_) => NodeKind::Scalar,
        Kind::Seq(_) => NodeKind::Seq,
        Kind::Map(_) => NodeKind::Map,
    })
}

fn kind_name(k: NodeKind) -> &'static str {
    match k {
        NodeKind::Scalar => "a scalar",
        NodeKind::Seq => "a sequence",
        NodeKind::Map => "a mapping",
    }
}

/// One level of kyaml's `walk.Walker.Walk` with the `merge2.Merger` visitor.
fn walk(
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
fn pick_origin(src: Src) -> Walked {
    match src {
        Src::Pair(_, Some(o)) => Walked::of(o, From::Origin),
        Src::Pair(Some(d), None) => Walked::of(d, From::Dest),
        Src::Pair(None, None) => Walked::gone(),
        Src::Same(x) => Walked::of(x, From::Dest),
    }
}

/// `merge2.Merger.VisitMap`, then the field-by-field walk of `walkMap`.
fn walk_map(src: Src, schema: Option<u16>, at: Span, depth: usize) -> Result<Walked, PatchError> {
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
fn walk_fields(
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
fn placeholder(span: Span) -> Node {
    scalar_node(span, "")
}

/// kyaml keeps the style of the value it overwrites (kubernetes-sigs/kustomize#6140): a plain
/// patch scalar written over a quoted or block target scalar is emitted in that style, i.e. as a
/// string. A patch string written over a plain scalar stays a string (the encoder quotes it).
fn take_existing_style(existing: &Node, value: &mut Node) {
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

fn is_core_tag(tag: &str) -> bool {
    tag.starts_with("!!") || tag.starts_with("tag:yaml.org,2002:")
}

/// kyaml's `determineSmpDirective`: reads and removes the `$patch` directive of a patch mapping
/// or sequence. The node is given back (without the directive when one was recognised).
fn take_directive(node: Option<Node>) -> (Result<Directive, PatchError>, Option<Node>) {
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

const PATCH_KEY: &str = "$patch";

fn parse_directive(v: &str) -> Option<Directive> {
    match v {
        "delete" => Some(Directive::Delete),
        "replace" => Some(Directive::Replace),
        "merge" => Some(Directive::Merge),
        _ => None,
    }
}

/// The sequence being merged, as `walkAssociativeSequence` sees it after `VisitList`.
struct Lists {
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
fn walk_assoc(
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
fn element_values(lists: &Lists, keys: &[String]) -> Vec<Vec<String>> {
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
fn primitive_values(lists: &Lists) -> Vec<Vec<String>> {
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
fn set_assoc_elements(
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
fn merge_values(list: &mut [Vec<String>]) {
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

fn match_values(a: &[String], b: &[String]) -> Option<Vec<String>> {
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
fn validate_keys(
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
fn element_list(
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
fn element_setter(
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
fn field_matches(item: &Node, name: &str, value: &str, at: Span) -> Result<bool, PatchError> {
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
fn append_list_node(
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
// ---------------------------------------------------------------------------------------------
// The slice of kustomize's built-in OpenAPI schema that strategic merge needs
// ---------------------------------------------------------------------------------------------
//
// Generated from kustomize's embedded Kubernetes v1.21.2 schema
// (kyaml/openapi/kubernetesapi, the default kustomize uses): every list field with a `merge`
// patch strategy, the objects that lead to one (with the names of their other fields, since a
// field without a schema makes kyaml look for an `apiVersion`/`kind` inside it), and `Opaque`
// for everything else that has a schema. (Below `Opaque` every field is taken to have a schema;
// kyaml would have none for unknown ones, which differs only where such a field holds a whole
// built-in object.)

#[derive(Clone, Copy)]
enum S {
    /// Has a schema, but nothing under it merges by key.
    Opaque,
    /// A list with a `merge` strategy: its merge keys (empty: a list of values merged as a set)
    /// and the schema of its items.
    List(&'static [&'static str], u16),
    /// An object: the fields that lead to merging lists, its other fields (space-separated),
    /// and the schema of map values.
    Obj(&'static [(&'static str, u16)], &'static str, Option<u16>),
}

static SCHEMA: &[S] = &[
    S::Opaque, // 0: anything without merge lists
    S::List(&[], 0), // 1
    S::List(&["uid"], 0), // 2
    // 3: ObjectMeta
    S::Obj(&[("finalizers", 1), ("ownerReferences", 2)], "annotations clusterName creationTimestamp deletionGracePeriodSeconds deletionTimestamp generateName generation labels managedFields name namespace resourceVersion selfLink uid", None),
    S::List(&["name"], 0), // 4
    // 5: MutatingWebhookConfiguration
    S::Obj(&[("metadata", 3), ("webhooks", 4)], "apiVersion kind", None),
    // 6: CustomResourceDefinition
    S::Obj(&[("metadata", 3)], "apiVersion kind spec status", None),
    S::List(&["type"], 0), // 7
    // 8: APIServiceStatus
    S::Obj(&[("conditions", 7)], "", None),
    // 9: APIService
    S::Obj(&[("metadata", 3), ("status", 8)], "apiVersion kind spec", None),
    // 10: ControllerRevision
    S::Obj(&[("metadata", 3)], "apiVersion data kind revision", None),
    S::List(&["containerPort", "protocol"], 0), // 11
    S::List(&["devicePath"], 0), // 12
    S::List(&["mountPath"], 0), // 13
    // 14: Container
    S::Obj(&[("env", 4), ("ports", 11), ("volumeDevices", 12), ("volumeMounts", 13)], "args command envFrom image imagePullPolicy lifecycle livenessProbe name readinessProbe resources securityContext startupProbe stdin stdinOnce terminationMessagePath terminationMessagePolicy tty workingDir", None),
    S::List(&["name"], 14), // 15
    // 16: EphemeralContainer
    S::Obj(&[("env", 4), ("volumeDevices", 12), ("volumeMounts", 13)], "args command envFrom image imagePullPolicy lifecycle livenessProbe name ports readinessProbe resources securityContext startupProbe stdin stdinOnce targetContainerName terminationMessagePath terminationMessagePolicy tty workingDir", None),
    S::List(&["name"], 16), // 17
    S::List(&["ip"], 0), // 18
    S::List(&["topologyKey", "whenUnsatisfiable"], 0), // 19
    // 20: PersistentVolumeClaimTemplate
    S::Obj(&[("metadata", 3)], "spec", None),
    // 21: EphemeralVolumeSource
    S::Obj(&[("volumeClaimTemplate", 20)], "", None),
    // 22: Volume
    S::Obj(&[("ephemeral", 21)], "awsElasticBlockStore azureDisk azureFile cephfs cinder configMap csi downwardAPI emptyDir fc flexVolume flocker gcePersistentDisk gitRepo glusterfs hostPath iscsi name nfs persistentVolumeClaim photonPersistentDisk portworxVolume projected quobyte rbd scaleIO secret storageos vsphereVolume", None),
    S::List(&["name"], 22), // 23
    // 24: PodSpec
    S::Obj(&[("containers", 15), ("ephemeralContainers", 17), ("hostAliases", 18), ("imagePullSecrets", 4), ("initContainers", 15), ("topologySpreadConstraints", 19), ("volumes", 23)], "activeDeadlineSeconds affinity automountServiceAccountToken dnsConfig dnsPolicy enableServiceLinks hostIPC hostNetwork hostPID hostname nodeName nodeSelector overhead preemptionPolicy priority priorityClassName readinessGates restartPolicy runtimeClassName schedulerName securityContext serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds tolerations", None),
    // 25: PodTemplateSpec
    S::Obj(&[("metadata", 3), ("spec", 24)], "", None),
    // 26: DaemonSetSpec
    S::Obj(&[("template", 25)], "minReadySeconds revisionHistoryLimit selector updateStrategy", None),
    // 27: DaemonSetStatus
    S::Obj(&[("conditions", 7)], "collisionCount currentNumberScheduled desiredNumberScheduled numberAvailable numberMisscheduled numberReady numberUnavailable observedGeneration updatedNumberScheduled", None),
    // 28: DaemonSet
    S::Obj(&[("metadata", 3), ("spec", 26), ("status", 27)], "apiVersion kind", None),
    // 29: DeploymentSpec
    S::Obj(&[("template", 25)], "minReadySeconds paused progressDeadlineSeconds replicas revisionHistoryLimit selector strategy", None),
    // 30: DeploymentStatus
    S::Obj(&[("conditions", 7)], "availableReplicas collisionCount observedGeneration readyReplicas replicas unavailableReplicas updatedReplicas", None),
    // 31: Deployment
    S::Obj(&[("metadata", 3), ("spec", 29), ("status", 30)], "apiVersion kind", None),
    // 32: ReplicaSetSpec
    S::Obj(&[("template", 25)], "minReadySeconds replicas selector", None),
    // 33: ReplicaSetStatus
    S::Obj(&[("conditions", 7)], "availableReplicas fullyLabeledReplicas observedGeneration readyReplicas replicas", None),
    // 34: ReplicaSet
    S::Obj(&[("metadata", 3), ("spec", 32), ("status", 33)], "apiVersion kind", None),
    // 35: StatefulSetSpec
    S::Obj(&[("template", 25)], "podManagementPolicy replicas revisionHistoryLimit selector serviceName updateStrategy volumeClaimTemplates", None),
    // 36: StatefulSetStatus
    S::Obj(&[("conditions", 7)], "collisionCount currentReplicas currentRevision observedGeneration readyReplicas replicas updateRevision updatedReplicas", None),
    // 37: StatefulSet
    S::Obj(&[("metadata", 3), ("spec", 35), ("status", 36)], "apiVersion kind", None),
    // 38: JobSpec
    S::Obj(&[("template", 25)], "activeDeadlineSeconds backoffLimit completionMode completions manualSelector parallelism selector suspend ttlSecondsAfterFinished", None),
    // 39: JobTemplateSpec
    S::Obj(&[("metadata", 3), ("spec", 38)], "", None),
    // 40: CronJobSpec
    S::Obj(&[("jobTemplate", 39)], "concurrencyPolicy failedJobsHistoryLimit schedule startingDeadlineSeconds successfulJobsHistoryLimit suspend", None),
    // 41: CronJob
    S::Obj(&[("metadata", 3), ("spec", 40)], "apiVersion kind status", None),
    // 42: JobStatus
    S::Obj(&[("conditions", 7)], "active completedIndexes completionTime failed startTime succeeded", None),
    // 43: Job
    S::Obj(&[("metadata", 3), ("spec", 38), ("status", 42)], "apiVersion kind", None),
    // 44: Lease
    S::Obj(&[("metadata", 3)], "apiVersion kind spec", None),
    // 45: EndpointSlice
    S::Obj(&[("metadata", 3)], "addressType apiVersion endpoints kind ports", None),
    // 46: Event
    S::Obj(&[("metadata", 3)], "action apiVersion deprecatedCount deprecatedFirstTimestamp deprecatedLastTimestamp deprecatedSource eventTime kind note reason regarding related reportingController reportingInstance series type", None),
    // 47: RuntimeClass
    S::Obj(&[("metadata", 3)], "apiVersion handler kind overhead scheduling", None),
    // 48: PodDisruptionBudgetStatus
    S::Obj(&[("conditions", 7)], "currentHealthy desiredHealthy disruptedPods disruptionsAllowed expectedPods observedGeneration", None),
    // 49: PodDisruptionBudget
    S::Obj(&[("metadata", 3), ("status", 48)], "apiVersion kind spec", None),
    // 50: Eviction
    S::Obj(&[("metadata", 3)], "apiVersion deleteOptions kind", None),
    // 51: ClusterRole
    S::Obj(&[("metadata", 3)], "aggregationRule apiVersion kind rules", None),
    // 52: ClusterRoleBinding
    S::Obj(&[("metadata", 3)], "apiVersion kind roleRef subjects", None),
    // 53: Role
    S::Obj(&[("metadata", 3)], "apiVersion kind rules", None),
    // 54: PriorityClass
    S::Obj(&[("metadata", 3)], "apiVersion description globalDefault kind preemptionPolicy value", None),
    // 55: CSINodeSpec
    S::Obj(&[("drivers", 4)], "", None),
    // 56: CSINode
    S::Obj(&[("metadata", 3), ("spec", 55)], "apiVersion kind", None),
    // 57: StorageClass
    S::Obj(&[("metadata", 3)], "allowVolumeExpansion allowedTopologies apiVersion kind mountOptions parameters provisioner reclaimPolicy volumeBindingMode", None),
    // 58: CSIStorageCapacity
    S::Obj(&[("metadata", 3)], "apiVersion capacity kind maximumVolumeSize nodeTopology storageClassName", None),
    // 59: Binding
    S::Obj(&[("metadata", 3)], "apiVersion kind target", None),
    // 60: ComponentStatus
    S::Obj(&[("conditions", 7), ("metadata", 3)], "apiVersion kind", None),
    // 61: ConfigMap
    S::Obj(&[("metadata", 3)], "apiVersion binaryData data immutable kind", None),
    // 62: Endpoints
    S::Obj(&[("metadata", 3)], "apiVersion kind subsets", None),
    // 63: Event
    S::Obj(&[("metadata", 3)], "action apiVersion count eventTime firstTimestamp involvedObject kind lastTimestamp message reason related reportingComponent reportingInstance series source type", None),
    // 64: NamespaceStatus
    S::Obj(&[("conditions", 7)], "phase", None),
    // 65: Namespace
    S::Obj(&[("metadata", 3), ("status", 64)], "apiVersion kind spec", None),
    // 66: NodeSpec
    S::Obj(&[("podCIDRs", 1)], "configSource externalID podCIDR providerID taints unschedulable", None),
    // 67: NodeStatus
    S::Obj(&[("addresses", 7), ("conditions", 7)], "allocatable capacity config daemonEndpoints images nodeInfo phase volumesAttached volumesInUse", None),
    // 68: Node
    S::Obj(&[("metadata", 3), ("spec", 66), ("status", 67)], "apiVersion kind", None),
    // 69: PersistentVolumeClaimStatus
    S::Obj(&[("conditions", 7)], "accessModes capacity phase", None),
    // 70: PersistentVolumeClaim
    S::Obj(&[("metadata", 3), ("status", 69)], "apiVersion kind spec", None),
    // 71: PodStatus
    S::Obj(&[("conditions", 7), ("podIPs", 18)], "containerStatuses ephemeralContainerStatuses hostIP initContainerStatuses message nominatedNodeName phase podIP qosClass reason startTime", None),
    // 72: Pod
    S::Obj(&[("metadata", 3), ("spec", 24), ("status", 71)], "apiVersion kind", None),
    // 73: PodTemplate
    S::Obj(&[("metadata", 3), ("template", 25)], "apiVersion kind", None),
    // 74: Secret
    S::Obj(&[("metadata", 3)], "apiVersion data immutable kind stringData type", None),
    S::List(&["port", "protocol"], 0), // 75
    // 76: ServiceSpec
    S::Obj(&[("ports", 75)], "allocateLoadBalancerNodePorts clusterIP clusterIPs externalIPs externalName externalTrafficPolicy healthCheckNodePort internalTrafficPolicy ipFamilies ipFamilyPolicy loadBalancerClass loadBalancerIP loadBalancerSourceRanges publishNotReadyAddresses selector sessionAffinity sessionAffinityConfig topologyKeys type", None),
    // 77: ServiceStatus
    S::Obj(&[("conditions", 7)], "loadBalancer", None),
    // 78: Service
    S::Obj(&[("metadata", 3), ("spec", 76), ("status", 77)], "apiVersion kind", None),
    // 79: ServiceAccount
    S::Obj(&[("metadata", 3), ("secrets", 4)], "apiVersion automountServiceAccountToken imagePullSecrets kind", None),
];
static ROOTS: &[(&str, &str, u16)] = &[
    (
        "admissionregistration.k8s.io/v1",
        "MutatingWebhookConfiguration",
        5,
    ),
    (
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        5,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "MutatingWebhookConfiguration",
        5,
    ),
    (
        "admissionregistration.k8s.io/v1beta1",
        "ValidatingWebhookConfiguration",
        5,
    ),
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition", 6),
    (
        "apiextensions.k8s.io/v1beta1",
        "CustomResourceDefinition",
        6,
    ),
    ("apiregistration.k8s.io/v1", "APIService", 9),
    ("apiregistration.k8s.io/v1beta1", "APIService", 9),
    ("apps/v1", "ControllerRevision", 10),
    ("apps/v1", "DaemonSet", 28),
    ("apps/v1", "Deployment", 31),
    ("apps/v1", "ReplicaSet", 34),
    ("apps/v1", "StatefulSet", 37),
    ("authentication.k8s.io/v1", "TokenRequest", 6),
    ("authentication.k8s.io/v1", "TokenReview", 6),
    ("authentication.k8s.io/v1beta1", "TokenReview", 6),
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview", 6),
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview", 6),
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview", 6),
    ("authorization.k8s.io/v1", "SubjectAccessReview", 6),
    (
        "authorization.k8s.io/v1beta1",
        "LocalSubjectAccessReview",
        6,
    ),
    ("authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", 6),
    ("authorization.k8s.io/v1beta1", "SelfSubjectRulesReview", 6),
    ("authorization.k8s.io/v1beta1", "SubjectAccessReview", 6),
    ("autoscaling/v1", "HorizontalPodAutoscaler", 6),
    ("autoscaling/v1", "Scale", 6),
    ("autoscaling/v2beta1", "HorizontalPodAutoscaler", 6),
    ("autoscaling/v2beta2", "HorizontalPodAutoscaler", 6),
    ("batch/v1", "CronJob", 41),
    ("batch/v1", "Job", 43),
    ("batch/v1beta1", "CronJob", 41),
    ("certificates.k8s.io/v1", "CertificateSigningRequest", 6),
    (
        "certificates.k8s.io/v1beta1",
        "CertificateSigningRequest",
        6,
    ),
    ("coordination.k8s.io/v1", "Lease", 44),
    ("coordination.k8s.io/v1beta1", "Lease", 44),
    ("discovery.k8s.io/v1", "EndpointSlice", 45),
    ("discovery.k8s.io/v1beta1", "EndpointSlice", 45),
    ("events.k8s.io/v1", "Event", 46),
    ("events.k8s.io/v1beta1", "Event", 46),
    ("extensions/v1beta1", "Ingress", 6),
    ("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", 6),
    (
        "flowcontrol.apiserver.k8s.io/v1beta1",
        "PriorityLevelConfiguration",
        6,
    ),
    ("networking.k8s.io/v1", "Ingress", 6),
    ("networking.k8s.io/v1", "IngressClass", 44),
    ("networking.k8s.io/v1", "NetworkPolicy", 44),
    ("networking.k8s.io/v1beta1", "Ingress", 6),
    ("networking.k8s.io/v1beta1", "IngressClass", 44),
    ("node.k8s.io/v1", "RuntimeClass", 47),
    ("node.k8s.io/v1beta1", "RuntimeClass", 47),
    ("policy/v1", "PodDisruptionBudget", 49),
    ("policy/v1beta1", "Eviction", 50),
    ("policy/v1beta1", "PodDisruptionBudget", 49),
    ("policy/v1beta1", "PodSecurityPolicy", 44),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", 51),
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", 52),
    ("rbac.authorization.k8s.io/v1", "Role", 53),
    ("rbac.authorization.k8s.io/v1", "RoleBinding", 52),
    ("rbac.authorization.k8s.io/v1beta1", "ClusterRole", 51),
    (
        "rbac.authorization.k8s.io/v1beta1",
        "ClusterRoleBinding",
        52,
    ),
    ("rbac.authorization.k8s.io/v1beta1", "Role", 53),
    ("rbac.authorization.k8s.io/v1beta1", "RoleBinding", 52),
    ("scheduling.k8s.io/v1", "PriorityClass", 54),
    ("scheduling.k8s.io/v1beta1", "PriorityClass", 54),
    ("storage.k8s.io/v1", "CSIDriver", 44),
    ("storage.k8s.io/v1", "CSINode", 56),
    ("storage.k8s.io/v1", "StorageClass", 57),
    ("storage.k8s.io/v1", "VolumeAttachment", 6),
    ("storage.k8s.io/v1beta1", "CSIDriver", 44),
    ("storage.k8s.io/v1beta1", "CSINode", 56),
    ("storage.k8s.io/v1beta1", "CSIStorageCapacity", 58),
    ("storage.k8s.io/v1beta1", "StorageClass", 57),
    ("storage.k8s.io/v1beta1", "VolumeAttachment", 6),
    ("v1", "Binding", 59),
    ("v1", "ComponentStatus", 60),
    ("v1", "ConfigMap", 61),
    ("v1", "Endpoints", 62),
    ("v1", "Event", 63),
    ("v1", "LimitRange", 44),
    ("v1", "Namespace", 65),
    ("v1", "Node", 68),
    ("v1", "PersistentVolume", 6),
    ("v1", "PersistentVolumeClaim", 70),
    ("v1", "Pod", 72),
    ("v1", "PodTemplate", 73),
    ("v1", "ReplicationController", 34),
    ("v1", "ResourceQuota", 6),
    ("v1", "Secret", 74),
    ("v1", "Service", 78),
    ("v1", "ServiceAccount", 79),
];

fn schema_node(id: u16) -> S {
    SCHEMA.get(usize::from(id)).copied().unwrap_or(S::Opaque)
}

/// `ResourceSchema.Field`: None where the schema does not know the field.
fn schema_field(id: u16, name: &str) -> Option<u16> {
    match schema_node(id) {
        S::Obj(props, others, additional) => props
            .iter()
            .find(|(p, _)| *p == name)
            .map(|(_, c)| *c)
            .or_else(|| others.split(' ').any(|o| o == name).then_some(0))
            .or(additional),
        S::Opaque => Some(0),
        S::List(..) => None,
    }
}

/// Merge keys and item schema of a list that merges by key (`schemaHasMergeStrategy`).
fn list_keys(id: u16) -> Option<(&'static [&'static str], u16)> {
    match schema_node(id) {
        S::List(keys, items) => Some((keys, items)),
        _ => None,
    }
}

/// `SchemaForResourceType` on a mapping's `apiVersion` and `kind` (kyaml's `GetMeta`).
fn gvk_schema(node: &Node) -> Option<u16> {
    let Kind::Map(entries) = &node.kind else {
        return None;
    };
    let text_of = |name: &str| {
        field_entries(entries, name)
            .filter(|e| !is_nil_or_empty(&e.value))
            .map(|e| value_text(&e.value))
            .filter(|t| !t.is_empty())
    };
    let api_version = text_of("apiVersion")?;
    let kind = text_of("kind")?;
    ROOTS
        .iter()
        .find(|(a, k, _)| *a == api_version && *k == kind)
        .map(|(_, _, id)| *id)
}
// ---------------------------------------------------------------------------------------------
// RFC 6902 JSON patch, as gopkg.in/evanphx/json-patch.v4 applies it for kustomize
// ---------------------------------------------------------------------------------------------

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

struct Op<'a> {
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

fn apply_op(doc: &mut Node, op_node: &Node) -> Result<(), PatchError> {
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

fn missing_path(kind: &str, path: &str) -> String {
    format!("{kind} operation does not apply: doc is missing path: \"{path}\": missing value")
}

/// json-patch's `add` on a container: sets an object member, or inserts into an array.
fn add_at(
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
fn set_member(entries: &mut Vec<Entry>, key: &str, value: Node, span: Span) {
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
fn get_member<'a>(container: &'a Node, key: &str) -> Result<Option<&'a Node>, String> {
    match &container.kind {
        Kind::Map(entries) => Ok(field_entries(entries, key).map(|e| &e.value)),
        Kind::Seq(items) => match array_index(key, items.len()) {
            Some(i) => Ok(items.get(i)),
            None => Err(format!("Unable to access invalid index: {key}")),
        },
        Kind::Scalar(_) => Err("not a container".into()),
    }
}

fn remove_member(container: &mut Node, key: &str) -> Result<Node, String> {
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
fn split_pointer(path: &str) -> Option<(Vec<String>, String)> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() < 2 {
        return None;
    }
    let (last, rest) = parts.split_last()?;
    let parents = rest.iter().skip(1).map(|p| decode_token(p)).collect();
    Some((parents, decode_token(last)))
}

/// RFC 6901 unescaping in one left-to-right pass (as Go's `strings.Replacer` does it).
fn decode_token(token: &str) -> String {
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
fn find_container<'a>(doc: &'a mut Node, parents: &[String]) -> Option<&'a mut Node> {
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
fn atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// An existing element's index; negative indices count from the end.
fn array_index(key: &str, len: usize) -> Option<usize> {
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
fn add_index(key: &str, len: usize) -> Option<usize> {
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
fn json_equal(a: &Node, b: &Node, depth: usize) -> bool {
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

/// Which YAML reader turns text into JSON: kyaml (go-yaml v3) reads the target; sigs.k8s.io/yaml
/// (go-yaml v2, YAML 1.1 booleans) reads the patch.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Typing {
    Kyaml,
    SigsYaml,
}

/// A scalar's JSON value.
#[derive(Debug, Clone, PartialEq)]
enum J {
    Null,
    Bool(bool),
    Num(f64),
    Str,
    /// A timestamp, which kyaml turns into an RFC 3339 string (given here).
    Time(String),
}

fn json_scalar(s: &Scalar, tag: Option<&str>, typing: Typing) -> J {
    match tag.map(|t| {
        t.strip_prefix("tag:yaml.org,2002:")
            .or_else(|| t.strip_prefix("!!"))
            .unwrap_or("!")
    }) {
        Some("str") | Some("binary") => return J::Str,
        Some("null") => return J::Null,
        Some("bool") | Some("int") | Some("float") | Some("timestamp") | None => {}
        Some(_) => return J::Str,
    }
    if s.style != Style::Plain {
        return J::Str;
    }
    let t = &*s.text;
    match t {
        "" | "~" | "null" | "Null" | "NULL" => return J::Null,
        "true" | "True" | "TRUE" => return J::Bool(true),
        "false" | "False" | "FALSE" => return J::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return J::Num(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return J::Num(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return J::Num(f64::NAN),
        _ => {}
    }
    if typing == Typing::SigsYaml {
        match t {
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => return J::Bool(true),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => return J::Bool(false),
            _ => {}
        }
    }
    match t.bytes().next() {
        Some(b'.') => t.parse::<f64>().map_or(J::Str, J::Num),
        Some(b) if b.is_ascii_digit() || b == b'+' || b == b'-' => {
            if typing == Typing::Kyaml {
                if let Some(ts) = timestamp_rfc3339(t) {
                    return J::Time(ts);
                }
            }
            let plain = t.replace('_', "");
            if let Some(v) = go_parse_int(&plain) {
                return J::Num(v);
            }
            if is_yaml_float(&plain) {
                if let Ok(v) = plain.parse::<f64>() {
                    return J::Num(v);
                }
            }
            J::Str
        }
        _ => J::Str,
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)` (falling back to `ParseUint`), as a float.
fn go_parse_int(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, s.get(1..)?),
        Some(b'+') => (false, s.get(1..)?),
        _ => (false, s),
    };
    let lower = body.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let v = u64::from_str_radix(digits, radix).ok()?;
    if neg {
        if v > 1u64 << 63 {
            return None;
        }
        Some(-(v as f64))
    } else {
        Some(v as f64)
    }
}

/// go-yaml's float pattern: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    };
    if matches!(b.first(), Some(b'+' | b'-')) {
        i += 1;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return false;
        }
    } else {
        if !digits(&mut i) {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return false;
        }
    }
    i == b.len()
}

/// go-yaml v3's timestamp forms (`2006-1-2`, `2006-1-2T15:4:5.999999999Z07:00`, the same with
/// `t` or a space and no zone) as Go's JSON encoding of the time writes them.
fn timestamp_rfc3339(s: &str) -> Option<String> {
    let num = |t: &str, min: usize, max: usize| -> Option<u32> {
        (t.len() >= min && t.len() <= max && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())?
    };
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (s.get(..i)?, Some((s.get(i..i + 1)?, s.get(i + 1..)?))),
        None => (s, None),
    };
    let mut dp = date.split('-');
    let (y, m, d) = (
        num(dp.next()?, 4, 4)?,
        num(dp.next()?, 1, 2)?,
        num(dp.next()?, 1, 2)?,
    );
    if dp.next().is_some() || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    let date = format!("{y:04}-{m:02}-{d:02}");
    let Some((sep, time)) = rest else {
        return Some(format!("{date}T00:00:00Z"));
    };
    // The zone: required after `T`/`t`, absent after a space.
    let (clock, zone) = if sep == " " {
        (time, String::from("Z"))
    } else if let Some(c) = time.strip_suffix('Z') {
        (c, String::from("Z"))
    } else {
        let i = time.rfind(['+', '-'])?;
        let (c, z) = (time.get(..i)?, time.get(i..)?);
        let (zh, zm) = z.get(1..)?.split_once(':')?;
        let (zh, zm) = (num(zh, 2, 2)?, num(zm, 2, 2)?);
        if zh > 23 || zm > 59 {
            return None;
        }
        let zone = if zh == 0 && zm == 0 {
            "Z".to_string()
        } else {
            z.to_string()
        };
        (c, zone)
    };
    let (hms, frac) = match clock.split_once('.') {
        Some((h, f)) if !f.is_empty() && f.len() <= 9 && f.bytes().all(|b| b.is_ascii_digit()) => {
            (h, f.trim_end_matches('0'))
        }
        Some(_) => return None,
        None => (clock, ""),
    };
    let mut tp = hms.split(':');
    let (h, mi, se) = (
        num(tp.next()?, 1, 2)?,
        num(tp.next()?, 1, 2)?,
        num(tp.next()?, 1, 2)?,
    );
    if tp.next().is_some() || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(".{frac}")
    };
    Some(format!("{date}T{h:02}:{mi:02}:{se:02}{frac}{zone}"))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The text Go's JSON encoding gives a number (as float64), read back as YAML.
fn number_text(v: f64) -> Option<String> {
    if !v.is_finite() {
        return None;
    }
    let a = v.abs();
    Some(if a == 0.0 || (1e-6..1e21).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    })
}

/// Rewrites a tree the way a trip through JSON does: scalars take their JSON value's canonical
/// text (`yes` → `true` under YAML 1.1, `0x10` → `16`, `1.0` → `1`, a timestamp → its RFC 3339
/// string). Spans are kept.
fn normalize_json(n: &mut Node, typing: Typing, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let tag = n.tag.clone();
    match &mut n.kind {
        Kind::Scalar(s) => {
            if let Some((text, style)) = canonical_scalar(s, tag.as_deref(), typing) {
                s.text = text.into();
                s.style = style;
                n.tag = None;
            }
        }
        Kind::Seq(items) => items
            .iter_mut()
            .for_each(|i| normalize_json(i, typing, depth + 1)),
        Kind::Map(entries) => {
            for e in entries.iter_mut() {
                let key_tag = e.key.tag.clone();
                if let Kind::Scalar(k) = &mut e.key.kind {
                    // Keys are strings in JSON.
                    if let Some((text, _)) = canonical_scalar(k, key_tag.as_deref(), typing) {
                        k.text = text.into();
                    }
                    if json_scalar(k, None, Typing::Kyaml) != J::Str {
                        k.style = Style::Quoted;
                        e.key.tag = None;
                    }
                }
                normalize_json(&mut e.value, typing, depth + 1);
            }
        }
    }
}

fn canonical_scalar(s: &Scalar, tag: Option<&str>, typing: Typing) -> Option<(String, Style)> {
    match json_scalar(s, tag, typing) {
        J::Bool(b) => {
            let text = if b { "true" } else { "false" };
            (&*s.text != text || tag.is_some()).then(|| (text.to_string(), Style::Plain))
        }
        J::Num(v) => number_text(v)
            .filter(|t| t.as_str() != &*s.text || tag.is_some())
            .map(|t| (t, Style::Plain)),
        J::Time(t) => Some((t, Style::Quoted)),
        J::Str if s.style == Style::Plain && tag.is_some() => {
            Some((s.text.to_string(), Style::Quoted))
        }
        J::Str | J::Null => None,
    }
}
// ---------------------------------------------------------------------------------------------
// Tree helpers
// ---------------------------------------------------------------------------------------------

/// Null as go-yaml v3 tags it: a plain null word (or an empty value), or an explicit `!!null`.
fn is_null(n: &Node) -> bool {
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
fn value_text(n: &Node) -> &str {
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

fn is_empty_map(n: &Node) -> bool {
    matches!(&n.kind, Kind::Map(m) if m.is_empty())
}

/// kyaml's `IsNilOrEmpty` on a value: null, `{}` or `[]`.
fn is_nil_or_empty(n: &Node) -> bool {
    is_null(n)
        || matches!(&n.kind, Kind::Map(m) if m.is_empty())
        || matches!(&n.kind, Kind::Seq(s) if s.is_empty())
}

fn field_entries<'a>(entries: &'a [Entry], name: &str) -> Option<&'a Entry> {
    entries.iter().find(|e| value_text(&e.key) == name)
}

/// The first entry of a mapping with this key.
fn field<'a>(n: &'a Node, name: &str) -> Option<&'a Entry> {
    match &n.kind {
        Kind::Map(entries) => field_entries(entries, name),
        _ => None,
    }
}

/// A list item's field value (None for items that are not mappings).
fn item_field<'a>(item: &'a Node, key: &str) -> Option<&'a Node> {
    field(item, key).map(|e| &e.value)
}

fn scalar_node(span: Span, text: &str) -> Node {
    Node {
        span,
        tag: None,
        kind: Kind::Scalar(Scalar {
            text: text.into(),
            style: Style::Plain,
        }),
    }
}

fn null_node(span: Span) -> Node {
    scalar_node(span, "null")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load;

    const TARGET: u32 = 0;
    const PATCH: u32 = 1;

    fn doc(file: u32, text: &str) -> Node {
        let loaded = load(file, text);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        loaded.docs.into_iter().next().expect("a document").root
    }

    /// Compact flow rendering: quoted scalars in double quotes, keys in order.
    fn show(n: &Node) -> String {
        match &n.kind {
            Kind::Scalar(s) if s.style == Style::Plain => s.text.to_string(),
            Kind::Scalar(s) => format!("{:?}", &*s.text),
            Kind::Seq(items) => format!(
                "[{}]",
                items.iter().map(show).collect::<Vec<_>>().join(", ")
            ),
            Kind::Map(entries) => format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|e| format!("{}: {}", show(&e.key), show(&e.value)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    fn at<'a>(n: &'a Node, path: &[&str]) -> &'a Node {
        let mut cur = n;
        for p in path {
            cur = match &cur.kind {
                Kind::Map(_) => cur
                    .get(p)
                    .unwrap_or_else(|| panic!("no {p} in {}", show(cur))),
                Kind::Seq(items) => &items[p.parse::<usize>().expect("index")],
                Kind::Scalar(_) => panic!("{p}: scalar"),
            };
        }
        cur
    }

    /// The text a node's span covers in its file.
    fn written<'a>(n: &Node, target: &'a str, patch: &'a str) -> (u32, &'a str) {
        let src = if n.span.file == PATCH { patch } else { target };
        (n.span.file, &src[n.span.range()])
    }

    fn smp(target: &str, patch: &str, builtin: bool) -> Result<Option<Node>, PatchError> {
        let mut t = doc(TARGET, target);
        let p = doc(PATCH, patch);
        let before = t.clone();
        match strategic_merge(&mut t, &p, builtin) {
            Ok(true) => Ok(Some(t)),
            Ok(false) => {
                assert_eq!(t, before, "a deleted target is left as it was");
                Ok(None)
            }
            Err(e) => {
                assert_eq!(t, before, "the target is unchanged on error");
                Err(e)
            }
        }
    }

    fn merged(target: &str, patch: &str, builtin: bool) -> Node {
        smp(target, patch, builtin)
            .expect("merges")
            .expect("not deleted")
    }

    fn jp(target: &str, ops: &str) -> Result<Node, PatchError> {
        let mut t = doc(TARGET, target);
        let before = t.clone();
        let r = json6902(&mut t, &doc(PATCH, ops));
        match r {
            Ok(()) => Ok(t),
            Err(e) => {
                assert_eq!(t, before, "the target is unchanged on error");
                Err(e)
            }
        }
    }

    const CLUSTER: &str = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
spec:
  instances: 3
  bootstrap:
    initdb:
      database: app
  externalClusters:
  - name: old
    connectionParameters:
      host: old.example
  plugins:
  - name: barman-cloud.cloudnative-pg.io
    isWALArchiver: true
  backup:
    barmanObjectStore:
      destinationPath: s3://bucket/pg
";

    #[test]
    fn cnpg_overlay_adds_recovery_and_replaces_external_clusters() {
        let patch = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
spec:
  bootstrap:
    initdb: null
    recovery:
      source: origin
  externalClusters:
  - name: origin
    barmanObjectStore:
      destinationPath: s3://backups/pg
";
        let out = merged(CLUSTER, patch, false);
        assert_eq!(
            show(at(&out, &["spec", "bootstrap"])),
            "{recovery: {source: origin}}"
        );
        // Lists of custom resources are replaced, not merged by name.
        assert_eq!(
            show(at(&out, &["spec", "externalClusters"])),
            "[{name: origin, barmanObjectStore: {destinationPath: s3://backups/pg}}]"
        );
        // Values set by the patch point into the patch; the rest into the target.
        let src = at(&out, &["spec", "bootstrap", "recovery", "source"]);
        assert_eq!(written(src, CLUSTER, patch), (PATCH, "origin"));
        let dp = at(
            &out,
            &[
                "spec",
                "externalClusters",
                "0",
                "barmanObjectStore",
                "destinationPath",
            ],
        );
        assert_eq!(written(dp, CLUSTER, patch), (PATCH, "s3://backups/pg"));
        let key = &out
            .at(&["spec", "bootstrap"])
            .and_then(|b| b.entry("recovery"))
            .expect("key")
            .key;
        assert_eq!(written(key, CLUSTER, patch), (PATCH, "recovery"));
        assert_eq!(
            written(at(&out, &["spec", "instances"]), CLUSTER, patch),
            (TARGET, "3")
        );
        // The merged mapping keeps its place and span in the target.
        assert_eq!(at(&out, &["spec"]).span.file, TARGET);
    }

    #[test]
    fn cnpg_lists_keep_patch_directives_verbatim() {
        // kyaml has no schema for a CR: the list is the patch's, `$patch` item and all.
        let patch = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: pg}
spec:
  plugins:
  - name: barman-cloud.cloudnative-pg.io
    $patch: delete
";
        let out = merged(CLUSTER, patch, false);
        assert_eq!(
            show(at(&out, &["spec", "plugins"])),
            "[{name: barman-cloud.cloudnative-pg.io, $patch: delete}]"
        );
    }

    #[test]
    fn map_directives_and_null_deletion() {
        let patch = "\
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: pg}
spec:
  instances: ~
  backup:
    $patch: replace
    volumeSnapshot: {className: csi}
  bootstrap:
    $patch: delete
  monitoring:
    enablePodMonitor: true
    customQueriesConfigMap: null
    tls:
      $patch: delete
";
        let out = merged(CLUSTER, patch, false);
        let spec = at(&out, &["spec"]);
        assert!(spec.get("instances").is_none());
        assert!(spec.get("bootstrap").is_none());
        assert_eq!(
            show(at(spec, &["backup"])),
            "{volumeSnapshot: {className: csi}}"
        );
        // Added mappings have their nulls and nested directives applied too.
        assert_eq!(show(at(spec, &["monitoring"])), "{enablePodMonitor: true}");
        assert_eq!(at(spec, &["backup"]).span.file, PATCH);
    }

    #[test]
    fn new_keys_are_appended_sorted_after_target_keys() {
        let target = "kind: X\nmetadata:\n  z: 1\n  a: 2\n";
        let patch = "kind: X\nmetadata:\n  y: 3\n  b: 4\n  a: 5\n";
        let out = merged(target, patch, false);
        assert_eq!(show(at(&out, &["metadata"])), "{z: 1, a: 5, b: 4, y: 3}");
    }

    #[test]
    fn empty_target_values_are_dropped_but_written_nulls_kept() {
        let target = "kind: X\nspec:\n  empty:\n  tilde: ~\n  word: null\n  keep: 1\n";
        let patch = "kind: X\nspec:\n  keep: 2\n";
        let out = merged(target, patch, false);
        assert_eq!(show(at(&out, &["spec"])), "{tilde: ~, word: null, keep: 2}");
    }

    #[test]
    fn plain_scalar_over_quoted_target_becomes_a_string() {
        // kubernetes-sigs/kustomize#6140: the target's quoting is kept.
        let target = "kind: X\nspec:\n  replicas: \"3\"\n  other: 1\n";
        let patch = "kind: X\nspec:\n  replicas: 5\n  other: \"2\"\n";
        let out = merged(target, patch, false);
        assert_eq!(show(at(&out, &["spec"])), "{replicas: \"5\", other: \"2\"}");
        assert_eq!(at(&out, &["spec", "replicas"]).span.file, PATCH);
    }

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - name: A
          value: \"1\"
        ports:
        - containerPort: 80
        - containerPort: 443
      - name: sidecar
        image: proxy:1
        args: [--a, --b]
      tolerations:
      - key: k1
        operator: Exists
";

    fn deployment_patch(spec: &str) -> String {
        format!("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n{spec}")
    }

    #[test]
    fn deployment_container_image_by_name() {
        let patch =
            deployment_patch("      containers:\n      - name: sidecar\n        image: proxy:2\n");
        let out = merged(DEPLOYMENT, &patch, true);
        let containers = at(&out, &["spec", "template", "spec", "containers"]);
        // Patched items come first, as kustomize renders them (kubernetes-sigs/kustomize#5904).
        assert_eq!(
            show(containers),
            "[{name: sidecar, image: proxy:2, args: [--a, --b]}, \
             {name: app, image: app:1, env: [{name: A, value: \"1\"}], \
             ports: [{containerPort: 80}, {containerPort: 443}]}]"
        );
        let image = at(containers, &["0", "image"]);
        assert_eq!(written(image, DEPLOYMENT, &patch), (PATCH, "proxy:2"));
        assert_eq!(
            written(at(containers, &["0", "args", "0"]), DEPLOYMENT, &patch),
            (TARGET, "--a")
        );
    }

    #[test]
    fn deployment_new_container_and_env_merge() {
        let patch = deployment_patch(
            "      containers:\n      - name: app\n        env:\n        - name: B\n          value: \"2\"\n      - name: init\n        image: busybox\n",
        );
        let out = merged(DEPLOYMENT, &patch, true);
        let containers = at(&out, &["spec", "template", "spec", "containers"]);
        let names: Vec<String> = containers
            .as_seq()
            .expect("seq")
            .iter()
            .map(|c| show(at(c, &["name"])))
            .collect();
        assert_eq!(names, ["app", "init", "sidecar"]);
        assert_eq!(
            show(at(containers, &["0", "env"])),
            "[{name: B, value: \"2\"}, {name: A, value: \"1\"}]"
        );
    }

    #[test]
    fn deployment_delete_container_and_replace_lists() {
        let patch = deployment_patch(
            "      containers:\n      - name: app\n        $patch: delete\n      tolerations:\n      - key: k2\n",
        );
        let out = merged(DEPLOYMENT, &patch, true);
        let spec = at(&out, &["spec", "template", "spec"]);
        assert_eq!(
            show(at(spec, &["containers"])),
            "[{name: sidecar, image: proxy:1, args: [--a, --b]}]"
        );
        // tolerations have no merge key: replaced.
        assert_eq!(show(at(spec, &["tolerations"])), "[{key: k2}]");

        let patch =
            deployment_patch("      containers:\n      - $patch: replace\n      - name: only\n");
        let out = merged(DEPLOYMENT, &patch, true);
        assert_eq!(
            show(at(&out, &["spec", "template", "spec", "containers"])),
            "[{name: only}]"
        );

        let patch = deployment_patch("      containers:\n      - $patch: delete\n");
        let out = merged(DEPLOYMENT, &patch, true);
        assert!(at(&out, &["spec", "template", "spec"])
            .get("containers")
            .is_none());
    }

    #[test]
    fn replace_directive_on_a_list_item_has_no_effect() {
        // As kustomize renders it: the target item wins back its place.
        let patch = deployment_patch(
            "      containers:\n      - name: sidecar\n        image: x\n        $patch: replace\n",
        );
        let out = merged(DEPLOYMENT, &patch, true);
        let containers = at(&out, &["spec", "template", "spec", "containers"]);
        assert_eq!(
            show(at(containers, &["0"])),
            "{name: sidecar, image: proxy:1, args: [--a, --b]}"
        );
    }

    #[test]
    fn container_ports_merge_by_port() {
        let patch = deployment_patch(
            "      containers:\n      - name: app\n        ports:\n        - containerPort: 443\n          name: https\n        - containerPort: 8080\n",
        );
        let out = merged(DEPLOYMENT, &patch, true);
        assert_eq!(
            show(at(
                &out,
                &["spec", "template", "spec", "containers", "0", "ports"]
            )),
            "[{containerPort: 443, name: https}, {containerPort: 8080}, {containerPort: 80}]"
        );
    }

    #[test]
    fn lists_are_replaced_without_a_schema() {
        let patch =
            deployment_patch("      containers:\n      - name: sidecar\n        image: proxy:2\n");
        // Treated as a custom resource…
        let out = merged(DEPLOYMENT, &patch, false);
        assert_eq!(
            show(at(&out, &["spec", "template", "spec", "containers"])),
            "[{name: sidecar, image: proxy:2}]"
        );
        // …or a built-in type kustomize's v1.21.2 schema does not have.
        let hpa = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  metrics:\n  - type: Resource\n  - type: Pods\n";
        let patch = "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  metrics:\n  - type: External\n";
        assert_eq!(
            show(at(&merged(hpa, patch, true), &["spec", "metrics"])),
            "[{type: External}]"
        );
    }

    #[test]
    fn finalizers_merge_as_a_set() {
        let target =
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  finalizers: [a, b]\n";
        let patch = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  finalizers: [c, a]\n";
        let out = merged(target, patch, true);
        assert_eq!(show(at(&out, &["metadata", "finalizers"])), "[c, a, b]");
    }

    #[test]
    fn service_ports_merge_by_port_and_protocol() {
        let target = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 80\n    targetPort: 8080\n  - port: 53\n    protocol: UDP\n";
        let patch = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports:\n  - port: 53\n    protocol: UDP\n    name: dns\n";
        let out = merged(target, patch, true);
        assert_eq!(
            show(at(&out, &["spec", "ports"])),
            "[{port: 80, targetPort: 8080}, {port: 53, protocol: UDP, name: dns}]"
        );
    }

    #[test]
    fn ordinary_fields_for_unsupported_directives() {
        // kyaml knows only `$patch`; the others stay as fields, as kustomize outputs them.
        let patch = deployment_patch("      $setElementOrder/containers:\n      - name: app\n");
        let out = merged(DEPLOYMENT, &patch, true);
        assert!(at(&out, &["spec", "template", "spec"])
            .get("$setElementOrder/containers")
            .is_some());
    }

    #[test]
    fn root_delete_and_emptied_object() {
        let patch = "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg}\n$patch: delete\n";
        assert_eq!(smp(CLUSTER, patch, false), Ok(None));
        assert_eq!(smp("a: 1\n", "a: null\n", false), Ok(None));
    }

    #[test]
    fn errors_point_into_the_patch() {
        let patch = "kind: Cluster\nspec:\n  backup:\n    $patch: bogus\n";
        let e = smp(CLUSTER, patch, false).expect_err("unknown directive");
        assert_eq!(e.message, "unknown patch strategy 'bogus'");
        assert_eq!((e.span.file, &patch[e.span.range()]), (PATCH, "bogus"));

        let patch = "kind: Cluster\nspec:\n  instances:\n    min: 1\n";
        let e = smp(CLUSTER, patch, false).expect_err("kind mismatch");
        assert_eq!((e.span.file, &patch[e.span.range()]), (PATCH, "min: 1\n"));

        let e = smp(CLUSTER, "- a\n", false).expect_err("not a mapping");
        assert_eq!(e.span.file, PATCH);

        // A bad directive in a value the patch adds is kept as a field, as kyaml does.
        let patch = "kind: Cluster\nspec:\n  monitoring:\n    $patch: bogus\n";
        assert_eq!(
            show(at(&merged(CLUSTER, patch, false), &["spec", "monitoring"])),
            "{$patch: bogus}"
        );
    }

    #[test]
    fn merge_key_lists_with_odd_items() {
        // A container without a name: kyaml empties the list (a mismatch on the empty key).
        let patch = deployment_patch("      containers:\n      - image: noname\n");
        let out = merged(DEPLOYMENT, &patch, true);
        assert_eq!(
            show(at(&out, &["spec", "template", "spec", "containers"])),
            "[]"
        );
        // A scalar among containers is an error.
        let target = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n  - oops\n";
        let patch = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n";
        assert!(smp(target, patch, true).is_err());
    }

    #[test]
    fn embedded_objects_get_their_schema() {
        // A mapping without a schema that carries a built-in apiVersion/kind merges as that kind.
        let target = "apiVersion: example.com/v1\nkind: W\nmetadata: {name: w}\nspec:\n  template:\n    apiVersion: v1\n    kind: Pod\n    spec:\n      containers:\n      - name: a\n        image: a\n      - name: b\n";
        let patch = "apiVersion: example.com/v1\nkind: W\nmetadata: {name: w}\nspec:\n  template:\n    spec:\n      containers:\n      - name: b\n        image: b\n";
        let out = merged(target, patch, false);
        assert_eq!(
            show(at(&out, &["spec", "template", "spec", "containers"])),
            "[{name: b, image: b}, {name: a, image: a}]"
        );
    }

    // --- JSON 6902 ---

    #[test]
    fn json_replace_add_remove_on_cnpg_paths() {
        let ops = "\
- op: replace
  path: /spec/backup/barmanObjectStore/destinationPath
  value: s3://other/pg
- op: add
  path: /spec/plugins/-
  value:
    name: extra
- op: add
  path: /spec/plugins/0
  value: {name: first}
- op: remove
  path: /spec/bootstrap/initdb
";
        let out = jp(CLUSTER, ops).expect("applies");
        let dp = at(
            &out,
            &["spec", "backup", "barmanObjectStore", "destinationPath"],
        );
        assert_eq!(written(dp, CLUSTER, ops), (PATCH, "s3://other/pg"));
        assert_eq!(
            show(at(&out, &["spec", "plugins"])),
            "[{name: first}, {name: barman-cloud.cloudnative-pg.io, isWALArchiver: true}, {name: extra}]"
        );
        assert_eq!(
            written(at(&out, &["spec", "plugins", "2", "name"]), CLUSTER, ops),
            (PATCH, "extra")
        );
        assert_eq!(show(at(&out, &["spec", "bootstrap"])), "{}");
    }

    #[test]
    fn json_pointer_escapes_and_new_member_keys() {
        let target = "kind: X\nmetadata:\n  annotations:\n    a/b: x\n    c~d: y\n";
        let ops = "\
- {op: replace, path: /metadata/annotations/a~1b, value: X}
- {op: remove, path: /metadata/annotations/c~0d}
- {op: add, path: /metadata/annotations/e~01, value: z}
";
        let out = jp(target, ops).expect("applies");
        let ann = at(&out, &["metadata", "annotations"]);
        assert_eq!(show(ann), "{a/b: X, e~1: z}");
        // A new member's key is written at the op's path.
        let key = &ann.entry("e~1").expect("entry").key;
        assert_eq!(
            written(key, target, ops),
            (PATCH, "/metadata/annotations/e~01")
        );
    }

    #[test]
    fn json_errors_are_located_and_atomic() {
        let ops = "- op: replace\n  path: /spec/instances\n  value: 5\n- op: add\n  path: /spec/nope/x\n  value: 1\n";
        let e = jp(CLUSTER, ops).expect_err("missing parent");
        assert_eq!(&ops[e.span.range()], "/spec/nope/x");
        assert!(e.message.contains("doc is missing path"), "{}", e.message);

        let ops = "- op: test\n  path: /spec/instances\n  value: 4\n";
        let e = jp(CLUSTER, ops).expect_err("test fails");
        assert_eq!(
            e.message,
            "testing value /spec/instances failed: test failed"
        );
        assert!(ops[e.span.range()].starts_with("op: test\n  path: /spec/instances"));

        for (ops, what) in [
            ("- {op: remove, path: /spec/missing}\n", "remove missing"),
            (
                "- {op: remove, path: /spec/plugins/1}\n",
                "index past the end",
            ),
            (
                "- {op: add, path: /spec/plugins/2, value: 1}\n",
                "add past the end",
            ),
            (
                "- {op: replace, path: /spec/plugins/-, value: 1}\n",
                "replace at -",
            ),
            ("- {op: add, path: '', value: {}}\n", "add at the root"),
            ("- {op: frob, path: /spec}\n", "unknown op"),
            ("- {op: add}\n", "no path"),
            (
                "- {op: move, from: /spec/nope, path: /spec/x}\n",
                "move from missing",
            ),
            (
                "- {op: add, path: /spec/instances/x, value: 1}\n",
                "through a scalar",
            ),
            ("{op: add}\n", "not a list"),
            ("- [1]\n", "op not a mapping"),
        ] {
            assert!(jp(CLUSTER, ops).is_err(), "{what}");
        }
    }

    #[test]
    fn json_patch_quirks_of_kustomize() {
        // `test` compares values, numbers by value.
        let ops = "- {op: test, path: /spec/instances, value: 3.0}\n- {op: test, path: /spec/backup, value: {barmanObjectStore: {destinationPath: s3://bucket/pg}}}\n- {op: test, path: /spec/absent, value: null}\n";
        assert!(jp(CLUSTER, ops).is_ok());
        assert!(jp(
            CLUSTER,
            "- {op: test, path: /spec/instances, value: \"3\"}\n"
        )
        .is_err());
        // replace of a missing member adds it; copy from a missing member copies null;
        // add without value adds null; -1 appends; the first path segment is ignored.
        let ops = "\
- {op: replace, path: /spec/new, value: 1}
- {op: copy, from: /spec/nope, path: /spec/copied}
- {op: add, path: /spec/novalue}
- {op: add, path: /spec/plugins/-1, value: {name: last}}
- {op: add, path: spec/top, value: 1}
";
        let out = jp(CLUSTER, ops).expect("applies");
        assert_eq!(show(at(&out, &["spec", "new"])), "1");
        assert!(at(&out, &["spec", "copied"]).is_null());
        assert!(at(&out, &["spec", "novalue"]).is_null());
        assert_eq!(show(at(&out, &["spec", "plugins", "1"])), "{name: last}");
        assert_eq!(show(at(&out, &["top"])), "1");
        // move and copy.
        let ops = "- {op: move, from: /spec/plugins/0, path: /spec/moved}\n- {op: copy, from: /spec/moved/name, path: /spec/name}\n";
        let out = jp(CLUSTER, ops).expect("applies");
        assert_eq!(show(at(&out, &["spec", "plugins"])), "[]");
        assert_eq!(
            show(at(&out, &["spec", "name"])),
            "barman-cloud.cloudnative-pg.io"
        );
        assert_eq!(at(&out, &["spec", "name"]).span.file, TARGET);
        // replace of the whole document.
        let out =
            jp(CLUSTER, "- {op: replace, path: '', value: {kind: Other}}\n").expect("applies");
        assert_eq!(show(&out), "{kind: Other}");
    }

    #[test]
    fn json_patch_values_go_through_json() {
        // The patch is read as YAML 1.1 (sigs.k8s.io/yaml), the target as YAML 1.2 (kyaml), and
        // numbers come back as JSON writes them.
        let target = "kind: X\nspec:\n  word: on\n  hex: 0x10\n  float: 1.0\n  day: 2024-01-02\n";
        let ops =
            "- {op: add, path: /spec/flag, value: yes}\n- {op: add, path: /spec/n, value: 1_000}\n";
        let out = jp(target, ops).expect("applies");
        assert_eq!(
            show(at(&out, &["spec"])),
            "{word: on, hex: 16, float: 1, day: \"2024-01-02T00:00:00Z\", flag: true, n: 1000}"
        );
        assert_eq!(
            written(at(&out, &["spec", "flag"]), target, ops),
            (PATCH, "yes")
        );
    }

    #[test]
    fn pointer_helpers() {
        assert_eq!(split_pointer(""), None);
        assert_eq!(split_pointer("/"), Some((vec![], String::new())));
        assert_eq!(
            split_pointer("/a~1b/c~0d/~01"),
            Some((vec!["a/b".to_string(), "c~d".to_string()], "~1".to_string()))
        );
        assert_eq!(array_index("-1", 3), Some(2));
        assert_eq!(array_index("-4", 3), None);
        assert_eq!(array_index("3", 3), None);
        assert_eq!(array_index("+1", 3), Some(1));
        assert_eq!(array_index("1 ", 3), None);
        assert_eq!(add_index("3", 3), Some(3));
        assert_eq!(add_index("-1", 3), Some(3));
        assert_eq!(add_index("-4", 3), Some(0));
        assert_eq!(add_index("-5", 3), None);
        assert_eq!(add_index("99999999999999999999", 3), None);
        assert_eq!(
            timestamp_rfc3339("2024-1-2"),
            Some("2024-01-02T00:00:00Z".into())
        );
        assert_eq!(
            timestamp_rfc3339("2001-12-14t21:59:43.10-05:00"),
            Some("2001-12-14T21:59:43.1-05:00".into())
        );
        assert_eq!(
            timestamp_rfc3339("2001-12-14 21:59:43.10"),
            Some("2001-12-14T21:59:43.1Z".into())
        );
        assert_eq!(timestamp_rfc3339("2023-02-29"), None);
        assert_eq!(timestamp_rfc3339("20240102"), None);
    }

    #[test]
    fn never_panics_on_odd_inputs() {
        let docs = [
            "a: 1\n",
            "scalar\n",
            "- 1\n- {a: b}\n",
            "$patch: replace\n",
            "$patch: [x]\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [~, 1, {}, {name: a}, {name: ~}, [x], {$patch: delete}]\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: {a: 1}\n",
            "apiVersion: v1\nkind: Pod\nspec:\n  containers: [{name: a, $patch: replace}, {$patch: merge}, {$patch: ~}]\n",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  finalizers: [{a: 1}, ~, x, [y], {$patch: replace}]\nspec:\n  containers:\n  - name: a\n    ports: [{containerPort: 1}, {protocol: TCP}, ~, 5, {containerPort: {}}]\n",
            "apiVersion: v1\nkind: Service\nspec:\n  ports: [{port: 1, protocol: ~}, {port: 1}, {protocol: UDP}]\n",
            "? [a]\n: b\nc: {? {d: e} : f}\n",
            "- {op: add, path: /a, value: 1}\n- {op: copy, from: '', path: /b}\n- {op: move, from: /a, path: /a/b}\n- {op: test, path: ''}\n- ~\n",
        ];
        for t in docs {
            for p in docs {
                let target = doc(TARGET, t);
                let patch = doc(PATCH, p);
                for builtin in [false, true] {
                    let mut t2 = target.clone();
                    let _ = strategic_merge(&mut t2, &patch, builtin);
                }
                let mut t3 = target.clone();
                let _ = json6902(&mut t3, &patch);
            }
        }
        // Copying the document into itself over and over stops at the size guard.
        let mut t = doc(TARGET, "a: [1, 2, 3, 4, 5, 6, 7, 8]\n");
        let ops = "- {op: copy, from: /a, path: /a/-}\n".repeat(40);
        assert!(json6902(&mut t, &doc(PATCH, &ops)).is_err());
    }
}

//! Flux's part of rendering: the overlay a Flux Kustomization puts on its path, post-build
//! substitution, and the order of builds (parents before children, so a child is built from
//! the object its parent applies).

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use super::build::{Builder, Overlay};
use super::envsubst::{self, Outcome};
use super::generate::base64_decode;
use super::ownership::Tree;
use super::{Env, Problem, RObject, Substitution};
use crate::model::flux::FluxKustomization;
use crate::model::value::text;
use crate::model::{Doc, DocId, Role};
use crate::model::{Header, Kind, Val};
use crate::source::paths;
use crate::source::Span;
use crate::yaml::{self, Kind as NodeKind, Node, Scalar, Style, Tag};

pub const SUBSTITUTE_ANNOTATION: &str = "kustomize.toolkit.fluxcd.io/substitute";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything was read and built.
    Full,
    /// Built, but some content is unknown (remote resources, unresolved variables).
    Partial,
    /// Not built: the path is missing or a placeholder, or the source is another repository.
    Failed,
}

#[derive(Debug)]
pub struct KsBuild {
    /// The Flux Kustomization: a source document for roots, a rendered one for children.
    pub ks: DocId,
    pub group: u32,
    /// The rendered objects, as document ids in the final index.
    pub objects: Vec<DocId>,
    pub problems: Vec<Problem>,
    pub status: Status,
    /// The kustomization and patch files its build read.
    pub read: Vec<crate::source::FileId>,
    /// Its objects' names or namespaces may differ from what was rendered (see
    /// [`Builder::uncertain`]).
    pub uncertain: bool,
    /// Generated objects whose names got kustomize's hash suffix, with their names before it.
    pub hashed: Vec<(DocId, compact_str::CompactString)>,
}

/// A standalone kustomize build (see [`render_standalone`]) that hashed generated names.
#[derive(Debug, Default)]
pub struct StandaloneHashed {
    pub objects: Vec<DocId>,
    /// Generated objects whose names got the hash suffix, with their names before it.
    pub hashed: Vec<(DocId, compact_str::CompactString)>,
    /// The kustomization and patch files the build read.
    pub read: Vec<crate::source::FileId>,
}

#[derive(Debug, Default)]
pub struct Rendered {
    /// New documents, numbered from `base` on.
    pub docs: Vec<Doc>,
    pub builds: Vec<KsBuild>,
    /// Source documents that some build applies.
    pub used_sources: HashSet<DocId>,
    /// Substitution records per new document (same order as `docs`).
    pub substitutions: Vec<Vec<Substitution>>,
    /// The objects of kustomize directories that nothing builds, rendered on their own.
    pub standalone: Vec<DocId>,
    /// What those builds could not do, or where they fail.
    pub standalone_problems: Vec<Problem>,
    /// Those builds that hashed generated names.
    pub standalone_hashed: Vec<StandaloneHashed>,
    /// Builds that failed inside this tool: the directory, and what went wrong.
    pub internal_errors: Vec<(String, String)>,
}

/// A build whose panic costs that build only: it yields nothing and is recorded as an internal
/// error naming the directory.
fn guarded_build(
    builder: &mut Builder<'_, '_>,
    dir: &str,
    overlay: &Overlay<'_>,
    at: Span,
    internal: &mut Vec<(String, String)>,
) -> Vec<RObject> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        builder.build_top(dir, overlay, at)
    })) {
        Ok(objects) => objects,
        Err(panic) => {
            internal.push((
                if dir.is_empty() {
                    ".".into()
                } else {
                    dir.to_string()
                },
                format!(
                    "internal error while rendering this directory ({}); please report it",
                    crate::guard::panic_message(panic.as_ref())
                ),
            ));
            Vec::new()
        }
    }
}

/// A variable's value and where it was defined.
struct Var {
    value: String,
    at: Option<Span>,
}

/// Variables of one Flux Kustomization.
#[derive(Default)]
struct Vars {
    known: HashMap<String, Var>,
    /// A source could not be read (missing, SOPS-encrypted): any name may be defined.
    incomplete: bool,
}

pub fn render_all(
    tree: &Tree<'_>,
    roots: &[(DocId, u32)],
    sources: &BTreeMap<(String, String), String>,
    doc_groups: &HashMap<DocId, Vec<u32>>,
    env: &Env<'_>,
    base: DocId,
    lean: bool,
) -> Rendered {
    let mut out = Rendered::default();
    // Kustomizations to build next, by document id (a root's, or one rendered in a prior wave).
    let mut wave: Vec<(DocId, u32)> = Vec::new();
    let mut visited: HashSet<(u32, String, String)> = HashSet::new();
    for &(doc, group) in roots {
        if let Some(root) = tree.root(doc) {
            visited.insert((group, ns_of(root), name_of(root)));
            wave.push((doc, group));
        }
    }
    // ConfigMaps and Secrets rendered so far, per context, for substituteFrom.
    let mut rendered_data: HashMap<(u32, String, String, String), DocId> = HashMap::new();
    // Those written in the repository, indexed on first use.
    let source_data = std::cell::OnceCell::new();
    // Level by level: a Kustomization's children render in the next wave. Builds of one wave
    // are independent and run in parallel; `substituteFrom` reads what earlier builds rendered,
    // so it is resolved afterwards, in order, exactly as a sequential walk would see it.
    let mut waves = 0;
    while !wave.is_empty() {
        waves += 1;
        // A child that re-creates itself under a new name (`k-${P}` setting `P: ${P}x`) would
        // render forever; real repositories nest a handful of levels.
        let over_waves = waves > crate::budget::RENDER_WAVES;
        let over_builds = out.builds.len() + wave.len() > env.budgets.builds;
        if over_waves || over_builds {
            let what = if over_waves {
                format!(
                    "Flux Kustomizations apply one another more than {} levels deep here \
                     (budget: render waves)",
                    crate::budget::RENDER_WAVES
                )
            } else {
                format!(
                    "this repository renders more than {} Flux Kustomization builds \
                     (budget: builds)",
                    env.budgets.builds
                )
            };
            if let Some(&(doc, group)) = wave.first() {
                let span = ks_root(tree, &out, base, doc).map_or_else(Span::default, |r| r.span);
                out.builds.push(KsBuild {
                    ks: doc,
                    group,
                    objects: Vec::new(),
                    problems: vec![Problem::limit(
                        span,
                        format!("{what}; what lies beyond is not rendered"),
                    )],
                    status: Status::Failed,
                    read: Vec::new(),
                    uncertain: false,
                    hashed: Vec::new(),
                });
            }
            break;
        }
        let built: Vec<Option<Built>> = {
            let out = &out;
            wave.par_iter()
                .map(|&(ks_doc, group)| {
                    let ks_root = ks_root(tree, out, base, ks_doc)?;
                    Some(build_one(
                        tree,
                        sources,
                        env,
                        (ks_root, ks_doc, group),
                        lean,
                    ))
                })
                .collect()
        };
        let mut next = Vec::new();
        for (b, &(ks_doc, group)) in built.into_iter().zip(wave.iter()) {
            let Some(Built {
                mut build,
                mut objects,
                mut headers,
                internal,
            }) = b
            else {
                continue;
            };
            out.internal_errors.extend(internal);
            if let Some(ks_root) =
                ks_root(tree, &out, base, ks_doc).filter(|r| needs_rendered_data(r))
            {
                let source_data = source_data.get_or_init(|| SourceData::new(tree, doc_groups));
                let vars = collect_vars(
                    (ks_root, group),
                    tree,
                    &out,
                    &rendered_data,
                    source_data,
                    &objects,
                );
                substitute_all(&mut objects, &vars, &mut build, env);
            }
            // Builds that waited for rendered data are finished here, after their substitution.
            if headers.len() != objects.len() {
                headers = finish(&mut objects, lean);
            }
            for (mut o, header) in objects.into_iter().zip(headers) {
                let unhashed = o.unhashed.take();
                let id = out.push(base, o, header);
                if let Some(name) = unhashed {
                    build.hashed.push((id, name));
                }
                let Some(doc) = out.docs.last() else { continue };
                if matches!(doc.kind(), Kind::ConfigMap | Kind::Secret) {
                    rendered_data.insert(
                        (
                            group,
                            ns_of(&doc.root),
                            doc.header
                                .as_ref()
                                .map_or(String::new(), |h| h.kind_name.to_string()),
                            name_of(&doc.root),
                        ),
                        id,
                    );
                }
                if doc.kind() == Kind::FluxKustomization {
                    let key = (group, ns_of(&doc.root), name_of(&doc.root));
                    if visited.insert(key) {
                        next.push((id, group));
                    }
                }
                build.objects.push(id);
            }
            out.builds.push(build);
        }
        wave = next;
    }
    out
}

/// A Flux Kustomization's tree: a source document's below `base`, a rendered one's from it on.
fn ks_root<'a>(tree: &'a Tree<'_>, out: &'a Rendered, base: DocId, id: DocId) -> Option<&'a Node> {
    match id.checked_sub(base) {
        None => tree.root(id),
        Some(i) => out.docs.get(i as usize).map(|d| &d.root),
    }
}

/// Last step of a build, once its objects are substituted: with `lean`, trims them (see
/// [`super::lean`]); returns each object's header.
fn finish(objects: &mut [RObject], lean: bool) -> Vec<Option<Box<Header>>> {
    objects
        .iter_mut()
        .map(|o| {
            if lean {
                super::lean::trim(&mut o.root);
            }
            Header::read(&o.root).map(Box::new)
        })
        .collect()
}

/// One Flux Kustomization's build before its objects get ids.
struct Built {
    build: KsBuild,
    objects: Vec<RObject>,
    /// Each object's header, read on the build's own thread; empty while the build waits for
    /// data other builds render (see [`finish`]).
    headers: Vec<Option<Box<Header>>>,
    internal: Vec<(String, String)>,
}

/// Whether post-build substitution reads ConfigMaps or Secrets (which earlier builds may
/// render), rather than only the Kustomization's own `substitute`.
fn needs_rendered_data(ks_root: &Node) -> bool {
    ks_root
        .at(&["spec", "postBuild", "substituteFrom"])
        .is_some_and(|f| f.as_seq().is_none_or(|s| !s.is_empty()))
}

fn substitute_all(objects: &mut [RObject], vars: &Vars, build: &mut KsBuild, env: &Env<'_>) {
    for o in objects.iter_mut() {
        if substitute_object(o, vars, &mut build.problems, env) {
            build.status = Status::Partial.max_with(build.status);
        }
    }
}

/// Builds one Flux Kustomization: its source, its path, the kustomize build with Flux's
/// overlay, and substitution when it needs nothing rendered elsewhere.
/// `ks` is the Flux Kustomization: its tree, document id and cluster context.
fn build_one(
    tree: &Tree<'_>,
    sources: &BTreeMap<(String, String), String>,
    env: &Env<'_>,
    ks: (&Node, DocId, u32),
    lean: bool,
) -> Built {
    let (ks_root, ks_doc, group) = ks;
    let view = FluxKustomization(ks_root);
    let mut built = Built {
        build: KsBuild {
            ks: ks_doc,
            group,
            objects: Vec::new(),
            problems: Vec::new(),
            status: Status::Full,
            read: Vec::new(),
            uncertain: false,
            hashed: Vec::new(),
        },
        objects: Vec::new(),
        headers: Vec::new(),
        internal: Vec::new(),
    };
    let build = &mut built.build;
    // Paths start at the directory the source's artifact holds (the repository root for Git).
    let mut base = "";
    if let Some((kind, name)) = view.source_ref() {
        if let Some(root) = sources.get(&(kind.to_string(), name.to_string())) {
            base = root;
        } else {
            build.status = Status::Failed;
            build.problems.push(Problem::unseen(
                ks_root
                    .at(&["spec", "sourceRef"])
                    .map_or(ks_root.span, |n| n.span),
                format!("source {kind}/{name} is another repository or artifact; not rendered"),
            ));
            return built;
        }
    }
    let path_node = view.path();
    let at = path_node.map_or(ks_root.span, |p| p.node.span);
    let dir = match path_node.map(|p| p.value) {
        None => base.to_string(),
        Some(Val::Known(p)) => match paths::join(base, p) {
            Some(dir) => dir,
            None => {
                build.status = Status::Failed;
                build.problems.push(Problem::fails(
                    at,
                    format!(
                        "spec.path `{p}` leaves the repository: kustomize-controller builds \
                         inside the source artifact and refuses it"
                    ),
                ));
                return built;
            }
        },
        Some(Val::Unknown) => {
            build.status = Status::Failed;
            build.problems.push(Problem::unseen(
                at,
                "spec.path is a placeholder; not rendered",
            ));
            return built;
        }
    };
    let overlay = overlay_of(ks_root);
    let mut builder = Builder::new(tree, env);
    let mut objects = guarded_build(&mut builder, &dir, &overlay, at, &mut built.internal);
    let build = &mut built.build;
    build.problems.append(&mut builder.problems);
    build.read = std::mem::take(&mut builder.read).into_iter().collect();
    build.uncertain = builder.uncertain;
    build.read.sort_unstable();
    if builder.partial {
        build.status = Status::Partial;
    }
    if objects.is_empty()
        && build
            .problems
            .iter()
            .any(|p| p.message.contains("does not exist"))
    {
        build.status = Status::Failed;
    }
    if ks_root.at(&["spec", "postBuild"]).is_some() && !needs_rendered_data(ks_root) {
        let vars = collect_own_vars(ks_root);
        substitute_all(&mut objects, &vars, build, env);
    }
    // Finished here, on the build's thread, unless objects still await substitution from data
    // that other builds render.
    if !needs_rendered_data(ks_root) {
        built.headers = finish(&mut objects, lean);
    }
    built.objects = objects;
    built
}

/// Builds each kustomize directory that nothing else builds (see
/// [`super::ownership::standalone_dirs`]) as `kustomize build` would: no Flux overlay, no
/// substitution. A directory whose build yields nothing keeps its files as they are.
pub fn render_standalone(
    tree: &Tree<'_>,
    dirs: &[String],
    env: &Env<'_>,
    base: DocId,
    lean: bool,
    out: &mut Rendered,
) {
    let mut builder = Builder::new(tree, env);
    let overlay = Overlay::default();
    for dir in dirs {
        builder.problems.clear();
        builder.partial = false;
        builder.read.clear();
        let mut objects = guarded_build(
            &mut builder,
            dir,
            &overlay,
            Span::default(),
            &mut out.internal_errors,
        );
        out.standalone_problems.append(&mut builder.problems);
        let headers = finish(&mut objects, lean);
        let mut hashed = StandaloneHashed::default();
        for (mut o, header) in objects.into_iter().zip(headers) {
            let unhashed = o.unhashed.take();
            let id = out.push(base, o, header);
            out.standalone.push(id);
            hashed.objects.push(id);
            if let Some(name) = unhashed {
                hashed.hashed.push((id, name));
            }
        }
        if !hashed.hashed.is_empty() {
            hashed.read = builder.read.iter().copied().collect();
            hashed.read.sort_unstable();
            out.standalone_hashed.push(hashed);
        }
    }
}

impl Rendered {
    /// Adds a rendered object as a document numbered from `base`, and records the source
    /// document it came from as applied.
    fn push(&mut self, base: DocId, o: RObject, header: Option<Box<Header>>) -> DocId {
        let id = base + self.docs.len() as DocId;
        if let Some(s) = o.source {
            self.used_sources.insert(s);
        }
        self.substitutions.push(o.substitutions);
        self.docs.push(Doc {
            file: o.file,
            // Rendered documents have no position in a file.
            index: usize::MAX,
            header,
            root: o.root,
            role: Role::Object,
            nodes: 0,
        });
        id
    }
}

trait StatusExt {
    fn max_with(self, other: Status) -> Status;
}

impl StatusExt for Status {
    /// The worse of two statuses.
    fn max_with(self, other: Status) -> Status {
        match (self, other) {
            (Status::Failed, _) | (_, Status::Failed) => Status::Failed,
            (Status::Partial, _) | (_, Status::Partial) => Status::Partial,
            _ => Status::Full,
        }
    }
}

fn ns_of(root: &Node) -> String {
    root.at(&["metadata", "namespace"])
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string()
}

fn name_of(root: &Node) -> String {
    root.at(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or("")
        .to_string()
}

/// What the Flux Kustomization's spec adds to the kustomization it builds.
fn overlay_of(ks: &Node) -> Overlay<'_> {
    let spec = ks.get("spec");
    let get = |k: &str| spec.and_then(|s| s.get(k));
    let string = |k: &str| get(k).and_then(|n| Some((n.as_str()?.to_string(), n.span)));
    let pairs = |k: &str| -> Vec<(String, String, Span)> {
        spec.and_then(|s| s.at(&["commonMetadata", k]))
            .and_then(Node::as_map)
            .unwrap_or(&[])
            .iter()
            .filter_map(|e| {
                Some((
                    e.key.as_str()?.to_string(),
                    e.value.as_str().unwrap_or("").to_string(),
                    e.value.span,
                ))
            })
            .collect()
    };
    Overlay {
        namespace: string("targetNamespace"),
        patches: get("patches")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .collect(),
        components: get("components")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|c| Some((c.as_str()?.to_string(), c.span)))
            .collect(),
        images: get("images")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .collect(),
        name_prefix: string("namePrefix"),
        name_suffix: string("nameSuffix"),
        labels: pairs("labels"),
        annotations: pairs("annotations"),
    }
}

/// `postBuild.substitute` over `substituteFrom` (later sources win over earlier ones).
///
/// Where each source comes from, first found first: the objects of this very build (a root
/// that applies its own `cluster-vars` reads it once applied), what earlier builds of the same
/// cluster rendered, then what is written in the repository for this cluster. A ConfigMap only
/// another cluster's Kustomizations apply is never read: two clusters often define
/// `cluster-vars` with different values.
fn collect_vars(
    (ks, group): (&Node, u32),
    tree: &Tree<'_>,
    out: &Rendered,
    rendered: &HashMap<(u32, String, String, String), DocId>,
    source_data: &SourceData,
    own: &[RObject],
) -> Vars {
    let mut vars = Vars::default();
    let ns = ns_of(ks);
    let base = tree.docs.len() as DocId;
    for from in ks
        .at(&["spec", "postBuild", "substituteFrom"])
        .and_then(Node::as_seq)
        .unwrap_or(&[])
    {
        let kind = from
            .get("kind")
            .and_then(Node::as_str)
            .unwrap_or("ConfigMap")
            .to_string();
        let Some(Val::Known(name)) = from.get("name").and_then(text) else {
            vars.incomplete = true;
            continue;
        };
        let in_this_build = own.iter().map(|o| &o.root).find(|r| {
            crate::render::transform::kind_of(r) == kind
                && name_of(r) == name
                && (ns_of(r) == ns || ns_of(r).is_empty())
        });
        let found = in_this_build
            .or_else(|| {
                rendered
                    .get(&(group, ns.clone(), kind.clone(), name.to_string()))
                    .and_then(|&id| out.docs.get((id - base) as usize))
                    .map(|d| &d.root)
            })
            .or_else(|| source_data.find(tree, &ns, &kind, name, group));
        match found {
            None => vars.incomplete = true,
            Some(root) => read_data(root, &kind, &mut vars),
        }
    }
    add_own_vars(ks, &mut vars);
    vars
}

/// Only the Kustomization's own `postBuild.substitute`.
fn collect_own_vars(ks: &Node) -> Vars {
    let mut vars = Vars::default();
    add_own_vars(ks, &mut vars);
    vars
}

/// `postBuild.substitute`, which wins over anything from `substituteFrom`.
fn add_own_vars(ks: &Node, vars: &mut Vars) {
    for e in ks
        .at(&["spec", "postBuild", "substitute"])
        .and_then(Node::as_map)
        .unwrap_or(&[])
    {
        if let (Some(k), Some(v)) = (e.key.as_str(), e.value.as_str()) {
            // Flux strips newlines from values.
            vars.known.insert(
                k.to_string(),
                Var {
                    value: v.replace('\n', ""),
                    at: Some(e.value.span),
                },
            );
        }
    }
}

/// Objects of the core API group written in the repository, by kind and name, in document
/// order: where `substituteFrom` looks for a ConfigMap or Secret that no Kustomization rendered.
/// Every Kustomization of a cluster usually names the same few, and looking through every
/// document for each one would cost the number of Kustomizations times the number of documents.
struct SourceData<'g> {
    by_name: HashMap<(String, String), Vec<DocId>>,
    /// The cluster contexts that apply each written document (none: nothing applies it).
    groups: &'g HashMap<DocId, Vec<u32>>,
}

impl<'g> SourceData<'g> {
    fn new(tree: &Tree<'_>, groups: &'g HashMap<DocId, Vec<u32>>) -> SourceData<'g> {
        let mut map: HashMap<(String, String), Vec<DocId>> = HashMap::new();
        for (id, d) in tree.docs.iter().enumerate() {
            let Some(h) = d.header.as_ref().filter(|h| h.group.is_empty()) else {
                continue;
            };
            if let Some(name) = h.name.as_ref().and_then(|n| n.known()) {
                map.entry((h.kind_name.to_string(), name.to_string()))
                    .or_default()
                    .push(id as DocId);
            }
        }
        SourceData {
            by_name: map,
            groups,
        }
    }

    /// A written `kind` named `name` in namespace `ns` (any namespace when either is unset)
    /// for cluster context `group`: one that context applies, else one nothing applies.
    fn find<'t>(
        &self,
        tree: &Tree<'t>,
        ns: &str,
        kind: &str,
        name: &str,
        group: u32,
    ) -> Option<&'t Node> {
        let candidates: Vec<DocId> = self
            .by_name
            .get(&(kind.to_string(), name.to_string()))?
            .iter()
            .copied()
            .filter(|&id| {
                tree.docs
                    .get(id as usize)
                    .and_then(|d| d.header.as_ref())
                    .is_some_and(|h| {
                        h.namespace
                            .as_ref()
                            .and_then(|n| n.known())
                            .is_none_or(|n| ns.is_empty() || n == ns)
                    })
            })
            .collect();
        let in_group = |id: &DocId| self.groups.get(id).is_some_and(|g| g.contains(&group));
        let applied_by_none = |id: &DocId| self.groups.get(id).is_none_or(|g| g.is_empty());
        let id = candidates
            .iter()
            .find(|id| in_group(id))
            .or_else(|| candidates.iter().find(|id| applied_by_none(id)))?;
        tree.root(*id)
    }
}

fn read_data(root: &Node, kind: &str, vars: &mut Vars) {
    if root.get("sops").is_some_and(|s| s.as_map().is_some()) {
        // Values are encrypted: unknown.
        vars.incomplete = true;
        return;
    }
    let secret = kind == "Secret";
    for field in ["data", "stringData"] {
        for e in root.get(field).and_then(Node::as_map).unwrap_or(&[]) {
            let (Some(k), Some(v)) = (e.key.as_str(), e.value.as_str()) else {
                continue;
            };
            let value = if secret && field == "data" {
                match base64_decode(v).and_then(|b| String::from_utf8(b).ok()) {
                    Some(v) => v,
                    None => continue,
                }
            } else {
                v.to_string()
            };
            vars.known.insert(
                k.to_string(),
                Var {
                    value: value.replace('\n', ""),
                    at: Some(e.value.span),
                },
            );
        }
    }
}

/// Substitutes one object's values in place. Returns true when something stayed unknown.
fn substitute_object(
    o: &mut RObject,
    vars: &Vars,
    problems: &mut Vec<Problem>,
    env: &Env<'_>,
) -> bool {
    if crate::model::marked(&o.root, SUBSTITUTE_ANNOTATION, "disabled") {
        return false;
    }
    // Flux substitutes only when some variable is known, unless sources were unreadable.
    if vars.known.is_empty() && !vars.incomplete {
        return false;
    }
    // Every value a variable puts in draws on the run's budget, before it is copied: a 100 KB
    // variable used 50,000 times must stop at the budget, not at the machine's memory. Past the
    // budget, values stay as written, and unknown.
    let budget = &env.budgets.substituted_bytes;
    let over = std::cell::Cell::new(false);
    let lookup = |name: &str| {
        let v = vars.known.get(name)?;
        if over.get() || !budget.take(v.value.len()) {
            over.set(true);
            return Some(String::new());
        }
        Some(v.value.clone())
    };
    let may_be = |name: &str| vars.incomplete && !vars.known.contains_key(name);
    let mut unknown = false;
    let mut subs = Vec::new();
    walk(&mut o.root, &mut |node| {
        let Some(s) = node.as_scalar() else { return };
        // `$$` alone is substituted too: Flux turns it into `$` (SQL dollar quoting suffers).
        if !envsubst::has_vars(&s.text) && !envsubst::has_dollar_escapes(&s.text) {
            return;
        }
        // Strict substitution is Flux's default since 2.9; variables that may come from a
        // source we could not read are unknown rather than errors.
        let outcome = envsubst::substitute(&s.text, &lookup, &may_be, true);
        if over.get() {
            unknown = true;
            return;
        }
        match outcome {
            Outcome::Done { text: new, uses } => {
                let style = s.style;
                *node = replacement(&new, style, node.span, node.tag.clone(), env);
                subs.push(Substitution {
                    at: node.span,
                    vars: uses
                        .into_iter()
                        .map(|u| {
                            let at = vars.known.get(&u.name).and_then(|v| v.at);
                            (u.name.into(), at)
                        })
                        .collect(),
                });
            }
            Outcome::Unknown { .. } => unknown = true,
            Outcome::Error { message, .. } => {
                unknown = true;
                // Not a CNPG408 finding: whether strict substitution is on depends on the
                // Flux version that runs it (the default since kustomize-controller 1.9).
                problems.push(Problem::unseen(
                    node.span,
                    format!("{message}; Flux fails this Kustomization's build in strict mode"),
                ));
            }
        }
    });
    if over.get() && budget.first_crossing() {
        problems.push(Problem::limit(
            o.root.span,
            budget.message("substitution in this object"),
        ));
    }
    o.substitutions.extend(subs);
    unknown
}

/// The node a substituted scalar becomes: Flux substitutes text and parses the result as YAML,
/// so a plain scalar may turn into a number, a list or a mapping. Spans stay on the `${…}`.
fn replacement(new: &str, style: Style, span: Span, tag: Option<Tag>, env: &Env<'_>) -> Node {
    if style == Style::Plain && simple_plain(new) {
        // Text YAML can only read as one plain scalar of itself: no parser needed.
        return Node {
            span,
            tag,
            kind: NodeKind::Scalar(Scalar {
                text: new.into(),
                style: Style::Plain,
            }),
        };
    }
    if style == Style::Plain {
        // Aliases in a substituted value expand at the cost of rendered nodes.
        let loaded = yaml::load_in(span.file, new, Some(&env.budgets.rendered_nodes));
        if loaded.errors.is_empty() && loaded.docs.len() == 1 {
            if let Some(d) = loaded.docs.into_iter().next() {
                let mut root = d.root;
                super::remap(&mut root, &|_| span);
                if root.tag.is_none() {
                    root.tag = tag;
                }
                return root;
            }
        }
        if new.trim().is_empty() {
            return Node {
                span,
                tag,
                kind: NodeKind::Scalar(Scalar {
                    text: "".into(),
                    style: Style::Plain,
                }),
            };
        }
    }
    Node {
        span,
        tag,
        kind: NodeKind::Scalar(Scalar {
            text: new.into(),
            style: if style == Style::Plain {
                Style::Quoted
            } else {
                style
            },
        }),
    }
}

/// Whether YAML reads `text` as a single plain scalar with exactly this text: letters, digits
/// and a few inner punctuation marks, no indicator that could start a collection, a comment,
/// an alias, a tag, a quote or a block.
fn simple_plain(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    (first.is_ascii_alphanumeric() || first == '/' || first == '.' || first == '_')
        && !text.ends_with(' ')
        && text.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/' | '+' | '=' | '@' | '$')
        })
}

/// Calls `f` on every scalar value (mapping keys are left as written).
fn walk(node: &mut Node, f: &mut dyn FnMut(&mut Node)) {
    match &mut node.kind {
        NodeKind::Scalar(_) => f(node),
        NodeKind::Seq(items) => {
            for item in items.iter_mut() {
                walk(item, f);
            }
        }
        NodeKind::Map(entries) => {
            for e in entries.iter_mut() {
                walk(&mut e.value, f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_plain_text_reads_as_the_parser_reads_it() {
        let span = Span::default();
        let (confined, budgets) = (
            crate::fsio::Confined::default(),
            crate::budget::RenderBudgets::default(),
        );
        let env = Env {
            confined: &confined,
            budgets: &budgets,
        };
        for text in [
            "3",
            "1e3",
            "true",
            "on",
            "prod",
            "5Gi",
            "a-b_c.d/e",
            "x=y+z@w",
            "v1.2.3",
            ".inf",
        ] {
            assert!(simple_plain(text), "{text}");
            let parsed = yaml::first_root(text);
            let fast = replacement(text, Style::Plain, span, None, &env);
            assert_eq!(fast.as_scalar(), parsed.as_scalar(), "{text}");
        }
        for text in [
            "", "a: b", "- x", "[1]", "a #c", "*x", "&a", "!t", "'q'", "x ", "@a", "a\nb",
        ] {
            assert!(!simple_plain(text), "{text:?}");
        }
    }
}

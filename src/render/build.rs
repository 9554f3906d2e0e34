//! `kustomize build` over span trees: resources, components, generators and the built-in
//! transformers in kustomize's order (strategic-merge patches, patches, namespace, prefix and
//! suffix, labels, annotations, JSON 6902 patches, replicas, images). Every object keeps the
//! spans of the files its values came from.

use std::collections::HashSet;

use super::generate::{self, Behavior};
use super::ownership::Tree;
use super::ownership::{files_below, topmost_kustomization_dir};
use super::patch;
use super::select::Selector;
use super::transform::{self, ImageRule};
use super::{embedded_docs, Env, Problem, RObject};
use crate::model::flux::{classify_resource, ResourceRef};
use crate::model::value::text;
use crate::model::Role;
use crate::model::Val;
use crate::source::paths;
use crate::source::{FileId, Span};
use crate::yaml::Node;

/// Kustomization visits per top-level build; includes of one base from several overlays are
/// legal and rebuilt, so this bounds pathological graphs.
const VISIT_BUDGET: usize = 20_000;
/// How deep kustomizations may include one another (see [`crate::budget::KUSTOMIZE_DEPTH`]).
const MAX_DEPTH: usize = crate::budget::KUSTOMIZE_DEPTH;

/// What a Flux Kustomization adds to the kustomization it builds (Flux edits the
/// kustomization.yaml it finds, or the one it generates, before building).
#[derive(Default)]
pub struct Overlay<'a> {
    pub namespace: Option<(String, Span)>,
    pub patches: Vec<&'a Node>,
    pub components: Vec<(String, Span)>,
    pub images: Vec<&'a Node>,
    pub name_prefix: Option<(String, Span)>,
    pub name_suffix: Option<(String, Span)>,
    pub labels: Vec<(String, String, Span)>,
    pub annotations: Vec<(String, String, Span)>,
}

pub struct Builder<'t, 'a> {
    pub tree: &'t Tree<'a>,
    /// Generator files are read from disk inside the repository only, and copies of documents
    /// draw on the run's budget of rendered nodes.
    env: &'t Env<'t>,
    /// The directories of the kustomizations being built, outermost first.
    roots: Vec<String>,
    depth: usize,
    visits: usize,
    pub problems: Vec<Problem>,
    /// Set when something could not be read (remote resources, placeholders).
    pub partial: bool,
    /// The kustomization and patch files the build read (objects' files are in the objects).
    pub read: HashSet<FileId>,
    /// Set when something unseen may have changed objects' names or namespaces (a kustomize
    /// transformer plugin, `vars`, a replacement that failed): their identities are unknown.
    pub uncertain: bool,
}

impl<'t, 'a> Builder<'t, 'a> {
    pub fn new(tree: &'t Tree<'a>, env: &'t Env<'t>) -> Self {
        Builder {
            tree,
            env,
            roots: Vec::new(),
            depth: 0,
            read: HashSet::new(),
            uncertain: false,
            visits: 0,
            problems: Vec::new(),
            partial: false,
        }
    }

    /// Something this build could not see; Flux may well build it.
    fn problem(&mut self, span: Span, message: impl Into<String>) {
        self.problems.push(Problem::unseen(span, message));
    }

    /// Something that fails Flux's build.
    fn fail(&mut self, span: Span, message: impl Into<String>) {
        self.problems.push(Problem::fails(span, message));
    }

    /// Builds a directory (repository-relative) as a top-level build: its kustomization file,
    /// or the kustomization Flux generates, with generated names hashed at the end.
    pub fn build_top(&mut self, dir: &str, overlay: &Overlay<'_>, at: Span) -> Vec<RObject> {
        self.visits = 0;
        let mut objs = Vec::new();
        match self.tree.kustomization_in.get(dir).copied() {
            Some(k) => self.kustomization(k, &mut objs, overlay, None),
            None => {
                if !self.dir_exists(dir) {
                    self.problem(at, format!("path `{dir}` does not exist in the repository"));
                    return objs;
                }
                // Flux writes its generated kustomization into `dir`: kustomize builds from
                // there, so `dir` is the first visited root.
                self.roots.push(dir.to_string());
                self.generated(dir, &mut objs);
                // Flux adds `spec.components` to the kustomization it generates too
                // (`generateKustomization` in fluxcd/pkg `kustomize/kustomize_generator.go`).
                self.components(overlay.components.clone(), dir, &mut objs);
                self.roots.pop();
                let empty_k: Option<&Node> = None;
                self.transformers(empty_k, dir, &mut objs, overlay);
            }
        }
        for o in objs.iter_mut().filter(|o| o.hash_suffix) {
            let hash = generate::name_hash(&o.root);
            let span = o.root.span;
            if let Some(meta) = transform::child_map(&mut o.root, "metadata", span) {
                if let Some(e) = meta.entry("name").map(|e| e.value.clone()) {
                    if let Some(name) = e.as_str() {
                        let hashed = transform::scalar(&format!("{name}-{hash}"), e.span);
                        transform::set(meta, "name", hashed, e.span);
                        o.unhashed = Some(name.into());
                    }
                }
            }
        }
        objs
    }

    fn dir_exists(&self, dir: &str) -> bool {
        dir.is_empty()
            || self.tree.kustomization_in.contains_key(dir)
            || files_below(self.tree, dir).next().is_some()
    }

    /// Flux's generated kustomization: every YAML file below `dir`, and each subdirectory that
    /// has its own kustomization file as one resource.
    fn generated(&mut self, dir: &str, objs: &mut Vec<RObject>) {
        let tree = self.tree;
        let mut units: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
        let mut files: Vec<FileId> = Vec::new();
        for (path, file) in files_below(tree, dir) {
            match topmost_kustomization_dir(tree, dir, paths::parent(path)) {
                Some(u) => {
                    units.insert(u);
                }
                None => files.push(file),
            }
        }
        for f in files {
            self.file(f, objs);
        }
        for u in units {
            if let Some(&k) = tree.kustomization_in.get(u) {
                let mut sub = Vec::new();
                self.kustomization(k, &mut sub, &Overlay::default(), None);
                objs.append(&mut sub);
            }
        }
    }

    /// The Kubernetes objects of one file, as they are written.
    fn file(&mut self, file: FileId, objs: &mut Vec<RObject>) {
        for &d in self
            .tree
            .docs_by_file
            .get(file as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
        {
            let Some(doc) = self.tree.docs.get(d as usize) else {
                continue;
            };
            if matches!(doc.role, Role::Object | Role::Patch) {
                // A base included by thousands of overlays is copied thousands of times.
                let budget = &self.env.budgets.rendered_nodes;
                if !budget.take(doc.nodes.max(1) as usize) {
                    self.partial = true;
                    if budget.first_crossing() {
                        self.problems
                            .push(Problem::limit(doc.root.span, budget.message("this copy")));
                    }
                    continue;
                }
                if let Some(root) = self.tree.owned_root(d) {
                    objs.push(RObject::from_source(d, doc, root));
                }
            }
        }
    }

    /// Builds the kustomization in `kfile`; `at` is the entry that includes it (for the
    /// errors of a cycle or a chain too deep), or none for a top-level build.
    fn kustomization(
        &mut self,
        kfile: FileId,
        objs: &mut Vec<RObject>,
        overlay: &Overlay<'_>,
        at: Option<Span>,
    ) {
        self.visits += 1;
        if self.visits > VISIT_BUDGET {
            return;
        }
        let dir = self.dir_of(kfile);
        // kustomize refuses to load a directory that is, or contains, one it is already
        // building (`errIfArgEqualOrHigher` in kustomize `api/internal/loader/fileloader.go`):
        // a cycle, or an overlay that includes its own ancestor.
        if let Some(visited) = self.roots.iter().find(|r| paths::is_within(r, &dir)) {
            if let Some(at) = at {
                let show = |d: &str| {
                    if d.is_empty() {
                        ".".to_string()
                    } else {
                        d.to_string()
                    }
                };
                let what = if *visited == dir {
                    format!(
                        "this includes `{}`, which is already being built: the kustomizations \
                         include each other",
                        show(&dir)
                    )
                } else {
                    format!(
                        "this includes `{}`, which contains `{}`, already being built",
                        show(&dir),
                        show(visited)
                    )
                };
                self.fail(
                    at,
                    format!(
                        "{what}, and kustomize fails the build (\"cycle detected: candidate \
                         root contains visited root\")"
                    ),
                );
            }
            return;
        }
        if self.depth >= MAX_DEPTH {
            self.partial = true;
            self.problems.push(Problem::limit(
                at.unwrap_or(Span::new(kfile, 0, 0)),
                format!(
                    "kustomizations include one another more than {MAX_DEPTH} levels deep here \
                     (budget: kustomize chain depth); what lies below is not built"
                ),
            ));
            return;
        }
        self.read.insert(kfile);
        self.roots.push(dir.clone());
        self.depth += 1;
        let tree = self.tree;
        let k: Option<&Node> = tree
            .docs_by_file
            .get(kfile as usize)
            .and_then(|d| d.first())
            .and_then(|&d| tree.root(d));
        self.accumulate(k, &dir, objs, overlay);
        self.depth -= 1;
        self.roots.pop();
    }

    fn dir_of(&self, kfile: FileId) -> String {
        self.tree
            .sources
            .get(kfile)
            .map(|s| paths::parent(&s.repo_path).to_string())
            .unwrap_or_default()
    }

    /// Resources, components, generators, then transformers, as kustomize accumulates a
    /// kustomization (components apply to everything accumulated before them).
    fn accumulate(
        &mut self,
        k: Option<&Node>,
        dir: &str,
        objs: &mut Vec<RObject>,
        overlay: &Overlay<'_>,
    ) {
        let Some(k) = k else {
            self.transformers(None, dir, objs, overlay);
            return;
        };
        // Features this renderer does not apply: the build is partial, and says so.
        for key in [
            "helmCharts",
            "transformers",
            "generators",
            "configurations",
            "vars",
            "openapi",
            "crds",
        ] {
            if let Some(e) = k.entry(key) {
                self.partial = true;
                // A transformer plugin may rename anything; the others add objects or change
                // fields other than names and namespaces (`configurations` declares where
                // the builtins write, and kustomize's own name fields stay where they are).
                self.uncertain |= key == "transformers";
                self.problem(
                    e.key.span,
                    format!("kustomize `{key}` is not applied by cnpg-lint; values it would change are not seen"),
                );
            }
        }
        for key in ["resources", "bases"] {
            for r in k.get(key).and_then(Node::as_seq).unwrap_or(&[]) {
                self.resource(r, dir, objs);
            }
        }
        let mut components: Vec<(String, Span)> = k
            .get("components")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|c| Some((c.as_str()?.to_string(), c.span)))
            .collect();
        components.extend(overlay.components.iter().cloned());
        // kustomize accumulates resources, then generators, then components, whose
        // transformers see everything accumulated before them (`accumulateTarget` in
        // kustomize `api/internal/target/kusttarget.go`).
        self.generators(k, dir, objs);
        self.components(components, dir, objs);
        self.transformers(Some(k), dir, objs, overlay);
    }

    /// Components, relative to `dir`, applied to what is accumulated so far.
    fn components(&mut self, list: Vec<(String, Span)>, dir: &str, objs: &mut Vec<RObject>) {
        for (c, span) in list {
            if matches!(classify_resource(&c), ResourceRef::Remote(_)) {
                self.partial = true;
                self.problem(
                    span,
                    format!("remote component `{c}` is not fetched; its content is unknown"),
                );
                continue;
            }
            let Some(target) = paths::join(dir, &c) else {
                self.fail(
                    span,
                    format!(
                        "component `{c}` is outside the repository: kustomize-controller \
                         builds inside the source artifact and refuses it"
                    ),
                );
                continue;
            };
            match self.tree.kustomization_in.get(target.as_str()).copied() {
                Some(kf) => self.kustomization(kf, objs, &Overlay::default(), Some(span)),
                None => self.problem(span, format!("component `{c}` has no kustomization file")),
            }
        }
    }

    fn resource(&mut self, r: &Node, dir: &str, objs: &mut Vec<RObject>) {
        let Some(entry) = text(r) else { return };
        let Val::Known(entry) = entry else {
            self.partial = true;
            self.problem(r.span, "resource path holds a substitution placeholder");
            return;
        };
        match classify_resource(entry) {
            ResourceRef::Remote(url) => {
                self.partial = true;
                self.problem(
                    r.span,
                    format!("remote resource `{url}` is not fetched; its content is unknown"),
                );
            }
            ResourceRef::Local(rel) => match paths::join(dir, &rel) {
                None => self.fail(
                    r.span,
                    format!(
                        "resource `{rel}` is outside the repository: kustomize-controller builds \
                         inside the source artifact and refuses it"
                    ),
                ),
                Some(target) => {
                    if let Some(f) = self.tree.sources.find(target.as_str()) {
                        self.file(f, objs);
                    } else if let Some(&kf) = self.tree.kustomization_in.get(target.as_str()) {
                        let mut sub = Vec::new();
                        self.kustomization(kf, &mut sub, &Overlay::default(), Some(r.span));
                        objs.append(&mut sub);
                    } else {
                        self.problem(r.span, format!("resource `{rel}` does not exist"));
                    }
                }
            },
        }
    }

    fn generators(&mut self, k: &Node, dir: &str, objs: &mut Vec<RObject>) {
        let options = k.get("generatorOptions");
        for (key, secret) in [("configMapGenerator", false), ("secretGenerator", true)] {
            for g in k.get(key).and_then(Node::as_seq).unwrap_or(&[]) {
                match generate::generate(g, secret, self.env.confined, dir, options) {
                    Err((message, span, kind)) => {
                        self.partial = true;
                        self.problems.push(Problem {
                            span,
                            message,
                            kind,
                        });
                    }
                    Ok(generated) => {
                        let kind = if secret { "Secret" } else { "ConfigMap" };
                        let name = generated
                            .root
                            .at(&["metadata", "name"])
                            .and_then(Node::as_str)
                            .unwrap_or("")
                            .to_string();
                        // Only a merge or a replace looks for the object it changes: a
                        // kustomization may generate thousands.
                        let existing = if generated.behavior == Behavior::Create {
                            None
                        } else {
                            objs.iter().position(|o| {
                                transform::kind_of(&o.root) == kind
                                    && o.root.at(&["metadata", "name"]).and_then(Node::as_str)
                                        == Some(name.as_str())
                            })
                        };
                        match (generated.behavior, existing) {
                            (Behavior::Merge, Some(i)) => {
                                if let Some(o) = objs.get_mut(i) {
                                    for field in ["data", "binaryData"] {
                                        if let Some(src) =
                                            generated.root.get(field).and_then(Node::as_map)
                                        {
                                            let span = o.root.span;
                                            if let Some(m) =
                                                transform::child_map(&mut o.root, field, span)
                                            {
                                                for e in src {
                                                    if let Some(key) = e.key.as_str() {
                                                        transform::set(
                                                            m,
                                                            key,
                                                            e.value.clone(),
                                                            e.key.span,
                                                        );
                                                    }
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                            (Behavior::Replace, Some(i)) => {
                                if let Some(o) = objs.get_mut(i) {
                                    o.root = generated.root;
                                    o.hash_suffix = generated.hash_suffix;
                                }
                            }
                            (Behavior::Merge | Behavior::Replace, None) => {
                                self.problem(
                                    g.span,
                                    format!(
                                        "no {kind} `{name}` to {} in the resources",
                                        if generated.behavior == Behavior::Merge {
                                            "merge into"
                                        } else {
                                            "replace"
                                        }
                                    ),
                                );
                            }
                            (Behavior::Create, _) => objs.push(RObject::generated(
                                generated.root,
                                g.span.file,
                                generated.hash_suffix,
                            )),
                        }
                    }
                }
            }
        }
    }

    fn transformers(
        &mut self,
        k: Option<&Node>,
        dir: &str,
        objs: &mut Vec<RObject>,
        overlay: &Overlay<'_>,
    ) {
        let get = |key: &str| k.and_then(|k| k.get(key));
        // patchesStrategicMerge: file paths or inline patches, targeted by their own identity.
        for p in get("patchesStrategicMerge")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
        {
            for patch in self.patch_docs(p, dir, true) {
                self.smp_by_identity(&patch, objs);
            }
        }
        let mut patch_entries: Vec<(&Node, String)> = get("patches")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(|p| (p, dir.to_string()))
            .collect();
        patch_entries.extend(overlay.patches.iter().map(|p| (*p, dir.to_string())));
        for (entry, pdir) in patch_entries {
            self.patch_entry(entry, &pdir, objs, false);
        }
        // Namespace: the Flux targetNamespace replaces the kustomization's.
        let ns = overlay
            .namespace
            .clone()
            .or_else(|| get("namespace").and_then(|n| Some((n.as_str()?.to_string(), n.span))));
        if let Some((ns, span)) = ns {
            if crate::model::value::has_placeholder(&ns) {
                self.partial = true;
            }
            for o in objs.iter_mut() {
                transform::namespace(&mut o.root, &ns, span);
            }
        }
        let affix = |key: &str, over: &Option<(String, Span)>| {
            over.clone()
                .or_else(|| get(key).and_then(|n| Some((n.as_str()?.to_string(), n.span))))
        };
        let prefix = affix("namePrefix", &overlay.name_prefix);
        let suffix = affix("nameSuffix", &overlay.name_suffix);
        if prefix.is_some() || suffix.is_some() {
            let span = prefix
                .as_ref()
                .or(suffix.as_ref())
                .map(|p| p.1)
                .unwrap_or_default();
            let (p, s) = (
                prefix.as_ref().map_or("", |p| p.0.as_str()),
                suffix.as_ref().map_or("", |s| s.0.as_str()),
            );
            for o in objs.iter_mut() {
                transform::prefix_suffix(&mut o.root, p, s, span);
            }
        }
        // commonLabels (selectors included), then `labels` entries.
        if let Some(pairs) = get("commonLabels").map(pairs_of) {
            for o in objs.iter_mut() {
                transform::labels(&mut o.root, &pairs, true, false);
            }
        }
        for l in get("labels").and_then(Node::as_seq).unwrap_or(&[]) {
            let pairs = l.get("pairs").map(pairs_of).unwrap_or_default();
            let flag = |k: &str| {
                l.get(k)
                    .and_then(|n| n.as_scalar()?.as_bool())
                    .unwrap_or(false)
            };
            for o in objs.iter_mut() {
                transform::labels(
                    &mut o.root,
                    &pairs,
                    flag("includeSelectors"),
                    flag("includeTemplates"),
                );
            }
        }
        if !overlay.labels.is_empty() {
            for o in objs.iter_mut() {
                transform::labels(&mut o.root, &overlay.labels, false, false);
            }
        }
        let mut annotations = get("commonAnnotations").map(pairs_of).unwrap_or_default();
        annotations.extend(overlay.annotations.iter().cloned());
        if !annotations.is_empty() {
            for o in objs.iter_mut() {
                transform::annotations(&mut o.root, &annotations);
            }
        }
        for entry in get("patchesJson6902").and_then(Node::as_seq).unwrap_or(&[]) {
            self.patch_entry(entry, dir, objs, true);
        }
        for r in get("replicas").and_then(Node::as_seq).unwrap_or(&[]) {
            if let (Some(name), Some(count)) = (
                r.get("name").and_then(Node::as_str),
                r.get("count").and_then(Node::as_str),
            ) {
                for o in objs.iter_mut() {
                    transform::replicas(&mut o.root, name, count, r.span);
                }
            }
        }
        let mut rules: Vec<ImageRule> = Vec::new();
        for img in get("images")
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .chain(overlay.images.iter().copied())
        {
            let s = |k: &str| img.get(k).and_then(Node::as_str).map(str::to_string);
            if let Some(name) = s("name") {
                rules.push(ImageRule {
                    name,
                    new_name: s("newName"),
                    new_tag: s("newTag"),
                    digest: s("digest"),
                    span: img.span,
                });
            }
        }
        if !rules.is_empty() {
            for o in objs.iter_mut() {
                transform::images(&mut o.root, &rules);
            }
        }
        // Replacements come last, after the images transformer.
        for r in get("replacements").and_then(Node::as_seq).unwrap_or(&[]) {
            let replacements: Vec<Node> = match r.get("path").and_then(Node::as_str) {
                Some(rel) => self
                    .patch_file(rel, dir, r.span)
                    .into_iter()
                    .flat_map(|doc| match doc.kind {
                        crate::yaml::Kind::Seq(items) => items,
                        _ => vec![doc],
                    })
                    .collect(),
                None => vec![r.clone()],
            };
            for replacement in &replacements {
                let mut roots: Vec<&mut Node> = objs.iter_mut().map(|o| &mut o.root).collect();
                if let Err(e) = super::replace::apply(replacement, &mut roots) {
                    // What the replacement would change stays as written, and unknown.
                    self.partial = true;
                    self.uncertain = true;
                    self.problem(replacement.span, format!("replacement: {}", e.message));
                }
            }
        }
    }

    /// The documents of a patch: an inline string, or a file relative to `dir`.
    fn patch_docs(&mut self, p: &Node, dir: &str, may_be_path: bool) -> Vec<Node> {
        let Some(s) = p.as_str() else {
            // An inline mapping written directly in the list (rare, but valid).
            return if p.as_map().is_some() || p.as_seq().is_some() {
                vec![p.clone()]
            } else {
                Vec::new()
            };
        };
        if may_be_path && !s.contains('\n') {
            return self.patch_file(s, dir, p.span);
        }
        let (docs, errors) =
            embedded_docs(p, self.tree.sources, Some(&self.env.budgets.rendered_nodes));
        for (span, message, limit) in errors {
            if limit {
                self.partial = true;
                self.problems.push(Problem::limit(span, message));
            } else {
                self.fail(
                    span,
                    format!(
                        "this inline patch is not valid YAML ({message}): kustomize fails the \
                         build"
                    ),
                );
            }
        }
        docs
    }

    fn patch_file(&mut self, rel: &str, dir: &str, span: Span) -> Vec<Node> {
        let Some(target) = paths::join(dir, rel) else {
            self.fail(
                span,
                format!(
                    "patch file `{rel}` is outside the repository: kustomize-controller builds \
                     inside the source artifact and refuses it"
                ),
            );
            return Vec::new();
        };
        let Some(f) = self.tree.sources.find(target.as_str()) else {
            self.problem(span, format!("patch file `{rel}` does not exist"));
            return Vec::new();
        };
        self.read.insert(f);
        self.tree
            .docs_by_file
            .get(f as usize)
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .filter_map(|&d| self.tree.root(d).cloned())
            .collect()
    }

    /// One entry of `patches` (or `patchesJson6902` when `json`): `path` or `patch`, and an
    /// optional `target`.
    fn patch_entry(&mut self, entry: &Node, dir: &str, objs: &mut Vec<RObject>, json: bool) {
        let docs = match (entry.get("path"), entry.get("patch")) {
            (Some(path), _) => match path.as_str() {
                Some(rel) => self.patch_file(rel, dir, path.span),
                None => Vec::new(),
            },
            (None, Some(inline)) => self.patch_docs(inline, dir, false),
            (None, None) => {
                self.problem(entry.span, "patch without `path` or `patch`");
                return;
            }
        };
        let selector = match entry.get("target") {
            Some(t) => match Selector::from_node(t) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.partial = true;
                    self.problem(t.span, e);
                    return;
                }
            },
            None => None,
        };
        for patch in docs {
            let is_ops = json || patch.as_seq().is_some();
            match (&selector, is_ops) {
                (Some(sel), true) => {
                    for o in objs.iter_mut().filter(|o| sel.matches(&o.root)) {
                        if let Err(e) = patch::json6902(&mut o.root, &patch) {
                            self.problems.push(Problem::unseen(e.span, e.message));
                        }
                    }
                }
                (None, true) => self.problem(entry.span, "a JSON 6902 patch needs a `target`"),
                (Some(sel), false) => {
                    let allow = |k: &str| {
                        entry
                            .at(&["options", k])
                            .and_then(|n| n.as_scalar()?.as_bool())
                            .unwrap_or(false)
                    };
                    let (name_change, kind_change) =
                        (allow("allowNameChange"), allow("allowKindChange"));
                    // In place: a kustomization with thousands of patches must not move every
                    // object once per patch.
                    let problems = &mut self.problems;
                    objs.retain_mut(|o| {
                        !sel.matches(&o.root)
                            || smp_or_problem(o, &patch, (name_change, kind_change), problems)
                    });
                }
                (None, false) => self.smp_by_identity(&patch, objs),
            }
        }
    }

    /// A strategic-merge patch without a target applies to the object it names.
    fn smp_by_identity(&mut self, patch: &Node, objs: &mut Vec<RObject>) {
        // Borrowed, and compared in place: a kustomization may list thousands of patches, each
        // checked against every object.
        let want = identity(patch);
        let want_ns = patch.at(&["metadata", "namespace"]).and_then(Node::as_str);
        let mut found = false;
        let problems = &mut self.problems;
        objs.retain_mut(|o| {
            let other_ns =
                |w: &str| o.root.at(&["metadata", "namespace"]).and_then(Node::as_str) != Some(w);
            if identity(&o.root) != want || want_ns.is_some_and(other_ns) {
                return true;
            }
            found = true;
            smp_or_problem(o, patch, (false, false), problems)
        });
        if !found {
            self.problem(
                patch.span,
                format!(
                    "patch for {} `{}` matches no resource; kustomize fails the build",
                    want.0, want.1
                ),
            );
        }
    }
}

/// Applies a strategic-merge patch to one object of a build (`allow`: name and kind changes);
/// whether the object stays. A patch that fails is a problem, and the object stays as it was.
fn smp_or_problem(
    o: &mut RObject,
    patch: &Node,
    allow: (bool, bool),
    problems: &mut Vec<Problem>,
) -> bool {
    match smp_keeping_identity(&mut o.root, patch, allow.0, allow.1) {
        Ok(keep) => keep,
        Err(e) => {
            problems.push(Problem::unseen(e.span, e.message));
            true
        }
    }
}

/// Kind, name and API group: what an untargeted strategic-merge patch is matched by.
fn identity(n: &Node) -> (&str, &str, &str) {
    let api = n.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    let name = n
        .at(&["metadata", "name"])
        .and_then(Node::as_str)
        .unwrap_or("");
    (transform::kind_of(n), name, group)
}

/// A strategic-merge patch as kustomize applies one: the patch's own apiVersion, kind, name and
/// namespace do not rename the target (a patch named `not-used` is common), unless the patch
/// entry allows a name or kind change. Schema lookups are by kind, and custom resources have
/// none, so every object is patched with schema lookups on.
fn smp_keeping_identity(
    root: &mut Node,
    patch: &Node,
    allow_name_change: bool,
    allow_kind_change: bool,
) -> Result<bool, patch::PatchError> {
    let keep = |p: &[&str]| root.at(p).cloned();
    let api = keep(&["apiVersion"]);
    let kind = keep(&["kind"]);
    let name = keep(&["metadata", "name"]);
    let namespace = keep(&["metadata", "namespace"]);
    let kept = patch::strategic_merge(root, patch, true)?;
    if !kept {
        return Ok(false);
    }
    let span = root.span;
    if !allow_kind_change {
        for (k, v) in [("apiVersion", api), ("kind", kind)] {
            if let Some(v) = v {
                transform::set(root, k, v, span);
            }
        }
    }
    if let Some(meta) = transform::child_map(root, "metadata", span) {
        if !allow_name_change {
            if let Some(n) = name {
                transform::set(meta, "name", n, span);
            }
        }
        match namespace {
            Some(ns) => transform::set(meta, "namespace", ns, span),
            None => {
                if let crate::yaml::Kind::Map(entries) = &mut meta.kind {
                    entries.retain(|e| e.key.as_str() != Some("namespace"));
                }
            }
        }
    }
    Ok(true)
}

fn pairs_of(n: &Node) -> Vec<(String, String, Span)> {
    n.as_map()
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
}

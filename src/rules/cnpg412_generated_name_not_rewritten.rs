//! CNPG412: a Cluster, Pooler or ObjectStore names a Secret or ConfigMap that a kustomize
//! generator makes, by the name before kustomize's hash suffix. kustomize rewrites references
//! to generated names only in the fields its name-reference configuration lists, and it lists
//! no CloudNativePG or barman-cloud field, so the reference names an object that never exists.

use std::collections::HashMap;

use compact_str::CompactString;

use crate::model::refs::references;
use crate::model::{DocId, Kind, Role};
use crate::rules::engine::Ctx;
use crate::rules::support::code_list;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG412",
    name: "generated-name-not-rewritten",
    severity: Severity::Error,
    summary: "A CloudNativePG or barman-cloud object names a generated Secret or ConfigMap without the hash suffix kustomize gives it, so it names an object that never exists.",
    on_by_default: true,
    category: Category::Flux,
    needs_schemas: false,
    options: &[],
};

/// A generated object of one build, keyed by kind, namespace and its name before the hash.
type Generated = HashMap<(Kind, Option<CompactString>, CompactString), DocId>;

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // Each build that hashed names (Flux Kustomization builds, and kustomize directories built
    // on their own): what it generated, and which of its objects may name those.
    let builds = index
        .builds
        .iter()
        .map(|b| (&b.objects, &b.hashed, &b.read))
        .chain(
            index
                .standalone_hashed
                .iter()
                .map(|b| (&b.objects, &b.hashed, &b.read)),
        );
    let mut generations: Vec<Generated> = Vec::new();
    let mut of_object: HashMap<DocId, usize> = HashMap::new();
    for (objects, hashed, read) in builds {
        if hashed.is_empty() || declares_name_references(ctx, read) {
            continue;
        }
        let mut generated = Generated::new();
        for (d, unhashed) in hashed {
            let Some(doc) = index.doc(*d) else { continue };
            let ns = index.doc_namespace(*d).and_then(|n| n.known().map(Into::into));
            generated.insert((doc.kind(), ns, unhashed.clone()), *d);
        }
        for &o in objects {
            of_object.insert(o, generations.len());
        }
        generations.push(generated);
    }
    if generations.is_empty() {
        return;
    }
    for kind in [Kind::Cluster, Kind::Pooler, Kind::ObjectStore] {
        for (inst, i, doc) in index.instances_of(kind) {
            let Some(generated) = of_object.get(&i.doc).and_then(|&g| generations.get(g)) else {
                continue;
            };
            let ns: Option<CompactString> = index.namespace(inst).map(Into::into);
            // One finding per generated object an object names, at its first reference: the
            // mistake is the hash, however many fields repeat the name.
            let mut named: Vec<(DocId, Vec<crate::model::refs::Ref<'_>>)> = Vec::new();
            for r in references(kind, &doc.root) {
                let Some(name) = r.name() else { continue };
                let Some(&gen) = generated.get(&(r.kind, ns.clone(), name.into())) else {
                    continue;
                };
                match named.iter_mut().find(|(g, _)| *g == gen) {
                    Some((_, refs)) => refs.push(r),
                    None => named.push((gen, vec![r])),
                }
            }
            for (gen, refs) in named {
                let first = &refs[0];
                let Some(name) = first.name() else { continue };
                // Something else makes an object of that name (a plain Secret, an
                // ExternalSecret, a SealedSecret): the reference may well resolve.
                if made_elsewhere(ctx, first.kind, ns.as_deref(), name, inst) {
                    continue;
                }
                let Some(hashed) = index.doc_name(gen) else { continue };
                let (what, generator) = if first.kind == Kind::Secret {
                    ("Secret", "secretGenerator")
                } else {
                    ("ConfigMap", "configMapGenerator")
                };
                let fields: Vec<&str> = refs.iter().map(|r| r.field.as_str()).collect();
                let f = ctx
                    .report(
                        Loc::value(i.doc, first.name),
                        format!(
                            "{} {} the {what} `{name}`, but the {generator} that makes it \
                             names it `{hashed}`: kustomize rewrites references to generated \
                             names only in fields its name-reference configuration lists, and it \
                             lists no CloudNativePG or barman-cloud field, so this {} names a \
                             {what} that never exists",
                            code_list(&fields),
                            if fields.len() == 1 { "names" } else { "name" },
                            doc.header.as_ref().map_or("object", |h| h.kind_name.as_str()),
                        ),
                    )
                    .object(inst)
                    .help(format!(
                        "Set `options: {{disableNameSuffixHash: true}}` on the {generator} entry \
                         (or `generatorOptions.disableNameSuffixHash: true` in its \
                         kustomization), so the {what} keeps the name `{name}`."
                    ));
                f.related(
                    Loc::path(gen, &["metadata", "name"]),
                    format!("{generator} entry; its output is named `{hashed}`"),
                );
            }
        }
    }
}

/// Whether a kustomization the build read has `configurations:` or `crds:`, which can teach
/// kustomize where these names are (and which cnpg-lint does not apply).
fn declares_name_references(ctx: &Ctx<'_>, read: &[crate::source::FileId]) -> bool {
    ctx.index.docs.iter().any(|d| {
        d.role == Role::KustomizeConfig
            && read.contains(&d.file)
            && (d.root.get("configurations").is_some() || d.root.get("crds").is_some())
    })
}

/// Whether an object other than a generator's output could be the one named: a Secret or
/// ConfigMap of that name, or any object of that name whose kind
/// makes Secrets (ExternalSecret, SealedSecret, …) or whose `spec.target.name` is the name.
fn made_elsewhere(ctx: &Ctx<'_>, kind: Kind, ns: Option<&str>, name: &str, near: u32) -> bool {
    let index = ctx.index;
    // Generated names carry their hash, so any object found under the bare name is another.
    if ns.is_some_and(|ns| !index.find(kind, ns, name, near).is_empty()) {
        return true;
    }
    index.docs.iter().any(|d| {
        let Some(h) = d.header.as_ref() else { return false };
        if h.kind == kind || h.group.is_empty() {
            return false;
        }
        let named = h.name.as_ref().and_then(|n| n.known()) == Some(name);
        let target = d.root.at(&["spec", "target", "name"]).and_then(Node::as_str) == Some(name);
        target || (named && h.kind_name.contains(if kind == Kind::Secret { "Secret" } else { "ConfigMap" }))
    })
}

//! CNPG213: a Secret or ConfigMap that a Cluster or ObjectStore names lacks the keys it is read
//! for, or a basic-auth Secret's username is not the role it sets the password of. Only objects
//! whose keys the repository shows are judged: a plain or SOPS-encrypted Secret (SOPS leaves
//! key names in clear), a generated one, an ExternalSecret without `dataFrom` or a template, a
//! SealedSecret without a template.

use std::collections::HashMap;

use compact_str::CompactString;

use crate::index::{Index, InstId};
use crate::model::refs::{references, Holds, Ref};
use crate::model::{DocId, Kind};
use crate::render::generate::base64_decode;
use crate::rules::engine::Ctx;
use crate::rules::support::code_list;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG213",
    name: "wrong-secret-keys",
    severity: Severity::Error,
    summary: "A Secret or ConfigMap a Cluster or ObjectStore names lacks the key it is read for, or its username is not the role it is for.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// What one object that makes the named Secret or ConfigMap shows of it.
struct Seen {
    doc: DocId,
    /// Its keys, with the value when it is readable (plain `stringData`, decodable `data`).
    keys: Vec<(String, Option<String>)>,
}

impl Seen {
    fn has(&self, key: &str) -> bool {
        self.keys.iter().any(|(k, _)| k == key)
    }
    fn value(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
    }
}

/// Objects other than Secrets that make a Secret, by namespace and the name of what they make.
type Makers = HashMap<(CompactString, CompactString), Vec<InstId>>;

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let makers = secret_makers(index);
    for kind in [Kind::Cluster, Kind::ObjectStore] {
        for (inst, i, doc) in index.instances_of(kind) {
            if i.owner.is_none() && crate::rules::support::is_demo_path(index, i.doc) {
                continue;
            }
            let Some(ns) = index.namespace(inst) else { continue };
            // A replica reads no basic-auth Secret until it is promoted (`IsReplica` gates
            // every reader in CNPG v1.30.0); its object store credentials it does read.
            let replica = kind == Kind::Cluster
                && crate::model::cnpg::Cluster(&doc.root).is_replica() != Some(false);
            for r in references(kind, &doc.root) {
                if r.holds == Holds::Other
                    || (replica && matches!(r.holds, Holds::BasicAuth { .. }))
                {
                    continue;
                }
                let Some(name) = r.name() else { continue };
                let Some(seen) = visible(index, &makers, r.kind, ns, name, inst) else {
                    continue;
                };
                judge(ctx, i.doc, inst, &r, name, &seen);
            }
        }
    }
}

fn judge(ctx: &mut Ctx<'_>, doc: DocId, inst: InstId, r: &Ref<'_>, name: &str, seen: &[Seen]) {
    let what = if r.kind == Kind::Secret { "Secret" } else { "ConfigMap" };
    let mut keys: Vec<&str> = seen
        .iter()
        .flat_map(|s| s.keys.iter().map(|(k, _)| k.as_str()))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let has_keys = if keys.is_empty() {
        "it has no keys".to_string()
    } else {
        format!("its keys: {}", code_list(&keys))
    };
    let related = |f: &mut crate::rules::Finding| {
        for s in seen {
            f.related(Loc::path(s.doc, &["metadata", "name"]), format!("{what} `{name}`"));
        }
    };
    match &r.holds {
        Holds::BasicAuth { role } => {
            let missing: Vec<&str> = ["username", "password"]
                .into_iter()
                .filter(|k| !seen.iter().any(|s| s.has(k)))
                .collect();
            if !missing.is_empty() {
                let f = ctx
                    .report(
                        Loc::value(doc, r.name),
                        format!(
                            "`{}` names the Secret `{name}`, which has no {} key ({has_keys}): \
                             the instance manager reads a password only from a Secret with both \
                             `username` and `password`, and fails with \"{} key doesn't exist \
                             inside the secret\"",
                            r.field,
                            code_list(&missing).replace(", ", " or "),
                            missing[0],
                        ),
                    )
                    .object(inst)
                    .help(
                        "Give the Secret `username` and `password` keys (type \
                         kubernetes.io/basic-auth), or fix the key names where it is made.",
                    );
                related(f);
                return;
            }
            let Some(role) = role else { return };
            let names: Option<Vec<&str>> = seen.iter().map(|s| s.value("username")).collect();
            let Some(names) = names else { return };
            // `getPassword` trims both sides for managed roles; `reconcileUser` compares the
            // application owner and `postgres` exactly.
            let managed = r.field.starts_with("spec.managed.roles");
            if names
                .iter()
                .any(|u| if managed { u.trim() == role.trim() } else { u == role })
            {
                return;
            }
            let Some(user) = names.first() else { return };
            // The two checks' own errors: `getPassword` (managed roles) and `reconcileUser`.
            let error = if managed {
                format!("the username in secret \"{name}\" does not match role \"{role}\"")
            } else {
                format!("wrong username '{user}' in secret, expected '{role}'")
            };
            let f = ctx
                .report(
                    Loc::value(doc, r.name),
                    format!(
                        "`{}` names the Secret `{name}`, whose username is `{user}`, but it sets \
                         the password of the role `{role}`: the instance manager refuses it \
                         (\"{error}\") and the password is never set",
                        r.field,
                    ),
                )
                .object(inst)
                .help(format!(
                    "Set the Secret's `username` to `{role}`, or point `{}` at the Secret of \
                     that role.",
                    r.field
                ));
            related(f);
        }
        Holds::Key(key_node) => {
            let Some(key) = crate::model::value::known_text(key_node) else { return };
            if seen.iter().any(|s| s.has(key)) {
                return;
            }
            let consequence = if r.field.contains("Credentials") {
                format!(
                    "barman-cloud fails with \"missing key {key}, inside secret {name}\", so WAL \
                     archiving and backups through this store fail"
                )
            } else if r.field.contains("endpointCA") {
                "the CA bundle cannot be read, so WAL archiving and backups through this store \
                 fail"
                    .to_string()
            } else if r.field.starts_with("spec.monitoring") {
                "the instance manager logs \"Missing key in configMap/secret\" and loads none of \
                 these custom queries"
                    .to_string()
            } else {
                "CloudNativePG cannot read the value it needs from it".to_string()
            };
            let f = ctx
                .report(
                    Loc::value(doc, key_node),
                    format!(
                        "`{}` names the key `{key}` of the {what} `{name}`, which has no such key \
                         ({has_keys}): {consequence}",
                        r.field.trim_end_matches(".name"),
                    ),
                )
                .object(inst)
                .help(format!(
                    "Use one of the {what}'s keys, or add `{key}` where the {what} is made."
                ));
            related(f);
        }
        Holds::Other => {}
    }
}

/// What the repository shows of the Secret or ConfigMap `name` in `ns` that `near` would read:
/// every object that makes it, each with its keys. `None` when nothing visible makes it, or
/// when anything that might make it hides its keys.
fn visible(
    index: &Index,
    makers: &Makers,
    kind: Kind,
    ns: &str,
    name: &str,
    near: InstId,
) -> Option<Vec<Seen>> {
    let mut out = Vec::new();
    for c in index.find(kind, ns, name, near) {
        let d = index.instance(c)?.doc;
        out.push(data_keys(index.doc(d)?, d)?);
    }
    if kind == Kind::Secret {
        let key = (CompactString::from(ns), CompactString::from(name));
        for &m in makers.get(&key).map(Vec::as_slice).unwrap_or(&[]) {
            if !index.paired(near, m) {
                continue;
            }
            let d = index.instance(m)?.doc;
            out.push(maker_keys(index.doc(d)?, d)?);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Annotation prefixes that no controller fills a Secret's data from. Any other annotation may
/// belong to one (mittwald's secret-generator `autogenerate: password`, reflector, kubed,
/// replicator), so a Secret that has one shows keys that may not be all it will hold.
const INERT_ANNOTATIONS: &[&str] = &[
    "kustomize.toolkit.fluxcd.io/",
    "config.kubernetes.io/",
    "kubectl.kubernetes.io/",
    "kubernetes.io/",
    "meta.helm.sh/",
    "helm.sh/",
    "argocd.argoproj.io/",
    "cnpg.io/",
];

/// The keys of a Secret or ConfigMap, with the readable values. `None` when something else may
/// fill it: it has no data at all, or an annotation that is not known to be inert.
fn data_keys(doc: &crate::model::Doc, d: DocId) -> Option<Seen> {
    let root = &doc.root;
    let annotated = root
        .at(&["metadata", "annotations"])
        .and_then(Node::as_map)
        .unwrap_or(&[])
        .iter()
        .any(|e| {
            !e.key
                .as_str()
                .is_some_and(|k| INERT_ANNOTATIONS.iter().any(|p| k.starts_with(p)))
        });
    if annotated {
        return None;
    }
    let sops = root.get("sops").is_some();
    let mut keys = Vec::new();
    for (field, encoded) in [("data", true), ("stringData", false), ("binaryData", true)] {
        for e in root.get(field).and_then(Node::as_map).unwrap_or(&[]) {
            let k = e.key.as_str()?;
            let value = e.value.as_str().filter(|_| !sops).and_then(|v| {
                if crate::model::value::has_placeholder(v) {
                    None
                } else if encoded {
                    String::from_utf8(base64_decode(v.trim())?).ok()
                } else {
                    Some(v.to_string())
                }
            });
            keys.push((k.to_string(), value));
        }
    }
    (!keys.is_empty()).then_some(Seen { doc: d, keys })
}

/// The keys of an ExternalSecret or SealedSecret's Secret. `None` for any other maker, and for
/// those whose keys a template or `dataFrom` decides.
fn maker_keys(doc: &crate::model::Doc, d: DocId) -> Option<Seen> {
    let h = doc.header.as_ref()?;
    let spec = doc.root.get("spec")?;
    let keys: Vec<(String, Option<String>)> = match (h.group.as_str(), h.kind_name.as_str()) {
        ("external-secrets.io", "ExternalSecret") => {
            // `Merge` and `None` add to a Secret made elsewhere, whose other keys are unseen.
            let creates = spec
                .at(&["target", "creationPolicy"])
                .and_then(Node::as_str)
                .is_none_or(|p| p == "Owner" || p == "Orphan");
            if !creates
                || spec.get("dataFrom").is_some()
                || spec.at(&["target", "template"]).is_some()
            {
                return None;
            }
            spec.get("data")
                .and_then(Node::as_seq)?
                .iter()
                .map(|e| Some((e.get("secretKey")?.as_str()?.to_string(), None)))
                .collect::<Option<_>>()?
        }
        ("bitnami.com", "SealedSecret") => {
            if spec.at(&["template", "data"]).is_some() {
                return None;
            }
            spec.get("encryptedData")
                .and_then(Node::as_map)?
                .iter()
                .map(|e| Some((e.key.as_str()?.to_string(), None)))
                .collect::<Option<_>>()?
        }
        _ => return None,
    };
    (!keys.is_empty()).then_some(Seen { doc: d, keys })
}

/// Every deployed object other than a Secret that makes a Secret: by the name it makes
/// (`spec.target.name`, else its own), for the kinds [`maker_keys`] reads and for any whose
/// kind or target says it makes Secrets (so that their Secrets count as hidden, not missing).
fn secret_makers(index: &Index) -> Makers {
    let mut out = Makers::new();
    for (inst, _, doc) in index.instances_of(Kind::Other) {
        let Some(h) = doc.header.as_ref() else { continue };
        let target = doc.root.at(&["spec", "target", "name"]).and_then(Node::as_str);
        if target.is_none() && !h.kind_name.contains("Secret") {
            continue;
        }
        let Some(name) = target.or_else(|| h.name.as_ref().and_then(|n| n.known())) else {
            continue;
        };
        let Some(ns) = index.namespace(inst) else { continue };
        out.entry((ns.into(), name.into())).or_default().push(inst);
    }
    out
}

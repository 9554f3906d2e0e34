//! CNPG215: a Cluster that bootstraps by `recovery` or `pg_basebackup` from a Cluster of the
//! repository that runs another PostgreSQL major. Both are physical copies of the data
//! directory, which only the same major can start.

use std::collections::BTreeMap;

use crate::index::{Index, InstId};
use crate::model::value::known_text;
use crate::model::Kind;
use crate::rules::engine::Ctx;
use crate::rules::support::{self, is_demo_path, Location};
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG215",
    name: "recovery-across-majors",
    severity: Severity::Error,
    summary: "A Cluster recovers or clones from a Cluster of the repository that runs another PostgreSQL major, which a physical copy cannot cross.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// A Cluster's PostgreSQL major, and the node it is read from: the `imageCatalogRef.major`, or
/// the leading number of the `imageName` tag (`17.6-system-trixie`, `16`). `None` when neither
/// says (the operator's default image is not this tool's to know).
fn major(root: &Node) -> Option<(u32, &Node)> {
    let spec = root.get("spec")?;
    if let Some(m) = spec.at(&["imageCatalogRef", "major"]) {
        return Some((m.as_scalar()?.as_i64()?.try_into().ok()?, m));
    }
    let node = spec.get("imageName")?;
    let image = known_text(node)?;
    let image = image.split('@').next()?;
    // The tag follows the last `:` after the last `/` (a registry port is not a tag).
    let last = image.rsplit('/').next()?;
    let tag = last.split_once(':')?.1;
    let digits: String = tag.chars().take_while(char::is_ascii_digit).collect();
    let rest = &tag[digits.len()..];
    if digits.is_empty() || !(rest.is_empty() || rest.starts_with('.') || rest.starts_with('-')) {
        return None;
    }
    let m: u32 = digits.parse().ok()?;
    // PostgreSQL majors that CloudNativePG runs; anything else is not a PostgreSQL version.
    (10..=40).contains(&m).then_some((m, node))
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // Where each Cluster archives, to find the Cluster a recovery source reads.
    let mut archived: BTreeMap<Location, Vec<InstId>> = BTreeMap::new();
    for (inst, _, _) in index.instances_of(Kind::Cluster) {
        for t in support::archive_targets(index, inst) {
            if let Some(l) = Location::of(&t) {
                archived.entry(l).or_default().push(inst);
            }
        }
    }
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        if i.owner.is_none() && is_demo_path(index, i.doc) {
            continue;
        }
        let Some((own, own_node)) = major(&doc.root) else { continue };
        for method in ["recovery", "pg_basebackup"] {
            let Some(source_node) = doc.root.at(&["spec", "bootstrap", method, "source"]) else {
                continue;
            };
            let Some(source) = known_text(source_node) else { continue };
            // A recovery target may pick a base backup from before the source's own major
            // upgrade: its archive then holds both majors.
            if method == "recovery"
                && doc.root.at(&["spec", "bootstrap", "recovery", "recoveryTarget"]).is_some()
            {
                continue;
            }
            let origins = if method == "recovery" {
                recovered_from(index, inst, source, &archived)
            } else {
                cloned_from(index, inst, &doc.root, source)
            };
            // Every Cluster the source can be must run the other major: when the archive is
            // shared or the host is ambiguous, one of them may be the right one.
            let majors: Option<Vec<(InstId, u32)>> = origins
                .iter()
                .filter(|&&o| o != inst)
                .map(|&o| {
                    let d = index.doc(index.instance(o)?.doc)?;
                    Some((o, major(&d.root)?.0))
                })
                .collect();
            let Some(majors) = majors else { continue };
            let Some(&(origin, theirs)) = majors.first() else { continue };
            if majors.iter().any(|&(_, m)| m == own) {
                continue;
            }
            let how = if method == "recovery" {
                "restores its base backup and replays its WAL"
            } else {
                "copies its data directory with pg_basebackup"
            };
            let origin_label = support::cluster_label(index, origin);
            let f = ctx
                .report(
                    Loc::value(i.doc, source_node),
                    format!(
                        "`bootstrap.{method}.source` `{source}` is {origin_label}, which runs \
                         PostgreSQL {theirs}, but this Cluster runs PostgreSQL {own}: the \
                         bootstrap {how}, a physical copy that only PostgreSQL {theirs} can \
                         start, so the new instance never starts"
                    ),
                )
                .object(inst)
                .help(if theirs < own {
                    format!(
                        "Bootstrap with the source's major ({theirs}) and upgrade afterwards by \
                         changing the image (CloudNativePG runs pg_upgrade), or use \
                         `bootstrap.initdb.import`, a logical import, which crosses majors."
                    )
                } else {
                    format!(
                        "Run this Cluster on the source's major ({theirs}): a major cannot be \
                         downgraded. Or use `bootstrap.initdb.import`, a logical import."
                    )
                });
            f.related(Loc::value(i.doc, own_node), format!("PostgreSQL {own} here"));
            if let Some(d) = index.instance(origin).map(|o| o.doc) {
                if let Some(doc) = index.doc(d) {
                    if let Some((_, n)) = major(&doc.root) {
                        f.related(Loc::value(d, n), format!("PostgreSQL {theirs} here"));
                    }
                }
            }
        }
    }
}

/// The Clusters whose archive the external cluster `source` reads.
fn recovered_from(
    index: &Index,
    inst: InstId,
    source: &str,
    archived: &BTreeMap<Location, Vec<InstId>>,
) -> Vec<InstId> {
    support::used_sources(index, inst)
        .iter()
        .filter(|t| t.entry_name == Some(source))
        .filter_map(Location::of)
        .flat_map(|l| archived.get(&l).cloned().unwrap_or_default())
        .collect()
}

/// The Clusters the external cluster `source` connects to: its `host` is a CloudNativePG
/// service, `<cluster>-rw`, `-ro` or `-r`, optionally followed by the namespace.
fn cloned_from(index: &Index, inst: InstId, root: &Node, source: &str) -> Vec<InstId> {
    let entry = root
        .at(&["spec", "externalClusters"])
        .and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .find(|e| e.get("name").and_then(known_text) == Some(source));
    let Some(host) = entry
        .and_then(|e| e.at(&["connectionParameters", "host"]))
        .and_then(known_text)
    else {
        return Vec::new();
    };
    let mut parts = host.split('.');
    let Some(service) = parts.next() else { return Vec::new() };
    let ns = parts
        .next()
        .or_else(|| index.namespace(inst))
        .unwrap_or_default();
    let Some(cluster) = ["-rw", "-ro", "-r"]
        .iter()
        .find_map(|s| service.strip_suffix(s))
    else {
        return Vec::new();
    };
    index.find(Kind::Cluster, ns, cluster, inst)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn major_of(image: &str) -> Option<u32> {
        let text = format!("spec:\n  imageName: {image}\n");
        let root = crate::yaml::load_in(0, &text, None).docs.remove(0).root;
        major(&root).map(|(m, _)| m)
    }

    #[test]
    fn reads_the_major_from_the_tag() {
        assert_eq!(major_of("ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie"), Some(17));
        assert_eq!(major_of("ghcr.io/cloudnative-pg/postgis:16-3.4"), Some(16));
        assert_eq!(major_of("registry:5000/pg:15.2@sha256:abc"), Some(15));
        assert_eq!(major_of("ghcr.io/cloudnative-pg/postgresql"), None);
        assert_eq!(major_of("ghcr.io/x/timescaledb:2.14.2-pg16"), None);
        assert_eq!(major_of("ghcr.io/x/y:latest"), None);
    }
}

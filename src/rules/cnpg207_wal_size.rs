//! CNPG207: WAL sizes the webhook rejects.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::{At, Cluster};
use crate::model::quantity::{k8s_quantity, pg_size};
use crate::model::value::known_text;
use crate::model::{Kind, Val};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG207",
    name: "wal-size",
    severity: Severity::Error,
    summary: "min_wal_size is not below max_wal_size, or a WAL size does not fit walStorage.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

const MIN_DEFAULT: &str = "80MB";
const MAX_DEFAULT: &str = "1GB";

/// A volume's size: `size`, else the PVC template's storage request.
fn volume_size(volume: &Node) -> Option<(f64, &Node)> {
    let node = volume
        .get("size")
        .filter(|n| !n.is_null())
        .or_else(|| volume.at(&["pvcTemplate", "resources", "requests", "storage"]))?;
    Some((k8s_quantity(known_text(node)?)?, node))
}

/// An explicitly set WAL parameter: `None` when absent or empty; `Some(None)` when it is a
/// placeholder or does not parse (nothing can be said).
fn explicit<'a>(p: Option<At<'a, Val<'a>>>) -> Option<Option<(f64, &'a str, &'a Node)>> {
    let p = p?;
    match p.value {
        Val::Known("") => None,
        Val::Known(s) => Some(pg_size(s).map(|b| (b, s, p.node))),
        Val::Unknown => Some(None),
    }
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let min = explicit(cluster.parameter("min_wal_size"));
        let max = explicit(cluster.parameter("max_wal_size"));
        if matches!(min, Some(None)) || matches!(max, Some(None)) {
            continue;
        }
        let (min, max) = (min.flatten(), max.flatten());
        let min_eff = min.map_or((pg_size(MIN_DEFAULT).unwrap_or(0.0), MIN_DEFAULT), |(b, s, _)| (b, s));
        let max_eff = max.map_or((pg_size(MAX_DEFAULT).unwrap_or(0.0), MAX_DEFAULT), |(b, s, _)| (b, s));
        if (min.is_some() || max.is_some()) && min_eff.0 >= max_eff.0 {
            let node = min.or(max).map(|(_, _, n)| n);
            if let Some(node) = node {
                ctx.report(
                    Loc::value(i.doc, node),
                    format!(
                        "min_wal_size ({}) must be smaller than max_wal_size ({}{}); the Cluster \
                         webhook rejects it",
                        min_eff.1,
                        max_eff.1,
                        if max.is_none() { ", the default" } else { "" }
                    ),
                )
                .object(inst)
                .help("Keep min_wal_size below max_wal_size (the defaults are 80MB and 1GB).");
            }
        }
        let wal_storage = doc.root.at(&["spec", "walStorage"]).filter(|n| n.as_map().is_some());
        // Without walStorage, WAL shares the data volume. How much room it needs depends on
        // archiving and replication lag, which no manifest shows: judged on the corpus, a
        // "too small" data volume was a deliberate demo size every time, so it is not reported.
        if let Some(wal) = wal_storage {
            let Some((wal_bytes, wal_node)) = volume_size(wal) else { continue };
            for (key, value) in [("min_wal_size", min), ("max_wal_size", max)] {
                let Some((bytes, text, node)) = value else { continue };
                if bytes < wal_bytes {
                    continue;
                }
                ctx.report(
                    Loc::value(i.doc, node),
                    format!(
                        "{key} ({text}) is not smaller than the WAL volume ({}): the Cluster \
                         webhook rejects it, and PostgreSQL would fill the volume before \
                         recycling WAL",
                        known_text(wal_node).unwrap_or("")
                    ),
                )
                .object(inst)
                .help("Make walStorage.size larger than max_wal_size, with room for WAL waiting to be archived.")
                .related(Loc::value(i.doc, wal_node), "walStorage size");
            }
        }
    }
}

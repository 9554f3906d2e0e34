//! CNPG216: the read-write Poolers of a Cluster may open more server connections to its primary
//! than PostgreSQL accepts from them. Each PgBouncer instance opens up to `default_pool_size`
//! (plus `reserve_pool_size`) connections per database and user pair, so even one pair per
//! Pooler gives a lower bound.

use crate::index::InstId;
use crate::model::value::{has_placeholder, known_text};
use crate::model::{DocId, Kind};
use crate::rules::engine::Ctx;
use crate::rules::support::is_demo_path;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG216",
    name: "pooler-exceeds-max-connections",
    severity: Severity::Warning,
    summary: "A Cluster's read-write transaction-mode Poolers may open more connections to its primary than its max_connections leaves for them.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// PgBouncer's defaults (`pgbouncer.ini` reference), which CloudNativePG does not change
/// (`defaultPgBouncerParameters` in CNPG v1.30.0 `pkg/management/pgbouncer/config/config.go`).
const DEFAULT_POOL_SIZE: i64 = 20;
/// PostgreSQL's defaults; CloudNativePG sets neither.
const DEFAULT_MAX_CONNECTIONS: i64 = 100;
const DEFAULT_SUPERUSER_RESERVED: i64 = 3;

/// A parameter: `Some(None)` when absent (the default applies), `None` when unreadable.
fn param<'a>(params: Option<&'a Node>, key: &str) -> Option<Option<(i64, &'a Node)>> {
    let Some(n) = params.and_then(|p| p.get(key)) else {
        return Some(None);
    };
    let text = n.as_str()?;
    if has_placeholder(text) {
        return None;
    }
    Some(Some((text.trim().parse().ok()?, n)))
}

/// One Pooler's share: at least this many connections to the primary.
struct Share<'a> {
    inst: InstId,
    doc: DocId,
    instances: i64,
    per_instance: i64,
    /// Where to point: `default_pool_size` when written, else `instances`, else the name.
    at: &'a Node,
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (cluster, ci, cdoc) in index.instances_of(Kind::Cluster) {
        if ci.owner.is_none() && is_demo_path(index, ci.doc) {
            continue;
        }
        let (Some(ns), Some(name)) = (index.namespace(cluster), index.name(cluster)) else {
            continue;
        };
        let params = cdoc.root.at(&["spec", "postgresql", "parameters"]);
        let (Some(max), Some(reserved), Some(reserved_other)) = (
            param(params, "max_connections"),
            param(params, "superuser_reserved_connections"),
            param(params, "reserved_connections"),
        ) else {
            continue;
        };
        let max_connections = max.map_or(DEFAULT_MAX_CONNECTIONS, |(v, _)| v);
        let reserved = reserved.map_or(DEFAULT_SUPERUSER_RESERVED, |(v, _)| v)
            + reserved_other.map_or(0, |(v, _)| v);
        let available = max_connections - reserved;
        let mut shares: Vec<Share<'_>> = Vec::new();
        let mut unknown = false;
        for (p, pi, pdoc) in index.instances_of(Kind::Pooler) {
            if index.namespace(p) != Some(ns) || !index.paired(cluster, p) {
                continue;
            }
            let spec = pdoc.root.get("spec");
            if spec.and_then(|s| s.at(&["cluster", "name"])).and_then(known_text) != Some(name) {
                continue;
            }
            // `ro` and `r` Poolers spread over the replicas (or any instance).
            if spec
                .and_then(|s| s.get("type"))
                .and_then(Node::as_str)
                .is_some_and(|t| t != "rw")
            {
                continue;
            }
            // In session mode (CloudNativePG's default) each client session holds one server
            // connection, so the clients, not the pool size, decide how many are open; in
            // transaction and statement mode the pools are what fills under load.
            let mode = spec.and_then(|s| s.at(&["pgbouncer", "poolMode"]));
            match mode.map(Node::as_str) {
                Some(Some("transaction" | "statement")) => {}
                None | Some(Some("session")) => continue,
                Some(_) => {
                    unknown = true;
                    continue;
                }
            }
            match share(p, pi.doc, &pdoc.root) {
                Some(s) => shares.push(s),
                None => unknown = true,
            }
        }
        if unknown || shares.is_empty() {
            continue;
        }
        let total: i64 = shares.iter().map(|s| s.instances * s.per_instance).sum();
        if total <= available {
            continue;
        }
        let parts: Vec<String> = shares
            .iter()
            .map(|s| {
                format!(
                    "`{}` {} × {}",
                    index.name(s.inst).unwrap_or("?"),
                    s.instances,
                    s.per_instance
                )
            })
            .collect();
        let max_text = match max {
            Some((v, _)) => format!("max_connections {v}"),
            None => format!("the default max_connections {DEFAULT_MAX_CONNECTIONS}"),
        };
        let Some(first) = shares.first() else { continue };
        let f = ctx
            .report(
                Loc::value(first.doc, first.at),
                format!(
                    "the read-write transaction-mode Poolers of Cluster `{ns}/{name}` can open {total} \
                     connections to its primary with a single database and user each ({}: \
                     instances × pool size), but {max_text} less {reserved} reserved leaves \
                     {available}: under load, PostgreSQL refuses further connections with \
                     \"sorry, too many clients already\" to every client but a superuser",
                    parts.join(", ")
                ),
            )
            .object(first.inst);
        f.help(
            "Lower `default_pool_size` (and `reserve_pool_size`) or the Pooler instances, cap \
             each database with `max_db_connections`, or raise the Cluster's max_connections.",
        );
        if let Some((_, n)) = max {
            f.related(Loc::value(ci.doc, n), "max_connections here");
        }
        for s in shares.iter().skip(1) {
            f.related(Loc::value(s.doc, s.at), "another read-write Pooler of the Cluster");
        }
    }
}

/// A Pooler's connections per instance (pool plus reserve, capped by `max_db_connections`),
/// and its instances. `None` when a number cannot be read.
fn share(inst: InstId, doc: DocId, root: &Node) -> Option<Share<'_>> {
    let spec = root.get("spec")?;
    let params = spec.at(&["pgbouncer", "parameters"]);
    let pool = param(params, "default_pool_size")?;
    let reserve = param(params, "reserve_pool_size")?;
    let cap = param(params, "max_db_connections")?;
    let mut per_instance =
        pool.map_or(DEFAULT_POOL_SIZE, |(v, _)| v) + reserve.map_or(0, |(v, _)| v);
    // 0 means no cap.
    if let Some((c, _)) = cap.filter(|(c, _)| *c > 0) {
        per_instance = per_instance.min(c);
    }
    let (instances, instances_node) = match spec.get("instances") {
        None => (1, None),
        Some(n) => (n.as_scalar()?.as_i64()?, Some(n)),
    };
    let at = pool
        .map(|(_, n)| n)
        .or(instances_node)
        .or_else(|| root.at(&["metadata", "name"]))?;
    Some(Share {
        inst,
        doc,
        instances,
        per_instance,
        at,
    })
}

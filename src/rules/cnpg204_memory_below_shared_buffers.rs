//! CNPG204: resource requests the Cluster webhook rejects: memory below `shared_buffers`, and
//! any request above its limit.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::quantity::{k8s_quantity, pg_size, show_bytes};
use crate::model::value::known_text;
use crate::model::Kind;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG204",
    name: "memory-below-shared-buffers",
    severity: Severity::Error,
    summary: "The memory request is below shared_buffers, or a resource request is above its limit.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// A known, parseable quantity under `spec.resources.<section>.<name>`.
fn quantity<'a>(resources: &'a Node, section: &str, name: &str) -> Option<(f64, &'a Node)> {
    let node = resources.at(&[section, name])?;
    let q = k8s_quantity(known_text(node)?)?;
    Some((q, node))
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let Some(resources) = doc.root.at(&["spec", "resources"]) else { continue };
        // Request above limit: checked only when both are set and non-zero (validateResources).
        for (name, what) in [
            ("cpu", "CPU"),
            ("memory", "memory"),
            ("ephemeral-storage", "ephemeral storage"),
        ] {
            let (Some((req, req_node)), Some((lim, lim_node))) = (
                quantity(resources, "requests", name),
                quantity(resources, "limits", name),
            ) else {
                continue;
            };
            if req == 0.0 || lim == 0.0 || req <= lim {
                continue;
            }
            ctx.report(
                Loc::value(i.doc, req_node),
                format!(
                    "the {what} request ({}) is greater than its limit ({}); the Cluster webhook \
                     rejects it (\"{} request is greater than the limit\")",
                    known_text(req_node).unwrap_or(""),
                    known_text(lim_node).unwrap_or(""),
                    if name == "cpu" { "CPU" } else if name == "memory" { "Memory" } else { "Ephemeral storage" },
                ),
            )
            .object(inst)
            .help("Lower the request or raise the limit, so that the request is at most the limit.")
            .related(Loc::value(i.doc, lim_node), "limit");
        }
        // Memory request below shared_buffers (hasEnoughMemoryForSharedBuffers): only the
        // request counts, and hugepages at least as large as shared_buffers excuse it.
        let Some(sb) = cluster.parameter("shared_buffers") else { continue };
        let Some(sb_text) = sb.value.known() else { continue };
        let Some(sb_bytes) = pg_size(sb_text) else { continue };
        let Some((mem, mem_node)) = quantity(resources, "requests", "memory") else { continue };
        if mem == 0.0 || sb_bytes <= mem {
            continue;
        }
        let hugepages_cover = ["limits", "requests"].iter().any(|section| {
            resources
                .get(section)
                .and_then(Node::as_map)
                .unwrap_or(&[])
                .iter()
                .filter(|e| e.key.as_str().is_some_and(|k| k.starts_with("hugepages-")))
                .any(|e| known_text(&e.value).and_then(k8s_quantity).is_some_and(|q| q >= sb_bytes))
        });
        if hugepages_cover {
            continue;
        }
        ctx.report(
            Loc::value(i.doc, mem_node),
            format!(
                "the memory request ({}, {}) is lower than shared_buffers ({sb_text}, {}); the \
                 Cluster webhook rejects it (\"Memory request is lower than PostgreSQL \
                 `shared_buffers` value\"), and PostgreSQL would not fit in the memory it asks for",
                known_text(mem_node).unwrap_or(""),
                show_bytes(mem),
                show_bytes(sb_bytes),
            ),
        )
        .object(inst)
        .help(
            "Request at least shared_buffers plus room for connections and work_mem (shared_buffers \
             is commonly about a quarter of the request). Note Kubernetes `G` is 10^9 bytes while \
             PostgreSQL `GB` is 2^30.",
        )
        .related(Loc::value(i.doc, sb.node), "shared_buffers");
    }
}

//! CNPG114: `cnpg.io/skipEmptyWalArchiveCheck: enabled` where nothing recovers from the archive.

use super::support::{self, Purpose, Target};
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG114",
    name: "needless-skip-wal-archive-check",
    severity: Severity::Warning,
    summary: "skipEmptyWalArchiveCheck is enabled on a Cluster that does not recover from its own archive.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub const ANNOTATION: &str = "cnpg.io/skipEmptyWalArchiveCheck";

/// `<destinationPath>/<serverName>` when both are known.
pub fn location(t: &Target<'_>) -> Option<String> {
    let dest = t.destination_path()?.value.known()?;
    let server = t.server_name.known()?;
    Some(format!("{}/{server}", dest.trim_end_matches('/')))
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i) in index.instances.iter().enumerate() {
        let inst = inst as u32;
        let Some(doc) = index.doc(i.doc) else { continue };
        let Some(node) = doc.root.at(&["metadata", "annotations", ANNOTATION]) else {
            continue;
        };
        if !node.as_str().is_some_and(|v| v.eq_ignore_ascii_case("enabled")) {
            continue;
        }
        if doc.kind() != Kind::Cluster {
            let kind = doc.header.as_ref().map_or("object", |h| h.kind_name.as_str());
            ctx.report(
                Loc::value(i.doc, node),
                format!("`{ANNOTATION}` does nothing on a {kind}; CNPG reads it only on Cluster objects"),
            )
            .object(inst)
            .help("Move the annotation to the Cluster, or remove it.");
            continue;
        }
        // Only barman archivers (in-tree, or the barman-cloud plugin) run the empty-archive
        // check; with another archiver (pgBackRest) or none, the annotation changes nothing.
        let cluster = crate::model::cnpg::Cluster(&doc.root);
        if cluster.in_tree_store().is_none() && cluster.barman_plugins().next().is_none() {
            continue;
        }
        let archives = support::archive_targets(index, inst);
        // Only the entries the Cluster reads: an unused entry that points at its own archive
        // restores nothing, so it cannot justify skipping the check.
        let sources = support::used_sources(index, inst);
        let archive_locs: Vec<Option<String>> = archives.iter().map(location).collect();
        let source_locs: Vec<Option<String>> =
            sources.iter().filter(|t| t.purpose == Purpose::Source).map(location).collect();
        // With no barman recovery source at all, nothing can be restored in place; otherwise
        // unknown locations might coincide, so stay silent.
        if !source_locs.is_empty() {
            if archive_locs.iter().chain(&source_locs).any(Option::is_none) {
                continue;
            }
            if archive_locs.iter().any(|a| source_locs.contains(a)) {
                continue;
            }
        }
        let name = support::cluster_label(index, inst);
        ctx.report(
            Loc::value(i.doc, node),
            format!(
                "`{ANNOTATION}: enabled` on {name}, which does not recover from the \
                 location it archives to: the check it disables is what stops a new cluster from \
                 writing its WAL over an existing archive (another cluster's, or this one's \
                 previous incarnation)"
            ),
        )
        .object(inst)
        .help(
            "Remove the annotation. It is only for a cluster restored in place from its own \
             archive; a new cluster should archive under a new serverName instead.",
        );
    }
}

//! CNPG105: two clusters archiving to one place, and a cluster archiving into the archive it
//! recovers or replicates from.

use std::collections::BTreeMap;

use super::support::{self, Location, Target};
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::index::{Index, InstId};
use crate::model::cnpg::Cluster;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG105",
    name: "archive-target-collision",
    severity: Severity::Error,
    summary: "Two clusters archive to the same <destinationPath>/<serverName>, or a cluster archives into its own recovery source.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

const SKIP_CHECK: &str = "cnpg.io/skipEmptyWalArchiveCheck";

/// Where a finding about a target points: its destinationPath (in the Cluster or ObjectStore).
fn target_loc(t: &Target<'_>) -> Option<Loc> {
    Some(Loc::value(t.config_doc, t.destination_path()?.node))
}

fn root_span(index: &Index, inst: InstId) -> Option<crate::source::Span> {
    Some(index.doc(index.instance(inst)?.doc)?.root.span)
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // Deployed clusters by archive location.
    let mut by_location: BTreeMap<Location, Vec<(InstId, Target<'_>)>> = BTreeMap::new();
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let archives = support::archive_targets(index, inst);
        if i.owner.is_some() {
            for t in &archives {
                if let Some(l) = Location::of(t) {
                    by_location.entry(l).or_default().push((inst, t.clone()));
                }
            }
        }
        // Restoring into the archive it reads from.
        let skip = Cluster(&doc.root)
            .annotation(SKIP_CHECK)
            .is_some_and(|a| matches!(a.value, Val::Known(v) if v.eq_ignore_ascii_case("enabled")));
        if skip {
            continue;
        }
        for source in support::used_sources(index, inst) {
            let Some(sl) = Location::of(&source) else { continue };
            for t in archives.iter().filter(|t| Location::of(t).as_ref() == Some(&sl)) {
                let (Some(at), Some(src_at)) = (target_loc(t), target_loc(&source)) else { continue };
                let name = support::cluster_label(index, inst);
                ctx.report(
                    at,
                    format!(
                        "{name} archives to `{}/`, the same place it {} from \
                         (externalClusters `{}`): CNPG's empty-archive check stops it (\"Expected \
                         empty archive\") and the cluster never finishes bootstrapping",
                        sl.path(),
                        if doc.root.at(&["spec", "replica", "source"]).is_some() { "replicates" } else { "recovers" },
                        source.entry_name.unwrap_or("")
                    ),
                )
                .object(inst)
                .help(
                    "Archive under a new serverName (for example with a -v2 suffix) and keep the old \
                     one as the recovery source. If restoring in place is deliberate, annotate the \
                     Cluster with cnpg.io/skipEmptyWalArchiveCheck: enabled.",
                )
                .related(src_at, "the recovery source's location");
            }
        }
    }
    for (loc, users) in &by_location {
        for (n, (inst, t)) in users.iter().enumerate().skip(1) {
            // One manifest rendered twice (two overlays, or applied twice, which is CNPG402's
            // finding) is one cluster as far as this file can tell.
            let Some((first, first_t)) = users[..n].iter().find(|(other, _)| {
                other != inst && root_span(index, *other) != root_span(index, *inst)
            }) else {
                continue;
            };
            let (Some(at), Some(first_at)) = (target_loc(t), target_loc(first_t)) else { continue };
            let name = support::cluster_label(index, *inst);
            let other = support::cluster_label(index, *first);
            ctx.report(
                at,
                format!(
                    "{other} and {name} both archive to `{}/`: their WAL files and \
                     base backups mix, each one's retention deletes the other's backups, and a \
                     restore replays a timeline that is not its own",
                    loc.path()
                ),
            )
            .object(*inst)
            .help("Give each cluster its own serverName (or destinationPath).")
            .related(first_at, format!("`{other}` archives here"));
        }
    }
}

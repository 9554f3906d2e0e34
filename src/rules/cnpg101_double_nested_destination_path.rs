//! CNPG101: a destinationPath that already ends in the serverName barman appends.
//!
//! One written destination is one finding. A writer (the archive) with a doubled path is a
//! warning: every reader that looks where it writes agrees with it, and the data is reachable,
//! only not where people and tools expect it. A reader whose doubled path is not where any
//! cluster in the repository writes, while a cluster writes at its un-doubled location, looks in
//! the wrong place: that is an error, since the restore finds nothing.

use std::collections::BTreeSet;

use super::support::{self, Location, Method, Purpose, ServerName, Target};
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::index::InstId;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG101",
    name: "double-nested-destination-path",
    severity: Severity::Error,
    summary: "A barman destinationPath ends in the serverName, so data lands in <path>/<name>/<name>/.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

/// A target whose destinationPath ends in its serverName: (written path, serverName, parent).
fn doubled<'a>(t: &Target<'a>) -> Option<(&'a str, &'a str, String)> {
    let Val::Known(dest) = t.destination_path()?.value else {
        return None;
    };
    let server = t.server_name.known()?;
    let segments = support::segments_after_bucket(dest)?;
    if segments.last() != Some(&server) {
        return None;
    }
    let base = dest.trim_end_matches('/');
    let parent = base.strip_suffix(server).unwrap_or(base).trim_end_matches('/');
    Some((dest, server, parent.to_string()))
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    let clusters: Vec<InstId> = index.instances_of(Kind::Cluster).map(|(i, _, _)| i).collect();
    // Where clusters in the repository write; a reader looking there agrees with a writer.
    let written: BTreeSet<Location> = clusters
        .iter()
        .flat_map(|&c| support::archive_targets(index, c))
        .filter_map(|t| Location::of(&t))
        .collect();
    for &inst in &clusters {
        let cluster = support::cluster_label(index, inst);
        for t in support::archive_targets(index, inst) {
            let Some((dest, server, parent)) = doubled(&t) else { continue };
            let base = dest.trim_end_matches('/');
            let message = format!(
                "destinationPath `{dest}` already ends in `{server}`, which barman appends as {}: \
                 {cluster} writes its WAL archive and base backups under `{base}/{server}/`, not \
                 `{base}/`",
                server_name_words(&t)
            );
            let help = format!(
                "Point destinationPath at the parent (`{parent}/`) and let barman add `{server}/`. \
                 Restores, replicas and people that look in `{parent}/` with serverName `{server}` \
                 find nothing today. The archive already written stays where it is: keep it as a \
                 recovery source until new base backups exist, or move it."
            );
            report(ctx, &t, inst, message, help, Severity::Warning);
        }
        for t in support::used_sources(index, inst) {
            let Some((dest, server, parent)) = doubled(&t) else { continue };
            let Some(here) = Location::of(&t) else { continue };
            // It reads where a writer writes: the writer's finding covers the destination.
            if written.contains(&here) {
                continue;
            }
            let undoubled = Location {
                dest: here
                    .dest
                    .strip_suffix(&format!("/{server}"))
                    .unwrap_or(&here.dest)
                    .to_string(),
                ..here.clone()
            };
            let entry = t.entry_name.unwrap_or("?");
            let base = dest.trim_end_matches('/');
            if written.contains(&undoubled) {
                let message = format!(
                    "externalClusters `{entry}` of {cluster} reads `{base}/{server}/` because \
                     destinationPath `{dest}` already ends in `{server}`, which barman appends as \
                     {}; a cluster in this repository archives to `{}/`, so the restore finds no \
                     backup",
                    server_name_words(&t),
                    undoubled.path()
                );
                let help = format!(
                    "Point destinationPath at `{parent}/` so that barman reads `{parent}/{server}/`."
                );
                report(ctx, &t, inst, message, help, Severity::Error);
            } else {
                let message = format!(
                    "externalClusters `{entry}` of {cluster} reads `{base}/{server}/`: \
                     destinationPath `{dest}` already ends in `{server}`, which barman appends as \
                     {}; unless the origin also archived with this doubled path, the restore finds \
                     no backup",
                    server_name_words(&t)
                );
                let help = format!(
                    "If the origin archives to `{parent}/` with serverName `{server}`, point \
                     destinationPath at `{parent}/`."
                );
                report(ctx, &t, inst, message, help, Severity::Warning);
            }
        }
    }
}

fn server_name_words(t: &Target<'_>) -> String {
    match &t.server_name {
        ServerName::Explicit { .. } => "its serverName".to_string(),
        ServerName::Default { reason, .. } => format!("its serverName ({reason})"),
    }
}

fn report(
    ctx: &mut Ctx<'_>,
    t: &Target<'_>,
    inst: InstId,
    message: String,
    help: String,
    severity: Severity,
) {
    let index = ctx.index;
    let Some(path) = t.destination_path() else { return };
    let object = t.store.unwrap_or(inst);
    let f = ctx.report(Loc::value(t.config_doc, path.node), message);
    f.object(object).severity(severity).help(help);
    match (&t.server_name, t.method) {
        (ServerName::Explicit { doc, node, .. }, _) => {
            f.related(Loc::value(*doc, node), "serverName set here");
        }
        (ServerName::Default { .. }, Method::Plugin) => {
            let cluster_doc = index.instance(inst).map(|i| i.doc);
            let name = t.plugin.and_then(|p| p.parameter("barmanObjectName"));
            if let (Some(doc), Some(name)) = (cluster_doc, name) {
                let what = match t.purpose {
                    Purpose::Archive => "the Cluster's name",
                    Purpose::Source => "the recovering Cluster's name",
                };
                f.related(
                    Loc::value(doc, name.node),
                    format!("the plugin uses this ObjectStore; serverName defaults to {what}"),
                );
            }
        }
        (ServerName::Default { .. }, Method::InTree) => {}
    }
}

//! CNPG101: a destinationPath that already ends in the serverName barman appends.

use super::support::{self, Method, Purpose, ServerName};
use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG101",
    name: "double-nested-destination-path",
    severity: Severity::Error,
    summary: "A barman destinationPath ends in the serverName, so data lands in <path>/<name>/<name>/.",
    on_by_default: true,
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, _, _) in index.instances_of(Kind::Cluster) {
        let targets = support::archive_targets(index, inst)
            .into_iter()
            .chain(support::source_targets(index, inst));
        for t in targets {
            let Some(path) = t.destination_path() else {
                continue;
            };
            let Val::Known(dest) = path.value else {
                continue;
            };
            let Some(server) = t.server_name.known() else {
                continue;
            };
            let Some(segments) = support::segments_after_bucket(dest) else {
                continue;
            };
            if segments.last() != Some(&server) {
                continue;
            }
            let base = dest.trim_end_matches('/');
            let parent = base.strip_suffix(server).unwrap_or(base).trim_end_matches('/');
            let what = match t.purpose {
                Purpose::Archive => "writes its WAL archive and base backups",
                Purpose::Source => "looks for its source's backups",
            };
            let where_name = match &t.server_name {
                ServerName::Explicit { .. } => "its serverName".to_string(),
                ServerName::Default { reason, .. } => format!("its serverName ({reason})"),
            };
            let cluster = index.name(inst).unwrap_or("this cluster");
            let message = format!(
                "destinationPath `{dest}` already ends in `{server}`, which barman appends as \
                 {where_name}: cluster `{cluster}` {what} under `{base}/{server}/`"
            );
            let object = t.store.unwrap_or(inst);
            let f = ctx.report(Loc::value(t.config_doc, path.node), message);
            f.object(object).help(format!(
                "Point destinationPath at the parent (`{parent}/`) and let barman add `{server}/`; \
                 tools and restores that use `{parent}/` with serverName `{server}` otherwise find \
                 nothing. An existing archive must be moved or kept as a recovery source."
            ));
            match (&t.server_name, t.method) {
                (ServerName::Explicit { doc, node, .. }, _) => {
                    f.related(Loc::value(*doc, node), "serverName set here");
                }
                (ServerName::Default { .. }, Method::Plugin) => {
                    let cluster_doc = index.instance(inst).map(|i| i.doc);
                    let name = t.plugin.and_then(|p| p.parameter("barmanObjectName"));
                    if let (Some(doc), Some(name)) = (cluster_doc, name) {
                        f.related(
                            Loc::value(doc, name.node),
                            "the plugin uses this ObjectStore; serverName defaults to the Cluster's name",
                        );
                    }
                }
                (ServerName::Default { .. }, Method::InTree) => {}
            }
        }
    }
}

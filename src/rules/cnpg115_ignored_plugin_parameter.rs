//! CNPG115: barman-cloud plugin parameters the plugin never reads.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::{Cluster, Plugin, BARMAN_PLUGIN};
use crate::model::Kind;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG115",
    name: "ignored-plugin-parameter",
    severity: Severity::Warning,
    summary: "A barman-cloud plugin parameter that the plugin never reads.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

const READ: [&str; 2] = ["barmanObjectName", "serverName"];

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let entries: Vec<Plugin<'_>> = cluster
            .plugins()
            .chain(cluster.external_clusters().filter_map(|e| e.plugin()))
            .filter(|p| p.is_barman())
            .collect();
        for p in entries {
            for e in p.0.get("parameters").and_then(Node::as_map).unwrap_or(&[]) {
                let Some(key) = e.key.as_str() else { continue };
                if READ.contains(&key) {
                    continue;
                }
                ctx.report(
                    Loc::key(i.doc, &e.key),
                    format!(
                        "the barman-cloud plugin reads only barmanObjectName and serverName; \
                         parameter `{key}` is silently ignored"
                    ),
                )
                .object(inst)
                .help("Remove it; store settings such as destinationPath belong in the ObjectStore's spec.configuration.");
            }
        }
    }
    for kind in [Kind::ScheduledBackup, Kind::Backup] {
        for (inst, i, doc) in index.instances_of(kind) {
            let Some(pc) = doc.root.at(&["spec", "pluginConfiguration"]) else {
                continue;
            };
            if pc.get("name").and_then(Node::as_str) != Some(BARMAN_PLUGIN) {
                continue;
            }
            // What the Cluster's own plugin entry says: a parameter that repeats it is ignored
            // to no effect, the backup goes where it says anyway.
            let cluster_params: Vec<(String, String)> = doc
                .root
                .at(&["spec", "cluster", "name"])
                .and_then(Node::as_str)
                .zip(index.namespace(inst))
                .map(|(name, ns)| index.find(Kind::Cluster, ns, name, inst))
                .into_iter()
                .flatten()
                .filter_map(|c| index.instance(c).and_then(|ci| index.doc(ci.doc)))
                .flat_map(|cd| {
                    Cluster(&cd.root)
                        .barman_plugins()
                        .flat_map(|p| {
                            READ.iter()
                                .filter_map(|k| Some((k.to_string(), p.parameter(k)?.value.known()?.to_string())))
                                .collect::<Vec<_>>()
                        })
                        .collect::<Vec<_>>()
                })
                .collect();
            for e in pc.get("parameters").and_then(Node::as_map).unwrap_or(&[]) {
                let key = e.key.as_str().unwrap_or("?");
                let value = e.value.as_str().unwrap_or("");
                if cluster_params.iter().any(|(k, v)| k == key && v == value) {
                    continue;
                }
                let what = doc.header.as_ref().map_or("backup", |h| h.kind_name.as_str());
                ctx.report(
                    Loc::key(i.doc, &e.key),
                    format!(
                        "the barman-cloud plugin takes a backup's configuration from its Cluster \
                         only; this {what}'s parameter `{key}` is ignored (it does not redirect the \
                         backup)"
                    ),
                )
                .object(inst)
                .help("Remove pluginConfiguration.parameters; set barmanObjectName and serverName on the Cluster's plugin entry.");
            }
        }
    }
}

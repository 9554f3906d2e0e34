//! Where a cluster's barman data lives, computed the way CNPG and the barman-cloud plugin do:
//! barman-cloud keys everything under `<destinationPath>/<serverName>/`, with serverName
//! defaults that differ by method. Shared by the rules that reason about archive locations.

use crate::index::{Index, InstId};
use crate::model::cnpg::{At, Cluster, ObjectStore, Plugin, StoreConfig};
use crate::model::DocId;
use crate::model::{Kind, Val};
use crate::rules::engine::Ctx;
use crate::rules::Loc;

/// Why a serverName has the value it has.
#[derive(Debug, Clone)]
pub enum ServerName<'a> {
    /// Written in the manifest.
    Explicit {
        value: Val<'a>,
        doc: DocId,
        node: &'a crate::yaml::Node,
    },
    /// A default: the value and where the default comes from.
    Default {
        value: Option<&'a str>,
        reason: &'static str,
    },
}

impl<'a> ServerName<'a> {
    pub fn known(&self) -> Option<&'a str> {
        match self {
            ServerName::Explicit { value, .. } => value.known(),
            ServerName::Default { value, .. } => *value,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// WAL archive and base backups of the cluster itself.
    Archive,
    /// An `externalClusters[]` entry the cluster recovers or replicates from.
    Source,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    InTree,
    Plugin,
}

/// One place a cluster writes to or reads from.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub purpose: Purpose,
    pub method: Method,
    pub config: StoreConfig<'a>,
    /// The document that holds `config` (the Cluster, or the ObjectStore).
    pub config_doc: DocId,
    /// The ObjectStore instance, for the plugin.
    pub store: Option<InstId>,
    pub server_name: ServerName<'a>,
    /// The plugin entry (for the plugin), pointing back into the Cluster.
    pub plugin: Option<Plugin<'a>>,
    /// The external cluster entry's name, for sources.
    pub entry_name: Option<&'a str>,
}

impl<'a> Target<'a> {
    pub fn destination_path(&self) -> Option<At<'a, Val<'a>>> {
        self.config.destination_path()
    }
}

/// Archive targets: in-tree `spec.backup.barmanObjectStore`, and every enabled barman-cloud
/// plugin entry with its ObjectStore.
pub fn archive_targets<'a>(index: &'a Index, inst: InstId) -> Vec<Target<'a>> {
    let Some(i) = index.instance(inst) else {
        return Vec::new();
    };
    let Some(doc) = index.doc(i.doc) else {
        return Vec::new();
    };
    let cluster = Cluster(&doc.root);
    let cluster_name = index.name(inst);
    let mut out = Vec::new();
    if let Some(config) = cluster.in_tree_store() {
        out.push(Target {
            purpose: Purpose::Archive,
            method: Method::InTree,
            config,
            config_doc: i.doc,
            store: None,
            server_name: explicit_or(
                config.server_name(),
                i.doc,
                cluster_name,
                "the Cluster's name",
            ),
            plugin: None,
            entry_name: None,
        });
    }
    for plugin in cluster.barman_plugins() {
        let server_name = explicit_or(
            plugin.parameter("serverName"),
            i.doc,
            cluster_name,
            "the Cluster's name",
        );
        for (store, store_doc, config) in object_stores(index, inst, plugin) {
            out.push(Target {
                purpose: Purpose::Archive,
                method: Method::Plugin,
                config,
                config_doc: store_doc,
                store: Some(store),
                server_name: server_name.clone(),
                plugin: Some(plugin),
                entry_name: None,
            });
        }
    }
    out
}

/// Recovery and replica sources in `externalClusters[]`.
pub fn source_targets<'a>(index: &'a Index, inst: InstId) -> Vec<Target<'a>> {
    let Some(i) = index.instance(inst) else {
        return Vec::new();
    };
    let Some(doc) = index.doc(i.doc) else {
        return Vec::new();
    };
    let cluster_name = index.name(inst);
    let mut out = Vec::new();
    for ext in Cluster(&doc.root).external_clusters() {
        let entry_name = ext.name().and_then(|n| n.value.known());
        if let Some(config) = ext.barman_object_store() {
            out.push(Target {
                purpose: Purpose::Source,
                method: Method::InTree,
                config,
                config_doc: i.doc,
                store: None,
                // In-tree sources default to the entry's name, not the origin cluster's.
                server_name: explicit_or(
                    config.server_name(),
                    i.doc,
                    entry_name,
                    "the externalClusters entry's name",
                ),
                plugin: None,
                entry_name,
            });
        }
        if let Some(plugin) = ext.plugin().filter(|p| p.is_barman()) {
            // The plugin defaults to the recovering Cluster's own name (plugin config.go).
            let server_name = explicit_or(
                plugin.parameter("serverName"),
                i.doc,
                cluster_name,
                "the recovering Cluster's name",
            );
            for (store, store_doc, config) in object_stores(index, inst, plugin) {
                out.push(Target {
                    purpose: Purpose::Source,
                    method: Method::Plugin,
                    config,
                    config_doc: store_doc,
                    store: Some(store),
                    server_name: server_name.clone(),
                    plugin: Some(plugin),
                    entry_name,
                });
            }
        }
    }
    out
}

fn explicit_or<'a>(
    explicit: Option<At<'a, Val<'a>>>,
    doc: DocId,
    default: Option<&'a str>,
    reason: &'static str,
) -> ServerName<'a> {
    match explicit {
        Some(at) => ServerName::Explicit {
            value: at.value,
            doc,
            node: at.node,
        },
        None => ServerName::Default {
            value: default,
            reason,
        },
    }
}

/// The ObjectStores a plugin entry's `barmanObjectName` names, in the cluster's namespace.
/// One per distinct document: the same ObjectStore applied in two contexts counts once.
pub fn object_stores<'a>(
    index: &'a Index,
    cluster: InstId,
    plugin: Plugin<'a>,
) -> Vec<(InstId, DocId, StoreConfig<'a>)> {
    let Some(Val::Known(name)) = plugin.parameter("barmanObjectName").map(|a| a.value) else {
        return Vec::new();
    };
    let Some(ns) = index.namespace(cluster) else {
        return Vec::new();
    };
    let mut out: Vec<(InstId, DocId, StoreConfig<'a>)> = Vec::new();
    for store in index.find(Kind::ObjectStore, ns, name, cluster) {
        let Some(si) = index.instance(store) else {
            continue;
        };
        if out.iter().any(|(_, d, _)| *d == si.doc) {
            continue;
        }
        let Some(doc) = index.doc(si.doc) else {
            continue;
        };
        if let Some(config) = ObjectStore(&doc.root).configuration() {
            out.push((store, si.doc, config));
        }
    }
    out
}

/// Where a target's data lives, comparably: (endpoint, destinationPath, serverName), with the
/// path's trailing slashes and repeated slashes removed. `None` when the path or serverName is
/// unknown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub endpoint: String,
    pub dest: String,
    pub server: String,
}

impl Location {
    pub fn of(t: &Target<'_>) -> Option<Location> {
        let dest = t.destination_path()?.value.known()?;
        let server = t.server_name.known()?;
        // An endpoint that is still a placeholder compares as written: the same `${VAR}`
        // resolves to the same value.
        let endpoint = match t.config.0.get("endpointURL") {
            None => String::new(),
            Some(n) => n.as_str()?.trim_end_matches('/').to_string(),
        };
        Some(Location {
            endpoint,
            dest: normalise_path(dest),
            server: server.to_string(),
        })
    }

    /// `<destinationPath>/<serverName>`, for messages.
    pub fn path(&self) -> String {
        format!("{}/{}", self.dest, self.server)
    }
}

fn normalise_path(dest: &str) -> String {
    let (scheme, rest) = dest.split_once("://").unwrap_or(("", dest));
    let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
    if scheme.is_empty() {
        format!("/{}", parts.join("/"))
    } else {
        format!("{}://{}", scheme.to_ascii_lowercase(), parts.join("/"))
    }
}

/// The external clusters a Cluster actually reads from: the entries `bootstrap.recovery.source`,
/// `bootstrap.pg_basebackup.source` and `replica.source` name, as their targets. Any other entry
/// is never read (CNPG looks external clusters up only by these names).
pub fn used_sources<'a>(index: &'a Index, inst: InstId) -> Vec<Target<'a>> {
    let Some(doc) = index.instance(inst).and_then(|i| index.doc(i.doc)) else {
        return Vec::new();
    };
    let names: Vec<&str> = [
        &["spec", "bootstrap", "recovery", "source"][..],
        &["spec", "bootstrap", "pg_basebackup", "source"][..],
        &["spec", "replica", "source"][..],
    ]
    .iter()
    .filter_map(|p| crate::model::value::text(doc.root.at(p)?)?.known())
    .collect();
    source_targets(index, inst)
        .into_iter()
        .filter(|t| t.entry_name.is_some_and(|n| names.contains(&n)))
        .collect()
}

/// How a message names a Cluster: "cluster `pg`", or, when its name is still a placeholder that
/// nothing substitutes, the name as written ("the Cluster named `${APP}`").
pub fn cluster_label(index: &Index, inst: InstId) -> String {
    if let Some(name) = index.name(inst) {
        return format!("cluster `{name}`");
    }
    let written = index
        .instance(inst)
        .and_then(|i| index.doc(i.doc))
        .and_then(|d| d.root.at(&["metadata", "name"]))
        .and_then(|n| n.as_str());
    match written {
        Some(w) => format!("the Cluster named `{w}`"),
        None => "the Cluster (it has no metadata.name)".to_string(),
    }
}

/// Whether a file lies where a repository keeps documentation, samples or tests (`docs/`,
/// `samples/`, `examples/`, `test/`, `e2e/`, `hack/`...): objects there are shown or exercised,
/// not run. Only used for objects no Flux Kustomization applies.
pub fn is_demo_path(index: &Index, doc: DocId) -> bool {
    const DIRS: &[&str] = &[
        "doc", "docs", "sample", "samples", "example", "examples", "test", "tests", "e2e", "hack",
        "demo", "demos", "testdata", "fixtures",
    ];
    let Some(path) = index
        .doc(doc)
        .and_then(|d| index.sources.get(d.file))
        .map(|f| f.repo_path.as_str())
    else {
        return false;
    };
    let mut dirs: Vec<&str> = path.split('/').collect();
    dirs.pop();
    dirs.iter()
        .any(|d| DIRS.contains(&d.to_ascii_lowercase().as_str()))
}

/// Names for a message: `a`, `b`, `c`.
pub fn code_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Path segments of a destinationPath after the bucket or container. For Azure the first
/// segment is the container (and for the Azurite emulator, account then container), so naming
/// those after the cluster is not nesting.
pub fn segments_after_bucket(dest: &str) -> Option<Vec<&str>> {
    let (scheme, rest) = dest.split_once("://")?;
    let mut parts = rest.split('/').filter(|s| !s.is_empty());
    let skip = match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" => {
            let host = parts.next()?;
            if host.contains(".core.windows.net") {
                1
            } else {
                2
            }
        }
        _ => 1,
    };
    let parts: Vec<&str> = parts.collect();
    Some(parts.get(skip..).map(<[&str]>::to_vec).unwrap_or_default())
}

/// Reports the schema stage's issues of one category (CNPG002, CNPG003 and CNPG004 share the
/// validation pass and split what it found). The same mistake in several items of one list
/// (`extensions: [a, b, c]` written as strings, a `key:` copied into every role) is one
/// finding, at the first item, naming how many more items repeat it.
pub fn report_schema_issues(ctx: &mut Ctx<'_>, category: crate::schema::Category) {
    use crate::yaml::Seg;
    let issues: Vec<&crate::schema::Issue> = ctx
        .schema
        .iter()
        .filter(|i| i.category == category)
        .collect();
    fn shape(i: &crate::schema::Issue) -> (DocId, InstId, Vec<Option<&str>>, String) {
        let path: Vec<Option<&str>> = i
            .path
            .iter()
            .map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect();
        (i.doc, i.inst, path, without_indices(&i.message))
    }
    let mut seen: std::collections::BTreeMap<_, usize> = std::collections::BTreeMap::new();
    let mut groups: Vec<(&crate::schema::Issue, usize)> = Vec::new();
    for issue in issues {
        let has_index = issue.path.iter().any(|s| matches!(s, Seg::Index(_)));
        let key = shape(issue);
        if has_index {
            if let Some(&g) = seen.get(&key) {
                groups[g].1 += 1;
                continue;
            }
            seen.insert(key, groups.len());
        }
        groups.push((issue, 0));
    }
    for (issue, more) in groups {
        let at = Loc::Path {
            doc: issue.doc,
            path: issue.path.clone(),
            target: issue.target,
        };
        let message = if more > 0 {
            format!(
                "{}; {more} more item{} of the same list repeat{} it",
                issue.message,
                if more == 1 { "" } else { "s" },
                if more == 1 { "s" } else { "" }
            )
        } else {
            issue.message.clone()
        };
        let f = ctx.report(at, message).object(issue.inst);
        if let Some(help) = &issue.help {
            f.help(help.clone());
        }
    }
}

/// A message with its list indices (`[3]`) taken out, to compare mistakes across items.
fn without_indices(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].bytes().all(|b| b.is_ascii_digit()) => {
                out.push_str("[]");
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Backups of `kinds` whose namespace is a placeholder: they may name any cluster. Collected once
/// per rule run and handed to [`named_by_backup`].
pub fn backups_anywhere(index: &Index, kinds: &[Kind]) -> Vec<InstId> {
    kinds
        .iter()
        .flat_map(|&k| index.instances_of(k))
        .filter(|(_, b, _)| matches!(b.namespace, Some(crate::model::NameVal::Unknown)))
        .map(|(b, _, _)| b)
        .collect()
}

/// Whether a backup of one of `kinds` names cluster `name` in `ns`, or one whose cluster name or
/// namespace is a placeholder might; asked in that order, each only when the one before fails.
pub fn named_by_backup(
    index: &Index,
    inst: InstId,
    (name, ns): (&str, &str),
    kinds: &[Kind],
    anywhere: &[InstId],
) -> bool {
    let named = |kind, cluster| !index.backups_naming(kind, ns, cluster, inst).is_empty();
    kinds
        .iter()
        .any(|&k| named(k, Some(name)) || named(k, None))
        || anywhere.iter().any(|&b| index.paired(inst, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_and_container_segments_are_skipped() {
        assert_eq!(segments_after_bucket("s3://b/pg/").unwrap(), ["pg"]);
        assert_eq!(segments_after_bucket("gs://b").unwrap(), Vec::<&str>::new());
        assert_eq!(
            segments_after_bucket("https://acct.blob.core.windows.net/pg/x").unwrap(),
            ["x"]
        );
        assert_eq!(
            segments_after_bucket("http://azurite:10000/storageaccount/pg").unwrap(),
            Vec::<&str>::new()
        );
        assert!(segments_after_bucket("/local/path").is_none());
    }
}

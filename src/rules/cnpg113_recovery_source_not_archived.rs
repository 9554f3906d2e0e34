//! CNPG113: a recovery or replica source whose effective location no cluster archives to,
//! next to one that does: the in-tree vs plugin serverName default trap.

use std::collections::{BTreeMap, BTreeSet};

use super::support::{self, Location, Method, ServerName};
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::index::InstId;
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG113",
    name: "recovery-source-not-archived",
    severity: Severity::Warning,
    summary: "A recovery or replica source points where no cluster archives, while a cluster archives next to it.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    // Every archive location in the repository, with a cluster that writes there. Sources are
    // often restored in another environment, so this is not limited to one Kubernetes cluster.
    let mut archived: BTreeMap<Location, InstId> = BTreeMap::new();
    for (inst, _, _) in index.instances_of(Kind::Cluster) {
        for t in support::archive_targets(index, inst) {
            if let Some(l) = Location::of(&t) {
                archived.entry(l).or_insert(inst);
            }
        }
    }
    let mut reported: BTreeSet<(Location, String, (u32, u32))> = BTreeSet::new();
    for (inst, _, _) in index.instances_of(Kind::Cluster) {
        for source in support::used_sources(index, inst) {
            let Some(loc) = Location::of(&source) else { continue };
            if archived.contains_key(&loc) {
                continue;
            }
            // Only a defaulted serverName is the trap; an explicit one is a deliberate choice
            // (the rotation pattern recovers from a previous cluster no longer in the repo).
            if !matches!(source.server_name, ServerName::Default { .. }) {
                continue;
            }
            // The location the other method's default would have read: in-tree sources default
            // to the entry's name, the plugin to the recovering cluster's own name.
            let alternative = match source.method {
                Method::InTree => index.name(inst),
                Method::Plugin => source.entry_name,
            };
            let Some(alternative) = alternative else { continue };
            let sibling = Location {
                server: alternative.to_string(),
                ..loc.clone()
            };
            let Some(&sib_inst) = archived.get(&sibling) else { continue };
            // The serverName rotation pattern: `postgres5` recovers from entry `postgres4`,
            // the previous incarnation, whose archive is no longer written by anything in the
            // repository. The entry's name is deliberate, not the in-tree default trap.
            if sib_inst == inst
                && source.entry_name.zip(index.name(inst)).is_some_and(|(e, c)| rotated(e, c))
            {
                continue;
            }
            let sib = &sibling;
            let entry = source.entry_name.unwrap_or("");
            let why = match &source.server_name {
                ServerName::Explicit { .. } => String::new(),
                ServerName::Default { reason, .. } => format!(
                    "serverName defaults to {reason} ({}) when it is not set",
                    match source.method {
                        Method::InTree => "in-tree barmanObjectStore",
                        Method::Plugin => "barman-cloud plugin",
                    }
                ),
            };
            let Some(path_node) = source.destination_path().map(|p| p.node) else {
                continue;
            };
            // One finding per written value: a manifest rendered into several builds is one
            // mistake, but the same mistake in two files is two.
            let span = path_node.span;
            if !reported.insert((loc.clone(), sib.path(), (span.file, span.start))) {
                continue;
            }
            let at = Loc::value(source.config_doc, path_node);
            let archiver = index.name(sib_inst).unwrap_or("a cluster");
            let mut f = ctx.report(
                at,
                format!(
                    "externalClusters `{entry}` reads `{}/` ({why}), but no cluster archives there; \
                     cluster `{archiver}` archives to `{}/`: the restore finds no base backup",
                    loc.path(),
                    sib.path()
                ),
            );
            f = f.object(inst);
            f.help(format!(
                "Set serverName: {} explicitly in the source entry (plugin.parameters.serverName, or \
                 barmanObjectStore.serverName for in-tree).",
                sib.server
            ));
        }
    }
}

/// Two names that differ only in a trailing version (`postgres4` / `postgres5`,
/// `pg-v2` / `pg-v3`, `db16` / `db17`).
fn rotated(a: &str, b: &str) -> bool {
    fn stem(n: &str) -> &str {
        let s = n.trim_end_matches(|c: char| c.is_ascii_digit());
        let s = s.strip_suffix('v').filter(|_| s.len() < n.len()).unwrap_or(s);
        s.trim_end_matches(['-', '_', '.'])
    }
    a != b && a.len() > stem(a).len() && stem(a) == stem(b) && !stem(a).is_empty()
}

#[cfg(test)]
mod tests {
    use super::rotated;

    #[test]
    fn rotation_names() {
        assert!(rotated("postgres4", "postgres5"));
        assert!(rotated("pg-v2", "pg-v3"));
        assert!(rotated("postgres16-v7", "postgres16-v8"));
        assert!(!rotated("platform-backup", "platform"));
        assert!(!rotated("pg", "pg"));
    }
}

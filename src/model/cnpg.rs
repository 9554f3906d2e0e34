//! Read-only views over CloudNativePG and barman-cloud objects. Accessors hand back the node
//! with the value, so a rule can point at the exact key or value it is talking about.

use super::value::{known_bool, text, Val};
use crate::yaml::Node;

/// The barman-cloud CNPG-I plugin's registered name.
pub const BARMAN_PLUGIN: &str = "barman-cloud.cloudnative-pg.io";
pub const GKE_SA_ANNOTATION: &str = "iam.gke.io/gcp-service-account";

/// A value together with the node it was read from.
#[derive(Debug, Clone, Copy)]
pub struct At<'a, T> {
    pub value: T,
    pub node: &'a Node,
}

fn text_at(node: Option<&Node>) -> Option<At<'_, Val<'_>>> {
    let node = node?;
    Some(At {
        value: text(node)?,
        node,
    })
}

fn bool_at(node: Option<&Node>) -> Option<At<'_, bool>> {
    let node = node?;
    Some(At {
        value: known_bool(node)?,
        node,
    })
}

/// A barman object store configuration: in-tree `barmanObjectStore`, or an ObjectStore's
/// `spec.configuration`. Both have the same schema.
#[derive(Debug, Clone, Copy)]
pub struct StoreConfig<'a>(pub &'a Node);

impl<'a> StoreConfig<'a> {
    pub fn destination_path(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.get("destinationPath"))
    }
    pub fn server_name(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.get("serverName"))
    }
    pub fn gke_environment(&self) -> Option<At<'a, bool>> {
        bool_at(self.0.at(&["googleCredentials", "gkeEnvironment"]))
    }
}

/// One entry of `spec.plugins` or an `externalClusters[].plugin`.
#[derive(Debug, Clone, Copy)]
pub struct Plugin<'a>(pub &'a Node);

impl<'a> Plugin<'a> {
    pub fn name(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.get("name"))
    }
    pub fn is_barman(&self) -> bool {
        matches!(
            self.name(),
            Some(At {
                value: Val::Known(BARMAN_PLUGIN),
                ..
            })
        )
    }
    /// Plugins are enabled unless `enabled: false`.
    pub fn enabled(&self) -> bool {
        self.0.get("enabled").and_then(known_bool).unwrap_or(true)
    }
    pub fn is_wal_archiver(&self) -> Option<At<'a, bool>> {
        bool_at(self.0.get("isWALArchiver"))
    }
    pub fn parameter(&self, key: &str) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["parameters", key]))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct ExternalCluster<'a>(pub &'a Node);

impl<'a> ExternalCluster<'a> {
    pub fn name(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.get("name"))
    }
    pub fn barman_object_store(&self) -> Option<StoreConfig<'a>> {
        self.0
            .get("barmanObjectStore")
            .filter(|n| n.as_map().is_some())
            .map(StoreConfig)
    }
    pub fn plugin(&self) -> Option<Plugin<'a>> {
        self.0
            .get("plugin")
            .filter(|n| n.as_map().is_some())
            .map(Plugin)
    }
}

/// `postgresql.cnpg.io/v1` Cluster.
#[derive(Debug, Clone, Copy)]
pub struct Cluster<'a>(pub &'a Node);

impl<'a> Cluster<'a> {
    pub fn in_tree_store(&self) -> Option<StoreConfig<'a>> {
        self.0
            .at(&["spec", "backup", "barmanObjectStore"])
            .filter(|n| n.as_map().is_some())
            .map(StoreConfig)
    }
    /// The key node of `spec.backup.barmanObjectStore`, for pointing at the section itself.
    pub fn in_tree_store_key(&self) -> Option<&'a Node> {
        self.0
            .at(&["spec", "backup"])?
            .entry("barmanObjectStore")
            .map(|e| &e.key)
    }
    pub fn retention_policy(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "backup", "retentionPolicy"]))
    }
    pub fn plugins(&self) -> impl Iterator<Item = Plugin<'a>> {
        self.0
            .at(&["spec", "plugins"])
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(Plugin)
    }
    /// Enabled barman-cloud plugin entries in `spec.plugins`.
    pub fn barman_plugins(&self) -> impl Iterator<Item = Plugin<'a>> {
        self.plugins().filter(|p| p.enabled() && p.is_barman())
    }
    pub fn external_clusters(&self) -> impl Iterator<Item = ExternalCluster<'a>> {
        self.0
            .at(&["spec", "externalClusters"])
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .map(ExternalCluster)
    }
    pub fn bootstrap(&self) -> Option<&'a Node> {
        self.0.at(&["spec", "bootstrap"])
    }
    pub fn service_account_name(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "serviceAccountName"]))
    }
    /// `spec.postgresql.parameters` entries.
    pub fn parameters(&self) -> &'a [crate::yaml::Entry] {
        self.0
            .at(&["spec", "postgresql", "parameters"])
            .and_then(Node::as_map)
            .unwrap_or(&[])
    }
    /// The text of a `spec.postgresql.parameters` value, with its node.
    pub fn parameter(&self, key: &str) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "postgresql", "parameters", key]))
    }
    pub fn annotation(&self, key: &str) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["metadata", "annotations", key]))
    }
    /// Whether CNPG treats the cluster as a replica (`IsReplica` in CNPG api/v1/cluster_funcs.go): `replica.enabled`
    /// decides when set; otherwise a `spec.replica` stanza makes it a replica unless
    /// `replica.primary` names the cluster itself. `None` when that depends on a placeholder.
    pub fn is_replica(&self) -> Option<bool> {
        let Some(replica) = self
            .0
            .at(&["spec", "replica"])
            .filter(|n| n.as_map().is_some())
        else {
            return Some(false);
        };
        if let Some(enabled) = replica.get("enabled") {
            return known_bool(enabled);
        }
        let own = match replica.get("self").and_then(text) {
            Some(v) => v.known()?,
            None => self.0.at(&["metadata", "name"]).and_then(text)?.known()?,
        };
        let primary = match replica.get("primary").and_then(text) {
            Some(v) => v.known()?,
            None => "",
        };
        Some(own != primary)
    }
    pub fn service_account_annotation(&self, key: &str) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&[
            "spec",
            "serviceAccountTemplate",
            "metadata",
            "annotations",
            key,
        ]))
    }
}

/// `barmancloud.cnpg.io/v1` ObjectStore.
#[derive(Debug, Clone, Copy)]
pub struct ObjectStore<'a>(pub &'a Node);

impl<'a> ObjectStore<'a> {
    pub fn configuration(&self) -> Option<StoreConfig<'a>> {
        self.0
            .at(&["spec", "configuration"])
            .filter(|n| n.as_map().is_some())
            .map(StoreConfig)
    }
    pub fn retention_policy(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "retentionPolicy"]))
    }
}

/// ScheduledBackup and Backup share the fields the rules read.
#[derive(Debug, Clone, Copy)]
pub struct BackupLike<'a>(pub &'a Node);

impl<'a> BackupLike<'a> {
    pub fn cluster_name(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "cluster", "name"]))
    }
    pub fn schedule(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "schedule"]))
    }
    /// The backup method; the CRD defaults it to `barmanObjectStore`.
    pub fn method(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "method"]))
    }
    /// `spec.pluginConfiguration.name`.
    pub fn plugin_name(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "pluginConfiguration", "name"]))
    }
    pub fn suspended(&self) -> bool {
        self.0
            .at(&["spec", "suspend"])
            .and_then(known_bool)
            .unwrap_or(false)
    }
}

/// Pooler and Database reference their cluster the same way.
#[derive(Debug, Clone, Copy)]
pub struct ClusterRef<'a>(pub &'a Node);

impl<'a> ClusterRef<'a> {
    pub fn cluster_name(&self) -> Option<At<'a, Val<'a>>> {
        text_at(self.0.at(&["spec", "cluster", "name"]))
    }
}

/// Secret and ConfigMap.
#[derive(Debug, Clone, Copy)]
pub struct DataObject<'a>(pub &'a Node);

impl<'a> DataObject<'a> {
    /// SOPS-encrypted manifests carry a top-level `sops` mapping.
    pub fn is_sops_encrypted(&self) -> bool {
        self.0.get("sops").is_some_and(|n| n.as_map().is_some())
    }
}

/// Days in a barman retention policy (`30d`, `4w`, `6m`; a month counts as 31 days so the
/// comparison errs on the side of a longer window).
pub fn retention_days(policy: &str) -> Option<u64> {
    let policy = policy.trim();
    let unit = policy.chars().last()?;
    let digits = policy.get(..policy.len() - unit.len_utf8())?;
    if digits.is_empty() || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let per = match unit {
        'd' => 1,
        'w' => 7,
        'm' => 31,
        _ => return None,
    };
    n.checked_mul(per)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_policy_units() {
        assert_eq!(retention_days("30d"), Some(30));
        assert_eq!(retention_days("4w"), Some(28));
        assert_eq!(retention_days("6m"), Some(186));
        assert_eq!(retention_days("30days"), None);
        assert_eq!(retention_days("0d"), None);
        assert_eq!(retention_days("d"), None);
        assert_eq!(retention_days(""), None);
    }
}

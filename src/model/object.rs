//! Kubernetes object identity. Objects are identified by API group and kind, never by kind
//! alone: a `kind: Cluster` of `kind.x-k8s.io` is not a CloudNativePG Cluster.

use super::value::{text, Val};
use crate::yaml::Node;
use compact_str::CompactString;

pub const CNPG_GROUP: &str = "postgresql.cnpg.io";
pub const BARMAN_GROUP: &str = "barmancloud.cnpg.io";
pub const FLUX_KUSTOMIZE_GROUP: &str = "kustomize.toolkit.fluxcd.io";
pub const KUSTOMIZE_GROUP: &str = "kustomize.config.k8s.io";

/// The (group, kind) of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Cluster,
    ScheduledBackup,
    Backup,
    Pooler,
    Database,
    DatabaseRole,
    ObjectStore,
    FluxKustomization,
    KustomizeKustomization,
    KustomizeComponent,
    Secret,
    ConfigMap,
    ServiceAccount,
    Other,
}

impl Kind {
    pub fn classify(group: &str, kind: &str) -> Kind {
        match (group, kind) {
            (CNPG_GROUP, "Cluster") => Kind::Cluster,
            (CNPG_GROUP, "ScheduledBackup") => Kind::ScheduledBackup,
            (CNPG_GROUP, "Backup") => Kind::Backup,
            (CNPG_GROUP, "Pooler") => Kind::Pooler,
            (CNPG_GROUP, "Database") => Kind::Database,
            (CNPG_GROUP, "DatabaseRole") => Kind::DatabaseRole,
            (BARMAN_GROUP, "ObjectStore") => Kind::ObjectStore,
            (FLUX_KUSTOMIZE_GROUP, "Kustomization") => Kind::FluxKustomization,
            (KUSTOMIZE_GROUP, "Kustomization") => Kind::KustomizeKustomization,
            (KUSTOMIZE_GROUP, "Component") => Kind::KustomizeComponent,
            ("", "Secret") => Kind::Secret,
            ("", "ConfigMap") => Kind::ConfigMap,
            ("", "ServiceAccount") => Kind::ServiceAccount,
            _ => Kind::Other,
        }
    }
}

/// What a document says about itself in `apiVersion`, `kind` and `metadata`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    // Inline up to 24 bytes, which identities nearly always are: every document and every
    // rendered object has a header, and the index keys its maps with these names.
    pub api_version: CompactString,
    pub group: CompactString,
    pub kind_name: CompactString,
    pub kind: Kind,
    /// `None` when absent; `Some(Val::Unknown)` when it is a placeholder.
    pub name: Option<NameVal>,
    pub namespace: Option<NameVal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NameVal {
    Known(CompactString),
    Unknown,
}

impl NameVal {
    pub fn known(&self) -> Option<&str> {
        match self {
            NameVal::Known(s) => Some(s),
            NameVal::Unknown => None,
        }
    }
}

impl Header {
    /// Reads the header of a document; `None` for documents that are not Kubernetes objects
    /// (no string `apiVersion` and `kind`).
    pub fn read(root: &Node) -> Option<Header> {
        let api_version = CompactString::from(root.get("apiVersion")?.as_str()?.trim());
        let kind_name = CompactString::from(root.get("kind")?.as_str()?.trim());
        if api_version.is_empty() || kind_name.is_empty() {
            return None;
        }
        let group = match api_version.rsplit_once('/') {
            Some((g, _)) => CompactString::from(g),
            None => CompactString::default(),
        };
        let kind = Kind::classify(&group, &kind_name);
        let meta = root.get("metadata");
        let read = |key: &str| {
            meta.and_then(|m| m.get(key))
                .and_then(text)
                .map(|v| match v {
                    Val::Known(s) => NameVal::Known(s.into()),
                    Val::Unknown => NameVal::Unknown,
                })
        };
        Some(Header {
            api_version,
            group,
            kind_name,
            kind,
            name: read("name"),
            namespace: read("namespace"),
        })
    }
}

/// Whether an object carries `key: value` as a label or an annotation (values compared
/// case-insensitively, as Flux's kustomize-controller does for its own markers).
pub fn marked(root: &Node, key: &str, value: &str) -> bool {
    ["labels", "annotations"].iter().any(|section| {
        root.at(&["metadata", section, key])
            .and_then(Node::as_str)
            .is_some_and(|v| v.eq_ignore_ascii_case(value))
    })
}

//! Lean rendering for linting. Most of a repository's objects are workloads, services and RBAC,
//! and no rule reads them beyond `apiVersion`, `kind` and `metadata` (names for identity,
//! annotations for suppressions). Once such an object is fully built and substituted, the rest
//! of its tree is dropped, so a large repository does not hold a second full copy of every
//! manifest. `cnpg-lint render` prints whole objects and does not use this.
//!
//! A kind is listed here only when no rule reads more of it; anything not listed (every CRD,
//! ConfigMaps and Secrets, ServiceAccounts) stays whole. A HelmRelease keeps all but the content
//! of its `values` mapping: its schema keeps unknown fields there, so validation reads it as `{}`
//! anyway, and no rule looks inside.

use crate::yaml::{Kind, Node};

/// (API group, kind) of the objects kept as metadata only.
const METADATA_ONLY: &[(&str, &str)] = &[
    ("", "Service"),
    ("", "PersistentVolumeClaim"),
    ("", "Pod"),
    ("", "Endpoints"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("policy", "PodDisruptionBudget"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("gateway.networking.k8s.io", "HTTPRoute"),
    ("monitoring.coreos.com", "ServiceMonitor"),
    ("monitoring.coreos.com", "PodMonitor"),
    ("monitoring.coreos.com", "PrometheusRule"),
];

/// Keeps only `apiVersion`, `kind` and `metadata` of an object of a listed kind, and empties a
/// HelmRelease's `values` mapping.
pub fn trim(root: &mut Node) {
    let api = root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let group = api.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
    if (group, kind) == ("helm.toolkit.fluxcd.io", "HelmRelease") {
        if let Some(Kind::Map(values)) = root.at_mut(&["spec", "values"]).map(|v| &mut v.kind) {
            values.clear();
        }
        return;
    }
    if !METADATA_ONLY.contains(&(group, kind)) {
        return;
    }
    if let Kind::Map(entries) = &mut root.kind {
        entries.retain(|e| matches!(e.key.as_str(), Some("apiVersion" | "kind" | "metadata")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::yaml::first_root as obj;

    #[test]
    fn trims_listed_kinds_only() {
        let mut d = obj("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\n  annotations:\n    a: b\nspec:\n  replicas: 1\n");
        trim(&mut d);
        assert!(d.get("spec").is_none());
        assert_eq!(
            d.at(&["metadata", "annotations", "a"])
                .and_then(Node::as_str),
            Some("b")
        );
        let mut hr = obj("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  chart:\n    spec:\n      chart: cloudnative-pg\n  values:\n    replicaCount: 2\n");
        trim(&mut hr);
        assert_eq!(
            hr.at(&["spec", "values"])
                .and_then(Node::as_map)
                .map(<[_]>::len),
            Some(0)
        );
        assert!(hr.at(&["spec", "chart", "spec", "chart"]).is_some());
        // A values field that is not a mapping stays, for validation to report.
        let mut odd = obj(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values: oops\n",
        );
        let before = odd.clone();
        trim(&mut odd);
        assert_eq!(odd, before);
        for kept in [
            "apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nspec:\n  instances: 1\n",
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\n",
            // Same kind name, another group: not the listed kind.
            "apiVersion: example.com/v1\nkind: Deployment\nspec:\n  x: 1\n",
        ] {
            let mut d = obj(kept);
            let before = d.clone();
            trim(&mut d);
            assert_eq!(d, before);
        }
    }
}

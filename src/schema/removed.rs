//! apiVersions that current controllers no longer serve, and when they stopped. The served
//! versions come from the CRDs in `schemas/crds/`; this table only adds the release that removed
//! the others, from the controllers' changelogs.

pub struct Removal {
    pub group: &'static str,
    pub version: &'static str,
    /// The kinds this applies to; empty means every kind of the group.
    pub kinds: &'static [&'static str],
    pub removed_in: &'static str,
}

pub static REMOVED: &[Removal] = &[
    Removal {
        group: "kustomize.toolkit.fluxcd.io",
        version: "v1beta1",
        kinds: &[],
        removed_in: "kustomize-controller 1.7.0 (Flux 2.7)",
    },
    Removal {
        group: "kustomize.toolkit.fluxcd.io",
        version: "v1beta2",
        kinds: &[],
        removed_in: "kustomize-controller 1.8.0 (Flux 2.8)",
    },
    Removal {
        group: "helm.toolkit.fluxcd.io",
        version: "v2beta1",
        kinds: &[],
        removed_in: "helm-controller 1.4.0 (Flux 2.7)",
    },
    Removal {
        group: "helm.toolkit.fluxcd.io",
        version: "v2beta2",
        kinds: &[],
        removed_in: "helm-controller 1.5.0 (Flux 2.8)",
    },
    Removal {
        group: "source.toolkit.fluxcd.io",
        version: "v1beta1",
        kinds: &["GitRepository", "HelmRepository", "Bucket", "HelmChart"],
        removed_in: "source-controller 1.7.0 (Flux 2.7)",
    },
    Removal {
        group: "source.toolkit.fluxcd.io",
        version: "v1beta2",
        kinds: &[],
        removed_in: "source-controller 1.8.0 (Flux 2.8)",
    },
    Removal {
        group: "notification.toolkit.fluxcd.io",
        version: "v1beta1",
        kinds: &[],
        removed_in: "notification-controller 1.7.0 (Flux 2.7)",
    },
    Removal {
        group: "notification.toolkit.fluxcd.io",
        version: "v1beta2",
        kinds: &[],
        removed_in: "notification-controller 1.9.0 (Flux 2.9)",
    },
    Removal {
        group: "image.toolkit.fluxcd.io",
        version: "v1beta1",
        kinds: &[],
        removed_in: "image-reflector-controller and image-automation-controller 1.0.0 (Flux 2.7)",
    },
    Removal {
        group: "image.toolkit.fluxcd.io",
        version: "v1beta2",
        kinds: &[],
        removed_in: "image-reflector-controller and image-automation-controller 1.2.0 (Flux 2.9)",
    },
];

/// The release that stopped serving `group/version` for `kind`, if it is one we know of.
pub fn removal(group: &str, version: &str, kind: &str) -> Option<&'static Removal> {
    REMOVED.iter().find(|r| {
        r.group == group && r.version == version && (r.kinds.is_empty() || r.kinds.contains(&kind))
    })
}

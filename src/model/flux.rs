//! Views over Flux Kustomizations (`kustomize.toolkit.fluxcd.io`) and kustomize
//! `kustomization.yaml` files (`kustomize.config.k8s.io`).

use super::cnpg::At;
use super::value::{known_bool, text, Val};
use crate::yaml::Node;

fn strings(node: Option<&Node>) -> impl Iterator<Item = At<'_, Val<'_>>> {
    node.and_then(Node::as_seq)
        .unwrap_or(&[])
        .iter()
        .filter_map(|n| {
            Some(At {
                value: text(n)?,
                node: n,
            })
        })
}

/// `kustomize.toolkit.fluxcd.io/v1` Kustomization.
#[derive(Debug, Clone, Copy)]
pub struct FluxKustomization<'a>(pub &'a Node);

impl<'a> FluxKustomization<'a> {
    /// `spec.path`, relative to the source root; empty or absent means the root.
    pub fn path(&self) -> Option<At<'a, Val<'a>>> {
        let node = self.0.at(&["spec", "path"])?;
        Some(At {
            value: text(node).unwrap_or(Val::Known("")),
            node,
        })
    }
    pub fn target_namespace(&self) -> Option<At<'a, Val<'a>>> {
        let node = self.0.at(&["spec", "targetNamespace"])?;
        Some(At {
            value: text(node)?,
            node,
        })
    }
    pub fn components(&self) -> impl Iterator<Item = At<'a, Val<'a>>> {
        strings(self.0.at(&["spec", "components"]))
    }
    /// `spec.sourceRef` as (kind, name); `None` when absent or not a plain string.
    pub fn source_ref(&self) -> Option<(&'a str, &'a str)> {
        let r = self.0.at(&["spec", "sourceRef"])?;
        Some((r.get("kind")?.as_str()?, r.get("name")?.as_str()?))
    }
    /// `spec.dependsOn` entries: the entry node, its name and its namespace (absent means the
    /// Kustomization's own).
    pub fn depends_on(&self) -> impl Iterator<Item = Dependency<'a>> {
        self.0
            .at(&["spec", "dependsOn"])
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .filter_map(|entry| {
                let node = entry.get("name")?;
                Some(Dependency {
                    entry,
                    name: At {
                        value: text(node)?,
                        node,
                    },
                    namespace: entry.get("namespace").and_then(text),
                })
            })
    }
    pub fn prune(&self) -> Option<bool> {
        self.0.at(&["spec", "prune"]).and_then(known_bool)
    }
}

/// One `spec.dependsOn` entry.
#[derive(Debug, Clone, Copy)]
pub struct Dependency<'a> {
    pub entry: &'a Node,
    pub name: At<'a, Val<'a>>,
    pub namespace: Option<Val<'a>>,
}

/// A kustomize `kustomization.yaml` (Kustomization or Component).
#[derive(Debug, Clone, Copy)]
pub struct Kustomize<'a>(pub &'a Node);

impl<'a> Kustomize<'a> {
    pub fn resources(&self) -> impl Iterator<Item = At<'a, Val<'a>>> {
        // `bases` is the pre-v3 spelling of directory resources.
        strings(self.0.get("resources")).chain(strings(self.0.get("bases")))
    }
    pub fn components(&self) -> impl Iterator<Item = At<'a, Val<'a>>> {
        strings(self.0.get("components"))
    }
    pub fn namespace(&self) -> Option<At<'a, Val<'a>>> {
        let node = self.0.get("namespace")?;
        Some(At {
            value: text(node)?,
            node,
        })
    }
    /// Files used as patches: their documents are fragments, not objects of their own.
    pub fn patch_files(&self) -> Vec<At<'a, Val<'a>>> {
        let mut out = Vec::new();
        for key in ["patches", "patchesJson6902"] {
            for item in self.0.get(key).and_then(Node::as_seq).unwrap_or(&[]) {
                if let Some(node) = item.get("path") {
                    if let Some(value) = text(node) {
                        out.push(At { value, node });
                    }
                }
            }
        }
        // patchesStrategicMerge lists file paths, or inline patches (multi-line strings).
        for at in strings(self.0.get("patchesStrategicMerge")) {
            if at.value.known().is_some_and(|s| !s.contains('\n')) {
                out.push(at);
            }
        }
        out
    }
}

/// Where a kustomize resource entry points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceRef {
    Local(String),
    /// A URL or git reference that cannot be read offline.
    Remote(String),
}

pub fn classify_resource(entry: &str) -> ResourceRef {
    let e = entry.trim();
    let remote = e.contains("://")
        || e.starts_with("git@")
        || e.starts_with("github.com/")
        || e.starts_with("gitlab.com/")
        || e.starts_with("bitbucket.org/");
    if remote {
        ResourceRef::Remote(e.to_string())
    } else {
        ResourceRef::Local(e.to_string())
    }
}

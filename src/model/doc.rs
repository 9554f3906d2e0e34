//! Documents: every YAML document of the repository (and, after rendering, every rendered
//! one), with its header read and its role decided.

use crate::model::{Header, Kind};
use crate::source::FileId;
use crate::yaml::Node;

pub type DocId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A Kubernetes object.
    Object,
    /// A kustomize patch file: a fragment of an object, not an object of its own.
    Patch,
    /// `kustomization.yaml` (Kustomization or Component).
    KustomizeConfig,
    /// YAML that is not a Kubernetes object (CI workflows, Helm values, Terraform inputs).
    Data,
}

#[derive(Debug)]
pub struct Doc {
    pub file: FileId,
    /// Position in its file, counting from 0; `usize::MAX` for rendered documents.
    pub index: usize,
    /// In a lean index, an empty mapping for a source document that a build applied: its tree
    /// went to the build, and rules read the applied object.
    pub root: Node,
    /// Boxed: documents are moved around in bulk, and most code reads the header rarely.
    pub header: Option<Box<Header>>,
    pub role: Role,
    /// For a source document, its nodes with aliases expanded (what a copy of it costs);
    /// 0 for a rendered one.
    pub nodes: u32,
}

impl Doc {
    pub fn kind(&self) -> Kind {
        self.header.as_ref().map_or(Kind::Other, |h| h.kind)
    }
}

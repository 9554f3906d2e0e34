//! Kustomize patches on span trees: strategic merge patches (kyaml `merge2`, as kustomize v5's
//! `patchstrategicmerge` filter runs it) and RFC 6902 JSON patches (as kustomize runs them
//! through `gopkg.in/evanphx/json-patch.v4`).
//!
//! The aim is the tree kustomize would render, quirks included, with every value keeping the
//! span where it was written: a value a patch sets points into the patch file.
//!
//! Strategic merge, as kyaml does it:
//! - Fields are merged recursively; a null patch value removes the field; `$patch: delete` on a
//!   mapping removes it, `$patch: replace` swaps in the patch mapping; `$patch` is the only
//!   directive kyaml knows. `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…`
//!   are ordinary fields to kyaml and are kept in the output, as kustomize keeps them.
//! - Lists merge by key only where kustomize's built-in OpenAPI schema (Kubernetes v1.21.2, found
//!   from the object's `apiVersion` and `kind`) gives the field a `merge` patch strategy; the keys
//!   are `x-kubernetes-list-map-keys` when present (container `ports`: containerPort+protocol,
//!   Service `ports`: port+protocol), else the patch merge key. Every other list, and every list
//!   of a custom resource, is replaced wholesale and its items are not looked into: the kustomize
//!   filter does not turn on kyaml's key inference (`InferAssociativeLists`), so CNPG
//!   `externalClusters`, `plugins` or `managed.roles` are replaced, never merged by `name`.
//! - Merged lists come out with the patch's items first (kustomize merges with
//!   `ListIncreaseDirection: Prepend`; kubernetes-sigs/kustomize#5904), and `$patch: replace`
//!   on a single list item has no effect — both as kustomize renders them.
//! - A plain patch scalar written over a quoted target scalar takes the quoted style, so `3`
//!   over `'6%'` renders as the string "3" (kubernetes-sigs/kustomize#6140).
//! - Fields of the target that were written with no value at all (`key:`) are dropped, while
//!   `key: ~` / `key: null` are kept, as kyaml's walk does over the whole object.
//!
//! JSON patches see the object as JSON, as kustomize hands it to json-patch: the target's scalars
//! are typed the YAML 1.2 way (kyaml) and the patch values the YAML 1.1 way (sigs.k8s.io/yaml),
//! and numbers, booleans and timestamps come back with the text JSON gives them (`0x10` → `16`,
//! `1.0` → `1`, `yes` in a patch value → `true`). The departures of json-patch v4 from RFC 6902
//! are kept; see [`json6902`].
//!
//! Left to the caller, as kustomize does them outside these two filters: after a strategic merge
//! kustomize restores the target's `kind`, `metadata.name` (unless the patch options allow a
//! change) and `metadata.namespace` (removed if the target had none); with a `target` selector it
//! first sets the patch's `apiVersion` to the target's. For every object it renders, kustomize
//! writes annotation values as strings, and its serializer quotes plain strings that YAML 1.1
//! would read as booleans (`on`, `yes`).

use std::fmt;

use crate::source::Span;

mod json6902;
mod json_typing;
mod merge;
mod openapi;
mod tree;

pub use json6902::json6902;
pub use merge::strategic_merge;

/// A patch that kustomize would refuse, with where in the patch the problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    pub message: String,
    pub span: Span,
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatchError {}

pub(super) fn err<T>(span: Span, message: impl Into<String>) -> Result<T, PatchError> {
    Err(PatchError {
        message: message.into(),
        span,
    })
}

/// Deeper than any tree the loader builds; a guard, not a limit users meet.
pub(super) const MAX_DEPTH: usize = 512;

/// Upper bound on the size (in nodes) a JSON patch may grow a document to. `copy` can double a
/// document per operation; json-patch has no limit by default, but a linter must stop somewhere.
pub(super) const MAX_JSON_PATCH_WEIGHT: usize = 1_000_000;

#[cfg(test)]
mod tests;

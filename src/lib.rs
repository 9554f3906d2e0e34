//! cnpg-lint: a static linter for CloudNativePG and Flux GitOps repositories.
//!
//! The pipeline, one module per stage: [`discover`] files, [`yaml`] load them into span trees,
//! [`model`] typed views, [`index`] the repository, run [`rules`], collect [`diagnostics`], and
//! [`report`] them in one format.

pub mod source;
pub mod yaml;

//! cnpg-lint: a static linter for CloudNativePG and Flux GitOps repositories.
//!
//! The pipeline, one module per stage: [`discover`] files, [`yaml`] load them into span trees,
//! [`model`] typed views, [`index`] the repository, run [`rules`], collect [`diagnostics`], and
//! [`report`] them in one format.

pub mod budget;
pub mod cli;
pub mod config;
pub mod cron;
pub mod diagnostics;
pub mod discover;
pub mod escape;
pub mod fsio;
pub mod guard;
pub mod index;
pub mod load;
pub mod model;
pub mod pipeline;
pub mod render;
pub mod report;
pub mod rules;
pub mod schema;
pub mod source;
pub mod yaml;

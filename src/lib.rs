//! cnpg-lint: a static linter for CloudNativePG and Flux GitOps repositories.
//!
//! The public surface is small: [`pipeline::lint`] runs a whole check and returns what the
//! user sees, [`report`] prints it in one format, [`config`] reads `.cnpg-lint.yaml`, [`rules`]
//! is the rule registry, and [`cli`] is the command line on top of them.
//!
//! Inside, a pipeline, one module per stage, each importing only earlier ones (a test checks
//! this; see `tests/it/architecture.rs`):
//!
//! | Stage | Module | What it does |
//! |---|---|---|
//! | 1 | `discover` | walks the repository: which files, of which kind, read or skipped |
//! | 2 | `load` | reads each file once and parses it: YAML into span trees, Terraform into facts |
//! | 3 | `model` | typed views: documents with headers and roles, Flux and CNPG objects, infra facts |
//! | 4 | `render` | Flux ownership, then every Flux Kustomization rendered as Flux renders it |
//! | 5 | `index` | the repository assembled from the written and the rendered: instances, lookups |
//! | 6 | `schema` | validation of rendered objects against the Kubernetes and CRD schemas |
//! | 7 | [`rules`] | the rules, run in parallel, reporting findings at document nodes |
//! | 8 | [`diagnostics`] | findings resolved to lines, suppressed, configured, grouped, scoped, baselined |
//! | 9 | [`report`] | one reporter per output format |
//!
//! Beneath the stages: `source` (the source map and repository paths), `yaml` (span trees and
//! YAML paths), `fsio` (reads confined to the repository), `budget` (run budgets), `escape`
//! (safe printing), `guard` (panics contained per unit of work) and `cron` (CNPG's schedules).
//! [`config`] sits between the rules it names and the diagnostics it settles.

// Input decides nearly every value here: a panic on it is a crash on a stranger's pull request.
// Tests may unwrap.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

// Foundations.
pub(crate) mod budget;
pub(crate) mod cron;
pub(crate) mod escape;
pub(crate) mod fsio;
pub(crate) mod guard;
pub(crate) mod source;
pub(crate) mod yaml;

// The stages, in order.
pub mod config;
pub mod diagnostics;
pub(crate) mod discover;
pub(crate) mod index;
pub(crate) mod load;
pub(crate) mod model;
pub(crate) mod render;
pub mod report;
pub mod rules;
pub(crate) mod schema;

// The facade.
pub mod cli;
pub mod pipeline;

/// What the integration tests, benchmarks, fuzz targets and `xtask` reach inside for. Not a
/// stable interface: each item is here because a named test or tool needs it.
#[doc(hidden)]
pub mod internals {
    /// The render wave budget, for the tests of deep Kustomization chains.
    pub use crate::budget::RENDER_WAVES;
    /// The walk, for the benchmarks' per-stage timings.
    pub use crate::discover::walk;
    /// The index and what the ownership tests read of it.
    pub use crate::index::Index;
    /// The loader's default file cap and its stage entry, for the benchmarks.
    pub use crate::load::{load_all, DEFAULT_MAX_FILE_BYTES};
    pub use crate::model::{NameVal, Role};
    /// A Flux Kustomization build's outcome, for `examples/render_stats.rs`.
    pub use crate::render::flux::Status;
    /// Schema generation, for `cargo xtask schemas` and its test.
    pub use crate::schema::{catalog, generate};
    /// `/`-separated repository paths, as the renderer prints them.
    pub use crate::source::slash_path;
    /// The span-tree loader and its nodes: the fuzz targets and the tests that compare trees.
    pub use crate::yaml::{load as load_yaml, Kind, Node, Style};
}

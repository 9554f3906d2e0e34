//! The integration tests, one binary (as zizmor keeps them): each module is one area, and
//! `common` holds what they share. Run one area with `cargo test --test it <module>::`.

mod common;

mod architecture;
mod baseline;
mod cli;
mod config;
mod corpus;
mod example_repos;
mod formats;
mod hostile;
mod integrations;
mod large_shapes;
mod lean;
mod library;
mod ownership;
mod readme;
mod render_cli;
mod render_vs_kubectl;
mod rule_registry;
mod schemas;

//! Budgets per run. A few hundred bytes of YAML can ask for gigabytes: aliases that copy a tree
//! thousands of times (in one file, or just under a per-file limit in each of 500 files), a
//! variable of 100 KB substituted 50,000 times, a base included by thousands of overlays, a
//! Flux Kustomization that renders a child with a new name at every wave. Each such growth draws
//! on one budget shared by the whole run (and by every thread), so no arrangement of files gets
//! past it. A crossed budget is reported once, where it was crossed, naming the budget; what lies
//! beyond it is not loaded or not built, and the run ends with exit status 2.
//!
//! The limits sit far above what real repositories use: the 5,000-application benchmark
//! repository (21 MB of YAML) uses no alias and renders about 2 million nodes.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Nodes that aliases may copy, all files together (about 100 bytes each).
pub const ALIAS_NODES: usize = 2_000_000;
/// Rendered nodes allowed beyond one per byte of YAML read.
pub const RENDERED_NODES_BASE: usize = 3_000_000;
/// Bytes that substitution may produce beyond four per byte of YAML read.
pub const SUBSTITUTED_BYTES_BASE: usize = 64 * 1024 * 1024;
/// Render waves: a child Kustomization renders in the wave after its parent.
pub const RENDER_WAVES: usize = 64;
/// How deep kustomizations may include one another. Real repositories stay under ten levels;
/// the recursion that follows them must not follow a 2,000-directory chain to a stack overflow.
pub const KUSTOMIZE_DEPTH: usize = 64;
/// Flux Kustomization builds allowed beyond four per written Flux Kustomization.
pub const BUILDS_BASE: usize = 10_000;

/// One budget: a limit, and what has been drawn from it.
#[derive(Debug)]
pub struct Budget {
    pub name: &'static str,
    pub limit: usize,
    used: AtomicUsize,
    reported: AtomicBool,
}

impl Budget {
    pub fn new(name: &'static str, limit: usize) -> Budget {
        Budget {
            name,
            limit,
            used: AtomicUsize::new(0),
            reported: AtomicBool::new(false),
        }
    }

    /// Draws `n`; false when that crosses the limit. Once crossed, every later draw fails too,
    /// so the result does not depend on which thread got there first beyond the crossing.
    pub fn take(&self, n: usize) -> bool {
        let before = self.used.fetch_add(n, Ordering::Relaxed);
        before.saturating_add(n) <= self.limit
    }

    /// Whether the crossing is still to be reported; true exactly once per run.
    pub fn first_crossing(&self) -> bool {
        !self.reported.swap(true, Ordering::Relaxed)
    }

    /// The message for a crossing at some place: what was crossed, and what it costs.
    pub fn message(&self, what: &str) -> String {
        format!(
            "{what} crosses the run's budget of {} {} (budget: {}); what lies beyond is not \
             linted",
            self.limit,
            self.unit(),
            self.name
        )
    }

    fn unit(&self) -> &'static str {
        if self.name.ends_with("bytes") {
            "bytes"
        } else {
            "nodes"
        }
    }
}

/// The run's alias budget, which loading draws on (every file, every thread).
pub fn aliases() -> Budget {
    Budget::new("alias-expanded nodes", ALIAS_NODES)
}

/// The budgets rendering shares.
#[derive(Debug)]
pub struct RenderBudgets {
    pub rendered_nodes: Budget,
    pub substituted_bytes: Budget,
    /// Flux Kustomization builds.
    pub builds: usize,
}

impl RenderBudgets {
    /// Budgets for rendering `yaml_bytes` bytes of YAML holding `flux_kustomizations`
    /// written Flux Kustomizations.
    pub fn new(yaml_bytes: usize, flux_kustomizations: usize) -> RenderBudgets {
        RenderBudgets {
            rendered_nodes: Budget::new(
                "rendered nodes",
                RENDERED_NODES_BASE.saturating_add(yaml_bytes),
            ),
            substituted_bytes: Budget::new(
                "substituted bytes",
                SUBSTITUTED_BYTES_BASE.saturating_add(yaml_bytes.saturating_mul(4)),
            ),
            builds: BUILDS_BASE.saturating_add(flux_kustomizations.saturating_mul(4)),
        }
    }
}

impl Default for RenderBudgets {
    fn default() -> RenderBudgets {
        RenderBudgets::new(0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_stays_crossed_and_reports_once() {
        let b = Budget::new("rendered nodes", 10);
        assert!(b.take(6));
        assert!(b.take(4));
        assert!(!b.take(1));
        assert!(!b.take(0), "once crossed, it stays crossed");
        assert!(b.first_crossing());
        assert!(!b.first_crossing());
        assert!(b.message("this build").contains("budget: rendered nodes"));
    }
}

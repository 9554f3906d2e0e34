//! CNPG211: `smartShutdownTimeout` at or above `stopDelay`, which makes the instance manager
//! skip the smart shutdown phase and go straight to a fast shutdown.

use crate::model::Kind;
use crate::rules::engine::Ctx;
use crate::rules::support::is_demo_path;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG211",
    name: "smart-shutdown-skipped",
    severity: Severity::Warning,
    summary: "A Cluster's smartShutdownTimeout is at or above its stopDelay, so CloudNativePG skips the smart shutdown and every shutdown is a fast one.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// `GetMaxStopDelay` and `GetSmartShutdownTimeout` in CNPG v1.30.0 `api/v1/cluster_funcs.go`.
const DEFAULT_STOP_DELAY: i64 = 1800;
const DEFAULT_SMART_SHUTDOWN_TIMEOUT: i64 = 180;

/// A field's integer value: `Some(None)` when absent, `None` when it cannot be read (a
/// placeholder, a string).
fn seconds(node: Option<&Node>) -> Option<Option<(i64, &Node)>> {
    match node {
        None => Some(None),
        Some(n) if n.is_null() => Some(None),
        Some(n) => Some(Some((n.as_scalar()?.as_i64()?, n))),
    }
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        if i.owner.is_none() && is_demo_path(index, i.doc) {
            continue;
        }
        let (Some(stop), Some(smart)) = (
            seconds(doc.root.at(&["spec", "stopDelay"])),
            seconds(doc.root.at(&["spec", "smartShutdownTimeout"])),
        ) else {
            continue;
        };
        // Neither written: the defaults (1800 and 180) are fine.
        if stop.is_none() && smart.is_none() {
            continue;
        }
        let stop_delay = stop.map(|(v, _)| v).filter(|&v| v > 0).unwrap_or(DEFAULT_STOP_DELAY);
        let smart_timeout = smart.map_or(DEFAULT_SMART_SHUTDOWN_TIMEOUT, |(v, _)| v);
        // 0 turns the smart phase off on purpose.
        if smart_timeout <= 0 || stop_delay > smart_timeout {
            continue;
        }
        let stop_text = match stop {
            Some((v, _)) if v > 0 => format!("stopDelay ({v}s)"),
            Some(_) => format!("stopDelay (0, which means the default {DEFAULT_STOP_DELAY}s)"),
            None => format!("the default stopDelay ({DEFAULT_STOP_DELAY}s)"),
        };
        let smart_text = match smart {
            Some((v, _)) => format!("smartShutdownTimeout ({v}s)"),
            None => format!("the default smartShutdownTimeout ({DEFAULT_SMART_SHUTDOWN_TIMEOUT}s)"),
        };
        // Point at what was written: the timeout when it is, else the delay.
        let Some((_, at)) = smart.or(stop) else { continue };
        ctx.report(
            Loc::value(i.doc, at),
            format!(
                "{smart_text} is not below {stop_text}: the instance manager then skips the smart \
                 shutdown and requests a fast one, so every restart, switchover or drain ends \
                 client sessions and aborts their transactions at once instead of letting them \
                 finish"
            ),
        )
        .object(inst)
        .help(
            "Keep smartShutdownTimeout well below stopDelay, leaving time for the fast shutdown \
             (stopDelay - smartShutdownTimeout), as the defaults do (1800 and 180); or set \
             smartShutdownTimeout: 0 to skip the smart phase on purpose.",
        );
    }
}

//! CNPG212: what the CloudNativePG 1.30 admission webhook warns about on apply, in its words.
//! The warning twin of CNPG209. Warnings other rules already report are left to them: in-tree
//! barman (CNPG104), a ScheduledBackup schedule without six fields (CNPG106), and a
//! retentionPolicy the plugin ignores (CNPG112).

use crate::model::Kind;
use crate::rules::engine::Ctx;
use crate::rules::support::is_demo_path;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG212",
    name: "webhook-warning",
    severity: Severity::Warning,
    summary: "The CloudNativePG 1.30 admission webhook prints a warning for this Cluster or Pooler on every apply.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

const SOURCE: &str = "https://github.com/cloudnative-pg/cloudnative-pg/blob/v1.30.0/internal/webhook/v1";

/// One warning: where it points, the webhook's words, and the fix.
struct Warning<'a> {
    at: &'a Node,
    text: String,
    fix: &'static str,
}

fn plain(node: Option<&Node>) -> Option<&str> {
    let s = node?.as_str()?;
    (!s.contains("${")).then_some(s)
}

fn is_true(node: Option<&Node>) -> bool {
    node.and_then(|n| n.as_scalar()?.as_bool()) == Some(true)
}

fn non_empty_seq(node: Option<&Node>) -> bool {
    node.and_then(Node::as_seq).is_some_and(|s| !s.is_empty())
}

/// `cnpg.io/validation`, read by the wrapper every validator but ScheduledBackup's goes through
/// (`common.go`).
/// Returns whether validation is off, which skips every other warning.
fn validation_annotation<'a>(root: &'a Node, out: &mut Vec<Warning<'a>>) -> bool {
    let Some(node) = root.at(&["metadata", "annotations", "cnpg.io/validation"]) else { return false };
    let Some(value) = plain(Some(node)) else { return false };
    match value {
        "" | "enabled" => false,
        "disabled" => {
            out.push(Warning {
            at: node,
            text: "validation webhook is disabled \u{2014} all changes are accepted without \
                   validation. This may lead to unsafe or destructive operations. Proceed with \
                   extreme caution."
                .into(),
            fix: "Remove the cnpg.io/validation annotation once the change that needed it is applied: \
                  without validation, a change the webhook would reject (a storage shrink, a major \
                  downgrade) reaches the operator.",
            });
            true
        }
        other => {
            out.push(Warning {
                at: node,
                text: format!("invalid \"cnpg.io/validation\" annotation: {other:?} (expected \"enabled\" or \"disabled\")"),
                fix: "Set the annotation to enabled or disabled, or remove it.",
            });
            false
        }
    }
}

/// `getStorageWarnings` for `spec.storage` or `spec.walStorage`.
fn storage<'a>(root: &'a Node, key: &str, out: &mut Vec<Warning<'a>>) {
    let Some(cfg) = root.at(&["spec", key]) else { return };
    let Some(tpl) = cfg.get("pvcTemplate").filter(|t| t.as_map().is_some()) else { return };
    if let (Some(_), Some(at)) = (cfg.get("storageClass"), tpl.get("storageClassName")) {
        out.push(Warning {
            at,
            text: format!(
                "spec.{key}.storageClass and spec.{key}.pvcTemplate.storageClassName are both \
                 specified, spec.{key}.storageClass value will be used."
            ),
            fix: "Keep one of the two storage class fields.",
        });
    }
    let size = plain(cfg.get("size")).is_some_and(|s| !s.is_empty());
    let request = tpl.at(&["resources", "requests", "storage"]);
    // A zero quantity counts as absent (`Quantity.IsZero`).
    let nonzero = plain(request).is_some_and(|q| {
        q.chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .any(|c| c.is_ascii_digit() && c != '0')
    });
    if let (true, true, Some(at)) = (size, nonzero, request) {
        out.push(Warning {
            at,
            text: format!(
                "spec.{key}.size and spec.{key}.pvcTemplate.resources.requests.storage are both \
                 specified, spec.{key}.size value will be used."
            ),
            fix: "Keep one of the two sizes: the pvcTemplate's request is ignored.",
        });
    }
}

fn cluster_warnings(root: &Node) -> Vec<Warning<'_>> {
    let mut out = Vec::new();
    if validation_annotation(root, &mut out) {
        return out;
    }
    if let Some(at) = root.at(&["spec", "nodeMaintenanceWindow"]) {
        out.push(Warning {
            at,
            text: "Consider using `.spec.enablePDB` instead of the node maintenance window feature".into(),
            fix: "Remove spec.nodeMaintenanceWindow; spec.enablePDB (true by default) governs node drains.",
        });
    }
    storage(root, "storage", &mut out);
    storage(root, "walStorage", &mut out);
    if let Some(node) = root.at(&["spec", "postgresql", "parameters", "shared_buffers"]) {
        // Go's strconv.Atoi: an optional sign, then ASCII digits.
        if let Some(v) = plain(Some(node)) {
            let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
            if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                out.push(Warning {
                    at: node,
                    text: format!(
                        "`shared_buffers` value '{v}' is missing a unit (e.g., MB, GB). While this \
                         is currently allowed, future releases will require an explicit unit. \
                         Please update your configuration to specify a valid unit, such as '{v}MB'."
                    ),
                    fix: "Write the unit (PostgreSQL reads a bare number as 8kB pages, not megabytes).",
                });
            }
        }
    }
    let monitoring = root.at(&["spec", "monitoring"]);
    if let Some(node) = monitoring.and_then(|m| m.get("metricsQueriesTTL")) {
        if plain(Some(node)).is_some_and(is_zero_duration) {
            out.push(Warning {
                at: node,
                text: "spec.monitoring.metricsQueriesTTL is explicitly set to 0; this disables \
                       automatic TTL behavior and can cause heavy load on the PostgreSQL server."
                    .into(),
                fix: "Remove metricsQueriesTTL (the default caches query results for 30s) or set a positive duration.",
            });
        }
    }
    if let Some(m) = monitoring {
        if let (true, Some(at)) = (is_true(m.get("enablePodMonitor")), m.get("enablePodMonitor")) {
            out.push(Warning {
                at,
                text: "spec.monitoring.enablePodMonitor is deprecated and will be removed in a future \
                       release. Please migrate to manually managing your PodMonitor resources. Set \
                       this field to false and create a PodMonitor resource for your cluster as \
                       described in the documentation."
                    .into(),
                fix: "Set enablePodMonitor: false and add a PodMonitor that selects the Cluster's pods (cnpg.io/cluster label).",
            });
        }
        for key in ["podMonitorMetricRelabelings", "podMonitorRelabelings"] {
            if non_empty_seq(m.get(key)) {
                if let Some(at) = m.get(key) {
                    out.push(Warning {
                        at,
                        text: format!(
                            "spec.monitoring.{key} is deprecated and will be removed in a future \
                             release. Please migrate to manually managing your PodMonitor resources \
                             with custom relabeling configurations."
                        ),
                        fix: "Move the relabelings to a PodMonitor you manage.",
                    });
                }
            }
        }
    }
    out
}

/// Go `time.ParseDuration` of a zero duration: `0`, or numbers that are all zero with units.
fn is_zero_duration(s: &str) -> bool {
    let s = s.trim_start_matches('+');
    if s == "0" {
        return true;
    }
    let mut saw_unit = false;
    let mut number = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() || c == '.' {
            number.push(c);
        } else if c.is_ascii_alphabetic() || c == 'µ' {
            if number.is_empty() || number.chars().any(|d| d.is_ascii_digit() && d != '0') {
                return false;
            }
            number.clear();
            saw_unit = true;
        } else {
            return false;
        }
    }
    saw_unit && number.is_empty()
}

fn pooler_warnings<'a>(root: &'a Node, name: &str, ns: &str) -> Vec<Warning<'a>> {
    let mut out = Vec::new();
    if validation_annotation(root, &mut out) {
        return out;
    }
    let bouncer = root.at(&["spec", "pgbouncer"]);
    let set = |key: &[&str]| bouncer.and_then(|b| b.at(key)).filter(|n| plain(Some(n)).is_some_and(|s| !s.is_empty()));
    let manual = set(&["authQuery"]).or(set(&["authQuerySecret", "name"])).or(set(&["serverTLSSecret", "name"]));
    let cluster = plain(root.at(&["spec", "cluster", "name"]));
    if let (Some(at), Some(cluster)) = (manual, cluster) {
        out.push(Warning {
            at,
            text: format!(
                "The operator won't handle the Pooler {name:?} integration with the Cluster \
                 {cluster:?} ({ns:?}). Manually configure it as described in the docs."
            ),
            fix: "Without authQuery, authQuerySecret and serverTLSSecret the operator sets up the \
                  auth user, its function and TLS itself; keep them only with the manual setup \
                  the docs describe.",
        });
    }
    if let Some(at) = set(&["authQuerySecret", "name"]) {
        out.push(Warning {
            at,
            text: "The .spec.pgbouncer.authQuerySecret field has been deprecated".into(),
            fix: "Remove authQuerySecret and let the operator manage the auth user.",
        });
    }
    if let Some(m) = root.at(&["spec", "monitoring"]) {
        let at = m
            .get("enablePodMonitor")
            .filter(|n| is_true(Some(n)))
            .or_else(|| m.get("podMonitorMetricRelabelings").filter(|n| non_empty_seq(Some(n))))
            .or_else(|| m.get("podMonitorRelabelings").filter(|n| non_empty_seq(Some(n))));
        if let Some(at) = at {
            out.push(Warning {
                at,
                text: "spec.monitoring is deprecated and will be removed in a future release. Set \
                       this field to false and create a PodMonitor resource for your pooler as \
                       described in the documentation"
                    .into(),
                fix: "Remove spec.monitoring and add a PodMonitor that selects the Pooler's pods (cnpg.io/poolerName label).",
            });
        }
    }
    out
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for kind in [Kind::Cluster, Kind::Pooler] {
        for (inst, i, doc) in index.instances_of(kind) {
            if i.owner.is_none() && is_demo_path(index, i.doc) {
                continue;
            }
            let (warnings, file) = if kind == Kind::Cluster {
                (cluster_warnings(&doc.root), "cluster_webhook.go")
            } else {
                let (Some(name), Some(ns)) = (index.name(inst), index.namespace(inst)) else { continue };
                (pooler_warnings(&doc.root, name, ns), "pooler_webhook.go")
            };
            for w in warnings {
                ctx.report(
                    Loc::value(i.doc, w.at),
                    format!("the CloudNativePG 1.30 webhook warns on every apply: \"{}\"", w.text),
                )
                .object(inst)
                .help(format!("{} (The warning comes from {SOURCE}/{file}.)", w.fix));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_zero_duration;

    #[test]
    fn zero_durations_as_go_reads_them() {
        for z in ["0", "0s", "0m", "0h0m0s", "0.0s", "+0s"] {
            assert!(is_zero_duration(z), "{z}");
        }
        for nz in ["30s", "1m", "0.5s", "s", "", "abc", "-"] {
            assert!(!is_zero_duration(nz), "{nz}");
        }
    }
}

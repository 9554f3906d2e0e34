//! CNPG102: a bucket lifecycle rule that deletes backups barman still needs.

use super::support::{self, Method};
use crate::cron;
use crate::rules::{Category, Loc, RuleMeta, RuleOption, Severity};
use crate::rules::engine::Ctx;
use crate::index::{Index, InstId};
use crate::model::DocId;
use crate::model::infra::{bucket_of, Scope};
use crate::model::cnpg::{retention_days, At, BackupLike, Cluster, ObjectStore, BARMAN_PLUGIN};
use crate::model::{Kind, Val};
use crate::yaml::Node;

/// Extra days the lifecycle must keep, for users who want slack beyond the strict minimum.
pub const SAFETY_MARGIN_DAYS: RuleOption = RuleOption {
    key: "safety-margin-days",
    default: 0,
    minimum: 0,
    description:
        "Extra days the bucket lifecycle must keep beyond retention plus the backup interval.",
};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG102",
    name: "lifecycle-shorter-than-retention",
    severity: Severity::Error,
    summary: "A bucket lifecycle rule deletes backups before barman's retention window plus one backup interval.",
    on_by_default: true,
    category: Category::Backup,
    needs_schemas: false,
    options: &[SAFETY_MARGIN_DAYS],
};

const DAY: u64 = 86_400;

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    if index.infra.buckets.is_empty() {
        return;
    }
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let Some(cluster_name) = index.name(inst) else {
            continue;
        };
        for t in support::archive_targets(index, inst) {
            let Some(Val::Known(dest)) = t.destination_path().map(|p| p.value) else {
                continue;
            };
            let Some(bucket) = bucket_of(dest) else {
                continue;
            };
            // In-tree retention lives on the Cluster; with the plugin, on the ObjectStore.
            let (retention, retention_doc) = match t.method {
                Method::InTree => (Cluster(&doc.root).retention_policy(), i.doc),
                Method::Plugin => {
                    let store_doc = t.config_doc;
                    let root = index.doc(store_doc).map(|d| &d.root);
                    (root.and_then(|r| ObjectStore(r).retention_policy()), store_doc)
                }
            };
            let Some(At { value: Val::Known(policy), node: policy_node }) = retention else {
                continue;
            };
            let Some(days) = retention_days(policy) else {
                continue;
            };
            let interval = backup_interval(index, inst, cluster_name, t.method);
            let margin = u64::try_from(ctx.option(&SAFETY_MARGIN_DAYS)).unwrap_or(0);
            let needed = days
                .saturating_add(margin)
                .saturating_mul(DAY)
                .saturating_add(interval.seconds);
            let keys = archive_key_prefix(dest, t.server_name.known());
            for b in index.infra.buckets.iter().filter(|b| b.name == bucket) {
                for rule in &b.delete_rules {
                    let (age, age_span) = (rule.age_days, rule.span);
                    if u64::from(age).saturating_mul(DAY) > needed || !rule.scope.covers(&keys) {
                        continue;
                    }
                    let min_days = needed.div_ceil(DAY) + 1;
                    let under = match &rule.scope {
                        Scope::Prefixes(prefixes) => prefixes
                            .iter()
                            .find(|p| keys.starts_with(p.as_str()))
                            .map(|p| format!(" under `{p}`"))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    let f = ctx.report(
                        Loc::Span(age_span),
                        format!(
                            "bucket `{bucket}` deletes objects{under} after {age} days, but cluster \
                             `{cluster_name}` keeps a {policy} recovery window with a base backup \
                             every {}: barman keeps the last base backup older than the window, \
                             and this rule deletes it, so point-in-time recovery to the start of \
                             the window fails",
                            human_duration(interval.seconds)
                        ),
                    )
                    .object(inst)
                    .help(format!(
                        "Raise the lifecycle age to at least {min_days} days (retention {days} \
                         days + {} between base backups{}), or let barman's retentionPolicy do \
                         the deleting and drop the lifecycle rule.",
                        human_duration(interval.seconds),
                        if margin > 0 {
                            format!(" + {margin} days of safety margin")
                        } else {
                            String::new()
                        }
                    ))
                    .related(
                        Loc::value(retention_doc, policy_node),
                        format!("retention policy {policy}"),
                    );
                    if let Some((sb_doc, node)) = interval.from {
                        f.related(Loc::value(sb_doc, node), "base backup schedule");
                    }
                }
            }
        }
    }
}

/// The object keys barman writes for a target start with this: the `destinationPath` below
/// the bucket, then the server name (`<destinationPath>/<serverName>/`). Without a known server
/// name, only the destination part, so that only a rule covering all of it counts.
fn archive_key_prefix(destination_path: &str, server_name: Option<&str>) -> String {
    let below_bucket = destination_path
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map_or("", |(_, path)| path.trim_matches('/'));
    let mut key = String::from(below_bucket);
    if !key.is_empty() {
        key.push('/');
    }
    if let Some(server) = server_name {
        key.push_str(server);
        key.push('/');
    }
    key
}

struct Interval<'a> {
    seconds: u64,
    /// The schedule that sets it, when one does.
    from: Option<(DocId, &'a Node)>,
}

/// Whether a ScheduledBackup's method writes base backups to this kind of target: volume
/// snapshots never reach the bucket, and other plugins write elsewhere.
fn writes_to(view: &BackupLike<'_>, method: Method) -> bool {
    let m = view.method().map(|m| m.value);
    match method {
        // The CRD defaults an omitted method to barmanObjectStore.
        Method::InTree => matches!(m, None | Some(Val::Known("barmanObjectStore"))),
        Method::Plugin => {
            m == Some(Val::Known("plugin"))
                && view.plugin_name().map(|p| p.value) == Some(Val::Known(BARMAN_PLUGIN))
        }
    }
}

/// Time between base backups: the most frequent ScheduledBackup of this cluster that writes to
/// the target (longest gap of its cron schedule), or a day when none is found.
fn backup_interval<'a>(
    index: &'a Index,
    cluster: InstId,
    cluster_name: &str,
    method: Method,
) -> Interval<'a> {
    let mut best = Interval {
        seconds: DAY,
        from: None,
    };
    let mut found = false;
    let Some(ns) = index.namespace(cluster) else {
        return best;
    };
    for sb in index.backups_naming(Kind::ScheduledBackup, ns, Some(cluster_name), cluster) {
        let Some(inst) = index.instance(sb) else {
            continue;
        };
        let Some(doc) = index.doc(inst.doc) else {
            continue;
        };
        let view = BackupLike(&doc.root);
        if view.suspended() || !writes_to(&view, method) {
            continue;
        }
        let Some(At { value: Val::Known(spec), node }) = view.schedule() else {
            continue;
        };
        let Ok((schedule, _)) = cron::parse(spec) else {
            continue;
        };
        let Some(gap) = schedule.max_gap_seconds() else {
            continue;
        };
        if !found || gap < best.seconds {
            best = Interval {
                seconds: gap,
                from: Some((inst.doc, node)),
            };
            found = true;
        }
    }
    best
}

/// "1 day", "7 days", "6 hours", "90 seconds".
pub fn human_duration(seconds: u64) -> String {
    let plural = |n: u64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if seconds % DAY == 0 {
        plural(seconds / DAY, "day")
    } else if seconds % 3600 == 0 {
        plural(seconds / 3600, "hour")
    } else if seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

//! CNPG209: single-object checks of the CNPG Cluster, Pooler and Database webhooks that the
//! other rules do not cover (internal/webhook/v1 in cloudnative-pg v1.30.0). Each check reads the raw manifest, after
//! rendering, and stays silent on placeholders.

use std::collections::HashMap;

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::index::InstId;
use crate::model::DocId;
use crate::model::cnpg::Cluster;
use crate::model::value::{known_text, text};
use crate::model::{Kind, Val};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG209",
    name: "rejected-by-webhook",
    severity: Severity::Error,
    summary: "A Cluster, Pooler or Database that a CNPG admission webhook rejects.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// PgBouncer parameters the Pooler webhook allows (`AllowedPgbouncerGenericConfigurationParameters`,
/// CNPG 1.30.0 internal/webhook/v1/pooler_webhook.go).
const PGBOUNCER_ALLOWED: &[&str] = &[
    "application_name_add_host",
    "auth_type",
    "autodb_idle_timeout",
    "cancel_wait_timeout",
    "client_idle_timeout",
    "client_login_timeout",
    "client_tls_ciphers",
    "client_tls_sslmode",
    "client_tls13_ciphers",
    "default_pool_size",
    "disable_pqexec",
    "dns_max_ttl",
    "dns_nxdomain_ttl",
    "idle_transaction_timeout",
    "ignore_startup_parameters",
    "listen_backlog",
    "log_connections",
    "log_disconnections",
    "log_pooler_errors",
    "log_stats",
    "max_client_conn",
    "max_db_connections",
    "max_packet_size",
    "max_prepared_statements",
    "max_user_connections",
    "min_pool_size",
    "pkt_buf",
    "query_timeout",
    "query_wait_timeout",
    "reserve_pool_size",
    "reserve_pool_timeout",
    "sbuf_loopcnt",
    "server_check_delay",
    "server_check_query",
    "server_connect_timeout",
    "server_fast_close",
    "server_idle_timeout",
    "server_lifetime",
    "server_login_retry",
    "server_reset_query",
    "server_reset_query_always",
    "server_round_robin",
    "server_tls_ciphers",
    "server_tls13_ciphers",
    "server_tls_protocols",
    "server_tls_sslmode",
    "stats_period",
    "suspend_timeout",
    "tcp_defer_accept",
    "tcp_socket_buffer",
    "tcp_keepalive",
    "tcp_keepcnt",
    "tcp_keepidle",
    "tcp_keepintvl",
    "tcp_user_timeout",
    "track_extra_parameters",
    "verbose",
];

struct Reporter<'c, 'a> {
    ctx: &'c mut Ctx<'a>,
    inst: InstId,
    doc: DocId,
}

impl Reporter<'_, '_> {
    fn at(&mut self, node: &Node, message: String, help: &str) {
        self.ctx
            .report(Loc::value(self.doc, node), message)
            .object(self.inst)
            .help(help);
    }
    fn at_key(&mut self, node: &Node, message: String, help: &str) {
        self.ctx
            .report(Loc::key(self.doc, node), message)
            .object(self.inst)
            .help(help);
    }
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let mut r = Reporter { ctx, inst, doc: i.doc };
        cluster(&mut r, &doc.root);
    }
    for (inst, i, doc) in index.instances_of(Kind::Pooler) {
        let mut r = Reporter { ctx, inst, doc: i.doc };
        pooler(&mut r, &doc.root);
    }
    for (inst, i, doc) in index.instances_of(Kind::Database) {
        let mut r = Reporter { ctx, inst, doc: i.doc };
        database(&mut r, &doc.root);
    }
}

fn known(node: Option<&Node>) -> Option<&str> {
    text(node?)?.known()
}

fn int(node: Option<&Node>) -> Option<i64> {
    node?.as_scalar()?.as_i64()
}

/// `^[a-z]([-a-z0-9]*[a-z0-9])?$`
fn is_dns1035_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_lowercase()
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b.last().is_some_and(|c| *c != b'-')
}

/// `^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$` (validateConfiguration).
fn is_parameter_name(s: &str) -> bool {
    let part = |p: &str| {
        let b = p.as_bytes();
        !b.is_empty()
            && (b[0].is_ascii_alphabetic() || b[0] == b'_')
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'$')
    };
    let mut parts = s.split('.');
    let first = parts.next().is_some_and(part);
    let second = parts.next().is_none_or(part);
    first && second && parts.next().is_none()
}

fn cluster(r: &mut Reporter<'_, '_>, root: &Node) {
    let spec = root.get("spec");
    // Name: a DNS-1035 label of at most 50 characters.
    if let Some(node) = root.at(&["metadata", "name"]) {
        if let Some(Val::Known(name)) = text(node) {
            if !is_dns1035_label(name) {
                r.at(
                    node,
                    format!("cluster name `{name}` is not a valid DNS-1035 label (lowercase letters, digits and '-', starting with a letter); the webhook rejects it"),
                    "Rename the Cluster; its name becomes service, secret and pod names.",
                );
            } else if name.len() > 50 {
                r.at(
                    node,
                    format!("cluster name `{name}` is {} characters long; the webhook allows at most 50, because CNPG derives longer names from it", name.len()),
                    "Shorten the Cluster's name to 50 characters or fewer.",
                );
            }
        }
    }
    let Some(spec) = spec else { return };
    let instances = match spec.get("instances") {
        None => Some(1),
        Some(n) => int(Some(n)),
    };
    // No check on the application database and owner: the defaulting webhook runs first and
    // sets database to `app` and owner to the database's name when either is missing
    // (`defaultInitDB`, `defaultRecovery`, `defaultPgBaseBackup` in CNPG's
    // api/v1/cluster_defaults.go), so the validating webhook never sees one without the other.
    // Recovery targets are mutually exclusive; name, XID and immediate need a backupID.
    if let Some(target) = spec.at(&["bootstrap", "recovery", "recoveryTarget"]).filter(|t| t.as_map().is_some()) {
        let set: Vec<&crate::yaml::Entry> = ["targetImmediate", "targetLSN", "targetName", "targetXID", "targetTime"]
            .iter()
            .filter_map(|k| target.entry(k))
            .filter(|e| e.key.as_str() == Some("targetImmediate") && !e.value.is_null() || known_text(&e.value).is_some())
            .collect();
        if let [first, rest @ ..] = set.as_slice() {
            for e in rest {
                r.at_key(
                    &e.value,
                    format!(
                        "recoveryTarget sets `{}` together with `{}`; the webhook rejects it (\"Recovery target options are mutually exclusive\")",
                        e.key.as_str().unwrap_or(""),
                        first.key.as_str().unwrap_or("")
                    ),
                    "Keep one target: a time, an LSN, a restore point name, an XID, or immediate.",
                );
            }
            let needs_backup_id = set
                .iter()
                .find(|e| matches!(e.key.as_str(), Some("targetName" | "targetXID" | "targetImmediate")));
            let has_backup_id = target.get("backupID").is_some_and(|b| known_text(b).is_some() || text(b) == Some(Val::Unknown));
            let snapshots = spec.at(&["bootstrap", "recovery", "volumeSnapshots"]).is_some_and(|v| !v.is_null());
            if let Some(e) = needs_backup_id {
                if !has_backup_id && !snapshots {
                    r.at_key(
                        &e.value,
                        format!("recoveryTarget `{}` needs backupID; the webhook rejects it (\"BackupID is missing\")", e.key.as_str().unwrap_or("")),
                        "Set recoveryTarget.backupID to the base backup to start from (time and LSN targets do not need one).",
                    );
                }
            }
        }
    }
    // supervised with a single instance.
    if let Some(node) = spec.get("primaryUpdateStrategy") {
        if known(Some(node)) == Some("supervised") && instances == Some(1) {
            r.at(node, "primaryUpdateStrategy: supervised on a single-instance cluster; the webhook rejects it, since there is no standby to switch over to".into(), "Use unsupervised, or run more than one instance.");
        }
    }
    // Legacy synchronous replica bounds.
    let max_sync = spec.get("maxSyncReplicas");
    let min_sync = spec.get("minSyncReplicas");
    if let (Some(node), Some(max), Some(n)) = (max_sync, int(max_sync), instances) {
        if max > 0 && max >= n {
            r.at(node, format!("maxSyncReplicas ({max}) must be lower than instances ({n}); the webhook rejects it"), "Lower maxSyncReplicas below the number of instances, or add instances.");
        }
    }
    if let (Some(node), Some(min)) = (min_sync, int(min_sync)) {
        let max = int(max_sync).unwrap_or(0);
        if min > max && (max_sync.is_none() || int(max_sync).is_some()) {
            r.at(node, format!("minSyncReplicas ({min}) is greater than maxSyncReplicas ({max}); the webhook rejects it"), "Keep minSyncReplicas at most maxSyncReplicas.");
        }
    }
    // Reserved environment variable names.
    for e in spec.get("env").and_then(Node::as_seq).unwrap_or(&[]) {
        let Some(node) = e.get("name") else { continue };
        let Some(name) = known(Some(node)) else { continue };
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("CNPG_") || upper.starts_with("PG") || matches!(upper.as_str(), "POD_NAME" | "NAMESPACE" | "CLUSTER_NAME") {
            r.at(node, format!("env `{name}` is reserved for the operator (names starting with PG or CNPG_, and POD_NAME, NAMESPACE, CLUSTER_NAME); the webhook rejects it"), "Rename the variable; PostgreSQL settings belong in spec.postgresql.parameters.");
        }
    }
    // Managed roles: reserved and duplicate names.
    let mut seen: HashMap<&str, &Node> = HashMap::new();
    for role in spec.at(&["managed", "roles"]).and_then(Node::as_seq).unwrap_or(&[]) {
        let Some(node) = role.get("name") else { continue };
        let Some(name) = known(Some(node)) else { continue };
        if matches!(name, "postgres" | "streaming_replica") || name.starts_with("pg_") || name.starts_with("cnpg_") {
            r.at(node, format!("managed role `{name}` is reserved for the operator (postgres, streaming_replica, and names starting with pg_ or cnpg_); the webhook rejects it"), "Manage your own roles under another name.");
        }
        if seen.insert(name, node).is_some() {
            r.at(node, format!("managed role `{name}` is listed twice; the webhook rejects it (\"Role name is duplicate of another\")"), "Merge the two entries.");
        }
    }
    // Managed services: rw cannot be disabled; additional services cannot take operator names.
    if let Some(services) = spec.at(&["managed", "services"]) {
        for node in services.get("disabledDefaultServices").and_then(Node::as_seq).unwrap_or(&[]) {
            if known(Some(node)) == Some("rw") {
                r.at(node, "the rw service cannot be disabled; the webhook rejects it (applications and replicas reach the primary through it)".into(), "Remove rw from disabledDefaultServices; only r and ro can be disabled.");
            }
        }
        if let Some(cluster_name) = known(root.at(&["metadata", "name"])) {
            for add in services.get("additional").and_then(Node::as_seq).unwrap_or(&[]) {
                let Some(node) = add.at(&["serviceTemplate", "metadata", "name"]) else { continue };
                let Some(name) = known(Some(node)) else { continue };
                if ["rw", "ro", "r", "any"].iter().any(|s| name == format!("{cluster_name}-{s}")) {
                    r.at(node, format!("additional service `{name}` takes the name of a service the operator creates; the webhook rejects it"), "Give the additional service another name.");
                }
            }
        }
    }
    // Parameter names (validateConfiguration).
    for e in Cluster(root).parameters() {
        let Some(key) = e.key.as_str() else { continue };
        if key.contains('$') && key.contains('{') {
            continue;
        }
        if !is_parameter_name(key) {
            r.at_key(&e.value, format!("`{key}` is not a valid PostgreSQL parameter name; the webhook rejects it"), "Parameter names are letters, digits and _, with at most one dot (extension.setting).");
        }
    }
}

fn pooler(r: &mut Reporter<'_, '_>, root: &Node) {
    if let (Some(node), Some(cluster)) = (root.at(&["metadata", "name"]), known(root.at(&["spec", "cluster", "name"]))) {
        if known(Some(node)) == Some(cluster) {
            r.at(node, format!("the Pooler is named `{cluster}`, like its cluster; the webhook rejects it (\"the pooler resource cannot have the same name of a cluster\"), since the Pooler's service would clash with the cluster's"), "Name the Pooler differently, for example <cluster>-pooler-rw.");
        }
    }
    for e in root.at(&["spec", "pgbouncer", "parameters"]).and_then(Node::as_map).unwrap_or(&[]) {
        let Some(key) = e.key.as_str() else { continue };
        if PGBOUNCER_ALLOWED.contains(&key) || key.contains("${") {
            continue;
        }
        let why = if key == "auth_user" { " (allowed from the release after 1.30.0)" } else { "" };
        r.at_key(&e.value, format!("pgbouncer parameter `{key}` is not in the Pooler webhook's allow-list{why}; the webhook rejects it (\"Invalid or reserved parameter\")"), "Remove it; CNPG manages the connection, authentication and TLS settings of PgBouncer itself.");
    }
}

fn database(r: &mut Reporter<'_, '_>, root: &Node) {
    if let Some(node) = root.at(&["spec", "name"]) {
        if let Some(name @ ("postgres" | "template0" | "template1")) = known(Some(node)) {
            r.at(node, format!("a Database object cannot manage `{name}`; the CRD rejects it"), "Manage an application database; the system databases belong to the operator.");
        }
    }
    for list in ["extensions", "schemas", "fdws", "servers"] {
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for item in root.at(&["spec", list]).and_then(Node::as_seq).unwrap_or(&[]) {
            let Some(node) = item.get("name") else { continue };
            let Some(name) = known(Some(node)) else { continue };
            if seen.insert(name, ()).is_some() {
                r.at(node, format!("{list} lists `{name}` twice; the webhook rejects it (duplicate value)"), "Keep one entry per name.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_dns1035_label("pg-main"));
        assert!(!is_dns1035_label("pg_main"));
        assert!(!is_dns1035_label("1pg"));
        assert!(!is_dns1035_label("pg-"));
        assert!(!is_dns1035_label("pg.main"));
        assert!(is_parameter_name("pg_stat_statements.max"));
        assert!(is_parameter_name("work_mem"));
        assert!(!is_parameter_name("a.b.c"));
        assert!(!is_parameter_name("work-mem"));
        assert!(!is_parameter_name("1abc"));
    }
}

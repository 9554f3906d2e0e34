//! CNPG203: `postgresql.parameters` sets a parameter CNPG manages or blocks.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::Cluster;
use crate::model::value::text;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG203",
    name: "fixed-parameter",
    severity: Severity::Error,
    summary: "postgresql.parameters sets a parameter that CNPG manages itself or does not allow.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// `FixedConfigurationParameters` of CNPG 1.30.0 (pkg/postgres/configuration.go), the ones the
/// operator sets itself.
const FIXED: &[&str] = &[
    "archive_command",
    "archive_mode",
    "cluster_name",
    "pg_failover_slots.primary_dsn",
    "pg_failover_slots.standby_slot_names",
    "port",
    "primary_conninfo",
    "primary_slot_name",
    "recovery_target",
    "recovery_target_action",
    "recovery_target_inclusive",
    "recovery_target_lsn",
    "recovery_target_name",
    "recovery_target_time",
    "recovery_target_timeline",
    "recovery_target_xid",
    "restore_command",
    "shared_preload_libraries",
    "ssl",
    "ssl_ca_file",
    "ssl_cert_file",
    "ssl_crl_file",
    "ssl_dh_params_file",
    "ssl_ecdh_curve",
    "ssl_key_file",
    "ssl_passphrase_command",
    "ssl_passphrase_command_supports_reload",
    "ssl_prefer_server_ciphers",
    "synchronized_standby_slots",
    "synchronous_standby_names",
    "temp_tablespaces",
];

/// The same list's "blocked" entries: settings that must keep their default.
const BLOCKED: &[&str] = &[
    "allow_system_table_mods",
    "archive_cleanup_command",
    "bonjour",
    "bonjour_name",
    "config_file",
    "data_directory",
    "data_sync_retry",
    "event_source",
    "external_pid_file",
    "hba_file",
    "hot_standby",
    "ident_file",
    "jit_provider",
    "listen_addresses",
    "log_destination",
    "log_directory",
    "log_file_mode",
    "log_filename",
    "log_rotation_age",
    "log_rotation_size",
    "log_truncate_on_rotation",
    "logging_collector",
    "promote_trigger_file",
    "recovery_end_command",
    "recovery_min_apply_delay",
    "restart_after_crash",
    "stats_temp_directory",
    "syslog_facility",
    "syslog_ident",
    "syslog_sequence_numbers",
    "syslog_split_messages",
    "unix_socket_directories",
    "unix_socket_group",
    "unix_socket_permissions",
];

/// Keys the webhook lets through when the value is exactly the one CNPG generates itself
/// (GlobalDefaultSettings; a plain string compare).
const SAME_AS_GENERATED: &[(&str, &str)] = &[
    ("logging_collector", "on"),
    ("log_destination", "csvlog"),
    ("log_directory", "/controller/log"),
    ("log_filename", "postgres"),
    ("log_rotation_age", "0"),
    ("log_rotation_size", "0"),
    ("log_truncate_on_rotation", "false"),
    ("shared_preload_libraries", ""),
];

const SKIP_WAL_ARCHIVING: &str = "cnpg.io/skipWalArchiving";

/// Where the setting belongs instead, for the keys users most often reach for.
fn instead(key: &str) -> &'static str {
    match key {
        "shared_preload_libraries" => {
            "List libraries in spec.postgresql.shared_preload_libraries; setting a `pgaudit.*`, \
             `pg_stat_statements.*` or `auto_explain.*` parameter also loads its library."
        }
        "synchronous_standby_names" => "Configure synchronous replication in spec.postgresql.synchronous.",
        "recovery_min_apply_delay" => "Use spec.replica.minApplyDelay for a delayed replica.",
        "archive_mode" | "archive_command" | "restore_command" | "archive_cleanup_command" => {
            "CNPG runs WAL archiving and restore itself; configure it through spec.backup or the \
             barman-cloud plugin."
        }
        k if k.starts_with("recovery_target") => {
            "Set a point-in-time target in spec.bootstrap.recovery.recoveryTarget."
        }
        k if k.starts_with("log_") || k == "logging_collector" || k.starts_with("syslog_") => {
            "CNPG collects the server log itself and writes it to the pod's standard output as JSON; \
             remove the parameter."
        }
        k if k.starts_with("ssl") => {
            "CNPG manages TLS; provide certificates through spec.certificates, or remove the parameter."
        }
        "temp_tablespaces" => "Declare temporary tablespaces in spec.tablespaces (temporary: true).",
        _ => "Remove the parameter; the operator sets it (or requires its default) on every instance.",
    }
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        for e in cluster.parameters() {
            let Some(key) = e.key.as_str() else { continue };
            let fixed = FIXED.contains(&key);
            if !fixed && !BLOCKED.contains(&key) {
                continue;
            }
            let value = match text(&e.value) {
                Some(Val::Known(v)) => Some(v),
                Some(Val::Unknown) => continue,
                None => None,
            };
            let generated = match key {
                "archive_mode" => {
                    let skip = cluster
                        .annotation(SKIP_WAL_ARCHIVING)
                        .is_some_and(|a| a.value == Val::Known("enabled"));
                    match (skip, cluster.is_replica()) {
                        (true, _) => Some("off"),
                        (false, Some(true)) => Some("always"),
                        (false, Some(false)) => Some("on"),
                        (false, None) => continue,
                    }
                }
                _ => SAME_AS_GENERATED.iter().find(|(k, _)| *k == key).map(|(_, v)| *v),
            };
            if generated.is_some() && generated == value {
                continue;
            }
            let label = if fixed { "managed by the operator" } else { "blocked by the operator" };
            let mut message = format!(
                "`{key}` is {label}: the Cluster webhook rejects it (\"Can't set fixed \
                 configuration parameter\")"
            );
            if let Some(g) = generated {
                message.push_str(&format!(
                    "; only the exact value CNPG generates itself, \"{g}\", is accepted"
                ));
            }
            let finding = ctx.report(Loc::key(i.doc, &e.key), message);
            finding.object(inst).help(instead(key));
            if key == "ssl_ecdh_curve" {
                // Allowed again on the release-1.30 branch (#11308), not yet in a tag.
                finding.severity(Severity::Warning).help(
                    "CNPG 1.30.0 and earlier reject it; the fix that allows it (#11308) is queued \
                     for 1.30.1. Remove it until the operator is upgraded.",
                );
            }
        }
    }
}

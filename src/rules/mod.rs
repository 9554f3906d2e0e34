//! Stage 7, rules: the rules. A rule is one file here (its metadata and its check), one page in
//! `rules/` and a fixture repository in `fixtures/rules/<CODE>/`, registered on one line below.
//! Everything else (the `rules` table, `explain`, SARIF's rule descriptors, the configuration
//! schema, each rule's own test) comes from this list. `engine` runs them; `finding` is what they
//! report; `support` holds what several rules share.

pub mod engine;
pub mod finding;

pub use engine::Ctx;
pub use finding::{Category, Finding, Loc, RuleMeta, RuleOption, Severity};

pub mod support;
#[cfg(test)]
pub mod testing;

pub struct RuleEntry {
    pub meta: &'static RuleMeta,
    pub check: fn(&mut Ctx<'_>),
    /// The rule's documentation (`rules/<CODE>-<name>.md`), front matter included.
    pub doc: &'static str,
}

impl RuleEntry {
    /// The rule's page as `explain` prints it and SARIF carries it: the doc without its front
    /// matter.
    pub fn page(&self) -> &'static str {
        let doc = self.doc;
        doc.strip_prefix("---\n")
            .and_then(|rest| rest.split_once("\n---\n"))
            .map_or(doc, |(_, body)| body.trim_start_matches('\n'))
    }
}

macro_rules! registry {
    ($($module:ident => $doc:literal,)*) => {
        $(pub mod $module;)*
        /// Every rule, in code order.
        pub static RULES: &[RuleEntry] = &[
            $(RuleEntry {
                meta: &$module::META,
                check: $module::check,
                doc: include_str!(concat!("../../rules/", $doc)),
            },)*
        ];

        /// One test per rule (see [`testing`]): `cargo test cnpg101` runs one.
        #[cfg(test)]
        mod each_rule {
            $(#[test]
            fn $module() {
                super::testing::check_rule(&super::$module::META);
            })*
        }
    };
}

registry! {
    cnpg001_yaml_syntax_error => "CNPG001-yaml-syntax-error.md",
    cnpg002_schema_violation => "CNPG002-schema-violation.md",
    cnpg003_unknown_field => "CNPG003-unknown-field.md",
    cnpg004_removed_api_version => "CNPG004-removed-api-version.md",
    cnpg005_unreadable_file => "CNPG005-unreadable-file.md",
    cnpg006_terraform_syntax_error => "CNPG006-terraform-syntax-error.md",
    cnpg007_resource_limit => "CNPG007-resource-limit.md",
    cnpg101_double_nested_destination_path => "CNPG101-double-nested-destination-path.md",
    cnpg102_lifecycle_shorter_than_retention => "CNPG102-lifecycle-shorter-than-retention.md",
    cnpg103_inline_and_plugin_archiver => "CNPG103-inline-and-plugin-archiver.md",
    cnpg104_deprecated_inline_barman => "CNPG104-deprecated-inline-barman.md",
    cnpg105_archive_target_collision => "CNPG105-archive-target-collision.md",
    cnpg106_unix_cron_schedule => "CNPG106-unix-cron-schedule.md",
    cnpg107_backup_method_mismatch => "CNPG107-backup-method-mismatch.md",
    cnpg108_missing_object_store => "CNPG108-missing-object-store.md",
    cnpg109_plugin_not_wal_archiver => "CNPG109-plugin-not-wal-archiver.md",
    cnpg110_no_scheduled_backup => "CNPG110-no-scheduled-backup.md",
    cnpg111_backup_targets_unknown_cluster => "CNPG111-backup-targets-unknown-cluster.md",
    cnpg112_ignored_retention_policy => "CNPG112-ignored-retention-policy.md",
    cnpg113_recovery_source_not_archived => "CNPG113-recovery-source-not-archived.md",
    cnpg114_needless_skip_wal_archive_check => "CNPG114-needless-skip-wal-archive-check.md",
    cnpg115_ignored_plugin_parameter => "CNPG115-ignored-plugin-parameter.md",
    cnpg116_no_backup => "CNPG116-no-backup.md",
    cnpg201_mixed_bootstrap_methods => "CNPG201-mixed-bootstrap-methods.md",
    cnpg202_unknown_external_cluster => "CNPG202-unknown-external-cluster.md",
    cnpg203_fixed_parameter => "CNPG203-fixed-parameter.md",
    cnpg204_memory_below_shared_buffers => "CNPG204-memory-below-shared-buffers.md",
    cnpg205_image_tag => "CNPG205-image-tag.md",
    cnpg206_single_instance => "CNPG206-single-instance.md",
    cnpg207_wal_size => "CNPG207-wal-size.md",
    cnpg208_flux_substitution_collision => "CNPG208-flux-substitution-collision.md",
    cnpg209_rejected_by_webhook => "CNPG209-rejected-by-webhook.md",
    cnpg210_database_reclaim_delete => "CNPG210-database-reclaim-delete.md",
    cnpg211_smart_shutdown_skipped => "CNPG211-smart-shutdown-skipped.md",
    cnpg212_webhook_warning => "CNPG212-webhook-warning.md",
    cnpg213_wrong_secret_keys => "CNPG213-wrong-secret-keys.md",
    cnpg214_missing_role => "CNPG214-missing-role.md",
    cnpg215_recovery_across_majors => "CNPG215-recovery-across-majors.md",
    cnpg216_pooler_exceeds_max_connections => "CNPG216-pooler-exceeds-max-connections.md",
    cnpg217_role_never_dropped => "CNPG217-role-never-dropped.md",
    cnpg301_workload_identity_member_mismatch => "CNPG301-workload-identity-member-mismatch.md",
    cnpg302_workload_identity_annotation_missing => "CNPG302-workload-identity-annotation-missing.md",
    cnpg401_shared_flux_kustomization => "CNPG401-shared-flux-kustomization.md",
    cnpg402_object_applied_twice => "CNPG402-object-applied-twice.md",
    cnpg403_missing_operator_dependency => "CNPG403-missing-operator-dependency.md",
    cnpg404_sops_without_decryption => "CNPG404-sops-without-decryption.md",
    cnpg405_prunable_database => "CNPG405-prunable-database.md",
    cnpg406_dangling_reference => "CNPG406-dangling-reference.md",
    cnpg407_wait_ignores_health_checks => "CNPG407-wait-ignores-health-checks.md",
    cnpg408_build_fails => "CNPG408-build-fails.md",
    cnpg409_undeployed_manifest => "CNPG409-undeployed-manifest.md",
    cnpg410_health_check_exprs_never_run => "CNPG410-health-check-exprs-never-run.md",
    cnpg411_force_recreates_database => "CNPG411-force-recreates-database.md",
    cnpg412_generated_name_not_rewritten => "CNPG412-generated-name-not-rewritten.md",
    cnpg501_plaintext_secret => "CNPG501-plaintext-secret.md",
    cnpg502_pg_hba_trust => "CNPG502-pg-hba-trust.md",
    cnpg503_superuser_access => "CNPG503-superuser-access.md",
    cnpg900_unused_suppression => "CNPG900-unused-suppression.md",
}

/// Looks a rule up by code (`CNPG101`) or name (`double-nested-destination-path`).
pub fn find(code_or_name: &str) -> Option<&'static RuleEntry> {
    RULES
        .iter()
        .find(|r| r.meta.code.eq_ignore_ascii_case(code_or_name) || r.meta.name == code_or_name)
}

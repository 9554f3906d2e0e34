//! CNPG302: GKE Workload Identity without a Google service account to impersonate.

use super::support::{self, Method};
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::cnpg::{Cluster, GKE_SA_ANNOTATION};
use crate::model::Kind;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG302",
    name: "workload-identity-annotation-missing",
    severity: Severity::Error,
    summary: "gkeEnvironment: true, but the Cluster's service account has no iam.gke.io/gcp-service-account annotation.",
    on_by_default: true,
    category: Category::WorkloadIdentity,
    needs_schemas: false,
    options: &[],
};

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        if cluster.service_account_annotation(GKE_SA_ANNOTATION).is_some()
            || cluster.service_account_name().is_some()
        {
            continue;
        }
        let name = index.name(inst).unwrap_or("the cluster");
        for t in support::archive_targets(index, inst)
            .into_iter()
            .chain(support::source_targets(index, inst))
        {
            let Some(gke) = t.config.gke_environment().filter(|g| g.value) else {
                continue;
            };
            let message = format!(
                "googleCredentials.gkeEnvironment is true, but the service account `{name}` that \
                 the Cluster's pods run as has no `{GKE_SA_ANNOTATION}` annotation: barman gets \
                 the node's identity, WAL archiving fails and the volume fills up"
            );
            let help = format!(
                "Add spec.serviceAccountTemplate.metadata.annotations.\"{GKE_SA_ANNOTATION}\": \
                 <gsa>@<project>.iam.gserviceaccount.com, or set spec.serviceAccountName to a \
                 service account that carries it."
            );
            match (t.method, t.plugin) {
                (Method::Plugin, Some(plugin)) => {
                    let at = plugin
                        .parameter("barmanObjectName")
                        .map(|a| Loc::value(i.doc, a.node))
                        .unwrap_or_else(|| Loc::value(i.doc, plugin.0));
                    ctx.report(at, message)
                        .object(inst)
                        .help(help)
                        .related(Loc::value(t.config_doc, gke.node), "gkeEnvironment set here");
                }
                _ => {
                    ctx.report(Loc::value(t.config_doc, gke.node), message)
                        .object(inst)
                        .help(help);
                }
            }
        }
    }
}

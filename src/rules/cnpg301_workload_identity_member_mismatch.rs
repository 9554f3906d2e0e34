//! CNPG301: Workload Identity bindings that do not name the service account the Cluster's pods
//! run as.

use std::collections::{BTreeMap, BTreeSet};

use super::support;
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::index::InstId;
use crate::model::cnpg::{Cluster, GKE_SA_ANNOTATION};
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG301",
    name: "workload-identity-member-mismatch",
    severity: Severity::Error,
    summary: "The Google service account a Cluster uses has no Workload Identity binding for the Kubernetes service account its pods run as.",
    on_by_default: true,
    category: Category::WorkloadIdentity,
    needs_schemas: false,
    options: &[],
};

/// A cluster that uses GKE Workload Identity through a Google service account.
struct WiCluster<'a> {
    inst: InstId,
    name: &'a str,
    namespace: &'a str,
    ksa: &'a str,
    gsa: String,
    /// The project in `<id>@<project>.iam.gserviceaccount.com`.
    gsa_project: Option<String>,
    annotation: Loc,
}

/// The GSA annotation of the ServiceAccount a Cluster names in `serviceAccountName`.
fn service_account_annotation<'a>(
    index: &'a crate::index::Index,
    cluster: InstId,
    namespace: &str,
    name: &str,
) -> Option<(crate::model::DocId, &'a crate::yaml::Node)> {
    index
        .find(Kind::ServiceAccount, namespace, name, cluster)
        .into_iter()
        .find_map(|sa| {
            let doc = index.instance(sa)?.doc;
            let node = index
                .doc(doc)?
                .root
                .at(&["metadata", "annotations", GKE_SA_ANNOTATION])?;
            Some((doc, node))
        })
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    if index.infra.wi_members.is_empty() && index.infra.service_accounts.is_empty() {
        return;
    }
    // Config Connector and Crossplane IAM objects bind service accounts in ways not read here.
    let config_connector_iam = index.docs.iter().any(|d| {
        d.header.as_ref().is_some_and(|h| {
            let gcp = h.group.ends_with("cnrm.cloud.google.com")
                || h.group.ends_with("gcp.upbound.io")
                || h.group.ends_with("gcp.crossplane.io");
            gcp && h.kind_name.contains("IAM")
        })
    });
    let mut clusters = Vec::new();
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let cluster = Cluster(&doc.root);
        let gke = support::archive_targets(index, inst)
            .into_iter()
            .chain(support::source_targets(index, inst))
            .any(|t| t.config.gke_environment().is_some_and(|g| g.value));
        if !gke {
            continue;
        }
        let (Some(name), Some(namespace)) = (index.name(inst), index.namespace(inst)) else {
            continue;
        };
        if namespace.is_empty() {
            continue;
        }
        // The pods run as the service account named after the Cluster, unless one is given;
        // a given one carries the annotation itself, so read it from that object.
        let (ksa, annotation, annotation_doc) = match cluster.service_account_name().map(|s| s.value) {
            Some(Val::Known(sa)) => {
                let Some((doc, node)) = service_account_annotation(index, inst, namespace, sa)
                else {
                    continue;
                };
                (sa, node, doc)
            }
            Some(Val::Unknown) => continue,
            None => match cluster.service_account_annotation(GKE_SA_ANNOTATION) {
                Some(a) => (name, a.node, i.doc),
                None => continue,
            },
        };
        let Some(Val::Known(email)) = crate::model::value::text(annotation) else {
            continue;
        };
        let gsa = email.split('@').next().unwrap_or(email).trim().to_string();
        let gsa_project = email
            .split_once('@')
            .and_then(|(_, domain)| domain.trim().strip_suffix(".iam.gserviceaccount.com"))
            .map(str::to_string);
        clusters.push(WiCluster {
            inst,
            name,
            namespace,
            ksa,
            gsa,
            gsa_project,
            annotation: Loc::value(annotation_doc, annotation),
        });
    }
    // Clusters that share a Google service account, by namespace.
    let mut expected: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for c in &clusters {
        expected
            .entry((c.gsa.as_str(), c.namespace))
            .or_default()
            .insert(c.ksa);
    }
    for c in &clusters {
        let members: Vec<_> = index
            .infra
            .wi_members
            .iter()
            .filter(|m| m.gsa == c.gsa)
            .collect();
        if members.is_empty() {
            if !config_connector_iam {
                report_unbound(ctx, c);
            }
            continue;
        }
        let bound = members.iter().any(|m| {
            m.namespace.as_deref().is_none_or(|n| n == c.namespace)
                && m.ksa.as_deref().is_none_or(|k| k == c.ksa)
        });
        if !bound {
            let listed: Vec<String> = members
                .iter()
                .map(|m| {
                    format!(
                        "{}/{}",
                        m.namespace.as_deref().unwrap_or("?"),
                        m.ksa.as_deref().unwrap_or("?")
                    )
                })
                .collect();
            let f = ctx.report(
                c.annotation.clone(),
                format!(
                    "Google service account `{}` lets {} impersonate it, but not `{}/{}`, the \
                     service account cluster `{}` runs as: WAL archiving fails with permission \
                     errors and the volume fills up",
                    c.gsa,
                    listed.join(", "),
                    c.namespace,
                    c.ksa,
                    c.name
                ),
            );
            f.object(c.inst).help(format!(
                "Bind member serviceAccount:<project>.svc.id.goog[{}/{}] with \
                 roles/iam.workloadIdentityUser on `{}`.",
                c.namespace, c.ksa, c.gsa
            ));
            for m in &members {
                f.related(Loc::Span(m.span), "existing binding");
            }
        }
        // Bindings in this namespace that name no cluster's service account are decoys.
        let ksas = expected
            .get(&(c.gsa.as_str(), c.namespace))
            .cloned()
            .unwrap_or_default();
        for m in members {
            let (Some(ns), Some(ksa)) = (m.namespace.as_deref(), m.ksa.as_deref()) else {
                continue;
            };
            if ns != c.namespace || ksas.contains(ksa) {
                continue;
            }
            let wanted: Vec<&str> = ksas.iter().copied().collect();
            // Suggest the accounts that still lack a binding, if any.
            let unbound: Vec<&str> = wanted
                .iter()
                .copied()
                .filter(|k| {
                    !index.infra.wi_members.iter().any(|m| {
                        m.gsa == c.gsa
                            && m.namespace.as_deref() == Some(ns)
                            && m.ksa.as_deref() == Some(*k)
                    })
                })
                .collect();
            let help = match unbound.first() {
                Some(k) => format!(
                    "CNPG creates a service account named after each Cluster. Bind `{ns}/{k}` \
                     instead, or set spec.serviceAccountName to `{ksa}` on the Cluster."
                ),
                None => "CNPG creates a service account named after each Cluster, and those are \
                         bound already: remove this binding."
                    .to_string(),
            };
            ctx.report(
                Loc::Span(m.span),
                format!(
                    "this binding lets `{ns}/{ksa}` impersonate `{}`, but no CloudNativePG \
                     Cluster in `{ns}` runs as `{ksa}`; the Cluster pods run as `{}`",
                    c.gsa,
                    wanted.join("`, `")
                ),
            )
            .object(c.inst)
            .help(help)
            .related(c.annotation.clone(), format!("cluster `{}` uses this account", c.name));
        }
    }
}

/// A Google service account that the repository's Terraform declares, and that nothing in the
/// repository lets any Kubernetes service account impersonate.
fn report_unbound(ctx: &mut Ctx<'_>, c: &WiCluster<'_>) {
    let infra = &ctx.index.infra;
    // The same account id in another project is another account.
    let Some(declared) = infra.service_accounts.iter().find(|sa| {
        sa.account_id == c.gsa
            && (sa.project.is_none() || c.gsa_project.is_none() || sa.project == c.gsa_project)
    }) else {
        return;
    };
    if infra.may_be_bound(&c.gsa) {
        return;
    }
    let declared = declared.span;
    ctx.report(
        c.annotation.clone(),
        format!(
            "Google service account `{}` is declared in this repository's Terraform, but no \
             Workload Identity binding lets any Kubernetes service account impersonate it, so \
             `{}/{}`, the service account cluster `{}` runs as, cannot: WAL archiving fails with \
             permission errors and the volume fills up",
            c.gsa, c.namespace, c.ksa, c.name
        ),
    )
    .object(c.inst)
    .help(format!(
        "Add a google_service_account_iam_member with role roles/iam.workloadIdentityUser and \
         member serviceAccount:<project>.svc.id.goog[{}/{}] on `{}`.",
        c.namespace, c.ksa, c.gsa
    ))
    .related(Loc::Span(declared), "the Google service account");
}

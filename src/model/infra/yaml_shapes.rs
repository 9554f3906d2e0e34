//! The YAML shapes that Terraform/Terragrunt modules read for buckets and service accounts:
//!
//! ```yaml
//! backups:                       # terraform/gcp/<env>/gcs/buckets.yaml
//!   name: <bucket>
//!   lifecycle_rules:
//!     - action: { type: Delete }
//!       condition: { age: 30 }
//! service_accounts:              # terraform/gcp/<env>/service-accounts/service-accounts.yaml
//!   <gsa-account-id>:
//!     workload_identity_bindings:
//!       - "<ns>/<ksa>"
//! ```

use super::{Bucket, DeleteRule, InfraFacts, Scope, WiMember};
use crate::model::value::{known_text, text, Val};
use crate::yaml::Node;

pub fn extract(root: &Node) -> InfraFacts {
    let mut facts = InfraFacts::default();
    let Some(entries) = root.as_map() else {
        return facts;
    };
    if let Some(b) = bucket(root, None) {
        facts.buckets.push(b);
    }
    for e in entries {
        if let Some(b) = bucket(&e.value, e.key.as_str()) {
            facts.buckets.push(b);
        }
    }
    if let Some(accounts) = root.get("service_accounts").and_then(Node::as_map) {
        for account in accounts {
            let Some(gsa) = account.key.as_str() else {
                continue;
            };
            let gsa = gsa.split('@').next().unwrap_or(gsa);
            let bindings = account
                .value
                .get("workload_identity_bindings")
                .and_then(Node::as_seq)
                .unwrap_or(&[]);
            for b in bindings {
                let Some(Val::Known(member)) = text(b) else {
                    continue;
                };
                let Some((ns, ksa)) = member.split_once('/') else {
                    continue;
                };
                facts.wi_members.push(WiMember {
                    gsa: gsa.to_string(),
                    namespace: Some(ns.trim().to_string()),
                    ksa: Some(ksa.trim().to_string()),
                    span: b.span,
                });
            }
        }
    }
    facts
}

fn bucket(node: &Node, key: Option<&str>) -> Option<Bucket> {
    let rules = node.get("lifecycle_rules")?.as_seq()?;
    let (name, name_span) = match node.entry("name") {
        Some(e) => (known_text(&e.value)?.to_string(), e.value.span),
        None => (key?.to_string(), node.span),
    };
    let delete_rules = rules
        .iter()
        .filter(|r| {
            r.at(&["action", "type"])
                .and_then(Node::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("delete"))
        })
        .filter_map(|r| {
            let condition = r.get("condition")?;
            let age = condition.get("age")?;
            let age_days = u32::try_from(age.as_scalar()?.as_i64()?).ok()?;
            Some(DeleteRule {
                age_days,
                span: age.span,
                scope: condition_scope(condition),
            })
        })
        .collect();
    Some(Bucket {
        name,
        name_span,
        delete_rules,
    })
}

/// The objects a GCS-style condition (`age`, `matches_prefix`, ...) applies to; conditions
/// other than the age and the prefixes narrow it in ways that are not evaluated.
fn condition_scope(condition: &Node) -> Scope {
    let Some(entries) = condition.as_map() else {
        return Scope::Unknown;
    };
    let mut scope = Scope::Bucket;
    for e in entries {
        match e.key.as_str() {
            Some("age" | "send_age_if_zero") => {}
            Some("with_state") if matches!(known_text(&e.value), Some("LIVE" | "ANY")) => {}
            Some("matches_prefix") => match e.value.as_seq() {
                Some([]) => {}
                Some(items) => {
                    scope = Scope::Prefixes(
                        items
                            .iter()
                            .filter_map(known_text)
                            .map(str::to_string)
                            .collect(),
                    )
                }
                None => return Scope::Unknown,
            },
            _ if e.value.as_seq().is_some_and(<[Node]>::is_empty) => {}
            _ => return Scope::Unknown,
        }
    }
    scope
}

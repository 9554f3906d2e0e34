//! Infrastructure facts that live beside the manifests, as rules read them: bucket lifecycle rules and Workload
//! Identity bindings, from Terraform HCL and from the YAML files that Terraform/Terragrunt
//! modules read. Values this tool cannot resolve (interpolations) are left out, so rules never
//! guess about them.

pub mod yaml_shapes;

use crate::load::terraform;
use crate::source::{FileId, Span};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    pub name: String,
    pub name_span: Span,
    /// Lifecycle rules that delete current objects after a number of days.
    pub delete_rules: Vec<DeleteRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteRule {
    pub age_days: u32,
    /// Where the age is written.
    pub span: Span,
    pub scope: Scope,
}

/// Which objects of the bucket a lifecycle rule applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Bucket,
    /// Keys starting with any of these; prefixes that could not be resolved are left out.
    Prefixes(Vec<String>),
    /// A filter that is not evaluated (tags, sizes, suffixes, ...).
    Unknown,
}

impl Scope {
    /// Whether the rule applies to every object whose key starts with `key_prefix`.
    pub fn covers(&self, key_prefix: &str) -> bool {
        match self {
            Scope::Bucket => true,
            Scope::Prefixes(prefixes) => {
                prefixes.iter().any(|p| key_prefix.starts_with(p.as_str()))
            }
            Scope::Unknown => false,
        }
    }
}

/// A Google service account declared in the repository's Terraform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub account_id: String,
    pub span: Span,
    /// The `project` attribute when it is known; `None` when absent or unresolved.
    pub project: Option<String>,
}

/// A Kubernetes service account allowed to impersonate a Google service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WiMember {
    /// The Google service account's account id (before `@`).
    pub gsa: String,
    /// `None` when the namespace or name is an unresolved interpolation.
    pub namespace: Option<String>,
    pub ksa: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InfraFacts {
    pub buckets: Vec<Bucket>,
    pub wi_members: Vec<WiMember>,
    pub service_accounts: Vec<ServiceAccount>,
    /// Accounts that something besides a readable member may let Kubernetes service accounts
    /// impersonate (IAM policies, member lists that are not spelled out, project-wide grants,
    /// modules that bind accounts), by account id.
    pub other_grants: Vec<String>,
    /// Such a grant, or a Workload Identity member, for an account this tool cannot name: it
    /// may be any account.
    pub unnamed_grants: bool,
}

impl InfraFacts {
    pub fn extend(&mut self, other: InfraFacts) {
        self.buckets.extend(other.buckets);
        self.wi_members.extend(other.wi_members);
        self.service_accounts.extend(other.service_accounts);
        self.other_grants.extend(other.other_grants);
        self.unnamed_grants |= other.unnamed_grants;
    }

    /// Whether anything in the repository may let a Kubernetes service account impersonate
    /// the Google service account `account_id`.
    pub fn may_be_bound(&self, account_id: &str) -> bool {
        self.unnamed_grants
            || self.wi_members.iter().any(|m| m.gsa == account_id)
            || self.other_grants.iter().any(|g| g == account_id)
    }

    /// The facts of one Terraform file, after [`crate::load::tf_module::resolve`].
    pub fn from_terraform(file: FileId, facts: &terraform::TfFacts) -> InfraFacts {
        use terraform::{TfScope, TfText};
        let span = |r: &std::ops::Range<usize>| Span::new(file, r.start, r.end);
        let known = |t: &TfText| match t {
            TfText::Known(s) => Some(s.clone()),
            TfText::Template(_) | TfText::Unknown => None,
        };
        let buckets = facts
            .buckets
            .iter()
            .filter_map(|b| {
                Some(Bucket {
                    name: known(&b.name.value)?,
                    name_span: span(&b.name.span),
                    delete_rules: b
                        .delete_rules
                        .iter()
                        .map(|d| DeleteRule {
                            age_days: d.age.value,
                            span: span(&d.age.span),
                            scope: match &d.scope {
                                TfScope::Bucket => Scope::Bucket,
                                TfScope::Prefixes(p) => {
                                    Scope::Prefixes(p.iter().filter_map(known).collect())
                                }
                                TfScope::Unknown => Scope::Unknown,
                            },
                        })
                        .collect(),
                })
            })
            .collect();
        let mut unnamed_grants = false;
        let wi_members = facts
            .wi_members
            .iter()
            .filter_map(|m| {
                let Some(gsa) = known(&m.gsa_account_id) else {
                    unnamed_grants = true;
                    return None;
                };
                Some(WiMember {
                    gsa,
                    namespace: known(&m.namespace),
                    ksa: known(&m.ksa),
                    span: span(&m.span),
                })
            })
            .collect();
        let mut other_grants = Vec::new();
        for g in &facts.other_grants {
            match known(g) {
                Some(id) => other_grants.push(id),
                None => unnamed_grants = true,
            }
        }
        unnamed_grants |= facts.modules.iter().any(|m| m.may_bind_service_accounts);
        let service_accounts = facts
            .service_accounts
            .iter()
            .filter_map(|sa| {
                Some(ServiceAccount {
                    account_id: known(&sa.account_id.value)?,
                    span: span(&sa.account_id.span),
                    project: sa.project.as_ref().and_then(known),
                })
            })
            .collect();
        InfraFacts {
            buckets,
            wi_members,
            service_accounts,
            other_grants,
            unnamed_grants,
        }
    }
}

/// The bucket (or container) name in a barman `destinationPath`, for the schemes whose first
/// component is the bucket.
pub fn bucket_of(destination_path: &str) -> Option<&str> {
    let rest = destination_path
        .strip_prefix("gs://")
        .or_else(|| destination_path.strip_prefix("s3://"))?;
    let bucket = rest.split('/').next()?;
    (!bucket.is_empty()).then_some(bucket)
}

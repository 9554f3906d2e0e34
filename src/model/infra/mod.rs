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
    /// Ages, in days, after which a lifecycle rule deletes objects.
    pub delete_after_days: Vec<(u32, Span)>,
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
}

impl InfraFacts {
    pub fn extend(&mut self, other: InfraFacts) {
        self.buckets.extend(other.buckets);
        self.wi_members.extend(other.wi_members);
    }

    pub fn from_terraform(file: FileId, facts: &terraform::TfFacts) -> InfraFacts {
        use terraform::TfText;
        let span = |r: &std::ops::Range<usize>| Span::new(file, r.start, r.end);
        let known = |t: &TfText| match t {
            TfText::Known(s) => Some(s.clone()),
            TfText::Unknown => None,
        };
        let buckets = facts
            .buckets
            .iter()
            .filter_map(|b| {
                Some(Bucket {
                    name: known(&b.name.value)?,
                    name_span: span(&b.name.span),
                    delete_after_days: b
                        .delete_after_days
                        .iter()
                        .map(|d| (d.value, span(&d.span)))
                        .collect(),
                })
            })
            .collect();
        let wi_members = facts
            .wi_members
            .iter()
            .filter_map(|m| {
                Some(WiMember {
                    gsa: known(&m.gsa_account_id)?,
                    namespace: known(&m.namespace),
                    ksa: known(&m.ksa),
                    span: span(&m.span),
                })
            })
            .collect();
        InfraFacts {
            buckets,
            wi_members,
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

//! CNPG205: operand images that are not pinned to a PostgreSQL version.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::{Kind, Val};

pub const META: RuleMeta = RuleMeta {
    code: "CNPG205",
    name: "image-tag",
    severity: Severity::Error,
    summary: "A Cluster image is :latest, untagged, or tagged without a PostgreSQL major.minor version.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// The tag and digest of an image reference (`registry:port/repo:tag@digest`).
fn tag_and_digest(image: &str) -> (Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let last = rest.rsplit('/').next().unwrap_or(rest);
    (last.split_once(':').map(|(_, t)| t), digest)
}

/// `17.6`, `17.6-system-trixie`, `16.4-1`: a major and a minor version up front.
fn has_major_minor(tag: &str) -> bool {
    let mut parts = tag.split(['.', '-', '_']);
    let major = parts.next().unwrap_or("");
    let minor = parts.next().unwrap_or("");
    !major.is_empty()
        && major.bytes().all(|b| b.is_ascii_digit())
        && tag.get(major.len()..major.len() + 1) == Some(".")
        && !minor.is_empty()
        && minor.bytes().all(|b| b.is_ascii_digit())
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        let Some(node) = doc.root.at(&["spec", "imageName"]) else {
            continue;
        };
        let Some(Val::Known(image)) = crate::model::value::text(node) else {
            continue;
        };
        let (tag, digest) = tag_and_digest(image);
        let demo = i.owner.is_none() && super::support::is_demo_path(index, i.doc);
        let report = |ctx: &mut Ctx<'_>, severity: Severity, message: String| {
            ctx.report(Loc::value(i.doc, node), message)
                .object(inst)
                .severity(severity)
                .help(
                    "Pin imageName to a full version tag (for example \
                     ghcr.io/cloudnative-pg/postgresql:17.6-system-trixie), optionally with its \
                     digest, or use an imageCatalogRef. A change to imageName is rolled out \
                     instance by instance, so a reviewed commit decides when binaries change.",
                );
        };
        match (tag, digest) {
            (Some("latest"), _) | (None, None) => report(
                ctx,
                Severity::Error,
                format!(
                    "imageName `{image}` uses the `latest` tag (or none); the webhook rejects it, \
                     because it cannot tell the PostgreSQL version from it"
                ),
            ),
            (None, Some(_)) => report(
                ctx,
                Severity::Error,
                format!(
                    "imageName `{image}` has a digest but no tag; the webhook rejects it because \
                     it cannot tell the PostgreSQL version"
                ),
            ),
            // A digest pins the image whatever the tag says.
            // A floating tag in a sample or test nothing deploys is the demo's choice.
            (Some(t), None) if !has_major_minor(t) && !demo => {
                // The webhook accepts it, but the version floats.
                report(
                    ctx,
                    Severity::Warning,
                    format!(
                        "imageName `{image}` is not pinned to a PostgreSQL minor version (tag \
                         `{t}`): the tag moves to new builds, and with the default pull policy \
                         (IfNotPresent) each node keeps the build it pulled first, so instances \
                         created on different nodes or at different times can run different \
                         PostgreSQL binaries, changed without a commit"
                    ),
                )
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert_eq!(tag_and_digest("reg:5000/pg:17.6@sha256:x"), (Some("17.6"), Some("sha256:x")));
        assert_eq!(tag_and_digest("pg@sha256:x"), (None, Some("sha256:x")));
        assert_eq!(tag_and_digest("reg:5000/pg"), (None, None));
        assert!(has_major_minor("17.6-system-trixie"));
        assert!(has_major_minor("16.4"));
        assert!(!has_major_minor("17"));
        assert!(!has_major_minor("17-standard-trixie"));
        assert!(!has_major_minor("main"));
    }
}

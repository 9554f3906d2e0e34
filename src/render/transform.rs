//! kustomize's metadata transformers on span trees: namespace, name prefix and suffix, labels,
//! annotations, images and replicas. A value a transformer writes carries the span of the
//! kustomization field that asked for it.

use crate::source::Span;
use crate::yaml::{Entry, Kind, Node, Scalar, Style};

/// Built-in kinds without a namespace; kustomize leaves their namespace alone.
const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "CSIDriver",
    "CSINode",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "ComponentStatus",
    "CustomResourceDefinition",
    "IngressClass",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
];

/// Kinds whose pod template and selector kustomize's label and annotation transformers touch.
const WORKLOADS: &[&str] = &[
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
];

pub fn scalar(text: &str, span: Span) -> Node {
    Node {
        span,
        tag: None,
        kind: Kind::Scalar(Scalar {
            text: text.into(),
            style: Style::Plain,
        }),
    }
}

fn quoted(text: &str, span: Span) -> Node {
    Node {
        span,
        tag: None,
        kind: Kind::Scalar(Scalar {
            text: text.into(),
            style: Style::Quoted,
        }),
    }
}

fn empty_map(span: Span) -> Node {
    Node {
        span,
        tag: None,
        kind: Kind::Map(Vec::new()),
    }
}

/// The child mapping under `key`, created (with `span`) when missing or null.
pub fn child_map<'a>(node: &'a mut Node, key: &str, span: Span) -> Option<&'a mut Node> {
    let Kind::Map(entries) = &mut node.kind else {
        return None;
    };
    let pos = match entries.iter().position(|e| e.key.as_str() == Some(key)) {
        Some(p) => p,
        None => {
            push_entry(
                entries,
                Entry {
                    key: scalar(key, span),
                    value: empty_map(span),
                },
            );
            entries.len() - 1
        }
    };
    let entry = entries.get_mut(pos)?;
    if entry.value.is_null() {
        entry.value = empty_map(span);
    }
    matches!(entry.value.kind, Kind::Map(_)).then_some(&mut entry.value)
}

/// Sets `key` to `value` in a mapping, replacing any existing value.
pub fn set(node: &mut Node, key: &str, value: Node, key_span: Span) {
    if let Kind::Map(entries) = &mut node.kind {
        match entries.iter_mut().find(|e| e.key.as_str() == Some(key)) {
            Some(e) => e.value = value,
            None => push_entry(
                entries,
                Entry {
                    key: scalar(key, key_span),
                    value,
                },
            ),
        }
    }
}

/// Adds an entry to a mapping loaded at its exact size. Transformers add one or two keys
/// (`namespace`, `labels`) to every object's metadata, so growing by a quarter, not by double,
/// keeps a large repository's rendered metadata from carrying mostly spare capacity.
fn push_entry(entries: &mut Vec<Entry>, entry: Entry) {
    if entries.len() == entries.capacity() {
        entries.reserve_exact((entries.len() / 4).max(1));
    }
    entries.push(entry);
}

pub fn kind_of(root: &Node) -> &str {
    root.get("kind").and_then(Node::as_str).unwrap_or("")
}

pub fn namespace(root: &mut Node, ns: &str, span: Span) {
    // kustomize's namespace field specs rename v1 Namespace objects to the namespace, which
    // is why repositories name them `_`.
    if kind_of(root) == "Namespace" && root.get("apiVersion").and_then(Node::as_str) == Some("v1") {
        if let Some(meta) = child_map(root, "metadata", span) {
            set(meta, "name", scalar(ns, span), span);
        }
        return;
    }
    if CLUSTER_SCOPED.contains(&kind_of(root)) {
        return;
    }
    if let Some(meta) = child_map(root, "metadata", span) {
        set(meta, "namespace", scalar(ns, span), span);
    }
}

pub fn prefix_suffix(root: &mut Node, prefix: &str, suffix: &str, span: Span) {
    // kustomize's prefix and suffix transformers skip these kinds.
    let api = root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let skipped = matches!(kind_of(root), "CustomResourceDefinition" | "Namespace")
        || (kind_of(root) == "APIService" && api.starts_with("apiregistration.k8s.io/"));
    if skipped {
        return;
    }
    let Some(meta) = child_map(root, "metadata", span) else {
        return;
    };
    let Some(name) = meta.get("name").and_then(Node::as_str).map(str::to_string) else {
        return;
    };
    set(
        meta,
        "name",
        scalar(&format!("{prefix}{name}{suffix}"), span),
        span,
    );
}

fn add_pairs(map: &mut Node, pairs: &[(String, String, Span)]) {
    for (k, v, span) in pairs {
        set(map, k, quoted(v, *span), *span);
    }
}

/// `commonLabels` (selectors too) or a `labels` entry.
pub fn labels(
    root: &mut Node,
    pairs: &[(String, String, Span)],
    include_selectors: bool,
    include_templates: bool,
) {
    let Some(span) = pairs.first().map(|p| p.2) else {
        return;
    };
    let workload = WORKLOADS.contains(&kind_of(root));
    if let Some(l) = child_map(root, "metadata", span).and_then(|m| child_map(m, "labels", span)) {
        add_pairs(l, pairs);
    }
    if !workload {
        return;
    }
    if include_selectors || include_templates {
        if let Some(l) = child_map(root, "spec", span)
            .and_then(|s| child_map(s, "template", span))
            .and_then(|t| child_map(t, "metadata", span))
            .and_then(|m| child_map(m, "labels", span))
        {
            add_pairs(l, pairs);
        }
    }
    if include_selectors && kind_of(root) != "Job" {
        if let Some(l) = child_map(root, "spec", span)
            .and_then(|s| child_map(s, "selector", span))
            .and_then(|s| child_map(s, "matchLabels", span))
        {
            add_pairs(l, pairs);
        }
    }
}

pub fn annotations(root: &mut Node, pairs: &[(String, String, Span)]) {
    let Some(span) = pairs.first().map(|p| p.2) else {
        return;
    };
    let workload = WORKLOADS.contains(&kind_of(root));
    if let Some(a) =
        child_map(root, "metadata", span).and_then(|m| child_map(m, "annotations", span))
    {
        add_pairs(a, pairs);
    }
    if workload {
        if let Some(a) = child_map(root, "spec", span)
            .and_then(|s| child_map(s, "template", span))
            .and_then(|t| child_map(t, "metadata", span))
            .and_then(|m| child_map(m, "annotations", span))
        {
            add_pairs(a, pairs);
        }
    }
}

/// One `images:` entry.
pub struct ImageRule {
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
    pub span: Span,
}

fn split_image(image: &str) -> (&str, &str) {
    // `name[:tag][@digest]`; a `:` before the last `/` belongs to a registry port.
    if let Some(at) = image.find('@') {
        return (&image[..at], &image[at..]);
    }
    let slash = image.rfind('/').map_or(0, |s| s + 1);
    match image[slash..].rfind(':') {
        Some(c) => (&image[..slash + c], &image[slash + c..]),
        None => (image, ""),
    }
}

pub fn images(root: &mut Node, rules: &[ImageRule]) {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        match &mut node.kind {
            Kind::Scalar(_) => {}
            Kind::Seq(items) => stack.extend(items.iter_mut()),
            Kind::Map(entries) => {
                for e in entries.iter_mut() {
                    let is_containers =
                        matches!(e.key.as_str(), Some("containers" | "initContainers"));
                    if is_containers {
                        if let Kind::Seq(items) = &mut e.value.kind {
                            for c in items.iter_mut() {
                                update_image(c, rules);
                            }
                        }
                    }
                    stack.push(&mut e.value);
                }
            }
        }
    }
}

fn update_image(container: &mut Node, rules: &[ImageRule]) {
    let Some(image) = container
        .get("image")
        .and_then(Node::as_str)
        .map(str::to_string)
    else {
        return;
    };
    let (name, tag) = split_image(&image);
    let Some(rule) = rules.iter().find(|r| r.name == name) else {
        return;
    };
    let new_name = rule.new_name.as_deref().unwrap_or(name);
    let new_tail = match (&rule.digest, &rule.new_tag) {
        (Some(d), _) => format!("@{d}"),
        (None, Some(t)) => format!(":{t}"),
        (None, None) => tag.to_string(),
    };
    set(
        container,
        "image",
        scalar(&format!("{new_name}{new_tail}"), rule.span),
        rule.span,
    );
}

pub fn replicas(root: &mut Node, name: &str, count: &str, span: Span) {
    let matches = root.at(&["metadata", "name"]).and_then(Node::as_str) == Some(name)
        && root.get("spec").is_some();
    if matches {
        if let Some(spec) = child_map(root, "spec", span) {
            set(spec, "replicas", scalar(count, span), span);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names() {
        assert_eq!(split_image("nginx:1.2"), ("nginx", ":1.2"));
        assert_eq!(split_image("reg:5000/app"), ("reg:5000/app", ""));
        assert_eq!(
            split_image("reg:5000/app:1@sha256:x"),
            ("reg:5000/app:1", "@sha256:x")
        );
    }

    #[test]
    fn metadata_transformers() {
        let mut root = crate::yaml::load(
            0,
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: nginx:1.0\n",
        )
        .docs
        .remove(0)
        .root;
        let s = Span::new(1, 5, 9);
        namespace(&mut root, "prod", s);
        prefix_suffix(&mut root, "p-", "-s", s);
        labels(&mut root, &[("app".into(), "web".into(), s)], true, false);
        images(
            &mut root,
            &[ImageRule {
                name: "nginx".into(),
                new_name: None,
                new_tag: Some("1.1".into()),
                digest: None,
                span: s,
            }],
        );
        assert_eq!(
            root.at(&["metadata", "namespace"]).and_then(Node::as_str),
            Some("prod")
        );
        assert_eq!(
            root.at(&["metadata", "name"]).and_then(Node::as_str),
            Some("p-web-s")
        );
        assert_eq!(
            root.at(&["spec", "selector", "matchLabels", "app"])
                .and_then(Node::as_str),
            Some("web")
        );
        let c = &root
            .at(&["spec", "template", "spec", "containers"])
            .unwrap()
            .as_seq()
            .unwrap()[0];
        assert_eq!(c.get("image").and_then(Node::as_str), Some("nginx:1.1"));
        assert_eq!(c.get("image").unwrap().span, s);
        let mut ns =
            crate::yaml::load(0, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n")
                .docs
                .remove(0)
                .root;
        namespace(&mut ns, "prod", s);
        assert!(ns.at(&["metadata", "namespace"]).is_none());
        assert_eq!(
            ns.at(&["metadata", "name"]).and_then(Node::as_str),
            Some("prod")
        );
    }
}

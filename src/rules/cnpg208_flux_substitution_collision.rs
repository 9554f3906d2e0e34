//! CNPG208: CNPG syntax that Flux post-build substitution eats: `${podselector:…}` in pg_hba,
//! `${image_root}` in extension env, and `$$` dollar quoting in SQL.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::index::Index;
use crate::model::Kind;
use crate::render::flux::SUBSTITUTE_ANNOTATION;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG208",
    name: "flux-substitution-collision",
    severity: Severity::Error,
    summary: "CNPG's ${…} or $$ syntax in an object that Flux post-build substitution rewrites.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// Whether the text has `${<name>` that Flux would substitute: preceded by an even number of
/// `$` (each `$$` pair is Flux's escape for one literal `$`).
pub fn substituted_reference(text: &str, name: &str) -> bool {
    let needle = format!("{{{name}");
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|t| t.find(&needle)) {
        let at = from + pos;
        let dollars = bytes[..at].iter().rev().take_while(|&&b| b == b'$').count();
        if dollars % 2 == 1 {
            return true;
        }
        from = at + needle.len();
    }
    false
}

/// Whether the text has a `$$` (exactly two dollars, not opening `${`): Flux turns it into `$`,
/// which breaks a dollar-quoted SQL body. `$$$$` is the escape for `$$`.
pub fn lone_double_dollar(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i] == b'$' {
            i += 1;
        }
        if i - start == 2 && bytes.get(i) != Some(&b'{') {
            return true;
        }
    }
    false
}

/// The source text of a scalar (before substitution), or its value for generated nodes.
fn written<'a>(index: &'a Index, node: &'a Node) -> Option<&'a str> {
    let value = node.as_str()?;
    Some(index.written(node.span).filter(|w| !w.is_empty()).unwrap_or(value))
}

const SQL_LISTS: [&str; 3] = ["postInitSQL", "postInitApplicationSQL", "postInitTemplateSQL"];

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i) in index.instances.iter().enumerate() {
        let inst = inst as u32;
        let Some(owner) = i.owner.and_then(|o| index.doc(o)) else { continue };
        if owner.root.at(&["spec", "postBuild"]).is_none_or(Node::is_null) {
            continue;
        }
        let Some(doc) = index.doc(i.doc) else { continue };
        if crate::model::marked(&doc.root, SUBSTITUTE_ANNOTATION, "disabled") {
            continue;
        }
        let ks = i.owner.and_then(|o| index.doc_name(o))
            .unwrap_or("its Kustomization");
        let mut hits: Vec<(&Node, String, &str)> = Vec::new();
        match doc.kind() {
            Kind::Cluster => {
                for line in doc.root.at(&["spec", "postgresql", "pg_hba"]).and_then(Node::as_seq).unwrap_or(&[]) {
                    if written(index, line).is_some_and(|t| substituted_reference(t, "podselector:")) {
                        hits.push((
                            line,
                            format!("`${{podselector:…}}` in pg_hba is read by Flux as a variable: `{ks}` substitutes this object, so the build fails in strict mode (\"variable not set\") or the address silently becomes empty"),
                            "Write `$${podselector:NAME}` (Flux's escape), or annotate the Cluster with kustomize.toolkit.fluxcd.io/substitute: disabled.",
                        ));
                    }
                }
                for ext in doc.root.at(&["spec", "postgresql", "extensions"]).and_then(Node::as_seq).unwrap_or(&[]) {
                    for env in ext.get("env").and_then(Node::as_seq).unwrap_or(&[]) {
                        let Some(value) = env.get("value") else { continue };
                        if written(index, value).is_some_and(|t| substituted_reference(t, "image_root}")) {
                            hits.push((
                                value,
                                format!("`${{image_root}}` in extension env is read by Flux as a variable: `{ks}` substitutes this object, so the build fails in strict mode or the path silently becomes empty"),
                                "Write `$${image_root}` (Flux's escape), or annotate the Cluster with kustomize.toolkit.fluxcd.io/substitute: disabled.",
                            ));
                        }
                    }
                }
                for list in SQL_LISTS {
                    for stmt in doc.root.at(&["spec", "bootstrap", "initdb", list]).and_then(Node::as_seq).unwrap_or(&[]) {
                        if written(index, stmt).is_some_and(lone_double_dollar) {
                            hits.push((stmt, sql_message(ks), SQL_HELP));
                        }
                    }
                }
            }
            Kind::ConfigMap | Kind::Secret => {
                // `data` of a Secret is base64, which Flux cannot corrupt this way.
                let section = if doc.kind() == Kind::Secret { "stringData" } else { "data" };
                for e in doc.root.get(section).and_then(Node::as_map).unwrap_or(&[]) {
                    let is_sql = e.key.as_str().is_some_and(|k| k.to_ascii_lowercase().ends_with(".sql"));
                    if is_sql && written(index, &e.value).is_some_and(lone_double_dollar) {
                        hits.push((&e.value, sql_message(ks), SQL_HELP));
                    }
                }
            }
            _ => {}
        }
        for (node, message, help) in hits {
            ctx.report(Loc::value(i.doc, node), message)
                .object(inst)
                .help(help);
        }
    }
}

fn sql_message(ks: &str) -> String {
    format!(
        "`$$` dollar quoting in SQL: `{ks}` runs Flux post-build substitution on this object, which \
         turns `$$` into `$` and silently breaks the function or DO block"
    )
}

const SQL_HELP: &str = "Write `$$$$` for `$$` (or use a named tag such as `$body$`, which Flux leaves alone), or annotate the object with kustomize.toolkit.fluxcd.io/substitute: disabled.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert!(substituted_reference("host all all ${podselector:app} md5", "podselector:"));
        assert!(!substituted_reference("host all all $${podselector:app} md5", "podselector:"));
        assert!(substituted_reference("$$${podselector:app}", "podselector:"));
        assert!(!substituted_reference("nothing here", "podselector:"));
        assert!(lone_double_dollar("CREATE FUNCTION f() AS $$ SELECT 1 $$"));
        assert!(!lone_double_dollar("AS $$$$ SELECT 1 $$$$"));
        assert!(!lone_double_dollar("AS $body$ SELECT $1 $body$"));
        assert!(!lone_double_dollar("$${VAR}"));
    }
}

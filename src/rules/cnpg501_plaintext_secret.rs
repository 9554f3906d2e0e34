//! CNPG501: a Secret committed with readable values.

use super::support;
use crate::diagnostics::{Loc, RuleMeta, Severity};
use crate::engine::Ctx;
use crate::model::cnpg::DataObject;
use crate::model::value::has_placeholder;
use crate::model::Kind;
use crate::yaml::Entry;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG501",
    name: "plaintext-secret",
    severity: Severity::Error,
    summary: "A Secret has data or stringData values that are neither SOPS-encrypted nor generated.",
    on_by_default: true,
};

/// Whether a value is committed as readable text. Values Flux substitutes (`${VAR}`, usually
/// from an encrypted Secret) and references resolved by a secrets tool at deploy time are not.
fn is_plaintext(index: &crate::index::Index, e: &Entry) -> bool {
    let Some(value) = e.value.as_str() else {
        return false;
    };
    if value.trim().is_empty() {
        return false;
    }
    // The source text, before Flux substituted anything into the rendered value.
    let written = index.written(e.value.span).unwrap_or(value);
    if has_placeholder(written) || has_placeholder(value) {
        return false;
    }
    if e.key.as_str().is_some_and(|k| NOT_SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str())) {
        return false;
    }
    let v = value.trim();
    if REFERENCE_PREFIXES.iter().any(|p| v.starts_with(p)) || v.contains("<path:") {
        return false;
    }
    // A bare URL with no credentials in it (`redis://cache:6379`) is an address, not a secret.
    !is_url_without_credentials(v)
}

/// Keys that name an account or an address rather than hold a secret. The password beside them
/// may be generated in the cluster (secret-generator, `autogenerate` annotations).
const NOT_SECRET_KEYS: &[&str] = &[
    "username", "user", "admin-user", "admin_user", "host", "hostname", "port", "database",
    "dbname",
];

/// Values a secrets tool resolves at deploy time: vals (`ref+`), 1Password (`op://`), SOPS
/// dotenv or INI values (`ENC[`), Vault (`vault:`).
const REFERENCE_PREFIXES: &[&str] = &["ref+", "op://", "ENC[", "vault:"];

fn is_url_without_credentials(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+')
        && !rest.is_empty()
        && !rest.contains('@')
        && !rest.contains(char::is_whitespace)
        && !rest.contains('?')
}

/// A Secret committed as `kustomize build` output: its name ends in the content hash kustomize
/// gives generated objects.
fn is_generator_output(root: &crate::yaml::Node, name: Option<&str>) -> bool {
    name.is_some_and(|n| n.ends_with(&format!("-{}", crate::render::generate::name_hash(root))))
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Secret) {
        let secret = DataObject(&doc.root);
        if secret.is_sops_encrypted()
            || index.is_generated(i.doc)
            || is_generator_output(&doc.root, index.name(inst))
        {
            continue;
        }
        let plain: Vec<&Entry> = secret.entries().filter(|e| is_plaintext(index, e)).collect();
        let Some(first) = plain.first() else { continue };
        let name = index.name(inst).unwrap_or("this Secret");
        let keys: Vec<&str> = plain.iter().filter_map(|e| e.key.as_str()).collect();
        let shown = if keys.len() > 3 {
            format!("{} and {} more", support::code_list(&keys[..3]), keys.len() - 3)
        } else {
            support::code_list(&keys)
        };
        ctx.report(
            Loc::key(i.doc, &first.value),
            format!(
                "Secret `{name}` is committed unencrypted: {shown} can be read by anyone with \
                 access to the repository (base64 in `data` is an encoding, not encryption)"
            ),
        )
        .object(inst)
        .help(
            "Encrypt the file with SOPS (and give the Flux Kustomization spec.decryption), or \
             move the values to an external secret store (External Secrets, Sealed Secrets) and \
             rotate the exposed ones.",
        );
    }
}

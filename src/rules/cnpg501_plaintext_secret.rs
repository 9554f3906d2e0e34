//! CNPG501: a Secret committed with readable values.

use super::support;
use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
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
    category: Category::Security,
    needs_schemas: false,
    options: &[],
};

/// The readable text of an entry: the `stringData` value, or the decoded `data` value. `None`
/// for a value that is not committed as readable text: a `${VAR}` Flux substitutes (usually from
/// an encrypted Secret), a reference a secrets tool resolves at deploy time, or an empty value.
fn readable(index: &crate::index::Index, e: &Entry, in_data: bool) -> Option<String> {
    let value = e.value.as_str()?;
    if value.trim().is_empty() {
        return None;
    }
    // The source text, before Flux substituted anything into the rendered value.
    let written = index.written(e.value.span).unwrap_or(value);
    if has_placeholder(written) || has_placeholder(value) {
        return None;
    }
    let text = if in_data {
        let compact: String = value.split_whitespace().collect();
        let bytes = crate::render::generate::base64_decode(&compact)?;
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        value.to_string()
    };
    let v = text.trim();
    if v.is_empty() || REFERENCE_PREFIXES.iter().any(|p| v.starts_with(p)) || v.contains("<path:") {
        return None;
    }
    Some(v.to_string())
}

/// Values a secrets tool resolves at deploy time: vals (`ref+`), 1Password (`op://`), SOPS
/// dotenv or INI values (`ENC[`), Vault (`vault:`).
const REFERENCE_PREFIXES: &[&str] = &["ref+", "op://", "ENC[", "vault:"];

/// Words of a key: `DB_PASSWORD` -> `db`, `password`; `accessKeyId` -> `access`, `key`, `id`.
fn key_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

/// Words that make a key a credential's name. `key` counts unless the key says it is public
/// (`public-key`, `id_ed25519.pub`).
const CREDENTIAL_WORDS: &[&str] = &[
    "password", "passwd", "pwd", "pass", "passphrase", "token", "secret", "credential",
    "credentials", "auth", "private", "key", "apikey", "privatekey", "secretkey", "accesskey",
    "dsn", "htpasswd", "pgpass", "jwt", "bearer", "cookie", "salt", "hmac", "signing",
];

/// File names whose extension says what the value is: a script or a configuration file is judged
/// by its content, not by its name (`secret.sql` holding `create table ...`).
const FILE_EXTENSIONS: &[&str] = &[
    "sql", "yaml", "yml", "json", "conf", "cfg", "ini", "toml", "sh", "txt", "properties", "xml",
];

fn is_credential_key(key: &str) -> bool {
    let mut words = key_words(key);
    if key.contains('.') && words.last().is_some_and(|w| FILE_EXTENSIONS.contains(&w.as_str())) {
        return false;
    }
    words.retain(|w| !w.is_empty());
    if words.iter().any(|w| w == "pub" || w == "public" || w == "crt" || w == "cert" || w == "ca") {
        return false;
    }
    words.iter().any(|w| CREDENTIAL_WORDS.contains(&w.as_str()) || w.ends_with("password"))
}

/// A value that is a credential whatever its key: a private key, a URL or connection string
/// with a password in it, or a well-known token format.
fn looks_like_credential(v: &str) -> bool {
    if v.contains("PRIVATE KEY-----") {
        return true;
    }
    if url_password(v) {
        return true;
    }
    const TOKEN_PREFIXES: &[&str] = &["ghp_", "gho_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "sk_live_", "AKIA"];
    let one_word = !v.contains(char::is_whitespace);
    one_word && v.len() >= 20 && TOKEN_PREFIXES.iter().any(|p| v.starts_with(p))
}

/// `scheme://user:password@host…`, or a libpq `password=` keyword.
fn url_password(v: &str) -> bool {
    if let Some((_, rest)) = v.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.split_once(':').is_some_and(|(_, pw)| !pw.is_empty()) {
                return true;
            }
        }
    }
    let lower = v.to_ascii_lowercase();
    // libpq keyword form, or SQL `... PASSWORD 'x'`.
    lower.split_whitespace().any(|w| w.starts_with("password=") && w.len() > 9)
        || lower.contains("password '")
}

/// Not a secret even under a credential-like key: a public certificate or public key, or a URL
/// with no credentials in it (`redis://cache:6379`), which is an address.
fn is_public(v: &str) -> bool {
    let v = v.trim_start();
    if v.starts_with("-----BEGIN CERTIFICATE-----") || v.starts_with("-----BEGIN PUBLIC KEY-----") {
        return !v.contains("PRIVATE KEY-----");
    }
    if ["ssh-ed25519 ", "ssh-rsa ", "ecdsa-sha2-", "sk-ssh-"].iter().any(|p| v.starts_with(p)) {
        return true;
    }
    is_url_without_credentials(v)
}

/// A value that stands in for a credential someone still has to set.
fn is_placeholder(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    let bare: String = lower.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    const WORDS: &[&str] = &[
        "changeme", "replaceme", "placeholder", "todo", "tbd", "fixme", "redacted", "dummy",
        "yourpassword", "yourpasswordhere", "passwordhere", "secrethere", "insertpasswordhere",
        "setme", "notset",
    ];
    WORDS.contains(&bare.as_str())
        || (!bare.is_empty() && bare.chars().all(|c| c == 'x'))
        || (lower.starts_with('<') && lower.ends_with('>'))
}

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

/// What one entry holds.
enum Held {
    Credential,
    Placeholder,
}

fn classify(index: &crate::index::Index, e: &Entry, in_data: bool) -> Option<Held> {
    let text = readable(index, e, in_data)?;
    let key = e.key.as_str().unwrap_or("");
    if looks_like_credential(&text) {
        return Some(Held::Credential);
    }
    if !is_credential_key(key) || is_public(&text) {
        return None;
    }
    if is_placeholder(&text) {
        return Some(Held::Placeholder);
    }
    Some(Held::Credential)
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
        // A sample or test Secret that nothing deploys is demonstration data by the
        // repository's design.
        if i.owner.is_none() && support::is_demo_path(index, i.doc) {
            continue;
        }
        let mut credentials: Vec<(&Entry, bool)> = Vec::new();
        let mut placeholders: Vec<&Entry> = Vec::new();
        for (field, in_data) in [("data", true), ("stringData", false)] {
            let Some(map) = doc.root.get(field).and_then(crate::yaml::Node::as_map) else {
                continue;
            };
            for e in map {
                match classify(index, e, in_data) {
                    Some(Held::Credential) => credentials.push((e, in_data)),
                    Some(Held::Placeholder) => placeholders.push(e),
                    None => {}
                }
            }
        }
        let name = index.name(inst).unwrap_or("?");
        if let Some(&(first, _)) = credentials.first() {
            let keys: Vec<&str> = credentials.iter().filter_map(|(e, _)| e.key.as_str()).collect();
            let shown = if keys.len() > 3 {
                format!("{} and {} more", support::code_list(&keys[..3]), keys.len() - 3)
            } else {
                support::code_list(&keys)
            };
            let encoding = if credentials.iter().any(|(_, in_data)| *in_data) {
                " (base64 in `data` is an encoding, not encryption)"
            } else {
                ""
            };
            ctx.report(
                Loc::key(i.doc, &first.key),
                format!(
                    "Secret `{name}` is committed unencrypted: the credential{} {shown} can be \
                     read by anyone with access to the repository{encoding}",
                    if keys.len() == 1 { "" } else { "s" }
                ),
            )
            .object(inst)
            .help(
                "Encrypt the file with SOPS (and give the Flux Kustomization spec.decryption), or \
                 move the values to an external secret store (External Secrets, Sealed Secrets) \
                 and rotate the exposed ones.",
            );
        } else if let Some(first) = placeholders.first() {
            // A placeholder only matters where it is deployed: there, the application gets
            // the literal text as its credential.
            if i.owner.is_none() {
                continue;
            }
            let keys: Vec<&str> = placeholders.iter().filter_map(|e| e.key.as_str()).collect();
            ctx.report(
                Loc::key(i.doc, &first.key),
                format!(
                    "Secret `{name}` is deployed with a placeholder in {}: whatever uses it gets \
                     the placeholder text as its credential",
                    support::code_list(&keys)
                ),
            )
            .object(inst)
            .help(
                "Set the real value through an encrypted Secret (SOPS with spec.decryption) or an \
                 external secret store, or stop deploying this Secret.",
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_keys() {
        for k in ["password", "DB_PASSWORD", "tls.key", "ACCESS_KEY_ID", "apiToken", "client-secret", "AUTH"] {
            assert!(is_credential_key(k), "{k}");
        }
        assert!(looks_like_credential("ALTER ROLE app WITH PASSWORD 'x';"));
        for k in ["secret.sql", "username", "DB_DATABASE_NAME", "tls.crt", "ca.crt", "id_ed25519.pub", "KOPIA_FS_PATH", "queries.yaml", "INHERITED_LABELS", "public-key"] {
            assert!(!is_credential_key(k), "{k}");
        }
    }

    #[test]
    fn credential_values() {
        assert!(looks_like_credential("postgresql://app:s3cret@db:5432/app"));
        assert!(looks_like_credential("host=db user=app password=s3cret"));
        assert!(looks_like_credential("-----BEGIN OPENSSH PRIVATE KEY-----\nabc"));
        assert!(!looks_like_credential("postgresql://app@db:5432/app"));
        assert!(!looks_like_credential("https://example.com/x"));
        assert!(is_public("-----BEGIN CERTIFICATE-----\nMIIB"));
        assert!(is_public("ssh-ed25519 AAAAC3Nza host"));
        assert!(is_public("redis://cache:6379"));
    }

    #[test]
    fn placeholders() {
        for v in ["CHANGEME", "change-me", "REPLACE_ME", "<password>", "xxxxx", "TODO"] {
            assert!(is_placeholder(v), "{v}");
        }
        for v in ["hunter2", "s3cret-Passw0rd", "app"] {
            assert!(!is_placeholder(v), "{v}");
        }
    }
}

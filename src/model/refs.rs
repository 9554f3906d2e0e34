//! The Secrets and ConfigMaps that CloudNativePG and barman-cloud objects name, field by field,
//! with what each must hold. The fields are those of the v1.30.0 API (`api/v1/cluster_types.go`,
//! `pooler_types.go`) and of barman-cloud's `BarmanObjectStoreConfiguration`
//! (`github.com/cloudnative-pg/barman-cloud/pkg/api`), which the in-tree `barmanObjectStore` and
//! the plugin's ObjectStore `spec.configuration` share.

use super::value::{text, Val};
use super::Kind;
use crate::yaml::Node;

/// What a referenced object must hold.
#[derive(Debug, Clone, PartialEq)]
pub enum Holds<'a> {
    /// A `kubernetes.io/basic-auth` Secret with `username` and `password`; the username must be
    /// the role named here (`None`: not known).
    BasicAuth { role: Option<&'a str> },
    /// The one key a `SecretKeySelector` or `ConfigMapKeySelector` names.
    Key(&'a Node),
    /// Something this tool does not check (certificates, whole SQL files by name).
    Other,
}

/// One reference to a Secret or ConfigMap by name.
#[derive(Debug, Clone)]
pub struct Ref<'a> {
    /// `Kind::Secret` or `Kind::ConfigMap`.
    pub kind: Kind,
    /// The field, as a user would write its path (`spec.superuserSecret.name`).
    pub field: String,
    /// The name node.
    pub name: &'a Node,
    pub holds: Holds<'a>,
}

impl Ref<'_> {
    pub fn name(&self) -> Option<&str> {
        text(self.name)?.known().filter(|s| !s.is_empty())
    }
}

/// The role `bootstrap.initdb` creates: `owner`, which defaults to `database`, which defaults to
/// `app` (`defaultInitDB` and `SetDefaults` in CNPG v1.30.0 `api/v1/cluster_defaults.go`).
/// `None` when a placeholder stands in the way.
pub fn initdb_owner(initdb: &Node) -> Option<&str> {
    let field = |k: &str| match initdb.get(k).and_then(text) {
        Some(Val::Known(s)) if !s.is_empty() => Some(Some(s)),
        Some(Val::Unknown) => None,
        _ => Some(None),
    };
    match field("owner")? {
        Some(owner) => Some(owner),
        // A monolithic import gets no default database, hence no application owner.
        None if initdb.at(&["import", "type"]).and_then(Node::as_str) == Some("monolith") => {
            field("database")?
        }
        None => Some(field("database")?.unwrap_or("app")),
    }
}

/// Every Secret and ConfigMap a Cluster, Pooler or ObjectStore names, in document order of
/// the fields listed here.
pub fn references(kind: Kind, root: &Node) -> Vec<Ref<'_>> {
    let mut out = Vec::new();
    let Some(spec) = root.get("spec") else {
        return out;
    };
    match kind {
        Kind::Cluster => cluster(spec, &mut out),
        Kind::Pooler => {
            if let Some(n) = spec.at(&["pgbouncer", "authQuerySecret", "name"]) {
                out.push(Ref {
                    kind: Kind::Secret,
                    field: "spec.pgbouncer.authQuerySecret.name".into(),
                    name: n,
                    // PgBouncer takes a basic-auth or a TLS Secret here, told apart by its keys
                    // (`detectSecretType` in CNPG v1.30.0 `pkg/management/pgbouncer/config`).
                    holds: Holds::Other,
                });
            }
        }
        Kind::ObjectStore => {
            if let Some(c) = spec.get("configuration") {
                store(c, "spec.configuration", &mut out);
            }
        }
        _ => {}
    }
    out
}

fn cluster<'a>(spec: &'a Node, out: &mut Vec<Ref<'a>>) {
    let basic = |out: &mut Vec<Ref<'a>>, node: Option<&'a Node>, field: &str, role| {
        if let Some(n) = node.and_then(|s| s.get("name")) {
            out.push(Ref {
                kind: Kind::Secret,
                field: format!("{field}.name"),
                name: n,
                holds: Holds::BasicAuth { role },
            });
        }
    };
    if let Some(initdb) = spec.at(&["bootstrap", "initdb"]) {
        basic(
            out,
            initdb.get("secret"),
            "spec.bootstrap.initdb.secret",
            initdb_owner(initdb),
        );
        for refs in [
            "postInitSQLRefs",
            "postInitApplicationSQLRefs",
            "postInitTemplateSQLRefs",
        ] {
            for (list, kind) in [
                ("secretRefs", Kind::Secret),
                ("configMapRefs", Kind::ConfigMap),
            ] {
                let items = initdb.at(&[refs, list]).and_then(Node::as_seq);
                for (i, item) in items.unwrap_or(&[]).iter().enumerate() {
                    key_selector(
                        out,
                        kind,
                        item,
                        &format!("spec.bootstrap.initdb.{refs}.{list}[{i}]"),
                    );
                }
            }
        }
    }
    for method in ["recovery", "pg_basebackup"] {
        if let Some(b) = spec.at(&["bootstrap", method]) {
            let role = match (
                b.get("owner").and_then(text),
                b.get("database").and_then(text),
            ) {
                (Some(Val::Known(o)), _) if !o.is_empty() => Some(o),
                (None, None) => Some("app"),
                (None, Some(Val::Known(d))) if !d.is_empty() => Some(d),
                _ => None,
            };
            basic(
                out,
                b.get("secret"),
                &format!("spec.bootstrap.{method}.secret"),
                role,
            );
        }
    }
    // The instance manager reads the superuser Secret only while access is enabled
    // (`reconcileSuperuserPassword` in CNPG v1.30.0 `instance_controller.go`).
    if spec
        .get("enableSuperuserAccess")
        .and_then(|n| n.as_scalar()?.as_bool())
        == Some(true)
    {
        basic(
            out,
            spec.get("superuserSecret"),
            "spec.superuserSecret",
            Some("postgres"),
        );
    }
    let roles = spec.at(&["managed", "roles"]).and_then(Node::as_seq);
    for (i, role) in roles.unwrap_or(&[]).iter().enumerate() {
        let name = role.get("name").and_then(text).and_then(Val::known);
        basic(
            out,
            role.get("passwordSecret"),
            &format!("spec.managed.roles[{i}].passwordSecret"),
            name,
        );
    }
    for (list, kind) in [
        ("customQueriesConfigMap", Kind::ConfigMap),
        ("customQueriesSecret", Kind::Secret),
    ] {
        let items = spec.at(&["monitoring", list]).and_then(Node::as_seq);
        for (i, item) in items.unwrap_or(&[]).iter().enumerate() {
            key_selector(out, kind, item, &format!("spec.monitoring.{list}[{i}]"));
        }
    }
    for cert in [
        "serverTLSSecret",
        "serverCASecret",
        "clientCASecret",
        "replicationTLSSecret",
    ] {
        if let Some(n) = spec.at(&["certificates", cert]) {
            out.push(Ref {
                kind: Kind::Secret,
                field: format!("spec.certificates.{cert}"),
                name: n,
                holds: Holds::Other,
            });
        }
    }
    if let Some(store_node) = spec.at(&["backup", "barmanObjectStore"]) {
        store(store_node, "spec.backup.barmanObjectStore", out);
    }
    let externals = spec.get("externalClusters").and_then(Node::as_seq);
    for (i, ext) in externals.unwrap_or(&[]).iter().enumerate() {
        let at = format!("spec.externalClusters[{i}]");
        for sel in ["password", "sslKey", "sslCert", "sslRootCert"] {
            if let Some(s) = ext.get(sel) {
                key_selector(out, Kind::Secret, s, &format!("{at}.{sel}"));
            }
        }
        if let Some(store_node) = ext.get("barmanObjectStore") {
            store(store_node, &format!("{at}.barmanObjectStore"), out);
        }
    }
}

/// A `SecretKeySelector` or `ConfigMapKeySelector` (`name`, `key`).
fn key_selector<'a>(out: &mut Vec<Ref<'a>>, kind: Kind, sel: &'a Node, field: &str) {
    let Some(name) = sel.get("name") else { return };
    out.push(Ref {
        kind,
        field: format!("{field}.name"),
        name,
        holds: sel.get("key").map_or(Holds::Other, Holds::Key),
    });
}

/// The credentials and CA of a barman object store configuration.
fn store<'a>(config: &'a Node, at: &str, out: &mut Vec<Ref<'a>>) {
    const CREDENTIALS: &[(&str, &[&str])] = &[
        (
            "s3Credentials",
            &["accessKeyId", "secretAccessKey", "region", "sessionToken"],
        ),
        (
            "azureCredentials",
            &[
                "connectionString",
                "storageAccount",
                "storageKey",
                "storageSasToken",
            ],
        ),
        ("googleCredentials", &["applicationCredentials"]),
    ];
    for (provider, selectors) in CREDENTIALS {
        let Some(p) = config.get(provider) else {
            continue;
        };
        for sel in *selectors {
            if let Some(s) = p.get(sel) {
                key_selector(out, Kind::Secret, s, &format!("{at}.{provider}.{sel}"));
            }
        }
    }
    if let Some(s) = config.get("endpointCA") {
        key_selector(out, Kind::Secret, s, &format!("{at}.endpointCA"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Node {
        crate::yaml::load_in(0, text, None)
            .docs
            .into_iter()
            .next()
            .expect("one document")
            .root
    }

    #[test]
    fn lists_cluster_fields_with_their_roles() {
        let root = load(
            "spec:\n  bootstrap:\n    initdb:\n      database: immich\n      secret: {name: a}\n  \
             enableSuperuserAccess: true\n  superuserSecret: {name: b}\n  managed:\n    roles:\n    - name: grafana\n      \
             passwordSecret: {name: c}\n  backup:\n    barmanObjectStore:\n      s3Credentials:\n        \
             accessKeyId: {name: d, key: id}\n",
        );
        let refs = references(Kind::Cluster, &root);
        let got: Vec<(String, Option<&str>)> =
            refs.iter().map(|r| (r.field.clone(), r.name())).collect();
        assert_eq!(
            got,
            [
                ("spec.bootstrap.initdb.secret.name".to_string(), Some("a")),
                ("spec.superuserSecret.name".to_string(), Some("b")),
                (
                    "spec.managed.roles[0].passwordSecret.name".to_string(),
                    Some("c")
                ),
                (
                    "spec.backup.barmanObjectStore.s3Credentials.accessKeyId.name".to_string(),
                    Some("d")
                ),
            ]
        );
        assert_eq!(
            refs[0].holds,
            Holds::BasicAuth {
                role: Some("immich")
            }
        );
        assert_eq!(
            refs[2].holds,
            Holds::BasicAuth {
                role: Some("grafana")
            }
        );
        assert!(matches!(refs[3].holds, Holds::Key(k) if k.as_str() == Some("id")));
    }

    #[test]
    fn initdb_owner_defaults_to_the_database_then_app() {
        assert_eq!(initdb_owner(&load("owner: x\ndatabase: y\n")), Some("x"));
        assert_eq!(initdb_owner(&load("database: y\n")), Some("y"));
        assert_eq!(initdb_owner(&load("{}\n")), Some("app"));
        assert_eq!(initdb_owner(&load("database: ${DB}\n")), None);
        assert_eq!(initdb_owner(&load("import: {type: monolith}\n")), None);
    }
}

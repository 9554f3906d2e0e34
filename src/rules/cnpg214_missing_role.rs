//! CNPG214: a role that does not exist when it is needed. A `Database` whose `spec.owner` is no
//! role the Cluster has, when all of its roles can be seen; and a `postInit*SQL` statement that
//! names a role only `managed.roles` (or a DatabaseRole) creates, which runs before any managed
//! role exists.

use std::collections::BTreeSet;

use crate::index::{Index, InstId};
use crate::model::refs::initdb_owner;
use crate::model::value::known_text;
use crate::model::{DocId, Kind};
use crate::rules::engine::Ctx;
use crate::rules::support::is_demo_path;
use crate::rules::{Category, Loc, RuleMeta, Severity};
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG214",
    name: "missing-role",
    severity: Severity::Error,
    summary: "A Database is owned by a role its Cluster never creates, or post-init SQL names a role that only exists after bootstrap.",
    on_by_default: true,
    category: Category::Cluster,
    needs_schemas: false,
    options: &[],
};

/// The roles of one Cluster, where they come from.
struct Roles {
    /// The application owner `initdb` creates.
    owner: Option<String>,
    /// `managed.roles` and DatabaseRoles: reconciled once the instance runs.
    managed: BTreeSet<String>,
    /// Created by the post-init SQL (`CREATE ROLE` / `CREATE USER`).
    by_sql: BTreeSet<String>,
    /// Every role is one of these (no import, no SQL files, no recovery, no placeholder).
    complete: bool,
}

impl Roles {
    fn has(&self, role: &str) -> bool {
        role == "postgres"
            || role == "streaming_replica"
            || role.starts_with("pg_")
            // The operator's own (`cnpg_pooler_pgbouncer`, `cnpg_metrics_exporter`).
            || role.starts_with("cnpg_")
            || self.owner.as_deref() == Some(role)
            || self.managed.contains(role)
            || self.by_sql.contains(role)
    }
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index.instances_of(Kind::Cluster) {
        if i.owner.is_none() && is_demo_path(index, i.doc) {
            continue;
        }
        let roles = roles_of(index, inst, &doc.root);
        post_init(ctx, i.doc, inst, &doc.root, &roles);
        if roles.complete {
            databases(ctx, inst, &roles);
        }
    }
}

/// Whether CloudNativePG may treat the Cluster as a replica (a placeholder counts as one).
fn is_replica(root: &Node) -> bool {
    crate::model::cnpg::Cluster(root).is_replica() != Some(false)
}

/// What the repository shows of a Cluster's roles.
fn roles_of(index: &Index, inst: InstId, root: &Node) -> Roles {
    let spec = root.get("spec");
    let bootstrap = spec.and_then(|s| s.get("bootstrap"));
    let initdb = bootstrap.and_then(|b| b.get("initdb"));
    // No bootstrap section means the default initdb (`app` owning `app`).
    let fresh = bootstrap.is_none_or(|b| b.get("recovery").is_none() && b.get("pg_basebackup").is_none());
    let mut complete = fresh && !is_replica(root);
    let owner = match initdb {
        None => Some("app".to_string()),
        Some(initdb) => {
            if initdb.get("import").is_some()
                || ["postInitSQLRefs", "postInitApplicationSQLRefs", "postInitTemplateSQLRefs"]
                    .iter()
                    .any(|k| initdb.get(k).is_some())
            {
                complete = false;
            }
            initdb_owner(initdb).map(str::to_string)
        }
    };
    complete &= owner.is_some();
    // With superuser access on, anything holding the superuser Secret (an init container of the
    // app, a Job) may create roles this tool cannot see.
    // A placeholder counts as on.
    if let Some(n) = spec.and_then(|s| s.get("enableSuperuserAccess")) {
        complete &= n.as_scalar().and_then(|v| v.as_bool()) == Some(false);
    }
    let mut managed = BTreeSet::new();
    for role in spec
        .and_then(|s| s.at(&["managed", "roles"]))
        .and_then(Node::as_seq)
        .unwrap_or(&[])
    {
        if role.get("ensure").and_then(Node::as_str) == Some("absent") {
            continue;
        }
        match role.get("name").and_then(known_text) {
            Some(n) => {
                managed.insert(n.to_string());
            }
            None => complete = false,
        }
        // A role that may create roles (a superuser, CREATEROLE) may make any owner.
        if ["superuser", "createrole"]
            .iter()
            .any(|k| role.get(k).is_some_and(|v| v.as_scalar().and_then(|b| b.as_bool()) != Some(false)))
        {
            complete = false;
        }
    }
    // DatabaseRoles (CloudNativePG 1.30) of this Cluster.
    let ns = index.namespace(inst).unwrap_or("");
    let cluster = index.name(inst).unwrap_or("");
    for (other, _, d) in index.instances_of(Kind::DatabaseRole) {
        if index.namespace(other) != Some(ns) || !index.paired(inst, other) {
            continue;
        }
        match d.root.at(&["spec", "cluster", "name"]).and_then(known_text) {
            Some(c) if c == cluster => {}
            Some(_) => continue,
            None => {
                complete = false;
                continue;
            }
        }
        match d.root.at(&["spec", "name"]).and_then(known_text) {
            Some(n) => {
                managed.insert(n.to_string());
            }
            None => complete = false,
        }
    }
    let mut by_sql = BTreeSet::new();
    for stmt in initdb.iter().flat_map(|i| post_init_statements(i)) {
        let Some(text) = stmt.1.as_str() else { continue };
        if crate::model::value::has_placeholder(text) {
            complete = false;
        }
        for s in sql::statements(text) {
            if let Some(created) = sql::created_role(&s) {
                by_sql.insert(created);
            }
            // A `DO` block or a function may create roles this reading cannot see.
            if sql::is_opaque(&s) {
                complete = false;
            }
        }
    }
    Roles {
        owner,
        managed,
        by_sql,
        complete,
    }
}

/// The inline post-init statements, with their field names, in the order initdb runs them.
fn post_init_statements(initdb: &Node) -> Vec<(String, &Node)> {
    let mut out = Vec::new();
    for field in ["postInitSQL", "postInitTemplateSQL", "postInitApplicationSQL"] {
        for (n, item) in initdb
            .get(field)
            .and_then(Node::as_seq)
            .unwrap_or(&[])
            .iter()
            .enumerate()
        {
            out.push((format!("{field}[{n}]"), item));
        }
    }
    out
}

/// Post-init SQL that names a managed role before any managed role exists.
fn post_init(ctx: &mut Ctx<'_>, doc: DocId, inst: InstId, root: &Node, roles: &Roles) {
    let Some(initdb) = root.at(&["spec", "bootstrap", "initdb"]) else { return };
    // A replica runs no post-init SQL; SQL files run before the later inline fields and may
    // create any role.
    if is_replica(root)
        || ["postInitSQLRefs", "postInitApplicationSQLRefs", "postInitTemplateSQLRefs"]
            .iter()
            .any(|k| initdb.get(k).is_some())
    {
        return;
    }
    // Roles the SQL has created so far: a statement may use a role an earlier one created.
    let mut created: BTreeSet<String> = BTreeSet::new();
    for (field, node) in post_init_statements(initdb) {
        let Some(text) = node.as_str() else { continue };
        if crate::model::value::has_placeholder(text) {
            continue;
        }
        let mut named: Vec<String> = Vec::new();
        let statements = sql::statements(text);
        // Past a `DO` block, any role may exist.
        if statements.iter().any(|s| sql::is_opaque(s)) {
            return;
        }
        for s in statements {
            if let Some(c) = sql::created_role(&s) {
                created.insert(c);
            }
            for role in sql::roles_named(&s) {
                let only_managed = roles.managed.contains(&role)
                    && roles.owner.as_deref() != Some(role.as_str())
                    && !created.contains(&role)
                    && role != "postgres";
                if only_managed && !named.contains(&role) {
                    named.push(role);
                }
            }
        }
        let Some(role) = named.first() else { continue };
        ctx.report(
            Loc::value(doc, node),
            format!(
                "`spec.bootstrap.initdb.{field}` names the role `{role}`, which only \
                 `managed.roles` or a DatabaseRole creates: the instance manager runs post-init \
                 SQL while bootstrapping, before it reconciles any managed role, so the \
                 statement fails with `role \"{role}\" does not exist`, and so does the \
                 bootstrap"
            ),
        )
        .object(inst)
        .help(format!(
            "Create the role in the post-init SQL before using it (`CREATE ROLE {role} LOGIN`; \
             the managed role then adopts it), or move the statement out of bootstrap, for \
             example into a Database object's settings or a later migration."
        ));
    }
}

/// Databases of this Cluster owned by a role it never has.
fn databases(ctx: &mut Ctx<'_>, cluster: InstId, roles: &Roles) {
    let index = ctx.index;
    let (Some(ns), Some(name)) = (index.namespace(cluster), index.name(cluster)) else { return };
    for (inst, i, doc) in index.instances_of(Kind::Database) {
        if index.namespace(inst) != Some(ns) || !index.paired(cluster, inst) {
            continue;
        }
        let spec = doc.root.get("spec");
        if spec.and_then(|s| s.at(&["cluster", "name"])).and_then(known_text) != Some(name) {
            continue;
        }
        if spec.and_then(|s| s.get("ensure")).and_then(Node::as_str) == Some("absent") {
            continue;
        }
        let Some(owner_node) = spec.and_then(|s| s.get("owner")) else { continue };
        let Some(owner) = known_text(owner_node) else { continue };
        if roles.has(owner) {
            continue;
        }
        let mut known: Vec<&str> = roles.owner.iter().map(String::as_str).collect();
        known.extend(roles.managed.iter().map(String::as_str));
        known.extend(roles.by_sql.iter().map(String::as_str));
        ctx.report(
            Loc::value(i.doc, owner_node),
            format!(
                "Database owner `{owner}` is no role Cluster `{ns}/{name}` has (it creates {}): \
                 the instance manager runs `CREATE DATABASE … OWNER {owner}`, which PostgreSQL \
                 rejects with `role \"{owner}\" does not exist`, so the database is never \
                 created",
                crate::rules::support::code_list(&known)
            ),
        )
        .object(inst)
        .help(format!(
            "Make `{owner}` a role: add it to the Cluster's `spec.managed.roles`, or set \
             `spec.owner` to a role the Cluster has."
        ));
    }
}

/// Just enough of PostgreSQL's lexical structure to find role names in statements.
mod sql {
    /// A token: an identifier (unquoted ones folded to lower case, as PostgreSQL does), or a
    /// punctuation character.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Tok {
        Ident { text: String, quoted: bool },
        Punct(char),
    }

    impl Tok {
        fn is_kw(&self, kw: &str) -> bool {
            matches!(self, Tok::Ident { text, quoted: false } if text == kw)
        }
        fn ident(&self) -> Option<&str> {
            match self {
                Tok::Ident { text, .. } => Some(text),
                Tok::Punct(_) => None,
            }
        }
    }

    /// The statements of a SQL text, as tokens; strings, comments and dollar-quoted bodies are
    /// skipped.
    pub fn statements(text: &str) -> Vec<Vec<Tok>> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = vec![Vec::new()];
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '-' && chars.get(i + 1) == Some(&'-') {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            } else if c == '/' && chars.get(i + 1) == Some(&'*') {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    i += 1;
                }
                i += 2;
            } else if c == '\'' {
                // `E'…'` strings take backslash escapes.
                let escapes = i > 0 && matches!(chars[i - 1], 'e' | 'E');
                i += 1;
                while i < chars.len() {
                    let escaped = escapes && chars[i] == '\\';
                    let doubled = chars[i] == '\'' && chars.get(i + 1) == Some(&'\'');
                    if escaped || doubled {
                        i += 2;
                    } else if chars[i] == '\'' {
                        break;
                    } else {
                        i += 1;
                    }
                }
                i += 1;
            } else if c == '"' {
                let mut s = String::new();
                i += 1;
                while i < chars.len() {
                    if chars[i] == '"' && chars.get(i + 1) == Some(&'"') {
                        s.push('"');
                        i += 2;
                    } else if chars[i] == '"' {
                        break;
                    } else {
                        s.push(chars[i]);
                        i += 1;
                    }
                }
                i += 1;
                push(&mut out, Tok::Ident { text: s, quoted: true });
            } else if c == '$' {
                // `$tag$ … $tag$`: a function body, skipped whole.
                let mut j = i + 1;
                while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                    j += 1;
                }
                if chars.get(j) == Some(&'$') {
                    let tag: String = chars[i..=j].iter().collect();
                    let rest: String = chars[j + 1..].iter().collect();
                    let skip = rest.find(&tag).map_or(rest.chars().count(), |p| {
                        rest[..p].chars().count() + tag.chars().count()
                    });
                    i = j + 1 + skip;
                } else {
                    i = j;
                }
            } else if c.is_alphabetic() || c == '_' {
                let mut s = String::new();
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    s.extend(chars[i].to_lowercase());
                    i += 1;
                }
                push(&mut out, Tok::Ident { text: s, quoted: false });
            } else {
                if c == ';' {
                    out.push(Vec::new());
                } else if !c.is_whitespace() {
                    push(&mut out, Tok::Punct(c));
                }
                i += 1;
            }
        }
        out.retain(|s| !s.is_empty());
        out
    }

    fn push(out: &mut [Vec<Tok>], t: Tok) {
        if let Some(last) = out.last_mut() {
            last.push(t);
        }
    }

    /// A `DO` block, or a function or procedure, whose body this reading skips.
    pub fn is_opaque(s: &[Tok]) -> bool {
        s.first().is_some_and(|t| t.is_kw("do"))
            || (s.first().is_some_and(|t| t.is_kw("create"))
                && s.iter().take(4).any(|t| t.is_kw("function") || t.is_kw("procedure")))
    }

    /// The role a `CREATE ROLE` / `CREATE USER` / `CREATE GROUP` statement creates.
    pub fn created_role(s: &[Tok]) -> Option<String> {
        let first = s.first()?;
        let second = s.get(1)?;
        if !first.is_kw("create") || !["role", "user", "group"].iter().any(|k| second.is_kw(k)) {
            return None;
        }
        // `CREATE USER MAPPING` makes no role.
        let name = s.get(2)?;
        if second.is_kw("user") && name.is_kw("mapping") {
            return None;
        }
        name.ident().map(str::to_string)
    }

    /// The roles a statement names in positions that only a role can take: the grantees of a
    /// GRANT, `OWNER TO`, `AUTHORIZATION`, `CREATE DATABASE … OWNER`, `ALTER ROLE`,
    /// `SET ROLE`, `FOR ROLE`, `REASSIGN OWNED BY … TO`.
    pub fn roles_named(s: &[Tok]) -> Vec<String> {
        let mut out = Vec::new();
        let list_after = |at: usize, out: &mut Vec<String>| {
            let mut k = at;
            while let Some(t) = s.get(k) {
                match t.ident() {
                    Some(name) if !t.is_kw("group") => out.push(name.to_string()),
                    Some(_) => {}
                    None => break,
                }
                if s.get(k + 1) != Some(&Tok::Punct(',')) {
                    break;
                }
                k += 2;
            }
        };
        let starts = |kws: &[&str]| kws.iter().enumerate().all(|(n, k)| s.get(n).is_some_and(|t| t.is_kw(k)));
        if starts(&["alter", "role"]) || starts(&["alter", "user"]) {
            if let Some(n) = s.get(2).and_then(Tok::ident) {
                if !matches!(n, "all" | "current_user" | "session_user" | "mapping") {
                    out.push(n.to_string());
                }
            }
        }
        if starts(&["set", "role"]) {
            list_after(2, &mut out);
        }
        // `TO` takes roles after a GRANT (also inside ALTER DEFAULT PRIVILEGES) or REASSIGN,
        // and after OWNER; elsewhere (`SET search_path TO`, `RENAME TO`) it does not.
        let grant_at = s.iter().position(|t| t.is_kw("grant") || t.is_kw("reassign"));
        for (n, t) in s.iter().enumerate() {
            let next = n + 1;
            let after_grant = grant_at.is_some_and(|g| g < n);
            let owner_to = n > 0 && s.get(n - 1).is_some_and(|p| p.is_kw("owner"));
            if (t.is_kw("to") && (after_grant || owner_to)) || t.is_kw("authorization") {
                list_after(next, &mut out);
            } else if t.is_kw("for") && s.get(next).is_some_and(|r| r.is_kw("role") || r.is_kw("user")) {
                list_after(next + 1, &mut out);
            } else if t.is_kw("owner")
                && starts(&["create", "database"])
                && !s.get(next).is_some_and(|x| x.is_kw("to"))
            {
                let at = if s.get(next) == Some(&Tok::Punct('=')) { next + 1 } else { next };
                list_after(at, &mut out);
            }
        }
        out.retain(|r| !matches!(r.as_str(), "public" | "current_user" | "session_user" | "current_role"));
        out
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn roles(text: &str) -> Vec<String> {
            statements(text).iter().flat_map(|s| roles_named(s)).collect()
        }

        #[test]
        fn finds_roles_in_role_positions_only() {
            assert_eq!(
                roles("GRANT SELECT ON ALL TABLES IN SCHEMA grafana TO grafana, \"Reader\";"),
                ["grafana", "Reader"]
            );
            assert_eq!(roles("CREATE SCHEMA app AUTHORIZATION immich"), ["immich"]);
            assert_eq!(roles("ALTER TABLE t OWNER TO app; ALTER TABLE t RENAME TO grafana"), ["app"]);
            assert_eq!(roles("SET search_path TO grafana"), Vec::<String>::new());
            assert_eq!(roles("ALTER DEFAULT PRIVILEGES FOR ROLE a IN SCHEMA s GRANT SELECT ON TABLES TO b"), ["a", "b"]);
            assert_eq!(roles("CREATE DATABASE x OWNER y"), ["y"]);
            assert_eq!(roles("GRANT ALL ON DATABASE x TO PUBLIC"), Vec::<String>::new());
            assert_eq!(roles("-- GRANT ALL TO a\nSELECT 'GRANT x TO b'"), Vec::<String>::new());
            assert_eq!(
                roles("CREATE FUNCTION f() RETURNS void AS $$ GRANT x TO c $$ LANGUAGE sql"),
                Vec::<String>::new()
            );
        }

        #[test]
        fn skips_comments_strings_and_mappings() {
            assert_eq!(roles("/* GRANT x TO a */ SELECT 1"), Vec::<String>::new());
            assert_eq!(roles("SELECT E'it\\'s; GRANT x TO b'"), Vec::<String>::new());
            assert_eq!(roles("ALTER USER MAPPING FOR app SERVER s"), Vec::<String>::new());
            assert!(statements("DO $$ BEGIN CREATE ROLE a; END $$").iter().any(|s| is_opaque(s)));
        }

        #[test]
        fn reads_created_roles() {
            let s = statements("CREATE ROLE grafana LOGIN; create user \"App\"; CREATE USER MAPPING FOR x SERVER y");
            let created: Vec<_> = s.iter().filter_map(|t| created_role(t)).collect();
            assert_eq!(created, ["grafana", "App"]);
        }
    }
}

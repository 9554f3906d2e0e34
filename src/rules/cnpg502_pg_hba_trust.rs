//! CNPG502: pg_hba lines that let clients in without a password, or with a weak one from
//! anywhere.

use crate::rules::{Loc, Category, RuleMeta, Severity};
use crate::rules::engine::Ctx;
use crate::model::Kind;
use crate::yaml::Node;

pub const META: RuleMeta = RuleMeta {
    code: "CNPG502",
    name: "pg-hba-trust",
    severity: Severity::Error,
    summary: "A pg_hba line uses trust, cleartext password, or a weak method for any address.",
    on_by_default: true,
    category: Category::Security,
    needs_schemas: false,
    options: &[],
};

const METHODS: &[&str] = &[
    "trust",
    "reject",
    "scram-sha-256",
    "md5",
    "password",
    "gss",
    "sspi",
    "ident",
    "peer",
    "ldap",
    "radius",
    "cert",
    "pam",
    "bsd",
    "oauth",
];

const HOST_TYPES: &[&str] = &["host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"];

/// The parts of a pg_hba line this rule reads.
#[derive(Debug, PartialEq, Eq)]
pub struct HbaLine<'a> {
    pub conn_type: &'a str,
    pub address: Option<&'a str>,
    pub method: &'a str,
}

/// Reads `type database user [address [mask]] method [options]`; `None` for comments, include
/// directives, lines with placeholders where the method or address would be, and anything
/// else it cannot read with certainty.
pub fn parse_line(line: &str) -> Option<HbaLine<'_>> {
    let line = line.split('#').next()?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let conn_type = *fields.first()?;
    let (address, rest) = if conn_type == "local" {
        (None, fields.get(3..)?)
    } else if HOST_TYPES.contains(&conn_type) {
        let address = *fields.get(3)?;
        // An address without a prefix length may be followed by a netmask.
        let after = if !address.contains('/') && fields.get(4).is_some_and(|m| looks_like_mask(m)) {
            5
        } else {
            4
        };
        (Some(address), fields.get(after..)?)
    } else {
        return None;
    };
    let method = *rest.first()?;
    // An address that is still a placeholder is unknown; the method may still be certain.
    let address = address.filter(|a| !a.contains('$'));
    METHODS.contains(&method).then_some(HbaLine {
        conn_type,
        address,
        method,
    })
}

fn looks_like_mask(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// Addresses that match every client.
fn is_anywhere(address: &str, line: &str) -> bool {
    matches!(address, "0.0.0.0/0" | "::/0" | "::0/0" | "all")
        || (address == "0.0.0.0" && line.split_whitespace().nth(4) == Some("0.0.0.0"))
}

pub fn check(ctx: &mut Ctx<'_>) {
    let index = ctx.index;
    for (inst, i, doc) in index
        .instances_of(Kind::Cluster)
        .chain(index.instances_of(Kind::Pooler))
    {
        // Demonstration data by the repository's design: a sample or test that nothing deploys.
        if i.owner.is_none() && super::support::is_demo_path(index, i.doc) {
            continue;
        }
        let path: &[&str] = if doc.kind() == Kind::Cluster {
            &["spec", "postgresql", "pg_hba"]
        } else {
            &["spec", "pgbouncer", "pg_hba"]
        };
        let lines = doc.root.at(path).and_then(Node::as_seq).unwrap_or(&[]);
        for node in lines {
            let Some(text) = node.as_str() else { continue };
            let Some(line) = parse_line(text) else { continue };
            let anywhere = line.address.is_some_and(|a| is_anywhere(a, text));
            let (severity, message, help) = match line.method {
                "trust" => (
                    Severity::Error,
                    format!(
                        "`trust` lets {} connect as any matching role with no password at all",
                        match (line.conn_type, line.address) {
                            ("local", _) => "anyone with a shell in the pod",
                            _ if anywhere => "any client on the network",
                            (_, Some(_)) => "every client in this range",
                            (_, None) => "every client the line matches",
                        }
                    ),
                    "Use scram-sha-256 (or cert, or peer for local connections).",
                ),
                "password" => (
                    Severity::Warning,
                    "`password` sends the password in cleartext; anyone who can see the traffic \
                     can read it"
                        .to_string(),
                    "Use scram-sha-256.",
                ),
                "md5" if anywhere => (
                    Severity::Warning,
                    format!(
                        "`md5` for every address ({}): md5 hashes are replayable and deprecated \
                         in PostgreSQL; from anywhere, prefer scram-sha-256",
                        line.address.unwrap_or("")
                    ),
                    "Use scram-sha-256 and narrow the address range to the clients that need it.",
                ),
                _ => continue,
            };
            ctx.report(Loc::value(i.doc, node), message)
                .severity(severity)
                .object(inst)
                .help(help);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_method_after_address_and_mask() {
        let l = parse_line("host all all 10.0.0.0/8 trust").unwrap();
        assert_eq!((l.address, l.method), (Some("10.0.0.0/8"), "trust"));
        let l = parse_line("host all all 10.0.0.0 255.0.0.0 md5").unwrap();
        assert_eq!((l.address, l.method), (Some("10.0.0.0"), "md5"));
        let l = parse_line("local all all peer map=x").unwrap();
        assert_eq!((l.address, l.method), (None, "peer"));
        assert!(parse_line("# host all all all trust").is_none());
        let l = parse_line("host all all ${CIDR} trust").unwrap();
        assert_eq!((l.address, l.method), (None, "trust"));
        assert!(parse_line("include_dir conf.d").is_none());
        let l = parse_line("host all all ${podselector:app} scram-sha-256").unwrap();
        assert_eq!((l.address, l.method), (None, "scram-sha-256"));
        assert!(parse_line("host all all 10.0.0.0/8 ${METHOD}").is_none());
    }
}

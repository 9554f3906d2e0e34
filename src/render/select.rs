//! Patch targets, as kustomize selects them: group, version, kind, name and namespace are
//! anchored regular expressions; label and annotation selectors use Kubernetes' selector
//! syntax (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).

use regex::Regex;

use crate::model::value::text;
use crate::model::Val;
use crate::yaml::Node;

#[derive(Debug, Default)]
pub struct Selector {
    group: Option<Pattern>,
    version: Option<Pattern>,
    kind: Option<Pattern>,
    name: Option<Pattern>,
    namespace: Option<Pattern>,
    labels: Vec<Requirement>,
    annotations: Vec<Requirement>,
}

#[derive(Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A target field. Most are plain names and groups, and a regular expression of those matches
/// by comparing characters (a `.` matching any one but a newline); compiling a regex per patch
/// per build dominated rendering.
#[derive(Debug)]
enum Pattern {
    Plain(Vec<char>),
    Regex(Regex),
}

impl Pattern {
    fn new(pattern: &str) -> Result<Pattern, String> {
        // Outside a character class, these are the only characters with a meaning of their own.
        if !pattern.chars().any(|c| "\\+*?()|[]{}^$".contains(c)) {
            return Ok(Pattern::Plain(pattern.chars().collect()));
        }
        Regex::new(&format!("^(?:{pattern})$"))
            .map(Pattern::Regex)
            .map_err(|e| format!("invalid pattern `{pattern}`: {e}"))
    }

    fn is_match(&self, value: &str) -> bool {
        match self {
            Pattern::Plain(p) => {
                let mut chars = value.chars();
                p.iter().all(|&pc| {
                    chars
                        .next()
                        .is_some_and(|c| c == pc || (pc == '.' && c != '\n'))
                }) && chars.next().is_none()
            }
            Pattern::Regex(r) => r.is_match(value),
        }
    }
}

impl Selector {
    /// Reads a `target:` mapping. An unknown (placeholder) field makes the selector unusable.
    pub fn from_node(node: &Node) -> Result<Selector, String> {
        let field = |k: &str| -> Result<Option<String>, String> {
            match node.get(k).and_then(text) {
                None => Ok(None),
                Some(Val::Known("")) => Ok(None),
                Some(Val::Known(s)) => Ok(Some(s.to_string())),
                Some(Val::Unknown) => Err(format!("target.{k} holds a substitution placeholder")),
            }
        };
        let re = |k: &str| -> Result<Option<Pattern>, String> {
            field(k)?.map(|p| Pattern::new(&p)).transpose()
        };
        Ok(Selector {
            group: re("group")?,
            version: re("version")?,
            kind: re("kind")?,
            name: re("name")?,
            namespace: re("namespace")?,
            labels: field("labelSelector")?
                .map(|s| parse_selector(&s))
                .transpose()?
                .unwrap_or_default(),
            annotations: field("annotationSelector")?
                .map(|s| parse_selector(&s))
                .transpose()?
                .unwrap_or_default(),
        })
    }

    pub fn matches(&self, root: &Node) -> bool {
        // Most selective first, and each field read only when asked for: every patch of a
        // kustomization is matched against every object it builds.
        fn ok<'a>(p: &Option<Pattern>, v: impl FnOnce() -> &'a str) -> bool {
            p.as_ref().is_none_or(|p| p.is_match(v()))
        }
        let meta = || root.get("metadata");
        let field = |k: &str| {
            meta()
                .and_then(|m| m.get(k))
                .and_then(Node::as_str)
                .unwrap_or("")
        };
        let api = || root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
        ok(&self.kind, || {
            root.get("kind").and_then(Node::as_str).unwrap_or("")
        }) && ok(&self.name, || field("name"))
            && ok(&self.group, || {
                api().rsplit_once('/').map_or("", |(g, _)| g)
            })
            && ok(&self.version, || {
                api().rsplit_once('/').map_or(api(), |(_, v)| v)
            })
            && ok(&self.namespace, || field("namespace"))
            && (self.labels.is_empty()
                || requirements_hold(&self.labels, meta().and_then(|m| m.get("labels"))))
            && (self.annotations.is_empty()
                || requirements_hold(&self.annotations, meta().and_then(|m| m.get("annotations"))))
    }
}

fn requirements_hold(reqs: &[Requirement], map: Option<&Node>) -> bool {
    let value = |k: &str| map.and_then(|m| m.get(k)).and_then(Node::as_str);
    reqs.iter().all(|r| match r {
        Requirement::Equals(k, v) => value(k) == Some(v.as_str()),
        Requirement::NotEquals(k, v) => value(k) != Some(v.as_str()),
        Requirement::In(k, vs) => value(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Requirement::NotIn(k, vs) => value(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        Requirement::Exists(k) => value(k).is_some(),
        Requirement::NotExists(k) => value(k).is_none(),
    })
}

/// Splits on commas that are not inside parentheses.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_selector(s: &str) -> Result<Vec<Requirement>, String> {
    let mut out = Vec::new();
    for part in split_top(s)
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let set = |rest: &str| -> Result<Vec<String>, String> {
            let inner = rest
                .trim()
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| format!("invalid selector `{part}`"))?;
            Ok(inner.split(',').map(|v| v.trim().to_string()).collect())
        };
        let req = if let Some(k) = part.strip_prefix('!') {
            Requirement::NotExists(k.trim().to_string())
        } else if let Some((k, v)) = part.split_once("!=") {
            Requirement::NotEquals(k.trim().to_string(), v.trim().to_string())
        } else if let Some((k, v)) = part.split_once("==") {
            Requirement::Equals(k.trim().to_string(), v.trim().to_string())
        } else if let Some((k, v)) = part.split_once('=') {
            Requirement::Equals(k.trim().to_string(), v.trim().to_string())
        } else if let Some((k, rest)) = part.split_once(" notin ") {
            Requirement::NotIn(k.trim().to_string(), set(rest)?)
        } else if let Some((k, rest)) = part.split_once(" in ") {
            Requirement::In(k.trim().to_string(), set(rest)?)
        } else if part
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            Requirement::Exists(part.to_string())
        } else {
            return Err(format!("invalid selector `{part}`"));
        };
        out.push(req);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::yaml::first_root as obj;

    #[test]
    fn selectors() {
        let ks = obj(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: app\n  labels:\n    substitution.flux.home.arpa/disabled: \"false\"\n",
        );
        let sel = |y: &str| Selector::from_node(&obj(y)).unwrap();
        assert!(sel("group: kustomize.toolkit.fluxcd.io\nkind: Kustomization\n").matches(&ks));
        assert!(
            sel("labelSelector: substitution.flux.home.arpa/disabled notin (true)\n").matches(&ks)
        );
        assert!(
            !sel("labelSelector: substitution.flux.home.arpa/disabled in (true)\n").matches(&ks)
        );
        assert!(sel("name: ap.*\n").matches(&ks));
        assert!(!sel("name: ap\n").matches(&ks), "names are anchored");
        assert!(
            sel("labelSelector: \"!missing,substitution.flux.home.arpa/disabled=false\"\n")
                .matches(&ks)
        );
        assert!(!sel("kind: Cluster\n").matches(&ks));
        assert!(Selector::from_node(&obj("name: \"(\"\n")).is_err());
    }

    /// Plain patterns are matched without a regex; they must agree with the anchored regex.
    #[test]
    fn plain_patterns_match_as_regexes_do() {
        let values = [
            "app",
            "app-1",
            "ap",
            "apps",
            "a.p",
            "a\np",
            "",
            "ÄpP",
            "postgresql.cnpg.io",
        ];
        let patterns = [
            "app",
            "app-1",
            "a.p",
            "...",
            "",
            "ÄpP",
            "postgresql.cnpg.io",
            "a-p",
            "#~&",
        ];
        for p in patterns {
            let plain = Pattern::new(p).unwrap();
            assert!(matches!(plain, Pattern::Plain(_)), "{p} should be plain");
            let re = Regex::new(&format!("^(?:{p})$")).unwrap();
            for v in values {
                assert_eq!(plain.is_match(v), re.is_match(v), "pattern {p:?} on {v:?}");
            }
        }
        assert!(matches!(Pattern::new("ap.*").unwrap(), Pattern::Regex(_)));
    }
}

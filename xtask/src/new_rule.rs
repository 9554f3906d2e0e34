//! `cargo xtask new-rule CODE name`: scaffolds a rule in the places a rule lives, in the order
//! CONTRIBUTING.md gives: the rule file, its page, its fixture directory, and its registry line.
//! The scaffold compiles, and its test fails until the rule is written: the `fires-` fixture
//! and the page's bad example expect a finding the stub never reports.

use std::path::Path;

/// The starting point of every example and fixture of a new rule: a plain Cluster.
const CLUSTER: &str = "apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata:
  name: pg
  namespace: db
spec:
  instances: 3
  storage:
    size: 10Gi
";

/// The category a code's hundreds digit stands for, as `Category` in `src/rules/finding.rs`.
fn category(code: &str) -> Option<&'static str> {
    Some(match code.get(4..5)? {
        "0" => "Yaml",
        "1" => "Backup",
        "2" => "Cluster",
        "3" => "WorkloadIdentity",
        "4" => "Flux",
        "5" => "Security",
        "9" => "Suppression",
        _ => return None,
    })
}

/// Checks `CODE` (`CNPG` and three digits) and `name` (kebab-case), and writes the scaffold
/// under `project`. Refuses to overwrite anything.
pub fn scaffold(project: &Path, code: &str, name: &str) -> Result<Vec<String>, String> {
    let digits = code.strip_prefix("CNPG").unwrap_or("");
    if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "`{code}` is not a rule code (CNPG and three digits)"
        ));
    }
    let Some(category) = category(code) else {
        return Err(format!(
            "`{code}`: no category for CNPG{}xx (0 yaml, 1 backup, 2 cluster, 3 workload \
             identity, 4 flux, 5 security, 9 suppression)",
            &digits[..1]
        ));
    };
    let kebab = !name.is_empty()
        && name.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !kebab {
        return Err(format!("`{name}` is not a kebab-case rule name"));
    }
    let module = format!("{}_{}", code.to_ascii_lowercase(), name.replace('-', "_"));
    let rule_file = project.join(format!("src/rules/{module}.rs"));
    let page = project.join(format!("rules/{code}-{name}.md"));
    let fixtures = project.join(format!("fixtures/rules/{code}"));
    let registry = project.join("src/rules/mod.rs");
    for p in [&rule_file, &page, &fixtures] {
        if p.exists() {
            return Err(format!("{} exists already", p.display()));
        }
    }
    let mod_rs =
        std::fs::read_to_string(&registry).map_err(|e| format!("{}: {e}", registry.display()))?;
    let line = format!("    {module} => \"{code}-{name}.md\",\n");
    let updated = insert_registry_line(&mod_rs, code, &line)
        .ok_or_else(|| format!("{}: no `registry! {{ … }}` block", registry.display()))?;
    if mod_rs.contains(&format!("\"{code}-")) {
        return Err(format!("{code} is registered already"));
    }

    let write = |path: &Path, text: &str| -> Result<(), String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(
        &rule_file,
        &format!(
            r#"//! {code}: TODO one line on what this rule reports.

use crate::rules::engine::Ctx;
use crate::rules::{{Category, RuleMeta, Severity}};

pub const META: RuleMeta = RuleMeta {{
    code: "{code}",
    name: "{name}",
    severity: Severity::Warning,
    summary: "TODO: the mistake, in one sentence.",
    on_by_default: true,
    category: Category::{category},
    needs_schemas: false,
    options: &[],
}};

pub fn check(ctx: &mut Ctx<'_>) {{
    // Read what Flux deploys: `ctx.index.instances_of(Kind::…)`; report with
    // `ctx.report(Loc::value(doc, node), message).help(fix).object(inst)`.
    let _ = ctx;
}}
"#
        ),
    )?;
    write(
        &page,
        &format!(
            r#"---
code: {code}
name: {name}
severity: warning
summary: TODO: the mistake, in one sentence.
---

# {code} {name}

## What it catches

TODO: exactly what is reported, and where the finding points.

## Why it matters

TODO: what goes wrong, with links to the upstream code or docs (pinned to a release) that say so.

## Bad example

```yaml file=apps/db/cluster.yaml
{CLUSTER}```

## Good example

```yaml file=apps/db/cluster.yaml
{CLUSTER}```

## How to fix

TODO: the change to make.
"#
        ),
    )?;
    write(&fixtures.join("fires-example.yaml"), CLUSTER)?;
    write(&fixtures.join("clean-example.yaml"), CLUSTER)?;
    std::fs::write(&registry, updated).map_err(|e| format!("{}: {e}", registry.display()))?;
    Ok(vec![
        format!("src/rules/{module}.rs"),
        format!("rules/{code}-{name}.md"),
        format!("fixtures/rules/{code}/fires-example.yaml"),
        format!("fixtures/rules/{code}/clean-example.yaml"),
        "src/rules/mod.rs (registry line)".to_string(),
    ])
}

/// `mod_rs` with `line` placed among the registry's lines in code order.
fn insert_registry_line(mod_rs: &str, code: &str, line: &str) -> Option<String> {
    let start = mod_rs.find("registry! {\n")? + "registry! {\n".len();
    let end = start + mod_rs[start..].find("\n}")? + 1;
    let mut at = end;
    let mut offset = start;
    for l in mod_rs[start..end].split_inclusive('\n') {
        let existing = l.split('"').nth(1).and_then(|f| f.split('-').next());
        if existing.is_some_and(|c| c > code) {
            at = offset;
            break;
        }
        offset += l.len();
    }
    Some(format!("{}{line}{}", &mod_rs[..at], &mod_rs[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str =
        "registry! {\n    cnpg101_a => \"CNPG101-a.md\",\n    cnpg205_b => \"CNPG205-b.md\",\n}\n";

    #[test]
    fn the_registry_line_goes_in_code_order() {
        let out = insert_registry_line(REGISTRY, "CNPG110", "    cnpg110_c => \"CNPG110-c.md\",\n");
        assert_eq!(
            out.as_deref(),
            Some("registry! {\n    cnpg101_a => \"CNPG101-a.md\",\n    cnpg110_c => \"CNPG110-c.md\",\n    cnpg205_b => \"CNPG205-b.md\",\n}\n")
        );
        let last =
            insert_registry_line(REGISTRY, "CNPG900", "    cnpg900_z => \"CNPG900-z.md\",\n");
        assert!(last.is_some_and(|s| s.ends_with("    cnpg900_z => \"CNPG900-z.md\",\n}\n")));
    }

    #[test]
    fn scaffolds_every_place_and_refuses_to_overwrite() {
        let dir = std::env::temp_dir().join(format!("xtask-new-rule-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("src/rules")).expect("mkdir");
        std::fs::write(dir.join("src/rules/mod.rs"), REGISTRY).expect("write registry");
        let written = scaffold(&dir, "CNPG211", "some-check").expect("scaffold");
        assert_eq!(written.len(), 5);
        assert!(dir.join("src/rules/cnpg211_some_check.rs").is_file());
        assert!(dir.join("rules/CNPG211-some-check.md").is_file());
        assert!(dir
            .join("fixtures/rules/CNPG211/fires-example.yaml")
            .is_file());
        let registry = std::fs::read_to_string(dir.join("src/rules/mod.rs")).expect("read");
        assert!(registry.contains("cnpg205_b => \"CNPG205-b.md\",\n    cnpg211_some_check"));
        assert!(scaffold(&dir, "CNPG211", "some-check").is_err());
        assert!(scaffold(&dir, "CNPG2111", "x").is_err());
        assert!(scaffold(&dir, "CNPG311", "Not_Kebab").is_err());
        assert!(scaffold(&dir, "CNPG611", "no-category").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Resolves `var.NAME` and `local.NAME` in Terraform values across the files of one module.
//!
//! A Terraform module is the set of `.tf` files in one directory: a value in `buckets.tf` may
//! come from a `locals` block in `locals.tf` or a `variable` default in `variables.tf`.
//! A variable takes its default only when nothing visible can set it:
//! - a `terraform.tfvars` or `*.auto.tfvars` file in the module's directory sets it (Terraform
//!   loads those by itself), and that value is used;
//! - a `module` block elsewhere in the repository with a local `source` pointing at the
//!   directory passes it, and the caller's value is used; callers that disagree leave it unknown;
//! - any other `.tfvars` file (given with `-var-file`) or a `terragrunt.hcl` `inputs` block that
//!   names it leaves it unknown, since which one applies is decided outside the repository.
//!
//! Values set on the command line or through `TF_VAR_` variables cannot be seen; a default is
//! what Terraform uses without them. Precedence is documented in
//! <https://developer.hashicorp.com/terraform/language/values/variables#variable-definition-precedence>.

use std::collections::{HashMap, HashSet};

use super::terraform::{is_local_source, TfFacts, TfPart, TfScope, TfText};
use crate::source::paths::{self, parent};

/// How deep a chain of locals and variables may go before it counts as unknown (cycles).
const MAX_DEPTH: usize = 16;

/// Longer values count as unknown: locals that repeat each other grow exponentially.
const MAX_LEN: usize = 4096;

/// `files` are `(repo_path, facts)` for every Terraform-family file read: `.tf`, `.tfvars`,
/// `terragrunt.hcl`. Rewrites every [`TfText::Template`] in the facts to known or unknown text.
pub fn resolve(files: &mut [(String, TfFacts)]) {
    let context = Context::build(files);
    for (path, facts) in files.iter_mut() {
        let dir = parent(path);
        let r = |t: &mut TfText| *t = context.resolve(dir, t, 0);
        for bucket in &mut facts.buckets {
            r(&mut bucket.name.value);
            for rule in &mut bucket.delete_rules {
                if let TfScope::Prefixes(prefixes) = &mut rule.scope {
                    prefixes.iter_mut().for_each(r);
                }
            }
        }
        for sa in &mut facts.service_accounts {
            r(&mut sa.account_id.value);
            if let Some(project) = &mut sa.project {
                r(project);
            }
        }
        for m in &mut facts.wi_members {
            r(&mut m.gsa_account_id);
        }
        facts.other_grants.iter_mut().for_each(r);
    }
}

fn kind_of(path: &str) -> FileRole {
    let name = paths::file_name(path);
    let vars = name.strip_suffix(".json").unwrap_or(name);
    if name == "terragrunt.hcl" {
        FileRole::Terragrunt
    } else if vars == "terraform.tfvars" || vars.ends_with(".auto.tfvars") {
        FileRole::AutoVars
    } else if vars.ends_with(".tfvars") {
        FileRole::OtherVars
    } else if name == "override.tf" || name.ends_with("_override.tf") {
        FileRole::Override
    } else {
        FileRole::Module
    }
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum FileRole {
    Module,
    /// `override.tf` / `*_override.tf`: merged over the module's other files, so what they
    /// declare wins.
    Override,
    AutoVars,
    OtherVars,
    Terragrunt,
}

/// `dir` joined with a local module `source`; `None` for a remote source or one leaving the
/// repository.
fn join(dir: &str, source: &str) -> Option<String> {
    if !is_local_source(source) {
        return None;
    }
    paths::join(dir, source)
}

struct Call {
    caller_dir: String,
    inputs: HashMap<String, TfText>,
}

#[derive(Default)]
struct Context {
    /// Per directory: variable name to its default (`None`: no default).
    variables: HashMap<String, HashMap<String, Option<TfText>>>,
    locals: HashMap<String, HashMap<String, TfText>>,
    /// Per directory: `google_service_account` labels to their account ids.
    accounts: HashMap<String, HashMap<String, TfText>>,
    /// Per directory: what its auto-loaded `.tfvars` set.
    auto_vars: HashMap<String, HashMap<String, Vec<TfText>>>,
    /// Directories whose auto-loaded variable files may set anything.
    auto_vars_opaque: HashSet<String>,
    /// Variable names that some `-var-file` or Terragrunt input may set.
    set_elsewhere: HashSet<String>,
    /// Some file may set any variable of any module.
    any_set_elsewhere: bool,
    calls: HashMap<String, Vec<Call>>,
}

impl Context {
    fn build(files: &[(String, TfFacts)]) -> Context {
        let mut c = Context::default();
        let module_dirs: HashSet<&str> = files
            .iter()
            .filter(|(path, _)| matches!(kind_of(path), FileRole::Module | FileRole::Override))
            .map(|(path, _)| parent(path))
            .collect();
        let mut ordered: Vec<(&String, &TfFacts, FileRole)> = files
            .iter()
            .map(|(path, facts)| {
                let role = match kind_of(path) {
                    // Terraform loads variable files only beside the root module; elsewhere
                    // one is given with -var-file.
                    FileRole::AutoVars if !module_dirs.contains(parent(path)) => {
                        FileRole::OtherVars
                    }
                    role => role,
                };
                (path, facts, role)
            })
            .collect();
        // Overrides last, so that they replace what the other files declare.
        ordered.sort_by_key(|(_, _, role)| *role == FileRole::Override);
        for (path, facts, role) in ordered {
            let dir = parent(path).to_owned();
            match role {
                FileRole::Module | FileRole::Override => {
                    let replace = role == FileRole::Override;
                    let vars = c.variables.entry(dir.clone()).or_default();
                    // Terraform rejects a name declared twice; the first is as good as any.
                    for v in &facts.variables {
                        if replace {
                            vars.insert(v.name.clone(), v.default.clone());
                        } else {
                            vars.entry(v.name.clone())
                                .or_insert_with(|| v.default.clone());
                        }
                    }
                    let locals = c.locals.entry(dir.clone()).or_default();
                    for (name, value) in &facts.locals {
                        if replace {
                            locals.insert(name.clone(), value.clone());
                        } else {
                            locals.entry(name.clone()).or_insert_with(|| value.clone());
                        }
                    }
                    let accounts = c.accounts.entry(dir.clone()).or_default();
                    for sa in &facts.service_accounts {
                        accounts
                            .entry(sa.resource_name.clone())
                            .or_insert_with(|| sa.account_id.value.clone());
                    }
                    for m in &facts.modules {
                        let TfText::Known(source) = &m.source else {
                            continue;
                        };
                        let Some(target) = join(&dir, source) else {
                            continue;
                        };
                        c.calls.entry(target).or_default().push(Call {
                            caller_dir: dir.clone(),
                            inputs: m.inputs.iter().cloned().collect(),
                        });
                    }
                }
                FileRole::AutoVars => {
                    if facts.sets_any_variable {
                        c.auto_vars_opaque.insert(dir.clone());
                    }
                    let set = c.auto_vars.entry(dir).or_default();
                    for (name, value) in &facts.assignments {
                        set.entry(name.clone()).or_default().push(value.clone());
                    }
                }
                FileRole::OtherVars | FileRole::Terragrunt => {
                    c.any_set_elsewhere |= facts.sets_any_variable;
                    c.set_elsewhere
                        .extend(facts.assignments.iter().map(|(name, _)| name.clone()));
                }
            }
        }
        c
    }

    fn resolve(&self, dir: &str, text: &TfText, depth: usize) -> TfText {
        let TfText::Template(parts) = text else {
            return text.clone();
        };
        if depth > MAX_DEPTH {
            return TfText::Unknown;
        }
        let mut out = String::new();
        for part in parts {
            let value = match part {
                TfPart::Text(t) => TfText::Known(t.clone()),
                TfPart::Local(name) => match self.locals.get(dir).and_then(|l| l.get(name)) {
                    Some(v) => self.resolve(dir, v, depth + 1),
                    None => TfText::Unknown,
                },
                TfPart::Var(name) => self.variable(dir, name, depth + 1),
                TfPart::AccountOf(label) => {
                    match self.accounts.get(dir).and_then(|a| a.get(label)) {
                        Some(v) => self.resolve(dir, v, depth + 1),
                        None => TfText::Unknown,
                    }
                }
            };
            match value {
                TfText::Known(t) if out.len() + t.len() <= MAX_LEN => out.push_str(&t),
                _ => return TfText::Unknown,
            }
        }
        TfText::Known(out)
    }

    fn variable(&self, dir: &str, name: &str, depth: usize) -> TfText {
        let Some(default) = self.variables.get(dir).and_then(|v| v.get(name)) else {
            return TfText::Unknown;
        };
        if self.any_set_elsewhere || self.set_elsewhere.contains(name) {
            return TfText::Unknown;
        }
        let calls = self.calls.get(dir).filter(|c| !c.is_empty());
        let agreed = |values: Vec<TfText>| {
            let first = values.first().cloned().unwrap_or(TfText::Unknown);
            if values.iter().all(|v| *v == first) {
                first
            } else {
                TfText::Unknown
            }
        };
        // A called module is not a root module: Terraform does not load its variable files.
        if calls.is_none() && self.auto_vars_opaque.contains(dir) {
            return TfText::Unknown;
        }
        if let Some(values) = self
            .auto_vars
            .get(dir)
            .and_then(|v| v.get(name))
            .filter(|_| calls.is_none())
        {
            // `.tfvars` hold constants; anything else is not read.
            return agreed(
                values
                    .iter()
                    .map(|v| match v {
                        TfText::Known(_) => v.clone(),
                        _ => TfText::Unknown,
                    })
                    .collect(),
            );
        }
        let own_default = || match default {
            Some(d) => self.resolve(dir, d, depth),
            None => TfText::Unknown,
        };
        match calls {
            Some(calls) => agreed(
                calls
                    .iter()
                    .map(|call| match call.inputs.get(name) {
                        Some(v) => self.resolve(&call.caller_dir, v, depth),
                        None => own_default(),
                    })
                    .collect(),
            ),
            _ => own_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::terraform::extract;

    fn known(s: &str) -> TfText {
        TfText::Known(s.to_owned())
    }

    fn run(files: &[(&str, &str)]) -> Vec<(String, TfFacts)> {
        let mut parsed: Vec<(String, TfFacts)> = files
            .iter()
            .map(|(path, src)| ((*path).to_owned(), extract(src).unwrap()))
            .collect();
        resolve(&mut parsed);
        parsed
    }

    fn bucket_names(files: &[(String, TfFacts)]) -> Vec<TfText> {
        files
            .iter()
            .flat_map(|(_, f)| f.buckets.iter().map(|b| b.name.value.clone()))
            .collect()
    }

    const BUCKET: &str = r#"
resource "google_storage_bucket" "b" {
  name = "${local.prefix}-${var.env}"
  lifecycle_rule {
    action { type = "Delete" }
    condition { age = 7 }
  }
}
"#;

    #[test]
    fn locals_and_defaults_in_other_files_of_the_module_resolve() {
        let files = run(&[
            ("tf/gcs/main.tf", BUCKET),
            ("tf/gcs/locals.tf", "locals {\n  prefix = \"${var.org}-pg\"\n}\n"),
            (
                "tf/gcs/variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\nvariable \"org\" {\n  default = \"acme\"\n}\n",
            ),
        ]);
        assert_eq!(bucket_names(&files), [known("acme-pg-prod")]);
    }

    #[test]
    fn a_variable_without_default_or_in_another_module_is_unknown() {
        let files = run(&[
            ("tf/gcs/main.tf", BUCKET),
            ("tf/gcs/locals.tf", "locals {\n  prefix = \"acme\"\n}\n"),
            ("tf/gcs/variables.tf", "variable \"env\" {}\n"),
            (
                "tf/other/variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
        ]);
        assert_eq!(bucket_names(&files), [TfText::Unknown]);
    }

    #[test]
    fn auto_tfvars_override_the_default_and_other_var_files_make_it_unknown() {
        let module = [
            ("tf/gcs/main.tf", BUCKET),
            ("tf/gcs/locals.tf", "locals {\n  prefix = \"acme\"\n}\n"),
            (
                "tf/gcs/variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
        ];
        let mut with_auto = module.to_vec();
        with_auto.push(("tf/gcs/terraform.tfvars", "env = \"staging\"\n"));
        assert_eq!(bucket_names(&run(&with_auto)), [known("acme-staging")]);

        let mut with_var_file = module.to_vec();
        with_var_file.push(("tf/envs/dev.tfvars", "env = \"dev\"\n"));
        assert_eq!(bucket_names(&run(&with_var_file)), [TfText::Unknown]);

        let mut with_terragrunt = module.to_vec();
        with_terragrunt.push(("live/prod/terragrunt.hcl", "inputs = {\n  env = \"x\"\n}\n"));
        assert_eq!(bucket_names(&run(&with_terragrunt)), [TfText::Unknown]);
    }

    #[test]
    fn a_module_call_passes_its_inputs() {
        let module = [
            ("modules/gcs/main.tf", BUCKET),
            (
                "modules/gcs/locals.tf",
                "locals {\n  prefix = \"acme\"\n}\n",
            ),
            (
                "modules/gcs/variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
        ];
        let call =
            |env: &str| format!("module \"gcs\" {{\n  source = \"../../modules/gcs\"\n{env}}}\n");
        let mut passes = module.to_vec();
        let passing = call("  env = local.env\n");
        passes.push(("live/dev/main.tf", &passing));
        passes.push(("live/dev/locals.tf", "locals {\n  env = \"dev\"\n}\n"));
        assert_eq!(bucket_names(&run(&passes)), [known("acme-dev")]);

        let mut silent = module.to_vec();
        let not_passing = call("");
        silent.push(("live/dev/main.tf", &not_passing));
        assert_eq!(bucket_names(&run(&silent)), [known("acme-prod")]);

        let mut disagree = module.to_vec();
        let a = call("  env = \"a\"\n");
        let b = call("  env = \"b\"\n");
        disagree.push(("live/a/main.tf", &a));
        disagree.push(("live/b/main.tf", &b));
        assert_eq!(bucket_names(&run(&disagree)), [TfText::Unknown]);
    }

    #[test]
    fn cycles_end_unknown() {
        let files = run(&[
            ("main.tf", BUCKET),
            ("locals.tf", "locals {\n  prefix = local.prefix\n}\n"),
            (
                "variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
        ]);
        assert_eq!(bucket_names(&files), [TfText::Unknown]);
    }

    #[test]
    fn variable_files_that_may_set_anything_make_defaults_unknown() {
        let module = [
            ("tf/gcs/main.tf", BUCKET),
            ("tf/gcs/locals.tf", "locals {\n  prefix = \"acme\"\n}\n"),
            (
                "tf/gcs/variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
        ];
        let mut included = module.to_vec();
        included.push((
            "live/terragrunt.hcl",
            "include \"root\" {\n  path = \"x\"\n}\n",
        ));
        assert_eq!(bucket_names(&run(&included)), [TfText::Unknown]);

        let mut merged = module.to_vec();
        merged.push(("live/terragrunt.hcl", "inputs = merge(local.a, {})\n"));
        assert_eq!(bucket_names(&run(&merged)), [TfText::Unknown]);

        // Not beside a module: a -var-file.
        let mut elsewhere = module.to_vec();
        elsewhere.push(("envs/prod/terraform.tfvars", "env = \"globex\"\n"));
        assert_eq!(bucket_names(&run(&elsewhere)), [TfText::Unknown]);
    }

    #[test]
    fn overrides_win_and_called_modules_ignore_their_variable_files() {
        let files = run(&[
            ("tf/main.tf", BUCKET),
            ("tf/locals.tf", "locals {\n  prefix = \"acme\"\n}\n"),
            ("tf/override.tf", "locals {\n  prefix = \"globex\"\n}\n"),
            (
                "tf/variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
        ]);
        assert_eq!(bucket_names(&files), [known("globex-prod")]);

        let files = run(&[
            ("modules/gcs/main.tf", BUCKET),
            (
                "modules/gcs/locals.tf",
                "locals {\n  prefix = \"acme\"\n}\n",
            ),
            (
                "modules/gcs/variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
            ("modules/gcs/terraform.tfvars", "env = \"ignored\"\n"),
            (
                "live/main.tf",
                "module \"gcs\" {\n  source = \"../modules/gcs\"\n}\n",
            ),
        ]);
        assert_eq!(bucket_names(&files), [known("acme-prod")]);
    }

    #[test]
    fn repeated_locals_stay_bounded() {
        let mut locals = String::from("locals {\n  l0 = \"xxxxxxxxxxxxxxxx\"\n");
        for i in 1..=16 {
            let p = i - 1;
            locals.push_str(&format!(
                "  l{i} = \"${{local.l{p}}}${{local.l{p}}}${{local.l{p}}}${{local.l{p}}}\"\n"
            ));
        }
        locals.push_str("  prefix = local.l16\n}\n");
        let files = run(&[
            ("main.tf", BUCKET),
            ("locals.tf", &locals),
            (
                "variables.tf",
                "variable \"env\" {\n  default = \"prod\"\n}\n",
            ),
        ]);
        assert_eq!(bucket_names(&files), [TfText::Unknown]);
    }

    #[test]
    fn service_accounts_resolve_across_files() {
        let files = run(&[
            ("iam/sa.tf", "resource \"google_service_account\" \"pg\" {\n  account_id = var.id\n}\n"),
            ("iam/variables.tf", "variable \"id\" {\n  default = \"pg-backup\"\n}\n"),
            (
                "iam/wi.tf",
                "resource \"google_service_account_iam_member\" \"pg\" {\n  service_account_id = google_service_account.pg.name\n  role = \"roles/iam.workloadIdentityUser\"\n  member = \"serviceAccount:p.svc.id.goog[db/pg]\"\n}\n",
            ),
        ]);
        let gsas: Vec<TfText> = files
            .iter()
            .flat_map(|(_, f)| f.wi_members.iter().map(|m| m.gsa_account_id.clone()))
            .collect();
        assert_eq!(gsas, [known("pg-backup")]);
    }

    #[test]
    fn module_sources_join_relative_paths_only() {
        assert_eq!(
            join("live/dev", "../../modules/gcs").as_deref(),
            Some("modules/gcs")
        );
        assert_eq!(join("", "./gcs").as_deref(), Some("gcs"));
        assert_eq!(join("a", "../../x"), None);
        assert_eq!(join("a", "git::https://example.com/x"), None);
    }
}

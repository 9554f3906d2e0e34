//! Project chores.
//! - `cargo xtask schemas [CRD_DIR]`: regenerates `schemas/crds/*.json` and
//!   `src/schema/embedded.rs` from upstream CRD files (default: `../shared/crds`).
//! - `cargo xtask gen-repo --apps N [--dense] [--out DIR]`: writes a synthetic Flux repository
//!   for benchmarks (default: `target/bench-repos/apps-N`, or `apps-N-dense`).
//! - `cargo xtask new-rule CODE name`: scaffolds a rule (file, page, fixtures, registry line);
//!   see CONTRIBUTING.md.
//! - `cargo xtask gen-openapi SCHEMA_JSON`: regenerates the OpenAPI table of strategic merge in
//!   `src/render/patch/openapi.rs` from kustomize's embedded Kubernetes schema (see
//!   `xtask/src/openapi.rs` for where to get it).

mod gen_repo;
mod new_rule;
mod openapi;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cnpg_lint::internals::generate;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let project = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("schemas") => {
            let crds = args
                .get(1)
                .map(PathBuf::from)
                .unwrap_or_else(|| project.join("../shared/crds"));
            match schemas(&project, &crds) {
                Ok(n) => {
                    println!("wrote {n} schemas to schemas/crds/ and src/schema/embedded.rs");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask schemas: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some("new-rule") => {
            let (Some(code), Some(name)) = (args.get(1), args.get(2)) else {
                eprintln!("usage: cargo xtask new-rule CODE name   (e.g. CNPG116 wal-gap)");
                return ExitCode::from(2);
            };
            match new_rule::scaffold(&project, code, name) {
                Ok(written) => {
                    for w in written {
                        println!("wrote {w}");
                    }
                    println!("next: fill in the TODOs; `cargo test {}` fails until the rule fires on fixtures/rules/{code}/fires-example.yaml", code.to_ascii_lowercase());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask new-rule: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some("gen-openapi") => {
            let Some(input) = args.get(1) else {
                eprintln!("usage: cargo xtask gen-openapi SCHEMA_JSON");
                return ExitCode::from(2);
            };
            let target = project.join("src/render/patch/openapi.rs");
            match openapi::generate(Path::new(input), &target) {
                Ok(n) => {
                    println!("wrote {n} schema nodes to {}", target.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask gen-openapi: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Some("gen-repo") => match gen_repo_args(&args[1..], &project) {
            Ok((apps, dense, out)) => match gen_repo::generate(&out, apps, dense) {
                Ok(s) => {
                    println!(
                        "{}: {apps} apps, {} files, {} documents, {:.1} MB",
                        out.display(),
                        s.files,
                        s.documents,
                        s.bytes as f64 / 1e6
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("xtask gen-repo: {e}");
                    ExitCode::from(2)
                }
            },
            Err(e) => {
                eprintln!("xtask gen-repo: {e}");
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("usage: cargo xtask schemas [CRD_DIR]\n       cargo xtask gen-repo --apps N [--dense] [--out DIR]\n       cargo xtask gen-openapi SCHEMA_JSON\n       cargo xtask new-rule CODE name");
            ExitCode::from(2)
        }
    }
}

fn schemas(project: &Path, crds: &Path) -> Result<usize, String> {
    let list = generate::from_dir(crds)?;
    let out = project.join("schemas/crds");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    // Schemas of CRDs that are gone must not linger.
    for entry in std::fs::read_dir(&out).map_err(|e| format!("{}: {e}", out.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.extension().is_some_and(|x| x == "json") {
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    for g in &list {
        let path = out.join(&g.file);
        std::fs::write(&path, generate::file_text(g))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let rs = project.join("src/schema/embedded.rs");
    std::fs::write(&rs, generate::embedded_rs(&list))
        .map_err(|e| format!("{}: {e}", rs.display()))?;
    Ok(list.len())
}

fn gen_repo_args(args: &[String], project: &Path) -> Result<(usize, bool, PathBuf), String> {
    let mut apps = None;
    let mut dense = false;
    let mut out = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--apps" => {
                let v = it.next().ok_or("--apps needs a number")?;
                apps = Some(v.parse::<usize>().map_err(|e| format!("--apps {v}: {e}"))?);
            }
            "--dense" => dense = true,
            "--out" => out = Some(PathBuf::from(it.next().ok_or("--out needs a directory")?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let apps = apps.ok_or("--apps N is required")?;
    let name = if dense {
        format!("apps-{apps}-dense")
    } else {
        format!("apps-{apps}")
    };
    let out = out.unwrap_or_else(|| project.join("target/bench-repos").join(name));
    Ok((apps, dense, out))
}

//! Render statistics for repositories: how many Flux Kustomizations render fully, partly (with
//! unknowns) or not at all, and the most common reasons; how many objects are deployed, and how
//! many files are judged undeployed.
//!
//! `cargo run --release --example render_stats -- ../shared/corpus/*`

use std::collections::BTreeMap;
use std::path::PathBuf;

use cnpg_lint::config::Config;
use cnpg_lint::internals::Status;
use cnpg_lint::pipeline::{find_root, lint, LintOptions};

fn main() {
    let mut totals: BTreeMap<&str, usize> = BTreeMap::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    println!(
        "| repository | full | partial | not rendered | deployed objects | undeployed files |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for arg in std::env::args().skip(1) {
        let path = PathBuf::from(&arg);
        let Ok(path) = path.canonicalize() else {
            continue;
        };
        let root = find_root(&path);
        let result = lint(
            &LintOptions {
                jobs: 2,
                max_file_bytes: 16 << 20,
                lean: false,
                ..LintOptions::new(root)
            },
            &Config::default(),
            &[],
        );
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for b in &result.index.builds {
            let k = match b.status {
                Status::Full => "full",
                Status::Partial => "partial",
                Status::Failed => "failed",
            };
            *counts.entry(k).or_default() += 1;
            *totals.entry(k).or_default() += 1;
            if std::env::var_os("SHOW").is_some() {
                for p in &b.problems {
                    if p.message
                        .contains(&std::env::var("SHOW").unwrap_or_default())
                    {
                        let ks = result
                            .index
                            .doc(b.ks)
                            .and_then(|d| d.header.as_ref())
                            .and_then(|h| h.name.clone());
                        let file = result
                            .index
                            .sources
                            .get(p.span.file)
                            .map(|f| f.repo_path.clone());
                        println!("  {ks:?} {file:?}: {}", p.message);
                    }
                }
            }
            if b.status != Status::Full {
                for p in &b.problems {
                    // Group by the message's shape, not its names.
                    let shape: String = p
                        .message
                        .split('`')
                        .enumerate()
                        .map(|(i, s)| if i % 2 == 1 { "…" } else { s })
                        .collect::<Vec<_>>()
                        .join("`");
                    *reasons.entry(format!("{k}: {shape}")).or_default() += 1;
                }
                if b.problems.is_empty() {
                    *reasons
                        .entry(format!("{k}: unresolved variables left in values"))
                        .or_default() += 1;
                }
            }
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let index = &result.index;
        let deployed = index.instances.iter().filter(|i| i.owner.is_some()).count();
        let undeployed_files: std::collections::BTreeSet<u32> = index
            .undeployed
            .iter()
            .filter_map(|&d| index.doc(d).map(|doc| doc.file))
            .collect();
        println!(
            "| {name} | {} | {} | {} | {deployed} | {} |",
            counts.get("full").copied().unwrap_or(0),
            counts.get("partial").copied().unwrap_or(0),
            counts.get("failed").copied().unwrap_or(0),
            undeployed_files.len()
        );
    }
    println!("total: {totals:?}");
    let mut r: Vec<_> = reasons.into_iter().collect();
    r.sort_by_key(|e| std::cmp::Reverse(e.1));
    for (reason, n) in r.iter().take(15) {
        println!("{n:5}  {reason}");
    }
}

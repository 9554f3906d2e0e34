//! `cargo bench`: the whole pipeline, in process, on synthetic Flux repositories of 100, 1,000
//! and 5,000 apps, and of 5,000 apps in the dense shape (one namespace, all Flux Kustomizations
//! in one file), made by `cargo xtask gen-repo` when missing, next to the time to discover and
//! parse the same files alone. Prints the median of several runs, files/s, MB/s, and the
//! median run's time per stage. `scripts/bench.sh` times the release binary end to end instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cnpg_lint::config::Config;
use cnpg_lint::pipeline::{lint, LintOptions};
use cnpg_lint::rules::RULES;

// The same allocator as the binary, so that the times compare.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn repo(apps: usize, dense: bool) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let name = if dense {
        format!("apps-{apps}-dense")
    } else {
        format!("apps-{apps}")
    };
    let dir = root.join("target/bench-repos").join(name);
    if !dir.join(".cnpg-lint.yaml").is_file() {
        let apps = apps.to_string();
        let mut args = vec!["xtask", "gen-repo", "--apps", &apps];
        if dense {
            args.push("--dense");
        }
        let status = Command::new(env!("CARGO"))
            .args(args)
            .current_dir(root)
            .status()
            .expect("run cargo xtask gen-repo");
        assert!(status.success(), "cargo xtask gen-repo failed");
    }
    dir
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo bench -- NAME` filters by app count, like libtest.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build_global();
    let rules: Vec<_> = RULES.iter().collect();
    println!("{jobs} threads; median of runs");
    println!(
        "{:>11} {:>7} {:>8} {:>7} {:>10} {:>10} {:>9} {:>9} {:>6}",
        "apps", "files", "docs", "MB", "parse ms", "lint ms", "files/s", "MB/s", "ratio"
    );
    for (apps, dense) in [
        (100usize, false),
        (1_000, false),
        (5_000, false),
        (5_000, true),
    ] {
        let label = if dense {
            format!("{apps}-dense")
        } else {
            apps.to_string()
        };
        if filter.as_ref().is_some_and(|f| !label.contains(f.as_str())) {
            continue;
        }
        let dir = repo(apps, dense);
        let opts = LintOptions {
            jobs,
            ..LintOptions::new(dir.clone())
        };
        let runs = if apps >= 5_000 { 5 } else { 9 };
        let mut parse = Vec::new();
        let mut bytes = 0usize;
        let mut files = 0usize;
        for _ in 0..runs {
            let start = Instant::now();
            let walk = cnpg_lint::internals::walk(&dir, jobs, &Config::default().exclude_set());
            let loaded = cnpg_lint::internals::load_all(
                &walk.files,
                opts.max_file_bytes,
                walk.problems,
                walk.skipped,
            );
            parse.push(start.elapsed());
            files = loaded.sources.len();
            bytes = loaded.sources.iter().map(|(_, f)| f.text.len()).sum();
            // Freed outside the timed part, so that runs do not pile up memory.
            drop(loaded);
        }
        let mut total = Vec::new();
        let mut stages = Vec::new();
        let mut docs = 0;
        for _ in 0..runs {
            let start = Instant::now();
            let result = lint(&opts, &Config::default(), &rules);
            total.push(start.elapsed());
            docs = result.summary.documents;
            stages.push((start.elapsed(), result.timings.clone()));
            drop(result);
        }
        let lint_t = median(total);
        let parse_t = median(parse);
        let secs = lint_t.as_secs_f64();
        println!(
            "{label:>11} {files:>7} {docs:>8} {:>7.1} {:>10.1} {:>10.1} {:>9.0} {:>9.1} {:>6.2}",
            bytes as f64 / 1e6,
            parse_t.as_secs_f64() * 1e3,
            secs * 1e3,
            files as f64 / secs,
            bytes as f64 / 1e6 / secs,
            secs / parse_t.as_secs_f64(),
        );
        stages.sort_by_key(|(d, _)| *d);
        if let Some((_, t)) = stages.get(stages.len() / 2) {
            for line in t.table().lines() {
                println!("         {line}");
            }
        }
    }
}

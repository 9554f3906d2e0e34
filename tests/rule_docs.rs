//! Every rule's documentation is a test: its front matter matches the registry, it has the
//! required sections, its bad example produces exactly that rule, and its good example
//! produces nothing.

mod common;

use std::collections::BTreeSet;

use cnpg_lint::report::Format;
use cnpg_lint::rules::{RuleEntry, RULES};

const SECTIONS: [&str; 5] = [
    "## What it catches",
    "## Why it matters",
    "## Bad example",
    "## Good example",
    "## How to fix",
];

fn front_matter(doc: &str) -> Vec<(String, String)> {
    let body = doc
        .strip_prefix("---\n")
        .and_then(|r| r.split_once("\n---\n"))
        .map(|(fm, _)| fm)
        .expect("front matter between --- lines");
    body.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// A file of an example: its path, its content, and for `symlink=TARGET`, the link's target.
type ExampleFile = (String, String, Option<String>);

/// Fenced blocks with a `file=` attribute in the section that starts with `heading`.
fn example_files(doc: &str, heading: &str) -> Vec<ExampleFile> {
    let start = doc.find(heading).expect("section present");
    let rest = &doc[start + heading.len()..];
    let section = rest.find("\n## ").map_or(rest, |end| &rest[..end]);
    let mut files = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let attr = |name: &str| {
            info.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .map(str::to_string)
        };
        let Some(path) = attr("file=") else {
            continue;
        };
        let symlink = attr("symlink=");
        let mut content = String::new();
        for l in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            content.push_str(l);
            content.push('\n');
        }
        files.push((path, content, symlink));
    }
    files
}

fn codes_for(rule: &'static RuleEntry, heading: &str, tag: &str) -> (BTreeSet<String>, String) {
    let files = example_files(rule.doc, heading);
    assert!(
        !files.is_empty(),
        "{}: no files in {heading}",
        rule.meta.code
    );
    let dir = common::scratch(&format!("doc-{}-{tag}", rule.meta.code));
    let plain: Vec<(String, String)> = files
        .iter()
        .filter(|f| f.2.is_none())
        .map(|(p, c, _)| (p.clone(), c.clone()))
        .collect();
    common::write_repo(&dir, &plain);
    for (path, _, target) in &files {
        let Some(target) = target else { continue };
        let link = dir.join(path);
        std::fs::create_dir_all(link.parent().expect("a parent")).expect("mkdir");
        #[cfg(unix)]
        std::os::unix::fs::symlink(target, &link).expect("symlink");
        #[cfg(not(unix))]
        let _ = (target, link);
    }
    let result = common::run(&dir, &common::rules_with(rule));
    assert!(
        result.internal_errors.is_empty(),
        "{:?}",
        result.internal_errors
    );
    // Only a crossed budget leaves the run incomplete (CNPG005's example is a symlink out of
    // the repository, skipped on purpose).
    let incomplete = rule.meta.code == "CNPG007" && tag == "bad";
    assert_eq!(
        !result.problems.is_empty(),
        incomplete,
        "{}: {:?}",
        rule.meta.code,
        result.problems
    );
    let codes = result
        .diagnostics
        .iter()
        .map(|d| d.code.to_string())
        .collect();
    (codes, common::render(&result, Format::Concise))
}

#[test]
fn front_matter_matches_the_registry() {
    for rule in RULES {
        let fm = front_matter(rule.doc);
        let get = |k: &str| {
            fm.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("{}: front matter lacks {k}", rule.meta.code))
        };
        assert_eq!(get("code"), rule.meta.code);
        assert_eq!(get("name"), rule.meta.name);
        assert_eq!(
            get("severity"),
            rule.meta.severity.as_str(),
            "{}",
            rule.meta.code
        );
        assert_eq!(get("summary"), rule.meta.summary, "{}", rule.meta.code);
        let title = format!("# {} {}", rule.meta.code, rule.meta.name);
        assert!(
            rule.doc.contains(&title),
            "{}: missing title {title}",
            rule.meta.code
        );
        for s in SECTIONS {
            assert!(
                rule.doc.contains(s),
                "{}: missing section {s}",
                rule.meta.code
            );
        }
    }
}

#[test]
fn every_doc_file_has_a_rule_and_every_rule_a_doc_file() {
    let dir = common::project_root().join("rules");
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("rules/ exists") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".md") && name.starts_with("CNPG") {
            on_disk.insert(name);
        }
    }
    let registered: BTreeSet<String> = RULES
        .iter()
        .map(|r| format!("{}-{}.md", r.meta.code, r.meta.name))
        .collect();
    assert_eq!(on_disk, registered);
    let codes: BTreeSet<_> = RULES.iter().map(|r| r.meta.code).collect();
    assert_eq!(codes.len(), RULES.len(), "duplicate rule codes");
}

/// Codes a doc declares in `also:` front matter: rules its bad example cannot avoid firing
/// (CNPG103's example needs in-tree Barman, which CNPG104 always reports).
fn also(rule: &RuleEntry) -> BTreeSet<String> {
    front_matter(rule.doc)
        .into_iter()
        .filter(|(k, _)| k == "also")
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|c| c.trim().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn bad_examples_fire_exactly_their_rule() {
    for rule in RULES {
        let (codes, output) = codes_for(rule, "## Bad example", "bad");
        let allowed = also(rule);
        assert!(
            codes.contains(rule.meta.code),
            "{} bad example does not fire it:\n{output}",
            rule.meta.code
        );
        let others: BTreeSet<String> = codes
            .iter()
            .filter(|c| *c != rule.meta.code)
            .cloned()
            .collect();
        assert_eq!(
            others, allowed,
            "{} bad example fires other rules:\n{output}",
            rule.meta.code
        );
        insta::assert_snapshot!(format!("bad_example_{}", rule.meta.code), output);
    }
}

#[test]
fn good_examples_are_clean() {
    for rule in RULES {
        let (codes, output) = codes_for(rule, "## Good example", "good");
        assert!(
            codes.is_empty(),
            "{} good example:\n{output}",
            rule.meta.code
        );
    }
}

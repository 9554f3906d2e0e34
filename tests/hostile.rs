//! Hostile inputs, end to end through the binary. Each must end in findings or a located error
//! with exit status 2: never a panic, never a hang, never a lost result for the other files.

mod common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_cnpg-lint");

/// A run that takes longer than this is a hang.
const LIMIT: Duration = Duration::from_secs(60);

fn run(dir: &Path, args: &[&str]) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cnpg-lint");
    let pid = child.id();
    // Output is read while waiting, so a large report cannot fill the pipe and stall the run.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(LIMIT) {
        Ok(out) => out.expect("output"),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("cnpg-lint {args:?} in {} hangs", dir.display());
        }
    }
}

/// Ran to the end: an exit status of 0, 1 or 2, and no panic or internal error.
fn survived(o: &Output) -> (i32, String, String) {
    let code = o.status.code().expect("exited, not killed by a signal");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!((0..=2).contains(&code), "exit {code}\n{out}\n{err}");
    assert!(!err.contains("panicked"), "panic:\n{err}");
    assert!(!err.contains("internal error"), "internal error:\n{err}");
    (code, out, err)
}

fn repo(name: &str, files: &[(&str, &[u8])]) -> std::path::PathBuf {
    let dir = common::scratch(name);
    let files: Vec<(String, &[u8])> = files.iter().map(|(p, c)| (p.to_string(), *c)).collect();
    common::write_files(&dir, &files);
    dir
}

/// A clean object beside the hostile file, which must still be linted.
const WITNESS: &[u8] = b"apiVersion: postgresql.cnpg.io/v1
kind: ScheduledBackup
metadata:
  name: nightly
spec:
  schedule: \"0 3 * * *\"
  cluster:
    name: pg
";

fn concise(dir: &Path) -> (i32, String, String) {
    survived(&run(dir, &["check", "--format", "concise", "."]))
}

fn witness_reported(out: &str) {
    assert!(
        out.contains("witness.yaml:6:13: CNPG106"),
        "the other file's finding was lost:\n{out}"
    );
}

#[test]
fn alias_bomb() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let prev = (b'a' + i - 1) as char;
        let this = (b'a' + i) as char;
        bomb.push_str(&format!(
            "{this}: &{this} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let dir = repo(
        "hostile-alias-bomb",
        &[
            (
                "bomb.yaml",
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  {}",
                    bomb.replace('\n', "\n  ")
                )
                .as_bytes(),
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1);
    assert!(
        out.contains("bomb.yaml:") && out.contains("CNPG001"),
        "{out}"
    );
    witness_reported(&out);
}

#[test]
fn ten_thousand_levels_of_nesting() {
    let deep_flow = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let deep_block = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}{}\n",
        "{k: ".repeat(10_000),
        "}".repeat(10_000)
    );
    let dir = repo(
        "hostile-nesting",
        &[
            (
                "flow.yaml",
                format!("apiVersion: v1\nkind: ConfigMap\n{deep_flow}").as_bytes(),
            ),
            ("mapping.yaml", deep_block.as_bytes()),
            ("witness.yaml", WITNESS),
        ],
    );
    let (_, out, _) = concise(&dir);
    assert!(
        out.contains("flow.yaml:") && out.contains("mapping.yaml:"),
        "{out}"
    );
    witness_reported(&out);
}

#[test]
fn a_file_over_the_size_cap() {
    let dir = repo("hostile-huge", &[("witness.yaml", WITNESS)]);
    let huge = std::fs::File::create(dir.join("huge.yaml")).expect("create");
    // Sparse: 100 MB on disk costs nothing, and the cap must stop the read before it starts.
    huge.set_len(100 * 1024 * 1024).expect("extend");
    let (code, out, err) = concise(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("huge.yaml") && err.contains("size"), "{err}");
    witness_reported(&out);
    // The cap is configurable.
    let (code, _, err) = survived(&run(&dir, &["check", "--max-file-size", "1000", "."]));
    assert_eq!(code, 2);
    assert!(
        err.contains("witness.yaml") || err.contains("huge.yaml"),
        "{err}"
    );
}

#[test]
fn binary_files_and_a_nul_in_yaml() {
    let binary: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let dir = repo(
        "hostile-binary",
        &[
            ("blob.yaml", &binary),
            ("image.png", &binary),
            (
                "nul.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\0y\ndata: {}\n",
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    let (_, out, _) = concise(&dir);
    assert!(out.contains("blob.yaml:1:"), "{out}");
    assert!(out.contains("nul.yaml:4:"), "{out}");
    assert!(!out.contains("image.png"), "{out}");
    witness_reported(&out);
}

#[test]
fn invalid_utf8_in_content_and_in_file_names() {
    let dir = repo(
        "hostile-utf8",
        &[
            (
                "latin1.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n",
            ),
            ("witness.yaml", WITNESS),
        ],
    );
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name.yaml");
        std::fs::write(dir.join(name), WITNESS).expect("write odd name");
    }
    let (_, out, _) = concise(&dir);
    assert!(out.contains("latin1.yaml:4:"), "{out}");
    witness_reported(&out);
    #[cfg(unix)]
    assert!(
        out.contains("bad-\u{fffd}-name.yaml:6:13: CNPG106"),
        "{out}"
    );
}

#[cfg(unix)]
#[test]
fn symlink_loops() {
    let dir = repo("hostile-symlinks", &[("witness.yaml", WITNESS)]);
    std::os::unix::fs::symlink(".", dir.join("self")).expect("dir loop");
    std::os::unix::fs::symlink("b.yaml", dir.join("a.yaml")).expect("file loop");
    std::os::unix::fs::symlink("a.yaml", dir.join("b.yaml")).expect("file loop");
    let (code, out, err) = concise(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("a.yaml"), "{err}");
    witness_reported(&out);
}

#[cfg(unix)]
#[test]
fn an_unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = repo(
        "hostile-unreadable",
        &[("secret.yaml", WITNESS), ("witness.yaml", WITNESS)],
    );
    let path = dir.join("secret.yaml");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    if std::fs::read(&path).is_ok() {
        // Root reads anything: the permission cannot be denied here.
        eprintln!("skipped: running as a user who can read mode-000 files (root)");
        return;
    }
    let (code, out, err) = concise(&dir);
    assert_eq!(code, 2);
    assert!(err.contains("secret.yaml"), "{err}");
    witness_reported(&out);
}

#[test]
fn an_empty_repository_and_a_directory_named_like_yaml() {
    let empty = repo("hostile-empty", &[]);
    let (code, _, _) = concise(&empty);
    assert_eq!(code, 0);
    let dir = repo("hostile-dir-yaml", &[("foo.yaml/witness.yaml", WITNESS)]);
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("foo.yaml/witness.yaml:6:13: CNPG106"), "{out}");
}

#[test]
fn duplicate_keys_and_a_thousand_documents() {
    let mut many = String::new();
    for i in 0..1000 {
        many.push_str(&format!(
            "---\napiVersion: postgresql.cnpg.io/v1\nkind: ScheduledBackup\nmetadata:\n  name: b{i}\nspec:\n  schedule: \"0 3 * * *\"\n  cluster:\n    name: pg\n"
        ));
    }
    let dir = repo(
        "hostile-many",
        &[
            ("many.yaml", many.as_bytes()),
            (
                "dup.yaml",
                b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",
            ),
        ],
    );
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("dup.yaml:5:3: CNPG001"), "{out}");
    let cron: Vec<&str> = out.lines().filter(|l| l.contains("CNPG106")).collect();
    assert_eq!(cron.len(), 1000, "{out}");
    // Each document is 9 lines; the last schedule is on line 999 * 9 + 7.
    assert!(out.contains("many.yaml:8998:13: CNPG106"), "{out}");
}

#[test]
fn a_kustomization_cycle_and_a_path_outside_the_repository() {
    let dir = repo(
        "hostile-cycle",
        &[
            ("a/kustomization.yaml", b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../b\n  - ../witness.yaml\n"),
            ("b/kustomization.yaml", b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../a\n"),
            ("flux/ks.yaml", b"apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: cycle\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./a\n  prune: false\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: outside\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ../../../etc\n  prune: false\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"),
            ("witness.yaml", WITNESS),
        ],
    );
    let (_, out, _) = concise(&dir);
    witness_reported(&out);
    let (code, _, _) = survived(&run(&dir, &["render", "cycle"]));
    assert!(code <= 2);
    let (code, _, _) = survived(&run(&dir, &["render", "outside"]));
    assert!(code <= 2);
}

/// `git` for the tests that need a real work tree; they are skipped (and say so) without it.
fn git(dir: &Path, args: &[&str]) -> bool {
    Command::new("git")
        .args(["-c", "user.email=t@example.com", "-c", "user.name=t"])
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

const PLAIN_SECRET: &[u8] = b"apiVersion: v1
kind: Secret
metadata:
  name: leaked
stringData:
  password: hunter2
";

#[test]
fn a_committed_file_is_linted_whatever_gitignore_says() {
    let dir = repo(
        "hostile-gitignore",
        &[
            (".gitignore", b"secrets/\n*.local.yaml\n"),
            (".ignore", b"app/\n"),
            ("secrets/committed.yaml", PLAIN_SECRET),
            ("secrets/untracked.yaml", PLAIN_SECRET),
            ("app/db.local.yaml", PLAIN_SECRET),
            ("app/witness.yaml", WITNESS),
        ],
    );
    if !git(&dir, &["init", "-q", "."]) {
        eprintln!("skipped: no git on this machine");
        return;
    }
    assert!(git(&dir, &["add", "app/witness.yaml", ".gitignore"]));
    assert!(git(
        &dir,
        &["add", "-f", "secrets/committed.yaml", "app/db.local.yaml"]
    ));
    assert!(git(&dir, &["commit", "-qm", "x"]));
    for args in [
        vec!["check", "--format", "concise"],
        // How the pre-commit hook calls it: the changed files by name.
        vec![
            "check",
            "--format",
            "concise",
            "secrets/committed.yaml",
            "app/db.local.yaml",
            "app/witness.yaml",
        ],
    ] {
        let (code, out, err) = survived(&run(&dir, &args));
        assert_eq!(code, 1, "{out}{err}");
        assert!(out.contains("secrets/committed.yaml:6:3: CNPG501"), "{out}");
        assert!(out.contains("app/db.local.yaml:6:3: CNPG501"), "{out}");
        // `.ignore` is ripgrep's, not Flux's: it hides nothing.
        witness_reported(&out);
        // An ignored file git does not track is in no checkout, so in no Flux artifact.
        assert!(!out.contains("untracked.yaml"), "{out}");
    }
}

#[test]
fn without_git_gitignore_hides_nothing_and_flux_default_exclusions_apply() {
    let dir = repo(
        "hostile-no-git",
        &[
            (".gitignore", b"secrets/\n"),
            ("secrets/s.yaml", PLAIN_SECRET),
            (".archive/old.yaml", PLAIN_SECRET),
            // source-controller leaves these out of every artifact.
            (".github/workflows/s.yaml", PLAIN_SECRET),
            ("apps/.sops.yaml", PLAIN_SECRET),
            (".sourceignore", b"ignored-by-flux/\n"),
            ("ignored-by-flux/s.yaml", PLAIN_SECRET),
            ("witness.yaml", WITNESS),
        ],
    );
    let (code, out, _) = concise(&dir);
    assert_eq!(code, 1);
    assert!(out.contains("secrets/s.yaml:6:3: CNPG501"), "{out}");
    assert!(out.contains(".archive/old.yaml:6:3: CNPG501"), "{out}");
    for hidden in [".github/", ".sops.yaml", "ignored-by-flux/"] {
        assert!(!out.contains(hidden), "{hidden}: {out}");
    }
    witness_reported(&out);
}
